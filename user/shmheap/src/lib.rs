//! A shared heap over a named POSIX shared-memory object (the `shmheap_*` API): a first-fit
//! allocator whose whole state lives inside the object, as offsets, so that processes which
//! map it at different addresses share it and pass objects to each other as offset handles.
//!
//! # The object
//!
//! | offset | bytes | what |
//! |---|---|---|
//! | 0 | 8 | magic and version: the bytes `SHMHEAP` and 1 (written last by `create`) |
//! | 8 | 8 | the object's length as created (each mapping must be as long) |
//! | 16 | 8 | offset of the first free block (0: none) |
//! | 24 | 8 | how many times an owner-death repair has run (diagnostics) |
//! | 32 | 16 | the [`RobustLock`] every operation holds |
//! | 48 | | blocks, tiling the object up to its length rounded down to 16 |
//!
//! A block is a 16-byte header and its payload. Header word 0 is the block's whole size (a
//! multiple of 16, at least 32) with bit 0 set when it is allocated; word 1 is, for a free
//! block, the offset of the next free block (0 ends the list), and for an allocated block a
//! tag computed from its offset and size (so a half-made or forged header is seen). Free
//! blocks form a list in address order and are never next to each other (freeing merges).
//! Payloads are 16-aligned; a fresh heap's bookkeeping is [`OVERHEAD`] = 64 bytes, so
//! `alloc(len - 80)` fits. Handles are payload offsets from the object's start (never 0).
//!
//! # Errors
//!
//! - `EINVAL`: a bad name (empty, `.`, `..`, a `/` after the first byte, a NUL), `len` below
//!   [`MIN_LEN`], or a pointer or handle that is not the start of a live allocation of this
//!   heap: outside it, misaligned, inside an object, or already freed (double free).
//! - `ENAMETOOLONG`: a name longer than [`NAME_MAX`] bytes after the slash.
//! - `ENOMEM`: `alloc` found no free block large enough; the heap is unchanged.
//! - `EIO`: the bookkeeping in the object is inconsistent: overwritten by a client, or left
//!   unrepairable by a holder that died. Every call checks the whole heap under the lock
//!   first, reads each header word once and checks it before use, and bounds every walk by
//!   the number of blocks that fit, so garbage gives EIO, never an access outside the mapping
//!   or an endless loop.
//! - `EAGAIN` (connect): the object's header is still zero: a `create` is under way.
//! - `ETIMEDOUT`: the lock was not had within [`Heap::set_wait`]'s limit ([`LOCK_WAIT_MS`]
//!   by default): a holder that is stuck, or a lock word a client wrote (a holder that no
//!   longer exists is taken over as dead instead, see `shmsync`).
//! - From the OS: `EEXIST` (create: the name is taken), `ENOENT` (connect, destroy: no such
//!   object), `ENOMEM`, ...; from the lock: `ENOLCK`.
//!
//! Names are POSIX shm names; one without the leading `/` gets it added.
//!
//! # A holder that dies
//!
//! Every store an operation makes keeps the block sizes tiling the object; an allocation
//! becomes live in its last store (its header's size word with bit 0), a free stops it being
//! live in its first (the tag is overwritten). So when the lock comes back
//! `Acquired::OwnerDied`, the next holder walks the blocks by size, keeps the live ones
//! (bit 0 and a good tag), turns every other block free, merges free neighbours and rebuilds
//! the free list; the operation that died is thus wholly undone, or (an allocation whose
//! last store was made) its block stays allocated to the dead process, like any other of
//! its allocations. If the sizes no longer tile the object nothing is written and every
//! call gives EIO from then on.
#![no_std]
#![warn(unsafe_op_in_unsafe_fn)]

#[cfg(not(target_os = "none"))]
extern crate std;

pub mod c;

use abi::Errno;
use core::mem::ManuallyDrop;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};
use shmsync::os::{self, Mapping};
use shmsync::{Acquired, RobustLock};

