//! Kernel-level tests against the fake architecture: processes, scheduling, syscalls and
//! page accounting.

use std::boxed::Box;
use std::format;
use std::vec;
use std::vec::Vec;

use crate::elf::build::{elf, Seg};
use crate::fake::FakeArch;
use crate::fs::romfs::{self, RomFs};
use crate::pgalloc::PageAlloc;
use crate::phys::fakeram;
use crate::task::{State, SLICE_NS};
use crate::up::{Arch, TrapFrame};
use crate::{uaccess, Kernel};
use abi::layout::USER_STACK_TOP;
use abi::sys::{self, nr};
use abi::Errno;

pub struct Sys {
    pub k: Kernel,
    pub arch: &'static FakeArch,
    /// The live register frame (what the vector code would hold).
    pub frame: TrapFrame,
    /// Each task's last syscall: (pid, pc after its `svc`). A task woken to run its call
    /// again comes back with pc 4 before it, and the harness issues the call again as the
    /// task would.
    pub svc: Vec<(i32, u64)>,
    /// The fake RAM slice this kernel runs in, given back when the test is over.
    ram: crate::phys::Pa,
}

impl Drop for Sys {
    fn drop(&mut self) {
        fakeram::give_back(self.ram);
    }
}

fn prog() -> Vec<u8> {
    elf(
        0x40_0000,
        &[
            Seg {
                vaddr: 0x40_0000,
                flags: 5,
                data: vec![0x1f, 0x20, 0x03, 0xd5],
                memsz: 4,
            },
            Seg {
                vaddr: 0x40_1000,
                flags: 6,
                data: vec![7; 10],
                memsz: 0x2000,
            },
        ],
    )
}

/// A program with 64 pages of data (file bytes then zero fill): several load steps.
fn big_prog() -> Vec<u8> {
    elf(
        0x40_0000,
        &[
            Seg {
                vaddr: 0x40_0000,
                flags: 5,
                data: vec![0x1f, 0x20, 0x03, 0xd5],
                memsz: 4,
            },
            Seg {
                vaddr: 0x40_1000,
                flags: 6,
                data: vec![0x5a; 40 * 4096],
                memsz: 64 * 4096,
            },
        ],
    )
}

/// A scratch user address in the current task's stack.
pub const SCRATCH: usize = USER_STACK_TOP - 4096;

impl Sys {
    pub fn new() -> Sys {
        let arch = FakeArch::leak();
        let (base, size) = fakeram::slice();
        // SAFETY: the fake RAM slice is ours alone.
        let pg = unsafe { PageAlloc::new(base, size / abi::PAGE_SIZE) };
        let mut bad = prog();
        bad[18] = 0; // wrong machine
        let img: &'static [u8] = Box::leak(
            romfs::build(&[
                ("prog", &prog()),
                ("bad", &bad),
                ("junk", b"not an elf"),
                ("big", &big_prog()),
            ])
            .into_boxed_slice(),
        );
        let k = Kernel::new(arch, pg, RomFs::new(img).unwrap(), || (0, 0));
        Sys {
            k,
            arch,
            frame: TrapFrame::default(),
            svc: Vec::new(),
            ram: base,
        }
    }

    /// Return to user: run the scheduler the way the trap exit path does.
    /// Every step of pending kernel work runs (no interrupt comes between them here).
    pub fn run(&mut self) -> bool {
        loop {
            match self.k.schedule(&mut self.frame) {
                crate::task::Next::User => {
                    let pid = self.cur_pid().expect("a task runs");
                    let rerun = self
                        .svc
                        .iter()
                        .any(|&(p, pc)| p == pid && pc == self.frame.pc + 4);
                    if !rerun {
                        return true;
                    }
                    // Back at its `svc`: the task issues the call again.
                    self.frame.pc += 4;
                    self.k.syscall(&mut self.frame);
                }
                crate::task::Next::Idle => return false,
                crate::task::Next::Again => {}
            }
        }
    }

    /// Everything written to the console so far: the transmit interrupt is played until the
    /// ring is empty, as the UART would drain it.
    pub fn console(&mut self) -> std::string::String {
        while self.arch.inner.lock().unwrap().tx_irq {
            self.k.console_tx_ready();
        }
        self.arch.console()
    }

    pub fn cur_pid(&self) -> Option<i32> {
        self.k.current.map(|s| self.k.task(s).pid)
    }

    /// Make the current task issue a syscall and return what lands in x0.
    pub fn call(&mut self, n: usize, args: &[usize]) -> i64 {
        if let Some(pid) = self.cur_pid() {
            self.svc.retain(|&(p, _)| p != pid);
            self.svc.push((pid, self.frame.pc));
        }
        self.frame.x[8] = n as u64;
        for (i, a) in args.iter().enumerate() {
            self.frame.x[i] = *a as u64;
        }
        self.enter();
        // On the way back to user mode the caller's kernel work runs to its end (unless the
        // caller blocks and another task takes over).
        while let Some(c) = self.k.current {
            if self.k.task(c).work.is_none() {
                break;
            }
            if self.k.schedule(&mut self.frame) != crate::task::Next::Again {
                break;
            }
        }
        self.frame.x[0] as i64
    }

    /// The syscall in the frame as the trap entry runs it: the fast path first. When that
    /// says the caller just goes on, `schedule` must agree (same task, same frame, nothing
    /// to run), so every test that makes a call checks the fast exit against it.
    pub fn enter(&mut self) {
        match self.k.syscall_entry(&mut self.frame) {
            crate::syscall::Svc::Done => {
                let (cur, frame) = (self.k.current, self.frame);
                assert_eq!(self.k.schedule(&mut self.frame), crate::task::Next::User);
                assert_eq!(self.k.current, cur, "the fast exit skipped a switch");
                // (Field by field: no allocation, for the tests that exhaust the heap.)
                let f = &self.frame;
                assert!(
                    f.x == frame.x && (f.sp, f.pc, f.pstate) == (frame.sp, frame.pc, frame.pstate)
                );
            }
            crate::syscall::Svc::Schedule | crate::syscall::Svc::Blocked => {}
            crate::syscall::Svc::WholeFrame => self.k.syscall(&mut self.frame),
        }
    }

    pub fn env(&self) -> crate::up::AddrEnv {
        self.k.task(self.k.current.unwrap()).env
    }

    pub fn put(&self, uva: usize, data: &[u8]) {
        uaccess::copy_out(self.k.arch, &self.env(), uva, data).unwrap();
    }

    pub fn get<T: uaccess::Plain>(&self, uva: usize) -> T {
        uaccess::read_val(self.k.arch, &self.env(), uva).unwrap()
    }

    /// Let every task that has exited finish tearing itself down (it does that when it is
    /// scheduled, at its priority), then come back to whatever runs.
    pub fn settle(&mut self) {
        for _ in 0..1000 {
            let exiting = (0..crate::task::MAX_TASKS)
                .any(|s| self.k.tasks[s].is_some() && self.k.is_exiting(s));
            if !exiting {
                return;
            }
            if self.k.current.is_some() {
                self.call(nr::SCHED_YIELD, &[]);
            }
            self.run();
        }
        panic!("an exiting task never finished");
    }

    /// Make `pid` the running task (round robin among equal priorities).
    pub fn switch_to(&mut self, pid: i32) {
        for _ in 0..100 {
            if self.cur_pid() == Some(pid) {
                return;
            }
            self.call(nr::SCHED_YIELD, &[]);
            self.run();
        }
        panic!("pid {pid} never ran");
    }

    pub fn spawn_call(&mut self, name: &str) -> i64 {
        self.put(SCRATCH, name.as_bytes());
        self.call(nr::SPAWN, &[SCRATCH, name.len(), 0, 0])
    }
}

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

#[test]
fn kernel_state_fits_the_boot_stack() {
    // The board builds the Kernel on its 64 KiB boot stack and moves it into place.
    assert!(
        core::mem::size_of::<Kernel>() < 16 * 1024,
        "{}",
        core::mem::size_of::<Kernel>()
    );
}

