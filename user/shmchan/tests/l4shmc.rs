//! The L4SHM conformance cases L4-01..L4-35 (channels-heap.md section 9) on the host:
//! threads stand in for processes, and every attach maps the same buffer.

mod common;
use common::{fresh, Gone};
use shmchan::c::*;
use shmchan::layout::{Desc, CHUNK_MAGIC, DESC_SIZE, HEADER_SIZE};
use shmchan::{wait_any, Area, ChunkState, Entry, Errno, Signal};
use shmsync::os;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;
use std::time::{Duration, Instant};

const K64: usize = 64 * 1024;
/// Generous bound for "returned early" on a loaded machine.
const EARLY: Duration = Duration::from_millis(1500);

fn names(a: &Area) -> Vec<String> {
    a.chunks()
        .map(|c| c.unwrap().name.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn l4_01_an_area_nobody_provided_is_enoent() {
    // Here `create` provides the memory (a POSIX object) itself, so "not provided" is a
    // name nobody created: attaching to it is ENOENT, and creating it provides it.
    assert_eq!(Area::attach("t01-none").unwrap_err(), Errno::ENOENT);
    assert!(!os::exists("/t01-none"));
    let (_g, a) = fresh("t01", 4096);
    assert!(os::exists("/t01"));
    assert_eq!(a.size(), 4096);
}

#[test]
fn l4_02_a_size_above_long_max_is_enomem() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        assert_eq!(
            Area::create("t02", isize::MAX as usize + 1),
            Err(Errno::ENOMEM)
        );
        assert_eq!(Area::create("t02", usize::MAX), Err(Errno::ENOMEM));
        assert!(!os::exists("/t02"));
        assert_eq!(l4shmc_create(c"t02".as_ptr(), usize::MAX), -12);
    }
}

// L4-03 (memory that may not be written: EPERM) has no host form: every host object is
// writable. Its mapping of the target's EACCES/EROFS is unit-tested in src/area.rs.

#[test]
fn l4_04_create_starts_an_empty_area_and_a_second_create_is_harmless() {
    let (_g, a) = fresh("t04", K64);
    assert_eq!(a.client_nr(), 0, "client counter started at 0");
    let i = a.info();
    assert_eq!(i.lock_word, 0, "lock free");
    assert_eq!(i.initialized, 0);
    assert_eq!(i.clients, 1, "this attach");
    assert_eq!(a.header().first.load(Ordering::SeqCst), 0, "no chunks");
    assert_eq!(a.entries().count(), 0);
    assert_eq!(i.free, Ok(K64 - HEADER_SIZE));
    a.add_chunk("c", 64).unwrap();
    a.mark_client_initialized().unwrap();
    // Both sides may create: nothing is re-initialised.
    assert_eq!(Area::create("t04", K64), Ok(()));
    assert_eq!(names(&a), ["c"]);
    assert_eq!(a.initialized_clients(), 1);
    assert_eq!(a.info().clients, 1);
}

#[test]
fn l4_05_attach_reports_the_size_and_an_area_overhead() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, _a) = fresh("t05", K64);
        let b = Area::attach("t05").unwrap();
        assert_eq!(b.size(), K64);
        assert!(Area::area_overhead() > 0);
        assert_eq!(Area::area_overhead(), HEADER_SIZE);
        assert_eq!(l4shmc_area_overhead(), HEADER_SIZE as i64);
    }
}

#[test]
fn l4_06_attach_to_an_absent_area_waits_then_is_enoent_or_succeeds_early() {
    let _ = Area::remove("t06");
    assert_eq!(Area::attach("t06").unwrap_err(), Errno::ENOENT);
    let t = Instant::now();
    assert_eq!(
        Area::attach_to("t06", Some(500)).unwrap_err(),
        Errno::ENOENT
    );
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(500), "{took:?}");
    assert!(took < Duration::from_millis(1900), "{took:?}");

    let maker = thread::spawn(|| {
        thread::sleep(Duration::from_millis(50));
        Area::create("t06", 4096).unwrap();
    });
    let _g = Gone("t06");
    let t = Instant::now();
    let a = Area::attach_to("t06", Some(1800)).unwrap();
    assert!(t.elapsed() < EARLY, "{:?}", t.elapsed());
    assert_eq!(a.size(), 4096);
    maker.join().unwrap();
}

#[test]
fn l4_07_client_numbers_count_attaches_in_order() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, p1) = fresh("t07", 4096);
        assert_eq!(p1.client_nr(), 0);
        let n2 = thread::spawn(|| Area::attach("t07").unwrap().client_nr())
            .join()
            .unwrap();
        assert_eq!(n2, 1);
        let p1b = Area::attach("t07").unwrap();
        assert_eq!(p1b.client_nr(), 2, "per attach, not per process");
        assert_eq!(l4shmc_get_client_nr(&p1b), 2);
    }
}

