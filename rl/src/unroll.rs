//! # Fixed-length trajectories for an actor-learner setup
//!
//! An [`UnrollActor`] runs its policy `μ = π_θ_v` for `T` steps in its `E` environments
//! ([`Rollout::collect`], which resets episodes as they end) and keeps, besides the rollout and
//! `ln μ(a_t|x_t)`, every state the learner will need `V` of: the `T·E` states `x_t`, the final
//! observations of episodes truncated inside the trajectory, and `x_T`. It computes no values:
//! the learner evaluates them with its own, newer parameters. [`UnrollBatch`] puts `B` such
//! trajectories side by side (`M = B·E` columns) and records, for every sample `(t, m)`, which
//! row holds `x_{t+1}`, so that the learner can form `V(x_{t+1})` by the crate's bootstrapping
//! rule (see [`crate::rollout`]) in one batched pass.
//!
//! With a recurrent policy ([`UnrollNetwork::Lstm`]) the actor steps one step at a time and
//! carries `(h, c)` from step to step and from one trajectory to the next, resetting it where an
//! episode ended; each trajectory keeps the state it started from and the flags `m_t` of the
//! episodes starting at each step. The learner then reruns the LSTM over every column from that
//! state with the reset mask `m` ([`Inputs::Sequences`]): with the actor's parameters it gives
//! the actor's values. `V(x_T)` is one more step of each column, and `V` of a truncated
//! episode's final observation is one more step of a copy of its column, from the state the
//! episode had reached (as Stable-Baselines3's `RecurrentPPO` does).
//!
//! ```
//! use rand::SeedableRng;
//! use nn::ParamStore;
//! use wengert_rl::env::{VectorEnv, make};
//! use wengert_rl::exec::actor_learner::Actor;
//! use wengert_rl::policy::{ActorCritic, NetworkConfig};
//! use wengert_rl::snapshot::TrainerRng;
//! use wengert_rl::unroll::{UnrollActor, UnrollBatch};
//! let mut store = ParamStore::<f32>::new();
//! let mut rng = TrainerRng::seed_from_u64(0);
//! let space = make("CartPole-v1").unwrap().action_space().clone();
//! let agent = ActorCritic::new(&mut store, 4, &space, &NetworkConfig::default(), &mut rng);
//! let mut envs = VectorEnv::new((0..3).map(|_| make("CartPole-v1").unwrap()).collect(), 1).unwrap();
//! envs.reset(Some(0));
//! let mut actor = UnrollActor::new(agent, envs, rng, 40);
//! let unrolls = vec![actor.act(&store).unwrap(), actor.act(&store).unwrap()];
//! let batch = UnrollBatch::new(&unrolls);
//! assert_eq!(batch.rewards.dim(), (40, 6));
//! // inside an episode x_{t+1} is the next step's row
//! assert!(batch.done[[0, 0]] || batch.next_rows[[0, 0]] == 6);
//! // after the last step, the trajectory's x_T: the rows after the T·M states
//! assert!(batch.next_rows[[39, 0]] >= 40 * 6);
//! assert!(unrolls[0].start_state.is_none() && unrolls[0].episode_starts.row(0).iter().all(|&m| m));
//! ```

use std::cell::RefCell;

use autograd::Var;
use ndarray::{Array1, Array2, Array3, Axis, Ix2, s};
use nn::ParamStore;
use rand::SeedableRng;

use crate::common::on_policy::flatten_actions;
use crate::env::{Env, VectorEnv, make};
use crate::exec::actor_learner::Actor;
use crate::policy::Actions;
use crate::recurrent_policy::{LstmMemory, RecurrentState};
use crate::rollout::{Decision, Rollout};
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};
use crate::train::TrainError;
use crate::unroll_network::{Inputs, Sequences, UnrollNetwork};

/// One actor's trajectory of `T` steps in its `E` environments: the rollout as the actor saw
/// it (its `ln μ(a|x)` in `log_probs`; its values are left to the learner: 0 here for an MLP,
/// the behaviour critic's `V(x_≤t)` for an LSTM, which steps its critic's state anyway) and every
/// state the learner needs `V` of, `value_observations`: the `T·E` states `x_t` in order, the
/// final observations of the episodes truncated inside it, and `x_T` (see [`Rollout::collect`]).
/// For a recurrent policy, also the state `(h, c)` it started from and where episodes started.
#[derive(Clone, Debug)]
pub struct Unroll {
    /// `x_t, a_t, ln μ(a_t|x_t), r_t`, the flags and the finished episodes' returns.
    pub rollout: Rollout,
    /// The states `V` is needed of, in [`Rollout::collect`]'s order.
    pub value_observations: Array2<f32>,
    /// The recurrent state before step 0 (before its reset, where `episode_starts[0]`), or
    /// `None` for a feed-forward policy.
    pub start_state: Option<RecurrentState>,
    /// `m_t`, `T × E`: an episode starts at step `t` (its state is reset before the step).
    pub episode_starts: Array2<bool>,
}

