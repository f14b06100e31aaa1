//! The kernel's one shared-memory object (DESIGN.md 3): a list of zeroed physical pages that
//! belong to no address space, built a bounded piece at a time.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::phys::{zero_pages, Pa, PAGE_SIZE};
use abi::Errno;

/// Pages in a 2 MiB block: segments allocate runs of this many, aligned, where they can, so
/// that an attach at a 2 MiB-aligned address can use block descriptors.
pub const BLOCK_PAGES: usize = 512;
/// What a search for a free 2 MiB run counts for against a step's budget (in pages zeroed).
const BLOCK_SEARCH_COST: usize = 16;
/// Objects system-wide (ENFILE past it, as FreeBSD's shm_open when its table is full).
pub const MAX_OBJECTS: usize = 256;
/// Room a small object's page list gets (in pages): every list of this room is alike, so
/// that an emptied one can serve the next small object.
const SPARE_ROOM: usize = 4;
/// Empty small lists kept ready (a heap allocation and free saved per small object). The
/// stock is made at boot and topped up whenever an object goes, so that with no objects
/// the heap holds exactly this many, as at boot.
const SPARES: usize = 4;
/// Longest name an object keeps: a POSIX name without its slash, or a memfd's.
pub const OBJ_NAME_MAX: usize = 255;

/// Which front end made an object (what `pmap` and `/proc`-style listings call it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjKind {
    /// A System V segment's.
    Sysv,
    /// shm_open with a name (in `/dev/shm`, or unlinked and still referenced).
    Posix,
    /// shm_open(SHM_ANON).
    Anon,
    /// memfd_create.
    Memfd,
    /// An open of `/dev/shmem/new`.
    Shmem,
    /// Private memory of one mapping: MAP_ANONYMOUS, `/dev/zero`, or a MAP_PRIVATE copy.
    Private,
}

/// A shared-memory object: physical pages that belong to no address space, and a reference
/// count. Every front end holds references: a System V segment, a name, an open
/// description, each mapping; the pages go back when the last reference does (FreeBSD's
/// garbage collection). It is built a bounded piece at a time (`fill`), since zeroing
/// 64 MiB takes far longer than the kernel may keep interrupts masked.
pub struct ShmObj {
    pages: Vec<Pa>,
    /// Pages [0, zeroed) are zeroed; the rest of `pages` is allocated but not yet.
    zeroed: usize,
    want: usize,
    /// Pages [0, ready) are the object's content; past it a growth is being built.
    ready: usize,
    /// A search for a free 2 MiB run failed: the rest comes page by page.
    no_runs: bool,
    /// `pages[zeroed..run_end]` is (the rest of) the last 2 MiB run taken, physically
    /// contiguous: zeroed with one call, not page by page. (A run is taken only once every
    /// page before it is zeroed, so `zeroed` is never below its start.)
    run_end: usize,
    /// Bit k: `pages[512k..512(k+1)]` is one 2 MiB-aligned physically contiguous run (the
    /// first 64 blocks; past them the mapper checks the pages itself). It lets an attach
    /// put a block descriptor there without reading the block's 512 entries.
    runs: u64,
    pub kind: ObjKind,
    pub refs: u32,
    /// Size in bytes (what fstat and read/write see); its pages are `ready`.
    pub size: u64,
    /// `/dev/shmem/new`: whether the first mmap has fixed the size.
    pub sized: bool,
    /// Permission bits, owner and group.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    /// F_SEAL_* bits (memfd).
    pub seals: u32,
    pub mtime: i64,
    pub ctime: i64,
    /// POSIX name (without the slash) or memfd name, on the kernel heap: most objects
    /// have none, and a 255-byte buffer in each of the table's slots would triple its size.
    pub name: Box<[u8]>,
    /// The name is in the `/dev/shm` table (holding a reference).
    pub named: bool,
    /// A resize being built: other resizes wait here.
    pub busy: crate::sched::wait::WaitQueue,
}

impl ShmObj {
    /// An empty object that will hold `npages` (ENOMEM if its page list cannot be had).
    pub fn with_capacity(npages: usize) -> Result<ShmObj, Errno> {
        let mut pages = Vec::new();
        // A small list gets SPARE_ROOM, so that it can serve any small object again.
        let room = if npages == 0 {
            0
        } else {
            npages.max(SPARE_ROOM)
        };
        pages.try_reserve_exact(room).map_err(|_| Errno::ENOMEM)?;
        Ok(ShmObj::with_list(pages, npages))
    }

