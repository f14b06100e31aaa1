//! The console UART as the architecture layer drives it: polled output for early and
//! emergency messages, then interrupt-driven receive and a transmit fed from the kernel's ring
//! on the transmit interrupt. The board picks the driver (PL011, ...) and places it.

pub trait Uart: Sync {
    /// Set the line up (8N1, FIFOs) with the receive interrupts enabled.
    fn init(&self);
    /// Polled output with `\n` as `\r\n`: only for messages written outside the kernel's ring
    /// (early boot, panic, kernel fault).
    fn write_polled(&self, bytes: &[u8]);
    /// Put bytes into the transmit FIFO while it has room; returns how many went in.
    fn tx(&self, bytes: &[u8]) -> usize;
    /// Enable or mask the transmit interrupt (raised when the FIFO has drained enough to be
    /// refilled).
    fn set_tx_irq(&self, on: bool);
    /// Which interrupts are pending: (receive, transmit).
    fn pending(&self) -> (bool, bool);
    /// Clear the transmit interrupt (before refilling).
    fn ack_tx(&self);
    /// Take up to `out.len()` received bytes; returns how many. Callers loop until it
    /// returns 0 (the receive interrupt is cleared inside, before the FIFO is read).
    fn read_fifo(&self, out: &mut [u8]) -> usize;
}
