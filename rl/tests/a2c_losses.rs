//! A2C's loss `−E[ln π(a|s) Â] + c_v E[(V(s) − R)²] − c_H E[H[π]]` is the header's equation,
//! and its gradient equals central differences (f64), with separate networks and with a shared
//! trunk, on a discrete and a continuous action space.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::{Array1, Array2};
use nn::{ParamId, ParamStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::a2c::{A2cConfig, A2cNetwork, loss};
use wengert_rl::algorithms::preset;
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::{ActorCritic, NetworkConfig, PolicyNetwork, observations_var};
use wengert_rl::shared_actor_critic::SharedActorCritic;

const N: usize = 6;

struct Fixture {
    network: A2cNetwork,
    store: ParamStore<f64>,
    batch: Batch,
    config: A2cConfig,
}

/// A small network on 3-wide observations, its parameters moved off their initialisation (the
/// policy head starts near 0), and a batch of its own actions with made-up `Â` and `R`.
fn fixture(space: &Space, shared: bool) -> Fixture {
    let mut rng = StdRng::seed_from_u64(5);
    let mut store = ParamStore::<f64>::new();
    let config = NetworkConfig {
        hidden: vec![5, 4],
        log_std_init: -0.3,
        ..NetworkConfig::default()
    };
    let network = if shared {
        A2cNetwork::Shared(SharedActorCritic::new(
            &mut store, 3, space, &config, &mut rng,
        ))
    } else {
        A2cNetwork::Separate(ActorCritic::new(&mut store, 3, space, &config, &mut rng))
    };
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
        network
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
    let config = A2cConfig {
        ent_coef: 0.05,
        vf_coef: 0.5,
        ..preset("a2c", "CartPole-v1").unwrap()
    };
    Fixture {
        network,
        store,
        batch,
        config,
    }
}

fn cases() -> Vec<(Space, bool)> {
    let spaces = [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
    ];
    spaces
        .iter()
        .flat_map(|space| [(space.clone(), false), (space.clone(), true)])
        .collect()
}

#[test]
fn the_loss_is_the_policy_loss_plus_c_v_times_the_value_loss_minus_c_h_times_the_entropy() {
    for (space, shared) in cases() {
        let f = fixture(&space, shared);
        let params = f.store.constants();
        let (l, diagnostics) = loss(&f.network, &params, &f.batch, &f.config);
        let (pi, v) = f
            .network
            .forward(&params, &observations_var::<f64>(&f.batch.observations));
        let log_prob = pi.log_prob(&f.batch.actions).value().to_owned();
        let mean = |g: &dyn Fn(usize) -> f64| (0..N).map(g).sum::<f64>() / N as f64;
        let policy_loss = -mean(&|k| log_prob[k] * f.batch.advantages[k]);
        let value_loss = mean(&|k| (v.value()[k] - f.batch.returns[k]).powi(2));
        let entropy = mean(&|k| pi.entropy().value()[k]);
        let expected = policy_loss + f.config.vf_coef * value_loss - f.config.ent_coef * entropy;
        assert!(
            (l.item() - expected).abs() < 1e-12,
            "{space} shared={shared}: {} vs {expected}",
            l.item()
        );
        assert!((diagnostics.policy_loss - policy_loss).abs() < 1e-12);
        assert!((diagnostics.value_loss - value_loss).abs() < 1e-12);
        assert!((diagnostics.entropy - entropy).abs() < 1e-12);
    }
}

#[test]
fn the_loss_gradient_equals_central_differences() {
    for (space, shared) in cases() {
        let f = fixture(&space, shared);
        let ids: Vec<ParamId> = f.store.trainable().collect();
        let inputs: Vec<SharedArray<f64>> = ids.iter().map(|&id| f.store.value(id)).collect();
        let result = gradcheck(
            |theta| {
                let params = f
                    .store
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                loss(&f.network, &params, &f.batch, &f.config).0
            },
            &inputs,
        );
        assert!(
            result.is_ok(),
            "{space} shared={shared}: {}",
            result.unwrap_err()
        );
    }
}
