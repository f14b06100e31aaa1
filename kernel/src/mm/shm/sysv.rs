//! The System V front end on the shared-memory object: shmget/shmat/shmdt/shmctl,
//! per-process attach windows, exit auto-detach.
//!
//! Project choices where POSIX and Linux differ (see README): a segment marked by IPC_RMID
//! refuses new shmat and shmctl by id (EINVAL) but stays visible to SHM_STAT with SHM_DEST;
//! its key is free at once and its pages go when the last attachment does. Ids carry a
//! sequence number, so a stale id never reaches a newer segment.

use super::object::{ShmObj, BLOCK_PAGES};
use crate::phys::PAGE_SIZE;
use crate::sched::wait::{WaitId, WaitQueue};
use crate::task::Attach;
use crate::up::Access;
use crate::work::Work;
use crate::{uaccess, Kernel};
use abi::layout::{
    SHM_WINDOW, SHM_WINDOW_END, STACK_GUARD, USER_END, USER_HEAP, USER_HEAP_MAX, USER_MIN,
    USER_STACK_TOP,
};
use abi::shm::*;
use abi::Errno;

type R = Result<isize, Errno>;

/// Pages mapped per step of a large shmat (a multiple of BLOCK_PAGES, so runs stay whole).
pub const STEP_MAP: usize = 1024;
/// Pages unmapped per step of a large shmdt.
pub const STEP_UNMAP: usize = 2048;
const BLOCK: usize = BLOCK_PAGES * PAGE_SIZE;

/// A System V segment: the object plus its `shmid_ds` bookkeeping.
pub struct Segment {
    pub obj: ShmObj,
    pub key: i32,
    pub uid: u32,
    pub gid: u32,
    pub cuid: u32,
    pub cgid: u32,
    /// Low nine permission bits.
    pub mode: u32,
    pub segsz: usize,
    pub atime: i64,
    pub dtime: i64,
    pub ctime: i64,
    pub cpid: i32,
    pub lpid: i32,
    pub nattch: usize,
    /// Marked by IPC_RMID: destroyed when the last attachment goes.
    pub dest: bool,
    /// Still being built by shmget: invisible, but its key is taken.
    pub creating: bool,
    /// shmget calls for its key waiting until it is built.
    pub busy: WaitQueue,
}

/// The id table: SHMMNI slots, each with a sequence number that changes whenever its segment
/// is destroyed.
pub struct ShmTable {
    /// On the heap: the table is too big for the boot stack the kernel is built on.
    slots: alloc::boxed::Box<[Option<Segment>]>,
    seq: [u32; SHMMNI],
    /// Pages held by all segments (bounded by SHMALL).
    pub pages: usize,
}

/// Ids are `seq * SHMMNI + slot`; seq wraps before the id would leave the positive i32 range.
const SEQ_LIMIT: u32 = (i32::MAX as usize / SHMMNI) as u32;

impl Default for ShmTable {
    fn default() -> Self {
        Self::new()
    }
}

impl ShmTable {
    pub fn new() -> ShmTable {
        ShmTable {
            slots: (0..SHMMNI).map(|_| None).collect(),
            seq: [0; SHMMNI],
            pages: 0,
        }
    }

    fn id(&self, slot: usize) -> i32 {
        (self.seq[slot] as usize * SHMMNI + slot) as i32
    }

    /// The live (not removed) segment with this id.
    fn lookup(&self, id: i32) -> Result<usize, Errno> {
        if id < 0 {
            return Err(Errno::EINVAL);
        }
        let (slot, seq) = (id as usize % SHMMNI, id as usize / SHMMNI);
        match &self.slots[slot] {
            Some(s) if self.seq[slot] as usize == seq && !s.dest && !s.creating => Ok(slot),
            _ => Err(Errno::EINVAL),
        }
    }

    pub fn get(&self, slot: usize) -> Option<&Segment> {
        self.slots[slot].as_ref()
    }

    pub fn get_mut(&mut self, slot: usize) -> Option<&mut Segment> {
        self.slots.get_mut(slot)?.as_mut()
    }

