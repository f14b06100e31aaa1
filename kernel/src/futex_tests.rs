//! futex_waitv and robust futexes (set_robust_list / get_robust_list, the exit walk)
//! against the fake architecture: two processes over one System V segment attached at
//! different addresses.

use crate::tests::{Sys, SCRATCH};
use abi::shm::{IPC_CREAT, IPC_PRIVATE};
use abi::sys::{self, nr, FutexWaitv, RobustListHead, FUTEX2_PRIVATE, FUTEX2_SIZE_U32};
use abi::sys::{FUTEX_OWNER_DIED, FUTEX_WAITERS};
use abi::Errno;

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

/// A process and a segment attached in it; the segment's id.
fn setup() -> (Sys, i64, usize) {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let id = s.call(
        nr::SHMGET,
        &[IPC_PRIVATE as usize, 4096, (IPC_CREAT | 0o600) as usize],
    );
    let p = s.call(nr::SHMAT, &[id as usize, 0, 0]) as usize;
    (s, id, p)
}

fn waitv(words: &[(usize, u64)]) -> std::vec::Vec<FutexWaitv> {
    words
        .iter()
        .map(|&(uaddr, val)| FutexWaitv {
            val,
            uaddr: uaddr as u64,
            flags: FUTEX2_SIZE_U32,
            reserved: 0,
        })
        .collect()
}

fn put_waitv(s: &Sys, at: usize, v: &[FutexWaitv]) {
    for (i, w) in v.iter().enumerate() {
        crate::uaccess::write_val(s.k.arch, &s.env(), at + i * 24, w).unwrap();
    }
}

#[test]
fn futex_waitv_argument_errors_in_linux_order() {
    let (mut s, _, p) = setup();
    let v = waitv(&[(p, 0), (p + 4, 0)]);
    put_waitv(&s, SCRATCH, &v);
    let call = |s: &mut Sys, a: [usize; 5]| s.call(nr::FUTEX_WAITV, &a);
    assert_eq!(
        call(&mut s, [SCRATCH, 2, 1, 0, 0]),
        err(Errno::EINVAL),
        "flags"
    );
    assert_eq!(
        call(&mut s, [SCRATCH, 0, 0, 0, 0]),
        err(Errno::EINVAL),
        "none"
    );
    assert_eq!(
        call(&mut s, [SCRATCH, 129, 0, 0, 0]),
        err(Errno::EINVAL),
        "> 128"
    );
    assert_eq!(call(&mut s, [0, 2, 0, 0, 0]), err(Errno::EINVAL), "NULL");
    // A timeout on a clock other than MONOTONIC / REALTIME.
    let ts = SCRATCH + 1024;
    let t = sys::Timespec::default();
    crate::uaccess::write_val(s.k.arch, &s.env(), ts, &t).unwrap();
    assert_eq!(
        call(&mut s, [SCRATCH, 2, 0, ts, 2]),
        err(Errno::EINVAL),
        "clock"
    );
    assert_eq!(
        call(&mut s, [SCRATCH, 2, 0, 0x10, 1]),
        err(Errno::EFAULT),
        "timeout"
    );
    assert_eq!(
        call(&mut s, [0x10, 2, 0, 0, 0]),
        err(Errno::EFAULT),
        "array"
    );
    // Per word: size flag, reserved, value width, alignment, address.
    let bad = |f: &dyn Fn(&mut FutexWaitv)| {
        let mut v = waitv(&[(p, 0), (p + 4, 0)]);
        f(&mut v[1]);
        v
    };
    for (v, e) in [
        (bad(&|w| w.flags = 3), Errno::EINVAL),
        (bad(&|w| w.flags = 0), Errno::EINVAL),
        (bad(&|w| w.reserved = 1), Errno::EINVAL),
        (bad(&|w| w.val = 1 << 32), Errno::EINVAL),
        (bad(&|w| w.uaddr += 2), Errno::EINVAL),
        (bad(&|w| w.uaddr = 0x50_0000_0000), Errno::EFAULT),
        (bad(&|w| w.val = 9), Errno::EAGAIN),
    ] {
        put_waitv(&s, SCRATCH, &v);
        assert_eq!(call(&mut s, [SCRATCH, 2, 0, 0, 0]), err(e), "{v:?}");
    }
    // All entries' flags come before any address, and all addresses before any value: a
    // changed word at 0 does not hide a bad entry at 1.
    let mut v = waitv(&[(p, 9), (p + 4, 0)]);
    v[1].flags = 0;
    put_waitv(&s, SCRATCH, &v);
    assert_eq!(
        call(&mut s, [SCRATCH, 2, 0, 0, 0]),
        err(Errno::EINVAL),
        "flags first"
    );
    let mut v = waitv(&[(p, 9), (0x50_0000_0000, 0)]);
    v[1].flags = FUTEX2_SIZE_U32;
    put_waitv(&s, SCRATCH, &v);
    assert_eq!(
        call(&mut s, [SCRATCH, 2, 0, 0, 0]),
        err(Errno::EFAULT),
        "addresses next"
    );
    // FUTEX2_PRIVATE is accepted; an absolute deadline already past times out at once.
    let mut v = waitv(&[(p, 0)]);
    v[0].flags |= FUTEX2_PRIVATE;
    put_waitv(&s, SCRATCH, &v);
    assert_eq!(
        call(&mut s, [SCRATCH, 1, 0, ts, sys::CLOCK_MONOTONIC]),
        err(Errno::ETIMEDOUT)
    );
}

