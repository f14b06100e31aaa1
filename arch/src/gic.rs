//! ARM Generic Interrupt Controller, v2 (memory-mapped CPU interface) and v3 (redistributor
//! plus system-register CPU interface). One CPU; all interrupts group 1, routed to it.

use core::sync::atomic::{AtomicUsize, Ordering};
use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

register_structs! {
    Dist {
        (0x0000 => ctlr: ReadWrite<u32>),
        (0x0004 => typer: ReadOnly<u32>),
        (0x0008 => _r0),
        (0x0080 => igroupr: [ReadWrite<u32>; 32]),
        (0x0100 => isenabler: [ReadWrite<u32>; 32]),
        (0x0180 => icenabler: [ReadWrite<u32>; 32]),
        (0x0200 => _r1),
        (0x0400 => ipriorityr: [ReadWrite<u8>; 1024]),
        (0x0800 => itargetsr: [ReadWrite<u8>; 1024]),
        (0x0c00 => _r2),
        (0x6000 => irouter: [ReadWrite<u64>; 988]),
        (0x7ee0 => @END),
    }
}

register_structs! {
    CpuIf {
        (0x00 => ctlr: ReadWrite<u32>),
        (0x04 => pmr: ReadWrite<u32>),
        (0x08 => _r0),
        (0x0c => iar: ReadOnly<u32>),
        (0x10 => eoir: WriteOnly<u32>),
        (0x14 => @END),
    }
}

register_structs! {
    /// Redistributor: RD_base frame then SGI_base frame (64 KiB each).
    Redist {
        (0x00000 => _r0),
        (0x00014 => waker: ReadWrite<u32>),
        (0x00018 => _r1),
        (0x10080 => igroupr0: ReadWrite<u32>),
        (0x10084 => _r2),
        (0x10100 => isenabler0: ReadWrite<u32>),
        (0x10104 => _r3),
        (0x10180 => icenabler0: ReadWrite<u32>),
        (0x10184 => _r4),
        (0x10400 => ipriorityr: [ReadWrite<u8>; 32]),
        (0x10420 => @END),
    }
}

/// GICv3 CPU interface system registers (not in aarch64-cpu).
mod icc {
    macro_rules! sysreg {
        ($read:ident, $write:ident, $name:literal) => {
            #[allow(dead_code)]
            pub fn $read() -> u64 {
                let v: u64;
                // SAFETY: reading a GIC CPU-interface register has no side effect beyond the
                // architected one (IAR acknowledges, which the caller intends).
                unsafe { core::arch::asm!(concat!("mrs {}, ", $name), out(reg) v, options(nostack)) };
                v
            }
            #[allow(dead_code)]
            pub fn $write(v: u64) {
                // SAFETY: writes an architected GIC CPU-interface register.
                unsafe { core::arch::asm!(concat!("msr ", $name, ", {}"), in(reg) v, options(nostack)) };
            }
        };
    }
    sysreg!(sre_read, sre_write, "S3_0_C12_C12_5"); // ICC_SRE_EL1
    sysreg!(pmr_read, pmr_write, "S3_0_C4_C6_0"); // ICC_PMR_EL1
    sysreg!(igrpen1_read, igrpen1_write, "S3_0_C12_C12_7"); // ICC_IGRPEN1_EL1
    sysreg!(iar1_read, iar1_write, "S3_0_C12_C12_0"); // ICC_IAR1_EL1
    sysreg!(eoir1_read, eoir1_write, "S3_0_C12_C12_1"); // ICC_EOIR1_EL1
    sysreg!(bpr1_read, bpr1_write, "S3_0_C12_C12_3"); // ICC_BPR1_EL1
}

/// INTIDs 1020..1023 are special (1023: spurious, nothing pending).
pub const SPURIOUS: u32 = 1023;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Version {
    V2,
    V3,
}

static VERSION: AtomicUsize = AtomicUsize::new(0);
static DIST: AtomicUsize = AtomicUsize::new(0);
static CPU: AtomicUsize = AtomicUsize::new(0);

