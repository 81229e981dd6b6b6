//! # Configurations as data
//!
//! Every algorithm's hyperparameters are one `serde` struct. Its defaults and its tuned
//! settings per environment live in a TOML file, `rl/presets/<algorithm>.toml`, in the manner
//! of the RL Baselines3 Zoo's hyperparameter files, embedded in the binary:
//!
//! ```toml
//! [defaults]            # every setting, with the algorithm's published defaults
//! total_timesteps = 500000
//! gamma = 0.99
//!
//! [CartPole-v1]         # what the tuned preset changes, and where it comes from
//! total_timesteps = 100000
//! ```
//!
//! A configuration is resolved as `defaults ← preset[env] ← overrides` (later ones win), and a
//! resolved configuration is checked in one place, [`validate`]: every numeric setting has a
//! declared valid [`Range`] ([`Config::RANGES`]), and [`Config::check_relations`] checks what
//! ties settings together (a batch that splits into minibatches, say). A configuration is saved
//! as TOML ([`to_toml`]) and read back ([`from_toml`]); two are compared as data ([`differences`]).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

/// The valid values of a numeric setting: an interval, each end open or closed.
///
/// ```
/// use wengert_rl::common::config::Range;
/// let gamma = Range::closed(0.0, 1.0);
/// assert!(gamma.contains(0.99) && !gamma.contains(1.5) && !gamma.contains(f64::NAN));
/// assert_eq!(gamma.to_string(), "[0, 1]");
/// assert_eq!(Range::positive().to_string(), "(0, ∞)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The lower end.
    pub min: f64,
    /// Whether `min` itself is valid.
    pub min_inclusive: bool,
    /// The upper end (may be `∞`).
    pub max: f64,
    /// Whether `max` itself is valid.
    pub max_inclusive: bool,
}

impl Range {
    /// `[min, max]`.
    pub const fn closed(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: true,
            max,
            max_inclusive: true,
        }
    }

    /// `(min, max]`.
    pub const fn left_open(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: false,
            max,
            max_inclusive: true,
        }
    }

    /// `[min, max)`.
    pub const fn right_open(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: true,
            max,
            max_inclusive: false,
        }
    }

    /// `(min, max)`.
    pub const fn open(min: f64, max: f64) -> Self {
        Range {
            min,
            min_inclusive: false,
            max,
            max_inclusive: false,
        }
    }

    /// `(0, ∞)`: learning rates, clip thresholds, coefficients that must not vanish.
    pub const fn positive() -> Self {
        Range::open(0.0, f64::INFINITY)
    }

    /// `[0, ∞)`, finite: coefficients that may be switched off with 0.
    pub const fn non_negative() -> Self {
        Range::right_open(0.0, f64::INFINITY)
    }

    /// `[min, ∞)` for counts: sizes, steps, intervals.
    pub const fn at_least(min: f64) -> Self {
        Range::right_open(min, f64::INFINITY)
    }

    /// `[0, 1]`: probabilities, discounts, interpolation factors.
    pub const fn unit() -> Self {
        Range::closed(0.0, 1.0)
    }

    /// Every finite number.
    pub const fn finite() -> Self {
        Range::open(f64::NEG_INFINITY, f64::INFINITY)
    }

    /// Values a user might type that are outside the range: NaN always; ±∞, −1 and 0 where
    /// outside it; and just past each finite end (the end itself where it is open). What the
    /// validation tests feed every setting.
    ///
    /// ```
    /// use wengert_rl::common::config::Range;
    /// let outside = Range::unit().outside();
    /// assert!(outside[0].is_nan());
    /// assert_eq!(&outside[1..], &[f64::INFINITY, f64::NEG_INFINITY, -1.0, 2.0]);
    /// ```
    pub fn outside(&self) -> Vec<f64> {
        let below = if self.min_inclusive {
            self.min - 1.0
        } else {
            self.min
        };
        let above = if self.max_inclusive {
            self.max + 1.0
        } else {
            self.max
        };
        let mut values = vec![f64::NAN];
        for x in [f64::INFINITY, f64::NEG_INFINITY, -1.0, 0.0, below, above] {
            if !self.contains(x) && !values.contains(&x) {
                values.push(x);
            }
        }
        values
    }

    /// Whether `x` is in the range (NaN never is).
    pub fn contains(&self, x: f64) -> bool {
        let above = if self.min_inclusive {
            x >= self.min
        } else {
            x > self.min
        };
        let below = if self.max_inclusive {
            x <= self.max
        } else {
            x < self.max
        };
        above && below
    }
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = |x: f64| {
            if x == f64::INFINITY {
                "∞".to_string()
            } else if x == f64::NEG_INFINITY {
                "−∞".to_string()
            } else {
                format!("{x}")
            }
        };
        write!(
            f,
            "{}{}, {}{}",
            if self.min_inclusive { "[" } else { "(" },
            end(self.min),
            end(self.max),
            if self.max_inclusive { "]" } else { ")" }
        )
    }
}

