//! Probability distributions over actions, with parameters on the tape.
//!
//! Each distribution holds its parameters as variables, so its log-density, entropy and KL
//! divergence are differentiable in them — to second order, as TRPO's Fisher-vector products
//! `F v = ∇θ (∇θ KL(π_old ‖ π_θ) · v)` need.
//!
//! | distribution | log-probability | entropy | KL(p ‖ q) |
//! |---|---|---|---|
//! | [`Categorical`], `p = softmax(z)` | `ln p_a = z_a − ln Σ_c e^{z_c}` | `−Σ_c p_c ln p_c` | `Σ_c p_c (ln p_c − ln q_c)` |
//! | [`DiagGaussian`] `N(μ, diag σ²)` | `Σ_d −½ ((x_d − μ_d)/σ_d)² − ln σ_d − ½ ln 2π` | `Σ_d ½ + ½ ln 2π + ln σ_d` | `Σ_d ln(σ_q/σ_p) + (σ_p² + (μ_p − μ_q)²)/(2σ_q²) − ½` |
//! | [`TanhGaussian`], `a = tanh u`, `u ~ N(μ, diag σ²)` | `ln N(u; μ, σ) − Σ_d ln(1 − tanh² u_d)` | no closed form | that of the Gaussians over `u` |
//!
//! The diagonal families have the action on the last axis and sum over it: one log-probability
//! per batch row. Categorical logits have the classes on the last axis.
//!
//! Sampling is reparameterised where that is possible: a Gaussian sample is `μ + σ ε` with
//! `ε ~ N(0, I)` a constant, so it stays differentiable in `μ` and `σ` (the pathwise gradient
//! of SAC and of the reparameterisation trick); a categorical sample is a plain index.
//!
//! ```
//! use rand::SeedableRng;
//! use autograd::prelude::*;
//! use wengert_nn::distributions::DiagGaussian;
//!
//! let tape = Tape::<f64>::new();
//! let mean = tape.var(ndarray::array![[0.0, 1.0]]);
//! let log_std = tape.var(ndarray::array![[0.0, -1.0]]);
//! let pi = DiagGaussian::new(&mean, &log_std);
//! let x = pi.rsample(&mut rand::rngs::StdRng::seed_from_u64(0)); // μ + σ ε
//! let grads = x.sum_all().backward();
//! assert_eq!(grads[&mean][[0, 0]], 1.0);                     // ∂x/∂μ = 1
//! assert!((grads[&log_std][[0, 1]] - (x.value()[[0, 1]] - 1.0)).abs() < 1e-15); // ∂x/∂ln σ = σ ε
//! ```

mod categorical;
mod diag_gaussian;
mod tanh_gaussian;

pub use categorical::Categorical;
pub use diag_gaussian::DiagGaussian;
pub use tanh_gaussian::{TanhGaussian, TanhSample};
