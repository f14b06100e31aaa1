//! `exhaust [-u UID] [LIMIT...]`: run kernel limits (tasks fds pipes segments attachments pages
//! heap; all by default) to exhaustion. Each case checks the errno the README names and the
//! number of successes, that the system still answers while exhausted, and that pages, kernel
//! heap, shared-memory pages, tasks and segments are all back at their baseline afterwards.
//! One line per case, then `exhaust: N passed, N failed, N skipped`; the exit status is the
//! number of failures. `-u UID` runs everything (helpers too) as that uid.
#![no_std]
#![no_main]

use abi::shm::{ShmInfo, IPC_PRIVATE, IPC_RMID, SHMALL, SHMMAX, SHMMNI, SHMSEG, SHM_INFO};
use abi::Errno;
use core::fmt::Write;
use core::sync::atomic::{AtomicBool, Ordering};
use heapless::Vec;
use ulib::{print, println, sys};

ulib::entry!(main);

// Kernel limits that `abi` does not export (kernel/src/task.rs, kernel/src/pipe.rs).
const MAX_TASKS: usize = 64;
const MAX_FDS: usize = 16;
const MAX_PIPES: usize = 32;
const PIPE_SIZE: u64 = 16 * 1024;
const PAGE: usize = 4096;
/// The heap case fills the kernel heap with pipe buffers (16 KiB) and segments' page lists
/// (8 bytes a page: 512 KiB for all of SHMALL); with more free than this it cannot get there.
const HEAP_SKIP_ABOVE: u64 = 1 << 20;
const ALL: [&str; 7] = [
    "tasks",
    "fds",
    "pipes",
    "segments",
    "attachments",
    "pages",
    "heap",
];

/// A case's line (no heap: the program must not move its own break, which `pages` measures).
type Msg = heapless::String<256>;
/// Why a check failed (short, so that `Result`s stay small).
type Why = heapless::String<112>;

macro_rules! msg {
    ($($a:tt)*) => {{
        let mut s = Msg::new();
        let _ = write!(s, $($a)*);
        s
    }};
}

macro_rules! why {
    ($($a:tt)*) => {{
        let mut s = Why::new();
        let _ = write!(s, $($a)*);
        s
    }};
}

enum Outcome {
    Pass(Msg),
    Fail(Msg),
    Skip(Msg),
}

/// What must be the same before a case and after it has released everything.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Snap {
    pages_free: u64,
    heap_used: u64,
    shm_pages: u64,
    tasks: usize,
    segments: i32,
}

fn snap() -> Snap {
    let m = sys::meminfo();
    let mut info = ShmInfo::default();
    let _ = sys::shmctl(0, SHM_INFO, &mut info as *mut _ as usize);
    Snap {
        pages_free: m.pages_free,
        heap_used: m.heap_used,
        shm_pages: m.shm_pages,
        tasks: task_count(),
        segments: info.used_ids,
    }
}

fn task_count() -> usize {
    let (mut n, mut i) = (0, 0);
    while let Some((next, _)) = sys::taskinfo(i) {
        n += 1;
        i = next;
    }
    n
}

fn heap_free() -> u64 {
    let m = sys::meminfo();
    m.heap_total - m.heap_used
}

/// ENFILE from pipe2 with the kernel heap too full for another pipe buffer: on a small heap
/// the heap runs out before the descriptor or pipe limit is reached (pipe2 names that
/// ENFILE, as Linux does: it has no ENOMEM).
fn heap_first(e: Errno) -> bool {
    e == Errno::ENFILE && heap_free() < 2 * PIPE_SIZE
}

/// Set once the case's line has been started (by `alive`).
static PREFIXED: AtomicBool = AtomicBool::new(false);

