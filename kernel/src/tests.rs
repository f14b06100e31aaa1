//! Kernel-level tests against the fake architecture: processes, scheduling, syscalls and
//! page accounting.

use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use crate::elf::build::{elf, Seg};
use crate::fake::FakeArch;
use crate::pgalloc::PageAlloc;
use crate::phys::fakeram;
use crate::romfs::{self, RomFs};
use crate::task::{State, SLICE_NS};
use crate::up::TrapFrame;
use crate::{uaccess, Kernel};
use abi::layout::USER_STACK_TOP;
use abi::sys::{self, nr};
use abi::Errno;

pub struct Sys {
    pub k: Kernel,
    pub arch: &'static FakeArch,
    /// The live register frame (what the vector code would hold).
    pub frame: TrapFrame,
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
            romfs::build(&[("prog", &prog()), ("bad", &bad), ("junk", b"not an elf")])
                .into_boxed_slice(),
        );
        let k = Kernel::new(arch, pg, RomFs::new(img).unwrap(), || (0, 0));
        Sys {
            k,
            arch,
            frame: TrapFrame::default(),
        }
    }

    /// Return to user: run the scheduler the way the trap exit path does.
    pub fn run(&mut self) -> bool {
        self.k.schedule(&mut self.frame)
    }

    pub fn cur_pid(&self) -> Option<i32> {
        self.k.current.map(|s| self.k.task(s).pid)
    }

    /// Make the current task issue a syscall and return what lands in x0.
    pub fn call(&mut self, n: usize, args: &[usize]) -> i64 {
        self.frame.x[8] = n as u64;
        for (i, a) in args.iter().enumerate() {
            self.frame.x[i] = *a as u64;
        }
        self.k.syscall(&mut self.frame);
        self.frame.x[0] as i64
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
    assert_eq!(s.call(nr::WAIT4, &[child as usize, SCRATCH, 0, 0]), child);
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
    let out = s.arch.console();
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
    assert!(s.arch.console().ends_with("hi\n"));
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
        s.k.console_rx.is_empty(),
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
    use crate::pipe::PIPE_SIZE;
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
    while got.len() < big {
        let n = s.call(nr::READ, &[r, abi::layout::USER_HEAP, 4096]);
        assert!(n > 0, "{n}");
        let mut chunk = std::vec![0u8; n as usize];
        uaccess::copy_in(s.k.arch, &s.env(), abi::layout::USER_HEAP, &mut chunk).unwrap();
        got.extend_from_slice(&chunk);
    }
    assert_eq!(got, data, "every byte, in order");
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(child));
    assert_eq!(s.frame.x[0] as usize, big, "the whole write returned");
    // Writers gone: EOF. Readers gone: EPIPE.
    assert_eq!(s.call(nr::CLOSE, &[w]), 0);
    assert_eq!(s.call(nr::CLOSE, &[w]), err(Errno::EBADF));
    s.switch_to(1);
    assert_eq!(s.call(nr::CLOSE, &[w]), 0);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 8]), 0, "end of file");
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let pair: u64 = s.get(SCRATCH);
    let (r2, w2) = ((pair & 0xffff_ffff) as usize, (pair >> 32) as usize);
    assert_eq!(s.call(nr::CLOSE, &[r2]), 0);
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
    assert_eq!(n, (crate::pipe::MAX_FDS - 3) / 2);
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), err(Errno::EMFILE));
}
