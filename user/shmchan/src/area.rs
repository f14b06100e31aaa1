//! An attached area: create and attach, the client counter and bitmask, and the list of
//! chunk and signal descriptors (validated on every read, appended to under the lock).

use crate::chunk::{Chunk, ChunkInfo, ChunkState};
use crate::layout::{Desc, Header, ALIGN, CHUNK_MAGIC, DESC_SIZE, HEADER_SIZE, SIGNAL_MAGIC};
use crate::signal::Signal;
use crate::{check_name, Errno, NAME_MAX};
use core::fmt;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use shmsync::{os, Acquired};

/// How long `add_chunk`/`add_signal` wait for the area lock. A holder keeps it for one
/// bounded walk of the list, so a lock held this long belongs to a client that is stuck or
/// wrote garbage over it: the area is treated as corrupted (EIO).
pub const LOCK_WAIT_MS: u64 = 5000;

/// How often `attach_to` looks for the area: the POSIX namespace has no notification.
const ATTACH_POLL_NS: u64 = 10_000_000;

/// Wake every waiter on a futex word.
pub(crate) const WAKE_ALL: u32 = i32::MAX as u32;

/// A name as stored in the area (at most 15 bytes, not necessarily UTF-8 when another
/// client wrote it). repr(C): it is part of `l4shmc_area_t`, which C code allocates.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Name {
    bytes: [u8; NAME_MAX + 1],
    len: u8,
}

impl Name {
    pub(crate) fn new(b: &[u8]) -> Name {
        let mut n = Name::default();
        let len = b.len().min(NAME_MAX);
        n.bytes[..len].copy_from_slice(&b[..len]);
        n.len = len as u8;
        n
    }

    /// Read a name field: None unless it is 1..=15 bytes ended by a NUL.
    pub(crate) fn read(field: &[AtomicU64; 2]) -> Option<Name> {
        Name::read_words(field).map(Name::from_words)
    }

    /// Read and check a name field as two word loads: its words with the bytes from the
    /// NUL on cleared (so equal names have equal words), None unless it is 1..=15 bytes
    /// ended by a NUL.
    #[inline]
    pub(crate) fn read_words(field: &[AtomicU64; 2]) -> Option<[u64; 2]> {
        let lo = field[0].load(Ordering::Relaxed);
        let hi = field[1].load(Ordering::Relaxed);
        let len = match zero_byte(lo) {
            Some(i) => i,
            None => 8 + zero_byte(hi)?,
        };
        if len == 0 {
            return None;
        }
        // Keep the `len` bytes below the NUL (little-endian: the low ones).
        let w = (u128::from(hi) << 64 | u128::from(lo)) & ((1u128 << (8 * len)) - 1);
        Some([w as u64, (w >> 64) as u64])
    }

    /// The name whose checked words (`read_words`) are `w`.
    pub(crate) fn from_words(w: [u64; 2]) -> Name {
        let mut n = Name::default();
        n.bytes = (u128::from(w[1]) << 64 | u128::from(w[0])).to_le_bytes();
        n.len = n.bytes.iter().position(|&b| b == 0).unwrap_or(NAME_MAX) as u8;
        n
    }

    /// The name as the two words of a descriptor's name field.
    pub(crate) fn words(&self) -> [u64; 2] {
        let w = u128::from_le_bytes(self.bytes);
        [w as u64, (w >> 64) as u64]
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len as usize]
    }

    /// The name as text, if it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        core::str::from_utf8(self.as_bytes()).ok()
    }
}

/// Index of the lowest zero byte of `w` (little-endian), if any. The lowest flag of the
/// usual has-a-zero-byte test is exact: a borrow only travels up from a zero byte.
#[inline]
fn zero_byte(w: u64) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let t = w.wrapping_sub(ONES) & !w & (ONES << 7);
    (t != 0).then(|| t.trailing_zeros() as usize / 8)
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.as_str() {
            Some(s) => write!(f, "{s:?}"),
            None => write!(f, "{:?}", self.as_bytes()),
        }
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// A descriptor as read (once) and validated.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Slot {
    pub off: usize,
    pub magic: u32,
    pub capacity: usize,
    /// End of its payload: where the next descriptor may start.
    pub end: usize,
    pub next: u64,
    /// The name's words as `Name::read_words` checked them (compared as they are; made
    /// a `Name` only for listing).
    pub name: [u64; 2],
}

