//! POSIX signals: dispositions (default, ignore, handler), the blocked mask, pending sets,
//! interrupting blocking calls (EINTR, a partial count, or a restart with SA_RESTART), and
//! running handlers on the user stack with `rt_sigreturn` to come back.
//!
//! Faults (SIGSEGV, SIGBUS, SIGILL from the CPU) still end the task at once: a handler
//! returning to the faulting instruction would only fault again.

use abi::signal::*;
use abi::Errno;

use crate::sched::wait::OnSignal;
use crate::task::{Block, State, Work};
use crate::up::{FpState, TrapFrame};
use crate::{klog, uaccess, Kernel};

type R = Result<isize, Errno>;

/// The signal state of one task.
#[derive(Clone, Copy)]
pub struct Signals {
    pub pending: SigSet,
    pub blocked: SigSet,
    pub actions: [SigAction; NSIG],
    /// Who sent each pending signal: (pid, uid, si_code).
    pub from: [(i32, u32, i32); NSIG],
}

impl Default for Signals {
    fn default() -> Self {
        Signals {
            pending: 0,
            blocked: 0,
            actions: [SigAction::default(); NSIG],
            from: [(0, 0, 0); NSIG],
        }
    }
}

impl Signals {
    /// What a spawned child starts with: handlers back to default (the child has none of the
    /// parent's code), ignored signals still ignored, the same mask, nothing pending.
    pub fn for_child(&self) -> Signals {
        let mut s = Signals {
            blocked: self.blocked,
            ..Signals::default()
        };
        for (c, p) in s.actions.iter_mut().zip(&self.actions) {
            if p.handler == SIG_IGN {
                c.handler = SIG_IGN;
            }
        }
        s
    }

    /// Pending and not blocked.
    pub fn deliverable(&self) -> SigSet {
        self.pending & !self.blocked
    }

    fn action(&self, sig: usize) -> SigAction {
        self.actions[sig - 1]
    }
}

/// Signals whose default action is to do nothing (stop signals too: there is no job
/// control, so stopping is not supported).
fn default_ignores(sig: usize) -> bool {
    matches!(
        sig,
        SIGCHLD | SIGCONT | SIGURG | SIGWINCH | SIGSTOP | SIGTSTP | SIGTTIN | SIGTTOU
    )
}

fn caught(a: &SigAction) -> bool {
    a.handler != SIG_DFL && a.handler != SIG_IGN
}

/// Only the condition flags of PSTATE may come back from user memory: EL0t, all
/// interrupts unmasked, whatever the frame says.
const PSTATE_USER: u64 = 0xf000_0000;

impl Kernel {
    /// Post `sig` to task `slot` (already checked: it exists and may be signalled).
    /// `from` = (pid, uid, si_code) of the sender.
    pub fn send_signal(&mut self, slot: usize, sig: usize, from: (i32, u32, i32)) {
        let (act, blocked) = {
            let s = &self.task(slot).sig;
            (s.action(sig), s.blocked & sigbit(sig) != 0)
        };
        if sig == SIGKILL {
            self.terminate(slot, sig);
            return;
        }
        if act.handler == SIG_IGN || (act.handler == SIG_DFL && default_ignores(sig)) {
            return;
        }
        if act.handler == SIG_DFL && !blocked {
            self.terminate(slot, sig);
            return;
        }
        let t = self.task_mut(slot);
        t.sig.pending |= sigbit(sig);
        t.sig.from[sig - 1] = from;
        if !blocked {
            self.interrupt(slot, act.flags & SA_RESTART != 0);
        }
    }

    /// End a task by a signal, with the console line that says so.
    fn terminate(&mut self, slot: usize, sig: usize) {
        let pid = self.task(slot).pid;
        let name = self.task(slot).name;
        let name = crate::task::name_str(&name);
        // A writer whose reader went away ends quietly, as shells have it (`prog | head`).
        if sig != abi::signal::SIGPIPE {
            klog!(self, "pid {} ({}): killed by signal {}", pid, name, sig);
        }
        self.exit_task(slot, abi::sys::w_signaled(sig as i32));
    }

