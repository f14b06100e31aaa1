//! PSCI power control (SYSTEM_OFF, SYSTEM_RESET) through the conduit the board names (the
//! device tree's /psci method). Only for boards whose firmware implements PSCI.

use core::sync::atomic::{AtomicBool, Ordering};

const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;

pub struct Psci {
    smc: AtomicBool,
}

impl Psci {
    /// PSCI through `hvc` until `set_conduit` says otherwise.
    pub const fn new() -> Psci {
        Psci {
            smc: AtomicBool::new(false),
        }
    }

    /// Select the conduit: `smc` or `hvc`.
    pub fn set_conduit(&self, smc: bool) {
        self.smc.store(smc, Ordering::Relaxed);
    }

    fn call(&self, fid: u64) {
        // SAFETY: a PSCI call into firmware; these functions do not return on success.
        unsafe {
            if self.smc.load(Ordering::Relaxed) {
                core::arch::asm!("smc #0", inout("x0") fid => _, options(nostack));
            } else {
                core::arch::asm!("hvc #0", inout("x0") fid => _, options(nostack));
            }
        }
    }

    /// SYSTEM_OFF; returns only if the firmware refused.
    pub fn system_off(&self) {
        self.call(SYSTEM_OFF)
    }

    /// SYSTEM_RESET; returns only if the firmware refused.
    pub fn system_reset(&self) {
        self.call(SYSTEM_RESET)
    }
}

impl Default for Psci {
    fn default() -> Self {
        Self::new()
    }
}
