//! The diagonal Gaussian $\mathcal N(\mu, \operatorname{diag} \sigma^2)$ over the last axis,
//! parameterised by $\mu$ and $\ln \sigma$.
//!
//! * density: $\ln p(x) = \sum_d \big[-\tfrac12 z_d^2 - \ln \sigma_d - \tfrac12 \ln 2\pi\big]$
//!   with $z_d = (x_d - \mu_d) / \sigma_d$;
//! * entropy: $H = \sum_d \big[\tfrac12 + \tfrac12 \ln 2\pi + \ln \sigma_d\big]$;
//! * KL: $$ \mathrm{KL}(p \Vert q) = \sum_d \Big[\ln \sigma_{q,d} - \ln \sigma_{p,d} +
//!   \frac{\sigma_{p,d}^2 + (\mu_{p,d} - \mu_{q,d})^2}{2 \sigma_{q,d}^2} - \frac12\Big] ; $$
//! * reparameterised sample: $x = \mu + \sigma \varepsilon$,
//!   $\varepsilon \sim \mathcal N(0, I)$; mode $\mu$.

use autograd::shape::broadcast_shapes;
use autograd::{Float, Tensor, Var};
use ndarray::{ArrayD, IxDyn};
use rand::Rng;
use rand_distr::{Distribution, StandardNormal};

/// `½ ln 2π`.
const HALF_LN_TAU: f64 = 0.918_938_533_204_672_8;

/// `N(μ, diag σ²)` with the action on the last axis (batch rows before it).
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::distributions::DiagGaussian;
/// let pi = DiagGaussian::from_std(
///     &Var::constant(ndarray::array![0.0, 0.0]),
///     &Var::constant(ndarray::array![1.0, 1.0]),
/// );
/// let log_p = pi.log_prob(&Var::constant(ndarray::array![0.0, 0.0]));
/// assert!((log_p.item() + (2.0 * std::f64::consts::PI).ln()).abs() < 1e-15); // 2 · (−½ ln 2π)
/// assert_eq!(pi.mode().value(), pi.mean().value());
/// ```
#[derive(Clone, Debug)]
pub struct DiagGaussian<T: Float> {
    mean: Var<T>,
    log_std: Var<T>,
    std: Var<T>,
}

impl<T: Float> DiagGaussian<T> {
    /// The Gaussian with mean `μ` and log standard deviation `ln σ` (broadcast together, e.g. a
    /// state-independent `ln σ` of shape `(D)` with `μ` of shape `(N, D)`).
    ///
    /// # Panics
    /// If the shapes do not broadcast, or the result has no action axis.
    pub fn new(mean: &Var<T>, log_std: &Var<T>) -> Self {
        let shape = Self::common_shape(mean, log_std, "DiagGaussian::new");
        let log_std = log_std.broadcast_to(&shape);
        DiagGaussian {
            mean: mean.broadcast_to(&shape),
            std: log_std.exp(),
            log_std,
        }
    }

    /// The Gaussian with mean `μ` and standard deviation `σ > 0`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let pi = DiagGaussian::from_std(&Var::constant(ndarray::array![0.0]), &Var::constant(ndarray::array![2.0]));
    /// assert_eq!(pi.log_std().value()[0], 2f64.ln());
    /// ```
    ///
    /// # Panics
    /// If the shapes do not broadcast, or the result has no action axis.
    pub fn from_std(mean: &Var<T>, std: &Var<T>) -> Self {
        let shape = Self::common_shape(mean, std, "DiagGaussian::from_std");
        let std = std.broadcast_to(&shape);
        DiagGaussian {
            mean: mean.broadcast_to(&shape),
            log_std: std.log(),
            std,
        }
    }

    fn common_shape(mean: &Var<T>, scale: &Var<T>, name: &str) -> Vec<usize> {
        let shape = broadcast_shapes(mean.shape(), scale.shape(), name);
        if shape.is_empty() {
            panic!("{name}: the parameters need an action axis, found scalars");
        }
        shape
    }

    /// `μ`, shaped `(…, D)`.
    pub fn mean(&self) -> &Var<T> {
        &self.mean
    }

    /// `ln σ`, shaped like `μ`.
    pub fn log_std(&self) -> &Var<T> {
        &self.log_std
    }

    /// `σ`, shaped like `μ`.
    pub fn std(&self) -> &Var<T> {
        &self.std
    }

    /// The shape of a sample, `(…, D)`.
    pub fn event_shape(&self) -> &[usize] {
        self.mean.shape()
    }

