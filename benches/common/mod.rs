//! The multilayer perceptron shared by the training-step and Hessian-vector-product benches:
//!
//! ```text
//! h₁ = tanh(x W₁ + b₁),   h₂ = tanh(h₁ W₂ + b₂),   y = h₂ W₃ + b₃,
//! L  = mean((y − t)²)
//! ```
//!
//! with its gradient computed two ways — by the engine, and by hand with ndarray — and an Adam
//! update shared by both, so that a benchmark of the two differs only in how `∇L` is found.

// Each bench binary includes this module and uses a different part of it.
#![allow(dead_code, non_snake_case)]

use ndarray::{Array1, Array2, ArrayView1, ArrayView2, ArrayViewMut2, Axis, Ix1, Ix2, Zip};
use wengert::autograd::prelude::*;

/// Layer widths and batch size.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    pub input: usize,
    pub hidden: usize,
    pub output: usize,
    pub batch: usize,
}

impl Sizes {
    /// A label such as `4-64-64-2 batch 64`.
    pub fn label(&self) -> String {
        format!(
            "{}-{}-{}-{} batch {}",
            self.input, self.hidden, self.hidden, self.output, self.batch
        )
    }
}

/// The two networks of issue 2.
pub const SMALL: Sizes = Sizes {
    input: 4,
    hidden: 64,
    output: 2,
    batch: 64,
};
pub const LARGE: Sizes = Sizes {
    input: 17,
    hidden: 256,
    output: 6,
    batch: 256,
};

/// splitmix64: a tiny deterministic generator, so both sides start from identical numbers.
struct SplitMix(u64);

impl SplitMix {
    /// Uniform in `[-1, 1)`.
    fn uniform(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }

    fn matrix<T: Float>(&mut self, rows: usize, cols: usize, scale: f64) -> SharedArray<T> {
        Array2::from_shape_simple_fn((rows, cols), || T::from_f64(scale * self.uniform()))
            .into_dyn()
            .into_shared()
    }

    fn vector<T: Float>(&mut self, len: usize, scale: f64) -> SharedArray<T> {
        Array1::from_shape_simple_fn(len, || T::from_f64(scale * self.uniform()))
            .into_dyn()
            .into_shared()
    }
}

/// A problem instance: parameters `θ = (W₁, b₁, W₂, b₂, W₃, b₃)`, a batch `x` and targets `t`.
pub struct Problem<T> {
    pub params: Vec<SharedArray<T>>,
    pub x: SharedArray<T>,
    pub t: SharedArray<T>,
}

impl<T: Float> Problem<T> {
    /// Weights uniform in `±1/√fan_in` (the PyTorch default), small random biases.
    pub fn new(sizes: Sizes, seed: u64) -> Self {
        let mut rng = SplitMix(seed);
        let Sizes {
            input,
            hidden,
            output,
            batch,
        } = sizes;
        let layers = [(input, hidden), (hidden, hidden), (hidden, output)];
        let mut params = Vec::new();
        for (fan_in, fan_out) in layers {
            let bound = 1.0 / (fan_in as f64).sqrt();
            params.push(rng.matrix(fan_in, fan_out, bound));
            params.push(rng.vector(fan_out, 0.1));
        }
        Problem {
            params,
            x: rng.matrix(batch, input, 1.0),
            t: rng.matrix(batch, output, 1.0),
        }
    }
}

/// `L(θ)` on the engine's variables.
pub fn engine_loss<T: Float>(params: &[Var<T>], x: &Var<T>, t: &Var<T>) -> Var<T> {
    let [W1, b1, W2, b2, W3, b3] = params else {
        panic!("expected six parameters");
    };
    let h1 = x.matmul(W1).add(b1).tanh();
    let h2 = h1.matmul(W2).add(b2).tanh();
    let y = h2.matmul(W3).add(b3);
    let residual = y.sub(t);
    residual.mul(&residual).mean_all()
}

/// `∇L(θ)` by the engine: a fresh tape, the parameters tracked on it, one backward pass.
pub fn engine_gradient<T: Float>(problem: &Problem<T>) -> Vec<SharedArray<T>> {
    let tape = Tape::new();
    let params: Vec<Var<T>> = problem.params.iter().map(|p| tape.var(p.clone())).collect();
    let x = Var::constant(problem.x.clone());
    let t = Var::constant(problem.t.clone());
    let loss = engine_loss(&params, &x, &t);
    let refs: Vec<&Var<T>> = params.iter().collect();
    grad(&[&loss], &refs)
}

fn matrix<T: Float>(a: &SharedArray<T>) -> ArrayView2<'_, T> {
    a.view().into_dimensionality::<Ix2>().unwrap()
}

fn vector<T: Float>(a: &SharedArray<T>) -> ArrayView1<'_, T> {
    a.view().into_dimensionality::<Ix1>().unwrap()
}

/// `δ ← δ ⊙ (1 − h²)`: the adjoint through `h = tanh(a)`.
fn through_tanh<T: Float>(mut delta: ArrayViewMut2<T>, h: &Array2<T>) {
    Zip::from(&mut delta)
        .and(h)
        .for_each(|d, &h| *d *= T::one() - h * h);
}

