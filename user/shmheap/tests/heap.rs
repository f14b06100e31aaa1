//! The conformance cases SH-01..SH-24 on the host (threads stand in for processes).

use abi::Errno;
use shmheap::{Handle, Heap, OVERHEAD};
use shmsync::os;
use std::ptr::NonNull;
use std::sync::{mpsc, Arc, Barrier};
use std::thread;

const PAGE: usize = 4096;

/// Offset of `p` in `h`.
fn off(h: &Heap, p: NonNull<u8>) -> usize {
    p.as_ptr() as usize - h.underlying().as_ptr() as usize
}

/// Fill `n` bytes at `p` with `byte`.
fn fill(p: NonNull<u8>, n: usize, byte: u8) {
    // SAFETY: `p` is an allocation of at least `n` bytes in a mapped heap.
    unsafe { p.as_ptr().write_bytes(byte, n) };
}

/// Do the `n` bytes at `p` all hold `byte`?
fn holds(p: NonNull<u8>, n: usize, byte: u8) -> bool {
    // SAFETY: `p` is an allocation of at least `n` bytes in a mapped heap.
    unsafe { std::slice::from_raw_parts(p.as_ptr(), n) }
        .iter()
        .all(|&b| b == byte)
}

#[test]
fn sh_01_create_maps_len_bytes_and_the_object_exists() {
    let len = 4 * PAGE;
    let h = Heap::create("/sh01", len).unwrap();
    let base = h.underlying().as_ptr() as usize;
    assert_eq!(base % PAGE, 0);
    assert_eq!(h.size(), len);
    assert!(os::exists("/sh01"));
    // Everything past the bookkeeping is writable.
    let p = h.alloc(len - 80).unwrap();
    fill(p, len - 80, 0xa5);
    assert!(holds(p, len - 80, 0xa5));
    let m = os::attach("/sh01").unwrap();
    assert_eq!(m.len, len);
    os::unmap(m);
    h.destroy("/sh01").unwrap();
}

#[test]
fn sh_02_connect_from_another_process_sees_the_same_bytes() {
    let h = Heap::create("/sh02", 4 * PAGE).unwrap();
    let p = h.alloc(100).unwrap();
    fill(p, 100, 0x22);
    let hdl = h.ptr_to_handle(p.as_ptr()).unwrap();
    thread::spawn(move || {
        let h1 = Heap::connect("/sh02").unwrap();
        assert_eq!(h1.size(), 4 * PAGE);
        let p1 = h1.handle_to_ptr(hdl).unwrap();
        assert!(holds(p1, 100, 0x22));
        fill(p1, 100, 0x33);
        h1.disconnect();
    })
    .join()
    .unwrap();
    assert!(holds(p, 100, 0x33));
    h.destroy("/sh02").unwrap();
}

#[test]
fn sh_03_disconnect_leaves_the_creator_unaffected() {
    // The host cannot show the unmap itself (every attach is the same buffer); QEMU can.
    let h = Heap::create("/sh03", 4 * PAGE).unwrap();
    let p = h.alloc(64).unwrap();
    fill(p, 64, 3);
    thread::spawn(|| Heap::connect("/sh03").unwrap().disconnect())
        .join()
        .unwrap();
    assert!(holds(p, 64, 3));
    assert!(os::exists("/sh03"));
    h.free(p.as_ptr()).unwrap();
    assert!(h.alloc(64).is_ok());
    h.destroy("/sh03").unwrap();
}

#[test]
fn sh_04_destroy_removes_the_object() {
    let h = Heap::create("/sh04", 4 * PAGE).unwrap();
    h.destroy("/sh04").unwrap();
    assert!(!os::exists("/sh04"));
    assert_eq!(os::attach("/sh04"), Err(Errno::ENOENT));
    assert_eq!(Heap::connect("/sh04").err(), Some(Errno::ENOENT));
}

