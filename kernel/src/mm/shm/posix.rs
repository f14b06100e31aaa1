//! The POSIX front ends on the shared-memory object: shm_open/shm_unlink with names in a
//! FNV-1a hashed table (FreeBSD's choice) that `/dev/shm` shows, SHM_ANON, memfd_create with
//! seals, `/dev/shmem/new`, and the file operations of a descriptor open on an object
//! (read, write, lseek, fstat, ftruncate, mmap).
//!
//! Project choices (`posix-shm.md`, top): a name is `/` and 1..=255 bytes of UTF-8 without
//! another `/`, not `.` or `..` (EINVAL; ENAMETOOLONG past 255); shm_open takes O_RDONLY or
//! O_RDWR with O_CREAT, O_EXCL, O_TRUNC, O_CLOEXEC (anything else, and O_RDONLY|O_TRUNC, is
//! EINVAL) and always sets FD_CLOEXEC; shm_unlink needs read and write permission (EACCES);
//! writing past the end grows an object; ftruncate past SHM_OBJ_MAX is EFBIG.

use abi::fcntl::*;
use abi::mman::{MFD_ALLOW_SEALING, MFD_CLOEXEC, MFD_NAME_MAX, SHM_ANON};
use abi::stat::{Stat, S_IFREG};
use abi::Errno;
use alloc::vec::Vec;

use super::object::{ObjKind, OBJ_NAME_MAX};
use crate::fs::file::Node;
use crate::fs::namespace::{NAME_MAX, PATH_MAX};
use crate::fs::ops::{seek_in, FileOps, Io, MapSource, Open};
use crate::mm::vm::Kind;
use crate::phys::{read_phys, write_phys, PAGE_SIZE};
use crate::sched::wait::WaitId;
use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

/// Names in `/dev/shm` (a power of two, as the hashed table needs).
pub const MAX_NAMES: usize = 128;
/// Largest object a POSIX front end makes (EFBIG past it).
pub const SHM_OBJ_MAX: u64 = 1 << 30;
/// Bytes one read or write of an object moves at most (the copy runs with interrupts
/// masked; a short count is allowed).
const RW_MAX: usize = 16 * 1024;

pub type Name = heapless::Vec<u8, OBJ_NAME_MAX>;
/// The `/dev/shm` names: name -> object (each name holds a reference).
pub type ShmNames = heapless::index_map::FnvIndexMap<Name, u16, MAX_NAMES>;

/// Where an open comes from: shm_open(3)'s rules, or open(2)'s on `/dev/shm/NAME`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Via {
    ShmOpen,
    Open,
}

/// A POSIX shm name's part after the slash, checked.
fn shm_name(path: &[u8]) -> Result<&[u8], Errno> {
    let rest = path.strip_prefix(b"/").ok_or(Errno::EINVAL)?;
    if rest.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    check_name(rest)?;
    Ok(rest)
}

/// A name as `/dev/shm` keeps it: 1..=255 bytes of UTF-8, no slash, not `.` or `..`.
pub fn check_name(n: &[u8]) -> Result<(), Errno> {
    if n.is_empty() || n.contains(&b'/') || n == b"." || n == b".." {
        return Err(Errno::EINVAL);
    }
    if n.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    core::str::from_utf8(n).map_err(|_| Errno::EINVAL)?;
    Ok(())
}

impl Kernel {
    fn read_shm_path(
        &self,
        me: usize,
        uva: usize,
        buf: &mut [u8; PATH_MAX],
    ) -> Result<usize, Errno> {
        let env = self.task(me).env;
        uaccess::read_cstr(self.arch, &env, uva, buf)
    }

