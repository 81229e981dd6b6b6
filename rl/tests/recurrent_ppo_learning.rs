//! Recurrent PPO smoke tests: it improves on CartPoleNoVel-v1 (no velocities) within a small
//! budget, and runs on a continuous task with a shared LSTM, reporting its diagnostics.

mod ppo_support;

use ppo_support::{assert_learns, assert_reports_ppo_diagnostics, preset_with, refusal};
use wengert_rl::algorithms::recurrent_ppo::RecurrentPpo;

#[test]
fn recurrent_ppo_improves_on_cartpole_without_velocities_within_20k_steps() {
    let config = preset_with::<RecurrentPpo>(
        "CartPoleNoVel-v1",
        &[("total_timesteps", "20480"), ("seed", "1")],
    );
    // A random policy averages about 22.
    assert_learns::<RecurrentPpo>("CartPoleNoVel-v1", &config, 50.0, 2.5, 30.0);
}

#[test]
fn recurrent_ppo_runs_on_a_continuous_action_space_with_a_shared_lstm() {
    let config = preset_with::<RecurrentPpo>(
        "PendulumNoVel-v1",
        &[
            ("total_timesteps", "1024"),
            ("num_steps", "128"),
            ("batch_size", "64"),
            ("update_epochs", "2"),
            ("lstm_hidden_size", "16"),
            ("shared_lstm", "true"),
        ],
    );
    assert_reports_ppo_diagnostics::<RecurrentPpo>("PendulumNoVel-v1", &config, 2);
}

#[test]
fn a_minibatch_larger_than_the_rollout_is_rejected() {
    let config = preset_with::<RecurrentPpo>(
        "CartPoleNoVel-v1",
        &[("num_envs", "2"), ("num_steps", "8"), ("batch_size", "32")],
    );
    let error = refusal::<RecurrentPpo>("CartPoleNoVel-v1", &config);
    assert!(
        error.contains("batch_size = 32") && error.contains("16"),
        "{error}"
    );
}