/// The system still answers while the resource is exhausted: a console write (the start of
/// this case's line), getpid, meminfo.
fn alive(name: &str, me: i32) -> Result<(), Why> {
    if PREFIXED.load(Ordering::Relaxed) {
        // The line is started already (a second exhausted state in the same case).
        return (sys::getpid() == me)
            .then_some(())
            .ok_or_else(|| why!("getpid while exhausted: {}", sys::getpid()));
    }
    let line = msg!("exhaust: {}: ", name);
    let w = sys::write(1, line.as_bytes());
    PREFIXED.store(matches!(w, Ok(n) if n > 0), Ordering::Relaxed);
    match w {
        Ok(n) if n == line.len() => {}
        Ok(n) => {
            return Err(why!(
                "console write while exhausted: {} of {}",
                n,
                line.len()
            ))
        }
        Err(e) => return Err(why!("console write while exhausted: {}", e.name())),
    }
    if sys::getpid() != me {
        return Err(why!("getpid while exhausted: {}", sys::getpid()));
    }
    if sys::meminfo().pages_total == 0 {
        return Err(why!("meminfo while exhausted: no pages"));
    }
    Ok(())
}

fn want(what: &str, got: Errno, want: Errno) -> Result<(), Why> {
    if got == want {
        Ok(())
    } else {
        Err(why!("{}: {}, expected {}", what, got.name(), want.name()))
    }
}

fn num(n: usize) -> heapless::String<12> {
    let mut s = heapless::String::new();
    let _ = write!(s, "{}", n);
    s
}

/// The case's result, its release, then the comparison with the baseline.
fn conclude(got: Outcome, released: Result<(), Why>, before: &Snap) -> Outcome {
    let (m, skip) = match got {
        Outcome::Fail(m) => return Outcome::Fail(m),
        Outcome::Pass(m) => (m, false),
        Outcome::Skip(m) => (m, true),
    };
    if let Err(e) = released {
        return Outcome::Fail(msg!("{}, release: {}", m, e));
    }
    let now = snap();
    if now != *before {
        return Outcome::Fail(msg!(
            "{}, back: not at baseline: pages_free {} -> {}, heap_used {} -> {}, shm_pages {} -> {}, tasks {} -> {}, segments {} -> {}",
            m,
            before.pages_free,
            now.pages_free,
            before.heap_used,
            now.heap_used,
            before.shm_pages,
            now.shm_pages,
            before.tasks,
            now.tasks,
            before.segments,
            now.segments
        ));
    }
    if skip {
        Outcome::Skip(m)
    } else {
        Outcome::Pass(msg!("{}, back: ok", m))
    }
}

fn outcome(r: Result<Msg, Why>) -> Outcome {
    match r {
        Ok(m) => Outcome::Pass(m),
        Err(m) => Outcome::Fail(msg!("{}", m)),
    }
}

/// Wait for every helper; each must have ended by itself with status 0.
fn reap(pids: &[i32]) -> Result<(), Why> {
    let mut bad = Ok(());
    for &p in pids {
        match sys::wait(p, 0) {
            Ok((_, 0)) => {}
            Ok((_, st)) => bad = bad.and(Err(why!("helper {} ended with status {:#x}", p, st))),
            Err(e) => bad = bad.and(Err(why!("wait {}: {}", p, e.name()))),
        }
    }
    bad
}

fn close_all(fds: &[usize]) -> Result<(), Why> {
    let mut bad = Ok(());
    for &fd in fds {
        if let Err(e) = sys::close(fd) {
            bad = bad.and(Err(why!("close {}: {}", fd, e.name())));
        }
    }
    bad
}

fn rmid_all(ids: &[i32]) -> Result<(), Why> {
    let mut bad = Ok(());
    for &id in ids {
        if let Err(e) = sys::shmctl(id, IPC_RMID, 0) {
            bad = bad.and(Err(why!("IPC_RMID {}: {}", id, e.name())));
        }
    }
    bad
}

fn poke(p: *mut u8, v: u8) {
    // SAFETY: callers pass an address inside a read-write mapping this process holds (an
    // attachment or its own heap).
    unsafe { core::ptr::write_volatile(p, v) }
}

fn peek(p: *const u8) -> u8 {
    // SAFETY: as for `poke`.
    unsafe { core::ptr::read_volatile(p) }
}

