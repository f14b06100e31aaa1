//! What the shmchan test files share: a fresh area whose name goes away with its guard.

use shmchan::Area;

/// A fresh area `name` of `size` bytes, attached; its name is removed when the guard goes.
pub fn fresh(name: &'static str, size: usize) -> (Gone, Area) {
    let _ = Area::remove(name);
    Area::create(name, size).unwrap();
    (Gone(name), Area::attach(name).unwrap())
}

pub struct Gone(pub &'static str);

impl Drop for Gone {
    fn drop(&mut self) {
        let _ = Area::remove(self.0);
    }
}
