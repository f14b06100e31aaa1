//! The system calls the shared-memory libraries make: the kernel's on the target, a std
//! emulation on the host (threads of one process stand in for processes; an "object" is a
//! page-aligned heap buffer that every attach maps at the same address).

use core::sync::atomic::AtomicUsize;

/// A mapped shared object: where it is in this process, and how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub base: *mut u8,
    pub len: usize,
}

/// The calling thread's robust-futex list head (Linux `struct robust_list_head`): `lock`
/// links the locks it holds here, and the kernel walks it when the process ends.
#[repr(C)]
#[derive(Debug)]
pub struct RobustHead {
    /// First entry; the list ends at the head's own address.
    pub next: AtomicUsize,
    /// The lock word's offset from its entry.
    pub futex_offset: isize,
    /// An entry being locked or unlocked.
    pub pending: AtomicUsize,
}

const _: () =
    assert!(core::mem::size_of::<RobustHead>() == core::mem::size_of::<abi::sys::RobustListHead>());

/// A thread's robust list (the head the kernel reads) and, privately, the locks it holds
/// in the order they were taken.
#[derive(Debug)]
pub struct Robust {
    pub head: RobustHead,
    pub held: [AtomicUsize; crate::lock::MAX_HELD],
    pub nheld: AtomicUsize,
}

impl Robust {
    const fn new() -> Robust {
        Robust {
            head: RobustHead {
                next: AtomicUsize::new(0),
                futex_offset: crate::lock::FUTEX_OFFSET,
                pending: AtomicUsize::new(0),
            },
            held: [const { AtomicUsize::new(0) }; crate::lock::MAX_HELD],
            nheld: AtomicUsize::new(0),
        }
    }
}

#[cfg(target_os = "none")]
mod imp {
    use super::{Mapping, Robust, RobustHead};
    use abi::fcntl::{O_CREAT, O_EXCL, O_RDWR};
    use abi::mman::{MAP_SHARED, PROT_READ, PROT_WRITE};
    use abi::sys::FutexWaitv;
    use abi::Errno;
    use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

    /// Processes have one thread, so one list each.
    static ROBUST: Robust = Robust::new();
    static REGISTERED: AtomicBool = AtomicBool::new(false);

    pub fn robust() -> &'static Robust {
        if !REGISTERED.swap(true, Ordering::AcqRel) {
            let head = &ROBUST.head;
            head.next.store(super::head_addr(head), Ordering::Relaxed);
            // Without it a holder's death is not reported; the locks still work.
            let _ = usys::set_robust_list(head as *const RobustHead as *const _);
        }
        &ROBUST
    }

    /// The lock owner id: the pid, asked once (a process has one thread and keeps its pid:
    /// there is no fork), so taking a lock makes no system call.
    pub fn tid() -> u32 {
        static TID: AtomicU32 = AtomicU32::new(0);
        match TID.load(Ordering::Relaxed) {
            0 => {
                let t = usys::getpid() as u32;
                TID.store(t, Ordering::Relaxed);
                t
            }
            t => t,
        }
    }

    pub fn now_ns() -> u64 {
        usys::now_ns()
    }

    /// Whether process `tid` exists (a zombie counts: its robust list was walked already).
    pub fn alive(tid: u32) -> bool {
        usys::kill(tid as i32, 0) != Err(Errno::ESRCH)
    }

    pub fn sleep_ns(ns: u64) {
        let _ = usys::sleep_ns(ns);
    }

    pub fn futex_wait(word: &AtomicU32, val: u32, deadline: Option<u64>) -> Result<(), Errno> {
        let rel = match deadline {
            None => None,
            Some(d) => match d.checked_sub(now_ns()) {
                Some(r) if r > 0 => Some(r),
                _ => return Err(Errno::ETIMEDOUT),
            },
        };
        usys::futex_wait(word, val, rel)
    }

    pub fn futex_wake(word: &AtomicU32, n: u32) -> usize {
        usys::futex_wake(word, n).unwrap_or(0)
    }

    pub fn futex_wait_any(
        words: &[(&AtomicU32, u32)],
        deadline: Option<u64>,
    ) -> Result<usize, Errno> {
        let mut v = [FutexWaitv::default(); abi::sys::FUTEX_WAITV_MAX];
        if words.is_empty() || words.len() > v.len() {
            return Err(Errno::EINVAL);
        }
        for (w, &(word, val)) in v.iter_mut().zip(words) {
            *w = FutexWaitv {
                val: val as u64,
                uaddr: word.as_ptr() as u64,
                flags: abi::sys::FUTEX2_SIZE_U32,
                reserved: 0,
            };
        }
        usys::futex_waitv(&v[..words.len()], deadline)
    }

    fn map_fd(fd: usize) -> Result<Mapping, Errno> {
        let r = usys::fstat(fd).and_then(|st| {
            let len = usize::try_from(st.st_size).map_err(|_| Errno::EINVAL)?;
            if len == 0 {
                // Created, not sized yet: not there for an attacher.
                return Err(Errno::ENOENT);
            }
            let base = usys::mmap(0, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd as isize, 0)?;
            Ok(Mapping { base, len })
        });
        let _ = usys::close(fd);
        r
    }

    pub fn create(name: &str, len: usize, excl: bool) -> Result<(Mapping, bool), Errno> {
        // Only the call that made the object may unlink it after a failure: try to make
        // it first, then (not exclusive) open the one another process made.
        let (fd, made) = match usys::shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0o666) {
            Ok(fd) => (fd, true),
            Err(Errno::EEXIST) if !excl => (usys::shm_open(name, O_RDWR, 0)?, false),
            Err(e) => return Err(e),
        };
        let fresh = match usys::fstat(fd) {
            Ok(st) => st.st_size == 0,
            Err(e) => {
                let _ = usys::close(fd);
                return Err(e);
            }
        };
        if fresh {
            if let Err(e) = usys::ftruncate(fd, len as u64) {
                let _ = usys::close(fd);
                if made {
                    let _ = usys::shm_unlink(name);
                }
                return Err(e);
            }
        }
        map_fd(fd).map(|m| (m, fresh))
    }

    pub fn attach(name: &str) -> Result<Mapping, Errno> {
        map_fd(usys::shm_open(name, O_RDWR, 0)?)
    }

    pub fn unmap(m: Mapping) {
        let _ = usys::munmap(m.base, m.len);
    }

    pub fn unlink(name: &str) -> Result<(), Errno> {
        usys::shm_unlink(name)
    }
}

