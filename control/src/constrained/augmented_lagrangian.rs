//! Augmented-Lagrangian iLQR: iLQR on the augmented Lagrangian, with multiplier and penalty
//! updates in an outer loop (the module docs of [`crate::constrained`] give the math).
#![allow(non_snake_case)]

use super::constraints::{ConstraintValues, Constraints, Multipliers};
use crate::ilqr::{
    Ilqr, IlqrError, IlqrOptions, Problem, StepExpansion, Termination, projected_gradient_norm,
};
use autograd::Var;
use ndarray::{Array1, Array2};

/// The problem whose running cost at step `t` is `ℓ + φ_ρ(h; λ_t) + ψ_ρ(g; μ_t)` and whose
/// terminal cost is `ℓ_T + φ_ρ(h_T; λ_T)`: the augmented Lagrangian `L_ρ(u; λ, μ)` for
/// `ρ > 0`, the Lagrangian `L(u; λ, μ)` for `ρ = 0`. Its costs are closures on autograd
/// variables like any [`Problem`]'s, so iLQR differentiates the constraints with the costs.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::constrained::{Constraints, Multipliers, augmented_lagrangian_problem};
/// use wengert_control::ilqr::Problem;
///
/// let problem = Problem::new(1, 1, 2, |x, u| x + u,
///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let constraints = Constraints::new(1, 1).with_goal(array![1.0]);
/// let mut multipliers = Multipliers::for_constraints(&constraints, 2);
/// multipliers.lambda_T[0] = 3.0;
/// let lagrangian = augmented_lagrangian_problem(&problem, &constraints, &multipliers, 2.0);
/// // u = (0, 0) from x_0 = 0 ends at 0: h_T = −1, so L_ρ = 0 + 3·(−1) + ½·2·1.
/// assert_eq!(lagrangian.rollout(&array![0.0], &array![[0.0], [0.0]]).1, -2.0);
/// ```
pub fn augmented_lagrangian_problem(
    problem: &Problem,
    constraints: &Constraints,
    multipliers: &Multipliers,
    rho: f64,
) -> Problem {
    assert_eq!(
        multipliers.lambda.nrows(),
        problem.horizon,
        "augmented_lagrangian_problem: multipliers for {} knots, horizon {}",
        multipliers.lambda.nrows(),
        problem.horizon
    );
    let mut lagrangian = problem.clone();
    let (knot_constraints, knot_multipliers) = (constraints.clone(), multipliers.clone());
    let previous = problem.stage_cost.clone();
    lagrangian = lagrangian.with_stage_cost(move |t, x, u| {
        let (lambda_t, mu_t) = knot_multipliers.at(t);
        let terms = knot_constraints.knot_terms(x, u, lambda_t, mu_t, rho);
        match &previous {
            Some(stage_cost) => terms + stage_cost(t, x, u),
            None => terms,
        }
    });
    let terminal_cost = problem.terminal_cost.clone();
    let (terminal_constraints, lambda_T) = (constraints.clone(), multipliers.lambda_T.clone());
    lagrangian.terminal_cost = std::sync::Arc::new(move |x: &Var<f64>| {
        terminal_cost(x) + terminal_constraints.terminal_terms(x, lambda_T.view(), rho)
    });
    lagrangian
}

/// `max_t ‖∇_{u_t} L‖_∞` at `(x, u)`: the stationarity of the Lagrangian `L(u; λ, μ)` (through
/// the dynamics, by the costate recursion of [`crate::ilqr`]; components held at a bound of
/// the problem's own control box are left out).
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::constrained::{Constraints, Multipliers, lagrangian_stationarity};
/// use wengert_control::ilqr::Problem;
///
/// // min u² s.t. x_1 = x_0 + u = 1: u = 1 with λ_T = −2, where ∇_u L = 2u + λ_T = 0.
/// let problem = Problem::new(1, 1, 1, |x, u| x + u,
///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let constraints = Constraints::new(1, 1).with_goal(array![1.0]);
/// let mut multipliers = Multipliers::for_constraints(&constraints, 1);
/// multipliers.lambda_T[0] = -2.0;
/// let (x, u) = (array![[0.0], [1.0]], array![[1.0]]);
/// assert_eq!(lagrangian_stationarity(&problem, &constraints, &multipliers, &x, &u), 0.0);
/// ```
pub fn lagrangian_stationarity(
    problem: &Problem,
    constraints: &Constraints,
    multipliers: &Multipliers,
    x: &Array2<f64>,
    u: &Array2<f64>,
) -> f64 {
    let lagrangian = augmented_lagrangian_problem(problem, constraints, multipliers, 0.0);
    let N = problem.horizon;
    let steps: Vec<StepExpansion> = (0..N)
        .map(|t| lagrangian.expand(t, &x.row(t).to_owned(), &u.row(t).to_owned()))
        .collect();
    let terminal = lagrangian.expand_terminal(&x.row(N).to_owned());
    projected_gradient_norm(&lagrangian, &steps, &terminal, u)
}

