//! The parts of nsh that need no system: a line editor with history (fed one byte at a time,
//! answering with the bytes to echo) and the command-line parser. Unit-tested on the host.
#![no_std]

pub mod edit;
pub mod parse;
