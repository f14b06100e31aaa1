//! System call dispatch: number in x8, arguments in x0..x5, result (or -errno) in x0. Every
//! argument is checked here; user memory is reached only through `uaccess`.

use crate::fs::console::IO_CHUNK;
use crate::task::{Block, State, MAX_ARGS, MAX_TASKS};
use crate::up::TrapFrame;
use crate::{uaccess, Kernel};
use abi::sys::{self, nr, MemInfo, TaskInfo, Timespec};
use abi::Errno;

type R = Result<isize, Errno>;

impl Kernel {
    /// Handle the syscall in `frame` for the current task. Blocking calls leave x0 for the
    /// waker to fill.
    pub fn syscall(&mut self, frame: &mut TrapFrame) {
        let Some(me) = self.current else { return };
        if frame.x[8] as usize == nr::RT_SIGRETURN {
            self.sys_sigreturn(me, frame);
            return;
        }
        let n = frame.x[8] as usize;
        if matches!(n, nr::SHMAT | nr::SHMDT | nr::MMAP | nr::MUNMAP) {
            // Their fast paths take the common case whole, ahead of the generic dispatch.
            if let Some(v) = self.mm_fast(me, n, &frame.x) {
                frame.x[0] = v as u64;
                self.work_fresh = true;
                return;
            }
        }
        let a = [
            frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5],
        ];
        let a = a.map(|v| v as usize);
        let mut r = self.dispatch(me, frame.x[8] as usize, a);
        // A call that dropped the last reference to something (a close, an unlink) frees
        // its pages before it returns, in steps.
        if !self.reclaim.is_empty() && !self.deferred && self.current == Some(me) {
            if let Some(done) = r {
                r = self.after_reclaim(me, done);
            }
        }
        self.work_fresh = true;
        if !core::mem::take(&mut self.deferred) {
            match r {
                Some(Ok(v)) => frame.x[0] = v as u64,
                Some(Err(e)) => frame.x[0] = e.to_ret() as u64,
                None => {}
            }
        }
    }

    fn dispatch(&mut self, me: usize, n: usize, a: [usize; 6]) -> Option<R> {
        let t = self.task_mut(me);
        // A call woken to run again is back: a signal can no longer cut it short that way.
        t.rerun = None;
        let env = t.env;
        let arch = self.arch;
        Some(match n {
            nr::WRITE => return self.sys_write(me, a[0], a[1], a[2]),
            nr::READV => return self.sys_rwv(me, a[0], a[1], a[2], false),
            nr::WRITEV => return self.sys_rwv(me, a[0], a[1], a[2], true),
            nr::READ => return self.sys_read(me, a[0], a[1], a[2]),
            nr::EXIT | nr::EXIT_GROUP => {
                self.exit_task(me, sys::w_exited(a[0] as i32));
                return None;
            }
            nr::GETPID => Ok(self.task(me).pid as isize),
            nr::GETPPID => Ok(self.task(me).ppid as isize),
            nr::GETUID | nr::GETEUID => Ok(self.task(me).uid as isize),
            nr::GETGID | nr::GETEGID => Ok(self.task(me).gid as isize),
            nr::SETUID | nr::SETGID => {
                let t = self.task_mut(me);
                let id = a[0] as u32;
                let cur = if n == nr::SETUID { t.uid } else { t.gid };
                if t.uid != 0 && id != cur {
                    Err(Errno::EPERM)
                } else {
                    if n == nr::SETUID {
                        t.uid = id;
                    } else {
                        t.gid = id;
                    }
                    Ok(0)
                }
            }
            nr::SETSID => {
                let t = self.task_mut(me);
                if t.sid == t.pid {
                    Err(Errno::EPERM) // already leads a session
                } else {
                    t.sid = t.pid;
                    Ok(t.pid as isize)
                }
            }
            nr::GETSID => self.target(me, a[0]).map(|s| self.task(s).sid as isize),
            nr::SCHED_YIELD => {
                self.yield_now = true;
                Ok(0)
            }
            nr::NANOSLEEP => return self.sys_nanosleep(me, a[0], a[1]),
            nr::CLOCK_NANOSLEEP => return self.sys_clock_nanosleep(me, a[0], a[1], a[2], a[3]),
            nr::RT_SIGACTION => self.sys_sigaction(me, a[0], a[1], a[2], a[3]),
            nr::RT_SIGPROCMASK => self.sys_sigprocmask(me, a[0], a[1], a[2], a[3]),
            nr::RT_SIGPENDING => self.sys_sigpending(me, a[0], a[1]),
            nr::CLOCK_GETTIME => {
                let now = arch.now_ns();
                let ts = match a[0] {
                    sys::CLOCK_MONOTONIC => Timespec {
                        tv_sec: (now / 1_000_000_000) as i64,
                        tv_nsec: (now % 1_000_000_000) as i64,
                    },
                    sys::CLOCK_REALTIME => Timespec {
                        tv_sec: self.wall_seconds(),
                        tv_nsec: (now % 1_000_000_000) as i64,
                    },
                    _ => return Some(Err(Errno::EINVAL)),
                };
                uaccess::write_val(arch, &env, a[1], &ts).map(|_| 0)
            }
            nr::WAIT4 => return self.wait(a[0] as i32, a[1], a[2]).map(Ok),
            nr::KILL => self.kill(Some(me), a[0] as i32, a[1]).map(|_| 0),
            nr::SPAWN => self.sys_spawn(me, [a[0], a[1], a[2], a[3], a[4], a[5]]),
            nr::GETPRIORITY => self.target(me, a[1]).map(|s| self.task(s).prio as isize),
            nr::SETPRIORITY => self.sys_setprio(me, a[1], a[2]),
            nr::PIPE2 => self.sys_pipe2(me, a[0], a[1]),
            nr::CLOSE => self.sys_close(me, a[0]),
            nr::DUP => self.sys_dup(me, a[0]),
            nr::DUP3 => self.sys_dup3(me, a[0], a[1], a[2]),
            nr::FCNTL => self.sys_fcntl(me, a[0], a[1], a[2]),
            nr::LSEEK => self.sys_lseek(me, a[0], a[1], a[2]),
            nr::FSTAT => self.sys_fstat(me, a[0], a[1]),
            nr::OPENAT => return self.sys_openat_any(me, a[0], a[1], a[2], a[3]),
            nr::NEWFSTATAT => self.sys_newfstatat(me, a[0], a[1], a[2], a[3]),
            nr::CHDIR => self.sys_chdir(me, a[0]),
            nr::GETCWD => self.sys_getcwd(me, a[0], a[1]),
            nr::GETDENTS64 => self.sys_getdents64(me, a[0], a[1], a[2]),
            nr::UNLINKAT => self.sys_unlinkat(me, a[0], a[1], a[2]),
            nr::UMASK => self.sys_umask(me, a[0]),
            nr::PREAD64 => return self.sys_pread(me, a[0], a[1], a[2], a[3], false),
            nr::PWRITE64 => return self.sys_pread(me, a[0], a[1], a[2], a[3], true),
            nr::FTRUNCATE => return self.sys_ftruncate(me, a[0], a[1]),
            nr::SHM_OPEN => return self.sys_shm_open(me, a[0], a[1], a[2]),
            nr::SHM_UNLINK => self.sys_shm_unlink(me, a[0]),
            nr::MEMFD_CREATE => self.sys_memfd_create(me, a[0], a[1]),
            nr::SHARE => self.sys_share(me, a[0], a[1], a[2], a[3] as u64),
            nr::CLAIM => self.sys_claim(me, a[0]),
            nr::VMINFO => self.sys_vminfo(me, a[0], a[1], a[2]),
            nr::IOCTL => self.sys_ioctl(me, a[0], a[1], a[2]),
            nr::SHMGET => self.sys_shmget(me, a[0] as i32, a[1], a[2] as i32),
            nr::SHMAT => self.sys_shmat(me, a[0] as i32, a[1], a[2] as i32),
            nr::SHMDT => {
                let r = self.sys_shmdt(me, a[0]);
                return self.after_reclaim(me, r);
            }
            nr::SHMCTL => {
                let r = self.sys_shmctl(me, a[0] as i32, a[1] as i32, a[2]);
                return self.after_reclaim(me, r);
            }
            nr::FUTEX => return self.sys_futex(me, a[0], a[1], a[2], a[3]),
            nr::FUTEX_WAITV => return self.sys_futex_waitv(me, a),
            nr::SET_ROBUST_LIST => self.sys_set_robust_list(me, a[0], a[1]),
            nr::GET_ROBUST_LIST => self.sys_get_robust_list(me, a[0] as i32, a[1], a[2]),
            nr::BRK => return self.sys_brk(me, a[0]),
            nr::MMAP => return self.sys_mmap(me, a),
            nr::MUNMAP => return self.sys_munmap(me, a[0], a[1]),
            nr::MPROTECT => self.sys_mprotect(me, a[0], a[1], a[2]),
            nr::MSYNC => self.sys_msync(me, a[0], a[1], a[2]),
            nr::MADVISE => self.sys_madvise(me, a[0], a[1], a[2]),
            nr::TASKINFO => self.sys_taskinfo(me, a[0], a[1]),
            // Restarting the masked-stretch measurement is for root: it is a system figure.
            nr::MEMINFO if a[1] & sys::MEMINFO_RESET_MASKED != 0 && self.task(me).uid != 0 => {
                Err(Errno::EPERM)
            }
            nr::MEMINFO => {
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
                    max_masked_ns: arch.max_masked_ns(a[1] & sys::MEMINFO_RESET_MASKED != 0),
                    files_used: self.files.used() as u64,
                    files_max: crate::fs::file::MAX_FILES as u64,
                };
                uaccess::write_val(arch, &env, a[0], &m).map(|_| 0)
            }
            nr::ROMFS_LIST if !uaccess::range_ok(a[1], a[2]) => Err(Errno::EFAULT),
            nr::ROMFS_LIST => match self.romfs.get(a[0]) {
                None => Err(Errno::ENOENT),
                Some((name, _)) => {
                    let n = name.len().min(a[2]);
                    uaccess::copy_out(arch, &env, a[1], &name.as_bytes()[..n])
                        .map(|_| name.len() as isize)
                }
            },
            nr::SYSLOG => self.sys_syslog(me, a[0], a[1], a[2]),
            nr::REBOOT => {
                if self.task(me).uid != 0 {
                    return Some(Err(Errno::EPERM));
                }
                match a[0] {
                    sys::REBOOT_CMD_POWER_OFF => {
                        crate::klog!(self, "power off (status {})", a[1] as i32);
                        self.console_flush();
                        arch.poweroff(a[1] as i32)
                    }
                    sys::REBOOT_CMD_RESTART => {
                        crate::klog!(self, "restarting");
                        self.console_flush();
                        arch.reboot()
                    }
                    _ => Err(Errno::EINVAL),
                }
            }
            _ => Err(Errno::ENOSYS),
        })
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
