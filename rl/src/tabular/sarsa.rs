//! # Tabular SARSA
//!
//! **Background.** SARSA (Rummery & Niranjan, 1994) is on-policy temporal-difference control:
//! it evaluates the ε-greedy policy it follows, by stochastic approximation of the Bellman
//! expectation equation $Q^\pi(s, a) = \mathbb E\big[r + \gamma Q^\pi(s', a')\big]$ with
//! $a' \sim \pi(\cdot \mid s')$, while $\pi$ keeps being ε-greedy in the current $Q$. As
//! $\varepsilon \to 0$ (GLIE) it converges to $Q^\star$.
//!
//! **Key equation.** For each quintuple $(s, a, r, s', a')$, $d$ = terminated:
//!
//! $$ Q(s, a) \leftarrow Q(s, a) + \alpha \big[ r + \gamma (1 - d) Q(s', a') - Q(s, a) \big] $$
//!
//! **Pseudocode.**
//! ```text
//! Q ← 0
//! for each episode:
//!     s ← reset;  a ← ε-greedy(Q(s, ·))
//!     repeat:
//!         s', r, d, truncated ← step(a)
//!         a' ← ε-greedy(Q(s', ·))
//!         Q(s, a) ← Q(s, a) + α [r + γ (1 − d) Q(s', a') − Q(s, a)]
//!         s, a ← s', a'
//!     until d or truncated
//! ```

use super::q_learning::discrete_sizes;
use super::{QTable, TdConfig};
use crate::env::{Action, Env, EnvError, EnvRng};
use rand::SeedableRng;

/// Learns `Q` by SARSA (see the module doc) on an environment with discrete observations and
/// actions. Deterministic for a given `config.seed`.
///
/// ```
/// use wengert_rl::env::{FrozenLake, TimeLimit};
/// use wengert_rl::tabular::{Exploration, StepSize, TdConfig, sarsa};
/// let mut env = TimeLimit::new(FrozenLake::from_map("SFFG", false).unwrap(), 20);
/// let config = TdConfig {
///     episodes: 300,
///     gamma: 0.9,
///     exploration: Exploration { start: 0.5, end: 0.0, decay_episodes: 200 },
///     step_size: StepSize::Constant(0.5),
///     seed: 1,
/// };
/// let q = sarsa(&mut env, &config).unwrap();
/// assert_eq!(q.greedy_policy()[..3], [2, 2, 2]); // always right
/// ```
pub fn sarsa<E: Env>(env: &mut E, config: &TdConfig) -> Result<QTable, EnvError> {
    let (num_states, num_actions) = discrete_sizes(env, "SARSA")?;
    let mut q = QTable::new(num_states, num_actions);
    let mut rng = EnvRng::seed_from_u64(config.seed);
    let mut observation = [0.0_f32];
    for episode in 0..config.episodes {
        let epsilon = config.exploration.epsilon(episode);
        env.reset_into((episode == 0).then_some(config.seed), &mut observation);
        let mut s = observation[0] as usize;
        let mut a = q.epsilon_greedy(s, epsilon, &mut rng);
        loop {
            let feedback = env.step_into(Action::Discrete(a), &mut observation)?;
            let s_next = observation[0] as usize;
            let a_next = q.epsilon_greedy(s_next, epsilon, &mut rng);
            let bootstrap = if feedback.terminated {
                0.0
            } else {
                config.gamma * q.get(s_next, a_next)
            };
            q.update(s, a, feedback.reward + bootstrap, config.step_size);
            if feedback.terminated || feedback.truncated {
                break;
            }
            (s, a) = (s_next, a_next);
        }
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{FrozenLake, TimeLimit};
    use crate::tabular::{Exploration, StepSize, evaluate_policy_finite_horizon};

    #[test]
    fn learns_a_good_policy_on_slippery_four_by_four() {
        let mut env = TimeLimit::new(FrozenLake::four_by_four(true), 100);
        let config = TdConfig {
            episodes: 20_000,
            gamma: 0.99,
            exploration: Exploration {
                start: 1.0,
                end: 0.01,
                decay_episodes: 15_000,
            },
            step_size: StepSize::PolynomialVisits { power: 0.6 },
            seed: 3,
        };
        let q = sarsa(&mut env, &config).unwrap();
        let lake = FrozenLake::four_by_four(true);
        let rate = evaluate_policy_finite_horizon(lake.model(), &q.greedy_policy(), 1.0, 100)[0];
        assert!(rate >= 0.70, "success rate {rate}");
    }
}
