//! mmap, munmap, mprotect, msync and madvise against the fake architecture: anonymous and
//! object mappings, placement, splitting, faults (catalogue `posix-shm.md` §7.4 ids).

use crate::phys::PAGE_SIZE;
use crate::tests::Sys;
use crate::up::{Access, Prot};
use abi::layout::{SHM_WINDOW_END, USER_END, USER_HEAP};
use abi::mman::*;
use abi::shm::{IPC_CREAT, IPC_PRIVATE};
use abi::sys::{self, nr};
use abi::Errno;

pub fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

pub const P: usize = PAGE_SIZE;

impl Sys {
    pub fn proc1() -> Sys {
        let mut s = Sys::new();
        s.k.spawn("prog", b"prog\0", None).unwrap();
        s.run();
        s
    }
    pub fn mmap(
        &mut self,
        addr: usize,
        len: usize,
        prot: u32,
        flags: u32,
        fd: i64,
        off: usize,
    ) -> i64 {
        self.call(
            nr::MMAP,
            &[addr, len, prot as usize, flags as usize, fd as usize, off],
        )
    }
    pub fn anon(&mut self, len: usize) -> usize {
        let r = self.mmap(
            0,
            len,
            PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS,
            -1,
            0,
        );
        assert!(r > 0, "anonymous mmap: {r}");
        r as usize
    }
    pub fn munmap(&mut self, addr: usize, len: usize) -> i64 {
        self.call(nr::MUNMAP, &[addr, len])
    }
    pub fn mprotect(&mut self, addr: usize, len: usize, prot: u32) -> i64 {
        self.call(nr::MPROTECT, &[addr, len, prot as usize])
    }
    pub fn access(&self, va: usize, access: Access) -> bool {
        self.k.arch.translate(&self.env(), va, access).is_some()
    }
    pub fn prot_at(&self, va: usize) -> Option<Prot> {
        self.arch.mapping(&self.env(), va).map(|m| m.prot)
    }
    pub fn free_pages(&self) -> usize {
        self.k.pg.free()
    }
}

#[test]
fn anonymous_memory_is_zeroed_private_and_comes_back() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let p = s.anon(3 * P + 1);
    assert_eq!(p % P, 0);
    assert!(p + 4 * P <= SHM_WINDOW_END, "below the stack's gap");
    // Four pages, zeroed, writable.
    for k in 0..4 {
        assert_eq!(s.get::<u64>(p + k * P), 0);
        assert!(s.access(p + k * P, Access::Write));
    }
    s.put(p + 8, &[1, 2, 3]);
    assert_eq!(
        [s.get::<u8>(p + 8), s.get::<u8>(p + 9), s.get::<u8>(p + 10)],
        [1, 2, 3]
    );
    let q = s.anon(P);
    assert_ne!(p, q);
    assert_eq!(s.get::<u64>(q), 0, "a new mapping is its own memory");
    assert_eq!(s.munmap(p, 4 * P), 0);
    assert_eq!(s.munmap(q, P), 0);
    assert!(!s.access(p, Access::Read));
    assert_eq!(s.free_pages(), free, "every page back");
}

