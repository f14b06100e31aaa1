//! The C surface: the spec's `shmheap_*` functions and handle types over [`Heap`].
//!
//! The spec leaves both handle structs to the implementer; here a memory handle is the
//! mapping (`base`, `len`; `base` NULL when a call failed) and an object handle is the
//! payload's offset from the base (0, never a payload, when a call failed). Failures return
//! NULL (or the NULL handle) and set this library's errno, read with `shmheap_errno()`: it is
//! per process (threads share it; the target's processes have one thread) and, like errno,
//! is not cleared by a call that works. Calls that return nothing (`disconnect`, `destroy`,
//! `free`) report only through it. The meanings are the crate's (see its top).

#![allow(non_camel_case_types)]

use crate::{Handle, Heap};
use abi::Errno;
use core::ffi::{c_char, c_int, c_void, CStr};
use core::mem::ManuallyDrop;
use core::ptr;
use core::sync::atomic::{AtomicI32, Ordering};

/// A connected heap: where this process mapped it, and how long it is.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct shmheap_memory_handle {
    pub base: *mut c_void,
    pub len: usize,
}

/// An object any process connected to the heap can turn back into a pointer.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct shmheap_object_handle {
    /// The payload's offset from the heap's base; 0 is no object.
    pub offset: u64,
}

const NO_HEAP: shmheap_memory_handle = shmheap_memory_handle {
    base: ptr::null_mut(),
    len: 0,
};

static ERRNO: AtomicI32 = AtomicI32::new(0);

/// Record `e` for `shmheap_errno`.
fn fail(e: Errno) {
    ERRNO.store(e.0, Ordering::Relaxed);
}

/// The error of the last call that failed (an errno value; 0 if none has).
#[no_mangle]
pub extern "C" fn shmheap_errno() -> c_int {
    ERRNO.load(Ordering::Relaxed)
}

/// # Safety
/// `name` is NULL or a NUL-terminated string that lives for `'a`.
unsafe fn c_name<'a>(name: *const c_char) -> Result<&'a str, Errno> {
    if name.is_null() {
        return Err(Errno::EINVAL);
    }
    // SAFETY: non-NULL and NUL-terminated (the caller's promise).
    let s = unsafe { CStr::from_ptr(name) };
    s.to_str().map_err(|_| Errno::EINVAL)
}

/// The heap a memory handle names, not to be dropped (that would unmap it).
///
/// # Safety
/// `mem` came from `shmheap_create`/`shmheap_connect` and is still connected (or has a NULL
/// base, which is EINVAL).
unsafe fn heap(mem: shmheap_memory_handle) -> Result<ManuallyDrop<Heap>, Errno> {
    // SAFETY: a live mapping of ours (the caller's promise).
    unsafe { Heap::from_raw_parts(mem.base.cast(), mem.len) }.map(ManuallyDrop::new)
}

fn to_mem(r: Result<Heap, Errno>) -> shmheap_memory_handle {
    match r {
        Ok(h) => {
            let (base, len) = h.into_raw_parts();
            shmheap_memory_handle {
                base: base.cast(),
                len,
            }
        }
        Err(e) => {
            fail(e);
            NO_HEAP
        }
    }
}

fn or_null(r: Result<core::ptr::NonNull<u8>, Errno>) -> *mut c_void {
    r.map(|p| p.as_ptr().cast()).unwrap_or_else(|e| {
        fail(e);
        ptr::null_mut()
    })
}

/// Create and map a new heap of `len` bytes named `name`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn shmheap_create(name: *const c_char, len: usize) -> shmheap_memory_handle {
    // SAFETY: the caller's promise about `name`.
    to_mem(unsafe { c_name(name) }.and_then(|n| Heap::create(n, len)))
}

/// Map the existing heap `name`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn shmheap_connect(name: *const c_char) -> shmheap_memory_handle {
    // SAFETY: the caller's promise about `name`.
    to_mem(unsafe { c_name(name) }.and_then(Heap::connect))
}

/// Unmap the heap.
///
/// # Safety
/// `mem` came from create/connect and is connected; it is not used again.
#[no_mangle]
pub unsafe extern "C" fn shmheap_disconnect(mem: shmheap_memory_handle) {
    // SAFETY: the caller's promise about `mem`.
    match unsafe { heap(mem) } {
        Ok(h) => ManuallyDrop::into_inner(h).disconnect(),
        Err(e) => fail(e),
    }
}

/// Unmap the heap and unlink `name` (unlinked even if `mem` is NULL).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `mem` as for `shmheap_disconnect`.
#[no_mangle]
pub unsafe extern "C" fn shmheap_destroy(name: *const c_char, mem: shmheap_memory_handle) {
    // SAFETY: the caller's promise about `name`.
    let name = unsafe { c_name(name) };
    // SAFETY: the caller's promise about `mem`.
    let r = match (unsafe { heap(mem) }, name) {
        (Ok(h), Ok(n)) => ManuallyDrop::into_inner(h).destroy(n),
        (Ok(h), Err(e)) => {
            ManuallyDrop::into_inner(h).disconnect();
            Err(e)
        }
        (Err(e), Ok(n)) => Heap::unlink(n).and(Err(e)),
        (Err(e), Err(_)) => Err(e),
    };
    if let Err(e) = r {
        fail(e);
    }
}

/// Where the heap is mapped in this process (NULL for the NULL handle).
#[no_mangle]
pub extern "C" fn shmheap_underlying(mem: shmheap_memory_handle) -> *mut c_void {
    mem.base
}

/// Allocate `sz` bytes; NULL (ENOMEM) when nothing fits.
///
/// # Safety
/// `mem` as for `shmheap_disconnect`, still connected after the call.
#[no_mangle]
pub unsafe extern "C" fn shmheap_alloc(mem: shmheap_memory_handle, sz: usize) -> *mut c_void {
    // SAFETY: the caller's promise about `mem`.
    or_null(unsafe { heap(mem) }.and_then(|h| h.alloc(sz)))
}

/// Free what `shmheap_alloc` returned; NULL does nothing.
///
/// # Safety
/// `mem` as for `shmheap_alloc`.
#[no_mangle]
pub unsafe extern "C" fn shmheap_free(mem: shmheap_memory_handle, ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: the caller's promise about `mem`.
    if let Err(e) = unsafe { heap(mem) }.and_then(|h| h.free(ptr.cast())) {
        fail(e);
    }
}

/// The handle of the object at `ptr` (offset 0 on failure).
///
/// # Safety
/// `mem` as for `shmheap_alloc`.
#[no_mangle]
pub unsafe extern "C" fn shmheap_ptr_to_handle(
    mem: shmheap_memory_handle,
    ptr: *mut c_void,
) -> shmheap_object_handle {
    // SAFETY: the caller's promise about `mem`.
    match unsafe { heap(mem) }.and_then(|h| h.ptr_to_handle(ptr.cast())) {
        Ok(Handle(offset)) => shmheap_object_handle { offset },
        Err(e) => {
            fail(e);
            shmheap_object_handle { offset: 0 }
        }
    }
}

/// The address in this process of the object `hdl` names (NULL on failure).
///
/// # Safety
/// `mem` as for `shmheap_alloc`.
#[no_mangle]
pub unsafe extern "C" fn shmheap_handle_to_ptr(
    mem: shmheap_memory_handle,
    hdl: shmheap_object_handle,
) -> *mut c_void {
    // SAFETY: the caller's promise about `mem`.
    or_null(unsafe { heap(mem) }.and_then(|h| h.handle_to_ptr(Handle(hdl.offset))))
}
