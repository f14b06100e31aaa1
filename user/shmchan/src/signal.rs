//! Signals: a futex word in the area counting triggers. A trigger adds one and wakes every
//! waiter; each handle remembers how many events it has taken (`seen`), so an event that
//! came before the wait is still pending, and a wait takes one event.
//!
//! The wake is a system call, so a trigger makes it only when a waiter may be asleep: a
//! client about to sleep sets the descriptor's `waiting` flag first (then looks at the
//! count once more, in the futex wait), and a trigger adds to the count first, then clears
//! the flag and wakes every waiter if it was set (as the bench's shared ring does with its
//! "consumer waits" word). Either the trigger sees the flag or the waiter sees the new
//! count; a producer that triggers while its consumer is busy makes no system call.

use crate::area::{Area, Name, WAKE_ALL};
use crate::layout::{Desc, SIGNAL_MAGIC};
use crate::Errno;
use core::borrow::BorrowMut;
use core::sync::atomic::{fence, AtomicU32, Ordering};
use shmsync::os;

/// Signals `wait_any` waits on at once (the kernel's futex_waitv limit).
pub const WAIT_ANY_MAX: usize = abi::sys::FUTEX_WAITV_MAX;

/// A signal of an attached area (L4Re's `l4shmc_signal_t`), with this handle's count of
/// events taken.
#[derive(Clone, Debug)]
pub struct Signal<'a> {
    area: &'a Area,
    desc: &'a Desc,
    off: usize,
    seen: u32,
}

impl<'a> Signal<'a> {
    /// The signal whose descriptor is at `off` (EINVAL if outside the area), having taken
    /// `seen` events (None: every event so far).
    pub(crate) fn from_raw(area: &'a Area, off: usize, seen: Option<u32>) -> Result<Self, Errno> {
        let desc = area.desc(off).map_err(|_| Errno::EINVAL)?;
        Ok(Signal {
            area,
            desc,
            off,
            seen: seen.unwrap_or_else(|| desc.state.load(Ordering::Acquire)),
        })
    }

