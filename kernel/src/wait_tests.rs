//! Host tests of the wait queues: woken tasks do their own copying, in priority order, and
//! the objects behind the queues (pipes, console, children, futex words) keep their rules.

use crate::fs::pipe::PIPE_SIZE;
use crate::sched::wait::WaitId;
use crate::task::State;
use crate::tests::{signals::sigaction, Sys, SCRATCH};
use abi::layout::USER_HEAP;
use abi::sys::{self, nr, PIPE_BUF};
use abi::Errno;

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

/// pid 1 running with a pipe at (3, 4), `flags` on both ends.
fn with_pipe(flags: usize) -> Sys {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, flags]), 0);
    assert_eq!(s.get::<u64>(SCRATCH), 3 | (4 << 32));
    s
}

fn level(s: &Sys) -> usize {
    s.k.pipes.iter().flatten().next().expect("a pipe").level()
}

fn state(s: &Sys, pid: i32) -> State {
    s.k.task(s.k.slot_of(pid).unwrap()).state
}

fn set_prio(s: &mut Sys, pid: i32, prio: usize) {
    assert_eq!(s.call(nr::SETPRIORITY, &[0, pid as usize, prio]), 0);
}

#[test]
fn a_pipe_write_wakes_readers_who_copy_for_themselves_highest_priority_first() {
    let mut s = with_pipe(0);
    let kids: [i32; 3] = core::array::from_fn(|_| s.spawn_call("prog") as i32);
    // Each child blocks reading; the last one to wait has the highest priority.
    for (i, &c) in kids.iter().enumerate() {
        s.switch_to(c);
        s.put(SCRATCH + 256, b"----");
        s.call(nr::READ, &[3, SCRATCH + 256, 4]);
        s.run();
        assert_eq!(state(&s, c), State::Blocked, "child {i} waits");
    }
    s.switch_to(1);
    set_prio(&mut s, kids[2], 150);
    s.put(SCRATCH + 64, b"abcdef");
    // The writer only puts its bytes in and wakes the readers: nothing is copied into
    // their buffers on its time.
    assert_eq!(s.call(nr::WRITE, &[4, SCRATCH + 64, 6]), 6);
    assert_eq!(level(&s), 6);
    assert!(kids.iter().all(|&c| state(&s, c) == State::Ready));
    // The highest priority runs first and reads (its call runs again, in its own context).
    s.run();
    assert_eq!(s.cur_pid(), Some(kids[2]));
    assert_eq!(s.frame.x[0], 4);
    let mut b = [0u8; 4];
    crate::uaccess::copy_in(s.k.arch, &s.env(), SCRATCH + 256, &mut b).unwrap();
    assert_eq!(&b, b"abcd");
    assert_eq!(level(&s), 2);
    // It takes the rest too; when it waits again, the others run their reads again (the
    // longest waiting first), find the pipe empty and wait again.
    s.call(nr::READ, &[3, SCRATCH + 256, 4]);
    assert_eq!(s.frame.x[0], 2);
    assert_eq!(level(&s), 0);
    s.call(nr::READ, &[3, SCRATCH + 256, 4]);
    s.run();
    // (The parent, preempted with time left, comes first; it lets the others run.)
    assert_eq!(s.cur_pid(), Some(1));
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    for k in kids {
        assert_eq!(state(&s, k), State::Blocked);
    }
    assert_eq!(s.cur_pid(), Some(1));
    let mut q = s.k.waiters(WaitId::PipeRead(0));
    q.sort_unstable();
    let mut want = kids.map(|p| s.k.slot_of(p).unwrap());
    want.sort_unstable();
    assert_eq!(&q[..], &want[..], "exactly the blocked readers are queued");
    // Killing a waiter takes it off the queue.
    s.k.kill(None, kids[1], sys::SIGKILL).unwrap();
    assert_eq!(s.k.waiters(WaitId::PipeRead(0)).len(), 2);
}

