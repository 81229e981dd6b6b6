//! n-step transitions for one environment.

use super::Transition;
use super::replay::{ActionShape, StoredActions};
use crate::env::{Action, VectorActions, VectorStep};
use crate::snapshot::{Resumable, StateError, TrainingState};
use ndarray::Array2;

/// One environment step as the agent saw it: `(o_t, a_t, r_{t+1}, o_{t+1}, terminated,
/// truncated)`, with `o_{t+1}` taken before any auto-reset.
///
/// ```
/// use wengert_rl::buffers::Experience;
/// use wengert_rl::env::Action;
/// let step = Experience {
///     observation: &[0.0],
///     action: Action::Discrete(1),
///     reward: 1.0,
///     next_observation: &[1.0],
///     terminated: false,
///     truncated: true,
/// };
/// assert!(step.truncated && !step.terminated);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Experience<'a> {
    /// `o_t`.
    pub observation: &'a [f32],
    /// `a_t`.
    pub action: Action<'a>,
    /// `r_{t+1}`.
    pub reward: f64,
    /// `o_{t+1}`, before any auto-reset.
    pub next_observation: &'a [f32],
    /// `o_{t+1}` is terminal.
    pub terminated: bool,
    /// The episode was cut (time limit) at `o_{t+1}`, which is not terminal.
    pub truncated: bool,
}

/// Turns one environment's stream of 1-step experiences into n-step transitions
/// (Sutton & Barto §7.1; used by DQN variants such as Rainbow):
///
/// `(o_t, a_t, R_t^{(m)} = Σ_{k<m} γ^k r_{t+k+1}, o_{t+m}, terminated, γ^m)`,
///
/// with `m = n` inside an episode. The learner's target is then
/// `y = R_t^{(m)} + γ^m (1 − terminated) max_a Q'(o_{t+m}, a)`.
///
/// The accumulator holds the last `n` steps of the current episode. Once it holds `n`, each
/// new step completes the window of the oldest one, which is emitted (`m = n`,
/// `terminated = false`) and dropped. When the episode ends at `o_{t+1}` — terminated or
/// truncated — every window still open is emitted, cut short at the episode's end: the window
/// starting `m` steps before the end sums `m` rewards and bootstraps with `γ^m` from the final
/// observation, unless the episode terminated. The accumulator is then empty for the next
/// episode, so no window ever spans two episodes.
///
/// ```
/// use wengert_rl::buffers::{ActionShape, Experience, NStepAccumulator};
/// use wengert_rl::env::Action;
/// let mut accumulator = NStepAccumulator::new(3, 0.5, 1, ActionShape::Discrete);
/// let mut emitted = Vec::new();
/// for t in 0..3 {
///     let (o, next) = ([t as f32], [t as f32 + 1.0]);
///     let step = Experience {
///         observation: &o, action: Action::Discrete(0), reward: 1.0,
///         next_observation: &next, terminated: false, truncated: false,
///     };
///     accumulator.push(step, |t| emitted.push((t.observation[0], t.reward, t.next_observation[0], t.discount)));
/// }
/// // After three steps the first window is complete: 1 + ½ + ¼, from o_0 to o_3, γ³.
/// assert_eq!(emitted, vec![(0.0, 1.75, 3.0, 0.125)]);
/// ```
#[derive(Clone, Debug)]
pub struct NStepAccumulator {
    /// `n`.
    n: usize,
    /// `γ`.
    gamma: f64,
    observation_dim: usize,
    /// The window: a ring of `n` slots holding `(o_{t+j}, a_{t+j}, r_{t+j+1})`, oldest at
    /// `start`.
    observations: Vec<f32>,
    actions: StoredActions,
    rewards: Vec<f64>,
    start: usize,
    len: usize,
}

