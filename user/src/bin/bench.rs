//! Benchmarks: shared memory and kernel primitives, each beside a baseline measured in the
//! same run. Times come from the virtual counter; under `qemu-run.sh --bench` (QEMU
//! `-icount shift=0`) one virtual nanosecond is one guest instruction, so the figures are
//! instruction counts and repeat exactly. Prints a Markdown report between markers that
//! qemu-run.sh copies to BENCHMARKS.md.
#![no_std]
#![no_main]
extern crate alloc;

use abi::fcntl::{O_CREAT, O_EXCL, O_RDWR};
use abi::mman::{MAP_SHARED, PROT_READ, PROT_WRITE};
use abi::shm::{IPC_PRIVATE, IPC_RMID};
use alloc::vec;
use alloc::vec::Vec;
use core::hint::black_box;
use core::sync::atomic::{AtomicU32, Ordering};
use ulib::{println, sys};

const PAGE: usize = 4096;

/// Virtual nanoseconds (instructions under icount) since an arbitrary point.
fn now() -> u64 {
    let t = sys::cntvct() as u128;
    (t * 1_000_000_000 / sys::cntfrq() as u128) as u64
}

/// Average cost of `f` over `iters` runs, in thousandths of a nanosecond (one warm-up run).
fn measure(iters: u64, mut f: impl FnMut()) -> u64 {
    f();
    let t0 = now();
    for _ in 0..iters {
        f();
    }
    (now() - t0) * 1000 / iters
}

/// Thousandths as "12.345" trimmed to one decimal.
struct Milli(u64);
impl core::fmt::Display for Milli {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        write!(f, "{}.{}", self.0 / 1000, self.0 % 1000 / 100)
    }
}

/// a / b as "x.yy".
struct Ratio(u64, u64);
impl core::fmt::Display for Ratio {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        if self.1 == 0 {
            return write!(f, "-");
        }
        let r = self.0 * 100 / self.1;
        write!(f, "{}.{:02}", r / 100, r % 100)
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**missed**"
    }
}

static mut TABLE: [u64; 8192] = [0; 8192];

/// The descriptor-store baseline: write `n` page descriptors into a table.
fn store_descriptors(n: usize) {
    let base = 0x4800_0000u64;
    let t = &raw mut TABLE;
    for i in 0..n {
        // SAFETY: i < n <= 8192, the table's length; volatile so the loop is not elided.
        unsafe {
            (t as *mut u64)
                .add(i)
                .write_volatile((base + (i as u64) * 4096) | 0x0060_0000_0000_0743)
        };
    }
}

fn seg(pages: usize) -> i32 {
    sys::shmget(IPC_PRIVATE, pages * PAGE, 0o600).expect("shmget")
}

fn rmid(id: i32) {
    sys::shmctl(id, IPC_RMID, 0).expect("IPC_RMID");
}

fn word(p: *mut u8, off: usize) -> &'static AtomicU32 {
    // SAFETY: p is a live shared attachment; off is 4-aligned and inside it.
    unsafe { &*(p.add(off) as *const AtomicU32) }
}

// ---- the ring buffer shared by producer and consumer ----

const RING: usize = 64 * 1024;
const CHUNK: usize = 4096;
const TOTAL: usize = 4 << 20;
/// Header words: bytes produced, bytes consumed, "consumer waits", "producer waits".
const HEAD: usize = 0;
const TAIL: usize = 4;
const CWAIT: usize = 8;
const PWAIT: usize = 12;
const DATA: usize = PAGE;

/// Stamp chunk `i` so the consumer can check order and content.
fn stamp(buf: &mut [u8], i: usize) {
    buf[..8].copy_from_slice(&(i as u64).to_le_bytes());
    let n = buf.len();
    buf[n - 8..].copy_from_slice(&(!(i as u64)).to_le_bytes());
}

fn check(buf: &[u8], i: usize) -> bool {
    let n = buf.len();
    buf[..8] == (i as u64).to_le_bytes() && buf[n - 8..] == (!(i as u64)).to_le_bytes()
}

