//! Test task driven by ostest: `ttask MODE [ARG]`. Modes exit with a status, spin, sleep,
//! check isolation, or fault in a chosen way (the kernel must kill it and carry on).
#![no_std]
#![no_main]
extern crate alloc;
use core::hint::black_box;
use ulib::{println, sys};

static mut ISO: u64 = 0;
static CAUGHT: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

extern "C" fn count_signal(_sig: i32) {
    CAUGHT.fetch_add(1, core::sync::atomic::Ordering::Relaxed);
}

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

fn pshm_peer(name: &str) -> i32 {
    use abi::mman::*;
    let Ok(fd) = sys::shm_open(name, abi::fcntl::O_RDWR, 0) else {
        return 1;
    };
    let Ok(p) = sys::mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0) else {
        return 2;
    };
    let _ = sys::close(fd);
    let mut head = [0u8; 5];
    // SAFETY: a one-page mapping of an object of at least one page.
    unsafe {
        core::ptr::copy_nonoverlapping(p, head.as_mut_ptr(), 5);
        core::ptr::copy_nonoverlapping(b"world".as_ptr(), p.add(5), 5);
    }
    let _ = sys::munmap(p, 4096);
    (head != *b"hello") as i32 * 5
}

fn main(args: &[&str]) -> i32 {
    match args.get(1).copied().unwrap_or("") {
        "exit" => num(args.get(2)) as i32,
        // pshm NAME: map the POSIX object at an address of its own, check that it starts
        // with "hello", write "world" after it. Status 0 when all went as expected.
        "pshm" => pshm_peer(args.get(2).copied().unwrap_or("")),
        // pshmbus NAME: map two pages of a one-page object and touch the second (SIGBUS).
        "pshmbus" => {
            use abi::mman::*;
            let Ok(fd) = sys::shm_open(args.get(2).copied().unwrap_or(""), abi::fcntl::O_RDWR, 0)
            else {
                return 3;
            };
            let Ok(p) = sys::mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
            else {
                return 4;
            };
            // SAFETY: the mapping is two pages long; the second is past the object's end,
            // so this read is meant to fault.
            unsafe { core::ptr::read_volatile(p.add(4096)) as i32 }
        }
        // fdmap FD: map the inherited object descriptor FD and write "child" at its start.
        "fdmap" => {
            use abi::mman::*;
            let fd = num(args.get(2)) as isize;
            match sys::mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) {
                Ok(p) => {
                    // SAFETY: a one-page writable mapping.
                    unsafe { core::ptr::copy_nonoverlapping(b"child".as_ptr(), p, 5) };
                    0
                }
                Err(_) => 1,
            }
        }
        // claim: read a share() key from stdin, claim it, map the object, check that it
        // starts with "hello", write "world" after it; a second claim of the same key must
        // fail with ENOENT. Status 0 when all went as expected.
        "claim" => {
            use abi::mman::*;
            let mut key = [0u8; abi::sys::KEY_LEN];
            let mut got = 0;
            while got < key.len() {
                match sys::read(0, &mut key[got..]) {
                    Ok(0) | Err(_) => return 10,
                    Ok(n) => got += n,
                }
            }
            let key = core::str::from_utf8(&key).unwrap_or("");
            let Ok(fd) = sys::claim(key) else { return 11 };
            if sys::claim(key) != Err(abi::Errno::ENOENT) {
                return 12;
            }
            let Ok(p) = sys::mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
            else {
                return 13;
            };
            let mut head = [0u8; 5];
            // SAFETY: a one-page writable mapping.
            unsafe {
                core::ptr::copy_nonoverlapping(p, head.as_mut_ptr(), 5);
                core::ptr::copy_nonoverlapping(b"world".as_ptr(), p.add(5), 5);
            }
            (head != *b"hello") as i32 * 14
        }
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
        // `catch MS`: catch SIGINT and sleep MS ms; a SIGINT must cut the sleep short with
        // EINTR and the time left, and run the handler once (exit 0).
        "catch" => {
            let ms = num(args.get(2));
            if sys::sigaction(2, sys::Handler::Catch(count_signal), 0, 0).is_err() {
                return 1;
            }
            match sys::sleep_rem(ms * 1_000_000) {
                Err((ulib::Errno::EINTR, left)) if left > 0 && left < ms * 1_000_000 => {
                    (CAUGHT.load(core::sync::atomic::Ordering::Relaxed) != 1) as i32 * 3
                }
                Ok(()) => 2,
                Err(_) => 4,
            }
        }
        // `catchwrite BYTES`: catch SIGINT, then one big console write: SIGINT must end it
        // early with the count written so far (exit 0).
        "catchwrite" => {
            let n = num(args.get(2)) as usize;
            if sys::sigaction(2, sys::Handler::Catch(count_signal), 0, 0).is_err() {
                return 1;
            }
            let mut buf = alloc::vec![b' '; n];
            for i in (63..n).step_by(64) {
                buf[i] = b'\r';
            }
            match sys::write(1, &buf) {
                Ok(w) if w > 0 && w < n => 0,
                Ok(_) => 2,
                Err(_) => 3,
            }
        }
        // `ticker N`: at priority 255, sleep 10 ms N times; the exit status is the worst
        // lateness in milliseconds (255 at most).
        "ticker" => {
            let _ = sys::setpriority(0, 255);
            let mut worst = 0;
            for _ in 0..num(args.get(2)) {
                let t0 = sys::now_ns();
                let _ = sys::sleep_ms(10);
                worst = worst.max((sys::now_ns() - t0).saturating_sub(10_000_000));
            }
            (worst / 1_000_000).min(255) as i32
        }
        // `bigwrite BYTES`: one write(2) of that many bytes (blank lines ending in '\r', so
        // a terminal shows nothing) to the console.
        "bigwrite" => {
            let n = num(args.get(2)) as usize;
            let mut buf = alloc::vec![b' '; n];
            for i in (63..n).step_by(64) {
                buf[i] = b'\r';
            }
            match sys::write(1, &buf) {
                Ok(w) if w == n => 0,
                _ => 1,
            }
        }
        // TPIDR_EL0 starts at 0 and keeps this process's value across sleeps and switches.
        // Exit 0 if descriptor N is open here, 1 if not (what a spawned child inherited).
        "fdopen" => match sys::fcntl(num(args.get(2)) as usize, abi::fcntl::F_GETFD, 0) {
            Ok(_) => 0,
            Err(_) => 1,
        },
        "tls" => {
            if sys::tls() != 0 {
                return 1;
            }
            let mine = 0x7100_0000_0000_0000 | sys::getpid() as u64;
            sys::set_tls(mine);
            for _ in 0..5 {
                let _ = sys::sleep_ms(num(args.get(2)));
                if sys::tls() != mine {
                    return 2;
                }
            }
            0
        }
        // `fg UID PID`: in a session of our own as UID, try to make PID the console's
        // foreground; the exit status is the errno (0: allowed).
        "fg" => {
            let _ = sys::setsid();
            let uid = num(args.get(2)) as u32;
            if uid != 0 && sys::setuid(uid).is_err() {
                return 100;
            }
            match sys::set_foreground(num(args.get(3)) as i32) {
                Ok(()) => 0,
                Err(e) => e.0,
            }
        }
        // `killinit SIG`: try to signal init; the exit status is the errno (0: it worked).
        "killinit" => match sys::kill(1, num(args.get(2)) as usize) {
            Ok(()) => 0,
            Err(e) => e.0,
        },
        // Every argument arrived and the kernel's argv array ends with NULL.
        "argv" => {
            let argv = ulib::ARGV.load(core::sync::atomic::Ordering::Relaxed) as *const usize;
            // SAFETY: the kernel's argv array holds args.len() pointers and the NULL after them.
            let end = unsafe { argv.add(args.len()).read() };
            (args.len() as u64 != num(args.get(2)) || end != 0) as i32
        }
        m => {
            println!("ttask: unknown mode {}", m);
            2
        }
    }
}
ulib::entry!(main);
