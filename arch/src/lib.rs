//! aarch64 architecture layer: boot, exception vectors, translation tables, TLB maintenance,
//! generic timer, the board interface (`board`, `bootmap`, `irq`, `uart`) and the drivers of
//! the IP blocks boards use (GIC, the BCM2836/BCM2835 interrupt controllers, PL011, PL031,
//! PSCI). No board's addresses or interrupt numbers live here: boards place the drivers.
//! The pure parts (`ttbl`, `clock`, `bootmap`, `irq`, `atags`, `fdtscan`) are tested on the host, and the
//! interrupt-controller drivers over fake register frames.
#![no_std]

pub mod atags;
pub mod bcm2836;
pub mod board;
pub mod bootmap;
pub mod clock;
pub mod fdtscan;
pub mod gic;
pub mod irq;
pub mod ttbl;
pub mod uart;

#[cfg(target_os = "none")]
mod hw {
    core::arch::global_asm!(include_str!("asm/boot.S"));
    core::arch::global_asm!(include_str!("asm/vectors.S"));
    core::arch::global_asm!(include_str!("asm/fp.S"));
}
#[cfg(target_os = "none")]
pub mod exception;
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
pub mod zero;

#[cfg(target_os = "none")]
extern "C" {
    /// Drop to EL0 with `frame` (resets the kernel stack first).
    pub fn enter_user(frame: *const kernel::up::TrapFrame) -> !;
    /// Copy the FP/SIMD registers to `st` (asm/fp.S).
    pub fn fp_save(st: *mut kernel::up::FpState);
    /// Load the FP/SIMD registers from `st` (asm/fp.S).
    pub fn fp_load(st: *const kernel::up::FpState);
}