/// An actor: the network's shape (its parameters arrive with each call), its environments,
/// its generator, and what it carries from one trajectory to the next — the recurrent state
/// and which environments start a new episode at the next step.
pub struct UnrollActor {
    agent: UnrollNetwork,
    envs: VectorEnv<Box<dyn Env + Send>>,
    rng: TrainerRng,
    unroll_length: usize,
    state: Option<RecurrentState>,
    episode_starts: Vec<bool>,
}

impl UnrollActor {
    /// An actor running `agent`'s policy in `envs` (already reset, so every environment starts
    /// an episode) for `unroll_length` steps per trajectory, drawing actions from `rng`.
    pub fn new(
        agent: impl Into<UnrollNetwork>,
        envs: VectorEnv<Box<dyn Env + Send>>,
        rng: TrainerRng,
        unroll_length: usize,
    ) -> Self {
        let agent = agent.into();
        let n = envs.num_envs();
        UnrollActor {
            state: agent.initial_state(n),
            agent,
            envs,
            rng,
            unroll_length,
            episode_starts: vec![true; n],
        }
    }

    /// `N` actors of `E` environments `env_id` each, all running `agent`: actor `j`'s
    /// environments reset with seeds `seed + j·E …`, its generator its own stream.
    pub fn team(
        env_id: &str,
        agent: &UnrollNetwork,
        (actors, envs_per_actor, unroll_length): (usize, usize, usize),
        seed: u64,
    ) -> Result<Vec<Self>, TrainError> {
        (0..actors)
            .map(|j| {
                let copies = (0..envs_per_actor)
                    .map(|_| make(env_id))
                    .collect::<Result<Vec<_>, _>>()?;
                let mut envs = VectorEnv::new(copies, 1)?;
                envs.reset(Some(seed + (j * envs_per_actor) as u64));
                // every actor its own stream, none the learner's
                let stream = seed ^ 0x9E37_79B9_7F4A_7C15u64.wrapping_mul(j as u64 + 1);
                let rng = TrainerRng::seed_from_u64(stream);
                Ok(UnrollActor::new(agent.clone(), envs, rng, unroll_length))
            })
            .collect()
    }

    /// The recurrent state it carries into its next trajectory (`None` for an MLP).
    pub fn state(&self) -> Option<&RecurrentState> {
        self.state.as_ref()
    }
}

impl Actor for UnrollActor {
    type Params = ParamStore<f32>;
    type Trajectory = Unroll;
    type Error = TrainError;

    /// Runs `μ = π_θ_v` for `T` steps, keeping `ln μ(a|x)`. One step at a time: where an
    /// episode ended at `t`, the recurrent state is reset before step `t + 1`.
    fn act(&mut self, store: &ParamStore<f32>) -> Result<Unroll, TrainError> {
        let params = store.constants();
        let (steps, n) = (self.unroll_length, self.envs.num_envs());
        let start_state = self.state.clone();
        let mut episode_starts = Array2::from_elem((steps, n), false);
        let mut observations = self.envs.observations();
        let mut one_step = Vec::with_capacity(steps);
        for t in 0..steps {
            episode_starts
                .row_mut(t)
                .assign(&Array1::from(self.episode_starts.clone()));
            let (agent, rng, state) = (&self.agent, &mut self.rng, &mut self.state);
            let starts = &self.episode_starts;
            let mut v_t = None;
            let value_observations = RefCell::new(None);
            let mut rollout = Rollout::collect(
                &mut self.envs,
                1,
                &mut observations,
                &mut None,
                None,
                |x| {
                    let x = x.value().to_owned().into_dimensionality::<Ix2>();
                    let x = x.expect("observations are (rows, obs_dim)");
                    let (mu, recurrent) = agent.step(&params, &x, state.as_ref(), starts);
                    if let Some((v, next)) = recurrent {
                        (v_t, *state) = (Some(v), Some(next));
                    }
                    let actions = mu.sample(rng);
                    let log_prob = mu.log_prob(&actions);
                    Decision {
                        actions,
                        log_prob: Some(log_prob),
                    }
                },
                |x| {
                    let rows = x.value().to_owned().into_dimensionality::<Ix2>();
                    let rows = rows.expect("observations are (rows, obs_dim)");
                    let zeros = Var::constant(Array1::<f32>::zeros(rows.nrows()));
                    *value_observations.borrow_mut() = Some(rows);
                    zeros
                },
            )?;
            if let Some(v) = v_t {
                rollout.values.row_mut(0).assign(&v);
            }
            self.episode_starts = rollout.done.row(0).to_vec();
            let rows = value_observations.into_inner();
            one_step.push((rollout, rows.expect("the rollout asks for values once")));
        }
        let (rollout, value_observations) = join_steps(one_step, n);
        Ok(Unroll {
            rollout,
            value_observations,
            start_state,
            episode_starts,
        })
    }
}

