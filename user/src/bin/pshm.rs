//! pshm: POSIX shared memory from the shell: create, truncate, write, read, stat, unlink
//! and hold an object (shm_open names, as in `/dev/shm`), and hand one to a running process
//! with a one-time key (share/claim).
#![no_std]
#![no_main]

use abi::fcntl::{O_CREAT, O_EXCL, O_RDONLY, O_RDWR};
use abi::mman::{MAP_SHARED, PROT_READ, PROT_WRITE};
use ulib::util::{fail, parse_mode, parse_size};
use ulib::{print, println, sys};

ulib::entry!(main);

fn usage() -> i32 {
    println!("usage: pshm create /NAME SIZE [excl] [MODE]");
    println!("       pshm truncate /NAME SIZE");
    println!("       pshm write /NAME OFFSET TEXT...");
    println!("       pshm read /NAME OFFSET LEN");
    println!("       pshm stat /NAME");
    println!("       pshm unlink /NAME");
    println!("       pshm hold /NAME SECONDS");
    println!("       pshm share /NAME SECONDS   (prints a one-time key; 0: no time limit)");
    println!("       pshm claim KEY             (maps what the key names and prints it)");
    2
}

fn open(name: &str, flags: u32, mode: u32) -> Result<usize, i32> {
    sys::shm_open(name, flags, mode).map_err(|e| fail("pshm", format_args!("{}", name), e))
}

fn main(args: &[&str]) -> i32 {
    if args.len() < 3 {
        return usage();
    }
    let name = args[2];
    let num = |i: usize| args.get(i).and_then(|s| parse_size(s));
    let r = match args[1] {
        "create" => {
            let Some(size) = num(3) else { return usage() };
            let excl = args.get(4) == Some(&"excl");
            let mode = args[if excl { 5 } else { 4 }..]
                .first()
                .and_then(|m| parse_mode(m))
                .unwrap_or(0o600);
            let flags = O_RDWR | O_CREAT | if excl { O_EXCL } else { 0 };
            open(name, flags, mode).and_then(|fd| {
                let r = sys::ftruncate(fd, size as u64)
                    .map_err(|e| fail("pshm", format_args!("ftruncate {}", name), e));
                let _ = sys::close(fd);
                r.map(|_| println!("{}: {} bytes", name, size))
            })
        }
        "truncate" => {
            let Some(size) = num(3) else { return usage() };
            open(name, O_RDWR, 0).and_then(|fd| {
                let r = sys::ftruncate(fd, size as u64)
                    .map_err(|e| fail("pshm", format_args!("ftruncate {}", name), e));
                let _ = sys::close(fd);
                r
            })
        }
        "write" => {
            let Some(off) = num(3) else { return usage() };
            if args.len() < 5 {
                return usage();
            }
            open(name, O_RDWR, 0).and_then(|fd| {
                let mut at = off as u64;
                let mut r = Ok(());
                for (i, w) in args[4..].iter().enumerate() {
                    let sep: &[u8] = if i > 0 { b" " } else { b"" };
                    for part in [sep, w.as_bytes()] {
                        match sys::pwrite(fd, part, at) {
                            Ok(n) => at += n as u64,
                            Err(e) => r = Err(fail("pshm", format_args!("write {}", name), e)),
                        }
                    }
                }
                let _ = sys::close(fd);
                r
            })
        }
        "read" => {
            let (Some(off), Some(len)) = (num(3), num(4)) else {
                return usage();
            };
            open(name, O_RDONLY, 0).and_then(|fd| {
                let mut buf = [0u8; 256];
                let (mut at, end) = (off as u64, (off + len) as u64);
                let mut r = Ok(());
                while at < end {
                    let n = buf.len().min((end - at) as usize);
                    match sys::pread(fd, &mut buf[..n], at) {
                        Ok(0) => break,
                        Ok(n) => {
                            for &b in &buf[..n] {
                                print!("{}", ulib::util::printable(b));
                            }
                            at += n as u64;
                        }
                        Err(e) => {
                            r = Err(fail("pshm", format_args!("read {}", name), e));
                            break;
                        }
                    }
                }
                println!();
                let _ = sys::close(fd);
                r
            })
        }
        "stat" => open(name, O_RDONLY, 0).and_then(|fd| {
            let r = sys::fstat(fd)
                .map(|st| {
                    println!("name: {}", name);
                    println!("size: {}", st.st_size);
                    println!("mode: {:o}", st.st_mode & 0o7777);
                    println!("uid: {}", st.st_uid);
                    println!("gid: {}", st.st_gid);
                    println!("links: {}", st.st_nlink);
                })
                .map_err(|e| fail("pshm", format_args!("fstat {}", name), e));
            let _ = sys::close(fd);
            r
        }),
        "unlink" => sys::shm_unlink(name).map_err(|e| fail("pshm", format_args!("{}", name), e)),
        "hold" => {
            let Some(secs) = num(3) else { return usage() };
            open(name, O_RDWR, 0).and_then(|fd| {
                let size = sys::fstat(fd).map(|s| s.st_size as usize).unwrap_or(0);
                let len = size.max(1);
                let p = sys::mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)
                    .map_err(|e| fail("pshm", format_args!("mmap {}", name), e))?;
                let _ = sys::close(fd);
                println!(
                    "pshm: holding {} ({} bytes) at {:p} for {} s",
                    name, size, p, secs
                );
                let _ = sys::sleep_ms(secs as u64 * 1000);
                let _ = sys::munmap(p, len);
                Ok(())
            })
        }
        "share" => {
            let Some(secs) = num(3) else { return usage() };
            let timeout = match secs {
                0 => abi::sys::KEY_NEVER,
                s => (s as u64).saturating_mul(1_000_000_000),
            };
            open(name, O_RDWR, 0).and_then(|fd| {
                // The key holds the description: this process may exit before the claim.
                let r = sys::share(fd, timeout)
                    .map(|k| println!("{}", core::str::from_utf8(&k).unwrap_or("?")))
                    .map_err(|e| fail("pshm", format_args!("share {}", name), e));
                let _ = sys::close(fd);
                r
            })
        }
        "claim" => claim(name),
        _ => return usage(),
    };
    match r {
        Ok(()) => 0,
        Err(status) => status,
    }
}

/// Claim `key`, then say what it gave: its size and, mapped, its first bytes.
fn claim(key: &str) -> Result<(), i32> {
    let fd = sys::claim(key).map_err(|e| fail("pshm", format_args!("claim {}", key), e))?;
    let size = sys::fstat(fd).map(|s| s.st_size as usize).unwrap_or(0);
    println!("pshm: claimed fd {}: {} bytes", fd, size);
    if size > 0 {
        let len = size.min(4096);
        let p = sys::mmap(0, len, PROT_READ, MAP_SHARED, fd as isize, 0)
            .map_err(|e| fail("pshm", format_args!("mmap {}", key), e))?;
        let n = len.min(64);
        // SAFETY: `len` readable bytes are mapped at p.
        let head = unsafe { core::slice::from_raw_parts(p, n) };
        let end = head.iter().position(|&b| b == 0).unwrap_or(n);
        println!("{}", core::str::from_utf8(&head[..end]).unwrap_or("?"));
        let _ = sys::munmap(p, len);
    }
    let _ = sys::close(fd);
    Ok(())
}
