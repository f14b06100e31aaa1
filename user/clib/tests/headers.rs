//! The C headers (user/clib/include) against `abi`, the one source of truth: every errno,
//! signal, flag and syscall number a C program compiles in must be the kernel's value, and
//! strerror's texts must be abi's.

use abi::Errno;
use std::collections::HashMap;
use std::path::PathBuf;

fn include(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// `#define NAME VALUE` lines of a header (function-like macros left out).
struct Header {
    name: String,
    defs: HashMap<String, String>,
}

impl Header {
    fn read(rel: &str) -> Header {
        let text = std::fs::read_to_string(include(rel)).unwrap();
        let mut defs = HashMap::new();
        for line in text.lines() {
            let Some(rest) = line.trim_start().strip_prefix("#define ") else {
                continue;
            };
            let rest = rest.split("/*").next().unwrap().trim();
            let (name, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if !name.contains('(') {
                defs.insert(name.to_string(), value.trim().to_string());
            }
        }
        Header {
            name: rel.to_string(),
            defs,
        }
    }

    /// The integer a macro expands to: literals (decimal, octal, hex, with U/L suffixes),
    /// casts, parentheses, other macros of the header, `|` and unary `-`/`~`.
    fn value(&self, name: &str) -> i64 {
        let v = self
            .defs
            .get(name)
            .unwrap_or_else(|| panic!("{} does not define {name}", self.name));
        self.eval(v)
            .unwrap_or_else(|| panic!("{}: cannot evaluate {name} = {v}", self.name))
    }

    fn eval(&self, e: &str) -> Option<i64> {
        let mut e = e.trim();
        // Strip a cast such as (char *) or (key_t) and the parentheses around everything.
        loop {
            if let Some(inner) = e.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
                if balanced(inner) {
                    e = inner.trim();
                    continue;
                }
            }
            if let Some(close) = e.find(')') {
                let cast = &e[1..close];
                if e.starts_with('(')
                    && !cast.is_empty()
                    && cast
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '_' || c == ' ' || c == '*')
                    && !cast.chars().all(|c| c.is_ascii_digit())
                    && close + 1 < e.len()
                {
                    e = e[close + 1..].trim();
                    continue;
                }
            }
            break;
        }
        if let Some((a, b)) = split_top(e, '|') {
            return Some(self.eval(a)? | self.eval(b)?);
        }
        if let Some(r) = e.strip_prefix('-') {
            return Some(-self.eval(r)?);
        }
        if let Some(r) = e.strip_prefix('~') {
            return Some(!self.eval(r)?);
        }
        let lit = e.trim_end_matches(['U', 'u', 'L', 'l']);
        let n = if let Some(h) = lit.strip_prefix("0x").or_else(|| lit.strip_prefix("0X")) {
            i64::from_str_radix(h, 16).ok()
        } else if lit.len() > 1 && lit.starts_with('0') {
            i64::from_str_radix(&lit[1..], 8).ok()
        } else {
            lit.parse().ok()
        };
        n.or_else(|| self.defs.get(e).and_then(|v| self.eval(v)))
    }

    fn check(&self, name: &str, want: i64) {
        assert_eq!(self.value(name), want, "{}: {name}", self.name);
    }
}

fn balanced(s: &str) -> bool {
    let mut depth = 0i32;
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return false;
        }
    }
    depth == 0
}

/// Split at the first `op` outside parentheses.
fn split_top(e: &str, op: char) -> Option<(&str, &str)> {
    let mut depth = 0;
    for (i, c) in e.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            c if c == op && depth == 0 => return Some((&e[..i], &e[i + 1..])),
            _ => {}
        }
    }
    None
}

