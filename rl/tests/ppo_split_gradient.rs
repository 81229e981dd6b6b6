//! PPO's gradient on two cores (the actor's and the critic's on their own tapes) is the one-tape
//! gradient of the whole loss, bit for bit: every trainable parameter is under the actor's path
//! or the critic's, and none under both.

use autograd::{Tape, no_grad};
use ndarray::{Array1, Array2};
use nn::ParamStore;
use rand::SeedableRng;
use wengert_rl::algorithms::ppo::{PpoConfig, gradient, loss};
use wengert_rl::algorithms::preset;
use wengert_rl::common::on_policy::Batch;
use wengert_rl::env::{BoxSpace, Space};
use wengert_rl::exec::Cores;
use wengert_rl::policy::{ActorCritic, NetworkConfig, observations_var};
use wengert_rl::snapshot::TrainerRng;

/// A batch drawn from the policy itself, with made-up advantages and returns.
fn batch(agent: &ActorCritic, store: &ParamStore<f32>, n: usize, rng: &mut TrainerRng) -> Batch {
    let observations = Array2::from_shape_fn((n, 4), |(k, j)| ((k * 4 + j) as f32 * 0.37).sin());
    let params = store.constants();
    let (actions, log_probs) = no_grad(|| {
        let pi = agent.policy(&params, &observations_var::<f32>(&observations));
        let actions = pi.sample(rng);
        let log_probs = pi.log_prob(&actions);
        (actions, log_probs)
    });
    let column = |f: &dyn Fn(usize) -> f64| Array1::from_iter((0..n).map(f));
    Batch {
        observations,
        actions,
        // perturbed, so that some ratios leave [1 − ε, 1 + ε]
        log_probs: column(&|k| log_probs.value()[k] as f64 + 0.3 * (k as f64).cos()),
        values: column(&|k| (k as f64 * 0.3).sin()),
        advantages: column(&|k| (k as f64 * 1.7).cos()),
        returns: column(&|k| (k as f64 * 0.9).sin() * 2.0),
    }
}

#[test]
fn the_split_gradient_is_the_gradient_of_the_loss() {
    let spaces = [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0, -2.0], vec![1.0, 2.0])),
    ];
    for space in spaces {
        let mut store = ParamStore::<f32>::new();
        let mut rng = TrainerRng::seed_from_u64(0);
        let agent = ActorCritic::new(&mut store, 4, &space, &NetworkConfig::default(), &mut rng);
        let batch = batch(&agent, &store, 16, &mut rng);
        for clip_vloss in [false, true] {
            let config = PpoConfig {
                clip_vloss,
                ..preset("ppo", "CartPole-v1").unwrap()
            };
            let tape = Tape::new();
            let params = store.bind(&tape);
            let (whole, _) = loss(&agent, &params, &batch, &config);
            let expected = params.gradients(&whole);
            for cores in [Cores::new(), Cores::sequential()] {
                let (split, _) = gradient(&agent, &store, &batch, &config, 1, &cores).unwrap();
                for id in store.trainable() {
                    let (a, b) = (&expected[id], &split[id]);
                    assert!(
                        a.iter()
                            .zip(b.iter())
                            .all(|(x, y)| x.to_bits() == y.to_bits()),
                        "{} differs",
                        store.name(id)
                    );
                }
            }
        }
    }
}
