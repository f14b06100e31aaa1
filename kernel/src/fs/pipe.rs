//! Pipes: a kernel ring buffer between processes, reached through file descriptors (pipe2,
//! read, write, close; O_NONBLOCK gives EAGAIN instead of waiting). Readers wait while it is
//! empty, writers while it is full; a blocking write returns when every byte is in, and
//! writes of up to PIPE_BUF bytes are never interleaved. The kernel-copy path the
//! benchmarks compare with.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::fs::file::{Node, MAX_FDS};
use crate::fs::ops::{FileOps, Io, Open};
use crate::sched::wait::{WaitId, WaitQueue};
use crate::task::Work;
use crate::{uaccess, Kernel};
use abi::fcntl::{O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY};
use abi::sys::PIPE_BUF;
use abi::Errno;

/// Bytes a pipe holds.
pub const PIPE_SIZE: usize = 16 * 1024;
/// Pipes system-wide.
pub const MAX_PIPES: usize = 32;
pub struct Pipe {
    ring: Box<[u8]>,
    head: usize,
    len: usize,
    pub readers: usize,
    pub writers: usize,
    /// Readers waiting for bytes, writers waiting for room.
    pub readq: WaitQueue,
    pub writeq: WaitQueue,
}

impl Pipe {
    /// Bytes buffered.
    pub fn level(&self) -> usize {
        self.len
    }

    /// Copy user bytes [uva, uva+n) in at the tail; n must fit.
    fn push_from_user(
        &mut self,
        k: &Kernel,
        env: &crate::up::AddrEnv,
        uva: usize,
        n: usize,
    ) -> Result<(), Errno> {
        let tail = (self.head + self.len) % PIPE_SIZE;
        let first = n.min(PIPE_SIZE - tail);
        uaccess::copy_in(k.arch, env, uva, &mut self.ring[tail..tail + first])?;
        uaccess::copy_in(k.arch, env, uva + first, &mut self.ring[..n - first])?;
        self.len += n;
        Ok(())
    }

    /// Copy n bytes from the head out to the user; n must be available.
    fn pop_to_user(
        &mut self,
        k: &Kernel,
        env: &crate::up::AddrEnv,
        uva: usize,
        n: usize,
    ) -> Result<(), Errno> {
        let first = n.min(PIPE_SIZE - self.head);
        uaccess::copy_out(k.arch, env, uva, &self.ring[self.head..self.head + first])?;
        uaccess::copy_out(k.arch, env, uva + first, &self.ring[..n - first])?;
        self.head = (self.head + n) % PIPE_SIZE;
        self.len -= n;
        Ok(())
    }
}

type R = Result<isize, Errno>;

/// Inode numbers of pipes (the pipe's index added).
const INO_PIPE: u64 = 0x1000;

/// Either end of a pipe as a file: no offsets; the last end closed wakes the other side.
pub struct PipeOps;

impl FileOps for PipeOps {
    fn read(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        match f.file.node {
            Node::PipeRead(p) => k.pipe_read(me, p, io.buf, io.len, f.file.nonblock()),
            _ => Some(Err(Errno::EBADF)),
        }
    }
    fn write(&self, k: &mut Kernel, me: usize, f: Open, io: Io) -> Option<R> {
        match f.file.node {
            Node::PipeWrite(p) => k.pipe_write_step(me, p, io.buf, io.len, 0, f.file.nonblock()),
            _ => Some(Err(Errno::EBADF)),
        }
    }
    /// Opened by whoever made it, when they made it.
    fn stat(&self, k: &Kernel, f: Open) -> abi::stat::Stat {
        let p = match f.file.node {
            Node::PipeRead(p) | Node::PipeWrite(p) => p,
            _ => 0,
        };
        k.file_stat(&f.file, INO_PIPE + p as u64, abi::stat::S_IFIFO | 0o600)
    }
    fn close(&self, k: &mut Kernel, node: Node) {
        match node {
            Node::PipeRead(p) => k.pipe_end_closed(p, false),
            Node::PipeWrite(p) => k.pipe_end_closed(p, true),
            _ => {}
        }
    }
    fn would_wait(&self, k: &Kernel, f: Open, len: usize, write: bool) -> bool {
        match (f.file.node, write) {
            (Node::PipeRead(p), false) => k.pipes[p]
                .as_ref()
                .is_some_and(|x| x.level() == 0 && x.writers > 0),
            (Node::PipeWrite(p), true) => k.pipes[p]
                .as_ref()
                .is_some_and(|x| PIPE_SIZE - x.level() < len),
            _ => false,
        }
    }
}

