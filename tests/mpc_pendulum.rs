//! MPC over iLQR on the rl crate's Pendulum-v1 — the true environment, stepped through its
//! Gymnasium contract — balances from any start and scores ≥ −200 on average over 10 episodes;
//! and model-based RL (`control::model_based::run`) acts in it through `wengert::plant::GymPlant`.

use ndarray::array;
use std::sync::Arc;
use wengert::control::ilqr::IlqrOptions;
use wengert::control::model_based::{MbmpcConfig, pendulum_v1_cost, run};
use wengert::control::planners::{Mpc, Planner};
use wengert::control::systems::pendulum_v1::planning_problem;
use wengert::plant::GymPlant;
use wengert::rl::env::{Action, Env, Pendulum, PhysicalState, TimeLimit};

#[test]
fn mpc_balances_the_pendulum_v1_environment_from_any_start() {
    let options = IlqrOptions {
        max_iterations: 5,
        ..IlqrOptions::default()
    };
    let mut mpc = Mpc::new(planning_problem(40), options).with_first_call_iterations(100);
    let mut returns = Vec::new();
    for episode in 0..10 {
        let mut env = TimeLimit::new(Pendulum::new(), 200);
        env.reset(Some(2024 + episode));
        mpc.reset();
        let mut total = 0.0;
        loop {
            let [theta, theta_dot] = env.inner().state();
            let u = mpc.plan(&array![theta, theta_dot]);
            let step = env.step(Action::Continuous(&[u[0] as f32])).unwrap();
            total += step.reward;
            if step.done() {
                assert!(step.truncated && !step.terminated);
                break;
            }
        }
        let [theta, theta_dot] = env.inner().state();
        let upright = Pendulum::angle_normalize(theta).abs();
        assert!(
            upright < 0.05 && theta_dot.abs() < 0.1,
            "episode {episode} ends at θ = {theta}, θ̇ = {theta_dot}"
        );
        returns.push(total);
    }
    let average = returns.iter().sum::<f64>() / returns.len() as f64;
    assert!(average >= -200.0, "average return {average} ({returns:?})");
}

#[test]
fn mpc_on_the_learned_model_beats_random_actions_on_pendulum_v1() {
    let config = MbmpcConfig {
        random_episodes: 5,
        rounds: 2,
        episodes_per_round: 2,
        ..MbmpcConfig::default()
    };
    let result = run(
        &mut GymPlant::new(Pendulum::new()),
        Arc::new(pendulum_v1_cost),
        &config,
        |metrics| println!("{metrics:?}"),
    );
    let random = result.random_returns.iter().sum::<f64>() / result.random_returns.len() as f64;
    let last = result.rounds.last().expect("a round").mean_return();
    println!("random {random:.1}, MPC on the learned model {last:.1}");
    assert!(random < -900.0, "random actions scored {random}");
    assert!(last >= -600.0, "MPC on the learned model scored {last}");
}
