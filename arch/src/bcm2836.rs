//! The Broadcom BCM2836/BCM2837 interrupt controllers (Raspberry Pi 2 and 3) as one
//! `IrqChip`: the per-core controller of the ARM local peripherals ("QA7"), whose GPU input
//! is the BCM2835 ARMCTRL controller of the VideoCore peripherals. The board places both
//! (`init`) at the addresses its memory map gives.
//!
//! Numbering (Linux's bcm2836 and bcm2835 numbering folded into one space):
//! - 0..=63: GPU interrupts (ARMCTRL pending 1 and 2), e.g. the PL011 UART0 is 57;
//! - 64..=71: ARMCTRL "basic" ARM interrupts 0-7 (ARM timer, mailbox, doorbells, ...);
//! - 96..=107: the per-core sources, `LOCAL_BASE + local::*` (the EL1 virtual timer is 99).
//!
//! Decoding follows the hardware, not QEMU: the basic-pending register's summary bits 8/9 are
//! not set for the "shortcut" GPU interrupts on a real BCM2835 (Linux irq-bcm2835.c, quirk
//! 1), so pending 1 and 2 are read directly. Every source is a level cleared at the device:
//! there is no end-of-interrupt step. The driver also keeps its own copy of what is enabled
//! and claims nothing else, so a disabled interrupt is never handed out again even where a
//! pending register shows unmasked state. Host tests run it over fake register frames.

use core::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};

use tock_registers::interfaces::{Readable, Writeable};
use tock_registers::register_structs;
use tock_registers::registers::{ReadOnly, ReadWrite, WriteOnly};

use crate::irq::IrqChip;

register_structs! {
    /// ARM local peripherals (QA7): routing, per-core timer and mailbox interrupt control,
    /// per-core IRQ source.
    Local {
        (0x00 => _control),
        (0x0c => gpu_routing: ReadWrite<u32>),
        (0x10 => pmu_set: WriteOnly<u32>),
        (0x14 => pmu_clear: WriteOnly<u32>),
        (0x18 => _r0),
        (0x24 => local_timer_routing: ReadWrite<u32>),
        (0x28 => _r1),
        (0x30 => axi_irq: ReadWrite<u32>),
        (0x34 => local_timer_control: ReadWrite<u32>),
        (0x38 => _r2),
        (0x40 => timer_control: [ReadWrite<u32>; 4]),
        (0x50 => mailbox_control: [ReadWrite<u32>; 4]),
        (0x60 => irq_source: [ReadOnly<u32>; 4]),
        (0x70 => @END),
    }
}

register_structs! {
    /// BCM2835 ARMCTRL interrupt registers (offset 0x200 of the ARMCTRL block).
    ArmCtrl {
        (0x00 => basic_pending: ReadOnly<u32>),
        (0x04 => pending: [ReadOnly<u32>; 2]),
        (0x0c => _fiq_control),
        (0x10 => enable: [WriteOnly<u32>; 2]),
        (0x18 => enable_basic: WriteOnly<u32>),
        (0x1c => disable: [WriteOnly<u32>; 2]),
        (0x24 => disable_basic: WriteOnly<u32>),
        (0x28 => @END),
    }
}

/// The per-core sources: bits of the IRQ source register, numbered `LOCAL_BASE + bit`.
pub mod local {
    /// Secure physical timer.
    pub const CNTPS: u32 = 0;
    /// Non-secure physical timer (EL1).
    pub const CNTPNS: u32 = 1;
    /// Hypervisor physical timer.
    pub const CNTHP: u32 = 2;
    /// Virtual timer (EL1), the kernel's.
    pub const CNTV: u32 = 3;
    /// Mailboxes 0-3 are 4-7.
    pub const MAILBOX0: u32 = 4;
    /// The ARMCTRL controller (on the core the GPU interrupt is routed to).
    pub const GPU: u32 = 8;
    pub const PMU: u32 = 9;
    pub const AXI: u32 = 10;
    /// The 38.4 MHz local timer.
    pub const LOCAL_TIMER: u32 = 11;
}

/// First ARMCTRL basic (ARM) interrupt.
pub const BASIC_BASE: u32 = 64;
/// First per-core source.
pub const LOCAL_BASE: u32 = 96;

/// GPU interrupt `n` (0..=63).
pub const fn gpu_irq(n: u32) -> u32 {
    n
}
/// ARMCTRL basic interrupt `n` (0..=7).
pub const fn basic_irq(n: u32) -> u32 {
    BASIC_BASE + n
}
/// Per-core source `n` (`local::*`).
pub const fn local_irq(n: u32) -> u32 {
    LOCAL_BASE + n
}

