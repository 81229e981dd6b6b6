//! DQN's pieces checked one at a time: Double-DQN targets, the dueling head, importance
//! weights in the loss, and regression onto fixed targets.

use autograd::prelude::*;
use ndarray::{Array1, Array2, array};
use nn::ParamStore;
use nn::optim::{Adam, AdamConfig, Optimizer};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::dqn::{td_loss, td_target};
use wengert_rl::buffers::{ActionShape, Batch, ReplayBuffer, ReplayStorage, Transition};
use wengert_rl::env::Action;
use wengert_rl::q_network::{QNetwork, greedy};

const OBSERVATION_DIM: usize = 3;
const NUM_ACTIONS: usize = 4;

/// A 16×16 Q network `θ` under `q`, and a second store of the same shape.
fn networks(rng: &mut StdRng) -> (QNetwork, ParamStore<f32>, ParamStore<f32>) {
    let mut online = ParamStore::<f32>::new();
    let q = QNetwork::new(
        &mut online.root().sub("q"),
        OBSERVATION_DIM,
        NUM_ACTIONS,
        &[16, 16],
        false,
        rng,
    );
    let mut other = ParamStore::<f32>::new();
    QNetwork::new(
        &mut other.root().sub("q"),
        OBSERVATION_DIM,
        NUM_ACTIONS,
        &[16, 16],
        false,
        rng,
    );
    (q, online, other)
}

/// `rows` random transitions; every seventh one terminated.
fn random_batch(rows: usize, rng: &mut StdRng) -> Batch {
    let mut buffer = ReplayBuffer::new(rows, OBSERVATION_DIM, ActionShape::Discrete);
    for i in 0..rows {
        let o: Vec<f32> = (0..OBSERVATION_DIM)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let next: Vec<f32> = (0..OBSERVATION_DIM)
            .map(|_| rng.random_range(-2.0..2.0))
            .collect();
        let action = Action::Discrete(rng.random_range(0..NUM_ACTIONS));
        let reward = rng.random_range(-1.0..1.0);
        buffer.push(Transition::one_step(
            &o,
            action,
            reward,
            &next,
            i % 7 == 0,
            0.99,
        ));
    }
    buffer.gather(&(0..rows).collect::<Vec<_>>())
}

fn values(y: &Var<f32>) -> Vec<f32> {
    y.value().iter().copied().collect()
}

#[test]
fn double_dqn_target_differs_from_dqn_target_exactly_where_the_argmaxes_differ() {
    let mut rng = StdRng::seed_from_u64(0);
    // A target network unlike the online one, so that the two argmaxes disagree on some rows.
    let (q, online, target) = networks(&mut rng);
    let batch = random_batch(200, &mut rng);

    let q_next_online = q.evaluate(&online.constants(), &batch.next_observations);
    let q_next_target = q.evaluate(&target.constants(), &batch.next_observations);
    let online_argmax = greedy(q_next_online.view());
    let target_argmax = greedy(q_next_target.view());

    let (theta, theta_target) = (online.constants(), target.constants());
    let y_dqn = values(&td_target(&q, &theta, &theta_target, &batch, false));
    let y_double = values(&td_target(&q, &theta, &theta_target, &batch, true));

    let (mut differing, mut agreeing) = (0, 0);
    for i in 0..batch.len() {
        if batch.terminated[i] {
            // No bootstrap: both targets are the reward.
            assert_eq!(y_dqn[i], batch.rewards[i] as f32);
            assert_eq!(y_double[i], y_dqn[i]);
            continue;
        }
        // Double DQN evaluates the online argmax with the target network.
        let expected =
            (batch.rewards[i] + 0.99 * q_next_target[[i, online_argmax[i]]] as f64) as f32;
        assert_eq!(y_double[i], expected, "row {i}");
        if online_argmax[i] == target_argmax[i] {
            agreeing += 1;
            assert_eq!(y_double[i], y_dqn[i], "row {i}: same argmax, same target");
        } else {
            differing += 1;
            // max_a Q'(o', a) is strictly above Q'(o', a*) for any other a*.
            assert!(
                y_double[i] < y_dqn[i],
                "row {i}: {} vs {}",
                y_double[i],
                y_dqn[i]
            );
        }
    }
    assert!(
        differing >= 10,
        "only {differing} rows with different argmaxes"
    );
    assert!(agreeing >= 10, "only {agreeing} rows with equal argmaxes");
}

