//! Kernel address space (upper half, TTBR1) and user address environments (TTBR0 + ASID),
//! with the TLB maintenance that goes with changing them.

use core::arch::asm;

use crate::ttbl::{self, Tree};
use abi::Errno;
use kernel::pgalloc::PageAlloc;
use kernel::phys::Pa;
use kernel::up::{Access, AddrEnv, Prot};

/// Kernel virtual address = physical address + KOFF (the bottom of the TTBR1 range).
pub const KOFF: usize = 0xffff_ff80_0000_0000;

/// Above this many leaf mappings an unmap drops the whole ASID instead of VA by VA.
const TLBI_VA_LIMIT: usize = 256;

#[repr(C, align(4096))]
struct EmptyTable([u64; 512]);
/// TTBR0 root while no user address space is selected: maps nothing.
static EMPTY_L1: EmptyTable = EmptyTable([0; 512]);

fn empty_root() -> Pa {
    &EMPTY_L1 as *const EmptyTable as usize - KOFF
}

fn dsb_ishst() {
    // SAFETY: barrier only.
    unsafe { asm!("dsb ishst", options(nostack, preserves_flags)) }
}
fn dsb_ish_isb() {
    // SAFETY: barriers only.
    unsafe { asm!("dsb ish", "isb", options(nostack, preserves_flags)) }
}

/// Kernel image layout (physical), from the linker script.
pub struct KernelLayout {
    pub image_start: Pa,
    pub text_end: Pa,
    pub rodata_end: Pa,
}

/// Build the final kernel map (W^X: text RX, rodata RO, everything else RW + XN, and the
/// board's device windows `devices` (physical start, length) as device memory) and switch
/// TTBR1 to it; TTBR0 is emptied.
pub fn init_kernel_map(
    pg: &mut PageAlloc,
    ram: (Pa, usize),
    devices: &[(Pa, usize)],
    k: &KernelLayout,
) -> Result<usize, Errno> {
    let mut t = Tree::new(pg)?;
    let (ram_start, ram_end) = (ram.0, ram.0 + ram.1);
    for &(pa, len) in devices {
        map_devices(&mut t, pg, pa, len)?;
    }
    let rw = ttbl::kernel_attrs(true, false);
    let parts = [
        (ram_start, k.image_start, rw),
        (k.image_start, k.text_end, ttbl::kernel_attrs(false, true)),
        (k.text_end, k.rodata_end, ttbl::kernel_attrs(false, false)),
        (k.rodata_end, ram_end, rw),
    ];
    for (s, e, a) in parts {
        if e > s {
            t.map_kernel_range(pg, KOFF + s, s, e - s, a)?;
        }
    }
    dsb_ishst();
    // SAFETY: the new tables map the kernel exactly where the boot tables did, so execution
    // continues; the TLB is flushed right after the switch.
    unsafe {
        asm!(
            "msr ttbr1_el1, {t1}",
            "msr ttbr0_el1, {t0}",
            "isb",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            t1 = in(reg) t.root,
            t0 = in(reg) empty_root(),
            options(nostack)
        )
    }
    Ok(t.table_pages())
}

/// Map a device window at KOFF + pa: whole GiBs as 1 GiB blocks, the rest with the largest
/// blocks that fit.
fn map_devices(t: &mut Tree, pg: &mut PageAlloc, pa: Pa, len: usize) -> Result<(), Errno> {
    let (mut pa, end) = (pa, pa + len);
    while pa < end {
        if pa.is_multiple_of(ttbl::L1_BLOCK) && end - pa >= ttbl::L1_BLOCK {
            t.map_l1_block(KOFF + pa, pa, ttbl::DEVICE_ATTRS);
            pa += ttbl::L1_BLOCK;
        } else {
            let n = (end - pa).min(ttbl::L1_BLOCK - pa % ttbl::L1_BLOCK);
            t.map_kernel_range(pg, KOFF + pa, pa, n, ttbl::DEVICE_ATTRS)?;
            pa += n;
        }
    }
    Ok(())
}

pub fn addrenv_create(pg: &mut PageAlloc, asid: u16) -> Result<AddrEnv, Errno> {
    Ok(AddrEnv {
        root: Tree::new(pg)?.root,
        asid,
    })
}

pub fn select(env: Option<&AddrEnv>) {
    let v = match env {
        Some(e) => e.root | ((e.asid as usize) << 48),
        None => empty_root(),
    };
    // SAFETY: switching the user half only; kernel mappings are untouched. ASIDs keep TLB
    // entries of different processes apart, so no flush is needed.
    unsafe { asm!("msr ttbr0_el1, {}", "isb", in(reg) v, options(nostack)) }
}

