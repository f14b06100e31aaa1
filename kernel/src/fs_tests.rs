//! Host tests of the file layer: descriptor table, descriptions, dup/fcntl, pipe flags.

use crate::fs::file::{MAX_FDS, MAX_FILES};
use crate::tests::{Sys, SCRATCH};
use abi::fcntl::*;
use abi::sys::{self, nr};
use abi::Errno;

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

/// One process (pid 1) with 0, 1, 2 on the console, running.
fn one() -> Sys {
    let mut s = Sys::new();
    s.k.spawn("prog", b"prog\0", None).unwrap();
    s.run();
    s
}

/// pipe2 into SCRATCH: (read end, write end).
fn pipe(s: &mut Sys, flags: u32) -> (usize, usize) {
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, flags as usize]), 0);
    let pair: u64 = s.get(SCRATCH);
    ((pair & 0xffff_ffff) as usize, (pair >> 32) as usize)
}

#[test]
fn descriptors_are_the_lowest_free_and_dup_shares_the_description() {
    let mut s = one();
    let base = s.k.files.used();
    assert_eq!(base, 1, "0, 1 and 2 share one console description");
    let (r, w) = pipe(&mut s, 0);
    assert_eq!((r, w), (3, 4));
    assert_eq!(s.call(nr::CLOSE, &[3]), 0);
    // The lowest free number comes first.
    assert_eq!(s.call(nr::DUP, &[4]), 3);
    // Status flags live in the description: O_NONBLOCK set through one descriptor shows
    // through its duplicate; FD_CLOEXEC is the descriptor's own.
    assert_eq!(s.call(nr::FCNTL, &[4, F_SETFL, O_NONBLOCK as usize]), 0);
    assert_eq!(
        s.call(nr::FCNTL, &[3, F_GETFL, 0]),
        (O_WRONLY | O_NONBLOCK) as i64
    );
    assert_eq!(s.call(nr::FCNTL, &[3, F_SETFD, FD_CLOEXEC]), 0);
    assert_eq!(s.call(nr::FCNTL, &[3, F_GETFD, 0]), FD_CLOEXEC as i64);
    assert_eq!(s.call(nr::FCNTL, &[4, F_GETFD, 0]), 0);
    // F_SETFL never changes the access mode.
    assert_eq!(s.call(nr::FCNTL, &[4, F_SETFL, O_RDWR as usize]), 0);
    assert_eq!(s.call(nr::FCNTL, &[4, F_GETFL, 0]), O_WRONLY as i64);
    // F_DUPFD: lowest free at or above the argument.
    assert_eq!(s.call(nr::FCNTL, &[4, F_DUPFD, 10]), 10);
    assert_eq!(s.call(nr::FCNTL, &[4, F_DUPFD_CLOEXEC, 10]), 11);
    assert_eq!(s.call(nr::FCNTL, &[11, F_GETFD, 0]), FD_CLOEXEC as i64);
    assert_eq!(
        s.call(nr::FCNTL, &[4, F_DUPFD, MAX_FDS]),
        err(Errno::EINVAL)
    );
    assert_eq!(s.call(nr::FCNTL, &[4, 999, 0]), err(Errno::EINVAL));
    // One pipe, two descriptions, however many descriptors.
    assert_eq!(s.k.files.used(), base + 1, "the read end is closed");
    for fd in [3, 4, 10, 11] {
        assert_eq!(s.call(nr::CLOSE, &[fd]), 0);
    }
    assert_eq!(s.k.files.used(), base);
    assert!(s.k.pipes.iter().all(|p| p.is_none()));
}

#[test]
fn dup3_replaces_the_target_and_checks_its_arguments() {
    let mut s = one();
    let (r, w) = pipe(&mut s, 0);
    // dup3 onto an open descriptor closes it first: the pipe's read end goes, so the
    // write end now has no reader.
    assert_eq!(s.call(nr::DUP3, &[w, r, O_CLOEXEC as usize]), r as i64);
    assert_eq!(s.call(nr::FCNTL, &[r, F_GETFD, 0]), FD_CLOEXEC as i64);
    s.put(SCRATCH, b"x");
    let ign = abi::signal::SIG_IGN;
    assert_eq!(
        crate::tests::signals::sigaction(&mut s, abi::signal::SIGPIPE, ign, 0, 0),
        0
    );
    assert_eq!(s.call(nr::WRITE, &[w, SCRATCH, 1]), err(Errno::EPIPE));
    assert_eq!(s.call(nr::DUP3, &[w, w, 0]), err(Errno::EINVAL));
    assert_eq!(
        s.call(nr::DUP3, &[w, 5, 1]),
        err(Errno::EINVAL),
        "unknown flag"
    );
    assert_eq!(s.call(nr::DUP3, &[w, MAX_FDS, 0]), err(Errno::EBADF));
    assert_eq!(s.call(nr::DUP3, &[9, 5, 0]), err(Errno::EBADF));
    assert_eq!(s.call(nr::DUP, &[usize::MAX]), err(Errno::EBADF));
    assert_eq!(s.call(nr::CLOSE, &[usize::MAX]), err(Errno::EBADF));
    assert_eq!(s.call(nr::CLOSE, &[9]), err(Errno::EBADF));
}

