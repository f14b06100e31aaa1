//! Physical page allocator (NuttX `mm_pgalloc`): one bit per page, with total/used/free counts
//! and aligned contiguous runs for 2 MiB block mappings. A summary bit per bitmap word (set
//! while the word has a free page) bounds a one-page allocation by the summary's length, not
//! the bitmap's: a nearly full 256 MiB costs 16 word reads, not 1000.

use crate::phys::{p2v, zero_page, Pa, PAGE_SIZE};

pub struct PageAlloc {
    base: Pa,
    npages: usize,
    /// Bit set = page in use. Lives in the first pages of the managed range.
    bits: &'static mut [u64],
    /// Bit `w` set = `bits[w]` has a free page. Stored right after `bits`.
    nonfull: &'static mut [u64],
    used: usize,
    /// Pages taken by the bitmap itself; not counted in `total`.
    meta: usize,
    hint: usize,
    /// Free pages known to hold only zeros (translation tables that emptied). They stay
    /// marked in the bitmap but count as free; `alloc_zeroed` hands them out without zeroing,
    /// anything else takes them when the bitmap has nothing left.
    zeroed: heapless::Vec<Pa, ZEROED_CACHE>,
}

/// Pages kept in the zeroed cache.
pub const ZEROED_CACHE: usize = 32;

impl PageAlloc {
    /// Manage `[base, base + npages * PAGE_SIZE)`; the bitmap is stored at its start.
    ///
    /// # Safety
    /// The range must be RAM reachable through the linear map and owned by nobody else.
    pub unsafe fn new(base: Pa, npages: usize) -> PageAlloc {
        let words = npages.div_ceil(64);
        let swords = words.div_ceil(64);
        let meta = ((words + swords) * 8).div_ceil(PAGE_SIZE);
        // SAFETY: the caller hands us the whole range; the bitmap and its summary occupy its
        // first pages, one after the other.
        let (bits, nonfull) = unsafe {
            let p = p2v(base) as *mut u64;
            (
                core::slice::from_raw_parts_mut(p, words),
                core::slice::from_raw_parts_mut(p.add(words), swords),
            )
        };
        bits.fill(0);
        // Every word has a free page: the summary's bits [0, words) set, a word at a time.
        nonfull.fill(u64::MAX);
        if !words.is_multiple_of(64) {
            nonfull[swords - 1] = (1 << (words % 64)) - 1;
        }
        let mut pa = PageAlloc {
            base,
            npages,
            bits,
            nonfull,
            used: 0,
            meta,
            hint: 0,
            zeroed: heapless::Vec::new(),
        };
        for i in 0..meta {
            pa.set(i, true);
        }
        // Bits past the end are permanently "used" so searches never hand them out.
        for i in npages..words * 64 {
            pa.set(i, true);
        }
        pa
    }

    fn set(&mut self, i: usize, v: bool) {
        let (w, b) = (i / 64, i % 64);
        if v {
            self.bits[w] |= 1 << b;
        } else {
            self.bits[w] &= !(1 << b);
        }
        self.summarize(w);
    }

    /// Bring word `w`'s summary bit up to date.
    fn summarize(&mut self, w: usize) {
        let bit = 1u64 << (w % 64);
        if self.bits[w] == u64::MAX {
            self.nonfull[w / 64] &= !bit;
        } else {
            self.nonfull[w / 64] |= bit;
        }
    }

    fn get(&self, i: usize) -> bool {
        self.bits[i / 64] & (1 << (i % 64)) != 0
    }

    /// Pages that can be handed out (the bitmap's own pages excluded).
    pub fn total(&self) -> usize {
        self.npages - self.meta
    }
    pub fn used(&self) -> usize {
        self.used - self.zeroed.len()
    }
    pub fn free(&self) -> usize {
        self.total() - self.used()
    }

    /// Whether `pa` is a page of this allocator.
    pub fn contains(&self, pa: Pa) -> bool {
        pa >= self.base && pa < self.base + self.npages * PAGE_SIZE
    }

