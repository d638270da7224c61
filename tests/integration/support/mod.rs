//! Test support: a fresh database per test on a shared throwaway cluster,
//! and a runner for the `seedpack` binary as a user would run it.

pub mod blocking;
pub mod cluster;
pub mod forge;
pub mod pg_dump;
pub mod readers;
pub mod tar_layout;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

pub use cluster::Cluster;

static NEXT_DB: AtomicUsize = AtomicUsize::new(0);

/// A database owned by the non-superuser test role, dropped when the test
/// passes and kept (with its cluster) when it fails.
#[must_use]
pub struct TestDb {
    pub name: String,
    pub cluster: &'static Cluster,
}

impl TestDb {
    /// A new empty database on the shared cluster.
    pub fn new(label: &str) -> TestDb {
        Self::on(cluster::shared(), label)
    }

    pub fn on(cluster: &'static Cluster, label: &str) -> TestDb {
        let name = format!(
            "t_{label}_{}_{}",
            std::process::id(),
            NEXT_DB.fetch_add(1, Ordering::SeqCst)
        );
        cluster
            .admin_sql(&format!(
                "CREATE DATABASE \"{name}\" OWNER {} TEMPLATE template0 ENCODING 'UTF8'",
                cluster::OWNER
            ))
            .unwrap_or_else(|e| panic!("cannot create database {name}: {e}"));
        TestDb { name, cluster }
    }

    /// Run SQL as the owner; panics with the server's message on error.
    pub fn with_sql(self, sql: &str) -> Self {
        self.sql(sql);
        self
    }

    pub fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("SQL failed in {}: {e}\n{sql}", self.name))
    }

    pub fn try_sql(&self, sql: &str) -> Result<String, String> {
        cluster::psql(&self.cluster.psql, &self.url(), sql)
    }

    /// Run SQL as the cluster's superuser in this database.
    pub fn admin_sql(&self, sql: &str) -> String {
        cluster::psql(&self.cluster.psql, &self.admin_url(), sql)
            .unwrap_or_else(|e| panic!("admin SQL failed in {}: {e}\n{sql}", self.name))
    }

    /// The cluster superuser's URL for this database (holds the password).
    pub fn admin_url(&self) -> String {
        match self.cluster.admin_url.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{}", self.name),
            None => panic!("admin URL without a database"),
        }
    }

    /// The owner's URL for this database (holds the password: never print it).
    pub fn url(&self) -> String {
        self.cluster.owner_url(&self.name)
    }

    /// Everything a restore must reproduce, as text: every user table's rows
    /// (sorted), every constraint and trigger definition and state, and
    /// every sequence's state. Read with fixed settings so the text is exact.
    /// seedpack's own history schema is left out: it is bookkeeping. NOT
    /// NULL constraints are too: PostgreSQL 18 lists them as constraints,
    /// earlier majors as column properties; nor are the clones partitions
    /// get of a constraint or trigger, which each major names its own way.
    pub fn snapshot(&self) -> String {
        let tables = self.sql(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r','p') AND n.nspname NOT IN ('pg_catalog','information_schema','seedpack')
               AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'seedpack\\_shadow\\_%'
             ORDER BY 1",
        );
        let mut out = String::new();
        for table in tables.lines() {
            out.push_str(&format!("== {table}\n"));
            out.push_str(&self.sql(&format!(
                "SET extra_float_digits = 3; SET TimeZone = 'UTC'; SET DateStyle = 'ISO';
                 SET IntervalStyle = 'postgres'; SET bytea_output = 'hex';
                 SELECT t::text FROM ONLY {table} t ORDER BY t::text COLLATE \"C\""
            )));
            out.push('\n');
        }
        out.push_str("== constraints\n");
        out.push_str(&self.sql(
            "SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
                    || ' deferrable=' || condeferrable || ' deferred=' || condeferred
                    || ' valid=' || convalidated || ' comment=' || coalesce(obj_description(oid, 'pg_constraint'), '')
             FROM pg_constraint WHERE contype <> 'n' AND conparentid = 0 AND connamespace NOT IN
               (SELECT oid FROM pg_namespace WHERE nspname IN ('pg_catalog','information_schema','seedpack')
                  OR nspname LIKE 'seedpack\\_shadow\\_%')
             ORDER BY 1",
        ));
        out.push_str("\n== triggers\n");
        out.push_str(&self.sql(
            "SELECT tgrelid::regclass || ' ' || tgname || ' ' || tgenabled::text || ' ' || pg_get_triggerdef(oid)
             FROM pg_trigger WHERE NOT tgisinternal AND tgparentid = 0 ORDER BY 1",
        ));
        out.push_str("\n== sequences\n");
        let sequences = self
            .sql("SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences WHERE schemaname <> 'seedpack' AND schemaname NOT LIKE 'seedpack\\_shadow\\_%' ORDER BY 1");
        for sequence in sequences.lines() {
            out.push_str(&format!(
                "{sequence} {}\n",
                self.sql(&format!(
                    "SELECT last_value || ' ' || is_called FROM {sequence}"
                ))
            ));
        }
        out
    }
}

