//! shm: script System V shared memory from the shell. Each command attaches only for its own
//! duration.
//!   shm get KEY SIZE [create] [excl] [MODE]   print the id (KEY: decimal or 0x-hex)
//!   shm write ID OFFSET TEXT...               copy TEXT into the segment
//!   shm read ID OFFSET LEN                    print LEN bytes as text
//!   shm hold ID SECONDS                       attach, sleep, detach (for `&`)
//!   shm stat ID                               the shmid_ds fields, `name: value`
#![no_std]
#![no_main]
use abi::shm::{ShmidDs, IPC_CREAT, IPC_EXCL, SHM_RDONLY};
use abi::Errno;
use ulib::util::{ctime, fail, parse_int, parse_mode, parse_size};
use ulib::{print, println, sys};

fn usage() -> i32 {
    println!("usage: shm get KEY SIZE [create] [excl] [MODE]");
    println!("       shm write ID OFFSET TEXT...");
    println!("       shm read ID OFFSET LEN");
    println!("       shm hold ID SECONDS");
    println!("       shm stat ID");
    2
}

fn id_arg(s: Option<&&str>) -> Result<i32, i32> {
    match s.and_then(|s| parse_int(s)) {
        Some(v) if (0..=i32::MAX as i64).contains(&v) => Ok(v as i32),
        Some(_) => Err(fail(
            "shm",
            format_args!("id {}", s.unwrap_or(&"")),
            Errno::EINVAL,
        )),
        None => Err(usage()),
    }
}

fn num_arg(s: Option<&&str>) -> Result<usize, i32> {
    s.and_then(|s| parse_size(s)).ok_or_else(usage)
}

/// Attach `id` for the length of `f`; checks [off, off+len) against the segment size.
fn with_segment(id: i32, flags: i32, off: usize, len: usize, f: impl FnOnce(*mut u8)) -> i32 {
    let ds = match sys::shm_stat(id) {
        Ok(d) => d,
        Err(e) => return fail("shm", format_args!("shmctl {}", id), e),
    };
    if off.checked_add(len).is_none_or(|e| e as u64 > ds.shm_segsz) {
        println!(
            "shm: offset {} + length {} is past the end ({} bytes): EINVAL (Invalid argument)",
            off, len, ds.shm_segsz
        );
        return 1;
    }
    let p = match sys::shmat(id, 0, flags) {
        Ok(p) => p,
        Err(e) => return fail("shm", format_args!("shmat {}", id), e),
    };
    // SAFETY: [off, off+len) is inside the segment, checked above.
    f(unsafe { p.add(off) });
    match sys::shmdt(p) {
        Ok(()) => 0,
        Err(e) => fail("shm", format_args!("shmdt"), e),
    }
}

fn stat(id: i32) -> i32 {
    let ds: ShmidDs = match sys::shm_stat(id) {
        Ok(d) => d,
        Err(e) => return fail("shm", format_args!("shmctl {}", id), e),
    };
    let p = ds.shm_perm;
    println!("shmid: {}", id);
    println!("key: {:#010x}", p.key as u32);
    println!("uid: {}", p.uid);
    println!("gid: {}", p.gid);
    println!("cuid: {}", p.cuid);
    println!("cgid: {}", p.cgid);
    println!("mode: {:04o}", p.mode);
    println!("segsz: {}", ds.shm_segsz);
    for (name, t) in [
        ("atime", ds.shm_atime),
        ("dtime", ds.shm_dtime),
        ("ctime", ds.shm_ctime),
    ] {
        if t == 0 {
            println!("{}: 0", name);
        } else {
            println!("{}: {} ({})", name, t, ctime(t).as_str());
        }
    }
    println!("cpid: {}", ds.shm_cpid);
    println!("lpid: {}", ds.shm_lpid);
    println!("nattch: {}", ds.shm_nattch);
    0
}

fn run(args: &[&str]) -> Result<i32, i32> {
    let cmd = args.get(1).copied().unwrap_or("");
    Ok(match cmd {
        "get" => {
            let key = args.get(2).and_then(|s| parse_int(s)).ok_or_else(usage)?;
            let size = num_arg(args.get(3))?;
            let mut flags = 0;
            let mut mode = 0o600;
            for a in args.iter().skip(4) {
                match *a {
                    "create" => flags |= IPC_CREAT,
                    "excl" => flags |= IPC_EXCL,
                    m => mode = parse_mode(m).ok_or_else(usage)? as i32,
                }
            }
            match sys::shmget(key as i32, size, flags | mode) {
                Ok(id) => {
                    println!("{}", id);
                    0
                }
                Err(e) => fail("shm", format_args!("shmget {:#x}", key), e),
            }
        }
        "write" => {
            let id = id_arg(args.get(2))?;
            let off = num_arg(args.get(3))?;
            if args.len() < 5 {
                return Err(usage());
            }
            let mut text: heapless::Vec<u8, 512> = heapless::Vec::new();
            for (i, w) in args[4..].iter().enumerate() {
                if i > 0 {
                    let _ = text.push(b' ');
                }
                let _ = text.extend_from_slice(w.as_bytes());
            }
            with_segment(id, 0, off, text.len(), |p| {
                // SAFETY: the range was checked against the segment size.
                unsafe { core::ptr::copy_nonoverlapping(text.as_ptr(), p, text.len()) }
            })
        }
        "read" => {
            let id = id_arg(args.get(2))?;
            let off = num_arg(args.get(3))?;
            let len = num_arg(args.get(4))?;
            let r = with_segment(id, SHM_RDONLY, off, len, |p| {
                for i in 0..len {
                    // SAFETY: the range was checked against the segment size.
                    let b = unsafe { p.add(i).read_volatile() };
                    match b {
                        0x20..=0x7e | b'\n' => print!("{}", b as char),
                        0 => {}
                        _ => print!("."),
                    }
                }
            });
            if r == 0 {
                println!();
            }
            r
        }
        "hold" => {
            let id = id_arg(args.get(2))?;
            let secs = num_arg(args.get(3))?;
            with_segment(id, 0, 0, 0, |_| {
                let _ = sys::sleep_ns(secs as u64 * 1_000_000_000);
            })
        }
        "stat" => stat(id_arg(args.get(2))?),
        _ => usage(),
    })
}

fn main(args: &[&str]) -> i32 {
    run(args).unwrap_or_else(|code| code)
}
ulib::entry!(main);
