//! System V shared memory and futex tests against the fake architecture, case by case from
//! the conformance catalogue (`../shared/conformance/sysv-shm.md`; ids in the comments).

use std::vec;
use std::vec::Vec;

use crate::mm::shm::BLOCK_PAGES;
use crate::phys::PAGE_SIZE;
use crate::tests::{Sys, SCRATCH};
use crate::up::{Access, Prot};
use abi::layout::{
    SHM_WINDOW, SHM_WINDOW_END, STACK_GUARD, USER_HEAP, USER_STACK_SIZE, USER_STACK_TOP,
};
use abi::shm::*;
use abi::sys::{self, nr};
use abi::Errno;

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

/// Where tests keep a `shmid_ds` in user memory (the stack page below SCRATCH's).
const DS: usize = SCRATCH + 1024;
const T0: i64 = 1_700_000_000;

impl Sys {
    /// One process (pid 1), running.
    fn with_proc() -> Sys {
        let mut s = Sys::new();
        s.k.spawn("prog", b"prog\0", None).unwrap();
        s.run();
        s
    }

    /// A second process (child of the current one), not running yet.
    fn child(&mut self) -> i32 {
        self.spawn_call("prog") as i32
    }

    fn shmget(&mut self, key: i32, size: usize, flg: i32) -> i64 {
        self.call(nr::SHMGET, &[key as usize, size, flg as usize])
    }
    fn shmat(&mut self, id: i64, addr: usize, flg: i32) -> i64 {
        self.call(nr::SHMAT, &[id as usize, addr, flg as usize])
    }
    fn shmdt(&mut self, addr: usize) -> i64 {
        self.call(nr::SHMDT, &[addr])
    }
    fn shmctl(&mut self, id: i64, cmd: i32, buf: usize) -> i64 {
        self.call(nr::SHMCTL, &[id as usize, cmd as usize, buf])
    }
    fn stat(&mut self, id: i64) -> ShmidDs {
        assert_eq!(self.shmctl(id, IPC_STAT, DS), 0, "IPC_STAT {id}");
        self.get(DS)
    }
    fn setuid(&mut self, uid: u32, gid: u32) {
        assert_eq!(self.call(nr::SETGID, &[gid as usize]), 0);
        assert_eq!(self.call(nr::SETUID, &[uid as usize]), 0);
    }
    fn writable(&self, va: usize) -> bool {
        self.k
            .arch
            .translate(&self.env(), va, Access::Write)
            .is_some()
    }
    fn readable(&self, va: usize) -> bool {
        self.k
            .arch
            .translate(&self.env(), va, Access::Read)
            .is_some()
    }
    fn pid(&self) -> i32 {
        self.cur_pid().unwrap()
    }
}

#[test]
fn sg_ipc_private_always_creates() {
    let mut s = Sys::with_proc();
    // SG-01, SG-02, SG-03: new ids every time, with or without IPC_CREAT / IPC_EXCL.
    let a = s.shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0o600);
    let b = s.shmget(IPC_PRIVATE, 4096, 0o600);
    let c = s.shmget(IPC_PRIVATE, 4096, IPC_CREAT | IPC_EXCL | 0o600);
    let d = s.shmget(IPC_PRIVATE, 4096, IPC_CREAT | IPC_EXCL | 0o600);
    assert_eq!(a, 0, "0 is a valid id");
    for x in [b, c, d] {
        assert!(x > 0);
    }
    assert!(a != b && b != c && c != d && a != d);
    // SG-33: the key reads back (0 for IPC_PRIVATE).
    assert_eq!(s.stat(a).shm_perm.key, 0);
}

#[test]
fn sg_keys_find_existing_segments() {
    let mut s = Sys::with_proc();
    let k = 0x1234;
    // SG-09, SG-10: missing key without IPC_CREAT.
    assert_eq!(s.shmget(k, 2048, IPC_EXCL), err(Errno::ENOENT));
    assert_eq!(s.shmget(k, 2048, 0o600), err(Errno::ENOENT));
    // SG-04
    let id = s.shmget(k, 8192, IPC_CREAT | 0o600);
    assert!(id >= 0);
    // SG-05, SG-06, SG-08: the same id for equal, smaller, zero size and IPC_EXCL alone.
    assert_eq!(s.shmget(k, 8192, IPC_CREAT | 0o600), id);
    assert_eq!(s.shmget(k, 4096, 0), id);
    assert_eq!(s.shmget(k, 0, 0), id);
    assert_eq!(s.shmget(k, 8192, IPC_EXCL), id);
    // SG-07
    assert_eq!(
        s.shmget(k, 8192, IPC_CREAT | IPC_EXCL | 0o600),
        err(Errno::EEXIST)
    );
    // SG-33
    assert_eq!(s.stat(id).shm_perm.key, k);
    // SG-37: creators race; the kernel runs each call to completion, so one wins.
    let other = s.child();
    s.switch_to(other);
    let k2 = 0x77;
    let first = s.shmget(k2, 100, IPC_CREAT | IPC_EXCL | 0o600);
    s.switch_to(1);
    let second = s.shmget(k2, 100, IPC_CREAT | IPC_EXCL | 0o600);
    assert!(first >= 0);
    assert_eq!(second, err(Errno::EEXIST));
}

#[test]
fn sg_sizes() {
    let mut s = Sys::with_proc();
    let k = 0x5150;
    let free = s.k.pg.free();
    // SG-11, SG-12: below SHMMIN.
    assert_eq!(
        s.shmget(k, 0, IPC_CREAT | IPC_EXCL | 0o600),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.shmget(IPC_PRIVATE, 0, IPC_CREAT | 0o600),
        err(Errno::EINVAL)
    );
    // SG-13: above SHMMAX: EINVAL with nothing allocated and the key still unused.
    assert_eq!(
        s.shmget(k, SHMMAX + 1, IPC_CREAT | 0o600),
        err(Errno::EINVAL)
    );
    assert_eq!(s.k.pg.free(), free);
    assert_eq!(s.shmget(k, 1, 0), err(Errno::ENOENT));
    // SG-15: SIZE_MAX never wraps into a tiny segment.
    assert_eq!(
        s.shmget(IPC_PRIVATE, usize::MAX, IPC_CREAT | 0o600),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.shmget(IPC_PRIVATE, usize::MAX - PAGE_SIZE + 2, IPC_CREAT | 0o600),
        err(Errno::EINVAL)
    );
    // SG-16, SG-17: larger than the existing segment (exact bytes, not pages); not grown.
    let id = s.shmget(k, 100, IPC_CREAT | 0o600);
    assert_eq!(s.shmget(k, 101, 0), err(Errno::EINVAL));
    assert_eq!(s.shmget(k, 200, IPC_CREAT | 0o600), err(Errno::EINVAL));
    assert_eq!(s.shmget(k, 100, 0), id);
    // SG-29: segsz is the size asked for; the pages are rounded up.
    assert_eq!(s.stat(id).shm_segsz, 100);
    assert_eq!(s.k.pg.free(), free - 1);
}

#[test]
fn sg_shmmax_boundary_and_enomem_without_leaks() {
    let mut s = Sys::with_proc();
    // The fake RAM is 32 MiB, so SHMMAX (64 MiB) does not fit: ENOMEM, nothing kept (SG-21).
    let (free, heap) = (s.k.pg.free(), s.k.shm.pages);
    let k = 0xbeef;
    assert_eq!(s.shmget(k, SHMMAX, IPC_CREAT | 0o600), err(Errno::ENOMEM));
    assert_eq!(s.k.pg.free(), free, "no page leaked");
    assert_eq!(s.k.shm.pages, heap);
    assert_eq!(s.k.shm.used(), 0, "no half-made segment");
    assert_eq!(s.shmget(k, 1, 0), err(Errno::ENOENT), "key still unused");
    // SG-14: a size that fits works (SHMMAX itself is covered on QEMU with 256 MiB).
    let id = s.shmget(k, 16 << 20, IPC_CREAT | 0o600);
    assert!(id >= 0, "{id}");
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.pg.free(), free);
    // SG-20: the SHMALL budget gives ENOMEM too (DV-08).
    s.k.shm.pages = SHMALL - 1;
    assert_eq!(
        s.shmget(IPC_PRIVATE, 2 * PAGE_SIZE, IPC_CREAT | 0o600),
        err(Errno::ENOMEM)
    );
    let one = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    assert!(one >= 0);
    assert_eq!(s.shmctl(one, IPC_RMID, 0), 0);
    assert_eq!(s.k.shm.pages, SHMALL - 1);
}