fn ring_produce(p: *mut u8, src: &[u8]) {
    let (head, tail, cwait, pwait) = (word(p, HEAD), word(p, TAIL), word(p, CWAIT), word(p, PWAIT));
    let mut h = 0u32;
    for chunk in src.chunks(CHUNK) {
        loop {
            let t = tail.load(Ordering::Acquire);
            if (h.wrapping_sub(t) as usize) < RING {
                break;
            }
            pwait.store(1, Ordering::SeqCst);
            if tail.load(Ordering::Acquire) == t {
                let _ = sys::futex_wait(tail, t, None);
            }
        }
        let off = DATA + (h as usize % RING);
        // SAFETY: [off, off+CHUNK) is inside the ring, which the consumer is not reading.
        unsafe { core::ptr::copy_nonoverlapping(chunk.as_ptr(), p.add(off), chunk.len()) };
        h = h.wrapping_add(chunk.len() as u32);
        head.store(h, Ordering::Release);
        // One wake per wait: whoever clears the flag wakes.
        if cwait.swap(0, Ordering::SeqCst) != 0 {
            let _ = sys::futex_wake(head, 1);
        }
    }
}

fn ring_consume(p: *mut u8, total: usize) -> bool {
    let (head, tail, cwait, pwait) = (word(p, HEAD), word(p, TAIL), word(p, CWAIT), word(p, PWAIT));
    let mut t = 0u32;
    let mut ok = true;
    for i in 0..total / CHUNK {
        loop {
            let h = head.load(Ordering::Acquire);
            if h != t {
                break;
            }
            cwait.store(1, Ordering::SeqCst);
            if head.load(Ordering::Acquire) == h {
                let _ = sys::futex_wait(head, h, None);
            }
        }
        let off = DATA + (t as usize % RING);
        // SAFETY: the producer published [off, off+CHUNK) before advancing head.
        let chunk = unsafe { core::slice::from_raw_parts(p.add(off), CHUNK) };
        ok &= check(chunk, i);
        t = t.wrapping_add(CHUNK as u32);
        tail.store(t, Ordering::Release);
        if pwait.swap(0, Ordering::SeqCst) != 0 {
            let _ = sys::futex_wake(tail, 1);
        }
    }
    ok
}

/// A zeroed, 8-byte aligned byte buffer (copies between aligned buffers take the word path,
/// as they would in any real program).
struct Buf(Vec<u64>);
impl Buf {
    fn new(bytes: usize) -> Buf {
        Buf(vec![0u64; bytes.div_ceil(8)])
    }
    fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: a u64 buffer viewed as its bytes.
        unsafe { core::slice::from_raw_parts_mut(self.0.as_mut_ptr() as *mut u8, self.0.len() * 8) }
    }
}

fn source() -> Buf {
    let mut src = Buf::new(TOTAL);
    for (i, c) in src.bytes().chunks_mut(CHUNK).enumerate() {
        stamp(c, i);
    }
    src
}

/// Child side of the two-process figures: `bench ringc ID`, `bench pipec RFD`, `bench pong ID`.
fn child(args: &[&str]) -> i32 {
    let num = |i: usize| {
        args.get(i)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(-1)
    };
    match args[1] {
        "ringc" => {
            let p = sys::shmat(num(2) as i32, 0, 0).expect("shmat");
            if ring_consume(p, TOTAL) {
                0
            } else {
                3
            }
        }
        "pipec" => {
            let fd = num(2) as usize;
            let mut b = Buf::new(CHUNK);
            let buf = b.bytes();
            let mut ok = true;
            for i in 0..TOTAL / CHUNK {
                let mut got = 0;
                while got < CHUNK {
                    match sys::read(fd, &mut buf[got..]) {
                        Ok(0) | Err(_) => return 4,
                        Ok(n) => got += n,
                    }
                }
                ok &= check(buf, i);
            }
            if ok {
                0
            } else {
                3
            }
        }
        "pong" => {
            let p = sys::shmat(num(2) as i32, 0, 0).expect("shmat");
            let w = word(p, 0);
            loop {
                let v = w.load(Ordering::Acquire);
                match v {
                    0 => {
                        let _ = sys::futex_wait(w, 0, None);
                    }
                    2 => return 0,
                    _ => {
                        w.store(0, Ordering::Release);
                        let _ = sys::futex_wake(w, 1);
                    }
                }
            }
        }
        // For profiling the syscall path: `bench nullloop N`.
        "nullloop" => {
            for _ in 0..num(2).max(1) {
                black_box(sys::getppid());
            }
            0
        }
        // For profiling the attach path: `bench shmloop N`.
        "shmloop" => {
            let id = seg(1);
            for _ in 0..num(2).max(1) {
                let p = sys::shmat(id, 0, 0).expect("shmat");
                sys::shmdt(p).expect("shmdt");
            }
            rmid(id);
            0
        }
        // For profiling the object mapping path: `bench mmaploop N`.
        "mmaploop" => {
            let fd = sys::shm_open(PSHM_NAME, O_CREAT | O_RDWR, 0o600).expect("shm_open");
            sys::ftruncate(fd, PAGE as u64).expect("ftruncate");
            for _ in 0..num(2).max(1) {
                let p = sys::mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
                    .expect("mmap");
                sys::munmap(p, PAGE).expect("munmap");
            }
            let _ = sys::close(fd);
            let _ = sys::shm_unlink(PSHM_NAME);
            0
        }
        // For profiling the whole /dev/shmem/new lifecycle: `bench shmemloop N`.
        "shmemloop" => {
            for _ in 0..num(2).max(1) {
                let fd = sys::open("/dev/shmem/new", O_RDWR).expect("open");
                let p = sys::mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
                    .expect("mmap");
                sys::munmap(p, PAGE).expect("munmap");
                sys::close(fd).expect("close");
            }
            0
        }
        _ => 1,
    }
}

