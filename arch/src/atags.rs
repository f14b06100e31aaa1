//! The ARM Linux ATAGS boot-argument list, which boot loaders pass instead of a device tree
//! (QEMU does for its raw-image boots on boards with no device tree of their own): a run of
//! tagged records, each `size` (in 32-bit words, header included), `tag`, then data, ended by
//! `ATAG_NONE`. A board reads what it needs from it: the memory size and the command line.
//! Parsed from bytes, so it is tested on the host.

/// First record of every list.
pub const ATAG_CORE: u32 = 0x5441_0001;
/// A memory bank: size, start.
pub const ATAG_MEM: u32 = 0x5441_0002;
/// The command line, NUL-terminated.
pub const ATAG_CMDLINE: u32 = 0x5441_0009;
/// End of the list.
pub const ATAG_NONE: u32 = 0;

/// An ATAGS list in memory.
pub struct Atags<'a> {
    bytes: &'a [u8],
}

fn word(b: &[u8], i: usize) -> Option<u32> {
    Some(u32::from_le_bytes(
        b.get(i * 4..i * 4 + 4)?.try_into().ok()?,
    ))
}

impl<'a> Atags<'a> {
    /// The list starting at `bytes` (which may run past its end); `None` unless it starts
    /// with `ATAG_CORE`.
    pub fn new(bytes: &'a [u8]) -> Option<Atags<'a>> {
        (word(bytes, 1)? == ATAG_CORE && word(bytes, 0)? >= 2).then_some(Atags { bytes })
    }

    /// Each record as (tag, data bytes), up to `ATAG_NONE`, a malformed size or the end of
    /// the bytes given.
    pub fn records(&self) -> impl Iterator<Item = (u32, &'a [u8])> + 'a {
        let b = self.bytes;
        let mut at = 0usize;
        core::iter::from_fn(move || {
            let size = word(&b[at..], 0)? as usize;
            let tag = word(&b[at..], 1)?;
            if tag == ATAG_NONE || size < 2 {
                return None;
            }
            let end = at.checked_add(size.checked_mul(4)?)?;
            let data = b.get(at + 8..end)?;
            at = end;
            Some((tag, data))
        })
    }

    /// The first memory bank: (start, size).
    pub fn memory(&self) -> Option<(usize, usize)> {
        self.records().find_map(|(tag, d)| {
            (tag == ATAG_MEM).then(|| Some((word(d, 1)? as usize, word(d, 0)? as usize)))?
        })
    }

    /// The command line (up to its NUL; `None` without one or if it is not UTF-8).
    pub fn cmdline(&self) -> Option<&'a str> {
        let (_, d) = self.records().find(|&(tag, _)| tag == ATAG_CMDLINE)?;
        let len = d.iter().position(|&c| c == 0).unwrap_or(d.len());
        core::str::from_utf8(&d[..len]).ok()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    fn bytes(words: &[u32], tail: &[u8]) -> Vec<u8> {
        let mut v: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        v.extend_from_slice(tail);
        v
    }

    /// What QEMU 7.2 writes for `-M raspi3b -append "semihosting test"` (seen in a probe).
    fn qemu_list() -> Vec<u8> {
        let mut w = std::vec![5, ATAG_CORE, 1, 0x1000, 0, 4, ATAG_MEM, 0x3c00_0000, 0];
        w.extend([7, ATAG_CMDLINE]);
        let mut cmd = b"semihosting test\0".to_vec();
        cmd.resize(20, 0);
        let mut v = bytes(&w, &cmd);
        v.extend(bytes(&[0, ATAG_NONE], &[]));
        v
    }

    #[test]
    fn memory_and_command_line_as_qemu_writes_them() {
        let b = qemu_list();
        let a = Atags::new(&b).unwrap();
        assert_eq!(a.memory(), Some((0, 0x3c00_0000)));
        assert_eq!(a.cmdline(), Some("semihosting test"));
        let tags: Vec<u32> = a.records().map(|(t, _)| t).collect();
        assert_eq!(tags, [ATAG_CORE, ATAG_MEM, ATAG_CMDLINE]);
    }

    #[test]
    fn not_a_list_or_cut_short() {
        // A device tree's magic, or zeros, are not ATAGS.
        assert!(Atags::new(&0xedfe0dd0u32.to_le_bytes()).is_none());
        assert!(Atags::new(&[0; 16]).is_none());
        assert!(Atags::new(&[5, 0]).is_none());
        // The bytes end inside the memory record: no memory, and no overrun.
        let b = qemu_list();
        let a = Atags::new(&b[..30]).unwrap();
        assert_eq!(a.memory(), None);
        assert_eq!(a.cmdline(), None);
        // A size of 1 (shorter than its own header) ends the walk.
        let b = bytes(&[2, ATAG_CORE, 1, ATAG_MEM, 4, 0x1000], &[]);
        let a = Atags::new(&b).unwrap();
        assert_eq!(a.records().count(), 1);
        assert_eq!(a.memory(), None);
        // A huge size cannot overflow the walk.
        let b = bytes(&[2, ATAG_CORE, u32::MAX, ATAG_MEM, 0, 0], &[]);
        assert_eq!(Atags::new(&b).unwrap().records().count(), 1);
    }

    #[test]
    fn command_line_without_nul_or_not_utf8() {
        let b = bytes(&[2, ATAG_CORE, 3, ATAG_CMDLINE], b"ab c");
        assert_eq!(Atags::new(&b).unwrap().cmdline(), Some("ab c"));
        let b = bytes(&[2, ATAG_CORE, 3, ATAG_CMDLINE], &[0xff, 0, 0, 0]);
        assert_eq!(Atags::new(&b).unwrap().cmdline(), None);
    }
}
