//! Progress as plain lines, for logs: when standard error is not a terminal
//! (a CI job, a release command), a line per table as it finishes, a line
//! at most every [`INTERVAL`] while a long table streams, and a line per
//! phase. CI systems stop jobs that print nothing for ten minutes; these
//! lines also say, afterwards, where the time went.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::text::human_bytes;
use crate::progress::{Progress, TableProgress};

/// The longest a long table streams without a line.
pub const INTERVAL: Duration = Duration::from_secs(10);

/// Where the lines go, shared by the tables in flight.
type Sink = Arc<Mutex<Box<dyn Write + Send>>>;

/// Progress of a dump or restore, as lines.
pub struct LogLines {
    out: Sink,
    interval: Duration,
    verb: Mutex<String>,
    tables: AtomicUsize,
    done: Arc<AtomicUsize>,
}

impl std::fmt::Debug for LogLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogLines").finish_non_exhaustive()
    }
}

/// One table streaming, reported as lines; its last line when done.
struct LogTable {
    out: Sink,
    interval: Duration,
    line_start: String,
    tables: usize,
    done: Arc<AtomicUsize>,
    bytes: u64,
    rows: u64,
    last_line: Instant,
}

impl LogLines {
    /// Lines on standard error.
    pub fn stderr() -> Self {
        Self::new(Box::new(std::io::stderr()), INTERVAL)
    }

    fn new(out: Box<dyn Write + Send>, interval: Duration) -> Self {
        Self {
            out: Arc::new(Mutex::new(out)),
            interval,
            verb: Mutex::new(String::new()),
            tables: AtomicUsize::new(0),
            done: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn verb(&self) -> String {
        self.verb.lock().map(|v| v.clone()).unwrap_or_default()
    }
}

/// Write one line; a log that cannot be written to is no reason to stop.
fn line(out: &Sink, text: &str) {
    if let Ok(mut out) = out.lock() {
        let _ = writeln!(out, "seedpack: {text}");
    }
}

impl Progress for LogLines {
    fn begin(&self, verb: &str, tables: usize, bytes: Option<u64>) {
        if let Ok(mut current) = self.verb.lock() {
            *current = verb.to_owned();
        }
        self.tables.store(tables, Ordering::Relaxed);
        let size = bytes.map_or_else(String::new, |b| format!(", {}", human_bytes(b)));
        line(&self.out, &format!("{verb}: {tables} tables{size}"));
    }

    fn table(&self, name: &str, _bytes: Option<u64>) -> Box<dyn TableProgress> {
        Box::new(LogTable {
            out: Arc::clone(&self.out),
            interval: self.interval,
            line_start: format!("{}: {name}", self.verb()),
            tables: self.tables.load(Ordering::Relaxed),
            done: Arc::clone(&self.done),
            bytes: 0,
            rows: 0,
            last_line: Instant::now(),
        })
    }

    fn advance_bytes(&self, _: u64) {}

    fn table_done(&self) {}

    fn phase(&self, label: &str) {
        line(&self.out, &format!("{}: {label}", self.verb()));
    }

    fn finish(&self) {}
}

impl TableProgress for LogTable {
    fn advance(&mut self, chunk: &[u8]) {
        self.bytes += chunk.len() as u64;
        self.rows += chunk.iter().filter(|&&b| b == b'\n').count() as u64;
        if self.last_line.elapsed() >= self.interval {
            self.last_line = Instant::now();
            line(
                &self.out,
                &format!(
                    "{}: {} rows, {} so far",
                    self.line_start,
                    self.rows,
                    human_bytes(self.bytes)
                ),
            );
        }
    }

    fn done(&mut self) {
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        line(
            &self.out,
            &format!(
                "{}: {} rows, {} ({done}/{} tables)",
                self.line_start,
                self.rows,
                human_bytes(self.bytes),
                self.tables
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer the test reads back.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_line_per_table_per_interval_and_per_phase() {
        let captured = Captured::default();
        let lines = LogLines::new(Box::new(captured.clone()), Duration::ZERO);
        lines.begin("restore", 2, Some(2048));
        {
            let mut table = lines.table("\"public\".\"big\"", Some(12));
            table.advance(b"1\ta\n2\tb\n");
            table.advance(b"3\tc\n");
            table.done();
        }
        // A table abandoned halfway (an error) says nothing more.
        let mut failed = lines.table("\"public\".\"other\"", Some(1));
        failed.advance(b"1\n");
        drop(failed);
        lines.phase("keys, indexes, foreign keys, triggers");
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(
            text,
            "seedpack: restore: 2 tables, 2.0 KiB\n\
             seedpack: restore: \"public\".\"big\": 2 rows, 8 B so far\n\
             seedpack: restore: \"public\".\"big\": 3 rows, 12 B so far\n\
             seedpack: restore: \"public\".\"big\": 3 rows, 12 B (1/2 tables)\n\
             seedpack: restore: \"public\".\"other\": 1 rows, 2 B so far\n\
             seedpack: restore: keys, indexes, foreign keys, triggers\n"
        );
    }

    #[test]
    fn nothing_between_intervals() {
        let captured = Captured::default();
        let lines = LogLines::new(Box::new(captured.clone()), Duration::from_secs(3600));
        lines.begin("dump", 1, None);
        lines.table("t", None).done();
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 2, "{text}");
    }
}
