//! # Natural gradient vs plain gradient descent on logistic regression (Amari, 1998)
//!
//! **Background.** Gradient descent measures step length in parameter space, so when features
//! live on very different scales the loss is a long narrow valley: the step must be small
//! enough for the steepest direction, and the flat directions barely move. The natural
//! gradient measures step length by how much the model's *predictions* change — the KL
//! divergence between the old and new models, locally `½ δᵀ F δ` with the Fisher information
//! `F` — which makes it invariant to rescaling the features. For logistic regression the
//! Fisher equals the Hessian of the loss, so a unit natural-gradient step is Newton's method
//! (Fisher scoring, or iteratively reweighted least squares).
//!
//! The data are made here: three features on scales 5, 1 and 0.05 (as raw, unnormalised
//! measurements often are), labels drawn from a logistic model in which each feature matters
//! about equally. The Fisher's condition number is then about 10⁴.
//!
//! **Key equations.**
//!
//! ```text
//! p_w(y = 1 | x) = σ(xᵀ w)
//! L(w)  = (1/N) Σ_i [softplus(x_iᵀ w) − y_i x_iᵀ w]           (negative log-likelihood)
//! ∇L(w) = (1/N) Σ_i (σ(x_iᵀ w) − y_i) x_i
//! F(w)  = (1/N) Σ_i σ_i (1 − σ_i) x_i x_iᵀ = ∇²_w' KL(p_w ‖ p_w')|_{w' = w}
//! gradient descent:  w ← w − α ∇L,        α = 1 / L_smooth with L_smooth = tr(XᵀX / N) / 4
//! natural gradient:  w ← w − η F⁻¹ ∇L,    η = 1 (F⁻¹ ∇L by conjugate gradient on F v)
//! ```
//!
//! `α` is the classical safe step: `∇²L ⪯ XᵀX / 4N`, and the trace bounds the largest
//! eigenvalue, so every gradient step decreases `L`.
//!
//! **Pseudocode.**
//!
//! ```text
//! w_gd ← 0;  w_ng ← 0
//! for k = 1, …, K:
//!     w_gd ← w_gd − α ∇L(w_gd)                                    (nn::optim::Sgd)
//!     g ← ∇L(w_ng);  x ← (F(w_ng) + λI)⁻¹ g;  w_ng ← w_ng − η x      (nn::optim::NaturalGradient)
//!     print L(w_gd), L(w_ng)
//! ```
//!
//! `cargo run --release --example natural_gradient`

use ndarray::{Array1, Array2};
use rand::{RngExt, SeedableRng};
use wengert::autograd::prelude::*;
use wengert::nn::optim::{
    NaturalGradient, NaturalGradientConfig, NaturalStep, Optimizer, Sgd, SgdConfig,
};
use wengert::nn::{Bound, Init, ParamId, ParamStore};

/// The experiment's settings, with their defaults.
#[derive(Clone, Debug)]
pub struct LogisticConfig {
    /// Seed of the data (default 0).
    pub seed: u64,
    /// Number of examples N (default 1000).
    pub points: usize,
    /// Scale of each feature (default [5, 1, 0.05]).
    pub feature_scales: Vec<f64>,
    /// Steps K of each method (default 20).
    pub steps: usize,
    /// Damping λ added to the Fisher (default 1e-8, far below its smallest eigenvalue).
    pub damping: f64,
}

impl Default for LogisticConfig {
    fn default() -> Self {
        LogisticConfig {
            seed: 0,
            points: 1000,
            feature_scales: vec![5.0, 1.0, 0.05],
            steps: 20,
            damping: 1e-8,
        }
    }
}

/// The two loss curves: `L(w_k)` for `k = 0, …, K`.
#[derive(Clone, Debug)]
pub struct LossCurves {
    pub gradient_descent: Vec<f64>,
    pub natural_gradient: Vec<f64>,
}

/// Features `X` (N × d) and labels `y ∈ {0, 1}` drawn from `p(y = 1 | x) = σ(xᵀ w*)`.
pub struct LogisticData {
    pub x: Array2<f64>,
    pub y: Array1<f64>,
}

