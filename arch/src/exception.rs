//! Rust side of the exception vectors: syscalls and faults from EL0, interrupts, and the
//! report for anything the kernel cannot handle.

use core::fmt::Write;

use aarch64_cpu::registers::{ESR_EL1, FAR_EL1};
use tock_registers::interfaces::Readable;

use crate::board::Board;
use crate::irq::{self, IrqHandler};
use crate::{platform, timer};
use abi::sys;
use kernel::syscall::Svc;
use kernel::task::Next;
use kernel::up::TrapFrame;

fn fault_status(dfsc: u64) -> &'static str {
    match dfsc & 0x3c {
        0x04 => "translation fault",
        0x08 => "access flag fault",
        0x0c => "permission fault",
        _ if dfsc == 0x21 => "alignment fault",
        _ => "fault",
    }
}

#[no_mangle]
extern "C" fn el0_sync(frame: &mut TrapFrame) -> *const TrapFrame {
    masked::begin();
    let esr = ESR_EL1.get();
    let ec = (esr >> 26) & 0x3f;
    let iss = esr & 0x1ff_ffff;
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    let mut kind: heapless::String<64> = heapless::String::new();
    let (addr, sig) = match ec {
        // (0x15, SVC, goes to el0_svc.)
        0x01 => {
            // WFI/WFE at EL0: treat as a yield.
            frame.pc += 4;
            k.yield_now = true;
            return return_to_user(frame);
        }
        0x24 => {
            let rw = if iss & (1 << 6) != 0 { "write" } else { "read" };
            let _ = write!(kind, "data abort ({}, {})", fault_status(iss & 0x3f), rw);
            (FAR_EL1.get() as usize, sys::SIGSEGV)
        }
        0x20 => {
            let _ = write!(kind, "instruction abort ({})", fault_status(iss & 0x3f));
            (FAR_EL1.get() as usize, sys::SIGSEGV)
        }
        0x22 => {
            let _ = kind.push_str("pc alignment fault");
            (FAR_EL1.get() as usize, sys::SIGBUS)
        }
        0x26 => {
            let _ = kind.push_str("sp alignment fault");
            (frame.sp as usize, sys::SIGBUS)
        }
        0x00 => {
            let _ = kind.push_str("undefined instruction");
            (frame.pc as usize, sys::SIGILL)
        }
        0x07 => {
            // The first FP/SIMD use since another task had the registers: hand them over
            // and run the instruction again.
            k.fp_trap(frame.pc as usize);
            return return_to_user(frame);
        }
        0x3c => {
            let _ = kind.push_str("breakpoint");
            (frame.pc as usize, 5)
        }
        _ => {
            let _ = write!(kind, "exception class {:#x}", ec);
            (frame.pc as usize, sys::SIGILL)
        }
    };
    k.user_fault(&kind, addr, frame.pc as usize, sig);
    return_to_user(frame)
}

/// A syscall from EL0, entered with only the caller-saved registers (x0-x18, x30) in the
/// frame. 0: done, the task goes on (restore those and return). 1 or 2: the entry code
/// completes the frame and calls `el0_svc_rest` with the value. Anything else (the caller
/// blocked): the current task's slot, where the entry code saves the whole register state
/// (the frame's part and the rest) before it calls `el0_svc_switch`; the switch away then
/// copies nothing.
#[no_mangle]
extern "C" fn el0_svc(frame: &mut TrapFrame) -> u64 {
    masked::begin();
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    match k.syscall_entry(frame) {
        Svc::Done => {
            masked::end();
            0
        }
        Svc::Schedule => 1,
        Svc::Blocked => k.live_frame_in_slot().map_or(1, |p| p as u64),
        Svc::WholeFrame => 2,
    }
}

/// The way back from a syscall whose registers the entry code saved in the current task's
/// slot (`el0_svc`'s value): `frame` is not the live frame until the scheduler loads it.
#[no_mangle]
extern "C" fn el0_svc_switch(frame: &mut TrapFrame) -> *const TrapFrame {
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    // `return_to_user`, with the switch away from a caller that blocked inline.
    match k.schedule_after_call(frame) {
        Next::User => {
            let src = k.return_frame(frame);
            masked::end();
            src
        }
        next => return_later(frame, next),
    }
}

