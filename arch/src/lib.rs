//! aarch64 architecture layer: boot, exception vectors, translation tables, TLB maintenance,
//! GIC, generic timer and the ARM-IP drivers. Only `ttbl` is portable enough to test on the host.
#![no_std]

pub mod clock;
pub mod ttbl;

#[cfg(target_os = "none")]
mod hw {
    core::arch::global_asm!(include_str!("asm/boot.S"));
    core::arch::global_asm!(include_str!("asm/vectors.S"));
}
#[cfg(target_os = "none")]
pub mod exception;
#[cfg(target_os = "none")]
pub mod gic;
#[cfg(target_os = "none")]
pub mod mmu;
#[cfg(target_os = "none")]
pub mod pl011;
#[cfg(target_os = "none")]
pub mod pl031;
#[cfg(target_os = "none")]
pub mod platform;
#[cfg(target_os = "none")]
pub mod psci;
#[cfg(target_os = "none")]
pub mod semihosting;
#[cfg(target_os = "none")]
pub mod timer;

#[cfg(target_os = "none")]
extern "C" {
    /// Drop to EL0 with `frame` (resets the kernel stack first).
    pub fn enter_user(frame: *const kernel::up::TrapFrame) -> !;
}
