//! Natural gradient descent (Amari, 1998) for small probabilistic models, with conjugate
//! gradient on Fisher-vector products (as in truncated natural policy gradient and TRPO).
//!
//! ## Background
//!
//! Plain gradient descent takes the steepest step in Euclidean parameter distance; the natural
//! gradient takes it in the KL divergence between the model's distributions, whose local
//! quadratic form is the Fisher information
//! $F = \mathbb E\big[\nabla \log p_\theta \nabla \log p_\theta^{\top}\big]$:
//!
//! $$ \mathrm{KL}(p_\theta \Vert p_{\theta+\delta}) \approx \tfrac12 \delta^{\top} F \delta, \qquad
//!    F = \nabla^2_{\theta'} \mathrm{KL}(p_\theta \Vert p_{\theta'}) \big|_{\theta'=\theta} $$
//!
//! ## Key equations
//!
//! $$ g = \nabla_\theta L(\theta) \qquad \text{(the loss's gradient, given)} $$
//! $$ F v = \nabla_\theta \big( (\nabla_\theta \mathrm{KL}(p_{\text{old}} \Vert p_\theta)) \cdot v \big) + \lambda v
//!    \qquad \text{(Fisher-vector product, damping } \lambda \text{)} $$
//! $$ x \approx F^{-1} g \qquad \text{(conjugate gradient, a few iterations)} $$
//! $$ \theta \leftarrow \theta - \eta x, \quad \text{with } \eta \text{ fixed, or }
//!    \eta = \sqrt{2 \delta / x^{\top} F x} \text{ so that } \tfrac12 (\eta x)^{\top} F (\eta x) = \delta $$
//!
//! ## Pseudocode
//!
//! 1. Bind the store to a fresh tape and evaluate the divergence (mean KL from the current,
//!    detached model, or a negative log-likelihood whose expected Hessian is `F`).
//! 2. Record its gradient once ([`FisherVectorProduct`]); every conjugate-gradient iteration
//!    reuses that recording for one more backward pass.
//! 3. Solve `(F + λI) x = g` with [`conjugate_gradient`](super::conjugate_gradient())
//!    ([`FisherVectorProduct::solve`]).
//! 4. Step `θ ← θ − η x` ([`NaturalStep::size`]).
//!
//! TRPO and NPG (`wengert_rl::algorithms::trpo`) use steps 2–3 and the step size of
//! [`NaturalStep::MaxKl`] directly, then check the step with a line search of their own.

use autograd::{Float, HessianVectorProduct, SharedArray, Tape, Tensor, Var};
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

impl<T: Float> NaturalStep<T> {
    /// The step size `η` for a natural gradient `x` with `xᵀ F x = x_f_x`: the fixed learning
    /// rate, or `√(2δ / xᵀ F x)`. A direction without positive curvature (`xᵀ F x` zero,
    /// negative, infinite or NaN) gets `η = 0` under [`NaturalStep::MaxKl`].
    ///
    /// ```
    /// use wengert_nn::optim::NaturalStep;
    /// assert_eq!(NaturalStep::MaxKl(0.01).size(0.02), 1.0); // ½ (1·x)ᵀ F (1·x) = 0.01
    /// assert_eq!(NaturalStep::MaxKl(0.01).size(0.0), 0.0);
    /// assert_eq!(NaturalStep::MaxKl(0.01).size(f64::INFINITY), 0.0);
    /// assert_eq!(NaturalStep::LearningRate(0.5).size(123.0), 0.5);
    /// ```
    pub fn size(&self, x_f_x: T) -> T {
        match *self {
            NaturalStep::LearningRate(eta) => eta,
            NaturalStep::MaxKl(delta) if x_f_x > T::zero() => {
                (T::from_f64(2.0) * delta / x_f_x).sqrt()
            }
            NaturalStep::MaxKl(_) => T::zero(),
        }
    }
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

/// Damped Fisher-vector products `v ↦ F v + λ v = ∇θ((∇θ D(θ)) · v) + λ v`, with `∇θ D` of a
/// divergence `D` (a mean KL from the current, detached model) recorded once: every
/// [`apply`](Self::apply) is one more backward pass over that recording, so the forward pass is
/// never repeated and nothing is added to the tape.
///
/// ```
/// use ndarray::array;
/// use autograd::prelude::*;
/// use wengert_nn::distributions::DiagGaussian;
/// use wengert_nn::optim::natural_gradient::FisherVectorProduct;
/// // N(μ, σ²) with σ = 0.5 fixed: KL(N(μ_old) ‖ N(μ)) = (μ − μ_old)² / 2σ², so F = 1/σ² = 4.
/// let tape = Tape::<f64>::new();
/// let mu = tape.var(array![1.0, -1.0]);
/// let log_std = Var::constant(array![0.5f64.ln(), 0.5f64.ln()]);
/// let pi = DiagGaussian::new(&mu, &log_std);
/// let pi_old = DiagGaussian::new(&mu.detach(), &log_std);
/// let kl = pi_old.kl(&pi).mean_all();
/// let fisher = FisherVectorProduct::new(&kl, &[&mu], 0.1);
/// assert_eq!(fisher.dim(), 2);
/// let f_v = fisher.apply(&array![1.0, 2.0]);
/// assert!((&f_v - &array![4.1, 8.2]).iter().all(|e| e.abs() < 1e-12));
/// ```
pub struct FisherVectorProduct<T> {
    hvp: HessianVectorProduct<T>,
    shapes: Vec<Vec<usize>>,
    damping: T,
}

impl<T: Float> FisherVectorProduct<T> {
    /// Records `∇θ divergence` for the parameters `theta` (tracked variables of the forward pass
    /// that produced `divergence`, a scalar in which the old model is constant), with damping `λ`.
    pub fn new(divergence: &Var<T>, theta: &[&Var<T>], damping: T) -> Self {
        FisherVectorProduct {
            hvp: HessianVectorProduct::new(divergence, theta),
            shapes: theta.iter().map(|p| p.shape().to_vec()).collect(),
            damping,
        }
    }

