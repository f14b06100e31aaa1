//! QEMU virt board: finds the hardware in the device tree, brings the kernel up in order
//! (memory, kernel map, heap, interrupts, timer, console) and starts the first user program.
#![no_std]
#![no_main]

extern crate alloc;

use core::fmt::Write;

mod board;
mod memmap;
#[cfg(feature = "trace")]
mod trace;
#[cfg(feature = "trace")]
use defmt_semihosting as _;

use arch::gic::Version;
use arch::irq::IrqChip;
use arch::mmu::{self, KernelLayout, KOFF};
use arch::platform::ARCH;
use arch::uart::Uart;
use board::{QemuVirt, GIC, PSCI, RTC, UART};
use fdt::Fdt;
use kernel::fs::romfs::RomFs;
use kernel::pgalloc::PageAlloc;
use kernel::phys::{page_round_up, v2p, PAGE_SIZE};
use kernel::up::{Arch, TrapFrame};
use kernel::{klog, Kernel};
use linked_list_allocator::LockedHeap;

#[global_allocator]
static HEAP: LockedHeap = LockedHeap::empty();

/// Kernel heap size (the `kheap=SIZE` boot argument changes it, within the bounds below).
const HEAP_PAGES: usize = 512;
/// Largest heap `kheap=` may ask for (the smallest is what the boot-time tables need).
const HEAP_PAGES_MAX: usize = 16384;

/// `kheap=SIZE` (bytes, or with a K or M suffix) from the boot arguments, in pages: at least
/// what the boot-time tables need plus 64 KiB, whatever is asked.
fn heap_pages(bootargs: &str) -> usize {
    let min = (Kernel::boot_heap_bytes() + (64 << 10)).div_ceil(PAGE_SIZE);
    asked_heap_pages(bootargs).clamp(min, HEAP_PAGES_MAX.max(min))
}

fn asked_heap_pages(bootargs: &str) -> usize {
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
use memmap::{
    DTB_DEFAULT, EARLY_UART, EARLY_UART_IRQ, GICC_DEFAULT, GICD_DEFAULT, GICR_DEFAULT, RAM_LIMIT,
    RTC_DEFAULT, TIMER_IRQ_DEFAULT,
};

/// The rom file system image, page aligned: its files are 16-byte aligned inside it, so
/// loading a program copies whole words (an unaligned source is copied byte by byte).
#[repr(C, align(4096))]
struct PageAligned<T: ?Sized>(T);
static ROMFS_IMAGE: &PageAligned<[u8]> =
    &PageAligned(*include_bytes!(concat!(env!("OUT_DIR"), "/romfs.img")));
static ROMFS: &[u8] = &ROMFS_IMAGE.0;

extern "C" {
    static __image_start: u8;
    static __text_end: u8;
    static __rodata_end: u8;
    static __data_end: u8;
    static __bss_start: u8;
    static __bss_end: u8;
    static __kernel_end: u8;
}

fn sym(s: &u8) -> usize {
    s as *const u8 as usize
}

struct Early;
impl Write for Early {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        ARCH.console_bytes(s.as_bytes());
        Ok(())
    }
}

fn fatal(msg: &str) -> ! {
    let _ = writeln!(Early, "boot: {}", msg);
    arch::platform::halt(70)
}

fn be32(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
    ))
}

/// INTID of interrupt specifier `n` of a node whose interrupts use GIC 3-cell specifiers.
fn gic_intid(node: fdt::node::FdtNode, n: usize) -> Option<u32> {
    let v = node.property("interrupts")?.value;
    let (kind, num) = (be32(v, n * 3)?, be32(v, n * 3 + 1)?);
    Some(if kind == 1 { num + 16 } else { num + 32 })
}

fn reg(node: fdt::node::FdtNode, i: usize) -> Option<usize> {
    node.reg()?.nth(i).map(|r| r.starting_address as usize)
}

/// What the device tree says beyond the devices it places.
struct DtInfo {
    ram: (usize, usize),
    gic: (Version, usize, usize),
    bootargs: heapless::String<256>,
}

