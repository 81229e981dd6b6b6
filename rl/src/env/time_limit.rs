//! Gymnasium's `TimeLimit` wrapper: an episode that reaches `max_episode_steps` steps without
//! terminating is **truncated** — the state is not terminal, so learners bootstrap from it.

use super::{Action, Env, EnvError, EnvState, Feedback, Space};

/// Truncates episodes after `max_episode_steps` steps.
///
/// ```
/// use wengert_rl::env::{Action, Env, Pendulum, TimeLimit};
/// let mut env = TimeLimit::new(Pendulum::new(), 3);
/// env.reset(Some(0));
/// let torque = [0.0_f32];
/// assert!(!env.step(Action::Continuous(&torque)).unwrap().truncated);
/// assert!(!env.step(Action::Continuous(&torque)).unwrap().truncated);
/// let last = env.step(Action::Continuous(&torque)).unwrap();
/// assert!(last.truncated && !last.terminated);
/// assert!(env.step(Action::Continuous(&torque)).is_err()); // finished: reset first
/// ```
#[derive(Clone, Debug)]
pub struct TimeLimit<E> {
    env: E,
    max_episode_steps: usize,
    elapsed_steps: usize,
    finished: bool,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `env`; panics if `max_episode_steps` is zero.
    pub fn new(env: E, max_episode_steps: usize) -> Self {
        assert!(
            max_episode_steps > 0,
            "TimeLimit::new: max_episode_steps must be at least 1"
        );
        TimeLimit {
            env,
            max_episode_steps,
            elapsed_steps: 0,
            finished: false,
        }
    }

    /// Steps taken in the current episode.
    pub fn elapsed_steps(&self) -> usize {
        self.elapsed_steps
    }

    /// The limit.
    pub fn max_episode_steps(&self) -> usize {
        self.max_episode_steps
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped environment, mutably (e.g. to set its physical state).
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn id(&self) -> &str {
        self.env.id()
    }

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    /// The wrapped environment's state, then `elapsed_steps` and `finished`.
    fn save_state(&self) -> Option<EnvState> {
        let mut state = self.env.save_state()?;
        state
            .words
            .extend([self.elapsed_steps as u64, self.finished as u64]);
        Some(state)
    }

    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        let n = state.words.len();
        if n < 2 {
            return Err(EnvError::InvalidConfig(format!(
                "a saved state of {} lacks the time limit's counter",
                self.env.id()
            )));
        }
        let inner = EnvState {
            reals: state.reals.clone(),
            words: state.words[..n - 2].to_vec(),
        };
        self.env.load_state(&inner)?;
        self.elapsed_steps = state.words[n - 2] as usize;
        self.finished = state.words[n - 1] == 1;
        Ok(())
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        self.elapsed_steps = 0;
        self.finished = false;
        self.env.reset_into(seed, observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        if self.finished {
            return Err(EnvError::NeedsReset {
                id: self.env.id().to_string(),
                finished: true,
            });
        }
        let mut feedback = self.env.step_into(action, observation)?;
        self.elapsed_steps += 1;
        if self.elapsed_steps >= self.max_episode_steps {
            feedback.truncated = true;
        }
        self.finished = feedback.terminated || feedback.truncated;
        Ok(feedback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::CartPole;

    #[test]
    fn cartpole_balanced_by_a_simple_controller_is_truncated_at_500() {
        let mut env = TimeLimit::new(CartPole::new(), 500);
        let mut observation = env.reset(Some(3));
        let mut steps = 0;
        loop {
            // Push towards the side the pole leans to, damped by its angular velocity.
            let action = usize::from(observation[2] + 0.5 * observation[3] > 0.0);
            let step = env.step(Action::Discrete(action)).unwrap();
            steps += 1;
            if step.done() {
                assert!(step.truncated && !step.terminated);
                break;
            }
            observation = step.observation;
        }
        assert_eq!(steps, 500);
        env.reset(None);
        assert_eq!(env.elapsed_steps(), 0);
    }

    #[test]
    fn termination_before_the_limit_is_not_truncation() {
        let mut env = TimeLimit::new(CartPole::new(), 500);
        env.reset(Some(0));
        let step = loop {
            let step = env.step(Action::Discrete(0)).unwrap();
            if step.done() {
                break step;
            }
        };
        assert!(step.terminated && !step.truncated);
    }
}