#[test]
fn sh_05_an_allocation_lies_inside_the_heap() {
    let len = 4 * PAGE;
    let h = Heap::create("/sh05", len).unwrap();
    for sz in [1, 7, 100, 1000, len - 80] {
        let p = h.alloc(sz).unwrap();
        assert!(off(&h, p) >= OVERHEAD && off(&h, p) + sz <= len, "{sz}");
        h.free(p.as_ptr()).unwrap();
    }
    h.destroy("/sh05").unwrap();
}

#[test]
fn sh_06_the_largest_single_allocation_fits() {
    let len = 4 * PAGE;
    let h = Heap::create("/sh06", len).unwrap();
    const { assert!(OVERHEAD <= 80) };
    let p = h.alloc(len - 80).unwrap();
    h.free(p.as_ptr()).unwrap();
    // Exactly what the bookkeeping leaves, and not a byte more.
    let p = h.alloc(len - OVERHEAD).unwrap();
    assert_eq!(h.alloc(1).err(), Some(Errno::ENOMEM));
    h.free(p.as_ptr()).unwrap();
    assert_eq!(h.alloc(len - OVERHEAD + 1).err(), Some(Errno::ENOMEM));
    h.destroy("/sh06").unwrap();
}

#[test]
fn sh_07_every_pointer_is_8_aligned() {
    let h = Heap::create("/sh07", 4 * PAGE).unwrap();
    let mut ps = Vec::new();
    for sz in 1..=60 {
        let p = h.alloc(sz).unwrap();
        assert_eq!(off(&h, p) % 8, 0);
        assert_eq!(off(&h, p) % shmheap::ALIGN, 0);
        ps.push(p);
    }
    for (i, p) in ps.iter().enumerate() {
        if i % 3 == 0 {
            h.free(p.as_ptr()).unwrap();
        }
    }
    for sz in [3, 9, 17, 33] {
        assert_eq!(off(&h, h.alloc(sz).unwrap()) % 8, 0);
    }
    h.destroy("/sh07").unwrap();
}

#[test]
fn sh_08_mixed_allocations_keep_their_patterns() {
    let h = Heap::create("/sh08", 16 * PAGE).unwrap();
    let mut live: Vec<(NonNull<u8>, usize, u8)> = Vec::new();
    for i in 0..200usize {
        let sz = 1 + (i * 37) % 300;
        let p = h.alloc(sz).unwrap();
        fill(p, sz, i as u8);
        live.push((p, sz, i as u8));
        if i % 4 == 3 {
            let (q, _, _) = live.remove(i % live.len());
            h.free(q.as_ptr()).unwrap();
        }
    }
    for &(p, sz, b) in &live {
        assert!(holds(p, sz, b));
    }
    let mut spans: Vec<(usize, usize)> = live.iter().map(|&(p, sz, _)| (off(&h, p), sz)).collect();
    spans.sort();
    for w in spans.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "overlap {w:?}");
    }
    h.verify().unwrap();
    h.destroy("/sh08").unwrap();
}

#[test]
fn sh_09_first_fit_reuses_the_freed_hole() {
    let h = Heap::create("/sh09", 4 * PAGE).unwrap();
    let _a = h.alloc(64).unwrap();
    let b = h.alloc(64).unwrap();
    let _c = h.alloc(64).unwrap();
    h.free(b.as_ptr()).unwrap();
    assert_eq!(h.alloc(32).unwrap(), b);
    h.destroy("/sh09").unwrap();
}

#[test]
fn sh_10_first_fit_not_best_fit() {
    let h = Heap::create("/sh10", 4 * PAGE).unwrap();
    let h1 = h.alloc(128).unwrap();
    let _x = h.alloc(16).unwrap();
    let h2 = h.alloc(32).unwrap();
    let _y = h.alloc(16).unwrap();
    h.free(h1.as_ptr()).unwrap();
    h.free(h2.as_ptr()).unwrap();
    assert!(off(&h, h1) < off(&h, h2));
    assert_eq!(h.alloc(32).unwrap(), h1);
    h.destroy("/sh10").unwrap();
}

