//! System call dispatch: number in x8, arguments in x0..x5, result (or -errno) in x0. Every
//! argument is checked here; user memory is reached only through `uaccess`.

use crate::fs::console::IO_CHUNK;
use crate::task::{Block, State, MAX_ARGS, MAX_TASKS};
use crate::up::TrapFrame;
use crate::{uaccess, Kernel};
use abi::sys::{self, nr, MemInfo, TaskInfo, Timespec};
use abi::Errno;

type R = Result<isize, Errno>;

/// How a syscall entered with only the caller-saved registers in its frame (x0-x18, x30:
/// what the kernel's own code may clobber) goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Svc {
    /// Done: the caller goes on with nothing else to do; restore those registers.
    Done,
    /// Done, but the way back needs `schedule` (a switch, a signal, kernel work, a timer to
    /// program): complete the frame, then return to user as after any other entry.
    Schedule,
    /// `Schedule`, the caller having blocked: a switch away from it follows, so the entry
    /// code may complete the frame in the caller's own slot (`live_frame_in_slot`) and the
    /// switch copies nothing.
    Blocked,
    /// Not run: the call reads or replaces the whole register state (sigreturn). Complete
    /// the frame, call `syscall`, then return to user as after any other entry.
    WholeFrame,
}

impl Kernel {
    /// The syscall entry's fast path: run the call in a frame that holds only the
    /// caller-saved registers, and say whether the return can skip `schedule`.
    #[inline(always)]
    pub fn syscall_entry(&mut self, frame: &mut TrapFrame) -> Svc {
        if !self.call(frame) {
            return Svc::WholeFrame;
        }
        match self.resume_current() {
            Svc::Done => Svc::Done,
            way => {
                // Set only on the way to `schedule` (which takes it): the fast exit leaves it
                // false, as every return to user does.
                self.work_fresh = true;
                way
            }
        }
    }

    /// Handle the syscall in `frame` for the current task. Blocking calls leave x0 for the
    /// waker to fill.
    pub fn syscall(&mut self, frame: &mut TrapFrame) {
        if frame.x[8] as usize == nr::RT_SIGRETURN {
            if let Some(me) = self.current {
                self.sys_sigreturn(me, frame);
            }
            return;
        }
        self.call(frame);
        self.work_fresh = true;
        if let Some(t) = self.current.and_then(|c| self.tasks[c].as_mut()) {
            t.rerun = None;
        }
    }

    /// Every call but sigreturn. The caller's `rerun` is left for the caller to clear:
    /// nothing a call does reads it or sets it for the calling task, so clearing it after
    /// the call is as good as before, and the fast exit does it in the look-up it makes
    /// anyway. The caller sets `work_fresh` when the way back goes through `schedule`. False when the call did not run: it needs the whole frame (sigreturn; its
    /// table entry says so, so that other calls do not test for it).
    #[inline(always)]
    fn call(&mut self, frame: &mut TrapFrame) -> bool {
        let Some(me) = self.current else { return true };
        let a = frame.x.first_chunk::<6>().expect("31 registers");
        let mut r = self.dispatch(me, frame.x[8] as usize, a);
        // Both marks lie below every result and -errno: one test on the common path.
        if r < MARKS {
            if r == WHOLE_FRAME {
                return false;
            }
            self.deferred = false;
            return true;
        }
        // A call that dropped the last reference to something (a close, an unlink) frees
        // its pages before it returns, in steps.
        if !self.reclaim.is_empty() && !self.deferred && self.current == Some(me) {
            r = pack(self.after_reclaim(me, Errno::from_ret(r as isize).map(|v| v as isize)));
        }
        if !core::mem::take(&mut self.deferred) && r != PENDING {
            frame.x[0] = r as u64;
        }
        true
    }

    /// The handler for call `n`: one load from the table, whatever the number.
    #[inline(always)]
    fn dispatch(&mut self, me: usize, n: usize, a: &Args) -> i64 {
        CALLS[table_index(n)](self, me, a)
    }

    fn sys_getpid(&mut self, me: usize) -> R {
        Ok(self.task(me).pid as isize)
    }

    fn sys_getppid(&mut self, me: usize) -> R {
        Ok(self.task(me).ppid as isize)
    }

