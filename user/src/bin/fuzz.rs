//! fuzz: a seeded syscall fuzzer. Unprivileged workers throw random calls with hostile
//! arguments at the kernel; a supervisor respawns the ones that die and checks at the end
//! that the kernel's pages and heap are back where they started.
//!
//!   fuzz [CALLS] [SEED] [WORKERS]     CALLS in all (default 200000; 0: until stopped),
//!                                     SEED (default 1), WORKERS (default 2, at most 8)
//!
//! Ctrl-C (SIGINT) or SIGTERM stops it early: the workers are ended, their segments removed,
//! and the report and memory check follow as after a full run.
//!
//! The same seed replays the same calls (as far as scheduling lets it). A worker writes each
//! call to a shared page before making it, so the supervisor can say which call a dying
//! worker made last. Exit status 0 when nothing went wrong.
#![no_std]
#![no_main]

use abi::fcntl::{F_DUPFD, F_DUPFD_CLOEXEC};
use abi::layout::{SHM_WINDOW, STACK_GUARD, USER_END, USER_HEAP, USER_MIN, USER_TEXT};
use abi::shm::{
    ShmidDs, IPC_CREAT, IPC_EXCL, IPC_PRIVATE, IPC_RMID, IPC_STAT, SHMMAX, SHM_RDONLY, SHM_RND,
};
use abi::signal::{
    SigAction, SA_RESTART, SA_RESTORER, SIGCHLD, SIGINT, SIGPIPE, SIGTERM, SIGURG, SIGUSR1,
    SIGUSR2, SIG_IGN,
};
use abi::sys::{nr, wifexited, wtermsig, Timespec, PRIO_DEFAULT, SIGKILL, WNOHANG};
use abi::Errno;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use ulib::sys::{self, Handler};
use ulib::{println, util::parse_int};

const MAX_WORKERS: usize = 8;
/// The unprivileged uid the workers run as.
const FUZZ_UID: u32 = 1000;
/// Where each worker attaches the progress page: the lowest address of the attach window,
/// so that no buffer the kernel writes through (they all lie above it) can run into it.
const PROGRESS_AT: usize = SHM_WINDOW;
/// The worker's scratch segment, which every "valid" pointer argument points into.
const SCRATCH_AT: usize = SHM_WINDOW + (1 << 30);
const SCRATCH_LEN: usize = 64 << 10;
/// A worker whose count has not moved for this long is blocked for good (in a call the
/// fuzzer made block, such as a futex wait with no timeout): it is killed and replaced.
const WATCHDOG_MS: u64 = 500;
const TICK_MS: u64 = 50;

/// One worker's record in the progress page.
#[repr(C)]
struct Slot {
    done: AtomicU64,
    /// The call in flight: number and arguments.
    last: [AtomicU64; 7],
    /// Oracle failures seen (a call that succeeded when it must not have, and the like).
    oracle: AtomicU64,
}

fn slot(page: usize, w: usize) -> &'static Slot {
    // SAFETY: `page` is a live attachment of at least one page holding MAX_WORKERS slots,
    // shared only through atomics, and it stays attached until the process ends.
    unsafe { &*((page + w * core::mem::size_of::<Slot>()) as *const Slot) }
}

/// splitmix64: small, and every seed gives a good stream.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len() as u64) as usize]
    }
}

/// A number as decimal text, without the heap (the supervisor's own pages count in the
/// leak check).
fn dec(v: u64) -> heapless::String<24> {
    use core::fmt::Write;
    let mut s = heapless::String::new();
    let _ = write!(s, "{v}");
    s
}

/// Pages free plus the pages this process holds: what must be the same before and after,
/// whatever the supervisor's own stack or heap did in between.
fn pages_here() -> u64 {
    let me = sys::getpid();
    let mut own = 0;
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        if t.pid == me {
            own = t.pages;
        }
        i = next;
    }
    sys::meminfo().pages_free + own
}

fn seed_for(base: u64, worker: usize, life: u64) -> u64 {
    let mut r = Rng(base ^ ((worker as u64) << 48) ^ (life << 24));
    // A worker's seed travels as a decimal argument, which `parse_int` reads as an i64.
    r.next() >> 1
}

fn main(args: &[&str]) -> i32 {
    if args.get(1) == Some(&"worker") {
        return worker(args);
    }
    let num = |i: usize, d: i64| args.get(i).and_then(|s| parse_int(s)).unwrap_or(d);
    let calls = num(1, 200_000).max(0) as u64;
    let seed = num(2, 1) as u64;
    let workers = num(3, 2).clamp(1, MAX_WORKERS as i64) as usize;
    supervise(calls, seed, workers)
}

// ---- The supervisor ----

/// Set by SIGINT (Ctrl-C) or SIGTERM: stop the workers, clean up and report.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_stop(_sig: i32) {
    STOP.store(true, Relaxed);
}

