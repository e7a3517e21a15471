//! What the notify helpers do on the server: every SQL statement they send ([`sql`]), and how
//! a failed connection or query is classified.

use mysql::Conn;

use super::{Context, NotifyError};
use crate::io::dialect::{self, notify as sql};
use crate::io::mysql::query_sets;
use crate::model::observation::{Dialect, Failure, ObserveError, Refusal, ReplicaStatus};

/// What a failed connection means for a notify helper, by the one classification of
/// [`crate::model::observation::Failure`]: the server refusing this account is
/// [`NotifyError::Refused`] (a configuration error, with what to fix); a server at its
/// connection limit is [`NotifyError::Saturated`] (up but not reached, so notify-backup
/// retries; the message names the grant that avoids it); anything else is
/// [`NotifyError::Connect`]. Their exit codes: [`NotifyError::exit`].
pub(crate) fn connect_error(what: &'static str, e: ObserveError) -> NotifyError {
    match e.failure.refusal() {
        Some(Refusal::Account) => NotifyError::Refused { what, error: e },
        Some(Refusal::Saturated) => NotifyError::Saturated { what, error: e },
        _ => NotifyError::Connect { what, error: e },
    }
}

/// A failed query, classified as [`connect_error`] does: a refused account or a missing
/// privilege is [`NotifyError::Privilege`] (a configuration error), anything else
/// [`NotifyError::Query`].
pub(crate) fn query_error(statement: &str, e: mysql::Error) -> NotifyError {
    let statement = statement.to_string();
    match Failure::of(&e).refusal() {
        Some(Refusal::Guard) => NotifyError::GuardTable {
            statement,
            error: e,
        },
        Some(Refusal::Account) => NotifyError::Privilege {
            statement,
            error: e,
        },
        _ => NotifyError::Query {
            statement,
            error: e,
        },
    }
}

/// The server's dialect ([`dialect::detect`]: one round trip on MariaDB), noting its
/// `read_only` in `ctx`.
pub(crate) fn dialect_of(ctx: &Context, conn: &mut Conn) -> Result<Dialect, NotifyError> {
    let detected = dialect::detect(conn).map_err(|e| query_error("query failed", e))?;
    if detected.read_only.is_some() {
        ctx.read_only.set(detected.read_only);
    }
    Ok(detected.dialect)
}

/// Every replication connection ([`dialect::replica_status`]: `SHOW SLAVE STATUS` on MySQL
/// before 8.0.22).
pub(crate) fn replicas(
    conn: &mut Conn,
    dialect: Dialect,
) -> Result<Vec<ReplicaStatus>, NotifyError> {
    dialect::replica_status(conn, dialect)
        .map_err(|e| query_error(dialect::status_statement(dialect), e))
}

pub(crate) fn exec(conn: &mut Conn, q: &str) -> Result<crate::io::mysql::ResultSets, NotifyError> {
    match query_sets(conn, q) {
        (sets, None) => Ok(sets),
        (_, Some(e)) => Err(query_error(q, e)),
    }
}

/// Set `read_only` ([`sql::set_read_only`]); the value read back is noted in `ctx`.
pub(crate) fn set_read_only(
    ctx: &Context,
    conn: &mut Conn,
    dialect: Dialect,
    on: bool,
) -> Result<(), NotifyError> {
    exec(conn, sql::set_read_only(dialect, on))?;
    // Read it back: the statement can succeed on a server where another session changes it.
    let sets = exec(conn, sql::READ_ONLY)?;
    let now = crate::io::mysql::first_value(&sets);
    let now_on = dialect::flag(now.as_deref());
    ctx.read_only.set(now.is_some().then_some(now_on));
    if now_on != on {
        return Err(NotifyError::ReadOnlyUnchanged { now_on });
    }
    Ok(())
}
