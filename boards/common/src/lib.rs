//! What every board's bring-up does the same way, whatever its devices: the kernel heap and
//! its `kheap=SIZE` boot argument, the image's sections from the linker script, Privileged
//! Access Never, polled boot messages, the panic handler, and the hand-over to the first user
//! program. A board crate's `board_main` calls these around its own discovery of memory and
//! devices (`boards/<board>/src/main.rs`). Target only: on the host the crate is empty.
#![cfg(target_os = "none")]
#![no_std]

extern crate alloc;

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::fmt::Write;

use arch::mmu::KernelLayout;
use arch::platform::ARCH;
use kernel::pgalloc::PageAlloc;
use kernel::phys::{v2p, PAGE_SIZE};
use kernel::smallcache::SmallCache;
use kernel::up::{Arch, TrapFrame};
use kernel::{klog, Kernel};
use linked_list_allocator::LockedHeap;

/// The kernel heap: a first-fit list (linked_list_allocator) with a cache of small freed
/// blocks in front of it (`kernel::smallcache`), both under the list's lock.
struct KernelHeap {
    heap: LockedHeap,
    /// Touched only with `heap` locked.
    cache: UnsafeCell<SmallCache>,
}

// SAFETY: `cache` is only reached while holding `heap`'s lock.
unsafe impl Sync for KernelHeap {}

#[global_allocator]
static HEAP: KernelHeap = KernelHeap {
    heap: LockedHeap::empty(),
    cache: UnsafeCell::new(SmallCache::new()),
};

// SAFETY: blocks come from the heap (small ones rounded to their class's layout, so they
// go back to it, or to the cache, with that layout); the cache holds only freed blocks.
unsafe impl GlobalAlloc for KernelHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut h = self.heap.lock();
        let layout = match SmallCache::class(layout) {
            Some(c) => {
                // SAFETY: the lock is held; cached blocks are freed ones of this class.
                if let Some(p) = unsafe { (*self.cache.get()).take(c) } {
                    return p;
                }
                SmallCache::heap_layout(c)
            }
            None => layout,
        };
        h.allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), |p| p.as_ptr())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut h = self.heap.lock();
        let layout = match SmallCache::class(layout) {
            Some(c) => {
                // SAFETY: the lock is held; ptr is a block of this class the caller is done with.
                if unsafe { (*self.cache.get()).give(c, ptr) } {
                    return;
                }
                SmallCache::heap_layout(c)
            }
            None => layout,
        };
        // SAFETY: ptr was allocated from this heap with `layout` (see alloc).
        unsafe { h.deallocate(core::ptr::NonNull::new_unchecked(ptr), layout) }
    }
}

/// Kernel heap size (the `kheap=SIZE` boot argument changes it, within the bounds below).
const HEAP_PAGES: usize = 512;
/// Largest heap `kheap=` may ask for (the smallest is what the boot-time tables need).
const HEAP_PAGES_MAX: usize = 16384;

/// `kheap=SIZE` (bytes, or with a K or M suffix) from the boot arguments, in pages: at least
/// what the boot-time tables need plus 64 KiB, whatever is asked.
pub fn heap_pages(bootargs: &str) -> usize {
    let min = (Kernel::boot_heap_bytes() + (64 << 10)).div_ceil(PAGE_SIZE);
    asked_heap_pages(bootargs).clamp(min, HEAP_PAGES_MAX.max(min))
}

/// The heap `kheap=` asks for, in pages (the default without it).
pub fn asked_heap_pages(bootargs: &str) -> usize {
    let Some(v) = bootargs
        .split_whitespace()
        .find_map(|w| w.strip_prefix("kheap="))
    else {
        return HEAP_PAGES;
    };
    let (num, mult) = match v.as_bytes().last() {
        Some(b'K' | b'k') => (&v[..v.len() - 1], 1 << 10),
        Some(b'M' | b'm') => (&v[..v.len() - 1], 1 << 20),
        _ => (v, 1),
    };
    num.parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .map_or(HEAP_PAGES, |b| b.div_ceil(PAGE_SIZE))
}

/// Take `pages` contiguous pages from `pg` for the kernel heap (the global allocator).
pub fn init_heap(pg: &mut PageAlloc, pages: usize) {
    let heap = pg
        .alloc_contig(pages, 1)
        .unwrap_or_else(|| fatal("no memory for the heap"));
    // SAFETY: the heap pages were just allocated for this and are reached via the linear map.
    unsafe {
        HEAP.heap
            .lock()
            .init(kernel::phys::p2v(heap), pages * PAGE_SIZE)
    };
}

/// The kernel heap's (size, used) in bytes, for `free` and the kernel's statistics.
/// Blocks in the small-block cache count as free.
pub fn heap_stats() -> (usize, usize) {
    let h = HEAP.heap.lock();
    // SAFETY: the lock is held.
    let cached = unsafe { (*HEAP.cache.get()).cached_bytes() };
    (h.size(), h.used() - cached)
}

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __data_end: u8;
    static __bss_start: u8;
    static __bss_end: u8;
    static __noinit_end: u8;
    static __kernel_end: u8;
}

