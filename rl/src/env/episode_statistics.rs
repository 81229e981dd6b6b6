//! Gymnasium's `RecordEpisodeStatistics`: the return `G = Σ_t r_{t+1}` (undiscounted) and the
//! length of every finished episode.
//!
//! Its saved state ([`Env::save_state`]) is the wrapped environment's, followed by the running
//! return and length and the finished episodes not yet drained, so that a restored copy goes on
//! to record exactly the episodes the uninterrupted one records.

use super::{Action, Env, EnvError, EnvState, Feedback, Space};

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

    /// The wrapped environment's state; then the running return and the `k` finished
    /// episodes' returns appended to the reals, and the running length, the `k` lengths and `k`
    /// appended to the words.
    fn save_state(&self) -> Option<EnvState> {
        let mut state = self.env.save_state()?;
        state.reals.push(self.episode_return);
        state
            .reals
            .extend(self.episodes.iter().map(|e| e.episode_return));
        state.words.push(self.length as u64);
        state
            .words
            .extend(self.episodes.iter().map(|e| e.length as u64));
        state.words.push(self.episodes.len() as u64);
        Some(state)
    }

    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        let k = state.words.last().map_or(0, |&k| k as usize);
        // reals: inner…, G, G_1 … G_k;  words: inner…, length, length_1 … length_k, k
        let inner_reals = state
            .reals
            .len()
            .checked_sub(1)
            .and_then(|n| n.checked_sub(k));
        let inner_words = state
            .words
            .len()
            .checked_sub(2)
            .and_then(|n| n.checked_sub(k));
        let (Some(inner_reals), Some(inner_words)) = (inner_reals, inner_words) else {
            return Err(EnvError::InvalidConfig(format!(
                "a saved state of {} lacks the episode statistics: {} reals and {} words \
                 cannot hold a running episode and {k} finished ones",
                self.env.id(),
                state.reals.len(),
                state.words.len()
            )));
        };
        let (inner_reals, reals) = state.reals.split_at(inner_reals);
        let (inner_words, words) = state.words.split_at(inner_words);
        self.env.load_state(&EnvState {
            reals: inner_reals.to_vec(),
            words: inner_words.to_vec(),
        })?;
        self.episode_return = reals[0];
        self.length = words[0] as usize;
        self.episodes = reals[1..]
            .iter()
            .zip(&words[1..=k])
            .map(|(&episode_return, &length)| Episode {
                episode_return,
                length: length as usize,
            })
            .collect();
        Ok(())
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
    use crate::env::frozen_lake::assert_continues_alike;
    use crate::env::{CartPole, FrozenLake, MountainCar, TimeLimit, make};

    #[test]
    fn restored_statistics_record_the_same_episodes() {
        let mut env = EpisodeStatistics::new(make("FrozenLake-v1").unwrap());
        env.reset(Some(2));
        let mut copy = EpisodeStatistics::new(make("FrozenLake-v1").unwrap());
        // Save mid-episode with some finished episodes not yet drained.
        let mut done = 0;
        while done < 3 || env.length == 0 {
            if env.step(Action::Discrete(2)).unwrap().done() {
                env.reset(None);
                done += 1;
            }
        }
        let saved = env.save_state().unwrap();
        copy.load_state(&saved).unwrap();
        assert_eq!(copy.episodes(), env.episodes());
        assert_eq!(copy.save_state().unwrap(), saved);
        assert!(assert_continues_alike(&mut env, &mut copy, 3000) > 100);
        assert_eq!(env.drain_episodes(), copy.drain_episodes());
    }

    #[test]
    fn statistics_of_a_classic_control_env_resume_mid_episode() {
        let mut env = EpisodeStatistics::new(TimeLimit::new(CartPole::new(), 500));
        env.reset(Some(9));
        for _ in 0..5 {
            env.step(Action::Discrete(1)).unwrap();
        }
        let mut copy = EpisodeStatistics::new(TimeLimit::new(CartPole::new(), 500));
        copy.load_state(&env.save_state().unwrap()).unwrap();
        assert_continues_alike(&mut env, &mut copy, 2000);
        assert!(env.episodes().len() > 20);
        assert_eq!(env.episodes(), copy.episodes());
    }

    #[test]
    fn damaged_statistics_are_an_error_and_change_nothing() {
        let mut env = EpisodeStatistics::new(FrozenLake::four_by_four(false));
        env.reset(Some(0));
        while !env.step(Action::Discrete(1)).unwrap().done() {} // down into the hole at 12
        let saved = env.save_state().unwrap();
        let mut copy = EpisodeStatistics::new(FrozenLake::four_by_four(false));
        let mut too_many = saved.clone();
        *too_many.words.last_mut().unwrap() = 40;
        let message = copy.load_state(&too_many).unwrap_err().to_string();
        assert!(
            message.contains("episode statistics") && message.contains("40 finished"),
            "{message}"
        );
        let no_words = EnvState {
            words: vec![],
            ..saved.clone()
        };
        assert!(copy.load_state(&no_words).is_err());
        let mut inner_damaged = saved;
        inner_damaged.reals[0] = -1.0;
        let message = copy.load_state(&inner_damaged).unwrap_err().to_string();
        assert!(message.contains("cell -1"), "{message}");
        assert!(copy.episodes().is_empty());
    }

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
