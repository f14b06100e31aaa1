//! nsh: the serial console shell. Line editing and history (`shell::edit`), builtins for the
//! system (ps, free, kill, dmesg, ...), programs from the rom file system in the foreground
//! (Ctrl-C interrupts them) or in the background with `&`.
#![no_std]
#![no_main]
extern crate alloc;

use abi::sys::{self as k, state, wexitstatus, wifexited, wtermsig};
use abi::Errno;
use core::sync::atomic::{AtomicBool, Ordering};
use heapless::Vec;
use ulib::shell::edit::{Editor, Event};
use ulib::shell::parse;
use ulib::util::{fail, parse_int};
use ulib::{print, println, sys};

const PROMPT: &str = "nsh> ";

/// Ctrl-C while the shell itself is in the foreground arrives as SIGINT. The handler notes it;
/// the blocking call the shell was in (read, sleep, wait) returns EINTR, and a Ctrl-C that
/// came while the shell was busy is seen at its next read.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_sig: i32) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}
const MAX_JOBS: usize = 16;

struct Shell {
    ed: Editor,
    /// Exit status of the last command (`$?`).
    status: i32,
    jobs: Vec<i32, MAX_JOBS>,
    /// Background jobs reaped at a prompt, so `wait PID` can still give their status.
    done: heapless::Deque<(i32, i32), MAX_JOBS>,
    /// Input read but not yet fed to the editor (a paste may hold several lines).
    pending: Vec<u8, 256>,
}

/// Shell-style status: the exit code, or 128 + the signal that ended the program.
fn shell_status(st: i32) -> i32 {
    if wifexited(st) {
        wexitstatus(st)
    } else {
        128 + wtermsig(st)
    }
}

fn echo(b: &[u8]) {
    let _ = sys::write(1, b);
}

const BUILTINS: &[(&str, &str)] = &[
    ("help", "this list"),
    ("echo WORDS", "print the words"),
    ("ls", "programs in the rom file system"),
    ("ps", "tasks: pid, ppid, priority, state, pages, name"),
    ("free", "memory pages and kernel heap"),
    ("uptime", "time since boot"),
    ("kill PID [SIG]", "end a task (default SIGTERM)"),
    ("sleep N", "wait N seconds (decimals allowed)"),
    ("wait [PID]", "wait for a background job (all when no PID)"),
    ("dmesg", "the kernel log"),
    ("poweroff [CODE]", "power off (PSCI)"),
    ("reboot", "restart (PSCI)"),
    ("exit", "leave the shell (init starts a new one)"),
    (
        "PROG ARGS [&]",
        "run a program; & runs it in the background",
    ),
];

impl Shell {
    /// Next input byte, blocking.
    fn byte(&mut self) -> u8 {
        loop {
            // Ctrl-C at the prompt: the editor treats it as the ^C key.
            if INTERRUPTED.swap(false, Ordering::Relaxed) {
                self.pending.clear();
                return 0x03;
            }
            if !self.pending.is_empty() {
                return self.pending.remove(0);
            }
            let mut buf = [0u8; 64];
            // EINTR (Ctrl-C) is seen through INTERRUPTED at the top of the loop.
            if let Ok(n) = sys::read(0, &mut buf) {
                let _ = self.pending.extend_from_slice(&buf[..n]);
            }
        }
    }

    fn read_line(&mut self) -> Option<alloc::string::String> {
        loop {
            let b = self.byte();
            match self.ed.feed(b, &mut echo) {
                Event::Line => {
                    return Some(alloc::string::String::from_utf8_lossy(self.ed.line()).into());
                }
                Event::Interrupt => {
                    self.status = 130;
                    return None;
                }
                Event::Eof | Event::None => {}
            }
        }
    }

    fn reap_jobs(&mut self) {
        let mut i = 0;
        while i < self.jobs.len() {
            let pid = self.jobs[i];
            match sys::wait(pid, k::WNOHANG) {
                Ok((0, _)) => i += 1,
                Ok((_, st)) => {
                    report_job(pid, st);
                    self.jobs.swap_remove(i);
                    if self.done.is_full() {
                        self.done.pop_front();
                    }
                    let _ = self.done.push_back((pid, st));
                }
                Err(_) => {
                    self.jobs.swap_remove(i);
                }
            }
        }
    }

