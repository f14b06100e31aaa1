//! The simple devices of `/dev`: `null` (reads end at once, writes vanish) and `zero`
//! (reads give zeros, writes vanish, mappings are private zero-filled memory).

use abi::stat::Stat;

use crate::fs::namespace::Vnode;
use crate::fs::ops::{FileOps, Io, MapSource, Open, R};
use crate::{uaccess, Kernel};

/// Bytes a read of `/dev/zero` moves at most per call: the copy runs with interrupts
/// masked, and a short read is allowed.
pub const ZERO_READ_MAX: usize = 16 * 1024;

/// What `/dev/zero` reads as, a page at a time.
static ZEROS: [u8; 4096] = [0; 4096];

pub struct NullOps;
pub struct ZeroOps;

impl FileOps for NullOps {
    fn read(&self, _k: &mut Kernel, _me: usize, _f: Open, _io: Io) -> Option<R> {
        Some(Ok(0))
    }
    fn write(&self, _k: &mut Kernel, _me: usize, _f: Open, io: Io) -> Option<R> {
        Some(Ok(io.len as isize))
    }
    /// Always at 0, as Linux's.
    fn seek(&self, _k: &Kernel, _f: Open, _off: i64, _w: usize) -> Result<u64, abi::Errno> {
        Ok(0)
    }
    fn stat(&self, k: &Kernel, _f: Open) -> Stat {
        k.vnode_stat(Vnode::Null)
    }
}

impl FileOps for ZeroOps {
    fn read(&self, k: &mut Kernel, me: usize, _f: Open, io: Io) -> Option<R> {
        let env = k.task(me).env;
        let n = io.len.min(ZERO_READ_MAX);
        let mut done = 0;
        while done < n {
            let c = (n - done).min(ZEROS.len());
            if let Err(e) = uaccess::copy_out(k.arch, &env, io.buf + done, &ZEROS[..c]) {
                return Some(if done > 0 { Ok(done as isize) } else { Err(e) });
            }
            done += c;
        }
        Some(Ok(n as isize))
    }
    fn write(&self, _k: &mut Kernel, _me: usize, _f: Open, io: Io) -> Option<R> {
        Some(Ok(io.len as isize))
    }
    fn seek(&self, _k: &Kernel, _f: Open, _off: i64, _w: usize) -> Result<u64, abi::Errno> {
        Ok(0)
    }
    fn stat(&self, k: &Kernel, _f: Open) -> Stat {
        k.vnode_stat(Vnode::Zero)
    }
    fn mmap(&self, _k: &Kernel, _f: Open) -> Result<MapSource, abi::Errno> {
        Ok(MapSource::Anonymous)
    }
}