/// Options of [`AugmentedLagrangianIlqr`], with the symbols of the module docs.
///
/// ```
/// use wengert_control::constrained::AugmentedLagrangianOptions;
/// let options = AugmentedLagrangianOptions::default();
/// assert_eq!((options.initial_penalty, options.penalty_factor), (1.0, 10.0));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentedLagrangianOptions {
    /// The inner iLQR solver's options.
    pub ilqr: IlqrOptions,
    /// At most this many multiplier updates.
    pub max_outer_iterations: usize,
    /// `ρ₀` (trajax's `penalty_init`).
    pub initial_penalty: f64,
    /// `φ`: `ρ ← φ ρ` when the violation did not fall enough (trajax's `penalty_update_rate`).
    pub penalty_factor: f64,
    /// `ρ_max`: the penalty stops growing here.
    pub max_penalty: f64,
    /// `η`: keep `ρ` if the violation fell below `η` times the previous one.
    pub violation_decrease: f64,
    /// `ε_c`: converged when the violation and the complementarity are below it.
    pub violation_tolerance: f64,
    /// `ε_s`: and when `max_t ‖∇_{u_t} L‖_∞` is below it.
    pub stationarity_tolerance: f64,
}

impl Default for AugmentedLagrangianOptions {
    fn default() -> Self {
        AugmentedLagrangianOptions {
            // The inner solves stop on the gradient: with a large ρ the expected improvement
            // is tiny long before ∇_u L_ρ is small.
            ilqr: IlqrOptions {
                max_iterations: 200,
                tolerance: 1e-14,
                ..IlqrOptions::default()
            },
            max_outer_iterations: 30,
            initial_penalty: 1.0,
            penalty_factor: 10.0,
            max_penalty: 1e8,
            violation_decrease: 0.25,
            violation_tolerance: 1e-6,
            stationarity_tolerance: 1e-4,
        }
    }
}

/// One outer iteration: the inner solve, then the multiplier and penalty updates.
#[derive(Debug, Clone, PartialEq)]
pub struct OuterIteration {
    /// The original cost `J` of the inner solution.
    pub cost: f64,
    /// `max(‖h‖_∞, max g⁺, ‖h_T‖_∞)` there.
    pub violation: f64,
    /// `max_i |min(−g_i, μ_i)|` with the updated `μ`.
    pub complementarity: f64,
    /// `max_t ‖∇_{u_t} L‖_∞`: at the updated multipliers for the augmented Lagrangian (where
    /// it equals the inner solve's `‖∇_u L_ρ‖`), at the multipliers the inner solve minimised
    /// for dual gradient descent.
    pub stationarity: f64,
    /// `ρ` of this inner solve.
    pub penalty: f64,
    /// iLQR iterations of this inner solve.
    pub inner_iterations: usize,
    /// Why the inner solve stopped.
    pub inner_termination: Termination,
    /// The multipliers after the update.
    pub multipliers: Multipliers,
}

/// A constrained solution and the solver's history.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstrainedSolution {
    /// States `x_0 … x_N`, one per row.
    pub x: Array2<f64>,
    /// Controls `u_0 … u_{N−1}`, one per row.
    pub u: Array2<f64>,
    /// The original cost `J` (without multiplier or penalty terms).
    pub cost: f64,
    /// The constraint values at `(x, u)`.
    pub values: ConstraintValues,
    /// The final multipliers.
    pub multipliers: Multipliers,
    /// One report per outer iteration.
    pub iterations: Vec<OuterIteration>,
    /// Whether the stopping rule was met.
    pub converged: bool,
}

impl ConstrainedSolution {
    /// iLQR iterations over all outer iterations.
    pub fn inner_iterations(&self) -> usize {
        self.iterations.iter().map(|i| i.inner_iterations).sum()
    }

    /// `Ok` if the stopping rule was met, else the last update's violation, complementarity,
    /// stationarity and penalty: on infeasible constraints (say `x_N = a` and `x_N = b`) the
    /// solver stops after `max_outer_iterations` with a finite trajectory and a violation
    /// bounded away from zero (`‖a − b‖_∞ / 2` there), and this names it.
    ///
    /// ```
    /// use autograd::Tensor;
    /// use ndarray::array;
    /// use wengert_control::constrained::{AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints};
    /// use wengert_control::ilqr::Problem;
    ///
    /// let problem = Problem::new(1, 1, 3, |x, u| x + u,
    ///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
    /// let contradiction = Constraints::new(1, 1).with_goal(array![1.0]).with_goal(array![2.0]);
    /// let solution = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default())
    ///     .solve(&problem, &contradiction, &array![0.0], None).unwrap();
    /// let error = solution.check().unwrap_err();
    /// assert!((error.violation - 0.5).abs() < 1e-6);
    /// assert!(error.to_string().starts_with("did not converge in 30 multiplier updates: constraint violation 5.0e-1"));
    /// ```
    pub fn check(&self) -> Result<(), NotConverged> {
        NotConverged::unless(
            self.converged,
            self.iterations.last().map(|last| {
                (
                    self.iterations.len(),
                    last.violation,
                    last.complementarity,
                    last.stationarity,
                    last.penalty,
                )
            }),
        )
    }
}

