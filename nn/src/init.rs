//! Parameter initialisers, with PyTorch's definitions (`torch.nn.init`).
//!
//! For a weight of shape `(fan_out, fan_in, k…)`, `fan_in = shape[1]·Πk` and
//! `fan_out = shape[0]·Πk`.
//!
//! | initialiser | distribution |
//! |---|---|
//! | Xavier/Glorot uniform | `U(−a, a)`, `a = gain·√(6 / (fan_in + fan_out))` |
//! | Xavier/Glorot normal | `N(0, σ²)`, `σ = gain·√(2 / (fan_in + fan_out))` |
//! | Kaiming/He uniform | `U(−b, b)`, `b = gain·√(3 / fan_in)`, `gain = √(2 / (1 + a²))` |
//! | Kaiming/He normal | `N(0, σ²)`, `σ = gain / √fan_in` |
//! | orthogonal | `gain · Q`, `Q` from the QR factorisation of a standard normal matrix, with the signs of `diag(R)` folded in so `Q` is uniform on the orthogonal group |
//! | PyTorch `Linear` default | `U(−1/√fan_in, 1/√fan_in)` (Kaiming uniform with `a = √5`) |

use autograd::Float;
use ndarray::{Array2, ArrayD, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, Normal, Uniform};

/// How to fill a new parameter.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// Every element equal to the value.
    Constant(f64),
    /// `U(low, high)`.
    Uniform { low: f64, high: f64 },
    /// `N(mean, std²)`.
    Normal { mean: f64, std: f64 },
    /// Glorot & Bengio (2010), uniform.
    XavierUniform { gain: f64 },
    /// Glorot & Bengio (2010), normal.
    XavierNormal { gain: f64 },
    /// He et al. (2015), uniform, for a leaky-ReLU slope `a` (0 for ReLU).
    KaimingUniform { a: f64 },
    /// He et al. (2015), normal.
    KaimingNormal { a: f64 },
    /// Saxe et al. (2014): a (semi-)orthogonal matrix times `gain`.
    Orthogonal { gain: f64 },
    /// PyTorch's default for `Linear` weights and biases: `U(−1/√fan_in, 1/√fan_in)`.
    /// For a bias, give the layer's weight fan-in through [`Init::sample_with_fan_in`].
    TorchDefault,
}

/// `(fan_in, fan_out)` of a weight shape, as PyTorch computes them.
///
/// ```
/// assert_eq!(wengert_nn::init::fans(&[64, 17]), (17, 64));
/// ```
pub fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (*n, *n),
        [out, input, rest @ ..] => {
            let receptive: usize = rest.iter().product();
            (input * receptive, out * receptive)
        }
    }
}

impl Init {
    /// A new array of `shape` drawn from this initialiser.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_nn::Init;
    /// let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    /// let w = Init::Orthogonal { gain: 1.0 }.sample::<f64>(&[3, 5], &mut rng);
    /// let w = w.into_dimensionality::<ndarray::Ix2>().unwrap();
    /// let gram = w.dot(&w.t()); // rows are orthonormal
    /// assert!((gram[[0, 0]] - 1.0).abs() < 1e-12 && gram[[0, 1]].abs() < 1e-12);
    /// ```
    pub fn sample<T: Float>(&self, shape: &[usize], rng: &mut (impl Rng + ?Sized)) -> ArrayD<T> {
        self.sample_with_fan_in(shape, fans(shape).0, rng)
    }