#[test]
fn futex_waitv_returns_the_index_of_the_word_woken_in_another_process() {
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    assert_ne!(q, p);
    s.put(q + 8, &7u32.to_le_bytes());
    let v = waitv(&[(q, 0), (q + 4, 0), (q + 8, 7)]);
    put_waitv(&s, SCRATCH, &v);
    s.call(nr::FUTEX_WAITV, &[SCRATCH, 3, 0, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "the child waits");
    // Another word of the page wakes nobody; word 2 (at the parent's address) wakes it.
    assert_eq!(s.call(nr::FUTEX, &[p + 12, sys::FUTEX_WAKE, 1, 0]), 0);
    assert_eq!(s.call(nr::FUTEX, &[p + 8, sys::FUTEX_WAKE, 5, 0]), 1);
    // Off every word's queue: another wake finds nobody.
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 5, 0]), 0);
    s.switch_to(child);
    assert_eq!(s.frame.x[0], 2, "the index of the word woken");
    // A timeout (absolute, monotonic) ends the wait with ETIMEDOUT.
    let at = s.k.arch.now_ns() + 1_000_000;
    let ts = sys::Timespec {
        tv_sec: (at / 1_000_000_000) as i64,
        tv_nsec: (at % 1_000_000_000) as i64,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH + 1024, &ts).unwrap();
    s.call(
        nr::FUTEX_WAITV,
        &[SCRATCH, 2, 0, SCRATCH + 1024, sys::CLOCK_MONOTONIC],
    );
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    s.arch.advance(2_000_000);
    s.k.timer();
    s.switch_to(child);
    assert_eq!(s.frame.x[0] as i64, err(Errno::ETIMEDOUT));
    assert_eq!(
        s.call(nr::FUTEX, &[q, sys::FUTEX_WAKE, 5, 0]),
        0,
        "off the queues"
    );
}

#[test]
fn set_and_get_robust_list() {
    let (mut s, _, p) = setup();
    assert_eq!(s.call(nr::SET_ROBUST_LIST, &[p, 23]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::SET_ROBUST_LIST, &[p, 24]), 0);
    let (h, l) = (SCRATCH, SCRATCH + 8);
    assert_eq!(s.call(nr::GET_ROBUST_LIST, &[0, h, l]), 0);
    assert_eq!((s.get::<u64>(h), s.get::<u64>(l)), (p as u64, 24));
    let child = s.spawn_call("prog") as i32;
    assert_eq!(s.call(nr::GET_ROBUST_LIST, &[child as usize, h, l]), 0);
    assert_eq!(s.get::<u64>(h), 0, "a new process has none");
    assert_eq!(s.call(nr::GET_ROBUST_LIST, &[999, h, l]), err(Errno::ESRCH));
    assert_eq!(
        s.call(nr::GET_ROBUST_LIST, &[0, 0x10, l]),
        err(Errno::EFAULT)
    );
    // Another user's process: EPERM unless root.
    s.switch_to(child);
    assert_eq!(s.call(nr::SETUID, &[5]), 0);
    assert_eq!(s.call(nr::GET_ROBUST_LIST, &[1, h, l]), err(Errno::EPERM));
}

