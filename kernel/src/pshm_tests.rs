//! POSIX shared memory, SHM_ANON, memfd_create and `/dev/shmem/new` against the fake
//! architecture, case by case from `../shared/conformance/posix-shm.md` (ids in the names
//! and comments).

use crate::mmap_tests::{err, P};
use crate::tests::{Sys, SCRATCH};
use abi::fcntl::*;
use abi::mman::*;
use abi::stat::{Stat, S_IFREG};
use abi::sys::nr;
use abi::Errno;
use std::string::String;
use std::vec::Vec;

/// Where tests keep names and a `stat` in user memory.
const NAME: usize = SCRATCH + 2048;
const ST: usize = SCRATCH + 1024;
const BUF: usize = SCRATCH + 3000;

impl Sys {
    pub(crate) fn cstr(&self, at: usize, s: &str) {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        self.put(at, &v);
    }
    pub(crate) fn shm_open(&mut self, name: &str, flags: u32, mode: u32) -> i64 {
        self.cstr(NAME, name);
        self.call(nr::SHM_OPEN, &[NAME, flags as usize, mode as usize])
    }
    fn shm_anon(&mut self, flags: u32) -> i64 {
        self.call(nr::SHM_OPEN, &[SHM_ANON, flags as usize, 0o600])
    }
    pub(crate) fn shm_unlink(&mut self, name: &str) -> i64 {
        self.cstr(NAME, name);
        self.call(nr::SHM_UNLINK, &[NAME])
    }
    pub(crate) fn open(&mut self, path: &str, flags: u32) -> i64 {
        self.cstr(NAME, path);
        self.call(
            nr::OPENAT,
            &[AT_FDCWD as usize, NAME, flags as usize, 0o644],
        )
    }
    pub(crate) fn ftruncate(&mut self, fd: i64, len: i64) -> i64 {
        self.call(nr::FTRUNCATE, &[fd as usize, len as usize])
    }
    pub(crate) fn fstat(&mut self, fd: i64) -> Stat {
        assert_eq!(self.call(nr::FSTAT, &[fd as usize, ST]), 0);
        self.get(ST)
    }
    pub(crate) fn map(&mut self, fd: i64, len: usize, prot: u32, flags: u32, off: usize) -> i64 {
        self.mmap(0, len, prot, flags, fd, off)
    }
    pub(crate) fn close(&mut self, fd: i64) -> i64 {
        self.call(nr::CLOSE, &[fd as usize])
    }
    fn files_used(&self) -> usize {
        self.k.files.used()
    }
    /// Run `f` in a child process and return how it ended (wait status).
    fn in_child(&mut self, f: impl FnOnce(&mut Sys)) -> i32 {
        let parent = self.cur_pid().unwrap();
        let child = self.spawn_call("prog") as i32;
        self.switch_to(child);
        f(self);
        if self.cur_pid() == Some(child) {
            self.call(nr::EXIT, &[0]);
        }
        self.settle();
        self.switch_to(parent);
        assert_eq!(
            self.call(nr::WAIT4, &[child as usize, SCRATCH, 0, 0]),
            child as i64
        );
        self.get::<i32>(SCRATCH)
    }
}

const RW: u32 = PROT_READ | PROT_WRITE;

#[test]
fn po_open_create_and_find() {
    let mut s = Sys::proc1();
    // PO-01, PO-02, PO-03: lowest descriptor, FD_CLOEXEC, size 0.
    let fd = s.shm_open("/t", O_RDWR | O_CREAT, 0o600);
    assert_eq!(fd, 3);
    assert_eq!(s.call(nr::FCNTL, &[3, F_GETFD, 0]), FD_CLOEXEC as i64);
    assert_eq!(s.fstat(fd).st_size, 0);
    // PO-05: opening again finds the same object, mode unchanged.
    assert_eq!(s.ftruncate(fd, 100), 0);
    let fd2 = s.shm_open("/t", O_RDWR | O_CREAT, 0o777);
    assert_eq!(s.fstat(fd2).st_size, 100);
    assert_eq!(s.fstat(fd2).st_mode, S_IFREG | 0o600);
    assert_eq!(s.fstat(fd2).st_ino, s.fstat(fd).st_ino);
    // PO-06, PO-08, PO-17.
    assert_eq!(
        s.shm_open("/t", O_RDONLY | O_CREAT | O_EXCL, 0o600),
        err(Errno::EEXIST)
    );
    assert_eq!(s.shm_open("/nope", O_RDONLY, 0), err(Errno::ENOENT));
    assert_eq!(s.shm_open("/nope", O_RDWR | O_EXCL, 0), err(Errno::ENOENT));
    // PO-11: the umask applies (022 by default).
    let u = s.shm_open("/u", O_RDWR | O_CREAT, 0o666);
    assert_eq!(s.fstat(u).st_mode & 0o777, 0o644);
    // PO-13: O_TRUNC empties, mode and owner stay.
    let t = s.shm_open("/t", O_RDWR | O_TRUNC, 0o777);
    assert_eq!(s.fstat(t).st_size, 0);
    assert_eq!(s.fstat(t).st_mode & 0o777, 0o600);
    // PO-32: a freed low number is reused.
    s.close(fd);
    assert_eq!(s.shm_open("/t", O_RDWR, 0), 3);
}