/// The kernel image's sections (kernel virtual addresses), from the board's linker script.
pub struct Image {
    pub start: usize,
    pub text_end: usize,
    pub rodata_end: usize,
    pub data_end: usize,
    pub bss_start: usize,
    pub bss_end: usize,
    /// End of the uninitialised memory after bss (the boot stack), which boot.S leaves as is.
    pub noinit_end: usize,
    pub end: usize,
}

impl Image {
    pub fn get() -> Image {
        fn sym(s: &u8) -> usize {
            s as *const u8 as usize
        }
        // SAFETY: linker-script symbols; only their addresses are used.
        unsafe {
            Image {
                start: sym(&__image_start),
                text_end: sym(&__text_end),
                rodata_end: sym(&__rodata_end),
                data_end: sym(&__data_end),
                bss_start: sym(&__bss_start),
                bss_end: sym(&__bss_end),
                noinit_end: sym(&__noinit_end),
                end: sym(&__kernel_end),
            }
        }
    }

    /// What `arch::mmu::init_kernel_map` needs (physical addresses).
    pub fn layout(&self) -> KernelLayout {
        KernelLayout {
            image_start: v2p(self.start),
            text_end: v2p(self.text_end),
            rodata_end: v2p(self.rodata_end),
        }
    }

    /// Record the section sizes in the kernel and log them with the kernel map's table pages
    /// and the heap (and a note when `kheap=` asked for less than the boot-time tables need).
    pub fn log(&self, k: &mut Kernel, kmap_pages: usize, heap_pages: usize, bootargs: &str) {
        let (text, rodata, data, bss) = (
            self.text_end - self.start,
            self.rodata_end - self.text_end,
            self.data_end - self.rodata_end,
            // What the image leaves to RAM: zeroed bss and the boot stack after it.
            self.noinit_end - self.bss_start,
        );
        k.image = [text as u64, rodata as u64, data as u64, bss as u64];
        klog!(
            k,
            "kernel: text {} KiB, rodata {} KiB, data {} KiB, bss {} KiB; W^X map in {} table pages; heap {} KiB",
            text / 1024,
            rodata / 1024,
            data / 1024,
            bss / 1024,
            kmap_pages,
            heap_pages * PAGE_SIZE / 1024
        );
        if asked_heap_pages(bootargs) < heap_pages {
            klog!(
                k,
                "kheap: raised to {} KiB, what the kernel's boot-time tables need",
                heap_pages * PAGE_SIZE / 1024
            );
        }
    }
}

/// Polled output on the board's console, for messages before the kernel's log exists.
pub struct Early;

impl Write for Early {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        ARCH.console_bytes(s.as_bytes());
        Ok(())
    }
}

/// Report a boot failure and stop (exit status 70 under semihosting).
pub fn fatal(msg: &str) -> ! {
    let _ = writeln!(Early, "boot: {}", msg);
    arch::platform::halt(70)
}

/// Turn on Privileged Access Never when the CPU has it: the kernel never dereferences user
/// addresses (it copies through the linear map), so any such access is a bug caught at once.
pub fn enable_pan() -> bool {
    use aarch64_cpu::registers::{ID_AA64MMFR1_EL1, SCTLR_EL1};
    use tock_registers::interfaces::{Readable, Writeable};
    if ID_AA64MMFR1_EL1.read(ID_AA64MMFR1_EL1::PAN) == 0 {
        return false;
    }
    // SPAN (bit 23) clear: PAN is set again on every exception entry.
    SCTLR_EL1.set(SCTLR_EL1.get() & !(1 << 23));
    // SAFETY: sets PSTATE.PAN (msr pan, #1); the kernel reaches user memory only by physical page.
    unsafe { core::arch::asm!(".inst 0xd500419f", options(nostack)) };
    true
}

/// Start `init` with the boot arguments as its arguments, record the boot time (from
/// `entry_ticks`, the counter at kernel entry), install the kernel and run the first task.
pub fn start(mut k: Kernel, bootargs: &str, entry_ticks: u64) -> ! {
    let mut args: heapless::Vec<u8, 256> = heapless::Vec::new();
    let _ = args.extend_from_slice(b"init\0");
    for w in bootargs.split_whitespace() {
        let _ = args.extend_from_slice(w.as_bytes());
        let _ = args.push(0);
    }
    match k.spawn("init", &args, None) {
        Ok(pid) => k.init_pid = pid,
        Err(e) => {
            klog!(k, "cannot start init: {}", e.name());
            arch::platform::halt(71);
        }
    }
    k.boot_ns = ARCH.now_ns() - arch::timer::ticks_to_ns(entry_ticks);
    k.entry_ticks = Some(arch::exception::masked::stamp());
    kernel::global::install(k);

    let mut frame = TrapFrame::default();
    // A masked stretch begins here as at any kernel entry: the scheduler's stamp and the
    // stretch tracker both start from now, not from the counter's zero.
    arch::exception::masked::begin();
    let src = arch::exception::return_to_user(&mut frame);
    // SAFETY: src holds the first task's user state, chosen by the scheduler (`frame` or the
    // task's own, which stays put until the next kernel entry).
    unsafe { arch::enter_user(src) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Early, "\nKERNEL PANIC: {}", info);
    arch::platform::halt(70)
}