    fn seg(&mut self, slot: usize) -> &mut Segment {
        self.slots[slot].as_mut().expect("live segment")
    }

    /// Segments in use (removed-but-attached ones included).
    pub fn used(&self) -> usize {
        self.slots.iter().flatten().filter(|s| !s.creating).count()
    }

    fn highest(&self) -> usize {
        self.slots
            .iter()
            .rposition(|s| s.as_ref().is_some_and(|s| !s.creating))
            .unwrap_or(0)
    }

    /// Remove the segment; its pages go to the reclaim queue (freed in steps).
    fn destroy(
        &mut self,
        slot: usize,
        pg: &mut crate::pgalloc::PageAlloc,
        reclaim: &mut crate::work::Reclaim,
    ) {
        if let Some(s) = self.slots[slot].take() {
            self.pages -= s.obj.npages();
            reclaim.push(s.obj.into_pages(), pg);
            self.seq[slot] = (self.seq[slot] + 1) % SEQ_LIMIT;
        }
    }

    fn ds(&self, slot: usize) -> ShmidDs {
        let s = self.slots[slot].as_ref().expect("live segment");
        ShmidDs {
            shm_perm: IpcPerm {
                key: s.key,
                uid: s.uid,
                gid: s.gid,
                cuid: s.cuid,
                cgid: s.cgid,
                mode: s.mode | if s.dest { SHM_DEST } else { 0 },
                seq: self.seq[slot] as u16,
                ..Default::default()
            },
            shm_segsz: s.segsz as u64,
            shm_atime: s.atime,
            shm_dtime: s.dtime,
            shm_ctime: s.ctime,
            shm_cpid: s.cpid,
            shm_lpid: s.lpid,
            shm_nattch: s.nattch as u64,
            ..Default::default()
        }
    }
}

/// IPC permission check (Linux `ipcperms`): `req` holds rwx bits in any of the three
/// positions; root (uid 0) is always allowed.
fn perm_ok(s: &Segment, uid: u32, gid: u32, req: u32) -> bool {
    if uid == 0 {
        return true;
    }
    let req = (req >> 6 | req >> 3 | req) & 7;
    let granted = if uid == s.uid || uid == s.cuid {
        s.mode >> 6
    } else if gid == s.gid || gid == s.cgid {
        s.mode >> 3
    } else {
        s.mode
    };
    req & !granted & 7 == 0
}

fn overlaps(a: usize, alen: usize, b: usize, blen: usize) -> bool {
    a < b + blen && b < a + alen
}

/// The highest free place in a process's attach window (top-down first fit) for `len` bytes,
/// given its attachments; segments of 2 MiB or more start on a 2 MiB boundary so their aligned
/// runs map as blocks. ENOMEM when no hole is big enough.
pub fn window_place(attach: &[Attach], len: usize) -> Result<usize, Errno> {
    let align = if len >= BLOCK { BLOCK } else { PAGE_SIZE };
    let Some(mut va) = SHM_WINDOW_END.checked_sub(len) else {
        return Err(Errno::ENOMEM);
    };
    loop {
        va &= !(align - 1);
        if va < SHM_WINDOW {
            return Err(Errno::ENOMEM);
        }
        match attach
            .iter()
            .filter(|a| overlaps(va, len, a.va, a.npages * PAGE_SIZE))
            .map(|a| a.va)
            .min()
        {
            None => return Ok(va),
            Some(below) => match below.checked_sub(len) {
                Some(v) => va = v,
                None => return Err(Errno::ENOMEM),
            },
        }
    }
}

/// Ranges an explicit attach address may not touch: the heap's reserve and the stack with
/// its guard gap (the program image is caught by the mapping itself).
const RESERVED: [(usize, usize); 2] = [
    (USER_HEAP, USER_HEAP_MAX),
    (STACK_GUARD, USER_STACK_TOP - STACK_GUARD),
];