#[test]
fn po_flags_and_names() {
    let mut s = Sys::proc1();
    let files = s.files_used();
    // PO-16, PO-18, PO-19 (project choices): EINVAL.
    assert_eq!(
        s.shm_open("/a", O_RDONLY | O_TRUNC | O_CREAT, 0o600),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.shm_open("/a", O_WRONLY | O_CREAT, 0o600),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.shm_open("/a", O_RDWR | O_CREAT | O_APPEND, 0o600),
        err(Errno::EINVAL)
    );
    // PO-21..24: a leading slash, no other, not . or ..
    for bad in ["t", "/", "//", "", "/a/b", "/.", "/.."] {
        assert_eq!(
            s.shm_open(bad, O_RDWR | O_CREAT, 0o600),
            err(Errno::EINVAL),
            "{bad:?}"
        );
    }
    // PO-26, PO-28: the NAME_MAX boundary.
    let long = std::format!("/{}", "a".repeat(256));
    assert_eq!(
        s.shm_open(&long, O_RDWR | O_CREAT, 0o600),
        err(Errno::ENAMETOOLONG)
    );
    let max = std::format!("/{}", "a".repeat(255));
    assert!(s.shm_open(&max, O_RDWR | O_CREAT, 0o600) >= 0);
    // PO-25: odd bytes are fine as names.
    assert!(s.shm_open("/$#@,~}", O_RDWR | O_CREAT, 0o600) >= 0);
    // PO-33: a bad pointer is EFAULT, never a crash.
    assert_eq!(
        s.call(nr::SHM_OPEN, &[0, O_RDWR as usize, 0]),
        err(Errno::EFAULT)
    );
    assert_eq!(
        s.call(nr::SHM_OPEN, &[0xdead_0000, O_RDWR as usize, 0]),
        err(Errno::EFAULT)
    );
    assert_eq!(
        s.files_used(),
        files + 2,
        "only the two successes hold descriptions"
    );
}

#[test]
fn po_29_descriptor_table_full_is_emfile_with_nothing_made() {
    let mut s = Sys::proc1();
    while s.call(nr::DUP, &[0]) >= 0 {}
    assert_eq!(
        s.shm_open("/x", O_RDWR | O_CREAT, 0o600),
        err(Errno::EMFILE)
    );
    assert_eq!(s.k.shm_names.len(), 0);
    assert_eq!(s.k.objs.used(), 0);
}

#[test]
fn po_04_pu_two_processes_share_and_unlink_keeps_what_is_referenced() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let fd = s.shm_open("/t", O_RDWR | O_CREAT, 0o600);
    assert_eq!(s.ftruncate(fd, 8), 0);
    let p = s.map(fd, P, RW, MAP_SHARED, 0) as usize;
    s.put(p, b"hello\0\0\0");
    // PO-04: another process opens it read-only, maps it at its own address.
    let st = s.in_child(|c| {
        let fd = c.shm_open("/t", O_RDONLY, 0);
        let q = c.map(fd, P, PROT_READ, MAP_SHARED, 0) as usize;
        assert_eq!(c.get::<u64>(q), u64::from_le_bytes(*b"hello\0\0\0"));
        // PM-11: no writable shared mapping through a read-only descriptor.
        assert_eq!(c.map(fd, P, RW, MAP_SHARED, 0), err(Errno::EACCES));
        // PM-03: a private writable copy is fine and stays private.
        let r = c.map(fd, P, RW, MAP_PRIVATE, 0) as usize;
        c.put(r, b"X");
        c.call(nr::EXIT, &[7]);
    });
    assert_eq!(abi::sys::wexitstatus(st), 7);
    assert_eq!(
        s.get::<u8>(p),
        b'h',
        "the private copy's write did not show"
    );
    // PU-02, PU-03: the name goes at once; the descriptor still maps the old data.
    assert_eq!(s.shm_unlink("/t"), 0);
    assert_eq!(s.shm_open("/t", O_RDWR, 0), err(Errno::ENOENT));
    let q = s.map(fd, 8, PROT_READ, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u8>(q), b'h');
    // PU-05: a new object under the old name is independent.
    let n = s.shm_open("/t", O_RDWR | O_CREAT | O_EXCL, 0o600);
    assert_eq!(s.ftruncate(n, 8), 0);
    let m = s.map(n, 8, PROT_READ, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u64>(m), 0);
    // PU-06, PU-07.
    assert_eq!(s.shm_unlink("/t"), 0);
    assert_eq!(s.shm_unlink("/t"), err(Errno::ENOENT));
    // PU-11: the memory goes after the last of mapping and descriptor.
    s.close(fd);
    s.close(n);
    assert!(s.free_pages() < free);
    s.munmap(p, P);
    s.munmap(q, P);
    s.munmap(m, P);
    assert_eq!(s.free_pages(), free, "all back");
    assert_eq!(s.k.objs.used(), 0);
}

