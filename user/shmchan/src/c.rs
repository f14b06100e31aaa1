//! The C surface: L4Re's `l4shmc_*` functions and handle structs, wrapping the Rust API.
//!
//! Results are `0` or a negative errno (`-EINVAL` for a null pointer or a handle that was
//! never filled in). Where the original takes an `l4_timeout_t`, this takes milliseconds
//! as an `l4_umword_t`: `0` only looks, [`L4SHMC_TIMEOUT_NEVER`] waits for ever (so do
//! the `_to` functions that already took `timeout_ms`). A wait that ends without an event
//! returns `-ETIMEDOUT` (the original's receive timeout).
//!
//! The handles hold this process's view: `l4shmc_area_t` the mapping's base and size and
//! the client number; `l4shmc_chunk_t` and `l4shmc_signal_t` a pointer to their area's
//! struct and their descriptor's offset, so the area struct must outlive them (as in
//! L4Re). `chunk->_sig` points at the caller's signal struct, as in L4Re.
//!
//! # Safety
//!
//! Every function is `unsafe`: it takes raw pointers from C and trusts that each non-null
//! one points at what the signature says (a live handle struct, a NUL-terminated name, an
//! out-parameter with room), as the originals do. Null pointers are checked. This one
//! contract covers them all, hence the allowance for per-function `# Safety` sections.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

use crate::area::Area;
use crate::chunk::Chunk;
use crate::layout::HEADER_SIZE;
use crate::signal::{wait_any, Signal};
use crate::{Errno, NAME_MAX};
use core::ffi::{c_char, c_long, c_void};
use core::ptr;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

pub type l4_umword_t = usize;
pub type l4_cap_idx_t = usize;
/// An attached area: the Rust [`Area`] itself (`#[repr(C)]`).
pub type l4shmc_area_t = Area;

/// A timeout that never expires.
pub const L4SHMC_TIMEOUT_NEVER: l4_umword_t = l4_umword_t::MAX;

/// A signal handle: its area's struct, its descriptor's offset, and the events taken.
#[repr(C)]
#[derive(Debug)]
pub struct l4shmc_signal_t {
    pub _shm: *const l4shmc_area_t,
    pub _offset: l4_umword_t,
    pub _seen: u32,
    pub _pad: u32,
}

/// A chunk handle: its descriptor's offset, its area's struct, the connected signal (or
/// null) and the capacity found when it was added or got.
#[repr(C)]
#[derive(Debug)]
pub struct l4shmc_chunk_t {
    pub _chunk: l4_umword_t,
    pub _shm: *const l4shmc_area_t,
    pub _sig: *mut l4shmc_signal_t,
    pub _capacity: l4_umword_t,
}

impl Default for l4shmc_signal_t {
    fn default() -> Self {
        l4shmc_signal_t {
            _shm: ptr::null(),
            _offset: 0,
            _seen: 0,
            _pad: 0,
        }
    }
}

impl Default for l4shmc_chunk_t {
    fn default() -> Self {
        l4shmc_chunk_t {
            _chunk: 0,
            _shm: ptr::null(),
            _sig: ptr::null_mut(),
            _capacity: 0,
        }
    }
}

fn err(e: Errno) -> c_long {
    -(e.0 as c_long)
}

fn ret(r: Result<(), Errno>) -> c_long {
    r.map_or_else(err, |()| 0)
}

fn ret_n(r: Result<usize, Errno>) -> c_long {
    r.map_or_else(err, |n| n as c_long)
}

fn timeout(ms: l4_umword_t) -> Option<u64> {
    (ms != L4SHMC_TIMEOUT_NEVER).then_some(ms as u64)
}

/// A C string as a name: EINVAL if null, longer than NAME_MAX or not UTF-8. Reads at most
/// NAME_MAX + 1 bytes.
fn name<'a>(p: *const c_char) -> Result<&'a str, Errno> {
    if p.is_null() {
        return Err(Errno::EINVAL);
    }
    let mut len = 0;
    loop {
        // SAFETY: a C string's bytes up to and including its NUL are readable; this stops
        // at the NUL, or before reading past NAME_MAX + 1 bytes, all of which precede it.
        let b = unsafe { *p.add(len) };
        if b == 0 {
            break;
        }
        len += 1;
        if len > NAME_MAX {
            return Err(Errno::EINVAL);
        }
    }
    // SAFETY: the `len` bytes just read, which stay valid for the call.
    let bytes = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), len) };
    core::str::from_utf8(bytes).map_err(|_| Errno::EINVAL)
}

