//! Exploration and step-size schedules for tabular TD control.
//!
//! - ε-greedy exploration: with probability `ε` a uniformly random action, otherwise a greedy
//!   one (ties broken uniformly at random). `ε` decays linearly from `start` to `end` over
//!   `decay_episodes` episodes, then stays at `end`.
//! - Step sizes `α`: constant, or `α = 1 / n(s, a)^ω` where `n(s, a)` counts updates of the
//!   pair; for `ω ∈ (½, 1]` this satisfies the Robbins–Monro conditions `Σ α = ∞`, `Σ α² < ∞`
//!   that the convergence proofs of Q-learning and SARSA require.

/// ε of ε-greedy exploration, decaying linearly over episodes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exploration {
    /// ε in the first episode.
    pub start: f64,
    /// ε from `decay_episodes` on.
    pub end: f64,
    /// Episodes over which ε goes from `start` to `end`.
    pub decay_episodes: usize,
}

impl Exploration {
    /// ε in episode `episode` (counted from 0).
    ///
    /// ```
    /// use wengert_rl::tabular::Exploration;
    /// let schedule = Exploration { start: 1.0, end: 0.1, decay_episodes: 10 };
    /// assert_eq!(schedule.epsilon(0), 1.0);
    /// assert!((schedule.epsilon(5) - 0.55).abs() < 1e-12);
    /// assert_eq!(schedule.epsilon(50), 0.1);
    /// ```
    pub fn epsilon(&self, episode: usize) -> f64 {
        if episode >= self.decay_episodes {
            return self.end;
        }
        let fraction = episode as f64 / self.decay_episodes as f64;
        self.start + fraction * (self.end - self.start)
    }
}

/// The TD step size `α`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum StepSize {
    /// `α` fixed.
    Constant(f64),
    /// `α = 1 / n(s, a)^ω`, `n(s, a)` the number of updates of the pair so far (this one
    /// included).
    PolynomialVisits {
        /// `ω`, in `(½, 1]` for convergence.
        power: f64,
    },
}

impl StepSize {
    /// `α` for the `visits`-th update of a pair (`visits ≥ 1`).
    ///
    /// ```
    /// use wengert_rl::tabular::StepSize;
    /// assert_eq!(StepSize::Constant(0.1).alpha(7), 0.1);
    /// assert_eq!(StepSize::PolynomialVisits { power: 1.0 }.alpha(4), 0.25); // sample mean
    /// ```
    pub fn alpha(&self, visits: usize) -> f64 {
        match *self {
            StepSize::Constant(alpha) => alpha,
            StepSize::PolynomialVisits { power } => (visits.max(1) as f64).powf(-power),
        }
    }
}
