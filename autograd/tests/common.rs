//! Helpers shared by the autograd integration tests.
#![allow(dead_code)]

use ndarray::{ArrayD, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_autograd::SharedArray;

/// Uniform random values in `[lo, hi)`, from a fixed seed.
pub fn uniform(shape: &[usize], lo: f64, hi: f64, seed: u64) -> SharedArray<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(lo..hi)).into_shared()
}

/// Random values with magnitude in `[0.2, 2)` and random sign: away from the kinks at zero.
pub fn away_from_zero(shape: &[usize], seed: u64) -> SharedArray<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    ArrayD::from_shape_simple_fn(IxDyn(shape), || {
        let magnitude = rng.random_range(0.2..2.0);
        if rng.random_range(0.0..1.0) < 0.5 {
            -magnitude
        } else {
            magnitude
        }
    })
    .into_shared()
}

/// A transposed (non-contiguous) view of a random matrix of `shape` reversed.
pub fn transposed(shape: &[usize], seed: u64) -> SharedArray<f64> {
    let reversed: Vec<usize> = shape.iter().rev().copied().collect();
    let a = uniform(&reversed, -1.5, 1.5, seed).reversed_axes();
    assert!(!a.is_standard_layout());
    a
}
