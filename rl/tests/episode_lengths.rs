//! Every trainer reports the lengths of the episodes that finished in each iteration: one per
//! finished episode, and each the true environment's, whatever the reward (shaping changes
//! rewards, never when an episode ends).

use wengert_rl::algorithms::train;
use wengert_rl::train::IterationMetrics;

fn history(algo: &str, env: &str, settings: &[(&str, &str)]) -> Vec<IterationMetrics> {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    train(algo, env, 1, &settings, &mut |_| true)
        .unwrap_or_else(|e| panic!("{algo} on {env}: {e}"))
        .history
}

/// One length per finished episode, each within the time limit, and all of them together no
/// more than the steps taken.
fn check_lengths(history: &[IterationMetrics], time_limit: usize) -> Vec<usize> {
    let lengths: Vec<usize> = history
        .iter()
        .flat_map(|m| m.episode_lengths.iter().copied())
        .collect();
    let last = history.last().expect("an iteration");
    assert_eq!(
        lengths.len(),
        last.episodes,
        "one length per finished episode"
    );
    assert!(!lengths.is_empty(), "some episode finished");
    assert!(lengths.iter().all(|&l| (1..=time_limit).contains(&l)));
    assert!(lengths.iter().sum::<usize>() <= last.env_steps);
    lengths
}

#[test]
fn on_policy_trainers_report_the_lengths_of_finished_episodes() {
    let settings = [
        ("total_timesteps", "512"),
        ("num_envs", "2"),
        ("num_steps", "64"),
        ("hidden", "8,8"),
    ];
    check_lengths(&history("ppo", "CartPole-v1", &settings), 500);
}

#[test]
fn off_policy_trainers_report_the_lengths_of_finished_episodes() {
    let settings = [
        ("total_timesteps", "420"),
        ("learning_starts", "400"),
        ("hidden", "8,8"),
        ("log_interval", "200"),
    ];
    let lengths = check_lengths(&history("sac", "Pendulum-v1", &settings), 200);
    assert_eq!(lengths, [200, 200]); // Pendulum ends only at its time limit
}

#[test]
fn shaped_mountain_car_episodes_keep_the_time_limit_of_the_true_environment() {
    let settings = [
        ("total_timesteps", "800"),
        ("num_envs", "2"),
        ("num_steps", "200"),
        ("hidden", "8,8"),
        ("shaping", "height:50"),
    ];
    let lengths = check_lengths(&history("ppo", "MountainCar-v0", &settings), 200);
    // an untrained policy does not reach the flag: every episode is cut at 200 steps
    assert_eq!(lengths, [200; 4]);
}
