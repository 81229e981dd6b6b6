//! IMPALA with an LSTM policy: the actor resets its state where an episode ended and carries it
//! across trajectories; the learner, rerunning the LSTM from each trajectory's stored start
//! state with the reset mask, gets the actor's `ln μ(a|x)` and values back (same parameters),
//! including the bootstrap values `V(x_T)` and `V(x^final)` of truncated episodes; a short
//! training run works in both modes.

use autograd::no_grad;
use ndarray::{Array2, Array3, s};
use nn::ParamStore;
use rand::SeedableRng;
use wengert_rl::algorithms::impala::{Impala, ImpalaConfig};
use wengert_rl::algorithms::preset;
use wengert_rl::common::trainer::train;
use wengert_rl::env::{VectorEnv, make};
use wengert_rl::exec::actor_learner::Actor;
use wengert_rl::policy::{NetworkConfig, to_f64};
use wengert_rl::recurrent_policy::RecurrentState;
use wengert_rl::snapshot::TrainerRng;
use wengert_rl::train::evaluate;
use wengert_rl::unroll::{Unroll, UnrollActor, UnrollBatch};
use wengert_rl::unroll_network::{Inputs, PolicyKind, Sequences, UnrollNetwork};

/// An LSTM actor of `envs` copies of `env_id`, and its parameters.
fn lstm_actor(
    env_id: &str,
    envs: usize,
    steps: usize,
) -> (UnrollActor, UnrollNetwork, ParamStore<f32>) {
    let mut store = ParamStore::<f32>::new();
    let mut rng = TrainerRng::seed_from_u64(3);
    let probe = make(env_id).unwrap();
    let heads = NetworkConfig {
        hidden: vec![16],
        ..NetworkConfig::default()
    };
    let dim = probe.observation_space().dim();
    let kind = (PolicyKind::Lstm, 12);
    let network = UnrollNetwork::new(
        &mut store,
        dim,
        probe.action_space(),
        kind,
        &heads,
        &mut rng,
    );
    let mut vector = VectorEnv::new((0..envs).map(|_| make(env_id).unwrap()).collect(), 1).unwrap();
    vector.reset(Some(11));
    let actor = UnrollActor::new(network.clone(), vector, rng, steps);
    (actor, network, store)
}

fn sequences(inputs: &Inputs) -> &Sequences {
    match inputs {
        Inputs::Sequences(s) => s,
        Inputs::Rows(_) => panic!("an LSTM's batch is sequences"),
    }
}

/// `ln π(a_t|x_≤t)` and `V(x_≤t)`, `T × M`, of the learner's rerun of `inputs`.
fn rerun(
    network: &UnrollNetwork,
    store: &ParamStore<f32>,
    inputs: &Inputs,
    batch: &UnrollBatch,
) -> (Array2<f64>, Array2<f64>) {
    let (steps, columns) = batch.rewards.dim();
    let params = store.constants();
    let (log_pi, v) = no_grad(|| {
        let pi = network.policy(&params, inputs);
        (
            to_f64(&pi.log_prob(&batch.actions)),
            to_f64(&network.value(&params, inputs)),
        )
    });
    let grid = |a: ndarray::Array1<f64>| a.into_shape_with_order((steps, columns)).unwrap();
    (grid(log_pi), grid(v))
}

fn max_gap(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    (a - b).iter().fold(0.0, |m, d| m.max(d.abs()))
}

