//! Path calls (openat, newfstatat, chdir, getcwd, getdents64), pread/pwrite and ftruncate,
//! and the operations of the namespace's directories and `/bin` programs.

use abi::fcntl::*;
use abi::Errno;

use crate::fs::file::Node;
use crate::fs::namespace::{self, Vnode, PATH_MAX};
use crate::fs::ops::{seek_in, FileOps, Io, Open};
use crate::mm::shm::posix::{Name, Via};
use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

/// Bytes a read of a program file moves at most per call: the copy runs with interrupts
/// masked, and a short read is allowed (a few thousand instructions).
const READ_MAX: usize = 16 * 1024;

/// The open flags this kernel knows; any other bit is EINVAL.
const OPEN_FLAGS: u32 = O_ACCMODE
    | O_CREAT
    | O_EXCL
    | O_NOCTTY
    | O_TRUNC
    | O_APPEND
    | O_NONBLOCK
    | O_DSYNC
    | O_SYNC
    | O_DIRECTORY
    | O_NOFOLLOW
    | O_LARGEFILE
    | O_CLOEXEC;

impl Kernel {
    /// Read a path argument and resolve it against `dirfd` (AT_FDCWD: the working
    /// directory). An empty path is ENOENT unless `empty_ok`, when it names `dirfd` itself.
    fn lookup_at(
        &self,
        me: usize,
        dirfd: usize,
        path: usize,
        empty_ok: bool,
    ) -> Result<Vnode, Errno> {
        let env = self.task(me).env;
        let mut buf = [0u8; PATH_MAX];
        let n = uaccess::read_cstr(self.arch, &env, path, &mut buf)?;
        if n == 0 && !empty_ok {
            return Err(Errno::ENOENT);
        }
        let absolute = n > 0 && buf[0] == b'/';
        let base = match self.base_dir(me, dirfd, absolute) {
            Err(Errno::ENOTDIR) if n == 0 && empty_ok => return self.node_vnode(me, dirfd),
            r => r?,
        };
        if n == 0 && empty_ok {
            return Ok(base);
        }
        namespace::resolve(&self.ns(), base, &buf[..n])
    }

    /// The directory a path's last name would be in.
    fn parent_of(&self, me: usize, dirfd: usize, path: usize) -> Result<Vnode, Errno> {
        let env = self.task(me).env;
        let mut buf = [0u8; PATH_MAX];
        let n = uaccess::read_cstr(self.arch, &env, path, &mut buf)?;
        let p = &buf[..n];
        let trimmed = p
            .iter()
            .rposition(|&b| b != b'/')
            .map_or(&p[..0], |i| &p[..=i]);
        let dir: &[u8] = match trimmed.iter().rposition(|&b| b == b'/') {
            Some(0) => b"/",
            Some(i) => &trimmed[..i],
            None => b".",
        };
        let base = self.base_dir(me, dirfd, dir.first() == Some(&b'/'))?;
        namespace::resolve(&self.ns(), base, dir)
    }

    /// Where a path starts: the root for an absolute one, else the working directory
    /// (AT_FDCWD) or the directory `dirfd` is open on (ENOTDIR if it is not one).
    fn base_dir(&self, me: usize, dirfd: usize, absolute: bool) -> Result<Vnode, Errno> {
        if absolute {
            return Ok(Vnode::Root);
        }
        if dirfd as isize == AT_FDCWD {
            return Ok(self.task(me).cwd);
        }
        match self.file_of(me, dirfd)?.node {
            Node::Dir(v) => Ok(v),
            _ => Err(Errno::ENOTDIR),
        }
    }

    /// The namespace name of an open descriptor (for AT_EMPTY_PATH).
    fn node_vnode(&self, me: usize, fd: usize) -> Result<Vnode, Errno> {
        Ok(match self.file_of(me, fd)?.node {
            Node::Console => Vnode::Console,
            Node::Null => Vnode::Null,
            Node::Zero => Vnode::Zero,
            Node::Dir(v) => v,
            Node::Prog(i) => Vnode::Prog(i),
            Node::Shm(o) if self.objs.get(o).is_some_and(|x| x.named) => Vnode::ShmName(o),
            Node::PipeRead(_) | Node::PipeWrite(_) | Node::Shm(_) => return Err(Errno::ENOENT),
        })
    }