    /// One page, contents undefined.
    pub fn alloc(&mut self) -> Option<Pa> {
        let w = if self.bits[self.hint] != u64::MAX {
            self.hint
        } else {
            // The first word with a free page at or after the hint's, wrapping round.
            let swords = self.nonfull.len();
            let from = self.hint / 64;
            let found = (0..=swords).find_map(|k| {
                let s = (from + k) % swords;
                let mut m = self.nonfull[s];
                if k == 0 {
                    m &= u64::MAX << (self.hint % 64); // this summary word: from the hint on
                } else if k == swords {
                    m &= !(u64::MAX << (self.hint % 64)); // and round to before the hint
                }
                (m != 0).then(|| s * 64 + m.trailing_zeros() as usize)
            });
            match found {
                Some(w) => w,
                None => return self.zeroed.pop(),
            }
        };
        let b = (!self.bits[w]).trailing_zeros() as usize;
        self.bits[w] |= 1 << b;
        self.summarize(w);
        self.used += 1;
        self.hint = w;
        Some(self.base + (w * 64 + b) * PAGE_SIZE)
    }

    /// One zeroed page.
    pub fn alloc_zeroed(&mut self) -> Option<Pa> {
        if let Some(pa) = self.zeroed.pop() {
            return Some(pa);
        }
        let pa = self.alloc()?;
        zero_page(pa);
        Some(pa)
    }

    /// Return a page the caller knows to be all zeros, so it can be reused without zeroing.
    pub fn free_zeroed(&mut self, pa: Pa) {
        debug_assert!(
            // SAFETY: reading a page of ours through the linear map.
            unsafe { core::slice::from_raw_parts(p2v(pa) as *const u64, PAGE_SIZE / 8) }
                .iter()
                .all(|&w| w == 0),
            "free_zeroed of a dirty page"
        );
        if self.zeroed.push(pa).is_err() {
            self.free_page(pa);
        }
    }

    /// Give the zeroed cache back to the bitmap (before a search for contiguous pages).
    fn drain_zeroed(&mut self) {
        while let Some(pa) = self.zeroed.pop() {
            self.free_page(pa);
        }
    }

    /// `n` physically contiguous pages whose first page is aligned to `align` pages (a power
    /// of two, counted from physical address 0). Contents undefined. The search looks at
    /// 64 pages per word, so even a fragmented 256 MiB costs a few thousand instructions.
    pub fn alloc_contig(&mut self, n: usize, align: usize) -> Option<Pa> {
        if n == 0 || !align.is_power_of_two() {
            return None;
        }
        self.drain_zeroed();
        let base_idx = self.base / PAGE_SIZE;
        // First index whose physical page number is a multiple of `align`.
        let mut i = (base_idx.next_multiple_of(align)) - base_idx;
        while i + n <= self.npages {
            match self.last_busy(i, n) {
                None => {
                    self.set_range(i, n, true);
                    self.used += n;
                    return Some(self.base + i * PAGE_SIZE);
                }
                // Skip past the busy page to the next aligned start.
                Some(busy) => i = (base_idx + busy + 1).next_multiple_of(align) - base_idx,
            }
        }
        None
    }

    /// Bits [i, i+n) of word `w`'s range as a mask over that word.
    fn word_mask(w: usize, i: usize, n: usize) -> u64 {
        let lo = i.max(w * 64) - w * 64;
        let hi = (i + n).min(w * 64 + 64) - w * 64;
        if hi - lo == 64 {
            u64::MAX
        } else {
            ((1u64 << (hi - lo)) - 1) << lo
        }
    }

    /// The highest in-use page of [i, i+n), a word at a time.
    fn last_busy(&self, i: usize, n: usize) -> Option<usize> {
        for w in (i / 64..(i + n).div_ceil(64)).rev() {
            let busy = self.bits[w] & Self::word_mask(w, i, n);
            if busy != 0 {
                return Some(w * 64 + 63 - busy.leading_zeros() as usize);
            }
        }
        None
    }

