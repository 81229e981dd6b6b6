//! LQR backward recursion + forward rollout (`LqrProblem::solve`) on random strictly convex
//! time-varying problems, and Riccati iteration to the DARE fixed point.
//!
//! Run: `cargo bench -p wengert-control --bench lqr`.
#![allow(non_snake_case)]

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array1, Array2};
use std::hint::black_box;
use wengert_control::lqr::{DareProblem, LqrProblem, RiccatiOptions};

/// Uniform numbers in [-1, 1) from a fixed linear congruential generator: the same problem on
/// every run, and no `rand` dependency.
struct Numbers(u64);

impl Numbers {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
    }

    fn matrix(&mut self, rows: usize, cols: usize) -> Array2<f64> {
        Array2::from_shape_fn((rows, cols), |_| self.next())
    }

    fn vector(&mut self, len: usize) -> Array1<f64> {
        Array1::from_shape_fn(len, |_| self.next())
    }
}

/// `F_t = [I + 0.1 A_t, 0.1 B_t]` with random `A_t, B_t`; `C_t = M Mᵀ / (n+m) + I`.
fn random_problem(n: usize, m: usize, T: usize) -> LqrProblem {
    let mut numbers = Numbers(42);
    let mut F = Vec::with_capacity(T);
    let mut f = Vec::with_capacity(T);
    let mut C = Vec::with_capacity(T);
    let mut c = Vec::with_capacity(T);
    for _ in 0..T {
        let mut F_t = numbers.matrix(n, n + m) * 0.1;
        for i in 0..n {
            F_t[[i, i]] += 1.0;
        }
        F.push(F_t);
        f.push(numbers.vector(n) * 0.01);
        let M = numbers.matrix(n + m, n + m);
        C.push(M.dot(&M.t()) / (n + m) as f64 + Array2::<f64>::eye(n + m));
        c.push(numbers.vector(n + m));
    }
    LqrProblem::new(F, f, C, c, numbers.vector(n)).expect("valid by construction")
}

fn finite_horizon(criterion: &mut Criterion) {
    let mut group = criterion.benchmark_group("lqr_backward_forward");
    for (n, m, T) in [(4, 2, 100), (12, 4, 500)] {
        let problem = random_problem(n, m, T);
        group.bench_function(format!("n{n}_m{m}_T{T}"), |bencher| {
            bencher.iter(|| black_box(&problem).solve().expect("convex by construction"))
        });
    }
    group.finish();
}

fn infinite_horizon(criterion: &mut Criterion) {
    let (n, m) = (12, 4);
    let mut numbers = Numbers(7);
    let mut A = numbers.matrix(n, n) * 0.3;
    for i in 0..n {
        A[[i, i]] += 0.9;
    }
    let problem = DareProblem::new(A, numbers.matrix(n, m), Array2::eye(n), Array2::eye(m))
        .expect("valid by construction");
    let options = RiccatiOptions::default();
    let mut group = criterion.benchmark_group("dare_riccati_iteration");
    group.bench_function(format!("n{n}_m{m}"), |bencher| {
        bencher.iter(|| black_box(&problem).solve(&options).expect("stabilisable"))
    });
    group.finish();
}

criterion_group!(benches, finite_horizon, infinite_horizon);
criterion_main!(benches);
