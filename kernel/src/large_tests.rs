//! Large shared-memory objects against the fake architecture: 2 MiB-aligned contiguous page
//! runs, 2 MiB-aligned placement and block mappings for POSIX shm, memfd, `/dev/shmem/new`
//! and anonymous memory; partial munmap and mprotect cutting into block mappings; and the
//! race of two tasks on the first mmap of one `/dev/shmem/new` descriptor (DN-16).
//!
//! The fake keeps one entry per 4 KiB page, so it cannot hold a block descriptor. What
//! decides a block on aarch64 is `arch::ttbl::Tree::map`: one map call covering a
//! 2 MiB-aligned VA slot whose 512 pages are physically contiguous from a 2 MiB-aligned
//! address. `block_slots` replays that rule on the fake's calls and entries; how the real
//! tables split a block on a partial unmap or protect is tested in `arch/src/ttbl.rs`.

use std::vec::Vec;

use crate::mm::shm::BLOCK_PAGES;
use crate::mm::vm;
use crate::mmap_tests::{err, P};
use crate::phys::Pa;
use crate::sched::wait::WaitId;
use crate::task::{Block, Next, State, SLICE_NS};
use crate::tests::{Sys, SCRATCH};
use crate::up::{Access, Prot};
use abi::fcntl::*;
use abi::mman::*;
use abi::sys::{nr, SIGSEGV};
use abi::Errno;

const BLOCK: usize = BLOCK_PAGES * P;
const RW: u32 = PROT_READ | PROT_WRITE;
/// Two blocks: big enough for a cut inside one block to leave the other whole.
const LEN: usize = 2 * BLOCK;
const NAME: usize = SCRATCH + 2048;

fn me(s: &Sys) -> usize {
    s.k.current.unwrap()
}

/// Whether every whole 512-page chunk of `pages` is one run, contiguous from a 2 MiB-aligned
/// address (what a block descriptor needs); there must be at least one.
fn runs_at_block_offsets(pages: &[Pa]) -> bool {
    pages.len() >= BLOCK_PAGES
        && pages.chunks_exact(BLOCK_PAGES).all(|c| {
            c[0].is_multiple_of(BLOCK) && c.iter().enumerate().all(|(k, &p)| p == c[0] + k * P)
        })
}

/// Forget the map calls made so far, so that `block_slots` sees only the next mapping's.
fn clear_calls(s: &Sys) {
    let mut g = s.arch.inner.lock().unwrap();
    g.shmat_calls.clear();
    g.shmat_runs.clear();
}

/// The 2 MiB-aligned slots of [va, va + npages pages) that a map call named a known run
/// (`up_shmat`'s `runs`: a block without its entries read; the fake checked each one).
fn known_slots(s: &Sys, va: usize, npages: usize) -> Vec<usize> {
    let runs = s.arch.inner.lock().unwrap().shmat_runs.clone();
    let end = va + npages * P;
    let mut b = va.next_multiple_of(BLOCK);
    let mut out = Vec::new();
    while b + BLOCK <= end {
        let named = runs.iter().any(|&(c, r)| {
            b >= c
                && (b - c).is_multiple_of(BLOCK)
                && ((b - c) / BLOCK) < 64
                && r >> ((b - c) / BLOCK) & 1 != 0
        });
        if named {
            out.push(b);
        }
        b += BLOCK;
    }
    out
}

/// The 2 MiB-aligned slots of [va, va + npages pages) that `Tree::map` would make block
/// descriptors: one map call covers the slot, and its 512 entries have one access and
/// contiguous pages from a 2 MiB-aligned address (`block_run`).
fn block_slots(s: &Sys, va: usize, npages: usize) -> Vec<usize> {
    let env = s.env();
    let calls = s.arch.inner.lock().unwrap().shmat_calls.clone();
    let end = va + npages * P;
    let mut out = Vec::new();
    let mut b = va.next_multiple_of(BLOCK);
    while b + BLOCK <= end {
        let one_call = calls.iter().any(|&(c, n)| c <= b && b + BLOCK <= c + n * P);
        let run = s.arch.mapping(&env, b).is_some_and(|m| {
            m.pa.is_multiple_of(BLOCK)
                && (0..BLOCK_PAGES).all(|k| {
                    s.arch
                        .mapping(&env, b + k * P)
                        .is_some_and(|x| x.pa == m.pa + k * P && x.prot == m.prot)
                })
        });
        if one_call && run {
            out.push(b);
        }
        b += BLOCK;
    }
    out
}