/// How long an operation waits for the heap's lock by default: a holder keeps it for one
/// bounded walk of the heap, so a longer wait means a stuck holder or a forged lock word.
pub const LOCK_WAIT_MS: u64 = 5000;

/// Payload alignment and allocation granule (at least 8: SH-07).
pub const ALIGN: usize = 16;
/// Longest name, not counting the leading slash (the kernel's NAME_MAX).
pub const NAME_MAX: usize = 255;

const MAGIC: u64 = u64::from_le_bytes(*b"SHMHEAP\x01");
const H_MAGIC: usize = 0;
const H_SIZE: usize = 8;
const H_FREE: usize = 16;
const H_REPAIRS: usize = 24;
const H_LOCK: usize = 32;
/// Where the first block starts.
const FIRST: usize = 48;
/// A block header: size word and link word.
const HDR: usize = 16;
/// The smallest block: a header and one granule.
const MIN_BLOCK: usize = HDR + ALIGN;
const USED: u64 = 1;
const FLAGS: u64 = ALIGN as u64 - 1;

/// Bytes in front of the first payload on a fresh heap (the spec allows 80).
pub const OVERHEAD: usize = FIRST + HDR;
/// The smallest object a heap fits in: the header and one smallest block.
pub const MIN_LEN: usize = FIRST + MIN_BLOCK;

const _: () = assert!(core::mem::size_of::<RobustLock>() == 16 && H_LOCK + 16 == FIRST);
const _: () = assert!(OVERHEAD <= 80 && ALIGN >= 8 && FIRST.is_multiple_of(ALIGN));

/// A position-independent name for an allocation: its payload's offset in the object.
#[repr(transparent)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub u64);

/// One block as [`Heap::blocks`] reports it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockInfo {
    /// Where the block (its 16-byte header) starts in the object.
    pub offset: usize,
    /// The whole block, header included.
    pub size: usize,
    /// A live allocation (else the block is on the free list).
    pub allocated: bool,
}

impl BlockInfo {
    /// The allocation's handle: its payload's offset.
    pub fn handle(&self) -> Handle {
        Handle((self.offset + HDR) as u64)
    }

    /// The payload's bytes (for a free block, the most one allocation in it can have).
    pub fn payload(&self) -> usize {
        self.size - HDR
    }
}

/// The heap's totals from [`Heap::blocks`]; sizes count block headers, so `used + free`
/// is the object's length less the heap header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Usage {
    /// Blocks, live and free.
    pub blocks: usize,
    /// Live allocations.
    pub live: usize,
    /// Bytes in live blocks.
    pub used: usize,
    /// Bytes in free blocks.
    pub free: usize,
    /// The largest allocation that fits now (0: none).
    pub largest: usize,
}

/// This process's connection to a shared heap; dropping it unmaps the heap (disconnect).
#[derive(Debug)]
pub struct Heap {
    base: NonNull<u8>,
    len: usize,
    wait_ms: Option<u64>,
}

// SAFETY: the mapping belongs to the process, not a thread; the shared state is only
// touched through atomics under the in-object lock, which works between threads too.
unsafe impl Send for Heap {}
// SAFETY: as above: every method takes `&self` and serialises through the lock.
unsafe impl Sync for Heap {}

/// A block header as read (once) from the object.
#[derive(Clone, Copy, Debug)]
struct Block {
    off: usize,
    size: usize,
    used: bool,
    link: u64,
}

impl Block {
    /// Allocated, with the tag its place and size call for.
    fn live(&self) -> bool {
        self.used && self.link == tag(self.off, self.size)
    }
}

