//! A small, forgiving reader of a flattened device tree for what a board needs at boot: the
//! RAM banks (`/memory` nodes' `reg`, in the root's cell sizes: 1/1 on a Raspberry Pi, 2/2 on
//! QEMU virt), `/chosen/bootargs` and the memory-reservation block. It walks the structure
//! block token by token and skips `FDT_NOP` wherever it appears: boot loaders that edit a
//! tree (the Pi firmware; QEMU, which nops the `/memory` nodes it replaces) leave NOPs
//! between nodes and properties, where the `fdt` crate's path lookup stops or asserts.
//! Every offset and length is checked against the blob; a malformed tree ends the walk
//! with what was read so far. Tested on the host.

/// The header's magic (big-endian, as every field).
pub const FDT_MAGIC: u32 = 0xd00d_feed;

const FDT_BEGIN_NODE: u32 = 1;
const FDT_END_NODE: u32 = 2;
const FDT_PROP: u32 = 3;
const FDT_NOP: u32 = 4;
const FDT_END: u32 = 9;

fn be32(b: &[u8], off: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        b.get(off..off.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The tree's `totalsize`, from its header (the first 8 bytes suffice); `None` without
/// the magic.
pub fn total_size(header: &[u8]) -> Option<usize> {
    (be32(header, 0)? == FDT_MAGIC).then_some(be32(header, 4)? as usize)
}

/// A device tree blob.
pub struct FdtScan<'a> {
    blob: &'a [u8],
    structs: (usize, usize),
    strings: usize,
    rsvmap: usize,
}

/// One step of the walk: a node's start (its name, its depth: the root's children are at
/// 1), a property of the current node, a node's end.
enum Item<'a> {
    Begin(&'a str, usize),
    Prop(&'a str, &'a [u8]),
    End,
}

/// Cell values of `bytes` (`cells` 32-bit cells each: 1 or 2).
fn cells(bytes: &[u8], at: usize, cells: usize) -> Option<u64> {
    match cells {
        1 => be32(bytes, at).map(u64::from),
        2 => Some((be32(bytes, at)? as u64) << 32 | be32(bytes, at + 4)? as u64),
        _ => None,
    }
}

impl<'a> FdtScan<'a> {
    /// The tree in `blob` (at least `totalsize` bytes); `None` without the magic or with a
    /// header whose blocks lie outside it.
    pub fn new(blob: &'a [u8]) -> Option<FdtScan<'a>> {
        let total = total_size(blob)?;
        let blob = blob.get(..total)?;
        let off_struct = be32(blob, 8)? as usize;
        let off_strings = be32(blob, 12)? as usize;
        let rsvmap = be32(blob, 16)? as usize;
        let version = be32(blob, 20)?;
        // size_dt_struct is in the header from version 17; before, the block runs to the end.
        let size_struct = if version >= 17 {
            be32(blob, 36)? as usize
        } else {
            total.checked_sub(off_struct)?
        };
        let end_struct = off_struct.checked_add(size_struct)?;
        (end_struct <= total && off_strings <= total && rsvmap <= total).then_some(FdtScan {
            blob,
            structs: (off_struct, end_struct),
            strings: off_strings,
            rsvmap,
        })
    }

    fn string(&self, off: usize) -> Option<&'a str> {
        let s = self.blob.get(self.strings.checked_add(off)?..)?;
        let len = s.iter().position(|&c| c == 0)?;
        core::str::from_utf8(&s[..len]).ok()
    }

    /// The structure block as items; NOPs skipped, stops at FDT_END or anything malformed.
    fn items(&self) -> impl Iterator<Item = Item<'a>> + '_ {
        let (mut at, end) = self.structs;
        let mut depth = 0usize;
        let b = &self.blob[..end];
        core::iter::from_fn(move || loop {
            let tok = be32(b, at)?;
            at += 4;
            match tok {
                FDT_NOP => continue,
                FDT_BEGIN_NODE => {
                    let rest = b.get(at..)?;
                    let len = rest.iter().position(|&c| c == 0)?;
                    let name = core::str::from_utf8(&rest[..len]).ok()?;
                    at = (at + len + 1).next_multiple_of(4);
                    let d = depth;
                    depth += 1;
                    return Some(Item::Begin(name, d));
                }
                FDT_PROP => {
                    let len = be32(b, at)? as usize;
                    let name = self.string(be32(b, at + 4)? as usize)?;
                    let value = b.get(at + 8..(at + 8).checked_add(len)?)?;
                    at = (at + 8 + len).next_multiple_of(4);
                    return Some(Item::Prop(name, value));
                }
                FDT_END_NODE => {
                    depth = depth.checked_sub(1)?;
                    return Some(Item::End);
                }
                FDT_END => return None,
                _ => return None,
            }
        })
    }

    /// The properties of the root's child whose name is `name` or starts with `name@`
    /// (each such child in turn), with the root's #address-cells and #size-cells (2 and 1
    /// when the root does not say, as the specification has it).
    fn child_props(
        &self,
        name: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a [u8], usize, usize)> + '_ {
        let (mut acells, mut scells) = (2usize, 1usize);
        let mut depth = 0usize;
        let mut inside = false;
        self.items().filter_map(move |it| match it {
            Item::Begin(n, d) => {
                depth = d + 1;
                inside = d == 1
                    && (n == name || n.strip_prefix(name).is_some_and(|r| r.starts_with('@')));
                None
            }
            Item::End => {
                depth -= 1;
                inside = false;
                None
            }
            Item::Prop(p, v) if depth == 1 => {
                match p {
                    "#address-cells" => acells = be32(v, 0).map_or(acells, |c| c as usize),
                    "#size-cells" => scells = be32(v, 0).map_or(scells, |c| c as usize),
                    _ => {}
                }
                None
            }
            Item::Prop(p, v) if inside && depth == 2 => Some((p, v, acells, scells)),
            Item::Prop(..) => None,
        })
    }

    /// The RAM banks, (start, size), of every `/memory` node's `reg`.
    pub fn memory(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.child_props("memory")
            .filter(|&(p, ..)| p == "reg")
            .flat_map(|(_, v, ac, sc)| {
                let step = (ac + sc) * 4;
                let n = v.len().checked_div(step).unwrap_or(0);
                (0..n).filter_map(move |i| {
                    Some((cells(v, i * step, ac)?, cells(v, i * step + ac * 4, sc)?))
                })
            })
    }

    /// `/chosen/bootargs` (up to its NUL).
    pub fn bootargs(&self) -> Option<&'a str> {
        let (_, v, ..) = self
            .child_props("chosen")
            .find(|&(p, ..)| p == "bootargs")?;
        let len = v.iter().position(|&c| c == 0).unwrap_or(v.len());
        core::str::from_utf8(&v[..len]).ok()
    }

    /// The memory-reservation block's entries, (address, size), up to the zero entry.
    pub fn reservations(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        let mut at = self.rsvmap;
        core::iter::from_fn(move || {
            let r = (cells(self.blob, at, 2)?, cells(self.blob, at + 8, 2)?);
            at += 16;
            (r != (0, 0)).then_some(r)
        })
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// Builds a device tree blob, inserting NOPs where asked.
    struct Builder {
        structs: Vec<u8>,
        strings: Vec<u8>,
        rsv: Vec<(u64, u64)>,
    }

    impl Builder {
        fn new() -> Builder {
            Builder {
                structs: Vec::new(),
                strings: Vec::new(),
                rsv: Vec::new(),
            }
        }
        fn tok(&mut self, t: u32) -> &mut Self {
            self.structs.extend(t.to_be_bytes());
            self
        }
        fn pad(&mut self) {
            while !self.structs.len().is_multiple_of(4) {
                self.structs.push(0);
            }
        }
        fn begin(&mut self, name: &str) -> &mut Self {
            self.tok(FDT_BEGIN_NODE);
            self.structs.extend(name.as_bytes());
            self.structs.push(0);
            self.pad();
            self
        }
        fn end(&mut self) -> &mut Self {
            self.tok(FDT_END_NODE)
        }
        fn nop(&mut self) -> &mut Self {
            self.tok(FDT_NOP)
        }
        fn prop(&mut self, name: &str, v: &[u8]) -> &mut Self {
            let off = self.strings.len() as u32;
            self.strings.extend(name.as_bytes());
            self.strings.push(0);
            self.tok(FDT_PROP).tok(v.len() as u32).tok(off);
            self.structs.extend(v);
            self.pad();
            self
        }
        fn u32s(&mut self, name: &str, v: &[u32]) -> &mut Self {
            let b: Vec<u8> = v.iter().flat_map(|w| w.to_be_bytes()).collect();
            self.prop(name, &b)
        }
        fn build(&mut self) -> Vec<u8> {
            self.tok(FDT_END);
            let mut rsv: Vec<u8> = Vec::new();
            for &(a, s) in self.rsv.iter().chain([(0, 0)].iter()) {
                rsv.extend(a.to_be_bytes());
                rsv.extend(s.to_be_bytes());
            }
            let off_rsv = 40;
            let off_struct = off_rsv + rsv.len();
            let off_strings = off_struct + self.structs.len();
            let total = off_strings + self.strings.len();
            let mut b: Vec<u8> = Vec::new();
            for w in [
                FDT_MAGIC,
                total as u32,
                off_struct as u32,
                off_strings as u32,
                off_rsv as u32,
                17,
                16,
                0,
                self.strings.len() as u32,
                self.structs.len() as u32,
            ] {
                b.extend(w.to_be_bytes());
            }
            b.extend(rsv);
            b.extend(&self.structs);
            b.extend(&self.strings);
            b
        }
    }

    /// A tree shaped like the Pi firmware's: 32-bit cells, a reservation of the first page,
    /// and NOPs where properties and nodes were deleted.
    fn pi_tree() -> Vec<u8> {
        let mut t = Builder::new();
        t.rsv.push((0, 0x1000));
        t.begin("")
            .u32s("#address-cells", &[1])
            .nop()
            .u32s("#size-cells", &[1])
            .begin("soc")
            .u32s("#address-cells", &[3])
            .begin("memory@99")
            .u32s("reg", &[0x99, 0x99])
            .end()
            .end()
            .nop()
            .nop()
            .begin("chosen")
            .nop()
            .prop("bootargs", b"coherent_pool=1M 8250.nr_uarts=1 test\0")
            .end()
            .begin("memory@0")
            .prop("device_type", b"memory\0")
            .nop()
            .u32s("reg", &[0, 0x3b40_0000])
            .end()
            .nop()
            .end();
        t.build()
    }

    #[test]
    fn pi_style_tree_with_nops_and_32_bit_cells() {
        let b = pi_tree();
        assert_eq!(total_size(&b), Some(b.len()));
        let t = FdtScan::new(&b).unwrap();
        // The nested memory@99 is not a RAM bank: only the root's children count.
        assert_eq!(t.memory().collect::<Vec<_>>(), [(0, 0x3b40_0000)]);
        assert_eq!(t.bootargs(), Some("coherent_pool=1M 8250.nr_uarts=1 test"));
        assert_eq!(t.reservations().collect::<Vec<_>>(), [(0, 0x1000)]);
    }

    #[test]
    fn qemu_style_tree_with_64_bit_cells_and_several_banks() {
        let mut t = Builder::new();
        t.begin("")
            .u32s("#address-cells", &[2])
            .u32s("#size-cells", &[2])
            .begin("chosen")
            .prop("bootargs", b"semihosting test\0")
            .end()
            .nop()
            .nop()
            .nop()
            .begin("memory")
            .u32s("reg", &[0, 0, 0, 0x3c00_0000, 1, 0, 0, 0x1000_0000])
            .end()
            .begin("memoryx")
            .u32s("reg", &[0, 5, 0, 5])
            .end()
            .end();
        let b = t.build();
        let t = FdtScan::new(&b).unwrap();
        assert_eq!(
            t.memory().collect::<Vec<_>>(),
            [(0, 0x3c00_0000), (1 << 32, 0x1000_0000)]
        );
        assert_eq!(t.bootargs(), Some("semihosting test"));
        assert_eq!(t.reservations().count(), 0);
    }

    #[test]
    fn malformed_or_cut_short() {
        assert!(FdtScan::new(&[0; 64]).is_none());
        assert_eq!(total_size(&0xd00d_feedu32.to_be_bytes()), None);
        let b = pi_tree();
        // Shorter than totalsize: refused.
        assert!(FdtScan::new(&b[..b.len() - 1]).is_none());
        // A structure block cut in the middle of chosen: the walk stops, nothing panics.
        let mut cut = b.clone();
        let struct_size = u32::from_be_bytes(cut[36..40].try_into().unwrap());
        cut[36..40].copy_from_slice(&(struct_size / 2).to_be_bytes());
        let t = FdtScan::new(&cut).unwrap();
        assert_eq!(t.memory().count(), 0);
        let _ = t.bootargs();
        // An unknown token ends the walk.
        let mut t = Builder::new();
        t.begin("")
            .tok(7)
            .begin("chosen")
            .prop("bootargs", b"x\0")
            .end()
            .end();
        let b = t.build();
        assert_eq!(FdtScan::new(&b).unwrap().bootargs(), None);
        // A property longer than the block.
        let mut t = Builder::new();
        t.begin("chosen");
        t.tok(FDT_PROP).tok(0xffff_fff0).tok(0);
        let b = t.build();
        assert_eq!(FdtScan::new(&b).unwrap().bootargs(), None);
        // More END_NODEs than nodes.
        let mut t = Builder::new();
        t.end().end().begin("x");
        let b = t.build();
        assert_eq!(FdtScan::new(&b).unwrap().memory().count(), 0);
    }
}
