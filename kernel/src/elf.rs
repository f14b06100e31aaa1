//! ELF64 (AArch64, little-endian, ET_EXEC) parser for the program loader. Every field is
//! checked against the file size and the user address range; a bad file is ENOEXEC.

use abi::layout::{USER_HEAP, USER_MIN};
use abi::Errno;
use heapless::Vec;

pub const MAX_SEGMENTS: usize = 8;
const PT_LOAD: u32 = 1;
const PF_X: u32 = 1;
const PF_W: u32 = 2;
const PF_R: u32 = 4;
const EM_AARCH64: u16 = 183;
const ET_EXEC: u16 = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: usize,
    pub memsz: usize,
    pub offset: usize,
    pub filesz: usize,
    pub write: bool,
    pub exec: bool,
}

#[derive(Debug)]
pub struct Image {
    pub entry: usize,
    pub segments: Vec<Segment, MAX_SEGMENTS>,
}

fn u16_at(b: &[u8], o: usize) -> Result<u16, Errno> {
    let s = b.get(o..o + 2).ok_or(Errno::ENOEXEC)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}
fn u32_at(b: &[u8], o: usize) -> Result<u32, Errno> {
    let s = b.get(o..o + 4).ok_or(Errno::ENOEXEC)?;
    Ok(u32::from_le_bytes(s.try_into().unwrap()))
}
fn u64_at(b: &[u8], o: usize) -> Result<usize, Errno> {
    let s = b.get(o..o + 8).ok_or(Errno::ENOEXEC)?;
    Ok(u64::from_le_bytes(s.try_into().unwrap()) as usize)
}

pub fn parse(file: &[u8]) -> Result<Image, Errno> {
    if file.len() < 64 || &file[0..4] != b"\x7fELF" || file[4] != 2 || file[5] != 1 {
        return Err(Errno::ENOEXEC);
    }
    if u16_at(file, 16)? != ET_EXEC || u16_at(file, 18)? != EM_AARCH64 {
        return Err(Errno::ENOEXEC);
    }
    let entry = u64_at(file, 24)?;
    let phoff = u64_at(file, 32)?;
    let phentsize = u16_at(file, 54)? as usize;
    let phnum = u16_at(file, 56)? as usize;
    if phentsize < 56 || phnum == 0 {
        return Err(Errno::ENOEXEC);
    }
    let mut segments: Vec<Segment, MAX_SEGMENTS> = Vec::new();
    for i in 0..phnum {
        let ph = phoff
            .checked_add(i.checked_mul(phentsize).ok_or(Errno::ENOEXEC)?)
            .ok_or(Errno::ENOEXEC)?;
        if ph.checked_add(56).is_none_or(|end| end > file.len()) {
            return Err(Errno::ENOEXEC);
        }
        if u32_at(file, ph)? != PT_LOAD {
            continue;
        }
        let flags = u32_at(file, ph + 4)?;
        let seg = Segment {
            offset: u64_at(file, ph + 8)?,
            vaddr: u64_at(file, ph + 16)?,
            filesz: u64_at(file, ph + 32)?,
            memsz: u64_at(file, ph + 40)?,
            write: flags & PF_W != 0,
            exec: flags & PF_X != 0,
        };
        let file_end = seg.offset.checked_add(seg.filesz).ok_or(Errno::ENOEXEC)?;
        let mem_end = seg.vaddr.checked_add(seg.memsz).ok_or(Errno::ENOEXEC)?;
        let bad = seg.filesz > seg.memsz
            || file_end > file.len()
            || seg.vaddr < USER_MIN
            || mem_end > USER_HEAP
            || (seg.write && seg.exec)
            || flags & PF_R == 0 && seg.memsz != 0;
        if bad {
            return Err(Errno::ENOEXEC);
        }
        if seg.memsz == 0 {
            continue;
        }
        // Segments must not share pages: each gets its own permissions.
        let lo = seg.vaddr & !(abi::PAGE_SIZE - 1);
        let hi = mem_end.next_multiple_of(abi::PAGE_SIZE);
        for s in &segments {
            let slo = s.vaddr & !(abi::PAGE_SIZE - 1);
            let shi = (s.vaddr + s.memsz).next_multiple_of(abi::PAGE_SIZE);
            if lo < shi && slo < hi {
                return Err(Errno::ENOEXEC);
            }
        }
        segments.push(seg).map_err(|_| Errno::ENOEXEC)?;
    }
    if !segments
        .iter()
        .any(|s| s.exec && entry >= s.vaddr && entry < s.vaddr + s.memsz)
    {
        return Err(Errno::ENOEXEC);
    }
    Ok(Image { entry, segments })
}

