//! `wengert report frozenlake-values`: `V*` of Gymnasium's slippery FrozenLake (4×4 and 8×8) by
//! the crate's value iteration, drawn as heatmaps: one square per state coloured by `V*(s)`, the
//! value written in it, `H` on holes and `G` on the goal, and the greedy action's arrow.
//!
//! γ = 0.99 as in `tests/reference/frozenlake_values.json` (Gymnasium's own `env.P`), which
//! `rl/tests/frozenlake_values.rs` checks every planner against.

use std::fs;
use std::path::Path;

use wengert::rl::env::FrozenLake;
use wengert::rl::tabular::value_iteration;

use super::plot::{Cell, grid_heatmap};

/// The discount of the heatmaps.
pub const GAMMA: f64 = 0.99;

/// Arrows of FrozenLake's actions 0, 1, 2, 3: left, down, right, up.
const ARROWS: [&str; 4] = ["←", "↓", "→", "↑"];

/// The cells of `lake`'s heatmap (`nrow × ncol`, row by row) under value iteration with `gamma`.
pub fn cells(lake: &FrozenLake, gamma: f64) -> Vec<Cell> {
    let solution = value_iteration(lake.model(), gamma, 1e-12);
    (0..lake.model().num_states())
        .map(|s| {
            let value = solution.values[s];
            let mark = match lake.letter(s) {
                'H' => "H (hole)".to_string(),
                'G' => "G (goal)".to_string(),
                letter => format!("{letter} {}", ARROWS[solution.policy[s]]),
            };
            Cell {
                value,
                lines: vec![format!("{value:.3}"), mark],
            }
        })
        .collect()
}

/// Writes `frozenlake-4x4-values.svg` and `frozenlake-8x8-values.svg` into `out`.
pub fn run(out: &Path) -> Result<(), String> {
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    for (name, lake, side) in [
        ("4x4", FrozenLake::four_by_four(true), 4),
        ("8x8", FrozenLake::eight_by_eight(true), 8),
    ] {
        let path = out.join(format!("frozenlake-{name}-values.svg"));
        let title = format!("FrozenLake {name}: V*, γ = {GAMMA}");
        grid_heatmap(&path, &title, side, side, &cells(&lake, GAMMA))?;
        println!("wrote {}", path.display());
    }
    Ok(())
}