    /// setuid / setgid: root sets any id, others only the one they have.
    fn sys_setid(&mut self, me: usize, id: usize, uid: bool) -> R {
        let t = self.task_mut(me);
        let id = id as u32;
        let cur = if uid { t.uid } else { t.gid };
        if t.uid != 0 && id != cur {
            return Err(Errno::EPERM);
        }
        if uid {
            t.uid = id;
        } else {
            t.gid = id;
        }
        Ok(0)
    }

    fn sys_setsid(&mut self, me: usize) -> R {
        let t = self.task_mut(me);
        if t.sid == t.pid {
            Err(Errno::EPERM) // already leads a session
        } else {
            t.sid = t.pid;
            Ok(t.pid as isize)
        }
    }

    fn sys_sched_yield(&mut self) -> R {
        self.yield_now = true;
        Ok(0)
    }

    fn sys_clock_gettime(&mut self, me: usize, clock: usize, tp: usize) -> R {
        let now = self.arch.now_ns();
        let ts = match clock {
            sys::CLOCK_MONOTONIC => Timespec {
                tv_sec: (now / 1_000_000_000) as i64,
                tv_nsec: (now % 1_000_000_000) as i64,
            },
            sys::CLOCK_REALTIME => Timespec {
                tv_sec: self.wall_seconds(),
                tv_nsec: (now % 1_000_000_000) as i64,
            },
            _ => return Err(Errno::EINVAL),
        };
        let env = self.task(me).env;
        uaccess::write_val(self.arch, &env, tp, &ts).map(|_| 0)
    }

    fn sys_meminfo(&mut self, me: usize, buf: usize, flags: usize) -> R {
        let reset = flags & sys::MEMINFO_RESET_MASKED != 0;
        // Restarting the masked-stretch measurement is for root: it is a system figure.
        if reset && self.task(me).uid != 0 {
            return Err(Errno::EPERM);
        }
        let arch = self.arch;
        let (heap_total, heap_used) = (self.heap_stats)();
        let m = MemInfo {
            page_size: abi::PAGE_SIZE as u64,
            pages_total: self.pg.total() as u64,
            pages_used: self.pg.used() as u64,
            pages_free: self.pg.free() as u64,
            heap_total: heap_total as u64,
            heap_used: heap_used as u64,
            uptime_ns: arch.now_ns(),
            boot_ns: self.boot_ns,
            kernel_text: self.image[0],
            kernel_rodata: self.image[1],
            kernel_data: self.image[2],
            kernel_bss: self.image[3],
            shm_pages: self.shm.pages as u64,
            max_masked_ns: arch.max_masked_ns(reset),
            files_used: self.files.used() as u64,
            files_max: crate::fs::file::MAX_FILES as u64,
        };
        let env = self.task(me).env;
        uaccess::write_val(arch, &env, buf, &m).map(|_| 0)
    }

    fn sys_romfs_list(&mut self, me: usize, index: usize, buf: usize, len: usize) -> R {
        if !uaccess::range_ok(buf, len) {
            return Err(Errno::EFAULT);
        }
        match self.romfs.get(index) {
            None => Err(Errno::ENOENT),
            Some((name, _)) => {
                let n = name.len().min(len);
                let env = self.task(me).env;
                uaccess::copy_out(self.arch, &env, buf, &name.as_bytes()[..n])
                    .map(|_| name.len() as isize)
            }
        }
    }

    fn sys_reboot(&mut self, me: usize, cmd: usize, status: usize) -> R {
        if self.task(me).uid != 0 {
            return Err(Errno::EPERM);
        }
        match cmd {
            sys::REBOOT_CMD_POWER_OFF => {
                crate::klog!(self, "power off (status {})", status as i32);
                self.console_flush();
                self.arch.poweroff(status as i32)
            }
            sys::REBOOT_CMD_RESTART => {
                crate::klog!(self, "restarting");
                self.console_flush();
                self.arch.reboot()
            }
            _ => Err(Errno::EINVAL),
        }
    }

