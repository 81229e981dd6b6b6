//! Tests of the model, the loop and the policy through the model.

use super::*;
use crate::ilqr::problem::RunningCost;
use autograd::gradcheck;
use autograd::{Tensor, Var};
use ndarray::array;
use ndarray::{Array1, Array2};
use nn::ParamId;
use nn::optim::{Adam, AdamConfig};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use std::sync::Arc;

#[test]
fn predicting_the_mean_change_gives_back_the_state_plus_the_mean() {
    let mut model = DynamicsModel::new(2, 1, &[8], 3);
    model.normalisation = Normalisation {
        input_mean: array![0.5, -1.0, 0.2],
        input_std: array![2.0, 0.5, 3.0],
        delta_mean: array![0.25, -0.75],
        delta_std: array![4.0, 0.1],
    };
    // Zero output layer: Δ_φ ≡ 0, i.e. the normalised change predicted is the mean's.
    let output = model.network.layers.last().expect("a layer");
    let zeros = |id| {
        let shape = model.store.value(id).shape().to_vec();
        model.store.set(id, ndarray::ArrayD::<f64>::zeros(shape));
    };
    zeros(output.weight);
    zeros(output.bias.expect("a bias"));
    let s = array![[1.0, -3.0, 0.0], [2.0, 4.0, 0.5]];
    let a = array![[0.3, -0.7, 1.0]];
    let expected = &s + &array![[0.25], [-0.75]];
    let s_next = model.predict(&s, &a);
    assert!(
        (&s_next - &expected).iter().all(|e| e.abs() < 1e-12),
        "{s_next}"
    );
    // And the loss of data whose change is exactly the mean is zero.
    let loss = model
        .loss(&model.store.constants(), &s, &a, &expected)
        .item();
    assert!(loss < 1e-20, "{loss}");
}

#[test]
fn gradients_through_the_model_and_of_its_loss_pass_gradcheck() {
    let mut model = DynamicsModel::new(2, 1, &[5], 4);
    model.normalisation = Normalisation {
        input_mean: array![0.1, -0.2, 0.3],
        input_std: array![1.5, 0.7, 2.0],
        delta_mean: array![0.05, -0.1],
        delta_std: array![0.3, 2.0],
    };
    let s = array![[0.3, -0.2, 1.4], [1.1, 0.4, -0.6]];
    let a = array![[0.5, -0.9, 0.2]];
    // Through f̂ in s and a: what a planner or a policy gradient differentiates.
    gradcheck(
        |v| model.next_state(&model.store.constants(), &v[0], &v[1]),
        &[
            s.clone().into_dyn().into_shared(),
            a.clone().into_dyn().into_shared(),
        ],
    )
    .unwrap();
    // L in φ: what fit differentiates.
    let s_next = &s + &array![[0.2, -0.1, 0.0], [0.5, 1.0, -2.0]];
    let ids: Vec<ParamId> = model.store.trainable().collect();
    let phi: Vec<_> = ids.iter().map(|&id| model.store.value(id)).collect();
    gradcheck(
        |v| {
            let bound = model
                .store
                .bind_with(ids.iter().copied().zip(v.iter().cloned()));
            model.loss(&bound, &s, &a, &s_next)
        },
        &phi,
    )
    .unwrap();
}

