//! Address-space regions (DESIGN.md 3b): each process's one sorted list of what is mapped
//! where (program, stack, heap, System V attachments, mmap mappings), the placement of
//! kernel-chosen addresses, and the carving that munmap and mprotect do on it.

use crate::phys::PAGE_SIZE;
use crate::up::Prot;
use abi::layout::{SHM_WINDOW, SHM_WINDOW_END};
use abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
use abi::Errno;

/// Regions per process: SHMSEG attachments plus room for the program, stack, heap and mmap
/// mappings. A call that would need more fails with ENOMEM (as Linux's map count).
pub const MAX_REGIONS: usize = 96;

/// Pages in a 2 MiB block.
const BLOCK: usize = super::shm::BLOCK_PAGES * PAGE_SIZE;

/// What is behind a region.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A program segment: private pages owned by the address space.
    Program,
    Stack,
    /// The brk heap.
    Heap,
    /// Pages `off..` of shared-memory object `obj` (which this region holds a reference
    /// to); `sysv` is the segment's table slot for a System V attachment.
    Obj {
        obj: u16,
        off: usize,
        sysv: Option<u16>,
    },
}

/// A mapped range of a process. Kept to 32 bytes: every task has MAX_REGIONS of them
/// preallocated, and a copy of up to 32 bytes is a few loads and stores, not a memcpy call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region {
    pub va: usize,
    /// Pages (a u32 holds every range of the user address space: USER_END / PAGE_SIZE).
    npages: u32,
    /// PROT_* bits the range has now.
    prot: u8,
    /// PROT_* bits mprotect may give it (a read-only attach or descriptor never gets write).
    max: u8,
    pub kind: Kind,
}

const _: () = assert!(abi::layout::USER_END / PAGE_SIZE <= u32::MAX as usize);
const _: () = assert!((PROT_READ | PROT_WRITE | PROT_EXEC) <= u8::MAX as u32);
const _: () = assert!(core::mem::size_of::<Region>() <= 32);

impl Region {
    /// A region of `npages` pages at `va` (inside the user address space) with access
    /// `prot` of at most `max` (PROT_* bits).
    pub fn new(va: usize, npages: usize, prot: u32, max: u32, kind: Kind) -> Region {
        debug_assert!(npages <= abi::layout::USER_END / PAGE_SIZE);
        Region {
            va,
            npages: npages as u32,
            prot: prot as u8,
            max: max as u8,
            kind,
        }
    }
    /// Pages in the region.
    pub fn npages(&self) -> usize {
        self.npages as usize
    }
    /// Make it `n` pages long (inside the user address space).
    pub fn set_npages(&mut self, n: usize) {
        debug_assert!(n <= abi::layout::USER_END / PAGE_SIZE);
        self.npages = n as u32;
    }
    /// PROT_* bits the range has now.
    pub fn prot(&self) -> u32 {
        u32::from(self.prot)
    }
    pub fn set_prot(&mut self, prot: u32) {
        self.prot = prot as u8;
    }
    /// PROT_* bits mprotect may give it.
    pub fn max(&self) -> u32 {
        u32::from(self.max)
    }
    pub fn end(&self) -> usize {
        self.va + self.npages() * PAGE_SIZE
    }
    pub fn contains(&self, va: usize) -> bool {
        self.va <= va && va < self.end()
    }
    /// The object and page offset behind `va` (inside the region), if an object backs it.
    pub fn obj_page(&self, va: usize) -> Option<(u16, usize)> {
        match self.kind {
            Kind::Obj { obj, off, .. } => Some((obj, off + (va - self.va) / PAGE_SIZE)),
            _ => None,
        }
    }
    /// The part of the region from `va` on: same backing, offset moved on.
    fn tail(&self, va: usize) -> Region {
        let skip = (va - self.va) / PAGE_SIZE;
        let kind = match self.kind {
            Kind::Obj { obj, off, sysv } => Kind::Obj {
                obj,
                off: off + skip,
                sysv,
            },
            k => k,
        };
        Region {
            va,
            npages: self.npages - skip as u32,
            kind,
            ..*self
        }
    }
    /// Whether the pages are the address space's own (freed when unmapped).
    pub fn owned(&self) -> bool {
        !matches!(self.kind, Kind::Obj { .. })
    }
}

