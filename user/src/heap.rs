//! User heap: a linked-list allocator grown on demand with brk.

use core::alloc::{GlobalAlloc, Layout};
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use linked_list_allocator::Heap;

/// Grow the heap by at least this much at a time.
const GROW: usize = 64 * 1024;

struct BrkHeap(UnsafeCell<Option<Heap>>);
// SAFETY: user processes are single-threaded.
unsafe impl Sync for BrkHeap {}

#[global_allocator]
static HEAP: BrkHeap = BrkHeap(UnsafeCell::new(None));

unsafe impl GlobalAlloc for BrkHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: single-threaded process; no re-entrancy into the allocator.
        let h = unsafe { &mut *self.0.get() };
        if h.is_none() {
            let base = crate::sys::brk(0);
            if crate::sys::brk(base + GROW) != base + GROW {
                return core::ptr::null_mut();
            }
            // SAFETY: [base, base+GROW) was just mapped for us by brk and is unused.
            *h = Some(unsafe { Heap::new(base as *mut u8, GROW) });
        }
        let heap = h.as_mut().unwrap();
        loop {
            if let Ok(p) = heap.allocate_first_fit(layout) {
                return p.as_ptr();
            }
            let top = heap.top() as usize;
            let by = (layout.size() + layout.align()).next_multiple_of(GROW);
            if crate::sys::brk(top + by) != top + by {
                return core::ptr::null_mut();
            }
            // SAFETY: brk mapped [top, top+by) right after the heap's end.
            unsafe { heap.extend(by) };
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: single-threaded; ptr came from alloc with this layout.
        if let Some(h) = unsafe { &mut *self.0.get() } {
            if let Some(p) = NonNull::new(ptr) {
                // SAFETY: as above.
                unsafe { h.deallocate(p, layout) };
            }
        }
    }
}
