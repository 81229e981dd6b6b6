//! # The off-policy loop: collect → replay → update, written once
//!
//! DQN, DDPG, TD3 and SAC all repeat, one environment step `t` at a time (`N` environments
//! in lockstep add `N` to `t`), as Stable-Baselines3's `OffPolicyAlgorithm` does:
//!
//! ```text
//! for t = …:
//!     a ← uniform in the action space while t < learning_starts,          (OffPolicyEnvs::random_actions)
//!         else the learner's behaviour action (+ exploration noise, clipped)  (Learner::act, NoiseProcess)
//!     step the environments with a (scaled from the unit box for Box actions); push
//!         (s, a, r, s', terminated) through each copy's n-step window into D  (OffPolicyEnvs::step)
//!     the learner's per-step bookkeeping (DQN's target update)                 (Learner::on_step)
//!     if t > learning_starts and t passed a multiple of train_freq:
//!         the learner's per-phase bookkeeping (a learning-rate schedule)       (Learner::before_training)
//!         repeat gradient_steps times:
//!             sample B from D (by priority, with weights at β(t), if prioritised)  (Replay::sample)
//!             the learner's gradient step on B                                (Learner::update)
//!             if prioritised: p_i ← |δ_i| + ε                                 (Replay::update_priorities)
//! ```
//!
//! One iteration of [`OffPolicy::iterate`] runs until `t` reaches `iteration · log_interval`
//! (or the budget) and reports the mean of each diagnostic over its gradient steps. Counting
//! from the steps taken, not from the iteration, keeps every step when a run that stopped after
//! a short last iteration resumes with a larger budget.
//!
//! - [`envs`](mod@envs): the `N` environments, their n-step windows, `t`, and the unit box;
//! - [`replay`](mod@replay): uniform and prioritised replay behind one interface;
//! - [`exploration`](mod@exploration): ε-greedy, its schedule and its settings (discrete actions);
//! - [`noise`](mod@noise): Gaussian and Ornstein–Uhlenbeck action noise (continuous actions);
//! - [`q_parameters`](mod@q_parameters): a Q-learner's `θ`, target `θ'` and optimiser;
//! - [`core_config`](mod@core_config): the settings DQN, DDPG, TD3, SAC and DIAYN share;
//! - [`scale`](mod@scale): the unit box ↔ the environment's action box;
//! - [`report`](mod@report): the per-iteration means and the throughput.

pub mod core_config;
pub mod envs;
pub mod exploration;
pub mod noise;
pub mod q_parameters;
pub mod replay;
pub mod report;
pub mod scale;
pub mod trainer;

pub use core_config::OffPolicyCoreConfig;
pub use envs::{EnvSettings, NStepWindows, OffPolicyEnvs, Steps};
pub use exploration::{EpsilonGreedyConfig, ExplorationSchedule, epsilon_greedy};
pub use noise::{ActionNoise, NoiseProcess, standard_normal, standard_normal_array};
pub use q_parameters::QParameters;
pub use replay::{Priorities, Replay};
pub use report::{Averages, Throughput};
pub use scale::ActionScale;
pub use trainer::{OffPolicyAlgorithm, OffPolicyTrainer};

use ndarray::Array2;
use rand::SeedableRng;
use serde::Deserialize;

use crate::buffers::Batch;
use crate::common::config::Config;
use crate::common::trainer::{Part, Report};
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::TrainError;

/// When the loop acts and learns: the settings every off-policy learner has.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Schedule {
    /// `T`: environment steps to train for (over all environments).
    pub total_timesteps: usize,
    /// Steps of uniformly random actions, and no training, before learning starts.
    pub learning_starts: usize,
    /// `B`: transitions per gradient step.
    pub batch_size: usize,
    /// Environment steps between training phases.
    pub train_freq: usize,
    /// Gradient steps per training phase.
    pub gradient_steps: usize,
    /// Environment steps per iteration (between reports).
    pub log_interval: usize,
    /// `N`: parallel environments (1 for a configuration without `num_envs`).
    #[serde(default = "one")]
    pub num_envs: usize,
}

