//! Gradient checks against finite differences, as public library functions.
//!
//! The numeric derivative is the central difference
//!
//! $$ \frac{\partial f_r}{\partial x_c} \approx \frac{f_r(x + \varepsilon e_c) - f_r(x - \varepsilon e_c)}{2 \varepsilon} , $$
//!
//! whose error is $O(\varepsilon^2)$; an analytic entry $a$ passes against a numeric entry $n$
//! when $|a - n| \le \mathrm{atol} + \mathrm{rtol} \cdot |n|$. The defaults are PyTorch's:
//! $\varepsilon = 10^{-6}$, $\mathrm{atol} = 10^{-5}$, $\mathrm{rtol} = 10^{-3}$.
//!
//! * [`gradcheck`] compares the whole Jacobian, one vector-Jacobian product per output element.
//! * [`gradgradcheck`] runs `gradcheck` on the recorded vector-Jacobian product
//!   `x ↦ J(x)ᵀ v` for a fixed random `v`: it checks second derivatives.
//! * [`directional_check`] compares `⟨v, J u⟩` computed two ways for random `u`, `v` — one
//!   backward pass and two forward passes, cheap enough for whole networks.

use std::fmt;

use ndarray::{ArrayD, Dimension, IxDyn};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use crate::grad::{vjp, vjp_graph};
use crate::tensor::Tensor;
use crate::{SharedArray, Tape, Var, no_grad};

/// Step and tolerances of a gradient check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// Finite-difference step `ε`.
    pub eps: f64,
    /// Absolute tolerance.
    pub atol: f64,
    /// Relative tolerance (relative to the numeric value).
    pub rtol: f64,
}

impl Default for Tolerance {
    /// PyTorch's defaults: `ε = 1e-6`, `atol = 1e-5`, `rtol = 1e-3`.
    fn default() -> Self {
        Tolerance {
            eps: 1e-6,
            atol: 1e-5,
            rtol: 1e-3,
        }
    }
}

impl Tolerance {
    fn accepts(&self, analytic: f64, numeric: f64) -> bool {
        (analytic - numeric).abs() <= self.atol + self.rtol * numeric.abs()
    }
}

/// A gradient check that failed: where, and both values.
#[derive(Clone, Debug, PartialEq)]
pub struct GradcheckError {
    /// What was checked: `"gradcheck"`, `"gradgradcheck"` or `"directional_check"`.
    pub check: &'static str,
    /// The input whose derivative disagrees.
    pub input: usize,
    /// The element of that input (empty for a directional check).
    pub element: Vec<usize>,
    /// The element of the output, in row-major order.
    pub output_element: usize,
    /// The derivative from the backward pass.
    pub analytic: f64,
    /// The derivative from central differences.
    pub numeric: f64,
}

impl fmt::Display for GradcheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: d(output[{}]) / d(input {}{:?}): analytic {:e}, numeric {:e} (difference {:e})",
            self.check,
            self.output_element,
            self.input,
            self.element,
            self.analytic,
            self.numeric,
            (self.analytic - self.numeric).abs()
        )
    }
}

impl std::error::Error for GradcheckError {}

/// Checks the Jacobian of `f` at `inputs` against central differences with PyTorch's tolerances.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// use wengert_autograd::gradcheck;
/// let x = array![[0.3, -1.2], [2.0, 0.7]].into_dyn().into_shared();
/// assert!(gradcheck(|v| v[0].tanh().matmul(&v[0]), &[x]).is_ok());
///
/// // A wrong derivative is caught: d/dx of stop(x)·x is not x.
/// let y = array![1.5].into_dyn().into_shared();
/// let error = gradcheck(|v| &v[0] * &v[0].detach(), &[y]).unwrap_err();
/// assert_eq!((error.analytic, error.numeric.round()), (1.5, 3.0));
/// ```
pub fn gradcheck(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
) -> Result<(), GradcheckError> {
    gradcheck_with(f, inputs, Tolerance::default())
}

/// [`gradcheck`] with a given step and tolerances.
pub fn gradcheck_with(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
    tolerance: Tolerance,
) -> Result<(), GradcheckError> {
    jacobian_check(&f, inputs, tolerance, "gradcheck")
}

fn jacobian_check(
    f: &dyn Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
    tolerance: Tolerance,
    check: &'static str,
) -> Result<(), GradcheckError> {
    let tape = Tape::new();
    let x: Vec<Var<f64>> = inputs.iter().map(|v| tape.var(v.clone())).collect();
    let refs: Vec<&Var<f64>> = x.iter().collect();
    let output = f(&x);
    let rows: Vec<Vec<SharedArray<f64>>> = (0..output.size())
        .map(|r| vjp(&[&output], &[unit(output.shape(), r)], &refs))
        .collect();

    for (i, input) in inputs.iter().enumerate() {
        for (element, _) in input.indexed_iter() {
            let numeric = central_difference(f, inputs, i, element.slice(), tolerance.eps);
            for (r, (row, &n)) in rows.iter().zip(numeric.iter()).enumerate() {
                let analytic = row[i][element.slice()];
                if !tolerance.accepts(analytic, n) {
                    return Err(GradcheckError {
                        check,
                        input: i,
                        element: element.slice().to_vec(),
                        output_element: r,
                        analytic,
                        numeric: n,
                    });
                }
            }
        }
    }
    Ok(())
}