/// Whether the `n` pages at `va` map pages `off..off + n` of `obj`, each its own.
fn maps_obj(s: &Sys, va: usize, obj: u16, off: usize, n: usize) -> bool {
    let pages = s.k.objs.obj(obj).pages();
    let env = s.env();
    (0..n).all(|k| s.arch.mapping(&env, va + k * P).map(|m| m.pa) == Some(pages[off + k]))
}

/// The object behind the current task's mapping at `va`.
fn obj_at(s: &Sys, va: usize) -> u16 {
    vm::find(&s.k.task(me(s)).regions, va)
        .and_then(|r| r.obj_page(va))
        .expect("an object mapping")
        .0
}

/// A mapping of `len` bytes of `fd` at a kernel-chosen address, placed 2 MiB-aligned, with
/// every 2 MiB of it a block and each page its object's.
fn map_blocks(s: &mut Sys, fd: i64, len: usize, prot: u32, flags: u32, off: usize) -> usize {
    clear_calls(s);
    let a = s.map(fd, len, prot, flags, off);
    assert!(a > 0, "mmap: {a}");
    let a = a as usize;
    assert_eq!(a % BLOCK, 0, "placed on a 2 MiB boundary");
    let obj = obj_at(s, a);
    let roff = vm::find(&s.k.task(me(s)).regions, a)
        .and_then(|r| r.obj_page(a))
        .unwrap()
        .1;
    assert!(maps_obj(s, a, obj, roff, len / P));
    let want: Vec<usize> = (0..len / BLOCK).map(|k| a + k * BLOCK).collect();
    assert_eq!(
        block_slots(s, a, len / P),
        want,
        "every whole 2 MiB a block"
    );
    assert_eq!(known_slots(s, a, len / P), want, "each named a run");
    a
}

#[test]
fn large_posix_object_gets_block_runs_aligned_placement_and_blocks() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let fd = s.shm_open("/big", O_RDWR | O_CREAT, 0o600);
    // Three blocks and three pages: the tail is pages, never a block.
    let size = 3 * BLOCK + 3 * P;
    assert_eq!(s.ftruncate(fd, size as i64), 0);
    let obj = s.k.obj_of_fd(me(&s), fd as usize).unwrap();
    let pages = s.k.objs.obj(obj).pages().to_vec();
    assert_eq!(pages.len(), 3 * BLOCK_PAGES + 3);
    assert!(runs_at_block_offsets(&pages[..3 * BLOCK_PAGES]));
    // A page-sized mapping first, so that the window's top is not the big one's by chance.
    let small = s.map(fd, P, RW, MAP_SHARED, 0) as usize;
    clear_calls(&s);
    let a = s.map(fd, size, RW, MAP_SHARED, 0) as usize;
    assert_eq!(a % BLOCK, 0, "placed on a 2 MiB boundary");
    assert!(a + size <= small);
    assert!(maps_obj(&s, a, obj, 0, pages.len()));
    assert_eq!(
        block_slots(&s, a, pages.len()),
        [a, a + BLOCK, a + 2 * BLOCK]
    );
    // An offset of whole blocks keeps the blocks; read-only ones too.
    let b = map_blocks(&mut s, fd, 2 * BLOCK, PROT_READ, MAP_SHARED, BLOCK);
    assert_eq!(s.prot_at(b), Some(Prot::Read));
    s.put(a + BLOCK + 5, &[0x5a]);
    assert_eq!(s.get::<u8>(b + 5), 0x5a);
    // One page of offset: the placement is still aligned, but no slot can be a block.
    clear_calls(&s);
    let c = s.map(fd, 2 * BLOCK, RW, MAP_SHARED, P) as usize;
    assert!(maps_obj(&s, c, obj, 1, 2 * BLOCK_PAGES));
    assert!(block_slots(&s, c, 2 * BLOCK_PAGES).is_empty());
    // A private copy has runs of its own and maps as blocks; its writes stay its own.
    let d = map_blocks(&mut s, fd, 2 * BLOCK, RW, MAP_PRIVATE, 0);
    let copy = obj_at(&s, d);
    assert_ne!(copy, obj);
    assert!(runs_at_block_offsets(s.k.objs.obj(copy).pages()));
    assert_eq!(s.get::<u8>(d + BLOCK + 5), 0x5a, "copied");
    s.put(d + BLOCK + 5, &[1]);
    assert_eq!(s.get::<u8>(a + BLOCK + 5), 0x5a);
    for (va, len) in [(small, P), (a, size), (b, 2 * BLOCK), (c, 2 * BLOCK)] {
        assert_eq!(s.munmap(va, len), 0);
    }
    assert_eq!(s.munmap(d, 2 * BLOCK), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.shm_unlink("/big"), 0);
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}

