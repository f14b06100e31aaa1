//! A cache of small freed heap blocks in front of the kernel heap's first-fit list: most of
//! the kernel's allocations are a few words (a one-page object's page list, a name), and a
//! first-fit search plus the merge on free cost about 240 instructions a pair where popping
//! and pushing a free list costs about 20. Blocks are rounded up to a size class (16, 32 or
//! 64 bytes, alignment up to 16); a class keeps at most `LIMIT` freed blocks, past which
//! they go back to the heap, so the cache never holds more than 7 KiB away from it.
//!
//! The list is threaded through the freed blocks themselves (their first word): the caller
//! (the global allocator, under its lock) owns them while they are cached.

use core::alloc::Layout;

/// Block sizes of the classes (`class` matches on them).
pub const SIZES: [usize; 3] = [16, 32, 64];
/// The alignment every cached block has (the heap is asked for it).
pub const ALIGN: usize = 16;
/// Freed blocks a class keeps.
pub const LIMIT: u16 = 64;

pub struct SmallCache {
    heads: [usize; SIZES.len()],
    counts: [u16; SIZES.len()],
}

impl Default for SmallCache {
    fn default() -> Self {
        Self::new()
    }
}

impl SmallCache {
    pub const fn new() -> SmallCache {
        SmallCache {
            heads: [0; SIZES.len()],
            counts: [0; SIZES.len()],
        }
    }

    /// The class of `layout`, if it is small enough to be cached.
    #[inline]
    pub fn class(layout: Layout) -> Option<usize> {
        match layout.size() {
            _ if layout.align() > ALIGN => None,
            0..=16 => Some(0),
            17..=32 => Some(1),
            33..=64 => Some(2),
            _ => None,
        }
    }

    /// The layout a class's blocks have in the heap (whatever size was asked).
    #[inline]
    pub fn heap_layout(class: usize) -> Layout {
        // A power of two no smaller than the alignment: always a valid layout.
        Layout::from_size_align(SIZES[class], ALIGN).expect("class layout")
    }

    /// A cached block of `class`, if there is one.
    ///
    /// # Safety
    /// Every block in the cache was given with `give` and is not used by anyone else.
    #[inline]
    pub unsafe fn take(&mut self, class: usize) -> Option<*mut u8> {
        let p = self.heads[class];
        if p == 0 {
            return None;
        }
        // SAFETY: p is a cached block of at least 16 bytes, 16-aligned; its first word
        // holds the next block (or 0).
        self.heads[class] = unsafe { (p as *const usize).read() };
        self.counts[class] -= 1;
        Some(p as *mut u8)
    }

    /// Keep the freed block `p` of `class`; false when the class is full (the caller gives
    /// it back to the heap).
    ///
    /// # Safety
    /// `p` is a block of `heap_layout(class)` that nobody uses any more.
    #[inline]
    pub unsafe fn give(&mut self, class: usize, p: *mut u8) -> bool {
        if self.counts[class] >= LIMIT {
            return false;
        }
        // SAFETY: the block is ours, at least a word long and aligned.
        unsafe { (p as *mut usize).write(self.heads[class]) };
        self.heads[class] = p as usize;
        self.counts[class] += 1;
        true
    }

    /// Bytes held in the cache (in use as far as the heap knows, free as far as the
    /// kernel's statistics go).
    pub fn cached_bytes(&self) -> usize {
        self.counts
            .iter()
            .zip(SIZES)
            .map(|(&n, s)| n as usize * s)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn classes_by_size_and_alignment() {
        let l = |s, a| Layout::from_size_align(s, a).unwrap();
        assert_eq!(SmallCache::class(l(1, 1)), Some(0));
        assert_eq!(SmallCache::class(l(8, 8)), Some(0));
        assert_eq!(SmallCache::class(l(16, 16)), Some(0));
        assert_eq!(SmallCache::class(l(17, 8)), Some(1));
        assert_eq!(SmallCache::class(l(64, 4)), Some(2));
        assert_eq!(SmallCache::class(l(65, 8)), None);
        assert_eq!(
            SmallCache::class(l(8, 32)),
            None,
            "over-aligned: the heap's"
        );
        for (c, &size) in SIZES.iter().enumerate() {
            let h = SmallCache::heap_layout(c);
            assert_eq!((h.size(), h.align()), (size, ALIGN));
        }
    }

    #[test]
    fn last_in_first_out_per_class_up_to_the_limit() {
        // Blocks of a fake heap: 16-aligned 64-byte cells.
        let mut arena: Vec<u128> = std::vec![0; 4 * (LIMIT as usize + 8)];
        let base = arena.as_mut_ptr() as *mut u8;
        // SAFETY: inside the arena.
        let cells: Vec<*mut u8> = (0..LIMIT as usize + 8)
            .map(|i| unsafe { base.add(i * 64) })
            .collect();
        let mut c = SmallCache::new();
        // SAFETY (the whole test): the cells are distinct blocks of the arena, unused.
        unsafe {
            assert_eq!(c.take(1), None);
            assert!(c.give(1, cells[0]));
            assert!(c.give(2, cells[1]));
            assert!(c.give(1, cells[2]));
            assert_eq!(c.cached_bytes(), 32 + 64 + 32);
            assert_eq!(c.take(1), Some(cells[2]));
            assert_eq!(c.take(1), Some(cells[0]));
            assert_eq!(c.take(1), None);
            assert_eq!(c.take(0), None, "classes are apart");
            assert_eq!(c.take(2), Some(cells[1]));
            assert_eq!(c.cached_bytes(), 0);
            for (i, &p) in cells.iter().enumerate() {
                assert_eq!(c.give(0, p), i < LIMIT as usize, "block {i}");
            }
            assert_eq!(c.cached_bytes(), LIMIT as usize * 16);
            let mut back: Vec<*mut u8> = (0..LIMIT).map(|_| c.take(0).unwrap()).collect();
            assert_eq!(c.take(0), None);
            back.reverse();
            assert_eq!(back, cells[..LIMIT as usize]);
        }
    }
}
