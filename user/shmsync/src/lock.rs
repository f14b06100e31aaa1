//! A lock that lives in shared memory and survives its holder's death: a robust futex in
//! Linux's protocol. The word holds the holder's thread id (with FUTEX_WAITERS when someone
//! may sleep on it); the holder links the lock on its robust list, and when a process ends
//! holding it the kernel sets FUTEX_OWNER_DIED, clears the id and wakes a waiter, who takes
//! the lock and is told (`Acquired::OwnerDied`) to repair what it protects.
//!
//! The list is written, never read, through the locks' own links: those are in shared
//! memory where another client could scribble, so the order is kept in a private array and
//! the links rewritten from it on every lock and unlock.

use crate::os::{self, Robust};
use abi::sys::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
use abi::Errno;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

/// A process-shared robust lock (16 bytes, 8-aligned; all zero is unlocked).
#[repr(C)]
#[derive(Debug, Default)]
pub struct RobustLock {
    /// Robust-list link: the next entry's address in the holder's address space.
    next: AtomicUsize,
    /// 0 when free, else the holder's id with FUTEX_WAITERS / FUTEX_OWNER_DIED.
    word: AtomicU32,
    /// Unused; atomic like the rest, since other processes may write it.
    _pad: AtomicU32,
}

/// Where the lock word is in a robust-list entry (the list head's `futex_offset`).
pub const FUTEX_OFFSET: isize = 8;
const _: () = assert!(core::mem::offset_of!(RobustLock, word) == FUTEX_OFFSET as usize);

/// How long a waiter sleeps before it checks that the holder still exists.
pub const CHECK_HOLDER_NS: u64 = 1_000_000_000;

/// Locks one process may hold at once.
pub const MAX_HELD: usize = 16;

/// How a lock was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Acquired {
    /// From a holder that let go of it.
    Clean,
    /// The previous holder died holding it: what it protects may be half-changed.
    OwnerDied,
}

impl RobustLock {
    pub const fn new() -> RobustLock {
        RobustLock {
            next: AtomicUsize::new(0),
            word: AtomicU32::new(0),
            _pad: AtomicU32::new(0),
        }
    }

    /// The lock word (for tests and for listings: the holder is `word & FUTEX_TID_MASK`).
    pub fn word(&self) -> u32 {
        self.word.load(Ordering::Relaxed)
    }

    fn entry(&self) -> usize {
        self as *const RobustLock as usize
    }

    /// Take the lock, waiting until `deadline` (absolute, `os::now_ns`; ETIMEDOUT). EDEADLK
    /// if this process holds it already, ENOLCK past MAX_HELD locks held at once.
    pub fn lock(&self, deadline: Option<u64>) -> Result<Acquired, Errno> {
        self.take(deadline, false)
    }

    /// Take the lock if it is free now (EBUSY if not).
    pub fn try_lock(&self) -> Result<Acquired, Errno> {
        self.take(None, true)
    }

    fn take(&self, deadline: Option<u64>, once: bool) -> Result<Acquired, Errno> {
        let r = os::robust();
        if r.nheld.load(Ordering::Relaxed) >= MAX_HELD {
            return Err(Errno::ENOLCK);
        }
        // Pending first: a death between taking the word and linking it is still seen.
        r.head.pending.store(self.entry(), Ordering::SeqCst);
        let got = self.acquire(os::tid() & FUTEX_TID_MASK, deadline, once);
        if got.is_ok() {
            let n = r.nheld.load(Ordering::Relaxed);
            r.held[n].store(self.entry(), Ordering::Relaxed);
            r.nheld.store(n + 1, Ordering::Relaxed);
            relink(r);
        }
        r.head.pending.store(0, Ordering::SeqCst);
        got
    }

