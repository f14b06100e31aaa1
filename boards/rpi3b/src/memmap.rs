//! The Raspberry Pi 3B's memory map (BCM2837): fixed addresses, since the board's device
//! tree (when the firmware passes one) only says how much RAM the ARM side has. Also the boot
//! translation table the architecture's boot code turns the MMU on with.
//!
//! Physical layout:
//! - 0 .. RAM end: RAM. Its first page holds the boot stub of the firmware (or QEMU), the
//!   spin table the secondary cores wait on (0xd8, 0xe0, 0xe8, 0xf0) and QEMU's ATAGS (0x100);
//!   the kernel is loaded at 0x80000 (`link.ld`). The ARM side's share of the 1 GiB depends on
//!   the firmware's `gpu_mem` (948 MiB by default on hardware, 960 MiB under QEMU); above it
//!   is the VideoCore's, never mapped by the kernel.
//! - 0x3F00_0000 .. 0x4000_0000: the peripherals (bus addresses 0x7E00_0000..).
//! - 0x4000_0000: the ARM local peripherals (per-core interrupt controller, QA7).

use arch::bootmap::{device_block, normal_block, BootL2, BootMap, L2_TABLE};

/// The peripherals' window.
pub const PERIPH: (usize, usize) = (0x3F00_0000, 0x0100_0000);
/// The ARM local peripherals (QEMU models their first 0x100 bytes; a page is mapped).
pub const LOCAL: (usize, usize) = (0x4000_0000, 0x1000);
/// The device windows of the kernel map.
pub const DEVICES: [(usize, usize); 2] = [PERIPH, LOCAL];

/// The BCM2835 ARMCTRL interrupt registers (ARMCTRL block 0x3F00_B000 + 0x200).
pub const ARMCTRL_IRQ: usize = 0x3F00_B200;
/// The PM block (watchdog, reset control).
pub const PM: usize = 0x3F10_0000;
/// GPIO (function select, pulls).
pub const GPIO: usize = 0x3F20_0000;
/// PL011 UART0, the console (on GPIO 14/15 once `dtoverlay=disable-bt` takes Bluetooth off it).
pub const UART0: usize = 0x3F20_1000;
/// UART0's interrupt: GPU interrupt 57 in the BCM2836 numbering (arch::bcm2836).
pub const UART0_IRQ: u32 = 57;
/// The EL1 virtual timer: per-core source 3 of the local controller (arch::bcm2836).
pub const TIMER_IRQ: u32 = arch::bcm2836::LOCAL_BASE + arch::bcm2836::local::CNTV;
/// The UART clock config.txt sets (`init_uart_clock=48000000`, the firmware's default); QEMU
/// ignores the divisors, so the same values serve both.
pub const UART_CLOCK: u32 = 48_000_000;
pub const BAUD: u32 = 115_200;

/// The spin table: core `n` (1..=3) waits, at EL2 with the MMU off, for an entry address in
/// the 64-bit slot at `SPIN_TABLE + 8 * n` (the device tree's `cpu-release-addr`s).
pub const SPIN_TABLE: usize = 0xd8;
/// The ARM side's RAM when neither ATAGS nor a device tree says (1 GiB less the firmware's
/// default `gpu_mem=76`).
pub const RAM_DEFAULT: usize = 0x3B40_0000;
/// RAM never reaches the peripherals.
pub const RAM_LIMIT: usize = PERIPH.0;

/// The boot map's L2 table for physical GiB 0: RAM as normal memory up to the peripherals,
/// which are device memory (2 MiB blocks).
static BOOT_L2: BootL2 = {
    let mut t = [0u64; 512];
    let mut i = 0;
    while i < 512 {
        let pa = i << 21;
        t[i] = if pa < PERIPH.0 {
            normal_block(pa)
        } else {
            device_block(pa)
        };
        i += 1;
    }
    BootL2(t)
};

/// The boot map (read by arch's boot.S): GiB 0 through the L2 table above, GiB 1 (the local
/// peripherals) as a device block, nothing above.
#[no_mangle]
pub static BOARD_BOOT_MAP: BootMap = BootMap {
    l1: [L2_TABLE, device_block(1 << 30), 0, 0],
    early_uart: UART0,
    l2: Some(&BOOT_L2),
};