#[test]
fn thread_pointer_is_per_task_and_starts_at_zero() {
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"prog\0", None).unwrap();
    assert!(s.run());
    assert_eq!(s.cur_pid(), Some(a));
    assert_eq!(s.arch.user_tls(), 0);
    s.arch.set_user_tls(0xaaaa);
    let b = s.spawn_call("prog") as i32;
    s.switch_to(b);
    assert_eq!(s.arch.user_tls(), 0, "a new process starts with 0");
    s.arch.set_user_tls(0xbbbb);
    s.switch_to(a);
    assert_eq!(s.arch.user_tls(), 0xaaaa);
    s.switch_to(b);
    assert_eq!(s.arch.user_tls(), 0xbbbb);
}

#[test]
fn argv_is_null_terminated_at_the_argument_limit() {
    let mut s = Sys::new();
    let mut args = Vec::new();
    for i in 0..sys::ARGV_MAX {
        args.extend_from_slice(format!("{}", i % 10).as_bytes());
        args.push(0);
    }
    let pid = s.k.spawn("prog", &args, None).unwrap();
    assert!(s.run());
    assert_eq!(s.cur_pid(), Some(pid));
    assert_eq!(s.frame.x[0], sys::ARGV_MAX as u64);
    let argv = s.frame.x[1] as usize;
    let last: u64 = s.get(argv + (sys::ARGV_MAX - 1) * 8);
    assert_ne!(last, 0);
    let end: u64 = s.get(argv + sys::ARGV_MAX * 8);
    assert_eq!(end, 0, "argv[ARGV_MAX] must be NULL");
    // One more is refused, with nothing kept.
    let used = s.k.pg.used();
    args.extend_from_slice(b"x\0");
    assert_eq!(s.k.spawn("prog", &args, None), Err(Errno::E2BIG));
    assert_eq!(s.k.pg.used(), used);
}

#[test]
fn spawn_runs_and_exit_returns_every_page() {
    let mut s = Sys::new();
    let base = s.k.pg.used();
    let pid = s.k.spawn("prog", b"prog\0a1\0", None).unwrap();
    assert_eq!(pid, 1);
    assert!(s.run());
    assert_eq!(s.cur_pid(), Some(1));
    // argc/argv in x0/x1 and strings on the stack.
    assert_eq!(s.frame.x[0], 2);
    let argv1: u64 = s.get(s.frame.x[1] as usize + 8);
    let mut b = [0u8; 3];
    uaccess::copy_in(s.k.arch, &s.env(), argv1 as usize, &mut b).unwrap();
    assert_eq!(&b, b"a1\0");
    // Data segment: file bytes then zero fill.
    assert_eq!(s.get::<u64>(0x40_1000) & 0xff, 7);
    assert_eq!(s.get::<u64>(0x40_2000), 0);
    assert!(s.k.pg.used() > base);
    s.call(nr::EXIT, &[3]);
    assert!(!s.run(), "nothing left to run");
    assert_eq!(s.k.pg.used(), base, "all pages back");
    assert!(s.k.tasks.iter().all(|t| t.is_none()), "orphan released");
}

#[test]
fn wait_blocks_until_child_exits_and_gets_status() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let child = s.spawn_call("prog");
    assert_eq!(child, 2);
    assert_eq!(
        s.call(nr::WAIT4, &[usize::MAX, SCRATCH + 64, 0, 0]),
        -1,
        "x0 untouched while blocked"
    );
    assert!(s.run());
    assert_eq!(s.cur_pid(), Some(2), "parent blocked, child runs");
    s.call(nr::EXIT, &[42]);
    assert!(s.run());
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.frame.x[0], 2, "wait returns the child's pid");
    let st: i32 = s.get(SCRATCH + 64);
    assert!(sys::wifexited(st) && sys::wexitstatus(st) == 42);
    assert_eq!(
        s.call(nr::WAIT4, &[usize::MAX, 0, 0, 0]),
        err(Errno::ECHILD)
    );
}

#[test]
fn zombie_is_reaped_by_a_later_wait() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let child = s.spawn_call("prog") as i32;
    let slot = s.k.slot_of(child).unwrap();
    s.k.exit_task(slot, sys::w_exited(5));
    assert!(s.k.is_exiting(slot), "torn down when it next runs");
    s.settle();
    assert_eq!(s.k.task(slot).state, State::Zombie);
    assert_eq!(
        s.call(nr::WAIT4, &[1234, 0, 0, 0]),
        err(Errno::ECHILD),
        "not my child"
    );
    assert_eq!(
        s.call(nr::WAIT4, &[child as usize, SCRATCH, 0, 0]),
        child as i64
    );
    assert_eq!(sys::wexitstatus(s.get::<i32>(SCRATCH)), 5);
    assert!(s.k.slot_of(child).is_none());
}

#[test]
fn wnohang_and_bad_status_pointer() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.spawn_call("prog");
    assert_eq!(s.call(nr::WAIT4, &[usize::MAX, 0, sys::WNOHANG, 0]), 0);
    assert_eq!(
        s.call(nr::WAIT4, &[usize::MAX, 0xffff_0000_0000_0000, 0, 0]),
        err(Errno::EFAULT)
    );
}

#[test]
fn kill_frees_pages_and_reports() {
    let mut s = Sys::new();
    let base = s.k.pg.used();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let before_child = s.k.pg.used();
    let child = s.spawn_call("prog");
    assert!(s.k.pg.used() > before_child);
    assert_eq!(s.call(nr::KILL, &[child as usize, sys::SIGKILL]), 0);
    // The wait blocks until the child has torn itself down.
    s.call(nr::WAIT4, &[child as usize, SCRATCH, 0, 0]);
    s.run();
    assert_eq!(s.frame.x[0] as i64, child);
    let st: i32 = s.get(SCRATCH);
    assert_eq!(sys::wtermsig(st), 9);
    assert_eq!(s.k.pg.used(), before_child);
    assert_eq!(s.call(nr::KILL, &[999, 9]), err(Errno::ESRCH));
    assert_eq!(s.call(nr::KILL, &[1, 65]), err(Errno::EINVAL));
    s.call(nr::EXIT, &[0]);
    s.run();
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn user_fault_kills_with_one_line_report() {
    let mut s = Sys::new();
    let base = s.k.pg.used();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.k.user_fault(
        "data abort (translation fault, write)",
        0xdead_0000,
        0x40_0010,
        sys::SIGSEGV,
    );
    let out = s.console();
    assert!(out.contains("pid 1 (prog): killed: data abort (translation fault, write) at 0xdead0000 (pc 0x400010)"), "{out}");
    assert_eq!(out.lines().count(), 1);
    assert!(!s.run());
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn bad_programs_are_enoexec_without_leaks() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let used = s.k.pg.used();
    assert_eq!(s.spawn_call("bad"), err(Errno::ENOEXEC));
    assert_eq!(s.spawn_call("junk"), err(Errno::ENOEXEC));
    assert_eq!(s.spawn_call("missing"), err(Errno::ENOENT));
    assert_eq!(s.call(nr::SPAWN, &[0x10, 4, 0, 0]), err(Errno::EFAULT));
    assert_eq!(
        s.call(nr::SPAWN, &[SCRATCH, 4, SCRATCH, 100_000]),
        err(Errno::E2BIG)
    );
    assert_eq!(s.k.pg.used(), used);
}

#[test]
fn bad_syscalls_get_errnos() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    assert_eq!(s.call(9999, &[]), err(Errno::ENOSYS));
    assert_eq!(s.call(nr::WRITE, &[1, 0, 10]), err(Errno::EFAULT));
    assert_eq!(
        s.call(nr::WRITE, &[1, 0xffff_ffff_ffff_fff0, 0x100]),
        err(Errno::EFAULT)
    );
    assert_eq!(
        s.call(nr::WRITE, &[1, 0x40_0000, usize::MAX]),
        err(Errno::EFAULT)
    );
    assert_eq!(s.call(nr::WRITE, &[7, SCRATCH, 1]), err(Errno::EBADF));
    assert_eq!(
        s.call(nr::READ, &[0, 0x40_0000, 4]),
        err(Errno::EFAULT),
        "read-only text"
    );
    assert_eq!(
        s.call(nr::CLOCK_GETTIME, &[1, 0x40_0000]),
        err(Errno::EFAULT)
    );
    assert_eq!(
        s.call(nr::CLOCK_GETTIME, &[77, SCRATCH]),
        err(Errno::EINVAL)
    );
    assert_eq!(s.call(nr::NANOSLEEP, &[0x123, 0]), err(Errno::EFAULT));
    assert_eq!(s.call(nr::MEMINFO, &[0x40_0000]), err(Errno::EFAULT));
    assert_eq!(s.call(nr::TASKINFO, &[0, 8]), err(Errno::EFAULT));
    s.put(SCRATCH, b"hi\n");
    assert_eq!(s.call(nr::WRITE, &[1, SCRATCH, 3]), 3);
    assert!(s.console().ends_with("hi\r\n"));
}

