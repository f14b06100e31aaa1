//! ARM PL011 UART: polled transmit, interrupt-driven receive with the FIFOs on.

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    FR [
        RXFE OFFSET(4) NUMBITS(1) [],
        TXFF OFFSET(5) NUMBITS(1) [],
    ],
    LCR_H [
        FEN OFFSET(4) NUMBITS(1) [],
        WLEN OFFSET(5) NUMBITS(2) [Eight = 3],
    ],
    CR [
        UARTEN OFFSET(0) NUMBITS(1) [],
        TXE OFFSET(8) NUMBITS(1) [],
        RXE OFFSET(9) NUMBITS(1) [],
    ],
    IFLS [
        RXIFLSEL OFFSET(3) NUMBITS(3) [OneEighth = 0],
    ],
    INT [
        RX OFFSET(4) NUMBITS(1) [],
        RT OFFSET(6) NUMBITS(1) [],
        ALL OFFSET(0) NUMBITS(11) [],
    ],
}

register_structs! {
    Regs {
        (0x00 => dr: ReadWrite<u32>),
        (0x04 => _r0),
        (0x18 => fr: ReadOnly<u32, FR::Register>),
        (0x1c => _r1),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => ifls: ReadWrite<u32, IFLS::Register>),
        (0x38 => imsc: ReadWrite<u32, INT::Register>),
        (0x3c => _r2),
        (0x44 => icr: WriteOnly<u32, INT::Register>),
        (0x48 => @END),
    }
}

pub struct Pl011 {
    base: usize,
}

impl Pl011 {
    /// # Safety
    /// `base` must be the kernel mapping of a PL011's registers.
    pub const unsafe fn new(base: usize) -> Pl011 {
        Pl011 { base }
    }

    fn regs(&self) -> &Regs {
        // SAFETY: base maps the device (constructor contract); registers are MMIO cells.
        unsafe { &*(self.base as *const Regs) }
    }

    /// 8N1 with FIFOs; receive interrupts (level and timeout) enabled.
    pub fn init(&self) {
        let r = self.regs();
        r.cr.set(0);
        r.icr.write(INT::ALL::SET);
        r.lcr_h.write(LCR_H::FEN::SET + LCR_H::WLEN::Eight);
        r.ifls.write(IFLS::RXIFLSEL::OneEighth);
        r.imsc.write(INT::RX::SET + INT::RT::SET);
        r.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    pub fn putc(&self, c: u8) {
        let r = self.regs();
        while r.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        r.dr.set(c as u32);
    }

    pub fn write(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.putc(b'\r');
            }
            self.putc(b);
        }
    }

    /// Drain the receive FIFO into `out`; returns bytes read.
    pub fn read_fifo(&self, out: &mut [u8]) -> usize {
        let r = self.regs();
        let mut n = 0;
        while n < out.len() && !r.fr.is_set(FR::RXFE) {
            out[n] = r.dr.get() as u8;
            n += 1;
        }
        r.icr.write(INT::RX::SET + INT::RT::SET);
        n
    }
}