/// Helper: `exhaust hold RFD [SFD]`. Keeps only the inherited descriptors RFD (read end of
/// the release pipe) and SFD (write end of a status pipe), creates pipes until pipe2 fails
/// and reports [count, errno] on SFD if given, then holds everything until RFD reads end of
/// file (the parent closed the write end), and exits 0.
fn hold(args: &[&str]) -> i32 {
    let Some(rfd) = args.first().and_then(|s| s.parse::<usize>().ok()) else {
        return 2;
    };
    let sfd = args.get(1).and_then(|s| s.parse::<usize>().ok());
    // Inherited descriptors we do not use would keep other pipes open (and the release
    // pipe's write end would keep us from ever seeing end of file).
    for fd in 3..MAX_FDS {
        if fd != rfd && Some(fd) != sfd {
            let _ = sys::close(fd);
        }
    }
    if let Some(sfd) = sfd {
        let mut n = 0u8;
        let e = loop {
            match sys::pipe() {
                Ok(_) => n += 1,
                Err(e) => break e,
            }
        };
        if sys::write(sfd, &[n, e.0 as u8]) != Ok(2) {
            return 3;
        }
        let _ = sys::close(sfd);
    }
    let mut b = [0u8; 1];
    loop {
        match sys::read(rfd, &mut b) {
            Ok(0) => return 0,
            Ok(_) | Err(Errno::EINTR) => {}
            Err(_) => return 4,
        }
    }
}

/// Spawn holders until spawn fails: EAGAIN once every free task slot is taken.
fn tasks(me: i32) -> Outcome {
    let before = snap();
    let (rr, rw) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(msg!("release pipe: {}", e.name())),
    };
    let free = MAX_TASKS.saturating_sub(before.tasks);
    let mut pids: Vec<i32, MAX_TASKS> = Vec::new();
    let got = (|| {
        let rs = num(rr);
        let e = loop {
            match sys::spawn("exhaust", &["hold", &rs]) {
                Ok(p) => pids
                    .push(p)
                    .map_err(|_| why!("more than {} tasks", MAX_TASKS))?,
                Err(e) => break e,
            }
        };
        want("spawn", e, Errno::EAGAIN)?;
        if pids.len() != free {
            return Err(why!(
                "EAGAIN after {}, expected {} (the free task slots)",
                pids.len(),
                free
            ));
        }
        alive("tasks", me)?;
        match sys::spawn("exhaust", &["true"]) {
            Err(Errno::EAGAIN) => {}
            Err(e) => return Err(why!("second spawn: {}, expected EAGAIN", e.name())),
            Ok(p) => {
                let _ = sys::wait(p, 0);
                return Err(why!("second spawn succeeded (pid {})", p));
            }
        }
        Ok(msg!("EAGAIN after {}", pids.len()))
    })();
    // Closing the write end gives every holder end of file: they exit by themselves.
    let rel = close_all(&[rw, rr]).and(reap(&pids));
    conclude(outcome(got), rel, &before)
}

/// Pipes until pipe2 fails: EMFILE once all MAX_FDS - 3 descriptors are in use.
fn fds(me: i32) -> Outcome {
    let before = snap();
    let mut open: Vec<usize, MAX_FDS> = Vec::new();
    let got = (|| {
        let e = loop {
            match sys::pipe() {
                Ok((r, w)) => {
                    let _ = open.push(r);
                    let _ = open.push(w);
                }
                Err(e) => break e,
            }
        };
        if heap_first(e) {
            alive("fds", me)?;
            return Ok(msg!(
                "ENFILE (kernel heap full first) after {} descriptors",
                open.len()
            ));
        }
        want("pipe2", e, Errno::EMFILE)?;
        // Pipes come in pairs and 13 descriptors are free: one is left. Close one more and
        // the next pipe takes the last two.
        if open.is_empty() {
            return Err(why!("EMFILE with no descriptor open"));
        }
        let first = open.remove(0);
        sys::close(first).map_err(|e| why!("close {}: {}", first, e.name()))?;
        let (r, w) = sys::pipe().map_err(|e| why!("pipe2 with two free: {}", e.name()))?;
        let _ = open.push(r);
        let _ = open.push(w);
        let e = match sys::pipe() {
            Ok(_) => return Err(why!("pipe2 succeeded with every descriptor in use")),
            Err(e) => e,
        };
        want("pipe2", e, Errno::EMFILE)?;
        if open.len() != MAX_FDS - 3 {
            return Err(why!(
                "EMFILE after {} descriptors, expected {}",
                open.len(),
                MAX_FDS - 3
            ));
        }
        alive("fds", me)?;
        // The descriptors still work: a byte through the last pipe.
        let mut b = [0u8; 1];
        if sys::write(w, b"x") != Ok(1) || sys::read(r, &mut b) != Ok(1) || b[0] != b'x' {
            return Err(why!("a byte through the last pipe did not arrive"));
        }
        Ok(msg!("EMFILE after {}", open.len()))
    })();
    let rel = close_all(&open);
    conclude(outcome(got), rel, &before)
}

