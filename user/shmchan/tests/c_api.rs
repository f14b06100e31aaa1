//! The C surface (`l4shmc_*`): a producer and a consumer through it alone, null pointers and
//! handles that were never filled in, detach, and the per-thread wait_any set.

use shmchan::c::*;
use shmchan::Area;
use std::ffi::{c_char, CStr};
use std::mem::MaybeUninit;
use std::ptr::{null, null_mut};
use std::thread;

const EINVAL: i64 = -22;

fn attach(name: &CStr) -> l4shmc_area_t {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let mut a = MaybeUninit::<l4shmc_area_t>::uninit();
        assert_eq!(l4shmc_attach_to(name.as_ptr(), 1000, a.as_mut_ptr()), 0);
        // SAFETY: filled by a successful attach.
        {
            a.assume_init()
        }
    }
}

#[test]
fn a_producer_and_a_consumer_through_the_c_functions() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let _ = Area::remove("cflow");
        assert_eq!(l4shmc_create(c"cflow".as_ptr(), 8192), 0);
        let mut a = attach(c"cflow");
        assert_eq!(l4shmc_area_size(&a), 8192);
        let free = l4shmc_area_size_free(&a);
        assert_eq!(free, 8192 - l4shmc_area_overhead());
        let mut ch = l4shmc_chunk_t::default();
        let mut sig = l4shmc_signal_t::default();
        let mut ack = l4shmc_signal_t::default();
        assert_eq!(l4shmc_add_chunk(&mut a, c"data".as_ptr(), 100, &mut ch), 0);
        assert_eq!(l4shmc_chunk_capacity(&mut ch), 104);
        assert_eq!(l4shmc_check_magic(&mut ch), 1);
        assert_eq!(l4shmc_add_signal(&mut a, c"ready".as_ptr(), &mut sig), 0);
        assert_eq!(l4shmc_add_signal(&mut a, c"ack".as_ptr(), &mut ack), 0);
        assert_eq!(l4shmc_connect_chunk_signal(&mut ch, &mut sig), 0);
        assert_eq!(l4shmc_mark_client_initialized(&mut a), 0);

        let consumer = thread::spawn(|| {
            let mut a = attach(c"cflow");
            let mut ch = l4shmc_chunk_t::default();
            let mut sig = l4shmc_signal_t::default();
            let mut ack = l4shmc_signal_t::default();
            assert_eq!(
                l4shmc_get_chunk_to(&mut a, c"data".as_ptr(), 1000, &mut ch),
                0
            );
            assert_eq!(
                l4shmc_attach_signal_to(&mut a, c"ready".as_ptr(), 0, 1000, &mut sig),
                0
            );
            assert_eq!(l4shmc_get_signal(&mut a, c"ack".as_ptr(), &mut ack), 0);
            assert_eq!(l4shmc_connect_chunk_signal(&mut ch, &mut sig), 0);
            assert_eq!(l4shmc_enable_chunk(&mut ch), 0);
            assert_eq!(l4shmc_mark_client_initialized(&mut a), 0);
            let mut got = Vec::new();
            for _ in 0..20 {
                let mut which: *mut l4shmc_signal_t = null_mut();
                assert_eq!(l4shmc_wait_any_to(5000, &mut which), 0);
                assert_eq!(which, &mut sig as *mut l4shmc_signal_t);
                assert_eq!(l4shmc_is_chunk_ready(&mut ch), 1);
                let n = l4shmc_chunk_size(&mut ch);
                assert!(n > 0);
                let p = l4shmc_chunk_ptr(&mut ch) as *const u8;
                // SAFETY: `n` bytes of the payload, checked against the capacity.
                got.push({ std::slice::from_raw_parts(p, n as usize) }.to_vec());
                assert_eq!(l4shmc_chunk_consumed(&mut ch), 0);
                assert_eq!(l4shmc_trigger(&mut ack), 0);
            }
            assert_eq!(l4shmc_disable_signal(&mut sig), 0);
            assert_eq!(l4shmc_detach(&mut a), 0);
            got
        });
        let mut mask = 0usize;
        let t = std::time::Instant::now();
        while mask != 0b11 {
            assert_eq!(l4shmc_get_initialized_clients(&mut a, &mut mask), 0);
            assert!(t.elapsed().as_secs() < 5);
            thread::sleep(std::time::Duration::from_millis(1));
        }
        for i in 0..20u8 {
            assert_eq!(l4shmc_is_chunk_clear(&mut ch), 1);
            assert_eq!(l4shmc_chunk_try_to_take(&mut ch), 0);
            let msg = vec![i; 1 + i as usize];
            let p = l4shmc_chunk_ptr(&mut ch) as *mut u8;
            // The payload has 104 bytes.
            std::ptr::copy_nonoverlapping(msg.as_ptr(), p, msg.len());
            assert_eq!(l4shmc_chunk_ready_sig(&mut ch, msg.len()), 0);
            assert_eq!(l4shmc_wait_signal_to(&mut ack, 5000), 0);
        }
        let got = consumer.join().unwrap();
        assert_eq!(got.len(), 20);
        for (i, m) in got.iter().enumerate() {
            assert_eq!(m, &vec![i as u8; 1 + i]);
        }
        assert_eq!(l4shmc_wait_signal_try(&mut ack), -110);
        assert_eq!(l4shmc_detach(&mut a), 0);
        assert_eq!(l4shmc_unlink(c"cflow".as_ptr()), 0);
        assert_eq!(l4shmc_unlink(c"cflow".as_ptr()), -2);
    }
}

