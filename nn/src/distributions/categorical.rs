//! The categorical distribution from logits, classes on the last axis.
//!
//! * probabilities: $p = \operatorname{softmax}(z)$, $\ln p_c = z_c - \ln \sum_k e^{z_k}$ (the
//!   log-sum-exp taken stably);
//! * entropy: $H = -\sum_c p_c \ln p_c$;
//! * KL: $\mathrm{KL}(p \Vert q) = \sum_c p_c (\ln p_c - \ln q_c)$;
//! * sample: by inverting the cumulative distribution at $U \sim \mathcal U[0, 1)$; mode:
//!   $\arg\max_c z_c$.
//!
//! As in PyTorch, `ln p` is clamped at the most negative finite number inside the entropy and
//! the KL, so that a class of probability 0 (logit −∞) contributes `0 · ln 0 = 0`, not NaN.

use autograd::{Float, Tensor, Var};
use ndarray::{ArrayD, IxDyn};
use rand::{Rng, RngExt};

/// A categorical distribution over `C` classes per batch row, from logits of shape `(…, C)`.
///
/// ```
/// use autograd::prelude::*;
/// use wengert_nn::distributions::Categorical;
/// let pi = Categorical::new(&Var::constant(ndarray::array![[0.0, 0.0], [1.0, 3.0]]));
/// let log_p = pi.log_prob(&[1, 1]);
/// assert_eq!(log_p.shape(), &[2]);
/// assert!((log_p.value()[0] + 2f64.ln()).abs() < 1e-15);
/// assert_eq!(pi.mode(), vec![0, 1]);
/// ```
#[derive(Clone, Debug)]
pub struct Categorical<T: Float> {
    logits: Var<T>,
    log_probs: Var<T>,
}

impl<T: Float> Categorical<T> {
    /// The distribution `softmax(logits)` along the last axis.
    ///
    /// # Panics
    /// If `logits` has no axis or no classes.
    pub fn new(logits: &Var<T>) -> Self {
        if logits.ndim() == 0 || logits.shape()[logits.ndim() - 1] == 0 {
            panic!(
                "Categorical::new: logits need a non-empty class axis, found shape {:?}",
                logits.shape()
            );
        }
        Categorical {
            logits: logits.clone(),
            log_probs: logits.log_softmax(-1),
        }
    }

    /// The logits as given.
    pub fn logits(&self) -> &Var<T> {
        &self.logits
    }

    /// The normalised log-probabilities `ln p = log_softmax(z)`.
    pub fn log_probs(&self) -> &Var<T> {
        &self.log_probs
    }

    /// The probabilities `p = softmax(z)`.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::Categorical;
    /// let p = Categorical::new(&Var::constant(ndarray::array![0.0, 2f64.ln()])).probs();
    /// assert!((p.value()[1] - 2.0 / 3.0).abs() < 1e-15);
    /// ```
    pub fn probs(&self) -> Var<T> {
        self.log_probs.exp()
    }

    /// The number of classes `C`.
    pub fn num_classes(&self) -> usize {
        self.logits.shape()[self.logits.ndim() - 1]
    }

    /// The batch shape (the logits' shape without the class axis).
    pub fn batch_shape(&self) -> &[usize] {
        &self.logits.shape()[..self.logits.ndim() - 1]
    }

    fn batch_size(&self) -> usize {
        self.batch_shape().iter().product()
    }

    /// `ln p_a` for one class per batch row (row-major order), shaped like the batch.
    ///
    /// # Panics
    /// If there is not one class per row, or a class is out of range.
    pub fn log_prob(&self, classes: &[usize]) -> Var<T> {
        let (rows, c) = (self.batch_size(), self.num_classes());
        if classes.len() != rows {
            panic!(
                "Categorical::log_prob: {} classes for a batch of shape {:?}",
                classes.len(),
                self.batch_shape()
            );
        }
        let index = ArrayD::from_shape_vec(IxDyn(&[rows, 1]), classes.to_vec()).unwrap();
        self.log_probs
            .reshape(&[rows, c])
            .gather(1, &index)
            .reshape(self.batch_shape())
    }

