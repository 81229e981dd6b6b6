//! Constraints of a trajectory problem, their multipliers, and the augmented-Lagrangian terms
//! that the solvers add to the cost.
//!
//! ```text
//! h(x_t, u_t) = 0      path equality,     p rows     (multipliers λ_t)
//! g(x_t, u_t) ≤ 0      path inequality,   q rows     (multipliers μ_t ≥ 0), incl. control bounds
//! h_T(x_N) = 0         terminal equality, p_T rows   (multipliers λ_T), e.g. x_N − x_goal
//! ```
//!
//! Like the costs of [`crate::ilqr::Problem`], the constraints are closures on autograd
//! variables over a batch of columns (`[n, B]`, `[m, B]` to `[p, B]`), so their Jacobians and
//! curvature come from autograd wherever a solver differentiates a cost that contains them.
//!
//! The terms added to the cost at a constrained knot are the Powell–Hestenes–Rockafellar
//! augmented Lagrangian (Rockafellar 1973; Nocedal & Wright 2006, §17.4):
//!
//! ```text
//! φ_ρ(h; λ) = λᵀ h + ρ/2 ‖h‖²
//! ψ_ρ(g; μ) = 1/(2ρ) (‖max(0, μ + ρ g)‖² − ‖μ‖²)        (→ μᵀ g as ρ → 0)
//! ```
//!
//! Both are continuously differentiable, with gradients `(λ + ρ h)ᵀ ∇h` and
//! `max(0, μ + ρ g)ᵀ ∇g`: the gradient of the augmented Lagrangian at multipliers `(λ, μ)` is
//! the gradient of the ordinary Lagrangian at the *updated* multipliers
//!
//! ```text
//! λ ← λ + ρ h,   μ ← max(0, μ + ρ g),
//! ```
//!
//! which is why that is the multiplier update ([`Multipliers::ascend`]). With `ρ = 0` the terms
//! are the Lagrangian's own `λᵀ h + μᵀ g`, which is what dual gradient descent minimises.
#![allow(non_snake_case)]

use crate::ilqr::problem::{as_column, to_matrix};
use autograd::{Tensor, Var};
use ndarray::{Array1, Array2, ArrayView1, Axis};
use std::fmt;
use std::sync::Arc;

/// A path constraint `c(x, u)` on a batch of columns (`[n, B]`, `[m, B]` to `[rows, B]`).
pub type PathConstraint = Arc<dyn Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync>;
/// A terminal constraint `h_T(x)` on a batch of columns (`[n, B]` to `[rows, B]`).
pub type TerminalConstraint = Arc<dyn Fn(&Var<f64>) -> Var<f64> + Send + Sync>;

/// The constraints `h = 0`, `g ≤ 0` on every knot `(x_t, u_t)` and `h_T(x_N) = 0`.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::constrained::Constraints;
///
/// // A disc of radius 0.25 around (0.5, 0) to stay out of, |u| ≤ 1, and x_N = (1, 0).
/// let constraints = Constraints::new(2, 1)
///     .with_inequality(|x, _| {
///         let dx = x.slice(0, 0, 1) - 0.5;
///         let dy = x.slice(0, 1, 2);
///         (dx.powi(2) + dy.powi(2)).sqrt() * -1.0 + 0.25
///     })
///     .with_control_bounds(array![-1.0], array![1.0])
///     .with_goal(array![1.0, 0.0]);
/// assert_eq!((constraints.p, constraints.q, constraints.p_T), (0, 3, 2));
/// let x = array![[0.5, 0.0], [0.5, 0.0], [1.0, 0.0]]; // x_0, x_1 and x_N = x_2
/// let u = array![[2.0], [0.0]];
/// let values = constraints.evaluate(&x, &u);
/// assert_eq!(values.g.row(0).to_vec(), vec![0.25, -3.0, 1.0]);
/// assert_eq!(values.max_violation(), 1.0); // u_0 = 2 is 1 over its bound
/// ```
#[derive(Clone)]
pub struct Constraints {
    /// State dimension `n`.
    pub n: usize,
    /// Control dimension `m`.
    pub m: usize,
    /// Rows `p` of `h`.
    pub p: usize,
    /// Rows `q` of `g`.
    pub q: usize,
    /// Rows `p_T` of `h_T`.
    pub p_T: usize,
    /// `h(x, u)`, if `p > 0`.
    pub equality: Option<PathConstraint>,
    /// `g(x, u)`, if `q > 0`.
    pub inequality: Option<PathConstraint>,
    /// `h_T(x)`, if `p_T > 0`.
    pub terminal: Option<TerminalConstraint>,
}

