//! Asking before a restore writes: on the terminal, or not at all.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use super::restore_text;
use crate::error::Error;
use crate::restore::{Action, Confirm, Request};

/// Asks on the terminal: shows the tables and their rows now and after,
/// and goes ahead only on `y` or `yes`. With no terminal it refuses (exit
/// 3) rather than guess: scripts pass `--yes`.
#[derive(Debug, Default, Clone, Copy)]
pub struct Terminal;

impl Confirm for Terminal {
    async fn confirm(&self, request: &Request<'_>) -> Result<()> {
        if !std::io::stdin().is_terminal() {
            return Err(Error::Refused(
                "no terminal to ask for confirmation on; pass --yes to restore without asking"
                    .into(),
            )
            .into());
        }
        let mut preview = restore_text::restore_preview(request.target, request.tables, "rows now");
        for note in request.notes {
            preview.push_str(&format!("note: {note}\n"));
        }
        let question = format!(
            "{} {} table(s) in {}?",
            verb(request.action),
            request.tables.len(),
            request.target
        );
        let answer = tokio::task::spawn_blocking(move || -> std::io::Result<String> {
            let mut stderr = std::io::stderr();
            write!(stderr, "{preview}{question} [y/N] ")?;
            stderr.flush()?;
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            Ok(line)
        })
        .await??;
        match answer.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => Ok(()),
            _ => Err(Error::Refused("restore declined; nothing was changed".into()).into()),
        }
    }
}

fn verb(action: Action) -> &'static str {
    match action {
        Action::DropAndRecreate => "Drop and recreate",
        Action::CreateSchema => "Create the schema of",
        Action::Replace => "Replace the contents of",
        Action::Upsert => "Upsert into",
        Action::InsertMissing => "Insert missing rows into",
    }
}
