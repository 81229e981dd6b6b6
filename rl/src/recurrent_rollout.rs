//! # Recurrent rollouts and sequence minibatches
//!
//! ## Background
//! A recurrent policy ([`crate::recurrent_policy`]) acts from its state `z_{t−1}` as well as
//! `o_t`, so a rollout carries the state from step to step (and from one rollout to the next),
//! resets it where an episode starts, and **stores the state at every step**: the update
//! re-runs the LSTM over stretches of the rollout and needs the state each stretch started
//! from. This is Stable-Baselines3-contrib's `RecurrentRolloutBuffer`.
//!
//! ## Key equations
//! With `m_t = 1` where an episode starts at step `t` (the previous step ended one, or training
//! just began), the rollout runs
//!
//! ```text
//!     a_t ~ π(·|o_t, (1 − m_t) z_{t−1}),    V_t = V(o_t, (1 − m_t) z^V_{t−1}),    z_t = LSTM(…)
//! ```
//!
//! and stores `z_{t−1}` (before the reset) with `m_t`. The bootstrap values follow
//! [`crate::rollout`]: a truncated episode's final observation is valued from the state after
//! its last step, `V(o^final_{t+1}, z^V_t)`; the observations the next rollout starts from,
//! from `(1 − m_T) z^V_{T−1}`.
//!
//! **Sequence minibatches.** The samples are laid out environment by environment (`k = n·T +
//! t`), rotated by a random offset and cut into minibatches of `B` consecutive samples. A
//! minibatch is cut again into sequences wherever an episode starts, the next sample is not the
//! next step of the same environment, or the minibatch begins, so that **no sequence crosses an episode boundary**. Each sequence
//! starts from the state stored at its first step (with that step's `m_t`), and the sequences
//! are padded with zeros to the longest, `L`, and batched time-major `(L, S)` with a mask `M`
//! (1 on real samples). Losses are means over the mask, `Σ M x / Σ M`.
//!
//! ## Pseudocode
//! ```text
//! collect:  for t = 0 … T−1:
//!               s_t = normalise(o_t) (option);  store z_{t−1}, m_t
//!               a_t, ln π, V_t, z_t ← act(s_t, z_{t−1}, m_t);  step the environments
//!               where truncated: V(s^final_{t+1}) from z_t;   m_{t+1} ← done_t
//!           V(s_T) from z_{T−1}, m_T
//! batches:  rotate the env-major samples by a random offset; cut into minibatches of B
//!           cut each minibatch at episode starts and environment changes; pad; stack (L, S)
//! ```

use autograd::Var;
use ndarray::{Array1, Array2, Array3, Axis};
use nn::ParamStore;
use rand::{Rng, RngExt};

use crate::common::on_policy::OnPolicyEnvs;
use crate::policy::{Actions, select_rows};
use crate::recurrent_policy::{LstmMemory, RecurrentActorCritic, RecurrentState};
use crate::snapshot::{Resumable, StateError, TrainingState};
use crate::train::TrainError;

/// What a recurrent trainer carries from one rollout to the next: the state `z` of every
/// environment and where the next step starts an episode.
#[derive(Clone, Debug, PartialEq)]
pub struct Memory {
    /// `z_{t−1}` of every environment (before the reset of the next step).
    pub state: RecurrentState,
    /// `m_t` of the next step.
    pub episode_starts: Vec<bool>,
}

impl Memory {
    /// The zero state, every environment at an episode start (training begins).
    pub fn new(network: &RecurrentActorCritic, envs: usize) -> Self {
        Memory {
            state: network.initial_state(envs),
            episode_starts: vec![true; envs],
        }
    }
}