/// `T` one-step rollouts as one of `T` steps, with the value rows in [`Rollout::collect`]'s
/// order: every `x_t`, then every truncated episode's final observation, then `x_T`.
fn join_steps(one_step: Vec<(Rollout, Array2<f32>)>, n: usize) -> (Rollout, Array2<f32>) {
    let rows = |f: &dyn Fn(&Rollout) -> ndarray::ArrayView2<'_, f64>| {
        let views: Vec<_> = one_step.iter().map(|(r, _)| f(r)).collect();
        ndarray::concatenate(Axis(0), &views).expect("one row per step")
    };
    let flags = |f: &dyn Fn(&Rollout) -> ndarray::ArrayView2<'_, bool>| {
        let views: Vec<_> = one_step.iter().map(|(r, _)| f(r)).collect();
        ndarray::concatenate(Axis(0), &views).expect("one row per step")
    };
    let zeros = Array2::zeros((one_step.len(), n));
    let rollout = Rollout {
        values: rows(&|r| r.values.view()),
        observations: one_step
            .iter()
            .map(|(r, _)| r.observations[0].clone())
            .collect(),
        actions: one_step.iter().map(|(r, _)| r.actions[0].clone()).collect(),
        log_probs: rows(&|r| r.log_probs.view()),
        next_values: zeros,
        rewards: rows(&|r| r.rewards.view()),
        terminated: flags(&|r| r.terminated.view()),
        done: flags(&|r| r.done.view()),
        episode_returns: (one_step.iter())
            .flat_map(|(r, _)| r.episode_returns.iter().copied())
            .collect(),
        episode_lengths: (one_step.iter())
            .flat_map(|(r, _)| r.episode_lengths.iter().copied())
            .collect(),
    };
    let last = one_step.last().expect("at least one step");
    let mut value_rows: Vec<_> = one_step.iter().map(|(_, v)| v.slice(s![..n, ..])).collect();
    value_rows.extend(
        one_step
            .iter()
            .map(|(_, v)| v.slice(s![n..v.nrows() - n, ..])),
    );
    value_rows.push(last.1.slice(s![last.1.nrows() - n.., ..]));
    let value_observations = ndarray::concatenate(Axis(0), &value_rows).expect("equal widths");
    (rollout, value_observations)
}

/// An actor's environments under `name.envs`, its generator under `name.rng`, and for a
/// recurrent policy its state under `name.actor.h`, `name.actor.c` (`name.critic.…` for the
/// critic's own LSTM) and `name.episode_starts`.
impl Resumable for UnrollActor {
    fn save(&self, name: &str, state: &mut TrainingState) {
        self.envs.save(&format!("{name}.envs"), state);
        self.rng.save(&format!("{name}.rng"), state);
        if let Some(carried) = &self.state {
            let memories = [
                ("actor", Some(&carried.actor)),
                ("critic", carried.critic.as_ref()),
            ];
            for (lstm, memory) in memories {
                for (part, a) in memory.iter().flat_map(|m| [("h", &m.h), ("c", &m.c)]) {
                    let values = a.iter().copied().collect();
                    state.put_f32(format!("{name}.{lstm}.{part}"), a.shape(), values);
                }
            }
            let starts = self.episode_starts.iter().map(|&s| s as u64).collect();
            state.put_u64(format!("{name}.episode_starts"), starts);
        }
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.envs.load(&format!("{name}.envs"), state)?;
        self.rng.load(&format!("{name}.rng"), state)?;
        if let Some(carried) = &mut self.state {
            let load = |lstm: &str, memory: &mut LstmMemory| -> Result<(), StateError> {
                for (part, a) in [("h", &mut memory.h), ("c", &mut memory.c)] {
                    let loaded = state.f32s(&format!("{name}.{lstm}.{part}"), Some(a.shape()))?;
                    *a = loaded.into_dimensionality().expect("the shape was checked");
                }
                Ok(())
            };
            load("actor", &mut carried.actor)?;
            if let Some(critic) = &mut carried.critic {
                load("critic", critic)?;
            }
            let entry = format!("{name}.episode_starts");
            let starts = state.u64s(&entry, Some(self.episode_starts.len()))?;
            self.episode_starts = starts.iter().map(|&s| s != 0).collect();
        }
        Ok(())
    }
}

