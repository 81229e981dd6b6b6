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
//! ```

use std::cell::RefCell;

use autograd::Var;
use ndarray::{Array1, Array2, Axis, Ix2};
use nn::ParamStore;

use crate::common::on_policy::flatten_actions;
use crate::env::{Env, VectorEnv};
use crate::exec::actor_learner::Actor;
use crate::policy::{Actions, ActorCritic};
use crate::rollout::{Decision, Rollout};
use crate::snapshot::{Resumable, StateError, TrainerRng, TrainingState};
use crate::train::TrainError;

/// One actor's trajectory of `T` steps in its `E` environments: the rollout as the actor saw
/// it (its `ln μ(a|x)` in `log_probs`; its values are left to the learner, 0 here) and every
/// state the learner needs `V` of, `value_observations`: the `T·E` states `x_t` in order, the
/// final observations of the episodes truncated inside it, and `x_T` (see [`Rollout::collect`]).
#[derive(Clone, Debug)]
pub struct Unroll {
    /// `x_t, a_t, ln μ(a_t|x_t), r_t`, the flags and the finished episodes' returns.
    pub rollout: Rollout,
    /// The states `V` is needed of, in [`Rollout::collect`]'s order.
    pub value_observations: Array2<f32>,
}

/// An actor: the network's shape (its parameters arrive with each call), its environments and
/// its generator.
pub struct UnrollActor {
    agent: ActorCritic,
    envs: VectorEnv<Box<dyn Env + Send>>,
    rng: TrainerRng,
    unroll_length: usize,
}

impl UnrollActor {
    /// An actor running `agent`'s policy in `envs` (already reset) for `unroll_length` steps
    /// per trajectory, drawing actions from `rng`.
    pub fn new(
        agent: ActorCritic,
        envs: VectorEnv<Box<dyn Env + Send>>,
        rng: TrainerRng,
        unroll_length: usize,
    ) -> Self {
        UnrollActor {
            agent,
            envs,
            rng,
            unroll_length,
        }
    }
}

impl Actor for UnrollActor {
    type Params = ParamStore<f32>;
    type Trajectory = Unroll;
    type Error = TrainError;

    /// Runs `μ = π_θ_v` for `T` steps, keeping `ln μ(a|x)`.
    fn act(&mut self, store: &ParamStore<f32>) -> Result<Unroll, TrainError> {
        let params = store.constants();
        let (agent, rng) = (&self.agent, &mut self.rng);
        let mut observations = self.envs.observations();
        let value_observations = RefCell::new(None);
        let rollout = Rollout::collect(
            &mut self.envs,
            self.unroll_length,
            &mut observations,
            &mut None,
            None,
            |x| {
                let mu = agent.policy(&params, x);
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
        let value_observations = value_observations.into_inner();
        Ok(Unroll {
            rollout,
            value_observations: value_observations.expect("the rollout asks for values once"),
        })
    }
}

/// An actor's environments under `name.envs`, its generator under `name.rng`.
impl Resumable for UnrollActor {
    fn save(&self, name: &str, state: &mut TrainingState) {
        self.envs.save(&format!("{name}.envs"), state);
        self.rng.save(&format!("{name}.rng"), state);
    }

    fn load(&mut self, name: &str, state: &TrainingState) -> Result<(), StateError> {
        self.envs.load(&format!("{name}.envs"), state)?;
        self.rng.load(&format!("{name}.rng"), state)
    }
}

/// `B` trajectories side by side: `M = B·E` columns of `T` steps.
#[derive(Clone, Debug)]
pub struct UnrollBatch {
    /// The `T·M` states `x_t` (row `t·M + m`), then every trajectory's extra states.
    pub observations: Array2<f32>,
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
    /// The row of `observations` holding `x_{t+1}` of sample `(t, m)`: the next row inside an
    /// episode (and after a termination, where it is never read), the final observation at a
    /// truncation, `x_T` after the last step.
    pub next_rows: Array2<usize>,
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
        let mut rows: Vec<_> = (0..steps)
            .flat_map(|t| {
                unrolls.iter().map(move |u| {
                    u.value_observations
                        .slice(ndarray::s![t * envs..(t + 1) * envs, ..])
                })
            })
            .collect();
        let mut next_rows = Array2::zeros((steps, columns));
        let mut extra = steps * columns;
        for (b, u) in unrolls.iter().enumerate() {
            let r = &u.rollout;
            let truncations = r
                .done
                .iter()
                .zip(&r.terminated)
                .filter(|(d, t)| **d && !**t)
                .count();
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
            rows.push(u.value_observations.slice(ndarray::s![steps * envs.., ..]));
            extra += truncations + envs;
        }
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
        UnrollBatch {
            observations: ndarray::concatenate(Axis(0), &rows).expect("equal widths"),
            actions: flatten_actions(&per_step),
            behaviour_log_probs: side_by_side(&|r| r.log_probs.view()),
            rewards: side_by_side(&|r| r.rewards.view()),
            terminated: flags(&|r| r.terminated.view()),
            done: flags(&|r| r.done.view()),
            next_rows,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::make;
    use crate::policy::{NetworkConfig, observations_var, to_f64};
    use autograd::no_grad;
    use rand::SeedableRng;

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
            let (agent, rng) = (&direct.agent, &mut direct.rng);
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
        let v = to_f64(&no_grad(|| {
            value(&observations_var::<f32>(&batch.observations))
        }));
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