impl fmt::Debug for Constraints {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Constraints")
            .field("n", &self.n)
            .field("m", &self.m)
            .field("p", &self.p)
            .field("q", &self.q)
            .field("p_T", &self.p_T)
            .finish_non_exhaustive()
    }
}

/// Rows of `c` on one zero column: the number of constraints it returns.
fn rows_of(what: &str, c: &Var<f64>) -> usize {
    assert!(
        c.ndim() == 2 && c.shape()[1] == 1,
        "{what}: returned shape {:?} for one column; constraints return [rows, B]",
        c.shape()
    );
    c.shape()[0]
}

/// Stacks two optional path constraints into one.
fn stack(first: Option<PathConstraint>, second: PathConstraint) -> PathConstraint {
    match first {
        None => second,
        Some(first) => Arc::new(move |x, u| Var::concat(&[&first(x, u), &second(x, u)], 0)),
    }
}

impl Constraints {
    /// No constraints on states of dimension `n` and controls of dimension `m`.
    ///
    /// ```
    /// use wengert_control::constrained::Constraints;
    /// let constraints = Constraints::new(4, 1);
    /// assert_eq!((constraints.p, constraints.q, constraints.p_T), (0, 0, 0));
    /// ```
    pub fn new(n: usize, m: usize) -> Self {
        Constraints {
            n,
            m,
            p: 0,
            q: 0,
            p_T: 0,
            equality: None,
            inequality: None,
            terminal: None,
        }
    }

    fn zero_knot(&self) -> (Var<f64>, Var<f64>) {
        (
            Var::constant(Array2::<f64>::zeros((self.n, 1))),
            Var::constant(Array2::<f64>::zeros((self.m, 1))),
        )
    }

    /// Adds the rows of `h(x, u) = 0` below any earlier ones.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use wengert_control::constrained::Constraints;
    /// // The first state equals the control.
    /// let constraints = Constraints::new(2, 1).with_equality(|x, u| x.slice(0, 0, 1) - u);
    /// assert_eq!(constraints.p, 1);
    /// ```
    pub fn with_equality(
        mut self,
        h: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        let (x, u) = self.zero_knot();
        self.p += rows_of("equality constraint", &h(&x, &u));
        self.equality = Some(stack(self.equality.take(), Arc::new(h)));
        self
    }

