//! # Actors and a learner (IMPALA's architecture), generic over what they exchange
//!
//! `N` [`Actor`]s each hold a copy of the learner's parameters `θ_v`, tagged with the version
//! `v` (the number of updates behind it), and turn it into fixed-length trajectories. The
//! learner takes batches of trajectories, updates `θ`, and [publishes](ActorLearner::publish)
//! the new version; every trajectory arrives as a [`Delivery`] tagged with the version that
//! generated it, so the learner can measure its **policy lag** `v_learner − v_trajectory`.
//!
//! Two [`Schedule`]s run the same protocol:
//!
//! * **Deterministic** (for tests and for resume). Trajectory `k` of the run comes from actor
//!   `k mod N`, generated with the version published last. Within one batch each actor's turns
//!   are independent of every other actor's (an actor depends only on its own environments,
//!   generator and the published parameters), so they run on scoped threads, one per actor,
//!   and are put back in turn order: the batch is bit for bit what taking the turns one after
//!   another gives (tested). The lag is always 0: this is synchronous IMPALA.
//! * **Asynchronous** (for speed). Each actor runs on its own thread from the first batch on:
//!   it picks up the newest published version before each trajectory and sends the trajectory
//!   over a bounded queue (`queue_capacity`; a full queue blocks the actor, which is the back
//!   pressure). The learner takes whatever arrives first. Which actor's trajectory lands in
//!   which batch, and with which version, depends on the operating system's scheduling, so
//!   runs are **not** reproducible — as in every IMPALA implementation (DeepMind's
//!   `scalable_agent`, TorchBeast, RLlib). Every trajectory sent is received exactly once
//!   (tested); those still queued when the learner stops are dropped.
//!
//! ```text
//! deterministic:                         asynchronous, actor j on its own thread:
//!   for k in batch: j = k mod N            loop:
//!     τ_k = actor_j.act(θ_latest)            (v, θ) = latest published
//!   (actors in parallel, turns in order)      τ = actor_j.act(θ);  queue.send((j, v, τ))
//! ```
//!
//! [`ActorLearner`] is [`Resumable`] when its actors are: in the deterministic mode it saves
//! every actor (`name.<j>…`) and the position in the schedule, so a run continues bit for bit.
//! In the asynchronous mode the actors live on their threads once started, and a snapshot holds
//! only the schedule's position: a resumed asynchronous run starts its actors afresh.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::snapshot::{Resumable, StateError, TrainingState};

/// Something that turns parameters into trajectories: one environment (or vector of them),
/// its generator and whatever else it carries between trajectories.
pub trait Actor: Send + 'static {
    /// The parameters the learner publishes.
    type Params: Send + Sync + 'static;
    /// One fixed-length trajectory.
    type Trajectory: Send + 'static;
    /// Why acting can fail (an environment error, say).
    type Error: Send + 'static;

    /// The next trajectory, acting with `params`.
    fn act(&mut self, params: &Self::Params) -> Result<Self::Trajectory, Self::Error>;
}

/// A trajectory as the learner receives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery<T> {
    /// The actor that generated it.
    pub actor: usize,
    /// The version of the parameters it was generated with.
    pub version: u64,
    /// The trajectory.
    pub trajectory: T,
}

/// How the actors are run (see the [module doc](self)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Schedule {
    /// Turns in a fixed order, bit for bit reproducible; lag 0.
    Deterministic,
    /// Free-running actor threads and a bounded queue of this many trajectories.
    Asynchronous { queue_capacity: usize },
}

/// What failed on the actors' side.
#[derive(Debug)]
pub enum ActorFailure<E> {
    /// An actor's own error.
    Actor { actor: usize, error: E },
    /// An actor panicked; the message.
    Panic { actor: usize, message: String },
}

/// Where the time of a run went, in seconds since the actor-learner started: the learner's
/// waits for trajectories and its publishing, and the actors' acting and their waits on a full
/// queue (summed over actors). A learner that waits most of the time is fed too slowly (add
/// actors); actors that wait on the queue outrun the learner.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Timings {
    /// The learner, blocked in [`ActorLearner::next_batch`] until trajectories arrive (in the
    /// deterministic mode: the whole of the actors' turns).
    pub learner_waiting: f64,
    /// The learner in [`ActorLearner::publish`] (taking the lock and replacing the parameters).
    pub publishing: f64,
    /// The actors inside [`Actor::act`], summed over actors.
    pub acting: f64,
    /// The actors blocked on a full queue, summed over actors (asynchronous mode).
    pub actors_blocked: f64,
}

