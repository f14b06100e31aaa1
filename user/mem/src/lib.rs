//! memcpy, memmove and memset for the Rust user programs (ulib links this crate, so every
//! program in `user/src/bin` gets them instead of compiler_builtins' weak ones, which move
//! one 8-byte word per four instructions and fall back to single bytes for a misaligned
//! source).
//!
//! The bulk loops move 256 bytes per iteration with 16 `ldp` and 16 `stp` of x registers
//! (inline assembly, post-indexed so the loop costs two more instructions: 7.5 bytes per
//! instruction, 16 bytes per `ldp`/`stp` pair). Integer registers only, on purpose: the
//! kernel switches FP/SIMD state lazily (a task's first FP instruction traps and makes it an
//! FP owner, whose q0-q31 are then saved and loaded around its switches), so a memcpy that
//! touched q registers would make every task an FP owner. (The target is soft-float anyway.)
//!
//! The target is built with strict alignment, so LLVM splits any unaligned word access into
//! bytes. These routines therefore only ever read and write aligned words: the destination is
//! aligned first, and a source that is then misaligned is read as aligned words and shifted
//! together. Nothing is read or written outside the two ranges.
//!
//! Everything but the three 256-byte block loops is plain Rust, and those have a Rust twin
//! (same blocks, same order) on the host, so the host tests (every length 0..=300 at every
//! alignment, overlaps both ways) run the code around them; ostest's `mem_copy_set` runs the
//! same sweep on the target, block loops included. `#![no_builtins]` stops LLVM from turning
//! these loops back into calls to memcpy/memset, that is, into themselves.
#![no_std]
#![no_builtins]

const W: usize = core::mem::size_of::<u64>();
/// Words per iteration of the bulk loops: 256 bytes, 16 `ldp` + 16 `stp` (or 16 `stp` for
/// memset) and two loop instructions.
const BLOCK_WORDS: usize = 32;
/// The smaller step for what is left: 64 bytes.
const GROUP_WORDS: usize = 8;
/// Below this many bytes, a byte loop (aligning first would cost more than it saves).
const SMALL: usize = 2 * W;

/// Copy `n` bytes one at a time, lowest address first.
///
/// # Safety
/// As for [`copy_forward`].
#[inline(always)]
unsafe fn bytes_forward(d: *mut u8, s: *const u8, n: usize) {
    for i in 0..n {
        // SAFETY: i < n, inside both ranges (caller's contract).
        unsafe { d.add(i).write(s.add(i).read()) };
    }
}

/// Copy `n` bytes one at a time, highest address first.
///
/// # Safety
/// As for [`copy_backward`].
#[inline(always)]
unsafe fn bytes_backward(d: *mut u8, s: *const u8, n: usize) {
    let mut i = n;
    while i > 0 {
        i -= 1;
        // SAFETY: i < n, inside both ranges (caller's contract).
        unsafe { d.add(i).write(s.add(i).read()) };
    }
}

/// Bytes to add to `p` to make it word-aligned.
#[inline(always)]
fn to_align(p: usize) -> usize {
    p.wrapping_neg() & (W - 1)
}

/// Copy `n` bytes from `s` to `d`, lowest address first. Also correct for overlapping
/// ranges with `d` below `s` (memmove's forward case): every block is read before it is
/// written, and writes stay below the bytes still to be read.
///
/// # Safety
/// `s..s+n` readable, `d..d+n` writable.
#[inline(always)]
pub unsafe fn copy_forward(mut d: *mut u8, mut s: *const u8, mut n: usize) {
    if n >= SMALL {
        let head = to_align(d as usize);
        // SAFETY: head < 8 <= n; then d is word-aligned and n >= 9.
        unsafe {
            bytes_forward(d, s, head);
            d = d.add(head);
            s = s.add(head);
        }
        n -= head;
        let done = if (s as usize).is_multiple_of(W) {
            // SAFETY: both aligned, n bytes in range.
            unsafe { words_forward(d as *mut u64, s as *const u64, n / W) };
            n / W * W
        } else {
            // SAFETY: d aligned, s not, n bytes in range.
            unsafe { shifted_forward(d as *mut u64, s, n) }
        };
        // SAFETY: done <= n.
        unsafe {
            d = d.add(done);
            s = s.add(done);
        }
        n -= done;
    }
    // SAFETY: the last n bytes of both ranges.
    unsafe { bytes_forward(d, s, n) }
}

