//! The BCM2835 PM block's watchdog, the Pi's only way to reset or stop itself (Linux's
//! bcm2835_wdt.c): the watchdog is loaded with a short time-out and a full reset is armed;
//! a "halt" first records partition 63 in the reset status, which tells the firmware not to
//! boot again. Every write carries the PM password. Under QEMU the reset is immediate, and
//! the halt ends QEMU (exit status 0).

use core::sync::atomic::{AtomicUsize, Ordering};

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::ReadWrite;

register_structs! {
    Regs {
        (0x00 => _r0),
        (0x1c => rstc: ReadWrite<u32>),
        (0x20 => rsts: ReadWrite<u32>),
        (0x24 => wdog: ReadWrite<u32>),
        (0x28 => @END),
    }
}

const PASSWORD: u32 = 0x5a00_0000;
/// RSTC's reset-configuration field, and its "full reset" value.
const RSTC_WRCFG_MASK: u32 = 0x30;
const RSTC_WRCFG_FULL_RESET: u32 = 0x20;
/// Partition 63 in RSTS (bits 0, 2, .., 10): the firmware halts instead of booting.
const RSTS_HALT: u32 = 0x555;
/// Watchdog ticks (about 15 us each) before the reset.
const WDOG_TICKS: u32 = 10;

/// The PM block, placed by the board.
pub struct Pm {
    base: AtomicUsize,
}

pub static PM: Pm = Pm {
    base: AtomicUsize::new(0),
};

impl Pm {
    /// # Safety
    /// `base` must be the kernel mapping of the PM registers.
    pub unsafe fn set_base(&self, base: usize) {
        self.base.store(base, Ordering::Relaxed);
    }

    fn regs(&self) -> Option<&Regs> {
        let b = self.base.load(Ordering::Relaxed);
        // SAFETY: a non-zero base maps the PM block (set_base's contract).
        (b != 0).then(|| unsafe { &*(b as *const Regs) })
    }

    /// Reset the machine through the watchdog, then wait a while for it to happen.
    pub fn reset(&self) {
        let Some(r) = self.regs() else { return };
        r.wdog.set(PASSWORD | WDOG_TICKS);
        r.rstc.set(
            PASSWORD | (r.rstc.get() & !RSTC_WRCFG_MASK & 0x00ff_ffff) | RSTC_WRCFG_FULL_RESET,
        );
        wait_ms(10);
    }

    /// Stop the machine: a reset the firmware takes as "halt".
    pub fn halt(&self) {
        let Some(r) = self.regs() else { return };
        r.rsts
            .set(PASSWORD | (r.rsts.get() & 0x00ff_ffff) | RSTS_HALT);
        self.reset();
    }
}

fn wait_ms(ms: u64) {
    let end = arch::timer::now_ns() + ms * 1_000_000;
    while arch::timer::now_ns() < end {
        core::hint::spin_loop();
    }
}
