//! defmt transport glue for `--features trace`: a critical section that masks IRQs, and the
//! frame timestamp (microseconds since boot). Frames travel over semihosting.

use aarch64_cpu::registers::DAIF;
use tock_registers::interfaces::{Readable, Writeable};

struct IrqMask;
critical_section::set_impl!(IrqMask);

// SAFETY: one CPU; masking IRQ and FIQ at EL1 excludes every other context that could log.
unsafe impl critical_section::Impl for IrqMask {
    unsafe fn acquire() -> critical_section::RawRestoreState {
        let old = DAIF.get();
        DAIF.write(DAIF::I::Masked + DAIF::F::Masked);
        old
    }

    unsafe fn release(old: critical_section::RawRestoreState) {
        DAIF.set(old);
    }
}

defmt::timestamp!("{=u64:us}", arch::timer::now_ns() / 1000);
