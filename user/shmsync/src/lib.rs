//! What the shared-memory libraries share: a robust lock that lives in shared memory
//! (`lock`), and the system calls they make (`os`): futex wait/wake/waitv, the robust list,
//! named POSIX objects, time. On the target these are the kernel's; on the host, where the
//! libraries' logic is unit-tested with threads standing in for processes, `os` emulates
//! them with std.
#![no_std]

#[cfg(not(target_os = "none"))]
extern crate std;

pub mod lock;
pub mod os;

pub use abi::Errno;
pub use lock::{Acquired, RobustLock};
