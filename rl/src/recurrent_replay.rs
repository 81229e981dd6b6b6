//! # Recurrent replay's plumbing: the actors that write sequences, the windows learners read
//!
//! An off-policy learner with a recurrent network (R2D2) needs, besides its losses:
//!
//! - [`RecurrentActors`]: `N` environment copies in lockstep, each with its LSTM state
//!   `(h, c)` and a [`SequenceWriter`]. Every step writes `(o_t, a_t, r_t, first)` with the
//!   state before it; at an episode's end also its final observation (`last`, `terminal`)
//!   with the state after it, and then `(h, c) ← 0`. The writers' sequences go to a
//!   [`SequenceReplay`].
//! - [`window`]: positions `from … to` of a batch's observations and reset mask, as a
//!   recurrent network reads them; [`start_state`]: the state a replayed sequence starts from.
//! - [`SequenceSettings`] and [`SequenceErrors`]: what a sequence loss needs and reports.
//! - [`staleness`]: how much the stored start state still matters after the burn-in.

use autograd::{Float, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayD, Axis, s};
use nn::{Bound, LSTMState};

use crate::buffers::{Position, SequenceBatch, SequenceReplay, SequenceWriter, sequence_priority};
use crate::common::off_policy::{Steps, epsilon_greedy};
use crate::common::trainer::Part;
use crate::env::{Env, Episode, Space, VectorActions, VectorEnv, make};
use crate::q_network::greedy;
use crate::recurrent_q_network::{RecurrentQNetwork, state_of, zero_state};
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};
use crate::train::TrainError;

/// What the targets and the loss need besides the networks.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SequenceSettings {
    pub burn_in: usize,
    pub learn_length: usize,
    pub n_step: usize,
    pub gamma: f64,
    /// `ε` of the value rescaling `h`, or `None` for none.
    pub rescaling: Option<f64>,
    pub stored_state: bool,
    /// `η`.
    pub eta: f64,
}

/// What a sequence loss reports besides the loss.
#[derive(Clone, Debug, PartialEq)]
pub struct SequenceErrors {
    /// The mean of `Q_θ(h_t, a_t)` over the learned positions.
    pub mean_q: f64,
    /// `p_i = η max|δ| + (1 − η) mean|δ|` of each sequence.
    pub priorities: Vec<f64>,
}

impl SequenceErrors {
    /// From `δ_t` and `Q_θ(h_t, a_t)` `(K, N)` at the positions `(t, i)` where `learned`: the
    /// mean of `Q` over them and each sequence's `p_i` ([`sequence_priority`] with `η`).
    pub fn of(
        delta: &ArrayD<f64>,
        taken: &ArrayD<f64>,
        learned: impl Fn(usize, usize) -> bool,
        eta: f64,
    ) -> Self {
        let (k, n) = (delta.shape()[0], delta.shape()[1]);
        let priorities = (0..n)
            .map(|i| {
                let errors: Vec<f64> = (0..k)
                    .filter(|&t| learned(t, i))
                    .map(|t| delta[[t, i]])
                    .collect();
                sequence_priority(&errors, eta)
            })
            .collect();
        let positions = || (0..k).flat_map(|t| (0..n).map(move |i| (t, i)));
        let total = positions().filter(|&(t, i)| learned(t, i)).count();
        let sum_q: f64 = positions()
            .filter(|&(t, i)| learned(t, i))
            .map(|(t, i)| taken[[t, i]])
            .sum();
        SequenceErrors {
            mean_q: sum_q / total.max(1) as f64,
            priorities,
        }
    }
}

/// Positions `from … to` of the observations `o` `(L, N, D)` and the reset mask.
pub fn window<T: Float>(
    o: &Var<T>,
    batch: &SequenceBatch,
    from: usize,
    to: usize,
) -> (Var<T>, Var<T>) {
    let m = batch
        .first
        .slice(s![from..to, ..])
        .mapv(|x| T::from_f64(x as f64));
    (o.slice(0, from, to), Var::constant(m.into_dyn()))
}

/// The start state of a batch's sequences: the stored `(h_0, c_0)`, or zeros.
pub fn start_state<T: Float>(batch: &SequenceBatch, stored: bool) -> LSTMState<T> {
    match stored {
        true => state_of(&batch.h0, &batch.c0),
        false => zero_state(1, batch.len(), batch.h0.ncols()),
    }
}

