//! First user process. Boot arguments choose the mode: `test` runs ostest and powers off with
//! its verdict; otherwise it keeps the shell running on the console.
#![no_std]
#![no_main]
use abi::sys::{wexitstatus, wifexited, wtermsig};
use ulib::{println, sys};

fn run(prog: &str, args: &[&str]) -> Option<i32> {
    match sys::spawn(prog, args) {
        Ok(pid) => match sys::wait(pid, 0) {
            Ok((_, st)) if wifexited(st) => Some(wexitstatus(st)),
            Ok((_, st)) => {
                println!("init: {} killed by signal {}", prog, wtermsig(st));
                Some(128 + wtermsig(st))
            }
            Err(e) => {
                println!("init: wait: {}", e.name());
                None
            }
        },
        Err(e) => {
            println!("init: cannot start {}: {} ({})", prog, e.name(), e.text());
            None
        }
    }
}

fn main(args: &[&str]) -> i32 {
    if args.contains(&"init-fault") {
        // For the test of what the kernel does when init dies: fault on purpose.
        // SAFETY: deliberately not: address 0 is never mapped.
        return unsafe { core::ptr::read_volatile(core::ptr::null::<i32>()) };
    }
    if args.contains(&"poweroff") {
        // Boot check only: report memory and stop.
        let m = sys::meminfo();
        println!("init: {} pages free of {}", m.pages_free, m.pages_total);
        let _ = sys::poweroff(0);
    }
    if args.contains(&"bench") {
        let code = run("bench", &[]).unwrap_or(255);
        let _ = sys::poweroff(code);
        return code;
    }
    if args.contains(&"test") {
        // `ostest=PATTERN` on the command line runs only the matching cases.
        let filter = args.iter().find_map(|a| a.strip_prefix("ostest="));
        let code = run("ostest", filter.as_slice()).unwrap_or(255);
        let _ = sys::poweroff(code);
        return code;
    }
    loop {
        let st = run("nsh", &[]);
        println!("init: nsh exited ({:?}); restarting", st);
        let _ = sys::sleep_ms(100);
    }
}
ulib::entry!(main);