fn dist() -> &'static Dist {
    // SAFETY: set by init to the kernel mapping of the distributor.
    unsafe { &*(DIST.load(Ordering::Relaxed) as *const Dist) }
}
fn cpuif() -> &'static CpuIf {
    // SAFETY: set by init (v2) to the kernel mapping of the CPU interface.
    unsafe { &*(CPU.load(Ordering::Relaxed) as *const CpuIf) }
}
fn redist() -> &'static Redist {
    // SAFETY: set by init (v3) to the kernel mapping of CPU 0's redistributor.
    unsafe { &*(CPU.load(Ordering::Relaxed) as *const Redist) }
}

pub fn version() -> Version {
    if VERSION.load(Ordering::Relaxed) == 3 {
        Version::V3
    } else {
        Version::V2
    }
}

/// Bring the controller up with everything disabled. `cpu` is the GICv2 CPU interface or the
/// GICv3 redistributor, as kernel addresses.
///
/// # Safety
/// The addresses must map the controller's frames.
pub unsafe fn init(v: Version, dist_base: usize, cpu: usize) {
    VERSION.store(if v == Version::V3 { 3 } else { 2 }, Ordering::Relaxed);
    DIST.store(dist_base, Ordering::Relaxed);
    CPU.store(cpu, Ordering::Relaxed);
    let d = dist();
    d.ctlr.set(0);
    let lines = ((d.typer.get() & 0x1f) as usize + 1) * 32;
    for i in 0..lines / 32 {
        d.icenabler[i].set(u32::MAX);
        if v == Version::V3 {
            d.igroupr[i].set(u32::MAX);
        }
    }
    match v {
        Version::V2 => {
            // Without security extensions every interrupt is group 0 and signalled as IRQ.
            d.ctlr.set(3);
            let c = cpuif();
            c.pmr.set(0xff);
            c.ctlr.set(3);
        }
        Version::V3 => {
            d.ctlr.set((1 << 4) | (1 << 1)); // ARE, EnableGrp1
            while d.ctlr.get() & (1 << 31) != 0 {}
            let r = redist();
            r.waker.set(r.waker.get() & !(1 << 1));
            while r.waker.get() & (1 << 2) != 0 {}
            r.icenabler0.set(u32::MAX);
            r.igroupr0.set(u32::MAX);
            icc::sre_write(icc::sre_read() | 1);
            aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
            icc::pmr_write(0xff);
            icc::bpr1_write(0);
            icc::igrpen1_write(1);
        }
    }
}

/// Enable one interrupt, routed to this CPU at a middle priority.
pub fn enable(intid: u32) {
    let i = intid as usize;
    match version() {
        Version::V3 if i < 32 => {
            let r = redist();
            r.ipriorityr[i].set(0x80);
            r.isenabler0.set(1 << i);
        }
        v => {
            let d = dist();
            d.ipriorityr[i].set(0x80);
            if i >= 32 {
                if v == Version::V3 {
                    d.irouter[i - 32].set(0);
                } else {
                    d.itargetsr[i].set(1);
                }
            }
            d.isenabler[i / 32].set(1 << (i % 32));
        }
    }
}

pub fn disable(intid: u32) {
    let i = intid as usize;
    match version() {
        Version::V3 if i < 32 => redist().icenabler0.set(1 << i),
        _ => dist().icenabler[i / 32].set(1 << (i % 32)),
    }
}

/// Acknowledge the highest-priority pending interrupt.
pub fn ack() -> u32 {
    match version() {
        Version::V2 => cpuif().iar.get() & 0x3ff,
        Version::V3 => icc::iar1_read() as u32 & 0xff_ffff,
    }
}

pub fn eoi(intid: u32) {
    match version() {
        Version::V2 => cpuif().eoir.set(intid),
        Version::V3 => icc::eoir1_write(intid as u64),
    }
}
