//! # Parallel work, below the algorithms
//!
//! Algorithms are written single-threaded, as their pseudocode reads. Where two pieces of an
//! update are independent — the gradient of the policy's terms and of the value function's,
//! which touch disjoint parameters — an algorithm asks for both in one line,
//!
//! ```text
//! let (g_θ, g_φ) = cores.join(|| ∇θ policy terms, || ∇φ value terms);
//! ```
//!
//! and [`Cores::join`] runs them on two cores when the machine has them, or one after the
//! other when it does not. Each closure computes exactly what it would alone (nothing is
//! shared between them but read-only parameters), so the results are bit for bit those of
//! the sequential path; the tests check this.
//!
//! [`actor_learner`] runs IMPALA's actors on threads of their own, feeding a learner through a
//! bounded queue, or in a fixed schedule that is reproducible bit for bit.
//!
//! ## Why not a thread pool
//! An update hands work across about every 250 µs. Waking a sleeping worker (a futex wake,
//! then the scheduler) costs tens of microseconds on a virtual machine, which is what rayon's
//! idle workers do between steps. [`Cores`] keeps one helper thread for as long as it lives;
//! the helper spins on a flag for up to 200 µs before yielding between checks, so that it keeps
//! its core through an update, and yields at once on a one-core machine.

pub mod actor_learner;
mod mailbox;

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::thread::JoinHandle;

use mailbox::Mailbox;

/// A job handed to the helper thread: a closure with its lifetime erased (see [`Cores::join`]).
struct Job(*mut (dyn FnMut() + Send));

// SAFETY: the closure behind the pointer is `Send`, and `join` keeps it alive and untouched
// by its own thread until the helper has finished with it.
unsafe impl Send for Job {}

/// Two cores for independent work: this thread and one helper (see the [module doc](self)).
pub struct Cores {
    helper: Option<Helper>,
}

struct Helper {
    jobs: std::sync::Arc<Mailbox<Option<Job>>>,
    done: std::sync::Arc<Mailbox<()>>,
    thread: Option<JoinHandle<()>>,
}

/// The machine's cores (1 when it cannot tell): the one place the core count is read.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

impl Cores {
    /// Two cores when the machine has at least two, else this thread alone.
    pub fn new() -> Self {
        Cores::with_helper(cores() > 1)
    }

    /// This thread alone: `join` runs its closures one after the other.
    pub fn sequential() -> Self {
        Cores::with_helper(false)
    }

    fn with_helper(helper: bool) -> Self {
        if !helper {
            return Cores { helper: None };
        }
        let jobs = std::sync::Arc::new(Mailbox::<Option<Job>>::new());
        let done = std::sync::Arc::new(Mailbox::<()>::new());
        let thread = {
            let (jobs, done) = (jobs.clone(), done.clone());
            std::thread::Builder::new()
                .name("wengert-exec".into())
                .spawn(move || {
                    while let Some(Job(job)) = jobs.receive() {
                        // SAFETY: `join` sent a pointer to a closure that outlives this call
                        // and that no other thread touches until `done` is received.
                        unsafe { (*job)() };
                        done.send(());
                    }
                })
                .expect("the executor's helper thread starts")
        };
        Cores {
            helper: Some(Helper {
                jobs,
                done,
                thread: Some(thread),
            }),
        }
    }

    /// Whether `join` runs on two cores.
    pub fn is_parallel(&self) -> bool {
        self.helper.is_some()
    }

    /// `(a(), b())`, with `b` on the helper core while `a` runs here (or `b` then `a` here,
    /// without a helper). A panic in either is resumed here once both have finished.
    pub fn join<A, B, RA, RB>(&self, a: A, b: B) -> (RA, RB)
    where
        A: FnOnce() -> RA,
        B: FnOnce() -> RB + Send,
        RB: Send,
    {
        let Some(helper) = &self.helper else {
            let rb = b();
            return (a(), rb);
        };
        let mut b = Some(b);
        let mut rb = None;
        let mut run_b = || {
            let b = b.take().expect("the job runs once");
            rb = Some(catch_unwind(AssertUnwindSafe(b)));
        };
        let job: *mut (dyn FnMut() + Send + '_) = &mut run_b;
        // SAFETY: erasing the lifetime is sound because this function does not return (nor
        // unwind: `a` runs under `catch_unwind`) before the helper reports the job done, after
        // which the helper holds no reference to `run_b` or to what it borrows.
        let job: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(job) };
        helper.jobs.send(Some(Job(job)));
        let ra = catch_unwind(AssertUnwindSafe(a));
        helper.done.receive();
        let rb = rb.expect("the helper ran the job");
        match (ra, rb) {
            (Ok(ra), Ok(rb)) => (ra, rb),
            (Err(panic), _) | (_, Err(panic)) => resume_unwind(panic),
        }
    }
}

impl Default for Cores {
    fn default() -> Self {
        Cores::new()
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.jobs.send(None);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both paths give the same values, and the borrowed inputs come back untouched.
    #[test]
    fn join_gives_the_sequential_results() {
        let data: Vec<f64> = (0..1000).map(|k| (k as f64).sin()).collect();
        let sum = |xs: &[f64]| xs.iter().sum::<f64>();
        for cores in [Cores::with_helper(true), Cores::sequential()] {
            for _ in 0..2000 {
                let (a, b) = cores.join(|| sum(&data[..500]), || sum(&data[500..]));
                assert_eq!(a.to_bits(), sum(&data[..500]).to_bits());
                assert_eq!(b.to_bits(), sum(&data[500..]).to_bits());
            }
        }
    }

    /// The second closure really runs on another thread when there is a helper.
    #[test]
    fn the_second_closure_runs_on_the_helper() {
        let cores = Cores::with_helper(true);
        let here = std::thread::current().id();
        let (a, b) = cores.join(
            || std::thread::current().id(),
            || std::thread::current().id(),
        );
        assert_eq!(a, here);
        assert_ne!(b, here);
    }

    /// A panic on either side reaches the caller, and the executor still works afterwards.
    #[test]
    fn a_panic_on_either_side_is_resumed_here() {
        let cores = Cores::with_helper(true);
        let helper_side = catch_unwind(AssertUnwindSafe(|| {
            cores.join(|| 1, || -> i32 { panic!("in b") })
        }));
        assert!(helper_side.is_err());
        let this_side = catch_unwind(AssertUnwindSafe(|| {
            cores.join(|| -> i32 { panic!("in a") }, || 2)
        }));
        assert!(this_side.is_err());
        assert_eq!(cores.join(|| 3, || 4), (3, 4));
    }
}
