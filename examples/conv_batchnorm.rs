//! # A small conv net with BatchNorm2d, and what its running statistics mean
//!
//! **Background.** Classify 12×12 single-channel images of four kinds — a horizontal bar, a
//! vertical bar, a diagonal line, a filled square, each at a random place, on Gaussian noise —
//! with two convolution blocks and a linear head. Each block is conv → BatchNorm2d → ReLU.
//! After training, the example prints what `BatchNorm2d` has learned *besides* its parameters
//! `γ` (`weight`) and `β` (`bias`): the buffers `running_mean` and `running_var`, per channel,
//! with their mean and standard deviation over the channels.
//!
//! **Key equations.** For the convolution's output `z` of shape `(N, C, H, W)`, BatchNorm2d works
//! per channel `c` over the `m = N·H·W` values of that channel in the batch:
//!
//! ```text
//! μ_B[c] = (1/m) Σ_{n,h,w} z[n,c,h,w]        σ²_B[c] = (1/m) Σ (z − μ_B[c])²          (batch statistics)
//! y = γ[c] (z − μ_B[c]) / √(σ²_B[c] + ε) + β[c]                                        (training mode)
//! running_mean[c] ← (1 − 0.1) running_mean[c] + 0.1 μ_B[c]
//! running_var[c]  ← (1 − 0.1) running_var[c]  + 0.1 σ²_B[c] · m/(m − 1)                 (unbiased)
//! y = γ[c] (z − running_mean[c]) / √(running_var[c] + ε) + β[c]                        (evaluation mode)
//! ```
//!
//! **What the printed numbers mean.**
//!
//! * `running_mean[c]` and `running_var[c]` are estimates of the mean and variance of channel
//!   `c` of the convolution's output *before* normalisation — the activations `z`, not the
//!   normalised `y`, and not the parameters `γ`, `β`. They start at 0 and 1 and are moved 10 %
//!   of the way toward each training batch's statistics (momentum 0.1), so after many steps
//!   they are an exponential average over roughly the last 10–20 batches, weighted toward the
//!   latest, of statistics that drift as the weights train. The example prints, next to them,
//!   the exact statistics of `z` over a held-out set with the final weights: the two agree to
//!   within the noise of a few batches. A channel whose `running_var` is tiny is one whose
//!   filter barely responds (a "dead" channel).
//! * The "mean" and "std" lines summarise the buffers across channels (std with PyTorch's
//!   default `correction = 1`, as `t.std()` gives). They have no role in the model; they say
//!   how different the channels' scales are — exactly the spread BatchNorm removes, so that
//!   every channel reaches the ReLU at scale `γ[c]` and offset `β[c]`.
//! * Block 1's convolution sees the noisy image, whose pixels have mean ≈ 0.08 (11.5 lit
//!   pixels of 144 on average) and variance ≈ 0.16 (noise 0.09 plus the shapes' 0.07), so its
//!   `running_mean[c]` is about 0.08·Σ W[c] (small: the filters learn to sum to little) and its
//!   `running_var[c]` the filter's response energy. Block 2's convolution sees ReLU outputs, which are
//!   non-negative, so its means are typically further from zero.
//! * The convolutions have no bias (`bias = False`, as is usual before BatchNorm): a bias
//!   would only shift `running_mean` and be removed again by the normalisation.
//! * In evaluation mode (`store.set_training(false)`) the network uses these buffers instead of
//!   the batch's statistics, so a single image gets the same output as it would in any batch.
//!
//! **Pseudocode.**
//!
//! ```text
//! draw N training and N test images with labels
//! for step = 1, …, S:
//!     sample a minibatch of B images (training mode: batch statistics, running buffers updated)
//!     L ← cross-entropy(head(flatten(block₂(block₁(x))))), g ← ∇_θ L;  θ ← Adam(θ, g)
//! switch to evaluation mode; report the test accuracy
//! print each BatchNorm2d's running_mean, running_var (per channel, mean, std) and the exact
//!     statistics of its input over the test set
//! ```
//!
//! `cargo run --release --example conv_batchnorm`

