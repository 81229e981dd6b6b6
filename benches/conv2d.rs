//! Conv2d forward + backward through the engine, the shape of issue 19: `N = 32`,
//! `C = 16 → 32`, `3×3`, padding 1, `16×16`, `f32` (and `f64`).
//!
//! * `conv2d/forward_backward`: `y = conv2d(x, W) + b` on a fresh tape with `x`, `W`, `b`
//!   tracked, `L = Σ y · p` for a fixed probe `p`, and the gradients of `L` with respect to
//!   `x`, `W` and `b` — what `torch.nn.Conv2d` does in `benches/torch-reference/conv2d_speed.py`.
//! * `conv2d/forward`: the forward pass alone, on constants (nothing recorded).
//! * `conv2d/gemm`: the products the convolution makes, through the engine's matmul on
//!   constants: one image's `W · cols` (`32×144 · 144×256`), 3 × 32 of them being the
//!   convolution's FLOPs, to give the engine's GEMM speed at this shape (the FLOP-based limit).
//!
//! FLOPs: forward `2·N·C_out·H·W·C_in·9 = 75.5 M`; backward twice that (`X̄` and `W̄`),
//! `226.5 M` in all.
//!
//! `cargo bench --bench conv2d`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::{Array2, Array4};
use wengert::autograd::conv::{Conv2dOptions, conv2d};
use wengert::autograd::prelude::*;

const N: usize = 32;
const C_IN: usize = 16;
const C_OUT: usize = 32;
const SIDE: usize = 16;

fn filled<T: Float>(shape: (usize, usize, usize, usize), salt: usize) -> Array4<T> {
    Array4::from_shape_fn(shape, |(a, b, c, d)| {
        let k = (((a * 61 + b) * 67 + c) * 71 + d) * 7919 + salt * 104_729;
        T::from_f64((k % 1000) as f64 / 1000.0 - 0.5)
    })
}

fn bench_type<T: Float>(c: &mut Criterion) {
    let options = Conv2dOptions::default().padding(1);
    let x = filled::<T>((N, C_IN, SIDE, SIDE), 1)
        .into_shared()
        .into_dyn();
    let w = filled::<T>((C_OUT, C_IN, 3, 3), 2).into_shared().into_dyn();
    let b = ndarray::Array1::from_shape_fn(C_OUT, |i| T::from_f64(i as f64 * 0.01))
        .into_shared()
        .into_dyn();
    let probe = Var::constant(filled::<T>((N, C_OUT, SIDE, SIDE), 3));
    let mut group = c.benchmark_group("conv2d");
    group.bench_function(format!("{}/forward_backward", T::NAME), |bench| {
        bench.iter(|| {
            let tape = Tape::<T>::new();
            let (x, w, b) = (
                tape.var(x.clone()),
                tape.var(w.clone()),
                tape.var(b.clone()),
            );
            let y = conv2d(&x, &w, &options) + b.reshape(&[1, C_OUT, 1, 1]);
            let loss = (&y * &probe).sum_all();
            let grads = loss.backward();
            black_box((grads[&x].len(), grads[&w].len(), grads[&b].len()))
        })
    });
    group.bench_function(format!("{}/forward", T::NAME), |bench| {
        let (x, w) = (Var::constant(x.clone()), Var::constant(w.clone()));
        bench.iter(|| black_box(conv2d(&x, &w, &options)))
    });
    let fill2 = |rows: usize, cols: usize, salt: usize| {
        Var::constant(Array2::from_shape_fn((rows, cols), |(i, j)| {
            T::from_f64((((i * cols + j) * 7919 + salt) % 1000) as f64 / 1000.0 - 0.5)
        }))
    };
    let (weight, cols) = (fill2(C_OUT, C_IN * 9, 4), fill2(C_IN * 9, SIDE * SIDE, 5));
    group.bench_function(format!("{}/gemm_32x144x256", T::NAME), |bench| {
        bench.iter(|| black_box(weight.matmul(&cols)))
    });
    group.finish();
}

fn benches(c: &mut Criterion) {
    wengert::allocator::keep_freed_memory();
    bench_type::<f32>(c);
    bench_type::<f64>(c);
}

criterion_group!(conv, benches);
criterion_main!(conv);