#[test]
fn sh_11_a_small_hole_is_skipped_for_the_tail() {
    let h = Heap::create("/sh11", 4 * PAGE).unwrap();
    let a = h.alloc(32).unwrap();
    let x = h.alloc(16).unwrap();
    h.free(a.as_ptr()).unwrap();
    let d = h.alloc(64).unwrap();
    assert!(off(&h, d) > off(&h, x));
    // The hole is still there for what fits it.
    assert_eq!(h.alloc(32).unwrap(), a);
    h.destroy("/sh11").unwrap();
}

/// Three neighbouring 64-byte allocations.
fn abc(h: &Heap) -> [NonNull<u8>; 3] {
    let r = [
        h.alloc(64).unwrap(),
        h.alloc(64).unwrap(),
        h.alloc(64).unwrap(),
    ];
    // Something after them, so the merge cannot borrow from the free tail.
    h.alloc(16).unwrap();
    r
}

#[test]
fn sh_12_freeing_b_then_a_merges_them() {
    let h = Heap::create("/sh12", 4 * PAGE).unwrap();
    let [a, b, _c] = abc(&h);
    h.free(b.as_ptr()).unwrap();
    h.free(a.as_ptr()).unwrap();
    assert_eq!(h.alloc(128).unwrap(), a);
    h.destroy("/sh12").unwrap();
}

#[test]
fn sh_13_freeing_a_then_b_merges_them() {
    let h = Heap::create("/sh13", 4 * PAGE).unwrap();
    let [a, b, _c] = abc(&h);
    h.free(a.as_ptr()).unwrap();
    h.free(b.as_ptr()).unwrap();
    assert_eq!(h.alloc(128).unwrap(), a);
    h.destroy("/sh13").unwrap();
}

#[test]
fn sh_14_three_way_merge() {
    let h = Heap::create("/sh14", 4 * PAGE).unwrap();
    let [a, b, c] = abc(&h);
    h.free(a.as_ptr()).unwrap();
    h.free(c.as_ptr()).unwrap();
    h.free(b.as_ptr()).unwrap();
    assert_eq!(h.alloc(192).unwrap(), a);
    h.destroy("/sh14").unwrap();
}

#[test]
fn sh_15_the_heap_returns_to_its_initial_state() {
    let len = 24 * PAGE;
    let h = Heap::create("/sh15", len).unwrap();
    let mut ps: Vec<NonNull<u8>> = (0..100).map(|i| h.alloc(1 + i * 13).unwrap()).collect();
    // Free in a scrambled order.
    let mut i = 0;
    while !ps.is_empty() {
        i = (i + 7) % ps.len();
        h.free(ps.swap_remove(i).as_ptr()).unwrap();
    }
    h.alloc(len - 80).unwrap();
    h.destroy("/sh15").unwrap();
}

#[test]
fn sh_16_another_process_frees_through_a_handle() {
    let h = Heap::create("/sh16", 4 * PAGE).unwrap();
    let p = h.alloc(256).unwrap();
    let _after = h.alloc(16).unwrap();
    let hdl = h.ptr_to_handle(p.as_ptr()).unwrap();
    thread::spawn(move || {
        let h2 = Heap::connect("/sh16").unwrap();
        let p2 = h2.handle_to_ptr(hdl).unwrap();
        h2.free(p2.as_ptr()).unwrap();
    })
    .join()
    .unwrap();
    assert_eq!(h.handle_to_ptr(hdl).err(), Some(Errno::EINVAL), "freed");
    assert_eq!(h.alloc(256).unwrap(), p, "the space is reused");
    h.destroy("/sh16").unwrap();
}