/// The default of a count a configuration may leave out.
fn one() -> usize {
    1
}

/// Reads the settings named in a struct `S` from a configuration that has them.
///
/// # Panics
/// If the configuration does not name them: a mistake in the algorithm's code, not in its
/// input (every configuration passed its validation before).
fn read_from<C: Config, S: serde::de::DeserializeOwned>(config: &C, what: &str) -> S {
    let table = toml::Value::try_from(config)
        .unwrap_or_else(|e| panic!("a configuration serialises to TOML: {e}"));
    table
        .try_into()
        .unwrap_or_else(|e| panic!("an off-policy configuration names {what}: {e}"))
}

impl Schedule {
    /// The schedule of a configuration, read by name: `total_timesteps`, `learning_starts`,
    /// `batch_size`, `train_freq`, `gradient_steps`, `log_interval` and `num_envs` (1 when
    /// it has none).
    ///
    /// ```
    /// use wengert_rl::algorithms::{preset, sac::SacConfig};
    /// use wengert_rl::common::off_policy::Schedule;
    /// let config: SacConfig = preset("sac", "Pendulum-v1").unwrap();
    /// let schedule = Schedule::of(&config);
    /// assert_eq!((schedule.batch_size, schedule.num_envs), (config.core.batch_size, 1));
    /// ```
    pub fn of<C: Config>(config: &C) -> Schedule {
        read_from(config, "the loop's schedule")
    }

    /// The iterations of the run: [`reports`].
    pub fn iterations(&self) -> usize {
        reports(self.total_timesteps, self.num_envs, self.log_interval)
    }
}

/// What one gradient step hands back to the loop.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// Named diagnostics (losses, `q_mean`, …), averaged over the iteration.
    pub diagnostics: Vec<(&'static str, f64)>,
    /// `|δ_i|` of the batch's rows, the new priorities of a prioritised replay (empty: none).
    pub td_errors: Vec<f64>,
}

/// What an algorithm brings to the loop: its behaviour policy, its bookkeeping and its update.
pub trait Learner {
    /// The diagnostics [`Learner::update`] reports, averaged over an iteration, in report order.
    const DIAGNOSTICS: &'static [&'static str];

    /// The behaviour actions for the `N` rows of `observations` after the warm-up, `t`
    /// environment steps into the run: indices for a discrete space, unit-box rows for a Box
    /// (the loop adds the exploration noise).
    fn act(&mut self, observations: &Array2<f32>, t: usize, rng: &mut TrainerRng) -> Actions;

    /// After every environment step, `t` having moved from `before` (nothing by default).
    fn on_step(&mut self, before: usize, t: usize) {
        let _ = (before, t);
    }

    /// At the start of every training phase, at step `t` (nothing by default).
    fn before_training(&mut self, t: usize) {
        let _ = t;
    }

    /// One gradient step on a replayed batch; `step` counts the run's gradient steps from 1.
    fn update(
        &mut self,
        batch: &Batch,
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError>;

    /// Values reported once per iteration after the averaged diagnostics, `t` environment
    /// and `gradient_steps` gradient steps into the run (none by default).
    fn report(&self, t: usize, gradient_steps: usize) -> Vec<(&'static str, f64)> {
        let _ = (t, gradient_steps);
        Vec::new()
    }
}

/// How the loop's environments, replay and exploration are set up.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Settings {
    /// The environments.
    #[serde(flatten)]
    pub envs: EnvSettings,
    /// Replay capacity in transitions (at most `total_timesteps` slots are allocated).
    pub buffer_size: usize,
    /// `T`, which bounds the slots the replay needs.
    pub total_timesteps: usize,
    /// Prioritised replay's settings, or `None` for uniform replay.
    #[serde(skip)]
    pub priorities: Option<Priorities>,
    /// The noise added to a Box action space's behaviour actions (none when a configuration
    /// has no `action_noise`).
    #[serde(default = "no_noise")]
    pub action_noise: ActionNoise,
}

