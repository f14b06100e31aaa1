//! The pseudo file system (DESIGN.md 3a): `/`, `/bin` (the rom file system's programs),
//! `/dev` (`console`, `null`, `zero`, `shmem/new`) and `/dev/shm` (the POSIX shared-memory
//! names). Only `/dev/shm` changes: names are made and removed there; the rest is fixed.

use abi::stat::{makedev, S_IFCHR, S_IFDIR, S_IFREG};
use abi::Errno;

use crate::fs::romfs::RomFs;
use crate::mm::shm::posix::ShmNames;

/// What name lookups read: the programs and the shared-memory names.
#[derive(Clone, Copy)]
pub struct Ns<'a> {
    pub rom: &'a RomFs<'a>,
    pub shm: &'a ShmNames,
}

/// Longest path, NUL included (Linux's PATH_MAX), and longest name in it.
pub const PATH_MAX: usize = 4096;
pub const NAME_MAX: usize = 255;

/// A name in the namespace.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Vnode {
    Root,
    Bin,
    Dev,
    DevShm,
    Console,
    Null,
    Zero,
    /// Program `index` of the rom file system, as `/bin/NAME`.
    Prog(usize),
    /// `/dev/shm/NAME`: the object a name refers to.
    ShmName(u16),
    /// `/dev/shmem` and its one device, `new`.
    Shmem,
    ShmemNew,
}

/// The device number of the pseudo file system.
pub const DEV_PSEUDO: u64 = makedev(0, 1);

impl Vnode {
    pub fn is_dir(self) -> bool {
        matches!(
            self,
            Vnode::Root | Vnode::Bin | Vnode::Dev | Vnode::DevShm | Vnode::Shmem
        )
    }

    /// The directory holding it (the root is its own parent).
    pub fn parent(self) -> Vnode {
        match self {
            Vnode::Root | Vnode::Bin | Vnode::Dev => Vnode::Root,
            Vnode::DevShm | Vnode::Console | Vnode::Null | Vnode::Zero | Vnode::Shmem => Vnode::Dev,
            Vnode::Prog(_) => Vnode::Bin,
            Vnode::ShmName(_) => Vnode::DevShm,
            Vnode::ShmemNew => Vnode::Shmem,
        }
    }

    pub fn ino(self) -> u64 {
        match self {
            Vnode::Root => 1,
            Vnode::Console => 2,
            Vnode::Bin => 3,
            Vnode::Dev => 4,
            Vnode::DevShm => 5,
            Vnode::Null => 6,
            Vnode::Zero => 7,
            Vnode::Shmem => 8,
            Vnode::ShmemNew => 9,
            Vnode::Prog(i) => 0x100 + i as u64,
            Vnode::ShmName(o) => 0x1_0000 + o as u64,
        }
    }

    /// File type and permission bits: directories 0755 (`/dev/shm` 1777, as on Linux),
    /// programs 0555, the console 0620, `null` and `zero` 0666.
    pub fn mode(self) -> u32 {
        match self {
            Vnode::DevShm => S_IFDIR | 0o1777,
            Vnode::Root | Vnode::Bin | Vnode::Dev | Vnode::Shmem => S_IFDIR | 0o755,
            Vnode::Console => S_IFCHR | 0o620,
            Vnode::Null | Vnode::Zero | Vnode::ShmemNew => S_IFCHR | 0o666,
            Vnode::Prog(_) => S_IFREG | 0o555,
            // The object's own bits: see `Kernel::obj_stat`.
            Vnode::ShmName(_) => S_IFREG,
        }
    }

    pub fn rdev(self) -> u64 {
        match self {
            Vnode::Console => makedev(5, 1),
            Vnode::Null => makedev(1, 3),
            Vnode::Zero => makedev(1, 5),
            Vnode::ShmemNew => makedev(10, 240),
            _ => 0,
        }
    }

