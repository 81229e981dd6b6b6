//! A one-slot mailbox between two threads that wait by spinning, then yielding.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A one-slot mailbox. The two threads take turns, so a value is always received before the
/// next is sent. A receiver spins for up to 200 µs — longer than the other thread's turn
/// usually lasts, so that it keeps its core on a busy machine — then yields between checks; on
/// a one-core machine it yields at once, since the other thread can only run when it gives way.
pub(super) struct Mailbox<T> {
    full: AtomicBool,
    slot: Mutex<Option<T>>,
    spin: Duration,
}

impl<T> Mailbox<T> {
    pub(super) fn new() -> Self {
        let cores = super::cores();
        Mailbox {
            full: AtomicBool::new(false),
            slot: Mutex::new(None),
            spin: Duration::from_micros(if cores > 1 { 200 } else { 0 }),
        }
    }

    pub(super) fn send(&self, value: T) {
        *self.slot.lock().expect("no panic while holding the slot") = Some(value);
        self.full.store(true, Ordering::Release);
    }

    pub(super) fn receive(&self) -> T {
        let start = Instant::now();
        let mut spins = 0u32;
        while !(self.full.load(Ordering::Acquire) && self.full.swap(false, Ordering::Acquire)) {
            spins = spins.wrapping_add(1);
            if !spins.is_multiple_of(64) || start.elapsed() < self.spin {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let value = self
            .slot
            .lock()
            .expect("no panic while holding the slot")
            .take();
        value.expect("a full mailbox holds a value")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Values cross between two threads in order, each received once.
    #[test]
    fn mailboxes_hand_values_across_threads_in_turn() {
        let (requests, replies) = (Mailbox::new(), Mailbox::new());
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while let Some(k) = requests.receive() {
                    replies.send(2 * k + 1);
                }
            });
            for k in 0..10_000u64 {
                requests.send(Some(k));
                assert_eq!(replies.receive(), 2 * k + 1);
            }
            requests.send(None);
        });
    }
}
