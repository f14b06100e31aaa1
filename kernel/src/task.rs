//! Tasks (one per user process): the task table, program loading, exit/wait/kill, blocking
//! and the scheduling decision made on every return to user mode.

use alloc::boxed::Box;

use crate::elf;
use crate::phys::{page_round_down, page_round_up, write_phys, Pa, PAGE_SIZE};
use crate::up::{AddrEnv, Prot, TrapFrame};
use crate::{klog, uaccess, Kernel};
use abi::layout::{USER_HEAP, USER_STACK_SIZE, USER_STACK_TOP};
use abi::sys::{self, TASK_NAME_LEN};
use abi::Errno;

/// Size of the task table (and so of every per-task kernel table).
pub const MAX_TASKS: usize = 64;
/// Round-robin time slice among tasks of equal priority.
pub const SLICE_NS: u64 = 20_000_000;
/// Longest argument block passed to spawn.
pub const MAX_ARGS: usize = 512;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    Blocked,
    Zombie,
}

/// Why a blocked task is blocked, with what is needed to finish its syscall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    None,
    Sleep,
    /// wait4: pid (-1 = any) and where the status goes.
    Child {
        pid: i32,
        status: usize,
    },
    ConsoleRead {
        buf: usize,
        len: usize,
    },
    Futex {
        pa: Pa,
    },
    PipeRead {
        pipe: usize,
        buf: usize,
        len: usize,
    },
    /// A write that did not fit: `done` bytes are in so far.
    PipeWrite {
        pipe: usize,
        buf: usize,
        len: usize,
        done: usize,
    },
}

/// One shared-memory attachment of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Attach {
    pub va: usize,
    pub npages: usize,
    /// Segment slot in the shm table (kept alive by this attachment).
    pub slot: usize,
    pub rdonly: bool,
}

pub struct Task {
    pub pid: i32,
    pub ppid: i32,
    pub name: [u8; TASK_NAME_LEN],
    pub prio: u8,
    pub uid: u32,
    pub gid: u32,
    pub state: State,
    pub block: Block,
    /// Saved user registers while not running.
    pub frame: TrapFrame,
    pub env: AddrEnv,
    /// Private pages mapped (text, data, stack, heap).
    pub user_pages: usize,
    pub wake_at: Option<u64>,
    pub slice_end: u64,
    pub exit_status: i32,
    pub brk: usize,
    /// Order in which blocked tasks are served (console readers, futex waiters).
    pub seq: u64,
    /// File descriptors (console, pipe ends).
    pub fds: [crate::pipe::Fd; crate::pipe::MAX_FDS],
    /// Shared-memory attachments (at most SHMSEG).
    pub attach: heapless::Vec<Attach, { abi::shm::SHMSEG }>,
}

impl Task {
    pub fn name(&self) -> &str {
        let n = self
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(TASK_NAME_LEN);
        core::str::from_utf8(&self.name[..n]).unwrap_or("?")
    }
}

impl Kernel {
    pub fn task(&self, slot: usize) -> &Task {
        self.tasks[slot].as_deref().expect("live slot")
    }

    pub fn task_mut(&mut self, slot: usize) -> &mut Task {
        self.tasks[slot].as_deref_mut().expect("live slot")
    }

    pub fn slot_of(&self, pid: i32) -> Option<usize> {
        self.tasks
            .iter()
            .position(|t| t.as_ref().is_some_and(|t| t.pid == pid))
    }

    fn alloc_asid(&mut self) -> Option<u16> {
        // ASID 0 is the kernel's (no user space); 1..=255 are handed out.
        for a in 1..256u16 {
            let (w, b) = (a as usize / 64, a as usize % 64);
            if self.asids[w] & (1 << b) == 0 {
                self.asids[w] |= 1 << b;
                return Some(a);
            }
        }
        None
    }

    fn free_asid(&mut self, a: u16) {
        self.asids[a as usize / 64] &= !(1 << (a as usize % 64));
    }

