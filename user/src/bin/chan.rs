//! chan: chunk/signal channels (shmchan, L4Re's l4shmc_*) from the shell: create an area, add
//! chunks and signals, list them, run a producer and a consumer over a chunk, remove it.
#![no_std]
#![no_main]

extern crate alloc;

use abi::Errno;
use alloc::string::String;
use alloc::vec;
use core::fmt::Write;
use shmchan::{Area, Chunk, ChunkState, Entry, Signal};
use ulib::util::{fail, parse_size};
use ulib::{println, sys};

ulib::entry!(main);

fn usage() -> i32 {
    println!("usage: chan create AREA SIZE");
    println!("       chan add AREA chunk NAME CAPACITY");
    println!("       chan add AREA signal NAME");
    println!("       chan list AREA                       (or chan info AREA)");
    println!("       chan produce AREA CHUNK READY [FREE] N [-s SIZE] [-t SECONDS]");
    println!("       chan consume AREA CHUNK READY [FREE] N [-t SECONDS]");
    println!("       chan remove AREA");
    println!("  READY is triggered when the chunk is filled, FREE when it is emptied");
    println!("  (without FREE, READY serves both ways); SIZE defaults to the capacity;");
    println!("  -t: give up (ETIMEDOUT) after waiting that long for the other side");
    2
}

/// `chan: what: ENAME (text)`, status 1.
fn err(what: core::fmt::Arguments, e: Errno) -> i32 {
    fail("chan", what, e)
}

fn main(args: &[&str]) -> i32 {
    let r = match args.get(1..) {
        Some(["create", area, size]) => match parse_size(size) {
            Some(size) => create(area, size),
            None => return usage(),
        },
        Some(["add", area, "chunk", name, cap]) => match parse_size(cap) {
            Some(cap) => add_chunk(area, name, cap),
            None => return usage(),
        },
        Some(["add", area, "signal", name]) => add_signal(area, name),
        Some(["list" | "info", area]) => list(area),
        Some(["produce", rest @ ..]) => match Run::parse(rest, true) {
            Some(run) => produce(&run),
            None => return usage(),
        },
        Some(["consume", rest @ ..]) => match Run::parse(rest, false) {
            Some(run) => consume(&run),
            None => return usage(),
        },
        Some(["remove", area]) => {
            Area::remove(area).map_err(|e| err(format_args!("remove {}", area), e))
        }
        _ => return usage(),
    };
    match r {
        Ok(()) => 0,
        Err(status) => status,
    }
}

fn create(area: &str, size: usize) -> Result<(), i32> {
    Area::create(area, size).map_err(|e| err(format_args!("create {}", area), e))?;
    // An existing area is left as it is: say what there is.
    let a = inspect(area)?;
    println!("{}: {} bytes", area, a.size());
    Ok(())
}

/// Map the area without taking a client number (the tool's own looks and adds must not
/// change the numbers its clients get).
fn inspect(area: &str) -> Result<Area, i32> {
    Area::inspect(area).map_err(|e| err(format_args!("{}", area), e))
}

fn add_chunk(area: &str, name: &str, cap: usize) -> Result<(), i32> {
    let a = inspect(area)?;
    let c = a
        .add_chunk(name, cap)
        .map_err(|e| err(format_args!("add chunk {} ({} bytes)", name, cap), e))?;
    println!(
        "chunk {}: offset {}, capacity {}",
        name,
        c.offset(),
        c.capacity()
    );
    Ok(())
}

fn add_signal(area: &str, name: &str) -> Result<(), i32> {
    let a = inspect(area)?;
    let s = a
        .add_signal(name)
        .map_err(|e| err(format_args!("add signal {}", name), e))?;
    println!("signal {}: offset {}", name, s.offset());
    Ok(())
}

fn state(s: ChunkState) -> heapless::String<16> {
    let mut out = heapless::String::new();
    let _ = match s {
        ChunkState::Clear => write!(out, "CLEAR"),
        ChunkState::Busy => write!(out, "BUSY"),
        ChunkState::Ready => write!(out, "READY"),
        ChunkState::Invalid(w) => write!(out, "?{:#x}", w),
    };
    out
}

/// A name as stored, as text ('?' if another client wrote one that is not UTF-8).
fn name(n: &shmchan::Name) -> &str {
    n.as_str().unwrap_or("?")
}

