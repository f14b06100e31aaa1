//! QEMU virt's devices as the architecture layer asks for them (`arch::board::Board`): a
//! GICv2 or v3, a PL011 console, the GIC's interrupt numbers for it and the virtual timer, a
//! PL031 clock and PSCI power control. Placed at boot from the device tree (or `memmap`'s defaults).

use core::sync::atomic::{AtomicU32, Ordering};

use arch::board::Board;
use arch::gic::Gic;
use arch::irq::IrqChip;
use arch::pl011::Pl011;
use arch::pl031::Pl031;
use arch::platform::BoardRef;
use arch::psci::Psci;
use arch::uart::Uart;

use crate::memmap::{EARLY_UART_IRQ, TIMER_IRQ_DEFAULT};

pub static GIC: Gic = Gic::new();
pub static UART: Pl011 = Pl011::new();
pub static RTC: Pl031 = Pl031::new();
pub static PSCI: Psci = Psci::new();
static UART_IRQ: AtomicU32 = AtomicU32::new(EARLY_UART_IRQ);
static TIMER_IRQ: AtomicU32 = AtomicU32::new(TIMER_IRQ_DEFAULT);

pub struct QemuVirt;

/// What the board registers with `arch::platform::ARCH.set_board`.
pub static BOARD: BoardRef = &QemuVirt;

impl QemuVirt {
    /// The interrupt numbers the device tree gave (GIC INTIDs).
    pub fn set_irqs(&self, uart: u32, timer: u32) {
        UART_IRQ.store(uart, Ordering::Relaxed);
        TIMER_IRQ.store(timer, Ordering::Relaxed);
    }
}

impl Board for QemuVirt {
    fn irq_chip(&self) -> &dyn IrqChip {
        &GIC
    }
    fn console(&self) -> &dyn Uart {
        &UART
    }
    fn console_irq(&self) -> u32 {
        UART_IRQ.load(Ordering::Relaxed)
    }
    fn timer_irq(&self) -> u32 {
        TIMER_IRQ.load(Ordering::Relaxed)
    }
    fn rtc_seconds(&self) -> u64 {
        RTC.read_seconds()
    }
    fn power_off(&self) {
        PSCI.system_off()
    }
    fn reboot(&self) {
        PSCI.system_reset()
    }
}
