//! Bad input: thousands of mutated and truncated artifacts, a decompression
//! bomb, and hostile manifests. Each is refused with a clean error: no
//! panic, no hang, and no write to a live target.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use seedpack::artifact::ArtifactReader;

use crate::roundtrip::fixture_pair;
use crate::support::forge::{compress, forge, Members};
use crate::support::{dump, dump_with, fixture, restore, scratch, seedpack, TestDb};

/// A small, seeded generator: the same mutations on every run.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One random way of damaging an artifact.
fn mutate(original: &[u8], rng: &mut XorShift) -> Vec<u8> {
    let mut bytes = original.to_vec();
    match rng.below(5) {
        0 => {
            let at = rng.below(bytes.len());
            bytes[at] ^= 1 << rng.below(8);
        }
        1 => bytes.truncate(rng.below(bytes.len())),
        2 => {
            for _ in 0..1 + rng.below(16) {
                let at = rng.below(bytes.len());
                bytes[at] = rng.next() as u8;
            }
        }
        3 => {
            let at = rng.below(bytes.len());
            let junk: Vec<u8> = (0..1 + rng.below(700)).map(|_| rng.next() as u8).collect();
            bytes.splice(at..at, junk);
        }
        _ => {
            let from = rng.below(bytes.len());
            let to = (from + 1 + rng.below(2048)).min(bytes.len());
            bytes.drain(from..to);
        }
    }
    bytes
}

/// Open and fully check an artifact in-process: Ok, or the error's text.
fn read_all(path: &Path) -> Result<(), String> {
    let reader = ArtifactReader::open(path).map_err(|e| e.to_string())?;
    reader.check_members(true).map_err(|e| e.to_string())?;
    Ok(())
}

#[test]
fn thousands_of_mutated_artifacts_are_refused_without_panic_or_hang() {
    let (src, _dst) = fixture_pair("mutate");
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "mutate");
    let original = std::fs::read(&artifact).unwrap();
    assert_eq!(read_all(&artifact), Ok(()));
    let mut rng = XorShift(0x5eed_9ac4_0000_0001);
    let path = dir.path().join("mutated.seedpack");
    let mut refused = 0;
    for case in 0..3000 {
        let bytes = mutate(&original, &mut rng);
        if bytes == original {
            continue;
        }
        std::fs::write(&path, &bytes).unwrap();
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| read_all(&path)))
            .unwrap_or_else(|_| panic!("case {case} panicked the reader"));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "case {case} took {:?}",
            started.elapsed()
        );
        match outcome {
            Err(message) => {
                assert!(
                    !message.is_empty() && !message.contains('\n'),
                    "case {case}: {message:?}"
                );
                refused += 1;
            }
            Ok(()) => panic!("case {case}: a damaged artifact was accepted"),
        }
    }
    assert!(refused > 2900, "{refused}");
}

#[test]
fn mutated_artifacts_never_write_to_a_live_target() {
    let (src, dst) = fixture_pair("mutate_live");
    dst.sql(&fixture("core_data.sql"));
    dst.sql("UPDATE public.book SET title = 'must survive'");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "live");
    let original = std::fs::read(&artifact).unwrap();
    let mut rng = XorShift(0xdead_beef_cafe_f00d);
    for case in 0..25 {
        let path = dir.path().join(format!("case{case}.seedpack"));
        std::fs::write(&path, mutate(&original, &mut rng)).unwrap();
        let run = restore(&dst, &path);
        assert_eq!(run.code, 2, "case {case}: {}", run.stderr);
    }
    assert_eq!(dst.snapshot(), before);
    assert_eq!(
        dst.sql("SELECT count(*) FROM pg_namespace WHERE nspname = 'seedpack'"),
        "0"
    );
}

#[test]
fn a_decompression_bomb_stops_at_the_size_its_manifest_states() {
    let src = TestDb::new("bomb_src")
        .with_sql("CREATE TABLE public.t (v text); INSERT INTO public.t VALUES ('a');");
    let dst = TestDb::new("bomb_dst")
        .with_sql("CREATE TABLE public.t (v text); INSERT INTO public.t VALUES ('kept');");
    let dir = scratch();
    for method in ["zstd", "gzip"] {
        let artifact = dump_with(&src, dir.path(), method, &["--compress", method]);
        let bomb = dir.path().join(format!("bomb-{method}.seedpack"));
        // 64 MiB of newlines compress to a few KiB.
        forge(&artifact, &bomb, |m, data| {
            data[0].1 = compress(m.compression, &vec![b'\n'; 64 << 20])
        });
        let started = Instant::now();
        let run = seedpack(&["verify", "-f", bomb.to_str().unwrap()])
            .run()
            .expect_code(2);
        assert!(
            run.stderr.contains("expands to more than the 2 bytes"),
            "{method}: {}",
            run.stderr
        );
        let run = restore(&dst, &bomb).expect_code(2);
        assert!(
            run.stderr.contains("expands to more than"),
            "{method}: {}",
            run.stderr
        );
        assert!(started.elapsed() < Duration::from_secs(20));
        assert_eq!(dst.sql("SELECT v FROM public.t"), "kept");
    }
}

