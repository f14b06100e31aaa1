//! Memory management beyond the page allocator: shared-memory objects and their front ends.

pub mod info;
pub mod map;
pub mod mmap;
pub mod shm;
pub mod vm;
