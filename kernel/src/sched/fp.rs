//! Lazy FP/SIMD switching: the registers stay with the task that last used them (the owner)
//! and move only when another task executes an FP instruction, which traps while it is not
//! the owner. Tasks that never use FP cost nothing at a switch but a compare.

use crate::up::FpState;
use crate::Kernel;
use abi::sys;
use alloc::boxed::Box;
use alloc::vec::Vec;

impl Kernel {
    /// On every switch to `next`: user FP access is on only for the owner. With no owner
    /// access is off (kept so by every path that drops the owner), so tasks that never use
    /// FP pay one test.
    #[inline(always)]
    pub(crate) fn fp_switch(&mut self, next: usize) {
        if let Some(o) = self.fp_owner {
            let on = o == next;
            if on != self.fp_on {
                self.fp_on = on;
                self.arch.fp_enable(on);
            }
        }
    }

    /// The current task's first FP instruction since it last lost the registers: save the
    /// owner's, load the current task's (zero at its first use) and let it run again. A task
    /// whose state cannot be allocated is killed with a report.
    pub fn fp_trap(&mut self, pc: usize) {
        let Some(cur) = self.current else { return };
        if self.fp_owner == Some(cur) {
            // Already live (an enable not yet seen): just open the access.
            self.fp_on = true;
            self.arch.fp_enable(true);
            return;
        }
        if self.task(cur).fp.is_none() {
            match new_state() {
                Ok(st) => self.task_mut(cur).fp = Some(st),
                Err(_) => {
                    self.user_fault("FP/SIMD state: out of kernel memory", 0, pc, sys::SIGKILL);
                    return;
                }
            }
        }
        self.fp_flush();
        let arch = self.arch;
        if let Some(st) = self.task(cur).fp.as_ref() {
            arch.fp_load(&st[0]);
        }
        self.fp_owner = Some(cur);
        self.fp_on = true;
        arch.fp_enable(true);
    }

    /// Save the live registers into their owner's state, which then owns them no more.
    pub(crate) fn fp_flush(&mut self) {
        let Some(o) = self.fp_owner.take() else {
            return;
        };
        let arch = self.arch;
        if let Some(st) = self.tasks[o].as_mut().and_then(|t| t.fp.as_mut()) {
            arch.fp_save(&mut st[0]);
        }
        // Access is on only while the owner runs: with no owner, off.
        if self.fp_on {
            self.fp_on = false;
            arch.fp_enable(false);
        }
    }

    /// A task's FP state as it is now (flushing the registers if it owns them); None if it
    /// never used FP.
    pub(crate) fn fp_state(&mut self, slot: usize) -> Option<FpState> {
        if self.fp_owner == Some(slot) {
            self.fp_flush();
        }
        self.task(slot).fp.as_ref().map(|st| st[0])
    }

    /// Replace a task's FP state (None: back to never used); the registers are loaded again
    /// at its next FP instruction.
    pub(crate) fn fp_set(&mut self, slot: usize, st: Option<FpState>) {
        if self.fp_owner == Some(slot) {
            self.fp_flush();
        }
        let t = self.task_mut(slot);
        match (st, t.fp.as_mut()) {
            (Some(v), Some(cur)) => cur[0] = v,
            (None, _) => t.fp = None,
            // A handler cannot bring in state the task did not have when it was interrupted.
            (Some(_), None) => {}
        }
    }

    /// The task is ending: its registers are nobody's (never saved, never shown to another
    /// task: the next owner loads its own) and its state goes back to the heap.
    pub(crate) fn fp_release(&mut self, slot: usize) {
        if self.fp_owner == Some(slot) {
            self.fp_owner = None;
            if self.fp_on {
                self.fp_on = false;
                self.arch.fp_enable(false);
            }
        }
        self.task_mut(slot).fp = None;
    }
}

/// A zeroed state from the kernel heap, or ENOMEM.
fn new_state() -> Result<Box<[FpState]>, abi::Errno> {
    let mut v = Vec::new();
    v.try_reserve_exact(1).map_err(|_| abi::Errno::ENOMEM)?;
    v.push(FpState::default());
    Ok(v.into_boxed_slice())
}
