//! ARM PL031 real-time clock: seconds since the epoch.

use core::sync::atomic::{AtomicUsize, Ordering};

use tock_registers::interfaces::Readable;
use tock_registers::register_structs;
use tock_registers::registers::ReadOnly;

register_structs! {
    Regs {
        (0x00 => dr: ReadOnly<u32>),
        (0x04 => @END),
    }
}

/// A PL031 the board places (`set_base`) once it knows where it is.
pub struct Pl031 {
    base: AtomicUsize,
}

impl Pl031 {
    /// A PL031 not placed yet: reads 0 until `set_base`.
    pub const fn new() -> Pl031 {
        Pl031 {
            base: AtomicUsize::new(0),
        }
    }

    /// # Safety
    /// `base` must be the kernel mapping of a PL031's registers.
    pub unsafe fn set_base(&self, base: usize) {
        self.base.store(base, Ordering::Relaxed);
    }

    /// Seconds since the epoch (0 while not placed).
    pub fn read_seconds(&self) -> u64 {
        let base = self.base.load(Ordering::Relaxed);
        if base == 0 {
            return 0;
        }
        // SAFETY: base maps the device (set_base's contract).
        let r = unsafe { &*(base as *const Regs) };
        r.dr.get() as u64
    }
}

impl Default for Pl031 {
    fn default() -> Self {
        Self::new()
    }
}