/// What an interrupt number names.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Source {
    /// Bank 0 (pending 1) or 1 (pending 2), bit.
    Gpu(usize, u32),
    Basic(u32),
    Local(u32),
}

fn source(id: u32) -> Option<Source> {
    match id {
        0..=63 => Some(Source::Gpu((id / 32) as usize, id % 32)),
        64..=71 => Some(Source::Basic(id - BASIC_BASE)),
        96..=107 if id != local_irq(local::GPU) => Some(Source::Local(id - LOCAL_BASE)),
        _ => None,
    }
}

fn lowest(bits: u32) -> Option<u32> {
    (bits != 0).then(|| bits.trailing_zeros())
}

/// The interrupt to claim from the ARMCTRL registers, given what is enabled: pending 1, then
/// pending 2, then the basic ARM interrupts. Basic bits 8 and up (the summaries and shortcut
/// copies of GPU interrupts) are never trusted.
fn decode_armctrl(pending: [u32; 2], basic: u32, gpu_en: u64, basic_en: u32) -> Option<u32> {
    let gpu = (pending[0] as u64 | (pending[1] as u64) << 32) & gpu_en;
    if gpu != 0 {
        return Some(gpu_irq(gpu.trailing_zeros()));
    }
    lowest(basic & 0xff & basic_en).map(basic_irq)
}

/// The core this runs on (MPIDR_EL1.Aff0; always 0 on the host).
fn this_core() -> usize {
    #[cfg(target_os = "none")]
    {
        use aarch64_cpu::registers::MPIDR_EL1;
        (MPIDR_EL1.get() & 3) as usize
    }
    #[cfg(not(target_os = "none"))]
    0
}

/// The pair of controllers, placed by the board with `init`; a `static` of the board.
pub struct Bcm2836Intc {
    local: AtomicUsize,
    armctrl: AtomicUsize,
    /// What is enabled: GPU interrupts, basic ARM interrupts, per-core sources per core.
    gpu_en: AtomicU64,
    basic_en: AtomicU32,
    local_en: [AtomicU32; 4],
}

impl Bcm2836Intc {
    pub const fn new() -> Bcm2836Intc {
        Bcm2836Intc {
            local: AtomicUsize::new(0),
            armctrl: AtomicUsize::new(0),
            gpu_en: AtomicU64::new(0),
            basic_en: AtomicU32::new(0),
            local_en: [const { AtomicU32::new(0) }; 4],
        }
    }

    fn local(&self) -> &Local {
        // SAFETY: set by init to the kernel mapping of the ARM local peripherals.
        unsafe { &*(self.local.load(Ordering::Relaxed) as *const Local) }
    }
    fn armctrl(&self) -> &ArmCtrl {
        // SAFETY: set by init to the kernel mapping of the ARMCTRL interrupt registers.
        unsafe { &*(self.armctrl.load(Ordering::Relaxed) as *const ArmCtrl) }
    }

    /// Place the controllers (kernel addresses of the ARM local peripherals and of the
    /// ARMCTRL interrupt registers), mask every GPU and ARM interrupt, route the GPU
    /// interrupt to this core, then set this core up (`init_cpu`).
    ///
    /// # Safety
    /// The addresses must map the two register blocks.
    pub unsafe fn init(&self, local: usize, armctrl: usize) {
        self.local.store(local, Ordering::Relaxed);
        self.armctrl.store(armctrl, Ordering::Relaxed);
        let a = self.armctrl();
        a.disable[0].set(u32::MAX);
        a.disable[1].set(u32::MAX);
        a.disable_basic.set(u32::MAX);
        self.gpu_en.store(0, Ordering::Relaxed);
        self.basic_en.store(0, Ordering::Relaxed);
        self.local().gpu_routing.set(this_core() as u32);
        self.init_cpu();
    }

