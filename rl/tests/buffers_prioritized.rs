//! Prioritised replay: the sum tree samples in proportion to priorities (chi-square goodness of
//! fit), its sums stay consistent, and the importance-sampling weights follow their formula.

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use wengert_rl::buffers::{
    ActionShape, BetaSchedule, PrioritizedReplay, ReplayStorage, SumTree, Transition,
};
use wengert_rl::env::Action;

/// The 0.999 quantile of χ² with 49 degrees of freedom (50 categories), 85.3506 (computed from
/// the regularised incomplete gamma function). A correct sampler exceeds it with probability
/// 0.001; the seed is fixed, so the test is deterministic.
const CHI_SQUARE_49_DOF_0_999: f64 = 85.35;

const LEAVES: usize = 50;
const DRAWS: usize = 200_000;

/// Pearson's statistic `Σ_i (O_i − E_i)² / E_i` with `E_i = draws · p_i / Σ p`.
fn chi_square(counts: &[usize], priorities: &[f64]) -> f64 {
    let draws = counts.iter().sum::<usize>() as f64;
    let total: f64 = priorities.iter().sum();
    counts
        .iter()
        .zip(priorities)
        .map(|(&observed, &p)| {
            let expected = draws * p / total;
            (observed as f64 - expected).powi(2) / expected
        })
        .sum()
}

/// Priorities spanning two orders of magnitude, smallest expected count ≈ 200k · 0.1/Σp > 100.
fn priorities(rng: &mut Xoshiro256PlusPlus) -> Vec<f64> {
    (0..LEAVES)
        .map(|_| 0.1 + 9.9 * rng.random::<f64>())
        .collect()
}

#[test]
fn sum_tree_sampling_frequencies_match_priorities() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2016);
    let priorities = priorities(&mut rng);
    let mut tree = SumTree::new(LEAVES);
    for (i, &p) in priorities.iter().enumerate() {
        tree.update(i, p);
    }

    let mut counts = vec![0; LEAVES];
    for _ in 0..DRAWS {
        counts[tree.find(rng.random::<f64>() * tree.total())] += 1;
    }
    let statistic = chi_square(&counts, &priorities);
    assert!(
        statistic < CHI_SQUARE_49_DOF_0_999,
        "χ² = {statistic} ≥ {CHI_SQUARE_49_DOF_0_999}"
    );

    // The test has power: the same counts are far from uniform.
    let uniform = chi_square(&counts, &[1.0; LEAVES]);
    assert!(
        uniform > 100.0 * CHI_SQUARE_49_DOF_0_999,
        "χ² vs uniform = {uniform}"
    );
}

fn buffer_with_priorities(
    capacity: usize,
    td_errors: &[f64],
    alpha: f64,
    epsilon: f64,
) -> PrioritizedReplay {
    let mut replay = PrioritizedReplay::new(capacity, 1, ActionShape::Discrete, alpha, epsilon);
    for t in 0..td_errors.len() {
        let o = [t as f32];
        replay.push(Transition::one_step(
            &o,
            Action::Discrete(t),
            0.0,
            &o,
            false,
            0.99,
        ));
    }
    let indices: Vec<usize> = (0..td_errors.len()).collect();
    replay.update_priorities(&indices, td_errors);
    replay
}

/// Stratified sampling draws fewer extreme counts than independent draws, so it passes a
/// multinomial χ² test with room to spare; failing it would mean biased frequencies.
#[test]
fn prioritized_replay_sampling_frequencies_match_priorities() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let td_errors = priorities(&mut rng);
    let (alpha, epsilon) = (0.6, 0.01);
    let replay = buffer_with_priorities(64, &td_errors, alpha, epsilon);
    let expected: Vec<f64> = td_errors
        .iter()
        .map(|delta| (delta.abs() + epsilon).powf(alpha))
        .collect();

    let mut counts = vec![0; LEAVES];
    for _ in 0..DRAWS / 250 {
        for i in replay.sample(250, 0.4, &mut rng).indices {
            counts[i] += 1;
        }
    }
    let statistic = chi_square(&counts, &expected);
    assert!(
        statistic < CHI_SQUARE_49_DOF_0_999,
        "χ² = {statistic} ≥ {CHI_SQUARE_49_DOF_0_999}"
    );
}