    /// A caught signal arrived for `slot`: end the blocking call it sits in so the handler
    /// can run. Calls that moved data return what they moved; the others fail with EINTR
    /// or, under SA_RESTART, start again when the handler returns (nanosleep and futex wait
    /// never restart; nanosleep reports the time left).
    fn interrupt(&mut self, slot: usize, restart: bool) {
        if self.task(slot).state != State::Blocked {
            return; // running, ready, or finishing kernel work: delivered on the way out
        }
        let eintr = Errno::EINTR.to_ret();
        let (block, work, wake_at) = {
            let t = self.task(slot);
            (t.block, t.work, t.wake_at)
        };
        let moved = match work {
            Some(Work::ConsoleWrite { done, .. } | Work::PipeWrite { done, .. }) => done,
            _ => 0,
        };
        match block {
            Block::None => {}
            Block::Sleep { rem } => {
                if rem != 0 {
                    let left = wake_at.map_or(0, |w| w.saturating_sub(self.arch.now_ns()));
                    let ts = abi::sys::Timespec {
                        tv_sec: (left / 1_000_000_000) as i64,
                        tv_nsec: (left % 1_000_000_000) as i64,
                    };
                    let env = self.task(slot).env;
                    let _ = uaccess::write_val(self.arch, &env, rem, &ts);
                }
                self.complete(slot, eintr);
            }
            // Calls that moved data return what they moved.
            Block::On(_) if moved > 0 => {
                self.task_mut(slot).work = None;
                self.complete(slot, moved as isize);
            }
            Block::On(id) => {
                self.task_mut(slot).work = None;
                match id.on_signal() {
                    OnSignal::Eintr => self.complete(slot, eintr),
                    OnSignal::Restartable if !restart => self.complete(slot, eintr),
                    // The handler runs, then the call again from the start (it never wrote
                    // x0, so x0 still holds the first argument).
                    OnSignal::Restartable | OnSignal::Retry => self.wake(slot),
                }
            }
        }
    }

    /// Whether the current task's pending work may be cut short by a caught signal, and
    /// with what: Some(None) to restart the call, Some(Some(ret)) to return `ret`.
    pub(crate) fn interrupt_work(&self, slot: usize, w: Work) -> Option<Option<isize>> {
        let s = &self.task(slot).sig;
        let bits = s.deliverable();
        if bits == 0 {
            return None;
        }
        let sig = bits.trailing_zeros() as usize + 1;
        let act = s.action(sig);
        if !caught(&act) {
            return None; // a default action ends the task at delivery anyway
        }
        match w {
            Work::ConsoleWrite { done, .. } | Work::PipeWrite { done, .. } if done > 0 => {
                Some(Some(done as isize))
            }
            Work::ConsoleWrite { .. } | Work::PipeWrite { .. } if act.flags & SA_RESTART != 0 => {
                Some(None)
            }
            Work::ConsoleWrite { .. } | Work::PipeWrite { .. } => Some(Some(Errno::EINTR.to_ret())),
            // Creating and freeing memory finish (in bounded steps) before the handler runs.
            Work::ShmCreate { .. }
            | Work::Reclaim { .. }
            | Work::MapRegion { .. }
            | Work::Fill { .. }
            | Work::Grow { .. }
            | Work::Unmap { .. }
            | Work::Brk { .. }
            | Work::Load { .. }
            | Work::Exit { .. } => None,
        }
    }