/// The child holds lock words in the segment (at its own address `q`), linked on a robust
/// list whose head is at `q + 512`: entry i at q + 16 i, word at entry + 8.
fn hold(s: &mut Sys, q: usize, pid: i32, held: &[usize], pending: usize, waiters: bool) {
    let head = q + 512;
    let mut next = head;
    for &i in held.iter().rev() {
        let e = q + 16 * i;
        s.put(e, &(next as u64).to_le_bytes());
        next = e;
    }
    for &i in held.iter().chain(Some(&pending).filter(|&&x| x != 0)) {
        let w = pid as u32 | if waiters { FUTEX_WAITERS } else { 0 };
        s.put(q + 16 * i + 8, &w.to_le_bytes());
    }
    let h = RobustListHead {
        next: next as u64,
        futex_offset: 8,
        list_op_pending: if pending != 0 {
            (q + 16 * pending) as u64
        } else {
            0
        },
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), head, &h).unwrap();
    assert_eq!(s.call(nr::SET_ROBUST_LIST, &[head, 24]), 0);
}

#[test]
fn a_process_that_dies_holding_locks_hands_them_on_owner_died() {
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    // Locks 1 and 2 held, 3 pending; one more word (4) held by someone else.
    hold(&mut s, q, child, &[1, 2], 3, true);
    s.put(q + 16 * 4 + 8, &77u32.to_le_bytes());
    s.switch_to(1);
    // The parent sleeps on lock 1 (as a contended locker would).
    let w1 = p + 16 + 8;
    let v = child as u32 | FUTEX_WAITERS;
    s.call(nr::FUTEX, &[w1, sys::FUTEX_WAIT, v as usize, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    // Killed by a signal: the exit walks the list.
    s.call(nr::KILL, &[child as usize, sys::SIGKILL]);
    s.settle();
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "woken");
    assert_eq!(s.frame.x[0], 0);
    for i in [1, 2, 3] {
        assert_eq!(
            s.get::<u32>(p + 16 * i + 8),
            FUTEX_WAITERS | FUTEX_OWNER_DIED,
            "lock {i}"
        );
    }
    assert_eq!(s.get::<u32>(p + 16 * 4 + 8), 77, "not the dead task's");
}

#[test]
fn a_hostile_robust_list_ends_the_walk_without_harm() {
    let (mut s, id, p) = setup();
    for list in ["cycle", "wild", "unaligned"] {
        let child = s.spawn_call("prog") as i32;
        s.switch_to(child);
        let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
        hold(&mut s, q, child, &[1], 0, false);
        match list {
            // Entry 1 points at itself: followed ROBUST_LIST_LIMIT times, in steps.
            "cycle" => s.put(q + 16, &((q + 16) as u64).to_le_bytes()),
            "wild" => s.put(q + 16, &0x7777_0000_0000u64.to_le_bytes()),
            _ => {
                let h = RobustListHead {
                    next: (q + 16) as u64,
                    futex_offset: 6,
                    list_op_pending: 0,
                };
                crate::uaccess::write_val(s.k.arch, &s.env(), q + 512, &h).unwrap();
            }
        }
        s.call(nr::EXIT, &[0]);
        s.settle();
        s.run();
        let _ = s.call(nr::WAIT4, &[child as usize, 0, 0, 0]);
        let w = s.get::<u32>(p + 16 + 8);
        if list == "unaligned" {
            assert_eq!(w, child as u32, "an unaligned word is left alone");
        } else {
            assert_eq!(w, FUTEX_OWNER_DIED, "{list}");
        }
        s.put(p + 16 + 8, &0u32.to_le_bytes());
    }
}

#[test]
fn a_death_between_unlock_and_wake_still_wakes_a_waiter() {
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    hold(&mut s, q, child, &[], 2, false);
    // The child had set the word free already, but died before its wake.
    s.put(q + 32 + 8, &0u32.to_le_bytes());
    s.switch_to(1);
    s.call(nr::FUTEX, &[p + 32 + 8, sys::FUTEX_WAIT, 0, 0]);
    s.run();
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "the pending entry's waiter is woken");
    assert_eq!(s.get::<u32>(p + 32 + 8), 0);
}

