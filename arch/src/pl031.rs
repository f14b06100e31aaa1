//! ARM PL031 real-time clock: seconds since the epoch.

use tock_registers::interfaces::Readable;
use tock_registers::register_structs;
use tock_registers::registers::ReadOnly;

register_structs! {
    Regs {
        (0x00 => dr: ReadOnly<u32>),
        (0x04 => @END),
    }
}

/// Seconds from the RTC at kernel address `base`.
///
/// # Safety
/// `base` must be the kernel mapping of a PL031.
pub unsafe fn read_seconds(base: usize) -> u64 {
    // SAFETY: per the contract, base maps the device.
    let r = unsafe { &*(base as *const Regs) };
    r.dr.get() as u64
}