/// `(f(x + ε e) − f(x − ε e)) / 2ε` for the unit vector `e` at `element` of input `i`.
fn central_difference(
    f: &dyn Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
    i: usize,
    element: &[usize],
    eps: f64,
) -> ArrayD<f64> {
    // Inputs are tracked on a scratch tape, since `f` may itself take gradients (gradgradcheck).
    let evaluate = |shift: f64| {
        let tape = Tape::new();
        let shifted: Vec<Var<f64>> = inputs
            .iter()
            .enumerate()
            .map(|(j, v)| {
                let mut v = v.to_owned();
                if j == i {
                    v[element] += shift;
                }
                tape.var(v)
            })
            .collect();
        f(&shifted).value().to_owned()
    };
    (evaluate(eps) - evaluate(-eps)) / (2.0 * eps)
}

/// Checks second derivatives: `gradcheck` of `x ↦ J(x)ᵀ v` (recorded, flattened and joined
/// over the inputs) for a fixed random cotangent `v`.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// use wengert_autograd::gradgradcheck;
/// let x = array![0.3, -1.2, 2.0].into_dyn().into_shared();
/// assert!(gradgradcheck(|v| v[0].sigmoid().powi(3), &[x]).is_ok());
/// ```
pub fn gradgradcheck(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
) -> Result<(), GradcheckError> {
    gradgradcheck_with(f, inputs, Tolerance::default())
}

/// [`gradgradcheck`] with a given step and tolerances.
pub fn gradgradcheck_with(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
    tolerance: Tolerance,
) -> Result<(), GradcheckError> {
    let output_shape = no_grad(|| {
        let x: Vec<Var<f64>> = inputs.iter().map(|v| Var::constant(v.clone())).collect();
        f(&x).shape().to_vec()
    });
    let cotangent = Var::constant(random_array(&output_shape, &mut StdRng::seed_from_u64(7)));
    let first_derivative = |x: &[Var<f64>]| {
        let output = f(x);
        let refs: Vec<&Var<f64>> = x.iter().collect();
        let gradients = vjp_graph(&[&output], &[&cotangent], &refs);
        let flat: Vec<Var<f64>> = gradients.iter().map(|g| g.flatten()).collect();
        let flat: Vec<&Var<f64>> = flat.iter().collect();
        Var::concat(&flat, 0)
    };
    jacobian_check(&first_derivative, inputs, tolerance, "gradgradcheck")
}

/// The result of a [`directional_check`]: `⟨v, J u⟩` both ways.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Directional {
    /// `⟨Jᵀ v, u⟩` from one backward pass.
    pub analytic: f64,
    /// `⟨v, f(x + εu) − f(x − εu)⟩ / 2ε` from two forward passes.
    pub numeric: f64,
}

/// Compares `⟨v, J u⟩` from one backward pass with central differences along a random input
/// direction `u` (and random output weights `v`), drawn from `seed`. Cost: one backward and two
/// forward passes, whatever the number of parameters.
///
/// ```
/// use ndarray::array;
/// use wengert_autograd::prelude::*;
/// use wengert_autograd::gradcheck::{directional_check, Tolerance};
/// let w = array![[0.1, 0.2], [0.3, -0.4]].into_dyn().into_shared();
/// let x = array![[1.0, 2.0]].into_dyn().into_shared();
/// let net = |v: &[Var<f64>]| v[1].matmul(&v[0]).tanh();
/// assert!(directional_check(net, &[w, x], 0, Tolerance::default()).is_ok());
/// ```
pub fn directional_check(
    f: impl Fn(&[Var<f64>]) -> Var<f64>,
    inputs: &[SharedArray<f64>],
    seed: u64,
    tolerance: Tolerance,
) -> Result<Directional, GradcheckError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let directions: Vec<ArrayD<f64>> = inputs
        .iter()
        .map(|x| random_array(x.shape(), &mut rng).to_owned())
        .collect();

    let tape = Tape::new();
    let x: Vec<Var<f64>> = inputs.iter().map(|v| tape.var(v.clone())).collect();
    let refs: Vec<&Var<f64>> = x.iter().collect();
    let output = f(&x);
    let weights = random_array(output.shape(), &mut rng);
    let analytic: f64 = vjp(&[&output], std::slice::from_ref(&weights), &refs)
        .iter()
        .zip(&directions)
        .map(|(g, u)| (g * u).sum())
        .sum();

    let evaluate = |sign: f64| {
        let shifted: Vec<Var<f64>> = inputs
            .iter()
            .zip(&directions)
            .map(|(x, u)| Var::constant(x + &(u * (sign * tolerance.eps))))
            .collect();
        no_grad(|| f(&shifted)).value().to_owned()
    };
    let difference = (evaluate(1.0) - evaluate(-1.0)) / (2.0 * tolerance.eps);
    let numeric = (&difference * &weights).sum();

    if tolerance.accepts(analytic, numeric) {
        Ok(Directional { analytic, numeric })
    } else {
        Err(GradcheckError {
            check: "directional_check",
            input: 0,
            element: Vec::new(),
            output_element: 0,
            analytic,
            numeric,
        })
    }
}

fn unit(shape: &[usize], r: usize) -> SharedArray<f64> {
    let mut e = ArrayD::zeros(IxDyn(shape));
    if let Some(slot) = e.iter_mut().nth(r) {
        *slot = 1.0;
    }
    e.into_shared()
}

fn random_array(shape: &[usize], rng: &mut StdRng) -> SharedArray<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || rng.random_range(-1.0..1.0)).into_shared()
}