    fn acquire(&self, me: u32, deadline: Option<u64>, once: bool) -> Result<Acquired, Errno> {
        // Once this task has slept, others may be asleep too: keep FUTEX_WAITERS set.
        let mut waiters = 0;
        loop {
            let v = self.word.load(Ordering::Relaxed);
            if v & FUTEX_TID_MASK == 0 {
                let new = me | waiters | (v & FUTEX_WAITERS);
                if self
                    .word
                    .compare_exchange(v, new, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    return Ok(if v & FUTEX_OWNER_DIED != 0 {
                        Acquired::OwnerDied
                    } else {
                        Acquired::Clean
                    });
                }
                continue;
            }
            if v & FUTEX_TID_MASK == me {
                return Err(Errno::EDEADLK);
            }
            if once {
                return Err(Errno::EBUSY);
            }
            let sleeping = v | FUTEX_WAITERS;
            if v != sleeping
                && self
                    .word
                    .compare_exchange(v, sleeping, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            // Sleep a slice at a time: between slices, a holder that no longer exists (one
            // that died without a robust list, or an id another client wrote) is taken
            // over as a dead owner, and a wake-up lost anyhow costs a slice, not forever.
            let now = os::now_ns();
            let slice_end = now.saturating_add(CHECK_HOLDER_NS);
            let until = deadline.map_or(slice_end, |d| d.min(slice_end));
            match os::futex_wait(&self.word, sleeping, Some(until)) {
                Err(Errno::ETIMEDOUT) if deadline.is_some_and(|d| os::now_ns() >= d) => {
                    return Err(Errno::ETIMEDOUT)
                }
                Err(Errno::ETIMEDOUT) => {
                    let v = self.word.load(Ordering::Relaxed);
                    let holder = v & FUTEX_TID_MASK;
                    if holder != 0 && !os::alive(holder) {
                        let new = me | FUTEX_WAITERS;
                        if self
                            .word
                            .compare_exchange(v, new, Ordering::Acquire, Ordering::Relaxed)
                            .is_ok()
                        {
                            return Ok(Acquired::OwnerDied);
                        }
                    }
                    waiters = FUTEX_WAITERS;
                }
                // Woken, changed meanwhile, or a signal: look again.
                _ => waiters = FUTEX_WAITERS,
            }
        }
    }

    /// Let go of the lock (EPERM if this process does not hold it).
    pub fn unlock(&self) -> Result<(), Errno> {
        let r = os::robust();
        let n = r.nheld.load(Ordering::Relaxed);
        let Some(i) = (0..n).find(|&i| r.held[i].load(Ordering::Relaxed) == self.entry()) else {
            return Err(Errno::EPERM);
        };
        r.head.pending.store(self.entry(), Ordering::SeqCst);
        for k in i..n - 1 {
            let e = r.held[k + 1].load(Ordering::Relaxed);
            r.held[k].store(e, Ordering::Relaxed);
        }
        r.nheld.store(n - 1, Ordering::Relaxed);
        relink(r);
        let v = self.word.swap(0, Ordering::Release);
        if v & FUTEX_WAITERS != 0 {
            os::futex_wake(&self.word, 1);
        }
        r.head.pending.store(0, Ordering::SeqCst);
        Ok(())
    }
}

/// Rewrite the robust list from the private array of held locks.
fn relink(r: &Robust) {
    let n = r.nheld.load(Ordering::Relaxed);
    let end = os::head_addr(&r.head);
    let mut next = end;
    for i in (0..n).rev() {
        let e = r.held[i].load(Ordering::Relaxed);
        // SAFETY: `e` is a lock this process holds, mapped while it is held (the libraries
        // unlock before they unmap); only the holder writes a lock's link.
        let lock = unsafe { &*(e as *const RobustLock) };
        lock.next.store(next, Ordering::Release);
        next = e;
    }
    r.head.next.store(next, Ordering::SeqCst);
}

/// What the kernel does for a thread `tid` that ends (the host emulation's "death"): each
/// lock on the list, and the pending one, still held by `tid` gets FUTEX_OWNER_DIED and its
/// id cleared, and `wake` wakes a waiter where FUTEX_WAITERS was set.
#[cfg(not(target_os = "none"))]
pub fn exit_robust_list(head: &crate::os::RobustHead, tid: u32, wake: &mut dyn FnMut(&AtomicU32)) {
    let end = os::head_addr(head);
    let pending = head.pending.load(Ordering::SeqCst);
    let mut entry = head.next.load(Ordering::SeqCst);
    let mut death = |e: usize, pending: bool| {
        // SAFETY: host tests only: every entry is a live lock of the test's buffer.
        let word = unsafe { &*((e as isize + head.futex_offset) as *const AtomicU32) };
        let v = word.load(Ordering::SeqCst);
        if v & FUTEX_TID_MASK != tid {
            // As the kernel: the entry being locked or unlocked passes a wake on.
            if pending {
                wake(word);
            }
            return;
        }
        word.store((v & FUTEX_WAITERS) | FUTEX_OWNER_DIED, Ordering::SeqCst);
        if v & FUTEX_WAITERS != 0 {
            wake(word);
        }
    };
    for _ in 0..abi::sys::ROBUST_LIST_LIMIT {
        if entry == end || entry == 0 {
            break;
        }
        // SAFETY: as above.
        let next = unsafe { (*(entry as *const RobustLock)).next.load(Ordering::SeqCst) };
        if entry != pending {
            death(entry, false);
        }
        entry = next;
    }
    if pending != 0 {
        death(pending, true);
    }
}
