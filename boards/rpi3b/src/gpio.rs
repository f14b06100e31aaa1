//! The BCM2835 GPIO block, as far as the console needs it: UART0's TXD0/RXD0 on GPIO 14/15
//! (function ALT0, pins 8 and 10 of the header) with the pulls off. The firmware does this
//! already when config.txt has `enable_uart=1` and `dtoverlay=disable-bt`; doing it again is
//! harmless (and QEMU accepts the writes). GPIO 32/33, where the firmware routes UART0 to the
//! Bluetooth chip without the overlay, become inputs, so that only the header drives RXD0.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    Regs {
        (0x00 => fsel: [ReadWrite<u32>; 6]),
        (0x18 => _r0),
        (0x94 => pud: ReadWrite<u32>),
        (0x98 => pudclk: [ReadWrite<u32>; 2]),
        (0xa0 => @END),
    }
}

/// Function-select codes (3 bits per pin, 10 pins per register).
const FSEL_INPUT: u32 = 0b000;
const FSEL_ALT0: u32 = 0b100;

fn set_function(r: &Regs, pin: usize, f: u32) {
    let (reg, shift) = (&r.fsel[pin / 10], (pin % 10) * 3);
    reg.set(reg.get() & !(0b111 << shift) | f << shift);
}

/// The 150 cycles the pull-up/down clock needs on each side of its pulse.
fn delay() {
    for _ in 0..150 {
        // SAFETY: a no-op instruction.
        unsafe { core::arch::asm!("nop", options(nomem, nostack, preserves_flags)) };
    }
}

/// Put UART0 on GPIO 14/15.
///
/// # Safety
/// `base` must be the kernel mapping of the GPIO registers.
pub unsafe fn uart0_pins(base: usize) {
    // SAFETY: the caller's contract.
    let r = unsafe { &*(base as *const Regs) };
    set_function(r, 32, FSEL_INPUT);
    set_function(r, 33, FSEL_INPUT);
    set_function(r, 14, FSEL_ALT0);
    set_function(r, 15, FSEL_ALT0);
    // Pulls off on 14 and 15: select "off", clock it into those pins, release.
    r.pud.set(0);
    delay();
    r.pudclk[0].set(1 << 14 | 1 << 15);
    delay();
    r.pud.set(0);
    r.pudclk[0].set(0);
}
