//! DQN's losses in f64: the gradient of the TD loss with respect to the online network's
//! parameters against central differences (plain and dueling heads, both branches of the Huber
//! loss, importance weights, n-step discounts), and the target as a constant of the loss.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::Array1;
use nn::{ParamId, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::dqn::{td_loss, td_target};
use wengert_rl::buffers::{ActionShape, Batch, ReplayBuffer, ReplayStorage, Transition};
use wengert_rl::env::Action;
use wengert_rl::q_network::QNetwork;

const OBSERVATION_DIM: usize = 3;
const NUM_ACTIONS: usize = 3;
const GAMMA: f64 = 0.9;

struct Fixture {
    q: QNetwork,
    online: ParamStore<f64>,
    target: ParamStore<f64>,
    batch: Batch,
}

/// A small Q network (plain or dueling) `θ`, a different `θ'`, and a batch of `m`-step
/// transitions (`m = 1, 2, 3`, so `γ^m` differs by row; every fifth one terminated) with
/// unequal importance weights.
fn fixture(dueling: bool, seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut build = |store: &mut ParamStore<f64>| {
        QNetwork::new(
            &mut store.root().sub("q"),
            OBSERVATION_DIM,
            NUM_ACTIONS,
            &[6, 5],
            dueling,
            &mut rng,
        )
    };
    let (mut online, mut target) = (ParamStore::new(), ParamStore::new());
    let q = build(&mut online);
    build(&mut target);
    let rows = 10;
    let mut buffer = ReplayBuffer::new(rows, OBSERVATION_DIM, ActionShape::Discrete);
    for i in 0..rows {
        let mut draw = || -> Vec<f32> {
            (0..OBSERVATION_DIM)
                .map(|_| rng.random_range(-2.0..2.0))
                .collect()
        };
        let (o, next) = (draw(), draw());
        buffer.push(Transition {
            observation: &o,
            action: Action::Discrete(rng.random_range(0..NUM_ACTIONS)),
            reward: rng.random_range(-2.0..2.0),
            next_observation: &next,
            terminated: i % 5 == 0,
            discount: GAMMA.powi(1 + (i % 3) as i32),
        });
    }
    let mut batch = buffer.gather(&(0..rows).collect::<Vec<_>>());
    batch.weights = Array1::from_shape_fn(rows, |i| 0.25 + 0.15 * i as f64);
    Fixture {
        q,
        online,
        target,
        batch,
    }
}

fn trainable(store: &ParamStore<f64>) -> (Vec<ParamId>, Vec<SharedArray<f64>>) {
    let ids: Vec<ParamId> = store.trainable().collect();
    let values = ids.iter().map(|&id| store.value(id)).collect();
    (ids, values)
}

#[test]
fn the_td_loss_gradient_equals_central_differences() {
    for (dueling, double) in [(false, false), (false, true), (true, false), (true, true)] {
        let f = fixture(dueling, 11);
        let y = td_target(
            &f.q,
            &f.online.constants(),
            &f.target.constants(),
            &f.batch,
            double,
        );
        // κ between the smallest and the largest |δ|: both branches of ℓ_κ are in the loss.
        let (_, errors) = td_loss(&f.q, &f.online.constants(), &f.batch, &y, 1.0);
        let mut sorted = errors.priorities.clone();
        sorted.sort_by(f64::total_cmp);
        let kappa = 0.5 * (sorted[4] + sorted[5]);
        assert!(sorted[0] < kappa && kappa < sorted[9]);

        let (ids, inputs) = trainable(&f.online);
        let result = gradcheck(
            |theta| {
                let params = f
                    .online
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                td_loss(&f.q, &params, &f.batch, &y, kappa).0
            },
            &inputs,
        );
        assert!(
            result.is_ok(),
            "dueling {dueling}, double {double}: {}",
            result.unwrap_err()
        );

        // The gradient reaches every parameter of θ.
        let tape = Tape::new();
        let theta = f.online.bind(&tape);
        let (loss, _) = td_loss(&f.q, &theta, &f.batch, &y, kappa);
        let gradients = theta.gradients(&loss);
        for id in ids {
            assert!(
                gradients[id].iter().any(|g| *g != 0.0),
                "{} has no gradient",
                f.online.name(id)
            );
        }
    }
}

#[test]
fn the_target_is_r_plus_gamma_to_the_m_times_the_target_networks_value() {
    let f = fixture(false, 12);
    let q_next =
        f.q.evaluate(&f.target.constants(), &f.batch.next_observations);
    let y = td_target(
        &f.q,
        &f.online.constants(),
        &f.target.constants(),
        &f.batch,
        false,
    );
    for i in 0..f.batch.len() {
        let m = 1 + (i % 3) as i32;
        let max_q = (0..NUM_ACTIONS)
            .map(|a| q_next[[i, a]])
            .fold(f64::NEG_INFINITY, f64::max);
        let bootstrap = if i % 5 == 0 { 0.0 } else { GAMMA.powi(m) };
        let expected = f.batch.rewards[i] + bootstrap * max_q;
        assert!((y.value()[[i]] - expected).abs() < 1e-12, "row {i}");
    }
}

#[test]
fn the_target_carries_no_gradient() {
    for double in [false, true] {
        let f = fixture(true, 13);
        // θ' = θ, both bound to the tape: y is still a constant.
        let tape = Tape::new();
        let theta = f.online.bind(&tape);
        let y = td_target(&f.q, &theta, &theta, &f.batch, double);
        assert!(!y.is_tracked(), "double {double}: y is on the tape");
        let (loss, _) = td_loss(&f.q, &theta, &f.batch, &y, 1.0);
        let semi_gradient = theta.gradients(&loss);
        let y_fixed = td_target(
            &f.q,
            &f.online.constants(),
            &f.online.constants(),
            &f.batch,
            double,
        );
        assert_eq!(y.value(), y_fixed.value());
        let (ids, inputs) = trainable(&f.online);
        let tape = Tape::new();
        let theta = f.online.bind(&tape);
        let (loss, _) = td_loss(&f.q, &theta, &f.batch, &y_fixed, 1.0);
        let fixed_gradient = theta.gradients(&loss);
        for &id in &ids {
            assert_eq!(
                semi_gradient[id],
                fixed_gradient[id],
                "{}",
                f.online.name(id)
            );
        }

        // The loss as a function of θ through both Q_θ(o, a) and y(θ' = θ) has another
        // gradient: the TD update is a semi-gradient, and central differences see the rest.
        let total = gradcheck(
            |theta| {
                let params = f
                    .online
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                let y = td_target(&f.q, &params, &params, &f.batch, double);
                td_loss(&f.q, &params, &f.batch, &y, 1.0).0
            },
            &inputs,
        );
        assert!(total.is_err(), "double {double}: y(θ) moved no gradient");
    }
}
