//! pmap: what a process has mapped where (procps convention): address, size in KiB,
//! permissions, and what each region is.
#![no_std]
#![no_main]

use abi::mman::{MAP_SHARED, PROT_EXEC, PROT_READ, PROT_WRITE};
use abi::sys::{region, RegionInfo};
use ulib::util::fail;
use ulib::{print, println, sys};

ulib::entry!(main);

fn name_of(pid: i32) -> Option<[u8; abi::sys::TASK_NAME_LEN]> {
    let mut i = 0;
    while let Some((next, t)) = sys::taskinfo(i) {
        if t.pid == pid {
            return Some(t.name);
        }
        i = next;
    }
    None
}

fn text(b: &[u8]) -> &str {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    core::str::from_utf8(&b[..n]).unwrap_or("?")
}

fn what(r: &RegionInfo) {
    let name = text(&r.name[..r.name_len as usize]);
    match r.kind {
        region::PROGRAM => print!("program"),
        region::STACK => print!("stack"),
        region::HEAP => print!("heap"),
        region::SYSV => print!("[shmid={}]", r.id),
        region::POSIX => print!("/dev/shm/{}", name),
        region::ANON_OBJ => print!("[shm_anon]"),
        region::MEMFD => print!("[memfd:{}]", name),
        region::SHMEM => print!("[shmem]"),
        _ => print!("[anon]"),
    }
    if r.deleted != 0 {
        print!(" (deleted)");
    }
    println!();
}

fn main(args: &[&str]) -> i32 {
    let Some(pid) = args.get(1).and_then(|s| s.parse::<i32>().ok()) else {
        println!("usage: pmap PID");
        return 2;
    };
    let pid = if pid == 0 { sys::getpid() } else { pid };
    let Some(name) = name_of(pid) else {
        return fail("pmap", format_args!("{}", pid), abi::Errno::ESRCH);
    };
    // Collect first: printing between calls would show the list changing under us.
    let mut regions: heapless::Vec<RegionInfo, 128> = heapless::Vec::new();
    let mut i = 0;
    loop {
        match sys::vminfo(pid, i) {
            Ok((r, next)) => {
                if regions.push(r).is_err() {
                    break;
                }
                i = next;
            }
            Err(abi::Errno::ENOENT) => break,
            Err(e) => return fail("pmap", format_args!("{}", pid), e),
        }
    }
    println!("{}:   {}", pid, text(&name));
    println!("Address           Kbytes Mode  Mapping");
    let mut total = 0;
    for r in &regions {
        let bit = |b: u32, c: char| if r.prot & b != 0 { c } else { '-' };
        let s = if r.share == MAP_SHARED { 's' } else { '-' };
        print!(
            "{:016x} {:7}K {}{}{}{}- ",
            r.start,
            r.len / 1024,
            bit(PROT_READ, 'r'),
            bit(PROT_WRITE, 'w'),
            bit(PROT_EXEC, 'x'),
            s
        );
        what(r);
        total += r.len / 1024;
    }
    println!(" total          {:7}K", total);
    0
}
