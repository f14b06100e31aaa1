//! Host stand-in for the architecture layer: mappings kept in maps instead of translation
//! tables, a settable clock, and a console that records what was written.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::vec::Vec;

use crate::pgalloc::PageAlloc;
use crate::phys::{Pa, PAGE_SIZE};
use crate::up::{Access, AddrEnv, Arch, Prot, TrapFrame};
use abi::Errno;

#[derive(Clone, Copy, Debug)]
pub struct Map {
    pub pa: Pa,
    pub prot: Prot,
    pub owned: bool,
}

#[derive(Default)]
pub struct Inner {
    /// root -> (page va -> mapping)
    pub spaces: BTreeMap<Pa, BTreeMap<usize, Map>>,
    pub now: u64,
    pub deadline: Option<u64>,
    pub console: Vec<u8>,
    pub selected: Option<AddrEnv>,
    pub shmat_calls: Vec<(usize, usize)>,
    /// `up_shmat`'s `runs` per call, by its address: blocks the kernel vouched for (each one
    /// checked to be a run when the call is made).
    pub shmat_runs: Vec<(usize, u64)>,
    pub tls: u64,
    /// The modelled FP/SIMD registers, whether user code may use them, and how many times
    /// that setting was written.
    pub fp: crate::up::FpState,
    pub fp_on: bool,
    pub fp_writes: usize,
    /// Bytes the fake UART takes per `console_tx` call (None: all), to model a slow one.
    pub tx_room: Option<usize>,
    pub tx_irq: bool,
    /// Make `up_shmat` fail with ENOMEM after this many more calls.
    pub shmat_fails_after: Option<usize>,
    /// `up_shmat_fast` declines every call (the kernel's full paths only).
    pub no_fast: bool,
    /// Calls `up_shmat_fast` took.
    pub fast_maps: usize,
}

#[derive(Default)]
pub struct FakeArch {
    pub inner: Mutex<Inner>,
}

impl FakeArch {
    pub fn leak() -> &'static FakeArch {
        std::boxed::Box::leak(std::boxed::Box::default())
    }
    pub fn advance(&self, ns: u64) {
        self.inner.lock().unwrap().now += ns;
    }
    pub fn console(&self) -> std::string::String {
        std::string::String::from_utf8_lossy(&self.inner.lock().unwrap().console).into_owned()
    }
    pub fn mapping(&self, env: &AddrEnv, va: usize) -> Option<Map> {
        self.inner
            .lock()
            .unwrap()
            .spaces
            .get(&env.root)?
            .get(&(va & !(PAGE_SIZE - 1)))
            .copied()
    }
}

