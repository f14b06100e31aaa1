//! Read-only file system embedded in the image: the user programs. The board's build script
//! writes it; every offset is checked here before use.
//!
//! Layout: magic "NXROMFS1", u32 count, u32 reserved, then `count` entries of
//! { name: [u8; 24] NUL-padded, offset: u32, size: u32 }, then the file bytes.

pub const MAGIC: &[u8; 8] = b"NXROMFS1";
pub const NAME_LEN: usize = 24;
const ENTRY: usize = NAME_LEN + 8;

#[derive(Clone, Copy)]
pub struct RomFs<'a> {
    data: &'a [u8],
    count: usize,
}

impl<'a> RomFs<'a> {
    pub const fn empty() -> RomFs<'static> {
        RomFs {
            data: &[],
            count: 0,
        }
    }

    /// Parse the header; None if it is not a rom file system or its table runs off the end.
    pub fn new(data: &'a [u8]) -> Option<RomFs<'a>> {
        if data.len() < 16 || &data[0..8] != MAGIC {
            return None;
        }
        let count = u32::from_le_bytes(data[8..12].try_into().ok()?) as usize;
        if count.checked_mul(ENTRY)?.checked_add(16)? > data.len() {
            return None;
        }
        Some(RomFs { data, count })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Name and contents of file `i`; None if out of range or its extent is bad.
    pub fn get(&self, i: usize) -> Option<(&'a str, &'a [u8])> {
        if i >= self.count {
            return None;
        }
        let e = &self.data[16 + i * ENTRY..16 + (i + 1) * ENTRY];
        let name = &e[..NAME_LEN];
        let nlen = name.iter().position(|&b| b == 0).unwrap_or(NAME_LEN);
        let name = core::str::from_utf8(&name[..nlen]).ok()?;
        let off = u32::from_le_bytes(e[NAME_LEN..NAME_LEN + 4].try_into().ok()?) as usize;
        let size = u32::from_le_bytes(e[NAME_LEN + 4..ENTRY].try_into().ok()?) as usize;
        let data = self.data.get(off..off.checked_add(size)?)?;
        Some((name, data))
    }

    pub fn find(&self, name: &str) -> Option<&'a [u8]> {
        self.index_of(name)
            .and_then(|i| self.get(i))
            .map(|(_, d)| d)
    }

    /// Index of the file called `name`.
    pub fn index_of(&self, name: &str) -> Option<usize> {
        (0..self.count).find(|&i| self.get(i).is_some_and(|(n, _)| n == name))
    }
}

/// Build an image (used by the board's build script through `include!` and by tests).
#[cfg(not(target_os = "none"))]
pub fn build(files: &[(&str, &[u8])]) -> std::vec::Vec<u8> {
    let mut out = std::vec::Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(files.len() as u32).to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut off = (16 + files.len() * ENTRY).next_multiple_of(16);
    let mut body = std::vec::Vec::new();
    for (name, data) in files {
        let mut n = [0u8; NAME_LEN];
        n[..name.len()].copy_from_slice(name.as_bytes());
        out.extend_from_slice(&n);
        out.extend_from_slice(&(off as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        let pad = data.len().next_multiple_of(16) - data.len();
        body.extend(core::iter::repeat_n(0u8, pad));
        off += data.len() + pad;
    }
    out.resize((16 + files.len() * ENTRY).next_multiple_of(16), 0);
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let img = build(&[("hello", b"abc"), ("init", b"0123456789abcdefXYZ")]);
        let fs = RomFs::new(&img).unwrap();
        assert_eq!(fs.len(), 2);
        assert_eq!(fs.find("hello"), Some(&b"abc"[..]));
        assert_eq!(fs.find("init").unwrap().len(), 19);
        assert_eq!(fs.find("nope"), None);
        assert_eq!(fs.get(1).unwrap().0, "init");
        assert!(fs.get(2).is_none());
    }

    #[test]
    fn rejects_corrupt_tables() {
        let mut img = build(&[("a", b"xyz")]);
        assert!(RomFs::new(&img[..20]).is_none(), "table past the end");
        img[16 + NAME_LEN..16 + NAME_LEN + 4].copy_from_slice(&u32::MAX.to_le_bytes());
        let fs = RomFs::new(&img).unwrap();
        assert!(fs.get(0).is_none(), "extent past the end");
        img[0] = b'X';
        assert!(RomFs::new(&img).is_none());
    }
}
