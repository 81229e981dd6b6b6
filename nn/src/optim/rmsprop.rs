//! RMSprop (Hinton's lecture 6e), with momentum and the centered variant (Graves, 2013), as in
//! PyTorch's `torch.optim.RMSprop`.
//!
//! With learning rate γ, smoothing constant α, ε, weight decay λ and momentum μ, each step does
//!
//! ```text
//! g_t ← ∇θ f(θ_{t−1})
//! if λ ≠ 0:  g_t ← g_t + λ θ_{t−1}
//! v_t ← α v_{t−1} + (1 − α) g_t²
//! ṽ_t ← v_t
//! if centered:
//!     g_ave_t ← α g_ave_{t−1} + (1 − α) g_t
//!     ṽ_t ← ṽ_t − g_ave_t²
//! if μ > 0:
//!     b_t ← μ b_{t−1} + g_t / (√ṽ_t + ε)
//!     θ_t ← θ_{t−1} − γ b_t
//! else:
//!     θ_t ← θ_{t−1} − γ g_t / (√ṽ_t + ε)
//! ```
//!
//! with `v₀ = g_ave₀ = b₀ = 0`. Note ε is added outside the square root (unlike TensorFlow).

use std::collections::HashMap;

use autograd::Float;
use ndarray::{ArrayD, ArrayViewD};

use super::adam::lerp;
use super::{
    FirstOrder, OptimizerConfig, UpdateRule, known_keys, named_array, named_step, row_major,
    row_major_mut, step_array,
};

/// RMSprop's options, with PyTorch's defaults.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmsPropConfig<T> {
    /// Learning rate γ (default 1e-2).
    pub lr: T,
    /// Smoothing constant α of the squared-gradient average (default 0.99).
    pub alpha: T,
    /// ε added to the denominator, outside the square root (default 1e-8).
    pub eps: T,
    /// L2 penalty λ added to the gradient (default 0).
    pub weight_decay: T,
    /// Momentum μ (default 0).
    pub momentum: T,
    /// Divide by an estimate of the gradient's variance, `v − g_ave²`, instead of `v`.
    pub centered: bool,
}

impl<T: Float> Default for RmsPropConfig<T> {
    fn default() -> Self {
        RmsPropConfig {
            lr: T::from_f64(1e-2),
            alpha: T::from_f64(0.99),
            eps: T::from_f64(1e-8),
            weight_decay: T::zero(),
            momentum: T::zero(),
            centered: false,
        }
    }
}

impl<T: Float> OptimizerConfig<T> for RmsPropConfig<T> {
    fn lr(&self) -> T {
        self.lr
    }
    fn set_lr(&mut self, lr: T) {
        self.lr = lr;
    }
}

/// RMSprop's memory of one parameter.
#[derive(Clone, Debug)]
pub struct RmsPropState<T> {
    /// The number of steps taken.
    pub step: u64,
    /// Running average `v` of squared gradients (PyTorch's `square_avg`).
    pub v: ArrayD<T>,
    /// Running average `g_ave` of gradients, when centered (PyTorch's `grad_avg`).
    pub g_ave: Option<ArrayD<T>>,
    /// Momentum buffer `b`, with momentum (PyTorch's `momentum_buffer`).
    pub b: Option<ArrayD<T>>,
}

/// The RMSprop update rule.
#[derive(Clone, Copy, Debug)]
pub struct RmsPropRule;

/// RMSprop; see the [module documentation](self) for the update.
///
/// ```
/// use ndarray::array;
/// use wengert_nn::{ParamGradients, ParamStore};
/// use wengert_nn::optim::{Optimizer, RmsProp, RmsPropConfig};
/// let mut store = ParamStore::<f64>::new();
/// let w = store.root().param("w", array![0.0]);
/// let config = RmsPropConfig { lr: 0.01, alpha: 0.75, eps: 0.0, ..RmsPropConfig::default() };
/// let mut rmsprop = RmsProp::new(store.trainable(), config);
/// let g = ParamGradients::from_pairs(1, [(w, array![2.0].into_dyn().into_shared())]);
/// rmsprop.step(&store, &g); // v = 0.25 · 4 = 1, θ = 0 − 0.01 · 2 / √1
/// assert_eq!(store.value(w)[[0]], -0.02);
/// ```
pub type RmsProp<T> = FirstOrder<T, RmsPropRule>;