#[test]
fn sleep_wakes_at_its_deadline() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let ts = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 5_000_000,
    };
    uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ts).unwrap();
    s.call(nr::NANOSLEEP, &[SCRATCH, 0]);
    assert!(!s.run());
    assert_eq!(s.arch.inner.lock().unwrap().deadline, Some(5_000_000));
    s.arch.advance(4_999_999);
    s.k.timer();
    assert!(!s.run(), "not yet");
    s.arch.advance(1);
    s.k.timer();
    assert!(s.run());
    assert_eq!(s.frame.x[0], 0);
    let bad = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000_000,
    };
    uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &bad).unwrap();
    assert_eq!(s.call(nr::NANOSLEEP, &[SCRATCH, 0]), err(Errno::EINVAL));
}

/// The syscall fast exit against a peer of equal priority: the caller goes straight back
/// while its slice lasts (the timer armed for the slice's end, as `pick` would), and goes
/// through `schedule` to its peer once the slice is over; a lower-priority task ready does
/// not stop it, a yield does.
#[test]
fn fast_exit_keeps_the_caller_while_its_slice_lasts() {
    use crate::syscall::Svc;
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"a\0", None).unwrap();
    let b = s.k.spawn("prog", b"b\0", None).unwrap();
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    let getpid = |s: &mut Sys| {
        s.frame.x[8] = nr::GETPID as u64;
        s.k.syscall_entry(&mut s.frame)
    };
    s.k.timers_dirty = true;
    assert_eq!(getpid(&mut s), Svc::Done, "b waits: a's slice decides");
    assert_eq!(s.frame.x[0], a as u64);
    assert!(!s.k.timers_dirty);
    assert_eq!(s.arch.inner.lock().unwrap().deadline, Some(SLICE_NS));
    s.arch.advance(SLICE_NS / 2);
    assert_eq!(getpid(&mut s), Svc::Done);
    s.arch.advance(SLICE_NS / 2);
    assert_eq!(getpid(&mut s), Svc::Schedule, "the slice is over");
    s.run();
    assert_eq!(s.cur_pid(), Some(b));
    // a below b now: b's calls come straight back; its yield does not.
    assert_eq!(s.call(nr::SETPRIORITY, &[0, a as usize, 50]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(b));
    assert_eq!(getpid(&mut s), Svc::Done);
    s.frame.x[8] = nr::SCHED_YIELD as u64;
    assert_eq!(s.k.syscall_entry(&mut s.frame), Svc::Schedule);
}

#[test]
fn a_switch_restores_the_new_task_from_its_own_slot() {
    use crate::task::Next;
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"a\0", None).unwrap();
    let b = s.k.spawn("prog", b"b\0", None).unwrap();
    s.run();
    let (sa, sb) = (s.k.slot_of(a).unwrap(), s.k.slot_of(b).unwrap());
    // Each runs once (b's start-up work done), then a again.
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.k.current, Some(sb));
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.k.current, Some(sa));
    s.frame.x[19] = 0xaaaa;
    s.frame.x[8] = nr::SCHED_YIELD as u64;
    s.k.syscall(&mut s.frame);
    // The entry code's way: b's registers stay in b's slot, a's go to a's.
    assert_eq!(s.k.schedule_lazy(&mut s.frame), Next::User);
    assert_eq!(s.k.current, Some(sb));
    assert_eq!(s.k.task(sa).frame.x[19], 0xaaaa);
    let b_x19 = s.k.task(sb).frame.x[19];
    assert_ne!(b_x19, 0xaaaa);
    // A second switch before the return saves nothing stale over b's registers.
    s.k.yield_now = true;
    assert_eq!(s.k.schedule_lazy(&mut s.frame), Next::User);
    assert_eq!(s.k.current, Some(sa));
    assert_eq!(s.k.task(sb).frame.x[19], b_x19, "b's own registers kept");
    let src = s.k.return_frame(&s.frame);
    assert_eq!(
        src,
        &s.k.task(sa).frame as *const TrapFrame,
        "a from its slot"
    );
    // Taken once: the next return restores the entry's frame.
    assert_eq!(s.k.return_frame(&s.frame), &s.frame as *const TrapFrame);
    // `schedule` (every other caller) always gets the copy.
    s.frame = TrapFrame::default();
    s.k.yield_now = true;
    assert_eq!(s.k.schedule(&mut s.frame), Next::User);
    assert_eq!(s.k.current, Some(sb));
    assert_eq!(s.frame.x[19], b_x19);
    assert_eq!(s.k.return_frame(&s.frame), &s.frame as *const TrapFrame);
}

#[test]
fn priorities_preempt_and_equal_priorities_share_by_slice() {
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"a\0", None).unwrap();
    let b = s.k.spawn("prog", b"b\0", None).unwrap();
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    // Equal priority: a keeps running until its slice is over.
    s.arch.advance(SLICE_NS / 2);
    s.k.timer();
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    assert_eq!(
        s.arch.inner.lock().unwrap().deadline,
        Some(SLICE_NS),
        "slice end armed"
    );
    s.arch.advance(SLICE_NS / 2);
    s.k.timer();
    s.run();
    assert_eq!(s.cur_pid(), Some(b), "round robin");
    // Raise a above b: it preempts at once.
    assert_eq!(s.call(nr::SETPRIORITY, &[0, a as usize, 150]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    // Higher priority runs for ever while it does not block.
    s.arch.advance(10 * SLICE_NS);
    s.k.timer();
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    assert_eq!(s.call(nr::SETPRIORITY, &[0, 0, 0]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::GETPRIORITY, &[0, 0]), 150);
}

/// A task preempted by a higher priority goes on with what is left of its slice, not a new
/// one: a high-priority task waking every millisecond must not stop round-robin among the
/// tasks below it (each resume used to restart the 20 ms slice, so the first of them ran for
/// ever and its peers never did).
#[test]
fn a_preempted_task_keeps_only_the_rest_of_its_slice() {
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"a\0", None).unwrap();
    let b = s.k.spawn("prog", b"b\0", None).unwrap();
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
    let h = s.spawn_call("prog") as i32;
    assert_eq!(s.call(nr::SETPRIORITY, &[0, h as usize, 150]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(h), "the raised task preempts");
    let ms = sys::Timespec {
        tv_sec: 0,
        tv_nsec: 1_000_000,
    };
    let mut first_b = None;
    for i in 1..=3 * SLICE_NS / 1_000_000 {
        // h sleeps a millisecond; whoever it preempted goes on.
        uaccess::write_val(s.k.arch, &s.env(), SCRATCH, &ms).unwrap();
        s.call(nr::NANOSLEEP, &[SCRATCH, 0]);
        s.run();
        if s.cur_pid() == Some(b) && first_b.is_none() {
            first_b = Some(i);
        }
        s.arch.advance(1_000_000);
        s.k.timer();
        s.run();
        assert_eq!(s.cur_pid(), Some(h), "h wakes on time");
    }
    let i = first_b.expect("b never ran: a got a fresh slice at every resume");
    let slice_ms = SLICE_NS / 1_000_000;
    assert!(
        (slice_ms..=slice_ms + 1).contains(&i),
        "b ran after {i} ms, expected after a's {slice_ms} ms slice"
    );
}

#[test]
fn yield_passes_to_a_peer() {
    let mut s = Sys::new();
    let a = s.k.spawn("prog", b"a\0", None).unwrap();
    let b = s.k.spawn("prog", b"b\0", None).unwrap();
    s.run();
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(b));
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(a));
}

