//! The System V front end on the shared-memory object: shmget/shmat/shmdt/shmctl,
//! per-process attach windows, exit auto-detach.
//!
//! Project choices where POSIX and Linux differ (see README): a segment marked by IPC_RMID
//! refuses new shmat and shmctl by id (EINVAL) but stays visible to SHM_STAT with SHM_DEST;
//! its key is free at once and its pages go when the last attachment does. Ids carry a
//! sequence number, so a stale id never reaches a newer segment.

use super::object::{ObjKind, BLOCK_PAGES};
use crate::mm::vm::{self, overlaps, Kind, Region};
use crate::phys::PAGE_SIZE;
use crate::sched::wait::{WaitId, WaitQueue};
use crate::work::Then;
use crate::{uaccess, Kernel};
use abi::layout::{STACK_GUARD, USER_END, USER_HEAP, USER_HEAP_MAX, USER_MIN, USER_STACK_TOP};
use abi::mman::{PROT_READ, PROT_WRITE};
use abi::shm::*;
use abi::Errno;

type R = Result<isize, Errno>;

/// Pages mapped per step of a large shmat (a multiple of BLOCK_PAGES, so runs stay whole).
pub const STEP_MAP: usize = 1024;
/// Pages unmapped per step of a large shmdt.
pub const STEP_UNMAP: usize = 2048;

