//! ε-greedy exploration for discrete actions, with its linearly decaying rate and the settings
//! of it that the value-based configurations share.

use rand::RngExt;
use serde::{Deserialize, Serialize};

use crate::common::config::Range;
use crate::snapshot::TrainerRng;

/// The settings of a decaying ε-greedy behaviour policy, as one piece of a value-based
/// configuration (DQN's, R2D2's), flattened into it with `#[serde(flatten)]`: in presets and on
/// the command line they stay Stable-Baselines3's flat keys `exploration_initial_eps`,
/// `exploration_final_eps` and `exploration_fraction`.
///
/// ```
/// use wengert_rl::algorithms::{dqn::DqnConfig, preset};
/// let config: DqnConfig = preset("dqn", "CartPole-v1").unwrap();
/// assert_eq!(config.exploration.final_eps, 0.04); // `exploration_final_eps` of the preset
/// let schedule = config.exploration.schedule(config.core.total_timesteps);
/// assert_eq!(schedule.epsilon(0), 1.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpsilonGreedyConfig {
    /// `ε₀`: the initial exploration rate.
    #[serde(rename = "exploration_initial_eps")]
    pub initial_eps: f64,
    /// `ε_end`: the final exploration rate.
    #[serde(rename = "exploration_final_eps")]
    pub final_eps: f64,
    /// `f`: the fraction of `T` over which `ε` decays linearly from `ε₀` to `ε_end`.
    #[serde(rename = "exploration_fraction")]
    pub fraction: f64,
}

impl EpsilonGreedyConfig {
    /// The valid ranges of the three settings, for the configurations'
    /// [`Config::RANGES`](crate::common::config::Config::RANGES).
    pub const RANGES: [(&'static str, Range); 3] = [
        ("exploration_initial_eps", Range::unit()),
        ("exploration_final_eps", Range::unit()),
        ("exploration_fraction", Range::unit()),
    ];

    /// `ε(t)` over a budget of `T = total_timesteps` environment steps.
    pub fn schedule(&self, total_timesteps: usize) -> ExplorationSchedule {
        ExplorationSchedule {
            initial: self.initial_eps,
            last: self.final_eps,
            fraction: self.fraction,
            total_timesteps,
        }
    }
}

/// The exploration rate `ε(t) = ε₀ + (ε_end − ε₀) min(1, t / (f T))` after `t` environment
/// steps of a budget of `T`.
///
/// ```
/// use wengert_rl::common::off_policy::ExplorationSchedule;
/// let schedule = ExplorationSchedule { initial: 1.0, last: 0.1, fraction: 0.5, total_timesteps: 1000 };
/// assert_eq!(schedule.epsilon(0), 1.0);
/// assert!((schedule.epsilon(250) - 0.55).abs() < 1e-12);
/// assert!((schedule.epsilon(900) - 0.1).abs() < 1e-12);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ExplorationSchedule {
    /// `ε₀`.
    pub initial: f64,
    /// `ε_end`.
    pub last: f64,
    /// `f`: the fraction of the budget over which `ε` decays.
    pub fraction: f64,
    /// `T`.
    pub total_timesteps: usize,
}

impl ExplorationSchedule {
    /// `ε(t)`.
    pub fn epsilon(&self, t: usize) -> f64 {
        let decay_steps = self.fraction * self.total_timesteps as f64;
        let progress = if decay_steps > 0.0 {
            (t as f64 / decay_steps).min(1.0)
        } else {
            1.0
        };
        self.initial + (self.last - self.initial) * progress
    }
}

/// One action per copy: with probability `ε` (always, when `random_only`) uniform in
/// `0..num_actions`, else the greedy one. The generator draws first one coin per copy (none
/// when `random_only`), then one action per exploring copy; `greedy` is called only when some
/// copy does not explore.
///
/// ```
/// use rand::SeedableRng;
/// use wengert_rl::common::off_policy::epsilon_greedy;
/// use wengert_rl::snapshot::TrainerRng;
/// let mut rng = TrainerRng::seed_from_u64(0);
/// assert_eq!(epsilon_greedy(3, 4, 0.0, false, &mut rng, || vec![2, 1, 0]), vec![2, 1, 0]);
/// let random = epsilon_greedy(3, 4, 1.0, false, &mut rng, || unreachable!());
/// assert!(random.iter().all(|&a| a < 4));
/// ```
pub fn epsilon_greedy(
    copies: usize,
    num_actions: usize,
    epsilon: f64,
    random_only: bool,
    rng: &mut TrainerRng,
    greedy: impl FnOnce() -> Vec<usize>,
) -> Vec<usize> {
    let explore: Vec<bool> = (0..copies)
        .map(|_| random_only || rng.random::<f64>() < epsilon)
        .collect();
    let greedy_actions = (!explore.iter().all(|&e| e)).then(greedy);
    (0..copies)
        .map(|i| match &greedy_actions {
            Some(greedy) if !explore[i] => greedy[i],
            _ => rng.random_range(0..num_actions),
        })
        .collect()
}
