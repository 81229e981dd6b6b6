use super::*;
use crate::env::BoxSpace;
use ndarray::{Array3, ArrayD, Axis, IxDyn};
use nn::ParamStore;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

fn network(shared: bool, space: &Space) -> (ParamStore<f64>, RecurrentActorCritic) {
    let mut store = ParamStore::<f64>::new();
    let config = RecurrentNetworkConfig {
        lstm_hidden_size: 5,
        shared_lstm: shared,
        hidden: vec![6],
        ..Default::default()
    };
    let net =
        RecurrentActorCritic::new(&mut store, 3, space, &config, &mut StdRng::seed_from_u64(3));
    (store, net)
}

fn sequence(steps: usize, n: usize, seed: u64) -> Var<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    Var::constant(ArrayD::from_shape_simple_fn(IxDyn(&[steps, n, 3]), || {
        rng.random_range(-1.0..1.0)
    }))
}

fn random_state(net: &RecurrentActorCritic, n: usize, seed: u64) -> RecurrentState {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut state = net.initial_state(n);
    let mut fill = |m: &mut LstmMemory| {
        m.h.mapv_inplace(|_| rng.random_range(-1.0..1.0));
        m.c.mapv_inplace(|_| rng.random_range(-1.0..1.0));
    };
    fill(&mut state.actor);
    if let Some(c) = &mut state.critic {
        fill(c);
    }
    state
}

/// A reset at step `t₀` gives steps `t₀…` exactly the outputs of a fresh sequence from the
/// zero state, whatever state and history came before it; in both layouts and action spaces.
#[test]
fn a_reset_at_an_episode_start_is_a_fresh_zero_state() {
    let spaces = [
        Space::Discrete { n: 3 },
        Space::Box(BoxSpace::new(vec![-1.0; 2], vec![1.0; 2])),
    ];
    for shared in [false, true] {
        for space in &spaces {
            let (store, net) = network(shared, space);
            let params = store.constants();
            let (steps, n, t0) = (6, 2, 4);
            let x = sequence(steps, n, 1);
            let mut mask = Array2::<f32>::zeros((steps, n));
            mask[[t0, 1]] = 1.0;
            let state = random_state(&net, n, 2);
            let actions = match space {
                Space::Discrete { .. } => Actions::Discrete(vec![2; steps * n]),
                Space::Box(_) => Actions::Continuous(Array2::from_elem((steps * n, 2), 0.3)),
            };
            let (lp, ent, v) = net.evaluate_sequences(&params, &x, &state, &mask, &actions);

            let tail = x.slice(0, t0, steps).slice(1, 1, 2);
            let zero = net.initial_state(1);
            let tail_mask = Array2::<f32>::zeros((steps - t0, 1));
            let tail_actions = actions.select(&(0..steps - t0).collect::<Vec<_>>());
            let (lp0, ent0, v0) =
                net.evaluate_sequences(&params, &tail, &zero, &tail_mask, &tail_actions);
            for t in t0..steps {
                let k = t * n + 1;
                assert_eq!(lp.value()[k], lp0.value()[t - t0], "shared {shared}, t {t}");
                assert_eq!(ent.value()[k], ent0.value()[t - t0]);
                assert_eq!(v.value()[k], v0.value()[t - t0]);
            }
            // Without the reset, the history and the initial state do reach step t₀.
            let (_, _, v_carried) =
                net.evaluate_sequences(&params, &x, &state, &Array2::zeros((steps, n)), &actions);
            assert_ne!(v_carried.value()[t0 * n + 1], v0.value()[0]);
        }
    }
}

/// Stepping one observation at a time with `act`'s state gives the values of the whole
/// sequence evaluated at once, with a reset in the middle.
#[test]
fn steps_and_sequences_agree() {
    let mut store = ParamStore::<f32>::new();
    let config = RecurrentNetworkConfig {
        lstm_hidden_size: 4,
        hidden: vec![],
        ..Default::default()
    };
    let net = RecurrentActorCritic::new(
        &mut store,
        3,
        &Space::Discrete { n: 2 },
        &config,
        &mut StdRng::seed_from_u64(0),
    );
    let mut rng = StdRng::seed_from_u64(9);
    let (steps, n) = (5, 3);
    let x: Array3<f32> =
        Array3::from_shape_simple_fn((steps, n, 3), || rng.random_range(-1.0..1.0));
    let mut mask = Array2::<f32>::zeros((steps, n));
    mask[[0, 0]] = 1.0;
    mask[[2, 1]] = 1.0;
    let z0 = random_state_f32(&net, n);
    let mut state = z0.clone();
    let mut values = Vec::new();
    let mut actions = Vec::new();
    for t in 0..steps {
        let starts: Vec<bool> = (0..n).map(|i| mask[[t, i]] == 1.0).collect();
        let step = net.act(
            &store,
            &x.index_axis(Axis(0), t).to_owned(),
            &state,
            &starts,
            &mut rng,
        );
        values.extend(step.values.iter().copied());
        let Actions::Discrete(a) = step.actions else {
            unreachable!()
        };
        actions.extend(a);
        state = step.state;
    }
    let (_, _, v) = net.evaluate_sequences(
        &store.constants(),
        &Var::constant(x.into_dyn()),
        &z0,
        &mask,
        &Actions::Discrete(actions),
    );
    for (k, &expected) in values.iter().enumerate() {
        assert!((v.value()[k] as f64 - expected).abs() < 1e-6, "sample {k}");
    }
}

