//! Chunk/signal channels over a named POSIX shared-memory object (the l4shmc_* API).
//!
//! An *area* is a named shared object. It starts with a small header (a robust lock, the
//! client counter, the initialized-clients bitmask and the offset of the first descriptor)
//! and then holds an append-only list of descriptors: *chunks* (a payload a producer fills
//! and a consumer empties, with a CLEAR → BUSY → READY → CLEAR state word) and *signals*
//! (a futex word counting triggers). Everything in the area is an offset from its start,
//! so every process may map it anywhere; see [`layout`] for the exact bytes.
//!
//! The Rust API is [`Area`], [`Chunk`], [`Signal`] and [`wait_any`]; [`c`] wraps it in the
//! original C signatures (`l4shmc_*`, negative errno results).
//!
//! The project's choices (see the conformance catalogue, section 9):
//! - `create(name, size)` is the older L4Re form: the area is a POSIX object named
//!   `"/" + name`, created zero-filled; a zero header is a valid empty area, so creating an
//!   existing area again changes nothing ("both sides may create").
//! - Area, chunk and signal names are 1..=15 bytes without NUL or '/' (longer: EINVAL).
//! - Free space is the usable size (the area size rounded down to 8) minus the end of the
//!   last descriptor, so `add_chunk(size_free() - chunk_overhead())` fits.
//! - Timeouts are milliseconds: `None` waits for ever, `Some(0)` only tries. A wait that
//!   ends without an event is ETIMEDOUT (the original's "receive timeout").
//! - Anything another client can write is validated on every read (offsets, sizes,
//!   alignment, magic, names) and every walk is bounded: a corrupted area gives EIO
//!   (out of range, bad magic) or EINVAL (misaligned), never an out-of-bounds access.
//! - Concurrency: the robust lock in the header serialises appends to the descriptor list
//!   (the one change that takes several writes); the client counter and the bitmask are
//!   single atomic read-modify-writes, chunk states compare-exchanges, signal counters
//!   fetch-adds. Readers walk the list without the lock: a descriptor is complete before
//!   it is linked.
//! - A trigger makes the futex wake (a system call) only if a waiter announced, in the
//!   signal's `waiting` flag, that it may sleep; a producer whose consumer is busy makes
//!   none (see [`signal`]).
//! - If a process dies holding the area lock, the next holder (told `OwnerDied`) cuts the
//!   descriptor list at its first invalid descriptor before going on (`Area::repair`).
//! - Signals live in the area, so `add_signal` is what provides one (as in the older
//!   L4Re): adding an existing name gets it, and get/attach of an unknown name is ENOENT.
//!   `wait_any` takes the signals to wait on; the C `l4shmc_wait_any` waits on the ones
//!   the calling thread enabled.
#![no_std]

pub mod area;
pub mod c;
pub mod chunk;
pub mod layout;
pub mod signal;

pub use abi::Errno;
pub use area::{Area, AreaInfo, Entry, Name, SignalInfo};
pub use chunk::{Chunk, ChunkInfo, ChunkState};
pub use signal::{wait_any, Signal};

/// Longest area, chunk or signal name in bytes (L4Re's `L4SHMC_*_NAME_SIZE`).
pub const NAME_MAX: usize = 15;

/// Check a name: 1..=NAME_MAX bytes, no NUL (it ends names in the area) and no '/' (area
/// names become POSIX object names, which have one leading slash only).
pub(crate) fn check_name(name: &str) -> Result<&[u8], Errno> {
    let b = name.as_bytes();
    if b.is_empty() || b.len() > NAME_MAX || b.iter().any(|&c| c == 0 || c == b'/') {
        return Err(Errno::EINVAL);
    }
    Ok(b)
}