#[test]
fn sg_id_table_full_is_enospc_and_slots_come_back() {
    let mut s = Sys::with_proc();
    let free = s.k.pg.free();
    let ids: Vec<i64> = (0..SHMMNI)
        .map(|i| s.shmget(1000 + i as i32, 2048, IPC_CREAT | IPC_EXCL | 0o600))
        .collect();
    assert!(ids.iter().all(|&i| i >= 0));
    // SG-18
    assert_eq!(
        s.shmget(5000, 2048, IPC_CREAT | IPC_EXCL | 0o600),
        err(Errno::ENOSPC)
    );
    assert_eq!(s.shmget(IPC_PRIVATE, 2048, 0o600), err(Errno::ENOSPC));
    // SG-19: a removed segment's slot is reused.
    assert_eq!(s.shmctl(ids[5], IPC_RMID, 0), 0);
    let again = s.shmget(5000, 2048, IPC_CREAT | IPC_EXCL | 0o600);
    assert!(again >= 0);
    // SG-34: the reused slot gets a new id; the stale one reaches nothing.
    assert_ne!(again, ids[5]);
    assert_eq!(s.shmctl(ids[5], IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmat(ids[5], 0, 0), err(Errno::EINVAL));
    for id in ids.iter().filter(|&&i| i != ids[5]).chain([&again]) {
        assert_eq!(s.shmctl(*id, IPC_RMID, 0), 0);
    }
    assert_eq!(s.k.pg.free(), free, "every page back");
    assert_eq!(s.k.shm.used(), 0);
}

#[test]
fn sg_permissions() {
    let mut s = Sys::with_proc();
    let k = 0x4242;
    // SG-23: root-owned, mode 0; an unprivileged process asks for read.
    let id = s.shmget(k, PAGE_SIZE, IPC_CREAT /* mode 0 */);
    let child = s.child();
    s.switch_to(child);
    s.setuid(65534, 65534);
    assert_eq!(s.shmget(k, PAGE_SIZE, SHM_R), err(Errno::EACCES));
    // SG-24: asking for nothing is granted.
    assert_eq!(s.shmget(k, PAGE_SIZE, 0), id);
    // SG-25: EEXIST before the size check, the size before permission.
    assert_eq!(
        s.shmget(k, PAGE_SIZE, IPC_CREAT | IPC_EXCL | 0o600),
        err(Errno::EEXIST)
    );
    assert_eq!(s.shmget(k, 2 * PAGE_SIZE, SHM_R), err(Errno::EINVAL));
    // SG-22: the owner itself is refused by mode 0 when unprivileged.
    let k2 = 0x4343;
    let own = s.shmget(k2, PAGE_SIZE, IPC_CREAT /* mode 0 */);
    assert!(own >= 0);
    for f in [SHM_R, SHM_W, SHM_R | SHM_W] {
        assert_eq!(s.shmget(k2, PAGE_SIZE, f), err(Errno::EACCES));
    }
    // Group and other classes.
    let k3 = 0x4444;
    let g = s.shmget(k3, PAGE_SIZE, IPC_CREAT | 0o640);
    s.switch_to(1);
    s.setuid(500, 65534); // same group as the creator, other user
    assert_eq!(s.shmget(k3, PAGE_SIZE, 0o040), g);
    assert_eq!(s.shmget(k3, PAGE_SIZE, 0o020), err(Errno::EACCES));
}

#[test]
fn sg_new_segment_fields_and_zero_fill() {
    let mut s = Sys::with_proc();
    s.setuid(1000, 100);
    s.arch.advance(5_000_000_000);
    let t0 = T0 + 5;
    // SG-30, SG-31, SG-32
    let id = s.shmget(0x99, 3 * PAGE_SIZE + 5, IPC_CREAT | IPC_EXCL | 0o640);
    let ds = s.stat(id);
    assert_eq!(
        ds.shm_perm.mode, 0o640,
        "no IPC_CREAT/IPC_EXCL bits in the mode"
    );
    assert_eq!(
        (
            ds.shm_perm.uid,
            ds.shm_perm.gid,
            ds.shm_perm.cuid,
            ds.shm_perm.cgid
        ),
        (1000, 100, 1000, 100)
    );
    assert_eq!(ds.shm_cpid, s.pid());
    assert_eq!(
        (ds.shm_lpid, ds.shm_nattch, ds.shm_atime, ds.shm_dtime),
        (0, 0, 0, 0)
    );
    assert_eq!(ds.shm_ctime, t0, "seconds from the real-time clock");
    assert_eq!(ds.shm_segsz, 3 * PAGE_SIZE as u64 + 5);
    // SG-26: all zero to the end of the last page.
    let va = s.shmat(id, 0, 0) as usize;
    let mut buf = vec![0xffu8; 4 * PAGE_SIZE];
    crate::uaccess::copy_in(s.k.arch, &s.env(), va, &mut buf).unwrap();
    assert!(buf.iter().all(|&b| b == 0));
    // SG-28: the rounded-up page is usable; the next page is not mapped.
    assert!(s.writable(va + 4 * PAGE_SIZE - 1));
    assert!(!s.readable(va + 4 * PAGE_SIZE));
}

#[test]
fn sg_removed_key_is_free_and_new_segment_is_fresh() {
    let mut s = Sys::with_proc();
    let k = 0x600d;
    let old = s.shmget(k, PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(old, 0, 0) as usize;
    s.put(p, b"old data");
    assert_eq!(s.shmctl(old, IPC_RMID, 0), 0);
    // SG-35 / SC-20: the key no longer finds the dying segment.
    assert_eq!(s.shmget(k, PAGE_SIZE, 0), err(Errno::ENOENT));
    // SG-36 / SC-19 / SG-27: a new, zeroed, independent segment under the same key.
    let new = s.shmget(k, PAGE_SIZE, IPC_CREAT | IPC_EXCL | 0o600);
    assert!(new >= 0 && new != old);
    let q = s.shmat(new, 0, 0) as usize;
    assert_eq!(s.get::<u64>(q), 0);
    assert_eq!(
        &s.get::<u64>(p).to_le_bytes(),
        b"old data",
        "old still attached"
    );
    s.put(q, b"new");
    assert_eq!(&s.get::<u64>(p).to_le_bytes(), b"old data");
}

#[test]
fn sa_addresses() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, 3 * PAGE_SIZE, IPC_CREAT | 0o600);
    // SA-01, SA-30: NULL gives an aligned address in the window.
    let p = s.shmat(id, 0, 0) as usize;
    assert!((SHM_WINDOW..SHM_WINDOW_END).contains(&p));
    assert_eq!(p % SHMLBA, 0);
    assert!(s.writable(p) && s.writable(p + 2 * PAGE_SIZE));
    // SA-02: a free aligned address is honoured (outside the window too).
    let a = 0x30_0000_0000usize;
    assert_eq!(s.shmat(id, a, 0) as usize, a);
    // SA-03: SHM_RND rounds down to SHMLBA.
    let b = 0x31_0000_0000usize;
    assert_eq!(s.shmat(id, b + SHMLBA - 1, SHM_RND) as usize, b);
    // SA-04: unaligned without SHM_RND.
    assert_eq!(
        s.shmat(id, 0x32_0000_0000 + SHMLBA - 1, 0),
        err(Errno::EINVAL)
    );
    // SA-06: SHM_RND down to page 0.
    assert_eq!(s.shmat(id, 1, SHM_RND), err(Errno::EINVAL));
    // SA-15: overlapping an existing attachment; the old one intact.
    assert_eq!(s.shmat(id, a + PAGE_SIZE, 0), err(Errno::EINVAL));
    assert_eq!(s.shmat(id, a - PAGE_SIZE, 0), err(Errno::EINVAL));
    assert!(s.writable(a));
    // SA-16: the heap, the stack, the program image, outside the user range.
    assert_eq!(s.shmat(id, USER_HEAP, 0), err(Errno::EINVAL));
    assert_eq!(
        s.shmat(id, USER_STACK_TOP - PAGE_SIZE, 0),
        err(Errno::EINVAL)
    );
    assert_eq!(s.shmat(id, 0x40_0000, 0), err(Errno::EINVAL));
    assert_eq!(
        s.shmat(id, 0x80_0000_0000 - PAGE_SIZE, 0),
        err(Errno::EINVAL)
    );
    assert_eq!(s.shmat(id, 0xffff_0000_0000_0000, 0), err(Errno::EINVAL));
    assert_eq!(
        s.shmat(id, usize::MAX & !(SHMLBA - 1), 0),
        err(Errno::EINVAL)
    );
    // SA-17 and other unsupported flags.
    assert_eq!(s.shmat(id, 0, 0o40000), err(Errno::EINVAL));
    assert_eq!(s.shmat(id, 0, 0o100000), err(Errno::EINVAL));
    assert_eq!(s.stat(id).shm_nattch, 3);
}

#[test]
fn sa_big_segments_get_aligned_contiguous_runs() {
    let mut s = Sys::with_proc();
    let id = s.shmget(
        IPC_PRIVATE,
        (BLOCK_PAGES + 3) * PAGE_SIZE,
        IPC_CREAT | 0o600,
    );
    let slot = id as usize % SHMMNI;
    let pages =
        s.k.objs
            .obj(s.k.shm.get(slot).unwrap().obj)
            .pages()
            .to_vec();
    assert_eq!(pages.len(), BLOCK_PAGES + 3);
    assert_eq!(pages[0] % (BLOCK_PAGES * PAGE_SIZE), 0, "2 MiB-aligned run");
    assert!((0..BLOCK_PAGES).all(|k| pages[k] == pages[0] + k * PAGE_SIZE));
    let small = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    assert!(s.shmat(small, 0, 0) > 0);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(
        p % (BLOCK_PAGES * PAGE_SIZE),
        0,
        "placed on a 2 MiB boundary"
    );
    assert_eq!(
        s.arch.inner.lock().unwrap().shmat_calls.last(),
        Some(&(p, BLOCK_PAGES + 3))
    );
}

#[test]
fn sa_permissions_checked_at_attach_time() {
    let mut s = Sys::with_proc();
    let child = s.child(); // spawned while still root, so it may pick its own uid
    s.setuid(1000, 1000);
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o400);
    // SA-08: read-only mode: SHM_RDONLY works, read-write does not.
    assert!(s.shmat(id, 0, SHM_RDONLY) > 0);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EACCES));
    // SA-09: no write-only segments.
    let w = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o200);
    assert_eq!(s.shmat(w, 0, SHM_RDONLY), err(Errno::EACCES));
    assert_eq!(s.shmat(w, 0, 0), err(Errno::EACCES));
    // SC-15: the mode is checked against its current value.
    let m = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let rw = s.shmat(m, 0, 0) as usize;
    let mut ds = s.stat(m);
    ds.shm_perm.mode = 0o400;
    s.put(DS, bytes(&ds));
    assert_eq!(s.shmctl(m, IPC_SET, DS), 0);
    assert_eq!(s.shmat(m, 0, 0), err(Errno::EACCES));
    assert!(s.shmat(m, 0, SHM_RDONLY) > 0);
    // SC-16: no revocation of an existing attachment.
    ds.shm_perm.mode = 0;
    s.put(DS, bytes(&ds));
    assert_eq!(s.shmctl(m, IPC_SET, DS), 0);
    assert!(s.writable(rw));
    // SA-10: another user's private segment.
    s.switch_to(child);
    s.setuid(2000, 2000);
    let id2 = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    s.switch_to(1);
    assert_eq!(s.shmat(id2, 0, 0), err(Errno::EACCES));
    assert_eq!(s.shmat(id2, 0, SHM_RDONLY), err(Errno::EACCES));
}

