//! `tanh` over a 64 × 64 layer of pre-activations: the platform's scalar `tanh` against the
//! engine's kernel ([`Float::tanh_all`]; for `f32` the vectorised kernel of `autograd/src/tanh.rs`).

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wengert::autograd::prelude::*;

fn bench_tanh<T: Float>(c: &mut Criterion) {
    // Pre-activations spread over [-3, 3], where a tanh network's units mostly live.
    let x: Vec<T> = (0..4096)
        .map(|i| T::from_f64(((i * 7919) % 4096) as f64 / 4096.0 * 6.0 - 3.0))
        .collect();
    let mut group = c.benchmark_group(format!("tanh {}", T::NAME));
    group.throughput(Throughput::Elements(x.len() as u64));
    group.bench_function("platform", |b| {
        b.iter(|| black_box(&x).iter().map(|&v| v.tanh()).collect::<Vec<T>>())
    });
    group.bench_function("engine", |b| b.iter(|| T::tanh_all(black_box(&x))));
    group.finish();
}

fn tanh(c: &mut Criterion) {
    bench_tanh::<f32>(c);
    bench_tanh::<f64>(c);
}

criterion_group!(benches, tanh);
criterion_main!(benches);
