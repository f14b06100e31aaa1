//! `fcntl.h`: open flags, descriptor commands and flags (Linux aarch64 values).

/// Access modes (the low two bits of the open flags).
pub const O_RDONLY: u32 = 0;
pub const O_WRONLY: u32 = 1;
pub const O_RDWR: u32 = 2;
pub const O_ACCMODE: u32 = 3;
pub const O_CREAT: u32 = 0o100;
pub const O_EXCL: u32 = 0o200;
pub const O_NOCTTY: u32 = 0o400;
pub const O_TRUNC: u32 = 0o1000;
pub const O_APPEND: u32 = 0o2000;
pub const O_NONBLOCK: u32 = 0o4000;
pub const O_DSYNC: u32 = 0o10000;
/// aarch64's values (they differ from x86's).
pub const O_DIRECTORY: u32 = 0o40000;
pub const O_NOFOLLOW: u32 = 0o100000;
pub const O_LARGEFILE: u32 = 0o400000;
pub const O_SYNC: u32 = 0o4010000;
pub const O_CLOEXEC: u32 = 0o2000000;

/// fcntl commands.
pub const F_DUPFD: usize = 0;
pub const F_GETFD: usize = 1;
pub const F_SETFD: usize = 2;
pub const F_GETFL: usize = 3;
pub const F_SETFL: usize = 4;
pub const F_DUPFD_CLOEXEC: usize = 1030;

/// The one descriptor flag.
pub const FD_CLOEXEC: usize = 1;

/// The directory descriptor meaning "the working directory" (openat and friends).
pub const AT_FDCWD: isize = -100;
pub const AT_SYMLINK_NOFOLLOW: usize = 0x100;
pub const AT_EMPTY_PATH: usize = 0x1000;
pub const AT_REMOVEDIR: usize = 0x200;

/// getdents64 record types.
pub const DT_CHR: u8 = 2;
pub const DT_DIR: u8 = 4;
pub const DT_REG: u8 = 8;

/// lseek whence.
pub const SEEK_SET: usize = 0;
pub const SEEK_CUR: usize = 1;
pub const SEEK_END: usize = 2;

/// File seals (memfd_create with MFD_ALLOW_SEALING), fcntl F_ADD_SEALS / F_GET_SEALS.
pub const F_ADD_SEALS: usize = 1033;
pub const F_GET_SEALS: usize = 1034;
pub const F_SEAL_SEAL: u32 = 0x01;
pub const F_SEAL_SHRINK: u32 = 0x02;
pub const F_SEAL_GROW: u32 = 0x04;
pub const F_SEAL_WRITE: u32 = 0x08;
pub const F_SEAL_FUTURE_WRITE: u32 = 0x10;