fn bytes<T>(v: &T) -> &[u8] {
    // SAFETY: test-only view of a plain repr(C) value.
    unsafe { core::slice::from_raw_parts(v as *const T as *const u8, core::mem::size_of::<T>()) }
}

#[test]
fn sa_bad_and_removed_ids() {
    let mut s = Sys::with_proc();
    // SA-11, SA-12
    assert_eq!(s.shmat(-1, 0, 0), err(Errno::EINVAL));
    assert_eq!(s.shmat(0x7fff_ffff, 0, 0), err(Errno::EINVAL));
    assert_eq!(s.shmat(0, 0, 0), err(Errno::EINVAL), "never allocated");
    // SA-13
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EINVAL));
    // SA-14 / SC-21 (DV-01): removed while attached: new attaches refused.
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EINVAL));
    assert!(s.writable(p));
}

#[test]
fn sa_attach_limit_is_emfile() {
    let mut s = Sys::with_proc();
    // SA-19, SA-20 (DV-07): attach until failure; the per-process limit SHMSEG gives EMFILE,
    // every earlier attachment stays valid and is counted.
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let mut got = Vec::new();
    loop {
        let r = s.shmat(id, 0, 0);
        if r < 0 {
            assert_eq!(r, err(Errno::EMFILE));
            break;
        }
        got.push(r as usize);
    }
    assert_eq!(got.len(), SHMSEG);
    assert_eq!(s.stat(id).shm_nattch, SHMSEG as u64);
    assert!(got.iter().all(|&p| s.writable(p)));
    assert_eq!(s.shmdt(got[7]), 0);
    assert!(s.shmat(id, 0, 0) > 0, "room again after a detach");
}

#[test]
fn window_holds_32_attachments_of_shmmax() {
    // The window's size promises 32 SHMMAX attachments; 2 MiB alignment must not cost one.
    let mut attach = crate::mm::vm::Regions::new();
    for i in 0..32 {
        let va = crate::mm::vm::place(&attach, SHMMAX)
            .unwrap_or_else(|e| panic!("attachment {i}: {e:?}"));
        assert_eq!(va % (2 << 20), 0);
        assert!(va >= SHM_WINDOW && va + SHMMAX <= STACK_GUARD);
        let r = crate::mm::vm::Region::new(
            va,
            SHMMAX / PAGE_SIZE,
            3,
            3,
            crate::mm::vm::Kind::Obj {
                obj: 0,
                off: 0,
                sysv: Some(0),
            },
        );
        crate::mm::vm::insert(&mut attach, r).unwrap();
    }
    assert_eq!(crate::mm::vm::place(&attach, SHMMAX), Err(Errno::ENOMEM));
}

#[test]
fn stack_guard_gap_keeps_attachments_a_mib_away() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, 3 * PAGE_SIZE, IPC_CREAT | 0o600);
    // Kernel-chosen: the topmost attachment ends at the gap, 1 MiB below the stack.
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(p + 3 * PAGE_SIZE, STACK_GUARD);
    assert!(USER_STACK_TOP - USER_STACK_SIZE - (p + 3 * PAGE_SIZE) >= 1 << 20);
    // Explicit: nothing inside the gap, not even its lowest page.
    for va in [
        STACK_GUARD,
        STACK_GUARD + (512 << 10),
        USER_STACK_TOP - USER_STACK_SIZE - PAGE_SIZE,
        STACK_GUARD - PAGE_SIZE,
    ] {
        assert_eq!(s.shmat(id, va, 0), err(Errno::EINVAL), "{va:#x}");
    }
    // Just below the gap is fine once it is free.
    s.shmdt(p);
    let below = STACK_GUARD - 3 * PAGE_SIZE;
    assert_eq!(s.shmat(id, below, 0) as usize, below);
}

#[test]
fn sa_window_full_is_enomem() {
    let mut s = Sys::with_proc();
    // SA-18: a 20 MiB segment attached 63 times, 32.5 MiB apart, leaves no 20 MiB hole in
    // the 2 GiB window (and stays under SHMSEG), so a kernel-chosen attach has no room.
    let len = 20 << 20;
    let id = s.shmget(IPC_PRIVATE, len, IPC_CREAT | 0o600);
    assert!(id >= 0);
    let stride = (32 << 20) + (512 << 10);
    for i in 0..63 {
        let va = SHM_WINDOW + i * stride;
        assert_eq!(s.shmat(id, va, 0) as usize, va, "attach {i}");
    }
    let before = s.stat(id);
    s.arch.advance(3_000_000_000);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::ENOMEM));
    // SA-22: the failure changed nothing.
    assert_eq!(s.stat(id), before);
    // A smaller segment still fits in a hole.
    let small = s.shmget(IPC_PRIVATE, 8 << 20, IPC_CREAT | 0o600);
    let p = s.shmat(small, 0, 0);
    assert!(p > SHM_WINDOW as i64, "{p}");
    assert_eq!(p as usize % (2 << 20), 0);
}

#[test]
fn sa_stat_updates_and_failed_attach_changes_nothing() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let created = s.stat(id);
    s.arch.advance(7_000_000_000);
    // SA-21
    let p = s.shmat(id, 0, 0) as usize;
    let ds = s.stat(id);
    assert_eq!(ds.shm_nattch, 1);
    assert_eq!(ds.shm_atime, T0 + 7);
    assert_eq!(ds.shm_lpid, s.pid());
    assert_eq!(
        (ds.shm_ctime, ds.shm_dtime, ds.shm_segsz),
        (created.shm_ctime, 0, created.shm_segsz)
    );
    // SA-22: failures (unaligned, overlap) leave nattch, atime and lpid alone.
    s.arch.advance(1_000_000_000);
    let child = s.child();
    assert_eq!(s.shmat(id, p + 1, 0), err(Errno::EINVAL));
    assert_eq!(s.shmat(id, p, 0), err(Errno::EINVAL));
    assert_eq!(s.stat(id), ds);
    let _ = child;
}

#[test]
fn sa_two_attachments_in_one_process() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    // SA-23
    let p1 = s.shmat(id, 0, 0) as usize;
    s.put(p1, b"pattern!");
    let p2 = s.shmat(id, 0, 0) as usize;
    assert_ne!(p1, p2);
    assert_eq!(&s.get::<u64>(p2).to_le_bytes(), b"pattern!");
    s.put(p2 + 8, b"via p2..");
    assert_eq!(&s.get::<u64>(p1 + 8).to_le_bytes(), b"via p2..");
    assert_eq!(s.stat(id).shm_nattch, 2);
    // SA-24: one read-only and one read-write attachment of the same pages.
    let r = s.shmat(id, 0, SHM_RDONLY) as usize;
    assert!(s.readable(r) && !s.writable(r), "a write through r faults");
    let m = s.arch.mapping(&s.env(), r).unwrap();
    assert_eq!(m.prot, Prot::Read);
    assert!(!m.owned);
    s.put(p1, b"changed!");
    assert_eq!(&s.get::<u64>(r).to_le_bytes(), b"changed!");
    // SD-11: detaching one leaves the others working.
    assert_eq!(s.shmdt(p1), 0);
    assert!(!s.readable(p1));
    assert_eq!(&s.get::<u64>(p2).to_le_bytes(), b"changed!");
    assert_eq!(s.stat(id).shm_nattch, 2);
}

#[test]
fn sa_two_processes_share_pages_at_different_addresses() {
    let mut s = Sys::with_proc();
    let k = 0xc0de;
    // SA-25
    let id = s.shmget(k, 2 * PAGE_SIZE, IPC_CREAT | 0o600);
    let p1 = s.shmat(id, 0, 0) as usize;
    s.put(p1 + PAGE_SIZE, b"from p1!");
    let child = s.child();
    s.switch_to(child);
    assert_eq!(s.shmget(k, 0, 0), id);
    let fixed = 0x40_0000_0000usize;
    let p2 = s.shmat(id, fixed, 0) as usize;
    assert_eq!(p2, fixed);
    assert_ne!(p1, p2);
    assert_eq!(&s.get::<u64>(p2 + PAGE_SIZE).to_le_bytes(), b"from p1!");
    s.put(p2, b"from p2!");
    assert_eq!(s.stat(id).shm_nattch, 2);
    s.switch_to(1);
    assert_eq!(&s.get::<u64>(p1).to_le_bytes(), b"from p2!");
    // SA-28: many attach/write/detach rounds leak nothing.
    let free = s.k.pg.free();
    for i in 0..500u64 {
        let p = s.shmat(id, 0, 0) as usize;
        s.put(p, &i.to_le_bytes());
        assert_eq!(s.shmdt(p), 0);
    }
    assert_eq!(s.k.pg.free(), free);
    assert_eq!(s.stat(id).shm_nattch, 2);
}

