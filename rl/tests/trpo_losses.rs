//! TRPO/NPG's losses against central differences in f64: the surrogate `L(θ)`, the mean KL
//! `D̄_KL(θ)` (first and second derivatives: its Hessian is the Fisher matrix whose products
//! the natural gradient takes) and the critic's value loss `L^V(φ)`, for a categorical and a
//! Gaussian policy.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck, gradgradcheck, no_grad};
use ndarray::{Array1, Array2};
use nn::optim::FisherVectorProduct;
use nn::optim::conjugate_gradient::{flatten, unflatten};
use nn::{ParamId, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::trpo::{mean_kl, surrogate, value_loss};
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::{
    ActorCritic, NetworkConfig, PolicyDistribution, observations_var, to_f64,
};

/// A small actor-critic in f64 whose parameters have moved away from `θ_old` (so that the
/// ratios and the KL are not at their trivial values), `π_old`, and a batch drawn from it.
struct Fixture {
    store: ParamStore<f64>,
    agent: ActorCritic,
    pi_old: PolicyDistribution<f64>,
    batch: Batch,
}

fn fixture(space: &Space, seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut store = ParamStore::<f64>::new();
    let network = NetworkConfig {
        hidden: vec![5],
        log_std_init: -0.3,
        ..NetworkConfig::default()
    };
    let agent = ActorCritic::new(&mut store, 3, space, &network, &mut rng);
    // The policy head starts at gain 0.01; larger weights make the test less degenerate.
    for id in store.trainable().collect::<Vec<_>>() {
        let noisy = store.value(id).mapv(|v| v + rng.random_range(-0.5..0.5));
        store.set(id, noisy);
    }
    let n = 6;
    let observations = Array2::from_shape_fn((n, 3), |_| rng.random_range(-1.0f32..1.0));
    let s = observations_var::<f64>(&observations);
    let pi_old = no_grad(|| agent.policy(&store.constants(), &s));
    let actions = pi_old.sample(&mut rng);
    let log_probs = to_f64(&pi_old.log_prob(&actions));
    let column = |f: &dyn Fn(usize) -> f64| Array1::from_iter((0..n).map(f));
    let batch = Batch {
        observations,
        actions,
        log_probs,
        values: column(&|k| (k as f64 * 0.3).sin()),
        advantages: column(&|k| (k as f64 * 1.7).cos()),
        returns: column(&|k| (k as f64 * 0.9).sin() * 2.0),
    };
    // θ moves off θ_old
    for id in store.trainable().collect::<Vec<_>>() {
        let moved = store.value(id).mapv(|v| v + rng.random_range(-0.2..0.2));
        store.set(id, moved);
    }
    Fixture {
        store,
        agent,
        pi_old,
        batch,
    }
}

fn spaces() -> [Space; 2] {
    [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace {
            low: vec![-2.0, -2.0],
            high: vec![2.0, 2.0],
        }),
    ]
}

fn ids_under(store: &ParamStore<f64>, path: &str) -> Vec<ParamId> {
    store
        .trainable()
        .filter(|&id| store.name(id).starts_with(&format!("{path}.")))
        .collect()
}

fn values(store: &ParamStore<f64>, ids: &[ParamId]) -> Vec<SharedArray<f64>> {
    ids.iter().map(|&id| store.value(id)).collect()
}

#[test]
fn the_surrogate_gradient_equals_central_differences() {
    for (seed, space) in spaces().iter().enumerate() {
        let f = fixture(space, seed as u64);
        let theta = ids_under(&f.store, ActorCritic::ACTOR);
        let result = gradcheck(
            |x| {
                let params = f
                    .store
                    .bind_with(theta.iter().copied().zip(x.iter().cloned()));
                surrogate(&f.agent, &params, &f.batch).0
            },
            &values(&f.store, &theta),
        );
        assert!(result.is_ok(), "{space}: {}", result.unwrap_err());
    }
}

#[test]
fn the_surrogate_is_the_mean_advantage_at_the_old_policy() {
    let f = fixture(&Space::Discrete { n: 3 }, 0);
    let mut batch = f.batch.clone();
    // ln π_old of the current parameters: every ratio is 1
    batch.log_probs = to_f64(&no_grad(|| {
        f.agent
            .policy(&f.store.constants(), &observations_var(&batch.observations))
            .log_prob(&batch.actions)
    }));
    let (l, entropy) = surrogate(&f.agent, &f.store.constants(), &batch);
    assert!((l.item() - batch.advantages.mean().unwrap()).abs() < 1e-12);
    assert!(entropy > 0.0 && entropy < 3f64.ln());
}