/// Builds small ELF files for tests (host and the on-target bad-ELF cases).
#[cfg(test)]
pub mod build {
    use std::vec::Vec;

    pub struct Seg {
        pub vaddr: u64,
        pub flags: u32,
        pub data: Vec<u8>,
        pub memsz: u64,
    }

    pub fn elf(entry: u64, segs: &[Seg]) -> Vec<u8> {
        let mut f = std::vec![0u8; 64];
        f[0..4].copy_from_slice(b"\x7fELF");
        f[4] = 2;
        f[5] = 1;
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes());
        f[18..20].copy_from_slice(&183u16.to_le_bytes());
        f[24..32].copy_from_slice(&entry.to_le_bytes());
        f[32..40].copy_from_slice(&64u64.to_le_bytes());
        f[52..54].copy_from_slice(&64u16.to_le_bytes());
        f[54..56].copy_from_slice(&56u16.to_le_bytes());
        f[56..58].copy_from_slice(&(segs.len() as u16).to_le_bytes());
        let mut data_off = 64 + 56 * segs.len();
        let mut phdrs = Vec::new();
        for s in segs {
            let mut ph = std::vec![0u8; 56];
            ph[0..4].copy_from_slice(&1u32.to_le_bytes());
            ph[4..8].copy_from_slice(&s.flags.to_le_bytes());
            ph[8..16].copy_from_slice(&(data_off as u64).to_le_bytes());
            ph[16..24].copy_from_slice(&s.vaddr.to_le_bytes());
            ph[32..40].copy_from_slice(&(s.data.len() as u64).to_le_bytes());
            ph[40..48].copy_from_slice(&s.memsz.to_le_bytes());
            phdrs.extend_from_slice(&ph);
            data_off += s.data.len();
        }
        f.extend_from_slice(&phdrs);
        for s in segs {
            f.extend_from_slice(&s.data);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::build::*;
    use super::*;
    use std::vec;

    fn good() -> std::vec::Vec<u8> {
        elf(
            0x40_0000,
            &[
                Seg {
                    vaddr: 0x40_0000,
                    flags: 5,
                    data: vec![0xd4; 100],
                    memsz: 100,
                },
                Seg {
                    vaddr: 0x40_2000,
                    flags: 6,
                    data: vec![1, 2, 3],
                    memsz: 0x3000,
                },
            ],
        )
    }

    #[test]
    fn parses_a_good_file() {
        let img = parse(&good()).unwrap();
        assert_eq!(img.entry, 0x40_0000);
        assert_eq!(img.segments.len(), 2);
        assert!(img.segments[0].exec && !img.segments[0].write);
        assert_eq!(img.segments[1].memsz, 0x3000);
    }

    #[test]
    fn rejects_every_truncation() {
        let f = good();
        for n in 0..f.len() {
            assert!(parse(&f[..n]).is_err(), "truncated at {n} accepted");
        }
    }

    type Corrupt = fn(&mut std::vec::Vec<u8>);

    #[test]
    fn rejects_bad_fields() {
        let cases: &[(&str, Corrupt)] = &[
            ("magic", |f| f[1] = b'X'),
            ("class", |f| f[4] = 1),
            ("machine", |f| f[18] = 62),
            ("type", |f| f[16] = 3),
            ("phoff huge", |f| {
                f[32..40].copy_from_slice(&u64::MAX.to_le_bytes())
            }),
            ("phnum huge", |f| {
                f[56..58].copy_from_slice(&0xffffu16.to_le_bytes())
            }),
            ("entry outside", |f| {
                f[24..32].copy_from_slice(&0x50_0000u64.to_le_bytes())
            }),
            ("filesz > memsz", |f| {
                f[64 + 40..64 + 48].copy_from_slice(&1u64.to_le_bytes())
            }),
            ("vaddr in kernel", |f| {
                f[64 + 16..64 + 24].copy_from_slice(&0xffff_0000_0000_0000u64.to_le_bytes())
            }),
            ("vaddr wraps", |f| {
                f[120 + 16..120 + 24].copy_from_slice(&(u64::MAX - 10).to_le_bytes())
            }),
            ("W+X", |f| {
                f[64 + 4..64 + 8].copy_from_slice(&7u32.to_le_bytes())
            }),
            ("overlap", |f| {
                f[120 + 16..120 + 24].copy_from_slice(&0x40_0000u64.to_le_bytes())
            }),
        ];
        for (name, mutate) in cases {
            let mut f = good();
            mutate(&mut f);
            assert_eq!(parse(&f).err(), Some(Errno::ENOEXEC), "{name}");
        }
    }
}
