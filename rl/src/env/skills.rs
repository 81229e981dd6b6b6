//! # Skill-conditioned observations (DIAYN's `π(a | s, z)`)
//!
//! Unsupervised skill discovery (DIAYN, Eysenbach et al., 2018) draws a skill
//! `z ~ p(z) = U{0, …, K−1}` at the start of every episode and keeps it fixed until the episode
//! ends; the policy, the critics and the replay buffer all see `[s; one_hot(z)]`. This wrapper
//! does exactly that: at every reset it draws `z` from its own generator (seeded with the
//! reset's seed), and appends `one_hot(z)` to every observation. Rewards and termination are the
//! wrapped environment's. With a fixed skill (`K:z`), every episode runs skill `z` (to look at
//! what one skill does).
//!
//! Since the skill lives in the environment, everything that saves an environment saves it
//! too, and any off-policy loop trains a skill-conditioned agent unchanged.

use ndarray::Array2;
use rand::{RngExt, SeedableRng};

use super::{Action, BoxSpace, Env, EnvError, EnvRng, EnvState, Feedback, PhysicalState, Space};

/// Mixed into the reset's seed for the skills' generator.
const SKILL_STREAM: u64 = 0x9E37_79B9_7F4A_7C15;

/// Appends `one_hot(z)` to the observations of `env`, with `z ~ U{0, …, K−1}` drawn per
/// episode (or fixed).
///
/// ```
/// use wengert_rl::env::{make, Action, Env, SkillConditioned};
/// let mut env = SkillConditioned::new(make("PointNavigation-v0").unwrap(), 4, None).unwrap();
/// let observation = env.reset(Some(0));
/// assert_eq!(observation.len(), 4 + 4);
/// assert_eq!(observation[4..].iter().sum::<f32>(), 1.0);
/// assert_eq!(observation[4 + env.skill()], 1.0);
/// let mut third = make("PointNavigation-v0+skills=4:2").unwrap();
/// assert_eq!(&third.reset(Some(0))[4..], &[0.0, 0.0, 1.0, 0.0]);
/// ```
pub struct SkillConditioned<E> {
    env: E,
    skills: usize,
    fixed: Option<usize>,
    skill: usize,
    rng: EnvRng,
    observation_space: Space,
}

impl<E: Env> SkillConditioned<E> {
    /// `K = skills` skills, drawn per episode, or always `fixed`; an error if `K = 0` or the
    /// fixed skill is not below `K`, or if the observations are not a box.
    pub fn new(env: E, skills: usize, fixed: Option<usize>) -> Result<Self, EnvError> {
        let Space::Box(bounds) = env.observation_space() else {
            return Err(EnvError::InvalidConfig(format!(
                "skills need a box of observations; {} has {}",
                env.id(),
                env.observation_space()
            )));
        };
        if skills == 0 || fixed.is_some_and(|z| z >= skills) {
            return Err(EnvError::InvalidConfig(format!(
                "skills: K must be at least 1 and a fixed skill z below K; found K = {skills}, z = {fixed:?}"
            )));
        }
        let mut low = bounds.low.clone();
        let mut high = bounds.high.clone();
        low.extend(std::iter::repeat_n(0.0, skills));
        high.extend(std::iter::repeat_n(1.0, skills));
        Ok(SkillConditioned {
            env,
            skills,
            fixed,
            skill: fixed.unwrap_or(0),
            rng: EnvRng::seed_from_u64(0),
            observation_space: Space::Box(BoxSpace::new(low, high)),
        })
    }

    /// What follows `+skills=` in a wrapped id: `K` or `K:z`.
    pub fn from_wrapper(env: E, text: &str) -> Result<Self, EnvError> {
        let bad = || EnvError::InvalidConfig(format!("skills: `{text}` is not K or K:z"));
        let (skills, fixed) = match text.split_once(':') {
            Some((k, z)) => (k, Some(z.parse::<usize>().map_err(|_| bad())?)),
            None => (text, None),
        };
        Self::new(env, skills.parse().map_err(|_| bad())?, fixed)
    }

    /// The current episode's skill `z`.
    pub fn skill(&self) -> usize {
        self.skill
    }

    /// `K`.
    pub fn skills(&self) -> usize {
        self.skills
    }

    fn write_one_hot(&self, observation: &mut [f32]) {
        let tail = observation.len() - self.skills;
        observation[tail..].fill(0.0);
        observation[tail + self.skill] = 1.0;
    }
}

