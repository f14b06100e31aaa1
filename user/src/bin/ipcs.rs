//! ipcs: show System V shared memory: `ipcs [-m]` lists segments, `ipcs -m -i ID` shows one,
//! `ipcs -l` the limits (util-linux layout).
#![no_std]
#![no_main]
use abi::shm::*;
use ulib::util::{ctime, fail, parse_int};
use ulib::{println, sys};

fn owner(uid: u32) -> heapless::String<12> {
    let mut s = heapless::String::new();
    if uid == 0 {
        let _ = s.push_str("root");
    } else {
        let _ = core::fmt::write(&mut s, format_args!("{}", uid));
    }
    s
}

fn when(t: i64) -> heapless::String<32> {
    if t == 0 {
        heapless::String::try_from("Not set").unwrap_or_default()
    } else {
        ctime(t)
    }
}

fn list() -> i32 {
    let mut info = ShmInfo::default();
    let hi = match sys::shmctl(0, SHM_INFO, &mut info as *mut _ as usize) {
        Ok(h) => h,
        Err(e) => return fail("ipcs", format_args!("SHM_INFO"), e),
    };
    println!();
    println!("------ Shared Memory Segments --------");
    println!(
        "{:<10} {:<10} {:<10} {:<10} {:<10} {:<10} {:<12}",
        "key", "shmid", "owner", "perms", "bytes", "nattch", "status"
    );
    for idx in 0..=hi {
        let mut ds = ShmidDs::default();
        let Ok(id) = sys::shmctl(idx, SHM_STAT, &mut ds as *mut _ as usize) else {
            continue;
        };
        let dest = ds.shm_perm.mode & SHM_DEST != 0;
        println!(
            "{:#010x} {:<10} {:<10} {:<10o} {:<10} {:<10} {:<12}",
            ds.shm_perm.key as u32,
            id,
            owner(ds.shm_perm.uid).as_str(),
            ds.shm_perm.mode & 0o777,
            ds.shm_segsz,
            ds.shm_nattch,
            if dest { "dest" } else { "" }
        );
    }
    println!();
    0
}

fn one(id: i32) -> i32 {
    let ds = match sys::shm_stat(id) {
        Ok(d) => d,
        Err(e) => {
            println!("ipcs: id {} not found: {} ({})", id, e.name(), e.text());
            return 1;
        }
    };
    let p = ds.shm_perm;
    println!();
    println!("Shared memory Segment shmid={}", id);
    println!(
        "uid={}\tgid={}\tcuid={}\tcgid={}",
        p.uid, p.gid, p.cuid, p.cgid
    );
    println!("mode=0{:03o}\taccess_perms=0{:03o}", p.mode, p.mode & 0o777);
    println!(
        "bytes={}\tlpid={}\tcpid={}\tnattch={}",
        ds.shm_segsz, ds.shm_lpid, ds.shm_cpid, ds.shm_nattch
    );
    println!("att_time={}", when(ds.shm_atime).as_str());
    println!("det_time={}", when(ds.shm_dtime).as_str());
    println!("change_time={}", when(ds.shm_ctime).as_str());
    println!();
    0
}

fn limits() -> i32 {
    let mut l = ShmInfoLimits::default();
    if let Err(e) = sys::shmctl(0, IPC_INFO, &mut l as *mut _ as usize) {
        return fail("ipcs", format_args!("IPC_INFO"), e);
    }
    println!();
    println!("------ Shared Memory Limits --------");
    println!("max number of segments = {}", l.shmmni);
    println!("max seg size (kbytes) = {}", l.shmmax / 1024);
    println!("max total shared memory (kbytes) = {}", l.shmall * 4);
    println!("min seg size (bytes) = {}", l.shmmin);
    println!("max attachments per process = {}", l.shmseg);
    println!();
    0
}

fn main(args: &[&str]) -> i32 {
    let rest = &args[1..];
    match rest {
        [] | ["-m"] | ["-a"] => list(),
        ["-l"] | ["-m", "-l"] | ["-l", "-m"] => limits(),
        ["-m", "-i", v] | ["-i", v, "-m"] | ["-i", v] => match parse_int(v) {
            Some(id) if id >= 0 && id <= i32::MAX as i64 => one(id as i32),
            _ => {
                println!("ipcs: invalid id: {}", v);
                2
            }
        },
        _ => {
            println!("usage: ipcs [-m] | ipcs -m -i ID | ipcs -l");
            2
        }
    }
}
ulib::entry!(main);