fn read_dtb(dtb_pa: usize) -> DtInfo {
    // SAFETY: the boot map covers the first 4 GiB, so the DTB is readable at KOFF + pa.
    let fdt = unsafe { Fdt::from_ptr((KOFF + dtb_pa) as *const u8) }
        .unwrap_or_else(|_| fatal("no valid device tree"));
    let m = fdt
        .memory()
        .regions()
        .next()
        .unwrap_or_else(|| fatal("device tree has no memory"));
    let start = m.starting_address as usize;
    let size = m.size.unwrap_or(0).min(RAM_LIMIT.saturating_sub(start));
    let uart = fdt
        .find_compatible(&["arm,pl011"])
        .unwrap_or_else(|| fatal("no PL011"));
    let rtc = fdt.find_compatible(&["arm,pl031"]);
    let timer = fdt.find_compatible(&["arm,armv8-timer", "arm,armv7-timer"]);
    let bootargs = fdt.chosen().bootargs().unwrap_or("");
    // SAFETY: device-tree addresses of a PL011 and a PL031, in the boot map's device GiB.
    unsafe {
        UART.set_base(KOFF + reg(uart, 0).unwrap_or(EARLY_UART));
        RTC.set_base(KOFF + rtc.and_then(|n| reg(n, 0)).unwrap_or(RTC_DEFAULT));
    }
    QemuVirt.set_irqs(
        gic_intid(uart, 0).unwrap_or(EARLY_UART_IRQ),
        // The third timer interrupt is the EL1 virtual timer.
        timer
            .and_then(|n| gic_intid(n, 2))
            .unwrap_or(TIMER_IRQ_DEFAULT),
    );
    ARCH.set_semihosting(bootargs.split_whitespace().any(|w| w == "semihosting"));
    let smc = fdt
        .find_node("/psci")
        .and_then(|n| n.property("method"))
        .and_then(|p| p.as_str())
        .is_some_and(|m| m == "smc");
    PSCI.set_conduit(smc);
    let gic = if let Some(n) = fdt.find_compatible(&["arm,gic-v3"]) {
        (
            Version::V3,
            reg(n, 0).unwrap_or(GICD_DEFAULT),
            reg(n, 1).unwrap_or(GICR_DEFAULT),
        )
    } else if let Some(n) = fdt.find_compatible(&["arm,cortex-a15-gic", "arm,gic-400"]) {
        (
            Version::V2,
            reg(n, 0).unwrap_or(GICD_DEFAULT),
            reg(n, 1).unwrap_or(GICC_DEFAULT),
        )
    } else {
        fatal("no supported interrupt controller")
    };
    DtInfo {
        ram: (start, size),
        gic,
        bootargs: heapless::String::try_from(bootargs).unwrap_or_default(),
    }
}

fn heap_stats() -> (usize, usize) {
    let h = HEAP.lock();
    (h.size(), h.used())
}

