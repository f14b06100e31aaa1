//! stress: processes in pairs hand shared-memory segments to each other under preemption,
//! checking every word; the supervisor then checks that pages and kernel heap are back.
//!
//! Usage: `stress [ROUNDS] [PROCS] [SEED]` (defaults 200, 32, 1; PROCS even, at most 32).
//! Workers are this program again: `stress worker a|b PAIR ROUNDS CTRL_ID SEED`.
//!
//! Each pair shares a one-page control segment (futex word, segment id, size, counters). Each
//! round side A creates a fresh IPC_PRIVATE segment (one page to 256 KiB, now and then 1 to 4
//! MiB), checks it reads zero while filling it with a pattern seeded by pair and round, and
//! hands it to B; B attaches, checks A's pattern while writing its own, and hands back; A
//! checks B's pattern. Both check that the rest of the last page still reads zero. Who
//! detaches and who removes, and when, varies by round (see `Variant`). Pairs run at different priorities, so hand-offs
//! preempt and equal priorities are time-sliced in the middle of the loops.
#![no_std]
#![no_main]
use core::fmt::Write;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use ulib::abi::shm::{ShmidDs, IPC_CREAT, IPC_PRIVATE, IPC_RMID, IPC_SET};
use ulib::abi::sys::{wexitstatus, wifexited, PRIO_DEFAULT};
use ulib::{println, sys, Errno};

ulib::entry!(main);

const PAGE: usize = 4096;
const MAX_PROCS: usize = 32;
/// Workers run as this uid and gid: nothing in the exchange needs root.
const UID: u32 = 1000;
/// One futex wait; a wait that ends by timeout although the wake came well inside it is a
/// lost wake-up.
const WAIT_NS: u64 = 10_000_000_000;
/// How long a side may see no progress from its peer before it gives up (the peer may be
/// starved by higher-priority pairs for a while, which is not a failure).
const STALL_NS: u64 = 60_000_000_000;

/// The per-pair control page, shared by A, B and the supervisor.
#[repr(C)]
struct Ctrl {
    /// Hand-off counter and futex word: each hand-off adds one and wakes the peer.
    seq: AtomicU32,
    /// Set by a side that failed, so that its peer stops at once instead of timing out.
    abort: AtomicU32,
    /// The segment of the current round and its size in bytes.
    shmid: AtomicU32,
    size: AtomicU32,
    /// The hand-off number whose futex_wake has returned, and when (monotonic ns).
    woke_tag: AtomicU32,
    _pad: u32,
    woke_ns: AtomicU64,
    /// Totals, for the supervisor's summary: segments created, bytes checked by A and by B,
    /// and rounds each side completed.
    segs: AtomicU64,
    a_bytes: AtomicU64,
    b_bytes: AtomicU64,
    a_rounds: AtomicU64,
    b_rounds: AtomicU64,
}

fn ctrl_at(p: *mut u8) -> &'static Ctrl {
    // SAFETY: `p` is a page-aligned, zero-initialised attachment of at least one page that
    // stays attached while the reference is used (workers never detach it, the supervisor
    // only after its last look); Ctrl is only atomics, so every process may share it.
    unsafe { &*(p as *const Ctrl) }
}

fn main(args: &[&str]) -> i32 {
    if args.get(1) == Some(&"worker") {
        return worker(&args[2..]);
    }
    supervisor(args)
}

fn num(s: Option<&&str>) -> Option<u64> {
    s.and_then(|s| s.parse().ok())
}

// ---------------------------------------------------------------------------------------
// Patterns and sizes

