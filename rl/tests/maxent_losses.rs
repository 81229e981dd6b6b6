//! MaxEnt IRL's loss: the gradient `∇_θ L = f̃ − Fᵀ D` of the pure [`evaluate`] against central
//! differences (f64) of its log-likelihood `L(θ)`, the soft values against the hard ones, and
//! bad input named.

use ndarray::{Array1, Array2, array};
use wengert_rl::env::{Gridworld, GridworldRewards};
use wengert_rl::irl::maxent::{
    MaxEntConfig, Problem, evaluate, log_likelihood, maxent_irl, soft_value_iteration,
    state_reward_model,
};
use wengert_rl::tabular::value_iteration;

fn noisy_world() -> Gridworld {
    Gridworld::new(
        "SSSS\nS#SS\nSSSS",
        GridworldRewards {
            noise: 0.2,
            ..GridworldRewards::default()
        },
    )
    .unwrap()
}

#[test]
fn the_gradient_is_the_central_difference_of_the_log_likelihood() {
    let world = noisy_world();
    let model = world.model();
    let n = model.num_states();
    // Three arbitrary features per state, expert counts and start distribution made up.
    let features = Array2::from_shape_fn((n, 3), |(s, k)| ((s * 7 + k * 3) % 5) as f64 / 4.0);
    let f_expert = array![0.4, 0.9, 0.2];
    let mut mu0 = vec![0.0; n];
    (mu0[0], mu0[6], mu0[11]) = (0.5, 0.25, 0.25);
    let problem = Problem {
        model,
        features: &features,
        expert_feature_counts: &f_expert,
        initial: &mu0,
        gamma: 0.8,
        soft_tolerance: 1e-14,
        visitation_tolerance: 1e-14,
    };
    let theta = array![0.3, -0.7, 1.1];
    let at_theta = evaluate(&problem, &theta, vec![0.0; n]);
    let l = |t: &Array1<f64>| evaluate(&problem, t, vec![0.0; n]).log_likelihood;
    assert_eq!(
        at_theta.log_likelihood,
        log_likelihood(model, &features, &theta, &f_expert, &mu0, 0.8, 1e-14)
    );
    let eps = 1e-5;
    for k in 0..3 {
        let (mut plus, mut minus) = (theta.clone(), theta.clone());
        plus[k] += eps;
        minus[k] -= eps;
        let numeric = (l(&plus) - l(&minus)) / (2.0 * eps);
        // PyTorch's gradcheck bound: |analytic − numeric| ≤ atol + rtol·|numeric|
        let (analytic, bound) = (at_theta.gradient[k], 1e-7 + 1e-5 * numeric.abs());
        assert!(
            (numeric - analytic).abs() <= bound,
            "∂L/∂θ_{k}: analytic {analytic} vs numeric {numeric}"
        );
    }
}

#[test]
fn soft_values_approach_hard_values_as_the_reward_scales_up() {
    // V_soft(c r) / c → V*(r) as c → ∞: log Σ exp is a smooth max.
    let world = noisy_world();
    let model = world.model();
    let reward: Vec<f64> = (0..12).map(|s| ((s * 5) % 7) as f64 / 7.0).collect();
    let hard = value_iteration(&state_reward_model(model, &reward), 0.9, 1e-12);
    let c = 1e4;
    let scaled: Vec<f64> = reward.iter().map(|r| c * r).collect();
    let soft = soft_value_iteration(model, &scaled, 0.9, 1e-9);
    for s in 0..12 {
        assert!((soft.values[s] / c - hard.values[s]).abs() < 1e-2);
    }
}

#[test]
fn bad_input_is_named() {
    let world = noisy_world();
    let features = Array2::zeros((11, 2));
    let error = maxent_irl(
        world.model(),
        &features,
        &[vec![0]],
        &MaxEntConfig::default(),
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        error.contains("11 rows") && error.contains("(12)"),
        "{error}"
    );
    let features = Array2::zeros((12, 2));
    let error = maxent_irl(world.model(), &features, &[], &MaxEntConfig::default())
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("no demonstrations"), "{error}");
    let config = MaxEntConfig {
        gamma: 1.0,
        ..MaxEntConfig::default()
    };
    let error = maxent_irl(world.model(), &features, &[vec![0]], &config)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("gamma = 1"), "{error}");
}