/// The area a C pointer names: EINVAL if null or never attached (zeroed or detached).
fn area<'a>(p: *const l4shmc_area_t) -> Result<&'a Area, Errno> {
    if p.is_null() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: C passes a pointer to an `l4shmc_area_t` that l4shmc_attach filled, or one
    // that is zeroed or was detached, which the check below turns away.
    let a = unsafe { &*p };
    if a.base.is_null() || a.size < HEADER_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(a)
}

/// Run `f` on the Rust signal a C handle names and store back the events it took.
fn with_signal<R>(
    s: *mut l4shmc_signal_t,
    f: impl FnOnce(&mut Signal<'_>) -> Result<R, Errno>,
) -> Result<R, Errno> {
    if s.is_null() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: C passes a signal handle it owns; nothing else refers to it during the call.
    let h = unsafe { &mut *s };
    let mut sig = Signal::from_raw(area(h._shm)?, h._offset, Some(h._seen))?;
    let r = f(&mut sig);
    h._seen = sig.seen();
    r
}

/// The Rust chunk a C handle names, without its signal.
fn chunk_of<'a>(c: *mut l4shmc_chunk_t) -> Result<Chunk<'a>, Errno> {
    if c.is_null() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: C passes a chunk handle it owns.
    let h = unsafe { &*c };
    Chunk::from_raw(area(h._shm)?, h._chunk, h._capacity)
}

/// Run `f` on the Rust chunk a C handle names, with its connected signal (whose events
/// taken are stored back in the signal's handle).
fn with_chunk<R>(
    c: *mut l4shmc_chunk_t,
    f: impl FnOnce(&mut Chunk<'_>) -> Result<R, Errno>,
) -> Result<R, Errno> {
    let mut chunk = chunk_of(c)?;
    // SAFETY: not null (chunk_of checked); C owns the handle.
    let sp = unsafe { (*c)._sig };
    if sp.is_null() {
        return f(&mut chunk);
    }
    // SAFETY: C connected the chunk to a signal handle it owns and keeps in place;
    // nothing else refers to it during the call.
    let sh = unsafe { &mut *sp };
    chunk.connect(Signal::from_raw(
        area(sh._shm)?,
        sh._offset,
        Some(sh._seen),
    )?);
    let r = f(&mut chunk);
    if let Some(s) = chunk.signal() {
        sh._seen = s.seen();
    }
    r
}

/// The Rust signal an enabled handle's address names.
fn enabled_signal<'a>(p: usize) -> Result<Signal<'a>, Errno> {
    // SAFETY: an enabled handle, which the caller keeps in place while enabled.
    let h = unsafe { &*(p as *const l4shmc_signal_t) };
    Signal::from_raw(area(h._shm)?, h._offset, Some(h._seen))
}

fn fill_signal(s: *mut l4shmc_signal_t, area: *const l4shmc_area_t, sig: &Signal<'_>) {
    // SAFETY: the caller checked `s` is not null; C passes room for a signal handle.
    unsafe {
        s.write(l4shmc_signal_t {
            _shm: area,
            _offset: sig.offset(),
            _seen: sig.seen(),
            _pad: 0,
        })
    };
}

fn fill_chunk(c: *mut l4shmc_chunk_t, area: *const l4shmc_area_t, chunk: &Chunk<'_>) {
    // SAFETY: the caller checked `c` is not null; C passes room for a chunk handle.
    unsafe {
        c.write(l4shmc_chunk_t {
            _chunk: chunk.offset(),
            _shm: area,
            _sig: ptr::null_mut(),
            _capacity: chunk.capacity(),
        })
    };
}

/// Create area `shmc_name` of `shm_size` bytes (POSIX object "/shmc_name").
#[no_mangle]
pub unsafe extern "C" fn l4shmc_create(shmc_name: *const c_char, shm_size: l4_umword_t) -> c_long {
    ret(name(shmc_name).and_then(|n| Area::create(n, shm_size)))
}

/// Attach to area `shmc_name`, filling `*shmarea`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_attach(
    shmc_name: *const c_char,
    shmarea: *mut l4shmc_area_t,
) -> c_long {
    l4shmc_attach_to(shmc_name, 0, shmarea)
}

/// Attach, waiting up to `timeout_ms` for the area to appear.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_attach_to(
    shmc_name: *const c_char,
    timeout_ms: l4_umword_t,
    shmarea: *mut l4shmc_area_t,
) -> c_long {
    if shmarea.is_null() {
        return err(Errno::EINVAL);
    }
    let r = name(shmc_name).and_then(|n| Area::attach_to(n, timeout(timeout_ms)));
    ret(r.map(|a| {
        // SAFETY: not null (checked); C passes room for an area struct, which now owns
        // the mapping (l4shmc_detach gives it back).
        unsafe { shmarea.write(a) }
    }))
}

