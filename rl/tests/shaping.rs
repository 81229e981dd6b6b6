//! Potential-based reward shaping (Ng, Harada & Russell, 1999) checked by dynamic programming on
//! slippery FrozenLake 8×8: the shaped MDP has `Q̃* = Q* − Φ` and the same optimal policy; a
//! bonus of the same size that is not a potential difference changes the optimal policy; and
//! the wrapper's rewards telescope along real episodes, with `Φ(terminal) = 0`. The same on
//! MountainCar-v0 with `Φ ≈ V*` from value iteration on a grid, whose greedy policy reaches the
//! flag from every start state.

use wengert_rl::env::{
    Action, Env, FrozenLake, MountainCar, MountainCarValue, Shaping, VSTAR_GRID, make, shape_model,
    shape_model_with,
};
use wengert_rl::tabular::{action_values, evaluate_policy, value_iteration};

const GAMMA: f64 = 0.99;

fn lake() -> FrozenLake {
    FrozenLake::eight_by_eight(true)
}

/// A potential with no structure at all: the invariance must not depend on `Φ` being sensible.
fn arbitrary_potential(states: usize) -> Vec<f64> {
    (0..states)
        .map(|s| ((s * 37 + 11) % 17) as f64 / 4.0 - 2.0)
        .collect()
}

/// `Q*` by value iteration on `model`.
fn optimal_q(model: &wengert_rl::env::TabularModel) -> (Vec<Vec<f64>>, Vec<usize>) {
    let solution = value_iteration(model, GAMMA, 1e-13);
    (
        action_values(model, &solution.values, GAMMA),
        solution.policy,
    )
}

#[test]
fn shaping_by_a_potential_shifts_q_star_by_phi_and_keeps_the_optimal_policy() {
    let lake = lake();
    let (q, policy) = optimal_q(lake.model());
    let v_star = value_iteration(lake.model(), GAMMA, 1e-13).values;
    for phi in [arbitrary_potential(64), v_star] {
        let (q_shaped, policy_shaped) = optimal_q(&shape_model(lake.model(), &phi, GAMMA));
        for s in 0..64 {
            for a in 0..4 {
                let expected = q[s][a] - phi[s];
                assert!(
                    (q_shaped[s][a] - expected).abs() < 1e-9,
                    "Q̃*({s}, {a}) = {} but Q* − Φ = {expected}",
                    q_shaped[s][a]
                );
            }
        }
        assert_eq!(policy_shaped, policy);
    }
}

#[test]
fn with_phi_equal_to_v_star_every_shaped_optimal_value_is_zero() {
    let lake = lake();
    let v_star = value_iteration(lake.model(), GAMMA, 1e-13).values;
    let shaped = value_iteration(&shape_model(lake.model(), &v_star, GAMMA), GAMMA, 1e-13);
    assert!(
        shaped.values.iter().all(|v| v.abs() < 1e-9),
        "{:?}",
        shaped.values
    );
}

#[test]
fn without_the_terminal_convention_q_star_is_no_longer_shifted_by_phi() {
    // F = γ Φ(s') − Φ(s) even into terminal states: the goal and holes then pay γ Φ(s_T).
    let lake = lake();
    let (q, _) = optimal_q(lake.model());
    let phi = arbitrary_potential(64);
    let wrong = shape_model_with(lake.model(), |s, t| GAMMA * phi[t.next_state] - phi[s]);
    let (q_wrong, _) = optimal_q(&wrong);
    let largest_gap = (0..64)
        .flat_map(|s| (0..4).map(move |a| (s, a)))
        .map(|(s, a)| (q_wrong[s][a] - (q[s][a] - phi[s])).abs())
        .fold(0.0, f64::max);
    assert!(largest_gap > 0.1, "{largest_gap}");
}

/// The kept counterexample: a bonus for **entering the start cell**, as large as the largest
/// `|F|` of the `Φ = V*` shaping. It is not a potential difference (a loop back into the start
/// pays it again and again), and the optimal policy changes: it hangs around the start, and
/// reaches the goal less often.
#[test]
fn a_bonus_of_the_same_size_that_is_not_a_potential_changes_the_optimal_policy() {
    let lake = lake();
    let model = lake.model();
    let v_star = value_iteration(model, GAMMA, 1e-13).values;
    let shaped = &shape_model(model, &v_star, GAMMA);
    let size = (0..64)
        .flat_map(|s| (0..4).flat_map(move |a| shaped.outcomes(s, a).to_vec()))
        .zip((0..64).flat_map(|s| (0..4).flat_map(move |a| model.outcomes(s, a).to_vec())))
        .map(|(shaped, plain)| (shaped.reward - plain.reward).abs())
        .fold(0.0, f64::max);
    assert!(size > 0.0);
    let start = 0;
    let bonus = shape_model_with(model, |_, t| {
        if t.next_state == start && !t.terminated {
            size
        } else {
            0.0
        }
    });
    let (_, policy) = optimal_q(model);
    let (_, policy_bonus) = optimal_q(&bonus);
    let changed = (0..64).filter(|&s| policy[s] != policy_bonus[s]).count();
    assert!(changed > 0);
    // Judged by the true reward, the bonus's policy is worse from the start.
    let (true_value_bonus, _) = evaluate_policy(model, &policy_bonus, GAMMA, 1e-12);
    assert!(
        true_value_bonus[start] < v_star[start] - 1e-3,
        "{} vs {}",
        true_value_bonus[start],
        v_star[start]
    );
}