/// `B` trajectories side by side: `M = B·E` columns of `T` steps.
#[derive(Clone, Debug)]
pub struct UnrollBatch {
    /// The `T·M` samples `x_t` the losses see, in the order `k = t·M + m`: rows for an MLP,
    /// `M` sequences of `T` steps from their start states for an LSTM.
    pub inputs: Inputs,
    /// Every state `V` is needed of, as the network reads it: for an MLP the `T·M` rows `x_t`,
    /// then every trajectory's extra states; for an LSTM `T + 1` steps of `M + F` sequences:
    /// the `M` columns continued to `x_T`, and one more column for each of the `F` episodes
    /// truncated inside the batch, which repeats its column up to the truncation and ends in
    /// the final observation (so that `V(x^final)` sees the state the episode had reached).
    pub value_inputs: Inputs,
    /// The output of `value_inputs` holding `V(x_t)` of sample `(t, m)`.
    pub value_rows: Array2<usize>,
    /// The output of `value_inputs` holding `V(x_{t+1})` of sample `(t, m)`: the next step
    /// inside an episode (and after a termination, where it is never read), the final
    /// observation at a truncation, `x_T` after the last step.
    pub next_rows: Array2<usize>,
    /// `a_t`, `T·M` (sample `t·M + m`).
    pub actions: Actions,
    /// `ln μ(a_t|x_t)`, `T × M`.
    pub behaviour_log_probs: Array2<f64>,
    /// `r_t`, `T × M`.
    pub rewards: Array2<f64>,
    /// The episode reached a terminal state at `t`.
    pub terminated: Array2<bool>,
    /// The episode ended at `t`, terminated or truncated.
    pub done: Array2<bool>,
    /// The returns of the episodes that ended, trajectory by trajectory.
    pub episode_returns: Vec<f64>,
    /// Their lengths, in the same order.
    pub episode_lengths: Vec<usize>,
}

impl UnrollBatch {
    /// The trajectories `unrolls` (all of one length and width) side by side.
    pub fn new(unrolls: &[Unroll]) -> Self {
        let (steps, envs) = unrolls[0].rollout.rewards.dim();
        let columns = unrolls.len() * envs;
        let side_by_side = |f: &dyn Fn(&Rollout) -> ndarray::ArrayView2<'_, f64>| {
            let views: Vec<_> = unrolls.iter().map(|u| f(&u.rollout)).collect();
            ndarray::concatenate(Axis(1), &views).expect("equal lengths")
        };
        let flags = |f: &dyn Fn(&Rollout) -> ndarray::ArrayView2<'_, bool>| {
            let views: Vec<_> = unrolls.iter().map(|u| f(&u.rollout)).collect();
            ndarray::concatenate(Axis(1), &views).expect("equal lengths")
        };
        let per_step: Vec<Actions> = (0..steps)
            .map(|t| {
                let at_t: Vec<Actions> = unrolls
                    .iter()
                    .map(|u| u.rollout.actions[t].clone())
                    .collect();
                flatten_actions(&at_t)
            })
            .collect();
        let (inputs, value_inputs, value_rows, next_rows) = match unrolls[0].start_state {
            None => rows_layout(unrolls),
            Some(_) => sequences_layout(unrolls),
        };
        debug_assert_eq!(value_rows.dim(), (steps, columns));
        UnrollBatch {
            inputs,
            value_inputs,
            value_rows,
            next_rows,
            actions: flatten_actions(&per_step),
            behaviour_log_probs: side_by_side(&|r| r.log_probs.view()),
            rewards: side_by_side(&|r| r.rewards.view()),
            terminated: flags(&|r| r.terminated.view()),
            done: flags(&|r| r.done.view()),
            episode_returns: unrolls
                .iter()
                .flat_map(|u| u.rollout.episode_returns.iter().copied())
                .collect(),
            episode_lengths: unrolls
                .iter()
                .flat_map(|u| u.rollout.episode_lengths.iter().copied())
                .collect(),
        }
    }
}