impl Kernel {
    pub fn sys_shmget(&mut self, me: usize, key: i32, size: usize, flg: i32) -> R {
        let (uid, gid, pid) = {
            let t = self.task(me);
            (t.uid, t.gid, t.pid)
        };
        if key != IPC_PRIVATE {
            let found =
                (0..SHMMNI).find(|&i| self.shm.get(i).is_some_and(|s| !s.dest && s.key == key));
            if let Some(slot) = found {
                if self.shm.get(slot).is_some_and(|s| s.creating) {
                    // Another process is still building this key's segment: wait for it,
                    // then look again.
                    if let Some(r) = self.wait_on(WaitId::ShmBusy(slot as u16), None) {
                        return r;
                    }
                    self.deferred = true;
                    return Ok(0);
                }
                // Linux's order: EEXIST, then the size, then permission.
                if flg & IPC_CREAT != 0 && flg & IPC_EXCL != 0 {
                    return Err(Errno::EEXIST);
                }
                let s = self.shm.get(slot).expect("found");
                if size > s.segsz {
                    return Err(Errno::EINVAL);
                }
                if !perm_ok(s, uid, gid, (flg & 0o777) as u32) {
                    return Err(Errno::EACCES);
                }
                return Ok(self.shm.id(slot) as isize);
            }
            if flg & IPC_CREAT == 0 {
                return Err(Errno::ENOENT);
            }
        }
        if !(SHMMIN..=SHMMAX).contains(&size) {
            return Err(Errno::EINVAL);
        }
        let slot = (0..SHMMNI)
            .find(|&i| self.shm.get(i).is_none())
            .ok_or(Errno::ENOSPC)?;
        let npages = size.div_ceil(PAGE_SIZE);
        if self.shm.pages + npages > SHMALL {
            return Err(Errno::ENOMEM);
        }
        let obj = ShmObj::with_capacity(npages)?;
        self.shm.pages += npages;
        self.shm.slots[slot] = Some(Segment {
            obj,
            key,
            uid,
            gid,
            cuid: uid,
            cgid: gid,
            mode: (flg & 0o777) as u32,
            segsz: size,
            atime: 0,
            dtime: 0,
            ctime: 0,
            cpid: pid,
            lpid: 0,
            nattch: 0,
            dest: false,
            creating: true,
            busy: WaitQueue::new(),
        });
        crate::ktrace!(
            "shmget key={=i32} size={=usize} -> slot {=usize}",
            key,
            size,
            slot
        );
        // The pages are allocated and zeroed in steps, as kernel work of this call.
        match self.shm_create_step(me, slot) {
            Some(r) => r,
            None => {
                self.deferred = true;
                Ok(0)
            }
        }
    }

    /// One step of building segment `slot` for task `me`: Some(result) when shmget is done.
    pub(crate) fn shm_create_step(&mut self, me: usize, slot: usize) -> Option<R> {
        let seg = self.shm.slots[slot].as_mut().expect("segment being built");
        match seg.obj.fill(&mut self.pg, crate::work::STEP_ZERO) {
            Ok(false) => {
                self.task_mut(me).work = Some(crate::work::Work::ShmCreate { slot });
                None
            }
            Ok(true) => {
                let now = self.wall_seconds();
                let seg = self.shm.seg(slot);
                seg.creating = false;
                seg.ctime = now;
                self.wake_all(WaitId::ShmBusy(slot as u16));
                Some(Ok(self.shm.id(slot) as isize))
            }
            Err(e) => {
                self.shm_create_abort(slot);
                self.after_reclaim(me, Err(e))
            }
        }
    }

    /// Give up building segment `slot` (out of memory, or its creator died).
    pub(crate) fn shm_create_abort(&mut self, slot: usize) {
        // The waiters first: their queue goes with the segment.
        self.wake_all(WaitId::ShmBusy(slot as u16));
        self.shm.destroy(slot, &mut self.pg, &mut self.reclaim);
    }

