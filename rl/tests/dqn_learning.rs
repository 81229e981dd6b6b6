//! DQN smoke tests: it learns CartPole within a small budget, every switch runs end to end, and
//! bad settings are rejected with a clear error.

use wengert_rl::algorithms::dqn::{Dqn, DqnConfig};
use wengert_rl::algorithms::{Run, preset, train_from};
use wengert_rl::common::trainer::Trainer;
use wengert_rl::train::evaluate;

/// A small, fast CartPole configuration: a 64×64 network, training from 1000 steps on.
const SMALL_CARTPOLE: [(&str, &str); 5] = [
    ("total_timesteps", "8000"),
    ("hidden", "64,64"),
    ("train_freq", "64"),
    ("gradient_steps", "32"),
    ("exploration_fraction", "0.3"),
];

/// Trains with the CartPole preset, [`SMALL_CARTPOLE`], `log_interval = 500`, seed 1, then
/// `settings`.
fn train(env: &str, settings: &[(&str, &str)]) -> Result<Run, String> {
    let settings: Vec<(String, String)> = SMALL_CARTPOLE
        .iter()
        .chain(&[("log_interval", "500")])
        .chain(settings)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    train_from("dqn", env, 1, &settings, None, &mut |_| true).map_err(|e| e.to_string())
}

#[test]
fn dqn_improves_on_cartpole_within_8k_steps() {
    let run = train("CartPole-v1", &[]).unwrap();
    let first = run.history.iter().find_map(|m| m.mean_return).unwrap();
    let last = run.history.last().unwrap();
    let last_return = last.mean_return.unwrap();
    // A random policy averages about 22.
    assert!(
        last_return > 80.0,
        "mean return {last_return} (first {first})"
    );
    assert!(last_return > 2.0 * first);
    let evaluation = evaluate(run.agent.as_ref(), 5, 0).unwrap();
    let mean = evaluation.iter().sum::<f64>() / 5.0;
    assert!(mean > 80.0, "{evaluation:?}");
    // Training phases at t = 1024, 1088, …, 8000 (the multiples of 64 past 1000), 32 steps each.
    assert_eq!(last.get("gradient_steps"), Some(110.0 * 32.0));
    assert!((last.get("epsilon").unwrap() - 0.04).abs() < 1e-12);
}

#[test]
fn every_switch_runs_and_reports_finite_metrics() {
    let switches = [
        ("total_timesteps", "2000"),
        ("learning_starts", "500"),
        ("double", "true"),
        ("dueling", "true"),
        ("prioritized", "true"),
        ("n_step", "3"),
        ("num_envs", "2"),
        ("anneal_lr", "true"),
    ];
    let run = train("CartPole-v1", &switches).unwrap();
    assert_eq!(run.history.len(), 4);
    assert!(run.agent.store().id("q.advantage.weight").is_some());
    let learning_rate_0: DqnConfig = preset("dqn", "CartPole-v1").unwrap();
    let learning_rate_0 = learning_rate_0.core.learning_rate;
    let mut last_beta = 0.0;
    for m in &run.history[1..] {
        for name in ["loss", "mean_q", "grad_norm", "gradient_steps_per_second"] {
            let value = m.get(name).unwrap();
            assert!(value.is_finite() && value >= 0.0, "{name} = {value}");
        }
        // α(t) = α₀ (1 − t / T), reported as the next phase will use it.
        let learning_rate = m.get("learning_rate").unwrap();
        let expected = learning_rate_0 * (1.0 - m.env_steps as f64 / 2000.0);
        assert_eq!(learning_rate, expected);
        assert!(learning_rate < learning_rate_0);
        let beta = m.get("beta").unwrap();
        assert!(beta > last_beta && beta <= 1.0);
        last_beta = beta;
    }
    assert_eq!(run.history.last().unwrap().env_steps, 2_000);
}

