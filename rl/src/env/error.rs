//! The error type of the environment contract.

use super::{Action, Space};

/// Everything the environment contract can refuse, each naming what was wrong and what was
/// expected.
#[derive(Clone, Debug, PartialEq)]
pub enum EnvError {
    /// An action outside the action space (a discrete action that does not exist), of the
    /// wrong kind, or of the wrong dimension.
    InvalidAction {
        /// The environment's id.
        id: String,
        /// The action as given.
        action: String,
        /// The action space it should lie in.
        space: String,
    },
    /// `step` on an episode that has finished (or was never started) without a `reset`.
    NeedsReset {
        /// The environment's id.
        id: String,
        /// `true`: the episode terminated or was truncated; `false`: never reset.
        finished: bool,
    },
    /// [`make`](super::make) was given an id it does not know.
    UnknownEnv {
        /// The id asked for.
        id: String,
        /// The ids it knows.
        known: Vec<String>,
    },
    /// A map, configuration or batch that cannot describe an environment.
    InvalidConfig(String),
}

impl EnvError {
    pub(crate) fn invalid_action(id: &str, action: Action<'_>, space: &Space) -> Self {
        EnvError::InvalidAction {
            id: id.to_string(),
            action: action.to_string(),
            space: space.to_string(),
        }
    }
}

impl std::fmt::Display for EnvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvError::InvalidAction { id, action, space } => {
                write!(f, "{id}: {action} is not in the action space {space}")
            }
            EnvError::NeedsReset { id, finished: true } => {
                write!(
                    f,
                    "{id}: step called on a finished episode; call reset first"
                )
            }
            EnvError::NeedsReset {
                id,
                finished: false,
            } => {
                write!(
                    f,
                    "{id}: step called before the first reset; call reset first"
                )
            }
            EnvError::UnknownEnv { id, known } => {
                write!(
                    f,
                    "unknown environment {id:?}; known ids are {}",
                    known.join(", ")
                )
            }
            EnvError::InvalidConfig(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for EnvError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_what_was_wrong_and_what_was_expected() {
        let error = EnvError::invalid_action(
            "CartPole-v1",
            Action::Discrete(7),
            &Space::Discrete { n: 2 },
        );
        assert_eq!(
            error.to_string(),
            "CartPole-v1: discrete action 7 is not in the action space Discrete(2)"
        );
        let error = EnvError::NeedsReset {
            id: "Acrobot-v1".into(),
            finished: true,
        };
        assert!(error.to_string().contains("finished episode"));
    }
}