#[test]
fn l4_08_the_initialized_bitmask_is_seen_by_every_attacher() {
    let (_g, c0) = fresh("t08", 4096);
    c0.mark_client_initialized().unwrap();
    let (to_main, from_thread) = mpsc::channel();
    let (to_thread, from_main) = mpsc::channel::<()>();
    let t = thread::spawn(move || {
        let c1 = Area::attach("t08").unwrap();
        assert_eq!(c1.client_nr(), 1);
        to_main.send(c1.initialized_clients()).unwrap();
        c1.mark_client_initialized().unwrap();
        from_main.recv().unwrap();
        c1.initialized_clients()
    });
    assert_eq!(from_thread.recv().unwrap(), 0b01);
    to_thread.send(()).unwrap();
    assert_eq!(t.join().unwrap(), 0b11);
    assert_eq!(c0.initialized_clients(), 0b11);
}

#[test]
fn l4_09_client_64_cannot_mark_itself_initialized() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, first) = fresh("t09", 4096);
        let mut all: Vec<Area> = (1..=64).map(|_| Area::attach("t09").unwrap()).collect();
        let last = all.pop().unwrap();
        assert_eq!(last.client_nr(), 64);
        assert_eq!(last.mark_client_initialized(), Err(Errno::EINVAL));
        assert_eq!(
            l4shmc_mark_client_initialized(&last as *const Area as *mut Area),
            -22
        );
        let c63 = all.pop().unwrap();
        assert_eq!(c63.client_nr(), 63);
        c63.mark_client_initialized().unwrap();
        assert_eq!(first.initialized_clients(), 1 << 63);
    }
}

#[test]
fn l4_10_add_chunk_gives_a_clear_chunk_inside_the_area() {
    let (_g, a) = fresh("t10", K64);
    let c = a.add_chunk("one", 1024).unwrap();
    assert_eq!(c.capacity(), 1024);
    assert_eq!(c.size(), Ok(0));
    assert!(c.is_clear());
    assert!(c.check_magic());
    let (p, base) = (c.ptr() as usize, a.base() as usize);
    assert!(p >= base + HEADER_SIZE && p + 1024 <= base + a.size());
    assert_eq!(c.name().unwrap(), "one");
}

#[test]
fn l4_11_capacity_rounds_up_to_a_word() {
    let (_g, a) = fresh("t11", K64);
    assert_eq!(a.add_chunk("odd", 13).unwrap().capacity(), 16);
    assert_eq!(a.add_chunk("eight", 8).unwrap().capacity(), 8);
    assert_eq!(a.add_chunk("zero", 0).unwrap().capacity(), 0);
    assert_eq!(a.get_chunk("odd").unwrap().capacity(), 16);
}

#[test]
fn l4_12_a_second_chunk_of_the_same_name_is_eexist() {
    let (_g, a) = fresh("t12", K64);
    a.add_chunk("one", 64).unwrap();
    let free = a.size_free().unwrap();
    assert_eq!(a.add_chunk("one", 8).unwrap_err(), Errno::EEXIST);
    assert_eq!(a.size_free(), Ok(free));
    assert_eq!(names(&a), ["one"]);
    // A signal has its own names.
    a.add_signal("one").unwrap();
}

#[test]
fn l4_13_names_longer_than_15_bytes_are_einval() {
    let (_g, a) = fresh("t13", K64);
    let long = "abcdefghijklmnopqrst";
    assert_eq!(a.add_chunk(long, 8).unwrap_err(), Errno::EINVAL);
    assert_eq!(a.get_chunk(long).unwrap_err(), Errno::EINVAL);
    assert_eq!(a.add_chunk(&long[..16], 8).unwrap_err(), Errno::EINVAL);
    a.add_chunk(&long[..15], 8).unwrap();
    assert_eq!(
        a.get_chunk(&long[..15]).unwrap().name().unwrap(),
        &long[..15]
    );
    // Never truncated: a longer name sharing those 15 bytes is still EINVAL, not EEXIST.
    assert_eq!(a.add_chunk(&long[..17], 8).unwrap_err(), Errno::EINVAL);
    assert_eq!(a.add_signal(long).unwrap_err(), Errno::EINVAL);
    assert_eq!(a.add_chunk("", 8).unwrap_err(), Errno::EINVAL);
    assert_eq!(a.add_chunk("a\0b", 8).unwrap_err(), Errno::EINVAL);
    assert_eq!(names(&a), [&long[..15]]);
}

#[test]
fn l4_14_a_chunk_bigger_than_the_free_space_is_enomem_and_changes_nothing() {
    let (_g, a) = fresh("t14", 4096);
    a.add_chunk("a", 1000).unwrap();
    let free = a.size_free().unwrap();
    assert_eq!(a.add_chunk("b", free).unwrap_err(), Errno::ENOMEM);
    assert_eq!(a.size_free(), Ok(free));
    assert_eq!(names(&a), ["a"]);
}