/// The POSIX object the mmap figures use.
const PSHM_NAME: &str = "/bench.pshm";

/// Average mmap+munmap (MAP_SHARED, read-write) of a whole `n`-page POSIX object that
/// exists before and after the loop.
fn pshm_map_pair(n: usize) -> u64 {
    let fd = sys::shm_open(PSHM_NAME, O_CREAT | O_EXCL | O_RDWR, 0o600).expect("shm_open");
    sys::ftruncate(fd, (n * PAGE) as u64).expect("ftruncate");
    let iters = if n == 1 { 2000 } else { 200 };
    let pair = measure(iters, || {
        let p = sys::mmap(
            0,
            n * PAGE,
            PROT_READ | PROT_WRITE,
            MAP_SHARED,
            fd as isize,
            0,
        )
        .expect("mmap");
        sys::munmap(p, n * PAGE).expect("munmap");
    });
    sys::close(fd).expect("close");
    sys::shm_unlink(PSHM_NAME).expect("shm_unlink");
    pair
}

fn wait_ok(pid: i32) -> bool {
    matches!(sys::wait(pid, 0), Ok((_, st)) if abi::sys::wifexited(st) && abi::sys::wexitstatus(st) == 0)
}

/// Worst wake-up latency allowed under load (instructions under icount: about 100 us at 1 GHz).
const LATENCY_BOUND: u64 = 100_000;

/// The loads the latency is measured beside (program and arguments): shared-memory churn
/// with 64 MiB segments, attach loops, a console flood, a syscall mix, fragmented memory (so
/// segments are built and mapped page by page), and the syscall fuzzer with two unprivileged
/// workers until stopped.
const LOADS: &[(&str, &[&str])] = &[
    ("rtload", &["frag", "60"]),
    ("rtload", &["shm"]),
    ("rtload", &["attach"]),
    ("rtload", &["console"]),
    ("rtload", &["sys"]),
    ("fuzz", &["0", "9", "2"]),
];

