//! Stopping and continuing a run changes nothing: for every algorithm, K iterations in one go
//! equal k iterations, a snapshot, a restore into a fresh trainer, and K − k more — bit for bit
//! in the parameters, in every other part of the training state, and in the metrics.

use wengert_rl::algorithms::{Run, train_from};
use wengert_rl::snapshot::{TrainingState, Values};
use wengert_rl::train::IterationMetrics;

/// The metrics that depend on the clock (wall time, throughput, IMPALA's executor timings
/// `*_seconds`) are left out.
fn deterministic(m: &IterationMetrics) -> String {
    let losses: Vec<String> = m
        .losses
        .iter()
        .filter(|(name, _)| !name.ends_with("per_second") && !name.ends_with("_seconds"))
        .map(|(name, value)| format!("{name}={:x}", value.to_bits()))
        .collect();
    format!(
        "{} {} {:?} {} {:?} {}",
        m.iteration,
        m.env_steps,
        m.mean_return.map(f64::to_bits),
        m.episodes,
        m.episode_lengths,
        losses.join(" ")
    )
}

/// Every entry as its bits, so that NaN equals NaN and −0 differs from 0 (leaving out the
/// clock's: DQN's seconds spent in gradient steps).
fn bits(state: &TrainingState) -> Vec<(String, Vec<usize>, Vec<u64>)> {
    state
        .entries()
        .filter(|(name, _)| !name.ends_with("seconds"))
        .map(|(name, values)| {
            let words = match values {
                Values::F32(a) => a.iter().map(|v| v.to_bits() as u64).collect(),
                Values::F64(a) => a.iter().map(|v| v.to_bits()).collect(),
                Values::U64(a) => a.iter().copied().collect(),
            };
            (name.to_string(), values.shape().to_vec(), words)
        })
        .collect()
}

struct Outcome {
    metrics: Vec<String>,
    last_state: TrainingState,
    run: Run,
}

/// Trains (from `resume` if given), recording metrics and the state after the last iteration;
/// stops after iteration `stop_at` if given.
fn run(
    algo: &str,
    env: &str,
    settings: &[(&str, &str)],
    resume: Option<&TrainingState>,
    stop_at: Option<usize>,
) -> Outcome {
    let settings: Vec<(String, String)> = settings
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let mut metrics = Vec::new();
    let mut last_state = None;
    let run = train_from(algo, env, 3, &settings, resume, &mut |i| {
        metrics.push(deterministic(i.metrics));
        last_state = Some(i.training_state());
        stop_at != Some(i.metrics.iteration)
    })
    .unwrap_or_else(|e| panic!("{algo} on {env}: {e}"));
    Outcome {
        metrics,
        last_state: last_state.expect("at least one iteration"),
        run,
    }
}

fn check(algo: &str, env: &str, settings: &[(&str, &str)], k: usize) {
    let whole = run(algo, env, settings, None, None);
    let total = whole.metrics.len();
    assert!(
        total > k + 1,
        "{algo}: only {total} iterations; make K > k + 1"
    );
    let first = run(algo, env, settings, None, Some(k));
    assert_eq!(
        first.metrics,
        whole.metrics[..k],
        "{algo}: the first k iterations"
    );
    let saved = first.last_state;
    assert_eq!(saved.iteration, k);
    let rest = run(algo, env, settings, Some(&saved), None);
    assert_eq!(
        rest.metrics,
        whole.metrics[k..],
        "{algo}: the iterations after the restore"
    );
    assert_eq!(rest.run.history.len(), total - k);
    assert_same_end(algo, &whole, &rest);
}

