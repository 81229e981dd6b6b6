//! The natural-gradient math of TRPO/NPG on small policies: the Fisher-vector product from
//! autograd (`nn::optim::FisherVectorProduct` of `trpo::mean_kl`) equals the explicitly formed
//! Fisher matrix times `v`, conjugate gradient on that product solves the damped Fisher system
//! without recording anything, and the step lands on the KL radius.

use autograd::prelude::*;
use autograd::{grad, no_grad};
use ndarray::{Array1, Array2};
use nn::optim::conjugate_gradient::flatten;
use nn::optim::{FisherVectorProduct, NaturalStep, conjugate_gradient};
use nn::{Module, ParamId, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::trpo::mean_kl;
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::policy::{
    Actions, ActorCritic, NetworkConfig, PolicyDistribution, observations_var,
};

/// A small actor-critic in f64 and a batch of observations.
fn small_policy(action_space: &Space, seed: u64) -> (ParamStore<f64>, ActorCritic, Array2<f32>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut store = ParamStore::<f64>::new();
    let config = NetworkConfig {
        hidden: vec![5],
        log_std_init: -0.3,
        ..NetworkConfig::default()
    };
    let agent = ActorCritic::new(&mut store, 3, action_space, &config, &mut rng);
    // The policy head starts at gain 0.01; larger weights make the test less degenerate.
    for id in store.trainable().collect::<Vec<_>>() {
        let noisy = store.value(id).mapv(|v| v + rng.random_range(-0.5..0.5));
        store.set(id, noisy);
    }
    let observations = Array2::from_shape_fn((6, 3), |_| rng.random_range(-1.0f32..1.0));
    (store, agent, observations)
}

fn actor_ids(store: &ParamStore<f64>) -> Vec<ParamId> {
    store
        .trainable()
        .filter(|&id| store.name(id).starts_with("actor."))
        .collect()
}

fn random_vector(n: usize, rng: &mut StdRng) -> Array1<f64> {
    Array1::from_shape_fn(n, |_| rng.random_range(-1.0..1.0))
}

/// `F = (1/B) Σ_s Σ_a π(a|s) ∇θ ln π(a|s) ∇θ ln π(a|s)ᵀ`, by enumerating the actions.
fn categorical_fisher(
    store: &ParamStore<f64>,
    agent: &ActorCritic,
    observations: &Array2<f32>,
    actions: usize,
) -> Array2<f64> {
    let ids = actor_ids(store);
    let dim: usize = ids.iter().map(|&id| store.value(id).len()).sum();
    let mut fisher = Array2::zeros((dim, dim));
    let batch = observations.nrows();
    for b in 0..batch {
        let s = observations_var::<f64>(&observations.slice(ndarray::s![b..b + 1, ..]).to_owned());
        for a in 0..actions {
            let tape = Tape::new();
            let params = store.bind(&tape);
            let pi = agent.policy(&params, &s);
            let log_prob = pi.log_prob(&wengert_rl::policy::Actions::Discrete(vec![a]));
            let probability = log_prob.value()[0].exp();
            let theta: Vec<&Var<f64>> = ids.iter().map(|&id| &params[id]).collect();
            let score = flatten(&grad(&[&log_prob.sum_all()], &theta));
            let outer = score
                .view()
                .insert_axis(ndarray::Axis(1))
                .dot(&score.view().insert_axis(ndarray::Axis(0)));
            fisher.scaled_add(probability / batch as f64, &outer);
        }
    }
    fisher
}

/// For `N(μ_θ(s), diag σ²)` with a state-independent `ln σ`:
/// `F = (1/B) Σ_s J_μ(s)ᵀ diag(σ⁻²) J_μ(s)` on the network's weights, `2 I` on `ln σ`, and no
/// cross terms.
fn gaussian_fisher(
    store: &ParamStore<f64>,
    agent: &ActorCritic,
    observations: &Array2<f32>,
) -> Array2<f64> {
    let ids = actor_ids(store);
    let sizes: Vec<usize> = ids.iter().map(|&id| store.value(id).len()).collect();
    let dim: usize = sizes.iter().sum();
    let log_std_id = store.id("actor.log_std").expect("a Gaussian head");
    let log_std = store.value(log_std_id);
    let action_dim = log_std.len();
    let mut fisher = Array2::zeros((dim, dim));
    let batch = observations.nrows();
    for b in 0..batch {
        let s = observations_var::<f64>(&observations.slice(ndarray::s![b..b + 1, ..]).to_owned());
        for k in 0..action_dim {
            let tape = Tape::new();
            let params = store.bind(&tape);
            let mean = agent.actor.forward(&params, &s);
            let mean_k = mean.slice(-1, k, k + 1).sum_all();
            let theta: Vec<&Var<f64>> = ids.iter().map(|&id| &params[id]).collect();
            let jacobian_row = flatten(&grad(&[&mean_k], &theta));
            let precision = (-2.0 * log_std[[k]]).exp();
            let outer = jacobian_row
                .view()
                .insert_axis(ndarray::Axis(1))
                .dot(&jacobian_row.view().insert_axis(ndarray::Axis(0)));
            fisher.scaled_add(precision / batch as f64, &outer);
        }
    }
    let offset: usize = ids
        .iter()
        .zip(&sizes)
        .take_while(|(id, _)| **id != log_std_id)
        .map(|(_, n)| n)
        .sum();
    for k in 0..action_dim {
        fisher[[offset + k, offset + k]] += 2.0;
    }
    fisher
}

/// The mean KL `D̄_KL(π_old ‖ π_θ)` recorded on `tape` with π_old constant, and its Fisher-vector
/// product over the actor's parameters.
fn fisher_product(
    store: &ParamStore<f64>,
    agent: &ActorCritic,
    observations: &Array2<f32>,
    tape: &Tape<f64>,
    damping: f64,
) -> FisherVectorProduct<f64> {
    let s = observations_var::<f64>(observations);
    let pi_old: PolicyDistribution<f64> = no_grad(|| agent.policy(&store.constants(), &s));
    let n = observations.nrows();
    let batch = Batch {
        observations: observations.clone(),
        actions: Actions::Discrete(vec![0; n]), // D̄_KL does not look at the actions
        log_probs: Array1::zeros(n),
        values: Array1::zeros(n),
        advantages: Array1::zeros(n),
        returns: Array1::zeros(n),
    };
    let params = store.bind(tape);
    let kl = mean_kl(agent, &params, &pi_old, &batch);
    let ids = actor_ids(store);
    let theta: Vec<&Var<f64>> = ids.iter().map(|&id| &params[id]).collect();
    FisherVectorProduct::new(&kl, &theta, damping)
}

fn max_abs_difference(a: &Array1<f64>, b: &Array1<f64>) -> f64 {
    (a - b).iter().fold(0.0, |m, e| m.max(e.abs()))
}

#[test]
fn the_fisher_vector_product_equals_the_explicit_fisher_matrix_of_a_categorical_policy() {
    let (store, agent, observations) = small_policy(&Space::Discrete { n: 3 }, 1);
    let fisher = categorical_fisher(&store, &agent, &observations, 3);
    let tape = Tape::new();
    let damping = 0.1;
    let product = fisher_product(&store, &agent, &observations, &tape, damping);
    assert_eq!(product.dim(), fisher.nrows());
    let mut rng = StdRng::seed_from_u64(7);
    for _ in 0..3 {
        let v = random_vector(product.dim(), &mut rng);
        let expected = fisher.dot(&v) + &(&v * damping);
        let f_v = product.apply(&v);
        let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        assert!(
            max_abs_difference(&f_v, &expected) <= 1e-10 * scale,
            "F v {f_v} vs explicit {expected}"
        );
    }
}

#[test]
fn the_fisher_vector_product_equals_the_explicit_fisher_matrix_of_a_gaussian_policy() {
    let space = Space::Box(BoxSpace {
        low: vec![-2.0, -2.0],
        high: vec![2.0, 2.0],
    });
    let (store, agent, observations) = small_policy(&space, 2);
    let fisher = gaussian_fisher(&store, &agent, &observations);
    let tape = Tape::new();
    let product = fisher_product(&store, &agent, &observations, &tape, 0.0);
    let mut rng = StdRng::seed_from_u64(8);
    for _ in 0..3 {
        let v = random_vector(product.dim(), &mut rng);
        let expected = fisher.dot(&v);
        let f_v = product.apply(&v);
        let scale = expected.iter().fold(0.0f64, |m, e| m.max(e.abs()));
        assert!(
            max_abs_difference(&f_v, &expected) <= 1e-10 * scale,
            "F v {f_v} vs explicit {expected}"
        );
    }
}

#[test]
fn conjugate_gradient_on_fisher_vector_products_solves_the_damped_system_without_recording() {
    let (store, agent, observations) = small_policy(&Space::Discrete { n: 3 }, 3);
    let damping = 0.1;
    let fisher = categorical_fisher(&store, &agent, &observations, 3);
    let dim = fisher.nrows();
    let damped = &fisher + &(Array2::<f64>::eye(dim) * damping);
    let tape = Tape::new();
    let product = fisher_product(&store, &agent, &observations, &tape, damping);
    let recorded = tape.len();

    let mut rng = StdRng::seed_from_u64(9);
    let b = random_vector(dim, &mut rng);
    let mut products = 0;
    let solution = conjugate_gradient(
        |v| {
            products += 1;
            product.apply(v)
        },
        &b,
        4 * dim,
        1e-10,
    );
    // Every conjugate-gradient iteration reused the one recorded forward pass and gradient.
    assert_eq!(
        tape.len(),
        recorded,
        "conjugate gradient recorded new nodes"
    );
    assert!(products > 1);
    assert!(
        solution.residual_norm <= 1e-10,
        "residual {}",
        solution.residual_norm
    );
    let residual = &damped.dot(&solution.x) - &b;
    let residual_norm = residual.dot(&residual).sqrt();
    assert!(residual_norm < 1e-8, "‖(F + λI) x − b‖ = {residual_norm}");
}

#[test]
fn the_natural_step_has_quadratic_kl_delta_and_the_true_kl_agrees_for_small_delta() {
    let (store, agent, observations) = small_policy(&Space::Discrete { n: 3 }, 4);
    let damping = 1e-3;
    let fisher = categorical_fisher(&store, &agent, &observations, 3);
    let dim = fisher.nrows();
    let tape = Tape::new();
    let product = fisher_product(&store, &agent, &observations, &tape, damping);
    let recorded = tape.len();
    let mut rng = StdRng::seed_from_u64(10);
    // A gradient in the span of the score functions, as a policy gradient is: a random g
    // would point mostly along F's near-null directions, where only the damping bounds the step.
    let g = fisher.dot(&random_vector(dim, &mut rng));
    let delta = 1e-4;
    let natural = product.solve(&g, 15, 1e-12);
    let step = &natural.x * NaturalStep::MaxKl(delta).size(natural.x_f_x);
    assert_eq!(tape.len(), recorded, "the natural step recorded new nodes");
    assert!(natural.cg_iterations >= 1 && natural.cg_iterations <= 15);
    assert!(g.dot(&step) > 0.0, "the expected improvement gᵀΔθ");
    let damped = &fisher + &(Array2::<f64>::eye(dim) * damping);
    let quadratic_kl = 0.5 * step.dot(&damped.dot(&step));
    assert!(
        (quadratic_kl - delta).abs() < 1e-9,
        "½ Δθᵀ (F + λI) Δθ = {quadratic_kl}, δ = {delta}"
    );

    // The true mean KL after the step, with the damping's share removed, is close to δ.
    let ids = actor_ids(&store);
    let s = observations_var::<f64>(&observations);
    let pi_old = no_grad(|| agent.policy(&store.constants(), &s));
    let mut offset = 0;
    for &id in &ids {
        let value = store.value(id);
        let n = value.len();
        let moved =
            Array1::from_iter(value.iter().copied()) + step.slice(ndarray::s![offset..offset + n]);
        store.set(id, moved.into_shape_with_order(value.shape()).unwrap());
        offset += n;
    }
    let kl = no_grad(|| {
        pi_old
            .kl(&agent.policy(&store.constants(), &s))
            .mean_all()
            .item()
    });
    let undamped = 0.5 * step.dot(&fisher.dot(&step));
    assert!(
        (kl - undamped).abs() < 0.05 * undamped,
        "KL after the step {kl}, quadratic model {undamped}"
    );
}