/// What an allocated block keeps in its link word.
fn tag(off: usize, size: usize) -> u64 {
    (((off as u64) << 32) ^ size as u64 ^ 0x7a11_0ced).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A link word as an offset (EIO if it cannot be one).
fn off_of(link: u64) -> Result<usize, Errno> {
    usize::try_from(link).map_err(|_| Errno::EIO)
}

/// Room for "/" and NAME_MAX bytes.
const NAME_BUF: usize = NAME_MAX + 1;

/// `name` as a POSIX shm name in `buf`, with the leading slash added if missing.
fn shm_name<'a>(name: &str, buf: &'a mut [u8; NAME_BUF]) -> Result<&'a str, Errno> {
    let rest = name.strip_prefix('/').unwrap_or(name);
    if rest.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if rest.is_empty() || rest == "." || rest == ".." || rest.contains(['/', '\0']) {
        return Err(Errno::EINVAL);
    }
    os::slash_name(rest.as_bytes(), buf)
}

impl Heap {
    /// Create the object `name` (it must not exist: EEXIST), `len` bytes, map it and lay a
    /// fresh heap in it. `len` is meant to be a multiple of the page size; at least MIN_LEN.
    pub fn create(name: &str, len: usize) -> Result<Heap, Errno> {
        let mut buf = [0; NAME_BUF];
        let name = shm_name(name, &mut buf)?;
        if len < MIN_LEN {
            return Err(Errno::EINVAL);
        }
        let (m, _fresh) = os::create(name, len, true)?;
        // SAFETY: a fresh read-write mapping, ours to unmap.
        let heap = match unsafe { Heap::from_raw_parts(m.base, m.len) } {
            Ok(h) => h,
            Err(e) => {
                os::unmap(m);
                let _ = os::unlink(name);
                return Err(e);
            }
        };
        if let Err(e) = heap.init() {
            drop(heap);
            let _ = os::unlink(name);
            return Err(e);
        }
        Ok(heap)
    }

    /// Map the existing heap `name`.
    pub fn connect(name: &str) -> Result<Heap, Errno> {
        let mut buf = [0; NAME_BUF];
        let m = os::attach(shm_name(name, &mut buf)?)?;
        // SAFETY: a fresh read-write mapping, ours to unmap.
        let heap = unsafe { Heap::from_raw_parts(m.base, m.len) }.inspect_err(|_| os::unmap(m))?;
        // From here a failure drops `heap`, which unmaps.
        if heap.get(H_MAGIC)? == 0 {
            return Err(Errno::EAGAIN);
        }
        heap.header()?;
        Ok(heap)
    }

    /// A heap over `len` bytes at `base`; only their geometry is checked here (EINVAL), the
    /// contents by every operation.
    ///
    /// # Safety
    /// `base..base + len` must stay mapped read-write while the result lives, and dropping
    /// the result hands the range to `os::unmap` (wrap it in `ManuallyDrop` if it is not a
    /// mapping of ours).
    pub unsafe fn from_raw_parts(base: *mut u8, len: usize) -> Result<Heap, Errno> {
        let base = NonNull::new(base).ok_or(Errno::EINVAL)?;
        if !(base.as_ptr() as usize).is_multiple_of(ALIGN) || len < MIN_LEN {
            return Err(Errno::EINVAL);
        }
        Ok(Heap {
            base,
            len,
            wait_ms: Some(LOCK_WAIT_MS),
        })
    }

    /// The mapping's address and length, which no longer get unmapped (the C surface).
    pub fn into_raw_parts(self) -> (*mut u8, usize) {
        let h = ManuallyDrop::new(self);
        (h.base.as_ptr(), h.len)
    }

    /// Unmap the heap (the same as dropping it).
    pub fn disconnect(self) {}

    /// Unmap the heap and unlink its name (which must be this heap's: the spec's caller
    /// guarantees it, and that no one else is connected).
    pub fn destroy(self, name: &str) -> Result<(), Errno> {
        drop(self);
        Heap::unlink(name)
    }

    /// Unlink the heap `name` without a mapping of it (ENOENT if there is none).
    pub fn unlink(name: &str) -> Result<(), Errno> {
        let mut buf = [0; NAME_BUF];
        os::unlink(shm_name(name, &mut buf)?)
    }

