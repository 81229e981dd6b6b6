//! # `V*` of MountainCar-v0 by value iteration on a grid
//!
//! ## Background
//! MountainCar-v0's state `s = (x, v)` is continuous, but its dynamics are known exactly
//! ([`MountainCar::dynamics`]) and two-dimensional, so its optimal value can be computed
//! instead of learnt. A grid of `N_x × N_v` nodes over `x ∈ [−1.2, 0.5]`, `v ∈ [−0.07, 0.07]`
//! turns it into a finite MDP (Kushner and Dupuis; Munos and Moore, 2002): from a node `ξ`,
//! action `a` leads by the true step function to `s' = f(ξ, a)`, which lies in a grid cell; the
//! discretised MDP moves to that cell's four corners `ξ'_j` with the **bilinear weights**
//! `w_j(s')` (non-negative, summing to one), so that its value at `s'` is the bilinear
//! interpolation of the nodes' values. Positions beyond `0.5` need no nodes: a step reaching
//! `x ≥ 0.5` with `v ≥ 0` ends the episode, and no step from `x ≤ 0.5` reaches `x > 0.5` with
//! `v < 0`.
//!
//! ## Key equations
//! Value iteration on the discretised MDP, with the reward `−1` per step and the terminal
//! convention (no bootstrap from a terminal `s'`):
//!
//! $$ V_{k+1}(\xi) = \max_{a \in \lbrace 0, 1, 2 \rbrace} \Big( -1 + \gamma \, [\neg d(\xi, a)] \sum_j w_j\big(f(\xi, a)\big) \, V_k(\xi'_j) \Big) , $$
//!
//! and between nodes `V*(s) ≈ Σ_j w_j(s) V(ξ_j)`. A policy reaching the flag in `n` steps
//! has the return `−(1 − γⁿ) / (1 − γ)`, so `V*` is `−Σ_{t<n*} γ^t` with `n*` the fewest steps
//! to the flag. As a potential, `Φ = V*` on non-terminal states and `0` at the flag.
//!
//! ## Pseudocode
//! ```text
//! for every node ξ and action a: s' ← MountainCar::dynamics(ξ, a)
//!     if terminated: one outcome (p 1, r −1, terminated)
//!     else: four outcomes (p w_j(s'), s' ← corner ξ'_j, r −1)
//! V ← value_iteration(model, γ, tolerance)            (crate::tabular)
//! V*(s) ≈ bilinear interpolation of V at s
//! ```

use super::{MountainCar, TabularModel, Transition, mountain_car};
use crate::tabular::value_iteration;

/// The highest position with grid nodes: MountainCar-v0's flag.
const GOAL_POSITION: f64 = 0.5;

/// `V*` of MountainCar-v0 at discount `γ` on an `N_x × N_v` grid, interpolated bilinearly.
///
/// ```
/// use wengert_rl::env::MountainCarValue;
/// let value = MountainCarValue::solve(0.99, 61, 61);
/// // from the bottom of the valley at rest the flag is ~100 steps away: V* ≈ −(1 − 0.99¹⁰⁰)/0.01
/// let bottom = value.value([-0.5, 0.0]);
/// assert!(-75.0 < bottom && bottom < -50.0, "{bottom}");
/// // near the flag, moving right, it is a step or two away
/// let near = value.value([0.49, 0.02]);
/// assert!(-2.0 < near && near <= -1.0, "{near}");
/// ```
#[derive(Clone, Debug)]
pub struct MountainCarValue {
    /// `N_x`, `N_v`.
    shape: [usize; 2],
    /// `V(ξ)` at node `(i, j)`, index `i · N_v + j`.
    values: Vec<f64>,
    /// Sweeps value iteration took.
    pub sweeps: usize,
}

impl MountainCarValue {
    /// Value iteration on an `nx × nv` grid (at least 2 × 2) at discount `gamma` in `[0, 1)`,
    /// to a sup-norm change below `1e-7`.
    pub fn solve(gamma: f64, nx: usize, nv: usize) -> Self {
        assert!(
            nx >= 2 && nv >= 2,
            "MountainCarValue::solve: the grid needs at least 2 × 2 nodes, got {nx} × {nv}"
        );
        let grid = MountainCarValue {
            shape: [nx, nv],
            values: Vec::new(),
            sweeps: 0,
        };
        let model = grid.model();
        let solution = value_iteration(&model, gamma, 1e-7);
        MountainCarValue {
            values: solution.values,
            sweeps: solution.sweeps,
            ..grid
        }
    }