#[test]
fn large_memfd_maps_as_blocks() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    s.cstr(NAME, "big");
    let fd = s.call(nr::MEMFD_CREATE, &[NAME, 0]);
    assert!(fd >= 0);
    // Exactly one block.
    assert_eq!(s.ftruncate(fd, BLOCK as i64), 0);
    let obj = s.k.obj_of_fd(me(&s), fd as usize).unwrap();
    assert!(runs_at_block_offsets(s.k.objs.obj(obj).pages()));
    let a = map_blocks(&mut s, fd, BLOCK, RW, MAP_SHARED, 0);
    s.put(a + BLOCK - 1, &[9]);
    assert_eq!(s.call(nr::PREAD64, &[fd as usize, NAME, 1, BLOCK - 1]), 1);
    assert_eq!(
        s.get::<u8>(NAME),
        9,
        "the descriptor reads what the block wrote"
    );
    assert_eq!(s.munmap(a, BLOCK), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn dn_large_shmem_new_first_mmap_gets_block_runs_and_later_mmaps_blocks() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let fd = s.open("/dev/shmem/new", O_RDWR);
    assert!(fd >= 0);
    // The first mmap sizes it: runs at block offsets, mapped as blocks.
    let a = map_blocks(&mut s, fd, LEN, RW, MAP_SHARED, 0);
    let obj = s.k.obj_of_fd(me(&s), fd as usize).unwrap();
    assert_eq!(s.k.objs.obj(obj).npages(), LEN / P);
    assert!(runs_at_block_offsets(s.k.objs.obj(obj).pages()));
    // DN-06 with blocks: the same pages again, no new ones.
    let used = s.free_pages();
    let b = map_blocks(&mut s, fd, LEN, RW, MAP_SHARED, 0);
    assert_eq!(s.free_pages(), used);
    s.put(a + LEN - 8, &[4; 8]);
    assert_eq!(s.get::<u64>(b + LEN - 8), u64::from_le_bytes([4; 8]));
    assert_eq!(s.munmap(a, LEN), 0);
    assert_eq!(s.munmap(b, LEN), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.free_pages(), free);
}

#[test]
fn large_anonymous_mappings_get_block_runs_and_blocks() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    // MAP_PRIVATE and MAP_SHARED anonymous memory both take the object path.
    for flags in [MAP_PRIVATE, MAP_SHARED] {
        let small = s.anon(P);
        let a = map_blocks(&mut s, -1, LEN, RW, flags | MAP_ANONYMOUS, 0);
        assert!(a + LEN <= small);
        assert!(runs_at_block_offsets(s.k.objs.obj(obj_at(&s, a)).pages()));
        assert_eq!(s.get::<u64>(a + BLOCK), 0, "zeroed");
        assert_eq!(s.munmap(a, LEN), 0);
        assert_eq!(s.munmap(small, P), 0);
    }
    assert_eq!(s.free_pages(), free);
}

