//! Greets with its pid and arguments.
#![no_std]
#![no_main]
use ulib::{println, sys};

fn main(args: &[&str]) -> i32 {
    println!(
        "hello from pid {} (parent {}), args {:?}",
        sys::getpid(),
        sys::getppid(),
        args
    );
    0
}
ulib::entry!(main);