#[test]
fn access_modes_seek_and_ioctl_go_through_the_description() {
    let mut s = one();
    let (r, w) = pipe(&mut s, 0);
    s.put(SCRATCH, b"x");
    assert_eq!(s.call(nr::WRITE, &[r, SCRATCH, 1]), err(Errno::EBADF));
    assert_eq!(s.call(nr::READ, &[w, SCRATCH, 1]), err(Errno::EBADF));
    for fd in [0, r, w] {
        assert_eq!(s.call(nr::LSEEK, &[fd, 0, SEEK_SET]), err(Errno::ESPIPE));
    }
    assert_eq!(s.call(nr::LSEEK, &[7, 0, SEEK_SET]), err(Errno::EBADF));
    // A terminal request on a pipe is not for a terminal; on a duplicate of the console it is.
    assert_eq!(
        s.call(nr::IOCTL, &[r, sys::TIOCGPGRP, SCRATCH]),
        err(Errno::ENOTTY)
    );
    let c = s.call(nr::DUP, &[1]) as usize;
    assert!(c > 2);
    assert_eq!(s.call(nr::IOCTL, &[c, sys::TIOCGPGRP, SCRATCH]), 0);
}

#[test]
fn nonblocking_pipes_say_eagain_instead_of_waiting() {
    let mut s = one();
    let (r, w) = pipe(&mut s, O_NONBLOCK | O_CLOEXEC);
    assert_eq!(s.call(nr::FCNTL, &[r, F_GETFD, 0]), FD_CLOEXEC as i64);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 8]), err(Errno::EAGAIN));
    // Fill it: the write takes what fits, then EAGAIN.
    let big = crate::fs::pipe::PIPE_SIZE + 100;
    let buf = SCRATCH - 8192;
    let mut total = 0;
    loop {
        let n = s.call(nr::WRITE, &[w, buf, big.min(8192)]);
        if n < 0 {
            assert_eq!(n, err(Errno::EAGAIN));
            break;
        }
        total += n as usize;
    }
    assert_eq!(total, crate::fs::pipe::PIPE_SIZE);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 8]), 8);
    // Back to blocking through F_SETFL: a read with data returns at once.
    assert_eq!(s.call(nr::FCNTL, &[r, F_SETFL, 0]), 0);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 8]), 8);
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0o40000]), err(Errno::EINVAL));
}

#[test]
fn a_spawned_child_inherits_descriptors_without_cloexec_at_the_same_numbers() {
    let mut s = one();
    let (r, w) = pipe(&mut s, O_CLOEXEC);
    let keep = s.call(nr::DUP, &[w]) as usize; // no FD_CLOEXEC
    let child = s.spawn_call("prog") as i32;
    let slot = s.k.slot_of(child).unwrap();
    let fds = s.k.task(slot).fds;
    assert!(
        fds[r].is_none() && fds[w].is_none(),
        "FD_CLOEXEC ones stay behind"
    );
    let parent_keep = s.k.task(s.k.current.unwrap()).fds[keep];
    assert_eq!(fds[keep].map(|d| d.file), parent_keep.map(|d| d.file));
    assert!(fds[0].is_some() && fds[1].is_some() && fds[2].is_some());
    // The child holds the write end: closing the parent's leaves the reader waiting,
    // not at end of file.
    assert_eq!(s.call(nr::CLOSE, &[w]), 0);
    assert_eq!(s.call(nr::CLOSE, &[keep]), 0);
    assert_eq!(s.call(nr::FCNTL, &[r, F_SETFL, O_NONBLOCK as usize]), 0);
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 1]), err(Errno::EAGAIN));
    // When the child ends, the last writer is gone: end of file.
    s.k.kill(None, child, sys::SIGKILL).unwrap();
    s.settle();
    assert_eq!(s.call(nr::READ, &[r, SCRATCH, 1]), 0);
    assert_eq!(s.call(nr::CLOSE, &[r]), 0);
    assert_eq!(s.k.files.used(), 1);
}

/// Pipes run out system-wide (ENFILE) long before the description table, which has room
/// for every pipe's two ends; a failed pipe2 leaves nothing behind.
#[test]
fn pipes_run_out_with_enfile_and_nothing_leaks() {
    let mut s = one();
    const { assert!(MAX_FILES > 2 * crate::fs::pipe::MAX_PIPES + 1) };
    // Several processes, each holding MAX_FDS descriptors.
    let mut kids = std::vec::Vec::new();
    let mut got = None;
    'fill: for _ in 0..16 {
        let kid = s.spawn_call("prog") as i32;
        assert!(kid > 0);
        kids.push(kid);
        let me = s.cur_pid().unwrap();
        s.switch_to(kid);
        loop {
            let r = s.call(nr::PIPE2, &[SCRATCH, 0]);
            if r == err(Errno::EMFILE) {
                break;
            }
            if r != 0 {
                got = Some(r);
                break 'fill;
            }
        }
        s.switch_to(me);
    }
    assert_eq!(got, Some(err(Errno::ENFILE)));
    // Nothing half made: every pipe has both its descriptions.
    let pipes = s.k.pipes.iter().flatten().count();
    assert_eq!(pipes, crate::fs::pipe::MAX_PIPES);
    assert_eq!(s.k.files.used(), 1 + 2 * pipes);
    for kid in kids {
        s.k.kill(None, kid, sys::SIGKILL).unwrap();
    }
    s.settle();
    assert_eq!(s.k.files.used(), 1);
    assert!(s.k.pipes.iter().all(|p| p.is_none()));
}