fn supervise(calls: u64, seed: u64, workers: usize) -> i32 {
    // No SA_RESTART: the signal cuts the tick's sleep short.
    for sig in [SIGINT, SIGTERM] {
        let _ = sys::sigaction(sig, Handler::Catch(on_stop), 0, 0);
    }
    let (before, pages_before) = (sys::meminfo(), pages_here());
    let root = sys::getuid() == 0;
    if root {
        let _ = sys::meminfo_reset_masked();
    }
    let Ok(page_id) = sys::shmget(IPC_PRIVATE, 4096, 0o600) else {
        println!("fuzz: FAIL: no progress page");
        return 1;
    };
    let Ok(page) = sys::shmat(page_id, 0, 0) else {
        println!("fuzz: FAIL: cannot attach the progress page");
        return 1;
    };
    let page = page as usize;
    // One scratch segment per worker, made here rather than by the worker: the workers' own
    // segments may fill the table, and a new worker must still start.
    let mut scratch = [0i32; MAX_WORKERS];
    for id in scratch.iter_mut().take(workers) {
        match sys::shmget(IPC_PRIVATE, SCRATCH_LEN, 0o600) {
            Ok(i) => *id = i,
            Err(e) => {
                println!("fuzz: FAIL: no scratch segment: {}", e.name());
                return 1;
            }
        }
    }
    let forever = calls == 0;
    let share = calls / workers as u64;
    let mut budget = [0u64; MAX_WORKERS];
    for (w, b) in budget.iter_mut().enumerate().take(workers) {
        *b = share + u64::from((w as u64) < calls % workers as u64);
    }
    println!("fuzz: seed {seed}, {workers} workers as uid {FUZZ_UID}, {calls} calls");
    let mut pid = [0i32; MAX_WORKERS];
    let mut life = [0u64; MAX_WORKERS];
    let mut seen = [0u64; MAX_WORKERS];
    let mut still = [0u64; MAX_WORKERS];
    let (mut total, mut signalled, mut watchdog, mut reports) = (0u64, 0u64, 0u64, 0u32);
    let mut spawn_fail = None;
    let mut stopped = false;
    loop {
        if STOP.load(Relaxed) {
            stopped = true;
            for (w, p) in pid.iter_mut().enumerate().take(workers) {
                if *p != 0 {
                    let _ = sys::kill(*p, SIGKILL);
                    let _ = sys::wait(*p, 0);
                    total += slot(page, w).done.load(Relaxed);
                    *p = 0;
                }
            }
            break;
        }
        for w in 0..workers {
            if pid[w] == 0 && (forever || budget[w] > 0) {
                let s = seed_for(seed, w, life[w]);
                let (a, b, c, d, e) = (
                    dec(page_id as u64),
                    dec(w as u64),
                    dec(s),
                    dec(if forever { 0 } else { budget[w] }),
                    dec(scratch[w] as u64),
                );
                slot(page, w).done.store(0, Relaxed);
                match sys::spawn("fuzz", &["worker", &a, &b, &c, &d, &e]) {
                    Ok(p) => {
                        pid[w] = p;
                        life[w] += 1;
                        seen[w] = 0;
                        still[w] = 0;
                    }
                    // Out of task slots (the workers spawn too): try again next tick.
                    Err(e) => spawn_fail = Some(e),
                }
            }
        }
        if pid.iter().all(|&p| p == 0) {
            break;
        }
        let _ = sys::sleep_ms(TICK_MS);
        for w in 0..workers {
            if pid[w] == 0 {
                continue;
            }
            let s = slot(page, w);
            let done = s.done.load(Relaxed);
            if let Ok((p, st)) = sys::wait(pid[w], WNOHANG) {
                if p == pid[w] {
                    let n = done.min(budget[w]);
                    total += done;
                    budget[w] -= n;
                    if !wifexited(st) {
                        signalled += 1;
                        if reports < 5 {
                            reports += 1;
                            println!(
                                "fuzz: worker {w} (seed {}) ended by signal {} in call {}",
                                seed_for(seed, w, life[w] - 1),
                                wtermsig(st),
                                Last(s)
                            );
                        }
                    }
                    pid[w] = 0;
                    continue;
                }
            }
            if done == seen[w] {
                still[w] += TICK_MS;
                if still[w] >= WATCHDOG_MS {
                    let _ = sys::kill(pid[w], SIGKILL);
                    watchdog += 1;
                    still[w] = 0;
                }
            } else {
                seen[w] = done;
                still[w] = 0;
            }
        }
    }
    let oracle: u64 = (0..workers)
        .map(|w| slot(page, w).oracle.load(Relaxed))
        .sum();
    let _ = sys::shmdt(page as *const u8);
    let _ = sys::shmctl(page_id, IPC_RMID, 0);
    for &id in scratch.iter().take(workers) {
        let _ = sys::shmctl(id, IPC_RMID, 0);
    }
    let killed = kill_worker_children();
    let removed = remove_worker_segments();
    println!(
        "fuzz: {total} calls, {} restarts ({signalled} by signals, {watchdog} of them the watchdog's), {killed} processes and {removed} segments left by workers removed, {oracle} oracle failures",
        life.iter().sum::<u64>() - workers as u64
    );
    if stopped {
        println!("fuzz: stopped by a signal (memory not compared: other programs may be running)");
    }
    if let Some(e) = spawn_fail {
        println!("fuzz: (a spawn failed once with {}: retried)", e.name());
    }
    // Orphans of the workers finish their exits on their own: give them a moment.
    let (mut after, mut pages_after) = (sys::meminfo(), pages_here());
    for _ in 0..100 {
        if pages_after == pages_before && after.heap_used == before.heap_used {
            break;
        }
        let _ = sys::sleep_ms(20);
        (after, pages_after) = (sys::meminfo(), pages_here());
    }
    println!(
        "fuzz: pages free or ours {pages_after} (before {pages_before}), kernel heap used {} (before {})",
        after.heap_used, before.heap_used
    );
    if root {
        println!(
            "fuzz: longest stretch with interrupts masked: {} ns",
            after.max_masked_ns
        );
    }
    // Stopped by a signal means someone else runs the show (the bench stops its loads with
    // SIGTERM while they all still run): the system-wide counts are theirs too.
    let leak = !stopped && (pages_after != pages_before || after.heap_used != before.heap_used);
    let short = total < calls && !stopped;
    if leak || oracle > 0 || short {
        println!(
            "fuzz: FAIL:{}{}{}",
            if leak { " memory not back" } else { "" },
            if oracle > 0 { " oracle failures" } else { "" },
            if short { " fewer calls than asked" } else { "" }
        );
        return 1;
    }
    println!("fuzz: OK");
    0
}

