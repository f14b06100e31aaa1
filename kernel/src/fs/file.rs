//! Open file descriptions and descriptor tables (DESIGN.md 3a). A descriptor refers to a
//! description: FD_CLOEXEC belongs to the descriptor; access mode, status flags and offset
//! belong to the description, so `dup`'d and inherited descriptors share them.

use abi::fcntl::O_APPEND;
use abi::fcntl::{
    FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, O_ACCMODE, O_CLOEXEC,
    O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY,
};
use abi::stat::Stat;
use abi::sys::SpawnAction;
use abi::Errno;

use crate::{uaccess, Kernel};

use crate::fs::namespace::{Vnode, DEV_PSEUDO};

type R = Result<isize, Errno>;

/// Descriptors per process (EMFILE past it).
pub const MAX_FDS: usize = 16;
/// Open file descriptions system-wide (ENFILE past it): room for every pipe's two ends and
/// the console.
pub const MAX_FILES: usize = 128;

/// What a description is open on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Console,
    PipeRead(usize),
    PipeWrite(usize),
    Null,
    Zero,
    /// A directory of the namespace (read with getdents64).
    Dir(Vnode),
    /// Program `index` of the rom file system, read-only.
    Prog(usize),
    /// Shared-memory object `o` (POSIX, SHM_ANON, memfd, `/dev/shmem/new`); the
    /// description holds a reference to it.
    Shm(u16),
}

/// An open file description.
#[derive(Clone, Copy, Debug)]
pub struct File {
    pub node: Node,
    /// Access mode and status flags (O_NONBLOCK), as F_GETFL reports them.
    pub flags: u32,
    /// Where the next read or write starts (a program file's byte, a directory's entry).
    pub offset: u64,
    /// Who opened it and when (what fstat reports for a pipe).
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) time: i64,
    /// Descriptors (in every process) referring to it.
    pub(crate) refs: u32,
}

impl File {
    pub fn readable(&self) -> bool {
        self.flags & O_ACCMODE != O_WRONLY
    }
    pub fn writable(&self) -> bool {
        self.flags & O_ACCMODE != O_RDONLY
    }
    pub fn nonblock(&self) -> bool {
        self.flags & O_NONBLOCK != 0
    }
}

/// A process's descriptor: the description it refers to and its own flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fd {
    pub file: u16,
    pub cloexec: bool,
}

pub type FdTable = [Option<Fd>; MAX_FDS];

/// The system-wide table of open file descriptions.
pub struct Files {
    slots: [Option<File>; MAX_FILES],
}

impl Default for Files {
    fn default() -> Self {
        Files {
            slots: [None; MAX_FILES],
        }
    }
}

impl Files {
    /// Descriptions in use.
    pub fn used(&self) -> usize {
        self.slots.iter().flatten().count()
    }
    pub fn get(&self, f: u16) -> Option<&File> {
        self.slots.get(f as usize)?.as_ref()
    }
}

impl Kernel {
    /// A new description with one reference.
    pub(crate) fn file_new(&mut self, node: Node, flags: u32) -> Result<u16, Errno> {
        let i = self
            .files
            .slots
            .iter()
            .position(|f| f.is_none())
            .ok_or(Errno::ENFILE)?;
        let (uid, gid) = self.current.map_or((0, 0), |c| {
            let t = self.task(c);
            (t.uid, t.gid)
        });
        self.files.slots[i] = Some(File {
            node,
            flags,
            offset: 0,
            uid,
            gid,
            time: self.wall_seconds(),
            refs: 1,
        });
        Ok(i as u16)
    }

    pub(crate) fn file_ref(&mut self, f: u16) {
        if let Some(file) = self.files.slots[f as usize].as_mut() {
            file.refs += 1;
        }
    }

    /// Drop a reference; the last one closes the node.
    pub(crate) fn file_unref(&mut self, f: u16) {
        let Some(file) = self.files.slots[f as usize].as_mut() else {
            return;
        };
        file.refs -= 1;
        if file.refs == 0 {
            let node = file.node;
            self.files.slots[f as usize] = None;
            self.node_closed(node);
        }
    }

    /// The description behind descriptor `fd` of task `me`.
    pub fn file_of(&self, me: usize, fd: usize) -> Result<File, Errno> {
        self.open_of(me, fd).map(|o| o.file)
    }