impl NStepAccumulator {
    /// An empty accumulator of `n`-step returns with discount `γ`.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, NStepAccumulator};
    /// let accumulator = NStepAccumulator::new(3, 0.99, 4, ActionShape::Discrete);
    /// assert_eq!(accumulator.pending(), 0);
    /// ```
    pub fn new(n: usize, gamma: f64, observation_dim: usize, action_shape: ActionShape) -> Self {
        assert!(n > 0, "n-step returns need n ≥ 1");
        NStepAccumulator {
            n,
            gamma,
            observation_dim,
            observations: vec![0.0; n * observation_dim],
            actions: StoredActions::new(action_shape, n),
            rewards: vec![0.0; n],
            start: 0,
            len: 0,
        }
    }

    /// The number of steps whose window is still open.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, Experience, NStepAccumulator};
    /// # use wengert_rl::env::Action;
    /// let mut accumulator = NStepAccumulator::new(3, 0.99, 1, ActionShape::Discrete);
    /// let step = Experience { observation: &[0.0], action: Action::Discrete(0), reward: 0.0,
    ///     next_observation: &[0.0], terminated: false, truncated: false };
    /// accumulator.push(step, |_| {});
    /// assert_eq!(accumulator.pending(), 1);
    /// ```
    pub fn pending(&self) -> usize {
        self.len
    }

    /// Forgets the open windows without emitting them.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, Experience, NStepAccumulator};
    /// # use wengert_rl::env::Action;
    /// let mut accumulator = NStepAccumulator::new(3, 0.99, 1, ActionShape::Discrete);
    /// let step = Experience { observation: &[0.0], action: Action::Discrete(0), reward: 0.0,
    ///     next_observation: &[0.0], terminated: false, truncated: false };
    /// accumulator.push(step, |_| {});
    /// accumulator.clear();
    /// assert_eq!(accumulator.pending(), 0);
    /// ```
    pub fn clear(&mut self) {
        self.start = 0;
        self.len = 0;
    }

