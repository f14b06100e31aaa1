//! Tasks (one per user process): the task table, program loading, exit/wait/kill, blocking
//! and the scheduling decision made on every return to user mode.

use crate::elf;
use crate::phys::{page_round_down, page_round_up, write_phys, PAGE_SIZE};
use crate::up::{AddrEnv, Prot, TrapFrame};
use crate::{klog, uaccess, Kernel};
use abi::layout::{USER_HEAP, USER_STACK_SIZE, USER_STACK_TOP};
use abi::sys::{self, TASK_NAME_LEN};
use abi::Errno;

/// Size of the task table (and so of every per-task kernel table).
pub const MAX_TASKS: usize = 64;
/// Round-robin time slice among tasks of equal priority.
pub const SLICE_NS: u64 = 20_000_000;
/// Nanoseconds a second.
const NS: u64 = 1_000_000_000;
/// Longest argument block passed to spawn.
pub const MAX_ARGS: usize = sys::ARG_MAX;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Ready,
    Running,
    Blocked,
    Zombie,
}

/// Why a blocked task is blocked. What its syscall needs to finish is in its registers (the
/// call runs again when woken) or in its `work`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    None,
    /// nanosleep; `rem` is where the time left goes if a signal cuts it short.
    Sleep {
        rem: usize,
    },
    /// On the wait queue of an object.
    On(crate::sched::wait::WaitId),
}

pub use crate::work::Work;

/// What the scheduler wants of the trap-return path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The frame holds the task to return to.
    User,
    /// Nothing can run: wait for an interrupt, then call again.
    Idle,
    /// A step of kernel work ran: let pending interrupts in, then call again.
    Again,
}

pub struct Task {
    pub pid: i32,
    pub ppid: i32,
    /// Session id: inherited at spawn, the caller's pid after setsid.
    pub sid: i32,
    pub name: [u8; TASK_NAME_LEN],
    pub prio: u8,
    pub uid: u32,
    pub gid: u32,
    pub state: State,
    pub block: Block,
    /// Saved user registers while not running.
    pub frame: TrapFrame,
    /// User thread pointer (TPIDR_EL0) while not running; 0 in a new process.
    pub tls: u64,
    pub env: AddrEnv,
    /// Private pages mapped (text, data, stack, heap).
    pub user_pages: usize,
    pub wake_at: Option<u64>,
    /// When the time slice ends, in counter ticks.
    pub slice_end: u64,
    /// What was left of the slice when a higher priority preempted the task: it goes on with
    /// that, not a new slice (SCHED_RR's rule), or a task woken every millisecond above it
    /// would stop round-robin below it. In counter ticks.
    pub slice_left: Option<u64>,
    pub exit_status: i32,
    pub brk: usize,
    /// Working directory (a directory of the namespace).
    pub cwd: crate::fs::namespace::Vnode,
    /// File mode creation mask (umask), inherited.
    pub umask: u32,
    /// Order in which blocked tasks are served (console readers, futex waiters).
    pub seq: u64,
    /// Unfinished kernel work of the current syscall.
    pub work: Option<Work>,
    /// Signal dispositions, mask and pending set.
    pub sig: crate::signal::Signals,
    /// File descriptors (console, pipe ends).
    pub fds: crate::fs::file::FdTable,
    /// Its own wait4 waits here for a child to change state.
    pub children: crate::sched::wait::WaitQueue,
    /// Woken from this queue to run its call again and not yet back in it: a caught signal
    /// delivered first decides whether the call runs again or fails with EINTR.
    pub rerun: Option<crate::sched::wait::WaitId>,
    /// What is mapped where: program, stack, heap, attachments, mmap mappings.
    pub regions: crate::mm::vm::Regions,
    /// The words a futex_waitv waits on (physical addresses, in the caller's order); room
    /// for FUTEX_WAITV_MAX is taken from the kernel heap at the task's first call.
    pub futexv: alloc::vec::Vec<crate::phys::Pa>,
    /// set_robust_list: the head's user address (0: none) and the length given.
    pub robust: (usize, usize),
    /// FP/SIMD registers while another task owns the hardware's: from the kernel heap at
    /// the task's first FP instruction (None: it never used them; they read as zero).
    pub fp: Option<alloc::boxed::Box<[crate::up::FpState]>>,
}

impl Task {
    pub fn name(&self) -> &str {
        name_str(&self.name)
    }
}

