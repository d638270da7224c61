//! Progress bars on a terminal's stderr: the only module that knows
//! indicatif. (Logs get `log_lines`; `--quiet` and `--json` get nothing.)

use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::progress::{Progress, TableProgress};

/// Overall progress of a dump or restore, with one bar per table in flight.
#[derive(Debug)]
pub struct Bars {
    multi: MultiProgress,
    overall: OnceLock<ProgressBar>,
}

/// Progress of one table; finishes (and disappears) on drop.
#[derive(Debug)]
struct TableBar {
    bar: ProgressBar,
    rows: u64,
}

impl Bars {
    /// Bars drawn on stderr when `shown` and stderr is a terminal.
    pub fn new(shown: bool) -> Self {
        let target = if shown && std::io::stderr().is_terminal() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        };
        Self {
            multi: MultiProgress::with_draw_target(target),
            overall: OnceLock::new(),
        }
    }

    fn overall(&self) -> Option<&ProgressBar> {
        self.overall.get()
    }
}

impl Progress for Bars {
    fn begin(&self, verb: &str, tables: usize, bytes: Option<u64>) {
        let overall = match bytes {
            Some(total) => self.multi.add(ProgressBar::new(total)).with_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            ),
            None => self.multi.add(ProgressBar::new(tables as u64)).with_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} tables {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            ),
        };
        overall.set_prefix(verb.to_owned());
        overall.enable_steady_tick(Duration::from_millis(200));
        let _ = self.overall.set(overall);
    }

    fn table(&self, name: &str, bytes: Option<u64>) -> Box<dyn TableProgress> {
        let style = ProgressStyle::with_template("  {prefix:40!} {msg} {bytes} {bytes_per_sec}")
            .expect("valid template");
        let bar = self
            .multi
            .add(ProgressBar::new(bytes.unwrap_or(0)))
            .with_style(style);
        bar.set_prefix(name.to_owned());
        Box::new(TableBar { bar, rows: 0 })
    }

    fn advance_bytes(&self, bytes: u64) {
        if let Some(overall) = self.overall() {
            overall.inc(bytes);
        }
    }

    fn table_done(&self) {
        if let Some(overall) = self.overall() {
            overall.inc(1);
        }
    }

    fn phase(&self, label: &str) {
        if let Some(overall) = self.overall() {
            let verb = overall.prefix();
            let verb = verb.split(':').next().unwrap_or_default().to_owned();
            overall.set_style(
                ProgressStyle::with_template("{prefix} {spinner} {elapsed}")
                    .expect("valid template"),
            );
            overall.set_prefix(format!("{verb}: {label}"));
        }
    }

    fn finish(&self) {
        if let Some(overall) = self.overall() {
            overall.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

impl TableProgress for TableBar {
    /// Free when the bars are hidden (quiet, or no terminal): counting rows
    /// is a pass over every byte.
    fn advance(&mut self, chunk: &[u8]) {
        if self.bar.is_hidden() {
            return;
        }
        self.rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        self.bar.inc(chunk.len() as u64);
        self.bar.set_message(format!("{} rows", self.rows));
    }

    fn done(&mut self) {}
}

impl Drop for TableBar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