#[test]
fn null_pointers_are_einval() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let n: *const c_char = null();
        let mut a = MaybeUninit::<l4shmc_area_t>::uninit();
        let mut c = l4shmc_chunk_t::default();
        let mut s = l4shmc_signal_t::default();
        let mut w = 0usize;
        let mut name: *const c_char = null();
        let mut ret: *mut l4shmc_signal_t = null_mut();
        assert_eq!(l4shmc_create(n, 4096), EINVAL);
        assert_eq!(l4shmc_attach(n, a.as_mut_ptr()), EINVAL);
        assert_eq!(l4shmc_attach(c"x".as_ptr(), null_mut()), EINVAL);
        assert_eq!(l4shmc_attach_to(n, 5, a.as_mut_ptr()), EINVAL);
        assert_eq!(l4shmc_detach(null_mut()), EINVAL);
        assert_eq!(l4shmc_unlink(n), EINVAL);
        assert_eq!(l4shmc_get_client_nr(null()), EINVAL);
        assert_eq!(l4shmc_mark_client_initialized(null_mut()), EINVAL);
        assert_eq!(l4shmc_get_initialized_clients(null_mut(), &mut w), EINVAL);
        assert_eq!(
            l4shmc_add_chunk(null_mut(), c"c".as_ptr(), 8, &mut c),
            EINVAL
        );
        assert_eq!(l4shmc_get_chunk(null_mut(), c"c".as_ptr(), &mut c), EINVAL);
        assert_eq!(
            l4shmc_get_chunk_to(null_mut(), c"c".as_ptr(), 1, &mut c),
            EINVAL
        );
        assert_eq!(l4shmc_iterate_chunk(null_mut(), &mut name, 0), EINVAL);
        assert_eq!(l4shmc_add_signal(null_mut(), c"s".as_ptr(), &mut s), EINVAL);
        assert_eq!(l4shmc_get_signal(null_mut(), c"s".as_ptr(), &mut s), EINVAL);
        assert_eq!(
            l4shmc_get_signal_to(null_mut(), c"s".as_ptr(), 1, &mut s),
            EINVAL
        );
        assert_eq!(
            l4shmc_attach_signal(null_mut(), c"s".as_ptr(), 0, &mut s),
            EINVAL
        );
        assert_eq!(l4shmc_connect_chunk_signal(null_mut(), &mut s), EINVAL);
        assert_eq!(l4shmc_connect_chunk_signal(&mut c, null_mut()), EINVAL);
        assert!(l4shmc_chunk_signal(null_mut()).is_null());
        assert_eq!(l4shmc_trigger(null_mut()), EINVAL);
        for f in [
            l4shmc_chunk_try_to_take,
            l4shmc_chunk_consumed,
            l4shmc_is_chunk_ready,
            l4shmc_is_chunk_clear,
            l4shmc_check_magic,
            l4shmc_chunk_size,
            l4shmc_chunk_capacity,
            l4shmc_wait_chunk,
            l4shmc_wait_chunk_try,
            l4shmc_enable_chunk,
        ] {
            assert_eq!(f(null_mut()), EINVAL);
            // A handle that was never filled in (its area pointer is null).
            assert_eq!(f(&mut c), EINVAL);
        }
        assert_eq!(l4shmc_chunk_ready(null_mut(), 1), EINVAL);
        assert_eq!(l4shmc_chunk_ready_sig(null_mut(), 1), EINVAL);
        assert_eq!(l4shmc_wait_chunk_to(null_mut(), 1), EINVAL);
        assert!(l4shmc_chunk_ptr(null_mut()).is_null());
        assert!(l4shmc_chunk_ptr(&mut c).is_null());
        for f in [
            l4shmc_wait_signal,
            l4shmc_wait_signal_try,
            l4shmc_enable_signal,
            l4shmc_trigger,
        ] {
            assert_eq!(f(null_mut()), EINVAL);
            assert_eq!(f(&mut s), EINVAL);
        }
        assert_eq!(l4shmc_wait_signal_to(null_mut(), 1), EINVAL);
        assert_eq!(l4shmc_wait_any(null_mut()), EINVAL);
        assert_eq!(l4shmc_wait_any_to(1, null_mut()), EINVAL);
        assert_eq!(l4shmc_area_size(null()), EINVAL);
        assert_eq!(l4shmc_area_size_free(null()), EINVAL);
        // Nothing enabled in this thread.
        assert_eq!(l4shmc_wait_any_try(&mut ret), EINVAL);
        assert_eq!(l4shmc_disable_signal(&mut s), -2);
    }
}

