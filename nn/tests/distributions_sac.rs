//! The reparameterised tanh-Gaussian policy gradient of SAC.
//!
//! With `a = tanh(μ_φ(s) + σ_φ(s) ε)` for fixed noise `ε`, the policy loss
//! `J(φ) = α ln π_φ(a|s) − Q(s, a)` depends on `φ` through the action `a` (in `Q` and in
//! `ln π`) and through the density `π_φ` itself, so
//!
//! `∇_φ J = α ∂_φ ln π_φ(a)|_{a fixed} + (α ∇_a ln π_φ(a) − ∇_a Q) ∇_φ a`,
//!
//! which is not the deterministic-policy gradient `−∇_a Q ∇_φ a`.

use autograd::prelude::*;
use ndarray::{Dimension, array};
use rand::SeedableRng;
use rand::rngs::StdRng;
use wengert_nn::distributions::TanhGaussian;
use wengert_nn::{Bound, Linear, Module, ParamGradients, ParamStore};

const ALPHA: f64 = 0.5;

struct Setup {
    store: ParamStore<f64>,
    policy: Linear,
}

fn setup() -> Setup {
    let mut store = ParamStore::new();
    let policy = Linear::new(
        &mut store.root().sub("policy"),
        3,
        4,
        &mut StdRng::seed_from_u64(11),
    );
    Setup { store, policy }
}

fn states() -> Var<f64> {
    Var::constant(array![[0.3, -0.7, 1.1], [-0.4, 0.9, 0.2]])
}

fn noise() -> ndarray::ArrayD<f64> {
    array![[0.8, -1.3], [-0.2, 0.5]].into_dyn()
}

/// `Q(s, a) = −Σ_d (a_d − a*_d)² + ⟨s_{:2}, a⟩`, a fixed differentiable critic.
fn critic(s: &Var<f64>, a: &Var<f64>) -> Var<f64> {
    let target = Var::constant(array![0.6, -0.4]);
    a.sub(&target)
        .powi(2)
        .sum(&[-1], false)
        .neg()
        .add(&s.slice(-1, 0, 2).mul(a).sum(&[-1], false))
}

/// The policy's squashed Gaussian at the states: the linear layer gives `[μ, ln σ]`.
fn policy_distribution(setup: &Setup, params: &Bound<'_, f64>) -> TanhGaussian<f64> {
    let out = setup.policy.forward(params, &states());
    TanhGaussian::new(&out.slice(-1, 0, 2), &out.slice(-1, 2, 4))
}

/// The three parts of the loss, summed over the batch, as (entropy term through `a` only,
/// entropy term through the density only, `−Q`), plus the full loss.
fn losses(setup: &Setup, params: &Bound<'_, f64>) -> [Var<f64>; 4] {
    let pi = policy_distribution(setup, params);
    let draw = pi.rsample_with(&noise());
    let full = pi
        .log_prob(&draw)
        .mul_scalar(ALPHA)
        .sub(&critic(&states(), &draw.action))
        .sum_all();
    let frozen = TanhGaussian::new(&pi.base().mean().detach(), &pi.base().log_std().detach());
    let through_action = frozen
        .log_prob_pre_tanh(&draw.pre_tanh)
        .mul_scalar(ALPHA)
        .sum_all();
    let through_density = pi
        .log_prob_pre_tanh(&draw.pre_tanh.detach())
        .mul_scalar(ALPHA)
        .sum_all();
    let minus_q = critic(&states(), &draw.action).neg().sum_all();
    [full, through_action, through_density, minus_q]
}

fn gradients(setup: &Setup) -> [ParamGradients<f64>; 4] {
    let tape = Tape::new();
    let params = setup.store.bind(&tape);
    losses(setup, &params).map(|loss| params.gradients(&loss))
}

fn flat(setup: &Setup, grads: &ParamGradients<f64>) -> Vec<f64> {
    setup
        .store
        .trainable()
        .flat_map(|id| {
            grads
                .get(id)
                .map_or_else(Vec::new, |g| g.iter().copied().collect())
        })
        .collect()
}

#[test]
fn the_reparameterised_policy_gradient_equals_central_differences() {
    let setup = setup();
    let [full, ..] = gradients(&setup);
    let h = 1e-6;
    let ids: Vec<_> = setup.store.trainable().collect();
    for id in ids {
        let original = setup.store.value(id).to_owned();
        for (element, _) in original.indexed_iter() {
            let evaluate = |shift: f64| {
                let mut shifted = original.clone();
                shifted[&element] += shift;
                setup.store.set(id, shifted);
                let value = losses(&setup, &setup.store.constants())[0].item();
                setup.store.set(id, original.clone());
                value
            };
            let numeric = (evaluate(h) - evaluate(-h)) / (2.0 * h);
            let analytic = full[id][&element];
            assert!(
                (analytic - numeric).abs() <= 1e-7 + 1e-6 * numeric.abs(),
                "{}{:?}: analytic {analytic}, numeric {numeric}",
                setup.store.name(id),
                element.slice()
            );
        }
    }
}

#[test]
fn the_policy_gradient_is_not_the_deterministic_policy_gradient() {
    let setup = setup();
    let [full, through_action, through_density, minus_q] = gradients(&setup);
    let (full, through_action, through_density, deterministic) = (
        flat(&setup, &full),
        flat(&setup, &through_action),
        flat(&setup, &through_density),
        flat(&setup, &minus_q),
    );
    assert_eq!(full.len(), 3 * 4 + 4);

    // ∇J = α ∂_φ ln π|_a + α ∇_a ln π ∇_φ a − ∇_a Q ∇_φ a: the parts add up to round-off.
    for i in 0..full.len() {
        let sum = through_action[i] + through_density[i] + deterministic[i];
        assert!((full[i] - sum).abs() < 1e-12, "{i}: {} vs {sum}", full[i]);
    }

    // …and the entropy term's parts are not negligible: the deterministic-policy gradient
    // −∇_a Q ∇_φ a alone is far from the full gradient, and so is it plus the pathwise part.
    let distance = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).powi(2))
            .sum::<f64>()
            .sqrt()
    };
    let norm = distance(&full, &vec![0.0; full.len()]);
    assert!(distance(&full, &deterministic) > 0.1 * norm);
    let pathwise_only: Vec<f64> = deterministic
        .iter()
        .zip(&through_action)
        .map(|(d, p)| d + p)
        .collect();
    assert!(distance(&full, &pathwise_only) > 0.1 * norm);
}
