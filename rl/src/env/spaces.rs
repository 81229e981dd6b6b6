//! Observation and action spaces, as Gymnasium's `Discrete(n)` and `Box(low, high)`.
//!
//! A `Discrete(n)` space is the set `{0, 1, …, n−1}`. A `Box` is the product of intervals
//! `[low_i, high_i]` in `f32` (bounds may be infinite), Gymnasium's `Box(..., dtype=float32)`.

use rand::RngExt;

/// Bounds of a `Box` space: the product of intervals `[low[i], high[i]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct BoxSpace {
    /// Lower bound of each component (may be `-inf`).
    pub low: Vec<f32>,
    /// Upper bound of each component (may be `+inf`).
    pub high: Vec<f32>,
}

impl BoxSpace {
    /// A box from its bounds; panics if their lengths differ or `low > high` somewhere.
    ///
    /// ```
    /// use wengert_rl::env::BoxSpace;
    /// let torque = BoxSpace::new(vec![-2.0], vec![2.0]);
    /// assert_eq!(torque.clip(&[3.5]), vec![2.0]);
    /// ```
    pub fn new(low: Vec<f32>, high: Vec<f32>) -> Self {
        assert_eq!(
            low.len(),
            high.len(),
            "BoxSpace::new: low has {} bounds but high has {}",
            low.len(),
            high.len()
        );
        assert!(
            low.iter().zip(&high).all(|(l, h)| l <= h),
            "BoxSpace::new: low {low:?} exceeds high {high:?}"
        );
        BoxSpace { low, high }
    }

    /// A box with the same bounds `[-bound_i, bound_i]` on each side.
    ///
    /// ```
    /// use wengert_rl::env::BoxSpace;
    /// assert_eq!(BoxSpace::symmetric(&[1.0, 8.0]).low, vec![-1.0, -8.0]);
    /// ```
    pub fn symmetric(high: &[f32]) -> Self {
        BoxSpace::new(high.iter().map(|h| -h).collect(), high.to_vec())
    }

    /// `x` clipped component-wise into the box, as `np.clip(x, low, high)`.
    ///
    /// ```
    /// use wengert_rl::env::BoxSpace;
    /// let space = BoxSpace::new(vec![-1.0, 0.0], vec![1.0, 1.0]);
    /// assert_eq!(space.clip(&[-3.0, 0.5]), vec![-1.0, 0.5]);
    /// ```
    pub fn clip(&self, x: &[f32]) -> Vec<f32> {
        x.iter()
            .zip(self.low.iter().zip(&self.high))
            .map(|(x, (low, high))| x.max(*low).min(*high))
            .collect()
    }
}

/// A space: the set an observation or an action lies in.
#[derive(Clone, Debug, PartialEq)]
pub enum Space {
    /// `{0, 1, …, n−1}`.
    Discrete {
        /// Number of elements.
        n: usize,
    },
    /// A product of `f32` intervals.
    Box(BoxSpace),
}

impl Space {
    /// Length of an observation or continuous action vector: 1 for `Discrete` (the index).
    ///
    /// ```
    /// use wengert_rl::env::{BoxSpace, Space};
    /// assert_eq!(Space::Discrete { n: 16 }.dim(), 1);
    /// assert_eq!(Space::Box(BoxSpace::symmetric(&[1.0, 1.0, 8.0])).dim(), 3);
    /// ```
    pub fn dim(&self) -> usize {
        match self {
            Space::Discrete { .. } => 1,
            Space::Box(bounds) => bounds.low.len(),
        }
    }

    /// Whether an observation lies in the space (for `Discrete`, a single whole number `< n`).
    ///
    /// ```
    /// use wengert_rl::env::Space;
    /// let cells = Space::Discrete { n: 16 };
    /// assert!(cells.contains_observation(&[15.0]));
    /// assert!(!cells.contains_observation(&[16.0]));
    /// ```
    pub fn contains_observation(&self, x: &[f32]) -> bool {
        match self {
            Space::Discrete { n } => {
                x.len() == 1 && x[0] >= 0.0 && x[0].fract() == 0.0 && (x[0] as usize) < *n
            }
            Space::Box(bounds) => {
                x.len() == bounds.low.len()
                    && x.iter()
                        .zip(bounds.low.iter().zip(&bounds.high))
                        .all(|(x, (l, h))| l <= x && x <= h)
            }
        }
    }

    /// Draws a uniform sample, as `space.sample()`: uniform over `{0..n}`, uniform in a bounded
    /// box. Unbounded components are drawn from a standard normal (shifted exponential when
    /// bounded on one side), as in Gymnasium.
    ///
    /// ```
    /// use rand::SeedableRng;
    /// use wengert_rl::env::{BoxSpace, Space};
    /// let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(0);
    /// let space = Space::Box(BoxSpace::symmetric(&[2.0]));
    /// let sample = space.sample(&mut rng);
    /// assert!(space.contains_observation(&sample));
    /// ```
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> Vec<f32> {
        match self {
            Space::Discrete { n } => vec![rng.random_range(0..*n) as f32],
            Space::Box(bounds) => bounds
                .low
                .iter()
                .zip(&bounds.high)
                .map(|(&low, &high)| match (low.is_finite(), high.is_finite()) {
                    (true, true) => low + (high - low) * rng.random::<f32>(),
                    (true, false) => low + exponential(rng),
                    (false, true) => high - exponential(rng),
                    (false, false) => standard_normal(rng),
                })
                .collect(),
        }
    }
}

fn exponential<R: rand::Rng + ?Sized>(rng: &mut R) -> f32 {
    -(1.0 - rng.random::<f32>()).ln()
}

/// Box–Muller.
fn standard_normal<R: rand::Rng + ?Sized>(rng: &mut R) -> f32 {
    let u1: f32 = 1.0 - rng.random::<f32>();
    let u2: f32 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f32::consts::PI * u2).cos()
}

impl std::fmt::Display for Space {
    /// Gymnasium's repr: `Discrete(2)`, `Box([-2.0], [2.0], (1,), float32)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Space::Discrete { n } => write!(f, "Discrete({n})"),
            Space::Box(bounds) => write!(
                f,
                "Box({:?}, {:?}, ({},), float32)",
                bounds.low,
                bounds.high,
                bounds.low.len()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn describes_itself_like_gymnasium() {
        assert_eq!(Space::Discrete { n: 3 }.to_string(), "Discrete(3)");
        assert_eq!(
            Space::Box(BoxSpace::symmetric(&[2.0])).to_string(),
            "Box([-2.0], [2.0], (1,), float32)"
        );
    }

    #[test]
    fn samples_cover_the_space_and_stay_inside() {
        let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(3);
        let discrete = Space::Discrete { n: 3 };
        let mut seen = [false; 3];
        for _ in 0..100 {
            seen[discrete.sample(&mut rng)[0] as usize] = true;
        }
        assert_eq!(seen, [true; 3]);
        let mixed = Space::Box(BoxSpace::new(
            vec![-1.0, f32::NEG_INFINITY],
            vec![1.0, f32::INFINITY],
        ));
        for _ in 0..100 {
            assert!(mixed.contains_observation(&mixed.sample(&mut rng)));
        }
    }

    #[test]
    #[should_panic(expected = "exceeds high")]
    fn inverted_bounds_are_refused() {
        BoxSpace::new(vec![1.0], vec![0.0]);
    }
}