/// The final parameters, and everything else a trainer holds (optimiser, generators,
/// environments, buffers, normalisers), bit for bit.
fn assert_same_end(algo: &str, whole: &Outcome, rest: &Outcome) {
    let (a, b) = (whole.run.agent.store(), rest.run.agent.store());
    for id in a.ids() {
        let other = b.id(a.name(id)).expect("same parameters");
        let (x, y) = (a.value(id), b.value(other));
        assert!(
            x.iter()
                .zip(y.iter())
                .all(|(x, y)| x.to_bits() == y.to_bits()),
            "{algo}: parameter {} differs",
            a.name(id)
        );
    }
    let (x, y) = (bits(&whole.last_state), bits(&rest.last_state));
    assert_eq!(x.len(), y.len());
    for (x, y) in x.iter().zip(&y) {
        assert!(x == y, "{algo}: saved state `{}` differs", x.0);
    }
    assert_eq!(whole.last_state.env_steps, rest.last_state.env_steps);
}

/// Recurrent PPO carries its LSTM state (and where the next step starts an episode) across the
/// snapshot: with separate and shared LSTMs, normalisers and annealing.
#[test]
fn recurrent_ppo_resumes_bit_for_bit_with_its_carried_lstm_state() {
    let tiny = [
        ("num_envs", "2"),
        ("num_steps", "48"),
        ("batch_size", "32"),
        ("update_epochs", "2"),
        ("lstm_hidden_size", "8"),
        ("hidden", "8"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut s = tiny.to_vec();
        s.extend_from_slice(extra);
        s
    };
    check(
        "recurrent_ppo",
        "CartPoleNoVel-v1",
        &with(&[("total_timesteps", "384")]),
        2,
    );
    check(
        "recurrent_ppo",
        "PendulumNoVel-v1",
        &with(&[
            ("total_timesteps", "288"),
            ("shared_lstm", "true"),
            ("normalize_observations", "true"),
            ("normalize_rewards", "true"),
            ("anneal_lr", "true"),
            ("anneal_clip", "true"),
        ]),
        1,
    );
}

#[test]
fn ppo_resumes_bit_for_bit_with_normalisers_and_annealing() {
    let settings = [
        ("total_timesteps", "1024"),
        ("num_envs", "2"),
        ("num_steps", "128"),
        ("num_minibatches", "4"),
        ("update_epochs", "2"),
        ("normalize_observations", "true"),
        ("normalize_rewards", "true"),
        ("anneal_lr", "true"),
        ("hidden", "16,16"),
    ];
    check("ppo", "Pendulum-v1", &settings, 2);
    check(
        "ppo",
        "CartPole-v1",
        &[("total_timesteps", "1280"), ("update_epochs", "2")],
        2,
    );
}

#[test]
fn a2c_resumes_bit_for_bit() {
    let settings = [("total_timesteps", "400"), ("hidden", "16,16")];
    check("a2c", "CartPole-v1", &settings, 3);
    let settings = [
        ("total_timesteps", "400"),
        ("optimizer", "adam"),
        ("normalize_observations", "true"),
    ];
    check("a2c", "Pendulum-v1", &settings, 3);
}

#[test]
fn reinforce_resumes_bit_for_bit() {
    let settings = [
        ("total_timesteps", "1600"),
        ("num_envs", "2"),
        ("num_steps", "200"),
        ("value_iterations", "5"),
        ("hidden", "16,16"),
    ];
    check("reinforce", "CartPole-v1", &settings, 2);
    let settings = [
        ("total_timesteps", "1600"),
        ("num_envs", "2"),
        ("num_steps", "200"),
        ("value_iterations", "3"),
        ("baseline", "false"),
        ("normalize_observations", "true"),
    ];
    check("reinforce", "Pendulum-v1", &settings, 2);
}

#[test]
fn trpo_and_npg_resume_bit_for_bit() {
    let settings = [
        ("total_timesteps", "1024"),
        ("num_envs", "2"),
        ("num_steps", "128"),
        ("n_critic_updates", "2"),
        ("batch_size", "64"),
        ("hidden", "16,16"),
    ];
    check("trpo", "CartPole-v1", &settings, 2);
    check("npg", "Pendulum-v1", &settings, 2);
}

#[test]
fn impala_resumes_bit_for_bit_in_the_deterministic_mode() {
    // three actors and batches of two: the schedule's position is mid-round at the snapshot
    let settings = [
        ("total_timesteps", "320"),
        ("deterministic", "true"),
        ("num_actors", "3"),
        ("num_envs", "2"),
        ("unroll_length", "16"),
        ("batch_size", "2"),
        ("hidden", "16,16"),
    ];
    check("impala", "CartPole-v1", &settings, 2);
    check("impala", "Pendulum-v1", &settings, 3);
}

/// With an LSTM policy the actors' carried states `(h, c)` and episode-start flags are part of
/// the snapshot: the resumed actors go on from the states they had reached.
#[test]
fn impala_with_an_lstm_resumes_bit_for_bit_in_the_deterministic_mode() {
    let settings = [
        ("total_timesteps", "320"),
        ("deterministic", "true"),
        ("num_actors", "3"),
        ("num_envs", "2"),
        ("unroll_length", "16"),
        ("batch_size", "2"),
        ("policy", "lstm"),
        ("lstm_hidden", "8"),
        ("hidden", "8"),
    ];
    check("impala", "CartPoleNoVel-v1", &settings, 2);
    check("impala", "PendulumNoVel-v1", &settings, 3);
}

const OFF_POLICY: [(&str, &str); 6] = [
    ("total_timesteps", "700"),
    ("learning_starts", "150"),
    ("buffer_size", "500"),
    ("batch_size", "32"),
    ("log_interval", "100"),
    ("hidden", "16,16"),
];

#[test]
fn dqn_resumes_bit_for_bit_with_uniform_and_prioritised_replay() {
    let mut settings = OFF_POLICY.to_vec();
    settings.extend([("num_envs", "2"), ("target_update_interval", "50")]);
    check("dqn", "CartPole-v1", &settings, 3);
    // The sum tree, a partly open 3-step window in each copy, double and dueling heads.
    settings.extend([
        ("prioritized", "true"),
        ("n_step", "3"),
        ("double", "true"),
        ("dueling", "true"),
    ]);
    check("dqn", "CartPole-v1", &settings, 3);
}

#[test]
fn r2d2_resumes_bit_for_bit_with_the_stored_recurrent_states() {
    let settings = [
        ("total_timesteps", "1200"),
        ("num_envs", "2"),
        ("learning_starts", "300"),
        ("batch_size", "8"),
        ("buffer_size", "40"),
        ("encoder_hidden", "8"),
        ("lstm_hidden", "8"),
        ("burn_in", "3"),
        ("learn_length", "6"),
        ("sequence_period", "4"),
        ("n_step", "3"),
        ("train_freq", "8"),
        ("target_update_interval", "10"),
        ("log_interval", "200"),
    ];
    check("r2d2", "CartPoleNoVel-v1", &settings, 3);
    // What the check compared: the replay's stored states are there and not all zero (the
    // actors' states at sequence starts), as are the open windows' states.
    let state = run("r2d2", "CartPoleNoVel-v1", &settings, None, Some(3)).last_state;
    let h0 = state.f32s("replay.h0", Some(&[40, 8])).unwrap();
    assert!(h0.iter().any(|&x| x != 0.0));
    assert!(
        state
            .f32s("actors.writer.1.h", None)
            .unwrap()
            .iter()
            .any(|&x| x != 0.0)
    );
}

#[test]
fn ddpg_resumes_bit_for_bit_with_ou_noise() {
    let mut settings = OFF_POLICY.to_vec();
    settings.push(("action_noise", "ou:0.3"));
    check("ddpg", "Pendulum-v1", &settings, 3);
}

#[test]
fn td3_resumes_bit_for_bit() {
    check("td3", "MountainCarContinuous-v0", &OFF_POLICY, 3);
}

#[test]
fn sac_resumes_bit_for_bit_with_a_tuned_temperature() {
    let mut settings = OFF_POLICY.to_vec();
    settings.push(("autotune", "true"));
    check("sac", "Pendulum-v1", &settings, 3);
}

/// A run extended with a larger budget (`wengert train --resume RUN --set total_timesteps=N`)
/// is the run started with that budget: the replay, sized `min(buffer_size, total_timesteps)`,
/// grows on resume and keeps its transitions in order (with their priorities).
#[test]
fn an_extended_budget_grows_the_replay_as_a_run_started_with_it() {
    let settings = |total: &'static str| {
        vec![
            ("total_timesteps", total),
            ("learning_starts", "100"),
            ("batch_size", "32"),
            ("log_interval", "100"),
            ("hidden", "16,16"),
        ]
    };
    // DQN with no schedule that depends on the budget (ε, β and the learning rate constant)
    let dqn = [
        ("prioritized", "true"),
        ("prioritized_beta_0", "1.0"),
        ("exploration_initial_eps", "0.1"),
        ("exploration_final_eps", "0.1"),
        ("anneal_lr", "false"),
        ("target_update_interval", "50"),
    ];
    for (algo, env, extra) in [
        ("sac", "Pendulum-v1", &[][..]),
        ("dqn", "CartPole-v1", &dqn),
    ] {
        let (mut short, mut long) = (settings("400"), settings("800"));
        short.extend(extra);
        long.extend(extra);
        let whole = run(algo, env, &long, None, None);
        let first = run(algo, env, &short, None, None);
        assert_eq!(first.metrics, whole.metrics[..4], "{algo}: the short run");
        let rest = run(algo, env, &long, Some(&first.last_state), None);
        assert_eq!(
            rest.metrics,
            whole.metrics[4..],
            "{algo}: the iterations after the budget grew"
        );
        assert_same_end(algo, &whole, &rest);
    }
}

