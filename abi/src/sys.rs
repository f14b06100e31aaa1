//! Syscall numbers (Linux aarch64 numbering where the call exists in Linux) and the small
//! structures the non-shm calls exchange.

/// Syscall numbers. `svc #0`, number in x8, arguments in x0..x5, result in x0.
pub mod nr {
    pub const GETCWD: usize = 17;
    pub const UNLINKAT: usize = 35;
    pub const DUP: usize = 23;
    pub const DUP3: usize = 24;
    pub const FCNTL: usize = 25;
    pub const IOCTL: usize = 29;
    pub const FTRUNCATE: usize = 46;
    pub const CHDIR: usize = 49;
    pub const OPENAT: usize = 56;
    pub const CLOSE: usize = 57;
    pub const PIPE2: usize = 59;
    pub const GETDENTS64: usize = 61;
    pub const LSEEK: usize = 62;
    pub const READ: usize = 63;
    pub const NEWFSTATAT: usize = 79;
    pub const FSTAT: usize = 80;
    pub const READV: usize = 65;
    pub const WRITEV: usize = 66;
    pub const PREAD64: usize = 67;
    pub const PWRITE64: usize = 68;
    pub const UMASK: usize = 166;
    pub const WRITE: usize = 64;
    pub const EXIT: usize = 93;
    pub const EXIT_GROUP: usize = 94;
    pub const FUTEX: usize = 98;
    pub const SET_ROBUST_LIST: usize = 99;
    pub const GET_ROBUST_LIST: usize = 100;
    pub const NANOSLEEP: usize = 101;
    pub const CLOCK_GETTIME: usize = 113;
    pub const CLOCK_NANOSLEEP: usize = 115;
    pub const SYSLOG: usize = 116;
    pub const SCHED_YIELD: usize = 124;
    pub const KILL: usize = 129;
    pub const RT_SIGACTION: usize = 134;
    pub const RT_SIGPROCMASK: usize = 135;
    pub const RT_SIGPENDING: usize = 136;
    pub const RT_SIGRETURN: usize = 139;
    pub const SETPRIORITY: usize = 140;
    pub const GETPRIORITY: usize = 141;
    pub const REBOOT: usize = 142;
    pub const SETGID: usize = 144;
    pub const GETSID: usize = 156;
    pub const SETSID: usize = 157;
    pub const SETUID: usize = 146;
    pub const GETPID: usize = 172;
    pub const GETPPID: usize = 173;
    pub const GETUID: usize = 174;
    pub const GETEUID: usize = 175;
    pub const GETGID: usize = 176;
    pub const GETEGID: usize = 177;
    pub const SHMGET: usize = 194;
    pub const SHMCTL: usize = 195;
    pub const SHMAT: usize = 196;
    pub const SHMDT: usize = 197;
    pub const BRK: usize = 214;
    pub const MUNMAP: usize = 215;
    pub const MMAP: usize = 222;
    pub const MPROTECT: usize = 226;
    pub const MSYNC: usize = 227;
    pub const MADVISE: usize = 233;
    pub const MEMFD_CREATE: usize = 279;
    pub const WAIT4: usize = 260;
    pub const FUTEX_WAITV: usize = 449;
    // Calls with no Linux equivalent live above Linux's range.
    /// spawn(path, path_len, args, args_len, actions, n_actions) -> pid; args are
    /// NUL-separated, argv[0] first; `actions` is an array of `SpawnAction`.
    pub const SPAWN: usize = 1024;
    /// taskinfo(index, *TaskInfo) -> next index, or -ESRCH past the last task.
    pub const TASKINFO: usize = 1025;
    /// meminfo(*MemInfo, flags) -> 0.
    pub const MEMINFO: usize = 1026;
    /// romfs_list(index, buf, len) -> name length, or -ENOENT past the last file.
    pub const ROMFS_LIST: usize = 1027;
    /// shm_open(name, oflag, mode) and shm_unlink(name), as FreeBSD has them.
    pub const SHM_OPEN: usize = 1028;
    pub const SHM_UNLINK: usize = 1029;
    /// share(key, size, fd, timeout_ns) -> 0: a one-time key (KEY_LEN characters and a NUL
    /// written to `key`) naming fd's open description for `timeout_ns` (u64::MAX: no limit),
    /// as PatchworkOS's share().
    pub const SHARE: usize = 1030;
    /// claim(key) -> a new descriptor for the description the key names; the key is used up.
    pub const CLAIM: usize = 1031;
    /// vminfo(pid, index, *RegionInfo) -> next index, or -ENOENT past the last region
    /// (what `pmap` lists; pid 0 is the caller).
    pub const VMINFO: usize = 1032;
}

/// Characters in a share() key (base64url, 96 random bits); the buffer needs one more for
/// the NUL.
pub const KEY_LEN: usize = 16;
/// share()'s timeout meaning "until claimed".
pub const KEY_NEVER: u64 = u64::MAX;