/// The call a slot records as in flight, as `nr(a0, .., a5)` (no allocation: a worker's
/// heap may be gone, the fuzzer moves its break).
struct Last<'a>(&'a Slot);
impl core::fmt::Display for Last<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let l: [u64; 7] = core::array::from_fn(|i| self.0.last[i].load(Relaxed));
        write!(f, "{}(", l[0])?;
        for (i, v) in l[1..].iter().enumerate() {
            write!(f, "{}{v:#x}", if i > 0 { ", " } else { "" })?;
        }
        write!(f, ")")
    }
}

/// Programs the workers spawned may outlive them, and some wait for ever by their own doing
/// (a child whose output was redirected into a full pipe whose reader it holds itself): kill
/// every process of the fuzzing uid. Init reaps them, as orphans.
fn kill_worker_children() -> usize {
    let mut n = 0;
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        if t.uid == FUZZ_UID && sys::kill(t.pid, SIGKILL).is_ok() {
            n += 1;
        }
        i = next;
    }
    n
}

/// Segments the workers created stay after them (System V segments outlive their creators):
/// remove every one owned by the fuzzing uid.
fn remove_worker_segments() -> usize {
    use abi::shm::{ShmInfo, ShmidDs, SHM_INFO, SHM_STAT};
    let mut info = ShmInfo::default();
    let Ok(hi) = sys::shmctl(0, SHM_INFO, &mut info as *mut _ as usize) else {
        return 0;
    };
    let mut n = 0;
    for idx in 0..=hi {
        let mut ds = ShmidDs::default();
        if let Ok(id) = sys::shmctl(idx, SHM_STAT, &mut ds as *mut _ as usize) {
            if (ds.shm_perm.uid == FUZZ_UID || ds.shm_perm.cuid == FUZZ_UID)
                && sys::shmctl(id, IPC_RMID, 0).is_ok()
            {
                n += 1;
            }
        }
    }
    n
}

// ---- A worker ----

/// What a descriptor of this worker is, as far as its own calls tell.
#[derive(Clone, Copy, PartialEq)]
enum Fd {
    Closed,
    Console,
    File,
    Read(usize),
    Write(usize),
}

#[derive(Clone, Copy, Default)]
struct Pipe {
    level: usize,
    readers: bool,
    writers: bool,
}

const PIPE_SIZE: usize = 16 * 1024;
const NFD: usize = 16;

/// Argument kinds: each has plausible values and hostile ones.
#[derive(Clone, Copy)]
enum A {
    Int,
    Ptr,
    Len,
    Fd,
    Pid,
    Sig,
    ShmId,
    Key,
    Size,
    ShmFlags,
    AttachAddr,
    DetachAddr,
    Time,
    Act,
    Path,
    Brk,
    Futex,
    Clock,
    /// A robust-list head length: mostly the one the kernel takes.
    RobustLen,
}

struct Call {
    nr: usize,
    args: &'static [A],
    weight: u32,
}

