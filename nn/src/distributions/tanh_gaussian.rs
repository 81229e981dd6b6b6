//! The tanh-squashed diagonal Gaussian of SAC: $a = \tanh(u)$,
//! $u \sim \mathcal N(\mu, \operatorname{diag} \sigma^2)$, with actions in $(-1, 1)^D$.
//!
//! By the change of variables ($da_d / du_d = 1 - \tanh^2 u_d$, a diagonal Jacobian),
//!
//! $$ \ln \pi(a) = \ln \mu(u) - \sum_d \ln\big(1 - \tanh^2 u_d\big) , $$
//!
//! and
//!
//! $$ \ln(1 - \tanh^2 u) = \ln \frac{4 e^{-2u}}{(1 + e^{-2u})^2} = 2 \big(\ln 2 - u - \operatorname{softplus}(-2u)\big) , $$
//!
//! which is how it is evaluated: $1 - \tanh^2 u$ rounds to 0 for $|u| \gtrsim 19$ in f64, the
//! right-hand side never does.
//!
//! A sample keeps its pre-squash value `u` ([`TanhSample`]), so the log-probability of one's own
//! sample never needs `atanh` of a saturated action. For actions from elsewhere (a replay
//! buffer), [`TanhGaussian::log_prob_of_action`] recovers `u = atanh(a)` after clamping `a`
//! inside `(−1, 1)`.
//!
//! The reparameterised sample $a = \tanh(\mu + \sigma \varepsilon)$ is differentiable in $\mu$ and
//! $\sigma$, so the SAC policy loss
//! $\mathbb E_\varepsilon\big[\alpha \ln \pi(a \mid s) - Q(s, a)\big]$ has a pathwise gradient —
//! in which $\ln \pi$ depends on the parameters both through $a$ and through the density itself.
//!
//! The entropy has no closed form (estimate it as `−ln π(a)` of samples). The KL divergence
//! between two tanh-Gaussians equals that between their Gaussians, since `tanh` is a bijection
//! applied to both.

use autograd::{Float, Tensor, Var};
use ndarray::ArrayD;
use rand::Rng;

use super::DiagGaussian;

/// A draw from a [`TanhGaussian`]: the Gaussian value `u` and the action `a = tanh(u)`.
#[derive(Clone, Debug)]
pub struct TanhSample<T: Float> {
    /// `u`, the value before squashing.
    pub pre_tanh: Var<T>,
    /// `a = tanh(u)`.
    pub action: Var<T>,
}

/// `a = tanh(u)`, `u ~ N(μ, diag σ²)`, the action on the last axis.
///
/// ```
/// use rand::SeedableRng;
/// use autograd::prelude::*;
/// use wengert_nn::distributions::TanhGaussian;
/// let pi = TanhGaussian::<f64>::new(&Var::constant(ndarray::array![[0.0, 2.0]]), &Var::constant(ndarray::array![[0.0, 0.0]]));
/// let draw = pi.rsample(&mut rand::rngs::StdRng::seed_from_u64(3));
/// assert!(draw.action.value().iter().all(|a| a.abs() < 1.0));
/// assert_eq!(pi.log_prob(&draw).shape(), &[1]);
/// assert_eq!(pi.mode().value()[[0, 1]], 2f64.tanh());
/// ```
#[derive(Clone, Debug)]
pub struct TanhGaussian<T: Float> {
    base: DiagGaussian<T>,
}

impl<T: Float> TanhGaussian<T> {
    /// The squashed Gaussian with pre-squash mean `μ` and log standard deviation `ln σ`.
    pub fn new(mean: &Var<T>, log_std: &Var<T>) -> Self {
        TanhGaussian {
            base: DiagGaussian::new(mean, log_std),
        }
    }

    /// The squashed Gaussian with pre-squash mean `μ` and standard deviation `σ`.
    pub fn from_std(mean: &Var<T>, std: &Var<T>) -> Self {
        TanhGaussian {
            base: DiagGaussian::from_std(mean, std),
        }
    }

    /// The Gaussian over `u`.
    pub fn base(&self) -> &DiagGaussian<T> {
        &self.base
    }

