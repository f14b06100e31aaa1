//! ARM Generic Interrupt Controller, v2 (memory-mapped CPU interface) and v3 (redistributor
//! plus system-register CPU interface), as an `IrqChip`. One CPU; all interrupts group 1,
//! routed to it. The board places it (`init`) where its memory map or device tree says.
//! Host tests run the driver over fake register frames in ordinary memory.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::irq::IrqChip;
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
        // GICD_IROUTER<n> is at 0x6000 + 8n; n < 32 (private interrupts) are reserved.
        (0x6000 => irouter: [ReadWrite<u64>; 1020]),
        (0x7fe0 => @END),
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
#[cfg(target_os = "none")]
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

    pub fn isb() {
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    }
}

/// On the host the CPU-interface registers are plain per-thread cells the tests look at.
#[cfg(not(target_os = "none"))]
mod icc {
    extern crate std;
    use core::cell::Cell;

    std::thread_local! {
        pub static REGS: [Cell<u64>; 6] = const { [const { Cell::new(0) }; 6] };
    }
    pub const SRE: usize = 0;
    pub const PMR: usize = 1;
    pub const IGRPEN1: usize = 2;
    pub const IAR1: usize = 3;
    pub const EOIR1: usize = 4;
    pub const BPR1: usize = 5;

    macro_rules! sysreg {
        ($read:ident, $write:ident, $i:ident) => {
            #[allow(dead_code)]
            pub fn $read() -> u64 {
                REGS.with(|r| r[$i].get())
            }
            #[allow(dead_code)]
            pub fn $write(v: u64) {
                REGS.with(|r| r[$i].set(v))
            }
        };
    }
    sysreg!(sre_read, sre_write, SRE);
    sysreg!(pmr_read, pmr_write, PMR);
    sysreg!(igrpen1_read, igrpen1_write, IGRPEN1);
    sysreg!(iar1_read, iar1_write, IAR1);
    sysreg!(eoir1_read, eoir1_write, EOIR1);
    sysreg!(bpr1_read, bpr1_write, BPR1);

    pub fn isb() {}
}

/// INTIDs 1020..1023 are special (1023: spurious, nothing pending).
pub const SPURIOUS: u32 = 1023;
const SPECIAL: core::ops::Range<u32> = 1020..1024;

/// The priority every enabled interrupt gets (the middle of the range).
const PRIORITY: u8 = 0x80;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Version {
    V2,
    V3,
}

/// A GIC the board places with `init`; a `static` of the board.
pub struct Gic {
    version: AtomicUsize,
    dist: AtomicUsize,
    cpu: AtomicUsize,
}

/// The enable register (ISENABLERn / ICENABLERn) and bit of a shared interrupt.
fn enable_bit(intid: u32) -> (usize, u32) {
    ((intid / 32) as usize, 1 << (intid % 32))
}

impl Gic {
    pub const fn new() -> Gic {
        Gic {
            version: AtomicUsize::new(0),
            dist: AtomicUsize::new(0),
            cpu: AtomicUsize::new(0),
        }
    }

    fn dist(&self) -> &Dist {
        // SAFETY: set by init to the kernel mapping of the distributor.
        unsafe { &*(self.dist.load(Ordering::Relaxed) as *const Dist) }
    }
    fn cpuif(&self) -> &CpuIf {
        // SAFETY: set by init (v2) to the kernel mapping of the CPU interface.
        unsafe { &*(self.cpu.load(Ordering::Relaxed) as *const CpuIf) }
    }
    fn redist(&self) -> &Redist {
        // SAFETY: set by init (v3) to the kernel mapping of CPU 0's redistributor.
        unsafe { &*(self.cpu.load(Ordering::Relaxed) as *const Redist) }
    }

    pub fn version(&self) -> Version {
        if self.version.load(Ordering::Relaxed) == 3 {
            Version::V3
        } else {
            Version::V2
        }
    }

    /// Bring the controller up with everything disabled: the distributor, then this CPU's
    /// interface (`init_cpu`). `cpu` is the GICv2 CPU interface or the GICv3 redistributor,
    /// as kernel addresses.
    ///
    /// # Safety
    /// The addresses must map the controller's frames.
    pub unsafe fn init(&self, v: Version, dist_base: usize, cpu: usize) {
        self.version
            .store(if v == Version::V3 { 3 } else { 2 }, Ordering::Relaxed);
        self.dist.store(dist_base, Ordering::Relaxed);
        self.cpu.store(cpu, Ordering::Relaxed);
        let d = self.dist();
        d.ctlr.set(0);
        let lines = ((d.typer.get() & 0x1f) as usize + 1) * 32;
        for i in 0..lines / 32 {
            d.icenabler[i].set(u32::MAX);
            if v == Version::V3 {
                d.igroupr[i].set(u32::MAX);
            }
        }
        match v {
            // Without security extensions every interrupt is group 0 and signalled as IRQ.
            Version::V2 => d.ctlr.set(3),
            Version::V3 => {
                d.ctlr.set((1 << 4) | (1 << 1)); // ARE, EnableGrp1
                while d.ctlr.get() & (1 << 31) != 0 {}
            }
        }
        self.init_cpu();
    }
}

