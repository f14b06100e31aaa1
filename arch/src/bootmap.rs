//! The memory map the boot assembly turns the MMU on with, supplied by the board: the board
//! defines one `BootMap` named `BOARD_BOOT_MAP` (with `#[no_mangle]`) and `asm/boot.S` builds
//! the boot translation table from it. The architecture knows the descriptor format; the
//! board knows where RAM and devices are.
//!
//! The boot table covers physical 0..4 GiB, mapped twice by the same L1 table: at the
//! physical address (TTBR0, for the jump to the upper half) and at `KOFF + pa` (TTBR1, where
//! the kernel runs until it builds its own map). Each GiB is a 1 GiB block, unmapped, or, for
//! a board whose devices share a GiB with RAM, the board's one L2 table of 2 MiB blocks.

use crate::ttbl::desc::{AF, ATTR_NORMAL, PXN, SH_INNER, TABLE, UXN, VALID};

/// Physical GiBs the boot table covers.
pub const BOOT_GIBS: usize = 4;

/// MAIR index of Device-nGnRE (boot.S sets MAIR_EL1: 0 nGnRnE, 1 normal write-back,
/// 2 nGnRE).
const ATTR_DEVICE_NGNRE: u64 = 2 << 2;

/// A block of device memory (nGnRE, never executable) at `pa`: a 1 GiB block in `l1`, a
/// 2 MiB block in an L2 table (the two levels share the block format).
pub const fn device_block(pa: usize) -> u64 {
    pa as u64 | VALID | AF | ATTR_DEVICE_NGNRE | UXN | PXN
}

/// A block of normal memory (write-back, inner shareable, read-write and executable at EL1:
/// the kernel image runs from it until its own W^X map replaces the boot table).
pub const fn normal_block(pa: usize) -> u64 {
    pa as u64 | VALID | AF | ATTR_NORMAL | SH_INNER
}

/// The `l1` entry that stands for the board's L2 table: boot.S fills in its physical
/// address.
pub const L2_TABLE: u64 = VALID | TABLE;

/// One L2 table (512 entries of 2 MiB), page aligned as the MMU needs.
#[repr(C, align(4096))]
pub struct BootL2(pub [u64; 512]);

/// What boot.S reads from the board (the offsets are fixed: see the asserts below).
#[repr(C)]
pub struct BootMap {
    /// Entries for physical GiB 0..4: `device_block`, `normal_block`, `L2_TABLE` or 0.
    pub l1: [u64; BOOT_GIBS],
    /// Physical address of a PL011-compatible data register: the early exception handler
    /// (before the kernel's vectors, or at EL2 before the drop to EL1) writes `!E` there.
    /// 0: no marker.
    pub early_uart: usize,
    /// The table the `L2_TABLE` entry points at.
    pub l2: Option<&'static BootL2>,
}

// The layout asm/boot.S reads: l1 at 0, early_uart at 32, l2 at 40 (a null pointer for None).
const _: () = {
    assert!(core::mem::offset_of!(BootMap, l1) == 0);
    assert!(core::mem::offset_of!(BootMap, early_uart) == 8 * BOOT_GIBS);
    assert!(core::mem::offset_of!(BootMap, l2) == 8 * BOOT_GIBS + 8);
    assert!(core::mem::size_of::<Option<&'static BootL2>>() == 8);
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ttbl::DEVICE_ATTRS;

    #[test]
    fn descriptors_match_what_the_boot_table_always_held() {
        // The encodings boot.S used when it built the table itself.
        assert_eq!(device_block(0), 0x0060_0000_0000_0409);
        assert_eq!(normal_block(1 << 30), (1 << 30) | 0x705);
        assert_eq!(normal_block(2 << 30), (2 << 30) | 0x705);
        // The same device attributes as the kernel's own map.
        assert_eq!(device_block(63 << 21), (63 << 21) | DEVICE_ATTRS);
    }

    #[test]
    fn blocks_are_blocks_and_the_marker_is_a_table() {
        for d in [device_block(1 << 30), normal_block(0)] {
            assert_eq!(d & 3, 1);
        }
        assert_eq!(L2_TABLE & 3, 3);
        assert_eq!(L2_TABLE & crate::ttbl::desc::ADDR, 0);
    }
}