impl Kernel {
    pub fn sys_pipe2(&mut self, me: usize, fds_uva: usize, flags: usize) -> R {
        if flags & !((O_CLOEXEC | O_NONBLOCK) as usize) != 0 {
            return Err(Errno::EINVAL); // O_DIRECT (packet mode): not supported
        }
        let env = self.task(me).env;
        uaccess::check(self.arch, &env, fds_uva, 8, crate::up::Access::Write)?;
        let free = (0..MAX_FDS)
            .filter(|&i| self.task(me).fds[i].is_none())
            .count();
        if free < 2 {
            return Err(Errno::EMFILE);
        }
        let p = self
            .pipes
            .iter()
            .position(|p| p.is_none())
            .ok_or(Errno::ENFILE)?;
        // No room for another buffer is a full file table, as Linux and POSIX name it
        // (pipe2 has no ENOMEM).
        let mut ring = Vec::new();
        ring.try_reserve_exact(PIPE_SIZE)
            .map_err(|_| Errno::ENFILE)?;
        ring.resize(PIPE_SIZE, 0);
        self.pipes[p] = Some(Pipe {
            ring: ring.into_boxed_slice(),
            head: 0,
            len: 0,
            readers: 1,
            writers: 1,
            readq: WaitQueue::new(),
            writeq: WaitQueue::new(),
        });
        let status = flags as u32 & O_NONBLOCK;
        let r = match self.file_new(Node::PipeRead(p), O_RDONLY | status) {
            Ok(r) => r,
            Err(e) => {
                self.pipes[p] = None;
                return Err(e);
            }
        };
        let w = match self.file_new(Node::PipeWrite(p), O_WRONLY | status) {
            Ok(w) => w,
            Err(e) => {
                self.file_unref(r); // the pipe goes with its last end
                self.pipes[p] = None;
                return Err(e);
            }
        };
        let cloexec = flags & O_CLOEXEC as usize != 0;
        // Two descriptors are free (checked above), so neither install fails.
        let rfd = self.fd_install(me, r, cloexec)?;
        let wfd = self.fd_install(me, w, cloexec)?;
        let pair = (rfd as u64) | ((wfd as u64) << 32);
        uaccess::write_val(self.arch, &env, fds_uva, &pair).map(|_| 0)
    }

    /// The last description of one end of pipe `p` is closed: the last reader or writer
    /// going wakes the other side (readers then see end of file, writers EPIPE).
    pub(crate) fn pipe_end_closed(&mut self, p: usize, writer: bool) {
        let Some(pipe) = self.pipes[p].as_mut() else {
            return;
        };
        if writer {
            pipe.writers -= 1;
        } else {
            pipe.readers -= 1;
        }
        let (readers, writers) = (pipe.readers, pipe.writers);
        if readers == 0 && writers == 0 {
            self.pipes[p] = None;
            return;
        }
        if writers == 0 {
            self.wake_all(WaitId::PipeRead(p as u8));
        }
        if readers == 0 {
            self.wake_all(WaitId::PipeWrite(p as u8));
        }
    }