#[test]
fn sd_detach() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, 2 * PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(id, 0, 0) as usize;
    // SD-05: not the start of an attachment.
    assert_eq!(s.shmdt(p + PAGE_SIZE), err(Errno::EINVAL));
    assert!(s.writable(p + PAGE_SIZE));
    assert_eq!(s.stat(id).shm_nattch, 1);
    // SD-03, SD-04, SD-07, SD-08
    assert_eq!(s.shmdt(0x50_0000_0000), err(Errno::EINVAL));
    assert_eq!(s.shmdt(p + SHMLBA - 1), err(Errno::EINVAL));
    assert_eq!(s.shmdt(0x40_1000), err(Errno::EINVAL), "program data");
    assert_eq!(s.shmdt(0), err(Errno::EINVAL));
    assert!(s.writable(0x40_1000));
    // SD-01, SD-02
    s.arch.advance(9_000_000_000);
    let before = s.stat(id);
    assert_eq!(s.shmdt(p), 0);
    let ds = s.stat(id);
    assert_eq!(ds.shm_nattch, 0);
    assert_eq!(ds.shm_dtime, T0 + 9);
    assert_eq!(ds.shm_lpid, s.pid());
    assert_eq!(
        (ds.shm_atime, ds.shm_ctime),
        (before.shm_atime, before.shm_ctime)
    );
    assert!(
        !s.readable(p) && !s.readable(p + PAGE_SIZE),
        "the range faults"
    );
    // SD-06
    assert_eq!(s.shmdt(p), err(Errno::EINVAL));
}

#[test]
fn sd_rmid_destroys_at_last_detach() {
    let mut s = Sys::with_proc();
    let free = s.k.pg.free();
    let k = 0xd00d;
    // SD-09
    let id = s.shmget(k, 4 * PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert!(s.k.pg.free() < free, "pages kept while attached");
    assert_eq!(s.shmdt(p), 0);
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmget(k, 0, 0), err(Errno::ENOENT));
    assert_eq!(s.k.pg.free(), free, "SD-13: pages returned");
    // SD-10 / SC-27: two processes; the segment lives until the second detaches.
    let id = s.shmget(k, PAGE_SIZE, IPC_CREAT | 0o600);
    let p1 = s.shmat(id, 0, 0) as usize;
    s.put(p1, b"survives");
    let child = s.child();
    s.switch_to(child);
    let p2 = s.shmat(id, 0, 0) as usize;
    s.switch_to(1);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.shmdt(p1), 0);
    s.switch_to(child);
    assert_eq!(&s.get::<u64>(p2).to_le_bytes(), b"survives");
    s.put(p2, b"writable");
    assert_eq!(s.shmdt(p2), 0);
    assert_eq!(s.k.shm.used(), 0);
    assert_eq!(s.k.pg.free() + s.k.pg.used(), s.k.pg.total());
}

#[test]
fn sd_create_attach_remove_loop_leaks_nothing() {
    let mut s = Sys::with_proc();
    let free = s.k.pg.free();
    // SD-12
    for i in 0..1000 {
        let id = s.shmget(IPC_PRIVATE, 3 * PAGE_SIZE, IPC_CREAT | 0o600);
        assert!(id >= 0, "round {i}");
        let p = s.shmat(id, 0, 0) as usize;
        s.put(p, b"x");
        assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
        assert_eq!(s.shmdt(p), 0);
    }
    assert_eq!(s.k.pg.free(), free);
    // SD-13: all of memory but a margin, then the same again.
    let n = (free - 64) * PAGE_SIZE;
    for _ in 0..2 {
        let id = s.shmget(IPC_PRIVATE, n.min(SHMMAX), IPC_CREAT | 0o600);
        assert!(id >= 0);
        assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    }
    assert_eq!(s.k.pg.free(), free);
}

#[test]
fn sc_ipc_stat() {
    let mut s = Sys::with_proc();
    let id = s.shmget(0x57a7, PAGE_SIZE, IPC_CREAT | 0o600);
    // SC-01 (fields: sg_new_segment_fields_and_zero_fill), SC-02: STAT changes nothing.
    let a = s.stat(id);
    s.arch.advance(2_000_000_000);
    assert_eq!(s.stat(id), a);
    // SC-04, SC-29
    assert_eq!(s.shmctl(-1, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmctl(-5, IPC_STAT, DS), err(Errno::EINVAL));
    // SC-07
    assert_eq!(s.shmctl(id, IPC_STAT, usize::MAX), err(Errno::EFAULT));
    assert_eq!(s.shmctl(id, IPC_STAT, 0), err(Errno::EFAULT));
    assert_eq!(
        s.shmctl(id, IPC_STAT, 0x40_0000),
        err(Errno::EFAULT),
        "read-only text"
    );
    // glibc's IPC_64 flag is accepted.
    assert_eq!(s.shmctl(id, IPC_STAT | IPC_64, DS), 0);
    // SC-03: no read permission.
    let child = s.child();
    s.switch_to(child);
    s.setuid(65534, 65534);
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EACCES));
    // SC-05, SC-06 (DV-02): removed, attached or not: EINVAL.
    s.switch_to(1);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmdt(p), 0);
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
}

#[test]
fn sc_ipc_set() {
    let mut s = Sys::with_proc();
    let (child, c2) = (s.child(), s.child());
    s.setuid(1000, 1000);
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o666);
    let p = s.shmat(id, 0, 0) as usize;
    let old = s.stat(id);
    s.arch.advance(4_000_000_000);
    // SC-08
    let mut ds = old;
    ds.shm_perm.mode &= !0o066;
    s.put(DS, bytes(&ds));
    assert_eq!(s.shmctl(id, IPC_SET, DS), 0);
    let new = s.stat(id);
    assert_eq!(new.shm_perm.mode, 0o600);
    assert_eq!(new.shm_ctime, T0 + 4);
    // SC-09, SC-10: only uid, gid and the low nine mode bits are taken.
    let mut ds = new;
    ds.shm_perm.mode = 0o100666 | SHM_DEST;
    ds.shm_segsz = 1 << 30;
    ds.shm_nattch = 99;
    ds.shm_atime = 1;
    ds.shm_cpid = 4242;
    ds.shm_perm.cuid = 7;
    s.put(DS, bytes(&ds));
    assert_eq!(s.shmctl(id, IPC_SET, DS), 0);
    let got = s.stat(id);
    assert_eq!(got.shm_perm.mode, 0o666);
    assert_eq!(
        (
            got.shm_segsz,
            got.shm_nattch,
            got.shm_atime,
            got.shm_cpid,
            got.shm_perm.cuid
        ),
        (old.shm_segsz, 1, old.shm_atime, old.shm_cpid, 1000)
    );
    assert!(s.writable(p));
    // SC-11: hand the segment to another user; the creator keeps control.
    let mut ds = got;
    ds.shm_perm.uid = 2000;
    ds.shm_perm.gid = 2000;
    s.put(DS, bytes(&ds));
    assert_eq!(s.shmctl(id, IPC_SET, DS), 0);
    let got = s.stat(id);
    assert_eq!(
        (
            got.shm_perm.uid,
            got.shm_perm.gid,
            got.shm_perm.cuid,
            got.shm_perm.cgid
        ),
        (2000, 2000, 1000, 1000)
    );
    assert_eq!(s.shmctl(id, IPC_SET, DS), 0, "creator may still IPC_SET");
    // SC-12: neither owner nor creator.
    s.switch_to(child);
    s.setuid(3000, 3000);
    s.put(DS, bytes(&got));
    assert_eq!(s.shmctl(id, IPC_SET, DS), err(Errno::EPERM));
    assert_eq!(s.shmctl(id, IPC_RMID, 0), err(Errno::EPERM));
    // SC-13, SC-14
    assert_eq!(s.shmctl(-1, IPC_SET, DS), err(Errno::EINVAL));
    s.switch_to(1);
    assert_eq!(s.shmctl(id, IPC_SET, usize::MAX - 8), err(Errno::EFAULT));
    assert_eq!(s.shmctl(id, IPC_SET, 0), err(Errno::EFAULT));
    assert_eq!(s.stat(id), got, "nothing changed by the failures");
    // The new owner (not the creator) may act too.
    s.switch_to(c2);
    s.setuid(2000, 2000);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
}

#[test]
fn sc_ipc_rmid() {
    let mut s = Sys::with_proc();
    let k = 0x7e7e;
    // SC-17, SC-22: buf ignored.
    let id = s.shmget(k, PAGE_SIZE, IPC_CREAT | 0o600);
    assert_eq!(s.shmctl(id, IPC_RMID, 0xdead_beef), 0);
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EINVAL));
    assert_eq!(s.shmget(k, 0, 0), err(Errno::ENOENT));
    // SC-24, SC-25
    assert_eq!(s.shmctl(-1, IPC_RMID, 0), err(Errno::EINVAL));
    assert_eq!(s.shmctl(id, IPC_RMID, 0), err(Errno::EINVAL));
    // SC-18: attached: still usable, the pattern intact; SC-26 (DV-02): a second RMID fails.
    let id = s.shmget(k, PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(id, 0, 0) as usize;
    s.put(p, b"keep me!");
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(&s.get::<u64>(p).to_le_bytes(), b"keep me!");
    s.put(p, b"and more");
    assert_eq!(s.shmctl(id, IPC_RMID, 0), err(Errno::EINVAL));
    // SC-23: a stranger cannot remove; the segment survives.
    let id2 = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o666);
    let child = s.child();
    s.switch_to(child);
    s.setuid(65534, 65534);
    assert_eq!(s.shmctl(id2, IPC_RMID, 0), err(Errno::EPERM));
    assert!(s.shmat(id2, 0, 0) > 0, "still attachable");
}