/// A signal as listed for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalInfo {
    pub name: Name,
    pub offset: usize,
    /// Triggers so far (wrapping).
    pub count: u32,
}

/// One descriptor of the area's list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Entry {
    Chunk(ChunkInfo),
    Signal(SignalInfo),
}

/// The area as a whole, for tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AreaInfo {
    pub name: Name,
    pub size: usize,
    /// Free bytes, or why the list could not be walked.
    pub free: Result<usize, Errno>,
    /// Attaches so far (the next client number).
    pub clients: u64,
    /// Clients that marked themselves initialized (bit n = client n).
    pub initialized: u64,
    /// The lock word: 0 when free, else the holder's id and flags.
    pub lock_word: u32,
}

/// An attached area (L4Re's `l4shmc_area_t`): this process's mapping of it and this
/// attach's client number. Dropping it unmaps the area.
#[repr(C)]
pub struct Area {
    pub(crate) base: *mut u8,
    pub(crate) size: usize,
    pub(crate) client_nr: usize,
    pub(crate) name: Name,
    /// The last chunk name `l4shmc_iterate_chunk` returned, copied out of the area (C gets
    /// a pointer to this, NUL-terminated, never into memory another client may rewrite).
    pub(crate) iter_name: [core::sync::atomic::AtomicU8; NAME_MAX + 1],
}

/// `sizeof(l4shmc_area_t)`: the C header declares an opaque struct of this size.
pub const AREA_SIZE: usize = 64;
const _: () = assert!(core::mem::size_of::<Area>() == AREA_SIZE);
const _: () = assert!(core::mem::align_of::<Area>() == 8);

// SAFETY: the mapping is not tied to a thread, and everything `Area` reads or writes in it
// is an atomic (or the payload, which callers reach only through raw pointers).
unsafe impl Send for Area {}
// SAFETY: as above: shared access is what the area is made for.
unsafe impl Sync for Area {}

impl fmt::Debug for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Area")
            .field("name", &self.name)
            .field("base", &self.base)
            .field("size", &self.size)
            .field("client_nr", &self.client_nr)
            .finish()
    }
}

impl Drop for Area {
    fn drop(&mut self) {
        if self.base.is_null() {
            // A C area struct that l4shmc_detach cleared.
            return;
        }
        os::unmap(os::Mapping {
            base: self.base,
            len: self.size,
        });
    }
}

/// The POSIX object name of area `name`: "/" + name.
fn os_name<'b>(name: &[u8], buf: &'b mut [u8; NAME_MAX + 2]) -> Result<&'b str, Errno> {
    os::slash_name(name, buf)
}

/// L4Re reports memory it may not write as EPERM.
pub(crate) fn map_os(e: Errno) -> Errno {
    match e {
        Errno::EACCES | Errno::EROFS => Errno::EPERM,
        e => e,
    }
}

/// The area lock, let go when dropped.
struct Locked<'a>(&'a Area);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        // Only fails if not held, which the guard's existence rules out.
        let _ = self.0.header().lock.unlock();
    }
}

/// Walk of the descriptor list from a link's value. Each descriptor must start at or after
/// the end of the one before, so the walk ends within size / DESC_SIZE steps whatever the
/// area holds; the first invalid descriptor ends it with its error.
pub(crate) struct Descs<'a> {
    area: &'a Area,
    next: u64,
    min: usize,
    failed: bool,
}