    /// The discretised MDP: node `ξ`, action `a` → the corners of `f(ξ, a)`'s cell with their
    /// bilinear weights, reward `−1`; a step onto the flag terminates.
    pub fn model(&self) -> TabularModel {
        let [nx, nv] = self.shape;
        let mut outcomes = Vec::with_capacity(nx * nv * 3);
        for i in 0..nx {
            for j in 0..nv {
                for action in 0..3 {
                    let (next, terminated) = MountainCar::dynamics(self.node(i, j), action);
                    outcomes.push(if terminated {
                        vec![Transition {
                            probability: 1.0,
                            next_state: 0,
                            reward: -1.0,
                            terminated: true,
                        }]
                    } else {
                        self.corners(next)
                            .into_iter()
                            .filter(|&(_, w)| w > 0.0)
                            .map(|(next_state, probability)| Transition {
                                probability,
                                next_state,
                                reward: -1.0,
                                terminated: false,
                            })
                            .collect()
                    });
                }
            }
        }
        TabularModel::new(nx * nv, 3, outcomes, uniform(nx * nv))
    }

    /// `V(ξ)` at every node, the discretised MDP's states in [`Self::model`]'s order.
    pub fn node_values(&self) -> &[f64] {
        &self.values
    }

    /// `V*(s) ≈ Σ_j w_j(s) V(ξ_j)` at `s = (x, v)` (clamped into the grid).
    pub fn value(&self, state: [f64; 2]) -> f64 {
        self.corners(state)
            .iter()
            .map(|&(node, w)| w * self.values[node])
            .sum()
    }

    /// The greedy action `argmax_a (−1 + γ [¬d] V*(f(s, a)))` (ties to the lowest index).
    pub fn greedy_action(&self, state: [f64; 2], gamma: f64) -> usize {
        let q = |a: usize| {
            let (next, terminated) = MountainCar::dynamics(state, a);
            -1.0 + if terminated {
                0.0
            } else {
                gamma * self.value(next)
            }
        };
        (0..3).fold(0, |best, a| if q(a) > q(best) { a } else { best })
    }

    /// Node `(i, j)`'s state.
    fn node(&self, i: usize, j: usize) -> [f64; 2] {
        let [nx, nv] = self.shape;
        let lerp =
            |lo: f64, hi: f64, k: usize, n: usize| lo + (hi - lo) * k as f64 / (n - 1) as f64;
        [
            lerp(mountain_car::MIN_POSITION, GOAL_POSITION, i, nx),
            lerp(-mountain_car::MAX_SPEED, mountain_car::MAX_SPEED, j, nv),
        ]
    }

    /// The four corners of `state`'s cell with their bilinear weights.
    fn corners(&self, state: [f64; 2]) -> [(usize, f64); 4] {
        let [nx, nv] = self.shape;
        // the cell's lower index and the fraction of the way to the next node, per axis
        let locate = |value: f64, lo: f64, hi: f64, n: usize| {
            let u = ((value - lo) / (hi - lo)).clamp(0.0, 1.0) * (n - 1) as f64;
            let k = (u.floor() as usize).min(n - 2);
            (k, u - k as f64)
        };
        let (i, fx) = locate(state[0], mountain_car::MIN_POSITION, GOAL_POSITION, nx);
        let (j, fv) = locate(
            state[1],
            -mountain_car::MAX_SPEED,
            mountain_car::MAX_SPEED,
            nv,
        );
        let index = |i: usize, j: usize| i * nv + j;
        [
            (index(i, j), (1.0 - fx) * (1.0 - fv)),
            (index(i, j + 1), (1.0 - fx) * fv),
            (index(i + 1, j), fx * (1.0 - fv)),
            (index(i + 1, j + 1), fx * fv),
        ]
    }
}

fn uniform(n: usize) -> Vec<f64> {
    vec![1.0 / n as f64; n]
}
