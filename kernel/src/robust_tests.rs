//! Robustness tests: the kernel under a heap that refuses to allocate, and hostile syscalls.
//!
//! The test binary's allocator can be told, per thread, to fail every allocation. Fallible
//! kernel allocations then turn into ENOMEM; an infallible one (`Box::new`, `vec!`, a `push`
//! that grows) aborts the whole test binary, which is exactly the kernel panic this guards
//! against.

use core::cell::Cell;
use std::alloc::{GlobalAlloc, Layout, System};

use crate::tests::{Sys, SCRATCH};
use abi::sys::{self, nr};
use abi::Errno;

struct FailingAlloc;

std::thread_local! {
    /// Fail every allocation on this thread (unless `ALLOWED` is above zero).
    static FAIL: Cell<bool> = const { Cell::new(false) };
    /// Nesting depth of test scaffolding that may allocate while `FAIL` is set.
    static ALLOWED: Cell<u32> = const { Cell::new(0) };
}

fn failing() -> bool {
    FAIL.with(|f| f.get()) && ALLOWED.with(|a| a.get()) == 0
}

// SAFETY: forwards to the system allocator, or returns null (a legal allocation failure).
unsafe impl GlobalAlloc for FailingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if failing() {
            return core::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if failing() {
            return core::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from System through us.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        if failing() {
            return core::ptr::null_mut();
        }
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static ALLOC: FailingAlloc = FailingAlloc;

/// From now on this thread's allocations fail (until the guard is dropped).
pub struct NoHeap;
impl NoHeap {
    pub fn new() -> NoHeap {
        FAIL.with(|f| f.set(true));
        NoHeap
    }
}
impl Drop for NoHeap {
    fn drop(&mut self) {
        FAIL.with(|f| f.set(false));
    }
}

/// Run test scaffolding (the fake architecture's bookkeeping, assertions) with a heap.
pub fn with_heap<T>(f: impl FnOnce() -> T) -> T {
    ALLOWED.with(|a| a.set(a.get() + 1));
    let r = f();
    ALLOWED.with(|a| a.set(a.get() - 1));
    r
}

fn err(e: Errno) -> i64 {
    e.to_ret() as i64
}

#[test]
fn the_allocator_switch_works() {
    let _g = NoHeap::new();
    let mut v: std::vec::Vec<u8> = std::vec::Vec::new();
    assert!(v.try_reserve(16).is_err());
    with_heap(|| assert!(v.try_reserve(16).is_ok()));
}

/// Every syscall that can allocate, with the kernel heap exhausted: ENOMEM or success,
/// never an abort, and the system works once memory is back. (A failed assertion while the
/// heap is off aborts too: formatting its message allocates.)
#[test]
fn no_syscall_panics_when_the_kernel_heap_is_exhausted() {
    let mut s = Sys::new();
    let parent = s.k.spawn("prog", b"prog\0", None).unwrap();
    assert!(s.run());
    // A pipe with a reader blocked on it, so that closing ends wakes waiters.
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let pair: u64 = s.get(SCRATCH);
    let (rfd, wfd) = ((pair & 0xffff_ffff) as usize, (pair >> 32) as usize);
    let child = s.spawn_call("prog") as i32;
    assert!(child > 0);
    let heap_guard = NoHeap::new();
    // spawn: the task table must not allocate per task.
    let r = s.spawn_call("prog");
    assert!(r > 0 || r == err(Errno::ENOMEM), "spawn gave {r}");
    // pipe2: its ring comes from the heap; no room is ENFILE (pipe2 has no ENOMEM).
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), err(Errno::ENFILE));
    // syslog: copies the ring out without a kernel buffer.
    let n = s.call(
        nr::SYSLOG,
        &[sys::SYSLOG_ACTION_READ_ALL, SCRATCH - 16384, 16384],
    );
    assert!(n >= 0 || n == err(Errno::ENOMEM), "syslog gave {n}");
    // shmget: a small segment's page list comes from the stock kept for them, without the
    // heap; once the stock is used up it is a heap allocation, so ENOMEM.
    let mut small = [0i64; 4];
    for id in small.iter_mut() {
        *id = s.call(nr::SHMGET, &[0, 4096, 0o600]);
        assert!(*id >= 0, "from the stock: {id}");
    }
    assert_eq!(s.call(nr::SHMGET, &[0, 4096, 0o600]), err(Errno::ENOMEM));
    // A big one needs a list of its own.
    assert_eq!(
        s.call(nr::SHMGET, &[0, 64 * 4096, 0o600]),
        err(Errno::ENOMEM)
    );
    // A reader blocked on the pipe, then both ends closed here: the waiters are scanned.
    s.switch_to(child);
    s.call(nr::READ, &[rfd, SCRATCH, 8]);
    assert!(s.run());
    s.switch_to(parent);
    assert_eq!(s.call(nr::CLOSE, &[wfd]), 0);
    assert_eq!(s.call(nr::CLOSE, &[rfd]), 0);
    // Console reads and writes, taskinfo, kill, wait.
    s.put(SCRATCH, b"hi\n");
    assert_eq!(s.call(nr::WRITE, &[1, SCRATCH, 3]), 3);
    assert!(s.call(nr::TASKINFO, &[0, SCRATCH]) > 0);
    assert_eq!(s.call(nr::KILL, &[child as usize, 9]), 0);
    drop(heap_guard);
    // Everything works again once memory is back.
    assert_eq!(s.call(nr::PIPE2, &[SCRATCH, 0]), 0);
    let id = s.call(nr::SHMGET, &[0, 4096, 0o600]);
    assert!(id >= 0, "{id}");
    for id in small {
        assert_eq!(
            s.call(nr::SHMCTL, &[id as usize, abi::shm::IPC_RMID as usize, 0]),
            0
        );
    }
}