#[test]
fn sh_17_handle_round_trip() {
    let h = Heap::create("/sh17", 4 * PAGE).unwrap();
    for sz in [1, 50, 500] {
        let p = h.alloc(sz).unwrap();
        let hdl = h.ptr_to_handle(p.as_ptr()).unwrap();
        assert_eq!(hdl, Handle(off(&h, p) as u64), "a handle is the offset");
        assert_eq!(h.handle_to_ptr(hdl).unwrap(), p);
    }
    h.destroy("/sh17").unwrap();
}

#[test]
fn sh_18_a_handle_names_the_same_bytes_in_another_process() {
    let h = Heap::create("/sh18", 4 * PAGE).unwrap();
    let (tx, rx) = mpsc::channel();
    let (back_tx, back_rx) = mpsc::channel();
    let p2 = thread::spawn(move || {
        let h2 = Heap::connect("/sh18").unwrap();
        let hdl: Handle = rx.recv().unwrap();
        let p = h2.handle_to_ptr(hdl).unwrap();
        assert!(holds(p, 40, 0x18));
        back_tx.send(off(&h2, p)).unwrap();
    });
    let p1 = h.alloc(40).unwrap();
    fill(p1, 40, 0x18);
    tx.send(h.ptr_to_handle(p1.as_ptr()).unwrap()).unwrap();
    assert_eq!(back_rx.recv().unwrap(), off(&h, p1));
    p2.join().unwrap();
    h.destroy("/sh18").unwrap();
}

#[test]
fn sh_19_handles_do_not_depend_on_the_base() {
    // The host maps every attach at one address, so move the bytes instead: a copy of the
    // object at another address is a working heap with the same handles.
    let len = 4 * PAGE;
    let h = Heap::create("/sh19", len).unwrap();
    let p1 = h.alloc(72).unwrap();
    fill(p1, 72, 0x19);
    let hdl = h.ptr_to_handle(p1.as_ptr()).unwrap();
    let mut copy = vec![0u128; len / 16 + 8];
    let base2 = copy[5..].as_mut_ptr() as *mut u8;
    // SAFETY: both ranges are `len` bytes, distinct, and no call is running on `h`.
    unsafe { std::ptr::copy_nonoverlapping(h.underlying().as_ptr(), base2, len) };
    // SAFETY: `copy` outlives `h2`, which is never dropped (it is no mapping).
    let h2 = std::mem::ManuallyDrop::new(unsafe { Heap::from_raw_parts(base2, len) }.unwrap());
    assert_ne!(h2.underlying(), h.underlying());
    let p2 = h2.handle_to_ptr(hdl).unwrap();
    assert_eq!(off(&h2, p2), off(&h, p1));
    assert!(holds(p2, 72, 0x19));
    assert_eq!(h2.ptr_to_handle(p2.as_ptr()).unwrap(), hdl);
    // And it allocates like the original.
    assert_eq!(off(&h2, h2.alloc(8).unwrap()), off(&h, h.alloc(8).unwrap()));
    h2.verify().unwrap();
    drop(copy);
    h.destroy("/sh19").unwrap();
}

#[test]
fn sh_20_alternating_allocations_never_overlap() {
    let h = Heap::create("/sh20", 8 * PAGE).unwrap();
    let turn = Arc::new(Barrier::new(2));
    let spawn = |who: u8| {
        let turn = turn.clone();
        thread::spawn(move || {
            let h = Heap::connect("/sh20").unwrap();
            let mut mine = Vec::new();
            for i in 0..40 {
                if (i % 2) as u8 == who {
                    let p = h.alloc(24 + i).unwrap();
                    fill(p, 24 + i, who + 1);
                    mine.push((off(&h, p), 24 + i));
                }
                turn.wait();
            }
            mine
        })
    };
    let (a, b) = (spawn(0), spawn(1));
    let mut all: Vec<(usize, usize)> = a.join().unwrap();
    let bs = b.join().unwrap();
    let base = h.underlying();
    for &(o, n) in &all {
        assert!(holds(
            NonNull::new(base.as_ptr().wrapping_add(o)).unwrap(),
            n,
            1
        ));
    }
    for &(o, n) in &bs {
        assert!(holds(
            NonNull::new(base.as_ptr().wrapping_add(o)).unwrap(),
            n,
            2
        ));
    }
    all.extend(bs);
    all.sort();
    for w in all.windows(2) {
        assert!(w[0].0 + w[0].1 <= w[1].0, "overlap {w:?}");
    }
    h.verify().unwrap();
    h.destroy("/sh20").unwrap();
}

