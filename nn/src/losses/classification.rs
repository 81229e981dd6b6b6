//! Classification losses from logits.
//!
//! **Cross-entropy.** For logits `z_i ∈ ℝ^C` at position `i` and target class `y_i`, with
//! `ln p_i = log_softmax(z_i) = z_i − ln Σ_c e^{z_{i,c}}` and label smoothing `ε ∈ [0, 1]`
//! (PyTorch's: the target distribution is `(1 − ε) onehot(y_i) + ε / C`),
//!
//! `ℓ_i = (1 − ε)(−ln p_{i,y_i}) + ε · (1/C) Σ_c (−ln p_{i,c})`.
//!
//! Only the counted positions `M` enter: those whose target is not the ignore index
//! (PyTorch's `ignore_index`, default −100), or those an explicit mask selects — the
//! masked-language-model loss, where only the masked-out tokens are predicted. The mean is
//! `(1/|M|) Σ_{i ∈ M} ℓ_i`; with no position counted it is `0/0 = NaN`, as in PyTorch. Without
//! reduction, uncounted positions hold 0.
//!
//! **Binary cross-entropy with logits.** For a logit `x` and a target `y ∈ [0, 1]`,
//! `ℓ = −y ln σ(x) − (1 − y) ln(1 − σ(x)) = max(x, 0) − x y + ln(1 + e^{−|x|})`, which is
//! `softplus(x) − x y` and is evaluated that way: it never overflows and never takes the
//! logarithm of a rounded-to-zero probability.

use autograd::{Float, Tensor, Var};
use ndarray::{ArrayD, IxDyn};

use super::Reduction;

/// Options of the cross-entropy loss from logits, with PyTorch's defaults
/// (`ignore_index = −100`, no label smoothing, mean reduction).
///
/// Logits have shape `(…, C)` — classes on the **last** axis; for `(N, C)` this is PyTorch's
/// layout, and a masked-language-model batch `(B, L, V)` needs no reshape. Targets hold one class
/// per position, in row-major order of the leading axes.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{CrossEntropy, Reduction};
/// let logits = Var::constant(ndarray::array![[0.0, 0.0], [2.0, 0.0], [5.0, -5.0]]);
/// let loss = CrossEntropy { label_smoothing: 0.0, ..Default::default() };
/// // the middle position is ignored; the mean is over the other two
/// let mean = loss.loss(&logits, &[1, -100, 0]).item();
/// let expected = (2f64.ln() + (1.0 + (-10f64).exp()).ln()) / 2.0;
/// assert!((mean - expected).abs() < 1e-15);
/// let none = CrossEntropy { reduction: Reduction::None, ..loss }.loss(&logits, &[1, -100, 0]);
/// assert_eq!(none.value()[1], 0.0);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrossEntropy {
    /// Positions whose target equals this are not counted (`None`: every target is a class).
    pub ignore_index: Option<i64>,
    /// `ε`: the weight moved from the target class to the uniform distribution over classes.
    pub label_smoothing: f64,
    /// How the per-position terms are reduced.
    pub reduction: Reduction,
}

impl Default for CrossEntropy {
    fn default() -> Self {
        CrossEntropy {
            ignore_index: Some(-100),
            label_smoothing: 0.0,
            reduction: Reduction::Mean,
        }
    }
}

impl CrossEntropy {
    /// The loss over the positions whose target is not the ignore index.
    ///
    /// # Panics
    /// If `targets` does not hold one entry per position, or a counted target is not a class.
    pub fn loss<T: Float>(&self, logits: &Var<T>, targets: &[i64]) -> Var<T> {
        let counted: Vec<bool> = targets
            .iter()
            .map(|&t| Some(t) != self.ignore_index)
            .collect();
        self.counted_loss(logits, targets, &counted, "cross_entropy")
    }

    /// The loss over the positions where `mask` is true (the masked-language-model loss):
    /// the targets of the other positions are not read, and the mean is over the masked
    /// positions only. The ignore index also applies, if set.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::losses::CrossEntropy;
    /// // a batch of 1 sequence of 3 tokens over a vocabulary of 4; only token 1 was masked
    /// let logits = Var::constant(ndarray::Array3::<f64>::zeros((1, 3, 4)));
    /// let loss = CrossEntropy::default().masked_loss(&logits, &[7, 2, 9], &[false, true, false]);
    /// assert!((loss.item() - 4f64.ln()).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// If `targets` or `mask` does not hold one entry per position, or a counted target is not
    /// a class.
    pub fn masked_loss<T: Float>(&self, logits: &Var<T>, targets: &[i64], mask: &[bool]) -> Var<T> {
        if mask.len() != targets.len() {
            panic!(
                "cross_entropy: {} mask entries for {} targets",
                mask.len(),
                targets.len()
            );
        }
        let counted: Vec<bool> = targets
            .iter()
            .zip(mask)
            .map(|(&t, &m)| m && Some(t) != self.ignore_index)
            .collect();
        self.counted_loss(logits, targets, &counted, "cross_entropy (masked)")
    }

