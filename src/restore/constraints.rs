//! What a load must suspend and put back exactly: user triggers, foreign
//! keys, and sequence states. All of it runs inside the restore transaction,
//! as the tables' owner: no superuser, no session_replication_role.

use anyhow::{anyhow, Context, Result};
use tokio_postgres::error::SqlState;
use tokio_postgres::Client;

use crate::artifact::SequenceEntry;
use crate::catalog::{ForeignKey, Trigger, UnvalidatedCheck};
use crate::ident::QualifiedName;
use crate::pg::sql::{self, TriggerState};

/// Disable every enabled user trigger, one relation at a time (disabling on
/// a partitioned table does not reach triggers defined on its partitions).
pub async fn disable_triggers(client: &Client, triggers: &[Trigger]) -> Result<()> {
    set_trigger_states(client, triggers, "disable", |_| TriggerState::Disabled).await
}

/// Put every trigger back in the state it had (enabled, replica, always).
pub async fn restore_triggers(client: &Client, triggers: &[Trigger]) -> Result<()> {
    set_trigger_states(client, triggers, "re-enable", |t| t.state).await
}

/// Set each trigger that was not disabled to `state(trigger)`; a failure
/// says it could not `verb` the trigger, naming it.
async fn set_trigger_states(
    client: &Client,
    triggers: &[Trigger],
    verb: &str,
    state: impl Fn(&Trigger) -> TriggerState,
) -> Result<()> {
    for trigger in triggers
        .iter()
        .filter(|t| t.state != TriggerState::Disabled)
    {
        client
            .batch_execute(&sql::set_trigger_state(
                &trigger.relation,
                &trigger.name,
                trigger.rule,
                state(trigger),
            ))
            .await
            .with_context(|| {
                let what = if trigger.rule { "rule" } else { "trigger" };
                format!(
                    "cannot {verb} {what} {} on {}",
                    trigger.name, trigger.relation
                )
            })?;
    }
    Ok(())
}

/// Drop foreign keys for the load. Loading without them handles cycles and
/// self-references, and re-adding validates each key in one pass.
pub async fn drop_foreign_keys<'a>(
    client: &Client,
    foreign_keys: impl IntoIterator<Item = &'a ForeignKey>,
) -> Result<()> {
    for fk in foreign_keys {
        client
            .batch_execute(&sql::drop_constraint(&fk.relation, &fk.name))
            .await
            .with_context(|| format!("cannot drop constraint {} on {}", fk.name, fk.relation))?;
    }
    Ok(())
}

/// Re-add foreign keys from the definitions the server printed, with their
/// comments, so each is exactly what it was. Validation failures name the
/// constraint.
pub async fn add_foreign_keys<'a>(
    client: &Client,
    foreign_keys: impl IntoIterator<Item = &'a ForeignKey>,
) -> Result<()> {
    for fk in foreign_keys {
        client
            .batch_execute(&sql::add_constraint(&fk.relation, &fk.name, &fk.definition))
            .await
            .map_err(|e| match e.as_db_error() {
                // The row that breaks it, as the server names it.
                Some(db) if *db.code() == SqlState::FOREIGN_KEY_VIOLATION => anyhow!(
                    "foreign key {} on {} does not hold for the restored data: {}",
                    fk.name,
                    fk.relation,
                    db.detail().unwrap_or(db.message()).trim_end_matches('.')
                ),
                _ => anyhow::Error::new(e).context(format!(
                    "cannot re-add foreign key {} on {}",
                    fk.name, fk.relation
                )),
            })?;
        if let Some(comment) = &fk.comment {
            comment_constraint(client, &fk.relation, &fk.name, comment).await?;
        }
    }
    Ok(())
}

/// Drop the `NOT VALID` checks for a replace's load.
pub async fn drop_checks(client: &Client, checks: &[UnvalidatedCheck]) -> Result<()> {
    for check in checks {
        client
            .batch_execute(&sql::drop_constraint(&check.relation, &check.name))
            .await
            .with_context(|| format!("cannot drop check {} on {}", check.name, check.relation))?;
    }
    Ok(())
}

/// Add the `NOT VALID` checks back, still not validated, with their comments.
pub async fn add_checks(client: &Client, checks: &[UnvalidatedCheck]) -> Result<()> {
    for check in checks {
        client
            .batch_execute(&sql::add_constraint(
                &check.relation,
                &check.name,
                &check.definition,
            ))
            .await
            .with_context(|| format!("cannot re-add check {} on {}", check.name, check.relation))?;
        if let Some(comment) = &check.comment {
            comment_constraint(client, &check.relation, &check.name, comment).await?;
        }
    }
    Ok(())
}

/// Put a re-added constraint's comment back (the statement built by the
/// server, which quotes the literal as it must).
async fn comment_constraint(
    client: &Client,
    relation: &QualifiedName,
    name: &str,
    comment: &str,
) -> Result<()> {
    let statement: String = client
        .query_one(
            sql::COMMENT_ON_CONSTRAINT,
            &[&name, &relation.quoted(), &comment],
        )
        .await?
        .get(0);
    client
        .batch_execute(&statement)
        .await
        .with_context(|| format!("cannot restore the comment of {name} on {relation}"))
}

/// Set each sequence to its dumped state, transactionally (see
/// [`sql::restart_sequence`]).
pub async fn set_sequences(client: &Client, sequences: &[SequenceEntry]) -> Result<()> {
    for sequence in sequences {
        client
            .batch_execute(&sql::restart_sequence(&sequence.name))
            .await
            .with_context(|| format!("cannot reset sequence {}", sequence.name))?;
        client
            .execute(
                sql::SET_SEQUENCE,
                &[
                    &sequence.name.quoted(),
                    &sequence.last_value,
                    &sequence.is_called,
                ],
            )
            .await
            .with_context(|| format!("cannot set sequence {}", sequence.name))?;
    }
    Ok(())
}
