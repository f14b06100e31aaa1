//! The aarch64 implementation of the kernel's `Arch` boundary. What depends on the board
//! (console, interrupt numbers, clock, power) it asks the registered `Board`.

use core::sync::atomic::{AtomicBool, AtomicPtr, Ordering};

use crate::board::{Board, NoBoard};
use crate::{mmu, semihosting, timer};
use aarch64_cpu::registers::{CPACR_EL1, ID_AA64ISAR0_EL1, TPIDR_EL0};
use abi::Errno;
use kernel::pgalloc::PageAlloc;
use kernel::phys::Pa;
use kernel::up::{Access, AddrEnv, Arch, Prot, TrapFrame};
use tock_registers::interfaces::{Readable, Writeable};

/// A board reference as the board keeps it: `static BOARD: &dyn Board = &MyBoard;`.
pub type BoardRef = &'static dyn Board;

static NO_BOARD: BoardRef = &NoBoard;

pub struct Aarch64 {
    board: AtomicPtr<BoardRef>,
    semihosting: AtomicBool,
}

pub static ARCH: Aarch64 = Aarch64 {
    board: AtomicPtr::new(&NO_BOARD as *const BoardRef as *mut BoardRef),
    semihosting: AtomicBool::new(false),
};

impl Aarch64 {
    /// Register the board: first thing in its bring-up, before any output.
    pub fn set_board(&self, board: &'static BoardRef) {
        self.board
            .store(board as *const BoardRef as *mut BoardRef, Ordering::Release);
    }
    /// The registered board (a stand-in with no devices before that).
    pub fn board(&self) -> &'static dyn Board {
        // SAFETY: the pointer is always that of a `static` BoardRef: NO_BOARD or the one
        // `set_board` was given.
        unsafe { *self.board.load(Ordering::Acquire) }
    }
    /// Whether `halt` exits the emulator through semihosting (the board decides, from its
    /// boot arguments: without QEMU's flag the call would trap).
    pub fn set_semihosting(&self, on: bool) {
        self.semihosting.store(on, Ordering::Relaxed);
    }
    pub fn semihosting(&self) -> bool {
        self.semihosting.load(Ordering::Relaxed)
    }
    /// Polled console output, for messages outside the kernel's ring (boot, panic, fault).
    pub fn console_bytes(&self, b: &[u8]) {
        self.board().console().write_polled(b);
    }
}

/// Stop the machine: semihosting exit with `code` when available, else the board's power off.
pub fn halt(code: i32) -> ! {
    if ARCH.semihosting() {
        semihosting::exit(code);
    }
    ARCH.board().power_off();
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
        mmu::map(env, pg, va, pages, prot, owned, 0)
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
        runs: u64,
    ) -> Result<(), Errno> {
        mmu::up_shmat(env, pg, pages, va, rdonly, runs)
    }
    fn up_shmat_fast(&self, env: &AddrEnv, pages: &[Pa], va: usize, rdonly: bool) -> bool {
        mmu::up_shmat_fast(env, pages, va, rdonly)
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
        mmu::translate_current(env, va, access).or_else(|| mmu::translate(env, va, access))
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
    fn user_switch(&self, env: Option<&AddrEnv>, tls: Option<u64>) -> u64 {
        let old = TPIDR_EL0.get();
        mmu::select(env);
        if let Some(v) = tls.filter(|&v| v != old) {
            TPIDR_EL0.set(v);
        }
        old
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
    fn ticks(&self) -> u64 {
        timer::ticks()
    }
    fn tick_hz(&self) -> u64 {
        timer::freq()
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
        self.board().rtc_seconds()
    }
    fn console_tx(&self, bytes: &[u8]) -> usize {
        self.board().console().tx(bytes)
    }
    fn console_tx_irq(&self, on: bool) {
        self.board().console().set_tx_irq(on)
    }
    fn poweroff(&self, code: i32) -> ! {
        halt(code)
    }
    fn reboot(&self) -> ! {
        self.board().reboot();
        halt(1)
    }
}
