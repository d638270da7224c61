//! The scripts in scripts/ that CI workflows and deploys call, run as they
//! would be: against real databases, with seedpack from $SEEDPACK.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::support::{caller_variables, cluster, dump, manifest_json, scratch, Run, TestDb};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `bash scripts/NAME ARGS` with seedpack in $SEEDPACK and the cluster's psql
/// first on PATH; checks that the owner's password never appears.
fn script(name: &str, args: &[&str], env: &[(&str, &str)]) -> Run {
    let cluster = cluster::shared();
    let mut path = cluster
        .psql
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
        .into_os_string();
    path.push(":");
    path.push(std::env::var_os("PATH").unwrap_or_default());
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("scripts").join(name))
        .args(args)
        .env("SEEDPACK", env!("CARGO_BIN_EXE_seedpack"))
        .env("PATH", path)
        .stdin(Stdio::null());
    for var in caller_variables() {
        cmd.env_remove(var);
    }
    for (key, value) in env {
        cmd.env(key, value);
    }
    let output = cmd.output().expect("run bash");
    let run = Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    let password = &cluster.owner_password;
    assert!(
        !run.stdout.contains(password.as_str()) && !run.stderr.contains(password.as_str()),
        "{name} printed a password:\n{}\n{}",
        run.stdout,
        run.stderr
    );
    run
}

