//! REINFORCE's losses: the score-function loss `L(θ)` and the baseline's regression loss
//! `L^V(φ)` are the header's equations, and their gradients equal central differences (f64).

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::{Array1, Array2};
use nn::{ParamId, ParamStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::preset;
use wengert_rl::algorithms::reinforce::{ReinforceConfig, baseline_loss, loss};
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::{ActorCritic, NetworkConfig, observations_var};

const N: usize = 6;

struct Fixture {
    agent: ActorCritic,
    store: ParamStore<f64>,
    batch: Batch,
    config: ReinforceConfig,
}

/// A small actor-critic on 3-wide observations, its parameters moved off their initialisation
/// (the policy head starts near 0), and a batch of its own actions with made-up `Â` and `R̂`.
fn fixture(space: Space) -> Fixture {
    let mut rng = StdRng::seed_from_u64(5);
    let mut store = ParamStore::<f64>::new();
    let network = NetworkConfig {
        hidden: vec![5, 4],
        log_std_init: -0.3,
        ..NetworkConfig::default()
    };
    let agent = ActorCritic::new(&mut store, 3, &space, &network, &mut rng);
    for (k, id) in store
        .trainable()
        .collect::<Vec<_>>()
        .into_iter()
        .enumerate()
    {
        let moved = store
            .value(id)
            .to_owned()
            .mapv_into(|v| v + 0.3 * ((k as f64 + v) * 3.1).sin());
        store.set(id, moved);
    }
    let observations = Array2::from_shape_fn((N, 3), |(i, j)| ((i * 3 + j) as f32 * 0.7).sin());
    let actions = no_grad(|| {
        agent
            .policy(&store.constants(), &observations_var::<f64>(&observations))
            .sample(&mut rng)
    });
    let column = |f: &dyn Fn(f64) -> f64| Array1::from_iter((0..N).map(|k| f(k as f64)));
    let batch = Batch {
        observations,
        actions,
        log_probs: column(&|_| 0.0),
        values: column(&|k| (k * 0.3).sin()),
        advantages: column(&|k| (k * 1.7).cos()),
        returns: column(&|k| (k * 0.9).sin() * 2.0),
    };
    let config = ReinforceConfig {
        ent_coef: 0.05,
        ..preset("reinforce", "CartPole-v1").unwrap()
    };
    Fixture {
        agent,
        store,
        batch,
        config,
    }
}

fn spaces() -> [Space; 2] {
    [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
    ]
}

/// The parameters under `path` and their values.
fn parameters(store: &ParamStore<f64>, path: &str) -> (Vec<ParamId>, Vec<SharedArray<f64>>) {
    let ids: Vec<ParamId> = store
        .trainable()
        .filter(|&id| store.name(id).starts_with(path))
        .collect();
    let values = ids.iter().map(|&id| store.value(id)).collect();
    (ids, values)
}

#[test]
fn the_policy_loss_is_minus_the_mean_of_log_pi_times_the_advantage_minus_the_entropy_bonus() {
    for space in spaces() {
        let f = fixture(space);
        let params = f.store.constants();
        let (l, diagnostics) = loss(&f.agent, &params, &f.batch, &f.config);
        let pi = f
            .agent
            .policy(&params, &observations_var::<f64>(&f.batch.observations));
        let log_prob = pi.log_prob(&f.batch.actions).value().to_owned();
        let entropy = pi.entropy().value().iter().sum::<f64>() / N as f64;
        let surrogate = (0..N)
            .map(|k| log_prob[k] * f.batch.advantages[k])
            .sum::<f64>()
            / N as f64;
        let expected = -surrogate - f.config.ent_coef * entropy;
        assert!(
            (l.item() - expected).abs() < 1e-12,
            "{} vs {expected}",
            l.item()
        );
        assert_eq!(diagnostics.policy_loss, l.item());
        assert!((diagnostics.entropy - entropy).abs() < 1e-12);
        assert_eq!(diagnostics.log_probs.len(), N);
    }
}

#[test]
fn the_policy_loss_gradient_equals_central_differences() {
    for space in spaces() {
        let f = fixture(space);
        let (ids, theta) = parameters(&f.store, "actor.");
        let result = gradcheck(
            |theta| {
                let params = f
                    .store
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                loss(&f.agent, &params, &f.batch, &f.config).0
            },
            &theta,
        );
        assert!(result.is_ok(), "{}", result.unwrap_err());
    }
}

#[test]
fn the_baseline_loss_is_the_mean_squared_error_to_the_reward_to_go() {
    let f = fixture(Space::Discrete { n: 3 });
    let params = f.store.constants();
    let l = baseline_loss(&f.agent, &params, &f.batch);
    let v = f
        .agent
        .value(&params, &observations_var::<f64>(&f.batch.observations));
    let expected = (0..N)
        .map(|k| (v.value()[k] - f.batch.returns[k]).powi(2))
        .sum::<f64>()
        / N as f64;
    assert!(
        (l.item() - expected).abs() < 1e-12,
        "{} vs {expected}",
        l.item()
    );
}

#[test]
fn the_baseline_loss_gradient_equals_central_differences() {
    let f = fixture(Space::Discrete { n: 3 });
    let (ids, phi) = parameters(&f.store, "critic.");
    let result = gradcheck(
        |phi| {
            let params = f
                .store
                .bind_with(ids.iter().copied().zip(phi.iter().cloned()));
            baseline_loss(&f.agent, &params, &f.batch)
        },
        &phi,
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());
}
