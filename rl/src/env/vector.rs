//! # Vectorised environments
//!
//! `N` copies of an environment stepped together, as Gymnasium's `SyncVectorEnv` /
//! `AsyncVectorEnv`: one batched action in, batched arrays out, optionally spread over several
//! threads. Each copy auto-resets in the same step its episode ends ("same-step" auto-reset):
//!
//! - `observations[i]` is what the agent acts on next — the first observation of the new
//!   episode if copy `i` just finished, else `o_{t+1}`;
//! - `final_observations[i]` is always `o_{t+1}` before any reset. A learner bootstraps from it
//!   when `truncated[i]` (the state was not terminal) and never when `terminated[i]`:
//!   `target_i = r_i + γ (1 − terminated_i) V(final_observations_i)`.
//!
//! Copy `i` is seeded with `seed + i` by [`VectorEnv::reset`]; auto-resets continue each copy's
//! own random stream, so a seed fixes the whole run whatever the number of threads.

use super::{Action, Env, EnvError, EnvState, Episode, Space};
use crate::snapshot::{Resumable, StateError, TrainingState};
use ndarray::{Array1, Array2};

/// One batched action: one per copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VectorActions<'a> {
    /// `actions[i]` for copy `i`.
    Discrete(&'a [usize]),
    /// Row-major `N × d`: `actions[i·d .. (i+1)·d]` for copy `i`.
    Continuous(&'a [f32]),
}

/// The batched result of one step (see the module doc for the auto-reset rule).
#[derive(Clone, Debug, PartialEq)]
pub struct VectorStep {
    /// `N × obs_dim`: the observations to act on next.
    pub observations: Array2<f32>,
    /// `N × obs_dim`: `o_{t+1}` of every copy before any auto-reset.
    pub final_observations: Array2<f32>,
    /// `r_{t+1}` of every copy.
    pub rewards: Array1<f64>,
    /// Copy `i` reached a terminal state (and was reset).
    pub terminated: Vec<bool>,
    /// Copy `i` was truncated (and was reset).
    pub truncated: Vec<bool>,
    /// `(i, episode)` for every copy whose episode finished in this step.
    pub finished_episodes: Vec<(usize, Episode)>,
}

/// One copy and its running episode statistics.
struct Slot<E> {
    env: E,
    observation: Vec<f32>,
    final_observation: Vec<f32>,
    reward: f64,
    terminated: bool,
    truncated: bool,
    episode_return: f64,
    episode_length: usize,
    finished: Option<Episode>,
    error: Option<EnvError>,
}

impl<E: Env> Slot<E> {
    fn step(&mut self, action: Action<'_>) {
        self.finished = None;
        match self.env.step_into(action, &mut self.final_observation) {
            Ok(feedback) => {
                self.reward = feedback.reward;
                self.terminated = feedback.terminated;
                self.truncated = feedback.truncated;
                self.episode_return += feedback.reward;
                self.episode_length += 1;
                if feedback.terminated || feedback.truncated {
                    self.finished = Some(Episode {
                        episode_return: self.episode_return,
                        length: self.episode_length,
                    });
                    self.episode_return = 0.0;
                    self.episode_length = 0;
                    self.env.reset_into(None, &mut self.observation);
                } else {
                    self.observation.copy_from_slice(&self.final_observation);
                }
            }
            Err(error) => self.error = Some(error),
        }
    }
}

/// `N` copies of an environment with auto-reset (see the module doc).
///
/// ```
/// use wengert_rl::env::{make, VectorActions, VectorEnv};
/// let mut envs = VectorEnv::new((0..4).map(|_| make("CartPole-v1").unwrap()).collect(), 2).unwrap();
/// let observations = envs.reset(Some(0));
/// assert_eq!(observations.dim(), (4, 4));
/// let step = envs.step(VectorActions::Discrete(&[0, 1, 0, 1])).unwrap();
/// assert_eq!(step.rewards.to_vec(), vec![1.0; 4]);
/// assert!(envs.step(VectorActions::Discrete(&[0, 1])).is_err()); // 2 actions for 4 copies
/// ```
pub struct VectorEnv<E> {
    slots: Vec<Slot<E>>,
    pool: Option<rayon::ThreadPool>,
    observation_space: Space,
    action_space: Space,
    was_reset: bool,
}

impl<E: Env + Send> VectorEnv<E> {
    /// `envs` stepped on `num_threads` threads (1: on the caller's thread). All copies must have
    /// the same spaces.
    pub fn new(envs: Vec<E>, num_threads: usize) -> Result<Self, EnvError> {
        let first = envs
            .first()
            .ok_or_else(|| EnvError::InvalidConfig("VectorEnv::new: no environments".into()))?;
        let (observation_space, action_space) = (
            first.observation_space().clone(),
            first.action_space().clone(),
        );
        if let Some(other) = envs.iter().find(|e| {
            *e.observation_space() != observation_space || *e.action_space() != action_space
        }) {
            return Err(EnvError::InvalidConfig(format!(
                "VectorEnv::new: {} has spaces {} / {}, but the first copy has {observation_space} / {action_space}",
                other.id(),
                other.observation_space(),
                other.action_space()
            )));
        }
        let pool = if num_threads > 1 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(num_threads)
                .build();
            Some(pool.map_err(|error| {
                EnvError::InvalidConfig(format!("VectorEnv::new: cannot start threads: {error}"))
            })?)
        } else {
            None
        };
        let dim = observation_space.dim();
        let slots = envs
            .into_iter()
            .map(|env| Slot {
                env,
                observation: vec![0.0; dim],
                final_observation: vec![0.0; dim],
                reward: 0.0,
                terminated: false,
                truncated: false,
                episode_return: 0.0,
                episode_length: 0,
                finished: None,
                error: None,
            })
            .collect();
        Ok(VectorEnv {
            slots,
            pool,
            observation_space,
            action_space,
            was_reset: false,
        })
    }

    /// Number of copies `N`.
    pub fn num_envs(&self) -> usize {
        self.slots.len()
    }

    /// The space of one copy's observation.
    pub fn single_observation_space(&self) -> &Space {
        &self.observation_space
    }

    /// The space of one copy's action.
    pub fn single_action_space(&self) -> &Space {
        &self.action_space
    }

    /// Resets every copy (copy `i` with `seed + i`) and returns the `N × obs_dim` observations.
    pub fn reset(&mut self, seed: Option<u64>) -> Array2<f32> {
        for (i, slot) in self.slots.iter_mut().enumerate() {
            slot.env.reset_into(
                seed.map(|seed| seed.wrapping_add(i as u64)),
                &mut slot.observation,
            );
            slot.episode_return = 0.0;
            slot.episode_length = 0;
        }
        self.was_reset = true;
        self.gather(|slot| &slot.observation)
    }

    /// Steps every copy with its action, auto-resetting finished copies.
    pub fn step(&mut self, actions: VectorActions<'_>) -> Result<VectorStep, EnvError> {
        let n = self.slots.len();
        if !self.was_reset {
            return Err(EnvError::NeedsReset {
                id: format!("VectorEnv of {}", self.slots[0].env.id()),
                finished: false,
            });
        }
        let dim = match actions {
            VectorActions::Discrete(a) if a.len() == n => 0,
            VectorActions::Continuous(a) if n > 0 && a.len() % n == 0 => a.len() / n,
            _ => {
                let count = match actions {
                    VectorActions::Discrete(a) => a.len(),
                    VectorActions::Continuous(a) => a.len(),
                };
                return Err(EnvError::InvalidConfig(format!(
                    "VectorEnv::step: {count} action values for {n} copies of {}; expected one action per copy",
                    self.slots[0].env.id()
                )));
            }
        };
        let action_of = |i: usize| match actions {
            VectorActions::Discrete(a) => Action::Discrete(a[i]),
            VectorActions::Continuous(a) => Action::Continuous(&a[i * dim..(i + 1) * dim]),
        };
        match &self.pool {
            Some(pool) => {
                use rayon::prelude::*;
                let chunk = n.div_ceil(pool.current_num_threads());
                pool.install(|| {
                    self.slots
                        .par_chunks_mut(chunk)
                        .enumerate()
                        .for_each(|(c, slots)| {
                            for (j, slot) in slots.iter_mut().enumerate() {
                                slot.step(action_of(c * chunk + j));
                            }
                        })
                });
            }
            None => self
                .slots
                .iter_mut()
                .enumerate()
                .for_each(|(i, slot)| slot.step(action_of(i))),
        }
        if let Some(error) = self.slots.iter_mut().find_map(|slot| slot.error.take()) {
            self.slots.iter_mut().for_each(|slot| slot.error = None);
            return Err(error);
        }
        Ok(VectorStep {
            observations: self.gather(|slot| &slot.observation),
            final_observations: self.gather(|slot| &slot.final_observation),
            rewards: self.slots.iter().map(|slot| slot.reward).collect(),
            terminated: self.slots.iter().map(|slot| slot.terminated).collect(),
            truncated: self.slots.iter().map(|slot| slot.truncated).collect(),
            finished_episodes: self
                .slots
                .iter()
                .enumerate()
                .filter_map(|(i, slot)| Some((i, slot.finished?)))
                .collect(),
        })
    }

    /// What the agent acts on next: the last observations [`VectorEnv::reset`] or
    /// [`VectorEnv::step`] returned, `(N, obs_dim)`.
    pub fn observations(&self) -> Array2<f32> {
        self.gather(|slot| &slot.observation)
    }

    fn gather(&self, row: impl Fn(&Slot<E>) -> &Vec<f32>) -> Array2<f32> {
        let dim = self.observation_space.dim();
        let flat: Vec<f32> = self
            .slots
            .iter()
            .flat_map(|slot| row(slot).iter().copied())
            .collect();
        Array2::from_shape_vec((self.slots.len(), dim), flat).expect("every row has obs_dim values")
    }
}