    /// `u = μ + σ ε`, `a = tanh(u)` for a given standard-normal draw `ε`; differentiable in the
    /// parameters.
    pub fn rsample_with(&self, epsilon: &ArrayD<T>) -> TanhSample<T> {
        let pre_tanh = self.base.rsample_with(epsilon);
        TanhSample {
            action: pre_tanh.tanh(),
            pre_tanh,
        }
    }

    /// A reparameterised sample, with `ε ~ N(0, I)` drawn from `rng`.
    pub fn rsample(&self, rng: &mut (impl Rng + ?Sized)) -> TanhSample<T> {
        self.rsample_with(&self.base.noise(rng))
    }

    /// A sample as constants (no gradient into the parameters).
    pub fn sample(&self, rng: &mut (impl Rng + ?Sized)) -> TanhSample<T> {
        let draw = self.rsample(rng);
        TanhSample {
            pre_tanh: draw.pre_tanh.detach(),
            action: draw.action.detach(),
        }
    }

    /// The deterministic action `tanh(μ)` (the squashed mode of `u`, as SAC evaluates).
    pub fn mode(&self) -> Var<T> {
        self.base.mean().tanh()
    }

    /// `ln π(a) = ln μ(u) − Σ_d 2 (ln 2 − u_d − softplus(−2 u_d))` of a sample, from its `u`.
    pub fn log_prob(&self, sample: &TanhSample<T>) -> Var<T> {
        self.log_prob_pre_tanh(&sample.pre_tanh)
    }

    /// `ln π(tanh u)` from the pre-squash value `u`, one value per batch row.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::TanhGaussian;
    /// let pi = TanhGaussian::new(&Var::constant(ndarray::array![0.0]), &Var::constant(ndarray::array![0.0]));
    /// // far in the tail 1 − tanh²(u) is 0 in f64, yet the log-density stays finite
    /// let log_p = pi.log_prob_pre_tanh(&Var::constant(ndarray::array![30.0]));
    /// let expected = -0.5 * 900.0 - 0.5 * (2.0 * std::f64::consts::PI).ln() - 2.0 * (2f64.ln() - 30.0);
    /// assert!((log_p.item() - expected).abs() < 1e-12);
    /// ```
    // ANCHOR: tanh_log_prob
    pub fn log_prob_pre_tanh(&self, pre_tanh: &Var<T>) -> Var<T> {
        let two = T::from_f64(2.0);
        let log_one_minus_tanh_squared = pre_tanh
            .mul_scalar(-two)
            .softplus()
            .add(pre_tanh)
            .neg()
            .add_scalar(T::from_f64(std::f64::consts::LN_2))
            .mul_scalar(two);
        self.base
            .log_prob(pre_tanh)
            .sub(&log_one_minus_tanh_squared.sum(&[-1], false))
    }

    // ANCHOR_END: tanh_log_prob
    /// `ln π(a)` of an action from elsewhere (off-policy): `u = atanh(a)` with `a` first clamped
    /// to `[−1 + clip, 1 − clip]`, `atanh a = ½ (ln(1 + a) − ln(1 − a))`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::TanhGaussian;
    /// let pi = TanhGaussian::<f64>::new(&Var::constant(ndarray::array![0.3]), &Var::constant(ndarray::array![-0.5]));
    /// let u = Var::constant(ndarray::array![0.7]);
    /// let from_action = pi.log_prob_of_action(&u.tanh(), 1e-6);
    /// assert!((from_action.item() - pi.log_prob_pre_tanh(&u).item()).abs() < 1e-12);
    /// assert!(pi.log_prob_of_action(&Var::constant(ndarray::array![1.0]), 1e-6).item().is_finite());
    /// ```
    pub fn log_prob_of_action(&self, action: &Var<T>, clip: T) -> Var<T> {
        let a = action.clamp(clip - T::one(), T::one() - clip);
        let pre_tanh = a.log1p().sub(&a.neg().log1p()).mul_scalar(T::from_f64(0.5));
        self.log_prob_pre_tanh(&pre_tanh)
    }

    /// `KL(self ‖ other)`, equal to the KL divergence between the Gaussians over `u`.
    pub fn kl(&self, other: &Self) -> Var<T> {
        self.base.kl(&other.base)
    }
}