/// What backs a region, as `vminfo` reports it.
pub mod region {
    pub const PROGRAM: u32 = 0;
    pub const STACK: u32 = 1;
    pub const HEAP: u32 = 2;
    /// A System V attachment (`id` is the shmid).
    pub const SYSV: u32 = 3;
    /// A named POSIX object (`name` holds it, without the slash), or one unlinked since.
    pub const POSIX: u32 = 4;
    /// shm_open(SHM_ANON).
    pub const ANON_OBJ: u32 = 5;
    /// memfd_create (`name` holds its name).
    pub const MEMFD: u32 = 6;
    /// An object of `/dev/shmem/new`.
    pub const SHMEM: u32 = 7;
    /// MAP_ANONYMOUS or a private copy.
    pub const ANON: u32 = 8;
}

/// One region of a process (`vminfo`).
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct RegionInfo {
    pub start: u64,
    pub len: u64,
    /// PROT_* bits.
    pub prot: u32,
    /// MAP_SHARED (1) or MAP_PRIVATE (2).
    pub share: u32,
    /// `region::*`.
    pub kind: u32,
    /// The shmid of a System V attachment, else -1.
    pub id: i32,
    /// Byte offset into the object.
    pub offset: u64,
    /// The object's name (POSIX, memfd), NUL-padded; `name_len` bytes of it are valid.
    pub name: [u8; 64],
    pub name_len: u32,
    /// The object was unlinked (POSIX) or its System V segment removed.
    pub deleted: u32,
}

impl Default for RegionInfo {
    fn default() -> Self {
        RegionInfo {
            start: 0,
            len: 0,
            prot: 0,
            share: 0,
            kind: 0,
            id: -1,
            offset: 0,
            name: [0; 64],
            name_len: 0,
            deleted: 0,
        }
    }
}

/// `clock_gettime` clock ids.
pub const CLOCK_REALTIME: usize = 0;
pub const CLOCK_MONOTONIC: usize = 1;
/// `clock_nanosleep` flag: the time is a deadline on the clock, not an interval.
pub const TIMER_ABSTIME: usize = 1;

/// `reboot` commands (Linux values). POWER_OFF takes the exit status for the emulator in x1.
pub const REBOOT_CMD_RESTART: usize = 0x0123_4567;
pub const REBOOT_CMD_POWER_OFF: usize = 0x4321_fedc;

/// `syslog` actions used: read the whole kernel log ring.
pub const SYSLOG_ACTION_READ_ALL: usize = 3;

/// ioctl on the console: the foreground process, which Ctrl-C interrupts (SIGINT).
pub const TIOCGPGRP: usize = 0x540f;
pub const TIOCSPGRP: usize = 0x5410;
/// Make the console the caller's controlling terminal (the caller leads its session);
/// argument 1 lets uid 0 take it from another session.
pub const TIOCSCTTY: usize = 0x540e;

/// `futex` operations.
pub const FUTEX_WAIT: usize = 0;
pub const FUTEX_WAKE: usize = 1;
/// Accepted and ignored: every futex here is keyed by physical address.
pub const FUTEX_PRIVATE_FLAG: usize = 128;
pub const FUTEX_CLOCK_REALTIME: usize = 256;

/// Lock-word bits of robust futexes (Linux): the owner's thread id in the low 30 bits, a
/// waiter may be blocked, the owner died holding it.
pub const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
pub const FUTEX_WAITERS: u32 = 0x8000_0000;
pub const FUTEX_OWNER_DIED: u32 = 0x4000_0000;

/// One word of a `futex_waitv` call (Linux `struct futex_waitv`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FutexWaitv {
    /// The value the word must hold for the call to wait.
    pub val: u64,
    /// The word's address.
    pub uaddr: u64,
    /// FUTEX2_SIZE_U32, optionally with FUTEX2_PRIVATE.
    pub flags: u32,
    pub reserved: u32,
}
/// `futex_waitv` word flags and limit.
pub const FUTEX2_SIZE_U32: u32 = 0x02;
pub const FUTEX2_PRIVATE: u32 = 128;
pub const FUTEX_WAITV_MAX: usize = 128;

/// The head of a thread's robust-futex list (Linux `struct robust_list_head`): the kernel
/// walks it when the thread ends and marks each lock it still holds FUTEX_OWNER_DIED.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct RobustListHead {
    /// First entry (an entry's first word is the next entry's address; the list ends at the
    /// head's own address). Bit 0 of an entry address marks a PI futex.
    pub next: u64,
    /// The lock word's offset from its entry.
    pub futex_offset: i64,
    /// An entry being locked or unlocked, not yet (or no longer) on the list.
    pub list_op_pending: u64,
}
/// How many entries the kernel follows at most (Linux's ROBUST_LIST_LIMIT).
pub const ROBUST_LIST_LIMIT: usize = 2048;
const _: () = assert!(core::mem::size_of::<RobustListHead>() == 24);
const _: () = assert!(core::mem::size_of::<FutexWaitv>() == 24);

/// The common signal numbers (all of them, and the handler ABI, are in `abi::signal`).
pub use crate::signal::{SIGBUS, SIGILL, SIGINT, SIGKILL, SIGSEGV, SIGSYS, SIGTERM};

/// `wait4` options.
pub const WNOHANG: usize = 1;

