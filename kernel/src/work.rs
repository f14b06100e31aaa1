//! Kernel work too long to do with interrupts masked in one go (zeroing a 64 MiB segment,
//! freeing its pages, a console write of megabytes): a syscall leaves it on the task as
//! `Work`, and each time the scheduler picks the task one bounded step runs, with pending
//! interrupts let in between steps. Freed pages go through a reclaim queue drained the
//! same way.

use alloc::vec::Vec;

use crate::phys::{Pa, PAGE_SIZE};
use crate::up::TrapFrame;
use crate::Kernel;
use abi::Errno;

/// Pages zeroed (or allocated) per step: about 150 instructions each with `dc zva`.
pub const STEP_ZERO: usize = 128;
/// Program pages loaded per step: each is zeroed, mapped and filled from the file (a copy
/// of up to 4 KiB).
pub const STEP_LOAD: usize = 12;
/// Pages freed per step (contiguous runs count one per four pages): about 30,000
/// instructions when a step frees whole page tables of private pages.
pub const STEP_FREE: usize = 512;
/// Pages a destroy frees at once instead of queueing them, when nothing is queued before
/// them (a small segment or object): less work than a step, and no trip through the
/// scheduler.
pub const STEP_FREE_INLINE: usize = 16;

/// What a stepwise unmap leads to once its last page is out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// The call returns this (a value, or -errno), once the reclaim queue is drained.
    Return(isize),
    /// MAP_FIXED's new region at `va` (on the list already) gets its pages: built first
    /// (`fill`: object `obj` zeroed, or a copy of `src`) or mapped straight away.
    Map {
        obj: u16,
        va: usize,
        fill: bool,
        src: Option<(u16, usize)>,
    },
    /// shmdt of System V segment `slot` (object `obj`) goes on with the next of its pieces
    /// in [from, end): something else is mapped among them, so they go one by one.
    Shmdt {
        obj: u16,
        slot: u16,
        from: usize,
        end: usize,
    },
}

/// Kernel work a task still has to do for the syscall it is in. The syscall has not returned:
/// each time the scheduler picks the task, one bounded step runs, until a step finishes the
/// call and sets its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// A console write: `done` of `len` bytes at `buf` are in the transmit ring.
    ConsoleWrite { buf: usize, len: usize, done: usize },
    /// A pipe write longer than the room there was: `done` of `len` bytes are in pipe `pipe`.
    PipeWrite {
        pipe: usize,
        buf: usize,
        len: usize,
        done: usize,
    },
    /// shmget building the segment in table slot `slot` (allocating and zeroing pages).
    ShmCreate { slot: usize },
    /// mmap building object `obj` for the region at `va` (zeroing its pages, then copying
    /// `copied..` of `src`'s from its page offset for a private copy), then mapping it.
    Fill {
        obj: u16,
        va: usize,
        src: Option<(u16, usize)>,
        copied: usize,
    },
    /// A resize growing object `obj` to `size` bytes (allocating and zeroing pages); then
    /// the call returns 0, or (`rerun`: a write that needed the room) runs again.
    Grow { obj: u16, size: u64, rerun: bool },
    /// A large shmat or mmap mapping the region that starts at `va`: `done` pages mapped
    /// so far.
    MapRegion { va: usize, done: usize },
    /// A large shmdt or munmap (or a failed map undone, or what a MAP_FIXED mapping
    /// replaces): `left` pages at `va` still to unmap (`owned`: freeing private pages among
    /// them); then `then`.
    Unmap {
        va: usize,
        left: usize,
        owned: bool,
        then: Then,
    },
    /// brk moving the heap's mapped end from `end` towards `target` (then returning
    /// `result`); `old` is the break to fall back to if memory runs out.
    Brk {
        target: usize,
        end: usize,
        result: usize,
        old: usize,
    },
    /// A new task copying its program (rom file `file`) in: page `done` of ELF segment `seg`
    /// is next.
    Load {
        file: usize,
        seg: usize,
        done: usize,
    },
    /// The task has exited and is tearing itself down.
    Exit { stage: ExitStage },
    /// Freeing what the reclaim queue holds; then the syscall returns `ret`.
    Reclaim { ret: isize },
}

/// Where an exit's tear-down has got to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStage {
    /// Walking the robust-futex list (set_robust_list) while the address space is still
    /// there: `entry` next (0: the head's first), `left` entries at most still to follow.
    Robust { entry: usize, left: u16 },
    /// Freeing the address space's tables and private pages.
    Space,
    /// Dropping the regions' references and attachments (bookkeeping only).
    Segments,
    /// Freeing the pages of segments that went with them.
    Reclaim,
}

