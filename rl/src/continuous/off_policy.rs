//! The collect → replay → update loop DDPG, TD3 and SAC share (see the [module doc](super)).

use ndarray::Array2;
use rand::SeedableRng;

use super::{ActionNoise, Collector, NoiseProcess};
use crate::buffers::Batch;
use crate::common::trainer::{Part, Report};
use crate::snapshot::TrainerRng;
use crate::train::TrainError;

/// When the shared loop acts and learns: the settings DDPG, TD3 and SAC have in common.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// Environment steps to train for.
    pub total_timesteps: usize,
    /// Steps of uniformly random actions before learning starts.
    pub learning_starts: usize,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Environment steps per iteration (between reports).
    pub log_interval: usize,
}

impl Schedule {
    /// The iterations of the run: the last one may be shorter than `log_interval`.
    pub fn iterations(&self) -> usize {
        self.total_timesteps.div_ceil(self.log_interval.max(1))
    }
}

/// What an algorithm brings to the shared loop: its policy and its update.
pub trait Learner {
    /// The diagnostics [`Learner::update`] reports, averaged over an iteration, in report order.
    const DIAGNOSTICS: &'static [&'static str];

    /// The policy's unit-box action `(1, |A|)` at `observations`, before exploration noise.
    fn act(&self, observations: &Array2<f32>, rng: &mut TrainerRng) -> Array2<f32>;

    /// One gradient step on a replayed batch; `step` counts the run's gradient steps from 1.
    /// Returns named diagnostics (losses, `q_mean`, …).
    fn update(
        &mut self,
        batch: &Batch,
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Vec<(&'static str, f64)>, TrainError>;

    /// Values reported once per iteration, after the averaged diagnostics (none by default);
    /// `gradient_steps` counts the run's gradient steps.
    fn report(&self, gradient_steps: usize) -> Vec<(&'static str, f64)> {
        let _ = gradient_steps;
        Vec::new()
    }
}

/// The off-policy loop's state besides the networks: the environment and replay buffer, the
/// exploration noise and the generator every draw comes from.
pub struct OffPolicy {
    /// The environment, `D` and the counters.
    pub collector: Collector,
    /// The exploration noise's state.
    pub noise: NoiseProcess,
    /// The generator: networks' initialisation, actions, batches, noise.
    pub rng: TrainerRng,
}

impl OffPolicy {
    /// A fresh environment and buffer (at most `total_timesteps` slots), the generator seeded,
    /// and the noise at 0.
    pub fn new(
        env_id: &str,
        buffer_size: usize,
        total_timesteps: usize,
        gamma: f64,
        action_noise: ActionNoise,
        seed: u64,
    ) -> Result<Self, TrainError> {
        let rng = TrainerRng::seed_from_u64(seed);
        let collector = Collector::new(env_id, buffer_size.min(total_timesteps), seed, gamma)?;
        let noise = NoiseProcess::new(action_noise, collector.action_dim());
        Ok(OffPolicy {
            collector,
            noise,
            rng,
        })
    }

    /// Iteration `iteration` (from 1) of the loop in the [module doc](self): environment
    /// steps `t` from the next one up to `iteration·log_interval` (or `total_timesteps`), with
    /// `learner`'s policy and updates. (Counting from the steps taken, not from the iteration,
    /// keeps every step when a run stopped after a short last iteration resumes with a larger
    /// budget.)
    pub fn iterate<L: Learner>(
        &mut self,
        learner: &mut L,
        schedule: &Schedule,
        iteration: usize,
    ) -> Result<Report, TrainError> {
        let OffPolicy {
            collector,
            noise,
            rng,
        } = self;
        let first = collector.env_steps + 1;
        let last = (iteration * schedule.log_interval).min(schedule.total_timesteps);
        let mut window = Averages::default();
        let mut episode_returns = Vec::new();
        for t in first..=last {
            // act: uniform warm-up, then the policy's action plus noise
            let unit = if t <= schedule.learning_starts {
                collector.random_actions(rng)
            } else {
                let action = learner.act(&collector.observations, rng);
                noise.add_to(action, rng)
            };
            let finished = collector.step(&unit)?;
            if !finished.is_empty() {
                noise.reset();
            }
            episode_returns.extend(finished);

            // learn
            if t > schedule.learning_starts && t % schedule.train_freq == 0 {
                for _ in 0..schedule.gradient_steps {
                    let batch = collector.buffer.sample(schedule.batch_size, rng);
                    let step = collector.gradient_steps + 1;
                    for (name, value) in learner.update(&batch, step, rng, iteration)? {
                        window.add(name, value);
                    }
                    collector.gradient_steps = step;
                }
            }
        }
        let mut losses = window.take_as(L::DIAGNOSTICS);
        losses.extend(learner.report(collector.gradient_steps));
        losses.extend(collector.throughput());
        Ok(Report {
            env_steps: (last + 1).saturating_sub(first),
            episode_returns,
            losses,
        })
    }

    /// The resumable parts: `noise`, `collector` (environment, buffer, counters) and `rng`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("noise", Part::State(&mut self.noise)),
            ("collector", Part::State(&mut self.collector)),
            ("rng", Part::State(&mut self.rng)),
        ]
    }
}

/// Running means of named scalars over one iteration.
///
/// ```
/// use wengert_rl::continuous::Averages;
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
