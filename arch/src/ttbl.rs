//! aarch64 translation tables, 4 KiB granule, 39-bit VA (three levels: L1 1 GiB, L2 2 MiB,
//! L3 4 KiB). Pure table manipulation over the kernel's linear map, so it is unit-tested on
//! the host over fake RAM; TLB maintenance is the caller's (see `mmu`).

use abi::Errno;
use kernel::pgalloc::PageAlloc;
use kernel::phys::{p2v, Pa, PAGE_SIZE};

pub const ENTRIES: usize = 512;
pub const L2_BLOCK: usize = 2 << 20;
pub const L1_BLOCK: usize = 1 << 30;
/// Size of the VA range one root table covers.
pub const VA_BITS: usize = 39;

pub mod desc {
    pub const VALID: u64 = 1 << 0;
    /// Table (L1/L2) or page (L3) when set; block (L1/L2) when clear.
    pub const TABLE: u64 = 1 << 1;
    pub const ATTR_DEVICE: u64 = 0 << 2;
    pub const ATTR_NORMAL: u64 = 1 << 2;
    pub const AP_EL0: u64 = 1 << 6;
    pub const AP_RO: u64 = 1 << 7;
    pub const SH_INNER: u64 = 3 << 8;
    pub const AF: u64 = 1 << 10;
    pub const NG: u64 = 1 << 11;
    pub const PXN: u64 = 1 << 53;
    pub const UXN: u64 = 1 << 54;
    /// Software bit: the page belongs to the mapping and is freed when it is unmapped.
    pub const OWNED: u64 = 1 << 55;
    pub const ADDR: u64 = 0x0000_ffff_ffff_f000;
}
use desc::*;

/// The access bits `protect` rewrites; the address and OWNED stay.
pub const PROT_BITS: u64 = AP_EL0 | AP_RO | UXN;

/// Attributes for a user mapping with no access at all from EL0 (PROT_NONE): the entry stays
/// valid, so the page and its ownership are kept, but only EL1 could reach it, and the
/// kernel's user-copy routines refuse pages without EL0 access.
pub fn user_none_attrs(owned: bool) -> u64 {
    (user_attrs(false, false, owned) & !AP_EL0) | AP_RO | UXN
}

/// Attributes for a user mapping (non-global, never executable at EL1).
pub fn user_attrs(write: bool, exec: bool, owned: bool) -> u64 {
    let mut a = VALID | ATTR_NORMAL | SH_INNER | AF | NG | PXN | AP_EL0;
    if !write {
        a |= AP_RO;
    }
    if !exec || write {
        a |= UXN;
    }
    if owned {
        a |= OWNED;
    }
    a
}

/// Attributes for kernel mappings: W^X.
pub fn kernel_attrs(write: bool, exec: bool) -> u64 {
    let mut a = VALID | ATTR_NORMAL | SH_INNER | AF | UXN;
    if !write {
        a |= AP_RO;
    }
    if !exec || write {
        a |= PXN;
    }
    a
}

pub const DEVICE_ATTRS: u64 = VALID | AF | UXN | PXN | (2 << 2);

fn table(pa: Pa) -> &'static mut [u64; ENTRIES] {
    // SAFETY: pa is a page-aligned table page owned by this tree, reached via the linear map.
    unsafe { &mut *(p2v(pa) as *mut [u64; ENTRIES]) }
}

fn idx(va: usize, level: usize) -> usize {
    (va >> (12 + 9 * (3 - level))) & (ENTRIES - 1)
}

fn is_table(d: u64) -> bool {
    d & (VALID | TABLE) == VALID | TABLE
}

/// A translation-table tree rooted at an L1 table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tree {
    pub root: Pa,
}

/// What `lookup` found for an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leaf {
    pub pa: Pa,
    pub attrs: u64,
    /// Size of the mapping unit: 4 KiB, 2 MiB or 1 GiB.
    pub size: usize,
}

impl Tree {
    pub fn new(pg: &mut PageAlloc) -> Result<Tree, Errno> {
        Ok(Tree {
            root: pg.alloc_zeroed().ok_or(Errno::ENOMEM)?,
        })
    }

    /// The leaf descriptor covering `va`.
    pub fn lookup(&self, va: usize) -> Option<Leaf> {
        if va >> VA_BITS != 0 && va >> VA_BITS != (usize::MAX >> VA_BITS) {
            return None;
        }
        let mut t = self.root;
        for level in 1..=3 {
            let d = table(t)[idx(va, level)];
            if d & VALID == 0 {
                return None;
            }
            let size = 1usize << (12 + 9 * (3 - level));
            if level == 3 || !is_table(d) {
                let base = (d & ADDR) as usize & !(size - 1);
                return Some(Leaf {
                    pa: base + (va & (size - 1)),
                    attrs: d & !ADDR,
                    size,
                });
            }
            t = (d & ADDR) as usize;
        }
        None
    }

    /// The table at `level` (2 or 3) for `va`, created if absent, and the descriptor that
    /// points at it (whose entry count the caller keeps up to date).
    fn table_for(
        &mut self,
        pg: &mut PageAlloc,
        va: usize,
        level: usize,
    ) -> Result<(Pa, *mut u64), Errno> {
        let mut t = self.root;
        let mut parent: *mut u64 = core::ptr::null_mut();
        for l in 1..level {
            let e = &mut table(t)[idx(va, l)];
            if *e & VALID == 0 {
                let n = pg.alloc_zeroed().ok_or(Errno::ENOMEM)?;
                *e = n as u64 | VALID | TABLE;
                if !parent.is_null() {
                    // SAFETY: `parent` is the live descriptor of the table that holds `e`.
                    add_count(unsafe { &mut *parent }, 1);
                }
            } else if !is_table(*e) {
                return Err(Errno::EINVAL); // a block is in the way
            }
            parent = e;
            t = (*e & ADDR) as usize;
        }
        Ok((t, parent))
    }