#[test]
fn console_read_blocks_then_gets_input() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.call(nr::READ, &[0, SCRATCH, 16]);
    assert!(!s.run(), "reader blocked");
    s.k.console_input(b"ls\r");
    assert!(s.run());
    assert_eq!(s.frame.x[0], 3);
    let got: [u8; 3] = {
        let mut b = [0u8; 3];
        uaccess::copy_in(s.k.arch, &s.env(), SCRATCH, &mut b).unwrap();
        b
    };
    assert_eq!(&got, b"ls\r");
    s.k.console_input(b"abc");
    assert_eq!(
        s.call(nr::READ, &[0, SCRATCH, 2]),
        2,
        "buffered input served at once"
    );
    assert_eq!(s.call(nr::READ, &[0, SCRATCH, 2]), 1);
}

#[test]
fn ctrl_c_interrupts_the_foreground_process() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let child = s.spawn_call("prog") as i32;
    // Nothing in the foreground: Ctrl-C is input like any other byte.
    s.k.console_input(b"\x03");
    assert_eq!(s.call(nr::READ, &[0, SCRATCH, 4]), 1);
    // The shell puts the child in the foreground and waits.
    s.put(SCRATCH, &child.to_le_bytes());
    assert_eq!(s.call(nr::IOCTL, &[0, sys::TIOCSPGRP, SCRATCH]), 0);
    assert_eq!(s.call(nr::IOCTL, &[0, sys::TIOCGPGRP, SCRATCH + 8]), 0);
    assert_eq!(s.get::<i32>(SCRATCH + 8), child);
    s.call(nr::WAIT4, &[child as usize, SCRATCH + 16, 0, 0]);
    s.run();
    s.k.console_input(b"\x03");
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.frame.x[0], child as u64, "the wait returned");
    let st: i32 = s.get(SCRATCH + 16);
    assert_eq!(sys::wtermsig(st), sys::SIGINT as i32);
    assert_eq!(s.k.fg_pid, 0, "foreground cleared");
    assert!(
        s.k.console.rx.is_empty(),
        "the ^C was not left for a reader"
    );
    // Bad arguments.
    s.put(SCRATCH, &12345i32.to_le_bytes());
    assert_eq!(
        s.call(nr::IOCTL, &[0, sys::TIOCSPGRP, SCRATCH]),
        Errno::ESRCH.to_ret() as i64
    );
    assert_eq!(
        s.call(nr::IOCTL, &[0, 0x1234, SCRATCH]),
        Errno::ENOTTY.to_ret() as i64
    );
    assert_eq!(
        s.call(nr::IOCTL, &[5, sys::TIOCSPGRP, SCRATCH]),
        Errno::EBADF.to_ret() as i64
    );
    assert_eq!(
        s.call(nr::IOCTL, &[0, sys::TIOCSPGRP, 8]),
        Errno::EFAULT.to_ret() as i64
    );
}

#[test]
fn brk_grows_and_shrinks_with_page_accounting() {
    use abi::layout::USER_HEAP;
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let used = s.k.pg.used();
    assert_eq!(s.call(nr::BRK, &[0]), USER_HEAP as i64);
    assert_eq!(
        s.call(nr::BRK, &[USER_HEAP + 10_000]),
        (USER_HEAP + 10_000) as i64
    );
    assert_eq!(s.k.pg.used(), used + 3);
    assert_eq!(s.get::<u64>(USER_HEAP + 8192), 0);
    assert_eq!(
        s.call(nr::BRK, &[USER_HEAP + 100]),
        (USER_HEAP + 100) as i64
    );
    assert_eq!(s.k.pg.used(), used + 1);
    assert_eq!(
        s.call(nr::BRK, &[usize::MAX]),
        (USER_HEAP + 100) as i64,
        "refused: unchanged"
    );
}

#[test]
fn taskinfo_lists_tasks() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.spawn_call("prog");
    let mut idx = 0;
    let mut pids = Vec::new();
    loop {
        let r = s.call(nr::TASKINFO, &[idx, SCRATCH]);
        if r < 0 {
            assert_eq!(r, err(Errno::ESRCH));
            break;
        }
        let info: abi::sys::TaskInfo = s.get(SCRATCH);
        assert!(info.pages > 16, "stack and image pages counted");
        pids.push((info.pid, info.ppid, info.state));
        idx = r as usize;
    }
    assert_eq!(
        pids,
        vec![(1, 0, sys::state::RUNNING), (2, 1, sys::state::READY)]
    );
}

#[test]
fn pipes_carry_bytes_between_processes() {
    use crate::fs::pipe::PIPE_SIZE;
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let pair: u64 = s.get(SCRATCH);
    let (r, w) = ((pair & 0xffff_ffff) as usize, (pair >> 32) as usize);
    assert_eq!((r, w), (3, 4));
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 1]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::PIPE2, &[0x40_0000, 0]), err(Errno::EFAULT));
    // In and out in one process.
    s.put(SCRATCH + 64, b"hello");
    assert_eq!(s.call(nr::WRITE, &[w, SCRATCH + 64, 5]), 5);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH + 128, 16]), 5);
    let mut b = [0u8; 5];
    uaccess::copy_in(s.k.arch, &s.env(), SCRATCH + 128, &mut b).unwrap();
    assert_eq!(&b, b"hello");
    assert_eq!(s.call(nr::READ, &[w, SCRATCH, 1]), err(Errno::EBADF));
    assert_eq!(s.call(nr::WRITE, &[r, SCRATCH, 1]), err(Errno::EBADF));
    // A child inherits both ends; it blocks reading until the parent writes.
    let child = s.spawn_call("prog") as i32;
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    s.call(nr::READ, &[r, SCRATCH + 256, 8]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "reader blocked");
    s.put(SCRATCH + 64, b"abc");
    assert_eq!(s.call(nr::WRITE, &[w, SCRATCH + 64, 3]), 3);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    assert_eq!(s.frame.x[0], 3, "woken with the bytes");
    // A write bigger than the pipe blocks until a reader drains it.
    let big = 2 * PIPE_SIZE + 100;
    // The child's data segment is only 8 KiB: the source lives in its brk heap.
    s.call(nr::BRK, &[abi::layout::USER_HEAP + big]);
    let src = abi::layout::USER_HEAP;
    let data: std::vec::Vec<u8> = (0..big).map(|i| (i * 7) as u8).collect();
    s.put(src, &data);
    s.call(nr::WRITE, &[w, src, big]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1), "writer blocked on a full pipe");
    s.call(nr::BRK, &[abi::layout::USER_HEAP + big]);
    let mut got = std::vec::Vec::new();
    let mut returned = false;
    while got.len() < big {
        // A read that finds the pipe empty waits while the woken writer refills it (in its
        // own context), then runs again.
        s.call(nr::READ, &[r, abi::layout::USER_HEAP, 4096]);
        s.run();
        if s.cur_pid() == Some(child) {
            // The writer put its last bytes in and its write returned; back to the reader.
            assert_eq!(s.frame.x[0] as usize, big, "the whole write returned");
            returned = true;
            s.call(nr::SCHED_YIELD, &[]);
            s.run();
        }
        assert_eq!(s.cur_pid(), Some(1), "after {} bytes", got.len());
        let n = s.frame.x[0] as i64;
        assert!(n > 0, "{n}");
        let mut chunk = std::vec![0u8; n as usize];
        uaccess::copy_in(s.k.arch, &s.env(), abi::layout::USER_HEAP, &mut chunk).unwrap();
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, data, "every byte, in order");
    assert!(returned);
    // Writers gone: EOF. Readers gone: EPIPE.
    s.switch_to(child);
    assert_eq!(s.call(nr::CLOSE, &[w]), 0);
    assert_eq!(s.call(nr::CLOSE, &[w]), err(Errno::EBADF));
    s.switch_to(1);
    assert_eq!(s.call(nr::CLOSE, &[w]), 0);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 8]), 0, "end of file");
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let pair: u64 = s.get(SCRATCH);
    let (r2, w2) = ((pair & 0xffff_ffff) as usize, (pair >> 32) as usize);
    assert_eq!(s.call(nr::CLOSE, &[r2]), 0);
    // SIGPIPE, ignored here: EPIPE.
    use abi::signal::{SIGPIPE, SIG_IGN};
    assert_eq!(signals::sigaction(&mut s, SIGPIPE, SIG_IGN, 0, 0), 0);
    assert_eq!(s.call(nr::WRITE, &[w2, SCRATCH, 1]), err(Errno::EPIPE));
    // Exit releases the child's ends: the pipe table empties.
    s.k.kill(None, child, sys::SIGKILL).unwrap();
    assert_eq!(s.call(nr::CLOSE, &[r]), 0);
    assert_eq!(s.call(nr::CLOSE, &[w2]), 0);
    assert!(s.k.pipes.iter().all(|p| p.is_none()));
    // Running out of descriptors.
    let mut n = 0;
    while s.call(nr::PIPE2, &[SCRATCH, 0]) == 0 {
        n += 1;
    }
    assert_eq!(n, (crate::fs::file::MAX_FDS - 3) / 2);
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), err(Errno::EMFILE));
}