#[test]
fn errno_values_and_texts_are_the_kernels() {
    let h = Header::read("include/errno.h");
    let strerror = std::fs::read_to_string(include("rt/strerror.c")).unwrap();
    let mut known = 0;
    for v in 1..4096 {
        let e = Errno(v);
        if e.name() == "E?" {
            continue;
        }
        known += 1;
        h.check(e.name(), v as i64);
        let case = format!("case {}:\n        return \"{}\";", e.name(), e.text());
        assert!(strerror.contains(&case), "strerror's text for {}", e.name());
    }
    assert!(known > 30);
    h.check("EWOULDBLOCK", Errno::EAGAIN.0 as i64);
    h.check("EHWPOISON", 133);
}

#[test]
fn signals_are_the_kernels() {
    use abi::signal::*;
    let h = Header::read("include/signal.h");
    for (n, v) in [
        ("SIGHUP", SIGHUP),
        ("SIGINT", SIGINT),
        ("SIGQUIT", SIGQUIT),
        ("SIGILL", SIGILL),
        ("SIGTRAP", SIGTRAP),
        ("SIGABRT", SIGABRT),
        ("SIGBUS", SIGBUS),
        ("SIGFPE", SIGFPE),
        ("SIGKILL", SIGKILL),
        ("SIGUSR1", SIGUSR1),
        ("SIGSEGV", SIGSEGV),
        ("SIGUSR2", SIGUSR2),
        ("SIGPIPE", SIGPIPE),
        ("SIGALRM", SIGALRM),
        ("SIGTERM", SIGTERM),
        ("SIGCHLD", SIGCHLD),
        ("SIGCONT", SIGCONT),
        ("SIGSTOP", SIGSTOP),
        ("SIGTSTP", SIGTSTP),
        ("SIGTTIN", SIGTTIN),
        ("SIGTTOU", SIGTTOU),
        ("SIGURG", SIGURG),
        ("SIGWINCH", SIGWINCH),
        ("SIGSYS", SIGSYS),
        ("SIGRTMAX", NSIG),
        ("SIG_BLOCK", SIG_BLOCK),
        ("SIG_UNBLOCK", SIG_UNBLOCK),
        ("SIG_SETMASK", SIG_SETMASK),
    ] {
        h.check(n, v as i64);
    }
    for (n, v) in [
        ("SA_SIGINFO", SA_SIGINFO),
        ("SA_RESTORER", SA_RESTORER),
        ("SA_RESTART", SA_RESTART),
        ("SA_NODEFER", SA_NODEFER),
        ("SA_RESETHAND", SA_RESETHAND),
        ("SI_USER", SI_USER as u64),
        ("SI_KERNEL", SI_KERNEL as u64),
        ("SIG_DFL", SIG_DFL),
        ("SIG_IGN", SIG_IGN),
    ] {
        h.check(n, v as i64);
    }
}

