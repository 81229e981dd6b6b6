//! Matrix product through the engine against raw `matrixmultiply`, square `n × n` operands.
//!
//! * `raw`: `sgemm`/`dgemm` into a preallocated output — the floor.
//! * `constant`: `Var::constant(a).matmul(&Var::constant(b))` — no tape, nothing recorded.
//! * `tape`: both operands tracked on a fresh tape, so the product is recorded.
//!
//! Target (issue 2): the engine at ≥ 0.9× the speed of raw for `n ≥ 64`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use wengert::autograd::prelude::*;

/// A deterministic, well-spread fill in `[-0.5, 0.5)`; the values do not affect the timing.
fn filled<T: Float>(n: usize, salt: usize) -> Array2<T> {
    Array2::from_shape_fn((n, n), |(i, j)| {
        let k = (i * n + j) * 7919 + salt * 104_729;
        T::from_f64((k % 1000) as f64 / 1000.0 - 0.5)
    })
}

/// `c ← a b` with the kernel the engine itself calls, on row-major matrices.
trait RawGemm: Float {
    fn raw_gemm(n: usize, a: &Array2<Self>, b: &Array2<Self>, c: &mut Array2<Self>);
}

impl RawGemm for f32 {
    fn raw_gemm(n: usize, a: &Array2<f32>, b: &Array2<f32>, c: &mut Array2<f32>) {
        let s = n as isize;
        // SAFETY: a, b, c are distinct, contiguous row-major n × n arrays.
        unsafe {
            matrixmultiply::sgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                s,
                1,
                b.as_ptr(),
                s,
                1,
                0.0,
                c.as_mut_ptr(),
                s,
                1,
            );
        }
    }
}

impl RawGemm for f64 {
    fn raw_gemm(n: usize, a: &Array2<f64>, b: &Array2<f64>, c: &mut Array2<f64>) {
        let s = n as isize;
        // SAFETY: a, b, c are distinct, contiguous row-major n × n arrays.
        unsafe {
            matrixmultiply::dgemm(
                n,
                n,
                n,
                1.0,
                a.as_ptr(),
                s,
                1,
                b.as_ptr(),
                s,
                1,
                0.0,
                c.as_mut_ptr(),
                s,
                1,
            );
        }
    }
}

fn bench_matmul<T: RawGemm>(c: &mut Criterion, name: &str) {
    let mut group = c.benchmark_group(name);
    for n in [16, 64, 256, 1024] {
        group.sample_size(if n >= 1024 { 10 } else { 50 });
        let (a, b) = (filled::<T>(n, 1), filled::<T>(n, 2));
        let (a_shared, b_shared) = (a.clone().into_shared(), b.clone().into_shared());

        // All three compute the same product.
        let mut out = Array2::zeros((n, n));
        T::raw_gemm(n, &a, &b, &mut out);
        let engine = Var::constant(a_shared.clone()).matmul(&Var::constant(b_shared.clone()));
        assert_eq!(engine.value(), &out.clone().into_dyn().into_shared());

        group.bench_with_input(BenchmarkId::new("raw", n), &n, |bench, &n| {
            bench.iter(|| T::raw_gemm(n, black_box(&a), black_box(&b), &mut out))
        });
        group.bench_with_input(BenchmarkId::new("constant", n), &n, |bench, _| {
            bench.iter(|| {
                Var::constant(black_box(&a_shared).clone())
                    .matmul(&Var::constant(black_box(&b_shared).clone()))
            })
        });
        group.bench_with_input(BenchmarkId::new("tape", n), &n, |bench, _| {
            bench.iter(|| {
                let tape = Tape::<T>::new();
                let product = tape
                    .var(black_box(&a_shared).clone())
                    .matmul(&tape.var(black_box(&b_shared).clone()));
                product.value().clone()
            })
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    bench_matmul::<f32>(c, "matmul_f32");
    bench_matmul::<f64>(c, "matmul_f64");
}

criterion_group!(benches, matmul);
criterion_main!(benches);