/// A constrained solve that stopped without meeting its stopping rule (see
/// [`ConstrainedSolution::check`]), with the last multiplier update's measures.
///
/// ```
/// use wengert_control::constrained::NotConverged;
/// let error = NotConverged { updates: 3, violation: 0.5, complementarity: 0.0, stationarity: 1e-9, penalty: 1e8 };
/// assert!(error.to_string().contains("constraint violation 5.0e-1"));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NotConverged {
    /// Multiplier updates made.
    pub updates: usize,
    /// `max(‖h‖_∞, max g⁺, ‖h_T‖_∞)` (and `‖d‖_∞` for collocation) at the last one.
    pub violation: f64,
    /// `max_i |min(−g_i, μ_i)|` there.
    pub complementarity: f64,
    /// The stationarity there.
    pub stationarity: f64,
    /// `ρ` there.
    pub penalty: f64,
}

impl NotConverged {
    pub(crate) fn unless(
        converged: bool,
        last: Option<(usize, f64, f64, f64, f64)>,
    ) -> Result<(), NotConverged> {
        if converged {
            return Ok(());
        }
        let (updates, violation, complementarity, stationarity, penalty) =
            last.unwrap_or((0, f64::INFINITY, f64::INFINITY, f64::INFINITY, 0.0));
        Err(NotConverged {
            updates,
            violation,
            complementarity,
            stationarity,
            penalty,
        })
    }
}

impl std::fmt::Display for NotConverged {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "did not converge in {} multiplier updates: constraint violation {:.1e}, \
             complementarity {:.1e}, stationarity {:.1e} at penalty ρ = {:.0e} \
             (a violation that stays put while ρ grows means infeasible constraints)",
            self.updates, self.violation, self.complementarity, self.stationarity, self.penalty
        )
    }
}

impl std::error::Error for NotConverged {}

/// Augmented-Lagrangian iLQR.
///
/// ```
/// use autograd::Tensor;
/// use ndarray::array;
/// use wengert_control::constrained::{AugmentedLagrangianIlqr, AugmentedLagrangianOptions, Constraints};
/// use wengert_control::ilqr::Problem;
///
/// // Steer x' = x + u from 0 to exactly 1 in 4 steps at least effort: u_t = 1/4.
/// let problem = Problem::new(1, 1, 4, |x, u| x + u,
///     |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false) * 0.0);
/// let constraints = Constraints::new(1, 1).with_goal(array![1.0]);
/// let solver = AugmentedLagrangianIlqr::new(AugmentedLagrangianOptions::default());
/// let solution = solver.solve(&problem, &constraints, &array![0.0], None).unwrap();
/// assert!(solution.converged);
/// assert!(solution.values.max_violation() <= 1e-6);
/// assert!(solution.u.iter().all(|u| (u - 0.25).abs() < 1e-6));
/// // J*(x_goal) = x_goal²/4, and the multiplier of x_N = x_goal is −dJ*/dx_goal = −0.5.
/// assert!((solution.multipliers.lambda_T[0] + 0.5).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentedLagrangianIlqr {
    /// Its options.
    pub options: AugmentedLagrangianOptions,
}

impl AugmentedLagrangianIlqr {
    /// A solver with these options.
    pub fn new(options: AugmentedLagrangianOptions) -> Self {
        AugmentedLagrangianIlqr { options }
    }

