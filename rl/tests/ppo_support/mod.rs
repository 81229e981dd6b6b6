//! What the learning tests of PPO and recurrent PPO share: a preset with settings changed as
//! `--set key=value` changes them, and the checks of a run — that it learns, that it reports
//! PPO's diagnostics, that a configuration is refused.

use wengert_rl::algorithms::preset;
use wengert_rl::common::config::set;
use wengert_rl::common::trainer::{Trained, Trainer, train};
use wengert_rl::train::evaluate;

/// `algorithm`'s preset for `env_id` with `settings` set in order, as on the command line.
pub fn preset_with<T: Trainer>(env_id: &str, settings: &[(&str, &str)]) -> T::Config {
    let mut config: T::Config = preset(T::NAME, env_id).unwrap();
    for (key, value) in settings {
        set(&mut config, key, value).unwrap();
    }
    config
}

/// Trains `T` on `env_id`.
fn run<T: Trainer>(env_id: &str, config: &T::Config) -> Trained<T::Agent> {
    train::<T>(env_id, config, |_| true).unwrap()
}

/// Trains `T` and checks that it learns: the last mean return passes `last_above` and
/// `factor` times the first, and three deterministic evaluation episodes each pass
/// `evaluation_above`.
pub fn assert_learns<T: Trainer>(
    env_id: &str,
    config: &T::Config,
    last_above: f64,
    factor: f64,
    evaluation_above: f64,
) {
    let trained = run::<T>(env_id, config);
    let first = trained.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = trained.history.last().unwrap().mean_return.unwrap();
    assert!(
        last > last_above && last > factor * first,
        "mean return {last} (first {first})"
    );
    let evaluation = evaluate(&trained.agent, 3, 0).unwrap();
    assert!(
        evaluation.iter().all(|r| *r > evaluation_above),
        "{evaluation:?}"
    );
}

/// Trains `T` for `iterations` iterations on a task whose returns are negative (Pendulum's) and
/// checks that every iteration reports PPO's diagnostics, finite, with a non-negative
/// approximate KL, and that the agent acts.
pub fn assert_reports_ppo_diagnostics<T: Trainer>(
    env_id: &str,
    config: &T::Config,
    iterations: usize,
) {
    let trained = run::<T>(env_id, config);
    assert_eq!(trained.history.len(), iterations);
    for m in &trained.history {
        for name in [
            "policy_loss",
            "value_loss",
            "entropy",
            "approx_kl",
            "clip_fraction",
            "explained_variance",
        ] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite(), "{name} = {value}");
        }
        assert!(m.get("approx_kl").unwrap() >= 0.0);
    }
    assert!(evaluate(&trained.agent, 1, 0).unwrap()[0] < 0.0);
}

/// The error with which training `T` refuses `config`.
pub fn refusal<T: Trainer>(env_id: &str, config: &T::Config) -> String {
    train::<T>(env_id, config, |_| true)
        .err()
        .expect("the configuration is refused")
        .to_string()
}