    /// Where the object is mapped in this process.
    pub fn underlying(&self) -> NonNull<u8> {
        self.base
    }

    /// The object's length in bytes.
    pub fn size(&self) -> usize {
        self.len
    }

    /// How long an operation waits for the lock (None: for ever; LOCK_WAIT_MS by default);
    /// past it, ETIMEDOUT, so a client that overwrote the lock word blocks nobody for good.
    pub fn set_wait(&mut self, ms: Option<u64>) {
        self.wait_ms = ms;
    }

    /// Allocate `sz` bytes (0 counts as 1), first fit: the lowest free block large enough.
    pub fn alloc(&self, sz: usize) -> Result<NonNull<u8>, Errno> {
        let need = sz
            .max(1)
            .checked_next_multiple_of(ALIGN)
            .and_then(|n| n.checked_add(HDR))
            .filter(|&n| n <= self.end() - FIRST)
            .ok_or(Errno::ENOMEM)?;
        let off = self.locked(|| self.alloc_locked(need))?;
        self.ptr(off)
    }

    /// Free what `alloc` returned; NULL does nothing.
    pub fn free(&self, ptr: *mut u8) -> Result<(), Errno> {
        if ptr.is_null() {
            return Ok(());
        }
        let off = self.payload(ptr as usize)?;
        self.locked(|| self.free_locked(off - HDR))
    }

    /// The handle of the live allocation at `ptr`.
    pub fn ptr_to_handle(&self, ptr: *const u8) -> Result<Handle, Errno> {
        let off = self.payload(ptr as usize)?;
        self.locked(|| self.find(off - HDR))?;
        Ok(Handle(off as u64))
    }

    /// The address in this process of the live allocation `hdl` names.
    pub fn handle_to_ptr(&self, hdl: Handle) -> Result<NonNull<u8>, Errno> {
        let off = usize::try_from(hdl.0).map_err(|_| Errno::EINVAL)?;
        let off = self.payload_at(off)?;
        self.locked(|| self.find(off - HDR))?;
        self.ptr(off)
    }

    /// Check the whole heap under the lock (repairing first if a holder died).
    pub fn verify(&self) -> Result<(), Errno> {
        self.locked(|| Ok(()))
    }

    /// How many owner-death repairs the heap has seen.
    pub fn repairs(&self) -> Result<u64, Errno> {
        self.get(H_REPAIRS)
    }

    /// Run `f` holding the heap's lock (after the checks and any repair every call makes),
    /// so nothing else changes the heap meanwhile. For tools and tests: `f` must not call
    /// this heap (EDEADLK), and a process that dies inside `f` leaves the next caller a
    /// repair.
    pub fn with_lock<T>(&self, f: impl FnOnce() -> T) -> Result<T, Errno> {
        self.locked(|| Ok(f()))
    }

    /// The bytes the live allocation `hdl` may use: what was asked for, rounded up to
    /// [`ALIGN`] (more if the block it got was too small to split). EINVAL as
    /// `handle_to_ptr`.
    pub fn usable_size(&self, hdl: Handle) -> Result<usize, Errno> {
        let off = usize::try_from(hdl.0).map_err(|_| Errno::EINVAL)?;
        let off = self.payload_at(off)?;
        let (b, _) = self.locked(|| self.find(off - HDR))?;
        Ok(b.size - HDR)
    }

    /// Every block in address order, read under the lock after the checks every call
    /// makes: `out` gets the first ones (as many as fit), the result counts them all.
    /// The free blocks, in that order, are the free list.
    pub fn blocks(&self, out: &mut [BlockInfo]) -> Result<Usage, Errno> {
        self.locked(|| {
            let mut u = Usage::default();
            let mut off = FIRST;
            for _ in 0..self.max_walk() {
                if off == self.end() {
                    return Ok(u);
                }
                let b = self.block(off)?;
                if let Some(slot) = out.get_mut(u.blocks) {
                    *slot = BlockInfo {
                        offset: off,
                        size: b.size,
                        allocated: b.used,
                    };
                }
                u.blocks += 1;
                if b.used {
                    u.live += 1;
                    u.used += b.size;
                } else {
                    u.free += b.size;
                    u.largest = u.largest.max(b.size - HDR);
                }
                off += b.size;
            }
            Err(Errno::EIO)
        })
    }