/// Pipes system-wide: helpers hold 5 pipes each (their descriptor limit) until one gets
/// ENFILE; the pipe table then holds MAX_PIPES.
fn pipes(me: i32) -> Outcome {
    let before = snap();
    let (rr, rw) = match sys::pipe() {
        Ok(p) => p,
        Err(e) => return Outcome::Fail(msg!("release pipe: {}", e.name())),
    };
    let mut helpers: Vec<i32, MAX_TASKS> = Vec::new();
    let mut own: Vec<usize, MAX_FDS> = Vec::new();
    let got = (|| {
        let rs = num(rr);
        // The release pipe.
        let mut total = 1;
        let e = loop {
            // A status pipe per helper, gone again before the next one: the helper reports
            // how many pipes it made and why it stopped.
            let (sr, sw) = match sys::pipe() {
                Ok(p) => p,
                Err(e) => break e,
            };
            let spawned = sys::spawn("exhaust", &["hold", &rs, &num(sw)]);
            let _ = sys::close(sw);
            let mut rep = [0u8; 2];
            let mut got = 0;
            if let Ok(p) = spawned {
                if helpers.push(p).is_err() {
                    let _ = sys::close(sr);
                    return Err(why!("more than {} helpers", MAX_TASKS));
                }
                while got < 2 {
                    match sys::read(sr, &mut rep[got..]) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got += n,
                    }
                }
            }
            let _ = sys::close(sr);
            let p = spawned.map_err(|e| why!("spawn helper: {}", e.name()))?;
            if got < 2 {
                return Err(why!("helper {} ended without reporting", p));
            }
            total += rep[0] as usize;
            match Errno(rep[1] as i32) {
                Errno::EMFILE => {}
                e => break e,
            }
        };
        if e == Errno::ENFILE {
            // The last status pipe is gone: one more pipe fits.
            let e = loop {
                match sys::pipe() {
                    Ok((r, w)) => {
                        let _ = own.push(r);
                        let _ = own.push(w);
                        total += 1;
                    }
                    Err(e) => break e,
                }
            };
            if heap_first(e) {
                alive("pipes", me)?;
                return Ok(msg!("ENFILE (kernel heap full first) after {}", total));
            }
            want("pipe2", e, Errno::ENFILE)?;
            if total != MAX_PIPES {
                return Err(why!("ENFILE after {}, expected {}", total, MAX_PIPES));
            }
            alive("pipes", me)?;
            return Ok(msg!("ENFILE after {}", total));
        }
        Err(why!("pipe2 after {}: {}, expected ENFILE", total, e.name()))
    })();
    let rel = close_all(&own)
        .and(close_all(&[rw, rr]))
        .and(reap(&helpers));
    conclude(outcome(got), rel, &before)
}