    /// The lowest free descriptor number at or above `from`.
    pub(crate) fn fd_free(&self, me: usize, from: usize) -> Result<usize, Errno> {
        (from..MAX_FDS)
            .find(|&i| self.task(me).fds[i].is_none())
            .ok_or(Errno::EMFILE)
    }

    /// Put description `file` (one reference already taken for it) at the lowest free
    /// descriptor; the reference is dropped again if there is none.
    pub(crate) fn fd_install(&mut self, me: usize, file: u16, cloexec: bool) -> R {
        match self.fd_free(me, 0) {
            Ok(fd) => {
                self.task_mut(me).fds[fd] = Some(Fd { file, cloexec });
                Ok(fd as isize)
            }
            Err(e) => {
                self.file_unref(file);
                Err(e)
            }
        }
    }

    /// The descriptor table a child of `parent` gets: the parent's, with `actions` applied
    /// in order (dup2 or close, as posix_spawn's file actions), then without the descriptors
    /// marked FD_CLOEXEC. EBADF for an action on a descriptor that is not open (or out of
    /// range). Takes no references: `fds_take` does, once the child exists.
    pub fn child_fds(&self, parent: usize, actions: &[SpawnAction]) -> Result<FdTable, Errno> {
        let mut fds = self.task(parent).fds;
        for a in actions {
            let new = usize::try_from(a.newfd)
                .ok()
                .filter(|&n| n < MAX_FDS)
                .ok_or(Errno::EBADF)?;
            fds[new] = match a.fd {
                -1 => None,
                fd => {
                    let d = usize::try_from(fd)
                        .ok()
                        .and_then(|f| fds.get(f).copied().flatten())
                        .ok_or(Errno::EBADF)?;
                    Some(Fd {
                        file: d.file,
                        cloexec: false,
                    })
                }
            };
        }
        for d in fds.iter_mut() {
            if d.is_some_and(|d| d.cloexec) {
                *d = None;
            }
        }
        Ok(fds)
    }

    /// Take a reference for each descriptor of a new process's table, or (None: the first
    /// process) open the console at 0, 1 and 2.
    pub(crate) fn fds_take(&mut self, table: Option<FdTable>) -> FdTable {
        let mut fds: FdTable = [None; MAX_FDS];
        match table {
            Some(t) => {
                fds = t;
                for d in fds.iter().flatten() {
                    self.file_ref(d.file);
                }
            }
            None => {
                // The table is empty when the first process starts.
                let Ok(f) = self.file_new(Node::Console, O_RDWR) else {
                    return fds;
                };
                self.file_ref(f);
                self.file_ref(f);
                for d in fds.iter_mut().take(3) {
                    *d = Some(Fd {
                        file: f,
                        cloexec: false,
                    });
                }
            }
        }
        fds
    }

    /// Close every descriptor of task `slot` (it is exiting).
    pub(crate) fn fds_close_all(&mut self, slot: usize) {
        let fds = core::mem::replace(&mut self.task_mut(slot).fds, [None; MAX_FDS]);
        for d in fds.into_iter().flatten() {
            self.file_unref(d.file);
        }
    }

    pub fn sys_close(&mut self, me: usize, fd: usize) -> R {
        self.file_of(me, fd)?;
        let d = self.task_mut(me).fds[fd].take().expect("checked");
        self.file_unref(d.file);
        Ok(0)
    }

    pub fn sys_dup(&mut self, me: usize, fd: usize) -> R {
        self.dup_from(me, fd, 0, false)
    }

    /// A new descriptor for `fd`'s description: the lowest free one at or above `from`.
    fn dup_from(&mut self, me: usize, fd: usize, from: usize, cloexec: bool) -> R {
        self.file_of(me, fd)?;
        let file = self.task(me).fds[fd].expect("checked").file;
        let new = self.fd_free(me, from)?;
        self.file_ref(file);
        self.task_mut(me).fds[new] = Some(Fd { file, cloexec });
        Ok(new as isize)
    }

