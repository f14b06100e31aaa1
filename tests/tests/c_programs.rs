//! C programs at the shell (user/c, built with tools/nx-cc over picolibc and the project's
//! runtime): what a C programmer expects of stdio, the heap, errno and exit; a C program
//! killed by a fault; and ctest, the runtime's own checks on the target.

use systest::{Held, Qemu};

/// A booted system at its first prompt; when the test ends (without failing), the pages and
/// open file descriptions held beyond the tasks' own must be back where they were.
struct Session {
    q: Qemu,
    base: Held,
}

impl Session {
    fn boot() -> Session {
        let mut q = Qemu::boot(&[], 180);
        q.expect("nsh> ", 60);
        let base = q.held();
        Session { q, base }
    }

    /// Type a command line and return what it printed before the next prompt.
    fn cmd(&mut self, line: &str, secs: u64) -> String {
        let at = self.q.out.len();
        self.q.type_str(line);
        self.q.type_str("\r");
        let start = self.q.expect_from(at, "\n", 20);
        let end = self.q.expect_from(start, "nsh> ", secs);
        self.q.out[start..end - "nsh> ".len()].replace('\r', "")
    }

    /// Free pages, from `free`.
    fn free_pages(&mut self) -> u64 {
        let out = self.cmd("free", 20);
        let line = out
            .lines()
            .find(|l| l.starts_with("Pages:"))
            .unwrap_or_else(|| panic!("no Pages line in {out:?}"));
        line.split_whitespace().nth(3).unwrap().parse().unwrap()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let base = self.base;
            self.q.assert_held(base);
        }
    }
}

#[test]
fn hello_c_stdio_heap_errno_exit() {
    let mut s = Session::boot();
    let out = s.cmd("hello_c one 'two words' 3", 30);
    for want in [
        "hello from C, pid ",
        ", constructor ran\n",
        "argc=4\nargv[0]=\"hello_c\"\nargv[1]=\"one\"\nargv[2]=\"two words\"\nargv[3]=\"3\"\n",
        "argv[argc] is NULL\n",
        "float: 3.142 1.414214 2.71828 1.500000e-07\n",
        "float sum: 3.00\n",
        "malloc/free: ok\n",
        "open: -1, errno 2 (ENOENT), No such file or directory\n",
        "ENOSYS=38 ETIMEDOUT=110 EOWNERDEAD=130: Connection timed out; Owner died\n",
        "syscall(999): -1, errno 38 (ENOSYS)\n",
        "perror: Permission denied\n",
        "exit status 3\n",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    // The atexit handler's last words had no newline: only exit()'s flush printed them.
    assert!(
        out.ends_with("atexit handler ran; exit() flushes this"),
        "not flushed at exit:\n{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "3");
    s.cmd("hello_c", 30);
    assert_eq!(s.cmd("echo $?", 10).trim(), "0");
}

#[test]
fn c_program_killed_by_a_fault() {
    let mut s = Session::boot();
    // Once, so that the page counts below see a steady state.
    s.cmd("crash_c", 30);
    let before = s.free_pages();
    let out = s.cmd("crash_c", 30);
    assert!(
        out.contains("crash_c: writing to NULL (x = 1.5)\n"),
        "{out}"
    );
    assert!(
        out.contains("(crash_c): killed: data abort (translation fault, write) at 0x0 (pc "),
        "no fault report in:\n{out}"
    );
    assert_eq!(out.matches("killed").count(), 1, "{out}");
    assert!(!out.contains("still alive"), "{out}");
    assert_eq!(s.cmd("echo $?", 10).trim(), "139"); // 128 + SIGSEGV
    assert_eq!(
        s.free_pages(),
        before,
        "the crashed program's pages did not come back"
    );
}

#[test]
fn ctest_runtime_checks() {
    let mut s = Session::boot();
    let out = s.cmd("ctest", 120);
    assert!(
        out.contains("ctest: 17 passed, 0 failed"),
        "ctest failed:\n{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "0");
    // Nothing it made is left behind.
    assert_eq!(s.cmd("ls /dev/shm", 10).trim(), "");
    assert!(
        !s.cmd("ipcs -m", 10).contains("0x"),
        "a System V segment was left"
    );
}