    pub fn sys_shmat(&mut self, me: usize, id: i32, addr: usize, flg: i32) -> R {
        if flg & !(SHM_RDONLY | SHM_RND) != 0 {
            return Err(Errno::EINVAL); // SHM_REMAP, SHM_EXEC: not supported
        }
        let slot = self.shm.lookup(id)?;
        let rdonly = flg & SHM_RDONLY != 0;
        let (uid, gid, pid, env) = {
            let t = self.task(me);
            (t.uid, t.gid, t.pid, t.env)
        };
        let seg = self.shm.get(slot).expect("live");
        if !perm_ok(seg, uid, gid, if rdonly { 0o444 } else { 0o666 }) {
            return Err(Errno::EACCES);
        }
        if self.task(me).attach.is_full() {
            return Err(Errno::EMFILE);
        }
        let npages = seg.obj.npages();
        let len = npages * PAGE_SIZE;
        let va = if addr == 0 {
            window_place(&self.task(me).attach, len)?
        } else {
            let va = if flg & SHM_RND != 0 {
                addr & !(SHMLBA - 1)
            } else if !addr.is_multiple_of(SHMLBA) {
                return Err(Errno::EINVAL);
            } else {
                addr
            };
            let in_range = va >= USER_MIN && va.checked_add(len).is_some_and(|e| e <= USER_END);
            if !in_range
                || RESERVED.iter().any(|&(b, l)| overlaps(va, len, b, l))
                || self
                    .task(me)
                    .attach
                    .iter()
                    .any(|a| overlaps(va, len, a.va, a.npages * PAGE_SIZE))
            {
                return Err(Errno::EINVAL);
            }
            va
        };
        crate::ktrace!(
            "shmat pid={=i32} id={=i32} va={=usize:#x} pages={=usize}",
            pid,
            id,
            va,
            npages
        );
        if npages > STEP_MAP {
            // Mapped in steps. The attachment is recorded (and counted) first, so that an
            // IPC_RMID meanwhile cannot free the pages and an exit meanwhile undoes it.
            let _ = self.task_mut(me).attach.push(Attach {
                va,
                npages,
                slot,
                rdonly,
            });
            self.shm.seg(slot).nattch += 1;
            self.task_mut(me).work = Some(Work::ShmAttach {
                seg: slot,
                va,
                done: 0,
            });
            self.deferred = true;
            return Ok(0);
        }
        let seg = self.shm.get(slot).expect("live");
        self.arch
            .up_shmat(&env, &mut self.pg, seg.obj.pages(), va, rdonly)?;
        let _ = self.task_mut(me).attach.push(Attach {
            va,
            npages,
            slot,
            rdonly,
        });
        self.shm.seg(slot).nattch += 1;
        self.shm_attached(slot, pid);
        Ok(va as isize)
    }

    fn shm_attached(&mut self, slot: usize, pid: i32) {
        let now = self.wall_seconds();
        let s = self.shm.seg(slot);
        s.atime = now;
        s.lpid = pid;
    }

    /// One step of a large shmat: map the next STEP_MAP pages.
    pub(crate) fn shm_attach_step(
        &mut self,
        me: usize,
        seg: usize,
        va: usize,
        done: usize,
    ) -> Option<R> {
        let env = self.task(me).env;
        let a = *self
            .task(me)
            .attach
            .iter()
            .find(|a| a.va == va)
            .expect("the attachment being mapped");
        let n = (a.npages - done).min(STEP_MAP);
        let pages = &self.shm.get(seg).expect("attached segment").obj.pages()[done..done + n];
        let r = self
            .arch
            .up_shmat(&env, &mut self.pg, pages, va + done * PAGE_SIZE, a.rdonly);
        if let Err(e) = r {
            // Undo what was mapped (in steps too), then fail with nothing changed.
            let i = self
                .task(me)
                .attach
                .iter()
                .position(|x| x.va == va)
                .expect("attached");
            self.task_mut(me).attach.swap_remove(i);
            return self.shm_detach_step(me, seg, va, done, e.to_ret());
        }
        if done + n < a.npages {
            self.task_mut(me).work = Some(Work::ShmAttach {
                seg,
                va,
                done: done + n,
            });
            return None;
        }
        let pid = self.task(me).pid;
        self.shm_attached(seg, pid);
        Some(Ok(va as isize))
    }