    /// Adds the rows of `g(x, u) ≤ 0` below any earlier ones.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use wengert_control::constrained::Constraints;
    /// // Position at most 2.
    /// let constraints = Constraints::new(2, 1).with_inequality(|x, _| x.slice(0, 0, 1) - 2.0);
    /// assert_eq!(constraints.q, 1);
    /// ```
    pub fn with_inequality(
        mut self,
        g: impl Fn(&Var<f64>, &Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        let (x, u) = self.zero_knot();
        self.q += rows_of("inequality constraint", &g(&x, &u));
        self.inequality = Some(stack(self.inequality.take(), Arc::new(g)));
        self
    }

    /// Adds `u_min − u ≤ 0` and `u − u_max ≤ 0` (`2m` inequality rows), as trajax writes
    /// control limits for `constrained_ilqr`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::constrained::Constraints;
    /// let constraints = Constraints::new(3, 2).with_control_bounds(array![-1.0, -2.0], array![1.0, 2.0]);
    /// assert_eq!(constraints.q, 4);
    /// ```
    pub fn with_control_bounds(self, u_min: Array1<f64>, u_max: Array1<f64>) -> Self {
        assert!(
            u_min.len() == self.m && u_max.len() == self.m,
            "with_control_bounds: bounds of lengths {} and {} for m = {}",
            u_min.len(),
            u_max.len(),
            self.m
        );
        let (lower, upper) = (as_column(&u_min), as_column(&u_max));
        self.with_inequality(move |_, u| {
            let below = &Var::constant(lower.clone()) - u;
            let above = u - &Var::constant(upper.clone());
            Var::concat(&[&below, &above], 0)
        })
    }

    /// Adds the rows of `h_T(x_N) = 0` below any earlier ones.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use wengert_control::constrained::Constraints;
    /// // End at rest: the velocity is zero.
    /// let constraints = Constraints::new(2, 1).with_terminal_equality(|x| x.slice(0, 1, 2));
    /// assert_eq!(constraints.p_T, 1);
    /// ```
    pub fn with_terminal_equality(
        mut self,
        h_T: impl Fn(&Var<f64>) -> Var<f64> + Send + Sync + 'static,
    ) -> Self {
        let (x, _) = self.zero_knot();
        self.p_T += rows_of("terminal constraint", &h_T(&x));
        let h_T: TerminalConstraint = Arc::new(h_T);
        self.terminal = Some(match self.terminal.take() {
            None => h_T,
            Some(first) => Arc::new(move |x| Var::concat(&[&first(x), &h_T(x)], 0)),
        });
        self
    }

    /// Adds `x_N − x_goal = 0`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::constrained::Constraints;
    /// let constraints = Constraints::new(2, 1).with_goal(array![1.0, 0.0]);
    /// let values = constraints.evaluate(&array![[0.0, 0.0], [0.5, 0.0]], &array![[0.0]]);
    /// assert_eq!(values.h_T, array![-0.5, 0.0]);
    /// ```
    pub fn with_goal(self, x_goal: Array1<f64>) -> Self {
        assert_eq!(
            x_goal.len(),
            self.n,
            "with_goal: a goal of length {} for n = {}",
            x_goal.len(),
            self.n
        );
        let goal = as_column(&x_goal);
        self.with_terminal_equality(move |x| x - &Var::constant(goal.clone()))
    }

    /// The constraint values along a trajectory: the path constraints at the knots
    /// `(x_t, u_t)`, `t < K` (`K` = rows of `u`, all evaluated as one batch) and the terminal
    /// constraint at the last row of `x` (`x` has `N + 1 ≥ K` rows).
    pub fn evaluate(&self, x: &Array2<f64>, u: &Array2<f64>) -> ConstraintValues {
        let K = u.nrows();
        assert!(
            x.nrows() >= K && x.nrows() > 0,
            "Constraints::evaluate: {} states for {K} controls",
            x.nrows()
        );
        let x_knots = Var::constant(x.slice(ndarray::s![..K, ..]).t().to_owned());
        let u_knots = Var::constant(u.t().to_owned());
        let path = |c: &Option<PathConstraint>, rows: usize| match c {
            Some(c) if K > 0 => to_matrix(&c(&x_knots, &u_knots)).t().to_owned(),
            _ => Array2::zeros((K, rows)),
        };
        let h_T = match &self.terminal {
            Some(h_T) => {
                let x_N = as_column(&x.row(x.nrows() - 1).to_owned());
                to_matrix(&h_T(&Var::constant(x_N))).column(0).to_owned()
            }
            None => Array1::zeros(0),
        };
        ConstraintValues {
            h: path(&self.equality, self.p),
            g: path(&self.inequality, self.q),
            h_T,
        }
    }

    /// `φ_ρ(h(x, u); λ_t) + ψ_ρ(g(x, u); μ_t)` for each column (`[B]`), the terms a constrained
    /// knot adds to the running cost.
    ///
    /// ```
    /// use autograd::{Tensor, Var};
    /// use ndarray::array;
    /// use wengert_control::constrained::Constraints;
    ///
    /// let constraints = Constraints::new(1, 1)
    ///     .with_equality(|x, u| x - u)
    ///     .with_inequality(|_, u| u - 1.0);
    /// let (x, u) = (Var::constant(array![[3.0]]), Var::constant(array![[2.0]]));
    /// // h = 1, g = 1: λ h + ρ/2 h² + (max(0, μ + ρ g)² − μ²) / (2ρ) with λ = 0.5, μ = 1, ρ = 2.
    /// let terms = constraints.knot_terms(&x, &u, array![0.5].view(), array![1.0].view(), 2.0);
    /// assert_eq!(terms.value().as_slice().unwrap(), &[0.5 + 1.0 + (9.0 - 1.0) / 4.0]);
    /// // With ρ = 0 they are the Lagrangian's λ h + μ g.
    /// let terms = constraints.knot_terms(&x, &u, array![0.5].view(), array![1.0].view(), 0.0);
    /// assert_eq!(terms.value().as_slice().unwrap(), &[1.5]);
    /// ```
    pub fn knot_terms(
        &self,
        x: &Var<f64>,
        u: &Var<f64>,
        lambda: ArrayView1<f64>,
        mu: ArrayView1<f64>,
        rho: f64,
    ) -> Var<f64> {
        let B = x.shape()[1];
        let mut terms = Var::constant(Array1::<f64>::zeros(B));
        if let Some(h) = &self.equality {
            terms = terms + equality_terms(&h(x, u), lambda, rho);
        }
        if let Some(g) = &self.inequality {
            terms = terms + inequality_terms(&g(x, u), mu, rho);
        }
        terms
    }

    /// `φ_ρ(h_T(x); λ_T)` for each column (`[B]`): the terms added to the terminal cost.
    ///
    /// ```
    /// use autograd::{Tensor, Var};
    /// use ndarray::array;
    /// use wengert_control::constrained::Constraints;
    ///
    /// let constraints = Constraints::new(2, 1).with_goal(array![1.0, 0.0]);
    /// let x = Var::constant(array![[3.0], [1.0]]); // h_T = (2, 1)
    /// let terms = constraints.terminal_terms(&x, array![1.0, -1.0].view(), 10.0);
    /// assert_eq!(terms.value().as_slice().unwrap(), &[1.0 + 5.0 * 5.0]);
    /// ```
    pub fn terminal_terms(&self, x: &Var<f64>, lambda_T: ArrayView1<f64>, rho: f64) -> Var<f64> {
        match &self.terminal {
            Some(h_T) => equality_terms(&h_T(x), lambda_T, rho),
            None => Var::constant(Array1::<f64>::zeros(x.shape()[1])),
        }
    }
}

// ANCHOR: penalty_terms
/// `λᵀ h + ρ/2 ‖h‖²` per column.
pub(crate) fn equality_terms(h: &Var<f64>, lambda: ArrayView1<f64>, rho: f64) -> Var<f64> {
    let lambda = Var::constant(as_column(&lambda.to_owned()));
    (h * &lambda + h.powi(2) * (0.5 * rho)).sum(&[0], false)
}

/// `(‖max(0, μ + ρ g)‖² − ‖μ‖²) / (2ρ)` per column, or `μᵀ g` when `ρ = 0`.
fn inequality_terms(g: &Var<f64>, mu: ArrayView1<f64>, rho: f64) -> Var<f64> {
    let mu_column = Var::constant(as_column(&mu.to_owned()));
    if rho == 0.0 {
        return (g * &mu_column).sum(&[0], false);
    }
    let shifted = (g * rho + &mu_column).relu();
    (shifted.powi(2).sum(&[0], false) - mu.dot(&mu)) * (0.5 / rho)
}
// ANCHOR_END: penalty_terms

/// Constraint values along a trajectory: row `t` of `h` and `g` is knot `t`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintValues {
    /// `h(x_t, u_t)`, `K × p`.
    pub h: Array2<f64>,
    /// `g(x_t, u_t)`, `K × q`.
    pub g: Array2<f64>,
    /// `h_T(x_N)`, length `p_T`.
    pub h_T: Array1<f64>,
}