/// An object grown from half a block to two keeps its runs at block offsets: the second
/// block is one run that maps as a block (the first holds the pages it had, and cannot be).
#[test]
fn large_object_grown_in_two_steps_keeps_runs_at_block_offsets() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let fd = s.shm_open("/grown", O_RDWR | O_CREAT, 0o600);
    assert_eq!(s.ftruncate(fd, (BLOCK / 2) as i64), 0);
    assert_eq!(s.ftruncate(fd, LEN as i64), 0);
    let obj = s.k.obj_of_fd(me(&s), fd as usize).unwrap();
    let pages = s.k.objs.obj(obj).pages().to_vec();
    assert_eq!(pages.len(), LEN / P);
    assert!(
        runs_at_block_offsets(&pages[BLOCK_PAGES..]),
        "the second block's pages are one aligned run"
    );
    clear_calls(&s);
    let a = s.map(fd, LEN, RW, MAP_SHARED, 0) as usize;
    assert!(maps_obj(&s, a, obj, 0, LEN / P));
    assert_eq!(block_slots(&s, a, LEN / P), [a + BLOCK]);
    assert_eq!(known_slots(&s, a, LEN / P), [a + BLOCK], "the run is named");
    assert_eq!(s.munmap(a, LEN), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.shm_unlink("/grown"), 0);
    assert_eq!(s.free_pages(), free);
}

/// Check the `n` pages at `a` after page `hole` was unmapped and page `ro` made read-only:
/// the hole is in no region and not mapped; every other page maps its own object page
/// `pages[k]` (when given), holds its tag `k`, and has the access it should.
fn check_cut(s: &Sys, a: usize, n: usize, hole: usize, ro: usize, pages: Option<&[Pa]>) {
    let cur = me(s);
    for k in 0..n {
        let va = a + k * P;
        if k == hole {
            assert!(s.prot_at(va).is_none(), "the hole is unmapped");
            assert!(!s.access(va, Access::Read));
            assert!(vm::find(&s.k.task(cur).regions, va).is_none());
            assert_eq!(s.k.fault_signal(cur, va, SIGSEGV), SIGSEGV);
            continue;
        }
        if let Some(pages) = pages {
            let m = s.arch.mapping(&s.env(), va).expect("mapped");
            assert_eq!(m.pa, pages[k], "page {k} is the object's own");
        }
        assert_eq!(s.get::<u32>(va), k as u32, "page {k} keeps its data");
        let want = if k == ro { Prot::Read } else { Prot::ReadWrite };
        assert_eq!(s.prot_at(va), Some(want), "page {k}");
        assert_eq!(s.access(va, Access::Write), k != ro, "page {k}");
    }
}

#[test]
fn large_partial_munmap_and_mprotect_cut_a_block_mapping_exactly() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let fd = s.shm_open("/split", O_RDWR | O_CREAT, 0o600);
    assert_eq!(s.ftruncate(fd, LEN as i64), 0);
    let obj = s.k.obj_of_fd(me(&s), fd as usize).unwrap();
    let pages = s.k.objs.obj(obj).pages().to_vec();
    let n = LEN / P;
    let a = map_blocks(&mut s, fd, LEN, RW, MAP_SHARED, 0);
    // The object mapped a second time: it must keep every page while this one is cut.
    let other = map_blocks(&mut s, fd, LEN, PROT_READ, MAP_SHARED, 0);
    for k in 0..n {
        s.put(a + k * P, &(k as u32).to_le_bytes());
    }
    let refs = s.k.objs.obj(obj).refs;
    // One page out of the middle of the first block: two regions, one more reference.
    let hole = 300;
    assert_eq!(s.munmap(a + hole * P, P), 0);
    assert_eq!(s.k.objs.obj(obj).refs, refs + 1);
    let regions = &s.k.task(me(&s)).regions;
    let left = vm::find(regions, a).unwrap();
    let right = vm::find(regions, a + (hole + 1) * P).unwrap();
    assert_eq!((left.va, left.end()), (a, a + hole * P));
    assert_eq!(right.obj_page(right.va), Some((obj, hole + 1)));
    assert_eq!(right.end(), a + LEN);
    // One page of the second block read-only.
    let ro = BLOCK_PAGES + 7;
    assert_eq!(s.mprotect(a + ro * P, P, PROT_READ), 0);
    check_cut(&s, a, n, hole, ro, Some(&pages));
    // The neighbours of both cuts still write the object: the other mapping sees it.
    for k in [hole - 1, hole + 1, ro - 1, ro + 1] {
        s.put(a + k * P + 4, &[0xee]);
        assert_eq!(s.get::<u8>(other + k * P + 4), 0xee, "page {k}");
    }
    assert_eq!(
        s.get::<u32>(other + hole * P),
        hole as u32,
        "the object kept it"
    );
    // The whole range goes (hole included); the other mapping keeps every page.
    assert_eq!(s.munmap(a, LEN), 0);
    assert!((0..n).all(|k| s.prot_at(a + k * P).is_none()));
    assert_eq!(s.k.objs.obj(obj).refs, refs - 1);
    assert_eq!(s.k.objs.obj(obj).pages(), &pages[..]);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.shm_unlink("/split"), 0);
    assert!(maps_obj(&s, other, obj, 0, n));
    assert!((0..n).all(|k| s.get::<u32>(other + k * P) == k as u32));
    assert_eq!(s.munmap(other, LEN), 0);
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}

