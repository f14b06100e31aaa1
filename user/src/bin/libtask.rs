//! Test task for the shared-memory libraries, driven by ostest: `libtask MODE NAME [ARG...]`.
//! Each mode plays one process of a cross-process case of shmchan or shmheap.
#![no_std]
#![no_main]
use abi::mman::{MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ};
use core::sync::atomic::{AtomicU32, Ordering};
use shmchan::Area;
use shmheap::{Handle, Heap};
use ulib::{println, sys};

ulib::entry!(main);

fn num(s: Option<&&str>) -> u64 {
    s.and_then(|s| {
        s.strip_prefix("0x")
            .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok())
    })
    .unwrap_or(0)
}

/// The chunk and signals of the producer/consumer case.
pub const MSG_CAP: usize = 256;

/// Message `i`: its number, then `i % 200 + 1` bytes of a pattern that depends on `i`.
fn message(i: u32, buf: &mut [u8; MSG_CAP]) -> usize {
    let len = 4 + (i % 200) as usize + 1;
    buf[..4].copy_from_slice(&i.to_le_bytes());
    for (k, b) in buf[4..len].iter_mut().enumerate() {
        *b = (i as usize).wrapping_mul(31).wrapping_add(k) as u8;
    }
    len
}

/// Wait (polling, 5 s at most) until `f` holds.
fn until(mut f: impl FnMut() -> bool) -> bool {
    for _ in 0..5000 {
        if f() {
            return true;
        }
        let _ = sys::sleep_ms(1);
    }
    f()
}

