//! Handing a descriptor to a process that is already running (PatchworkOS's `share` and
//! `claim`): a one-time key names an open description until it is claimed or times out.

use abi::sys::{KEY_LEN, KEY_NEVER};
use abi::Errno;

use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

/// Keys waiting to be claimed, system-wide (ENOSPC past it).
pub const MAX_KEYS: usize = 32;
/// Keys one user other than root may have waiting (ENOSPC past it): nobody can take the
/// whole table, or pin objects without limit, for the others.
pub const MAX_KEYS_PER_USER: usize = 8;

/// base64url: keys are printable and safe in a path or a shell word.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Clone, Copy, Debug)]
struct Key {
    key: [u8; KEY_LEN],
    /// The description; the key holds a reference to it.
    file: u16,
    /// Monotonic ns after which the key is void (None: until claimed).
    expiry: Option<u64>,
    /// Who shared it (the per-user limit).
    uid: u32,
}

/// The key table and the secret keys are made from.
pub struct Keys {
    slots: [Option<Key>; MAX_KEYS],
    /// SipHash key: keys are SipHash-2-4 of a counter under it, so a key shows nothing of
    /// it (or of the keys before and after). It is stirred with RNDR where the CPU has it
    /// and with the counter readings pooled at every timer interrupt.
    secret: [u64; 2],
    /// Counter readings from timer interrupts, folded in at the next share.
    pool: u64,
    count: u64,
    /// The earliest expiry of any key (the timer is armed for it).
    pub next_expiry: Option<u64>,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            slots: [None; MAX_KEYS],
            // Any start; the stirring is what makes the secret hard to guess.
            secret: [0x9e37_79b9_7f4a_7c15, 0xbf58_476d_1ce4_e5b9],
            pool: 0,
            count: 0,
            next_expiry: None,
        }
    }
}

impl Keys {
    /// Pool a counter reading (at every timer interrupt: two instructions).
    pub fn stir(&mut self, x: u64) {
        self.pool = self.pool.rotate_left(7) ^ x;
    }

    /// Fold the pool and `x` (a counter reading, hardware entropy) into the secret.
    fn mix(&mut self, x: u64) {
        let h = siphash(self.secret, self.pool ^ x.rotate_left(32), 0x006d_6978);
        self.secret = [
            self.secret[0] ^ h,
            self.secret[1].wrapping_add(h.rotate_left(29)),
        ];
        self.pool = 0;
    }

    /// A fresh key: 96 bits as 16 base64url characters, unlike any key waiting.
    fn fresh(&mut self) -> [u8; KEY_LEN] {
        loop {
            self.count += 1;
            let bits = [
                siphash(self.secret, self.count, 1),
                siphash(self.secret, self.count, 2),
            ];
            let mut key = [0u8; KEY_LEN];
            for (i, c) in key.iter_mut().enumerate() {
                let six = (bits[i / 8] >> ((i % 8) * 6)) & 63;
                *c = ALPHABET[six as usize];
            }
            if !self.slots.iter().flatten().any(|k| same(&k.key, &key)) {
                return key;
            }
        }
    }

    /// Keys waiting to be claimed.
    pub fn waiting(&self) -> usize {
        self.slots.iter().flatten().count()
    }

    fn recompute(&mut self) {
        self.next_expiry = self.slots.iter().flatten().filter_map(|k| k.expiry).min();
    }
}

