//! IMPALA's loss `L = −E[A_s ln π(a_s|x_s)] + c_v ½ E[(v_s − V(x_s))²] − c_H E[H[π]]` is the
//! header's equation, and its gradient equals central differences (f64), on a discrete and a
//! continuous action space, with an MLP and with an LSTM policy (sequences through a reset,
//! from a non-zero start state).

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::{Array1, Array2, Array3};
use nn::{ParamId, ParamStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::impala::{ImpalaConfig, TargetBatch, loss};
use wengert_rl::algorithms::preset;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::NetworkConfig;
use wengert_rl::unroll_network::{Inputs, PolicyKind, Sequences, UnrollNetwork};

const N: usize = 6;

struct Fixture {
    agent: UnrollNetwork,
    store: ParamStore<f64>,
    inputs: Inputs,
    batch: TargetBatch,
    config: ImpalaConfig,
}

/// A small network on 3-wide observations, moved off its initialisation, and a batch of its own
/// actions with made-up V-trace targets and advantages: `N` rows for the MLP, 3 steps of 2
/// sequences for the LSTM (one reset at step 1, a non-zero start state).
fn fixture(space: &Space, kind: PolicyKind) -> Fixture {
    let mut rng = StdRng::seed_from_u64(5);
    let mut store = ParamStore::<f64>::new();
    let network = NetworkConfig {
        hidden: vec![5, 4],
        log_std_init: -0.3,
        ..NetworkConfig::default()
    };
    let agent = UnrollNetwork::new(&mut store, 3, space, (kind, 4), &network, &mut rng);
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
    let inputs = match kind {
        PolicyKind::Mlp => Inputs::Rows(observations),
        PolicyKind::Lstm => {
            let x = Array3::from_shape_vec((3, 2, 3), observations.into_iter().collect()).unwrap();
            let mut start = agent.initial_state(2).unwrap();
            start.actor.h.mapv_inplace(|_| 0.3);
            start.actor.c.mapv_inplace(|_| -0.2);
            start.critic.as_mut().unwrap().h.mapv_inplace(|_| 0.1);
            Inputs::Sequences(Sequences {
                observations: x,
                start,
                resets: ndarray::array![[0.0, 0.0], [1.0, 0.0], [0.0, 0.0]],
            })
        }
    };
    let actions = no_grad(|| agent.policy(&store.constants(), &inputs).sample(&mut rng));
    let column = |f: &dyn Fn(f64) -> f64| Array1::from_iter((0..N).map(|k| f(k as f64)));
    let batch = TargetBatch {
        actions,
        vs: column(&|k| (k * 0.9).sin() * 2.0),
        advantages: column(&|k| (k * 1.7).cos()),
    };
    let config = ImpalaConfig {
        ent_coef: 0.05,
        vf_coef: 0.5,
        ..preset("impala", "CartPole-v1").unwrap()
    };
    Fixture {
        agent,
        store,
        inputs,
        batch,
        config,
    }
}

fn cases() -> Vec<(Space, PolicyKind)> {
    let spaces = [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
    ];
    let kinds = [PolicyKind::Mlp, PolicyKind::Lstm];
    (spaces.iter())
        .flat_map(|s| kinds.map(|k| (s.clone(), k)))
        .collect()
}

#[test]
fn the_loss_is_the_headers_equation() {
    for (space, kind) in cases() {
        let f = fixture(&space, kind);
        let params = f.store.constants();
        let pi = f.agent.policy(&params, &f.inputs);
        let v = f.agent.value(&params, &f.inputs);
        let (l, [l_pi, l_v, h]) = loss(&pi, &v, &f.batch, &f.config);
        let log_prob = pi.log_prob(&f.batch.actions).value().to_owned();
        let mean = |g: &dyn Fn(usize) -> f64| (0..N).map(g).sum::<f64>() / N as f64;
        let policy_loss = -mean(&|k| f.batch.advantages[k] * log_prob[k]);
        let value_loss = 0.5 * mean(&|k| (f.batch.vs[k] - v.value()[k]).powi(2));
        let entropy = mean(&|k| pi.entropy().value()[k]);
        let expected = policy_loss + f.config.vf_coef * value_loss - f.config.ent_coef * entropy;
        assert!(
            (l.item() - expected).abs() < 1e-12,
            "{space} {kind:?}: {} vs {expected}",
            l.item()
        );
        assert!((l_pi - policy_loss).abs() < 1e-12);
        assert!((l_v - value_loss).abs() < 1e-12);
        assert!((h - entropy).abs() < 1e-12);
    }
}

#[test]
fn the_loss_gradient_equals_central_differences() {
    for (space, kind) in cases() {
        let f = fixture(&space, kind);
        let ids: Vec<ParamId> = f.store.trainable().collect();
        let inputs: Vec<SharedArray<f64>> = ids.iter().map(|&id| f.store.value(id)).collect();
        let result = gradcheck(
            |theta| {
                let params = f
                    .store
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                let pi = f.agent.policy(&params, &f.inputs);
                let v = f.agent.value(&params, &f.inputs);
                loss(&pi, &v, &f.batch, &f.config).0
            },
            &inputs,
        );
        assert!(result.is_ok(), "{space} {kind:?}: {}", result.unwrap_err());
    }
}