    /// An empty object that will hold `npages` in `pages` (empty, with room for them).
    fn with_list(pages: Vec<Pa>, npages: usize) -> ShmObj {
        debug_assert!(pages.is_empty() && pages.capacity() >= npages);
        ShmObj {
            pages,
            zeroed: 0,
            want: npages,
            ready: 0,
            no_runs: false,
            run_end: 0,
            runs: 0,
            kind: ObjKind::Sysv,
            refs: 0,
            size: 0,
            sized: true,
            mode: 0,
            uid: 0,
            gid: 0,
            seals: 0,
            mtime: 0,
            ctime: 0,
            name: Box::default(),
            named: false,
            busy: crate::sched::wait::WaitQueue::new(),
        }
    }

    /// `npages` zeroed pages in one go (host tests; the kernel fills in steps).
    pub fn new(pg: &mut crate::pgalloc::PageAlloc, npages: usize) -> Result<ShmObj, Errno> {
        let mut obj = ShmObj::with_capacity(npages)?;
        match obj.fill(pg, usize::MAX) {
            Ok(_) => Ok(obj),
            Err(e) => {
                for p in obj.into_pages() {
                    pg.free_page(p);
                }
                Err(e)
            }
        }
    }

    /// Allocate and zero pages for about `budget` pages' worth of work: Ok(true) once the
    /// object is complete, ENOMEM when memory runs out (what was gathered stays in the
    /// object for the caller to give back). Segments of 2 MiB or more take 2 MiB-aligned
    /// runs at 2 MiB offsets of the object where memory allows, so that they can be mapped
    /// with block descriptors.
    pub fn fill(
        &mut self,
        pg: &mut crate::pgalloc::PageAlloc,
        mut budget: usize,
    ) -> Result<bool, Errno> {
        while budget > 0 {
            if self.zeroed < self.pages.len() {
                // Inside the last run: up to its end in one call; otherwise one page.
                let first = self.pages[self.zeroed];
                let n = if self.zeroed < self.run_end {
                    (self.run_end - self.zeroed).min(budget)
                } else {
                    1
                };
                zero_pages(first, n);
                self.zeroed += n;
                budget -= n;
                continue;
            }
            let left = self.want - self.pages.len();
            if left == 0 {
                self.ready = self.want;
                return Ok(true);
            }
            // A run only where a block starts in the object: a mapping at a 2 MiB-aligned
            // address (offset 0, or whole blocks) can use block descriptors only for those.
            if left >= BLOCK_PAGES && !self.no_runs && self.pages.len().is_multiple_of(BLOCK_PAGES)
            {
                // The search looks at the whole bitmap: it costs a step's share.
                budget = budget.saturating_sub(BLOCK_SEARCH_COST);
                if let Some(run) = pg.alloc_contig(BLOCK_PAGES, BLOCK_PAGES) {
                    let k = self.pages.len() / BLOCK_PAGES;
                    if k < 64 {
                        self.runs |= 1 << k;
                    }
                    self.run_end = self.pages.len() + BLOCK_PAGES;
                    self.pages
                        .extend((0..BLOCK_PAGES).map(|k| run + k * PAGE_SIZE));
                    continue;
                }
                self.no_runs = true;
            }
            match pg.alloc() {
                Some(p) => self.pages.push(p),
                None => return Err(Errno::ENOMEM),
            }
            budget = budget.saturating_sub(1);
        }
        if self.zeroed == self.want {
            self.ready = self.want;
        }
        Ok(self.is_complete())
    }

    pub fn is_complete(&self) -> bool {
        self.zeroed == self.want && self.ready == self.want
    }

    /// The object's pages (a growth being built not included).
    #[inline]
    pub fn pages(&self) -> &[Pa] {
        &self.pages[..self.ready]
    }

    /// Which blocks of `pages()[first..]` are known 2 MiB runs: bit k for pages
    /// `first + 512k ..`, as `up_shmat` takes them (none unless `first` starts a block).
    #[inline]
    pub fn runs_from(&self, first: usize) -> u64 {
        if !first.is_multiple_of(BLOCK_PAGES) {
            return 0;
        }
        self.runs
            .checked_shr((first / BLOCK_PAGES) as u32)
            .unwrap_or(0)
    }

    /// Pages the object has (a growth being built not included).
    #[inline]
    pub fn npages(&self) -> usize {
        self.ready
    }

    /// Start growing to `npages` (then `fill` until complete). ENOMEM if the page list
    /// cannot be had; nothing changes then.
    pub fn grow_to(&mut self, npages: usize) -> Result<(), Errno> {
        let more = npages.saturating_sub(self.pages.len());
        self.pages
            .try_reserve_exact(more)
            .map_err(|_| Errno::ENOMEM)?;
        self.want = npages;
        self.no_runs = false;
        Ok(())
    }

