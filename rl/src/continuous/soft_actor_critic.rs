//! # The soft actor-critic update: twin soft critics and a squashed-Gaussian actor
//!
//! What SAC ([`crate::algorithms::sac`]) and DIAYN ([`crate::algorithms::diayn`]) share: the
//! maximum-entropy losses of Haarnoja et al. (2018) at a temperature `α`, and one gradient step
//! of the critics and then of the actor. SAC feeds them the environment's reward and may tune
//! `α`; DIAYN feeds them its pseudo-reward with a fixed `α`.
//!
//! ## Key equations
//! With `ã' = tanh(μ_θ(s') + σ_θ(s') ⊙ ε')`, `ε' ~ N(0, I)`, the soft Bellman target
//!
//! $$ y = r + \gamma (1 - d) \Big( \min_{i=1,2} Q_{\bar\phi_i}(s', \tilde a') - \alpha \ln \pi_\theta(\tilde a' \mid s') \Big) , $$
//!
//! the critic loss `L(φ) = ½ Σ_i E_D[(Q_φi(s, a) − y)²]`, and the actor loss, a pathwise
//! gradient through `ã = tanh(μ_θ(s) + σ_θ(s) ⊙ ε)`,
//!
//! $$ L(\theta) = \mathbb E_{s \sim D, \varepsilon}\Big[\alpha \ln \pi_\theta(\tilde a \mid s) - \min_i Q_{\phi_i}(s, \tilde a)\Big] . $$
//!
//! ## Pseudocode of [`soft_actor_critic_step`]
//! ```text
//! y = r + γ (1 − d) (min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s')),  ã' ~ π_θ(·|s')
//! φ ← Adam step on ½ Σ_i mean_B (Q_φi(s, a) − y)²
//! θ ← Adam step on mean_B (α ln π_θ(ã|s) − min_i Q_φi(s, ã)),  ã = tanh(μ + σ ⊙ ε)
//! ```

use autograd::{Float, Tape, Tensor, Var, no_grad};
use ndarray::{Array2, ArrayD};
use nn::optim::Optimizer;
use nn::{Bound, ParamStore};

use super::{Parameters, SquashedGaussianActor, Transitions, TwinQ, mean, to_rows};
use crate::common::off_policy::standard_normal_array;
use crate::policy::Actions;
use crate::snapshot::TrainerRng;
use crate::train::{TrainError, check_finite};

/// Exploration's `ã ~ π_θ(·|s)`, one row per observation, with `θ` in `params`.
pub fn sample_actions(
    actor: &SquashedGaussianActor,
    params: &ParamStore<f32>,
    observations: &Array2<f32>,
    rng: &mut TrainerRng,
) -> Actions {
    let params = params.constants();
    let draw = no_grad(|| {
        actor
            .distribution(&params, &Var::constant(observations.clone()))
            .sample(rng)
    });
    Actions::Continuous(to_rows(draw.action.value(), actor.action_dim))
}

// ANCHOR: critic_target
/// The soft target `y = r + γ(1 − d)(min_i Q_φ̄i(s', ã') − α ln π_θ(ã'|s'))` with
/// `ã' = tanh(μ_θ(s') + σ_θ(s') ⊙ ε')` for the given noise `ε'` `(B, |A|)`, computed without
/// recording.
pub fn critic_target<T: Float>(
    actor: &SquashedGaussianActor,
    actor_params: &Bound<'_, T>,
    critics: &TwinQ,
    critic_target: &Bound<'_, T>,
    batch: &Transitions<T>,
    epsilon: &ArrayD<T>,
    alpha: T,
) -> Var<T> {
    no_grad(|| {
        let pi = actor.distribution(actor_params, &batch.next_observations);
        let draw = pi.rsample_with(epsilon);
        let soft_value = critics
            .min(critic_target, &batch.next_observations, &draw.action)
            .sub(&pi.log_prob(&draw).mul_scalar(alpha));
        batch.rewards.add(&batch.bootstrap.mul(&soft_value))
    })
}
// ANCHOR_END: critic_target