/// One-page segments until shmget fails: ENOSPC once all SHMMNI ids are used.
fn segments(me: i32) -> Outcome {
    let before = snap();
    let free = SHMMNI.saturating_sub(before.segments as usize);
    let mut ids: Vec<i32, SHMMNI> = Vec::new();
    let got = (|| {
        let e = loop {
            match sys::shmget(IPC_PRIVATE, PAGE, 0o600) {
                Ok(id) => ids
                    .push(id)
                    .map_err(|_| why!("more than {} segments", SHMMNI))?,
                Err(e) => break e,
            }
        };
        want("shmget", e, Errno::ENOSPC)?;
        if ids.len() != free {
            return Err(why!(
                "ENOSPC after {}, expected {} (the free ids)",
                ids.len(),
                free
            ));
        }
        alive("segments", me)?;
        // The segments still work: attach one, write, read back.
        let p = sys::shmat(ids[0], 0, 0).map_err(|e| why!("shmat: {}", e.name()))?;
        poke(p, 0x5a);
        let v = peek(p);
        sys::shmdt(p).map_err(|e| why!("shmdt: {}", e.name()))?;
        if v != 0x5a {
            return Err(why!("segment read back {:#x}", v));
        }
        Ok(msg!("ENOSPC after {}", ids.len()))
    })();
    let rel = rmid_all(&ids);
    conclude(outcome(got), rel, &before)
}

/// One segment attached until shmat fails: EMFILE after exactly SHMSEG attachments.
fn attachments(me: i32) -> Outcome {
    let before = snap();
    let id = match sys::shmget(IPC_PRIVATE, PAGE, 0o600) {
        Ok(id) => id,
        Err(e) => return Outcome::Fail(msg!("shmget: {}", e.name())),
    };
    let mut at: Vec<*mut u8, SHMSEG> = Vec::new();
    let got = (|| {
        let e = loop {
            match sys::shmat(id, 0, 0) {
                Ok(p) => at
                    .push(p)
                    .map_err(|_| why!("more than {} attachments", SHMSEG))?,
                Err(e) => break e,
            }
        };
        want("shmat", e, Errno::EMFILE)?;
        if at.len() != SHMSEG {
            return Err(why!("EMFILE after {}, expected {}", at.len(), SHMSEG));
        }
        alive("attachments", me)?;
        // Every attachment is the same page: written through the first, read through the last.
        poke(at[0], 0xa5);
        let v = peek(at[SHMSEG - 1]);
        if v != 0xa5 {
            return Err(why!("last attachment reads {:#x}", v));
        }
        Ok(msg!("EMFILE after {}", at.len()))
    })();
    let mut rel = Ok(());
    for &p in &at {
        if let Err(e) = sys::shmdt(p) {
            rel = rel.and(Err(why!("shmdt: {}", e.name())));
        }
    }
    let rel = rel.and(rmid_all(&[id]));
    conclude(outcome(got), rel, &before)
}

/// Segments from SHMMAX down to one page, each size until shmget fails: ENOMEM when not even
/// a page (or, on a small kernel heap, not even a one-entry page list) is left. Returns the
/// last errno.
fn fill_segments(ids: &mut Vec<i32, SHMMNI>) -> Result<Errno, Why> {
    let mut size = SHMMAX;
    loop {
        match sys::shmget(IPC_PRIVATE, size, 0o600) {
            Ok(id) => ids
                .push(id)
                .map_err(|_| why!("more than {} segments", SHMMNI))?,
            Err(Errno::ENOMEM) if size > PAGE => size /= 2,
            Err(e) => return Ok(e),
        }
    }
}