#[test]
fn pt_ftruncate_grows_shrinks_and_sigbus() {
    let mut s = Sys::proc1();
    let fd = s.shm_open("/t", O_RDWR | O_CREAT, 0o600);
    // PT-01: zero-filled.
    assert_eq!(s.ftruncate(fd, 10000), 0);
    assert_eq!(s.fstat(fd).st_size, 10000);
    let p = s.map(fd, 3 * P, RW, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u64>(p + 9990), 0);
    // PT-02: shrink then grow: the cut bytes read as zero.
    s.put(p + 5000, &[1; 8]);
    assert_eq!(s.ftruncate(fd, 4000), 0);
    assert_eq!(s.ftruncate(fd, 10000), 0);
    assert_eq!(s.get::<u64>(p + 5000), 0);
    // PT-03: a page past the new end is gone from the mapping: SIGBUS on touch.
    assert_eq!(s.ftruncate(fd, P as i64), 0);
    assert!(!s.access(p + P, crate::up::Access::Read));
    let cur = s.k.current.unwrap();
    assert_eq!(
        s.k.fault_signal(cur, p + P, abi::sys::SIGSEGV),
        abi::sys::SIGBUS
    );
    assert_eq!(
        s.k.fault_signal(cur, p, abi::sys::SIGSEGV),
        abi::sys::SIGSEGV
    );
    // Growing maps the new pages into the existing mapping (data kept: PT-07).
    s.put(p, &[9]);
    assert_eq!(s.ftruncate(fd, 3 * P as i64), 0);
    assert!(s.access(p + 2 * P, crate::up::Access::Write));
    assert_eq!(s.get::<u8>(p), 9);
    // PT-04, PT-06, PT-09.
    assert_eq!(s.ftruncate(fd, -1), err(Errno::EINVAL));
    assert_eq!(s.ftruncate(fd, 0), 0);
    assert_eq!(s.ftruncate(77, 8), err(Errno::EBADF));
    // PT-05: a read-only descriptor.
    let ro = s.shm_open("/t", O_RDONLY, 0);
    assert_eq!(s.ftruncate(ro, 8), err(Errno::EINVAL));
    // PT-08: past the per-object limit, EFBIG with the size unchanged.
    assert_eq!(s.ftruncate(fd, 1 << 40), err(Errno::EFBIG));
    assert_eq!(s.fstat(fd).st_size, 0);
    // Out of memory: ENOMEM, size unchanged, nothing kept.
    let free = s.free_pages();
    assert_eq!(
        s.ftruncate(fd, ((free + 10) * P) as i64),
        err(Errno::ENOMEM)
    );
    assert_eq!(s.fstat(fd).st_size, 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn pm_object_mappings_short_objects_offsets_and_aliases() {
    let mut s = Sys::proc1();
    let fd = s.shm_open("/m", O_RDWR | O_CREAT, 0o600);
    // PM-06: a zero-size object maps; every page is past the end.
    let z = s.map(fd, P, PROT_READ, MAP_SHARED, 0) as usize;
    let cur = s.k.current.unwrap();
    assert_eq!(
        s.k.fault_signal(cur, z, abi::sys::SIGSEGV),
        abi::sys::SIGBUS
    );
    // PM-04: half a page: the page maps, the next one is SIGBUS.
    assert_eq!(s.ftruncate(fd, (P / 2) as i64), 0);
    let h = s.map(fd, 2 * P, PROT_READ, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u64>(h + P / 2), 0);
    assert_eq!(
        s.k.fault_signal(cur, h + P, abi::sys::SIGSEGV),
        abi::sys::SIGBUS
    );
    // The zero-size mapping now has its page too (mappings follow the size).
    assert!(s.access(z, crate::up::Access::Read));
    // PM-17, PM-18: an offset; two mappings alias.
    assert_eq!(s.ftruncate(fd, 3 * P as i64), 0);
    let a = s.map(fd, 3 * P, RW, MAP_SHARED, 0) as usize;
    let b = s.map(fd, 2 * P, RW, MAP_SHARED, P) as usize;
    s.put(a + P + 5, &[42]);
    assert_eq!(s.get::<u8>(b + 5), 42);
    // PM-14: closing the descriptor keeps the mapping.
    s.close(fd);
    s.put(b, &[1]);
    assert_eq!(s.get::<u8>(a + P), 1);
    // PM-19: after munmap the address is gone.
    assert_eq!(s.munmap(a, 3 * P), 0);
    assert!(!s.access(a, crate::up::Access::Read));
}

#[test]
fn pm_12_readonly_mapping_refuses_writes_and_pf_fstat() {
    let mut s = Sys::proc1();
    let fd = s.shm_open("/r", O_RDWR | O_CREAT, 0o640);
    assert_eq!(s.ftruncate(fd, 8192), 0);
    let p = s.map(fd, P, PROT_READ, MAP_SHARED, 0) as usize;
    assert!(s.access(p, crate::up::Access::Read));
    assert!(!s.access(p, crate::up::Access::Write));
    // PF-01: size, mode, owner; a regular file.
    let st = s.fstat(fd);
    assert_eq!(st.st_size, 8192);
    assert_eq!(st.st_mode, S_IFREG | 0o640);
    assert_eq!((st.st_uid, st.st_gid), (0, 0));
    // PF-03: close twice.
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.close(fd), err(Errno::EBADF));
    // PF-04, PO-31: the name keeps the object and its data.
    let again = s.shm_open("/r", O_RDWR, 0);
    assert_eq!(s.fstat(again).st_size, 8192);
}

#[test]
fn dev_shm_is_the_same_namespace_with_read_write_and_lseek() {
    let mut s = Sys::proc1();
    // open(2) with O_CREAT in /dev/shm makes a name shm_open finds; no FD_CLOEXEC.
    let fd = s.open("/dev/shm/log", O_WRONLY | O_CREAT | O_TRUNC);
    assert!(fd >= 0);
    assert_eq!(s.call(nr::FCNTL, &[fd as usize, F_GETFD, 0]), 0);
    s.put(BUF, b"hello world");
    assert_eq!(
        s.call(nr::WRITE, &[fd as usize, BUF, 11]),
        11,
        "a write grows it"
    );
    let sfd = s.shm_open("/log", O_RDONLY, 0);
    assert_eq!(s.fstat(sfd).st_size, 11);
    assert_eq!(s.call(nr::READ, &[sfd as usize, BUF + 100, 64]), 11);
    assert_eq!(s.get::<u8>(BUF + 106), b'w');
    assert_eq!(
        s.call(nr::READ, &[sfd as usize, BUF + 100, 64]),
        0,
        "end of file"
    );
    // lseek and O_APPEND.
    assert_eq!(s.call(nr::LSEEK, &[sfd as usize, 6, SEEK_SET]), 6);
    assert_eq!(s.call(nr::READ, &[sfd as usize, BUF + 200, 5]), 5);
    let a = s.open("/dev/shm/log", O_WRONLY | O_APPEND);
    assert_eq!(s.call(nr::WRITE, &[a as usize, BUF, 5]), 5);
    assert_eq!(s.fstat(a).st_size, 16);
    // A write far past the end zero-fills the hole.
    assert_eq!(s.call(nr::PWRITE64, &[a as usize, BUF, 1, 3 * P]), 1);
    assert_eq!(s.fstat(a).st_size, 3 * P as i64 + 1);
    // stat by path, and the directory lists it.
    assert_eq!(s.call(nr::NEWFSTATAT, &[AT_FDCWD as usize, NAME, ST, 0]), 0);
    assert_eq!(s.get::<Stat>(ST).st_size, 3 * P as i64 + 1);
    let names: std::vec::Vec<_> = (0..)
        .map_while(|i| crate::fs::namespace::Vnode::DevShm.entry(&s.k.ns(), i))
        .map(|(n, _)| n)
        .collect();
    assert_eq!(names, [".", "..", "log"]);
    // unlink through the file layer is shm_unlink.
    s.cstr(NAME, "/dev/shm/log");
    assert_eq!(s.call(nr::UNLINKAT, &[AT_FDCWD as usize, NAME, 0]), 0);
    assert_eq!(s.shm_open("/log", O_RDONLY, 0), err(Errno::ENOENT));
}

#[test]
fn pa_shm_anon_objects() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    // PA-01, PA-04: FD_CLOEXEC, size 0; other flags ignored.
    let a = s.shm_anon(O_RDWR | O_CREAT);
    assert_eq!(
        s.call(nr::FCNTL, &[a as usize, F_GETFD, 0]),
        FD_CLOEXEC as i64
    );
    assert_eq!(s.fstat(a).st_size, 0);
    let b = s.shm_anon(O_RDWR | O_CREAT | O_EXCL | O_TRUNC);
    assert!(b >= 0);
    let c = s.shm_anon(O_RDWR);
    assert!(c >= 0);
    // PA-03, PA-05.
    assert_eq!(s.shm_anon(O_RDONLY), err(Errno::EINVAL));
    assert_eq!(s.call(nr::SHM_UNLINK, &[SHM_ANON]), err(Errno::EINVAL));
    // PA-02: distinct objects.
    s.ftruncate(a, P as i64);
    s.ftruncate(b, P as i64);
    let pa = s.map(a, P, RW, MAP_SHARED, 0) as usize;
    let pb = s.map(b, P, RW, MAP_SHARED, 0) as usize;
    s.put(pa, &[5]);
    assert_eq!(s.get::<u8>(pb), 0);
    // PA-06: no name anywhere.
    assert!(s.k.shm_names.is_empty());
    // PA-09, PA-08: close keeps the mapping; munmap then frees it all.
    for fd in [a, b, c] {
        s.close(fd);
    }
    assert_eq!(s.get::<u8>(pa), 5);
    s.munmap(pa, P);
    s.munmap(pb, P);
    assert_eq!(s.free_pages(), free);
    for _ in 0..40 {
        let fd = s.shm_anon(O_RDWR);
        assert_eq!(s.ftruncate(fd, 1 << 20), 0);
        let p = s.map(fd, 1 << 20, RW, MAP_SHARED, 0) as usize;
        s.munmap(p, 1 << 20);
        s.close(fd);
    }
    assert_eq!(s.free_pages(), free, "garbage-collected every time");
}

