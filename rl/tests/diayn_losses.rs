//! DIAYN's losses, checked in f64: the discriminator's cross-entropy `−mean_B log q_φ(z|s')`,
//! and SAC's critic and actor losses on skill-conditioned transitions, against central
//! differences; and the pseudo-reward `log q_φ(z|s') − log p(z)` of a hand-made discriminator
//! against the formula.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::{Array1, Array2, ArrayD};
use nn::{ParamId, ParamStore};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_rl::algorithms::diayn::{
    Discriminator, actor_loss, critic_loss, critic_target, discriminator_loss, pseudo_reward,
};
use wengert_rl::common::off_policy::standard_normal_array;
use wengert_rl::continuous::{Network, SquashedGaussianActor, Transitions, TwinQ};
use wengert_rl::env::split_skills;

const K: usize = 3;
const ALPHA: f64 = 0.1;

fn trainable(store: &ParamStore<f64>) -> (Vec<ParamId>, Vec<SharedArray<f64>>) {
    let ids: Vec<ParamId> = store.trainable().collect();
    let values = ids.iter().map(|&id| store.value(id)).collect();
    (ids, values)
}

/// Four states of dimension 2, each with a skill of K = 3 appended as one-hot.
fn observations(shift: f64) -> Array2<f64> {
    let skills = [2, 0, 1, 2];
    Array2::from_shape_fn((4, 2 + K), |(i, j)| match j {
        0 | 1 => ((i * 2 + j) as f64 * 0.9 + shift).sin() * 1.2,
        _ => f64::from(u8::from(j - 2 == skills[i])),
    })
}

#[test]
fn the_discriminator_loss_gradient_equals_central_differences() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut store = ParamStore::<f64>::new();
    let discriminator = Discriminator::new(&mut store.root(), 2, K, &[6, 5], &mut rng);
    let states = Var::constant(observations(0.0).slice(ndarray::s![.., ..2]).to_owned());
    let skills = [2, 0, 1, 2];
    let (ids, phi) = trainable(&store);
    let result = gradcheck(
        |phi| {
            let params = store.bind_with(ids.iter().copied().zip(phi.iter().cloned()));
            discriminator_loss(&discriminator, &params, &states, &skills).0
        },
        &phi,
    );
    assert!(result.is_ok(), "{}", result.unwrap_err());
}

#[test]
fn the_pseudo_reward_of_a_hand_made_discriminator_is_log_q_minus_log_p() {
    // One linear layer with zero bias: logits = s W, W = [[1, 0, −1], [2, 1, 0]].
    let mut rng = StdRng::seed_from_u64(0);
    let mut store = ParamStore::<f64>::new();
    let discriminator = Discriminator::new(&mut store.root(), 2, K, &[], &mut rng);
    let ids: Vec<ParamId> = store.trainable().collect();
    let w = ndarray::array![[1.0, 0.0, -1.0], [2.0, 1.0, 0.0]];
    for &id in &ids {
        let value = if store.value(id).ndim() == 2 {
            // nn's Linear stores W as (out, in), like PyTorch
            if store.value(id).shape() == [K, 2] {
                w.t().to_owned().into_dyn()
            } else {
                w.clone().into_dyn()
            }
        } else {
            ArrayD::zeros(store.value(id).shape())
        };
        store.set(id, value);
    }
    let states = ndarray::array![[0.5, -1.0], [2.0, 0.25]];
    let skills = [1, 0];
    let reward = pseudo_reward(
        &discriminator,
        &store.constants(),
        &Var::constant(states.clone()),
        &skills,
    );
    for (b, &z) in skills.iter().enumerate() {
        let logits: Vec<f64> = (0..K)
            .map(|k| states[[b, 0]] * w[[0, k]] + states[[b, 1]] * w[[1, k]])
            .collect();
        let log_normaliser = logits.iter().map(|l| l.exp()).sum::<f64>().ln();
        let expected = (logits[z] - log_normaliser) - (1.0 / K as f64).ln();
        assert!(
            (reward.value()[b] - expected).abs() < 1e-12,
            "r({b}) = {} vs {expected}",
            reward.value()[b]
        );
    }
    // A discriminator certain of the skill pays the ceiling log K; chance pays 0.
    assert!(reward.value().iter().all(|&r| r < (K as f64).ln()));
}

#[test]
fn the_soft_critic_and_actor_losses_on_skill_conditioned_states_pass_gradcheck() {
    let mut rng = StdRng::seed_from_u64(13);
    let mut actor_store = ParamStore::<f64>::new();
    let actor = SquashedGaussianActor::new(
        &mut actor_store.root().sub("actor"),
        2 + K,
        2,
        &[6],
        &mut rng,
    );
    let mut critic_store = ParamStore::<f64>::new();
    let critics = TwinQ::new(&mut critic_store.root(), 2 + K, 2, &[6], &mut rng);
    let mut discriminator_store = ParamStore::<f64>::new();
    let discriminator = Discriminator::new(&mut discriminator_store.root(), 2, K, &[4], &mut rng);
    let next = observations(0.3);
    let (next_states, skills) = split_skills(&next.mapv(|v| v as f32), K);
    let mut batch = Transitions {
        observations: Var::constant(observations(0.0)),
        actions: Var::constant(Array2::from_shape_fn((4, 2), |(i, j)| {
            ((i * 2 + j) as f64 * 1.3).cos() * 0.9
        })),
        rewards: Var::constant(Array1::zeros(4)),
        next_observations: Var::constant(next),
        bootstrap: Var::constant(Array1::from_vec(vec![0.99, 0.0, 0.99, 0.99])),
    };
    batch.rewards = pseudo_reward(
        &discriminator,
        &discriminator_store.constants(),
        &Var::constant(next_states.mapv(f64::from)),
        &skills,
    );
    let y = critic_target(
        &actor,
        &actor_store.constants(),
        &critics,
        &critic_store.constants(),
        &batch,
        &standard_normal_array(4, 2, &mut rng),
        ALPHA,
    );
    let (ids, phi) = trainable(&critic_store);
    let result = gradcheck(
        |phi| {
            let params = critic_store.bind_with(ids.iter().copied().zip(phi.iter().cloned()));
            critic_loss(&critics, &params, &batch, &y).0
        },
        &phi,
    );
    assert!(result.is_ok(), "critic: {}", result.unwrap_err());
    let epsilon = standard_normal_array(4, 2, &mut rng);
    let (ids, theta) = trainable(&actor_store);
    let result = gradcheck(
        |theta| {
            let params = actor_store.bind_with(ids.iter().copied().zip(theta.iter().cloned()));
            actor_loss(
                &actor,
                &params,
                &critics,
                &critic_store.constants(),
                &batch,
                &epsilon,
                ALPHA,
            )
            .0
        },
        &theta,
    );
    assert!(result.is_ok(), "actor: {}", result.unwrap_err());
}
