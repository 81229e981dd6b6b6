//! Adam (Kingma & Ba, 2015), with the AMSGrad variant (Reddi et al., 2018), as in PyTorch's
//! `torch.optim.Adam`.
//!
//! With learning rate γ, betas β₁, β₂, ε, and L2 weight decay λ, each step `t` does
//!
//! ```text
//! g_t ← ∇θ f(θ_{t−1})
//! if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
//! m_t ← β₁ m_{t−1} + (1 − β₁) g_t
//! v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
//! m̂_t ← m_t / (1 − β₁ᵗ)
//! if amsgrad:
//!     v_max_t ← max(v_max_{t−1}, v_t)
//!     v̂_t ← v_max_t / (1 − β₂ᵗ)
//! else:
//!     v̂_t ← v_t / (1 − β₂ᵗ)
//! θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
//! ```
//!
//! with `m₀ = v₀ = v_max₀ = 0`. As in PyTorch's implementation the running maximum is kept of
//! the raw `v` (PyTorch's `max_exp_avg_sq`), and the arithmetic is grouped as PyTorch groups it,
//! `θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)`, so trajectories agree to round-off.
//!
//! Weight decay here is the L2 penalty added to the gradient; for decoupled decay use
//! [`AdamW`](super::AdamW).

use std::collections::HashMap;

use autograd::Float;
use ndarray::{ArrayD, ArrayViewD};

use super::{
    FirstOrder, OptimizerConfig, UpdateRule, known_keys, named_array, named_step, row_major,
    row_major_mut, step_array,
};

/// Adam's options, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamConfig<T> {
    /// Learning rate γ (default 1e-3).
    pub lr: T,
    /// (β₁, β₂): decay rates of the first and second moment estimates (default (0.9, 0.999)).
    pub betas: (T, T),
    /// ε added to the denominator (default 1e-8).
    pub eps: T,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: T,
    /// Use the running maximum of `v` (AMSGrad).
    pub amsgrad: bool,
}

impl<T: Float> Default for AdamConfig<T> {
    fn default() -> Self {
        AdamConfig {
            lr: T::from_f64(1e-3),
            betas: (T::from_f64(0.9), T::from_f64(0.999)),
            eps: T::from_f64(1e-8),
            weight_decay: T::zero(),
            amsgrad: false,
        }
    }
}

impl<T: Float> OptimizerConfig<T> for AdamConfig<T> {
    fn lr(&self) -> T {
        self.lr
    }
    fn set_lr(&mut self, lr: T) {
        self.lr = lr;
    }
}

/// Adam's memory of one parameter (also AdamW's).
#[derive(Clone, Debug)]
pub struct AdamState<T> {
    /// The number of steps taken, `t`.
    pub step: u64,
    /// First moment estimate `m` (PyTorch's `exp_avg`).
    pub m: ArrayD<T>,
    /// Second moment estimate `v` (PyTorch's `exp_avg_sq`).
    pub v: ArrayD<T>,
    /// Running maximum `v_max` of `v`, with AMSGrad (PyTorch's `max_exp_avg_sq`).
    pub v_max: Option<ArrayD<T>>,
}

impl<T: Float> AdamState<T> {
    pub(super) fn zeros(theta: &ArrayD<T>, amsgrad: bool) -> Self {
        let zeros = ArrayD::zeros(theta.raw_dim());
        AdamState {
            step: 0,
            m: zeros.clone(),
            v_max: amsgrad.then(|| zeros.clone()),
            v: zeros,
        }
    }

    pub(super) fn to_named(&self) -> Vec<(&'static str, ArrayD<T>)> {
        let mut named = vec![
            ("step", step_array(self.step)),
            ("exp_avg", self.m.clone()),
            ("exp_avg_sq", self.v.clone()),
        ];
        if let Some(v_max) = &self.v_max {
            named.push(("max_exp_avg_sq", v_max.clone()));
        }
        named
    }