#[test]
fn memfd_create_and_seals_as_linux() {
    let mut s = Sys::proc1();
    s.cstr(NAME, "buf");
    let fd = s.call(
        nr::MEMFD_CREATE,
        &[NAME, (MFD_CLOEXEC | MFD_ALLOW_SEALING) as usize],
    );
    assert!(fd >= 0);
    assert_eq!(
        s.call(nr::FCNTL, &[fd as usize, F_GETFD, 0]),
        FD_CLOEXEC as i64
    );
    assert_eq!(s.call(nr::FCNTL, &[fd as usize, F_GET_SEALS, 0]), 0);
    assert_eq!(s.ftruncate(fd, 2 * P as i64), 0);
    // F_SEAL_WRITE is refused while a shared writable mapping exists.
    let p = s.map(fd, P, RW, MAP_SHARED, 0) as usize;
    assert_eq!(
        s.call(
            nr::FCNTL,
            &[fd as usize, F_ADD_SEALS, F_SEAL_WRITE as usize]
        ),
        err(Errno::EBUSY)
    );
    s.munmap(p, P);
    let seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE;
    assert_eq!(
        s.call(nr::FCNTL, &[fd as usize, F_ADD_SEALS, seals as usize]),
        0
    );
    assert_eq!(
        s.call(nr::FCNTL, &[fd as usize, F_GET_SEALS, 0]),
        seals as i64
    );
    assert_eq!(s.ftruncate(fd, P as i64), err(Errno::EPERM));
    assert_eq!(s.ftruncate(fd, 4 * P as i64), err(Errno::EPERM));
    assert_eq!(s.call(nr::WRITE, &[fd as usize, BUF, 1]), err(Errno::EPERM));
    assert_eq!(s.map(fd, P, RW, MAP_SHARED, 0), err(Errno::EPERM));
    assert!(
        s.map(fd, P, PROT_READ, MAP_SHARED, 0) > 0,
        "read-only is fine"
    );
    assert!(s.map(fd, P, RW, MAP_PRIVATE, 0) > 0, "a private copy too");
    // F_SEAL_SEAL ends sealing.
    assert_eq!(
        s.call(nr::FCNTL, &[fd as usize, F_ADD_SEALS, F_SEAL_SEAL as usize]),
        0
    );
    assert_eq!(
        s.call(nr::FCNTL, &[fd as usize, F_ADD_SEALS, F_SEAL_GROW as usize]),
        err(Errno::EPERM)
    );
    // Without MFD_ALLOW_SEALING the object starts sealed against sealing.
    let g = s.call(nr::MEMFD_CREATE, &[NAME, 0]);
    assert_eq!(
        s.call(nr::FCNTL, &[g as usize, F_GET_SEALS, 0]),
        F_SEAL_SEAL as i64
    );
    assert_eq!(s.call(nr::FCNTL, &[g as usize, F_GETFD, 0]), 0);
    // Bad flags and names; seals on something else.
    assert_eq!(s.call(nr::MEMFD_CREATE, &[NAME, 8]), err(Errno::EINVAL));
    s.cstr(NAME, &"n".repeat(250));
    assert_eq!(s.call(nr::MEMFD_CREATE, &[NAME, 0]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::FCNTL, &[0, F_GET_SEALS, 0]), err(Errno::EINVAL));
    let a = s.shm_anon(O_RDWR);
    assert_eq!(
        s.call(nr::FCNTL, &[a as usize, F_GET_SEALS, 0]),
        err(Errno::EINVAL)
    );
}

