//! Integration tests that type at the serial console shell as a person would and read the
//! replies: the IPC utilities, error paths, line editing, Ctrl-C, pastes, jobs.

use systest::{Held, Qemu};

/// A booted system at its first prompt, with what it holds there noted: when the test ends
/// (without failing), the pages and open file descriptions must be back to that.
fn shell() -> Session {
    let mut q = Qemu::boot(&[], 120);
    q.expect("nsh> ", 60);
    let base = q.held();
    Session { q, base }
}

struct Session {
    q: Qemu,
    base: Held,
}

impl std::ops::Deref for Session {
    type Target = Qemu;
    fn deref(&self) -> &Qemu {
        &self.q
    }
}

impl std::ops::DerefMut for Session {
    fn deref_mut(&mut self) -> &mut Qemu {
        &mut self.q
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

impl ShellExt for Qemu {
    fn cmd(&mut self, line: &str) -> String {
        let at = self.out.len();
        self.type_str(line);
        self.type_str("\r");
        // The echo of the line, then everything up to the next prompt.
        let start = self.expect_from(at, "\n", 20);
        let end = self.expect_from(start, "nsh> ", 30);
        self.out[start..end - "nsh> ".len()].to_string()
    }
}

trait ShellExt {
    /// Type a command line and return what it printed before the next prompt.
    fn cmd(&mut self, line: &str) -> String;
}

fn segment_line(table: &str, id: &str) -> Option<String> {
    table
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some(id))
        .map(str::to_string)
}

#[test]
fn ipc_tools_session() {
    let mut q = shell();
    let out = q.cmd("ipcmk -M 8K -p 640");
    let id = out
        .trim()
        .strip_prefix("Shared memory id: ")
        .unwrap_or_else(|| panic!("ipcmk said {out:?}"))
        .to_string();
    assert_eq!(q.cmd(&format!("shm write {id} 0 hello shared world")), "");
    // A different process reads it back.
    assert_eq!(
        q.cmd(&format!("shm read {id} 0 19")).trim(),
        "hello shared world"
    );
    assert_eq!(q.cmd(&format!("shm read {id} 6 6")).trim(), "shared");
    let table = q.cmd("ipcs -m");
    assert!(table.contains("key") && table.contains("nattch") && table.contains("status"));
    let line = segment_line(&table, &id).unwrap_or_else(|| panic!("{id} not listed:\n{table}"));
    let f: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(&f[2..6], ["root", "640", "8192", "0"], "{line}");
    assert!(f[0].starts_with("0x"), "{line}");
    // Details and stat.
    let one = q.cmd(&format!("ipcs -m -i {id}"));
    assert!(
        one.contains(&format!("shmid={id}")) && one.contains("bytes=8192"),
        "{one}"
    );
    assert!(one.contains("mode=0640"), "{one}");
    let st = q.cmd(&format!("shm stat {id}"));
    for field in [
        "key: 0x",
        "mode: 0640",
        "segsz: 8192",
        "nattch: 0",
        "cpid: ",
        "lpid: ",
        "ctime: ",
    ] {
        assert!(st.contains(field), "{field} missing:\n{st}");
    }
    // Held in the background, removed: listed as dest until the holder goes.
    let bg = q.cmd(&format!("shm hold {id} 3 &"));
    assert!(
        bg.trim().starts_with('[') && bg.trim().ends_with(']'),
        "{bg:?}"
    );
    assert_eq!(q.cmd(&format!("ipcrm -m {id}")), "");
    let table = q.cmd("ipcs -m");
    let line = segment_line(&table, &id).unwrap_or_else(|| panic!("dest segment hidden:\n{table}"));
    assert!(line.contains("dest"), "{line}");
    assert_eq!(line.split_whitespace().nth(5), Some("1"), "nattch: {line}");
    assert!(line.starts_with("0x00000000"), "key freed: {line}");
    let waited = q.cmd("wait");
    assert!(waited.is_empty(), "{waited:?}");
    assert_eq!(q.cmd("echo $?").trim(), "0");
    let table = q.cmd("ipcs -m");
    assert!(
        segment_line(&table, &id).is_none(),
        "still there after the holder exited:\n{table}"
    );
    // Limits.
    let l = q.cmd("ipcs -l");
    assert!(
        l.contains("max number of segments = 128") && l.contains("min seg size (bytes) = 1"),
        "{l}"
    );
}

#[test]
fn ipc_error_paths() {
    let mut q = shell();
    assert_eq!(
        q.cmd("ipcrm -m 4242").trim(),
        "ipcrm: invalid id 4242: EINVAL (Invalid argument)"
    );
    assert_eq!(q.cmd("echo $?").trim(), "1");
    let id = q
        .cmd("shm get 0x77 4096 create excl 600")
        .trim()
        .to_string();
    assert!(id.parse::<u32>().is_ok(), "{id}");
    assert_eq!(
        q.cmd("shm get 0x77 4096 create excl").trim(),
        "shm: shmget 0x77: EEXIST (File exists)"
    );
    assert_eq!(q.cmd("echo $?").trim(), "1");
    assert_eq!(
        q.cmd("shm get 119 4096").trim(),
        id,
        "decimal key 119 = 0x77"
    );
    assert_eq!(
        q.cmd("shm get 0x77 8192").trim(),
        "shm: shmget 0x77: EINVAL (Invalid argument)"
    );
    assert_eq!(
        q.cmd("shm get 0x99 100").trim(),
        "shm: shmget 0x99: ENOENT (No such file or directory)"
    );
    assert_eq!(
        q.cmd("ipcrm -M 0x99").trim(),
        "ipcrm: invalid key 0x99: ENOENT (No such file or directory)"
    );
    assert_eq!(
        q.cmd("shm stat 999").trim(),
        "shm: shmctl 999: EINVAL (Invalid argument)"
    );
    assert!(q.cmd(&format!("shm read {id} 4090 10")).contains("EINVAL"));
    assert_eq!(
        q.cmd("ipcs -m -i 999").trim(),
        "ipcs: id 999 not found: EINVAL (Invalid argument)"
    );
    assert_eq!(q.cmd("ipcrm -M 0x77"), "");
    assert!(segment_line(&q.cmd("ipcs -m"), &id).is_none());
    assert_eq!(
        q.cmd("nosuchthing").trim(),
        "nsh: nosuchthing: command not found"
    );
    assert_eq!(q.cmd("echo $?").trim(), "127");
}

#[test]
fn line_editing() {
    let mut q = shell();
    // Left arrow, backspace, insert, End.
    assert_eq!(q.cmd("ecXo\x1b[D\x7fh\x1b[F one").trim(), "one");
    // History: up recalls the last line.
    assert_eq!(q.cmd("\x1b[A").trim(), "one");
    // Home (two encodings), Delete. (Ctrl-A is QEMU's own escape key on stdio.)
    assert_eq!(q.cmd("cho two\x1b[He").trim(), "two");
    assert_eq!(q.cmd("xecho three\x1b[1~\x1b[3~").trim(), "three");
    // Ctrl-U drops what is before the cursor.
    assert_eq!(q.cmd("garbage here\x15echo four").trim(), "four");
    // Ctrl-C at the prompt drops the line; nothing runs.
    let at = q.out.len();
    q.type_str("echo never\x03");
    q.expect_from(at, "^C", 10);
    q.expect_from(at, "nsh> ", 10);
    assert_eq!(q.cmd("echo $?").trim(), "130");
    // Ctrl-D on an empty line does nothing harmful.
    q.type_str("\x04");
    assert_eq!(q.cmd("echo five").trim(), "five");
    // Up twice and down once: back to the newer line.
    assert_eq!(q.cmd("\x1b[A\x1b[A\x1b[B").trim(), "five");
    assert!(!q.out.contains("never\r\nnever"));
}

#[test]
fn ctrl_c_interrupts_the_foreground_program() {
    let mut q = shell();
    let at = q.out.len();
    q.type_str("ttask spin 60000\r");
    std::thread::sleep(std::time::Duration::from_millis(500));
    q.type_str("\x03");
    q.expect_from(at, "killed by signal 2", 10);
    q.expect_from(at, "nsh> ", 10);
    assert_eq!(q.cmd("echo $?").trim(), "130");
    // The shell itself is not affected by a later Ctrl-C reaching the prompt.
    assert_eq!(q.cmd("echo still here").trim(), "still here");
}

#[test]
fn ctrl_c_stops_a_huge_console_write_at_once() {
    let mut q = shell();
    let at = q.out.len();
    q.type_str("ttask bigwrite 8388608\r");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let t0 = std::time::Instant::now();
    q.type_str("\x03");
    q.expect_from(at, "killed by signal 2", 10);
    q.expect_from(at, "nsh> ", 10);
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(3),
        "Ctrl-C took {:?}",
        t0.elapsed()
    );
    assert_eq!(q.cmd("echo $?").trim(), "130");
}