#[test]
fn the_mean_kl_gradient_and_hessian_equal_central_differences() {
    for (seed, space) in spaces().iter().enumerate() {
        let f = fixture(space, 10 + seed as u64);
        let theta = ids_under(&f.store, ActorCritic::ACTOR);
        let kl = |x: &[Var<f64>]| {
            let params = f
                .store
                .bind_with(theta.iter().copied().zip(x.iter().cloned()));
            mean_kl(&f.agent, &params, &f.pi_old, &f.batch)
        };
        let inputs = values(&f.store, &theta);
        let result = gradcheck(kl, &inputs);
        assert!(result.is_ok(), "{space}: {}", result.unwrap_err());
        let result = gradgradcheck(kl, &inputs);
        assert!(result.is_ok(), "{space}: {}", result.unwrap_err());
    }
}

/// `F v` from [`FisherVectorProduct`] on `D̄_KL` is the directional derivative of `∇θ D̄_KL`:
/// `(∇D̄_KL(θ + εv) − ∇D̄_KL(θ − εv)) / 2ε`, at a `θ` away from `θ_old` as well as at `θ_old`.
#[test]
fn the_fisher_vector_product_is_the_derivative_of_the_kl_gradient() {
    for (seed, space) in spaces().iter().enumerate() {
        let f = fixture(space, 20 + seed as u64);
        let theta = ids_under(&f.store, ActorCritic::ACTOR);
        let shapes: Vec<Vec<usize>> = values(&f.store, &theta)
            .iter()
            .map(|a| a.shape().to_vec())
            .collect();
        let gradient_at = |x: &Array1<f64>| {
            let tape = Tape::new();
            let vars: Vec<Var<f64>> = unflatten(x, &shapes)
                .into_iter()
                .map(|a| tape.var(a))
                .collect();
            let params = f
                .store
                .bind_with(theta.iter().copied().zip(vars.iter().cloned()));
            let kl = mean_kl(&f.agent, &params, &f.pi_old, &f.batch);
            flatten(&autograd::grad(&[&kl], &vars.iter().collect::<Vec<_>>()))
        };
        let x = flatten(&values(&f.store, &theta));
        let mut rng = StdRng::seed_from_u64(seed as u64);
        let v = Array1::from_shape_fn(x.len(), |_| rng.random_range(-1.0..1.0));
        let eps = 1e-6;
        let numeric =
            (gradient_at(&(&x + &(&v * eps))) - gradient_at(&(&x - &(&v * eps)))) / (2.0 * eps);

        let tape = Tape::new();
        let params = f.store.bind_under(&tape, ActorCritic::ACTOR);
        let vars: Vec<&Var<f64>> = theta.iter().map(|&id| &params[id]).collect();
        let damping = 0.1;
        let fisher = FisherVectorProduct::new(
            &mean_kl(&f.agent, &params, &f.pi_old, &f.batch),
            &vars,
            damping,
        );
        let analytic = fisher.apply(&v) - &(&v * damping);
        let scale = numeric.iter().fold(1e-3f64, |m, e| m.max(e.abs()));
        for (a, n) in analytic.iter().zip(&numeric) {
            assert!((a - n).abs() <= 1e-5 * scale, "{space}: F v {a} vs {n}");
        }
    }
}

#[test]
fn the_value_loss_gradient_equals_central_differences() {
    for (seed, space) in spaces().iter().enumerate() {
        let f = fixture(space, 30 + seed as u64);
        let phi = ids_under(&f.store, ActorCritic::CRITIC);
        let result = gradcheck(
            |x| {
                let params = f
                    .store
                    .bind_with(phi.iter().copied().zip(x.iter().cloned()));
                value_loss(&f.agent, &params, &f.batch)
            },
            &values(&f.store, &phi),
        );
        assert!(result.is_ok(), "{space}: {}", result.unwrap_err());
        // and it is E[(V(s) − R)²]
        let v = to_f64(&f.agent.value(
            &f.store.constants(),
            &observations_var(&f.batch.observations),
        ));
        let expected = (&v - &f.batch.returns).mapv(|e| e * e).mean().unwrap();
        let l_v = value_loss(&f.agent, &f.store.constants(), &f.batch).item();
        assert!((l_v - expected).abs() < 1e-12);
    }
}