    /// syslog(READ_ALL, buf, len): the kernel log ring, oldest first, copied straight from the
    /// ring in small pieces (no kernel buffer to allocate).
    fn sys_syslog(&mut self, me: usize, action: usize, buf: usize, len: usize) -> R {
        if action != sys::SYSLOG_ACTION_READ_ALL {
            return Err(Errno::EINVAL);
        }
        if !uaccess::range_ok(buf, len) {
            return Err(Errno::EFAULT);
        }
        let env = self.task(me).env;
        let n = len.min(self.log.len());
        uaccess::check(self.arch, &env, buf, n, crate::up::Access::Write)?;
        let mut chunk = [0u8; IO_CHUNK];
        let mut done = 0;
        while done < n {
            let m = self
                .log
                .read_from(done, &mut chunk[..(n - done).min(IO_CHUNK)]);
            uaccess::copy_out(self.arch, &env, buf + done, &chunk[..m])?;
            done += m;
        }
        Ok(n as isize)
    }

    /// Task addressed by a pid argument (0 = the caller).
    pub(crate) fn target(&self, me: usize, pid: usize) -> Result<usize, Errno> {
        if pid == 0 {
            Ok(me)
        } else {
            self.slot_of(pid as i32)
                .filter(|&s| self.task(s).state != State::Zombie)
                .ok_or(Errno::ESRCH)
        }
    }

    fn sys_setprio(&mut self, me: usize, pid: usize, prio: usize) -> R {
        let s = self.target(me, pid)?;
        if prio == 0 || prio > sys::PRIO_MAX as usize {
            return Err(Errno::EINVAL);
        }
        let (uid, tuid) = (self.task(me).uid, self.task(s).uid);
        if uid != 0 && uid != tuid {
            return Err(Errno::EPERM);
        }
        // Raising a priority is for root: otherwise any user could take the top priority and
        // hold the CPU from the real-time tasks it exists for (Linux needs CAP_SYS_NICE too).
        if uid != 0 && prio > self.task(s).prio as usize {
            return Err(Errno::EPERM);
        }
        self.task_mut(s).prio = prio as u8;
        if self.sched.contains(s) {
            // Behind its new peers, with a whole slice (not what was left of a preempted one).
            self.sched.remove(s);
            self.sched.enqueue(s, prio as u8);
            self.task_mut(s).slice_left = None;
        }
        self.need_resched = true;
        self.yield_now = s == me;
        Ok(0)
    }

    fn sys_exit(&mut self, me: usize, status: usize) -> Option<R> {
        self.exit_task(me, sys::w_exited(status as i32));
        None
    }

    pub(crate) fn sys_write(&mut self, me: usize, fd: usize, buf: usize, len: usize) -> Option<R> {
        self.sys_rw(me, fd, buf, len, true)
    }

    pub(crate) fn sys_read(&mut self, me: usize, fd: usize, buf: usize, len: usize) -> Option<R> {
        self.sys_rw(me, fd, buf, len, false)
    }

    /// read or write at the description's offset.
    fn sys_rw(&mut self, me: usize, fd: usize, buf: usize, len: usize, write: bool) -> Option<R> {
        let f = match self.open_of(me, fd) {
            Ok(f) => f,
            Err(e) => return Some(Err(e)),
        };
        let io = crate::fs::ops::Io { buf, len, at: None };
        self.file_rw(me, f, io, write)
    }

    /// ioctl, through the descriptor: the node's requests (ENOTTY for all but a terminal).
    fn sys_ioctl(&mut self, me: usize, fd: usize, req: usize, arg: usize) -> R {
        let f = self.open_of(me, fd)?;
        f.file.node.ops().ioctl(self, me, f, req, arg)
    }

    fn sys_nanosleep(&mut self, me: usize, req: usize, rem: usize) -> Option<R> {
        let env = self.task(me).env;
        let ns = match uaccess::read_duration(self.arch, &env, req) {
            Ok(ns) => ns,
            Err(e) => return Some(Err(e)),
        };
        if ns == 0 {
            self.yield_now = true;
            return Some(Ok(0));
        }
        let wake = self.arch.now_ns().saturating_add(ns);
        self.block_current(Block::Sleep { rem }, Some(wake));
        None
    }

