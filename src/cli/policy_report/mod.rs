//! `wengert report policy-from-control` and the `gps-pendulum` / `plato-pendulum` demos: a
//! neural policy trained from optimal control (issue 24), run alone at test time, over seeds.
//!
//! Rows: guided policy search on the pendulum swing-up from 8 starts and on the cart-pole
//! swing-up from 4; PLATO, DAgger and behaviour cloning with an MPC expert on Gymnasium's
//! Pendulum-v1, on the same budget of expert labels; DAgger with an LQR expert on a linear
//! system.
//!
//! One file per row family: [`gps`] (both swing-ups and the trajectory plot), [`pendulum_v1`]
//! (PLATO, DAgger and behaviour cloning with the MPC expert), [`linear`] (DAgger with LQR).

#![allow(non_snake_case)]

mod gps;
mod linear;
mod pendulum_v1;

pub use gps::{gps_cart_pole, gps_pendulum, plot_policy_over_trajectories};
use linear::dagger_linear;
pub use pendulum_v1::plato_pendulum;
use pendulum_v1::{expert_alone, pendulum_v1};

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use super::plot;

/// The report's rows, by the names `--rows` takes.
pub const ROWS: [&str; 4] = ["gps-pendulum", "gps-cart-pole", "pendulum-v1", "linear"];

/// The methods of the pendulum-v1 row, by the names `--methods` takes: the MPC experts alone,
/// PLATO, DAgger, behaviour cloning.
pub const METHODS: [&str; 4] = ["expert", "plato", "dagger", "bc"];