impl Resumable for Memory {
    fn save(&self, name: &str, state: &mut TrainingState) {
        let mut put = |part: &str, memory: &LstmMemory| {
            for (which, a) in [("h", &memory.h), ("c", &memory.c)] {
                let values = a.iter().copied().collect();
                state.put_f32(format!("{name}.{part}.{which}"), a.shape(), values);
            }
        };
        put("actor", &self.state.actor);
        if let Some(critic) = &self.state.critic {
            put("critic", critic);
        }
        let starts = self.episode_starts.iter().map(|&s| u64::from(s)).collect();
        state.put_u64(format!("{name}.episode_starts"), starts);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        let get = |part: &str, memory: &mut LstmMemory| -> Result<(), StateError> {
            for (which, a) in [("h", &mut memory.h), ("c", &mut memory.c)] {
                let entry = format!("{name}.{part}.{which}");
                let loaded = state.f32s(&entry, Some(a.shape()))?;
                a.assign(
                    &loaded
                        .into_dimensionality::<ndarray::Ix3>()
                        .expect("checked to be 3-D"),
                );
            }
            Ok(())
        };
        get("actor", &mut self.state.actor)?;
        if let Some(critic) = &mut self.state.critic {
            get("critic", critic)?;
        }
        let entry = format!("{name}.episode_starts");
        let starts = state.u64s(&entry, Some(self.episode_starts.len()))?;
        self.episode_starts = starts.iter().map(|&s| s == 1).collect();
        Ok(())
    }
}

/// One recurrent rollout of `T` steps in `N` environments; per-step arrays are `T × N`.
#[derive(Clone, Debug)]
pub struct RecurrentRollout {
    /// `s_t`, `(T, N, obs_dim)`, as the policy saw them.
    pub observations: Array3<f32>,
    /// `a_t`, `N` per step.
    pub actions: Vec<Actions>,
    /// `ln π(a_t|·)`.
    pub log_probs: Array2<f64>,
    /// `V_t`.
    pub values: Array2<f64>,
    /// `V(s_{t+1})` by the bootstrapping rule of the module doc.
    pub next_values: Array2<f64>,
    /// `r_t` (scaled, when a reward scaler is used).
    pub rewards: Array2<f64>,
    /// The episode reached a terminal state at `t`.
    pub terminated: Array2<bool>,
    /// The episode ended at `t`.
    pub done: Array2<bool>,
    /// `m_t`: an episode starts at `t`.
    pub episode_starts: Array2<bool>,
    /// `z_{t−1}`, the state before step `t` (before its reset), one per step.
    pub states: Vec<RecurrentState>,
    /// The undiscounted returns of the episodes that ended, in the order they ended.
    pub episode_returns: Vec<f64>,
    /// Their lengths in steps, in the same order.
    pub episode_lengths: Vec<usize>,
}

/// Runs the recurrent policy for `steps` steps in `envs` from `memory` (left at the state for
/// the next rollout), sampling with `rng`.
pub fn collect(
    envs: &mut OnPolicyEnvs,
    network: &RecurrentActorCritic,
    store: &ParamStore<f32>,
    memory: &mut Memory,
    steps: usize,
    rng: &mut (impl Rng + ?Sized),
) -> Result<RecurrentRollout, TrainError> {
    let n = envs.envs.num_envs();
    let dim = envs.observation_dim();
    let zeros = || Array2::zeros((steps, n));
    let flags = || Array2::from_elem((steps, n), false);
    let mut rollout = RecurrentRollout {
        observations: Array3::zeros((steps, n, dim)),
        actions: Vec::with_capacity(steps),
        log_probs: zeros(),
        values: zeros(),
        next_values: zeros(),
        rewards: zeros(),
        terminated: flags(),
        done: flags(),
        episode_starts: flags(),
        states: Vec::with_capacity(steps),
        episode_returns: Vec::new(),
        episode_lengths: Vec::new(),
    };
    let mut truncated_values = Vec::new();
    let mut observations = envs.envs.observations();
    for t in 0..steps {
        if let Some(stats) = envs.observation_stats.as_mut() {
            stats.update(&observations.mapv(|v| v as f64));
        }
        let s_t = normalise(envs, &observations);
        rollout.states.push(memory.state.clone());
        for (i, &start) in memory.episode_starts.iter().enumerate() {
            rollout.episode_starts[[t, i]] = start;
        }
        let act = network.act(store, &s_t, &memory.state, &memory.episode_starts, rng);
        let step = envs.envs.step(act.actions.as_vector_actions())?;
        let done: Vec<bool> = (0..n)
            .map(|i| step.terminated[i] || step.truncated[i])
            .collect();
        let rewards = match envs.reward_scaler.as_mut() {
            Some(scaler) => scaler.scale(&step.rewards, &done, 10.0),
            None => step.rewards.clone(),
        };
        rollout.rewards.row_mut(t).assign(&rewards);
        rollout.log_probs.row_mut(t).assign(&act.log_probs);
        rollout.values.row_mut(t).assign(&act.values);
        for (i, &ended) in done.iter().enumerate() {
            rollout.terminated[[t, i]] = step.terminated[i];
            rollout.done[[t, i]] = ended;
        }
        let truncated: Vec<usize> = (0..n)
            .filter(|&i| step.truncated[i] && !step.terminated[i])
            .collect();
        if !truncated.is_empty() {
            // the final observation continues its episode: valued from z_t, no reset
            let s_final = normalise(envs, &select_rows(&step.final_observations, &truncated));
            let z_t = act.state.select(&truncated);
            let starts = vec![false; truncated.len()];
            let v = network.predict_values(store, &s_final, &z_t, &starts);
            truncated_values.extend(truncated.iter().zip(v).map(|(&i, v)| ((t, i), v)));
        }
        for (_, episode) in &step.finished_episodes {
            rollout.episode_returns.push(episode.episode_return);
            rollout.episode_lengths.push(episode.length);
        }
        rollout.observations.index_axis_mut(Axis(0), t).assign(&s_t);
        rollout.actions.push(act.actions);
        memory.state = act.state;
        memory.episode_starts = done;
        observations = step.observations;
    }
    let s_last = normalise(envs, &observations);
    let v_last = network.predict_values(store, &s_last, &memory.state, &memory.episode_starts);
    for t in 0..steps {
        let next = match t + 1 < steps {
            true => rollout.values.row(t + 1).to_owned(),
            false => v_last.clone(),
        };
        rollout.next_values.row_mut(t).assign(&next);
    }
    for ((t, i), v) in truncated_values {
        rollout.next_values[[t, i]] = v;
    }
    Ok(rollout)
}