    /// clock_nanosleep(clock, flags, req, rem): relative like nanosleep, or with TIMER_ABSTIME
    /// until a deadline on CLOCK_MONOTONIC or CLOCK_REALTIME (no time left is reported then).
    fn sys_clock_nanosleep(
        &mut self,
        me: usize,
        clock: usize,
        flags: usize,
        req: usize,
        rem: usize,
    ) -> Option<R> {
        if clock != sys::CLOCK_MONOTONIC && clock != sys::CLOCK_REALTIME
            || flags & !sys::TIMER_ABSTIME != 0
        {
            return Some(Err(Errno::EINVAL));
        }
        if flags & sys::TIMER_ABSTIME == 0 {
            return self.sys_nanosleep(me, req, rem);
        }
        let env = self.task(me).env;
        let mut at = match uaccess::read_duration(self.arch, &env, req) {
            Ok(ns) => ns,
            Err(e) => return Some(Err(e)),
        };
        if clock == sys::CLOCK_REALTIME {
            at = at.saturating_sub(self.rtc_base.saturating_mul(1_000_000_000));
        }
        if at <= self.arch.now_ns() {
            return Some(Ok(0));
        }
        self.block_current(Block::Sleep { rem: 0 }, Some(at));
        None
    }

    /// spawn(path, plen, args, alen, actions, nactions): a path with a slash is resolved in
    /// the namespace (it must name a program of `/bin`: EACCES for anything else); a bare
    /// name is looked up in `/bin`.
    fn sys_spawn(&mut self, me: usize, a: [usize; 6]) -> R {
        let [path, plen, args, alen, actions, nactions] = a;
        if plen == 0 {
            return Err(Errno::ENOENT);
        }
        if plen >= crate::fs::namespace::PATH_MAX {
            return Err(Errno::ENAMETOOLONG);
        }
        if alen > MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        if nactions > abi::sys::SPAWN_ACTIONS_MAX {
            return Err(Errno::EINVAL);
        }
        let env = self.task(me).env;
        let mut pbuf = [0u8; crate::fs::namespace::PATH_MAX];
        uaccess::copy_in(self.arch, &env, path, &mut pbuf[..plen])?;
        let path = &pbuf[..plen];
        let name = if path.contains(&b'/') {
            let cwd = self.task(me).cwd;
            match crate::fs::namespace::resolve(&self.ns(), cwd, path)? {
                crate::fs::namespace::Vnode::Prog(i) => self.romfs.get(i).ok_or(Errno::ENOENT)?.0,
                _ => return Err(Errno::EACCES),
            }
        } else {
            core::str::from_utf8(path).map_err(|_| Errno::ENOENT)?
        };
        if name.len() > crate::fs::romfs::NAME_LEN {
            return Err(Errno::ENOENT);
        }
        let mut acts = [abi::sys::SpawnAction::default(); abi::sys::SPAWN_ACTIONS_MAX];
        for (i, act) in acts.iter_mut().enumerate().take(nactions) {
            let at = actions
                .checked_add(i * core::mem::size_of::<abi::sys::SpawnAction>())
                .ok_or(Errno::EFAULT)?;
            *act = uaccess::read_val(self.arch, &env, at)?;
        }
        // Attributes first (they are not descriptor actions), then the descriptors.
        let (mut mask, mut prio) = (None::<u64>, None::<u8>);
        let mut nfd = 0;
        for i in 0..nactions {
            let act = acts[i];
            let bits = act.newfd as u32 as u64;
            match act.fd {
                abi::sys::SPAWN_SETMASK_LO => {
                    let m = mask.unwrap_or(self.task(me).sig.blocked);
                    mask = Some((m & !0xffff_ffff) | bits);
                }
                abi::sys::SPAWN_SETMASK_HI => {
                    let m = mask.unwrap_or(self.task(me).sig.blocked);
                    mask = Some((m & 0xffff_ffff) | bits << 32);
                }
                abi::sys::SPAWN_SETPRIO => {
                    let p = u8::try_from(act.newfd)
                        .ok()
                        .filter(|&p| p != 0 && p <= sys::PRIO_MAX as u8)
                        .ok_or(Errno::EINVAL)?;
                    if self.task(me).uid != 0 && p > self.task(me).prio {
                        return Err(Errno::EPERM);
                    }
                    prio = Some(p);
                }
                _ => {
                    acts[nfd] = act;
                    nfd += 1;
                }
            }
        }
        let fds = self.child_fds(me, &acts[..nfd])?;
        let mut abuf = [0u8; MAX_ARGS];
        uaccess::copy_in(self.arch, &env, args, &mut abuf[..alen])?;
        // argv[0] defaults to the program name.
        let argv: &[u8] = if alen == 0 {
            &pbuf[..plen]
        } else {
            &abuf[..alen]
        };
        let mut owned = [0u8; MAX_ARGS + 1];
        owned[..argv.len()].copy_from_slice(argv);
        let mut n = argv.len();
        if argv.last() != Some(&0) {
            n += 1;
        }
        if n > MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let name: heapless::String<{ crate::fs::romfs::NAME_LEN }> =
            heapless::String::try_from(name).map_err(|_| Errno::ENOENT)?;
        let pid = self.spawn_with(&name, &owned[..n], Some(me), Some(fds))?;
        // The child has not run yet: it starts with these.
        if let Some(s) = self.slot_of(pid) {
            if let Some(m) = mask {
                self.task_mut(s).sig.blocked = m & !abi::signal::UNCATCHABLE;
            }
            if let Some(p) = prio {
                self.task_mut(s).prio = p;
                if self.sched.contains(s) {
                    self.sched.remove(s);
                    self.sched.enqueue(s, p);
                }
                self.need_resched = true;
            }
        }
        Ok(pid as isize)
    }

