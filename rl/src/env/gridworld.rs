//! # A configurable gridworld
//!
//! Russell & Norvig's gridworld, with any map: `.` free, `#` wall, `S` start, `+` a goal and
//! `-` a pit (both terminal). Actions 0, 1, 2, 3 move left, down, right, up; with probability
//! `1 − noise` the move goes as intended and with probability `noise / 2` to each side
//! (perpendicular); a move into a wall or off the grid stays put. Every step costs
//! `step_reward`; entering `+` adds `goal_reward`, entering `-` adds `pit_reward`, and ends the
//! episode. Terminal cells and walls are absorbing with reward 0.
//!
//! States are cells `s = row · ncol + col` (walls included, never reached);
//! [`Gridworld::model`] exposes `P(s', r | s, a)`. With the default map, `step_reward = −0.04`,
//! `noise = 0.2` and `γ = 1`, the optimal values are the textbook's (Russell & Norvig, Fig. 17.3).
//!
//! The cell, the episode status and the generator are saved like FrozenLake's
//! ([`Env::save_state`]).

use super::frozen_lake::{load_cell, move_in_grid, save_cell};
use super::{
    Action, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, Space, TabularModel,
    Transition,
};

/// Russell & Norvig's 4×3 world.
pub const RUSSELL_NORVIG_MAP: &str = "...+\n.#.-\nS...";

/// Gridworld (see the module doc).
///
/// ```
/// use wengert_rl::env::{Env, Gridworld};
/// let world = Gridworld::russell_norvig();
/// assert_eq!(world.model().num_states(), 12);
/// // Up from the start (bottom left): up 0.8, stays put 0.1 (wall on the left), right 0.1.
/// let outcomes = world.model().outcomes(8, 3);
/// let probability_up: f64 = outcomes.iter().filter(|t| t.next_state == 4).map(|t| t.probability).sum();
/// assert!((probability_up - 0.8).abs() < 1e-12);
/// ```
#[derive(Clone, Debug)]
pub struct Gridworld {
    model: TabularModel,
    state: usize,
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

/// Rewards and noise of a [`Gridworld`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GridworldRewards {
    /// Reward of every step.
    pub step_reward: f64,
    /// Added on entering `+`.
    pub goal_reward: f64,
    /// Added on entering `-`.
    pub pit_reward: f64,
    /// Probability of slipping sideways (half to each side).
    pub noise: f64,
}

impl Default for GridworldRewards {
    /// Russell & Norvig's: −0.04 per step, +1 goal, −1 pit, noise 0.2.
    fn default() -> Self {
        GridworldRewards {
            step_reward: -0.04,
            goal_reward: 1.0,
            pit_reward: -1.0,
            noise: 0.2,
        }
    }
}

impl Gridworld {
    /// Russell & Norvig's 4×3 world with their rewards.
    pub fn russell_norvig() -> Self {
        Self::new(RUSSELL_NORVIG_MAP, GridworldRewards::default())
            .expect("the built-in map is valid")
    }

    /// A gridworld from its map (rows separated by newlines, letters `. # S + -`).
    ///
    /// ```
    /// use wengert_rl::env::{Gridworld, GridworldRewards};
    /// assert!(Gridworld::new("S.+", GridworldRewards::default()).is_ok());
    /// assert!(Gridworld::new("S.?", GridworldRewards::default()).is_err());
    /// ```
    pub fn new(map: &str, rewards: GridworldRewards) -> Result<Self, EnvError> {
        let map: Vec<&[u8]> = map
            .lines()
            .map(str::trim)
            .filter(|row| !row.is_empty())
            .map(str::as_bytes)
            .collect();
        let invalid =
            |message: String| Err(EnvError::InvalidConfig(format!("Gridworld map: {message}")));
        let ncol = map.first().map_or(0, |row| row.len());
        if ncol == 0 || map.iter().any(|row| row.len() != ncol) {
            return invalid("expected a non-empty rectangle of rows of equal length".into());
        }
        if let Some(&letter) = map
            .iter()
            .flat_map(|row| row.iter())
            .find(|c| !b".#S+-".contains(c))
        {
            return invalid(format!(
                "unknown letter {:?}; expected one of . # S + -",
                char::from(letter)
            ));
        }
        if !map.iter().flat_map(|row| row.iter()).any(|&c| c == b'S') {
            return invalid("no start cell 'S'".into());
        }
        if !(0.0..=1.0).contains(&rewards.noise) {
            return invalid(format!("noise {} is not a probability", rewards.noise));
        }
        let model = Self::build_model(&map, rewards);
        let num_states = model.num_states();
        Ok(Gridworld {
            model,
            state: 0,
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Discrete { n: num_states },
            action_space: Space::Discrete { n: 4 },
        })
    }