#[test]
fn ctrl_c_interrupts_the_shells_own_sleep_and_wait() {
    let mut q = shell();
    for (cmd, setup) in [("sleep 100", None), ("wait", Some("ttask sleep 100000 &"))] {
        if let Some(bg) = setup {
            q.cmd(bg);
        }
        let at = q.out.len();
        q.type_str(&format!("{cmd}\r"));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let t0 = std::time::Instant::now();
        q.type_str("\x03");
        q.expect_from(at, "^C", 5);
        q.expect_from(at, "nsh> ", 5);
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(2),
            "{cmd}: the prompt took {:?}",
            t0.elapsed()
        );
        assert_eq!(q.cmd("echo $?").trim(), "130", "{cmd}");
    }
    // The background job was not touched by the Ctrl-C.
    assert!(q.cmd("ps").contains("ttask"));
}

#[test]
fn pasted_input_is_not_lost() {
    let mut q = shell();
    let long: String = (0..180).map(|i| (b'a' + (i % 26) as u8) as char).collect();
    let at = q.out.len();
    q.paste(&format!("echo one\recho two\recho {long}\recho three\r"));
    q.expect_from(at, "three\r\nnsh> ", 30);
    let out = &q.out[at..];
    for want in ["one\r\n", "two\r\n", &format!("{long}\r\n")] {
        assert!(out.contains(want), "{want:?} lost in:\n{out}");
    }
}

