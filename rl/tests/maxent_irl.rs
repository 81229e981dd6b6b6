//! Maximum-entropy IRL recovers a hidden reward on a gridworld from an optimal expert's
//! demonstrations: the learned reward's optimal policy agrees with the expert's, and the
//! discounted feature counts match.

use ndarray::{Array1, Array2, array};
use rand::{RngExt, SeedableRng};
use wengert_rl::env::{Gridworld, GridworldRewards};
use wengert_rl::irl::{MaxEntConfig, maxent_irl, optimal_policy, sample_demonstrations};

const SIDE: usize = 8;
const COLOURS: usize = 5;
const GAMMA: f64 = 0.9;

/// An 8×8 open grid with slippery moves (noise 0.1), in which every cell may start an episode,
/// each cell painted one of five colours at random; `f(s)` is the one-hot colour of cell `s`.
fn colour_world(seed: u64) -> (Gridworld, Array2<f64>) {
    let map = vec!["S".repeat(SIDE); SIDE].join("\n");
    let rewards = GridworldRewards {
        noise: 0.1,
        ..GridworldRewards::default()
    };
    let world = Gridworld::new(&map, rewards).unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut features = Array2::zeros((SIDE * SIDE, COLOURS));
    for s in 0..SIDE * SIDE {
        features[[s, rng.random_range(0..COLOURS)]] = 1.0;
    }
    (world, features)
}

/// The hidden reward's weights: colour 0 is the one to reach, colour 1 the one to avoid.
fn theta_star() -> Array1<f64> {
    array![1.0, -1.0, 0.0, -0.3, 0.4]
}

#[test]
fn recovers_the_experts_policy_and_matches_its_feature_counts() {
    let (mut world, features) = colour_world(3);
    let r_star = features.dot(&theta_star()).to_vec();
    let expert = optimal_policy(world.model(), &r_star, GAMMA);
    // 200 paths of 200 steps: γ^200 ≈ 7e-10, so truncation is far below the tolerance.
    let demonstrations = sample_demonstrations(&mut world, &expert, 200, 200, 11).unwrap();

    let config = MaxEntConfig {
        gamma: GAMMA,
        ..MaxEntConfig::default()
    };
    let learned = maxent_irl(world.model(), &features, &demonstrations, &config).unwrap();

    let learned_policy = optimal_policy(world.model(), &learned.reward, GAMMA);
    let agreeing = learned_policy
        .iter()
        .zip(&expert)
        .filter(|(a, b)| a == b)
        .count();
    let agreement = agreeing as f64 / expert.len() as f64;
    let (first, last) = (learned.history[0], *learned.history.last().unwrap());
    println!(
        "agreement {agreeing}/{}  gap {:.2e} (from {:.2e})  L {:.4} (from {:.4})  θ {:.3}  after {} iterations",
        expert.len(),
        learned.feature_gap(),
        first.feature_gap,
        last.log_likelihood,
        first.log_likelihood,
        learned.theta(),
        learned.history.len()
    );
    assert!(
        agreement >= 0.9,
        "policies agree on {agreement:.3} of states"
    );
    assert!(
        learned.feature_gap() < 1e-2,
        "gap {}",
        learned.feature_gap()
    );
    assert!(last.log_likelihood > first.log_likelihood + 1.0);
    // The learned reward ranks the colour the expert heads for above all others.
    let theta = learned.theta();
    let best = (0..COLOURS).max_by(|&i, &j| theta[i].total_cmp(&theta[j]));
    assert_eq!(best, Some(0), "θ = {theta}");
}

#[test]
fn the_same_demonstrations_give_the_same_reward_bit_for_bit() {
    let (mut world, features) = colour_world(5);
    let r_star = features.dot(&theta_star()).to_vec();
    let expert = optimal_policy(world.model(), &r_star, GAMMA);
    let demonstrations = sample_demonstrations(&mut world, &expert, 20, 100, 2).unwrap();
    let again = sample_demonstrations(&mut world, &expert, 20, 100, 2).unwrap();
    assert_eq!(demonstrations, again);
    let config = MaxEntConfig {
        iterations: 20,
        ..MaxEntConfig::default()
    };
    let a = maxent_irl(world.model(), &features, &demonstrations, &config).unwrap();
    let b = maxent_irl(world.model(), &features, &again, &config).unwrap();
    assert_eq!(a.theta(), b.theta());
    assert_eq!(a.history, b.history);
}
