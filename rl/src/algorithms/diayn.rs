//! # DIAYN — Diversity Is All You Need: skills without a reward, on Soft Actor-Critic
//!
//! ## Background
//! Eysenbach, Gupta, Ibarz and Levine (2018) learn `K` distinct behaviours ("skills") with no
//! reward at all. A skill `z` is drawn from a fixed prior at the start of every episode and fed
//! to the policy `π_θ(a | s, z)` with the state. Skills should (1) visit states from which the
//! skill can be told, (2) be told apart by states, not by actions (an observer cannot see
//! actions), and (3) act as randomly as possible otherwise. A discriminator `q_φ(z | s)` learns
//! to guess the skill from the state; the policy is paid for being easy to guess, by SAC with
//! a **pseudo-reward**, and the environment's own reward is ignored.
//!
//! The paper's choices, followed here: the discriminator sees the **state, not the action**;
//! the temperature `α` is **fixed** (no automatic tuning: the entropy bonus is part of the
//! objective, not a constraint); and `−log p(z)` is **included** in the reward, so that it is
//! positive once the discriminator beats chance (the agent then has no reason to end episodes
//! early).
//!
//! ## Key equations
//! With `p(z) = U{0, …, K−1}` and `S` the states a skill visits, the objective
//!
//! $$ \mathcal F(\theta) = I(S; Z) + \mathcal H(A \mid S) - I(A; Z \mid S) = \mathcal H(Z) - \mathcal H(Z \mid S) + \mathcal H(A \mid S, Z) $$
//!
//! is bounded below, through the variational `q_φ(z|s) ≈ p(z|s)`, by
//!
//! $$ \mathcal G(\theta, \phi) = \mathbb E_{z \sim p(z),\, s \sim \pi(z)} \big[ \log q_\phi(z \mid s) - \log p(z) \big] + \mathcal H(A \mid S, Z) , $$
//!
//! which is SAC's objective with the reward `r_z(s') = log q_φ(z|s') − log p(z)` on the state
//! reached, `s'`. Its ceiling is `log K` (a discriminator certain of `z`), `0` is chance.
//! The discriminator maximises the same bound by cross-entropy on the replayed states:
//!
//! $$ L(\phi) = -\mathbb E_{(s', z) \sim \mathcal D} \big[ \log q_\phi(z \mid s') \big] , \qquad q_\phi(\cdot \mid s') = \operatorname{softmax}\big(f_\phi(s')\big) . $$
//!
//! SAC on `r_z` with the fixed `α`, the policy and twin critics seeing `[s; one_hot(z)]`:
//!
//! $$ y = r_z(s') + \gamma (1 - d) \Big( \min_i Q_{\bar\phi_i}([s'; z], \tilde a') - \alpha \ln \pi_\theta(\tilde a' \mid s', z) \Big) , \qquad \tilde a' \sim \pi_\theta(\cdot \mid s', z) , $$
//! $$ L(\phi_Q) = \tfrac12 \sum_i \mathbb E_{\mathcal D} \Big[ \big( Q_{\phi_i}([s; z], a) - y \big)^2 \Big] , $$
//! $$ L(\theta) = \mathbb E_{s \sim \mathcal D,\, \varepsilon} \Big[ \alpha \ln \pi_\theta(\tilde a \mid s, z) - \min_i Q_{\phi_i}([s; z], \tilde a) \Big] . $$
//!
//! ## Pseudocode
//! ```text
//! initialise θ, φ_Q1, φ_Q2, φ̄ ← φ_Q, the discriminator φ; D ← ∅
//! for every episode: z ~ p(z), kept until the episode ends     (the +skills=K environment)
//! for t = 1 … total_timesteps:
//!     ã ← uniform if t ≤ learning_starts, else ã ~ π_θ(·|s, z); step; store ([s; z], ã, [s'; z], d)
//!     if t > learning_starts and t mod train_freq = 0, repeat gradient_steps times:
//!         sample a batch B from D
//!         r_z = log q_φ(z|s') − log p(z)                       (the environment's reward unused)
//!         φ_Q ← Adam step on the critic loss with target y(r_z)
//!         θ ← Adam step on the actor loss
//!         φ ← Adam step on −mean_B log q_φ(z|s')
//!         φ̄ ← τ φ_Q + (1 − τ) φ̄  (every target_update_interval steps)
//! ```
//! The loop is [`crate::common::off_policy`]'s, run in the `+skills=K` environment: the skills
//! live in the environment ([`crate::env::SkillConditioned`]), so the buffer stores
//! `[s; one_hot(z)]`.
//!
//! The presets (`rl/presets/diayn.toml`) keep the paper's `α`, `γ`, learning rate and `K`, with
//! 64-64 networks instead of 300-300. On MountainCarContinuous-v0 they also take one gradient
//! step every 4 environment steps (`train_freq = 4`, `gradient_steps = 1`): a budget counts
//! environment steps, a gradient step is nearly all of a step's cost, and with 999-step
//! episodes a skill is still seen for hundreds of updates.