/// Page lists waiting to go back to the allocator (segments destroyed, for example).
#[derive(Default)]
pub struct Reclaim {
    lists: heapless::Vec<Vec<Pa>, RECLAIM_LISTS>,
}

/// Lists the queue holds; a destroy that finds it full frees at once (never expected: every
/// destroyer drains the queue before its syscall returns).
const RECLAIM_LISTS: usize = 256;

impl Reclaim {
    pub fn is_empty(&self) -> bool {
        self.lists.is_empty()
    }

    /// Pages waiting to be freed.
    pub fn pages(&self) -> usize {
        self.lists.iter().map(|l| l.len()).sum()
    }

    /// Whether `n` more lists fit without freeing at once.
    pub fn has_room(&self, n: usize) -> bool {
        self.lists.len() + n <= RECLAIM_LISTS
    }

    /// Queue `pages` (which nothing maps any more) to be freed. A list freed at once comes
    /// back emptied, its heap block for the caller to reuse.
    pub fn push(
        &mut self,
        mut pages: Vec<Pa>,
        pg: &mut crate::pgalloc::PageAlloc,
    ) -> Option<Vec<Pa>> {
        if pages.is_empty() {
            return Some(pages);
        }
        // A few pages with nothing queued before them: freed now, as cheap as queueing.
        if self.lists.is_empty() && pages.len() <= STEP_FREE_INLINE {
            match pages[..] {
                [one] => pg.free_page(one),
                _ => {
                    free_some(&mut pages, pg, usize::MAX);
                }
            }
            pages.clear();
            return Some(pages);
        }
        match self.lists.push(pages) {
            Ok(()) => None,
            Err(mut pages) => {
                free_some(&mut pages, pg, usize::MAX);
                Some(pages)
            }
        }
    }

    /// Free about `budget` pages' worth; true once the queue is empty.
    pub fn drain(&mut self, pg: &mut crate::pgalloc::PageAlloc, mut budget: usize) -> bool {
        while budget > 0 {
            let Some(list) = self.lists.last_mut() else {
                return true;
            };
            budget = free_some(list, pg, budget);
            if list.is_empty() {
                self.lists.pop();
            }
        }
        self.lists.is_empty()
    }
}

/// Free pages from the end of `list` for at most `budget` units (a page freed alone, or four
/// pages looked at while finding a contiguous run); returns the budget left.
fn free_some(list: &mut Vec<Pa>, pg: &mut crate::pgalloc::PageAlloc, mut budget: usize) -> usize {
    while budget > 0 {
        let Some(&last) = list.last() else { break };
        // The contiguous run ending at `last`, freed as one.
        let max = list.len().min(budget.saturating_mul(4));
        let run = contiguous_tail(&list[list.len() - max..]);
        let first = last - (run - 1) * PAGE_SIZE;
        pg.free_run(first, run);
        list.truncate(list.len() - run);
        budget = budget.saturating_sub(run.div_ceil(4));
    }
    budget
}

/// How many entries at the end of `list` (not empty) are consecutive pages ending at its
/// last entry. Eight entries a step, their differences OR-ed together: a 2 MiB segment's
/// list is one run of 512, and this was most of the cost of freeing it.
fn contiguous_tail(list: &[Pa]) -> usize {
    let last = list[list.len() - 1];
    // No run reaches below address 0: at most last / PAGE_SIZE + 1 entries.
    let list = &list[list.len() - list.len().min(last / PAGE_SIZE + 1)..];
    let mut run = 0;
    for c in list.rchunks_exact(8) {
        let mut d = 0;
        for (k, &p) in c.iter().rev().enumerate() {
            d |= p ^ last.wrapping_sub((run + k) * PAGE_SIZE);
        }
        if d != 0 {
            break;
        }
        run += 8;
    }
    while run < list.len() && list[list.len() - 1 - run] == last.wrapping_sub(run * PAGE_SIZE) {
        run += 1;
    }
    run
}

