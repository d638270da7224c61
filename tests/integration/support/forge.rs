//! Forging artifacts: rewrite an artifact's members and manifest, then make
//! every checksum and the content id consistent again, so that only the
//! checks made while reading the data (or against the database) can catch
//! what was changed.

use std::path::Path;

use seedpack::artifact::{content_id, Manifest, Method};
use sha2::{Digest, Sha256};

/// An artifact's data members, in order, as (name, bytes).
pub type Members = Vec<(String, Vec<u8>)>;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The members of an artifact, in order, as (name, bytes).
pub fn members(path: &Path) -> Members {
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|entry| {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().to_string_lossy().into_owned();
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

/// Rewrite `original` into `out`: `edit` may change the manifest and the
/// data (and statistics) members; the member checksums and sizes in the
/// manifest, its content id and `manifest.sha256` are then recomputed.
pub fn forge(
    original: &Path,
    out: &Path,
    edit: impl FnOnce(&mut Manifest, &mut Vec<(String, Vec<u8>)>),
) {
    let mut data: Vec<(String, Vec<u8>)> = members(original);
    let manifest_bytes = data
        .iter()
        .find(|(n, _)| n == "manifest.json")
        .unwrap()
        .1
        .clone();
    data.retain(|(n, _)| n.starts_with("data/") || n.starts_with("statistics."));
    let mut manifest: Manifest = serde_json::from_slice(&manifest_bytes).unwrap();
    edit(&mut manifest, &mut data);
    for table in &mut manifest.tables {
        if let Some((_, bytes)) = data.iter().find(|(n, _)| *n == table.member) {
            table.member_bytes = bytes.len() as u64;
            table.member_sha256 = sha256_hex(bytes);
        }
    }
    if let Some(statistics) = &mut manifest.statistics {
        if let Some((_, bytes)) = data.iter().find(|(n, _)| *n == statistics.member) {
            statistics.member_bytes = bytes.len() as u64;
            statistics.member_sha256 = sha256_hex(bytes);
        }
    }
    manifest.content_id = content_id(
        &manifest.tables,
        &manifest.foreign_keys,
        &manifest.sequences,
        manifest.schema.as_ref(),
    );
    let json = serde_json::to_vec_pretty(&manifest).unwrap();
    let sum = format!("{}\n", sha256_hex(&json));
    let mut builder = tar::Builder::new(std::fs::File::create(out).unwrap());
    let mut append = |name: &str, bytes: &[u8]| {
        let mut header = tar::Header::new_gnu();
        // The name goes in raw: a forged artifact may hold names (`..`,
        // absolute paths) that the tar crate would refuse to write.
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        builder.append(&header, bytes).unwrap();
    };
    for (name, bytes) in &data {
        append(name, bytes);
    }
    append("manifest.json", &json);
    append("manifest.sha256", sum.as_bytes());
    builder.finish().unwrap();
}

/// `bytes` as a data member stored with `method`.
pub fn compress(method: Method, bytes: &[u8]) -> Vec<u8> {
    match method {
        Method::Gzip => {
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            std::io::Write::write_all(&mut encoder, bytes).unwrap();
            encoder.finish().unwrap()
        }
        Method::Zstd => zstd::encode_all(bytes, 19).unwrap(),
        Method::None => bytes.to_vec(),
    }
}