fn list(area: &str) -> Result<(), i32> {
    let a = inspect(area)?;
    let info = a.info();
    println!("area:        {}", area);
    println!("size:        {}", info.size);
    match info.free {
        Ok(f) => println!("free:        {}", f),
        Err(e) => println!("free:        - ({})", e.name()),
    }
    println!("clients:     {}", info.clients);
    let mut nrs = heapless::String::<256>::new();
    for n in (0..u64::BITS).filter(|n| info.initialized & (1 << n) != 0) {
        let sep = if nrs.is_empty() { "" } else { " " };
        let _ = write!(nrs, "{}{}", sep, n);
    }
    if nrs.is_empty() {
        let _ = nrs.push_str("none");
    }
    println!("initialized: {:#x} ({})", info.initialized, nrs.as_str());
    let (mut chunks, mut signals) = (0, 0);
    for e in a.entries() {
        let e = e.map_err(|e| err(format_args!("list {}", area), e))?;
        if let Entry::Chunk(c) = e {
            if chunks == 0 {
                println!();
                println!(
                    "{:<16} {:>8} {:>10} {:>10}  STATE",
                    "CHUNK", "OFFSET", "CAPACITY", "SIZE"
                );
            }
            chunks += 1;
            println!(
                "{:<16} {:>8} {:>10} {:>10}  {}",
                name(&c.name),
                c.offset,
                c.capacity,
                c.size,
                state(c.state).as_str()
            );
        }
    }
    for e in a.entries() {
        let e = e.map_err(|e| err(format_args!("list {}", area), e))?;
        if let Entry::Signal(s) = e {
            if signals == 0 {
                println!();
                println!("{:<16} {:>8} {:>10}", "SIGNAL", "OFFSET", "COUNT");
            }
            signals += 1;
            println!("{:<16} {:>8} {:>10}", name(&s.name), s.offset, s.count);
        }
    }
    if chunks + signals == 0 {
        println!();
        println!("no chunks, no signals");
    }
    Ok(())
}

/// What `produce` and `consume` were asked to do.
struct Run<'a> {
    area: &'a str,
    chunk: &'a str,
    ready: &'a str,
    free: Option<&'a str>,
    count: u64,
    /// Message size (produce only; None: the chunk's capacity).
    size: Option<usize>,
    /// How long one wait for the other side may take, in ms (None: for ever).
    timeout_ms: Option<u64>,
}

