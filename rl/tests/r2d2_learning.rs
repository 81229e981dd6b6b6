//! R2D2 end to end: it learns CartPole within seconds, the sequences its actors store keep
//! every episode boundary (a final observation, then a first one, with the state zeroed), and
//! bad settings are rejected with a clear error.

use wengert_rl::algorithms::{Run, train_from};
use wengert_rl::buffers::sequence::{FIRST, LAST, TERMINAL};
use wengert_rl::snapshot::TrainingState;

/// A small, fast configuration.
const SMALL: [(&str, &str); 9] = [
    ("num_envs", "4"),
    ("learning_starts", "1000"),
    ("batch_size", "16"),
    ("encoder_hidden", "32"),
    ("lstm_hidden", "32"),
    ("train_freq", "16"),
    ("target_update_interval", "100"),
    ("exploration_fraction", "0.3"),
    ("log_interval", "1000"),
];

fn train(
    env: &str,
    settings: &[(&str, &str)],
    state: &mut Option<TrainingState>,
) -> Result<Run, String> {
    let settings: Vec<(String, String)> = SMALL
        .iter()
        .chain(settings)
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    train_from("r2d2", env, 1, &settings, None, &mut |i| {
        *state = Some(i.training_state());
        true
    })
    .map_err(|e| e.to_string())
}

/// Seconds of training on CartPole-v1: the Q-values rise from about 0 at initialisation
/// towards the rescaled discounted return of the behaviour policy (episodes of 20–30 steps
/// give `h(Σ γ^k) ≈ 3.6`), and every diagnostic is finite.
#[test]
fn r2d2_learns_values_on_cartpole_within_seconds() {
    let run = train("CartPole-v1", &[("total_timesteps", "6000")], &mut None).unwrap();
    let mean_q: Vec<f64> = run
        .history
        .iter()
        .filter_map(|m| m.get("mean_q"))
        .filter(|q| q.is_finite())
        .collect();
    eprintln!("mean_q {mean_q:?}");
    let (first, last) = (mean_q[0], *mean_q.last().unwrap());
    assert!(last > 1.5 && last > 2.0 * first, "mean Q {first} → {last}");
    for m in &run.history[1..] {
        for name in ["loss", "mean_q", "grad_norm", "staleness"] {
            assert!(
                m.get(name).is_some_and(f64::is_finite),
                "{name} at {}",
                m.env_steps
            );
        }
    }
}

#[test]
fn stored_sequences_keep_every_episode_boundary() {
    let mut state = None;
    let settings = [
        ("total_timesteps", "3000"),
        ("learning_starts", "500"),
        ("num_envs", "2"),
    ];
    train("CartPoleNoVel-v1", &settings, &mut state).unwrap();
    let state = state.unwrap();
    let ring = state.u64s("replay.ring", Some(2)).unwrap();
    let filled = ring[1] as usize;
    let flags = state.u64s("replay.flags", None).unwrap();
    let observations = state.f32s("replay.observations", None).unwrap();
    let h0 = state.f32s("replay.h0", None).unwrap();
    let (length, hidden) = (observations.shape()[1], h0.shape()[1]);
    assert_eq!(length, 10 + 20 + 5);
    let (mut boundaries, mut stale_starts) = (0, 0);
    for i in 0..filled {
        let f = &flags[i * length..(i + 1) * length];
        for j in 0..length {
            let is = |bit: u64| f[j] & bit != 0;
            if is(TERMINAL as u64) {
                assert!(is(LAST as u64));
            }
            if j + 1 < length {
                // a final observation is followed by an episode's first, and only it is
                assert_eq!(
                    is(LAST as u64),
                    f[j + 1] & FIRST as u64 != 0,
                    "sequence {i}, {j}"
                );
            }
            if is(FIRST as u64) {
                boundaries += 1;
                // CartPoleNoVel's reset: x, θ in ±0.05, velocities zeroed
                let o = observations.slice(ndarray::s![i, j, ..]);
                assert!(
                    o.iter().all(|x| x.abs() <= 0.05) && o[1] == 0.0 && o[3] == 0.0,
                    "{o}"
                );
            }
        }
        let start: Vec<f32> = (0..hidden).map(|k| h0[[i, k]]).collect();
        if f[0] & FIRST as u64 != 0 {
            assert!(
                start.iter().all(|&x| x == 0.0),
                "an episode's start has the zero state"
            );
        } else if start.iter().any(|&x| x != 0.0) {
            stale_starts += 1;
        }
    }
    assert!(
        boundaries > 10 && stale_starts > 10,
        "{boundaries} {stale_starts}"
    );
}

#[test]
fn bad_settings_are_rejected_naming_them() {
    let train = |env: &str, settings: &[(&str, &str)]| match train(env, settings, &mut None) {
        Ok(_) => panic!("{settings:?} on {env} trained"),
        Err(e) => e,
    };
    let error = train("CartPole-v1", &[("sequence_period", "25")]);
    assert!(
        error.contains("sequence_period") && error.contains("learn_length"),
        "{error}"
    );
    let error = train("Pendulum-v1", &[]);
    assert!(error.contains("action space"), "{error}");
    let error = train("CartPole-v1", &[("priority_eta", "1.5")]);
    assert!(error.contains("priority_eta"), "{error}");
}