/// The pid from a background job's `[PID]` line.
fn job_pid(out: &str) -> String {
    out.trim()
        .trim_matches(|c| c == '[' || c == ']')
        .to_string()
}

#[test]
fn jobs_builtins_and_shell_restart() {
    let mut q = shell();
    let bg = q.cmd("ttask sleep 300 &");
    let pid: i32 = job_pid(&bg).parse().expect("pid");
    let ps = q.cmd("ps");
    assert!(
        ps.contains("PID") && ps.contains("PPID") && ps.contains("PAGES"),
        "{ps}"
    );
    let row = ps
        .lines()
        .find(|l| l.split_whitespace().next() == Some(&pid.to_string()))
        .unwrap_or_else(|| panic!("{pid} not in ps:\n{ps}"));
    assert!(row.contains("sleeping") && row.ends_with("ttask"), "{row}");
    assert_eq!(q.cmd(&format!("wait {pid}")), "");
    let f = q.cmd("free");
    assert!(f.contains("Pages:") && f.contains("Heap:"), "{f}");
    assert!(q.cmd("uptime").trim().starts_with("up "));
    assert!(q.cmd("dmesg").contains(systest::board().banner()));
    assert!(q.cmd("ls /bin").lines().any(|l| l.trim() == "ipcs"));
    assert!(q.cmd("help").contains("Builtins:"));
    // The test suite runs from the shell too.
    let t = q.cmd("ostest shm_exchange");
    assert!(
        t.contains("PASS shm_exchange") && t.contains("ostest: 1 passed, 0 failed"),
        "{t}"
    );
    // A background job finishing is reported at the next prompt.
    let bg = q.cmd("ttask exit 7 &");
    let pid2 = job_pid(&bg);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let out = q.cmd("echo x");
    let out = out + &q.cmd("echo y");
    assert!(
        q.out.contains(&format!("[{pid2}] done, exit status 7")),
        "{out}"
    );
    // kill from the shell.
    let bg = q.cmd("ttask sleep 60000 &");
    let pid3 = job_pid(&bg);
    let killed = q.cmd(&format!("kill {pid3}"));
    assert!(!killed.contains("kill:"), "{killed}");
    // Reaped (and reported) at the prompt already; wait still gives its status.
    assert_eq!(q.cmd(&format!("wait {pid3}")), "");
    assert_eq!(q.cmd("echo $?").trim(), "143");
    assert!(q.cmd("kill 9999").contains("ESRCH"));
    // The shell exits; init starts another.
    let at = q.out.len();
    q.type_str("exit\r");
    q.expect_from(at, "restarting", 10);
    q.expect_from(at, "nsh> ", 10);
    assert_eq!(q.cmd("echo back").trim(), "back");
}

/// The kernel's console input buffer (kernel::CONSOLE_RX): what a paste may run ahead of the
/// shell by before the excess is dropped.
const CONSOLE_RX: usize = 4096;

