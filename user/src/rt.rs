//! Real-time measurement: the cyclictest loop (rt-tests' convention), shared by the
//! `cyclictest` program and the benchmarks. A task sleeps to absolute deadlines at a fixed
//! period and records how late it wakes.

use abi::sys::{nr, Timespec, CLOCK_MONOTONIC, TIMER_ABSTIME};

/// Histogram buckets (the last one collects everything beyond).
pub const BUCKETS: usize = 32;

/// Wake-up latencies in nanoseconds (instructions under `-icount shift=0`).
pub struct Latency {
    pub count: u64,
    pub min: u64,
    pub max: u64,
    pub sum: u64,
    /// `hist[i]` counts latencies in [i * bucket, (i + 1) * bucket); the last bucket is open.
    pub hist: [u64; BUCKETS],
    pub bucket: u64,
}

impl Latency {
    pub fn avg(&self) -> u64 {
        self.sum / self.count.max(1)
    }
}

/// Monotonic nanoseconds from the virtual counter, without a syscall (the same counter the
/// kernel's clock reads, so deadlines and readings agree).
pub fn now_ns() -> u64 {
    let t = crate::sys::cntvct() as u128;
    (t * 1_000_000_000 / crate::sys::cntfrq() as u128) as u64
}

/// clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, at).
pub fn sleep_until(at_ns: u64) -> Result<(), abi::Errno> {
    let ts = Timespec {
        tv_sec: (at_ns / 1_000_000_000) as i64,
        tv_nsec: (at_ns % 1_000_000_000) as i64,
    };
    crate::sys::call(
        nr::CLOCK_NANOSLEEP,
        &[CLOCK_MONOTONIC, TIMER_ABSTIME, &ts as *const _ as usize, 0],
    )
    .map(|_| ())
}

/// Sleep to `loops` deadlines `period_ns` apart and measure how late each wake-up is.
/// Periods that are entirely missed are skipped, not measured twice.
pub fn cyclic(period_ns: u64, loops: u64, bucket_ns: u64) -> Latency {
    cyclic_jitter(period_ns, 0, loops, bucket_ns)
}

/// As `cyclic`, each period lengthened by a pseudo-random 0..`jitter_ns`. A fixed period can
/// lock in phase with what else runs (round-robin slices, a load's own rhythm; under icount
/// everything is deterministic) and never land in the kernel's longest steps; shifting every
/// deadline samples all phases.
pub fn cyclic_jitter(period_ns: u64, jitter_ns: u64, loops: u64, bucket_ns: u64) -> Latency {
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut l = Latency {
        count: 0,
        min: u64::MAX,
        max: 0,
        sum: 0,
        hist: [0; BUCKETS],
        bucket: bucket_ns.max(1),
    };
    let mut next = now_ns() + period_ns;
    for _ in 0..loops {
        let _ = sleep_until(next);
        let t = now_ns();
        let late = t.saturating_sub(next);
        l.count += 1;
        l.min = l.min.min(late);
        l.max = l.max.max(late);
        l.sum += late;
        l.hist[((late / l.bucket) as usize).min(BUCKETS - 1)] += 1;
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let step = period_ns + if jitter_ns > 0 { seed % jitter_ns } else { 0 };
        next += step;
        while next <= t {
            next += step;
        }
    }
    if l.count == 0 {
        l.min = 0;
    }
    l
}