impl<T: Float> UpdateRule<T> for RmsPropRule {
    type Config = RmsPropConfig<T>;
    type State = RmsPropState<T>;

    fn validate(config: &RmsPropConfig<T>) {
        let zero = T::zero();
        assert!(
            config.lr >= zero,
            "RMSprop: invalid learning rate {}",
            config.lr
        );
        assert!(
            config.eps >= zero,
            "RMSprop: invalid epsilon {}",
            config.eps
        );
        assert!(
            config.momentum >= zero,
            "RMSprop: invalid momentum {}",
            config.momentum
        );
        assert!(
            config.weight_decay >= zero,
            "RMSprop: invalid weight_decay {}",
            config.weight_decay
        );
        assert!(
            config.alpha >= zero,
            "RMSprop: invalid alpha {}",
            config.alpha
        );
    }

    fn init_state(config: &RmsPropConfig<T>, theta: &ArrayD<T>) -> RmsPropState<T> {
        let zeros = ArrayD::zeros(theta.raw_dim());
        RmsPropState {
            step: 0,
            g_ave: config.centered.then(|| zeros.clone()),
            b: (config.momentum > T::zero()).then(|| zeros.clone()),
            v: zeros,
        }
    }

    fn update(
        config: &RmsPropConfig<T>,
        state: &mut RmsPropState<T>,
        theta: &mut ArrayD<T>,
        g: ArrayViewD<'_, T>,
    ) {
        let RmsPropConfig {
            lr: gamma,
            alpha,
            eps,
            weight_decay: lambda,
            momentum: mu,
            centered,
        } = *config;
        let one = T::one();
        state.step += 1;
        let mut g = row_major(g);
        if lambda != T::zero() {
            for (g, &theta) in g.to_mut().iter_mut().zip(&*row_major_mut(theta)) {
                *g += lambda * theta;
            }
        }
        let shape = theta.raw_dim();
        let v = row_major_mut(&mut state.v);
        for (v, &g) in v.iter_mut().zip(&*g) {
            *v = *v * alpha + (one - alpha) * g * g;
        }
        // The denominator √ṽ + ε, elementwise.
        let mut denominator = v.to_vec();
        if centered {
            let g_ave = state
                .g_ave
                .get_or_insert_with(|| ArrayD::zeros(shape.clone()));
            let g_ave = row_major_mut(g_ave);
            for ((v_tilde, g_ave), &g) in denominator.iter_mut().zip(g_ave).zip(&*g) {
                *g_ave = lerp(*g_ave, g, one - alpha);
                *v_tilde -= *g_ave * *g_ave;
            }
        }
        for v_tilde in &mut denominator {
            *v_tilde = v_tilde.sqrt() + eps;
        }
        let theta = row_major_mut(theta);
        if mu > T::zero() {
            let b = row_major_mut(state.b.get_or_insert_with(|| ArrayD::zeros(shape)));
            for ((b, &g), &d) in b.iter_mut().zip(&*g).zip(&denominator) {
                *b = *b * mu + g / d;
            }
            for (theta, &b) in theta.iter_mut().zip(&*b) {
                *theta -= gamma * b;
            }
        } else {
            for ((theta, &g), &d) in theta.iter_mut().zip(&*g).zip(&denominator) {
                *theta -= gamma * (g / d);
            }
        }
    }

    fn state_to_named(state: &RmsPropState<T>) -> Vec<(&'static str, ArrayD<T>)> {
        let mut named = vec![
            ("step", step_array(state.step)),
            ("square_avg", state.v.clone()),
        ];
        if let Some(g_ave) = &state.g_ave {
            named.push(("grad_avg", g_ave.clone()));
        }
        if let Some(b) = &state.b {
            named.push(("momentum_buffer", b.clone()));
        }
        named
    }

    fn state_from_named(
        config: &RmsPropConfig<T>,
        shape: &[usize],
        named: &HashMap<&str, ArrayD<T>>,
    ) -> Result<RmsPropState<T>, String> {
        known_keys(
            named,
            &["step", "square_avg", "grad_avg", "momentum_buffer"],
        )?;
        Ok(RmsPropState {
            step: named_step(named)?,
            v: named_array(named, "square_avg", shape)?,
            g_ave: match config.centered {
                true => Some(named_array(named, "grad_avg", shape)?),
                false => None,
            },
            b: match config.momentum > T::zero() {
                true => Some(named_array(named, "momentum_buffer", shape)?),
                false => None,
            },
        })
    }
}
