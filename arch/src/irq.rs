//! The interrupt-controller interface: what the exception code asks of whatever controller
//! the board has (a GICv2/v3, or the BCM2836 per-core controller with the BCM2835 one behind
//! it), and the loop that hands interrupts to their handlers. Interrupt numbers are the
//! controller's own (GIC INTIDs, or the BCM pair's numbering); the board says which number is
//! the timer's and which the console's.

/// An interrupt controller as seen from one CPU.
pub trait IrqChip: Sync {
    /// Set up the calling CPU's side of the controller (GIC CPU interface or redistributor;
    /// nothing per CPU on the BCM pair but routing). The board calls it after placing the
    /// controller, with every interrupt still masked.
    fn init_cpu(&self);
    /// Claim the next pending interrupt for this CPU; `None` when nothing is pending (a
    /// spurious entry, or an interrupt that went away).
    fn ack(&self) -> Option<u32>;
    /// End the handling of `id`, which `ack` returned (a no-op for controllers without an
    /// end-of-interrupt step: their sources are levels cleared at the device).
    fn eoi(&self, id: u32);
    /// Unmask `id` and route it to this CPU.
    fn enable(&self, id: u32);
    /// Mask `id`: `ack` must not return it again until it is enabled, whatever the device
    /// does. An interrupt nobody handles is masked this way, so it is reported once.
    fn disable(&self, id: u32);
}

/// What `dispatch` does with the interrupts the controller hands over.
pub trait IrqHandler {
    /// Handle `id`; false when nothing here knows it.
    fn handle(&mut self, id: u32) -> bool;
    /// Report an interrupt nothing handles. It is masked right after, so this is called
    /// once per such interrupt, never in a storm.
    fn unhandled(&mut self, id: u32);
}

/// Take at most `max` interrupts from `chip` and hand each to `h`. One that `h` does not
/// handle is reported and masked at the controller, whichever controller it is, so an
/// interrupt the board does not know can neither storm nor hang the system.
pub fn dispatch(chip: &dyn IrqChip, max: usize, h: &mut impl IrqHandler) {
    for _ in 0..max {
        let Some(id) = chip.ack() else {
            return;
        };
        if !h.handle(id) {
            h.unhandled(id);
            chip.disable(id);
        }
        chip.eoi(id);
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use core::cell::RefCell;
    use std::vec::Vec;

    /// Level-triggered sources: pending until the device is serviced, delivered while
    /// enabled, lowest number first.
    #[derive(Default)]
    struct FakeChip {
        pending: RefCell<u64>,
        enabled: RefCell<u64>,
        active: RefCell<Option<u32>>,
        eois: RefCell<Vec<u32>>,
    }

    // SAFETY: each test uses its fake from its own thread only; nothing shares it.
    unsafe impl Sync for FakeChip {}

    impl IrqChip for FakeChip {
        fn init_cpu(&self) {}
        fn ack(&self) -> Option<u32> {
            assert!(self.active.borrow().is_none(), "ack before eoi");
            let p = *self.pending.borrow() & *self.enabled.borrow();
            let id = (p != 0).then(|| p.trailing_zeros())?;
            *self.active.borrow_mut() = Some(id);
            Some(id)
        }
        fn eoi(&self, id: u32) {
            assert_eq!(self.active.borrow_mut().take(), Some(id));
            self.eois.borrow_mut().push(id);
        }
        fn enable(&self, id: u32) {
            *self.enabled.borrow_mut() |= 1 << id;
        }
        fn disable(&self, id: u32) {
            *self.enabled.borrow_mut() &= !(1 << id);
        }
    }

    /// Knows the timer (27: serviced, so it stops) and a device that stays raised (33).
    #[derive(Default)]
    struct Handler<'a> {
        chip: Option<&'a FakeChip>,
        handled: Vec<u32>,
        reported: Vec<u32>,
    }

    impl IrqHandler for Handler<'_> {
        fn handle(&mut self, id: u32) -> bool {
            match id {
                27 => {
                    *self.chip.unwrap().pending.borrow_mut() &= !(1 << 27);
                    self.handled.push(id);
                    true
                }
                33 => {
                    self.handled.push(id);
                    true
                }
                _ => false,
            }
        }
        fn unhandled(&mut self, id: u32) {
            self.reported.push(id);
        }
    }

    #[test]
    fn an_unknown_interrupt_is_reported_once_and_masked() {
        let chip = FakeChip::default();
        for id in [27, 40] {
            chip.enable(id);
        }
        *chip.pending.borrow_mut() = (1 << 27) | (1 << 40);
        let mut h = Handler {
            chip: Some(&chip),
            ..Default::default()
        };
        // Many kernel entries: the unknown level interrupt never stops being raised.
        for _ in 0..100 {
            dispatch(&chip, 4, &mut h);
        }
        assert_eq!(h.reported, [40]);
        assert_eq!(h.handled, [27]);
        assert_eq!(*chip.enabled.borrow() & (1 << 40), 0);
        assert_eq!(*chip.eois.borrow(), [27, 40]);
        assert_eq!(chip.ack(), None);
    }

    #[test]
    fn one_entry_takes_at_most_max_interrupts() {
        let chip = FakeChip::default();
        chip.enable(33);
        *chip.pending.borrow_mut() = 1 << 33;
        let mut h = Handler {
            chip: Some(&chip),
            ..Default::default()
        };
        dispatch(&chip, 4, &mut h);
        assert_eq!(h.handled, [33; 4]);
        assert!(h.reported.is_empty());
        assert_eq!(chip.eois.borrow().len(), 4);
    }

    #[test]
    fn nothing_pending_is_nothing_done() {
        let chip = FakeChip::default();
        let mut h = Handler::default();
        dispatch(&chip, 4, &mut h);
        assert!(h.handled.is_empty() && h.reported.is_empty() && chip.eois.borrow().is_empty());
    }
}
