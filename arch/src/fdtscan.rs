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

    /// The first byte of the string at `off` in the strings block.
    fn first_byte(&self, off: usize) -> Option<u8> {
        self.blob.get(self.strings.checked_add(off)?).copied()
    }

    /// Whether the string at `off` in the strings block is `want` (NUL-terminated there).
    /// Byte by byte: names are short and most differ at the first byte.
    fn string_is(&self, off: usize, want: &[u8]) -> bool {
        let Some(s) = self
            .strings
            .checked_add(off)
            .and_then(|at| self.blob.get(at..))
        else {
            return false;
        };
        for (i, &w) in want.iter().enumerate() {
            if s.get(i) != Some(&w) {
                return false;
            }
        }
        s.get(want.len()) == Some(&0)
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

    /// Walk the whole tree once, calling `visit` for every node in document order with its
    /// properties (which come before its children) and its parent's cell sizes. One pass
    /// instead of one per question: on QEMU virt's tree (about 80 nodes) each lookup by
    /// path or `compatible` used to walk it all again. Names are compared as bytes, nothing
    /// is validated as UTF-8 unless asked for. Stops at anything malformed.
    pub fn walk(&self, mut visit: impl FnMut(&Node<'_, 'a>)) {
        /// Depths whose cell sizes are tracked; deeper nodes get the specification's default.
        const DEPTHS: usize = 16;
        let (mut at, end) = self.structs;
        let b = &self.blob[..end];
        // cells[d]: #address-cells and #size-cells for nodes at depth d (set by depth d-1).
        let mut cells = [(2u32, 1u32); DEPTHS + 1];
        let mut depth = 0usize;
        // The node whose properties are being read.
        let mut open: Option<Node<'_, 'a>> = None;
        let mut report =
            |open: &mut Option<Node<'_, 'a>>, upto: usize, cells: &mut [(u32, u32); DEPTHS + 1]| {
                if let Some(mut node) = open.take() {
                    node.props.1 = upto;
                    let d = node.depth;
                    (node.acells, node.scells) = (
                        cells[d.min(DEPTHS)].0 as usize,
                        cells[d.min(DEPTHS)].1 as usize,
                    );
                    if d < DEPTHS {
                        cells[d + 1] = node.own_cells;
                    }
                    visit(&node);
                }
            };
        while let Some(tok) = be32(b, at) {
            let here = at;
            at += 4;
            match tok {
                FDT_NOP => {}
                FDT_BEGIN_NODE => {
                    report(&mut open, here, &mut cells);
                    let Some(rest) = b.get(at..) else { break };
                    let Some(len) = rest.iter().position(|&c| c == 0) else {
                        break;
                    };
                    at = (at + len + 1).next_multiple_of(4);
                    open = Some(Node {
                        scan: self,
                        name: &rest[..len],
                        depth,
                        acells: 2,
                        scells: 1,
                        props: (at, at),
                        own_cells: (2, 1),
                        compatible: None,
                    });
                    depth += 1;
                }
                FDT_PROP => {
                    let (Some(len), Some(noff)) = (be32(b, at), be32(b, at + 4)) else {
                        break;
                    };
                    let Some(value) = b.get(at + 8..at + 8 + len as usize) else {
                        break;
                    };
                    at = (at + 8 + len as usize).next_multiple_of(4);
                    // The three properties every node is asked about, picked up on the way.
                    if let Some(n) = open.as_mut() {
                        let noff = noff as usize;
                        match self.first_byte(noff) {
                            Some(b'c') if self.string_is(noff, b"compatible") => {
                                n.compatible = Some(value)
                            }
                            Some(b'#') => {
                                if self.string_is(noff, b"#address-cells") {
                                    n.own_cells.0 = be32(value, 0).unwrap_or(2);
                                } else if self.string_is(noff, b"#size-cells") {
                                    n.own_cells.1 = be32(value, 0).unwrap_or(1);
                                }
                            }
                            _ => {}
                        }
                    }
                }
                FDT_END_NODE => {
                    report(&mut open, here, &mut cells);
                    let Some(d) = depth.checked_sub(1) else { break };
                    depth = d;
                }
                _ => break,
            }
        }
        // A tree cut short: the node being read still counts with what it had.
        report(&mut open, at.min(b.len()), &mut cells);
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

/// A node of [`FdtScan::walk`].
pub struct Node<'s, 'a> {
    scan: &'s FdtScan<'a>,
    /// The name with its unit address (`pl011@9000000`); empty for the root.
    pub name: &'a [u8],
    /// 0 for the root, 1 for its children, ...
    pub depth: usize,
    /// The parent's #address-cells and #size-cells: how this node's `reg` is read.
    pub acells: usize,
    pub scells: usize,
    /// Its properties: structure-block offsets, up to its first child or its end.
    props: (usize, usize),
    /// Its own #address-cells and #size-cells (for its children).
    own_cells: (u32, u32),
    /// Its `compatible` list, read during the walk.
    compatible: Option<&'a [u8]>,
}

impl<'a> Node<'_, 'a> {
    /// The value of property `name`.
    pub fn prop(&self, name: &str) -> Option<&'a [u8]> {
        let b = &self.scan.blob[..self.props.1];
        let mut at = self.props.0;
        loop {
            match be32(b, at)? {
                FDT_NOP => at += 4,
                FDT_PROP => {
                    let len = be32(b, at + 4)? as usize;
                    let noff = be32(b, at + 8)? as usize;
                    let value = b.get(at + 12..(at + 12).checked_add(len)?)?;
                    if self.scan.string_is(noff, name.as_bytes()) {
                        return Some(value);
                    }
                    at = (at + 12 + len).next_multiple_of(4);
                }
                _ => return None,
            }
        }
    }

    /// Whether the name is `base` or `base@unit`.
    pub fn is(&self, base: &str) -> bool {
        let n = self.name;
        n.strip_prefix(base.as_bytes())
            .is_some_and(|r| r.is_empty() || r[0] == b'@')
    }

    /// Whether the node has a `compatible` property.
    pub fn has_compatible(&self) -> bool {
        self.compatible.is_some()
    }

    /// Whether one of the `compatible` strings is one of `any`.
    pub fn compatible(&self, any: &[&str]) -> bool {
        self.compatible_index(any).is_some()
    }

    /// The index in `wanted` of the node's first `compatible` string that is there: one
    /// pass over the node's list for all of a board's drivers.
    pub fn compatible_index(&self, wanted: &[&str]) -> Option<usize> {
        self.compatible?
            .split(|&c| c == 0)
            .filter(|c| !c.is_empty())
            .find_map(|c| wanted.iter().position(|w| w.as_bytes() == c))
    }

    /// Entry `i` of `reg`, (address, size), in the parent's cell sizes (a size of 0 cells
    /// reads as 0).
    pub fn reg(&self, i: usize) -> Option<(u64, u64)> {
        let v = self.prop("reg")?;
        let step = (self.acells + self.scells) * 4;
        let at = i.checked_mul(step)?;
        if at.checked_add(step)? > v.len() {
            return None;
        }
        let size = if self.scells == 0 {
            0
        } else {
            cells(v, at + self.acells * 4, self.scells)?
        };
        Some((cells(v, at, self.acells)?, size))
    }

    /// Cell `i` of property `name` (big-endian 32-bit).
    pub fn cell(&self, name: &str, i: usize) -> Option<u32> {
        be32(self.prop(name)?, i.checked_mul(4)?)
    }

    /// A string property up to its NUL, if it is UTF-8.
    pub fn str(&self, name: &str) -> Option<&'a str> {
        let v = self.prop(name)?;
        let len = v.iter().position(|&c| c == 0).unwrap_or(v.len());
        core::str::from_utf8(&v[..len]).ok()
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

    /// What a walk saw of a node: (name, depth, compatible with "arm,pl011", reg 0,
    /// interrupts cell 1).
    type Seen = (
        std::string::String,
        usize,
        bool,
        Option<(u64, u64)>,
        Option<u32>,
    );

    fn walked(b: &[u8]) -> Vec<Seen> {
        let mut seen = Vec::new();
        FdtScan::new(b).unwrap().walk(|n| {
            seen.push((
                std::string::String::from_utf8(n.name.to_vec()).unwrap(),
                n.depth,
                n.compatible(&["x,other", "arm,pl011"]),
                n.reg(0),
                n.cell("interrupts", 1),
            ))
        });
        seen
    }

    #[test]
    fn walk_reports_every_node_once_with_its_parents_cells() {
        let mut t = Builder::new();
        t.begin("")
            .u32s("#address-cells", &[2])
            .nop()
            .u32s("#size-cells", &[2])
            .begin("pl011@9000000")
            .prop("compatible", b"arm,pl011\0arm,primecell\0")
            .nop()
            .u32s("reg", &[0, 0x0900_0000, 0, 0x1000])
            .u32s("interrupts", &[0, 1, 4])
            .end()
            .nop()
            .begin("soc")
            .u32s("#address-cells", &[1])
            .u32s("#size-cells", &[1])
            .begin("uart@20")
            .prop("compatible", b"arm,primecell\0")
            .u32s("reg", &[0x20, 0x10])
            .end()
            .begin("cpus")
            .u32s("#size-cells", &[0])
            .begin("cpu@0")
            .u32s("reg", &[7])
            .end()
            .end()
            .end()
            .begin("chosen")
            .prop("bootargs", b"a b\0")
            .end()
            .end();
        let b = t.build();
        let seen = walked(&b);
        let names: Vec<_> = seen.iter().map(|s| (s.0.as_str(), s.1)).collect();
        assert_eq!(
            names,
            [
                ("", 0),
                ("pl011@9000000", 1),
                ("soc", 1),
                ("uart@20", 2),
                ("cpus", 2),
                ("cpu@0", 3),
                ("chosen", 1)
            ]
        );
        assert!(seen[1].2);
        assert_eq!(seen[1].3, Some((0x0900_0000, 0x1000)));
        assert_eq!(seen[1].4, Some(1));
        // Inside soc: 1/1 cells; not compatible (primecell only).
        assert!(!seen[3].2);
        assert_eq!(seen[3].3, Some((0x20, 0x10)));
        // cpus says #size-cells 0 and keeps the default #address-cells of 2: reg [7] is short.
        assert_eq!(seen[5].3, None);
        let t = FdtScan::new(&b).unwrap();
        let mut args = None;
        let mut psci = false;
        t.walk(|n| {
            if n.depth == 1 && n.is("chosen") {
                args = n.str("bootargs");
            }
            psci |= n.is("psci") || n.is("pl011");
        });
        assert_eq!(args, Some("a b"));
        assert!(psci, "pl011@9000000 is a pl011");
        let mut idx = Vec::new();
        t.walk(|n| idx.push(n.compatible_index(&["x", "arm,primecell", "arm,pl011"])));
        // The node's own order decides: pl011's list names arm,pl011 first.
        assert_eq!(idx, [None, Some(2), None, Some(1), None, None, None]);
    }

    #[test]
    fn walk_of_malformed_trees_stops_without_panicking() {
        // Cut in the middle: the nodes read so far are reported.
        let b = pi_tree();
        let mut cut = b.clone();
        let struct_size = u32::from_be_bytes(cut[36..40].try_into().unwrap());
        cut[36..40].copy_from_slice(&(struct_size / 2).to_be_bytes());
        let n = walked(&cut).len();
        assert!(n >= 1 && n < walked(&b).len());
        // A property longer than the block, a property name outside the strings block,
        // more ENDs than BEGINs, an unknown token.
        let mut t = Builder::new();
        t.begin("chosen");
        t.tok(FDT_PROP).tok(0xffff_fff0).tok(0);
        assert_eq!(walked(&t.build()).len(), 1);
        let mut t = Builder::new();
        t.begin("x").tok(FDT_PROP).tok(4).tok(0xffff).tok(1).end();
        let b = t.build();
        FdtScan::new(&b)
            .unwrap()
            .walk(|n| assert_eq!(n.prop("reg"), None));
        let mut t = Builder::new();
        t.end().end().begin("x");
        assert_eq!(walked(&t.build()).len(), 0);
        let mut t = Builder::new();
        t.begin("").tok(7).begin("chosen").end().end();
        assert_eq!(walked(&t.build()).len(), 1);
        // A reg shorter than one entry, and a huge index.
        let mut t = Builder::new();
        t.begin("").begin("m").u32s("reg", &[1, 2]).end().end();
        let b = t.build();
        FdtScan::new(&b).unwrap().walk(|n| {
            assert_eq!(n.reg(0), None);
            assert_eq!(n.reg(usize::MAX), None);
        });
    }

    #[test]
    fn walk_agrees_with_the_path_lookups() {
        let b = pi_tree();
        let t = FdtScan::new(&b).unwrap();
        let mut ram = Vec::new();
        let mut args = None;
        t.walk(|n| {
            if n.depth == 1 && n.is("memory") {
                ram.push(n.reg(0).unwrap());
            }
            if n.depth == 1 && n.is("chosen") {
                args = n.str("bootargs");
            }
        });
        assert_eq!(ram, t.memory().collect::<Vec<_>>());
        assert_eq!(args, t.bootargs());
    }
}
