//! What the shell tool uses beyond the spec's calls: `blocks` (the heap in address order,
//! the free list, the totals), `usable_size`, and `with_lock` (to show a holder's death).

use abi::Errno;
use shmheap::{BlockInfo, Handle, Heap, Usage, OVERHEAD};
use shmsync::os;
use std::ptr::NonNull;
use std::sync::mpsc;
use std::thread;

const PAGE: usize = 4096;
/// Where the first block starts (the heap header's length).
const FIRST: usize = OVERHEAD - 16;

fn handle(h: &Heap, p: NonNull<u8>) -> Handle {
    h.ptr_to_handle(p.as_ptr()).unwrap()
}

fn walk(h: &Heap) -> (Vec<BlockInfo>, Usage) {
    let mut out = [BlockInfo::default(); 64];
    let u = h.blocks(&mut out).unwrap();
    (out[..u.blocks.min(out.len())].to_vec(), u)
}

fn free_list(bs: &[BlockInfo]) -> Vec<(usize, usize)> {
    bs.iter()
        .filter(|b| !b.allocated)
        .map(|b| (b.offset, b.size))
        .collect()
}

#[test]
fn a_fresh_heap_is_one_free_block() {
    let len = 4 * PAGE;
    let h = Heap::create("/walk-fresh", len).unwrap();
    let (bs, u) = walk(&h);
    assert_eq!(
        bs,
        [BlockInfo {
            offset: FIRST,
            size: len - FIRST,
            allocated: false
        }]
    );
    assert_eq!(
        u,
        Usage {
            blocks: 1,
            live: 0,
            used: 0,
            free: len - FIRST,
            largest: len - OVERHEAD,
        }
    );
    // What `largest` promises fits, and no more.
    let p = h.alloc(u.largest).unwrap();
    assert_eq!(walk(&h).1.largest, 0);
    h.free(p.as_ptr()).unwrap();
    assert_eq!(h.alloc(u.largest + 1).err(), Some(Errno::ENOMEM));
    h.destroy("/walk-fresh").unwrap();
}

#[test]
fn blocks_follow_allocs_and_frees_and_the_free_list_merges_back() {
    let len = 4 * PAGE;
    let h = Heap::create("/walk-list", len).unwrap();
    let a = h.alloc(100).unwrap();
    let b = h.alloc(4096).unwrap();
    let c = h.alloc(1).unwrap();
    let (bs, u) = walk(&h);
    let at = |i: usize| (bs[i].offset, bs[i].size, bs[i].allocated);
    assert_eq!(at(0), (FIRST, 16 + 112, true));
    assert_eq!(at(1), (FIRST + 128, 16 + 4096, true));
    assert_eq!(at(2), (FIRST + 128 + 4112, 32, true));
    assert_eq!(bs[0].handle(), handle(&h, a));
    assert_eq!(bs[1].handle(), handle(&h, b));
    assert_eq!(bs[2].handle(), handle(&h, c));
    assert_eq!(bs[1].payload(), 4096);
    assert_eq!(free_list(&bs), [(FIRST + 4272, len - FIRST - 4272)]);
    assert_eq!((u.blocks, u.live, u.used), (4, 3, 4272));
    assert_eq!(u.used + u.free, len - FIRST);

    // Another "process" frees the middle one through its handle: a hole below the tail.
    let hb = handle(&h, b);
    thread::spawn(move || {
        let h2 = Heap::connect("/walk-list").unwrap();
        let (bs2, _) = walk(&h2);
        assert_eq!(bs2[1].handle(), hb, "the same walk at another connection");
        h2.free(h2.handle_to_ptr(hb).unwrap().as_ptr()).unwrap();
    })
    .join()
    .unwrap();
    let (bs, u) = walk(&h);
    assert_eq!(
        free_list(&bs),
        [(FIRST + 128, 4112), (FIRST + 4272, len - FIRST - 4272)]
    );
    assert_eq!((u.live, u.largest), (2, len - FIRST - 4272 - 16));

    // Freeing the rest merges everything back into one block.
    h.free(a.as_ptr()).unwrap();
    assert_eq!(free_list(&walk(&h).0)[0], (FIRST, 4240));
    h.free(c.as_ptr()).unwrap();
    let (bs, u) = walk(&h);
    assert_eq!(free_list(&bs), [(FIRST, len - FIRST)]);
    assert_eq!((u.blocks, u.live, u.used), (1, 0, 0));
    h.destroy("/walk-list").unwrap();
}