#[test]
fn dn_dev_shmem_new() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    // DN-01, DN-02: every open is a new, unsized object.
    let f1 = s.open("/dev/shmem/new", O_RDWR);
    let f2 = s.open("/dev/shmem/new", O_RDWR);
    assert!(f1 >= 0 && f2 >= 0);
    assert_eq!(s.fstat(f1).st_size, 0);
    // DN-04, DN-05: a zero length or an offset leaves it unsized.
    assert_eq!(s.map(f1, 0, RW, MAP_SHARED, 0), err(Errno::EINVAL));
    assert_eq!(s.map(f1, P, RW, MAP_SHARED, P), err(Errno::EINVAL));
    // DN-18: PROT_READ is needed.
    assert_eq!(s.map(f1, P, PROT_WRITE, MAP_SHARED, 0), err(Errno::EINVAL));
    // DN-03, DN-13: the first mmap fixes the size (rounded up), zero-filled.
    let a = s.map(f1, 3 * P + 1, RW, MAP_SHARED, 0) as usize;
    assert_eq!(s.fstat(f1).st_size, 4 * P as i64);
    assert_eq!(s.get::<u64>(a + 4 * P - 8), 0);
    let b2 = s.map(f2, P, RW, MAP_SHARED, 0) as usize;
    s.put(a, &[3]);
    assert_eq!(s.get::<u8>(b2), 0, "distinct objects");
    // DN-06, DN-08, DN-10: later mmaps map the same pages, no new ones.
    let used = s.free_pages();
    let b = s.map(f1, 4 * P, RW, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u8>(b), 3);
    let c = s.map(f1, P, RW, MAP_SHARED, 2 * P) as usize;
    s.put(a + 2 * P, &[8]);
    assert_eq!(s.get::<u8>(c), 8);
    assert_eq!(s.free_pages(), used, "no pages for later mappings");
    // DN-09, DN-11 (project choices): ENXIO past the size; EINVAL unaligned.
    assert_eq!(s.map(f1, 6 * P, RW, MAP_SHARED, 0), err(Errno::ENXIO));
    assert_eq!(s.map(f1, P, RW, MAP_SHARED, 4 * P), err(Errno::ENXIO));
    assert_eq!(s.map(f1, P, RW, MAP_SHARED, 100), err(Errno::EINVAL));
    assert_eq!(s.fstat(f1).st_size, 4 * P as i64, "never grown");
    // DN-17: ftruncate is EINVAL; read and write stay inside the size.
    assert_eq!(s.ftruncate(f1, 8 * P as i64), err(Errno::EINVAL));
    assert_eq!(s.call(nr::PREAD64, &[f1 as usize, BUF, 1, 2 * P]), 1);
    assert_eq!(s.get::<u8>(BUF), 8);
    assert_eq!(
        s.call(nr::PWRITE64, &[f1 as usize, BUF, 1, 4 * P]),
        err(Errno::ENOSPC)
    );
    // DN-12: a first mmap too big for memory fails and leaves it unsized.
    let f3 = s.open("/dev/shmem/new", O_RDWR);
    let too_big = (s.free_pages() + 16) * P;
    assert_eq!(s.map(f3, too_big, RW, MAP_SHARED, 0), err(Errno::ENOMEM));
    assert_eq!(s.fstat(f3).st_size, 0);
    assert!(
        s.map(f3, P, RW, MAP_SHARED, 0) > 0,
        "a smaller one then works"
    );
    // DN-14, DN-15: mappings outlive the descriptor; the last reference frees.
    for fd in [f1, f2, f3] {
        s.close(fd);
    }
    assert_eq!(s.get::<u8>(b), 3);
    let task = s.k.current.unwrap();
    let regions: std::vec::Vec<_> = s.k.task(task).regions.iter().copied().collect();
    for r in regions {
        if matches!(r.kind, crate::mm::vm::Kind::Obj { .. }) {
            s.munmap(r.va, r.npages() * P);
        }
    }
    assert_eq!(s.free_pages(), free);
    assert_eq!(s.k.objs.used(), 0);
}

