//! Parity with `tests/reference/frozenlake_values.json`: optimal `V` and `Q` of Gymnasium's
//! FrozenLake-v1 (4×4, slippery), computed by value iteration on Gymnasium's own `env.P`. Every
//! planner must match to 1e-10 and return the same greedy policy.

use serde_json::Value;
use wengert_rl::env::FrozenLake;
use wengert_rl::tabular::{
    Backups, Solution, action_values, greedy_action, modified_policy_iteration, policy_iteration,
    value_iteration,
};

const REFERENCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/reference/frozenlake_values.json"
));

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn planners_reproduce_gymnasium_frozenlake_values() {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let cases = reference["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let map = case["map"].as_str().unwrap();
        let lake = match map {
            "4x4 slippery" => FrozenLake::four_by_four(true),
            "4x4" => FrozenLake::four_by_four(false),
            "8x8 slippery" => FrozenLake::eight_by_eight(true),
            "8x8" => FrozenLake::eight_by_eight(false),
            other => panic!("unknown map {other}"),
        };
        let gamma = case["gamma"].as_f64().unwrap();
        let expected_values = floats(&case["V"]);
        let expected_q: Vec<Vec<f64>> = case["greedy_Q"]
            .as_array()
            .unwrap()
            .iter()
            .map(floats)
            .collect();
        let expected_policy: Vec<usize> = expected_q.iter().map(|q| greedy_action(q)).collect();

        let tolerance = 1e-14;
        let solutions: Vec<(&str, Solution)> = vec![
            (
                "value iteration",
                value_iteration(lake.model(), gamma, tolerance),
            ),
            (
                "policy iteration",
                policy_iteration(lake.model(), gamma, tolerance),
            ),
            (
                "MPI k=1",
                modified_policy_iteration(lake.model(), gamma, Backups::Finite(1), tolerance),
            ),
            (
                "MPI k=5",
                modified_policy_iteration(lake.model(), gamma, Backups::Finite(5), tolerance),
            ),
            (
                "MPI k=∞",
                modified_policy_iteration(lake.model(), gamma, Backups::Infinite, tolerance),
            ),
        ];
        for (name, solution) in &solutions {
            for (s, (got, want)) in solution.values.iter().zip(&expected_values).enumerate() {
                assert!(
                    (got - want).abs() < 1e-10,
                    "{map} γ={gamma} {name}: V({s}) = {got} vs {want}"
                );
            }
            let q = action_values(lake.model(), &solution.values, gamma);
            for (s, (got, want)) in q.iter().zip(&expected_q).enumerate() {
                for a in 0..4 {
                    assert!(
                        (got[a] - want[a]).abs() < 1e-10,
                        "{map} γ={gamma} {name}: Q({s}, {a})"
                    );
                }
            }
            assert_eq!(
                solution.policy, expected_policy,
                "{map} γ={gamma} {name}: greedy policy"
            );
        }
    }
}
