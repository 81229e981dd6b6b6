//! AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as in PyTorch's
//! `torch.optim.AdamW`.
//!
//! The decay shrinks the parameters directly instead of entering the gradient (where Adam's
//! scaling would weaken it for parameters with large gradients). Each step `t` does
//!
//! ```text
//! g_t ← ∇θ f(θ_{t−1})
//! θ_{t−1} ← θ_{t−1} − γ λ θ_{t−1}
//! m_t ← β₁ m_{t−1} + (1 − β₁) g_t
//! v_t ← β₂ v_{t−1} + (1 − β₂) g_t²
//! m̂_t ← m_t / (1 − β₁ᵗ)
//! if amsgrad:  v_max_t ← max(v_max_{t−1}, v_t);  v̂_t ← v_max_t / (1 − β₂ᵗ)
//! else:        v̂_t ← v_t / (1 − β₂ᵗ)
//! θ_t ← θ_{t−1} − γ m̂_t / (√v̂_t + ε)
//! ```
//!
//! that is, the decay `θ ← θ (1 − γ λ)` and then the [`Adam`](super::Adam) step with no L2 term.

use std::collections::HashMap;

use autograd::Float;
use ndarray::{ArrayD, ArrayViewD};

use super::adam::{AdamConfig, AdamState, adam_step, validate_adam};
use super::{FirstOrder, OptimizerConfig, UpdateRule, row_major};

/// AdamW's options, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AdamWConfig<T> {
    /// Learning rate γ (default 1e-3).
    pub lr: T,
    /// (β₁, β₂) (default (0.9, 0.999)).
    pub betas: (T, T),
    /// ε added to the denominator (default 1e-8).
    pub eps: T,
    /// Decoupled weight decay λ (default 1e-2).
    pub weight_decay: T,
    /// Use the running maximum of `v` (AMSGrad).
    pub amsgrad: bool,
}

impl<T: Float> Default for AdamWConfig<T> {
    fn default() -> Self {
        AdamWConfig {
            lr: T::from_f64(1e-3),
            betas: (T::from_f64(0.9), T::from_f64(0.999)),
            eps: T::from_f64(1e-8),
            weight_decay: T::from_f64(1e-2),
            amsgrad: false,
        }
    }
}

impl<T: Float> OptimizerConfig<T> for AdamWConfig<T> {
    fn lr(&self) -> T {
        self.lr
    }
    fn set_lr(&mut self, lr: T) {
        self.lr = lr;
    }
}

/// The AdamW update rule.
#[derive(Clone, Copy, Debug)]
pub struct AdamWRule;

/// AdamW; see the [module documentation](self) for the update.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore};
/// use wengert_nn::optim::{AdamW, AdamWConfig, Optimizer};
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![2.0]);
/// let config = AdamWConfig { lr: 0.1, weight_decay: 0.5, ..AdamWConfig::default() };
/// let mut adamw = AdamW::new(store.trainable(), config);
/// let g = ParamGradients::from_pairs(1, [(w, array![0.0].into_dyn().into_shared())]);
/// adamw.step(&store, &g); // no gradient: only the decay, θ (1 − γ λ) = 2 · 0.95
/// assert!((store.value(w)[[0]] - 1.9).abs() < 1e-15);
/// ```
pub type AdamW<T> = FirstOrder<T, AdamWRule>;

impl<T: Float> UpdateRule<T> for AdamWRule {
    type Config = AdamWConfig<T>;
    type State = AdamState<T>;

    fn validate(config: &AdamWConfig<T>) {
        validate_adam(
            "AdamW",
            config.lr,
            config.betas,
            config.eps,
            config.weight_decay,
        );
    }

    fn init_state(config: &AdamWConfig<T>, theta: &ArrayD<T>) -> AdamState<T> {
        AdamState::zeros(theta, config.amsgrad)
    }

    fn update(
        config: &AdamWConfig<T>,
        state: &mut AdamState<T>,
        theta: &mut ArrayD<T>,
        g: ArrayViewD<'_, T>,
    ) {
        let (gamma, lambda) = (config.lr, config.weight_decay);
        let decay = T::one() - gamma * lambda;
        theta.mapv_inplace(|theta| theta * decay);
        let adam = AdamConfig {
            lr: gamma,
            betas: config.betas,
            eps: config.eps,
            weight_decay: T::zero(),
            amsgrad: config.amsgrad,
        };
        adam_step(&adam, state, theta, &row_major(g));
    }

    fn state_to_named(state: &AdamState<T>) -> Vec<(&'static str, ArrayD<T>)> {
        state.to_named()
    }

    fn state_from_named(
        config: &AdamWConfig<T>,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<AdamState<T>, String> {
        AdamState::from_named(config.amsgrad, shape, named)
    }
}