/// The sample `(t, i)` of each truncation inside `u`, in the order of its final observations.
fn truncations(u: &Unroll) -> Vec<(usize, usize)> {
    let r = &u.rollout;
    (r.done.indexed_iter())
        .filter(|&((t, i), &d)| d && !r.terminated[[t, i]])
        .map(|(ti, _)| ti)
        .collect()
}

/// The feed-forward layout: every state once, as a row.
fn rows_layout(unrolls: &[Unroll]) -> (Inputs, Inputs, Array2<usize>, Array2<usize>) {
    let (steps, envs) = unrolls[0].rollout.rewards.dim();
    let columns = unrolls.len() * envs;
    let mut rows: Vec<_> = (0..steps)
        .flat_map(|t| {
            unrolls
                .iter()
                .map(move |u| u.value_observations.slice(s![t * envs..(t + 1) * envs, ..]))
        })
        .collect();
    let mut next_rows = Array2::zeros((steps, columns));
    let mut extra = steps * columns;
    for (b, u) in unrolls.iter().enumerate() {
        let r = &u.rollout;
        let truncations = truncations(u).len();
        let mut truncation = 0;
        for t in 0..steps {
            for i in 0..envs {
                let m = b * envs + i;
                next_rows[[t, m]] = if r.done[[t, i]] && !r.terminated[[t, i]] {
                    truncation += 1;
                    extra + truncation - 1
                } else if t + 1 < steps {
                    (t + 1) * columns + m
                } else {
                    extra + truncations + i
                };
            }
        }
        rows.push(u.value_observations.slice(s![steps * envs.., ..]));
        extra += truncations + envs;
    }
    let observations = ndarray::concatenate(Axis(0), &rows).expect("equal widths");
    let x_s = observations.slice(s![..steps * columns, ..]).to_owned();
    let value_rows = Array2::from_shape_fn((steps, columns), |(t, m)| t * columns + m);
    (
        Inputs::Rows(x_s),
        Inputs::Rows(observations),
        value_rows,
        next_rows,
    )
}