/// Unmap an attached area and clear `*shmarea` (not in L4Re). Chunk and signal handles
/// of the area must not be used after.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_detach(shmarea: *mut l4shmc_area_t) -> c_long {
    if let Err(e) = area(shmarea) {
        return err(e);
    }
    // SAFETY: an attached area (checked): take it out, which unmaps when dropped, and
    // leave zeroes that every function turns away.
    unsafe {
        drop(shmarea.read());
        ptr::write_bytes(shmarea, 0, 1);
    }
    0
}

/// Remove the name of area `shmc_name` (not in L4Re).
#[no_mangle]
pub unsafe extern "C" fn l4shmc_unlink(shmc_name: *const c_char) -> c_long {
    ret(name(shmc_name).and_then(Area::remove))
}

/// This attach's client number.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_client_nr(shmarea: *const l4shmc_area_t) -> c_long {
    ret_n(area(shmarea).map(|a| a.client_nr()))
}

/// Set this client's bit in the initialized-clients bitmask.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_mark_client_initialized(shmarea: *mut l4shmc_area_t) -> c_long {
    ret(area(shmarea).and_then(|a| a.mark_client_initialized()))
}

/// Read the initialized-clients bitmask into `*bitmask`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_initialized_clients(
    shmarea: *mut l4shmc_area_t,
    bitmask: *mut l4_umword_t,
) -> c_long {
    if bitmask.is_null() {
        return err(Errno::EINVAL);
    }
    ret(area(shmarea).map(|a| {
        // SAFETY: not null (checked); C passes room for a word.
        unsafe { bitmask.write(a.initialized_clients() as l4_umword_t) }
    }))
}

/// Add chunk `chunk_name` of `chunk_capacity` bytes (rounded up to 8).
#[no_mangle]
pub unsafe extern "C" fn l4shmc_add_chunk(
    shmarea: *mut l4shmc_area_t,
    chunk_name: *const c_char,
    chunk_capacity: l4_umword_t,
    chunk: *mut l4shmc_chunk_t,
) -> c_long {
    if chunk.is_null() {
        return err(Errno::EINVAL);
    }
    let r = area(shmarea).and_then(|a| {
        let c = a.add_chunk(name(chunk_name)?, chunk_capacity)?;
        fill_chunk(chunk, shmarea, &c);
        Ok(())
    });
    ret(r)
}

/// Find chunk `chunk_name`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_chunk(
    shmarea: *mut l4shmc_area_t,
    chunk_name: *const c_char,
    chunk: *mut l4shmc_chunk_t,
) -> c_long {
    l4shmc_get_chunk_to(shmarea, chunk_name, 0, chunk)
}

/// Find chunk `chunk_name`, waiting up to `timeout_ms` for it to be added.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_chunk_to(
    shmarea: *mut l4shmc_area_t,
    chunk_name: *const c_char,
    timeout_ms: l4_umword_t,
    chunk: *mut l4shmc_chunk_t,
) -> c_long {
    if chunk.is_null() {
        return err(Errno::EINVAL);
    }
    let r = area(shmarea).and_then(|a| {
        let c = a.get_chunk_to(name(chunk_name)?, timeout(timeout_ms))?;
        fill_chunk(chunk, shmarea, &c);
        Ok(())
    });
    ret(r)
}

