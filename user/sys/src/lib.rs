//! Raw syscall stubs and thin typed wrappers (`svc #0`, number in x8, -errno in x0).
//! Target only: on the host (where the libraries built on it are unit-tested) it is empty.
#![no_std]
#![cfg(target_os = "none")]

use abi::sys::{nr, MemInfo, TaskInfo, Timespec};
use abi::Errno;

/// # Safety
/// The kernel validates everything; unsafe only because arbitrary pointers may be passed.
#[inline(always)]
pub unsafe fn syscall6(n: usize, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: svc traps to the kernel, which preserves every register but x0.
    unsafe {
        core::arch::asm!("svc #0", in("x8") n,
            inlateout("x0") a[0] => ret, in("x1") a[1], in("x2") a[2],
            in("x3") a[3], in("x4") a[4], in("x5") a[5], options(nostack));
    }
    ret
}

/// Syscall with up to six arguments, decoded into Result. Inline: a call is then a few
/// register moves, the `svc` and the errno test, with no copy through memory.
#[inline]
pub fn call(n: usize, args: &[usize]) -> Result<usize, Errno> {
    if args.is_empty() {
        // SAFETY: see syscall0.
        return Errno::from_ret(unsafe { syscall0(n) });
    }
    let mut a = [0usize; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: see syscall6; pointer arguments are checked by the kernel.
    Errno::from_ret(unsafe { syscall6(n, a) })
}

/// A call without arguments: no argument registers to fill.
///
/// # Safety
/// As `syscall6`.
#[inline(always)]
pub unsafe fn syscall0(n: usize) -> isize {
    let ret: isize;
    // SAFETY: svc traps to the kernel, which preserves every register but x0.
    unsafe { core::arch::asm!("svc #0", in("x8") n, lateout("x0") ret, options(nostack)) }
    ret
}

pub fn exit(code: i32) -> ! {
    let _ = call(nr::EXIT, &[code as usize]);
    unreachable!()
}
pub fn write(fd: usize, b: &[u8]) -> Result<usize, Errno> {
    call(nr::WRITE, &[fd, b.as_ptr() as usize, b.len()])
}
pub fn read(fd: usize, b: &mut [u8]) -> Result<usize, Errno> {
    call(nr::READ, &[fd, b.as_mut_ptr() as usize, b.len()])
}
pub fn getpid() -> i32 {
    call(nr::GETPID, &[]).unwrap_or(0) as i32
}
pub fn getppid() -> i32 {
    call(nr::GETPPID, &[]).unwrap_or(0) as i32
}
pub fn getuid() -> u32 {
    call(nr::GETUID, &[]).unwrap_or(0) as u32
}
pub fn setuid(uid: u32) -> Result<(), Errno> {
    call(nr::SETUID, &[uid as usize]).map(|_| ())
}
pub fn setgid(gid: u32) -> Result<(), Errno> {
    call(nr::SETGID, &[gid as usize]).map(|_| ())
}
pub fn sched_yield() {
    let _ = call(nr::SCHED_YIELD, &[]);
}
pub fn sleep_ns(ns: u64) -> Result<(), Errno> {
    sleep_rem(ns).map_err(|(e, _)| e)
}
/// `ns` nanoseconds as a timespec.
fn timespec(ns: u64) -> Timespec {
    Timespec {
        tv_sec: (ns / 1_000_000_000) as i64,
        tv_nsec: (ns % 1_000_000_000) as i64,
    }
}
/// nanosleep: on failure the errno and, for EINTR, the nanoseconds that were left.
pub fn sleep_rem(ns: u64) -> Result<(), (Errno, u64)> {
    let ts = timespec(ns);
    let mut rem = Timespec::default();
    call(
        nr::NANOSLEEP,
        &[&ts as *const _ as usize, &mut rem as *mut _ as usize],
    )
    .map(|_| ())
    .map_err(|e| (e, rem.tv_sec as u64 * 1_000_000_000 + rem.tv_nsec as u64))
}
pub fn sleep_ms(ms: u64) -> Result<(), Errno> {
    sleep_ns(ms * 1_000_000)
}
pub fn clock(id: usize) -> Timespec {
    let mut ts = Timespec::default();
    let _ = call(nr::CLOCK_GETTIME, &[id, &mut ts as *mut _ as usize]);
    ts
}
/// Monotonic nanoseconds.
pub fn now_ns() -> u64 {
    let t = clock(abi::sys::CLOCK_MONOTONIC);
    t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
}
/// Wall-clock seconds.
pub fn time() -> i64 {
    clock(abi::sys::CLOCK_REALTIME).tv_sec
}
/// Spawn `path` (a program of /bin by name, or a path) with argv = [path, args...].
pub fn spawn(path: &str, args: &[&str]) -> Result<i32, Errno> {
    spawn_actions(path, args, &[])
}
/// `spawn` with descriptor actions for the child (posix_spawn_file_actions_adddup2 and
/// _addclose): see `abi::sys::SpawnAction`.
pub fn spawn_actions(
    path: &str,
    args: &[&str],
    actions: &[abi::sys::SpawnAction],
) -> Result<i32, Errno> {
    let mut buf: heapless::Vec<u8, { abi::sys::ARG_MAX }> = heapless::Vec::new();
    for a in core::iter::once(&path).chain(args.iter()) {
        buf.extend_from_slice(a.as_bytes())
            .map_err(|_| Errno::E2BIG)?;
        buf.push(0).map_err(|_| Errno::E2BIG)?;
    }
    call(
        nr::SPAWN,
        &[
            path.as_ptr() as usize,
            path.len(),
            buf.as_ptr() as usize,
            buf.len(),
            actions.as_ptr() as usize,
            actions.len(),
        ],
    )
    .map(|p| p as i32)
}
/// wait4(pid, &status, options): (pid, status).
pub fn wait(pid: i32, options: usize) -> Result<(i32, i32), Errno> {
    let mut status = 0i32;
    let p = call(
        nr::WAIT4,
        &[pid as usize, &mut status as *mut i32 as usize, options, 0],
    )?;
    Ok((p as i32, status))
}
pub fn kill(pid: i32, sig: usize) -> Result<(), Errno> {
    call(nr::KILL, &[pid as usize, sig]).map(|_| ())
}
pub fn setpriority(pid: i32, prio: u32) -> Result<(), Errno> {
    call(nr::SETPRIORITY, &[0, pid as usize, prio as usize]).map(|_| ())
}
pub fn getpriority(pid: i32) -> Result<u32, Errno> {
    call(nr::GETPRIORITY, &[0, pid as usize]).map(|p| p as u32)
}
pub fn meminfo() -> MemInfo {
    let mut m = MemInfo::default();
    let _ = call(nr::MEMINFO, &[&mut m as *mut _ as usize, 0]);
    m
}
/// meminfo, then start the longest-masked-stretch measurement again.
pub fn meminfo_reset_masked() -> MemInfo {
    let mut m = MemInfo::default();
    let _ = call(
        nr::MEMINFO,
        &[&mut m as *mut _ as usize, abi::sys::MEMINFO_RESET_MASKED],
    );
    m
}
/// Task `index` onward: (next index, info), or None past the end.
pub fn taskinfo(index: usize) -> Option<(usize, TaskInfo)> {
    let mut t = TaskInfo::default();
    let next = call(nr::TASKINFO, &[index, &mut t as *mut _ as usize]).ok()?;
    Some((next, t))
}
/// Name of rom file `index` into `buf`.
pub fn romfs_name(index: usize, buf: &mut [u8]) -> Option<usize> {
    call(
        nr::ROMFS_LIST,
        &[index, buf.as_mut_ptr() as usize, buf.len()],
    )
    .ok()
}
pub fn syslog(buf: &mut [u8]) -> Result<usize, Errno> {
    call(
        nr::SYSLOG,
        &[
            abi::sys::SYSLOG_ACTION_READ_ALL,
            buf.as_mut_ptr() as usize,
            buf.len(),
        ],
    )
}
pub fn poweroff(code: i32) -> Result<(), Errno> {
    call(nr::REBOOT, &[abi::sys::REBOOT_CMD_POWER_OFF, code as usize]).map(|_| ())
}
pub fn reboot() -> Result<(), Errno> {
    call(nr::REBOOT, &[abi::sys::REBOOT_CMD_RESTART]).map(|_| ())
}
pub fn brk(addr: usize) -> usize {
    call(nr::BRK, &[addr]).unwrap_or(0)
}

// ---- System V shared memory (sys/shm.h) and futex wait/wake ----

use abi::shm::{ShmidDs, IPC_STAT};
use core::sync::atomic::AtomicU32;

/// shmget(key, size, flags): the segment id.
pub fn shmget(key: i32, size: usize, flags: i32) -> Result<i32, Errno> {
    call(nr::SHMGET, &[key as usize, size, flags as usize]).map(|v| v as i32)
}
/// shmat(id, addr, flags): where the segment is attached (addr 0: the kernel picks).
pub fn shmat(id: i32, addr: usize, flags: i32) -> Result<*mut u8, Errno> {
    call(nr::SHMAT, &[id as usize, addr, flags as usize]).map(|v| v as *mut u8)
}
pub fn shmdt(addr: *const u8) -> Result<(), Errno> {
    call(nr::SHMDT, &[addr as usize]).map(|_| ())
}
/// shmctl(id, cmd, buf) with `buf` pointing at whatever `cmd` reads or writes.
pub fn shmctl(id: i32, cmd: i32, buf: usize) -> Result<i32, Errno> {
    call(nr::SHMCTL, &[id as usize, cmd as usize, buf]).map(|v| v as i32)
}
/// IPC_STAT into a fresh `shmid_ds`.
pub fn shm_stat(id: i32) -> Result<ShmidDs, Errno> {
    let mut ds = ShmidDs::default();
    shmctl(id, IPC_STAT, &mut ds as *mut _ as usize)?;
    Ok(ds)
}
/// Sleep while `*word == val` (EAGAIN if it already differs), at most `timeout_ns`
/// (ETIMEDOUT). The word may be in shared memory attached anywhere in each process.
pub fn futex_wait(word: &AtomicU32, val: u32, timeout_ns: Option<u64>) -> Result<(), Errno> {
    let ts = timeout_ns.map(timespec);
    let tp = ts.as_ref().map_or(0, |t| t as *const Timespec as usize);
    call(
        nr::FUTEX,
        &[
            word.as_ptr() as usize,
            abi::sys::FUTEX_WAIT,
            val as usize,
            tp,
        ],
    )
    .map(|_| ())
}
/// Wake up to `n` tasks waiting on `word`; returns how many were woken.
pub fn futex_wake(word: &AtomicU32, n: u32) -> Result<usize, Errno> {
    call(
        nr::FUTEX,
        &[word.as_ptr() as usize, abi::sys::FUTEX_WAKE, n as usize],
    )
}

/// futex_waitv(waiters, n, 0, deadline, CLOCK_MONOTONIC): wait until one of the words is
/// woken (its index), as long as each holds its `val`; `deadline_ns` is absolute.
pub fn futex_waitv(
    waiters: &[abi::sys::FutexWaitv],
    deadline_ns: Option<u64>,
) -> Result<usize, Errno> {
    let ts = deadline_ns.map(timespec);
    let tp = ts.as_ref().map_or(0, |t| t as *const Timespec as usize);
    call(
        nr::FUTEX_WAITV,
        &[
            waiters.as_ptr() as usize,
            waiters.len(),
            0,
            tp,
            abi::sys::CLOCK_MONOTONIC,
        ],
    )
}
/// set_robust_list(head, len): the list the kernel walks when this process ends.
pub fn set_robust_list(head: *const abi::sys::RobustListHead) -> Result<(), Errno> {
    let len = core::mem::size_of::<abi::sys::RobustListHead>();
    call(nr::SET_ROBUST_LIST, &[head as usize, len]).map(|_| ())
}
/// get_robust_list(pid, &head, &len): the head `pid` (0: the caller) registered.
pub fn get_robust_list(pid: i32) -> Result<(usize, usize), Errno> {
    let (mut head, mut len) = (0usize, 0usize);
    call(
        nr::GET_ROBUST_LIST,
        &[
            pid as usize,
            &mut head as *mut usize as usize,
            &mut len as *mut usize as usize,
        ],
    )?;
    Ok((head, len))
}

/// Make `pid` the console's foreground process (Ctrl-C interrupts it); 0 for none.
pub fn set_foreground(pid: i32) -> Result<(), Errno> {
    call(
        nr::IOCTL,
        &[0, abi::sys::TIOCSPGRP, &pid as *const i32 as usize],
    )
    .map(|_| ())
}

/// setsid(): lead a new session (EPERM if already a leader); returns its id.
pub fn setsid() -> Result<i32, Errno> {
    call(nr::SETSID, &[]).map(|v| v as i32)
}
pub fn getsid(pid: i32) -> Result<i32, Errno> {
    call(nr::GETSID, &[pid as usize]).map(|v| v as i32)
}
/// Make the console the controlling terminal of the caller's session (the caller must lead
/// it); `steal` lets uid 0 take it from another session.
pub fn take_console(steal: bool) -> Result<(), Errno> {
    call(nr::IOCTL, &[0, abi::sys::TIOCSCTTY, steal as usize]).map(|_| ())
}

/// pipe2(fds, 0): (read end, write end). Spawned children inherit both.
pub fn pipe() -> Result<(usize, usize), Errno> {
    pipe2(0)
}
/// pipe2(fds, flags) with O_NONBLOCK and/or O_CLOEXEC: (read end, write end).
pub fn pipe2(flags: u32) -> Result<(usize, usize), Errno> {
    let mut pair = [0i32; 2];
    call(nr::PIPE2, &[pair.as_mut_ptr() as usize, flags as usize])?;
    Ok((pair[0] as usize, pair[1] as usize))
}
/// dup(fd): the lowest free descriptor, on the same open file description.
pub fn dup(fd: usize) -> Result<usize, Errno> {
    call(nr::DUP, &[fd])
}
/// dup3(old, new, flags): `new` (closed first if open) on `old`'s description.
pub fn dup3(old: usize, new: usize, flags: u32) -> Result<usize, Errno> {
    call(nr::DUP3, &[old, new, flags as usize])
}
/// fcntl(fd, cmd, arg).
pub fn fcntl(fd: usize, cmd: usize, arg: usize) -> Result<usize, Errno> {
    call(nr::FCNTL, &[fd, cmd, arg])
}
/// A path with its NUL, on the stack (ENAMETOOLONG past PATH_MAX).
fn cpath(p: &str) -> Result<heapless::Vec<u8, 4096>, Errno> {
    let mut v = heapless::Vec::new();
    if v.extend_from_slice(p.as_bytes()).is_err() || v.push(0).is_err() {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(v)
}
/// open(path, flags): openat(AT_FDCWD, path, flags, 0).
pub fn open(path: &str, flags: u32) -> Result<usize, Errno> {
    let p = cpath(path)?;
    call(
        nr::OPENAT,
        &[
            abi::fcntl::AT_FDCWD as usize,
            p.as_ptr() as usize,
            flags as usize,
            0,
        ],
    )
}
/// stat(path): newfstatat(AT_FDCWD, path, buf, 0).
pub fn stat(path: &str) -> Result<abi::stat::Stat, Errno> {
    let p = cpath(path)?;
    let mut st = abi::stat::Stat::default();
    call(
        nr::NEWFSTATAT,
        &[
            abi::fcntl::AT_FDCWD as usize,
            p.as_ptr() as usize,
            &mut st as *mut _ as usize,
            0,
        ],
    )?;
    Ok(st)
}
/// unlink(path): unlinkat(AT_FDCWD, path, 0).
pub fn unlink(path: &str) -> Result<(), Errno> {
    let p = cpath(path)?;
    call(
        nr::UNLINKAT,
        &[abi::fcntl::AT_FDCWD as usize, p.as_ptr() as usize, 0],
    )
    .map(|_| ())
}
/// umask(mask): the previous mask.
pub fn umask(mask: u32) -> u32 {
    call(nr::UMASK, &[mask as usize]).unwrap_or(0) as u32
}
/// chdir(path).
pub fn chdir(path: &str) -> Result<(), Errno> {
    let p = cpath(path)?;
    call(nr::CHDIR, &[p.as_ptr() as usize]).map(|_| ())
}
/// getcwd into `buf`: the path's length (without the NUL).
pub fn getcwd(buf: &mut [u8]) -> Result<usize, Errno> {
    call(nr::GETCWD, &[buf.as_mut_ptr() as usize, buf.len()]).map(|n| n - 1)
}
/// getdents64(fd, buf): bytes of `linux_dirent64` records, 0 at the end.
pub fn getdents64(fd: usize, buf: &mut [u8]) -> Result<usize, Errno> {
    call(nr::GETDENTS64, &[fd, buf.as_mut_ptr() as usize, buf.len()])
}
/// writev(fd, iovecs): bytes written (a short count is allowed).
pub fn writev(fd: usize, bufs: &[&[u8]]) -> Result<usize, Errno> {
    let mut iov: heapless::Vec<[usize; 2], 16> = heapless::Vec::new();
    for b in bufs {
        iov.push([b.as_ptr() as usize, b.len()])
            .map_err(|_| Errno::EINVAL)?;
    }
    call(nr::WRITEV, &[fd, iov.as_ptr() as usize, iov.len()])
}
/// fstat(fd): what the descriptor is open on.
pub fn fstat(fd: usize) -> Result<abi::stat::Stat, Errno> {
    let mut st = abi::stat::Stat::default();
    call(nr::FSTAT, &[fd, &mut st as *mut _ as usize])?;
    Ok(st)
}
/// lseek(fd, offset, whence): the new offset.
pub fn lseek(fd: usize, off: i64, whence: usize) -> Result<usize, Errno> {
    call(nr::LSEEK, &[fd, off as usize, whence])
}
pub fn close(fd: usize) -> Result<(), Errno> {
    call(nr::CLOSE, &[fd]).map(|_| ())
}
// ---- Signals (signal.h) ----

use abi::signal::{SigAction, SigSet, SA_RESTORER, SIG_DFL, SIG_IGN};

core::arch::global_asm!(
    ".global __ulib_sigreturn",
    "__ulib_sigreturn:",
    "    mov x8, #139", // rt_sigreturn: the kernel's frame is at sp
    "    svc #0",
    "    brk #1",
);
extern "C" {
    fn __ulib_sigreturn();
}

/// What to do with a signal.
#[derive(Clone, Copy)]
pub enum Handler {
    Default,
    Ignore,
    /// Runs on the process's stack with the signal number; on return the interrupted code
    /// goes on (a blocking call it was in returns EINTR, unless SA_RESTART was asked for).
    Catch(extern "C" fn(i32)),
}

/// sigaction(sig, handler) with `flags` (SA_RESTART, SA_NODEFER, SA_RESETHAND) and the
/// signals to block while the handler runs.
pub fn sigaction(sig: usize, h: Handler, flags: u64, mask: SigSet) -> Result<(), Errno> {
    let act = SigAction {
        handler: match h {
            Handler::Default => SIG_DFL,
            Handler::Ignore => SIG_IGN,
            Handler::Catch(f) => f as *const () as usize as u64,
        },
        flags: flags | SA_RESTORER,
        restorer: __ulib_sigreturn as *const () as usize as u64,
        mask,
    };
    call(nr::RT_SIGACTION, &[sig, &act as *const _ as usize, 0, 8]).map(|_| ())
}

/// The address of the return trampoline `sigaction` installs (for code that builds its own
/// `SigAction`).
pub fn sigreturn_trampoline() -> usize {
    __ulib_sigreturn as *const () as usize
}

/// rt_sigprocmask(how, set): the previous mask.
pub fn sigprocmask(how: usize, set: SigSet) -> Result<SigSet, Errno> {
    let mut old: SigSet = 0;
    call(
        nr::RT_SIGPROCMASK,
        &[
            how,
            &set as *const _ as usize,
            &mut old as *mut _ as usize,
            8,
        ],
    )?;
    Ok(old)
}

/// The thread pointer register TPIDR_EL0 (per process; 0 when a process starts).
pub fn tls() -> u64 {
    let v: u64;
    // SAFETY: reading TPIDR_EL0 is allowed at EL0 and has no side effects.
    unsafe { core::arch::asm!("mrs {}, tpidr_el0", out(reg) v, options(nostack)) };
    v
}
pub fn set_tls(v: u64) {
    // SAFETY: TPIDR_EL0 is the user's own register; the kernel keeps it per process.
    unsafe { core::arch::asm!("msr tpidr_el0, {}", in(reg) v, options(nostack)) };
}
/// The virtual counter (readable at EL0) and its frequency.
pub fn cntvct() -> u64 {
    let v: u64;
    // SAFETY: reading CNTVCT_EL0; the kernel enables EL0 access (CNTKCTL_EL1.EL0VCTEN).
    unsafe { core::arch::asm!("isb", "mrs {}, cntvct_el0", out(reg) v, options(nostack)) };
    v
}
pub fn cntfrq() -> u64 {
    let v: u64;
    // SAFETY: reading CNTFRQ_EL0, allowed at EL0 with EL0VCTEN.
    unsafe { core::arch::asm!("mrs {}, cntfrq_el0", out(reg) v, options(nostack)) };
    v
}

/// mmap(addr, len, prot, flags, fd, off): the address mapped.
pub fn mmap(
    addr: usize,
    len: usize,
    prot: u32,
    flags: u32,
    fd: isize,
    off: usize,
) -> Result<*mut u8, Errno> {
    call(
        nr::MMAP,
        &[addr, len, prot as usize, flags as usize, fd as usize, off],
    )
    .map(|p| p as *mut u8)
}
pub fn munmap(addr: *const u8, len: usize) -> Result<(), Errno> {
    call(nr::MUNMAP, &[addr as usize, len]).map(|_| ())
}
pub fn mprotect(addr: *const u8, len: usize, prot: u32) -> Result<(), Errno> {
    call(nr::MPROTECT, &[addr as usize, len, prot as usize]).map(|_| ())
}
/// shm_open(name, oflag, mode) (the kernel's own call, as FreeBSD's).
pub fn shm_open(name: &str, oflag: u32, mode: u32) -> Result<usize, Errno> {
    let p = cpath(name)?;
    call(
        nr::SHM_OPEN,
        &[p.as_ptr() as usize, oflag as usize, mode as usize],
    )
}
/// shm_open(SHM_ANON, O_RDWR, mode): a new object with no name.
pub fn shm_open_anon(mode: u32) -> Result<usize, Errno> {
    call(
        nr::SHM_OPEN,
        &[
            abi::mman::SHM_ANON,
            abi::fcntl::O_RDWR as usize,
            mode as usize,
        ],
    )
}
pub fn shm_unlink(name: &str) -> Result<(), Errno> {
    let p = cpath(name)?;
    call(nr::SHM_UNLINK, &[p.as_ptr() as usize]).map(|_| ())
}
pub fn memfd_create(name: &str, flags: u32) -> Result<usize, Errno> {
    let p = cpath(name)?;
    call(nr::MEMFD_CREATE, &[p.as_ptr() as usize, flags as usize])
}
pub fn ftruncate(fd: usize, len: u64) -> Result<(), Errno> {
    call(nr::FTRUNCATE, &[fd, len as usize]).map(|_| ())
}
pub fn pread(fd: usize, b: &mut [u8], off: u64) -> Result<usize, Errno> {
    call(
        nr::PREAD64,
        &[fd, b.as_mut_ptr() as usize, b.len(), off as usize],
    )
}
pub fn pwrite(fd: usize, b: &[u8], off: u64) -> Result<usize, Errno> {
    call(
        nr::PWRITE64,
        &[fd, b.as_ptr() as usize, b.len(), off as usize],
    )
}
/// share(fd, timeout_ns): a one-time key another process can claim fd's description with
/// (PatchworkOS's share); `abi::sys::KEY_NEVER` for no time limit.
pub fn share(fd: usize, timeout_ns: u64) -> Result<[u8; abi::sys::KEY_LEN], Errno> {
    let mut buf = [0u8; abi::sys::KEY_LEN + 1];
    call(
        nr::SHARE,
        &[
            buf.as_mut_ptr() as usize,
            buf.len(),
            fd,
            timeout_ns as usize,
        ],
    )?;
    let mut key = [0u8; abi::sys::KEY_LEN];
    key.copy_from_slice(&buf[..abi::sys::KEY_LEN]);
    Ok(key)
}
/// claim(key): a descriptor for what the key names; the key is used up.
pub fn claim(key: &str) -> Result<usize, Errno> {
    let p = cpath(key)?;
    call(nr::CLAIM, &[p.as_ptr() as usize])
}
/// vminfo(pid, index): region `index` of process `pid` (0: the caller) and the index of the
/// next one.
pub fn vminfo(pid: i32, index: usize) -> Result<(abi::sys::RegionInfo, usize), Errno> {
    let mut r = abi::sys::RegionInfo::default();
    let next = call(
        nr::VMINFO,
        &[pid as usize, index, &mut r as *mut _ as usize],
    )?;
    Ok((r, next))
}