#[test]
fn only_the_controlling_process_or_root_picks_the_foreground() {
    let mut s = Sys::new();
    let init = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.k.init_pid = init;
    s.run();
    let fg = |s: &mut Sys, pid: i32| {
        s.put(SCRATCH, &pid.to_le_bytes());
        s.call(nr::IOCTL, &[0, sys::TIOCSPGRP, SCRATCH])
    };
    // A shell: its own session, the console as its controlling terminal, then unprivileged.
    let shell = s.spawn_call("prog") as i32;
    s.switch_to(shell);
    assert_eq!(s.call(nr::SETSID, &[]), shell as i64);
    assert_eq!(
        s.call(nr::SETSID, &[]),
        err(Errno::EPERM),
        "already a leader"
    );
    assert_eq!(s.call(nr::GETSID, &[0]), shell as i64);
    assert_eq!(s.call(nr::IOCTL, &[0, sys::TIOCSCTTY, 0]), 0);
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    let job = s.spawn_call("prog") as i32;
    assert_eq!(fg(&mut s, job), 0, "the shell's own child");
    assert_eq!(
        fg(&mut s, init),
        err(Errno::EPERM),
        "init: not in the session"
    );
    assert_eq!(fg(&mut s, 0), 0);
    // Its child is unprivileged and not the controlling process: nothing at all.
    s.switch_to(job);
    assert_eq!(s.call(nr::GETSID, &[0]), shell as i64, "sid inherited");
    assert_eq!(fg(&mut s, job), err(Errno::EPERM));
    assert_eq!(fg(&mut s, init), err(Errno::EPERM));
    // A root process in another session: only its own session or descendants.
    s.switch_to(init);
    let other = s.spawn_call("prog") as i32;
    s.switch_to(other);
    assert_eq!(s.call(nr::SETSID, &[]), other as i64);
    assert_eq!(fg(&mut s, init), err(Errno::EPERM));
    assert_eq!(fg(&mut s, job), err(Errno::EPERM), "a stranger's job");
    assert_eq!(fg(&mut s, other), 0, "itself");
    // Another leader cannot take the console unless root asks to steal it.
    assert_eq!(
        s.call(nr::IOCTL, &[0, sys::TIOCSCTTY, 0]),
        err(Errno::EPERM)
    );
    assert_eq!(s.call(nr::IOCTL, &[0, sys::TIOCSCTTY, 1]), 0);
    assert_eq!(s.k.console_sid, other);
    // Nobody signals init, root included; Ctrl-C never reaches it.
    assert_eq!(s.call(nr::KILL, &[init as usize, 9]), err(Errno::EPERM));
    assert_eq!(s.call(nr::KILL, &[init as usize, 0]), 0, "probing is fine");
    s.k.fg_pid = init;
    s.k.console_input(b"\x03");
    assert!(s.k.slot_of(init).is_some(), "init survived ^C");
    // The controlling process exits: the console has no session and no foreground.
    s.call(nr::EXIT, &[0]);
    s.run();
    assert_eq!((s.k.console_sid, s.k.fg_pid), (0, 0));
}

#[test]
fn init_ending_powers_off_with_a_report() {
    let mut s = Sys::new();
    let init = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.k.init_pid = init;
    s.run();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        s.k.user_fault("data abort", 0, 0x40_0000, sys::SIGSEGV);
    }));
    let msg = r.unwrap_err();
    assert_eq!(
        msg.downcast_ref::<std::string::String>()
            .map(|m| m.as_str()),
        Some("poweroff 139")
    );
    assert!(s
        .console()
        .contains("init (pid 1) killed by signal 11: powering off"));
}

#[test]
fn console_writes_block_on_a_full_ring_and_finish_in_steps() {
    use crate::fs::console::TX_USER;
    let mut s = Sys::new();
    let writer = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let other = s.spawn_call("prog") as i32;
    // A slow UART: 16 bytes per interrupt.
    s.arch.inner.lock().unwrap().tx_room = Some(16);
    // 8 KiB without newlines, from the stack (12 pages mapped below SCRATCH).
    let buf = SCRATCH - 8192;
    s.put(buf, &[b'x'; 8192]);
    s.call(nr::WRITE, &[1, buf, 8192]);
    assert!(s.run());
    // The writer is blocked with the ring full; the other task runs.
    assert_eq!(s.cur_pid(), Some(other));
    let w = s.k.slot_of(writer).unwrap();
    assert_eq!(
        s.k.task(w).block,
        crate::task::Block::On(crate::sched::wait::WaitId::ConsoleWrite)
    );
    assert!(s.k.console.tx.len() > TX_USER / 2);
    // A kernel message still fits (the reserve) while user bytes cannot.
    crate::klog!(s.k, "kernel message");
    assert_eq!(s.k.console.tx_dropped, 0);
    // The UART drains; the writer is woken once the ring is half empty and copies more
    // itself when it runs, until all 8 KiB are out.
    let mut returned = None;
    for _ in 0..10_000 {
        s.k.console_tx_ready();
        s.call(nr::SCHED_YIELD, &[]);
        s.run();
        // Work steps run before a task returns to user: the writer back in user mode means
        // its write has returned.
        if s.cur_pid() == Some(writer) {
            returned = Some(s.frame.x[0]);
            break;
        }
    }
    assert_eq!(returned, Some(8192), "the write returned its full count");
    assert_eq!(s.console().matches('x').count(), 8192);
    assert!(s.console().contains("kernel message"));
}

