//! ipcmk: create a System V shared-memory segment (util-linux style).
//! `ipcmk -M SIZE [-p MODE]` prints `Shared memory id: N`.
#![no_std]
#![no_main]
use abi::shm::{IPC_CREAT, IPC_EXCL};
use abi::Errno;
use ulib::util::{fail, parse_mode, parse_size};
use ulib::{println, sys};

fn usage() -> i32 {
    println!(
        "usage: ipcmk -M SIZE [-p MODE]   (SIZE: bytes, or with K/M/G; MODE: octal, default 644)"
    );
    2
}

fn main(args: &[&str]) -> i32 {
    let (mut size, mut mode) = (None, 0o644);
    let mut i = 1;
    while i < args.len() {
        match (args[i], args.get(i + 1)) {
            ("-M" | "--shmem", Some(v)) => match parse_size(v) {
                Some(s) => size = Some(s),
                None => {
                    println!("ipcmk: invalid size: {}", v);
                    return 2;
                }
            },
            ("-p" | "--mode", Some(v)) => match parse_mode(v) {
                Some(m) => mode = m as i32,
                None => {
                    println!("ipcmk: invalid mode: {}", v);
                    return 2;
                }
            },
            _ => return usage(),
        }
        i += 2;
    }
    let Some(size) = size else { return usage() };
    // A fresh random-looking key, as util-linux does; retry if it is taken.
    let mut x = sys::now_ns() ^ ((sys::getpid() as u64) << 32) ^ 0x9e37_79b9_7f4a_7c15;
    for _ in 0..16 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let key = (x as i32) & 0x7fff_ffff;
        if key == 0 {
            continue;
        }
        match sys::shmget(key, size, IPC_CREAT | IPC_EXCL | mode) {
            Ok(id) => {
                println!("Shared memory id: {}", id);
                return 0;
            }
            Err(Errno::EEXIST) => continue,
            Err(e) => {
                return fail(
                    "ipcmk",
                    format_args!("create shared memory ({} bytes)", size),
                    e,
                )
            }
        }
    }
    fail("ipcmk", format_args!("no free key"), Errno::EEXIST)
}
ulib::entry!(main);