#[test]
fn large_anonymous_partial_munmap_and_mprotect_cut_exactly() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let n = LEN / P;
    let a = map_blocks(&mut s, -1, LEN, RW, MAP_PRIVATE | MAP_ANONYMOUS, 0);
    let pages = s.k.objs.obj(obj_at(&s, a)).pages().to_vec();
    for k in 0..n {
        s.put(a + k * P, &(k as u32).to_le_bytes());
    }
    // The cuts at the first and last page of a block, this time.
    let (hole, ro) = (BLOCK_PAGES, BLOCK_PAGES - 1);
    assert_eq!(s.munmap(a + hole * P, P), 0);
    assert_eq!(s.mprotect(a + ro * P, P, PROT_READ), 0);
    check_cut(&s, a, n, hole, ro, Some(&pages));
    // PROT_NONE next to the hole, then back: the data is still there.
    assert_eq!(s.mprotect(a + (hole + 1) * P, P, PROT_NONE), 0);
    assert!(!s.access(a + (hole + 1) * P, Access::Read));
    assert_eq!(s.mprotect(a + (hole + 1) * P, P, RW), 0);
    check_cut(&s, a, n, hole, ro, Some(&pages));
    assert_eq!(s.munmap(a, LEN), 0);
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}

/// Issue a syscall from the current task and leave it in the kernel (work pending, or
/// blocked), as `Sys::call` does without running the work; if it is woken to run again, the
/// harness issues it again as the task would.
fn start(s: &mut Sys, n: usize, args: &[usize]) {
    let pid = s.cur_pid().unwrap();
    s.svc.retain(|&(p, _)| p != pid);
    s.svc.push((pid, s.frame.pc));
    s.frame.x[8] = n as u64;
    for (i, a) in args.iter().enumerate() {
        s.frame.x[i] = *a as u64;
    }
    s.k.syscall(&mut s.frame);
}

fn shmem_mmap(fd: i64, len: usize) -> [usize; 6] {
    [0, len, RW as usize, MAP_SHARED as usize, fd as usize, 0]
}

/// A parent with `/dev/shmem/new` open and a child that inherited the descriptor; the
/// parent runs. Returns (parent pid, child pid, fd, object).
fn two_tasks_one_shmem(s: &mut Sys) -> (i32, i32, i64, u16) {
    let parent = s.cur_pid().unwrap();
    let fd = s.open("/dev/shmem/new", O_RDWR);
    assert!(fd >= 0);
    let child = s.spawn_call("prog") as i32;
    assert!(child > 0);
    s.switch_to(child);
    s.switch_to(parent);
    let obj = s.k.obj_of_fd(me(s), fd as usize).unwrap();
    (parent, child, fd, obj)
}

/// The current task (which has mmap work pending) runs a few steps of it, then its time
/// slice ends and `next` runs.
fn preempt_midway(s: &mut Sys, next: i32) {
    for _ in 0..3 {
        assert_eq!(s.k.schedule(&mut s.frame), Next::Again);
    }
    s.arch.advance(SLICE_NS);
    s.k.timer();
    s.run();
    assert_eq!(s.cur_pid(), Some(next), "preempted mid-sizing");
}

