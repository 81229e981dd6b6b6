//! R2D2's losses in f64: the gradient of the sequence loss against central differences (stored
//! and zero start states, with and without value rescaling, episode boundaries inside the
//! sequences), burn-in without gradient, the n-step double-Q targets against an explicit
//! computation, no state across an episode start, and the priority mixture.

use autograd::prelude::*;
use autograd::{SharedArray, gradcheck};
use ndarray::{Array2, Array3, ArrayD, Axis};
use nn::{LSTMState, ParamId, ParamStore};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use wengert_rl::algorithms::r2d2::{SequenceSettings, burn_in, n_step_targets, r2d2_loss};
use wengert_rl::buffers::{
    Position, SequenceBatch, SequenceReplay, SequenceWriter, sequence_priority,
};
use wengert_rl::recurrent_q_network::{RecurrentQNetwork, sequence_var};
use wengert_rl::recurrent_replay::{staleness, start_state};
use wengert_rl::value_rescaling::{h, h_inverse};

const DIM: usize = 2;
const ACTIONS: usize = 3;
const HIDDEN: usize = 4;
const N: usize = 5;
/// `B`, `K` and `n` of [`settings`]: the learned positions are `B … B + K`.
const B: usize = 3;
const K: usize = 4;

fn settings(stored_state: bool, rescaling: Option<f64>) -> SequenceSettings {
    SequenceSettings {
        burn_in: B,
        learn_length: K,
        n_step: 2,
        gamma: 0.9,
        rescaling,
        stored_state,
        eta: 0.9,
    }
}

struct Fixture {
    q: RecurrentQNetwork,
    online: ParamStore<f64>,
    target: ParamStore<f64>,
    batch: SequenceBatch,
}

/// A small network `θ`, a different `θ'`, and `N` sequences of `L = 3 + 4 + 2` positions cut by
/// a writer from a stream of episodes of 2 to 5 steps (each ending in a final observation,
/// terminal or truncated at random), stored with random non-zero start states, with unequal
/// importance weights.
fn fixture(seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut build = |store: &mut ParamStore<f64>| {
        RecurrentQNetwork::new(
            &mut store.root().sub("q"),
            DIM,
            ACTIONS,
            6,
            HIDDEN,
            &mut rng,
        )
    };
    let (mut online, mut target) = (ParamStore::new(), ParamStore::new());
    let q = build(&mut online);
    build(&mut target);
    let length = 9;
    let mut replay = SequenceReplay::new(N, length, DIM, HIDDEN, 0.9, 1e-6);
    let mut writer = SequenceWriter::new(length, length, DIM, HIDDEN);
    while replay.len() < N {
        let steps = rng.random_range(2..6);
        let terminal = rng.random_bool(0.5);
        for k in 0..=steps {
            let o: Vec<f32> = (0..DIM).map(|_| rng.random_range(-1.5..1.5)).collect();
            let state: Vec<f32> = (0..HIDDEN).map(|_| rng.random_range(-0.8..0.8)).collect();
            let last = k == steps;
            let p = Position {
                observation: &o,
                action: if last {
                    0
                } else {
                    rng.random_range(0..ACTIONS)
                },
                reward: if last {
                    0.0
                } else {
                    rng.random_range(-1.0..2.0)
                },
                first: k == 0,
                last,
                terminal: last && terminal,
            };
            if let Some(s) = writer.push(p, &state, &state) {
                replay.push(&s);
            }
        }
    }
    let mut batch = replay.gather(&(0..N).collect::<Vec<_>>());
    batch.weights = (0..N).map(|i| 0.3 + 0.2 * i as f64).collect();
    Fixture {
        q,
        online,
        target,
        batch,
    }
}

impl Fixture {
    /// The batch's observations `(L, N, D)`, as a constant.
    fn o(&self) -> Var<f64> {
        sequence_var::<f64>(&self.batch.observations)
    }

    /// The reset mask of positions `from … to`, as a constant.
    fn mask(&self, from: usize, to: usize) -> Var<f64> {
        let first = self.batch.first.slice(ndarray::s![from..to, ..]);
        Var::constant(first.mapv(f64::from).into_dyn())
    }

    /// `y` of [`n_step_targets`] from `θ` and `θ'` as constants.
    fn targets(&self, o: &Var<f64>, s: &SequenceSettings) -> Array2<f64> {
        let (online, target) = (self.online.constants(), self.target.constants());
        n_step_targets(&self.q, &online, &target, o, &self.batch, s)
    }

    /// The state after the burn-in `0 … B` with `θ` as constants, from the stored state or zeros.
    fn burnt_in(&self, o: &Var<f64>, stored: bool) -> LSTMState<f64> {
        let start = start_state(&self.batch, stored);
        burn_in(&self.q, &self.online.constants(), o, &self.batch, start, B)
    }