/// Nanoseconds, summed across threads.
#[derive(Default)]
struct Clock(AtomicU64);

impl Clock {
    fn add(&self, elapsed: Duration) {
        self.0
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }
    fn seconds(&self) -> f64 {
        self.0.load(Ordering::Relaxed) as f64 * 1e-9
    }
}

/// The newest published parameters, and the actors' clocks.
struct Published<P> {
    latest: Mutex<(u64, Arc<P>)>,
    stop: AtomicBool,
    acting: Clock,
    blocked: Clock,
}

type Message<A> = Result<Delivery<<A as Actor>::Trajectory>, ActorFailure<<A as Actor>::Error>>;

struct Running<A: Actor> {
    receiver: Option<Receiver<Message<A>>>,
    threads: Vec<JoinHandle<()>>,
}

/// `N` actors and the learner's side of the protocol (see the [module doc](self)).
pub struct ActorLearner<A: Actor> {
    schedule: Schedule,
    published: Arc<Published<A::Params>>,
    /// The actors, until the asynchronous mode moves them onto their threads.
    actors: Vec<A>,
    num_actors: usize,
    /// Deterministic mode: the turn of the next trajectory (`k` of the run).
    turn: u64,
    running: Option<Running<A>>,
    learner_waiting: Duration,
    publishing: Duration,
}

impl<A: Actor> ActorLearner<A> {
    /// The actors, with `params` published as version 0.
    ///
    /// # Panics
    /// If there are no actors, or an asynchronous queue of capacity 0.
    pub fn new(actors: Vec<A>, params: A::Params, schedule: Schedule) -> Self {
        assert!(
            !actors.is_empty(),
            "actor-learner: needs at least one actor"
        );
        if let Schedule::Asynchronous { queue_capacity } = schedule {
            assert!(queue_capacity > 0, "actor-learner: a queue of capacity 0");
        }
        ActorLearner {
            schedule,
            published: Arc::new(Published {
                latest: Mutex::new((0, Arc::new(params))),
                stop: AtomicBool::new(false),
                acting: Clock::default(),
                blocked: Clock::default(),
            }),
            num_actors: actors.len(),
            actors,
            turn: 0,
            running: None,
            learner_waiting: Duration::ZERO,
            publishing: Duration::ZERO,
        }
    }

    /// Where the time went so far (see [`Timings`]).
    pub fn timings(&self) -> Timings {
        Timings {
            learner_waiting: self.learner_waiting.as_secs_f64(),
            publishing: self.publishing.as_secs_f64(),
            acting: self.published.acting.seconds(),
            actors_blocked: self.published.blocked.seconds(),
        }
    }

    /// The number of actors.
    pub fn num_actors(&self) -> usize {
        self.num_actors
    }

    /// The schedule.
    pub fn schedule(&self) -> Schedule {
        self.schedule
    }

    /// Makes `params` the newest parameters, as `version`; actors pick them up before their
    /// next trajectory.
    pub fn publish(&mut self, version: u64, params: A::Params) {
        let start = Instant::now();
        let params = Arc::new(params);
        // swap under the lock, drop the old parameters after it (actors may still hold them)
        let old = std::mem::replace(
            &mut *self
                .published
                .latest
                .lock()
                .expect("no panic while publishing"),
            (version, params),
        );
        drop(old);
        self.publishing += start.elapsed();
    }

    /// The next `size` trajectories: in the deterministic mode the next `size` turns, in the
    /// asynchronous mode the first `size` to arrive (starting the actor threads on the first
    /// call).
    pub fn next_batch(
        &mut self,
        size: usize,
    ) -> Result<Vec<Delivery<A::Trajectory>>, ActorFailure<A::Error>> {
        let start = Instant::now();
        let batch = self.wait_for_batch(size);
        self.learner_waiting += start.elapsed();
        batch
    }