use A::*;
const CALLS: &[Call] = &[
    Call {
        nr: nr::READ,
        args: &[Fd, Ptr, Len],
        weight: 8,
    },
    Call {
        nr: nr::WRITE,
        args: &[Fd, Ptr, Len],
        weight: 8,
    },
    Call {
        nr: nr::PIPE2,
        args: &[Ptr, Int],
        weight: 4,
    },
    Call {
        nr: nr::CLOSE,
        args: &[Fd],
        weight: 4,
    },
    Call {
        nr: nr::DUP,
        args: &[Fd],
        weight: 2,
    },
    Call {
        nr: nr::DUP3,
        args: &[Fd, Fd, Int],
        weight: 2,
    },
    Call {
        nr: nr::FCNTL,
        args: &[Fd, Int, Int],
        weight: 3,
    },
    Call {
        nr: nr::LSEEK,
        args: &[Fd, Int, Int],
        weight: 1,
    },
    Call {
        nr: nr::OPENAT,
        args: &[Fd, Path, Int, Int],
        weight: 3,
    },
    Call {
        nr: nr::GETDENTS64,
        args: &[Fd, Ptr, Len],
        weight: 2,
    },
    Call {
        nr: nr::NEWFSTATAT,
        args: &[Fd, Path, Ptr, Int],
        weight: 1,
    },
    Call {
        nr: nr::FSTAT,
        args: &[Fd, Ptr],
        weight: 1,
    },
    Call {
        nr: nr::CHDIR,
        args: &[Path],
        weight: 1,
    },
    Call {
        nr: nr::GETCWD,
        args: &[Ptr, Len],
        weight: 1,
    },
    Call {
        nr: nr::UNLINKAT,
        args: &[Fd, Path, Int],
        weight: 1,
    },
    Call {
        nr: nr::READV,
        args: &[Fd, Ptr, Int],
        weight: 2,
    },
    Call {
        nr: nr::WRITEV,
        args: &[Fd, Ptr, Int],
        weight: 2,
    },
    Call {
        nr: nr::UMASK,
        args: &[Int],
        weight: 1,
    },
    Call {
        nr: nr::PREAD64,
        args: &[Fd, Ptr, Len, Int],
        weight: 1,
    },
    Call {
        nr: nr::PWRITE64,
        args: &[Fd, Ptr, Len, Int],
        weight: 1,
    },
    Call {
        nr: nr::FTRUNCATE,
        args: &[Fd, Int],
        weight: 1,
    },
    Call {
        nr: nr::IOCTL,
        args: &[Fd, Int, Ptr],
        weight: 3,
    },
    Call {
        nr: nr::SHMGET,
        args: &[Key, Size, ShmFlags],
        weight: 8,
    },
    Call {
        nr: nr::SHMAT,
        args: &[ShmId, AttachAddr, ShmFlags],
        weight: 8,
    },
    Call {
        nr: nr::SHMDT,
        args: &[DetachAddr],
        weight: 6,
    },
    Call {
        nr: nr::SHMCTL,
        args: &[ShmId, Int, Ptr],
        weight: 8,
    },
    Call {
        nr: nr::FUTEX,
        args: &[Futex, Int, Int, Time],
        weight: 4,
    },
    // A garbage robust list is walked when the worker is killed: bounded, never trusted.
    Call {
        nr: nr::SET_ROBUST_LIST,
        args: &[Ptr, RobustLen],
        weight: 2,
    },
    Call {
        nr: nr::GET_ROBUST_LIST,
        args: &[Pid, Ptr, Ptr],
        weight: 1,
    },
    Call {
        nr: nr::FUTEX_WAITV,
        args: &[Ptr, Int, Int, Time, Clock],
        weight: 2,
    },
    Call {
        nr: nr::NANOSLEEP,
        args: &[Time, Ptr],
        weight: 1,
    },
    Call {
        nr: nr::CLOCK_NANOSLEEP,
        args: &[Clock, Int, Time, Ptr],
        weight: 1,
    },
    Call {
        nr: nr::CLOCK_GETTIME,
        args: &[Clock, Ptr],
        weight: 2,
    },
    Call {
        nr: nr::SYSLOG,
        args: &[Int, Ptr, Len],
        weight: 1,
    },
    Call {
        nr: nr::KILL,
        args: &[Pid, Sig],
        weight: 1,
    },
    Call {
        nr: nr::RT_SIGACTION,
        args: &[Sig, Act, Ptr, Int],
        weight: 3,
    },
    Call {
        nr: nr::RT_SIGPROCMASK,
        args: &[Int, Ptr, Ptr, Int],
        weight: 2,
    },
    Call {
        nr: nr::RT_SIGPENDING,
        args: &[Ptr, Int],
        weight: 1,
    },
    Call {
        nr: nr::SETPRIORITY,
        args: &[Int, Pid, Int],
        weight: 1,
    },
    Call {
        nr: nr::GETPRIORITY,
        args: &[Int, Pid],
        weight: 1,
    },
    Call {
        nr: nr::REBOOT,
        args: &[Int, Int, Int, Int],
        weight: 1,
    },
    Call {
        nr: nr::SETUID,
        args: &[Int],
        weight: 1,
    },
    Call {
        nr: nr::SETGID,
        args: &[Int],
        weight: 1,
    },
    Call {
        nr: nr::SETSID,
        args: &[],
        weight: 1,
    },
    Call {
        nr: nr::GETSID,
        args: &[Pid],
        weight: 1,
    },
    Call {
        nr: nr::GETPID,
        args: &[],
        weight: 1,
    },
    Call {
        nr: nr::GETPPID,
        args: &[],
        weight: 1,
    },
    Call {
        nr: nr::GETUID,
        args: &[],
        weight: 1,
    },
    Call {
        nr: nr::SCHED_YIELD,
        args: &[],
        weight: 1,
    },
    Call {
        nr: nr::BRK,
        args: &[Brk],
        weight: 3,
    },
    Call {
        nr: nr::WAIT4,
        args: &[Pid, Ptr, Int, Ptr],
        weight: 2,
    },
    Call {
        nr: nr::SPAWN,
        args: &[Path, Len, Ptr, Len, Ptr, Int],
        weight: 1,
    },
    Call {
        nr: nr::TASKINFO,
        args: &[Int, Ptr],
        weight: 2,
    },
    Call {
        nr: nr::MEMINFO,
        args: &[Ptr, Int],
        weight: 2,
    },
    Call {
        nr: nr::ROMFS_LIST,
        args: &[Int, Ptr, Len],
        weight: 2,
    },
];