/// The chunk after iterator `offs` (0: the first): its name in `*chunk_name` and the next
/// iterator (> 0), or 0 at the end. L4Re points into the area; here the name is the
/// validated copy kept in the area handle (valid until the next call on that handle), so
/// a client that rewrites the name's terminating NUL cannot send `strlen` off the end.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_iterate_chunk(
    shmarea: *const l4shmc_area_t,
    chunk_name: *mut *const c_char,
    offs: c_long,
) -> c_long {
    if chunk_name.is_null() || offs < 0 {
        return err(Errno::EINVAL);
    }
    let r = area(shmarea).and_then(|a| match a.iterate_chunk(offs as usize)? {
        None => Ok(0),
        Some((next, name)) => {
            for (i, d) in a.iter_name.iter().enumerate() {
                let b = name.as_bytes().get(i).copied().unwrap_or(0);
                d.store(b, core::sync::atomic::Ordering::Relaxed);
            }
            let p = a.iter_name.as_ptr() as *const c_char;
            // SAFETY: not null (checked); C passes room for a pointer.
            unsafe { chunk_name.write(p) };
            Ok(next)
        }
    });
    ret_n(r)
}

/// Add signal `signal_name`, or get it if it exists.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_add_signal(
    shmarea: *mut l4shmc_area_t,
    signal_name: *const c_char,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    if signal.is_null() {
        return err(Errno::EINVAL);
    }
    let r = area(shmarea).and_then(|a| {
        let s = a.add_signal(name(signal_name)?)?;
        fill_signal(signal, shmarea, &s);
        Ok(())
    });
    ret(r)
}

/// Find signal `signal_name`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_signal(
    shmarea: *mut l4shmc_area_t,
    signal_name: *const c_char,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    l4shmc_get_signal_to(shmarea, signal_name, 0, signal)
}

/// Find signal `signal_name`, waiting up to `timeout_ms` for it to be added.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_get_signal_to(
    shmarea: *mut l4shmc_area_t,
    signal_name: *const c_char,
    timeout_ms: l4_umword_t,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    if signal.is_null() {
        return err(Errno::EINVAL);
    }
    let r = area(shmarea).and_then(|a| {
        let s = a.get_signal_to(name(signal_name)?, timeout(timeout_ms))?;
        fill_signal(signal, shmarea, &s);
        Ok(())
    });
    ret(r)
}

/// Find signal `signal_name`. `thread` is ignored: a futex signal is not bound to a
/// thread, every waiter sees every trigger.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_attach_signal(
    shmarea: *mut l4shmc_area_t,
    signal_name: *const c_char,
    thread: l4_cap_idx_t,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    l4shmc_attach_signal_to(shmarea, signal_name, thread, 0, signal)
}

/// Find signal `signal_name`, waiting up to `timeout_ms`; `thread` is ignored.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_attach_signal_to(
    shmarea: *mut l4shmc_area_t,
    signal_name: *const c_char,
    _thread: l4_cap_idx_t,
    timeout_ms: l4_umword_t,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    l4shmc_get_signal_to(shmarea, signal_name, timeout_ms, signal)
}

/// Connect `signal` to `chunk` (the chunk handle keeps the pointer).
#[no_mangle]
pub unsafe extern "C" fn l4shmc_connect_chunk_signal(
    chunk: *mut l4shmc_chunk_t,
    signal: *mut l4shmc_signal_t,
) -> c_long {
    // Both handles must be valid.
    let r = with_signal(signal, |_| Ok(())).and_then(|()| chunk_of(chunk).map(|_| ()));
    ret(r.map(|()| {
        // SAFETY: not null (with_chunk checked); C owns the handle.
        unsafe { (*chunk)._sig = signal }
    }))
}

/// The signal connected to `chunk`, or null.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_signal(chunk: *mut l4shmc_chunk_t) -> *mut l4shmc_signal_t {
    if chunk.is_null() {
        return ptr::null_mut();
    }
    // SAFETY: not null; C passes a chunk handle.
    unsafe { (*chunk)._sig }
}

/// Trigger `signal`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_trigger(signal: *mut l4shmc_signal_t) -> c_long {
    ret(with_signal(signal, |s| s.trigger()))
}

/// CLEAR → BUSY; -EPERM if the chunk is not CLEAR.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_try_to_take(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret(with_chunk(chunk, |c| c.try_to_take()))
}

/// BUSY → READY with `size` bytes; -EINVAL above the capacity, -EPERM if not BUSY.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_ready(
    chunk: *mut l4shmc_chunk_t,
    size: l4_umword_t,
) -> c_long {
    ret(with_chunk(chunk, |c| c.ready(size)))
}

