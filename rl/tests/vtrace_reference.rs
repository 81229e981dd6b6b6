//! V-trace (`wengert_rl::vtrace`) against targets written as the IMPALA paper's explicit sums
//! (`rl/tests/data/`, see its README), to 1e-12; and its reduction, on-policy with
//! `ρ̄ = c̄ = 1`, to the n-step return.

use ndarray::Array2;
use serde_json::Value;
use wengert_rl::advantage::Trajectory;
use wengert_rl::vtrace::{VTraceConfig, vtrace};

const REFERENCE: &str = include_str!("data/vtrace_reference.json");
const CASES: &str = include_str!("data/vtrace_cases.json");

fn matrix<T>(value: &Value, f: impl Fn(&Value) -> T) -> Array2<T> {
    let rows: Vec<Vec<T>> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(&f).collect())
        .collect();
    let (t, b) = (rows.len(), rows[0].len());
    Array2::from_shape_vec((t, b), rows.into_iter().flatten().collect()).unwrap()
}

fn reals(value: &Value) -> Array2<f64> {
    matrix(value, |x| x.as_f64().unwrap())
}

fn flags(value: &Value) -> Array2<bool> {
    matrix(value, |x| x.as_bool().unwrap())
}

fn assert_close(what: &str, a: &Array2<f64>, b: &Array2<f64>) {
    assert_eq!(a.dim(), b.dim(), "{what}");
    for ((index, x), y) in a.indexed_iter().zip(b.iter()) {
        assert!(
            (x - y).abs() <= 1e-12,
            "{what} at {index:?}: {x} against {y}"
        );
    }
}

/// DeepMind's layout (per-step `discounts`, 0 at an episode's end; a `bootstrap_value`) in the
/// crate's: `γ` constant, `terminated = done = (discount = 0)`, `V(x_{t+1})` the next row's value.
#[test]
fn the_shared_reference_cases_match() {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = reference["vtrace"].as_array().unwrap();
    assert!(!cases.is_empty());
    for (k, case) in cases.iter().enumerate() {
        let discounts = reals(&case["discounts"]);
        let gamma = discounts.iter().copied().fold(0.0, f64::max);
        assert!(discounts.iter().all(|&d| d == 0.0 || d == gamma));
        let ended = discounts.mapv(|d| d == 0.0);
        let values = reals(&case["values"]);
        let bootstrap: Vec<f64> = case["bootstrap_value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        let (steps, envs) = values.dim();
        let next_values = Array2::from_shape_fn((steps, envs), |(t, i)| {
            if t + 1 < steps {
                values[[t + 1, i]]
            } else {
                bootstrap[i]
            }
        });
        let rewards = reals(&case["rewards"]);
        let log_rhos = reals(&case["log_rhos"]);
        // weights on both sides of the clip
        assert!(log_rhos.iter().any(|&l| l < 0.0) && log_rhos.iter().any(|&l| l > 0.0));
        let trajectory = Trajectory {
            rewards: &rewards,
            values: &values,
            next_values: &next_values,
            terminated: &ended,
            done: &ended,
        };
        let config = VTraceConfig {
            gamma,
            rho_bar: case["rho_bar"].as_f64().unwrap(),
            c_bar: case["c_bar"].as_f64().unwrap(),
            lambda: 1.0,
            pg_rho_bar: case["pg_rho_bar"].as_f64().unwrap(),
        };
        let (vs, advantages) = vtrace(&trajectory, &log_rhos, &config);
        assert_close(&format!("case {k}: vs"), &vs, &reals(&case["vs"]));
        assert_close(
            &format!("case {k}: pg_advantages"),
            &advantages,
            &reals(&case["pg_advantages"]),
        );
    }
}

/// Thresholds away from 1 (`ρ̄ ≠ c̄ ≠ ρ̄_pg`, `λ < 1`), terminations and truncations inside the
/// sequence.
#[test]
fn the_explicit_sums_with_every_clip_active_match() {
    let cases: Value = serde_json::from_str(CASES).unwrap();
    for (k, case) in cases["vtrace"].as_array().unwrap().iter().enumerate() {
        let terminated = flags(&case["terminated"]);
        let truncated = flags(&case["truncated"]);
        let done = &terminated | &truncated;
        let (rewards, values) = (reals(&case["rewards"]), reals(&case["values"]));
        let next_values = reals(&case["next_values"]);
        let trajectory = Trajectory {
            rewards: &rewards,
            values: &values,
            next_values: &next_values,
            terminated: &terminated,
            done: &done,
        };
        let number = |key: &str| case[key].as_f64().unwrap();
        let config = VTraceConfig {
            gamma: number("gamma"),
            rho_bar: number("rho_bar"),
            c_bar: number("c_bar"),
            lambda: number("lambda"),
            pg_rho_bar: number("pg_rho_bar"),
        };
        let (vs, advantages) = vtrace(&trajectory, &reals(&case["log_rhos"]), &config);
        assert_close(&format!("case {k}: vs"), &vs, &reals(&case["vs"]));
        assert_close(
            &format!("case {k}: pg_advantages"),
            &advantages,
            &reals(&case["pg_advantages"]),
        );
    }
}

/// With every `ρ = 1` and `ρ̄ = c̄ = 1`, `v_s` is the n-step return
/// `Σ_{t=s}^{e} γ^{t−s} r_t + γ^{e+1−s} V(x_{e+1})` up to the episode's end or the sequence's
/// (no bootstrap after a termination), and the advantage is `r_s + γ v_{s+1} − V(x_s)`.
#[test]
fn on_policy_with_unit_thresholds_it_is_the_n_step_return() {
    let cases: Value = serde_json::from_str(CASES).unwrap();
    for case in cases["vtrace"].as_array().unwrap() {
        let terminated = flags(&case["terminated"]);
        let done = &terminated | &flags(&case["truncated"]);
        let (rewards, values) = (reals(&case["rewards"]), reals(&case["values"]));
        let next_values = reals(&case["next_values"]);
        let (steps, envs) = rewards.dim();
        let gamma = 0.95;
        let n_step = Array2::from_shape_fn((steps, envs), |(s, i)| {
            let (mut total, mut discount) = (0.0, 1.0);
            for t in s..steps {
                total += discount * rewards[[t, i]];
                discount *= gamma;
                if terminated[[t, i]] {
                    return total;
                }
                if done[[t, i]] || t + 1 == steps {
                    return total + discount * next_values[[t, i]];
                }
            }
            unreachable!()
        });
        let trajectory = Trajectory {
            rewards: &rewards,
            values: &values,
            next_values: &next_values,
            terminated: &terminated,
            done: &done,
        };
        let config = VTraceConfig {
            gamma,
            ..VTraceConfig::default()
        };
        let (vs, advantages) = vtrace(&trajectory, &Array2::zeros((steps, envs)), &config);
        assert_close("vs against the n-step return", &vs, &n_step);
        let one_step = Array2::from_shape_fn((steps, envs), |(s, i)| {
            let bootstrap = if terminated[[s, i]] { 0.0 } else { gamma };
            let v_next = if s + 1 < steps && !done[[s, i]] {
                n_step[[s + 1, i]]
            } else {
                next_values[[s, i]]
            };
            rewards[[s, i]] + bootstrap * v_next - values[[s, i]]
        });
        assert_close("advantages", &advantages, &one_step);
    }
}
