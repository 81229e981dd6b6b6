//! Natural gradient descent (Amari, 1998) for small probabilistic models, with conjugate
//! gradient on Fisher-vector products (as in truncated natural policy gradient and TRPO).
//!
//! ## Background
//!
//! Plain gradient descent takes the steepest step in Euclidean parameter distance; the natural
//! gradient takes it in the KL divergence between the model's distributions, whose local
//! quadratic form is the Fisher information `F = E[∇ log p_θ ∇ log p_θᵀ]`:
//!
//! ```text
//! KL(p_θ ‖ p_{θ+δ}) ≈ ½ δᵀ F δ,     F = ∇²_θ' KL(p_θ ‖ p_θ')|_{θ'=θ}
//! ```
//!
//! ## Key equations
//!
//! ```text
//! g = ∇θ L(θ)                                    (the loss's gradient, given)
//! F v = ∇θ ((∇θ KL(p_old ‖ p_θ)) · v) + λ v       (Fisher-vector product, damping λ)
//! x ≈ F⁻¹ g                                      (conjugate gradient, a few iterations)
//! θ ← θ − η x,   with η fixed, or η = √(2 δ / xᵀ F x) so that ½ (η x)ᵀ F (η x) = δ
//! ```
//!
//! ## Pseudocode
//!
//! 1. Bind the store to a fresh tape and evaluate the divergence (mean KL from the current,
//!    detached model, or a negative log-likelihood whose expected Hessian is `F`).
//! 2. Record its gradient once ([`HessianVectorProduct`]); every conjugate-gradient iteration
//!    reuses that recording for one more backward pass.
//! 3. Solve `(F + λI) x = g` with [`conjugate_gradient`](super::conjugate_gradient()).
//! 4. Step `θ ← θ − η x`.

use autograd::{Float, HessianVectorProduct, SharedArray, Tape, Var};
use ndarray::Array1;

use super::conjugate_gradient::{conjugate_gradient, flatten, unflatten};
use crate::{Bound, ParamGradients, ParamId, ParamStore};

/// How far to step along the natural gradient `x`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NaturalStep<T> {
    /// `θ ← θ − η x` with a fixed η.
    LearningRate(T),
    /// `η = √(2 δ / xᵀ F x)`: the step whose quadratic KL estimate is δ (natural policy gradient).
    MaxKl(T),
}

/// The natural-gradient optimiser's options.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NaturalGradientConfig<T> {
    /// Step rule (default a learning rate of 1).
    pub step: NaturalStep<T>,
    /// Damping λ added to `F` (default 1e-3; `F` of an over-parameterised model is singular).
    pub damping: T,
    /// Conjugate-gradient iteration cap (default 10).
    pub cg_iterations: usize,
    /// Conjugate-gradient residual tolerance on `‖r‖` (default 1e-10).
    pub cg_tolerance: T,
}

impl<T: Float> Default for NaturalGradientConfig<T> {
    fn default() -> Self {
        NaturalGradientConfig {
            step: NaturalStep::LearningRate(T::one()),
            damping: T::from_f64(1e-3),
            cg_iterations: 10,
            cg_tolerance: T::from_f64(1e-10),
        }
    }
}

/// What one natural-gradient step did, for logging.
#[derive(Clone, Debug)]
pub struct NaturalStepInfo<T> {
    /// The natural gradient `x ≈ (F + λI)⁻¹ g`, one array per parameter.
    pub direction: Vec<SharedArray<T>>,
    /// Conjugate-gradient iterations taken.
    pub cg_iterations: usize,
    /// The final conjugate-gradient residual `‖g − (F + λI) x‖`.
    pub residual_norm: T,
    /// `xᵀ (F + λI) x`.
    pub x_f_x: T,
    /// The step size η used.
    pub step_size: T,
}