/// The transmit interrupt feeds the UART at the default priority: while a task above it
/// runs, the interrupt is held off (an emulated UART interrupts again after every burst, and
/// a console flood kept a woken real-time task waiting); it resumes when the scheduler next
/// chooses a task at or below the default priority.
#[test]
fn console_transmit_waits_while_a_real_time_task_runs() {
    let mut s = Sys::new();
    let writer = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let rt = s.spawn_call("prog") as i32;
    s.arch.inner.lock().unwrap().tx_room = Some(16);
    s.put(SCRATCH - 4096, &[b'y'; 1024]);
    assert_eq!(s.call(nr::WRITE, &[1, SCRATCH - 4096, 1024]), 1024);
    let queued = s.k.console.tx.len();
    assert!(queued >= 1024 - 256, "most of it waits in the ring");
    assert_eq!(s.call(nr::SETPRIORITY, &[0, rt as usize, 200]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(rt));
    // Interrupts while the real-time task runs: nothing moves, the interrupt is masked.
    for _ in 0..10 {
        s.k.console_tx_ready();
    }
    assert_eq!(s.k.console.tx.len(), queued);
    assert!(!s.arch.inner.lock().unwrap().tx_irq, "held off");
    // It sleeps: the writer runs, and with it the UART is fed again.
    s.put(SCRATCH, &[1u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    s.call(nr::NANOSLEEP, &[SCRATCH, 0]);
    s.run();
    assert_eq!(s.cur_pid(), Some(writer));
    assert!(
        s.k.console.tx.len() < queued,
        "a burst went out at the switch"
    );
    assert!(
        s.arch.inner.lock().unwrap().tx_irq,
        "and the interrupt is back"
    );
    while s.arch.inner.lock().unwrap().tx_irq {
        s.k.console_tx_ready();
    }
    assert_eq!(s.console().matches('y').count(), 1024);
}

#[test]
fn killing_a_blocked_console_writer_frees_it() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let writer = s.spawn_call("prog") as i32;
    s.arch.inner.lock().unwrap().tx_room = Some(0);
    s.switch_to(writer);
    let buf = SCRATCH - 8192;
    s.put(buf, &[b'y'; 8192]);
    s.call(nr::WRITE, &[1, buf, 8192]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.call(nr::KILL, &[writer as usize, 2]), 0);
    s.call(nr::WAIT4, &[writer as usize, 0, 0, 0]);
    s.run();
    assert_eq!(s.frame.x[0], writer as u64);
    // Nothing of the dead writer's is left waiting; the ring drains once the UART can.
    s.arch.inner.lock().unwrap().tx_room = None;
    assert!(s.console().contains('y'));
    assert!(s.k.console.tx.is_empty());
}

#[test]
fn console_output_turns_newlines_into_crlf_and_partial_fault_counts() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s.put(SCRATCH, b"a\nb\n");
    assert_eq!(s.call(nr::WRITE, &[1, SCRATCH, 4]), 4);
    assert!(s.console().ends_with("a\r\nb\r\n"));
    // The buffer runs into an unmapped page: what was copied counts.
    let last = USER_STACK_TOP - 100;
    s.put(last, &[b'z'; 100]);
    assert_eq!(s.call(nr::WRITE, &[1, last, 300]), 100);
    assert_eq!(
        s.call(nr::WRITE, &[1, USER_STACK_TOP, 10]),
        err(Errno::EFAULT)
    );
}

pub(crate) mod signals {
    use super::*;
    use abi::signal::*;

    pub(crate) const HANDLER: u64 = 0x40_0100;
    const RESTORER: u64 = 0x40_0200;

    /// Install a handler for `sig` in the current process.
    pub(crate) fn sigaction(
        s: &mut Sys,
        sig: usize,
        handler: u64,
        flags: u64,
        mask: SigSet,
    ) -> i64 {
        let a = SigAction {
            handler,
            flags: flags | SA_RESTORER,
            restorer: RESTORER,
            mask,
        };
        s.put(SCRATCH + 512, &as_bytes(&a));
        s.call(nr::RT_SIGACTION, &[sig, SCRATCH + 512, 0, 8])
    }

    fn as_bytes(a: &SigAction) -> [u8; 32] {
        let mut b = [0u8; 32];
        for (i, v) in [a.handler, a.flags, a.restorer, a.mask].iter().enumerate() {
            b[i * 8..i * 8 + 8].copy_from_slice(&v.to_le_bytes());
        }
        b
    }

    /// Two processes: the first (current) and one it spawned; their pids.
    pub(crate) fn two() -> (Sys, i32, i32) {
        let mut s = Sys::new();
        let a = s.k.spawn("prog", b"prog\0", None).unwrap();
        s.run();
        let b = s.spawn_call("prog") as i32;
        (s, a, b)
    }

    #[test]
    fn a_handler_runs_on_the_user_stack_and_sigreturn_restores_everything() {
        let (mut s, a, b) = two();
        s.switch_to(b);
        assert_eq!(
            sigaction(&mut s, SIGUSR1, HANDLER, SA_SIGINFO, sigbit(SIGUSR2)),
            0
        );
        // b sleeps 10 s; a signals it.
        s.put(SCRATCH, &[10u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
        s.frame.x[7] = 0x7777;
        let sp_before = s.frame.sp;
        s.call(nr::NANOSLEEP, &[SCRATCH, SCRATCH + 64]);
        s.run();
        assert_eq!(s.cur_pid(), Some(a));
        s.arch.advance(1_000_000_000);
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
        s.switch_to(b);
        // In the handler: x0 = signal, x1 = &info, x2 = &uc, x30 = restorer, pc = handler.
        assert_eq!(
            (s.frame.x[0], s.frame.pc, s.frame.x[30]),
            (SIGUSR1 as u64, HANDLER, RESTORER)
        );
        let sp = s.frame.sp as usize;
        assert_eq!(sp % 16, 0);
        assert_eq!(s.frame.x[1] as usize, sp);
        let info_pid: i32 = s.get(sp + 16);
        assert_eq!(info_pid, a, "si_pid");
        // nanosleep was cut short: EINTR saved in the frame, time left written (about 9 s).
        let uc = s.frame.x[2] as usize;
        let regs =
            core::mem::offset_of!(UContext, mcontext) + core::mem::offset_of!(MContext, regs);
        let saved_x0: u64 = s.get(uc + regs);
        assert_eq!(saved_x0 as i64, err(Errno::EINTR));
        let left: i64 = s.get(SCRATCH + 64);
        assert_eq!(left, 9, "10 s asked, 1 s slept");
        // The mask while it runs: the signal itself and sa_mask.
        assert_eq!(
            s.k.task(s.k.current.unwrap()).sig.blocked,
            sigbit(SIGUSR1) | sigbit(SIGUSR2)
        );
        // The handler returns through the restorer.
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.x[0] as i64, err(Errno::EINTR));
        assert_eq!(s.frame.x[7], 0x7777);
        assert_eq!(s.frame.sp, sp_before);
        assert_eq!(s.k.task(s.k.current.unwrap()).sig.blocked, 0);
    }

    #[test]
    fn sa_restart_restarts_and_without_it_eintr() {
        let (mut s, a, b) = two();
        s.switch_to(b);
        assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, SA_RESTART, 0), 0);
        assert_eq!(sigaction(&mut s, SIGUSR2, HANDLER, 0, 0), 0);
        let pc = s.frame.pc;
        s.call(nr::READ, &[0, SCRATCH, 4]); // blocks: no console input
        s.run();
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
        s.switch_to(b);
        assert_eq!(s.frame.pc, HANDLER);
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.pc, pc - 4, "back at the svc");
        assert_eq!(s.frame.x[0], 0, "the first argument again");
        // Without SA_RESTART: EINTR.
        s.frame.pc = pc;
        s.call(nr::READ, &[0, SCRATCH, 4]);
        s.run();
        assert_eq!(s.cur_pid(), Some(a));
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR2]), 0);
        s.switch_to(b);
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.x[0] as i64, err(Errno::EINTR));
    }

    #[test]
    fn blocked_signals_wait_ignored_ones_vanish_and_kill_cannot_be_caught() {
        let (mut s, a, b) = two();
        s.switch_to(b);
        assert_eq!(
            sigaction(&mut s, SIGKILL, HANDLER, 0, 0),
            err(Errno::EINVAL)
        );
        assert_eq!(
            sigaction(&mut s, SIGSTOP, SIG_IGN, 0, 0),
            err(Errno::EINVAL)
        );
        assert_eq!(sigaction(&mut s, 0, HANDLER, 0, 0), err(Errno::EINVAL));
        assert_eq!(sigaction(&mut s, 65, HANDLER, 0, 0), err(Errno::EINVAL));
        // A handler needs a restorer.
        s.put(
            SCRATCH + 512,
            &[HANDLER.to_le_bytes(), [0; 8], [0; 8], [0; 8]].concat(),
        );
        assert_eq!(
            s.call(nr::RT_SIGACTION, &[SIGINT, SCRATCH + 512, 0, 8]),
            err(Errno::EINVAL)
        );
        assert_eq!(sigaction(&mut s, SIGTERM, SIG_IGN, 0, 0), 0);
        assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, 0, 0), 0);
        // Block SIGUSR1 and SIGKILL (the latter silently stays unblocked).
        s.put(SCRATCH, &(sigbit(SIGUSR1) | sigbit(SIGKILL)).to_le_bytes());
        assert_eq!(
            s.call(nr::RT_SIGPROCMASK, &[SIG_BLOCK, SCRATCH, SCRATCH + 8, 8]),
            0
        );
        assert_eq!(s.k.task(s.k.current.unwrap()).sig.blocked, sigbit(SIGUSR1));
        s.switch_to(a);
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGTERM]), 0);
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGUSR1]), 0);
        s.switch_to(b);
        assert_ne!(s.frame.pc, HANDLER, "blocked: not delivered");
        assert_eq!(s.call(nr::RT_SIGPENDING, &[SCRATCH, 8]), 0);
        assert_eq!(
            s.get::<u64>(SCRATCH),
            sigbit(SIGUSR1),
            "SIGTERM was ignored"
        );
        s.put(SCRATCH, &sigbit(SIGUSR1).to_le_bytes());
        s.call(nr::RT_SIGPROCMASK, &[SIG_UNBLOCK, SCRATCH, 0, 8]);
        s.run();
        assert_eq!(s.frame.pc, HANDLER, "delivered once unblocked");
        // SIGKILL ends it whatever the mask.
        s.switch_to(a);
        assert_eq!(s.call(nr::KILL, &[b as usize, SIGKILL]), 0);
        s.call(nr::WAIT4, &[b as usize, SCRATCH, 0, 0]);
        s.run();
        assert_eq!(s.frame.x[0] as i64, b as i64);
        assert_eq!(sys::wtermsig(s.get(SCRATCH)), SIGKILL as i32);
    }

    #[test]
    fn sigreturn_cannot_raise_privilege_and_a_bad_frame_kills() {
        let (mut s, a, b) = two();
        s.switch_to(b);
        assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, 0, 0), 0);
        s.call(nr::SCHED_YIELD, &[]);
        s.run();
        s.switch_to(a);
        s.call(nr::KILL, &[b as usize, SIGUSR1]);
        s.switch_to(b);
        // The handler forges an EL1h, interrupts-masked PSTATE in its frame.
        let uc = s.frame.x[2] as usize;
        let pstate =
            core::mem::offset_of!(UContext, mcontext) + core::mem::offset_of!(MContext, pstate);
        s.put(uc + pstate, &0x3c5u64.to_le_bytes());
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.pstate, 0, "EL0t with interrupts on");
        // sigreturn with sp pointing nowhere: killed with SIGSEGV.
        s.frame.sp = 0x1000;
        s.call(nr::RT_SIGRETURN, &[]);
        s.run();
        s.switch_to(a);
        assert_eq!(s.call(nr::WAIT4, &[b as usize, SCRATCH, 0, 0]), b as i64);
        assert_eq!(sys::wtermsig(s.get(SCRATCH)), SIGSEGV as i32);
        assert!(s.console().contains("rt_sigreturn with no signal frame"));
    }

    #[test]
    fn an_interrupted_console_write_returns_what_it_wrote() {
        let (mut s, a, b) = two();
        s.switch_to(b);
        assert_eq!(sigaction(&mut s, SIGINT, HANDLER, SA_RESTART, 0), 0);
        s.arch.inner.lock().unwrap().tx_room = Some(0);
        let buf = SCRATCH - 8192;
        s.put(buf, &[b'w'; 8192]);
        s.call(nr::WRITE, &[1, buf, 8192]);
        s.run();
        assert_eq!(s.cur_pid(), Some(a));
        s.call(nr::KILL, &[b as usize, SIGINT]);
        s.switch_to(b);
        assert_eq!(s.frame.pc, HANDLER);
        s.call(nr::RT_SIGRETURN, &[]);
        let n = s.frame.x[0] as i64;
        assert!(n > 0 && n < 8192, "partial count, not a restart: {n}");
    }

    #[test]
    fn ctrl_c_to_a_catching_foreground_discards_typed_ahead_input() {
        let (mut s, _a, b) = two();
        s.switch_to(b);
        assert_eq!(sigaction(&mut s, SIGINT, HANDLER, 0, 0), 0);
        s.k.fg_pid = b;
        s.call(nr::READ, &[0, SCRATCH, 64]);
        s.run();
        s.k.console_input(b"ls -l\x03");
        assert!(
            s.k.console.rx.is_empty(),
            "typed-ahead input dropped with the ^C"
        );
        s.switch_to(b);
        assert_eq!(s.frame.pc, HANDLER);
        s.call(nr::RT_SIGRETURN, &[]);
        assert_eq!(s.frame.x[0] as i64, err(Errno::EINTR));
        assert_eq!(s.k.fg_pid, b, "still the foreground for the next ^C");
    }

    #[test]
    fn spawned_children_start_with_default_handlers_but_keep_ignores() {
        let (mut s, _a, b) = two();
        s.switch_to(b);
        sigaction(&mut s, SIGUSR1, HANDLER, 0, 0);
        sigaction(&mut s, SIGUSR2, SIG_IGN, 0, 0);
        let c = s.spawn_call("prog") as i32;
        let t = &s.k.task(s.k.slot_of(c).unwrap()).sig;
        assert_eq!(t.actions[SIGUSR1 - 1].handler, SIG_DFL);
        assert_eq!(t.actions[SIGUSR2 - 1].handler, SIG_IGN);
        // A handled signal with no stack to hold the frame ends the task.
        s.frame.sp = 0x2000;
        s.call(nr::KILL, &[b as usize, SIGUSR1]);
        s.run();
        assert!(s.console().contains("no room on the stack"));
        assert_eq!(s.k.task(s.k.slot_of(b).unwrap()).state, State::Zombie);
    }
}

