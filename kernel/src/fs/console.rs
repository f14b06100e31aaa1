//! The serial console: input buffered for readers (Ctrl-C goes to the foreground process
//! instead), output through a transmit ring that the UART's transmit interrupt drains (a
//! writer that fills it blocks), and the terminal ioctls (controlling session, foreground).

use heapless::Deque;

use crate::fs::ops::{FileOps, Io, Open};
use crate::sched::wait::{WaitId, WaitQueue};
use crate::task::{State, Work};
use crate::{uaccess, Kernel};
use abi::sys;
use abi::Errno;

type R = Result<isize, Errno>;

/// The console's inode number (it is not a name of the namespace when opened at boot).
const INO_CONSOLE: u64 = 2;

/// The console as a file: a terminal (no offsets).
pub struct ConsoleOps;

impl FileOps for ConsoleOps {
    fn read(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        k.console_read(me, f, io)
    }
    /// As much as the ring takes now; the rest is kernel work the writer continues
    /// (waiting while the ring is full) until every byte is in.
    fn write(&self, k: &mut Kernel, me: usize, _f: Open, io: Io) -> Option<R> {
        k.console_write_step(me, io.buf, io.len, 0)
    }
    /// Root's terminal, as /dev/console is.
    fn stat(&self, k: &Kernel, f: Open) -> abi::stat::Stat {
        let t = k.rtc_base as i64;
        abi::stat::Stat {
            st_uid: 0,
            st_gid: 0,
            st_rdev: abi::stat::makedev(5, 1),
            st_atime: t,
            st_mtime: t,
            st_ctime: t,
            ..k.file_stat(&f.file, INO_CONSOLE, abi::stat::S_IFCHR | 0o620)
        }
    }
    fn ioctl(&self, k: &mut Kernel, me: usize, _f: Open, req: usize, arg: usize) -> R {
        k.console_ioctl(me, req, arg)
    }
    fn would_wait(&self, k: &Kernel, _f: Open, len: usize, write: bool) -> bool {
        if write {
            TX_USER.saturating_sub(k.console.tx.len()) < 2 * len
        } else {
            k.console.rx.is_empty()
        }
    }
}

/// Longest piece of console input or output handled at once.
pub const IO_CHUNK: usize = 256;
/// Bytes of console input buffered for readers; more input than this ahead of the reader is
/// dropped (the UART keeps being drained, so nothing wedges).
pub const CONSOLE_RX: usize = 4096;
/// Bytes of console output buffered on their way to the UART.
pub const CONSOLE_TX: usize = 4096;
/// The part of the transmit ring user writes may fill; the rest is kept for kernel messages,
/// so a process flooding the console cannot crowd out a fault report.
pub const TX_USER: usize = 3072;
/// Blocked writers are woken when the ring has drained to this.
const TX_LOW: usize = TX_USER / 2;
/// Most bytes handed to the UART per interrupt (its FIFO may take fewer): bounds the time
/// spent in one interrupt when the UART is as fast as an emulator's.
const TX_BURST: usize = 256;
/// Feeding the UART from its transmit interrupt is work at this priority (a threaded
/// interrupt, as PREEMPT_RT has it): while a task above it runs or is ready, the interrupt
/// waits. An emulated UART takes a burst at once and interrupts again at once, so without
/// this a console flood kept a woken real-time task waiting for 4 KiB of register writes.
pub const CONSOLE_TX_PRIO: u8 = abi::sys::PRIO_DEFAULT as u8;

/// The transmit ring: bytes move in and out as slices (a copy per run, not per byte), so
/// filling and draining it costs little beside the UART's own register writes.
pub struct TxRing {
    buf: [u8; CONSOLE_TX],
    head: usize,
    len: usize,
}