#[test]
fn pm_argument_errors() {
    let mut s = Sys::proc1();
    let rw = PROT_READ | PROT_WRITE;
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let free = s.free_pages();
    // PM-07: zero length.
    assert_eq!(s.mmap(0, 0, rw, anon, -1, 0), err(Errno::EINVAL));
    // PM-08: unaligned offset.
    assert_eq!(s.mmap(0, P, rw, MAP_SHARED, 0, 100), err(Errno::EINVAL));
    // PM-09: MAP_FIXED at an unaligned address.
    assert_eq!(
        s.mmap(0x5000_0001, P, rw, anon | MAP_FIXED, -1, 0),
        err(Errno::EINVAL)
    );
    // PM-10: neither shared nor private.
    assert_eq!(s.mmap(0, P, rw, MAP_ANONYMOUS, -1, 0), err(Errno::EINVAL));
    // PM-13: a bad descriptor without MAP_ANONYMOUS.
    assert_eq!(s.mmap(0, P, rw, MAP_SHARED, 9, 0), err(Errno::EBADF));
    assert_eq!(s.mmap(0, P, rw, MAP_SHARED, -1, 0), err(Errno::EBADF));
    // The console cannot be mapped.
    assert_eq!(s.mmap(0, P, rw, MAP_SHARED, 0, 0), err(Errno::ENODEV));
    // Unknown protection bits; W^X.
    assert_eq!(s.mmap(0, P, 8, anon, -1, 0), err(Errno::EINVAL));
    assert_eq!(
        s.mmap(0, P, PROT_WRITE | PROT_EXEC, anon, -1, 0),
        err(Errno::EACCES)
    );
    // A length that overflows when rounded; a range past the address space (PM-16).
    assert_eq!(
        s.mmap(0, usize::MAX - 10, rw, anon, -1, 0),
        err(Errno::ENOMEM)
    );
    assert_eq!(
        s.mmap(USER_END - P, 2 * P, rw, anon | MAP_FIXED, -1, 0),
        err(Errno::ENOMEM)
    );
    assert_eq!(
        s.mmap(usize::MAX & !(P - 1), P, rw, anon | MAP_FIXED, -1, 0),
        err(Errno::ENOMEM)
    );
    // Kernel-half addresses are outside the user range for munmap too (PM-23).
    assert_eq!(s.munmap(0xffff_0000_0000_0000, P), err(Errno::EINVAL));
    // The heap's reserve is not for MAP_FIXED.
    assert_eq!(
        s.mmap(USER_HEAP, P, rw, anon | MAP_FIXED, -1, 0),
        err(Errno::EINVAL)
    );
    // Unknown flags under MAP_SHARED_VALIDATE.
    assert_eq!(
        s.mmap(
            0,
            P,
            rw,
            MAP_SHARED_VALIDATE | MAP_ANONYMOUS | 0x4000_0000,
            -1,
            0
        ),
        err(Errno::EOPNOTSUPP)
    );
    // PM-21, PM-22: munmap needs an aligned address and a length.
    assert_eq!(s.munmap(0x5000_0001, P), err(Errno::EINVAL));
    assert_eq!(s.munmap(0x5000_0000, 0), err(Errno::EINVAL));
    // PM-20: nothing mapped there is fine.
    assert_eq!(s.munmap(0x5000_0000, P), 0);
    assert_eq!(s.free_pages(), free, "nothing allocated by a failure");
}

#[test]
fn pm_fixed_noreplace_and_hints() {
    let mut s = Sys::proc1();
    let rw = PROT_READ | PROT_WRITE;
    let anon = MAP_PRIVATE | MAP_ANONYMOUS;
    let at = 0x20_0000_0000;
    assert_eq!(s.mmap(at, 2 * P, rw, anon | MAP_FIXED, -1, 0), at as i64);
    s.put(at, &[9]);
    // A hint that is free is taken; one that is not is moved elsewhere.
    assert_eq!(s.mmap(at + 4 * P, P, rw, anon, -1, 0), (at + 4 * P) as i64);
    let moved = s.mmap(at, P, rw, anon, -1, 0);
    assert!(moved > 0 && moved as usize != at);
    // MAP_FIXED_NOREPLACE refuses an occupied range.
    assert_eq!(
        s.mmap(at + P, P, rw, anon | MAP_FIXED_NOREPLACE, -1, 0),
        err(Errno::EEXIST)
    );
    assert_eq!(s.get::<u8>(at), 9, "left alone");
    // MAP_FIXED replaces the second page: new zeroed memory, the first page kept.
    s.put(at + P, &[7]);
    assert_eq!(
        s.mmap(at + P, P, rw, anon | MAP_FIXED, -1, 0),
        (at + P) as i64
    );
    assert_eq!(s.get::<u8>(at + P), 0);
    assert_eq!(s.get::<u8>(at), 9);
}

