//! Matrix product through the engine against raw `matrixmultiply`, square `n × n` operands.
//!
//! * `raw`: `sgemm`/`dgemm` into a preallocated output — the floor.
//! * `constant`: `Var::constant(a).matmul(&Var::constant(b))` — no tape, nothing recorded.
//! * `tape`: both operands tracked on a fresh tape, so the product is recorded.
//!
//! Target (issue 2): the engine at ≥ 0.9× the speed of raw for `n ≥ 64`.
//!
//! `tiles_f32`: every product of a 4-64-64-2 network's forward and backward pass at batch 256,
//! with the operands laid out as the engine's matmul rule lays them out (`x Wᵀ` forward, `ḡ W`
//! and `(ḡᵀ x)ᵀ` backward), through the engine's `f32` product ([`Float::gemm`], which takes
//! `autograd`'s register-tile path for those with at least 8 terms an element) and through raw
//! `sgemm`. Both give the same bits. Then the products of one LSTM layer's training step
//! (`benches/lstm.rs`).

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

/// The signature of `Float::gemm` and `matrixmultiply::sgemm`.
type Gemm = unsafe fn(
    usize,
    usize,
    usize,
    f32,
    *const f32,
    isize,
    isize,
    *const f32,
    isize,
    isize,
    f32,
    *mut f32,
    isize,
    isize,
);

/// `(name, m, k, n, A column-major, B column-major)`: `C = A B` with `C` fresh and row-major.
const NETWORK: [(&str, usize, usize, usize, bool, bool); 13] = [
    // x W₁ᵀ: the first layer's forward pass, B = W₁ᵀ a view of the 64×4 weight.
    ("input_forward_256x4x64", 256, 4, 64, false, true),
    // h W₂ᵀ, ḡ W₂ and ḡᵀ h: the hidden layer's forward pass, input and weight gradients.
    ("hidden_forward_256x64x64", 256, 64, 64, false, true),
    ("hidden_input_grad_256x64x64", 256, 64, 64, false, false),
    ("hidden_weight_grad_64x256x64", 64, 256, 64, true, false),
    // The output layer's, with two outputs.
    ("output_forward_256x64x2", 256, 64, 2, false, true),
    ("output_input_grad_256x2x64", 256, 2, 64, false, false),
    ("output_weight_grad_2x256x64", 2, 256, 64, true, false),
    // (ḡᵀ x)ᵀ computed as xᵀ ḡ: the first layer's weight gradient, A = xᵀ.
    ("input_weight_grad_4x256x64", 4, 256, 64, true, false),
    // One LSTM layer (T = 32, N = 64, I = 8, H = 64, `autograd/src/backend/lstm.rs`): a step's
    // h W_hhᵀ (W_hhᵀ laid out row-major once) and Ā_t W_hh, all steps' X W_ihᵀ, and the weight
    // gradients Āᵀ H_prev and Āᵀ X over all T N rows, Ā read in place as a column-major Āᵀ.
    ("lstm_recurrent_64x64x256", 64, 64, 256, false, false),
    ("lstm_state_grad_64x256x64", 64, 256, 64, false, false),
    ("lstm_input_2048x8x256", 2048, 8, 256, false, true),
    (
        "lstm_weight_hh_grad_256x2048x64",
        256,
        2048,
        64,
        true,
        false,
    ),
    ("lstm_weight_ih_grad_256x2048x8", 256, 2048, 8, true, false),
];

fn bench_tiles(c: &mut Criterion) {
    let mut group = c.benchmark_group("tiles_f32");
    for (name, m, k, n, a_column_major, b_column_major) in NETWORK {
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let b: Vec<f32> = (0..k * n)
            .map(|i| ((i * 104_729) % 1000) as f32 / 1000.0 - 0.5)
            .collect();
        let strides = |rows: usize, cols: usize, column_major: bool| match column_major {
            true => (1, rows as isize),
            false => (cols as isize, 1),
        };
        let ((rsa, csa), (rsb, csb)) =
            (strides(m, k, a_column_major), strides(k, n, b_column_major));
        let product = |gemm: Gemm, c: &mut Vec<f32>| {
            // SAFETY: a, b and c hold m×k, k×n and m×n matrices with these strides.
            unsafe {
                gemm(
                    m,
                    k,
                    n,
                    1.0,
                    a.as_ptr(),
                    rsa,
                    csa,
                    b.as_ptr(),
                    rsb,
                    csb,
                    0.0,
                    c.as_mut_ptr(),
                    n as isize,
                    1,
                )
            }
        };
        let (mut engine, mut raw) = (vec![0.0; m * n], vec![0.0; m * n]);
        product(<f32 as Float>::gemm, &mut engine);
        product(matrixmultiply::sgemm, &mut raw);
        assert!(
            engine
                .iter()
                .zip(&raw)
                .all(|(x, y)| x.to_bits() == y.to_bits())
        );
        group.bench_function(BenchmarkId::new("engine", name), |bench| {
            bench.iter(|| product(<f32 as Float>::gemm, black_box(&mut engine)))
        });
        group.bench_function(BenchmarkId::new("raw", name), |bench| {
            bench.iter(|| product(matrixmultiply::sgemm, black_box(&mut raw)))
        });
    }
    group.finish();
}

fn matmul(c: &mut Criterion) {
    bench_tiles(c);
    bench_matmul::<f32>(c, "matmul_f32");
    bench_matmul::<f64>(c, "matmul_f64");
}

criterion_group!(benches, matmul);
criterion_main!(benches);
