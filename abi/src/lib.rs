//! The one source of truth for the user/kernel ABI: syscall numbers, errno values, flag bits,
//! limits and the layouts of structures that cross the boundary.
#![no_std]

pub mod errno;
pub mod fcntl;
pub mod mman;
pub mod shm;
pub mod signal;
pub mod stat;
pub mod sys;

pub use errno::Errno;

/// Size of a page (translation granule) in bytes.
pub const PAGE_SIZE: usize = 4096;
/// log2(PAGE_SIZE).
pub const PAGE_SHIFT: usize = 12;

/// User virtual address layout (39-bit TTBR0 range). Fixed here so that user programs, the
/// linker script and the kernel's loader agree.
pub mod layout {
    /// Lowest address a user mapping may use (page 0 .. 64 KiB is never mapped).
    pub const USER_MIN: usize = 0x1_0000;
    /// One past the highest user address (39-bit VA space).
    pub const USER_END: usize = 0x80_0000_0000;
    /// Programs are linked here.
    pub const USER_TEXT: usize = 0x40_0000;
    /// Top of the initial user stack.
    pub const USER_STACK_TOP: usize = 0x7f_0000_0000;
    /// Default stack size of a user process.
    pub const USER_STACK_SIZE: usize = 64 * 1024;
    /// Start of the per-process heap (grown by brk).
    pub const USER_HEAP: usize = 0x10_0000_0000;
    /// Largest user heap.
    pub const USER_HEAP_MAX: usize = 0x1_0000_0000;
    /// Unmapped gap kept below the stack: no mapping may come closer (Linux's answer to
    /// "stack clash"), so a frame that skips a probe cannot land in another mapping.
    pub const STACK_GUARD_GAP: usize = 1 << 20;
    /// Lowest address of the stack's guard gap.
    pub const STACK_GUARD: usize = USER_STACK_TOP - USER_STACK_SIZE - STACK_GUARD_GAP;
    /// Room for 32 attachments of a SHMMAX (64 MiB) segment, each 2 MiB aligned.
    pub const SHM_WINDOW_SIZE: usize = 0x8000_0000;
    /// End of the shared-memory attach window: the bottom of the stack's guard gap. The window
    /// is filled from the top down (as Linux places mmaps below the stack), so small
    /// attachments share the stack's translation tables instead of needing their own.
    pub const SHM_WINDOW_END: usize = STACK_GUARD;
    /// Start of the window used when shmat's address is NULL: SHM_WINDOW_SIZE below the
    /// highest 2 MiB boundary in it, so that 2 MiB-aligned attachments fill it exactly.
    pub const SHM_WINDOW: usize = (SHM_WINDOW_END & !(0x20_0000 - 1)) - SHM_WINDOW_SIZE;
}
