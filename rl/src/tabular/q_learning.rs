//! # Tabular Q-learning
//!
//! **Background.** Q-learning (Watkins, 1989) is off-policy temporal-difference control: it
//! learns $Q^\star$ from transitions of any sufficiently exploring behaviour policy, by stochastic
//! approximation of the Bellman optimality equation
//! $Q^\star(s, a) = \mathbb E\big[r + \gamma \max_{a'} Q^\star(s', a')\big]$.
//!
//! **Key equation.** After each transition $(s, a, r, s', d)$, with $d$ = terminated:
//!
//! $$ Q(s, a) \leftarrow Q(s, a) + \alpha \big[ r + \gamma (1 - d) \max_{a'} Q(s', a') - Q(s, a) \big] $$
//!
//! A truncated step (time limit) is not terminal, so it still bootstraps from $s'$. With every
//! pair visited infinitely often and Robbins–Monro step sizes, $Q \to Q^\star$.
//!
//! **Pseudocode.**
//! ```text
//! Q ← 0
//! for each episode:
//!     s ← reset
//!     repeat:
//!         a ← ε-greedy(Q(s, ·))
//!         s', r, d, truncated ← step(a)
//!         Q(s, a) ← Q(s, a) + α [r + γ (1 − d) max_a' Q(s', a') − Q(s, a)]
//!         s ← s'
//!     until d or truncated
//! ```

use super::{Exploration, Policy, StepSize, greedy_action};
use crate::env::{Action, Env, EnvError, EnvRng, Space};
use rand::{RngExt, SeedableRng};

/// Hyperparameters of tabular TD control ([`q_learning`], [`sarsa`](super::sarsa)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TdConfig {
    /// Number of episodes to learn from.
    pub episodes: usize,
    /// Discount `γ`.
    pub gamma: f64,
    /// ε-greedy schedule.
    pub exploration: Exploration,
    /// `α` schedule.
    pub step_size: StepSize,
    /// Seeds both the environment (first reset) and the exploration.
    pub seed: u64,
}

/// `Q(s, a)` for every state–action pair, with update counts `n(s, a)`.
#[derive(Clone, Debug, PartialEq)]
pub struct QTable {
    num_actions: usize,
    values: Vec<f64>,
    visits: Vec<usize>,
}

impl QTable {
    /// All zeros.
    ///
    /// ```
    /// use wengert_rl::tabular::QTable;
    /// let q = QTable::new(16, 4);
    /// assert_eq!((q.get(3, 2), q.greedy_policy().len()), (0.0, 16));
    /// ```
    pub fn new(num_states: usize, num_actions: usize) -> Self {
        QTable {
            num_actions,
            values: vec![0.0; num_states * num_actions],
            visits: vec![0; num_states * num_actions],
        }
    }

    /// `Q(s, a)`.
    pub fn get(&self, s: usize, a: usize) -> f64 {
        self.values[s * self.num_actions + a]
    }

    /// `Q(s, ·)`.
    pub fn row(&self, s: usize) -> &[f64] {
        &self.values[s * self.num_actions..(s + 1) * self.num_actions]
    }

    /// `max_a Q(s, a)`.
    pub fn max(&self, s: usize) -> f64 {
        self.row(s)
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }

    /// `π(s) = argmax_a Q(s, a)` (lowest index among ties) for every state.
    pub fn greedy_policy(&self) -> Policy {
        (0..self.values.len() / self.num_actions)
            .map(|s| greedy_action(self.row(s)))
            .collect()
    }

    /// `Q(s, a) ← Q(s, a) + α (target − Q(s, a))`, with `α` for this pair's `n(s, a)`-th update.
    pub(crate) fn update(&mut self, s: usize, a: usize, target: f64, step_size: StepSize) {
        let index = s * self.num_actions + a;
        self.visits[index] += 1;
        let alpha = step_size.alpha(self.visits[index]);
        self.values[index] += alpha * (target - self.values[index]);
    }

    /// With probability `ε` a uniform action, else a greedy one with ties broken uniformly
    /// (so an all-zero table does not always pick action 0).
    pub(crate) fn epsilon_greedy(&self, s: usize, epsilon: f64, rng: &mut EnvRng) -> usize {
        if rng.random::<f64>() < epsilon {
            return rng.random_range(0..self.num_actions);
        }
        let best = self.max(s);
        let ties = self.row(s).iter().filter(|&&q| q == best).count();
        let chosen = rng.random_range(0..ties);
        self.row(s)
            .iter()
            .enumerate()
            .filter(|&(_, &q)| q == best)
            .nth(chosen)
            .map_or(0, |(a, _)| a)
    }
}

