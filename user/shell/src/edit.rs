//! Line editing for a VT100-style serial terminal: insert anywhere, backspace/delete,
//! left/right, Home/End, history with up/down, Ctrl-U, Ctrl-C, Ctrl-D.

use heapless::{Deque, Vec};

/// Longest line.
pub const LINE: usize = 256;
/// Lines of history kept.
pub const HISTORY: usize = 32;

/// What a byte of input finished, if anything.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// Still editing.
    None,
    /// Enter: the line is in `line()`.
    Line,
    /// Ctrl-C: the line was dropped.
    Interrupt,
    /// Ctrl-D on an empty line.
    Eof,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Seq {
    None,
    Escape,
    /// After ESC [ (with an optional numeric parameter) or ESC O.
    Csi(u8),
    Ss3,
}

pub struct Editor {
    buf: Vec<u8, LINE>,
    cur: usize,
    esc: Seq,
    hist: Deque<Vec<u8, LINE>, HISTORY>,
    /// Position while browsing history (0 = newest) and the line being typed before that.
    browse: Option<usize>,
    draft: Vec<u8, LINE>,
    last_cr: bool,
    /// The line handed out by the last Event::Line.
    done: Vec<u8, LINE>,
}

impl Default for Editor {
    fn default() -> Self {
        Self::new()
    }
}