/// The rest of a syscall, with the whole frame saved: `code` from `el0_svc` (2: the call
/// itself needs the frame and has not run yet).
#[no_mangle]
extern "C" fn el0_svc_rest(frame: &mut TrapFrame, code: u64) -> *const TrapFrame {
    if code == 2 {
        // SAFETY: kernel entry with interrupts masked.
        let k = unsafe { kernel::global::get() };
        k.syscall(frame);
    }
    return_to_user(frame)
}

#[no_mangle]
extern "C" fn el0_irq(frame: &mut TrapFrame) -> *const TrapFrame {
    masked::begin();
    handle_irq();
    return_to_user(frame)
}

#[no_mangle]
extern "C" fn el0_unexpected(frame: &mut TrapFrame) -> *const TrapFrame {
    masked::begin();
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    k.user_fault(
        "SError or AArch32 exception",
        0,
        frame.pc as usize,
        sys::SIGBUS,
    );
    return_to_user(frame)
}

#[no_mangle]
extern "C" fn el1_irq(frame: &mut TrapFrame) {
    // Taken inside an interrupt window or the idle wait: its own masked stretch.
    masked::begin();
    handle_irq();
    // Back into the window with interrupts masked: one interrupt entry per window. A device
    // whose interrupt comes back at once (an emulated UART's transmit) would otherwise be
    // taken again and again before the window closes, and the task just woken would wait
    // for it.
    frame.pstate |= PSTATE_I;
    masked::end();
}

/// The IRQ mask bit of PSTATE (as saved in SPSR_EL1).
const PSTATE_I: u64 = 1 << 7;

#[no_mangle]
extern "C" fn el1_sync(frame: &mut TrapFrame) {
    let esr = ESR_EL1.get();
    kernel_fault("synchronous exception", esr, frame);
}

#[no_mangle]
extern "C" fn el1_unexpected(frame: &mut TrapFrame) {
    let esr = ESR_EL1.get();
    kernel_fault("unexpected exception (SError/FIQ)", esr, frame);
}

fn kernel_fault(what: &str, esr: u64, frame: &TrapFrame) -> ! {
    let mut s: heapless::String<256> = heapless::String::new();
    let _ = write!(
        s,
        "\nKERNEL FAULT: {} ESR={:#x} (EC {:#x}) FAR={:#x} ELR={:#x} SPSR={:#x}\n",
        what,
        esr,
        (esr >> 26) & 0x3f,
        FAR_EL1.get(),
        frame.pc,
        frame.pstate
    );
    platform::ARCH.console_bytes(s.as_bytes());
    for i in (0..31).step_by(4) {
        s.clear();
        for j in i..(i + 4).min(31) {
            let _ = write!(s, "x{:<2}={:#018x} ", j, frame.x[j]);
        }
        let _ = s.push('\n');
        platform::ARCH.console_bytes(s.as_bytes());
    }
    platform::halt(70)
}

/// Return to user mode: pick the task to run, idling until one is ready; between steps of
/// kernel work, let pending interrupts in. The frame to restore: `frame`, or after a task
/// switch the new task's own (the scheduler copies no frame it does not need to).
#[inline(always)]
pub fn return_to_user(frame: &mut TrapFrame) -> *const TrapFrame {
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    match k.schedule_lazy(frame) {
        Next::User => {
            let src = k.return_frame(frame);
            masked::end();
            src
        }
        next => return_later(frame, next),
    }
}

/// `return_to_user` once the first pick did not go straight back: idle or a step of
/// kernel work first.
#[inline(never)]
fn return_later(frame: &mut TrapFrame, first: Next) -> *const TrapFrame {
    let mut next = first;
    loop {
        masked::end();
        match next {
            Next::Idle => idle_wait(),
            _ => irq_window(),
        }
        masked::begin();
        // SAFETY: kernel entry with interrupts masked; the reference is dropped before the
        // interrupt window or the idle wait.
        let k = unsafe { kernel::global::get() };
        next = k.schedule_lazy(frame);
        if next == Next::User {
            let src = k.return_frame(frame);
            masked::end();
            return src;
        }
    }
}