#[cfg(not(target_os = "none"))]
mod imp {
    use super::{Mapping, Robust};
    use abi::Errno;
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use std::alloc::{alloc_zeroed, dealloc, Layout};
    use std::boxed::Box;
    use std::string::String;
    use std::sync::{Condvar, Mutex};
    use std::time::{Duration, Instant};
    use std::vec::Vec;

    /// Every futex word shares one condition variable: a wake wakes every waiter and each
    /// checks its own word (waits may return early; callers loop, as with the kernel's).
    static PARK: Mutex<u64> = Mutex::new(0);
    static COND: Condvar = Condvar::new();

    struct Obj {
        name: String,
        base: usize,
        len: usize,
        maps: usize,
        linked: bool,
    }
    static OBJS: Mutex<Vec<Obj>> = Mutex::new(Vec::new());
    static NEXT_TID: AtomicUsize = AtomicUsize::new(1);

    std::thread_local! {
        static TID: u32 = NEXT_TID.fetch_add(1, Ordering::Relaxed) as u32;
        static ROBUST: &'static Robust = {
            let r: &'static Robust = Box::leak(Box::new(Robust::new()));
            r.head.next.store(super::head_addr(&r.head), Ordering::Relaxed);
            r
        };
        static WAKES: core::cell::Cell<u64> = const { core::cell::Cell::new(0) };
    }

    fn epoch() -> Instant {
        static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *START.get_or_init(Instant::now)
    }

    pub fn robust() -> &'static Robust {
        ROBUST.with(|r| *r)
    }

    pub fn tid() -> u32 {
        TID.with(|t| *t)
    }

    pub fn now_ns() -> u64 {
        epoch().elapsed().as_nanos() as u64
    }

    static DEAD: Mutex<Vec<u32>> = Mutex::new(Vec::new());

    /// Whether thread `tid` exists: it was handed out and has not "died".
    pub fn alive(tid: u32) -> bool {
        tid != 0
            && (tid as usize) < NEXT_TID.load(Ordering::Relaxed)
            && !DEAD.lock().unwrap().contains(&tid)
    }

    pub fn sleep_ns(ns: u64) {
        std::thread::sleep(Duration::from_nanos(ns));
    }

    /// Sleep until a wake or the deadline (ETIMEDOUT), unless `ready` already says which
    /// word changed: Some(that index) then.
    fn park(
        ready: &dyn Fn() -> Option<usize>,
        deadline: Option<u64>,
    ) -> Result<Option<usize>, Errno> {
        let g = PARK.lock().unwrap();
        if let Some(i) = ready() {
            return Ok(Some(i));
        }
        match deadline {
            None => drop(COND.wait(g).unwrap()),
            Some(d) => {
                let left = d.saturating_sub(now_ns());
                if left == 0 {
                    return Err(Errno::ETIMEDOUT);
                }
                let (_g, t) = COND.wait_timeout(g, Duration::from_nanos(left)).unwrap();
                if t.timed_out() {
                    return Err(Errno::ETIMEDOUT);
                }
            }
        }
        Ok(None)
    }

    pub fn futex_wait(word: &AtomicU32, val: u32, deadline: Option<u64>) -> Result<(), Errno> {
        let changed = || (word.load(Ordering::SeqCst) != val).then_some(0);
        match park(&changed, deadline)? {
            Some(_) => Err(Errno::EAGAIN),
            None => Ok(()),
        }
    }

    pub fn futex_wake(_word: &AtomicU32, n: u32) -> usize {
        WAKES.with(|w| w.set(w.get() + 1));
        let _g = PARK.lock().unwrap();
        COND.notify_all();
        n as usize
    }

    pub fn futex_wait_any(
        words: &[(&AtomicU32, u32)],
        deadline: Option<u64>,
    ) -> Result<usize, Errno> {
        if words.is_empty() || words.len() > abi::sys::FUTEX_WAITV_MAX {
            return Err(Errno::EINVAL);
        }
        let changed = || {
            words
                .iter()
                .position(|(w, v)| w.load(Ordering::SeqCst) != *v)
        };
        match park(&changed, deadline)? {
            Some(_) => Err(Errno::EAGAIN),
            // Woken: the first word that changed (the kernel names the one woken; every
            // waker in the libraries changes its word first).
            None => Ok(changed().unwrap_or(0)),
        }
    }

    const PAGE: usize = 4096;

    fn map(o: &mut Obj) -> Mapping {
        o.maps += 1;
        Mapping {
            base: o.base as *mut u8,
            len: o.len,
        }
    }

    pub fn create(name: &str, len: usize, excl: bool) -> Result<(Mapping, bool), Errno> {
        if !name.starts_with('/') || name.len() < 2 {
            return Err(Errno::EINVAL);
        }
        let mut objs = OBJS.lock().unwrap();
        if let Some(o) = objs.iter_mut().find(|o| o.linked && o.name == name) {
            if excl {
                return Err(Errno::EEXIST);
            }
            return Ok((map(o), false));
        }
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let size = len.checked_next_multiple_of(PAGE).ok_or(Errno::ENOMEM)?;
        let layout = Layout::from_size_align(size, PAGE).map_err(|_| Errno::ENOMEM)?;
        // SAFETY: the layout has a non-zero size.
        let base = unsafe { alloc_zeroed(layout) };
        if base.is_null() {
            return Err(Errno::ENOMEM);
        }
        objs.push(Obj {
            name: name.into(),
            base: base as usize,
            len,
            maps: 0,
            linked: true,
        });
        let o = objs.last_mut().expect("just pushed");
        Ok((map(o), true))
    }

    pub fn attach(name: &str) -> Result<Mapping, Errno> {
        let mut objs = OBJS.lock().unwrap();
        let o = objs
            .iter_mut()
            .find(|o| o.linked && o.name == name)
            .ok_or(Errno::ENOENT)?;
        Ok(map(o))
    }

    fn reap(objs: &mut Vec<Obj>) {
        objs.retain(|o| {
            if o.linked || o.maps > 0 {
                return true;
            }
            let size = o.len.next_multiple_of(PAGE);
            let layout = Layout::from_size_align(size, PAGE).expect("made before");
            // SAFETY: allocated in `create` with this layout; nothing maps it any more.
            unsafe { dealloc(o.base as *mut u8, layout) };
            false
        });
    }

    pub fn unmap(m: Mapping) {
        let mut objs = OBJS.lock().unwrap();
        if let Some(o) = objs.iter_mut().find(|o| o.base == m.base as usize) {
            o.maps = o.maps.saturating_sub(1);
        }
        reap(&mut objs);
    }

    pub fn unlink(name: &str) -> Result<(), Errno> {
        let mut objs = OBJS.lock().unwrap();
        let o = objs
            .iter_mut()
            .find(|o| o.linked && o.name == name)
            .ok_or(Errno::ENOENT)?;
        o.linked = false;
        reap(&mut objs);
        Ok(())
    }

    /// How many futex wakes the calling thread has made (tests: on the target each is a
    /// system call).
    pub fn futex_wakes() -> u64 {
        WAKES.with(|w| w.get())
    }

    /// Is a host object by this name there (tests)?
    pub fn exists(name: &str) -> bool {
        OBJS.lock()
            .unwrap()
            .iter()
            .any(|o| o.linked && o.name == name)
    }

    /// What the kernel does when a thread ends (tests: a thread "dies" holding locks): every
    /// lock on its robust list, and the pending one, is marked FUTEX_OWNER_DIED and a waiter
    /// woken.
    pub fn die() {
        DEAD.lock().unwrap().push(tid());
        crate::lock::exit_robust_list(&robust().head, tid(), &mut |word| {
            futex_wake(word, 1);
        });
    }
}

pub use imp::*;

/// The POSIX object name "/" + `name`, built in `buf` (ENAMETOOLONG if it does not fit,
/// EINVAL if it is not UTF-8): the libraries name their objects without the slash.
pub fn slash_name<'b>(name: &[u8], buf: &'b mut [u8]) -> Result<&'b str, abi::Errno> {
    let out = buf.get_mut(..=name.len()).ok_or(abi::Errno::ENAMETOOLONG)?;
    out[0] = b'/';
    out[1..].copy_from_slice(name);
    core::str::from_utf8(out).map_err(|_| abi::Errno::EINVAL)
}

/// An absolute deadline `ms` milliseconds from now (None: no limit).
pub fn deadline_ms(ms: Option<u64>) -> Option<u64> {
    ms.map(|ms| now_ns().saturating_add(ms.saturating_mul(1_000_000)))
}

/// The robust list's sentinel: an empty list's `next` points at the head itself.
pub fn head_addr(h: &RobustHead) -> usize {
    h as *const RobustHead as usize
}