    /// `x = μ + σ ε` for a given standard-normal draw `ε` (shaped like `μ`): the
    /// reparameterisation, differentiable in `μ` and `σ`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let pi = DiagGaussian::from_std(&Var::constant(ndarray::array![1.0]), &Var::constant(ndarray::array![3.0]));
    /// let x = pi.rsample_with(&ndarray::array![-0.5].into_dyn());
    /// assert_eq!(x.value()[0], 1.0 - 1.5);
    /// ```
    ///
    /// # Panics
    /// If `epsilon` is not shaped like `μ`.
    pub fn rsample_with(&self, epsilon: &ArrayD<T>) -> Var<T> {
        if epsilon.shape() != self.mean.shape() {
            panic!(
                "DiagGaussian::rsample_with: noise of shape {:?} for parameters of shape {:?}",
                epsilon.shape(),
                self.mean.shape()
            );
        }
        self.mean
            .add(&self.std.mul(&Var::constant(epsilon.clone())))
    }

    /// Standard-normal noise shaped like `μ`.
    pub fn noise(&self, rng: &mut (impl Rng + ?Sized)) -> ArrayD<T> {
        ArrayD::from_shape_simple_fn(IxDyn(self.mean.shape()), || {
            T::from_f64(StandardNormal.sample(rng))
        })
    }

    /// A reparameterised sample `μ + σ ε`, `ε ~ N(0, I)` drawn from `rng`: differentiable in the
    /// parameters (PyTorch's `rsample`).
    pub fn rsample(&self, rng: &mut (impl Rng + ?Sized)) -> Var<T> {
        self.rsample_with(&self.noise(rng))
    }

    /// A sample as a constant: no gradient flows into the parameters (PyTorch's `sample`).
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let tape = Tape::<f64>::new();
    /// let pi = DiagGaussian::new(&tape.var(ndarray::array![0.0]), &tape.var(ndarray::array![0.0]));
    /// assert!(!pi.sample(&mut rand::rngs::StdRng::seed_from_u64(1)).is_tracked());
    /// ```
    pub fn sample(&self, rng: &mut (impl Rng + ?Sized)) -> Var<T> {
        self.rsample(rng).detach()
    }

    /// The most likely value (the deterministic action), `μ`.
    pub fn mode(&self) -> Var<T> {
        self.mean.clone()
    }

    /// `ln p(x) = Σ_d [−½ ((x_d − μ_d)/σ_d)² − ln σ_d − ½ ln 2π]`, one value per batch row.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let pi = DiagGaussian::from_std(
    ///     &Var::constant(ndarray::array![[0.0], [0.0]]),
    ///     &Var::constant(ndarray::array![[1.0], [2.0]]),
    /// );
    /// let log_p = pi.log_prob(&Var::constant(ndarray::array![[1.0], [2.0]]));
    /// assert_eq!(log_p.shape(), &[2]);
    /// assert!((log_p.value()[0] - log_p.value()[1] - 2f64.ln()).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// If `x` does not broadcast to the parameters' shape.
    pub fn log_prob(&self, x: &Var<T>) -> Var<T> {
        let z = x.sub(&self.mean).div(&self.std);
        z.powi(2)
            .mul_scalar(T::from_f64(-0.5))
            .sub(&self.log_std)
            .add_scalar(T::from_f64(-HALF_LN_TAU))
            .sum(&[-1], false)
    }

    /// `H = Σ_d [½ + ½ ln 2π + ln σ_d]`, one value per batch row.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let pi = DiagGaussian::new(&Var::constant(ndarray::array![5.0]), &Var::constant(ndarray::array![0.0]));
    /// let h = 0.5 * (2.0 * std::f64::consts::PI * std::f64::consts::E).ln();
    /// assert!((pi.entropy().item() - h).abs() < 1e-15);
    /// ```
    pub fn entropy(&self) -> Var<T> {
        self.log_std
            .add_scalar(T::from_f64(0.5 + HALF_LN_TAU))
            .sum(&[-1], false)
    }

    /// `KL(self ‖ other) = Σ_d [ln σ_q − ln σ_p + (σ_p² + (μ_p − μ_q)²) / (2σ_q²) − ½]`, one value
    /// per batch row.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::DiagGaussian;
    /// let p = DiagGaussian::new(&Var::constant(ndarray::array![0.0]), &Var::constant(ndarray::array![0.0]));
    /// let q = DiagGaussian::new(&Var::constant(ndarray::array![1.0]), &Var::constant(ndarray::array![0.0]));
    /// assert_eq!(p.kl(&q).item(), 0.5); // ½ (μ_p − μ_q)² for unit variances
    /// assert_eq!(p.kl(&p).item(), 0.0);
    /// ```
    ///
    /// # Panics
    /// If the two parameter shapes do not broadcast.
    pub fn kl(&self, other: &Self) -> Var<T> {
        let half = T::from_f64(0.5);
        let variance_ratio = self
            .std
            .powi(2)
            .add(&self.mean.sub(&other.mean).powi(2))
            .div(&other.std.powi(2).mul_scalar(T::from_f64(2.0)));
        other
            .log_std
            .sub(&self.log_std)
            .add(&variance_ratio)
            .add_scalar(-half)
            .sum(&[-1], false)
    }
}
