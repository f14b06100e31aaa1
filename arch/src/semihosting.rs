//! Arm semihosting: exit the emulator with a status (only when the board was told semihosting
//! is enabled; without QEMU's flag the call would trap as an undefined instruction).

const SYS_EXIT: u64 = 0x18;
const ADP_STOPPED_APPLICATION_EXIT: u64 = 0x20026;

pub fn exit(code: i32) {
    let block = [ADP_STOPPED_APPLICATION_EXIT, code as u64];
    // SAFETY: the semihosting trap reads the two-word block and ends the emulator.
    unsafe {
        core::arch::asm!("hlt #0xf000", inout("x0") SYS_EXIT => _, in("x1") block.as_ptr(), options(nostack));
    }
}

/// Write bytes to the host's stdout (SYS_WRITE to handle 1); used by defmt tracing.
pub fn write(bytes: &[u8]) {
    let block = [1u64, bytes.as_ptr() as u64, bytes.len() as u64];
    // SAFETY: SYS_WRITE reads the block and the buffer; nothing else is touched.
    unsafe {
        core::arch::asm!("hlt #0xf000", inout("x0") 0x05u64 => _, in("x1") block.as_ptr(), options(nostack));
    }
}
