//! `seedpack verify`: an artifact's structure, every checksum and row
//! count, and the whole file against its sidecar, without a database.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::artifact::{sha256_of, ArtifactError, ArtifactReader, MemberCheck};

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
    let checks = reader.check_members(true)?;
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
    let unreadable = |source| ArtifactError::Unreadable {
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let actual = sha256_of(file).map_err(unreadable)?;
    if actual != expected {
        return Err(ArtifactError::Damaged(format!(
            "the whole file does not match {}: expected {expected}, found {actual}",
            sidecar.display()
        )));
    }
    Ok(())
}