#[test]
fn fstat_tells_a_terminal_from_a_pipe() {
    use abi::stat::*;
    let mut s = one();
    assert_eq!(s.call(nr::FSTAT, &[1, SCRATCH]), 0);
    let st: Stat = s.get(SCRATCH);
    assert_eq!(st.st_mode, S_IFCHR | 0o620);
    assert_eq!(st.st_rdev, makedev(5, 1));
    assert_eq!((st.st_nlink, st.st_blksize), (1, 4096));
    assert_eq!(s.call(nr::SETGID, &[100]), 0);
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    let (r, w) = pipe(&mut s, 0);
    assert_eq!(s.call(nr::FSTAT, &[w, SCRATCH]), 0);
    let sw: Stat = s.get(SCRATCH);
    assert_eq!(s.call(nr::FSTAT, &[r, SCRATCH]), 0);
    let sr: Stat = s.get(SCRATCH);
    assert_eq!(sr.st_mode & S_IFMT, S_IFIFO);
    assert_eq!((sr.st_uid, sr.st_gid), (1000, 100), "the creator's");
    assert_eq!(sr.st_ino, sw.st_ino, "both ends are one pipe");
    assert_ne!(sr.st_ino, st.st_ino);
    assert_eq!(s.call(nr::FSTAT, &[9, SCRATCH]), err(Errno::EBADF));
    assert_eq!(s.call(nr::FSTAT, &[0, 0]), err(Errno::EFAULT));
    assert_eq!(
        s.call(nr::FSTAT, &[0, 0xffff_ff80_0000_0000]),
        err(Errno::EFAULT)
    );
}

/// Put a NUL-terminated path at SCRATCH + 256 and return its address.
fn path(s: &mut Sys, p: &str) -> usize {
    let at = SCRATCH + 256;
    let mut b = p.as_bytes().to_vec();
    b.push(0);
    s.put(at, &b);
    at
}

fn open(s: &mut Sys, p: &str, flags: u32) -> i64 {
    let at = path(s, p);
    s.call(nr::OPENAT, &[AT_FDCWD as usize, at, flags as usize, 0])
}

#[test]
fn devices_and_programs_open_read_and_seek() {
    let mut s = one();
    let base = s.k.files.used();
    let null = open(&mut s, "/dev/null", O_RDWR) as usize;
    assert_eq!(null, 3);
    s.put(SCRATCH, &[7u8; 16]);
    assert_eq!(s.call(nr::WRITE, &[null, SCRATCH, 16]), 16);
    assert_eq!(
        s.call(nr::READ, &[null, SCRATCH, 16]),
        0,
        "end of file at once"
    );
    let zero = open(&mut s, "/dev/./zero", O_RDONLY) as usize;
    assert_eq!(s.call(nr::READ, &[zero, SCRATCH, 16]), 16);
    assert_eq!(s.get::<[u8; 16]>(SCRATCH), [0; 16]);
    // A program file reads as its bytes, from the shared offset, and seeks.
    let prog = open(&mut s, "/bin/prog", O_RDONLY | O_CLOEXEC) as usize;
    let size = s.k.romfs.find("prog").unwrap().len();
    assert_eq!(s.call(nr::READ, &[prog, SCRATCH, 4]), 4);
    assert_eq!(s.get::<[u8; 4]>(SCRATCH), *b"\x7fELF");
    let dup = s.call(nr::DUP, &[prog]) as usize;
    assert_eq!(
        s.call(nr::LSEEK, &[dup, 0, SEEK_CUR]),
        4,
        "dup shares the offset"
    );
    assert_eq!(s.call(nr::LSEEK, &[prog, 0, SEEK_END]), size as i64);
    assert_eq!(s.call(nr::READ, &[prog, SCRATCH, 4]), 0);
    assert_eq!(
        s.call(nr::LSEEK, &[prog, (-1i64) as usize, SEEK_SET]),
        err(Errno::EINVAL)
    );
    assert_eq!(s.call(nr::LSEEK, &[prog, 0, 7]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::WRITE, &[prog, SCRATCH, 1]), err(Errno::EBADF));
    assert_eq!(s.call(nr::FSTAT, &[prog, SCRATCH]), 0);
    let st: abi::stat::Stat = s.get(SCRATCH);
    assert_eq!(st.st_size, size as i64);
    assert_eq!(st.st_mode, abi::stat::S_IFREG | 0o555);
    for fd in [null, zero, prog, dup] {
        assert_eq!(s.call(nr::CLOSE, &[fd]), 0);
    }
    assert_eq!(s.k.files.used(), base);
}