    /// The per-core enable of local source `n` on `core`.
    fn set_local(&self, core: usize, n: u32, on: bool) {
        let l = self.local();
        let rmw = |r: &ReadWrite<u32>, bit: u32| {
            let v = r.get();
            r.set(if on { v | bit } else { v & !bit });
        };
        match n {
            local::CNTPS..=local::CNTV => rmw(&l.timer_control[core], 1 << n),
            4..=7 => rmw(&l.mailbox_control[core], 1 << (n - local::MAILBOX0)),
            local::PMU if on => l.pmu_set.set(1 << core),
            local::PMU => l.pmu_clear.set(1 << core),
            // Enabling the AXI-outstanding interrupt needs a timeout the kernel has no use
            // for; masking it clears the register (its enable and timeout).
            local::AXI if on => return,
            local::AXI => l.axi_irq.set(0),
            local::LOCAL_TIMER => {
                if on {
                    l.local_timer_routing.set(core as u32);
                }
                rmw(&l.local_timer_control, 1 << 29);
            }
            _ => return,
        }
        let en = &self.local_en[core];
        if on {
            en.fetch_or(1 << n, Ordering::Relaxed);
        } else {
            en.fetch_and(!(1 << n), Ordering::Relaxed);
        }
    }
}

impl Default for Bcm2836Intc {
    fn default() -> Self {
        Self::new()
    }
}

impl IrqChip for Bcm2836Intc {
    /// This core's timer and mailbox interrupts start masked.
    fn init_cpu(&self) {
        let core = this_core();
        let l = self.local();
        l.timer_control[core].set(0);
        l.mailbox_control[core].set(0);
        self.local_en[core].store(0, Ordering::Relaxed);
    }

    fn ack(&self) -> Option<u32> {
        let core = this_core();
        let en = self.local_en[core].load(Ordering::Relaxed) | 1 << local::GPU;
        let mut src = self.local().irq_source[core].get() & en & 0xfff;
        while let Some(bit) = lowest(src) {
            src &= !(1 << bit);
            if bit != local::GPU {
                return Some(local_irq(bit));
            }
            let a = self.armctrl();
            let pending = [a.pending[0].get(), a.pending[1].get()];
            let id = decode_armctrl(
                pending,
                a.basic_pending.get(),
                self.gpu_en.load(Ordering::Relaxed),
                self.basic_en.load(Ordering::Relaxed),
            );
            if id.is_some() {
                return id;
            }
        }
        None
    }

    /// Nothing to do: every source is a level the device drops once serviced.
    fn eoi(&self, _id: u32) {}

    fn enable(&self, id: u32) {
        match source(id) {
            Some(Source::Gpu(bank, bit)) => {
                self.gpu_en.fetch_or(1 << id, Ordering::Relaxed);
                self.armctrl().enable[bank].set(1 << bit);
            }
            Some(Source::Basic(bit)) => {
                self.basic_en.fetch_or(1 << bit, Ordering::Relaxed);
                self.armctrl().enable_basic.set(1 << bit);
            }
            Some(Source::Local(n)) => self.set_local(this_core(), n, true),
            None => {}
        }
    }

