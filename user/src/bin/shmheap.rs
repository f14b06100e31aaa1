//! shmheap: a shared heap (the `shmheap` library) from the shell: create one in a named
//! object, allocate, write and read by handle, free, list its blocks and free list, hold it
//! from a background process, destroy it. Each command is a new process that maps the heap
//! at its own address, so the handles it prints work in the next one.
#![no_std]
#![no_main]

extern crate alloc;

use abi::mman::{MAP_ANONYMOUS, MAP_PRIVATE, PROT_READ, PROT_WRITE};
use abi::Errno;
use alloc::vec;
use shmheap::{BlockInfo, Handle, Heap};
use ulib::util::{fail, parse_int, parse_size};
use ulib::{print, println, sys};

ulib::entry!(main);

const PROG: &str = "shmheap";
const PAGE: usize = 4096;
/// Most blocks `list` prints (the totals count all).
const LIST_MAX: usize = 1024;

fn usage() -> i32 {
    println!("usage: shmheap [-v] [-s PAGES] [-w MS] COMMAND NAME ...");
    println!("       shmheap create NAME SIZE");
    println!("       shmheap alloc NAME SIZE          (prints the handle)");
    println!("       shmheap free NAME HANDLE");
    println!("       shmheap write NAME HANDLE TEXT...");
    println!("       shmheap read NAME HANDLE [LEN]");
    println!("       shmheap list NAME                (blocks, free list, totals)");
    println!("       shmheap hold NAME SECONDS [SIZE] (stay connected, with an allocation)");
    println!("       shmheap churn NAME ROUNDS         (alloc, fill, check, free at random)");
    println!(
        "       shmheap lock NAME SECONDS         (hold the heap's lock; kill it to see a repair)"
    );
    println!("       shmheap destroy NAME");
    println!("  -v        say where this process mapped the heap");
    println!("  -s PAGES  map PAGES anonymous pages first, so the heap lands lower");
    println!("  -w MS     wait at most MS milliseconds for the heap's lock (ETIMEDOUT)");
    2
}

/// What the options asked for.
struct Opts {
    verbose: bool,
    shift: usize,
    wait_ms: Option<u64>,
}

fn main(args: &[&str]) -> i32 {
    let mut opts = Opts {
        verbose: false,
        shift: 0,
        wait_ms: None,
    };
    let mut i = 1;
    while let Some(a) = args.get(i).filter(|a| a.starts_with('-')) {
        match *a {
            "-v" => opts.verbose = true,
            "-s" => match args.get(i + 1).and_then(|s| parse_size(s)) {
                Some(n) => {
                    opts.shift = n;
                    i += 1;
                }
                None => return usage(),
            },
            "-w" => match args.get(i + 1).and_then(|s| parse_size(s)) {
                Some(n) => {
                    opts.wait_ms = Some(n as u64);
                    i += 1;
                }
                None => return usage(),
            },
            _ => return usage(),
        }
        i += 1;
    }
    let args = &args[i..];
    if args.len() < 2 {
        return usage();
    }
    if opts.shift > 0 {
        // Left mapped until exit: it only moves where the heap goes.
        let len = opts.shift.saturating_mul(PAGE);
        let anon = MAP_PRIVATE | MAP_ANONYMOUS;
        if let Err(e) = sys::mmap(0, len, PROT_READ | PROT_WRITE, anon, -1, 0) {
            return fail(PROG, format_args!("-s {}", opts.shift), e);
        }
    }
    let (cmd, name, rest) = (args[0], args[1], &args[2..]);
    let r = match (cmd, rest) {
        ("create", [size]) => match parse_size(size) {
            Some(size) => create(&opts, name, size),
            None => return usage(),
        },
        ("alloc", [size]) => match parse_size(size) {
            Some(size) => connect(&opts, name).and_then(|h| alloc(&h, size)),
            None => return usage(),
        },
        ("free", [hdl]) => match handle(hdl) {
            Some(hdl) => connect(&opts, name).and_then(|h| free(&h, hdl)),
            None => return usage(),
        },
        ("write", [hdl, text @ ..]) if !text.is_empty() => match handle(hdl) {
            Some(hdl) => connect(&opts, name).and_then(|h| write(&h, hdl, text)),
            None => return usage(),
        },
        ("read", [hdl, len @ ..]) if len.len() <= 1 => {
            let len = match len.first().map(|s| parse_size(s)) {
                None => None,
                Some(Some(n)) => Some(n),
                Some(None) => return usage(),
            };
            match handle(hdl) {
                Some(hdl) => connect(&opts, name).and_then(|h| read(&h, hdl, len)),
                None => return usage(),
            }
        }
        ("list", []) => connect(&opts, name).and_then(|h| list(&h, name)),
        ("hold", [secs, size @ ..]) if size.len() <= 1 => {
            let size = match size.first().map(|s| parse_size(s)) {
                None => None,
                Some(Some(n)) => Some(n),
                Some(None) => return usage(),
            };
            match parse_size(secs) {
                Some(secs) => connect(&opts, name).and_then(|h| hold(&h, name, secs, size)),
                None => return usage(),
            }
        }
        ("churn", [rounds]) => match parse_size(rounds) {
            Some(rounds) => connect(&opts, name).and_then(|h| churn(&h, rounds)),
            None => return usage(),
        },
        ("lock", [secs]) => match parse_size(secs) {
            Some(secs) => connect(&opts, name).and_then(|h| lock(&h, name, secs)),
            None => return usage(),
        },
        ("destroy", []) => connect(&opts, name).and_then(|h| {
            h.destroy(name)
                .map_err(|e| fail(PROG, format_args!("destroy {}", name), e))
        }),
        _ => return usage(),
    };
    match r {
        Ok(()) => 0,
        Err(status) => status,
    }
}