/// Splits skill-conditioned observations `[s; one_hot(z)]` `(B, d + K)` into the states `s`
/// `(B, d)` and the skills `z`: what [`SkillConditioned`] observed, taken apart.
///
/// ```
/// use wengert_rl::env::split_skills;
/// let rows = ndarray::array![[0.5_f32, 0.0, 1.0], [0.7, 1.0, 0.0]];
/// let (states, skills) = split_skills(&rows, 2);
/// assert_eq!((states, skills), (ndarray::array![[0.5_f32], [0.7]], vec![1, 0]));
/// ```
pub fn split_skills(observations: &Array2<f32>, skills: usize) -> (Array2<f32>, Vec<usize>) {
    let d = observations.ncols() - skills;
    let states = observations.slice(ndarray::s![.., ..d]).to_owned();
    let z = observations
        .rows()
        .into_iter()
        .map(|row| (d..row.len()).find(|&j| row[j] == 1.0).map_or(0, |j| j - d))
        .collect();
    (states, z)
}

/// The wrapped environment's physical state (the skill is not part of it).
impl<E: Env + PhysicalState> PhysicalState for SkillConditioned<E> {
    type State = E::State;

    fn state(&self) -> E::State {
        self.env.state()
    }

    fn set_state(&mut self, state: E::State) {
        self.env.set_state(state);
    }
}

impl<E: Env> Env for SkillConditioned<E> {
    fn id(&self) -> &str {
        self.env.id()
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let inner = observation.len() - self.skills;
        self.env.reset_into(seed, &mut observation[..inner]);
        if let Some(seed) = seed {
            // A stream apart from the wrapped environment's (seeded with `seed` itself).
            self.rng = EnvRng::seed_from_u64(seed ^ SKILL_STREAM);
        }
        let drawn = self.rng.random_range(0..self.skills);
        self.skill = self.fixed.unwrap_or(drawn);
        self.write_one_hot(observation);
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let inner = observation.len() - self.skills;
        let feedback = self.env.step_into(action, &mut observation[..inner])?;
        self.write_one_hot(observation);
        Ok(feedback)
    }

    /// The wrapped environment's state, then `z` and the generator's four words.
    fn save_state(&self) -> Option<EnvState> {
        let mut state = self.env.save_state()?;
        state.words.push(self.skill as u64);
        state.words.extend(super::rng_words(&self.rng));
        Some(state)
    }

    fn load_state(&mut self, state: &EnvState) -> Result<(), EnvError> {
        let n = state.words.len();
        if n < 5 {
            return Err(EnvError::InvalidConfig(format!(
                "a saved state of skill-conditioned {} lacks the skill",
                self.env.id()
            )));
        }
        self.env.load_state(&EnvState {
            reals: state.reals.clone(),
            words: state.words[..n - 5].to_vec(),
        })?;
        self.skill = state.words[n - 5] as usize;
        let bytes: Vec<u8> = state.words[n - 4..]
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .collect();
        self.rng = EnvRng::from_seed(bytes.try_into().expect("32 bytes"));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::make;

    #[test]
    fn skills_are_drawn_per_episode_uniformly_and_kept_through_it() {
        let mut env = make("PointNavigation-v0+skills=4").unwrap();
        let mut counts = [0; 4];
        env.reset(Some(1));
        for _ in 0..400 {
            let mut skill = None;
            loop {
                let step = env.step(Action::Continuous(&[1.0, 1.0])).unwrap();
                let z = step.observation[4..].iter().position(|&v| v == 1.0);
                assert!(skill.is_none() || skill == z);
                skill = z;
                if step.done() {
                    break;
                }
            }
            counts[skill.unwrap()] += 1;
            env.reset(None);
        }
        assert!(counts.iter().all(|&c| (60..140).contains(&c)), "{counts:?}");
    }

    #[test]
    fn a_saved_skill_conditioned_environment_continues_bit_for_bit() {
        let id = "MountainCarContinuous-v0+skills=10";
        let mut env = make(id).unwrap();
        env.reset(Some(2));
        let mut copy = make(id).unwrap();
        copy.load_state(&env.save_state().unwrap()).unwrap();
        for _ in 0..3000 {
            let (a, b) = (
                env.step(Action::Continuous(&[0.5])).unwrap(),
                copy.step(Action::Continuous(&[0.5])).unwrap(),
            );
            assert_eq!(a, b);
            if a.done() {
                assert_eq!(env.reset(None), copy.reset(None));
            }
        }
        assert!(make("CartPole-v1+skills=0").is_err());
        assert!(make("Pendulum-v1+skills=3:3").is_err());
        assert!(make("Pendulum-v1+color=red").is_err());
    }
}
