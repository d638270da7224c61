//! Running digests: SHA-256 and the row count of a table's COPY text, and
//! SHA-256 of whole streams (stored members, whole artifacts).

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// SHA-256 and row count of a table's COPY text, fed in chunks.
///
/// COPY text escapes newlines inside values, so every `\n` byte ends a row.
#[derive(Debug, Clone, Default)]
pub struct DataDigest {
    hasher: Sha256,
    rows: u64,
    bytes: u64,
}

impl DataDigest {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        self.bytes += chunk.len() as u64;
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The lowercase hex SHA-256 of everything fed so far.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// Bytes written are digested, so `io::copy` can feed a digest.
impl Write for DataDigest {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// A reader that digests the data it passes on: a table's data can be
/// checked while it is copied somewhere else.
#[derive(Debug)]
pub struct Digesting<R> {
    inner: R,
    digest: DataDigest,
}

impl<R: Read> Digesting<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            digest: DataDigest::new(),
        }
    }

    /// The digest of everything read so far.
    pub fn finish(self) -> DataDigest {
        self.digest
    }
}

impl<R: Read> Read for Digesting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.digest.update(&buf[..n]);
        Ok(n)
    }
}

/// Lowercase hex SHA-256 of everything `reader` yields.
pub fn sha256_of(mut reader: impl Read) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut reader, &mut hasher)?;
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sha256_hex(bytes: &[u8]) -> String {
        hex::encode(Sha256::digest(bytes))
    }

    #[test]
    fn counts_rows_across_chunks() {
        let mut d = DataDigest::new();
        d.update(b"1\ta\\nb\n2");
        d.update(b"\tc\n");
        assert_eq!(d.rows(), 2);
        assert_eq!(d.bytes(), 11);
        assert_eq!(d.finish(), sha256_hex(b"1\ta\\nb\n2\tc\n"));
    }

    #[test]
    fn digests_what_passes_through() {
        let text = b"1\tx\n2\ty\n";
        let mut reader = Digesting::new(&text[..]);
        let mut copy = Vec::new();
        io::copy(&mut reader, &mut copy).unwrap();
        assert_eq!(copy, text);
        let mut written = DataDigest::new();
        written.write_all(text).unwrap();
        let (passed, written) = (reader.finish(), written);
        assert_eq!((passed.rows(), passed.bytes()), (2, 8));
        assert_eq!(passed.finish(), written.finish());
        assert_eq!(sha256_of(&text[..]).unwrap(), sha256_hex(text));
    }
}
