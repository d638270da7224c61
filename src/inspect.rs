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

/// Check structure, every checksum and row count, and the whole file
/// against `sha256` (which must then exist), or else against the `.sha256`
/// sidecar when one sits beside it.
pub fn verify(path: &Path, sha256: Option<&Path>) -> Result<Verified> {
    let reader = ArtifactReader::open(path)?;
    let checks = reader.check_members(true, |_| {})?;
    let sidecar = match sha256 {
        Some(file) => {
            let text =
                std::fs::read_to_string(file).map_err(|source| ArtifactError::Unreadable {
                    path: file.display().to_string(),
                    source,
                })?;
            check_sidecar(path, file, &text)?;
            Some(file.to_path_buf())
        }
        None => {
            let mut name = path.as_os_str().to_owned();
            name.push(".sha256");
            let beside = PathBuf::from(name);
            match std::fs::read_to_string(&beside) {
                Ok(text) => {
                    check_sidecar(path, &beside, &text)?;
                    Some(beside)
                }
                Err(_) => None,
            }
        }
    };
    Ok(Verified {
        reader,
        checks,
        sidecar,
    })
}

/// Compare the whole file with the first hash in a sha256sum-style `text`.
fn check_sidecar(path: &Path, sidecar: &Path, text: &str) -> Result<(), ArtifactError> {
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
        return Err(ArtifactError::Damaged(format!(
            "the whole file does not match {}: expected {expected}, found {actual}",
            sidecar.display()
        )));
    }
    Ok(())
}