    /// write(2) on pipe `p`: up to PIPE_BUF bytes go in at once or not at all (never
    /// interleaved with another writer's); more go in as room appears, the rest of the call
    /// continuing as the writer's own kernel work. Some(result) now, None when it waits.
    /// A step of it with `done` bytes in so far: at most a pipe's worth copied.
    pub(crate) fn pipe_write_step(
        &mut self,
        me: usize,
        p: usize,
        buf: usize,
        len: usize,
        done: usize,
        nonblock: bool,
    ) -> Option<R> {
        let Some(pipe) = self.pipes[p].as_ref() else {
            return Some(Err(Errno::EBADF)); // never: the writer holds its end
        };
        if pipe.readers == 0 {
            // SIGPIPE, and EPIPE if it does not end the writer (what went in still counts).
            self.send_signal(me, abi::signal::SIGPIPE, (0, 0, abi::signal::SI_KERNEL));
            return Some(if done > 0 {
                Ok(done as isize)
            } else {
                Err(Errno::EPIPE)
            });
        }
        if len == 0 {
            return Some(Ok(0));
        }
        let space = PIPE_SIZE - pipe.len;
        let atomic = len <= PIPE_BUF;
        let n = if atomic && space < len {
            0
        } else {
            (len - done).min(space)
        };
        let mut done = done;
        if n > 0 {
            let env = self.task(me).env;
            if let Err(e) = self.pipe_copy(p, &env, buf + done, n, true) {
                return Some(if done > 0 { Ok(done as isize) } else { Err(e) });
            }
            done += n;
            self.wake_all(WaitId::PipeRead(p as u8));
        }
        if done == len {
            return Some(Ok(len as isize));
        }
        if nonblock {
            // What fit, or EAGAIN when nothing did.
            return Some(if done > 0 {
                Ok(done as isize)
            } else {
                Err(Errno::EAGAIN)
            });
        }
        if done > 0 {
            self.task_mut(me).work = Some(Work::PipeWrite {
                pipe: p,
                buf,
                len,
                done,
            });
        }
        self.wait_on(WaitId::PipeWrite(p as u8), None)
    }

    pub fn pipe_read(
        &mut self,
        me: usize,
        p: usize,
        buf: usize,
        len: usize,
        nonblock: bool,
    ) -> Option<R> {
        let env = self.task(me).env;
        // Its pages are checked as far as one read can move, so a huge buffer costs no
        // more than a small one.
        let n = len.min(PIPE_SIZE);
        if let Err(e) = uaccess::check(self.arch, &env, buf, n, crate::up::Access::Write) {
            return Some(Err(e));
        }
        let pipe = self.pipes[p].as_ref().expect("live pipe");
        if len == 0 {
            return Some(Ok(0));
        }
        if pipe.len == 0 {
            if pipe.writers == 0 {
                return Some(Ok(0));
            }
            if nonblock {
                return Some(Err(Errno::EAGAIN));
            }
            return self.wait_on(WaitId::PipeRead(p as u8), None);
        }
        let n = len.min(pipe.len);
        if let Err(e) = self.pipe_copy(p, &env, buf, n, false) {
            return Some(Err(e));
        }
        // Room appeared: writers waiting for it put their bytes in themselves.
        self.wake_all(WaitId::PipeWrite(p as u8));
        Some(Ok(n as isize))
    }

    /// Copy `n` bytes between pipe `p` and user memory: in from `uva` when `inbound`, else
    /// out to it. (The pipe is lifted out of the table so the copy can borrow the kernel.)
    fn pipe_copy(
        &mut self,
        p: usize,
        env: &crate::up::AddrEnv,
        uva: usize,
        n: usize,
        inbound: bool,
    ) -> Result<(), Errno> {
        let mut pipe = self.pipes[p].take().expect("live pipe");
        let r = if inbound {
            pipe.push_from_user(self, env, uva, n)
        } else {
            pipe.pop_to_user(self, env, uva, n)
        };
        self.pipes[p] = Some(pipe);
        r
    }
}
