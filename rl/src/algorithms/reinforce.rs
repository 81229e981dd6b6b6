//! # REINFORCE with reward-to-go and a learned baseline ("vanilla policy gradient")
//!
//! ## Background
//! The simplest policy-gradient method (Williams, 1992; Spinning Up's VPG): sample
//! trajectories with the current stochastic policy `π_θ`, and move `θ` along an unbiased Monte
//! Carlo estimate of the gradient of the expected return. Two classical refinements cut the
//! estimator's variance without biasing it: weight each action only by the rewards that came
//! after it (reward-to-go), and subtract a state-dependent baseline, here a value function
//! `V_φ(s)` refitted by regression after every batch.
//!
//! ## Key equations
//! The **score-function** (likelihood-ratio) estimator: since `∇θ p_θ(τ) = p_θ(τ) ∇θ ln p_θ(τ)`
//! and the dynamics do not depend on `θ`,
//!
//! $$ \nabla_\theta J(\theta) = \nabla_\theta \mathbb E_{\tau \sim \pi_\theta}[R(\tau)] = \mathbb E_\tau \Big[ \sum_t \nabla_\theta \ln \pi_\theta(a_t \mid s_t) \hat A_t \Big] , $$
//!
//! which holds for any weight `Â_t` of the form
//!
//! * `R(τ)`, the whole return (the original REINFORCE);
//! * the discounted **reward-to-go** `R̂_t = Σ_{k ≥ t} γ^{k−t} r_k` — rewards before `t` cannot
//!   depend on `a_t`, so dropping them removes noise and no signal;
//! * `R̂_t − b(s_t)` for any **baseline** `b` that does not depend on `a_t`, because
//!   `E_{a~π}[∇θ ln π_θ(a|s) b(s)] = b(s) ∇θ Σ_a π_θ(a|s) = b(s) ∇θ 1 = 0`.
//!
//! With `b = V_φ`, `Â_t = R̂_t − V_φ(s_t)` is the Monte Carlo advantage `Â^{(∞)}` of
//! [`crate::advantage`]. The policy takes one descent step on the loss ([`loss`])
//!
//! $$ L(\theta) = -\frac{1}{|D|} \sum_t \ln \pi_\theta(a_t \mid s_t) \hat A_t - c_H \frac{1}{|D|} \sum_t H\big[\pi_\theta(\cdot \mid s_t)\big] , $$
//!
//! whose negative gradient is the estimator above (plus the entropy bonus), and the baseline is
//! refitted by `K` steps on the regression loss ([`baseline_loss`])
//!
//! $$ L^V(\phi) = \frac{1}{|D|} \sum_t \big(V_\phi(s_t) - \hat R_t\big)^2 . $$
//!
//! A batch is a rollout of `T` steps of `N` environments ([`crate::rollout`]), so episodes are
//! cut at its end. As in Spinning Up, a cut episode's reward-to-go is bootstrapped with
//! `V_φ(s_T)`, and so is one truncated by the time limit (with `V_φ` of the final
//! observation); a terminated one is not. Diagnostic: how far the step moved the policy, the
//! approximate KL `E[(ρ − 1) − ln ρ]` with `ρ = π_θ_new / π_θ_old` on the batch.
//!
//! ## Pseudocode
//! ```text
//! for iteration = 1, 2, …:
//!     run π_θ in N environments for T steps; store s_t, a_t, r_t, V_φ(s_t), flags
//!     compute the reward-to-go R̂_t, bootstrapping cut and truncated episodes with V_φ
//!     Â_t = R̂_t − V_φ(s_t)   (or R̂_t without the baseline); normalise Â (option)
//!     θ ← θ − α_θ Adam(∇θ L(θ))                                    one step
//!     for k = 1 … K:
//!         φ ← φ − α_φ Adam(∇φ L^V(φ))                               refit the baseline
//! ```

use autograd::{Float, Tape, Tensor, Var, no_grad};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Activation, Bound};
use serde::{Deserialize, Serialize};

use crate::advantage::reward_to_go;
use crate::common::config::{Config, Range, ranges};
use crate::common::on_policy::{Batch, OnPolicy, normalize};
use crate::common::rollout_config::RolloutConfig;
use crate::common::trainer::{Part, Report, Trainer};
use crate::policy::{ActorCritic, observations_var, to_f64};
use crate::train::{PolicyAgent, TrainError, check_finite, explained_variance};