impl TxRing {
    pub const fn new() -> TxRing {
        TxRing {
            buf: [0; CONSOLE_TX],
            head: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Append bytes (the caller checked the room).
    fn push(&mut self, mut b: &[u8]) {
        while !b.is_empty() {
            let tail = (self.head + self.len) % CONSOLE_TX;
            let n = b.len().min(CONSOLE_TX - tail);
            self.buf[tail..tail + n].copy_from_slice(&b[..n]);
            self.len += n;
            b = &b[n..];
        }
    }

    /// The oldest bytes that sit in one piece.
    pub fn front(&self) -> &[u8] {
        let n = self.len.min(CONSOLE_TX - self.head);
        &self.buf[self.head..self.head + n]
    }

    /// Drop `n` bytes from the front (they were sent).
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.head = (self.head + n) % CONSOLE_TX;
        self.len -= n;
    }
}

impl Default for TxRing {
    fn default() -> Self {
        Self::new()
    }
}

/// The console's buffers (on the heap: the kernel is built on the boot stack).
pub struct Console {
    pub rx: Deque<u8, CONSOLE_RX>,
    pub tx: TxRing,
    /// Kernel-message bytes that found the ring full (they are still in the log ring).
    pub tx_dropped: usize,
    /// The transmit interrupt is held off while tasks above CONSOLE_TX_PRIO run.
    pub tx_deferred: bool,
    /// Readers waiting for input.
    pub readq: WaitQueue,
    /// Writers waiting for room in the ring.
    pub writeq: WaitQueue,
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Console {
    pub const fn new() -> Console {
        Console {
            rx: Deque::new(),
            tx: TxRing::new(),
            tx_dropped: 0,
            tx_deferred: false,
            readq: WaitQueue::new(),
            writeq: WaitQueue::new(),
        }
    }

    /// Queue output with `\n` sent as `\r\n`, keeping the ring at or below `limit` bytes.
    /// Returns how many input bytes went in.
    pub fn queue(&mut self, bytes: &[u8], limit: usize) -> usize {
        let limit = limit.min(CONSOLE_TX);
        let mut done = 0;
        while done < bytes.len() {
            let room = limit.saturating_sub(self.tx.len());
            // The run up to the next newline goes in as one copy.
            let rest = &bytes[done..];
            let run = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let n = run.min(room);
            self.tx.push(&rest[..n]);
            done += n;
            if n < run || done == bytes.len() {
                break;
            }
            if limit - self.tx.len() < 2 {
                break;
            }
            self.tx.push(b"\r\n");
            done += 1;
        }
        done
    }
}

impl Kernel {
    /// Console bytes arrived (from the UART interrupt): buffer them and serve a blocked reader.
    pub fn console_input(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == 0x03 && self.fg_pid > 0 {
                // Ctrl-C interrupts the foreground program instead of reaching a reader (init
                // only if it catches SIGINT: `kill` refuses otherwise). As a terminal does,
                // input typed ahead and not yet read is discarded with it.
                if self.kill(None, self.fg_pid, abi::sys::SIGINT).is_ok() {
                    self.console.rx.clear();
                }
                continue;
            }
            if self.console.rx.push_back(b).is_err() {
                break; // full: the oldest input is kept, the excess dropped
            }
        }
        self.serve_console_readers();
    }

    /// Kernel message bytes for the console: into the ring (the reserve above TX_USER is
    /// theirs), never waiting; what does not fit is counted and stays in the log ring.
    pub fn console_kernel_out(&mut self, bytes: &[u8]) {
        let n = self.console.queue(bytes, CONSOLE_TX);
        self.console.tx_dropped += bytes.len() - n;
        self.console_pump();
    }

    /// Hand the UART what its FIFO takes now, up to a burst, and ask for the transmit
    /// interrupt while anything is left.
    pub fn console_pump(&mut self) {
        let mut sent = 0;
        while sent < TX_BURST {
            let front = self.console.tx.front();
            if front.is_empty() {
                break;
            }
            let n = self
                .arch
                .console_tx(&front[..front.len().min(TX_BURST - sent)]);
            if n == 0 {
                break;
            }
            self.console.tx.consume(n);
            sent += n;
        }
        self.arch.console_tx_irq(!self.console.tx.is_empty());
    }

    /// Send everything still in the ring, waiting on the UART: only on the way to power off
    /// or restart, where nothing else will run again.
    pub fn console_flush(&mut self) {
        while !self.console.tx.is_empty() {
            let n = self.arch.console_tx(self.console.tx.front());
            self.console.tx.consume(n);
            if n == 0 {
                core::hint::spin_loop();
            }
        }
        self.arch.console_tx_irq(false);
    }

