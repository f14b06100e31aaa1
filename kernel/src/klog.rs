//! Kernel log: timestamped lines to the console, kept in a ring that `dmesg` reads.

use core::fmt::{self, Write};
use heapless::Deque;

pub const RING: usize = 16 * 1024;
/// Longest line (longer ones are cut).
pub const LINE: usize = 256;

pub struct KLog {
    ring: Deque<u8, RING>,
}

impl Default for KLog {
    fn default() -> Self {
        Self::new()
    }
}

impl KLog {
    pub const fn new() -> KLog {
        KLog { ring: Deque::new() }
    }

    fn push(&mut self, b: &[u8]) {
        for &c in b {
            if self.ring.is_full() {
                // Drop the oldest whole line.
                while let Some(x) = self.ring.pop_front() {
                    if x == b'\n' {
                        break;
                    }
                }
            }
            let _ = self.ring.push_back(c);
        }
    }

    /// Format one line `[ssss.uuuuuu] text` into the ring and return it for the console.
    pub fn line(&mut self, now_ns: u64, args: fmt::Arguments, out: &mut dyn FnMut(&[u8])) {
        let mut buf: heapless::String<LINE> = heapless::String::new();
        let _ = write!(
            buf,
            "[{:5}.{:06}] ",
            now_ns / 1_000_000_000,
            (now_ns / 1000) % 1_000_000
        );
        let _ = buf.write_fmt(args);
        if buf.len() == buf.capacity() {
            buf.truncate(buf.capacity() - 1);
        }
        let _ = buf.push('\n');
        self.push(buf.as_bytes());
        out(buf.as_bytes());
    }

    /// Copy the ring out, oldest first; returns bytes copied.
    pub fn read(&self, out: &mut [u8]) -> usize {
        self.read_from(0, out)
    }

    /// Copy the ring out from byte `skip` on (oldest first); returns bytes copied.
    pub fn read_from(&self, skip: usize, out: &mut [u8]) -> usize {
        let (a, b) = self.ring.as_slices();
        let mut n = 0;
        let (first, second) = if skip < a.len() {
            (&a[skip..], b)
        } else {
            (&b[(skip - a.len()).min(b.len())..], &b[..0])
        };
        for part in [first, second] {
            let m = part.len().min(out.len() - n);
            out[n..n + m].copy_from_slice(&part[..m]);
            n += m;
        }
        n
    }

    pub fn len(&self) -> usize {
        self.ring.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_timestamps_and_old_lines_drop() {
        let mut l = KLog::new();
        let mut seen = std::vec::Vec::new();
        l.line(1_500_000_000, format_args!("hello {}", 1), &mut |b| {
            seen.extend_from_slice(b)
        });
        assert_eq!(seen, b"[    1.500000] hello 1\n");
        for i in 0..2000 {
            l.line(0, format_args!("line {i}"), &mut |_| {});
        }
        let mut out = std::vec![0u8; RING];
        let n = l.read(&mut out);
        let text = core::str::from_utf8(&out[..n]).unwrap();
        assert!(text.starts_with('['), "ring starts at a line boundary");
        assert!(text.ends_with("line 1999\n"));
        // Reading in pieces from any offset gives the same bytes.
        let mut pieces = std::vec::Vec::new();
        let mut chunk = [0u8; 97];
        loop {
            let m = l.read_from(pieces.len(), &mut chunk);
            if m == 0 {
                break;
            }
            pieces.extend_from_slice(&chunk[..m]);
        }
        assert_eq!(&pieces[..], &out[..n]);
    }
}
