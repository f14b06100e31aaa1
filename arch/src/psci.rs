//! PSCI power control (SYSTEM_OFF, SYSTEM_RESET) through the conduit the device tree names.

use core::sync::atomic::{AtomicBool, Ordering};

const SYSTEM_OFF: u64 = 0x8400_0008;
const SYSTEM_RESET: u64 = 0x8400_0009;

static USE_SMC: AtomicBool = AtomicBool::new(false);

/// Select the conduit: "smc" or "hvc" (the device tree's /psci method).
pub fn set_method(smc: bool) {
    USE_SMC.store(smc, Ordering::Relaxed);
}

fn call(fid: u64) {
    // SAFETY: a PSCI call into firmware; these functions do not return on success.
    unsafe {
        if USE_SMC.load(Ordering::Relaxed) {
            core::arch::asm!("smc #0", inout("x0") fid => _, options(nostack));
        } else {
            core::arch::asm!("hvc #0", inout("x0") fid => _, options(nostack));
        }
    }
}

pub fn system_off() {
    call(SYSTEM_OFF)
}

pub fn system_reset() {
    call(SYSTEM_RESET)
}
