//! ARM generic timer (EL1 virtual timer): monotonic time and one-shot deadlines.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};
use tock_registers::interfaces::{Readable, Writeable};

pub fn freq() -> u64 {
    CNTFRQ_EL0.get()
}

pub fn ticks() -> u64 {
    CNTVCT_EL0.get()
}

pub fn ticks_to_ns(t: u64) -> u64 {
    ((t as u128 * 1_000_000_000) / freq() as u128) as u64
}

pub fn now_ns() -> u64 {
    ticks_to_ns(ticks())
}

/// Interrupt at monotonic `ns`, or never.
pub fn set_deadline(ns: Option<u64>) {
    match ns {
        Some(ns) => {
            let cval = (ns as u128 * freq() as u128).div_ceil(1_000_000_000) as u64;
            CNTV_CVAL_EL0.set(cval);
            CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::SET + CNTV_CTL_EL0::IMASK::CLEAR);
        }
        None => CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR),
    }
}

/// Silence the timer after it fired (the kernel re-arms it).
pub fn ack() {
    CNTV_CTL_EL0.write(CNTV_CTL_EL0::ENABLE::CLEAR);
}
