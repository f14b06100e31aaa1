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
    if args.contains(&"test") {
        let code = run("ostest", &[]).unwrap_or(255);
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