    /// brk(addr): move the break (the end of the heap) to `addr` and return the new break, or
    /// the old one if `addr` is out of range or memory runs out. The pages in between are
    /// allocated, zeroed and mapped (or unmapped and freed) in bounded steps.
    fn sys_brk(&mut self, me: usize, want: usize) -> Option<R> {
        use abi::layout::{USER_HEAP, USER_HEAP_MAX};
        let cur = self.task(me).brk;
        if !(USER_HEAP..=USER_HEAP + USER_HEAP_MAX).contains(&want) {
            return Some(Ok(cur as isize));
        }
        let end = crate::phys::page_round_up(cur);
        self.brk_step(me, want, end, want, cur)
    }

    /// One step of moving the mapped end of the heap from `end` towards the page above
    /// `target`; once there the break becomes `target` and the call returns `result`. A grow
    /// that runs out of memory turns into a shrink back to `old` (the break before the call).
    pub(crate) fn brk_step(
        &mut self,
        me: usize,
        target: usize,
        mut end: usize,
        result: usize,
        old: usize,
    ) -> Option<R> {
        use crate::phys::{page_round_up, PAGE_SIZE};
        use crate::work::{STEP_FREE, STEP_ZERO};
        let env = self.task(me).env;
        let goal = page_round_up(target);
        if end < goal {
            let stop = goal.min(end + STEP_ZERO * PAGE_SIZE);
            while end < stop {
                let ok = match self.pg.alloc_zeroed() {
                    Some(pa) => {
                        let r = self.arch.map_pages(
                            &env,
                            &mut self.pg,
                            end,
                            &[pa],
                            crate::up::Prot::ReadWrite,
                            true,
                        );
                        if r.is_err() {
                            self.pg.free_page(pa);
                        }
                        r.is_ok()
                    }
                    None => false,
                };
                if !ok {
                    // Out of memory: give back what this call mapped, then fail.
                    return self.brk_continue(me, old, end, old, old);
                }
                self.task_mut(me).user_pages += 1;
                end += PAGE_SIZE;
            }
        } else if end > goal {
            let n = ((end - goal) / PAGE_SIZE).min(STEP_FREE);
            end -= n * PAGE_SIZE;
            self.arch.unmap_pages(&env, &mut self.pg, end, n);
            self.task_mut(me).user_pages -= n;
        }
        if end != goal {
            return self.brk_continue(me, target, end, result, old);
        }
        self.task_mut(me).brk = target;
        self.heap_region_to(me, goal);
        Some(Ok(result as isize))
    }

    /// Leave the rest of a brk as work (each step is bounded).
    fn brk_continue(
        &mut self,
        me: usize,
        target: usize,
        end: usize,
        result: usize,
        old: usize,
    ) -> Option<R> {
        self.task_mut(me).work = Some(crate::work::Work::Brk {
            target,
            end,
            result,
            old,
        });
        None
    }