#[test]
fn l4_15_a_huge_capacity_is_enomem() {
    let (_g, a) = fresh("t15", 4096);
    assert_eq!(a.add_chunk("h", 1 << 63).unwrap_err(), Errno::ENOMEM);
    assert_eq!(a.add_chunk("h", usize::MAX).unwrap_err(), Errno::ENOMEM);
    assert_eq!(a.add_chunk("h", usize::MAX - 7).unwrap_err(), Errno::ENOMEM);
    assert_eq!(a.entries().count(), 0);
}

#[test]
fn l4_16_free_minus_chunk_overhead_fits_exactly() {
    for (name, size) in [("t16a", K64), ("t16b", 4099), ("t16c", 200)] {
        let (_g, a) = fresh(name, size);
        let usable = size & !7;
        assert_eq!(a.size_free(), Ok(usable - HEADER_SIZE));
        a.add_chunk("small", 13).unwrap();
        assert_eq!(a.size_free(), Ok(usable - HEADER_SIZE - DESC_SIZE - 16));
        let free = a.size_free().unwrap();
        let c = a.add_chunk("x", free - Area::chunk_overhead()).unwrap();
        assert!(c.capacity() >= free - Area::chunk_overhead());
        assert!(a.size_free().unwrap() < Area::chunk_overhead());
        assert_eq!(a.add_chunk("y", 1).unwrap_err(), Errno::ENOMEM);
        assert_eq!(a.add_signal("s").unwrap_err(), Errno::ENOMEM);
    }
}

#[test]
fn l4_17_chunk_overhead_covers_a_descriptor_and_the_round_up() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        assert!(Area::chunk_overhead() >= DESC_SIZE);
        assert_eq!(Area::chunk_overhead(), DESC_SIZE + 8);
        assert_eq!(l4shmc_chunk_overhead(), (DESC_SIZE + 8) as i64);
    }
}

#[test]
fn l4_18_another_attacher_gets_the_chunk_with_its_data() {
    let (_g, a) = fresh("t18", K64);
    let c = a.add_chunk("one", 100).unwrap();
    c.write(b"from p1").unwrap();
    let got = thread::spawn(|| {
        let b = Area::attach("t18").unwrap();
        let c = b.get_chunk("one").unwrap();
        let mut buf = [0u8; 7];
        // SAFETY: the payload has 104 bytes.
        unsafe { std::ptr::copy_nonoverlapping(c.ptr(), buf.as_mut_ptr(), 7) };
        (c.capacity(), buf)
    })
    .join()
    .unwrap();
    assert_eq!(got, (104, *b"from p1"));
}

#[test]
fn l4_19_get_chunk_of_an_absent_chunk_is_enoent_now_or_after_the_timeout() {
    let (_g, a) = fresh("t19", K64);
    let t = Instant::now();
    assert_eq!(a.get_chunk("zz").unwrap_err(), Errno::ENOENT);
    assert!(t.elapsed() < Duration::from_millis(200));
    let t = Instant::now();
    assert_eq!(a.get_chunk_to("zz", Some(300)).unwrap_err(), Errno::ENOENT);
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < EARLY,
        "{took:?}"
    );

    let adder = thread::spawn(|| {
        let b = Area::attach("t19").unwrap();
        thread::sleep(Duration::from_millis(50));
        b.add_chunk("zz", 8).unwrap();
    });
    let t = Instant::now();
    let c = a.get_chunk_to("zz", Some(1800)).unwrap();
    assert!(t.elapsed() < EARLY, "{:?}", t.elapsed());
    assert_eq!(c.capacity(), 8);
    adder.join().unwrap();
}

