//! The test suite (NuttX ostest in spirit): runs every test task, prints one line per case and
//! ends with `N passed, N failed`. Exit status: the number of failures.
#![no_std]
#![no_main]
extern crate alloc;

use abi::sys::{self, wexitstatus, wifexited, wtermsig};
use abi::Errno;
use alloc::vec::Vec;
use ulib::{println, sys as u};

type Res = Result<(), alloc::string::String>;

fn ename(e: Errno) -> alloc::string::String {
    e.name().into()
}

macro_rules! check {
    ($cond:expr, $($msg:tt)*) => {
        if !$cond {
            return Err(alloc::format!($($msg)*));
        }
    };
}

fn run_status(args: &[&str]) -> Result<i32, alloc::string::String> {
    let pid = u::spawn(args[0], &args[1..])
        .map_err(|e| alloc::format!("spawn {:?}: {}", args, e.name()))?;
    let (p, st) = u::wait(pid, 0).map_err(|e| alloc::format!("wait: {}", e.name()))?;
    if p != pid {
        return Err(alloc::format!("wait returned {} for {}", p, pid));
    }
    Ok(st)
}

fn free_pages() -> u64 {
    u::meminfo().pages_free
}

fn t_exit_status() -> Res {
    let st = run_status(&["ttask", "exit", "42"])?;
    check!(wifexited(st) && wexitstatus(st) == 42, "status {:#x}", st);
    Ok(())
}

fn t_getppid() -> Res {
    let me = alloc::format!("{}", u::getpid());
    let st = run_status(&["ttask", "ppid", &me])?;
    check!(
        wifexited(st) && wexitstatus(st) == 0,
        "child saw another parent"
    );
    Ok(())
}

fn t_wait_echild() -> Res {
    check!(
        u::wait(-1, 0) == Err(Errno::ECHILD),
        "wait without children"
    );
    check!(
        u::wait(99999, 0) == Err(Errno::ECHILD),
        "wait for a stranger"
    );
    Ok(())
}

fn t_sleep() -> Res {
    let t0 = u::now_ns();
    u::sleep_ms(50).map_err(ename)?;
    let dt = u::now_ns() - t0;
    check!((50_000_000..500_000_000).contains(&dt), "slept {} ns", dt);
    Ok(())
}

fn t_kill() -> Res {
    let pid = u::spawn("ttask", &["sleep", "10000"]).map_err(ename)?;
    let t0 = u::now_ns();
    u::kill(pid, sys::SIGKILL).map_err(|e| alloc::format!("kill: {}", e.name()))?;
    let (_, st) = u::wait(pid, 0).map_err(ename)?;
    check!(!wifexited(st) && wtermsig(st) == 9, "status {:#x}", st);
    check!(u::now_ns() - t0 < 1_000_000_000, "kill took too long");
    check!(u::kill(pid, 9) == Err(Errno::ESRCH), "killing a reaped pid");
    Ok(())
}

fn t_round_robin() -> Res {
    let t0 = u::now_ns();
    let a = u::spawn("ttask", &["spin", "200"]).map_err(ename)?;
    let b = u::spawn("ttask", &["spin", "200"]).map_err(ename)?;
    let (first, _) = u::wait(-1, 0).map_err(ename)?;
    let t_first = u::now_ns() - t0;
    let _ = u::wait(-1, 0);
    check!(first == a || first == b, "unexpected child");
    // Both spin 200 ms of wall time; time-sliced, both finish close together.
    check!(t_first < 600_000_000, "first finished after {} ns", t_first);
    Ok(())
}

fn t_priority() -> Res {
    let lo = u::spawn("ttask", &["spin", "100"]).map_err(ename)?;
    let hi = u::spawn("ttask", &["spin", "100"]).map_err(ename)?;
    u::setpriority(lo, 50).map_err(ename)?;
    u::setpriority(hi, 60).map_err(ename)?;
    check!(u::getpriority(hi) == Ok(60), "getpriority");
    let (first, _) = u::wait(-1, 0).map_err(ename)?;
    let (second, _) = u::wait(-1, 0).map_err(ename)?;
    check!(
        first == hi && second == lo,
        "order {} then {}",
        first,
        second
    );
    check!(
        u::setpriority(0, 0) == Err(Errno::EINVAL),
        "priority 0 accepted"
    );
    Ok(())
}

fn t_isolation() -> Res {
    let st = run_status(&["ttask", "iso", "30"])?;
    check!(
        wifexited(st) && wexitstatus(st) == 0,
        "child's private data changed"
    );
    let a = u::spawn("ttask", &["iso", "50"]).map_err(ename)?;
    let b = u::spawn("ttask", &["iso", "50"]).map_err(ename)?;
    for _ in 0..2 {
        let (p, st) = u::wait(-1, 0).map_err(ename)?;
        check!(
            wifexited(st) && wexitstatus(st) == 0,
            "pid {} saw another process's write",
            p
        );
    }
    let _ = (a, b);
    Ok(())
}

/// Each fault kills only the faulting task and every page it held comes back.
fn t_faults() -> Res {
    let kinds = [
        ("null", 11),
        ("kread", 11),
        ("kwrite", 11),
        ("phys", 11),
        ("wild", 11),
        ("xdata", 11),
        ("wtext", 11),
        ("stack", 11),
        ("undef", 4),
        ("sysreg", 4),
        ("fp", 4),
        ("pcalign", 7),
    ];
    for (kind, sig) in kinds {
        let before = free_pages();
        let st = run_status(&["ttask", "fault", kind])?;
        check!(
            !wifexited(st) && wtermsig(st) == sig,
            "{}: status {:#x}, want signal {}",
            kind,
            st,
            sig
        );
        let after = free_pages();
        check!(
            after == before,
            "{}: {} pages lost",
            kind,
            before as i64 - after as i64
        );
    }
    Ok(())
}

