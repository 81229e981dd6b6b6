//! TD3's and DDPG's Bellman targets on hand-set linear networks, computed by hand.

use autograd::prelude::*;
use ndarray::array;
use nn::ParamStore;
use rand::SeedableRng;
use wengert_rl::continuous::{DeterministicActor, Network, QNetwork, Transitions, TwinQ};

/// μ(s) = tanh(0.5 s); Q1(s, a) = s + 2a; Q2(s, a) = 0.5 s − a + 1.
fn linear_networks() -> (DeterministicActor, ParamStore<f64>, TwinQ, ParamStore<f64>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut actor_store = ParamStore::<f64>::new();
    let actor = DeterministicActor::new(&mut actor_store.root().sub("actor"), 1, 1, &[], &mut rng);
    actor_store.set(actor_store.id("actor.0.weight").unwrap(), array![[0.5]]);
    actor_store.set(actor_store.id("actor.0.bias").unwrap(), array![0.0]);
    let mut critic_store = ParamStore::<f64>::new();
    let critics = TwinQ::new(&mut critic_store.root(), 1, 1, &[], &mut rng);
    let set = |name: &str, value: ndarray::ArrayD<f64>| {
        critic_store.set(critic_store.id(name).unwrap(), value)
    };
    set("q1.0.weight", array![[1.0, 2.0]].into_dyn());
    set("q1.0.bias", array![0.0].into_dyn());
    set("q2.0.weight", array![[0.5, -1.0]].into_dyn());
    set("q2.0.bias", array![1.0].into_dyn());
    (actor, actor_store, critics, critic_store)
}

/// Transitions with the given `s'`, `r` and `γ(1 − d)` (the targets read nothing else).
fn transitions(
    next_observations: ndarray::Array2<f64>,
    rewards: ndarray::Array1<f64>,
    bootstrap: ndarray::Array1<f64>,
) -> Transitions<f64> {
    let n = rewards.len();
    Transitions {
        observations: Var::constant(next_observations.clone()),
        actions: Var::constant(ndarray::Array2::<f64>::zeros((n, 1))),
        rewards: Var::constant(rewards),
        next_observations: Var::constant(next_observations),
        bootstrap: Var::constant(bootstrap),
    }
}

#[test]
fn the_td3_target_takes_the_smaller_twin_at_a_clipped_smoothed_action() {
    let (actor, actor_store, critics, critic_store) = linear_networks();
    let next_observations = array![[2.0], [-2.0], [0.0]];
    let rewards = array![1.0, 0.5, -1.0];
    // the second transition is terminal
    let batch = transitions(
        next_observations.clone(),
        rewards.clone(),
        array![0.99, 0.0, 0.9],
    );
    let epsilon = array![[0.8], [-0.1], [-0.7]].into_dyn();
    let noise_clip = 0.5;
    let y = wengert_rl::algorithms::td3::critic_target(
        &actor,
        &actor_store.constants(),
        &critics,
        &critic_store.constants(),
        &batch,
        &epsilon,
        noise_clip,
    );

    let q1 = |s: f64, a: f64| s + 2.0 * a;
    let q2 = |s: f64, a: f64| 0.5 * s - a + 1.0;
    // Row 0: ε = 0.8 is clipped to 0.5, and μ(2) + 0.5 = tanh(1) + 0.5 > 1 is clipped to 1;
    // Q1 = 4, Q2 = 1, so Q2 is the smaller.
    let a0: f64 = 1.0;
    assert_eq!(q2(2.0, a0).min(q1(2.0, a0)), 1.0);
    let y0 = 1.0 + 0.99 * 1.0;
    // Row 1: terminal, so y = r whatever the critics say.
    let y1 = 0.5;
    // Row 2: ε = −0.7 is clipped to −0.5, μ(0) = 0; Q1 = −1 < Q2 = 1.5.
    let a2 = -0.5;
    assert_eq!(q1(0.0, a2).min(q2(0.0, a2)), -1.0);
    let (r2, min_q2) = (-1.0, -1.0);
    let y2 = r2 + 0.9 * min_q2;
    let expected = [y0, y1, y2];
    for (i, e) in expected.iter().enumerate() {
        assert!(
            (y.value()[i] - e).abs() < 1e-12,
            "row {i}: {} vs {e}",
            y.value()[i]
        );
    }

    // Without the terminal flag, row 1 bootstraps from min(Q1, Q2) at μ(−2) − 0.1.
    let y = wengert_rl::algorithms::td3::critic_target(
        &actor,
        &actor_store.constants(),
        &critics,
        &critic_store.constants(),
        &transitions(next_observations, rewards, array![0.99, 0.99, 0.9]),
        &epsilon,
        noise_clip,
    );
    let a1 = (-1.0f64).tanh() - 0.1;
    let expected = 0.5 + 0.99 * q1(-2.0, a1).min(q2(-2.0, a1));
    assert!((y.value()[1] - expected).abs() < 1e-12);
}

#[test]
fn the_ddpg_target_uses_one_critic_at_the_target_policys_action() {
    let (actor, actor_store, critics, critic_store) = linear_networks();
    let critic: &QNetwork = &critics.q1;
    let y = wengert_rl::algorithms::ddpg::critic_target(
        &actor,
        &actor_store.constants(),
        critic,
        &critic_store.constants(),
        &transitions(array![[2.0], [-1.0]], array![1.0, 0.0], array![0.98, 0.0]),
    );
    let expected = 1.0 + 0.98 * (2.0 + 2.0 * 1f64.tanh());
    assert!((y.value()[0] - expected).abs() < 1e-12);
    assert_eq!(y.value()[1], 0.0);
}

#[test]
fn the_deterministic_policy_gradient_is_dq_da_times_dmu_dtheta() {
    // L(θ) = −Q1(s, tanh(w s + b)); ∂L/∂w = −2 (1 − tanh²(w s + b)) s for Q1 = s + 2a.
    let (actor, actor_store, critics, critic_store) = linear_networks();
    let tape = Tape::new();
    let params = actor_store.bind(&tape);
    let s = 1.5;
    let loss = wengert_rl::continuous::deterministic_policy_loss(
        &actor,
        &params,
        &critics.q1,
        &critic_store.constants(),
        &Var::constant(array![[s]]),
    );
    let grads = params.gradients(&loss);
    let w = actor_store.id("actor.0.weight").unwrap();
    let expected = -2.0 * (1.0 - (0.5 * s).tanh().powi(2)) * s;
    assert!((grads[w][[0, 0]] - expected).abs() < 1e-12);
}
