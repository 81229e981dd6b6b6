//! The uniform replay buffer: ring overwrite order, sampling only filled slots, and storing a
//! vectorised step with the pre-reset final observation.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use wengert_rl::buffers::{ActionShape, BatchActions, ReplayBuffer, ReplayStorage, Transition};
use wengert_rl::env::{Action, CartPole, Pendulum, TimeLimit, VectorActions, VectorEnv};

/// Transition `t`: `o = (t, −t)`, action `t`, reward `t`, `o' = o + 1`.
fn push_numbered(buffer: &mut ReplayBuffer, t: usize) -> usize {
    let o = [t as f32, -(t as f32)];
    let next = [t as f32 + 1.0, -(t as f32) + 1.0];
    buffer.push(Transition::one_step(
        &o,
        Action::Discrete(t),
        t as f64,
        &next,
        t.is_multiple_of(3),
        0.9,
    ))
}

#[test]
fn the_ring_overwrites_the_oldest_transition() {
    let mut buffer = ReplayBuffer::new(4, 2, ActionShape::Discrete);
    let slots: Vec<usize> = (0..10).map(|t| push_numbered(&mut buffer, t)).collect();
    assert_eq!(slots, vec![0, 1, 2, 3, 0, 1, 2, 3, 0, 1]);
    assert_eq!(buffer.len(), 4);

    // Pushes 6..10 survive: slot k holds the last push t with t mod 4 = k.
    let batch = buffer.gather(&[0, 1, 2, 3]);
    assert_eq!(batch.rewards.to_vec(), vec![8.0, 9.0, 6.0, 7.0]);
    assert_eq!(
        batch.actions,
        BatchActions::Discrete(vec![8, 9, 6, 7].into())
    );
    assert_eq!(
        batch.observations.column(1).to_vec(),
        vec![-8.0, -9.0, -6.0, -7.0]
    );
    assert_eq!(
        batch.next_observations.column(0).to_vec(),
        vec![9.0, 10.0, 7.0, 8.0]
    );
    assert_eq!(batch.terminated.to_vec(), vec![false, true, true, false]);
    assert_eq!(batch.discounts.to_vec(), vec![0.9; 4]);
    assert_eq!(batch.bootstrap_factors().to_vec(), vec![0.9, 0.0, 0.0, 0.9]);
}

#[test]
fn sampling_draws_only_filled_slots_and_all_of_them() {
    let mut buffer = ReplayBuffer::new(1000, 2, ActionShape::Discrete);
    for t in 0..7 {
        push_numbered(&mut buffer, t);
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
    let mut counts = [0usize; 7];
    for _ in 0..100 {
        let batch = buffer.sample(64, &mut rng);
        assert_eq!(batch.len(), 64);
        assert_eq!(batch.observations.dim(), (64, 2));
        for (row, &i) in batch.indices.iter().enumerate() {
            assert!(i < 7, "slot {i} was never filled");
            // Each row is the transition stored in its slot.
            assert_eq!(batch.rewards[row], i as f64);
            assert_eq!(batch.observations[[row, 0]], i as f32);
            counts[i] += 1;
        }
    }
    // Uniform: each of the 7 slots about 6400 / 7 ≈ 914 times.
    assert!(
        counts.iter().all(|&c| (800..1030).contains(&c)),
        "{counts:?}"
    );
}

#[test]
fn continuous_actions_are_stored_as_rows() {
    let mut buffer = ReplayBuffer::new(3, 1, ActionShape::Continuous(2));
    for t in 0..4 {
        let o = [t as f32];
        let a = [t as f32, 10.0 * t as f32];
        buffer.push(Transition::one_step(
            &o,
            Action::Continuous(&a),
            0.0,
            &o,
            false,
            0.9,
        ));
    }
    let BatchActions::Continuous(actions) = buffer.gather(&[0, 1, 2]).actions else {
        panic!("continuous buffer returned discrete actions");
    };
    assert_eq!(
        actions,
        ndarray::arr2(&[[3.0, 30.0], [1.0, 10.0], [2.0, 20.0]])
    );
}

#[test]
#[should_panic(expected = "does not match")]
fn a_discrete_action_in_a_continuous_buffer_panics() {
    let mut buffer = ReplayBuffer::new(3, 1, ActionShape::Continuous(1));
    buffer.push(Transition::one_step(
        &[0.0],
        Action::Discrete(0),
        0.0,
        &[0.0],
        false,
        0.9,
    ));
}

#[test]
#[should_panic(expected = "empty")]
fn sampling_an_empty_buffer_panics() {
    let buffer = ReplayBuffer::new(3, 1, ActionShape::Discrete);
    buffer.sample(1, &mut Xoshiro256PlusPlus::seed_from_u64(0));
}

/// CartPole under a 9-step time limit, pushing right: episodes end by termination or by
/// truncation. Every stored `o'` must be the pre-reset final observation, and only
/// termination may be flagged.
#[test]
fn vector_steps_store_final_observations_and_only_termination() {
    let limit = 9;
    let envs = (0..3)
        .map(|_| TimeLimit::new(CartPole::new(), limit))
        .collect();
    let mut envs = VectorEnv::new(envs, 1).unwrap();
    let mut buffer = ReplayBuffer::new(10_000, 4, ActionShape::Discrete);
    let mut observations = envs.reset(Some(3));
    let actions = [1, 1, 1];
    let (mut truncations, mut terminations) = (0, 0);
    for _ in 0..40 {
        let step = envs.step(VectorActions::Discrete(&actions)).unwrap();
        let first = buffer.len();
        buffer.push_vector_step(
            &observations,
            VectorActions::Discrete(&actions),
            &step,
            0.99,
        );
        let batch = buffer.gather(&(first..first + 3).collect::<Vec<_>>());
        assert_eq!(batch.observations, observations);
        assert_eq!(batch.next_observations, step.final_observations);
        assert_eq!(batch.terminated.to_vec(), step.terminated);
        for i in 0..3 {
            // Both flags can be set when the pole falls on the last allowed step; termination wins.
            if step.truncated[i] && !step.terminated[i] {
                truncations += 1;
                assert!(!batch.terminated[i]);
                assert_eq!(batch.bootstrap_factors()[i], 0.99);
            }
            if step.terminated[i] {
                terminations += 1;
            }
            if step.truncated[i] || step.terminated[i] {
                assert_ne!(step.observations.row(i), step.final_observations.row(i));
            }
        }
        observations = step.observations;
    }
    assert!(
        truncations > 0 && terminations > 0,
        "{truncations} truncations, {terminations} terminations"
    );
}

#[test]
fn continuous_vector_steps_split_the_action_rows() {
    let envs = (0..2)
        .map(|_| TimeLimit::new(Pendulum::new(), 200))
        .collect();
    let mut envs = VectorEnv::new(envs, 1).unwrap();
    let observations = envs.reset(Some(0));
    let torques = [0.5_f32, -1.5];
    let step = envs.step(VectorActions::Continuous(&torques)).unwrap();
    let mut buffer = ReplayBuffer::new(10, 3, ActionShape::Continuous(1));
    buffer.push_vector_step(
        &observations,
        VectorActions::Continuous(&torques),
        &step,
        0.99,
    );
    let batch = buffer.gather(&[0, 1]);
    assert_eq!(
        batch.actions,
        BatchActions::Continuous(ndarray::arr2(&[[0.5], [-1.5]]))
    );
    assert_eq!(batch.rewards, step.rewards);
}