fn t_bad_elf() -> Res {
    let before = free_pages();
    check!(
        u::spawn("badelf", &[]) == Err(Errno::ENOEXEC),
        "truncated ELF"
    );
    check!(
        u::spawn("garbage", &[]) == Err(Errno::ENOEXEC),
        "garbage file"
    );
    check!(
        u::spawn("no-such-program", &[]) == Err(Errno::ENOENT),
        "missing program"
    );
    check!(free_pages() == before, "pages lost");
    Ok(())
}

fn t_bad_syscalls() -> Res {
    use abi::sys::nr;
    check!(u::call(5000, &[]) == Err(Errno::ENOSYS), "unknown number");
    check!(
        u::call(usize::MAX, &[]) == Err(Errno::ENOSYS),
        "huge number"
    );
    check!(
        u::call(nr::WRITE, &[1, 0xffff_ff80_4020_0000, 8]) == Err(Errno::EFAULT),
        "kernel pointer"
    );
    check!(u::call(nr::WRITE, &[1, 0, 1]) == Err(Errno::EFAULT), "NULL");
    check!(
        u::call(nr::WRITE, &[1, 0x40_0000, usize::MAX]) == Err(Errno::EFAULT),
        "length wraps"
    );
    check!(
        u::call(nr::READ, &[0, 0x40_0000, 4]) == Err(Errno::EFAULT),
        "read into text"
    );
    check!(
        u::call(nr::CLOCK_GETTIME, &[1, 0x10]) == Err(Errno::EFAULT),
        "clock_gettime"
    );
    check!(
        u::call(nr::NANOSLEEP, &[0xffff_0000_0000_0000, 0]) == Err(Errno::EFAULT),
        "nanosleep"
    );
    check!(
        u::call(nr::SPAWN, &[0x7000_0000, 5, 0, 0]) == Err(Errno::EFAULT),
        "spawn path"
    );
    check!(
        u::call(nr::WRITE, &[9, 0x40_0000, 1]) == Err(Errno::EBADF),
        "bad fd"
    );
    check!(
        u::call(nr::MEMINFO, &[0x40_0000]) == Err(Errno::EFAULT),
        "meminfo into text"
    );
    Ok(())
}

fn t_memory() -> Res {
    let m = u::meminfo();
    check!(
        m.pages_total > 0 && m.pages_used + m.pages_free == m.pages_total,
        "{:?}",
        m
    );
    check!(
        m.heap_total > 0 && m.heap_used <= m.heap_total,
        "heap {:?}",
        m
    );
    let mut v: Vec<u32> = Vec::new();
    for i in 0..50_000u32 {
        v.push(i);
    }
    check!(
        v.iter().enumerate().all(|(i, &x)| x == i as u32),
        "heap contents"
    );
    Ok(())
}

fn t_many_children() -> Res {
    let before = free_pages();
    let mut pids = Vec::new();
    for i in 0..20 {
        let s = alloc::format!("{}", i);
        pids.push((
            u::spawn("ttask", &["exit", &s])
                .map_err(|e| alloc::format!("spawn {}: {}", i, e.name()))?,
            i,
        ));
    }
    for (pid, i) in pids.iter().rev() {
        let (p, st) = u::wait(*pid, 0).map_err(ename)?;
        check!(
            p == *pid && wexitstatus(st) == *i,
            "child {} status {:#x}",
            i,
            st
        );
    }
    check!(
        free_pages() == before,
        "pages lost: {}",
        before as i64 - free_pages() as i64
    );
    Ok(())
}

fn t_clock() -> Res {
    let t = u::time();
    // PL031 wall clock: after 2020 and not absurdly far ahead.
    check!(t > 1_577_836_800 && t < 4_102_444_800, "wall clock {}", t);
    let a = u::now_ns();
    let b = u::now_ns();
    check!(b >= a, "monotonic went back");
    Ok(())
}

type Case = (&'static str, fn() -> Res);

pub static CASES: &[Case] = &[
    ("exit_status", t_exit_status),
    ("getppid", t_getppid),
    ("wait_echild", t_wait_echild),
    ("sleep", t_sleep),
    ("kill", t_kill),
    ("round_robin", t_round_robin),
    ("priority", t_priority),
    ("isolation", t_isolation),
    ("faults_killed_pages_back", t_faults),
    ("bad_elf", t_bad_elf),
    ("bad_syscalls", t_bad_syscalls),
    ("memory", t_memory),
    ("many_children", t_many_children),
    ("clock", t_clock),
];

fn main(args: &[&str]) -> i32 {
    let filter = args.get(1).copied();
    let (mut pass, mut fail) = (0, 0);
    for (name, f) in CASES {
        if filter.is_some_and(|p| !name.contains(p)) {
            continue;
        }
        match f() {
            Ok(()) => {
                pass += 1;
                println!("PASS {}", name);
            }
            Err(e) => {
                fail += 1;
                println!("FAIL {}: {}", name, e);
            }
        }
    }
    println!("ostest: {} passed, {} failed", pass, fail);
    fail.min(255)
}
ulib::entry!(main);
