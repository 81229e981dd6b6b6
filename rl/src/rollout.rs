//! # On-policy rollouts
//!
//! ## Background
//! An on-policy learner ([`crate::algorithms::reinforce`], [`crate::algorithms::a2c`],
//! [`crate::algorithms::ppo`], [`crate::algorithms::trpo`]) learns from a **rollout**: the current policy `π_θ` run for `T` steps in
//! `N` environments that step in lockstep and reset themselves when an episode ends
//! ([`crate::env::VectorEnv`]). For every step `t < T` of every environment it keeps the
//! observation `s_t` the policy saw, the action `a_t ~ π_θ(·|s_t)`, `ln π_θ(a_t|s_t)` when the
//! algorithm needs it later, the critic's `V(s_t)`, the reward `r_t`, whether the episode ended
//! at `t` and whether by termination, and `V(s_{t+1})`, the value that bootstraps the TD
//! residual ([`crate::advantage`])
//!
//! `δ_t = r_t + γ (1 − terminated_t) V(s_{t+1}) − V(s_t)`.
//!
//! Episodes do not line up with rollouts: one can end anywhere inside it, and most are still
//! running when it stops.
//!
//! ## Key equations
//! **Bootstrap on truncation, not on termination.** A terminated episode reached a terminal
//! state, whose value is 0, so `V(s_{t+1})` is never read there (`1 − terminated_t = 0`). An
//! episode truncated by a time limit, or cut by the end of the rollout, did not: its next state
//! has the value the critic gives it. The next values are therefore
//!
//! * `V(s_{t+1}) = V(o^final_{t+1})` if the episode was truncated at `t`: its final observation,
//!   before the auto-reset;
//! * else `V(s_{t+1}) = V(s_T)` at `t = T − 1`: the observations the next rollout starts from;
//! * else row `t + 1`'s `V(s_{t+1})`.
//!
//! After a termination the last two rules fill in the value of the next episode's first state,
//! which the residual multiplies by 0.
//!
//! Optional normalisation, as Stable-Baselines3's `VecNormalize` ([`crate::normalize`]): each
//! step's raw observations `o_t` first update the running statistics `μ`, `σ²`, then the policy
//! sees `s_t = clip((o_t − μ) / √(σ² + 10⁻⁸), ±10)`; final observations and `o_T` go through the
//! same statistics. Rewards can be scaled by the running standard deviation of the discounted
//! return and clipped to `±10` ([`RewardScaler`]); the rollout stores the scaled `r_t`.
//!
//! ## Pseudocode
//! ```text
//! for t = 0 … T−1:
//!     update μ, σ² with o_t (option);  s_t = normalise(o_t)
//!     a_t, ln π(a_t|s_t) = act(s_t)                              no gradient
//!     step the environments: r_t, terminated_t, truncated_t, o_{t+1} (reset where done)
//!     scale r_t (option)
//!     where truncated_t and not terminated_t: keep normalise(o^final_{t+1})
//!     record the returns of the episodes that ended
//! V of every s_t, of the kept final observations and of s_T = normalise(o_T)  one batch, no gradient
//! V(s_{t+1}) = V(s_{t+1}) of row t + 1 for t < T − 1, V(s_T) for t = T − 1, except where truncated
//!     (there V(normalise(o^final_{t+1})))
//! ```

use autograd::{Var, no_grad};
use ndarray::{Array1, Array2, Axis};

use crate::env::{Env, EnvError, VectorEnv};
use crate::normalize::{RewardScaler, RunningMeanStd};
use crate::policy::{Actions, observations_var, select_rows, to_f64};

/// What the policy does at one step, in every environment.
#[derive(Clone, Debug)]
pub struct Decision {
    /// `a_t ~ π_θ(·|s_t)`.
    pub actions: Actions,
    /// `ln π_θ(a_t|s_t)`, when the algorithm keeps it.
    pub log_prob: Option<Var<f32>>,
}

/// One rollout of `T` steps in `N` environments: per-step arrays are `T × N`, sample `(t, i)`.
#[derive(Clone, Debug)]
pub struct Rollout {
    /// `s_t`, `N × obs_dim` per step, normalised as the policy saw them.
    pub observations: Vec<Array2<f32>>,
    /// `a_t`, `N` per step.
    pub actions: Vec<Actions>,
    /// `ln π_θ(a_t|s_t)` (zeros when [`Decision::log_prob`] is `None`).
    pub log_probs: Array2<f64>,
    /// `V(s_t)`.
    pub values: Array2<f64>,
    /// `V(s_{t+1})`, by the bootstrapping rule of the module doc.
    pub next_values: Array2<f64>,
    /// `r_t` (scaled, when a reward scaler is given).
    pub rewards: Array2<f64>,
    /// The episode reached a terminal state at `t`.
    pub terminated: Array2<bool>,
    /// The episode ended at `t`, terminated or truncated.
    pub done: Array2<bool>,
    /// The undiscounted, unscaled returns of the episodes that ended, in the order they ended.
    pub episode_returns: Vec<f64>,
    /// Their lengths, in the same order.
    pub episode_lengths: Vec<usize>,
}

