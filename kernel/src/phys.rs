//! Physical addresses and the kernel's view of them: every physical page is reached through a
//! linear mapping `va = pa + offset`, so the kernel never maps a page to touch it.

use core::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};

/// A physical address.
pub type Pa = usize;

pub use abi::{PAGE_SHIFT, PAGE_SIZE};

static PHYS_OFFSET: AtomicUsize = AtomicUsize::new(0);

/// Set the linear-map offset (the board does this once, before anything touches memory).
pub fn set_phys_offset(off: usize) {
    PHYS_OFFSET.store(off, Ordering::Relaxed);
}

/// Kernel-visible address of a physical address.
#[inline]
pub fn p2v(pa: Pa) -> *mut u8 {
    pa.wrapping_add(PHYS_OFFSET.load(Ordering::Relaxed)) as *mut u8
}

/// Physical address of a kernel linear-map address.
#[inline]
pub fn v2p(va: usize) -> Pa {
    va.wrapping_sub(PHYS_OFFSET.load(Ordering::Relaxed))
}

pub const fn page_round_up(x: usize) -> usize {
    (x + PAGE_SIZE - 1) & !(PAGE_SIZE - 1)
}

pub const fn page_round_down(x: usize) -> usize {
    x & !(PAGE_SIZE - 1)
}

/// The architecture's fastest way to zero whole pages (aarch64: `dc zva`, `arch::zero`),
/// given the first page's kernel address and the count; none until the board sets one.
static ZERO_PAGES: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Install the page-zeroing routine (once, at boot).
pub fn set_zero_pages(f: fn(*mut u8, usize)) {
    ZERO_PAGES.store(f as *mut (), Ordering::Relaxed);
}

/// Zero `n` physically contiguous pages from `pa`.
pub fn zero_pages(pa: Pa, n: usize) {
    let f = ZERO_PAGES.load(Ordering::Relaxed);
    if f.is_null() {
        // SAFETY: the pages are the caller's; the linear map covers all RAM.
        unsafe { core::ptr::write_bytes(p2v(pa), 0, n * PAGE_SIZE) }
    } else {
        // SAFETY: only `set_zero_pages` stores here, and it stores a `fn(*mut u8, usize)`.
        let f: fn(*mut u8, usize) = unsafe { core::mem::transmute(f) };
        f(p2v(pa), n)
    }
}

/// Zero one physical page.
pub fn zero_page(pa: Pa) {
    zero_pages(pa, 1)
}

/// Copy bytes into physical memory (within pages the caller owns).
pub fn write_phys(pa: Pa, data: &[u8]) {
    // SAFETY: the caller owns [pa, pa+len); the linear map covers all RAM.
    unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), p2v(pa), data.len()) }
}

/// Copy a whole page (pages the caller owns, distinct).
pub fn copy_page(dst: Pa, src: Pa) {
    // SAFETY: both are whole pages the caller owns, reached through the linear map; they
    // are different pages, so the ranges do not overlap.
    unsafe { core::ptr::copy_nonoverlapping(p2v(src), p2v(dst), PAGE_SIZE) }
}

/// The 4-aligned 32-bit word at `pa` (one load: a futex word).
#[inline(always)]
pub fn read_u32(pa: Pa) -> u32 {
    debug_assert!(pa.is_multiple_of(4));
    // SAFETY: the caller owns the 4-aligned word at pa; the linear map covers all RAM.
    // Volatile: another task may store to it at any time (a futex word is shared).
    unsafe { p2v(pa).cast::<u32>().read_volatile() }
}

/// Copy bytes out of physical memory.
pub fn read_phys(pa: Pa, out: &mut [u8]) {
    // SAFETY: the caller owns [pa, pa+len); the linear map covers all RAM.
    unsafe { core::ptr::copy_nonoverlapping(p2v(pa), out.as_mut_ptr(), out.len()) }
}

/// Host-side stand-in for RAM: one large zeroed allocation that tests carve into private
/// ranges, so that page-table and allocator code runs unchanged over it.
#[cfg(not(target_os = "none"))]
pub mod fakeram {
    use super::*;
    use std::sync::OnceLock;

    /// Physical base of the fake RAM (the QEMU virt RAM base, for realism).
    pub const BASE: Pa = 0x4000_0000;
    // Reserved, not committed: the host only backs the pages a test touches.
    const SIZE: usize = 4 << 30;
    const SLICE: usize = 32 << 20;
    static RAM: OnceLock<usize> = OnceLock::new();
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    /// Slices given back by finished tests: there are more tests than slices.
    static FREE: std::sync::Mutex<std::vec::Vec<Pa>> = std::sync::Mutex::new(std::vec::Vec::new());

    fn ram() -> usize {
        *RAM.get_or_init(|| {
            // Small alignment keeps this on calloc's lazily zeroed path (an aligned
            // alloc_zeroed would memset all of it); the 2 MiB alignment is done by hand.
            let layout = std::alloc::Layout::from_size_align(SIZE + (2 << 20), 16).unwrap();
            // SAFETY: non-zero size layout; leaked on purpose for the life of the test process.
            let raw = unsafe { std::alloc::alloc_zeroed(layout) } as usize;
            assert!(raw != 0);
            let p = raw.next_multiple_of(2 << 20);
            set_phys_offset(p.wrapping_sub(BASE));
            p
        })
    }

    /// A fresh 32 MiB (2 MiB aligned) range of fake physical memory: (base, size).
    pub fn slice() -> (Pa, usize) {
        ram();
        if let Some(base) = FREE.lock().unwrap().pop() {
            return (base, SLICE);
        }
        let i = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!((i + 1) * SLICE <= SIZE, "fake RAM exhausted");
        (BASE + i * SLICE, SLICE)
    }

    /// Give back a slice nothing uses any more (its allocator is gone), for a later test.
    pub fn give_back(base: Pa) {
        FREE.lock().unwrap().push(base);
    }
}