/// wait status encoding (Linux): exit code in bits 8..15, or the signal in bits 0..6.
pub const fn w_exited(code: i32) -> i32 {
    (code & 0xff) << 8
}
pub const fn w_signaled(sig: i32) -> i32 {
    sig & 0x7f
}
pub const fn wifexited(status: i32) -> bool {
    status & 0x7f == 0
}
pub const fn wexitstatus(status: i32) -> i32 {
    (status >> 8) & 0xff
}
pub const fn wtermsig(status: i32) -> i32 {
    status & 0x7f
}

/// `struct timespec`.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct Timespec {
    pub tv_sec: i64,
    pub tv_nsec: i64,
}

/// Task states as reported by `TASKINFO`.
pub mod state {
    pub const RUNNING: u32 = 0;
    pub const READY: u32 = 1;
    pub const SLEEPING: u32 = 2;
    pub const BLOCKED: u32 = 3;
    pub const WAITING: u32 = 4;
    pub const ZOMBIE: u32 = 5;
    /// Exited, still freeing its memory (in bounded steps, at its priority).
    pub const EXITING: u32 = 6;

    pub fn name(s: u32) -> &'static str {
        match s {
            RUNNING => "RUN",
            READY => "READY",
            SLEEPING => "SLEEP",
            BLOCKED => "BLOCK",
            WAITING => "WAIT",
            ZOMBIE => "ZOMBIE",
            EXITING => "EXIT",
            _ => "?",
        }
    }
}

/// Pipe writes of at most this many bytes go in whole, never interleaved with another
/// writer's (POSIX PIPE_BUF; Linux's value).
pub const PIPE_BUF: usize = 4096;

/// Most bytes of arguments spawn accepts (NUL-separated strings, argv[0] included).
pub const ARG_MAX: usize = 512;
/// Most arguments (argv[0] included) a program receives; argv[ARGV_MAX] is still NULL.
pub const ARGV_MAX: usize = 64;

/// Longest task name kept by the kernel (bytes, NUL padded).
pub const TASK_NAME_LEN: usize = 16;

/// One row of the task list (`ps`).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug)]
pub struct TaskInfo {
    pub pid: i32,
    pub ppid: i32,
    pub priority: u32,
    pub state: u32,
    /// Pages owned by the task: user pages, translation tables and its kernel stack.
    pub pages: u64,
    pub uid: u32,
    pub gid: u32,
    pub name: [u8; TASK_NAME_LEN],
}

/// A descriptor action of spawn, applied to the child's copy of the parent's table in order
/// before descriptors marked FD_CLOEXEC are dropped (posix_spawn's file actions):
/// `fd >= 0`: `newfd` becomes a duplicate of `fd` (without FD_CLOEXEC); `fd == -1`: `newfd`
/// is closed.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct SpawnAction {
    pub fd: i32,
    pub newfd: i32,
}

/// An action with this `fd` sets bits 0-31 of the child's signal mask to `newfd`
/// (posix_spawn's POSIX_SPAWN_SETSIGMASK, done by the kernel so the parent's own mask never
/// changes); `SPAWN_SETMASK_HI` sets bits 32-63. Without them the child has the parent's.
pub const SPAWN_SETMASK_LO: i32 = -2;
pub const SPAWN_SETMASK_HI: i32 = -3;
/// An action with this `fd` starts the child at priority `newfd` (POSIX_SPAWN_SETSCHEDPARAM:
/// 1..=PRIO_MAX, EINVAL otherwise; above the caller's only for root, EPERM).
pub const SPAWN_SETPRIO: i32 = -4;

/// Most actions one spawn takes.
pub const SPAWN_ACTIONS_MAX: usize = 16;

/// Memory counts (`free`).
#[repr(C)]
#[derive(Copy, Clone, Default, Debug)]
pub struct MemInfo {
    pub page_size: u64,
    pub pages_total: u64,
    pub pages_used: u64,
    pub pages_free: u64,
    pub heap_total: u64,
    pub heap_used: u64,
    pub uptime_ns: u64,
    /// Instructions/ns from boot to the first user program, for the benchmark.
    pub boot_ns: u64,
    /// Kernel image section sizes in bytes (text, rodata with the rom file system, data, bss).
    pub kernel_text: u64,
    pub kernel_rodata: u64,
    pub kernel_data: u64,
    pub kernel_bss: u64,
    /// Pages of shared-memory segments.
    pub shm_pages: u64,
    /// The longest the kernel ran with interrupts masked since boot, or since the last
    /// `meminfo` that asked for a reset (MEMINFO_RESET_MASKED), in nanoseconds.
    pub max_masked_ns: u64,
    /// Open file descriptions in use, and the system-wide limit (ENFILE past it).
    pub files_used: u64,
    pub files_max: u64,
}

/// `meminfo` flag: start the longest-masked-stretch measurement again after reading it.
pub const MEMINFO_RESET_MASKED: usize = 1;

/// Default priority of a spawned program; higher numbers run first.
pub const PRIO_DEFAULT: u32 = 100;
/// Highest priority a task may have.
pub const PRIO_MAX: u32 = 255;