#[test]
fn a_big_brk_runs_in_steps_and_running_out_rolls_back() {
    use abi::layout::USER_HEAP;
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let base = s.k.pg.used();
    let start = s.call(nr::BRK, &[0]) as usize;
    assert_eq!(start, USER_HEAP);
    // 8 MiB: far more than one step.
    s.frame.x[8] = nr::BRK as u64;
    s.frame.x[0] = (start + (8 << 20)) as u64;
    s.k.syscall(&mut s.frame);
    assert!(s.k.task(s.k.current.unwrap()).work.is_some());
    s.run();
    assert_eq!(s.frame.x[0] as usize, start + (8 << 20));
    assert_eq!(s.k.pg.used(), base + 2048);
    assert_eq!(s.get::<u64>(start + (8 << 20) - 8), 0);
    // More than the fake RAM holds: everything this call took is given back.
    assert_eq!(
        s.call(nr::BRK, &[start + (64 << 20)]) as usize,
        start + (8 << 20)
    );
    assert_eq!(s.k.pg.used(), base + 2048);
    // Shrinking frees in steps too.
    assert_eq!(s.call(nr::BRK, &[start]) as usize, start);
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn a_program_loads_in_steps_as_the_childs_own_work() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let base = s.k.pg.used();
    s.put(SCRATCH, b"big");
    let c = s.call(nr::SPAWN, &[SCRATCH, 3, 0, 0]) as i32;
    assert!(c > 0);
    let cs = s.k.slot_of(c).unwrap();
    assert!(matches!(
        s.k.task(cs).work,
        Some(crate::work::Work::Load { .. })
    ));
    // The parent goes on; the child loads when it runs, in several steps.
    s.call(nr::SCHED_YIELD, &[]);
    let mut steps = 0;
    while s.k.schedule(&mut s.frame) == crate::task::Next::Again {
        steps += 1;
    }
    assert_eq!(s.cur_pid(), Some(c));
    assert!(steps >= 65 / crate::work::STEP_LOAD, "{steps} steps");
    assert_eq!(s.get::<u64>(0x40_1000 + 39 * 4096), 0x5a5a_5a5a_5a5a_5a5a);
    assert_eq!(s.get::<u64>(0x40_1000 + 40 * 4096), 0, "zero fill");
    s.call(nr::EXIT, &[0]);
    s.settle();
    s.call(nr::WAIT4, &[c as usize, 0, 0, 0]);
    s.run();
    assert_eq!(s.k.pg.used(), base);
}

