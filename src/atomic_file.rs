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
        let temporary = tempfile::Builder::new()
            .prefix(".seedpack-")
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

    /// Make the file durable and move it to its final path. Returns that path.
    pub fn commit(self) -> Result<PathBuf> {
        self.temporary
            .as_file()
            .sync_all()
            .with_context(|| format!("cannot sync {}", self.path.display()))?;
        self.temporary
            .persist(&self.path)
            .with_context(|| format!("cannot rename a file into {}", self.path.display()))?;
        let dir = parent_dir(&self.path);
        File::open(dir)
            .and_then(|d| d.sync_all())
            .with_context(|| format!("cannot sync directory {}", dir.display()))?;
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
}
