//! Wait queues (DESIGN.md 3a): every object a task can wait for owns a queue per reason (a
//! pipe's readers and writers, the console's, a parent's children, a futex word's bucket).
//! Blocking, waking, time-outs, signals and exit treat every queue alike: a new kind of
//! blocking object adds a queue and a `WaitId`, not a case in the scheduler.
//!
//! A woken task does its own work: it runs its syscall again (or continues the kernel work
//! it left) in its own context, so a waker never copies on behalf of the tasks it wakes.

use crate::phys::Pa;
use crate::task::{Block, State, MAX_TASKS};
use crate::Kernel;
use abi::Errno;

/// Which queue a task waits on: the object that owns it and the reason.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaitId {
    /// Readers of pipe `p` (bytes or end of file).
    PipeRead(u8),
    /// Writers of pipe `p` (room, or no readers left).
    PipeWrite(u8),
    /// Readers of the console (input).
    ConsoleRead,
    /// Writers of the console (room in the transmit ring).
    ConsoleWrite,
    /// wait4 of the task in slot `s` (a child changed state).
    Children(u8),
    /// shmget on System V slot `s` (another process is still building its segment).
    ShmBusy(u16),
    /// A resize of shared-memory object `o` (another is being built).
    ObjBusy(u16),
    /// FUTEX_WAIT on the word at this physical address (queued in its hash bucket).
    Futex(Pa),
    /// futex_waitv on the task's `futexv` words (queued in each word's bucket).
    Futexv,
}

/// What a caught signal does to a wait that has moved nothing yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnSignal {
    /// EINTR, or the call runs again after the handler under SA_RESTART.
    Restartable,
    /// Always EINTR (futex waits, as they were before Linux 2.6.22 and as callers expect).
    Eintr,
    /// The call runs again after the handler: the wait is the kernel's own business, not
    /// one the call may fail with.
    Retry,
}

impl WaitId {
    pub fn on_signal(self) -> OnSignal {
        match self {
            WaitId::Futex(_) | WaitId::Futexv => OnSignal::Eintr,
            WaitId::ShmBusy(_) | WaitId::ObjBusy(_) => OnSignal::Retry,
            _ => OnSignal::Restartable,
        }
    }
}

/// Futex hash buckets (a queue each).
pub const FUTEX_BUCKETS: usize = 64;

/// The bucket of the futex word at `pa`.
pub fn futex_bucket(pa: Pa) -> usize {
    // Fibonacci hashing of the word index: neighbouring words land in different buckets.
    ((pa as u64 >> 2).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % FUTEX_BUCKETS
}

/// The tasks waiting on one queue, as a set of task slots: adding and removing are one bit
/// each, and the order they are woken in (highest priority first, then the longest waiting)
/// comes from the tasks themselves when they are woken.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WaitQueue(u64);

const _: () = assert!(MAX_TASKS <= 64, "a wait queue holds one bit per task slot");

impl WaitQueue {
    pub const fn new() -> WaitQueue {
        WaitQueue(0)
    }
    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }
    pub(crate) fn insert(&mut self, slot: usize) {
        self.0 |= 1 << slot;
    }
    pub(crate) fn remove(&mut self, slot: usize) {
        self.0 &= !(1 << slot);
    }
    /// The one task slot on the queue, if it holds exactly one.
    #[inline(always)]
    pub(crate) fn single(self) -> Option<usize> {
        (self.0 != 0 && self.0 & (self.0 - 1) == 0).then(|| self.0.trailing_zeros() as usize)
    }
    /// The task slots on the queue, lowest first.
    pub fn slots(self) -> impl Iterator<Item = usize> {
        let mut bits = self.0;
        core::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let s = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(s)
        })
    }
}

impl Kernel {
    /// The queue `id` names, if its object still exists.
    fn queue_mut(&mut self, id: WaitId) -> Option<&mut WaitQueue> {
        match id {
            WaitId::PipeRead(p) => self
                .pipes
                .get_mut(p as usize)?
                .as_mut()
                .map(|x| &mut x.readq),
            WaitId::PipeWrite(p) => self
                .pipes
                .get_mut(p as usize)?
                .as_mut()
                .map(|x| &mut x.writeq),
            WaitId::ConsoleRead => Some(&mut self.console.readq),
            WaitId::ConsoleWrite => Some(&mut self.console.writeq),
            WaitId::Children(s) => self
                .tasks
                .get_mut(s as usize)?
                .as_mut()
                .map(|t| &mut t.children),
            WaitId::ShmBusy(s) => self.shm.get_mut(s as usize).map(|x| &mut x.busy),
            WaitId::ObjBusy(o) => self.objs.get_mut(o).map(|x| &mut x.busy),
            WaitId::Futex(pa) => Some(&mut self.futex[futex_bucket(pa)]),
            // One queue per word: see `wait_futexv` and `unqueue`.
            WaitId::Futexv => None,
        }
    }

