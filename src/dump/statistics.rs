//! The planner statistics member: what a PostgreSQL 18 or newer source's
//! planner knows of the dumped tables, so that a restore into 18 or newer
//! plans like the source without waiting for ANALYZE.

use anyhow::Result;
use bytes::{BufMut, BytesMut};
use futures_util::StreamExt;
use tokio_postgres::Client;

use super::sink::ArtifactSink;
use crate::artifact::{MemberSummary, RelationStatistics};
use crate::catalog::{self, Table};

/// Bytes of JSON lines per batch sent to the writer.
const BATCH: usize = 256 << 10;

/// Write the statistics of `tables`, their partitions and indexes, one JSON
/// line per relation; `None` when no relation has any (none analyzed).
pub(super) async fn write(
    client: &Client,
    tables: &[Table],
    sink: &mut ArtifactSink,
) -> Result<Option<MemberSummary>> {
    let oids = tables.iter().map(|t| t.oid).collect();
    let relations = catalog::statistics(client, oids).await?;
    futures_util::pin_mut!(relations);
    let Some(first) = relations.next().await.transpose()? else {
        return Ok(None);
    };
    sink.begin_statistics().await?;
    let mut batch = BytesMut::with_capacity(BATCH);
    line(&mut batch, &first)?;
    while let Some(relation) = relations.next().await {
        line(&mut batch, &relation?)?;
        if batch.len() >= BATCH {
            sink.write(batch.split().freeze()).await?;
        }
    }
    if !batch.is_empty() {
        sink.write(batch.freeze()).await?;
    }
    Ok(Some(sink.end_member().await?))
}

/// One relation as a line: JSON escapes every newline inside strings.
fn line(batch: &mut BytesMut, relation: &RelationStatistics) -> Result<()> {
    serde_json::to_writer((&mut *batch).writer(), relation)?;
    batch.put_u8(b'\n');
    Ok(())
}