/// A handle as typed: decimal or 0x-hex.
fn handle(s: &str) -> Option<Handle> {
    parse_int(s).and_then(|v| u64::try_from(v).ok()).map(Handle)
}

/// Where this process has the heap, for `-v`.
fn say_base(opts: &Opts, name: &str, h: &Heap) {
    if opts.verbose {
        println!(
            "{} mapped at {:p} in pid {}",
            name,
            h.underlying(),
            sys::getpid()
        );
    }
}

fn connect(opts: &Opts, name: &str) -> Result<Heap, i32> {
    let mut h = Heap::connect(name).map_err(|e| fail(PROG, format_args!("{}", name), e))?;
    h.set_wait(opts.wait_ms);
    say_base(opts, name, &h);
    Ok(h)
}

fn create(opts: &Opts, name: &str, size: usize) -> Result<(), i32> {
    let h = Heap::create(name, size).map_err(|e| fail(PROG, format_args!("create {}", name), e))?;
    say_base(opts, name, &h);
    let mut none = [];
    let u = h
        .blocks(&mut none)
        .map_err(|e| fail(PROG, format_args!("{}", name), e))?;
    println!("{}: {} bytes, largest alloc {}", name, h.size(), u.largest);
    Ok(())
}

fn alloc(h: &Heap, size: usize) -> Result<(), i32> {
    let p = h
        .alloc(size)
        .map_err(|e| fail(PROG, format_args!("alloc {}", size), e))?;
    // Ours alone until the handle is printed: these cannot fail but for garbage (EIO).
    let hdl = h
        .ptr_to_handle(p.as_ptr())
        .and_then(|hdl| Ok((hdl, h.usable_size(hdl)?)));
    match hdl {
        Ok((hdl, n)) => {
            println!("handle {:#x} ({} bytes)", hdl.0, n);
            Ok(())
        }
        Err(e) => Err(fail(PROG, format_args!("alloc {}", size), e)),
    }
}

fn free(h: &Heap, hdl: Handle) -> Result<(), i32> {
    h.handle_to_ptr(hdl)
        .and_then(|p| h.free(p.as_ptr()))
        .map_err(|e| fail(PROG, format_args!("free {:#x}", hdl.0), e))
}

