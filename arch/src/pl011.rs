//! ARM PL011 UART with the FIFOs on: interrupt-driven receive, transmit fed by the kernel's
//! ring on the transmit interrupt, and a polled transmit for emergencies (panic, fault). The
//! baud rate is left as it is unless the board gives the UART clock (`set_baud`): QEMU ignores
//! the divisors, real hardware needs them.

use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use crate::uart::Uart;
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};
use tock_registers::{register_bitfields, register_structs};

register_bitfields! {u32,
    FR [
        BUSY OFFSET(3) NUMBITS(1) [],
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
        TXIFLSEL OFFSET(0) NUMBITS(3) [OneEighth = 0],
        RXIFLSEL OFFSET(3) NUMBITS(3) [OneEighth = 0],
    ],
    INT [
        RX OFFSET(4) NUMBITS(1) [],
        TX OFFSET(5) NUMBITS(1) [],
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
        (0x24 => ibrd: ReadWrite<u32>),
        (0x28 => fbrd: ReadWrite<u32>),
        (0x2c => lcr_h: ReadWrite<u32, LCR_H::Register>),
        (0x30 => cr: ReadWrite<u32, CR::Register>),
        (0x34 => ifls: ReadWrite<u32, IFLS::Register>),
        (0x38 => imsc: ReadWrite<u32, INT::Register>),
        (0x3c => _ris),
        (0x40 => mis: ReadOnly<u32, INT::Register>),
        (0x44 => icr: WriteOnly<u32, INT::Register>),
        (0x48 => @END),
    }
}

/// A PL011 whose registers the board places (`set_base`) once it knows where they are, so
/// that it can be a `static` of the board.
pub struct Pl011 {
    base: AtomicUsize,
    /// The baud-rate divisor in 64ths (IBRD << 6 | FBRD), or 0 to leave it as it is.
    divisor: AtomicU32,
}

/// The PL011's baud-rate divisor for `clock_hz` and `baud`, in 64ths of the bit clock
/// (clock / (16 * baud)), rounded to nearest: IBRD is the value >> 6, FBRD its low 6 bits.
pub const fn baud_divisor(clock_hz: u32, baud: u32) -> u32 {
    let x8 = 8 * clock_hz as u64 / baud as u64; // 128ths
    x8.div_ceil(2) as u32
}

// 48 MHz at 115200 Bd: 26 + 3/64 (115 177 Bd), as the PL011 references give it.
const _: () = assert!(baud_divisor(48_000_000, 115_200) == 26 << 6 | 3);
const _: () = assert!(baud_divisor(3_000_000, 115_200) == 1 << 6 | 40);

impl Pl011 {
    /// A PL011 not placed yet: `set_base` before any other call.
    pub const fn new() -> Pl011 {
        Pl011 {
            base: AtomicUsize::new(0),
            divisor: AtomicU32::new(0),
        }
    }

    /// Have `init` program the divisors for `baud` from a UART clock of `clock_hz`.
    pub fn set_baud(&self, clock_hz: u32, baud: u32) {
        self.divisor
            .store(baud_divisor(clock_hz, baud), Ordering::Relaxed);
    }

    /// # Safety
    /// `base` must be the kernel mapping of a PL011's registers.
    pub unsafe fn set_base(&self, base: usize) {
        self.base.store(base, Ordering::Relaxed);
    }

    fn regs(&self) -> &Regs {
        // SAFETY: base maps the device (set_base's contract); registers are MMIO cells.
        unsafe { &*(self.base.load(Ordering::Relaxed) as *const Regs) }
    }

    fn putc(&self, c: u8) {
        let r = self.regs();
        while r.fr.is_set(FR::TXFF) {
            core::hint::spin_loop();
        }
        r.dr.set(c as u32);
    }
}

impl Default for Pl011 {
    fn default() -> Self {
        Self::new()
    }
}

impl Uart for Pl011 {
    /// 8N1 with FIFOs; receive interrupts (level and timeout) enabled. What is being sent
    /// leaves first (a bounded wait: a UART left disabled never drains), and the divisors,
    /// when the board set a baud rate, go in before the line control register, whose write
    /// latches them.
    fn init(&self) {
        let r = self.regs();
        for _ in 0..1_000_000 {
            if !r.fr.is_set(FR::BUSY) {
                break;
            }
            core::hint::spin_loop();
        }
        r.cr.set(0);
        r.icr.write(INT::ALL::SET);
        let div = self.divisor.load(Ordering::Relaxed);
        if div != 0 {
            r.ibrd.set(div >> 6);
            r.fbrd.set(div & 63);
        }
        r.lcr_h.write(LCR_H::FEN::SET + LCR_H::WLEN::Eight);
        // Transmit interrupt once the FIFO has drained to 1/8: early enough to refill it.
        r.ifls
            .write(IFLS::RXIFLSEL::OneEighth + IFLS::TXIFLSEL::OneEighth);
        r.imsc.write(INT::RX::SET + INT::RT::SET);
        r.cr.write(CR::UARTEN::SET + CR::TXE::SET + CR::RXE::SET);
    }

    /// Put bytes into the transmit FIFO while it has room; returns how many went in.
    fn tx(&self, bytes: &[u8]) -> usize {
        let r = self.regs();
        for (i, &b) in bytes.iter().enumerate() {
            if r.fr.is_set(FR::TXFF) {
                return i;
            }
            r.dr.set(b as u32);
        }
        bytes.len()
    }

    /// Enable or mask the transmit interrupt. Enabling after the FIFO was filled: the
    /// interrupt comes when it drains to the trigger level.
    fn set_tx_irq(&self, on: bool) {
        let r = self.regs();
        let cur = r.imsc.extract();
        if cur.is_set(INT::TX) != on {
            r.imsc.write(if on {
                INT::RX::SET + INT::RT::SET + INT::TX::SET
            } else {
                INT::RX::SET + INT::RT::SET
            });
        }
    }

    /// Which interrupts are pending: (receive or receive timeout, transmit).
    fn pending(&self) -> (bool, bool) {
        let m = self.regs().mis.extract();
        (m.is_set(INT::RX) || m.is_set(INT::RT), m.is_set(INT::TX))
    }

    /// Clear the transmit interrupt (before refilling, so a drain after it raises it again).
    fn ack_tx(&self) {
        self.regs().icr.write(INT::TX::SET);
    }

    /// Polled output with `\n` as `\r\n`: only for messages written outside the kernel's
    /// ring (early boot, panic, kernel fault).
    fn write_polled(&self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.putc(b'\r');
            }
            self.putc(b);
        }
    }

    /// Take up to `out.len()` bytes from the receive FIFO; returns bytes read. The receive
    /// interrupts are cleared *before* the FIFO is read: a byte that lands after the clear
    /// raises them again, whereas clearing after the drain could swallow the only edge the
    /// UART will give (QEMU raises RX only when the FIFO goes from empty to one byte) and
    /// leave a full FIFO that never interrupts again. Callers loop until it returns 0.
    fn read_fifo(&self, out: &mut [u8]) -> usize {
        let r = self.regs();
        r.icr.write(INT::RX::SET + INT::RT::SET);
        let mut n = 0;
        while n < out.len() && !r.fr.is_set(FR::RXFE) {
            out[n] = r.dr.get() as u8;
            n += 1;
        }
        n
    }
}
