//! cyclictest: wake-up latency of a high-priority task (rt-tests' convention). It sleeps to
//! absolute deadlines at a fixed period and reports how late it woke: min, avg, max and a
//! histogram, in microseconds (or raw nanoseconds with -n: instructions under -icount).
//!
//!   cyclictest [-p PRIO] [-i INTERVAL_US] [-l LOOPS] [-b BUCKET_US] [-n] [-r]
//!
//! -r lengthens each period by a random part of up to half of it, so that the deadlines
//! sample every phase of whatever else runs (a fixed period can lock in step with it).
#![no_std]
#![no_main]
use ulib::util::parse_int;
use ulib::{println, rt, sys};

fn main(args: &[&str]) -> i32 {
    let (mut prio, mut interval_us, mut loops, mut bucket_us) = (255u32, 1000u64, 1000u64, 10u64);
    let (mut raw, mut jitter) = (false, false);
    let mut it = args.iter().skip(1);
    while let Some(&flag) = it.next() {
        let ok = match flag {
            "-n" => {
                raw = true;
                true
            }
            "-r" => {
                jitter = true;
                true
            }
            "-p" | "-i" | "-l" | "-b" => match it.next().and_then(|a| parse_int(a)) {
                Some(v) if v > 0 => {
                    match flag {
                        "-p" => prio = v as u32,
                        "-i" => interval_us = v as u64,
                        "-l" => loops = v as u64,
                        _ => bucket_us = v as u64,
                    }
                    true
                }
                _ => false,
            },
            _ => false,
        };
        if !ok {
            println!(
                "usage: cyclictest [-p PRIO] [-i INTERVAL_US] [-l LOOPS] [-b BUCKET_US] [-n] [-r]"
            );
            return 2;
        }
    }
    if let Err(e) = sys::setpriority(0, prio) {
        return ulib::util::fail("cyclictest", format_args!("priority {}", prio), e);
    }
    let unit = if raw { 1 } else { 1000 };
    let period = interval_us * 1000;
    let jitter_ns = if jitter { period / 2 } else { 0 };
    let l = rt::cyclic_jitter(period, jitter_ns, loops, bucket_us * 1000);
    let name = if raw { "ns" } else { "us" };
    println!(
        "T: 0 P: {} I: {} C: {} Min: {} Avg: {} Max: {} ({})",
        prio,
        interval_us,
        l.count,
        l.min / unit,
        l.avg() / unit,
        l.max / unit,
        name
    );
    for (b, &n) in l.hist.iter().enumerate() {
        if n > 0 {
            let lo = b as u64 * l.bucket / unit;
            if b == rt::BUCKETS - 1 {
                println!("  >= {:6} {}: {}", lo, name, n);
            } else {
                println!("  {:6} {}: {}", lo, name, n);
            }
        }
    }
    0
}
ulib::entry!(main);