#[test]
fn pm_partial_munmap_and_mprotect_split_regions() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let p = s.anon(3 * P);
    for k in 0..3 {
        s.put(p + k * P, &[k as u8 + 1]);
    }
    // PM-24: the middle page goes, the others stay.
    assert_eq!(s.munmap(p + P, P), 0);
    assert!(!s.access(p + P, Access::Read));
    assert_eq!(s.get::<u8>(p), 1);
    assert_eq!(s.get::<u8>(p + 2 * P), 3);
    // mprotect: read-only on one page, PROT_NONE on the other.
    assert_eq!(s.mprotect(p, P, PROT_READ), 0);
    assert_eq!(s.prot_at(p), Some(Prot::Read));
    assert!(!s.access(p, Access::Write));
    assert_eq!(s.mprotect(p + 2 * P, P, PROT_NONE), 0);
    assert_eq!(s.prot_at(p + 2 * P), Some(Prot::None));
    assert!(
        !s.access(p + 2 * P, Access::Read),
        "PROT_NONE: no access (PM-15)"
    );
    // The hole in the middle: mprotect over it is ENOMEM, msync and madvise too.
    assert_eq!(s.mprotect(p, 3 * P, PROT_READ), err(Errno::ENOMEM));
    assert_eq!(
        s.call(nr::MSYNC, &[p, 3 * P, MS_SYNC as usize]),
        err(Errno::ENOMEM)
    );
    assert_eq!(s.call(nr::MSYNC, &[p, P, MS_SYNC as usize]), 0);
    assert_eq!(
        s.call(nr::MSYNC, &[p, P, (MS_SYNC | MS_ASYNC) as usize]),
        err(Errno::EINVAL)
    );
    assert_eq!(s.call(nr::MADVISE, &[p, P, MADV_WILLNEED as usize]), 0);
    assert_eq!(s.call(nr::MADVISE, &[p, P, 99]), err(Errno::EINVAL));
    // And back: the data is still there.
    assert_eq!(s.mprotect(p + 2 * P, P, PROT_READ | PROT_WRITE), 0);
    assert_eq!(s.get::<u8>(p + 2 * P), 3);
    // W^X and unknown bits.
    assert_eq!(s.mprotect(p, P, PROT_WRITE | PROT_EXEC), err(Errno::EACCES));
    assert_eq!(s.mprotect(p + 1, P, PROT_READ), err(Errno::EINVAL));
    // The middle of one mapping: three regions from one; everything back at munmap.
    let q = s.anon(5 * P);
    let n = s.k.task(s.k.current.unwrap()).regions.len();
    assert_eq!(s.mprotect(q + P, 2 * P, PROT_READ), 0);
    assert_eq!(s.k.task(s.k.current.unwrap()).regions.len(), n + 2);
    assert_eq!(s.prot_at(q), Some(Prot::ReadWrite));
    assert_eq!(s.prot_at(q + 2 * P), Some(Prot::Read));
    assert_eq!(s.prot_at(q + 3 * P), Some(Prot::ReadWrite));
    assert_eq!(s.munmap(p, 3 * P), 0);
    assert_eq!(s.munmap(q, 5 * P), 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn mprotect_works_on_the_program_stack_and_attachments() {
    let mut s = Sys::proc1();
    // The program's data page and the stack are regions like any other.
    assert_eq!(s.mprotect(0x40_1000, P, PROT_READ), 0);
    assert!(!s.access(0x40_1000, Access::Write));
    assert_eq!(s.mprotect(0x40_1000, P, PROT_READ | PROT_WRITE), 0);
    assert!(s.access(0x40_1000, Access::Write));
    // A System V attachment: read-only, then back; a read-only attach never gets write.
    let id = s.call(
        nr::SHMGET,
        &[IPC_PRIVATE as usize, 2 * P, (IPC_CREAT | 0o600) as usize],
    );
    let a = s.call(nr::SHMAT, &[id as usize, 0, 0]) as usize;
    assert_eq!(s.mprotect(a, P, PROT_READ), 0);
    assert!(!s.access(a, Access::Write));
    assert!(s.access(a + P, Access::Write));
    assert_eq!(s.mprotect(a, 2 * P, PROT_READ | PROT_WRITE), 0);
    assert!(s.access(a, Access::Write));
    let ro = s.call(nr::SHMAT, &[id as usize, 0, abi::shm::SHM_RDONLY as usize]) as usize;
    assert_eq!(
        s.mprotect(ro, P, PROT_READ | PROT_WRITE),
        err(Errno::EACCES)
    );
    // The split attachment still detaches whole.
    assert_eq!(s.mprotect(a + P, P, PROT_NONE), 0);
    assert_eq!(s.call(nr::SHMDT, &[a]), 0);
    assert!(!s.access(a, Access::Read) && s.prot_at(a + P).is_none());
    assert_eq!(s.call(nr::SHMDT, &[ro]), 0);
}

#[test]
fn shared_memory_regions_go_at_exit_and_every_page_comes_back() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let p = s.anon(600 * P);
    s.put(p + 599 * P, &[5]);
    s.mprotect(p + 10 * P, P, PROT_NONE);
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.run();
    let _ = s.call(nr::WAIT4, &[child as usize, 0, 0, 0]);
    assert_eq!(s.free_pages(), free);
    let _ = sys::WNOHANG;
}