/// Each copy's environment state ([`Env::save_state`]), its running episode return and length,
/// and the observations the agent acts on next (`name.observations`, what
/// [`VectorEnv::observations`] returns after a restore).
impl<E: Env + Send> Resumable for VectorEnv<E> {
    fn save(&self, name: &str, state: &mut TrainingState) {
        for (i, slot) in self.slots.iter().enumerate() {
            if let Some(saved) = slot.env.save_state() {
                state.put_f64(format!("{name}.{i}.reals"), saved.reals);
                state.put_u64(format!("{name}.{i}.words"), saved.words);
            }
            state.put_f64(
                format!("{name}.{i}.episode"),
                vec![slot.episode_return, slot.episode_length as f64],
            );
        }
        let observations = self.observations();
        let shape = observations.shape().to_vec();
        state.put_f32(
            format!("{name}.observations"),
            &shape,
            observations.into_raw_vec_and_offset().0,
        );
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let dim = self.observation_space.dim();
        let key = format!("{name}.observations");
        let observations = state.f32s(&key, Some(&[self.slots.len(), dim]))?;
        for (i, slot) in self.slots.iter_mut().enumerate() {
            let words_key = format!("{name}.{i}.words");
            let saved = EnvState {
                reals: state.f64s(&format!("{name}.{i}.reals"), None)?,
                words: state.u64s(&words_key, None)?,
            };
            slot.env
                .load_state(&saved)
                .map_err(|e| StateError::new(&words_key, e.to_string()))?;
            let episode = state.f64s(&format!("{name}.{i}.episode"), Some(2))?;
            slot.episode_return = episode[0];
            slot.episode_length = episode[1] as usize;
            slot.observation = observations.slice(ndarray::s![i, ..]).to_vec();
        }
        self.was_reset = true;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{CartPole, Pendulum, TimeLimit};

    fn run(num_threads: usize) -> (Vec<f32>, Vec<(usize, Episode)>) {
        let envs = (0..5)
            .map(|_| TimeLimit::new(CartPole::new(), 500))
            .collect();
        let mut envs = VectorEnv::new(envs, num_threads).unwrap();
        envs.reset(Some(10));
        let mut episodes = Vec::new();
        let mut last = Vec::new();
        for t in 0..200 {
            let actions: Vec<usize> = (0..5).map(|i| (t / (i + 1)) % 2).collect();
            let step = envs.step(VectorActions::Discrete(&actions)).unwrap();
            episodes.extend(step.finished_episodes);
            last = step.observations.iter().copied().collect();
        }
        (last, episodes)
    }

    #[test]
    fn threads_do_not_change_the_result() {
        let (sequential, episodes) = run(1);
        assert!(episodes.len() > 5);
        assert_eq!(run(2), (sequential, episodes));
    }

    #[test]
    fn auto_reset_keeps_the_final_observation() {
        let mut envs = VectorEnv::new(vec![CartPole::new(), CartPole::new()], 1).unwrap();
        envs.reset(Some(0));
        loop {
            let step = envs.step(VectorActions::Discrete(&[0, 0])).unwrap();
            if step.terminated[0] {
                assert!(step.final_observations[[0, 2]].abs() > 0.2); // the pole fell
                assert!(step.observations[[0, 2]].abs() <= 0.05); // a fresh episode
                assert_eq!(step.finished_episodes[0].0, 0);
                break;
            }
            assert_eq!(step.final_observations, step.observations);
        }
    }

    #[test]
    fn continuous_actions_are_split_per_copy() {
        let mut envs = VectorEnv::new(vec![Pendulum::new(), Pendulum::new()], 1).unwrap();
        assert!(envs.step(VectorActions::Continuous(&[0.0, 0.0])).is_err()); // not reset yet
        envs.reset(Some(0));
        let step = envs.step(VectorActions::Continuous(&[2.0, -2.0])).unwrap();
        assert_eq!(step.rewards.len(), 2);
        assert!(
            envs.step(VectorActions::Continuous(&[0.0, 0.0, 0.0]))
                .is_err()
        );
    }
}