/// The recurrent layout (see [`UnrollBatch::value_inputs`]): `T + 1` steps of `M + F`
/// sequences, output `(t, g)` at `t·(M + F) + g`.
fn sequences_layout(unrolls: &[Unroll]) -> (Inputs, Inputs, Array2<usize>, Array2<usize>) {
    let (steps, envs) = unrolls[0].rollout.rewards.dim();
    let dim = unrolls[0].value_observations.ncols();
    let columns = unrolls.len() * envs;
    let cut: Vec<Vec<(usize, usize)>> = unrolls.iter().map(truncations).collect();
    let width = columns + cut.iter().map(Vec::len).sum::<usize>();
    let mut observations = Array3::<f32>::zeros((steps + 1, width, dim));
    let mut resets = Array2::<f32>::zeros((steps + 1, width));
    let mut source = Vec::with_capacity(width); // the column whose start state each one has
    let mut next_rows = Array2::zeros((steps, columns));
    for (b, u) in unrolls.iter().enumerate() {
        for i in 0..envs {
            let m = b * envs + i;
            source.push(m);
            for t in 0..steps {
                let x_t = u.value_observations.row(t * envs + i);
                observations.slice_mut(s![t, m, ..]).assign(&x_t);
                resets[[t, m]] = f32::from(u8::from(u.episode_starts[[t, i]]));
                next_rows[[t, m]] = (t + 1) * width + m;
            }
            let x_last = u.value_observations.row(steps * envs + cut[b].len() + i);
            observations.slice_mut(s![steps, m, ..]).assign(&x_last);
            resets[[steps, m]] = f32::from(u8::from(u.rollout.done[[steps - 1, i]]));
        }
    }
    let mut g = columns;
    for (b, u) in unrolls.iter().enumerate() {
        for (f, &(t, i)) in cut[b].iter().enumerate() {
            let m = b * envs + i;
            let (history, rest) = (s![..=t, m, ..], s![t + 1.., g, ..]);
            let copied = observations.slice(history).to_owned();
            observations.slice_mut(s![..=t, g, ..]).assign(&copied);
            let x_final = u.value_observations.row(steps * envs + f);
            observations.slice_mut(rest).assign(&x_final);
            for k in 0..=t {
                resets[[k, g]] = resets[[k, m]];
            }
            next_rows[[t, m]] = (t + 1) * width + g;
            source.push(m);
            g += 1;
        }
    }
    let start = RecurrentState::gather(
        &(unrolls.iter())
            .flat_map(|u| {
                let state = u.start_state.as_ref();
                let state = state.expect("every trajectory of a recurrent policy has its start");
                (0..envs).map(move |i| (state, i))
            })
            .collect::<Vec<_>>(),
    );
    let learner = Sequences {
        observations: observations.slice(s![..steps, ..columns, ..]).to_owned(),
        start: start.clone(),
        resets: resets.slice(s![..steps, ..columns]).to_owned(),
    };
    let every = Sequences {
        observations,
        start: start.select(&source),
        resets,
    };
    let value_rows = Array2::from_shape_fn((steps, columns), |(t, m)| t * width + m);
    (
        Inputs::Sequences(learner),
        Inputs::Sequences(every),
        value_rows,
        next_rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{ActorCritic, NetworkConfig, observations_var, to_f64};
    use autograd::no_grad;

    fn actor(store: &mut ParamStore<f32>, seed: u64) -> UnrollActor {
        let mut rng = TrainerRng::seed_from_u64(seed);
        let space = make("Pendulum-v1").unwrap().action_space().clone();
        let agent = ActorCritic::new(store, 3, &space, &NetworkConfig::default(), &mut rng);
        let copies = (0..2).map(|_| make("Pendulum-v1").unwrap()).collect();
        let mut envs = VectorEnv::new(copies, 1).unwrap();
        envs.reset(Some(seed));
        UnrollActor::new(agent, envs, rng, 150)
    }

    /// `V(x_{t+1})` read through `next_rows` is, bit for bit, the `next_values` that
    /// [`Rollout::collect`] gives with the same value function — across two trajectories side
    /// by side and Pendulum's truncations at 200 steps (inside the second trajectory).
    #[test]
    fn next_rows_give_the_rollouts_bootstrap_values() {
        let mut store = ParamStore::<f32>::new();
        let mut deferred = actor(&mut store, 4);
        let mut direct = actor(&mut ParamStore::<f32>::new(), 4);
        let params = store.constants();
        let value = |x: &Var<f32>| x.value().index_axis(ndarray::Axis(1), 2).to_owned();
        let value =
            |x: &Var<f32>| Var::constant(value(x).into_dimensionality::<ndarray::Ix1>().unwrap());
        let mut expected = Vec::new();
        for _ in 0..2 {
            let UnrollNetwork::Mlp(agent) = &direct.agent else {
                unreachable!("an MLP actor")
            };
            let rng = &mut direct.rng;
            let mut observations = direct.envs.observations();
            let rollout = Rollout::collect(
                &mut direct.envs,
                150,
                &mut observations,
                &mut None,
                None,
                |x| Decision {
                    actions: {
                        let mu = agent.policy(&params, x);
                        let a = mu.sample(rng);
                        let _ = mu.log_prob(&a);
                        a
                    },
                    log_prob: None,
                },
                value,
            )
            .unwrap();
            expected.push(rollout);
        }
        let unrolls = vec![deferred.act(&store).unwrap(), deferred.act(&store).unwrap()];
        let batch = UnrollBatch::new(&unrolls);
        assert!(
            batch
                .done
                .iter()
                .zip(&batch.terminated)
                .any(|(d, t)| *d && !*t),
            "a truncation inside the batch"
        );
        let Inputs::Rows(observations) = &batch.value_inputs else {
            panic!("an MLP's batch is rows")
        };
        let v = to_f64(&no_grad(|| value(&observations_var::<f32>(observations))));
        for (b, rollout) in expected.iter().enumerate() {
            for ((t, i), &next) in rollout.next_values.indexed_iter() {
                let got = v[batch.next_rows[[t, b * 2 + i]]];
                assert_eq!(
                    got.to_bits(),
                    next.to_bits(),
                    "unroll {b}, step {t}, env {i}"
                );
            }
            assert_eq!(
                batch.rewards.slice(ndarray::s![.., 2 * b..2 * b + 2]),
                rollout.rewards
            );
        }
    }
}