impl LogisticData {
    /// Each feature `x_j ~ N(0, s_j²)`; `w*_j = 1.5 / s_j`, so every feature moves the logit
    /// by about the same amount.
    pub fn new(config: &LogisticConfig) -> Self {
        let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
        let (n, d) = (config.points, config.feature_scales.len());
        let standard = Init::Normal {
            mean: 0.0,
            std: 1.0,
        }
        .sample::<f64>(&[n, d], &mut rng);
        let x = Array2::from_shape_fn((n, d), |(i, j)| config.feature_scales[j] * standard[[i, j]]);
        let w_star = Array1::from_iter(config.feature_scales.iter().map(|s| 1.5 / s));
        let logits = x.dot(&w_star);
        let y = logits.mapv(|z| {
            let p = 1.0 / (1.0 + (-z).exp());
            if rng.random::<f64>() < p { 1.0 } else { 0.0 }
        });
        LogisticData { x, y }
    }

    /// The logits `X w`.
    fn logits(&self, p: &Bound<'_, f64>, w: ParamId) -> Var<f64> {
        Var::constant(self.x.clone()).matmul(&p[w])
    }

    /// `L(w) = (1/N) Σ [softplus(xᵀ w) − y xᵀ w]`.
    pub fn loss(&self, p: &Bound<'_, f64>, w: ParamId) -> Var<f64> {
        let z = self.logits(p, w);
        (z.softplus() - &z * &Var::constant(self.y.clone())).mean_all()
    }

    /// Mean `KL(p_old ‖ p_w)` over the examples, with `p_old` the current model (detached):
    /// zero with zero gradient at `w = w_old`, and Hessian `F` there.
    pub fn kl_from_current(&self, p: &Bound<'_, f64>, w: ParamId) -> Var<f64> {
        let z = self.logits(p, w);
        // log σ(z) = −softplus(−z),  log(1 − σ(z)) = −softplus(z)
        let log_p1 = z.neg().softplus().neg();
        let log_p0 = z.softplus().neg();
        let (log_p1_old, log_p0_old) = (log_p1.detach(), log_p0.detach());
        (log_p1_old.exp() * (&log_p1_old - &log_p1) + log_p0_old.exp() * (&log_p0_old - &log_p0))
            .mean_all()
    }
}

/// Runs both methods from `w = 0` for `steps` steps each; returns their loss curves.
pub fn compare(config: &LogisticConfig) -> LossCurves {
    let data = LogisticData::new(config);
    let (n, d) = data.x.dim();
    let loss_of = |store: &ParamStore<f64>, w: ParamId| data.loss(&store.constants(), w).item();

    // Gradient descent with the safe step 1 / L_smooth.
    let mut gd_store = ParamStore::<f64>::new();
    let w_gd = gd_store.root().param("w", Array1::<f64>::zeros(d));
    let l_smooth = data.x.iter().map(|v| v * v).sum::<f64>() / n as f64 / 4.0;
    let mut sgd = Sgd::new(
        gd_store.trainable(),
        SgdConfig {
            lr: 1.0 / l_smooth,
            ..SgdConfig::default()
        },
    );

    // Natural gradient with a unit step: Fisher scoring.
    let mut ng_store = ParamStore::<f64>::new();
    let w_ng = ng_store.root().param("w", Array1::<f64>::zeros(d));
    let mut natural = NaturalGradient::new(
        ng_store.trainable(),
        NaturalGradientConfig {
            step: NaturalStep::LearningRate(1.0),
            damping: config.damping,
            cg_iterations: 2 * d, // exact in d iterations, up to round-off
            cg_tolerance: 1e-14,
        },
    );

    let mut curves = LossCurves {
        gradient_descent: vec![loss_of(&gd_store, w_gd)],
        natural_gradient: vec![loss_of(&ng_store, w_ng)],
    };
    for _ in 0..config.steps {
        let tape = Tape::new();
        let p = gd_store.bind(&tape);
        let g = p.gradients(&data.loss(&p, w_gd));
        sgd.step(&gd_store, &g);
        curves.gradient_descent.push(loss_of(&gd_store, w_gd));

        let tape = Tape::new();
        let p = ng_store.bind(&tape);
        let g = p.gradients(&data.loss(&p, w_ng));
        natural.step(&ng_store, &g, |p| data.kl_from_current(p, w_ng));
        curves.natural_gradient.push(loss_of(&ng_store, w_ng));
    }
    curves
}

fn main() {
    let config = LogisticConfig::default();
    println!(
        "logistic regression, N = {}, feature scales {:?}",
        config.points, config.feature_scales
    );
    let curves = compare(&config);
    println!("step  gradient descent  natural gradient");
    for (k, (gd, ng)) in curves
        .gradient_descent
        .iter()
        .zip(&curves.natural_gradient)
        .enumerate()
    {
        println!("{k:4}  {gd:16.8}  {ng:16.8}");
    }
}