/// `(|S|, |A|)` of an environment with discrete observations and actions.
pub(crate) fn discrete_sizes<E: Env>(env: &E, algorithm: &str) -> Result<(usize, usize), EnvError> {
    match (env.observation_space(), env.action_space()) {
        (Space::Discrete { n: states }, Space::Discrete { n: actions }) => Ok((*states, *actions)),
        (observations, actions) => Err(EnvError::InvalidConfig(format!(
            "{algorithm} needs discrete observations and actions; {} has {observations} and {actions}",
            env.id()
        ))),
    }
}

/// Learns `Q` by Q-learning (see the module doc) on an environment with discrete observations
/// and actions. Deterministic for a given `config.seed`.
///
/// ```
/// use wengert_rl::env::{FrozenLake, TimeLimit};
/// use wengert_rl::tabular::{Exploration, StepSize, TdConfig, q_learning};
/// let mut env = TimeLimit::new(FrozenLake::four_by_four(false), 100);
/// let config = TdConfig {
///     episodes: 500,
///     gamma: 0.9,
///     exploration: Exploration { start: 1.0, end: 0.1, decay_episodes: 250 },
///     step_size: StepSize::Constant(0.5),
///     seed: 0,
/// };
/// let q = q_learning(&mut env, &config).unwrap();
/// assert!((q.max(14) - 1.0).abs() < 1e-6); // next to the goal: one step away
/// ```
// ANCHOR: q_learning
pub fn q_learning<E: Env>(env: &mut E, config: &TdConfig) -> Result<QTable, EnvError> {
    let (num_states, num_actions) = discrete_sizes(env, "Q-learning")?;
    let mut q = QTable::new(num_states, num_actions);
    let mut rng = EnvRng::seed_from_u64(config.seed);
    let mut observation = [0.0_f32];
    for episode in 0..config.episodes {
        let epsilon = config.exploration.epsilon(episode);
        env.reset_into((episode == 0).then_some(config.seed), &mut observation);
        let mut s = observation[0] as usize;
        loop {
            let a = q.epsilon_greedy(s, epsilon, &mut rng);
            let feedback = env.step_into(Action::Discrete(a), &mut observation)?;
            let s_next = observation[0] as usize;
            let bootstrap = if feedback.terminated {
                0.0
            } else {
                config.gamma * q.max(s_next)
            };
            q.update(s, a, feedback.reward + bootstrap, config.step_size);
            if feedback.terminated || feedback.truncated {
                break;
            }
            s = s_next;
        }
    }
    Ok(q)
}
// ANCHOR_END: q_learning

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{CartPole, FrozenLake, TimeLimit};
    use crate::tabular::{evaluate_policy_finite_horizon, value_iteration};

    /// Probability of reaching the goal within 100 steps from the start, computed exactly.
    fn success_rate(policy: &[usize]) -> f64 {
        let lake = FrozenLake::four_by_four(true);
        evaluate_policy_finite_horizon(lake.model(), policy, 1.0, 100)[0]
    }

    fn config() -> TdConfig {
        TdConfig {
            episodes: 20_000,
            gamma: 0.99,
            exploration: Exploration {
                start: 1.0,
                end: 0.05,
                decay_episodes: 10_000,
            },
            step_size: StepSize::PolynomialVisits { power: 0.6 },
            seed: 7,
        }
    }

    #[test]
    fn the_optimum_of_slippery_four_by_four_is_about_0_74() {
        let lake = FrozenLake::four_by_four(true);
        let optimal = value_iteration(lake.model(), 0.999, 1e-12);
        let rate = success_rate(&optimal.policy);
        assert!((0.73..0.75).contains(&rate), "{rate}");
    }

    #[test]
    fn learns_slippery_four_by_four_to_at_least_0_70() {
        let mut env = TimeLimit::new(FrozenLake::four_by_four(true), 100);
        let q = q_learning(&mut env, &config()).unwrap();
        let rate = success_rate(&q.greedy_policy());
        assert!(rate >= 0.70, "success rate {rate}");
        let again = q_learning(&mut env, &config()).unwrap();
        assert_eq!(q, again, "same seed, same table");
    }

    #[test]
    fn continuous_observations_are_refused() {
        let mut env = CartPole::new();
        let error = q_learning(&mut env, &config()).unwrap_err().to_string();
        assert!(error.contains("needs discrete observations"), "{error}");
    }
}
