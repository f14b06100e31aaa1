//! Shared memory: the one object (`object`) and the front ends on it (`sysv`).

pub mod object;
pub mod sysv;

pub use object::{ShmObj, BLOCK_PAGES};
pub use sysv::*;
