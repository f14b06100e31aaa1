//! What a board gives the architecture layer at run time: which devices it has, where they
//! are and how its interrupts are numbered. The architecture knows the CPU and the drivers of
//! the IP blocks; the board crate (`boards/<board>/`) implements `Board` over its own
//! statics, fills them from its memory map or device tree, and registers itself with
//! `platform::ARCH.set_board` first thing in its bring-up. (The boot memory map, which the
//! board supplies before any Rust runs, is `bootmap`.)

use crate::irq::IrqChip;
use crate::uart::Uart;

pub trait Board: Sync {
    /// The interrupt controller in front of the CPU's IRQ line.
    fn irq_chip(&self) -> &dyn IrqChip;
    /// The console UART: polled output from the start, interrupt-driven once the kernel runs.
    fn console(&self) -> &dyn Uart;
    /// The console UART's interrupt, in the interrupt controller's numbering.
    fn console_irq(&self) -> u32;
    /// The EL1 virtual timer's interrupt, in the interrupt controller's numbering.
    fn timer_irq(&self) -> u32;
    /// Seconds since the epoch from the board's real-time clock; 0 when it has none.
    fn rtc_seconds(&self) -> u64 {
        0
    }
    /// Power the machine off. Returns only if it could not.
    fn power_off(&self);
    /// Reset the machine. Returns only if it could not.
    fn reboot(&self);
}

/// What stands in for the board until one registers: no console, no interrupts, no power
/// control (so an early panic or fault halts quietly instead of touching an address).
pub struct NoBoard;

struct NoUart;
struct NoIrqChip;

impl IrqChip for NoIrqChip {
    fn init_cpu(&self) {}
    fn ack(&self) -> Option<u32> {
        None
    }
    fn eoi(&self, _: u32) {}
    fn enable(&self, _: u32) {}
    fn disable(&self, _: u32) {}
}

impl Uart for NoUart {
    fn init(&self) {}
    fn write_polled(&self, _: &[u8]) {}
    fn tx(&self, bytes: &[u8]) -> usize {
        bytes.len()
    }
    fn set_tx_irq(&self, _: bool) {}
    fn pending(&self) -> (bool, bool) {
        (false, false)
    }
    fn ack_tx(&self) {}
    fn read_fifo(&self, _: &mut [u8]) -> usize {
        0
    }
}

impl Board for NoBoard {
    fn irq_chip(&self) -> &dyn IrqChip {
        &NoIrqChip
    }
    fn console(&self) -> &dyn Uart {
        &NoUart
    }
    fn console_irq(&self) -> u32 {
        u32::MAX
    }
    fn timer_irq(&self) -> u32 {
        u32::MAX
    }
    fn power_off(&self) {}
    fn reboot(&self) {}
}
