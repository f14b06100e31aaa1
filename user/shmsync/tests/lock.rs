//! The robust lock on the host: threads stand in for processes, `os::die` for the kernel's
//! walk of a dead holder's robust list.

use abi::sys::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use abi::Errno;
use shmsync::{os, Acquired, RobustLock};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

#[test]
fn lock_unlock_and_the_errors() {
    let l = RobustLock::new();
    assert_eq!(l.lock(None), Ok(Acquired::Clean));
    assert_eq!(l.word() & FUTEX_TID_MASK, os::tid());
    assert_eq!(l.lock(None), Err(Errno::EDEADLK));
    assert_eq!(l.try_lock(), Err(Errno::EDEADLK));
    assert_eq!(l.unlock(), Ok(()));
    assert_eq!(l.word(), 0);
    assert_eq!(l.unlock(), Err(Errno::EPERM), "not held");
    assert_eq!(os::robust().nheld.load(Ordering::Relaxed), 0);
}

#[test]
fn a_held_lock_is_busy_and_times_out_for_others() {
    let l = Arc::new(RobustLock::new());
    l.lock(None).unwrap();
    let l2 = l.clone();
    std::thread::spawn(move || {
        assert_eq!(l2.try_lock(), Err(Errno::EBUSY));
        let t = os::now_ns();
        assert_eq!(l2.lock(os::deadline_ms(Some(30))), Err(Errno::ETIMEDOUT));
        assert!(os::now_ns() - t >= 30_000_000);
        assert_eq!(os::robust().head.pending.load(Ordering::Relaxed), 0);
    })
    .join()
    .unwrap();
    l.unlock().unwrap();
}

#[test]
fn contended_increments_are_not_lost() {
    struct Shared {
        lock: RobustLock,
        n: AtomicU64,
    }
    let s = Arc::new(Shared {
        lock: RobustLock::new(),
        n: AtomicU64::new(0),
    });
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let s = s.clone();
            std::thread::spawn(move || {
                for _ in 0..2000 {
                    s.lock.lock(None).unwrap();
                    // A non-atomic read-modify-write under the lock.
                    let v = s.n.load(Ordering::Relaxed);
                    std::hint::spin_loop();
                    s.n.store(v + 1, Ordering::Relaxed);
                    s.lock.unlock().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(s.n.load(Ordering::Relaxed), 8000);
    assert_eq!(s.lock.word() & !FUTEX_WAITERS, 0);
}

#[test]
fn a_holder_that_dies_hands_the_lock_on_marked_owner_died() {
    let a = Arc::new([RobustLock::new(), RobustLock::new(), RobustLock::new()]);
    let a2 = a.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let holder = std::thread::spawn(move || {
        // Three held, one let go: the list is rewritten each time.
        for l in a2.iter() {
            l.lock(None).unwrap();
        }
        a2[1].unlock().unwrap();
        tx.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        os::die();
    });
    rx.recv().unwrap();
    // A waiter sleeps on lock 0 and is woken by the death.
    assert_eq!(a[0].lock(None), Ok(Acquired::OwnerDied));
    holder.join().unwrap();
    assert_eq!(a[2].word(), FUTEX_OWNER_DIED, "no waiter: only marked");
    assert_eq!(a[2].lock(None), Ok(Acquired::OwnerDied));
    assert_eq!(
        a[1].lock(None),
        Ok(Acquired::Clean),
        "let go before the death"
    );
    for l in a.iter() {
        l.unlock().unwrap();
        assert_eq!(l.lock(None), Ok(Acquired::Clean), "repaired: clean again");
        l.unlock().unwrap();
    }
}

#[test]
fn a_death_while_taking_the_lock_is_seen_through_pending() {
    let l = Arc::new(RobustLock::new());
    let l2 = l.clone();
    std::thread::spawn(move || {
        // As if the holder died between taking the word and linking it on its list.
        let r = os::robust();
        r.head
            .pending
            .store(&*l2 as *const RobustLock as usize, Ordering::SeqCst);
        l2.try_lock().unwrap();
        r.nheld.store(0, Ordering::Relaxed);
        r.head.next.store(os::head_addr(&r.head), Ordering::SeqCst);
        r.head
            .pending
            .store(&*l2 as *const RobustLock as usize, Ordering::SeqCst);
        os::die();
    })
    .join()
    .unwrap();
    assert_eq!(l.lock(None), Ok(Acquired::OwnerDied));
    l.unlock().unwrap();
}

#[test]
fn more_than_max_held_is_enolck_with_nothing_taken() {
    let locks: Vec<RobustLock> = (0..=shmsync::lock::MAX_HELD)
        .map(|_| RobustLock::new())
        .collect();
    for l in &locks[..shmsync::lock::MAX_HELD] {
        l.lock(None).unwrap();
    }
    let last = &locks[shmsync::lock::MAX_HELD];
    assert_eq!(last.lock(None), Err(Errno::ENOLCK));
    assert_eq!(last.word(), 0);
    for l in &locks[..shmsync::lock::MAX_HELD] {
        l.unlock().unwrap();
    }
}

#[test]
fn futex_wait_any_names_the_word_that_changed() {
    use std::sync::atomic::AtomicU32;
    let w = Arc::new([AtomicU32::new(0), AtomicU32::new(0), AtomicU32::new(0)]);
    let w2 = w.clone();
    let t = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(10));
        w2[2].store(1, Ordering::SeqCst);
        os::futex_wake(&w2[2], 1);
    });
    let words: Vec<(&AtomicU32, u32)> = w.iter().map(|x| (x, 0)).collect();
    let mut got = os::futex_wait_any(&words, os::deadline_ms(Some(2000)));
    while got == Ok(0) && w[0].load(Ordering::SeqCst) == 0 {
        // A wake for another word: wait again (as a caller would).
        got = os::futex_wait_any(&words, os::deadline_ms(Some(2000)));
    }
    assert!(got == Ok(2) || got == Err(Errno::EAGAIN), "{got:?}");
    t.join().unwrap();
    assert_eq!(os::futex_wait_any(&[], None), Err(Errno::EINVAL));
    assert_eq!(
        os::futex_wait_any(&[(&w[0], 0)], os::deadline_ms(Some(5))),
        Err(Errno::ETIMEDOUT)
    );
}

