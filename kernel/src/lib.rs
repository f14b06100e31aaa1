//! The portable kernel: everything that is not hardware. Builds for the target and for the
//! host, where `cargo test` runs it against a fake architecture.
#![no_std]

extern crate alloc;
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod elf;
pub mod klog;
pub mod pgalloc;
pub mod phys;
pub mod pipe;
pub mod romfs;
pub mod sched;
pub mod shm;
pub mod syscall;
pub mod task;
pub mod uaccess;
pub mod up;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod shm_tests;
#[cfg(test)]
pub(crate) mod tests;

use alloc::boxed::Box;
use heapless::Deque;

use pgalloc::PageAlloc;
use romfs::RomFs;
use sched::Sched;
use task::{Task, MAX_TASKS};
use up::Arch;

/// Log a timestamped line to the console and the kernel log ring.
#[macro_export]
macro_rules! klog {
    ($k:expr, $($arg:tt)*) => {
        $k.log(format_args!($($arg)*))
    };
}

/// A kernel trace point: a defmt frame with the `trace` feature, nothing at all without it.
#[macro_export]
macro_rules! ktrace {
    ($fmt:literal $(, $arg:expr)* $(,)?) => {{
        #[cfg(feature = "trace")]
        defmt::info!($fmt $(, $arg)*);
        #[cfg(not(feature = "trace"))]
        {
            $(let _ = &$arg;)*
        }
    }};
}

/// Bytes of console input buffered for readers.
pub const CONSOLE_RX: usize = 4096;

/// Heap usage reported by the board's allocator: (total, used) bytes.
pub type HeapStats = fn() -> (usize, usize);

/// All kernel state. One instance, owned by the board; every entry from the architecture
/// layer (syscall, fault, interrupt) runs to completion on it with interrupts masked.
pub struct Kernel {
    pub arch: &'static dyn Arch,
    pub pg: PageAlloc,
    pub tasks: [Option<Box<Task>>; MAX_TASKS],
    pub sched: Sched,
    /// Slot of the task whose registers are live in the trap frame.
    pub current: Option<usize>,
    pub need_resched: bool,
    pub yield_now: bool,
    pub timers_dirty: bool,
    /// Earliest wake-up among blocked tasks, recomputed only when `sleepers_dirty`.
    pub next_sleeper: Option<u64>,
    pub sleepers_dirty: bool,
    /// Futex waiters in arrival order: (physical address, task slot, block sequence).
    pub futex_q: heapless::Vec<(phys::Pa, usize, u64), MAX_TASKS>,
    pub romfs: RomFs<'static>,
    /// Boxed: the ring is large and the kernel is built on the boot stack.
    pub log: Box<klog::KLog>,
    pub console_rx: Deque<u8, CONSOLE_RX>,
    pub heap_stats: HeapStats,
    /// Pipes by index (grown on demand up to pipe::MAX_PIPES).
    pub pipes: alloc::vec::Vec<Option<pipe::Pipe>>,
    /// Foreground process on the console (0: none): Ctrl-C sends it SIGINT.
    pub fg_pid: i32,
    /// System V shared-memory segments.
    pub shm: shm::ShmTable,
    /// Monotonic time at which the first user program was started.
    pub boot_ns: u64,
    /// Kernel image section sizes (text, rodata, data, bss), reported by the board.
    pub image: [u64; 4],
    /// Wall-clock seconds at monotonic time 0.
    pub rtc_base: u64,
    next_pid: i32,
    asids: [u64; 4],
    block_seq: u64,
}

impl Kernel {
    pub fn new(
        arch: &'static dyn Arch,
        pg: PageAlloc,
        romfs: RomFs<'static>,
        heap_stats: HeapStats,
    ) -> Kernel {
        let rtc_base = arch
            .rtc_seconds()
            .saturating_sub(arch.now_ns() / 1_000_000_000);
        Kernel {
            arch,
            pg,
            tasks: [const { None }; MAX_TASKS],
            sched: Sched::new(),
            current: None,
            need_resched: false,
            yield_now: false,
            timers_dirty: true,
            next_sleeper: None,
            sleepers_dirty: true,
            futex_q: heapless::Vec::new(),
            romfs,
            log: Box::new(klog::KLog::new()),
            console_rx: Deque::new(),
            heap_stats,
            shm: shm::ShmTable::new(),
            fg_pid: 0,
            pipes: alloc::vec::Vec::new(),
            boot_ns: 0,
            image: [0; 4],
            rtc_base,
            next_pid: 1,
            asids: [1, 0, 0, 0],
            block_seq: 0,
        }
    }

    pub fn log(&mut self, args: core::fmt::Arguments) {
        let now = self.arch.now_ns();
        let arch = self.arch;
        self.log.line(now, args, &mut |b| arch.console_write(b));
    }

    /// Wall-clock seconds (PL031 at boot plus monotonic time since).
    pub fn wall_seconds(&self) -> i64 {
        (self.rtc_base + self.arch.now_ns() / 1_000_000_000) as i64
    }

    /// Console bytes arrived (from the UART interrupt): buffer them and serve a blocked reader.
    pub fn console_input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == 0x03 && self.fg_pid > 0 {
                // Ctrl-C interrupts the foreground program instead of reaching a reader.
                let fg = core::mem::replace(&mut self.fg_pid, 0);
                let _ = self.kill(None, fg, abi::sys::SIGINT);
                continue;
            }
            if self.console_rx.push_back(b).is_err() {
                break; // full: the oldest input is kept, the excess dropped
            }
        }
        self.serve_console_readers();
    }
}

/// The one kernel instance, reached from the architecture layer's entry points.
pub mod global {
    use super::Kernel;
    use core::cell::UnsafeCell;

    pub struct Global(UnsafeCell<Option<Kernel>>);
    // SAFETY: one core; every access happens with interrupts masked (kernel entry), so there
    // is never more than one user of the instance at a time.
    unsafe impl Sync for Global {}

    static KERNEL: Global = Global(UnsafeCell::new(None));

    /// Install the kernel instance (once, at boot).
    pub fn install(k: Kernel) {
        // SAFETY: called once during single-threaded boot before any interrupt is enabled.
        unsafe { *KERNEL.0.get() = Some(k) }
    }

    /// The kernel instance.
    ///
    /// # Safety
    /// Call only from kernel entry code with interrupts masked, and do not hold the result
    /// across a point where another entry can run (the idle wait).
    pub unsafe fn get() -> &'static mut Kernel {
        // SAFETY: see above; installed at boot before the first entry.
        unsafe { (*KERNEL.0.get()).as_mut().expect("kernel installed") }
    }

    /// Whether `install` has happened (early faults report without a kernel).
    pub fn installed() -> bool {
        // SAFETY: a read of the Option tag under the same single-core rule.
        unsafe { (*KERNEL.0.get()).is_some() }
    }
}
