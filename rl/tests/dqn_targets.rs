//! DQN's pieces checked one at a time: Double-DQN targets, the dueling head, importance
//! weights in the loss, and the target-network update.

use autograd::prelude::*;
use ndarray::{Array1, Array2, array};
use nn::ParamStore;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::buffers::{ActionShape, Batch, ReplayBuffer, ReplayStorage, Transition};
use wengert_rl::dqn::{Dqn, DqnConfig, QNetwork, greedy, td_loss};
use wengert_rl::env::Action;

const OBSERVATION_DIM: usize = 3;
const NUM_ACTIONS: usize = 4;

fn small_config() -> DqnConfig {
    DqnConfig {
        hidden: vec![16, 16],
        learning_rate: 1e-2,
        ..DqnConfig::default()
    }
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

#[test]
fn double_dqn_target_differs_from_dqn_target_exactly_where_the_argmaxes_differ() {
    let mut rng = StdRng::seed_from_u64(0);
    let mut dqn = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
    // A target network unlike the online one, so that the two argmaxes disagree on some rows.
    let other = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
    dqn.target.copy_from(&other.online);
    let batch = random_batch(200, &mut rng);

    let q_next_online = dqn.q_values(&dqn.online, &batch.next_observations);
    let q_next_target = dqn.q_values(&dqn.target, &batch.next_observations);
    let online_argmax = greedy(q_next_online.view());
    let target_argmax = greedy(q_next_target.view());

    dqn.config.double = false;
    let y_dqn = dqn.targets(&batch);
    dqn.config.double = true;
    let y_double = dqn.targets(&batch);

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
    let mut dqn = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
    let batch = random_batch(50, &mut rng);
    let y_dqn = dqn.targets(&batch);
    dqn.config.double = true;
    assert_eq!(dqn.targets(&batch), y_dqn);
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

#[test]
fn importance_weights_scale_each_rows_loss_and_gradient() {
    let tape = Tape::<f32>::new();
    let q_taken = tape.var(array![0.5f32, -0.25, 3.0, 2.0]);
    let y = Var::constant(array![0.0f32, 0.0, 0.0, 0.0]);
    let weights = array![1.0, 0.0, 0.5, 2.0];
    let loss = td_loss(&q_taken, &y, &weights, 1.0);
    // ℓ = 0.125, 0.03125, 2.5, 1.5.
    let expected = (0.125 + 0.0 + 0.5 * 2.5 + 2.0 * 1.5) / 4.0;
    assert!((loss.item() - expected).abs() < 1e-6, "{}", loss.item());
    // ∂L/∂q_i = w_i ℓ'(δ_i) / B, ℓ'(δ) = δ inside κ, sign(δ) κ outside.
    let gradient = loss.backward()[&q_taken].to_owned();
    let expected = [0.5 / 4.0, 0.0, 0.5 / 4.0, 2.0 / 4.0];
    for (g, e) in gradient.iter().zip(expected) {
        assert!((g - e).abs() < 1e-7, "{gradient:?}");
    }
}

#[test]
fn prioritized_weights_reach_the_gradient_step() {
    let mut rng = StdRng::seed_from_u64(4);
    let config = small_config();
    let batch = random_batch(32, &mut rng);
    let build = || {
        Dqn::new(
            OBSERVATION_DIM,
            NUM_ACTIONS,
            &config,
            &mut StdRng::seed_from_u64(9),
        )
    };

    let mut unit = build();
    let unit_step = unit.gradient_step(&batch).unwrap();

    let mut halved = build();
    let halved_batch = Batch {
        weights: Array1::from_elem(32, 0.5),
        ..batch.clone()
    };
    let halved_step = halved.gradient_step(&halved_batch).unwrap();
    assert!((halved_step.loss - 0.5 * unit_step.loss).abs() < 1e-6 * unit_step.loss);
    assert!((halved_step.grad_norm - 0.5 * unit_step.grad_norm).abs() < 1e-4 * unit_step.grad_norm);
    assert_eq!(halved_step.td_errors, unit_step.td_errors);

    // Zero weights: zero gradient, and Adam leaves θ where it was.
    let mut ignored = build();
    let before: Vec<_> = ignored
        .online
        .ids()
        .map(|id| ignored.online.value(id))
        .collect();
    let zero_batch = Batch {
        weights: Array1::zeros(32),
        ..batch
    };
    let step = ignored.gradient_step(&zero_batch).unwrap();
    assert_eq!((step.loss, step.grad_norm), (0.0, 0.0));
    for (id, value) in ignored.online.ids().zip(before) {
        assert_eq!(
            ignored.online.value(id),
            value,
            "{}",
            ignored.online.name(id)
        );
    }
}

#[test]
fn gradient_steps_reduce_the_loss_on_a_fixed_batch() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut dqn = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
    let batch = random_batch(64, &mut rng);
    let first = dqn.gradient_step(&batch).unwrap();
    let mut last = first.clone();
    for _ in 0..100 {
        last = dqn.gradient_step(&batch).unwrap();
    }
    // θ' stays fixed, so this is plain regression onto fixed targets.
    assert!(
        last.loss < 0.1 * first.loss,
        "{} → {}",
        first.loss,
        last.loss
    );
    let rms = |d: &[f64]| (d.iter().map(|x| x * x).sum::<f64>() / d.len() as f64).sqrt();
    assert!(rms(&last.td_errors) < rms(&first.td_errors));
}

#[test]
fn target_update_is_a_hard_copy_at_tau_one_and_polyak_averaging_below() {
    let mut rng = StdRng::seed_from_u64(6);
    let mut dqn = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
    let batch = random_batch(16, &mut rng);
    dqn.gradient_step(&batch).unwrap();
    let w = dqn.online.id("q.0.weight").unwrap();
    let (theta, theta_old) = (dqn.online.value(w), dqn.target.value(w));
    assert_ne!(theta, theta_old);

    dqn.config.tau = 0.25;
    dqn.update_target();
    let expected = &theta.to_owned() * 0.25 + &theta_old.to_owned() * 0.75;
    let difference = (&dqn.target.value(w).to_owned() - &expected)
        .iter()
        .fold(0.0f32, |m, d| m.max(d.abs()));
    assert!(difference < 1e-6);

    dqn.config.tau = 1.0;
    dqn.update_target();
    assert_eq!(dqn.target.value(w), theta);
}

#[test]
fn the_learning_rate_set_on_the_learner_scales_its_adam_step() {
    // Adam's first step moves every parameter by about α (|m̂ / √v̂| = 1), so the largest
    // change of θ after one step follows the learning rate the learner was given.
    let largest_change = |learning_rate: f64| {
        let mut rng = StdRng::seed_from_u64(3);
        let mut dqn = Dqn::new(OBSERVATION_DIM, NUM_ACTIONS, &small_config(), &mut rng);
        dqn.set_learning_rate(learning_rate);
        let batch = random_batch(32, &mut rng);
        let id = dqn.online.id("q.0.weight").unwrap();
        let before = dqn.online.value(id).to_owned();
        dqn.gradient_step(&batch).unwrap();
        let after = dqn.online.value(id).to_owned();
        (&after - &before)
            .iter()
            .fold(0.0f32, |m, d| m.max(d.abs())) as f64
    };
    let (full, tenth) = (largest_change(1e-2), largest_change(1e-3));
    assert!((full - 1e-2).abs() < 1e-4, "{full}");
    assert!((tenth - 1e-3).abs() < 1e-5, "{tenth}");
}