/// cyclictest at priority 255 with a 1 ms period: idle, then with every load running at the
/// default priority. Returns the number of targets missed.
fn latency() -> i32 {
    let prio = sys::getpriority(0).unwrap_or(abi::sys::PRIO_DEFAULT);
    sys::setpriority(0, 255).expect("priority 255");
    let idle = ulib::rt::cyclic(1_000_000, 200, 1000);
    // The loads run at the default priority (children inherit the parent's).
    let _ = sys::setpriority(0, prio);
    let pids: Vec<i32> = LOADS
        .iter()
        .filter_map(|&(prog, a)| sys::spawn(prog, a).ok())
        .collect();
    sys::setpriority(0, 255).expect("priority 255");
    sys::meminfo_reset_masked();
    // Let the loads get going (segments built, memory scattered) before measuring.
    let _ = sys::sleep_ms(50);
    // Deadlines shifted by up to half a period: a fixed period can lock in step with the
    // loads' round-robin slices (everything is deterministic under icount) and miss their
    // longest steps.
    let busy = ulib::rt::cyclic_jitter(1_000_000, 500_000, 3000, 1000);
    let masked = sys::meminfo_reset_masked().max_masked_ns;
    // SIGTERM: the fuzzer then ends its workers and removes their segments itself.
    for &p in &pids {
        let _ = sys::kill(p, abi::sys::SIGTERM);
    }
    for &p in &pids {
        let _ = sys::wait(p, 0);
    }
    let _ = sys::setpriority(0, prio);
    println!(
        "| cyclictest (priority 255, 1 ms period) idle: wake-up latency min / avg / max | {} / {} / {} | - | - | baseline |",
        idle.min,
        idle.avg(),
        idle.max
    );
    let ok = busy.max <= LATENCY_BOUND && pids.len() == LOADS.len();
    let ok_masked = masked <= LATENCY_BOUND;
    println!(
        "| cyclictest under load ({} loads: 64 MiB segment churn, attach loops, console flood, syscall mix, fragmented memory, syscall fuzzer; periods of 1-1.5 ms, 3000 wake-ups): min / avg / max | {} / {} / {} | idle max {} | {} x idle max | max <= {}: {} |",
        pids.len(),
        busy.min,
        busy.avg(),
        busy.max,
        idle.max,
        Ratio(busy.max, idle.max),
        LATENCY_BOUND,
        verdict(ok)
    );
    println!(
        "| longest stretch with interrupts masked during that load (every kernel entry measured) | {} | idle wake-up {} | {} x | <= {}: {} |",
        masked,
        idle.max,
        Ratio(masked, idle.max),
        LATENCY_BOUND,
        verdict(ok_masked)
    );
    !ok as i32 + !ok_masked as i32
}

