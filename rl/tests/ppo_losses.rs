//! PPO's losses against central differences (f64): the clipped surrogate with the entropy
//! bonus, the value loss clipped and unclipped, and the whole loss — on a batch whose ratios
//! fall on both sides of the clip range, for a categorical and a Gaussian policy.

use autograd::{SharedArray, Tensor, Var, gradcheck, no_grad};
use ndarray::{Array1, Array2};
use nn::{Bound, ParamId, ParamStore};
use rand::SeedableRng;
use wengert_rl::algorithms::ppo::{PpoConfig, loss, policy_loss, value_loss};
use wengert_rl::algorithms::preset;
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::{ActorCritic, NetworkConfig, observations_var};
use wengert_rl::snapshot::TrainerRng;

struct Fixture {
    store: ParamStore<f64>,
    agent: ActorCritic,
    batch: Batch,
}

fn fixture(space: Space) -> Fixture {
    let mut rng = TrainerRng::seed_from_u64(11);
    let mut store = ParamStore::<f64>::new();
    let network = NetworkConfig {
        hidden: vec![5, 4],
        ..NetworkConfig::default()
    };
    let agent = ActorCritic::new(&mut store, 3, &space, &network, &mut rng);
    let n = 12;
    let observations = Array2::from_shape_fn((n, 3), |(k, j)| ((k * 3 + j) as f32 * 0.61).sin());
    let params = store.constants();
    let (actions, log_probs) = no_grad(|| {
        let pi = agent.policy(&params, &observations_var::<f64>(&observations));
        let actions = pi.sample(&mut rng);
        let log_probs = pi.log_prob(&actions).value().to_owned();
        (actions, log_probs)
    });
    let column = |f: &dyn Fn(usize) -> f64| Array1::from_iter((0..n).map(f));
    let batch = Batch {
        observations,
        actions,
        // ln π_old off from ln π_θ by up to ±0.5, so that ratios leave [1 − ε, 1 + ε] both ways
        log_probs: column(&|k| log_probs[k] + 0.5 * (k as f64 * 2.3).sin()),
        values: column(&|k| (k as f64 * 0.3).sin() * 0.1),
        advantages: column(&|k| (k as f64 * 1.7).cos()),
        returns: column(&|k| (k as f64 * 0.9).sin()),
    };
    Fixture {
        store,
        agent,
        batch,
    }
}

/// Checks `f(θ)`'s gradient in every trainable parameter against central differences.
fn check(fixture: &Fixture, f: impl Fn(&Bound<'_, f64>) -> Var<f64>) {
    let ids: Vec<ParamId> = fixture.store.trainable().collect();
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

fn spaces() -> [Space; 2] {
    [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
    ]
}

fn config() -> PpoConfig {
    let mut config: PpoConfig = preset("ppo", "CartPole-v1").unwrap();
    (config.ppo.ent_coef, config.ppo.clip_coef) = (0.03, 0.2);
    config
}

#[test]
fn the_clipped_surrogate_with_its_entropy_bonus_is_gradchecked() {
    for space in spaces() {
        let f = fixture(space);
        let config = config();
        // the batch really has ratios clipped on both sides
        let (_, diagnostics) = policy_loss(&f.agent, &f.store.constants(), &f.batch, &config);
        assert!(diagnostics.clip_fraction > 0.0 && diagnostics.clip_fraction < 1.0);
        check(&f, |p| policy_loss(&f.agent, p, &f.batch, &config).0);
    }
}

#[test]
fn the_value_loss_is_gradchecked_clipped_and_unclipped() {
    for space in spaces() {
        let f = fixture(space);
        for clip_vloss in [false, true] {
            let config = PpoConfig {
                clip_vloss,
                ..config()
            };
            check(&f, |p| value_loss(&f.agent, p, &f.batch, &config));
        }
    }
}

#[test]
fn the_whole_loss_is_gradchecked_and_is_the_sum_of_its_terms() {
    for space in spaces() {
        let f = fixture(space);
        let config = PpoConfig {
            clip_vloss: true,
            ..config()
        };
        check(&f, |p| loss(&f.agent, p, &f.batch, &config).0);
        let params = f.store.constants();
        let (whole, diagnostics) = loss(&f.agent, &params, &f.batch, &config);
        let (policy_terms, _) = policy_loss(&f.agent, &params, &f.batch, &config);
        let l_v = value_loss(&f.agent, &params, &f.batch, &config);
        let sum = policy_terms.item() + config.ppo.vf_coef * l_v.item();
        assert!((whole.item() - sum).abs() < 1e-12);
        assert_eq!(diagnostics.value_loss, l_v.item());
        // −L^CLIP − c_H H
        assert!(
            (policy_terms.item()
                - (diagnostics.policy_loss - config.ppo.ent_coef * diagnostics.entropy))
                .abs()
                < 1e-12
        );
    }
}

/// The surrogate is the one the header writes: `min(ρÂ, clip(ρ, 1 ± ε)Â)`, averaged — checked
/// against a plain loop over the samples.
#[test]
fn the_surrogate_is_the_pessimistic_minimum_of_the_two_terms() {
    let f = fixture(Space::Discrete { n: 3 });
    let mut config = config();
    config.ppo.ent_coef = 0.0;
    let params = f.store.constants();
    let (policy_terms, _) = policy_loss(&f.agent, &params, &f.batch, &config);
    let pi = f
        .agent
        .policy(&params, &observations_var::<f64>(&f.batch.observations));
    let log_prob = pi.log_prob(&f.batch.actions).value().to_owned();
    let epsilon = config.ppo.clip_coef;
    let mut total = 0.0;
    for k in 0..f.batch.len() {
        let rho = (log_prob[k] - f.batch.log_probs[k]).exp();
        let a = f.batch.advantages[k];
        total += (rho * a).min(rho.clamp(1.0 - epsilon, 1.0 + epsilon) * a);
    }
    let l_clip = total / f.batch.len() as f64;
    assert!((policy_terms.item() + l_clip).abs() < 1e-12);
}
