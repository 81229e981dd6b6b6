//! # Invertible value rescaling (R2D2, Ape-X DQfD)
//!
//! ## Background
//! Clipping rewards to `[−1, 1]` lets one set of hyperparameters serve games whose scores differ
//! by orders of magnitude, but it changes the task. Pohlen et al. (2018, "Observe and Look
//! Further", Prop. A.2) instead learn the Q-function in a squashed space: the network outputs
//! `h(Q)`, and the n-step target is formed through `h⁻¹`. R2D2 (Kapturowski et al., 2019) uses
//! the same rescaling with `ε = 10⁻³` ([`EPSILON`]).
//!
//! ## Key equations
//! $$ h(x) = \operatorname{sign}(x) \big( \sqrt{|x| + 1} - 1 \big) + \varepsilon x , $$
//! $$ h^{-1}(x) = \operatorname{sign}(x) \bigg( \Big( \frac{\sqrt{1 + 4\varepsilon(|x| + 1 + \varepsilon)} - 1}{2\varepsilon} \Big)^2 - 1 \bigg) , $$
//!
//! and the n-step target
//!
//! $$ \hat y_t = h\Big( \sum_{k=0}^{n-1} \gamma^k r_{t+k} + \gamma^n h^{-1}\big( Q_{\text{target}}(s_{t+n}, a^\star) \big) \Big) . $$
//!
//! `h` is odd, strictly increasing (`h'(x) = 1 / (2√(|x| + 1)) + ε > 0`), grows like `√|x|`, and
//! is Lipschitz near 0; the `εx` term keeps `h⁻¹` Lipschitz, which the contraction argument of the
//! paper needs.
//!
//! ## How it is computed
//! The two forms above lose digits to cancellation: `√(|x| + 1) − 1` for small `|x|`, and
//! `(√(1 + 4ε(…)) − 1) / (2ε)` by a factor `1/(4ε(|x| + 1))` everywhere — about 250 for
//! `ε = 10⁻³`, which in `f32` leaves four correct digits. Multiplying by the conjugates gives the
//! same functions without any subtraction of nearly equal numbers:
//!
//! $$ h(x) = \frac{x}{\sqrt{|x| + 1} + 1} + \varepsilon x , \qquad
//!    h^{-1}(x) = \operatorname{sign}(x)\, w (w + 2) , \quad
//!    w = \frac{2|x|}{1 + 2\varepsilon + \sqrt{1 + 4\varepsilon(|x| + 1 + \varepsilon)}} . $$
//!
//! (With `u = √(|h⁻¹(x)| + 1)`, the first form's bracket is `u`, and `w = u − 1` is the stable
//! root of `εw² + (1 + 2ε)w − |x| = 0`; then `u² − 1 = w(w + 2)`.) They are exact inverses of
//! each other up to a few units of round-off for every finite `x` and every `ε ≥ 0`; `ε = 0` is
//! allowed (then `h⁻¹(x) = sign(x)((|x| + 1)² − 1)`).
//!
//! The R2D2 loss applies `h⁻¹` and `h` to the target only, which carries no gradient, so these
//! are plain scalar functions, generic over the [`Float`] type.

use autograd::Float;

/// R2D2's `ε`.
pub const EPSILON: f64 = 1e-3;

/// `h(x) = sign(x)(√(|x| + 1) − 1) + εx`, computed as `x / (√(|x| + 1) + 1) + εx`.
///
/// ```
/// use wengert_rl::value_rescaling::{EPSILON, h};
/// assert_eq!(h(0.0, EPSILON), 0.0);
/// assert!((h(3.0, EPSILON) - (1.0 + 3e-3)).abs() < 1e-15); // √4 − 1 + 3ε
/// assert_eq!(h(-3.0_f32, 1e-3), -h(3.0_f32, 1e-3)); // odd
/// ```
pub fn h<T: Float>(x: T, epsilon: T) -> T {
    let one = T::one();
    x / ((x.abs() + one).sqrt() + one) + epsilon * x
}

/// `h⁻¹(x) = sign(x)(((√(1 + 4ε(|x| + 1 + ε)) − 1)/(2ε))² − 1)`, computed as `sign(x) w(w + 2)`
/// with `w = 2|x| / (1 + 2ε + √(1 + 4ε(|x| + 1 + ε)))` (see the module doc).
///
/// ```
/// use wengert_rl::value_rescaling::{EPSILON, h, h_inverse};
/// let q = -1234.5;
/// assert!((h_inverse(h(q, EPSILON), EPSILON) - q).abs() < 1e-12 * q.abs());
/// assert_eq!(h_inverse(1.0, 0.0), 3.0); // ε = 0: (|x| + 1)² − 1
/// ```
pub fn h_inverse<T: Float>(x: T, epsilon: T) -> T {
    let one = T::one();
    let two = one + one;
    let four = two + two;
    let radicand = one + four * epsilon * (x.abs() + one + epsilon);
    let w = two * x.abs() / (one + two * epsilon + radicand.sqrt());
    let magnitude = w * (w + two);
    if x < T::zero() { -magnitude } else { magnitude }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook forms, for comparison.
    fn h_naive(x: f64, e: f64) -> f64 {
        x.signum() * ((x.abs() + 1.0).sqrt() - 1.0) + e * x
    }
    fn h_inverse_naive(x: f64, e: f64) -> f64 {
        let u = ((1.0 + 4.0 * e * (x.abs() + 1.0 + e)).sqrt() - 1.0) / (2.0 * e);
        x.signum() * (u * u - 1.0)
    }

    #[test]
    fn the_stable_forms_equal_the_textbook_ones() {
        for x in [-1e6, -77.0, -1.5, -0.3, 0.2, 1.0, 9.0, 4e4, 3e7] {
            for e in [1e-3, 1e-2, 0.1] {
                let (a, b) = (h(x, e), h_naive(x, e));
                assert!((a - b).abs() <= 1e-13 * b.abs(), "h({x}, {e}): {a} vs {b}");
                let (a, b) = (h_inverse(x, e), h_inverse_naive(x, e));
                assert!(
                    (a - b).abs() <= 1e-11 * b.abs(),
                    "h⁻¹({x}, {e}): {a} vs {b}"
                );
            }
        }
    }
}