#[test]
fn opening_follows_posix_errors() {
    let mut s = one();
    assert_eq!(open(&mut s, "/nosuch", O_RDONLY), err(Errno::ENOENT));
    assert_eq!(open(&mut s, "", O_RDONLY), err(Errno::ENOENT));
    assert_eq!(open(&mut s, "/bin/prog/x", O_RDONLY), err(Errno::ENOTDIR));
    assert_eq!(open(&mut s, "/bin/prog", O_DIRECTORY), err(Errno::ENOTDIR));
    assert_eq!(open(&mut s, "/dev", O_WRONLY), err(Errno::EISDIR));
    assert_eq!(open(&mut s, "/bin/prog", O_RDWR), err(Errno::EROFS));
    assert_eq!(
        open(&mut s, "/bin/new", O_CREAT | O_WRONLY),
        err(Errno::EROFS)
    );
    assert_eq!(
        open(&mut s, "/dev/null", O_CREAT | O_EXCL | O_WRONLY),
        err(Errno::EEXIST)
    );
    assert_eq!(
        open(&mut s, "/dev/null", 3),
        err(Errno::EINVAL),
        "O_ACCMODE"
    );
    assert_eq!(open(&mut s, "/dev/null", 0o20000000), err(Errno::EINVAL));
    let long = "a".repeat(300);
    assert_eq!(open(&mut s, &long, O_RDONLY), err(Errno::ENAMETOOLONG));
    // A path with no NUL within PATH_MAX.
    let buf = SCRATCH - 8192;
    s.put(buf, &[b'a'; 5000]);
    assert_eq!(
        s.call(nr::OPENAT, &[AT_FDCWD as usize, buf, 0, 0]),
        err(Errno::ENAMETOOLONG)
    );
    // Bad path pointers: kernel, unmapped, running off the end of mapped memory.
    for p in [0, 0xffff_ff80_0000_0000, SCRATCH + 4096 * 64] {
        assert_eq!(
            s.call(nr::OPENAT, &[AT_FDCWD as usize, p, 0, 0]),
            err(Errno::EFAULT)
        );
    }
    // A relative path against a descriptor that is not a directory; a bad descriptor.
    let at = path(&mut s, "x");
    assert_eq!(s.call(nr::OPENAT, &[0, at, 0, 0]), err(Errno::ENOTDIR));
    assert_eq!(s.call(nr::OPENAT, &[9, at, 0, 0]), err(Errno::EBADF));
    // Permissions: the console is root's; null is everyone's.
    assert_eq!(s.call(nr::SETUID, &[1000]), 0);
    assert_eq!(open(&mut s, "/dev/console", O_RDWR), err(Errno::EACCES));
    assert!(open(&mut s, "/dev/null", O_RDWR) >= 0);
    assert_eq!(s.k.files.used(), 2, "the console and the one null");
}

#[test]
fn directories_list_and_the_working_directory_moves() {
    let mut s = one();
    let dev = open(&mut s, "/dev", O_RDONLY | O_DIRECTORY) as usize;
    assert_eq!(s.call(nr::READ, &[dev, SCRATCH, 8]), err(Errno::EISDIR));
    let buf = SCRATCH - 4096;
    let n = s.call(nr::GETDENTS64, &[dev, buf, 4096]);
    assert!(n > 0);
    let bytes: [u8; 192] = s.get(buf);
    let mut names = std::vec::Vec::new();
    let mut off = 0;
    while off < n as usize {
        let reclen = u16::from_le_bytes([bytes[off + 16], bytes[off + 17]]) as usize;
        let name = &bytes[off + 19..off + reclen];
        let end = name.iter().position(|&b| b == 0).unwrap();
        names.push((
            std::string::String::from_utf8_lossy(&name[..end]).into_owned(),
            bytes[off + 18],
        ));
        off += reclen;
    }
    let want = [
        (".", DT_DIR),
        ("..", DT_DIR),
        ("console", DT_CHR),
        ("null", DT_CHR),
        ("shm", DT_DIR),
        ("shmem", DT_DIR),
        ("zero", DT_CHR),
    ];
    assert_eq!(names.len(), want.len());
    for ((n, t), (wn, wt)) in names.iter().zip(want) {
        assert_eq!((n.as_str(), *t), (wn, wt));
    }
    assert_eq!(s.call(nr::GETDENTS64, &[dev, buf, 4096]), 0, "the end");
    assert_eq!(s.call(nr::LSEEK, &[dev, 0, SEEK_SET]), 0);
    assert_eq!(s.call(nr::GETDENTS64, &[dev, buf, 8]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::GETDENTS64, &[1, buf, 4096]), err(Errno::ENOTDIR));
    // chdir and getcwd; relative opens and openat against a directory descriptor.
    let at = path(&mut s, "/dev/shm");
    assert_eq!(s.call(nr::CHDIR, &[at]), 0);
    assert_eq!(s.call(nr::GETCWD, &[buf, 64]), 9);
    assert_eq!(&s.get::<[u8; 9]>(buf), b"/dev/shm\0");
    assert_eq!(s.call(nr::GETCWD, &[buf, 8]), err(Errno::ERANGE));
    assert!(open(&mut s, "../zero", O_RDONLY) >= 0);
    let at = path(&mut s, "null");
    assert!(s.call(nr::OPENAT, &[dev, at, 0, 0]) >= 0);
    let at = path(&mut s, "/bin/prog");
    assert_eq!(s.call(nr::CHDIR, &[at]), err(Errno::ENOTDIR));
    // A child starts where its parent is.
    let child = s.spawn_call("prog") as i32;
    let slot = s.k.slot_of(child).unwrap();
    assert_eq!(s.k.task(slot).cwd, crate::fs::namespace::Vnode::DevShm);
    // newfstatat by path, relative and with AT_EMPTY_PATH.
    let at = path(&mut s, "..");
    assert_eq!(
        s.call(nr::NEWFSTATAT, &[AT_FDCWD as usize, at, SCRATCH, 0]),
        0
    );
    let st: abi::stat::Stat = s.get(SCRATCH);
    assert_eq!(st.st_mode, abi::stat::S_IFDIR | 0o755);
    let at = path(&mut s, "");
    assert_eq!(
        s.call(nr::NEWFSTATAT, &[dev, at, SCRATCH, AT_EMPTY_PATH]),
        0
    );
    assert_eq!(
        s.call(nr::NEWFSTATAT, &[AT_FDCWD as usize, at, SCRATCH, 0]),
        err(Errno::ENOENT)
    );
    assert_eq!(
        s.call(nr::NEWFSTATAT, &[AT_FDCWD as usize, at, SCRATCH, 0x4]),
        err(Errno::EINVAL)
    );
}

