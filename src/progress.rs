//! Progress bars on stderr: the only module that knows indicatif.
//!
//! Hidden with `--quiet` or when stderr is not a terminal, so logs and
//! pipes get only the summary.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Overall progress of a dump or restore, with one bar per table in flight.
#[derive(Debug)]
pub struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
}

/// Progress of one table; finishes (and disappears) on drop.
#[derive(Debug)]
pub struct TableProgress {
    bar: ProgressBar,
    rows: u64,
}

impl Progress {
    /// `total_bytes` of data when known (restore), else `None` (dump counts tables).
    pub fn new(quiet: bool, verb: &str, tables: usize, total_bytes: Option<u64>) -> Self {
        let target = if quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let multi = MultiProgress::with_draw_target(target);
        let overall = match total_bytes {
            Some(total) => multi.add(ProgressBar::new(total)).with_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
                )
                .expect("valid template")
                .progress_chars("=> "),
            ),
            None => multi.add(ProgressBar::new(tables as u64)).with_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} tables {elapsed}")
                    .expect("valid template")
                    .progress_chars("=> "),
            ),
        };
        overall.set_prefix(verb.to_owned());
        overall.enable_steady_tick(Duration::from_millis(200));
        Self { multi, overall }
    }

    /// Start a bar for one table, expected to hold `bytes` when known.
    pub fn table(&self, name: &str, bytes: Option<u64>) -> TableProgress {
        let style = ProgressStyle::with_template("  {prefix:40!} {msg} {bytes} {bytes_per_sec}")
            .expect("valid template");
        let bar = self
            .multi
            .add(ProgressBar::new(bytes.unwrap_or(0)))
            .with_style(style);
        bar.set_prefix(name.to_owned());
        TableProgress { bar, rows: 0 }
    }

    /// Count bytes towards the overall total (restore).
    pub fn advance_bytes(&self, bytes: u64) {
        self.overall.inc(bytes);
    }

    /// Count one table done (dump).
    pub fn table_done(&self) {
        self.overall.inc(1);
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

impl TableProgress {
    /// Count a chunk of COPY text. Free when the bars are hidden (quiet, or
    /// no terminal): counting rows is a pass over every byte.
    pub fn advance(&mut self, chunk: &[u8]) {
        if self.bar.is_hidden() {
            return;
        }
        self.rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        self.bar.inc(chunk.len() as u64);
        self.bar.set_message(format!("{} rows", self.rows));
    }
}

impl Drop for TableProgress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}