#[test]
fn pipe_writes_up_to_pipe_buf_go_in_whole_or_wait() {
    let mut s = with_pipe(abi::fcntl::O_NONBLOCK as usize);
    let big = PIPE_SIZE + 2 * PIPE_BUF;
    assert_eq!(
        s.call(nr::BRK, &[USER_HEAP + big]) as usize,
        USER_HEAP + big
    );
    // Fill all but 100 bytes.
    let fill = PIPE_SIZE - 100;
    assert_eq!(s.call(nr::WRITE, &[4, USER_HEAP, fill]), fill as i64);
    // 200 bytes do not fit: not one goes in (no interleaving with another writer later).
    assert_eq!(s.call(nr::WRITE, &[4, USER_HEAP, 200]), err(Errno::EAGAIN));
    assert_eq!(
        s.call(nr::WRITE, &[4, USER_HEAP, PIPE_BUF]),
        err(Errno::EAGAIN)
    );
    assert_eq!(level(&s), fill);
    // More than PIPE_BUF: what fits goes in.
    assert_eq!(s.call(nr::WRITE, &[4, USER_HEAP, PIPE_BUF + 1]), 100);
    assert_eq!(level(&s), PIPE_SIZE);
    // Blocking now: a child's 200-byte write waits until 200 bytes are free.
    assert_eq!(s.call(nr::FCNTL, &[4, abi::fcntl::F_SETFL, 0]), 0);
    let c = s.spawn_call("prog") as i32;
    s.switch_to(c);
    s.call(nr::WRITE, &[4, SCRATCH, 200]);
    s.run();
    assert_eq!(state(&s, c), State::Blocked);
    s.switch_to(1);
    assert_eq!(s.call(nr::READ, &[3, USER_HEAP, 150]), 150);
    s.call(nr::SCHED_YIELD, &[]);
    s.run(); // the writer tries again: 150 free is not enough
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(state(&s, c), State::Blocked);
    assert_eq!(level(&s), PIPE_SIZE - 150);
    assert_eq!(s.call(nr::READ, &[3, USER_HEAP, 50]), 50);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(c));
    assert_eq!(s.frame.x[0], 200, "in whole");
    assert_eq!(level(&s), PIPE_SIZE);
}

#[test]
fn a_write_with_no_reader_ends_the_writer_by_sigpipe_quietly() {
    let mut s = with_pipe(0);
    let c = s.spawn_call("prog") as i32;
    assert_eq!(s.call(nr::CLOSE, &[3]), 0);
    s.switch_to(c);
    assert_eq!(s.call(nr::CLOSE, &[3]), 0);
    s.put(SCRATCH, b"x");
    s.call(nr::WRITE, &[4, SCRATCH, 1]);
    s.run();
    s.settle();
    s.switch_to(1);
    assert_eq!(
        s.call(nr::WAIT4, &[c as usize, SCRATCH + 64, 0, 0]),
        c as i64
    );
    let status: i32 = s.get(SCRATCH + 64);
    assert!(!sys::wifexited(status));
    assert_eq!(sys::wtermsig(status), abi::signal::SIGPIPE as i32);
    assert!(!s.console().contains("killed"), "{}", s.console());
    // A handler sees EPIPE after it.
    const HANDLER: u64 = 0x40_0000;
    assert_eq!(sigaction(&mut s, abi::signal::SIGPIPE, HANDLER, 0, 0), 0);
    assert_eq!(s.call(nr::WRITE, &[4, SCRATCH, 1]), err(Errno::EPIPE));
    s.run();
    assert_eq!(s.frame.pc, HANDLER);
}

#[test]
fn a_blocked_pipe_writer_signalled_returns_what_went_in() {
    let mut s = with_pipe(0);
    let big = PIPE_SIZE + 1000;
    let c = s.spawn_call("prog") as i32;
    s.switch_to(c);
    const HANDLER: u64 = 0x40_0000;
    assert_eq!(sigaction(&mut s, abi::signal::SIGUSR1, HANDLER, 0, 0), 0);
    assert_eq!(
        s.call(nr::BRK, &[USER_HEAP + big]) as usize,
        USER_HEAP + big
    );
    s.call(nr::WRITE, &[4, USER_HEAP, big]);
    s.run();
    assert_eq!(state(&s, c), State::Blocked);
    assert_eq!(level(&s), PIPE_SIZE);
    s.switch_to(1);
    assert_eq!(s.call(nr::KILL, &[c as usize, abi::signal::SIGUSR1]), 0);
    s.switch_to(c);
    assert_eq!(s.frame.pc, HANDLER);
    s.call(nr::RT_SIGRETURN, &[]);
    assert_eq!(s.frame.x[0] as usize, PIPE_SIZE, "the bytes that went in");
}

