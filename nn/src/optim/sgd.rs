//! Stochastic gradient descent with momentum, dampening, Nesterov momentum and weight decay,
//! as in PyTorch's `torch.optim.SGD`.
//!
//! With learning rate γ, weight decay λ, momentum μ and dampening τ, each step `t` does
//!
//! ```text
//! g_t ← ∇θ f(θ_{t−1})
//! if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
//! if μ ≠ 0:
//!     if t = 1:  b_t ← g_t
//!     else:      b_t ← μ b_{t−1} + (1 − τ) g_t
//!     if nesterov:  g_t ← g_t + μ b_t
//!     else:         g_t ← b_t
//! θ_t ← θ_{t−1} − γ g_t
//! ```
//!
//! The momentum buffer `b` (PyTorch's `momentum_buffer`) starts as the first gradient, not
//! zero, so dampening does not shrink the first step.

use std::borrow::Cow;
use std::collections::HashMap;

use autograd::Float;
use ndarray::{ArrayD, ArrayViewD};

use super::{
    FirstOrder, OptimizerConfig, UpdateRule, known_keys, named_array, row_major, row_major_mut,
};

/// SGD's options, with PyTorch's defaults (except the learning rate, which PyTorch requires).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdConfig<T> {
    /// Learning rate γ.
    pub lr: T,
    /// Momentum μ (0: none).
    pub momentum: T,
    /// Dampening τ of the gradient added to the momentum buffer.
    pub dampening: T,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: T,
    /// Nesterov momentum: step along `g + μ b` instead of `b`.
    pub nesterov: bool,
}

impl<T: Float> Default for SgdConfig<T> {
    fn default() -> Self {
        SgdConfig {
            lr: T::from_f64(1e-3),
            momentum: T::zero(),
            dampening: T::zero(),
            weight_decay: T::zero(),
            nesterov: false,
        }
    }
}

impl<T: Float> OptimizerConfig<T> for SgdConfig<T> {
    fn lr(&self) -> T {
        self.lr
    }
    fn set_lr(&mut self, lr: T) {
        self.lr = lr;
    }
}

/// SGD's memory of one parameter: the momentum buffer `b` once a step has been taken with
/// momentum.
#[derive(Clone, Debug, Default)]
pub struct SgdState<T> {
    /// `b_t`, PyTorch's `momentum_buffer`.
    pub momentum_buffer: Option<ArrayD<T>>,
}

/// The SGD update rule.
#[derive(Clone, Copy, Debug)]
pub struct SgdRule;

/// Stochastic gradient descent; see the [module documentation](self) for the update.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore};
/// use wengert_nn::optim::{Optimizer, Sgd, SgdConfig};
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![1.0]);
/// let config = SgdConfig { lr: 0.5, momentum: 0.5, ..SgdConfig::default() };
/// let mut sgd = Sgd::new(store.trainable(), config);
/// let g = ParamGradients::from_pairs(1, [(w, array![1.0].into_dyn().into_shared())]);
/// sgd.step(&store, &g); // b = 1,            w = 1 − 0.5
/// sgd.step(&store, &g); // b = 0.5 · 1 + 1,  w = 0.5 − 0.75
/// assert_eq!(store.value(w)[[0]], -0.25);
/// ```
pub type Sgd<T> = FirstOrder<T, SgdRule>;

impl<T: Float> UpdateRule<T> for SgdRule {
    type Config = SgdConfig<T>;
    type State = SgdState<T>;

    fn validate(config: &SgdConfig<T>) {
        let zero = T::zero();
        assert!(
            config.lr >= zero,
            "SGD: invalid learning rate {}",
            config.lr
        );
        assert!(
            config.momentum >= zero,
            "SGD: invalid momentum {}",
            config.momentum
        );
        assert!(
            config.weight_decay >= zero,
            "SGD: invalid weight_decay {}",
            config.weight_decay
        );
        assert!(
            !config.nesterov || (config.momentum > zero && config.dampening == zero),
            "SGD: Nesterov momentum requires a momentum and zero dampening"
        );
    }

    fn init_state(_: &SgdConfig<T>, _: &ArrayD<T>) -> SgdState<T> {
        SgdState::default()
    }

    fn update(
        config: &SgdConfig<T>,
        state: &mut SgdState<T>,
        theta: &mut ArrayD<T>,
        g: ArrayViewD<'_, T>,
    ) {
        let SgdConfig {
            lr: gamma,
            momentum: mu,
            dampening: tau,
            weight_decay: lambda,
            nesterov,
        } = *config;
        let mut g = row_major(g);
        if lambda != T::zero() {
            for (g, &theta) in g.to_mut().iter_mut().zip(&*row_major_mut(theta)) {
                *g += lambda * theta;
            }
        }
        if mu != T::zero() {
            let mut b = match state.momentum_buffer.take() {
                None => ArrayD::from_shape_vec(theta.raw_dim(), g.to_vec())
                    .expect("the gradient has the parameter's shape"),
                Some(mut b) => {
                    for (b, &g) in row_major_mut(&mut b).iter_mut().zip(&*g) {
                        *b = mu * *b + (T::one() - tau) * g;
                    }
                    b
                }
            };
            let b_elements = row_major_mut(&mut b);
            if nesterov {
                for (g, &b) in g.to_mut().iter_mut().zip(&*b_elements) {
                    *g += mu * b;
                }
            } else {
                g = Cow::Owned(b_elements.to_vec());
            }
            state.momentum_buffer = Some(b);
        }
        for (theta, &g) in row_major_mut(theta).iter_mut().zip(&*g) {
            *theta -= gamma * g;
        }
    }

    fn state_to_named(state: &SgdState<T>) -> Vec<(&'static str, ArrayD<T>)> {
        state
            .momentum_buffer
            .iter()
            .map(|b| ("momentum_buffer", b.clone()))
            .collect()
    }

    fn state_from_named(
        _: &SgdConfig<T>,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<SgdState<T>, String> {
        known_keys(named, &["momentum_buffer"])?;
        let momentum_buffer = match named.contains_key("momentum_buffer") {
            true => Some(named_array(named, "momentum_buffer", shape)?),
            false => None,
        };
        Ok(SgdState { momentum_buffer })
    }
}