impl TestDb {
    /// As `snapshot`, without the sequences' states: what a merge that
    /// rolled back must leave as it was (a merge moves sequences forward
    /// outside its transaction, as `nextval` would).
    pub fn rows_and_constraints(&self) -> String {
        rows_and_constraints(&self.snapshot())
    }
}

/// A snapshot's rows and constraints, without the sequences' states.
pub fn rows_and_constraints(snapshot: &str) -> String {
    snapshot
        .split("== sequences")
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The catalog definitions of every user object, through the server's
/// deparsers: tables and columns, constraints, indexes, triggers, sequences,
/// views, types, functions, operators and their classes and families,
/// casts, collations, conversions, text search objects and comments. Equal
/// text means equal definitions.
const DEFINITIONS: &str = "
SET search_path = '';
WITH user_ns AS (
    SELECT oid FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'seedpack') AND nspname NOT LIKE 'pg_toast%'
)
SELECT line FROM (
  SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || c.relpersistence::text
         || coalesce(' by ' || pg_get_partkeydef(c.oid), '')
         || coalesce(' ' || pg_get_expr(c.relpartbound, c.oid), '')
         || ' inherits ' || coalesce((SELECT string_agg(i.inhparent::regclass::text, ',' ORDER BY i.inhseqno)
                                      FROM pg_inherits i WHERE i.inhrelid = c.oid), '-')
         || ' options ' || coalesce(c.reloptions::text, '-') AS line
  FROM pg_class c WHERE c.relnamespace IN (SELECT oid FROM user_ns) AND c.relkind IN ('r','p','v','m','S','c')
  UNION ALL
  SELECT 'column ' || a.attrelid::regclass || '.' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
         || ' notnull=' || a.attnotnull || ' identity=' || a.attidentity::text || ' generated=' || a.attgenerated::text
         || ' collation=' || a.attcollation::regcollation || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
         || ' local=' || a.attislocal
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  WHERE c.relnamespace IN (SELECT oid FROM user_ns) AND c.relkind IN ('r','p','v','m','c') AND a.attnum > 0 AND NOT a.attisdropped
  UNION ALL
  SELECT 'constraint ' || coalesce(conrelid::regclass::text, contypid::regtype::text) || ' ' || conname || ' '
         || pg_get_constraintdef(oid) || ' local=' || conislocal
  FROM pg_constraint WHERE connamespace IN (SELECT oid FROM user_ns) AND contype <> 'n' AND conparentid = 0
  UNION ALL
  SELECT 'index ' || pg_get_indexdef(i.indexrelid) || ' clustered=' || i.indisclustered
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
  WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND c.relnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'sequence ' || s.seqrelid::regclass || ' ' || format_type(s.seqtypid, NULL) || ' ' || s.seqstart || ' '
         || s.seqincrement || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle
         || ' owned=' || coalesce((SELECT d.refobjid::regclass || '.' || d.refobjsubid || ' ' || d.deptype::text
                                   FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
                                     AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a','i')), '-')
  FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid)
  FROM pg_class c WHERE c.relkind IN ('v','m') AND c.relnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'type ' || format_type(t.oid, NULL) || ' ' || t.typtype::text || ' '
         || coalesce((SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
         || coalesce(format_type(t.typbasetype, t.typtypmod), '') || ' ' || t.typnotnull || ' ' || coalesce(t.typdefault, '')
  FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM user_ns) AND t.typtype IN ('e','d','c','r')
    AND (t.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')
  UNION ALL
  SELECT 'function ' || pg_get_functiondef(p.oid)
  FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM user_ns) AND p.prokind <> 'a'
  UNION ALL
  SELECT 'operator ' || o.oid::regoperator || ' ' || o.oprcode::regproc || ' ' || o.oprcom::regoperator
         || ' ' || o.oprnegate::regoperator || ' ' || o.oprcanmerge || o.oprcanhash || ' '
         || o.oprrest::regproc || ' ' || o.oprjoin::regproc
  FROM pg_operator o WHERE o.oprnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'opclass ' || (pg_identify_object('pg_opclass'::regclass, c.oid, 0)).identity || ' ' || c.opcdefault
         || ' ' || format_type(c.opcintype, NULL) || ' ' || c.opckeytype::regtype
         || ' family ' || (pg_identify_object('pg_opfamily'::regclass, c.opcfamily, 0)).identity
  FROM pg_opclass c WHERE c.opcnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'opfamily ' || (pg_identify_object('pg_opfamily'::regclass, f.oid, 0)).identity || ' '
         || coalesce((SELECT string_agg(a.amopstrategy || ':' || a.amopopr::regoperator || ':' || a.amoppurpose::text,
                                        ',' ORDER BY a.amopstrategy, a.amopopr::regoperator::text)
                      FROM pg_amop a WHERE a.amopfamily = f.oid), '') || ' '
         || coalesce((SELECT string_agg(p.amprocnum || ':' || p.amproc::regprocedure, ',' ORDER BY p.amprocnum,
                                        p.amproc::regprocedure::text)
                      FROM pg_amproc p WHERE p.amprocfamily = f.oid), '')
  FROM pg_opfamily f WHERE f.opfnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'cast ' || format_type(c.castsource, NULL) || ' ' || format_type(c.casttarget, NULL) || ' '
         || c.castfunc::regprocedure || ' ' || c.castcontext::text || c.castmethod::text
  FROM pg_cast c WHERE c.oid >= 16384
    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass AND d.objid = c.oid AND d.deptype IN ('e', 'i'))
  UNION ALL
  SELECT 'collation ' || c.oid::regcollation || ' ' || c.collprovider::text || ' ' || c.collisdeterministic
         || ' ' || coalesce(c.collcollate, '') || ' ' || coalesce(c.collctype, '')
  FROM pg_collation c WHERE c.collnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'conversion ' || c.conname || ' ' || pg_encoding_to_char(c.conforencoding) || ' '
         || pg_encoding_to_char(c.contoencoding) || ' ' || c.conproc::regproc || ' ' || c.condefault
  FROM pg_conversion c WHERE c.connamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'text search dictionary ' || d.oid::regdictionary || ' ' || (SELECT t.tmplname FROM pg_ts_template t WHERE t.oid = d.dicttemplate) || ' '
         || coalesce(d.dictinitoption, '')
  FROM pg_ts_dict d WHERE d.dictnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'text search configuration ' || c.oid::regconfig || ' ' || (SELECT p.prsname FROM pg_ts_parser p WHERE p.oid = c.cfgparser) || ' '
         || coalesce((SELECT string_agg(m.maptokentype || ':' || m.mapdict::regdictionary, ','
                                        ORDER BY m.maptokentype, m.mapseqno)
                      FROM pg_ts_config_map m WHERE m.mapcfg = c.oid), '')
  FROM pg_ts_config c WHERE c.cfgnamespace IN (SELECT oid FROM user_ns)
  UNION ALL
  SELECT 'comment ' || pg_describe_object(d.classoid, d.objoid, d.objsubid) || ' ' || d.description
  FROM pg_description d
  WHERE d.objoid >= 16384 AND d.classoid <> 'pg_namespace'::regclass
    AND NOT (d.classoid = 'pg_class'::regclass AND d.objoid IN
             (SELECT oid FROM pg_class WHERE relnamespace = to_regnamespace('seedpack')))
) defs ORDER BY line COLLATE \"C\"";

impl TestDb {
    /// See [`DEFINITIONS`].
    pub fn definitions(&self) -> String {
        self.sql(DEFINITIONS)
    }

    /// The shadow schemas `restore --jobs` left, comma-separated.
    pub fn shadow_schemas(&self) -> String {
        self.sql("SELECT coalesce(string_agg(nspname, ','), '') FROM pg_namespace WHERE nspname LIKE 'seedpack\\_shadow\\_%'")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.cluster.keep();
            eprintln!(
                "kept database {} on {}:{} for inspection (user {})",
                self.name,
                self.cluster.host,
                self.cluster.port,
                cluster::OWNER
            );
        } else {
            let _ = self.cluster.admin_sql(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// What a seedpack run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Panics with the output unless the exit code is `code`.
    #[track_caller]
    pub fn expect_code(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        self.expect_code(0)
    }
}

/// A `seedpack` invocation in a scratch directory, with the libpq and
/// seedpack variables of the calling environment removed.
#[must_use]
pub struct Seedpack {
    cmd: Command,
    secrets: Vec<String>,
}

/// The variables of the calling environment a test's seedpack (or script)
/// run must not see: every setting seedpack reads, and the backtrace switch
/// (a panic must show as one, not as a backtrace the test reads past).
pub fn caller_variables() -> impl Iterator<Item = &'static str> {
    seedpack::env::SETTINGS
        .into_iter()
        .chain(["RUST_BACKTRACE"])
}

pub fn seedpack(args: &[&str]) -> Seedpack {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_seedpack"));
    cmd.args(args);
    for var in caller_variables() {
        cmd.env_remove(var);
    }
    let cluster = cluster::shared();
    Seedpack {
        cmd,
        secrets: vec![cluster.owner_password.clone()],
    }
}

impl Seedpack {
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn current_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }

    /// Also check that this string never appears in the output.
    pub fn secret(mut self, secret: &str) -> Self {
        if !secret.is_empty() {
            self.secrets.push(secret.to_owned());
        }
        self
    }

    /// Spawn without waiting (for kill tests). Output is discarded.
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn seedpack")
    }

    /// Run to completion. Every run checks that no password was printed.
    pub fn run(mut self) -> Run {
        let output: Output = self
            .cmd
            .stdin(Stdio::null())
            .output()
            .expect("run seedpack");
        let run = Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        for secret in &self.secrets {
            assert!(
                !run.stdout.contains(secret.as_str()) && !run.stderr.contains(secret.as_str()),
                "a password appeared in seedpack's output:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        assert!(
            !run.stderr.contains("panicked"),
            "seedpack panicked:\n{}",
            run.stderr
        );
        run
    }
}

/// A scratch directory for artifacts, removed at the end of the test.
pub fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("seedpack-artifacts-")
        .tempdir()
        .expect("temp dir")
}