#[test]
fn hostile_manifests_are_refused_and_write_nothing() {
    let (src, dst) = fixture_pair("hostile");
    dst.sql("CREATE TABLE public.victim (id int); INSERT INTO public.victim VALUES (1);");
    let before = dst.snapshot();
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "hostile");
    let case = |name: &str, edit: &dyn Fn(&mut seedpack::artifact::Manifest, &mut Members)| {
        let path = dir.path().join(format!("{name}.seedpack"));
        forge(&artifact, &path, |m, d| edit(m, d));
        path
    };
    let expect = |path: &Path, extra: &[&str], code: i32, words: &str| {
        let url = dst.url();
        let mut args = vec![
            "restore",
            "--yes",
            "-f",
            path.to_str().unwrap(),
            "--dsn",
            &url,
        ];
        args.extend(extra);
        let run = seedpack(&args).run().expect_code(code);
        assert!(
            run.stderr.contains(words),
            "expected {words:?}: {}",
            run.stderr
        );
        // One error line (progress lines for a log may come before it).
        let errors: Vec<&str> = run
            .stderr
            .lines()
            .filter(|l| !l.starts_with("seedpack: restore: "))
            .collect();
        assert_eq!(errors.len(), 1, "{}", run.stderr);
        assert!(errors[0].starts_with("seedpack: error: "), "{}", run.stderr);
    };

    let future = case("future", &|m, _| m.format_version = 99);
    expect(&future, &[], 2, "newer than this seedpack understands");
    let duplicate = case("duplicate", &|m, _| {
        let mut copy = m.tables[1].clone();
        copy.member = m.tables[0].member.clone();
        m.tables[0] = copy;
    });
    expect(&duplicate, &[], 2, "twice");
    let traversal = case("traversal", &|m, d| {
        d[0].0 = "../../etc/cron.d/x".into();
        m.tables[0].member = "../../etc/cron.d/x".into();
    });
    expect(&traversal, &[], 2, "not a seedpack artifact");
    let absurd_rows = case("rows", &|m, _| m.tables[0].rows = u64::MAX);
    expect(&absurd_rows, &[], 2, "row count mismatch");
    let absurd_bytes = case("bytes", &|m, _| m.tables[0].bytes = u64::MAX);
    expect(&absurd_bytes, &[], 2, "more than they could hold");
    // Without a schema section, so the names reach the database (quoted).
    let sql_name = case("sqlname", &|m, _| {
        m.schema = None;
        m.tables[0].name.name = "x\"; DROP TABLE public.victim; --".into();
    });
    expect(
        &sql_name,
        &["--data-only"],
        3,
        "does not exist in the target database",
    );
    let sql_column = case("sqlcolumn", &|m, _| {
        m.schema = None;
        let table = m.tables.iter_mut().find(|t| t.name.name == "book").unwrap();
        table.columns[0].name = "id\" text); DROP TABLE public.victim; --".into();
    });
    expect(
        &sql_column,
        &["--data-only"],
        3,
        "is missing from the target",
    );
    // A manifest whose data and schema disagree is refused before connecting.
    let no_ddl = case("noddl", &|m, _| {
        let schema = m.schema.as_mut().unwrap();
        let name = m
            .tables
            .iter()
            .find(|t| t.name.name == "book")
            .unwrap()
            .name
            .clone();
        schema.objects.retain(|o| {
            !(o.kind == seedpack::artifact::ObjectKind::Table && o.table.as_ref() == Some(&name))
        });
    });
    expect(
        &no_ddl,
        &[],
        2,
        "table \"public\".\"book\": the manifest's schema has no CREATE TABLE for it",
    );
    let other_column = case("othercolumn", &|m, _| {
        let table = m.tables.iter_mut().find(|t| t.name.name == "book").unwrap();
        table.columns[1].name = "subtitle".into();
    });
    expect(
        &other_column,
        &[],
        2,
        "its data holds column \"subtitle\", which its CREATE TABLE does not define",
    );
    assert_eq!(dst.snapshot(), before);
}

#[test]
fn data_with_honest_checksums_that_copy_would_reject_is_refused_before_connecting() {
    let src = TestDb::new("copytext_src").with_sql(
        "CREATE TABLE public.pair (a int PRIMARY KEY, b text); INSERT INTO public.pair VALUES (1, 'x');",
    );
    let dir = scratch();
    let artifact = dump(&src, dir.path(), "pair");
    let cases: [(&str, &[u8], &str); 3] = [
        (
            "fields",
            b"1\tx\textra\n",
            "line 1: 3 fields, the table has 2 columns",
        ),
        ("marker", b"1\tx\n\\.\n", "line 2: the end-of-data marker"),
        ("unended", b"1\tx\n2\ty", "does not end with a newline"),
    ];
    for (name, text, words) in cases {
        let path = dir.path().join(format!("{name}.seedpack"));
        forge(&artifact, &path, |m, d| {
            d[0].1 = compress(m.compression, text);
            let table = &mut m.tables[0];
            table.bytes = text.len() as u64;
            table.rows = text.iter().filter(|&&b| b == b'\n').count() as u64;
            table.data_sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(text));
        });
        let file = path.to_str().unwrap();
        let verify = seedpack(&["verify", "--file", file]).run().expect_code(2);
        assert!(verify.stderr.contains(words), "{name}: {}", verify.stderr);
        // Refused before connecting: the server here does not exist.
        let run = seedpack(&[
            "restore",
            "--yes",
            "-f",
            file,
            "--dsn",
            "postgres://u@127.0.0.1:1/none",
        ])
        .run()
        .expect_code(2);
        assert!(run.stderr.contains(words), "{name}: {}", run.stderr);
    }
}