#[test]
fn named_objects_on_the_host() {
    let (m, fresh) = os::create("/shmsync-t", 5000, true).unwrap();
    assert!(fresh && m.len == 5000);
    assert_eq!(os::create("/shmsync-t", 5000, true), Err(Errno::EEXIST));
    let (m2, fresh2) = os::create("/shmsync-t", 5000, false).unwrap();
    assert!(!fresh2 && m2.base == m.base);
    assert_eq!(os::attach("/shmsync-t").unwrap().base, m.base);
    os::unlink("/shmsync-t").unwrap();
    assert_eq!(os::attach("/shmsync-t"), Err(Errno::ENOENT));
    assert_eq!(os::unlink("/shmsync-t"), Err(Errno::ENOENT));
    for _ in 0..3 {
        os::unmap(m);
    }
    let _ = AtomicU64::new(0);
}

/// The lock word of `l` (tests write what a hostile client or a dead holder left there).
fn word_of(l: &RobustLock) -> &std::sync::atomic::AtomicU32 {
    // SAFETY: RobustLock is repr(C) with its AtomicU32 word at FUTEX_OFFSET.
    unsafe {
        &*((l as *const RobustLock as *const u8).offset(shmsync::lock::FUTEX_OFFSET)
            as *const std::sync::atomic::AtomicU32)
    }
}

#[test]
fn a_holder_that_does_not_exist_is_taken_over_after_a_slice() {
    let l = RobustLock::new();
    // An id no thread ever had, as a client might write, or a holder that ended without a
    // robust list: the waiter looks after a slice and takes the lock as owner-died.
    word_of(&l).store(0x3fff_0000, Ordering::SeqCst);
    let t0 = std::time::Instant::now();
    assert_eq!(l.lock(None), Ok(Acquired::OwnerDied));
    let waited = t0.elapsed().as_nanos() as u64;
    assert!(waited >= shmsync::lock::CHECK_HOLDER_NS, "{waited}");
    l.unlock().unwrap();
    assert_eq!(l.lock(None), Ok(Acquired::Clean));
    l.unlock().unwrap();
    // A live holder is waited for (to the deadline here).
    let held = Arc::new(RobustLock::new());
    let h2 = held.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    let t = std::thread::spawn(move || {
        h2.lock(None).unwrap();
        tx.send(()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(1500));
        h2.unlock().unwrap();
    });
    rx.recv().unwrap();
    let dl = shmsync::os::deadline_ms(Some(1200));
    assert_eq!(
        held.lock(dl),
        Err(abi::Errno::ETIMEDOUT),
        "holder alive: no takeover"
    );
    t.join().unwrap();
}
