//! Guided policy search's trajectory step: the problem iLQR solves for each start, the task cost
//! plus the constraint's augmented-Lagrangian terms on the action the policy executes (the
//! equations are in [`guided_policy_search`](mod@super::guided_policy_search)'s header).
//!
//! ```text
//! executed action   clamp_U(π_θ(x))                                           (executed, policy_rows)
//! trajectory step   c(τ) + Σ_t φ_{ρ_t}(u_t, clamp_U(π_θ(x_t)); λ_t),  θ, λ, ρ fixed   (augmented_problem)
//! ```

use super::guided_policy_search::policy_constraint_terms;
use super::policy::policy_on;
use crate::ilqr::Problem;
use crate::model_based::ModelPolicy;
use autograd::{Tensor, Var};
use ndarray::{Array1, Array2, Axis};

/// `clamp_U(π_θ(x_t))` for every row of `x` (`rows × n`), as rows (`rows × m`): the actions the
/// policy executes.
pub(super) fn policy_rows(problem: &Problem, policy: &ModelPolicy, x: &Array2<f64>) -> Array2<f64> {
    let theta = policy.store.constants();
    let actions = policy.action(&theta, &Var::constant(x.t().to_owned()));
    let mut rows: Array2<f64> = actions
        .value()
        .t()
        .to_owned()
        .into_dimensionality()
        .expect("π_θ of a batch is m × B");
    for mut row in rows.rows_mut() {
        let clamped = problem.clamp_control(row.to_owned());
        row.assign(&clamped);
    }
    rows
}

/// `clamp_U(π)` on autograd variables (`[m]` or `[m, B]`): `π` inside the problem's control box
/// `U`, if it has one — the action the policy executes, which the constraint `u = clamp_U(π)`
/// compares with the trajectory's.
///
/// ```
/// use autograd::prelude::*;
/// use ndarray::array;
/// use wengert_control::gps::guided_policy_search::executed;
/// use wengert_control::ilqr::Problem;
/// let problem = Problem::new(1, 1, 1, |x, u| x + u, |_, u| u.powi(2).sum(&[0], false), |x| x.sum(&[0], false))
///     .with_control_limits(array![-6.0], array![6.0]);
/// let pi = Var::constant(array![[6.3, -0.5, -7.0]]);
/// assert_eq!(executed(&problem, pi).value().as_slice().unwrap(), &[6.0, -0.5, -6.0]);
/// ```
pub fn executed(problem: &Problem, pi: Var<f64>) -> Var<f64> {
    let Some((lower, upper)) = &problem.control_limits else {
        return pi;
    };
    let bound = |b: &Array1<f64>| {
        if pi.shape().len() == 1 {
            Var::constant(b.clone())
        } else {
            Var::constant(b.clone().insert_axis(Axis(1)))
        }
    };
    pi.maximum(&bound(lower)).minimum(&bound(upper))
}

/// The trajectory step's problem: `c(τ) + Σ_t φ_{ρ_t}(u_t, clamp_U(π_θ(x_t)); λ_t)`, `θ`, `λ`
/// and `ρ` fixed.
pub(super) fn augmented_problem(
    problem: &Problem,
    policy: &ModelPolicy,
    lambda: &Array2<f64>,
    rho: &Array1<f64>,
) -> Problem {
    let previous = problem.stage_cost.clone();
    let (policy, lambda, rho, box_) =
        (policy.clone(), lambda.clone(), rho.clone(), problem.clone());
    problem.clone().with_stage_cost(move |t, x, u| {
        let pi = executed(&box_, policy_on(&policy, x));
        let lambda_t = lambda.row(t).to_owned();
        let lambda_t = if x.shape().len() == 1 {
            Var::constant(lambda_t)
        } else {
            Var::constant(lambda_t.insert_axis(Axis(1)))
        };
        let terms = policy_constraint_terms(u, &pi, &lambda_t, rho[t]);
        match &previous {
            Some(stage_cost) => terms + stage_cost(t, x, u),
            None => terms,
        }
    })
}