#[test]
fn a_short_slice_gets_the_first_blocks_and_the_totals_count_all() {
    let h = Heap::create("/walk-short", 4 * PAGE).unwrap();
    for _ in 0..5 {
        h.alloc(16).unwrap();
    }
    let mut out = [BlockInfo::default(); 2];
    let u = h.blocks(&mut out).unwrap();
    assert_eq!((u.blocks, u.live), (6, 5));
    assert_eq!(out[1].offset, FIRST + 32);
    assert_eq!(h.blocks(&mut []).unwrap(), u);
    h.destroy("/walk-short").unwrap();
}

#[test]
fn usable_size_is_the_rounded_request_and_checks_the_handle() {
    let h = Heap::create("/walk-usable", 4 * PAGE).unwrap();
    let a = h.alloc(100).unwrap();
    let b = h.alloc(0).unwrap();
    assert_eq!(h.usable_size(handle(&h, a)), Ok(112));
    assert_eq!(h.usable_size(handle(&h, b)), Ok(16));
    let ha = handle(&h, a);
    for bad in [0, 8, ha.0 + 16, ha.0 + 1, (4 * PAGE) as u64, u64::MAX] {
        assert_eq!(h.usable_size(Handle(bad)), Err(Errno::EINVAL), "{bad:#x}");
    }
    h.free(a.as_ptr()).unwrap();
    assert_eq!(h.usable_size(ha), Err(Errno::EINVAL), "freed");
    h.destroy("/walk-usable").unwrap();
}

#[test]
fn garbage_makes_the_walk_eio() {
    let h = Heap::create("/walk-eio", 4 * PAGE).unwrap();
    let a = h.alloc(64).unwrap();
    let size_word = a.as_ptr().wrapping_sub(16) as *mut u64;
    // SAFETY: a's block header, inside the mapping; no call on `h` meanwhile.
    let keep = unsafe { size_word.read() };
    // SAFETY: as above.
    unsafe { size_word.write(keep + 16) };
    let mut out = [BlockInfo::default(); 4];
    assert_eq!(h.blocks(&mut out), Err(Errno::EIO));
    assert_eq!(h.usable_size(handle_of(&h, a)), Err(Errno::EIO));
    // SAFETY: as above.
    unsafe { size_word.write(keep) };
    assert_eq!(h.blocks(&mut out).unwrap().live, 1);
    h.destroy("/walk-eio").unwrap();
}

/// The handle of `p` worked out by hand (ptr_to_handle would check the heap).
fn handle_of(h: &Heap, p: NonNull<u8>) -> Handle {
    Handle((p.as_ptr() as usize - h.underlying().as_ptr() as usize) as u64)
}

#[test]
fn with_lock_keeps_others_out_and_a_death_inside_is_repaired() {
    let h = Heap::create("/walk-lock", 4 * PAGE).unwrap();
    let a = h.alloc(64).unwrap();
    assert_eq!(h.with_lock(|| 7), Ok(7));
    // Calling the heap from inside is the caller's mistake, reported, not a hang.
    assert_eq!(h.with_lock(|| h.alloc(8).err()), Ok(Some(Errno::EDEADLK)));

    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let holder = thread::spawn(move || {
        let h = Heap::connect("/walk-lock").unwrap();
        let _ = h.with_lock(|| {
            held_tx.send(()).unwrap();
            go_rx.recv().unwrap();
            // Dies holding the lock.
            os::die();
            panic!("died in with_lock");
        });
    });
    held_rx.recv().unwrap();
    let mut other = Heap::connect("/walk-lock").unwrap();
    other.set_wait(Some(30));
    assert_eq!(other.alloc(8).err(), Some(Errno::ETIMEDOUT));
    let mut out = [BlockInfo::default(); 4];
    assert_eq!(other.blocks(&mut out).err(), Some(Errno::ETIMEDOUT));
    go_tx.send(()).unwrap();
    assert!(holder.join().is_err());
    other.set_wait(None);
    assert_eq!(other.repairs(), Ok(0), "not yet: the next call repairs");
    assert_eq!(other.blocks(&mut out).unwrap().live, 1);
    assert_eq!(h.repairs(), Ok(1));
    h.free(a.as_ptr()).unwrap();
    drop(other);
    h.destroy("/walk-lock").unwrap();
}