    fn build_model(map: &[&[u8]], rewards: GridworldRewards) -> TabularModel {
        let (nrow, ncol) = (map.len(), map[0].len());
        let outcome = |row: usize, col: usize, direction: usize, probability: f64| {
            let (mut next_row, mut next_col) = move_in_grid(row, col, direction, nrow, ncol);
            if map[next_row][next_col] == b'#' {
                (next_row, next_col) = (row, col);
            }
            let letter = map[next_row][next_col];
            let bonus = match letter {
                b'+' => rewards.goal_reward,
                b'-' => rewards.pit_reward,
                _ => 0.0,
            };
            Transition {
                probability,
                next_state: next_row * ncol + next_col,
                reward: rewards.step_reward + bonus,
                terminated: matches!(letter, b'+' | b'-'),
            }
        };
        let mut outcomes = Vec::with_capacity(nrow * ncol * 4);
        for (row, cells) in map.iter().enumerate() {
            for (col, &letter) in cells.iter().enumerate() {
                for a in 0..4 {
                    let s = row * ncol + col;
                    outcomes.push(if matches!(letter, b'+' | b'-' | b'#') {
                        vec![Transition {
                            probability: 1.0,
                            next_state: s,
                            reward: 0.0,
                            terminated: true,
                        }]
                    } else {
                        [(a + 3) % 4, a, (a + 1) % 4]
                            .iter()
                            .map(|&b| {
                                outcome(
                                    row,
                                    col,
                                    b,
                                    if b == a {
                                        1.0 - rewards.noise
                                    } else {
                                        rewards.noise / 2.0
                                    },
                                )
                            })
                            .filter(|t| t.probability > 0.0)
                            .collect()
                    });
                }
            }
        }
        let starts = map
            .iter()
            .flat_map(|row| row.iter())
            .filter(|&&c| c == b'S')
            .count() as f64;
        let initial = map
            .iter()
            .flat_map(|row| row.iter())
            .map(|&c| if c == b'S' { 1.0 / starts } else { 0.0 })
            .collect();
        TabularModel::new(nrow * ncol, 4, outcomes, initial)
    }

    /// The transition model `P(s', r | s, a)`.
    pub fn model(&self) -> &TabularModel {
        &self.model
    }
}

impl Env for Gridworld {
    fn id(&self) -> &str {
        "Gridworld"
    }

    /// The cell `s` as the one real; the episode status and the generator's words.
    fn save_state(&self) -> Option<EnvState> {
        Some(save_cell(self.state, self.status, &self.rng))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_cell(
            "Gridworld",
            saved,
            self.model.num_states(),
            &mut self.state,
            &mut self.status,
            &mut self.rng,
        )
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, observation: &mut [f32]) {
        let rng = super::reseed(&mut self.rng, seed);
        self.state = self.model.sample_initial(rng);
        self.status = EpisodeStatus::Running;
        observation[0] = self.state as f32;
    }

    fn step_into(
        &mut self,
        action: Action<'_>,
        observation: &mut [f32],
    ) -> Result<Feedback, EnvError> {
        let action = super::discrete_action(action, &self.action_space, "Gridworld")?;
        self.status.check_running("Gridworld")?;
        let rng = self
            .rng
            .as_mut()
            .expect("a running episode was reset, which seeds the generator");
        let outcome = self.model.sample(self.state, action, rng);
        self.state = outcome.next_state;
        self.status = EpisodeStatus::after_step(outcome.terminated);
        observation[0] = self.state as f32;
        Ok(Feedback {
            reward: outcome.reward,
            terminated: outcome.terminated,
            truncated: false,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::frozen_lake::assert_continues_alike;

    #[test]
    fn a_restored_gridworld_continues_bit_for_bit() {
        let mut world = Gridworld::russell_norvig();
        world.reset(Some(11));
        for a in [3, 3, 2] {
            if world.step(Action::Discrete(a)).unwrap().done() {
                world.reset(None);
            }
        }
        let saved = world.save_state().unwrap();
        let mut copy = Gridworld::russell_norvig();
        copy.load_state(&saved).unwrap();
        assert_eq!(copy.save_state().unwrap(), saved);
        let episodes = assert_continues_alike(&mut world, &mut copy, 5000);
        assert!(episodes > 50, "only {episodes} episodes");
    }

    #[test]
    fn a_damaged_gridworld_state_is_an_error() {
        let mut world = Gridworld::russell_norvig();
        world.reset(Some(0));
        let saved = world.save_state().unwrap();
        let mut copy = Gridworld::russell_norvig();
        let message = copy
            .load_state(&EnvState {
                reals: vec![12.0],
                ..saved.clone()
            })
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("Gridworld") && message.contains("cell 12"),
            "{message}"
        );
        let message = copy
            .load_state(&EnvState {
                reals: vec![],
                ..saved
            })
            .unwrap_err()
            .to_string();
        assert!(message.contains("0 reals"), "{message}");
    }

    #[test]
    fn walls_block_and_the_pit_ends_the_episode() {
        let rewards = GridworldRewards {
            noise: 0.0,
            ..GridworldRewards::default()
        };
        let mut world = Gridworld::new("S#\n.-", rewards).unwrap();
        world.reset(Some(0));
        let blocked = world.step(Action::Discrete(2)).unwrap();
        assert_eq!((blocked.observation, blocked.reward), (vec![0.0], -0.04));
        world.step(Action::Discrete(1)).unwrap();
        let pit = world.step(Action::Discrete(2)).unwrap();
        assert!(pit.terminated && (pit.reward - (-1.04)).abs() < 1e-12);
    }
}
