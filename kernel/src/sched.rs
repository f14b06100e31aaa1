//! Ready queue: strict priority (higher first), FIFO within a priority so that a task whose
//! time slice ends goes behind its peers (round-robin).

pub mod fp;
pub mod futex;
pub mod wait;

use heapless::Vec;

use crate::task::MAX_TASKS;

#[derive(Clone, Copy, Debug)]
struct Entry {
    prio: u8,
    seq: u64,
    slot: u8,
}

#[derive(Default)]
pub struct Sched {
    ready: Vec<Entry, MAX_TASKS>,
    seq: u64,
}

impl Sched {
    pub const fn new() -> Sched {
        Sched {
            ready: Vec::new(),
            seq: 0,
        }
    }

    /// Queue `slot` behind every ready task of the same priority.
    pub fn enqueue(&mut self, slot: usize, prio: u8) {
        debug_assert!(!self.contains(slot));
        self.seq += 1;
        // Capacity equals the task table size and a slot is queued at most once.
        let _ = self.ready.push(Entry {
            prio,
            seq: self.seq,
            slot: slot as u8,
        });
    }

    /// Queue `slot` ahead of its peers (a task preempted by a higher priority keeps its turn).
    pub fn enqueue_front(&mut self, slot: usize, prio: u8) {
        let seq = self
            .ready
            .iter()
            .map(|e| e.seq)
            .min()
            .unwrap_or(self.seq + 1)
            - 1;
        let _ = self.ready.push(Entry {
            prio,
            seq,
            slot: slot as u8,
        });
    }

    pub fn remove(&mut self, slot: usize) {
        self.ready.retain(|e| e.slot as usize != slot);
    }

    pub fn contains(&self, slot: usize) -> bool {
        self.ready.iter().any(|e| e.slot as usize == slot)
    }

    fn best(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, e) in self.ready.iter().enumerate() {
            match best {
                Some(b) => {
                    let cur = &self.ready[b];
                    if e.prio > cur.prio || (e.prio == cur.prio && e.seq < cur.seq) {
                        best = Some(i);
                    }
                }
                None => best = Some(i),
            }
        }
        best
    }

    /// Highest priority waiting to run (the best entry's: no order within it needed).
    #[inline(always)]
    pub fn top_prio(&self) -> Option<u8> {
        self.ready.iter().map(|e| e.prio).max()
    }

    /// Take the next task to run.
    pub fn pick(&mut self) -> Option<usize> {
        let i = self.best()?;
        Some(self.ready.swap_remove(i).slot as usize)
    }

    pub fn len(&self) -> usize {
        self.ready.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_priority_first_then_fifo() {
        let mut s = Sched::new();
        s.enqueue(1, 10);
        s.enqueue(2, 20);
        s.enqueue(3, 10);
        s.enqueue(4, 20);
        assert_eq!(s.pick(), Some(2));
        assert_eq!(s.pick(), Some(4));
        assert_eq!(s.pick(), Some(1));
        assert_eq!(s.pick(), Some(3));
        assert_eq!(s.pick(), None);
    }

    #[test]
    fn round_robin_requeue_goes_last() {
        let mut s = Sched::new();
        s.enqueue(1, 5);
        s.enqueue(2, 5);
        let a = s.pick().unwrap();
        s.enqueue(a, 5); // slice expired
        assert_eq!(s.pick(), Some(2));
        assert_eq!(s.pick(), Some(1));
    }

    #[test]
    fn front_and_remove() {
        let mut s = Sched::new();
        s.enqueue(1, 5);
        s.enqueue(2, 5);
        s.enqueue_front(3, 5);
        assert_eq!(s.top_prio(), Some(5));
        s.remove(1);
        assert_eq!(s.pick(), Some(3));
        assert_eq!(s.pick(), Some(2));
        assert!(s.is_empty());
    }
}