/// Calls that may end the worker on purpose (or by a forged signal frame): rare.
const RARE: &[usize] = &[nr::EXIT, nr::EXIT_GROUP, nr::RT_SIGRETURN];

/// Numbers no call has (Linux calls this kernel does not implement, gaps, far out).
const UNKNOWN: &[usize] = &[
    0,
    1,
    244,
    220,
    400,
    1023,
    1100,
    4096,
    usize::MAX,
    0x8000_0000,
];

/// Values that break careless range checks.
const HOSTILE: &[usize] = &[
    0,
    1,
    usize::MAX,
    usize::MAX - 4095,
    usize::MAX / 2,
    usize::MAX / 2 + 1,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0xffff_ff80_0000_0000,
    0xffff_ff80_4020_0000,
    0xffff_0000_0000_0000,
    USER_END - 1,
    USER_END - 8,
    USER_END,
    USER_MIN - 1,
    0x1000,
    STACK_GUARD,
    USER_TEXT,
    i32::MIN as usize,
    -1i32 as u32 as usize,
];

/// An attachment this worker made, as far as it knows.
#[derive(Clone, Copy)]
struct Map {
    va: usize,
    len: usize,
    rdonly: bool,
}

/// Whether the kernel can write a result at `va` in this process (clock_gettime as the
/// probe: its result is written through the kernel's checked copy, like any other).
fn kernel_can_write(va: usize) -> bool {
    // SAFETY: a raw system call; the kernel checks the pointer.
    unsafe { sys::syscall6(nr::CLOCK_GETTIME, [1, va, 0, 0, 0, 0]) == 0 }
}

struct Worker {
    rng: Rng,
    fds: [Fd; NFD],
    pipes: [Pipe; NFD],
    ids: heapless::Vec<i32, 32>,
    maps: heapless::Vec<Map, 32>,
    kids: heapless::Vec<i32, 16>,
    pid: i32,
    ppid: i32,
}

fn worker(args: &[&str]) -> i32 {
    let num = |i: usize| args.get(i).and_then(|s| parse_int(s));
    let (Some(page_id), Some(w), Some(seed), Some(budget), Some(scratch_id)) =
        (num(2), num(3), num(4), num(5), num(6))
    else {
        println!("fuzz: worker: bad arguments");
        return 2;
    };
    let w = (w as usize).min(MAX_WORKERS - 1);
    // Attach the progress page and the scratch segment while still root: both belong to
    // root, so the random calls cannot remove them or change their modes.
    if sys::shmat(page_id as i32, PROGRESS_AT, 0).is_err() {
        println!("fuzz: worker: cannot attach the progress page");
        return 2;
    }
    if sys::shmat(scratch_id as i32, SCRATCH_AT, 0).is_err() {
        println!("fuzz: worker: cannot attach the scratch segment");
        return 2;
    }
    let _ = sys::sigaction(SIGPIPE, Handler::Ignore, 0, 0);
    for sig in [SIGUSR1, SIGUSR2] {
        let _ = sys::sigaction(sig, Handler::Catch(on_signal), SA_RESTART, 0);
    }
    let _ = sys::setgid(FUZZ_UID);
    let root = sys::getuid() == 0;
    if root && sys::setuid(FUZZ_UID).is_err() {
        println!("fuzz: worker: setuid failed");
        return 2;
    }
    let mut wk = Worker {
        rng: Rng(seed as u64),
        fds: [Fd::Closed; NFD],
        pipes: [Pipe::default(); NFD],
        ids: heapless::Vec::new(),
        maps: heapless::Vec::new(),
        kids: heapless::Vec::new(),
        pid: sys::getpid(),
        ppid: sys::getppid(),
    };
    wk.fds[..3].fill(Fd::Console);
    let s = slot(PROGRESS_AT, w);
    let uid = sys::getuid();
    let mut n = 0u64;
    while budget == 0 || n < budget as u64 {
        let (call, a, unknown) = wk.make();
        for (i, v) in core::iter::once(call).chain(a).enumerate() {
            s.last[i].store(v as u64, Relaxed);
        }
        // SAFETY: a raw system call; every pointer argument points into memory this worker
        // may lose (the scratch segment, fuzz-made attachments) or nowhere valid at all.
        let ret = unsafe { sys::syscall6(call, a) };
        let verdict = wk
            .check(call, &a, ret, unknown)
            .and(wk.account(call, &a, ret));
        if let Err(why) = verdict {
            s.oracle.fetch_add(1, Relaxed);
            println!(
                "fuzz: ORACLE: seed {seed} call {n}: {} -> {ret}: {why}",
                Last(s)
            );
        }
        n += 1;
        s.done.store(n, Relaxed);
        if n.is_multiple_of(256) {
            // The supervisor is gone (killed as a benchmark load is): stop with it.
            if sys::getppid() != wk.ppid {
                return 0;
            }
            if sys::getuid() != uid {
                s.oracle.fetch_add(1, Relaxed);
                println!(
                    "fuzz: ORACLE: seed {seed}: uid changed to {}",
                    sys::getuid()
                );
                return 3;
            }
        }
    }
    0
}

/// Scratch addresses for values the worker builds (timespecs, sigactions, paths).
const BUILT: usize = SCRATCH_AT + SCRATCH_LEN - 256;