    /// shm_open(name, oflag, mode) as a syscall (FreeBSD has it as one).
    pub fn sys_shm_open(&mut self, me: usize, name: usize, oflag: usize, mode: usize) -> Option<R> {
        let flags = oflag as u32;
        let acc = flags & O_ACCMODE;
        if name == SHM_ANON {
            // FreeBSD: O_RDWR needed, every other flag ignored.
            if acc != O_RDWR {
                return Some(Err(Errno::EINVAL));
            }
            return Some(self.obj_open_new(me, ObjKind::Anon, mode as u32, O_RDWR, true, &[]));
        }
        if oflag > u32::MAX as usize
            || acc == O_WRONLY
            || acc == O_ACCMODE
            || flags & !(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC) != 0
            || (acc == O_RDONLY && flags & O_TRUNC != 0)
        {
            return Some(Err(Errno::EINVAL));
        }
        let mut buf = [0u8; PATH_MAX];
        let n = match self.read_shm_path(me, name, &mut buf) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let name = match shm_name(&buf[..n]) {
            Ok(x) => x,
            Err(e) => return Some(Err(e)),
        };
        let mut key = Name::new();
        let _ = key.extend_from_slice(name);
        self.shm_open_name(me, &key, flags, mode as u32, Via::ShmOpen)
    }

    /// Open (or create) the object named `key`: shm_open, or open(2) on `/dev/shm/NAME`.
    pub(crate) fn shm_open_name(
        &mut self,
        me: usize,
        key: &Name,
        flags: u32,
        mode: u32,
        via: Via,
    ) -> Option<R> {
        let acc = flags & O_ACCMODE;
        let cloexec = via == Via::ShmOpen || flags & O_CLOEXEC != 0;
        if let Err(e) = self.fd_free(me, 0) {
            return Some(Err(e));
        }
        let Some(&obj) = self.shm_names.get(key) else {
            if flags & O_CREAT == 0 {
                return Some(Err(Errno::ENOENT));
            }
            if self.shm_names.len() == MAX_NAMES {
                return Some(Err(Errno::ENOSPC));
            }
            let status = flags & (O_APPEND | O_NONBLOCK);
            return Some(self.obj_open_new(me, ObjKind::Posix, mode, acc | status, cloexec, key));
        };
        if flags & (O_CREAT | O_EXCL) == O_CREAT | O_EXCL {
            return Some(Err(Errno::EEXIST));
        }
        if let Err(e) = self.obj_may(me, obj, acc_bits(acc)) {
            return Some(Err(e));
        }
        if flags & O_TRUNC != 0 && acc != O_RDONLY {
            let o = self.objs.obj(obj);
            if o.busy_growing() {
                return self.wait_on(WaitId::ObjBusy(obj), None);
            }
            if o.size != 0 {
                if let Err(e) = self.obj_seal_check(obj, 0) {
                    return Some(Err(e));
                }
                self.obj_set_size(obj, 0);
            }
        }
        self.obj_ref(obj);
        let file = match self.file_new(Node::Shm(obj), acc | (flags & (O_APPEND | O_NONBLOCK))) {
            Ok(f) => f,
            Err(e) => {
                self.obj_unref(obj);
                return Some(Err(e));
            }
        };
        Some(self.fd_install(me, file, cloexec))
    }

    /// A new object of `kind` (named `key` when it is POSIX) and a descriptor open on it.
    pub(crate) fn obj_open_new(
        &mut self,
        me: usize,
        kind: ObjKind,
        mode: u32,
        flags: u32,
        cloexec: bool,
        key: &[u8],
    ) -> R {
        self.fd_free(me, 0)?;
        let mut name = Vec::new();
        name.try_reserve_exact(key.len())
            .map_err(|_| Errno::ENOMEM)?;
        name.extend_from_slice(key);
        let obj = self.obj_new(kind, 0)?;
        let umask = self.task(me).umask;
        {
            let o = self.objs.obj_mut(obj);
            o.mode = mode & 0o777 & !umask;
            o.name = name.into_boxed_slice();
            o.sized = kind != ObjKind::Shmem;
        }
        if kind == ObjKind::Posix {
            let mut k = Name::new();
            let _ = k.extend_from_slice(key);
            if self.shm_names.insert(k, obj).is_err() {
                self.obj_unref(obj);
                return Err(Errno::ENOSPC);
            }
            self.objs.obj_mut(obj).named = true;
            // The name keeps the first reference; the description takes its own.
            self.obj_ref(obj);
        }
        let file = match self.file_new(Node::Shm(obj), flags) {
            Ok(f) => f,
            Err(e) => {
                if kind == ObjKind::Posix {
                    self.shm_names.remove(key);
                    self.objs.obj_mut(obj).named = false;
                    self.obj_unref(obj);
                }
                self.obj_unref(obj);
                return Err(e);
            }
        };
        self.fd_install(me, file, cloexec)
    }