impl Iterator for Descs<'_> {
    type Item = Result<Slot, Errno>;

    // Inlined with `read_desc` into each walk, so a slot lives in registers instead of
    // being copied out with memcpy calls at every step.
    #[inline(always)]
    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.next == 0 {
            return None;
        }
        match self.area.read_desc(self.next, self.min) {
            Ok(s) => {
                self.min = s.end;
                self.next = s.next;
                Some(Ok(s))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

impl Area {
    /// Create the area `name` of `size` bytes (`l4shmc_create`, the older L4Re form), as a
    /// zero-filled POSIX object "/name". An existing area is left as it is: both sides may
    /// create. EINVAL: bad name or smaller than the header; ENOMEM: size > isize::MAX.
    pub fn create(name: &str, size: usize) -> Result<(), Errno> {
        let n = check_name(name)?;
        if size > isize::MAX as usize {
            return Err(Errno::ENOMEM);
        }
        if size < HEADER_SIZE {
            return Err(Errno::EINVAL);
        }
        let mut buf = [0; NAME_MAX + 2];
        let (m, _fresh) = os::create(os_name(n, &mut buf)?, size, false).map_err(map_os)?;
        // Zero-filled is an empty area: nothing to initialise.
        os::unmap(m);
        Ok(())
    }

    /// Remove the name `name` (the area lives on while attached). Not in L4Re, whose areas
    /// are dataspaces that go away with their last user.
    pub fn remove(name: &str) -> Result<(), Errno> {
        let n = check_name(name)?;
        let mut buf = [0; NAME_MAX + 2];
        os::unlink(os_name(n, &mut buf)?)
    }

    /// Attach to area `name` (ENOENT if absent) and take the next client number.
    pub fn attach(name: &str) -> Result<Area, Errno> {
        let mut a = Area::map(name)?;
        a.client_nr = a.header().next_client_nr.fetch_add(1, Ordering::SeqCst) as usize;
        Ok(a)
    }

    /// Map area `name` for looking at it without taking a client number (tools: listing
    /// an area must not change the numbers its clients get). Its `client_nr()` is
    /// `usize::MAX`, so it cannot mark itself initialized.
    pub fn inspect(name: &str) -> Result<Area, Errno> {
        Area::map(name)
    }

    fn map(name: &str) -> Result<Area, Errno> {
        let n = check_name(name)?;
        let mut buf = [0; NAME_MAX + 2];
        let m = os::attach(os_name(n, &mut buf)?).map_err(map_os)?;
        let bad = if m.len > isize::MAX as usize {
            Some(Errno::ENOMEM)
        } else if m.len < HEADER_SIZE || !(m.base as usize).is_multiple_of(ALIGN) {
            // Not an area: too small for the header.
            Some(Errno::EIO)
        } else {
            None
        };
        if let Some(e) = bad {
            os::unmap(m);
            return Err(e);
        }
        Ok(Area {
            base: m.base,
            size: m.len,
            client_nr: usize::MAX,
            name: Name::new(n),
            iter_name: Default::default(),
        })
    }

    /// Attach, waiting up to `timeout_ms` for the area to appear (`l4shmc_attach_to`;
    /// Some(0): one look, None: for ever). ENOENT if it did not. Polls every 10 ms: the
    /// namespace tells nobody when a name appears.
    pub fn attach_to(name: &str, timeout_ms: Option<u64>) -> Result<Area, Errno> {
        let deadline = os::deadline_ms(timeout_ms).unwrap_or(u64::MAX);
        loop {
            match Area::attach(name) {
                Err(Errno::ENOENT) => {}
                r => return r,
            }
            let now = os::now_ns();
            if now >= deadline {
                return Err(Errno::ENOENT);
            }
            os::sleep_ns((deadline - now).min(ATTACH_POLL_NS));
        }
    }

    /// The area's name.
    pub fn name(&self) -> Name {
        self.name
    }

    /// Where the area is mapped in this process.
    pub fn base(&self) -> *mut u8 {
        self.base
    }

    /// The area's size in bytes (`l4shmc_area_size`).
    pub fn size(&self) -> usize {
        self.size
    }

    /// This attach's client number: 0, 1, 2… in attach order (`l4shmc_get_client_nr`).
    pub fn client_nr(&self) -> usize {
        self.client_nr
    }

    /// Set this client's bit in the initialized-clients bitmask; EINVAL for client numbers
    /// past the 64 bits (`l4shmc_mark_client_initialized`).
    pub fn mark_client_initialized(&self) -> Result<(), Errno> {
        if self.client_nr >= u64::BITS as usize {
            return Err(Errno::EINVAL);
        }
        self.header()
            .clients_init
            .fetch_or(1 << self.client_nr, Ordering::SeqCst);
        Ok(())
    }

    /// The initialized-clients bitmask (`l4shmc_get_initialized_clients`).
    pub fn initialized_clients(&self) -> u64 {
        self.header().clients_init.load(Ordering::SeqCst)
    }

    /// Bytes of the area not available for chunks: the header (`l4shmc_area_overhead`).
    pub const fn area_overhead() -> usize {
        HEADER_SIZE
    }

    /// Bytes a chunk needs besides its capacity: its descriptor and the round-up of the
    /// capacity to 8 (`l4shmc_chunk_overhead`).
    pub const fn chunk_overhead() -> usize {
        DESC_SIZE + ALIGN
    }

    /// Free bytes: the usable size minus the end of the last descriptor
    /// (`l4shmc_area_size_free`); EIO/EINVAL if the list is corrupted.
    pub fn size_free(&self) -> Result<usize, Errno> {
        let mut end = HEADER_SIZE;
        for s in self.descs() {
            end = s?.end;
        }
        Ok(self.usable().saturating_sub(end))
    }

    /// Add chunk `name` with room for `capacity` bytes, rounded up to 8
    /// (`l4shmc_add_chunk`). EEXIST: a chunk has that name; ENOMEM: no room.
    pub fn add_chunk(&self, name: &str, capacity: usize) -> Result<Chunk<'_>, Errno> {
        let n = check_name(name)?;
        let cap = capacity
            .checked_next_multiple_of(ALIGN)
            .filter(|&c| c <= isize::MAX as usize)
            .ok_or(Errno::ENOMEM)?;
        match self.append(n, CHUNK_MAGIC, cap)? {
            (off, true) => Chunk::from_raw(self, off, cap),
            (_, false) => Err(Errno::EEXIST),
        }
    }

    /// Find chunk `name` (`l4shmc_get_chunk`; ENOENT if absent).
    pub fn get_chunk(&self, name: &str) -> Result<Chunk<'_>, Errno> {
        self.get_chunk_to(name, Some(0))
    }

    /// Find chunk `name`, waiting up to `timeout_ms` for another client to add it
    /// (`l4shmc_get_chunk_to`; None: for ever). Sleeps on the header's generation word, so
    /// an add wakes it at once.
    pub fn get_chunk_to(&self, name: &str, timeout_ms: Option<u64>) -> Result<Chunk<'_>, Errno> {
        let n = check_name(name)?;
        let s = self.find_to(n, CHUNK_MAGIC, timeout_ms)?;
        Chunk::from_raw(self, s.off, s.capacity)
    }

    /// Add signal `name` (`l4shmc_add_signal`), or get it if it is there already (as in
    /// L4Re, where adding an existing signal gets it): both sides may add.
    pub fn add_signal(&self, name: &str) -> Result<Signal<'_>, Errno> {
        let n = check_name(name)?;
        let (off, _) = self.append(n, SIGNAL_MAGIC, 0)?;
        Signal::from_raw(self, off, None)
    }

    /// Find signal `name` (`l4shmc_get_signal`, `l4shmc_attach_signal`; ENOENT if absent).
    /// Triggers before this are not pending for the handle returned.
    pub fn get_signal(&self, name: &str) -> Result<Signal<'_>, Errno> {
        self.get_signal_to(name, Some(0))
    }

    /// Find signal `name`, waiting up to `timeout_ms` for it (`l4shmc_get_signal_to`,
    /// `l4shmc_attach_signal_to`).
    pub fn get_signal_to(&self, name: &str, timeout_ms: Option<u64>) -> Result<Signal<'_>, Errno> {
        let n = check_name(name)?;
        let s = self.find_to(n, SIGNAL_MAGIC, timeout_ms)?;
        Signal::from_raw(self, s.off, None)
    }

    /// The chunk after iterator `offs` (0: the first): Some((next iterator, its name)), or
    /// None at the end (`l4shmc_iterate_chunk`). An iterator that is not a descriptor of
    /// this area is EIO/EINVAL.
    pub fn iterate_chunk(&self, offs: usize) -> Result<Option<(usize, Name)>, Errno> {
        let descs = if offs == 0 {
            self.descs()
        } else {
            let s = self.read_desc(offs as u64, HEADER_SIZE)?;
            self.descs_from(s.next, s.end)
        };
        for s in descs {
            let s = s?;
            if s.magic == CHUNK_MAGIC {
                return Ok(Some((s.off, Name::from_words(s.name))));
            }
        }
        Ok(None)
    }

    /// Every descriptor in list order, for tools; the walk ends at the first invalid one
    /// with its error.
    pub fn entries(&self) -> impl Iterator<Item = Result<Entry, Errno>> + '_ {
        self.descs().map(move |s| {
            let s = s?;
            let d = self.desc(s.off)?;
            Ok(if s.magic == CHUNK_MAGIC {
                Entry::Chunk(ChunkInfo {
                    name: Name::from_words(s.name),
                    offset: s.off,
                    capacity: s.capacity,
                    size: d.size.load(Ordering::Acquire),
                    state: ChunkState::from_word(d.state.load(Ordering::Acquire)),
                })
            } else {
                Entry::Signal(SignalInfo {
                    name: Name::from_words(s.name),
                    offset: s.off,
                    count: d.state.load(Ordering::Acquire),
                })
            })
        })
    }

    /// The chunks, for tools (name, capacity, size, state).
    pub fn chunks(&self) -> impl Iterator<Item = Result<ChunkInfo, Errno>> + '_ {
        self.entries().filter_map(|e| match e {
            Ok(Entry::Chunk(c)) => Some(Ok(c)),
            Ok(Entry::Signal(_)) => None,
            Err(e) => Some(Err(e)),
        })
    }

    /// The header's counters, for tools.
    pub fn info(&self) -> AreaInfo {
        let h = self.header();
        AreaInfo {
            name: self.name,
            size: self.size,
            free: self.size_free(),
            clients: h.next_client_nr.load(Ordering::SeqCst),
            initialized: h.clients_init.load(Ordering::SeqCst),
            lock_word: h.lock.word(),
        }
    }

    /// The header in shared memory (tools, and tests that corrupt it or kill its lock's
    /// holder).
    pub fn header(&self) -> &Header {
        // SAFETY: attach checked that the mapping is 8-aligned and holds a header; it stays
        // mapped while `self` lives; every field is atomic (the lock's padding is never
        // read), so other clients' writes do not race with these reads.
        unsafe { &*(self.base as *const Header) }
    }

    /// The descriptor at `off`, if it lies inside the area and is 8-aligned (what it holds
    /// is not checked here).
    pub fn desc(&self, off: usize) -> Result<&Desc, Errno> {
        if !off.is_multiple_of(ALIGN) {
            return Err(Errno::EINVAL);
        }
        match off.checked_add(DESC_SIZE) {
            Some(end) if off >= HEADER_SIZE && end <= self.size => {}
            _ => return Err(Errno::EIO),
        }
        // SAFETY: in bounds and aligned as checked just above, mapped while `self` lives;
        // all fields are atomics.
        Ok(unsafe { &*(self.base.add(off) as *const Desc) })
    }

    /// Chunks and descriptors end within the size rounded down to the alignment.
    fn usable(&self) -> usize {
        self.size & !(ALIGN - 1)
    }

    fn descs(&self) -> Descs<'_> {
        self.descs_from(self.header().first.load(Ordering::Acquire), HEADER_SIZE)
    }

    fn descs_from(&self, next: u64, min: usize) -> Descs<'_> {
        Descs {
            area: self,
            next,
            min,
            failed: false,
        }
    }

    /// Read and check the descriptor at `off`, which must not start before `min`. Each
    /// field is loaded once; only the checked copies are used.
    #[inline(always)]
    pub(crate) fn read_desc(&self, off: u64, min: usize) -> Result<Slot, Errno> {
        let off = usize::try_from(off).map_err(|_| Errno::EIO)?;
        if off < min {
            // Pointing back: a loop or an overlap.
            return Err(Errno::EIO);
        }
        let d = self.desc(off)?;
        let magic = d.magic.load(Ordering::Acquire);
        let capacity = usize::try_from(d.capacity.load(Ordering::Acquire)).unwrap_or(usize::MAX);
        let end = (off + DESC_SIZE).checked_add(capacity);
        let ok = (magic == CHUNK_MAGIC || (magic == SIGNAL_MAGIC && capacity == 0))
            && d.offset.load(Ordering::Acquire) == off as u64
            && capacity.is_multiple_of(ALIGN)
            && end.is_some_and(|e| e <= self.usable());
        let name = Name::read_words(&d.name).filter(|_| ok).ok_or(Errno::EIO)?;
        Ok(Slot {
            off,
            magic,
            capacity,
            end: end.unwrap_or(0),
            next: d.next.load(Ordering::Acquire),
            name,
        })
    }

    /// The descriptor with this magic and `name` (checked: no NUL), if the list has one.
    fn find(&self, name: &[u8], magic: u32) -> Result<Option<Slot>, Errno> {
        let want = Name::new(name).words();
        for s in self.descs() {
            let s = s?;
            if s.magic == magic && s.name == want {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    fn find_to(&self, name: &[u8], magic: u32, timeout_ms: Option<u64>) -> Result<Slot, Errno> {
        let deadline = os::deadline_ms(timeout_ms);
        let gen = &self.header().generation;
        loop {
            // Read before looking: an add after the look changes it, so the wait returns.
            let g = gen.load(Ordering::SeqCst);
            if let Some(s) = self.find(name, magic)? {
                return Ok(s);
            }
            if timeout_ms == Some(0) {
                return Err(Errno::ENOENT);
            }
            match os::futex_wait(gen, g, deadline) {
                Err(Errno::ETIMEDOUT) => return self.find(name, magic)?.ok_or(Errno::ENOENT),
                Err(Errno::EAGAIN | Errno::EINTR) | Ok(()) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Take the area lock; if its holder died, repair the list first.
    fn lock(&self) -> Result<Locked<'_>, Errno> {
        let how = match self.header().lock.lock(os::deadline_ms(Some(LOCK_WAIT_MS))) {
            Ok(how) => how,
            Err(Errno::ETIMEDOUT) => return Err(Errno::EIO),
            Err(e) => return Err(e),
        };
        let guard = Locked(self);
        if how == Acquired::OwnerDied {
            self.repair();
        }
        Ok(guard)
    }

    /// After a lock holder died: it may have died anywhere in an append. A descriptor is
    /// written completely before it is linked, so the list is valid up to any garbage a
    /// client wrote; cut it at the first invalid descriptor (later ones are lost) and wake
    /// whoever waits for the list to change. Call with the lock held. True if it cut.
    fn repair(&self) -> bool {
        let h = self.header();
        let mut link: &AtomicU64 = &h.first;
        let mut next = link.load(Ordering::Acquire);
        let mut min = HEADER_SIZE;
        let mut cut = false;
        // Bounded: read_desc only accepts descriptors at or after `min`, which grows by at
        // least DESC_SIZE each step.
        while next != 0 {
            match self
                .read_desc(next, min)
                .and_then(|s| Ok((s, self.desc(s.off)?)))
            {
                Ok((s, d)) => {
                    link = &d.next;
                    next = s.next;
                    min = s.end;
                }
                Err(_) => {
                    link.store(0, Ordering::Release);
                    cut = true;
                    break;
                }
            }
        }
        bump(&h.generation);
        cut
    }

    /// Append a descriptor under the lock unless one with this magic and name exists:
    /// (its offset, whether it is new). ENOMEM if it does not fit.
    fn append(&self, name: &[u8], magic: u32, cap: usize) -> Result<(usize, bool), Errno> {
        let _locked = self.lock()?;
        let mut last: Option<usize> = None;
        let mut off = HEADER_SIZE;
        let want = Name::new(name).words();
        for s in self.descs() {
            let s = s?;
            if s.magic == magic && s.name == want {
                return Ok((s.off, false));
            }
            last = Some(s.off);
            off = s.end;
        }
        match off.checked_add(DESC_SIZE).and_then(|e| e.checked_add(cap)) {
            Some(end) if end <= self.usable() => {}
            _ => return Err(Errno::ENOMEM),
        }
        // Fill the descriptor while nobody can reach it, then link it (Release: whoever
        // follows the link sees it whole).
        let d = self.desc(off)?;
        d.state.store(0, Ordering::Relaxed);
        d.offset.store(off as u64, Ordering::Relaxed);
        d.capacity.store(cap as u64, Ordering::Relaxed);
        d.size.store(0, Ordering::Relaxed);
        d.next.store(0, Ordering::Relaxed);
        d.waiting.store(0, Ordering::Relaxed);
        for (f, w) in d.name.iter().zip(Name::new(name).words()) {
            f.store(w, Ordering::Relaxed);
        }
        d.magic.store(magic, Ordering::Release);
        let link = match last {
            Some(p) => &self.desc(p)?.next,
            None => &self.header().first,
        };
        link.store(off as u64, Ordering::Release);
        bump(&self.header().generation);
        Ok((off, true))
    }
}

/// Tell waiters for the list that it changed.
fn bump(gen: &AtomicU32) {
    gen.fetch_add(1, Ordering::SeqCst);
    os::futex_wake(gen, WAKE_ALL);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn l4_03_memory_that_may_not_be_written_is_eperm() {
        // The host has no permission model; what the target's shm_open/mmap say is mapped.
        assert_eq!(map_os(Errno::EACCES), Errno::EPERM);
        assert_eq!(map_os(Errno::EROFS), Errno::EPERM);
        assert_eq!(map_os(Errno::ENOENT), Errno::ENOENT);
    }

    /// Name::read against the byte-by-byte rule: the bytes before the first NUL, None
    /// without a NUL or with an empty name; bytes such as 0x01 and 0x80 around the NUL
    /// (where the word test's borrows could mislead) at every position.
    #[test]
    fn names_read_as_words_match_the_byte_rule() {
        let fillers = [0x01u8, 0x80, 0xff, 0x7f, b'x', 0x00];
        for len in 0..=16usize {
            for &f in &fillers {
                for &g in &fillers {
                    let mut b = [f; 16];
                    for (i, x) in b.iter_mut().enumerate().take(len) {
                        *x = if i % 2 == 0 { g.max(1) } else { f.max(1) };
                    }
                    if len < 16 {
                        b[len] = 0;
                    }
                    let field = [
                        AtomicU64::new(u64::from_le_bytes(b[..8].try_into().unwrap())),
                        AtomicU64::new(u64::from_le_bytes(b[8..].try_into().unwrap())),
                    ];
                    let want = match b.iter().position(|&x| x == 0) {
                        Some(0) | None => None,
                        Some(n) => Some(Name::new(&b[..n])),
                    };
                    assert_eq!(Name::read(&field), want, "{b:02x?}");
                }
            }
        }
    }

    #[test]
    fn os_names_get_a_leading_slash() {
        let mut buf = [0; NAME_MAX + 2];
        assert_eq!(os_name(b"abc", &mut buf), Ok("/abc"));
        assert_eq!(
            os_name(&[b'x'; NAME_MAX], &mut buf).unwrap().len(),
            NAME_MAX + 1
        );
    }
}
