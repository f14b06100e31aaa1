//! User runtime: program entry, syscall stubs, console output, a brk-backed heap, and the
//! sys/shm.h-shaped API. Every program in `src/bin` links against it.
#![no_std]

extern crate alloc;

pub mod heap;
pub mod io;
pub mod rt;
/// memcpy, memmove and memset, word at a time: linked into every program through ulib (this
/// `use` keeps the crate, and so its C symbols, in every link).
pub use umem as mem;
pub use usys as sys;
pub mod util;

pub use shell;

pub use abi::{self, Errno};

/// Program entry: `entry!(main)` where `fn main(args: &[&str]) -> i32`.
#[macro_export]
macro_rules! entry {
    ($main:path) => {
        #[no_mangle]
        extern "C" fn __user_main(argc: usize, argv: *const *const u8) -> ! {
            $crate::ARGV.store(argv as usize, core::sync::atomic::Ordering::Relaxed);
            let mut store: [&str; $crate::abi::sys::ARGV_MAX] = [""; $crate::abi::sys::ARGV_MAX];
            // SAFETY: argc/argv are exactly what the kernel placed on the initial stack.
            let n = unsafe { $crate::args(argc, argv, &mut store) };
            let code = $main(&store[..n]);
            $crate::sys::exit(code)
        }
    };
}

/// The argv array exactly as the kernel passed it (for programs that check it raw).
pub static ARGV: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

core::arch::global_asm!(
    ".section .text._start, \"ax\"",
    ".global _start",
    "_start:",
    "    mov x29, #0",
    "    mov x30, #0",
    "    bl __user_main",
    "    brk #1",
);

/// Decode argv into `out` (at most out.len() arguments); returns the count.
///
/// # Safety
/// `argv` must point to `argc` pointers to NUL-terminated strings that live for `'static`.
pub unsafe fn args(argc: usize, argv: *const *const u8, out: &mut [&'static str]) -> usize {
    let n = argc.min(out.len());
    for (i, slot) in out.iter_mut().enumerate().take(n) {
        // SAFETY: the kernel put argc valid NUL-terminated strings and their pointers on the
        // initial stack, which lives as long as the program.
        unsafe {
            let p = *argv.add(i);
            let mut len = 0;
            while *p.add(len) != 0 {
                len += 1;
            }
            *slot = core::str::from_utf8(core::slice::from_raw_parts(p, len)).unwrap_or("?");
        }
    }
    n
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    println!("panic: {}", info);
    sys::exit(101)
}
