//! How table data is compressed: the `--compress` setting, and the method
//! the manifest records so that a reader knows how to expand each member.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A compression method and level, as `--compress` spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    Zstd(i32),
    Gzip(u32),
    None,
}

impl Compression {
    /// zstd's level when `--compress zstd` names none: chosen by the
    /// 1M-row benchmark (see the README's Performance section).
    pub const ZSTD_DEFAULT_LEVEL: i32 = 2;
    /// gzip's level when `--compress gzip` names none: 1.5 times faster
    /// than 6 for about 10% more bytes.
    pub const GZIP_DEFAULT_LEVEL: u32 = 4;
    /// zstd's ordinary levels; 20 to 22 need windows far beyond a block.
    const ZSTD_LEVELS: std::ops::RangeInclusive<i32> = 1..=19;
    const GZIP_LEVELS: std::ops::RangeInclusive<u32> = 0..=9;

    pub fn method(self) -> Method {
        match self {
            Self::Zstd(_) => Method::Zstd,
            Self::Gzip(_) => Method::Gzip,
            Self::None => Method::None,
        }
    }
}

impl Default for Compression {
    fn default() -> Self {
        Self::Zstd(Self::ZSTD_DEFAULT_LEVEL)
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Zstd(level) => write!(f, "zstd:{level}"),
            Self::Gzip(level) => write!(f, "gzip:{level}"),
            Self::None => f.write_str("none"),
        }
    }
}

impl FromStr for Compression {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wrong = || format!("{text:?} is not zstd[:1-19], gzip[:0-9] or none");
        let (method, level) = match text.split_once(':') {
            Some((method, level)) => (method, Some(level)),
            None => (text, None),
        };
        match (method, level) {
            ("none", None) => Ok(Self::None),
            ("zstd", None) => Ok(Self::Zstd(Self::ZSTD_DEFAULT_LEVEL)),
            ("gzip", None) => Ok(Self::Gzip(Self::GZIP_DEFAULT_LEVEL)),
            ("zstd", Some(level)) => level
                .parse()
                .ok()
                .filter(|l| Self::ZSTD_LEVELS.contains(l))
                .map(Self::Zstd)
                .ok_or_else(wrong),
            ("gzip", Some(level)) => level
                .parse()
                .ok()
                .filter(|l| Self::GZIP_LEVELS.contains(l))
                .map(Self::Gzip)
                .ok_or_else(wrong),
            _ => Err(wrong()),
        }
    }
}

/// The method an artifact's data members are stored with. Artifacts from
/// before zstd carry no such field: they are gzip.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Zstd,
    #[default]
    Gzip,
    None,
}

impl Method {
    /// The ending of a compressed member's name, so `tar -x` leaves files
    /// that `zstd -d` or `gunzip` take as they are.
    pub fn extension(self) -> &'static str {
        match self {
            Self::Zstd => ".zst",
            Self::Gzip => ".gz",
            Self::None => "",
        }
    }

    /// The manifest format version that can describe this method: gzip
    /// artifacts stay at 1, which seedpack releases before zstd read.
    pub fn format_version(self) -> u32 {
        match self {
            Self::Gzip => 1,
            Self::Zstd | Self::None => 2,
        }
    }

    /// As `--compress` and the manifest spell it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Zstd => "zstd",
            Self::Gzip => "gzip",
            Self::None => "none",
        }
    }

    pub fn is_gzip(&self) -> bool {
        *self == Self::Gzip
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_methods_and_levels() {
        assert_eq!("zstd".parse(), Ok(Compression::Zstd(2)));
        assert_eq!("zstd:19".parse(), Ok(Compression::Zstd(19)));
        assert_eq!("gzip".parse(), Ok(Compression::Gzip(4)));
        assert_eq!("gzip:0".parse(), Ok(Compression::Gzip(0)));
        assert_eq!("none".parse(), Ok(Compression::None));
        for bad in [
            "zstd:0", "zstd:20", "gzip:10", "gzip:-1", "lz4", "none:1", "zstd:", "",
        ] {
            assert!(bad.parse::<Compression>().is_err(), "{bad}");
        }
    }

    #[test]
    fn display_parses_back() {
        for c in [
            Compression::Zstd(7),
            Compression::Gzip(9),
            Compression::None,
        ] {
            assert_eq!(c.to_string().parse(), Ok(c));
        }
    }
}
