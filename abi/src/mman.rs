//! `sys/mman.h`: protections, mapping flags, msync and madvise values, memfd_create flags
//! and the SHM_ANON name (Linux aarch64 values; SHM_ANON is FreeBSD's).

pub const PROT_NONE: u32 = 0;
pub const PROT_READ: u32 = 1;
pub const PROT_WRITE: u32 = 2;
pub const PROT_EXEC: u32 = 4;

pub const MAP_SHARED: u32 = 0x01;
pub const MAP_PRIVATE: u32 = 0x02;
/// MAP_SHARED that also refuses flags it does not know (EOPNOTSUPP).
pub const MAP_SHARED_VALIDATE: u32 = 0x03;
pub const MAP_TYPE: u32 = 0x0f;
pub const MAP_FIXED: u32 = 0x10;
pub const MAP_ANONYMOUS: u32 = 0x20;
pub const MAP_NORESERVE: u32 = 0x4000;
pub const MAP_POPULATE: u32 = 0x8000;
pub const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
/// What mmap returns on failure in C ((void *)-1).
pub const MAP_FAILED: usize = usize::MAX;

pub const MS_ASYNC: u32 = 1;
pub const MS_INVALIDATE: u32 = 2;
pub const MS_SYNC: u32 = 4;

pub const MADV_NORMAL: u32 = 0;
pub const MADV_RANDOM: u32 = 1;
pub const MADV_SEQUENTIAL: u32 = 2;
pub const MADV_WILLNEED: u32 = 3;
pub const MADV_DONTNEED: u32 = 4;

pub const MFD_CLOEXEC: u32 = 1;
pub const MFD_ALLOW_SEALING: u32 = 2;
/// Longest memfd name (Linux: 249 bytes, so that "memfd:" and it fit NAME_MAX).
pub const MFD_NAME_MAX: usize = 249;

/// shm_open's name for "a new object with no name" (FreeBSD's: the pointer value 1).
pub const SHM_ANON: usize = 1;
