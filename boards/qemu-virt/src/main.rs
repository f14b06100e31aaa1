//! QEMU virt board: finds the hardware in the device tree, brings the kernel up in order
//! (memory, kernel map, heap, interrupts, timer, console) and starts the first user program.
#![no_std]
#![no_main]

mod board;
mod memmap;
#[cfg(feature = "trace")]
mod trace;
#[cfg(feature = "trace")]
use defmt_semihosting as _;

use arch::gic::Version;
use arch::irq::IrqChip;
use arch::mmu::{self, KOFF};
use arch::platform::ARCH;
use arch::uart::Uart;
use board::{QemuVirt, GIC, PSCI, RTC, UART};
use board_common::{enable_pan, fatal, heap_stats, Image};
use fdt::Fdt;
use kernel::fs::romfs::RomFs;
use kernel::pgalloc::PageAlloc;
use kernel::phys::{page_round_up, v2p, PAGE_SIZE};
use kernel::{klog, Kernel};

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

    let img = Image::get();
    let (ram_start, ram_size) = dt.ram;
    let free_start = page_round_up(v2p(img.end));
    let ram_end = ram_start + ram_size;
    if free_start >= ram_end {
        fatal("no RAM after the kernel image");
    }
    // SAFETY: [free_start, ram_end) is RAM after the kernel image that nothing else uses.
    let mut pg = unsafe { PageAlloc::new(free_start, (ram_end - free_start) / PAGE_SIZE) };
    let heap_pages = board_common::heap_pages(&dt.bootargs);
    board_common::init_heap(&mut pg, heap_pages);
    let kmap_pages = mmu::init_kernel_map(&mut pg, dt.ram, &[memmap::DEVICES], &img.layout())
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
    img.log(&mut k, kmap_pages, heap_pages, &dt.bootargs);
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
    board_common::start(k, &dt.bootargs, entry_ticks)
}