/// A System V segment: the object plus its `shmid_ds` bookkeeping.
pub struct Segment {
    /// The object (this segment holds one reference to it).
    pub obj: u16,
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
    /// The fast paths' clock for shm_atime and shm_dtime.
    pub clock: Seconds,
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
            clock: Seconds::default(),
        }
    }

    pub(crate) fn id(&self, slot: usize) -> i32 {
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

const NS: u64 = 1_000_000_000;

/// The current second of the monotonic clock, cached until the counter reaches the next
/// one: the fast paths stamp shm_atime/shm_dtime with one counter read and a compare
/// instead of a conversion to nanoseconds and a division. The same second as
/// `Kernel::wall_seconds` (which adds the RTC's base to it).
#[derive(Default)]
pub struct Seconds {
    /// Counter value from which the cached second may be over (0: nothing cached).
    until: u64,
    sec: u64,
}

impl Seconds {
    /// The wall second (from boot) at the counter value `stamp` holds, the one the kernel
    /// entry read (`Kernel::entry_ticks`; the counter itself when there is none).
    #[inline(always)]
    pub fn now(
        &mut self,
        arch: &dyn crate::up::Arch,
        stamp: Option<&core::sync::atomic::AtomicU64>,
    ) -> u64 {
        let t = match stamp {
            Some(s) => s.load(core::sync::atomic::Ordering::Relaxed),
            None => arch.ticks(),
        };
        if t < self.until {
            return self.sec;
        }
        self.refresh(arch, t)
    }

    #[inline(never)]
    fn refresh(&mut self, arch: &dyn crate::up::Arch, t: u64) -> u64 {
        // Read after `t`: the second is that of a moment at or after it, and what is left
        // of it is no more than what was left at `t`. The end is put a millisecond early
        // (a conversion's rounding never makes it late); the next call then reads again.
        let ns = arch.now_ns();
        let hz = arch.tick_hz();
        let left = ((NS - ns % NS) as u128 * hz as u128 / NS as u128) as u64;
        self.until = t + left.saturating_sub(hz / 1000);
        self.sec = ns / NS;
        self.sec
    }
}

/// Whether a region is (a piece of) a System V attachment.
pub fn is_sysv(r: &Region) -> bool {
    matches!(r.kind, Kind::Obj { sysv: Some(_), .. })
}

/// Ranges an explicit attach address may not touch: the heap's reserve and the stack with
/// its guard gap (the program image is caught by the mapping itself).
pub const RESERVED: [(usize, usize); 2] = [
    (USER_HEAP, USER_HEAP_MAX),
    (STACK_GUARD, USER_STACK_TOP - STACK_GUARD),
];

/// The region of a System V attachment of segment `slot` (object `obj`, from its first page),
/// read-only or read-write: what shmat and its fast path both record.
#[inline(always)]
fn attachment(va: usize, npages: usize, rdonly: bool, obj: u16, slot: usize) -> Region {
    let prot = if rdonly {
        PROT_READ
    } else {
        PROT_READ | PROT_WRITE
    };
    let kind = Kind::Obj {
        obj,
        off: 0,
        sysv: Some(slot as u16),
    };
    Region::new(va, npages, prot, prot, kind)
}

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
        let obj = self.obj_new(ObjKind::Sysv, npages)?;
        {
            let o = self.objs.obj_mut(obj);
            o.size = size as u64;
            o.mode = (flg & 0o777) as u32;
        }
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
        let obj = self.shm.get(slot).expect("segment being built").obj;
        match self.obj_fill(obj, crate::work::STEP_ZERO) {
            Ok(false) => {
                self.task_mut(me).work = Some(crate::work::Work::ShmCreate { slot });
                None
            }
            Ok(true) => {
                // The segment's ctime is its shmget's: the object's, read when it was made
                // in the same call (no second clock read).
                let now = self.objs.obj(obj).ctime;
                let seg = self.shm.seg(slot);
                seg.creating = false;
                seg.ctime = now;
                // Only a shmget of the same key waits here; the queue says whether one does.
                if !seg.busy.is_empty() {
                    self.wake_all(WaitId::ShmBusy(slot as u16));
                }
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
        self.shm_destroy(slot);
    }

    /// Remove segment `slot` from the table: its reference to the object goes (the pages
    /// with it unless a mapping still holds one), and its id is never valid again.
    fn shm_destroy(&mut self, slot: usize) {
        if let Some(s) = self.shm.slots[slot].take() {
            self.shm.pages -= s.segsz.div_ceil(PAGE_SIZE);
            self.shm.seq[slot] = (self.shm.seq[slot] + 1) % SEQ_LIMIT;
            self.obj_unref(s.obj);
        }
    }

    pub fn sys_shmat(&mut self, me: usize, id: i32, addr: usize, flg: i32) -> R {
        if flg & !(SHM_RDONLY | SHM_RND) != 0 {
            return Err(Errno::EINVAL); // SHM_REMAP, SHM_EXEC: not supported
        }
        let slot = self.shm.lookup(id)?;
        let rdonly = flg & SHM_RDONLY != 0;
        let (uid, gid, pid) = {
            let t = self.task(me);
            (t.uid, t.gid, t.pid)
        };
        let seg = self.shm.get(slot).expect("live");
        if !perm_ok(seg, uid, gid, if rdonly { 0o444 } else { 0o666 }) {
            return Err(Errno::EACCES);
        }
        let obj = seg.obj;
        let regions = &self.task(me).regions;
        if regions.iter().filter(|r| is_sysv(r)).count() >= SHMSEG {
            return Err(Errno::EMFILE);
        }
        if regions.is_full() {
            return Err(Errno::ENOMEM);
        }
        let npages = self.objs.obj(obj).npages();
        let len = npages * PAGE_SIZE;
        let va = if addr == 0 {
            vm::place(regions, len)?
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
                || vm::any_in(regions, va, len)
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
        // The attachment is recorded (and counted) first, so that an IPC_RMID meanwhile
        // cannot free the pages and an exit meanwhile undoes it.
        let r = attachment(va, npages, rdonly, obj, slot);
        if vm::insert(&mut self.task_mut(me).regions, r).is_err() {
            unreachable!("room checked");
        }
        self.obj_ref(obj);
        self.shm.seg(slot).nattch += 1;
        match self.region_map_step(me, va, 0) {
            Some(r) => r,
            None => {
                self.deferred = true;
                Ok(0)
            }
        }
    }

    /// shmat's fast path, for the common attach: at a kernel-chosen address (flags 0 or
    /// SHM_RDONLY) of a segment that goes into one L3 table that already exists. The same
    /// checks as `sys_shmat` in the same order, and the same result, without the generic
    /// steps (no index lookups after the insert, no work left, one pass over the list).
    /// None when anything is not that case: nothing has changed, and `sys_shmat` then does
    /// the call (and gives its errno).
    pub(crate) fn shmat_fast(
        &mut self,
        me: usize,
        id: i32,
        addr: usize,
        flg: i32,
    ) -> Option<isize> {
        if addr != 0 || flg & !SHM_RDONLY != 0 || !self.reclaim.is_empty() {
            return None;
        }
        let slot = self.shm.lookup(id).ok()?;
        let seg = self.shm.slots[slot].as_mut()?;
        let t = self.tasks.get_mut(me)?.as_mut()?;
        let rdonly = flg != 0;
        if !perm_ok(seg, t.uid, t.gid, if rdonly { 0o444 } else { 0o666 }) {
            return None;
        }
        // SHMSEG: only a list that long can hold that many attachments.
        let regions = &mut t.regions;
        if regions.is_full()
            || regions.len() >= SHMSEG && regions.iter().filter(|r| is_sysv(r)).count() >= SHMSEG
        {
            return None;
        }
        let o = self.objs.get_mut(seg.obj)?;
        let npages = o.npages();
        if npages > STEP_MAP {
            return None; // mapped in steps
        }
        let (va, at) = vm::place_at(regions, npages * PAGE_SIZE).ok()?;
        if npages < BLOCK_PAGES {
            if !self.arch.up_shmat_fast(&t.env, o.pages(), va, rdonly) {
                return None;
            }
        } else if let Err(e) =
            self.arch
                .up_shmat(&t.env, &mut self.pg, o.pages(), va, rdonly, o.runs_from(0))
        {
            // 2 MiB or more (blocks, tables to allocate): the full mapping in this one step.
            // A failure has left nothing mapped and nothing counted, as the full call's.
            return Some(e.to_ret());
        }
        crate::ktrace!(
            "shmat pid={=i32} id={=i32} va={=usize:#x} pages={=usize}",
            t.pid,
            id,
            va,
            npages
        );
        let r = attachment(va, npages, rdonly, seg.obj, slot);
        if vm::insert_at(regions, at, r).is_err() {
            unreachable!("room checked");
        }
        o.refs += 1;
        seg.nattch += 1;
        seg.atime = (self.rtc_base + self.shm.clock.now(self.arch, self.entry_ticks)) as i64;
        seg.lpid = t.pid;
        t.rerun = None;
        Some(va as isize)
    }

    /// shmdt's fast path: an attachment still whole (one region, nothing cut off by munmap
    /// or mprotect) whose detach frees nothing but translation tables (the segment and its
    /// pages stay), in one step. None otherwise, with nothing changed: `sys_shmdt` then
    /// does the call.
    pub(crate) fn shmdt_fast(&mut self, me: usize, addr: usize) -> Option<isize> {
        if !self.reclaim.is_empty() {
            return None;
        }
        let t = self.tasks.get_mut(me)?.as_mut()?;
        let i = vm::index_at(&t.regions, addr)?;
        let r = t.regions[i];
        let Kind::Obj {
            obj,
            off: 0,
            sysv: Some(slot),
        } = r.kind
        else {
            return None;
        };
        let seg = self.shm.slots[slot as usize].as_mut()?;
        let o = self.objs.get_mut(obj)?;
        let npages = r.npages();
        if npages != o.npages() || npages > STEP_UNMAP || o.refs < 2 || seg.dest && seg.nattch < 2 {
            return None;
        }
        crate::ktrace!("shmdt pid={=i32} va={=usize:#x}", t.pid, addr);
        vm::remove_inline(&mut t.regions, i);
        self.arch.up_shmdt(&t.env, &mut self.pg, addr, npages);
        o.refs -= 1;
        seg.nattch -= 1;
        seg.dtime = (self.rtc_base + self.shm.clock.now(self.arch, self.entry_ticks)) as i64;
        seg.lpid = t.pid;
        t.rerun = None;
        Some(0)
    }

    /// An attachment of `slot` is complete.
    pub(crate) fn shm_attached(&mut self, slot: usize, pid: i32) {
        let now = self.wall_seconds();
        let s = self.shm.seg(slot);
        s.atime = now;
        s.lpid = pid;
    }

    /// shmdt(addr): the attachment that starts at `addr` goes, with every piece of it that
    /// mprotect or munmap left (Linux: the segment's mappings within its size from there).
    pub fn sys_shmdt(&mut self, me: usize, addr: usize) -> R {
        let regions = &self.task(me).regions;
        let i = vm::index_at(regions, addr).ok_or(Errno::EINVAL)?;
        let (obj, sysv) = match regions[i].kind {
            Kind::Obj {
                obj,
                off: 0,
                sysv: Some(slot),
            } => (obj, slot),
            _ => return Err(Errno::EINVAL),
        };
        let pid = self.task(me).pid;
        crate::ktrace!("shmdt pid={=i32} va={=usize:#x}", pid, addr);
        let npages = self.objs.obj(obj).npages();
        let end = addr.saturating_add(npages * PAGE_SIZE);
        let is_piece = |x: &Region| {
            matches!(x.kind, Kind::Obj { obj: o, sysv: Some(s), .. } if o == obj && s == sysv)
                && x.end() <= end
        };
        let regions = &self.task(me).regions;
        let span = regions[i..].iter().take_while(|x| x.va < end);
        if span.clone().any(|x| !is_piece(x)) {
            // Something else is mapped in a hole that munmap left, and stays: the pieces
            // leave the tables one by one around it.
            return self
                .shmdt_piece(me, obj, sysv, addr, end)
                .unwrap_or_else(|| {
                    self.deferred = true;
                    Ok(0)
                });
        }
        // The attachment's pieces lie from index i on (the list is sorted) with nothing
        // else between them: off the list, then out of the tables as one range.
        let n = span.count();
        for _ in 0..n {
            let x = vm::remove(&mut self.task_mut(me).regions, i);
            self.region_dropped(me, &x, true);
        }
        self.unmap_range(me, addr, npages, false, Then::Return(0))
            .unwrap_or_else(|| {
                self.deferred = true;
                Ok(0)
            })
    }

    /// shmdt's next piece of the attachment of `slot` (object `obj`) at or above `from`
    /// and below `end` goes: off the list, then out of the tables in steps, then the next.
    /// The call is over when none is left.
    pub(crate) fn shmdt_piece(
        &mut self,
        me: usize,
        obj: u16,
        slot: u16,
        from: usize,
        end: usize,
    ) -> Option<R> {
        let regions = &self.task(me).regions;
        let start = regions.partition_point(|x| x.va < from);
        let next = regions[start..]
            .iter()
            .take_while(|x| x.va < end)
            .position(|x| {
                matches!(x.kind, Kind::Obj { obj: o, sysv: Some(s), .. } if o == obj && s == slot)
                    && x.end() <= end
            });
        let Some(k) = next else {
            return self.after_reclaim(me, Ok(0));
        };
        let x = vm::remove(&mut self.task_mut(me).regions, start + k);
        self.region_dropped(me, &x, true);
        let then = Then::Shmdt {
            obj,
            slot,
            from: x.end(),
            end,
        };
        self.unmap_range(me, x.va, x.npages(), false, then)
    }

    /// Bookkeeping after an attachment (piece) of `slot` went away: by shmdt, munmap or
    /// exit (`detach`: dtime and lpid change), or an attach that failed (they do not).
    pub(crate) fn shm_detached(&mut self, slot: usize, pid: i32, detach: bool) {
        let now = self.wall_seconds();
        let s = self.shm.seg(slot);
        s.nattch -= 1;
        if detach {
            s.dtime = now;
            s.lpid = pid;
        }
        if s.nattch == 0 && s.dest {
            self.shm_destroy(slot);
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
                    self.shm_destroy(slot);
                }
                Ok(0)
            }
            _ => Err(Errno::EINVAL),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::up::Arch;

    #[test]
    fn the_cached_second_is_the_clocks_across_boundaries() {
        let arch = crate::fake::FakeArch::leak();
        let mut c = Seconds::default();
        let stamp = core::sync::atomic::AtomicU64::new(0);
        // Steps of odd sizes from just below a boundary, crossing many of them, each
        // answer checked against the clock itself; every other one from an entry stamp.
        arch.advance(NS - 3);
        for k in 0..4000u64 {
            let want = arch.now_ns() / NS;
            stamp.store(arch.ticks(), core::sync::atomic::Ordering::Relaxed);
            let from = if k % 2 == 0 { None } else { Some(&stamp) };
            assert_eq!(c.now(arch, from), want, "at {} ns", arch.now_ns());
            arch.advance(1 + (k * 7_919_993) % 3_000_000);
        }
        assert!(arch.now_ns() > 5 * NS);
    }
}