#[test]
fn a_spawned_child_inherits_an_object_descriptor_pa_07() {
    let mut s = Sys::proc1();
    let fd = s.shm_anon(O_RDWR);
    s.ftruncate(fd, P as i64);
    let p = s.map(fd, P, RW, MAP_SHARED, 0) as usize;
    // Without FD_CLOEXEC it is inherited; the child writes through its own mapping.
    s.call(nr::FCNTL, &[fd as usize, F_SETFD, 0]);
    s.in_child(|c| {
        let q = c.map(fd, P, RW, MAP_SHARED, 0);
        assert!(q > 0, "inherited: {q}");
        c.put(q as usize, &[77]);
    });
    assert_eq!(s.get::<u8>(p), 77);
}

// Handing a descriptor to a running process: share(fd, timeout) -> key, claim(key) -> fd.
impl Sys {
    /// share(): the key, or the error.
    fn share(&mut self, fd: i64, timeout: u64) -> Result<String, i64> {
        let r = self.call(
            nr::SHARE,
            &[BUF, abi::sys::KEY_LEN + 1, fd as usize, timeout as usize],
        );
        if r < 0 {
            return Err(r);
        }
        let k: [u8; abi::sys::KEY_LEN + 1] = self.get(BUF);
        assert_eq!(k[abi::sys::KEY_LEN], 0, "NUL-terminated");
        Ok(String::from_utf8(k[..abi::sys::KEY_LEN].to_vec()).unwrap())
    }
    fn claim(&mut self, key: &str) -> i64 {
        self.cstr(NAME, key);
        self.call(nr::CLAIM, &[NAME])
    }
}