fn normalise(envs: &OnPolicyEnvs, o: &Array2<f32>) -> Array2<f32> {
    match &envs.observation_stats {
        Some(stats) => stats.normalize(o, 10.0, 1e-8),
        None => o.clone(),
    }
}

/// A minibatch of whole sequences, padded to the longest (`L` steps, `S` sequences) and laid
/// out time-major: slot `k = l·S + s` is step `l` of sequence `s`.
#[derive(Clone, Debug)]
pub struct SequenceBatch {
    /// `s`, `(L, S, obs_dim)`, zeros where padded.
    pub observations: Array3<f32>,
    /// `m`, `(L, S)`: the episode start of each sequence's first step, zeros elsewhere.
    pub reset_mask: Array2<f32>,
    /// The state stored at each sequence's first step.
    pub initial_state: RecurrentState,
    /// `a`, `L·S` rows (a placeholder where padded).
    pub actions: Actions,
    /// `ln π_old(a|·)`.
    pub log_probs: Array1<f64>,
    /// `V_old`.
    pub values: Array1<f64>,
    /// `Â`.
    pub advantages: Array1<f64>,
    /// `R = Â + V_old`.
    pub returns: Array1<f64>,
    /// `M`: 1 on a real sample, 0 on padding.
    pub mask: Array1<f64>,
    /// The rollout sample `(t, n)` in each slot, `None` where padded.
    pub samples: Vec<Option<(usize, usize)>>,
}

impl SequenceBatch {
    /// The number of real samples, `Σ M`.
    pub fn len(&self) -> usize {
        self.samples.iter().flatten().count()
    }

