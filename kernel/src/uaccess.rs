//! Copy routines between kernel and user memory. The kernel never dereferences a user
//! address: each page is looked up in the process's own tables (with EL0 permissions) and
//! reached through the linear map, so a bad pointer is EFAULT, never a kernel fault.

use crate::phys::{p2v, PAGE_SIZE};
use crate::up::{Access, AddrEnv, Arch};
use abi::layout::{USER_END, USER_MIN};
use abi::Errno;
// The kernel's memcpy/memmove/memset are umem's, as in user space: naming the crate links
// it, and its strong symbols replace compiler_builtins' weak word loops (16 bytes per
// ldp/stp pair against 8 per four instructions). Integer registers only, so the soft-float
// kernel keeps its rule of never touching FP/SIMD state. Every copy here and in the pipe
// goes through them.
use umem as _;

/// Types that may be copied to and from user memory byte for byte.
///
/// # Safety
/// Every bit pattern must be a valid value and the type must have no padding that could
/// leak kernel data (or the padding is zeroed before copying out).
pub unsafe trait Plain: Copy {}
// SAFETY: plain integers and repr(C) structs of integers without implicit padding.
unsafe impl Plain for u8 {}
unsafe impl Plain for u32 {}
unsafe impl Plain for i32 {}
unsafe impl Plain for u64 {}
unsafe impl Plain for i64 {}
unsafe impl Plain for abi::sys::Timespec {}
unsafe impl Plain for abi::sys::TaskInfo {}
unsafe impl Plain for abi::sys::MemInfo {}
unsafe impl Plain for abi::sys::RegionInfo {}
unsafe impl Plain for abi::sys::FutexWaitv {}
unsafe impl Plain for abi::sys::RobustListHead {}
unsafe impl Plain for abi::shm::ShmidDs {}
unsafe impl Plain for abi::shm::ShmInfo {}
unsafe impl Plain for abi::shm::ShmInfoLimits {}
unsafe impl Plain for abi::signal::SigAction {}
unsafe impl Plain for abi::signal::SigFrame {}
unsafe impl Plain for abi::signal::FpsimdContext {}
unsafe impl Plain for abi::stat::Stat {}
unsafe impl Plain for abi::sys::SpawnAction {}
// SAFETY: byte arrays: any pattern is valid, no padding.
unsafe impl<const N: usize> Plain for [u8; N] {}

/// Read a relative `timespec` (nanosleep, futex timeouts) as nanoseconds: EFAULT for a bad
/// pointer, EINVAL for a negative or unnormalised value.
pub fn read_duration(arch: &dyn Arch, env: &AddrEnv, uva: usize) -> Result<u64, Errno> {
    let ts: abi::sys::Timespec = read_val(arch, env, uva)?;
    if ts.tv_sec < 0 || !(0..1_000_000_000).contains(&ts.tv_nsec) {
        return Err(Errno::EINVAL);
    }
    Ok((ts.tv_sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts.tv_nsec as u64))
}

/// Check that [uva, uva+len) lies inside the user range.
pub fn range_ok(uva: usize, len: usize) -> bool {
    match uva.checked_add(len) {
        Some(end) => len == 0 || (uva >= USER_MIN && end <= USER_END),
        None => false,
    }
}

fn each_page(
    arch: &dyn Arch,
    env: &AddrEnv,
    uva: usize,
    len: usize,
    access: Access,
    mut f: impl FnMut(*mut u8, usize, usize),
) -> Result<(), Errno> {
    if !range_ok(uva, len) {
        return Err(Errno::EFAULT);
    }
    // Check the whole range first so a failed copy-out changes nothing.
    let mut va = uva;
    while va < uva + len {
        arch.translate(env, va, access).ok_or(Errno::EFAULT)?;
        va = (va & !(PAGE_SIZE - 1)) + PAGE_SIZE;
    }
    let mut done = 0;
    while done < len {
        let va = uva + done;
        let pa = arch.translate(env, va, access).ok_or(Errno::EFAULT)?;
        let n = (PAGE_SIZE - va % PAGE_SIZE).min(len - done);
        f(p2v(pa), done, n);
        done += n;
    }
    Ok(())
}

/// Check that every page of [uva, uva+len) is mapped with `access` allowed at EL0.
pub fn check(
    arch: &dyn Arch,
    env: &AddrEnv,
    uva: usize,
    len: usize,
    access: Access,
) -> Result<(), Errno> {
    each_page(arch, env, uva, len, access, |_, _, _| {})
}

pub fn copy_in(arch: &dyn Arch, env: &AddrEnv, uva: usize, out: &mut [u8]) -> Result<(), Errno> {
    let dst = out.as_mut_ptr();
    each_page(arch, env, uva, out.len(), Access::Read, |src, off, n| {
        // SAFETY: src is a mapped user page (linear-map alias), dst has room for off+n bytes.
        unsafe { core::ptr::copy_nonoverlapping(src, dst.add(off), n) }
    })
}

pub fn copy_out(arch: &dyn Arch, env: &AddrEnv, uva: usize, data: &[u8]) -> Result<(), Errno> {
    let src = data.as_ptr();
    each_page(arch, env, uva, data.len(), Access::Write, |dst, off, n| {
        // SAFETY: dst is a user page mapped writable at EL0; src holds off+n bytes.
        unsafe { core::ptr::copy_nonoverlapping(src.add(off), dst, n) }
    })
}

/// A NUL-terminated string from user memory into `out`: its length without the NUL.
/// ENAMETOOLONG when no NUL comes within `out`, EFAULT when unmapped memory comes first.
pub fn read_cstr(
    arch: &dyn Arch,
    env: &AddrEnv,
    uva: usize,
    out: &mut [u8],
) -> Result<usize, Errno> {
    let mut done = 0;
    while done < out.len() {
        // Up to the end of the page: the next one may be unmapped, and the NUL may come first.
        let at = uva.checked_add(done).ok_or(Errno::EFAULT)?;
        let n = (PAGE_SIZE - at % PAGE_SIZE).min(out.len() - done);
        copy_in(arch, env, at, &mut out[done..done + n])?;
        if let Some(i) = out[done..done + n].iter().position(|&b| b == 0) {
            return Ok(done + i);
        }
        done += n;
    }
    Err(Errno::ENAMETOOLONG)
}

pub fn read_val<T: Plain>(arch: &dyn Arch, env: &AddrEnv, uva: usize) -> Result<T, Errno> {
    let mut v = core::mem::MaybeUninit::<T>::zeroed();
    // SAFETY: T is Plain, so its bytes may be written freely and any pattern is valid.
    let bytes = unsafe {
        core::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, core::mem::size_of::<T>())
    };
    copy_in(arch, env, uva, bytes)?;
    // SAFETY: fully initialised by the copy (zeroed before).
    Ok(unsafe { v.assume_init() })
}

pub fn write_val<T: Plain>(arch: &dyn Arch, env: &AddrEnv, uva: usize, v: &T) -> Result<(), Errno> {
    // SAFETY: T is Plain: no uninitialised padding.
    let bytes = unsafe {
        core::slice::from_raw_parts(v as *const T as *const u8, core::mem::size_of::<T>())
    };
    copy_out(arch, env, uva, bytes)
}