use autograd::{Float, Tape, Tensor, Var, no_grad, one_hot};
use ndarray::Array2;
use nn::losses::{Reduction, cross_entropy};
use nn::optim::{Adam, AdamConfig, Optimizer};
use nn::{Bound, Mlp, Module, ParamStore, Path};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::buffers::Batch;
use crate::common::config::{Config, Range, ranges};
use crate::common::off_policy::{
    Learner, OffPolicy, OffPolicyAlgorithm, OffPolicyCoreConfig, OffPolicyTrainer, Update,
};
use crate::common::trainer::Part;
use crate::continuous::soft_actor_critic::{sample_actions, soft_actor_critic_step};
use crate::continuous::{
    ContinuousAgent, Parameters, PolicyHead, SquashedGaussianActor, Transitions, TwinQ, mean,
    to_rows,
};
use crate::env::split_skills;
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::{Agent, TrainError, check_finite};

/// DIAYN's hyperparameters (`rl/presets/diayn.toml`): the paper's `K`, `α = 0.1` and networks,
/// with Stable-Baselines3's SAC settings for the rest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiaynConfig {
    /// The budget, replay, batch, `γ`, `τ`, learning rate, training schedule and network sizes,
    /// flat keys shared with the other off-policy learners.
    #[serde(flatten)]
    pub core: OffPolicyCoreConfig,
    /// Gradient steps between target updates.
    pub target_update_interval: usize,
    /// `K`, the number of skills.
    pub skills: usize,
    /// `α`, fixed.
    pub alpha: f64,
    /// Hidden layer sizes of the discriminator `q_φ(z|s)`.
    pub discriminator_hidden: Vec<usize>,
    /// Random seed: the same seed gives the same run.
    pub seed: u64,
    /// Environment steps per iteration (between reported metrics).
    pub log_interval: usize,
}

impl Config for DiaynConfig {
    const RANGES: &'static [(&'static str, Range)] = &ranges::<16>(&[
        &OffPolicyCoreConfig::RANGES,
        &[
            ("target_update_interval", Range::at_least(1.0)),
            // one skill has nothing to be told apart from: log q = log p = 0
            ("skills", Range::at_least(2.0)),
            // α = 0 is SAC without entropy, which DIAYN's objective needs
            ("alpha", Range::positive()),
            ("discriminator_hidden", Range::at_least(1.0)),
            ("seed", Range::at_least(0.0)),
            ("log_interval", Range::at_least(1.0)),
        ],
    ]);
}

/// The discriminator `q_φ(z|s) = softmax(f_φ(s))`: an MLP from the state (without the skill) to
/// `K` logits.
#[derive(Clone, Debug)]
pub struct Discriminator {
    pub mlp: Mlp,
    /// `K`.
    pub skills: usize,
}

impl Discriminator {
    /// `q_φ` for `state_dim`-dimensional states and `skills` skills (ReLU hidden layers).
    pub fn new<T: Float>(
        path: &mut Path<'_, T>,
        state_dim: usize,
        skills: usize,
        hidden: &[usize],
        rng: &mut (impl Rng + ?Sized),
    ) -> Self {
        let mut sizes = vec![state_dim];
        sizes.extend(hidden);
        sizes.push(skills);
        Discriminator {
            mlp: Mlp::builder(&sizes).build(path, rng),
            skills,
        }
    }

    /// `log q_φ(·|s)` for a batch of states, `(B, K)`.
    pub fn log_q<T: Float>(&self, params: &Bound<'_, T>, states: &Var<T>) -> Var<T> {
        self.mlp.forward(params, states).log_softmax(-1)
    }
}

// ---- the losses ----