    /// Map `pages` at `va` with `attrs`. Runs of 512 physically contiguous, 2 MiB-aligned pages
    /// at a 2 MiB-aligned address become one block descriptor. `runs` bit k says the caller
    /// knows `pages[512k..512(k+1)]` to be such a run (its owner allocated it as one), so
    /// its 512 entries need not be read; other blocks are checked here. EINVAL if anything
    /// in the range is already mapped; ENOMEM if a table cannot be had. Either way nothing
    /// is left mapped.
    pub fn map(
        &mut self,
        pg: &mut PageAlloc,
        va: usize,
        pages: &[Pa],
        attrs: u64,
        runs: u64,
    ) -> Result<(), Errno> {
        if !va.is_multiple_of(PAGE_SIZE)
            || va
                .checked_add(pages.len() * PAGE_SIZE)
                .is_none_or(|e| e > 1 << VA_BITS)
        {
            return Err(Errno::EINVAL);
        }
        let leaf = (attrs & !ADDR) | VALID | TABLE;
        let block = (attrs & !TABLE & !ADDR) | VALID;
        let mut i = 0;
        while i < pages.len() {
            let v = va + i * PAGE_SIZE;
            let r = if block_run(v, &pages[i..], known_run(runs, i)) {
                self.table_for(pg, v, 2).and_then(|(t, parent)| {
                    let e = &mut table(t)[idx(v, 2)];
                    if *e & VALID != 0 {
                        return Err(Errno::EINVAL);
                    }
                    *e = pages[i] as u64 | block;
                    // SAFETY: the descriptor of the L2 table `t`.
                    add_count(unsafe { &mut *parent }, 1);
                    Ok(ENTRIES)
                })
            } else {
                // As many pages as this L3 table holds, in one pass.
                self.table_for(pg, v, 3).and_then(|(t, parent)| {
                    let start = idx(v, 3);
                    let n = (pages.len() - i).min(ENTRIES - start);
                    let ents = &mut table(t)[start..start + n];
                    for (k, (e, &pa)) in ents.iter_mut().zip(&pages[i..i + n]).enumerate() {
                        if *e & VALID != 0 {
                            // SAFETY: the descriptor of the L3 table `t`.
                            add_count(unsafe { &mut *parent }, k as isize);
                            i += k;
                            return Err(Errno::EINVAL);
                        }
                        *e = pa as u64 | leaf;
                    }
                    // SAFETY: as above.
                    add_count(unsafe { &mut *parent }, n as isize);
                    Ok(n)
                })
            };
            match r {
                Ok(n) => i += n,
                Err(e) => {
                    self.unmap(pg, va, i, false, &mut |_, _, _| {});
                    self.prune(pg, va + i * PAGE_SIZE);
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Unmap `npages` from `va`. Owned pages are freed when `free_owned`; tables left empty
    /// are freed. Blocks only partly unmapped are split first. `removed(va, n, step)` is told
    /// which addresses to invalidate in the TLB: once per block (step 2 MiB), and once per
    /// run of pages cleared in one L3 table (every page of the run, step 4 KiB).
    pub fn unmap(
        &mut self,
        pg: &mut PageAlloc,
        va: usize,
        npages: usize,
        free_owned: bool,
        removed: &mut dyn FnMut(usize, usize, usize),
    ) {
        let end = va + npages * PAGE_SIZE;
        let mut v = va;
        while v < end {
            let e1 = &mut table(self.root)[idx(v, 1)];
            let next_l1 = (v & !(L1_BLOCK - 1)) + L1_BLOCK;
            if !is_table(*e1) {
                v = next_l1; // unmapped (1 GiB blocks are kernel-only and never unmapped here)
                continue;
            }
            let t2 = (*e1 & ADDR) as usize;
            while v < end && v < next_l1 {
                let next_l2 = (v & !(L2_BLOCK - 1)) + L2_BLOCK;
                let e2 = &mut table(t2)[idx(v, 2)];
                if *e2 & VALID == 0 {
                    v = next_l2;
                    continue;
                }
                if !is_table(*e2) {
                    if v.is_multiple_of(L2_BLOCK) && end >= next_l2 {
                        let d = core::mem::take(e2);
                        add_count(e1, -1);
                        if free_owned && d & OWNED != 0 {
                            let base = (d & ADDR) as usize;
                            for k in 0..ENTRIES {
                                pg.free_page(base + k * PAGE_SIZE);
                            }
                        }
                        removed(v, 1, L2_BLOCK);
                        v = next_l2;
                        continue;
                    }
                    if split(pg, e2).is_err() {
                        // No page for the split: drop the whole block rather than leave a
                        // mapping the caller asked to remove. The kernel splits the blocks at
                        // a range's ends before it unmaps (mm::mmap::split_edges), so this is
                        // a last resort.
                        *e2 = 0;
                        add_count(e1, -1);
                        removed(v, 1, L2_BLOCK);
                        v = next_l2;
                        continue;
                    }
                }
                let t3 = (*e2 & ADDR) as usize;
                let stop = end.min(next_l2);
                let first = idx(v, 3);
                let n = (stop - v) / PAGE_SIZE;
                let mut cleared = 0;
                let ents = &mut table(t3)[first..first + n];
                if free_owned {
                    for e in ents.iter_mut() {
                        if *e & VALID != 0 {
                            if *e & OWNED != 0 {
                                pg.free_page((*e & ADDR) as usize);
                            }
                            *e = 0;
                            cleared += 1;
                        }
                    }
                } else {
                    // Shared pages: nothing to free, so a branch-free pass (hot for shmdt).
                    for e in ents.iter_mut() {
                        cleared += (*e & VALID) as isize;
                        *e = 0;
                    }
                }
                if cleared > 0 {
                    removed(v, n, PAGE_SIZE);
                }
                v = stop;
                add_count(e2, -cleared);
                if count(*e2) == 0 {
                    *e2 = 0;
                    pg.free_zeroed(t3);
                    add_count(e1, -1);
                }
            }
            if count(*e1) == 0 {
                *e1 = 0;
                pg.free_zeroed(t2);
            }
        }
    }

    /// Give the valid entries in `npages` from `va` the access bits of `attrs` (PROT_BITS of
    /// it), keeping their pages and ownership; what is not mapped stays so. A block only
    /// partly in the range is split first (ENOMEM if no table page can be had: then the
    /// entries before it have changed, the rest not). `changed(va, n, step)` as for unmap.
    pub fn protect(
        &mut self,
        pg: &mut PageAlloc,
        va: usize,
        npages: usize,
        attrs: u64,
        changed: &mut dyn FnMut(usize, usize, usize),
    ) -> Result<(), Errno> {
        let bits = attrs & PROT_BITS;
        let end = va + npages * PAGE_SIZE;
        let mut v = va;
        while v < end {
            let e1 = table(self.root)[idx(v, 1)];
            let next_l1 = (v & !(L1_BLOCK - 1)) + L1_BLOCK;
            if !is_table(e1) {
                v = next_l1;
                continue;
            }
            let t2 = (e1 & ADDR) as usize;
            while v < end && v < next_l1 {
                let next_l2 = (v & !(L2_BLOCK - 1)) + L2_BLOCK;
                let e2 = &mut table(t2)[idx(v, 2)];
                if *e2 & VALID == 0 {
                    v = next_l2;
                    continue;
                }
                if !is_table(*e2) {
                    if v.is_multiple_of(L2_BLOCK) && end >= next_l2 {
                        *e2 = (*e2 & !PROT_BITS) | bits;
                        changed(v, 1, L2_BLOCK);
                        v = next_l2;
                        continue;
                    }
                    split(pg, e2)?;
                }
                let t3 = (*e2 & ADDR) as usize;
                let stop = end.min(next_l2);
                let first = idx(v, 3);
                let n = (stop - v) / PAGE_SIZE;
                for e in table(t3)[first..first + n].iter_mut() {
                    if *e & VALID != 0 {
                        *e = (*e & !PROT_BITS) | bits;
                    }
                }
                changed(v, n, PAGE_SIZE);
                v = stop;
            }
        }
        Ok(())
    }

    /// The L2 entry covering `va` if it points at an L3 table, and that table (the fast
    /// paths' walk: the linear map's offset is read once for all three levels).
    #[inline]
    fn l3_parent(&self, va: usize) -> Option<(&'static mut u64, &'static mut [u64; ENTRIES])> {
        let off = p2v(0) as usize;
        let at = |pa: u64| {
            let t = (pa & ADDR) as usize;
            // SAFETY: a table page of this tree (the root, or one a valid table descriptor
            // of it points at), reached via the linear map.
            unsafe { &mut *(t.wrapping_add(off) as *mut [u64; ENTRIES]) }
        };
        let e1 = at(self.root as u64)[idx(va, 1)];
        if !is_table(e1) {
            return None;
        }
        let e2 = &mut at(e1)[idx(va, 2)];
        if !is_table(*e2) {
            return None;
        }
        let t3 = at(*e2);
        Some((e2, t3))
    }

    /// Fast path of `map` for the common small attach: fewer than 512 pages inside one L3
    /// table that already exists, none of their entries in use. false when it does not
    /// apply: nothing was changed (and `map` gives the answer, EINVAL for an overlap).
    #[inline(always)]
    pub fn map_in_table(&mut self, va: usize, pages: &[Pa], attrs: u64) -> bool {
        let start = idx(va, 3);
        if !va.is_multiple_of(PAGE_SIZE) || pages.is_empty() || pages.len() > ENTRIES - start {
            return false;
        }
        let Some((e2, t3)) = self.l3_parent(va) else {
            return false;
        };
        let leaf = (attrs & !ADDR) | VALID | TABLE;
        let ents = &mut t3[start..start + pages.len()];
        // One page (the common attach) without the loop's set-up.
        if let ([e], [pa]) = (&mut *ents, pages) {
            if *e & VALID != 0 {
                return false;
            }
            *e = *pa as u64 | leaf;
            add_count(e2, 1);
            return true;
        }
        // One pass, two entries a step (a pair load, test and store): each pair checked,
        // then written; an entry in use undoes the ones written before it (they were free).
        let n = ents.len();
        let mut k = 0;
        for (e, p) in ents.chunks_exact_mut(2).zip(pages.chunks_exact(2)) {
            if (e[0] | e[1]) & VALID != 0 {
                break;
            }
            e[0] = p[0] as u64 | leaf;
            e[1] = p[1] as u64 | leaf;
            k += 2;
        }
        // A pair left unwritten (the loop stopped at one in use), or an odd last entry in use.
        if k + 2 <= n || k < n && ents[k] & VALID != 0 {
            return undo(&mut ents[..k]);
        }
        if k < n {
            ents[k] = pages[k] as u64 | leaf;
        }
        add_count(e2, n as isize);
        true
    }

    /// Fast path of `unmap` for shared pages inside one L3 table, in one pass: Some(emptied)
    /// when it applied (the entries cleared and counted; `emptied`: the table has no entry
    /// left, and the caller frees it with `prune`), None when it does not apply (nothing
    /// changed). The caller invalidates every page.
    #[inline]
    pub fn unmap_in_table(&mut self, va: usize, npages: usize) -> Option<bool> {
        let start = idx(va, 3);
        if npages == 0 || npages > ENTRIES - start {
            return None;
        }
        let (e2, t3) = self.l3_parent(va)?;
        // One page (the common detach) without the loop's set-up.
        if npages == 1 {
            let e = &mut t3[start];
            let valid = (*e & VALID) as isize;
            *e = 0;
            add_count(e2, -valid);
            return Some(count(*e2) == 0);
        }
        // Two entries a step (a pair load and a pair store of zero), each counted if valid.
        let ents = &mut t3[start..start + npages];
        let mut valid = 0;
        let mut pairs = ents.chunks_exact_mut(2);
        for p in &mut pairs {
            valid += ((p[0] & VALID) + (p[1] & VALID)) as isize;
            // SAFETY: plain stores to live table entries; volatile only so that the compiler
            // does not turn the loop into a call to memset.
            unsafe {
                core::ptr::write_volatile(&mut p[0], 0);
                core::ptr::write_volatile(&mut p[1], 0);
            }
        }
        for e in pairs.into_remainder() {
            valid += (*e & VALID) as isize;
            *e = 0;
        }
        add_count(e2, -valid);
        Some(count(*e2) == 0)
    }

    /// Free the tables on the walk to `va` whose counts reached zero. Out of line: the detach
    /// fast path calls it rarely and keeps no registers for it.
    #[inline(never)]
    pub fn prune(&mut self, pg: &mut PageAlloc, va: usize) {
        let e1 = &mut table(self.root)[idx(va, 1)];
        if !is_table(*e1) {
            return;
        }
        let t2 = (*e1 & ADDR) as usize;
        let e2 = &mut table(t2)[idx(va, 2)];
        if is_table(*e2) && count(*e2) == 0 {
            pg.free_zeroed((*e2 & ADDR) as usize);
            *e2 = 0;
            add_count(e1, -1);
        }
        if count(*e1) == 0 {
            *e1 = 0;
            pg.free_zeroed(t2);
        }
    }

    /// Free every table, and every owned page, of the tree (the root included).
    pub fn destroy(self, pg: &mut PageAlloc) {
        let mut t = self;
        while !t.destroy_some(pg, usize::MAX) {}
    }

    /// Free tables and owned pages for about `budget` units of work (a page freed, or 16
    /// table entries looked at; a table once started is finished, so a step may go one
    /// table's 512 pages over); true once the whole tree, root included, is gone. Entries
    /// are cleared as their subtrees go, so each call starts again from the root without
    /// keeping any state of its own.
    pub fn destroy_some(&mut self, pg: &mut PageAlloc, mut budget: usize) -> bool {
        let root = table(self.root);
        for e1 in root.iter_mut() {
            if !is_table(*e1) {
                continue;
            }
            let t2 = (*e1 & ADDR) as usize;
            for e2 in table(t2).iter_mut() {
                let d2 = *e2;
                if d2 & VALID == 0 {
                    continue;
                }
                if budget == 0 {
                    return false;
                }
                if !is_table(d2) {
                    if d2 & OWNED != 0 {
                        pg.free_run((d2 & ADDR) as usize, ENTRIES);
                    }
                    budget = budget.saturating_sub(ENTRIES / 64);
                } else {
                    let t3 = (d2 & ADDR) as usize;
                    let mut freed = 0;
                    // The L2 descriptor counts the table's valid entries: the scan stops at
                    // the last one (a sparse table costs a few entries, not 512).
                    let mut left = count(d2);
                    for &d3 in table(t3).iter() {
                        if left <= 0 {
                            break;
                        }
                        if d3 & VALID != 0 {
                            left -= 1;
                            if d3 & OWNED != 0 {
                                pg.free_page((d3 & ADDR) as usize);
                                freed += 1;
                            }
                        }
                    }
                    pg.free_page(t3);
                    budget = budget.saturating_sub(freed + ENTRIES / 16);
                }
                *e2 = 0;
            }
            pg.free_page(t2);
            *e1 = 0;
        }
        pg.free_page(self.root);
        true
    }

    /// Pages used by the tables of this tree (root included).
    /// An L2 table's descriptor counts its valid entries, so the scan of each stops once it
    /// has seen them all instead of looking at all 512.
    pub fn table_pages(&self) -> usize {
        let mut n = 1;
        for &d1 in table(self.root).iter().filter(|&&d| is_table(d)) {
            n += 1;
            let mut left = count(d1);
            for &d2 in table((d1 & ADDR) as usize).iter() {
                if left <= 0 {
                    break;
                }
                if d2 & VALID != 0 {
                    left -= 1;
                    n += is_table(d2) as usize;
                }
            }
        }
        n
    }

    /// Map a physical range with kernel attributes using the largest blocks that fit.
    pub fn map_kernel_range(
        &mut self,
        pg: &mut PageAlloc,
        va: usize,
        pa: Pa,
        len: usize,
        attrs: u64,
    ) -> Result<(), Errno> {
        let mut off = 0;
        while off < len {
            let (v, p) = (va + off, pa + off);
            if v % L2_BLOCK == 0 && p % L2_BLOCK == 0 && len - off >= L2_BLOCK {
                let (t, parent) = self.table_for(pg, v, 2)?;
                table(t)[idx(v, 2)] = p as u64 | (attrs & !TABLE) | VALID;
                // SAFETY: the descriptor of the L2 table `t`.
                add_count(unsafe { &mut *parent }, 1);
                off += L2_BLOCK;
            } else {
                // Every page up to the end of this L3 table (or of the range) in one go:
                // one table lookup per table, not per page.
                let (t, parent) = self.table_for(pg, v, 3)?;
                let first = idx(v, 3);
                let n = (ENTRIES - first).min((len - off) / PAGE_SIZE).max(1);
                let mut d = p as u64 | attrs | VALID | TABLE;
                for e in &mut table(t)[first..first + n] {
                    *e = d;
                    d += PAGE_SIZE as u64;
                }
                // SAFETY: the descriptor of the L3 table `t`.
                add_count(unsafe { &mut *parent }, n as isize);
                off += n * PAGE_SIZE;
            }
        }
        Ok(())
    }

    /// Map a 1 GiB block (kernel device window).
    pub fn map_l1_block(&mut self, va: usize, pa: Pa, attrs: u64) {
        table(self.root)[idx(va, 1)] = pa as u64 | (attrs & !TABLE) | VALID;
    }
}

/// Valid entries in the table a table descriptor points at, kept in the descriptor's
/// bits [11:2], which the MMU ignores in table descriptors. Lets unmap free a table the moment
/// it empties without scanning it.
const COUNT_SHIFT: u32 = 2;
const COUNT_MASK: u64 = 0x3ff << COUNT_SHIFT;

/// Clear entries a failed `map_in_table` wrote (they were free before it): false, its answer.
#[cold]
fn undo(ents: &mut [u64]) -> bool {
    for e in ents.iter_mut() {
        // SAFETY: a plain store to a live table entry; volatile only so that the compiler
        // does not turn the loop into a call to memset.
        unsafe { core::ptr::write_volatile(e, 0) };
    }
    false
}

fn count(d: u64) -> isize {
    ((d & COUNT_MASK) >> COUNT_SHIFT) as isize
}

fn add_count(d: &mut u64, delta: isize) {
    let n = count(*d) + delta;
    debug_assert!((0..=ENTRIES as isize).contains(&n), "table count {n}");
    *d = (*d & !COUNT_MASK) | ((n as u64) << COUNT_SHIFT);
}

/// Whether `runs` (as `Tree::map` takes it) says the block starting at page index `i` is a run.
#[inline]
fn known_run(runs: u64, i: usize) -> bool {
    i.is_multiple_of(ENTRIES) && runs.checked_shr((i / ENTRIES) as u32).unwrap_or(0) & 1 != 0
}

/// Whether `pages` starts with 512 physically contiguous pages, 2 MiB-aligned, to map at the
/// 2 MiB-aligned `va` as one block (`known`: the caller vouches for the contiguity).
fn block_run(va: usize, pages: &[Pa], known: bool) -> bool {
    if !va.is_multiple_of(L2_BLOCK) || pages.len() < ENTRIES || !pages[0].is_multiple_of(L2_BLOCK) {
        return false;
    }
    if known {
        debug_assert!(block_run(va, pages, false), "a run that is not one");
        return true;
    }
    // Four entries per step, differences OR-ed together: this check is most of the cost of
    // attaching a 2 MiB segment.
    let mut want = pages[0];
    for q in pages[..ENTRIES].chunks_exact(4) {
        let d = (q[0] ^ want)
            | (q[1] ^ (want + PAGE_SIZE))
            | (q[2] ^ (want + 2 * PAGE_SIZE))
            | (q[3] ^ (want + 3 * PAGE_SIZE));
        if d != 0 {
            return false;
        }
        want += 4 * PAGE_SIZE;
    }
    true
}

/// Replace the L2 block descriptor `e2` by a full L3 table of the same pages.
fn split(pg: &mut PageAlloc, e2: &mut u64) -> Result<(), Errno> {
    let t3 = pg.alloc().ok_or(Errno::ENOMEM)?;
    let base = (*e2 & ADDR) as usize;
    let attrs = *e2 & !ADDR;
    for (k, e) in table(t3).iter_mut().enumerate() {
        *e = (base + k * PAGE_SIZE) as u64 | attrs | TABLE;
    }
    *e2 = t3 as u64 | VALID | TABLE;
    add_count(e2, ENTRIES as isize);
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use kernel::phys::fakeram;
    use std::vec::Vec;

    fn pool() -> PageAlloc {
        let (base, size) = fakeram::slice();
        // SAFETY: the fake RAM slice is ours alone.
        unsafe { PageAlloc::new(base, size / PAGE_SIZE) }
    }

    const UVA: usize = 0x20_0000_0000;

    #[test]
    fn map_lookup_unmap_reclaims_tables() {
        let mut pg = pool();
        let base = pg.used();
        let mut t = Tree::new(&mut pg).unwrap();
        let pages: Vec<Pa> = (0..3).map(|_| pg.alloc_zeroed().unwrap()).collect();
        t.map(
            &mut pg,
            UVA + 0x1000,
            &pages,
            user_attrs(true, false, true),
            0,
        )
        .unwrap();
        assert_eq!(t.table_pages(), 3, "root + L2 + L3");
        let l = t.lookup(UVA + 0x2abc).unwrap();
        assert_eq!(l.pa, pages[1] + 0xabc);
        assert_eq!(l.size, PAGE_SIZE);
        assert!(
            l.attrs & NG != 0 && l.attrs & UXN != 0 && l.attrs & PXN != 0 && l.attrs & AP_EL0 != 0
        );
        assert!(t.lookup(UVA).is_none());
        assert_eq!(
            t.map(&mut pg, UVA + 0x3000, &pages[..1], 0, 0),
            Err(Errno::EINVAL),
            "overlap"
        );
        t.unmap(&mut pg, UVA + 0x1000, 3, true, &mut |_, _, _| {});
        assert!(t.lookup(UVA + 0x1000).is_none());
        assert_eq!(t.table_pages(), 1, "empty tables freed");
        assert_eq!(pg.used(), base + 1, "owned pages freed");
        t.destroy(&mut pg);
        assert_eq!(pg.used(), base);
    }

    #[test]
    fn destroy_in_steps_frees_everything_and_stops_on_budget() {
        let mut pg = pool();
        let base = pg.used();
        let mut t = Tree::new(&mut pg).unwrap();
        // 3000 owned pages across several L3 tables and two L1 entries.
        for (i, va) in [(0usize, UVA), (1, UVA + (1 << 30))] {
            let n = if i == 0 { 2000 } else { 1000 };
            // Every other page: no contiguous runs, so no blocks.
            let all: Vec<Pa> = (0..2 * n).map(|_| pg.alloc().unwrap()).collect();
            let pages: Vec<Pa> = all.iter().step_by(2).copied().collect();
            for p in all.iter().skip(1).step_by(2) {
                pg.free_page(*p);
            }
            t.map(&mut pg, va, &pages, user_attrs(true, false, true), 0)
                .unwrap();
        }
        let mut steps = 0;
        while !t.destroy_some(&mut pg, 600) {
            steps += 1;
            assert!(steps < 100);
        }
        // At most the budget plus one table's pages (512) per step: 3000 pages need 3.
        assert!(steps >= 2, "{steps} steps for 3000 pages at 600 a step");
        assert_eq!(pg.used(), base);
    }

    #[test]
    fn shared_pages_survive_unmap_and_destroy() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let p = pg.alloc().unwrap();
        let used = pg.used();
        t.map(&mut pg, UVA, &[p], user_attrs(false, false, false), 0)
            .unwrap();
        t.unmap(&mut pg, UVA, 1, true, &mut |_, _, _| {});
        assert_eq!(pg.used(), used);
        t.map(&mut pg, UVA, &[p], user_attrs(false, false, false), 0)
            .unwrap();
        t.destroy(&mut pg);
        assert_eq!(
            pg.used(),
            used - 1,
            "only the root went; the shared page stays"
        );
    }

    #[test]
    fn shared_mappings_are_user_non_global_execute_never() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let p = pg.alloc().unwrap();
        for (write, va) in [(false, UVA), (true, UVA + 0x10_0000)] {
            t.map(&mut pg, va, &[p], user_attrs(write, false, false), 0)
                .unwrap();
            let a = t.lookup(va).unwrap().attrs;
            assert!(a & AP_EL0 != 0 && a & NG != 0, "user, non-global");
            assert!(a & UXN != 0 && a & PXN != 0, "never executable");
            assert_eq!(a & AP_RO != 0, !write);
            assert_eq!(a & OWNED, 0, "not freed with the mapping");
        }
        // Two mappings, one table chain: unmapping both returns every table.
        t.unmap(&mut pg, UVA, 1, true, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 3);
        t.unmap(&mut pg, UVA + 0x10_0000, 1, true, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 1);
        assert!(pg.contains(p) && t.lookup(UVA).is_none());
    }

    #[test]
    fn entry_counts_free_tables_exactly_when_they_empty() {
        let mut pg = pool();
        let base = pg.used();
        let mut t = Tree::new(&mut pg).unwrap();
        let pages: Vec<Pa> = (0..700).map(|_| pg.alloc().unwrap()).collect();
        let used = pg.used();
        // 700 pages from 1.5 MiB into the region: 128 + 512 + 60 pages in three L3 tables.
        let va = UVA + 384 * PAGE_SIZE;
        t.map(&mut pg, va, &pages, user_attrs(true, false, false), 0)
            .unwrap();
        assert_eq!(t.table_pages(), 5, "root, L2, three L3");
        // A map that overlaps in the middle fails and leaves the old mapping whole.
        let more: Vec<Pa> = pages[..10].to_vec();
        assert_eq!(
            t.map(
                &mut pg,
                va + 695 * PAGE_SIZE,
                &more,
                user_attrs(true, false, false),
                0
            ),
            Err(Errno::EINVAL)
        );
        assert!(t.lookup(va + 699 * PAGE_SIZE).is_some());
        assert!(t.lookup(va + 700 * PAGE_SIZE).is_none(), "rolled back");
        // Unmapping the first table's part frees that table only.
        t.unmap(&mut pg, va, 128, false, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 4);
        // The second table stays until its last page goes.
        t.unmap(&mut pg, va + 128 * PAGE_SIZE, 500, false, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 4);
        assert!(t.lookup(va + 650 * PAGE_SIZE).is_some());
        t.unmap(&mut pg, va + 600 * PAGE_SIZE, 100, false, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 1, "all tables freed");
        assert_eq!(pg.used(), used, "only the root is left; shared pages kept");
        t.destroy(&mut pg);
        for p in pages {
            pg.free_page(p);
        }
        assert_eq!(pg.used(), base);
    }

    #[test]
    fn fast_paths_only_touch_an_existing_table() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let a = user_attrs(true, false, false);
        let p: Vec<Pa> = (0..4).map(|_| pg.alloc().unwrap()).collect();
        // No table yet: the fast path declines and changes nothing.
        assert!(!t.map_in_table(UVA, &p[..1], a));
        assert_eq!(t.table_pages(), 1);
        t.map(&mut pg, UVA, &p[..1], a, 0).unwrap();
        // Now it applies: maps and keeps the count; an overlap is declined unchanged.
        assert!(t.map_in_table(UVA + PAGE_SIZE, &p[1..3], a));
        assert!(!t.map_in_table(UVA + 2 * PAGE_SIZE, &p[3..], a));
        assert!(t.lookup(UVA + 3 * PAGE_SIZE).is_none());
        assert_eq!(t.lookup(UVA + 2 * PAGE_SIZE).unwrap().pa, p[2]);
        // Crossing the end of the L3 table: declined.
        assert!(!t.map_in_table(UVA + 511 * PAGE_SIZE, &p[..2], a));
        // Unmapping part keeps the table; unmapping the rest says the table is empty, and
        // prune frees it and the L2 table above it.
        assert_eq!(t.unmap_in_table(UVA + PAGE_SIZE, 2), Some(false));
        assert!(t.lookup(UVA + PAGE_SIZE).is_none() && t.lookup(UVA).is_some());
        assert_eq!(t.table_pages(), 3);
        assert_eq!(t.unmap_in_table(UVA, 1), Some(true), "emptied");
        assert!(t.lookup(UVA).is_none());
        t.prune(&mut pg, UVA);
        assert_eq!(t.table_pages(), 1);
        // No table there any more: declined.
        assert_eq!(t.unmap_in_table(UVA, 1), None);
        // A map that meets an entry in use half-way undoes what it wrote.
        t.map(&mut pg, UVA + 3 * PAGE_SIZE, &p[3..], a, 0).unwrap();
        assert!(
            !t.map_in_table(UVA + PAGE_SIZE, &p[..3], a),
            "entry 3 in use"
        );
        assert!((0..3).all(|k| t.lookup(UVA + k * PAGE_SIZE).is_none()));
        assert_eq!(t.lookup(UVA + 3 * PAGE_SIZE).unwrap().pa, p[3], "kept");
        assert_eq!(t.unmap_in_table(UVA + 3 * PAGE_SIZE, 1), Some(true));
        t.prune(&mut pg, UVA);
        assert_eq!(t.table_pages(), 1);
    }

    #[test]
    fn aligned_contiguous_run_becomes_a_block() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let run = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let pages: Vec<Pa> = (0..ENTRIES + 2)
            .map(|k| {
                if k < ENTRIES {
                    run + k * PAGE_SIZE
                } else {
                    pg.alloc().unwrap()
                }
            })
            .collect();
        t.map(&mut pg, UVA, &pages, user_attrs(true, false, false), 0)
            .unwrap();
        let l = t.lookup(UVA + 0x12345).unwrap();
        assert_eq!(l.size, L2_BLOCK);
        assert_eq!(l.pa, run + 0x12345);
        assert_eq!(t.lookup(UVA + L2_BLOCK + 0x1000).unwrap().size, PAGE_SIZE);
        assert_eq!(t.table_pages(), 3, "root, L2, one L3 for the tail");
        // Not aligned in VA: no block.
        let mut t2 = Tree::new(&mut pg).unwrap();
        t2.map(
            &mut pg,
            UVA + PAGE_SIZE,
            &pages[..ENTRIES],
            user_attrs(true, false, false),
            0,
        )
        .unwrap();
        assert_eq!(t2.lookup(UVA + PAGE_SIZE).unwrap().size, PAGE_SIZE);
        t.unmap(&mut pg, UVA, ENTRIES + 2, false, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 1);
    }