    /// The Q-values with parameters `store` (`θ` or `θ'`) over all of `o` from `start` with
    /// the reset mask `m`, as an array.
    fn q_values(
        &self,
        store: &ParamStore<f64>,
        o: &Var<f64>,
        start: &LSTMState<f64>,
        m: &Var<f64>,
    ) -> ArrayD<f64> {
        let (values, _) = self.q.q_values(&store.constants(), o, start, m);
        values.value().to_owned()
    }
}

fn trainable(store: &ParamStore<f64>) -> (Vec<ParamId>, Vec<SharedArray<f64>>) {
    let ids: Vec<ParamId> = store.trainable().collect();
    let values = ids.iter().map(|&id| store.value(id)).collect();
    (ids, values)
}

#[test]
fn the_fixture_has_episode_boundaries_of_both_kinds_inside_the_learned_part() {
    let f = fixture(1);
    let learned = |a: &Array2<bool>| a.slice(ndarray::s![B..B + K, ..]).iter().any(|&x| x);
    assert!(learned(&f.batch.last));
    assert!(f.batch.terminal.iter().any(|&x| x));
    assert!(
        f.batch
            .last
            .iter()
            .zip(&f.batch.terminal)
            .any(|(&l, &t)| l && !t)
    );
    assert!(f.batch.first.iter().any(|&x| x == 1.0));
}

#[test]
fn the_sequence_loss_gradient_equals_central_differences() {
    for (stored, rescaling) in [(true, Some(1e-3)), (false, Some(1e-3)), (true, None)] {
        let f = fixture(2);
        let s = settings(stored, rescaling);
        let o = f.o();
        let y = f.targets(&o, &s);
        // The burnt-in state is a constant of the loss (computed once, from the unperturbed θ).
        let state = f.burnt_in(&o, stored);
        let (ids, inputs) = trainable(&f.online);
        let result = gradcheck(
            |theta| {
                let params = f
                    .online
                    .bind_with(ids.iter().copied().zip(theta.iter().cloned()));
                r2d2_loss(&f.q, &params, &o, &f.batch, &state, &y, &s).0
            },
            &inputs,
        );
        assert!(
            result.is_ok(),
            "stored {stored}, rescaling {rescaling:?}: {}",
            result.unwrap_err()
        );
        let tape = Tape::new();
        let theta = f.online.bind(&tape);
        let state = burn_in(&f.q, &theta, &o, &f.batch, start_state(&f.batch, stored), B);
        let (loss, _) = r2d2_loss(&f.q, &theta, &o, &f.batch, &state, &y, &s);
        let gradients = theta.gradients(&loss);
        for id in ids {
            assert!(
                gradients[id].iter().any(|g| *g != 0.0),
                "{} has no gradient",
                f.online.name(id)
            );
        }
    }
}

#[test]
fn burn_in_positions_carry_no_gradient() {
    let f = fixture(3);
    let s = settings(true, Some(1e-3));
    let y = f.targets(&f.o(), &s);
    let tape = Tape::new();
    let o = tape.var(f.batch.observations.mapv(f64::from).into_dyn());
    let theta = f.online.bind(&tape);
    let state = burn_in(&f.q, &theta, &o, &f.batch, start_state(&f.batch, true), B);
    let (loss, _) = r2d2_loss(&f.q, &theta, &o, &f.batch, &state, &y, &s);
    let gradient = grad(&[&loss], &[&o]).remove(0);
    // Only the learned positions B … B + K reach the loss: not the burn-in 0 … B (detached),
    // not the n positions after (read by the targets only).
    for t in 0..f.batch.length() {
        let any = gradient.index_axis(Axis(0), t).iter().any(|&g| g != 0.0);
        assert_eq!(any, (B..B + K).contains(&t), "position {t}: gradient {any}");
    }
    // …and none reaches θ through the burn-in: the loss's gradient is the one from the same
    // state handed over as a constant.
    let constant = f.burnt_in(&f.o(), true);
    let (loss_constant, _) = r2d2_loss(&f.q, &theta, &o, &f.batch, &constant, &y, &s);
    let (a, b) = (theta.gradients(&loss), theta.gradients(&loss_constant));
    for id in f.online.trainable() {
        assert_eq!(a[id], b[id], "{}", f.online.name(id));
    }
}

