//! # PPO's clipped objectives, shared by PPO and recurrent PPO
//!
//! With the probability ratio $\rho_t = \pi_\theta(a_t|s_t) / \pi_{\theta_{\text{old}}}(a_t|s_t)$
//! and the advantage $\hat A_t$, PPO maximises the mean of the per-sample clipped surrogate
//!
//! $$ \ell^{\text{CLIP}}_t = \min\big( \rho_t \hat A_t ,\ \operatorname{clip}(\rho_t, 1 - \varepsilon, 1 + \varepsilon) \hat A_t \big) , $$
//!
//! and may clip the value prediction to a band around the rollout's values,
//! $V^{\text{clip}} = V_{\text{old}} + \operatorname{clip}(V_\phi - V_{\text{old}}, -\varepsilon_V, \varepsilon_V)$.
//! How the per-sample terms are averaged (a plain mean in [`crate::algorithms::ppo`], a mean over
//! the mask of padded sequences in [`crate::algorithms::recurrent_ppo`]) and how the value loss is
//! formed from them is each algorithm's own. The diagnostics every PPO logs are the approximate
//! KL $\mathbb E[(\rho - 1) - \ln \rho]$ (Schulman's low-variance estimator) and the fraction of
//! samples with $|\rho - 1| > \varepsilon$.

use autograd::{Float, Tensor, Var};

/// What a PPO minibatch step reports besides the loss.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Diagnostics {
    /// `−L^CLIP`.
    pub policy_loss: f64,
    /// `L^V`.
    pub value_loss: f64,
    /// The mean entropy `E[H[π_θ]]`.
    pub entropy: f64,
    /// `E[(ρ − 1) − ln ρ]`.
    pub approx_kl: f64,
    /// `E[|ρ − 1| > ε]`.
    pub clip_fraction: f64,
}

impl Diagnostics {
    /// The means over an iteration's minibatch steps, named as the training log names them.
    ///
    /// ```
    /// use wengert_rl::common::clipped_objective::Diagnostics;
    /// let steps = [
    ///     Diagnostics { approx_kl: 0.01, ..Diagnostics::default() },
    ///     Diagnostics { approx_kl: 0.03, ..Diagnostics::default() },
    /// ];
    /// let means = Diagnostics::means(&steps);
    /// assert_eq!(means[3], ("approx_kl", 0.02));
    /// ```
    pub fn means(steps: &[Diagnostics]) -> Vec<(&'static str, f64)> {
        let mean = |f: fn(&Diagnostics) -> f64| {
            steps.iter().map(f).sum::<f64>() / steps.len().max(1) as f64
        };
        vec![
            ("policy_loss", mean(|d| d.policy_loss)),
            ("value_loss", mean(|d| d.value_loss)),
            ("entropy", mean(|d| d.entropy)),
            ("approx_kl", mean(|d| d.approx_kl)),
            ("clip_fraction", mean(|d| d.clip_fraction)),
        ]
    }
}

/// The per-sample clipped surrogate `min(ρ Â, clip(ρ, 1 − ε, 1 + ε) Â)`.
///
/// ```
/// use autograd::Var;
/// use ndarray::array;
/// use wengert_rl::common::clipped_objective::clipped_surrogate;
/// let ratio = Var::constant(array![0.5, 1.5, 1.5]);
/// let advantage = Var::constant(array![1.0, 1.0, -1.0]);
/// let l = clipped_surrogate(&ratio, &advantage, 0.2);
/// // a gain is capped at (1 + ε) Â, a loss is taken in full
/// assert_eq!(l.value().as_slice().unwrap(), &[0.5, 1.2, -1.5]);
/// ```
pub fn clipped_surrogate<T: Float>(ratio: &Var<T>, advantage: &Var<T>, epsilon: f64) -> Var<T> {
    let e = T::from_f64(epsilon);
    let surrogate = ratio * advantage;
    let clipped = ratio.clamp(T::one() - e, T::one() + e) * advantage;
    surrogate.minimum(&clipped)
}

/// `V_old + clip(V − V_old, −ε_V, ε_V)`: the value prediction kept within `ε_V` of the
/// rollout's.
///
/// ```
/// use autograd::Var;
/// use ndarray::array;
/// use wengert_rl::common::clipped_objective::clipped_value;
/// let v = clipped_value(&Var::constant(array![0.0, 5.0]), &Var::constant(array![1.0, 1.0]), 0.5);
/// assert_eq!(v.value().as_slice().unwrap(), &[0.5, 1.5]);
/// ```
pub fn clipped_value<T: Float>(value: &Var<T>, old: &Var<T>, epsilon: f64) -> Var<T> {
    let e = T::from_f64(epsilon);
    old + &(value - old).clamp(-e, e)
}

/// `(E[(ρ − 1) − ln ρ], E[|ρ − 1| > ε])` from the samples' `ln ρ`.
///
/// ```
/// use wengert_rl::common::clipped_objective::ratio_statistics;
/// let (approx_kl, clip_fraction) = ratio_statistics(&[0.0, 0.0, 1.0, -1.0], 0.2);
/// assert_eq!(clip_fraction, 0.5);
/// assert!((approx_kl - (1f64.exp() - 2.0 + (-1f64).exp()) / 4.0).abs() < 1e-15);
/// ```
pub fn ratio_statistics(log_ratio: &[f64], epsilon: f64) -> (f64, f64) {
    let n = log_ratio.len().max(1) as f64;
    let approx_kl = log_ratio.iter().map(|&l| l.exp() - 1.0 - l).sum::<f64>() / n;
    let clipped = log_ratio
        .iter()
        .filter(|&&l| (l.exp() - 1.0).abs() > epsilon)
        .count();
    (approx_kl, clipped as f64 / n)
}