/// The default of a configuration without `action_noise`.
fn no_noise() -> ActionNoise {
    ActionNoise::None
}

impl Settings {
    /// The settings of a configuration, read by name: `buffer_size`, `total_timesteps`,
    /// `action_noise` (none when it has none) and those of [`EnvSettings`]; uniform replay.
    ///
    /// ```
    /// use wengert_rl::algorithms::{preset, td3::Td3Config};
    /// use wengert_rl::common::off_policy::Settings;
    /// let config: Td3Config = preset("td3", "Pendulum-v1").unwrap();
    /// let settings = Settings::of(&config);
    /// assert_eq!((settings.envs.num_envs, settings.envs.n_step), (1, 1));
    /// assert_eq!(settings.action_noise, config.action_noise);
    /// ```
    pub fn of<C: Config>(config: &C) -> Settings {
        read_from(config, "the loop's settings")
    }
}

/// The loop's state besides the learner: the environments, the replay `D`, the exploration
/// noise, the generator every draw comes from, and the counts and clocks.
pub struct OffPolicy {
    /// The `N` environments, their n-step windows and `t`.
    pub envs: OffPolicyEnvs,
    /// `D`.
    pub replay: Replay,
    /// The exploration noise's state (one process per copy; none for discrete actions).
    pub noise: NoiseProcess,
    /// The generator: networks' initialisation, actions, batches, noise.
    pub rng: TrainerRng,
    /// Gradient steps so far and the time spent.
    pub throughput: Throughput,
}

impl OffPolicy {
    /// Fresh environments reset with the seed, an empty replay of
    /// `min(buffer_size, total_timesteps)` slots, the noise at 0 and the generator seeded.
    ///
    /// ```
    /// use wengert_rl::common::off_policy::{ActionNoise, EnvSettings, OffPolicy, Settings};
    /// let settings = Settings {
    ///     envs: EnvSettings { num_envs: 1, env_threads: 1, seed: 0, n_step: 1, gamma: 0.99 },
    ///     buffer_size: 1_000_000,
    ///     total_timesteps: 500,
    ///     priorities: None,
    ///     action_noise: ActionNoise::None,
    /// };
    /// let off_policy = OffPolicy::new("Pendulum-v1", &settings).unwrap();
    /// assert_eq!(off_policy.replay.capacity(), 500);
    /// assert_eq!(off_policy.envs.scale().unwrap().dim(), 1);
    /// ```
    pub fn new(env_id: &str, settings: &Settings) -> Result<Self, TrainError> {
        let rng = TrainerRng::seed_from_u64(settings.envs.seed);
        let envs = OffPolicyEnvs::new(env_id, &settings.envs)?;
        let replay = Replay::new(
            settings.buffer_size.min(settings.total_timesteps).max(1),
            envs.observation_dim(),
            envs.action_shape(),
            settings.priorities,
        );
        let action_dim = envs.scale().map_or(0, |s| s.dim());
        Ok(OffPolicy {
            noise: NoiseProcess::new(settings.action_noise, settings.envs.num_envs, action_dim),
            envs,
            replay,
            rng,
            throughput: Throughput::start(),
        })
    }