use rand::{RngExt, SeedableRng};
use wengert::autograd::conv::Conv2dOptions;
use wengert::autograd::prelude::*;
use wengert::nn::losses::{Reduction, cross_entropy};
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{BatchNorm, Conv2d, Flatten, Init, Linear, Module, ParamStore};

/// Image side, classes, examples per set, minibatch size, Adam steps, learning rate.
const SIDE: usize = 12;
const CLASSES: usize = 4;
const EXAMPLES: usize = 1024;
const BATCH: usize = 32;
const STEPS: usize = 400;
const LR: f64 = 2e-3;
const NOISE_STD: f64 = 0.3;

/// `count` images `(count, 1, SIDE, SIDE)` and their labels: 0 horizontal bar, 1 vertical bar,
/// 2 diagonal, 3 filled 4×4 square; each drawn at a random place over `N(0, NOISE_STD²)` noise.
fn images(count: usize, rng: &mut impl rand::Rng) -> (ndarray::Array4<f32>, Vec<i64>) {
    let noise = Init::Normal {
        mean: 0.0,
        std: NOISE_STD,
    }
    .sample::<f32>(&[count, 1, SIDE, SIDE], rng);
    let mut x = noise
        .into_dimensionality::<ndarray::Ix4>()
        .expect("drawn 4-D");
    let mut labels = Vec::with_capacity(count);
    for n in 0..count {
        let label = rng.random_range(0..CLASSES);
        let (r, c) = (rng.random_range(1..SIDE - 4), rng.random_range(1..SIDE - 4));
        let mut image = x.slice_mut(ndarray::s![n, 0, .., ..]);
        for k in 0..SIDE - 2 {
            match label {
                0 => image[[r, k + 1]] += 1.0,
                1 => image[[k + 1, c]] += 1.0,
                2 => image[[k + 1, k + 1]] += 1.0,
                _ if k < 4 => image
                    .slice_mut(ndarray::s![r + k, c..c + 4])
                    .mapv_inplace(|v| v + 1.0),
                _ => {}
            }
        }
        labels.push(label as i64);
    }
    (x, labels)
}

/// The network: two conv → BatchNorm2d → ReLU blocks, then flatten → linear.
struct Net {
    conv1: Conv2d,
    bn1: BatchNorm,
    conv2: Conv2d,
    bn2: BatchNorm,
    head: Linear,
}

impl Net {
    fn new(store: &mut ParamStore<f32>, rng: &mut impl rand::Rng) -> Self {
        let same = Conv2dOptions::default().padding(1);
        let halve = same.stride(2);
        let conv1 = Conv2d::with_options(
            &mut store.root().sub("conv1"),
            1,
            8,
            [3, 3],
            same,
            false,
            rng,
        );
        let bn1 = BatchNorm::new_2d(&mut store.root().sub("bn1"), 8);
        let conv2 = Conv2d::with_options(
            &mut store.root().sub("conv2"),
            8,
            16,
            [3, 3],
            halve,
            false,
            rng,
        );
        let bn2 = BatchNorm::new_2d(&mut store.root().sub("bn2"), 16);
        let [h, w] = conv2.output_size([SIDE, SIDE]);
        let head = Linear::new(&mut store.root().sub("head"), 16 * h * w, CLASSES, rng);
        Net {
            conv1,
            bn1,
            conv2,
            bn2,
            head,
        }
    }

    /// The logits, and the two BatchNorm inputs `z₁`, `z₂` (the convolutions' outputs).
    fn forward(&self, params: &wengert::nn::Bound<'_, f32>, x: &Var<f32>) -> [Var<f32>; 3] {
        let z1 = self.conv1.forward(params, x);
        let a1 = self.bn1.forward(params, &z1).relu();
        let z2 = self.conv2.forward(params, &a1);
        let a2 = self.bn2.forward(params, &z2).relu();
        let logits = self
            .head
            .forward(params, &Flatten::default().forward(params, &a2));
        [logits, z1, z2]
    }
}

