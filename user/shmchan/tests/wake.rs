//! Signals make the wake system call only when a waiter may be asleep, and lose no wake-up
//! for it: threads stand in for processes, and every attach maps the same buffer.

mod common;
use common::fresh;
use shmchan::layout::SIGNAL_MAGIC;
use shmchan::{wait_any, Area, Errno};
use shmsync::os;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Run `f` on a thread; fail (instead of hanging) if it takes longer than `secs`.
fn within<T: Send + 'static>(secs: u64, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(secs))
        .expect("a waiter was never woken")
}

/// Until `cond` holds (a panic after 20 s).
fn until(cond: impl Fn() -> bool) {
    let t = std::time::Instant::now();
    while !cond() {
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "the waiter never announced itself"
        );
        thread::yield_now();
    }
}

/// The signal's "a waiter may sleep" flag.
fn waiting(a: &Area, sig_off: usize) -> u64 {
    a.desc(sig_off).unwrap().waiting.load(Ordering::SeqCst)
}

#[test]
fn a_trigger_with_nobody_waiting_makes_no_wake_call() {
    let (_g, a) = fresh("w01", 4096);
    let s = a.add_signal("s").unwrap();
    let mut consumer = a.get_signal("s").unwrap();
    let before = os::futex_wakes();
    for _ in 0..3 {
        s.trigger().unwrap();
    }
    assert_eq!(os::futex_wakes(), before, "nobody waited: no wake");
    assert_eq!(consumer.pending(), 3, "the events are still counted");
    // Taking events that are there does not announce a sleep.
    for _ in 0..3 {
        assert_eq!(consumer.wait(None), Ok(()));
    }
    assert_eq!(waiting(&a, s.offset()), 0);
    // A wait that found nothing and timed out announced itself: the next trigger wakes
    // (once) although nobody sleeps any more.
    assert_eq!(consumer.wait(Some(10)), Err(Errno::ETIMEDOUT));
    assert_ne!(waiting(&a, s.offset()), 0);
    s.trigger().unwrap();
    s.trigger().unwrap();
    assert_eq!(os::futex_wakes(), before + 1);
    assert_eq!(waiting(&a, s.offset()), 0);
}

#[test]
fn a_trigger_wakes_a_sleeping_waiter_with_one_call() {
    let (_g, a) = fresh("w02", 4096);
    let s = a.add_signal("s").unwrap();
    let off = s.offset();
    let waiter = thread::spawn(|| {
        let b = Area::attach("w02").unwrap();
        let mut s = b.get_signal("s").unwrap();
        s.wait(Some(20_000))
    });
    // The flag goes up before the waiter sleeps; triggering as soon as it shows is the
    // race the flag is for (the wait must then return at once, or be woken).
    until(|| waiting(&a, off) != 0);
    let before = os::futex_wakes();
    s.trigger().unwrap();
    assert_eq!(os::futex_wakes(), before + 1);
    assert_eq!(waiter.join().unwrap(), Ok(()));
    s.trigger().unwrap();
    assert_eq!(
        os::futex_wakes(),
        before + 1,
        "the flag was cleared by the wake"
    );
}

#[test]
fn wait_any_announces_itself_on_every_signal() {
    let (_g, a) = fresh("w03", 4096);
    let s0 = a.add_signal("s0").unwrap();
    let s1 = a.add_signal("s1").unwrap();
    let (o0, o1) = (s0.offset(), s1.offset());
    let waiter = thread::spawn(|| {
        let b = Area::attach("w03").unwrap();
        let mut s = [b.get_signal("s0").unwrap(), b.get_signal("s1").unwrap()];
        wait_any(&mut s, Some(20_000))
    });
    until(|| waiting(&a, o0) != 0 && waiting(&a, o1) != 0);
    let before = os::futex_wakes();
    s1.trigger().unwrap();
    assert_eq!(os::futex_wakes(), before + 1);
    assert_eq!(waiter.join().unwrap(), Ok(1));
}

#[test]
fn wait_until_takes_every_pending_event_and_looks_once() {
    let (_g, a) = fresh("w06", 4096);
    let s = a.add_signal("s").unwrap();
    let mut consumer = a.get_signal("s").unwrap();
    for _ in 0..5 {
        s.trigger().unwrap();
    }
    let mut looks = 0;
    assert_eq!(
        consumer.wait_until(Some(0), || {
            looks += 1;
            false
        }),
        Err(Errno::ETIMEDOUT)
    );
    assert_eq!(looks, 1, "five stale events, one look");
    assert_eq!(consumer.pending(), 0);
    // A condition that holds returns at once, taking what is pending.
    s.trigger().unwrap();
    assert_eq!(consumer.wait_until(None, || true), Ok(()));
    assert_eq!(consumer.pending(), 0);
    // A timed wait that finds nothing times out, having announced itself.
    let t = std::time::Instant::now();
    assert_eq!(
        consumer.wait_until(Some(30), || false),
        Err(Errno::ETIMEDOUT)
    );
    assert!(t.elapsed() >= Duration::from_millis(30));
    assert_ne!(waiting(&a, s.offset()), 0);
    // A descriptor that is no longer a signal: EIO, without looking.
    a.desc(s.offset())
        .unwrap()
        .magic
        .store(0x1234, Ordering::SeqCst);
    assert_eq!(
        consumer.wait_until(None, || panic!("looked")),
        Err(Errno::EIO)
    );
    a.desc(s.offset())
        .unwrap()
        .magic
        .store(SIGNAL_MAGIC, Ordering::SeqCst);
}