impl Worker {
    /// A call and its arguments, and whether the number is one the kernel does not know.
    fn make(&mut self) -> (usize, [usize; 6], bool) {
        if self.rng.one_in(20_000) {
            return (self.rng.pick(RARE), self.hostile_args(), false);
        }
        if self.rng.one_in(64) {
            let nr = self.rng.pick(UNKNOWN);
            return (nr, self.hostile_args(), true);
        }
        let total: u32 = CALLS.iter().map(|c| c.weight).sum();
        let mut r = self.rng.below(total as u64) as u32;
        let call = CALLS
            .iter()
            .find(|c| {
                if r < c.weight {
                    true
                } else {
                    r -= c.weight;
                    false
                }
            })
            .unwrap_or(&CALLS[0]);
        let mut a = [0usize; 6];
        for (i, &k) in call.args.iter().enumerate() {
            a[i] = if self.rng.one_in(8) {
                self.hostile()
            } else {
                self.plausible(k, i)
            };
        }
        if self.rng.one_in(4) {
            // Unused argument registers get junk too: the kernel must ignore them.
            for v in a.iter_mut().skip(call.args.len()) {
                *v = self.rng.next() as usize;
            }
        }
        self.keep_from_blocking(call.nr, &mut a);
        (call.nr, a, false)
    }

    fn hostile(&mut self) -> usize {
        if self.rng.one_in(4) {
            self.rng.next() as usize
        } else {
            self.rng.pick(HOSTILE)
        }
    }

    fn hostile_args(&mut self) -> [usize; 6] {
        core::array::from_fn(|_| self.hostile())
    }

    fn scratch_ptr(&mut self) -> usize {
        SCRATCH_AT + (self.rng.below(SCRATCH_LEN as u64 - 512) as usize & !7)
    }

    fn plausible(&mut self, k: A, idx: usize) -> usize {
        let r = &mut self.rng;
        match k {
            Int => match r.below(4) {
                0 => r.below(4) as usize,
                1 => r.below(64) as usize,
                2 => r.below(0x1_0000) as usize,
                _ => r.next() as usize,
            },
            Ptr => match r.below(8) {
                0 if !self.maps.is_empty() => {
                    let m = r.pick(&self.maps).va;
                    m + (r.below(8192) as usize)
                }
                1 => SCRATCH_AT + SCRATCH_LEN - r.below(64) as usize,
                2 => 0,
                _ => self.scratch_ptr(),
            },
            Len => match r.below(4) {
                0 => r.below(16) as usize,
                1 => r.below(512) as usize,
                2 => r.below(SCRATCH_LEN as u64) as usize,
                _ => r.below(1 << 20) as usize,
            },
            RobustLen => match r.below(4) {
                0 => r.below(64) as usize,
                _ => 24,
            },
            Fd => r.below(NFD as u64 + 2) as usize,
            Pid => match r.below(8) {
                0 => 0,
                1 => 1,
                2 => self.pid as usize,
                3 => self.ppid as usize,
                4 => -1isize as usize,
                5 if !self.kids.is_empty() => r.pick(&self.kids) as usize,
                _ => r.below(80) as usize,
            },
            // Mostly probes and signals the worker catches or ignores: a worker that kills
            // itself every few hundred calls spends its time being respawned.
            Sig => match r.below(4) {
                0 | 1 => 0,
                2 => r.pick(&[SIGUSR1, SIGUSR2, SIGCHLD, SIGURG, SIGPIPE]),
                _ => r.below(66) as usize,
            },
            ShmId => match r.below(4) {
                0 => r.below(1 << 16) as usize,
                _ if !self.ids.is_empty() => r.pick(&self.ids) as usize,
                _ => r.below(256) as usize,
            },
            Key => match r.below(3) {
                0 => IPC_PRIVATE as usize,
                1 => 0x5eed + r.below(8) as usize,
                _ => r.next() as u32 as usize,
            },
            Size => match r.below(16) {
                0 => SHMMAX,
                1 => SHMMAX + 1,
                // More than a step of unmapping (8 MiB): a detach that continues as work.
                2 => (8 << 20) + r.below(8 << 20) as usize,
                3..=4 => r.below(4 << 20) as usize,
                _ => r.below(64 << 10) as usize + 1,
            },
            ShmFlags => {
                let mut f = r.below(0o1000) as usize;
                if r.one_in(2) {
                    f |= IPC_CREAT as usize;
                }
                if r.one_in(4) {
                    f |= IPC_EXCL as usize;
                }
                if r.one_in(4) {
                    f |= SHM_RDONLY as usize;
                }
                if r.one_in(8) {
                    f |= SHM_RND as usize;
                }
                f
            }
            AttachAddr => match r.below(8) {
                0 => SHM_WINDOW + (r.below(1 << 31) as usize & !0xfff),
                1 => SCRATCH_AT,
                2 => USER_HEAP,
                3 => USER_TEXT,
                4 => r.below(1 << 39) as usize,
                _ => 0,
            },
            DetachAddr => {
                let a = match r.below(4) {
                    0 => SHM_WINDOW + (r.below(1 << 31) as usize & !0xfff),
                    1 => r.next() as usize,
                    _ if !self.maps.is_empty() => r.pick(&self.maps).va,
                    _ => 0,
                };
                // Losing these would only make the worker fault: not what is being tested.
                if a == PROGRESS_AT || a == SCRATCH_AT {
                    0
                } else {
                    a
                }
            }
            Time => {
                if r.one_in(16) {
                    return self.plausible(Ptr, idx);
                }
                let ns = match r.below(8) {
                    0 => 1_000_000_000 + r.below(1000) as i64,
                    1 => -1 - r.below(1000) as i64,
                    _ => r.below(2_000_000) as i64,
                };
                let sec = if r.one_in(16) { -1 } else { 0 };
                self.put(
                    idx,
                    &Timespec {
                        tv_sec: sec,
                        tv_nsec: ns,
                    },
                )
            }
            Act => {
                if r.one_in(4) {
                    return self.plausible(Ptr, idx);
                }
                let handler = match r.below(4) {
                    0 => SIG_IGN,
                    1 => 0,
                    2 => on_signal as *const () as usize as u64,
                    _ => r.next(),
                };
                let junk = r.next();
                let flags = r.pick(&[0, SA_RESTART, junk]) | SA_RESTORER;
                let junk = r.next();
                let restorer = r.pick(&[0, junk, sys::sigreturn_trampoline() as u64]);
                let mask = r.next();
                self.put(
                    idx,
                    &SigAction {
                        handler,
                        flags,
                        restorer,
                        mask,
                    },
                )
            }
            Path => {
                let name: &[u8] = r.pick(&[
                    b"hello".as_slice(),
                    b"nosuch",
                    b"",
                    b"hello\0x",
                    b"/dev/null",
                    b"/dev/zero",
                    b"/bin/hello",
                    b"/dev",
                    b"..",
                    b"/dev/console",
                    b"/dev/shm/",
                    b"/bin/hello/x",
                    b"/../bin/./fuzz",
                ]);
                let at = BUILT + idx * 32;
                // SAFETY: the scratch segment is attached (or this faults and the worker is
                // replaced, which the supervisor counts); names are under 32 bytes with
                // their NUL.
                unsafe {
                    core::ptr::copy_nonoverlapping(name.as_ptr(), at as *mut u8, name.len());
                    (at as *mut u8).add(name.len()).write(0);
                }
                at
            }
            Brk => match r.below(4) {
                0 => 0,
                _ => USER_HEAP + (r.below(32 << 20) as usize),
            },
            Futex => match r.below(4) {
                0 if !self.maps.is_empty() => r.pick(&self.maps).va,
                1 => self.scratch_ptr() + 1,
                _ => self.scratch_ptr(),
            },
            Clock => r.below(4) as usize,
        }
    }

