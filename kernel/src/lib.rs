//! The portable kernel: everything that is not hardware. Builds for the target and for the
//! host, where `cargo test` runs it against a fake architecture.
#![no_std]

extern crate alloc;
#[cfg(not(target_os = "none"))]
extern crate std;

pub mod elf;
pub mod fs;
pub mod klog;
pub mod mm;
pub mod pgalloc;
pub mod phys;
pub mod sched;
pub mod signal;
pub mod smallcache;
pub mod syscall;
pub mod task;
pub mod uaccess;
pub mod up;
pub mod work;

#[cfg(test)]
mod fake;
#[cfg(test)]
mod fp_tests;
#[cfg(test)]
mod fs_tests;
#[cfg(test)]
mod futex_tests;
#[cfg(test)]
mod large_tests;
#[cfg(test)]
mod mmap_tests;
#[cfg(test)]
mod pshm_tests;
#[cfg(test)]
mod robust_tests;
#[cfg(test)]
mod shm_tests;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod wait_tests;

use alloc::boxed::Box;

use fs::romfs::RomFs;
use pgalloc::PageAlloc;
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

/// Heap usage reported by the board's allocator: (total, used) bytes.
pub type HeapStats = fn() -> (usize, usize);

/// All kernel state. One instance, owned by the board; every entry from the architecture
/// layer (syscall, fault, interrupt) runs to completion on it with interrupts masked.
pub struct Kernel {
    pub arch: &'static dyn Arch,
    pub pg: PageAlloc,
    /// The task table, MAX_TASKS slots allocated once at boot: spawning never allocates.
    pub tasks: Box<[Option<Task>]>,
    pub sched: Sched,
    /// Slot of the task whose registers are live in the trap frame.
    pub current: Option<usize>,
    pub need_resched: bool,
    pub yield_now: bool,
    pub timers_dirty: bool,
    /// The deadline the timer holds (None: disarmed, as after it fired).
    pub armed: Option<u64>,
    /// `armed` in counter ticks, rounded up: what the switch path compares with a slice end.
    armed_ticks: u64,
    /// The counter as read when the current kernel entry began (the arch's stamp, written on
    /// every entry and after every idle wait or interrupt window), so that the scheduler does
    /// not read it again through `arch`; None (host tests): `arch.ticks()`.
    pub entry_ticks: Option<&'static core::sync::atomic::AtomicU64>,
    /// Counter ticks a second, and the time slice in ticks (slice ends are kept in ticks: no
    /// conversion per check). Any real counter runs below 18 GHz, so a tick count below one
    /// second's times 10^9 fits 64 bits.
    tick_hz: core::num::NonZeroU64,
    slice_ticks: u64,
    /// Earliest wake-up among blocked tasks, recomputed only when `sleepers_dirty`.
    pub next_sleeper: Option<u64>,
    pub sleepers_dirty: bool,
    /// Futex waiters, a queue per hash bucket of the word's physical address.
    pub futex: [sched::wait::WaitQueue; sched::wait::FUTEX_BUCKETS],
    pub romfs: RomFs<'static>,
    /// Boxed: the ring is large and the kernel is built on the boot stack.
    pub log: Box<klog::KLog>,
    /// Console input and output buffers.
    pub console: Box<fs::console::Console>,
    pub heap_stats: HeapStats,
    /// Open file descriptions, system-wide.
    pub files: Box<fs::file::Files>,
    /// Pipes by index (boxed: the kernel instance is initialised data, of which the
    /// table was a third).
    pub pipes: Box<[Option<fs::pipe::Pipe>; fs::pipe::MAX_PIPES]>,
    /// Foreground process on the console (0: none): Ctrl-C sends it SIGINT.
    pub fg_pid: i32,
    /// Session that has the console as its controlling terminal (its leader's pid; 0: none).
    pub console_sid: i32,
    /// The first process (the board marks it): it may not be signalled, and if it ends
    /// anyway the system powers off. 0 while there is none (host tests).
    pub init_pid: i32,
    /// System V shared-memory segments.
    pub shm: mm::shm::ShmTable,
    /// Shared-memory objects (every front end's).
    pub objs: mm::shm::object::Objects,
    /// The `/dev/shm` names (boxed: 128 names of up to 255 bytes).
    pub shm_names: Box<mm::shm::posix::ShmNames>,
    /// Monotonic time at which the first user program was started.
    pub boot_ns: u64,
    /// Kernel image section sizes (text, rodata, data, bss), reported by the board.
    pub image: [u64; 4],
    /// Wall-clock seconds at monotonic time 0.
    pub rtc_base: u64,
    /// Pages waiting to be freed in steps (destroyed segments).
    pub reclaim: Box<work::Reclaim>,
    /// Descriptors offered with share(), waiting for claim().
    pub keys: fs::share::Keys,
    /// Set by a syscall whose result comes later (its kernel work goes on).
    pub deferred: bool,
    /// A syscall just ran: an interrupt window comes before any work step it left.
    pub work_fresh: bool,
    /// Nonzero: the current task's live registers are its task slot's frame, at this
    /// address, not the entry's (a switch loads no copy; see `schedule_lazy` and
    /// `return_frame`).
    frame_in_task: usize,
    /// The current task's slot frame's address (0: no current task), kept with `current`.
    current_frame: usize,
    /// The task whose FP/SIMD registers are in the hardware (lazy switching: they move only
    /// when another task uses FP), and whether user code may use them now.
    pub fp_owner: Option<usize>,
    pub fp_on: bool,
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
            tasks: (0..MAX_TASKS).map(|_| None).collect(),
            sched: Sched::new(),
            current: None,
            need_resched: false,
            yield_now: false,
            timers_dirty: true,
            armed: None,
            armed_ticks: 0,
            entry_ticks: None,
            tick_hz: core::num::NonZeroU64::new(arch.tick_hz())
                .unwrap_or(core::num::NonZeroU64::MIN),
            slice_ticks: task::SLICE_NS * arch.tick_hz() / 1_000_000_000,
            next_sleeper: None,
            sleepers_dirty: true,
            futex: [sched::wait::WaitQueue::new(); sched::wait::FUTEX_BUCKETS],
            romfs,
            log: Box::new(klog::KLog::new()),
            console: Box::default(),
            heap_stats,
            shm: mm::shm::ShmTable::new(),
            objs: Default::default(),
            shm_names: Box::default(),
            fg_pid: 0,
            console_sid: 0,
            init_pid: 0,
            files: Box::default(),
            pipes: Box::new([const { None }; fs::pipe::MAX_PIPES]),
            boot_ns: 0,
            image: [0; 4],
            rtc_base,
            next_pid: 1,
            reclaim: Box::default(),
            keys: Default::default(),
            deferred: false,
            work_fresh: false,
            frame_in_task: 0,
            current_frame: 0,
            asids: [1, 0, 0, 0],
            block_seq: 0,
            fp_owner: None,
            fp_on: false,
        }
    }

    /// Kernel heap the boot-time tables take (task table, log ring, shm ids, console
    /// buffers, reclaim queue), with room for the allocator's own bookkeeping.
    pub fn boot_heap_bytes() -> usize {
        use core::mem::size_of;
        let tables = MAX_TASKS * size_of::<Option<Task>>()
            + size_of::<klog::KLog>()
            + abi::shm::SHMMNI * size_of::<Option<mm::shm::Segment>>()
            + mm::shm::object::MAX_OBJECTS * size_of::<Option<mm::shm::ShmObj>>()
            + size_of::<mm::shm::posix::ShmNames>()
            + size_of::<fs::console::Console>()
            + size_of::<fs::file::Files>()
            + size_of::<work::Reclaim>();
        tables + tables / 8 + 4096
    }

    /// What namespace lookups read.
    pub fn ns(&self) -> fs::namespace::Ns<'_> {
        fs::namespace::Ns {
            rom: &self.romfs,
            shm: &self.shm_names,
        }
    }

    pub fn log(&mut self, args: core::fmt::Arguments) {
        let now = self.arch.now_ns();
        let mut line: heapless::Vec<u8, { klog::LINE }> = heapless::Vec::new();
        self.log
            .line(now, args, &mut |b| drop(line.extend_from_slice(b)));
        self.console_kernel_out(&line);
    }

    /// Wall-clock seconds (PL031 at boot plus monotonic time since).
    pub fn wall_seconds(&self) -> i64 {
        (self.rtc_base + self.arch.now_ns() / 1_000_000_000) as i64
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
    #[inline]
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
