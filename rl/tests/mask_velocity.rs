//! The velocity-masked environments (`CartPoleNoVel-v1`, `PendulumNoVel-v1`): step by step they
//! are the wrapped environment with the velocities zeroed (rl-zoo's `MaskVelocityWrapper`), their
//! spaces and time limits are the wrapped one's, and training on them stops and resumes bit for
//! bit.

use wengert_rl::algorithms::train_from;
use wengert_rl::env::{Action, CartPole, Env, MaskVelocity, NO_VELOCITY, Space, make};
use wengert_rl::snapshot::Values;

/// A fixed, varied action for step `t` (no generator needed).
fn action<'a>(space: &Space, t: usize, torque: &'a mut [f32; 1]) -> Action<'a> {
    match space {
        Space::Discrete { n } => Action::Discrete((t * 7 + t / 3) % n),
        Space::Box(_) => {
            torque[0] = ((t as f32) * 0.37).sin() * 2.5; // beyond ±2: clipping passes through too
            Action::Continuous(&torque[..])
        }
    }
}

#[test]
fn observations_are_the_wrapped_ones_at_the_kept_indices_and_zero_elsewhere() {
    for (id, base, kept) in NO_VELOCITY {
        for seed in [0, 1, 42] {
            let (mut masked, mut full) = (make(id).unwrap(), make(base).unwrap());
            let (mut o, mut o_full) = (masked.reset(Some(seed)), full.reset(Some(seed)));
            let mut torque = [0.0];
            let (mut episodes, mut steps) = (0, 0);
            for t in 0..1500 {
                assert_eq!(o.len(), o_full.len(), "{id}");
                for i in 0..o.len() {
                    let expected = if kept.contains(&i) { o_full[i] } else { 0.0 };
                    assert_eq!(
                        o[i].to_bits() & 0x7fff_ffff, // the zoo's `o * 0` is −0 for o < 0
                        expected.to_bits() & 0x7fff_ffff,
                        "{id} seed {seed} step {t} index {i}: {o:?} vs {o_full:?}"
                    );
                    if kept.contains(&i) {
                        assert_eq!(o[i].to_bits(), o_full[i].to_bits());
                    }
                }
                let a = action(masked.action_space(), t, &mut torque);
                let (step, step_full) = (masked.step(a).unwrap(), full.step(a).unwrap());
                assert_eq!(step.reward.to_bits(), step_full.reward.to_bits(), "{id}");
                assert_eq!(
                    (step.terminated, step.truncated),
                    (step_full.terminated, step_full.truncated),
                    "{id}"
                );
                steps += 1;
                let done = step.done();
                (o, o_full) = (step.observation, step_full.observation);
                if done {
                    episodes += 1;
                    (o, o_full) = (masked.reset(None), full.reset(None));
                }
            }
            assert!(episodes >= 2 && steps == 1500, "{id}: {episodes} episodes");
        }
    }
}

#[test]
fn spaces_ids_and_time_limits_are_the_wrapped_environments() {
    for (id, base, kept) in NO_VELOCITY {
        let (masked, full) = (make(id).unwrap(), make(base).unwrap());
        assert_eq!(masked.id(), id);
        assert_eq!(masked.observation_space(), full.observation_space(), "{id}");
        assert_eq!(masked.action_space(), full.action_space(), "{id}");
        let dim = masked.observation_space().dim();
        assert!(kept.len() < dim && kept.iter().all(|&i| i < dim), "{id}");
    }
    // The zoo's velocity_indices, complemented.
    let indices: Vec<_> = NO_VELOCITY
        .iter()
        .map(|(id, _, k)| (*id, k.to_vec()))
        .collect();
    assert_eq!(
        indices,
        [
            ("CartPoleNoVel-v1", vec![0, 2]),
            ("PendulumNoVel-v1", vec![0, 1])
        ]
    );
    // Registered time limits: CartPole-v1's 500 and Pendulum-v1's 200. Pendulum never
    // terminates, so its episode ends by truncation at exactly 200 steps.
    let mut pendulum = make("PendulumNoVel-v1").unwrap();
    pendulum.reset(Some(5));
    let mut t = 0;
    loop {
        t += 1;
        let step = pendulum.step(Action::Continuous(&[0.0])).unwrap();
        if step.done() {
            assert!(step.truncated && !step.terminated);
            break;
        }
    }
    assert_eq!(t, 200);
    // A well-balanced CartPole episode is truncated at 500: replay a balancing policy.
    let mut cartpole = make("CartPoleNoVel-v1").unwrap();
    let mut full = make("CartPole-v1").unwrap();
    let (_, mut o) = (cartpole.reset(Some(0)), full.reset(Some(0)));
    let mut t = 0;
    loop {
        t += 1;
        let push = usize::from(o[2] + 0.5 * o[3] > 0.0); // uses θ̇: only the full env sees it
        let (step, step_full) = (
            cartpole.step(push.into()).unwrap(),
            full.step(push.into()).unwrap(),
        );
        o = step_full.observation;
        if step.done() {
            assert!(step.truncated && !step.terminated, "{t}");
            break;
        }
    }
    assert_eq!(t, 500);
}