/// The range of RMSprop's smoothing constant `α` of the squared-gradient average, `[0, 1)`
/// (`α = 1` would never move the average off 0), for every configuration with an
/// `rmsprop_alpha`.
///
/// ```
/// use wengert_rl::common::config::RMSPROP_ALPHA;
/// let (key, range) = RMSPROP_ALPHA;
/// assert_eq!((key, range.to_string()), ("rmsprop_alpha", "[0, 1)".to_string()));
/// ```
pub const RMSPROP_ALPHA: (&str, Range) = ("rmsprop_alpha", Range::right_open(0.0, 1.0));

/// The `N` ranges of `lists`, one list after another: the [`Config::RANGES`] of a configuration
/// that flattens in a shared piece (`#[serde(flatten)]`, e.g.
/// [`EpsilonGreedyConfig`](crate::common::off_policy::EpsilonGreedyConfig)) besides its own
/// settings. `N` must be their total count; another is refused when the constant is compiled.
///
/// ```
/// use wengert_rl::common::config::{Range, ranges};
/// const OWN: &[(&str, Range)] = &[("gamma", Range::unit()), ("seed", Range::at_least(0.0))];
/// const PIECE: &[(&str, Range)] = &[("tau", Range::left_open(0.0, 1.0))];
/// const ALL: [(&str, Range); 3] = ranges(&[OWN, PIECE]);
/// assert_eq!(ALL.map(|(key, _)| key), ["gamma", "seed", "tau"]);
/// ```
pub const fn ranges<const N: usize>(
    lists: &[&[(&'static str, Range)]],
) -> [(&'static str, Range); N] {
    let mut all = [("", Range::finite()); N];
    let (mut list, mut filled) = (0, 0);
    while list < lists.len() {
        let mut k = 0;
        while k < lists[list].len() {
            assert!(filled < N, "ranges: the lists hold more than N ranges");
            all[filled] = lists[list][k];
            (filled, k) = (filled + 1, k + 1);
        }
        list += 1;
    }
    assert!(filled == N, "ranges: the lists hold fewer than N ranges");
    all
}

/// An algorithm's configuration: a `serde` struct whose every numeric setting has a range.
pub trait Config: Serialize + DeserializeOwned + Clone + fmt::Debug + PartialEq + Send {
    /// The valid range of every numeric setting, by name. [`validate`] enforces them, and a
    /// test checks that no numeric setting is missing from the list.
    const RANGES: &'static [(&'static str, Range)];

    /// What ties settings together, checked after the ranges (e.g. a batch that splits into
    /// minibatches); the message names the settings.
    fn check_relations(&self) -> Result<(), String> {
        Ok(())
    }
}

/// The configuration `defaults ← preset[env_id]` from a presets file's text.
///
/// An environment without a table of its own gets the defaults. A preset that does not parse,
/// or names a setting the configuration does not have, is an error naming it.
pub fn preset<C: Config>(presets: &str, env_id: &str) -> Result<C, String> {
    let file: Table =
        toml::from_str(presets).map_err(|e| format!("the presets file does not parse: {e}"))?;
    let mut table = match file.get("defaults") {
        Some(Value::Table(defaults)) => defaults.clone(),
        _ => return Err("the presets file has no [defaults] table".into()),
    };
    if let Some(Value::Table(tuned)) = file.get(env_id) {
        for (key, value) in tuned {
            table.insert(key.clone(), value.clone());
        }
    }
    from_table(table).map_err(|e| format!("the preset for {env_id}: {e}"))
}

/// Sets `key` of `config` from command-line text (`--set key=value`).
///
/// The text is read as a TOML value of the setting's type: `0.99`, `1e-3`, `nan`, `inf`, `true`,
/// `[64, 64]` (or `64,64`), `relu`; `none` switches an optional setting off. An unknown key, or
/// text that is not of the setting's type, is an error naming the setting and what it expects.
/// Ranges are checked afterwards, once every setting is in, by [`validate`].
///
/// ```
/// use wengert_rl::algorithms::ppo::PpoConfig;
/// use wengert_rl::common::config::set;
/// let mut config: PpoConfig = wengert_rl::algorithms::preset("ppo", "CartPole-v1").unwrap();
/// set(&mut config, "hidden", "32,32").unwrap();
/// assert_eq!(config.hidden, vec![32, 32]);
/// assert!(set(&mut config, "gama", "0.9").unwrap_err().contains("gamma"));
/// assert!(set(&mut config, "gamma", "high").unwrap_err().contains("`gamma`"));
/// ```
pub fn set<C: Config>(config: &mut C, key: &str, text: &str) -> Result<(), String> {
    let mut table = to_table(config);
    let text = text.trim();
    let known = table.contains_key(key) || C::RANGES.iter().any(|(k, _)| *k == key);
    if !known {
        // Ask serde whether the field exists (an optional setting that is off is absent).
        let mut probe = table.clone();
        probe.insert(key.to_string(), parse_value(text));
        if let Err(e) = from_table::<C>(probe)
            && e.contains("unknown field")
        {
            return Err(format!(
                "unknown setting `{key}`; valid settings: {}",
                setting_names(config).join(", ")
            ));
        }
    }
    if text == "none" {
        table.remove(key);
    } else {
        let value = match table.get(key) {
            Some(Value::Array(_)) if !text.starts_with('[') => parse_value(&format!("[{text}]")),
            Some(Value::String(_)) => Value::String(text.to_string()),
            _ => parse_value(text),
        };
        table.insert(key.to_string(), value);
    }
    *config = from_table(table).map_err(|e| {
        let expects = C::RANGES
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, range)| format!("a number in {range}"))
            .unwrap_or_else(|| describe(&to_table(config), key));
        format!("`{key}` expects {expects}, found `{text}` ({e})")
    })?;
    Ok(())
}

