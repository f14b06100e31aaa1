//! readv and writev: the iovecs one after another through the descriptor's read or write,
//! stopping short (as POSIX allows) rather than waiting once something has moved, and
//! bounded per call.

use abi::Errno;

use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

/// Most iovecs one call takes (Linux's IOV_MAX).
pub const IOV_MAX: usize = 1024;
/// Bytes one call moves at most beyond its first iovec: the copies run with interrupts
/// masked; a short count is allowed.
const IOV_BYTES: usize = 16 * 1024;
/// iovecs copied in at a time.
const CHUNK: usize = 64;
/// iovecs with bytes one call serves at most once something has moved: each is a full read
/// or write (descriptor, checks, copy, wake-ups).
const IOV_CALLS: usize = 32;

impl Kernel {
    /// The iovecs `[start, start + n)` of the array at `iov`, as (base, len) pairs in `raw`.
    fn iov_chunk(
        &self,
        me: usize,
        iov: usize,
        start: usize,
        n: usize,
        raw: &mut [u8],
    ) -> Result<(), Errno> {
        let env = self.task(me).env;
        let at = iov.checked_add(start * 16).ok_or(Errno::EFAULT)?;
        uaccess::copy_in(self.arch, &env, at, &mut raw[..n * 16])
    }

    /// readv (65) and writev (66).
    pub fn sys_rwv(
        &mut self,
        me: usize,
        fd: usize,
        iov: usize,
        cnt: usize,
        write: bool,
    ) -> Option<R> {
        match self.rwv_check(me, fd, iov, cnt, write) {
            Ok(()) => {}
            Err(e) => return Some(Err(e)),
        }
        let f = match self.open_of(me, fd) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let mut raw = [0u8; CHUNK * 16];
        let mut total: usize = 0;
        let mut calls = 0;
        let done = |total: usize, e: Errno| {
            Some(if total > 0 {
                Ok(total as isize)
            } else {
                Err(e)
            })
        };
        for start in (0..cnt).step_by(CHUNK) {
            let n = (cnt - start).min(CHUNK);
            if let Err(e) = self.iov_chunk(me, iov, start, n, &mut raw) {
                return done(total, e);
            }
            for v in raw[..n * 16].chunks_exact(16) {
                let word = |k: usize| u64::from_le_bytes(v[k..k + 8].try_into().expect("8 bytes"));
                let (base, len) = (word(0) as usize, word(8) as usize);
                if len == 0 {
                    continue;
                }
                if total > 0
                    && (total >= IOV_BYTES
                        || calls >= IOV_CALLS
                        || f.file.node.ops().would_wait(self, f, len, write))
                {
                    return Some(Ok(total as isize));
                }
                calls += 1;
                let r = if write {
                    self.sys_write(me, fd, base, len)
                } else {
                    self.sys_read(me, fd, base, len)
                };
                match r {
                    Some(Ok(k)) => {
                        total += k as usize;
                        if (k as usize) < len {
                            return Some(Ok(total as isize));
                        }
                    }
                    Some(Err(e)) => return done(total, e),
                    // The first iovec with bytes waits (or continues as kernel work): the call
                    // finishes as that read or write does.
                    None => return None,
                }
            }
        }
        Some(Ok(total as isize))
    }

    /// Before anything moves: the descriptor, the count, the array, and lengths that add up
    /// to what a result can hold (EINVAL otherwise, as Linux checks them).
    fn rwv_check(
        &self,
        me: usize,
        fd: usize,
        iov: usize,
        cnt: usize,
        write: bool,
    ) -> Result<(), Errno> {
        let f = self.file_of(me, fd)?;
        if !(if write { f.writable() } else { f.readable() }) {
            return Err(Errno::EBADF);
        }
        if cnt > IOV_MAX {
            return Err(Errno::EINVAL);
        }
        let mut raw = [0u8; CHUNK * 16];
        let mut sum: usize = 0;
        for start in (0..cnt).step_by(CHUNK) {
            let n = (cnt - start).min(CHUNK);
            self.iov_chunk(me, iov, start, n, &mut raw)?;
            for v in raw[..n * 16].chunks_exact(16) {
                let len = u64::from_le_bytes(v[8..16].try_into().expect("8 bytes")) as usize;
                sum = sum
                    .checked_add(len)
                    .filter(|&s| s <= isize::MAX as usize)
                    .ok_or(Errno::EINVAL)?;
            }
        }
        Ok(())
    }
}