#[test]
fn sh_21_concurrent_alloc_and_free_keep_every_pattern() {
    let h = Heap::create("/sh21", 32 * PAGE).unwrap();
    let workers: Vec<_> = (1..=4u8)
        .map(|who| {
            thread::spawn(move || {
                let h = Heap::connect("/sh21").unwrap();
                let mut live: Vec<(NonNull<u8>, usize)> = Vec::new();
                for i in 0..20_000usize {
                    if live.len() < 20 && !(i * who as usize).is_multiple_of(3) {
                        let sz = 1 + (i * 31 + who as usize * 7) % 200;
                        let p = h.alloc(sz).unwrap();
                        fill(p, sz, who);
                        live.push((p, sz));
                    } else if let Some((p, sz)) = live.pop() {
                        assert!(holds(p, sz, who), "worker {who} round {i}");
                        h.free(p.as_ptr()).unwrap();
                    }
                }
                for (p, sz) in live {
                    assert!(holds(p, sz, who));
                    h.free(p.as_ptr()).unwrap();
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    h.verify().unwrap();
    h.alloc(32 * PAGE - 80).unwrap();
    h.destroy("/sh21").unwrap();
}

#[test]
fn sh_22_objects_survive_disconnect_and_reconnect() {
    let h = Heap::create("/sh22", 4 * PAGE).unwrap();
    let hdl = thread::spawn(|| {
        let h1 = Heap::connect("/sh22").unwrap();
        let p = h1.alloc(48).unwrap();
        fill(p, 48, 0x22);
        let hdl = h1.ptr_to_handle(p.as_ptr()).unwrap();
        h1.disconnect();
        let h1 = Heap::connect("/sh22").unwrap();
        assert!(holds(h1.handle_to_ptr(hdl).unwrap(), 48, 0x22));
        hdl
    })
    .join()
    .unwrap();
    assert!(holds(h.handle_to_ptr(hdl).unwrap(), 48, 0x22));
    h.destroy("/sh22").unwrap();
}

/// The object's bytes, but the lock (its words change with every call).
fn snapshot(h: &Heap) -> Vec<u8> {
    // SAFETY: the mapping is `size()` bytes; no call is running on it.
    let all = unsafe { std::slice::from_raw_parts(h.underlying().as_ptr(), h.size()) };
    let mut v = all.to_vec();
    v[32..48].fill(0);
    v
}

#[test]
fn sh_23_an_alloc_that_cannot_fit_is_enomem_and_changes_nothing() {
    let len = 4 * PAGE;
    let h = Heap::create("/sh23", len).unwrap();
    let a = h.alloc(1000).unwrap();
    let _b = h.alloc(1000).unwrap();
    h.free(a.as_ptr()).unwrap();
    let before = snapshot(&h);
    for sz in [len - 1000, len, usize::MAX, usize::MAX - 20] {
        assert_eq!(h.alloc(sz).err(), Some(Errno::ENOMEM), "{sz}");
    }
    assert!(before == snapshot(&h));
    h.destroy("/sh23").unwrap();
}

#[test]
fn sh_24_free_null_does_nothing() {
    let h = Heap::create("/sh24", 4 * PAGE).unwrap();
    let before = snapshot(&h);
    assert_eq!(h.free(std::ptr::null_mut()), Ok(()));
    assert!(before == snapshot(&h));
    h.destroy("/sh24").unwrap();
}