/// spawn(path) with descriptor actions placed at SCRATCH + 512.
fn spawn_with(s: &mut Sys, p: &str, actions: &[(i32, i32)]) -> i64 {
    let at = SCRATCH + 1024;
    s.put(at, p.as_bytes());
    let mut b = std::vec::Vec::new();
    for &(fd, newfd) in actions {
        b.extend_from_slice(&fd.to_le_bytes());
        b.extend_from_slice(&newfd.to_le_bytes());
    }
    s.put(SCRATCH + 512, &b);
    s.call(
        nr::SPAWN,
        &[at, p.len(), 0, 0, SCRATCH + 512, actions.len()],
    )
}

#[test]
fn spawn_takes_a_path_and_descriptor_actions() {
    let mut s = one();
    let child_fds = |s: &Sys, pid: i64| s.k.task(s.k.slot_of(pid as i32).unwrap()).fds;
    assert!(spawn_with(&mut s, "/bin/prog", &[]) > 0);
    assert!(
        spawn_with(&mut s, "prog", &[]) > 0,
        "a bare name searches /bin"
    );
    let at = path(&mut s, "/dev");
    assert_eq!(s.call(nr::CHDIR, &[at]), 0);
    assert!(spawn_with(&mut s, "../bin/./prog", &[]) > 0);
    assert_eq!(
        spawn_with(&mut s, "null", &[]),
        err(Errno::ENOENT),
        "bare: /bin only"
    );
    assert_eq!(spawn_with(&mut s, "./null", &[]), err(Errno::EACCES));
    assert_eq!(spawn_with(&mut s, "/dev", &[]), err(Errno::EACCES));
    assert_eq!(spawn_with(&mut s, "/nosuch/prog", &[]), err(Errno::ENOENT));
    // Actions: the pipe's write end as the child's 1 (its FD_CLOEXEC does not matter: the
    // duplicate is new), 2 closed, the read end left behind (FD_CLOEXEC).
    let (r, w) = pipe(&mut s, O_CLOEXEC);
    let kid = spawn_with(&mut s, "/bin/prog", &[(w as i32, 1), (-1, 2)]);
    assert!(kid > 0);
    let fds = child_fds(&s, kid);
    let parent = s.k.task(s.k.current.unwrap()).fds;
    assert_eq!(fds[1].map(|d| d.file), parent[w].map(|d| d.file));
    assert!(!fds[1].unwrap().cloexec);
    assert!(fds[2].is_none() && fds[r].is_none() && fds[w].is_none());
    assert_eq!(fds[0].map(|d| d.file), parent[0].map(|d| d.file));
    // Bad actions fail the spawn with nothing made.
    let tasks = s.k.tasks.iter().flatten().count();
    let used = s.k.files.used();
    assert_eq!(spawn_with(&mut s, "prog", &[(9, 1)]), err(Errno::EBADF));
    assert_eq!(spawn_with(&mut s, "prog", &[(0, 16)]), err(Errno::EBADF));
    assert_eq!(spawn_with(&mut s, "prog", &[(-5, 1)]), err(Errno::EBADF));
    assert_eq!(
        spawn_with(&mut s, "prog", &[(0, 3); 17]),
        err(Errno::EINVAL)
    );
    let at = SCRATCH + 1024;
    s.put(at, b"prog");
    assert_eq!(
        s.call(nr::SPAWN, &[at, 4, 0, 0, 0xffff_ff80_0000_0000, 1]),
        err(Errno::EFAULT)
    );
    assert_eq!(s.k.tasks.iter().flatten().count(), tasks);
    assert_eq!(s.k.files.used(), used);
}