/// Copy `words` aligned words, lowest first, a block at a time.
///
/// # Safety
/// Both aligned; the ranges as for [`copy_forward`].
#[inline(always)]
unsafe fn words_forward(mut d: *mut u64, mut s: *const u64, mut words: usize) {
    if words >= BLOCK_WORDS {
        // SAFETY: words / BLOCK_WORDS whole blocks in range (caller's contract).
        (d, s) = unsafe { blocks_forward(d, s, words / BLOCK_WORDS) };
        words %= BLOCK_WORDS;
    }
    while words >= GROUP_WORDS {
        // SAFETY: GROUP_WORDS words in range; all read before any is written.
        unsafe {
            let b: [u64; GROUP_WORDS] = core::array::from_fn(|i| s.add(i).read());
            for (i, w) in b.into_iter().enumerate() {
                d.add(i).write(w);
            }
            d = d.add(GROUP_WORDS);
            s = s.add(GROUP_WORDS);
        }
        words -= GROUP_WORDS;
    }
    for i in 0..words {
        // SAFETY: i < words, in range.
        unsafe { d.add(i).write(s.add(i).read()) };
    }
}

/// Copy `blocks` blocks of 256 bytes, lowest first; returns both pointers past them. Each
/// 64 bytes is read before it is written, so a destination below an overlapping source is
/// fine. Integer registers only (see the crate comment: no q registers).
///
/// # Safety
/// `blocks >= 1`; both aligned; the ranges as for [`copy_forward`].
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn blocks_forward(
    mut d: *mut u64,
    mut s: *const u64,
    blocks: usize,
) -> (*mut u64, *const u64) {
    // SAFETY: reads blocks * 256 bytes from s and writes as many to d, both in range; the
    // eight scratch registers are declared clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldp {a}, {b}, [{s}], #256",
            "ldp {c}, {e}, [{s}, #-240]",
            "ldp {f}, {g}, [{s}, #-224]",
            "ldp {h}, {i}, [{s}, #-208]",
            "stp {a}, {b}, [{d}], #256",
            "stp {c}, {e}, [{d}, #-240]",
            "stp {f}, {g}, [{d}, #-224]",
            "stp {h}, {i}, [{d}, #-208]",
            "ldp {a}, {b}, [{s}, #-192]",
            "ldp {c}, {e}, [{s}, #-176]",
            "ldp {f}, {g}, [{s}, #-160]",
            "ldp {h}, {i}, [{s}, #-144]",
            "stp {a}, {b}, [{d}, #-192]",
            "stp {c}, {e}, [{d}, #-176]",
            "stp {f}, {g}, [{d}, #-160]",
            "stp {h}, {i}, [{d}, #-144]",
            "ldp {a}, {b}, [{s}, #-128]",
            "ldp {c}, {e}, [{s}, #-112]",
            "ldp {f}, {g}, [{s}, #-96]",
            "ldp {h}, {i}, [{s}, #-80]",
            "stp {a}, {b}, [{d}, #-128]",
            "stp {c}, {e}, [{d}, #-112]",
            "stp {f}, {g}, [{d}, #-96]",
            "stp {h}, {i}, [{d}, #-80]",
            "ldp {a}, {b}, [{s}, #-64]",
            "ldp {c}, {e}, [{s}, #-48]",
            "ldp {f}, {g}, [{s}, #-32]",
            "ldp {h}, {i}, [{s}, #-16]",
            "stp {a}, {b}, [{d}, #-64]",
            "stp {c}, {e}, [{d}, #-48]",
            "stp {f}, {g}, [{d}, #-32]",
            "stp {h}, {i}, [{d}, #-16]",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            s = inout(reg) s, d = inout(reg) d, n = inout(reg) blocks => _,
            a = out(reg) _, b = out(reg) _, c = out(reg) _, e = out(reg) _,
            f = out(reg) _, g = out(reg) _, h = out(reg) _, i = out(reg) _,
            options(nostack),
        );
    }
    (d, s)
}

