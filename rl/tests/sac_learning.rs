//! SAC smoke tests: it learns a little of Pendulum within seconds, reports its diagnostics,
//! repeats itself exactly for a seed, and rejects what it cannot train.

use wengert_rl::algorithms::sac::{Sac, SacConfig};
use wengert_rl::algorithms::{self, preset};
use wengert_rl::common::off_policy::ActionNoise;
use wengert_rl::common::trainer::{Trained, train_from};
use wengert_rl::continuous::ContinuousAgent;
use wengert_rl::policy::Actions;
use wengert_rl::train::{Agent, TrainError};

mod pendulum;

fn train(env_id: &str, config: &SacConfig) -> Result<Trained<ContinuousAgent>, TrainError> {
    train_from::<Sac>(env_id, config, None, |_| true)
}

/// Small networks and batches: about 3 CPU-seconds in release mode.
fn small(seed: u64, total_timesteps: usize) -> SacConfig {
    let mut config = SacConfig {
        seed,
        ..preset("sac", "Pendulum-v1").unwrap()
    };
    config.core.total_timesteps = total_timesteps;
    (config.core.hidden, config.core.batch_size) = (vec![32, 32], 64);
    config
}

#[test]
fn sac_improves_on_pendulum_within_6k_steps() {
    pendulum::improves(&train("Pendulum-v1", &small(2, 6000)).unwrap());
}

#[test]
fn sac_reports_alpha_entropy_losses_and_throughput() {
    let run = train("Pendulum-v1", &small(1, 2000)).unwrap();
    assert_eq!(run.history.len(), 2);
    let last = run.history.last().unwrap();
    for name in [
        "critic_loss",
        "actor_loss",
        "alpha_loss",
        "alpha",
        "entropy",
        "q_mean",
        "steps_per_second",
        "gradient_steps_per_second",
    ] {
        let value = last.get(name).unwrap_or_else(|| panic!("{name} missing"));
        assert!(value.is_finite(), "{name} = {value}");
    }
    // Every report has the same columns (the command line writes them to one CSV).
    let names = |i: usize| {
        run.history[i]
            .losses
            .iter()
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
    };
    assert_eq!(names(0), names(1));
    // Every step after learning_starts = 100 took one gradient step.
    assert_eq!(last.get("gradient_steps"), Some(1900.0));
    // α started at 1 and is tuned: it has moved.
    assert!(last.get("alpha").unwrap() < 1.0);
    // The deterministic action is tanh(μ(s)) scaled from [−1, 1] to Pendulum's [−2, 2].
    let observations = ndarray::array![[1.0f32, 0.0, 0.5], [-0.6, 0.8, -3.0]];
    let out = nn::Module::forward(
        &run.agent.actor,
        &run.agent.store().constants(),
        &autograd::Var::constant(observations.clone()),
    );
    let Actions::Continuous(actions) = run.agent.act(&observations) else {
        panic!("continuous actions")
    };
    for i in 0..2 {
        let mu = out.value()[[i, 0]];
        assert!((actions[[i, 0]] - 2.0 * mu.tanh()).abs() < 1e-6);
    }
    // The checkpointable store holds every network, actor first.
    let store = run.agent.store();
    for name in [
        "actor.0.weight",
        "critic.q1.0.weight",
        "critic_target.q2.4.bias",
        "temperature.log_alpha",
    ] {
        assert!(store.id(name).is_some(), "{name}");
    }
}

#[test]
fn a_fixed_alpha_stays_fixed_and_action_noise_is_accepted() {
    let config = SacConfig {
        autotune: false,
        alpha: 0.05,
        action_noise: ActionNoise::OrnsteinUhlenbeck { sigma: 0.3 },
        ..small(1, 1000)
    };
    let run = train("Pendulum-v1", &config).unwrap();
    let last = run.history.last().unwrap();
    assert!((last.get("alpha").unwrap() - 0.05).abs() < 1e-7);
    assert!(last.get("alpha_loss").unwrap().is_nan());
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let run = || {
        let run = train(
            "Pendulum-v1",
            &SacConfig {
                log_interval: 100,
                ..small(5, 400)
            },
        )
        .unwrap();
        run.history
            .iter()
            .map(|m| {
                // bit for bit (NaN, the warm-up's missing loss, included)
                let bits = |name| m.get(name).map(f64::to_bits);
                (
                    m.mean_return.map(f64::to_bits),
                    bits("critic_loss"),
                    bits("alpha"),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(run(), run());
}

#[test]
fn discrete_action_spaces_and_bad_settings_are_rejected_with_a_reason() {
    let error = train("CartPole-v1", &preset("sac", "CartPole-v1").unwrap())
        .err()
        .unwrap();
    assert!(error.to_string().contains("discrete"), "{error}");
    let error = train(
        "Pendulum-v1",
        &SacConfig {
            alpha: 0.0,
            ..small(1, 10)
        },
    )
    .err()
    .unwrap();
    assert!(
        error.to_string().contains("`alpha`") && error.to_string().contains("(0, ∞)"),
        "{error}"
    );
    let mut config = small(1, 10);
    config.core.batch_size = 0;
    let error = train("Pendulum-v1", &config).err().unwrap();
    assert!(error.to_string().contains("batch_size"), "{error}");

    // Through the registry, as the command line calls it.
    let error = algorithms::train("sac", "CartPole-v1", 1, &[], &mut |_| true)
        .err()
        .unwrap();
    assert!(error.to_string().contains("does not handle"), "{error}");
    let settings = [("learning_rat".to_string(), "1e-3".to_string())];
    let error = algorithms::train("sac", "Pendulum-v1", 1, &settings, &mut |_| true)
        .err()
        .unwrap();
    assert!(error.to_string().contains("learning_rate"), "{error}");
}

#[test]
fn the_registry_trains_each_continuous_algorithm_by_name() {
    for name in ["sac", "td3", "ddpg"] {
        let settings = [
            ("total_timesteps".to_string(), "300".to_string()),
            ("learning_starts".to_string(), "100".to_string()),
            ("hidden".to_string(), "16".to_string()),
        ];
        let run = algorithms::train(name, "Pendulum-v1", 1, &settings, &mut |_| true).unwrap();
        assert_eq!(run.history.last().unwrap().env_steps, 300, "{name}");
        assert!(run.config.contains("total_timesteps = 300"), "{name}");
        let returns = wengert_rl::train::evaluate(run.agent.as_ref(), 1, 0).unwrap();
        assert!(returns[0] < 0.0);
    }
}
