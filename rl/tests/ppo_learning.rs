//! PPO smoke tests: it learns CartPole within a small budget, and runs on a continuous task.

mod ppo_support;

use ppo_support::{assert_learns, assert_reports_ppo_diagnostics, preset_with, refusal};
use wengert_rl::algorithms::ppo::Ppo;

#[test]
fn ppo_improves_on_cartpole_within_25k_steps() {
    let config = preset_with::<Ppo>(
        "CartPole-v1",
        &[("total_timesteps", "25600"), ("seed", "3")],
    );
    // A random policy averages about 22; PPO should be well past 100 by now.
    assert_learns::<Ppo>("CartPole-v1", &config, 100.0, 2.0, 50.0);
}

#[test]
fn ppo_runs_on_a_continuous_action_space_and_reports_its_diagnostics() {
    let config = preset_with::<Ppo>(
        "Pendulum-v1",
        &[
            ("total_timesteps", "4096"),
            ("num_steps", "512"),
            ("num_minibatches", "8"),
            ("update_epochs", "2"),
        ],
    );
    assert_reports_ppo_diagnostics::<Ppo>("Pendulum-v1", &config, 2);
}

#[test]
fn a_batch_that_does_not_split_into_minibatches_is_rejected() {
    let config = preset_with::<Ppo>(
        "Unknown-v0",
        &[
            ("num_envs", "3"),
            ("num_steps", "5"),
            ("num_minibatches", "4"),
        ],
    );
    let error = refusal::<Ppo>("CartPole-v1", &config);
    assert!(
        error.contains("does not split into num_minibatches = 4 minibatches"),
        "{error}"
    );
}