#[test]
fn the_iteration_count_is_the_number_of_reports() {
    // A report at every step passing a multiple of log_interval, and one at the last step.
    let base: DqnConfig = preset("dqn", "CartPole-v1").unwrap();
    for (total, envs, log_interval) in [
        (1000, 1, 250),
        (1001, 1, 250),
        (1000, 3, 250),
        (1000, 7, 5),
        (999, 4, 1000),
        (10, 3, 4),
    ] {
        let mut config = DqnConfig {
            num_envs: envs,
            log_interval,
            ..base.clone()
        };
        config.core.total_timesteps = total;
        let (mut t, mut reports) = (0, 0);
        while t < total {
            let before = t;
            t += envs;
            if t / log_interval > before / log_interval || t >= total {
                reports += 1;
            }
        }
        assert_eq!(
            Dqn::iterations(&config),
            reports,
            "{total} {envs} {log_interval}"
        );
    }
    let run = train(
        "CartPole-v1",
        &[
            ("total_timesteps", "1003"),
            ("num_envs", "3"),
            ("log_interval", "200"),
        ],
    )
    .unwrap();
    assert_eq!(run.history.len(), 6);
    assert_eq!(run.history.last().unwrap().env_steps, 1005);
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let settings = [
        ("total_timesteps", "1500"),
        ("learning_starts", "500"),
        ("prioritized", "true"),
    ];
    let run = || {
        let run = train("CartPole-v1", &settings).unwrap();
        let store = run.agent.store();
        let id = store.id("q.4.weight").unwrap();
        (
            store.value(id),
            run.history.last().unwrap().get("loss").map(f64::to_bits),
        )
    };
    assert_eq!(run(), run());
}

#[test]
fn the_registry_trains_dqn_with_settings_and_acts_greedily() {
    let settings = [
        ("total_timesteps", "600"),
        ("learning_starts", "300"),
        ("hidden", "16"),
        ("train_freq", "100"),
        ("gradient_steps", "2"),
        ("dueling", "true"),
    ]
    .map(|(k, v)| (k.to_string(), v.to_string()));
    let run = train_from("dqn", "Acrobot-v1", 3, &settings, None, &mut |_| true).unwrap();
    assert!(run.config.contains("dueling = true"));
    assert_eq!(run.agent.env_id(), "Acrobot-v1");
    assert!(run.agent.store().id("q.trunk.0.weight").is_some());
    assert_eq!(run.history.last().unwrap().get("gradient_steps"), Some(6.0));
}

#[test]
fn bad_settings_are_rejected_with_what_was_expected() {
    let error = train("Pendulum-v1", &[]).err().expect("an error");
    assert!(
        error.contains("does not handle the action space"),
        "{error}"
    );
    let error = train("CartPole-v1", &[("dueling", "true"), ("hidden", "[]")])
        .err()
        .expect("an error");
    assert!(error.contains("hidden layer"), "{error}");
    let error = train("CartPole-v1", &[("batch_size", "0")])
        .err()
        .expect("an error");
    assert!(
        error.contains("`batch_size`") && error.contains("[1, ∞)"),
        "{error}"
    );
    let error = train("CartPole-v1", &[("tau", "1.5")])
        .err()
        .expect("an error");
    assert!(
        error.contains("`tau`") && error.contains("(0, 1]"),
        "{error}"
    );
    let error = train("CartPole-v1", &[("tau", "0")])
        .err()
        .expect("an error");
    assert!(error.contains("`tau`"), "{error}");
    let error = train("CartPole-v1", &[("huber_delta", "nan")])
        .err()
        .expect("an error");
    assert!(error.contains("`huber_delta`"), "{error}");
    let error = train("CartPole-v1", &[("exploration_final_eps", "inf")])
        .err()
        .expect("an error");
    assert!(error.contains("`exploration_final_eps`"), "{error}");
    let error = train("CartPole-v1", &[("n_stpe", "3")])
        .err()
        .expect("an error");
    assert!(error.contains("n_step"), "{error}");
}