    /// Solves `problem` subject to `constraints` from `x0`, warm-started from
    /// `initial_controls` (`N × m`; zeros if `None`; need not be feasible).
    pub fn solve(
        &self,
        problem: &Problem,
        constraints: &Constraints,
        x0: &Array1<f64>,
        initial_controls: Option<&Array2<f64>>,
    ) -> Result<ConstrainedSolution, IlqrError> {
        let options = &self.options;
        let N = problem.horizon;
        let ilqr = Ilqr::new(options.ilqr.clone());
        let mut multipliers = Multipliers::for_constraints(constraints, N);
        let mut rho = options.initial_penalty;
        let mut u = initial_controls
            .cloned()
            .unwrap_or_else(|| Array2::zeros((N, problem.m)));
        let mut previous_violation = f64::INFINITY;
        let mut iterations = Vec::new();
        let mut converged = false;
        let mut x = Array2::zeros((N + 1, problem.n));
        for _ in 0..options.max_outer_iterations {
            let L_rho = augmented_lagrangian_problem(problem, constraints, &multipliers, rho);
            let inner = ilqr.solve(&L_rho, x0, Some(&u))?;
            (x, u) = (inner.x, inner.u);
            let values = constraints.evaluate(&x, &u);
            let violation = values.max_violation();
            multipliers.ascend(&values, rho);
            let complementarity = values.complementarity(&multipliers.mu);
            let stationarity = lagrangian_stationarity(problem, constraints, &multipliers, &x, &u);
            iterations.push(OuterIteration {
                cost: problem.rollout(x0, &u).1,
                violation,
                complementarity,
                stationarity,
                penalty: rho,
                inner_iterations: inner.iterations.len(),
                inner_termination: inner.termination,
                multipliers: multipliers.clone(),
            });
            if violation.max(complementarity) <= options.violation_tolerance
                && stationarity <= options.stationarity_tolerance
            {
                converged = true;
                break;
            }
            if violation > options.violation_tolerance
                && violation > options.violation_decrease * previous_violation
            {
                rho = (rho * options.penalty_factor).min(options.max_penalty);
            }
            previous_violation = violation;
        }
        let (_, cost) = problem.rollout(x0, &u);
        Ok(ConstrainedSolution {
            values: constraints.evaluate(&x, &u),
            x,
            u,
            cost,
            multipliers,
            iterations,
            converged,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ilqr::quadratic_cost;
    use crate::systems::Unicycle;
    use autograd::Tensor;
    use ndarray::array;

    /// `∇_u L_ρ(u; λ, μ) = ∇_u L(u; λ⁺, μ⁺)` with `λ⁺ = λ + ρ h`, `μ⁺ = max(0, μ + ρ g)`:
    /// the identity behind the multiplier update, at an arbitrary trajectory where some
    /// inequalities are violated, some inactive with `μ > 0`, and some inactive with `μ = 0`.
    #[test]
    fn augmented_lagrangian_gradient_is_the_lagrangian_gradient_at_updated_multipliers() {
        let N = 8;
        let problem = Problem::from_system(
            Unicycle,
            0.1,
            N,
            |x, u| {
                quadratic_cost(x, &array![1.0, 0.0, 0.0], &array![0.1, 0.1, 0.1])
                    + u.powi(2).sum(&[0], false)
            },
            |x| x.powi(2).sum(&[0], false),
        );
        let constraints = Constraints::new(3, 2)
            .with_equality(|x, u| x.slice(0, 2, 3) - u.slice(0, 1, 2) * 0.5)
            .with_inequality(|x, _| x.slice(0, 0, 1) - 0.05)
            .with_control_bounds(array![-0.6, -1.0], array![0.6, 1.0])
            .with_goal(array![1.0, 0.0, 0.0]);
        let x0 = array![0.0, 0.0, 0.0];
        let u = Array2::from_shape_fn((N, 2), |(t, i)| 0.8 * ((t + 3 * i) as f64).sin());
        let (x, _) = problem.rollout(&x0, &u);
        let mut multipliers = Multipliers::for_constraints(&constraints, N);
        multipliers.lambda.fill(0.3);
        multipliers.mu =
            Array2::from_shape_fn((N, 5), |(t, j)| if (t + j) % 2 == 0 { 0.4 } else { 0.0 });
        multipliers.lambda_T = array![0.2, -0.1, 0.5];
        let rho = 3.0;

        let L_rho = augmented_lagrangian_problem(&problem, &constraints, &multipliers, rho);
        let steps: Vec<StepExpansion> = (0..N)
            .map(|t| L_rho.expand(t, &x.row(t).to_owned(), &u.row(t).to_owned()))
            .collect();
        let terminal = L_rho.expand_terminal(&x.row(N).to_owned());
        let augmented = projected_gradient_norm(&L_rho, &steps, &terminal, &u);

        let values = constraints.evaluate(&x, &u);
        assert!(values.g.iter().any(|g| *g > 0.0) && values.g.iter().any(|g| *g < -0.2));
        let mut updated = multipliers.clone();
        updated.ascend(&values, rho);
        let lagrangian = lagrangian_stationarity(&problem, &constraints, &updated, &x, &u);
        assert!(augmented > 0.1);
        assert!(
            (augmented - lagrangian).abs() < 1e-12 * augmented,
            "{augmented} vs {lagrangian}"
        );
        // Not with the old multipliers.
        let old = lagrangian_stationarity(&problem, &constraints, &multipliers, &x, &u);
        assert!((augmented - old).abs() > 1e-3);
    }
}