/// A new process's regions: its program's segments and its stack (the heap comes with brk).
fn initial_regions(image: &elf::Image) -> crate::mm::vm::Regions {
    use crate::mm::vm::{Kind, Region};
    use abi::mman::{PROT_EXEC, PROT_READ, PROT_WRITE};
    let mut regions = crate::mm::vm::Regions::new();
    let rwx = PROT_READ | PROT_WRITE | PROT_EXEC;
    for sg in image.segments.iter() {
        // A page two segments share belongs to the first.
        let floor = regions.last().map_or(0, |r: &Region| r.end());
        let start = page_round_down(sg.vaddr).max(floor);
        let end = page_round_up(sg.vaddr + sg.memsz);
        if end <= start {
            continue;
        }
        let prot = PROT_READ
            | if sg.write { PROT_WRITE } else { 0 }
            | if sg.exec && !sg.write { PROT_EXEC } else { 0 };
        let r = Region::new(start, (end - start) / PAGE_SIZE, prot, rwx, Kind::Program);
        let _ = crate::mm::vm::insert(&mut regions, r);
    }
    let stack = Region::new(
        USER_STACK_TOP - USER_STACK_SIZE,
        USER_STACK_SIZE / PAGE_SIZE,
        PROT_READ | PROT_WRITE,
        rwx,
        Kind::Stack,
    );
    let _ = crate::mm::vm::insert(&mut regions, stack);
    regions
}

/// A NUL-padded task name as text.
pub fn name_str(name: &[u8; TASK_NAME_LEN]) -> &str {
    let n = name.iter().position(|&b| b == 0).unwrap_or(TASK_NAME_LEN);
    core::str::from_utf8(&name[..n]).unwrap_or("?")
}

impl Kernel {
    #[inline(always)]
    pub fn task(&self, slot: usize) -> &Task {
        self.tasks[slot].as_ref().expect("live slot")
    }

