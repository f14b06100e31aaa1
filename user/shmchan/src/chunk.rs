//! A chunk: a payload in the area with a CLEAR → BUSY → READY → CLEAR state word that
//! producer and consumer move on with compare-exchanges, and optionally a connected signal.

use crate::area::{Area, Name};
use crate::layout::{Desc, ALIGN, CHUNK_BUSY, CHUNK_CLEAR, CHUNK_MAGIC, CHUNK_READY, DESC_SIZE};
use crate::signal::Signal;
use crate::Errno;
use core::sync::atomic::Ordering;

/// A chunk's state word, as read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChunkState {
    /// Free for a producer to take.
    Clear,
    /// Taken by a producer that is filling it.
    Busy,
    /// Filled, for the consumer.
    Ready,
    /// Not a state (another client wrote garbage).
    Invalid(u32),
}

impl ChunkState {
    #[inline]
    pub(crate) fn from_word(w: u32) -> ChunkState {
        match w {
            CHUNK_CLEAR => ChunkState::Clear,
            CHUNK_BUSY => ChunkState::Busy,
            CHUNK_READY => ChunkState::Ready,
            w => ChunkState::Invalid(w),
        }
    }
}

/// A chunk as listed for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkInfo {
    pub name: Name,
    pub offset: usize,
    pub capacity: usize,
    /// The size word as stored (may exceed the capacity if a client wrote garbage).
    pub size: u64,
    pub state: ChunkState,
}

/// A chunk of an attached area (L4Re's `l4shmc_chunk_t`): its descriptor's offset and the
/// capacity read when it was found, which later reads never trust the area to repeat.
#[derive(Clone, Debug)]
pub struct Chunk<'a> {
    area: &'a Area,
    desc: &'a Desc,
    off: usize,
    capacity: usize,
    sig: Option<Signal<'a>>,
}

