//! The aarch64 implementation of the kernel's `Arch` boundary, with the board-supplied
//! device addresses it needs.

use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::{mmu, pl011::Pl011, pl031, psci, semihosting, timer};
use aarch64_cpu::registers::{CPACR_EL1, ID_AA64ISAR0_EL1, TPIDR_EL0};
use abi::Errno;
use kernel::pgalloc::PageAlloc;
use kernel::phys::Pa;
use kernel::up::{Access, AddrEnv, Arch, Prot, TrapFrame};
use tock_registers::interfaces::{Readable, Writeable};

pub struct Aarch64 {
    uart: AtomicUsize,
    rtc: AtomicUsize,
    semihosting: AtomicBool,
    timer_irq: AtomicU32,
    uart_irq: AtomicU32,
}

pub static ARCH: Aarch64 = Aarch64 {
    uart: AtomicUsize::new(0),
    rtc: AtomicUsize::new(0),
    semihosting: AtomicBool::new(false),
    timer_irq: AtomicU32::new(27),
    uart_irq: AtomicU32::new(33),
};

/// Devices the board found (kernel addresses and interrupt ids).
pub struct Devices {
    pub uart: usize,
    pub uart_irq: u32,
    pub rtc: usize,
    pub timer_irq: u32,
    pub semihosting: bool,
}

impl Aarch64 {
    pub fn set_devices(&self, d: &Devices) {
        self.uart.store(d.uart, Ordering::Relaxed);
        self.rtc.store(d.rtc, Ordering::Relaxed);
        self.semihosting.store(d.semihosting, Ordering::Relaxed);
        self.timer_irq.store(d.timer_irq, Ordering::Relaxed);
        self.uart_irq.store(d.uart_irq, Ordering::Relaxed);
    }
    pub fn uart(&self) -> Pl011 {
        // SAFETY: the board set a mapped PL011 address before any output.
        unsafe { Pl011::new(self.uart.load(Ordering::Relaxed)) }
    }
    pub fn timer_irq(&self) -> u32 {
        self.timer_irq.load(Ordering::Relaxed)
    }
    pub fn uart_irq(&self) -> u32 {
        self.uart_irq.load(Ordering::Relaxed)
    }
    pub fn console_bytes(&self, b: &[u8]) {
        if self.uart.load(Ordering::Relaxed) != 0 {
            self.uart().write(b);
        }
    }
    pub fn semihosting(&self) -> bool {
        self.semihosting.load(Ordering::Relaxed)
    }
}

/// Stop the machine: semihosting exit with `code` when available, else PSCI off.
pub fn halt(code: i32) -> ! {
    if ARCH.semihosting() {
        semihosting::exit(code);
    }
    psci::system_off();
    loop {
        aarch64_cpu::asm::wfi();
    }
}

impl Arch for Aarch64 {
    fn addrenv_create(&self, pg: &mut PageAlloc, asid: u16) -> Result<AddrEnv, Errno> {
        mmu::addrenv_create(pg, asid)
    }
    fn addrenv_destroy(&self, env: &AddrEnv, pg: &mut PageAlloc) {
        mmu::addrenv_destroy(env, pg)
    }
    fn addrenv_destroy_some(&self, env: &AddrEnv, pg: &mut PageAlloc, budget: usize) -> bool {
        mmu::addrenv_destroy_some(env, pg, budget)
    }
    fn addrenv_select(&self, env: Option<&AddrEnv>) {
        mmu::select(env)
    }
    fn addrenv_table_pages(&self, env: &AddrEnv) -> usize {
        mmu::table_pages(env)
    }
    fn map_pages(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        va: usize,
        pages: &[Pa],
        prot: Prot,
        owned: bool,
    ) -> Result<(), Errno> {
        mmu::map(env, pg, va, pages, prot, owned)
    }
    fn unmap_pages(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
        mmu::unmap(env, pg, va, npages)
    }
    fn up_shmat(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        pages: &[Pa],
        va: usize,
        rdonly: bool,
    ) -> Result<(), Errno> {
        mmu::up_shmat(env, pg, pages, va, rdonly)
    }
    fn up_shmdt(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
        mmu::up_shmdt(env, pg, va, npages)
    }
    fn protect(
        &self,
        env: &AddrEnv,
        pg: &mut PageAlloc,
        va: usize,
        npages: usize,
        prot: Prot,
    ) -> Result<(), Errno> {
        mmu::protect(env, pg, va, npages, prot)
    }
    fn translate(&self, env: &AddrEnv, va: usize, access: Access) -> Option<Pa> {
        mmu::translate(env, va, access)
    }
    fn user_frame(&self, frame: &mut TrapFrame, entry: usize, sp: usize, a0: usize, a1: usize) {
        *frame = TrapFrame::default();
        frame.pc = entry as u64;
        frame.sp = sp as u64;
        frame.x[0] = a0 as u64;
        frame.x[1] = a1 as u64;
        frame.pstate = 0; // EL0t, interrupts unmasked
    }
    fn user_tls(&self) -> u64 {
        TPIDR_EL0.get()
    }
    fn set_user_tls(&self, v: u64) {
        TPIDR_EL0.set(v)
    }
    fn fp_enable(&self, on: bool) {
        // FPEN: 0b11 lets EL0 use FP/SIMD, 0b01 traps EL0's use (EL1 may always).
        let fpen = if on { 0b11 } else { 0b01 };
        CPACR_EL1.write(CPACR_EL1::FPEN.val(fpen));
        aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    }
    fn fp_save(&self, st: &mut kernel::up::FpState) {
        // SAFETY: `st` is a valid, 16-aligned FpState, the layout fp.S stores to; EL1 may
        // use FP/SIMD (FPEN is never 0b00 after boot).
        unsafe { crate::fp_save(st) }
    }
    fn fp_load(&self, st: &kernel::up::FpState) {
        // SAFETY: as in fp_save; only the FP/SIMD registers change.
        unsafe { crate::fp_load(st) }
    }
    fn max_masked_ns(&self, reset: bool) -> u64 {
        crate::exception::masked::max_ns(reset)
    }
    fn now_ns(&self) -> u64 {
        timer::now_ns()
    }
    fn entropy(&self) -> Option<u64> {
        if ID_AA64ISAR0_EL1.read(ID_AA64ISAR0_EL1::RNDR) == 0 {
            return None; // no FEAT_RNG (a Cortex-A53 or A76 has none)
        }
        let (v, fail): (u64, u64);
        // SAFETY: RNDR exists (checked above); it only reads the generator and sets NZCV.
        unsafe {
            core::arch::asm!("mrs {v}, s3_3_c2_c4_0", "cset {f}, eq", v = out(reg) v, f = out(reg) fail, options(nomem, nostack));
        }
        (fail == 0).then_some(v)
    }
    fn set_deadline(&self, ns: Option<u64>) {
        timer::set_deadline(ns)
    }
    fn rtc_seconds(&self) -> u64 {
        // SAFETY: the board set the PL031's kernel address.
        unsafe { pl031::read_seconds(self.rtc.load(Ordering::Relaxed)) }
    }
    fn console_tx(&self, bytes: &[u8]) -> usize {
        self.uart().tx(bytes)
    }
    fn console_tx_irq(&self, on: bool) {
        self.uart().set_tx_irq(on)
    }
    fn poweroff(&self, code: i32) -> ! {
        halt(code)
    }
    fn reboot(&self) -> ! {
        psci::system_reset();
        halt(1)
    }
}