impl<'a> Run<'a> {
    /// `AREA CHUNK READY [FREE] N`, with `-t SECONDS` and, for the producer, `-s SIZE`
    /// anywhere.
    fn parse(args: &[&'a str], producer: bool) -> Option<Run<'a>> {
        let mut pos: heapless::Vec<&str, 5> = heapless::Vec::new();
        let (mut size, mut timeout_ms) = (None, None);
        let mut i = 0;
        while i < args.len() {
            let val = args.get(i + 1).copied();
            match args[i] {
                "-s" if producer => size = Some(parse_size(val?)?),
                "-t" => timeout_ms = Some(val?.parse::<u64>().ok()?.saturating_mul(1000)),
                _ => {
                    pos.push(args[i]).ok()?;
                    i += 1;
                    continue;
                }
            }
            i += 2;
        }
        let (free, n) = match pos[..] {
            [_, _, _, n] => (None, n),
            [_, _, _, free, n] => (Some(free), n),
            _ => return None,
        };
        Some(Run {
            area: pos[0],
            chunk: pos[1],
            ready: pos[2],
            free,
            count: n.parse().ok()?,
            size,
            timeout_ms,
        })
    }
}

/// The ends of a run: the chunk (connected to READY) and the signal that says it is free
/// again (FREE, or READY itself).
struct Ends<'a> {
    chunk: Chunk<'a>,
    free: Option<Signal<'a>>,
    timeout_ms: Option<u64>,
}

impl<'a> Ends<'a> {
    fn open(a: &'a Area, run: &Run) -> Result<Ends<'a>, i32> {
        let mut chunk = a
            .get_chunk(run.chunk)
            .map_err(|e| err(format_args!("chunk {}", run.chunk), e))?;
        let ready = a
            .get_signal(run.ready)
            .map_err(|e| err(format_args!("signal {}", run.ready), e))?;
        chunk.connect(ready);
        let free = match run.free {
            Some(f) => Some(
                a.get_signal(f)
                    .map_err(|e| err(format_args!("signal {}", f), e))?,
            ),
            None => None,
        };
        Ok(Ends {
            chunk,
            free,
            timeout_ms: run.timeout_ms,
        })
    }

    /// Wait until `done` says the chunk is as wanted, sleeping between looks on FREE if
    /// `on_free` and there is one (the producer), else on READY. Each look comes before the wait, and
    /// whoever changes the state triggers afterwards, so no change is missed; a trigger
    /// that was not for us (our own, with one signal) only costs another look. ETIMEDOUT
    /// if the timeout passes first.
    fn wait_for(
        &mut self,
        on_free: bool,
        mut done: impl FnMut(&Chunk) -> bool,
    ) -> Result<(), Errno> {
        let deadline = self
            .timeout_ms
            .map(|ms| sys::now_ns().saturating_add(ms.saturating_mul(1_000_000)));
        loop {
            if done(&self.chunk) {
                return Ok(());
            }
            // What is left of the timeout, rounded up to whole milliseconds.
            let left = deadline.map(|d| d.saturating_sub(sys::now_ns()).div_ceil(1_000_000));
            let r = match (&mut self.free, on_free) {
                (Some(f), true) => f.wait(left),
                _ => self.chunk.wait(left),
            };
            match r {
                // A last look: the change may have come with the deadline.
                Err(Errno::ETIMEDOUT) if done(&self.chunk) => return Ok(()),
                r => r?,
            }
        }
    }

    /// Tell the producer the chunk is free.
    fn freed(&self) -> Result<(), Errno> {
        match &self.free {
            Some(f) => f.trigger(),
            None => self.chunk.signal().ok_or(Errno::EINVAL)?.trigger(),
        }
    }
}

/// Attach as a client, taking the next client number.
fn attach(area: &str) -> Result<Area, i32> {
    Area::attach(area).map_err(|e| err(format_args!("{}", area), e))
}

/// Set this client's bit in the area's initialized-clients bitmask: done once it has found
/// its chunk and signals, so a client that failed to set up is never counted.
fn initialized(a: &Area) -> Result<(), i32> {
    a.mark_client_initialized().map_err(|e| {
        err(
            format_args!(
                "client {} of {}",
                a.client_nr(),
                a.name().as_str().unwrap_or("?")
            ),
            e,
        )
    })
}

/// Bytes of a message that may hold its text (and the NUL after it).
const TEXT_MAX: usize = 32;

/// Byte `j` of every message, where no stamp covers it: a fixed pattern, so that making and
/// checking a message costs a copy and a compare, not a pass of arithmetic per byte.
fn pattern(buf: &mut [u8], from: usize) {
    for (j, b) in buf.iter_mut().enumerate() {
        *b = ((from + j) as u8).wrapping_mul(31).wrapping_add(7);
    }
}

/// Stamp message `seq` on `buf`, which holds the pattern: the number (8 bytes, little
/// endian) at the start and, from 16 bytes on, again at the end (a torn message shows), and
/// between them the text "message SEQ" and a NUL, as far as they fit.
fn stamp(seq: u64, buf: &mut [u8]) {
    let len = buf.len();
    let num = seq.to_le_bytes();
    let head = len.min(8);
    buf[..head].copy_from_slice(&num[..head]);
    if len < 16 {
        return;
    }
    buf[len - 8..].copy_from_slice(&num);
    let room = &mut buf[8..len - 8];
    // A longer text stamped before would show through a shorter one.
    let n = room.len().min(TEXT_MAX);
    pattern(&mut room[..n], 8);
    let mut text = heapless::String::<TEXT_MAX>::new();
    let _ = write!(text, "message {}", seq);
    let t = text.as_bytes();
    let k = t.len().min(room.len());
    room[..k].copy_from_slice(&t[..k]);
    if let Some(b) = room.get_mut(k) {
        *b = 0;
    }
}

/// The sequence number at the start of a message, if it is long enough to hold one.
fn seq_of(m: &[u8]) -> Option<u64> {
    let mut b = [0; 8];
    b.copy_from_slice(m.get(..8)?);
    Some(u64::from_le_bytes(b))
}

/// The text of a message, as far as it holds one.
fn text(m: &[u8]) -> &str {
    let t = m.get(8..m.len().saturating_sub(8)).unwrap_or(&[]);
    let t = &t[..t.len().min(TEXT_MAX)];
    let end = t.iter().position(|&b| b == 0).unwrap_or(t.len());
    core::str::from_utf8(&t[..end]).unwrap_or("?")
}

fn messages(n: u64) -> &'static str {
    if n == 1 {
        "message"
    } else {
        "messages"
    }
}

/// `N messages/s, N bytes/s (N messages in N us)` for `n` messages of `bytes` bytes in `ns`.
fn rate(out: &mut String, who: &str, n: u64, bytes: u64, ns: u64) {
    if ns == 0 {
        let _ = writeln!(out, "{}: no time measured", who);
        return;
    }
    let per_s = |x: u64| (x as u128 * 1_000_000_000 / ns as u128) as u64;
    let _ = writeln!(
        out,
        "{}: {} messages/s, {} bytes/s ({} {} in {} us)",
        who,
        per_s(n),
        per_s(bytes),
        n,
        messages(n),
        ns / 1000
    );
}

/// Print a report in one write, so that the producer's and the consumer's (a background
/// job's) lines do not interleave.
fn report(out: &str) {
    let _ = sys::write(1, out.as_bytes());
}

fn produce(run: &Run) -> Result<(), i32> {
    let a = attach(run.area)?;
    let mut ends = Ends::open(&a, run)?;
    let cap = ends.chunk.capacity();
    let size = run.size.unwrap_or(cap);
    if size > cap || size < 8 {
        return Err(err(
            format_args!(
                "message size {} (chunk {} holds 8 to {})",
                size, run.chunk, cap
            ),
            Errno::EINVAL,
        ));
    }
    initialized(&a)?;
    let mut buf = vec![0u8; size];
    pattern(&mut buf, 0);
    let t0 = sys::now_ns();
    for seq in 0..run.count {
        ends.wait_for(true, |c| c.try_to_take().is_ok())
            .map_err(|e| err(format_args!("wait for {} to be free", run.chunk), e))?;
        stamp(seq, &mut buf);
        ends.chunk
            .write(&buf)
            .and_then(|()| ends.chunk.ready_sig(size))
            .map_err(|e| err(format_args!("send message {}", seq), e))?;
    }
    // Done when the last one is consumed.
    ends.wait_for(true, |c| c.is_clear())
        .map_err(|e| err(format_args!("wait for {} to be free", run.chunk), e))?;
    let ns = sys::now_ns() - t0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "producer: client {}, chunk {}: {} {} of {} bytes sent, all consumed",
        a.client_nr(),
        run.chunk,
        run.count,
        messages(run.count),
        size
    );
    rate(&mut out, "producer", run.count, run.count * size as u64, ns);
    report(&out);
    Ok(())
}

