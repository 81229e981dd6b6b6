//! REINFORCE smoke tests: with a baseline it learns CartPole within a small budget; it runs
//! without the baseline, on a continuous action space, and through the registry; bad settings
//! are rejected.

use wengert_rl::algorithms::reinforce::{Reinforce, ReinforceConfig};
use wengert_rl::algorithms::{self, preset};
use wengert_rl::common::config::{Config, to_toml};
use wengert_rl::common::trainer::{Trained, train_from};
use wengert_rl::train::{PolicyAgent, TrainError, evaluate};

fn train(config: &ReinforceConfig) -> Result<Trained<PolicyAgent>, TrainError> {
    train_from::<Reinforce>("CartPole-v1", config, None, |_| true)
}

#[test]
fn reinforce_with_a_baseline_improves_on_cartpole_within_30k_steps() {
    // A larger step and a shorter baseline fit than the preset, to learn in seconds.
    let mut config = ReinforceConfig {
        policy_learning_rate: 3e-3,
        value_iterations: 10,
        seed: 1,
        ..preset("reinforce", "CartPole-v1").unwrap()
    };
    config.rollout.total_timesteps = 30_000;
    let trained = train(&config).unwrap();
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    // A random policy averages about 22.
    assert!(last > 100.0, "mean return {last} (first {first})");
    assert!(last > 2.0 * first, "mean return {last} (first {first})");
    // The baseline learns: it explains part of the returns' variance (averaged over the last
    // five batches, since one batch's figure is noisy; a broken regression stays near 0).
    let ev: Vec<f64> = trained
        .history
        .iter()
        .map(|m| m.get("explained_variance").unwrap())
        .collect();
    let recent = ev[ev.len() - 5..].iter().sum::<f64>() / 5.0;
    assert!(recent > 0.1, "explained variance {ev:?}");
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(evaluation.iter().all(|r| *r > 50.0), "{evaluation:?}");
}

#[test]
fn one_policy_step_per_batch_moves_the_policy_a_little() {
    let mut config = ReinforceConfig {
        value_iterations: 2,
        ..preset("reinforce", "CartPole-v1").unwrap()
    };
    config.rollout.total_timesteps = 4 * 2 * 256;
    config.rollout.num_envs = 2;
    config.rollout.num_steps = 256;
    let trained = train(&config).unwrap();
    assert_eq!(trained.history.len(), 4);
    for m in &trained.history {
        let kl = m.get("approx_kl").unwrap();
        assert!(kl > 0.0 && kl < 0.05, "approximate KL {kl}");
    }
}

#[test]
fn reinforce_runs_without_a_baseline_and_on_a_continuous_action_space() {
    let settings: Vec<(String, String)> = [
        ("total_timesteps", "1000"),
        ("num_envs", "2"),
        ("num_steps", "250"),
        ("value_iterations", "3"),
        ("baseline", "false"),
        ("ent_coef", "0.01"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let run = algorithms::train("reinforce", "Pendulum-v1", 3, &settings, &mut |_| true).unwrap();
    assert_eq!(run.history.len(), 2);
    for m in &run.history {
        for name in ["policy_loss", "value_loss", "entropy", "approx_kl"] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite(), "{name} = {value}");
        }
    }
    assert!(run.config.contains("baseline = false"), "{}", run.config);
}

#[test]
fn bad_settings_are_rejected_with_what_was_expected() {
    let mut config: ReinforceConfig = preset("reinforce", "CartPole-v1").unwrap();
    config.rollout.gamma = 1.5;
    let error = train(&config).err().unwrap().to_string();
    assert!(
        error.contains("`gamma`") && error.contains("[0, 1]"),
        "{error}"
    );
    let config = ReinforceConfig {
        policy_learning_rate: f64::NAN,
        ..preset("reinforce", "CartPole-v1").unwrap()
    };
    let error = train(&config).err().unwrap().to_string();
    assert!(error.contains("`policy_learning_rate`"), "{error}");
    let error = algorithms::train("reinforce", "CartPol-v1", 1, &[], &mut |_| true)
        .err()
        .unwrap();
    assert!(error.to_string().contains("CartPol-v1"), "{error}");
    let set = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    for (key, value) in [("hidden", "64,x"), ("activation", "gelu"), ("lr", "0.1")] {
        let error = algorithms::resolve("reinforce", "CartPole-v1", 1, &set(key, value))
            .unwrap_err()
            .to_string();
        assert!(error.contains(key), "{key}: {error}");
    }
    let error = algorithms::resolve("reinforce", "CartPole-v1", 1, &set("hidden", "64,0"))
        .unwrap_err()
        .to_string();
    assert!(error.contains("`hidden`"), "{error}");
}

/// Every numeric setting of the preset (integers, floats, lists of numbers) has a range.
#[test]
fn every_numeric_setting_has_a_range() {
    let config: ReinforceConfig = preset("reinforce", "CartPole-v1").unwrap();
    let table: toml::Table = toml::from_str(&to_toml(&config)).unwrap();
    for (key, value) in &table {
        let numeric = match value {
            toml::Value::Integer(_) | toml::Value::Float(_) => true,
            toml::Value::Array(items) => items.iter().all(|v| v.is_integer() || v.is_float()),
            _ => false,
        };
        let ranged = <ReinforceConfig as Config>::RANGES
            .iter()
            .any(|(k, _)| k == key);
        assert!(!numeric || ranged, "`{key}` has no range");
    }
}