// ANCHOR: staleness
/// Recurrent-state staleness, R2D2's `ΔQ` (Kapturowski et al., 2019): the Q-values at the first
/// learned position `B` reached with the current `θ` from two start states, burning in over
/// `0 … B` once from the stored state and once from the zero state, compared as
///
/// $$ \Delta Q = \frac{\frac1N\sum_i \lVert q_\theta(\hat h^{\text{stored}}_{B,i}) - q_\theta(\hat h^{0}_{B,i}) \rVert_2}{\max_{i,a} |q_\theta(\hat h^{\text{stored}}_{B,i})_a|} . $$
///
/// It is 0 where the burn-in crosses an episode start (both states reset there) and when the
/// burn-in has washed out the start; it is large when the start state still matters at `B`,
/// i.e. when the stored-vs-zero choice changes what is learned.
pub fn staleness<T: Float>(
    q: &RecurrentQNetwork,
    params: &Bound<'_, T>,
    o: &Var<T>,
    batch: &SequenceBatch,
    burn_in: usize,
) -> f64 {
    let (o_b, m_b) = window(o, batch, 0, burn_in + 1);
    let at_b = |stored: bool| -> ArrayD<T> {
        let (values, _) = no_grad(|| q.q_values(params, &o_b, &start_state(batch, stored), &m_b));
        values.value().index_axis(Axis(0), burn_in).to_owned()
    };
    let (from_stored, from_zero) = (at_b(true), at_b(false));
    let n = batch.len();
    let distance: f64 = (from_stored.outer_iter().zip(from_zero.outer_iter()))
        .map(|(a, z)| {
            a.iter()
                .zip(z.iter())
                .map(|(x, y)| (x.as_f64() - y.as_f64()).powi(2))
                .sum::<f64>()
                .sqrt()
        })
        .sum::<f64>()
        / n as f64;
    let scale = from_stored
        .iter()
        .fold(0.0f64, |m, x| m.max(x.as_f64().abs()));
    distance / scale.max(f64::MIN_POSITIVE)
}
// ANCHOR_END: staleness

/// The `N` actors' recurrent state `(h, c)` `(N, H)`, whether each stands at an episode's first
/// observation, and each one's sequence writer.
pub struct ActorStates {
    pub h: Array2<f32>,
    pub c: Array2<f32>,
    pub first: Vec<bool>,
    pub writers: Vec<SequenceWriter>,
}

impl Resumable for ActorStates {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let shape = [self.h.nrows(), self.h.ncols()];
        state.put_f32(
            format!("{name}.h"),
            &shape,
            self.h.iter().copied().collect(),
        );
        state.put_f32(
            format!("{name}.c"),
            &shape,
            self.c.iter().copied().collect(),
        );
        state.put_u64(
            format!("{name}.first"),
            self.first.iter().map(|&f| f as u64).collect(),
        );
        for (i, writer) in self.writers.iter().enumerate() {
            state.save(&format!("{name}.writer.{i}"), writer);
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let cols = self.h.ncols();
        self.h = state.rows(&format!("{name}.h"), cols)?;
        self.c = state.rows(&format!("{name}.c"), cols)?;
        let first = state.u64s(&format!("{name}.first"), Some(self.first.len()))?;
        self.first = first.into_iter().map(|f| f != 0).collect();
        for (i, writer) in self.writers.iter_mut().enumerate() {
            state.load(&format!("{name}.writer.{i}"), writer)?;
        }
        Ok(())
    }
}

/// The `N` environment copies of a recurrent learner's actors, their states and writers, and
/// `t`, the environment steps over all copies.
pub struct RecurrentActors {
    pub envs: VectorEnv<Box<dyn Env + Send>>,
    pub states: ActorStates,
    pub steps: Steps,
}