/// Physical pages: segments, then the heap (brk), until nothing is left; ENOMEM.
fn pages(me: i32) -> Outcome {
    let before = snap();
    let mut ids: Vec<i32, SHMMNI> = Vec::new();
    let got = (|| {
        let e = fill_segments(&mut ids)?;
        want("shmget", e, Errno::ENOMEM)?;
        let m = sys::meminfo();
        let taken = m.shm_pages - before.shm_pages;
        // ENOMEM with pages still free: SHMALL was reached (more RAM than SHMALL pages), or
        // the kernel heap (the segments' page lists) ran out.
        let first = if m.pages_free == 0 {
            ""
        } else if m.shm_pages >= SHMALL as u64 {
            " (SHMALL reached first)"
        } else {
            " (kernel heap full first)"
        };
        alive("pages", me)?;
        if m.pages_free == 0 {
            // A new process needs pages for its tables and stack.
            match sys::spawn("exhaust", &["true"]) {
                Err(Errno::ENOMEM) => {}
                Err(e) => return Err(why!("spawn with no pages: {}, expected ENOMEM", e.name())),
                Ok(p) => {
                    let st = sys::wait(p, 0).map(|r| r.1);
                    if st != Ok(127 << 8) {
                        return Err(why!("spawn with no pages: pid {} ended {:?}", p, st));
                    }
                }
            }
            // Attaching the largest segment needs translation tables: either they exist
            // or the attach fails with ENOMEM, leaving nothing behind.
            match sys::shmat(ids[0], 0, 0) {
                Ok(a) => sys::shmdt(a).map_err(|e| why!("shmdt: {}", e.name()))?,
                Err(Errno::ENOMEM) => {}
                Err(e) => return Err(why!("shmat with no pages: {}", e.name())),
            }
        }
        Ok(msg!(
            "ENOMEM{} after {} segments ({} pages)",
            first,
            ids.len(),
            taken
        ))
    })();
    let rel = rmid_all(&ids);
    let shm = conclude(outcome(got), rel, &before);
    let Outcome::Pass(shm) = shm else {
        return shm;
    };
    // The combined line says "back: ok" once, at the end.
    let shm = msg!("{}", shm.strip_suffix(", back: ok").unwrap_or(&shm));
    // The heap: grow the break by halving steps until even one page fails. brk reports that
    // by returning the old break (what libc's sbrk turns into ENOMEM).
    let before = snap();
    let base = sys::brk(0);
    let mut cur = base;
    let got = (|| {
        let mut step = SHMMAX;
        loop {
            let r = sys::brk(cur + step);
            if r == cur + step {
                cur = r;
            } else if r != cur {
                return Err(why!(
                    "brk({:#x}) returned {:#x}, not the old break",
                    cur + step,
                    r
                ));
            } else if step > PAGE {
                step /= 2;
            } else {
                break;
            }
        }
        alive("pages", me)?;
        let m = sys::meminfo();
        // One page more may need a translation table too: two pages at most can be left.
        if m.pages_free > 2 {
            return Err(why!(
                "brk stopped at +{} KiB with {} pages free",
                (cur - base) / 1024,
                m.pages_free
            ));
        }
        // The last page is really there.
        if cur > base {
            poke((cur - 1) as *mut u8, 7);
            if peek((cur - 1) as *const u8) != 7 {
                return Err(why!("the heap's last byte does not hold"));
            }
        }
        Ok(msg!("{}, brk stops at +{} MiB", shm, (cur - base) >> 20))
    })();
    let rel = if sys::brk(base) == base {
        Ok(())
    } else {
        Err(why!("brk back to {:#x} failed", base))
    };
    conclude(outcome(got), rel, &before)
}

