//! Pipes: a kernel ring buffer between processes, reached through file descriptors (pipe2,
//! read, write, close; O_NONBLOCK gives EAGAIN instead of waiting). Readers block while it is empty, writers while it is full; a blocking
//! write returns when every byte is in. The kernel-copy path the benchmarks compare with.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::fs::file::{Node, MAX_FDS};
use crate::task::{Block, State, MAX_TASKS};
use crate::{uaccess, Kernel};
use abi::fcntl::{O_CLOEXEC, O_NONBLOCK, O_RDONLY, O_WRONLY};
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
    /// going wakes the other side.
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
            // End of file for everyone still waiting to read.
            for s in self.blocked_on(|b| matches!(b, Block::PipeRead { pipe, .. } if pipe == p)) {
                self.complete(s, 0);
            }
        }
        if readers == 0 {
            for s in self.blocked_on(|b| matches!(b, Block::PipeWrite { pipe, .. } if pipe == p)) {
                let done = match self.task(s).block {
                    Block::PipeWrite { done, .. } => done,
                    _ => 0,
                };
                let ret = if done > 0 {
                    done as isize
                } else {
                    Errno::EPIPE.to_ret()
                };
                self.complete(s, ret);
            }
        }
    }

    /// Blocked tasks matching `f`, longest-waiting first.
    fn blocked_on(&self, f: impl Fn(Block) -> bool) -> heapless::Vec<usize, MAX_TASKS> {
        let mut v: heapless::Vec<(u64, usize), MAX_TASKS> = (0..MAX_TASKS)
            .filter_map(|s| {
                let t = self.tasks[s].as_ref()?;
                (t.state == State::Blocked && f(t.block)).then_some((t.seq, s))
            })
            .collect();
        v.sort_unstable();
        v.into_iter().map(|(_, s)| s).collect()
    }

    pub fn pipe_write(
        &mut self,
        me: usize,
        p: usize,
        buf: usize,
        len: usize,
        nonblock: bool,
    ) -> Option<R> {
        let env = self.task(me).env;
        if !uaccess::range_ok(buf, len) {
            return Some(Err(Errno::EFAULT));
        }
        let pipe = self.pipes[p].as_ref().expect("live pipe");
        if pipe.readers == 0 {
            return Some(Err(Errno::EPIPE));
        }
        if len == 0 {
            return Some(Ok(0));
        }
        let n = len.min(PIPE_SIZE - pipe.len);
        if n > 0 {
            if let Err(e) = self.pipe_copy(p, &env, buf, n, true) {
                return Some(Err(e));
            }
            self.serve_pipe_readers(p);
        }
        if n == len {
            return Some(Ok(len as isize));
        }
        if nonblock {
            // What fits, or EAGAIN when nothing does.
            return Some(if n > 0 {
                Ok(n as isize)
            } else {
                Err(Errno::EAGAIN)
            });
        }
        self.block_current(
            Block::PipeWrite {
                pipe: p,
                buf,
                len,
                done: n,
            },
            None,
        );
        None
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
        // The whole buffer must lie in the user range (arithmetic only); its pages are
        // checked as far as one read can move, so a huge buffer costs no more than a small one.
        if !uaccess::range_ok(buf, len) {
            return Some(Err(Errno::EFAULT));
        }
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
            self.block_current(Block::PipeRead { pipe: p, buf, len }, None);
            return None;
        }
        let n = len.min(pipe.len);
        if let Err(e) = self.pipe_copy(p, &env, buf, n, false) {
            return Some(Err(e));
        }
        self.serve_pipe_writers(p);
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

    /// Hand buffered bytes to blocked readers.
    fn serve_pipe_readers(&mut self, p: usize) {
        for s in self.blocked_on(|b| matches!(b, Block::PipeRead { pipe, .. } if pipe == p)) {
            let Block::PipeRead { buf, len, .. } = self.task(s).block else {
                continue;
            };
            let avail = self.pipes[p].as_ref().map_or(0, |x| x.len);
            if avail == 0 {
                break;
            }
            let n = len.min(avail);
            let env = self.task(s).env;
            let r = self.pipe_copy(p, &env, buf, n, false);
            self.complete(s, r.map_or_else(|e| e.to_ret(), |_| n as isize));
        }
        self.serve_pipe_writers(p);
    }

    /// Let blocked writers put more in; a writer whose bytes are all in is finished.
    fn serve_pipe_writers(&mut self, p: usize) {
        for s in self.blocked_on(|b| matches!(b, Block::PipeWrite { pipe, .. } if pipe == p)) {
            let Block::PipeWrite { buf, len, done, .. } = self.task(s).block else {
                continue;
            };
            let space = self.pipes[p].as_ref().map_or(0, |x| PIPE_SIZE - x.len);
            if space == 0 {
                break;
            }
            let n = (len - done).min(space);
            let env = self.task(s).env;
            match self.pipe_copy(p, &env, buf + done, n, true) {
                Err(e) => self.complete(s, if done > 0 { done as isize } else { e.to_ret() }),
                Ok(()) if done + n == len => self.complete(s, len as isize),
                Ok(()) => {
                    self.task_mut(s).block = Block::PipeWrite {
                        pipe: p,
                        buf,
                        len,
                        done: done + n,
                    };
                    break;
                }
            }
        }
        // Bytes a writer just added may be what a blocked reader waits for.
        let waiting = !self
            .blocked_on(|b| matches!(b, Block::PipeRead { pipe, .. } if pipe == p))
            .is_empty();
        if waiting && self.pipes[p].as_ref().is_some_and(|x| x.len > 0) {
            self.serve_pipe_readers(p);
        }
    }
}