fn tlbi_asid(asid: u16) {
    // SAFETY: TLB maintenance for one ASID.
    unsafe { asm!("tlbi aside1is, {}", in(reg) (asid as usize) << 48, options(nostack)) }
}

pub fn addrenv_destroy(env: &AddrEnv, pg: &mut PageAlloc) {
    while !addrenv_destroy_some(env, pg, usize::MAX) {}
}

/// Tear an address space down for about `budget` pages' worth of work; true when it is
/// gone. Until then its ASID stays reserved and TTBR0 never points at it again, so the TLB
/// entries and walks still tagged with it can do no harm; they are dropped at the end.
pub fn addrenv_destroy_some(env: &AddrEnv, pg: &mut PageAlloc, budget: usize) -> bool {
    // Never leave TTBR0 pointing at tables about to be freed (a task may destroy another's
    // space and keep running in its own).
    let live: usize;
    // SAFETY: reading TTBR0_EL1 has no side effects.
    unsafe { asm!("mrs {}, ttbr0_el1", out(reg) live, options(nostack)) };
    if live & ttbl::desc::ADDR as usize == env.root {
        select(None);
    }
    if !(Tree { root: env.root }).destroy_some(pg, budget) {
        return false;
    }
    dsb_ishst();
    tlbi_asid(env.asid);
    dsb_ish_isb();
    true
}

pub fn map(
    env: &AddrEnv,
    pg: &mut PageAlloc,
    va: usize,
    pages: &[Pa],
    prot: Prot,
    owned: bool,
    runs: u64,
) -> Result<(), Errno> {
    let mut t = Tree { root: env.root };
    let attrs = prot_attrs(prot, owned);
    if !t.map_in_table(va, pages, attrs) {
        t.map(pg, va, pages, attrs, runs)?;
    }
    // New entries replace invalid ones, so only ordering is needed before user access.
    dsb_ishst();
    Ok(())
}

fn prot_attrs(prot: Prot, owned: bool) -> u64 {
    match prot {
        Prot::None => ttbl::user_none_attrs(owned),
        Prot::Read => ttbl::user_attrs(false, false, owned),
        Prot::ReadWrite => ttbl::user_attrs(true, false, owned),
        Prot::ReadExec => ttbl::user_attrs(false, true, owned),
    }
}

/// Change the access of what is mapped in a range (mprotect), then invalidate it by VA and
/// ASID (the whole ASID past TLBI_VA_LIMIT entries).
pub fn protect(
    env: &AddrEnv,
    pg: &mut PageAlloc,
    va: usize,
    npages: usize,
    prot: Prot,
) -> Result<(), Errno> {
    let mut t = Tree { root: env.root };
    let mut runs: heapless::Vec<(usize, usize, usize), 32> = heapless::Vec::new();
    let mut total = 0;
    let mut whole_asid = false;
    let r = t.protect(
        pg,
        va,
        npages,
        prot_attrs(prot, false),
        &mut |v, n, step| {
            total += n;
            if total > TLBI_VA_LIMIT || runs.push((v, n, step)).is_err() {
                whole_asid = true;
            }
        },
    );
    dsb_ishst();
    invalidate(env.asid, &runs, whole_asid);
    r
}

/// NuttX `up_shmat`: map a list of shared physical pages at `va` in `env` (user, non-global,
/// execute-never, RW or RO). Aligned contiguous 2 MiB runs become block descriptors (`runs`:
/// the blocks known to be such runs, as `Tree::map` takes them).
pub fn up_shmat(
    env: &AddrEnv,
    pg: &mut PageAlloc,
    pages: &[Pa],
    va: usize,
    rdonly: bool,
    runs: u64,
) -> Result<(), Errno> {
    let prot = if rdonly { Prot::Read } else { Prot::ReadWrite };
    map(env, pg, va, pages, prot, false, runs)
}

/// `up_shmat`'s fast path: the pages go into one L3 table that exists, at entries not in
/// use; false when that does not apply (nothing changed).
#[inline]
pub fn up_shmat_fast(env: &AddrEnv, pages: &[Pa], va: usize, rdonly: bool) -> bool {
    let attrs = ttbl::user_attrs(!rdonly, false, false);
    if !(Tree { root: env.root }).map_in_table(va, pages, attrs) {
        return false;
    }
    // New entries replace invalid ones, so only ordering is needed before user access.
    dsb_ishst();
    true
}