#[test]
fn spawn_sets_the_child_s_mask_and_priority_not_the_parent_s() {
    use abi::sys::{SPAWN_SETMASK_HI, SPAWN_SETMASK_LO, SPAWN_SETPRIO};
    let mut s = one();
    let me = s.k.current.unwrap();
    s.k.task_mut(me).sig.blocked = 1 << 14; // SIGTERM blocked in the parent
    let kid = spawn_with(
        &mut s,
        "prog",
        &[
            (SPAWN_SETMASK_LO, 0x300),
            (SPAWN_SETMASK_HI, 1),
            (SPAWN_SETPRIO, 7),
            (-1, 2),
        ],
    );
    assert!(kid > 0);
    let k = s.k.task(s.k.slot_of(kid as i32).unwrap());
    assert_eq!(
        k.sig.blocked,
        (0x300 | 1 << 32) & !abi::signal::UNCATCHABLE,
        "the mask asked for, SIGKILL (bit 8) never"
    );
    assert_eq!(k.prio, 7);
    assert!(k.fds[2].is_none(), "descriptor actions still apply");
    assert_eq!(
        s.k.task(me).sig.blocked,
        1 << 14,
        "the parent's mask unchanged"
    );
    // SIGKILL cannot be blocked, even so; without the actions the child has the parent's.
    let kid = spawn_with(&mut s, "prog", &[(SPAWN_SETMASK_LO, !0)]);
    let k = s.k.task(s.k.slot_of(kid as i32).unwrap());
    assert_eq!(k.sig.blocked & abi::signal::UNCATCHABLE, 0);
    let kid = spawn_with(&mut s, "prog", &[]);
    assert_eq!(
        s.k.task(s.k.slot_of(kid as i32).unwrap()).sig.blocked,
        1 << 14
    );
    // Priorities: in range, and above the caller's only for root.
    assert_eq!(
        spawn_with(&mut s, "prog", &[(SPAWN_SETPRIO, 0)]),
        err(Errno::EINVAL)
    );
    assert_eq!(
        spawn_with(&mut s, "prog", &[(SPAWN_SETPRIO, 256)]),
        err(Errno::EINVAL)
    );
    let mine = s.k.task(me).prio as i32;
    assert_eq!(s.call(nr::SETUID, &[5]), 0);
    assert_eq!(
        spawn_with(&mut s, "prog", &[(SPAWN_SETPRIO, mine + 1)]),
        err(Errno::EPERM)
    );
    assert!(spawn_with(&mut s, "prog", &[(SPAWN_SETPRIO, mine - 1)]) > 0);
}

#[test]
fn unlink_umask_pread_and_ftruncate() {
    let mut s = one();
    let unlink = |s: &mut Sys, p: &str, flags: usize| {
        let at = path(s, p);
        s.call(nr::UNLINKAT, &[AT_FDCWD as usize, at, flags])
    };
    assert_eq!(unlink(&mut s, "/bin/prog", 0), err(Errno::EROFS));
    assert_eq!(unlink(&mut s, "/dev/null", 0), err(Errno::EROFS));
    assert_eq!(unlink(&mut s, "/nosuch", 0), err(Errno::ENOENT));
    assert_eq!(unlink(&mut s, "/dev", 0), err(Errno::EISDIR));
    assert_eq!(unlink(&mut s, "/dev/shm", AT_REMOVEDIR), err(Errno::EROFS));
    assert_eq!(
        unlink(&mut s, "/bin/prog", AT_REMOVEDIR),
        err(Errno::ENOTDIR)
    );
    assert_eq!(unlink(&mut s, "/dev/.", AT_REMOVEDIR), err(Errno::EINVAL));
    assert_eq!(unlink(&mut s, "/dev/null", 1), err(Errno::EINVAL));
    // umask: the old value back, inherited by children.
    assert_eq!(s.call(nr::UMASK, &[0o077]), 0o022);
    assert_eq!(s.call(nr::UMASK, &[0o7027]), 0o077);
    let child = s.spawn_call("prog") as i32;
    assert_eq!(s.k.task(s.k.slot_of(child).unwrap()).umask, 0o027);
    // pread at an offset leaves the description's offset where it was.
    let prog = open(&mut s, "/bin/prog", O_RDONLY) as usize;
    assert_eq!(s.call(nr::PREAD64, &[prog, SCRATCH, 3, 1]), 3);
    assert_eq!(&s.get::<[u8; 3]>(SCRATCH), b"ELF");
    assert_eq!(s.call(nr::LSEEK, &[prog, 0, SEEK_CUR]), 0);
    assert_eq!(
        s.call(nr::PREAD64, &[prog, SCRATCH, 3, usize::MAX]),
        err(Errno::EINVAL)
    );
    assert_eq!(
        s.call(nr::PWRITE64, &[prog, SCRATCH, 3, 0]),
        err(Errno::EBADF)
    );
    assert_eq!(s.call(nr::PREAD64, &[0, SCRATCH, 3, 0]), err(Errno::ESPIPE));
    let null = open(&mut s, "/dev/null", O_WRONLY) as usize;
    assert_eq!(s.call(nr::PWRITE64, &[null, SCRATCH, 3, 100]), 3);
    // ftruncate: nothing here has a size to set.
    assert_eq!(s.call(nr::FTRUNCATE, &[null, 0]), err(Errno::EINVAL));
    assert_eq!(
        s.call(nr::FTRUNCATE, &[prog, 0]),
        err(Errno::EINVAL),
        "not writable"
    );
    assert_eq!(s.call(nr::FTRUNCATE, &[1, 0]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::FTRUNCATE, &[9, 0]), err(Errno::EBADF));
    assert_eq!(
        s.call(nr::FTRUNCATE, &[null, usize::MAX]),
        err(Errno::EINVAL)
    );
}