    /// Entry `i` of a directory: "." and ".." first, then its names.
    pub fn entry<'a>(self, ns: &Ns<'a>, i: usize) -> Option<(&'a str, Vnode)> {
        match i {
            0 => return Some((".", self)),
            1 => return Some(("..", self.parent())),
            _ => {}
        }
        let i = i - 2;
        let fixed: &[(&'static str, Vnode)] = match self {
            Vnode::Root => &[("bin", Vnode::Bin), ("dev", Vnode::Dev)],
            Vnode::Dev => &[
                ("console", Vnode::Console),
                ("null", Vnode::Null),
                ("shm", Vnode::DevShm),
                ("shmem", Vnode::Shmem),
                ("zero", Vnode::Zero),
            ],
            Vnode::Shmem => &[("new", Vnode::ShmemNew)],
            Vnode::Bin => return ns.rom.get(i).map(|(name, _)| (name, Vnode::Prog(i))),
            Vnode::DevShm => {
                let (name, &o) = ns.shm.iter().nth(i)?;
                // Names are checked to be UTF-8 when they are made.
                let name = core::str::from_utf8(name).unwrap_or("?");
                return Some((name, Vnode::ShmName(o)));
            }
            _ => &[],
        };
        fixed.get(i).copied()
    }

    /// The name `name` in this directory.
    fn lookup(self, ns: &Ns, name: &str) -> Result<Vnode, Errno> {
        if self == Vnode::Bin {
            return ns.rom.index_of(name).map(Vnode::Prog).ok_or(Errno::ENOENT);
        }
        if self == Vnode::DevShm {
            let mut key = crate::mm::shm::posix::Name::new();
            key.extend_from_slice(name.as_bytes())
                .map_err(|_| Errno::ENAMETOOLONG)?;
            return ns
                .shm
                .get(&key)
                .map(|&o| Vnode::ShmName(o))
                .ok_or(Errno::ENOENT);
        }
        (2..)
            .map_while(|i| self.entry(ns, i))
            .find(|&(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or(Errno::ENOENT)
    }

    /// The absolute path of a directory (what getcwd reports).
    pub fn dir_path(self) -> &'static str {
        match self {
            Vnode::Bin => "/bin",
            Vnode::Dev => "/dev",
            Vnode::DevShm => "/dev/shm",
            Vnode::Shmem => "/dev/shmem",
            _ => "/",
        }
    }
}

/// Resolve `path` from `cwd` (when relative): `.`, `..` and repeated slashes as POSIX says;
/// ENOENT for an empty path or a missing name, ENOTDIR when a name that is not a directory is
/// followed by more (or by a trailing slash), ENAMETOOLONG for a name over NAME_MAX.
pub fn resolve(ns: &Ns, cwd: Vnode, path: &[u8]) -> Result<Vnode, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    let path = core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?;
    let mut cur = if path.starts_with('/') {
        Vnode::Root
    } else {
        cwd
    };
    for name in path.split('/').filter(|n| !n.is_empty()) {
        if name.len() > NAME_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if !cur.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        cur = match name {
            "." => cur,
            ".." => cur.parent(),
            _ => cur.lookup(ns, name)?,
        };
    }
    if path.ends_with('/') && !cur.is_dir() {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rom() -> RomFs<'static> {
        let img = crate::fs::romfs::build(&[("hello", b"hi"), ("nsh", b"sh")]);
        RomFs::new(std::boxed::Box::leak(img.into_boxed_slice())).unwrap()
    }

    #[test]
    fn paths_resolve_with_dots_slashes_and_the_working_directory() {
        let r = rom();
        let names = ShmNames::new();
        let ns = Ns {
            rom: &r,
            shm: &names,
        };
        let ok = |cwd, p: &str| resolve(&ns, cwd, p.as_bytes());
        assert_eq!(ok(Vnode::Root, "/"), Ok(Vnode::Root));
        assert_eq!(ok(Vnode::Root, "/bin/hello"), Ok(Vnode::Prog(0)));
        assert_eq!(ok(Vnode::Dev, "../bin//./nsh"), Ok(Vnode::Prog(1)));
        assert_eq!(ok(Vnode::Bin, "hello"), Ok(Vnode::Prog(0)));
        assert_eq!(ok(Vnode::Root, "/.."), Ok(Vnode::Root));
        assert_eq!(ok(Vnode::DevShm, ".."), Ok(Vnode::Dev));
        assert_eq!(ok(Vnode::Root, "dev/shm/"), Ok(Vnode::DevShm));
        assert_eq!(ok(Vnode::Root, "/dev/null"), Ok(Vnode::Null));
        assert_eq!(ok(Vnode::Root, ""), Err(Errno::ENOENT));
        assert_eq!(ok(Vnode::Root, "/nosuch"), Err(Errno::ENOENT));
        assert_eq!(ok(Vnode::Root, "/bin/nosuch"), Err(Errno::ENOENT));
        assert_eq!(ok(Vnode::Root, "/bin/hello/"), Err(Errno::ENOTDIR));
        assert_eq!(ok(Vnode::Root, "/dev/null/x"), Err(Errno::ENOTDIR));
        let long = "x".repeat(NAME_MAX + 1);
        assert_eq!(ok(Vnode::Root, &long), Err(Errno::ENAMETOOLONG));
    }

    #[test]
    fn directories_list_dot_dotdot_and_their_names() {
        let r = rom();
        let shm = ShmNames::new();
        let ns = Ns { rom: &r, shm: &shm };
        let names = |d: Vnode| -> std::vec::Vec<&str> {
            (0..)
                .map_while(|i| d.entry(&ns, i))
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names(Vnode::Root), [".", "..", "bin", "dev"]);
        assert_eq!(
            names(Vnode::Dev),
            [".", "..", "console", "null", "shm", "shmem", "zero"]
        );
        assert_eq!(names(Vnode::Bin), [".", "..", "hello", "nsh"]);
        assert_eq!(names(Vnode::DevShm), [".", ".."]);
        assert_eq!(Vnode::Null.mode(), S_IFCHR | 0o666);
        assert_eq!(Vnode::Prog(0).mode(), S_IFREG | 0o555);
    }
}