/// `seedpack dump --quiet` of `db` into `path`, with `extra` arguments.
pub fn dump_command(db: &TestDb, path: &Path, extra: &[&str]) -> Seedpack {
    let url = db.url();
    let mut args = vec![
        "dump",
        "--quiet",
        "--dsn",
        &url,
        "--output",
        path.to_str().unwrap(),
    ];
    args.extend(extra);
    seedpack(&args).secret(&db.cluster.owner_password)
}

/// Each of `queries` answers the same in `target` as in `source`.
pub fn assert_same_answers(source: &TestDb, target: &TestDb, queries: &[&str]) {
    for query in queries {
        assert_eq!(target.sql(query), source.sql(query), "{query}");
    }
}

/// The password in a `postgresql://user:password@host/db` URL, or "".
pub fn url_password(url: &str) -> String {
    let credentials = url
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('@'))
        .map(|(credentials, _)| credentials)
        .unwrap_or_default();
    credentials
        .split_once(':')
        .map(|(_, password)| password.to_owned())
        .unwrap_or_default()
}

/// Dump `db` into `dir/name.seedpack` and return the path.
pub fn dump(db: &TestDb, dir: &Path, name: &str) -> PathBuf {
    dump_with(db, dir, name, &[])
}

/// Dump `db` with `extra` arguments into `dir/name.seedpack`.
pub fn dump_with(db: &TestDb, dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let path = dir.join(format!("{name}.seedpack"));
    dump_command(db, &path, extra).run().ok();
    path
}