impl ConstraintValues {
    /// `max(‖h‖_∞, max(0, max g), ‖h_T‖_∞)`: zero exactly when the trajectory is feasible.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::constrained::ConstraintValues;
    /// let values = ConstraintValues { h: array![[0.1], [-0.3]], g: array![[-5.0], [0.2]], h_T: array![0.0] };
    /// assert_eq!(values.max_violation(), 0.3);
    /// ```
    pub fn max_violation(&self) -> f64 {
        let h = self.h.iter().chain(&self.h_T).map(|h| h.abs());
        let g = self.g.iter().map(|g| g.max(0.0));
        h.chain(g).fold(0.0, f64::max)
    }

    /// `max_i |min(−g_i, μ_i)|`: zero exactly when `g ≤ 0`, `μ ≥ 0` and `μ_i g_i = 0`.
    ///
    /// ```
    /// use ndarray::array;
    /// use wengert_control::constrained::ConstraintValues;
    /// let values = ConstraintValues { h: array![[]], g: array![[-0.5, 0.0]], h_T: array![] };
    /// assert_eq!(values.complementarity(&array![[0.1, 3.0]]), 0.1);
    /// ```
    pub fn complementarity(&self, mu: &Array2<f64>) -> f64 {
        self.g
            .iter()
            .zip(mu)
            .map(|(g, mu)| (-g).min(*mu).abs())
            .fold(0.0, f64::max)
    }
}