impl Default for Gic {
    fn default() -> Self {
        Self::new()
    }
}

impl IrqChip for Gic {
    fn init_cpu(&self) {
        match self.version() {
            Version::V2 => {
                let c = self.cpuif();
                c.pmr.set(0xff);
                c.ctlr.set(3);
            }
            Version::V3 => {
                let r = self.redist();
                r.waker.set(r.waker.get() & !(1 << 1));
                while r.waker.get() & (1 << 2) != 0 {}
                r.icenabler0.set(u32::MAX);
                r.igroupr0.set(u32::MAX);
                icc::sre_write(icc::sre_read() | 1);
                icc::isb();
                icc::pmr_write(0xff);
                icc::bpr1_write(0);
                icc::igrpen1_write(1);
            }
        }
    }

    /// Enable one interrupt, routed to this CPU at a middle priority.
    fn enable(&self, intid: u32) {
        let i = intid as usize;
        let (reg, bit) = enable_bit(intid);
        match self.version() {
            Version::V3 if i < 32 => {
                let r = self.redist();
                r.ipriorityr[i].set(PRIORITY);
                r.isenabler0.set(bit);
            }
            v => {
                let d = self.dist();
                d.ipriorityr[i].set(PRIORITY);
                if i >= 32 {
                    if v == Version::V3 {
                        d.irouter[i].set(0);
                    } else {
                        d.itargetsr[i].set(1);
                    }
                }
                d.isenabler[reg].set(bit);
            }
        }
    }

    fn disable(&self, intid: u32) {
        let (reg, bit) = enable_bit(intid);
        match self.version() {
            Version::V3 if intid < 32 => self.redist().icenabler0.set(bit),
            _ => self.dist().icenabler[reg].set(bit),
        }
    }

    /// Acknowledge the highest-priority pending interrupt.
    fn ack(&self) -> Option<u32> {
        let id = match self.version() {
            Version::V2 => self.cpuif().iar.get() & 0x3ff,
            Version::V3 => icc::iar1_read() as u32 & 0xff_ffff,
        };
        (!SPECIAL.contains(&id)).then_some(id)
    }