#[test]
fn null_out_pointers_and_names_are_einval_on_an_attached_area() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let _ = Area::remove("cnull");
        assert_eq!(l4shmc_create(c"cnull".as_ptr(), 4096), 0);
        let mut a = attach(c"cnull");
        let mut c = l4shmc_chunk_t::default();
        let mut s = l4shmc_signal_t::default();
        assert_eq!(
            l4shmc_add_chunk(&mut a, c"c".as_ptr(), 8, null_mut()),
            EINVAL
        );
        assert_eq!(l4shmc_add_chunk(&mut a, null(), 8, &mut c), EINVAL);
        assert_eq!(l4shmc_get_chunk(&mut a, c"c".as_ptr(), null_mut()), EINVAL);
        assert_eq!(l4shmc_add_signal(&mut a, null(), &mut s), EINVAL);
        assert_eq!(l4shmc_add_signal(&mut a, c"s".as_ptr(), null_mut()), EINVAL);
        assert_eq!(l4shmc_get_signal(&mut a, c"s".as_ptr(), null_mut()), EINVAL);
        assert_eq!(l4shmc_get_initialized_clients(&mut a, null_mut()), EINVAL);
        assert_eq!(l4shmc_iterate_chunk(&a, null_mut(), 0), EINVAL);
        assert_eq!(
            l4shmc_add_chunk(&mut a, c"sixteen-bytes-xx".as_ptr(), 8, &mut c),
            EINVAL
        );
        // Not UTF-8.
        assert_eq!(
            l4shmc_add_chunk(&mut a, c"\xff".as_ptr(), 8, &mut c),
            EINVAL
        );
        assert_eq!(l4shmc_add_chunk(&mut a, c"c".as_ptr(), 8, &mut c), 0);
        assert_eq!(l4shmc_add_chunk(&mut a, c"c".as_ptr(), 8, &mut c), -17);
        assert_eq!(l4shmc_get_chunk(&mut a, c"none".as_ptr(), &mut c), -2);
        assert_eq!(l4shmc_detach(&mut a), 0);
        let _ = Area::remove("cnull");
    }
}