/// Natural gradient descent; see the [module documentation](self).
///
/// ```
/// use ndarray::array;
/// use autograd::prelude::*;
/// use wengert_nn::ParamStore;
/// use wengert_nn::optim::{NaturalGradient, NaturalGradientConfig, NaturalStep};
/// // A Gaussian N(μ, σ²) with known σ = 0.5 has Fisher 1/σ² = 4 for μ: the natural gradient
/// // of the NLL at data y is (μ − y)/σ² / (1/σ²) = μ − y, so one unit step lands on y.
/// let mut store = ParamStore::<f64>::new();
/// let mu = store.root().param("mu", array![0.0]);
/// let y = 3.0;
/// let nll = |p: &wengert_nn::Bound<'_, f64>| (p[mu].add_scalar(-y).powi(2) * 2.0).sum_all();
/// let tape = Tape::new();
/// let bound = store.bind(&tape);
/// let grads = bound.gradients(&nll(&bound));
/// let config = NaturalGradientConfig { step: NaturalStep::LearningRate(1.0), damping: 0.0, ..NaturalGradientConfig::default() };
/// let mut natural = NaturalGradient::new(store.trainable(), config);
/// natural.step(&store, &grads, |p| (p[mu].powi(2) * 2.0).sum_all()); // ½ μ² / σ²: Hessian 4
/// assert!((store.value(mu)[[0]] - 3.0).abs() < 1e-12);
/// ```
pub struct NaturalGradient<T> {
    params: Vec<ParamId>,
    /// The options.
    pub config: NaturalGradientConfig<T>,
}

impl<T: Float> NaturalGradient<T> {
    /// Natural gradient descent on `params`.
    pub fn new(
        params: impl IntoIterator<Item = ParamId>,
        config: NaturalGradientConfig<T>,
    ) -> Self {
        NaturalGradient {
            params: params.into_iter().collect(),
            config,
        }
    }

    /// The parameters this optimiser updates.
    pub fn params(&self) -> &[ParamId] {
        &self.params
    }

    /// The damped Fisher-vector products `v ↦ (F + λI) v` of `divergence` at the store's
    /// current values, over the parameters that have a gradient in `grads`; returns also the
    /// ids in the order of the flattened vectors.
    fn fisher_system<'s>(
        &self,
        store: &'s ParamStore<T>,
        grads: &ParamGradients<T>,
        tape: &Tape<T>,
        divergence: impl FnOnce(&Bound<'s, T>) -> Var<T>,
    ) -> (Vec<ParamId>, HessianVectorProduct<T>) {
        let ids: Vec<ParamId> = self
            .params
            .iter()
            .copied()
            .filter(|&id| store.is_trainable(id) && grads.get(id).is_some())
            .collect();
        let bound = store.bind(tape);
        let kl = divergence(&bound);
        let vars: Vec<&Var<T>> = ids.iter().map(|&id| &bound[id]).collect();
        (ids, HessianVectorProduct::new(&kl, &vars))
    }

    /// One step `θ ← θ − η x` with `x ≈ (F + λI)⁻¹ g`, `g` from `grads` and `F` the Hessian of
    /// `divergence` (evaluated on a fresh binding of `store`) at the current parameters.
    pub fn step<'s>(
        &mut self,
        store: &'s ParamStore<T>,
        grads: &ParamGradients<T>,
        divergence: impl FnOnce(&Bound<'s, T>) -> Var<T>,
    ) -> NaturalStepInfo<T> {
        let tape = Tape::new();
        let (ids, fisher) = self.fisher_system(store, grads, &tape, divergence);
        let shapes: Vec<Vec<usize>> = ids
            .iter()
            .map(|&id| store.value(id).shape().to_vec())
            .collect();
        let lambda = self.config.damping;
        let fisher_vector_product = |v: &Array1<T>| {
            let f_v = flatten(&fisher.apply(&unflatten(v, &shapes)));
            f_v + &(v * lambda)
        };
        let g: Vec<SharedArray<T>> = ids.iter().map(|&id| grads[id].clone()).collect();
        let g = flatten(&g);
        let solution = conjugate_gradient(
            fisher_vector_product,
            &g,
            self.config.cg_iterations,
            self.config.cg_tolerance,
        );
        let x = solution.x;
        let x_f_x = x.dot(&fisher_vector_product(&x));
        let step_size = match self.config.step {
            NaturalStep::LearningRate(eta) => eta,
            NaturalStep::MaxKl(delta) if x_f_x > T::zero() => {
                (T::from_f64(2.0) * delta / x_f_x).sqrt()
            }
            NaturalStep::MaxKl(_) => T::zero(),
        };
        let direction = unflatten(&x, &shapes);
        for (&id, x_i) in ids.iter().zip(&direction) {
            let theta = &store.value(id) - &(x_i * step_size);
            store.set(id, theta);
        }
        NaturalStepInfo {
            direction,
            cg_iterations: solution.iterations,
            residual_norm: solution.residual_norm,
            x_f_x,
            step_size,
        }
    }
}