    fn sys_taskinfo(&mut self, me: usize, index: usize, buf: usize) -> R {
        let env = self.task(me).env;
        let slot = (index..MAX_TASKS)
            .find(|&s| self.tasks[s].is_some())
            .ok_or(Errno::ESRCH)?;
        let t = self.task(slot);
        let exiting = self.is_exiting(slot);
        let state = match t.state {
            _ if exiting => sys::state::EXITING,
            State::Running => sys::state::RUNNING,
            State::Ready => sys::state::READY,
            State::Zombie => sys::state::ZOMBIE,
            State::Blocked => match t.block {
                Block::Sleep { .. } => sys::state::SLEEPING,
                Block::On(crate::sched::wait::WaitId::Children(_)) => sys::state::WAITING,
                _ => sys::state::BLOCKED,
            },
        };
        let info = TaskInfo {
            pid: t.pid,
            ppid: t.ppid,
            priority: t.prio as u32,
            state,
            pages: self.task_pages(slot) as u64,
            uid: t.uid,
            gid: t.gid,
            name: t.name,
        };
        uaccess::write_val(self.arch, &env, buf, &info)?;
        Ok(slot as isize + 1)
    }
}

/// x0-x5 as the caller left them.
type Args = [u64; 6];

/// A syscall handler: (kernel, the caller's slot, x0-x5) -> what goes into x0 (see `pack`).
type Handler = fn(&mut Kernel, usize, &Args) -> i64;

/// A handler's result, PENDING when the call blocked or ended the caller (x0 is filled later,
/// or never).
const PENDING: i64 = i64::MIN;

/// The entry of a call that reads or replaces the whole register state (sigreturn): not run
/// from the table (`syscall` runs it once the frame is complete).
const WHOLE_FRAME: i64 = i64::MIN + 1;

/// Below every call's result (values are >= 0, errors -4095..=-1) and above both marks.
const MARKS: i64 = -4096;

/// A call's result as x0 holds it (the value, or -errno), so that a handler returns it in a
/// register. No call succeeds with a value below MARKS (a value that reads as -errno is that
/// errno: wait4's result comes encoded).
#[inline(always)]
fn pack(r: Option<R>) -> i64 {
    match r {
        Some(Ok(v)) => {
            debug_assert!(v as i64 > MARKS);
            v as i64
        }
        Some(Err(e)) => e.to_ret() as i64,
        None => PENDING,
    }
}

/// All six arguments as addresses and sizes.
fn all(a: &Args) -> [usize; 6] {
    a.map(|v| v as usize)
}

/// Linux's numbers (below 512) and this kernel's own (from `nr::SPAWN`, 1024) index one
/// table directly: a compare and a load, whatever the number.
const NCALLS: usize = nr::SPAWN + 16;

/// The table index of call `n` (0, which is no call here, for numbers past the table).
#[inline(always)]
const fn table_index(n: usize) -> usize {
    if n < NCALLS {
        n
    } else {
        0
    }
}

static CALLS: [Handler; NCALLS] = calls();

/// Run a handler written as a closure (its argument types come from here).
#[inline(always)]
fn run(
    k: &mut Kernel,
    me: usize,
    a: &Args,
    f: impl FnOnce(&mut Kernel, usize, &Args) -> Option<R>,
) -> Option<R> {
    f(k, me, a)
}

fn enosys(_: &mut Kernel, _: usize, _: &Args) -> i64 {
    Errno::ENOSYS.to_ret() as i64
}

