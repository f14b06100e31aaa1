//! Mapping regions into a process and out again, in bounded steps: what shmat, mmap,
//! munmap, shmdt and exit share (the page-table side of `vm`'s region list).

use crate::mm::shm::{STEP_MAP, STEP_UNMAP};
use crate::mm::vm::{self, prot_of, Kind, Region};
use crate::phys::PAGE_SIZE;
use crate::up::Prot;
use crate::work::{Then, Work};
use crate::Kernel;
use abi::Errno;

type R = Result<isize, Errno>;

impl Kernel {
    /// The fast paths of shmat, shmdt, mmap and munmap (syscall `n`, arguments `a`), taken
    /// ahead of the generic dispatch: the call's return value (-errno for an error) when its
    /// fast path took it whole; None, with nothing changed, when the call goes on to the
    /// generic path.
    #[inline]
    pub(crate) fn mm_fast(&mut self, me: usize, n: usize, a: &[u64]) -> Option<isize> {
        use abi::sys::nr;
        let a = |i: usize| a[i] as usize;
        match n {
            nr::SHMAT => self.shmat_fast(me, a(0) as i32, a(1), a(2) as i32),
            nr::SHMDT => self.shmdt_fast(me, a(0)),
            nr::MMAP => self.mmap_fast(me, [a(0), a(1), a(2), a(3), a(4), a(5)]),
            nr::MUNMAP => self.munmap_fast(me, a(0), a(1)),
            _ => None,
        }
    }

    /// Map pages [from, from + n) of the region at `va` with access `prot`, backed by pages
    /// `off..` of object `obj`, for task `me`: the pages the object has there (a range past
    /// the object's end stays unmapped, and a touch of it is SIGBUS).
    fn map_obj_pages(
        &mut self,
        me: usize,
        (va, prot): (usize, u32),
        (obj, off): (u16, usize),
        from: usize,
        n: usize,
    ) -> Result<(), Errno> {
        let env = self.task(me).env;
        let o = self.objs.obj(obj);
        let pages = o.pages();
        let first = off + from;
        let runs = o.runs_from(first);
        let last = (off + from + n).min(pages.len());
        if first >= last {
            return Ok(());
        }
        let va = va + from * PAGE_SIZE;
        let pages = &pages[first..last];
        match prot_of(prot) {
            // System V's own entry point for what it has always mapped.
            Prot::Read => self
                .arch
                .up_shmat(&env, &mut self.pg, pages, va, true, runs),
            Prot::ReadWrite => self
                .arch
                .up_shmat(&env, &mut self.pg, pages, va, false, runs),
            p => self.arch.map_pages(&env, &mut self.pg, va, pages, p, false),
        }
    }

    /// Map pages [from, from + n) of region `r` of task `me` with the region's access (see
    /// `map_obj_pages`; a region no object backs has nothing to map here).
    pub(crate) fn region_map_pages(
        &mut self,
        me: usize,
        r: &Region,
        from: usize,
        n: usize,
    ) -> Result<(), Errno> {
        match r.kind {
            Kind::Obj { obj, off, .. } => {
                self.map_obj_pages(me, (r.va, r.prot()), (obj, off), from, n)
            }
            _ => Ok(()),
        }
    }

    /// One step of mapping the region that starts at `va` (its first `done` pages are
    /// mapped): Some(result) when the call is over. A failure takes the region off the list
    /// and undoes what was mapped, so nothing has changed when the call fails.
    pub(crate) fn region_map_step(&mut self, me: usize, va: usize, done: usize) -> Option<R> {
        let regions = &self.task(me).regions;
        let i = vm::index_at(regions, va).expect("the region being mapped");
        // Only the fields needed: the region stays where it is on the list.
        let (npages, prot, kind) = (regions[i].npages(), regions[i].prot(), regions[i].kind);
        let Kind::Obj { obj, off, sysv } = kind else {
            return Some(Ok(va as isize));
        };
        let n = (npages - done).min(STEP_MAP);
        if let Err(e) = self.map_obj_pages(me, (va, prot), (obj, off), done, n) {
            let r = vm::remove(&mut self.task_mut(me).regions, i);
            self.region_dropped(me, &r, false);
            return self.unmap_range(me, va, done, false, Then::Return(e.to_ret()));
        }
        if done + n < npages {
            self.task_mut(me).work = Some(Work::MapRegion { va, done: done + n });
            return None;
        }
        if let Some(slot) = sysv {
            let pid = self.task(me).pid;
            self.shm_attached(slot as usize, pid);
        }
        Some(Ok(va as isize))
    }

