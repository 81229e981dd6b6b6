//! The score-function (REINFORCE) gradient estimator `ĝ = ∇θ ln π_θ(a) · (R(a) − b)`, computed
//! with the autograd engine on the library's Gaussian, is unbiased, and a baseline `b` keeps
//! its mean and lowers its variance.
//!
//! Policy `a ~ N(μ, σ²)`, reward `R(a) = −(a − c)²`, so `E[R] = −((μ − c)² + σ²)` and the true
//! gradients are `∂E[R]/∂μ = −2(μ − c)` and `∂E[R]/∂ln σ = −2σ²`.

use autograd::prelude::*;
use nn::distributions::DiagGaussian;
use rand::SeedableRng;
use rand::rngs::StdRng;

const MU: f64 = 0.5;
const LOG_STD: f64 = -0.2231435513142097; // ln 0.8
const C: f64 = 2.0;
const SAMPLES: usize = 200_000;
/// A correct estimator lands within this many standard errors of the truth (a miss has
/// probability < 10⁻⁴ for a normal mean; the runs are seeded, so the test is deterministic).
const TOLERANCE_IN_STANDARD_ERRORS: f64 = 4.0;

fn reward(a: f64) -> f64 {
    -(a - C).powi(2)
}

/// Per-sample estimates `(ĝ_μ, ĝ_lnσ)` for `SAMPLES` actions with baseline `b`. Every sample has
/// its own copy of the parameters, so one backward pass gives every per-sample gradient.
fn score_function_estimates(seed: u64, baseline: f64) -> (Vec<f64>, Vec<f64>) {
    let tape = Tape::<f64>::new();
    let mu = tape.var(ndarray::Array2::from_elem((SAMPLES, 1), MU));
    let log_std = tape.var(ndarray::Array2::from_elem((SAMPLES, 1), LOG_STD));
    let pi = DiagGaussian::new(&mu, &log_std);
    let actions = pi.sample(&mut StdRng::seed_from_u64(seed)); // detached: a does not depend on θ
    let weights: ndarray::Array1<f64> = actions
        .value()
        .iter()
        .map(|&a| reward(a) - baseline)
        .collect();
    let surrogate = (&pi.log_prob(&actions) * &Var::constant(weights)).sum_all();
    let [g_mu, g_log_std] = grad(&[&surrogate], &[&mu, &log_std]).try_into().unwrap();
    (
        g_mu.iter().copied().collect(),
        g_log_std.iter().copied().collect(),
    )
}

fn mean_and_standard_error(x: &[f64]) -> (f64, f64, f64) {
    let n = x.len() as f64;
    let mean = x.iter().sum::<f64>() / n;
    let variance = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (variance / n).sqrt(), variance)
}

fn true_gradients() -> (f64, f64) {
    let sigma = LOG_STD.exp();
    (-2.0 * (MU - C), -2.0 * sigma * sigma)
}

#[test]
fn the_score_function_estimator_is_unbiased_on_a_gaussian() {
    let (g_mu, g_log_std) = score_function_estimates(7, 0.0);
    let (true_mu, true_log_std) = true_gradients();
    for (name, estimates, truth) in [("μ", &g_mu, true_mu), ("ln σ", &g_log_std, true_log_std)] {
        let (mean, se, _) = mean_and_standard_error(estimates);
        assert!(
            (mean - truth).abs() < TOLERANCE_IN_STANDARD_ERRORS * se,
            "∂/∂{name}: estimate {mean} ± {se}, true {truth}"
        );
        // the test has power: the standard error is a small fraction of the gradient
        assert!(se < 0.02 * truth.abs(), "∂/∂{name}: standard error {se}");
    }
}

#[test]
fn a_baseline_keeps_the_mean_and_lowers_the_variance() {
    // b estimates E[R] from other samples, so it does not depend on the actions it weights.
    let sigma = LOG_STD.exp();
    let mut rng = StdRng::seed_from_u64(99);
    let b = DiagGaussian::new(
        &Var::constant(ndarray::array![MU]),
        &Var::constant(ndarray::array![LOG_STD]),
    );
    let draws: Vec<f64> = (0..1000)
        .map(|_| reward(b.sample(&mut rng).item()))
        .collect();
    let baseline = draws.iter().sum::<f64>() / draws.len() as f64;
    let expected_reward = -((MU - C).powi(2) + sigma * sigma);
    assert!(
        (baseline - expected_reward).abs() < 0.2,
        "baseline {baseline}"
    );

    // the same actions (same seed) with and without the baseline
    let (plain_mu, plain_log_std) = score_function_estimates(11, 0.0);
    let (based_mu, based_log_std) = score_function_estimates(11, baseline);
    let (true_mu, true_log_std) = true_gradients();
    for (name, plain, based, truth) in [
        ("μ", &plain_mu, &based_mu, true_mu),
        ("ln σ", &plain_log_std, &based_log_std, true_log_std),
    ] {
        let (mean, se, variance) = mean_and_standard_error(based);
        let (_, _, plain_variance) = mean_and_standard_error(plain);
        assert!(
            (mean - truth).abs() < TOLERANCE_IN_STANDARD_ERRORS * se,
            "∂/∂{name} with baseline: estimate {mean} ± {se}, true {truth}"
        );
        // Same mean: the paired difference b ∇ln π(a) averages to zero.
        let difference: Vec<f64> = plain.iter().zip(based).map(|(p, q)| p - q).collect();
        let (mean_difference, se_difference, _) = mean_and_standard_error(&difference);
        assert!(
            mean_difference.abs() < TOLERANCE_IN_STANDARD_ERRORS * se_difference,
            "∂/∂{name}: the baseline shifted the mean by {mean_difference} ± {se_difference}"
        );
        // Lower variance, by a wide margin here (E[R] ≈ −2.9 dominates R's fluctuations).
        assert!(
            variance < 0.7 * plain_variance,
            "∂/∂{name}: variance {variance} with the baseline, {plain_variance} without"
        );
    }
}
