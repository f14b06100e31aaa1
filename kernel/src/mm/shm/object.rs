//! The kernel's one shared-memory object (DESIGN.md 3): a list of zeroed physical pages that
//! belong to no address space, built a bounded piece at a time.

use alloc::vec::Vec;

use crate::phys::{zero_page, Pa, PAGE_SIZE};
use abi::Errno;

/// Pages in a 2 MiB block: segments allocate runs of this many, aligned, where they can, so
/// that an attach at a 2 MiB-aligned address can use block descriptors.
pub const BLOCK_PAGES: usize = 512;
/// What a search for a free 2 MiB run counts for against a step's budget (in pages zeroed).
const BLOCK_SEARCH_COST: usize = 16;
/// A shared-memory object: physical pages that belong to no address space. Every front end
/// (System V today; POSIX shm_open and anonymous objects later) holds one. It is built a
/// bounded piece at a time (`fill`), since zeroing 64 MiB takes far longer than the kernel
/// may keep interrupts masked.
pub struct ShmObj {
    pages: Vec<Pa>,
    /// Pages [0, zeroed) are zeroed; the rest of `pages` is allocated but not yet.
    zeroed: usize,
    want: usize,
    /// A search for a free 2 MiB run failed: the rest comes page by page.
    no_runs: bool,
}

impl ShmObj {
    /// An empty object that will hold `npages` (ENOMEM if its page list cannot be had).
    pub fn with_capacity(npages: usize) -> Result<ShmObj, Errno> {
        let mut pages = Vec::new();
        pages.try_reserve_exact(npages).map_err(|_| Errno::ENOMEM)?;
        Ok(ShmObj {
            pages,
            zeroed: 0,
            want: npages,
            no_runs: false,
        })
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
    /// runs where memory allows, so that they can be mapped with block descriptors.
    pub fn fill(
        &mut self,
        pg: &mut crate::pgalloc::PageAlloc,
        mut budget: usize,
    ) -> Result<bool, Errno> {
        while budget > 0 {
            if self.zeroed < self.pages.len() {
                zero_page(self.pages[self.zeroed]);
                self.zeroed += 1;
                budget -= 1;
                continue;
            }
            let left = self.want - self.pages.len();
            if left == 0 {
                return Ok(true);
            }
            if left >= BLOCK_PAGES && !self.no_runs {
                // The search looks at the whole bitmap: it costs a step's share.
                budget = budget.saturating_sub(BLOCK_SEARCH_COST);
                if let Some(run) = pg.alloc_contig(BLOCK_PAGES, BLOCK_PAGES) {
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
        Ok(self.is_complete())
    }

    pub fn is_complete(&self) -> bool {
        self.zeroed == self.want
    }

    pub fn pages(&self) -> &[Pa] {
        &self.pages
    }

    pub fn npages(&self) -> usize {
        self.want
    }

    /// The page list, for the reclaim queue (only when nothing maps the object any more).
    pub fn into_pages(self) -> Vec<Pa> {
        self.pages
    }
}