    /// On the way back to user mode: act on the lowest deliverable signal of the current
    /// task. Returns true when the frame now runs a handler (or was left as it was because
    /// the signal is ignored), false when the task was ended.
    pub(crate) fn deliver_signal(&mut self, slot: usize, frame: &mut TrapFrame) -> bool {
        let bits = self.task(slot).sig.deliverable();
        let sig = bits.trailing_zeros() as usize + 1;
        let (act, from, old_mask) = {
            let s = &mut self.task_mut(slot).sig;
            s.pending &= !sigbit(sig);
            (s.action(sig), s.from[sig - 1], s.blocked)
        };
        if act.handler == SIG_IGN || (act.handler == SIG_DFL && default_ignores(sig)) {
            return true;
        }
        if act.handler == SIG_DFL {
            self.terminate(slot, sig);
            return false;
        }
        // A call woken to run again but not yet back in the kernel was interrupted before
        // it moved anything: it runs again after the handler only as SA_RESTART says.
        if let Some(id) = self.task_mut(slot).rerun.take() {
            let again = match id.on_signal() {
                OnSignal::Retry => true,
                OnSignal::Eintr => false,
                OnSignal::Restartable => act.flags & SA_RESTART != 0,
            };
            if !again {
                frame.pc += 4;
                frame.x[0] = Errno::EINTR.to_ret() as u64;
            }
        }
        let fpsimd = self
            .fp_state(slot)
            .map_or(FpsimdContext::default(), |st| FpsimdContext {
                magic: FPSIMD_MAGIC,
                size: FPSIMD_CONTEXT_SIZE,
                fpsr: st.fpsr as u32,
                fpcr: st.fpcr as u32,
                vregs: st.v,
            });
        let sf = SigFrame {
            info: SigInfo {
                signo: sig as i32,
                code: from.2,
                pid: from.0,
                uid: from.1,
                ..SigInfo::default()
            },
            uc: UContext {
                sigmask: old_mask,
                mcontext: MContext {
                    regs: frame.x,
                    sp: frame.sp,
                    pc: frame.pc,
                    pstate: frame.pstate,
                    fpsimd,
                    ..MContext::default()
                },
                ..UContext::default()
            },
        };
        let sp = (frame.sp as usize).wrapping_sub(core::mem::size_of::<SigFrame>()) & !15;
        let env = self.task(slot).env;
        if uaccess::write_val(self.arch, &env, sp, &sf).is_err() {
            let pid = self.task(slot).pid;
            klog!(
                self,
                "pid {}: no room on the stack (sp {:#x}) to handle signal {}",
                pid,
                frame.sp,
                sig
            );
            self.terminate(slot, SIGSEGV);
            return false;
        }
        frame.x[0] = sig as u64;
        frame.x[1] = sp as u64;
        frame.x[2] = (sp + core::mem::offset_of!(SigFrame, uc)) as u64;
        frame.x[30] = act.restorer;
        frame.sp = sp as u64;
        frame.pc = act.handler;
        let s = &mut self.task_mut(slot).sig;
        let mut mask = act.mask;
        if act.flags & SA_NODEFER == 0 {
            mask |= sigbit(sig);
        }
        s.blocked = (s.blocked | mask) & !UNCATCHABLE;
        if act.flags & SA_RESETHAND != 0 {
            s.actions[sig - 1] = SigAction::default();
        }
        true
    }