/// The access a set of PROT_* bits gives (write implies read, as on Linux; the caller has
/// refused write with exec).
pub fn prot_of(bits: u32) -> Prot {
    if bits & PROT_WRITE != 0 {
        Prot::ReadWrite
    } else if bits & PROT_EXEC != 0 {
        Prot::ReadExec
    } else if bits & PROT_READ != 0 {
        Prot::Read
    } else {
        Prot::None
    }
}

pub type Regions = heapless::Vec<Region, MAX_REGIONS>;

/// Whether [a, a + alen) and [b, b + blen) share a byte.
pub fn overlaps(a: usize, alen: usize, b: usize, blen: usize) -> bool {
    a < b + blen && b < a + alen
}

/// Whether any region overlaps [va, va + len).
pub fn any_in(regions: &[Region], va: usize, len: usize) -> bool {
    regions
        .iter()
        .any(|r| overlaps(va, len, r.va, r.end() - r.va))
}

/// The region holding `va`.
pub fn find(regions: &[Region], va: usize) -> Option<&Region> {
    // Sorted and disjoint: the only candidate is the last region starting at or below `va`.
    let i = regions.partition_point(|r| r.va <= va);
    regions[..i].last().filter(|r| r.contains(va))
}

/// The index of the region that starts exactly at `va`.
pub fn index_at(regions: &[Region], va: usize) -> Option<usize> {
    let i = regions.partition_point(|r| r.va < va);
    (i < regions.len() && regions[i].va == va).then_some(i)
}

/// Take the region that starts at `va` off the list (a mapping that failed part-way).
pub fn take(regions: &mut Regions, va: usize) -> Option<Region> {
    let i = regions.iter().position(|r| r.va == va)?;
    Some(remove(regions, i))
}

/// Put `r` at index `at` (0..=len), the regions from there one place up; Err(r) when full.
/// Each region moves as one copy in a rotation (heapless's insert is a memmove call,
/// which costs more than the few regions it usually shifts). Never inlined: inlined into
/// a caller with the region in hand it became memcpy calls of the enum's 30 bytes.
#[inline(never)]
pub fn insert_at(regions: &mut Regions, at: usize, r: Region) -> Result<(), Region> {
    if regions.is_full() {
        return Err(r);
    }
    let mut carry = r;
    for x in regions[at..].iter_mut() {
        carry = core::mem::replace(x, carry);
    }
    regions.push(carry)
}

/// Take the region at index `i` off the list, the ones above it one place down (a rotation,
/// as in `insert_at`; never inlined, for the same reason).
#[inline(never)]
pub fn remove(regions: &mut Regions, i: usize) -> Region {
    remove_inline(regions, i)
}

/// `remove` inlined, for the detach fast paths.
#[inline(always)]
pub fn remove_inline(regions: &mut Regions, i: usize) -> Region {
    // By index, not pop(): an Option<Region> moved out is a memcpy call.
    let last = regions.len() - 1;
    let mut carry = regions[last];
    for x in regions[i..last].iter_mut().rev() {
        carry = core::mem::replace(x, carry);
    }
    regions.truncate(last);
    carry
}

/// The highest free place in the window (top-down first fit, below the stack's guard gap)
/// for `len` bytes; ranges of 2 MiB or more start on a 2 MiB boundary so that aligned runs
/// map as blocks. ENOMEM when no hole is big enough.
pub fn place(regions: &[Region], len: usize) -> Result<usize, Errno> {
    place_at(regions, len).map(|(va, _)| va)
}

/// `place`, with the index the new region takes on the sorted list.
pub fn place_at(regions: &[Region], len: usize) -> Result<(usize, usize), Errno> {
    let align = if len >= BLOCK { BLOCK } else { PAGE_SIZE };
    let Some(top) = SHM_WINDOW_END.checked_sub(len) else {
        return Err(Errno::ENOMEM);
    };
    let mut va = top & !(align - 1);
    // One walk down the sorted list: each region the candidate overlaps pushes it below
    // that region's start; the first region wholly below it ends the search (and the new
    // region goes just above it).
    let mut at = 0;
    for (i, r) in regions.iter().enumerate().rev() {
        if va < SHM_WINDOW {
            break;
        }
        if r.va >= va + len {
            continue;
        }
        if r.end() <= va {
            at = i + 1;
            break;
        }
        let Some(v) = r.va.checked_sub(len) else {
            return Err(Errno::ENOMEM);
        };
        va = v & !(align - 1);
    }
    if va < SHM_WINDOW {
        return Err(Errno::ENOMEM);
    }
    Ok((va, at))
}