    // ---- raw access ----

    /// The header or block word at `off` (EIO outside the mapping or misaligned).
    fn word(&self, off: usize) -> Result<&AtomicU64, Errno> {
        if !off.is_multiple_of(8) || off.checked_add(8).is_none_or(|e| e > self.len) {
            return Err(Errno::EIO);
        }
        // SAFETY: in the mapping (checked above), which lives as long as `self`; 8-aligned
        // (the base is 16-aligned); any bit pattern is a valid AtomicU64, and others change
        // it only through atomics (or, hostile, in ways every reader here tolerates).
        Ok(unsafe { &*(self.base.as_ptr().add(off) as *const AtomicU64) })
    }

    fn get(&self, off: usize) -> Result<u64, Errno> {
        Ok(self.word(off)?.load(Ordering::Acquire))
    }

    fn put(&self, off: usize, v: u64) -> Result<(), Errno> {
        self.word(off)?.store(v, Ordering::Release);
        Ok(())
    }

    fn lock(&self) -> &RobustLock {
        // SAFETY: H_LOCK + 16 <= MIN_LEN <= len, 16-aligned; a RobustLock is atomics (and
        // padding) that other processes change only atomically; it lives as long as `self`.
        unsafe { &*(self.base.as_ptr().add(H_LOCK) as *const RobustLock) }
    }

    /// Where blocks end: the length rounded down to the granule.
    fn end(&self) -> usize {
        self.len & !(ALIGN - 1)
    }

    /// More steps than any walk over the blocks can take.
    fn max_walk(&self) -> usize {
        (self.end() - FIRST) / MIN_BLOCK + 1
    }

    fn ptr(&self, off: usize) -> Result<NonNull<u8>, Errno> {
        NonNull::new(self.base.as_ptr().wrapping_add(off)).ok_or(Errno::EIO)
    }

    /// The offset of the payload at address `addr`, if one could start there (EINVAL).
    fn payload(&self, addr: usize) -> Result<usize, Errno> {
        let off = addr
            .checked_sub(self.base.as_ptr() as usize)
            .ok_or(Errno::EINVAL)?;
        self.payload_at(off)
    }

    /// `off`, if a payload could start there (EINVAL).
    fn payload_at(&self, off: usize) -> Result<usize, Errno> {
        if off < OVERHEAD || off >= self.end() || !off.is_multiple_of(ALIGN) {
            return Err(Errno::EINVAL);
        }
        Ok(off)
    }

    /// The block header at `off`, checked to lie inside the blocks (EIO).
    fn block(&self, off: usize) -> Result<Block, Errno> {
        let end = self.end();
        if off < FIRST || !off.is_multiple_of(ALIGN) || off > end - MIN_BLOCK {
            return Err(Errno::EIO);
        }
        let raw = self.get(off)?;
        let size = off_of(raw & !FLAGS)?;
        if raw & FLAGS & !USED != 0 || size < MIN_BLOCK || size > end - off {
            return Err(Errno::EIO);
        }
        Ok(Block {
            off,
            size,
            used: raw & USED != 0,
            link: self.get(off + 8)?,
        })
    }

    fn set_size(&self, off: usize, size: usize, used: bool) -> Result<(), Errno> {
        self.put(off, size as u64 | if used { USED } else { 0 })
    }

    fn set_link(&self, off: usize, link: u64) -> Result<(), Errno> {
        self.put(off + 8, link)
    }

