//! Boots the real image under QEMU (through `qemu-run.sh --no-build`) and talks to it over the
//! serial console, as a person at the terminal would. `BOARD=rpi3b` runs the tests on the
//! Raspberry Pi 3B board (QEMU `-M raspi3b`) instead of QEMU virt.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The board the tests boot, from the environment: `BOARD=rpi3b` runs them on QEMU
/// `-M raspi3b` (the image `./qemu-run.sh --board rpi3b --build-only` builds), anything else
/// or nothing on QEMU virt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    QemuVirt,
    Rpi3b,
}

pub fn board() -> Board {
    match std::env::var("BOARD").as_deref() {
        Ok("rpi3b") => Board::Rpi3b,
        Ok("" | "qemu-virt") | Err(_) => Board::QemuVirt,
        Ok(other) => panic!("BOARD={other}: the boards are qemu-virt and rpi3b"),
    }
}

impl Board {
    /// Its name for `qemu-run.sh --board`.
    pub fn name(self) -> &'static str {
        match self {
            Board::QemuVirt => "qemu-virt",
            Board::Rpi3b => "rpi3b",
        }
    }
    /// Where `qemu-run.sh` puts its images.
    fn image_dir(self) -> &'static str {
        match self {
            Board::QemuVirt => "out",
            Board::Rpi3b => "out/rpi3b",
        }
    }
    /// How the kernel's first line names the board.
    pub fn banner(self) -> &'static str {
        match self {
            Board::QemuVirt => "nx-rtos: QEMU virt, ",
            Board::Rpi3b => "nx-rtos: Raspberry Pi 3B, ",
        }
    }
}

/// For a test of what only QEMU virt has (GICv3, `--mem`, the ELF boot): true, after saying
/// so, when the board is another one (the test then returns at once and counts as passed).
pub fn skip_unless_virt(what: &str) -> bool {
    let b = board();
    if b != Board::QemuVirt {
        eprintln!("skipped on {}: {what} is QEMU virt's", b.name());
    }
    b != Board::QemuVirt
}

pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Vec<u8>>,
    /// Everything the guest printed so far.
    pub out: String,
}

impl Qemu {
    /// Boot the board's image (`board()`) with `qemu-run.sh --no-build ARGS`, killed after
    /// `timeout_s`.
    pub fn boot(args: &[&str], timeout_s: u32) -> Qemu {
        let root = root();
        let b = board();
        assert!(
            root.join(b.image_dir()).join("nx-rtos.elf").exists(),
            "no image: build it with ./qemu-run.sh --board {} --build-only (./test.sh builds QEMU virt's)",
            b.name()
        );
        let t = timeout_s.to_string();
        let mut child = Command::new(root.join("qemu-run.sh"))
            .arg("--no-build")
            .args(["--board", b.name()])
            .args(["--timeout", &t])
            .args(args)
            .current_dir(&root)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            // Own process group, so that dropping the handle ends QEMU too, not just the script.
            .process_group(0)
            .spawn()
            .expect("run qemu-run.sh");
        let mut stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 || tx.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Qemu {
            child,
            stdin,
            rx,
            out: String::new(),
        }
    }

    fn pump(&mut self, until: Instant) -> bool {
        let wait = until.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(wait) {
            Ok(b) => {
                self.out.push_str(&String::from_utf8_lossy(&b));
                true
            }
            Err(_) => false,
        }
    }

    /// Wait until the output (after `from`) contains `pat`; panics with the output on timeout.
    /// Only text that arrived since the last look is searched (plus an overlap), so a guest
    /// printing megabytes does not make this quadratic.
    pub fn expect_from(&mut self, from: usize, pat: &str, secs: u64) -> usize {
        let until = Instant::now() + Duration::from_secs(secs);
        let mut scanned = from.min(self.out.len());
        loop {
            let mut start = scanned
                .saturating_sub(pat.len())
                .max(from.min(self.out.len()));
            while !self.out.is_char_boundary(start) {
                start -= 1;
            }
            if let Some(i) = self.out[start..].find(pat) {
                return start + i + pat.len();
            }
            scanned = self.out.len();
            if Instant::now() >= until || !self.pump(until) {
                if let Some(i) = self.out[start..].find(pat) {
                    return start + i + pat.len();
                }
                let tail = self.out.len().saturating_sub(64 * 1024);
                let mut tail_at = tail;
                while !self.out.is_char_boundary(tail_at) {
                    tail_at += 1;
                }
                panic!(
                    "timed out waiting for {pat:?}; output so far (last 64 KiB):\n{}",
                    &self.out[tail_at..]
                );
            }
        }
    }