#[test]
fn a_pending_unlock_cut_short_after_another_took_the_word_still_wakes_a_waiter() {
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    // The child is unlocking lock 2 (pending); the word still says child|WAITERS.
    hold(&mut s, q, child, &[], 2, true);
    s.switch_to(1);
    // The parent sleeps on it (a contended locker).
    let v = child as u32 | FUTEX_WAITERS;
    s.call(nr::FUTEX, &[p + 32 + 8, sys::FUTEX_WAIT, v as usize, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    // The child swapped the word to 0 and, before its FUTEX_WAKE, a third process (pid 77)
    // took the free word (no FUTEX_WAITERS: it never slept). Now the child is killed.
    s.put(q + 32 + 8, &77u32.to_le_bytes());
    s.call(nr::KILL, &[child as usize, sys::SIGKILL]);
    s.settle();
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "the sleeper is woken");
}

#[test]
fn a_waiter_killed_after_its_wake_passes_it_on() {
    let (mut s, id, p) = setup();
    // B: a locker that will sleep on lock 2 (pending while it sleeps, as shmsync does).
    let b = s.spawn_call("prog") as i32;
    // A: the holder.
    let a = s.spawn_call("prog") as i32;
    s.switch_to(a);
    let qa = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    let held = a as u32 | FUTEX_WAITERS;
    s.put(qa + 32 + 8, &held.to_le_bytes());
    s.switch_to(b);
    let qb = s.call(nr::SHMAT, &[id as usize, 0x42_0000_0000, 0]) as usize;
    let h = RobustListHead {
        next: (qb + 512) as u64,
        futex_offset: 8,
        list_op_pending: (qb + 32) as u64,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), qb + 512, &h).unwrap();
    assert_eq!(s.call(nr::SET_ROBUST_LIST, &[qb + 512, 24]), 0);
    s.call(nr::FUTEX, &[qb + 32 + 8, sys::FUTEX_WAIT, held as usize, 0]);
    s.run();
    // The parent (C) sleeps on it too, after B.
    s.switch_to(1);
    s.call(nr::FUTEX, &[p + 32 + 8, sys::FUTEX_WAIT, held as usize, 0]);
    s.run();
    // A unlocks: the word to 0, wake one (B, the longest waiting).
    s.switch_to(a);
    s.put(qa + 32 + 8, &0u32.to_le_bytes());
    assert_eq!(s.call(nr::FUTEX, &[qa + 32 + 8, sys::FUTEX_WAKE, 1, 0]), 1);
    // D (pid 77) takes the free word before B runs; then B is killed.
    s.put(qa + 32 + 8, &77u32.to_le_bytes());
    s.call(nr::KILL, &[b as usize, sys::SIGKILL]);
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.run();
    assert_eq!(
        s.cur_pid(),
        Some(1),
        "C is woken to set FUTEX_WAITERS again"
    );
}