#[test]
fn wait_until_sleeps_until_the_state_changes_and_loses_no_wake() {
    let (_g, a) = fresh("w07", 4096);
    let mut c = a.add_chunk("c", 64).unwrap();
    c.connect(a.add_signal("full").unwrap());
    let sig_off = c.signal().unwrap().offset();
    // Rounds in which the producer makes the chunk READY and triggers as soon as the
    // consumer has announced itself (the race the flag is for), then stale triggers
    // that change nothing: the consumer must wake for the first and not return for the
    // others.
    for round in 0..50u64 {
        let waiter = thread::spawn(move || {
            let b = Area::attach("w07").unwrap();
            let c = b.get_chunk("c").unwrap();
            let mut full = b.get_signal("full").unwrap();
            let r = full.wait_until(Some(20_000), || c.is_ready());
            (r, c.is_ready())
        });
        if round % 2 == 0 {
            until(|| waiting(&a, sig_off) != 0);
        }
        c.try_to_take().unwrap();
        c.write(&round.to_le_bytes()).unwrap();
        c.ready_sig(8).unwrap();
        let (r, ready) = within(20, move || waiter.join().unwrap());
        assert_eq!((r, ready), (Ok(()), true), "round {round}");
        c.consumed().unwrap();
    }
    // Triggers without the change: a waiter with a deadline does not return early.
    let waiter = thread::spawn(|| {
        let b = Area::attach("w07").unwrap();
        let c = b.get_chunk("c").unwrap();
        let mut full = b.get_signal("full").unwrap();
        let t = std::time::Instant::now();
        (full.wait_until(Some(200), || c.is_ready()), t.elapsed())
    });
    for _ in 0..3 {
        thread::sleep(Duration::from_millis(20));
        c.signal().unwrap().trigger().unwrap();
    }
    let (r, took) = waiter.join().unwrap();
    assert_eq!(r, Err(Errno::ETIMEDOUT));
    assert!(took >= Duration::from_millis(200), "{took:?}");
}

/// Rounds of the ping-pong: each needs a sleep and a wake on both sides.
const ROUNDS: u64 = 5000;

#[test]
fn a_chunk_ping_pong_loses_no_wake_up() {
    let (_g, a) = fresh("w04", 4096);
    for name in ["req", "rsp"] {
        a.add_chunk(name, 64).unwrap();
        a.add_signal(name).unwrap();
    }
    let server = thread::spawn(|| {
        let b = Area::attach("w04").unwrap();
        let mut req = b.get_chunk("req").unwrap();
        req.connect(b.get_signal("req").unwrap());
        let mut rsp = b.get_chunk("rsp").unwrap();
        rsp.connect(b.get_signal("rsp").unwrap());
        for _ in 0..ROUNDS {
            while !req.is_ready() {
                req.wait(None).unwrap();
            }
            let mut v = [0u8; 8];
            assert_eq!(req.read(&mut v), Ok(8));
            req.consumed().unwrap();
            rsp.try_to_take().unwrap();
            rsp.write(&(u64::from_le_bytes(v) + 1).to_le_bytes())
                .unwrap();
            rsp.ready_sig(8).unwrap();
        }
    });
    within(60, || {
        let b = Area::attach("w04").unwrap();
        let mut req = b.get_chunk("req").unwrap();
        req.connect(b.get_signal("req").unwrap());
        let mut rsp = b.get_chunk("rsp").unwrap();
        rsp.connect(b.get_signal("rsp").unwrap());
        for i in 0..ROUNDS {
            req.try_to_take().unwrap();
            req.write(&i.to_le_bytes()).unwrap();
            req.ready_sig(8).unwrap();
            while !rsp.is_ready() {
                rsp.wait(None).unwrap();
            }
            let mut v = [0u8; 8];
            assert_eq!(rsp.read(&mut v), Ok(8));
            assert_eq!(u64::from_le_bytes(v), i + 1);
            rsp.consumed().unwrap();
        }
    });
    server.join().unwrap();
}

fn chunks(b: &Area) -> Vec<shmchan::Chunk<'_>> {
    (0..STREAM_CHUNKS)
        .map(|i| b.get_chunk(&format!("c{i}")).unwrap())
        .collect()
}

/// Chunks of the stream test, and messages through them.
const STREAM_CHUNKS: usize = 4;
const MESSAGES: usize = 50_000;

#[test]
fn a_chunk_stream_loses_no_wake_up_and_keeps_the_order() {
    let (_g, a) = fresh("w05", 4096);
    a.add_signal("full").unwrap();
    a.add_signal("free").unwrap();
    for i in 0..STREAM_CHUNKS {
        a.add_chunk(&format!("c{i}"), 16).unwrap();
    }
    let consumer = thread::spawn(|| {
        let b = Area::attach("w05").unwrap();
        let cs = chunks(&b);
        let mut full = b.get_signal("full").unwrap();
        let free = b.get_signal("free").unwrap();
        for i in 0..MESSAGES {
            let c = &cs[i % STREAM_CHUNKS];
            while !c.is_ready() {
                full.wait(None).unwrap();
            }
            let mut v = [0u8; 8];
            assert_eq!(c.read(&mut v), Ok(8));
            assert_eq!(u64::from_le_bytes(v), i as u64, "in order");
            c.consumed().unwrap();
            free.trigger().unwrap();
        }
    });
    within(60, || {
        let b = Area::attach("w05").unwrap();
        let cs = chunks(&b);
        let full = b.get_signal("full").unwrap();
        let mut free = b.get_signal("free").unwrap();
        for i in 0..MESSAGES {
            let c = &cs[i % STREAM_CHUNKS];
            while c.try_to_take().is_err() {
                free.wait(None).unwrap();
            }
            c.write(&(i as u64).to_le_bytes()).unwrap();
            c.ready(8).unwrap();
            full.trigger().unwrap();
        }
    });
    consumer.join().unwrap();
}