#[test]
fn l4_20_iterate_chunk_names_them_in_order_then_ends() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, a) = fresh("t20", K64);
        for n in ["a", "b", "c"] {
            a.add_chunk(n, 8).unwrap();
            a.add_signal(n).unwrap(); // skipped by the iteration
        }
        let mut seen = Vec::new();
        let mut it = 0;
        loop {
            let mut name: *const std::ffi::c_char = std::ptr::null();
            it = l4shmc_iterate_chunk(&a, &mut name, it);
            assert!(it >= 0, "{it}");
            if it == 0 {
                break;
            }
            // SAFETY: the name is the handle's NUL-terminated copy.
            seen.push(
                { std::ffi::CStr::from_ptr(name) }
                    .to_str()
                    .unwrap()
                    .to_string(),
            );
        }
        assert_eq!(seen, ["a", "b", "c"]);
        // The name handed to C is a copy in the handle, not in the area: a client that
        // then overwrites the stored name (its NUL included) changes nothing for it.
        let mut name: *const std::ffi::c_char = std::ptr::null();
        let it = l4shmc_iterate_chunk(&a, &mut name, 0);
        let (lo, hi) = (a.base() as usize, a.base() as usize + a.size());
        assert!(
            !(lo..hi).contains(&(name as usize)),
            "a pointer into the area"
        );
        let d = a.desc(it as usize).unwrap();
        for w in d.name.iter() {
            w.store(u64::from_le_bytes([b'x'; 8]), Ordering::Relaxed);
        }
        assert_eq!(std::ffi::CStr::from_ptr(name).to_bytes(), b"a");
        for (w, v) in d.name.iter().zip([u64::from(b'a'), 0]) {
            w.store(v, Ordering::Relaxed);
        }
        let mut name = std::ptr::null();
        assert_eq!(l4shmc_iterate_chunk(&a, &mut name, -1), -22);
        // An iterator that is not a descriptor.
        assert!(l4shmc_iterate_chunk(&a, &mut name, 12345) < 0);
        // The Rust form.
        let (it1, n1) = a.iterate_chunk(0).unwrap().unwrap();
        assert_eq!(n1, "a");
        assert_eq!(a.iterate_chunk(it1).unwrap().unwrap().1, "b");
    }
}

/// An area with chunks "a" and "b" for corrupting.
fn two_chunks(name: &'static str) -> (Gone, Area, usize, usize) {
    let (g, a) = fresh(name, 4096);
    let ca = a.add_chunk("a", 64).unwrap().offset();
    let cb = a.add_chunk("b", 64).unwrap().offset();
    (g, a, ca, cb)
}

/// Every walk of a corrupted list ends with `e`, and an add neither loops nor succeeds.
fn all_fail_with(a: &Area, e: Errno) {
    assert_eq!(a.get_chunk("zz").unwrap_err(), e);
    assert_eq!(a.get_chunk_to("zz", Some(20)).unwrap_err(), e);
    assert_eq!(a.add_chunk("new", 8).unwrap_err(), e);
    assert_eq!(a.add_signal("new").unwrap_err(), e);
    assert_eq!(a.size_free().unwrap_err(), e);
    assert!(a.entries().any(|x| x == Err(e)));
    let mut it = 0;
    let r = loop {
        match a.iterate_chunk(it) {
            Ok(Some((next, _))) => it = next,
            other => break other,
        }
    };
    assert_eq!(r, Err(e));
}

fn desc(a: &Area, off: usize) -> &Desc {
    a.desc(off).unwrap()
}

