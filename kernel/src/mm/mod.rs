//! Memory management beyond the page allocator: shared-memory objects and their front ends.

pub mod shm;