    fn wait_for_batch(
        &mut self,
        size: usize,
    ) -> Result<Vec<Delivery<A::Trajectory>>, ActorFailure<A::Error>> {
        match self.schedule {
            Schedule::Deterministic => self.take_turns(size),
            Schedule::Asynchronous { queue_capacity } => {
                if self.running.is_none() {
                    self.start(queue_capacity);
                }
                let receiver = self
                    .running
                    .as_ref()
                    .and_then(|r| r.receiver.as_ref())
                    .expect("running actors have a queue");
                (0..size)
                    .map(|_| {
                        receiver.recv().unwrap_or_else(|_| {
                            Err(ActorFailure::Panic {
                                actor: 0,
                                message: "every actor has stopped after failing".into(),
                            })
                        })
                    })
                    .collect()
            }
        }
    }

    /// The turns `turn … turn + size − 1`, each actor's on a thread of its own.
    fn take_turns(
        &mut self,
        size: usize,
    ) -> Result<Vec<Delivery<A::Trajectory>>, ActorFailure<A::Error>> {
        let (version, params) = self.latest();
        let n = self.num_actors as u64;
        let first = self.turn;
        // actor j's turns in this batch, as positions in the batch
        let turns_of = |j: usize| -> Vec<usize> {
            (0..size)
                .filter(|&k| (first + k as u64) % n == j as u64)
                .collect()
        };
        let run = |j: usize, actor: &mut A| -> Vec<(usize, Message<A>)> {
            let mut out = Vec::new();
            for k in turns_of(j) {
                let message = act_once(j, actor, &params, version, &self.published.acting);
                let failed = message.is_err();
                out.push((k, message));
                if failed {
                    break;
                }
            }
            out
        };
        let run = &run;
        let busy = (0..self.num_actors)
            .filter(|&j| !turns_of(j).is_empty())
            .count();
        let results: Vec<(usize, Message<A>)> = if busy <= 1 {
            let mut out = Vec::new();
            for (j, actor) in self.actors.iter_mut().enumerate() {
                out.extend(run(j, actor));
            }
            out
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = self
                    .actors
                    .iter_mut()
                    .enumerate()
                    .map(|(j, actor)| scope.spawn(move || run(j, actor)))
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().expect("act_once catches panics"))
                    .collect()
            })
        };
        let mut slots: Vec<Option<Message<A>>> = (0..size).map(|_| None).collect();
        for (k, message) in results {
            slots[k] = Some(message);
        }
        let mut batch = Vec::with_capacity(size);
        for slot in slots {
            // a missing slot follows an actor's failure, which comes first in turn order
            match slot {
                Some(Ok(delivery)) => batch.push(delivery),
                Some(Err(failure)) => return Err(failure),
                None => unreachable!("every turn ran or its actor failed earlier"),
            }
        }
        self.turn += size as u64;
        Ok(batch)
    }

    fn latest(&self) -> (u64, Arc<A::Params>) {
        let latest = self
            .published
            .latest
            .lock()
            .expect("no panic while publishing");
        (latest.0, latest.1.clone())
    }

    /// Moves every actor onto its own thread.
    fn start(&mut self, queue_capacity: usize) {
        let (sender, receiver) = sync_channel::<Message<A>>(queue_capacity);
        let threads = self
            .actors
            .drain(..)
            .enumerate()
            .map(|(j, actor)| {
                let (sender, published): (SyncSender<Message<A>>, _) =
                    (sender.clone(), self.published.clone());
                std::thread::Builder::new()
                    .name(format!("wengert-actor-{j}"))
                    .spawn(move || actor_loop(j, actor, &published, &sender))
                    .expect("an actor thread starts")
            })
            .collect();
        self.running = Some(Running {
            receiver: Some(receiver),
            threads,
        });
    }
}

/// One trajectory, with a panic turned into an [`ActorFailure`].
fn act_once<A: Actor>(
    j: usize,
    actor: &mut A,
    params: &A::Params,
    version: u64,
    clock: &Clock,
) -> Message<A> {
    let start = Instant::now();
    let result = catch_unwind(AssertUnwindSafe(|| actor.act(params)));
    clock.add(start.elapsed());
    match result {
        Ok(Ok(trajectory)) => Ok(Delivery {
            actor: j,
            version,
            trajectory,
        }),
        Ok(Err(error)) => Err(ActorFailure::Actor { actor: j, error }),
        Err(panic) => Err(ActorFailure::Panic {
            actor: j,
            message: panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into()),
        }),
    }
}