#[test]
fn a_detached_area_is_einval_and_so_are_its_handles() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let _ = Area::remove("cdetach");
        assert_eq!(l4shmc_create(c"cdetach".as_ptr(), 4096), 0);
        let mut a = attach(c"cdetach");
        let mut c = l4shmc_chunk_t::default();
        assert_eq!(l4shmc_add_chunk(&mut a, c"c".as_ptr(), 8, &mut c), 0);
        assert_eq!(l4shmc_detach(&mut a), 0);
        assert_eq!(l4shmc_detach(&mut a), EINVAL, "twice");
        assert_eq!(l4shmc_area_size(&a), EINVAL);
        assert_eq!(l4shmc_chunk_try_to_take(&mut c), EINVAL);
        // The name outlives the mapping, and the chunk is still there for a new attach.
        let mut b = attach(c"cdetach");
        assert_eq!(l4shmc_get_client_nr(&b), 1);
        assert_eq!(l4shmc_get_chunk(&mut b, c"c".as_ptr(), &mut c), 0);
        assert_eq!(l4shmc_detach(&mut b), 0);
        let _ = Area::remove("cdetach");
    }
}

#[test]
fn enabling_twice_counts_once_and_a_thread_waits_only_on_its_own_signals() {
    // SAFETY: every pointer passed to the C functions is a live local of the right type.
    unsafe {
        let _ = Area::remove("cenable");
        assert_eq!(l4shmc_create(c"cenable".as_ptr(), 4096), 0);
        let mut a = attach(c"cenable");
        let mut s = l4shmc_signal_t::default();
        assert_eq!(l4shmc_add_signal(&mut a, c"s".as_ptr(), &mut s), 0);
        assert_eq!(l4shmc_enable_signal(&mut s), 0);
        assert_eq!(l4shmc_enable_signal(&mut s), 0);
        // Another thread has enabled nothing.
        let other = thread::spawn(|| {
            let mut ret = null_mut();
            l4shmc_wait_any_try(&mut ret)
        })
        .join()
        .unwrap();
        assert_eq!(other, EINVAL);
        assert_eq!(l4shmc_trigger(&mut s), 0);
        let mut ret = null_mut();
        assert_eq!(l4shmc_wait_any_to(L4SHMC_TIMEOUT_NEVER, &mut ret), 0);
        assert_eq!(ret, &mut s as *mut l4shmc_signal_t);
        assert_eq!(l4shmc_disable_signal(&mut s), 0);
        assert_eq!(l4shmc_disable_signal(&mut s), -2, "enabled once");
        // ENABLED_MAX per thread.
        let mut many: Vec<l4shmc_signal_t> = (0..=ENABLED_MAX)
            .map(|_| l4shmc_signal_t::default())
            .collect();
        for (i, h) in many.iter_mut().enumerate() {
            let name = std::ffi::CString::new(format!("m{i}")).unwrap();
            assert_eq!(l4shmc_add_signal(&mut a, name.as_ptr(), h), 0);
            let want = if i < ENABLED_MAX { 0 } else { -12 };
            assert_eq!(l4shmc_enable_signal(h), want, "signal {i}");
        }
        for h in many.iter_mut().take(ENABLED_MAX) {
            assert_eq!(l4shmc_disable_signal(h), 0);
        }
        assert_eq!(l4shmc_detach(&mut a), 0);
        let _ = Area::remove("cenable");
    }
}