    /// Whether a growth is being built (other resizes and mmaps wait for it).
    pub fn busy_growing(&self) -> bool {
        self.want != self.ready
    }

    /// Keep only the first `npages` pages (a shrink, or a growth given up): the rest are
    /// returned, for the reclaim queue.
    pub fn shrink_to(&mut self, npages: usize) -> Vec<Pa> {
        let cut = npages.min(self.pages.len());
        let gone = self.pages.split_off(cut);
        self.want = cut;
        self.ready = self.ready.min(cut);
        self.zeroed = self.zeroed.min(cut);
        self.run_end = self.run_end.min(cut);
        // Only whole blocks stay runs.
        let whole = cut / BLOCK_PAGES;
        if whole < 64 {
            self.runs &= (1 << whole) - 1;
        }
        gone
    }

    /// The page list, for the reclaim queue (only when nothing maps the object any more).
    pub fn into_pages(self) -> Vec<Pa> {
        self.pages
    }
}

/// The table of objects: every object is reached by its index, which regions, open
/// descriptions, names and System V segments keep.
pub struct Objects {
    slots: alloc::boxed::Box<[Option<ShmObj>]>,
    /// Pages held by all objects.
    pub pages: usize,
    /// Empty page lists of room SPARE_ROOM, for small objects.
    spare: heapless::Vec<Vec<Pa>, SPARES>,
}

impl Default for Objects {
    fn default() -> Self {
        let mut o = Objects {
            slots: (0..MAX_OBJECTS).map(|_| None).collect(),
            pages: 0,
            spare: heapless::Vec::new(),
        };
        o.top_up();
        o
    }
}

impl Objects {
    pub fn get(&self, id: u16) -> Option<&ShmObj> {
        self.slots.get(id as usize)?.as_ref()
    }
    pub fn get_mut(&mut self, id: u16) -> Option<&mut ShmObj> {
        self.slots.get_mut(id as usize)?.as_mut()
    }
    /// The object `id`, which the caller holds a reference to.
    pub fn obj(&self, id: u16) -> &ShmObj {
        self.get(id).expect("a referenced object")
    }
    pub fn obj_mut(&mut self, id: u16) -> &mut ShmObj {
        self.get_mut(id).expect("a referenced object")
    }
    /// Objects in use.
    pub fn used(&self) -> usize {
        self.slots.iter().flatten().count()
    }
    /// Emptied page lists kept for reuse.
    #[cfg(test)]
    pub fn spare_lists(&self) -> usize {
        self.spare.len()
    }
    /// Fill the stock of spare lists (as far as the heap allows).
    fn top_up(&mut self) {
        while !self.spare.is_full() {
            let mut l = Vec::new();
            if l.try_reserve_exact(SPARE_ROOM).is_err() || self.spare.push(l).is_err() {
                break;
            }
        }
    }

    /// Every object with its index.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &ShmObj)> {
        self.slots
            .iter()
            .enumerate()
            .filter_map(|(i, o)| o.as_ref().map(|o| (i as u16, o)))
    }
}

impl crate::Kernel {
    /// A new object of `kind` with no pages yet and one reference (the caller's), owned by
    /// the current task. ENFILE when the table is full, ENOMEM without heap for its list.
    pub fn obj_new(&mut self, kind: ObjKind, npages: usize) -> Result<u16, Errno> {
        let i = self
            .objs
            .slots
            .iter()
            .position(|o| o.is_none())
            .ok_or(Errno::ENFILE)?;
        // A small object takes a spare list: no heap call.
        let spare = if npages <= SPARE_ROOM {
            self.objs.spare.pop()
        } else {
            None
        };
        let mut o = match spare {
            Some(list) => ShmObj::with_list(list, npages),
            None => ShmObj::with_capacity(npages)?,
        };
        let now = self.wall_seconds();
        let (uid, gid) = self.current.map_or((0, 0), |c| {
            let t = self.task(c);
            (t.uid, t.gid)
        });
        o.kind = kind;
        o.refs = 1;
        o.uid = uid;
        o.gid = gid;
        o.mode = 0o600;
        o.mtime = now;
        o.ctime = now;
        self.objs.slots[i] = Some(o);
        Ok(i as u16)
    }

    pub fn obj_ref(&mut self, id: u16) {
        self.objs.obj_mut(id).refs += 1;
    }