    /// The name a path gives in `/dev/shm`, if that is where it points (a name there,
    /// existing or not).
    fn shm_path(&self, me: usize, dirfd: usize, path: usize) -> Result<Option<Name>, Errno> {
        let env = self.task(me).env;
        let mut buf = [0u8; PATH_MAX];
        let n = uaccess::read_cstr(self.arch, &env, path, &mut buf)?;
        let p = &buf[..n];
        if p.ends_with(b"/") {
            return Ok(None);
        }
        let last = p.rsplit(|&b| b == b'/').next().unwrap_or(p);
        if last.is_empty() || last == b"." || last == b".." {
            return Ok(None);
        }
        match self.parent_of(me, dirfd, path) {
            Ok(Vnode::DevShm) => {}
            _ => return Ok(None),
        }
        crate::mm::shm::posix::check_name(last)?;
        let mut key = Name::new();
        let _ = key.extend_from_slice(last);
        Ok(Some(key))
    }

    /// openat: a name in `/dev/shm` is a POSIX shared-memory object (with open(2)'s rules;
    /// O_CREAT makes one, and it may wait for a resize under O_TRUNC).
    pub fn sys_openat_any(
        &mut self,
        me: usize,
        dirfd: usize,
        path: usize,
        flags: usize,
        mode: usize,
    ) -> Option<R> {
        let fl = flags as u32;
        if flags <= u32::MAX as usize && fl & !OPEN_FLAGS == 0 && fl & O_ACCMODE != O_ACCMODE {
            match self.shm_path(me, dirfd, path) {
                Ok(Some(key)) => {
                    if fl & O_DIRECTORY != 0 {
                        return Some(Err(Errno::ENOTDIR));
                    }
                    return self.shm_open_name(me, &key, fl, mode as u32, Via::Open);
                }
                Err(e) => return Some(Err(e)),
                Ok(None) => {}
            }
        }
        Some(self.sys_openat(me, dirfd, path, flags, mode))
    }