impl Rollout {
    /// Runs the policy for `steps` steps in `envs`, from the raw observations `observations`
    /// (left at `o_T` for the next rollout). `act` maps `s_t` to a [`Decision`]; `value` maps
    /// observations to `V`, and is called once, after the last step, on every observation the
    /// values are needed for (`T·N + F + N` rows: the `s_t` in order, the `F` final observations
    /// of truncated episodes, `s_T`). Both run without gradient recording. `value` must treat
    /// rows independently (no batch statistics), as an MLP does: then one batched pass gives
    /// each row the value it would have alone, bit for bit, at a fraction of the cost of `T`
    /// passes of `N` rows.
    /// `observation_stats`, when present, is updated and normalises what the policy sees;
    /// `reward_scaler`, when given, scales the stored rewards.
    ///
    /// ```
    /// use autograd::Var;
    /// use ndarray::Axis;
    /// use wengert_rl::env::{VectorEnv, make};
    /// use wengert_rl::policy::Actions;
    /// use wengert_rl::rollout::{Decision, Rollout};
    /// let copies = (0..2).map(|_| make("CartPole-v1").unwrap()).collect();
    /// let mut envs = VectorEnv::new(copies, 1).unwrap();
    /// let mut observations = envs.reset(Some(0));
    /// // Always push left, so the pole soon falls; let V(s) be the pole's angle.
    /// let angle = |s: &Var<f32>| Var::constant(s.value().index_axis(Axis(1), 2).to_owned());
    /// let rollout = Rollout::collect(
    ///     &mut envs,
    ///     20,
    ///     &mut observations,
    ///     &mut None,
    ///     None,
    ///     |_| Decision { actions: Actions::Discrete(vec![0; 2]), log_prob: None },
    ///     angle,
    /// )
    /// .unwrap();
    /// assert_eq!(rollout.values.dim(), (20, 2));
    /// assert!(rollout.rewards.iter().all(|&r| r == 1.0));
    /// // CartPole's episodes end by termination here, each one recording its return ...
    /// assert_eq!(rollout.done, rollout.terminated);
    /// let ends = rollout.done.iter().filter(|&&d| d).count();
    /// assert!(ends >= 2 && rollout.episode_returns.len() == ends);
    /// // ... so V(s_{t+1}) is the next row's V, and at t = T − 1 the value of o_T, the
    /// // observations the next rollout starts from.
    /// for t in 0..19 {
    ///     assert_eq!(rollout.next_values.row(t), rollout.values.row(t + 1));
    /// }
    /// assert_eq!(rollout.next_values.row(19), observations.column(2).mapv(f64::from));
    /// ```
    pub fn collect<E: Env + Send>(
        envs: &mut VectorEnv<E>,
        steps: usize,
        observations: &mut Array2<f32>,
        observation_stats: &mut Option<RunningMeanStd>,
        mut reward_scaler: Option<&mut RewardScaler>,
        mut act: impl FnMut(&Var<f32>) -> Decision,
        value: impl Fn(&Var<f32>) -> Var<f32>,
    ) -> Result<Rollout, EnvError> {
        let n = envs.num_envs();
        let mut rollout = Rollout {
            observations: Vec::with_capacity(steps),
            actions: Vec::with_capacity(steps),
            log_probs: Array2::zeros((steps, n)),
            values: Array2::zeros((steps, n)),
            next_values: Array2::zeros((steps, n)),
            rewards: Array2::zeros((steps, n)),
            terminated: Array2::from_elem((steps, n), false),
            done: Array2::from_elem((steps, n), false),
            episode_returns: Vec::new(),
            episode_lengths: Vec::new(),
        };
        let normalise = |stats: &Option<RunningMeanStd>, o: &Array2<f32>| match stats {
            Some(s) => s.normalize(o, 10.0, 1e-8),
            None => o.clone(),
        };
        // The final observations of truncated episodes, normalised when they arrive, with the
        // sample (t, i) whose V(s_{t+1}) they give.
        let mut finals: Vec<Array2<f32>> = Vec::new();
        let mut truncated_at: Vec<(usize, usize)> = Vec::new();
        for t in 0..steps {
            if let Some(stats) = observation_stats.as_mut() {
                stats.update(&observations.mapv(|v| v as f64));
            }
            let s_t = normalise(observation_stats, observations);
            let decision = no_grad(|| act(&observations_var::<f32>(&s_t)));
            let step = envs.step(decision.actions.as_vector_actions())?;
            if let Some(log_prob) = &decision.log_prob {
                rollout.log_probs.row_mut(t).assign(&to_f64(log_prob));
            }
            let rewards = match reward_scaler.as_deref_mut() {
                Some(scaler) => {
                    let done: Vec<bool> = (0..n)
                        .map(|i| step.terminated[i] || step.truncated[i])
                        .collect();
                    scaler.scale(&step.rewards, &done, 10.0)
                }
                None => step.rewards.clone(),
            };
            rollout.rewards.row_mut(t).assign(&rewards);
            for i in 0..n {
                rollout.terminated[[t, i]] = step.terminated[i];
                rollout.done[[t, i]] = step.terminated[i] || step.truncated[i];
            }
            let truncated: Vec<usize> = (0..n)
                .filter(|&i| step.truncated[i] && !step.terminated[i])
                .collect();
            if !truncated.is_empty() {
                let o_final = select_rows(&step.final_observations, &truncated);
                finals.push(normalise(observation_stats, &o_final));
                truncated_at.extend(truncated.iter().map(|&i| (t, i)));
            }
            for (_, episode) in &step.finished_episodes {
                rollout.episode_returns.push(episode.episode_return);
                rollout.episode_lengths.push(episode.length);
            }
            rollout.observations.push(s_t);
            rollout.actions.push(decision.actions);
            *observations = step.observations;
        }
        let s_last = normalise(observation_stats, observations);
        let rows: Vec<_> = (rollout.observations.iter().chain(&finals))
            .chain([&s_last])
            .map(|o| o.view())
            .collect();
        let all = ndarray::concatenate(Axis(0), &rows).expect("equal widths");
        let v = to_f64(&no_grad(|| value(&observations_var::<f32>(&all))));
        let (v_steps, rest) = v.view().split_at(Axis(0), steps * n);
        let (v_finals, v_last) = rest.split_at(Axis(0), truncated_at.len());
        rollout.values = v_steps
            .to_owned()
            .into_shape_with_order((steps, n))
            .expect("T·N values");
        let last_values: Array1<f64> = v_last.to_owned();
        for t in 0..steps {
            let next = if t + 1 < steps {
                rollout.values.row(t + 1).to_owned()
            } else {
                last_values.clone()
            };
            rollout.next_values.row_mut(t).assign(&next);
        }
        for (&(t, i), &v) in truncated_at.iter().zip(&v_finals) {
            rollout.next_values[[t, i]] = v;
        }
        Ok(rollout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, make};
    use ndarray::array;

    /// `N` copies of `id`, reset with `seed`.
    fn envs(id: &str, n: usize, seed: u64) -> (VectorEnv<Box<dyn Env + Send>>, Array2<f32>) {
        let copies = (0..n).map(|_| make(id).unwrap()).collect();
        let mut envs = VectorEnv::new(copies, 1).unwrap();
        let observations = envs.reset(Some(seed));
        (envs, observations)
    }

    /// The first feature of each observation, as a stand-in critic.
    fn first_feature(s: &Var<f32>) -> Var<f32> {
        Var::constant(s.value().index_axis(Axis(1), 0).to_owned())
    }

    fn no_torque(s: &Var<f32>) -> Decision {
        let n = s.value().shape()[0];
        Decision {
            actions: Actions::Continuous(Array2::zeros((n, 1))),
            log_prob: None,
        }
    }

    /// Pendulum-v1 is truncated after 200 steps and never terminates: step t = 199 bootstraps
    /// from V of the final observation, not from the next episode's first state.
    #[test]
    fn a_truncated_episode_bootstraps_from_its_final_observation() {
        let (mut vector, mut observations) = envs("Pendulum-v1", 1, 7);
        let rollout = Rollout::collect(
            &mut vector,
            201,
            &mut observations,
            &mut None,
            None,
            no_torque,
            first_feature,
        )
        .unwrap();

        let mut env = make("Pendulum-v1").unwrap();
        env.reset(Some(7));
        let mut last = None;
        for _ in 0..200 {
            last = Some(env.step(Action::Continuous(&[0.0])).unwrap());
        }
        let last = last.unwrap();
        assert!(last.truncated && !last.terminated);
        let v_final = last.observation[0] as f64;

        assert!(rollout.done[[199, 0]] && !rollout.terminated[[199, 0]]);
        assert_eq!(rollout.done.iter().filter(|&&d| d).count(), 1);
        assert_eq!(rollout.next_values[[199, 0]], v_final);
        assert_ne!(rollout.next_values[[199, 0]], rollout.values[[200, 0]]);
        for t in (0..200).filter(|&t| t != 199) {
            assert_eq!(rollout.next_values[[t, 0]], rollout.values[[t + 1, 0]]);
        }
        assert_eq!(rollout.next_values[[200, 0]], observations[[0, 0]] as f64);
        assert_eq!(rollout.episode_returns.len(), 1);
        assert!(rollout.log_probs.iter().all(|&l| l == 0.0));
    }

    /// The one batched pass of an MLP critic gives every `V(s_t)`, and the bootstrap value of a
    /// truncated episode's final observation, exactly as a pass over that step's rows alone
    /// would.
    #[test]
    fn batched_values_are_the_per_step_values_bit_for_bit() {
        use crate::policy::{ActorCritic, NetworkConfig};
        use crate::snapshot::TrainerRng;
        use nn::ParamStore;
        use rand::SeedableRng;

        let (mut vector, mut observations) = envs("Pendulum-v1", 3, 11);
        let mut store = ParamStore::<f32>::new();
        let agent = ActorCritic::new(
            &mut store,
            3,
            vector.single_action_space(),
            &NetworkConfig::default(),
            &mut TrainerRng::seed_from_u64(4),
        );
        let params = store.constants();
        let value = |s: &Var<f32>| agent.value(&params, s);
        let rollout = Rollout::collect(
            &mut vector,
            203,
            &mut observations,
            &mut None,
            None,
            no_torque,
            value,
        )
        .unwrap();
        let alone = |o: &Array2<f32>| to_f64(&value(&observations_var::<f32>(o)));
        for t in 0..203 {
            assert_eq!(
                rollout.values.row(t),
                alone(&rollout.observations[t]),
                "t = {t}"
            );
        }
        assert_eq!(rollout.next_values.row(202), alone(&observations));
        // Every copy is truncated at t = 199; its final observation is where 200 no-torque
        // steps from its reset leave it.
        let (mut reference, _) = envs("Pendulum-v1", 3, 11);
        let mut step = None;
        for _ in 0..200 {
            let actions = Actions::Continuous(Array2::zeros((3, 1)));
            step = Some(reference.step(actions.as_vector_actions()).unwrap());
        }
        let finals = step.unwrap().final_observations;
        assert!(rollout.done.row(199).iter().all(|&d| d));
        assert_eq!(rollout.next_values.row(199), alone(&finals));
        assert_ne!(rollout.next_values.row(199), rollout.values.row(200));
    }

    /// With normalisation the policy sees `s_t` normalised by statistics that include `o_t`,
    /// the stored rewards are scaled, and `ln π` is kept.
    #[test]
    fn normalisation_updates_before_acting_and_scales_the_stored_rewards() {
        let steps = 5;
        let (mut vector, mut observations) = envs("Pendulum-v1", 2, 3);
        let (mut reference, o_0) = envs("Pendulum-v1", 2, 3);
        let mut stats = Some(RunningMeanStd::new(3));
        let mut scaler = RewardScaler::new(2, 0.9);
        let rollout = Rollout::collect(
            &mut vector,
            steps,
            &mut observations,
            &mut stats,
            Some(&mut scaler),
            |s| Decision {
                log_prob: Some(Var::constant(array![-1.0f32, -2.0])),
                ..no_torque(s)
            },
            first_feature,
        )
        .unwrap();

        let mut expected_stats = RunningMeanStd::new(3);
        expected_stats.update(&o_0.mapv(f64::from));
        assert_eq!(
            rollout.observations[0],
            expected_stats.normalize(&o_0, 10.0, 1e-8)
        );
        assert_eq!(stats.unwrap().count, 1e-4 + (steps * 2) as f64);

        let mut expected_scaler = RewardScaler::new(2, 0.9);
        let actions = Array2::<f32>::zeros((2, 1));
        for t in 0..steps {
            let step = reference
                .step(Actions::Continuous(actions.clone()).as_vector_actions())
                .unwrap();
            let scaled = expected_scaler.scale(&step.rewards, &[false, false], 10.0);
            assert_eq!(rollout.rewards.row(t), scaled);
            assert_ne!(rollout.rewards.row(t), step.rewards);
        }
        assert_eq!(rollout.log_probs.column(1).to_vec(), vec![-2.0; steps]);
    }
}
