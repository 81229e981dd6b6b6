//! # IMPALA: Importance Weighted Actor-Learner Architecture
//!
//! ## Background
//! Espeholt et al. (2018) decouple acting from learning. `N` actors each run the policy they
//! last received, `μ = π_θ_v`, in their own environments, and send fixed-length trajectories
//! to one learner, which trains `π_θ` and `V_φ` on them as they arrive and publishes new
//! parameters. Because the learner has moved on by the time a trajectory arrives (the **policy
//! lag** `v_learner − v`), its data is off-policy; V-trace ([`crate::vtrace`]) corrects for it
//! with truncated importance weights. The threads, the queue and the versions live in
//! [`crate::exec::actor_learner`]; this file is the algorithm, single-threaded.
//!
//! ## Key equations
//! For a trajectory `x_s, a_s, r_s` of length `n` from `μ`, with `π̄_s = π(a_s|x_s) / μ(a_s|x_s)`,
//! `ρ_s = min(ρ̄, π̄_s)`, `c_s = min(c̄, π̄_s)`, `ρ^pg_s = min(ρ̄_pg, π̄_s)` and the TD residual
//! `δ_s V = ρ_s (r_s + γ V(x_{s+1}) − V(x_s))`, the V-trace target is (paper, eq. 1)
//!
//! $$ v_s = V(x_s) + \sum_{t=s}^{s+n-1} \gamma^{t-s} \Big( \prod_{i=s}^{t-1} c_i \Big) \delta_t V , $$
//!
//! computed backwards by `v_s = V(x_s) + δ_s V + γ c_s (v_{s+1} − V(x_{s+1}))`. The learner
//! minimises, averaged over the batch's `T·M` samples (targets held constant), the value loss,
//! the policy loss with the V-trace advantage, and the entropy bonus:
//!
//! $$ L^V(\phi) = \tfrac12 \mathbb E_s \big[ (v_s - V_\phi(x_s))^2 \big] , \qquad
//!    L^\pi(\theta) = -\mathbb E_s \big[ A_s \ln \pi_\theta(a_s \mid x_s) \big] , \qquad
//!    A_s = \rho^{pg}_s \big( r_s + \gamma v_{s+1} - V(x_s) \big) , $$
//! $$ L = L^\pi + c_v L^V - c_H \, \mathbb E_s \big[ \mathcal H[\pi_\theta(\cdot \mid x_s)] \big] , $$
//!
//! one RMSprop (or Adam) step per batch after clipping the
//! gradient's global norm. Episodes that end inside a trajectory follow the crate's rule:
//! no bootstrap after a termination, `γ V(x^final)` after a truncation, the trace cut at both.
//!
//! ## Pseudocode
//! ```text
//! actors j = 1 … N, each on its own thread (or taking turns, in the deterministic mode):
//!     loop: (v, θ_v) ← the newest published parameters
//!           run μ = π_θ_v for T steps in its E environments; keep x, a, r, flags, ln μ(a|x)
//!           (an LSTM: also (h, c) at the start; its state carries on, reset at episode ends)
//!           send (j, v, trajectory) into the bounded queue
//! learner, iteration k = 1, 2, …:
//!     publish (k − 1, θ)
//!     take B trajectories from the queue: M = B·E columns of T steps; lag = k − 1 − v
//!     one forward pass with θ, on the tape: V(x) of every state, π(·|x_s)
//!         (an LSTM reruns each column from its stored start state with the reset mask)
//!     held constant (detached): ln π̄ = ln π(a|x) − ln μ(a|x);
//!         v_s, A_s ← V-trace(r, V, ln π̄; γ, ρ̄, c̄, ρ̄_pg)
//!     L = L^π + c_v L^V − c_H H;  clip ‖∇L‖;  optimiser step (at α_k, annealed if asked)
//! ```
//!
//! ## Beyond one machine (a design note; no code)
//! The protocol — actors pull `(v, θ_v)`, push `(j, v, trajectory)`, the learner batches — is
//! what Ray's actors were built for, so across machines it would run on **Ray** rather than on
//! a home-made transport: each actor a Ray actor process running this crate's actor loop (a
//! Python front end calling the `wengert` binary's library through PyO3, or a small
//! `wengert actor` subcommand driven by Ray), parameters put once per version into Ray's object
//! store and fetched by reference, trajectories returned as object references the learner
//! `ray.wait`s on — RLlib's IMPALA works exactly so. A message queue (NATS, ZeroMQ) between
//! plain processes would do as well for a fixed cluster; Ray adds scheduling and restarts.
//! What changes: trajectories and parameters must be serialised (safetensors for parameters,
//! as the checkpoints already are; the trajectory's arrays as one flat record with the actor,
//! version and shapes), the version becomes the only shared state, and the deterministic mode
//! becomes a request–reply schedule — the learner asks actor `k mod N` for turn `k` and waits —
//! which stays reproducible only if every actor's environments and generator are restored with
//! it, as the snapshot here does. Lost actors would be restarted from their last saved state.
//!
//! ## Documentation
//! `wengert train impala CartPole-v1 --set num_actors=3 --set deterministic=true`.
//! `num_actors = 0` or `"auto"` means the machine's cores minus one (at least 1); the resolved
//! configuration records the number. The asynchronous mode is not reproducible, as in every
//! IMPALA implementation; `deterministic = true` is (and resumes bit for bit), at lag 0.
//! `policy = "mlp"` (the default) or `"lstm"` ([`UnrollNetwork`]: an LSTM of `lstm_hidden` units
//! under heads of `hidden` layers), for partially observed tasks such as `CartPoleNoVel-v1`.
//! The LSTM's state `(h, c)` lives in the actors, which carry it across trajectories (and in
//! the deterministic mode's snapshot); the learner sees it per trajectory ([`Unroll`]).

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::{Array1, Array2};
use nn::optim::{Adam, AdamConfig, Optimizer, RmsProp, RmsPropConfig, clip_grad_norm};
use nn::{Activation, ParamStore};
use rand::SeedableRng;
use serde::{Deserialize, Deserializer, Serialize};

