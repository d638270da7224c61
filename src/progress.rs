//! What long-running work reports as it goes: progress over tables, as a
//! trait dump and restore call and the output layer draws (`output::bars`)
//! or not; and one-line notices of waits, which the output layer prints.

/// Progress of a dump or restore over its tables.
pub trait Progress: Send + Sync {
    /// The work begins: `tables` tables, holding `bytes` of data when that
    /// is known up front (a restore), else counted by tables (a dump).
    fn begin(&self, verb: &str, tables: usize, bytes: Option<u64>);

    /// A table starts, expected to hold `bytes` when known.
    fn table(&self, name: &str, bytes: Option<u64>) -> Box<dyn TableProgress>;

    /// Count bytes towards the overall total (restore).
    fn advance_bytes(&self, bytes: u64);

    /// Count one table done (dump).
    fn table_done(&self);

    /// The work moved on to a phase without tables to count (a restore's
    /// keys, indexes and foreign keys): say so rather than sit at 99%.
    fn phase(&self, label: &str);

    /// The work ended, well or not: clear what was drawn.
    fn finish(&self);
}

/// Progress of one table; gone when dropped, finished or not.
pub trait TableProgress: Send {
    /// A chunk of the table's COPY text went by.
    fn advance(&mut self, chunk: &[u8]);

    /// The whole table went by.
    fn done(&mut self);
}

/// Progress nobody sees: for callers that draw nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct Unseen;

impl Progress for Unseen {
    fn begin(&self, _: &str, _: usize, _: Option<u64>) {}

    fn table(&self, _: &str, _: Option<u64>) -> Box<dyn TableProgress> {
        Box::new(Unseen)
    }

    fn advance_bytes(&self, _: u64) {}

    fn table_done(&self) {}

    fn phase(&self, _: &str) {}

    fn finish(&self) {}
}

impl TableProgress for Unseen {
    fn advance(&mut self, _: &[u8]) {}

    fn done(&mut self) {}
}

/// Where notices go: set once by the output layer; until then, nowhere.
static NOTICES: std::sync::OnceLock<fn(&str)> = std::sync::OnceLock::new();

/// Send notices (`notice`) to `print` from now on. The first call wins.
pub fn on_notice(print: fn(&str)) {
    let _ = NOTICES.set(print);
}

/// Tell the person waiting about something that takes a while but is no
/// problem (yet): a server not accepting connections, retried.
pub fn notice(text: &str) {
    if let Some(print) = NOTICES.get() {
        print(text);
    }
}
