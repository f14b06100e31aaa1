//! futex(2): wait and wake keyed by the word's physical address, so processes that mapped a
//! shared object at different addresses meet on the same queue.

use crate::sched::wait::WaitId;
use crate::up::Access;
use crate::{uaccess, Kernel};
use abi::Errno;

type R = Result<isize, Errno>;

impl Kernel {
    /// futex(uaddr, FUTEX_WAIT / FUTEX_WAKE, val, timeout): wait/wake keyed by the word's
    /// physical address, so processes that attached a segment at different addresses meet.
    /// Some(result) now, or None after blocking.
    pub fn sys_futex(
        &mut self,
        me: usize,
        uaddr: usize,
        op: usize,
        val: usize,
        tmo: usize,
    ) -> Option<R> {
        let env = self.task(me).env;
        if !uaddr.is_multiple_of(4) {
            return Some(Err(Errno::EINVAL));
        }
        let Some(pa) = uaccess::range_ok(uaddr, 4)
            .then(|| self.arch.translate(&env, uaddr, Access::Read))
            .flatten()
        else {
            return Some(Err(Errno::EFAULT));
        };
        match op & !(abi::sys::FUTEX_PRIVATE_FLAG | abi::sys::FUTEX_CLOCK_REALTIME) {
            abi::sys::FUTEX_WAIT => {
                let wake_at = if tmo == 0 {
                    None
                } else {
                    match uaccess::read_duration(self.arch, &env, tmo) {
                        Ok(ns) => Some(self.arch.now_ns().saturating_add(ns)),
                        Err(e) => return Some(Err(e)),
                    }
                };
                // The word is 4-aligned, so it lies inside the page `pa` was translated from.
                let mut word = [0u8; 4];
                crate::phys::read_phys(pa, &mut word);
                if u32::from_le_bytes(word) != val as u32 {
                    return Some(Err(Errno::EAGAIN));
                }
                self.wait_on(WaitId::Futex(pa), wake_at)
            }
            abi::sys::FUTEX_WAKE => {
                let max = (val as u32).min(i32::MAX as u32) as usize;
                // The word's bucket, highest priority first: those waiting on this word.
                let mut woken = 0;
                while woken < max {
                    let Some(s) = self.next_waiter(WaitId::Futex(pa)) else {
                        break;
                    };
                    self.complete(s, 0);
                    woken += 1;
                }
                Some(Ok(woken as isize))
            }
            _ => Some(Err(Errno::ENOSYS)),
        }
    }
}
