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
//!
//! What decides the future — the cell `s`, whether the episode is running and the generator
//! that draws the start cell and the slips — is saved like a classic-control environment's
//! state ([`Env::save_state`]), with `s` as the one real.

use super::{
    Action, Env, EnvError, EnvRng, EnvState, EpisodeStatus, Feedback, Space, TabularModel,
    Transition, load_classic, save_classic,
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

/// The state of a tabular environment in cell `s` ([`save_classic`] with `s` as its one real).
pub(crate) fn save_cell(s: usize, status: EpisodeStatus, rng: &Option<EnvRng>) -> EnvState {
    save_classic(&[s as f64], status, rng, &[])
}

/// Restores what [`save_cell`] saved. A cell that is not one of the `num_states` cells is an
/// error, and on any error nothing changes.
pub(crate) fn load_cell(
    id: &str,
    saved: &EnvState,
    num_states: usize,
    s: &mut usize,
    status: &mut EpisodeStatus,
    rng: &mut Option<EnvRng>,
) -> Result<(), EnvError> {
    let (mut cell, mut saved_status, mut saved_rng) = ([0.0], *status, None);
    load_classic(
        id,
        saved,
        &mut cell,
        &mut saved_status,
        &mut saved_rng,
        &mut [],
    )?;
    let [cell] = cell;
    if !(cell >= 0.0 && cell < num_states as f64 && cell.fract() == 0.0) {
        return Err(EnvError::InvalidConfig(format!(
            "a saved state of {id} is in cell {cell}, expected one of the cells 0 to {}",
            num_states - 1
        )));
    }
    (*s, *status, *rng) = (cell as usize, saved_status, saved_rng);
    Ok(())
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

    /// The cell `s` as the one real; the episode status and the generator's words.
    fn save_state(&self) -> Option<EnvState> {
        Some(save_cell(self.state, self.status, &self.rng))
    }

    fn load_state(&mut self, saved: &EnvState) -> Result<(), EnvError> {
        load_cell(
            self.id,
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

/// Steps `env` and `copy` with the same actions (drawn from a fixed seed) for `steps` steps,
/// resetting both without a seed whenever an episode ends, and checks that every observation,
/// reward, flag and error agrees. Returns the number of episodes that ended.
#[cfg(test)]
pub(crate) fn assert_continues_alike(env: &mut dyn Env, copy: &mut dyn Env, steps: usize) -> usize {
    use rand::{RngExt, SeedableRng};
    let Space::Discrete { n } = *env.action_space() else {
        panic!("a discrete action space")
    };
    let mut actions = EnvRng::seed_from_u64(99);
    let mut episodes = 0;
    for t in 0..steps {
        let action = Action::Discrete(actions.random_range(0..n));
        let (a, b) = (env.step(action), copy.step(action));
        assert_eq!(a, b, "step {t}");
        if !matches!(a, Ok(ref step) if !step.done()) {
            episodes += 1;
            assert_eq!(env.reset(None), copy.reset(None), "reset after step {t}");
        }
    }
    episodes
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{TimeLimit, VectorActions, VectorEnv, make};
    use crate::snapshot::TrainingState;

    #[test]
    fn a_restored_slippery_lake_continues_bit_for_bit() {
        for id in ["FrozenLake-v1", "FrozenLake8x8-v1"] {
            let mut env = make(id).unwrap();
            env.reset(Some(5));
            // Save mid-episode, after some slips have moved the generator.
            let mut steps = 0;
            while steps < 3 {
                if env.step(Action::Discrete(2)).unwrap().done() {
                    env.reset(None);
                }
                steps += 1;
            }
            let saved = env.save_state().unwrap();
            let mut copy = make(id).unwrap();
            copy.reset(Some(1234)); // a different cell and generator, overwritten below
            copy.load_state(&saved).unwrap();
            assert_eq!(copy.save_state().unwrap(), saved);
            let episodes = assert_continues_alike(&mut env, &mut copy, 5000);
            assert!(episodes > 50, "{id}: only {episodes} episodes");
        }
    }

    #[test]
    fn a_lake_saved_as_its_episode_ends_draws_the_same_next_start_and_slips() {
        let mut env = TimeLimit::new(FrozenLake::from_map("SFF\nSHG", true).unwrap(), 20);
        env.reset(Some(8));
        while !env.step(Action::Discrete(1)).unwrap().done() {}
        let saved = env.save_state().unwrap();
        let mut copy = TimeLimit::new(FrozenLake::from_map("SFF\nSHG", true).unwrap(), 20);
        copy.load_state(&saved).unwrap();
        assert!(matches!(
            copy.step(Action::Discrete(0)),
            Err(EnvError::NeedsReset { finished: true, .. })
        ));
        assert_eq!(env.reset(None), copy.reset(None)); // two start cells: the generator decides
        assert!(assert_continues_alike(&mut env, &mut copy, 2000) > 100);
    }

    #[test]
    fn a_lake_saved_before_its_first_reset_still_needs_one() {
        let saved = FrozenLake::four_by_four(true).save_state().unwrap();
        let mut copy = FrozenLake::four_by_four(true);
        copy.reset(Some(0));
        copy.load_state(&saved).unwrap();
        assert!(matches!(
            copy.step(Action::Discrete(0)),
            Err(EnvError::NeedsReset {
                finished: false,
                ..
            })
        ));
    }

    #[test]
    fn a_damaged_state_is_an_error_and_changes_nothing() {
        let mut env = FrozenLake::four_by_four(true);
        env.reset(Some(3));
        let saved = env.save_state().unwrap();
        let mut copy = FrozenLake::four_by_four(true);
        copy.reset(Some(4));
        let before = copy.save_state().unwrap();
        for (reals, problem) in [(vec![16.0], "cell 16"), (vec![2.5], "cell 2.5")] {
            let damaged = EnvState {
                reals,
                ..saved.clone()
            };
            let message = copy.load_state(&damaged).unwrap_err().to_string();
            assert!(
                message.contains(problem) && message.contains("0 to 15"),
                "{message}"
            );
        }
        let short = EnvState {
            words: saved.words[..5].to_vec(),
            ..saved
        };
        let message = copy.load_state(&short).unwrap_err().to_string();
        assert!(message.contains("5 words, expected 1 and 6"), "{message}");
        assert_eq!(copy.save_state().unwrap(), before);
    }

    #[test]
    fn a_damaged_vector_env_entry_is_named() {
        let lakes = || (0..2).map(|_| make("FrozenLake-v1").unwrap()).collect();
        let mut envs = VectorEnv::new(lakes(), 1).unwrap();
        envs.reset(Some(0));
        envs.step(VectorActions::Discrete(&[1, 2])).unwrap();
        let mut state = TrainingState::new("q_learning", "FrozenLake-v1", "");
        state.save("envs", &envs);
        let mut restored = VectorEnv::new(lakes(), 1).unwrap();
        state.load("envs", &mut restored).unwrap();
        let (a, b) = (
            envs.step(VectorActions::Discrete(&[3, 0])).unwrap(),
            restored.step(VectorActions::Discrete(&[3, 0])).unwrap(),
        );
        assert_eq!(a, b);
        state.put_u64("envs.1.words", vec![1, 0, 0]);
        let error = state.load("envs", &mut restored).unwrap_err();
        assert_eq!(error.entry, "envs.1.words");
        assert!(error.to_string().contains("FrozenLake-v1"), "{error}");
    }

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
