//! What an iteration of the loop reports besides the learner's values: the means of its
//! diagnostics and the throughput.

use std::time::Instant;

use crate::snapshot::{Clock, Resumable, StateError, TrainingState};

/// Running means of named scalars over one iteration.
///
/// ```
/// use wengert_rl::common::off_policy::Averages;
/// let mut window = Averages::default();
/// window.add("critic_loss", 1.0);
/// window.add("critic_loss", 3.0);
/// let means = window.take_as(&["critic_loss", "actor_loss"]);
/// assert_eq!(means[0], ("critic_loss", 2.0));
/// assert!(means[1].1.is_nan()); // no value this iteration (the warm-up)
/// ```
#[derive(Clone, Debug, Default)]
pub struct Averages {
    sums: Vec<(&'static str, f64, usize)>,
}

impl Averages {
    /// Adds one value of `name`.
    pub fn add(&mut self, name: &'static str, value: f64) {
        match self.sums.iter_mut().find(|(n, _, _)| *n == name) {
            Some((_, sum, count)) => {
                *sum += value;
                *count += 1;
            }
            None => self.sums.push((name, value, 1)),
        }
    }

    /// The means of exactly `names`, in that order, NaN for a name with no value in this
    /// window (so that every report has the same columns, warm-up included), and a fresh
    /// window.
    pub fn take_as(&mut self, names: &[&'static str]) -> Vec<(&'static str, f64)> {
        let sums = std::mem::take(&mut self.sums);
        names
            .iter()
            .map(|&name| {
                let mean = sums
                    .iter()
                    .find(|(n, _, _)| *n == name)
                    .map(|(_, sum, count)| sum / *count as f64);
                (name, mean.unwrap_or(f64::NAN))
            })
            .collect()
    }
}

/// The gradient steps taken, the seconds spent in them (sampling, targets, forward, backward,
/// the optimiser steps) and the run's wall clock.
///
/// ```
/// use wengert_rl::common::off_policy::Throughput;
/// let mut throughput = Throughput::start();
/// let phase = throughput.start_phase();
/// throughput.gradient_steps += 64;
/// throughput.end_phase(phase);
/// let report = throughput.report(1000);
/// assert_eq!(report[0], ("gradient_steps", 64.0));
/// assert!(report[1].1 > 0.0 && report[2].1 > 0.0);
/// ```
#[derive(Clone, Debug)]
pub struct Throughput {
    /// Gradient steps so far.
    pub gradient_steps: usize,
    /// Seconds spent in them.
    pub gradient_seconds: f64,
    /// Wall-clock time since the run started (resumed at a snapshot's wall time).
    clock: Clock,
}

impl Throughput {
    /// No gradient steps yet, the clock started now.
    pub fn start() -> Self {
        Throughput {
            gradient_steps: 0,
            gradient_seconds: 0.0,
            clock: Clock::start(),
        }
    }

    /// The start of a training phase, for [`Throughput::end_phase`].
    pub fn start_phase(&self) -> Instant {
        Instant::now()
    }

    /// Counts the seconds since `phase` as spent in gradient steps.
    pub fn end_phase(&mut self, phase: Instant) {
        self.gradient_seconds += phase.elapsed().as_secs_f64();
    }

    /// `gradient_steps`, `gradient_steps_per_second` (per second spent in them) and
    /// `steps_per_second` (environment steps `t` per wall-clock second).
    pub fn report(&self, t: usize) -> Vec<(&'static str, f64)> {
        vec![
            ("gradient_steps", self.gradient_steps as f64),
            (
                "gradient_steps_per_second",
                self.gradient_steps as f64 / self.gradient_seconds.max(f64::MIN_POSITIVE),
            ),
            ("steps_per_second", t as f64 / self.clock.seconds()),
        ]
    }
}

/// The count (`name.count`) and the seconds (`name.seconds`); the clock resumes at the
/// snapshot's wall time.
impl Resumable for Throughput {
    fn save(&self, name: &str, state: &mut TrainingState) {
        state.put_u64(format!("{name}.count"), vec![self.gradient_steps as u64]);
        state.put_f64(format!("{name}.seconds"), vec![self.gradient_seconds]);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.gradient_steps = state.count(&format!("{name}.count"))?;
        self.gradient_seconds = state.f64s(&format!("{name}.seconds"), Some(1))?[0];
        self.clock = Clock::resume_at(state.wall_time);
        Ok(())
    }
}