#[test]
fn l4_21_a_corrupted_header_or_list_is_eio_or_einval_never_a_bad_access() {
    // The first offset beyond the area, and far beyond it.
    for (n, first) in [("t21a", 4096u64), ("t21b", u64::MAX - 7)] {
        let (_g, a, _, _) = two_chunks(n);
        a.header().first.store(first, Ordering::SeqCst);
        all_fail_with(&a, Errno::EIO);
    }
    // Misaligned.
    let (_g, a, ca, _) = two_chunks("t21c");
    a.header().first.store(ca as u64 + 1, Ordering::SeqCst);
    all_fail_with(&a, Errno::EINVAL);
    // Bad magic.
    let (_g, a, _, cb) = two_chunks("t21d");
    desc(&a, cb).magic.store(0x1234, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    // A loop back to the first chunk, and onto itself.
    let (_g, a, ca, cb) = two_chunks("t21e");
    desc(&a, cb).next.store(ca as u64, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    desc(&a, cb).next.store(cb as u64, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    // Overlapping the chunk before.
    desc(&a, cb).next.store(cb as u64 + 8, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    // A capacity past the end, or one that overflows.
    let (_g, a, ca, _) = two_chunks("t21f");
    desc(&a, ca).capacity.store(4096, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    desc(&a, ca).capacity.store(u64::MAX - 7, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    // A name without its NUL, and a descriptor that does not know its own offset.
    let (_g, a, _, cb) = two_chunks("t21g");
    for w in &desc(&a, cb).name {
        w.store(u64::from_le_bytes([b'x'; 8]), Ordering::SeqCst);
    }
    all_fail_with(&a, Errno::EIO);
    let (_g, a, _, cb) = two_chunks("t21h");
    desc(&a, cb).offset.store(0, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
    // The chunks before the damage are still found.
    assert_eq!(a.get_chunk("a").unwrap().capacity(), 64);
    // A next offset that ends inside the area but the descriptor does not.
    let (_g, a, _, cb) = two_chunks("t21i");
    desc(&a, cb).next.store(4096 - 8, Ordering::SeqCst);
    all_fail_with(&a, Errno::EIO);
}

#[test]
fn l4_22_try_to_take_makes_a_clear_chunk_busy() {
    let (_g, a) = fresh("t22", 4096);
    let c = a.add_chunk("c", 64).unwrap();
    assert_eq!(c.try_to_take(), Ok(()));
    assert_eq!(c.state(), ChunkState::Busy);
    assert!(!c.is_clear());
    assert!(!c.is_ready());
}

#[test]
fn l4_23_try_to_take_of_a_busy_or_ready_chunk_is_eperm() {
    let (_g, a) = fresh("t23", 4096);
    let c = a.add_chunk("c", 64).unwrap();
    c.try_to_take().unwrap();
    assert_eq!(c.try_to_take(), Err(Errno::EPERM));
    assert_eq!(c.state(), ChunkState::Busy);
    c.ready(1).unwrap();
    assert_eq!(c.try_to_take(), Err(Errno::EPERM));
    assert_eq!(c.state(), ChunkState::Ready);
}

#[test]
fn l4_24_ready_publishes_the_size_to_every_attacher() {
    let (_g, a) = fresh("t24", 4096);
    let c = a.add_chunk("c", 128).unwrap();
    c.try_to_take().unwrap();
    assert_eq!(c.ready(100), Ok(()));
    assert!(c.is_ready());
    assert_eq!(c.size(), Ok(100));
    let other = thread::spawn(|| {
        let b = Area::attach("t24").unwrap();
        let c = b.get_chunk("c").unwrap();
        (c.is_ready(), c.size())
    })
    .join()
    .unwrap();
    assert_eq!(other, (true, Ok(100)));
}

#[test]
fn l4_25_ready_above_the_capacity_is_einval() {
    let (_g, a) = fresh("t25", 4096);
    let c = a.add_chunk("c", 64).unwrap();
    c.try_to_take().unwrap();
    assert_eq!(c.ready(100), Err(Errno::EINVAL));
    assert_eq!(c.state(), ChunkState::Busy);
    assert_eq!(c.size(), Ok(0));
    assert_eq!(c.ready(64), Ok(()));
    // A size another client wrote past the capacity is EIO when read.
    desc(&a, c.offset()).size.store(65, Ordering::SeqCst);
    assert_eq!(c.size(), Err(Errno::EIO));
    let mut buf = [0u8; 100];
    assert_eq!(c.read(&mut buf), Err(Errno::EIO));
}

#[test]
fn l4_26_consumed_clears_a_ready_chunk() {
    let (_g, a) = fresh("t26", 4096);
    let c = a.add_chunk("c", 64).unwrap();
    // Only the transitions of the protocol: others are EPERM and change nothing.
    assert_eq!(c.consumed(), Err(Errno::EPERM));
    assert_eq!(c.ready(1), Err(Errno::EPERM));
    c.try_to_take().unwrap();
    assert_eq!(c.consumed(), Err(Errno::EPERM));
    c.ready(8).unwrap();
    assert_eq!(c.consumed(), Ok(()));
    assert!(c.is_clear());
    assert_eq!(c.try_to_take(), Ok(()));
}

#[test]
fn l4_27_producer_and_consumer_pass_data_intact_and_in_order() {
    const N: usize = 300;
    let (_g, a) = fresh("t27", K64);
    let mut c = a.add_chunk("data", 256).unwrap();
    c.connect(a.add_signal("ready").unwrap());
    let mut done = a.add_signal("done").unwrap();

    let consumer = thread::spawn(|| {
        let b = Area::attach("t27").unwrap();
        let mut c = b.get_chunk_to("data", Some(1000)).unwrap();
        c.connect(b.get_signal_to("ready", Some(1000)).unwrap());
        let done = b.get_signal("done").unwrap();
        b.mark_client_initialized().unwrap();
        let mut buf = [0u8; 256];
        for i in 0..N {
            c.wait(Some(5000)).unwrap();
            assert!(c.is_ready());
            let n = c.read(&mut buf).unwrap();
            assert_eq!(n, 1 + i % 256, "size of message {i}");
            assert!(
                buf[..n].iter().all(|&x| x == i as u8),
                "data of message {i}"
            );
            c.consumed().unwrap();
            done.trigger().unwrap();
        }
    });
    // As L4Re's example does: start once the consumer has its signals.
    let t = Instant::now();
    while a.initialized_clients() & 0b10 == 0 {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "consumer did not start"
        );
        thread::sleep(Duration::from_millis(1));
    }
    for i in 0..N {
        c.try_to_take().unwrap();
        c.write(&vec![i as u8; 1 + i % 256]).unwrap();
        c.ready_sig(1 + i % 256).unwrap();
        done.wait(Some(5000)).unwrap();
    }
    consumer.join().unwrap();
    assert!(c.is_clear());
}

#[test]
fn l4_28_unknown_signal_names_are_enoent() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, mut a) = fresh("t28", 4096);
        assert_eq!(a.get_signal("nope").unwrap_err(), Errno::ENOENT);
        assert_eq!(
            a.get_signal_to("nope", Some(30)).unwrap_err(),
            Errno::ENOENT
        );
        let mut s = l4shmc_signal_t::default();
        assert_eq!(l4shmc_get_signal(&mut a, c"nope".as_ptr(), &mut s), -2);
        assert_eq!(
            l4shmc_attach_signal(&mut a, c"nope".as_ptr(), 0, &mut s),
            -2
        );
        assert_eq!(
            l4shmc_attach_signal_to(&mut a, c"nope".as_ptr(), 0, 30, &mut s),
            -2
        );
        // Here add_signal is what provides a signal (as in the older L4Re, which created the
        // IRQ): it makes the name known, and adding it again gets the same one.
        let s1 = a.add_signal("nope").unwrap();
        assert_eq!(a.get_signal("nope").unwrap().offset(), s1.offset());
        assert_eq!(a.add_signal("nope").unwrap().offset(), s1.offset());
        assert_eq!(l4shmc_attach_signal(&mut a, c"nope".as_ptr(), 0, &mut s), 0);
    }
}

#[test]
fn l4_29_chunk_signal_is_null_until_connected() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, mut a) = fresh("t29", 4096);
        let mut c = l4shmc_chunk_t::default();
        let mut s = l4shmc_signal_t::default();
        assert_eq!(l4shmc_add_chunk(&mut a, c"c".as_ptr(), 64, &mut c), 0);
        assert_eq!(l4shmc_add_signal(&mut a, c"s".as_ptr(), &mut s), 0);
        assert!(l4shmc_chunk_signal(&mut c).is_null());
        assert_eq!(l4shmc_connect_chunk_signal(&mut c, &mut s), 0);
        assert_eq!(l4shmc_chunk_signal(&mut c), &mut s as *mut l4shmc_signal_t);
        // The Rust form.
        let mut rc = a.get_chunk("c").unwrap();
        assert!(rc.signal().is_none());
        rc.connect(a.get_signal("s").unwrap());
        assert_eq!(rc.signal().unwrap().name().unwrap(), "s");
    }
}

