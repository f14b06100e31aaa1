//! Lazy FP/SIMD switching against the fake architecture (whose FP registers are a plain
//! struct): each task keeps its own values, tasks that never use FP never touch them, an
//! exiting owner's values are never shown to the next, and signal handlers get their own.

use crate::tests::signals::{sigaction, two, HANDLER};
use crate::tests::Sys;
use crate::up::FpState;
use abi::signal::*;
use abi::sys::nr;

fn regs(s: &Sys) -> FpState {
    s.arch.inner.lock().unwrap().fp
}

fn fp_on(s: &Sys) -> bool {
    s.arch.inner.lock().unwrap().fp_on
}

/// The current task executes an FP instruction: it traps unless access is on, and then
/// (as the hardware would) writes `v` into v0 and FPCR.
fn use_fp(s: &mut Sys, v: u128) {
    if !fp_on(s) {
        let pc = s.frame.pc as usize;
        s.k.fp_trap(pc);
    }
    assert!(fp_on(s), "access after the trap");
    let mut i = s.arch.inner.lock().unwrap();
    i.fp.v[0] = v;
    i.fp.fpcr = (v as u64) & 0x00c0_0000;
    i.fp.fpsr = (v as u64) & 0xf800_009f;
}

#[test]
fn each_task_keeps_its_registers_across_switches() {
    let (mut s, a, b) = two();
    s.switch_to(a);
    assert!(!fp_on(&s), "off until the first use");
    use_fp(&mut s, 0xaaaa_0000_0040_0000 | 0x9800_0011);
    s.switch_to(b);
    assert!(!fp_on(&s), "b does not own them");
    // b's first use: a's values saved, b starts from zero.
    s.k.fp_trap(0);
    assert_eq!(regs(&s), FpState::default(), "a new user starts at zero");
    use_fp(&mut s, 0xbbbb);
    s.switch_to(a);
    s.k.fp_trap(0);
    assert_eq!(
        regs(&s).v[0],
        0xaaaa_0000_0040_0000 | 0x9800_0011,
        "a's v0 back"
    );
    assert_eq!(regs(&s).fpcr, 0x0040_0000, "a's FPCR back");
    assert_eq!(regs(&s).fpsr, 0x9800_0011, "a's FPSR back");
    s.switch_to(b);
    s.k.fp_trap(0);
    assert_eq!(regs(&s).v[0], 0xbbbb, "b's v0 back");
}

#[test]
fn tasks_that_never_use_fp_never_switch_it() {
    let (mut s, a, b) = two();
    let writes = s.arch.inner.lock().unwrap().fp_writes;
    for _ in 0..10 {
        s.switch_to(a);
        s.switch_to(b);
    }
    assert_eq!(s.arch.inner.lock().unwrap().fp_writes, writes);
    // One user: access follows it, one write each way per switch, no copies.
    s.switch_to(a);
    use_fp(&mut s, 7);
    s.switch_to(b);
    assert!(!fp_on(&s));
    s.switch_to(a);
    assert!(fp_on(&s), "the owner runs with access on, no trap");
    assert_eq!(regs(&s).v[0], 7);
    assert!(s.k.task(s.k.current.unwrap()).fp.is_some());
}

#[test]
fn an_exiting_owner_leaves_nothing_to_the_next_user() {
    let (mut s, a, b) = two();
    s.switch_to(b);
    use_fp(&mut s, 0x5ec2e7);
    s.call(nr::EXIT, &[0]);
    s.settle();
    assert_eq!(s.k.fp_owner, None);
    s.switch_to(a);
    s.k.fp_trap(0);
    assert_eq!(regs(&s), FpState::default(), "b's values never reach a");
}

#[test]
fn a_handler_has_its_own_fp_values_and_sigreturn_restores_the_task_s() {
    let (mut s, a, b) = two();
    s.switch_to(b);
    assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, SA_SIGINFO, 0), 0);
    use_fp(&mut s, 0x1234_5678);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    s.switch_to(a);
    assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
    s.switch_to(b);
    assert_eq!(s.frame.pc, HANDLER);
    // The frame holds b's FP record.
    let uc = s.frame.x[2] as usize;
    let rec =
        uc + core::mem::offset_of!(UContext, mcontext) + core::mem::offset_of!(MContext, fpsimd);
    let f: FpsimdContext = s.get(rec);
    assert_eq!((f.magic, f.size), (FPSIMD_MAGIC, 528));
    assert_eq!(f.vregs[0], 0x1234_5678);
    // The handler clobbers v0; sigreturn puts b's back.
    use_fp(&mut s, 0xdead);
    s.call(nr::RT_SIGRETURN, &[]);
    assert!(!fp_on(&s), "reloaded at the next use");
    use_fp_check(&mut s, 0x1234_5678);
}

/// The next FP use sees `v` in v0.
fn use_fp_check(s: &mut Sys, v: u128) {
    if !fp_on(s) {
        s.k.fp_trap(0);
    }
    assert_eq!(regs(s).v[0], v);
}

#[test]
fn sigreturn_rejects_a_forged_fp_record_and_masks_reserved_bits() {
    let (mut s, a, b) = two();
    s.switch_to(b);
    assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, SA_SIGINFO, 0), 0);
    assert_eq!(sigaction(&mut s, SIGUSR2, HANDLER, SA_SIGINFO, 0), 0);
    use_fp(&mut s, 1);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    s.switch_to(a);
    assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
    s.switch_to(b);
    let uc = s.frame.x[2] as usize;
    let rec =
        uc + core::mem::offset_of!(UContext, mcontext) + core::mem::offset_of!(MContext, fpsimd);
    // Reserved FPCR bits set by the handler are dropped.
    let mut f: FpsimdContext = s.get(rec);
    f.fpcr = 0xffff_ffff;
    crate::uaccess::write_val(s.k.arch, &s.env(), rec, &f).unwrap();
    s.call(nr::RT_SIGRETURN, &[]);
    s.k.fp_trap(0);
    assert_eq!(regs(&s).fpcr, FPCR_USER as u64);
    // A record with a wrong size ends the task.
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    s.switch_to(a);
    assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR2]), 0);
    s.switch_to(b);
    let uc = s.frame.x[2] as usize;
    let rec =
        uc + core::mem::offset_of!(UContext, mcontext) + core::mem::offset_of!(MContext, fpsimd);
    let mut f: FpsimdContext = s.get(rec);
    f.size = 4096;
    crate::uaccess::write_val(s.k.arch, &s.env(), rec, &f).unwrap();
    s.call(nr::RT_SIGRETURN, &[]);
    s.settle();
    assert!(s.console().contains("bad FP/SIMD record"));
}