/// Put iovecs (address, length) at SCRATCH + 1536; returns their address.
fn iovecs(s: &mut Sys, v: &[(usize, usize)]) -> usize {
    let at = SCRATCH + 1536;
    let mut b = std::vec::Vec::new();
    for &(base, len) in v {
        b.extend_from_slice(&(base as u64).to_le_bytes());
        b.extend_from_slice(&(len as u64).to_le_bytes());
    }
    s.put(at, &b);
    at
}

#[test]
fn readv_and_writev_gather_and_scatter() {
    let mut s = one();
    let (r, w) = pipe(&mut s, 0);
    s.put(SCRATCH, b"hello, world");
    let iov = iovecs(&mut s, &[(SCRATCH, 5), (SCRATCH, 0), (SCRATCH + 5, 7)]);
    assert_eq!(s.call(nr::WRITEV, &[w, iov, 3]), 12);
    let dst = SCRATCH + 64;
    let iov = iovecs(&mut s, &[(dst + 10, 3), (dst, 20)]);
    assert_eq!(s.call(nr::READV, &[r, iov, 2]), 12);
    assert_eq!(&s.get::<[u8; 3]>(dst + 10), b"hel");
    assert_eq!(&s.get::<[u8; 9]>(dst), b"lo, world");
    // Nothing more in the pipe: a readv whose first iovec finds it empty waits like read.
    // With data for only part of it, it returns what there was rather than wait.
    s.put(SCRATCH, b"ab");
    assert_eq!(s.call(nr::WRITE, &[w, SCRATCH, 2]), 2);
    let iov = iovecs(&mut s, &[(dst, 2), (dst + 2, 5)]);
    assert_eq!(s.call(nr::READV, &[r, iov, 2]), 2, "short, not waiting");
    // Errors: bad descriptor, too many iovecs, a bad iovec array, lengths that overflow.
    assert_eq!(s.call(nr::WRITEV, &[9, iov, 1]), err(Errno::EBADF));
    assert_eq!(s.call(nr::WRITEV, &[w, iov, 1025]), err(Errno::EINVAL));
    assert_eq!(
        s.call(nr::WRITEV, &[w, 0xffff_ff80_0000_0000, 1]),
        err(Errno::EFAULT)
    );
    let iov = iovecs(
        &mut s,
        &[(SCRATCH, usize::MAX / 2), (SCRATCH, usize::MAX / 2)],
    );
    assert_eq!(s.call(nr::WRITEV, &[w, iov, 2]), err(Errno::EINVAL));
    // A bad buffer in the second iovec: what the first moved is returned.
    let iov = iovecs(&mut s, &[(SCRATCH, 2), (0xffff_ff80_0000_0000, 2)]);
    assert_eq!(s.call(nr::WRITEV, &[w, iov, 2]), 2);
    // /dev/zero through readv: bounded per call, a short count.
    let z = open(&mut s, "/dev/zero", O_RDONLY) as usize;
    let big: std::vec::Vec<(usize, usize)> = (0..64).map(|_| (SCRATCH - 8192, 4096)).collect();
    let iov = iovecs(&mut s, &big);
    let n = s.call(nr::READV, &[z, iov, 64]);
    assert!((16 * 1024..64 * 4096).contains(&(n as usize)), "{n}");
    assert_eq!(s.call(nr::READV, &[z, iov, 0]), 0);
}

