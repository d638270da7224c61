//! Files that appear whole or not at all: written under a temporary name in
//! their directory, fsynced, renamed over the final name, and the directory
//! fsynced so the rename survives a crash. Dropped before `commit`, the
//! temporary file is deleted and nothing appears under the final name.
//! The file's mode is 0666 less the process's umask, as `pg_dump`'s is.

use std::fs::File;
use std::io::{self, BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use tempfile::NamedTempFile;

/// A file being written that will appear at its final path on `commit`.
#[derive(Debug)]
pub struct AtomicFile {
    temporary: NamedTempFile,
    path: PathBuf,
}

impl AtomicFile {
    /// Start writing what will become `path`, creating its directory.
    pub fn create(path: &Path) -> Result<Self> {
        let dir = parent_dir(path);
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create directory {}", dir.display()))?;
        // Created 0666 less the umask, as pg_dump's files are (and as a
        // container's other user may need to read them), not tempfile's 0600.
        remove_stale(dir);
        let prefix = format!("{STALE_PREFIX}{}-", std::process::id());
        let temporary = tempfile::Builder::new()
            .prefix(&prefix)
            .suffix(".partial")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .with_context(|| format!("cannot create a file in {}", dir.display()))?;
        Ok(Self {
            temporary,
            path: path.to_path_buf(),
        })
    }

    /// The final path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Where the bytes are until `commit`.
    pub fn temporary_path(&self) -> &Path {
        self.temporary.path()
    }

    /// Make the file durable and move it to its final path. Returns that path.
    pub fn commit(self) -> Result<PathBuf> {
        let path = self.rename()?;
        sync_dir(&path)?;
        Ok(path)
    }

    /// Commit this file and `companion` together (an artifact and its
    /// checksum sidecar): both appear, or neither does. Returns both paths.
    pub fn commit_with(self, companion: AtomicFile) -> Result<(PathBuf, PathBuf)> {
        companion
            .temporary
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot sync {}", companion.path.display()))?;
        let path = self.rename()?;
        match companion.rename() {
            Ok(companion) => {
                sync_dir(&path)?;
                Ok((path, companion))
            }
            Err(e) => {
                let _ = std::fs::remove_file(&path);
                Err(e)
            }
        }
    }

    fn rename(self) -> Result<PathBuf> {
        self.temporary
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot sync {}", self.path.display()))?;
        self.temporary
            .persist(&self.path)
            .map_err(|e| e.error)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(self.path)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.temporary.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.temporary.flush()
    }
}

impl Seek for AtomicFile {
    fn seek(&mut self, position: SeekFrom) -> io::Result<u64> {
        self.temporary.seek(position)
    }
}

/// How temporary files start: `.seedpack-PID-`, so that the next run can
/// tell those of a process that died (SIGKILL leaves them behind).
const STALE_PREFIX: &str = ".seedpack-";

/// Remove temporary files in `dir` left by seedpack processes that no
/// longer run. Best effort: a file another user's process left is theirs.
fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.strip_prefix(STALE_PREFIX))
            .filter(|n| n.ends_with(".partial"))
            .and_then(|n| n.split('-').next())
            .and_then(|pid| pid.parse::<i32>().ok())
        else {
            continue;
        };
        // Alive, or someone else's (EPERM): left alone.
        let alive = rustix::process::Pid::from_raw(pid).is_some_and(|pid| {
            !matches!(
                rustix::process::test_kill_process(pid),
                Err(rustix::io::Errno::SRCH)
            )
        });
        if !alive {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Write `path` through `write` (buffered), atomically. Returns the path.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&mut AtomicFile>) -> Result<()>,
) -> Result<PathBuf> {
    let mut file = AtomicFile::create(path)?;
    let mut buffered = BufWriter::new(&mut file);
    write(&mut buffered)?;
    buffered
        .flush()
        .with_context(|| format!("cannot write {}", path.display()))?;
    drop(buffered);
    file.commit()
}

/// Make a rename into `path`'s directory durable.
fn sync_dir(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    File::open(dir)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("cannot sync directory {}", dir.display()))
}

/// The directory a path's file lives in; `.` for a bare file name.
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_appears_only_when_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.txt");
        let written = write_atomically(&path, |out| Ok(out.write_all(b"whole")?)).unwrap();
        assert_eq!(std::fs::read(&written).unwrap(), b"whole");

        let failed = write_atomically(&path.with_file_name("failed.txt"), |out| {
            out.write_all(b"half")?;
            anyhow::bail!("stopped halfway")
        });
        assert!(failed.is_err());
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.txt")]);
    }

    #[test]
    fn a_pair_appears_together_or_not_at_all() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a");
        let mut one = AtomicFile::create(&first).unwrap();
        one.write_all(b"1").unwrap();
        let mut two = AtomicFile::create(&dir.path().join("b")).unwrap();
        two.write_all(b"2").unwrap();
        let (a, b) = one.commit_with(two).unwrap();
        assert_eq!(
            (std::fs::read(a).unwrap(), std::fs::read(b).unwrap()),
            (b"1".to_vec(), b"2".to_vec())
        );

        std::fs::create_dir(dir.path().join("blocked")).unwrap();
        let one = AtomicFile::create(&dir.path().join("c")).unwrap();
        let two = AtomicFile::create(&dir.path().join("blocked")).unwrap();
        assert!(one.commit_with(two).is_err());
        assert!(!dir.path().join("c").exists());
    }
}