#[test]
fn futex_waitv_cut_short_by_a_signal_or_a_kill_leaves_every_queue() {
    use crate::tests::signals::{sigaction, HANDLER};
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0x41_0000_0000, 0]) as usize;
    assert_eq!(sigaction(&mut s, abi::signal::SIGUSR1, HANDLER, 0, 0), 0);
    let v = waitv(&[(q, 0), (q + 4, 0)]);
    put_waitv(&s, SCRATCH, &v);
    s.call(nr::FUTEX_WAITV, &[SCRATCH, 2, 0, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "the child waits");
    assert_eq!(s.call(nr::KILL, &[child as usize, abi::signal::SIGUSR1]), 0);
    s.switch_to(child);
    assert_eq!(s.frame.pc, HANDLER);
    s.call(nr::RT_SIGRETURN, &[]);
    assert_eq!(s.frame.x[0] as i64, err(Errno::EINTR));
    s.switch_to(1);
    for w in [p, p + 4] {
        assert_eq!(
            s.call(nr::FUTEX, &[w, sys::FUTEX_WAKE, 5, 0]),
            0,
            "off {w:#x}"
        );
    }
    // Killed while it waits: off every queue, and nothing left to wake.
    s.switch_to(child);
    s.call(nr::FUTEX_WAITV, &[SCRATCH, 2, 0, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.call(nr::KILL, &[child as usize, sys::SIGKILL]), 0);
    s.settle();
    for w in [p, p + 4] {
        assert_eq!(
            s.call(nr::FUTEX, &[w, sys::FUTEX_WAKE, 5, 0]),
            0,
            "off {w:#x}"
        );
    }
}

#[test]
fn futex_waitv_deadline_on_the_realtime_clock() {
    let (mut s, _, p) = setup();
    s.k.rtc_base = 1_700_000_000;
    let at = s.k.rtc_base * 1_000_000_000 + s.k.arch.now_ns() + 5_000_000;
    let ts = sys::Timespec {
        tv_sec: (at / 1_000_000_000) as i64,
        tv_nsec: (at % 1_000_000_000) as i64,
    };
    crate::uaccess::write_val(s.k.arch, &s.env(), SCRATCH + 1024, &ts).unwrap();
    let child = s.spawn_call("prog") as i32;
    let v = waitv(&[(p, 0)]);
    put_waitv(&s, SCRATCH, &v);
    s.call(
        nr::FUTEX_WAITV,
        &[SCRATCH, 1, 0, SCRATCH + 1024, sys::CLOCK_REALTIME],
    );
    s.run();
    assert_eq!(
        s.cur_pid(),
        Some(child),
        "waits until the wall-clock deadline"
    );
    s.arch.advance(4_000_000);
    s.k.timer();
    s.switch_to(child);
    assert!(s.k.task(s.k.slot_of(1).unwrap()).state == crate::task::State::Blocked);
    s.arch.advance(2_000_000);
    s.k.timer();
    s.switch_to(1);
    assert_eq!(s.frame.x[0] as i64, err(Errno::ETIMEDOUT));
}

#[test]
fn a_lone_waiter_in_a_bucket_is_woken_only_by_its_own_word() {
    use crate::sched::wait::futex_bucket;
    use crate::up::Access;
    let (mut s, id, p) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0, 0]) as usize;
    // Two words of the page in one hash bucket.
    let pa = |s: &Sys, va: usize| s.k.arch.translate(&s.env(), va, Access::Read).unwrap();
    let x = q;
    let y = (4..4096)
        .step_by(4)
        .map(|o| q + o)
        .find(|&y| futex_bucket(pa(&s, y)) == futex_bucket(pa(&s, x)))
        .expect("a word in the same bucket");
    s.call(nr::FUTEX, &[x, sys::FUTEX_WAIT, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "the child waits on x");
    let (px, py) = (p, p + (y - x));
    // The bucket's one waiter is not y's, and a wake of none wakes none.
    assert_eq!(s.call(nr::FUTEX, &[py, sys::FUTEX_WAKE, 1, 0]), 0);
    assert_eq!(s.call(nr::FUTEX, &[px, sys::FUTEX_WAKE, 0, 0]), 0);
    assert_eq!(s.call(nr::FUTEX, &[px, sys::FUTEX_WAKE, 1, 0]), 1);
    assert_eq!(s.call(nr::FUTEX, &[px, sys::FUTEX_WAKE, 1, 0]), 0, "gone");
    s.switch_to(child);
    assert_eq!(s.frame.x[0], 0, "FUTEX_WAIT's result");
    // A futex_waitv waiter alone in the bucket learns its index (the loop's case).
    let v = waitv(&[(y, 0), (x, 0)]);
    put_waitv(&s, SCRATCH, &v);
    s.call(nr::FUTEX_WAITV, &[SCRATCH, 2, 0, 0, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.call(nr::FUTEX, &[px, sys::FUTEX_WAKE, 1, 0]), 1);
    s.switch_to(child);
    assert_eq!(s.frame.x[0], 1, "the index of x");
}

#[test]
fn a_death_inside_an_unmap_leaves_the_unmapped_pages_alone() {
    use crate::mm::shm::sysv::STEP_UNMAP;
    use crate::up::Access;
    let (mut s, _, _) = setup();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    // A segment bigger than one unmap step, and above it a 1-page segment holding the
    // child's robust list and two locks; both removed, so the child holds them last.
    let big_pages = STEP_UNMAP + 8;
    let at = 0x42_0000_0000usize;
    let mk = |s: &mut Sys, pages: usize| {
        s.call(
            nr::SHMGET,
            &[
                IPC_PRIVATE as usize,
                pages * 4096,
                (IPC_CREAT | 0o600) as usize,
            ],
        ) as usize
    };
    let (big, small) = (mk(&mut s, big_pages), mk(&mut s, 1));
    assert_eq!(s.call(nr::SHMAT, &[big, at, 0]) as usize, at);
    let q = at + big_pages * 4096;
    assert_eq!(s.call(nr::SHMAT, &[small, q, 0]) as usize, q);
    hold(&mut s, q, child, &[1, 2], 0, true);
    for id in [big, small] {
        assert_eq!(s.call(nr::SHMCTL, &[id, abi::shm::IPC_RMID as usize, 0]), 0);
    }
    let pa = s.k.arch.translate(&s.env(), q, Access::Read).unwrap();
    // One munmap over both: its bookkeeping drops the small segment (freeing its page) and
    // the first step clears the big one's first entries; the rest is left as kernel work.
    s.frame.x[8] = nr::MUNMAP as u64;
    s.frame.x[0] = at as u64;
    s.frame.x[1] = ((big_pages + 1) * 4096) as u64;
    s.enter();
    let me = s.k.current.unwrap();
    assert!(
        s.k.task(me).work.is_some(),
        "the unmap takes more than one step"
    );
    let mut before = [0u8; 4096];
    crate::phys::read_phys(pa, &mut before);
    // Killed there: the exit walk must not follow a list in the page it no longer has.
    s.k.kill(None, child, sys::SIGKILL).unwrap();
    s.settle();
    s.run();
    let mut after = [0u8; 4096];
    crate::phys::read_phys(pa, &mut after);
    assert!(
        before == after,
        "the dead task wrote into a page it had unmapped"
    );
}

/// The registers a frame carries, for comparing two (TrapFrame has no PartialEq).
fn regs(f: &crate::up::TrapFrame) -> ([u64; 31], u64, u64, u64) {
    (f.x, f.sp, f.pc, f.pstate)
}

#[test]
fn a_wait_that_blocks_is_saved_in_its_slot_and_resumes_whole() {
    // What the entry code does for `Svc::Blocked`: the whole register state into the
    // caller's slot (`live_frame_in_slot`), the switch away (which copies no frame), the
    // registers back from where `return_frame` says; later the woken caller resumes with
    // every register as it was and the wait's 0 in x0.
    let (mut s, id, p) = setup();
    let parent = s.k.current.unwrap();
    let child = s.spawn_call("prog") as i32;
    s.switch_to(child);
    let q = s.call(nr::SHMAT, &[id as usize, 0, 0]) as usize;
    for (i, r) in s.frame.x.iter_mut().enumerate().skip(9) {
        *r = 0x5eed_0000 + i as u64;
    }
    s.frame.x[..4].copy_from_slice(&[q as u64, sys::FUTEX_WAIT as u64, 0, 0]);
    s.frame.x[8] = nr::FUTEX as u64;
    let waiter = regs(&s.frame);
    let parent_regs = regs(&s.k.task(parent).frame);
    assert_eq!(
        s.k.syscall_entry(&mut s.frame),
        crate::syscall::Svc::Blocked
    );
    let slot = s.k.live_frame_in_slot().expect("a current task");
    // SAFETY: the caller's slot in the task table, which no reference borrows now.
    unsafe { *slot = s.frame };
    assert_eq!(
        s.k.schedule_after_call(&mut s.frame),
        crate::task::Next::User
    );
    let src = s.k.return_frame(&s.frame);
    // SAFETY: `src` is `s.frame` or a task's slot, both live; read before the store.
    s.frame = unsafe { *src };
    assert_eq!(s.cur_pid(), Some(1), "the parent runs");
    assert_eq!(regs(&s.frame), parent_regs, "with its own registers");
    assert_eq!(s.call(nr::FUTEX, &[p, sys::FUTEX_WAKE, 1, 0]), 1);
    s.switch_to(child);
    let mut want = waiter;
    want.0[0] = 0;
    assert_eq!(regs(&s.frame), want, "the waiter whole, the wait's 0 in x0");
}