fn demo_sql(name: &str) -> String {
    repo()
        .join("scripts/demo")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A source database holding the demo's schema (with a cycle) and seed.
fn demo_source(label: &str) -> TestDb {
    let read = |name: &str| std::fs::read_to_string(demo_sql(name)).unwrap();
    TestDb::new(label)
        .with_sql(&read("schema.sql"))
        .with_sql(&read("seed.sql"))
}

fn tables_in(db: &TestDb) -> String {
    db.sql(
        "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')",
    )
}

#[test]
fn every_script_is_strict_and_answers_help() {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(repo().join("scripts"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 9, "{scripts:?}");
    for path in scripts {
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            text.contains("\nset -euo pipefail\n"),
            "{name}: no strict mode"
        );
        let run = script(&name, &["--help"], &[]).ok();
        assert!(
            run.stdout.contains("Usage:"),
            "{name} --help:\n{}",
            run.stdout
        );
        let run = script(&name, &["--no-such-option"], &[]);
        assert_ne!(run.code, 0, "{name} accepted an unknown option");
    }
}

#[test]
fn generate_seed_dump_then_restore_seed_as_the_workflow_does() {
    let built = TestDb::new("gen_built");
    let dir = scratch();
    let output = dir.path().join("seed.seedpack");
    let summary = dir.path().join("summary.md");
    let url = built.url();
    let run = script(
        "generate-seed-dump.sh",
        &[
            "--dsn",
            &url,
            "--apply",
            &demo_sql("schema.sql"),
            "--apply",
            &demo_sql("seed.sql"),
            "--label",
            "v7",
            "--output",
            output.to_str().unwrap(),
            "--summary",
            summary.to_str().unwrap(),
        ],
        &[],
    )
    .ok();
    assert_eq!(run.stdout.trim(), output.to_str().unwrap());
    assert_eq!(manifest_json(&output)["label"], "v7");
    let markdown = std::fs::read_to_string(&summary).unwrap();
    assert!(
        markdown.contains("### Seed artifact `seed.seedpack`"),
        "{markdown}"
    );
    assert!(markdown.contains("content id"), "{markdown}");
    assert_eq!(tables_in(&built), "6", "the schema and seed were applied");
    assert_eq!(built.sql("SELECT count(*) FROM performance"), "40");

    let staging = TestDb::new("gen_staging");
    let url = staging.url();
    let file = output.to_str().unwrap();
    // No terminal and no --yes: refused, nothing created.
    let run = script("restore-seed.sh", &["--file", file, "--dsn", &url], &[]).expect_code(3);
    assert!(run.stderr.contains("--yes"), "{}", run.stderr);
    assert_eq!(tables_in(&staging), "0");
    let run = script(
        "restore-seed.sh",
        &["--file", file, "--dsn", &url, "--yes"],
        &[],
    )
    .ok();
    assert!(run.stdout.contains("equal"), "check ran:\n{}", run.stdout);
    assert_eq!(staging.snapshot(), built.snapshot());

    // An upsert into a database with a row of its own is checked by
    // containment: the artifact's rows are all there, the own row stays.
    staging.sql("INSERT INTO public.country (code, name) VALUES ('zz', 'Own')");
    let run = script(
        "restore-seed.sh",
        &[
            "--file",
            file,
            "--dsn",
            &url,
            "--yes",
            "--mode",
            "upsert",
            "--",
            "--force",
            "--key",
            "country=code",
        ],
        &[],
    )
    .ok();
    assert!(
        run.stdout.contains("equal") && !run.stdout.contains("differs"),
        "{}",
        run.stdout
    );
    assert_eq!(
        staging.sql("SELECT name FROM public.country WHERE code = 'zz'"),
        "Own"
    );

    // A damaged artifact stops before the target is touched.
    let mut bytes = std::fs::read(&output).unwrap();
    bytes[1000] ^= 0x55;
    std::fs::write(&output, bytes).unwrap();
    let fresh = TestDb::new("gen_fresh");
    let url = fresh.url();
    script(
        "restore-seed.sh",
        &["--file", file, "--dsn", &url, "--yes"],
        &[],
    )
    .expect_code(2);
    assert_eq!(tables_in(&fresh), "0");
}

#[test]
fn seed_to_dsn_migrates_then_seeds_once() {
    let source = demo_source("deploy_src");
    let dir = scratch();
    let artifact = dump(&source, dir.path(), "seed");
    let file = artifact.to_str().unwrap();
    // Idempotent, as deploy migrations are: applied once, skipped after.
    let migrate = format!(
        "[ \"$(psql -X -At -d \"$DATABASE_URL\" -c \"SELECT to_regclass('festival') IS NOT NULL\")\" = t ] \
         || psql -X -q -v ON_ERROR_STOP=1 -d \"$DATABASE_URL\" -f '{}'",
        demo_sql("schema.sql")
    );

    let target = TestDb::new("deploy_dst");
    let url = target.url();
    let args = ["--file", file, "--dsn", &url, "--migrate", &migrate];
    script("seed-to-dsn.sh", &args, &[]).ok();
    assert_eq!(target.snapshot(), source.snapshot());
    assert_eq!(
        target.sql("SELECT mode FROM seedpack.history"),
        "upsert",
        "seeded in upsert mode, recorded"
    );
    // The next deploy: migrations are idempotent, the seed is already applied.
    let run = script("seed-to-dsn.sh", &args, &[]).ok();
    assert!(
        format!("{}{}", run.stdout, run.stderr).contains("already applied"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(target.sql("SELECT count(*) FROM seedpack.history"), "1");

    // A failing migration stops the deploy before any seeding.
    let broken = TestDb::new("deploy_broken");
    let url = broken.url();
    let run = script(
        "seed-to-dsn.sh",
        &["--file", file, "--dsn", &url, "--migrate", "exit 7"],
        &[],
    )
    .expect_code(1);
    assert!(run.stderr.contains("exit 7"), "{}", run.stderr);
    assert_eq!(tables_in(&broken), "0");
}

#[test]
fn pg_sandbox_starts_a_cluster_and_stops_it() {
    let bindir = cluster::find_bindir();
    let bindir = bindir.to_str().unwrap();
    let parent = tempfile::tempdir().unwrap();
    let dir = parent.path().join("sandbox");
    let run = script(
        "pg-sandbox.sh",
        &[
            "start",
            "--dir",
            dir.to_str().unwrap(),
            "--database",
            "shop",
        ],
        &[("SEEDPACK_PG_BINDIR", bindir)],
    )
    .ok();
    let value = |key: &str| {
        run.stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{key}=")))
            .unwrap_or_else(|| panic!("no {key} in:\n{}", run.stdout))
            .to_owned()
    };
    let url = value("DATABASE_URL");
    assert!(url.ends_with("/shop"), "{url}");
    let psql = &cluster::shared().psql;
    let owner = cluster::psql(
        psql,
        &url,
        "SELECT current_user || ' ' || rolsuper FROM pg_roles WHERE rolname = current_user",
    );
    assert_eq!(owner.as_deref(), Ok("app false"));

    script(
        "pg-sandbox.sh",
        &["stop", &value("SANDBOX_DIR")],
        &[("SEEDPACK_PG_BINDIR", bindir)],
    )
    .ok();
    assert!(!dir.exists(), "the sandbox directory is removed");
    assert!(
        cluster::psql(psql, &url, "SELECT 1").is_err(),
        "the server is stopped"
    );

    let empty = tempfile::tempdir().unwrap();
    let run = script(
        "pg-sandbox.sh",
        &["start"],
        &[("SEEDPACK_PG_BINDIR", empty.path().to_str().unwrap())],
    )
    .expect_code(1);
    assert!(run.stderr.contains("no initdb in"), "{}", run.stderr);
}

#[test]
fn generate_seed_dump_runs_the_apps_migrate_and_seed_commands_and_records_keys() {
    let db = TestDb::new("gen_commands");
    let dir = scratch();
    let out = dir.path().join("seed.seedpack");
    let url = db.url();
    let migrate = format!(
        "psql -X -q -v ON_ERROR_STOP=1 -d \"$DATABASE_URL\" -f '{}'",
        demo_sql("schema.sql")
    );
    let seed = format!(
        "psql -X -q -v ON_ERROR_STOP=1 -d \"$DATABASE_URL\" -f '{}'",
        demo_sql("seed.sql")
    );
    let run = script(
        "generate-seed-dump.sh",
        &[
            "--dsn",
            &url,
            "--output",
            out.to_str().unwrap(),
            "--label",
            "abc123",
            "--migrate",
            &migrate,
            "--seed",
            &seed,
            "--dump-arg",
            "--key",
            "--dump-arg",
            "country=code",
        ],
        &[],
    )
    .ok();
    assert_eq!(run.stdout.trim(), out.to_str().unwrap());
    let manifest = manifest_json(&out);
    assert_eq!(manifest["label"], "abc123");
    let country = crate::support::manifest_table(&manifest, "country");
    assert_eq!(country["match_key"], serde_json::json!(["code"]));
    // A failing migration stops it before anything is dumped.
    let failing = dir.path().join("failed.seedpack");
    script(
        "generate-seed-dump.sh",
        &[
            "--dsn",
            &url,
            "--output",
            failing.to_str().unwrap(),
            "--migrate",
            "exit 7",
        ],
        &[],
    )
    .expect_code(7);
    assert!(!failing.exists());
}

#[test]
fn install_seedpack_keys_the_cache_on_the_sources() {
    let key = |version: &str| {
        script("install-seedpack.sh", &["--key", version], &[])
            .ok()
            .stdout
    };
    let source = key("action");
    assert!(
        source.starts_with("key=source-") && source.trim().len() == "key=source-".len() + 16,
        "{source}"
    );
    assert_eq!(key("action"), source, "the same sources, the same key");
    assert_eq!(key("v1.2.0").trim(), "key=ref-v1.2.0");
    script("install-seedpack.sh", &["--install", "action"], &[]).expect_code(2);
}
