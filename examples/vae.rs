//! # A variational autoencoder (Kingma & Welling, 2014)
//!
//! **Background.** A latent-variable model `p(x) = ∫ p(x|z) p(z) dz` with prior
//! `p(z) = N(0, I)` and a neural decoder `p(x|z)` has an intractable likelihood. A neural
//! encoder `q(z|x) = N(μ(x), diag σ²(x))` approximates the posterior, and both are trained
//! together by maximising the evidence lower bound (ELBO), which is below `log p(x)` by exactly
//! `KL(q(z|x) ‖ p(z|x))`. Its gradient through the sampling step comes from the
//! reparameterisation `z = μ + σ ⊙ ε` with `ε ~ N(0, I)`: the randomness no longer depends on
//! the parameters, so `∇ E_q[·] = E_ε[∇ ·]`.
//!
//! The data are made here: `x = tanh(A z*) + 0.05 ε` in 8 dimensions, with a hidden 2-D
//! `z* ~ N(0, I)` and a fixed random 8×2 matrix `A` — a curved 2-D sheet in `R⁸`.
//!
//! **Key equations.**
//!
//! ```text
//! ELBO(x) = E_{q(z|x)}[log p(x|z)] − KL(q(z|x) ‖ N(0, I))
//! μ, log σ² = encoder(x)                     z = μ + σ ⊙ ε,  ε ~ N(0, I)
//! x̂ = decoder(z)                             p(x|z) = N(x̂, diag σ_x²), σ_x learned
//! log p(x|z) = Σ_d [−½ ((x_d − x̂_d) / σ_x,d)² − log σ_x,d − ½ log 2π]     (reconstruction)
//! KL = ½ Σ_k (μ_k² + σ_k² − 1 − log σ_k²)                                  (closed form)
//! loss = −(1/B) Σ_{x ∈ batch} ELBO(x)        (one sample of ε per x)
//! ```
//!
//! **Pseudocode.**
//!
//! ```text
//! for epoch = 1, …, E:
//!     for each minibatch x of B points (shuffled):
//!         μ, log σ² ← encoder(x);  z ← μ + σ ⊙ ε
//!         reconstruction ← log p(x | z);  KL ← ½ Σ (μ² + σ² − 1 − log σ²)
//!         θ, φ ← Adam on −mean(reconstruction − KL)
//!     report the ELBO on all the data, and its two terms
//! ```
//!
//! `cargo run --release --example vae`

use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use wengert::autograd::prelude::*;
use wengert::nn::optim::{Adam, AdamConfig, Optimizer};
use wengert::nn::{Activation, Bound, Init, Mlp, Module, ParamId, ParamStore};

/// `½ log 2π`.
const HALF_LOG_TWO_PI: f64 = 0.918_938_533_204_672_8;

/// The experiment's settings, with their defaults.
#[derive(Clone, Debug)]
pub struct VaeConfig {
    /// Seed of the data, the initialisation, the minibatches and `ε` (default 0).
    pub seed: u64,
    /// Number of data points N (default 1024).
    pub points: usize,
    /// Data dimension D (default 8).
    pub data_dim: usize,
    /// Latent dimension K of the model, and of the hidden `z*` that made the data (default 2).
    pub latent_dim: usize,
    /// Hidden width of the encoder and the decoder (default 64).
    pub hidden: usize,
    /// Adam's learning rate (default 3e-3).
    pub lr: f64,
    /// Minibatch size B (default 64).
    pub batch_size: usize,
    /// Passes over the data E (default 200).
    pub epochs: usize,
    /// Report every this many epochs (default 25).
    pub log_every: usize,
}

impl Default for VaeConfig {
    fn default() -> Self {
        VaeConfig {
            seed: 0,
            points: 1024,
            data_dim: 8,
            latent_dim: 2,
            hidden: 64,
            lr: 3e-3,
            batch_size: 64,
            epochs: 200,
            log_every: 25,
        }
    }
}

/// The ELBO on all the data (mean per point, in nats) and its two terms.
#[derive(Clone, Copy, Debug)]
pub struct VaeLog {
    pub epoch: usize,
    pub elbo: f64,
    pub reconstruction: f64,
    pub kl: f64,
}

/// Encoder, decoder and the decoder's noise scale, with their parameters in one store.
struct Vae {
    encoder: Mlp,
    decoder: Mlp,
    log_sigma_x: ParamId,
    latent_dim: usize,
}

/// One evaluation of the ELBO's terms on a batch, each of shape (B).
struct ElboTerms {
    reconstruction: Var<f64>,
    kl: Var<f64>,
}

impl Vae {
    /// `log p(x|z)` (one reparameterised sample) and `KL(q(z|x) ‖ N(0, I))` for each row of `x`.
    fn elbo_terms(&self, p: &Bound<'_, f64>, x: &Var<f64>, epsilon: &Var<f64>) -> ElboTerms {
        let k = self.latent_dim;
        let h = self.encoder.forward(p, x);
        let mu = h.narrow(-1, 0, k);
        let log_var = h.narrow(-1, k, k);
        let sigma = log_var.mul_scalar(0.5).exp();
        let z = &mu + &(&sigma * epsilon); // reparameterisation

        let x_hat = self.decoder.forward(p, &z);
        ElboTerms {
            reconstruction: gaussian_log_likelihood(x, &x_hat, &p[self.log_sigma_x]),
            kl: kl_to_standard_normal(&mu, &log_var),
        }
    }
}