    fn set_range(&mut self, i: usize, n: usize, v: bool) {
        for w in i / 64..(i + n).div_ceil(64) {
            let m = Self::word_mask(w, i, n);
            if v {
                self.bits[w] |= m;
            } else {
                self.bits[w] &= !m;
            }
            self.summarize(w);
        }
    }

    /// Return `n` contiguous pages from `pa` at once (a word of the bitmap per 64 pages).
    /// Every page must be allocated; if one is not (a kernel bug), they are freed one by one
    /// so the counts stay right.
    pub fn free_run(&mut self, pa: Pa, n: usize) {
        if n == 1 {
            return self.free_page(pa); // a word's bit, without the run's masks
        }
        let ok = self.contains(pa)
            && pa.is_multiple_of(PAGE_SIZE)
            && n <= self.npages - (pa - self.base) / PAGE_SIZE;
        let i = (pa - self.base) / PAGE_SIZE;
        if ok && i >= self.meta && self.all_busy(i, n) {
            self.set_range(i, n, false);
            self.used -= n;
        } else {
            for k in 0..n {
                self.free_page(pa + k * PAGE_SIZE);
            }
        }
    }

    fn all_busy(&self, i: usize, n: usize) -> bool {
        (i / 64..(i + n).div_ceil(64)).all(|w| {
            let m = Self::word_mask(w, i, n);
            self.bits[w] & m == m
        })
    }

    /// Return a page. Freeing a page that is not allocated is a kernel bug; it is ignored
    /// (and caught in debug builds) rather than corrupting the counts.
    pub fn free_page(&mut self, pa: Pa) {
        debug_assert!(
            self.contains(pa) && pa.is_multiple_of(PAGE_SIZE),
            "free of foreign page {pa:#x}"
        );
        if !self.contains(pa) || !pa.is_multiple_of(PAGE_SIZE) {
            return;
        }
        let i = (pa - self.base) / PAGE_SIZE;
        debug_assert!(self.get(i) && i >= self.meta, "double free of page {pa:#x}");
        if self.get(i) && i >= self.meta {
            self.set(i, false);
            self.used -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phys::fakeram;

    fn new_alloc(pages: usize) -> PageAlloc {
        let (base, size) = fakeram::slice();
        assert!(pages * PAGE_SIZE <= size);
        // SAFETY: the fake RAM slice is ours alone.
        unsafe { PageAlloc::new(base, pages) }
    }

    #[test]
    fn counts_track_alloc_and_free() {
        let mut a = new_alloc(1000);
        let total = a.total();
        assert_eq!(total, 999, "one page of bitmap");
        let p = a.alloc().unwrap();
        let q = a.alloc().unwrap();
        assert_ne!(p, q);
        assert_eq!((a.used(), a.free()), (2, total - 2));
        a.free_page(p);
        a.free_page(q);
        assert_eq!((a.used(), a.free()), (0, total));
    }

    #[test]
    fn exhausts_then_recovers() {
        let mut a = new_alloc(130);
        let mut got = std::vec::Vec::new();
        while let Some(p) = a.alloc() {
            got.push(p);
        }
        assert_eq!(got.len(), a.total());
        assert_eq!(a.free(), 0);
        let mut sorted = got.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), got.len(), "no page handed out twice");
        for p in got {
            a.free_page(p);
        }
        assert_eq!(a.used(), 0);
    }

    #[test]
    fn zeroed_page_reads_zero() {
        let mut a = new_alloc(16);
        let p = a.alloc().unwrap();
        crate::phys::write_phys(p, &[0xAA; PAGE_SIZE]);
        a.free_page(p);
        let z = a.alloc_zeroed().unwrap();
        assert_eq!(z, p);
        let mut buf = [1u8; PAGE_SIZE];
        crate::phys::read_phys(z, &mut buf);
        assert!(buf.iter().all(|&b| b == 0));
    }

