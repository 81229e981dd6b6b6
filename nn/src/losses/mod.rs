//! Loss functions, with PyTorch's definitions and defaults.
//!
//! Every loss first computes one term `ℓ_i` per element (per position, for cross-entropy), then
//! reduces them ([`Reduction`]): the mean `(1/n) Σ_i ℓ_i`, the sum `Σ_i ℓ_i`, or none (the
//! terms themselves).
//!
//! | loss | `ℓ_i`, with `d = x − y` |
//! |---|---|
//! | [`mse`] | `d²` |
//! | [`huber`] (`δ`) | `½ d²` if `|d| < δ`, else `δ (|d| − ½ δ)` |
//! | [`smooth_l1`] (`β`) | `½ d² / β` if `|d| < β`, else `|d| − ½ β` (so `huber_δ = δ · smooth_l1_δ`) |
//! | [`gaussian_nll`] | `½ (ln max(σ², ε) + d² / max(σ², ε))` `[+ ½ ln 2π]` |
//! | [`binary_cross_entropy_with_logits`] | `max(x, 0) − x y + ln(1 + e^{−|x|}) = softplus(x) − x y` |
//! | [`cross_entropy`] (label smoothing `ε`, `C` classes) | `(1 − ε)(−ln p_{i,y_i}) + ε · (1/C) Σ_c (−ln p_{i,c})`, `p_i = softmax(z_i)` |
//!
//! Cross-entropy counts only some positions: those whose target is not the ignore index
//! ([`CrossEntropy::loss`]), or those an explicit mask selects ([`CrossEntropy::masked_loss`],
//! the masked-language-model loss); its mean is over the counted positions `M` only,
//! `(1/|M|) Σ_{i ∈ M} ℓ_i`.
//!
//! Every loss is built from differentiable tape ops, so its gradient can itself be
//! differentiated (second order) wherever the function is twice differentiable. The reduced
//! [`mse`] is one op (one pass over the elements each way, the tape ops' values bit for bit)
//! whose VJP is written with tape ops.
//!
//! ```
//! use autograd::prelude::*;
//! use wengert_nn::losses::{Reduction, mse};
//!
//! let tape = Tape::<f64>::new();
//! let prediction = tape.var(ndarray::array![1.0, 2.0, 4.0]);
//! let target = Var::constant(ndarray::array![1.0, 1.0, 1.0]);
//! let loss = mse(&prediction, &target, Reduction::Mean); // (0 + 1 + 9) / 3
//! assert!((loss.item() - 10.0 / 3.0).abs() < 1e-15);
//! let grads = loss.backward(); // 2 d / n
//! assert_eq!(grads[&prediction][1], 2.0 / 3.0);
//! ```

mod classification;
mod regression;

pub use classification::{CrossEntropy, binary_cross_entropy_with_logits, cross_entropy};
pub use regression::{gaussian_nll, huber, mse, smooth_l1};

use autograd::{Float, Tensor, Var};

/// How the per-element loss terms `ℓ_i` become the loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reduction {
    /// `(1/n) Σ_i ℓ_i`, a 0-dimensional value (PyTorch's default).
    #[default]
    Mean,
    /// `Σ_i ℓ_i`, a 0-dimensional value.
    Sum,
    /// The terms `ℓ_i` themselves, shaped like the input.
    None,
}

impl Reduction {
    /// Reduces the per-element terms over all their elements.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::losses::Reduction;
    /// let terms = Var::constant(ndarray::array![1.0, 2.0, 6.0]);
    /// assert_eq!(Reduction::Mean.apply(&terms).item(), 3.0);
    /// assert_eq!(Reduction::Sum.apply(&terms).item(), 9.0);
    /// assert_eq!(Reduction::None.apply(&terms).shape(), &[3]);
    /// ```
    pub fn apply<T: Float>(&self, terms: &Var<T>) -> Var<T> {
        match self {
            Reduction::Mean => terms.mean_all(),
            Reduction::Sum => terms.sum_all(),
            Reduction::None => terms.clone(),
        }
    }
}