impl Kernel {
    /// One bounded step of `w` for the current task `slot`: finishes the syscall (result in
    /// x0), or leaves the rest as work (and may block).
    pub(crate) fn work_step(&mut self, slot: usize, w: Work, frame: &mut TrapFrame) {
        let r = match w {
            Work::ConsoleWrite { buf, len, done } => self.console_write_step(slot, buf, len, done),
            Work::PipeWrite {
                pipe,
                buf,
                len,
                done,
            } => self.pipe_write_step(slot, pipe, buf, len, done, false),
            Work::ShmCreate { slot: seg } => self.shm_create_step(slot, seg),
            Work::Reclaim { ret } => self.reclaim_step(slot, ret),
            Work::Load { file, seg, done } => {
                self.load_step(slot, file, seg, done);
                None
            }
            Work::Exit { stage } => {
                self.exit_step(slot, stage);
                None
            }
            Work::Brk {
                target,
                end,
                result,
                old,
            } => self.brk_step(slot, target, end, result, old),
            Work::MapRegion { va, done } => self.region_map_step(slot, va, done),
            Work::Grow { obj, size, rerun } => match self.obj_grow_step(slot, obj, size, rerun) {
                Some(Ok(_)) if rerun => {
                    // The write that needed the room runs again, its arguments untouched.
                    frame.pc -= 4;
                    None
                }
                r => r,
            },
            Work::Fill {
                obj,
                va,
                src,
                copied,
            } => self.obj_fill_step(slot, obj, va, src, copied),
            Work::Unmap {
                va,
                left,
                owned,
                then,
            } => self.unmap_range(slot, va, left, owned, then),
        };
        if let Some(r) = r {
            frame.x[0] = match r {
                Ok(v) => v as u64,
                Err(e) => e.to_ret() as u64,
            };
        }
    }

    /// A step of draining the reclaim queue on behalf of the current task; when it is empty
    /// the syscall returns `ret`.
    fn reclaim_step(&mut self, me: usize, ret: isize) -> Option<Result<isize, Errno>> {
        if self.reclaim.drain(&mut self.pg, STEP_FREE) {
            return Some(Ok(ret));
        }
        self.task_mut(me).work = Some(Work::Reclaim { ret });
        None
    }

    /// End a syscall that may have queued pages for freeing: return `r` now if the queue is
    /// empty, else drain it first (as work) and return `r` after.
    pub(crate) fn after_reclaim(
        &mut self,
        me: usize,
        r: Result<isize, Errno>,
    ) -> Option<Result<isize, Errno>> {
        // Work the call left (the rest of a long shmdt) must not be replaced: it drains the
        // queue itself when it ends.
        if self.reclaim.is_empty() || self.task(me).work.is_some() {
            return Some(r);
        }
        let ret = r.unwrap_or_else(|e| e.to_ret());
        self.task_mut(me).work = Some(Work::Reclaim { ret });
        None
    }

    /// The task `slot` ends with work unfinished: undo what the work held.
    pub(crate) fn abandon_work(&mut self, _slot: usize, w: Work) {
        match w {
            // The heap and a half-mapped region go with the address space (the region is
            // still on the task's list, and exit drops it); an unmap did its bookkeeping
            // before it started (shmdt's pieces not reached yet are still listed).
            Work::ConsoleWrite { .. }
            | Work::PipeWrite { .. }
            | Work::Reclaim { .. }
            | Work::MapRegion { .. }
            | Work::Unmap {
                then: Then::Return(_) | Then::Map { fill: false, .. } | Then::Shmdt { .. },
                ..
            }
            | Work::Brk { .. }
            | Work::Load { .. }
            | Work::Exit { .. } => {}
            Work::ShmCreate { slot: seg } => self.shm_create_abort(seg),
            // The region is on the list (exit drops it); a shared object being sized goes
            // back to what it was.
            Work::Fill { obj, .. }
            | Work::Grow { obj, .. }
            | Work::Unmap {
                then: Then::Map {
                    obj, fill: true, ..
                },
                ..
            } => self.obj_grow_abort(obj),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contiguous_tail_counts_the_run_ending_at_the_last_entry() {
        let run = |from: Pa, n: usize| (0..n).map(move |k| from + k * PAGE_SIZE);
        // A whole run, of every length around the 8-entry steps.
        for n in 1..40 {
            let l: Vec<Pa> = run(0x4000_0000, n).collect();
            assert_eq!(contiguous_tail(&l), n, "{n}");
        }
        // A break at every place in the last 20: the run after it only.
        for brk in 0..20 {
            let mut l: Vec<Pa> = run(0x4000_0000, 20).collect();
            l[brk] = 0x9000_0000;
            let want = if brk == 19 { 1 } else { 19 - brk };
            assert_eq!(contiguous_tail(&l), want, "break at {brk}");
        }
        // Descending pages, and the same page twice, are not a run.
        assert_eq!(contiguous_tail(&[0x5000, 0x4000]), 1);
        assert_eq!(contiguous_tail(&[0x4000, 0x4000]), 1);
        // A run that would reach below address 0 stops.
        assert_eq!(contiguous_tail(&[usize::MAX - 0xfff, 0, 0x1000]), 2);
    }
}