/// The kernel heap: pipe buffers (16 KiB) and segments' page lists (8 bytes a page) until a
/// one-page segment fails with pages still free: ENOMEM. Skipped when the heap is too large
/// for those to use up (boot with kheap=256K).
fn heap(me: i32) -> Outcome {
    let before = snap();
    let free = heap_free();
    if free > HEAP_SKIP_ABOVE {
        return Outcome::Skip(msg!(
            "{} KiB of kernel heap free, more than segments and pipes can use: needs kheap=256K",
            free / 1024
        ));
    }
    let mut own: Vec<usize, MAX_FDS> = Vec::new();
    let mut ids: Vec<i32, SHMMNI> = Vec::new();
    let got = (|| {
        // Pipe buffers first, leaving three of the 13 free descriptors for the check below.
        while own.len() < MAX_FDS - 3 - 3 {
            match sys::pipe() {
                Ok((r, w)) => {
                    let _ = own.push(r);
                    let _ = own.push(w);
                }
                Err(Errno::ENFILE) => break,
                Err(e) => return Err(why!("pipe2: {}", e.name())),
            }
        }
        let e = fill_segments(&mut ids)?;
        let m = sys::meminfo();
        if e != Errno::ENOMEM || m.pages_free < 64 {
            return Ok(None);
        }
        let left = m.heap_total - m.heap_used;
        alive("heap", me)?;
        // A pipe buffer cannot be had either.
        match sys::pipe() {
            Err(Errno::ENFILE) => {}
            Err(e) => {
                return Err(why!(
                    "pipe2 with the heap full: {}, expected ENFILE",
                    e.name()
                ))
            }
            Ok((r, w)) => {
                let _ = own.push(r);
                let _ = own.push(w);
                return Err(why!("pipe2 succeeded with the heap full"));
            }
        }
        // What needs no kernel heap still works: a process starts and ends, a segment
        // attaches.
        let p = sys::spawn("exhaust", &["true"])
            .map_err(|e| why!("spawn with the heap full: {}", e.name()))?;
        match sys::wait(p, 0) {
            Ok((_, 0)) => {}
            r => return Err(why!("pid {} with the heap full ended {:?}", p, r)),
        }
        if let Some(&id) = ids.last() {
            let a = sys::shmat(id, 0, 0).map_err(|e| why!("shmat: {}", e.name()))?;
            poke(a, 1);
            sys::shmdt(a).map_err(|e| why!("shmdt: {}", e.name()))?;
        }
        Ok(Some(msg!(
            "ENOMEM after {} pipes and {} segments ({} bytes left)",
            own.len() / 2,
            ids.len(),
            left
        )))
    })();
    let got = match got {
        Ok(Some(m)) => Outcome::Pass(m),
        Ok(None) => Outcome::Skip(msg!(
            "pages or ids ran out before the kernel heap: needs kheap=256K"
        )),
        Err(m) => Outcome::Fail(msg!("{}", m)),
    };
    let rel = close_all(&own).and(rmid_all(&ids));
    conclude(got, rel, &before)
}

fn usage() -> i32 {
    println!("usage: exhaust [-u UID] [tasks|fds|pipes|segments|attachments|pages|heap]...");
    2
}

fn main(args: &[&str]) -> i32 {
    match args.get(1) {
        Some(&"hold") => return hold(&args[2..]),
        Some(&"true") => return 0,
        _ => {}
    }
    let mut rest = &args[1.min(args.len())..];
    if rest.first() == Some(&"-u") {
        let Some(uid) = rest.get(1).and_then(|s| s.parse::<u32>().ok()) else {
            return usage();
        };
        if let Err(e) = sys::setgid(uid).and_then(|_| sys::setuid(uid)) {
            println!("exhaust: setuid {}: {} ({})", uid, e.name(), e.text());
            return 2;
        }
        rest = &rest[2..];
    }
    let list: &[&str] = if rest.is_empty() { &ALL } else { rest };
    if list.iter().any(|l| !ALL.contains(l)) {
        return usage();
    }
    let me = sys::getpid();
    let (mut pass, mut fail, mut skip) = (0, 0, 0);
    for &name in list {
        PREFIXED.store(false, Ordering::Relaxed);
        let out = match name {
            "tasks" => tasks(me),
            "fds" => fds(me),
            "pipes" => pipes(me),
            "segments" => segments(me),
            "attachments" => attachments(me),
            "pages" => pages(me),
            _ => heap(me),
        };
        if !PREFIXED.load(Ordering::Relaxed) {
            print!("exhaust: {}: ", name);
        }
        match out {
            Outcome::Pass(m) => {
                pass += 1;
                println!("{}", m);
            }
            Outcome::Fail(m) => {
                fail += 1;
                println!("FAIL: {}", m);
            }
            Outcome::Skip(m) => {
                skip += 1;
                println!("skip ({})", m);
            }
        }
    }
    println!(
        "exhaust: {} passed, {} failed, {} skipped",
        pass, fail, skip
    );
    fail
}