/// A message as the consumer saw it: its number, its text and its length.
fn seen(out: &mut String, which: &str, m: &[u8]) {
    let _ = write!(out, "consumer: {} ", which);
    match seq_of(m) {
        Some(seq) => {
            let _ = write!(out, "#{}", seq);
        }
        None => out.push('-'),
    }
    let _ = writeln!(out, " {:?} ({} bytes)", text(m), m.len());
}

fn consume(run: &Run) -> Result<(), i32> {
    let a = attach(run.area)?;
    let mut ends = Ends::open(&a, run)?;
    initialized(&a)?;
    let cap = ends.chunk.capacity();
    let mut buf = vec![0u8; cap];
    // What each message should be: the pattern, stamped with the number that came.
    let mut want = vec![0u8; cap];
    pattern(&mut want, 0);
    let (mut next, mut lost, mut disorder, mut corrupt, mut bytes) = (0u64, 0u64, 0u64, 0u64, 0);
    let mut first = String::new();
    let mut last = String::new();
    let mut t0 = 0;
    for i in 0..run.count {
        ends.wait_for(false, |c| c.is_ready())
            .map_err(|e| err(format_args!("wait for {} to be ready", run.chunk), e))?;
        if i == 0 {
            t0 = sys::now_ns();
        }
        let n = ends
            .chunk
            .read(&mut buf)
            .map_err(|e| err(format_args!("read {}", run.chunk), e))?;
        ends.chunk
            .consumed()
            .and_then(|()| ends.freed())
            .map_err(|e| err(format_args!("consumed {}", run.chunk), e))?;
        let m = &buf[..n];
        bytes += n as u64;
        // Only an intact message's number counts for the order: a damaged one is corrupt
        // (and, as a gap in the numbers, lost).
        let intact = seq_of(m).filter(|&seq| {
            stamp(seq, &mut want[..n]);
            let same = m == &want[..n];
            // Back to the pattern where the stamps were, for messages of other sizes.
            pattern(&mut want[..8], 0);
            if n >= 16 {
                pattern(&mut want[n - 8..n], n - 8);
            }
            same
        });
        match intact {
            Some(seq) if seq < next => disorder += 1,
            Some(seq) => {
                lost = lost.saturating_add(seq - next);
                next = seq.saturating_add(1);
            }
            None => corrupt += 1,
        }
        if i == 0 {
            seen(&mut first, "first", m);
        }
        if i > 0 && i + 1 == run.count {
            seen(&mut last, "last", m);
        }
    }
    let ns = sys::now_ns() - t0;
    let mut out = String::new();
    let _ = write!(
        out,
        "consumer: client {}, chunk {}: {} {}, ",
        a.client_nr(),
        run.chunk,
        run.count,
        messages(run.count)
    );
    if disorder == 0 && corrupt == 0 {
        let _ = writeln!(out, "in order, {} lost", lost);
    } else {
        let _ = writeln!(
            out,
            "{} out of order, {} corrupt, {} lost",
            disorder, corrupt, lost
        );
    }
    out.push_str(&first);
    out.push_str(&last);
    rate(&mut out, "consumer", run.count, bytes, ns);
    report(&out);
    if lost + disorder + corrupt > 0 {
        return Err(1);
    }
    Ok(())
}