    /// Block the current task on queue `id` (until woken, a signal, or `wake_at`). None: it
    /// waits (the syscall's result comes later); EIO if the object is gone (never expected:
    /// the caller holds it).
    pub fn wait_on(&mut self, id: WaitId, wake_at: Option<u64>) -> Option<Result<isize, Errno>> {
        let me = self.current.expect("a current task");
        let q = self.queue_mut(id)?;
        q.insert(me);
        self.block_current(Block::On(id), wake_at);
        None
    }

    /// Block the current task on every word of its `futexv` list (until one is woken, a
    /// signal, or `wake_at`).
    pub fn wait_futexv(&mut self, wake_at: Option<u64>) {
        let me = self.current.expect("a current task");
        for i in 0..self.task(me).futexv.len() {
            let pa = self.task(me).futexv[i];
            self.futex[futex_bucket(pa)].insert(me);
        }
        self.block_current(Block::On(WaitId::Futexv), wake_at);
    }

    /// Take task `slot` off the queue it waits on (it is being woken, timed out, signalled
    /// or ended).
    pub(crate) fn unqueue(&mut self, slot: usize) {
        if self.task(slot).block == Block::On(WaitId::Futexv) {
            for i in 0..self.task(slot).futexv.len() {
                let pa = self.task(slot).futexv[i];
                self.futex[futex_bucket(pa)].remove(slot);
            }
            return;
        }
        if let Block::On(id) = self.task(slot).block {
            if let Some(q) = self.queue_mut(id) {
                q.remove(slot);
            }
        }
    }

    /// The task to wake next from `id`: the highest priority, then the longest waiting (as
    /// POSIX asks of real-time waiters). A scan of the queue's bits, nothing copied: queues
    /// are short and this runs on every futex wake.
    pub fn next_waiter(&mut self, id: WaitId) -> Option<usize> {
        let q = *self.queue_mut(id)?;
        self.best_waiter(q, |t| match (id, t.block) {
            // A futex bucket holds waiters of other words too, and futex_waitv waiters.
            (WaitId::Futex(pa), Block::On(WaitId::Futexv)) => t.futexv.contains(&pa),
            (_, b) => b == Block::On(id),
        })
    }

    /// The task of queue `q` that `on` accepts to wake next (see `next_waiter`).
    #[inline(always)]
    pub(crate) fn best_waiter(
        &self,
        q: WaitQueue,
        on: impl Fn(&crate::task::Task) -> bool,
    ) -> Option<usize> {
        let mut best: Option<(u8, u64, usize)> = None;
        for s in q.slots() {
            let Some(t) = self.tasks[s].as_ref() else {
                continue;
            };
            if t.state != State::Blocked || !on(t) {
                continue;
            }
            if best.is_none_or(|(p, seq, _)| t.prio > p || (t.prio == p && t.seq < seq)) {
                best = Some((t.prio, t.seq, s));
            }
        }
        best.map(|(_, _, s)| s)
    }

    /// The tasks waiting on `id`, in the order they would be woken.
    #[cfg(test)]
    pub fn waiters(&mut self, id: WaitId) -> std::vec::Vec<usize> {
        let q = self.queue_mut(id).map_or(WaitQueue::new(), |q| *q);
        let mut v: std::vec::Vec<(u8, u64, usize)> = q
            .slots()
            .filter_map(|s| {
                let t = self.tasks[s].as_ref()?;
                (t.state == State::Blocked && t.block == Block::On(id)).then_some((
                    u8::MAX - t.prio,
                    t.seq,
                    s,
                ))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, _, s)| s).collect()
    }

    /// Wake every task waiting on `id`: each continues the kernel work its call left, or
    /// runs its call again (it backed up over nothing yet: x0 still holds the first
    /// argument), finding what it waited for or waiting again.
    pub fn wake_all(&mut self, id: WaitId) {
        // Waking takes the task off the queue, so this ends.
        while let Some(s) = self.next_waiter(id) {
            self.wake(s);
        }
    }

    /// Wake the blocked task `slot` to continue (see `wake_all`).
    pub fn wake(&mut self, slot: usize) {
        debug_assert_ne!(self.current, Some(slot), "the running task's frame is live");
        let t = self.task_mut(slot);
        if t.work.is_none() {
            t.frame.pc -= 4;
            if let Block::On(id) = t.block {
                t.rerun = Some(id);
            }
        }
        self.make_ready(slot);
    }
}