/// The host's version of the loop above (same blocks, same order), so the code around it is
/// tested on the host.
///
/// # Safety
/// As above.
#[cfg(not(target_arch = "aarch64"))]
#[inline(always)]
unsafe fn blocks_forward(
    mut d: *mut u64,
    mut s: *const u64,
    blocks: usize,
) -> (*mut u64, *const u64) {
    for _ in 0..blocks * (BLOCK_WORDS / GROUP_WORDS) {
        // SAFETY: as above; each group read before it is written.
        unsafe {
            let b: [u64; GROUP_WORDS] = core::array::from_fn(|i| s.add(i).read());
            for (i, w) in b.into_iter().enumerate() {
                d.add(i).write(w);
            }
            d = d.add(GROUP_WORDS);
            s = s.add(GROUP_WORDS);
        }
    }
    (d, s)
}

/// Copy from a misaligned `s` to an aligned `d` as whole words: read the source's aligned
/// words and shift each pair together. Returns the bytes copied (a multiple of 8, at most
/// `n`); the caller copies the rest. Reads only bytes of `s..s+n`: the first partial word is
/// read byte by byte, and only words wholly inside the range are read whole.
///
/// # Safety
/// `d` aligned, `s` not; `n >= 8`; the ranges as for [`copy_forward`].
#[inline(always)]
unsafe fn shifted_forward(d: *mut u64, s: *const u8, n: usize) -> usize {
    let o = s as usize % W;
    let sh = 8 * o as u32;
    // The aligned word holding s, of which only its top 8 - o bytes (s..) are ours.
    let sa = s.wrapping_sub(o) as *const u64;
    let mut prev = 0u64;
    for k in 0..W - o {
        // SAFETY: k < 8 - o <= n: inside the source.
        prev |= (unsafe { s.add(k).read() } as u64) << (8 * (o + k));
    }
    // Output word j is prev's top bytes and the low o bytes of the aligned word at
    // sa + 8(j + 1), which must end by s + n.
    let words = (n + o) / W - 1;
    let mut j = 0;
    while j + 4 <= words {
        // SAFETY: the words sa + 8(j+1) ..= sa + 8(j+4) end by s + n; read before written.
        unsafe {
            let a = sa.add(j + 1).read();
            let b = sa.add(j + 2).read();
            let c = sa.add(j + 3).read();
            let e = sa.add(j + 4).read();
            d.add(j).write(prev >> sh | a << (64 - sh));
            d.add(j + 1).write(a >> sh | b << (64 - sh));
            d.add(j + 2).write(b >> sh | c << (64 - sh));
            d.add(j + 3).write(c >> sh | e << (64 - sh));
            prev = e;
        }
        j += 4;
    }
    while j < words {
        // SAFETY: as above, one word.
        unsafe {
            let a = sa.add(j + 1).read();
            d.add(j).write(prev >> sh | a << (64 - sh));
            prev = a;
        }
        j += 1;
    }
    words * W
}

/// Copy `n` bytes from `s` to `d`, highest address first: memmove's case of `d` above an
/// overlapping `s`. The mirror of [`copy_forward`].
///
/// # Safety
/// `s..s+n` readable, `d..d+n` writable.
#[inline(always)]
pub unsafe fn copy_backward(d: *mut u8, s: *const u8, mut n: usize) {
    if n >= SMALL {
        // SAFETY: the ends of both ranges.
        let (mut de, mut se) = unsafe { (d.add(n), s.add(n)) };
        let tail = de as usize % W;
        // SAFETY: tail < 8 <= n; then de is word-aligned and n >= 9.
        unsafe {
            de = de.sub(tail);
            se = se.sub(tail);
            bytes_backward(de, se, tail);
        }
        n -= tail;
        let done = if (se as usize).is_multiple_of(W) {
            // SAFETY: both aligned, n bytes below them in range.
            unsafe { words_backward(de as *mut u64, se as *const u64, n / W) };
            n / W * W
        } else {
            // SAFETY: de aligned, se not, n bytes below them in range.
            unsafe { shifted_backward(de as *mut u64, se, n) }
        };
        n -= done;
    }
    // SAFETY: the first n bytes of both ranges.
    unsafe { bytes_backward(d, s, n) }
}