/// The discriminator loss `L(φ) = −mean_B log q_φ(z|s')` (cross-entropy of the logits against
/// the skills), with the fraction of states whose most likely skill is `z` (`accuracy`).
pub fn discriminator_loss<T: Float>(
    discriminator: &Discriminator,
    params: &Bound<'_, T>,
    states: &Var<T>,
    skills: &[usize],
) -> (Var<T>, f64) {
    let logits = discriminator.mlp.forward(params, states);
    let targets: Vec<i64> = skills.iter().map(|&z| z as i64).collect();
    let loss = cross_entropy(&logits, &targets, Reduction::Mean);
    let values = logits.value();
    let k = discriminator.skills;
    let correct = skills
        .iter()
        .enumerate()
        .filter(|&(b, &z)| (0..k).all(|j| values[[b, j]] <= values[[b, z]]))
        .count();
    (loss, correct as f64 / skills.len().max(1) as f64)
}

/// The pseudo-reward `r_z(s') = log q_φ(z|s') − log p(z)` with `p(z) = 1/K`, `(B)`, computed
/// without recording.
pub fn pseudo_reward<T: Float>(
    discriminator: &Discriminator,
    params: &Bound<'_, T>,
    next_states: &Var<T>,
    skills: &[usize],
) -> Var<T> {
    no_grad(|| {
        let log_p = -(discriminator.skills as f64).ln();
        discriminator
            .log_q(params, next_states)
            .mul(&Var::constant(one_hot::<T>(skills, discriminator.skills)))
            .sum(&[-1], false)
            .add_scalar(T::from_f64(-log_p))
    })
}

/// SAC's soft target `y` (with `batch.rewards` holding the pseudo-rewards `r_z`), twin critics'
/// loss `L(φ_Q)` and actor loss `L(θ)` on `[s; z]`: see [`crate::continuous::soft_actor_critic`].
pub use crate::continuous::soft_actor_critic::{actor_loss, critic_loss, critic_target};

// ---- the update ----

/// `θ`, `φ_Q1`, `φ_Q2`, `φ̄` and their optimisers, the discriminator `φ` and its optimiser,
/// and the update's settings.
pub struct Networks {
    actor: SquashedGaussianActor,
    critics: TwinQ,
    params: Parameters,
    discriminator: Discriminator,
    discriminator_store: ParamStore<f32>,
    discriminator_optimizer: Adam<f32>,
    alpha: f32,
    tau: f32,
    target_update_interval: usize,
}

impl Learner for Networks {
    const DIAGNOSTICS: &'static [&'static str] = &[
        "critic_loss",
        "actor_loss",
        "discriminator_loss",
        "log_q",
        "pseudo_reward",
        "discriminator_accuracy",
        "q_mean",
        "entropy",
    ];

    /// `ã ~ π_θ(·|s, z)`.
    fn act(&mut self, observations: &Array2<f32>, _t: usize, rng: &mut TrainerRng) -> Actions {
        sample_actions(&self.actor, &self.params.actor, observations, rng)
    }

    fn update(
        &mut self,
        replayed: &Batch,
        step: usize,
        rng: &mut TrainerRng,
        iteration: usize,
    ) -> Result<Update, TrainError> {
        let (next_states, skills) =
            split_skills(&replayed.next_observations, self.discriminator.skills);
        let next_states = Var::constant(next_states);

        // r_z = log q_φ(z|s') − log p(z), in place of the environment's reward
        let mut batch = Transitions::<f32>::new(replayed);
        batch.rewards = pseudo_reward(
            &self.discriminator,
            &self.discriminator_store.constants(),
            &next_states,
            &skills,
        );

        // φ_Q, then θ: SAC's step at the fixed α
        let soft = soft_actor_critic_step(
            &self.actor,
            &self.critics,
            &mut self.params,
            &batch,
            self.alpha,
            rng,
            iteration,
            "DIAYN",
        )?;

        // φ
        let tape = Tape::new();
        let phi = self.discriminator_store.bind(&tape);
        let (l_phi, accuracy) =
            discriminator_loss(&self.discriminator, &phi, &next_states, &skills);
        check_finite(&l_phi, "DIAYN discriminator loss", iteration, &tape)?;
        self.discriminator_optimizer
            .step(&self.discriminator_store, &phi.gradients(&l_phi));

        // φ̄
        if step.is_multiple_of(self.target_update_interval) {
            self.params.update_targets(self.tau);
        }
        let pseudo = mean(&batch.rewards);
        Ok(Update {
            diagnostics: vec![
                ("critic_loss", soft.critic_loss),
                ("actor_loss", soft.actor_loss),
                ("discriminator_loss", l_phi.item() as f64),
                ("log_q", pseudo - (self.discriminator.skills as f64).ln()),
                ("pseudo_reward", pseudo),
                ("discriminator_accuracy", accuracy),
                ("q_mean", soft.q_mean),
                ("entropy", -mean(&soft.log_prob)),
            ],
            td_errors: Vec::new(),
        })
    }
}