    #[inline(always)]
    pub fn task_mut(&mut self, slot: usize) -> &mut Task {
        self.tasks[slot].as_mut().expect("live slot")
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
    /// The program's bytes are copied in afterwards, in bounded steps, as the new task's own
    /// work the first time it runs (at its priority); running out of memory then ends it with
    /// status 127 and a console line, as a failed exec does in a shell.
    pub fn spawn(&mut self, path: &str, args: &[u8], parent: Option<usize>) -> Result<i32, Errno> {
        let fds = parent.map(|p| self.child_fds(p, &[])).transpose()?;
        self.spawn_with(path, args, parent, fds)
    }

    /// `spawn` with the child's descriptor table given (`child_fds`; None for the first
    /// process: the console at 0, 1 and 2).
    pub fn spawn_with(
        &mut self,
        path: &str,
        args: &[u8],
        parent: Option<usize>,
        fds: Option<crate::fs::file::FdTable>,
    ) -> Result<i32, Errno> {
        let index = self.romfs.index_of(path).ok_or(Errno::ENOENT)?;
        let file = self.romfs.get(index).ok_or(Errno::ENOENT)?.1;
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
        match self.load_stack(&env, args) {
            Ok((pages, sp, argc, argv)) => {
                let regions = initial_regions(&image);
                let pid = self.next_pid;
                let (ppid, sid, uid, gid, prio, sig) = match parent {
                    Some(p) => {
                        let t = self.task(p);
                        (t.pid, t.sid, t.uid, t.gid, t.prio, t.sig.for_child())
                    }
                    // The first process leads a session of its own.
                    None => (
                        0,
                        pid,
                        0,
                        0,
                        sys::PRIO_DEFAULT as u8,
                        crate::signal::Signals::default(),
                    ),
                };
                // The child inherits the parent's descriptors (not those marked FD_CLOEXEC)
                // and working directory.
                let fds = self.fds_take(fds);
                let cwd = parent.map_or(crate::fs::namespace::Vnode::Root, |p| self.task(p).cwd);
                let umask = parent.map_or(0o022, |p| self.task(p).umask);
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
                self.tasks[slot] = Some(Task {
                    pid,
                    ppid,
                    sid,
                    name,
                    prio,
                    uid,
                    gid,
                    state: State::Ready,
                    block: Block::None,
                    frame,
                    tls: 0,
                    env,
                    user_pages: pages,
                    wake_at: None,
                    slice_end: 0,
                    slice_left: None,
                    exit_status: 0,
                    brk: USER_HEAP,
                    cwd,
                    umask,
                    seq: 0,
                    work: Some(Work::Load {
                        file: index,
                        seg: 0,
                        done: 0,
                    }),
                    sig,
                    regions,
                    fds,
                    children: crate::sched::wait::WaitQueue::new(),
                    rerun: None,
                    futexv: alloc::vec::Vec::new(),
                    robust: (0, 0),
                    fp: None,
                });
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

    /// One step of loading program `file` into the current task `slot`: map and fill up to
    /// STEP_LOAD pages of its segments from page `done` of segment `seg` on.
    pub(crate) fn load_step(&mut self, slot: usize, file: usize, mut seg: usize, mut done: usize) {
        let env = self.task(slot).env;
        let data = self.romfs.get(file).map(|(_, d)| d).unwrap_or(&[]);
        let image = match elf::parse(data) {
            Ok(i) => i,
            Err(e) => return self.load_failed(slot, e),
        };
        let mut budget = crate::work::STEP_LOAD;
        while let Some(sg) = image.segments.get(seg) {
            let start = page_round_down(sg.vaddr);
            let end = page_round_up(sg.vaddr + sg.memsz);
            let prot = match (sg.write, sg.exec) {
                (true, _) => Prot::ReadWrite,
                (false, true) => Prot::ReadExec,
                (false, false) => Prot::Read,
            };
            while start + done * PAGE_SIZE < end {
                if budget == 0 {
                    self.task_mut(slot).work = Some(Work::Load { file, seg, done });
                    return;
                }
                let va = start + done * PAGE_SIZE;
                // The part of [va, va+PAGE) that comes from the file: a page the file fills
                // whole is not zeroed first.
                let lo = va.max(sg.vaddr);
                let hi = (va + PAGE_SIZE).min(sg.vaddr + sg.filesz);
                let page = if lo == va && hi == va + PAGE_SIZE {
                    self.pg.alloc()
                } else {
                    self.pg.alloc_zeroed()
                };
                let Some(pa) = page else {
                    return self.load_failed(slot, Errno::ENOMEM);
                };
                if let Err(e) = self
                    .arch
                    .map_pages(&env, &mut self.pg, va, &[pa], prot, true)
                {
                    self.pg.free_page(pa);
                    return self.load_failed(slot, e);
                }
                self.task_mut(slot).user_pages += 1;
                if lo < hi {
                    let off = sg.offset + (lo - sg.vaddr);
                    write_phys(pa + (lo - va), &data[off..off + (hi - lo)]);
                }
                done += 1;
                budget -= 1;
            }
            seg += 1;
            done = 0;
        }
    }

    /// The program could not be loaded (out of memory): say so and end the task.
    fn load_failed(&mut self, slot: usize, e: Errno) {
        let (pid, name) = (self.task(slot).pid, self.task(slot).name);
        klog!(
            self,
            "pid {} ({}): cannot load the program: {}",
            pid,
            name_str(&name),
            e.name()
        );
        self.exit_task(slot, sys::w_exited(127));
    }

    /// Map the stack and put the arguments on it. Returns (pages, sp, argc, argv).
    fn load_stack(
        &mut self,
        env: &AddrEnv,
        args: &[u8],
    ) -> Result<(usize, usize, usize, usize), Errno> {
        let mut pages = 0;
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
        // One slot more than the most arguments: argv[argc] is always the NULL.
        let mut ptrs: heapless::Vec<u64, { sys::ARGV_MAX + 1 }> = heapless::Vec::new();
        let mut off = 0;
        for part in args.split(|&b| b == 0) {
            if off >= args.len() {
                break;
            }
            if ptrs.len() == sys::ARGV_MAX {
                return Err(Errno::E2BIG);
            }
            let _ = ptrs.push((strings + off) as u64);
            off += part.len() + 1;
        }
        let argc = ptrs.len();
        ptrs.push(0).map_err(|_| Errno::E2BIG)?;
        let argv = (strings - ptrs.len() * 8) & !15;
        for (i, p) in ptrs.iter().enumerate() {
            uaccess::write_val(self.arch, env, argv + i * 8, p)?;
        }
        Ok((pages, argv, argc, argv))
    }

    pub fn make_ready(&mut self, slot: usize) {
        self.unqueue(slot);
        self.ready(slot);
    }

    /// The rest of `make_ready`, for a task already off its queue. Inline: it is most of a
    /// futex wake.
    #[inline(always)]
    pub(crate) fn ready(&mut self, slot: usize) {
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

    /// Block the current task (its syscall finishes later through `complete`). Inline, for
    /// the futex wait's sake.
    #[inline(always)]
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
        if self.is_exiting(slot) || self.task(slot).state == State::Zombie {
            return;
        }
        let pid = self.task(slot).pid;
        crate::ktrace!("exit pid={=i32} status={=i32:#x}", pid, status);
        if pid == self.init_pid {
            self.init_died(status);
        }
        if self.fg_pid == pid {
            self.fg_pid = 0;
        }
        if self.console_sid == pid {
            // The controlling process is gone: the console belongs to no session now.
            self.console_sid = 0;
            self.fg_pid = 0;
        }
        self.sched.remove(slot);
        self.fp_release(slot);
        if let Some(w) = self.task_mut(slot).work.take() {
            self.abandon_work(slot, w);
        }
        self.unqueue(slot);
        self.fds_close_all(slot);
        // The rest (address space, attachments, freed segments) is the dying task's own
        // kernel work, done in bounded steps at its priority; it never returns to user mode.
        let current = self.current == Some(slot);
        let t = self.task_mut(slot);
        let timed = t.wake_at.take().is_some();
        t.block = Block::None;
        t.exit_status = status;
        let stage = if t.robust.0 != 0 {
            crate::work::ExitStage::Robust {
                entry: 0,
                left: abi::sys::ROBUST_LIST_LIMIT as u16,
            }
        } else {
            crate::work::ExitStage::Space
        };
        t.work = Some(Work::Exit { stage });
        let prio = t.prio;
        self.sleepers_dirty |= timed;
        if current {
            self.task_mut(slot).state = State::Running;
        } else {
            self.task_mut(slot).state = State::Ready;
            self.sched.enqueue(slot, prio);
        }
        self.timers_dirty = true;
    }

    /// Whether task `slot` is tearing itself down (it has exited but is not a zombie yet).
    pub fn is_exiting(&self, slot: usize) -> bool {
        matches!(self.task(slot).work, Some(Work::Exit { .. }))
    }

    /// One step of an exit: the address space, then the attachments' bookkeeping, then the
    /// pages of segments that went with them, then the zombie and the parent's wait.
    pub(crate) fn exit_step(&mut self, slot: usize, stage: crate::work::ExitStage) {
        use crate::work::{ExitStage, STEP_FREE};
        let next = match stage {
            ExitStage::Robust { entry, left } => self.robust_exit_step(slot, entry, left),
            ExitStage::Space => {
                let env = self.task(slot).env;
                if self
                    .arch
                    .addrenv_destroy_some(&env, &mut self.pg, STEP_FREE)
                {
                    self.free_asid(env.asid);
                    ExitStage::Segments
                } else {
                    ExitStage::Space
                }
            }
            ExitStage::Segments => {
                // After the tables (and TLB entries) are gone: pages freed now are unreachable.
                self.regions_exit(slot);
                ExitStage::Reclaim
            }
            ExitStage::Reclaim => {
                if self.reclaim.drain(&mut self.pg, STEP_FREE) {
                    self.exit_finish(slot);
                    return;
                }
                ExitStage::Reclaim
            }
        };
        self.task_mut(slot).work = Some(Work::Exit { stage: next });
    }

    /// The last of an exit: leave a zombie for the parent (or nothing, for an orphan), and
    /// release the task's own orphans.
    fn exit_finish(&mut self, slot: usize) {
        let (pid, ppid) = {
            let t = self.task_mut(slot);
            t.state = State::Zombie;
            t.user_pages = 0;
            (t.pid, t.ppid)
        };
        self.sched.remove(slot);
        if self.current == Some(slot) {
            self.current = None;
            self.current_frame = 0;
            self.need_resched = true;
        }
        // Orphans have nobody to wait for them: zombies go now, the living are released at exit.
        for s in 0..MAX_TASKS {
            if let Some(t) = self.tasks[s].as_mut() {
                if t.ppid == pid {
                    t.ppid = 0;
                    if t.state == State::Zombie {
                        self.tasks[s] = None;
                    }
                }
            }
        }
        match if ppid > 0 { self.slot_of(ppid) } else { None } {
            None => self.tasks[slot] = None,
            // A parent in wait4 runs it again and finds the zombie.
            Some(p) => self.wake_all(crate::sched::wait::WaitId::Children(p as u8)),
        }
        self.timers_dirty = true;
    }

    /// Init must not end: nothing would start a shell again. If it does anyway, say so and
    /// power off rather than leave a console nobody answers.
    fn init_died(&mut self, status: i32) -> ! {
        let pid = self.init_pid;
        let code = if sys::wifexited(status) {
            let c = sys::wexitstatus(status);
            klog!(
                self,
                "init (pid {}) exited with status {}: powering off",
                pid,
                c
            );
            c
        } else {
            let sig = sys::wtermsig(status);
            klog!(
                self,
                "init (pid {}) killed by signal {}: powering off",
                pid,
                sig
            );
            128 + sig
        };
        self.console_flush();
        self.arch.poweroff(code)
    }

    /// wait4 for the current task: Some(result) now, or None after blocking.
    pub fn wait(&mut self, pid: i32, status_uva: usize, options: usize) -> Option<isize> {
        let me = self.current?;
        let my_pid = self.task(me).pid;
        let mut any = false;
        for s in 0..MAX_TASKS {
            let Some(t) = self.tasks[s].as_ref() else {
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
        self.wait_on(crate::sched::wait::WaitId::Children(me as u8), None)
            .map(|r| r.unwrap_or_else(|e| e.to_ret()))
    }

    /// kill(pid, sig) from `sender` (None: the kernel, e.g. Ctrl-C).
    pub fn kill(&mut self, sender: Option<usize>, pid: i32, sig: usize) -> Result<(), Errno> {
        if sig > abi::signal::NSIG {
            return Err(Errno::EINVAL);
        }
        let slot = self.slot_of(pid).ok_or(Errno::ESRCH)?;
        if self.task(slot).state == State::Zombie {
            return if sig == 0 { Ok(()) } else { Err(Errno::ESRCH) };
        }
        if self.is_exiting(slot) {
            return Ok(()); // already dying: nothing more to do (as Linux)
        }
        // Init takes only the signals it asked for (installed a handler or ignores), from
        // anyone, the kernel included.
        if pid == self.init_pid && sig != 0 && !self.handles(slot, sig) {
            return Err(Errno::EPERM);
        }
        let from = match sender {
            Some(s) => {
                let (spid, uid) = (self.task(s).pid, self.task(s).uid);
                if uid != 0 && uid != self.task(slot).uid {
                    return Err(Errno::EPERM);
                }
                (spid, uid, abi::signal::SI_USER)
            }
            None => (0, 0, abi::signal::SI_KERNEL),
        };
        if sig != 0 {
            self.send_signal(slot, sig, from);
        }
        Ok(())
    }

    /// Whether `pid` is `ancestor` or descends from it.
    pub fn descends_from(&self, pid: i32, ancestor: i32) -> bool {
        let mut p = pid;
        for _ in 0..MAX_TASKS {
            if p == ancestor {
                return true;
            }
            match self.slot_of(p) {
                Some(s) if p > 0 => p = self.task(s).ppid,
                _ => return false,
            }
        }
        false
    }

    /// A user task faulted: report it on one line and end it.
    pub fn user_fault(&mut self, kind: &str, addr: usize, pc: usize, sig: usize) {
        let Some(slot) = self.current else { return };
        let sig = self.fault_signal(slot, addr, sig);
        let (pid, name) = {
            let t = self.task(slot);
            (t.pid, t.name)
        };
        let name = name_str(&name);
        crate::ktrace!(
            "fault pid={=i32} {=str} addr={=usize:#x} pc={=usize:#x}",
            pid,
            kind,
            addr,
            pc
        );
        let past = if sig == sys::SIGBUS && kind.starts_with("data abort") {
            "; past the end of its object"
        } else {
            ""
        };
        klog!(
            self,
            "pid {} ({}): killed: {}{} at {:#x} (pc {:#x})",
            pid,
            name,
            kind,
            past,
            addr,
            pc
        );
        self.exit_task(slot, sys::w_signaled(sig as i32));
    }

    /// Timer interrupt: wake sleepers whose time has come and end a used-up time slice.
    pub fn timer(&mut self) {
        // The interrupt disarmed it (the board acknowledges it so).
        self.armed = None;
        let now = self.arch.now_ns();
        // When interrupts arrive is the one source of unpredictability every board has.
        self.keys.stir(now);
        self.keys_expire(now);
        for s in 0..MAX_TASKS {
            let due = match self.tasks[s].as_ref() {
                Some(t) => t.state == State::Blocked && t.wake_at.is_some_and(|w| w <= now),
                None => false,
            };
            if due {
                let ret = match self.task(s).block {
                    Block::Sleep { .. } => 0,
                    _ => Errno::ETIMEDOUT.to_ret(),
                };
                self.complete(s, ret);
            }
        }
        if let Some(c) = self.current {
            let t = self.task(c);
            if self.now_ticks() >= t.slice_end && self.sched.top_prio().is_some_and(|p| p >= t.prio)
            {
                self.need_resched = true;
            }
        }
        self.timers_dirty = true;
    }

    /// Called on every return to user mode with the live register frame: picks the task to
    /// run (swapping frames and address spaces if it changes) and, if that task has kernel
    /// work pending, runs one step of it.
    pub fn schedule(&mut self, frame: &mut TrapFrame) -> Next {
        let next = self.schedule_lazy(frame);
        self.load_frame(frame);
        next
    }

    /// `schedule` for the entry code: after a switch, the task picked may still have its
    /// registers in its own slot (no copy into `frame`); `return_frame` says where they are.
    /// Anything that reads or changes the live frame (a work step, a signal) gets it in
    /// `frame` first. One copy, called by every entry (`pick` is inline in it).
    #[inline(never)]
    pub fn schedule_lazy(&mut self, frame: &mut TrapFrame) -> Next {
        let picked = self.pick(frame);
        self.picked(picked, frame)
    }

    /// `schedule_lazy` for the way back from a syscall that went to `schedule`, inline in
    /// that entry: a caller that blocked (a futex wait) is switched away from at once, as
    /// `pick` would; anything else calls `schedule_lazy`.
    #[inline(always)]
    pub fn schedule_after_call(&mut self, frame: &mut TrapFrame) -> Next {
        let blocked = self
            .current
            .and_then(|c| self.tasks[c].as_ref())
            .is_some_and(|t| t.state != State::Running);
        if !blocked {
            return self.schedule_lazy(frame);
        }
        let picked = self.switch_tasks(frame);
        self.picked(picked, frame)
    }

    /// The rest of `schedule_lazy` once the task to run is chosen.
    #[inline(always)]
    fn picked(&mut self, picked: Option<usize>, frame: &mut TrapFrame) -> Next {
        let Some(cur) = picked else {
            return Next::Idle;
        };
        let fresh = core::mem::take(&mut self.work_fresh);
        // The common case, kept small: no kernel work and no signal, straight back to user.
        let t = self.task(cur);
        if t.work.is_none() && t.sig.deliverable() == 0 {
            return Next::User;
        }
        self.load_frame(frame);
        self.schedule_slow(cur, fresh, frame)
    }

    /// Make `frame` the live frame again (after a switch that loaded no copy).
    fn load_frame(&mut self, frame: &mut TrapFrame) {
        if core::mem::take(&mut self.frame_in_task) != 0 {
            if let Some(t) = self.current.and_then(|c| self.tasks[c].as_ref()) {
                frame.copy_from(&t.frame);
            }
        }
    }

    /// Where the syscall entry saves the whole register state of a call whose way back
    /// needs `schedule`: the current task's own slot, which becomes the live frame (as after
    /// a switch that loaded no copy), so that a switch away copies nothing. None without a
    /// current task (the frame on the stack stays the live one). The caller must write the
    /// whole frame there before the kernel runs again.
    #[inline(always)]
    pub fn live_frame_in_slot(&mut self) -> Option<*mut TrapFrame> {
        self.frame_in_task = self.current_frame;
        (self.current_frame != 0).then_some(self.current_frame as *mut TrapFrame)
    }

    /// Where the entry code restores the registers from after `schedule_lazy` said
    /// `Next::User`: the current task's slot (a switch loaded no copy) or `frame` itself.
    /// The slot's frame stays put until the next kernel entry: the task table never moves
    /// and nothing runs in between.
    #[inline(always)]
    pub fn return_frame(&mut self, frame: &TrapFrame) -> *const TrapFrame {
        match core::mem::take(&mut self.frame_in_task) {
            0 => frame,
            a => a as *const TrapFrame,
        }
    }

    /// The syscall fast exit: `Svc::Done` when `schedule` would go straight back to the
    /// current task with nothing else to do (no switch, no kernel work, no signal); the
    /// scheduler is then left as `schedule` would leave it (the timer programmed as `pick`
    /// would). Otherwise `schedule` runs: `Svc::Blocked` when the caller no longer runs,
    /// `Svc::Schedule` for anything else. Either way the caller's call is back: its `rerun`
    /// is cleared (see `call`).
    #[inline(always)]
    pub fn resume_current(&mut self) -> crate::syscall::Svc {
        use crate::syscall::Svc;
        let Some(c) = self.current else {
            return Svc::Schedule;
        };
        let Some(t) = self.tasks[c].as_mut() else {
            return Svc::Schedule;
        };
        // A call woken to run again is back: a signal can no longer cut it short that way.
        t.rerun = None;
        if self.yield_now {
            return Svc::Schedule;
        }
        if self.timers_dirty {
            // A caller that blocked goes to `schedule` without the out-of-line checks.
            if t.state != State::Running {
                return Svc::Blocked;
            }
            if t.work.is_some() || t.sig.deliverable() != 0 {
                return Svc::Schedule;
            }
            let (prio, end) = (t.prio, t.slice_end);
            return self.resume_checked(prio, end);
        }
        // Every change of the current task's state away from Running (blocking, made ready,
        // exit) sets `timers_dirty`, tested above.
        debug_assert_eq!(t.state, State::Running);
        if t.work.is_some() || t.sig.deliverable() != 0 {
            return Svc::Schedule;
        }
        if self.sched.top_prio().is_some_and(|p| p >= t.prio) {
            let (prio, end) = (t.prio, t.slice_end);
            return self.resume_checked(prio, end);
        }
        self.need_resched = false;
        Svc::Done
    }

    /// `resume_current` when the call changed something the scheduler looks at (a task
    /// woken) or a peer of equal priority waits, for a running caller with no work or signal
    /// (`prio` and `end`: its priority and slice end): `pick`'s decision to keep the caller
    /// (its slice decides against a peer) and the timer it then programs.
    #[inline(never)]
    fn resume_checked(&mut self, prio: u8, end: u64) -> crate::syscall::Svc {
        let keep = match self.sched.top_prio() {
            None => true,
            Some(p) => p < prio || (p == prio && self.now_ticks() < end),
        };
        if !keep {
            return crate::syscall::Svc::Schedule;
        }
        self.need_resched = false;
        self.rearm_for(Some(end));
        crate::syscall::Svc::Done
    }

    /// The rest of `schedule`: a step of kernel work, or a signal to deliver.
    #[inline(never)]
    fn schedule_slow(&mut self, cur: usize, fresh: bool, frame: &mut TrapFrame) -> Next {
        if fresh && self.task(cur).work.is_some() {
            // The syscall that left this work may have done a step itself: let interrupts
            // in before the next one, so that no two steps share a masked stretch.
            return Next::Again;
        }
        if let Some(w) = self.task(cur).work {
            self.task_mut(cur).work = None;
            match self.interrupt_work(cur, w) {
                // A caught signal cuts the call short: its result, or a restart.
                Some(Some(ret)) => frame.x[0] = ret as u64,
                Some(None) => frame.pc -= 4,
                None => {
                    self.work_step(cur, w, frame);
                    return Next::Again;
                }
            }
        }
        if self.task(cur).sig.deliverable() != 0 && !self.deliver_signal(cur, frame) {
            return Next::Again; // the signal ended the task: pick again
        }
        Next::User
    }

    /// Choose the task to run and load its frame. Returns its slot, now `current`; None when
    /// nothing can run (the caller idles until an interrupt and calls again).
    #[inline(always)]
    fn pick(&mut self, frame: &mut TrapFrame) -> Option<usize> {
        if let Some(c) = self.current {
            let cur_prio = self.task(c).prio;
            let running = self.task(c).state == State::Running;
            if running && !self.yield_now {
                let keep = match self.sched.top_prio() {
                    None => true,
                    Some(p) => {
                        p < cur_prio || (p == cur_prio && self.now_ticks() < self.task(c).slice_end)
                    }
                };
                if keep {
                    self.need_resched = false;
                    self.rearm();
                    return Some(c);
                }
            }
        }
        self.switch_tasks(frame)
    }

    /// Save the current task (if any) and load the next one to run (its slot, now `current`);
    /// None when there is none.
    #[inline(never)]
    fn switch_tasks(&mut self, frame: &mut TrapFrame) -> Option<usize> {
        let now = self.now_ticks();
        // The outgoing task: its thread pointer is read (by `user_switch`) below.
        let out = self.current;
        if let Some(c) = out {
            // Switch away from c.
            let in_task = core::mem::take(&mut self.frame_in_task) != 0;
            let t = self.task_mut(c);
            if !in_task {
                t.frame.copy_from(frame);
            }
            let (cur_prio, running) = (t.prio, t.state == State::Running);
            if running {
                let higher = self.sched.top_prio().is_some_and(|p| p > cur_prio);
                let left = self.task(c).slice_end.saturating_sub(now);
                self.task_mut(c).state = State::Ready;
                // Preempted with slice to spare: first in line, with the rest of it. A used-up
                // slice goes behind its peers even when a higher priority is what interrupted.
                if higher && !self.yield_now && left > 0 {
                    self.task_mut(c).slice_left = Some(left);
                    self.sched.enqueue_front(c, cur_prio);
                } else {
                    self.sched.enqueue(c, cur_prio);
                }
            }
            self.current = None;
            self.current_frame = 0;
        }
        self.yield_now = false;
        self.need_resched = false;
        let Some(next) = self.sched.pick() else {
            if self.console.tx_deferred {
                self.console_resume(None);
            }
            let tls = self.arch.user_switch(None, None);
            if let Some(c) = out {
                self.task_mut(c).tls = tls;
            }
            self.rearm();
            return None;
        };
        // One look-up of the incoming task for all it gives (the switch path is short).
        let t = self.tasks[next].as_mut().expect("live slot");
        t.state = State::Running;
        let end = now + t.slice_left.take().unwrap_or(self.slice_ticks);
        t.slice_end = end;
        let prio = t.prio;
        // The frame stays in the slot: `schedule` or `return_frame` takes it from there.
        let slot_frame = core::ptr::addr_of_mut!(t.frame) as usize;
        self.frame_in_task = slot_frame;
        let (env, tls) = (t.env, t.tls);
        // A task tearing itself down runs only kernel work: its tables are going away.
        let exiting = matches!(t.work, Some(Work::Exit { .. }));
        crate::ktrace!("switch to pid={=i32}", t.pid);
        self.current = Some(next);
        self.current_frame = slot_frame;
        self.fp_switch(next);
        // The same task picked again keeps the thread pointer it has live (its slot's is stale).
        let tls_in = if out == Some(next) { None } else { Some(tls) };
        let tls_old = self
            .arch
            .user_switch(if exiting { None } else { Some(&env) }, tls_in);
        if let Some(c) = out {
            self.task_mut(c).tls = tls_old;
        }
        if self.console.tx_deferred {
            self.console_resume(Some(prio));
        }
        self.timers_dirty = true;
        // `rearm` with the slice end just set (`next` is current).
        self.rearm_for(Some(end));
        Some(next)
    }

    /// Program the timer for the next event: the earliest sleeper, or the end of the current
    /// slice when a peer of equal priority is waiting.
    #[inline(always)]
    fn rearm(&mut self) {
        if !self.timers_dirty {
            return;
        }
        let end = self
            .current
            .and_then(|c| self.tasks[c].as_ref())
            .map(|t| t.slice_end);
        self.rearm_for(end);
    }

    /// The counter for the scheduler's slice checks: the current kernel entry's stamp where
    /// the board gave one (no call through `arch`; a masked stretch is short, so it is at
    /// most that much behind).
    #[inline(always)]
    pub(crate) fn now_ticks(&self) -> u64 {
        match self.entry_ticks {
            Some(t) => t.load(core::sync::atomic::Ordering::Relaxed),
            None => self.arch.ticks(),
        }
    }

    /// Counter ticks as monotonic nanoseconds (rounded down), in 64 bits (see `tick_hz`).
    fn ticks_to_ns(&self, t: u64) -> u64 {
        let hz = self.tick_hz;
        t / hz * NS + (t % hz) * NS / hz
    }

    /// Monotonic nanoseconds as counter ticks, rounded up.
    fn ns_to_ticks_up(&self, ns: u64) -> u64 {
        let hz = self.tick_hz.get();
        // Saturating: a deadline of u64::MAX (a wait with no end) stays the latest.
        (ns / NS)
            .saturating_mul(hz)
            .saturating_add(((ns % NS) * hz).div_ceil(NS))
    }

    /// `rearm` with the current task's slice end known (None: no current task).
    #[inline(always)]
    fn rearm_for(&mut self, slice_end: Option<u64>) {
        if !self.timers_dirty {
            return;
        }
        // The common case, without a call: no timed wait began or ended and the deadline
        // armed already comes no later than any candidate (the earliest sleeper, the next key
        // expiry, the current slice's end), so it stays (see `rearm_slow`) whoever waits.
        if let (false, Some(a)) = (self.sleepers_dirty, self.armed) {
            if slice_end.is_none_or(|end| self.armed_ticks <= end)
                && self.next_sleeper.is_none_or(|n| a <= n)
                && self.keys.next_expiry.is_none_or(|k| a <= k)
            {
                self.timers_dirty = false;
                return;
            }
        }
        self.rearm_slow();
    }

    /// The rest of `rearm`: find the next event and program the timer if it comes before
    /// the deadline armed.
    #[inline(never)]
    fn rearm_slow(&mut self) {
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
        if let Some(k) = self.keys.next_expiry {
            next = Some(next.map_or(k, |n| n.min(k)));
        }
        if let Some(c) = self.current {
            let t = self.task(c);
            if self.sched.top_prio().is_some_and(|p| p >= t.prio) {
                let end = self.ticks_to_ns(t.slice_end);
                next = Some(next.map_or(end, |n| n.min(end)));
            }
        }
        // The timer may fire early, never late: a deadline it holds already that comes no
        // later than `next` stays (its interrupt finds nothing due and programs the next
        // one), so a switch between two tasks does not reprogram the timer each time.
        match (next, self.armed) {
            (Some(n), Some(a)) if a <= n => {}
            (None, _) => {}
            (Some(n), _) => {
                self.arch.set_deadline(Some(n));
                self.armed = Some(n);
                self.armed_ticks = self.ns_to_ticks_up(n);
            }
        }
    }

    /// Pages held by a task: its private pages plus its translation tables.
    pub fn task_pages(&self, slot: usize) -> usize {
        let t = self.task(slot);
        if t.state == State::Zombie {
            return 0;
        }
        if self.is_exiting(slot) {
            return t.user_pages; // its tables are being freed: do not walk them
        }
        t.user_pages + self.arch.addrenv_table_pages(&t.env)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_deadline_in_ticks_saturates_on_a_fast_counter() {
        // A wait with no end has the deadline u64::MAX: in ticks it stays the latest, even
        // where a second holds more ticks than nanoseconds.
        let mut s = crate::tests::Sys::new();
        s.k.tick_hz = core::num::NonZeroU64::new(4_000_000_000).unwrap();
        assert_eq!(s.k.ns_to_ticks_up(u64::MAX), u64::MAX);
        assert_eq!(s.k.ns_to_ticks_up(1_500_000_000), 6_000_000_000);
        assert_eq!(s.k.ns_to_ticks_up(1), 4);
        s.k.tick_hz = core::num::NonZeroU64::new(62_500_000).unwrap();
        assert_eq!(s.k.ns_to_ticks_up(17), 2, "rounded up");
    }
}
