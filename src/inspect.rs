//! `seedpack verify` and `seedpack inspect`: reading an artifact without a database.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Result;
use sha2::{Digest, Sha256};

use crate::artifact::{ArtifactError, ArtifactReader, MemberCheck};

/// The outcome of a full verification.
#[derive(Debug)]
pub struct Verified {
    pub reader: ArtifactReader,
    pub checks: Vec<MemberCheck>,
    /// The sidecar that was checked, when one sits beside the artifact.
    pub sidecar: Option<PathBuf>,
}

/// Check structure, every checksum and row count, and the `.sha256`
/// sidecar when present.
pub fn verify(path: &Path) -> Result<Verified> {
    let reader = ArtifactReader::open(path)?;
    let checks = reader.check_members(true, |_| {})?;
    let sidecar = check_sidecar(path)?;
    Ok(Verified {
        reader,
        checks,
        sidecar,
    })
}

/// Compare the whole file with `<path>.sha256`, when it exists.
fn check_sidecar(path: &Path) -> Result<Option<PathBuf>, ArtifactError> {
    let mut name = path.as_os_str().to_owned();
    name.push(".sha256");
    let sidecar = PathBuf::from(name);
    let Ok(text) = std::fs::read_to_string(&sidecar) else {
        return Ok(None);
    };
    let expected = text
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut hasher = Sha256::new();
    let mut file = std::fs::File::open(path).map_err(|source| ArtifactError::Unreadable {
        path: path.display().to_string(),
        source,
    })?;
    let mut buf = vec![0; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|source| ArtifactError::Unreadable {
                path: path.display().to_string(),
                source,
            })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let actual = hex::encode(hasher.finalize());
    if actual != expected {
        return Err(ArtifactError::ChecksumMismatch {
            table: "(whole file)".into(),
            what: "the .sha256 sidecar",
            expected,
            actual,
        });
    }
    Ok(Some(sidecar))
}
