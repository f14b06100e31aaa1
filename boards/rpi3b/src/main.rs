//! Raspberry Pi 3 Model B (BCM2837, four Cortex-A53), on the board or under QEMU
//! `-M raspi3b`: parks the secondary cores, learns the RAM size and the command line from
//! ATAGS or a device tree, brings the kernel up in order (memory, kernel map, heap,
//! interrupts, timer, console) and starts the first user program.
#![no_std]
#![no_main]

mod board;
mod gpio;
mod memmap;
mod pm;

use arch::atags::Atags;
use arch::fdtscan::{self, FdtScan};
use arch::irq::IrqChip;
use arch::mmu::{self, KOFF};
use arch::platform::ARCH;
use arch::uart::Uart;
use board::{INTC, UART};
use board_common::{enable_pan, fatal, heap_stats, Image};
use kernel::fs::romfs::RomFs;
use kernel::pgalloc::PageAlloc;
use kernel::phys::{page_round_up, v2p, PAGE_SIZE};
use kernel::{klog, Kernel};
use memmap::{
    ARMCTRL_IRQ, BAUD, DEVICES, GPIO, LOCAL, PM, RAM_DEFAULT, RAM_LIMIT, SPIN_TABLE, UART0,
    UART_CLOCK,
};

/// The rom file system image, page aligned: its files are 16-byte aligned inside it, so
/// loading a program copies whole words (an unaligned source is copied byte by byte).
#[repr(C, align(4096))]
struct PageAligned<T: ?Sized>(T);
static ROMFS_IMAGE: &PageAligned<[u8]> =
    &PageAligned(*include_bytes!(concat!(env!("OUT_DIR"), "/romfs.img")));
static ROMFS: &[u8] = &ROMFS_IMAGE.0;

// Where the secondary cores go: interrupts masked, wait for interrupt forever. They run it at
// its physical address, at EL2 with the MMU off, so it must be position independent.
core::arch::global_asm!(
    ".pushsection .text.rpi3b_park, \"ax\", %progbits",
    ".global rpi3b_park",
    ".balign 8",
    "rpi3b_park:",
    "    msr daifset, #0xf",
    "1:  wfi",
    "    b 1b",
    ".popsection",
);

extern "C" {
    fn rpi3b_park() -> !;
}

/// Release cores 1-3 from the boot stub's spin table into `rpi3b_park`. Left in the stub
/// they would spin on `wfe` (QEMU burns a host CPU for each), and they would run whatever the
/// kernel later writes to the first page. The slot is cleaned to the point of coherency
/// before the event: the waiting cores read it with their caches off.
fn park_secondaries() {
    let entry = rpi3b_park as *const () as usize - KOFF;
    for core in 1..4 {
        let slot = (KOFF + SPIN_TABLE + 8 * core) as *mut u64;
        // SAFETY: the spin table's slots, in the first page of RAM (mapped by the boot map and
        // never handed out); the core waiting on it jumps to `entry`, which parks it.
        unsafe {
            slot.write_volatile(entry as u64);
            core::arch::asm!("dc civac, {}", in(reg) slot, options(nostack));
        }
    }
    // SAFETY: barrier and event only.
    unsafe { core::arch::asm!("dsb sy", "sev", options(nostack)) };
}

/// What the boot loader said: ARM RAM size, where that came from, the command line.
struct BootInfo {
    ram_size: usize,
    /// The device tree's memory reservations, (start, end): the page allocator keeps clear
    /// of them (the firmware's reserves its first page, below the image).
    reserved: heapless::Vec<(usize, usize), 8>,
    source: &'static str,
    bootargs: heapless::String<256>,
}

/// Largest device tree taken (QEMU's grow to 2 MiB; the firmware's are some 30 KiB).
const DTB_MAX: usize = 16 << 20;

/// The words of `cmdline` that `keep` accepts, as many as fit.
fn words(cmdline: &str, keep: impl Fn(&str) -> bool) -> heapless::String<256> {
    let mut s = heapless::String::new();
    for w in cmdline.split_whitespace().filter(|w| keep(w)) {
        if s.len() + w.len() + 1 > s.capacity() {
            break;
        }
        if !s.is_empty() {
            let _ = s.push(' ');
        }
        let _ = s.push_str(w);
    }
    s
}

/// Read x0's boot information: a device tree (the Pi firmware), ATAGS (QEMU's raw-image
/// boot without -dtb), or nothing (the defaults). Everything kept is copied out, so the
/// boot loader's data may be overwritten afterwards. (boot.S has cleared the kernel's BSS
/// before this runs: a tree placed there would be lost.)
fn boot_info(x0: usize) -> BootInfo {
    let fallback = |why: &'static str| BootInfo {
        ram_size: RAM_DEFAULT,
        reserved: heapless::Vec::new(),
        source: why,
        bootargs: heapless::String::new(),
    };
    if x0 == 0 || !x0.is_multiple_of(8) || x0 >= RAM_LIMIT - 4096 {
        return fallback("the board's default: no boot information at x0");
    }
    let p = (KOFF + x0) as *const u32;
    // SAFETY: x0 is in RAM below the peripherals, mapped by the boot map; aligned.
    let magic = u32::from_be(unsafe { p.read_volatile() });
    if magic == fdtscan::FDT_MAGIC {
        return dtb_info(x0)
            .unwrap_or_else(|| fallback("the board's default: the device tree is malformed"));
    }
    // SAFETY: as above; a page from x0 stays in RAM.
    let bytes = unsafe { core::slice::from_raw_parts(p as *const u8, 4096) };
    let Some(atags) = Atags::new(bytes) else {
        return fallback("the board's default: neither a device tree nor ATAGS at x0");
    };
    BootInfo {
        ram_size: match atags.memory() {
            Some((0, size)) => size,
            _ => RAM_DEFAULT,
        },
        reserved: heapless::Vec::new(),
        source: "ATAGS",
        bootargs: words(atags.cmdline().unwrap_or(""), |_| true),
    }
}

