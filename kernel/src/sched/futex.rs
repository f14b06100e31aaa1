//! futex(2): wait and wake keyed by the word's physical address, so processes that mapped a
//! shared object at different addresses meet on the same queue.

use crate::phys::Pa;
use crate::sched::wait::WaitId;
use crate::task::{Block, State};
use crate::up::Access;
use crate::work::ExitStage;
use crate::{uaccess, Kernel};
use abi::sys::RobustListHead;
use abi::Errno;

type R = Result<isize, Errno>;

impl Kernel {
    /// futex(uaddr, FUTEX_WAIT / FUTEX_WAKE, val, timeout): wait/wake keyed by the word's
    /// physical address, so processes that attached a segment at different addresses meet.
    /// Some(result) now, or None after blocking. Inline: its one caller is its table entry,
    /// which then needs no call of its own (and no result through memory).
    #[inline(always)]
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
                if crate::phys::read_u32(pa) != val as u32 {
                    return Some(Err(Errno::EAGAIN));
                }
                // wait_on's work, the queue known: the word's bucket (`me` is the caller,
                // the current task).
                self.futex[crate::sched::wait::futex_bucket(pa)].insert(me);
                self.block_current(Block::On(WaitId::Futex(pa)), wake_at);
                None
            }
            abi::sys::FUTEX_WAKE => {
                let max = (val as u32).min(i32::MAX as u32) as usize;
                Some(Ok(self.futex_wake_pa(pa, max) as isize))
            }
            _ => Some(Err(Errno::ENOSYS)),
        }
    }

    /// Entry `i` of a futex_waitv array: its value and address, EFAULT if it cannot be
    /// read, EINVAL for flags other than a private or shared 32-bit word, a reserved field
    /// set, or a value that does not fit the word (Linux 6.7 on).
    fn futexv_entry(
        &self,
        env: &crate::up::AddrEnv,
        waiters: usize,
        i: usize,
    ) -> Result<(u32, usize), Errno> {
        use abi::sys::{FutexWaitv, FUTEX2_PRIVATE, FUTEX2_SIZE_U32};
        let at = waiters
            .checked_add(i * core::mem::size_of::<FutexWaitv>())
            .ok_or(Errno::EFAULT)?;
        let w: FutexWaitv = uaccess::read_val(self.arch, env, at)?;
        if w.flags & !FUTEX2_PRIVATE != FUTEX2_SIZE_U32 || w.reserved != 0 {
            return Err(Errno::EINVAL);
        }
        let val = u32::try_from(w.val).map_err(|_| Errno::EINVAL)?;
        let uaddr = usize::try_from(w.uaddr).map_err(|_| Errno::EFAULT)?;
        Ok((val, uaddr))
    }

    /// futex_waitv(waiters, n, flags, timeout, clockid) (Linux 449): wait on up to 128 words
    /// at once, each as FUTEX_WAIT would (EAGAIN if one no longer holds its value); the
    /// index of the word woken. The timeout is absolute on `clockid`.
    pub fn sys_futex_waitv(&mut self, me: usize, a: [usize; 6]) -> Option<R> {
        let [waiters, n, flags, tmo, clockid, _] = a;
        Some(
            match self.futexv_setup(me, waiters, n, flags, tmo, clockid) {
                Ok(wake_at) => {
                    if wake_at.is_some_and(|t| t <= self.arch.now_ns()) {
                        return Some(Err(Errno::ETIMEDOUT));
                    }
                    self.wait_futexv(wake_at);
                    return None;
                }
                Err(e) => Err(e),
            },
        )
    }

    /// Check futex_waitv's arguments in Linux's order and fill the task's word list: the
    /// deadline (monotonic) if there is one. EAGAIN when a word has changed already.
    fn futexv_setup(
        &mut self,
        me: usize,
        waiters: usize,
        n: usize,
        flags: usize,
        tmo: usize,
        clockid: usize,
    ) -> Result<Option<u64>, Errno> {
        use abi::sys::FUTEX_WAITV_MAX;
        if flags != 0 || n == 0 || n > FUTEX_WAITV_MAX || waiters == 0 {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let wake_at = if tmo == 0 {
            None
        } else {
            if clockid != abi::sys::CLOCK_MONOTONIC && clockid != abi::sys::CLOCK_REALTIME {
                return Err(Errno::EINVAL);
            }
            let mut at = uaccess::read_duration(self.arch, &env, tmo)?;
            if clockid == abi::sys::CLOCK_REALTIME {
                at = at.saturating_sub(self.rtc_base.saturating_mul(1_000_000_000));
            }
            Some(at)
        };
        let t = self.task_mut(me);
        t.futexv.clear();
        if t.futexv.capacity() < FUTEX_WAITV_MAX {
            t.futexv
                .try_reserve_exact(FUTEX_WAITV_MAX)
                .map_err(|_| Errno::ENOMEM)?;
        }
        // Linux's three passes: every entry's flags and value, then every address, then
        // every word's value, so an error in a later entry is not hidden by an earlier one.
        for i in 0..n {
            self.futexv_entry(&env, waiters, i)?;
        }
        for i in 0..n {
            let (_, uaddr) = self.futexv_entry(&env, waiters, i)?;
            if !uaddr.is_multiple_of(4) {
                return Err(Errno::EINVAL);
            }
            let pa = uaccess::range_ok(uaddr, 4)
                .then(|| self.arch.translate(&env, uaddr, Access::Read))
                .flatten()
                .ok_or(Errno::EFAULT)?;
            self.task_mut(me).futexv.push(pa);
        }
        for i in 0..n {
            let (val, _) = self.futexv_entry(&env, waiters, i)?;
            let mut word = [0u8; 4];
            crate::phys::read_phys(self.task(me).futexv[i], &mut word);
            if u32::from_le_bytes(word) != val {
                return Err(Errno::EAGAIN);
            }
        }
        Ok(wake_at)
    }

    /// Wake up to `max` waiters of the word at `pa`, highest priority first; how many.
    pub(crate) fn futex_wake_pa(&mut self, pa: Pa, max: usize) -> usize {
        let b = crate::sched::wait::futex_bucket(pa);
        // The common case: the bucket's one waiter, a plain FUTEX_WAIT on this word. No
        // choice to make: what the loop below would do with it, without the loop.
        if let (true, Some(s)) = (max > 0, self.futex[b].single()) {
            if let Some(t) = self.tasks[s].as_mut() {
                if t.state == State::Blocked && t.block == Block::On(WaitId::Futex(pa)) {
                    t.frame.x[0] = 0;
                    self.futex[b].remove(s);
                    self.ready(s);
                    return 1;
                }
            }
        }
        self.futex_wake_some(b, pa, max)
    }

    /// `futex_wake_pa` for any bucket: waiters of other words, futex_waitv waiters, several.
    #[inline(never)]
    fn futex_wake_some(&mut self, b: usize, pa: Pa, max: usize) -> usize {
        let mut woken = 0;
        while woken < max {
            // next_waiter(WaitId::Futex(pa)), the queue known: the word's bucket.
            let Some(s) = self.best_waiter(self.futex[b], |t| match t.block {
                Block::On(WaitId::Futex(p)) => p == pa,
                // A futex bucket holds futex_waitv waiters too.
                Block::On(WaitId::Futexv) => t.futexv.contains(&pa),
                _ => false,
            }) else {
                break;
            };
            // A futex_waitv waiter learns which of its words this was.
            let t = self.task_mut(s);
            if t.block == Block::On(WaitId::Futexv) {
                let ret = t.futexv.iter().position(|&p| p == pa).unwrap_or(0);
                self.complete(s, ret as isize);
            } else {
                // complete(s, 0), off the bucket directly.
                t.frame.x[0] = 0;
                self.futex[b].remove(s);
                self.ready(s);
            }
            woken += 1;
        }
        woken
    }

    /// set_robust_list(head, len): the list to walk when the caller ends (EINVAL unless
    /// `len` is the size of `struct robust_list_head`; the head is read only then).
    pub fn sys_set_robust_list(&mut self, me: usize, head: usize, len: usize) -> R {
        if len != core::mem::size_of::<abi::sys::RobustListHead>() {
            return Err(Errno::EINVAL);
        }
        self.task_mut(me).robust = (head, len);
        Ok(0)
    }

    /// get_robust_list(pid, *head, *len): what `pid` (0: the caller) registered. ESRCH for
    /// no such process, EPERM for another user's unless the caller is root.
    pub fn sys_get_robust_list(&mut self, me: usize, pid: i32, head: usize, len: usize) -> R {
        let slot = if pid == 0 {
            me
        } else {
            self.slot_of(pid).ok_or(Errno::ESRCH)?
        };
        let uid = self.task(me).uid;
        if uid != 0 && self.task(slot).uid != uid {
            return Err(Errno::EPERM);
        }
        let (h, l) = self.task(slot).robust;
        let env = self.task(me).env;
        uaccess::write_val(self.arch, &env, head, &(h as u64))?;
        uaccess::write_val(self.arch, &env, len, &(l as u64))?;
        Ok(0)
    }

    /// Whether [va, va + len) lies in regions task `slot` still lists. The exit walk reads
    /// only those: an unmap the task was killed in has taken its regions off the list
    /// before its steps clear the tables, and pages of an object it held last may already
    /// be another process's.
    fn listed(&self, slot: usize, va: usize, len: usize) -> bool {
        let regions = &self.task(slot).regions;
        len != 0
            && va.checked_add(len - 1).is_some_and(|last| {
                crate::mm::vm::find(regions, va).is_some()
                    && crate::mm::vm::find(regions, last).is_some()
            })
    }

    /// One step of an exit's walk of the robust list (Linux's exit_robust_list): each lock
    /// still held by the dying task gets FUTEX_OWNER_DIED and a waiter is woken. The list
    /// is user memory: a bad pointer ends the walk, and at most ROBUST_LIST_LIMIT entries
    /// are followed, ROBUST_STEP a step.
    pub(crate) fn robust_exit_step(&mut self, slot: usize, entry: usize, left: u16) -> ExitStage {
        const ROBUST_STEP: usize = 32;
        let env = self.task(slot).env;
        let head_va = self.task(slot).robust.0;
        if !self.listed(slot, head_va, core::mem::size_of::<RobustListHead>()) {
            return ExitStage::Space;
        }
        let Ok(head) = uaccess::read_val::<RobustListHead>(self.arch, &env, head_va) else {
            return ExitStage::Space;
        };
        let off = head.futex_offset as usize;
        let pending = head.list_op_pending as usize;
        let (mut entry, mut left) = (
            if entry == 0 {
                head.next as usize
            } else {
                entry
            },
            left,
        );
        let mut n = 0;
        // 0 ends the walk too (it cannot be read, and it marks "start" in the stage).
        while left > 0 && entry != head_va && entry != 0 {
            if n == ROBUST_STEP {
                return ExitStage::Robust { entry, left };
            }
            if !self.listed(slot, entry & !1, 8) {
                break;
            }
            let Ok(next) = uaccess::read_val::<u64>(self.arch, &env, entry & !1) else {
                break;
            };
            if entry != pending {
                self.futex_death(slot, (entry & !1).wrapping_add(off), false);
            }
            entry = next as usize;
            left -= 1;
            n += 1;
        }
        if pending != 0 {
            self.futex_death(slot, (pending & !1).wrapping_add(off), true);
        }
        ExitStage::Space
    }

    /// Linux's handle_futex_death for the lock word at `uaddr` of dying task `slot`: held by
    /// it, the word becomes FUTEX_OWNER_DIED (keeping FUTEX_WAITERS) and one waiter is woken;
    /// the entry being locked or unlocked (`pending`) wakes one whoever holds it, so a wake
    /// the task was about to give, or was given, is not lost.
    fn futex_death(&mut self, slot: usize, uaddr: usize, pending: bool) {
        use abi::sys::{FUTEX_OWNER_DIED, FUTEX_TID_MASK, FUTEX_WAITERS};
        if !uaddr.is_multiple_of(4) || !uaccess::range_ok(uaddr, 4) || !self.listed(slot, uaddr, 4)
        {
            return;
        }
        let env = self.task(slot).env;
        let Some(pa) = self.arch.translate(&env, uaddr, Access::Write) else {
            return;
        };
        let mut word = [0u8; 4];
        crate::phys::read_phys(pa, &mut word);
        let v = u32::from_le_bytes(word);
        if v & FUTEX_TID_MASK != self.task(slot).pid as u32 & FUTEX_TID_MASK {
            // Not held by this task. For the entry it was locking or unlocking, pass on a
            // wake it may owe (killed between its unlock's store and its FUTEX_WAKE: the
            // word may be free, or already retaken by a locker that never slept) or may
            // have taken (woken, then killed before it retook the lock). More than Linux
            // does (it wakes only for a free word); a spurious wake costs the waiter a look.
            if pending {
                self.futex_wake_pa(pa, 1);
            }
            return;
        }
        let m = (v & FUTEX_WAITERS) | FUTEX_OWNER_DIED;
        crate::phys::write_phys(pa, &m.to_le_bytes());
        if v & FUTEX_WAITERS != 0 {
            self.futex_wake_pa(pa, 1);
        }
    }
}