use crate::advantage::Trajectory;
use crate::common::config::{Config, RMSPROP_ALPHA, Range};
use crate::common::on_policy::anneal;
use crate::common::trainer::{Part, Report, Trainer};
use crate::env::make;
use crate::exec::actor_learner::{ActorFailure, ActorLearner, Delivery, Schedule};
use crate::policy::{Actions, NetworkConfig, PolicyDistribution, to_f64};
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite, explained_variance};
use crate::unroll::{Unroll, UnrollActor, UnrollBatch};
use crate::unroll_network::{PolicyKind, UnrollAgent, UnrollNetwork};
use crate::vtrace::{VTraceConfig, vtrace};

/// The optimiser of the learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImpalaOptimizer {
    /// RMSprop, the paper's choice.
    RmsProp,
    /// Adam, RLlib's default.
    Adam,
}

/// IMPALA's hyperparameters; defaults and presets in `rl/presets/impala.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImpalaConfig {
    /// Environment steps the learner trains on.
    pub total_timesteps: usize,
    /// `N`: actors. `0` or `"auto"`: the machine's cores minus one (at least 1), recorded here
    /// as that number once resolved.
    #[serde(deserialize_with = "actor_count")]
    pub num_actors: usize,
    /// `E`: environments per actor.
    pub num_envs: usize,
    /// `T`: steps per trajectory.
    pub unroll_length: usize,
    /// `B`: trajectories per learner update.
    pub batch_size: usize,
    /// Actors take turns in a fixed schedule (reproducible, resumable bit for bit, lag 0);
    /// `false`: free-running actor threads.
    pub deterministic: bool,
    /// Trajectories the queue holds in the asynchronous mode.
    pub queue_capacity: usize,
    /// The optimiser's learning rate `α₀`.
    pub learning_rate: f64,
    /// Anneal the learning rate linearly to 0 over the run, `α_k = (1 − (k − 1)/K) α₀` (the
    /// paper's and TorchBeast's schedule); `false`: constant, as RLlib's default.
    pub anneal_lr: bool,
    /// `rmsprop` or `adam`.
    pub optimizer: ImpalaOptimizer,
    /// RMSprop's smoothing constant `α`.
    pub rmsprop_alpha: f64,
    /// The optimiser's `ε`.
    pub optimizer_eps: f64,
    /// Maximum global gradient norm.
    pub max_grad_norm: f64,
    /// `γ`.
    pub gamma: f64,
    /// `ρ̄`: clip of the TD residuals' weights.
    pub rho_bar: f64,
    /// `c̄`: clip of the trace weights.
    pub c_bar: f64,
    /// `ρ̄_pg`: clip of the policy-gradient advantage's weight.
    pub pg_rho_bar: f64,
    /// `c_H`: entropy bonus.
    pub ent_coef: f64,
    /// `c_v`: value loss coefficient.
    pub vf_coef: f64,
    /// `mlp` or `lstm`.
    pub policy: PolicyKind,
    /// The LSTM's units (with `policy = "lstm"`).
    pub lstm_hidden: usize,
    /// Hidden layer sizes (of the MLP, or of the heads above the LSTM).
    pub hidden: Vec<usize>,
    /// Hidden activation: `tanh` or `relu`.
    pub activation: Activation,
    /// Initial `ln σ` of a Gaussian policy.
    pub log_std_init: f64,
    /// Random seed.
    pub seed: u64,
}