    /// Whether it holds no real sample.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The sequences of one rollout `(T × N)`: each a list of samples `(t, n)`, in order.
///
/// The env-major samples `k = n·T + t` rotated by `offset` are cut into minibatches of
/// `minibatch_size`, and each minibatch at episode starts and wherever the next sample is not
/// the next step of the same environment (a new environment, or the rotation's wrap from step
/// `T − 1` back to step 0, which with one environment is not an environment change).
pub fn sequences(
    episode_starts: &Array2<bool>,
    offset: usize,
    minibatch_size: usize,
) -> Vec<Vec<Vec<(usize, usize)>>> {
    let (steps, n) = episode_starts.dim();
    let total = steps * n;
    let order: Vec<(usize, usize)> = (0..total)
        .map(|k| (k + offset) % total)
        .map(|k| (k % steps, k / steps))
        .collect();
    order
        .chunks(minibatch_size)
        .map(|chunk| {
            let mut cut: Vec<Vec<(usize, usize)>> = Vec::new();
            for (j, &(t, i)) in chunk.iter().enumerate() {
                // a new environment, or the wrap from the rollout's end to its start
                let not_next = j > 0 && chunk[j - 1] != (t.wrapping_sub(1), i);
                if j == 0 || not_next || episode_starts[[t, i]] {
                    cut.push(Vec::new());
                }
                cut.last_mut().expect("a sequence is open").push((t, i));
            }
            cut
        })
        .collect()
}

/// The sequence minibatches of a rollout with its `T × N` advantages and returns, starting at
/// a random offset (Stable-Baselines3-contrib's `RecurrentRolloutBuffer.get`).
pub fn sequence_minibatches(
    rollout: &RecurrentRollout,
    advantages: &Array2<f64>,
    returns: &Array2<f64>,
    minibatch_size: usize,
    rng: &mut (impl Rng + ?Sized),
) -> Vec<SequenceBatch> {
    let total = rollout.episode_starts.len();
    let offset = rng.random_range(0..total);
    sequences(&rollout.episode_starts, offset, minibatch_size)
        .iter()
        .map(|minibatch| pad(rollout, advantages, returns, minibatch))
        .collect()
}

/// One minibatch of sequences, padded and stacked time-major.
pub fn pad(
    rollout: &RecurrentRollout,
    advantages: &Array2<f64>,
    returns: &Array2<f64>,
    sequences: &[Vec<(usize, usize)>],
) -> SequenceBatch {
    let longest = sequences.iter().map(Vec::len).max().unwrap_or(0);
    let count = sequences.len();
    let dim = rollout.observations.shape()[2];
    let mut samples = vec![None; longest * count];
    for (s, sequence) in sequences.iter().enumerate() {
        for (l, &sample) in sequence.iter().enumerate() {
            samples[l * count + s] = Some(sample);
        }
    }
    let mut observations = Array3::zeros((longest, count, dim));
    let mut reset_mask = Array2::zeros((longest, count));
    for (s, sequence) in sequences.iter().enumerate() {
        let (t0, n) = sequence[0];
        reset_mask[[0, s]] = f32::from(u8::from(rollout.episode_starts[[t0, n]]));
        for (l, &(t, i)) in sequence.iter().enumerate() {
            let o = rollout.observations.slice(ndarray::s![t, i, ..]);
            observations.slice_mut(ndarray::s![l, s, ..]).assign(&o);
        }
    }
    let starts: Vec<(&RecurrentState, usize)> = sequences
        .iter()
        .map(|sequence| (&rollout.states[sequence[0].0], sequence[0].1))
        .collect();
    let column = |a: &Array2<f64>| -> Array1<f64> {
        samples
            .iter()
            .map(|k| k.map_or(0.0, |(t, i)| a[[t, i]]))
            .collect()
    };
    let actions = match &rollout.actions[0] {
        Actions::Discrete(_) => Actions::Discrete(
            samples
                .iter()
                .map(|k| match k {
                    Some((t, i)) => match &rollout.actions[*t] {
                        Actions::Discrete(a) => a[*i],
                        Actions::Continuous(_) => unreachable!("one action space"),
                    },
                    None => 0,
                })
                .collect(),
        ),
        Actions::Continuous(first) => {
            let mut a = Array2::zeros((samples.len(), first.ncols()));
            for (k, sample) in samples.iter().enumerate() {
                if let Some((t, i)) = sample {
                    let Actions::Continuous(row) = &rollout.actions[*t] else {
                        unreachable!("one action space")
                    };
                    a.row_mut(k).assign(&row.row(*i));
                }
            }
            Actions::Continuous(a)
        }
    };
    SequenceBatch {
        observations,
        reset_mask,
        initial_state: RecurrentState::gather(&starts),
        actions,
        log_probs: column(&rollout.log_probs),
        values: column(&rollout.values),
        advantages: column(advantages),
        returns: column(returns),
        mask: samples
            .iter()
            .map(|k| f64::from(u8::from(k.is_some())))
            .collect(),
        samples,
    }
}

/// A `(L, S, obs_dim)` observation batch as a constant of the network's element type.
pub fn sequence_var<T: autograd::Float>(observations: &Array3<f32>) -> Var<T> {
    Var::constant(observations.mapv(|v| T::from_f64(v as f64)).into_dyn())
}