/// `log N(x; x̂, diag σ_x²) = Σ_d [−½ ((x_d − x̂_d) / σ_x,d)² − log σ_x,d − ½ log 2π]`, per row.
pub fn gaussian_log_likelihood(x: &Var<f64>, x_hat: &Var<f64>, log_sigma_x: &Var<f64>) -> Var<f64> {
    let standardised = (x - x_hat) / log_sigma_x.exp();
    (standardised.powi(2).mul_scalar(-0.5) - log_sigma_x)
        .add_scalar(-HALF_LOG_TWO_PI)
        .sum(&[-1], false)
}

/// `KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_k (μ_k² + σ_k² − 1 − log σ_k²)`, per row.
pub fn kl_to_standard_normal(mu: &Var<f64>, log_var: &Var<f64>) -> Var<f64> {
    (mu.powi(2) + log_var.exp() - log_var)
        .add_scalar(-1.0)
        .sum(&[-1], false)
        .mul_scalar(0.5)
}

/// `N(0, 1)` draws of the given shape.
fn standard_normal(shape: &[usize], rng: &mut impl rand::Rng) -> ndarray::ArrayD<f64> {
    Init::Normal {
        mean: 0.0,
        std: 1.0,
    }
    .sample(shape, rng)
}

/// `points` rows `x = tanh(A z*) + 0.05 ε` with `z* ~ N(0, I_K)` and a random `A` (D × K).
fn make_data(config: &VaeConfig, rng: &mut impl rand::Rng) -> Array2<f64> {
    let (n, d, k) = (config.points, config.data_dim, config.latent_dim);
    let a = standard_normal(&[d, k], rng)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let z_star = standard_normal(&[n, k], rng)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    let noise = standard_normal(&[n, d], rng)
        .into_dimensionality::<ndarray::Ix2>()
        .unwrap();
    z_star.dot(&a.t()).mapv(f64::tanh) + noise * 0.05
}

/// Trains the VAE; calls `on_log` before training, every `log_every` epochs and after the
/// last, and returns all the logs. Each log evaluates the ELBO on all the data with the same
/// `ε`, so that the numbers are comparable.
pub fn train_vae(config: &VaeConfig, mut on_log: impl FnMut(&VaeLog)) -> Vec<VaeLog> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let data = make_data(config, &mut rng);
    let (n, d, k) = (config.points, config.data_dim, config.latent_dim);

    let mut store = ParamStore::<f64>::new();
    let encoder = Mlp::builder(&[d, config.hidden, 2 * k])
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("encoder"), &mut rng);
    let decoder = Mlp::builder(&[k, config.hidden, d])
        .activation(Activation::Tanh)
        .build(&mut store.root().sub("decoder"), &mut rng);
    let log_sigma_x = store.root().param("log_sigma_x", Array1::<f64>::zeros(d));
    let vae = Vae {
        encoder,
        decoder,
        log_sigma_x,
        latent_dim: k,
    };
    let mut adam = Adam::new(
        store.trainable(),
        AdamConfig {
            lr: config.lr,
            ..AdamConfig::default()
        },
    );

    let evaluation_epsilon = Var::constant(standard_normal(&[n, k], &mut rng));
    let all_data = Var::constant(data.clone());
    let mut logs = Vec::new();
    let mut report = |epoch: usize, store: &ParamStore<f64>| {
        let terms = vae.elbo_terms(&store.constants(), &all_data, &evaluation_epsilon);
        let reconstruction = terms.reconstruction.mean_all().item();
        let kl = terms.kl.mean_all().item();
        let log = VaeLog {
            epoch,
            elbo: reconstruction - kl,
            reconstruction,
            kl,
        };
        on_log(&log);
        logs.push(log);
    };

    report(0, &store);
    let mut order: Vec<usize> = (0..n).collect();
    for epoch in 1..=config.epochs {
        order.shuffle(&mut rng);
        for batch in order.chunks(config.batch_size) {
            let x = Var::constant(data.select(Axis(0), batch));
            let epsilon = Var::constant(standard_normal(&[batch.len(), k], &mut rng));
            let tape = Tape::new();
            let p = store.bind(&tape);
            let terms = vae.elbo_terms(&p, &x, &epsilon);
            let loss = (terms.reconstruction - terms.kl).mean_all().neg();
            let g = p.gradients(&loss);
            adam.step(&store, &g);
        }
        if epoch % config.log_every == 0 || epoch == config.epochs {
            report(epoch, &store);
        }
    }
    logs
}

fn main() {
    let config = VaeConfig::default();
    println!(
        "VAE on {} points of a 2-D sheet in R^{} (nats per point; ELBO = E_q[log p(x|z)] − KL)",
        config.points, config.data_dim
    );
    train_vae(&config, |log| {
        println!(
            "epoch {:3}  ELBO {:8.3}  = reconstruction {:8.3}  − KL {:6.3}",
            log.epoch, log.elbo, log.reconstruction, log.kl
        );
    });
}
