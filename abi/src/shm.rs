//! System V shared memory: flags, commands, limits and the Linux aarch64 (asm-generic 64-bit)
//! layouts of `ipc_perm`, `shmid_ds`, `shminfo` and `shm_info`.

use crate::PAGE_SIZE;

/// Key that always creates a new segment.
pub const IPC_PRIVATE: i32 = 0;
pub const IPC_CREAT: i32 = 0o1000;
pub const IPC_EXCL: i32 = 0o2000;
pub const IPC_NOWAIT: i32 = 0o4000;

/// Flag glibc ORs into shmctl's command for the 64-bit layouts; accepted and ignored.
pub const IPC_64: i32 = 0x100;

pub const IPC_RMID: i32 = 0;
pub const IPC_SET: i32 = 1;
pub const IPC_STAT: i32 = 2;
pub const IPC_INFO: i32 = 3;
pub const SHM_STAT: i32 = 13;
pub const SHM_INFO: i32 = 14;

pub const SHM_RDONLY: i32 = 0o10000;
pub const SHM_RND: i32 = 0o20000;

/// Mode bit set on a segment marked for removal (seen through SHM_STAT).
pub const SHM_DEST: u32 = 0o1000;
/// Permission bits requested by shmget's flags.
pub const SHM_R: i32 = 0o400;
pub const SHM_W: i32 = 0o200;

/// Smallest segment, in bytes.
pub const SHMMIN: usize = 1;
/// Largest segment, in bytes (64 MiB).
pub const SHMMAX: usize = 64 * 1024 * 1024;
/// Segments system-wide.
pub const SHMMNI: usize = 128;
/// Attachments per process (beyond it shmat fails with EMFILE).
pub const SHMSEG: usize = 64;
/// Pages of shared memory system-wide.
pub const SHMALL: usize = 64 * 1024;
/// Attach address alignment.
pub const SHMLBA: usize = PAGE_SIZE;

#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct IpcPerm {
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    pub mode: u32,
    pub seq: u16,
    pub pad2: u16,
    pub unused1: u64,
    pub unused2: u64,
}

#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct ShmidDs {
    pub shm_perm: IpcPerm,
    pub shm_segsz: u64,
    pub shm_atime: i64,
    pub shm_dtime: i64,
    pub shm_ctime: i64,
    pub shm_cpid: i32,
    pub shm_lpid: i32,
    pub shm_nattch: u64,
    pub unused4: u64,
    pub unused5: u64,
}

/// IPC_INFO result.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct ShmInfoLimits {
    pub shmmax: u64,
    pub shmmin: u64,
    pub shmmni: u64,
    pub shmseg: u64,
    pub shmall: u64,
    pub unused: [u64; 4],
}

/// SHM_INFO result.
#[repr(C)]
#[derive(Copy, Clone, Default, Debug, PartialEq, Eq)]
pub struct ShmInfo {
    pub used_ids: i32,
    pub pad: i32,
    pub shm_tot: u64,
    pub shm_rss: u64,
    pub shm_swp: u64,
    pub swap_attempts: u64,
    pub swap_successes: u64,
}

const _: () = assert!(core::mem::size_of::<IpcPerm>() == 48);
const _: () = assert!(core::mem::size_of::<ShmidDs>() == 112);
