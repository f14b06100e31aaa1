//! QEMU virt's memory map: what the board knows before it reads the device tree, and the
//! boot translation table the architecture's boot code turns the MMU on with.

use arch::bootmap::{device_block, normal_block, BootMap};

/// Devices live below 1 GiB (GIC 0x0800_0000, PL011 0x0900_0000, PL031 0x0901_0000, ...).
pub const DEVICES: (usize, usize) = (0, 1 << 30);
/// RAM starts at 1 GiB; the boot map covers it up to 4 GiB and more is ignored.
pub const RAM_LIMIT: usize = 0x1_0000_0000;
/// Where QEMU leaves the DTB when the kernel is booted as an ELF (x0 = 0).
pub const DTB_DEFAULT: usize = 0x4000_0000;
/// The PL011, used for messages before the device tree is read (and its SPI 1).
pub const EARLY_UART: usize = 0x0900_0000;
pub const EARLY_UART_IRQ: u32 = 33;
/// The PL031 real-time clock, when the device tree names none.
pub const RTC_DEFAULT: usize = 0x0901_0000;
/// The EL1 virtual timer's PPI (INTID 27), when the device tree names none.
pub const TIMER_IRQ_DEFAULT: u32 = 27;
/// GICv2 distributor and CPU interface, GICv3 redistributor, when the device tree has no
/// `reg` for them.
pub const GICD_DEFAULT: usize = 0x0800_0000;
pub const GICC_DEFAULT: usize = 0x0801_0000;
pub const GICR_DEFAULT: usize = 0x080a_0000;

/// The boot map (read by arch's boot.S): devices at 0-1 GiB, normal RAM at 1-4 GiB.
#[no_mangle]
pub static BOARD_BOOT_MAP: BootMap = BootMap {
    l1: [
        device_block(0),
        normal_block(1 << 30),
        normal_block(2 << 30),
        normal_block(3 << 30),
    ],
    early_uart: EARLY_UART,
    l2: None,
};