    /// Pages of region `r` of task `t` already in its tables: a region still being built,
    /// mapped, or waiting for MAP_FIXED's unmap has only what its task's work has done.
    /// A resize of its object must touch no more (the rest is mapped from the object as it
    /// is then, and an entry put there early would make that mapping fail).
    pub(crate) fn region_mapped(&self, t: usize, r: &Region) -> usize {
        match self.task(t).work {
            Some(Work::MapRegion { va, done }) if va == r.va => done,
            Some(Work::Fill { va, .. }) if va == r.va => 0,
            Some(Work::Unmap {
                then: Then::Map { va, .. },
                ..
            }) if va == r.va => 0,
            _ => r.npages(),
        }
    }

    /// A region is off task `me`'s list: drop what it held. `detach` is false for an attach
    /// that failed (System V's times stay then).
    pub(crate) fn region_dropped(&mut self, me: usize, r: &Region, detach: bool) {
        match r.kind {
            Kind::Obj { obj, sysv, .. } => {
                if let Some(slot) = sysv {
                    let pid = self.task(me).pid;
                    self.shm_detached(slot as usize, pid, detach);
                }
                self.obj_unref(obj);
            }
            _ => {
                let t = self.task_mut(me);
                t.user_pages = t.user_pages.saturating_sub(r.npages());
            }
        }
    }

    /// One step of unmapping `left` pages at `va` of task `me` (`owned`: private pages among
    /// them are freed); at the end, `then`.
    pub(crate) fn unmap_range(
        &mut self,
        me: usize,
        va: usize,
        left: usize,
        owned: bool,
        then: Then,
    ) -> Option<R> {
        let env = self.task(me).env;
        let n = left.min(STEP_UNMAP);
        if n > 0 {
            if owned {
                self.arch.unmap_pages(&env, &mut self.pg, va, n);
            } else {
                self.arch.up_shmdt(&env, &mut self.pg, va, n);
            }
        }
        if n < left {
            self.task_mut(me).work = Some(Work::Unmap {
                va: va + n * PAGE_SIZE,
                left: left - n,
                owned,
                then,
            });
            return None;
        }
        match then {
            Then::Return(ret) if ret < 0 => self.after_reclaim(me, Err(Errno((-ret) as i32))),
            Then::Return(ret) => self.after_reclaim(me, Ok(ret)),
            Then::Map {
                obj,
                va,
                fill: true,
                src,
            } => self.obj_fill_step(me, obj, va, src, 0),
            Then::Map { va, .. } => self.region_map_step(me, va, 0),
            Then::Shmdt {
                obj,
                slot,
                from,
                end,
            } => self.shmdt_piece(me, obj, slot, from, end),
        }
    }

    /// Process exit: drop every region (the address space itself is already gone, so only
    /// the references and the bookkeeping are left).
    pub fn regions_exit(&mut self, slot: usize) {
        let regions = core::mem::take(&mut self.task_mut(slot).regions);
        for r in &regions {
            self.region_dropped(slot, r, true);
        }
    }

    /// The heap's regions now end at `end` (brk moved the mapped end there).
    pub(crate) fn heap_region_to(&mut self, me: usize, end: usize) {
        use abi::layout::{USER_HEAP, USER_HEAP_MAX};
        use abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
        let regions = &mut self.task_mut(me).regions;
        let heap = |r: &Region| r.kind == Kind::Heap;
        let cur = regions
            .iter()
            .filter(|r| heap(r))
            .map(|r| r.end())
            .max()
            .unwrap_or(USER_HEAP);
        if end < cur {
            // At the top end of the heap: no piece is left on both sides, so no slot needed.
            vm::carve(
                regions,
                end,
                USER_HEAP + USER_HEAP_MAX - end,
                &mut |_, _| {},
            );
            return;
        }
        if end == cur {
            return;
        }
        let rw = PROT_READ | PROT_WRITE;
        if let Some(last) = regions
            .iter_mut()
            .find(|r| r.kind == Kind::Heap && r.end() == cur && r.prot() == rw)
        {
            last.set_npages(last.npages() + (end - cur) / PAGE_SIZE);
            return;
        }
        let r = Region::new(cur, (end - cur) / PAGE_SIZE, rw, rw | PROT_EXEC, Kind::Heap);
        // A full list only leaves the heap out of pmap's listing and mprotect's reach.
        let _ = vm::insert(regions, r);
    }
}
