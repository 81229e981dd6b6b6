//! Recurrent PPO's losses against central differences (f64), through the LSTM over padded
//! sequences that start from stored states: the masked clipped surrogate with its entropy
//! bonus, the value loss clipped and unclipped, and the whole loss — for a categorical and a
//! Gaussian policy, with separate and shared LSTMs — and padding that cannot leak into them.

use autograd::{SharedArray, Tensor, Var, gradcheck, no_grad};
use ndarray::{Array1, Array2, Array3};
use nn::{Bound, ParamId, ParamStore};
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::preset;
use wengert_rl::algorithms::recurrent_ppo::{
    RecurrentPpoConfig, loss, masked_mean, policy_loss, value_loss,
};
use wengert_rl::common::on_policy::normalize_masked;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::recurrent_policy::{RecurrentActorCritic, RecurrentNetworkConfig};
use wengert_rl::recurrent_rollout::{SequenceBatch, sequence_var};
use wengert_rl::snapshot::TrainerRng;

struct Fixture {
    store: ParamStore<f64>,
    network: RecurrentActorCritic,
    batch: SequenceBatch,
}

/// Three sequences of lengths 4, 2 and 3 (padded to 4), the first starting an episode, the
/// others from random stored states.
fn fixture(space: Space, shared_lstm: bool) -> Fixture {
    let mut rng = TrainerRng::seed_from_u64(11);
    let mut store = ParamStore::<f64>::new();
    let config = RecurrentNetworkConfig {
        lstm_hidden_size: 4,
        shared_lstm,
        hidden: vec![5],
        ..RecurrentNetworkConfig::default()
    };
    let network = RecurrentActorCritic::new(&mut store, 3, &space, &config, &mut rng);
    let (steps, count) = (4, 3);
    let lengths = [4, 2, 3];
    let mask = Array1::from_shape_fn(steps * count, |k| {
        f64::from(u8::from(k / count < lengths[k % count]))
    });
    let observations = Array3::from_shape_fn((steps, count, 3), |(l, s, j)| {
        if l < lengths[s] {
            ((l * 7 + s * 3 + j) as f32 * 0.61).sin()
        } else {
            0.0
        }
    });
    let mut reset_mask = Array2::zeros((steps, count));
    reset_mask[[0, 0]] = 1.0;
    let mut initial_state = network.initial_state(count);
    initial_state
        .actor
        .h
        .mapv_inplace(|_| rng.random_range(-0.5..0.5));
    initial_state
        .actor
        .c
        .mapv_inplace(|_| rng.random_range(-0.5..0.5));
    if let Some(critic) = &mut initial_state.critic {
        critic.h.mapv_inplace(|_| rng.random_range(-0.5..0.5));
    }
    let params = store.constants();
    let (actions, log_probs) = no_grad(|| {
        let (pi, _) = network.policy_sequences(
            &params,
            &sequence_var::<f64>(&observations),
            &initial_state,
            &reset_mask,
        );
        let actions = pi.sample(&mut rng);
        let log_probs = pi.log_prob(&actions).value().to_owned();
        (actions, log_probs)
    });
    let column =
        |f: &dyn Fn(usize) -> f64| Array1::from_iter((0..steps * count).map(|k| mask[k] * f(k)));
    let batch = SequenceBatch {
        observations,
        reset_mask,
        initial_state,
        actions,
        // ln π_old off from ln π_θ by up to ±0.5, so that ratios leave [1 − ε, 1 + ε] both ways
        log_probs: column(&|k| log_probs[k] + 0.5 * (k as f64 * 2.3).sin()),
        values: column(&|k| (k as f64 * 0.3).sin() * 0.1),
        advantages: column(&|k| (k as f64 * 1.7).cos()),
        returns: column(&|k| (k as f64 * 0.9).sin()),
        samples: mask
            .iter()
            .enumerate()
            .map(|(k, &m)| (m == 1.0).then_some((k / count, k % count)))
            .collect(),
        mask,
    };
    Fixture {
        store,
        network,
        batch,
    }
}