    pub fn expect(&mut self, pat: &str, secs: u64) -> usize {
        self.expect_from(0, pat, secs)
    }

    /// Type text at the console, a few bytes at a time as a person would.
    pub fn type_str(&mut self, s: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        for chunk in s.as_bytes().chunks(8) {
            stdin.write_all(chunk).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Wait until the guest has printed nothing for `ms` milliseconds (at most `max_s` s).
    pub fn quiet(&mut self, ms: u64, max_s: u64) {
        let end = Instant::now() + Duration::from_secs(max_s);
        while Instant::now() < end {
            if !self.pump(Instant::now() + Duration::from_millis(ms)) {
                return;
            }
        }
    }

    /// Send bytes in one burst (a paste).
    pub fn paste(&mut self, s: &str) {
        self.paste_bytes(s.as_bytes());
    }

    /// Send raw bytes in one burst, reading the guest's output meanwhile so that neither
    /// side's pipe fills while the other waits.
    pub fn paste_bytes(&mut self, b: &[u8]) {
        for chunk in b.chunks(4096) {
            let stdin = self.stdin.as_mut().expect("stdin open");
            // A guest that stops draining its UART stops QEMU reading stdin: the write then
            // blocks until QEMU's time limit ends it.
            let sent = stdin.write_all(chunk).and_then(|_| stdin.flush());
            assert!(
                sent.is_ok(),
                "console input stalled (QEMU stopped reading: the guest no longer drains its UART)"
            );
            while let Ok(b) = self.rx.try_recv() {
                self.out.push_str(&String::from_utf8_lossy(&b));
            }
        }
    }

    /// Wait for QEMU to exit; returns (exit code, full output).
    pub fn finish(mut self, secs: u64) -> (i32, String) {
        self.stdin.take();
        let until = Instant::now() + Duration::from_secs(secs);
        while self.pump(until) {}
        let code = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st.code().unwrap_or(-1);
            }
            if Instant::now() >= until {
                let _ = self.child.kill();
                break -1;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        while let Ok(b) = self.rx.try_recv() {
            self.out.push_str(&String::from_utf8_lossy(&b));
        }
        (code, std::mem::take(&mut self.out))
    }
}

/// What the system holds at a shell prompt beyond its tasks: pages (the kernel's own and
/// the shared-memory objects') and open file descriptions. A test that ends with more than
/// it began with leaked something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub pages: u64,
    pub files: u64,
}

impl Qemu {
    /// Type `free` at the prompt and read what is held.
    pub fn held(&mut self) -> Held {
        let at = self.out.len();
        self.type_str("free\r");
        let start = self.expect_from(at, "Tasks hold ", 20);
        let end = self.expect_from(start, "nsh> ", 20);
        let text = self.out[at..end].to_string();
        let field = |label: &str, col: usize| -> u64 {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no {label} line in {text:?}"));
            line.split_whitespace()
                .filter_map(|w| w.parse().ok())
                .nth(col)
                .unwrap_or_else(|| panic!("no number {col} in {line:?}"))
        };
        Held {
            pages: field("Pages:", 1) - field("Tasks hold", 0),
            files: field("Files:", 1),
        }
    }

    /// Wait for the system to settle (exits torn down, the log quiet), then check that it
    /// holds what it held at `base`.
    pub fn assert_held(&mut self, base: Held) {
        let mut now = self.held();
        for _ in 0..20 {
            if now == base {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
            now = self.held();
        }
        panic!("held {now:?} after the test, {base:?} before");
    }
}

impl Drop for Qemu {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parse `ostest: N passed, M failed`.
pub fn ostest_summary(out: &str) -> Option<(u32, u32)> {
    let line = out.lines().find(|l| l.starts_with("ostest: "))?;
    let mut nums = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty());
    Some((nums.next()?.parse().ok()?, nums.next()?.parse().ok()?))
}

/// Boot with --test and check the verdict: every case passed and QEMU exited 0.
pub fn run_ostest(args: &[&str]) -> String {
    let mut a = vec!["--test"];
    a.extend_from_slice(args);
    let q = Qemu::boot(&a, 240);
    let (code, out) = q.finish(250);
    let (pass, fail) = ostest_summary(&out).unwrap_or_else(|| panic!("no ostest summary:\n{out}"));
    assert!(
        pass > 0 && fail == 0,
        "ostest: {pass} passed, {fail} failed\n{out}"
    );
    assert_eq!(code, 0, "exit status\n{out}");
    out
}
