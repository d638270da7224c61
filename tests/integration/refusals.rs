//! The target refuses (exit 3) before any write: missing tables, changed
//! columns, outside rows referencing the artifact, no confirmation.

use std::process::Command;

use crate::roundtrip::fixture_pair;
use crate::support::{dump, dump_with, fixture, restore, restore_with, scratch, seedpack};

#[test]
fn with_data_only_a_missing_target_table_is_refused_by_name() {
    let (src, dst) = fixture_pair("missing");
    dst.sql("DROP TABLE public.log_line; INSERT INTO public.region VALUES ('kept');");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "missing");
    let run = restore_with(&dst, &artifact, &["--data-only"]).expect_code(3);
    assert!(
        run.stderr
            .contains("table \"public\".\"log_line\" does not exist"),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn an_incompatible_column_is_refused_naming_table_and_column() {
    let (src, dst) = fixture_pair("incompat");
    dst.sql("ALTER TABLE public.book ALTER COLUMN title TYPE varchar(5) USING left(title, 5)");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "incompat");
    let run = restore(&dst, &artifact).expect_code(3);
    assert!(
        run.stderr.contains("\"public\".\"book\": column title has type character varying(5) in the target but text"),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);

    dst.sql("ALTER TABLE public.book ALTER COLUMN title TYPE text; ALTER TABLE public.book DROP COLUMN title");
    let run = restore(&dst, &artifact).expect_code(3);
    assert!(
        run.stderr
            .contains("column title is missing from the target"),
        "{}",
        run.stderr
    );
}

#[test]
fn outside_rows_referencing_an_emptied_table_are_refused_naming_both() {
    let (src, dst) = fixture_pair("outside");
    dst.sql(&fixture("core_data.sql"));
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump_with(&src, dir.path(), "regions", &["--table", "region"]);
    let run = restore(&dst, &artifact).expect_code(3);
    assert!(
        run.stderr.contains("\"public\".\"measurement\" is not in the artifact but has rows referencing \"public\".\"region\""),
        "{}",
        run.stderr
    );
    assert_eq!(dst.snapshot(), before);

    // With no referencing rows outside, the restore goes ahead and the
    // outside foreign key is back, exactly.
    dst.sql("DELETE FROM public.measurement_note; DELETE FROM public.measurement;");
    let fk = "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'measurement_region_fkey' AND conparentid = 0";
    let definition = dst.sql(fk);
    restore(&dst, &artifact).ok();
    assert_eq!(
        dst.sql("SELECT string_agg(code, ',' ORDER BY code) FROM public.region"),
        "apac,eu,us"
    );
    assert_eq!(dst.sql(fk), definition);
    assert!(dst
        .try_sql("INSERT INTO public.measurement VALUES (9, 'nowhere', 1)")
        .is_err());
}

#[test]
fn without_yes_and_without_a_terminal_restore_refuses() {
    let (src, dst) = fixture_pair("notty");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "notty");
    let run = seedpack(&[
        "restore",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .run()
    .expect_code(3);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn dry_run_checks_everything_and_writes_nothing() {
    let (src, dst) = fixture_pair("dryrun");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "dryrun");
    let run = seedpack(&[
        "restore",
        "--dry-run",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &dst.url(),
    ])
    .run()
    .ok();
    assert!(run.stdout.contains("dry run"), "{}", run.stdout);
    assert!(run.stdout.contains("\"public\".\"book\""), "{}", run.stdout);
    assert_eq!(dst.snapshot(), before);
}

/// Run a restore on a pseudo-terminal (util-linux `script`), answering `answer`.
fn restore_on_a_terminal(artifact: &str, url: &str, answer: &str) -> (i32, String) {
    let command = format!(
        "{} restore -f '{artifact}' --dsn '{url}'",
        env!("CARGO_BIN_EXE_seedpack")
    );
    let mut child = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux script(1) is needed for the terminal tests");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // Give the prompt time to appear before answering.
        std::thread::sleep(std::time::Duration::from_millis(1500));
        stdin.write_all(answer.as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn on_a_terminal_restore_asks_and_honours_the_answer() {
    let (src, dst) = fixture_pair("tty");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "tty");
    let artifact = artifact.to_str().unwrap();

    let (code, text) = restore_on_a_terminal(artifact, &dst.url(), "n\n");
    assert_eq!(code, 3, "{text}");
    assert!(text.contains("Replace the contents of"), "{text}");
    assert!(text.contains(&format!("database {}", dst.name)), "{text}");
    assert!(
        !text.contains(&dst.cluster.owner_password),
        "password shown: {text}"
    );
    assert_eq!(dst.snapshot(), before);

    let (code, text) = restore_on_a_terminal(artifact, &dst.url(), "y\n");
    assert_eq!(code, 0, "{text}");
    assert_eq!(dst.snapshot(), src.snapshot());
}