/// `l4shmc_chunk_ready`, then trigger the connected signal (-EINVAL if none).
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_ready_sig(
    chunk: *mut l4shmc_chunk_t,
    size: l4_umword_t,
) -> c_long {
    ret(with_chunk(chunk, |c| c.ready_sig(size)))
}

/// READY → CLEAR; -EPERM if the chunk is not READY.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_consumed(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret(with_chunk(chunk, |c| c.consumed()))
}

/// 1 if the chunk is READY, else 0.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_is_chunk_ready(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret_n(with_chunk(chunk, |c| Ok(c.is_ready() as usize)))
}

/// 1 if the chunk is CLEAR, else 0.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_is_chunk_clear(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret_n(with_chunk(chunk, |c| Ok(c.is_clear() as usize)))
}

/// 1 if the descriptor carries the chunk magic, else 0.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_check_magic(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret_n(with_chunk(chunk, |c| Ok(c.check_magic() as usize)))
}

/// The chunk's payload in this process, or null for an invalid handle.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_ptr(chunk: *mut l4shmc_chunk_t) -> *mut c_void {
    with_chunk(chunk, |c| Ok(c.ptr() as *mut c_void)).unwrap_or(ptr::null_mut())
}

/// Bytes of data in the chunk; -EIO if the stored size exceeds the capacity.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_size(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret_n(with_chunk(chunk, |c| c.size()))
}

/// The chunk's capacity.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_capacity(chunk: *mut l4shmc_chunk_t) -> c_long {
    ret_n(with_chunk(chunk, |c| Ok(c.capacity())))
}

/// Wait for an event of `signal` and take it (`timeout_ms` as described above).
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_signal_to(
    signal: *mut l4shmc_signal_t,
    timeout_ms: l4_umword_t,
) -> c_long {
    ret(with_signal(signal, |s| s.wait(timeout(timeout_ms))))
}

/// Wait for an event of `signal`.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_signal(signal: *mut l4shmc_signal_t) -> c_long {
    l4shmc_wait_signal_to(signal, L4SHMC_TIMEOUT_NEVER)
}

/// Take a pending event of `signal`; -ETIMEDOUT if none.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_signal_try(signal: *mut l4shmc_signal_t) -> c_long {
    l4shmc_wait_signal_to(signal, 0)
}

/// Wait for the chunk's connected signal; -EINVAL if none.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_chunk_to(
    chunk: *mut l4shmc_chunk_t,
    timeout_ms: l4_umword_t,
) -> c_long {
    ret(with_chunk(chunk, |c| c.wait(timeout(timeout_ms))))
}

#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_chunk(chunk: *mut l4shmc_chunk_t) -> c_long {
    l4shmc_wait_chunk_to(chunk, L4SHMC_TIMEOUT_NEVER)
}

#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_chunk_try(chunk: *mut l4shmc_chunk_t) -> c_long {
    l4shmc_wait_chunk_to(chunk, 0)
}

/// The signals each thread has enabled for `l4shmc_wait_any` (L4Re binds them to the
/// thread): slots of (owner key, signal handle address). Only the owner reads or frees its
/// slots; others only claim free ones.
struct Enabled {
    owner: AtomicU32,
    sig: AtomicUsize,
}

const ENABLED_SLOTS: usize = 128;
/// Signals one thread may enable.
pub const ENABLED_MAX: usize = 32;
static ENABLED: [Enabled; ENABLED_SLOTS] = [const {
    Enabled {
        owner: AtomicU32::new(0),
        sig: AtomicUsize::new(0),
    }
}; ENABLED_SLOTS];

/// This thread's owner key (never 0, the free mark).
fn me() -> u32 {
    (shmsync::os::tid() & abi::sys::FUTEX_TID_MASK) + 1
}

/// This thread's enabled signals: how many, and their addresses.
fn mine() -> (usize, [usize; ENABLED_MAX]) {
    let me = me();
    let mut v = [0; ENABLED_MAX];
    let mut n = 0;
    for e in &ENABLED {
        if e.owner.load(Ordering::Acquire) == me && n < ENABLED_MAX {
            v[n] = e.sig.load(Ordering::Acquire);
            n += 1;
        }
    }
    (n, v)
}