    /// rt_sigreturn: the handler is done; put back the registers and mask from the frame at
    /// sp. A frame that cannot be read ends the task (SIGSEGV).
    pub fn sys_sigreturn(&mut self, me: usize, frame: &mut TrapFrame) {
        let env = self.task(me).env;
        let sf: SigFrame = match uaccess::read_val(self.arch, &env, frame.sp as usize) {
            Ok(sf) => sf,
            Err(_) => {
                let pid = self.task(me).pid;
                klog!(
                    self,
                    "pid {}: rt_sigreturn with no signal frame at {:#x}",
                    pid,
                    frame.sp
                );
                self.terminate(me, SIGSEGV);
                return;
            }
        };
        let m = sf.uc.mcontext;
        let fp = &m.fpsimd;
        let st = match (fp.magic, fp.size) {
            (0, _) => None,
            (FPSIMD_MAGIC, FPSIMD_CONTEXT_SIZE) => Some(FpState {
                v: fp.vregs,
                fpcr: (fp.fpcr & FPCR_USER) as u64,
                fpsr: (fp.fpsr & FPSR_USER) as u64,
            }),
            _ => {
                let pid = self.task(me).pid;
                klog!(
                    self,
                    "pid {}: rt_sigreturn with a bad FP/SIMD record at {:#x}",
                    pid,
                    frame.sp
                );
                self.terminate(me, SIGSEGV);
                return;
            }
        };
        self.fp_set(me, st);
        frame.x = m.regs;
        frame.sp = m.sp;
        frame.pc = m.pc;
        frame.pstate = m.pstate & PSTATE_USER;
        self.task_mut(me).sig.blocked = sf.uc.sigmask & !UNCATCHABLE;
    }

    /// rt_sigaction(sig, act, oldact, sigsetsize).
    pub fn sys_sigaction(
        &mut self,
        me: usize,
        sig: usize,
        act: usize,
        old: usize,
        size: usize,
    ) -> R {
        if size != core::mem::size_of::<SigSet>() || !(1..=NSIG).contains(&sig) {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let new = if act != 0 {
            let a: SigAction = uaccess::read_val(self.arch, &env, act)?;
            if UNCATCHABLE & sigbit(sig) != 0
                || a.flags & !SA_SUPPORTED != 0
                || (caught(&a) && a.flags & SA_RESTORER == 0)
            {
                return Err(Errno::EINVAL);
            }
            Some(SigAction {
                mask: a.mask & !UNCATCHABLE,
                ..a
            })
        } else {
            None
        };
        if old != 0 {
            let cur = self.task(me).sig.action(sig);
            uaccess::write_val(self.arch, &env, old, &cur)?;
        }
        if let Some(a) = new {
            let s = &mut self.task_mut(me).sig;
            s.actions[sig - 1] = a;
            if a.handler == SIG_IGN || (a.handler == SIG_DFL && default_ignores(sig)) {
                s.pending &= !sigbit(sig); // POSIX: a pending signal set to ignore is dropped
            }
        }
        Ok(0)
    }

    /// rt_sigprocmask(how, set, oldset, sigsetsize). SIGKILL and SIGSTOP stay unblocked.
    pub fn sys_sigprocmask(
        &mut self,
        me: usize,
        how: usize,
        set: usize,
        old: usize,
        size: usize,
    ) -> R {
        if size != core::mem::size_of::<SigSet>() {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let new: Option<SigSet> = if set != 0 {
            Some(uaccess::read_val(self.arch, &env, set)?)
        } else {
            None
        };
        let cur = self.task(me).sig.blocked;
        let next = match (how, new) {
            (_, None) => cur,
            (SIG_BLOCK, Some(s)) => cur | s,
            (SIG_UNBLOCK, Some(s)) => cur & !s,
            (SIG_SETMASK, Some(s)) => s,
            _ => return Err(Errno::EINVAL),
        };
        if old != 0 {
            uaccess::write_val(self.arch, &env, old, &cur)?;
        }
        self.task_mut(me).sig.blocked = next & !UNCATCHABLE;
        Ok(0)
    }

    /// rt_sigpending(set, sigsetsize).
    pub fn sys_sigpending(&mut self, me: usize, set: usize, size: usize) -> R {
        if size != core::mem::size_of::<SigSet>() {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let p = self.task(me).sig.pending;
        uaccess::write_val(self.arch, &env, set, &p).map(|_| 0)
    }

    /// Whether `pid`'s disposition of `sig` is anything but the default (it asked for it).
    pub fn handles(&self, slot: usize, sig: usize) -> bool {
        self.task(slot).sig.action(sig).handler != SIG_DFL
    }
}
