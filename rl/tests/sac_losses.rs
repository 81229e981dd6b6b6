//! SAC's losses, checked in f64: the gradients of the critic loss
//! `½ Σ_i mean_B (Q_φi(s, a) − y)²` (with the soft target `y`, `−α ln π` included), the actor
//! loss `mean_B(α ln π_θ(ã|s) − min_i Q_φi(s, ã))` and the temperature loss
//! `−mean_B(ln α (ln π + H̄))` against central differences, and the soft target's value.

use autograd::gradcheck;
use autograd::prelude::*;
use ndarray::ArrayD;
use nn::ParamStore;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::sac::{actor_loss, critic_loss, critic_target, temperature_loss};
use wengert_rl::common::off_policy::standard_normal_array;
use wengert_rl::continuous::{Network, SquashedGaussianActor, Transitions, TwinQ};

mod support;

struct Fixture {
    actor: SquashedGaussianActor,
    actor_store: ParamStore<f64>,
    critics: TwinQ,
    critic_store: ParamStore<f64>,
    batch: Transitions<f64>,
    epsilon: ArrayD<f64>,
    epsilon_next: ArrayD<f64>,
}

/// A 3-dimensional state, 2-dimensional action, hidden layers of 6 and 5, a batch of 4.
fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(13);
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
    let batch = support::transitions();
    Fixture {
        actor,
        actor_store,
        critics,
        critic_store,
        batch,
        epsilon: standard_normal_array(4, 2, &mut rng),
        epsilon_next: standard_normal_array(4, 2, &mut rng),
    }
}

const ALPHA: f64 = 0.3;

fn target(f: &Fixture) -> Var<f64> {
    critic_target(
        &f.actor,
        &f.actor_store.constants(),
        &f.critics,
        &f.critic_store.constants(),
        &f.batch,
        &f.epsilon_next,
        ALPHA,
    )
}

#[test]
fn the_critic_loss_gradient_equals_central_differences() {
    let f = fixture();
    let y = target(&f);
    let result = support::gradcheck_in(&f.critic_store, |params| {
        critic_loss(&f.critics, params, &f.batch, &y).0
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn the_actor_loss_gradient_equals_central_differences() {
    let f = fixture();
    let result = support::gradcheck_in(&f.actor_store, |params| {
        let critic_params = f.critic_store.constants();
        actor_loss(
            &f.actor,
            params,
            &f.critics,
            &critic_params,
            &f.batch,
            &f.epsilon,
            ALPHA,
        )
        .0
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn the_temperature_loss_gradient_equals_central_differences() {
    let mut store = ParamStore::<f64>::new();
    let log_alpha = store
        .root()
        .param("log_alpha", ndarray::arr1(&[0.2f64.ln()]));
    let log_probs = [3.0, -2.5, 0.4, 1.1];
    let target_entropy = -2.0;
    let result = gradcheck(
        |x| {
            let params = store.bind_with([(log_alpha, x[0].clone())]);
            temperature_loss(&params, log_alpha, &log_probs, target_entropy)
        },
        &[store.value(log_alpha)],
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());
    // ∂L/∂ln α = −mean(ln π + H̄) = H − H̄ with H ≈ −mean ln π
    let tape = Tape::new();
    let params = store.bind(&tape);
    let loss = temperature_loss(&params, log_alpha, &log_probs, target_entropy);
    let gradient = params.gradients(&loss)[log_alpha][0];
    let mean_log_pi = log_probs.iter().sum::<f64>() / 4.0;
    assert!((gradient - (-mean_log_pi - target_entropy)).abs() < 1e-12);
    assert!((loss.item() - -(0.2f64.ln()) * (mean_log_pi + target_entropy)).abs() < 1e-12);
}

#[test]
fn the_soft_target_subtracts_alpha_log_pi_from_the_smaller_q() {
    let f = fixture();
    let y = target(&f);
    let actor_params = f.actor_store.constants();
    let pi = f
        .actor
        .distribution(&actor_params, &f.batch.next_observations);
    let draw = pi.rsample_with(&f.epsilon_next);
    let log_prob = pi.log_prob(&draw);
    let (q1, q2) = f.critics.forward(
        &f.critic_store.constants(),
        &f.batch.next_observations,
        &draw.action,
    );
    for i in 0..4 {
        let soft_value = q1.value()[i].min(q2.value()[i]) - ALPHA * log_prob.value()[i];
        let expected = f.batch.rewards.value()[i] + f.batch.bootstrap.value()[i] * soft_value;
        assert!((y.value()[i] - expected).abs() < 1e-12, "row {i}");
    }

    let (loss, _) = critic_loss(&f.critics, &f.critic_store.constants(), &f.batch, &y);
    let (q1, q2) = f.critics.forward(
        &f.critic_store.constants(),
        &f.batch.observations,
        &f.batch.actions,
    );
    let squares = |q: &Var<f64>| {
        (0..4)
            .map(|i| (q.value()[i] - y.value()[i]).powi(2))
            .sum::<f64>()
            / 4.0
    };
    assert!((loss.item() - 0.5 * (squares(&q1) + squares(&q2))).abs() < 1e-12);
}