fn random_state_f32(net: &RecurrentActorCritic, n: usize) -> RecurrentState {
    let mut rng = StdRng::seed_from_u64(5);
    let mut state = net.initial_state(n);
    state.actor.h.mapv_inplace(|_| rng.random_range(-1.0..1.0));
    state.actor.c.mapv_inplace(|_| rng.random_range(-1.0..1.0));
    state
}

/// `ortho_init = false` (rl-zoo's `ppo_lstm.yml`) keeps PyTorch's `U(−1/√fan_in, 1/√fan_in)`
/// for the MLPs' weights and biases; `true` gives the policy head orthogonal rows of norm
/// 0.01 and zero biases.
#[test]
fn ortho_init_chooses_between_orthogonal_and_torch_default_mlps() {
    let build = |ortho_init: bool| {
        let mut store = ParamStore::<f64>::new();
        let config = RecurrentNetworkConfig {
            lstm_hidden_size: 16,
            hidden: vec![32],
            ortho_init,
            ..Default::default()
        };
        let space = Space::Discrete { n: 2 };
        RecurrentActorCritic::new(
            &mut store,
            3,
            &space,
            &config,
            &mut StdRng::seed_from_u64(1),
        );
        store
    };
    let torch = build(false);
    let bound = |fan_in: f64| 1.0 / fan_in.sqrt();
    for (name, fan_in) in [
        ("actor.0.weight", 16.0),
        ("actor.0.bias", 16.0),
        ("actor.2.weight", 32.0),
        ("actor.2.bias", 32.0),
    ] {
        let v = torch.value(torch.id(name).unwrap());
        assert!(v.iter().all(|x| x.abs() <= bound(fan_in)), "{name}");
        assert!(v.iter().any(|x| x.abs() > 0.5 * bound(fan_in)), "{name}");
    }
    let ortho = build(true);
    let head = ortho.value(ortho.id("actor.2.weight").unwrap());
    for row in head.outer_iter() {
        let norm = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        assert!((norm - 0.01).abs() < 1e-9, "{norm}");
    }
    assert!(
        ortho
            .value(ortho.id("actor.2.bias").unwrap())
            .iter()
            .all(|&b| b == 0.0)
    );
}

/// With a shared LSTM the value loss sends no gradient into the LSTM (sb3-contrib's
/// detach), and the parameters split into `actor.` and `critic.` in both layouts.
#[test]
fn a_shared_lstm_learns_from_the_policy_only() {
    use autograd::Tape;
    let (store, net) = network(true, &Space::Discrete { n: 3 });
    assert!(net.lstm_critic.is_none() && store.id("critic.lstm.weight_ih_l0").is_none());
    let tape = Tape::new();
    let params = store.bind(&tape);
    let x = sequence(3, 2, 4);
    let (v, _) = net.value_sequences(&params, &x, &net.initial_state(2), &Array2::zeros((3, 2)));
    let grads = params.gradients(&v.sum_all());
    let lstm = store.id("actor.lstm.weight_ih_l0").unwrap();
    assert!(grads.get(lstm).is_none_or(|g| g.iter().all(|&x| x == 0.0)));
    let head = store.id("critic.0.weight").unwrap();
    assert!(grads.get(head).is_some_and(|g| g.iter().any(|&x| x != 0.0)));
    let (separate, _) = network(false, &Space::Discrete { n: 3 });
    assert!(separate.id("critic.lstm.weight_hh_l0").is_some());
}

/// `gather` picks columns of several states; `reset` zeroes exactly the started columns.
#[test]
fn states_gather_and_reset_by_column() {
    let (_, net) = network(false, &Space::Discrete { n: 2 });
    let a = random_state(&net, 3, 1);
    let b = random_state(&net, 2, 2);
    let g = RecurrentState::gather(&[(&a, 2), (&b, 0), (&a, 0)]);
    assert_eq!(
        g.actor.h.index_axis(Axis(1), 0),
        a.actor.h.index_axis(Axis(1), 2)
    );
    assert_eq!(
        g.critic.as_ref().unwrap().c.index_axis(Axis(1), 1),
        b.critic.as_ref().unwrap().c.index_axis(Axis(1), 0)
    );
    let mut r = a.clone();
    r.reset(&[false, true, false]);
    assert!(r.actor.h.index_axis(Axis(1), 1).iter().all(|&v| v == 0.0));
    assert!(
        r.critic
            .as_ref()
            .unwrap()
            .c
            .index_axis(Axis(1), 1)
            .iter()
            .all(|&v| v == 0.0)
    );
    assert_eq!(r.select(&[0, 2]), a.select(&[0, 2]));
}