    fn run(&mut self, line: &str) {
        let cmd = match parse::parse(line, self.status) {
            Ok(c) => c,
            Err(e) => {
                println!("nsh: {}", e.text());
                self.status = 2;
                return;
            }
        };
        if cmd.is_empty() {
            return;
        }
        let w = cmd.words();
        self.status = match w[0] {
            "help" => help(),
            "echo" => {
                let mut first = true;
                for a in &w[1..] {
                    if !first {
                        print!(" ");
                    }
                    print!("{}", a);
                    first = false;
                }
                println!();
                0
            }
            "ls" => ls(),
            "ps" => ps(),
            "free" => free(),
            "uptime" => uptime(),
            "kill" => kill(&w[1..]),
            "sleep" => sleep(&w[1..]),
            "wait" => self.wait(&w[1..]),
            "dmesg" => dmesg(),
            "poweroff" => {
                let code = w.get(1).and_then(|s| parse_int(s)).unwrap_or(0) as i32;
                match sys::poweroff(code) {
                    Ok(()) => 0,
                    Err(e) => fail("poweroff", format_args!("power off"), e),
                }
            }
            "reboot" => match sys::reboot() {
                Ok(()) => 0,
                Err(e) => fail("reboot", format_args!("restart"), e),
            },
            "exit" => sys::exit(w.get(1).and_then(|s| parse_int(s)).unwrap_or(0) as i32),
            prog => self.exec(prog, &w[1..], cmd.background),
        };
    }

    fn exec(&mut self, prog: &str, args: &[&str], background: bool) -> i32 {
        let pid = match sys::spawn(prog, args) {
            Ok(p) => p,
            Err(Errno::ENOENT) => {
                println!("nsh: {}: command not found", prog);
                return 127;
            }
            Err(e) => return fail("nsh", format_args!("{}", prog), e),
        };
        if background {
            if self.jobs.push(pid).is_err() {
                println!("nsh: too many jobs; {} not tracked", pid);
            }
            println!("[{}]", pid);
            return 0;
        }
        let _ = sys::set_foreground(pid);
        let r = sys::wait(pid, 0);
        // Back to the shell: a later Ctrl-C interrupts the shell's own waiting.
        let _ = sys::set_foreground(sys::getpid());
        match r {
            Ok((_, st)) => shell_status(st),
            Err(e) => fail("nsh", format_args!("wait {}", pid), e),
        }
    }

    fn wait(&mut self, args: &[&str]) -> i32 {
        let targets: Vec<i32, MAX_JOBS> = match args.first() {
            Some(a) => match parse_int(a) {
                Some(p) => Vec::from_slice(&[p as i32]).unwrap_or_default(),
                None => {
                    println!("wait: {}: not a pid", a);
                    return 2;
                }
            },
            None => self.jobs.clone(),
        };
        let mut status = 0;
        for pid in targets {
            if let Some(&(_, st)) = self.done.iter().find(|(p, _)| *p == pid) {
                status = shell_status(st);
                continue;
            }
            match sys::wait(pid, 0) {
                Ok((_, st)) => status = shell_status(st),
                Err(Errno::EINTR) => return interrupted(),
                Err(e) => status = fail("wait", format_args!("{}", pid), e) + 126,
            }
            if let Some(i) = self.jobs.iter().position(|&j| j == pid) {
                self.jobs.swap_remove(i);
            }
        }
        status
    }
}

fn report_job(pid: i32, st: i32) {
    if wifexited(st) {
        println!("[{}] done, exit status {}", pid, wexitstatus(st));
    } else {
        println!("[{}] killed by signal {}", pid, wtermsig(st));
    }
}

fn help() -> i32 {
    println!("Builtins:");
    for (cmd, what) in BUILTINS {
        println!("  {:<16} {}", cmd, what);
    }
    print!("Programs:");
    for_each_program(|name| print!(" {}", name));
    println!();
    println!("Keys: Left/Right, Home/End, Up/Down (history), Backspace, Ctrl-U, Ctrl-C");
    0
}

/// Call `f` with the name of every program in the rom file system.
fn for_each_program(mut f: impl FnMut(&str)) {
    let mut name = [0u8; 64];
    let mut i = 0;
    while let Some(n) = sys::romfs_name(i, &mut name) {
        f(core::str::from_utf8(&name[..n.min(64)]).unwrap_or("?"));
        i += 1;
    }
}

fn ls() -> i32 {
    for_each_program(|name| println!("{}", name));
    0
}