#[test]
fn a_saved_state_restores_the_same_future_bit_for_bit() {
    for (id, ..) in NO_VELOCITY {
        let mut env = make(id).unwrap();
        env.reset(Some(9));
        let mut torque = [0.0];
        for t in 0..37 {
            let a = action(env.action_space(), t, &mut torque);
            if env.step(a).unwrap().done() {
                env.reset(None);
            }
        }
        let saved = env.save_state().expect("saveable");
        let mut copy = make(id).unwrap();
        copy.load_state(&saved).unwrap();
        for t in 37..1300 {
            let a = action(env.action_space(), t, &mut torque);
            let (x, y) = (env.step(a).unwrap(), copy.step(a).unwrap());
            let bits = |o: &[f32]| o.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(&x.observation), bits(&y.observation), "{id} step {t}");
            assert_eq!(x.reward.to_bits(), y.reward.to_bits());
            assert_eq!((x.terminated, x.truncated), (y.terminated, y.truncated));
            if x.done() {
                assert_eq!(bits(&env.reset(None)), bits(&copy.reset(None)), "{id}");
            }
        }
        // The wrong environment's state is refused with a message.
        let cartpole = make("CartPole-v1").unwrap();
        let mut pendulum = make("PendulumNoVel-v1").unwrap();
        let error = pendulum
            .load_state(&cartpole.save_state().unwrap())
            .unwrap_err();
        assert!(error.to_string().contains("expected"), "{error}");
    }
}

#[test]
fn a_kept_index_outside_the_observation_is_an_error_naming_it() {
    let error = MaskVelocity::new(CartPole::new(), "CartPoleNoVel-v1", &[0, 4])
        .err()
        .unwrap()
        .to_string();
    assert!(
        error.contains("index 4") && error.contains("0..4"),
        "{error}"
    );
    let frozen = make("FrozenLake-v1").unwrap();
    let error = MaskVelocity::new(frozen, "FrozenLakeNoVel-v1", &[0])
        .err()
        .unwrap()
        .to_string();
    assert!(error.contains("box observation"), "{error}");
}

/// PPO's defaults on the masked environments (no per-environment preset is needed), stopped
/// after iteration 2 and resumed: the same metrics and training state as one run.
#[test]
fn ppo_trains_and_resumes_bit_for_bit_on_the_masked_environments() {
    let settings: Vec<(String, String)> = [
        ("total_timesteps", "768"),
        ("num_envs", "2"),
        ("num_steps", "64"),
        ("update_epochs", "2"),
        ("hidden", "16,16"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (id, ..) in NO_VELOCITY {
        let go = |resume, stop: Option<usize>| {
            let mut log = Vec::new();
            let mut last = None;
            train_from("ppo", id, 3, &settings, resume, &mut |i| {
                let m = i.metrics;
                let losses: Vec<_> = m
                    .losses
                    .iter()
                    .filter(|(n, _)| !n.ends_with("per_second"))
                    .map(|(n, v)| format!("{n}={:x}", v.to_bits()))
                    .collect();
                log.push(format!(
                    "{} {} {}",
                    m.iteration,
                    m.env_steps,
                    losses.join(" ")
                ));
                last = Some(i.training_state());
                stop != Some(m.iteration)
            })
            .unwrap_or_else(|e| panic!("ppo on {id}: {e}"));
            (log, last.unwrap())
        };
        let (whole, whole_state) = go(None, None);
        assert_eq!(whole.len(), 6, "{id}");
        let (first, saved) = go(None, Some(2));
        assert_eq!(first, whole[..2]);
        let (rest, rest_state) = go(Some(&saved), None);
        assert_eq!(rest, whole[2..], "{id}");
        let bits = |s: &wengert_rl::snapshot::TrainingState| {
            s.entries()
                .filter(|(n, _)| !n.ends_with("seconds"))
                .map(|(n, v)| {
                    let words: Vec<u64> = match v {
                        Values::F32(a) => a.iter().map(|x| x.to_bits() as u64).collect(),
                        Values::F64(a) => a.iter().map(|x| x.to_bits()).collect(),
                        Values::U64(a) => a.iter().copied().collect(),
                    };
                    (n.to_string(), words)
                })
                .collect::<Vec<_>>()
        };
        assert!(
            bits(&whole_state) == bits(&rest_state),
            "{id}: training state"
        );
    }
}
