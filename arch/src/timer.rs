//! ARM generic timer (EL1 virtual timer): monotonic time and one-shot deadlines.

use aarch64_cpu::registers::{CNTFRQ_EL0, CNTKCTL_EL1, CNTVCT_EL0, CNTV_CTL_EL0, CNTV_CVAL_EL0};
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use tock_registers::interfaces::{ReadWriteable, Readable, Writeable};

use crate::clock::Ratio;

/// Let EL0 read the virtual counter and its frequency (user benchmarks time themselves
/// without a syscall); the timers themselves stay EL1's.
pub fn init() {
    CNTKCTL_EL1.modify(CNTKCTL_EL1::EL0VCTEN::SET);
    let f = freq().max(1);
    let ns = Ratio::new(1_000_000_000, f, false);
    let ticks = Ratio::new(f, 1_000_000_000, true);
    NS_PER_TICK[0].store(ns.int, Ordering::Relaxed);
    NS_PER_TICK[1].store(ns.frac, Ordering::Relaxed);
    TICKS_PER_NS[0].store(ticks.int, Ordering::Relaxed);
    TICKS_PER_NS[1].store(ticks.frac, Ordering::Relaxed);
    READY.store(true, Ordering::Relaxed);
}

/// Conversion factors in 64.64 fixed point (integer part, fraction), so the hot paths
/// multiply instead of dividing and stay exact at any uptime.
static NS_PER_TICK: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static TICKS_PER_NS: [AtomicU64; 2] = [AtomicU64::new(0), AtomicU64::new(0)];
static READY: AtomicBool = AtomicBool::new(false);

fn ratio(r: &[AtomicU64; 2]) -> Ratio {
    Ratio {
        int: r[0].load(Ordering::Relaxed),
        frac: r[1].load(Ordering::Relaxed),
    }
}

pub fn freq() -> u64 {
    CNTFRQ_EL0.get()
}

pub fn ticks() -> u64 {
    CNTVCT_EL0.get()
}

pub fn ticks_to_ns(t: u64) -> u64 {
    if READY.load(Ordering::Relaxed) {
        ratio(&NS_PER_TICK).apply(t)
    } else {
        ((t as u128 * 1_000_000_000) / freq().max(1) as u128) as u64
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
            let cval = if READY.load(Ordering::Relaxed) {
                ratio(&TICKS_PER_NS).apply(ns) + 1
            } else {
                (ns as u128 * freq() as u128).div_ceil(1_000_000_000) as u64
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
