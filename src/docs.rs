//! Shell completions and man pages, generated from the clap definitions so
//! they cannot drift from `--help`.

use std::path::Path;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, Shell};

/// The completion script for `shell`. (Generated into memory: clap_complete
/// panics on a failed write, and standard output may be a closed pipe.)
pub fn completions(shell: Shell) -> Result<String> {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "seedpack", &mut script);
    Ok(String::from_utf8(script)?)
}

/// The text of `seedpack.1`.
pub fn man_page() -> Result<String> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    Ok(String::from_utf8(page)?)
}

/// Write `seedpack.1` and one `seedpack-COMMAND.1` per command into `dir`.
/// Returns the files written.
pub fn man_pages(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut command = Cli::command();
    command.build();
    let mut written = Vec::new();
    let mut pages = vec![("seedpack".to_owned(), command.clone())];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        pages.push((format!("seedpack-{}", sub.get_name()), sub.clone()));
    }
    for (name, page) in pages {
        let path = dir.join(format!("{name}.1"));
        let mut file = std::fs::File::create(&path)
            .with_context(|| format!("cannot write {}", path.display()))?;
        clap_mangen::Man::new(page.name(name)).render(&mut file)?;
        written.push(path);
    }
    Ok(written)
}