    /// The number of parameters, the length of `v`.
    pub fn dim(&self) -> usize {
        self.shapes
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    /// The parameters' shapes, in the order given to [`new`](Self::new) (to
    /// [`unflatten`] a flat vector).
    pub fn shapes(&self) -> &[Vec<usize>] {
        &self.shapes
    }

    // ANCHOR: fisher_vector_product
    /// `(F + λI) v` for a flat `v` (parameters in the order given to [`new`](Self::new)).
    pub fn apply(&self, v: &Array1<T>) -> Array1<T> {
        let f_v = flatten(&self.hvp.apply(&unflatten(v, &self.shapes)));
        f_v + &(v * self.damping)
    }
    // ANCHOR_END: fisher_vector_product

    /// The natural gradient `x ≈ (F + λI)⁻¹ g` by [`conjugate_gradient`] (at most
    /// `cg_iterations` products, stopping at residual `cg_tolerance`), with `xᵀ (F + λI) x`.
    ///
    /// ```
    /// use ndarray::array;
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::Categorical;
    /// use wengert_nn::optim::NaturalStep;
    /// use wengert_nn::optim::natural_gradient::FisherVectorProduct;
    /// let tape = Tape::<f64>::new();
    /// let logits = tape.var(array![[0.5, 0.0, -0.5]]);
    /// let kl = Categorical::new(&logits.detach()).kl(&Categorical::new(&logits)).mean_all();
    /// let fisher = FisherVectorProduct::new(&kl, &[&logits], 1e-3);
    /// let g = array![1.0, 0.0, -1.0];
    /// let natural = fisher.solve(&g, 10, 1e-12);
    /// // the step η x with η = √(2δ / xᵀFx) has quadratic KL ½ (ηx)ᵀ F (ηx) = δ
    /// let delta = 0.01;
    /// let step = &natural.x * NaturalStep::MaxKl(delta).size(natural.x_f_x);
    /// assert!((0.5 * step.dot(&fisher.apply(&step)) - delta).abs() < 1e-9);
    /// assert!(g.dot(&step) > 0.0);
    /// ```
    pub fn solve(
        &self,
        g: &Array1<T>,
        cg_iterations: usize,
        cg_tolerance: T,
    ) -> NaturalDirection<T> {
        let solution = conjugate_gradient(|v| self.apply(v), g, cg_iterations, cg_tolerance);
        let x = solution.x;
        let x_f_x = x.dot(&self.apply(&x));
        NaturalDirection {
            x,
            cg_iterations: solution.iterations,
            residual_norm: solution.residual_norm,
            x_f_x,
        }
    }
}

/// The natural gradient that [`FisherVectorProduct::solve`] found.
#[derive(Clone, Debug)]
pub struct NaturalDirection<T> {
    /// `x ≈ (F + λI)⁻¹ g`, flat.
    pub x: Array1<T>,
    /// Conjugate-gradient iterations taken.
    pub cg_iterations: usize,
    /// `‖g − (F + λI) x‖` at the end of conjugate gradient.
    pub residual_norm: T,
    /// `xᵀ (F + λI) x ≈ gᵀ F⁻¹ g`.
    pub x_f_x: T,
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

    /// One step `θ ← θ − η x` with `x ≈ (F + λI)⁻¹ g`, `g` from `grads` and `F` the Hessian of
    /// `divergence` (evaluated on a fresh binding of `store`) at the current parameters.
    pub fn step<'s>(
        &mut self,
        store: &'s ParamStore<T>,
        grads: &ParamGradients<T>,
        divergence: impl FnOnce(&Bound<'s, T>) -> Var<T>,
    ) -> NaturalStepInfo<T> {
        let ids: Vec<ParamId> = self
            .params
            .iter()
            .copied()
            .filter(|&id| store.is_trainable(id) && grads.get(id).is_some())
            .collect();
        let tape = Tape::new();
        let bound = store.bind(&tape);
        let vars: Vec<&Var<T>> = ids.iter().map(|&id| &bound[id]).collect();
        let fisher = FisherVectorProduct::new(&divergence(&bound), &vars, self.config.damping);
        let g: Vec<SharedArray<T>> = ids.iter().map(|&id| grads[id].clone()).collect();
        let NaturalDirection {
            x,
            cg_iterations,
            residual_norm,
            x_f_x,
        } = fisher.solve(
            &flatten(&g),
            self.config.cg_iterations,
            self.config.cg_tolerance,
        );
        let step_size = self.config.step.size(x_f_x);
        let shapes = fisher.shapes();
        let direction = unflatten(&x, shapes);
        for (&id, x_i) in ids.iter().zip(&direction) {
            let theta = &store.value(id) - &(x_i * step_size);
            store.set(id, theta);
        }
        NaturalStepInfo {
            direction,
            cg_iterations,
            residual_norm,
            x_f_x,
            step_size,
        }
    }
}
