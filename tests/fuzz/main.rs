//! Fuzzing on stable Rust, bounded so it runs with every `cargo test`: each
//! parser that reads untrusted input (an artifact, its manifest, COPY text,
//! a connection string) gets a few thousand inputs mutated from real ones,
//! from a fixed seed. `SEEDPACK_FUZZ_SEED` picks other inputs and
//! `SEEDPACK_FUZZ_SCALE` runs N times as many; cargo-fuzz runs the same
//! targets for longer (see CONTRIBUTING.md). No server is needed.

mod mutate;
mod regressions;
mod targets;

use std::io::Read;
use std::path::Path;

use mutate::Run;

/// A small real artifact (the suite's core fixture, dumped by seedpack
/// before zstd, so gzip).
const ARTIFACT: &str = "tests/fixtures/core.seedpack";
/// The same fixture dumped with zstd.
const ZSTD_ARTIFACT: &str = "tests/fixtures/core-zstd.seedpack";

fn read_fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))
        .unwrap_or_else(|e| panic!("the fixture artifact {path}: {e}"))
}

fn fixture() -> Vec<u8> {
    read_fixture(ARTIFACT)
}

/// The fixture's manifest, as written, and its first table's COPY text.
fn fixture_members() -> (Vec<u8>, Vec<u8>) {
    let bytes = fixture();
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut manifest = Vec::new();
    let mut data = Vec::new();
    for entry in archive.entries().expect("the fixture is a tar file") {
        let mut entry = entry.expect("a tar entry");
        let name = entry.path().expect("a member name").display().to_string();
        if name == seedpack::artifact::MANIFEST_MEMBER {
            entry.read_to_end(&mut manifest).expect("the manifest");
        } else if name.starts_with("data/") && data.is_empty() {
            flate2::read::MultiGzDecoder::new(entry)
                .read_to_end(&mut data)
                .expect("a table's data");
        }
    }
    assert!(
        !manifest.is_empty() && !data.is_empty(),
        "the fixture has a manifest and data"
    );
    (manifest, data)
}

#[test]
fn artifact_reader() {
    Run {
        name: "artifact",
        corpus: vec![fixture(), read_fixture(ZSTD_ARTIFACT)],
        dictionary: &[
            b"manifest.json",
            b"data/0000.copy.gz",
            b"data/0000.copy.zst",
            b"\"compression\": \"zstd\"",
            b"\x28\xb5\x2f\xfd",
            b"\x1f\x8b\x08\0",
            b"ustar\0",
        ],
        iterations: 3_000,
        target: targets::artifact,
    }
    .go();
}

#[test]
fn manifest_parser() {
    let (manifest, _) = fixture_members();
    Run {
        name: "manifest",
        corpus: vec![manifest],
        dictionary: &[
            b"null",
            b"-1",
            b"18446744073709551615",
            b"\"\"",
            b"[]",
            b"{}",
            b",",
            b"\"rows\":",
            b"\"bytes\":",
            b"\"name\":",
            b"\"columns\":",
            b"\\u0000",
            b"1e308",
        ],
        iterations: 20_000,
        target: targets::manifest,
    }
    .go();
}

#[test]
fn copy_text_checker() {
    let (_, data) = fixture_members();
    let mut corpus = Vec::new();
    // The fixture's table has as many columns as its first line has fields.
    let first_line = data.split(|&b| b == b'\n').next().unwrap_or_default();
    let columns = first_line.iter().filter(|&&b| b == b'\t').count() + 1;
    let mut seeded = vec![u8::try_from(columns).expect("a small table"), 7, 40];
    seeded.extend_from_slice(&data);
    corpus.push(seeded);
    corpus.push(b"\x02\x01\x01a\tb\n\\N\t\\x41\n".to_vec());
    Run {
        name: "copy_text",
        corpus,
        dictionary: &[
            b"\\", b"\\.", b"\\.\n", b"\t", b"\n", b"\\N", b"\\x4", b"\\01", b"\\\n",
        ],
        iterations: 100_000,
        target: targets::copy_text,
    }
    .go();
}

#[test]
fn connection_strings() {
    Run {
        name: "dsn",
        corpus: vec![
            vec![0; 64],
            vec![1; 64],
            b"\xffpostgres://u:p@h/d?sslmode=require".to_vec(),
        ],
        dictionary: &[b"\0", b"\x01", b"\xff", b"@", b"%40", b"://", b"="],
        iterations: 100_000,
        target: targets::dsn,
    }
    .go();
}

#[test]
fn regressions_still_pass() {
    for (target, input) in regressions::INPUTS {
        let run = match *target {
            "artifact" => targets::artifact,
            "manifest" => targets::manifest,
            "copy_text" => targets::copy_text,
            "dsn" => targets::dsn,
            other => panic!("regressions.rs names no target {other:?}"),
        };
        run(input);
    }
}