/// Copy the `words` aligned words below `de` from below `se`, highest first.
///
/// # Safety
/// Both aligned; the ranges as for [`copy_backward`].
#[inline(always)]
unsafe fn words_backward(mut de: *mut u64, mut se: *const u64, mut words: usize) {
    if words >= BLOCK_WORDS {
        // SAFETY: words / BLOCK_WORDS whole blocks below the ends, in range.
        (de, se) = unsafe { blocks_backward(de, se, words / BLOCK_WORDS) };
        words %= BLOCK_WORDS;
    }
    while words >= GROUP_WORDS {
        // SAFETY: GROUP_WORDS words below the ends, in range; all read before any is written.
        unsafe {
            de = de.sub(GROUP_WORDS);
            se = se.sub(GROUP_WORDS);
            let b: [u64; GROUP_WORDS] = core::array::from_fn(|i| se.add(i).read());
            for (i, w) in b.into_iter().enumerate() {
                de.add(i).write(w);
            }
        }
        words -= GROUP_WORDS;
    }
    for i in 1..=words {
        // SAFETY: i <= words, in range.
        unsafe { de.sub(i).write(se.sub(i).read()) };
    }
}

/// Copy `blocks` blocks of 256 bytes below the ends `de` and `se`, highest first; returns
/// both pointers moved down past them. Each 64 bytes is read before it is written, top
/// first, so a destination above an overlapping source is fine.
///
/// # Safety
/// `blocks >= 1`; both aligned; the ranges as for [`copy_backward`].
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn blocks_backward(
    mut de: *mut u64,
    mut se: *const u64,
    blocks: usize,
) -> (*mut u64, *const u64) {
    // SAFETY: reads blocks * 256 bytes below se and writes as many below de, both in range;
    // the eight scratch registers are declared clobbered.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldp {a}, {b}, [{s}, #-64]",
            "ldp {c}, {e}, [{s}, #-48]",
            "ldp {f}, {g}, [{s}, #-32]",
            "ldp {h}, {i}, [{s}, #-16]",
            "stp {a}, {b}, [{d}, #-64]",
            "stp {c}, {e}, [{d}, #-48]",
            "stp {f}, {g}, [{d}, #-32]",
            "stp {h}, {i}, [{d}, #-16]",
            "ldp {a}, {b}, [{s}, #-128]",
            "ldp {c}, {e}, [{s}, #-112]",
            "ldp {f}, {g}, [{s}, #-96]",
            "ldp {h}, {i}, [{s}, #-80]",
            "stp {a}, {b}, [{d}, #-128]",
            "stp {c}, {e}, [{d}, #-112]",
            "stp {f}, {g}, [{d}, #-96]",
            "stp {h}, {i}, [{d}, #-80]",
            "ldp {a}, {b}, [{s}, #-192]",
            "ldp {c}, {e}, [{s}, #-176]",
            "ldp {f}, {g}, [{s}, #-160]",
            "ldp {h}, {i}, [{s}, #-144]",
            "stp {a}, {b}, [{d}, #-192]",
            "stp {c}, {e}, [{d}, #-176]",
            "stp {f}, {g}, [{d}, #-160]",
            "stp {h}, {i}, [{d}, #-144]",
            "ldp {a}, {b}, [{s}, #-256]!",
            "ldp {c}, {e}, [{s}, #16]",
            "ldp {f}, {g}, [{s}, #32]",
            "ldp {h}, {i}, [{s}, #48]",
            "stp {a}, {b}, [{d}, #-256]!",
            "stp {c}, {e}, [{d}, #16]",
            "stp {f}, {g}, [{d}, #32]",
            "stp {h}, {i}, [{d}, #48]",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            s = inout(reg) se, d = inout(reg) de, n = inout(reg) blocks => _,
            a = out(reg) _, b = out(reg) _, c = out(reg) _, e = out(reg) _,
            f = out(reg) _, g = out(reg) _, h = out(reg) _, i = out(reg) _,
            options(nostack),
        );
    }
    (de, se)
}

