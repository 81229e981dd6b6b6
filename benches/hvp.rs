//! Hessian-vector products `H v` of the MLP loss in `common`, against one gradient.
//!
//! * `gradient`: forward pass and `∇L` — the baseline.
//! * `hvp_from_scratch`: forward pass, recorded `∇L` (`HessianVectorProduct::new`), `H v`.
//! * `hvp_apply`: `H v` alone on an already recorded gradient — the conjugate-gradient inner
//!   loop, where one forward pass and one recorded gradient serve many `v`.
//!
//! Target (issue 2): a Hessian-vector product within 3× of one gradient.

use criterion::{Criterion, criterion_group, criterion_main};
use wengert::autograd::HessianVectorProduct;
use wengert::autograd::prelude::*;

mod common;
use common::{LARGE, Problem, SMALL, Sizes};

/// `H v` from scratch: a fresh tape, the loss, its recorded gradient, one more backward pass.
fn hvp_from_scratch<T: Float>(problem: &Problem<T>, v: &[SharedArray<T>]) -> Vec<SharedArray<T>> {
    let tape = Tape::new();
    let params: Vec<Var<T>> = problem.params.iter().map(|p| tape.var(p.clone())).collect();
    let x = Var::constant(problem.x.clone());
    let t = Var::constant(problem.t.clone());
    let loss = common::engine_loss(&params, &x, &t);
    let refs: Vec<&Var<T>> = params.iter().collect();
    HessianVectorProduct::new(&loss, &refs).apply(v)
}

/// A direction `v`, one array per parameter, deterministic and of unit scale.
fn direction<T: Float>(problem: &Problem<T>) -> Vec<SharedArray<T>> {
    problem
        .params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            let mut i = 0usize;
            p.mapv(|_| {
                i += 1;
                T::from_f64(((i * 7919 + k * 104_729) % 1000) as f64 / 500.0 - 1.0)
            })
            .into_shared()
        })
        .collect()
}

/// Checks `H v` against the central difference `(∇L(θ + εv) − ∇L(θ − εv)) / 2ε` of the
/// hand-written gradient, in f64.
fn check_against_finite_difference(sizes: Sizes) {
    let problem = Problem::<f64>::new(sizes, 7);
    let v = direction(&problem);
    let hv = hvp_from_scratch(&problem, &v);
    let epsilon = 1e-5;
    let shifted = |sign: f64| {
        let mut moved = Problem::<f64>::new(sizes, 7);
        for (theta, v) in moved.params.iter_mut().zip(&v) {
            *theta = (&*theta + &(v * (sign * epsilon))).into_shared();
        }
        common::manual_gradient(&moved)
    };
    let (plus, minus) = (shifted(1.0), shifted(-1.0));
    let central: Vec<SharedArray<f64>> = plus
        .iter()
        .zip(&minus)
        .map(|(p, m)| ((p - m) / (2.0 * epsilon)).into_shared())
        .collect();
    let difference = common::max_difference(&hv, &central);
    let scale = hv.iter().flatten().fold(0.0f64, |m, x| m.max(x.abs()));
    assert!(
        difference <= 1e-6 * (1.0 + scale),
        "H v differs from the finite difference by {difference:e} (|H v| up to {scale:e})"
    );
}

fn bench_hvp<T: Float>(c: &mut Criterion, sizes: Sizes, precision: &str) {
    let problem = Problem::<T>::new(sizes, 42);
    let v = direction(&problem);

    let mut group = c.benchmark_group(format!("hvp {} {precision}", sizes.label()));
    group.bench_function("gradient", |b| b.iter(|| common::engine_gradient(&problem)));
    group.bench_function("hvp_from_scratch", |b| {
        b.iter(|| hvp_from_scratch(&problem, &v))
    });

    let tape = Tape::new();
    let params: Vec<Var<T>> = problem.params.iter().map(|p| tape.var(p.clone())).collect();
    let x = Var::constant(problem.x.clone());
    let t = Var::constant(problem.t.clone());
    let loss = common::engine_loss(&params, &x, &t);
    let refs: Vec<&Var<T>> = params.iter().collect();
    let hessian = HessianVectorProduct::new(&loss, &refs);
    group.bench_function("hvp_apply", |b| b.iter(|| hessian.apply(&v)));
    group.finish();
}

fn hvp(c: &mut Criterion) {
    // As the `wengert` command does: time the engine, not the kernel zeroing freed pages.
    wengert::allocator::keep_freed_memory();
    check_against_finite_difference(SMALL);
    bench_hvp::<f32>(c, SMALL, "f32");
    bench_hvp::<f64>(c, SMALL, "f64");
    bench_hvp::<f32>(c, LARGE, "f32");
}

criterion_group!(benches, hvp);
criterion_main!(benches);