/// REINFORCE's hyperparameters. The defaults (`[defaults]` of `rl/presets/reinforce.toml`)
/// follow Spinning Up's VPG (Adam, `α_θ = 3·10⁻⁴`, `α_φ = 10⁻³`, 80 baseline steps,
/// normalised advantages) with CleanRL's networks.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReinforceConfig {
    /// `T`, `N` environments of `T` steps a batch, `γ`, observation normalisation and the
    /// environment threads, flat keys shared with the other on-policy trainers.
    #[serde(flatten)]
    pub rollout: RolloutConfig,
    /// `α_θ`: Adam's learning rate for the policy.
    pub policy_learning_rate: f64,
    /// `α_φ`: Adam's learning rate for the baseline `V_φ`.
    pub value_learning_rate: f64,
    /// `K`: full-batch regression steps on the baseline per iteration.
    pub value_iterations: usize,
    /// Subtract the baseline `V_φ(s_t)` from the reward-to-go (it is fitted either way, to
    /// bootstrap cut episodes).
    pub baseline: bool,
    /// Normalise the advantages of each batch to mean 0 and standard deviation 1.
    pub norm_adv: bool,
    /// `c_H`: entropy bonus (0 for plain REINFORCE).
    pub ent_coef: f64,
    /// Hidden layer sizes of the policy and of the baseline.
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh` or `relu`.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
}

impl Config for ReinforceConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<12>(&[
        &RolloutConfig::RANGES,
        &[
            ("policy_learning_rate", Range::positive()),
            ("value_learning_rate", Range::positive()),
            // 0 would leave V_φ at its initialisation, and the reported value loss undefined
            ("value_iterations", Range::at_least(1.0)),
            ("ent_coef", Range::non_negative()),
            ("hidden", Range::at_least(1.0)),
            ("log_std_init", Range::finite()),
            ("seed", Range::at_least(0.0)),
        ],
    ]);
}

// ---- the losses ----

/// What the policy step reports besides the loss.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    /// `L(θ)`, the entropy term included.
    pub policy_loss: f64,
    /// `(1/|D|) Σ_t H[π_θ(·|s_t)]`.
    pub entropy: f64,
    /// `ln π_θ(a_t|s_t)` of every sample, for the approximate KL after the step.
    pub log_probs: ndarray::Array1<f64>,
}

// ANCHOR: loss
/// The policy's loss `L(θ) = −(1/|D|) Σ_t ln π_θ(a_t|s_t) Â_t − c_H (1/|D|) Σ_t H[π_θ(·|s_t)]`
/// on a batch whose advantages `Â` (`R̂ − V_φ`, or `R̂`) are final (normalised when the config
/// says so): its negative gradient is the score-function estimator of `∇θ J`.
pub fn loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    batch: &Batch,
    config: &ReinforceConfig,
) -> (Var<T>, Diagnostics) {
    let advantages = Var::constant(batch.advantages.mapv(T::from_f64));
    let pi = agent.policy(params, &observations_var::<T>(&batch.observations));
    let log_prob = pi.log_prob(&batch.actions);
    let entropy = pi.entropy().mean_all();
    let surrogate = (&log_prob * &advantages).mean_all();
    let loss = -(&surrogate + &(&entropy * T::from_f64(config.ent_coef)));
    let diagnostics = Diagnostics {
        policy_loss: loss.item().as_f64(),
        entropy: entropy.item().as_f64(),
        log_probs: to_f64(&log_prob),
    };
    (loss, diagnostics)
}
// ANCHOR_END: loss

/// The baseline's regression loss `L^V(φ) = (1/|D|) Σ_t (V_φ(s_t) − R̂_t)²`.
pub fn baseline_loss<T: Float>(
    agent: &ActorCritic,
    params: &Bound<'_, T>,
    batch: &Batch,
) -> Var<T> {
    let target = Var::constant(batch.returns.mapv(T::from_f64));
    let value = agent.value(params, &observations_var::<T>(&batch.observations));
    (&value - &target).powi(2).mean_all()
}

// ---- the update ----

/// One Adam step on `L(θ)`, then `K` on `L^V(φ)`. Returns the policy step's diagnostics, the
/// approximate KL of the step, and the last baseline loss.
fn update(
    reinforce: &mut Reinforce,
    batch: &Batch,
    iteration: usize,
) -> Result<(Diagnostics, f64, f64), TrainError> {
    let Reinforce {
        config,
        on_policy,
        policy_optimizer,
        value_optimizer,
    } = reinforce;
    let (store, agent) = (&on_policy.store, &on_policy.network);

    let tape = Tape::new();
    let theta = store.bind_under(&tape, ActorCritic::ACTOR);
    let (l, diagnostics) = loss(agent, &theta, batch, config);
    check_finite(&l, "REINFORCE policy loss", iteration, &tape)?;
    policy_optimizer.step(store, &theta.gradients(&l));

    // E[(ρ − 1) − ln ρ] with ρ = π_θ_new(a|s) / π_θ_old(a|s) on the batch
    let log_prob_new = no_grad(|| {
        let s = observations_var::<f32>(&batch.observations);
        to_f64(
            &agent
                .policy(&store.constants(), &s)
                .log_prob(&batch.actions),
        )
    });
    let approx_kl = (diagnostics.log_probs.iter().zip(&log_prob_new))
        .map(|(old, new)| {
            let log_ratio = new - old;
            log_ratio.exp() - 1.0 - log_ratio
        })
        .sum::<f64>()
        / batch.len() as f64;

    let mut value_loss = f64::NAN;
    for _ in 0..config.value_iterations {
        let tape = Tape::new();
        let phi = store.bind_under(&tape, ActorCritic::CRITIC);
        let l_v = baseline_loss(agent, &phi, batch);
        check_finite(&l_v, "REINFORCE baseline loss", iteration, &tape)?;
        value_optimizer.step(store, &phi.gradients(&l_v));
        value_loss = l_v.item() as f64;
    }
    Ok((diagnostics, approx_kl, value_loss))
}

// ---- the loop ----

/// A REINFORCE trainer: the policy and its baseline with their environments and generator, and
/// their optimisers.
pub struct Reinforce {
    config: ReinforceConfig,
    /// `π_θ` is the actor, the baseline `V_φ` the critic.
    on_policy: OnPolicy,
    policy_optimizer: Adam<f32>,
    value_optimizer: Adam<f32>,
}

impl Trainer for Reinforce {
    const NAME: &'static str = "reinforce";
    type Config = ReinforceConfig;
    type Agent = PolicyAgent;

    fn steps_per_iteration(config: &ReinforceConfig) -> usize {
        config.rollout.steps_per_iteration()
    }

    fn iterations(config: &ReinforceConfig) -> usize {
        config.rollout.iterations()
    }

    fn new(env_id: &str, config: &ReinforceConfig) -> Result<Self, TrainError> {
        let on_policy = OnPolicy::new(env_id, config)?;
        let store = &on_policy.store;
        let under = |path: &str| {
            let prefix = format!("{path}.");
            let ids: Vec<_> = store
                .trainable()
                .filter(|&id| store.name(id).starts_with(&prefix))
                .collect();
            ids
        };
        let adam = |lr: f64| AdamConfig {
            lr: lr as f32,
            ..AdamConfig::default()
        };
        let policy_optimizer =
            Adam::new(under(ActorCritic::ACTOR), adam(config.policy_learning_rate));
        let value_optimizer =
            Adam::new(under(ActorCritic::CRITIC), adam(config.value_learning_rate));
        Ok(Reinforce {
            config: config.clone(),
            on_policy,
            policy_optimizer,
            value_optimizer,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        let config = self.config.clone();

        // run π_θ for T steps in N environments
        let rollout = self.on_policy.rollout(config.rollout.num_steps, false)?;

        // A truncated episode continues past the time limit in expectation: fold
        // γ V_φ(s_{t+1}) of its final observation into r_t, as reward_to_go expects.
        let mut rewards = rollout.rewards.clone();
        ndarray::Zip::from(&mut rewards)
            .and(&rollout.next_values)
            .and(&rollout.done)
            .and(&rollout.terminated)
            .for_each(|r, &v_next, &done, &terminated| {
                if done && !terminated {
                    *r += config.rollout.gamma * v_next;
                }
            });
        // V_φ(s_T) where the rollout cut an episode; reward_to_go ignores it where done.
        let v_last = rollout
            .next_values
            .row(config.rollout.num_steps - 1)
            .to_owned();

        // the reward-to-go R̂_t and the advantages Â_t
        let returns = reward_to_go(&rewards, &rollout.done, &v_last, config.rollout.gamma);
        let advantages = if config.baseline {
            &returns - &rollout.values
        } else {
            returns.clone()
        };
        let mut batch = Batch::new(&rollout, &advantages, &returns);
        if config.norm_adv {
            batch.advantages = normalize(&batch.advantages);
        }

        let (diagnostics, approx_kl, value_loss) = update(self, &batch, iteration)?;
        Ok(Report {
            env_steps: Self::steps_per_iteration(&config),
            episode_returns: rollout.episode_returns,
            episode_lengths: rollout.episode_lengths,
            losses: vec![
                ("policy_loss", diagnostics.policy_loss),
                ("value_loss", value_loss),
                ("entropy", diagnostics.entropy),
                ("approx_kl", approx_kl),
                (
                    "explained_variance",
                    explained_variance(&batch.values, &batch.returns),
                ),
            ],
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        self.on_policy.parts(vec![
            ("policy_optimizer", &mut self.policy_optimizer),
            ("value_optimizer", &mut self.value_optimizer),
        ])
    }

    fn into_agent(self) -> PolicyAgent {
        self.on_policy.into_agent()
    }
}
