//! Shared-memory test task driven by ostest: `shmtask MODE ID [ARG]`. Each mode plays one
//! side of a cross-process case; faulting modes expect to be killed by the kernel.
#![no_std]
#![no_main]
use core::sync::atomic::{AtomicU32, Ordering};
use ulib::abi::layout;
use ulib::abi::shm::SHM_RDONLY;
use ulib::{println, sys};

fn num(s: Option<&&str>) -> usize {
    s.and_then(|s| {
        s.strip_prefix("0x")
            .map_or_else(|| s.parse().ok(), |h| usize::from_str_radix(h, 16).ok())
    })
    .unwrap_or(0)
}

fn word(p: *mut u8, off: usize) -> &'static AtomicU32 {
    // SAFETY: `p` is a live attachment at least `off + 4` bytes long, 4-aligned at `off`.
    unsafe { &*(p.add(off) as *const AtomicU32) }
}

fn main(args: &[&str]) -> i32 {
    let mode = args.get(1).copied().unwrap_or("");
    let id = num(args.get(2)) as i32;
    let arg = num(args.get(3));
    let attach = |addr: usize, flags: i32| match sys::shmat(id, addr, flags) {
        Ok(p) => p,
        Err(e) => {
            println!("shmtask: shmat {}: {}", id, e.name());
            sys::exit(100)
        }
    };
    match mode {
        // Attach at ARG, check the parent's pattern at offset 0, answer at offset 64.
        "peer" => {
            let p = attach(arg, 0);
            if p as usize != arg {
                return 2;
            }
            // SAFETY: the segment is at least a page long.
            let got = unsafe { core::slice::from_raw_parts(p, 8) };
            if got != b"parent!!" {
                return 3;
            }
            // SAFETY: as above.
            unsafe { core::ptr::copy_nonoverlapping(b"child!!!".as_ptr(), p.add(64), 8) };
            0
        }
        // Sleep ARG ms, set the word at 0 to 1 and wake its waiter.
        "wake" => {
            let p = attach(0, 0);
            let _ = sys::sleep_ms(arg as u64);
            word(p, 0).store(1, Ordering::Release);
            match sys::futex_wake(word(p, 0), 1) {
                Ok(1) => 0,
                Ok(n) => 10 + n as i32,
                Err(_) => 4,
            }
        }
        // Read through a read-only attachment, then write: the write must kill us.
        "rdwrite" => {
            let p = attach(0, SHM_RDONLY);
            // SAFETY: reading a mapped page.
            let v = unsafe { core::ptr::read_volatile(p) };
            // SAFETY: deliberately not: the page is read-only.
            unsafe { core::ptr::write_volatile(p, v.wrapping_add(1)) };
            5
        }
        // Detach, then touch the old address: must kill us.
        "dtwrite" => {
            let p = attach(0, 0);
            if sys::shmdt(p).is_err() {
                return 6;
            }
            // SAFETY: deliberately not: nothing is mapped there any more.
            unsafe { core::ptr::write_volatile(p, 1) };
            7
        }
        // Touch byte ARG of the attachment (past the rounded-up end: killed).
        "touch" => {
            let p = attach(0, 0);
            // SAFETY: in range or, deliberately, not.
            unsafe { core::ptr::write_volatile(p.add(arg), 1) };
            0
        }
        // A stack frame that skips its probes (as C code may): a store ARG KiB below the
        // stack's lowest page. The attachment the kernel places highest must not be there.
        "clash" => {
            let p = attach(0, 0);
            let stack_lo = layout::USER_STACK_TOP - layout::USER_STACK_SIZE;
            let target = stack_lo - arg * 1024;
            if (p as usize..p as usize + 4096).contains(&target) {
                return 9; // placed inside the guard gap
            }
            // SAFETY: deliberately not: the guard gap below the stack must be unmapped.
            unsafe { core::ptr::write_volatile(target as *mut u64, 0xc1a5) };
            10
        }
        // Attach twice and exit without detaching.
        "hold2" => {
            attach(0, 0);
            attach(0, SHM_RDONLY);
            0
        }
        // Attach, then wait on the word at 0 until it leaves 0 (a writer wakes us).
        "waiter" => {
            let p = attach(0, 0);
            while word(p, 0).load(Ordering::Acquire) == 0 {
                match sys::futex_wait(word(p, 0), 0, None) {
                    Ok(()) | Err(ulib::Errno::EAGAIN) => {}
                    Err(_) => return 8,
                }
            }
            0
        }
        // Take the robust lock at 0, say so (word 16 to 1, woken), hold it ARG ms, then
        // fault: the kernel kills us holding it and must hand it on FUTEX_OWNER_DIED.
        "robust" => {
            let p = attach(0, 0);
            // SAFETY: offset 0 of the page-aligned attachment holds a RobustLock (16 bytes).
            let lock = unsafe { &*(p as *const shmsync::RobustLock) };
            if lock.lock(None) != Ok(shmsync::Acquired::Clean) {
                return 11;
            }
            word(p, 16).store(1, Ordering::Release);
            let _ = sys::futex_wake(word(p, 16), 1);
            let _ = sys::sleep_ms(arg as u64);
            // SAFETY: deliberately not: address 0 is never mapped.
            unsafe { core::ptr::write_volatile(core::ptr::null_mut::<u32>(), 1) };
            12
        }
        // Sleep ARG ms, then set word 12 to 1 and wake it (a futex_waitv waiter's index 1).
        "wakev" => {
            let p = attach(0, 0);
            let _ = sys::sleep_ms(arg as u64);
            word(p, 12).store(1, Ordering::Release);
            match sys::futex_wake(word(p, 12), 1) {
                Ok(1) => 0,
                _ => 13,
            }
        }
        _ => {
            println!(
                "usage: shmtask peer|wake|rdwrite|dtwrite|touch|clash|hold2|waiter|robust|wakev ID [ARG]"
            );
            1
        }
    }
}
ulib::entry!(main);