/// The current task starts its mmap of `fd` while another is sizing the object: it waits on
/// the object's busy queue, and allocates and maps nothing.
fn start_and_wait(s: &mut Sys, fd: i64, len: usize, obj: u16) {
    let cur = me(s);
    let used = s.k.pg.used();
    let regions = s.k.task(cur).regions.len();
    start(s, nr::MMAP, &shmem_mmap(fd, len));
    let t = s.k.task(cur);
    assert_eq!(t.state, State::Blocked);
    assert_eq!(t.block, Block::On(WaitId::ObjBusy(obj)));
    assert_eq!(t.regions.len(), regions, "no mapping yet");
    assert_eq!(s.k.pg.used(), used, "the waiter allocates nothing");
}

#[test]
fn dn16_race_first_mmap_one_sizing_wins() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let (parent, child, fd, obj) = two_tasks_one_shmem(&mut s);
    let before = s.k.pg.used();
    // The parent's first mmap sizes the object in steps; its slice ends half way.
    start(&mut s, nr::MMAP, &shmem_mmap(fd, LEN));
    preempt_midway(&mut s, child);
    let o = s.k.objs.obj(obj);
    assert!(
        o.sized && o.busy_growing() && o.npages() == 0,
        "being sized"
    );
    assert!(s.k.pg.used() > before, "the sizing has begun");
    // The child's mmap of the same description meanwhile waits.
    start_and_wait(&mut s, fd, LEN, obj);
    // The parent finishes: the object has its pages, once.
    s.run();
    assert_eq!(s.cur_pid(), Some(parent));
    let a = s.frame.x[0] as usize;
    assert!(a > 0 && a.is_multiple_of(BLOCK), "{a:#x}");
    assert_eq!(s.k.pg.used(), before + LEN / P, "one sizing");
    // The child runs its mmap again and maps the pages the parent sized.
    s.switch_to(child);
    let b = s.frame.x[0] as i64;
    assert!(b > 0, "the loser's mmap: {b}");
    let b = b as usize;
    assert_eq!(
        s.k.pg.used(),
        before + LEN / P,
        "the loser allocated nothing"
    );
    let o = s.k.objs.obj(obj);
    assert_eq!((o.size, o.npages()), (LEN as u64, LEN / P));
    assert!(maps_obj(&s, b, obj, 0, LEN / P));
    let penv = s.k.task(s.k.slot_of(parent).unwrap()).env;
    let pages = s.k.objs.obj(obj).pages();
    assert!((0..LEN / P).all(|k| s.arch.mapping(&penv, a + k * P).map(|m| m.pa) == Some(pages[k])));
    // Written through one, read through the other.
    s.put(b + LEN - 8, &[0x16; 8]);
    s.put(b, &[1]);
    assert_eq!(s.munmap(b, LEN), 0);
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.switch_to(parent);
    assert_eq!(s.get::<u64>(a + LEN - 8), u64::from_le_bytes([0x16; 8]));
    assert_eq!(s.get::<u8>(a), 1);
    assert_eq!(s.call(nr::WAIT4, &[child as usize, 0, 0, 0]), child as i64);
    assert_eq!(s.munmap(a, LEN), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}

/// DN-16 with DN-12: the winner's sizing runs out of memory half way; the object goes back
/// to unsized and the waiter, run again, sizes it with its own length.
#[test]
fn dn16_winner_out_of_memory_the_waiter_sizes_it() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let (parent, child, fd, obj) = two_tasks_one_shmem(&mut s);
    let before = s.k.pg.used();
    let too_big = (s.free_pages() + 16) * P;
    start(&mut s, nr::MMAP, &shmem_mmap(fd, too_big));
    preempt_midway(&mut s, child);
    start_and_wait(&mut s, fd, LEN, obj);
    s.run();
    assert_eq!(s.cur_pid(), Some(parent));
    assert_eq!(s.frame.x[0] as i64, err(Errno::ENOMEM));
    assert_eq!(s.k.pg.used(), before, "nothing kept");
    assert!(!s.k.objs.obj(obj).sized);
    s.switch_to(child);
    let b = s.frame.x[0] as i64;
    assert!(b > 0, "the waiter's mmap: {b}");
    let b = b as usize;
    assert_eq!(s.k.objs.obj(obj).size, LEN as u64, "the waiter's length");
    assert_eq!(s.k.pg.used(), before + LEN / P);
    assert_eq!(block_slots(&s, b, LEN / P), [b, b + BLOCK]);
    s.put(b + 12, &[0x12]);
    assert_eq!(s.munmap(b, LEN), 0);
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.switch_to(parent);
    // The parent's later mmap is a mapping of the sized object (DN-09: not past it).
    assert_eq!(s.map(fd, 2 * LEN, RW, MAP_SHARED, 0), err(Errno::ENXIO));
    let a = s.map(fd, LEN, RW, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u8>(a + 12), 0x12);
    assert_eq!(s.call(nr::WAIT4, &[child as usize, 0, 0, 0]), child as i64);
    assert_eq!(s.munmap(a, LEN), 0);
    assert_eq!(s.close(fd), 0);
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}

