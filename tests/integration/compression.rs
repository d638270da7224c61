//! `dump --compress`: every method restores the same data, reproduces byte
//! for byte, and leaves members that `tar -x` and the standard tools read;
//! gzip artifacts written before zstd still restore.

use std::path::Path;
use std::process::Command;

use sha2::{Digest, Sha256};

use crate::roundtrip::fixture_pair;
use crate::support::{dump_command, manifest_json, restore, scratch, seedpack, TestDb};

/// Rows enough for several 1 MiB blocks, so zstd writes several frames and
/// gzip several deflate blocks.
const MANY_ROWS: &str = "CREATE TABLE public.wide (id int PRIMARY KEY, body text);
     INSERT INTO public.wide
     SELECT g, repeat(md5(g::text), 3) FROM generate_series(1, 40000) g;";

const SETTINGS: [&str; 6] = ["zstd", "zstd:19", "gzip", "gzip:9", "none", "zstd:1"];

#[test]
fn every_method_restores_the_same_data_and_reproduces() {
    let (src, _dst) = fixture_pair("compress");
    src.sql(MANY_ROWS);
    let dir = scratch();
    let mut content_ids = Vec::new();
    for setting in SETTINGS {
        let name = setting.replace(':', "-");
        let path = dir.path().join(format!("{name}.seedpack"));
        let again = dir.path().join(format!("{name}-again.seedpack"));
        for (file, jobs) in [(&path, "1"), (&again, "3")] {
            dump_command(&src, file, &["--compress", setting, "--jobs", jobs])
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .run()
                .ok();
        }
        assert!(
            std::fs::read(&path).unwrap() == std::fs::read(&again).unwrap(),
            "{setting}: two dumps of the same data differ"
        );
        let manifest = manifest_json(&path);
        content_ids.push(manifest["content_id"].as_str().unwrap().to_owned());
        let dst = TestDb::new(&format!("compress_{}", name.replace('-', "_")));
        restore(&dst, &path).ok();
        assert_eq!(dst.snapshot(), src.snapshot(), "{setting}");
        members_read_by_standard_tools(&path, &manifest, setting);
    }
    assert!(
        content_ids.windows(2).all(|w| w[0] == w[1]),
        "the content id depends on data only: {content_ids:?}"
    );
}

/// `tar -x`, then `zstd -d`, `gzip -d` or nothing: each member's bytes are
/// the data whose checksum the manifest states.
fn members_read_by_standard_tools(artifact: &Path, manifest: &serde_json::Value, setting: &str) {
    let out = scratch();
    run_tool(
        Command::new("tar")
            .arg("-xf")
            .arg(artifact)
            .current_dir(out.path()),
    );
    for table in manifest["tables"].as_array().unwrap() {
        let member = out.path().join(table["member"].as_str().unwrap());
        let data = match member.extension().and_then(|e| e.to_str()) {
            Some("zst") => run_tool(Command::new("zstd").args(["-d", "-c", "-q"]).arg(&member)),
            Some("gz") => run_tool(Command::new("gzip").args(["-d", "-c"]).arg(&member)),
            _ => std::fs::read(&member).unwrap(),
        };
        let expected = match setting.split(':').next().unwrap() {
            "zstd" => "zst",
            "gzip" => "gz",
            _ => "copy",
        };
        assert_eq!(
            member.extension().and_then(|e| e.to_str()),
            Some(expected),
            "{setting}: {}",
            member.display()
        );
        assert_eq!(
            hex::encode(Sha256::digest(&data)),
            table["data_sha256"].as_str().unwrap(),
            "{setting}: {}",
            member.display()
        );
    }
}

fn run_tool(command: &mut Command) -> Vec<u8> {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e} (install it: apt-get install zstd)"));
    assert!(
        output.status.success(),
        "{command:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

#[test]
fn zstd_is_the_default_and_gzip_artifacts_stay_format_1() {
    let (src, _dst) = fixture_pair("compress_default");
    let dir = scratch();
    let zstd = dir.path().join("default.seedpack");
    dump_command(&src, &zstd, &[]).run().ok();
    let manifest = manifest_json(&zstd);
    assert_eq!(manifest["compression"], "zstd");
    assert_eq!(manifest["format_version"], 2);
    let gzip = dir.path().join("gzip.seedpack");
    dump_command(&src, &gzip, &["--compress", "gzip:6"])
        .run()
        .ok();
    let manifest = manifest_json(&gzip);
    assert_eq!(manifest["format_version"], 1);
    assert!(manifest.get("compression").is_none(), "{manifest}");
    let run = seedpack(&["dump", "--compress", "zstd:22", "--dsn", &src.url()])
        .run()
        .expect_code(2);
    assert!(
        run.stderr
            .contains("\"zstd:22\" is not zstd[:1-19], gzip[:0-9] or none"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_gzip_artifact_from_before_zstd_restores() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/core.seedpack");
    let dst = TestDb::new("compress_old");
    restore(&dst, &fixture).ok();
    let url = dst.url();
    let file = fixture.to_str().unwrap();
    seedpack(&["check", "--file", file, "--dsn", &url])
        .secret(&dst.cluster.owner_password)
        .run()
        .ok();
    let rows: u64 = dst
        .sql("SELECT count(*) FROM public.every_type")
        .parse()
        .unwrap();
    assert!(rows > 0, "the old artifact's rows are in the database");
}