    /// The UART can take more (its transmit interrupt): send, and once the ring has drained
    /// far enough let blocked writers go on. They copy their bytes themselves, at their own
    /// priority, when they next run; the interrupt never does a task's copying.
    pub fn console_tx_ready(&mut self) {
        if self.console_waits() {
            self.console.tx_deferred = true;
            self.arch.console_tx_irq(false);
            return;
        }
        self.console_pump();
        if self.console.tx.len() > TX_LOW {
            return;
        }
        self.wake_all(WaitId::ConsoleWrite);
    }

    /// Whether a task above CONSOLE_TX_PRIO is running or ready.
    fn console_waits(&self) -> bool {
        let running = self
            .current
            .map(|c| self.task(c))
            .filter(|t| t.state == State::Running)
            .map(|t| t.prio);
        running
            .max(self.sched.top_prio())
            .is_some_and(|p| p > CONSOLE_TX_PRIO && p > self.console_tx_prio())
    }

    /// CONSOLE_TX_PRIO, raised to the highest writer blocked on the ring (priority
    /// inheritance: a real-time writer must not wait for tasks between it and the default).
    fn console_tx_prio(&self) -> u8 {
        self.console
            .writeq
            .slots()
            .filter_map(|s| self.tasks[s].as_ref())
            .map(|t| t.prio)
            .fold(CONSOLE_TX_PRIO, u8::max)
    }

    /// The scheduler chose a task at `prio` (or none: idle) while the transmit interrupt is
    /// held off: it resumes once nothing above its priority is left to run.
    #[inline(never)]
    pub(crate) fn console_resume(&mut self, prio: Option<u8>) {
        if prio.is_none_or(|p| p <= CONSOLE_TX_PRIO || p <= self.console_tx_prio()) {
            // As the interrupt would: pump, and wake writers if the ring has drained (it may
            // have been emptied meanwhile by a real-time task's own writes).
            self.console.tx_deferred = false;
            self.console_tx_ready();
        }
    }

    /// One bounded step of a console write: copy what fits (at most the ring's user part).
    /// Some(result) when the write is finished, None when the writer waits for room.
    pub(crate) fn console_write_step(
        &mut self,
        me: usize,
        buf: usize,
        len: usize,
        mut done: usize,
    ) -> Option<R> {
        let env = self.task(me).env;
        let mut chunk = [0u8; IO_CHUNK];
        while done < len {
            let room = TX_USER.saturating_sub(self.console.tx.len());
            if room < 2 {
                break;
            }
            // Never across a page: the bytes before an unmapped page still count.
            let at = buf + done;
            let n = (len - done)
                .min(IO_CHUNK)
                .min(room)
                .min(crate::phys::PAGE_SIZE - at % crate::phys::PAGE_SIZE);
            if let Err(e) = uaccess::copy_in(self.arch, &env, at, &mut chunk[..n]) {
                self.console_pump();
                return Some(if done == 0 { Err(e) } else { Ok(done as isize) });
            }
            done += self.console.queue(&chunk[..n], TX_USER);
        }
        self.console_pump();
        if done == len {
            return Some(Ok(len as isize));
        }
        self.task_mut(me).work = Some(Work::ConsoleWrite { buf, len, done });
        self.wait_on(WaitId::ConsoleWrite, None)
    }

    /// Move buffered console input into task `slot`'s buffer.
    pub(crate) fn console_take(&mut self, slot: usize, buf: usize, len: usize) -> R {
        let env = self.task(slot).env;
        let mut tmp = [0u8; IO_CHUNK];
        let n = len.min(self.console.rx.len()).min(IO_CHUNK);
        for (i, b) in self.console.rx.iter().take(n).enumerate() {
            tmp[i] = *b;
        }
        uaccess::copy_out(self.arch, &env, buf, &tmp[..n])?;
        for _ in 0..n {
            self.console.rx.pop_front();
        }
        Ok(n as isize)
    }

    /// Input arrived: readers waiting for it read it themselves, the first to run (the
    /// highest priority, then the longest waiting) first.
    pub fn serve_console_readers(&mut self) {
        if !self.console.rx.is_empty() {
            self.wake_all(WaitId::ConsoleRead);
        }
    }