/// `α = 0.7`, `ε = 0.01`, `δ = (0.5, −2, 0, 1)`, `β = 0.6`, in a buffer of capacity 8 holding
/// `N = 4`. With `p_i = (|δ_i| + ε)^α`, `P(i) = p_i / Σ p`, and
/// `w_i = (N P(i))^{−β} / max_j (N P(j))^{−β} = (P(i) / P_min)^{−β}`, evaluated independently
/// (in Python) to the values below.
#[test]
fn importance_weights_match_their_formula() {
    let replay = buffer_with_priorities(8, &[0.5, -2.0, 0.0, 1.0], 0.7, 0.01);
    let probabilities = [
        0.18907482764956665,
        0.4938235874238093,
        0.012059646840013774,
        0.30504193808661023,
    ];
    let weights = [
        0.19178760068205755,
        0.10780965490573381,
        1.0,
        0.14394116819718833,
    ];
    for (i, probability) in probabilities.into_iter().enumerate() {
        assert!((replay.probability(i) - probability).abs() < 1e-14);
    }

    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let mut seen = [false; 4];
    for _ in 0..200 {
        let batch = replay.sample(16, 0.6, &mut rng);
        for (&i, &w) in batch.indices.iter().zip(&batch.weights) {
            assert!(i < 4, "sampled unfilled slot {i}");
            assert!(
                (w - weights[i]).abs() < 1e-12,
                "w_{i} = {w}, expected {}",
                weights[i]
            );
            seen[i] = true;
        }
    }
    assert_eq!(seen, [true; 4]);

    // β = 0 switches the correction off.
    let batch = replay.sample(16, 0.0, &mut rng);
    assert!(batch.weights.iter().all(|&w| w == 1.0));
}

#[test]
fn new_transitions_get_the_largest_priority_seen() {
    let mut replay = buffer_with_priorities(4, &[0.5, 3.0, 1.0], 1.0, 0.0);
    let o = [0.0];
    let slot = replay.push(Transition::one_step(
        &o,
        Action::Discrete(0),
        0.0,
        &o,
        false,
        0.99,
    ));
    assert_eq!(slot, 3);
    // p_3 = max p = 3 = p_1.
    assert_eq!(replay.probability(3), replay.probability(1));
    assert!((replay.probability(3) - 3.0 / 7.5).abs() < 1e-15);

    // Overwriting slot 0 (the ring is full) also gives it the maximum, replacing its 0.5.
    let slot = replay.push(Transition::one_step(
        &o,
        Action::Discrete(0),
        0.0,
        &o,
        false,
        0.99,
    ));
    assert_eq!(slot, 0);
    assert!((replay.probability(0) - 3.0 / 10.0).abs() < 1e-15);
}

#[test]
fn sum_tree_stays_consistent_under_random_updates() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
    for capacity in [1, 2, 3, 50, 64, 100, 1000] {
        let mut tree = SumTree::new(capacity);
        let mut priorities = vec![0.0; capacity];
        for _ in 0..20 * capacity + 100 {
            let i = rng.random_range(0..capacity);
            // Include exact zeros, which must never be found.
            let p = if rng.random::<f64>() < 0.2 {
                0.0
            } else {
                rng.random::<f64>() * 5.0
            };
            tree.update(i, p);
            priorities[i] = p;
        }
        let leaves = capacity.next_power_of_two();
        for k in 1..leaves {
            let children = tree.node(2 * k) + tree.node(2 * k + 1);
            assert_eq!(tree.node(k), children, "node {k} of capacity {capacity}");
        }
        for (i, &p) in priorities.iter().enumerate() {
            assert_eq!(tree.priority(i), p);
        }
        let total: f64 = priorities.iter().sum();
        assert!((tree.total() - total).abs() <= 1e-12 * total.max(1.0));
        if total == 0.0 {
            continue;
        }
        // find inverts the cumulative sum: a point just inside each positive leaf's interval.
        let mut cumulative = 0.0;
        for (i, &p) in priorities.iter().enumerate() {
            if p > 1e-9 {
                let found = tree.find(cumulative + 0.5 * p);
                assert_eq!(found, i, "capacity {capacity}");
            }
            cumulative += p;
        }
        for _ in 0..1000 {
            let found = tree.find(rng.random::<f64>() * tree.total());
            assert!(priorities[found] > 0.0, "found a zero-priority leaf");
        }
        assert!(priorities[tree.find(tree.total())] > 0.0);
    }
}

#[test]
fn beta_is_annealed_linearly_to_one() {
    let schedule = BetaSchedule {
        beta_0: 0.4,
        steps: 100,
    };
    let betas: Vec<f64> = [0, 25, 50, 100, 1000]
        .iter()
        .map(|&t| schedule.beta(t))
        .collect();
    let expected = [0.4, 0.55, 0.7, 1.0, 1.0];
    for (beta, expected) in betas.iter().zip(expected) {
        assert!((beta - expected).abs() < 1e-15);
    }
}