    /// `ln p` clamped at the most negative finite number (see the module documentation).
    fn finite_log_probs(&self) -> Var<T> {
        self.log_probs.clamp(T::min_value(), T::max_value())
    }

    /// `H = −Σ_c p_c ln p_c`, shaped like the batch.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::Categorical;
    /// let uniform = Categorical::new(&Var::constant(ndarray::array![1.0, 1.0, 1.0, 1.0]));
    /// assert!((uniform.entropy().item() - 4f64.ln()).abs() < 1e-15);
    /// let certain = Categorical::new(&Var::constant(ndarray::array![0.0, f64::NEG_INFINITY]));
    /// assert_eq!(certain.entropy().item(), 0.0);
    /// ```
    pub fn entropy(&self) -> Var<T> {
        self.probs()
            .mul(&self.finite_log_probs())
            .sum(&[-1], false)
            .neg()
    }

    /// `KL(self ‖ other) = Σ_c p_c (ln p_c − ln q_c)`, shaped like the batch.
    ///
    /// ```
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::Categorical;
    /// let p = Categorical::new(&Var::constant(ndarray::array![0.0, 0.0]));
    /// let q = Categorical::new(&Var::constant(ndarray::array![0.0, 3f64.ln()])); // (¼, ¾)
    /// let expected = 0.5 * (0.5f64 / 0.25).ln() + 0.5 * (0.5f64 / 0.75).ln();
    /// assert!((p.kl(&q).item() - expected).abs() < 1e-15);
    /// ```
    ///
    /// # Panics
    /// If the two distributions' logits differ in shape.
    pub fn kl(&self, other: &Self) -> Var<T> {
        if self.logits.shape() != other.logits.shape() {
            panic!(
                "Categorical::kl: logits of shapes {:?} and {:?} differ",
                self.logits.shape(),
                other.logits.shape()
            );
        }
        self.probs()
            .mul(&self.finite_log_probs().sub(&other.finite_log_probs()))
            .sum(&[-1], false)
    }

    /// One class per batch row (row-major order), drawn by inverting the cumulative
    /// distribution; not differentiable.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use autograd::prelude::*;
    /// use wengert_nn::distributions::Categorical;
    /// let pi = Categorical::new(&Var::constant(ndarray::array![[0.0, f64::NEG_INFINITY], [f64::NEG_INFINITY, 0.0]]));
    /// assert_eq!(pi.sample(&mut rand::rngs::StdRng::seed_from_u64(0)), vec![0, 1]);
    /// ```
    pub fn sample(&self, rng: &mut (impl Rng + ?Sized)) -> Vec<usize> {
        let (rows, c) = (self.batch_size(), self.num_classes());
        let p = self.log_probs.value().mapv(|l| l.exp().as_f64());
        let p = p.to_shape((rows, c)).unwrap();
        p.rows()
            .into_iter()
            .map(|row| {
                let u: f64 = rng.random::<f64>();
                let mut cumulative = 0.0;
                for (class, &p_c) in row.iter().enumerate() {
                    cumulative += p_c;
                    if u < cumulative {
                        return class;
                    }
                }
                // Rounding left the total below u: take the last class with mass.
                row.iter().rposition(|&p_c| p_c > 0.0).unwrap_or(c - 1)
            })
            .collect()
    }

    /// The most likely class per batch row (the first, on ties).
    pub fn mode(&self) -> Vec<usize> {
        let (rows, c) = (self.batch_size(), self.num_classes());
        let z = self.logits.value().to_shape((rows, c)).unwrap().to_owned();
        z.rows()
            .into_iter()
            .map(|row| {
                let mut best = 0;
                for (class, &value) in row.iter().enumerate() {
                    if value > row[best] {
                        best = class;
                    }
                }
                best
            })
            .collect()
    }
}