    #[test]
    fn contiguous_aligned_runs() {
        let mut a = new_alloc(2048);
        let _ = a.alloc().unwrap(); // fragment the start
        let run = a.alloc_contig(512, 512).unwrap();
        assert_eq!(run % (2 << 20), 0, "2 MiB aligned");
        assert_eq!(a.used(), 513);
        for i in 0..512 {
            a.free_page(run + i * PAGE_SIZE);
        }
        assert!(a.alloc_contig(4096, 1).is_none(), "larger than the pool");
        assert_eq!(a.used(), 1);
    }

    #[test]
    fn runs_are_found_and_freed_a_word_at_a_time() {
        let mut a = new_alloc(4096);
        // One page taken in every 2 MiB stretch but the last: only that one is a run.
        let mut held = std::vec::Vec::new();
        while let Some(p) = a.alloc() {
            held.push(p);
        }
        for &p in &held {
            let idx = (p - a.base) / PAGE_SIZE;
            if idx % 512 != 7 || idx >= 3584 {
                a.free_page(p);
            }
        }
        let used = a.used();
        let run = a.alloc_contig(512, 512).expect("the last 2 MiB");
        assert!(run >= a.base + 3584 * PAGE_SIZE - 512 * PAGE_SIZE);
        assert_eq!(a.used(), used + 512);
        assert!(a.alloc_contig(512, 512).is_none());
        a.free_run(run, 512);
        assert_eq!(a.used(), used);
        // Odd boundaries: 70 pages from a page that is not word aligned.
        let p = a.alloc_contig(70, 1).unwrap();
        a.free_run(p, 70);
        assert_eq!(a.used(), used);
    }

    /// Every summary bit says whether its word has a free page.
    fn summary_matches(a: &PageAlloc) {
        for (w, &word) in a.bits.iter().enumerate() {
            let bit = a.nonfull[w / 64] >> (w % 64) & 1 == 1;
            assert_eq!(bit, word != u64::MAX, "summary of word {w}");
        }
    }

    #[test]
    fn the_summary_finds_the_last_free_page_anywhere() {
        // 8192 pages: 128 bitmap words, two summary words.
        let mut a = new_alloc(8192);
        let mut held = std::vec::Vec::new();
        while let Some(p) = a.alloc() {
            held.push(p);
        }
        summary_matches(&a);
        assert!(a.nonfull.iter().all(|&s| s == 0), "all full");
        // Free one page at a time at places before and after the hint, and in the other
        // summary word: each is the one found next.
        for &idx in &[8191usize, 3, 4100, 64, 4095, 100] {
            let p = a.base + idx * PAGE_SIZE;
            a.free_page(p);
            summary_matches(&a);
            assert_eq!(a.alloc(), Some(p), "page {idx}");
            summary_matches(&a);
        }
        // Runs and their frees keep it right too.
        for &p in held.iter().skip(1000).take(1024) {
            a.free_page(p);
        }
        summary_matches(&a);
        let run = a.alloc_contig(512, 512).unwrap();
        summary_matches(&a);
        a.free_run(run, 512);
        summary_matches(&a);
    }

    #[test]
    fn double_free_is_ignored_in_release_counts() {
        let mut a = new_alloc(16);
        let p = a.alloc().unwrap();
        a.free_page(p);
        assert_eq!(a.used(), 0);
        if !cfg!(debug_assertions) {
            a.free_page(p);
            assert_eq!(a.used(), 0);
        }
    }

    #[test]
    fn the_summary_starts_with_one_bit_per_bitmap_word() {
        for pages in [1, 63, 64, 65, 4095, 4096, 4097, 8191, 8192] {
            let a = new_alloc(pages);
            let words = pages.div_ceil(64);
            for w in 0..a.nonfull.len() * 64 {
                let want = w < words && a.bits[w] != u64::MAX;
                assert_eq!(
                    a.nonfull[w / 64] >> (w % 64) & 1 == 1,
                    want,
                    "{pages} pages, word {w}"
                );
            }
            assert_eq!(a.total(), pages - a.meta);
            fakeram::give_back(a.base);
        }
    }
}