    /// Load program `path` from the rom file system into a new process.
    /// `args` holds NUL-separated arguments, argv[0] first.
    pub fn spawn(&mut self, path: &str, args: &[u8], parent: Option<usize>) -> Result<i32, Errno> {
        let file = self.romfs.find(path).ok_or(Errno::ENOENT)?;
        let image = elf::parse(file)?;
        if args.len() > MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let slot = self
            .tasks
            .iter()
            .position(|t| t.is_none())
            .ok_or(Errno::EAGAIN)?;
        let asid = self.alloc_asid().ok_or(Errno::EAGAIN)?;
        let env = match self.arch.addrenv_create(&mut self.pg, asid) {
            Ok(e) => e,
            Err(e) => {
                self.free_asid(asid);
                return Err(e);
            }
        };
        match self.load(&env, file, &image, args) {
            Ok((pages, sp, argc, argv)) => {
                let (ppid, uid, gid, prio, fds) = match parent {
                    Some(p) => {
                        let t = self.task(p);
                        (t.pid, t.uid, t.gid, t.prio, t.fds)
                    }
                    None => (0, 0, 0, sys::PRIO_DEFAULT as u8, crate::pipe::STD_FDS),
                };
                // The child inherits the parent's descriptors.
                for f in fds {
                    self.fd_dup(f);
                }
                let pid = self.next_pid;
                self.next_pid += 1;
                let mut name = [0u8; TASK_NAME_LEN];
                let n = path.len().min(TASK_NAME_LEN);
                name[..n].copy_from_slice(&path.as_bytes()[..n]);
                crate::ktrace!(
                    "spawn pid={=i32} ppid={=i32} {=str} pages={=usize}",
                    pid,
                    ppid,
                    path,
                    pages
                );
                let mut frame = TrapFrame::default();
                self.arch
                    .user_frame(&mut frame, image.entry, sp, argc, argv);
                self.tasks[slot] = Some(Box::new(Task {
                    pid,
                    ppid,
                    name,
                    prio,
                    uid,
                    gid,
                    state: State::Ready,
                    block: Block::None,
                    frame,
                    env,
                    user_pages: pages,
                    wake_at: None,
                    slice_end: 0,
                    exit_status: 0,
                    brk: USER_HEAP,
                    seq: 0,
                    attach: heapless::Vec::new(),
                    fds,
                }));
                self.make_ready(slot);
                Ok(pid)
            }
            Err(e) => {
                self.arch.addrenv_destroy(&env, &mut self.pg);
                self.free_asid(asid);
                Err(e)
            }
        }
    }

    /// Map and fill the segments and the stack. Returns (pages, sp, argc, argv).
    fn load(
        &mut self,
        env: &AddrEnv,
        file: &[u8],
        image: &elf::Image,
        args: &[u8],
    ) -> Result<(usize, usize, usize, usize), Errno> {
        let mut pages = 0;
        for seg in &image.segments {
            let start = page_round_down(seg.vaddr);
            let end = page_round_up(seg.vaddr + seg.memsz);
            let prot = match (seg.write, seg.exec) {
                (true, _) => Prot::ReadWrite,
                (false, true) => Prot::ReadExec,
                (false, false) => Prot::Read,
            };
            let mut va = start;
            while va < end {
                let pa = self.pg.alloc_zeroed().ok_or(Errno::ENOMEM)?;
                if let Err(e) = self
                    .arch
                    .map_pages(env, &mut self.pg, va, &[pa], prot, true)
                {
                    self.pg.free_page(pa);
                    return Err(e);
                }
                pages += 1;
                // The part of [va, va+PAGE) that comes from the file.
                let lo = va.max(seg.vaddr);
                let hi = (va + PAGE_SIZE).min(seg.vaddr + seg.filesz);
                if lo < hi {
                    let off = seg.offset + (lo - seg.vaddr);
                    write_phys(pa + (lo - va), &file[off..off + (hi - lo)]);
                }
                va += PAGE_SIZE;
            }
        }
        // Stack, with the page below it left unmapped as a guard.
        let stack_lo = USER_STACK_TOP - USER_STACK_SIZE;
        for i in 0..USER_STACK_SIZE / PAGE_SIZE {
            let pa = self.pg.alloc_zeroed().ok_or(Errno::ENOMEM)?;
            let va = stack_lo + i * PAGE_SIZE;
            if let Err(e) = self
                .arch
                .map_pages(env, &mut self.pg, va, &[pa], Prot::ReadWrite, true)
            {
                self.pg.free_page(pa);
                return Err(e);
            }
            pages += 1;
        }
        // argv: the strings at the top, then the pointer array (NULL-terminated) below them.
        let strings = USER_STACK_TOP - args.len().next_multiple_of(16);
        uaccess::copy_out(self.arch, env, strings, args)?;
        let mut ptrs: heapless::Vec<u64, 64> = heapless::Vec::new();
        let mut off = 0;
        for part in args.split(|&b| b == 0) {
            if off >= args.len() {
                break;
            }
            ptrs.push((strings + off) as u64)
                .map_err(|_| Errno::E2BIG)?;
            off += part.len() + 1;
        }
        let argc = ptrs.len();
        let _ = ptrs.push(0);
        let argv = (strings - ptrs.len() * 8) & !15;
        for (i, p) in ptrs.iter().enumerate() {
            uaccess::write_val(self.arch, env, argv + i * 8, p)?;
        }
        Ok((pages, argv, argc, argv))
    }