#[test]
fn file_flags_are_the_kernels() {
    use abi::fcntl::*;
    let h = Header::read("include/fcntl.h");
    for (n, v) in [
        ("O_RDONLY", O_RDONLY),
        ("O_WRONLY", O_WRONLY),
        ("O_RDWR", O_RDWR),
        ("O_ACCMODE", O_ACCMODE),
        ("O_CREAT", O_CREAT),
        ("O_EXCL", O_EXCL),
        ("O_NOCTTY", O_NOCTTY),
        ("O_TRUNC", O_TRUNC),
        ("O_APPEND", O_APPEND),
        ("O_NONBLOCK", O_NONBLOCK),
        ("O_DSYNC", O_DSYNC),
        ("O_DIRECTORY", O_DIRECTORY),
        ("O_NOFOLLOW", O_NOFOLLOW),
        ("O_LARGEFILE", O_LARGEFILE),
        ("O_SYNC", O_SYNC),
        ("O_CLOEXEC", O_CLOEXEC),
        ("F_SEAL_SEAL", F_SEAL_SEAL),
        ("F_SEAL_SHRINK", F_SEAL_SHRINK),
        ("F_SEAL_GROW", F_SEAL_GROW),
        ("F_SEAL_WRITE", F_SEAL_WRITE),
        ("F_SEAL_FUTURE_WRITE", F_SEAL_FUTURE_WRITE),
    ] {
        h.check(n, v as i64);
    }
    for (n, v) in [
        ("F_DUPFD", F_DUPFD),
        ("F_GETFD", F_GETFD),
        ("F_SETFD", F_SETFD),
        ("F_GETFL", F_GETFL),
        ("F_SETFL", F_SETFL),
        ("F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC),
        ("F_ADD_SEALS", F_ADD_SEALS),
        ("F_GET_SEALS", F_GET_SEALS),
        ("FD_CLOEXEC", FD_CLOEXEC),
        ("AT_SYMLINK_NOFOLLOW", AT_SYMLINK_NOFOLLOW),
        ("AT_EMPTY_PATH", AT_EMPTY_PATH),
        ("AT_REMOVEDIR", AT_REMOVEDIR),
        ("SEEK_SET", SEEK_SET),
        ("SEEK_CUR", SEEK_CUR),
        ("SEEK_END", SEEK_END),
    ] {
        h.check(n, v as i64);
    }
    h.check("AT_FDCWD", AT_FDCWD as i64);
    let st = Header::read("include/sys/stat.h");
    use abi::stat::*;
    for (n, v) in [
        ("S_IFMT", S_IFMT),
        ("S_IFDIR", S_IFDIR),
        ("S_IFCHR", S_IFCHR),
        ("S_IFREG", S_IFREG),
        ("S_IFIFO", S_IFIFO),
    ] {
        st.check(n, v as i64);
    }
}

#[test]
fn memory_and_shm_values_are_the_kernels() {
    use abi::mman::*;
    let h = Header::read("include/sys/mman.h");
    for (n, v) in [
        ("PROT_NONE", PROT_NONE),
        ("PROT_READ", PROT_READ),
        ("PROT_WRITE", PROT_WRITE),
        ("PROT_EXEC", PROT_EXEC),
        ("MAP_SHARED", MAP_SHARED),
        ("MAP_PRIVATE", MAP_PRIVATE),
        ("MAP_SHARED_VALIDATE", MAP_SHARED_VALIDATE),
        ("MAP_TYPE", MAP_TYPE),
        ("MAP_FIXED", MAP_FIXED),
        ("MAP_ANONYMOUS", MAP_ANONYMOUS),
        ("MAP_NORESERVE", MAP_NORESERVE),
        ("MAP_POPULATE", MAP_POPULATE),
        ("MAP_FIXED_NOREPLACE", MAP_FIXED_NOREPLACE),
        ("MS_ASYNC", MS_ASYNC),
        ("MS_INVALIDATE", MS_INVALIDATE),
        ("MS_SYNC", MS_SYNC),
        ("MADV_NORMAL", MADV_NORMAL),
        ("MADV_RANDOM", MADV_RANDOM),
        ("MADV_SEQUENTIAL", MADV_SEQUENTIAL),
        ("MADV_WILLNEED", MADV_WILLNEED),
        ("MADV_DONTNEED", MADV_DONTNEED),
        ("MFD_CLOEXEC", MFD_CLOEXEC),
        ("MFD_ALLOW_SEALING", MFD_ALLOW_SEALING),
    ] {
        h.check(n, v as i64);
    }
    h.check("SHM_ANON", SHM_ANON as i64);
    h.check("MAP_FAILED", -1);

    use abi::shm::*;
    let ipc = Header::read("include/sys/ipc.h");
    for (n, v) in [
        ("IPC_PRIVATE", IPC_PRIVATE),
        ("IPC_CREAT", IPC_CREAT),
        ("IPC_EXCL", IPC_EXCL),
        ("IPC_NOWAIT", IPC_NOWAIT),
        ("IPC_RMID", IPC_RMID),
        ("IPC_SET", IPC_SET),
        ("IPC_STAT", IPC_STAT),
        ("IPC_INFO", IPC_INFO),
        ("IPC_64", IPC_64),
    ] {
        ipc.check(n, v as i64);
    }
    let shm = Header::read("include/sys/shm.h");
    for (n, v) in [
        ("SHM_RDONLY", SHM_RDONLY),
        ("SHM_RND", SHM_RND),
        ("SHM_STAT", SHM_STAT),
        ("SHM_INFO", SHM_INFO),
        ("SHM_R", SHM_R),
        ("SHM_W", SHM_W),
        ("SHMLBA", SHMLBA as i32),
        ("SHM_DEST", SHM_DEST as i32),
    ] {
        shm.check(n, v as i64);
    }
}

#[test]
fn syscall_numbers_are_the_kernels() {
    // Every number of abi::sys::nr, read from its source.
    let src = std::fs::read_to_string(include("../../abi/src/sys.rs")).unwrap();
    let module = src.split("pub mod nr {").nth(1).unwrap();
    let module = module.split("\n}").next().unwrap();
    let h = Header::read("include/sys/syscall.h");
    let mut n = 0;
    for line in module.lines() {
        let Some(rest) = line.trim().strip_prefix("pub const ") else {
            continue;
        };
        let (name, value) = rest.split_once(": usize = ").unwrap();
        let value: i64 = value.trim_end_matches(';').parse().unwrap();
        h.check(&format!("SYS_{}", name.to_lowercase()), value);
        h.check(&format!("__NR_{}", name.to_lowercase()), value);
        n += 1;
    }
    assert!(n > 60, "only {n} numbers in abi::sys::nr?");
    assert_eq!(h.value("SYS_read"), abi::sys::nr::READ as i64);
    assert_eq!(h.value("SYS_spawn"), abi::sys::nr::SPAWN as i64);
}

#[test]
fn futex_time_wait_ioctl_values_are_the_kernels() {
    use abi::sys::*;
    let f = Header::read("include/linux/futex.h");
    for (n, v) in [
        ("FUTEX_WAIT", FUTEX_WAIT as i64),
        ("FUTEX_WAKE", FUTEX_WAKE as i64),
        ("FUTEX_PRIVATE_FLAG", FUTEX_PRIVATE_FLAG as i64),
        ("FUTEX_CLOCK_REALTIME", FUTEX_CLOCK_REALTIME as i64),
        ("FUTEX_WAITERS", FUTEX_WAITERS as i64),
        ("FUTEX_OWNER_DIED", FUTEX_OWNER_DIED as i64),
        ("FUTEX_TID_MASK", FUTEX_TID_MASK as i64),
        ("FUTEX2_SIZE_U32", FUTEX2_SIZE_U32 as i64),
        ("FUTEX2_PRIVATE", FUTEX2_PRIVATE as i64),
        ("FUTEX_WAITV_MAX", FUTEX_WAITV_MAX as i64),
        ("ROBUST_LIST_LIMIT", ROBUST_LIST_LIMIT as i64),
    ] {
        f.check(n, v);
    }
    let t = Header::read("include/time.h");
    t.check("CLOCK_REALTIME", CLOCK_REALTIME as i64);
    t.check("CLOCK_MONOTONIC", CLOCK_MONOTONIC as i64);
    t.check("TIMER_ABSTIME", TIMER_ABSTIME as i64);
    Header::read("include/sys/wait.h").check("WNOHANG", WNOHANG as i64);
    let io = Header::read("include/sys/ioctl.h");
    io.check("TIOCGPGRP", TIOCGPGRP as i64);
    io.check("TIOCSPGRP", TIOCSPGRP as i64);
    io.check("TIOCSCTTY", TIOCSCTTY as i64);
    let l4 = Header::read("include/l4shmc.h");
    l4.check("L4SHMC_NAME_SIZE", shmchan::NAME_MAX as i64);
    l4.check(
        "L4SHMC_TIMEOUT_NEVER",
        shmchan::c::L4SHMC_TIMEOUT_NEVER as i64,
    );
}
