//! FP/SIMD test task driven by ostest: `fptask regs SEED MS` keeps values in all 32 vector
//! registers, FPCR and FPSR while it is preempted for MS milliseconds; `fptask signal SEED` checks
//! that a handler using FP leaves the interrupted code's values alone. Exit 0: all kept.
#![no_std]
#![no_main]
use core::sync::atomic::{AtomicU32, Ordering};
use ulib::sys;

ulib::entry!(main);

/// The 32 vector registers as 128-bit values.
type Vregs = [u128; 32];

/// Load v0-v31 from `v`, FPCR from `fpcr` and FPSR from `fpsr`.
fn fp_fill(v: &Vregs, fpcr: u64, fpsr: u64) {
    // SAFETY: loads the FP/SIMD registers (which the soft-float code around never uses)
    // from a valid 512-byte array; the kernel hands them to this task at the first use.
    unsafe {
        core::arch::asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "ldp q0, q1, [{p}, #0]",
            "ldp q2, q3, [{p}, #32]",
            "ldp q4, q5, [{p}, #64]",
            "ldp q6, q7, [{p}, #96]",
            "ldp q8, q9, [{p}, #128]",
            "ldp q10, q11, [{p}, #160]",
            "ldp q12, q13, [{p}, #192]",
            "ldp q14, q15, [{p}, #224]",
            "ldp q16, q17, [{p}, #256]",
            "ldp q18, q19, [{p}, #288]",
            "ldp q20, q21, [{p}, #320]",
            "ldp q22, q23, [{p}, #352]",
            "ldp q24, q25, [{p}, #384]",
            "ldp q26, q27, [{p}, #416]",
            "ldp q28, q29, [{p}, #448]",
            "ldp q30, q31, [{p}, #480]",
            "msr fpcr, {c}",
            "msr fpsr, {s}",
            p = in(reg) v.as_ptr(),
            c = in(reg) fpcr,
            s = in(reg) fpsr,
            options(nostack, readonly),
        )
    }
}

/// Read v0-v31 into `v`; returns FPCR and FPSR.
fn fp_dump(v: &mut Vregs) -> (u64, u64) {
    let (fpcr, fpsr): (u64, u64);
    // SAFETY: stores the FP/SIMD registers into a valid 512-byte array.
    unsafe {
        core::arch::asm!(
            ".arch_extension fp",
            ".arch_extension simd",
            "stp q0, q1, [{p}, #0]",
            "stp q2, q3, [{p}, #32]",
            "stp q4, q5, [{p}, #64]",
            "stp q6, q7, [{p}, #96]",
            "stp q8, q9, [{p}, #128]",
            "stp q10, q11, [{p}, #160]",
            "stp q12, q13, [{p}, #192]",
            "stp q14, q15, [{p}, #224]",
            "stp q16, q17, [{p}, #256]",
            "stp q18, q19, [{p}, #288]",
            "stp q20, q21, [{p}, #320]",
            "stp q22, q23, [{p}, #352]",
            "stp q24, q25, [{p}, #384]",
            "stp q26, q27, [{p}, #416]",
            "stp q28, q29, [{p}, #448]",
            "stp q30, q31, [{p}, #480]",
            "mrs {c}, fpcr",
            "mrs {s}, fpsr",
            p = in(reg) v.as_mut_ptr(),
            c = out(reg) fpcr,
            s = out(reg) fpsr,
            options(nostack),
        )
    }
    (fpcr, fpsr)
}

/// Values that differ per register and per seed.
fn pattern(seed: u64) -> Vregs {
    let mut v = [0u128; 32];
    let mut x = seed | 1;
    for r in v.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *r = ((x as u128) << 64) | (x.rotate_left(17) as u128);
    }
    v
}

/// An FPCR from the seed: a rounding mode (bits 23:22), flush-to-zero and default NaN.
fn fpcr_of(seed: u64) -> u64 {
    ((seed & 3) << 22) | if seed & 4 != 0 { 1 << 24 } else { 0 } | 1 << 25
}

/// An FPSR from the seed: condition flags (bits 31-28), QC (27) and cumulative exception
/// flags (4-0), sticky until written: a leak between tasks would show.
fn fpsr_of(seed: u64) -> u64 {
    (((seed >> 3) & 0x1f) << 27) | (seed & 0x1f)
}

static HANDLED: AtomicU32 = AtomicU32::new(0);

/// A handler that uses every FP register and another rounding mode.
extern "C" fn clobber(_sig: i32) {
    fp_fill(&pattern(0xdead_beef), 3 << 22, 0xf800_001f);
    HANDLED.fetch_add(1, Ordering::Relaxed);
}

fn check(want: &Vregs, fpcr: u64, fpsr: u64) -> bool {
    let mut got = [0u128; 32];
    let (c, s) = fp_dump(&mut got);
    got == *want && c == fpcr && s == fpsr
}

fn main(args: &[&str]) -> i32 {
    let seed = args.get(2).and_then(|s| s.parse::<u64>().ok()).unwrap_or(1);
    let want = pattern(seed);
    let fpcr = fpcr_of(seed);
    let fpsr = fpsr_of(seed);
    match args.get(1).copied() {
        Some("regs") => {
            let ms = args
                .get(3)
                .and_then(|s| s.parse::<u64>().ok())
                .unwrap_or(100);
            fp_fill(&want, fpcr, fpsr);
            let end = sys::now_ns() + ms * 1_000_000;
            let mut rounds = 0u32;
            while sys::now_ns() < end {
                if !check(&want, fpcr, fpsr) {
                    return 1;
                }
                // Now and then give the CPU away on purpose too.
                rounds += 1;
                if rounds.is_multiple_of(64) {
                    sys::sched_yield();
                }
            }
            if check(&want, fpcr, fpsr) {
                0
            } else {
                1
            }
        }
        Some("signal") => {
            if sys::sigaction(10, sys::Handler::Catch(clobber), 0, 0).is_err() {
                return 2;
            }
            fp_fill(&want, fpcr, fpsr);
            if sys::kill(sys::getpid(), 10).is_err() {
                return 3;
            }
            if HANDLED.load(Ordering::Relaxed) != 1 {
                return 4;
            }
            if check(&want, fpcr, fpsr) {
                0
            } else {
                1
            }
        }
        _ => {
            ulib::println!("usage: fptask regs SEED MS | fptask signal SEED");
            2
        }
    }
}