/// The host's version of the loop above (same blocks, same order).
///
/// # Safety
/// As above.
#[cfg(not(target_arch = "aarch64"))]
#[inline(always)]
unsafe fn blocks_backward(
    mut de: *mut u64,
    mut se: *const u64,
    blocks: usize,
) -> (*mut u64, *const u64) {
    for _ in 0..blocks * (BLOCK_WORDS / GROUP_WORDS) {
        // SAFETY: as above; each group read before it is written, top first.
        unsafe {
            de = de.sub(GROUP_WORDS);
            se = se.sub(GROUP_WORDS);
            let b: [u64; GROUP_WORDS] = core::array::from_fn(|i| se.add(i).read());
            for (i, w) in b.into_iter().enumerate() {
                de.add(i).write(w);
            }
        }
    }
    (de, se)
}

/// The mirror of [`shifted_forward`]: fill whole aligned words below the aligned `de` from
/// the misaligned `se`, highest first. Returns the bytes copied (a multiple of 8, at most
/// `n`); the caller copies the rest, which lies at the start of both ranges.
///
/// # Safety
/// `de` aligned, `se` not; `n >= 8`; the ranges as for [`copy_backward`].
#[inline(always)]
unsafe fn shifted_backward(de: *mut u64, se: *const u8, n: usize) -> usize {
    let o = se as usize % W;
    let sh = 8 * o as u32;
    // The aligned word holding se - 1, of which only its low o bytes (..se) are ours.
    let sa = se.wrapping_sub(o) as *const u64;
    let mut prev = 0u64;
    for k in 0..o {
        // SAFETY: sa + k is in se - o ..se, inside the source (o < 8 <= n).
        prev |= (unsafe { (sa as *const u8).add(k).read() } as u64) << (8 * k);
    }
    // Output word j (below de - 8j) is prev's low o bytes over the top 8 - o bytes of the
    // aligned word at sa - 8(j + 1), which must start at or above s = se - n.
    let words = (n - o) / W;
    let mut j = 0;
    while j + 4 <= words {
        // SAFETY: the words sa - 8(j+1) ..= sa - 8(j+4) start at or above s; read before
        // written.
        unsafe {
            let a = sa.sub(j + 1).read();
            let b = sa.sub(j + 2).read();
            let c = sa.sub(j + 3).read();
            let e = sa.sub(j + 4).read();
            de.sub(j + 1).write(a >> sh | prev << (64 - sh));
            de.sub(j + 2).write(b >> sh | a << (64 - sh));
            de.sub(j + 3).write(c >> sh | b << (64 - sh));
            de.sub(j + 4).write(e >> sh | c << (64 - sh));
            prev = e;
        }
        j += 4;
    }
    while j < words {
        // SAFETY: as above, one word.
        unsafe {
            let a = sa.sub(j + 1).read();
            de.sub(j + 1).write(a >> sh | prev << (64 - sh));
            prev = a;
        }
        j += 1;
    }
    words * W
}

/// memmove: [`copy_forward`] unless `d` lies inside `s..s+n`.
///
/// # Safety
/// `s..s+n` readable, `d..d+n` writable; they may overlap.
#[inline(always)]
pub unsafe fn copy(d: *mut u8, s: *const u8, n: usize) {
    if (d as usize).wrapping_sub(s as usize) >= n {
        // SAFETY: the caller's contract; d is below s or past the source.
        unsafe { copy_forward(d, s, n) }
    } else {
        // SAFETY: the caller's contract; d is inside s..s+n.
        unsafe { copy_backward(d, s, n) }
    }
}