// ---- the loop ----

/// A DIAYN trainer: the networks, driven by the loop of [`crate::common::off_policy`] in the
/// skill-conditioned environment.
pub type Diayn = OffPolicyTrainer<Networks>;

/// What DIAYN leaves: the skill-conditioned policy (acting on `[s; one_hot(z)]`, in the
/// `+skills=K` environment) and the discriminator.
pub struct SkillAgent {
    /// The policy; its store holds every network (`discriminator.*` included).
    pub policy: ContinuousAgent,
    /// `q_φ(z|s)`, indexing `discriminator_store`.
    pub discriminator: Discriminator,
    /// The discriminator's parameters.
    pub discriminator_store: ParamStore<f32>,
}

impl SkillAgent {
    /// The most likely skill `argmax_z q_φ(z|s)` of each state row (without the skill).
    pub fn discriminate(&self, states: &Array2<f32>) -> Vec<usize> {
        let params = self.discriminator_store.constants();
        let log_q = no_grad(|| {
            self.discriminator
                .log_q(&params, &Var::constant(states.clone()))
        });
        to_rows(log_q.value(), self.discriminator.skills)
            .rows()
            .into_iter()
            .map(|row| (0..row.len()).fold(0, |best, j| if row[j] > row[best] { j } else { best }))
            .collect()
    }
}

impl Agent for SkillAgent {
    fn env_id(&self) -> &str {
        self.policy.env_id()
    }
    fn act(&self, observations: &Array2<f32>) -> Actions {
        self.policy.act(observations)
    }
    fn store(&self) -> &ParamStore<f32> {
        self.policy.store()
    }
}

impl OffPolicyAlgorithm for Networks {
    const NAME: &'static str = "diayn";
    type Config = DiaynConfig;
    type Agent = SkillAgent;

    /// `env_id+skills=K`: `z ~ p(z)` at every reset, `[s; one_hot(z)]` observed.
    fn env_id(env_id: &str, config: &DiaynConfig) -> String {
        format!("{env_id}+skills={}", config.skills)
    }

    /// `θ`, `φ_Q1`, `φ_Q2`, `φ̄ ← φ_Q`, then the discriminator `φ`.
    fn new(
        _env_id: &str,
        config: &DiaynConfig,
        off_policy: &mut OffPolicy,
    ) -> Result<Self, TrainError> {
        let (actor, critics, params): (SquashedGaussianActor, TwinQ, _) = Parameters::init(
            off_policy,
            &config.core.hidden,
            false,
            config.core.learning_rate,
        )?;
        let mut discriminator_store = ParamStore::<f32>::new();
        let discriminator = Discriminator::new(
            &mut discriminator_store.root(),
            off_policy.envs.observation_dim() - config.skills,
            config.skills,
            &config.discriminator_hidden,
            &mut off_policy.rng,
        );
        let adam = AdamConfig {
            lr: config.core.learning_rate as f32,
            ..AdamConfig::default()
        };
        Ok(Networks {
            actor,
            critics,
            params,
            discriminator,
            discriminator_optimizer: Adam::new(discriminator_store.trainable(), adam),
            discriminator_store,
            alpha: config.alpha as f32,
            tau: config.core.tau as f32,
            target_update_interval: config.target_update_interval,
        })
    }

    fn parts(&mut self) -> Vec<(&'static str, Part<'_>)> {
        let mut parts = self.params.parts();
        parts.extend([
            (
                "agent.discriminator",
                Part::Params(&self.discriminator_store),
            ),
            (
                "discriminator_optimizer",
                Part::Optimizer(&mut self.discriminator_optimizer, &self.discriminator_store),
            ),
        ]);
        parts
    }

    fn into_agent(self, env_id: String, off_policy: OffPolicy) -> SkillAgent {
        let store = self
            .params
            .merged(&[("discriminator", &self.discriminator_store)]);
        SkillAgent {
            policy: ContinuousAgent::new(
                env_id,
                store,
                self.actor.mlp,
                PolicyHead::TanhGaussian,
                &off_policy,
            ),
            discriminator: self.discriminator,
            discriminator_store: self.discriminator_store,
        }
    }
}