    pub fn sys_dup3(&mut self, me: usize, old: usize, new: usize, flags: usize) -> R {
        // Linux's order: flags, the same number twice, the target's range, then the source.
        if flags & !(O_CLOEXEC as usize) != 0 || old == new {
            return Err(Errno::EINVAL);
        }
        if new >= MAX_FDS {
            return Err(Errno::EBADF);
        }
        self.file_of(me, old)?;
        let file = self.task(me).fds[old].expect("checked").file;
        self.file_ref(file);
        // Whatever `new` was is closed first, silently (as dup2 does).
        if let Some(d) = self.task_mut(me).fds[new].take() {
            self.file_unref(d.file);
        }
        self.task_mut(me).fds[new] = Some(Fd {
            file,
            cloexec: flags != 0,
        });
        Ok(new as isize)
    }

    pub fn sys_fcntl(&mut self, me: usize, fd: usize, cmd: usize, arg: usize) -> R {
        self.file_of(me, fd)?;
        let d = self.task(me).fds[fd].expect("checked");
        match cmd {
            F_DUPFD | F_DUPFD_CLOEXEC => {
                if arg >= MAX_FDS {
                    return Err(Errno::EINVAL);
                }
                self.dup_from(me, fd, arg, cmd == F_DUPFD_CLOEXEC)
            }
            F_GETFD => Ok(if d.cloexec { FD_CLOEXEC as isize } else { 0 }),
            F_SETFD => {
                self.task_mut(me).fds[fd] = Some(Fd {
                    file: d.file,
                    cloexec: arg & FD_CLOEXEC != 0,
                });
                Ok(0)
            }
            F_GETFL => Ok(self.files.get(d.file).map_or(0, |f| f.flags) as isize),
            abi::fcntl::F_ADD_SEALS | abi::fcntl::F_GET_SEALS => self.shm_seals(me, fd, cmd, arg),
            F_SETFL => {
                // Only the status flags this kernel has change; the access mode never does.
                let file = self.files.slots[d.file as usize].as_mut().expect("live");
                let status = O_NONBLOCK | O_APPEND;
                file.flags = (file.flags & !status) | (arg as u32 & status);
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// lseek: the node says where the offset goes (ESPIPE where there is none).
    pub fn sys_lseek(&mut self, me: usize, fd: usize, off: usize, whence: usize) -> R {
        let f = self.open_of(me, fd)?;
        let new = f.file.node.ops().seek(self, f, off as i64, whence)?;
        self.files.slots[f.id as usize]
            .as_mut()
            .expect("live")
            .offset = new;
        Ok(new as isize)
    }

    /// Move description `id`'s offset on (after a read).
    pub(crate) fn file_advance(&mut self, id: u16, by: usize) {
        if let Some(f) = self.files.slots[id as usize].as_mut() {
            f.offset += by as u64;
        }
    }

    pub fn sys_fstat(&mut self, me: usize, fd: usize, uva: usize) -> R {
        let f = self.open_of(me, fd)?;
        let st = f.file.node.ops().stat(self, f);
        let env = self.task(me).env;
        uaccess::write_val(self.arch, &env, uva, &st).map(|_| 0)
    }

    /// fstat of what the namespace does not name (the console's own description, pipes):
    /// what every description has.
    pub(crate) fn file_stat(&self, f: &File, ino: u64, mode: u32) -> Stat {
        Stat {
            st_dev: DEV_PSEUDO,
            st_ino: ino,
            st_mode: mode,
            st_nlink: 1,
            st_uid: f.uid,
            st_gid: f.gid,
            st_blksize: 4096,
            st_atime: f.time,
            st_mtime: f.time,
            st_ctime: f.time,
            ..Stat::default()
        }
    }

    /// What stat reports for a name of the namespace.
    pub(crate) fn vnode_stat(&self, v: Vnode) -> Stat {
        if let Vnode::ShmName(o) = v {
            return self.obj_stat(o);
        }
        let size = match v {
            Vnode::Prog(i) => self.romfs.get(i).map_or(0, |(_, b)| b.len()),
            _ => 0,
        };
        let t = self.rtc_base as i64;
        Stat {
            st_dev: DEV_PSEUDO,
            st_ino: v.ino(),
            st_mode: v.mode(),
            st_nlink: if v.is_dir() { 2 } else { 1 },
            st_rdev: v.rdev(),
            st_size: size as i64,
            st_blksize: 4096,
            st_blocks: size.div_ceil(512) as i64,
            st_atime: t,
            st_mtime: t,
            st_ctime: t,
            ..Stat::default()
        }
    }

    /// The last description open on `node` is gone.
    fn node_closed(&mut self, node: Node) {
        node.ops().close(self, node);
    }
}
