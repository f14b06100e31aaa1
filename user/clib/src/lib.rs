//! The Rust half of the C runtime: `libclib.a`, a static archive that C programs link
//! (`tools/nx-cc` does) for the shared-memory libraries' C surfaces, `l4shmc_*`
//! (`shmchan::c`, header `include/l4shmc.h`) and `shmheap_*` (`shmheap::c`, header
//! `include/shmheap.h`). Their functions are `#[no_mangle] extern "C"` in those crates; this
//! crate only bundles them with a panic handler. The archive is built soft-float like the
//! rest of user space; the C ABI of these functions passes no floating-point values, so it
//! links with the hard-float C code. The libraries allocate nothing, so there is no global
//! allocator.
//!
//! The C start-up code, syscall layer and headers are in `rt/` and `include/` beside this
//! crate; the host tests in `tests/` check the headers against `abi`.
#![cfg_attr(target_os = "none", no_std)]

pub use shmchan::c as l4shmc_c;
pub use shmheap::c as shmheap_c;

/// The size and alignment C's `l4shmc_area_t` (include/l4shmc.h) gives the area struct.
pub const L4SHMC_AREA_SIZE: usize = shmchan::area::AREA_SIZE;
const _: () = assert!(core::mem::size_of::<shmchan::c::l4shmc_area_t>() == L4SHMC_AREA_SIZE);
const _: () = assert!(core::mem::align_of::<shmchan::c::l4shmc_area_t>() == 8);
const _: () = assert!(core::mem::size_of::<shmchan::c::l4shmc_signal_t>() == 24);
const _: () = assert!(core::mem::size_of::<shmchan::c::l4shmc_chunk_t>() == 32);
const _: () = assert!(core::mem::size_of::<shmheap::c::shmheap_memory_handle>() == 16);
const _: () = assert!(core::mem::size_of::<shmheap::c::shmheap_object_handle>() == 8);

/// A panic in the libraries is a bug: say so on stderr and end as `abort()` would.
#[cfg(target_os = "none")]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    let _ = usys::write(2, b"clib: panic in the shared-memory library\n");
    let _ = usys::kill(usys::getpid(), abi::signal::SIGABRT);
    usys::exit(134)
}
