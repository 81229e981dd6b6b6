//! n-step transitions against hand-computed returns: inside an episode, and with the episode
//! ending by termination or truncation before a window is full.

use wengert_rl::buffers::{ActionShape, Experience, NStepAccumulator, Transition};
use wengert_rl::env::Action;

/// An emitted transition, owned: `(o[0], a, R, o'[0], terminated, γ^m)`.
type Emitted = (f32, usize, f64, f32, bool, f64);

fn record(transition: Transition<'_>) -> Emitted {
    let Action::Discrete(action) = transition.action else {
        panic!("discrete accumulator emitted a continuous action");
    };
    (
        transition.observation[0],
        action,
        transition.reward,
        transition.next_observation[0],
        transition.terminated,
        transition.discount,
    )
}

/// Steps `o_t → o_{t+1}` of one episode with observation `t + offset`, action `t`, and the
/// given rewards; the last step ends as `end` says (terminated, truncated).
fn run_episode(
    accumulator: &mut NStepAccumulator,
    offset: f32,
    rewards: &[f64],
    end: (bool, bool),
) -> Vec<Emitted> {
    let mut emitted = Vec::new();
    for (t, &reward) in rewards.iter().enumerate() {
        let last = t + 1 == rewards.len();
        let o = [t as f32 + offset];
        let next = [t as f32 + 1.0 + offset];
        let experience = Experience {
            observation: &o,
            action: Action::Discrete(t),
            reward,
            next_observation: &next,
            terminated: last && end.0,
            truncated: last && end.1,
        };
        accumulator.push(experience, |transition| emitted.push(record(transition)));
    }
    emitted
}

const GAMMA: f64 = 0.5;

/// n = 3, γ = ½, rewards 1, 2, 4, 8, 16 and no end: windows
/// `R_0 = 1 + ½·2 + ¼·4 = 3`, `R_1 = 2 + 2 + 2 = 6`, `R_2 = 4 + 4 + 4 = 12`, each bootstrapped
/// from `o_{t+3}` with `γ³ = ⅛`; the windows of steps 3 and 4 stay open.
#[test]
fn full_windows_inside_an_episode() {
    let mut accumulator = NStepAccumulator::new(3, GAMMA, 1, ActionShape::Discrete);
    let emitted = run_episode(
        &mut accumulator,
        0.0,
        &[1.0, 2.0, 4.0, 8.0, 16.0],
        (false, false),
    );
    assert_eq!(
        emitted,
        vec![
            (0.0, 0, 3.0, 3.0, false, 0.125),
            (1.0, 1, 6.0, 4.0, false, 0.125),
            (2.0, 2, 12.0, 5.0, false, 0.125),
        ]
    );
    assert_eq!(accumulator.pending(), 2);
}

/// n = 3, rewards 1, 2, 4, 8, terminated at `o_4`: after the full window of step 0, the
/// termination flushes steps 1, 2, 3 with `m = 3, 2, 1` rewards, all to `o_4`, all terminal:
/// `R_1 = 2 + 2 + 2 = 6`, `R_2 = 4 + 4 = 8`, `R_3 = 8`.
#[test]
fn termination_mid_window_flushes_terminal_partial_windows() {
    let mut accumulator = NStepAccumulator::new(3, GAMMA, 1, ActionShape::Discrete);
    let emitted = run_episode(&mut accumulator, 0.0, &[1.0, 2.0, 4.0, 8.0], (true, false));
    assert_eq!(
        emitted,
        vec![
            (0.0, 0, 3.0, 3.0, false, 0.125),
            (1.0, 1, 6.0, 4.0, true, 0.125),
            (2.0, 2, 8.0, 4.0, true, 0.25),
            (3.0, 3, 8.0, 4.0, true, 0.5),
        ]
    );
    assert_eq!(accumulator.pending(), 0);
}

/// n = 3, rewards 1, 2, truncated at `o_2` before any window is full: both windows flush to
/// `o_2`, not terminal (bootstrapped), with `R_0 = 1 + 1 = 2, γ² = ¼` and `R_1 = 2, γ = ½`.
/// The next episode starts from an empty window: its first transition sums only its own
/// rewards `1 + ½ + ¼ = 1.75`.
#[test]
fn truncation_mid_window_flushes_bootstrapped_partial_windows() {
    let mut accumulator = NStepAccumulator::new(3, GAMMA, 1, ActionShape::Discrete);
    let emitted = run_episode(&mut accumulator, 0.0, &[1.0, 2.0], (false, true));
    assert_eq!(
        emitted,
        vec![
            (0.0, 0, 2.0, 2.0, false, 0.25),
            (1.0, 1, 2.0, 2.0, false, 0.5)
        ]
    );
    assert_eq!(accumulator.pending(), 0);

    let emitted = run_episode(&mut accumulator, 100.0, &[1.0, 1.0, 1.0], (false, false));
    assert_eq!(emitted, vec![(100.0, 0, 1.75, 103.0, false, 0.125)]);
}

/// An episode ending exactly when the window fills: the full window is emitted once, flagged
/// terminal, followed by the shorter ones.
#[test]
fn termination_on_a_full_window() {
    let mut accumulator = NStepAccumulator::new(2, GAMMA, 1, ActionShape::Discrete);
    let emitted = run_episode(&mut accumulator, 0.0, &[4.0, 2.0], (true, false));
    assert_eq!(
        emitted,
        vec![
            (0.0, 0, 5.0, 2.0, true, 0.25),
            (1.0, 1, 2.0, 2.0, true, 0.5)
        ]
    );
}

/// `n = 1` reproduces the 1-step transitions with discount `γ`.
#[test]
fn one_step_is_the_identity() {
    let mut accumulator = NStepAccumulator::new(1, GAMMA, 1, ActionShape::Discrete);
    let emitted = run_episode(&mut accumulator, 0.0, &[1.0, 2.0, 3.0], (false, true));
    assert_eq!(
        emitted,
        vec![
            (0.0, 0, 1.0, 1.0, false, 0.5),
            (1.0, 1, 2.0, 2.0, false, 0.5),
            (2.0, 2, 3.0, 3.0, false, 0.5),
        ]
    );
}

/// Continuous actions travel through the window ring with their step.
#[test]
fn continuous_actions_follow_their_step() {
    let mut accumulator = NStepAccumulator::new(2, GAMMA, 1, ActionShape::Continuous(2));
    let mut actions = Vec::new();
    for t in 0..5 {
        let o = [t as f32];
        let a = [t as f32, -(t as f32)];
        let experience = Experience {
            observation: &o,
            action: Action::Continuous(&a),
            reward: 0.0,
            next_observation: &o,
            terminated: t == 4,
            truncated: false,
        };
        accumulator.push(experience, |transition| {
            let Action::Continuous(a) = transition.action else {
                unreachable!()
            };
            assert_eq!(a[0], transition.observation[0]);
            actions.push(a.to_vec());
        });
    }
    let expected: Vec<Vec<f32>> = (0..5).map(|t| vec![t as f32, -(t as f32)]).collect();
    assert_eq!(actions, expected);
}