    fn disable(&self, id: u32) {
        match source(id) {
            Some(Source::Gpu(bank, bit)) => {
                self.gpu_en.fetch_and(!(1 << id), Ordering::Relaxed);
                self.armctrl().disable[bank].set(1 << bit);
            }
            Some(Source::Basic(bit)) => {
                self.basic_en.fetch_and(!(1 << bit), Ordering::Relaxed);
                self.armctrl().disable_basic.set(1 << bit);
            }
            Some(Source::Local(n)) => self.set_local(this_core(), n, false),
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use crate::irq::{dispatch, IrqHandler};
    use std::vec::Vec;

    /// A register block in ordinary memory, read and written at the documented offsets.
    struct Frame(Vec<u32>);

    impl Frame {
        fn new() -> Frame {
            Frame(std::vec![0; 0x100 / 4])
        }
        fn base(&self) -> usize {
            self.0.as_ptr() as usize
        }
        fn r(&self, off: usize) -> u32 {
            // SAFETY: inside the frame, aligned; nothing else writes it meanwhile.
            unsafe { core::ptr::read_volatile((self.base() + off) as *const u32) }
        }
        fn w(&self, off: usize, v: u32) {
            // SAFETY: as in r.
            unsafe { core::ptr::write_volatile((self.base() + off) as *mut u32, v) }
        }
    }

    // ARM local peripherals (core 0's registers).
    const GPU_ROUTING: usize = 0x0c;
    const PMU_SET: usize = 0x10;
    const PMU_CLEAR: usize = 0x14;
    const LOCAL_TIMER_ROUTING: usize = 0x24;
    const AXI_IRQ: usize = 0x30;
    const LOCAL_TIMER_CONTROL: usize = 0x34;
    const TIMER_CONTROL0: usize = 0x40;
    const MAILBOX_CONTROL0: usize = 0x50;
    const IRQ_SOURCE0: usize = 0x60;
    // ARMCTRL.
    const BASIC_PENDING: usize = 0x00;
    const PENDING1: usize = 0x04;
    const PENDING2: usize = 0x08;
    const ENABLE1: usize = 0x10;
    const ENABLE2: usize = 0x14;
    const ENABLE_BASIC: usize = 0x18;
    const DISABLE1: usize = 0x1c;
    const DISABLE2: usize = 0x20;
    const DISABLE_BASIC: usize = 0x24;

    const UART0: u32 = 57;
    const CNTV: u32 = LOCAL_BASE + local::CNTV;

    fn chip() -> (Bcm2836Intc, Frame, Frame) {
        let (l, a) = (Frame::new(), Frame::new());
        l.w(GPU_ROUTING, 3);
        l.w(TIMER_CONTROL0, 0xff);
        let c = Bcm2836Intc::new();
        // SAFETY: both frames are live, large enough and owned by the test.
        unsafe { c.init(l.base(), a.base()) };
        (c, l, a)
    }

    #[test]
    fn the_numbering() {
        assert_eq!(local_irq(local::CNTV), 99);
        assert_eq!(local_irq(local::CNTPNS), 97);
        assert_eq!(basic_irq(0), 64);
        assert_eq!(source(57), Some(Source::Gpu(1, 25)));
        assert_eq!(source(31), Some(Source::Gpu(0, 31)));
        assert_eq!(source(71), Some(Source::Basic(7)));
        assert_eq!(source(107), Some(Source::Local(11)));
        for bad in [72, 95, 104, 108, 1023, u32::MAX] {
            assert_eq!(source(bad), None, "{bad}");
        }
    }

    #[test]
    fn init_masks_everything_and_routes_the_gpu_to_this_core() {
        let (_c, l, a) = chip();
        for off in [DISABLE1, DISABLE2, DISABLE_BASIC] {
            assert_eq!(a.r(off), u32::MAX, "{off:#x}");
        }
        assert_eq!(l.r(GPU_ROUTING), 0);
        assert_eq!(l.r(TIMER_CONTROL0), 0);
        assert_eq!(l.r(MAILBOX_CONTROL0), 0);
    }

    #[test]
    fn enable_and_disable_write_the_right_register_and_bit() {
        let (c, l, a) = chip();
        c.enable(UART0);
        assert_eq!(a.r(ENABLE2), 1 << 25);
        c.enable(3);
        assert_eq!(a.r(ENABLE1), 1 << 3);
        c.enable(basic_irq(1));
        assert_eq!(a.r(ENABLE_BASIC), 1 << 1);
        c.disable(UART0);
        assert_eq!(a.r(DISABLE2), 1 << 25);
        c.disable(3);
        assert_eq!(a.r(DISABLE1), 1 << 3);
        c.disable(basic_irq(1));
        assert_eq!(a.r(DISABLE_BASIC), 1 << 1);

        c.enable(CNTV);
        c.enable(local_irq(local::CNTPNS));
        assert_eq!(l.r(TIMER_CONTROL0), 0b1010);
        c.disable(CNTV);
        assert_eq!(l.r(TIMER_CONTROL0), 0b0010);
        c.enable(local_irq(local::MAILBOX0 + 2));
        assert_eq!(l.r(MAILBOX_CONTROL0), 1 << 2);
        c.enable(local_irq(local::PMU));
        assert_eq!(l.r(PMU_SET), 1);
        c.disable(local_irq(local::PMU));
        assert_eq!(l.r(PMU_CLEAR), 1);
        l.w(LOCAL_TIMER_ROUTING, 7);
        c.enable(local_irq(local::LOCAL_TIMER));
        assert_eq!(l.r(LOCAL_TIMER_ROUTING), 0);
        assert_eq!(l.r(LOCAL_TIMER_CONTROL), 1 << 29);
        c.disable(local_irq(local::LOCAL_TIMER));
        assert_eq!(l.r(LOCAL_TIMER_CONTROL), 0);
        l.w(AXI_IRQ, 0x10_0000 | 5);
        c.disable(local_irq(local::AXI));
        assert_eq!(l.r(AXI_IRQ), 0);
    }

    #[test]
    fn numbers_outside_the_space_touch_nothing() {
        let (c, l, a) = chip();
        let before = (l.0.clone(), a.0.clone());
        for id in [72, 95, local_irq(local::GPU), 108, 1023] {
            c.enable(id);
            c.disable(id);
        }
        assert_eq!((l.0.clone(), a.0.clone()), before);
    }

    #[test]
    fn the_timer_comes_from_the_core_source_register() {
        let (c, l, _a) = chip();
        c.enable(CNTV);
        l.w(IRQ_SOURCE0, 1 << local::CNTV);
        assert_eq!(c.ack(), Some(CNTV));
        // Before the GPU's interrupt, which comes once the timer is serviced.
        c.enable(UART0);
        l.w(IRQ_SOURCE0, (1 << local::CNTV) | (1 << local::GPU));
        assert_eq!(c.ack(), Some(CNTV));
        l.w(IRQ_SOURCE0, 0);
        assert_eq!(c.ack(), None);
    }

    #[test]
    fn the_uart_is_found_in_pending_2_as_qemu_reports_it() {
        let (c, l, a) = chip();
        c.enable(UART0);
        l.w(IRQ_SOURCE0, 1 << local::GPU);
        // What QEMU showed (rpi3b-research 6.5): basic bits 19 (shortcut) and 9, pending 2 bit 25.
        a.w(BASIC_PENDING, 0x80200);
        a.w(PENDING2, 1 << 25);
        assert_eq!(c.ack(), Some(UART0));
    }

    #[test]
    fn a_shortcut_interrupt_without_the_summary_bit_is_still_found() {
        // Real hardware: the shortcut bit (19 for GPU 57) but not bit 9.
        let (c, l, a) = chip();
        c.enable(UART0);
        l.w(IRQ_SOURCE0, 1 << local::GPU);
        a.w(BASIC_PENDING, 1 << 19);
        a.w(PENDING2, 1 << 25);
        assert_eq!(c.ack(), Some(UART0));
    }

    #[test]
    fn pending_1_then_pending_2_then_the_basic_interrupts() {
        let (c, l, a) = chip();
        for id in [9, UART0, basic_irq(0)] {
            c.enable(id);
        }
        l.w(IRQ_SOURCE0, 1 << local::GPU);
        a.w(PENDING1, 1 << 9);
        a.w(PENDING2, 1 << 25);
        a.w(BASIC_PENDING, 1 | (1 << 8) | (1 << 9));
        assert_eq!(c.ack(), Some(9));
        a.w(PENDING1, 0);
        assert_eq!(c.ack(), Some(UART0));
        a.w(PENDING2, 0);
        assert_eq!(c.ack(), Some(basic_irq(0)));
        a.w(BASIC_PENDING, 1 << 8); // a summary bit alone names nothing
        assert_eq!(c.ack(), None);
    }

    #[test]
    fn what_is_not_enabled_is_never_claimed() {
        let (c, l, a) = chip();
        c.enable(UART0);
        l.w(
            IRQ_SOURCE0,
            (1 << local::GPU) | (1 << local::CNTPNS) | (1 << 12),
        );
        a.w(PENDING1, 1 << 3);
        a.w(PENDING2, 1 << 25);
        a.w(BASIC_PENDING, 1 << 2);
        assert_eq!(c.ack(), Some(UART0));
        c.disable(UART0);
        assert_eq!(c.ack(), None);
    }

    #[test]
    fn decode_alone() {
        assert_eq!(decode_armctrl([0, 0], 0, u64::MAX, 0xff), None);
        assert_eq!(decode_armctrl([0, 1 << 31], 0, u64::MAX, 0xff), Some(63));
        assert_eq!(decode_armctrl([1, 1], 0, 1 << 32, 0), Some(32));
        assert_eq!(decode_armctrl([0, 0], 0xfff00, u64::MAX, 0xff), None);
        assert_eq!(decode_armctrl([0, 0], 0x80, u64::MAX, 0xff), Some(71));
    }

    /// Only the UART is known; USB (GPU 9) was enabled by mistake and its line stays up.
    struct OnlyUart(Vec<u32>, Vec<u32>);

    impl IrqHandler for OnlyUart {
        fn handle(&mut self, id: u32) -> bool {
            self.0.push(id);
            id == UART0
        }
        fn unhandled(&mut self, id: u32) {
            self.1.push(id);
        }
    }

    #[test]
    fn an_unknown_gpu_interrupt_is_reported_once_and_masked() {
        let (c, l, a) = chip();
        c.enable(9);
        l.w(IRQ_SOURCE0, 1 << local::GPU);
        // The fake does not clear pending on disable: the driver's own mask must hold.
        a.w(PENDING1, 1 << 9);
        let mut h = OnlyUart(Vec::new(), Vec::new());
        for _ in 0..50 {
            dispatch(&c, 4, &mut h);
        }
        assert_eq!(h.1, [9]);
        assert_eq!(a.r(DISABLE1), 1 << 9);
        assert_eq!(c.ack(), None);
    }
}