#[test]
fn the_model_learns_a_linear_system() {
    // s' = A s + B a with a stable, coupled A.
    let A = array![[0.9, 0.2], [-0.1, 0.95]];
    let B = array![[0.0], [0.5]];
    let mut rng = StdRng::seed_from_u64(11);
    let mut draw = |len: usize| {
        let mut data = Transitions::new(2, 1);
        for _ in 0..len {
            let s = array![rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
            let a = array![rng.random_range(-1.0..1.0)];
            data.push(&s, &a, &(A.dot(&s) + B.dot(&a)));
        }
        data
    };
    let (data, held_out) = (draw(2000), draw(500));
    let mut model = DynamicsModel::new(2, 1, &[32, 32], 0);
    let mut adam = Adam::new(
        model.store.trainable(),
        AdamConfig {
            lr: 3e-3,
            ..AdamConfig::default()
        },
    );
    let report = fit(&mut model, &mut adam, &data, 30, 64, 10, 0);
    let all: Vec<usize> = (0..held_out.len()).collect();
    let (s, a, s_next) = held_out.columns(&all);
    let error = &model.predict(&s, &a) - &s_next;
    let rms = (error.mapv(|e| e * e).mean().expect("not empty")).sqrt();
    // The changes Δ have a standard deviation of about 0.3 per component.
    println!("{report:?}, held-out RMS one-step error {rms:.5}");
    assert!(rms < 0.01, "held-out RMS one-step error {rms}");
    assert!(report.validation_loss < 1e-3, "{report:?}");
}

#[test]
fn a_policy_trained_through_a_learned_linear_model_nears_lqr() {
    // Double integrator, dt = 0.1; cost ½(sᵀ Q s + aᵀ R a), Q = I, R = 0.1.
    let A = array![[1.0, 0.1], [0.0, 1.0]];
    let B = array![[0.005], [0.1]];
    let (Q, R) = (Array2::<f64>::eye(2), array![[0.1]]);
    let mut rng = StdRng::seed_from_u64(5);
    let mut data = Transitions::new(2, 1);
    for _ in 0..2000 {
        let s = array![rng.random_range(-2.0..2.0), rng.random_range(-2.0..2.0)];
        let a = array![rng.random_range(-5.0..5.0)];
        data.push(&s, &a, &(A.dot(&s) + B.dot(&a)));
    }
    let mut model = DynamicsModel::new(2, 1, &[32, 32], 0);
    let mut adam = Adam::new(
        model.store.trainable(),
        AdamConfig {
            lr: 3e-3,
            ..AdamConfig::default()
        },
    );
    fit(&mut model, &mut adam, &data, 30, 64, 10, 0);

    let cost: RunningCost = Arc::new(|s: &Var<f64>, a: &Var<f64>| {
        (s.powi(2).sum(&[0], false) + a.powi(2).sum(&[0], false) * 0.1) * 0.5
    });
    let starts = Array2::from_shape_fn((2, 256), |_| rng.random_range(-1.0..1.0));
    let config = PolicyGradientConfig::default();
    let (policy, J) =
        train_policy_through_model(&model, cost, &starts, array![-5.0], array![5.0], &config);

    // Each controller's cost over H steps of the true system, from held-out starts.
    let true_cost = |control: &dyn Fn(&Array1<f64>) -> Array1<f64>| {
        let mut total = 0.0;
        for b in 0..64 {
            let mut s = array![(b as f64 * 0.37).sin(), (b as f64 * 0.91).cos()];
            for _ in 0..config.horizon {
                let a = control(&s);
                total += 0.5 * (s.dot(&Q.dot(&s)) + a.dot(&R.dot(&a)));
                s = A.dot(&s) + B.dot(&a);
            }
            total += 0.5 * s.dot(&Q.dot(&s));
        }
        total / 64.0
    };
    let K = crate::lqr::DareProblem::new(A.clone(), B.clone(), Q.clone(), R.clone())
        .unwrap()
        .solve(&crate::lqr::RiccatiOptions::default())
        .unwrap()
        .K;
    let lqr = true_cost(&|s| -K.dot(s));
    let idle = true_cost(&|_| array![0.0]);
    let learned = true_cost(&|s| policy.act(s));
    println!(
        "J on the model {:.3} → {:.3}; true cost: LQR {lqr:.3}, policy {learned:.3}, no action {idle:.3}",
        J[0],
        J.last().unwrap()
    );
    assert!(learned < 1.1 * lqr, "policy {learned} vs LQR {lqr}");
    assert!(learned < 0.7 * idle, "policy {learned} vs no action {idle}");
}
