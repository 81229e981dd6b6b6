//! Raw CartPole-v1 throughput: steps per second of the environment alone (no agent).
//!
//! `cargo bench -p wengert-rl --bench cartpole`. Criterion reports time per batch of
//! `STEPS` steps and, through `Throughput::Elements`, steps per second.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use wengert_rl::env::{Action, CartPole, Env, TimeLimit, VectorActions, VectorEnv};

/// A multiple of the 64 copies of the vectorised run.
const STEPS: u64 = 102_400;

/// Steps one environment `STEPS` times with alternating pushes, resetting when an episode ends.
fn run<E: Env>(env: &mut E, observation: &mut [f32]) -> f32 {
    let mut checksum = 0.0;
    for t in 0..STEPS {
        let feedback = env
            .step_into(Action::Discrete((t & 1) as usize), observation)
            .unwrap();
        checksum += observation[0];
        if feedback.terminated || feedback.truncated {
            env.reset_into(None, observation);
        }
    }
    checksum
}

fn cartpole(c: &mut Criterion) {
    let mut group = c.benchmark_group("cartpole");
    group.throughput(Throughput::Elements(STEPS));

    // The equations of motion alone: what the Env contract (checks, observation) adds on top.
    group.bench_function("dynamics", |b| {
        b.iter(|| {
            let mut state = [0.01, 0.0, 0.01, 0.0];
            for t in 0..STEPS {
                let (next, terminated) = CartPole::dynamics(state, (t & 1) as usize);
                state = if terminated {
                    [0.01, 0.0, 0.01, 0.0]
                } else {
                    next
                };
            }
            black_box(state)
        });
    });

    group.bench_function("step", |b| {
        let mut env = CartPole::new();
        let mut observation = env.reset(Some(0));
        b.iter(|| black_box(run(&mut env, &mut observation)));
    });

    group.bench_function("step_with_time_limit", |b| {
        let mut env = TimeLimit::new(CartPole::new(), 500);
        let mut observation = env.reset(Some(0));
        b.iter(|| black_box(run(&mut env, &mut observation)));
    });

    for num_threads in [1, 2] {
        group.bench_function(format!("vector_64_copies_{num_threads}_threads"), |b| {
            let envs = (0..64)
                .map(|_| TimeLimit::new(CartPole::new(), 500))
                .collect();
            let mut envs = VectorEnv::new(envs, num_threads).unwrap();
            envs.reset(Some(0));
            let actions: Vec<usize> = (0..64).map(|i| i % 2).collect();
            b.iter(|| {
                for _ in 0..STEPS / 64 {
                    black_box(envs.step(VectorActions::Discrete(&actions)).unwrap());
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, cartpole);
criterion_main!(benches);
