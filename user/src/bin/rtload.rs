//! rtload: background load for latency measurements (`cyclictest` beside it). Each mode runs
//! until killed:
//!
//!   rtload shm       create, attach, touch, detach and remove 64 MiB segments
//!   rtload attach    attach and detach one 64 MiB segment (and a 1-page one) in a loop
//!   rtload console   write to the console, 64 KiB every 10 ms (blank lines, so terminals
//!                    stay clean)
//!   rtload sys       a mix of syscalls: grow and shrink the heap by 16 MiB, pipes, spawn
//!                    and wait, task and memory queries, bad pointers
//!   rtload frag N    scatter free memory (N one-page segments 2 MiB apart) so that new
//!                    segments are built from single pages, then hold
#![no_std]
#![no_main]
extern crate alloc;
use abi::shm::{IPC_PRIVATE, IPC_RMID, SHMMAX};
use ulib::{println, sys};

fn seg(bytes: usize) -> Option<i32> {
    sys::shmget(IPC_PRIVATE, bytes, 0o600).ok()
}

fn rmid(id: i32) {
    let _ = sys::shmctl(id, IPC_RMID, 0);
}

fn touch(p: *mut u8, len: usize) {
    // SAFETY: the first and last byte of a live attachment of `len` bytes.
    unsafe {
        p.write_volatile(1);
        p.add(len - 1).write_volatile(1);
    }
}

fn shm() -> ! {
    loop {
        if let Some(id) = seg(SHMMAX) {
            if let Ok(p) = sys::shmat(id, 0, 0) {
                touch(p, SHMMAX);
                let _ = sys::shmdt(p);
            }
            rmid(id);
        }
    }
}

fn attach() -> ! {
    let big = seg(SHMMAX);
    let small = seg(4096);
    loop {
        for id in [big, small].into_iter().flatten() {
            if let Ok(p) = sys::shmat(id, 0, 0) {
                let _ = sys::shmdt(p);
            }
        }
    }
}

/// 64 KiB every 10 ms (6.4 MB/s): each write fills the transmit ring many times over and
/// blocks, yet the emulator, which spends real time on every byte, is not swamped.
fn console() -> ! {
    let mut buf = alloc::vec![b' '; 64 << 10];
    for i in (63..buf.len()).step_by(64) {
        buf[i] = b'\r';
    }
    loop {
        let _ = sys::write(1, &buf);
        let _ = sys::sleep_ms(10);
    }
}

fn syscalls() -> ! {
    let base = sys::brk(0);
    loop {
        sys::brk(base + (16 << 20));
        sys::brk(base);
        if let Ok((r, w)) = sys::pipe() {
            let _ = sys::write(w, b"x");
            let _ = sys::close(w);
            let _ = sys::close(r);
        }
        if let Ok(pid) = sys::spawn("hello", &[]) {
            let _ = sys::wait(pid, 0);
        }
        let _ = sys::meminfo();
        let _ = sys::taskinfo(0);
        let _ = sys::call(abi::sys::nr::WRITE, &[1, 0xffff_ff80_0000_0000, 1 << 30]);
        let _ = sys::call(abi::sys::nr::READ, &[0, 0x10, usize::MAX]);
    }
}

/// One-page segments laid between 2 MiB stretches of heap, then the heap given back: free
/// memory is left with a used page in every 2 MiB, so no aligned run is free and big
/// segments are built (and mapped) page by page, the slow case.
fn frag(n: usize) -> ! {
    let base = sys::brk(0);
    let mut top = base;
    for _ in 0..n {
        if seg(4096).is_none() {
            break;
        }
        top += 2 << 20;
        if sys::brk(top) != top {
            break;
        }
    }
    sys::brk(base);
    loop {
        let _ = sys::sleep_ms(1000);
    }
}

fn main(args: &[&str]) -> i32 {
    match args.get(1).copied() {
        Some("shm") => shm(),
        Some("attach") => attach(),
        Some("console") => console(),
        Some("sys") => syscalls(),
        Some("frag") => frag(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(120)),
        _ => {
            println!("usage: rtload shm|attach|console|sys|frag [N]");
            2
        }
    }
}
ulib::entry!(main);