/// `∇L(θ)` by hand: the forward pass keeps `h₁, h₂`, then
/// `δ₃ = 2(y − t)/N`, and for each layer `∂L/∂W = hᵀ δ`, `∂L/∂b = Σ_rows δ`,
/// `δ_prev = (δ Wᵀ) ⊙ (1 − h²)`.
pub fn manual_gradient<T: Float>(problem: &Problem<T>) -> Vec<SharedArray<T>> {
    manual_gradient_with(problem, |h| h.mapv_inplace(T::tanh))
}

/// [`manual_gradient`] with `tanh` evaluated by the engine's own kernel ([`Float::tanh_all`])
/// instead of the platform's scalar `tanh`: the two sides then differ only in bookkeeping.
pub fn manual_gradient_engine_tanh<T: Float>(problem: &Problem<T>) -> Vec<SharedArray<T>> {
    manual_gradient_with(problem, |h| {
        let y = T::tanh_all(h.as_slice().expect("a fresh product is contiguous"));
        h.as_slice_mut().unwrap().copy_from_slice(&y);
    })
}

fn manual_gradient_with<T: Float>(
    problem: &Problem<T>,
    tanh_in_place: impl Fn(&mut Array2<T>),
) -> Vec<SharedArray<T>> {
    let p = &problem.params;
    let (W1, b1, W2, b2, W3, b3) = (
        matrix(&p[0]),
        vector(&p[1]),
        matrix(&p[2]),
        vector(&p[3]),
        matrix(&p[4]),
        vector(&p[5]),
    );
    let (x, t) = (matrix(&problem.x), matrix(&problem.t));

    let mut h1 = x.dot(&W1);
    h1 += &b1;
    tanh_in_place(&mut h1);
    let mut h2 = h1.dot(&W2);
    h2 += &b2;
    tanh_in_place(&mut h2);
    let mut y = h2.dot(&W3);
    y += &b3;

    let scale = T::from_f64(2.0 / t.len() as f64);
    let mut delta3 = y;
    Zip::from(&mut delta3)
        .and(&t)
        .for_each(|d, &t| *d = (*d - t) * scale);
    let dW3 = h2.t().dot(&delta3);
    let db3 = delta3.sum_axis(Axis(0));

    let mut delta2 = delta3.dot(&W3.t());
    through_tanh(delta2.view_mut(), &h2);
    let dW2 = h1.t().dot(&delta2);
    let db2 = delta2.sum_axis(Axis(0));

    let mut delta1 = delta2.dot(&W2.t());
    through_tanh(delta1.view_mut(), &h1);
    let dW1 = x.t().dot(&delta1);
    let db1 = delta1.sum_axis(Axis(0));

    vec![
        dW1.into_dyn().into_shared(),
        db1.into_dyn().into_shared(),
        dW2.into_dyn().into_shared(),
        db2.into_dyn().into_shared(),
        dW3.into_dyn().into_shared(),
        db3.into_dyn().into_shared(),
    ]
}

/// The largest `|a − b|` over all elements of all arrays.
pub fn max_difference<T: Float>(a: &[SharedArray<T>], b: &[SharedArray<T>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(a, b)| {
            assert_eq!(a.shape(), b.shape());
            Zip::from(a)
                .and(b)
                .fold(0.0f64, |m, &x, &y| m.max((x - y).abs().as_f64()))
        })
        .fold(0.0, f64::max)
}

/// Adam (Kingma & Ba, 2015) with the paper's defaults:
/// `m ← β₁ m + (1 − β₁) g`, `v ← β₂ v + (1 − β₂) g²`,
/// `θ ← θ − α m̂ / (√v̂ + ε)` with `m̂ = m / (1 − β₁ᵗ)`, `v̂ = v / (1 − β₂ᵗ)`.
pub struct Adam<T> {
    pub alpha: T,
    pub beta1: T,
    pub beta2: T,
    pub epsilon: T,
    t: i32,
    m: Vec<SharedArray<T>>,
    v: Vec<SharedArray<T>>,
}

impl<T: Float> Adam<T> {
    pub fn new(params: &[SharedArray<T>]) -> Self {
        let zeros = || -> Vec<SharedArray<T>> {
            params
                .iter()
                .map(|p| SharedArray::zeros(p.raw_dim()))
                .collect()
        };
        Adam {
            alpha: T::from_f64(1e-3),
            beta1: T::from_f64(0.9),
            beta2: T::from_f64(0.999),
            epsilon: T::from_f64(1e-8),
            t: 0,
            m: zeros(),
            v: zeros(),
        }
    }

    /// One update of `params` in place (no copy: the caller holds the only reference).
    pub fn step(&mut self, params: &mut [SharedArray<T>], gradients: &[SharedArray<T>]) {
        self.t += 1;
        let one = T::one();
        let (beta1, beta2) = (self.beta1, self.beta2);
        let bias1 = one - beta1.powi(self.t);
        let bias2 = one - beta2.powi(self.t);
        let (alpha, epsilon) = (self.alpha, self.epsilon);
        for (((theta, g), m), v) in params
            .iter_mut()
            .zip(gradients)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            Zip::from(theta.view_mut())
                .and(g)
                .and(m.view_mut())
                .and(v.view_mut())
                .for_each(|theta, &g, m, v| {
                    *m = beta1 * *m + (one - beta1) * g;
                    *v = beta2 * *v + (one - beta2) * g * g;
                    let m_hat = *m / bias1;
                    let v_hat = *v / bias2;
                    *theta -= alpha * m_hat / (v_hat.sqrt() + epsilon);
                });
        }
    }
}