/// The manifest, as `seedpack inspect --json` prints it.
pub fn manifest_json(artifact: &Path) -> serde_json::Value {
    let run = seedpack(&["inspect", "--json", "--file", artifact.to_str().unwrap()])
        .run()
        .ok();
    serde_json::from_str(&run.stdout).expect("inspect --json prints JSON")
}

/// The manifest entry of the table named `name` (in any schema).
pub fn manifest_table<'a>(manifest: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    manifest["tables"]
        .as_array()
        .expect("a tables array")
        .iter()
        .find(|t| t["name"] == name)
        .unwrap_or_else(|| panic!("no table {name} in the manifest"))
}

/// Restore `artifact` into `db` with `--yes --quiet`.
pub fn restore(db: &TestDb, artifact: &Path) -> Run {
    restore_with(db, artifact, &["--quiet"])
}

/// `seedpack restore --yes --file artifact --dsn db` with `extra` arguments.
pub fn restore_with(db: &TestDb, artifact: &Path, extra: &[&str]) -> Run {
    let url = db.url();
    let mut args = vec![
        "restore",
        "--yes",
        "-f",
        artifact.to_str().unwrap(),
        "--dsn",
        &url,
    ];
    args.extend(extra);
    seedpack(&args).secret(&db.cluster.owner_password).run()
}

/// `seedpack check --file artifact --dsn db` with `extra` arguments.
pub fn check_with(db: &TestDb, artifact: &Path, extra: &[&str]) -> Run {
    let url = db.url();
    let mut args = vec!["check", "--file", artifact.to_str().unwrap(), "--dsn", &url];
    args.extend(extra);
    seedpack(&args).secret(&db.cluster.owner_password).run()
}

/// The fixture files under tests/fixtures.
pub fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
