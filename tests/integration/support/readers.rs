//! An application reading while seedpack works: a loop of queries on a
//! connection of its own, timing each, for tests that a restore never
//! makes readers wait.

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
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
                .await
                .expect("a reader connection");
            tokio::spawn(connection);
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
