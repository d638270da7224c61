//! How a restore treats the rows a target already has, and what a check
//! asks of them: the choices the command line, the engines and the history
//! all speak of.

use serde::{Deserialize, Serialize};

/// How a restore treats rows the target already has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Empty each table and load the artifact's rows
    Replace,
    /// Insert new rows, update rows whose key exists, leave other rows alone
    Upsert,
    /// Insert only rows whose key is absent; update nothing
    InsertMissing,
}

impl Mode {
    /// As the command line and the history spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Replace => "replace",
            Self::Upsert => "upsert",
            Self::InsertMissing => "insert-missing",
        }
    }
}

impl std::str::FromStr for Mode {
    type Err = String;

    /// As [`Mode::as_str`] spells it (the history stores that spelling).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [Self::Replace, Self::Upsert, Self::InsertMissing]
            .into_iter()
            .find(|m| m.as_str() == text)
            .ok_or_else(|| format!("unknown restore mode {text:?}"))
    }
}

impl std::fmt::Display for Mode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `seedpack check` asks of a database's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CheckMode {
    /// Each table holds exactly the artifact's rows: after a replace
    Exact,
    /// Each table holds every artifact row, equal under its key, and may
    /// hold rows of its own: after an upsert or insert-missing
    Contains,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_round_trip() {
        for mode in [Mode::Replace, Mode::Upsert, Mode::InsertMissing] {
            assert_eq!(mode.as_str().parse::<Mode>(), Ok(mode));
            assert_eq!(serde_json::to_value(mode).unwrap(), mode.as_str());
        }
        assert!("merge".parse::<Mode>().is_err());
    }
}