    /// Console ioctls: TIOCSCTTY takes the console for the caller's session, TIOCSPGRP and
    /// TIOCGPGRP set and read the foreground process (the one Ctrl-C interrupts).
    fn console_ioctl(&mut self, me: usize, req: usize, arg: usize) -> R {
        let env = self.task(me).env;
        match req {
            sys::TIOCGPGRP => uaccess::write_val(self.arch, &env, arg, &self.fg_pid).map(|_| 0),
            sys::TIOCSPGRP => {
                let pid: i32 = uaccess::read_val(self.arch, &env, arg)?;
                self.set_foreground(me, pid)
            }
            sys::TIOCSCTTY => {
                let t = self.task(me);
                if t.sid != t.pid {
                    return Err(Errno::EPERM); // only a session leader takes a terminal
                }
                if self.console_sid != 0 && self.console_sid != t.sid && !(t.uid == 0 && arg == 1) {
                    return Err(Errno::EPERM);
                }
                self.console_sid = t.sid;
                self.fg_pid = 0;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    /// read(2) of the console: what input there is (up to IO_CHUNK), or a wait for some.
    fn console_read(&mut self, me: usize, f: Open, io: Io) -> Option<R> {
        let env = self.task(me).env;
        // The pages are checked as far as one read can move, so a huge buffer costs no
        // more than a small one.
        let n = io.len.min(IO_CHUNK);
        if let Err(e) = uaccess::check(self.arch, &env, io.buf, n, crate::up::Access::Write) {
            return Some(Err(e));
        }
        if io.len == 0 {
            return Some(Ok(0));
        }
        if self.console.rx.is_empty() {
            if f.file.nonblock() {
                return Some(Err(Errno::EAGAIN));
            }
            return self.wait_on(WaitId::ConsoleRead, None);
        }
        Some(self.console_take(me, io.buf, io.len))
    }

    /// TIOCSPGRP: only the console's controlling process (its session leader, the shell)
    /// or uid 0 may choose the foreground, and only a process of its own session or one of
    /// its descendants (0: none). So no process can aim Ctrl-C at init or a stranger.
    fn set_foreground(&mut self, me: usize, pid: i32) -> R {
        if pid < 0 {
            return Err(Errno::EINVAL);
        }
        let (my_pid, sid, uid) = {
            let t = self.task(me);
            (t.pid, t.sid, t.uid)
        };
        let controlling = self.console_sid != 0 && self.console_sid == sid && my_pid == sid;
        if uid != 0 && !controlling {
            return Err(Errno::EPERM);
        }
        if pid != 0 {
            let s = self.slot_of(pid).ok_or(Errno::ESRCH)?;
            if self.task(s).state == State::Zombie {
                return Err(Errno::ESRCH);
            }
            if self.task(s).sid != sid && !self.descends_from(pid, my_pid) {
                return Err(Errno::EPERM);
            }
        }
        self.fg_pid = pid;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(c: &mut Console) -> std::vec::Vec<u8> {
        let mut out = std::vec::Vec::new();
        while !c.tx.is_empty() {
            let f = c.tx.front();
            out.extend_from_slice(&f[..f.len().min(100)]);
            let n = f.len().min(100);
            c.tx.consume(n);
        }
        out
    }

    #[test]
    fn queue_translates_newlines_wraps_and_stops_at_the_limit() {
        let mut c = Console::new();
        // Wrap the ring around first.
        assert_eq!(
            c.queue(&[b'a'; CONSOLE_TX - 10], CONSOLE_TX),
            CONSOLE_TX - 10
        );
        drain(&mut c);
        assert_eq!(c.queue(b"one\ntwo\n", CONSOLE_TX), 8);
        assert_eq!(drain(&mut c), b"one\r\ntwo\r\n");
        // A newline needs two slots: at the limit it waits for room.
        assert_eq!(c.queue(b"ab\ncd", 3), 2);
        assert_eq!(c.queue(b"\ncd", 3), 0);
        assert_eq!(drain(&mut c), b"ab");
        assert_eq!(c.queue(b"\ncd", 4), 3);
        assert_eq!(drain(&mut c), b"\r\ncd");
    }
}
