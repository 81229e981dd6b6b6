//! ε-greedy exploration for discrete actions, with its linearly decaying rate.

use rand::RngExt;

use crate::snapshot::TrainerRng;

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