/// Turn on Privileged Access Never when the CPU has it: the kernel never dereferences user
/// addresses (it copies through the linear map), so any such access is a bug caught at once.
fn enable_pan() -> bool {
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

#[no_mangle]
extern "C" fn board_main(dtb_pa: usize, entry_el: usize) -> ! {
    // Counter at kernel entry: boot time is measured from here, not from QEMU's start.
    let entry_ticks = arch::timer::ticks();
    kernel::phys::set_phys_offset(KOFF);
    kernel::phys::set_zero_page(mmu::zero_page);
    // SAFETY: QEMU virt's PL011, in the boot map's device GiB.
    unsafe { UART.set_base(KOFF + EARLY_UART) };
    ARCH.set_board(&board::BOARD);
    let dt = read_dtb(if dtb_pa != 0 { dtb_pa } else { DTB_DEFAULT });
    UART.init();

    // SAFETY: linker-script symbols; only their addresses are used.
    let (img, text_end, rodata_end, data_end, bss_start, bss_end, kend) = unsafe {
        (
            sym(&__image_start),
            sym(&__text_end),
            sym(&__rodata_end),
            sym(&__data_end),
            sym(&__bss_start),
            sym(&__bss_end),
            sym(&__kernel_end),
        )
    };
    let (ram_start, ram_size) = dt.ram;
    let free_start = page_round_up(v2p(kend));
    let ram_end = ram_start + ram_size;
    if free_start >= ram_end {
        fatal("no RAM after the kernel image");
    }
    // SAFETY: [free_start, ram_end) is RAM after the kernel image that nothing else uses.
    let mut pg = unsafe { PageAlloc::new(free_start, (ram_end - free_start) / PAGE_SIZE) };
    let heap_pages = heap_pages(&dt.bootargs);
    let heap = pg
        .alloc_contig(heap_pages, 1)
        .unwrap_or_else(|| fatal("no memory for the heap"));
    // SAFETY: the heap pages were just allocated for this and are reached via the linear map.
    unsafe {
        HEAP.lock()
            .init(kernel::phys::p2v(heap), heap_pages * PAGE_SIZE)
    };
    let layout = KernelLayout {
        image_start: v2p(img),
        text_end: v2p(text_end),
        rodata_end: v2p(rodata_end),
    };
    let kmap_pages = mmu::init_kernel_map(&mut pg, dt.ram, &[memmap::DEVICES], &layout)
        .unwrap_or_else(|_| fatal("kernel map"));

    let (gv, gd, gc) = dt.gic;
    // SAFETY: addresses from the device tree, inside the device window of the kernel map.
    unsafe { GIC.init(gv, KOFF + gd, KOFF + gc) };
    arch::timer::init();
    GIC.enable(ARCH.board().timer_irq());
    GIC.enable(ARCH.board().console_irq());
    let pan = enable_pan();

    let romfs = RomFs::new(ROMFS).unwrap_or_else(|| fatal("bad rom file system"));
    let mut k = Kernel::new(&ARCH, pg, romfs, heap_stats);
    klog!(
        k,
        "nx-rtos: QEMU virt, entered at EL{}, running at EL1; PAN {}",
        entry_el,
        if pan { "on" } else { "not present" }
    );
    klog!(
        k,
        "memory: {} MiB at {:#x}; {} pages free of {}",
        ram_size >> 20,
        ram_start,
        k.pg.free(),
        k.pg.total()
    );
    k.image = [
        (text_end - img) as u64,
        (rodata_end - text_end) as u64,
        (data_end - rodata_end) as u64,
        (bss_end - bss_start) as u64,
    ];
    klog!(
        k,
        "kernel: text {} KiB, rodata {} KiB, data {} KiB, bss {} KiB; W^X map in {} table pages; heap {} KiB",
        (text_end - img) / 1024,
        (rodata_end - text_end) / 1024,
        (data_end - rodata_end) / 1024,
        (bss_end - bss_start) / 1024,
        kmap_pages,
        heap_pages * PAGE_SIZE / 1024
    );
    if asked_heap_pages(&dt.bootargs) < heap_pages {
        klog!(
            k,
            "kheap: raised to {} KiB, what the kernel's boot-time tables need",
            heap_pages * PAGE_SIZE / 1024
        );
    }
    klog!(
        k,
        "GICv{} at {:#x}; timer {} Hz (INTID {}); console PL011 (INTID {}); {} programs in romfs",
        if gv == Version::V3 { 3 } else { 2 },
        gd,
        arch::timer::freq(),
        ARCH.board().timer_irq(),
        ARCH.board().console_irq(),
        k.romfs.len()
    );
    let mut args: heapless::Vec<u8, 256> = heapless::Vec::new();
    let _ = args.extend_from_slice(b"init\0");
    for w in dt.bootargs.split_whitespace() {
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
    kernel::global::install(k);

    let mut frame = TrapFrame::default();
    arch::exception::return_to_user(&mut frame);
    // SAFETY: frame holds the first task's user state, chosen by the scheduler.
    unsafe { arch::enter_user(&frame) }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    let _ = writeln!(Early, "\nKERNEL PANIC: {}", info);
    arch::platform::halt(70)
}
