//! Zeroing whole pages at the hardware's rate: `dc zva` clears one block (DCZID_EL0.BS, 64
//! bytes on the Cortex-A53/A76) per instruction without reading it first; where
//! DCZID_EL0.DZP prohibits it, wide `stp xzr` stores. The block size is read once (`init`)
//! and the loops are unrolled (32 blocks deep at 64 bytes), so a block costs about two
//! instructions (the `dc zva` and the address step) and a 4 KiB page about 132. Every page
//! the kernel hands out zeroed goes through `zero_pages`: segments and objects, translation
//! tables, stacks, program pages.

use core::arch::asm;
use core::sync::atomic::{AtomicUsize, Ordering};

/// DC ZVA block size in bytes; 0 when DC ZVA is prohibited, or until `init` (wide stores
/// are right either way).
static BLOCK: AtomicUsize = AtomicUsize::new(0);

/// Read DCZID_EL0 (once, at boot, before anything is zeroed).
pub fn init() {
    let dczid: u64;
    // SAFETY: reading DCZID_EL0 has no side effects.
    unsafe { asm!("mrs {}, dczid_el0", out(reg) dczid, options(nostack, nomem)) };
    let block = if dczid & (1 << 4) != 0 {
        0
    } else {
        4usize << (dczid & 0xf)
    };
    BLOCK.store(block, Ordering::Relaxed);
}

/// The DC ZVA block size in bytes (0: prohibited, wide stores are used).
pub fn block() -> usize {
    BLOCK.load(Ordering::Relaxed)
}

/// Zero `n` whole pages from the page-aligned kernel address `va`.
pub fn zero_pages(va: *mut u8, n: usize) {
    let (start, end) = (va as usize, va as usize + n * 4096);
    if n == 0 {
        return;
    }
    let b = block();
    if b != 0 && b <= 128 {
        // Thirty-two blocks a step (2 KiB at 64-byte blocks): the loop's own two
        // instructions are spread over 64.
        // SAFETY: [start, end) is whole pages the caller owns, mapped as normal cacheable
        // memory (the linear map); each `dc zva` clears the aligned block at its address,
        // and 32 * b divides a page.
        unsafe {
            asm!(
                "2:",
                ".rept 32",
                "dc zva, {p}",
                "add {p}, {p}, {b}",
                ".endr",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) start => _,
                b = in(reg) b,
                e = in(reg) end,
                options(nostack)
            )
        }
    } else if b != 0 && b <= 512 {
        // Eight blocks a step: 8 * b divides a page for every block size up to 512.
        // SAFETY: [start, end) is whole pages the caller owns, mapped as normal cacheable
        // memory (the linear map); each `dc zva` clears the aligned block at its address.
        unsafe {
            asm!(
                "2:",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "dc zva, {p}", "add {p}, {p}, {b}",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) start => _,
                b = in(reg) b,
                e = in(reg) end,
                options(nostack)
            )
        }
    } else if b != 0 {
        // 1 or 2 KiB blocks: a page is a few of them.
        // SAFETY: as above.
        unsafe {
            asm!(
                "2:",
                "dc zva, {p}",
                "add {p}, {p}, {b}",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) start => _,
                b = in(reg) b,
                e = in(reg) end,
                options(nostack)
            )
        }
    } else {
        // SAFETY: as above; 128 bytes a step, which divides a page.
        unsafe {
            asm!(
                "2:",
                "stp xzr, xzr, [{p}]",
                "stp xzr, xzr, [{p}, #16]",
                "stp xzr, xzr, [{p}, #32]",
                "stp xzr, xzr, [{p}, #48]",
                "stp xzr, xzr, [{p}, #64]",
                "stp xzr, xzr, [{p}, #80]",
                "stp xzr, xzr, [{p}, #96]",
                "stp xzr, xzr, [{p}, #112]",
                "add {p}, {p}, #128",
                "cmp {p}, {e}",
                "b.lo 2b",
                p = inout(reg) start => _,
                e = in(reg) end,
                options(nostack)
            )
        }
    }
}