    /// Like [`sample`](Init::sample), with the fan-in given (a bias takes its weight's).
    pub fn sample_with_fan_in<T: Float>(
        &self,
        shape: &[usize],
        fan_in: usize,
        rng: &mut (impl Rng + ?Sized),
    ) -> ArrayD<T> {
        let (_, fan_out) = fans(shape);
        let values: ArrayD<f64> = match *self {
            Init::Zeros => ArrayD::zeros(IxDyn(shape)),
            Init::Constant(c) => ArrayD::from_elem(IxDyn(shape), c),
            Init::Uniform { low, high } => draw_uniform(shape, low, high, rng),
            Init::Normal { mean, std } => draw_normal(shape, mean, std, rng),
            Init::XavierUniform { gain } => {
                let a = gain * (6.0 / (fan_in + fan_out) as f64).sqrt();
                draw_uniform(shape, -a, a, rng)
            }
            Init::XavierNormal { gain } => draw_normal(
                shape,
                0.0,
                gain * (2.0 / (fan_in + fan_out) as f64).sqrt(),
                rng,
            ),
            Init::KaimingUniform { a } => {
                let bound = leaky_relu_gain(a) * (3.0 / fan_in as f64).sqrt();
                draw_uniform(shape, -bound, bound, rng)
            }
            Init::KaimingNormal { a } => {
                draw_normal(shape, 0.0, leaky_relu_gain(a) / (fan_in as f64).sqrt(), rng)
            }
            Init::Orthogonal { gain } => orthogonal(shape, gain, rng),
            Init::TorchDefault => {
                let bound = if fan_in > 0 {
                    1.0 / (fan_in as f64).sqrt()
                } else {
                    0.0
                };
                draw_uniform(shape, -bound, bound, rng)
            }
        };
        values.mapv(T::from_f64)
    }
}

/// `√(2 / (1 + a²))`, PyTorch's gain for a leaky ReLU of slope `a`.
fn leaky_relu_gain(a: f64) -> f64 {
    (2.0 / (1.0 + a * a)).sqrt()
}

fn draw_uniform(
    shape: &[usize],
    low: f64,
    high: f64,
    rng: &mut (impl Rng + ?Sized),
) -> ArrayD<f64> {
    if low == high {
        return ArrayD::from_elem(IxDyn(shape), low);
    }
    let distribution = Uniform::new(low, high).expect("uniform bounds are finite and ordered");
    ArrayD::from_shape_simple_fn(IxDyn(shape), || distribution.sample(rng))
}

fn draw_normal(shape: &[usize], mean: f64, std: f64, rng: &mut (impl Rng + ?Sized)) -> ArrayD<f64> {
    let distribution =
        Normal::new(mean, std).expect("standard deviation is finite and non-negative");
    ArrayD::from_shape_simple_fn(IxDyn(shape), || distribution.sample(rng))
}

/// PyTorch's `orthogonal_`: flatten to `rows × cols`, take the QR factorisation of a standard
/// normal matrix (of its transpose when `rows < cols`), fix the signs, scale by `gain`.
fn orthogonal(shape: &[usize], gain: f64, rng: &mut (impl Rng + ?Sized)) -> ArrayD<f64> {
    if shape.len() < 2 {
        panic!("orthogonal init: needs at least 2 dimensions, found shape {shape:?}");
    }
    let rows = shape[0];
    let cols: usize = shape[1..].iter().product();
    let tall = rows >= cols;
    let (m, n) = if tall { (rows, cols) } else { (cols, rows) };
    let a = draw_normal(&[m, n], 0.0, 1.0, rng)
        .into_dimensionality()
        .expect("2-D");
    let q = householder_q(a);
    let q = if tall { q } else { q.reversed_axes() };
    (q * gain)
        .as_standard_layout()
        .into_owned()
        .into_shape_with_order(IxDyn(shape))
        .expect("the element count is unchanged")
}

