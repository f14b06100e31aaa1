//! Handing a descriptor to a process that is already running (PatchworkOS's `share` and
//! `claim`): a one-time key names an open description until it is claimed or times out.

use abi::sys::{KEY_LEN, KEY_NEVER};
use abi::Errno;

use crate::{uaccess, Kernel};

type R = Result<isize, Errno>;

/// Keys waiting to be claimed, system-wide (ENOSPC past it).
pub const MAX_KEYS: usize = 32;

/// base64url: keys are printable and safe in a path or a shell word.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

#[derive(Clone, Copy, Debug)]
struct Key {
    key: [u8; KEY_LEN],
    /// The description; the key holds a reference to it.
    file: u16,
    /// Monotonic ns after which the key is void (None: until claimed).
    expiry: Option<u64>,
}

/// The key table and the generator that makes keys.
pub struct Keys {
    slots: [Option<Key>; MAX_KEYS],
    /// xoshiro256** state, stirred with the hardware's entropy where it has some (RNDR) and
    /// with the counter at every timer interrupt and every share.
    rng: [u64; 4],
    /// The earliest expiry of any key (the timer is armed for it).
    pub next_expiry: Option<u64>,
}

impl Default for Keys {
    fn default() -> Self {
        Keys {
            slots: [None; MAX_KEYS],
            // Any non-zero start; the stirring is what makes keys hard to guess.
            rng: [
                0x9e37_79b9_7f4a_7c15,
                0xbf58_476d_1ce4_e5b9,
                0x94d0_49bb_1331_11eb,
                0x2545_f491_4f6c_dd1d,
            ],
            next_expiry: None,
        }
    }
}

impl Keys {
    /// Mix `x` (a counter reading, hardware entropy) into the generator.
    pub fn stir(&mut self, x: u64) {
        self.rng[0] ^= x;
        self.rng[2] ^= x.rotate_left(29);
        self.next();
    }

    fn next(&mut self) -> u64 {
        let s = &mut self.rng;
        let out = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        out
    }

    /// A fresh key: 96 bits as 16 base64url characters, unlike any key waiting.
    fn fresh(&mut self) -> [u8; KEY_LEN] {
        loop {
            let bits = [self.next(), self.next()];
            let mut key = [0u8; KEY_LEN];
            for (i, c) in key.iter_mut().enumerate() {
                let six = (bits[i / 8] >> ((i % 8) * 6)) & 63;
                *c = ALPHABET[six as usize];
            }
            if !self.slots.iter().flatten().any(|k| k.key == key) {
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
        if let Some(e) = self.arch.entropy() {
            self.keys.stir(e);
        }
        self.keys.stir(now);
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
            .position(|k| k.is_some_and(|k| len == KEY_LEN && k.key[..] == buf[..KEY_LEN]))
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

    /// Drop the keys whose time is up (and the references they held).
    pub(crate) fn keys_expire(&mut self, now: u64) {
        if self.keys.next_expiry.is_none_or(|t| t > now) {
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