#[test]
fn sc_listing_commands() {
    let mut s = Sys::with_proc();
    // SC-30: IPC_INFO
    assert_eq!(s.shmctl(0, IPC_INFO, DS), 0);
    let l: ShmInfoLimits = s.get(DS);
    assert_eq!(
        (l.shmmin, l.shmmax, l.shmmni, l.shmseg, l.shmall),
        (
            1,
            SHMMAX as u64,
            SHMMNI as u64,
            SHMSEG as u64,
            SHMALL as u64
        )
    );
    let a = s.shmget(0x11, PAGE_SIZE, IPC_CREAT | 0o600);
    let b = s.shmget(0x22, 3 * PAGE_SIZE, IPC_CREAT | 0o644);
    let c = s.shmget(0x33, PAGE_SIZE, IPC_CREAT | 0o600);
    assert_eq!(s.shmctl(c, IPC_RMID, 0), 0);
    let p = s.shmat(b, 0, 0) as usize;
    assert_eq!(s.shmctl(b, IPC_RMID, 0), 0);
    // SC-31: SHM_INFO counts and the highest index; SHM_STAT lists by index, the removed
    // but attached segment included with SHM_DEST.
    let hi = s.shmctl(0, SHM_INFO, DS);
    let info: ShmInfo = s.get(DS);
    assert_eq!(info.used_ids, 2);
    assert_eq!(info.shm_tot, 4);
    assert_eq!(hi, 1);
    assert_eq!(s.shmctl(0, IPC_INFO, DS), 1);
    let mut seen = Vec::new();
    for idx in 0..=hi {
        let r = s.shmctl(idx, SHM_STAT, DS);
        if r >= 0 {
            let ds: ShmidDs = s.get(DS);
            seen.push((r, ds.shm_perm.key, ds.shm_perm.mode, ds.shm_nattch));
        }
    }
    assert_eq!(seen, vec![(a, 0x11, 0o600, 0), (b, 0, 0o644 | SHM_DEST, 1)]);
    assert_eq!(s.shmctl(2, SHM_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmctl(-1, SHM_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmctl(SHMMNI as i64, SHM_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmctl(0, SHM_INFO, 0), err(Errno::EFAULT));
    // SC-28, SC-32, SC-33: unknown commands (SHM_LOCK/UNLOCK/SHM_STAT_ANY not provided).
    for cmd in [-1, 99, 11, 12, 15] {
        assert_eq!(s.shmctl(a, cmd, DS), err(Errno::EINVAL), "cmd {cmd}");
    }
    assert_eq!(s.shmdt(p), 0);
}

#[test]
fn sx_exit_detaches_everything() {
    let mut s = Sys::with_proc();
    let k = 0xe817;
    let id = s.shmget(k, PAGE_SIZE, IPC_CREAT | 0o600);
    let free = s.k.pg.free();
    // SX-01: a child attaches twice and exits without shmdt.
    let child = s.child();
    s.switch_to(child);
    let p = s.shmat(id, 0, 0) as usize;
    s.shmat(id, 0, SHM_RDONLY);
    s.put(p, b"childpat");
    assert_eq!(s.stat(id).shm_nattch, 2);
    s.arch.advance(11_000_000_000);
    s.call(nr::EXIT, &[0]);
    s.run();
    s.settle();
    s.switch_to(1);
    let ds = s.stat(id);
    assert_eq!(ds.shm_nattch, 0);
    assert_eq!(ds.shm_dtime, T0 + 11);
    assert_eq!(ds.shm_lpid, child);
    // SX-03: the segment and its data outlive the creator's attachments.
    let q = s.shmat(id, 0, 0) as usize;
    assert_eq!(&s.get::<u64>(q).to_le_bytes(), b"childpat");
    assert_eq!(s.shmdt(q), 0);
    // SX-02: killed instead of exiting; SX-05: marked for removal, destroyed by the exit.
    let c2 = s.child();
    s.switch_to(c2);
    let _ = s.shmat(id, 0, 0);
    s.switch_to(1);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    s.k.kill(None, c2, sys::SIGKILL).unwrap();
    s.settle();
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.shmget(k, 0, 0), err(Errno::ENOENT));
    assert_eq!(s.k.shm.used(), 0);
    assert!(s.k.pg.free() > free, "segment pages freed too");
    // SX-04: never attached; the creator exits; the segment stays.
    let c3 = s.child();
    s.switch_to(c3);
    let id3 = s.shmget(0x5804, PAGE_SIZE, IPC_CREAT | 0o600);
    s.call(nr::EXIT, &[0]);
    s.run();
    s.switch_to(1);
    assert_eq!(s.shmget(0x5804, 0, 0), id3);
    // SX-06 / DV-13: a spawned program starts with no attachments.
    let _ = s.shmat(id3, 0, 0);
    let c4 = s.child();
    let slot = s.k.slot_of(c4).unwrap();
    assert!(!s.k.task(slot).regions.iter().any(crate::mm::shm::is_sysv));
    assert_eq!(s.stat(id3).shm_nattch, 1);
}

#[test]
fn exit_with_attachments_returns_every_page() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.free();
    let child = s.child();
    s.switch_to(child);
    for _ in 0..5 {
        let id = s.shmget(IPC_PRIVATE, 40 * PAGE_SIZE, IPC_CREAT | 0o600);
        let p = s.shmat(id, 0, 0) as usize;
        s.shmat(
            id,
            0x45_0000_0000 + (id as usize % SHMMNI) * (1 << 30),
            SHM_RDONLY,
        );
        s.put(p, b"dirty");
        assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    }
    s.call(nr::EXIT, &[0]);
    s.run();
    s.switch_to(1);
    assert_eq!(s.call(nr::WAIT4, &[child as usize, 0, 0, 0]), child as i64);
    assert_eq!(s.k.pg.free(), base);
    assert_eq!(s.k.shm.pages, 0);
}

#[test]
fn futex_wait_and_wake_meet_across_processes() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let p1 = s.shmat(id, 0, 0) as usize;
    let word = p1 + 64;
    s.put(word, &5u32.to_le_bytes());
    // The value differs: EAGAIN at once.
    assert_eq!(
        s.call(nr::FUTEX, &[word, sys::FUTEX_WAIT, 4, 0]),
        err(Errno::EAGAIN)
    );
    // Bad addresses.
    assert_eq!(
        s.call(nr::FUTEX, &[word + 1, sys::FUTEX_WAIT, 5, 0]),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.call(nr::FUTEX, &[0x50_0000_0000, sys::FUTEX_WAIT, 5, 0]),
        err(Errno::EFAULT)
    );
    assert_eq!(s.call(nr::FUTEX, &[word, 77, 5, 0]), err(Errno::ENOSYS));
    assert_eq!(
        s.call(nr::FUTEX, &[word, sys::FUTEX_WAIT, 5, 0x10]),
        err(Errno::EFAULT)
    );
    // Two waiters in the child... one child, attached elsewhere, blocks first.
    let child = s.child();
    s.switch_to(child);
    let p2 = s.shmat(id, 0x41_0000_0000, 0) as usize;
    s.call(
        nr::FUTEX,
        &[p2 + 64, sys::FUTEX_WAIT | sys::FUTEX_PRIVATE_FLAG, 5, 0],
    );
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "child blocked");
    // A wake on another word of the page wakes nobody.
    assert_eq!(s.call(nr::FUTEX, &[word + 4, sys::FUTEX_WAKE, 1, 0]), 0);
    s.put(word, &6u32.to_le_bytes());
    assert_eq!(
        s.call(nr::FUTEX, &[word, sys::FUTEX_WAKE, i32::MAX as usize, 0]),
        1
    );
    s.switch_to(child);
    assert_eq!(s.frame.x[0], 0, "woken with 0");
    // Timeout: ETIMEDOUT at the deadline.
    let ts = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ts).unwrap();
    s.call(nr::FUTEX, &[p2 + 64, sys::FUTEX_WAIT, 6, SCRATCH]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    s.arch.advance(2_000_000);
    s.k.timer();
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    assert_eq!(s.frame.x[0] as i64, err(Errno::ETIMEDOUT));
    // Bad timeouts.
    let ts = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ts).unwrap();
    assert_eq!(
        s.call(nr::FUTEX, &[p2 + 64, sys::FUTEX_WAIT, 6, SCRATCH]),
        err(Errno::EINVAL)
    );
}

#[test]
fn futex_wake_counts_and_order() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let kids: Vec<i32> = (0..3).map(|_| s.child()).collect();
    for &c in &kids {
        s.switch_to(c);
        let p = s.shmat(id, 0, 0) as usize;
        s.call(nr::FUTEX, &[p, sys::FUTEX_WAIT, 0, 0]);
        s.run();
    }
    s.switch_to(1);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 0, 0]), 0);
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 2, 0]), 2);
    // The first two to wait were woken, the third still waits.
    let blocked = |s: &Sys, pid: i32| {
        s.k.task(s.k.slot_of(pid).unwrap()).state == crate::task::State::Blocked
    };
    assert!(!blocked(&s, kids[0]) && !blocked(&s, kids[1]) && blocked(&s, kids[2]));
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 5, 0]), 1);
}

#[test]
fn futex_queue_sheds_waiters_that_timed_out() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let p = s.shmat(id, 0, 0) as usize;
    let ts = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 1000,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ts).unwrap();
    let child = s.child();
    s.switch_to(child);
    let q = s.shmat(id, 0, 0) as usize;
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ts).unwrap();
    // More timed-out waits than the queue holds: stale entries must be purged, not pile up.
    for _ in 0..3 * crate::task::MAX_TASKS {
        s.call(nr::FUTEX, &[q, sys::FUTEX_WAIT, 0, SCRATCH]);
        s.run();
        s.arch.advance(2_000);
        s.k.timer();
        s.call(nr::SCHED_YIELD, &[]);
        s.run();
        s.switch_to(child);
        assert_eq!(s.frame.x[0] as i64, err(Errno::ETIMEDOUT));
    }
    assert!(s.k.futex.iter().all(|q| q.is_empty()));
    // A real waiter is still found and woken exactly once.
    s.call(nr::FUTEX, &[q, sys::FUTEX_WAIT, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 10, 0]), 1);
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 10, 0]), 0);
}