#[test]
fn diayn_resumes_bit_for_bit_with_skills_drawn_by_the_environment() {
    let mut settings = OFF_POLICY.to_vec();
    settings.push(("skills", "4"));
    check("diayn", "PointNavigation-v0", &settings, 3);
}

#[test]
fn ppo_with_reward_shaping_resumes_bit_for_bit() {
    let settings = [
        ("total_timesteps", "384"),
        ("num_envs", "2"),
        ("num_steps", "32"),
        ("hidden", "8,8"),
        ("shaping", "height:10"),
    ];
    check("ppo", "MountainCar-v0", &settings, 3);
}

#[test]
fn a_state_from_another_configuration_or_algorithm_is_refused() {
    let settings = [("total_timesteps", "512")];
    let saved = run("ppo", "CartPole-v1", &settings, None, Some(1)).last_state;
    let other: Vec<(String, String)> = vec![
        ("total_timesteps".into(), "512".into()),
        ("gamma".into(), "0.9".into()),
    ];
    let error = train_from("ppo", "CartPole-v1", 3, &other, Some(&saved), &mut |_| true)
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("different configuration") && error.contains("gamma"),
        "{error}"
    );
    let error = train_from("a2c", "CartPole-v1", 3, &[], Some(&saved), &mut |_| true)
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("from ppo on CartPole-v1"), "{error}");
    // A damaged entry names itself and what is wrong.
    let mut damaged = saved.clone();
    let name = damaged
        .entries()
        .map(|(n, _)| n.to_string())
        .find(|n| n.starts_with("agent.") && n.ends_with("weight"))
        .unwrap();
    damaged.put_f32(&name, &[1], vec![0.0]);
    let settings: Vec<(String, String)> = vec![("total_timesteps".into(), "512".into())];
    let error = train_from(
        "ppo",
        "CartPole-v1",
        3,
        &settings,
        Some(&damaged),
        &mut |_| true,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(error.contains(&name) && error.contains("shape"), "{error}");
}