/// The allocation `hdl` names, as a pointer and its usable length.
fn object(h: &Heap, hdl: Handle, what: &str) -> Result<(*mut u8, usize), i32> {
    h.handle_to_ptr(hdl)
        .and_then(|p| Ok((p.as_ptr(), h.usable_size(hdl)?)))
        .map_err(|e| fail(PROG, format_args!("{} {:#x}", what, hdl.0), e))
}

/// Copy the words, one space between them, and a NUL if there is room (E2BIG if the text
/// does not fit the allocation).
fn write(h: &Heap, hdl: Handle, words: &[&str]) -> Result<(), i32> {
    let (p, cap) = object(h, hdl, "write")?;
    let len = words.iter().map(|w| w.len()).sum::<usize>() + words.len() - 1;
    if len > cap {
        return Err(fail(PROG, format_args!("write {:#x}", hdl.0), Errno::E2BIG));
    }
    let mut at = 0;
    for (i, w) in words.iter().enumerate() {
        let sep: &[u8] = if i > 0 { b" " } else { b"" };
        for part in [sep, w.as_bytes()] {
            // SAFETY: `at + part.len() <= len <= cap`, the allocation's usable bytes at `p`,
            // which the heap keeps mapped; `part` is our own argument, not in the heap.
            unsafe { core::ptr::copy_nonoverlapping(part.as_ptr(), p.add(at), part.len()) };
            at += part.len();
        }
    }
    if at < cap {
        // SAFETY: as above, `at < cap`.
        unsafe { p.add(at).write(0) };
    }
    Ok(())
}

/// Print the allocation as text up to its first NUL (at most `len` bytes, at most its
/// size); other bytes outside printable ASCII as '.'.
fn read(h: &Heap, hdl: Handle, len: Option<usize>) -> Result<(), i32> {
    let (p, cap) = object(h, hdl, "read")?;
    let n = len.unwrap_or(cap).min(cap);
    for i in 0..n {
        // SAFETY: `i < cap`, inside the allocation, mapped while `h` lives; a volatile
        // byte read, as another process may be writing it.
        let b = unsafe { p.add(i).read_volatile() };
        if b == 0 {
            break;
        }
        print!("{}", ulib::util::printable(b));
    }
    println!();
    Ok(())
}

/// The heap's size and repairs, one line per block (offset, bytes, state), the totals.
fn list(h: &Heap, name: &str) -> Result<(), i32> {
    let err = |e| fail(PROG, format_args!("{}", name), e);
    let count = h.blocks(&mut []).map_err(err)?.blocks;
    let mut out = vec![BlockInfo::default(); count.min(LIST_MAX)];
    // Others may have allocated in between: the second walk is the one printed.
    let u = h.blocks(&mut out).map_err(err)?;
    let repairs = h.repairs().map_err(err)?;
    println!("{}: {} bytes, repairs {}", name, h.size(), repairs);
    println!("{:<10} {:<10} block", "offset", "bytes");
    for b in out.iter().take(u.blocks) {
        if b.allocated {
            println!(
                "{:<10} {:<10} live {:#x}",
                HexOff(b.offset),
                b.size,
                b.handle().0
            );
        } else {
            println!("{:<10} {:<10} free", HexOff(b.offset), b.size);
        }
    }
    if u.blocks > out.len() {
        println!("({} more blocks)", u.blocks - out.len());
    }
    let nfree = u.blocks - u.live;
    println!(
        "{} live ({} bytes), free list {} block{} ({} bytes), largest alloc {}",
        u.live,
        u.used,
        nfree,
        if nfree == 1 { "" } else { "s" },
        u.free,
        u.largest
    );
    Ok(())
}

/// An offset as 0x-hex, padded by the caller's width.
struct HexOff(usize);

impl core::fmt::Display for HexOff {
    fn fmt(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
        let mut s: heapless::String<20> = heapless::String::new();
        let _ = core::fmt::write(&mut s, format_args!("{:#x}", self.0));
        f.pad(&s)
    }
}