/// An asynchronous actor: the newest parameters, one trajectory, into the queue; until told to
/// stop, or until its own failure (reported through the queue).
fn actor_loop<A: Actor>(
    j: usize,
    mut actor: A,
    published: &Published<A::Params>,
    queue: &SyncSender<Message<A>>,
) {
    while !published.stop.load(Ordering::Acquire) {
        let (version, params) = {
            let latest = published.latest.lock().expect("no panic while publishing");
            (latest.0, latest.1.clone())
        };
        let message = act_once(j, &mut actor, &params, version, &published.acting);
        drop(params); // the old parameters are freed by whoever lets go last
        let failed = message.is_err();
        let start = Instant::now();
        let sent = queue.send(message);
        published.blocked.add(start.elapsed());
        // the learner has stopped listening: stop
        if sent.is_err() || failed {
            return;
        }
    }
}

impl<A: Actor> Drop for ActorLearner<A> {
    /// Stops the actor threads: raise the flag, then close the queue, which wakes any actor
    /// blocked on a full queue.
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            self.published.stop.store(true, Ordering::Release);
            drop(running.receiver.take());
            for thread in running.threads.drain(..) {
                let _ = thread.join();
            }
        }
    }
}

/// Every actor under `name.<j>` (while the actors are not on their threads) and the schedule's
/// position `name.turn`.
impl<A: Actor + Resumable> Resumable for ActorLearner<A> {
    fn save(&self, name: &str, state: &mut TrainingState) {
        for (j, actor) in self.actors.iter().enumerate() {
            actor.save(&format!("{name}.{j}"), state);
        }
        state.put_u64(format!("{name}.turn"), vec![self.turn]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        for (j, actor) in self.actors.iter_mut().enumerate() {
            let prefix = format!("{name}.{j}");
            let saved = state.entries().any(|(entry, _)| {
                entry
                    .strip_prefix(&prefix)
                    .is_some_and(|rest| rest.starts_with('.'))
            });
            // an asynchronous run's snapshot has no actors: they start afresh
            if saved || self.schedule == Schedule::Deterministic {
                actor.load(&prefix, state)?;
            }
        }
        self.turn = state.u64s(&format!("{name}.turn"), Some(1))?[0];
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// An actor whose trajectory depends on its own counter and state and on the parameters:
    /// a hash-like recurrence, so that any change of order or of parameters shows.
    struct Counter {
        id: usize,
        sent: u64,
        state: f64,
    }

    impl Actor for Counter {
        type Params = f64;
        type Trajectory = (usize, u64, f64);
        type Error = String;

        fn act(&mut self, theta: &f64) -> Result<(usize, u64, f64), String> {
            for _ in 0..50 {
                self.state = (self.state * 1.618 + theta).sin() * 3.0 + self.id as f64;
            }
            self.sent += 1;
            Ok((self.id, self.sent - 1, self.state))
        }
    }

    impl Resumable for Counter {
        fn save(&self, name: &str, state: &mut TrainingState) {
            state.put_u64(format!("{name}.sent"), vec![self.sent]);
            state.put_f64(format!("{name}.state"), vec![self.state]);
        }
        fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
            self.sent = state.u64s(&format!("{name}.sent"), Some(1))?[0];
            self.state = state.f64s(&format!("{name}.state"), Some(1))?[0];
            Ok(())
        }
    }

    fn counters(n: usize) -> Vec<Counter> {
        (0..n)
            .map(|id| Counter {
                id,
                sent: 0,
                state: id as f64 * 0.1,
            })
            .collect()
    }

    /// The learner of the tests: θ ← θ + mean of the batch's states.
    fn update(theta: f64, batch: &[(usize, u64, f64)]) -> f64 {
        theta + 0.01 * batch.iter().map(|b| b.2).sum::<f64>() / batch.len() as f64
    }

    /// A plain loop: turn k is actor k mod N's, acting with the newest θ.
    fn sequential(n: usize, batch_size: usize, updates: usize) -> (Vec<(usize, u64, f64)>, f64) {
        let mut actors = counters(n);
        let (mut theta, mut seen, mut k) = (0.25, Vec::new(), 0);
        for _ in 0..updates {
            let mut batch = Vec::new();
            for _ in 0..batch_size {
                batch.push(actors[k % n].act(&theta).unwrap());
                k += 1;
            }
            theta = update(theta, &batch);
            seen.extend(batch);
        }
        (seen, theta)
    }

    #[test]
    fn the_deterministic_mode_is_the_sequential_loop_bit_for_bit() {
        for (n, batch_size) in [(1, 3), (3, 3), (3, 5), (4, 2)] {
            let (expected, expected_theta) = sequential(n, batch_size, 7);
            let mut exec = ActorLearner::new(counters(n), 0.25, Schedule::Deterministic);
            let (mut theta, mut seen) = (0.25, Vec::new());
            for version in 0..7 {
                exec.publish(version, theta);
                let batch: Vec<_> = exec.next_batch(batch_size).unwrap();
                assert!(batch.iter().all(|d| d.version == version), "lag 0");
                let batch: Vec<_> = batch.into_iter().map(|d| d.trajectory).collect();
                theta = update(theta, &batch);
                seen.extend(batch);
            }
            assert_eq!(
                theta.to_bits(),
                expected_theta.to_bits(),
                "N {n}, B {batch_size}"
            );
            assert_eq!(seen.len(), expected.len());
            for (a, b) in seen.iter().zip(&expected) {
                assert_eq!((a.0, a.1, a.2.to_bits()), (b.0, b.1, b.2.to_bits()));
            }
        }
    }

    #[test]
    fn the_deterministic_mode_resumes_where_it_stopped() {
        let (expected, _) = sequential(3, 4, 6);
        let mut first = ActorLearner::new(counters(3), 0.25, Schedule::Deterministic);
        let mut theta = 0.25;
        let mut seen = Vec::new();
        for version in 0..3 {
            first.publish(version, theta);
            let batch: Vec<_> = first.next_batch(4).unwrap();
            let batch: Vec<_> = batch.into_iter().map(|d| d.trajectory).collect();
            theta = update(theta, &batch);
            seen.extend(batch);
        }
        let mut state = TrainingState::new("x", "y", "z");
        state.save("actors", &first);
        drop(first);
        let mut second = ActorLearner::new(counters(3), 0.0, Schedule::Deterministic);
        state.load("actors", &mut second).unwrap();
        for version in 3..6 {
            second.publish(version, theta);
            let batch: Vec<_> = second.next_batch(4).unwrap();
            let batch: Vec<_> = batch.into_iter().map(|d| d.trajectory).collect();
            theta = update(theta, &batch);
            seen.extend(batch);
        }
        let bits = |v: &[(usize, u64, f64)]| -> Vec<(usize, u64, u64)> {
            v.iter().map(|b| (b.0, b.1, b.2.to_bits())).collect()
        };
        assert_eq!(bits(&seen), bits(&expected));
    }

    /// Every actor's trajectories arrive once each, in the order it sent them, with the version
    /// it acted with; versions never run ahead of the learner.
    #[test]
    fn the_asynchronous_mode_delivers_every_trajectory_exactly_once() {
        for capacity in [1, 2, 8] {
            let mut exec = ActorLearner::new(
                counters(3),
                0.0,
                Schedule::Asynchronous {
                    queue_capacity: capacity,
                },
            );
            let mut received: BTreeMap<usize, Vec<u64>> = BTreeMap::new();
            for version in 0..200u64 {
                exec.publish(version, version as f64);
                for delivery in exec.next_batch(4).unwrap() {
                    assert!(delivery.version <= version, "a version from the future");
                    let (actor, sequence, _) = delivery.trajectory;
                    assert_eq!(actor, delivery.actor);
                    received.entry(actor).or_default().push(sequence);
                }
            }
            let total: usize = received.values().map(Vec::len).sum();
            assert_eq!(total, 800);
            for (actor, sequences) in &received {
                let expected: Vec<u64> = (0..sequences.len() as u64).collect();
                assert_eq!(sequences, &expected, "actor {actor}, capacity {capacity}");
            }
            drop(exec); // stops the threads, some of them blocked on the full queue
        }
    }

    #[test]
    fn the_asynchronous_mode_reports_the_version_each_trajectory_used() {
        /// Returns the parameters it acted with.
        struct Echo;
        impl Actor for Echo {
            type Params = u64;
            type Trajectory = u64;
            type Error = String;
            fn act(&mut self, params: &u64) -> Result<u64, String> {
                Ok(*params)
            }
        }
        let mut exec = ActorLearner::new(
            vec![Echo, Echo],
            0,
            Schedule::Asynchronous { queue_capacity: 2 },
        );
        let mut lags = Vec::new();
        for version in 0..100 {
            exec.publish(version, version);
            for delivery in exec.next_batch(2).unwrap() {
                assert_eq!(delivery.trajectory, delivery.version);
                lags.push(version - delivery.version);
            }
        }
        assert!(lags.iter().all(|&lag| lag <= 100));
    }

    /// The clocks see where the time goes: actors that take 2 ms a trajectory, with a learner
    /// that takes no time, leave the learner waiting; a learner that takes 20 ms a batch leaves
    /// the actors blocked on the full queue.
    #[test]
    fn the_timings_show_who_waits_for_whom() {
        struct Slow;
        impl Actor for Slow {
            type Params = ();
            type Trajectory = ();
            type Error = String;
            fn act(&mut self, _: &()) -> Result<(), String> {
                std::thread::sleep(Duration::from_millis(2));
                Ok(())
            }
        }
        let schedule = Schedule::Asynchronous { queue_capacity: 1 };
        let mut fast_learner = ActorLearner::new(vec![Slow, Slow], (), schedule);
        for version in 0..20 {
            fast_learner.publish(version, ());
            fast_learner.next_batch(2).unwrap();
        }
        let t = fast_learner.timings();
        assert!(t.acting >= 40.0 * 0.002, "{t:?}");
        assert!(t.learner_waiting >= 0.5 * 20.0 * 0.002, "{t:?}");
        let mut slow_learner = ActorLearner::new(vec![Slow, Slow], (), schedule);
        for version in 0..10 {
            slow_learner.publish(version, ());
            slow_learner.next_batch(2).unwrap();
            std::thread::sleep(Duration::from_millis(20));
        }
        let t = slow_learner.timings();
        assert!(t.actors_blocked >= 10.0 * 0.010, "{t:?}");
        let mut turns = ActorLearner::new(vec![Slow, Slow], (), Schedule::Deterministic);
        turns.next_batch(4).unwrap();
        let t = turns.timings();
        assert!(
            t.acting >= 4.0 * 0.002 && t.learner_waiting >= 2.0 * 0.002,
            "{t:?}"
        );
        assert_eq!(t.actors_blocked, 0.0);
    }

    #[test]
    fn a_failing_actor_is_reported_in_both_modes() {
        struct Failing(usize);
        impl Actor for Failing {
            type Params = ();
            type Trajectory = ();
            type Error = String;
            fn act(&mut self, _: &()) -> Result<(), String> {
                match self.0 {
                    0 => Ok(()),
                    1 => Err("broken environment".into()),
                    _ => panic!("actor bug"),
                }
            }
        }
        for schedule in [
            Schedule::Deterministic,
            Schedule::Asynchronous { queue_capacity: 1 },
        ] {
            let mut exec = ActorLearner::new(vec![Failing(0), Failing(1)], (), schedule);
            let mut failure = None;
            // asynchronously, actor 0 may deliver many batches before the scheduler first runs
            // actor 1 (a loaded machine): wait for its failure over many batches, not a few
            for _ in 0..100_000 {
                if let Err(f) = exec.next_batch(2) {
                    failure = Some(f);
                    break;
                }
            }
            match failure {
                Some(ActorFailure::Actor { actor: 1, error }) => {
                    assert_eq!(error, "broken environment")
                }
                other => panic!("{schedule:?}: {other:?}"),
            }
            let mut exec = ActorLearner::new(vec![Failing(2)], (), schedule);
            match exec.next_batch(1) {
                Err(ActorFailure::Panic { actor: 0, message }) => assert_eq!(message, "actor bug"),
                other => panic!("{schedule:?}: {:?}", other.map(|b| b.len())),
            }
        }
    }
}
