//! SAC's losses: the actor loss's gradient against central differences, the log-probability
//! term with its tanh correction, and the direction of the automatic temperature update.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::Array2;
use nn::{ParamId, ParamStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::sac::{Temperature, actor_loss};
use wengert_rl::common::off_policy::standard_normal_array;
use wengert_rl::continuous::{Network, SquashedGaussianActor, Transitions, TwinQ};

struct Fixture {
    actor: SquashedGaussianActor,
    actor_store: ParamStore<f64>,
    critics: TwinQ,
    critic_store: ParamStore<f64>,
    batch: Transitions<f64>,
    epsilon: ndarray::ArrayD<f64>,
}

fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(7);
    let mut actor_store = ParamStore::<f64>::new();
    let actor = SquashedGaussianActor::new(
        &mut actor_store.root().sub("actor"),
        3,
        2,
        &[6, 5],
        &mut rng,
    );
    let mut critic_store = ParamStore::<f64>::new();
    let critics = TwinQ::new(&mut critic_store.root(), 3, 2, &[6, 5], &mut rng);
    let observations =
        Array2::from_shape_fn((4, 3), |(i, j)| ((i * 3 + j) as f64 * 0.7).sin() * 1.5);
    Fixture {
        actor,
        actor_store,
        critics,
        critic_store,
        // the actor loss reads only the states
        batch: Transitions {
            observations: Var::constant(observations.clone()),
            actions: Var::constant(Array2::<f64>::zeros((4, 2))),
            rewards: Var::constant(ndarray::Array1::<f64>::zeros(4)),
            next_observations: Var::constant(observations),
            bootstrap: Var::constant(ndarray::Array1::<f64>::zeros(4)),
        },
        epsilon: standard_normal_array(4, 2, &mut rng),
    }
}

#[test]
fn the_actor_loss_gradient_equals_central_differences() {
    let f = fixture();
    let ids: Vec<ParamId> = f.actor_store.trainable().collect();
    let inputs: Vec<SharedArray<f64>> = ids.iter().map(|&id| f.actor_store.value(id)).collect();
    let alpha = 0.3;
    let result = gradcheck(
        |theta| {
            let params = f
                .actor_store
                .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
            actor_loss(
                &f.actor,
                &params,
                &f.critics,
                &f.critic_store.constants(),
                &f.batch,
                &f.epsilon,
                alpha,
            )
            .0
        },
        &inputs,
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());

    // The gradient the trainer uses (bind + gradients) is the same vector-Jacobian product, and
    // it reaches every actor parameter (through μ, through ln σ, and through ã into Q).
    let tape = Tape::new();
    let params = f.actor_store.bind(&tape);
    let (loss, _) = actor_loss(
        &f.actor,
        &params,
        &f.critics,
        &f.critic_store.constants(),
        &f.batch,
        &f.epsilon,
        alpha,
    );
    let grads = params.gradients(&loss);
    for id in ids {
        assert!(
            grads[id].iter().any(|g| *g != 0.0),
            "{}",
            f.actor_store.name(id)
        );
    }
}

#[test]
fn the_actor_loss_is_alpha_log_pi_minus_the_smaller_q() {
    let f = fixture();
    let params = f.actor_store.constants();
    let critic_params = f.critic_store.constants();
    let (loss, log_prob) = actor_loss(
        &f.actor,
        &params,
        &f.critics,
        &critic_params,
        &f.batch,
        &f.epsilon,
        0.5,
    );

    // ln π(ã|s) by hand: u = μ + σ ε, ln N(u; μ, σ²) − Σ ln(1 − tanh² u).
    let pi = f.actor.distribution(&params, &f.batch.observations);
    let (mu, log_std) = (
        pi.base().mean().value().clone(),
        pi.base().log_std().value().clone(),
    );
    let mut expected_log_prob = [0.0; 4];
    let mut actions = Array2::<f64>::zeros((4, 2));
    for i in 0..4 {
        for j in 0..2 {
            let eps = f.epsilon[[i, j]];
            let u = mu[[i, j]] + log_std[[i, j]].exp() * eps;
            actions[[i, j]] = u.tanh();
            expected_log_prob[i] += -0.5 * eps * eps
                - log_std[[i, j]]
                - 0.5 * (2.0 * std::f64::consts::PI).ln()
                - (1.0 - u.tanh().powi(2)).ln();
        }
    }
    for (computed, expected) in log_prob.value().iter().zip(expected_log_prob) {
        assert!(
            (computed - expected).abs() < 1e-9,
            "{computed} vs {expected}"
        );
    }
    let (q1, q2) = f.critics.forward(
        &critic_params,
        &f.batch.observations,
        &Var::constant(actions),
    );
    let expected: f64 = (0..4)
        .map(|i| 0.5 * expected_log_prob[i] - q1.value()[i].min(q2.value()[i]))
        .sum::<f64>()
        / 4.0;
    assert!(
        (loss.item() - expected).abs() < 1e-9,
        "{} vs {expected}",
        loss.item()
    );
}

#[test]
fn the_temperature_rises_when_the_entropy_is_below_target_and_falls_when_above() {
    let (target_entropy, lr) = (-1.0, 1e-3);

    // ln π = 3: entropy ≈ −3 < −1, so ∂L/∂ln α = H − H̄ < 0 and α grows.
    let mut low_entropy = Temperature::new(0.2, true, target_entropy, lr);
    let loss = low_entropy.update(&[3.0, 3.0, 3.0]).unwrap();
    // Adam's first step moves ln α by the learning rate (times the sign of the gradient).
    let expected = (0.2f64.ln() + lr).exp();
    assert!(
        (low_entropy.alpha() as f64 - expected).abs() < 1e-6,
        "{}",
        low_entropy.alpha()
    );
    assert!((loss - -(0.2f64.ln()) * (3.0 + target_entropy)).abs() < 1e-5);

    // ln π = −2: entropy ≈ 2 > −1, so α shrinks.
    let mut high_entropy = Temperature::new(0.2, true, target_entropy, lr);
    high_entropy.update(&[-2.0, -2.0]);
    assert!((high_entropy.alpha() as f64 - (0.2f64.ln() - lr).exp()).abs() < 1e-6);

    // A fixed α never moves.
    let mut fixed = Temperature::new(0.2, false, target_entropy, lr);
    assert!(fixed.update(&[3.0]).is_none());
    assert_eq!(fixed.alpha(), 0.2f32.ln().exp());
}

#[test]
fn the_temperature_settles_where_the_entropy_meets_the_target() {
    // Feed log-probabilities that depend on α like a real policy's would (higher α → more
    // entropy): H(α) = ln α + 1. The fixed point of the update is H = H̄ = −1, i.e. α = e^{−2}.
    let mut temperature = Temperature::new(1.0, true, -1.0, 0.01);
    for _ in 0..3000 {
        let entropy = (temperature.alpha() as f64).ln() + 1.0;
        temperature.update(&[-entropy as f32; 8]);
    }
    let alpha = temperature.alpha() as f64;
    assert!((alpha - (-2f64).exp()).abs() < 0.02, "α = {alpha}");
}