#[test]
fn the_wrapper_telescopes_along_episodes_and_zeroes_phi_at_termination() {
    // Σ_t γ^t r̃_t = Σ_t γ^t r_t + γ^T Φ(s_T)[not terminated] − Φ(s_0), episode by episode.
    let shaping = Shaping::parse("distance:2", GAMMA).unwrap();
    let potential = shaping.potential("PointNavigation-v0").unwrap();
    let mut plain = make("PointNavigation-v0").unwrap();
    let mut shaped = make(&shaping.wrap_id("PointNavigation-v0")).unwrap();
    let mut seen = (false, false);
    for (seed, push) in [(0, [1.0_f32, 1.0]), (1, [-1.0, 0.3])] {
        let first = plain.reset(Some(seed));
        assert_eq!(shaped.reset(Some(seed)), first);
        let (mut discount, mut plain_return, mut shaped_return) = (1.0, 0.0, 0.0);
        loop {
            let a = plain.step(Action::Continuous(&push)).unwrap();
            let b = shaped.step(Action::Continuous(&push)).unwrap();
            assert_eq!((a.terminated, a.truncated), (b.terminated, b.truncated));
            plain_return += discount * a.reward;
            shaped_return += discount * b.reward;
            discount *= GAMMA;
            if a.done() {
                let last = if a.terminated {
                    0.0
                } else {
                    discount * potential(&a.observation)
                };
                let expected = plain_return + last - potential(&first);
                assert!((shaped_return - expected).abs() < 1e-9);
                seen = (seen.0 || a.terminated, seen.1 || a.truncated);
                break;
            }
        }
    }
    assert_eq!(seen, (true, true), "one episode of each ending");
}

#[test]
fn a_shaped_environment_resumes_bit_for_bit_and_bad_shapings_are_named() {
    let id = Shaping::parse("height:50", GAMMA)
        .unwrap()
        .wrap_id("MountainCar-v0");
    let mut env = make(&id).unwrap();
    env.reset(Some(4));
    env.step(Action::Discrete(2)).unwrap();
    let mut copy = make(&id).unwrap();
    copy.load_state(&env.save_state().unwrap()).unwrap();
    for t in 0..300 {
        let action = Action::Discrete(t % 3);
        let (a, b) = (env.step(action).unwrap(), copy.step(action).unwrap());
        assert_eq!(a, b);
        if a.done() {
            assert_eq!(env.reset(None), copy.reset(None));
        }
    }
    let error = make("CartPole-v1+shaping=value:1@0.99")
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("FrozenLake") && error.contains("CartPole-v1"),
        "{error}"
    );
    let error = Shaping::parse("speed", GAMMA).unwrap_err().to_string();
    assert!(
        error.contains("height") && error.contains("`speed`"),
        "{error}"
    );
}

// ---- MountainCar-v0: Φ ≈ V* by value iteration on a grid ----

/// Steps until MountainCar-v0 reaches the flag from `start` under `policy` (at most `limit`).
fn steps_to_flag(
    start: [f64; 2],
    limit: usize,
    policy: impl Fn([f64; 2]) -> usize,
) -> Option<usize> {
    let mut state = start;
    for t in 1..=limit {
        let (next, terminated) = MountainCar::dynamics(state, policy(state));
        if terminated {
            return Some(t);
        }
        state = next;
    }
    None
}

/// `V(n) = −Σ_{t<n} γ^t`, the return of reaching the flag in `n` steps.
fn return_of(steps: usize) -> f64 {
    -(1.0 - GAMMA.powi(steps as i32)) / (1.0 - GAMMA)
}

