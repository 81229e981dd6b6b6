//! The recurrent state of a [`RecurrentActorCritic`](super::RecurrentActorCritic): each LSTM's
//! `z = (h, c)` for `E` environments, gathered by column when a minibatch collects the state
//! stored at each sequence start, and reset where an episode starts, `z ← (1 − m) z`.

use autograd::{Float, Var};
use ndarray::{Array3, Axis};
use nn::LSTMState;

/// One LSTM's state for `E` environments: `h` and `c`, each `(layers, E, H)`.
#[derive(Clone, Debug, PartialEq)]
pub struct LstmMemory {
    /// `h`.
    pub h: Array3<f32>,
    /// `c`.
    pub c: Array3<f32>,
}

impl LstmMemory {
    /// The zero state.
    pub fn zeros(layers: usize, envs: usize, hidden: usize) -> Self {
        LstmMemory {
            h: Array3::zeros((layers, envs, hidden)),
            c: Array3::zeros((layers, envs, hidden)),
        }
    }

    pub(super) fn to_var<T: Float>(&self) -> LSTMState<T> {
        let var = |a: &Array3<f32>| Var::constant(a.mapv(|v| T::from_f64(v as f64)).into_dyn());
        LSTMState {
            h: var(&self.h),
            c: var(&self.c),
        }
    }

    pub(super) fn from_var<T: Float>(state: &LSTMState<T>) -> Self {
        let array = |v: &Var<T>| {
            let a = v.value();
            let s = a.shape();
            Array3::from_shape_vec(
                (s[0], s[1], s[2]),
                a.iter().map(|x| x.as_f64() as f32).collect(),
            )
            .expect("an LSTM state is (layers, N, H)")
        };
        LstmMemory {
            h: array(&state.h),
            c: array(&state.c),
        }
    }

    fn gather(parts: &[(&LstmMemory, usize)]) -> Self {
        let pick = |f: fn(&LstmMemory) -> &Array3<f32>| {
            let views: Vec<_> = parts
                .iter()
                .map(|(m, n)| f(m).slice(ndarray::s![.., *n..*n + 1, ..]))
                .collect();
            ndarray::concatenate(Axis(1), &views).expect("equal layers and hidden sizes")
        };
        LstmMemory {
            h: pick(|m| &m.h),
            c: pick(|m| &m.c),
        }
    }

    fn reset(&mut self, starts: &[bool]) {
        for (n, _) in starts.iter().enumerate().filter(|(_, s)| **s) {
            self.h.index_axis_mut(Axis(1), n).fill(0.0);
            self.c.index_axis_mut(Axis(1), n).fill(0.0);
        }
    }
}

/// The recurrent state of a [`RecurrentActorCritic`] in `E` environments (sb3-contrib's
/// `RNNStates`): the actor's LSTM state and, with separate LSTMs, the critic's.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurrentState {
    /// `z_t` of the actor's LSTM (also the critic's input when the LSTM is shared).
    pub actor: LstmMemory,
    /// `z^V_t` of the critic's own LSTM; `None` when the LSTM is shared.
    pub critic: Option<LstmMemory>,
}

impl RecurrentState {
    /// The number of environments `E`.
    pub fn num_envs(&self) -> usize {
        self.actor.h.shape()[1]
    }

    /// The states of environments `columns`, in that order.
    pub fn select(&self, columns: &[usize]) -> RecurrentState {
        let parts: Vec<_> = columns.iter().map(|&n| (self, n)).collect();
        RecurrentState::gather(&parts)
    }

    /// One state of `parts.len()` environments, column `k` being column `parts[k].1` of
    /// `parts[k].0`: how a minibatch of sequences collects the state stored at each start.
    ///
    /// # Panics
    /// If `parts` is empty or mixes shared and separate layouts.
    pub fn gather(parts: &[(&RecurrentState, usize)]) -> RecurrentState {
        assert!(!parts.is_empty(), "recurrent state: nothing to gather");
        let actor: Vec<_> = parts.iter().map(|(s, n)| (&s.actor, *n)).collect();
        let critic = parts[0].0.critic.as_ref().map(|_| {
            let columns: Vec<_> = parts
                .iter()
                .map(|(s, n)| {
                    let memory = s.critic.as_ref();
                    (memory.expect("every state has a critic LSTM"), *n)
                })
                .collect();
            LstmMemory::gather(&columns)
        });
        RecurrentState {
            actor: LstmMemory::gather(&actor),
            critic,
        }
    }

    /// Zeroes the state of every environment `n` with `starts[n]`: `z ← (1 − m) z`.
    pub fn reset(&mut self, starts: &[bool]) {
        self.actor.reset(starts);
        if let Some(critic) = &mut self.critic {
            critic.reset(starts);
        }
    }
}
