//! The bytes of an area: its header and the descriptors of its chunks and signals.
//!
//! ```text
//! offset 0          Header (48 bytes)
//!   0   lock            RobustLock (16): held while the descriptor list is appended to
//!   16  next_client_nr  u64: fetch-add on every attach
//!   24  clients_init    u64: bitmask of clients that called mark_client_initialized
//!   32  first           u64: offset of the first descriptor, 0 = none
//!   40  generation      u32: futex word bumped (and woken) after every append
//!   44  reserved        u32
//! offset 48         first descriptor, then each descriptor's payload, then the next one
//!   Desc (64 bytes, 8-aligned)
//!   0   magic           u32: CHUNK_MAGIC or SIGNAL_MAGIC
//!   4   state           u32: chunk: CLEAR/BUSY/READY; signal: trigger counter (futex word)
//!   8   offset          u64: the descriptor's own offset (a self-check)
//!   16  capacity        u64: payload bytes after the descriptor (multiple of 8; 0: signal)
//!   24  size            u64: bytes in the payload when READY
//!   32  next            u64: offset of the next descriptor, 0 = end of list
//!   40  name            [u8; 16]: NUL-padded, at most 15 bytes (accessed as two
//!                       little-endian u64 words)
//!   56  waiting         u64: signal: non-zero when a client may be asleep on it (set
//!                       before its futex wait; a trigger that finds it set clears it and
//!                       wakes every waiter, one that finds it 0 makes no system call);
//!                       chunk: 0
//!   64  payload         capacity bytes
//! ```
//!
//! All-zero is an empty area with the lock free. Every field another client can write is an
//! atomic, so reading it while that client scribbles is defined (if meaningless) and is
//! validated before use. Offsets only grow along the list, which bounds every walk.

use core::mem::{offset_of, size_of};
use core::sync::atomic::{AtomicU32, AtomicU64};
use shmsync::RobustLock;

/// `Desc::magic` of a chunk (L4Re's `L4SHMC_CHUNK_MAGIC`).
pub const CHUNK_MAGIC: u32 = 0xfedc_ba98;
/// `Desc::magic` of a signal.
pub const SIGNAL_MAGIC: u32 = 0x5167_a15e;

/// Chunk states (L4Re's values).
pub const CHUNK_CLEAR: u32 = 0;
pub const CHUNK_BUSY: u32 = 1;
pub const CHUNK_READY: u32 = 2;

/// Alignment of descriptors, capacities and offsets (`sizeof(l4_addr_t)`).
pub const ALIGN: usize = 8;

/// The area header at offset 0.
#[repr(C)]
#[derive(Debug)]
pub struct Header {
    pub lock: RobustLock,
    pub next_client_nr: AtomicU64,
    pub clients_init: AtomicU64,
    pub first: AtomicU64,
    pub generation: AtomicU32,
    pub reserved: AtomicU32,
}

/// A chunk or signal descriptor; a chunk's payload follows it.
#[repr(C)]
#[derive(Debug)]
pub struct Desc {
    pub magic: AtomicU32,
    pub state: AtomicU32,
    pub offset: AtomicU64,
    pub capacity: AtomicU64,
    pub size: AtomicU64,
    pub next: AtomicU64,
    /// The name's 16 bytes as two little-endian words: a walk validates every name it
    /// passes, and two loads do that faster than sixteen.
    pub name: [AtomicU64; 2],
    pub waiting: AtomicU64,
}

/// Bytes of the header (`l4shmc_area_overhead`).
pub const HEADER_SIZE: usize = size_of::<Header>();
/// Bytes of a descriptor.
pub const DESC_SIZE: usize = size_of::<Desc>();

const _: () = {
    assert!(HEADER_SIZE == 48 && DESC_SIZE == 64);
    assert!(offset_of!(Header, next_client_nr) == 16 && offset_of!(Header, first) == 32);
    assert!(offset_of!(Header, generation) == 40);
    assert!(offset_of!(Desc, state) == 4 && offset_of!(Desc, next) == 32);
    assert!(offset_of!(Desc, name) == 40 && offset_of!(Desc, waiting) == 56);
    assert!(HEADER_SIZE.is_multiple_of(ALIGN) && DESC_SIZE.is_multiple_of(ALIGN));
    assert!(core::mem::align_of::<Header>() <= ALIGN && core::mem::align_of::<Desc>() <= ALIGN);
    // Offsets are u64 in the area and usize here: the targets are 64-bit.
    assert!(size_of::<usize>() == 8);
};