/// The second trajectory starts from the state the first one left (not zero): the learner's
/// rerun from the stored start state gives the actor's values at step 0 — and its `ln μ` and
/// values at every later step, across the episode ends inside. A rerun from the zero state
/// misses step 0; a rerun without the reset mask misses the steps after an episode start.
#[test]
fn the_learner_reruns_the_actors_lstm_from_the_stored_start_state() {
    let (mut actor, network, store) = lstm_actor("CartPoleNoVel-v1", 3, 40);
    let first = actor.act(&store).unwrap();
    let carried = actor.state().unwrap().clone();
    let second = actor.act(&store).unwrap();
    assert_eq!(second.start_state.as_ref(), Some(&carried));
    assert!(carried.actor.h.iter().any(|&h| h != 0.0));
    for (u, previous) in [(&first, None), (&second, Some(&first))] {
        let batch = UnrollBatch::new(std::slice::from_ref(u));
        let (log_pi, v) = rerun(&network, &store, &batch.inputs, &batch);
        let (v_actor, log_mu) = (&u.rollout.values, &batch.behaviour_log_probs);
        let step0 = v
            .row(0)
            .iter()
            .zip(v_actor.row(0))
            .all(|(a, b)| (a - b).abs() < 1e-5);
        assert!(
            step0,
            "V at step 0: learner {:?}, actor {:?}",
            v.row(0),
            v_actor.row(0)
        );
        assert!(
            max_gap(&v, v_actor) < 1e-5,
            "values {}",
            max_gap(&v, v_actor)
        );
        assert!(
            max_gap(&log_pi, log_mu) < 1e-5,
            "ln π {}",
            max_gap(&log_pi, log_mu)
        );
        // the flags: an episode starts at t + 1 where one ended at t, and at 0 where the
        // previous trajectory's last step ended one (every environment at the very start)
        let starts = &u.episode_starts;
        for t in 1..40 {
            assert_eq!(starts.row(t), u.rollout.done.row(t - 1));
        }
        match previous {
            None => assert!(starts.row(0).iter().all(|&m| m)),
            Some(p) => assert_eq!(starts.row(0), p.rollout.done.row(39)),
        }
    }
    // what each of the three checks would catch
    let batch = UnrollBatch::new(std::slice::from_ref(&second));
    let mut zero_start = sequences(&batch.inputs).clone();
    zero_start.start = RecurrentState::gather(&[(&second_zero(&network), 0); 3]);
    let (_, v) = rerun(&network, &store, &Inputs::Sequences(zero_start), &batch);
    let resets_at_0 = second.episode_starts.row(0).iter().all(|&m| m);
    assert!(
        resets_at_0
            || (v.row(0).to_owned() - second.rollout.values.row(0))
                .iter()
                .any(|d| d.abs() > 1e-4)
    );
    let mut no_resets = sequences(&batch.inputs).clone();
    no_resets.resets.slice_mut(s![1.., ..]).fill(0.0);
    let (_, v) = rerun(&network, &store, &Inputs::Sequences(no_resets), &batch);
    assert!(
        second.episode_starts.slice(s![1.., ..]).iter().any(|&m| m),
        "an episode start inside"
    );
    assert!(
        max_gap(&v, &second.rollout.values) > 1e-4,
        "the resets matter"
    );
}

fn second_zero(network: &UnrollNetwork) -> RecurrentState {
    network.initial_state(1).unwrap()
}

/// `V(x_{t+1})` read through `next_rows` is the value the LSTM gives `x_{t+1}` from the state
/// its episode had reached: `x_T` one step on from each column (with its reset), a truncated
/// episode's final observation one step on from the state after `t` — computed here by stepping
/// the network along each column by hand. PendulumNoVel-v1 truncates at 200 steps, inside the
/// second trajectory of 150.
#[test]
fn bootstrap_values_continue_each_columns_lstm() {
    let (mut actor, network, store) = lstm_actor("PendulumNoVel-v1", 2, 150);
    let unrolls: Vec<Unroll> = vec![actor.act(&store).unwrap(), actor.act(&store).unwrap()];
    let next = actor.act(&store).unwrap();
    let batch = UnrollBatch::new(&unrolls);
    let params = store.constants();
    let v_all = no_grad(|| to_f64(&network.value(&params, &batch.value_inputs)));
    let grid = sequences(&batch.value_inputs);
    assert_eq!(
        grid.observations.dim().1,
        4 + 2,
        "one extra column per truncation"
    );
    let (steps, envs) = (150, 2);
    let mut truncations = 0;
    for (b, u) in unrolls.iter().enumerate() {
        for i in 0..envs {
            let m = b * envs + i;
            for t in 0..steps {
                let expected = if u.rollout.done[[t, i]] && !u.rollout.terminated[[t, i]] {
                    truncations += 1;
                    by_hand(&network, &store, u, i, t)
                } else if t + 1 < steps {
                    if u.rollout.done[[t, i]] {
                        continue; // after a termination V(x_{t+1}) is never read
                    }
                    u.rollout.values[[t + 1, i]]
                } else {
                    // x_T: what the actor computed at the next trajectory's step 0
                    unrolls.get(b + 1).unwrap_or(&next).rollout.values[[0, i]]
                };
                let got = v_all[batch.next_rows[[t, m]]];
                assert!(
                    (got - expected).abs() < 1e-5,
                    "unroll {b}, env {i}, step {t}: {got} vs {expected}"
                );
            }
        }
    }
    assert_eq!(truncations, 2);
}

