//! The errors: bad names, pointers and handles, garbage written into the object, and a
//! holder that dies in the middle of an operation.

use abi::Errno;
use shmheap::{testing, Handle, Heap, MIN_LEN, NAME_MAX, OVERHEAD};
use shmsync::os;
use std::ptr::NonNull;
use std::thread;

const PAGE: usize = 4096;

/// Write `v` as the 8-byte word at `off` in the object, as a hostile client could.
fn poke(h: &Heap, off: usize, v: u64) {
    assert!(off + 8 <= h.size());
    // SAFETY: inside the mapping; the tests make no call on `h` meanwhile.
    unsafe { (h.underlying().as_ptr().add(off) as *mut u64).write_unaligned(v) };
}

fn peek(h: &Heap, off: usize) -> u64 {
    assert!(off + 8 <= h.size());
    // SAFETY: as in `poke`.
    unsafe { (h.underlying().as_ptr().add(off) as *const u64).read_unaligned() }
}

fn off(h: &Heap, p: NonNull<u8>) -> usize {
    p.as_ptr() as usize - h.underlying().as_ptr() as usize
}

#[test]
fn names_get_a_slash_and_bad_ones_are_refused() {
    let h = Heap::create("noslash", 4 * PAGE).unwrap();
    assert!(os::exists("/noslash"));
    Heap::connect("/noslash").unwrap().disconnect();
    Heap::connect("noslash").unwrap().disconnect();
    assert_eq!(
        Heap::create("/noslash", 4 * PAGE).err(),
        Some(Errno::EEXIST)
    );
    h.destroy("noslash").unwrap();
    assert!(!os::exists("/noslash"));

    let long = "n".repeat(NAME_MAX);
    Heap::create(&long, PAGE).unwrap().destroy(&long).unwrap();
    let too_long = "n".repeat(NAME_MAX + 1);
    assert_eq!(
        Heap::create(&too_long, PAGE).err(),
        Some(Errno::ENAMETOOLONG)
    );
    assert_eq!(
        Heap::connect(&format!("/{too_long}")).err(),
        Some(Errno::ENAMETOOLONG)
    );
    for bad in ["", "/", "/a/b", "a/", ".", "/..", "a\0b"] {
        assert_eq!(
            Heap::create(bad, PAGE).err(),
            Some(Errno::EINVAL),
            "{bad:?}"
        );
        assert_eq!(Heap::connect(bad).err(), Some(Errno::EINVAL), "{bad:?}");
    }
    assert_eq!(Heap::connect("/absent-heap").err(), Some(Errno::ENOENT));
    assert_eq!(Heap::unlink("/absent-heap"), Err(Errno::ENOENT));
}

#[test]
fn a_heap_too_small_for_its_bookkeeping_is_einval() {
    assert_eq!(
        Heap::create("/tiny", MIN_LEN - 1).err(),
        Some(Errno::EINVAL)
    );
    assert!(!os::exists("/tiny"));
    let h = Heap::create("/tiny", MIN_LEN).unwrap();
    let p = h.alloc(MIN_LEN - OVERHEAD).unwrap();
    assert_eq!(h.alloc(1).err(), Some(Errno::ENOMEM));
    h.free(p.as_ptr()).unwrap();
    h.destroy("/tiny").unwrap();
}

#[test]
fn connecting_to_an_object_that_is_no_heap_fails() {
    let (m, _) = os::create("/notaheap", PAGE, true).unwrap();
    assert_eq!(
        Heap::connect("/notaheap").err(),
        Some(Errno::EAGAIN),
        "zeros"
    );
    // SAFETY: the mapping is PAGE bytes.
    unsafe { m.base.write_bytes(0x5a, PAGE) };
    assert_eq!(
        Heap::connect("/notaheap").err(),
        Some(Errno::EIO),
        "garbage"
    );
    os::unmap(m);
    os::unlink("/notaheap").unwrap();
}