/// Add a region where nothing is mapped, keeping the list sorted; its index. ENOMEM when
/// full.
pub fn insert(regions: &mut Regions, r: Region) -> Result<usize, Errno> {
    let at = regions.partition_point(|x| x.va <= r.va);
    insert_at(regions, at, r).map_err(|_| Errno::ENOMEM)?;
    Ok(at)
}

/// Split the regions so that `va` is a boundary; ENOMEM when the list is full.
pub fn split_at(regions: &mut Regions, va: usize) -> Result<bool, Errno> {
    let Some(i) = regions.iter().position(|r| r.va < va && va < r.end()) else {
        return Ok(false);
    };
    if regions.is_full() {
        return Err(Errno::ENOMEM);
    }
    let r = regions[i];
    regions[i].set_npages((va - r.va) / PAGE_SIZE);
    let _ = insert_at(regions, i + 1, r.tail(va));
    Ok(true)
}

/// Slots `carve` needs free: one when a region reaches past both ends of the range.
pub fn carve_needs(regions: &[Region], va: usize, len: usize) -> usize {
    regions
        .iter()
        .any(|r| r.va < va && r.end() > va + len)
        .into()
}

/// How a part taken off the list relates to the region it came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// The whole region: its reference goes with it.
    Whole,
    /// An end of it: the rest keeps the region's reference.
    Trim,
    /// The middle: the region is now two, which need one reference more between them.
    Middle,
}

/// Take the parts of the regions inside [va, va + len) off the list and hand each to
/// `each`, with how it was cut. The caller has checked `carve_needs` against the room left.
pub fn carve(regions: &mut Regions, va: usize, len: usize, each: &mut dyn FnMut(Region, Cut)) {
    let end = va + len;
    let mut i = 0;
    while i < regions.len() {
        let r = regions[i];
        if !overlaps(va, len, r.va, r.end() - r.va) {
            i += 1;
            continue;
        }
        let lo = r.va.max(va);
        let hi = r.end().min(end);
        let mut cut = r.tail(lo);
        cut.set_npages((hi - lo) / PAGE_SIZE);
        let keep_left = r.va < lo;
        let keep_right = hi < r.end();
        match (keep_left, keep_right) {
            (false, false) => {
                remove(regions, i);
                each(cut, Cut::Whole);
                continue;
            }
            (true, false) => regions[i].set_npages((lo - r.va) / PAGE_SIZE),
            (false, true) => regions[i] = r.tail(hi),
            (true, true) => {
                regions[i].set_npages((lo - r.va) / PAGE_SIZE);
                let _ = insert_at(regions, i + 1, r.tail(hi));
                i += 1;
            }
        }
        each(
            cut,
            if keep_left && keep_right {
                Cut::Middle
            } else {
                Cut::Trim
            },
        );
        i += 1;
    }
}