    pub fn area(&self) -> &'a Area {
        self.area
    }

    /// The descriptor's offset in the area.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// The signal's name, if the descriptor still holds a valid one.
    pub fn name(&self) -> Option<Name> {
        Name::read(&self.desc.name)
    }

    /// Triggers so far (wrapping).
    #[inline]
    pub fn count(&self) -> u32 {
        self.desc.state.load(Ordering::Acquire)
    }

    /// Events this handle has taken or skipped (wrapping).
    pub fn seen(&self) -> u32 {
        self.seen
    }

    /// Events pending for this handle.
    #[inline]
    pub fn pending(&self) -> u32 {
        self.count().wrapping_sub(self.seen)
    }

    #[inline]
    fn word(&self) -> &'a AtomicU32 {
        &self.desc.state
    }

    /// EIO if the descriptor no longer is a signal.
    #[inline]
    fn check(&self) -> Result<(), Errno> {
        if self.desc.magic.load(Ordering::Acquire) != SIGNAL_MAGIC {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Take one pending event, if there is one.
    #[inline]
    fn take(&mut self) -> bool {
        if self.word().load(Ordering::Acquire) == self.seen {
            return false;
        }
        self.seen = self.seen.wrapping_add(1);
        true
    }

    /// Count an event and wake every waiter (`l4shmc_trigger`); no system call if nobody
    /// announced a sleep since the last wake.
    #[inline]
    pub fn trigger(&self) -> Result<(), Errno> {
        self.check()?;
        // Release: a waiter that sees the new count sees what was written before it.
        // SeqCst, with the load of the flag after it: see `announce`.
        self.word().fetch_add(1, Ordering::SeqCst);
        let waiting = &self.desc.waiting;
        // Look before the swap: no exclusive access to the line when nobody waits.
        if waiting.load(Ordering::SeqCst) != 0 && waiting.swap(0, Ordering::SeqCst) != 0 {
            os::futex_wake(self.word(), WAKE_ALL);
        }
        Ok(())
    }

    /// Say this client may sleep on the signal; then sleep only while the count is still
    /// `seen` (the futex wait compares it). The store and the trigger's count update are
    /// both SeqCst and each side then reads the other's word, so either the trigger sees
    /// the flag and wakes, or the waiter's futex wait sees the new count and returns. The
    /// fence orders the store before the kernel's read of the count.
    fn announce(&self) {
        self.desc.waiting.store(1, Ordering::SeqCst);
        fence(Ordering::SeqCst);
    }

    /// Wait for an event and take it (`l4shmc_wait_signal_to`; None: for ever, Some(0):
    /// only look, as `l4shmc_wait_signal_try`). ETIMEDOUT if none came.
    pub fn wait(&mut self, timeout_ms: Option<u64>) -> Result<(), Errno> {
        self.check()?;
        let deadline = os::deadline_ms(timeout_ms);
        loop {
            if self.take() {
                return Ok(());
            }
            if timeout_ms == Some(0) {
                return Err(Errno::ETIMEDOUT);
            }
            self.announce();
            // Sleeps only while the count is still what this handle has seen.
            match os::futex_wait(self.word(), self.seen, deadline) {
                Err(Errno::ETIMEDOUT) => {
                    return if self.take() {
                        Ok(())
                    } else {
                        Err(Errno::ETIMEDOUT)
                    }
                }
                Err(Errno::EAGAIN | Errno::EINTR) | Ok(()) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Take a pending event, if any (`l4shmc_wait_signal_try`); ETIMEDOUT if none.
    pub fn wait_try(&mut self) -> Result<(), Errno> {
        self.wait(Some(0))
    }

    /// Wait until `done()` holds (None: for ever, Some(0): only look), for a client that
    /// reads the state it waits for itself (`is_ready`, `try_to_take`): every event pending
    /// is taken before `done()` is asked, and `done()` is asked again after each change of
    /// the count. Events that came while such a client was busy tell it nothing `done()`
    /// does not, and taking them with one `wait` each costs a wait and a look per stale
    /// event (a stream's consumer finds one per chunk its producer made ready meanwhile).
    /// ETIMEDOUT if `done()` still fails when the time is up; EIO if the descriptor no
    /// longer is a signal.
    ///
    /// No wake is lost: `done()` fails only after this handle took the count, and a
    /// trigger that follows the change `done()` waits for changes the count after it, so
    /// the futex wait (which sleeps only while the count is what was taken) returns.
    #[inline]
    pub fn wait_until(
        &mut self,
        timeout_ms: Option<u64>,
        mut done: impl FnMut() -> bool,
    ) -> Result<(), Errno> {
        self.check()?;
        self.seen = self.count();
        if done() {
            return Ok(());
        }
        self.sleep_until(timeout_ms, &mut done)
    }

    /// `wait_until`'s sleeping part, out of line (the caller's fast path stays small).
    #[inline(never)]
    fn sleep_until(
        &mut self,
        timeout_ms: Option<u64>,
        done: &mut dyn FnMut() -> bool,
    ) -> Result<(), Errno> {
        let deadline = os::deadline_ms(timeout_ms);
        loop {
            let c = self.count();
            if c != self.seen {
                self.seen = c;
                if done() {
                    return Ok(());
                }
                continue;
            }
            if timeout_ms == Some(0) {
                return Err(Errno::ETIMEDOUT);
            }
            self.announce();
            // Sleeps only while the count is still what this handle has taken.
            match os::futex_wait(self.word(), self.seen, deadline) {
                Err(Errno::ETIMEDOUT) => {
                    self.seen = self.count();
                    return if done() {
                        Ok(())
                    } else {
                        Err(Errno::ETIMEDOUT)
                    };
                }
                Err(Errno::EAGAIN | Errno::EINTR) | Ok(()) => {}
                Err(e) => return Err(e),
            }
        }
    }
}

/// Wait until one of `sigs` has an event, take it and return that signal's index
/// (`l4shmc_wait_any_to`; None: for ever, Some(0): only look). One futex_waitv sleeps on all
/// of them; the lowest index with an event wins. EINVAL for none or more than
/// WAIT_ANY_MAX, ETIMEDOUT if nothing came.
pub fn wait_any<'a, S: BorrowMut<Signal<'a>>>(
    sigs: &mut [S],
    timeout_ms: Option<u64>,
) -> Result<usize, Errno> {
    let n = sigs.len();
    if n == 0 || n > WAIT_ANY_MAX {
        return Err(Errno::EINVAL);
    }
    for s in sigs.iter() {
        s.borrow().check()?;
    }
    let deadline = os::deadline_ms(timeout_ms);
    let first = sigs[0].borrow().word();
    loop {
        if let Some(i) = sigs.iter_mut().position(|s| s.borrow_mut().take()) {
            return Ok(i);
        }
        if timeout_ms == Some(0) {
            return Err(Errno::ETIMEDOUT);
        }
        let mut words = [(first, 0u32); WAIT_ANY_MAX];
        for (w, s) in words.iter_mut().zip(sigs.iter()) {
            let s = s.borrow();
            s.announce();
            *w = (s.word(), s.seen);
        }
        match os::futex_wait_any(&words[..n], deadline) {
            Err(Errno::ETIMEDOUT) => {
                return sigs
                    .iter_mut()
                    .position(|s| s.borrow_mut().take())
                    .ok_or(Errno::ETIMEDOUT)
            }
            Err(Errno::EAGAIN | Errno::EINTR) | Ok(_) => {}
            Err(e) => return Err(e),
        }
    }
}
