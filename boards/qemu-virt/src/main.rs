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

use arch::fdtscan::{self, FdtScan, Node};
use arch::gic::Version;
use arch::irq::IrqChip;
use arch::mmu::{self, KOFF};
use arch::platform::ARCH;
use arch::uart::Uart;
use board::{QemuVirt, GIC, PSCI, RTC, UART};
use board_common::{enable_pan, fatal, heap_stats, Image};
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

/// INTID of interrupt specifier `n` of a node whose interrupts use GIC 3-cell specifiers.
fn gic_intid(node: &Node, n: usize) -> Option<u32> {
    let (kind, num) = (
        node.cell("interrupts", n * 3)?,
        node.cell("interrupts", n * 3 + 1)?,
    );
    Some(if kind == 1 { num + 16 } else { num + 32 })
}

fn reg(node: &Node, i: usize) -> Option<usize> {
    node.reg(i).map(|r| r.0 as usize)
}

/// What the device tree says beyond the devices it places.
struct DtInfo {
    ram: (usize, usize),
    gic: (Version, usize, usize),
    bootargs: heapless::String<256>,
}

/// The device tree's answers, gathered in one walk: the first memory node's first bank,
/// the first node compatible with each device the board drives, `/chosen` and `/psci`.
#[derive(Default)]
struct Found {
    ram: Option<(usize, usize)>,
    uart: Option<(usize, u32)>,
    rtc: Option<usize>,
    timer_irq: Option<u32>,
    gic3: Option<(usize, usize)>,
    gic2: Option<(usize, usize)>,
    bootargs: heapless::String<256>,
    smc: bool,
}

fn read_dtb(dtb_pa: usize) -> DtInfo {
    // SAFETY: the boot map covers the first 4 GiB, so the DTB is readable at KOFF + pa; its
    // header gives its size.
    let blob = unsafe {
        let header = core::slice::from_raw_parts((KOFF + dtb_pa) as *const u8, 8);
        let size = fdtscan::total_size(header).unwrap_or_else(|| fatal("no valid device tree"));
        core::slice::from_raw_parts((KOFF + dtb_pa) as *const u8, size)
    };
    let fdt = FdtScan::new(blob).unwrap_or_else(|| fatal("no valid device tree"));
    let mut f = Found::default();
    fdt.walk(|n| {
        if n.depth == 1
            && f.ram.is_none()
            && (n.is("memory") || n.str("device_type") == Some("memory"))
        {
            f.ram = n.reg(0).map(|(a, s)| (a as usize, s as usize));
        } else if n.depth == 1 && n.is("chosen") {
            let args = n.str("bootargs").unwrap_or("");
            f.bootargs = heapless::String::try_from(args).unwrap_or_default();
        } else if n.depth == 1 && n.is("psci") {
            f.smc = n.str("method") == Some("smc");
        } else {
            // One pass over the node's compatible list for every driver.
            const WANTED: [&str; 7] = [
                "arm,pl011",
                "arm,pl031",
                "arm,armv8-timer",
                "arm,armv7-timer",
                "arm,gic-v3",
                "arm,cortex-a15-gic",
                "arm,gic-400",
            ];
            match n.compatible_index(&WANTED) {
                Some(0) if f.uart.is_none() => {
                    f.uart = Some((
                        reg(n, 0).unwrap_or(EARLY_UART),
                        gic_intid(n, 0).unwrap_or(EARLY_UART_IRQ),
                    ))
                }
                Some(1) if f.rtc.is_none() => f.rtc = Some(reg(n, 0).unwrap_or(RTC_DEFAULT)),
                // The third timer interrupt is the EL1 virtual timer.
                Some(2 | 3) if f.timer_irq.is_none() => {
                    f.timer_irq = Some(gic_intid(n, 2).unwrap_or(TIMER_IRQ_DEFAULT))
                }
                Some(4) if f.gic3.is_none() => {
                    f.gic3 = Some((
                        reg(n, 0).unwrap_or(GICD_DEFAULT),
                        reg(n, 1).unwrap_or(GICR_DEFAULT),
                    ))
                }
                Some(5 | 6) if f.gic2.is_none() => {
                    f.gic2 = Some((
                        reg(n, 0).unwrap_or(GICD_DEFAULT),
                        reg(n, 1).unwrap_or(GICC_DEFAULT),
                    ))
                }
                _ => {}
            }
        }
    });
    let (start, size) = f.ram.unwrap_or_else(|| fatal("device tree has no memory"));
    let size = size.min(RAM_LIMIT.saturating_sub(start));
    let (uart, uart_irq) = f.uart.unwrap_or_else(|| fatal("no PL011"));
    // SAFETY: device-tree addresses of a PL011 and a PL031, in the boot map's device GiB.
    unsafe {
        UART.set_base(KOFF + uart);
        RTC.set_base(KOFF + f.rtc.unwrap_or(RTC_DEFAULT));
    }
    QemuVirt.set_irqs(uart_irq, f.timer_irq.unwrap_or(TIMER_IRQ_DEFAULT));
    ARCH.set_semihosting(f.bootargs.split_whitespace().any(|w| w == "semihosting"));
    PSCI.set_conduit(f.smc);
    let gic = match (f.gic3, f.gic2) {
        (Some((d, r)), _) => (Version::V3, d, r),
        (None, Some((d, c))) => (Version::V2, d, c),
        (None, None) => fatal("no supported interrupt controller"),
    };
    DtInfo {
        ram: (start, size),
        gic,
        bootargs: f.bootargs,
    }
}

#[no_mangle]
extern "C" fn board_main(dtb_pa: usize, entry_el: usize, entry_ticks: u64) -> ! {
    // entry_ticks: the counter at the kernel's first instruction (boot.S), where boot time
    // is measured from.
    kernel::phys::set_phys_offset(KOFF);
    arch::zero::init();
    kernel::phys::set_zero_pages(arch::zero::zero_pages);
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
