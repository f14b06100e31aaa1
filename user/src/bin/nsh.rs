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
    (
        "ls [-l] [PATH...]",
        "list directories (mode, links, owner, group, size with -l)",
    ),
    ("cat FILE...", "print files"),
    (
        "xd FILE [LEN]",
        "hex dump of a file's first LEN bytes (default 4096)",
    ),
    ("rm PATH...", "remove files"),
    ("cd [DIR]", "change the working directory (default /)"),
    ("pwd", "print the working directory"),
    ("uname [-a]", "the system's name"),
    ("date", "the date and time (UTC)"),
    ("ps", "tasks: pid, ppid, priority, state, pages, name"),
    ("free", "memory pages and kernel heap"),
    ("uptime", "time since boot"),
    ("kill PID [SIG]", "end a task (default SIGTERM)"),
    ("sleep N", "wait N seconds (decimals allowed)"),
    ("wait [PID]", "wait for a background job (all when no PID)"),
    ("dmesg", "the kernel log"),
    ("poweroff [CODE]", "power the board off"),
    ("reboot", "restart the board"),
    ("exit", "leave the shell (init starts a new one)"),
    (
        "PROG ARGS [&]",
        "run a program; & runs it in the background",
    ),
    (
        "CMD <F >F >>F 2>F",
        "redirect input, output (>> appends) or errors",
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
        let Some(redir) = Redirect::open(&cmd) else {
            self.status = 1;
            return;
        };
        let w = cmd.words();
        if w.is_empty() {
            // Only redirections (`> FILE`): the files are opened (and closed) and that is all.
            redir.close();
            self.status = 0;
            return;
        }
        if !is_builtin(w[0]) {
            self.status = self.exec(w[0], &w[1..], cmd.background, &redir);
            redir.close();
            return;
        }
        let saved = redir.apply();
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
            "ls" => ls(&w[1..]),
            "cat" => cat(&w[1..]),
            "xd" => xd(&w[1..]),
            "cd" => cd(&w[1..]),
            "rm" => rm(&w[1..]),
            "pwd" => pwd(),
            "uname" => uname(&w[1..]),
            "date" => date(),
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
            _ => unreachable!("builtins only"),
        };
        redir.restore(saved);
    }

    fn exec(&mut self, prog: &str, args: &[&str], background: bool, redir: &Redirect) -> i32 {
        let pid = match sys::spawn_actions(prog, args, &redir.actions()) {
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

/// The builtins (what `run` handles itself rather than spawning).
fn is_builtin(w: &str) -> bool {
    matches!(
        w,
        "help"
            | "echo"
            | "ls"
            | "cat"
            | "xd"
            | "cd"
            | "rm"
            | "pwd"
            | "uname"
            | "date"
            | "ps"
            | "free"
            | "uptime"
            | "kill"
            | "sleep"
            | "wait"
            | "dmesg"
            | "poweroff"
            | "reboot"
            | "exit"
    )
}

/// A command's redirections, opened: (the descriptor it replaces, the shell's descriptor
/// open on the file, FD_CLOEXEC so no child inherits it by accident).
struct Redirect(Vec<(usize, usize), 8>);

impl Redirect {
    /// Open every file, or print why one cannot be and close the others.
    fn open(cmd: &parse::Command) -> Option<Redirect> {
        use abi::fcntl::*;
        let mut r = Redirect(Vec::new());
        for (fd, how, name) in cmd.redirections() {
            let flags = O_CLOEXEC
                | match how {
                    parse::Redir::In => O_RDONLY,
                    parse::Redir::Out => O_WRONLY | O_CREAT | O_TRUNC,
                    parse::Redir::Append => O_WRONLY | O_CREAT | O_APPEND,
                };
            match sys::open(name, flags) {
                Ok(f) => {
                    let _ = r.0.push((fd as usize, f));
                }
                Err(e) => {
                    println!("nsh: {}: {}", name, e.text());
                    r.close();
                    return None;
                }
            }
        }
        Some(r)
    }

    /// The spawn actions that give a child these files.
    fn actions(&self) -> Vec<k::SpawnAction, 8> {
        self.0
            .iter()
            .map(|&(fd, f)| k::SpawnAction {
                fd: f as i32,
                newfd: fd as i32,
            })
            .collect()
    }

    /// Put the files in place for a builtin; returns the shell's own descriptors, saved.
    fn apply(&self) -> Vec<(usize, Option<usize>), 8> {
        let mut saved = Vec::new();
        for &(fd, f) in &self.0 {
            let keep = sys::fcntl(fd, abi::fcntl::F_DUPFD_CLOEXEC, 10).ok();
            let _ = saved.push((fd, keep));
            let _ = sys::dup3(f, fd, 0);
        }
        saved
    }

    /// Put the shell's descriptors back after a builtin, and close the files.
    fn restore(self, saved: Vec<(usize, Option<usize>), 8>) {
        for (fd, keep) in saved.into_iter().rev() {
            match keep {
                Some(k) => {
                    let _ = sys::dup3(k, fd, 0);
                    let _ = sys::close(k);
                }
                None => {
                    let _ = sys::close(fd);
                }
            }
        }
        self.close();
    }

    fn close(self) {
        for (_, f) in self.0 {
            let _ = sys::close(f);
        }
    }
}

/// What `ls -l` and coreutils print for a mode: type letter and rwx triplets.
fn mode_text(mode: u32) -> heapless::String<10> {
    use abi::stat::*;
    let mut s = heapless::String::new();
    let _ = s.push(match mode & S_IFMT {
        S_IFDIR => 'd',
        S_IFCHR => 'c',
        S_IFIFO => 'p',
        _ => '-',
    });
    for shift in [6, 3, 0] {
        let b = (mode >> shift) & 7;
        let _ = s.push(if b & 4 != 0 { 'r' } else { '-' });
        let _ = s.push(if b & 2 != 0 { 'w' } else { '-' });
        let x = b & 1 != 0;
        // The sticky bit shows in the others' x place, as `t` (or `T` without x).
        let _ = s.push(match (shift, mode & 0o1000 != 0, x) {
            (0, true, true) => 't',
            (0, true, false) => 'T',
            (_, _, true) => 'x',
            _ => '-',
        });
    }
    s
}

fn owner(id: u32) -> heapless::String<12> {
    let mut s = heapless::String::new();
    if id == 0 {
        let _ = s.push_str("root");
    } else {
        let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{}", id));
    }
    s
}

/// One `ls -l` line.
fn ls_long(st: &abi::stat::Stat, name: &str) {
    let size: heapless::String<24> = if st.st_mode & abi::stat::S_IFMT == abi::stat::S_IFCHR {
        let (maj, min) = (
            (st.st_rdev >> 8) & 0xfff,
            (st.st_rdev & 0xff) | ((st.st_rdev >> 12) & !0xff),
        );
        let mut s = heapless::String::new();
        let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{}, {}", maj, min));
        s
    } else {
        let mut s = heapless::String::new();
        let _ = core::fmt::Write::write_fmt(&mut s, format_args!("{}", st.st_size));
        s
    };
    println!(
        "{} {} {} {} {:>8} {}",
        mode_text(st.st_mode),
        st.st_nlink,
        owner(st.st_uid),
        owner(st.st_gid),
        size,
        name
    );
}

/// `ls [-l] [PATH...]`: a directory's names (not `.` and `..`), a file's own name.
fn ls(args: &[&str]) -> i32 {
    let long = args.first() == Some(&"-l");
    let paths: &[&str] = if long { &args[1..] } else { args };
    let paths: &[&str] = if paths.is_empty() { &["."] } else { paths };
    let mut status = 0;
    for (n, p) in paths.iter().enumerate() {
        let st = match sys::stat(p) {
            Ok(st) => st,
            Err(e) => {
                println!("ls: cannot access '{}': {}", p, e.text());
                status = 2;
                continue;
            }
        };
        if st.st_mode & abi::stat::S_IFMT != abi::stat::S_IFDIR {
            if long {
                ls_long(&st, p);
            } else {
                println!("{}", p);
            }
            continue;
        }
        if paths.len() > 1 {
            println!("{}{}:", if n > 0 { "\n" } else { "" }, p);
        }
        if let Err(e) = ls_dir(p, long) {
            println!("ls: cannot open directory '{}': {}", p, e.text());
            status = 2;
        }
    }
    status
}

fn ls_dir(dir: &str, long: bool) -> Result<(), Errno> {
    use abi::fcntl::*;
    let fd = sys::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)?;
    let mut buf = [0u8; 1024];
    loop {
        let n = match sys::getdents64(fd, &mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) => {
                let _ = sys::close(fd);
                return Err(e);
            }
        };
        let mut off = 0;
        while off + 19 <= n {
            let len = u16::from_le_bytes([buf[off + 16], buf[off + 17]]) as usize;
            let raw = &buf[off + 19..(off + len).min(n)];
            let end = raw.iter().position(|&c| c == 0).unwrap_or(raw.len());
            let name = core::str::from_utf8(&raw[..end]).unwrap_or("?");
            off += len.max(1);
            if name == "." || name == ".." {
                continue;
            }
            if !long {
                println!("{}", name);
                continue;
            }
            let mut path: heapless::String<512> = heapless::String::new();
            let _ = core::fmt::Write::write_fmt(&mut path, format_args!("{}/{}", dir, name));
            match sys::stat(&path) {
                Ok(st) => ls_long(&st, name),
                Err(e) => println!("ls: cannot access '{}': {}", path, e.text()),
            }
        }
    }
    let _ = sys::close(fd);
    Ok(())
}

