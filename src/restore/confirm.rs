//! Asking before replacing data: on the terminal, or not at all.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;

use crate::error::Error;

/// Show `preview` and ask `question` on the terminal; refuse (exit 3) when
/// the answer is not yes, or when there is no terminal to ask on.
pub async fn ask(preview: String, question: String) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        return Err(Error::Refused(
            "no terminal to ask for confirmation on; pass --yes to restore without asking".into(),
        )
        .into());
    }
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