/// A well-mixed 64-bit value (splitmix64's finaliser).
fn mix(mut x: u64) -> u64 {
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// The base of the pattern `who` ('A', 'B', 'C') writes in `round` of `pair`.
fn base(seed: u64, pair: u64, round: u64, who: u8) -> u64 {
    mix(seed ^ mix((pair << 40) ^ (round << 8) ^ who as u64))
}

/// Word `i` of a pattern: differs between patterns and between positions, so a page of
/// another segment, a stale page or a page mapped in the wrong place all show.
#[inline(always)]
fn pat(base: u64, i: usize) -> u64 {
    let x = base ^ (i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    x ^ (x >> 29)
}

/// The segment size of a round, in bytes (a multiple of 8): mostly 1 to 64 pages, often not a
/// whole number of pages; every 32nd round a quarter of the pairs take 1 to 4 MiB, including
/// whole 2 MiB blocks.
fn size_of_round(seed: u64, pair: u64, round: u64) -> usize {
    let r = mix(seed ^ mix(pair << 32 | round));
    if round % 32 == 31 && pair % 4 == (round / 32) % 4 {
        return match r % 4 {
            0 => 2 << 20,
            1 => 4 << 20,
            2 => (1 << 20) + (r >> 8) as usize % 256 * PAGE,
            _ => (3 << 20) - 8,
        };
    }
    let pages = 1 + (r >> 8) as usize % 64;
    match r % 4 {
        0 => pages * PAGE,
        _ => (pages * PAGE - (r >> 16) as usize % 512 * 8).max(8),
    }
}

/// Who detaches and who removes, per round.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Variant {
    /// A stays attached; B attaches, detaches; A detaches and removes.
    Plain,
    /// B removes while both are attached (the segment is marked and lives on); A still sees
    /// B's data, then its detach frees the pages.
    BRemoves,
    /// A detaches before B attaches (an unmarked segment with no attachment survives); A
    /// attaches again to check B's data and removes while attached.
    ADetachesFirst,
    /// Both attached, A removes and writes a third pattern, detaches; B, the last attachment
    /// of a marked segment, checks it and its detach frees the pages. Four hand-offs.
    ARemovesBLast,
}

fn variant(seed: u64, pair: u64, round: u64) -> Variant {
    match (mix(seed ^ 0x5eed ^ mix(pair << 32 | round)) >> 3) % 4 {
        0 => Variant::Plain,
        1 => Variant::BRemoves,
        2 => Variant::ADetachesFirst,
        _ => Variant::ARemovesBLast,
    }
}

/// (priority, sleeps per round in ms) of each side. One pair in four is time-sliced at the
/// default priority, two have one side above the other (a hand-off to it preempts the one
/// that woke it), and one pair in eight runs both sides high but sleeps every round, so it
/// preempts everyone else when it wakes without starving them.
fn sched_of(pair: u64, side: Side) -> (u32, u64) {
    let d = PRIO_DEFAULT;
    match (pair % 8, side) {
        (1 | 5, Side::A) | (2 | 6, Side::B) => (d + 10, 0),
        (3, Side::A) => (d + 20, 2),
        (3, Side::B) => (d + 20, 0),
        _ => (d, 0),
    }
}

// ---------------------------------------------------------------------------------------
// Workers

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Side {
    A,
    B,
}

/// Why a worker stopped: it printed the details already; Abort means its peer failed first.
enum Stop {
    Fail,
    Abort,
}

struct Worker {
    side: Side,
    pair: u64,
    seed: u64,
    ctrl: &'static Ctrl,
    /// The hand-off count this side has seen or made.
    seq: u32,
    bytes: u64,
    round: u64,
}

impl Worker {
    fn fail(&self, what: core::fmt::Arguments) -> Stop {
        println!(
            "stress worker: pair {} side {:?} round {}: {}",
            self.pair, self.side, self.round, what
        );
        self.ctrl.abort.store(1, Ordering::Release);
        self.ctrl.seq.fetch_add(1, Ordering::Release);
        let _ = sys::futex_wake(&self.ctrl.seq, u32::MAX);
        Stop::Fail
    }

    /// Give the turn to the peer.
    fn hand_off(&mut self) -> Result<(), Stop> {
        self.seq += 1;
        self.ctrl.seq.store(self.seq, Ordering::Release);
        sys::futex_wake(&self.ctrl.seq, 1)
            .map_err(|e| self.fail(format_args!("futex_wake: {}", e.name())))?;
        self.ctrl.woke_ns.store(sys::now_ns(), Ordering::Relaxed);
        self.ctrl.woke_tag.store(self.seq, Ordering::Release);
        Ok(())
    }

    /// Wait for the peer's hand-off (seq one past ours).
    fn take_turn(&mut self) -> Result<(), Stop> {
        let want = self.seq + 1;
        let begun = sys::now_ns();
        loop {
            // The counter first: an abort is stored before its bump of the counter, so a
            // bumped counter is never mistaken for a hand-off.
            let cur = self.ctrl.seq.load(Ordering::Acquire);
            if self.ctrl.abort.load(Ordering::Acquire) != 0 {
                return Err(Stop::Abort);
            }
            if cur == want {
                self.seq = want;
                return Ok(());
            }
            if cur != self.seq {
                return Err(self.fail(format_args!("hand-off counter {} (expected {})", cur, want)));
            }
            let start = sys::now_ns();
            match sys::futex_wait(&self.ctrl.seq, cur, Some(WAIT_NS)) {
                Ok(()) | Err(Errno::EAGAIN) | Err(Errno::EINTR) => {}
                Err(Errno::ETIMEDOUT) => {
                    // A wake that returned well inside our wait should have ended it.
                    let tag = self.ctrl.woke_tag.load(Ordering::Acquire);
                    let at = self.ctrl.woke_ns.load(Ordering::Relaxed);
                    if tag == want && at > start && at + 1_000_000_000 < start + WAIT_NS {
                        return Err(self.fail(format_args!(
                            "lost wake-up: futex_wait timed out after {} ms although the peer's futex_wake returned {} ms into it",
                            (sys::now_ns() - start) / 1_000_000,
                            (at - start) / 1_000_000
                        )));
                    }
                    if sys::now_ns() - begun > STALL_NS {
                        return Err(self.fail(format_args!(
                            "no hand-off from the peer for {} s (seq {})",
                            STALL_NS / 1_000_000_000,
                            cur
                        )));
                    }
                }
                Err(e) => return Err(self.fail(format_args!("futex_wait: {}", e.name()))),
            }
        }
    }

    fn attach(&self, id: i32) -> Result<*mut u8, Stop> {
        sys::shmat(id, 0, 0).map_err(|e| self.fail(format_args!("shmat {}: {}", id, e.name())))
    }

    fn detach(&self, p: *mut u8) -> Result<(), Stop> {
        sys::shmdt(p).map_err(|e| self.fail(format_args!("shmdt {:p}: {}", p, e.name())))
    }

    fn remove(&self, id: i32) -> Result<(), Stop> {
        sys::shmctl(id, IPC_RMID, 0)
            .map(|_| ())
            .map_err(|e| self.fail(format_args!("IPC_RMID {}: {}", id, e.name())))
    }

    /// The number of attachments, from IPC_STAT.
    fn nattch(&self, id: i32) -> Result<u64, Stop> {
        sys::shm_stat(id)
            .map(|ds| ds.shm_nattch)
            .map_err(|e| self.fail(format_args!("IPC_STAT {}: {}", id, e.name())))
    }

    fn report(&self, off: usize, expected: u64, got: u64, what: &str, bad: usize) -> Stop {
        self.fail(format_args!(
            "corruption in {}: offset {:#x}: expected {:#018x}, got {:#018x} ({} bad words)",
            what, off, expected, got, bad
        ))
    }

    /// Check that `words` read as pattern `old` (None: zero) while writing pattern `new`
    /// (None: leave them).
    fn check(
        &mut self,
        p: *mut u8,
        words: usize,
        old: Option<u64>,
        new: Option<u64>,
        what: &str,
    ) -> Result<(), Stop> {
        // SAFETY: `p` is a live attachment of at least `words` 8-byte words, and by the
        // hand-off protocol no other process touches it until we hand off.
        let s = unsafe { core::slice::from_raw_parts_mut(p as *mut u64, words) };
        let mut first = None;
        let mut bad = 0;
        for (i, w) in s.iter_mut().enumerate() {
            let want = old.map_or(0, |b| pat(b, i));
            let got = *w;
            if got != want {
                first.get_or_insert((i, want, got));
                bad += 1;
            }
            if let Some(b) = new {
                *w = pat(b, i);
            }
        }
        self.bytes += (words * 8) as u64;
        match first {
            None => Ok(()),
            Some((i, want, got)) => Err(self.report(i * 8, want, got, what, bad)),
        }
    }

    /// The bytes past `size` up to the end of its last page must read zero (nobody writes
    /// there; both sides look).
    fn check_tail(&mut self, p: *mut u8, size: usize) -> Result<(), Stop> {
        let end = size.div_ceil(PAGE) * PAGE;
        // SAFETY: the attachment spans whole pages, so [size, end) is mapped.
        let tail = unsafe { core::slice::from_raw_parts(p.add(size), end - size) };
        self.bytes += tail.len() as u64;
        match tail.iter().position(|&b| b != 0) {
            None => Ok(()),
            Some(i) => Err(self.report(size + i, 0, tail[i] as u64, "the zero tail", 1)),
        }
    }

    fn round_a(&mut self, r: u64) -> Result<(), Stop> {
        let (pair, seed) = (self.pair, self.seed);
        let size = size_of_round(seed, pair, r);
        let words = size / 8;
        let v = variant(seed, pair, r);
        let id = sys::shmget(IPC_PRIVATE, size, IPC_CREAT | 0o600)
            .map_err(|e| self.fail(format_args!("shmget {} bytes: {}", size, e.name())))?;
        self.ctrl.segs.fetch_add(1, Ordering::Relaxed);
        let mut p = self.attach(id)?;
        self.check(
            p,
            words,
            None,
            Some(base(seed, pair, r, b'A')),
            "a new segment",
        )?;
        if v == Variant::ADetachesFirst {
            self.detach(p)?;
        }
        self.ctrl.shmid.store(id as u32, Ordering::Relaxed);
        self.ctrl.size.store(size as u32, Ordering::Relaxed);
        self.hand_off()?;
        self.take_turn()?;
        match v {
            Variant::Plain => {
                self.check(p, words, Some(base(seed, pair, r, b'B')), None, "B's data")?;
                self.check_tail(p, size)?;
                let n = self.nattch(id)?;
                if n != 1 {
                    return Err(self.fail(format_args!("nattch {} after B detached", n)));
                }
                self.detach(p)?;
                self.remove(id)?;
            }
            Variant::BRemoves => {
                // Marked by B: by id it is gone, yet our mapping still holds B's data.
                if let Ok(ds) = sys::shm_stat(id) {
                    return Err(self.fail(format_args!(
                        "IPC_STAT of removed segment {} succeeded (mode {:#o})",
                        id, ds.shm_perm.mode
                    )));
                }
                self.check(p, words, Some(base(seed, pair, r, b'B')), None, "B's data")?;
                self.check_tail(p, size)?;
                self.detach(p)?;
            }
            Variant::ADetachesFirst => {
                p = self.attach(id)?;
                self.check(p, words, Some(base(seed, pair, r, b'B')), None, "B's data")?;
                self.check_tail(p, size)?;
                self.remove(id)?;
                self.detach(p)?;
            }
            Variant::ARemovesBLast => {
                let b = base(seed, pair, r, b'B');
                self.remove(id)?;
                let c = Some(base(seed, pair, r, b'C'));
                self.check(p, words, Some(b), c, "B's data")?;
                self.check_tail(p, size)?;
                self.detach(p)?;
                self.hand_off()?;
                self.take_turn()?;
            }
        }
        Ok(())
    }

    fn round_b(&mut self, r: u64) -> Result<(), Stop> {
        let (pair, seed) = (self.pair, self.seed);
        self.take_turn()?;
        let id = self.ctrl.shmid.load(Ordering::Relaxed) as i32;
        let size = self.ctrl.size.load(Ordering::Relaxed) as usize;
        if size != size_of_round(seed, pair, r) {
            return Err(self.fail(format_args!("segment size {} published", size)));
        }
        let words = size / 8;
        let v = variant(seed, pair, r);
        let p = self.attach(id)?;
        let a = Some(base(seed, pair, r, b'A'));
        self.check(p, words, a, Some(base(seed, pair, r, b'B')), "A's data")?;
        self.check_tail(p, size)?;
        match v {
            Variant::Plain | Variant::ADetachesFirst => self.detach(p)?,
            Variant::BRemoves => {
                self.remove(id)?;
                self.detach(p)?;
            }
            Variant::ARemovesBLast => {
                let n = self.nattch(id)?;
                if n != 2 {
                    return Err(self.fail(format_args!("nattch {} with A and B attached", n)));
                }
                self.hand_off()?;
                self.take_turn()?;
                let c = Some(base(seed, pair, r, b'C'));
                self.check(p, words, c, None, "A's data after A removed and detached")?;
                self.detach(p)?;
            }
        }
        self.hand_off()
    }
}

fn worker(args: &[&str]) -> i32 {
    let side = match args.first() {
        Some(&"a") => Side::A,
        Some(&"b") => Side::B,
        _ => return usage(),
    };
    let (Some(pair), Some(rounds), Some(ctrl_id), Some(seed)) = (
        num(args.get(1)),
        num(args.get(2)),
        num(args.get(3)),
        num(args.get(4)),
    ) else {
        return usage();
    };
    let (prio, nap) = sched_of(pair, side);
    if let Err(e) = sys::setpriority(0, prio) {
        println!(
            "stress worker: pair {} setpriority {}: {}",
            pair,
            prio,
            e.name()
        );
        return 1;
    }
    // Drop root before touching shared memory: the exchange must work unprivileged.
    if let Err(e) = sys::setgid(UID).and_then(|_| sys::setuid(UID)) {
        println!("stress worker: pair {} setuid {}: {}", pair, UID, e.name());
        return 1;
    }
    let ctrl = match sys::shmat(ctrl_id as i32, 0, 0) {
        Ok(p) => ctrl_at(p),
        Err(e) => {
            println!(
                "stress worker: pair {} shmat control {}: {}",
                pair,
                ctrl_id,
                e.name()
            );
            return 1;
        }
    };
    let mut w = Worker {
        side,
        pair,
        seed,
        ctrl,
        seq: 0,
        bytes: 0,
        round: 0,
    };
    for r in 0..rounds {
        w.round = r;
        if nap > 0 {
            let _ = sys::sleep_ms(nap);
        }
        let done = match side {
            Side::A => w.round_a(r),
            Side::B => w.round_b(r),
        };
        match done {
            Ok(()) => {}
            Err(Stop::Fail) => return 1,
            Err(Stop::Abort) => return 2,
        }
        match side {
            Side::A => ctrl.a_rounds.fetch_add(1, Ordering::Relaxed),
            Side::B => ctrl.b_rounds.fetch_add(1, Ordering::Relaxed),
        };
    }
    match side {
        Side::A => ctrl.a_bytes.store(w.bytes, Ordering::Relaxed),
        Side::B => ctrl.b_bytes.store(w.bytes, Ordering::Relaxed),
    }
    0
}

fn usage() -> i32 {
    println!("usage: stress [ROUNDS] [PROCS] [SEED]   (PROCS even, 2..=32)");
    3
}

// ---------------------------------------------------------------------------------------
// Supervisor

fn supervisor(args: &[&str]) -> i32 {
    let parsed: [Option<u64>; 3] = core::array::from_fn(|i| match args.get(i + 1) {
        None => Some([200, MAX_PROCS as u64, 1][i]),
        Some(s) => s.parse().ok(),
    });
    let [Some(rounds), Some(procs), Some(seed)] = parsed else {
        return usage();
    };
    let procs = procs as usize;
    if args.len() > 4 || rounds == 0 || !(2..=MAX_PROCS).contains(&procs) || procs % 2 == 1 {
        return usage();
    }
    // No heap from here on: the baseline includes this process as it stands.
    let before = sys::meminfo();
    let mut fail = Fail(None);
    let (segs, bytes) = run(rounds, procs / 2, seed, &mut fail);
    let after = sys::meminfo();
    if fail.0.is_none()
        && (after.pages_free, after.heap_used, after.shm_pages)
            != (before.pages_free, before.heap_used, before.shm_pages)
    {
        fail.note(format_args!(
            "not back at baseline: pages_free {} -> {}, heap_used {} -> {}, shm_pages {} -> {}",
            before.pages_free,
            after.pages_free,
            before.heap_used,
            after.heap_used,
            before.shm_pages,
            after.shm_pages
        ));
    }
    match fail.0 {
        Some(why) => {
            println!("stress: FAIL: {}", why);
            1
        }
        None => {
            println!(
                "stress: OK: {} rounds x {} processes, {} segments, {} bytes verified, pages and heap back",
                rounds, procs, segs, bytes
            );
            0
        }
    }
}

/// The first failure the supervisor saw (it goes on to wait for every worker and clean up).
struct Fail(Option<heapless::String<200>>);

impl Fail {
    fn note(&mut self, what: core::fmt::Arguments) {
        if self.0.is_none() {
            let mut s = heapless::String::new();
            let _ = s.write_fmt(what);
            self.0 = Some(s);
        }
    }
}

/// Tell every pair to stop (their peers may never come).
fn abort_all(ctrls: &[(i32, &'static Ctrl)]) {
    for (_, c) in ctrls {
        c.abort.store(1, Ordering::Release);
        c.seq.fetch_add(1, Ordering::Release);
        let _ = sys::futex_wake(&c.seq, u32::MAX);
    }
}

/// Control segments, workers, waiting, cleaning up; returns (segments, bytes verified).
fn run(rounds: u64, pairs: usize, seed: u64, fail: &mut Fail) -> (u64, u64) {
    let mut ctrls: heapless::Vec<(i32, &'static Ctrl), { MAX_PROCS / 2 }> = heapless::Vec::new();
    for k in 0..pairs {
        match control_segment() {
            Ok(c) => {
                let _ = ctrls.push(c);
            }
            Err(e) => {
                fail.note(format_args!("control segment {}: {}", k, e.name()));
                break;
            }
        }
    }
    // pids[2k] is pair k's A, pids[2k + 1] its B.
    let mut pids: heapless::Vec<i32, MAX_PROCS> = heapless::Vec::new();
    'spawn: for (k, &(id, _)) in ctrls.iter().enumerate() {
        if fail.0.is_some() {
            break;
        }
        for side in ["a", "b"] {
            let mut a: [heapless::String<24>; 4] = Default::default();
            let _ = write!(a[0], "{}", k);
            let _ = write!(a[1], "{}", rounds);
            let _ = write!(a[2], "{}", id);
            let _ = write!(a[3], "{}", seed);
            match sys::spawn("stress", &["worker", side, &a[0], &a[1], &a[2], &a[3]]) {
                Ok(pid) => {
                    let _ = pids.push(pid);
                }
                Err(e) => {
                    fail.note(format_args!("spawn worker {} {}: {}", side, k, e.name()));
                    abort_all(&ctrls);
                    break 'spawn;
                }
            }
        }
    }
    // Every worker, whatever happened; the first bad status is the verdict.
    for _ in 0..pids.len() {
        match sys::wait(-1, 0) {
            Ok((_, 0)) => {}
            Ok((pid, st)) => {
                let i = pids.iter().position(|&p| p == pid).unwrap_or(MAX_PROCS);
                let (pair, side) = (i / 2, if i % 2 == 0 { 'A' } else { 'B' });
                if wifexited(st) {
                    fail.note(format_args!(
                        "worker pid {} (pair {} side {}) exited with status {}",
                        pid,
                        pair,
                        side,
                        wexitstatus(st)
                    ));
                } else {
                    fail.note(format_args!(
                        "worker pid {} (pair {} side {}) killed by signal {}",
                        pid,
                        pair,
                        side,
                        st & 0x7f
                    ));
                }
                // Its peer would only time out.
                if let Some(c) = ctrls.get(pair) {
                    abort_all(core::slice::from_ref(c));
                }
            }
            Err(e) => {
                fail.note(format_args!("wait: {}", e.name()));
                break;
            }
        }
    }
    let (mut segs, mut bytes) = (0, 0);
    for (k, &(id, c)) in ctrls.iter().enumerate() {
        segs += c.segs.load(Ordering::Relaxed);
        bytes += c.a_bytes.load(Ordering::Relaxed) + c.b_bytes.load(Ordering::Relaxed);
        let (ra, rb) = (
            c.a_rounds.load(Ordering::Relaxed),
            c.b_rounds.load(Ordering::Relaxed),
        );
        if ra != rounds || rb != rounds {
            fail.note(format_args!(
                "pair {}: rounds done A {} B {} of {}",
                k, ra, rb, rounds
            ));
        }
        if let Err(e) = sys::shmdt(c as *const Ctrl as *const u8) {
            fail.note(format_args!("shmdt control {}: {}", id, e.name()));
        }
        if let Err(e) = sys::shmctl(id, IPC_RMID, 0) {
            fail.note(format_args!("IPC_RMID control {}: {}", id, e.name()));
        }
    }
    (segs, bytes)
}

/// A one-page control segment handed to uid 1000 (IPC_SET), attached here for the totals.
fn control_segment() -> Result<(i32, &'static Ctrl), Errno> {
    let id = sys::shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0o600)?;
    let mut ds = ShmidDs::default();
    ds.shm_perm.uid = UID;
    ds.shm_perm.gid = UID;
    ds.shm_perm.mode = 0o600;
    let set = sys::shmctl(id, IPC_SET, &mut ds as *mut ShmidDs as usize);
    match set.and_then(|_| sys::shmat(id, 0, 0)) {
        Ok(p) => Ok((id, ctrl_at(p))),
        Err(e) => {
            let _ = sys::shmctl(id, IPC_RMID, 0);
            Err(e)
        }
    }
}