/// Stay connected for `secs` seconds, holding an allocation of `size` bytes if asked (freed
/// at the end; if the process is killed first it stays allocated, as a dead holder's).
fn hold(h: &Heap, name: &str, secs: usize, size: Option<usize>) -> Result<(), i32> {
    let mut obj = None;
    if let Some(size) = size {
        let p = h
            .alloc(size)
            .map_err(|e| fail(PROG, format_args!("alloc {}", size), e))?;
        let (hdl, n) = h
            .ptr_to_handle(p.as_ptr())
            .and_then(|hdl| Ok((hdl, h.usable_size(hdl)?)))
            .map_err(|e| fail(PROG, format_args!("alloc {}", size), e))?;
        println!("handle {:#x} ({} bytes)", hdl.0, n);
        obj = Some(p);
    }
    println!(
        "{}: holding {} at {:p} for {} s",
        PROG,
        name,
        h.underlying(),
        secs
    );
    let _ = sys::sleep_ms(secs as u64 * 1000);
    if let Some(p) = obj {
        h.free(p.as_ptr())
            .map_err(|e| fail(PROG, format_args!("free {:p}", p), e))?;
    }
    Ok(())
}

/// Live allocations a churner keeps at most.
const CHURN_LIVE: usize = 16;

/// `rounds` random steps, each an allocation filled with a pattern or a free of one that
/// must still hold its pattern (another process's writes would show); everything is freed
/// at the end. Run several at once to share the heap between processes.
fn churn(h: &Heap, rounds: usize) -> Result<(), i32> {
    let pid = sys::getpid() as u64;
    let t0 = sys::now_ns();
    let mut rng = pid.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut live: heapless::Vec<(*mut u8, usize, u8), CHURN_LIVE> = heapless::Vec::new();
    let (mut allocs, mut full, mut bad) = (0usize, 0usize, 0usize);
    let mut check = |(p, n, byte): (*mut u8, usize, u8)| {
        // SAFETY: an allocation of ours of `n` bytes, mapped while `h` lives.
        let s = unsafe { core::slice::from_raw_parts(p, n) };
        if s.iter().any(|&b| b != byte) {
            bad += 1;
        }
        h.free(p)
            .map_err(|e| fail(PROG, format_args!("free {:p}", p), e))
    };
    for i in 0..rounds {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if live.is_full() || (!live.is_empty() && rng & 3 == 0) {
            let k = (rng >> 8) as usize % live.len();
            check(live.swap_remove(k))?;
            continue;
        }
        let n = 1 + (rng >> 16) as usize % 512;
        match h.alloc(n) {
            Ok(p) => {
                let byte = (pid as u8) ^ (i as u8) | 1;
                // SAFETY: a fresh allocation of `n` bytes, ours alone.
                unsafe { p.as_ptr().write_bytes(byte, n) };
                let _ = live.push((p.as_ptr(), n, byte));
                allocs += 1;
            }
            Err(Errno::ENOMEM) => full += 1,
            Err(e) => return Err(fail(PROG, format_args!("alloc {}", n), e)),
        }
    }
    while let Some(x) = live.pop() {
        check(x)?;
    }
    println!(
        "{}: pid {}: {} rounds, {} allocs, {} full, {} corrupt, {} ms",
        PROG,
        pid,
        rounds,
        allocs,
        full,
        bad,
        (sys::now_ns() - t0) / 1_000_000
    );
    if bad > 0 {
        return Err(1);
    }
    Ok(())
}

/// Hold the heap's lock for `secs` seconds: every other call waits meanwhile (or times out
/// with -w), and if this process is killed first the next call repairs the heap.
fn lock(h: &Heap, name: &str, secs: usize) -> Result<(), i32> {
    h.with_lock(|| {
        println!("{}: holding the lock of {} for {} s", PROG, name, secs);
        let _ = sys::sleep_ms(secs as u64 * 1000);
    })
    .map_err(|e| fail(PROG, format_args!("lock {}", name), e))
}