    pub(super) fn from_named(
        amsgrad: bool,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<Self, String> {
        known_keys(named, &["step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"])?;
        Ok(AdamState {
            step: named_step(named)?,
            m: named_array(named, "exp_avg", shape)?,
            v: named_array(named, "exp_avg_sq", shape)?,
            v_max: match amsgrad {
                true => Some(named_array(named, "max_exp_avg_sq", shape)?),
                false => None,
            },
        })
    }
}

/// `start + weight (end − start)`, computed as `torch.lerp` computes it (from whichever end
/// is nearer, for accuracy).
pub(super) fn lerp<T: Float>(start: T, end: T, weight: T) -> T {
    if weight.abs() < T::from_f64(0.5) {
        start + weight * (end - start)
    } else {
        end - (end - start) * (T::one() - weight)
    }
}

/// The Adam step on `θ` from an already weight-decayed gradient `g`, its elements in
/// row-major order (shared with AdamW, which passes its options with no L2 term).
///
/// On x86-64 with AVX (detected at run time) the loop runs eight `f32` lanes at a time
/// instead of SSE's four: it is bound by `√` and `/`. Each element goes through the same IEEE
/// operations either way (Rust never fuses `a b + c` by itself), so the results are identical.
pub(super) fn adam_step<T: Float>(
    config: &AdamConfig<T>,
    state: &mut AdamState<T>,
    theta: &mut ArrayD<T>,
    g: &[T],
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: the CPU supports AVX, checked just above.
        return unsafe { adam_step_avx(config, state, theta, g) };
    }
    adam_step_portable(config, state, theta, g)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn adam_step_avx<T: Float>(
    config: &AdamConfig<T>,
    state: &mut AdamState<T>,
    theta: &mut ArrayD<T>,
    g: &[T],
) {
    adam_step_portable(config, state, theta, g)
}

#[inline(always)]
// ANCHOR: adam_step
fn adam_step_portable<T: Float>(
    config: &AdamConfig<T>,
    state: &mut AdamState<T>,
    theta: &mut ArrayD<T>,
    g: &[T],
) {
    let AdamConfig {
        lr: gamma,
        betas: (beta1, beta2),
        eps,
        amsgrad,
        ..
    } = *config;
    state.step += 1;
    let t = T::from_f64(state.step as f64);
    let one = T::one();
    let bias_correction1 = one - beta1.powf(t);
    let bias_correction2 = one - beta2.powf(t);
    let step_size = gamma / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.sqrt();
    let moments = move |m: &mut T, v: &mut T, g: T| {
        *m = lerp(*m, g, one - beta1);
        *v = *v * beta2 + (one - beta2) * g * g;
    };
    // `v_hat_source` is `v`, or its running maximum with AMSGrad.
    let step = move |m: T, v_hat_source: T| {
        let denominator = v_hat_source.sqrt() / bias_correction2_sqrt + eps;
        step_size * (m / denominator)
    };
    let shape = theta.raw_dim();
    let v_max =
        amsgrad.then(|| row_major_mut(state.v_max.get_or_insert_with(|| ArrayD::zeros(shape))));
    let theta = row_major_mut(theta);
    let (m, v) = (row_major_mut(&mut state.m), row_major_mut(&mut state.v));
    let elements = theta.iter_mut().zip(m).zip(v).zip(g);
    match v_max {
        None => {
            for (((theta, m), v), &g) in elements {
                moments(m, v, g);
                *theta -= step(*m, *v);
            }
        }
        Some(v_max) => {
            for ((((theta, m), v), &g), v_max) in elements.zip(v_max) {
                moments(m, v, g);
                *v_max = v_max.max(*v);
                *theta -= step(*m, *v_max);
            }
        }
    }
}
// ANCHOR_END: adam_step

/// The Adam update rule.
#[derive(Clone, Copy, Debug)]
pub struct AdamRule;

/// Adam; see the [module documentation](self) for the update.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore};
/// use wengert_nn::optim::{Adam, AdamConfig, Optimizer};
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![1.0, 1.0]);
/// let mut adam = Adam::new(store.trainable(), AdamConfig { lr: 0.1, ..AdamConfig::default() });
/// let g = ParamGradients::from_pairs(1, [(w, array![3.0, -1e-3].into_dyn().into_shared())]);
/// adam.step(&store, &g);
/// // The first step has length ≈ γ in every coordinate, whatever the gradient's scale.
/// let w1 = store.value(w);
/// assert!((w1[[0]] - 0.9).abs() < 1e-8 && (w1[[1]] - 1.1).abs() < 1e-5);
/// ```
pub type Adam<T> = FirstOrder<T, AdamRule>;

impl<T: Float> UpdateRule<T> for AdamRule {
    type Config = AdamConfig<T>;
    type State = AdamState<T>;

    fn validate(config: &AdamConfig<T>) {
        validate_adam(
            "Adam",
            config.lr,
            config.betas,
            config.eps,
            config.weight_decay,
        );
    }

    fn init_state(config: &AdamConfig<T>, theta: &ArrayD<T>) -> AdamState<T> {
        AdamState::zeros(theta, config.amsgrad)
    }

    fn update(
        config: &AdamConfig<T>,
        state: &mut AdamState<T>,
        theta: &mut ArrayD<T>,
        g: ArrayViewD<'_, T>,
    ) {
        let lambda = config.weight_decay;
        let mut g = row_major(g);
        if lambda != T::zero() {
            for (g, &theta) in g.to_mut().iter_mut().zip(&*row_major_mut(theta)) {
                *g += lambda * theta;
            }
        }
        adam_step(config, state, theta, &g);
    }

    fn state_to_named(state: &AdamState<T>) -> Vec<(&'static str, ArrayD<T>)> {
        state.to_named()
    }

    fn state_from_named(
        config: &AdamConfig<T>,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<AdamState<T>, String> {
        AdamState::from_named(config.amsgrad, shape, named)
    }
}

pub(super) fn validate_adam<T: Float>(name: &str, lr: T, betas: (T, T), eps: T, weight_decay: T) {
    let (zero, one) = (T::zero(), T::one());
    assert!(lr >= zero, "{name}: invalid learning rate {lr}");
    assert!(eps >= zero, "{name}: invalid epsilon {eps}");
    assert!(
        zero <= betas.0 && betas.0 < one,
        "{name}: invalid beta parameter at index 0: {}",
        betas.0
    );
    assert!(
        zero <= betas.1 && betas.1 < one,
        "{name}: invalid beta parameter at index 1: {}",
        betas.1
    );
    assert!(
        weight_decay >= zero,
        "{name}: invalid weight_decay {weight_decay}"
    );
}