#[test]
fn l4_30_a_blocked_consumer_wakes_on_ready_sig_or_trigger() {
    let (_g, a) = fresh("t30", 4096);
    let mut c = a.add_chunk("c", 64).unwrap();
    c.connect(a.add_signal("cs").unwrap());
    let s = a.add_signal("s").unwrap();
    let woke = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
    let (to_main, started) = mpsc::channel();
    let waiters: Vec<_> = (0..2)
        .map(|k| {
            let (woke, to_main) = (woke.clone(), to_main.clone());
            thread::spawn(move || {
                let b = Area::attach("t30").unwrap();
                let r = if k == 0 {
                    let mut c = b.get_chunk("c").unwrap();
                    c.connect(b.get_signal("cs").unwrap());
                    to_main.send(()).unwrap();
                    c.wait(None)
                } else {
                    let mut s = b.get_signal("s").unwrap();
                    to_main.send(()).unwrap();
                    s.wait(None)
                };
                woke[k].store(true, Ordering::SeqCst);
                r
            })
        })
        .collect();
    started.recv().unwrap();
    started.recv().unwrap();
    thread::sleep(Duration::from_millis(50));
    assert!(!woke[0].load(Ordering::SeqCst) && !woke[1].load(Ordering::SeqCst));
    c.try_to_take().unwrap();
    c.ready_sig(4).unwrap();
    s.trigger().unwrap();
    for w in waiters {
        assert_eq!(w.join().unwrap(), Ok(()));
    }
}

#[test]
fn l4_31_chunk_operations_without_a_signal_are_einval() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, mut a) = fresh("t31", 4096);
        let mut c = a.add_chunk("c", 64).unwrap();
        c.try_to_take().unwrap();
        assert_eq!(c.ready_sig(8), Err(Errno::EINVAL));
        assert_eq!(c.state(), ChunkState::Busy, "nothing changed");
        assert_eq!(c.wait(Some(10)), Err(Errno::EINVAL));
        assert_eq!(c.wait_try(), Err(Errno::EINVAL));
        let mut cc = l4shmc_chunk_t::default();
        assert_eq!(l4shmc_get_chunk(&mut a, c"c".as_ptr(), &mut cc), 0);
        assert_eq!(l4shmc_chunk_ready_sig(&mut cc, 8), -22);
        assert_eq!(l4shmc_wait_chunk(&mut cc), -22);
        assert_eq!(l4shmc_wait_chunk_try(&mut cc), -22);
        assert_eq!(l4shmc_wait_chunk_to(&mut cc, 10), -22);
        assert_eq!(l4shmc_enable_chunk(&mut cc), -22);
        assert_eq!(l4shmc_is_chunk_ready(&mut cc), 0);
    }
}