fn num(out: &mut impl FnMut(&[u8]), n: usize, cmd: u8) {
    if n == 0 {
        return;
    }
    let mut b = [0u8; 8];
    let mut i = b.len();
    b[i - 1] = cmd;
    i -= 1;
    let mut v = n;
    loop {
        i -= 1;
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    i -= 2;
    b[i] = 0x1b;
    b[i + 1] = b'[';
    out(&b[i..]);
}

impl Editor {
    pub const fn new() -> Editor {
        Editor {
            buf: Vec::new(),
            cur: 0,
            esc: Seq::None,
            hist: Deque::new(),
            browse: None,
            draft: Vec::new(),
            last_cr: false,
            done: Vec::new(),
        }
    }

    /// The line finished by the last `Event::Line`.
    pub fn line(&self) -> &[u8] {
        &self.done
    }

    /// The line being edited.
    pub fn current(&self) -> &[u8] {
        &self.buf
    }

    pub fn cursor(&self) -> usize {
        self.cur
    }

    /// Lines in history, oldest first.
    pub fn history(&self) -> impl Iterator<Item = &[u8]> {
        self.hist.iter().map(|l| l.as_slice())
    }

    /// Feed one input byte; `out` receives what to echo.
    pub fn feed(&mut self, b: u8, out: &mut impl FnMut(&[u8])) -> Event {
        let was_cr = core::mem::replace(&mut self.last_cr, b == b'\r');
        match self.esc {
            Seq::Escape => {
                self.esc = match b {
                    b'[' => Seq::Csi(0),
                    b'O' => Seq::Ss3,
                    _ => Seq::None,
                };
                return Event::None;
            }
            Seq::Csi(p) => {
                if b.is_ascii_digit() {
                    self.esc = Seq::Csi(p.saturating_mul(10).saturating_add(b - b'0'));
                    return Event::None;
                }
                self.esc = Seq::None;
                match (b, p) {
                    (b'A', _) => self.up(out),
                    (b'B', _) => self.down(out),
                    (b'C', _) => self.right(out),
                    (b'D', _) => self.left(out),
                    (b'H', _) | (b'~', 1) | (b'~', 7) => self.home(out),
                    (b'F', _) | (b'~', 4) | (b'~', 8) => self.end(out),
                    (b'~', 3) => self.delete(out),
                    _ => {}
                }
                return Event::None;
            }
            Seq::Ss3 => {
                self.esc = Seq::None;
                match b {
                    b'H' => self.home(out),
                    b'F' => self.end(out),
                    b'A' => self.up(out),
                    b'B' => self.down(out),
                    b'C' => self.right(out),
                    b'D' => self.left(out),
                    _ => {}
                }
                return Event::None;
            }
            Seq::None => {}
        }
        match b {
            0x1b => self.esc = Seq::Escape,
            b'\n' if was_cr => {} // the second half of CR LF
            b'\r' | b'\n' => {
                out(b"\r\n");
                self.done = core::mem::take(&mut self.buf);
                self.cur = 0;
                self.browse = None;
                let l = &self.done;
                let trimmed = l.iter().any(|c| !c.is_ascii_whitespace());
                if trimmed && self.hist.back() != Some(l) {
                    if self.hist.is_full() {
                        self.hist.pop_front();
                    }
                    let _ = self.hist.push_back(l.clone());
                }
                return Event::Line;
            }
            0x03 => {
                out(b"^C\r\n");
                self.buf.clear();
                self.cur = 0;
                self.browse = None;
                return Event::Interrupt;
            }
            0x04 => {
                if self.buf.is_empty() {
                    return Event::Eof;
                }
                self.delete(out);
            }
            0x7f | 0x08 => self.backspace(out),
            0x01 => self.home(out),
            0x05 => self.end(out),
            0x02 => self.left(out),
            0x06 => self.right(out),
            0x15 => self.kill_to_start(out),
            0x0b => {
                // Ctrl-K: to the end of the line.
                let n = self.buf.len() - self.cur;
                self.buf.truncate(self.cur);
                if n > 0 {
                    out(b"\x1b[K");
                }
            }
            0x0c => {
                // Ctrl-L: redraw the line (the prompt is the caller's).
                self.redraw_from(0, out);
            }
            b'\t' => self.insert(b' ', out),
            0x20..=0x7e => self.insert(b, out),
            _ => {}
        }
        Event::None
    }

    fn insert(&mut self, b: u8, out: &mut impl FnMut(&[u8])) {
        if self.buf.is_full() {
            out(b"\x07");
            return;
        }
        let _ = self.buf.insert(self.cur, b);
        self.cur += 1;
        out(&self.buf[self.cur - 1..]);
        num(out, self.buf.len() - self.cur, b'D');
    }

    fn backspace(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.cur == 0 {
            return;
        }
        self.cur -= 1;
        self.buf.remove(self.cur);
        out(b"\x08");
        out(&self.buf[self.cur..]);
        out(b" ");
        num(out, self.buf.len() - self.cur + 1, b'D');
    }

    fn delete(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.cur == self.buf.len() {
            return;
        }
        self.buf.remove(self.cur);
        out(&self.buf[self.cur..]);
        out(b" ");
        num(out, self.buf.len() - self.cur + 1, b'D');
    }

    fn left(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.cur > 0 {
            self.cur -= 1;
            out(b"\x1b[D");
        }
    }

    fn right(&mut self, out: &mut impl FnMut(&[u8])) {
        if self.cur < self.buf.len() {
            self.cur += 1;
            out(b"\x1b[C");
        }
    }

    fn home(&mut self, out: &mut impl FnMut(&[u8])) {
        num(out, self.cur, b'D');
        self.cur = 0;
    }

    fn end(&mut self, out: &mut impl FnMut(&[u8])) {
        num(out, self.buf.len() - self.cur, b'C');
        self.cur = self.buf.len();
    }

    fn kill_to_start(&mut self, out: &mut impl FnMut(&[u8])) {
        let rest: Vec<u8, LINE> = Vec::from_slice(&self.buf[self.cur..]).unwrap_or_default();
        let old_cur = self.cur;
        self.buf = rest;
        self.cur = 0;
        num(out, old_cur, b'D');
        out(&self.buf);
        out(b"\x1b[K");
        num(out, self.buf.len(), b'D');
    }

    /// Move the cursor to column `col` of the line, rewrite the rest and clear what is left.
    fn redraw_from(&mut self, col: usize, out: &mut impl FnMut(&[u8])) {
        num(out, self.cur.saturating_sub(col), b'D');
        out(&self.buf[col..]);
        out(b"\x1b[K");
        self.cur = self.buf.len();
    }

    fn replace(&mut self, line: Vec<u8, LINE>, out: &mut impl FnMut(&[u8])) {
        num(out, self.cur, b'D');
        self.cur = 0;
        self.buf = line;
        self.redraw_from(0, out);
    }

    fn up(&mut self, out: &mut impl FnMut(&[u8])) {
        let next = match self.browse {
            None => 0,
            Some(i) => i + 1,
        };
        if next >= self.hist.len() {
            out(b"\x07");
            return;
        }
        if self.browse.is_none() {
            self.draft = self.buf.clone();
        }
        self.browse = Some(next);
        let l = self
            .hist
            .iter()
            .rev()
            .nth(next)
            .cloned()
            .unwrap_or_default();
        self.replace(l, out);
    }

    fn down(&mut self, out: &mut impl FnMut(&[u8])) {
        match self.browse {
            None => out(b"\x07"),
            Some(0) => {
                self.browse = None;
                let d = core::mem::take(&mut self.draft);
                self.replace(d, out);
            }
            Some(i) => {
                self.browse = Some(i - 1);
                let l = self
                    .hist
                    .iter()
                    .rev()
                    .nth(i - 1)
                    .cloned()
                    .unwrap_or_default();
                self.replace(l, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec::Vec as SVec;

    fn typed(e: &mut Editor, s: &[u8]) -> (SVec<Event>, String) {
        let mut echo = SVec::new();
        let evs = s
            .iter()
            .map(|&b| e.feed(b, &mut |o: &[u8]| echo.extend_from_slice(o)))
            .filter(|&ev| ev != Event::None)
            .collect();
        (evs, String::from_utf8_lossy(&echo).into_owned())
    }

    fn line(e: &Editor) -> &str {
        core::str::from_utf8(e.line()).unwrap()
    }

    #[test]
    fn plain_line_echoes_and_ends_on_cr_or_lf() {
        let mut e = Editor::new();
        let (ev, echo) = typed(&mut e, b"echo hi\r\n");
        assert_eq!(ev, [Event::Line], "CR LF is one end of line");
        assert_eq!(line(&e), "echo hi");
        assert_eq!(echo, "echo hi\r\n");
        let (ev, _) = typed(&mut e, b"ls\n");
        assert_eq!((ev.as_slice(), line(&e)), ([Event::Line].as_slice(), "ls"));
    }

    #[test]
    fn backspace_and_insert_in_the_middle() {
        let mut e = Editor::new();
        // "ecXo" then left, backspace over X, insert h: "echo"
        typed(&mut e, b"ecXo\x1b[D\x7fh\x1b[F hi\r");
        assert_eq!(line(&e), "echo hi");
        typed(&mut e, b"abc\x08\x08\x08\x08z\r");
        assert_eq!(line(&e), "z", "backspace at column 0 does nothing");
    }

    #[test]
    fn home_end_and_delete() {
        let mut e = Editor::new();
        typed(&mut e, b"cho x\x1b[He\x1b[4~\x7fy\r");
        assert_eq!(line(&e), "echo y");
        typed(&mut e, b"abc\x01\x1b[3~\x05d\r");
        assert_eq!(line(&e), "bcd");
        typed(&mut e, b"q\x1bOHp\x1bOFr\r");
        assert_eq!(line(&e), "pqr");
    }

    #[test]
    fn ctrl_u_kills_to_the_start_and_ctrl_c_drops_the_line() {
        let mut e = Editor::new();
        typed(&mut e, b"garbage\x15echo ok\r");
        assert_eq!(line(&e), "echo ok");
        typed(&mut e, b"abc def\x1b[D\x1b[D\x1b[D\x15x \r");
        assert_eq!(line(&e), "x def");
        let (ev, echo) = typed(&mut e, b"rm -rf\x03");
        assert_eq!(ev, [Event::Interrupt]);
        assert!(echo.ends_with("^C\r\n"));
        assert_eq!(e.current(), b"");
    }

    #[test]
    fn ctrl_d_only_ends_an_empty_line() {
        let mut e = Editor::new();
        assert_eq!(typed(&mut e, b"\x04").0, [Event::Eof]);
        let (ev, _) = typed(&mut e, b"ab\x01\x04\r");
        assert_eq!(ev, [Event::Line]);
        assert_eq!(line(&e), "b", "Ctrl-D deletes under the cursor otherwise");
    }

    #[test]
    fn history_up_down() {
        let mut e = Editor::new();
        typed(&mut e, b"one\rtwo\rtwo\r  \rthree\r");
        let h: SVec<&[u8]> = e.history().collect();
        assert_eq!(h, [&b"one"[..], b"two", b"three"], "no repeats, no blanks");
        typed(&mut e, b"dra\x1b[A\x1b[A\r");
        assert_eq!(line(&e), "two");
        typed(&mut e, b"dra\x1b[A\x1b[A\x1b[B\x1b[Bft\r");
        assert_eq!(
            line(&e),
            "draft",
            "down past the newest gives the draft back"
        );
        // History is now one, two, three, two, draft: five ups reach the oldest, a sixth rings.
        let (_, echo) = typed(&mut e, b"\x1b[A\x1b[A\x1b[A\x1b[A\x1b[A");
        assert!(!echo.contains('\x07'));
        let (_, echo) = typed(&mut e, b"\x1b[A");
        assert!(echo.contains('\x07'), "bell at the oldest");
        typed(&mut e, b"\r");
        assert_eq!(line(&e), "one");
        // Editing a recalled line.
        typed(&mut e, b"\x1b[A\x7f\x7f\x7fecho\r");
        assert_eq!(line(&e), "echo");
    }

    #[test]
    fn history_keeps_the_newest() {
        let mut e = Editor::new();
        for i in 0..HISTORY + 5 {
            typed(&mut e, std::format!("cmd{i}\r").as_bytes());
        }
        assert_eq!(e.history().count(), HISTORY);
        assert_eq!(e.history().next().unwrap(), b"cmd5");
    }

    #[test]
    fn long_lines_stop_at_the_limit() {
        let mut e = Editor::new();
        let long = [b'x'; LINE + 10];
        let (_, echo) = typed(&mut e, &long);
        assert_eq!(e.current().len(), LINE);
        assert!(echo.ends_with('\x07'));
    }

    #[test]
    fn cursor_moves_are_echoed_as_ansi() {
        let mut e = Editor::new();
        let (_, echo) = typed(&mut e, b"abcd\x1b[D\x1b[D\x1b[C\x01\x05");
        assert_eq!(echo, "abcd\x1b[D\x1b[D\x1b[C\x1b[3D\x1b[4C");
        assert_eq!(e.cursor(), 4);
    }
}