/// Checks `f(θ)`'s gradient in every trainable parameter against central differences.
fn check(fixture: &Fixture, f: impl Fn(&Bound<'_, f64>) -> Var<f64>) {
    check_under(fixture, "", f);
}

/// Checks `f`'s gradient in the trainable parameters whose names start with `prefix`. A loss
/// through a shared LSTM's stop-gradient is checked in the critic's own parameters only:
/// central differences see the value move with the actor's LSTM, the gradient by design not.
fn check_under(fixture: &Fixture, prefix: &str, f: impl Fn(&Bound<'_, f64>) -> Var<f64>) {
    let ids: Vec<ParamId> = fixture
        .store
        .trainable()
        .filter(|&id| fixture.store.name(id).starts_with(prefix))
        .collect();
    let inputs: Vec<SharedArray<f64>> = ids.iter().map(|&id| fixture.store.value(id)).collect();
    let result = gradcheck(
        |theta| {
            let params = fixture
                .store
                .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
            f(&params)
        },
        &inputs,
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

fn cases() -> Vec<(Space, bool)> {
    let gaussian = Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0]));
    vec![
        (Space::Discrete { n: 3 }, false),
        (gaussian, false),
        (Space::Discrete { n: 3 }, true),
    ]
}

fn config() -> RecurrentPpoConfig {
    let mut config: RecurrentPpoConfig = preset("recurrent_ppo", "CartPoleNoVel-v1").unwrap();
    config.ppo.ent_coef = 0.03;
    config
}

#[test]
fn the_masked_clipped_surrogate_with_its_entropy_bonus_is_gradchecked() {
    for (space, shared) in cases() {
        let f = fixture(space, shared);
        let (_, diagnostics) = policy_loss(&f.network, &f.store.constants(), &f.batch, 0.2, 0.03);
        assert!(diagnostics.clip_fraction > 0.0 && diagnostics.clip_fraction < 1.0);
        check(&f, |p| policy_loss(&f.network, p, &f.batch, 0.2, 0.03).0);
    }
}

#[test]
fn the_value_loss_is_gradchecked_clipped_and_unclipped() {
    for (space, shared) in cases() {
        let f = fixture(space, shared);
        let prefix = if shared { "critic." } else { "" };
        for clip in [None, Some(0.05)] {
            check_under(&f, prefix, |p| value_loss(&f.network, p, &f.batch, clip));
        }
    }
}

#[test]
fn the_whole_loss_is_gradchecked_and_is_the_sum_of_its_terms() {
    for (space, shared) in cases() {
        let f = fixture(space, shared);
        let config = RecurrentPpoConfig {
            clip_range_vf: Some(0.1),
            ..config()
        };
        let prefix = if shared { "critic." } else { "" };
        check_under(&f, prefix, |p| {
            loss(&f.network, p, &f.batch, 0.2, &config).0
        });
        let params = f.store.constants();
        let (whole, diagnostics) = loss(&f.network, &params, &f.batch, 0.2, &config);
        let (policy_terms, _) =
            policy_loss(&f.network, &params, &f.batch, 0.2, config.ppo.ent_coef);
        let l_v = value_loss(&f.network, &params, &f.batch, config.clip_range_vf);
        assert!(
            (whole.item() - (policy_terms.item() + config.ppo.vf_coef * l_v.item())).abs() < 1e-12
        );
        assert_eq!(diagnostics.value_loss, l_v.item());
    }
}

/// The surrogate is `E_M[min(ρÂ, clip(ρ, 1 ± ε)Â)]` over the real samples only: checked against
/// a plain loop, and unchanged when the padded slots' data are replaced by garbage.
#[test]
fn the_surrogate_is_the_pessimistic_minimum_over_the_real_samples() {
    let f = fixture(Space::Discrete { n: 3 }, false);
    let params = f.store.constants();
    let (policy_terms, _) = policy_loss(&f.network, &params, &f.batch, 0.2, 0.0);
    let (pi, _) = f.network.policy_sequences(
        &params,
        &sequence_var::<f64>(&f.batch.observations),
        &f.batch.initial_state,
        &f.batch.reset_mask,
    );
    let log_prob = pi.log_prob(&f.batch.actions).value().to_owned();
    let (mut total, mut count) = (0.0, 0.0);
    for k in (0..f.batch.mask.len()).filter(|&k| f.batch.mask[k] == 1.0) {
        let rho = (log_prob[k] - f.batch.log_probs[k]).exp();
        let a = f.batch.advantages[k];
        total += (rho * a).min(rho.clamp(0.8, 1.2) * a);
        count += 1.0;
    }
    assert_eq!(count, 9.0);
    assert!((policy_terms.item() + total / count).abs() < 1e-12);

    let mut garbage = f.batch.clone();
    for k in (0..garbage.mask.len()).filter(|&k| garbage.mask[k] == 0.0) {
        garbage.advantages[k] = 1e3;
        garbage.returns[k] = -1e3;
        garbage.log_probs[k] = 7.0;
        let (l, s) = (k / 3, k % 3);
        garbage.observations[[l, s, 0]] = 50.0;
    }
    let (again, _) = policy_loss(&f.network, &params, &garbage, 0.2, 0.0);
    assert_eq!(again.item(), policy_terms.item());
    let (v, v_garbage) = (
        value_loss(&f.network, &params, &f.batch, None).item(),
        value_loss(&f.network, &params, &garbage, None).item(),
    );
    assert_eq!(v, v_garbage);
}

#[test]
fn masked_mean_and_normalisation_ignore_padding() {
    let x = Var::constant(ndarray::array![1.0f64, 100.0, 3.0]);
    let mask = ndarray::array![1.0, 0.0, 1.0];
    assert_eq!(masked_mean(&x, &mask).item(), 2.0);
    let a = normalize_masked(&ndarray::array![1.0, 100.0, 3.0], &mask);
    assert_eq!(a[1], 0.0);
    assert!((a[0] + a[2]).abs() < 1e-12 && (a[2] - 1.0 / 2f64.sqrt()).abs() < 1e-6);
}