/// `cat FILE...` (standard input when none).
fn cat(args: &[&str]) -> i32 {
    let mut status = 0;
    let stdin: &[&str] = &["-"];
    for p in if args.is_empty() { stdin } else { args } {
        let fd = if *p == "-" {
            0
        } else {
            match sys::open(p, abi::fcntl::O_RDONLY | abi::fcntl::O_CLOEXEC) {
                Ok(fd) => fd,
                Err(e) => {
                    println!("cat: {}: {}", p, e.text());
                    status = 1;
                    continue;
                }
            }
        };
        let mut buf = [0u8; 512];
        loop {
            match sys::read(fd, &mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let _ = sys::write(1, &buf[..n]);
                }
                Err(e) => {
                    println!("cat: {}: {}", p, e.text());
                    status = 1;
                    break;
                }
            }
        }
        if fd != 0 {
            let _ = sys::close(fd);
        }
    }
    status
}

/// `xd FILE [LEN]`: offset, sixteen bytes in hex, the same as text (NSH's `xd` layout), for
/// the first LEN bytes (default 4096: `/dev/zero` never ends).
fn xd(args: &[&str]) -> i32 {
    let Some(p) = args.first() else {
        println!("usage: xd FILE [LEN]");
        return 2;
    };
    let limit = match args.get(1).map(|a| ulib::util::parse_size(a)) {
        None => 4096,
        Some(Some(n)) => n,
        Some(None) => {
            println!("xd: {}: not a length", args[1]);
            return 2;
        }
    };
    let fd = match sys::open(p, abi::fcntl::O_RDONLY | abi::fcntl::O_CLOEXEC) {
        Ok(fd) => fd,
        Err(e) => {
            println!("xd: {}: {}", p, e.text());
            return 1;
        }
    };
    let mut off = 0usize;
    let mut line = [0u8; 16];
    let mut status = 0;
    while off < limit {
        let mut got = 0;
        let want = (limit - off).min(16);
        while got < want {
            match sys::read(fd, &mut line[got..want]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) => {
                    println!("xd: {}: {}", p, e.text());
                    status = 1;
                    break;
                }
            }
        }
        if got == 0 {
            break;
        }
        print!("{:08x}:", off);
        for (i, b) in line.iter().enumerate() {
            if i < got {
                print!(" {:02x}", b);
            } else {
                print!("   ");
            }
        }
        print!("  ");
        for &b in &line[..got] {
            print!("{}", ulib::util::printable(b));
        }
        println!();
        off += got;
        if got < want || status != 0 {
            break;
        }
    }
    let _ = sys::close(fd);
    status
}