/// NuttX `up_shmdt`: unmap `npages` shared pages at `va` (the pages themselves stay), free
/// emptied tables and invalidate the TLB by VA and ASID.
#[inline]
pub fn up_shmdt(env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
    let mut t = Tree { root: env.root };
    let fast = if npages <= TLBI_VA_LIMIT {
        t.unmap_in_table(va, npages)
    } else {
        None
    };
    match fast {
        // Kept out of line: its bookkeeping frame is large, and the common detach needs
        // none of it.
        None => return unmap_inner(env, pg, va, npages, false),
        // The last entries of the L3 table went: it goes (and the L2 table if that empties
        // too); the per-page invalidation below drops their cached walks as well.
        Some(true) => t.prune(pg, va),
        Some(false) => {}
    }
    dsb_ishst();
    let mut arg = ((env.asid as usize) << 48) | (va >> 12);
    // Two pages a step: the loop's own count and branch are paid once per pair.
    for _ in 0..npages / 2 {
        // SAFETY: each invalidates every cached walk level for one VA in this ASID, inner
        // shareable.
        unsafe {
            asm!("tlbi vae1is, {0}", "add {0}, {0}, #1", "tlbi vae1is, {0}", "add {0}, {0}, #1",
                inout(reg) arg, options(nostack))
        }
    }
    if !npages.is_multiple_of(2) {
        // SAFETY: as above, for the last page.
        unsafe { asm!("tlbi vae1is, {}", in(reg) arg, options(nostack)) }
    }
    dsb_ish_isb();
}

pub fn unmap(env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
    unmap_inner(env, pg, va, npages, true)
}

#[inline(never)]
fn unmap_inner(env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize, free_owned: bool) {
    let mut t = Tree { root: env.root };
    // One invalidation per removed leaf (a 2 MiB block needs one, not 512), issued once the
    // entries are gone. Past the limit a single ASID invalidation is cheaper.
    let mut runs: heapless::Vec<(usize, usize, usize), 32> = heapless::Vec::new();
    let mut total = 0;
    let mut whole_asid = false;
    t.unmap(pg, va, npages, free_owned, &mut |v, n, step| {
        total += n;
        if total > TLBI_VA_LIMIT || runs.push((v, n, step)).is_err() {
            whole_asid = true;
        }
    });
    dsb_ishst();
    invalidate(env.asid, &runs, whole_asid);
}

/// Drop the TLB entries of `runs` (va, count, step) in `asid`, or the whole ASID; then wait
/// for it to complete.
fn invalidate(asid: u16, runs: &[(usize, usize, usize)], whole_asid: bool) {
    if whole_asid {
        tlbi_asid(asid);
    } else {
        let asid = (asid as usize) << 48;
        for &(v, n, step) in runs {
            let (mut arg, inc) = (asid | (v >> 12), step >> 12);
            for _ in 0..n {
                // SAFETY: invalidates every cached walk level for one VA in this ASID (tables
                // may have been freed or split too), inner shareable.
                unsafe { asm!("tlbi vae1is, {}", in(reg) arg, options(nostack)) }
                arg += inc;
            }
        }
    }
    dsb_ish_isb();
}

/// Software walk for the kernel's copy routines: EL0 must have the access.
pub fn translate(env: &AddrEnv, va: usize, access: Access) -> Option<Pa> {
    let leaf = Tree { root: env.root }.lookup(va)?;
    let a = leaf.attrs;
    if a & ttbl::desc::AP_EL0 == 0 || (access == Access::Write && a & ttbl::desc::AP_RO != 0) {
        return None;
    }
    Some(leaf.pa)
}

pub fn table_pages(env: &AddrEnv) -> usize {
    Tree { root: env.root }.table_pages()
}

/// `va` through the MMU's own walk (AT S1E0R / S1E0W: EL0's view, permissions included, the
/// TLB used) when `env` is the user space TTBR0 holds; None when it is another space or the
/// MMU refuses (the table walk then decides). A few instructions against a four-level walk:
/// every futex call translates its word.
#[inline]
pub fn translate_current(env: &AddrEnv, va: usize, access: Access) -> Option<Pa> {
    let ttbr: usize;
    // SAFETY: reads a system register.
    unsafe { asm!("mrs {}, ttbr0_el1", out(reg) ttbr, options(nomem, nostack, preserves_flags)) }
    if ttbr != env.root | ((env.asid as usize) << 48) {
        return None;
    }
    let par: u64;
    // SAFETY: address translation instructions only report (in PAR_EL1); they never fault.
    // Interrupts are masked, so nothing else uses PAR_EL1 in between.
    unsafe {
        match access {
            Access::Read => asm!("at s1e0r, {va}", "isb", "mrs {par}, par_el1",
                va = in(reg) va, par = out(reg) par, options(nostack, preserves_flags)),
            Access::Write => asm!("at s1e0w, {va}", "isb", "mrs {par}, par_el1",
                va = in(reg) va, par = out(reg) par, options(nostack, preserves_flags)),
        }
    }
    // PAR_EL1.F (bit 0): the translation failed. PA in bits 47:12.
    if par & 1 != 0 {
        return None;
    }
    Some((par as usize & 0x0000_ffff_ffff_f000) | (va & 0xfff))
}
