//! A damaged or truncated artifact is refused before the database is touched.

use std::path::{Path, PathBuf};

use crate::roundtrip::fixture_pair;
use crate::support::{
    dump, fixture, manifest_json, manifest_table, restore, scratch, seedpack, tar_layout, TestDb,
};

/// A target holding the fixture with a change, so any write would show.
fn target_with_data(dst: &TestDb) -> String {
    dst.sql(&fixture("core_data.sql"));
    dst.sql("UPDATE public.book SET title = 'must survive'");
    dst.snapshot()
}

fn damaged_copy(
    original: &Path,
    dir: &Path,
    label: &str,
    edit: impl FnOnce(&mut Vec<u8>),
) -> PathBuf {
    let mut bytes = std::fs::read(original).unwrap();
    edit(&mut bytes);
    let path = dir.join(format!("{label}.seedpack"));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn flipped_bytes_anywhere_are_refused_and_the_target_is_untouched() {
    let (src, dst) = fixture_pair("flip");
    let before = target_with_data(&dst);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "flip");
    let len = std::fs::metadata(&artifact).unwrap().len();

    // Positions in every kind of region: headers, data, manifest, padding, end blocks.
    let mut positions = Vec::new();
    for member in tar_layout::members(&artifact) {
        positions.push((
            format!("{} header name", member.name),
            member.header_offset + 3,
        ));
        positions.push((
            format!("{} header mtime", member.name),
            member.header_offset + 140,
        ));
        positions.push((format!("{} first byte", member.name), member.data_offset));
        positions.push((
            format!("{} middle", member.name),
            member.data_offset + member.size / 2,
        ));
        positions.push((
            format!("{} last byte", member.name),
            member.data_offset + member.size - 1,
        ));
        let end = member.data_offset + member.size;
        if end % 512 != 0 {
            positions.push((format!("{} padding", member.name), end));
        }
    }
    positions.push(("end of archive".into(), len - 10));

    for (i, (what, at)) in positions.iter().enumerate() {
        let damaged = damaged_copy(&artifact, dir.path(), &format!("flip{i}"), |b| {
            b[*at as usize] ^= 0x20
        });
        let run = restore(&dst, &damaged);
        assert_eq!(
            run.code, 2,
            "flip in {what} (offset {at}) not refused:\n{}",
            run.stderr
        );
        assert_eq!(run.stderr.trim().lines().count(), 1, "{}", run.stderr);
        seedpack(&["verify", "-f", damaged.to_str().unwrap()])
            .run()
            .expect_code(2);
    }
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn truncated_artifacts_are_refused_and_the_target_is_untouched() {
    let (src, dst) = fixture_pair("trunc");
    let before = target_with_data(&dst);
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "trunc");
    let len = std::fs::metadata(&artifact).unwrap().len() as usize;
    for keep in [
        0,
        1,
        511,
        512,
        1024,
        len / 3,
        len / 2,
        len - 1536,
        len - 1024,
        len - 512,
        len - 1,
    ] {
        let damaged = damaged_copy(&artifact, dir.path(), &format!("cut{keep}"), |b| {
            b.truncate(keep)
        });
        let run = restore(&dst, &damaged);
        assert_eq!(
            run.code, 2,
            "truncated to {keep} of {len} not refused:\n{}",
            run.stderr
        );
    }
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn verify_names_the_damaged_table() {
    let (src, _dst) = fixture_pair("verifyname");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "named");
    let manifest = manifest_json(&artifact);
    let table = manifest_table(&manifest, "every_type");
    let member_name = table["member"].as_str().unwrap();
    let member = tar_layout::members(&artifact)
        .into_iter()
        .find(|m| m.name == member_name)
        .unwrap();
    let damaged = damaged_copy(&artifact, dir.path(), "named-bad", |b| {
        b[(member.data_offset + member.size / 2) as usize] ^= 0xff
    });
    // Without the sidecar, the member checksum catches it and names the table.
    let run = seedpack(&["verify", "-f", damaged.to_str().unwrap()])
        .run()
        .expect_code(2);
    assert!(
        run.stderr.contains("\"public\".\"every_type\""),
        "{}",
        run.stderr
    );
    // A good artifact passes, sidecar included.
    let run = seedpack(&["verify", "-f", artifact.to_str().unwrap()])
        .run()
        .ok();
    assert!(
        run.stdout.contains("whole-file checksum matches"),
        "{}",
        run.stdout
    );
}

#[test]
fn verify_checks_a_sidecar_given_by_path() {
    let (src, _dst) = fixture_pair("sidecarpath");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "published");
    let downloaded = dir.path().join("downloaded.sha256");
    std::fs::rename(dir.path().join("published.seedpack.sha256"), &downloaded).unwrap();
    let run = seedpack(&[
        "verify",
        "-f",
        artifact.to_str().unwrap(),
        "--sha256",
        downloaded.to_str().unwrap(),
    ])
    .run()
    .ok();
    assert!(run.stdout.contains("downloaded.sha256"), "{}", run.stdout);
    src.sql("UPDATE public.book SET title = 'another edition' WHERE id = 10");
    let other = dump(&src, dir.path(), "other");
    let run = seedpack(&[
        "verify",
        "-f",
        other.to_str().unwrap(),
        "--sha256",
        downloaded.to_str().unwrap(),
    ])
    .run()
    .expect_code(2);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
    seedpack(&[
        "verify",
        "-f",
        other.to_str().unwrap(),
        "--sha256",
        "/nonexistent.sha256",
    ])
    .run()
    .expect_code(2);
}

#[test]
fn a_wrong_sidecar_fails_verify() {
    let (src, _dst) = fixture_pair("sidecar");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "side");
    let sidecar = dir.path().join("side.seedpack.sha256");
    std::fs::write(&sidecar, format!("{}  side.seedpack\n", "0".repeat(64))).unwrap();
    let run = seedpack(&["verify", "-f", artifact.to_str().unwrap()])
        .run()
        .expect_code(2);
    assert!(run.stderr.contains("does not match"), "{}", run.stderr);
}

#[test]
fn files_that_are_not_artifacts_are_refused() {
    let dir = scratch();
    let not_tar = dir.path().join("notes.seedpack");
    std::fs::write(&not_tar, vec![b'x'; 4096]).unwrap();
    let run = seedpack(&["verify", "-f", not_tar.to_str().unwrap()])
        .run()
        .expect_code(2);
    assert!(run.stderr.contains("notes.seedpack"), "{}", run.stderr);
    let run = seedpack(&["inspect", "-f", "/nonexistent/x.seedpack"])
        .run()
        .expect_code(2);
    assert!(
        run.stderr.contains("cannot read artifact"),
        "{}",
        run.stderr
    );
}
