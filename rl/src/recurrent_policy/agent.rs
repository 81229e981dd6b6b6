//! A trained recurrent agent: the policy's mode, with the LSTM state carried in the caller's
//! [`Memory`] from step to step.

use autograd::no_grad;
use ndarray::{Array2, Axis};
use nn::ParamStore;

use super::{LstmMemory, RecurrentActorCritic, RecurrentState};
use crate::normalize::RunningMeanStd;
use crate::policy::{Actions, observations_var};
use crate::train::{Agent, Memory, load_observation_stats, observation_stats_state};

/// A trained recurrent agent: it acts with the policy's mode and carries its LSTM state from
/// step to step in the caller's [`Memory`], one row per episode (see [`Agent::start_memory`]).
pub struct RecurrentAgent {
    /// The Gymnasium id it was trained on.
    pub env_id: String,
    /// Its parameters.
    pub store: ParamStore<f32>,
    /// Its networks.
    pub network: RecurrentActorCritic,
    /// Observation normalisation statistics, if used.
    pub observation_stats: Option<RunningMeanStd>,
}

impl RecurrentAgent {
    /// An agent of these parameters and networks.
    pub fn new(
        env_id: String,
        store: ParamStore<f32>,
        network: RecurrentActorCritic,
        observation_stats: Option<RunningMeanStd>,
    ) -> Self {
        RecurrentAgent {
            env_id,
            store,
            network,
            observation_stats,
        }
    }

    /// The state as a [`Memory`]: `h` then `c` of each layer, `(N, H)` each, the actor's LSTM
    /// first, then the critic's if it has its own.
    fn to_memory(state: &RecurrentState) -> Memory {
        let mut arrays = Vec::new();
        for lstm in std::iter::once(&state.actor).chain(&state.critic) {
            for a in [&lstm.h, &lstm.c] {
                arrays.extend(a.outer_iter().map(|layer| layer.to_owned()));
            }
        }
        Memory(arrays)
    }

    /// The inverse of [`RecurrentAgent::to_memory`], for this agent's networks.
    fn state_from_memory(&self, memory: &Memory) -> RecurrentState {
        let mut arrays = memory.0.iter();
        let mut lstm = |layers: usize| {
            let mut stack = || {
                let views: Vec<_> = arrays.by_ref().take(layers).map(|a| a.view()).collect();
                ndarray::stack(Axis(0), &views).expect("memory rows of one LSTM agree")
            };
            let h = stack();
            let c = stack();
            LstmMemory { h, c }
        };
        let actor = lstm(self.network.lstm_actor.num_layers());
        let critic = self
            .network
            .lstm_critic
            .as_ref()
            .map(|l| lstm(l.num_layers()));
        RecurrentState { actor, critic }
    }
}

impl Agent for RecurrentAgent {
    fn env_id(&self) -> &str {
        &self.env_id
    }

    /// Each row as the first step of a new episode (from the zero state).
    fn act(&self, observations: &Array2<f32>) -> Actions {
        let mut memory = self.start_memory(observations.nrows()).expect("recurrent");
        self.act_remembering(observations, &mut memory)
    }

    fn start_memory(&self, n: usize) -> Option<Memory> {
        Some(Self::to_memory(&self.network.initial_state(n)))
    }

    /// `π`'s mode from the remembered state, which advances by one step. The memory starts at
    /// the zero state, so no episode-start reset is needed.
    fn act_remembering(&self, observations: &Array2<f32>, memory: &mut Memory) -> Actions {
        let observations = match &self.observation_stats {
            Some(stats) => stats.normalize(observations, 10.0, 1e-8),
            None => observations.clone(),
        };
        let state = self.state_from_memory(memory);
        let starts = vec![false; observations.nrows()];
        let params = self.store.constants();
        let (actions, next) = no_grad(|| {
            let s = observations_var::<f32>(&observations);
            let (pi, _, next) = self.network.step(&params, &s, &state, &starts);
            (pi.mode(), next)
        });
        *memory = Self::to_memory(&next);
        actions
    }

    fn store(&self) -> &ParamStore<f32> {
        &self.store
    }

    fn extra_state(&self) -> Vec<(String, Vec<f64>)> {
        observation_stats_state(&self.observation_stats)
    }

    fn load_extra_state(&mut self, state: &[(String, Vec<f64>)]) -> Result<(), String> {
        load_observation_stats(&mut self.observation_stats, state)
    }
}