fn ps() -> i32 {
    println!("  PID  PPID  PRI STATE     PAGES NAME");
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        let st = match t.state {
            state::RUNNING => "running",
            state::READY => "ready",
            state::SLEEPING => "sleeping",
            state::BLOCKED => "blocked",
            state::WAITING => "waiting",
            state::ZOMBIE => "zombie",
            state::EXITING => "exiting",
            _ => "?",
        };
        let n = t.name.iter().position(|&b| b == 0).unwrap_or(t.name.len());
        println!(
            "{:5} {:5} {:4} {:<8} {:6} {}",
            t.pid,
            t.ppid,
            t.priority,
            st,
            t.pages,
            core::str::from_utf8(&t.name[..n]).unwrap_or("?")
        );
        i = next;
    }
    0
}

fn free() -> i32 {
    let m = sys::meminfo();
    println!("            total       used       free");
    println!(
        "Pages: {:10} {:10} {:10}   ({} KiB pages)",
        m.pages_total,
        m.pages_used,
        m.pages_free,
        m.page_size / 1024
    );
    println!(
        "Heap:  {:10} {:10} {:10}   (kernel heap, bytes)",
        m.heap_total,
        m.heap_used,
        m.heap_total - m.heap_used
    );
    0
}

fn uptime() -> i32 {
    let ns = sys::meminfo().uptime_ns;
    let s = ns / 1_000_000_000;
    println!(
        "up {}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        ns / 1_000_000 % 1000
    );
    0
}

fn kill(args: &[&str]) -> i32 {
    let Some(pid) = args.first().and_then(|a| parse_int(a)) else {
        println!("usage: kill PID [SIGNAL]");
        return 2;
    };
    let sig = match args.get(1) {
        None => k::SIGTERM,
        Some(s) => match parse_int(s.trim_start_matches('-')) {
            Some(v) => v as usize,
            None => {
                println!("kill: {}: not a signal number", s);
                return 2;
            }
        },
    };
    match sys::kill(pid as i32, sig) {
        Ok(()) => 0,
        Err(e) => fail("kill", format_args!("{}", pid), e),
    }
}

fn sleep(args: &[&str]) -> i32 {
    let Some(a) = args.first() else {
        println!("usage: sleep SECONDS");
        return 2;
    };
    let (int, frac) = a.split_once('.').unwrap_or((a, ""));
    let secs: Option<u64> = int.parse().ok();
    let mut ns: u64 = 0;
    let mut scale = 100_000_000;
    for c in frac.chars().take(9) {
        match c.to_digit(10) {
            Some(d) => ns += d as u64 * scale,
            None => {
                println!("sleep: {}: not a number", a);
                return 2;
            }
        }
        scale /= 10;
    }
    let Some(secs) = secs else {
        println!("sleep: {}: not a number", a);
        return 2;
    };
    match sys::sleep_ns(secs.saturating_mul(1_000_000_000).saturating_add(ns)) {
        Ok(()) => 0,
        Err(Errno::EINTR) => interrupted(),
        Err(e) => fail("sleep", format_args!("{}", a), e),
    }
}

/// A builtin cut short by Ctrl-C: the shell's way of saying so, and status 130.
fn interrupted() -> i32 {
    INTERRUPTED.store(false, Ordering::Relaxed);
    println!("^C");
    130
}

fn dmesg() -> i32 {
    let mut buf = alloc::vec![0u8; 16 * 1024];
    match sys::syslog(&mut buf) {
        Ok(n) => {
            let _ = sys::write(1, &buf[..n]);
            0
        }
        Err(e) => fail("dmesg", format_args!("read the log"), e),
    }
}

fn main(_args: &[&str]) -> i32 {
    // The shell leads a session of its own with the console as its controlling terminal:
    // that makes it the process allowed to choose the foreground (TIOCSPGRP).
    let _ = sys::setsid();
    if let Err(e) = sys::take_console(true) {
        fail("nsh", format_args!("take the console"), e);
    }
    if let Err(e) = sys::sigaction(k::SIGINT, sys::Handler::Catch(on_sigint), 0, 0) {
        fail("nsh", format_args!("catch SIGINT"), e);
    }
    let _ = sys::set_foreground(sys::getpid());
    let mut sh = Shell {
        ed: Editor::new(),
        status: 0,
        jobs: Vec::new(),
        done: heapless::Deque::new(),
        pending: Vec::new(),
    };
    loop {
        sh.reap_jobs();
        print!("{}", PROMPT);
        if let Some(line) = sh.read_line() {
            sh.run(&line);
        }
    }
}
ulib::entry!(main);
