//! System call dispatch: number in x8, arguments in x0..x5, result (or -errno) in x0. Every
//! argument is checked here; user memory is reached only through `uaccess`.

use crate::pipe::Fd;
use crate::task::{Block, State, MAX_ARGS, MAX_TASKS};
use crate::up::TrapFrame;
use crate::{uaccess, Kernel};
use abi::sys::{self, nr, MemInfo, TaskInfo, Timespec};
use abi::Errno;

type R = Result<isize, Errno>;

/// Longest write handed to the console in one piece.
const IO_CHUNK: usize = 256;

impl Kernel {
    /// Handle the syscall in `frame` for the current task. Blocking calls leave x0 for the
    /// waker to fill.
    pub fn syscall(&mut self, frame: &mut TrapFrame) {
        let Some(me) = self.current else { return };
        let a = [
            frame.x[0], frame.x[1], frame.x[2], frame.x[3], frame.x[4], frame.x[5],
        ];
        let a = a.map(|v| v as usize);
        match self.dispatch(me, frame.x[8] as usize, a) {
            Some(Ok(v)) => frame.x[0] = v as u64,
            Some(Err(e)) => frame.x[0] = e.to_ret() as u64,
            None => {}
        }
    }

    fn dispatch(&mut self, me: usize, n: usize, a: [usize; 6]) -> Option<R> {
        let env = self.task(me).env;
        let arch = self.arch;
        Some(match n {
            nr::WRITE => return self.sys_write(me, a[0], a[1], a[2]),
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
            nr::SCHED_YIELD => {
                self.yield_now = true;
                Ok(0)
            }
            nr::NANOSLEEP => return self.sys_nanosleep(me, a[0]),
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
            nr::SPAWN => self.sys_spawn(me, a[0], a[1], a[2], a[3]),
            nr::GETPRIORITY => self.target(me, a[1]).map(|s| self.task(s).prio as isize),
            nr::SETPRIORITY => self.sys_setprio(me, a[1], a[2]),
            nr::PIPE2 => self.sys_pipe2(me, a[0], a[1]),
            nr::CLOSE => self.sys_close(me, a[0]),
            nr::IOCTL => self.sys_ioctl(me, a[0], a[1], a[2]),
            nr::SHMGET => self.sys_shmget(me, a[0] as i32, a[1], a[2] as i32),
            nr::SHMAT => self.sys_shmat(me, a[0] as i32, a[1], a[2] as i32),
            nr::SHMDT => self.sys_shmdt(me, a[0]),
            nr::SHMCTL => self.sys_shmctl(me, a[0] as i32, a[1] as i32, a[2]),
            nr::FUTEX => return self.sys_futex(me, a[0], a[1], a[2], a[3]),
            nr::BRK => Ok(self.sys_brk(me, a[0]) as isize),
            nr::TASKINFO => self.sys_taskinfo(me, a[0], a[1]),
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
                };
                uaccess::write_val(arch, &env, a[0], &m).map(|_| 0)
            }
            nr::ROMFS_LIST => match self.romfs.get(a[0]) {
                None => Err(Errno::ENOENT),
                Some((name, _)) => {
                    let n = name.len().min(a[2]);
                    uaccess::copy_out(arch, &env, a[1], &name.as_bytes()[..n])
                        .map(|_| name.len() as isize)
                }
            },
            nr::SYSLOG => {
                if a[0] != sys::SYSLOG_ACTION_READ_ALL {
                    return Some(Err(Errno::EINVAL));
                }
                let mut buf = alloc::vec![0u8; a[2].min(crate::klog::RING)];
                let n = self.log.read(&mut buf);
                uaccess::copy_out(arch, &env, a[1], &buf[..n]).map(|_| n as isize)
            }
            nr::REBOOT => {
                if self.task(me).uid != 0 {
                    return Some(Err(Errno::EPERM));
                }
                match a[0] {
                    sys::REBOOT_CMD_POWER_OFF => {
                        crate::klog!(self, "power off (status {})", a[1] as i32);
                        arch.poweroff(a[1] as i32)
                    }
                    sys::REBOOT_CMD_RESTART => {
                        crate::klog!(self, "restarting");
                        arch.reboot()
                    }
                    _ => Err(Errno::EINVAL),
                }
            }
            _ => Err(Errno::ENOSYS),
        })
    }

    /// Task addressed by a pid argument (0 = the caller).
    fn target(&self, me: usize, pid: usize) -> Result<usize, Errno> {
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
        self.task_mut(s).prio = prio as u8;
        if self.sched.contains(s) {
            self.sched.remove(s);
            self.sched.enqueue(s, prio as u8);
        }
        self.need_resched = true;
        self.yield_now = s == me;
        Ok(0)
    }

    /// Console ioctls: TIOCSPGRP / TIOCGPGRP choose and read the foreground process.
    fn sys_ioctl(&mut self, me: usize, fd: usize, req: usize, arg: usize) -> R {
        if fd > 2 {
            return Err(Errno::EBADF);
        }
        let env = self.task(me).env;
        match req {
            sys::TIOCGPGRP => uaccess::write_val(self.arch, &env, arg, &self.fg_pid).map(|_| 0),
            sys::TIOCSPGRP => {
                let pid: i32 = uaccess::read_val(self.arch, &env, arg)?;
                if pid < 0 {
                    return Err(Errno::EINVAL);
                }
                if pid != 0 {
                    let s = self.slot_of(pid).ok_or(Errno::ESRCH)?;
                    if self.task(s).state == State::Zombie {
                        return Err(Errno::ESRCH);
                    }
                }
                self.fg_pid = pid;
                Ok(0)
            }
            _ => Err(Errno::ENOTTY),
        }
    }

    fn sys_write(&mut self, me: usize, fd: usize, buf: usize, len: usize) -> Option<R> {
        match self.fd_of(me, fd) {
            Ok(Fd::Console) => Some(self.console_write_from(me, buf, len)),
            Ok(Fd::PipeWrite(p)) => self.pipe_write(me, p, buf, len),
            Ok(_) => Some(Err(Errno::EBADF)),
            Err(e) => Some(Err(e)),
        }
    }

    fn console_write_from(&mut self, me: usize, buf: usize, len: usize) -> R {
        let env = self.task(me).env;
        if !uaccess::range_ok(buf, len) {
            return Err(Errno::EFAULT);
        }
        let mut chunk = [0u8; IO_CHUNK];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(IO_CHUNK);
            if let Err(e) = uaccess::copy_in(self.arch, &env, buf + done, &mut chunk[..n]) {
                return if done == 0 { Err(e) } else { Ok(done as isize) };
            }
            self.arch.console_write(&chunk[..n]);
            done += n;
        }
        Ok(done as isize)
    }

    fn sys_read(&mut self, me: usize, fd: usize, buf: usize, len: usize) -> Option<R> {
        match self.fd_of(me, fd) {
            Ok(Fd::Console) => {}
            Ok(Fd::PipeRead(p)) => return self.pipe_read(me, p, buf, len),
            Ok(_) => return Some(Err(Errno::EBADF)),
            Err(e) => return Some(Err(e)),
        }
        let env = self.task(me).env;
        if let Err(e) = uaccess::check(self.arch, &env, buf, len, crate::up::Access::Write) {
            return Some(Err(e));
        }
        if len == 0 {
            return Some(Ok(0));
        }
        if self.console_rx.is_empty() {
            self.block_current(Block::ConsoleRead { buf, len }, None);
            return None;
        }
        Some(self.console_take(me, buf, len))
    }

    /// Move buffered console input into task `slot`'s buffer.
    fn console_take(&mut self, slot: usize, buf: usize, len: usize) -> R {
        let env = self.task(slot).env;
        let mut tmp = [0u8; IO_CHUNK];
        let n = len.min(self.console_rx.len()).min(IO_CHUNK);
        for (i, b) in self.console_rx.iter().take(n).enumerate() {
            tmp[i] = *b;
        }
        uaccess::copy_out(self.arch, &env, buf, &tmp[..n])?;
        for _ in 0..n {
            self.console_rx.pop_front();
        }
        Ok(n as isize)
    }

    /// Give buffered input to blocked readers, the longest-waiting first.
    pub fn serve_console_readers(&mut self) {
        while !self.console_rx.is_empty() {
            let reader = (0..MAX_TASKS)
                .filter_map(|s| {
                    let t = self.tasks[s].as_deref()?;
                    match t.block {
                        Block::ConsoleRead { buf, len } if t.state == State::Blocked => {
                            Some((t.seq, s, buf, len))
                        }
                        _ => None,
                    }
                })
                .min();
            let Some((_, s, buf, len)) = reader else {
                return;
            };
            let ret = match self.console_take(s, buf, len) {
                Ok(n) => n,
                Err(e) => e.to_ret(),
            };
            self.complete(s, ret);
        }
    }

    fn sys_nanosleep(&mut self, me: usize, req: usize) -> Option<R> {
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
        self.block_current(Block::Sleep, Some(wake));
        None
    }

    fn sys_spawn(&mut self, me: usize, path: usize, plen: usize, args: usize, alen: usize) -> R {
        if plen == 0 || plen > crate::romfs::NAME_LEN {
            return Err(Errno::ENOENT);
        }
        if alen > MAX_ARGS {
            return Err(Errno::E2BIG);
        }
        let env = self.task(me).env;
        let mut pbuf = [0u8; crate::romfs::NAME_LEN];
        uaccess::copy_in(self.arch, &env, path, &mut pbuf[..plen])?;
        let name = core::str::from_utf8(&pbuf[..plen]).map_err(|_| Errno::ENOENT)?;
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
        let name: heapless::String<{ crate::romfs::NAME_LEN }> =
            heapless::String::try_from(name).map_err(|_| Errno::ENOENT)?;
        self.spawn(&name, &owned[..n], Some(me)).map(|p| p as isize)
    }

    fn sys_brk(&mut self, me: usize, want: usize) -> usize {
        use crate::phys::{page_round_up, PAGE_SIZE};
        use abi::layout::{USER_HEAP, USER_HEAP_MAX};
        let (cur, env) = (self.task(me).brk, self.task(me).env);
        if !(USER_HEAP..=USER_HEAP + USER_HEAP_MAX).contains(&want) {
            return cur;
        }
        let (old_end, new_end) = (page_round_up(cur), page_round_up(want));
        if new_end > old_end {
            let mut va = old_end;
            while va < new_end {
                let ok = match self.pg.alloc_zeroed() {
                    Some(pa) => {
                        let r = self.arch.map_pages(
                            &env,
                            &mut self.pg,
                            va,
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
                    // Roll back to the old break.
                    let n = (va - old_end) / PAGE_SIZE;
                    self.arch.unmap_pages(&env, &mut self.pg, old_end, n);
                    self.task_mut(me).user_pages -= n;
                    return cur;
                }
                self.task_mut(me).user_pages += 1;
                va += PAGE_SIZE;
            }
        } else if new_end < old_end {
            let n = (old_end - new_end) / PAGE_SIZE;
            self.arch.unmap_pages(&env, &mut self.pg, new_end, n);
            self.task_mut(me).user_pages -= n;
        }
        self.task_mut(me).brk = want;
        want
    }

    fn sys_taskinfo(&mut self, me: usize, index: usize, buf: usize) -> R {
        let env = self.task(me).env;
        let slot = (index..MAX_TASKS)
            .find(|&s| self.tasks[s].is_some())
            .ok_or(Errno::ESRCH)?;
        let t = self.task(slot);
        let state = match t.state {
            State::Running => sys::state::RUNNING,
            State::Ready => sys::state::READY,
            State::Zombie => sys::state::ZOMBIE,
            State::Blocked => match t.block {
                Block::Sleep => sys::state::SLEEPING,
                Block::Child { .. } => sys::state::WAITING,
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
