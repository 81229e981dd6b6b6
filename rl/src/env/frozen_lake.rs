//! # FrozenLake-v1
//!
//! Cross a frozen lake from `S` to the goal `G` without falling into a hole `H` (`F` is frozen,
//! safe ice). Gymnasium's 4×4 and 8×8 maps, or any rectangular map from a string.
//!
//! States are cells, numbered `s = row · ncol + col`; actions 0, 1, 2, 3 move left, down,
//! right, up (a move off the edge stays put). On slippery ice the agent moves in the intended
//! direction with probability `1/3` and in each of the two perpendicular directions with
//! probability `(1 − 1/3)/2`; on non-slippery ice always as intended. Entering `G` gives reward
//! 1; entering `G` or `H` terminates. Holes and the goal are absorbing:
//! `P(s | s, a) = 1`, reward 0, terminated. The first state is drawn uniformly among `S` cells.
//! [`FrozenLake::model`] exposes `P(s', r | s, a)` exactly as Gymnasium's `env.P`.
//!
//! The observation is the cell index as one `f32`; the registered time limits are 100 steps
//! (4×4) and 200 (8×8).

use super::{
    Action, Env, EnvError, EnvRng, EpisodeStatus, Feedback, Space, TabularModel, Transition,
};

/// Gymnasium's 4×4 map.
pub const MAP_4X4: [&str; 4] = ["SFFF", "FHFH", "FFFH", "HFFG"];

/// Gymnasium's 8×8 map.
pub const MAP_8X8: [&str; 8] = [
    "SFFFFFFF", "FFFFFFFF", "FFFHFFFF", "FFFFFHFF", "FFFHFFFF", "FHHFFFHF", "FHFFHFHF", "FFFHFFFG",
];

/// Moves `(row, col)` one cell in direction `action` (0 left, 1 down, 2 right, 3 up), staying
/// inside an `nrow × ncol` grid.
pub(crate) fn move_in_grid(
    row: usize,
    col: usize,
    action: usize,
    nrow: usize,
    ncol: usize,
) -> (usize, usize) {
    match action {
        0 => (row, col.saturating_sub(1)),
        1 => ((row + 1).min(nrow - 1), col),
        2 => (row, (col + 1).min(ncol - 1)),
        _ => (row.saturating_sub(1), col),
    }
}

/// FrozenLake (see the module doc).
///
/// ```
/// use wengert_rl::env::{Action, Env, FrozenLake};
/// let mut env = FrozenLake::from_map("SH\nFG", false).unwrap();
/// assert_eq!(env.reset(Some(0)), vec![0.0]);
/// let step = env.step(Action::Discrete(1)).unwrap(); // down onto ice
/// assert_eq!((step.observation, step.reward), (vec![2.0], 0.0));
/// let step = env.step(Action::Discrete(2)).unwrap(); // right onto the goal
/// assert!(step.terminated && step.reward == 1.0);
/// ```
#[derive(Clone, Debug)]
pub struct FrozenLake {
    id: &'static str,
    map: Vec<Vec<u8>>,
    model: TabularModel,
    state: usize,
    status: EpisodeStatus,
    rng: Option<EnvRng>,
    observation_space: Space,
    action_space: Space,
}

impl FrozenLake {
    /// Gymnasium's 4×4 map.
    pub fn four_by_four(slippery: bool) -> Self {
        Self::from_rows(&MAP_4X4, slippery).expect("the built-in 4x4 map is valid")
    }

    /// Gymnasium's 8×8 map.
    pub fn eight_by_eight(slippery: bool) -> Self {
        let lake = Self::from_rows(&MAP_8X8, slippery).expect("the built-in 8x8 map is valid");
        FrozenLake {
            id: "FrozenLake8x8-v1",
            ..lake
        }
    }

    /// A map from a string of rows separated by newlines, letters `S F H G`.
    ///
    /// ```
    /// use wengert_rl::env::FrozenLake;
    /// assert!(FrozenLake::from_map("SFG", true).is_ok());
    /// let error = FrozenLake::from_map("SX\nFG", true).unwrap_err();
    /// assert!(error.to_string().contains("'X'"));
    /// ```
    pub fn from_map(map: &str, slippery: bool) -> Result<Self, EnvError> {
        let rows: Vec<&str> = map
            .lines()
            .map(str::trim)
            .filter(|row| !row.is_empty())
            .collect();
        Self::from_rows(&rows, slippery)
    }

    /// A map from its rows, letters `S F H G`.
    pub fn from_rows(rows: &[&str], slippery: bool) -> Result<Self, EnvError> {
        let map: Vec<Vec<u8>> = rows.iter().map(|row| row.as_bytes().to_vec()).collect();
        let invalid = |message: String| {
            Err(EnvError::InvalidConfig(format!(
                "FrozenLake map: {message}"
            )))
        };
        let ncol = map.first().map_or(0, Vec::len);
        if ncol == 0 {
            return invalid("the map is empty; expected rows of the letters S, F, H, G".into());
        }
        if let Some(row) = rows.iter().find(|row| row.len() != ncol) {
            return invalid(format!(
                "row {row:?} has {} cells; expected {ncol} like the first row",
                row.len()
            ));
        }
        if let Some(letter) = rows
            .iter()
            .flat_map(|row| row.chars())
            .find(|c| !"SFHG".contains(*c))
        {
            return invalid(format!(
                "unknown letter {letter:?}; expected one of S, F, H, G"
            ));
        }
        if !map.iter().flatten().any(|&c| c == b'S') {
            return invalid("no start cell 'S'".into());
        }
        let model = Self::build_model(&map, slippery);
        let num_states = model.num_states();
        Ok(FrozenLake {
            id: "FrozenLake-v1",
            map,
            model,
            state: 0,
            status: EpisodeStatus::NotStarted,
            rng: None,
            observation_space: Space::Discrete { n: num_states },
            action_space: Space::Discrete { n: 4 },
        })
    }