/// Per-channel `(mean, unbiased variance)` of `z` `(N, C, H, W)` over `(N, H, W)`.
fn channel_statistics(z: &SharedArray<f32>) -> Vec<(f64, f64)> {
    (0..z.shape()[1])
        .map(|c| {
            let values: Vec<f64> = z
                .index_axis(ndarray::Axis(1), c)
                .iter()
                .map(|&v| v as f64)
                .collect();
            let m = values.len() as f64;
            let mean = values.iter().sum::<f64>() / m;
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (m - 1.0);
            (mean, var)
        })
        .collect()
}

/// Mean and standard deviation (with correction 1, as PyTorch's `std`) of `values`.
fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

fn report(name: &str, store: &ParamStore<f32>, bn: &BatchNorm, exact: &[(f64, f64)]) {
    let buffer = |id| -> Vec<f64> { store.value(id).iter().map(|&v| v as f64).collect() };
    let (running_mean, running_var) = (buffer(bn.running_mean), buffer(bn.running_var));
    println!(
        "\n{name}: {} channels, {} batches tracked",
        bn.channels,
        store.value(bn.num_batches_tracked)[[]]
    );
    println!("  channel  running_mean  exact mean | running_var  exact var");
    for c in 0..bn.channels {
        println!(
            "  {c:7}  {:12.5}  {:10.5} | {:11.5}  {:9.5}",
            running_mean[c], exact[c].0, running_var[c], exact[c].1
        );
    }
    let (m, s) = mean_std(&running_mean);
    println!("  running_mean: mean {m:.5}, std {s:.5}");
    let (m, s) = mean_std(&running_var);
    println!("  running_var:  mean {m:.5}, std {s:.5}");
}

fn main() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(0);
    let (x_train, y_train) = images(EXAMPLES, &mut rng);
    let (x_test, y_test) = images(EXAMPLES, &mut rng);
    let mut store = ParamStore::<f32>::new();
    let net = Net::new(&mut store, &mut rng);
    let mut adam = Adam::new(
        store.trainable(),
        AdamConfig {
            lr: LR as f32,
            ..AdamConfig::default()
        },
    );
    println!(
        "4-class 12×12 images, conv(1→8) → BN → ReLU → conv(8→16, stride 2) → BN → ReLU → linear"
    );
    for step in 1..=STEPS {
        let batch: Vec<usize> = (0..BATCH).map(|_| rng.random_range(0..EXAMPLES)).collect();
        let x = Var::constant(x_train.select(ndarray::Axis(0), &batch));
        let labels: Vec<i64> = batch.iter().map(|&i| y_train[i]).collect();
        let tape = Tape::new();
        let theta = store.bind(&tape);
        let [logits, _, _] = net.forward(&theta, &x);
        let loss = cross_entropy(&logits, &labels, Reduction::Mean);
        let g = theta.gradients(&loss);
        adam.step(&store, &g);
        if step % 100 == 0 {
            println!("step {step:4}  training loss {:.4}", loss.item());
        }
    }

    store.set_training(false);
    let [logits, z1, z2] = net.forward(&store.constants(), &Var::constant(x_test.clone()));
    let correct = logits
        .value()
        .outer_iter()
        .zip(&y_test)
        .filter(|(row, label)| {
            let best = row
                .iter()
                .enumerate()
                .fold(
                    (0, f32::NEG_INFINITY),
                    |b, (i, &v)| if v > b.1 { (i, v) } else { b },
                );
            best.0 as i64 == **label
        })
        .count();
    println!(
        "test accuracy (evaluation mode, running statistics): {:.1} %",
        100.0 * correct as f64 / EXAMPLES as f64
    );
    report(
        "bn1 (after conv1)",
        &store,
        &net.bn1,
        &channel_statistics(z1.value()),
    );
    report(
        "bn2 (after conv2)",
        &store,
        &net.bn2,
        &channel_statistics(z2.value()),
    );
}