    /// Point the free block at `prev`, or the list head if None, at `to`.
    fn link_after(&self, prev: Option<usize>, to: u64) -> Result<(), Errno> {
        match prev {
            Some(p) => self.set_link(p, to),
            None => self.put(H_FREE, to),
        }
    }

    // ---- the heap ----

    /// A fresh heap: one free block over everything; the magic last, for `connect`.
    fn init(&self) -> Result<(), Errno> {
        self.set_link(FIRST, 0)?;
        self.set_size(FIRST, self.end() - FIRST, false)?;
        self.put(H_FREE, FIRST as u64)?;
        self.put(H_REPAIRS, 0)?;
        self.put(H_SIZE, self.len as u64)?;
        self.put(H_MAGIC, MAGIC)
    }

    /// Magic, version and length (EIO).
    fn header(&self) -> Result<(), Errno> {
        if self.get(H_MAGIC)? != MAGIC || self.get(H_SIZE)? != self.len as u64 {
            return Err(Errno::EIO);
        }
        Ok(())
    }

    /// Run `op` under the lock, after repairing for a dead holder and checking the heap.
    fn locked<T>(&self, op: impl FnOnce() -> Result<T, Errno>) -> Result<T, Errno> {
        // The lock is part of the header: do not wait on garbage.
        self.header()?;
        let lock = self.lock();
        let how = lock.lock(os::deadline_ms(self.wait_ms))?;
        let r = match how {
            Acquired::Clean => Ok(()),
            Acquired::OwnerDied => self.repair(),
        }
        .and_then(|()| self.check())
        .and_then(|()| op());
        // It fails only if the word was overwritten while held: nothing to undo then.
        let _ = lock.unlock();
        r
    }

    /// The whole heap is consistent: the blocks tile the object, allocated ones carry their
    /// tags, and the free list is exactly the free blocks in address order, none adjacent.
    fn check(&self) -> Result<(), Errno> {
        self.header()?;
        let mut expect = self.get(H_FREE)?;
        let (mut off, mut after_free) = (FIRST, false);
        for _ in 0..self.max_walk() {
            if off == self.end() {
                return if expect == 0 { Ok(()) } else { Err(Errno::EIO) };
            }
            let b = self.block(off)?;
            if b.used {
                if !b.live() {
                    return Err(Errno::EIO);
                }
                after_free = false;
            } else {
                if expect != off as u64 || after_free {
                    return Err(Errno::EIO);
                }
                expect = b.link;
                after_free = true;
            }
            off += b.size;
        }
        Err(Errno::EIO)
    }

    /// After a holder died: keep the live blocks, free and merge the rest, relink the list.
    fn repair(&self) -> Result<(), Errno> {
        self.header()?;
        // Only the sizes are trusted; if they do not tile the object, leave it be (EIO).
        let mut off = FIRST;
        for _ in 0..self.max_walk() {
            if off == self.end() {
                break;
            }
            off += self.block(off)?.size;
        }
        if off != self.end() {
            return Err(Errno::EIO);
        }
        let mut last: Option<(usize, usize)> = None;
        let mut off = FIRST;
        for _ in 0..self.max_walk() {
            if off == self.end() {
                break;
            }
            let b = self.block(off)?;
            if !b.live() {
                match last {
                    Some((l, size)) if l + size == off => {
                        self.set_size(l, size + b.size, false)?;
                        last = Some((l, size + b.size));
                    }
                    _ => {
                        self.set_size(off, b.size, false)?;
                        self.link_after(last.map(|l| l.0), off as u64)?;
                        last = Some((off, b.size));
                    }
                }
            }
            off += b.size;
        }
        self.link_after(last.map(|l| l.0), 0)?;
        self.put(H_REPAIRS, self.get(H_REPAIRS)?.wrapping_add(1))
    }