#[test]
fn dn07_share_claim_hands_an_object_to_a_running_process() {
    let mut s = Sys::proc1();
    let files = s.files_used();
    let free = s.k.pg.free();
    let parent = s.cur_pid().unwrap();
    // The peer runs before the object exists: it inherits nothing.
    let peer = s.spawn_call("prog") as i32;
    let fd = s.open("/dev/shmem/new", O_RDWR);
    let va = s.map(fd, 4096, RW, MAP_SHARED, 0) as usize;
    s.put(va, b"hello");
    let key = s.share(fd, 1_000_000_000).unwrap();
    assert_eq!(key.len(), abi::sys::KEY_LEN);
    assert!(key
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
    // A second share of the same description makes a different key.
    let other = s.share(fd, 1_000_000_000).unwrap();
    assert_ne!(key, other);
    s.switch_to(peer);
    let got = s.claim(&key);
    assert_eq!(
        got, 3,
        "the peer's lowest free descriptor (0-2 are its console)"
    );
    // Once only.
    assert_eq!(s.claim(&key), err(Errno::ENOENT));
    let pva = s.map(got, 4096, RW, MAP_SHARED, 0) as usize;
    assert_eq!(&s.get::<[u8; 5]>(pva), b"hello");
    s.put(pva + 5, b"world");
    assert_eq!(s.call(nr::EXIT, &[0]), 0);
    s.settle();
    s.switch_to(parent);
    assert_eq!(&s.get::<[u8; 10]>(va), b"helloworld");
    // The other key still works, here too (as a dup would).
    let again = s.claim(&other);
    assert!(again > fd);
    s.close(again);
    assert_eq!(s.munmap(va, 4096), 0);
    s.close(fd);
    s.call(nr::WAIT4, &[peer as usize, SCRATCH, 0, 0]);
    assert_eq!(s.files_used(), files);
    assert_eq!(s.k.pg.free(), free);
}

#[test]
fn share_claim_errors_and_timeouts() {
    let mut s = Sys::proc1();
    let files = s.files_used();
    let free = s.k.pg.free();
    let fd = s.shm_anon(O_RDWR);
    assert_eq!(s.ftruncate(fd, 4096), 0);
    // Bad descriptor, short buffer, zero timeout, bad buffer: errors, nothing kept.
    assert_eq!(s.share(9, 1000), Err(err(Errno::EBADF)));
    assert_eq!(
        s.call(nr::SHARE, &[BUF, abi::sys::KEY_LEN, fd as usize, 1000]),
        err(Errno::ERANGE)
    );
    assert_eq!(s.share(fd, 0), Err(err(Errno::EINVAL)));
    assert_eq!(
        s.call(nr::SHARE, &[0x10, 64, fd as usize, 1000]),
        err(Errno::EFAULT)
    );
    assert_eq!(s.k.keys.waiting(), 0);
    // Unknown, malformed, too long, unreadable keys.
    assert_eq!(s.claim("AAAAAAAAAAAAAAAA"), err(Errno::ENOENT));
    assert_eq!(s.claim("short"), err(Errno::ENOENT));
    assert_eq!(s.claim(&"A".repeat(300)), err(Errno::ENOENT));
    assert_eq!(s.call(nr::CLAIM, &[0x10]), err(Errno::EFAULT));
    // A user other than root has MAX_KEYS_PER_USER keys at most.
    let other = s.spawn_call("prog") as i32;
    let me = s.cur_pid().unwrap();
    s.switch_to(other);
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    let ofd = s.shm_anon(O_RDWR);
    for _ in 0..crate::fs::share::MAX_KEYS_PER_USER {
        assert!(s.share(ofd, 5_000).is_ok());
    }
    assert_eq!(s.share(ofd, 1000), Err(err(Errno::ENOSPC)));
    assert_eq!(s.call(nr::EXIT, &[0]), 0);
    s.settle();
    s.switch_to(me);
    s.call(nr::WAIT4, &[other as usize, SCRATCH, 0, 0]);
    // Root's keys: the table fills, ENOSPC.
    let mut keys = Vec::new();
    for _ in crate::fs::share::MAX_KEYS_PER_USER..crate::fs::share::MAX_KEYS {
        keys.push(s.share(fd, abi::sys::KEY_NEVER).unwrap());
    }
    assert_eq!(s.share(fd, 1000), Err(err(Errno::ENOSPC)));
    // A claim with no free descriptor is EMFILE and leaves the key good.
    let mut held = Vec::new();
    loop {
        let d = s.call(nr::DUP, &[fd as usize]);
        if d < 0 {
            break;
        }
        held.push(d);
    }
    assert_eq!(s.claim(&keys[0]), err(Errno::EMFILE));
    s.close(held.pop().unwrap());
    let c = s.claim(&keys[0]);
    assert!(c >= 0);
    held.push(c);
    for d in held {
        s.close(d);
    }
    // Timed keys go when their time is up, on the timer alone; untimed ones stay.
    let timed = s.share(fd, 5_000).unwrap();
    s.close(fd);
    assert!(s.k.keys.next_expiry.is_some());
    s.arch.advance(10_000);
    s.k.timer();
    assert_eq!(s.k.keys.next_expiry, None);
    assert_eq!(s.claim(&timed), err(Errno::ENOENT));
    let left = crate::fs::share::MAX_KEYS - crate::fs::share::MAX_KEYS_PER_USER - 1;
    assert_eq!(s.k.keys.waiting(), left, "the other user's keys went too");
    // Claim and close every untimed key: the object goes with the last.
    for k in &keys[1..] {
        let d = s.claim(k);
        assert!(d >= 0);
        s.close(d);
    }
    assert_eq!(s.k.keys.waiting(), 0);
    assert_eq!(s.files_used(), files);
    s.call(nr::GETPID, &[]);
    assert_eq!(s.k.pg.free(), free);
}

impl Sys {
    /// vminfo(pid, 0..): every region of `pid`, or the error.
    fn regions(&mut self, pid: i32) -> Result<Vec<abi::sys::RegionInfo>, i64> {
        let mut out = Vec::new();
        let mut i = 0;
        loop {
            let r = self.call(nr::VMINFO, &[pid as usize, i, BUF]);
            if r == err(Errno::ENOENT) {
                return Ok(out);
            }
            if r < 0 {
                return Err(r);
            }
            out.push(self.get(BUF));
            i = r as usize;
        }
    }
}

#[test]
fn vminfo_names_what_backs_each_region() {
    use abi::sys::region;
    let mut s = Sys::proc1();
    let fd = s.shm_open("/pm", O_RDWR | O_CREAT, 0o600);
    s.ftruncate(fd, 8192);
    let va = s.map(fd, 8192, PROT_READ, MAP_SHARED, 0) as u64;
    let id = s.call(
        nr::SHMGET,
        &[
            abi::shm::IPC_PRIVATE as usize,
            4096,
            0o600 | abi::shm::IPC_CREAT as usize,
        ],
    );
    let at = s.call(nr::SHMAT, &[id as usize, 0, 0]) as u64;
    let anon = s.mmap(0, 4096, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) as u64;
    assert_eq!(s.shm_unlink("/pm"), 0);
    let r = s.regions(0).unwrap();
    let find = |va: u64| r.iter().find(|x| x.start == va).copied().unwrap();
    let p = find(va);
    assert_eq!(
        (p.kind, p.len, p.prot, p.share),
        (region::POSIX, 8192, PROT_READ, MAP_SHARED)
    );
    assert_eq!(&p.name[..p.name_len as usize], b"pm");
    assert_eq!(p.deleted, 1, "unlinked since");
    let a = find(at);
    assert_eq!((a.kind, a.id as i64, a.deleted), (region::SYSV, id, 0));
    let n = find(anon);
    assert_eq!((n.kind, n.share, n.prot), (region::ANON, MAP_PRIVATE, RW));
    assert!(r.iter().any(|x| x.kind == region::PROGRAM));
    assert!(r.iter().any(|x| x.kind == region::STACK));
    // Sorted by address, none overlapping.
    assert!(r.windows(2).all(|w| w[0].start + w[0].len <= w[1].start));
    // Other processes: ESRCH when there is none; EPERM for another user's, unless root.
    assert_eq!(s.regions(4000).map(|_| ()), Err(err(Errno::ESRCH)));
    let me = s.cur_pid().unwrap();
    let other = s.spawn_call("prog") as i32;
    assert!(s.regions(other).is_ok(), "root sees every process");
    s.switch_to(other);
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    assert_eq!(s.regions(me).map(|_| ()), Err(err(Errno::EPERM)));
    assert_eq!(
        s.call(nr::VMINFO, &[0, 0, 0x10]),
        err(Errno::EFAULT),
        "bad buffer"
    );
}

/// Results, regions, mappings, the object's references, pages in use, fast maps taken.
type MapRun = (
    Vec<i64>,
    Vec<crate::mm::vm::Region>,
    Vec<Option<(usize, bool)>>,
    u32,
    usize,
    usize,
);

fn map_unmap_run(no_fast: bool) -> MapRun {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.arch.inner.lock().unwrap().no_fast = no_fast;
    let fd = s.shm_open("/fastpath", O_CREAT | O_RDWR, 0o600);
    assert_eq!(s.ftruncate(fd, 3 * P as i64), 0);
    let ro = s.shm_open("/fastpath", O_RDONLY, 0);
    let rw = PROT_READ | PROT_WRITE;
    let mut out = Vec::new();
    let a = s.map(fd, P, rw, MAP_SHARED, 0);
    let b = s.map(fd, 2 * P, rw, MAP_SHARED, P);
    let c = s.map(ro, P, PROT_READ, MAP_SHARED, 2 * P);
    // Refused the same way on both paths: write through a read-only descriptor, a range
    // past the object's end is mapped only as far as the object goes.
    out.push(s.map(ro, P, rw, MAP_SHARED, 0));
    let d = s.map(fd, 2 * P, rw, MAP_SHARED, 2 * P);
    out.extend([a, b, c, d]);
    out.push(s.call(nr::MUNMAP, &[b as usize, 2 * P]));
    // Part of a mapping: the full call's carving.
    out.push(s.call(nr::MUNMAP, &[d as usize + P, P]));
    let e = s.map(fd, P, PROT_READ, MAP_SHARED, 0);
    out.push(e);
    let regions = s.k.task(s.k.current.unwrap()).regions.to_vec();
    let env = s.env();
    let maps = [a, b, c, d, e]
        .iter()
        .flat_map(|&v| (0..2).map(move |k| v as usize + k * P))
        .map(|va| {
            s.arch
                .mapping(&env, va)
                .map(|m| (m.pa, m.prot == crate::up::Prot::Read))
        })
        .collect();
    let obj = match s
        .k
        .task(s.k.current.unwrap())
        .regions
        .iter()
        .find(|r| r.va == a as usize)
        .unwrap()
        .kind
    {
        crate::mm::vm::Kind::Obj { obj, .. } => obj,
        _ => unreachable!(),
    };
    let refs = s.k.objs.obj(obj).refs;
    let fast = s.arch.inner.lock().unwrap().fast_maps;
    (out, regions, maps, refs, s.k.pg.used(), fast)
}

#[test]
fn the_fast_mmap_and_munmap_leave_what_the_full_calls_leave() {
    let fast = map_unmap_run(false);
    let full = map_unmap_run(true);
    assert!(fast.5 >= 2, "the fast path took some mappings ({})", fast.5);
    assert_eq!(full.5, 0);
    assert_eq!(fast.0, full.0);
    assert_eq!(fast.0[0], Errno::EACCES.to_ret() as i64);
    assert_eq!(fast.1, full.1);
    assert_eq!(fast.2, full.2);
    assert_eq!(fast.3, full.3, "references");
    assert_eq!(fast.4, full.4, "pages in use");
}
