//! Parity with Gymnasium 1.4 (`tests/reference/classic_control.json`): each trajectory sets the
//! unwrapped environment's physical state, then steps; states must agree bit for bit (the
//! equations of motion in `dynamics` keep Gymnasium's order of operations), observations to
//! `f32` precision, rewards and terminations exactly.

use serde_json::Value;
use wengert_rl::env::{
    Acrobot, Action, CartPole, Env, MountainCar, MountainCarContinuous, Pendulum, PhysicalState,
};

const REFERENCE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/reference/classic_control.json"
));

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().expect("a number"))
        .collect()
}

/// Replays one trajectory; returns the number of steps checked.
fn replay<E, const N: usize>(mut env: E, trajectory: &Value) -> usize
where
    E: Env + PhysicalState<State = [f64; N]>,
{
    let name = trajectory["env"].as_str().unwrap();
    let init: [f64; N] = floats(&trajectory["init_state"]).try_into().unwrap();
    env.set_state(init);
    let steps = trajectory["steps"].as_array().unwrap();
    for (t, expected) in steps.iter().enumerate() {
        let continuous: Vec<f32>;
        let action = match &expected["action"] {
            Value::Array(_) => {
                continuous = floats(&expected["action"])
                    .iter()
                    .map(|&a| a as f32)
                    .collect();
                Action::Continuous(&continuous)
            }
            a => Action::Discrete(a.as_u64().unwrap() as usize),
        };
        let step = env
            .step(action)
            .unwrap_or_else(|e| panic!("{name} step {t}: {e}"));
        for (i, (got, want)) in env
            .state()
            .iter()
            .zip(floats(&expected["state"]))
            .enumerate()
        {
            assert!(
                got.to_bits() == want.to_bits(),
                "{name} step {t}: state[{i}] = {got:e}, Gymnasium {want:e}"
            );
        }
        for (i, (got, want)) in step
            .observation
            .iter()
            .zip(floats(&expected["obs"]))
            .enumerate()
        {
            assert_eq!(f64::from(*got), want, "{name} step {t}: obs[{i}]");
        }
        assert_eq!(
            step.reward,
            expected["reward"].as_f64().unwrap(),
            "{name} step {t}: reward"
        );
        assert_eq!(
            step.terminated,
            expected["terminated"].as_bool().unwrap(),
            "{name} step {t}: terminated"
        );
        assert!(!step.truncated);
    }
    steps.len()
}

#[test]
fn classic_control_reproduces_gymnasium() {
    let reference: Value = serde_json::from_str(REFERENCE).unwrap();
    let mut checked = std::collections::BTreeMap::new();
    for trajectory in reference["trajectories"].as_array().unwrap() {
        let name = trajectory["env"].as_str().unwrap();
        let steps = match name {
            "CartPole-v1" => replay(CartPole::new(), trajectory),
            "Pendulum-v1" => replay(Pendulum::new(), trajectory),
            "MountainCar-v0" => replay(MountainCar::new(), trajectory),
            "MountainCarContinuous-v0" => replay(MountainCarContinuous::new(), trajectory),
            "Acrobot-v1" => replay(Acrobot::new(), trajectory),
            other => panic!("no environment for reference trajectory {other}"),
        };
        *checked.entry(name).or_insert(0) += steps;
    }
    assert_eq!(
        checked.len(),
        5,
        "every environment has reference data: {checked:?}"
    );
}
