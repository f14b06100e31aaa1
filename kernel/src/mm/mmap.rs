//! mmap, munmap, mprotect, msync and madvise on the region list: shared and private
//! mappings of shared-memory objects, anonymous memory, fixed and hinted placement, and the
//! splitting of regions that partial calls need.
//!
//! Project choices (README "mmap"): a private mapping of an object is a private copy made at
//! mmap time; PROT_WRITE implies read; PROT_WRITE with PROT_EXEC is EACCES (W^X); MAP_FIXED
//! over the heap's reserve or the stack's guard gap is EINVAL; pages of a mapping past the
//! end of its object are left unmapped and a touch of them is SIGBUS.

use crate::fs::ops::MapSource;
use crate::mm::shm::object::ObjKind;
use crate::mm::shm::RESERVED;
use crate::mm::vm::{self, overlaps, prot_of, Cut, Kind, Region};
use crate::phys::{page_round_down, PAGE_SIZE};
use crate::sched::wait::WaitId;
use crate::work::{Then, Work};
use crate::Kernel;
use abi::fcntl::{F_SEAL_FUTURE_WRITE, F_SEAL_WRITE};
use abi::layout::{USER_END, USER_MIN};
use abi::mman::*;
use abi::Errno;

type R = Result<isize, Errno>;

/// Pages copied per step of a private copy (a 4 KiB copy each).
const STEP_COPY: usize = 32;

/// The flags mmap knows; others are ignored, except under MAP_SHARED_VALIDATE (EOPNOTSUPP).
const MAP_KNOWN: u32 =
    MAP_TYPE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | MAP_FIXED_NOREPLACE;

/// Whether [va, va + len) is a range user mappings may use (EINVAL-worthy otherwise for
/// munmap and mprotect; mmap says ENOMEM for a range outside the address space).
fn user_range(va: usize, len: usize) -> bool {
    va >= USER_MIN && va.checked_add(len).is_some_and(|e| e <= USER_END)
}

fn reserved(va: usize, len: usize) -> bool {
    RESERVED.iter().any(|&(b, l)| overlaps(va, len, b, l))
}

/// What a new mapping is made of.
#[derive(Clone, Copy)]
enum Source {
    /// New private zero-filled memory.
    Anonymous,
    /// The object's own pages from page `off` (shared), or a private copy of them.
    Object { obj: u16, off: usize },
}

impl Kernel {
    /// mmap(addr, len, prot, flags, fd, off).
    pub fn sys_mmap(&mut self, me: usize, a: [usize; 6]) -> Option<R> {
        match self.mmap_checked(me, a) {
            Ok(r) => r,
            Err(e) => Some(Err(e)),
        }
    }

