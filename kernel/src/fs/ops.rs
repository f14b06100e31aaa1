//! File operations (DESIGN.md 3a; NuttX's `file_operations`, Tock's `SyscallDriver`): what an
//! open file description does, one implementation per kind of node, each operation
//! defaulting to the errno POSIX and Linux give where it does not apply. The syscalls check
//! the descriptor, the access mode and the user range, then call the node's operation.

use abi::fcntl::{SEEK_CUR, SEEK_END, SEEK_SET};
use abi::stat::Stat;
use abi::Errno;

use crate::fs::file::{File, Node};
use crate::Kernel;

pub type R = Result<isize, Errno>;

/// An open description as an operation sees it: its index in the table and its state.
#[derive(Clone, Copy, Debug)]
pub struct Open {
    pub id: u16,
    pub file: File,
}

/// What a mapping of a file is made of (the answer of the mmap operation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapSource {
    /// Private zero-filled pages: what mapping `/dev/zero` gives, as on Linux.
    Anonymous,
    /// The pages of shared-memory object `o`.
    Object(u16),
}

pub trait FileOps: Sync {
    /// read(2) into `buf` (the whole range already checked to lie in user space), at `at`
    /// (pread) or else the description's offset, which then moves on. None: the caller
    /// waits, and its call finishes later.
    fn read(&self, _k: &mut Kernel, _me: usize, _f: Open, _io: Io) -> Option<R> {
        Some(Err(Errno::EINVAL))
    }
    /// write(2) from `buf`, as `read`.
    fn write(&self, _k: &mut Kernel, _me: usize, _f: Open, _io: Io) -> Option<R> {
        Some(Err(Errno::EINVAL))
    }
    /// The offset lseek(off, whence) moves to (the caller stores it). ESPIPE where there
    /// are no offsets (terminals, pipes); pread and pwrite need this to succeed.
    fn seek(&self, _k: &Kernel, _f: Open, _off: i64, _whence: usize) -> Result<u64, Errno> {
        Err(Errno::ESPIPE)
    }
    /// What fstat reports.
    fn stat(&self, k: &Kernel, f: Open) -> Stat;
    /// ftruncate: only regular files have a size to set.
    fn truncate(&self, _k: &mut Kernel, _f: Open, _len: u64) -> R {
        Err(Errno::EINVAL)
    }
    /// What a mapping of the file is made of; ENODEV where it cannot be mapped.
    fn mmap(&self, _k: &Kernel, _f: Open) -> Result<MapSource, Errno> {
        Err(Errno::ENODEV)
    }
    /// Device requests; ENOTTY for anything that is not a terminal.
    fn ioctl(&self, _k: &mut Kernel, _me: usize, _f: Open, _req: usize, _arg: usize) -> R {
        Err(Errno::ENOTTY)
    }
    /// The last description open on `node` has gone.
    fn close(&self, _k: &mut Kernel, _node: Node) {}
    /// Whether a read (or write) of `len` bytes would wait now: readv and writev stop
    /// before such an iovec once something has moved.
    fn would_wait(&self, _k: &Kernel, _f: Open, _len: usize, _write: bool) -> bool {
        false
    }
}

/// A read or write: the user buffer and where in the file (None: the description's
/// offset).
#[derive(Clone, Copy, Debug)]
pub struct Io {
    pub buf: usize,
    pub len: usize,
    pub at: Option<u64>,
}

/// The offset lseek gives in a file of `size` bytes (a file with offsets: anywhere from 0,
/// past the end too).
pub fn seek_in(f: Open, off: i64, whence: usize, size: u64) -> Result<u64, Errno> {
    let base = match whence {
        SEEK_SET => 0,
        SEEK_CUR => f.file.offset as i64,
        SEEK_END => size as i64,
        _ => return Err(Errno::EINVAL),
    };
    let new = base.checked_add(off).ok_or(Errno::EINVAL)?;
    u64::try_from(new).map_err(|_| Errno::EINVAL)
}

impl Node {
    /// The operations of this kind of node: the one place kinds meet their drivers.
    pub fn ops(self) -> &'static dyn FileOps {
        match self {
            Node::Console => &crate::fs::console::ConsoleOps,
            Node::PipeRead(_) | Node::PipeWrite(_) => &crate::fs::pipe::PipeOps,
            Node::Null => &crate::fs::dev::NullOps,
            Node::Zero => &crate::fs::dev::ZeroOps,
            Node::Dir(_) => &crate::fs::open::DirOps,
            Node::Prog(_) => &crate::fs::open::ProgOps,
            Node::Shm(_) => &crate::mm::shm::posix::ShmOps,
        }
    }
}

impl Kernel {
    /// The description behind descriptor `fd` of task `me`, with its index.
    pub fn open_of(&self, me: usize, fd: usize) -> Result<Open, Errno> {
        let d = self
            .task(me)
            .fds
            .get(fd)
            .copied()
            .flatten()
            .ok_or(Errno::EBADF)?;
        let file = *self.files.get(d.file).ok_or(Errno::EBADF)?;
        Ok(Open { id: d.file, file })
    }
}