/// The critic loss `L(φ) = ½ Σ_i mean_B (Q_φi(s, a) − y)²`, with `½ Σ_i mean_B Q_φi(s, a)`
/// (`q_mean`).
pub fn critic_loss<T: Float>(
    critics: &TwinQ,
    params: &Bound<'_, T>,
    batch: &Transitions<T>,
    y: &Var<T>,
) -> (Var<T>, f64) {
    let (q1, q2) = critics.forward(params, &batch.observations, &batch.actions);
    let loss = (&q1 - y)
        .powi(2)
        .mean_all()
        .add(&(&q2 - y).powi(2).mean_all())
        .mul_scalar(T::from_f64(0.5));
    (loss, 0.5 * (mean(&q1) + mean(&q2)))
}

// ANCHOR: actor_loss
/// The actor loss `L(θ) = mean_B(α ln π_θ(ã|s) − min_i Q_φi(s, ã))` with
/// `ã = tanh(μ_θ(s) + σ_θ(s) ⊙ ε)` for the given noise `ε` `(B, |A|)`; returns the loss and
/// `ln π_θ(ã|s)` `(B)`. Bind `critic_params` as constants so that only `θ` is trained.
pub fn actor_loss<T: Float>(
    actor: &SquashedGaussianActor,
    actor_params: &Bound<'_, T>,
    critics: &TwinQ,
    critic_params: &Bound<'_, T>,
    batch: &Transitions<T>,
    epsilon: &ArrayD<T>,
    alpha: T,
) -> (Var<T>, Var<T>) {
    let pi = actor.distribution(actor_params, &batch.observations);
    let draw = pi.rsample_with(epsilon);
    let log_prob = pi.log_prob(&draw);
    let q = critics.min(critic_params, &batch.observations, &draw.action);
    let loss = log_prob.mul_scalar(alpha).sub(&q).mean_all();
    (loss, log_prob)
}
// ANCHOR_END: actor_loss

/// What one [`soft_actor_critic_step`] reports.
pub struct SoftStep {
    /// `L(φ)` before the step.
    pub critic_loss: f64,
    /// `½ Σ_i mean_B Q_φi(s, a)`.
    pub q_mean: f64,
    /// `L(θ)` before the step.
    pub actor_loss: f64,
    /// `ln π_θ(ã|s)` of the actor loss's samples, `(B)`.
    pub log_prob: Var<f32>,
}

/// One gradient step of the critics `φ` on [`critic_loss`] towards [`critic_target`], then of
/// the actor `θ` on [`actor_loss`] through the updated critics, at temperature `alpha`; the
/// noise `ε'` and then `ε` are drawn from `rng` in that order. `name` (`"SAC"`) prefixes the
/// error of a non-finite loss.
#[allow(clippy::too_many_arguments)]
pub fn soft_actor_critic_step(
    actor: &SquashedGaussianActor,
    critics: &TwinQ,
    p: &mut Parameters,
    batch: &Transitions<f32>,
    alpha: f32,
    rng: &mut TrainerRng,
    iteration: usize,
    name: &str,
) -> Result<SoftStep, TrainError> {
    let (n, d) = (batch.observations.shape()[0], actor.action_dim);
    let epsilon_next = standard_normal_array(n, d, rng);
    let y = critic_target(
        actor,
        &p.actor.constants(),
        critics,
        &p.critic_target.constants(),
        batch,
        &epsilon_next,
        alpha,
    );

    // φ1, φ2
    let tape = Tape::new();
    let phi = p.critic.bind(&tape);
    let (l_phi, q_mean) = critic_loss(critics, &phi, batch, &y);
    check_finite(&l_phi, &format!("{name} critic loss"), iteration, &tape)?;
    p.critic_optimizer.step(&p.critic, &phi.gradients(&l_phi));

    // θ, through the updated critics
    let tape = Tape::new();
    let theta = p.actor.bind(&tape);
    let epsilon = standard_normal_array(n, d, rng);
    let (l_theta, log_prob) = actor_loss(
        actor,
        &theta,
        critics,
        &p.critic.constants(),
        batch,
        &epsilon,
        alpha,
    );
    check_finite(&l_theta, &format!("{name} actor loss"), iteration, &tape)?;
    p.actor_optimizer.step(&p.actor, &theta.gradients(&l_theta));
    Ok(SoftStep {
        critic_loss: l_phi.item() as f64,
        q_mean,
        actor_loss: l_theta.item() as f64,
        log_prob,
    })
}