/// A small xorshift for the churn mode's sizes and choices.
fn next(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

fn main(args: &[&str]) -> i32 {
    let mode = args.get(1).copied().unwrap_or("");
    let name = args.get(2).copied().unwrap_or("");
    let arg = num(args.get(3));
    match mode {
        // Attach, mark initialized, wait until ARG clients have; exit with the client number.
        "client" => {
            let Ok(a) = Area::attach(name) else {
                return 100;
            };
            if a.mark_client_initialized().is_err() {
                return 101;
            }
            let all = (1u64 << arg) - 1;
            if !until(|| a.initialized_clients() == all) {
                return 102;
            }
            a.client_nr() as i32
        }
        // Send ARG messages through chunk "data" (signal "ready"), taking it back on "free".
        "produce" => {
            let Ok(a) = Area::attach(name) else {
                return 100;
            };
            let (Ok(mut chunk), Ok(ready), Ok(mut free)) = (
                a.get_chunk("data"),
                a.get_signal("ready"),
                a.get_signal("free"),
            ) else {
                return 101;
            };
            chunk.connect(ready);
            let mut buf = [0u8; MSG_CAP];
            for i in 0..arg as u32 {
                while chunk.try_to_take().is_err() {
                    if free.wait(Some(5000)).is_err() {
                        println!("libtask: producer stuck at {}", i);
                        return 102;
                    }
                }
                let n = message(i, &mut buf);
                if chunk.write(&buf[..n]).is_err() || chunk.ready_sig(n).is_err() {
                    return 103;
                }
            }
            0
        }
        // Receive ARG messages and check each is the next one, whole.
        "consume" => {
            let Ok(a) = Area::attach(name) else {
                return 100;
            };
            let (Ok(mut chunk), Ok(ready), Ok(free)) = (
                a.get_chunk("data"),
                a.get_signal("ready"),
                a.get_signal("free"),
            ) else {
                return 101;
            };
            chunk.connect(ready);
            let (mut buf, mut want) = ([0u8; MSG_CAP], [0u8; MSG_CAP]);
            for i in 0..arg as u32 {
                while !chunk.is_ready() {
                    if chunk.wait(Some(5000)).is_err() {
                        println!("libtask: consumer stuck at {}", i);
                        return 102;
                    }
                }
                let Ok(n) = chunk.read(&mut buf) else {
                    return 103;
                };
                let m = message(i, &mut want);
                if n != m || buf[..n] != want[..m] {
                    println!("libtask: message {} wrong ({} bytes)", i, n);
                    return 104;
                }
                if chunk.consumed().is_err() || free.trigger().is_err() {
                    return 105;
                }
            }
            0
        }
        // Take the area lock, say so in word ARG of the area, then fault holding it.
        "chanhold" => {
            let Ok(a) = Area::attach(name) else {
                return 100;
            };
            let h = a.header();
            if h.lock.lock(None).is_err() {
                return 101;
            }
            // Half an append: the first descriptor now links to garbage.
            let first = h.first.load(Ordering::Acquire) as usize;
            if let Ok(d) = a.desc(first) {
                d.next.store(a.size() as u64 - 64, Ordering::Release);
            }
            // SAFETY: ARG is a 4-aligned offset inside the area, chosen by the parent.
            let flag = unsafe { &*(a.base().add(arg as usize) as *const AtomicU32) };
            flag.store(1, Ordering::Release);
            let _ = sys::futex_wake(flag, 1);
            let _ = sys::sleep_ms(50);
            // SAFETY: deliberately not: address 0 is never mapped.
            unsafe { core::ptr::write_volatile(core::ptr::null_mut::<u32>(), 1) };
            106
        }
        // Sleep ARG ms, then trigger signal ARG2 of the area.
        "trigger" => {
            let Ok(a) = Area::attach(name) else {
                return 100;
            };
            let _ = sys::sleep_ms(arg);
            match a.get_signal(args.get(4).copied().unwrap_or("")) {
                Ok(s) if s.trigger().is_ok() => 0,
                _ => 101,
            }
        }
        // Map the heap at another base than ARG (the parent's), read the parent's object
        // (handle ARG2), allocate a reply and put its handle at offset 32 of the parent's.
        "heapuse" => {
            // Something first, so the heap lands elsewhere than in the parent.
            let _ = sys::mmap(0, 8192, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            let Ok(h) = Heap::connect(name) else {
                return 100;
            };
            if h.underlying().as_ptr() as u64 == arg {
                return 101;
            }
            let Ok(p) = h.handle_to_ptr(Handle(num(args.get(4)))) else {
                return 102;
            };
            // SAFETY: a live allocation of at least 64 bytes (the parent's).
            let obj = unsafe { core::slice::from_raw_parts_mut(p.as_ptr(), 64) };
            if &obj[..12] != b"from parent\0" {
                return 103;
            }
            let Ok(r) = h.alloc(100) else { return 104 };
            // SAFETY: a fresh 100-byte allocation.
            unsafe {
                core::ptr::copy_nonoverlapping(c"from child".as_ptr().cast(), r.as_ptr(), 11)
            };
            let Ok(hr) = h.ptr_to_handle(r.as_ptr()) else {
                return 105;
            };
            obj[32..40].copy_from_slice(&hr.0.to_le_bytes());
            // SH-03: disconnect unmaps (this process's mapping only).
            let base = h.underlying().as_ptr();
            h.disconnect();
            if sys::mprotect(base, 4096, abi::mman::PROT_NONE) != Err(abi::Errno::ENOMEM) {
                return 106;
            }
            0
        }
        // ARG rounds of allocating (random sizes, up to 24 live), filling with a pattern,
        // checking it and freeing, alongside other processes doing the same.
        "churn" => {
            let Ok(h) = Heap::connect(name) else {
                return 100;
            };
            let mut x = 0x9e37_79b9_7f4a_7c15 ^ (sys::getpid() as u64).wrapping_mul(0x1234_5677);
            let mut live: [(usize, usize, u8); 24] = [(0, 0, 0); 24];
            for round in 0..arg {
                let slot = (next(&mut x) % 24) as usize;
                let (p, len, tag) = live[slot];
                if p != 0 {
                    // SAFETY: our live allocation of `len` bytes.
                    let s = unsafe { core::slice::from_raw_parts(p as *const u8, len) };
                    if s.iter().any(|&b| b != tag) {
                        println!("libtask: churn: object overwritten (round {})", round);
                        return 110;
                    }
                    if h.free(p as *mut u8).is_err() {
                        return 111;
                    }
                    live[slot] = (0, 0, 0);
                } else {
                    let len = 1 + (next(&mut x) % 700) as usize;
                    match h.alloc(len) {
                        Ok(q) => {
                            let tag = next(&mut x) as u8;
                            // SAFETY: a fresh allocation of `len` bytes.
                            unsafe { core::ptr::write_bytes(q.as_ptr(), tag, len) };
                            live[slot] = (q.as_ptr() as usize, len, tag);
                        }
                        Err(abi::Errno::ENOMEM) => {}
                        Err(e) => {
                            println!("libtask: churn: alloc: {}", e.name());
                            return 112;
                        }
                    }
                }
            }
            for &(p, _, _) in &live {
                if p != 0 && h.free(p as *mut u8).is_err() {
                    return 113;
                }
            }
            0
        }
        // Take the heap's lock (offset 32), scribble on its free-list head, say so in the
        // word at offset ARG, then hold it until killed.
        "heaphold" => {
            let Ok(m) = shmsync::os::attach(name) else {
                return 100;
            };
            // SAFETY: offset 32 of the mapping holds the heap's RobustLock (16 bytes; the
            // layout in shmheap's documentation), 16-aligned in a page-aligned mapping.
            let lock = unsafe { &*(m.base.add(32) as *const shmsync::RobustLock) };
            if lock.lock(None).is_err() {
                return 101;
            }
            // SAFETY: offset 16 is the free-list head word, 8-aligned, inside the mapping.
            unsafe { core::ptr::write_volatile(m.base.add(16) as *mut u64, 0xdead_beef) };
            // SAFETY: ARG is a 4-aligned offset in the mapping, chosen by the parent.
            let flag = unsafe { &*(m.base.add(arg as usize) as *const AtomicU32) };
            flag.store(1, Ordering::Release);
            let _ = sys::futex_wake(flag, 1);
            loop {
                let _ = sys::sleep_ms(1000);
            }
        }
        _ => {
            println!(
                "usage: libtask client|produce|consume|chanhold|trigger|heapuse|churn|heaphold NAME [ARG...]"
            );
            1
        }
    }
}
