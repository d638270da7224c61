//! `dump`, `verify`, `inspect` and `plan` as users run them.

use crate::roundtrip::fixture_pair;
use crate::support::{dump, manifest_json, manifest_table, scratch, seedpack};

#[test]
fn dump_writes_the_default_path_with_a_sha256sum_sidecar_and_a_summary() {
    let (src, _dst) = fixture_pair("defaultpath");
    let dir = scratch();
    let run = seedpack(&["dump", "--dsn", &src.url()])
        .current_dir(dir.path())
        .run()
        .ok();
    let artifacts: Vec<_> = std::fs::read_dir(dir.path().join("artifacts"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let artifact = artifacts
        .iter()
        .find(|n| n.ends_with(".seedpack"))
        .expect("an artifact");
    assert!(
        artifact.starts_with(&format!("{}-", src.name)),
        "{artifact}"
    );
    let stamp = &artifact[src.name.len() + 1..artifact.len() - ".seedpack".len()];
    assert_eq!(stamp.len(), "20261122T100405Z".len(), "{stamp}");
    assert!(
        stamp.ends_with('Z') && stamp.as_bytes()[8] == b'T',
        "{stamp}"
    );
    assert!(artifacts.contains(&format!("{artifact}.sha256")));
    assert_eq!(artifacts.len(), 2, "no temporary files left: {artifacts:?}");
    let check = std::process::Command::new("sha256sum")
        .args(["-c", &format!("{artifact}.sha256")])
        .current_dir(dir.path().join("artifacts"))
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    assert!(run.stdout.contains(artifact.as_str()), "{}", run.stdout);
    assert!(run.stdout.contains("content id "), "{}", run.stdout);
    let rows: u64 = src
        .sql("SELECT (SELECT count(*) FROM public.every_type) + (SELECT count(*) FROM public.book)")
        .parse()
        .unwrap();
    assert_eq!(rows, 8);
    let every_type = run
        .stdout
        .lines()
        .find(|l| l.starts_with("\"public\".\"every_type\""))
        .unwrap_or_else(|| panic!("no every_type line in {}", run.stdout));
    assert_eq!(
        every_type.split_whitespace().nth(1),
        Some("5"),
        "{every_type}"
    );
    // A standard tar: ordinary tools list it.
    let list = std::process::Command::new("tar")
        .args(["-tf", &format!("artifacts/{artifact}")])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let listing = String::from_utf8_lossy(&list.stdout);
    assert!(
        listing.contains("manifest.json") && listing.contains("data/0001.copy.zst"),
        "{listing}"
    );
}

#[test]
fn plan_shows_order_self_references_and_cycles_in_text_and_json() {
    let (src, _dst) = fixture_pair("plan");
    let run = seedpack(&["plan", "--dsn", &src.url()]).run().ok();
    assert!(
        run.stdout
            .contains("self-references\n  \"public\".\"category\""),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("\"public\".\"author\" <-> \"public\".\"book\""),
        "{}",
        run.stdout
    );

    let run = seedpack(&["plan", "--json", "--dsn", &src.url()])
        .run()
        .ok();
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let order: Vec<String> = plan["order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect();
    let pos = |name: &str| {
        order
            .iter()
            .position(|t| t == name)
            .unwrap_or_else(|| panic!("{name} in {order:?}"))
    };
    assert!(pos("public.region") < pos("public.measurement"));
    assert!(pos("public.measurement") < pos("public.measurement_note"));
    assert!(pos("Odd Schema.Order.Items \"x\"") < pos("Odd Schema.Child"));
    assert!(
        !order.iter().any(|t| t.starts_with("public.measurement_eu")),
        "partitions are not tables of their own"
    );
    assert_eq!(plan["cycles"].as_array().unwrap().len(), 2);
    let deferred: Vec<&str> = plan["foreign_keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["needs_deferral"] == true)
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in [
        "category_parent_id_fkey",
        "author_favourite_book_fk",
        "book_author_id_fkey",
        "cyc_a_b_fk",
    ] {
        assert!(deferred.contains(&name), "{name} in {deferred:?}");
    }
    assert!(!deferred.contains(&"measurement_region_fkey"));
}

#[test]
fn inspect_shows_tables_in_restore_order_with_rows_and_checksums() {
    let (src, _dst) = fixture_pair("inspect");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "inspect");
    let run = seedpack(&["inspect", "-f", artifact.to_str().unwrap()])
        .run()
        .ok();
    let manifest = manifest_json(&artifact);
    let content_id = manifest["content_id"].as_str().unwrap();
    assert!(run.stdout.contains(content_id), "{}", run.stdout);
    assert!(run.stdout.contains("cycles\n"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("\"public\".\"standalone_seq\" last_value 42 is_called false"),
        "{}",
        run.stdout
    );
    let every_type = manifest_table(&manifest, "every_type");
    assert_eq!(every_type["rows"], 5);
    assert_eq!(every_type["columns"].as_array().unwrap().len(), 25);
    assert_eq!(every_type["columns"][19]["type"], "public.mood");
    let ticket = manifest_table(&manifest, "ticket");
    let ticket_columns: Vec<&str> = ticket["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        ticket_columns,
        ["id", "code"],
        "generated columns are not stored"
    );
    assert_eq!(
        manifest["server_version_num"].as_u64().unwrap() / 10000,
        src.sql("SHOW server_version_num").parse::<u64>().unwrap() / 10000
    );
}

#[test]
fn usage_errors_exit_2() {
    seedpack(&["restore"]).run().expect_code(2);
    seedpack(&["dump", "--compress", "gzip:12"])
        .run()
        .expect_code(2);
    let (src, _dst) = fixture_pair("usage");
    let run = seedpack(&[
        "dump",
        "--dsn",
        &src.url(),
        "--table",
        "no_such_table",
        "-o",
        "/tmp/never.seedpack",
    ])
    .run()
    .expect_code(2);
    assert!(
        run.stderr
            .contains("no table matches --table no_such_table"),
        "{}",
        run.stderr
    );
    assert!(!std::path::Path::new("/tmp/never.seedpack").exists());
}

#[test]
fn dump_restore_and_verify_report_json_for_scripts() {
    let (src, dst) = fixture_pair("json");
    let dir = scratch();
    let path = dir.path().join("json.seedpack");
    let url = src.url();
    let parse = |stdout: &str| -> serde_json::Value {
        serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"))
    };
    let run = seedpack(&[
        "dump",
        "--json",
        "--dsn",
        &url,
        "--output",
        path.to_str().unwrap(),
        "--label",
        "v3",
    ])
    .secret(&src.cluster.owner_password)
    .run()
    .ok();
    let dumped = parse(&run.stdout);
    assert_eq!(dumped["path"], path.to_str().unwrap());
    assert_eq!(dumped["label"], "v3");
    let manifest = manifest_json(&path);
    assert_eq!(dumped["content_id"], manifest["content_id"]);
    let rows: u64 = dumped["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(dumped["rows"].as_u64(), Some(rows));
    let authors = src.sql("SELECT count(*) FROM public.author");
    let entry = dumped["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "author")
        .expect("author in the summary");
    assert_eq!(entry["rows"].to_string(), authors);

    let verified = parse(
        &seedpack(&["verify", "--json", "--file", path.to_str().unwrap()])
            .run()
            .ok()
            .stdout,
    );
    assert_eq!(verified["content_id"], manifest["content_id"]);
    assert!(verified["sha256_file"]
        .as_str()
        .unwrap()
        .ends_with(".sha256"));

    let url = dst.url();
    let restore_json = || {
        parse(
            &seedpack(&[
                "restore",
                "--json",
                "--yes",
                "--file",
                path.to_str().unwrap(),
                "--dsn",
                &url,
            ])
            .secret(&dst.cluster.owner_password)
            .run()
            .ok()
            .stdout,
        )
    };
    let restored = restore_json();
    assert_eq!(restored["mode"], "replace");
    assert!(restored["already_applied"].is_null());
    let after = restored["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["table"]["name"] == "author")
        .expect("author restored");
    assert_eq!(
        after["after"].to_string(),
        dst.sql("SELECT count(*) FROM public.author")
    );

    let again = restore_json();
    assert_eq!(
        again["already_applied"]["content_id"],
        manifest["content_id"]
    );
}

#[test]
fn completions_and_man_pages_come_from_the_command_line_definitions() {
    let bash = seedpack(&["completions", "bash"]).run().ok().stdout;
    let registered = std::process::Command::new("bash")
        .args(["-c", "source /dev/stdin && complete -p seedpack"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bash.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    assert!(
        String::from_utf8_lossy(&registered.stdout).contains("seedpack"),
        "bash did not register the completion"
    );
    for word in ["sandbox", "--jobs", "--no-order", "insert-missing"] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    assert!(seedpack(&["completions", "zsh"])
        .run()
        .ok()
        .stdout
        .starts_with("#compdef seedpack"));
    assert!(seedpack(&["completions", "fish"])
        .run()
        .ok()
        .stdout
        .contains("complete -c seedpack"));
    seedpack(&["completions", "powershell"])
        .run()
        .expect_code(2);

    let dir = scratch();
    let listed = seedpack(&["man", "--output-dir", dir.path().to_str().unwrap()])
        .run()
        .ok()
        .stdout;
    let help = seedpack(&["--help"]).run().ok().stdout;
    let commands = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter(|l| !l.trim_start().starts_with("help "))
        .count();
    assert_eq!(listed.lines().count(), commands + 1, "{listed}");
    let dump_page = std::fs::read_to_string(dir.path().join("seedpack-dump.1")).unwrap();
    assert!(dump_page.contains(".TH seedpack-dump 1"), "{dump_page}");
    assert!(dump_page.contains("jobs"), "{dump_page}");
    let main_page = seedpack(&["man"]).run().ok().stdout;
    assert!(
        main_page.contains("seedpack\\-sandbox"),
        "the main page lists commands"
    );
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let (src, _) = fixture_pair("epipe");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "epipe");
    let file = artifact.to_str().unwrap();
    for args in [
        vec!["inspect", "--json", "--file", file],
        vec!["inspect", "--file", file],
        vec!["verify", "--file", file],
        vec!["export", "--file", file],
        vec!["completions", "bash"],
        vec!["man"],
    ] {
        // The read end is closed before seedpack writes: every write fails with EPIPE.
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_seedpack"))
            .args(&args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take());
        let output = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn help_lists_every_exit_code_from_its_one_definition() {
    let run = seedpack(&["--help"]).run().ok();
    for status in seedpack::error::ExitStatus::ALL {
        let entry = format!("{} {}", status.code(), status.summary());
        assert!(
            run.stdout.contains(&entry),
            "--help lacks {entry:?}:\n{}",
            run.stdout
        );
    }
}

#[test]
fn files_written_honour_the_umask_as_pg_dump_does() {
    use std::os::unix::fs::PermissionsExt;
    let (src, _) = fixture_pair("umask");
    let url = src.url();
    for (umask, expected) in [("022", 0o644), ("027", 0o640)] {
        let dir = scratch();
        let artifact = dir.path().join("a.seedpack");
        let script = dir.path().join("a.sql.gz");
        let under_umask = |args: &[&str]| {
            let out = std::process::Command::new("sh")
                .arg("-c")
                .arg(format!("umask {umask}; exec \"$0\" \"$@\""))
                .arg(env!("CARGO_BIN_EXE_seedpack"))
                .args(args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        under_umask(&[
            "dump",
            "-q",
            "--dsn",
            &url,
            "-o",
            artifact.to_str().unwrap(),
        ]);
        under_umask(&[
            "export",
            "--file",
            artifact.to_str().unwrap(),
            "-o",
            script.to_str().unwrap(),
        ]);
        let sidecar = dir.path().join("a.seedpack.sha256");
        for file in [&artifact, &sidecar, &script] {
            let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
            assert_eq!(
                mode,
                expected,
                "{} under umask {umask}: {mode:o}",
                file.display()
            );
        }
    }
}

#[test]
fn export_into_head_ends_quietly_every_time() {
    let src = crate::support::TestDb::new("export_head").with_sql(
        "CREATE TABLE public.rows (id int PRIMARY KEY, payload text);
         INSERT INTO public.rows SELECT i, md5(i::text) FROM generate_series(1, 50000) i;",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "head");
    for run in 0..40 {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg("set -o pipefail; \"$0\" export --file \"$1\" | head -n 3 >/dev/null")
            .arg(env!("CARGO_BIN_EXE_seedpack"))
            .arg(&artifact)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "run {run}: {stderr}");
        assert!(stderr.is_empty(), "run {run}: {stderr}");
    }
}

#[test]
fn logs_get_a_line_per_table_and_per_phase() {
    let (src, dst) = fixture_pair("loglines");
    let dir = scratch();
    let artifact = dir.path().join("log.seedpack");
    let url = src.url();
    let dump = seedpack(&["dump", "--dsn", &url, "-o", artifact.to_str().unwrap()])
        .secret(&src.cluster.owner_password)
        .run()
        .ok();
    let tables = manifest_json(&artifact)["tables"].as_array().unwrap().len();
    assert!(
        dump.stderr
            .starts_with(&format!("seedpack: dump: {tables} tables\n")),
        "{}",
        dump.stderr
    );
    assert!(
        dump.stderr
            .contains("seedpack: dump: \"public\".\"book\": 3 rows, "),
        "{}",
        dump.stderr
    );
    assert!(
        dump.stderr.contains(&format!("({tables}/{tables} tables)")),
        "{}",
        dump.stderr
    );

    let run = crate::support::restore_with(&dst, &artifact, &[]);
    let run = run.ok();
    let lines: Vec<&str> = run.stderr.lines().collect();
    assert!(
        lines[0].starts_with(&format!("seedpack: restore: {tables} tables, ")),
        "{}",
        run.stderr
    );
    assert_eq!(lines.len(), tables + 2, "{}", run.stderr);
    assert_eq!(
        lines.last().copied(),
        Some("seedpack: restore: keys, indexes, foreign keys, triggers"),
        "{}",
        run.stderr
    );
    // --quiet and --json keep stderr for errors.
    let quiet = crate::support::restore_with(&dst, &artifact, &["--quiet", "--force"]).ok();
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
}