impl<'a> Chunk<'a> {
    /// The chunk whose descriptor is at `off` with `capacity`: EINVAL unless both lie
    /// inside the area.
    pub(crate) fn from_raw(area: &'a Area, off: usize, capacity: usize) -> Result<Self, Errno> {
        let desc = area.desc(off).map_err(|_| Errno::EINVAL)?;
        match (off + DESC_SIZE).checked_add(capacity) {
            Some(end) if end <= area.size() && capacity.is_multiple_of(ALIGN) => Ok(Chunk {
                area,
                desc,
                off,
                capacity,
                sig: None,
            }),
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn area(&self) -> &'a Area {
        self.area
    }

    /// The descriptor's offset in the area.
    pub fn offset(&self) -> usize {
        self.off
    }

    /// The chunk's name, if the descriptor still holds a valid one.
    pub fn name(&self) -> Option<Name> {
        Name::read(&self.desc.name)
    }

    /// Bytes the payload holds at most (`l4shmc_chunk_capacity`).
    #[inline]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// Bytes of data in the chunk (`l4shmc_chunk_size`); EIO if the stored size exceeds
    /// the capacity.
    #[inline]
    pub fn size(&self) -> Result<usize, Errno> {
        let s = self.desc.size.load(Ordering::Acquire);
        match usize::try_from(s) {
            Ok(s) if s <= self.capacity => Ok(s),
            _ => Err(Errno::EIO),
        }
    }

    /// The payload in this process (`l4shmc_chunk_ptr`): `capacity()` bytes that other
    /// clients may read and write too.
    #[inline]
    pub fn ptr(&self) -> *mut u8 {
        self.area.base().wrapping_add(self.off + DESC_SIZE)
    }

    /// Does the descriptor still carry the chunk magic (`l4shmc_check_magic`)?
    #[inline]
    pub fn check_magic(&self) -> bool {
        self.desc.magic.load(Ordering::Acquire) == CHUNK_MAGIC
    }

    #[inline]
    pub fn state(&self) -> ChunkState {
        ChunkState::from_word(self.desc.state.load(Ordering::Acquire))
    }

    /// CLEAR → BUSY for a producer (`l4shmc_chunk_try_to_take`); EPERM if not CLEAR.
    #[inline]
    pub fn try_to_take(&self) -> Result<(), Errno> {
        self.desc
            .state
            .compare_exchange(CHUNK_CLEAR, CHUNK_BUSY, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| Errno::EPERM)
    }

    /// BUSY → READY with `size` bytes of data (`l4shmc_chunk_ready`). EINVAL if `size`
    /// exceeds the capacity, EPERM if the chunk is not BUSY; either way nothing changes.
    #[inline]
    pub fn ready(&self, size: usize) -> Result<(), Errno> {
        if size > self.capacity {
            return Err(Errno::EINVAL);
        }
        // Check first: a READY chunk's size belongs to its consumer.
        if self.desc.state.load(Ordering::Acquire) != CHUNK_BUSY {
            return Err(Errno::EPERM);
        }
        self.desc.size.store(size as u64, Ordering::Relaxed);
        // Release: the consumer that sees READY sees the size and the data.
        self.desc
            .state
            .compare_exchange(CHUNK_BUSY, CHUNK_READY, Ordering::AcqRel, Ordering::Acquire)
            .map(|_| ())
            .map_err(|_| Errno::EPERM)
    }

    /// `ready`, then trigger the connected signal (`l4shmc_chunk_ready_sig`). EINVAL,
    /// with nothing changed, if no signal is connected.
    #[inline]
    pub fn ready_sig(&self, size: usize) -> Result<(), Errno> {
        let sig = self.sig.as_ref().ok_or(Errno::EINVAL)?;
        self.ready(size)?;
        sig.trigger()
    }

    /// READY → CLEAR for the consumer (`l4shmc_chunk_consumed`); EPERM if not READY.
    #[inline]
    pub fn consumed(&self) -> Result<(), Errno> {
        self.desc
            .state
            .compare_exchange(
                CHUNK_READY,
                CHUNK_CLEAR,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .map(|_| ())
            .map_err(|_| Errno::EPERM)
    }

    /// `l4shmc_is_chunk_ready`.
    #[inline]
    pub fn is_ready(&self) -> bool {
        self.state() == ChunkState::Ready
    }

    /// `l4shmc_is_chunk_clear`.
    #[inline]
    pub fn is_clear(&self) -> bool {
        self.state() == ChunkState::Clear
    }

    /// Connect `sig` to this chunk (`l4shmc_connect_chunk_signal`): `ready_sig` triggers
    /// it and `wait` waits on it.
    pub fn connect(&mut self, sig: Signal<'a>) {
        self.sig = Some(sig);
    }

    /// The connected signal (`l4shmc_chunk_signal`).
    pub fn signal(&self) -> Option<&Signal<'a>> {
        self.sig.as_ref()
    }

    pub fn signal_mut(&mut self) -> Option<&mut Signal<'a>> {
        self.sig.as_mut()
    }

    /// Wait for the connected signal (`l4shmc_wait_chunk_to`; None: for ever, Some(0):
    /// only look). EINVAL if none is connected, ETIMEDOUT if nothing came.
    pub fn wait(&mut self, timeout_ms: Option<u64>) -> Result<(), Errno> {
        self.sig.as_mut().ok_or(Errno::EINVAL)?.wait(timeout_ms)
    }

    /// Take a pending event of the connected signal, if any (`l4shmc_wait_chunk_try`).
    pub fn wait_try(&mut self) -> Result<(), Errno> {
        self.wait(Some(0))
    }

    /// Copy `data` to the start of the payload (EINVAL if it does not fit).
    #[inline]
    pub fn write(&self, data: &[u8]) -> Result<(), Errno> {
        if data.len() > self.capacity {
            return Err(Errno::EINVAL);
        }
        // SAFETY: the payload lies inside the mapping (checked in `from_raw`) and `data`
        // fits it; it is plain bytes that other processes may change at any time, which
        // makes the copy's result, never its safety, depend on them.
        unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), self.ptr(), data.len()) };
        Ok(())
    }

    /// Copy the chunk's data (`size()` bytes) into `buf`; its length, EINVAL if `buf` is
    /// too small, EIO if the size is invalid.
    #[inline]
    pub fn read(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let n = self.size()?;
        if n > buf.len() {
            return Err(Errno::EINVAL);
        }
        // SAFETY: as in `write`: `n` is at most the capacity, inside the mapping.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr(), buf.as_mut_ptr(), n) };
        Ok(n)
    }
}
