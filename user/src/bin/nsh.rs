//! The shell on the serial console (minimal: runs programs by name with arguments).
#![no_std]
#![no_main]
use abi::sys::{wexitstatus, wifexited, wtermsig};
use ulib::{print, println, sys};

fn read_line(buf: &mut [u8]) -> usize {
    let mut n = 0;
    loop {
        let mut c = [0u8; 1];
        if sys::read(0, &mut c).unwrap_or(0) == 0 {
            continue;
        }
        match c[0] {
            b'\r' | b'\n' => {
                print!("\r\n");
                return n;
            }
            0x7f | 0x08 if n > 0 => {
                n -= 1;
                print!("\x08 \x08");
            }
            b if (0x20..0x7f).contains(&b) && n < buf.len() => {
                buf[n] = b;
                n += 1;
                let _ = sys::write(1, &c);
            }
            _ => {}
        }
    }
}

fn main(_args: &[&str]) -> i32 {
    let mut line = [0u8; 256];
    loop {
        print!("nsh> ");
        let n = read_line(&mut line);
        let text = core::str::from_utf8(&line[..n]).unwrap_or("");
        let mut words: heapless::Vec<&str, 16> = heapless::Vec::new();
        for w in text.split_whitespace() {
            let _ = words.push(w);
        }
        let Some(&cmd) = words.first() else { continue };
        match sys::spawn(cmd, &words[1..]) {
            Ok(pid) => match sys::wait(pid, 0) {
                Ok((_, st)) if !wifexited(st) => {
                    println!("nsh: {}: killed by signal {}", cmd, wtermsig(st))
                }
                Ok((_, st)) if wexitstatus(st) != 0 => {
                    println!("nsh: {}: exit status {}", cmd, wexitstatus(st))
                }
                _ => {}
            },
            Err(abi::Errno::ENOENT) => println!("nsh: {}: command not found", cmd),
            Err(e) => println!("nsh: {}: {} ({})", cmd, e.name(), e.text()),
        }
    }
}
ulib::entry!(main);