/// The value of the final observation of the episode of env `i` truncated at step `t` of `u`:
/// the LSTM stepped from `u`'s start state over `x_0 … x_t` (with its resets), then over
/// `x^final` without a reset.
fn by_hand(
    network: &UnrollNetwork,
    store: &ParamStore<f32>,
    u: &Unroll,
    i: usize,
    t: usize,
) -> f64 {
    let envs = u.rollout.rewards.ncols();
    let truncated_before = (0..=t)
        .flat_map(|k| (0..envs).map(move |j| (k, j)))
        .filter(|&(k, j)| {
            (k, j) < (t, i) && u.rollout.done[[k, j]] && !u.rollout.terminated[[k, j]]
        })
        .count();
    let steps = u.rollout.rewards.nrows();
    let dim = u.value_observations.ncols();
    let mut x = Array3::<f32>::zeros((t + 2, 1, dim));
    let mut resets = Array2::<f32>::zeros((t + 2, 1));
    for k in 0..=t {
        x.slice_mut(s![k, 0, ..])
            .assign(&u.value_observations.row(k * envs + i));
        resets[[k, 0]] = f32::from(u8::from(u.episode_starts[[k, i]]));
    }
    let x_final = u.value_observations.row(steps * envs + truncated_before);
    x.slice_mut(s![t + 1, 0, ..]).assign(&x_final);
    let start = u.start_state.as_ref().unwrap().select(&[i]);
    let inputs = Inputs::Sequences(Sequences {
        observations: x,
        start,
        resets,
    });
    let params = store.constants();
    no_grad(|| to_f64(&network.value(&params, &inputs)))[t + 1]
}

fn small(deterministic: bool) -> ImpalaConfig {
    ImpalaConfig {
        total_timesteps: 2_400,
        deterministic,
        num_actors: 2,
        num_envs: 2,
        unroll_length: 20,
        batch_size: 3,
        lstm_hidden: 16,
        hidden: vec![16],
        seed: 4,
        ..preset("impala", "CartPoleNoVel-v1").unwrap()
    }
}

/// A seconds-long run in each mode: it trains, its metrics are finite, the deterministic mode
/// repeats itself bit for bit, and the agent it leaves acts with its state (evaluation).
#[test]
fn an_lstm_impala_run_trains_in_both_modes() {
    assert_eq!(small(true).policy, PolicyKind::Lstm, "the preset's policy");
    let losses = |h: &[wengert_rl::train::IterationMetrics]| -> Vec<u64> {
        h.iter()
            .flat_map(|m| {
                m.losses
                    .iter()
                    .filter(|(n, _)| !n.ends_with("per_second") && !n.ends_with("_seconds"))
            })
            .map(|(_, v)| v.to_bits())
            .collect()
    };
    let a = train::<Impala>("CartPoleNoVel-v1", &small(true), |_| true).unwrap();
    let b = train::<Impala>("CartPoleNoVel-v1", &small(true), |_| true).unwrap();
    assert_eq!(a.history.len(), 20);
    assert_eq!(losses(&a.history), losses(&b.history));
    assert!(
        a.history
            .iter()
            .all(|m| m.losses.iter().all(|(_, v)| v.is_finite()))
    );
    let returns = evaluate(&a.agent, 2, 0).unwrap();
    assert!(returns.iter().all(|r| *r >= 1.0), "{returns:?}");
    let asynchronous = train::<Impala>("CartPoleNoVel-v1", &small(false), |_| true).unwrap();
    assert_eq!(asynchronous.history.len(), 20);
    assert!(asynchronous.history.iter().any(|m| m.mean_return.is_some()));
}