/// `rm PATH...`, with coreutils' messages.
fn rm(args: &[&str]) -> i32 {
    if args.is_empty() {
        println!("rm: missing operand");
        return 1;
    }
    let mut status = 0;
    for p in args {
        if let Err(e) = sys::unlink(p) {
            println!("rm: cannot remove '{}': {}", p, e.text());
            status = 1;
        }
    }
    status
}

fn cd(args: &[&str]) -> i32 {
    let dir = args.first().copied().unwrap_or("/");
    match sys::chdir(dir) {
        Ok(()) => 0,
        Err(e) => {
            println!("cd: {}: {}", dir, e.text());
            1
        }
    }
}

fn pwd() -> i32 {
    let mut buf = [0u8; 256];
    match sys::getcwd(&mut buf) {
        Ok(n) => {
            println!("{}", core::str::from_utf8(&buf[..n]).unwrap_or("?"));
            0
        }
        Err(e) => {
            println!("pwd: {}", e.text());
            1
        }
    }
}

/// `uname [-a]`: system name; with -a also node, release, version and machine, as Linux's.
fn uname(args: &[&str]) -> i32 {
    if args.first() == Some(&"-a") {
        println!("nx-rtos nx {} #1 aarch64", env!("CARGO_PKG_VERSION"));
    } else {
        println!("nx-rtos");
    }
    0
}

/// `date`: the wall clock in UTC, as `date` prints it (`ctime` with the zone before the year).
fn date() -> i32 {
    let c = ulib::util::ctime(sys::time());
    match c.rsplit_once(' ') {
        Some((when, year)) => println!("{} UTC {}", when, year),
        None => println!("{}", c),
    }
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
    println!(
        "Files: {:10} {:10} {:10}   (open file descriptions)",
        m.files_max,
        m.files_used,
        m.files_max - m.files_used
    );
    // What the tasks hold (as ps counts it), one bounded call per task: what is used beyond
    // it is the kernel's own and the shared-memory segments'.
    let mut held = 0;
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        held += t.pages;
        i = next;
    }
    println!("Tasks hold {held} pages.");
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
