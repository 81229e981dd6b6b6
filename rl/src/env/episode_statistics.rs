//! Gymnasium's `RecordEpisodeStatistics`: the return `G = Σ_t r_{t+1}` (undiscounted) and the
//! length of every finished episode.

use super::{Action, Env, EnvError, Feedback, Space};

/// The undiscounted return and length of one finished episode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Episode {
    /// `Σ_t r_{t+1}` over the episode.
    pub episode_return: f64,
    /// Number of steps.
    pub length: usize,
}

/// Records the return and length of every episode that finishes (terminated or truncated).
///
/// ```
/// use wengert_rl::env::{Action, CartPole, Env, EpisodeStatistics};
/// let mut env = EpisodeStatistics::new(CartPole::new());
/// env.reset(Some(0));
/// while !env.step(Action::Discrete(1)).unwrap().done() {}
/// let episode = env.episodes()[0];
/// assert_eq!(episode.episode_return, episode.length as f64); // +1 per step
/// ```
#[derive(Clone, Debug)]
pub struct EpisodeStatistics<E> {
    env: E,
    episode_return: f64,
    length: usize,
    episodes: Vec<Episode>,
}

impl<E: Env> EpisodeStatistics<E> {
    /// Wraps `env`.
    pub fn new(env: E) -> Self {
        EpisodeStatistics {
            env,
            episode_return: 0.0,
            length: 0,
            episodes: Vec::new(),
        }
    }

    /// Every finished episode, oldest first.
    pub fn episodes(&self) -> &[Episode] {
        &self.episodes
    }

    /// Takes the finished episodes recorded so far, leaving none.
    pub fn drain_episodes(&mut self) -> Vec<Episode> {
        std::mem::take(&mut self.episodes)
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }
}

impl<E: Env> Env for EpisodeStatistics<E> {
    fn id(&self) -> &str {
        self.env.id()
    }

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        self.episode_return = 0.0;
        self.length = 0;
        self.env.reset_into(seed, observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let feedback = self.env.step_into(action, observation)?;
        self.episode_return += feedback.reward;
        self.length += 1;
        if feedback.terminated || feedback.truncated {
            self.episodes.push(Episode {
                episode_return: self.episode_return,
                length: self.length,
            });
        }
        Ok(feedback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{MountainCar, TimeLimit};

    #[test]
    fn truncated_mountain_car_episodes_have_return_minus_200() {
        let mut env = EpisodeStatistics::new(TimeLimit::new(MountainCar::new(), 200));
        for seed in 0..3 {
            env.reset(Some(seed));
            while !env.step(Action::Discrete(1)).unwrap().done() {}
        }
        let episodes = env.drain_episodes();
        assert_eq!(
            episodes,
            vec![
                Episode {
                    episode_return: -200.0,
                    length: 200
                };
                3
            ]
        );
        assert!(env.episodes().is_empty());
    }
}