    /// Iteration `iteration` (from 1) of the loop in the [module doc](self), with `learner`'s
    /// behaviour policy and updates.
    pub fn iterate<L: Learner>(
        &mut self,
        learner: &mut L,
        schedule: &Schedule,
        iteration: usize,
    ) -> Result<Report, TrainError> {
        let OffPolicy {
            envs,
            replay,
            noise,
            rng,
            throughput,
        } = self;
        let first = envs.steps.0;
        let last = (iteration * schedule.log_interval).min(schedule.total_timesteps);
        let mut observations = envs.observations();
        let mut window = Averages::default();
        let (mut episode_returns, mut episode_lengths) = (Vec::new(), Vec::new());
        loop {
            // act: uniform warm-up, then the behaviour policy (+ noise)
            let before = envs.steps.0;
            let actions = if before < schedule.learning_starts {
                envs.random_actions(rng)
            } else {
                match learner.act(&observations, before, rng) {
                    Actions::Continuous(unit) => Actions::Continuous(noise.add_to(unit, rng)),
                    discrete => discrete,
                }
            };

            // step and store (s, a, r, s', terminated) in D
            let (next, finished) = envs.step(&observations, &actions, replay)?;
            observations = next;
            for (copy, episode) in finished {
                noise.reset(copy);
                episode_returns.push(episode.episode_return);
                episode_lengths.push(episode.length);
            }
            let t = envs.steps.0;
            learner.on_step(before, t);

            // a training phase of gradient steps
            if t > schedule.learning_starts
                && crossed(before, t, schedule.train_freq)
                && !replay.is_empty()
            {
                let phase = throughput.start_phase();
                learner.before_training(t);
                for _ in 0..schedule.gradient_steps {
                    let batch = replay.sample(schedule.batch_size, t, rng);
                    let step = throughput.gradient_steps + 1;
                    let update = learner.update(&batch, step, rng, iteration)?;
                    replay.update_priorities(&batch.indices, &update.td_errors);
                    for (name, value) in update.diagnostics {
                        window.add(name, value);
                    }
                    throughput.gradient_steps = step;
                }
                throughput.end_phase(phase);
            }

            if t >= last {
                break;
            }
        }
        let t = envs.steps.0;
        let mut losses = window.take_as(L::DIAGNOSTICS);
        losses.extend(learner.report(t, throughput.gradient_steps));
        losses.extend(throughput.report(t));
        Ok(Report {
            env_steps: t - first,
            episode_returns,
            episode_lengths,
            losses,
        })
    }

    /// The resumable parts, each once: `envs` (every copy's state), `n_step` (the open
    /// windows), `steps` (`t`), `replay`, `noise`, `rng` and `gradient_steps`.
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = self.envs.parts();
        parts.extend([
            ("replay", Part::State(&mut self.replay)),
            ("noise", Part::State(&mut self.noise)),
            ("rng", Part::State(&mut self.rng)),
            ("gradient_steps", Part::State(&mut self.throughput)),
        ]);
        parts
    }
}

/// Whether a counter that moved from `before` to `after` passed a multiple of `every`.
///
/// ```
/// use wengert_rl::common::off_policy::crossed;
/// assert!(crossed(98, 102, 100) && !crossed(102, 106, 100));
/// ```
pub fn crossed(before: usize, after: usize, every: usize) -> bool {
    after / every > before / every
}

/// The reports of a run of `total_timesteps` steps in `num_envs` environments, reporting at
/// every step that passes a multiple of `log_interval` and at the last step: of the
/// `S = ⌈T / N⌉` steps, steps `1 … S − 1` pass `⌊(S − 1) N / log_interval⌋` multiples, but
/// report at most once each.
///
/// ```
/// use wengert_rl::common::off_policy::reports;
/// assert_eq!(reports(1000, 1, 250), 4);
/// assert_eq!(reports(1001, 1, 250), 5); // 250, 500, 750, 1000, and the last step
/// assert_eq!(reports(10, 3, 2), 4); // every step: 3, 6, 9 pass a multiple of 2; 12 is last
/// ```
pub fn reports(total_timesteps: usize, num_envs: usize, log_interval: usize) -> usize {
    let steps = total_timesteps.div_ceil(num_envs);
    if steps == 0 {
        return 0;
    }
    let passed = (steps - 1) * num_envs / log_interval;
    passed.min(steps - 1) + 1
}
