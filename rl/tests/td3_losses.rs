//! TD3's losses, checked in f64: the gradient of the twin critic loss
//! `Σ_i mean_B (Q_φi(s, a) − y)²` in `φ1, φ2` (with the clipped double-Q target at a smoothed
//! target action) and of the actor loss `−mean_B Q_φ1(s, μ_θ(s))` in `θ` against central
//! differences, and their values against the equations.

use autograd::prelude::*;

use ndarray::{Array2, ArrayD};
use nn::ParamStore;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::td3::{actor_loss, critic_loss, critic_target};
use wengert_rl::common::off_policy::standard_normal_array;
use wengert_rl::continuous::{DeterministicActor, Network, Transitions, TwinQ};

mod support;

struct Fixture {
    actor: DeterministicActor,
    actor_store: ParamStore<f64>,
    critics: TwinQ,
    critic_store: ParamStore<f64>,
    batch: Transitions<f64>,
    epsilon: ArrayD<f64>,
}

/// A 3-dimensional state, 2-dimensional action, hidden layers of 6 and 5, a batch of 4.
fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(12);
    let mut actor_store = ParamStore::<f64>::new();
    let actor = DeterministicActor::new(
        &mut actor_store.root().sub("actor"),
        3,
        2,
        &[6, 5],
        &mut rng,
    );
    let mut critic_store = ParamStore::<f64>::new();
    let critics = TwinQ::new(&mut critic_store.root(), 3, 2, &[6, 5], &mut rng);
    let batch = support::transitions();
    // σ̃ = 0.4, so that some of the noise passes the clip c = 0.5
    let epsilon = standard_normal_array::<f64>(4, 2, &mut rng).mapv(|e| 0.4 * e);
    Fixture {
        actor,
        actor_store,
        critics,
        critic_store,
        batch,
        epsilon,
    }
}

fn target(f: &Fixture) -> Var<f64> {
    critic_target(
        &f.actor,
        &f.actor_store.constants(),
        &f.critics,
        &f.critic_store.constants(),
        &f.batch,
        &f.epsilon,
        0.5,
    )
}

#[test]
fn the_critic_loss_gradient_equals_central_differences() {
    let f = fixture();
    let y = target(&f);
    assert_eq!(
        f.critic_store.trainable().count(),
        12,
        "both critics' weights and biases"
    );
    let result = support::gradcheck_in(&f.critic_store, |params| {
        critic_loss(&f.critics, params, &f.batch, &y).0
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn the_actor_loss_gradient_equals_central_differences() {
    let f = fixture();
    let result = support::gradcheck_in(&f.actor_store, |params| {
        actor_loss(
            &f.actor,
            params,
            &f.critics,
            &f.critic_store.constants(),
            &f.batch,
        )
    });
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn the_losses_are_the_equations() {
    let f = fixture();
    let (actor_params, critic_params) = (f.actor_store.constants(), f.critic_store.constants());
    // y = r + γ(1 − d) min_i Q_i(s', clip(μ(s') + clip(ε, −c, c), −1, 1))
    let y = target(&f);
    let mu_next = f.actor.forward(&actor_params, &f.batch.next_observations);
    let smoothed = Array2::from_shape_fn((4, 2), |(i, j)| {
        (mu_next.value()[[i, j]] + f.epsilon[[i, j]].clamp(-0.5, 0.5)).clamp(-1.0, 1.0)
    });
    let (q1_next, q2_next) = f.critics.forward(
        &critic_params,
        &f.batch.next_observations,
        &Var::constant(smoothed),
    );
    for i in 0..4 {
        let min_q = q1_next.value()[i].min(q2_next.value()[i]);
        let expected = f.batch.rewards.value()[i] + f.batch.bootstrap.value()[i] * min_q;
        assert!((y.value()[i] - expected).abs() < 1e-12, "row {i}");
    }

    let (loss, q_mean) = critic_loss(&f.critics, &critic_params, &f.batch, &y);
    let (q1, q2) = f
        .critics
        .forward(&critic_params, &f.batch.observations, &f.batch.actions);
    let squares = |q: &Var<f64>| {
        (0..4)
            .map(|i| (q.value()[i] - y.value()[i]).powi(2))
            .sum::<f64>()
            / 4.0
    };
    assert!((loss.item() - (squares(&q1) + squares(&q2))).abs() < 1e-12);
    let sum = |q: &Var<f64>| q.value().iter().sum::<f64>();
    assert!((q_mean - 0.5 * (sum(&q1) + sum(&q2)) / 4.0).abs() < 1e-12);

    // through the first critic only
    let mu = f.actor.forward(&actor_params, &f.batch.observations);
    let l_theta = actor_loss(
        &f.actor,
        &actor_params,
        &f.critics,
        &critic_params,
        &f.batch,
    );
    let q1_mu = f
        .critics
        .q1
        .forward(&critic_params, &f.batch.observations, &mu);
    assert!((l_theta.item() + sum(&q1_mu) / 4.0).abs() < 1e-12);
}
