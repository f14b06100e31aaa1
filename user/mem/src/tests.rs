//! Every length 0..=300 at every source and destination alignment 0..16 against a byte-by-byte
//! reference, overlaps in both directions, and guard bytes around every destination.

use super::*;
extern crate std;
use std::vec::Vec;

const MAX: usize = 300;
const GUARD: u8 = 0xa5;

/// Bytes that differ at every position and from the guard.
fn pattern(n: usize, seed: usize) -> Vec<u8> {
    (0..n)
        .map(|i| ((i * 7 + seed * 13 + 1) % 251) as u8 ^ 0x5a)
        .collect()
}

/// A 16-aligned buffer of `n` bytes (u128 storage), as bytes.
fn aligned(n: usize) -> Vec<u128> {
    std::vec![0u128; n.div_ceil(16)]
}

fn bytes(v: &mut [u128]) -> &mut [u8] {
    // SAFETY: a u128 buffer viewed as its bytes.
    unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr() as *mut u8, v.len() * 16) }
}

/// Copy with `f` every length at every source and destination alignment between two distinct
/// buffers; with `also_move`, memmove must give the same bytes (it takes the same path there).
fn sweep(f: unsafe fn(*mut u8, *const u8, usize), seed: usize, also_move: bool) {
    let src_data = pattern(MAX + 32, seed);
    let mut sbuf = aligned(MAX + 32);
    bytes(&mut sbuf)[..MAX + 32].copy_from_slice(&src_data);
    let mut dbuf = aligned(MAX + 64);
    for n in 0..=MAX {
        for sa in 0..16 {
            for da in 0..16 {
                let d = bytes(&mut dbuf);
                d.fill(GUARD);
                let s = bytes(&mut sbuf);
                // SAFETY: both ranges inside their buffers, distinct buffers.
                unsafe { f(d.as_mut_ptr().add(da), s.as_ptr().add(sa), n) };
                assert_eq!(
                    &d[da..da + n],
                    &src_data[sa..sa + n],
                    "n {n} sa {sa} da {da}"
                );
                assert!(
                    d[..da].iter().all(|&b| b == GUARD),
                    "before: n {n} sa {sa} da {da}"
                );
                assert!(
                    d[da + n..].iter().all(|&b| b == GUARD),
                    "after: n {n} sa {sa} da {da}"
                );
                if !also_move {
                    continue;
                }
                d.fill(GUARD);
                // SAFETY: as above.
                unsafe { copy(d.as_mut_ptr().add(da), s.as_ptr().add(sa), n) };
                assert_eq!(
                    &d[da..da + n],
                    &src_data[sa..sa + n],
                    "move n {n} sa {sa} da {da}"
                );
                assert!(d[..da].iter().all(|&b| b == GUARD));
                assert!(d[da + n..].iter().all(|&b| b == GUARD));
            }
        }
    }
}

#[test]
fn copy_forward_every_length_and_alignment() {
    sweep(copy_forward, 1, true);
}

#[test]
fn copy_backward_every_length_and_alignment() {
    sweep(copy_backward, 2, false);
}

/// memmove within one buffer: the destination `delta` bytes above (positive) or below
/// (negative) the source, for every length, both base alignments and a spread of distances
/// (inside a word, inside a block, beyond a block).
#[test]
fn copy_overlapping_both_directions() {
    const DELTAS: &[isize] = &[
        1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 31, 63, 64, 65, 127, 128, 129, 200, 299,
    ];
    let len = 2 * MAX + 64;
    let data = pattern(len, 3);
    let mut buf = aligned(len);
    for n in 0..=MAX {
        for base in 0..16usize {
            for &m in DELTAS {
                for delta in [m, -m] {
                    let (s, d) = if delta > 0 {
                        (base, base + delta as usize)
                    } else {
                        (base + (-delta) as usize, base)
                    };
                    let b = bytes(&mut buf);
                    b[..len].copy_from_slice(&data);
                    // SAFETY: both ranges inside the buffer (s, d <= base + 299 + 300 < len).
                    unsafe { copy(b.as_mut_ptr().add(d), b.as_ptr().add(s), n) };
                    let mut want = data.clone();
                    want.copy_within(s..s + n, d);
                    assert_eq!(&b[..len], &want[..], "n {n} base {base} delta {delta}");
                }
            }
        }
    }
}

#[test]
fn set_every_length_and_alignment() {
    let mut buf = aligned(MAX + 32);
    for n in 0..=MAX {
        for da in 0..16 {
            for c in [0u8, 0xff, 0x3c] {
                let d = bytes(&mut buf);
                d.fill(GUARD);
                // SAFETY: inside the buffer.
                unsafe { set(d.as_mut_ptr().add(da), c, n) };
                assert!(d[da..da + n].iter().all(|&b| b == c), "n {n} da {da} c {c}");
                assert!(d[..da].iter().all(|&b| b == GUARD), "before: n {n} da {da}");
                assert!(
                    d[da + n..].iter().all(|&b| b == GUARD),
                    "after: n {n} da {da}"
                );
            }
        }
    }
}

/// Large copies cross many blocks, at an aligned and a misaligned source.
#[test]
fn large_copies() {
    let n = 64 * 1024 + 77;
    let data = pattern(n + 16, 4);
    let mut sbuf = aligned(n + 16);
    bytes(&mut sbuf)[..n + 16].copy_from_slice(&data);
    let mut dbuf = aligned(n + 32);
    for (sa, da) in [(0, 0), (3, 0), (0, 5), (9, 2)] {
        let d = bytes(&mut dbuf);
        let s = bytes(&mut sbuf);
        // SAFETY: inside both buffers.
        unsafe { copy_forward(d.as_mut_ptr().add(da), s.as_ptr().add(sa), n) };
        assert_eq!(&d[da..da + n], &data[sa..sa + n]);
        d.fill(0);
        // SAFETY: as above.
        unsafe { copy_backward(d.as_mut_ptr().add(da), s.as_ptr().add(sa), n) };
        assert_eq!(&d[da..da + n], &data[sa..sa + n]);
    }
}