/// Every call's entry; the rest are ENOSYS.
const fn calls() -> [Handler; NCALLS] {
    let mut t: [Handler; NCALLS] = [enosys; NCALLS];
    macro_rules! call {
        ($n:expr, $f:expr) => {
            t[table_index($n)] = |k, me, a| pack(run(k, me, a, $f));
        };
    }
    call!(nr::WRITE, |k, me, a| k.sys_write(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    ));
    call!(nr::READV, |k, me, a| k.sys_rwv(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        false
    ));
    call!(nr::WRITEV, |k, me, a| k.sys_rwv(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        true
    ));
    call!(nr::READ, |k, me, a| k.sys_read(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    ));
    call!(nr::EXIT, |k, me, a| k.sys_exit(me, a[0] as usize));
    call!(nr::EXIT_GROUP, |k, me, a| k.sys_exit(me, a[0] as usize));
    call!(nr::GETPID, |k, me, _| Some(k.sys_getpid(me)));
    call!(nr::GETPPID, |k, me, _| Some(k.sys_getppid(me)));
    call!(nr::GETUID, |k, me, _| Some(Ok(k.task(me).uid as isize)));
    call!(nr::GETEUID, |k, me, _| Some(Ok(k.task(me).uid as isize)));
    call!(nr::GETGID, |k, me, _| Some(Ok(k.task(me).gid as isize)));
    call!(nr::GETEGID, |k, me, _| Some(Ok(k.task(me).gid as isize)));
    call!(nr::SETUID, |k, me, a| Some(k.sys_setid(
        me,
        a[0] as usize,
        true
    )));
    call!(nr::SETGID, |k, me, a| Some(k.sys_setid(
        me,
        a[0] as usize,
        false
    )));
    call!(nr::SETSID, |k, me, _| Some(k.sys_setsid(me)));
    call!(nr::GETSID, |k, me, a| {
        Some(k.target(me, a[0] as usize).map(|s| k.task(s).sid as isize))
    });
    call!(nr::SCHED_YIELD, |k, _, _| Some(k.sys_sched_yield()));
    call!(nr::NANOSLEEP, |k, me, a| k.sys_nanosleep(
        me,
        a[0] as usize,
        a[1] as usize
    ));
    call!(nr::CLOCK_NANOSLEEP, |k, me, a| {
        k.sys_clock_nanosleep(
            me,
            a[0] as usize,
            a[1] as usize,
            a[2] as usize,
            a[3] as usize,
        )
    });
    call!(nr::RT_SIGACTION, |k, me, a| {
        Some(k.sys_sigaction(
            me,
            a[0] as usize,
            a[1] as usize,
            a[2] as usize,
            a[3] as usize,
        ))
    });
    call!(nr::RT_SIGPROCMASK, |k, me, a| {
        Some(k.sys_sigprocmask(
            me,
            a[0] as usize,
            a[1] as usize,
            a[2] as usize,
            a[3] as usize,
        ))
    });
    call!(nr::RT_SIGPENDING, |k, me, a| Some(k.sys_sigpending(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::CLOCK_GETTIME, |k, me, a| Some(k.sys_clock_gettime(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::WAIT4, |k, _, a| k
        .wait(a[0] as i32, a[1] as usize, a[2] as usize)
        .map(Ok));
    call!(nr::KILL, |k, me, a| Some(
        k.kill(Some(me), a[0] as i32, a[1] as usize).map(|_| 0)
    ));
    call!(nr::SPAWN, |k, me, a| Some(k.sys_spawn(me, all(a))));
    call!(nr::GETPRIORITY, |k, me, a| {
        Some(k.target(me, a[1] as usize).map(|s| k.task(s).prio as isize))
    });
    call!(nr::SETPRIORITY, |k, me, a| Some(k.sys_setprio(
        me,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::PIPE2, |k, me, a| Some(k.sys_pipe2(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::CLOSE, |k, me, a| Some(k.sys_close(me, a[0] as usize)));
    call!(nr::DUP, |k, me, a| Some(k.sys_dup(me, a[0] as usize)));
    call!(nr::DUP3, |k, me, a| Some(k.sys_dup3(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::FCNTL, |k, me, a| Some(k.sys_fcntl(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::LSEEK, |k, me, a| Some(k.sys_lseek(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::FSTAT, |k, me, a| Some(k.sys_fstat(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::OPENAT, |k, me, a| k.sys_openat_any(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        a[3] as usize
    ));
    call!(nr::NEWFSTATAT, |k, me, a| {
        Some(k.sys_newfstatat(
            me,
            a[0] as usize,
            a[1] as usize,
            a[2] as usize,
            a[3] as usize,
        ))
    });
    call!(nr::CHDIR, |k, me, a| Some(k.sys_chdir(me, a[0] as usize)));
    call!(nr::GETCWD, |k, me, a| Some(k.sys_getcwd(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::GETDENTS64, |k, me, a| Some(k.sys_getdents64(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::UNLINKAT, |k, me, a| Some(k.sys_unlinkat(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::UMASK, |k, me, a| Some(k.sys_umask(me, a[0] as usize)));
    call!(nr::PREAD64, |k, me, a| k.sys_pread(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        a[3] as usize,
        false
    ));
    call!(nr::PWRITE64, |k, me, a| k.sys_pread(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        a[3] as usize,
        true
    ));
    call!(nr::FTRUNCATE, |k, me, a| k.sys_ftruncate(
        me,
        a[0] as usize,
        a[1] as usize
    ));
    call!(nr::SHM_OPEN, |k, me, a| k.sys_shm_open(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    ));
    call!(nr::SHM_UNLINK, |k, me, a| Some(
        k.sys_shm_unlink(me, a[0] as usize)
    ));
    call!(nr::MEMFD_CREATE, |k, me, a| Some(k.sys_memfd_create(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::SHARE, |k, me, a| {
        Some(k.sys_share(me, a[0] as usize, a[1] as usize, a[2] as usize, a[3]))
    });
    call!(nr::CLAIM, |k, me, a| Some(k.sys_claim(me, a[0] as usize)));
    call!(nr::VMINFO, |k, me, a| Some(k.sys_vminfo(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::IOCTL, |k, me, a| Some(k.sys_ioctl(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::SHMGET, |k, me, a| {
        Some(k.sys_shmget(me, a[0] as i32, a[1] as usize, a[2] as i32))
    });
    // shmat, shmdt, mmap and munmap: their fast paths take the common case whole first.
    call!(nr::SHMAT, |k, me, a| match k.mm_fast(me, nr::SHMAT, a) {
        Some(v) => Some(Ok(v)),
        None => Some(k.sys_shmat(me, a[0] as i32, a[1] as usize, a[2] as i32)),
    });
    call!(nr::SHMDT, |k, me, a| match k.mm_fast(me, nr::SHMDT, a) {
        Some(v) => Some(Ok(v)),
        None => {
            let r = k.sys_shmdt(me, a[0] as usize);
            k.after_reclaim(me, r)
        }
    });
    call!(nr::SHMCTL, |k, me, a| {
        let r = k.sys_shmctl(me, a[0] as i32, a[1] as i32, a[2] as usize);
        k.after_reclaim(me, r)
    });
    call!(nr::FUTEX, |k, me, a| k.sys_futex(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize,
        a[3] as usize
    ));
    call!(nr::FUTEX_WAITV, |k, me, a| k.sys_futex_waitv(me, all(a)));
    call!(nr::SET_ROBUST_LIST, |k, me, a| {
        Some(k.sys_set_robust_list(me, a[0] as usize, a[1] as usize))
    });
    call!(nr::GET_ROBUST_LIST, |k, me, a| {
        Some(k.sys_get_robust_list(me, a[0] as i32, a[1] as usize, a[2] as usize))
    });
    call!(nr::BRK, |k, me, a| k.sys_brk(me, a[0] as usize));
    call!(nr::MMAP, |k, me, a| match k.mm_fast(me, nr::MMAP, a) {
        Some(v) => Some(Ok(v)),
        None => k.sys_mmap(me, all(a)),
    });
    call!(nr::MUNMAP, |k, me, a| match k.mm_fast(me, nr::MUNMAP, a) {
        Some(v) => Some(Ok(v)),
        None => k.sys_munmap(me, a[0] as usize, a[1] as usize),
    });
    call!(nr::MPROTECT, |k, me, a| Some(k.sys_mprotect(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::MSYNC, |k, me, a| Some(k.sys_msync(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::MADVISE, |k, me, a| Some(k.sys_madvise(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::TASKINFO, |k, me, a| Some(k.sys_taskinfo(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::MEMINFO, |k, me, a| Some(k.sys_meminfo(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    call!(nr::ROMFS_LIST, |k, me, a| Some(k.sys_romfs_list(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    call!(nr::SYSLOG, |k, me, a| Some(k.sys_syslog(
        me,
        a[0] as usize,
        a[1] as usize,
        a[2] as usize
    )));
    t[nr::RT_SIGRETURN] = |_, _, _| WHOLE_FRAME;
    call!(nr::REBOOT, |k, me, a| Some(k.sys_reboot(
        me,
        a[0] as usize,
        a[1] as usize
    )));
    t
}
