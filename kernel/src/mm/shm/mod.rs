//! Shared memory: the one object (`object`) and the front ends on it (`sysv`, `posix`).

pub mod object;
pub mod posix;
pub mod sysv;

pub use object::{ShmObj, BLOCK_PAGES};
pub use sysv::*;