/// `num_actors`: a count, or `0` / `"auto"` for the cores minus one.
fn actor_count<'de, D: Deserializer<'de>>(deserializer: D) -> Result<usize, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Count {
        Number(i64),
        Text(String),
    }
    let auto = || crate::exec::cores().saturating_sub(1).max(1);
    match Count::deserialize(deserializer)? {
        Count::Number(0) => Ok(auto()),
        Count::Number(n) if n > 0 => Ok(n as usize),
        Count::Text(text) if text == "auto" => Ok(auto()),
        _ => Err(serde::de::Error::custom(
            "num_actors is a count of actors, or 0 or \"auto\" for the cores minus one",
        )),
    }
}

impl Config for ImpalaConfig {
    const RANGES: &'static [(&'static str, Range)] = &[
        ("total_timesteps", Range::at_least(1.0)),
        ("num_actors", Range::at_least(0.0)),
        ("num_envs", Range::at_least(1.0)),
        ("unroll_length", Range::at_least(1.0)),
        ("batch_size", Range::at_least(1.0)),
        ("queue_capacity", Range::at_least(1.0)),
        ("learning_rate", Range::positive()),
        RMSPROP_ALPHA,
        ("optimizer_eps", Range::positive()),
        ("max_grad_norm", Range::positive()),
        ("gamma", Range::unit()),
        ("rho_bar", Range::positive()),
        ("c_bar", Range::positive()),
        ("pg_rho_bar", Range::positive()),
        ("ent_coef", Range::non_negative()),
        ("vf_coef", Range::non_negative()),
        ("lstm_hidden", Range::at_least(1.0)),
        ("hidden", Range::at_least(1.0)),
        ("log_std_init", Range::finite()),
        ("seed", Range::at_least(0.0)),
    ];
}

// ---- the losses ----

/// What the losses see besides the network's outputs: the `T·M` samples' actions, flattened
/// `k = t·M + m`, with their V-trace targets (constants).
#[derive(Clone, Debug)]
pub struct TargetBatch {
    /// `a_s`.
    pub actions: Actions,
    /// `v_s`.
    pub vs: Array1<f64>,
    /// `A_s = ρ^pg_s (r_s + γ v_{s+1} − V(x_s))`.
    pub advantages: Array1<f64>,
}

/// The value loss `L^V(φ) = ½ E_s[(v_s − V_φ(x_s))²]`, from `V_φ(x_s)`.
pub fn value_loss<T: Float>(value: &Var<T>, batch: &TargetBatch) -> Var<T> {
    let target = Var::constant(batch.vs.mapv(T::from_f64));
    (&target - value).powi(2).mean_all() * T::from_f64(0.5)
}

/// The policy loss `L^π(θ) = −E_s[A_s ln π_θ(a_s|x_s)]` and the mean entropy
/// `E_s[H[π_θ(·|x_s)]]`, from `π_θ(·|x_s)`.
pub fn policy_loss<T: Float>(pi: &PolicyDistribution<T>, batch: &TargetBatch) -> (Var<T>, Var<T>) {
    let advantages = Var::constant(batch.advantages.mapv(T::from_f64));
    let l_pi = -(&pi.log_prob(&batch.actions) * &advantages).mean_all();
    (l_pi, pi.entropy().mean_all())
}

/// IMPALA's loss `L = L^π + c_v L^V − c_H H` from `π_θ(·|x_s)` and `V_φ(x_s)` of the batch's
/// samples, with `(L^π, L^V, H)` for the logs.
pub fn loss<T: Float>(
    pi: &PolicyDistribution<T>,
    value: &Var<T>,
    batch: &TargetBatch,
    config: &ImpalaConfig,
) -> (Var<T>, [f64; 3]) {
    let (l_pi, entropy) = policy_loss(pi, batch);
    let l_v = value_loss(value, batch);
    let terms = [l_pi.item(), l_v.item(), entropy.item()].map(|x| x.as_f64());
    let total =
        &l_pi + &(&l_v * T::from_f64(config.vf_coef)) - &entropy * T::from_f64(config.ent_coef);
    (total, terms)
}

// ---- the update ----