    /// First fit over the free list; returns the payload offset.
    fn alloc_locked(&self, need: usize) -> Result<usize, Errno> {
        let mut prev = None;
        let mut cur = self.get(H_FREE)?;
        for _ in 0..self.max_walk() {
            if cur == 0 {
                return Err(Errno::ENOMEM);
            }
            let b = self.block(off_of(cur)?)?;
            if b.used {
                return Err(Errno::EIO);
            }
            if b.size < need {
                prev = Some(b.off);
                cur = b.link;
                continue;
            }
            let rest = b.size - need;
            let (size, after) = if rest >= MIN_BLOCK {
                // The remainder's header, still inside this free block (unseen until it shrinks).
                let r = b.off + need;
                self.set_link(r, b.link)?;
                self.set_size(r, rest, false)?;
                (need, r as u64)
            } else {
                (b.size, b.link)
            };
            crash(1);
            self.set_link(b.off, tag(b.off, size))?;
            crash(2);
            self.link_after(prev, after)?;
            crash(3);
            // The commit: the block shrinks to its share and turns allocated in one store.
            self.set_size(b.off, size, true)?;
            crash(4);
            return Ok(b.off + HDR);
        }
        Err(Errno::EIO)
    }

    /// The live block whose header is at `t` (EINVAL if there is none) and the last free
    /// block below it.
    fn find(&self, t: usize) -> Result<(Block, Option<Block>), Errno> {
        let mut before = None;
        let mut off = FIRST;
        for _ in 0..self.max_walk() {
            if off > t || off == self.end() {
                break;
            }
            let b = self.block(off)?;
            if off == t {
                return if b.live() {
                    Ok((b, before))
                } else {
                    Err(Errno::EINVAL)
                };
            }
            if !b.used {
                before = Some(b);
            }
            off += b.size;
        }
        Err(Errno::EINVAL)
    }

    /// Free the block at `t`: link it in address order, merge with free neighbours.
    fn free_locked(&self, t: usize) -> Result<(), Errno> {
        let (b, before) = self.find(t)?;
        let mut link = match before {
            Some(p) => p.link,
            None => self.get(H_FREE)?,
        };
        // The tag goes first: from here a repair takes the block as free.
        self.set_link(t, link)?;
        crash(5);
        self.set_size(t, b.size, false)?;
        self.link_after(before.map(|p| p.off), t as u64)?;
        crash(6);
        let mut size = b.size;
        if link == (t + size) as u64 {
            let n = self.block(t + size)?;
            if n.used {
                return Err(Errno::EIO);
            }
            size += n.size;
            self.set_size(t, size, false)?;
            crash(7);
            link = n.link;
            self.set_link(t, link)?;
        }
        if let Some(p) = before.filter(|p| p.off + p.size == t) {
            self.set_size(p.off, p.size + size, false)?;
            crash(8);
            self.set_link(p.off, link)?;
        }
        Ok(())
    }
}

impl Drop for Heap {
    fn drop(&mut self) {
        os::unmap(Mapping {
            base: self.base.as_ptr(),
            len: self.len,
        });
    }
}

/// Host tests only: make a thread "die" (`os::die`, then panic) at a numbered point inside
/// an operation, holding the lock. Points: alloc 1..=4, free 5..=8 (see the code).
#[cfg(not(target_os = "none"))]
#[doc(hidden)]
pub mod testing {
    use core::cell::Cell;
    use shmsync::os;

    std::thread_local! {
        static STEP: Cell<u32> = const { Cell::new(0) };
    }

    /// The calling thread dies at point `step` of its next operations.
    pub fn die_at(step: u32) {
        STEP.with(|s| s.set(step));
    }

    pub(crate) fn point(step: u32) {
        if STEP.with(|s| s.get()) == step {
            STEP.with(|s| s.set(0));
            os::die();
            panic!("shmheap: died at point {step}");
        }
    }
}

#[cfg(not(target_os = "none"))]
use testing::point as crash;

#[cfg(target_os = "none")]
fn crash(_step: u32) {}