    fn eoi(&self, intid: u32) {
        match self.version() {
            Version::V2 => self.cpuif().eoir.set(intid),
            Version::V3 => icc::eoir1_write(intid as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// A register frame in ordinary memory: what the driver writes stays there to be read,
    /// at the offsets the GIC architecture gives (checked independently of the structs).
    struct Frame(Vec<u64>);

    impl Frame {
        fn new(bytes: usize) -> Frame {
            Frame(std::vec![0; bytes.div_ceil(8)])
        }
        fn base(&self) -> usize {
            self.0.as_ptr() as usize
        }
        fn r32(&self, off: usize) -> u32 {
            // SAFETY: inside the frame, aligned; nothing else writes it meanwhile.
            unsafe { core::ptr::read_volatile((self.base() + off) as *const u32) }
        }
        fn w32(&self, off: usize, v: u32) {
            // SAFETY: as in r32.
            unsafe { core::ptr::write_volatile((self.base() + off) as *mut u32, v) }
        }
        fn r8(&self, off: usize) -> u8 {
            // SAFETY: as in r32.
            unsafe { core::ptr::read_volatile((self.base() + off) as *const u8) }
        }
        fn r64(&self, off: usize) -> u64 {
            // SAFETY: as in r32.
            unsafe { core::ptr::read_volatile((self.base() + off) as *const u64) }
        }
    }

    const GICD_CTLR: usize = 0x0;
    const GICD_TYPER: usize = 0x4;
    const GICD_IGROUPR: usize = 0x80;
    const GICD_ISENABLER: usize = 0x100;
    const GICD_ICENABLER: usize = 0x180;
    const GICD_IPRIORITYR: usize = 0x400;
    const GICD_ITARGETSR: usize = 0x800;
    const GICD_IROUTER: usize = 0x6100; // IROUTER<32>: the first shared interrupt
    const GICC_CTLR: usize = 0x0;
    const GICC_PMR: usize = 0x4;
    const GICC_IAR: usize = 0xc;
    const GICC_EOIR: usize = 0x10;
    const GICR_WAKER: usize = 0x14;
    const SGI: usize = 0x10000;

    fn v2() -> (Gic, Frame, Frame) {
        let (d, c) = (Frame::new(0x10000), Frame::new(0x1000));
        d.w32(GICD_TYPER, 2); // 96 lines
        let g = Gic::new();
        // SAFETY: both frames are live, large enough and owned by the test.
        unsafe { g.init(Version::V2, d.base(), c.base()) };
        (g, d, c)
    }

    fn v3() -> (Gic, Frame, Frame) {
        let (d, r) = (Frame::new(0x10000), Frame::new(0x20000));
        d.w32(GICD_TYPER, 1); // 64 lines
        r.w32(GICR_WAKER, 1 << 1); // ProcessorSleep, as at reset
        let g = Gic::new();
        // SAFETY: as in v2().
        unsafe { g.init(Version::V3, d.base(), r.base()) };
        (g, d, r)
    }

    #[test]
    fn v2_init_masks_every_line_and_opens_both_interfaces() {
        let (g, d, c) = v2();
        assert_eq!(g.version(), Version::V2);
        for n in 0..3 {
            assert_eq!(d.r32(GICD_ICENABLER + 4 * n), u32::MAX, "ICENABLER{n}");
        }
        assert_eq!(
            d.r32(GICD_ICENABLER + 12),
            0,
            "only the lines TYPER reports"
        );
        assert_eq!(d.r32(GICD_IGROUPR), 0, "v2: group 0");
        assert_eq!(d.r32(GICD_CTLR), 3);
        assert_eq!(c.r32(GICC_PMR), 0xff);
        assert_eq!(c.r32(GICC_CTLR), 3);
    }

    #[test]
    fn v2_enable_and_disable_touch_the_right_bits() {
        let (g, d, _c) = v2();
        g.enable(33); // SPI 1
        assert_eq!(d.r32(GICD_ISENABLER + 4), 1 << 1);
        assert_eq!(d.r8(GICD_IPRIORITYR + 33), PRIORITY);
        assert_eq!(d.r8(GICD_ITARGETSR + 33), 1, "routed to CPU 0");
        g.enable(27); // a PPI: banked, no target to set
        assert_eq!(d.r32(GICD_ISENABLER), 1 << 27);
        assert_eq!(d.r8(GICD_IPRIORITYR + 27), PRIORITY);
        assert_eq!(d.r8(GICD_ITARGETSR + 27), 0);
        g.disable(95);
        assert_eq!(d.r32(GICD_ICENABLER + 8), 1 << 31);
        g.disable(27);
        assert_eq!(d.r32(GICD_ICENABLER), 1 << 27);
    }

    #[test]
    fn v2_ack_drops_the_source_cpu_and_special_ids() {
        let (g, _d, c) = v2();
        c.w32(GICC_IAR, 33);
        assert_eq!(g.ack(), Some(33));
        c.w32(GICC_IAR, (3 << 10) | 5); // an SGI from CPU 3
        assert_eq!(g.ack(), Some(5));
        for id in [1020, 1021, 1022, SPURIOUS] {
            c.w32(GICC_IAR, id);
            assert_eq!(g.ack(), None, "{id}");
        }
        g.eoi(33);
        assert_eq!(c.r32(GICC_EOIR), 33);
    }

    #[test]
    fn v3_init_wakes_the_redistributor_and_puts_everything_in_group_1() {
        let (g, d, r) = v3();
        assert_eq!(g.version(), Version::V3);
        assert_eq!(d.r32(GICD_CTLR), (1 << 4) | (1 << 1), "ARE, EnableGrp1");
        for n in 0..2 {
            assert_eq!(d.r32(GICD_ICENABLER + 4 * n), u32::MAX);
            assert_eq!(d.r32(GICD_IGROUPR + 4 * n), u32::MAX);
        }
        assert_eq!(r.r32(GICR_WAKER) & (1 << 1), 0, "ProcessorSleep cleared");
        assert_eq!(r.r32(SGI + GICD_ICENABLER), u32::MAX);
        assert_eq!(r.r32(SGI + GICD_IGROUPR), u32::MAX);
        assert_eq!(icc::sre_read() & 1, 1);
        assert_eq!(icc::pmr_read(), 0xff);
        assert_eq!(icc::igrpen1_read(), 1);
    }

    #[test]
    fn v3_private_interrupts_go_to_the_redistributor_shared_ones_are_routed() {
        let (g, d, r) = v3();
        g.enable(27);
        assert_eq!(r.r32(SGI + GICD_ISENABLER), 1 << 27);
        assert_eq!(r.r8(SGI + GICD_IPRIORITYR + 27), PRIORITY);
        assert_eq!(d.r32(GICD_ISENABLER), 0, "not the distributor's bank 0");
        d.w32(GICD_IROUTER + 8 * 8, 0xdead);
        g.enable(40);
        assert_eq!(d.r32(GICD_ISENABLER + 4), 1 << 8);
        assert_eq!(d.r8(GICD_IPRIORITYR + 40), PRIORITY);
        assert_eq!(d.r64(GICD_IROUTER + 8 * 8), 0, "IROUTER<40>: affinity 0");
        g.disable(27);
        assert_eq!(r.r32(SGI + GICD_ICENABLER), 1 << 27);
        g.disable(40);
        assert_eq!(d.r32(GICD_ICENABLER + 4), 1 << 8);
    }

    #[test]
    fn v3_ack_and_eoi_use_the_group_1_registers() {
        let (g, _d, _r) = v3();
        icc::iar1_write(27);
        assert_eq!(g.ack(), Some(27));
        icc::iar1_write(SPURIOUS as u64);
        assert_eq!(g.ack(), None);
        g.eoi(27);
        assert_eq!(icc::eoir1_read(), 27);
    }
}