    /// Gymnasium's construction of `P`: for each cell and action, the intended move and (when
    /// slippery) the two perpendicular ones, `[(a − 1) mod 4, a, (a + 1) mod 4]`.
    fn build_model(map: &[Vec<u8>], slippery: bool) -> TabularModel {
        let (nrow, ncol) = (map.len(), map[0].len());
        let success_rate = 1.0 / 3.0;
        let fail_rate = (1.0 - success_rate) / 2.0;
        let outcome = |row: usize, col: usize, direction: usize, probability: f64| {
            let (next_row, next_col) = move_in_grid(row, col, direction, nrow, ncol);
            let letter = map[next_row][next_col];
            Transition {
                probability,
                next_state: next_row * ncol + next_col,
                reward: if letter == b'G' { 1.0 } else { 0.0 },
                terminated: letter == b'G' || letter == b'H',
            }
        };
        let mut outcomes = Vec::with_capacity(nrow * ncol * 4);
        for (row, cells) in map.iter().enumerate() {
            for (col, &letter) in cells.iter().enumerate() {
                for a in 0..4 {
                    let s = row * ncol + col;
                    outcomes.push(if matches!(letter, b'G' | b'H') {
                        vec![Transition {
                            probability: 1.0,
                            next_state: s,
                            reward: 0.0,
                            terminated: true,
                        }]
                    } else if slippery {
                        [(a + 3) % 4, a, (a + 1) % 4]
                            .iter()
                            .map(|&b| {
                                outcome(row, col, b, if b == a { success_rate } else { fail_rate })
                            })
                            .collect()
                    } else {
                        vec![outcome(row, col, a, 1.0)]
                    });
                }
            }
        }
        let starts = map.iter().flatten().filter(|&&c| c == b'S').count() as f64;
        let initial = map
            .iter()
            .flatten()
            .map(|&c| if c == b'S' { 1.0 / starts } else { 0.0 })
            .collect();
        TabularModel::new(nrow * ncol, 4, outcomes, initial)
    }

    /// The transition model `P(s', r | s, a)` (Gymnasium's `env.P`).
    ///
    /// ```
    /// use wengert_rl::env::FrozenLake;
    /// let lake = FrozenLake::four_by_four(true);
    /// let outcomes = lake.model().outcomes(0, 1); // down from the start: left, down, right
    /// assert_eq!(outcomes.iter().map(|t| t.next_state).collect::<Vec<_>>(), vec![0, 4, 1]);
    /// ```
    pub fn model(&self) -> &TabularModel {
        &self.model
    }

    /// The letter (`S F H G`) of cell `s`.
    ///
    /// ```
    /// use wengert_rl::env::FrozenLake;
    /// assert_eq!(FrozenLake::four_by_four(false).letter(15), 'G');
    /// ```
    pub fn letter(&self, s: usize) -> char {
        let ncol = self.map[0].len();
        char::from(self.map[s / ncol][s % ncol])
    }

    /// The current cell.
    pub fn state(&self) -> usize {
        self.state
    }
}

impl Env for FrozenLake {
    fn id(&self) -> &str {
        self.id
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
        let action = super::discrete_action(action, &self.action_space, self.id)?;
        self.status.check_running(self.id)?;
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

    #[test]
    fn holes_and_goal_are_absorbing_and_terminal() {
        let lake = FrozenLake::eight_by_eight(true);
        for s in 0..64 {
            if matches!(lake.letter(s), 'H' | 'G') {
                for a in 0..4 {
                    let only = Transition {
                        probability: 1.0,
                        next_state: s,
                        reward: 0.0,
                        terminated: true,
                    };
                    assert_eq!(lake.model().outcomes(s, a), &[only]);
                }
            }
        }
    }

    #[test]
    fn slippery_moves_match_their_probabilities() {
        let mut lake = FrozenLake::from_map("FSF\nFFF", true).unwrap();
        let mut counts = [0_usize; 6];
        lake.reset(Some(1));
        for _ in 0..30_000 {
            lake.reset(None);
            let next = lake.step(Action::Discrete(1)).unwrap().observation[0] as usize;
            counts[next] += 1;
        }
        // down from cell 1: right → 2, down → 4, left → 0, each a third
        for cell in [0, 2, 4] {
            assert!(
                (counts[cell] as f64 / 30_000.0 - 1.0 / 3.0).abs() < 0.015,
                "{counts:?}"
            );
        }
    }

    #[test]
    fn ragged_maps_and_maps_without_start_are_refused() {
        assert!(
            FrozenLake::from_map("SF\nF", true)
                .unwrap_err()
                .to_string()
                .contains("has 1 cells")
        );
        assert!(
            FrozenLake::from_map("FF\nFG", true)
                .unwrap_err()
                .to_string()
                .contains("no start")
        );
    }
}