    /// Write `v` to this argument's own place at the top of the scratch segment.
    fn put<T>(&mut self, idx: usize, v: &T) -> usize {
        let at = BUILT + idx * 32;
        let n = core::mem::size_of::<T>().min(32);
        // SAFETY: at most 32 bytes of `v`, to this argument's 32 bytes inside the scratch
        // segment.
        unsafe { core::ptr::copy_nonoverlapping(v as *const T as *const u8, at as *mut u8, n) };
        at
    }

    /// Leave out what would only block the worker for good on its own resources: reading
    /// the console (the shell's input), writing junk to it, reading an empty pipe it holds
    /// the writer of, filling a pipe it holds the reader of.
    fn keep_from_blocking(&mut self, nr: usize, a: &mut [usize; 6]) {
        // Nor lowering its own priority, which leaves it starved by its peers.
        if nr == nr::SETPRIORITY && (1..PRIO_DEFAULT as usize).contains(&a[2]) {
            a[2] = PRIO_DEFAULT as usize;
        }
        // readv and writev: none on what could wait (the console, pipes).
        if nr == nr::READV || nr == nr::WRITEV {
            if matches!(
                self.fds.get(a[0]),
                Some(Fd::Console | Fd::Read(_) | Fd::Write(_))
            ) {
                a[2] = 0;
            }
            return;
        }
        if nr != nr::READ && nr != nr::WRITE {
            return;
        }
        let Some(&fd) = self.fds.get(a[0]) else {
            return;
        };
        match (nr, fd) {
            (_, Fd::Console) => a[2] = 0,
            (nr::READ, Fd::Read(p)) if self.pipes[p].level == 0 && self.pipes[p].writers => {
                a[2] = 0
            }
            (nr::WRITE, Fd::Write(p)) if self.pipes[p].readers => {
                a[2] = a[2].min(PIPE_SIZE - self.pipes[p].level)
            }
            _ => {}
        }
    }

