//! The tape's per-op overhead: a chain of 1000 tiny ops (`x ← x + c`, `x ← x · k`, alternating)
//! on a one-element value, as raw f64 arithmetic, on constants (nothing recorded), recorded on
//! a tape, and recorded then differentiated. Divide the time by 1000 for the cost per op.
//!
//! Target (issue 2): recording well under a microsecond per op.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::array;
use wengert::autograd::prelude::*;

/// The number of ops in the chain.
const OPS: usize = 1000;
const C: f64 = 0.5;
const K: f64 = 0.999;

fn chain(x: Var<f64>, k: &Var<f64>) -> Var<f64> {
    let mut x = x;
    for _ in 0..OPS / 2 {
        x = x.add_scalar(C).mul(k);
    }
    x
}

fn tape_overhead(c: &mut Criterion) {
    let raw = || {
        let mut x = black_box(1.0f64);
        for _ in 0..OPS / 2 {
            x = black_box(black_box(x + C) * K);
        }
        x
    };
    let constant = || chain(Var::constant(array![1.0]), &Var::constant(array![K]));
    let recorded = || {
        let tape = Tape::new();
        let k = tape.var(array![K]);
        (chain(tape.var(array![1.0]), &k), k)
    };
    // All three compute the same number.
    let (y, k) = recorded();
    assert_eq!(y.item(), raw());
    assert_eq!(constant().item(), raw());
    assert!(y.backward()[&k].sum().is_finite());

    let mut group = c.benchmark_group(format!("tape_overhead {OPS} ops"));
    group.bench_function("raw_f64", |b| b.iter(raw));
    group.bench_function("constant", |b| b.iter(constant));
    group.bench_function("recorded", |b| b.iter(recorded));
    group.bench_function("recorded_and_backward", |b| {
        b.iter(|| {
            let (y, k) = recorded();
            y.backward().get(&k).cloned()
        })
    });
    group.finish();
}

criterion_group!(benches, tape_overhead);
criterion_main!(benches);
