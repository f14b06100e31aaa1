//! Test task driven by ostest: `ttask MODE [ARG]`. Modes exit with a status, spin, sleep,
//! check isolation, or fault in a chosen way (the kernel must kill it and carry on).
#![no_std]
#![no_main]
use core::hint::black_box;
use ulib::{println, sys};

static mut ISO: u64 = 0;

fn num(s: Option<&&str>) -> u64 {
    s.and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn recurse(depth: u64) -> u64 {
    let buf = black_box([depth as u8; 1024]);
    if depth == 0 {
        return buf[0] as u64;
    }
    black_box(recurse(depth - 1)) + buf[1] as u64
}

fn fault(kind: &str) -> i32 {
    // SAFETY: none of this is safe: each arm deliberately does what a user program must not,
    // and the kernel is expected to kill the task.
    unsafe {
        match kind {
            "null" => black_box(core::ptr::read_volatile(core::ptr::null::<u64>())) as i32,
            "kread" => core::ptr::read_volatile(0xffff_ff80_4020_0000usize as *const u64) as i32,
            "kwrite" => {
                core::ptr::write_volatile(0xffff_ff80_4020_0000usize as *mut u64, 0);
                0
            }
            "phys" => core::ptr::read_volatile(0x4000_0000usize as *const u64) as i32,
            "wild" => {
                let f: extern "C" fn() = core::mem::transmute(0x1234_5000usize);
                f();
                0
            }
            "xdata" => {
                let code = black_box([0xd65f03c0u32; 4]); // ret
                let f: extern "C" fn() = core::mem::transmute(code.as_ptr());
                f();
                0
            }
            "wtext" => {
                core::ptr::write_volatile(0x40_0000usize as *mut u32, 0);
                0
            }
            "undef" => {
                core::arch::asm!("udf #0");
                0
            }
            "sysreg" => {
                let v: u64;
                core::arch::asm!("mrs {}, sctlr_el1", out(reg) v);
                v as i32
            }
            "fp" => {
                core::arch::asm!(".inst 0x9e6703e0"); // fmov d0, xzr
                0
            }
            "pcalign" => {
                let f: extern "C" fn() = core::mem::transmute(0x40_0002usize);
                f();
                0
            }
            "stack" => recurse(1_000_000) as i32,
            _ => {
                println!("ttask: unknown fault {}", kind);
                2
            }
        }
    }
}

fn main(args: &[&str]) -> i32 {
    match args.get(1).copied().unwrap_or("") {
        "exit" => num(args.get(2)) as i32,
        "ppid" => (sys::getppid() as u64 != num(args.get(2))) as i32,
        "sleep" => {
            let _ = sys::sleep_ms(num(args.get(2)));
            0
        }
        "spin" => {
            let end = sys::now_ns() + num(args.get(2)) * 1_000_000;
            while sys::now_ns() < end {
                black_box(0);
            }
            0
        }
        "iso" => {
            let me = sys::getpid() as u64;
            // SAFETY: single-threaded process; the static is only touched here.
            unsafe {
                core::ptr::write_volatile(&raw mut ISO, me);
                let _ = sys::sleep_ms(num(args.get(2)));
                (core::ptr::read_volatile(&raw const ISO) != me) as i32
            }
        }
        "fault" => fault(args.get(2).copied().unwrap_or("")),
        m => {
            println!("ttask: unknown mode {}", m);
            2
        }
    }
}
ulib::entry!(main);