    pub fn make_ready(&mut self, slot: usize) {
        let (prio, timed) = {
            let t = self.task_mut(slot);
            t.state = State::Ready;
            t.block = Block::None;
            (t.prio, t.wake_at.take().is_some())
        };
        self.sleepers_dirty |= timed;
        self.sched.enqueue(slot, prio);
        self.timers_dirty = true;
        if let Some(c) = self.current {
            if self.tasks[c].as_ref().is_some_and(|t| prio > t.prio) {
                self.need_resched = true;
            }
        }
    }

    /// Finish a blocked task's syscall with `ret` and make it runnable.
    pub fn complete(&mut self, slot: usize, ret: isize) {
        self.task_mut(slot).frame.x[0] = ret as u64;
        self.make_ready(slot);
    }

    /// Block the current task (its syscall finishes later through `complete`).
    pub fn block_current(&mut self, block: Block, wake_at: Option<u64>) {
        let slot = self.current.expect("a current task");
        self.block_seq += 1;
        let seq = self.block_seq;
        self.sleepers_dirty |= wake_at.is_some();
        let t = self.task_mut(slot);
        t.state = State::Blocked;
        t.block = block;
        t.wake_at = wake_at;
        t.seq = seq;
        self.need_resched = true;
        self.timers_dirty = true;
    }

    /// End a task: free its address space and everything it held, then either hand its status
    /// to a waiting parent or leave a zombie for a later wait.
    pub fn exit_task(&mut self, slot: usize, status: i32) {
        let (pid, ppid, env) = {
            let t = self.task(slot);
            (t.pid, t.ppid, t.env)
        };
        crate::ktrace!("exit pid={=i32} status={=i32:#x}", pid, status);
        if self.fg_pid == pid {
            self.fg_pid = 0;
        }
        self.sched.remove(slot);
        self.arch.addrenv_destroy(&env, &mut self.pg);
        self.free_asid(env.asid);
        // After the tables (and TLB entries) are gone, so pages freed here are unreachable.
        self.shm_exit(slot);
        let fds = core::mem::replace(
            &mut self.task_mut(slot).fds,
            [crate::pipe::Fd::Closed; crate::pipe::MAX_FDS],
        );
        for f in fds {
            self.fd_release(f);
        }
        {
            let t = self.task_mut(slot);
            let timed = t.wake_at.take().is_some();
            t.state = State::Zombie;
            t.block = Block::None;
            self.sleepers_dirty |= timed;
            let t = self.task_mut(slot);
            t.exit_status = status;
            t.user_pages = 0;
        }
        if self.current == Some(slot) {
            self.current = None;
            self.need_resched = true;
        }
        // Orphans have nobody to wait for them: zombies go now, the living are released at exit.
        for s in 0..MAX_TASKS {
            if let Some(t) = self.tasks[s].as_deref_mut() {
                if t.ppid == pid {
                    t.ppid = 0;
                    if t.state == State::Zombie {
                        self.tasks[s] = None;
                    }
                }
            }
        }
        let parent = if ppid > 0 { self.slot_of(ppid) } else { None };
        match parent {
            None => self.tasks[slot] = None,
            Some(p) => {
                if let Block::Child {
                    pid: want,
                    status: uva,
                } = self.task(p).block
                {
                    if want == -1 || want == pid {
                        self.reap(p, slot, uva);
                    }
                }
            }
        }
        self.timers_dirty = true;
    }