#[test]
fn the_discretised_v_star_of_mountain_car_is_sensible_and_its_greedy_policy_reaches_the_flag() {
    let value = MountainCarValue::solve(GAMMA, VSTAR_GRID, VSTAR_GRID);
    // push the way the car moves: the energy-pumping heuristic, a known good policy
    let pump = |s: [f64; 2]| if s[1] < 0.0 { 0 } else { 2 };
    // (relative gap, start, V*, the greedy policy's return) from every start
    let mut gaps = Vec::new();
    for k in 0..=20 {
        let start = [-0.6 + 0.01 * f64::from(k), 0.0];
        let greedy =
            steps_to_flag(start, 200, |s| value.greedy_action(s, GAMMA)).unwrap_or_else(|| {
                panic!("the greedy policy of V* never reaches the flag from {start:?}")
            });
        let heuristic = steps_to_flag(start, 200, pump).expect("pumping reaches the flag");
        // at least as good as the heuristic, and V* predicts what the greedy policy collects
        assert!(
            greedy <= heuristic,
            "from {start:?}: greedy {greedy} > pumping {heuristic} steps"
        );
        let (predicted, achieved) = (value.value(start), return_of(greedy));
        gaps.push((
            (predicted / achieved - 1.0).abs(),
            start,
            predicted,
            achieved,
        ));
    }
    // the grid's interpolation diffuses values a little (a few steps' worth of return)
    let (gap, start, predicted, achieved) = gaps
        .into_iter()
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .expect("21 starts");
    assert!(
        gap < 0.06,
        "from {start:?}: V* = {predicted}, but the greedy policy's return is {achieved}"
    );
    // far from the flag is worse than close to it; one step from it, −1
    assert!(value.value([-0.5, 0.0]) < value.value([0.3, 0.04]));
    assert!((value.value([0.49, 0.03]) + 1.0).abs() < 0.05);
}

#[test]
fn on_the_discretised_mountain_car_shaping_by_v_star_keeps_the_optimal_policy() {
    // a coarse grid, so that Q* of the shaped model takes a fraction of a second
    let grid = MountainCarValue::solve(GAMMA, 41, 41);
    let model = grid.model();
    let (q, policy) = optimal_q(&model);
    let phi = grid.node_values();
    let (q_shaped, policy_shaped) = optimal_q(&shape_model(&model, phi, GAMMA));
    for s in 0..phi.len() {
        for a in 0..3 {
            assert!((q_shaped[s][a] - (q[s][a] - phi[s])).abs() < 1e-6);
        }
    }
    assert_eq!(policy_shaped, policy);
}

#[test]
fn the_vstar_wrapper_adds_gamma_phi_next_minus_phi_with_phi_zero_at_the_flag() {
    let shaping = Shaping::parse("vstar", GAMMA).unwrap();
    let phi = shaping.potential("MountainCar-v0").unwrap();
    let value = MountainCarValue::solve(GAMMA, VSTAR_GRID, VSTAR_GRID);
    let mut plain = make("MountainCar-v0").unwrap();
    let mut shaped = make(&shaping.wrap_id("MountainCar-v0")).unwrap();
    let mut seen = (false, false);
    // the greedy policy of V* (ends at the flag), then doing nothing (truncated at 200 steps)
    for (seed, greedy) in [(3, true), (4, false)] {
        let mut observation = plain.reset(Some(seed));
        assert_eq!(shaped.reset(Some(seed)), observation);
        let first = observation.clone();
        let (mut discount, mut plain_return, mut shaped_return) = (1.0, 0.0, 0.0);
        loop {
            let s = [f64::from(observation[0]), f64::from(observation[1])];
            let action = if greedy {
                value.greedy_action(s, GAMMA)
            } else {
                1
            };
            let a = plain.step(Action::Discrete(action)).unwrap();
            let b = shaped.step(Action::Discrete(action)).unwrap();
            assert_eq!(a.observation, b.observation);
            // F = γ Φ(s') − Φ(s), Φ(s') = 0 when s' is the flag
            let phi_next = if a.terminated {
                0.0
            } else {
                phi(&a.observation)
            };
            let f = GAMMA * phi_next - phi(&observation);
            assert!(
                (b.reward - (a.reward + f)).abs() < 1e-12,
                "{} ≠ {} + {f}",
                b.reward,
                a.reward
            );
            plain_return += discount * a.reward;
            shaped_return += discount * b.reward;
            discount *= GAMMA;
            observation = a.observation.clone();
            if a.done() {
                // Σ γ^t r̃_t = Σ γ^t r_t + γ^T Φ(s_T) − Φ(s_0)
                let expected = plain_return
                    + if a.terminated {
                        0.0
                    } else {
                        discount * phi_next
                    }
                    - phi(&first);
                assert!((shaped_return - expected).abs() < 1e-9);
                seen = (seen.0 || a.terminated, seen.1 || a.truncated);
                break;
            }
        }
    }
    assert_eq!(seen, (true, true), "one episode of each ending");
    let error = Shaping::parse("vstar", GAMMA)
        .unwrap()
        .potential("MountainCarContinuous-v0")
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("vstar") && error.contains("MountainCar-v0"),
        "{error}"
    );
}
