//! Guided policy search's penalty `ρ`: one shared by every point, or one `ρ_t^i` per point grown
//! only where that point's disagreement stalls (the equations are in
//! [`guided_policy_search`](mod@super::guided_policy_search)'s header).
//!
//! ```text
//! shared      ρ ← min(γ ρ, ρ_max)  when  mean_{i,t} d_t^i,k > η · mean_{i,t} d_t^i,k−1
//! per point   ρ_t^i ← min(γ ρ_t^i, ρ_max)  where  d_t^i,k > max(η_p d_t^i,k−1, ε)   (per_point_penalty_update)
//! ```

use ndarray::Array1;

/// `ρ_t ← min(γ ρ_t, ρ_max)` where `d_t > max(η_p d_t^prev, ε)`, `ρ_t` kept elsewhere: the
/// per-point penalty step of one start (`ρ`, `d`, `d^prev` one entry per time step), `d` the
/// disagreement after this iteration's trajectory step and `d^prev` after the last one's.
///
/// ```
/// use ndarray::array;
/// use wengert_control::gps::guided_policy_search::per_point_penalty_update;
/// let rho = array![4.0, 4.0, 4.0, 600.0];
/// // fell to a quarter; stalled; stalled but within ε; stalled at the cap
/// let d = array![0.1, 0.3, 1e-4, 0.3];
/// let d_previous = array![0.4, 0.4, 2e-4, 0.4];
/// let rho = per_point_penalty_update(&rho, &d, &d_previous, (2.0, 1e3), (0.25, 1e-3));
/// assert_eq!(rho, array![4.0, 8.0, 4.0, 1e3]);
/// ```
// ANCHOR: per_point_penalty_update
pub fn per_point_penalty_update(
    rho: &Array1<f64>,
    d: &Array1<f64>,
    d_previous: &Array1<f64>,
    (growth, rho_max): (f64, f64),
    (stall, tolerance): (f64, f64),
) -> Array1<f64> {
    ndarray::Zip::from(rho)
        .and(d)
        .and(d_previous)
        .map_collect(|&rho, &d, &d_previous| {
            if d > (stall * d_previous).max(tolerance) {
                (growth * rho).min(rho_max)
            } else {
                rho
            }
        })
}
// ANCHOR_END: per_point_penalty_update

/// How the penalty `ρ` grows between outer iterations (both by `γ` = `rho_growth`, up to
/// `ρ_max`).
///
/// ```
/// use wengert_control::gps::{GpsConfig, PenaltyRule};
/// assert_eq!(GpsConfig::default().penalty, PenaltyRule::Shared);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub enum PenaltyRule {
    /// One `ρ` for every point, grown when the mean disagreement fell by less than the factor
    /// `rho_stall`.
    Shared,
    /// One `ρ_t^i` per point, grown where that point's disagreement fell by less than the factor
    /// `stall` (`η_p`) and is above `tolerance` (`ε`) ([`per_point_penalty_update`]); the policy
    /// step weights each point by its `ρ_t^i`
    /// ([`weighted_regression_loss`](super::policy_step::weighted_regression_loss)).
    PerPoint {
        /// `η_p`: a point's `ρ_t^i` grows when its disagreement fell by less than this factor.
        stall: f64,
        /// `ε`: a point whose disagreement is within it does not grow.
        tolerance: f64,
        /// Keep every `ρ_t^i` at least the shared `ρ` of [`PenaltyRule::Shared`]'s rule.
        shared_floor: bool,
    },
}
