//! `gradcheck` and `gradgradcheck` of every loss with respect to its differentiable inputs.

use autograd::prelude::*;
use autograd::{gradcheck, gradgradcheck};
use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_nn::losses::{
    CrossEntropy, Reduction, binary_cross_entropy_with_logits, gaussian_nll, huber, mse, smooth_l1,
};

fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> SharedArray<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(lo..hi)).into_shared()
}

/// Both checks, for every reduction.
fn check_both(
    name: &str,
    f: impl Fn(&[Var<f64>], Reduction) -> Var<f64>,
    inputs: &[SharedArray<f64>],
) {
    for reduction in [Reduction::Mean, Reduction::Sum, Reduction::None] {
        let g = |v: &[Var<f64>]| f(v, reduction);
        if let Err(e) = gradcheck(g, inputs) {
            panic!("{name} ({reduction:?}): {e}");
        }
        if let Err(e) = gradgradcheck(g, inputs) {
            panic!("{name} ({reduction:?}): {e}");
        }
    }
}

#[test]
fn mse_passes_gradient_checks() {
    let x = uniform(&[3, 4], -2.0, 2.0, 1);
    let y = uniform(&[3, 4], -2.0, 2.0, 2);
    check_both("mse", |v, r| mse(&v[0], &v[1], r), &[x, y]);
}

#[test]
fn huber_and_smooth_l1_pass_gradient_checks_in_both_regimes() {
    // Differences spread over (−3, 3) put elements on both sides of δ = β = 1 and 0.5.
    let x = uniform(&[4, 5], -1.5, 1.5, 3);
    let y = uniform(&[4, 5], -1.5, 1.5, 4);
    let d = &x - &y;
    assert!(d.iter().any(|v| v.abs() < 0.5) && d.iter().any(|v| v.abs() > 1.0));
    for threshold in [1.0, 0.5] {
        check_both(
            "huber",
            |v, r| huber(&v[0], &v[1], threshold, r),
            &[x.clone(), y.clone()],
        );
        check_both(
            "smooth_l1",
            |v, r| smooth_l1(&v[0], &v[1], threshold, r),
            &[x.clone(), y.clone()],
        );
    }
    check_both(
        "smooth_l1 (β = 0)",
        |v, r| smooth_l1(&v[0], &v[1], 0.0, r),
        &[x, y],
    );
}

#[test]
fn cross_entropy_passes_gradient_checks_with_ignore_index_mask_and_smoothing() {
    let logits = uniform(&[5, 4], -2.0, 2.0, 5);
    let targets = [2, -100, 0, 3, -100];
    for label_smoothing in [0.0, 0.1] {
        check_both(
            "cross_entropy",
            |v, reduction| {
                CrossEntropy {
                    label_smoothing,
                    reduction,
                    ..CrossEntropy::default()
                }
                .loss(&v[0], &targets)
            },
            std::slice::from_ref(&logits),
        );
        check_both(
            "cross_entropy (masked)",
            |v, reduction| {
                CrossEntropy {
                    label_smoothing,
                    reduction,
                    ..CrossEntropy::default()
                }
                .masked_loss(
                    &v[0].reshape(&[1, 5, 4]),
                    &[2, 1, 0, 3, 1],
                    &[true, false, true, true, false],
                )
            },
            std::slice::from_ref(&logits),
        );
    }
}

#[test]
fn binary_cross_entropy_with_logits_passes_gradient_checks_in_logits_and_targets() {
    let logits = uniform(&[6], -4.0, 4.0, 6);
    let targets = uniform(&[6], 0.0, 1.0, 7);
    check_both(
        "bce_with_logits",
        |v, r| binary_cross_entropy_with_logits(&v[0], &v[1], r),
        &[logits, targets],
    );
}

#[test]
fn gaussian_nll_passes_gradient_checks_in_mean_target_and_variance() {
    let x = uniform(&[3, 2], -1.0, 1.0, 8);
    let y = uniform(&[3, 2], -1.0, 1.0, 9);
    let variance = uniform(&[3, 2], 0.5, 2.0, 10);
    for full in [false, true] {
        check_both(
            "gaussian_nll",
            |v, r| gaussian_nll(&v[0], &v[1], &v[2], full, 1e-6, r),
            &[x.clone(), y.clone(), variance.clone()],
        );
    }
    // one variance per row, broadcast over the last axis
    let per_row = uniform(&[3], 0.5, 2.0, 11);
    check_both(
        "gaussian_nll (per-row variance)",
        |v, r| gaussian_nll(&v[0], &v[1], &v[2], true, 1e-6, r),
        &[x, y, per_row],
    );
}