    /// Deliver child `child`'s status to the blocked parent `p` and free the child's slot.
    fn reap(&mut self, p: usize, child: usize, uva: usize) {
        let (pid, status) = {
            let c = self.task(child);
            (c.pid, c.exit_status)
        };
        self.tasks[child] = None;
        let env = self.task(p).env;
        let ret = if uva != 0 && uaccess::write_val(self.arch, &env, uva, &status).is_err() {
            Errno::EFAULT.to_ret()
        } else {
            pid as isize
        };
        self.complete(p, ret);
    }

    /// wait4 for the current task: Some(result) now, or None after blocking.
    pub fn wait(&mut self, pid: i32, status_uva: usize, options: usize) -> Option<isize> {
        let me = self.current?;
        let my_pid = self.task(me).pid;
        let mut any = false;
        for s in 0..MAX_TASKS {
            let Some(t) = self.tasks[s].as_deref() else {
                continue;
            };
            if t.ppid != my_pid || (pid != -1 && t.pid != pid) {
                continue;
            }
            any = true;
            if t.state == State::Zombie {
                let (cpid, status) = (t.pid, t.exit_status);
                let env = self.task(me).env;
                if status_uva != 0 {
                    if let Err(e) = uaccess::write_val(self.arch, &env, status_uva, &status) {
                        return Some(e.to_ret());
                    }
                }
                self.tasks[s] = None;
                return Some(cpid as isize);
            }
        }
        if !any {
            return Some(Errno::ECHILD.to_ret());
        }
        if options & sys::WNOHANG != 0 {
            return Some(0);
        }
        if status_uva != 0 && !uaccess::range_ok(status_uva, 4) {
            return Some(Errno::EFAULT.to_ret());
        }
        self.block_current(
            Block::Child {
                pid,
                status: status_uva,
            },
            None,
        );
        None
    }

    /// kill(pid, sig) from `sender` (None: the kernel). Every signal ends the task.
    pub fn kill(&mut self, sender: Option<usize>, pid: i32, sig: usize) -> Result<(), Errno> {
        if sig > 64 {
            return Err(Errno::EINVAL);
        }
        let slot = self.slot_of(pid).ok_or(Errno::ESRCH)?;
        if self.task(slot).state == State::Zombie {
            return if sig == 0 { Ok(()) } else { Err(Errno::ESRCH) };
        }
        if let Some(s) = sender {
            let uid = self.task(s).uid;
            if uid != 0 && uid != self.task(slot).uid {
                return Err(Errno::EPERM);
            }
        }
        if sig == 0 {
            return Ok(());
        }
        let name = self.task(slot).name;
        let n = name.iter().position(|&b| b == 0).unwrap_or(TASK_NAME_LEN);
        let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
        klog!(self, "pid {} ({}): killed by signal {}", pid, name, sig);
        self.exit_task(slot, sys::w_signaled(sig as i32));
        Ok(())
    }

    /// A user task faulted: report it on one line and end it.
    pub fn user_fault(&mut self, kind: &str, addr: usize, pc: usize, sig: usize) {
        let Some(slot) = self.current else { return };
        let (pid, name) = {
            let t = self.task(slot);
            (t.pid, t.name)
        };
        let n = name.iter().position(|&b| b == 0).unwrap_or(TASK_NAME_LEN);
        let name = core::str::from_utf8(&name[..n]).unwrap_or("?");
        crate::ktrace!(
            "fault pid={=i32} {=str} addr={=usize:#x} pc={=usize:#x}",
            pid,
            kind,
            addr,
            pc
        );
        klog!(
            self,
            "pid {} ({}): killed: {} at {:#x} (pc {:#x})",
            pid,
            name,
            kind,
            addr,
            pc
        );
        self.exit_task(slot, sys::w_signaled(sig as i32));
    }

