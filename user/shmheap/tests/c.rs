//! The C surface: the spec's calls with C strings and handle structs, failures as NULL and
//! `shmheap_errno()`.

use shmheap::c::*;
use shmsync::os;
use std::ffi::CString;
use std::ptr;
use std::thread;

const PAGE: usize = 4096;

/// The errno is one per process: the tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn the_spec_calls_from_c() {
    let _turn = SERIAL.lock().unwrap();
    let name = CString::new("/c-heap").unwrap();
    let len = 4 * PAGE;
    // SAFETY (all calls below): NUL-terminated names; handles from create/connect, used
    // while connected.
    let mem = unsafe { shmheap_create(name.as_ptr(), len) };
    assert!(!mem.base.is_null());
    assert_eq!(mem.len, len);
    assert_eq!(shmheap_underlying(mem), mem.base);
    assert_eq!(mem.base as usize % PAGE, 0);

    let p = unsafe { shmheap_alloc(mem, 100) };
    assert!(!p.is_null());
    // SAFETY: a 100-byte allocation.
    unsafe { p.cast::<u8>().write_bytes(0xc0, 100) };
    let hdl = unsafe { shmheap_ptr_to_handle(mem, p) };
    assert_eq!(hdl.offset, (p as usize - mem.base as usize) as u64);
    assert_eq!(unsafe { shmheap_handle_to_ptr(mem, hdl) }, p);

    // Another "process" connects, reads through the handle and frees.
    let off = hdl.offset;
    thread::spawn(move || {
        let name = CString::new("/c-heap").unwrap();
        let m2 = unsafe { shmheap_connect(name.as_ptr()) };
        assert!(!m2.base.is_null());
        let q = unsafe { shmheap_handle_to_ptr(m2, shmheap_object_handle { offset: off }) };
        // SAFETY: the 100-byte allocation, seen through this connection.
        assert!(unsafe { std::slice::from_raw_parts(q.cast::<u8>(), 100) }
            .iter()
            .all(|&b| b == 0xc0));
        unsafe { shmheap_free(m2, q) };
        unsafe { shmheap_disconnect(m2) };
    })
    .join()
    .unwrap();

    // The largest allocation fits again, then nothing more.
    let big = unsafe { shmheap_alloc(mem, len - 80) };
    assert!(!big.is_null());
    assert!(unsafe { shmheap_alloc(mem, 1) }.is_null());
    assert_eq!(shmheap_errno(), 12, "ENOMEM");
    unsafe { shmheap_free(mem, big) };
    unsafe { shmheap_free(mem, ptr::null_mut()) };

    unsafe { shmheap_destroy(name.as_ptr(), mem) };
    assert!(!os::exists("/c-heap"));
}

#[test]
fn failures_are_null_with_an_errno() {
    let _turn = SERIAL.lock().unwrap();
    let name = CString::new("c-errs").unwrap();
    let mem = unsafe { shmheap_create(name.as_ptr(), 4 * PAGE) };
    assert!(!mem.base.is_null());
    assert!(os::exists("/c-errs"), "the slash is added");

    let again = unsafe { shmheap_create(name.as_ptr(), 4 * PAGE) };
    assert!(again.base.is_null() && again.len == 0);
    assert_eq!(shmheap_errno(), 17, "EEXIST");

    let absent = CString::new("/c-absent").unwrap();
    assert!(unsafe { shmheap_connect(absent.as_ptr()) }.base.is_null());
    assert_eq!(shmheap_errno(), 2, "ENOENT");
    assert!(unsafe { shmheap_connect(ptr::null()) }.base.is_null());
    assert_eq!(shmheap_errno(), 22, "EINVAL");
    let long = CString::new("x".repeat(300)).unwrap();
    assert!(unsafe { shmheap_create(long.as_ptr(), PAGE) }
        .base
        .is_null());
    assert_eq!(shmheap_errno(), 36, "ENAMETOOLONG");

    let p = unsafe { shmheap_alloc(mem, 8) };
    unsafe { shmheap_free(mem, p) };
    unsafe { shmheap_free(mem, p) };
    assert_eq!(shmheap_errno(), 22, "double free: EINVAL");
    assert_eq!(unsafe { shmheap_ptr_to_handle(mem, p) }.offset, 0);
    let none = shmheap_object_handle { offset: 0 };
    assert!(unsafe { shmheap_handle_to_ptr(mem, none) }.is_null());
    assert_eq!(shmheap_errno(), 22);

    let no_heap = shmheap_memory_handle {
        base: ptr::null_mut(),
        len: 0,
    };
    assert!(unsafe { shmheap_alloc(no_heap, 8) }.is_null());
    assert_eq!(shmheap_errno(), 22);
    assert!(shmheap_underlying(no_heap).is_null());

    unsafe { shmheap_destroy(name.as_ptr(), mem) };
    assert!(!os::exists("/c-errs"));
}
