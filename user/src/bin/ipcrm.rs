//! ipcrm: remove System V shared-memory segments by id (`-m ID`) or key (`-M KEY`).
#![no_std]
#![no_main]
use abi::shm::IPC_RMID;
use abi::Errno;
use ulib::util::parse_int;
use ulib::{println, sys};

fn report(what: &str, arg: &str, e: Errno) {
    println!(
        "ipcrm: invalid {} {}: {} ({})",
        what,
        arg,
        e.name(),
        e.text()
    );
}

fn main(args: &[&str]) -> i32 {
    if args.len() < 3 || args.len().is_multiple_of(2) {
        println!("usage: ipcrm -m ID | -M KEY ...");
        return 2;
    }
    let mut status = 0;
    for pair in args[1..].chunks(2) {
        let (opt, arg) = (pair[0], pair[1]);
        let Some(v) = parse_int(arg) else {
            println!("ipcrm: {}: not a number", arg);
            status = 1;
            continue;
        };
        let r = match opt {
            "-m" => i32::try_from(v)
                .map_err(|_| Errno::EINVAL)
                .and_then(|id| sys::shmctl(id, IPC_RMID, 0)),
            "-M" => {
                if v == 0 {
                    Err(Errno::EINVAL) // IPC_PRIVATE names no segment
                } else {
                    sys::shmget(v as i32, 0, 0).and_then(|id| sys::shmctl(id, IPC_RMID, 0))
                }
            }
            _ => {
                println!(
                    "ipcrm: unknown option {} (only shared memory: -m ID, -M KEY)",
                    opt
                );
                return 2;
            }
        };
        if let Err(e) = r {
            report(if opt == "-m" { "id" } else { "key" }, arg, e);
            status = 1;
        }
    }
    status
}
ulib::entry!(main);