/// `h(Σ_{k<m} γ^k r + γ^m h⁻¹(Q_θ'(p, argmax Q_θ(p))))`, each network run over the whole
/// sequence from the stored state in one pass (no burn-in split).
#[test]
fn the_targets_are_n_step_double_q_through_the_value_rescaling() {
    let f = fixture(4);
    let s = settings(true, Some(1e-3));
    let o = f.o();
    let y = f.targets(&o, &s);
    let (start, m) = (start_state(&f.batch, true), f.mask(0, f.batch.length()));
    let q_online = f.q_values(&f.online, &o, &start, &m);
    let q_target = f.q_values(&f.target, &o, &start, &m);
    let (mut checked, mut truncated, mut terminal) = (0, 0, 0);
    for i in 0..N {
        for t in B..B + K {
            if f.batch.last[[t, i]] {
                continue;
            }
            let (mut ret, mut k) = (0.0, 0);
            while k < 2 && !f.batch.last[[t + k, i]] {
                ret += 0.9f64.powi(k as i32) * f.batch.rewards[[t + k, i]];
                k += 1;
            }
            let p = t + k;
            let expected = if f.batch.terminal[[p, i]] {
                terminal += 1;
                h(ret, 1e-3)
            } else {
                truncated += (f.batch.last[[p, i]]) as usize;
                let a = (0..ACTIONS).fold(0, |best, a| {
                    if q_online[[p, i, a]] > q_online[[p, i, best]] {
                        a
                    } else {
                        best
                    }
                });
                h(
                    ret + 0.9f64.powi(k as i32) * h_inverse(q_target[[p, i, a]], 1e-3),
                    1e-3,
                )
            };
            let got = y[[t - B, i]];
            assert!(
                (got - expected).abs() <= 1e-12 * (1.0 + expected.abs()),
                "({t}, {i}): {got} vs {expected}"
            );
            checked += 1;
        }
    }
    assert!(
        checked > 10 && truncated > 0 && terminal > 0,
        "{checked} {truncated} {terminal}"
    );
}

#[test]
fn no_state_crosses_an_episode_start() {
    let f = fixture(5);
    let o = f.batch.observations.mapv(f64::from);
    let m = f.mask(0, f.batch.length());
    let q_of = |o: &Array3<f64>, h0: f64| {
        let mut b = f.batch.clone();
        b.h0.fill(h0 as f32);
        b.c0.fill(-h0 as f32);
        let o = Var::constant(o.clone().into_dyn());
        f.q_values(&f.online, &o, &start_state(&b, true), &m)
    };
    let before = q_of(&o, 0.5);
    let (mut scrambled, mut checked) = (o.clone(), 0);
    scrambled.mapv_inplace(|x| 3.0 - 2.0 * x);
    for i in 0..N {
        let Some(start) = (0..f.batch.length()).find(|&t| f.batch.first[[t, i]] == 1.0) else {
            continue;
        };
        // everything before the episode start changes: the observations and the stored state
        let mut o2 = o.clone();
        o2.slice_mut(ndarray::s![..start, i, ..])
            .assign(&scrambled.slice(ndarray::s![..start, i, ..]));
        let after = q_of(&o2, -0.9);
        for t in start..f.batch.length() {
            for a in 0..ACTIONS {
                assert_eq!(
                    before[[t, i, a]],
                    after[[t, i, a]],
                    "sequence {i}, position {t}"
                );
            }
            checked += 1;
        }
        if start > 0 {
            assert_ne!(before[[start - 1, i, 0]], after[[start - 1, i, 0]]);
        }
    }
    assert!(checked > 0);
}

#[test]
fn the_priorities_are_the_mixture_of_max_and_mean_td_error() {
    let f = fixture(6);
    let s = settings(true, Some(1e-3));
    let o = f.o();
    let y = f.targets(&o, &s);
    let state = f.burnt_in(&o, true);
    let (_, errors) = r2d2_loss(&f.q, &f.online.constants(), &o, &f.batch, &state, &y, &s);
    let observations = f.batch.observations.slice(ndarray::s![B..B + K, .., ..]);
    let o_learn = sequence_var::<f64>(&observations.to_owned());
    let q = f.q_values(&f.online, &o_learn, &state, &f.mask(B, B + K));
    for i in 0..N {
        let deltas: Vec<f64> = (0..K)
            .filter(|&t| !f.batch.last[[B + t, i]])
            .map(|t| (q[[t, i, f.batch.actions[[B + t, i]]]] - y[[t, i]]).abs())
            .collect();
        let max = deltas.iter().cloned().fold(0.0, f64::max);
        let mean = deltas.iter().sum::<f64>() / deltas.len() as f64;
        let expected = 0.9 * max + 0.1 * mean;
        assert!(
            (errors.priorities[i] - expected).abs() < 1e-12,
            "{i}: {} vs {expected}",
            errors.priorities[i]
        );
    }
    assert_eq!(sequence_priority(&[2.0, -4.0], 0.5), 0.5 * 4.0 + 0.5 * 3.0);
    assert_eq!(sequence_priority(&[2.0, -4.0], 1.0), 4.0);
    assert_eq!(sequence_priority(&[2.0, -4.0], 0.0), 3.0);
}

#[test]
fn staleness_is_zero_from_a_zero_stored_state_and_positive_from_another() {
    let mut f = fixture(7);
    f.batch.first.fill(0.0); // no episode start inside the burn-in: the start state matters
    let o = f.o();
    assert!(staleness(&f.q, &f.online.constants(), &o, &f.batch, B) > 0.0);
    f.batch.h0.fill(0.0);
    f.batch.c0.fill(0.0);
    assert_eq!(staleness(&f.q, &f.online.constants(), &o, &f.batch, B), 0.0);
}