    /// Drop a reference; the last one gives the pages back (through the reclaim queue, so
    /// that the caller's syscall frees them in steps).
    pub fn obj_unref(&mut self, id: u16) {
        let o = self.objs.obj_mut(id);
        o.refs -= 1;
        if o.refs > 0 {
            return;
        }
        // Waiters on a resize are found through the table: wake them before the object
        // leaves it (there are normally none, and the queue says so without a lookup).
        if !o.busy.is_empty() {
            self.wake_all(crate::sched::wait::WaitId::ObjBusy(id));
        }
        let o = self.objs.slots[id as usize].take().expect("live");
        let pages = o.into_pages();
        self.objs.pages -= pages.len();
        // Its list, emptied, goes back to the stock if it is a small one; a list of another
        // room (or one queued to be freed later) is replaced by a new one.
        match self.reclaim.push(pages, &mut self.pg) {
            Some(list) if list.capacity() == SPARE_ROOM && !self.objs.spare.is_full() => {
                let _ = self.objs.spare.push(list);
            }
            _ => self.objs.top_up(),
        }
    }

    /// Allocate and zero pages of object `id` for about `budget` pages' worth of work, as
    /// `ShmObj::fill`, keeping the table's page count.
    pub fn obj_fill(&mut self, id: u16, budget: usize) -> Result<bool, Errno> {
        let o = self.objs.slots[id as usize].as_mut().expect("live");
        let before = o.pages.len();
        let r = o.fill(&mut self.pg, budget);
        let after = o.pages.len();
        self.objs.pages += after - before;
        r
    }

    /// Give up a growth of object `id` being built (out of memory, or its builder died): it
    /// keeps the pages it had, and an object `/dev/shmem/new` was sizing is unsized again.
    pub fn obj_grow_abort(&mut self, id: u16) {
        let Some(o) = self.objs.get(id) else { return };
        if !o.busy_growing() {
            return;
        }
        let keep = o.npages();
        self.obj_shrink(id, keep);
        let o = self.objs.obj_mut(id);
        if o.kind == ObjKind::Shmem && keep == 0 {
            o.sized = false;
            o.size = 0;
        }
        self.wake_all(crate::sched::wait::WaitId::ObjBusy(id));
    }

    /// Cut object `id` to `npages` (shrink, or a growth given up): the pages past it go to
    /// the reclaim queue.
    pub fn obj_shrink(&mut self, id: u16, npages: usize) {
        let gone = self.objs.obj_mut(id).shrink_to(npages);
        self.objs.pages -= gone.len();
        let _ = self.reclaim.push(gone, &mut self.pg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pgalloc::PageAlloc;
    use crate::phys::{fakeram, p2v, write_phys};

    fn all_zero(pa: Pa) -> bool {
        // SAFETY: a page of the test's allocator, through the (fake) linear map.
        unsafe { core::slice::from_raw_parts(p2v(pa), PAGE_SIZE) }
            .iter()
            .all(|&b| b == 0)
    }

    #[test]
    fn runs_and_single_pages_are_all_zeroed_across_steps_and_a_shrink() {
        let (base, _) = fakeram::slice();
        // SAFETY: the fake RAM slice is ours alone.
        let mut pg = unsafe { PageAlloc::new(base, 4096) };
        // Dirty every page, so that a page the fill skips is seen.
        let dirty: Vec<Pa> = (0..pg.free()).map(|_| pg.alloc().unwrap()).collect();
        for &p in &dirty {
            write_phys(p, &[0xa5; PAGE_SIZE]);
        }
        for p in dirty {
            pg.free_page(p);
        }
        // 1.5 runs of 512 pages plus single pages, 100 pages' work a step.
        let mut o = ShmObj::with_capacity(BLOCK_PAGES + 300).unwrap();
        while !o.fill(&mut pg, 100).unwrap() {}
        assert!(o.pages().iter().all(|&p| all_zero(p)));
        // Shrink into the run, dirty what is left, grow again: the new pages are zeroed.
        let gone = o.shrink_to(200);
        for p in gone {
            pg.free_page(p);
        }
        for &p in o.pages() {
            write_phys(p, &[0x5a; 8]);
        }
        o.grow_to(BLOCK_PAGES + 50).unwrap();
        while !o.fill(&mut pg, 77).unwrap() {}
        assert_eq!(o.npages(), BLOCK_PAGES + 50);
        assert!(o.pages()[200..].iter().all(|&p| all_zero(p)));
        for p in o.into_pages() {
            pg.free_page(p);
        }
        fakeram::give_back(base);
    }
}
