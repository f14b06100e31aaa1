//! Files: the console, pipes and the rom file system (DESIGN.md 3a, 4a: the file layer grows
//! here).

pub mod console;
pub mod pipe;
pub mod romfs;
