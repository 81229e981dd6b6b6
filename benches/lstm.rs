//! One training step of an LSTM: forward over the sequence, backpropagation through time and
//! an Adam step — `torch.nn.LSTM` + `torch.optim.Adam` in PyTorch's terms. Issue 19's sizes:
//! `T = 32` steps, batch `N = 64`, input `I = 8`, hidden `H = 64`, one layer, f32; the loss is
//! the mean squared error of the outputs `(T, N, H)` against a fixed target.
//!
//! The peer is `benches/torch-reference/lstm_speed.py` (PyTorch eager, one thread, the same
//! step); BENCHMARKS.md → "LSTM (nn-seq, session 9)" has both, run side by side.
//!
//! Target (issue 19): at least 2× faster than PyTorch.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ndarray::Array3;
use rand::{RngExt, SeedableRng};
use wengert::autograd::prelude::*;
use wengert::nn::losses::{Reduction, mse};
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{LSTM, ParamStore};

const STEPS: usize = 32;
const BATCH: usize = 64;
const INPUT: usize = 8;
const HIDDEN: usize = 64;

struct Problem {
    store: ParamStore<f32>,
    lstm: LSTM,
    x: Var<f32>,
    target: Var<f32>,
}

fn problem() -> Problem {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut store = ParamStore::new();
    let lstm = LSTM::new(&mut store.root(), INPUT, HIDDEN, 1, &mut rng);
    let mut uniform = |shape| Array3::from_shape_fn(shape, |_| rng.random_range(-1.0..1.0f32));
    let x = Var::constant(uniform((STEPS, BATCH, INPUT)));
    let target = Var::constant(uniform((STEPS, BATCH, HIDDEN)));
    Problem {
        store,
        lstm,
        x,
        target,
    }
}

/// Forward, BPTT, Adam: returns the loss.
fn training_step(p: &Problem, adam: &mut Adam<f32>) -> f32 {
    let tape = Tape::new();
    let params = p.store.bind(&tape);
    let (output, _) = p.lstm.forward(&params, &p.x, None);
    let loss = mse(&output, &p.target, Reduction::Mean);
    let grads = params.gradients(&loss);
    adam.step(&p.store, &grads);
    loss.item()
}

fn lstm(c: &mut Criterion) {
    wengert::allocator::keep_freed_memory();
    let mut group = c.benchmark_group(format!("lstm T={STEPS} N={BATCH} I={INPUT} H={HIDDEN} f32"));
    group.bench_function("forward_bptt_adam", |b| {
        b.iter_batched(
            || {
                let p = problem();
                let adam = Adam::new(p.store.trainable(), AdamConfig::default());
                (p, adam)
            },
            |(p, mut adam)| training_step(&p, &mut adam),
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, lstm);
criterion_main!(benches);
