//! An application reading while seedpack works: a loop of queries on a
//! connection of its own, timing each, for tests that a restore never
//! makes readers wait.

/// Run `work` with a connection of its own to `url`, on a runtime of its
/// own (the calling thread's).
fn on_own_connection<T, F>(url: &str, work: impl FnOnce(tokio_postgres::Client) -> F) -> T
where
    F: std::future::Future<Output = T>,
{
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async move {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("a connection of the test's own");
        tokio::spawn(connection);
        work(client).await
    })
}

/// Runs `query` in a loop on its own connection until `stop`, watching for
/// exclusive locks on `table`; returns (reads, longest read, exclusive
/// locks seen).
pub fn read_while(
    url: String,
    query: &'static str,
    table: &'static str,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> std::thread::JoinHandle<(u64, std::time::Duration, i64)> {
    std::thread::spawn(move || {
        on_own_connection(&url, |client| async move {
            let (mut reads, mut longest, mut exclusive) = (0u64, std::time::Duration::ZERO, 0i64);
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let started = std::time::Instant::now();
                client.query(query, &[]).await.expect("a read");
                longest = longest.max(started.elapsed());
                reads += 1;
                let locks: i64 = client
                    .query_one(
                        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                         WHERE c.relname = $1 AND l.mode = 'AccessExclusiveLock'",
                        &[&table],
                    )
                    .await
                    .unwrap()
                    .get(0);
                exclusive = exclusive.max(locks);
            }
            (reads, longest, exclusive)
        })
    })
}

/// A long transaction older than what the test does next: it opens a
/// REPEATABLE READ transaction on its own connection and takes its
/// snapshot (reading nothing the test changes) before this returns; when
/// told, it runs `queries` in that snapshot and returns their results.
pub struct OldSnapshot {
    read: std::sync::mpsc::Sender<()>,
    results: std::thread::JoinHandle<Vec<String>>,
}

impl OldSnapshot {
    pub fn take(url: String, queries: &'static [&'static str]) -> OldSnapshot {
        let (taken_tx, taken_rx) = std::sync::mpsc::channel();
        let (read, read_rx) = std::sync::mpsc::channel::<()>();
        let results = std::thread::spawn(move || {
            on_own_connection(&url, |client| async move {
                client
                    .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
                    .await
                    .unwrap();
                // The snapshot is taken by the first query.
                client.query_one("SELECT 1", &[]).await.unwrap();
                taken_tx.send(()).unwrap();
                read_rx.recv().expect("told to read");
                let mut results = Vec::new();
                for query in queries {
                    let row = client.query_one(*query, &[]).await.expect("a read");
                    results.push(row.get::<_, String>(0));
                }
                client.batch_execute("COMMIT").await.unwrap();
                results
            })
        });
        taken_rx.recv().expect("the old transaction's snapshot");
        OldSnapshot { read, results }
    }

    /// Run the queries in the old snapshot, now.
    pub fn read(self) -> Vec<String> {
        self.read.send(()).unwrap();
        self.results.join().expect("the old transaction's reads")
    }
}