impl Arch for FakeArch {
    fn addrenv_create(&self, pg: &mut PageAlloc, asid: u16) -> Result<AddrEnv, Errno> {
        // The fake's own bookkeeping allocates; only the kernel's allocations may fail.
        crate::robust_tests::with_heap(|| {
            let root = pg.alloc_zeroed().ok_or(Errno::ENOMEM)?;
            self.inner
                .lock()
                .unwrap()
                .spaces
                .insert(root, BTreeMap::new());
            Ok(AddrEnv { root, asid })
        })
    }
    fn addrenv_destroy(&self, env: &AddrEnv, pg: &mut PageAlloc) {
        let space = self
            .inner
            .lock()
            .unwrap()
            .spaces
            .remove(&env.root)
            .expect("live env");
        for m in space.values().filter(|m| m.owned) {
            pg.free_page(m.pa);
        }
        pg.free_page(env.root);
    }
    fn addrenv_destroy_some(&self, env: &AddrEnv, pg: &mut PageAlloc, _budget: usize) -> bool {
        self.addrenv_destroy(env, pg);
        true
    }
    fn addrenv_select(&self, env: Option<&AddrEnv>) {
        self.inner.lock().unwrap().selected = env.copied();
    }
    fn addrenv_table_pages(&self, _env: &AddrEnv) -> usize {
        1
    }
    fn map_pages(
        &self,
        env: &AddrEnv,
        _pg: &mut PageAlloc,
        va: usize,
        pages: &[Pa],
        prot: Prot,
        owned: bool,
    ) -> Result<(), Errno> {
        // The fake's own bookkeeping allocates; only the kernel's allocations may fail.
        crate::robust_tests::with_heap(|| {
            let mut g = self.inner.lock().unwrap();
            let space = g.spaces.get_mut(&env.root).expect("live env");
            if (0..pages.len()).any(|i| space.contains_key(&(va + i * PAGE_SIZE))) {
                return Err(Errno::EINVAL);
            }
            for (i, &pa) in pages.iter().enumerate() {
                space.insert(va + i * PAGE_SIZE, Map { pa, prot, owned });
            }
            Ok(())
        })
    }
    fn unmap_pages(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
        let mut g = self.inner.lock().unwrap();
        let space = g.spaces.get_mut(&env.root).expect("live env");
        for i in 0..npages {
            if let Some(m) = space.remove(&(va + i * PAGE_SIZE)) {
                if m.owned {
                    pg.free_page(m.pa);
                }
            }
        }
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
        // A block the kernel vouches for must be one: 512 contiguous pages from a 2 MiB
        // boundary (the real tables would map whatever it says as one block).
        const RUN: usize = 512;
        for (k, c) in pages.chunks(RUN).enumerate().take(64) {
            if runs >> k & 1 != 0 {
                assert!(
                    c.len() == RUN
                        && c[0].is_multiple_of(RUN * PAGE_SIZE)
                        && c.iter()
                            .enumerate()
                            .all(|(j, &p)| p == c[0] + j * PAGE_SIZE),
                    "block {k} of the map at {va:#x} is not a run"
                );
            }
        }
        // The fake's own bookkeeping allocates; only the kernel's allocations may fail.
        crate::robust_tests::with_heap(|| {
            {
                let mut g = self.inner.lock().unwrap();
                g.shmat_calls.push((va, pages.len()));
                g.shmat_runs.push((va, runs));
                if let Some(n) = g.shmat_fails_after.as_mut() {
                    if *n == 0 {
                        return Err(Errno::ENOMEM);
                    }
                    *n -= 1;
                }
            }
            let prot = if rdonly { Prot::Read } else { Prot::ReadWrite };
            self.map_pages(env, pg, va, pages, prot, false)
        })
    }
    /// As the translation tables do: only inside one 2 MiB block (an L3 table's span) that
    /// already has a page mapped (the table exists), with none of the pages in use.
    fn up_shmat_fast(&self, env: &AddrEnv, pages: &[Pa], va: usize, rdonly: bool) -> bool {
        const SPAN: usize = 512 * PAGE_SIZE;
        crate::robust_tests::with_heap(|| {
            let mut g = self.inner.lock().unwrap();
            if g.no_fast || g.shmat_fails_after.is_some() || pages.is_empty() {
                return false;
            }
            let end = va + pages.len() * PAGE_SIZE;
            let block = va & !(SPAN - 1);
            if end > block + SPAN {
                return false;
            }
            let space = g.spaces.get_mut(&env.root).expect("live env");
            let table = space.range(block..block + SPAN).next().is_some();
            if !table || space.range(va..end).next().is_some() {
                return false;
            }
            let prot = if rdonly { Prot::Read } else { Prot::ReadWrite };
            for (i, &pa) in pages.iter().enumerate() {
                space.insert(
                    va + i * PAGE_SIZE,
                    Map {
                        pa,
                        prot,
                        owned: false,
                    },
                );
            }
            g.shmat_calls.push((va, pages.len()));
            g.fast_maps += 1;
            true
        })
    }
    fn up_shmdt(&self, env: &AddrEnv, pg: &mut PageAlloc, va: usize, npages: usize) {
        self.unmap_pages(env, pg, va, npages)
    }
    fn protect(
        &self,
        env: &AddrEnv,
        _pg: &mut PageAlloc,
        va: usize,
        npages: usize,
        prot: Prot,
    ) -> Result<(), Errno> {
        let mut g = self.inner.lock().unwrap();
        let space = g.spaces.get_mut(&env.root).expect("live env");
        for i in 0..npages {
            if let Some(m) = space.get_mut(&(va + i * PAGE_SIZE)) {
                m.prot = prot;
            }
        }
        Ok(())
    }
    fn translate(&self, env: &AddrEnv, va: usize, access: Access) -> Option<Pa> {
        let m = self.mapping(env, va)?;
        if m.prot == Prot::None || access == Access::Write && m.prot != Prot::ReadWrite {
            return None;
        }
        Some(m.pa + va % PAGE_SIZE)
    }
    fn user_frame(&self, frame: &mut TrapFrame, entry: usize, sp: usize, a0: usize, a1: usize) {
        *frame = TrapFrame::default();
        frame.pc = entry as u64;
        frame.sp = sp as u64;
        frame.x[0] = a0 as u64;
        frame.x[1] = a1 as u64;
    }
    fn user_tls(&self) -> u64 {
        self.inner.lock().unwrap().tls
    }
    fn set_user_tls(&self, v: u64) {
        self.inner.lock().unwrap().tls = v;
    }
    fn fp_enable(&self, on: bool) {
        let mut i = self.inner.lock().unwrap();
        i.fp_on = on;
        i.fp_writes += 1;
    }
    fn fp_save(&self, st: &mut crate::up::FpState) {
        *st = self.inner.lock().unwrap().fp;
    }
    fn fp_load(&self, st: &crate::up::FpState) {
        self.inner.lock().unwrap().fp = *st;
    }
    fn max_masked_ns(&self, _reset: bool) -> u64 {
        0
    }
    fn now_ns(&self) -> u64 {
        self.inner.lock().unwrap().now
    }
    fn set_deadline(&self, ns: Option<u64>) {
        self.inner.lock().unwrap().deadline = ns;
    }
    fn rtc_seconds(&self) -> u64 {
        1_700_000_000
    }
    fn console_tx(&self, bytes: &[u8]) -> usize {
        crate::robust_tests::with_heap(|| {
            let mut g = self.inner.lock().unwrap();
            let n = g.tx_room.map_or(bytes.len(), |r| r.min(bytes.len()));
            g.console.extend_from_slice(&bytes[..n]);
            n
        })
    }
    fn console_tx_irq(&self, on: bool) {
        self.inner.lock().unwrap().tx_irq = on;
    }
    fn poweroff(&self, code: i32) -> ! {
        panic!("poweroff {code}")
    }
    fn reboot(&self) -> ! {
        panic!("reboot")
    }
}