#[test]
fn double_free_and_foreign_pointers_are_einval() {
    let h = Heap::create("/badptr", 4 * PAGE).unwrap();
    let a = h.alloc(64).unwrap();
    let b = h.alloc(64).unwrap();
    let base = h.underlying().as_ptr();
    let mut local = 0u64;
    for bad in [
        a.as_ptr().wrapping_add(16),       // inside an object
        a.as_ptr().wrapping_add(3),        // misaligned
        base,                              // the header
        base.wrapping_add(OVERHEAD - 16),  // a block header
        base.wrapping_add(h.size()),       // just past the end
        base.wrapping_sub(PAGE),           // below the heap
        &mut local as *mut u64 as *mut u8, // elsewhere
        base.wrapping_add(h.size() - 16),  // free space, not a block start
    ] {
        assert_eq!(h.free(bad), Err(Errno::EINVAL), "{bad:?}");
        assert_eq!(h.ptr_to_handle(bad).err(), Some(Errno::EINVAL), "{bad:?}");
    }
    for bad in [0, 8, 16, 48, 64 + 16, h.size() as u64, u64::MAX] {
        assert_eq!(
            h.handle_to_ptr(Handle(bad)).err(),
            Some(Errno::EINVAL),
            "{bad}"
        );
    }
    h.free(a.as_ptr()).unwrap();
    assert_eq!(h.free(a.as_ptr()), Err(Errno::EINVAL), "double free");
    assert_eq!(h.ptr_to_handle(a.as_ptr()).err(), Some(Errno::EINVAL));
    // A block merged into its free neighbour is no block any more.
    h.free(b.as_ptr()).unwrap();
    assert_eq!(h.free(b.as_ptr()), Err(Errno::EINVAL));
    h.verify().unwrap();
    h.alloc(4 * PAGE - 80).unwrap();
    h.destroy("/badptr").unwrap();
}

#[test]
fn alloc_of_zero_is_a_smallest_block() {
    let h = Heap::create("/zero", PAGE).unwrap();
    let p = h.alloc(0).unwrap();
    let q = h.alloc(0).unwrap();
    assert_ne!(p, q);
    h.free(p.as_ptr()).unwrap();
    h.free(q.as_ptr()).unwrap();
    h.destroy("/zero").unwrap();
}

/// Every call on `h` fails with EIO (and none hangs or touches memory it should not).
fn all_eio(h: &Heap, p: NonNull<u8>) {
    assert_eq!(h.alloc(8).err(), Some(Errno::EIO));
    assert_eq!(h.free(p.as_ptr()), Err(Errno::EIO));
    assert_eq!(h.ptr_to_handle(p.as_ptr()).err(), Some(Errno::EIO));
    assert_eq!(
        h.handle_to_ptr(Handle(off(h, p) as u64)).err(),
        Some(Errno::EIO)
    );
    assert_eq!(h.verify(), Err(Errno::EIO));
}

#[test]
fn garbage_in_the_bookkeeping_gives_eio_and_putting_it_back_heals() {
    let h = Heap::create("/garbage", 4 * PAGE).unwrap();
    let a = h.alloc(64).unwrap();
    let b = h.alloc(64).unwrap();
    let c = h.alloc(64).unwrap();
    h.free(b.as_ptr()).unwrap();
    let (ao, bo, co) = (off(&h, a) - 16, off(&h, b) - 16, off(&h, c) - 16);
    let tail = co + 80;
    let words = [
        0,        // magic
        8,        // size
        16,       // free-list head
        ao,       // a's size
        ao + 8,   // a's tag
        bo,       // b's size (free)
        bo + 8,   // b's link
        tail,     // the free tail's size
        tail + 8, // and link
    ];
    let garbage = [
        0,
        1,
        8,
        16,
        17,
        32,
        48,
        0x8000_0000_0000_0000,
        u64::MAX,
        u64::MAX - 15,
        0x5a5a_5a5a_5a5a_5a5a,
        (4 * PAGE) as u64,
    ];
    for &w in &words {
        let keep = peek(&h, w);
        for &g in garbage.iter().filter(|&&g| g != keep) {
            poke(&h, w, g);
            all_eio(&h, a);
        }
        poke(&h, w, keep);
        h.verify().unwrap();
    }
    // A cycle in the free list: b links to itself.
    poke(&h, bo + 8, bo as u64);
    all_eio(&h, a);
    h.destroy("/garbage").unwrap();
}

/// A small xorshift generator (tests only).
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn random_garbage_never_crashes_or_hangs() {
    let len = 2 * PAGE;
    let mut h = Heap::create("/fuzz", len).unwrap();
    let mut rng = Rng(0x2106_0404);
    let mut live: Vec<NonNull<u8>> = Vec::new();
    let mut broken = 0;
    for _ in 0..20_000 {
        let r = rng.next();
        match r % 8 {
            0..=2 => {
                if let Ok(p) = h.alloc((r >> 8) as usize % 300) {
                    live.push(p);
                }
            }
            3 | 4 if !live.is_empty() => {
                let p = live.swap_remove((r >> 8) as usize % live.len());
                let _ = h.free(p.as_ptr());
            }
            5 => {
                // Garbage into a word a client would have to hit to do harm: the header's
                // size or free-list head, or a word of some 16-aligned would-be block header.
                let at = if r & 0x100 != 0 {
                    8 * (1 + (r >> 9) as usize % 2)
                } else {
                    48 + (r >> 9) as usize % ((len - 48) / 16) * 16 + ((r >> 40) as usize & 8)
                };
                let v = match rng.next() % 4 {
                    0 => rng.next(),
                    1 => rng.next() % len as u64,
                    2 => (rng.next() % len as u64) & !15,
                    _ => ((rng.next() % len as u64) & !15) | 1,
                };
                poke(&h, at, v);
            }
            6 => {
                let any = (rng.next() % (len as u64 + 64)) as usize;
                let _ = h.ptr_to_handle(h.underlying().as_ptr().wrapping_add(any));
                let _ = h.handle_to_ptr(Handle(any as u64));
            }
            _ => {
                if h.verify().is_err() {
                    // Broken for good: start again on a fresh heap.
                    broken += 1;
                    live.clear();
                    h.destroy("/fuzz").unwrap();
                    h = Heap::create("/fuzz", len).unwrap();
                }
            }
        }
    }
    assert!(
        broken > 10,
        "the garbage did break the heap ({broken} times)"
    );
    h.destroy("/fuzz").unwrap();
}