    /// Adds one step and passes every transition it completes to `emit`, oldest first: none
    /// or one inside an episode, all open windows when the episode ends.
    ///
    /// ```
    /// # use wengert_rl::buffers::{ActionShape, Experience, NStepAccumulator};
    /// # use wengert_rl::env::Action;
    /// let mut accumulator = NStepAccumulator::new(3, 0.5, 1, ActionShape::Discrete);
    /// let mut emitted = Vec::new();
    /// for t in 0..2 {
    ///     let (o, next) = ([t as f32], [t as f32 + 1.0]);
    ///     let step = Experience { observation: &o, action: Action::Discrete(0), reward: 1.0,
    ///         next_observation: &next, terminated: t == 1, truncated: false };
    ///     accumulator.push(step, |t| emitted.push((t.reward, t.terminated, t.discount)));
    /// }
    /// // Terminated after two steps: windows of 2 and 1 rewards.
    /// assert_eq!(emitted, vec![(1.5, true, 0.25), (1.0, true, 0.5)]);
    /// ```
    pub fn push(&mut self, experience: Experience<'_>, mut emit: impl FnMut(Transition<'_>)) {
        let d = self.observation_dim;
        assert_eq!(experience.observation.len(), d, "observation length");
        assert_eq!(
            experience.next_observation.len(),
            d,
            "next observation length"
        );
        let slot = (self.start + self.len) % self.n;
        self.observations[slot * d..(slot + 1) * d].copy_from_slice(experience.observation);
        self.actions.write(slot, experience.action);
        self.rewards[slot] = experience.reward;
        self.len += 1;

        if experience.terminated || experience.truncated {
            for j in 0..self.len {
                emit(self.window(j, experience.next_observation, experience.terminated));
            }
            self.clear();
        } else if self.len == self.n {
            emit(self.window(0, experience.next_observation, false));
            self.start = (self.start + 1) % self.n;
            self.len -= 1;
        }
    }

    /// The transition from the `j`-th oldest open step to `next_observation`:
    /// `m = len − j` rewards, `R = Σ_{k<m} γ^k r`, bootstrap discount `γ^m`.
    fn window<'a>(
        &'a self,
        j: usize,
        next_observation: &'a [f32],
        terminated: bool,
    ) -> Transition<'a> {
        let d = self.observation_dim;
        let first = (self.start + j) % self.n;
        let mut reward = 0.0;
        let mut discount = 1.0;
        for k in j..self.len {
            reward += discount * self.rewards[(self.start + k) % self.n];
            discount *= self.gamma;
        }
        Transition {
            observation: &self.observations[first * d..(first + 1) * d],
            action: self.actions.read(first),
            reward,
            next_observation,
            terminated,
            discount,
        }
    }

    /// Feeds one step of a [`VectorEnv`](crate::env::VectorEnv) to one accumulator per copy:
    /// copy `i` contributes `(observations[i], actions[i], rewards[i], final_observations[i],
    /// terminated[i], truncated[i])`, `observations` being those the actions were chosen on.
    ///
    /// ```
    /// use wengert_rl::buffers::{ActionShape, NStepAccumulator, ReplayBuffer, ReplayStorage};
    /// use wengert_rl::env::{CartPole, TimeLimit, VectorActions, VectorEnv};
    /// let envs = (0..2).map(|_| TimeLimit::new(CartPole::default(), 500)).collect();
    /// let mut envs = VectorEnv::new(envs, 1).unwrap();
    /// let mut accumulators = vec![NStepAccumulator::new(3, 0.99, 4, ActionShape::Discrete); 2];
    /// let mut buffer = ReplayBuffer::new(100, 4, ActionShape::Discrete);
    /// let mut observations = envs.reset(Some(0));
    /// for _ in 0..3 {
    ///     let actions = VectorActions::Discrete(&[0, 1]);
    ///     let step = envs.step(actions).unwrap();
    ///     NStepAccumulator::push_vector_step(&mut accumulators, &observations, actions, &step, |t| {
    ///         buffer.push(t);
    ///     });
    ///     observations = step.observations;
    /// }
    /// // Each copy completed its first 3-step window.
    /// assert_eq!(buffer.len(), 2);
    /// ```
    pub fn push_vector_step(
        accumulators: &mut [NStepAccumulator],
        observations: &Array2<f32>,
        actions: VectorActions<'_>,
        step: &VectorStep,
        mut emit: impl FnMut(Transition<'_>),
    ) {
        let copies = observations.nrows();
        assert_eq!(accumulators.len(), copies, "one accumulator per copy");
        for (i, accumulator) in accumulators.iter_mut().enumerate() {
            let action = match actions {
                VectorActions::Discrete(actions) => Action::Discrete(actions[i]),
                VectorActions::Continuous(actions) => {
                    let dimension = actions.len() / copies;
                    Action::Continuous(&actions[i * dimension..(i + 1) * dimension])
                }
            };
            let observation = observations.row(i);
            let next_observation = step.final_observations.row(i);
            let experience = Experience {
                observation: observation.as_slice().expect("observations are row-major"),
                action,
                reward: step.rewards[i],
                next_observation: next_observation
                    .as_slice()
                    .expect("observations are row-major"),
                terminated: step.terminated[i],
                truncated: step.truncated[i],
            };
            accumulator.push(experience, &mut emit);
        }
    }
}

/// The open window: its steps (`name.observations`, `name.actions`, `name.rewards`, all `n`
/// slots) and where it starts and how long it is (`name.window`).
impl Resumable for NStepAccumulator {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let (n, d) = (self.n, self.observation_dim);
        state.put_u64(
            format!("{name}.window"),
            vec![self.start as u64, self.len as u64],
        );
        state.put_f32(
            format!("{name}.observations"),
            &[n, d],
            self.observations.clone(),
        );
        self.actions.save(&format!("{name}.actions"), n, state);
        state.put_f64(format!("{name}.rewards"), self.rewards.clone());
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let (n, d) = (self.n, self.observation_dim);
        let window = state.u64s(&format!("{name}.window"), Some(2))?;
        let observations = state.f32s(&format!("{name}.observations"), Some(&[n, d]))?;
        self.rewards = state.f64s(&format!("{name}.rewards"), Some(n))?;
        self.actions.load(&format!("{name}.actions"), n, state)?;
        self.observations = observations.into_raw_vec_and_offset().0;
        (self.start, self.len) = (window[0] as usize, window[1] as usize);
        Ok(())
    }
}
