//! `seedpack export --format sql`: an artifact as a plain SQL script that
//! `psql -v ON_ERROR_STOP=1 --single-transaction -f OUT` restores into an
//! empty database with the same result as `seedpack restore`.
//!
//! The script runs the schema's pre-data DDL, loads each table with an
//! inline `COPY ... FROM stdin`, then runs the post-data DDL (keys, indexes,
//! foreign keys, triggers, views): foreign keys are added after the data,
//! so cycles and self-references load without deferral or superuser.
//! Table data is checked against its checksum as it is copied; a file
//! output is written under a temporary name and renamed only when complete.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use flate2::write::GzEncoder;
use flate2::Compression;

use crate::artifact::{
    check_data, ArtifactReader, Digesting, Manifest, ObjectKind, Phase, SchemaObject,
};
use crate::atomic_file::write_atomically;
use crate::ident::{quote_ident, quote_literal};

/// Settings the script runs with: the same as a restore session's.
const PREAMBLE: &str = "\
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SET DateStyle = 'ISO';
SET IntervalStyle = 'postgres';
SET extra_float_digits = 3;
SET TimeZone = 'UTC';
SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET check_function_bodies = false;
SET row_security = off;
SELECT pg_catalog.set_config('search_path', '', false);
";

/// Write the script for the artifact at `path` to `out` (standard output:
/// nothing can be taken back, so every checksum is checked first).
pub fn export_to(path: &Path, out: &mut impl Write) -> Result<()> {
    let reader = ArtifactReader::open(path)?;
    reader.check_members(true)?;
    write_script(&reader, out)?;
    out.flush()?;
    Ok(())
}

/// Write the script for the artifact at `path` into the file `target`,
/// gzip-compressed when its name ends in `.gz`. The file appears whole or
/// not at all.
pub fn export_to_file(path: &Path, target: &Path) -> Result<PathBuf> {
    let reader = ArtifactReader::open(path)?;
    reader.check_members(false)?;
    write_atomically(target, |file| {
        if target.extension().is_some_and(|e| e == "gz") {
            let mut encoder = GzEncoder::new(file, Compression::default());
            write_script(&reader, &mut encoder)?;
            encoder.finish()?;
        } else {
            write_script(&reader, file)?;
        }
        Ok(())
    })
}

fn write_script(reader: &ArtifactReader, out: &mut impl Write) -> Result<()> {
    let manifest = reader.manifest();
    header(manifest, out)?;
    out.write_all(PREAMBLE.as_bytes())?;
    if let Some(schema) = &manifest.schema {
        writeln!(out, "\n-- schema: before the data\n")?;
        for object in schema.phase(Phase::PreData) {
            writeln!(out, "{}\n", object.sql)?;
        }
    }
    if !manifest.schema_only {
        writeln!(out, "\n-- data\n")?;
        for (position, entry) in manifest.tables.iter().enumerate() {
            let columns: Vec<String> = entry.columns.iter().map(|c| quote_ident(&c.name)).collect();
            if columns.is_empty() {
                writeln!(out, "COPY {} FROM stdin;", entry.name)?;
            } else {
                writeln!(
                    out,
                    "COPY {} ({}) FROM stdin;",
                    entry.name,
                    columns.join(", ")
                )?;
            }
            let mut data = Digesting::new(reader.table_data(position)?);
            std::io::copy(&mut data, out)
                .with_context(|| format!("cannot copy the data of table {}", entry.name))?;
            check_data(entry, data.finish())?;
            writeln!(out, "\\.\n")?;
        }
    }
    if let Some(schema) = &manifest.schema {
        writeln!(out, "\n-- schema: after the data\n")?;
        for object in schema.phase(Phase::PostData) {
            match (&object.needs, object.kind) {
                (_, ObjectKind::Grant) => writeln!(out, "{}\n", granting(object))?,
                (None, _) => writeln!(out, "{}\n", object.sql)?,
                (Some(table), _) => writeln!(out, "{}\n", needing(&object.sql, table))?,
            }
        }
    }
    if !manifest.schema_only && !manifest.sequences.is_empty() {
        writeln!(out, "\n-- sequences\n")?;
        for sequence in &manifest.sequences {
            writeln!(
                out,
                "SELECT pg_catalog.setval({}, {}, {});",
                quote_literal(&sequence.name.quoted()),
                sequence.last_value,
                sequence.is_called
            )?;
        }
    }
    Ok(())
}

fn header(manifest: &Manifest, out: &mut impl Write) -> Result<()> {
    writeln!(
        out,
        "-- seedpack export of database {} (PostgreSQL {}), created {}\n\
         -- content id {}\n\
         -- restore into an empty database with:\n\
         --   psql -v ON_ERROR_STOP=1 --single-transaction -f THIS_FILE",
        one_line(&manifest.database),
        one_line(&manifest.server_version),
        one_line(&manifest.created_at),
        manifest.content_id
    )?;
    if manifest.schema.is_none() {
        writeln!(
            out,
            "-- this artifact carries no schema: the tables must exist already"
        )?;
    }
    for warning in manifest.schema.iter().flat_map(|s| &s.warnings) {
        writeln!(out, "-- warning: {}", one_line(warning))?;
    }
    for object in manifest.schema.iter().flat_map(|s| &s.objects) {
        if let Some(requirement) = &object.requires {
            writeln!(
                out,
                "-- needs PostgreSQL {} or later: {} ({})",
                requirement.server_version_num / 10000,
                one_line(&requirement.feature),
                one_line(&object.name)
            )?;
        }
    }
    writeln!(out)?;
    Ok(())
}

/// DDL that needs a table outside the artifact (a foreign key to a table the
/// dump did not carry), run only where the target has that table, as
/// `seedpack restore` does; else a line names it. psql's own conditionals
/// (`\gset`, `\if`), since the script is for psql.
fn needing(sql: &str, table: &crate::ident::QualifiedName) -> String {
    format!(
        "SELECT pg_catalog.to_regclass({name}) IS NOT NULL AS seedpack_has_table \\gset\n\
         \\if :seedpack_has_table\n\
         {sql}\n\
         \\else\n\
         \\echo {warning}\n\
         \\endif",
        name = quote_literal(&table.quoted()),
        warning = one_line(&format!(
            "seedpack: warning: {table} does not exist: a foreign key referencing it is not created"
        )),
    )
}

/// A grant (`dump --privileges`), run only where the target has its roles,
/// as `seedpack restore --privileges` does; else a line names them.
fn granting(object: &SchemaObject) -> String {
    if object.roles.is_empty() {
        return object.sql.clone();
    }
    let roles: Vec<String> = object.roles.iter().map(|r| quote_literal(r)).collect();
    format!(
        "SELECT pg_catalog.count(*) = {count} AS seedpack_has_roles FROM pg_catalog.pg_roles \
         WHERE rolname IN ({roles}) \\gset\n\
         \\if :seedpack_has_roles\n\
         {sql}\n\
         \\else\n\
         \\echo {warning}\n\
         \\endif",
        count = roles.len(),
        roles = roles.join(", "),
        sql = object.sql,
        warning = one_line(&format!(
            "seedpack: warning: the target lacks a role of grant {}: it is left out",
            object.name
        )),
    )
}

/// Text from the manifest made safe inside a `--` comment.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}
