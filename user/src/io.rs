//! Console output: `print!`/`println!` to fd 1, buffered per call.

use core::fmt::{self, Write};

pub struct Out {
    buf: [u8; 256],
    len: usize,
}

impl Out {
    pub const fn new() -> Out {
        Out {
            buf: [0; 256],
            len: 0,
        }
    }
    pub fn flush(&mut self) {
        if self.len > 0 {
            let _ = crate::sys::write(1, &self.buf[..self.len]);
            self.len = 0;
        }
    }
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl Write for Out {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            if self.len == self.buf.len() {
                self.flush();
            }
            self.buf[self.len] = b;
            self.len += 1;
        }
        Ok(())
    }
}

pub fn print_fmt(args: fmt::Arguments) {
    let mut o = Out::new();
    let _ = o.write_fmt(args);
    o.flush();
}

#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => { $crate::io::print_fmt(format_args!($($arg)*)) };
}

#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => { $crate::io::print_fmt(format_args!("{}\n", format_args!($($arg)*))) };
}