/// Take any pending interrupt now (at EL1, on this stack), then mask them again: the
/// preemption point between two steps of kernel work.
pub fn irq_window() {
    // SAFETY: unmasking IRQs briefly lets a pending interrupt be taken at EL1 (el1_irq); no
    // reference to the kernel is held here.
    unsafe {
        core::arch::asm!(
            "msr daifclr, #2",
            "isb",
            "msr daifset, #2",
            options(nostack)
        )
    }
}

/// Wait for an interrupt and take it. WFI wakes on a pending interrupt even while masked, so
/// nothing is lost between the scheduler's decision and the wait.
pub fn idle_wait() {
    // SAFETY: unmasking IRQs briefly lets the pending interrupt be taken at EL1 (el1_irq).
    unsafe {
        core::arch::asm!(
            "wfi",
            "msr daifclr, #2",
            "isb",
            "msr daifset, #2",
            options(nostack)
        )
    }
}

/// Interrupts handled per kernel entry. A device that raises its interrupt again at once
/// (an emulated UART transmits a burst instantly, so its transmit interrupt returns as soon
/// as it is acknowledged) would otherwise keep this loop going until its buffer is empty:
/// 4 KiB of console output, 40,000 instructions with interrupts masked. What is left stays
/// pending and is taken at the next preemption point.
const IRQS_PER_ENTRY: usize = 4;

fn handle_irq() {
    let board = platform::ARCH.board();
    // SAFETY: kernel entry with interrupts masked.
    let k = unsafe { kernel::global::get() };
    let mut h = Handlers { k, board };
    irq::dispatch(board.irq_chip(), IRQS_PER_ENTRY, &mut h);
}

/// The interrupts the kernel handles: the timer's and the console's (numbers from the board).
struct Handlers<'a> {
    k: &'a mut kernel::Kernel,
    board: &'static dyn Board,
}

impl IrqHandler for Handlers<'_> {
    fn handle(&mut self, id: u32) -> bool {
        if id == self.board.timer_irq() {
            timer::ack();
            self.k.timer();
        } else if id == self.board.console_irq() {
            let uart = self.board.console();
            let (rx, tx) = uart.pending();
            if rx {
                let mut buf = [0u8; 64];
                loop {
                    let n = uart.read_fifo(&mut buf);
                    if n == 0 {
                        break;
                    }
                    self.k.console_input(&buf[..n]);
                }
            }
            if tx {
                uart.ack_tx();
                self.k.console_tx_ready();
            }
        } else {
            return false;
        }
        true
    }

    fn unhandled(&mut self, id: u32) {
        kernel::klog!(self.k, "unhandled interrupt {}: disabled", id);
    }
}

/// The longest stretch the kernel has run with interrupts masked (Linux's irqsoff tracer in
/// miniature): the counter is read on every kernel entry and on the way out (to user mode,
/// an interrupt window or the idle wait). A few instructions per entry; it is what bounds
/// how late a high-priority task can be woken.
pub mod masked {
    use core::sync::atomic::{AtomicU64, Ordering};

    /// When the current stretch began and the longest so far, side by side (one address for
    /// both on the way out).
    struct Stretch {
        since: AtomicU64,
        max: AtomicU64,
    }

    static M: Stretch = Stretch {
        since: AtomicU64::new(0),
        max: AtomicU64::new(0),
    };

    #[inline(always)]
    pub fn begin() {
        M.since.store(crate::timer::ticks(), Ordering::Relaxed);
    }

    #[inline(always)]
    pub fn end() {
        let d = crate::timer::ticks().wrapping_sub(M.since.load(Ordering::Relaxed));
        if d > M.max.load(Ordering::Relaxed) {
            M.max.store(d, Ordering::Relaxed);
        }
    }

    /// The counter as read when the current stretch began: at every kernel entry and after
    /// every idle wait or interrupt window, so the kernel may take it for "now" in its slice
    /// checks (`Kernel::entry_ticks`) instead of reading the counter again.
    pub fn stamp() -> &'static AtomicU64 {
        &M.since
    }

    /// The longest masked stretch since boot or the last reset, in nanoseconds.
    pub fn max_ns(reset: bool) -> u64 {
        let t = if reset {
            M.max.swap(0, Ordering::Relaxed)
        } else {
            M.max.load(Ordering::Relaxed)
        };
        crate::timer::ticks_to_ns(t)
    }
}
