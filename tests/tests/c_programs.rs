//! C programs at the shell (user/c, built with tools/nx-cc over picolibc and the project's
//! runtime): what a C programmer expects of stdio, the heap, errno and exit; a C program
//! killed by a fault; ctest, the runtime's own checks on the target; the shared-memory
//! programs (System V, POSIX, memfd, l4shmc and shmheap, each two processes); and
//! cconform, a sample of the conformance catalogues checked from C by case id.

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

    /// Nothing a program made is left: no name in /dev/shm, no System V segment.
    fn nothing_left(&mut self, after: &str) {
        let names = self.cmd("ls /dev/shm", 10);
        assert_eq!(names.trim(), "", "{after} left objects in /dev/shm");
        let segs = self.cmd("ipcs -m", 10);
        assert!(
            !segs.contains("0x"),
            "{after} left a System V segment:\n{segs}"
        );
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
fn c_program_overrunning_its_stack_or_calling_with_garbage() {
    let mut s = Session::boot();
    s.cmd("crash_c stack", 30);
    let before = s.free_pages();
    let out = s.cmd("crash_c stack", 30);
    assert!(out.contains("crash_c: recursing past the stack"), "{out}");
    assert!(
        out.contains("(crash_c): killed: data abort (translation fault, write) at "),
        "no fault report in:\n{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "139");
    assert_eq!(s.free_pages(), before, "pages back after a stack overrun");
    // One frame bigger than the guard gap, a segment attached below it: the stack probes
    // fault in the gap before the frame can reach the segment.
    let out = s.cmd("crash_c bigframe", 30);
    assert!(out.contains("crash_c: a 3 MiB frame"), "{out}");
    assert!(
        out.contains("(crash_c): killed: data abort (translation fault, write) at "),
        "the big frame was not stopped:\n{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "139");
    assert_eq!(s.free_pages(), before, "pages (and the segment) back");
    // Nonsense to the kernel: an error for each call, and the program goes on.
    let out = s.cmd("crash_c garbage", 30);
    for want in [
        "unknown call 4000: -1 Function not implemented",
        "write from a kernel address: -1 Bad address",
        "read into NULL: -1 Bad address",
        "shmat of id -1: -1 Invalid argument",
        "mmap of 2^62 bytes: -1 Cannot allocate memory",
        "futex on a wild pointer: -1 Bad address",
        "close(-5): -1 Bad file descriptor",
        "crash_c: still running",
    ] {
        assert!(out.contains(want), "no {want:?} in:\n{out}");
    }
    assert_eq!(s.cmd("echo $?", 10).trim(), "0");
}

#[test]
fn ctest_runtime_checks() {
    let mut s = Session::boot();
    let out = s.cmd("ctest", 120);
    assert!(
        out.contains("ctest: 18 passed, 0 failed"),
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

/// Run `line`; it must exit 0 and print every one of `wants`; then nothing may be left.
fn run_ok(s: &mut Session, line: &str, wants: &[&str]) -> String {
    // Generous: each program is two processes passing thousands of messages under load.
    let out = s.cmd(line, 240);
    for want in wants {
        assert!(out.contains(want), "{line}: no {want:?} in:\n{out}");
    }
    assert_eq!(s.cmd("echo $?", 10).trim(), "0", "{line} failed:\n{out}");
    s.nothing_left(line);
    out
}

#[test]
fn shared_memory_programs() {
    let mut s = Session::boot();
    let out = run_ok(
        &mut s,
        "sysv_pc 20000",
        &[
            "producer (pid ",
            "): segment ",
            ", 8 slots\n",
            "): 20000 messages, ",
            " bytes, in order and intact\n",
            "producer: 20000 messages sent in ",
            " s, consumer exited 0\n",
            "producer: IPC_STAT: nattch 1, cpid ",
            " (the consumer's detach)\n",
            "producer: detached and removed segment ",
        ],
    );
    // The segment's last detach was the consumer's: lpid is its pid.
    let pid = |after: &str| -> String {
        let at = out.find(after).unwrap_or_else(|| panic!("{after:?}")) + after.len();
        out[at..].chars().take_while(char::is_ascii_digit).collect()
    };
    assert_eq!(pid("consumer (pid "), pid(" (me), lpid "), "{out}");

    run_ok(
        &mut s,
        "pshm_pair",
        &[
            "parent (pid ",
            "parent: unlinked /pshm_pair.",
            "; both mappings still work\n",
            "parent: first reply: \"REQUEST 0 FROM PID ",
            "child (pid ",
            "): answered 200 requests\n",
            "parent: 200 replies, all right; child exited 0\n",
        ],
    );
    run_ok(
        &mut s,
        "memfd_pass",
        &[
            ", 8192 bytes, sealed 0x7\n",
            " answered in the mapping: sum -950, min -500, max 481, \"rotpircsed\"\n",
            "parent: and with pwrite: pid ",
            " read 100 numbers through descriptor 10\n",
        ],
    );
    run_ok(
        &mut s,
        "l4shm_pc 5000",
        &[
            ", client 0): area l4pc",
            ", 16384 bytes, 15632 free; chunk data, 512 bytes\n",
            ", client 1): 5000 messages, ",
            " bytes, in order and intact\n",
            "producer: 5000 messages sent in ",
            " s, all consumed; consumer exited 0\n",
            "producer: detached and unlinked l4pc",
        ],
    );
    run_ok(
        &mut s,
        "shmheap_pass",
        &[
            "; 8 objects, handles 0x",
            "): heap mapped at 0x",
            "; checked and freed 8 objects, reply at 0x",
            "parent: reply through handle 0x",
            " freed 8 objects\"\n",
            "parent: freeing object 0 again: Invalid argument\n",
            "parent: heap whole again (alloc of 65456 bytes fits); destroyed /shmheap_pass.",
        ],
    );

    // Failures are a clear message and a non-zero status.
    let out = s.cmd("sysv_pc consume 99999", 30);
    assert!(
        out.contains("sysv_pc consumer: shmat: Invalid argument\n"),
        "{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "1");
    let out = s.cmd("pshm_pair serve /nothing", 30);
    assert!(
        out.contains("pshm_pair child: shm_open: No such file or directory\n"),
        "{out}"
    );
    assert_eq!(s.cmd("echo $?", 10).trim(), "1");
    let out = s.cmd("l4shm_pc 0", 30);
    assert!(out.contains("usage: l4shm_pc [N]"), "{out}");
    assert_eq!(s.cmd("echo $?", 10).trim(), "2");
    s.nothing_left("the failures");
}

/// Every id cconform checks, by catalogue (`../shared/conformance/`): each must print PASS.
const CCONFORM_IDS: [(&str, &str); 4] = [
    (
        "sysv-shm.md",
        "K-06 SG-01 SG-02 SG-03 SG-05 SG-06 SG-07 SG-08 SG-09 SG-10 SG-11 SG-12 SG-13 SG-15 SG-16 \
         SG-17 SG-26 SG-29 SG-30 SG-31 SG-32 SG-33 SG-34 SG-35 SC-20 SG-36 SC-19 SA-01 SA-02 \
         SA-03 SA-04 SA-06 SA-07 SA-11 SA-12 SA-13 SA-14 SC-21 SA-17 SA-21 SA-23 SA-25 SD-01 \
         SD-03 SD-04 SD-05 SD-06 SD-07 SD-08 SC-04 SC-29 SC-06 SC-05 SC-07 SC-08 SC-09 SC-10 \
         SC-17 SC-22 SC-18 SC-26 SC-25 SC-24 SC-28 SC-33 SC-30 SC-31 SX-01 SX-03",
    ),
    (
        "posix-shm.md, and memfd_create's seals (Linux's)",
        "PO-01 PO-02 PO-03 PO-05 PO-06 PO-08 PO-11 PO-13 PO-16 PO-17 PO-18 PO-19 PO-21 PO-22 \
         PO-23 PO-24 PO-26 PO-28 PO-33 PU-01 PU-06 PU-07 PU-03 PU-05 PT-01 PT-02 PT-03 PT-04 \
         PT-05 PT-06 PT-09 PT-07 PT-08 PM-03 PM-07 PM-08 PM-09 PM-10 PM-13 PM-11 PM-14 PM-17 \
         PM-18 PM-16 PM-20 PM-21 PM-22 PM-23 PM-24 PF-01 PF-03 PF-04 PO-31 PA-01 PA-04 PA-02 \
         PA-09 PA-03 PA-05 memfd-cloexec memfd-seal-write-busy memfd-seals memfd-default-sealed \
         memfd-errors DN-01 DN-04 DN-05 DN-18 DN-02 DN-03 DN-06 DN-09 DN-11 DN-17",
    ),
    (
        "channels-heap.md section 9 (l4shmc)",
        "L4-02 L4-04 L4-05 L4-06 L4-07 L4-08 L4-09 L4-10 L4-11 L4-12 L4-13 L4-14 L4-15 L4-16 \
         L4-17 L4-18 L4-20 L4-22 L4-23 L4-24 L4-25 L4-26 K-14 L4-28 L4-29 L4-31 L4-32 L4-33 L4-34 \
         L4-35 l4shmc-structs",
    ),
    (
        "channels-heap.md section 10 (shmheap)",
        "SH-01 SH-02 SH-16 SH-18 SH-19 SH-03 SH-22 SH-04 SH-05 SH-07 SH-06 K-15 SH-09 SH-10 SH-11 \
         SH-12 SH-13 SH-14 SH-15 SH-17 SH-23 SH-24",
    ),
];

#[test]
fn cconform_catalogue_cases_from_c() {
    let mut s = Session::boot();
    let out = s.cmd("cconform", 300);
    let failed: Vec<&str> = out.lines().filter(|l| l.starts_with("FAIL ")).collect();
    assert!(
        failed.is_empty(),
        "cconform failures:\n{}\n{out}",
        failed.join("\n")
    );
    let passed: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("PASS "))
        .collect();
    let mut all = 0;
    for (catalogue, ids) in CCONFORM_IDS {
        for id in ids.split_whitespace() {
            assert!(
                passed.contains(&id),
                "{catalogue}: {id} did not pass:\n{out}"
            );
            all += 1;
        }
    }
    assert_eq!(passed.len(), all, "{out}");
    let summary = format!("cconform: {all} passed, 0 failed\n");
    assert!(out.contains(&summary), "{out}");
    assert_eq!(s.cmd("echo $?", 10).trim(), "0");
    // The [SIG] cases: a write through SHM_RDONLY (SA-07) and a page cut off by ftruncate
    // (PT-03) each kill a child, SIGSEGV and SIGBUS.
    assert!(
        out.contains("(cconform): killed: data abort (permission fault, write) at "),
        "{out}"
    );
    assert!(out.contains("; past the end of its object at "), "{out}");
    assert_eq!(out.matches("killed").count(), 2, "{out}");
    s.nothing_left("cconform");
}

/// Every program in user/c is one these tests run: a new one needs a test here too.
#[test]
fn every_c_program_has_a_test() {
    let tested = [
        "hello_c",
        "crash_c",
        "ctest",
        "sysv_pc",
        "pshm_pair",
        "memfd_pass",
        "l4shm_pc",
        "shmheap_pass",
        "cconform",
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../user/c");
    for e in std::fs::read_dir(&dir).expect("user/c") {
        let p = e.unwrap().path();
        let name = p.file_stem().unwrap().to_string_lossy().into_owned();
        if p.is_dir() || p.extension().is_some_and(|x| x == "c") {
            assert!(
                tested.contains(&name.as_str()),
                "user/c/{name} is built into /bin but no test in c_programs.rs runs it"
            );
        }
    }
}
