//! ARM generic timer (EL1 virtual timer): monotonic time and one-shot deadlines.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTKCTL_EL1, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};
use core::sync::atomic::{AtomicU64, Ordering};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

/// Let EL0 read the virtual counter and its frequency (user benchmarks time themselves
/// without a syscall); the timers themselves stay EL1's.
pub fn init() {
    CNTKCTL_EL1.modify(CNTKCTL_EL1::EL0VCTEN::SET);
    let f = freq().max(1) as u128;
    NS_PER_TICK.store(((1_000_000_000u128 << 32) / f) as u64, Ordering::Relaxed);
    TICKS_PER_NS.store(((f << 32) / 1_000_000_000) as u64 + 1, Ordering::Relaxed);
}

/// Conversion factors in 32.32 fixed point, so the hot paths multiply instead of dividing.
static NS_PER_TICK: AtomicU64 = AtomicU64::new(0);
static TICKS_PER_NS: AtomicU64 = AtomicU64::new(0);

pub fn freq() -> u64 {
    CNTFRQ_EL0.get()
}

pub fn ticks() -> u64 {
    CNTVCT_EL0.get()
}

pub fn ticks_to_ns(t: u64) -> u64 {
    match NS_PER_TICK.load(Ordering::Relaxed) {
        0 => ((t as u128 * 1_000_000_000) / freq() as u128) as u64,
        m => ((t as u128 * m as u128) >> 32) as u64,
    }
}

pub fn now_ns() -> u64 {
    ticks_to_ns(ticks())
}

/// Interrupt at monotonic `ns`, or never.
pub fn set_deadline(ns: Option<u64>) {
    match ns {
        Some(ns) => {
            // Rounded up (the factor is), so the interrupt never comes before `ns`.
            let cval = match TICKS_PER_NS.load(Ordering::Relaxed) {
                0 => (ns as u128 * freq() as u128).div_ceil(1_000_000_000) as u64,
                m => ((ns as u128 * m as u128) >> 32) as u64 + 1,
            };
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
