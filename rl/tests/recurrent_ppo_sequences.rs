//! The sequence batcher of recurrent PPO: every sample lands in exactly one sequence, a
//! sequence never crosses an episode boundary (nor an environment), and replaying each
//! sequence through the LSTM from the state stored at its start reproduces, sample by sample,
//! what the policy computed while collecting the rollout.

use ndarray::Array2;
use nn::ParamStore;
use rand::{RngExt, SeedableRng};
use wengert_rl::common::on_policy::{EnvSettings, OnPolicyEnvs};
use wengert_rl::recurrent_policy::{RecurrentActorCritic, RecurrentNetworkConfig};
use wengert_rl::recurrent_rollout::{
    Memory, collect, sequence_minibatches, sequence_var, sequences,
};
use wengert_rl::snapshot::TrainerRng;

#[test]
fn no_sequence_crosses_an_episode_start_or_an_environment() {
    let mut rng = TrainerRng::seed_from_u64(1);
    for (steps, n) in [(7, 3), (32, 8), (1, 4), (9, 1)] {
        let starts = Array2::from_shape_fn((steps, n), |_| rng.random_bool(0.2));
        for minibatch_size in [1, 5, steps * n / 2 + 1, steps * n] {
            for offset in [0, 1, steps * n - 1, rng.random_range(0..steps * n)] {
                let minibatches = sequences(&starts, offset, minibatch_size);
                let mut seen = Array2::from_elem((steps, n), 0);
                for minibatch in &minibatches {
                    let size: usize = minibatch.iter().map(Vec::len).sum();
                    assert!(size <= minibatch_size);
                    for sequence in minibatch {
                        let (t0, i) = sequence[0];
                        for (l, &(t, j)) in sequence.iter().enumerate() {
                            assert_eq!((t, j), (t0 + l, i), "consecutive steps of one environment");
                            if l > 0 {
                                assert!(
                                    !starts[[t, j]],
                                    "episode start at ({t}, {j}) inside a sequence"
                                );
                            }
                            seen[[t, j]] += 1;
                        }
                    }
                }
                assert!(seen.iter().all(|&c| c == 1), "every sample exactly once");
            }
        }
    }
}

/// Replaying every sequence minibatch from its stored initial state gives the log-probabilities
/// and values recorded during the rollout: the stored states are the right ones, and the reset
/// at an episode start inside the rollout is where it was. Both layouts, both action spaces.
#[test]
fn sequences_replay_the_rollout_from_their_stored_states() {
    for (env, shared) in [
        ("CartPoleNoVel-v1", false),
        ("CartPoleNoVel-v1", true),
        ("PendulumNoVel-v1", false),
    ] {
        let mut envs = OnPolicyEnvs::new(
            env,
            &EnvSettings {
                num_envs: 3,
                env_threads: 1,
                seed: 5,
                normalize_observations: false,
                reward_scale_gamma: None,
            },
        )
        .unwrap();
        let mut rng = TrainerRng::seed_from_u64(2);
        let mut store = ParamStore::<f32>::new();
        let config = RecurrentNetworkConfig {
            lstm_hidden_size: 8,
            shared_lstm: shared,
            hidden: vec![8],
            ..RecurrentNetworkConfig::default()
        };
        let network = RecurrentActorCritic::new(
            &mut store,
            envs.observation_dim(),
            &envs.action_space(),
            &config,
            &mut rng,
        );
        let mut memory = Memory::new(&network, 3);
        // two rollouts, so that the second starts from a carried, non-zero state
        collect(&mut envs, &network, &store, &mut memory, 30, &mut rng).unwrap();
        let rollout = collect(&mut envs, &network, &store, &mut memory, 40, &mut rng).unwrap();
        let starts_inside = rollout
            .episode_starts
            .iter()
            .skip(3)
            .filter(|&&s| s)
            .count();
        assert!(
            env.starts_with("Pendulum") || starts_inside > 0,
            "{env}: no episode ended"
        );
        let zeros = Array2::zeros(rollout.values.dim());
        let mut checked = 0;
        for minibatch in sequence_minibatches(&rollout, &zeros, &zeros, 25, &mut rng) {
            let (log_probs, _, values) = network.evaluate_sequences(
                &store.constants(),
                &sequence_var::<f32>(&minibatch.observations),
                &minibatch.initial_state,
                &minibatch.reset_mask,
                &minibatch.actions,
            );
            for (k, sample) in minibatch.samples.iter().enumerate() {
                let Some((t, i)) = *sample else { continue };
                let close = |a: f32, b: f64| (a as f64 - b).abs() < 1e-5;
                assert!(
                    close(log_probs.value()[k], rollout.log_probs[[t, i]]),
                    "{env}: ln π at ({t}, {i})"
                );
                assert!(
                    close(values.value()[k], rollout.values[[t, i]]),
                    "{env}: V at ({t}, {i})"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 120);
    }
}