/// Bytes of a small deterministic generator (xorshift), for reproducible random input.
fn noise(n: usize, mut x: u64) -> Vec<u8> {
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// After a burst, the console must still read: once the shell has worked through what the
/// kernel kept (its output goes quiet), reset the line (Ctrl-C) and ask. A probe that lands
/// while the buffer is still full is dropped like the paste, so it is repeated a few times;
/// a wedged console never answers any of them.
fn still_answers(q: &mut Qemu, tag: &str) {
    let want = format!("\n{tag}-alive\r\n");
    for _ in 0..5 {
        q.quiet(1500, 120);
        let at = q.out.len();
        q.type_str(&format!("\x03echo {tag}-alive\r"));
        q.quiet(1500, 20);
        if q.out[at..].contains(&want) {
            return;
        }
    }
    panic!(
        "the console no longer answers after the {tag} burst:\n{}",
        q.out
    );
}

#[test]
fn a_100k_paste_never_wedges_the_console() {
    let mut q = shell();
    // Short lines at full speed: those within the first CONSOLE_RX bytes all run.
    let lines: String = (0..8500).map(|i| format!("echo p{i:05}\r")).collect();
    assert!(lines.len() >= 100_000);
    let at = q.out.len();
    q.paste_bytes(lines.as_bytes());
    still_answers(&mut q, "short");
    let out = &q.out[at..];
    let fit = CONSOLE_RX / "echo p00000\r".len();
    for i in 0..fit {
        assert!(
            out.contains(&format!("\np{i:05}\r\n")),
            "line {i} of the first {fit} lost"
        );
    }
    // Long lines (longer than the editor's line) and random bytes, also at full speed.
    let long: String = (0..400)
        .map(|i| format!("echo {}\r", "x".repeat(200 + i % 150)))
        .collect();
    q.paste_bytes(long.as_bytes());
    still_answers(&mut q, "long");
    // Random bytes, minus Ctrl-A (QEMU's own escape key on stdio).
    let junk: Vec<u8> = noise(100_000, 0x9e37_79b9_7f4a_7c15)
        .into_iter()
        .map(|b| if b == 1 { b'.' } else { b })
        .collect();
    q.paste_bytes(&junk);
    still_answers(&mut q, "random");
}

/// The file commands and redirections typed at the shell, with their errors.
#[test]
fn files_and_redirection_session() {
    let mut q = shell();
    let n = |s: String| s.replace('\r', "");
    assert_eq!(n(q.cmd("pwd")), "/\n");
    assert_eq!(n(q.cmd("ls")), "bin\ndev\n");
    assert_eq!(q.cmd("cd /dev/shm"), "");
    assert_eq!(n(q.cmd("pwd")), "/dev/shm\n");
    assert_eq!(q.cmd("ls"), "", "empty for now");
    assert_eq!(q.cmd("cd ../.."), "");
    let long = n(q.cmd("ls -l /dev"));
    let want = [
        "crw--w---- 1 root root     5, 1 console",
        "crw-rw-rw- 1 root root     1, 3 null",
        "drwxrwxrwt 2 root root        0 shm",
        "drwxr-xr-x 2 root root        0 shmem",
        "crw-rw-rw- 1 root root     1, 5 zero",
    ];
    assert_eq!(long.lines().collect::<Vec<_>>(), want, "{long}");
    // POSIX shared memory from the shell: pshm, /dev/shm through ls and cat.
    assert_eq!(n(q.cmd("pshm create /frame 8192")), "/frame: 8192 bytes\n");
    assert_eq!(q.cmd("pshm write /frame 0 hello shared world"), "");
    assert_eq!(n(q.cmd("pshm read /frame 0 18")), "hello shared world\n");
    let shm = n(q.cmd("ls -l /dev/shm"));
    assert!(
        shm.starts_with("-rw------- 1 root root ")
            && shm.contains(" 8192 ")
            && shm.ends_with(" frame\n"),
        "{shm}"
    );
    let cat = n(q.cmd("cat /dev/shm/frame"));
    assert!(cat.starts_with("hello shared world"), "{cat}");
    // Handed to another process with a one-time key.
    let key = n(q.cmd("pshm share /frame 30"));
    let key = key.trim();
    assert_eq!(key.len(), 16, "{key:?}");
    assert_eq!(
        n(q.cmd(&format!("pshm claim {key}"))),
        "pshm: claimed fd 3: 8192 bytes\nhello shared world\n"
    );
    assert!(
        n(q.cmd(&format!("pshm claim {key}"))).contains("ENOENT"),
        "a key works once"
    );
    // pmap of a process holding it mapped.
    let bg = q.cmd("pshm hold /frame 3 > /dev/null &");
    let pid = bg
        .trim()
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let map = n(q.cmd(&format!("pmap {pid}")));
    assert!(map.starts_with(&format!("{pid}:   pshm\n")), "{map}");
    for want in [
        "K r-x-- program",
        "K rw--- stack",
        "8K rw-s- /dev/shm/frame",
        " total ",
    ] {
        assert!(map.contains(want), "{want:?} missing:\n{map}");
    }
    assert_eq!(q.cmd("wait"), "");
    assert_eq!(q.cmd("pshm unlink /frame"), "");
    assert_eq!(
        n(q.cmd("pshm read /frame 0 1")),
        "pshm: /frame: ENOENT (No such file or directory)\n"
    );
    let bin = n(q.cmd("ls /bin"));
    assert!(
        bin.lines().any(|l| l == "hello") && bin.lines().any(|l| l == "nsh"),
        "{bin}"
    );
    let hello = n(q.cmd("ls -l /bin/hello"));
    assert!(hello.starts_with("-r-xr-xr-x 1 root root ") && hello.ends_with(" /bin/hello\n"));
    assert_eq!(
        n(q.cmd("xd /bin/hello 20")),
        "00000000: 7f 45 4c 46 02 01 01 00 00 00 00 00 00 00 00 00  .ELF............\n\
         00000010: 02 00 b7 00                                      ....\n"
    );
    // Errors as a shell prints them, with the status.
    assert_eq!(
        n(q.cmd("ls /nosuch")),
        "ls: cannot access '/nosuch': No such file or directory\n"
    );
    assert_eq!(n(q.cmd("echo $?")), "2\n");
    assert_eq!(n(q.cmd("cat /dev")), "cat: /dev: Is a directory\n");
    assert_eq!(
        n(q.cmd("cd /bin/hello")),
        "cd: /bin/hello: Not a directory\n"
    );
    assert_eq!(
        n(q.cmd("echo hi > /bin/new")),
        "nsh: /bin/new: Read-only file system\n"
    );
    assert_eq!(n(q.cmd("echo $?")), "1\n");
    assert_eq!(
        n(q.cmd("cat < /nosuch")),
        "nsh: /nosuch: No such file or directory\n"
    );
    assert_eq!(
        n(q.cmd("rm /bin/hello /nosuch")),
        "rm: cannot remove '/bin/hello': Read-only file system\n\
         rm: cannot remove '/nosuch': No such file or directory\n"
    );
    assert_eq!(
        n(q.cmd("rm /dev")),
        "rm: cannot remove '/dev': Is a directory\n"
    );
    // Redirections for builtins and programs; the shell's own output is back afterwards.
    assert_eq!(q.cmd("echo gone > /dev/null"), "");
    assert_eq!(q.cmd("hello a b > /dev/null"), "");
    assert_eq!(q.cmd("hello 2> /dev/null >> /dev/null"), "");
    assert_eq!(q.cmd("cat < /dev/null"), "");
    assert_eq!(n(q.cmd("echo back")), "back\n");
    let out = n(q.cmd("uname -a"));
    assert!(
        out.starts_with("nx-rtos nx ") && out.ends_with(" aarch64\n"),
        "{out}"
    );
    // QEMU virt's PL031 gives the date; the Pi has no RTC, so its clock starts at 1970.
    let date = n(q.cmd("date"));
    let year = match systest::board() {
        systest::Board::QemuVirt => " UTC 20",
        systest::Board::Rpi3b => " UTC 1970",
    };
    assert!(date.contains(year), "{date}");
    // Nothing left open: the shell's next descriptor is still 3.
    let fds = n(q.cmd("ttask fdopen 3"));
    assert_eq!(fds, "");
    assert_eq!(n(q.cmd("echo $?")), "1\n");
}

/// The address in "NAME mapped at 0x... in pid N" (shmheap -v).
fn mapped_at(line: &str) -> String {
    let (_, rest) = line
        .split_once(" mapped at ")
        .unwrap_or_else(|| panic!("no base in {line:?}"));
    rest.split_whitespace().next().unwrap().to_string()
}

/// Run `line` until its output contains `want` (a background process may not have got
/// going yet), at most 20 times a quarter of a second apart.
fn until(q: &mut Qemu, line: &str, want: &str) -> String {
    for _ in 0..20 {
        let out = q.cmd(line).replace('\r', "");
        if out.contains(want) {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("{line}: never printed {want:?}");
}

#[test]
fn shmheap_tool_session() {
    let mut q = shell();
    let n = |s: String| s.replace('\r', "");
    assert_eq!(
        n(q.cmd("shmheap create pool 16K")),
        "pool: 16384 bytes, largest alloc 16320\n"
    );
    // Handles are offsets; each command is a new process with its own mapping.
    let a = n(q.cmd("shmheap -v alloc pool 4096"));
    let mut lines = a.lines();
    let base = mapped_at(lines.next().unwrap());
    assert_eq!(lines.next(), Some("handle 0x40 (4096 bytes)"), "{a}");
    assert_eq!(
        n(q.cmd("shmheap alloc pool 100")),
        "handle 0x1050 (112 bytes)\n"
    );
    // Written by a process that has the heap three pages lower, read by another.
    let w = n(q.cmd("shmheap -v -s 3 write pool 0x40 hello from one process"));
    let lower = mapped_at(&w);
    let (b0, b1) = (
        u64::from_str_radix(base.trim_start_matches("0x"), 16).unwrap(),
        u64::from_str_radix(lower.trim_start_matches("0x"), 16).unwrap(),
    );
    assert_eq!(b0 - b1, 3 * 4096, "{base} {lower}");
    let r = n(q.cmd("shmheap -v read pool 0x40"));
    assert_eq!(
        r,
        format!(
            "pool mapped at {base} in pid {}\nhello from one process\n",
            {
                let pid = r.split(" in pid ").nth(1).unwrap();
                pid.split_whitespace().next().unwrap().to_string()
            }
        )
    );
    assert_eq!(n(q.cmd("shmheap read pool 64 5")), "hello\n");
    assert_eq!(
        n(q.cmd(&format!("shmheap write pool 0x1050 {}", "x".repeat(113)))),
        "shmheap: write 0x1050: E2BIG (Argument list too long)\n"
    );
    assert_eq!(
        n(q.cmd("shmheap list pool")),
        "pool: 16384 bytes, repairs 0\n\
         offset     bytes      block\n\
         0x30       4112       live 0x40\n\
         0x1040     128        live 0x1050\n\
         0x10c0     12096      free\n\
         2 live (4240 bytes), free list 1 block (12096 bytes), largest alloc 12080\n"
    );
    // Free, double free, handles that name no allocation.
    assert_eq!(q.cmd("shmheap free pool 0x40"), "");
    assert_eq!(
        n(q.cmd("shmheap free pool 0x40")),
        "shmheap: free 0x40: EINVAL (Invalid argument)\n"
    );
    assert_eq!(n(q.cmd("echo $?")), "1\n");
    assert_eq!(
        n(q.cmd("shmheap read pool 0x40")),
        "shmheap: read 0x40: EINVAL (Invalid argument)\n"
    );
    for bad in ["0x100000", "0x1058", "0x0", "0x30"] {
        assert_eq!(
            n(q.cmd(&format!("shmheap free pool {bad}"))),
            format!("shmheap: free {bad}: EINVAL (Invalid argument)\n")
        );
    }
    let list = n(q.cmd("shmheap list pool"));
    assert!(
        list.contains("0x30       4112       free\n")
            && list.ends_with(
                "1 live (128 bytes), free list 2 blocks (16208 bytes), largest alloc 12080\n"
            ),
        "{list}"
    );
    assert_eq!(q.cmd("shmheap free pool 0x1050"), "");
    let one_block = "pool: 16384 bytes, repairs 0\n\
                     offset     bytes      block\n\
                     0x30       16336      free\n\
                     0 live (0 bytes), free list 1 block (16336 bytes), largest alloc 16320\n";
    assert_eq!(n(q.cmd("shmheap list pool")), one_block, "merged back");
    // Too big, just right; unknown names, a taken name.
    assert_eq!(
        n(q.cmd("shmheap alloc pool 16321")),
        "shmheap: alloc 16321: ENOMEM (Cannot allocate memory)\n"
    );
    assert_eq!(
        n(q.cmd("shmheap alloc pool 16320")),
        "handle 0x40 (16320 bytes)\n"
    );
    assert_eq!(q.cmd("shmheap free pool 0x40"), "");
    assert_eq!(
        n(q.cmd("shmheap list nosuch")),
        "shmheap: nosuch: ENOENT (No such file or directory)\n"
    );
    assert_eq!(
        n(q.cmd("shmheap create /pool 4096")),
        "shmheap: create /pool: EEXIST (File exists)\n"
    );
    // Three processes allocate, fill, check and free at once.
    let mut bg = Vec::new();
    for _ in 0..2 {
        bg.push(job_pid(&q.cmd("shmheap churn pool 50000 > /dev/null &")));
    }
    let fg = n(q.cmd("shmheap churn pool 50000"));
    assert!(
        fg.contains(" 50000 rounds, ") && fg.contains(" 0 corrupt"),
        "{fg}"
    );
    for pid in &bg {
        q.cmd(&format!("wait {pid}"));
        // The shell's "[N] done" notice for the other job may land in this output.
        let st = n(q.cmd("echo $?"));
        let st: Vec<&str> = st.lines().filter(|l| !l.starts_with('[')).collect();
        assert_eq!(st, ["0"], "churner {pid}");
    }
    assert_eq!(n(q.cmd("shmheap list pool")), one_block, "all freed");
    // A background holder's allocation, seen by others, freed when it ends.
    let pid = job_pid(&q.cmd("shmheap hold pool 2 300 > /dev/null &"));
    let held = until(&mut q, "shmheap list pool", "1 live (320 bytes)");
    assert!(held.contains("0x30       320        live 0x40\n"), "{held}");
    q.cmd(&format!("wait {pid}"));
    assert_eq!(n(q.cmd("shmheap list pool")), one_block);
    // A process that dies holding the heap's lock: others time out meanwhile (-w), and
    // the next call after its death repairs the heap.
    let pid = job_pid(&q.cmd("shmheap lock pool 60 > /dev/null &"));
    until(
        &mut q,
        "shmheap -w 200 alloc pool 10",
        "shmheap: alloc 10: ETIMEDOUT (Connection timed out)\n",
    );
    q.cmd(&format!("kill {pid}"));
    q.cmd(&format!("wait {pid}"));
    assert_eq!(
        n(q.cmd("shmheap list pool")),
        one_block.replace("repairs 0", "repairs 1")
    );
    // An object that is no heap.
    assert_eq!(n(q.cmd("pshm create /plain 8192")), "/plain: 8192 bytes\n");
    assert_eq!(
        n(q.cmd("shmheap list plain")),
        "shmheap: plain: EAGAIN (Resource temporarily unavailable)\n"
    );
    assert_eq!(q.cmd("pshm write /plain 0 garbage"), "");
    assert_eq!(
        n(q.cmd("shmheap alloc plain 16")),
        "shmheap: plain: EIO (Input/output error)\n"
    );
    assert_eq!(q.cmd("pshm unlink /plain"), "");
    // Gone.
    assert_eq!(q.cmd("shmheap destroy pool"), "");
    assert_eq!(
        n(q.cmd("shmheap list pool")),
        "shmheap: pool: ENOENT (No such file or directory)\n"
    );
    assert_eq!(
        n(q.cmd("shmheap destroy pool")),
        "shmheap: pool: ENOENT (No such file or directory)\n"
    );
    assert!(n(q.cmd("shmheap frob pool")).starts_with("usage: shmheap "));
    assert_eq!(n(q.cmd("echo $?")), "2\n");
}

/// The line of `out` that starts with `prefix`.
fn line_with<'a>(out: &'a str, prefix: &str) -> &'a str {
    out.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting {prefix:?} in:\n{out}"))
}

/// The numbers in `chan`'s rate line `WHO: N messages/s, N bytes/s (N messages in N us)`.
fn chan_rate(out: &str, who: &str) -> [u64; 4] {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{who}: ")) && l.contains(" messages/s, "))
        .unwrap_or_else(|| panic!("no rate line from {who} in:\n{out}"));
    let nums: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    nums.try_into()
        .unwrap_or_else(|n| panic!("not a rate line: {line:?} ({n:?})"))
}

/// The `chan` tool (user/shmchan's l4shmc_* channels) as a person uses it: an area with a
/// chunk and two signals, a consumer in the background and a producer in the foreground
/// (one signal each way, then one signal both ways), the listing with the client bitmask and
/// the chunk states, the free-space recipe, the error cases, and the pages back once the
/// area is removed (the session's end checks that).
#[test]
fn chan_tool_session() {
    let mut q = shell();
    let n = |s: String| s.replace('\r', "");
    assert_eq!(n(q.cmd("chan create demo 64K")), "demo: 65536 bytes\n");
    assert_eq!(
        n(q.cmd("chan add demo chunk data 4096")),
        "chunk data: offset 48, capacity 4096\n"
    );
    assert_eq!(
        n(q.cmd("chan add demo signal ready")),
        "signal ready: offset 4208\n"
    );
    assert_eq!(
        n(q.cmd("chan add demo signal free")),
        "signal free: offset 4272\n"
    );
    assert_eq!(n(q.cmd("ls /dev/shm")), "demo\n");
    assert_eq!(
        n(q.cmd("chan list demo")),
        "area:        demo\n\
         size:        65536\n\
         free:        61200\n\
         clients:     0\n\
         initialized: 0x0 (none)\n\
         \n\
         CHUNK              OFFSET   CAPACITY       SIZE  STATE\n\
         data                   48       4096          0  CLEAR\n\
         \n\
         SIGNAL             OFFSET      COUNT\n\
         ready                4208          0\n\
         free                 4272          0\n"
    );

    // The l4shmc idiom: the consumer waits for READY, reads, marks the chunk consumed and
    // triggers FREE; the producer takes the chunk when FREE says it is clear.
    let at = q.out.len();
    let bg = q.cmd("chan consume demo data ready free 1000 &");
    let pid = job_pid(&n(bg));
    assert!(pid.parse::<u32>().is_ok(), "{pid:?}");
    q.cmd("chan produce demo data ready free 1000");
    q.cmd("wait");
    q.expect_from(at, &format!("[{pid}] done, exit status 0"), 10);
    let all = n(q.out[at..].to_string());
    let c = line_with(&all, "consumer: client ");
    assert!(
        c.ends_with(", chunk data: 1000 messages, in order, 0 lost"),
        "{all}"
    );
    assert!(
        all.contains("consumer: first #0 \"message 0\" (4096 bytes)\n")
            && all.contains("consumer: last #999 \"message 999\" (4096 bytes)\n"),
        "{all}"
    );
    let p = line_with(&all, "producer: client ");
    assert!(
        p.ends_with(", chunk data: 1000 messages of 4096 bytes sent, all consumed"),
        "{all}"
    );
    for who in ["consumer", "producer"] {
        let [msgs, bytes, count, us] = chan_rate(&all, who);
        assert!(msgs > 0 && us > 0 && count == 1000, "{all}");
        assert!(bytes.abs_diff(msgs * 4096) <= 4096, "{all}");
    }
    let list = n(q.cmd("chan list demo"));
    for want in [
        "clients:     2\n",
        "initialized: 0x3 (0 1)\n",
        "data                   48       4096       4096  CLEAR\n",
        "ready                4208       1000\n",
        "free                 4272       1000\n",
    ] {
        assert!(list.contains(want), "{want:?} missing:\n{list}");
    }

    // A producer with nobody consuming leaves the chunk READY; a consumer empties it.
    let bg = q.cmd("chan produce demo data ready free 1 &");
    let pid = job_pid(&n(bg));
    let mut list = String::new();
    for _ in 0..50 {
        list = n(q.cmd("chan list demo"));
        if list.contains("  READY\n") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        list.contains("data                   48       4096       4096  READY\n"),
        "{list}"
    );
    let at = q.out.len();
    let one = n(q.cmd("chan consume demo data ready free 1"));
    assert!(
        one.contains(", chunk data: 1 message, in order, 0 lost\n")
            && one.contains("consumer: first #0 \"message 0\" (4096 bytes)\n"),
        "{one}"
    );
    q.cmd("wait");
    q.expect_from(at, &format!("[{pid}] done, exit status 0"), 10);
    let list = n(q.cmd("chan list demo"));
    assert!(
        list.contains("initialized: 0xf (0 1 2 3)\n") && list.contains("  CLEAR\n"),
        "{list}"
    );

    // One signal both ways, smaller messages.
    let at = q.out.len();
    let bg = q.cmd("chan consume demo data ready 100 &");
    let pid = job_pid(&n(bg));
    q.cmd("chan produce demo data ready 100 -s 64");
    q.cmd("wait");
    q.expect_from(at, &format!("[{pid}] done, exit status 0"), 10);
    let all = n(q.out[at..].to_string());
    assert!(
        all.contains(", chunk data: 100 messages, in order, 0 lost\n")
            && all.contains("consumer: last #99 \"message 99\" (64 bytes)\n")
            && all.contains(", chunk data: 100 messages of 64 bytes sent, all consumed\n"),
        "{all}"
    );
    let list = n(q.cmd("chan list demo"));
    assert!(
        list.contains("initialized: 0x3f (0 1 2 3 4 5)\n")
            && list.contains("data                   48       4096         64  CLEAR\n")
            // 1000 + 1 from the runs before, then one trigger from each side per message.
            && list.contains("ready                4208       1201\n"),
        "{list}"
    );

    // Errors: the errno's name and text, status 1.
    for (cmd, want) in [
        (
            "chan list nosuch",
            "chan: nosuch: ENOENT (No such file or directory)",
        ),
        (
            "chan create sixteen_bytes_ab 4K",
            "chan: create sixteen_bytes_ab: EINVAL (Invalid argument)",
        ),
        (
            "chan create tiny 16",
            "chan: create tiny: EINVAL (Invalid argument)",
        ),
        (
            "chan add demo chunk sixteen_bytes_ab 8",
            "chan: add chunk sixteen_bytes_ab (8 bytes): EINVAL (Invalid argument)",
        ),
        (
            "chan add demo chunk big 64K",
            "chan: add chunk big (65536 bytes): ENOMEM (Cannot allocate memory)",
        ),
        (
            "chan add demo chunk data 8",
            "chan: add chunk data (8 bytes): EEXIST (File exists)",
        ),
        (
            "chan produce demo data ready 1 -s 8K",
            "chan: message size 8192 (chunk data holds 8 to 4096): EINVAL (Invalid argument)",
        ),
        (
            "chan consume demo nosuch ready 1",
            "chan: chunk nosuch: ENOENT (No such file or directory)",
        ),
        (
            "chan consume demo data nosuch 1",
            "chan: signal nosuch: ENOENT (No such file or directory)",
        ),
        (
            "chan consume demo data ready 1 -t 1",
            "chan: wait for data to be ready: ETIMEDOUT (Connection timed out)",
        ),
    ] {
        assert_eq!(n(q.cmd(cmd)), format!("{want}\n"), "{cmd}");
        assert_eq!(n(q.cmd("echo $?")), "1\n", "{cmd}");
    }
    // A 15-byte name is fine; the documented recipe fills the area exactly.
    assert_eq!(
        n(q.cmd("chan add demo signal fifteen_bytes_")),
        "signal fifteen_bytes_: offset 4336\n"
    );
    let list = n(q.cmd("chan list demo"));
    // Clients 6, 7 and 8 attached (each attach takes a number) but failed to set up, so
    // only the one that timed out waiting (9) marked itself initialized.
    assert!(
        list.contains("clients:     10\n") && list.contains("initialized: 0x23f (0 1 2 3 4 5 9)\n"),
        "{list}"
    );
    let free: usize = line_with(&list, "free:")
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .expect("free size");
    assert_eq!(free, 65536 - 4400);
    // chunk_overhead: a descriptor (64) and the round-up of the capacity (8).
    assert_eq!(
        n(q.cmd(&format!("chan add demo chunk rest {}", free - 72))),
        format!("chunk rest: offset 4400, capacity {}\n", free - 72)
    );
    assert!(n(q.cmd("chan list demo")).contains("free:        8\n"));
    assert_eq!(
        n(q.cmd("chan add demo signal late")),
        "chan: add signal late: ENOMEM (Cannot allocate memory)\n"
    );
    assert!(n(q.cmd("chan")).starts_with("usage: chan create AREA SIZE\n"));
    assert_eq!(n(q.cmd("echo $?")), "2\n");

    assert_eq!(q.cmd("chan remove demo"), "");
    assert_eq!(q.cmd("ls /dev/shm"), "");
    assert_eq!(
        n(q.cmd("chan remove demo")),
        "chan: remove demo: ENOENT (No such file or directory)\n"
    );
}