#[test]
fn double_and_plain_targets_agree_while_the_target_network_equals_the_online_one() {
    let mut rng = StdRng::seed_from_u64(1);
    let (q, online, _) = networks(&mut rng);
    let batch = random_batch(50, &mut rng);
    let theta = online.constants();
    let y_dqn = values(&td_target(&q, &theta, &theta, &batch, false));
    assert_eq!(values(&td_target(&q, &theta, &theta, &batch, true)), y_dqn);
}

#[test]
fn dueling_head_subtracts_the_mean_advantage() {
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(2);
    let q = QNetwork::new(&mut store.root().sub("q"), 3, 5, &[32, 32], true, &mut rng);
    let s = Var::constant(Array2::from_shape_fn((8, 3), |(i, j)| {
        (i as f64 - 4.0) * 0.3 + j as f64 * 0.1
    }));
    let params = store.constants();
    let q_values = q.q_values(&params, &s);
    let (v, a) = q.streams(&params, &s).unwrap();
    let (q_values, v, a) = (q_values.value(), v.value(), a.value());
    for i in 0..8 {
        let mean_a = (0..5).map(|k| a[[i, k]]).sum::<f64>() / 5.0;
        let mean_q = (0..5).map(|k| q_values[[i, k]]).sum::<f64>() / 5.0;
        // Identifiability: V(s) is the mean of Q(s, ·) over the actions.
        assert!((mean_q - v[[i, 0]]).abs() < 1e-12, "row {i}");
        for k in 0..5 {
            let expected = v[[i, 0]] + a[[i, k]] - mean_a;
            assert!((q_values[[i, k]] - expected).abs() < 1e-12);
        }
    }
    // Adding a constant to every advantage leaves Q unchanged.
    let bias = store.id("q.advantage.bias").unwrap();
    store.set(bias, store.value(bias).mapv(|b| b + 5.0));
    let shifted = q.q_values(&store.constants(), &s);
    let difference = (&shifted.value().to_owned() - &q_values.to_owned())
        .iter()
        .fold(0.0f64, |m, d| m.max(d.abs()));
    assert!(difference < 1e-12, "{difference}");
    // But the value stream moves with its own bias.
    let value_bias = store.id("q.value.bias").unwrap();
    store.set(value_bias, store.value(value_bias).mapv(|b| b + 1.0));
    let moved = q.q_values(&store.constants(), &s);
    assert!((moved.value()[[0, 0]] - shifted.value()[[0, 0]] - 1.0).abs() < 1e-12);
}

#[test]
fn both_dueling_streams_receive_gradient() {
    let mut store = ParamStore::<f64>::new();
    let mut rng = StdRng::seed_from_u64(3);
    let q = QNetwork::new(&mut store.root().sub("q"), 3, 2, &[8], true, &mut rng);
    let tape = Tape::new();
    let params = store.bind(&tape);
    let s = Var::constant(Array2::from_elem((4, 3), 0.7));
    // Q(s, 0) on every row: with both actions equally often the advantages would cancel.
    let loss = q
        .q_values(&params, &s)
        .gather(1, &array![[0usize], [0], [0], [0]].into_dyn());
    let grads = params.gradients(&loss.sum_all());
    for name in ["q.value.weight", "q.advantage.weight", "q.trunk.0.weight"] {
        let g = grads.get(store.id(name).unwrap()).unwrap();
        assert!(g.iter().any(|&x| x != 0.0), "{name} has no gradient");
    }
}

/// `ℓ_κ(δ)`.
fn huber(delta: f64, kappa: f64) -> f64 {
    if delta.abs() < kappa {
        0.5 * delta * delta
    } else {
        kappa * (delta.abs() - 0.5 * kappa)
    }
}