/// Runs the rows named in `rows` (all of [`ROWS`] if empty) for every seed, the pendulum-v1 row
/// with the methods named in `methods` (all of [`METHODS`] if empty); prints and writes
/// `<out>/policy-from-control.md` after each seed and, for the first seed, the policies'
/// trajectories over the optimised ones (`<out>/policy-from-control-{pendulum,cart-pole}.svg`).
pub fn run(out: &Path, seeds: &[u64], rows: &[String], methods: &[String]) -> Result<(), String> {
    if let Some(unknown) = rows.iter().find(|r| !ROWS.contains(&r.as_str())) {
        return Err(format!(
            "--rows: unknown row `{unknown}`; valid rows: {}",
            ROWS.join(", ")
        ));
    }
    if let Some(unknown) = methods.iter().find(|m| !METHODS.contains(&m.as_str())) {
        return Err(format!(
            "--methods: unknown method `{unknown}`; valid methods: {}",
            METHODS.join(", ")
        ));
    }
    let method = |name: &str| methods.is_empty() || methods.iter().any(|m| m == name);
    let wanted = |row: &str| rows.is_empty() || rows.iter().any(|r| r == row);
    fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "| seed | GPS pendulum: held (of 8) | disagreement max / mean | time (s) | \
         GPS cart-pole: policy / iLQR cost per start | disagreement max | time (s) | \
         Pendulum-v1: PLATO | DAgger | BC | MPC expert (warm-started / memoryless) | labels (PLATO / DAgger / BC) | \
         linear: DAgger / LQR | BC / LQR | labels |"
    );
    let _ = writeln!(table, "|{}", "---|".repeat(15));
    let skipped = |cells: usize| vec!["—".to_string(); cells];
    // the expert's test episodes are the same for every seed
    let mut expert_mean = None;
    for (index, &seed) in seeds.iter().enumerate() {
        println!("seed {seed}");
        let mut cells = vec![seed.to_string()];
        cells.extend(if wanted("gps-pendulum") {
            let gps = gps_pendulum(seed, true)?;
            let last = gps.result.iterations.last().cloned();
            let (max, mean) = last.map_or((f64::NAN, f64::NAN), |k| {
                (k.disagreement, k.mean_disagreement)
            });
            println!(
                "  GPS pendulum: held from {} of 8 starts (iLQR alone: {}), disagreement max {max:.2e} mean {mean:.2e} after {} iterations, {} regression pairs per policy step",
                gps.held,
                gps.ilqr_held,
                gps.result.iterations.len(),
                gps.labels
            );
            if index == 0 {
                plot_policy_over_trajectories(
                    &out.join("policy-from-control-pendulum.svg"),
                    &format!("GPS pendulum swing-up (seed {seed}): θ optimised and of the policy alone, per start"),
                    (0.1, 0, "θ (rad)"),
                    &gps.result.x,
                    &gps.rollouts,
                )?;
            }
            vec![
                format!("{} (iLQR {})", gps.held, gps.ilqr_held),
                // two digits: the row's bar is 1e-2, and 9.96e-3 would print as 1.0e-2
                format!("{max:.2e} / {mean:.1e}"),
                format!("{:.0}", gps.seconds),
            ]
        } else {
            skipped(3)
        });
        cells.extend(if wanted("gps-cart-pole") {
            let cart = gps_cart_pole(seed, true)?;
            let ratios: Vec<String> = cart
                .policy_costs
                .iter()
                .zip(&cart.ilqr_costs)
                .map(|(p, c)| format!("{:.3}", p / c))
                .collect();
            let max = cart
                .result
                .iterations
                .last()
                .map_or(f64::NAN, |k| k.disagreement);
            println!(
                "  GPS cart-pole: iLQR costs {:.3?}, policy alone {:.3?}, ratios {}, disagreement mean {:.2e}, {} regression pairs per policy step",
                cart.ilqr_costs,
                cart.policy_costs,
                ratios.join(", "),
                cart.result.iterations.last().map_or(f64::NAN, |k| k.mean_disagreement),
                cart.labels
            );
            if index == 0 {
                plot_policy_over_trajectories(
                    &out.join("policy-from-control-cart-pole.svg"),
                    &format!("GPS cart-pole swing-up (seed {seed}): θ optimised and of the policy alone, per start"),
                    (0.05, 1, "θ (rad)"),
                    &cart.result.x,
                    &cart.rollouts,
                )?;
            }
            vec![
                ratios.join(", "),
                format!("{max:.1e}"),
                format!("{:.0}", cart.seconds),
            ]
        } else {
            skipped(3)
        });
        cells.extend(if wanted("pendulum-v1") {
            let expert = match expert_mean {
                Some(means) => means,
                None => *expert_mean.insert(if method("expert") {
                    Some(expert_alone()?)
                } else {
                    None
                }),
            };
            let v1 = pendulum_v1(seed, expert, &method)?;
            let shown = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.1}"));
            let count = |n: Option<usize>| n.map_or("—".to_string(), |n| n.to_string());
            println!(
                "  Pendulum-v1: PLATO {}, DAgger {}, behaviour cloning {}, MPC expert {}, labels {} / {} / {}",
                shown(v1.plato),
                shown(v1.dagger),
                shown(v1.cloning),
                v1.expert.map_or("—".to_string(), |(warm, memoryless)| format!("{warm:.1} (memoryless {memoryless:.1})")),
                count(v1.labels[0]),
                count(v1.labels[1]),
                count(v1.labels[2])
            );
            vec![
                shown(v1.plato),
                shown(v1.dagger),
                shown(v1.cloning),
                v1.expert.map_or("—".to_string(), |(warm, memoryless)| format!("{warm:.1} / {memoryless:.1}")),
                format!(
                    "{} / {} / {}",
                    count(v1.labels[0]),
                    count(v1.labels[1]),
                    count(v1.labels[2])
                ),
            ]
        } else {
            skipped(5)
        });
        cells.extend(if wanted("linear") {
            let (ratio, labels, cloning_ratio) = dagger_linear(seed)?;
            println!(
                "  linear: DAgger cost / LQR {ratio:.4}, behaviour cloning {cloning_ratio:.4}, {labels} labels"
            );
            vec![
                format!("{ratio:.4}"),
                format!("{cloning_ratio:.4}"),
                labels.to_string(),
            ]
        } else {
            skipped(3)
        });
        let _ = writeln!(table, "| {} |", cells.join(" | "));
        let path = out.join("policy-from-control.md");
        fs::write(&path, &table).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!(
        "\n{table}\nwritten to {}",
        out.join("policy-from-control.md").display()
    );
    Ok(())
}