    #[test]
    fn known_runs_map_as_blocks_and_unmap_with_one_invalidation_each() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        // Block 0 a run the caller vouches for, block 1 single pages, block 2 a run it does
        // not name (checked, still a block).
        let a = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let singles: Vec<Pa> = (0..ENTRIES).map(|_| pg.alloc().unwrap()).collect();
        let c = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let mut pages: Vec<Pa> = (0..ENTRIES).map(|k| a + k * PAGE_SIZE).collect();
        pages.extend(&singles);
        pages.extend((0..ENTRIES).map(|k| c + k * PAGE_SIZE));
        t.map(&mut pg, UVA, &pages, user_attrs(true, false, false), 0b1)
            .unwrap();
        assert_eq!(t.lookup(UVA + 0x1000).unwrap().size, L2_BLOCK);
        assert_eq!(t.lookup(UVA + 0x1000).unwrap().pa, a + 0x1000);
        let mid = t.lookup(UVA + L2_BLOCK + 7 * PAGE_SIZE).unwrap();
        assert_eq!((mid.size, mid.pa), (PAGE_SIZE, singles[7]));
        assert_eq!(t.lookup(UVA + 2 * L2_BLOCK).unwrap().size, L2_BLOCK);
        assert_eq!(t.table_pages(), 3, "root, L2, one L3 for the single pages");
        // The whole range goes: one invalidation per block, one per page in between.
        let mut seen = Vec::new();
        t.unmap(&mut pg, UVA, 3 * ENTRIES, false, &mut |v, n, step| {
            seen.push((v, n, step))
        });
        let blocks: Vec<_> = seen.iter().filter(|x| x.2 == L2_BLOCK).collect();
        assert_eq!(blocks.iter().map(|x| x.1).sum::<usize>(), 2);
        let pages_inv: usize = seen.iter().filter(|x| x.2 == PAGE_SIZE).map(|x| x.1).sum();
        assert_eq!(pages_inv, ENTRIES);
        assert_eq!(t.table_pages(), 1);
        // A run vouched for at a VA that is not 2 MiB aligned, or an index inside a block,
        // still maps page by page.
        t.map(
            &mut pg,
            UVA + PAGE_SIZE,
            &pages[..ENTRIES],
            user_attrs(true, false, false),
            0b1,
        )
        .unwrap();
        assert_eq!(t.lookup(UVA + PAGE_SIZE).unwrap().size, PAGE_SIZE);
        t.unmap(&mut pg, UVA + PAGE_SIZE, ENTRIES, false, &mut |_, _, _| {});
        assert!(!known_run(0b10, ENTRIES - 1) && known_run(0b10, ENTRIES));
        assert!(!known_run(u64::MAX, 64 * ENTRIES), "past the mask");
        assert_eq!(t.table_pages(), 1);
    }

    #[test]
    fn protect_rewrites_access_keeps_pages_and_splits_a_block() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let run = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let pages: Vec<Pa> = (0..ENTRIES).map(|k| run + k * PAGE_SIZE).collect();
        let va = 0x4000_0000;
        t.map(&mut pg, va, &pages, user_attrs(true, false, true), 0)
            .unwrap();
        // One page in the middle loses all access: the block becomes a table.
        let mut seen = 0;
        t.protect(
            &mut pg,
            va + 5 * PAGE_SIZE,
            1,
            user_none_attrs(false),
            &mut |_, n, _| seen += n,
        )
        .unwrap();
        assert_eq!(seen, 1);
        let l = t.lookup(va + 5 * PAGE_SIZE).unwrap();
        assert_eq!(l.size, PAGE_SIZE);
        assert_eq!(l.pa, run + 5 * PAGE_SIZE);
        assert_eq!(l.attrs & AP_EL0, 0);
        assert_ne!(l.attrs & OWNED, 0, "ownership kept");
        let n = t.lookup(va + 6 * PAGE_SIZE).unwrap();
        assert_ne!(n.attrs & AP_EL0, 0);
        assert_eq!(n.attrs & AP_RO, 0);
        // Read-only over the whole range, unmapped pages past it untouched.
        t.protect(
            &mut pg,
            va,
            ENTRIES + 4,
            user_attrs(false, false, false),
            &mut |_, _, _| {},
        )
        .unwrap();
        assert_ne!(t.lookup(va + 5 * PAGE_SIZE).unwrap().attrs & AP_RO, 0);
        assert_ne!(t.lookup(va + 5 * PAGE_SIZE).unwrap().attrs & AP_EL0, 0);
        assert!(t.lookup(va + (ENTRIES + 1) * PAGE_SIZE).is_none());
        // A whole block keeps being one.
        let run2 = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let p2: Vec<Pa> = (0..ENTRIES).map(|k| run2 + k * PAGE_SIZE).collect();
        let vb = va + L2_BLOCK;
        t.map(&mut pg, vb, &p2, user_attrs(true, false, false), 0)
            .unwrap();
        t.protect(
            &mut pg,
            vb,
            ENTRIES,
            user_attrs(false, true, false),
            &mut |_, _, _| {},
        )
        .unwrap();
        let b = t.lookup(vb).unwrap();
        assert_eq!(b.size, L2_BLOCK);
        assert_eq!(b.attrs & UXN, 0);
        assert_ne!(b.attrs & AP_RO, 0);
        t.destroy(&mut pg);
        pg.free_run(run2, ENTRIES);
    }

    #[test]
    fn partial_unmap_splits_a_block() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let run = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let pages: Vec<Pa> = (0..ENTRIES).map(|k| run + k * PAGE_SIZE).collect();
        t.map(&mut pg, UVA, &pages, user_attrs(true, false, false), 0)
            .unwrap();
        t.unmap(&mut pg, UVA + 5 * PAGE_SIZE, 1, true, &mut |_, _, _| {});
        assert!(t.lookup(UVA + 5 * PAGE_SIZE).is_none());
        let l = t.lookup(UVA + 6 * PAGE_SIZE).unwrap();
        assert_eq!((l.pa, l.size), (run + 6 * PAGE_SIZE, PAGE_SIZE));
        t.unmap(&mut pg, UVA, ENTRIES, true, &mut |_, _, _| {});
        assert_eq!(t.table_pages(), 1);
    }

    #[test]
    fn owned_block_pages_are_freed() {
        let mut pg = pool();
        let base = pg.used();
        let mut t = Tree::new(&mut pg).unwrap();
        let run = pg.alloc_contig(ENTRIES, ENTRIES).unwrap();
        let pages: Vec<Pa> = (0..ENTRIES).map(|k| run + k * PAGE_SIZE).collect();
        t.map(&mut pg, UVA, &pages, user_attrs(true, false, true), 0)
            .unwrap();
        t.destroy(&mut pg);
        assert_eq!(pg.used(), base);
    }

    #[test]
    fn out_of_tables_rolls_back() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        // Leave exactly one free page: enough for the L2 table, not the L3.
        let mut hog = Vec::new();
        while pg.free() > 1 {
            hog.push(pg.alloc().unwrap());
        }
        let p = hog.pop().unwrap();
        let used = pg.used();
        assert_eq!(
            t.map(&mut pg, UVA, &[p], user_attrs(true, false, false), 0),
            Err(Errno::ENOMEM)
        );
        assert_eq!(
            pg.used(),
            used,
            "the L2 table taken on the way was given back"
        );
        assert!(t.lookup(UVA).is_none());
    }

    #[test]
    fn kernel_range_uses_blocks_and_wx() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        let va = 0xffff_ff80_4000_0000usize;
        t.map_kernel_range(&mut pg, va, 0x4000_0000, 4 << 20, kernel_attrs(true, false))
            .unwrap();
        t.map_kernel_range(
            &mut pg,
            va + (4 << 20),
            0x4040_0000,
            0x3000,
            kernel_attrs(false, true),
        )
        .unwrap();
        assert_eq!(t.lookup(va + 0x1000).unwrap().size, L2_BLOCK);
        let x = t.lookup(va + (4 << 20) + 0x2000).unwrap();
        assert_eq!(x.size, PAGE_SIZE);
        assert!(
            x.attrs & PXN == 0 && x.attrs & AP_RO != 0,
            "text: executable, read-only"
        );
        let w = t.lookup(va).unwrap();
        assert!(
            w.attrs & PXN != 0 && w.attrs & AP_RO == 0,
            "data: writable, never executable"
        );
    }

    #[test]
    fn kernel_range_pages_across_tables_fill_each_table_at_once() {
        let mut pg = pool();
        let mut t = Tree::new(&mut pg).unwrap();
        // From 8 KiB below a 2 MiB boundary to 3 pages and a bit past the next one, the
        // physical side one page off the virtual side's 2 MiB alignment: pages in three L3
        // tables, no block possible.
        let va = 0xffff_ff80_4000_0000usize + (2 << 20) - 0x2000;
        let pa = 0x4020_0000 - 0x1000;
        let len = 0x2000 + (2 << 20) + 0x3000 + 0x10;
        t.map_kernel_range(&mut pg, va, pa, len, kernel_attrs(false, false))
            .unwrap();
        for off in (0..len).step_by(PAGE_SIZE).chain([len - 1]) {
            let m = t.lookup(va + off).unwrap();
            assert_eq!(m.size, PAGE_SIZE);
            assert_eq!(m.pa, pa + off, "offset {off:#x}");
        }
        assert!(t.lookup(va + len.next_multiple_of(PAGE_SIZE)).is_none());
        assert!(t.lookup(va - PAGE_SIZE).is_none());
        // The entry counts the tables keep: 2 + 512 + 4 pages in three L3 tables.
        let l2 = (table(t.root)[idx(va, 1)] & ADDR) as usize;
        let counts: std::vec::Vec<isize> =
            (0..3).map(|k| count(table(l2)[idx(va, 2) + k])).collect();
        assert_eq!(counts, [2, 512, 4]);
    }
}