/// The `m × n` (`m ≥ n`) orthonormal factor `Q` of `A = Q R` by Householder reflections, with
/// column signs chosen so that `diag(R) > 0`.
fn householder_q(mut a: Array2<f64>) -> Array2<f64> {
    let (m, n) = a.dim();
    let mut reflectors: Vec<Vec<f64>> = Vec::with_capacity(n);
    let mut signs = vec![1.0; n];
    for j in 0..n {
        let norm = (j..m).map(|i| a[[i, j]] * a[[i, j]]).sum::<f64>().sqrt();
        let alpha = if a[[j, j]] > 0.0 { -norm } else { norm };
        // R_jj = alpha; flip Q's column j so that diag(R) is positive.
        signs[j] = if alpha < 0.0 { -1.0 } else { 1.0 };
        let mut v: Vec<f64> = (j..m).map(|i| a[[i, j]]).collect();
        v[0] -= alpha;
        let v_norm_sq: f64 = v.iter().map(|x| x * x).sum();
        if v_norm_sq > 0.0 {
            for k in j..n {
                let dot: f64 = (j..m).map(|i| v[i - j] * a[[i, k]]).sum();
                let scale = 2.0 * dot / v_norm_sq;
                for i in j..m {
                    a[[i, k]] -= scale * v[i - j];
                }
            }
        }
        reflectors.push(v);
    }
    // Q = H_0 H_1 … H_{n−1} applied to the first n columns of the identity.
    let mut q = Array2::<f64>::zeros((m, n));
    for j in 0..n {
        q[[j, j]] = 1.0;
    }
    for (j, v) in reflectors.iter().enumerate().rev() {
        let v_norm_sq: f64 = v.iter().map(|x| x * x).sum();
        if v_norm_sq == 0.0 {
            continue;
        }
        for k in 0..n {
            let dot: f64 = (j..m).map(|i| v[i - j] * q[[i, k]]).sum();
            let scale = 2.0 * dot / v_norm_sq;
            for i in j..m {
                q[[i, k]] -= scale * v[i - j];
            }
        }
    }
    for (j, &s) in signs.iter().enumerate() {
        q.column_mut(j).mapv_inplace(|x| x * s);
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    fn stats(a: &ArrayD<f64>) -> (f64, f64) {
        let n = a.len() as f64;
        let mean = a.sum() / n;
        let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    #[test]
    fn orthogonal_is_orthonormal_for_tall_and_wide_shapes() {
        let mut rng = StdRng::seed_from_u64(1);
        for shape in [[8, 3], [3, 8], [5, 5]] {
            let w: Array2<f64> = Init::Orthogonal { gain: 2.0 }
                .sample::<f64>(&shape, &mut rng)
                .into_dimensionality()
                .unwrap();
            let gram = if shape[0] >= shape[1] {
                w.t().dot(&w)
            } else {
                w.dot(&w.t())
            };
            for ((i, j), &g) in gram.indexed_iter() {
                let expected = if i == j { 4.0 } else { 0.0 };
                assert!(
                    (g - expected).abs() < 1e-10,
                    "shape {shape:?}: gram[{i},{j}] = {g}"
                );
            }
        }
    }

    #[test]
    fn variances_follow_the_formulas() {
        let mut rng = StdRng::seed_from_u64(2);
        let shape = [200, 300];
        let cases = [
            (Init::XavierUniform { gain: 1.0 }, (2.0 / 500.0f64).sqrt()),
            (Init::XavierNormal { gain: 1.0 }, (2.0 / 500.0f64).sqrt()),
            (Init::KaimingUniform { a: 0.0 }, (2.0 / 300.0f64).sqrt()),
            (Init::KaimingNormal { a: 0.0 }, (2.0 / 300.0f64).sqrt()),
            (Init::TorchDefault, (1.0 / 900.0f64).sqrt()),
        ];
        for (init, std) in cases {
            let (mean, measured) = stats(&init.sample::<f64>(&shape, &mut rng));
            assert!(mean.abs() < 0.01 * std * 10.0, "{init:?}: mean {mean}");
            assert!(
                (measured / std - 1.0).abs() < 0.02,
                "{init:?}: std {measured}, expected {std}"
            );
        }
    }

    #[test]
    fn uniform_bounds_are_respected() {
        let mut rng = StdRng::seed_from_u64(3);
        let w = Init::XavierUniform { gain: 1.0 }.sample::<f32>(&[10, 6], &mut rng);
        let a = (6.0f32 / 16.0).sqrt();
        assert!(w.iter().all(|&x| x.abs() <= a));
    }
}