/// Every setting's name, in the configuration's order (optional ones that are off included).
pub fn setting_names<C: Config>(config: &C) -> Vec<String> {
    let mut names: Vec<String> = to_table(config).keys().cloned().collect();
    for (key, _) in C::RANGES {
        if !names.iter().any(|n| n == key) {
            names.push(key.to_string());
        }
    }
    names
}

/// What a setting's current value says it expects.
fn describe(table: &Table, key: &str) -> String {
    match table.get(key) {
        Some(Value::Boolean(_)) => "true or false".into(),
        Some(Value::Array(_)) => "a list, e.g. 64,64".into(),
        Some(Value::Integer(_)) => "a non-negative integer".into(),
        Some(Value::Float(_)) => "a number".into(),
        Some(Value::String(s)) => format!("a name like `{s}`"),
        _ => "a value of its type".into(),
    }
}

/// A TOML value from text, or the text as a string when it is not one (`relu`, `normal:0.1`).
fn parse_value(text: &str) -> Value {
    let wrapped = format!("v = {text}");
    match toml::from_str::<Table>(&wrapped) {
        Ok(mut table) => table.remove("v").expect("the key just written"),
        Err(_) => Value::String(text.to_string()),
    }
}

/// Checks a resolved configuration: every numeric setting within its [`Range`], then the
/// relations between settings. The error names the setting, its value and its valid range.
pub fn validate<C: Config>(config: &C) -> Result<(), String> {
    let table = to_table(config);
    for (key, range) in C::RANGES {
        let value = match table.get(*key) {
            Some(Value::Float(x)) => *x,
            Some(Value::Integer(x)) => *x as f64,
            Some(Value::Array(items)) => {
                for item in items {
                    let x = match item {
                        Value::Integer(x) => *x as f64,
                        Value::Float(x) => *x,
                        _ => continue,
                    };
                    if !range.contains(x) {
                        return Err(format!(
                            "`{key}` has the entry {x}, out of range: each entry must be in {range}"
                        ));
                    }
                }
                continue;
            }
            _ => continue, // an optional setting that is off
        };
        if !range.contains(value) {
            return Err(format!(
                "`{key}` = {value} is out of range: expected a number in {range}"
            ));
        }
    }
    config.check_relations()
}

/// The configuration as a TOML document.
pub fn to_toml<C: Config>(config: &C) -> String {
    toml::to_string(config).expect("a configuration serialises to TOML")
}

/// A configuration from a TOML document (as [`to_toml`] writes it); unknown settings are errors.
pub fn from_toml<C: Config>(text: &str) -> Result<C, String> {
    let table: Table = toml::from_str(text).map_err(|e| e.to_string())?;
    from_table(table)
}

/// The settings in which two TOML configurations differ, as `key: saved → now` lines; empty
/// when they are the same configuration.
pub fn differences(saved: &str, now: &str) -> Result<Vec<String>, String> {
    let parse = |text: &str| toml::from_str::<Table>(text).map_err(|e| e.to_string());
    let (saved, now) = (parse(saved)?, parse(now)?);
    let mut keys: Vec<&String> = saved.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    let show = |v: Option<&Value>| v.map_or("(unset)".to_string(), |v| v.to_string());
    Ok(keys
        .into_iter()
        .filter(|k| saved.get(*k) != now.get(*k))
        .map(|k| {
            format!(
                "`{k}`: saved {}, now {}",
                show(saved.get(k)),
                show(now.get(k))
            )
        })
        .collect())
}

fn to_table<C: Config>(config: &C) -> Table {
    Table::try_from(config).expect("a configuration serialises to a TOML table")
}

fn from_table<C: Config>(table: Table) -> Result<C, String> {
    Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| e.message().to_string())
}