/// V-trace on a batch from the learner's `V` of every state of `batch.value_inputs` and
/// `ln π(a_s|x_s)` (both held constant): the targets, `V(x_s)` for the logs, and the mean of
/// `ρ_s = min(ρ̄, π̄_s)`.
fn targets(
    batch: &UnrollBatch,
    v_all: &Array1<f64>,
    log_pi: &Array1<f64>,
    config: &ImpalaConfig,
) -> (TargetBatch, Array1<f64>, f64) {
    let (steps, columns) = batch.rewards.dim();
    let values = batch.value_rows.mapv(|row| v_all[row]);
    let next_values = batch.next_rows.mapv(|row| v_all[row]);
    let log_rhos = Array2::from_shape_fn((steps, columns), |(t, m)| {
        log_pi[t * columns + m] - batch.behaviour_log_probs[[t, m]]
    });
    let (vs, advantages) = vtrace(
        &Trajectory {
            rewards: &batch.rewards,
            values: &values,
            next_values: &next_values,
            terminated: &batch.terminated,
            done: &batch.done,
        },
        &log_rhos,
        &VTraceConfig {
            gamma: config.gamma,
            rho_bar: config.rho_bar,
            c_bar: config.c_bar,
            lambda: 1.0,
            pg_rho_bar: config.pg_rho_bar,
        },
    );
    let flat = |a: Array2<f64>| Array1::from_iter(a.iter().copied());
    let rho_mean = log_rhos
        .mapv(|l| l.exp().min(config.rho_bar))
        .mean()
        .unwrap_or(1.0);
    let target_batch = TargetBatch {
        actions: batch.actions.clone(),
        vs: flat(vs),
        advantages: flat(advantages),
    };
    (target_batch, flat(values), rho_mean)
}

/// What one update leaves for the logs: `(L^π, L^V, H)`, the gradient's norm before clipping,
/// `V(x_s)`, `v_s` and the mean `ρ_s`.
struct Step {
    terms: [f64; 3],
    grad_norm: f64,
    values: Array1<f64>,
    vs: Array1<f64>,
    rho_mean: f64,
}

/// One optimiser step on `L`, from one forward pass of the network over the batch: the targets
/// are computed from its outputs held constant (as TorchBeast and RLlib do, from
/// `values.detach()`), the loss from the same outputs on the tape.
fn update(impala: &mut Impala, batch: &UnrollBatch, iteration: usize) -> Result<Step, TrainError> {
    let tape = Tape::new();
    let params = impala.store.bind(&tape);
    let (agent, config) = (&impala.agent, &impala.config);
    let pi = agent.policy(&params, &batch.inputs);
    let v_all = agent.value(&params, &batch.value_inputs);
    let log_pi = no_grad(|| to_f64(&pi.log_prob(&batch.actions)));
    let (target_batch, values, rho_mean) = targets(batch, &to_f64(&v_all), &log_pi, config);
    let value = v_all.index_select(0, batch.value_rows.as_slice().expect("standard layout"));
    let (l, terms) = loss(&pi, &value, &target_batch, config);
    check_finite(&l, "IMPALA loss", iteration, &tape)?;
    let mut gradients = params.gradients(&l);
    let grad_norm = gradients.global_norm() as f64;
    clip_grad_norm(&mut gradients, impala.config.max_grad_norm as f32);
    impala.optimizer.step(&impala.store, &gradients);
    Ok(Step {
        terms,
        grad_norm,
        values,
        vs: target_batch.vs,
        rho_mean,
    })
}

// ---- the loop ----

/// An IMPALA trainer: the learner's network and optimiser, and the actors.
pub struct Impala {
    config: ImpalaConfig,
    env_id: String,
    store: ParamStore<f32>,
    agent: UnrollNetwork,
    optimizer: Box<dyn Optimizer<f32>>,
    actors: ActorLearner<UnrollActor>,
}

impl Trainer for Impala {
    const NAME: &'static str = "impala";
    type Config = ImpalaConfig;
    type Agent = UnrollAgent;

    fn steps_per_iteration(config: &ImpalaConfig) -> usize {
        config.batch_size * config.unroll_length * config.num_envs
    }

    fn iteration_in_words(config: &ImpalaConfig) -> String {
        format!(
            "one batch of batch_size × unroll_length × num_envs = {} × {} × {} = {} environment steps",
            config.batch_size,
            config.unroll_length,
            config.num_envs,
            Self::steps_per_iteration(config)
        )
    }

    fn iterations(config: &ImpalaConfig) -> usize {
        config.total_timesteps / Self::steps_per_iteration(config)
    }

