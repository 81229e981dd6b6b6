//! DDPG's losses, checked in f64: the gradient of the critic loss `mean_B (Q_φ(s, a) − y)²` in
//! `φ` and of the actor loss `−mean_B Q_φ(s, μ_θ(s))` in `θ` against central differences, and
//! their values against the equations.

use autograd::prelude::*;

use nn::ParamStore;
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::ddpg::{actor_loss, critic_loss, critic_target};
use wengert_rl::continuous::{DeterministicActor, Network, QNetwork, Transitions};

mod support;

struct Fixture {
    actor: DeterministicActor,
    actor_store: ParamStore<f64>,
    critic: QNetwork,
    critic_store: ParamStore<f64>,
    batch: Transitions<f64>,
}

/// A 3-dimensional state, 2-dimensional action, hidden layers of 6 and 5, a batch of 4.
fn fixture() -> Fixture {
    let mut rng = StdRng::seed_from_u64(11);
    let mut actor_store = ParamStore::<f64>::new();
    let actor = DeterministicActor::new(
        &mut actor_store.root().sub("actor"),
        3,
        2,
        &[6, 5],
        &mut rng,
    );
    let mut critic_store = ParamStore::<f64>::new();
    let critic = QNetwork::new(&mut critic_store.root().sub("q"), 3, 2, &[6, 5], &mut rng);
    let batch = support::transitions();
    Fixture {
        actor,
        actor_store,
        critic,
        critic_store,
        batch,
    }
}

#[test]
fn the_critic_loss_gradient_equals_central_differences() {
    let f = fixture();
    let y = critic_target(
        &f.actor,
        &f.actor_store.constants(),
        &f.critic,
        &f.critic_store.constants(),
        &f.batch,
    );
    let result = support::gradcheck_in(&f.critic_store, |params| {
        critic_loss(&f.critic, params, &f.batch, &y).0
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
            &f.critic,
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
    let q = |s: &Var<f64>, a: &Var<f64>| f.critic.forward(&critic_params, s, a);
    // y = r + γ(1 − d) Q(s', μ(s')), with the targets equal to the networks here
    let y = critic_target(&f.actor, &actor_params, &f.critic, &critic_params, &f.batch);
    let mu_next = f.actor.forward(&actor_params, &f.batch.next_observations);
    let q_next = q(&f.batch.next_observations, &mu_next);
    for i in 0..4 {
        let expected =
            f.batch.rewards.value()[i] + f.batch.bootstrap.value()[i] * q_next.value()[i];
        assert!((y.value()[i] - expected).abs() < 1e-12);
    }
    assert_eq!(y.value()[1], f.batch.rewards.value()[1]); // terminal: no bootstrap

    let (loss, q_mean) = critic_loss(&f.critic, &critic_params, &f.batch, &y);
    let q_sa = q(&f.batch.observations, &f.batch.actions);
    let expected = (0..4)
        .map(|i| (q_sa.value()[i] - y.value()[i]).powi(2))
        .sum::<f64>()
        / 4.0;
    assert!((loss.item() - expected).abs() < 1e-12);
    assert!((q_mean - q_sa.value().iter().sum::<f64>() / 4.0).abs() < 1e-12);

    let mu = f.actor.forward(&actor_params, &f.batch.observations);
    let l_theta = actor_loss(&f.actor, &actor_params, &f.critic, &critic_params, &f.batch);
    let expected = -q(&f.batch.observations, &mu).value().iter().sum::<f64>() / 4.0;
    assert!((l_theta.item() - expected).abs() < 1e-12);
}