/// The ends of [addr, end) that fall inside a 2 MiB block some region covers whole (only
/// such a block can be a block descriptor, and cutting there splits it into a page table).
pub fn block_edges(regions: &Regions, addr: usize, end: usize) -> [Option<usize>; 2] {
    [addr, end].map(|e| {
        let b = e & !(BLOCK - 1);
        let inside =
            !e.is_multiple_of(BLOCK) && regions.iter().any(|r| r.va <= b && b + BLOCK <= r.end());
        inside.then_some(e)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    fn obj(va: usize, npages: usize, o: u16) -> Region {
        Region::new(
            va,
            npages,
            PROT_READ | PROT_WRITE,
            PROT_READ | PROT_WRITE,
            Kind::Obj {
                obj: o,
                off: 0,
                sysv: None,
            },
        )
    }

    #[test]
    fn carving_the_middle_splits_and_keeps_offsets() {
        let mut rs = Regions::new();
        insert(&mut rs, obj(0x10_0000, 8, 1)).unwrap();
        insert(&mut rs, obj(0x8_0000, 2, 2)).unwrap();
        assert_eq!(rs[0].va, 0x8_0000, "kept sorted");
        assert_eq!(carve_needs(&rs, 0x10_0000 + PAGE_SIZE, PAGE_SIZE), 1);
        let mut cut = Vec::new();
        carve(
            &mut rs,
            0x10_0000 + PAGE_SIZE,
            2 * PAGE_SIZE,
            &mut |r, s| cut.push((r, s)),
        );
        assert_eq!(cut.len(), 1);
        assert_eq!(cut[0].0.npages(), 2);
        assert_eq!(cut[0].0.obj_page(0x10_0000 + PAGE_SIZE), Some((1, 1)));
        assert_eq!(cut[0].1, Cut::Middle, "a piece was split off");
        assert_eq!(rs.len(), 3);
        assert_eq!(rs[1].npages(), 1);
        assert_eq!(rs[2].va, 0x10_0000 + 3 * PAGE_SIZE);
        assert_eq!(rs[2].obj_page(rs[2].va), Some((1, 3)));
        // A range over several regions and a hole takes them whole.
        let mut n = 0;
        carve(&mut rs, 0, 0x20_0000, &mut |_, _| n += 1);
        assert_eq!(n, 3);
        assert!(rs.is_empty());
    }

    #[test]
    fn only_ends_inside_a_whole_covered_block_need_a_table_page() {
        let mut rs = Regions::new();
        insert(&mut rs, obj(4 * BLOCK, 1024, 1)).unwrap(); // two whole blocks
        insert(&mut rs, obj(8 * BLOCK + PAGE_SIZE, 16, 2)).unwrap(); // no whole block
        let b = 4 * BLOCK;
        let (p1, p2) = (b + PAGE_SIZE, b + 2 * PAGE_SIZE);
        assert_eq!(block_edges(&rs, b, b + 2 * BLOCK), [None, None], "aligned");
        assert_eq!(block_edges(&rs, p1, p2), [Some(p1), Some(p2)]);
        assert_eq!(block_edges(&rs, p1, b + BLOCK), [Some(p1), None]);
        let s = 8 * BLOCK + PAGE_SIZE;
        let (q1, q2) = (s + PAGE_SIZE, s + 3 * PAGE_SIZE);
        assert_eq!(block_edges(&rs, q1, q2), [None, None], "no whole block");
    }

    #[test]
    fn placement_gives_the_sorted_index_and_rotations_keep_the_order() {
        let mut rs = Regions::new();
        // The stack above the window, the heap below it, attachments in between.
        insert(&mut rs, obj(SHM_WINDOW_END + BLOCK, 4, 9)).unwrap();
        insert(&mut rs, obj(SHM_WINDOW - BLOCK, 4, 8)).unwrap();
        for k in 0..6 {
            let len = (k % 3 + 1) * PAGE_SIZE;
            let (va, at) = place_at(&rs, len).unwrap();
            assert_eq!(at, rs.partition_point(|r| r.va < va), "index of {va:#x}");
            insert_at(&mut rs, at, obj(va, len / PAGE_SIZE, k as u16)).unwrap();
            assert!(
                rs.windows(2).all(|w| w[0].end() <= w[1].va),
                "sorted, disjoint"
            );
        }
        let all = rs.to_vec();
        for i in [3, 0, rs.len() - 1] {
            let before = rs.to_vec();
            let r = remove(&mut rs, i);
            assert_eq!(r, before[i]);
            let mut want = before.clone();
            want.remove(i);
            assert_eq!(rs.to_vec(), want);
            insert_at(&mut rs, i, r).unwrap();
            assert_eq!(rs.to_vec(), before);
        }
        assert_eq!(rs.to_vec(), all);
        while !rs.is_full() {
            let va = rs.last().unwrap().end() + PAGE_SIZE;
            rs.push(obj(va, 1, 1)).unwrap();
        }
        let r = obj(0, 1, 1);
        assert_eq!(insert_at(&mut rs, 0, r), Err(r), "full: unchanged");
        assert_eq!(rs[0], all[0]);
    }

    #[test]
    fn placement_is_top_down_and_aligns_big_ranges() {
        let mut rs = Regions::new();
        let a = place(&rs, PAGE_SIZE).unwrap();
        assert_eq!(a + PAGE_SIZE, SHM_WINDOW_END);
        insert(&mut rs, obj(a, 1, 0)).unwrap();
        let b = place(&rs, BLOCK).unwrap();
        assert_eq!(b % BLOCK, 0);
        assert!(b + BLOCK <= a);
        assert!(split_at(&mut rs, a).is_ok());
    }
}