    pub fn sys_shmdt(&mut self, me: usize, addr: usize) -> R {
        let i = self
            .task(me)
            .attach
            .iter()
            .position(|a| a.va == addr)
            .ok_or(Errno::EINVAL)?;
        let a = self.task_mut(me).attach.swap_remove(i);
        let pid = self.task(me).pid;
        crate::ktrace!("shmdt pid={=i32} va={=usize:#x}", pid, addr);
        match self.shm_detach_step(me, a.slot, a.va, a.npages, 0) {
            Some(r) => r,
            None => {
                self.deferred = true;
                Ok(0)
            }
        }
    }

    /// One step of unmapping `left` pages at `va` (a shmdt, or a failed shmat undone when
    /// `ret` is an error); at the end the segment's bookkeeping follows and the call
    /// returns `ret`.
    pub(crate) fn shm_detach_step(
        &mut self,
        me: usize,
        seg: usize,
        va: usize,
        left: usize,
        ret: isize,
    ) -> Option<R> {
        let env = self.task(me).env;
        let n = left.min(STEP_UNMAP);
        if n > 0 {
            self.arch.up_shmdt(&env, &mut self.pg, va, n);
        }
        if n < left {
            self.task_mut(me).work = Some(Work::ShmDetach {
                seg,
                va: va + n * PAGE_SIZE,
                left: left - n,
                ret,
            });
            return None;
        }
        self.shm_unmapped(me, seg, ret);
        let r = if ret < 0 {
            Err(Errno((-ret) as i32))
        } else {
            Ok(ret)
        };
        self.after_reclaim(me, r)
    }

    /// The mapping of an attachment of `seg` is gone: a detach (`ret` >= 0) updates dtime and
    /// lpid; an attach that failed (`ret` < 0) leaves the times as they were.
    fn shm_unmapped(&mut self, me: usize, seg: usize, ret: isize) {
        if ret >= 0 {
            let pid = self.task(me).pid;
            self.shm_detached(seg, pid);
        } else {
            let s = self.shm.seg(seg);
            s.nattch -= 1;
            if s.nattch == 0 && s.dest {
                self.shm.destroy(seg, &mut self.pg, &mut self.reclaim);
            }
        }
    }

    /// An exit with a shmdt or failed shmat half done: the attachment was already off the
    /// list, so its count is dropped here (the address space goes with the task anyway).
    pub(crate) fn shm_detach_abandoned(&mut self, me: usize, seg: usize, ret: isize) {
        self.shm_unmapped(me, seg, ret);
    }

    /// Bookkeeping after an attachment of `slot` went away (by shmdt or process exit).
    fn shm_detached(&mut self, slot: usize, pid: i32) {
        let now = self.wall_seconds();
        let s = self.shm.seg(slot);
        s.nattch -= 1;
        s.dtime = now;
        s.lpid = pid;
        if s.nattch == 0 && s.dest {
            self.shm.destroy(slot, &mut self.pg, &mut self.reclaim);
        }
    }

    /// Process exit: drop every attachment. The address space is already gone, so only the
    /// bookkeeping is left.
    pub fn shm_exit(&mut self, task_slot: usize) {
        let pid = self.task(task_slot).pid;
        let attach = core::mem::take(&mut self.task_mut(task_slot).attach);
        for a in &attach {
            self.shm_detached(a.slot, pid);
        }
    }