    /// Timer interrupt: wake sleepers whose time has come and end a used-up time slice.
    pub fn timer(&mut self) {
        let now = self.arch.now_ns();
        for s in 0..MAX_TASKS {
            let due = match self.tasks[s].as_deref() {
                Some(t) => t.state == State::Blocked && t.wake_at.is_some_and(|w| w <= now),
                None => false,
            };
            if due {
                let ret = match self.task(s).block {
                    Block::Sleep => 0,
                    _ => Errno::ETIMEDOUT.to_ret(),
                };
                self.complete(s, ret);
            }
        }
        if let Some(c) = self.current {
            let t = self.task(c);
            if now >= t.slice_end && self.sched.top_prio().is_some_and(|p| p >= t.prio) {
                self.need_resched = true;
            }
        }
        self.timers_dirty = true;
    }

    /// Called on every return to user mode with the live register frame. Picks the task to
    /// run, swapping frames and address spaces if it changes. Returns false when nothing can
    /// run (the caller idles until an interrupt and calls again).
    pub fn schedule(&mut self, frame: &mut TrapFrame) -> bool {
        if let Some(c) = self.current {
            let cur_prio = self.task(c).prio;
            let running = self.task(c).state == State::Running;
            if running && !self.yield_now {
                let keep = match self.sched.top_prio() {
                    None => true,
                    Some(p) => {
                        p < cur_prio
                            || (p == cur_prio && self.arch.now_ns() < self.task(c).slice_end)
                    }
                };
                if keep {
                    self.need_resched = false;
                    self.rearm();
                    return true;
                }
            }
            // Switch away from c.
            self.task_mut(c).frame = *frame;
            if running {
                let higher = self.sched.top_prio().is_some_and(|p| p > cur_prio);
                self.task_mut(c).state = State::Ready;
                if higher && !self.yield_now {
                    self.sched.enqueue_front(c, cur_prio);
                } else {
                    self.sched.enqueue(c, cur_prio);
                }
            }
            self.current = None;
        }
        self.yield_now = false;
        self.need_resched = false;
        let Some(next) = self.sched.pick() else {
            self.arch.addrenv_select(None);
            self.rearm();
            return false;
        };
        let now = self.arch.now_ns();
        let t = self.task_mut(next);
        t.state = State::Running;
        t.slice_end = now + SLICE_NS;
        *frame = t.frame;
        let env = t.env;
        crate::ktrace!("switch to pid={=i32}", t.pid);
        self.current = Some(next);
        self.arch.addrenv_select(Some(&env));
        self.timers_dirty = true;
        self.rearm();
        true
    }

    /// Program the timer for the next event: the earliest sleeper, or the end of the current
    /// slice when a peer of equal priority is waiting.
    fn rearm(&mut self) {
        if !self.timers_dirty {
            return;
        }
        self.timers_dirty = false;
        if self.sleepers_dirty {
            // Only when a timed wait began or ended: most switches skip the scan.
            self.sleepers_dirty = false;
            self.next_sleeper = self
                .tasks
                .iter()
                .flatten()
                .filter(|t| t.state == State::Blocked)
                .filter_map(|t| t.wake_at)
                .min();
        }
        let mut next = self.next_sleeper;
        if let Some(c) = self.current {
            let t = self.task(c);
            if self.sched.top_prio().is_some_and(|p| p >= t.prio) {
                next = Some(next.map_or(t.slice_end, |n| n.min(t.slice_end)));
            }
        }
        self.arch.set_deadline(next);
    }

    /// Pages held by a task: its private pages plus its translation tables.
    pub fn task_pages(&self, slot: usize) -> usize {
        let t = self.task(slot);
        if t.state == State::Zombie {
            return 0;
        }
        t.user_pages + self.arch.addrenv_table_pages(&t.env)
    }
}
