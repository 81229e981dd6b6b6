//! Parity with reference data computed outside the project (`tests/reference/`):
//! a NumPy dense KKT solve of finite-horizon LQR, and SciPy's `solve_discrete_are`.
#![allow(non_snake_case)]

use ndarray::{Array1, Array2};
use serde_json::Value;
use wengert_control::lqr::{DareProblem, LqrProblem, RiccatiOptions};

fn load(name: &str) -> Value {
    let path = format!("{}/../tests/reference/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn vector(value: &Value) -> Array1<f64> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|a| a.as_f64().expect("a number"))
        .collect()
}

fn matrix(value: &Value) -> Array2<f64> {
    let rows: Vec<Array1<f64>> = value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(vector)
        .collect();
    let cols = rows.first().map_or(0, |r| r.len());
    Array2::from_shape_fn((rows.len(), cols), |(i, j)| rows[i][j])
}

fn matrices(value: &Value) -> Vec<Array2<f64>> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(matrix)
        .collect()
}

fn vectors(value: &Value) -> Vec<Array1<f64>> {
    value
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(vector)
        .collect()
}

fn max_abs_difference(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    (a - b).iter().fold(0.0, |m, d| m.max(d.abs()))
}

#[test]
fn finite_horizon_lqr_matches_the_dense_kkt_solve() {
    let reference = load("lqr_finite_horizon.json");
    let cases = reference["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for (index, case) in cases.iter().enumerate() {
        let problem = LqrProblem::new(
            matrices(&case["F"]),
            vectors(&case["f"]),
            matrices(&case["C"]),
            vectors(&case["c"]),
            vector(&case["x1"]),
        )
        .unwrap();
        let n = case["n"].as_u64().unwrap() as usize;
        let m = case["m"].as_u64().unwrap() as usize;
        let T = case["T"].as_u64().unwrap() as usize;
        assert_eq!((problem.n(), problem.m(), problem.T()), (n, m, T));

        let solution = problem.solve().unwrap();
        let (x, u) = (matrix(&case["x"]), matrix(&case["u"]));
        let cost = case["cost"].as_f64().unwrap();
        let x_error = max_abs_difference(&solution.x, &x);
        let u_error = max_abs_difference(&solution.u, &u);
        let cost_error = (solution.cost - cost).abs();
        println!(
            "lqr case {index} (n={n}, m={m}, T={T}): max |Δx| {x_error:.1e}, max |Δu| {u_error:.1e}, |Δcost| {cost_error:.1e}"
        );
        assert!(
            x_error < 1e-9,
            "case {index}: max |x − x_ref| = {x_error:e}"
        );
        assert!(
            u_error < 1e-9,
            "case {index}: max |u − u_ref| = {u_error:e}"
        );
        assert!(
            cost_error < 1e-9,
            "case {index}: |cost − cost_ref| = {cost_error:e}"
        );
    }
}

#[test]
fn riccati_iteration_matches_scipy_solve_discrete_are() {
    let reference = load("dare.json");
    let cases = reference["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for (index, case) in cases.iter().enumerate() {
        assert_eq!(case["convention"], "u = -K x, P solves the DARE");
        let problem = DareProblem::new(
            matrix(&case["A"]),
            matrix(&case["B"]),
            matrix(&case["Q"]),
            matrix(&case["R"]),
        )
        .unwrap();
        let solution = problem.solve(&RiccatiOptions::default()).unwrap();
        let (P, K) = (matrix(&case["P"]), matrix(&case["K"]));
        let relative = |found: &Array2<f64>, expected: &Array2<f64>| {
            let scale = expected.iter().fold(0.0_f64, |m, a| m.max(a.abs()));
            max_abs_difference(found, expected) / scale
        };
        let (P_error, K_error) = (relative(&solution.P, &P), relative(&solution.K, &K));
        println!(
            "dare case {index}: {} iterations, relative error P {P_error:.1e}, K {K_error:.1e}, ρ(A − BK) = {:.4}",
            solution.iterations, solution.spectral_radius
        );
        assert!(
            P_error < 1e-9,
            "case {index}: relative error in P {P_error:e}"
        );
        assert!(
            K_error < 1e-9,
            "case {index}: relative error in K {K_error:e}"
        );
        assert!(solution.spectral_radius < 1.0, "case {index}");
    }
}
