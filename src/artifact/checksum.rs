//! Running digests of table data: SHA-256 and the row count of COPY text.

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

/// Lowercase hex SHA-256 of a byte slice.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_rows_across_chunks() {
        let mut d = DataDigest::new();
        d.update(b"1\ta\\nb\n2");
        d.update(b"\tc\n");
        assert_eq!(d.rows(), 2);
        assert_eq!(d.bytes(), 11);
        assert_eq!(d.finish(), sha256_hex(b"1\ta\\nb\n2\tc\n"));
    }
}