    fn new(env_id: &str, config: &ImpalaConfig) -> Result<Self, TrainError> {
        let mut rng = TrainerRng::seed_from_u64(config.seed);
        let mut store = ParamStore::<f32>::new();
        let network = NetworkConfig {
            hidden: config.hidden.clone(),
            activation: config.activation,
            log_std_init: config.log_std_init,
        };
        let probe = make(env_id)?;
        let (dim, space) = (probe.observation_space().dim(), probe.action_space());
        let kind = (config.policy, config.lstm_hidden);
        let agent = UnrollNetwork::new(&mut store, dim, space, kind, &network, &mut rng);
        let sizes = (config.num_actors, config.num_envs, config.unroll_length);
        let actors = UnrollActor::team(env_id, &agent, sizes, config.seed)?;
        let (lr, eps) = (config.learning_rate as f32, config.optimizer_eps as f32);
        let optimizer: Box<dyn Optimizer<f32>> = match config.optimizer {
            ImpalaOptimizer::RmsProp => Box::new(RmsProp::new(
                store.trainable(),
                RmsPropConfig {
                    lr,
                    alpha: config.rmsprop_alpha as f32,
                    eps,
                    ..RmsPropConfig::default()
                },
            )),
            ImpalaOptimizer::Adam => Box::new(Adam::new(
                store.trainable(),
                AdamConfig {
                    lr,
                    eps,
                    ..AdamConfig::default()
                },
            )),
        };
        let schedule = if config.deterministic {
            Schedule::Deterministic
        } else {
            Schedule::Asynchronous {
                queue_capacity: config.queue_capacity,
            }
        };
        Ok(Impala {
            actors: ActorLearner::new(actors, store.clone(), schedule),
            config: config.clone(),
            env_id: env_id.to_string(),
            store,
            agent,
            optimizer,
        })
    }

    fn iterate(&mut self, iteration: usize) -> Result<Report, TrainError> {
        if self.config.anneal_lr {
            let (lr, iterations) = (self.config.learning_rate, Self::iterations(&self.config));
            anneal(&mut *self.optimizer, lr, iteration, iterations);
        }
        // publish θ as version k − 1 (the updates behind it); take B trajectories
        let version = iteration as u64 - 1;
        self.actors.publish(version, self.store.clone());
        let deliveries = self
            .actors
            .next_batch(self.config.batch_size)
            .map_err(|failure| match failure {
                ActorFailure::Actor { error, .. } => error,
                ActorFailure::Panic { actor, message } => {
                    TrainError::Config(format!("IMPALA actor {actor} panicked: {message}"))
                }
            })?;
        let lags: Vec<f64> = deliveries
            .iter()
            .map(|d| (version - d.version) as f64)
            .collect();
        let unrolls: Vec<Unroll> = deliveries
            .into_iter()
            .map(|d: Delivery<Unroll>| d.trajectory)
            .collect();
        let batch = UnrollBatch::new(&unrolls);

        // one forward pass with the current θ: V-trace targets, then one step on L
        let step = update(self, &batch, iteration)?;
        let [policy_loss, value_loss, entropy] = step.terms;

        let timings = self.actors.timings();
        Ok(Report {
            env_steps: Self::steps_per_iteration(&self.config),
            episode_returns: batch.episode_returns,
            episode_lengths: batch.episode_lengths,
            losses: vec![
                ("policy_loss", policy_loss),
                ("value_loss", value_loss),
                ("entropy", entropy),
                (
                    "explained_variance",
                    explained_variance(&step.values, &step.vs),
                ),
                ("rho_mean", step.rho_mean),
                ("grad_norm", step.grad_norm),
                (
                    "policy_lag_mean",
                    lags.iter().sum::<f64>() / lags.len() as f64,
                ),
                ("policy_lag_max", lags.iter().copied().fold(0.0, f64::max)),
                // wall-clock time so far, where it went (not reproducible)
                ("learner_waiting_seconds", timings.learner_waiting),
                ("publishing_seconds", timings.publishing),
                ("acting_seconds", timings.acting),
                ("actors_blocked_seconds", timings.actors_blocked),
            ],
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        vec![
            ("agent", Part::Params(&self.store)),
            (
                "optimizer",
                Part::Optimizer(&mut *self.optimizer, &self.store),
            ),
            ("actors", Part::State(&mut self.actors)),
        ]
    }

    fn into_agent(self) -> UnrollAgent {
        UnrollAgent::new(self.env_id, self.store, self.agent)
    }
}