#[test]
fn a_lock_word_full_of_garbage_times_out() {
    let mut h = Heap::create("/lockjunk", PAGE).unwrap();
    let keep = peek(&h, 40);
    // A holder id nobody has, and nothing will wake: without a limit a call would wait for ever.
    poke(&h, 40, 0x1234_5678);
    h.set_wait(Some(30));
    assert_eq!(h.alloc(8).err(), Some(Errno::ETIMEDOUT));
    poke(&h, 40, keep);
    h.alloc(8).unwrap();
    h.destroy("/lockjunk").unwrap();
}

/// Seven 48-byte objects, the fourth and sixth freed; returns the five kept, each with its
/// fill byte (the fifth object, `[3]`, lies between the two holes).
fn setup(h: &Heap) -> Vec<(NonNull<u8>, u8)> {
    let mut v = Vec::new();
    for i in 0..7u8 {
        let p = h.alloc(48).unwrap();
        // SAFETY: a 48-byte allocation.
        unsafe { p.as_ptr().write_bytes(i + 1, 48) };
        v.push((p, i + 1));
    }
    h.free(v.remove(5).0.as_ptr()).unwrap();
    h.free(v.remove(3).0.as_ptr()).unwrap();
    v
}

#[test]
fn a_holder_that_dies_mid_operation_is_repaired_after() {
    let len = 4 * PAGE;
    for step in 1..=8u32 {
        let name = format!("/died{step}");
        let h = Heap::create(&name, len).unwrap();
        let keep = setup(&h);
        // Alloc dies at 1..=4 (splitting the first hole), free of the block between the
        // holes (merging both ways) at 5..=8.
        let victim = keep[3].0;
        let vo = off(&h, victim);
        let n2 = name.clone();
        let r = thread::spawn(move || {
            let h = Heap::connect(&n2).unwrap();
            testing::die_at(step);
            let p = h.underlying().as_ptr().wrapping_add(vo);
            if step <= 4 {
                let _ = h.alloc(16);
            } else {
                let _ = h.free(p);
            }
        })
        .join();
        assert!(r.is_err(), "step {step}: the thread died");
        assert_eq!(h.repairs(), Ok(0));
        h.verify().unwrap();
        assert_eq!(h.repairs(), Ok(1), "step {step}");
        for &(p, b) in &keep {
            if step <= 4 || p != victim {
                // SAFETY: a live 48-byte allocation.
                let s = unsafe { std::slice::from_raw_parts(p.as_ptr(), 48) };
                assert!(s.iter().all(|&x| x == b), "step {step}: object {b}");
            }
        }
        // A free that died was carried out; an alloc that died before its last store never
        // happened, after it the block stays with the dead thread.
        let leaked = step == 4;
        if step >= 5 {
            assert_eq!(h.free(victim.as_ptr()), Err(Errno::EINVAL), "step {step}");
        }
        for &(p, _) in &keep {
            if step <= 4 || p != victim {
                h.free(p.as_ptr()).unwrap();
            }
        }
        if leaked {
            assert_eq!(h.alloc(len - 80).err(), Some(Errno::ENOMEM));
        } else {
            h.alloc(len - 80).unwrap();
        }
        h.destroy(&name).unwrap();
    }
}

#[test]
fn a_death_that_left_the_blocks_untileable_gives_eio_for_good() {
    let h = Heap::create("/unrepairable", 4 * PAGE).unwrap();
    let keep = setup(&h);
    thread::spawn(|| {
        let h = Heap::connect("/unrepairable").unwrap();
        testing::die_at(1);
        let _ = h.alloc(40);
    })
    .join()
    .unwrap_err();
    // The sizes no longer add up to the object.
    poke(&h, 48, peek(&h, 48) + 16);
    for _ in 0..3 {
        all_eio(&h, keep[0].0);
    }
    assert_eq!(h.repairs(), Ok(0));
    h.destroy("/unrepairable").unwrap();
}