#[test]
fn console_reads_wait_on_the_console_and_nonblocking_ones_do_not() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let c = s.spawn_call("prog") as i32;
    s.call(nr::READ, &[0, SCRATCH, 8]);
    s.run();
    assert_eq!(s.cur_pid(), Some(c));
    assert_eq!(s.k.waiters(WaitId::ConsoleRead).len(), 1);
    // A description of its own, opened with O_NONBLOCK: EAGAIN rather than a wait.
    s.put(SCRATCH, b"/dev/console\0");
    let fd = s.call(
        nr::OPENAT,
        &[
            abi::fcntl::AT_FDCWD as usize,
            SCRATCH,
            (abi::fcntl::O_RDWR | abi::fcntl::O_NONBLOCK) as usize,
            0,
        ],
    );
    assert!(fd >= 3, "{fd}");
    assert_eq!(
        s.call(nr::READ, &[fd as usize, SCRATCH, 8]),
        err(Errno::EAGAIN)
    );
    s.k.console_input(b"hi\n");
    // The reader copies for itself when it runs.
    assert_eq!(s.k.waiters(WaitId::ConsoleRead).len(), 0);
    s.call(nr::SCHED_YIELD, &[]);
    s.run();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.frame.x[0], 3);
    assert_eq!(&s.get::<[u8; 3]>(SCRATCH), b"hi\n");
}

#[test]
fn a_parent_in_wait4_is_woken_by_its_childs_exit_only() {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let a = s.spawn_call("prog") as i32;
    let b = s.spawn_call("prog") as i32;
    s.call(nr::WAIT4, &[b as usize, SCRATCH, 0, 0]);
    s.run();
    assert_eq!(state(&s, 1), State::Blocked);
    // Another child ending wakes the parent, whose wait4 runs again and waits on.
    s.switch_to(a);
    s.call(nr::EXIT, &[3]);
    s.run();
    s.settle();
    for _ in 0..3 {
        s.call(nr::SCHED_YIELD, &[]);
        s.run();
    }
    assert_eq!(s.cur_pid(), Some(b));
    assert_eq!(state(&s, 1), State::Blocked);
    s.switch_to(b);
    s.call(nr::EXIT, &[4]);
    s.run();
    s.settle();
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!(s.frame.x[0] as i32, b);
    assert_eq!(sys::wexitstatus(s.get(SCRATCH)), 4);
    assert_eq!(s.call(nr::WAIT4, &[usize::MAX, SCRATCH, 0, 0]), a as i64);
}

#[test]
fn a_reader_woken_then_signalled_before_it_runs_gets_eintr_unless_sa_restart() {
    use abi::signal::{SA_RESTART, SIGUSR1};
    const HANDLER: u64 = 0x40_0000;
    for (flags, want) in [(0, err(Errno::EINTR)), (SA_RESTART, 2)] {
        let mut s = Sys::new();
        s.k.spawn("prog", b"prog\0", None).unwrap();
        s.run();
        let c = s.spawn_call("prog") as i32;
        assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, flags, 0), 0);
        let pc = s.frame.pc;
        s.call(nr::READ, &[0, SCRATCH, 8]);
        s.run();
        assert_eq!(s.cur_pid(), Some(c));
        // Input wakes the reader; a signal comes before it has run again.
        s.k.console_input(b"hi");
        assert_eq!(s.call(nr::KILL, &[1, SIGUSR1]), 0);
        s.call(nr::SCHED_YIELD, &[]);
        s.run();
        assert_eq!(s.cur_pid(), Some(1));
        assert_eq!(s.frame.pc, HANDLER);
        s.call(nr::RT_SIGRETURN, &[]);
        if flags == 0 {
            assert_eq!(s.frame.x[0] as i64, want, "EINTR: nothing was read");
            assert_eq!(s.frame.pc, pc);
        } else {
            assert_eq!(s.frame.pc, pc - 4, "back at the svc");
            s.run(); // issues the read again
            assert_eq!(s.frame.x[0] as i64, want, "the input, read again");
        }
    }
}

#[test]
fn a_signal_after_the_call_ran_again_leaves_it_alone() {
    use abi::signal::SIGUSR1;
    const HANDLER: u64 = 0x40_0000;
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    let c = s.spawn_call("prog") as i32;
    assert_eq!(sigaction(&mut s, SIGUSR1, HANDLER, 0, 0), 0);
    s.frame.pc = 0x40_0100;
    s.call(nr::READ, &[0, SCRATCH, 8]);
    s.run();
    assert_eq!(s.cur_pid(), Some(c));
    s.k.console_input(b"hi");
    s.call(nr::SCHED_YIELD, &[]);
    s.run(); // pid 1 reads again and gets the input
    assert_eq!(s.cur_pid(), Some(1));
    assert_eq!((s.frame.pc, s.frame.x[0]), (0x40_0100, 2));
    // Later, in user mode, a signal: the handler returns to where the task was.
    s.k.kill(None, 1, SIGUSR1).unwrap();
    s.run();
    assert_eq!(s.frame.pc, HANDLER);
    s.call(nr::RT_SIGRETURN, &[]);
    assert_eq!((s.frame.pc, s.frame.x[0]), (0x40_0100, 2));
}
