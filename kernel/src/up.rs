//! What the portable kernel needs from the architecture (NuttX's `up_*` boundary). The board
//! wires in the aarch64 implementation; host tests wire in a fake that records what was asked.

use crate::pgalloc::PageAlloc;
use crate::phys::Pa;
use abi::Errno;

/// User register state, saved on every trap from EL0 and restored on return. The arch layer's
/// vector code uses exactly this layout.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug)]
pub struct TrapFrame {
    pub x: [u64; 31],
    /// SP_EL0
    pub sp: u64,
    /// ELR_EL1: where the task resumes.
    pub pc: u64,
    /// SPSR_EL1
    pub pstate: u64,
}

const _: () = assert!(core::mem::size_of::<TrapFrame>() == 272);

impl TrapFrame {
    /// Copy `src` in, 16 bytes per load and store (a task switch does this twice; a plain
    /// assignment calls the byte-generic memcpy, five times slower at this size).
    #[inline(always)]
    pub fn copy_from(&mut self, src: &TrapFrame) {
        const N: usize = core::mem::size_of::<TrapFrame>() / 16;
        let d = (self as *mut TrapFrame).cast::<u128>();
        let s = (src as *const TrapFrame).cast::<u128>();
        for i in 0..N {
            // SAFETY: both frames are 16-aligned (the type's alignment), N * 16 bytes long,
            // and distinct (one is borrowed mutably); every bit pattern is a valid u64.
            // Volatile keeps the loop from being folded back into a memcpy call.
            unsafe { d.add(i).write_volatile(s.add(i).read_volatile()) };
        }
    }
}

/// A task's FP/SIMD registers (q0-q31, FPCR, FPSR), kept while another task owns the
/// hardware's. The arch layer's save and load code uses exactly this layout.
#[repr(C, align(16))]
#[derive(Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct FpState {
    pub v: [u128; 32],
    pub fpcr: u64,
    pub fpsr: u64,
}

const _: () = assert!(core::mem::size_of::<FpState>() == 528);

/// A process's address environment: its translation-table root and address-space id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddrEnv {
    pub root: Pa,
    pub asid: u16,
}

/// User access rights of a mapping. Writable mappings are never executable (W^X).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prot {
    /// PROT_NONE: mapped, but no access from user mode (nor through the kernel's copies).
    None,
    Read,
    ReadWrite,
    ReadExec,
}

/// Kind of access for a user-address lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