fn dtb_info(x0: usize) -> Option<BootInfo> {
    // SAFETY: x0 is in RAM below the peripherals, mapped by the boot map; the header's first
    // words are there (checked by the caller's bound).
    let header = unsafe { core::slice::from_raw_parts((KOFF + x0) as *const u8, 8) };
    let size = fdtscan::total_size(header)?;
    if size > DTB_MAX || size > RAM_LIMIT - x0 {
        return None;
    }
    // SAFETY: as above, for the tree's whole size (bounded by the RAM below the peripherals).
    let fdt = FdtScan::new(unsafe { core::slice::from_raw_parts((KOFF + x0) as *const u8, size) })?;
    let ram_size = fdt
        .memory()
        .find(|&(start, _)| start == 0)
        .map_or(RAM_DEFAULT, |(_, size)| size as usize);
    let reserved = fdt
        .reservations()
        .map(|(a, s)| (a as usize, a.saturating_add(s) as usize))
        .take(8)
        .collect();
    // The firmware puts its own words for Linux first (coherent_pool=1M, 8250.nr_uarts=1,
    // bcm2708_fb.fbwidth=..., vc_mem.mem_base=...): driver parameters have a dot, and are
    // dropped so that cmdline.txt's words fit.
    Some(BootInfo {
        ram_size,
        reserved,
        source: "device tree",
        bootargs: words(fdt.bootargs().unwrap_or(""), |w| !w.contains('.')),
    })
}

/// The page allocator's range: RAM from `start` (the image's end) to `end`, less the
/// reservations (the allocator takes one run: one that meets its start moves it up, one
/// above cuts it short), in whole pages.
fn free_range(start: usize, end: usize, reserved: &[(usize, usize)]) -> (usize, usize) {
    let (mut start, mut end) = (start, end);
    for &(a, b) in reserved {
        if b <= start || a >= end {
            continue;
        }
        if a <= start {
            start = page_round_up(b);
        } else {
            end = a;
        }
    }
    (start, end & !(PAGE_SIZE - 1))
}

#[no_mangle]
extern "C" fn board_main(x0: usize, entry_el: usize, entry_ticks: u64) -> ! {
    // entry_ticks: the counter at the kernel's first instruction (boot.S), where boot time
    // is measured from.
    kernel::phys::set_phys_offset(KOFF);
    arch::zero::init();
    kernel::phys::set_zero_pages(arch::zero::zero_pages);
    park_secondaries();
    // SAFETY: the BCM2837's UART0, GPIO and PM blocks, in the boot map's device blocks (and
    // later in the kernel map's device window).
    unsafe {
        UART.set_base(KOFF + UART0);
        pm::PM.set_base(KOFF + PM);
    }
    ARCH.set_board(&board::BOARD);
    let img = Image::get();
    let info = boot_info(x0);
    ARCH.set_semihosting(info.bootargs.split_whitespace().any(|w| w == "semihosting"));
    // SAFETY: as above.
    unsafe { gpio::uart0_pins(KOFF + GPIO) };
    UART.set_baud(UART_CLOCK, BAUD);
    UART.init();

    let ram = (0, info.ram_size.min(RAM_LIMIT));
    let (free_start, free_end) = free_range(page_round_up(v2p(img.end)), ram.1, &info.reserved);
    if free_start >= free_end {
        fatal("no RAM after the kernel image");
    }
    // SAFETY: [free_start, free_end) is RAM after the kernel image that nothing else uses
    // (the boot stub, spin table and ATAGS are in the first page, below the image).
    let mut pg = unsafe { PageAlloc::new(free_start, (free_end - free_start) / PAGE_SIZE) };
    let heap_pages = board_common::heap_pages(&info.bootargs);
    board_common::init_heap(&mut pg, heap_pages);
    let kmap_pages = mmu::init_kernel_map(&mut pg, ram, &DEVICES, &img.layout())
        .unwrap_or_else(|_| fatal("kernel map"));

    // SAFETY: the two controllers' registers, inside the kernel map's device windows.
    unsafe { INTC.init(KOFF + LOCAL.0, KOFF + ARMCTRL_IRQ) };
    arch::timer::init();
    INTC.enable(ARCH.board().timer_irq());
    INTC.enable(ARCH.board().console_irq());
    let pan = enable_pan();

    let romfs = RomFs::new(ROMFS).unwrap_or_else(|| fatal("bad rom file system"));
    let mut k = Kernel::new(&ARCH, pg, romfs, heap_stats);
    klog!(
        k,
        "nx-rtos: Raspberry Pi 3B, entered at EL{}, running at EL1; PAN {}; cores 1-3 parked",
        entry_el,
        if pan { "on" } else { "not present" }
    );
    klog!(
        k,
        "memory: {} MiB at {:#x} ({}); {} pages free of {}",
        ram.1 >> 20,
        ram.0,
        info.source,
        k.pg.free(),
        k.pg.total()
    );
    img.log(&mut k, kmap_pages, heap_pages, &info.bootargs);
    klog!(
        k,
        "BCM2836 intc at {:#x}; timer {} Hz (IRQ {}); console PL011 at {:#x} (IRQ {}); {} programs in romfs",
        LOCAL.0,
        arch::timer::freq(),
        ARCH.board().timer_irq(),
        UART0,
        ARCH.board().console_irq(),
        k.romfs.len()
    );
    board_common::start(k, &info.bootargs, entry_ticks)
}
