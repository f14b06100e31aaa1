//! The Raspberry Pi 3B's devices as the architecture layer asks for them
//! (`arch::board::Board`): the BCM2836 per-core interrupt controller with the BCM2835 one
//! behind it, the PL011 UART0 console, their interrupt numbers, no real-time clock, and the
//! PM watchdog for power off and reboot (the Pi has no PSCI).

use arch::bcm2836::Bcm2836Intc;
use arch::board::Board;
use arch::irq::IrqChip;
use arch::pl011::Pl011;
use arch::platform::BoardRef;
use arch::uart::Uart;

use crate::memmap::{TIMER_IRQ, UART0_IRQ};
use crate::pm::PM;

pub static INTC: Bcm2836Intc = Bcm2836Intc::new();
pub static UART: Pl011 = Pl011::new();

pub struct Rpi3b;

/// What the board registers with `arch::platform::ARCH.set_board`.
pub static BOARD: BoardRef = &Rpi3b;

impl Board for Rpi3b {
    fn irq_chip(&self) -> &dyn IrqChip {
        &INTC
    }
    fn console(&self) -> &dyn Uart {
        &UART
    }
    fn console_irq(&self) -> u32 {
        UART0_IRQ
    }
    fn timer_irq(&self) -> u32 {
        TIMER_IRQ
    }
    /// No real-time clock on the board: the wall clock starts at 0 (1970) at boot.
    fn rtc_seconds(&self) -> u64 {
        0
    }
    /// The watchdog reset with the "halt" partition: the firmware does not start again until
    /// power is cycled (QEMU exits).
    fn power_off(&self) {
        PM.halt()
    }
    fn reboot(&self) {
        PM.reset()
    }
}