    fn counted_loss<T: Float>(
        &self,
        logits: &Var<T>,
        targets: &[i64],
        counted: &[bool],
        name: &str,
    ) -> Var<T> {
        let Some((&classes, leading)) = logits.shape().split_last() else {
            panic!("{name}: logits must have a class axis, found a scalar");
        };
        let positions: usize = leading.iter().product();
        if targets.len() != positions {
            panic!(
                "{name}: {} targets for logits of shape {:?} ({positions} positions)",
                targets.len(),
                logits.shape()
            );
        }
        if !(0.0..=1.0).contains(&self.label_smoothing) {
            panic!(
                "{name}: label smoothing must lie in [0, 1], found {}",
                self.label_smoothing
            );
        }
        // An uncounted position gathers class 0, and is then replaced by 0.
        let index: Vec<usize> = targets
            .iter()
            .zip(counted)
            .map(|(&t, &c)| match c {
                false => 0,
                true if (0..classes as i64).contains(&t) => t as usize,
                true => panic!("{name}: target {t} is not a class in 0..{classes}"),
            })
            .collect();
        let index = ArrayD::from_shape_vec(IxDyn(&[positions, 1]), index).unwrap();

        let log_p = logits.reshape(&[positions, classes]).log_softmax(-1);
        let nll = log_p.gather(1, &index).reshape(&[positions]).neg();
        let epsilon = T::from_f64(self.label_smoothing);
        let terms = if self.label_smoothing > 0.0 {
            let uniform = log_p.mean(&[1], false).neg();
            nll.mul_scalar(T::one() - epsilon)
                .add(&uniform.mul_scalar(epsilon))
        } else {
            nll
        };
        let counted_mask = ArrayD::from_shape_vec(IxDyn(&[positions]), counted.to_vec()).unwrap();
        let terms = terms.where_(&counted_mask, &terms.full_like(T::zero()));
        match self.reduction {
            Reduction::Mean => {
                let count = counted.iter().filter(|&&c| c).count();
                terms
                    .sum_all()
                    .mul_scalar(T::one() / T::from_f64(count as f64))
            }
            Reduction::Sum => terms.sum_all(),
            Reduction::None => terms.reshape(leading),
        }
    }
}

/// Cross-entropy from logits `(…, C)` with PyTorch's defaults: positions whose target is −100
/// are ignored, and the mean is over the others. See [`CrossEntropy`] for label smoothing and
/// [`CrossEntropy::masked_loss`] for an explicit mask.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, cross_entropy};
/// let tape = Tape::<f64>::new();
/// let logits = tape.var(ndarray::array![[1.0, 2.0, 3.0]]);
/// let loss = cross_entropy(&logits, &[2], Reduction::Mean);
/// // ∂ℓ/∂z = softmax(z) − onehot(y)
/// let grad = &loss.backward()[&logits];
/// let p2 = 3f64.exp() / (1f64.exp() + 2f64.exp() + 3f64.exp());
/// assert!((grad[[0, 2]] - (p2 - 1.0)).abs() < 1e-15);
/// ```
pub fn cross_entropy<T: Float>(logits: &Var<T>, targets: &[i64], reduction: Reduction) -> Var<T> {
    CrossEntropy {
        reduction,
        ..CrossEntropy::default()
    }
    .loss(logits, targets)
}

/// Binary cross-entropy from logits, `ℓ = max(x, 0) − x y + ln(1 + e^{−|x|})`, evaluated stably
/// as `softplus(x) − x y`.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::losses::{Reduction, binary_cross_entropy_with_logits};
/// let x = Var::constant(ndarray::array![0.0, 1000.0, -1000.0]);
/// let y = Var::constant(ndarray::array![1.0, 1.0, 1.0]);
/// let terms = binary_cross_entropy_with_logits(&x, &y, Reduction::None);
/// assert!((terms.value()[0] - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(terms.value()[1], 0.0);      // no overflow of e^x
/// assert_eq!(terms.value()[2], 1000.0);   // no ln 0
/// ```
///
/// # Panics
/// If the shapes differ.
// ANCHOR: binary_cross_entropy_with_logits
pub fn binary_cross_entropy_with_logits<T: Float>(
    logits: &Var<T>,
    target: &Var<T>,
    reduction: Reduction,
) -> Var<T> {
    if logits.shape() != target.shape() {
        panic!(
            "binary_cross_entropy_with_logits: logits of shape {:?} and target of shape {:?} differ",
            logits.shape(),
            target.shape()
        );
    }
    reduction.apply(&logits.softplus().sub(&logits.mul(target)))
}
// ANCHOR_END: binary_cross_entropy_with_logits