    pub fn sys_openat(
        &mut self,
        me: usize,
        dirfd: usize,
        path: usize,
        flags: usize,
        mode: usize,
    ) -> R {
        let flags = u32::try_from(flags).map_err(|_| Errno::EINVAL)?;
        if flags & !OPEN_FLAGS != 0 || flags & O_ACCMODE == O_ACCMODE {
            return Err(Errno::EINVAL);
        }
        let v = match self.lookup_at(me, dirfd, path, false) {
            // Nothing can be created here (the namespace is read-only), if the directory the
            // name would go in exists at all.
            Err(Errno::ENOENT) if flags & O_CREAT != 0 => {
                return Err(match self.parent_of(me, dirfd, path) {
                    Ok(d) if d.is_dir() => Errno::EROFS,
                    Ok(_) => Errno::ENOTDIR,
                    Err(e) => e,
                })
            }
            r => r?,
        };
        if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
            return Err(Errno::EEXIST);
        }
        if v.is_dir() && flags & O_CREAT != 0 {
            return Err(Errno::EISDIR);
        }
        let acc = flags & O_ACCMODE;
        let write = acc != O_RDONLY;
        if flags & O_DIRECTORY != 0 && !v.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        if v.is_dir() && (write || flags & O_TRUNC != 0) {
            return Err(Errno::EISDIR);
        }
        if matches!(v, Vnode::Prog(_)) && (write || flags & O_TRUNC != 0) {
            return Err(Errno::EROFS);
        }
        self.may_access(me, v, acc)?;
        if v == Vnode::ShmemNew {
            // Every open makes a new object; the first mmap sizes it.
            let status = flags & (O_NONBLOCK | O_APPEND);
            return self.obj_open_new(
                me,
                crate::mm::shm::object::ObjKind::Shmem,
                mode as u32,
                acc | status,
                flags & O_CLOEXEC != 0,
                &[],
            );
        }
        let node = match v {
            Vnode::Console => Node::Console,
            Vnode::Null => Node::Null,
            Vnode::Zero => Node::Zero,
            Vnode::Prog(i) => Node::Prog(i),
            d => Node::Dir(d),
        };
        let file = self.file_new(node, acc | (flags & (O_NONBLOCK | O_APPEND)))?;
        self.fd_install(me, file, flags & O_CLOEXEC != 0)
    }

    /// Permission bits against the caller's uid and gid (root passes; names belong to root).
    fn may_access(&self, me: usize, v: Vnode, acc: u32) -> Result<(), Errno> {
        let t = self.task(me);
        if t.uid == 0 {
            return Ok(());
        }
        let mode = v.mode();
        // Everything here is owned by root:root, so others' bits apply (group 0 for gid 0).
        let bits = if t.gid == 0 {
            (mode >> 3) & 7
        } else {
            mode & 7
        };
        let need = match acc {
            O_RDONLY => 4,
            O_WRONLY => 2,
            _ => 6,
        };
        if bits & need != need {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    pub fn sys_newfstatat(
        &mut self,
        me: usize,
        dirfd: usize,
        path: usize,
        buf: usize,
        flags: usize,
    ) -> R {
        if flags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
            return Err(Errno::EINVAL);
        }
        let empty_ok = flags & AT_EMPTY_PATH != 0;
        // A pipe has no name: AT_EMPTY_PATH on one is fstat.
        if empty_ok && dirfd as isize != AT_FDCWD {
            let env = self.task(me).env;
            let mut first = [0u8; 1];
            uaccess::copy_in(self.arch, &env, path, &mut first)?;
            if first[0] == 0 {
                return self.sys_fstat(me, dirfd, buf);
            }
        }
        let v = self.lookup_at(me, dirfd, path, empty_ok)?;
        let st = self.vnode_stat(v);
        let env = self.task(me).env;
        uaccess::write_val(self.arch, &env, buf, &st).map(|_| 0)
    }

    pub fn sys_chdir(&mut self, me: usize, path: usize) -> R {
        let v = self.lookup_at(me, AT_FDCWD as usize, path, false)?;
        if !v.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        self.task_mut(me).cwd = v;
        Ok(0)
    }

    /// getcwd(buf, size): the length written, NUL included (the raw syscall's result).
    pub fn sys_getcwd(&mut self, me: usize, buf: usize, size: usize) -> R {
        let path = self.task(me).cwd.dir_path().as_bytes();
        if size < path.len() + 1 {
            return Err(Errno::ERANGE);
        }
        let env = self.task(me).env;
        uaccess::copy_out(self.arch, &env, buf, path)?;
        uaccess::copy_out(self.arch, &env, buf + path.len(), &[0])?;
        Ok(path.len() as isize + 1)
    }

    /// getdents64(fd, buf, len): as many `linux_dirent64` records as fit, 0 at the end,
    /// EINVAL when not even the next one fits.
    pub fn sys_getdents64(&mut self, me: usize, fd: usize, buf: usize, len: usize) -> R {
        let id = self.open_of(me, fd)?.id;
        let f = self.file_of(me, fd)?;
        let Node::Dir(dir) = f.node else {
            return Err(Errno::ENOTDIR);
        };
        if !uaccess::range_ok(buf, len) {
            return Err(Errno::EFAULT);
        }
        let env = self.task(me).env;
        let mut at = f.offset as usize;
        let mut out = 0;
        while let Some((name, v)) = dir.entry(&self.ns(), at) {
            let reclen = (19 + name.len() + 1).next_multiple_of(8);
            if out + reclen > len {
                if out == 0 {
                    return Err(Errno::EINVAL);
                }
                break;
            }
            let mut rec = [0u8; 8 + 8 + 2 + 1 + namespace::NAME_MAX + 1 + 7];
            rec[0..8].copy_from_slice(&v.ino().to_le_bytes());
            rec[8..16].copy_from_slice(&((at + 1) as i64).to_le_bytes());
            rec[16..18].copy_from_slice(&(reclen as u16).to_le_bytes());
            rec[18] = if v.is_dir() {
                DT_DIR
            } else if matches!(v, Vnode::Prog(_) | Vnode::ShmName(_)) {
                DT_REG
            } else {
                DT_CHR
            };
            rec[19..19 + name.len()].copy_from_slice(name.as_bytes());
            uaccess::copy_out(self.arch, &env, buf + out, &rec[..reclen])?;
            out += reclen;
            at += 1;
        }
        self.file_advance(id, at - f.offset as usize);
        Ok(out as isize)
    }

    /// unlinkat(dirfd, path, flags): nothing here can be removed (EROFS), once the name is
    /// found and its type matches the call (EISDIR for a directory without AT_REMOVEDIR,
    /// ENOTDIR for a file with it, EINVAL for `.`).
    pub fn sys_unlinkat(&mut self, me: usize, dirfd: usize, path: usize, flags: usize) -> R {
        if flags & !AT_REMOVEDIR != 0 {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let mut buf = [0u8; PATH_MAX];
        let n = uaccess::read_cstr(self.arch, &env, path, &mut buf)?;
        let last = buf[..n].rsplit(|&b| b == b'/').find(|c| !c.is_empty());
        let v = self.lookup_at(me, dirfd, path, false)?;
        let rmdir = flags & AT_REMOVEDIR != 0;
        if let (Vnode::ShmName(_), Some(key)) = (v, self.shm_path(me, dirfd, path)?) {
            if rmdir {
                return Err(Errno::ENOTDIR);
            }
            return self.shm_unlink_name(me, &key);
        }
        if rmdir && last == Some(b".".as_slice()) {
            return Err(Errno::EINVAL);
        }
        match (v.is_dir(), rmdir) {
            (true, false) => Err(Errno::EISDIR),
            (false, true) => Err(Errno::ENOTDIR),
            _ => Err(Errno::EROFS),
        }
    }

    /// umask(mask): the previous mask.
    pub fn sys_umask(&mut self, me: usize, mask: usize) -> R {
        let old = self.task(me).umask;
        self.task_mut(me).umask = mask as u32 & 0o777;
        Ok(old as isize)
    }

    /// pread64/pwrite64: at `off`, leaving the offset alone; ESPIPE where there is no
    /// offset (console, pipes), EINVAL for a negative one.
    pub fn sys_pread(
        &mut self,
        me: usize,
        fd: usize,
        buf: usize,
        len: usize,
        off: usize,
        write: bool,
    ) -> Option<R> {
        // Linux's order: the offset, the descriptor, whether it has offsets, the mode.
        if (off as i64) < 0 {
            return Some(Err(Errno::EINVAL));
        }
        let f = match self.open_of(me, fd) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let ops = f.file.node.ops();
        if let Err(e) = ops.seek(self, f, 0, SEEK_CUR) {
            return Some(Err(e));
        }
        let io = Io {
            buf,
            len,
            at: Some(off as u64),
        };
        self.file_rw(me, f, io, write)
    }

    /// ftruncate: only regular files open for writing have a size to set (EINVAL for a
    /// descriptor not open for writing, as Linux), after a negative length (EINVAL) and a
    /// bad descriptor (EBADF).
    pub fn sys_ftruncate(&mut self, me: usize, fd: usize, len: usize) -> Option<R> {
        if (len as i64) < 0 {
            return Some(Err(Errno::EINVAL));
        }
        let f = match self.open_of(me, fd) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        if !f.file.writable() {
            return Some(Err(Errno::EINVAL));
        }
        if matches!(f.file.node, Node::Shm(_)) {
            // A growth allocates in steps (and may wait behind another resize).
            return self.shm_truncate(me, f, len as u64);
        }
        Some(f.file.node.ops().truncate(self, f, len as u64))
    }

    /// A read or write through description `f`: the access mode (EBADF) and the user range
    /// (EFAULT) checked, then the node's operation.
    pub(crate) fn file_rw(&mut self, me: usize, f: Open, io: Io, write: bool) -> Option<R> {
        let allowed = if write {
            f.file.writable()
        } else {
            f.file.readable()
        };
        if !allowed {
            return Some(Err(Errno::EBADF));
        }
        if !uaccess::range_ok(io.buf, io.len) {
            return Some(Err(Errno::EFAULT));
        }
        let ops = f.file.node.ops();
        if write {
            ops.write(self, me, f, io)
        } else {
            ops.read(self, me, f, io)
        }
    }
}

/// Directories of the namespace: listed with getdents64, whose position the offset is.
pub struct DirOps;

impl FileOps for DirOps {
    fn read(&self, _k: &mut Kernel, _me: usize, _f: Open, _io: Io) -> Option<R> {
        Some(Err(Errno::EISDIR))
    }
    /// An entry index: set or read, not counted from the end.
    fn seek(&self, _k: &Kernel, f: Open, off: i64, whence: usize) -> Result<u64, Errno> {
        if whence == SEEK_END {
            return Err(Errno::EINVAL);
        }
        seek_in(f, off, whence, 0)
    }
    fn stat(&self, k: &Kernel, f: Open) -> abi::stat::Stat {
        match f.file.node {
            Node::Dir(v) => k.vnode_stat(v),
            _ => abi::stat::Stat::default(),
        }
    }
}

/// The programs of `/bin`: read-only files of the rom file system.
pub struct ProgOps;

impl ProgOps {
    fn bytes(k: &Kernel, f: Open) -> &'static [u8] {
        match f.file.node {
            Node::Prog(i) => k.romfs.get(i).map_or(&[][..], |(_, b)| b),
            _ => &[],
        }
    }
}

impl FileOps for ProgOps {
    fn read(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        let bytes = Self::bytes(k, f);
        let from = (io.at.unwrap_or(f.file.offset) as usize).min(bytes.len());
        let n = io.len.min(READ_MAX).min(bytes.len() - from);
        let env = k.task(me).env;
        if let Err(e) = uaccess::copy_out(k.arch, &env, io.buf, &bytes[from..from + n]) {
            return Some(Err(e));
        }
        if io.at.is_none() {
            k.file_advance(f.id, n);
        }
        Some(Ok(n as isize))
    }
    fn seek(&self, k: &Kernel, f: Open, off: i64, whence: usize) -> Result<u64, Errno> {
        seek_in(f, off, whence, Self::bytes(k, f).len() as u64)
    }
    fn stat(&self, k: &Kernel, f: Open) -> abi::stat::Stat {
        match f.file.node {
            Node::Prog(i) => k.vnode_stat(Vnode::Prog(i)),
            _ => abi::stat::Stat::default(),
        }
    }
}
