//! One optimiser step and one global-norm clipping of the gradients of an MLP, in f32.
//!
//! The gradients come from a real backward pass through the tape (a mean squared error on a
//! batch of 256), so their memory layout is the engine's (a `Linear` weight's gradient is
//! row-major like the weight, since the engine returns each gradient in its operand's layout).
//! The bench prints how many arrays are not row-major.

use autograd::Var;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use rand::{RngExt, SeedableRng};
use wengert_nn::losses::{self, Reduction};
use wengert_nn::optim::{Adam, AdamConfig, Optimizer, clip_grad_norm};
use wengert_nn::{Activation, Mlp, Module, ParamGradients, ParamStore};

/// A store holding an MLP with layer sizes `sizes`, and the gradients of a regression loss.
fn mlp_and_gradients(sizes: &[usize]) -> (ParamStore<f32>, ParamGradients<f32>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let mut store = ParamStore::<f32>::new();
    let mlp = Mlp::builder(sizes)
        .activation(Activation::Relu)
        .build(&mut store.root().sub("q"), &mut rng);
    let batch = 256;
    let (inputs, outputs) = (sizes[0], sizes[sizes.len() - 1]);
    let x = Array2::from_shape_fn((batch, inputs), |_| rng.random_range(-1.0..1.0f32));
    let y = Array2::from_shape_fn((batch, outputs), |_| rng.random_range(-1.0..1.0f32));
    let tape = autograd::Tape::new();
    let bound = store.bind(&tape);
    let prediction = mlp.forward(&bound, &Var::constant(x));
    let loss = losses::mse(&prediction, &Var::constant(y), Reduction::Mean);
    let grads = bound.gradients(&loss);
    drop(bound);
    let column_major = grads
        .iter()
        .filter(|(_, g)| g.ndim() == 2 && !g.is_standard_layout())
        .count();
    eprintln!(
        "{sizes:?}: {column_major} of {} gradients are not row-major",
        grads.iter().count()
    );
    (store, grads)
}

fn optim(c: &mut Criterion) {
    for sizes in [[3, 256, 256, 1], [4, 64, 64, 2]] {
        let (store, grads) = mlp_and_gradients(&sizes);
        let label = sizes.map(|s| s.to_string()).join("-");
        let mut group = c.benchmark_group(format!("optim {label} f32"));
        let mut adam = Adam::new(store.trainable(), AdamConfig::default());
        group.bench_function("adam_step", |b| b.iter(|| adam.step(&store, &grads)));
        // Fresh gradients each time (as a backward pass hands them over, owned by no one
        // else), with a limit that makes the clipping rescale them.
        let max_norm = grads.global_norm() / 2.0;
        let fresh = || {
            let pairs = grads.iter().map(|(id, g)| (id, g.to_owned().into_shared()));
            ParamGradients::from_pairs(store.len(), pairs)
        };
        let copies = fresh();
        let mut pairs = copies.iter().zip(grads.iter());
        assert!(pairs.all(|((_, copy), (_, g))| copy.strides() == g.strides()));
        group.bench_function("clip_grad_norm", |b| {
            b.iter_batched(
                fresh,
                |mut grads| {
                    clip_grad_norm(&mut grads, max_norm);
                    grads
                },
                BatchSize::SmallInput,
            )
        });
        group.bench_function("global_norm", |b| b.iter(|| grads.global_norm()));
        group.finish();
    }
}

criterion_group!(benches, optim);
criterion_main!(benches);