#[test]
fn map_fixed_replacement_unmaps_in_steps_before_mapping() {
    use crate::work::{Then, Work};
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let n = crate::mm::shm::STEP_UNMAP + 5;
    let old = s.anon(n * P);
    for k in [0, n / 2, n - 1] {
        s.put(old + k * P, b"old");
    }
    // Issue the MAP_FIXED call by hand: its first step leaves the rest of the unmap as work.
    s.frame.x[8] = nr::MMAP as u64;
    let args = [
        old,
        n * P,
        (PROT_READ | PROT_WRITE) as usize,
        (MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED) as usize,
        usize::MAX,
        0,
    ];
    for (i, a) in args.iter().enumerate() {
        s.frame.x[i] = *a as u64;
    }
    s.k.syscall(&mut s.frame);
    let me = s.k.current.unwrap();
    match s.k.task(me).work {
        Some(Work::Unmap {
            left,
            then: Then::Map { va, fill: true, .. },
            ..
        }) => {
            assert_eq!(va, old);
            assert_eq!(left, n - crate::mm::shm::STEP_UNMAP);
        }
        w => panic!("expected the unmap in steps, then the new mapping: {w:?}"),
    }
    // The region list already has the new mapping alone there.
    assert_eq!(
        s.k.task(me)
            .regions
            .iter()
            .filter(|r| r.end() > old && r.va < old + n * P)
            .count(),
        1
    );
    while s.k.task(me).work.is_some() {
        s.k.schedule(&mut s.frame);
    }
    assert_eq!(s.frame.x[0] as usize, old, "the call returns the address");
    for k in [0, n / 2, n - 1] {
        assert_eq!(s.get::<[u8; 3]>(old + k * P), [0; 3], "fresh zeroed pages");
    }
    assert_eq!(s.munmap(old, n * P), 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn too_many_regions_is_enomem_with_nothing_kept() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let objs = s.k.objs.used();
    let mut maps = std::vec::Vec::new();
    loop {
        let r = s.mmap(0, P, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if r < 0 {
            assert_eq!(r, err(Errno::ENOMEM));
            break;
        }
        maps.push(r as usize);
        assert!(maps.len() <= crate::mm::vm::MAX_REGIONS, "no limit");
    }
    let me = s.k.current.unwrap();
    assert_eq!(s.k.task(me).regions.len(), crate::mm::vm::MAX_REGIONS);
    assert_eq!(
        s.k.objs.used(),
        objs + maps.len(),
        "the failed call kept no object"
    );
    // A cut that would need one more region fails too, changing nothing.
    let three = maps[maps.len() - 1];
    assert_eq!(s.munmap(three, P), 0);
    maps.pop();
    let big = s.anon(3 * P);
    assert_eq!(s.munmap(big + P, P), err(Errno::ENOMEM));
    assert_eq!(s.mprotect(big + P, P, PROT_READ), err(Errno::ENOMEM));
    assert!(s.access(big + P, Access::Write));
    assert_eq!(s.munmap(big, 3 * P), 0);
    for m in maps {
        assert_eq!(s.munmap(m, P), 0);
    }
    assert_eq!(s.free_pages(), free);
    assert_eq!(s.k.objs.used(), objs);
}

/// Where a test keeps a name in user memory.
const SCRATCH_NAME: usize = crate::tests::SCRATCH + 2048;

impl Sys {
    /// Issue mmap by hand: only its first step runs (the rest is left as work).
    fn mmap_first_step(&mut self, args: [usize; 6]) -> usize {
        self.frame.x[8] = nr::MMAP as u64;
        for (i, a) in args.iter().enumerate() {
            self.frame.x[i] = *a as u64;
        }
        self.k.syscall(&mut self.frame);
        let me = self.k.current.unwrap();
        assert!(self.k.task(me).work.is_some(), "left work");
        me
    }
    /// Another process's ftruncate growing object `x` to `npages` ends now (between two
    /// steps of the call in progress).
    fn grow_elsewhere(&mut self, x: u16, npages: usize) {
        self.k.objs.obj_mut(x).grow_to(npages).unwrap();
        while !self.k.obj_fill(x, 4096).unwrap() {}
        self.k.obj_set_size(x, (npages * P) as u64);
    }
    fn obj_of(&self, me: usize, fd: i64) -> u16 {
        match self.k.file_of(me, fd as usize).unwrap().node {
            crate::fs::file::Node::Shm(x) => x,
            n => panic!("{n:?}"),
        }
    }
}

/// A resize that ends while a mapping of the object is still being made (MAP_FIXED's unmap,
/// or the mapping steps) touches only what is mapped: the mapping then completes with the
/// object's pages as they are, and nothing is left in the tables once the object is gone.
#[test]
fn resize_between_steps_of_a_mapping_leaves_no_stale_entries() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let rw = (PROT_READ | PROT_WRITE) as usize;
    s.put(SCRATCH_NAME, b"/grow\0");
    let fd = s.call(
        nr::SHM_OPEN,
        &[
            SCRATCH_NAME,
            (abi::fcntl::O_RDWR | abi::fcntl::O_CREAT) as usize,
            0o600,
        ],
    );
    assert!(fd >= 0);
    assert_eq!(s.call(nr::FTRUNCATE, &[fd as usize, P]), 0);
    // MAP_FIXED over a large anonymous mapping: the grow lands during the unmap.
    let n = crate::mm::shm::STEP_UNMAP + 5;
    let old = s.anon(n * P);
    let me = s.mmap_first_step([
        old,
        n * P,
        rw,
        (MAP_SHARED | MAP_FIXED) as usize,
        fd as usize,
        0,
    ]);
    let x = s.obj_of(me, fd);
    s.grow_elsewhere(x, 1024);
    while s.k.task(me).work.is_some() {
        s.k.schedule(&mut s.frame);
    }
    assert_eq!(s.frame.x[0] as usize, old, "the mapping is made");
    assert!(
        s.access(old + 1023 * P, Access::Write),
        "the grown object's pages"
    );
    assert!(!s.access(old + 1024 * P, Access::Read), "past its end");
    // The mapping steps of a large mapping: the grow lands between two of them.
    let m = crate::mm::shm::STEP_MAP + 500;
    let me = s.mmap_first_step([0, m * P, rw, MAP_SHARED as usize, fd as usize, 0]);
    let va = match s.k.task(me).work {
        Some(crate::work::Work::MapRegion { va, .. }) => va,
        w => panic!("{w:?}"),
    };
    s.grow_elsewhere(x, m);
    while s.k.task(me).work.is_some() {
        s.k.schedule(&mut s.frame);
    }
    assert_eq!(s.frame.x[0] as usize, va, "the mapping is made");
    for k in [
        0,
        crate::mm::shm::STEP_MAP - 1,
        crate::mm::shm::STEP_MAP,
        m - 1,
    ] {
        assert!(s.access(va + k * P, Access::Write), "page {k}");
    }
    // The object goes: nothing of it stays mapped anywhere.
    assert_eq!(s.call(nr::FTRUNCATE, &[fd as usize, 0]), 0);
    for probe in [old + P, old + 1023 * P, va + (m - 1) * P, va] {
        assert!(!s.access(probe, Access::Read), "stale entry at {probe:#x}");
    }
    assert_eq!(s.munmap(old, n * P), 0);
    assert_eq!(s.munmap(va, m * P), 0);
    s.call(nr::CLOSE, &[fd as usize]);
    s.put(SCRATCH_NAME, b"/grow\0");
    assert_eq!(s.call(nr::SHM_UNLINK, &[SCRATCH_NAME]), 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn shmdt_leaves_a_mapping_made_in_a_hole_of_the_attachment() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    // Big enough that each piece leaves the tables in more than one step.
    let n = crate::mm::shm::STEP_UNMAP + 8;
    let id = s.call(
        nr::SHMGET,
        &[IPC_PRIVATE as usize, n * P, (IPC_CREAT | 0o600) as usize],
    );
    let a = s.call(nr::SHMAT, &[id as usize, 0, 0]) as usize;
    for k in [0, 2, 4, n - 3, n - 1] {
        s.put(a + k * P, &[7]);
    }
    // A hole with something else in it, and a hole left empty.
    assert_eq!(s.munmap(a + 3 * P, P), 0);
    let fixed = PROT_READ | PROT_WRITE;
    let flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED;
    assert_eq!(
        s.mmap(a + 3 * P, P, fixed, flags, -1, 0),
        (a + 3 * P) as i64
    );
    s.put(a + 3 * P, b"mine");
    assert_eq!(s.munmap(a + (n - 2) * P, P), 0);
    assert_eq!(s.call(nr::SHMDT, &[a]), 0);
    // Every piece of the attachment is gone, the other mapping is not.
    for k in [0, 2, 4, n / 2, n - 3, n - 1] {
        assert!(!s.access(a + k * P, Access::Read), "page {k} still mapped");
    }
    assert_eq!(s.get::<[u8; 4]>(a + 3 * P), *b"mine");
    let me = s.k.current.unwrap();
    assert_eq!(
        s.k.task(me)
            .regions
            .iter()
            .filter(|r| r.end() > a && r.va < a + n * P)
            .count(),
        1
    );
    assert_eq!(s.munmap(a + 3 * P, P), 0);
    assert_eq!(
        s.call(nr::SHMCTL, &[id as usize, abi::shm::IPC_RMID as usize, 0]),
        0
    );
    s.settle();
    assert_eq!(s.free_pages(), free);
}