/// Compare two keys in time that does not depend on where they differ.
fn same(a: &[u8; KEY_LEN], b: &[u8]) -> bool {
    b.len() == KEY_LEN && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// SipHash-2-4 of the two words `m` and `tag` under `k` (a keyed function: its outputs show
/// nothing of the key).
fn siphash(k: [u64; 2], m: u64, tag: u64) -> u64 {
    let mut v = [
        k[0] ^ 0x736f_6d65_7073_6575,
        k[1] ^ 0x646f_7261_6e64_6f6d,
        k[0] ^ 0x6c79_6765_6e65_7261,
        k[1] ^ 0x7465_6462_7974_6573,
    ];
    let round = |v: &mut [u64; 4]| {
        v[0] = v[0].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(13) ^ v[0];
        v[0] = v[0].rotate_left(32);
        v[2] = v[2].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(16) ^ v[2];
        v[0] = v[0].wrapping_add(v[3]);
        v[3] = v[3].rotate_left(21) ^ v[0];
        v[2] = v[2].wrapping_add(v[1]);
        v[1] = v[1].rotate_left(17) ^ v[2];
        v[2] = v[2].rotate_left(32);
    };
    // Two message words and the length word (16 bytes), as SipHash pads them.
    for w in [m, tag, 16u64 << 56] {
        v[3] ^= w;
        round(&mut v);
        round(&mut v);
        v[0] ^= w;
    }
    v[2] ^= 0xff;
    for _ in 0..4 {
        round(&mut v);
    }
    v[0] ^ v[1] ^ v[2] ^ v[3]
}

impl Kernel {
    /// share(key, size, fd, timeout_ns): a one-time key for fd's description, written to
    /// `key` with a NUL. EBADF for a bad fd, ERANGE for a buffer shorter than the key and
    /// its NUL, EINVAL for a zero timeout, ENOSPC when MAX_KEYS keys are waiting, EFAULT for
    /// a bad buffer; nothing is kept on failure.
    pub fn sys_share(&mut self, me: usize, buf: usize, size: usize, fd: usize, timeout: u64) -> R {
        let f = self.open_of(me, fd)?;
        if size < KEY_LEN + 1 {
            return Err(Errno::ERANGE);
        }
        if timeout == 0 {
            return Err(Errno::EINVAL);
        }
        let now = self.arch.now_ns();
        self.keys_expire(now);
        let slot = self
            .keys
            .slots
            .iter()
            .position(|k| k.is_none())
            .ok_or(Errno::ENOSPC)?;
        let uid = self.task(me).uid;
        let mine = self.keys.slots.iter().flatten().filter(|k| k.uid == uid);
        if uid != 0 && mine.count() >= MAX_KEYS_PER_USER {
            return Err(Errno::ENOSPC);
        }
        self.keys.mix(now ^ self.arch.entropy().unwrap_or(0));
        let key = self.keys.fresh();
        let mut out = [0u8; KEY_LEN + 1];
        out[..KEY_LEN].copy_from_slice(&key);
        let env = self.task(me).env;
        uaccess::copy_out(self.arch, &env, buf, &out)?;
        let expiry = match timeout {
            KEY_NEVER => None,
            t => Some(now.saturating_add(t)),
        };
        self.file_ref(f.id);
        self.keys.slots[slot] = Some(Key {
            key,
            file: f.id,
            expiry,
            uid,
        });
        self.keys.recompute();
        self.timers_dirty = true;
        Ok(0)
    }

    /// claim(key): a new descriptor (lowest free, without FD_CLOEXEC) for the description
    /// the key names; the key is used up. ENOENT for a key that is unknown, already
    /// claimed or past its timeout; EMFILE (the key stays good) when the caller has no free
    /// descriptor; EFAULT for a bad pointer.
    pub fn sys_claim(&mut self, me: usize, uva: usize) -> R {
        let env = self.task(me).env;
        let mut buf = [0u8; KEY_LEN + 1];
        let len = match uaccess::read_cstr(self.arch, &env, uva, &mut buf) {
            Ok(n) => n,
            Err(Errno::ENAMETOOLONG) => return Err(Errno::ENOENT),
            Err(e) => return Err(e),
        };
        self.keys_expire(self.arch.now_ns());
        let slot = self
            .keys
            .slots
            .iter()
            .position(|k| k.is_some_and(|k| same(&k.key, &buf[..len])))
            .ok_or(Errno::ENOENT)?;
        let fd = self.fd_free(me, 0)?;
        let k = self.keys.slots[slot].take().expect("found");
        self.keys.recompute();
        // The key's reference becomes the descriptor's.
        self.task_mut(me).fds[fd] = Some(crate::fs::file::Fd {
            file: k.file,
            cloexec: false,
        });
        Ok(fd as isize)
    }

    /// Drop the keys whose time is up (and the references they held). In the timer
    /// interrupt only while the reclaim queue has room for what they may free (a full
    /// queue would free at once); else the next share, claim or tick does it.
    pub(crate) fn keys_expire(&mut self, now: u64) {
        if self.keys.next_expiry.is_none_or(|t| t > now) {
            return;
        }
        if !self.reclaim.has_room(MAX_KEYS) {
            return;
        }
        for i in 0..MAX_KEYS {
            if let Some(k) = self.keys.slots[i] {
                if k.expiry.is_some_and(|t| t <= now) {
                    self.keys.slots[i] = None;
                    self.file_unref(k.file);
                }
            }
        }
        self.keys.recompute();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn siphash_matches_the_reference_vector() {
        // SipHash-2-4, key 00..0f, message 00..0f: the reference implementation's vector 16.
        let k = [0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908];
        assert_eq!(
            siphash(k, 0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908),
            0x3f2a_cc7f_57c2_9bdb
        );
    }

    #[test]
    fn keys_compare_whole() {
        let k = *b"ABCDEFGHIJKLMNOP";
        assert!(same(&k, b"ABCDEFGHIJKLMNOP"));
        assert!(!same(&k, b"ABCDEFGHIJKLMNOQ"));
        assert!(!same(&k, b"ABCDEFGHIJKLMNO"));
    }
}