/// Enable `signal` for this thread's `l4shmc_wait_any`; -ENOMEM past ENABLED_MAX (or when
/// every slot is taken). Enabling twice is harmless. The handle must stay where it is
/// until disabled.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_enable_signal(signal: *mut l4shmc_signal_t) -> c_long {
    if let Err(e) = with_signal(signal, |_| Ok(())) {
        return err(e);
    }
    let (n, v) = mine();
    if v[..n].contains(&(signal as usize)) {
        return 0;
    }
    if n == ENABLED_MAX {
        return err(Errno::ENOMEM);
    }
    for e in &ENABLED {
        if e.owner
            .compare_exchange(0, me(), Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
        {
            e.sig.store(signal as usize, Ordering::Release);
            return 0;
        }
    }
    err(Errno::ENOMEM)
}

/// Enable the chunk's connected signal; -EINVAL if none.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_enable_chunk(chunk: *mut l4shmc_chunk_t) -> c_long {
    match with_chunk(chunk, |c| c.signal().map(|_| ()).ok_or(Errno::EINVAL)) {
        // SAFETY: not null (with_chunk checked); C owns the handle.
        Ok(()) => l4shmc_enable_signal(unsafe { (*chunk)._sig }),
        Err(e) => err(e),
    }
}

/// Take `signal` out of this thread's `l4shmc_wait_any` set (not in L4Re); -ENOENT if it
/// was not enabled.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_disable_signal(signal: *mut l4shmc_signal_t) -> c_long {
    let me = me();
    for e in &ENABLED {
        if e.owner.load(Ordering::Acquire) == me && e.sig.load(Ordering::Acquire) == signal as usize
        {
            e.sig.store(0, Ordering::Relaxed);
            e.owner.store(0, Ordering::Release);
            return 0;
        }
    }
    err(Errno::ENOENT)
}

/// Wait up to `timeout_ms` for an event on any signal this thread enabled, take it and
/// put that signal's handle in `*retsignal`. -EINVAL if none is enabled.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_any_to(
    timeout_ms: l4_umword_t,
    retsignal: *mut *mut l4shmc_signal_t,
) -> c_long {
    if retsignal.is_null() {
        return err(Errno::EINVAL);
    }
    let (n, v) = mine();
    if n == 0 {
        return err(Errno::EINVAL);
    }
    let first = match enabled_signal(v[0]) {
        Ok(s) => s,
        Err(e) => return err(e),
    };
    let mut sigs: [Signal<'_>; ENABLED_MAX] = core::array::from_fn(|_| first.clone());
    for (s, &p) in sigs.iter_mut().zip(&v[..n]) {
        match enabled_signal(p) {
            Ok(x) => *s = x,
            Err(e) => return err(e),
        }
    }
    let r = wait_any(&mut sigs[..n], timeout(timeout_ms)).map(|i| {
        let p = v[i] as *mut l4shmc_signal_t;
        // SAFETY: an enabled handle as above; `retsignal` is not null (checked).
        unsafe {
            (*p)._seen = sigs[i].seen();
            retsignal.write(p);
        }
    });
    ret(r)
}

/// Wait for an event on any enabled signal.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_any(retsignal: *mut *mut l4shmc_signal_t) -> c_long {
    l4shmc_wait_any_to(L4SHMC_TIMEOUT_NEVER, retsignal)
}

/// Take a pending event of any enabled signal; -ETIMEDOUT if none.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_wait_any_try(retsignal: *mut *mut l4shmc_signal_t) -> c_long {
    l4shmc_wait_any_to(0, retsignal)
}

/// The area's size in bytes.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_area_size(shmarea: *const l4shmc_area_t) -> c_long {
    ret_n(area(shmarea).map(|a| a.size()))
}

/// Free bytes; `l4shmc_add_chunk(size_free - l4shmc_chunk_overhead())` fits.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_area_size_free(shmarea: *const l4shmc_area_t) -> c_long {
    ret_n(area(shmarea).and_then(|a| a.size_free()))
}

/// Bytes of an area not available for chunks.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_area_overhead() -> c_long {
    Area::area_overhead() as c_long
}

/// Bytes a chunk needs besides its capacity.
#[no_mangle]
pub unsafe extern "C" fn l4shmc_chunk_overhead() -> c_long {
    Area::chunk_overhead() as c_long
}