#[test]
fn a_program_that_does_not_fit_ends_with_127_and_a_report() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    // Leave room for the child's stack and tables, not for its 65 program pages.
    let mut hog = Vec::new();
    while s.k.pg.free() > 40 {
        hog.push(s.k.pg.alloc().unwrap());
    }
    s.put(SCRATCH, b"big");
    let c = s.call(nr::SPAWN, &[SCRATCH, 3, 0, 0]) as i32;
    assert!(c > 0);
    s.call(nr::WAIT4, &[c as usize, SCRATCH + 64, 0, 0]);
    s.run();
    assert_eq!(s.frame.x[0] as i32, c);
    let st: i32 = s.get(SCRATCH + 64);
    assert!(sys::wifexited(st) && sys::wexitstatus(st) == 127, "{st:#x}");
    assert!(s
        .console()
        .contains("(big): cannot load the program: ENOMEM"));
    for p in hog {
        s.k.pg.free_page(p);
    }
}

#[test]
fn buffers_running_past_the_user_range_are_efault_whole() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let huge = usize::MAX - SCRATCH;
    assert_eq!(s.call(nr::READ, &[0, SCRATCH, huge]), err(Errno::EFAULT));
    assert_eq!(
        s.call(nr::SYSLOG, &[sys::SYSLOG_ACTION_READ_ALL, SCRATCH, huge]),
        err(Errno::EFAULT)
    );
    assert_eq!(
        s.call(nr::ROMFS_LIST, &[0, SCRATCH, huge]),
        err(Errno::EFAULT)
    );
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let rfd = (s.get::<u64>(SCRATCH) & 0xffff_ffff) as usize;
    assert_eq!(s.call(nr::READ, &[rfd, SCRATCH, huge]), err(Errno::EFAULT));
    // A large buffer inside the range is fine: only what is copied is looked at.
    s.put(SCRATCH, b"x");
    assert_eq!(s.call(nr::ROMFS_LIST, &[0, SCRATCH, 1 << 30]), 4);
}

#[test]
fn only_root_raises_a_priority() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    let prio = sys::PRIO_DEFAULT as usize;
    assert_eq!(
        s.call(nr::SETPRIORITY, &[0, 0, sys::PRIO_MAX as usize]),
        err(Errno::EPERM),
        "an unprivileged task may not take the top priority"
    );
    assert_eq!(
        s.call(nr::SETPRIORITY, &[0, 0, prio + 1]),
        err(Errno::EPERM)
    );
    assert_eq!(
        s.call(nr::SETPRIORITY, &[0, 0, prio]),
        0,
        "the same is fine"
    );
    assert_eq!(s.call(nr::SETPRIORITY, &[0, 0, 50]), 0, "lowering is fine");
    assert_eq!(
        s.call(nr::SETPRIORITY, &[0, 0, 60]),
        err(Errno::EPERM),
        "not back up"
    );
    assert_eq!(s.call(nr::GETPRIORITY, &[0, 0]), 50);
    // Nor restart the system's longest-masked-stretch measurement.
    assert_eq!(
        s.call(nr::MEMINFO, &[SCRATCH, sys::MEMINFO_RESET_MASKED]),
        err(Errno::EPERM)
    );
    assert_eq!(s.call(nr::MEMINFO, &[SCRATCH, 0]), 0);
}

/// A writer blocked on the full ring is woken when the held-off transmit interrupt resumes,
/// even if the ring was emptied meanwhile by a real-time task's own writes (which pump the
/// UART themselves and leave the interrupt off once the ring is empty).
#[test]
fn a_blocked_console_writer_is_woken_after_the_ring_drained_while_held_off() {
    use crate::fs::console::TX_USER;
    let mut s = Sys::new();
    let writer = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let rt = s.spawn_call("prog") as i32;
    s.arch.inner.lock().unwrap().tx_room = Some(16);
    let buf = SCRATCH - 8192;
    s.put(buf, &[b'x'; 8192]);
    s.call(nr::WRITE, &[1, buf, 8192]);
    s.run();
    assert_eq!(s.cur_pid(), Some(rt));
    let w = s.k.slot_of(writer).unwrap();
    assert_eq!(
        s.k.task(w).block,
        crate::task::Block::On(crate::sched::wait::WaitId::ConsoleWrite)
    );
    // The UART drains part of the ring (non-deferred): still above TX_LOW, writer blocked.
    for _ in 0..4 {
        s.k.console_tx_ready();
    }
    assert!(s.k.console.tx.len() > TX_USER / 2);
    assert_eq!(s.k.task(w).state, State::Blocked);
    // rt becomes real-time and prints a few short lines; the UART is fast (emulator).
    assert_eq!(s.call(nr::SETPRIORITY, &[0, 0, 200]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(rt));
    s.arch.inner.lock().unwrap().tx_room = None;
    s.put(SCRATCH, b"tick\n");
    for _ in 0..12 {
        assert_eq!(s.call(nr::WRITE, &[1, SCRATCH, 5]), 5);
        if s.arch.inner.lock().unwrap().tx_irq {
            s.k.console_tx_ready(); // deferred
        }
    }
    assert!(s.k.console.tx.is_empty(), "rt's own pumps emptied the ring");
    // rt sleeps: idle (the writer is blocked), console_resume runs.
    s.put(SCRATCH, &[1u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
    s.call(nr::NANOSLEEP, &[SCRATCH, 0]);
    assert!(!s.run(), "idle");
    for _ in 0..100 {
        if s.arch.inner.lock().unwrap().tx_irq {
            s.k.console_tx_ready();
        }
        s.arch.advance(1_000_000);
        s.k.timer();
        s.run();
        if s.cur_pid() == Some(rt) {
            s.put(SCRATCH, &[1u64.to_le_bytes(), 0u64.to_le_bytes()].concat());
            s.call(nr::NANOSLEEP, &[SCRATCH, 0]);
            s.run();
        }
    }
    assert!(!s.arch.inner.lock().unwrap().tx_irq);
    assert_eq!(
        s.k.task(w).state,
        State::Running,
        "writer still blocked with an empty ring and the TX interrupt off"
    );
}

/// The transmit interrupt's priority is raised to that of the highest writer blocked on the
/// ring (priority inheritance): a priority-200 writer is not held up by a priority-150 task
/// that never blocks.
#[test]
fn a_real_time_console_writer_is_not_held_up_by_a_middle_priority() {
    let mut s = Sys::new();
    let _init = s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let mid = s.spawn_call("prog") as i32;
    let hi = s.spawn_call("prog") as i32;
    assert_eq!(s.call(nr::SETPRIORITY, &[0, mid as usize, 150]), 0);
    assert_eq!(s.call(nr::SETPRIORITY, &[0, hi as usize, 200]), 0);
    s.run();
    assert_eq!(s.cur_pid(), Some(hi));
    s.arch.inner.lock().unwrap().tx_room = Some(16);
    let buf = SCRATCH - 8192;
    s.put(buf, &[b'x'; 8192]);
    s.call(nr::WRITE, &[1, buf, 8192]);
    s.run();
    assert_eq!(
        s.cur_pid(),
        Some(mid),
        "hi blocked on the full ring, mid spins"
    );
    s.arch.inner.lock().unwrap().tx_room = None;
    for _ in 0..1000 {
        s.k.console_tx_ready();
        s.arch.advance(1_000_000);
        s.k.timer();
        s.run();
    }
    assert_eq!(s.cur_pid(), Some(hi), "hi woken while mid (150) runs");
}