pub trait Arch: Sync {
    /// New empty user address environment with the given ASID.
    fn addrenv_create(&self, pg: &mut PageAlloc, asid: u16) -> Result<AddrEnv, Errno>;
    /// Free the environment's tables and every page mapped as owned, and drop its TLB entries.
    fn addrenv_destroy(&self, env: &AddrEnv, pg: &mut PageAlloc);
    /// Tear `env` down for about `budget` pages' worth of work (a page freed, or a bit of
    /// table walked); true once it is entirely gone, TLB entries included. The environment
    /// is never selected again once this has started.
    fn addrenv_destroy_some(&self, env: &AddrEnv, pg: &mut PageAlloc, budget: usize) -> bool;
    /// Make `env` the current user address space (None: no user space at all).
    fn addrenv_select(&self, env: Option<&AddrEnv>);
    /// Pages used by the environment's translation tables.
    fn addrenv_table_pages(&self, env: &AddrEnv) -> usize;
    /// Map `pages` at `va`. Owned pages are freed when unmapped or when the environment is
    /// destroyed; shared pages are not. EINVAL if any page of the range is already mapped.
    fn map_pages(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        va: usize,
        pages: &[Pa],
        prot: Prot,
        owned: bool,
    ) -> Result<(), Errno>;
    /// Unmap `npages` at `va` (freeing owned pages and emptied tables) and invalidate the TLB.
    fn unmap_pages(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize);
    /// Give the pages mapped in `npages` from `va` the access `prot` (pages and ownership
    /// stay; what is not mapped stays so), splitting blocks partly covered, and invalidate
    /// the TLB. ENOMEM if a split needs a table page that cannot be had.
    fn protect(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        va: usize,
        npages: usize,
        prot: Prot,
    ) -> Result<(), Errno>;
    /// Physical address behind a user address, if mapped with the access allowed at EL0.
    fn translate(&self, env: &AddrEnv, va: usize, access: Access) -> Option<Pa>;
    /// Map a list of shared physical pages at `va` (NuttX `up_shmat`), RW or read-only:
    /// user, non-global, execute-never, never freed with the mapping. `runs` bit k: the
    /// caller knows `pages[512k..512(k+1)]` to be one 2 MiB-aligned contiguous run
    /// (`ShmObj::runs_from`), to map as a block without reading its entries.
    fn up_shmat(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        pages: &[Pa],
        va: usize,
        rdonly: bool,
        runs: u64,
    ) -> Result<(), Errno>;
    /// `up_shmat`'s fast path for a small attach: map the pages only where that takes no
    /// table allocation and nothing is in the way (one L3 table that exists, entries not in
    /// use). false when it does not apply: nothing changed, and `up_shmat` does the work or
    /// gives the errno.
    fn up_shmat_fast(&self, env: &AddrEnv, pages: &[Pa], va: usize, rdonly: bool) -> bool;
    /// Unmap a shared range (NuttX `up_shmdt`), freeing emptied tables and invalidating the
    /// TLB by VA and ASID.
    fn up_shmdt(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize);
    /// Set a frame up to enter user code at `entry` with stack `sp` and x0/x1 = a0/a1.
    fn user_frame(&self, frame: &mut TrapFrame, entry: usize, sp: usize, a0: usize, a1: usize);
    /// The user thread pointer (TPIDR_EL0): read when a task is switched out, written when one
    /// is switched in, so that each process has its own.
    fn user_tls(&self) -> u64;
    fn set_user_tls(&self, v: u64);
    /// A switch's user state in one call (the switch path's cost is mostly calls): read the
    /// outgoing thread pointer, select `env` (as `addrenv_select`) and, given `tls`, make
    /// it the thread pointer where it differs. Returns the thread pointer as it was.
    fn user_switch(&self, env: Option<&AddrEnv>, tls: Option<u64>) -> u64 {
        let old = self.user_tls();
        self.addrenv_select(env);
        if let Some(v) = tls.filter(|&v| v != old) {
            self.set_user_tls(v);
        }
        old
    }
    /// Let user code use the FP/SIMD registers (on), or trap its first use (off). The
    /// kernel is soft-float and may always reach them itself.
    fn fp_enable(&self, on: bool);
    /// Copy the FP/SIMD registers out, or in.
    fn fp_save(&self, st: &mut FpState);
    fn fp_load(&self, st: &FpState);
    /// The longest the kernel has run with interrupts masked since boot (or the last reset),
    /// in nanoseconds; optionally start again from zero.
    fn max_masked_ns(&self, reset: bool) -> u64;
    /// Monotonic nanoseconds since boot.
    fn now_ns(&self) -> u64;
    /// The monotonic counter itself, at `tick_hz` ticks a second: cheaper to read than
    /// `now_ns` (no conversion), for checks against a deadline kept in ticks.
    fn ticks(&self) -> u64 {
        self.now_ns()
    }
    /// Counter ticks per second.
    fn tick_hz(&self) -> u64 {
        1_000_000_000
    }
    /// 64 random bits from the hardware's generator, where the CPU has one.
    fn entropy(&self) -> Option<u64> {
        None
    }
    /// Ask for a timer interrupt at monotonic time `ns` (None: no timer needed).
    fn set_deadline(&self, ns: Option<u64>);
    /// Wall-clock seconds since the epoch (the real-time clock).
    fn rtc_seconds(&self) -> u64;
    /// Hand console bytes to the UART without waiting: returns how many its transmit FIFO
    /// took (0 when it is full).
    fn console_tx(&self, bytes: &[u8]) -> usize;
    /// Ask for, or stop, the interrupt that says the UART can take more bytes (the board
    /// then calls `Kernel::console_tx_ready`).
    fn console_tx_irq(&self, on: bool);
    /// Power off; `code` is the emulator's exit status where the board can pass one.
    fn poweroff(&self, code: i32) -> !;
    fn reboot(&self) -> !;
}