/// Issue a syscall and leave its kernel work pending (no return to user yet).
fn syscall_only(s: &mut Sys, n: usize, args: &[usize]) {
    s.frame.x[8] = n as u64;
    for (i, a) in args.iter().enumerate() {
        s.frame.x[i] = *a as u64;
    }
    s.k.syscall(&mut s.frame);
}

fn has_work(s: &Sys) -> bool {
    s.k.task(s.k.current.unwrap()).work.is_some()
}

/// A small segment is built and freed inside its syscalls (no work left, no reclaim queue);
/// one just over the limit is queued and freed as work.
#[test]
fn a_small_segment_is_built_and_freed_within_the_calls() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.used();
    for (pages, queued) in [
        (1, false),
        (crate::work::STEP_FREE_INLINE, false),
        (crate::work::STEP_FREE_INLINE + 1, true),
    ] {
        syscall_only(
            &mut s,
            nr::SHMGET,
            &[IPC_PRIVATE as usize, pages * PAGE_SIZE, 0o600],
        );
        assert!(!has_work(&s), "{pages} pages are zeroed in the call");
        let id = s.frame.x[0] as i64;
        assert!(id >= 0);
        assert_eq!(s.k.pg.used(), base + pages);
        syscall_only(&mut s, nr::SHMCTL, &[id as usize, IPC_RMID as usize, 0]);
        assert_eq!(has_work(&s), queued, "{pages} pages");
        assert_eq!(!s.k.reclaim.is_empty(), queued);
        while has_work(&s) {
            assert_eq!(s.k.schedule(&mut s.frame), crate::task::Next::Again);
        }
        assert_eq!(s.frame.x[0], 0);
        assert_eq!(s.k.pg.used(), base, "{pages} pages back");
    }
}

#[test]
fn a_big_segment_is_built_and_freed_in_bounded_steps() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.used();
    let pages = 4 * BLOCK_PAGES;
    syscall_only(
        &mut s,
        nr::SHMGET,
        &[IPC_PRIVATE as usize, pages * PAGE_SIZE, 0o600],
    );
    assert!(has_work(&s), "4 blocks are not zeroed in one step");
    // The segment is not visible while it is built.
    assert_eq!(s.k.shm.used(), 0);
    let mut steps = 0;
    while has_work(&s) {
        assert_eq!(s.k.schedule(&mut s.frame), crate::task::Next::Again);
        steps += 1;
    }
    assert!(steps >= pages / crate::work::STEP_ZERO, "{steps} steps");
    let id = s.frame.x[0] as i64;
    assert!(id >= 0);
    assert_eq!(s.k.pg.used(), base + pages);
    // Every page reads as zero.
    let slot = id as usize % SHMMNI;
    for &p in
        s.k.objs
            .obj(s.k.shm.get(slot).unwrap().obj)
            .pages()
            .iter()
            .step_by(61)
    {
        let mut b = [1u8; PAGE_SIZE];
        crate::phys::read_phys(p, &mut b);
        assert!(b.iter().all(|&x| x == 0));
    }
    // Removal frees through the reclaim queue, also as work of the caller: nothing in the
    // syscall itself, then steps of at most STEP_FREE units (a contiguous run counts one
    // unit per four pages).
    syscall_only(&mut s, nr::SHMCTL, &[id as usize, IPC_RMID as usize, 0]);
    assert!(has_work(&s), "the pages are freed as work");
    assert_eq!(s.k.pg.used(), base + pages, "not in the syscall");
    let mut used = s.k.pg.used();
    while has_work(&s) {
        assert_eq!(s.k.schedule(&mut s.frame), crate::task::Next::Again);
        let now = s.k.pg.used();
        assert!(
            used - now <= 4 * crate::work::STEP_FREE,
            "{} in one step",
            used - now
        );
        used = now;
    }
    s.run();
    assert_eq!(s.frame.x[0], 0);
    assert!(s.k.reclaim.is_empty());
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn a_creator_killed_midway_leaves_nothing_and_a_same_key_waiter_goes_on() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.used();
    let a = s.child();
    let b = s.child();
    let key = 0x5151;
    s.switch_to(a);
    syscall_only(
        &mut s,
        nr::SHMGET,
        &[key as usize, 2 << 20, (IPC_CREAT | 0o600) as usize],
    );
    assert!(has_work(&s));
    s.call(nr::SCHED_YIELD, &[]);
    s.switch_to(b);
    // b asks for the same key meanwhile: it waits rather than create a second segment.
    let pc = s.frame.pc;
    syscall_only(
        &mut s,
        nr::SHMGET,
        &[key as usize, 4096, (IPC_CREAT | 0o600) as usize],
    );
    let bslot = s.k.current.unwrap();
    assert_eq!(s.k.task(bslot).state, crate::task::State::Blocked);
    s.run();
    // a is killed before it finishes: its half-built segment goes, b runs its shmget again
    // and creates the key itself.
    s.switch_to(1);
    assert_eq!(s.call(nr::KILL, &[a as usize, 9]), 0);
    s.switch_to(b);
    // b is back at its `svc` with its arguments: in user mode it issues shmget again.
    assert_eq!((s.frame.pc, s.frame.x[0]), (pc - 4, key as u64));
    let id = s.shmget(key, 4096, IPC_CREAT | 0o600);
    assert!(id >= 0, "{id}");
    assert_eq!(s.shmctl(id, IPC_STAT, DS), 0);
    assert_eq!(s.get::<ShmidDs>(DS).shm_segsz, 4096, "b's own segment");
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    s.switch_to(1);
    s.call(nr::WAIT4, &[a as usize, 0, 0, 0]);
    s.run();
    s.switch_to(b);
    s.call(nr::EXIT, &[0]);
    s.run();
    s.call(nr::WAIT4, &[b as usize, 0, 0, 0]);
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn a_big_attach_and_detach_map_in_steps_and_a_failure_half_way_changes_nothing() {
    let mut s = Sys::with_proc();
    let pages = 4 * BLOCK_PAGES;
    let id = s.shmget(IPC_PRIVATE, pages * PAGE_SIZE, 0o600);
    let before = s.stat(id);
    let tables = s.k.pg.used();
    // The mapping fails on its second piece: nothing is left mapped or counted.
    s.arch.inner.lock().unwrap().shmat_fails_after = Some(1);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::ENOMEM));
    s.arch.inner.lock().unwrap().shmat_fails_after = None;
    assert_eq!(s.stat(id), before, "SA-22");
    assert_eq!(s.k.pg.used(), tables);
    assert!(!s
        .k
        .task(s.k.current.unwrap())
        .regions
        .iter()
        .any(crate::mm::shm::is_sysv));
    // A real attach takes several steps, then every page is there.
    syscall_only(&mut s, nr::SHMAT, &[id as usize, 0, 0]);
    assert!(has_work(&s));
    s.run();
    let p = s.frame.x[0] as usize;
    assert!(s.writable(p) && s.writable(p + (pages - 1) * PAGE_SIZE));
    assert_eq!(s.stat(id).shm_nattch, 1);
    // Detach in steps too; the segment goes with it once removed.
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    syscall_only(&mut s, nr::SHMDT, &[p]);
    assert!(has_work(&s));
    s.run();
    assert_eq!(s.frame.x[0], 0);
    assert!(!s.writable(p));
    assert_eq!(s.k.shm.used(), 0);
}

#[test]
fn killed_during_a_big_attach_or_detach_everything_comes_back() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.used();
    // More than one step's worth both ways (STEP_MAP, STEP_UNMAP).
    let id = s.shmget(IPC_PRIVATE, 8 * BLOCK_PAGES * PAGE_SIZE, 0o600);
    let with_seg = s.k.pg.used();
    for op in [nr::SHMAT, nr::SHMDT] {
        let c = s.child();
        s.switch_to(c);
        if op == nr::SHMDT {
            let p = s.shmat(id, 0, 0) as usize;
            syscall_only(&mut s, nr::SHMDT, &[p]);
        } else {
            syscall_only(&mut s, nr::SHMAT, &[id as usize, 0, 0]);
        }
        assert!(has_work(&s));
        s.switch_to(1);
        assert_eq!(s.call(nr::KILL, &[c as usize, 9]), 0);
        s.call(nr::WAIT4, &[c as usize, 0, 0, 0]);
        s.run();
        assert_eq!(s.stat(id).shm_nattch, 0, "op {op}");
        assert_eq!(s.k.pg.used(), with_seg, "op {op}");
    }
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn an_exit_tears_down_in_steps_at_its_own_priority() {
    let mut s = Sys::with_proc();
    let base = s.k.pg.used();
    let c = s.child();
    s.switch_to(c);
    // The dying process holds the last attachment of a big removed segment.
    let id = s.shmget(IPC_PRIVATE, 8 * BLOCK_PAGES * PAGE_SIZE, 0o600);
    s.shmat(id, 0, 0);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    s.switch_to(1);
    assert_eq!(s.call(nr::SETPRIORITY, &[0, 0, 150]), 0);
    assert_eq!(s.call(nr::KILL, &[c as usize, 9]), 0);
    let cs = s.k.slot_of(c).unwrap();
    assert!(s.k.is_exiting(cs));
    // Signalling a dying process is accepted and changes nothing.
    assert_eq!(s.call(nr::KILL, &[c as usize, 15]), 0);
    // ps shows it exiting; the higher-priority parent keeps the CPU meanwhile.
    assert!(s.call(nr::TASKINFO, &[cs, SCRATCH]) > 0);
    assert_eq!(s.get::<sys::TaskInfo>(SCRATCH).state, sys::state::EXITING);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(
        s.cur_pid(),
        Some(1),
        "a lower priority exit does not preempt"
    );
    // The parent waits: the child's steps run, then the wait returns its status.
    s.call(nr::WAIT4, &[c as usize, SCRATCH, 0, 0]);
    let mut steps = 0;
    while s.k.schedule(&mut s.frame) == crate::task::Next::Again {
        steps += 1;
    }
    assert!(steps >= 3, "{steps} steps");
    // Woken, the parent issues its wait4 again and reaps the child.
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.frame.x[0] as i32, c);
    assert_eq!(sys::wtermsig(s.get(SCRATCH)), 9);
    assert_eq!(s.k.pg.used(), base);
}

