//! One training step of the MLP in `common` — forward, gradient, Adam update — with the
//! gradient found by the engine (`engine`) or by hand-written backpropagation on ndarray
//! (`manual`). The Adam update is the same code on both sides.
//!
//! `manual_engine_tanh` is the hand-written step with `tanh` from the engine's kernel
//! ([`Float::tanh_all`]) rather than the platform's: against it, the engine's own overhead.
//!
//! Target (issue 2): `engine` within 1.25× of `manual`.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use wengert::autograd::prelude::*;

mod common;
use common::{Adam, LARGE, Problem, SMALL, Sizes};

/// Checks, outside any timing, that both sides compute the same gradient.
fn check_same_gradient<T: Float>(problem: &Problem<T>, tolerance: f64) {
    let engine = common::engine_gradient(problem);
    let manual = common::manual_gradient(problem);
    let difference = common::max_difference(&engine, &manual);
    assert!(
        difference <= tolerance,
        "engine and manual gradients differ by {difference:e} (tolerance {tolerance:e})"
    );
}

fn bench_step<T: Float>(c: &mut Criterion, sizes: Sizes, precision: &str, tolerance: f64) {
    let problem = Problem::<T>::new(sizes, 42);
    check_same_gradient(&problem, tolerance);

    let mut group = c.benchmark_group(format!("training_step {} {precision}", sizes.label()));
    // Every timed step starts from the same parameters and Adam moments (set up untimed), so
    // both sides run on identical numbers however many iterations criterion chooses.
    let initial = || {
        let problem = Problem::<T>::new(sizes, 42);
        let adam = Adam::new(&problem.params);
        (problem, adam)
    };
    let step = |gradient: fn(&Problem<T>) -> Vec<SharedArray<T>>| {
        move |(mut problem, mut adam): (Problem<T>, Adam<T>)| {
            let g = gradient(&problem);
            adam.step(&mut problem.params, &g);
            (problem, adam)
        }
    };
    group.bench_function("engine", |b| {
        b.iter_batched(
            initial,
            step(common::engine_gradient),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("manual", |b| {
        b.iter_batched(
            initial,
            step(common::manual_gradient),
            BatchSize::SmallInput,
        )
    });
    group.bench_function("manual_engine_tanh", |b| {
        b.iter_batched(
            initial,
            step(common::manual_gradient_engine_tanh),
            BatchSize::SmallInput,
        )
    });
    group.finish();
}

fn training_step(c: &mut Criterion) {
    // As the `wengert` command does: time the engine, not the kernel zeroing freed pages.
    wengert::allocator::keep_freed_memory();
    bench_step::<f32>(c, SMALL, "f32", 1e-5);
    bench_step::<f64>(c, SMALL, "f64", 1e-10);
    bench_step::<f32>(c, LARGE, "f32", 1e-5);
    bench_step::<f64>(c, LARGE, "f64", 1e-10);
}

criterion_group!(benches, training_step);
criterion_main!(benches);