/// Lagrange multipliers: `λ_t` of `h`, `μ_t ≥ 0` of `g` (row `t` = knot `t`) and `λ_T` of `h_T`.
///
/// ```
/// use ndarray::array;
/// use wengert_control::constrained::{ConstraintValues, Multipliers};
///
/// let mut multipliers = Multipliers::zeros(2, 1, 1, 1);
/// let values = ConstraintValues { h: array![[1.0], [-1.0]], g: array![[0.5], [-3.0]], h_T: array![2.0] };
/// multipliers.ascend(&values, 10.0);
/// assert_eq!(multipliers.lambda, array![[10.0], [-10.0]]);
/// assert_eq!(multipliers.mu, array![[5.0], [0.0]]); // projected onto μ ≥ 0
/// assert_eq!(multipliers.lambda_T, array![20.0]);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Multipliers {
    /// `λ_t`, `K × p`.
    pub lambda: Array2<f64>,
    /// `μ_t`, `K × q`.
    pub mu: Array2<f64>,
    /// `λ_T`, length `p_T`.
    pub lambda_T: Array1<f64>,
}

impl Multipliers {
    /// All zero, for `K` knots.
    pub fn zeros(K: usize, p: usize, q: usize, p_T: usize) -> Self {
        Multipliers {
            lambda: Array2::zeros((K, p)),
            mu: Array2::zeros((K, q)),
            lambda_T: Array1::zeros(p_T),
        }
    }

    /// All zero, shaped for `constraints` on `K` knots.
    pub fn for_constraints(constraints: &Constraints, K: usize) -> Self {
        Multipliers::zeros(K, constraints.p, constraints.q, constraints.p_T)
    }

    // ANCHOR: multiplier_ascent
    /// A projected gradient-ascent step on the dual function:
    /// `λ ← λ + α h`, `μ ← max(0, μ + α g)`, `λ_T ← λ_T + α h_T`.
    pub fn ascend(&mut self, values: &ConstraintValues, alpha: f64) {
        self.lambda.scaled_add(alpha, &values.h);
        self.mu.scaled_add(alpha, &values.g);
        self.mu.mapv_inplace(|mu| mu.max(0.0));
        self.lambda_T.scaled_add(alpha, &values.h_T);
    }
    // ANCHOR_END: multiplier_ascent

    /// `max |λ|, max μ, max |λ_T|` together: the size of the multipliers, for the logs.
    pub fn max_abs(&self) -> f64 {
        self.lambda
            .iter()
            .chain(&self.mu)
            .chain(&self.lambda_T)
            .fold(0.0, |a, b| a.max(b.abs()))
    }

    /// Row `t` of `λ` and of `μ`.
    pub(crate) fn at(&self, t: usize) -> (ArrayView1<'_, f64>, ArrayView1<'_, f64>) {
        (
            self.lambda.index_axis(Axis(0), t),
            self.mu.index_axis(Axis(0), t),
        )
    }
}