/// A long shmdt left the rest of its unmapping as work; the reclaim queue was not empty (a
/// segment of another process being freed), and the call's ending replaced that work with a
/// drain: the rest of the attachment stayed mapped, its segment kept nattch 1 for ever, and
/// its pages never came back.
#[test]
fn a_long_shmdt_keeps_its_work_when_the_reclaim_queue_is_busy() {
    let mut s = Sys::with_proc();
    let b = s.child();
    // b's own pages (its stack, tables) come and go with b: count without them.
    let (base, pages1) = (s.k.pg.used(), s.k.task_pages(1));
    let big = 8 * BLOCK_PAGES * PAGE_SIZE;
    // More pages than a destroy frees at once, so that they are queued.
    let small = s.shmget(
        IPC_PRIVATE,
        (crate::work::STEP_FREE_INLINE + 1) * PAGE_SIZE,
        0o600,
    );
    let seg = s.shmget(IPC_PRIVATE, big, 0o666);
    assert!(small >= 0 && seg >= 0);
    s.switch_to(b);
    let p = s.shmat(seg, 0, 0) as usize;
    assert!(s.writable(p + big - PAGE_SIZE));
    // pid 1 removes the small segment: its pages wait in the reclaim queue, drained as
    // pid 1's work, which has not run yet when b detaches.
    s.switch_to(1);
    syscall_only(&mut s, nr::SHMCTL, &[small as usize, IPC_RMID as usize, 0]);
    assert!(!s.k.reclaim.is_empty());
    s.switch_to(b);
    syscall_only(&mut s, nr::SHMDT, &[p]);
    s.run();
    assert_eq!(s.pid(), b);
    assert_eq!(s.frame.x[0], 0, "shmdt returned 0");
    assert!(
        !s.readable(p) && !s.readable(p + big - PAGE_SIZE),
        "all of it unmapped"
    );
    assert_eq!(s.stat(seg).shm_nattch, 0);
    assert_eq!(s.shmctl(seg, IPC_RMID, 0), 0);
    // pid 1's drain of the small segment runs when it is scheduled.
    s.switch_to(1);
    s.run();
    assert!(s.k.reclaim.is_empty());
    assert_eq!(
        s.k.pg.used(),
        base + s.k.task_pages(1) - pages1,
        "every page back"
    );
}

/// shmget waiting for another process to finish building its key's segment had already
/// backed up over the `svc`; a caught signal then backed it up again (SA_RESTART: resumed
/// one instruction early) or wrote EINTR into x0, which the rerun took as the key.
#[test]
fn a_signal_to_a_shmget_waiting_for_its_key_reruns_it_after_the_handler() {
    use crate::tests::signals::{sigaction, HANDLER};
    use abi::signal::{SA_RESTART, SIGUSR1};
    for flags in [0, SA_RESTART] {
        let mut s = Sys::with_proc();
        let a = s.child();
        let b = s.child();
        let key = 0x5151;
        s.switch_to(a);
        syscall_only(
            &mut s,
            nr::SHMGET,
            &[
                key,
                2 * BLOCK_PAGES * PAGE_SIZE,
                (IPC_CREAT | 0o600) as usize,
            ],
        );
        assert!(has_work(&s), "a is building the segment");
        s.switch_to(b);
        assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, flags, 0), 0);
        let svc = s.frame.pc;
        syscall_only(&mut s, nr::SHMGET, &[key, PAGE_SIZE, 0o600]);
        assert_eq!(
            s.k.task(s.k.current.unwrap()).state,
            crate::task::State::Blocked
        );
        s.run(); // b is off the CPU
        s.switch_to(1);
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
        s.switch_to(b);
        assert_eq!(s.frame.pc, HANDLER, "the handler runs");
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.pc, svc - 4, "back at the svc (flags {flags:#x})");
        assert_eq!(s.frame.x[0], key as u64, "with the key in x0");
        // Once a has finished, the rerun finds the segment.
        s.switch_to(a);
        s.settle();
        let id = s.frame.x[0];
        s.switch_to(b);
        assert_eq!(s.shmget(key as i32, PAGE_SIZE, 0o600) as u64, id);
    }
}

#[test]
fn futex_wake_takes_the_highest_priority_waiter_first() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let kids: Vec<i32> = (0..3).map(|_| s.child()).collect();
    // The last to wait is raised above the others (and above the parent, so it waits
    // first and is woken by the parent's call below).
    for &c in &kids {
        s.switch_to(c);
        let p = s.shmat(id, 0, 0) as usize;
        s.call(nr::FUTEX, &[p, sys::FUTEX_WAIT, 0, 0]);
        s.run();
    }
    s.switch_to(1);
    assert_eq!(s.call(nr::SETPRIORITY, &[0, kids[2] as usize, 120]), 0);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 1, 0]), 1);
    let blocked = |s: &Sys, pid: i32| {
        s.k.task(s.k.slot_of(pid).unwrap()).state == crate::task::State::Blocked
    };
    assert!(blocked(&s, kids[0]) && blocked(&s, kids[1]) && !blocked(&s, kids[2]));
    // Among equals, the longest waiting.
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 1, 0]), 1);
    assert!(!blocked(&s, kids[0]) && blocked(&s, kids[1]));
}

/// Everything a run of calls leaves that the caller or a later call could see: results,
/// the segment's `shmid_ds`, the region list, the mappings and the pages in use.
type Seen = (
    Vec<i64>,
    ShmidDs,
    Vec<crate::mm::vm::Region>,
    Vec<(usize, usize, bool)>,
    usize,
);

fn attach_detach_run(no_fast: bool) -> (Seen, usize) {
    let mut s = Sys::with_proc();
    s.arch.inner.lock().unwrap().no_fast = no_fast;
    let id = s.shmget(IPC_PRIVATE, 2 * PAGE_SIZE, IPC_CREAT | 0o600);
    let mut out = Vec::new();
    let a = s.shmat(id, 0, 0);
    s.arch.advance(2_000_000_000);
    let b = s.shmat(id, 0, 0);
    let c = s.shmat(id, 0, SHM_RDONLY);
    out.extend([a, b, c]);
    s.arch.advance(3_000_000_000);
    // Detach the middle one first, then a whole attachment by munmap, then the last.
    out.push(s.shmdt(b as usize));
    out.push(s.call(nr::MUNMAP, &[c as usize, 2 * PAGE_SIZE]));
    let d = s.shmat(id, 0, 0);
    out.push(d);
    out.push(s.shmdt(a as usize));
    let ds = s.stat(id);
    let regions = s.k.task(s.k.current.unwrap()).regions.to_vec();
    let env = s.env();
    let maps = (0..4)
        .map(|k| d as usize + k * PAGE_SIZE)
        .chain((0..2).map(|k| a as usize + k * PAGE_SIZE))
        .map(|va| {
            let m = s.arch.mapping(&env, va);
            (
                va,
                m.map_or(0, |m| m.pa),
                m.is_some_and(|m| m.prot == Prot::Read),
            )
        })
        .collect();
    let used = s.k.pg.used();
    let fast = s.arch.inner.lock().unwrap().fast_maps;
    ((out, ds, regions, maps, used), fast)
}

#[test]
fn the_fast_attach_and_detach_leave_what_the_full_calls_leave() {
    let (fast, n) = attach_detach_run(false);
    let (full, none) = attach_detach_run(true);
    assert!(
        n >= 2,
        "the fast path took the attaches next to the first ({n})"
    );
    assert_eq!(none, 0);
    assert_eq!(fast, full);
    let ds = &fast.1;
    assert_eq!(ds.shm_nattch, 1);
    assert_eq!(ds.shm_atime - ds.shm_ctime, 5, "the last attach");
    assert_eq!(ds.shm_dtime - ds.shm_ctime, 5);
    assert!(fast.0.iter().all(|&r| r >= 0), "{:?}", fast.0);
}

#[test]
fn a_fast_detach_leaves_the_last_attachment_of_a_removed_segment_to_the_full_call() {
    let mut s = Sys::with_proc();
    let used = s.k.pg.used();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o600);
    let a = s.shmat(id, 0, 0);
    let b = s.shmat(id, 0, 0);
    assert!(s.arch.inner.lock().unwrap().fast_maps >= 1);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    // Removed: a new attach fails whichever path it would take.
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EINVAL));
    assert_eq!(s.shmdt(b as usize), 0);
    assert!(
        s.shmctl(0, SHM_STAT, DS) >= 0,
        "still listed, one attachment left"
    );
    assert_eq!(s.shmdt(a as usize), 0);
    s.settle();
    assert_eq!(s.shmctl(id, IPC_STAT, DS), err(Errno::EINVAL));
    assert_eq!(s.k.pg.used(), used, "segment pages and tables all back");
    // Nothing attached: a detach is EINVAL on either path.
    assert_eq!(s.shmdt(a as usize), err(Errno::EINVAL));
}