/// Linux's order of checks where a call has several errors at once, and limits found by a
/// review: many small iovecs are a short count, not one long masked stretch.
#[test]
fn errno_order_and_iovec_limits() {
    let mut s = one();
    let (r, w) = pipe(&mut s, 0);
    assert_eq!(s.call(nr::DUP3, &[99, 99, 0]), err(Errno::EINVAL));
    assert_eq!(s.call(nr::DUP3, &[99, 5, 0]), err(Errno::EBADF));
    assert_eq!(
        s.call(nr::PREAD64, &[r, SCRATCH, 1, usize::MAX]),
        err(Errno::EINVAL)
    );
    assert_eq!(s.call(nr::FTRUNCATE, &[99, usize::MAX]), err(Errno::EINVAL));
    assert_eq!(
        open(&mut s, "/nosuch/x", O_CREAT | O_WRONLY),
        err(Errno::ENOENT)
    );
    assert_eq!(
        open(&mut s, "/bin/prog/x", O_CREAT | O_WRONLY),
        err(Errno::ENOTDIR)
    );
    assert_eq!(open(&mut s, "/dev", O_CREAT), err(Errno::EISDIR));
    let at = path(&mut s, "");
    assert_eq!(s.call(nr::OPENAT, &[r, at, 0, 0]), err(Errno::ENOENT));
    assert_eq!(s.call(nr::OPENAT, &[99, at, 0, 0]), err(Errno::ENOENT));
    // A directory's position can be read back.
    let d = open(&mut s, "/dev", O_RDONLY) as usize;
    assert!(s.call(nr::GETDENTS64, &[d, SCRATCH - 4096, 64]) > 0);
    let pos = s.call(nr::LSEEK, &[d, 0, SEEK_CUR]);
    assert!(pos > 0);
    assert_eq!(s.call(nr::LSEEK, &[d, 0, SEEK_END]), err(Errno::EINVAL));
    // readv on a write end: EBADF even with nothing to move.
    assert_eq!(s.call(nr::READV, &[w, SCRATCH, 0]), err(Errno::EBADF));
    // 100 one-byte iovecs: a short count after 32, the rest for the next call.
    s.put(SCRATCH, b"x");
    let v: std::vec::Vec<(usize, usize)> = (0..100).map(|_| (SCRATCH, 1)).collect();
    let iov = iovecs(&mut s, &v);
    assert_eq!(s.call(nr::WRITEV, &[w, iov, 100]), 32);
    // F_SETFL changes O_APPEND too.
    assert_eq!(s.call(nr::FCNTL, &[w, F_SETFL, O_APPEND as usize]), 0);
    assert_eq!(
        s.call(nr::FCNTL, &[w, F_GETFL, 0]),
        (O_WRONLY | O_APPEND) as i64
    );
}

#[test]
fn every_kind_of_file_has_each_operation_or_its_errno() {
    use crate::fs::ops::MapSource;
    let mut s = one();
    let (r, w) = pipe(&mut s, 0);
    let null = open(&mut s, "/dev/null", O_RDWR) as usize;
    let zero = open(&mut s, "/dev/zero", O_RDWR) as usize;
    let dir = open(&mut s, "/bin", O_RDONLY | O_DIRECTORY) as usize;
    let prog = open(&mut s, "/bin/prog", O_RDONLY) as usize;
    let wfd = open(&mut s, "/dev/console", O_WRONLY) as usize;
    // (descriptor, lseek, ioctl, mmap)
    let enotty = err(Errno::ENOTTY);
    let espipe = err(Errno::ESPIPE);
    let cases = [
        (0, espipe, 0, Err(Errno::ENODEV)),
        (r, espipe, enotty, Err(Errno::ENODEV)),
        (w, espipe, enotty, Err(Errno::ENODEV)),
        (null, 0, enotty, Err(Errno::ENODEV)),
        (zero, 0, enotty, Ok(MapSource::Anonymous)),
        (dir, 0, enotty, Err(Errno::ENODEV)),
        (prog, 0, enotty, Err(Errno::ENODEV)),
    ];
    for (fd, seek, ioctl, mmap) in cases {
        assert_eq!(s.call(nr::LSEEK, &[fd, 0, SEEK_SET]), seek, "lseek {fd}");
        assert_eq!(
            s.call(nr::IOCTL, &[fd, sys::TIOCGPGRP, SCRATCH]),
            ioctl,
            "ioctl {fd}"
        );
        let f = s.k.open_of(s.k.current.unwrap(), fd).unwrap();
        assert_eq!(f.file.node.ops().mmap(&s.k, f), mmap, "mmap {fd}");
        // Nothing here is a regular file with a size to set.
        assert_eq!(s.call(nr::FTRUNCATE, &[fd, 0]), err(Errno::EINVAL), "{fd}");
        // Every kind reports what it is.
        assert_eq!(s.call(nr::FSTAT, &[fd, SCRATCH]), 0);
        let mode = s.get::<abi::stat::Stat>(SCRATCH).st_mode & abi::stat::S_IFMT;
        let want = match fd {
            _ if fd == r || fd == w => abi::stat::S_IFIFO,
            _ if fd == dir => abi::stat::S_IFDIR,
            _ if fd == prog => abi::stat::S_IFREG,
            _ => abi::stat::S_IFCHR,
        };
        assert_eq!(mode, want, "fstat {fd}");
    }
    // A directory is not read with read(2); pread needs offsets; the write-only console
    // description answers the terminal requests like the others.
    assert_eq!(s.call(nr::READ, &[dir, SCRATCH, 8]), err(Errno::EISDIR));
    assert_eq!(s.call(nr::PREAD64, &[r, SCRATCH, 8, 0]), espipe);
    assert_eq!(
        s.call(nr::PREAD64, &[dir, SCRATCH, 8, 0]),
        err(Errno::EISDIR)
    );
    assert_eq!(s.call(nr::IOCTL, &[wfd, sys::TIOCGPGRP, SCRATCH]), 0);
    // A directory's link count is the same whether asked by name or by descriptor.
    assert_eq!(s.call(nr::FSTAT, &[dir, SCRATCH]), 0);
    let by_fd = s.get::<abi::stat::Stat>(SCRATCH).st_nlink;
    let p = path(&mut s, "/bin");
    assert_eq!(
        s.call(nr::NEWFSTATAT, &[AT_FDCWD as usize, p, SCRATCH, 0]),
        0
    );
    assert_eq!(s.get::<abi::stat::Stat>(SCRATCH).st_nlink, by_fd);
}