#[test]
fn importance_weights_scale_each_rows_loss_and_gradient() {
    let mut rng = StdRng::seed_from_u64(4);
    let (q, online, target) = networks(&mut rng);
    let mut batch = random_batch(32, &mut rng);
    batch.weights = Array1::from_shape_fn(32, |i| (i % 4) as f64 * 0.5);
    let y = td_target(&q, &online.constants(), &target.constants(), &batch, false);
    let kappa = 0.5;

    // L = (1/B) Σ w_i ℓ_κ(δ_i), with |δ_i| the priorities it reports.
    let (loss, errors) = td_loss(&q, &online.constants(), &batch, &y, kappa);
    let expected = (0..32)
        .map(|i| batch.weights[i] * huber(errors.priorities[i], kappa))
        .sum::<f64>()
        / 32.0;
    assert!(
        (loss.item() as f64 - expected).abs() < 1e-6 * expected,
        "{}",
        loss.item()
    );
    let q_taken = q.evaluate(&online.constants(), &batch.observations);
    for i in 0..32 {
        let a = match &batch.actions {
            wengert_rl::buffers::BatchActions::Discrete(a) => a[i],
            _ => unreachable!(),
        };
        let delta = q_taken[[i, a]] - y.value()[[i]];
        assert_eq!(errors.priorities[i], delta.abs() as f64, "row {i}");
    }
    assert!(errors.priorities.iter().any(|&d| d > kappa));
    assert!(errors.priorities.iter().any(|&d| d < kappa));

    // Halved weights halve the loss and the gradient and leave the TD errors; zero weights
    // leave no gradient at all.
    let gradient = |weights: Array1<f64>| {
        let batch = Batch {
            weights,
            ..batch.clone()
        };
        let tape = Tape::new();
        let theta = online.bind(&tape);
        let (loss, errors) = td_loss(&q, &theta, &batch, &y, kappa);
        let g = theta.gradients(&loss);
        (loss.item(), g.global_norm(), errors)
    };
    let (unit_loss, unit_norm, unit_errors) = gradient(Array1::ones(32));
    let (half_loss, half_norm, half_errors) = gradient(Array1::from_elem(32, 0.5));
    assert!((half_loss - 0.5 * unit_loss).abs() < 1e-6 * unit_loss);
    assert!((half_norm - 0.5 * unit_norm).abs() < 1e-5 * unit_norm);
    assert_eq!(half_errors, unit_errors);
    let (zero_loss, zero_norm, _) = gradient(Array1::zeros(32));
    assert_eq!((zero_loss, zero_norm), (0.0, 0.0));
}

#[test]
fn adam_steps_on_the_td_loss_regress_onto_fixed_targets() {
    let mut rng = StdRng::seed_from_u64(5);
    let (q, online, target) = networks(&mut rng);
    let batch = random_batch(64, &mut rng);
    // θ' stays fixed, so this is plain regression onto fixed targets.
    let y = td_target(&q, &online.constants(), &target.constants(), &batch, true);
    let mut adam = Adam::new(
        online.trainable(),
        AdamConfig {
            lr: 1e-2,
            ..AdamConfig::default()
        },
    );
    let mut step = || {
        let tape = Tape::new();
        let theta = online.bind(&tape);
        let (loss, errors) = td_loss(&q, &theta, &batch, &y, 1.0);
        adam.step(&online, &theta.gradients(&loss));
        (loss.item(), errors.priorities)
    };
    let first = step();
    let mut last = first.clone();
    for _ in 0..100 {
        last = step();
    }
    assert!(last.0 < 0.1 * first.0, "{} → {}", first.0, last.0);
    let rms = |d: &[f64]| (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
    assert!(rms(&last.1) < rms(&first.1));
}

#[test]
fn the_target_update_is_a_hard_copy_at_tau_one_and_polyak_averaging_below() {
    let mut rng = StdRng::seed_from_u64(6);
    let (_, online, target) = networks(&mut rng);
    let w = online.id("q.0.weight").unwrap();
    let (theta, theta_old) = (online.value(w), target.value(w));
    assert_ne!(theta, theta_old);

    target.polyak_from(&online, 0.25);
    let expected = &theta.to_owned() * 0.25 + &theta_old.to_owned() * 0.75;
    let difference = (&target.value(w).to_owned() - &expected)
        .iter()
        .fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(difference < 1e-6);

    target.polyak_from(&online, 1.0);
    assert_eq!(target.value(w), theta);
}