#[test]
fn fast_attaches_keep_the_shmseg_limit_and_permissions() {
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o640);
    let ro = s.shmget(IPC_PRIVATE, PAGE_SIZE, IPC_CREAT | 0o440);
    assert!(s.shmat(id, 0, 0) > 0);
    s.setuid(1000, 0);
    // Not the owner: group bits (r only) decide, on the fast path as on the full one.
    assert_eq!(s.shmat(id, 0, 0), err(Errno::EACCES));
    assert!(s.shmat(id, 0, SHM_RDONLY) > 0);
    assert_eq!(s.shmat(ro, 0, 0), err(Errno::EACCES));
    // Unknown flags and SHM_RND without an address go to the full call's checks.
    assert_eq!(s.shmat(id, 0, 0o100000), err(Errno::EINVAL));
    assert!(s.arch.inner.lock().unwrap().fast_maps >= 1);
}

#[test]
fn a_2mib_attach_in_one_step_fails_whole_and_otherwise_maps_as_the_full_call() {
    // 512 pages: one step of the fast path with the full mapping (blocks, tables).
    let mut s = Sys::with_proc();
    let id = s.shmget(IPC_PRIVATE, BLOCK_PAGES * PAGE_SIZE, 0o600);
    let before = s.stat(id);
    let used = s.k.pg.used();
    let regions = s.k.task(s.k.current.unwrap()).regions.len();
    // The mapping fails (no table page): nothing is attached, counted or left over.
    s.arch.inner.lock().unwrap().shmat_fails_after = Some(0);
    assert_eq!(s.shmat(id, 0, 0), err(Errno::ENOMEM));
    s.arch.inner.lock().unwrap().shmat_fails_after = None;
    assert_eq!(s.stat(id), before, "SA-22");
    assert_eq!(s.k.pg.used(), used);
    assert_eq!(s.k.task(s.k.current.unwrap()).regions.len(), regions);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(p % (BLOCK_PAGES * PAGE_SIZE), 0, "on a 2 MiB boundary");
    assert_eq!(
        s.arch.inner.lock().unwrap().shmat_calls.last(),
        Some(&(p, BLOCK_PAGES)),
        "one mapping call"
    );
    assert!(s.writable(p) && s.writable(p + (BLOCK_PAGES - 1) * PAGE_SIZE));
    assert_eq!(s.stat(id).shm_nattch, 1);
    assert_eq!(s.shmdt(p), 0);
    assert!(!s.readable(p));
    assert_eq!(s.stat(id).shm_nattch, 0);
}

/// The pages of the object attached at `p` (found through its region).
fn seg_pages(s: &Sys, p: usize) -> Vec<crate::phys::Pa> {
    let cur = s.k.current.unwrap();
    let (obj, off) = crate::mm::vm::find(&s.k.task(cur).regions, p)
        .and_then(|r| r.obj_page(p))
        .expect("an attachment");
    assert_eq!(off, 0);
    s.k.objs.obj(obj).pages().to_vec()
}

#[test]
fn a_2mib_segment_attaches_as_one_known_run_and_cuts_fall_back_to_pages() {
    const BLOCK: usize = BLOCK_PAGES * PAGE_SIZE;
    let mut s = Sys::with_proc();
    let free = s.k.pg.free();
    // One block and three pages: the block is a run the object vouches for, the tail not.
    let n = BLOCK_PAGES + 3;
    let id = s.shmget(IPC_PRIVATE, n * PAGE_SIZE, 0o600);
    assert!(id >= 0);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(p % BLOCK, 0, "on a 2 MiB boundary");
    let pages = seg_pages(&s, p);
    assert!(pages[0].is_multiple_of(BLOCK));
    assert!((0..BLOCK_PAGES).all(|k| pages[k] == pages[0] + k * PAGE_SIZE));
    // The fake checks that a block it is told of is a run.
    assert_eq!(
        s.arch.inner.lock().unwrap().shmat_runs.last(),
        Some(&(p, 1)),
        "one mapping call, its first block named a run"
    );
    for k in 0..n {
        s.put(p + k * PAGE_SIZE, &(k as u32).to_le_bytes());
    }
    // A page out of the block's middle (the tables split the block), one read-only.
    let hole = 100;
    assert_eq!(s.munmap(p + hole * PAGE_SIZE, PAGE_SIZE), 0);
    assert_eq!(
        s.mprotect(p + 7 * PAGE_SIZE, PAGE_SIZE, abi::mman::PROT_READ),
        0
    );
    for (k, &pa) in pages.iter().enumerate() {
        let va = p + k * PAGE_SIZE;
        if k == hole {
            assert!(!s.readable(va));
            continue;
        }
        assert_eq!(s.arch.mapping(&s.env(), va).unwrap().pa, pa, "page {k}");
        assert_eq!(s.get::<u32>(va), k as u32);
        assert_eq!(s.writable(va), k != 7, "page {k}");
    }
    assert_eq!(s.shmdt(p), 0);
    assert!((0..n).all(|k| !s.readable(p + k * PAGE_SIZE)));
    assert_eq!(s.stat(id).shm_nattch, 0);
    // Attached again whole: again a block, with the data.
    let q = s.shmat(id, 0, SHM_RDONLY) as usize;
    assert_eq!(
        s.arch.inner.lock().unwrap().shmat_runs.last(),
        Some(&(q, 1))
    );
    assert_eq!(s.get::<u32>(q + 300 * PAGE_SIZE), 300);
    assert!(!s.writable(q));
    assert_eq!(s.shmdt(q), 0);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.pg.free(), free, "every page back");
}

#[test]
fn a_2mib_segment_without_an_aligned_run_attaches_page_by_page() {
    let mut s = Sys::with_proc();
    // One page taken in every 2 MiB of physical memory: no aligned run is left.
    let mut all = Vec::new();
    while let Some(p) = s.k.pg.alloc() {
        all.push(p);
    }
    let mut held = Vec::new();
    for p in all {
        if (p / PAGE_SIZE) % BLOCK_PAGES == 5 {
            held.push(p);
        } else {
            s.k.pg.free_page(p);
        }
    }
    let free = s.k.pg.free();
    let id = s.shmget(IPC_PRIVATE, BLOCK_PAGES * PAGE_SIZE, 0o600);
    assert!(id >= 0);
    let p = s.shmat(id, 0, 0) as usize;
    assert_eq!(
        p % (BLOCK_PAGES * PAGE_SIZE),
        0,
        "still placed on a 2 MiB boundary"
    );
    let pages = seg_pages(&s, p);
    let run = pages[0].is_multiple_of(BLOCK_PAGES * PAGE_SIZE)
        && (1..BLOCK_PAGES).all(|k| pages[k] == pages[0] + k * PAGE_SIZE);
    assert!(!run, "no aligned run to be had");
    assert_eq!(
        s.arch.inner.lock().unwrap().shmat_runs.last(),
        Some(&(p, 0)),
        "no block named a run"
    );
    for (k, &pa) in pages.iter().enumerate() {
        let va = p + k * PAGE_SIZE;
        assert_eq!(s.arch.mapping(&s.env(), va).unwrap().pa, pa);
        assert_eq!(s.get::<u64>(va + 8), 0, "zeroed");
        assert!(s.writable(va));
    }
    assert_eq!(s.shmdt(p), 0);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.pg.free(), free);
    for p in held {
        s.k.pg.free_page(p);
    }
}

#[test]
fn small_objects_take_spare_page_lists_and_the_stock_is_whole_again_after() {
    let mut s = Sys::with_proc();
    let free = s.k.pg.free();
    let stock = s.k.objs.spare_lists();
    assert_eq!(stock, 4, "made at boot");
    let id = s.shmget(IPC_PRIVATE, PAGE_SIZE, 0o600);
    assert_eq!(s.k.objs.spare_lists(), stock - 1, "taken");
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.objs.spare_lists(), stock, "given back");
    assert_eq!(s.k.pg.free(), free, "its page freed");
    // Five small segments at once: one more than the stock; 3 pages each, whole and zeroed.
    let ids: Vec<i64> = (0..5)
        .map(|_| s.shmget(IPC_PRIVATE, 3 * PAGE_SIZE, 0o600))
        .collect();
    assert_eq!(s.k.objs.spare_lists(), 0);
    let p = s.shmat(ids[4], 0, 0) as usize;
    for k in 0..3 {
        assert_eq!(s.get::<u64>(p + k * PAGE_SIZE + 16), 0);
    }
    assert_eq!(s.shmdt(p), 0);
    for &id in &ids {
        assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    }
    assert_eq!(s.k.objs.spare_lists(), stock);
    // Too big for one: a list of its own; the stock is untouched.
    let id = s.shmget(IPC_PRIVATE, 100 * PAGE_SIZE, 0o600);
    assert_eq!(s.k.objs.spare_lists(), stock);
    assert_eq!(s.shmctl(id, IPC_RMID, 0), 0);
    assert_eq!(s.k.objs.spare_lists(), stock);
    // A small object grown past the room: its list is replaced in the stock when it goes.
    let fd = s.shm_open("/grow", abi::fcntl::O_RDWR | abi::fcntl::O_CREAT, 0o600);
    assert_eq!(s.k.objs.spare_lists(), stock - 1);
    assert_eq!(s.ftruncate(fd, (40 * PAGE_SIZE) as i64), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.shm_unlink("/grow"), 0);
    assert_eq!(s.k.objs.spare_lists(), stock, "topped up");
    assert_eq!(s.k.pg.free(), free, "every page back");
}
