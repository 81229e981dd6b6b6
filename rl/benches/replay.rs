//! Replay storage at DQN scale: pushing, sampling and re-prioritising minibatches of 256 in a
//! full buffer of 10⁶ CartPole-sized transitions (4 observations, a discrete action).
//!
//! `cargo bench -p wengert-rl --bench replay`. Criterion reports the time per minibatch of
//! `BATCH` and, through `Throughput::Elements`, transitions per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use std::hint::black_box;
use wengert_rl::buffers::{
    ActionShape, PrioritizedReplay, ReplayBuffer, ReplayStorage, Transition,
};
use wengert_rl::env::Action;

const CAPACITY: usize = 1_000_000;
const BATCH: usize = 256;
const OBSERVATION_DIM: usize = 4;

/// Fills `storage` to capacity with random transitions.
fn fill(storage: &mut impl ReplayStorage, rng: &mut Xoshiro256PlusPlus) {
    for _ in 0..CAPACITY {
        push_random(storage, rng);
    }
}

fn push_random(storage: &mut impl ReplayStorage, rng: &mut Xoshiro256PlusPlus) {
    let o: [f32; OBSERVATION_DIM] = std::array::from_fn(|_| rng.random());
    let next: [f32; OBSERVATION_DIM] = std::array::from_fn(|_| rng.random());
    let action = Action::Discrete(rng.random_range(0..2));
    let terminated = rng.random::<f64>() < 0.01;
    storage.push(Transition::one_step(
        &o, action, 1.0, &next, terminated, 0.99,
    ));
}

/// A full prioritised buffer whose priorities come from exponentially distributed TD errors,
/// so that the sum tree is not uniform.
fn prioritized(rng: &mut Xoshiro256PlusPlus) -> PrioritizedReplay {
    let mut replay =
        PrioritizedReplay::new(CAPACITY, OBSERVATION_DIM, ActionShape::Discrete, 0.6, 1e-6);
    fill(&mut replay, rng);
    let indices: Vec<usize> = (0..CAPACITY).collect();
    let td_errors: Vec<f64> = (0..CAPACITY)
        .map(|_| -(1.0 - rng.random::<f64>()).ln())
        .collect();
    replay.update_priorities(&indices, &td_errors);
    replay
}

fn replay(c: &mut Criterion) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(0);
    let mut group = c.benchmark_group("replay_1e6");
    group.throughput(Throughput::Elements(BATCH as u64));

    let mut replay = prioritized(&mut rng);
    group.bench_function("prioritized_push_256", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                push_random(&mut replay, &mut rng);
            }
        });
    });
    group.bench_function("prioritized_sample_256", |b| {
        b.iter(|| black_box(replay.sample(BATCH, 0.4, &mut rng)));
    });
    group.bench_function("prioritized_update_priorities_256", |b| {
        let indices: Vec<usize> = (0..BATCH).map(|_| rng.random_range(0..CAPACITY)).collect();
        let td_errors: Vec<f64> = (0..BATCH).map(|_| rng.random()).collect();
        b.iter(|| replay.update_priorities(black_box(&indices), black_box(&td_errors)));
    });
    drop(replay);

    let mut uniform = ReplayBuffer::new(CAPACITY, OBSERVATION_DIM, ActionShape::Discrete);
    fill(&mut uniform, &mut rng);
    group.bench_function("uniform_push_256", |b| {
        b.iter(|| {
            for _ in 0..BATCH {
                push_random(&mut uniform, &mut rng);
            }
        });
    });
    group.bench_function("uniform_sample_256", |b| {
        b.iter(|| black_box(uniform.sample(BATCH, &mut rng)));
    });
    group.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
