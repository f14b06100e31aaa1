//! Boots the real image under QEMU (through `qemu-run.sh --no-build`) and talks to it over the
//! serial console, as a person at the terminal would.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub struct Qemu {
    child: Child,
    stdin: Option<ChildStdin>,
    rx: Receiver<Vec<u8>>,
    /// Everything the guest printed so far.
    pub out: String,
}

impl Qemu {
    /// Boot with `qemu-run.sh --no-build ARGS`, killed after `timeout_s`.
    pub fn boot(args: &[&str], timeout_s: u32) -> Qemu {
        let root = root();
        assert!(
            root.join("out/nx-rtos.elf").exists(),
            "no image: build it with ./qemu-run.sh --build-only (./test.sh does)"
        );
        let t = timeout_s.to_string();
        let mut child = Command::new(root.join("qemu-run.sh"))
            .arg("--no-build")
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
    pub fn expect_from(&mut self, from: usize, pat: &str, secs: u64) -> usize {
        let until = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(i) = self.out[from.min(self.out.len())..].find(pat) {
                return from + i + pat.len();
            }
            if Instant::now() >= until || !self.pump(until) {
                if let Some(i) = self.out[from.min(self.out.len())..].find(pat) {
                    return from + i + pat.len();
                }
                panic!(
                    "timed out waiting for {pat:?}; output so far:\n{}",
                    self.out
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

    /// Send bytes in one burst (a paste).
    pub fn paste(&mut self, s: &str) {
        let stdin = self.stdin.as_mut().expect("stdin open");
        stdin.write_all(s.as_bytes()).unwrap();
        stdin.flush().unwrap();
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