/// DN-16 when the winner dies: killed while it sizes the object, its sizing is undone (the
/// object unsized, its pages back) and the waiter, run again, sizes it with its own length.
#[test]
fn dn16_winner_killed_while_sizing_the_waiter_sizes_it() {
    let mut s = Sys::proc1();
    let free = s.free_pages();
    let (parent, winner, fd, obj) = two_tasks_one_shmem(&mut s);
    let waiter = s.spawn_call("prog") as i32;
    s.switch_to(waiter);
    s.switch_to(winner);
    let before = s.k.pg.used();
    start(&mut s, nr::MMAP, &shmem_mmap(fd, LEN));
    for _ in 0..3 {
        assert_eq!(s.k.schedule(&mut s.frame), Next::Again);
    }
    s.arch.advance(SLICE_NS);
    s.k.timer();
    s.run();
    assert_ne!(s.cur_pid(), Some(winner), "preempted mid-sizing");
    // The winner goes below the others, so that it cannot finish before it is killed.
    s.switch_to(parent);
    assert_eq!(s.call(nr::SETPRIORITY, &[0, winner as usize, 1]), 0);
    s.switch_to(waiter);
    start_and_wait(&mut s, fd, BLOCK, obj);
    s.run();
    assert_eq!(s.cur_pid(), Some(parent));
    assert!(s.k.objs.obj(obj).busy_growing(), "still being sized");
    assert_eq!(s.call(nr::KILL, &[winner as usize, 9]), 0);
    let o = s.k.objs.obj(obj);
    assert!(
        !o.sized && !o.busy_growing() && o.npages() == 0,
        "sizing undone"
    );
    assert_eq!(s.k.objs.pages, 0, "its pages went back");
    // The waiter runs its mmap again: it sizes the object with its own length.
    s.switch_to(waiter);
    let b = s.frame.x[0] as i64;
    assert!(b > 0, "the waiter's mmap: {b}");
    let b = b as usize;
    let o = s.k.objs.obj(obj);
    assert_eq!((o.size, o.npages()), (BLOCK as u64, BLOCK_PAGES));
    assert_eq!(block_slots(&s, b, BLOCK_PAGES), [b]);
    assert_eq!(
        s.k.pg.used(),
        before + BLOCK_PAGES,
        "the waiter's sizing only"
    );
    s.put(b + 3, &[0x33]);
    assert_eq!(s.munmap(b, BLOCK), 0);
    s.call(nr::EXIT, &[0]);
    s.switch_to(parent);
    let a = s.map(fd, BLOCK, RW, MAP_SHARED, 0) as usize;
    assert_eq!(s.get::<u8>(a + 3), 0x33);
    assert_eq!(s.munmap(a, BLOCK), 0);
    assert_eq!(s.close(fd), 0);
    // Reap both; the winner tears itself down at its low priority once the parent waits.
    for pid in [waiter, winner] {
        s.call(nr::WAIT4, &[pid as usize, 0, 0, 0]);
        s.run();
        assert_eq!(s.cur_pid(), Some(parent));
        assert_eq!(s.frame.x[0] as i64, pid as i64);
    }
    assert_eq!(s.free_pages(), free, "every page back");
    assert_eq!(s.k.objs.used(), 0);
}