    pub fn sys_shmctl(&mut self, me: usize, id: i32, cmd: i32, buf: usize) -> R {
        let (uid, gid, env) = {
            let t = self.task(me);
            (t.uid, t.gid, t.env)
        };
        let arch = self.arch;
        match cmd & !IPC_64 {
            IPC_INFO => {
                let info = ShmInfoLimits {
                    shmmax: SHMMAX as u64,
                    shmmin: SHMMIN as u64,
                    shmmni: SHMMNI as u64,
                    shmseg: SHMSEG as u64,
                    shmall: SHMALL as u64,
                    unused: [0; 4],
                };
                uaccess::write_val(arch, &env, buf, &info)?;
                Ok(self.shm.highest() as isize)
            }
            SHM_INFO => {
                let info = ShmInfo {
                    used_ids: self.shm.used() as i32,
                    pad: 0,
                    shm_tot: self.shm.pages as u64,
                    shm_rss: self.shm.pages as u64,
                    ..Default::default()
                };
                uaccess::write_val(arch, &env, buf, &info)?;
                Ok(self.shm.highest() as isize)
            }
            SHM_STAT => {
                // `id` is a table index here; removed segments are listed too.
                let slot = usize::try_from(id)
                    .ok()
                    .filter(|&s| s < SHMMNI)
                    .ok_or(Errno::EINVAL)?;
                let s = self
                    .shm
                    .get(slot)
                    .filter(|s| !s.creating)
                    .ok_or(Errno::EINVAL)?;
                if !perm_ok(s, uid, gid, 0o444) {
                    return Err(Errno::EACCES);
                }
                uaccess::write_val(arch, &env, buf, &self.shm.ds(slot))?;
                Ok(self.shm.id(slot) as isize)
            }
            IPC_STAT => {
                let slot = self.shm.lookup(id)?;
                if !perm_ok(self.shm.get(slot).expect("live"), uid, gid, 0o444) {
                    return Err(Errno::EACCES);
                }
                uaccess::write_val(arch, &env, buf, &self.shm.ds(slot))?;
                Ok(0)
            }
            IPC_SET => {
                let ds: ShmidDs = uaccess::read_val(arch, &env, buf)?;
                let slot = self.shm.lookup(id)?;
                let now = self.wall_seconds();
                let s = self.shm.seg(slot);
                if uid != 0 && uid != s.uid && uid != s.cuid {
                    return Err(Errno::EPERM);
                }
                s.uid = ds.shm_perm.uid;
                s.gid = ds.shm_perm.gid;
                s.mode = ds.shm_perm.mode & 0o777;
                s.ctime = now;
                Ok(0)
            }
            IPC_RMID => {
                let slot = self.shm.lookup(id)?;
                let s = self.shm.seg(slot);
                if uid != 0 && uid != s.uid && uid != s.cuid {
                    return Err(Errno::EPERM);
                }
                s.dest = true;
                s.key = IPC_PRIVATE;
                if s.nattch == 0 {
                    self.shm.destroy(slot, &mut self.pg, &mut self.reclaim);
                }
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// futex(uaddr, FUTEX_WAIT / FUTEX_WAKE, val, timeout): wait/wake keyed by the word's
    /// physical address, so processes that attached a segment at different addresses meet.
    /// Some(result) now, or None after blocking.
    pub fn sys_futex(
        &mut self,
        me: usize,
        uaddr: usize,
        op: usize,
        val: usize,
        tmo: usize,
    ) -> Option<R> {
        let env = self.task(me).env;
        if !uaddr.is_multiple_of(4) {
            return Some(Err(Errno::EINVAL));
        }
        let Some(pa) = uaccess::range_ok(uaddr, 4)
            .then(|| self.arch.translate(&env, uaddr, Access::Read))
            .flatten()
        else {
            return Some(Err(Errno::EFAULT));
        };
        match op & !(abi::sys::FUTEX_PRIVATE_FLAG | abi::sys::FUTEX_CLOCK_REALTIME) {
            abi::sys::FUTEX_WAIT => {
                let wake_at = if tmo == 0 {
                    None
                } else {
                    match uaccess::read_duration(self.arch, &env, tmo) {
                        Ok(ns) => Some(self.arch.now_ns().saturating_add(ns)),
                        Err(e) => return Some(Err(e)),
                    }
                };
                // The word is 4-aligned, so it lies inside the page `pa` was translated from.
                let mut word = [0u8; 4];
                crate::phys::read_phys(pa, &mut word);
                if u32::from_le_bytes(word) != val as u32 {
                    return Some(Err(Errno::EAGAIN));
                }
                self.wait_on(WaitId::Futex(pa), wake_at)
            }
            abi::sys::FUTEX_WAKE => {
                let max = (val as u32).min(i32::MAX as u32) as usize;
                // The word's bucket, highest priority first: those waiting on this word.
                let mut woken = 0;
                while woken < max {
                    let Some(s) = self.next_waiter(WaitId::Futex(pa)) else {
                        break;
                    };
                    self.complete(s, 0);
                    woken += 1;
                }
                Some(Ok(woken as isize))
            }
            _ => Some(Err(Errno::ENOSYS)),
        }
    }
}