    /// The oracles: what must hold whatever the arguments.
    fn check(
        &self,
        nr: usize,
        a: &[usize; 6],
        ret: isize,
        unknown: bool,
    ) -> Result<(), &'static str> {
        let err = Errno::from_ret(ret).err();
        if let Some(e) = err {
            if e.name() == "E?" {
                return Err("an errno the ABI does not define");
            }
        } else if ret < 0 {
            return Err("a negative result outside the errno range");
        }
        if unknown && err != Some(Errno::ENOSYS) {
            return Err("an unknown call did not fail with ENOSYS");
        }
        let kernel = |v: usize| v >= USER_END;
        let ok = err.is_none();
        match nr {
            nr::READ | nr::WRITE if ok && kernel(a[1]) && a[2] > 0 && ret > 0 => {
                Err("data moved through a kernel address")
            }
            nr::MEMINFO | nr::PIPE2 if ok && kernel(a[0]) => {
                Err("a result written to a kernel address")
            }
            nr::CLOCK_GETTIME | nr::TASKINFO if ok && kernel(a[1]) => {
                Err("a result written to a kernel address")
            }
            nr::SHMAT if ok && (ret as usize) >= USER_END => Err("attached outside user space"),
            nr::SETUID if ok && a[0] as u32 != FUZZ_UID => Err("an unprivileged setuid worked"),
            nr::REBOOT if ok => Err("an unprivileged reboot was accepted"),
            nr::BRK if (ret as usize) >= USER_END => Err("a break outside user space"),
            _ => Ok(()),
        }
    }

    /// Keep track of what the call made: descriptors, pipes, segments, attachments, children.
    /// Returns what an attach or detach got wrong, checked by probing the mapping.
    fn account(&mut self, nr: usize, a: &[usize; 6], ret: isize) -> Result<(), &'static str> {
        let Ok(v) = Errno::from_ret(ret) else {
            return Ok(());
        };
        match nr {
            nr::PIPE2 => {
                // SAFETY: the kernel just wrote the two descriptors there.
                let fds = unsafe { core::ptr::read_unaligned(a[0] as *const [i32; 2]) };
                // A pipe record no descriptor refers to any more.
                let Some(p) = (0..self.pipes.len())
                    .find(|&p| !self.holds(Fd::Read(p), NFD) && !self.holds(Fd::Write(p), NFD))
                else {
                    return Ok(());
                };
                self.pipes[p] = Pipe {
                    level: 0,
                    readers: true,
                    writers: true,
                };
                for (fd, kind) in fds.into_iter().zip([Fd::Read(p), Fd::Write(p)]) {
                    if let Some(f) = self.fds.get_mut(fd as usize) {
                        *f = kind;
                    }
                }
            }
            nr::CLOSE => self.closed(a[0]),
            // Whatever it opened reads and writes without waiting (the console, which would
            // wait, is root's).
            nr::OPENAT => {
                if let Some(f) = self.fds.get_mut(v) {
                    *f = Fd::File;
                }
            }
            // A new descriptor on the same description as a[0].
            nr::DUP => self.copied(a[0], v),
            nr::DUP3 => {
                self.closed(a[1]);
                self.copied(a[0], a[1]);
            }
            nr::FCNTL if a[1] == F_DUPFD || a[1] == F_DUPFD_CLOEXEC => self.copied(a[0], v),
            nr::READ | nr::WRITE => match self.fds.get(a[0]) {
                Some(&Fd::Read(p)) => self.pipes[p].level -= v.min(self.pipes[p].level),
                Some(&Fd::Write(p)) => self.pipes[p].level += v,
                _ => {}
            },
            nr::SHMGET => {
                if self.ids.is_full() {
                    self.ids.remove(0);
                }
                let _ = self.ids.push(v as i32);
            }
            nr::SHMAT => {
                // The whole segment is mapped, writable unless attached read-only.
                let mut ds = ShmidDs::default();
                if sys::shmctl(a[0] as i32, IPC_STAT, &mut ds as *mut _ as usize).is_err() {
                    return Ok(()); // no read permission left (a mode the worker set)
                }
                let m = Map {
                    va: v,
                    len: (ds.shm_segsz as usize).next_multiple_of(4096),
                    rdonly: a[2] & SHM_RDONLY as usize != 0,
                };
                if self.maps.is_full() {
                    self.maps.remove(0);
                }
                let _ = self.maps.push(m);
                let ends = [m.va, m.va + m.len - 16];
                if ends.iter().any(|&p| kernel_can_write(p) == m.rdonly) {
                    return Err(if m.rdonly {
                        "a read-only attachment is writable"
                    } else {
                        "an attachment is not wholly mapped"
                    });
                }
            }
            nr::SHMDT => {
                if let Some(i) = self.maps.iter().position(|m| m.va == a[0]) {
                    let m = self.maps.swap_remove(i);
                    if [m.va, m.va + m.len - 16]
                        .iter()
                        .any(|&p| kernel_can_write(p))
                    {
                        return Err("memory still mapped after shmdt");
                    }
                }
            }
            nr::SPAWN => {
                if self.kids.is_full() {
                    self.kids.remove(0);
                }
                let _ = self.kids.push(v as i32);
            }
            _ => {}
        }
        Ok(())
    }

    /// Descriptor `fd` was closed.
    fn closed(&mut self, fd: usize) {
        if let Some(&f) = self.fds.get(fd) {
            match f {
                Fd::Read(p) => self.pipes[p].readers = self.holds(f, fd),
                Fd::Write(p) => self.pipes[p].writers = self.holds(f, fd),
                _ => {}
            }
            self.fds[fd] = Fd::Closed;
        }
    }

    /// Descriptor `new` now refers to what `old` does.
    fn copied(&mut self, old: usize, new: usize) {
        if let (Some(&f), true) = (self.fds.get(old), new < NFD) {
            self.fds[new] = f;
        }
    }

    /// Whether another descriptor than `except` still refers to this pipe end.
    fn holds(&self, end: Fd, except: usize) -> bool {
        self.fds
            .iter()
            .enumerate()
            .any(|(i, &f)| i != except && f == end)
    }
}

extern "C" fn on_signal(_sig: i32) {}

ulib::entry!(main);
