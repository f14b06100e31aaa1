//! Files: open file descriptions and descriptor tables, the console, pipes and the rom file
//! system (DESIGN.md 3a, 4a).

pub mod console;
pub mod dev;
pub mod file;
pub mod iov;
pub mod namespace;
pub mod open;
pub mod ops;
pub mod pipe;
pub mod romfs;
pub mod share;