impl RecurrentActors {
    /// `num_envs` copies of `env_id` reset with `seed`, zero states, and writers of sequences of
    /// `length` positions starting every `period`, storing `hidden`-wide states; with the
    /// number of actions, which must be discrete (`algorithm` names the learner in the error).
    pub fn new(
        env_id: &str,
        algorithm: &str,
        num_envs: usize,
        seed: u64,
        length: usize,
        period: usize,
        hidden: usize,
    ) -> Result<(Self, usize), TrainError> {
        let copies = (0..num_envs)
            .map(|_| make(env_id))
            .collect::<Result<Vec<_>, _>>()?;
        let mut envs = VectorEnv::new(copies, 1)?;
        envs.reset(Some(seed));
        let Space::Discrete { n: num_actions } = envs.single_action_space().clone() else {
            return Err(TrainError::Config(format!(
                "{algorithm} needs a discrete action space, but {env_id} has {}",
                envs.single_action_space()
            )));
        };
        let dim = envs.single_observation_space().dim();
        let writer = SequenceWriter::new(length, period, dim, hidden);
        let states = ActorStates {
            h: Array2::zeros((num_envs, hidden)),
            c: Array2::zeros((num_envs, hidden)),
            first: vec![true; num_envs],
            writers: vec![writer; num_envs],
        };
        let actors = RecurrentActors {
            envs,
            states,
            steps: Steps(0),
        };
        Ok((actors, num_actions))
    }

    /// `D`, the observations' width.
    pub fn observation_dim(&self) -> usize {
        self.envs.single_observation_space().dim()
    }

    /// ε-greedy actions in `Q_θ(h_t, ·)` (uniform if `random`) from each actor's state, then
    /// [`RecurrentActors::step`] with them; returns the episodes that ended.
    pub fn act(
        &mut self,
        q: &RecurrentQNetwork,
        params: &Bound<'_, f32>,
        epsilon: f64,
        random: bool,
        rng: &mut TrainerRng,
        replay: &mut SequenceReplay,
    ) -> Result<Vec<Episode>, TrainError> {
        let observations = self.envs.observations();
        let (h, c) = (&self.states.h, &self.states.c);
        let (values, h, c) = q.step(params, &observations, h, c);
        let actions = epsilon_greedy(
            observations.nrows(),
            q.num_actions(),
            epsilon,
            random,
            rng,
            || greedy(values.view()),
        );
        self.step(&observations, &actions, (h, c), replay)
    }

    /// Steps every copy with `actions` taken on `observations`, writes the positions (with the
    /// states before the step, and `(h, c)` the states after it) and pushes every sequence a
    /// writer emits into `replay`; returns the episodes that ended.
    pub fn step(
        &mut self,
        observations: &Array2<f32>,
        actions: &[usize],
        (mut h, mut c): (Array2<f32>, Array2<f32>),
        replay: &mut SequenceReplay,
    ) -> Result<Vec<Episode>, TrainError> {
        let step = self.envs.step(VectorActions::Discrete(actions))?;
        self.steps.0 += actions.len();
        let ActorStates {
            h: h_before,
            c: c_before,
            first,
            writers,
        } = &mut self.states;
        for (i, writer) in writers.iter_mut().enumerate() {
            let o = observations.row(i).to_vec();
            let position = Position {
                observation: &o,
                action: actions[i],
                reward: step.rewards[i],
                first: first[i],
                last: false,
                terminal: false,
            };
            let mut emitted = vec![writer.push(
                position,
                h_before.row(i).as_slice().expect("row"),
                c_before.row(i).as_slice().expect("row"),
            )];
            let ended = step.terminated[i] || step.truncated[i];
            if ended {
                let o_final = step.final_observations.row(i).to_vec();
                let position = Position {
                    observation: &o_final,
                    action: 0,
                    reward: 0.0,
                    first: false,
                    last: true,
                    terminal: step.terminated[i],
                };
                emitted.push(writer.push(
                    position,
                    h.row(i).as_slice().expect("row"),
                    c.row(i).as_slice().expect("row"),
                ));
                h.row_mut(i).fill(0.0);
                c.row_mut(i).fill(0.0);
            }
            first[i] = ended;
            for sequence in emitted.into_iter().flatten() {
                replay.push(&sequence);
            }
        }
        (self.states.h, self.states.c) = (h, c);
        Ok(step.finished_episodes.into_iter().map(|(_, e)| e).collect())
    }

    /// The resumable parts: `envs` (every copy's state), `actors` (the states and writers) and
    /// `steps` (`t`).
    pub fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("envs", Part::State(&mut self.envs)),
            ("actors", Part::State(&mut self.states)),
            ("steps", Part::State(&mut self.steps)),
        ]
    }
}