/// Set `n` bytes at `d` to `c`: aligned words, 128 bytes (8 `stp`) per iteration.
///
/// # Safety
/// `d..d+n` writable.
#[inline(always)]
pub unsafe fn set(mut d: *mut u8, c: u8, mut n: usize) {
    if n >= SMALL {
        let head = to_align(d as usize);
        for i in 0..head {
            // SAFETY: head < 8 <= n.
            unsafe { d.add(i).write(c) };
        }
        // SAFETY: as above; d is then aligned.
        d = unsafe { d.add(head) };
        n -= head;
        let v = u64::from_ne_bytes([c; W]);
        let mut dw = d as *mut u64;
        let mut words = n / W;
        if words >= BLOCK_WORDS {
            // SAFETY: words / BLOCK_WORDS whole blocks in range.
            dw = unsafe { blocks_set(dw, v, words / BLOCK_WORDS) };
            words %= BLOCK_WORDS;
        }
        while words >= GROUP_WORDS {
            // SAFETY: GROUP_WORDS words in range.
            unsafe {
                for i in 0..GROUP_WORDS {
                    dw.add(i).write(v);
                }
                dw = dw.add(GROUP_WORDS);
            }
            words -= GROUP_WORDS;
        }
        for i in 0..words {
            // SAFETY: i < words, in range.
            unsafe { dw.add(i).write(v) };
        }
        // SAFETY: the words just written were in range.
        d = unsafe { dw.add(words) } as *mut u8;
        n %= W;
    }
    for i in 0..n {
        // SAFETY: the last n bytes of the range.
        unsafe { d.add(i).write(c) };
    }
}

/// Fill `blocks` blocks of 256 bytes with `v` (16 `stp` each); returns the pointer past them.
///
/// # Safety
/// `blocks >= 1`; `d` aligned, the blocks writable.
#[cfg(target_arch = "aarch64")]
#[inline(always)]
unsafe fn blocks_set(mut d: *mut u64, v: u64, blocks: usize) -> *mut u64 {
    // SAFETY: writes blocks * 256 bytes from d, in range.
    unsafe {
        core::arch::asm!(
            "2:",
            "stp {v}, {v}, [{d}], #256",
            "stp {v}, {v}, [{d}, #-240]",
            "stp {v}, {v}, [{d}, #-224]",
            "stp {v}, {v}, [{d}, #-208]",
            "stp {v}, {v}, [{d}, #-192]",
            "stp {v}, {v}, [{d}, #-176]",
            "stp {v}, {v}, [{d}, #-160]",
            "stp {v}, {v}, [{d}, #-144]",
            "stp {v}, {v}, [{d}, #-128]",
            "stp {v}, {v}, [{d}, #-112]",
            "stp {v}, {v}, [{d}, #-96]",
            "stp {v}, {v}, [{d}, #-80]",
            "stp {v}, {v}, [{d}, #-64]",
            "stp {v}, {v}, [{d}, #-48]",
            "stp {v}, {v}, [{d}, #-32]",
            "stp {v}, {v}, [{d}, #-16]",
            "subs {n}, {n}, #1",
            "b.ne 2b",
            d = inout(reg) d, n = inout(reg) blocks => _, v = in(reg) v,
            options(nostack),
        );
    }
    d
}

/// The host's version of the loop above.
///
/// # Safety
/// As above.
#[cfg(not(target_arch = "aarch64"))]
#[inline(always)]
unsafe fn blocks_set(d: *mut u64, v: u64, blocks: usize) -> *mut u64 {
    for i in 0..blocks * BLOCK_WORDS {
        // SAFETY: as above.
        unsafe { d.add(i).write(v) };
    }
    // SAFETY: the end of the blocks just written.
    unsafe { d.add(blocks * BLOCK_WORDS) }
}

/// The C symbols, on the target only (on the host the C library's stay in charge).
#[cfg(all(target_os = "none", not(test)))]
mod symbols {
    /// # Safety
    /// C's memcpy contract: non-overlapping ranges of `n` bytes.
    #[no_mangle]
    pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller's contract.
        unsafe { super::copy_forward(d, s, n) };
        d
    }

    /// # Safety
    /// C's memmove contract: ranges of `n` bytes, which may overlap.
    #[no_mangle]
    pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller's contract.
        unsafe { super::copy(d, s, n) };
        d
    }

    /// # Safety
    /// C's memset contract: `n` writable bytes.
    #[no_mangle]
    pub unsafe extern "C" fn memset(d: *mut u8, c: i32, n: usize) -> *mut u8 {
        // SAFETY: the caller's contract.
        unsafe { super::set(d, c as u8, n) };
        d
    }
}

#[cfg(test)]
mod tests;