#[test]
fn l4_32_waiting_with_nothing_triggered_times_out() {
    let (_g, a) = fresh("t32", 4096);
    let mut s = a.add_signal("s").unwrap();
    let mut c = a.add_chunk("c", 64).unwrap();
    c.connect(s.clone());
    assert_eq!(s.wait_try(), Err(Errno::ETIMEDOUT));
    let t = Instant::now();
    assert_eq!(c.wait(Some(100)), Err(Errno::ETIMEDOUT));
    let took = t.elapsed();
    assert!(
        took >= Duration::from_millis(100) && took < EARLY,
        "{took:?}"
    );
    assert_eq!(wait_any(&mut [&mut s], Some(0)), Err(Errno::ETIMEDOUT));
    assert_eq!(wait_any(&mut [&mut s], Some(30)), Err(Errno::ETIMEDOUT));
}

#[test]
fn l4_33_a_trigger_before_the_wait_is_not_lost() {
    let (_g, a) = fresh("t33", 4096);
    let mut consumer = a.add_signal("s").unwrap();
    let producer = a.get_signal("s").unwrap();
    producer.trigger().unwrap();
    assert_eq!(consumer.pending(), 1);
    assert_eq!(consumer.wait_try(), Ok(()));
    assert_eq!(consumer.wait_try(), Err(Errno::ETIMEDOUT));
    // Each trigger is one event.
    producer.trigger().unwrap();
    producer.trigger().unwrap();
    assert_eq!(consumer.wait(Some(100)), Ok(()));
    assert_eq!(consumer.wait(None), Ok(()));
    assert_eq!(consumer.wait_try(), Err(Errno::ETIMEDOUT));
    // A handle got after a trigger has nothing pending from before.
    let mut late = a.get_signal("s").unwrap();
    assert_eq!(late.wait_try(), Err(Errno::ETIMEDOUT));
}

#[test]
fn l4_34_wait_any_returns_the_signal_that_was_triggered() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let (_g, a) = fresh("t34", 4096);
        let mut s: Vec<Signal> = ["s0", "s1", "s2"]
            .iter()
            .map(|n| a.add_signal(n).unwrap())
            .collect();
        let trigger = thread::spawn(|| {
            let b = Area::attach("t34").unwrap();
            thread::sleep(Duration::from_millis(50));
            b.get_signal("s1").unwrap().trigger().unwrap();
        });
        assert_eq!(wait_any(&mut s, Some(1800)), Ok(1));
        trigger.join().unwrap();
        assert_eq!(wait_any(&mut s, Some(0)), Err(Errno::ETIMEDOUT));
        s[2].clone().trigger().unwrap();
        assert_eq!(wait_any(&mut s, None), Ok(2));
        assert_eq!(wait_any::<Signal>(&mut [], None), Err(Errno::EINVAL));

        // The C form: enabled signals, and the handle that fired.
        let mut area = Area::attach("t34").unwrap();
        let mut cs: Vec<l4shmc_signal_t> = (0..3).map(|_| l4shmc_signal_t::default()).collect();
        for (h, n) in cs.iter_mut().zip([c"s0", c"s1", c"s2"]) {
            assert_eq!(l4shmc_get_signal(&mut area, n.as_ptr(), h), 0);
            assert_eq!(l4shmc_enable_signal(h), 0);
        }
        let mut ret: *mut l4shmc_signal_t = std::ptr::null_mut();
        assert_eq!(l4shmc_wait_any_try(&mut ret), -110);
        assert_eq!(l4shmc_trigger(&mut cs[2]), 0);
        assert_eq!(l4shmc_wait_any(&mut ret), 0);
        assert_eq!(ret, &mut cs[2] as *mut l4shmc_signal_t);
        assert_eq!(l4shmc_wait_any_to(20, &mut ret), -110);
        for h in cs.iter_mut() {
            assert_eq!(l4shmc_disable_signal(h), 0);
        }
    }
}

#[test]
fn l4_35_area_names_longer_than_15_bytes_are_einval() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let long = "abcdefghijklmnop";
        assert_eq!(Area::create(long, 4096), Err(Errno::EINVAL));
        assert_eq!(Area::attach(long).unwrap_err(), Errno::EINVAL);
        assert_eq!(Area::attach_to(long, Some(10)).unwrap_err(), Errno::EINVAL);
        assert!(!os::exists("/abcdefghijklmno"));
        let (_g, a) = fresh("abcdefghijklmno", 4096);
        assert_eq!(a.name(), "abcdefghijklmno");
        assert_eq!(Area::create("a/b", 4096), Err(Errno::EINVAL));
        assert_eq!(Area::create("", 4096), Err(Errno::EINVAL));
        let mut c = area_slot();
        assert_eq!(
            l4shmc_attach(c"abcdefghijklmnop".as_ptr(), c.as_mut_ptr()),
            -22
        );
    }
}