    fn mmap_checked(&mut self, me: usize, a: [usize; 6]) -> Result<Option<R>, Errno> {
        let [addr, len, prot, flags, fd, off] = a;
        let prot = u32::try_from(prot).map_err(|_| Errno::EINVAL)?;
        let flags = flags as u32;
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 {
            return Err(Errno::EINVAL);
        }
        let typ = flags & MAP_TYPE;
        if typ != MAP_SHARED && typ != MAP_PRIVATE && typ != MAP_SHARED_VALIDATE {
            return Err(Errno::EINVAL);
        }
        if typ == MAP_SHARED_VALIDATE && flags & !MAP_KNOWN != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let shared = typ != MAP_PRIVATE;
        if len == 0 || !off.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        let npages = len.checked_add(PAGE_SIZE - 1).ok_or(Errno::ENOMEM)? / PAGE_SIZE;
        let len = npages * PAGE_SIZE;
        if prot & PROT_WRITE != 0 && prot & PROT_EXEC != 0 {
            return Err(Errno::EACCES); // W^X
        }
        let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
        if fixed && !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        // What is mapped, and the most mprotect may give it later.
        let (src, max) = if flags & MAP_ANONYMOUS != 0 {
            (Source::Anonymous, PROT_READ | PROT_WRITE | PROT_EXEC)
        } else {
            let f = self.open_of(me, fd)?;
            let what = f.file.node.ops().mmap(self, f)?;
            if !f.file.readable() {
                return Err(Errno::EACCES);
            }
            match what {
                MapSource::Anonymous => (Source::Anonymous, PROT_READ | PROT_WRITE | PROT_EXEC),
                MapSource::Object(obj) => {
                    let o = self.objs.obj(obj);
                    if o.busy_growing() {
                        // Another call is building its pages: wait, then run again.
                        return Ok(self.wait_on(WaitId::ObjBusy(obj), None));
                    }
                    let writable =
                        f.file.writable() && o.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) == 0;
                    if shared && prot & PROT_WRITE != 0 && !f.file.writable() {
                        return Err(Errno::EACCES);
                    }
                    if shared && prot & PROT_WRITE != 0 && !writable {
                        return Err(Errno::EPERM); // sealed against writing
                    }
                    if o.kind == ObjKind::Shmem {
                        self.shmem_check(obj, off, npages, prot)?;
                    }
                    let max = if !shared || writable {
                        PROT_READ | PROT_WRITE | PROT_EXEC
                    } else {
                        PROT_READ | PROT_EXEC
                    };
                    (
                        Source::Object {
                            obj,
                            off: off / PAGE_SIZE,
                        },
                        max,
                    )
                }
            }
        };
        let va = self.mmap_place(me, addr, len, flags)?;
        // The region slot comes first: a full list changes nothing.
        let regions = &self.task(me).regions;
        let need = 1 + if fixed && flags & MAP_FIXED_NOREPLACE == 0 {
            vm::carve_needs(regions, va, len)
        } else {
            0
        };
        if regions.len() + need > vm::MAX_REGIONS {
            return Err(Errno::ENOMEM);
        }
        if fixed && flags & MAP_FIXED_NOREPLACE == 0 {
            self.split_edges(me, va, va + len)?;
        }
        // What backs the region: the object itself (shared), or a new private object.
        let (obj, roff, fill) = match src {
            Source::Object { obj, off } if shared && !self.objs.obj(obj).sized => {
                // `/dev/shmem/new`'s first mmap: the object gets its size and its pages.
                self.objs.obj_mut(obj).grow_to(npages)?;
                let o = self.objs.obj_mut(obj);
                o.sized = true;
                o.size = len as u64;
                self.obj_ref(obj);
                (obj, off, Some((npages, None)))
            }
            Source::Object { obj, off } if shared => {
                self.obj_ref(obj);
                (obj, off, None)
            }
            Source::Object { obj, off } => {
                let have = self.objs.obj(obj).npages().saturating_sub(off).min(npages);
                let new = self.obj_new(ObjKind::Private, have)?;
                (new, 0, Some((have, Some((obj, off)))))
            }
            Source::Anonymous => {
                let new = self.obj_new(ObjKind::Private, npages)?;
                (new, 0, Some((npages, None)))
            }
        };
        if let Some((n, _)) = fill {
            let o = self.objs.obj_mut(obj);
            if o.kind == ObjKind::Private {
                o.size = (n * PAGE_SIZE) as u64;
            }
        }
        // What was there goes first: off the list now, out of the tables in steps before
        // the new pages go in.
        let replaced = if flags & MAP_FIXED != 0 && flags & MAP_FIXED_NOREPLACE == 0 {
            self.carve_out(me, va, npages)
        } else {
            None
        };
        let r = Region::new(
            va,
            npages,
            prot,
            max,
            Kind::Obj {
                obj,
                off: roff,
                sysv: None,
            },
        );
        if vm::insert(&mut self.task_mut(me).regions, r).is_err() {
            unreachable!("room checked");
        }
        crate::ktrace!("mmap va={=usize:#x} pages={=usize}", va, npages);
        let then = Then::Map {
            obj,
            va,
            fill: fill.is_some(),
            src: fill.and_then(|(_, src)| src),
        };
        Ok(match replaced {
            Some((lo, n, owned)) => self.unmap_range(me, lo, n, owned, then),
            None => self.unmap_range(me, va, 0, false, then),
        })
    }

    /// mmap's fast path, for the common shared mapping: MAP_SHARED of a whole range of an
    /// object descriptor (read or read-write, the object's pages all there) at a
    /// kernel-chosen address, going into one L3 table that already exists. The same checks
    /// as `sys_mmap` and the same result, without the generic steps. None when anything is
    /// not that case: nothing has changed, and `sys_mmap` then does the call (and gives its
    /// errno or waits).
    pub(crate) fn mmap_fast(&mut self, me: usize, a: [usize; 6]) -> Option<isize> {
        let [addr, len, prot, flags, fd, off] = a;
        let write = match prot as u32 {
            PROT_READ => false,
            p if p == PROT_READ | PROT_WRITE => true,
            _ => return None,
        };
        if addr != 0
            || prot > u32::MAX as usize
            || flags as u32 != MAP_SHARED
            || len == 0
            || len > USER_END
            || !off.is_multiple_of(PAGE_SIZE)
            || !self.reclaim.is_empty()
        {
            return None;
        }
        let npages = len.div_ceil(PAGE_SIZE);
        if npages > crate::mm::shm::STEP_MAP {
            return None; // mapped in steps
        }
        let t = self.tasks.get_mut(me)?.as_mut()?;
        let d = (*t.fds.get(fd)?)?;
        let f = self.files.get(d.file)?;
        let crate::fs::file::Node::Shm(obj) = f.node else {
            return None;
        };
        let o = self.objs.get_mut(obj)?;
        let writable = f.writable() && o.seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) == 0;
        if !f.readable() || write && !writable || o.busy_growing() || o.kind == ObjKind::Shmem {
            return None;
        }
        let first = off / PAGE_SIZE;
        let pages = o.pages().get(first..first.checked_add(npages)?)?;
        let regions = &mut t.regions;
        if regions.is_full() {
            return None;
        }
        let (va, at) = vm::place_at(regions, npages * PAGE_SIZE).ok()?;
        if npages < crate::mm::shm::BLOCK_PAGES {
            if !self.arch.up_shmat_fast(&t.env, pages, va, !write) {
                return None;
            }
        } else if let Err(e) =
            self.arch
                .up_shmat(&t.env, &mut self.pg, pages, va, !write, o.runs_from(first))
        {
            // 2 MiB or more (blocks, tables to allocate): the full mapping in this one step.
            // A failure has left nothing mapped and nothing counted, as the full call's.
            return Some(e.to_ret());
        }
        let max = if writable {
            PROT_READ | PROT_WRITE | PROT_EXEC
        } else {
            PROT_READ | PROT_EXEC
        };
        let kind = Kind::Obj {
            obj,
            off: first,
            sysv: None,
        };
        if vm::insert_at(regions, at, Region::new(va, npages, prot as u32, max, kind)).is_err() {
            unreachable!("room checked");
        }
        crate::ktrace!("mmap va={=usize:#x} pages={=usize}", va, npages);
        o.refs += 1;
        t.rerun = None;
        Some(va as isize)
    }

    /// munmap's fast path: exactly one whole mapping of an object (or a whole System V
    /// attachment) whose pages stay (another reference holds them), in one step. None
    /// otherwise, with nothing changed: `sys_munmap` then does the call.
    pub(crate) fn munmap_fast(&mut self, me: usize, addr: usize, len: usize) -> Option<isize> {
        let npages = munmap_range(addr, len).ok()?;
        if npages > crate::mm::shm::STEP_UNMAP || !self.reclaim.is_empty() {
            return None;
        }
        let t = self.tasks.get_mut(me)?.as_mut()?;
        let i = vm::index_at(&t.regions, addr)?;
        let r = t.regions[i];
        let Kind::Obj { obj, sysv, .. } = r.kind else {
            return None;
        };
        let o = self.objs.get_mut(obj)?;
        if r.npages() != npages || o.refs < 2 {
            return None;
        }
        if let Some(slot) = sysv {
            let now = self.rtc_base + self.shm.clock.now(self.arch, self.entry_ticks);
            let seg = self.shm.get_mut(slot as usize)?;
            if seg.dest && seg.nattch < 2 {
                return None;
            }
            seg.nattch -= 1;
            seg.dtime = now as i64;
            seg.lpid = t.pid;
        }
        vm::remove(&mut t.regions, i);
        self.arch.up_shmdt(&t.env, &mut self.pg, addr, npages);
        o.refs -= 1;
        t.rerun = None;
        Some(0)
    }

    /// The address a new mapping goes to: fixed (MAP_FIXED replaces, MAP_FIXED_NOREPLACE
    /// refuses with EEXIST), a hint taken when the range is free, else the placement.
    fn mmap_place(&self, me: usize, addr: usize, len: usize, flags: u32) -> Result<usize, Errno> {
        let regions = &self.task(me).regions;
        if flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0 {
            if !user_range(addr, len) {
                return Err(Errno::ENOMEM);
            }
            if reserved(addr, len) {
                return Err(Errno::EINVAL);
            }
            if flags & MAP_FIXED_NOREPLACE != 0 && vm::any_in(regions, addr, len) {
                return Err(Errno::EEXIST);
            }
            return Ok(addr);
        }
        let hint = page_round_down(addr);
        if hint != 0
            && user_range(hint, len)
            && !reserved(hint, len)
            && !vm::any_in(regions, hint, len)
        {
            return Ok(hint);
        }
        vm::place(regions, len)
    }

    /// `/dev/shmem/new`: the first mmap fixes the size (offset 0, a length), later ones must
    /// lie inside it (ENXIO past it, never a silent clamp), and it needs PROT_READ.
    fn shmem_check(&mut self, obj: u16, off: usize, npages: usize, prot: u32) -> Result<(), Errno> {
        if prot & PROT_WRITE != 0 && prot & PROT_READ == 0 {
            return Err(Errno::EINVAL);
        }
        let o = self.objs.obj(obj);
        if !o.sized {
            if off != 0 {
                return Err(Errno::EINVAL);
            }
            return Ok(());
        }
        let have = o.npages();
        let first = off / PAGE_SIZE;
        if first >= have || npages > have - first {
            return Err(Errno::ENXIO);
        }
        Ok(())
    }

    /// One step of building the private object `obj` of the region at `va` (zeroed pages,
    /// then a copy of `src`'s pages if it copies an object), then its mapping.
    pub(crate) fn obj_fill_step(
        &mut self,
        me: usize,
        obj: u16,
        va: usize,
        src: Option<(u16, usize)>,
        copied: usize,
    ) -> Option<R> {
        let again = |k: &mut Kernel, copied| {
            k.task_mut(me).work = Some(Work::Fill {
                obj,
                va,
                src,
                copied,
            });
            None
        };
        if !self.objs.obj(obj).is_complete() {
            return match self.obj_fill(obj, crate::work::STEP_ZERO) {
                Ok(_) => again(self, copied),
                Err(e) => {
                    self.obj_grow_abort(obj);
                    let r = vm::take(&mut self.task_mut(me).regions, va).expect("listed");
                    self.region_dropped(me, &r, false);
                    self.after_reclaim(me, Err(e))
                }
            };
        }
        self.wake_all(WaitId::ObjBusy(obj));
        if let Some((s, off)) = src {
            let dst = self.objs.obj(obj).pages();
            let from = self.objs.obj(s).pages();
            let n = dst.len().min(from.len().saturating_sub(off));
            let stop = n.min(copied + STEP_COPY);
            for k in copied..stop {
                crate::phys::copy_page(dst[k], from[off + k]);
            }
            if stop < n {
                return again(self, stop);
            }
        }
        self.region_map_step(me, va, 0)
    }

    /// Take [va, va + npages) off task `me`'s regions (munmap, or MAP_FIXED replacing what
    /// was there), with the bookkeeping of every piece: the span of the tables to clear
    /// (first page, pages, whether private pages are among them), if anything was there.
    fn carve_out(&mut self, me: usize, va: usize, npages: usize) -> Option<(usize, usize, bool)> {
        let mut gone: heapless::Vec<(Region, Cut), { vm::MAX_REGIONS }> = heapless::Vec::new();
        vm::carve(
            &mut self.task_mut(me).regions,
            va,
            npages * PAGE_SIZE,
            &mut |r, cut| {
                let _ = gone.push((r, cut));
            },
        );
        let owned = gone.iter().any(|(r, _)| r.owned());
        for &(r, cut) in &gone {
            self.piece_gone(me, &r, cut);
        }
        // Only the pieces' own pages need the tables touched.
        let (lo, hi) = gone.iter().fold((usize::MAX, 0), |(lo, hi), (r, _)| {
            (lo.min(r.va), hi.max(r.end()))
        });
        (lo < hi).then(|| (lo, (hi - lo) / PAGE_SIZE, owned))
    }

    /// Cut the 2 MiB blocks that [addr, end)'s ends fall inside into page tables now, the
    /// pages keeping their access (ENOMEM, with nothing else changed, if a table page
    /// cannot be had). The unmap or protect that follows then needs no page, so it cannot
    /// fail half-way, even over several steps with others allocating in between.
    fn split_edges(&mut self, me: usize, addr: usize, end: usize) -> Result<(), Errno> {
        let env = self.task(me).env;
        for e in vm::block_edges(&self.task(me).regions, addr, end)
            .into_iter()
            .flatten()
        {
            let prot = vm::find(&self.task(me).regions, e).expect("covered").prot();
            self.arch.protect(&env, &mut self.pg, e, 1, prot_of(prot))?;
        }
        Ok(())
    }

    /// Part of a region went (munmap, or MAP_FIXED over it): references and counts follow
    /// how it was cut.
    fn piece_gone(&mut self, me: usize, r: &Region, cut: Cut) {
        match cut {
            Cut::Whole => return self.region_dropped(me, r, true),
            Cut::Middle => self.region_split(r),
            Cut::Trim => {}
        }
        if r.owned() {
            let t = self.task_mut(me);
            t.user_pages = t.user_pages.saturating_sub(r.npages());
        }
    }

    /// A region was split in two: the new piece takes its own reference (and, for a System
    /// V attachment, counts as one more, as Linux's nattch counts mappings).
    fn region_split(&mut self, r: &Region) {
        if let Kind::Obj { obj, sysv, .. } = r.kind {
            self.obj_ref(obj);
            if let Some(slot) = sysv {
                self.shm.get_mut(slot as usize).expect("attached").nattch += 1;
            }
        }
    }

    /// munmap(addr, len): whatever is mapped in the range goes (regions split as needed);
    /// nothing mapped there is not an error.
    pub fn sys_munmap(&mut self, me: usize, addr: usize, len: usize) -> Option<R> {
        let npages = match munmap_range(addr, len) {
            Ok(n) => n,
            Err(e) => return Some(Err(e)),
        };
        let regions = &self.task(me).regions;
        if let Some(i) = vm::index_at(regions, addr).filter(|&i| regions[i].npages() == npages) {
            // Exactly one whole mapping (the usual munmap): what carve would hand back,
            // without gathering a list of pieces. Its ends are its own, so no block to split.
            let r = vm::remove(&mut self.task_mut(me).regions, i);
            self.piece_gone(me, &r, Cut::Whole);
            return self.unmap_range(me, addr, npages, r.owned(), Then::Return(0));
        }
        if regions.len() + vm::carve_needs(regions, addr, npages * PAGE_SIZE) > vm::MAX_REGIONS {
            return Some(Err(Errno::ENOMEM));
        }
        if let Err(e) = self.split_edges(me, addr, addr + npages * PAGE_SIZE) {
            return Some(Err(e));
        }
        match self.carve_out(me, addr, npages) {
            Some((lo, n, owned)) => self.unmap_range(me, lo, n, owned, Then::Return(0)),
            None => self.after_reclaim(me, Ok(0)),
        }
    }

    /// mprotect(addr, len, prot): every page of the range must be mapped (ENOMEM), and the
    /// access within what each mapping allows (EACCES: a read-only descriptor or attach,
    /// or W^X).
    pub fn sys_mprotect(&mut self, me: usize, addr: usize, len: usize, prot: usize) -> R {
        let prot = u32::try_from(prot).map_err(|_| Errno::EINVAL)?;
        if prot & !(PROT_READ | PROT_WRITE | PROT_EXEC) != 0 || !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        if len == 0 {
            return Ok(0);
        }
        let npages = len.checked_add(PAGE_SIZE - 1).ok_or(Errno::ENOMEM)? / PAGE_SIZE;
        let end = addr.checked_add(npages * PAGE_SIZE).ok_or(Errno::ENOMEM)?;
        if !user_range(addr, end - addr) {
            return Err(Errno::ENOMEM);
        }
        if prot & PROT_WRITE != 0 && prot & PROT_EXEC != 0 {
            return Err(Errno::EACCES);
        }
        // The whole range covered, each part allowing the access asked for.
        let regions = &self.task(me).regions;
        let mut at = addr;
        for r in regions.iter().filter(|r| r.end() > addr && r.va < end) {
            if r.va > at {
                return Err(Errno::ENOMEM);
            }
            if prot & !r.max() != 0 {
                return Err(Errno::EACCES);
            }
            at = r.end();
        }
        if at < end {
            return Err(Errno::ENOMEM);
        }
        let splits = regions
            .iter()
            .filter(|r| (r.va < addr && addr < r.end()) || (r.va < end && end < r.end()))
            .count();
        if regions.len() + splits > vm::MAX_REGIONS {
            return Err(Errno::ENOMEM);
        }
        self.split_edges(me, addr, end)?;
        for cut in [addr, end] {
            if vm::split_at(&mut self.task_mut(me).regions, cut)? {
                let piece = *self
                    .task(me)
                    .regions
                    .iter()
                    .find(|r| r.va == cut)
                    .expect("split");
                self.region_split(&piece);
            }
        }
        let env = self.task(me).env;
        self.arch
            .protect(&env, &mut self.pg, addr, npages, prot_of(prot))?;
        for r in self.task_mut(me).regions.iter_mut() {
            if r.va >= addr && r.end() <= end {
                r.set_prot(prot);
            }
        }
        Ok(0)
    }

    /// msync(addr, len, flags): mappings are the memory itself, so there is nothing to
    /// write back; the arguments are checked as Linux does (ENOMEM for a range not mapped).
    pub fn sys_msync(&mut self, me: usize, addr: usize, len: usize, flags: usize) -> R {
        let flags = flags as u32;
        if flags & !(MS_ASYNC | MS_SYNC | MS_INVALIDATE) != 0
            || flags & (MS_ASYNC | MS_SYNC) == MS_ASYNC | MS_SYNC
            || !addr.is_multiple_of(PAGE_SIZE)
        {
            return Err(Errno::EINVAL);
        }
        self.all_mapped(me, addr, len)
    }

    /// madvise(addr, len, advice): the hints are accepted and change nothing (memory is
    /// never paged out here). MADV_DONTNEED is refused (EINVAL) rather than ignored: it
    /// would promise zero-filled private pages afterwards.
    pub fn sys_madvise(&mut self, me: usize, addr: usize, len: usize, advice: usize) -> R {
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(Errno::EINVAL);
        }
        match advice as u32 {
            MADV_NORMAL | MADV_RANDOM | MADV_SEQUENTIAL | MADV_WILLNEED => {}
            _ => return Err(Errno::EINVAL),
        }
        self.all_mapped(me, addr, len)
    }

    /// Ok(0) when every page of [addr, addr + len) is in a region, else ENOMEM.
    fn all_mapped(&self, me: usize, addr: usize, len: usize) -> R {
        let npages = len.checked_add(PAGE_SIZE - 1).ok_or(Errno::ENOMEM)? / PAGE_SIZE;
        let end = addr.checked_add(npages * PAGE_SIZE).ok_or(Errno::ENOMEM)?;
        let mut at = addr;
        for r in self
            .task(me)
            .regions
            .iter()
            .filter(|r| r.end() > addr && r.va < end)
        {
            if r.va > at {
                return Err(Errno::ENOMEM);
            }
            at = r.end();
        }
        if at < end {
            return Err(Errno::ENOMEM);
        }
        Ok(0)
    }

    /// The signal a fault at `addr` deserves: SIGBUS inside a mapping where its object has
    /// no page (past its end), else what the CPU said.
    pub fn fault_signal(&self, slot: usize, addr: usize, sig: usize) -> usize {
        let t = self.task(slot);
        match vm::find(&t.regions, addr).and_then(|r| r.obj_page(addr)) {
            Some((obj, page)) if page >= self.objs.obj(obj).npages() => abi::sys::SIGBUS,
            _ => sig,
        }
    }
}

/// munmap's range check: page-aligned start, a length, inside user space (EINVAL).
fn munmap_range(addr: usize, len: usize) -> Result<usize, Errno> {
    if !addr.is_multiple_of(PAGE_SIZE) || len == 0 {
        return Err(Errno::EINVAL);
    }
    let npages = len.checked_add(PAGE_SIZE - 1).ok_or(Errno::EINVAL)? / PAGE_SIZE;
    if !user_range(addr, npages * PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    Ok(npages)
}