fn main(args: &[&str]) -> i32 {
    if args.len() > 1 {
        return child(args);
    }
    let mut missed = 0;
    println!("BEGIN BENCHMARKS");

    // ---- null syscall ----
    let null = measure(5000, || {
        black_box(sys::getppid());
    });
    println!("| Figure | Per operation | Baseline (same run) | Ratio | Target |");
    println!("|---|---:|---|---:|---|");
    println!(
        "| null syscall round trip (getppid) | {} | - | 1.00 | baseline |",
        Milli(null)
    );

    // ---- shmat + shmdt ----
    let mut one = 0;
    let mut big = 0;
    for &n in &[1usize, 16, 512, 8192] {
        let id = seg(n);
        let iters = match n {
            1 | 16 => 2000,
            512 => 200,
            _ => 20,
        };
        let pair = measure(iters, || {
            let p = sys::shmat(id, 0, 0).expect("shmat");
            sys::shmdt(p).expect("shmdt");
        });
        let store = measure(iters, || store_descriptors(n));
        // Per page: what each page adds over a 1-page attach (the syscalls are paid once).
        let per_page = if n == 1 {
            pair
        } else {
            (pair - one) / (n as u64 - 1)
        };
        let store_pp = store / n as u64;
        if n == 1 {
            one = pair;
            let ok = pair <= 3 * null;
            missed += !ok as i32;
            println!(
                "| shmat+shmdt, 1 page | {} | null syscall {} | {} | <= 3.00: {} |",
                Milli(pair),
                Milli(null),
                Ratio(pair, null),
                verdict(ok)
            );
            rmid(id);
            continue;
        }
        if n == 512 {
            big = pair;
        }
        let target = match n {
            16 => {
                let ok = per_page <= 4 * store_pp;
                missed += !ok as i32;
                alloc::format!("per page <= 4.00 x store: {}", verdict(ok))
            }
            512 => {
                let ok = pair <= 4 * one;
                missed += !ok as i32;
                alloc::format!("<= 4.00 x 1-page ({}): {}", Ratio(pair, one), verdict(ok))
            }
            _ => "-".into(),
        };
        println!(
            "| shmat+shmdt, {} pages: per call / per extra page | {} / {} | store {} descriptors: {} / {} per page | {} per page | {} |",
            n,
            Milli(pair),
            Milli(per_page),
            n,
            Milli(store),
            Milli(store_pp),
            Ratio(per_page, store_pp),
            target
        );
        // First touch of every page after attach.
        if n >= 512 {
            let p = sys::shmat(id, 0, 0).expect("shmat");
            let t0 = now();
            for i in 0..n {
                // SAFETY: inside the attachment.
                unsafe { p.add(i * PAGE).write_volatile(1) };
            }
            let touch = (now() - t0) * 1000 / n as u64;
            sys::shmdt(p).expect("shmdt");
            println!(
                "| first touch after attach, {} pages | {} per page | - | - | - |",
                n,
                Milli(touch)
            );
        }
        rmid(id);
    }

    // ---- mmap+munmap of a POSIX object beside shmat+shmdt of the same size ----
    for &(n, base) in &[(1usize, one), (512, big)] {
        let pair = pshm_map_pair(n);
        let ok = pair * 5 <= base * 6;
        missed += !ok as i32;
        println!(
            "| mmap+munmap (MAP_SHARED) of a POSIX shm object, {} page{} | {} | shmat+shmdt {} | {} | <= 1.20 x shmat+shmdt: {} |",
            n,
            if n == 1 { "" } else { "s" },
            Milli(pair),
            Milli(base),
            Ratio(pair, base),
            verdict(ok)
        );
    }

    // ---- whole 1-page lifecycles, beside System V's ----
    {
        let sysv = measure(2000, || {
            let id = seg(1);
            let p = sys::shmat(id, 0, 0).expect("shmat");
            sys::shmdt(p).expect("shmdt");
            rmid(id);
        });
        println!(
            "| shmget(IPC_PRIVATE)+shmat+shmdt+IPC_RMID, 1 page | {} | null syscall {} | {} | baseline |",
            Milli(sysv),
            Milli(null),
            Ratio(sysv, null)
        );
        let posix = measure(2000, || {
            let fd = sys::shm_open(PSHM_NAME, O_CREAT | O_EXCL | O_RDWR, 0o600).expect("shm_open");
            sys::ftruncate(fd, PAGE as u64).expect("ftruncate");
            let p = sys::mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
                .expect("mmap");
            sys::munmap(p, PAGE).expect("munmap");
            sys::close(fd).expect("close");
            sys::shm_unlink(PSHM_NAME).expect("shm_unlink");
        });
        println!(
            "| shm_open(O_CREAT)+ftruncate+mmap+munmap+close+shm_unlink, 1 page | {} | System V lifecycle {} | {} | - |",
            Milli(posix),
            Milli(sysv),
            Ratio(posix, sysv)
        );
        let shmem = measure(2000, || {
            let fd = sys::open("/dev/shmem/new", O_RDWR).expect("open /dev/shmem/new");
            let p = sys::mmap(0, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
                .expect("mmap");
            sys::munmap(p, PAGE).expect("munmap");
            sys::close(fd).expect("close");
        });
        println!(
            "| /dev/shmem/new open+mmap+munmap+close, 1 page | {} | System V lifecycle {} | {} | - |",
            Milli(shmem),
            Milli(sysv),
            Ratio(shmem, sysv)
        );
    }

    // ---- shmget + IPC_RMID, zero fill included ----
    for &n in &[1usize, 512] {
        let iters = if n == 1 { 2000 } else { 50 };
        let cost = measure(iters, || rmid(seg(n)));
        let mut buf = Buf::new(n * PAGE);
        let b = buf.bytes();
        let set = measure(iters, || unsafe {
            // SAFETY: writing our own buffer.
            core::ptr::write_bytes(black_box(b.as_mut_ptr()), 0, n * PAGE)
        });
        println!(
            "| shmget(IPC_PRIVATE)+IPC_RMID, {} page{} | {} | memset {} bytes: {} | {} | - |",
            n,
            if n == 1 { "" } else { "s" },
            Milli(cost),
            n * PAGE,
            Milli(set),
            Ratio(cost, set)
        );
    }

    // ---- context switch: futex ping-pong between two processes ----
    {
        let id = seg(1);
        let p = sys::shmat(id, 0, 0).expect("shmat");
        let w = word(p, 0);
        let idarg = alloc::format!("{}", id);
        let child = sys::spawn("bench", &["pong", &idarg]).expect("spawn");
        let rounds = 2000;
        let rt = measure(rounds, || {
            w.store(1, Ordering::Release);
            let _ = sys::futex_wake(w, 1);
            while w.load(Ordering::Acquire) == 1 {
                let _ = sys::futex_wait(w, 1, None);
            }
        });
        w.store(2, Ordering::Release);
        let _ = sys::futex_wake(w, 1);
        let ok = wait_ok(child);
        println!(
            "| context switch: futex ping-pong round trip / per switch | {} / {} | null syscall {} | {} per switch | {} |",
            Milli(rt),
            Milli(rt / 2),
            Milli(null),
            Ratio(rt / 2, null),
            if ok { "-" } else { "**pong failed**" }
        );
        sys::shmdt(p).expect("shmdt");
        rmid(id);
    }

    // ---- bulk transfer: shared ring vs pipe vs memcpy ----
    let mut src_buf = source();
    let src = src_buf.bytes();
    let mut dst_buf = Buf::new(TOTAL);
    let dst = dst_buf.bytes();
    let t0 = now();
    for (s, d) in src.chunks(CHUNK).zip(dst.chunks_mut(CHUNK)) {
        // SAFETY: two distinct buffers of CHUNK bytes.
        unsafe { core::ptr::copy_nonoverlapping(black_box(s.as_ptr()), d.as_mut_ptr(), CHUNK) };
    }
    let memcpy = (now() - t0) * 1000 / (TOTAL / 1024) as u64;
    black_box(dst);

    let id = sys::shmget(IPC_PRIVATE, DATA + RING, 0o600).expect("shmget");
    let p = sys::shmat(id, 0, 0).expect("shmat");
    let idarg = alloc::format!("{}", id);
    let t0 = now();
    let c = sys::spawn("bench", &["ringc", &idarg]).expect("spawn");
    ring_produce(p, src);
    let ring_ok = wait_ok(c);
    let ring = (now() - t0) * 1000 / (TOTAL / 1024) as u64;
    sys::shmdt(p).expect("shmdt");
    rmid(id);

    let (r, w) = sys::pipe().expect("pipe");
    let rarg = alloc::format!("{}", r);
    let t0 = now();
    let c = sys::spawn("bench", &["pipec", &rarg]).expect("spawn");
    for chunk in src.chunks(CHUNK) {
        let mut off = 0;
        while off < chunk.len() {
            off += sys::write(w, &chunk[off..]).expect("pipe write");
        }
    }
    let pipe_ok = wait_ok(c);
    let pipe = (now() - t0) * 1000 / (TOTAL / 1024) as u64;
    let _ = sys::close(r);
    let _ = sys::close(w);

    let ok1 = ring * 2 <= memcpy * 4; // ring speed >= 50% of memcpy: time <= 2 x memcpy
    let ok2 = ring * 2 <= pipe;
    missed += !ok1 as i32 + !ok2 as i32;
    println!(
        "| memcpy, 4 MiB in 4 KiB chunks | {} per KiB | - | 1.00 | baseline |",
        Milli(memcpy)
    );
    println!(
        "| shared ring (64 KiB, futex), 4 MiB producer -> consumer | {} per KiB | memcpy {} | speed {} of memcpy | >= 0.50: {} |",
        Milli(ring),
        Milli(memcpy),
        Ratio(memcpy, ring),
        verdict(ok1 && ring_ok)
    );
    println!(
        "| pipe (kernel copy), 4 MiB write -> read | {} per KiB | shared ring {} | ring {} x faster | >= 2.00: {} |",
        Milli(pipe),
        Milli(ring),
        Ratio(pipe, ring),
        verdict(ok2 && pipe_ok)
    );

    // ---- real time: cyclictest wake-up latency, idle and under load ----
    missed += latency();

    // ---- boot, image, idle memory ----
    let m = sys::meminfo();
    let mut user_pages = 0;
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        user_pages += t.pages;
        i = next;
    }
    let kernel_pages = m.pages_used - user_pages - m.shm_pages;
    println!(
        "| boot to the first user program | {} | - | - | - |",
        m.boot_ns
    );
    println!(
        "| kernel image: text / rodata (incl. rom fs) / data / bss, bytes | {} / {} / {} / {} | - | - | - |",
        m.kernel_text, m.kernel_rodata, m.kernel_data, m.kernel_bss
    );
    println!(
        "| kernel RAM in use at idle: pages (excl. user tasks) / heap bytes | {} / {} | - | - | - |",
        kernel_pages, m.heap_used
    );
    println!("END BENCHMARKS");
    println!("bench: {} targets missed", missed);
    missed
}
ulib::entry!(main);