/// Room for a C area struct (the Rust `Area` is never built from it unless attach fills it).
fn area_slot() -> std::mem::MaybeUninit<l4shmc_area_t> {
    std::mem::MaybeUninit::uninit()
}

#[test]
fn tools_list_chunks_signals_and_the_header() {
    let (_g, a) = fresh("ttools", 4096);
    let c = a.add_chunk("c1", 10).unwrap();
    let s = a.add_signal("sig").unwrap();
    a.add_chunk("c2", 32).unwrap();
    c.try_to_take().unwrap();
    c.ready(5).unwrap();
    s.trigger().unwrap();
    a.mark_client_initialized().unwrap();
    let e: Vec<Entry> = a.entries().map(Result::unwrap).collect();
    assert_eq!(e.len(), 3);
    match (&e[0], &e[1], &e[2]) {
        (Entry::Chunk(c1), Entry::Signal(sg), Entry::Chunk(c2)) => {
            assert_eq!((c1.capacity, c1.size), (16, 5));
            assert_eq!(c1.state, ChunkState::Ready);
            assert_eq!(c1.name, "c1");
            assert_eq!(sg.count, 1);
            assert_eq!(sg.name, "sig");
            assert_eq!((c2.capacity, c2.size, c2.state), (32, 0, ChunkState::Clear));
        }
        other => panic!("{other:?}"),
    }
    let i = a.info();
    assert_eq!((i.clients, i.initialized, i.lock_word), (1, 1, 0));
    assert_eq!(i.name, "ttools");
    assert_eq!(i.free, a.size_free());
    assert_eq!(a.chunks().count(), 2);
    // Looking does not take a client number.
    let look = Area::inspect("ttools").unwrap();
    assert_eq!(look.info().clients, 1);
    assert_eq!(look.mark_client_initialized(), Err(Errno::EINVAL));
    assert_eq!(look.chunks().count(), 2);
    assert_eq!(Area::attach("ttools").unwrap().client_nr(), 1);
    assert_eq!(Area::inspect("tnone").unwrap_err(), Errno::ENOENT);
}

#[test]
fn a_lock_holder_that_dies_mid_append_leaves_a_list_the_next_holder_repairs() {
    let (_g, a) = fresh("tdeath", 4096);
    a.add_chunk("a", 64).unwrap();
    let b_off = a.add_chunk("b", 64).unwrap().offset();
    thread::spawn(move || {
        let a = Area::attach("tdeath").unwrap();
        assert_eq!(a.header().lock.lock(None), Ok(shmsync::Acquired::Clean));
        // Die having linked a descriptor it had not finished (no magic yet).
        let half = b_off + DESC_SIZE + 64;
        a.desc(half)
            .unwrap()
            .offset
            .store(half as u64, Ordering::SeqCst);
        a.desc(b_off)
            .unwrap()
            .next
            .store(half as u64, Ordering::SeqCst);
        os::die();
    })
    .join()
    .unwrap();
    assert_eq!(a.size_free(), Err(Errno::EIO), "damaged until repaired");
    let lock = a.header().lock.word();
    assert_ne!(lock & abi::sys::FUTEX_OWNER_DIED, 0);
    // The next add takes the lock as OwnerDied, cuts the list after "b", and goes on.
    let c = a.add_chunk("c", 8).unwrap();
    assert_eq!(c.offset(), b_off + DESC_SIZE + 64);
    assert_eq!(
        desc(&a, c.offset()).magic.load(Ordering::SeqCst),
        CHUNK_MAGIC
    );
    assert_eq!(names(&a), ["a", "b", "c"]);
    assert_eq!(a.header().lock.word(), 0, "free and clean again");
    assert_eq!(a.header().lock.lock(None), Ok(shmsync::Acquired::Clean));
    a.header().lock.unlock().unwrap();
}

#[test]
fn a_lock_holder_that_dies_with_the_list_intact_loses_nothing() {
    let (_g, a) = fresh("tdeath2", 4096);
    a.add_chunk("a", 64).unwrap();
    a.add_signal("s").unwrap();
    let (to_main, locked) = mpsc::channel();
    let holder = thread::spawn(move || {
        let a = Area::attach("tdeath2").unwrap();
        a.header().lock.lock(None).unwrap();
        to_main.send(()).unwrap();
        thread::sleep(Duration::from_millis(50));
        os::die();
    });
    locked.recv().unwrap();
    // Blocks until the death hands the lock over.
    a.add_chunk("b", 8).unwrap();
    holder.join().unwrap();
    assert_eq!(names(&a), ["a", "b"]);
    assert!(a.get_signal("s").is_ok());
}