    /// shm_unlink(name): the name goes at once; the object when its last reference does.
    pub fn sys_shm_unlink(&mut self, me: usize, name: usize) -> R {
        if name == SHM_ANON {
            return Err(Errno::EINVAL);
        }
        let mut buf = [0u8; PATH_MAX];
        let n = self.read_shm_path(me, name, &mut buf)?;
        let rest = shm_name(&buf[..n])?;
        let mut key = Name::new();
        let _ = key.extend_from_slice(rest);
        self.shm_unlink_name(me, &key)
    }

    pub(crate) fn shm_unlink_name(&mut self, me: usize, key: &Name) -> R {
        let obj = *self.shm_names.get(key).ok_or(Errno::ENOENT)?;
        // FreeBSD: read and write permission on the object.
        self.obj_may(me, obj, 6)?;
        self.shm_names.remove(key);
        self.objs.obj_mut(obj).named = false;
        self.obj_unref(obj);
        Ok(0)
    }

    /// memfd_create(name, flags): an unnamed object, sealable with MFD_ALLOW_SEALING.
    pub fn sys_memfd_create(&mut self, me: usize, name: usize, flags: usize) -> R {
        if flags & !((MFD_CLOEXEC | MFD_ALLOW_SEALING) as usize) != 0 {
            return Err(Errno::EINVAL);
        }
        let mut buf = [0u8; MFD_NAME_MAX + 1];
        let env = self.task(me).env;
        let n = match uaccess::read_cstr(self.arch, &env, name, &mut buf) {
            Err(Errno::ENAMETOOLONG) => return Err(Errno::EINVAL),
            r => r?,
        };
        let cloexec = flags & MFD_CLOEXEC as usize != 0;
        let fd = self.obj_open_new(me, ObjKind::Memfd, 0o777, O_RDWR, cloexec, &buf[..n])?;
        if flags & MFD_ALLOW_SEALING as usize == 0 {
            let obj = self.obj_of_fd(me, fd as usize).expect("just opened");
            self.objs.obj_mut(obj).seals = F_SEAL_SEAL;
        }
        Ok(fd)
    }

    /// The object a descriptor is open on.
    pub fn obj_of_fd(&self, me: usize, fd: usize) -> Result<u16, Errno> {
        match self.file_of(me, fd)?.node {
            Node::Shm(o) => Ok(o),
            _ => Err(Errno::EINVAL),
        }
    }

    /// fcntl F_ADD_SEALS / F_GET_SEALS (memfd objects only; EINVAL for anything else).
    pub fn shm_seals(&mut self, me: usize, fd: usize, cmd: usize, arg: usize) -> R {
        let f = self.open_of(me, fd)?;
        let Node::Shm(obj) = f.file.node else {
            return Err(Errno::EINVAL);
        };
        if self.objs.obj(obj).kind != ObjKind::Memfd {
            return Err(Errno::EINVAL);
        }
        if cmd == F_GET_SEALS {
            return Ok(self.objs.obj(obj).seals as isize);
        }
        let add = u32::try_from(arg).map_err(|_| Errno::EINVAL)?;
        let all = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
        if add & !all != 0 {
            return Err(Errno::EINVAL);
        }
        if !f.file.writable() {
            return Err(Errno::EPERM);
        }
        if self.objs.obj(obj).seals & F_SEAL_SEAL != 0 {
            return Err(Errno::EPERM);
        }
        if add & F_SEAL_WRITE != 0 && self.obj_writably_mapped(obj) {
            return Err(Errno::EBUSY);
        }
        self.objs.obj_mut(obj).seals |= add;
        Ok(0)
    }

    /// Whether some process maps the object shared and writable (F_SEAL_WRITE is EBUSY then).
    fn obj_writably_mapped(&self, obj: u16) -> bool {
        self.tasks.iter().flatten().any(|t| {
            t.regions.iter().any(|r| {
                matches!(r.kind, Kind::Obj { obj: o, .. } if o == obj)
                    && r.max() & abi::mman::PROT_WRITE != 0
            })
        })
    }

    /// Permission bits of object `obj` against the caller (root passes); `req` is rwx bits.
    fn obj_may(&self, me: usize, obj: u16, req: u32) -> Result<(), Errno> {
        let t = self.task(me);
        if t.uid == 0 {
            return Ok(());
        }
        let o = self.objs.obj(obj);
        let granted = if t.uid == o.uid {
            o.mode >> 6
        } else if t.gid == o.gid {
            o.mode >> 3
        } else {
            o.mode
        };
        if req & !granted & 7 != 0 {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    /// The seals allow a size change to `size`.
    fn obj_seal_check(&self, obj: u16, size: u64) -> Result<(), Errno> {
        let o = self.objs.obj(obj);
        if (size < o.size && o.seals & F_SEAL_SHRINK != 0)
            || (size > o.size && o.seals & F_SEAL_GROW != 0)
        {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// Resize object `obj` to `size` bytes for task `me`: a shrink is immediate; a growth
    /// allocates and zeroes its pages in steps (as kernel work, which waits behind another
    /// resize), then maps them into the mappings that reach them. `rerun`: the call runs
    /// again afterwards (a write that grows), else it returns 0.
    pub(crate) fn obj_resize(&mut self, me: usize, obj: u16, size: u64, rerun: bool) -> Option<R> {
        let o = self.objs.obj(obj);
        if o.busy_growing() {
            return self.wait_on(WaitId::ObjBusy(obj), None);
        }
        if size > SHM_OBJ_MAX {
            return Some(Err(Errno::EFBIG));
        }
        if let Err(e) = self.obj_seal_check(obj, size) {
            return Some(Err(e));
        }
        let want = (size as usize).div_ceil(PAGE_SIZE);
        if want <= o.npages() {
            self.obj_set_size(obj, size);
            return self.after_reclaim(me, Ok(0)).map(|r| r.map(|_| 0));
        }
        if let Err(e) = self.objs.obj_mut(obj).grow_to(want) {
            return Some(Err(e));
        }
        self.obj_grow_step(me, obj, size, rerun)
    }

    /// One step of a growth (see `obj_resize`).
    pub(crate) fn obj_grow_step(
        &mut self,
        me: usize,
        obj: u16,
        size: u64,
        rerun: bool,
    ) -> Option<R> {
        match self.obj_fill(obj, crate::work::STEP_ZERO) {
            Ok(false) => {
                self.task_mut(me).work = Some(crate::work::Work::Grow { obj, size, rerun });
                None
            }
            Ok(true) => {
                self.obj_set_size(obj, size);
                self.wake_all(WaitId::ObjBusy(obj));
                let _ = rerun; // the work step runs the call again (see `work_step`)
                Some(Ok(0))
            }
            Err(e) => {
                self.obj_grow_abort(obj);
                self.after_reclaim(me, Err(e))
            }
        }
    }

    /// Set the size of `obj` (its pages are there for it): bytes past the old end in its
    /// last page are zeroed (a mapping may have written there), pages past the new end go,
    /// and every mapping of the object sees the change (new pages mapped; pages gone
    /// unmapped, so that a later touch is SIGBUS).
    pub(crate) fn obj_set_size(&mut self, obj: u16, size: u64) {
        let now = self.wall_seconds();
        let o = self.objs.obj_mut(obj);
        let old = o.size;
        // The pages the old size had (a growth has already added its own to the object).
        let old_np = (old as usize).div_ceil(PAGE_SIZE);
        let new_np = (size as usize).div_ceil(PAGE_SIZE);
        // The tail of the page holding the lower of the two ends: zero in the object.
        let low = old.min(size) as usize;
        if !low.is_multiple_of(PAGE_SIZE) && low / PAGE_SIZE < old_np {
            let pa = o.pages()[low / PAGE_SIZE];
            let zeros = [0u8; PAGE_SIZE];
            write_phys(pa + low % PAGE_SIZE, &zeros[..PAGE_SIZE - low % PAGE_SIZE]);
        }
        o.size = size;
        o.mtime = now;
        o.ctime = now;
        if new_np == old_np {
            return;
        }
        // Every mapping of the object, in every process that is not tearing itself down.
        for t in 0..crate::task::MAX_TASKS {
            if self.tasks[t].is_none() || self.is_exiting(t) {
                continue;
            }
            // By index, not a copy of the list: mapping does not change it.
            for i in 0..self.task(t).regions.len() {
                let r = self.task(t).regions[i];
                let Kind::Obj { obj: o, off, .. } = r.kind else {
                    continue;
                };
                if o != obj {
                    continue;
                }
                let lo = old_np.min(new_np).max(off);
                let hi = old_np.max(new_np).min(off + self.region_mapped(t, &r));
                if lo >= hi {
                    continue;
                }
                if new_np > old_np {
                    let _ = self.region_map_pages(t, &r, lo - off, hi - lo);
                } else {
                    let env = self.task(t).env;
                    self.arch
                        .up_shmdt(&env, &mut self.pg, r.va + (lo - off) * PAGE_SIZE, hi - lo);
                }
            }
        }
        if new_np < old_np {
            self.obj_shrink(obj, new_np);
        }
    }

    /// What fstat says about an object.
    pub(crate) fn obj_stat(&self, obj: u16) -> Stat {
        let o = self.objs.obj(obj);
        Stat {
            st_dev: crate::fs::namespace::DEV_PSEUDO,
            st_ino: crate::fs::namespace::Vnode::ShmName(obj).ino(),
            st_mode: S_IFREG | o.mode,
            st_nlink: o.named as u32,
            st_uid: o.uid,
            st_gid: o.gid,
            st_size: o.size as i64,
            st_blksize: PAGE_SIZE as i32,
            st_blocks: (o.npages() * PAGE_SIZE / 512) as i64,
            st_atime: o.mtime,
            st_mtime: o.mtime,
            st_ctime: o.ctime,
            ..Stat::default()
        }
    }

    /// Copy between an object's bytes [at, at + len) and user memory at `buf`.
    fn obj_copy(
        &mut self,
        me: usize,
        obj: u16,
        at: usize,
        buf: usize,
        len: usize,
        write: bool,
    ) -> Result<(), Errno> {
        let env = self.task(me).env;
        let mut chunk = [0u8; 512];
        let mut done = 0;
        while done < len {
            let pos = at + done;
            let n = (len - done)
                .min(chunk.len())
                .min(PAGE_SIZE - pos % PAGE_SIZE);
            let pa = self.objs.obj(obj).pages()[pos / PAGE_SIZE] + pos % PAGE_SIZE;
            if write {
                uaccess::copy_in(self.arch, &env, buf + done, &mut chunk[..n])?;
                write_phys(pa, &chunk[..n]);
            } else {
                read_phys(pa, &mut chunk[..n]);
                uaccess::copy_out(self.arch, &env, buf + done, &chunk[..n])?;
            }
            done += n;
        }
        Ok(())
    }
}

/// rwx bits an access mode needs.
fn acc_bits(acc: u32) -> u32 {
    match acc {
        O_RDONLY => 4,
        O_WRONLY => 2,
        _ => 6,
    }
}

/// The operations of a descriptor open on a shared-memory object.
pub struct ShmOps;

fn obj_of(f: Open) -> u16 {
    match f.file.node {
        Node::Shm(o) => o,
        _ => unreachable!("ShmOps serves objects"),
    }
}

impl FileOps for ShmOps {
    fn read(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        let obj = obj_of(f);
        let size = k.objs.obj(obj).size;
        let at = io.at.unwrap_or(f.file.offset);
        if at >= size {
            return Some(Ok(0));
        }
        let n = io.len.min(RW_MAX).min((size - at) as usize);
        if let Err(e) = k.obj_copy(me, obj, at as usize, io.buf, n, false) {
            return Some(Err(e));
        }
        if io.at.is_none() {
            k.file_advance(f.id, n);
        }
        Some(Ok(n as isize))
    }

    fn write(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        let obj = obj_of(f);
        let o = k.objs.obj(obj);
        if o.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
            return Some(Err(Errno::EPERM));
        }
        let at = match io.at {
            Some(a) => a,
            None if f.file.flags & O_APPEND != 0 => o.size,
            None => f.file.offset,
        };
        let mut n = io.len.min(RW_MAX) as u64;
        if n == 0 {
            return Some(Ok(0));
        }
        let end = at.saturating_add(n);
        if end > o.size {
            if o.kind == ObjKind::Shmem {
                // Its size is fixed by the first mmap: never grown by a write.
                if at >= o.size {
                    return Some(Err(Errno::ENOSPC));
                }
                n = o.size - at;
            } else {
                // Grown first: at once, or in steps after which the write runs again.
                match k.obj_resize(me, obj, end, true) {
                    Some(Ok(_)) => {}
                    r => return r,
                }
            }
        }
        if let Err(e) = k.obj_copy(me, obj, at as usize, io.buf, n as usize, true) {
            return Some(Err(e));
        }
        let now = k.wall_seconds();
        k.objs.obj_mut(obj).mtime = now;
        if io.at.is_none() {
            let id = f.id;
            if let Some(file) = k.files.get(id).copied() {
                let moved = at + n - file.offset;
                k.file_advance(id, moved as usize);
            }
        }
        Some(Ok(n as isize))
    }

    fn seek(&self, k: &Kernel, f: Open, off: i64, whence: usize) -> Result<u64, Errno> {
        seek_in(f, off, whence, k.objs.obj(obj_of(f)).size)
    }

    fn stat(&self, k: &Kernel, f: Open) -> Stat {
        k.obj_stat(obj_of(f))
    }

    fn truncate(&self, _k: &mut Kernel, _f: Open, _len: u64) -> R {
        // Reached only through `shm_truncate` (it may wait); see `Kernel::sys_ftruncate`.
        Err(Errno::EINVAL)
    }

    fn mmap(&self, _k: &Kernel, f: Open) -> Result<MapSource, Errno> {
        Ok(MapSource::Object(obj_of(f)))
    }

    fn close(&self, k: &mut Kernel, node: Node) {
        if let Node::Shm(o) = node {
            k.obj_unref(o);
        }
    }
}

impl Kernel {
    /// ftruncate on an object descriptor: `/dev/shmem/new` objects cannot be resized.
    pub(crate) fn shm_truncate(&mut self, me: usize, f: Open, len: u64) -> Option<R> {
        let obj = obj_of(f);
        if self.objs.obj(obj).kind == ObjKind::Shmem {
            return Some(Err(Errno::EINVAL));
        }
        self.obj_resize(me, obj, len, false)
    }
}
