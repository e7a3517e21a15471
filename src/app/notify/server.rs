//! What the notify helpers do on the server: every SQL statement they send ([`sql`]), and how
//! a failed connection or query is classified.

use mysql::Conn;

use super::{Context, NotifyError};
use crate::io::dialect::{self, notify as sql};
use crate::io::mysql::query_sets;
use crate::model::observation::{Dialect, Failure, ObserveError, Refusal, ReplicaStatus};
use crate::plan::fencing::{self, Thread};

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
    read_back(ctx, conn, on)
}

/// One `SET GLOBAL read_only=ON` ([`sql::set_read_only`]) that waits at most `wait` for its
/// lock ([`sql::bound_lock_wait`]): `Ok(false)` when the wait ran out (a running write
/// statement, or a table lock, holds the lock it needs), `Ok(true)` when it was set. The
/// session's statements are unbounded again afterwards. Not read back: see [`read_back`].
pub(crate) fn try_read_only_on(
    conn: &mut Conn,
    dialect: Dialect,
    wait: std::time::Duration,
) -> Result<bool, NotifyError> {
    exec(conn, &sql::bound_lock_wait(dialect, wait))?;
    let set = sql::set_read_only(dialect, true);
    let got = match query_sets(conn, set) {
        (_, None) => true,
        (_, Some(mysql::Error::MySqlError(e)))
            if e.code == sql::ER_LOCK_WAIT_TIMEOUT || e.code == sql::ER_STATEMENT_TIMEOUT =>
        {
            false
        }
        (_, Some(e)) => return Err(query_error(set, e)),
    };
    if let Some(unbound) = sql::unbound_statements(dialect) {
        exec(conn, unbound)?;
    }
    Ok(got)
}

/// Read `read_only` back after setting it to `on` (the statement can succeed on a server
/// where another session changes it); the value is noted in `ctx`.
pub(crate) fn read_back(ctx: &Context, conn: &mut Conn, on: bool) -> Result<(), NotifyError> {
    let sets = exec(conn, sql::READ_ONLY)?;
    let now = crate::io::mysql::first_value(&sets);
    let now_on = dialect::flag(now.as_deref());
    ctx.read_only.set(now.is_some().then_some(now_on));
    if now_on != on {
        return Err(NotifyError::ReadOnlyUnchanged { now_on });
    }
    Ok(())
}

/// The first column of every row of the first result set, as numbers.
fn ids(sets: &crate::io::mysql::ResultSets) -> Vec<u64> {
    sets.first()
        .into_iter()
        .flatten()
        .filter_map(|row| row.first()?.1.as_deref()?.parse().ok())
        .collect()
}

/// The client sessions that could still commit ([`fencing::sessions_to_end`]), from
/// PROCESSLIST and INNODB_TRX. Listing other accounts' sessions needs `PROCESS`: without it,
/// [`NotifyError::SessionsUnseen`] (`read_only_on`: whether read_only=ON is set already).
pub(crate) fn sessions_to_end(
    conn: &mut Conn,
    read_only_on: bool,
) -> Result<Vec<u64>, NotifyError> {
    let writers = match query_sets(conn, sql::WRITERS) {
        (sets, None) => ids(&sets),
        (_, Some(e)) if Failure::of(&e).refusal() == Some(Refusal::Account) => {
            return Err(NotifyError::SessionsUnseen {
                read_only_on,
                error: e,
            });
        }
        (_, Some(e)) => return Err(query_error(sql::WRITERS, e)),
    };
    let own = exec(conn, sql::OWN_ID)?;
    let own_row = own.first().and_then(|set| set.first());
    let own_id = own_row
        .and_then(|row| row.first()?.1.as_deref()?.parse().ok())
        .unwrap_or(0);
    let own_user = own_row
        .and_then(|row| row.get(1)?.1.clone())
        .unwrap_or_default();
    let sets = exec(conn, sql::THREADS)?;
    let threads: Vec<Thread> = sets
        .first()
        .into_iter()
        .flatten()
        .filter_map(|row| {
            let field = |name: &str| {
                row.iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(name))
                    .and_then(|(_, v)| v.clone())
            };
            Some(Thread {
                id: field("ID")?.parse().ok()?,
                user: field("USER").unwrap_or_default(),
                command: field("COMMAND").unwrap_or_default(),
                state: field("STATE").unwrap_or_default(),
            })
        })
        .collect();
    Ok(fencing::sessions_to_end(
        &threads, &writers, own_id, &own_user,
    ))
}

/// `KILL CONNECTION` each of `ids` ([`sql::kill`], which says why not `KILL QUERY`); one
/// already gone (error 1094) counts as ended. Without `CONNECTION ADMIN`,
/// [`NotifyError::CannotEndSession`]. How many were ended.
pub(crate) fn end_sessions(conn: &mut Conn, ids: &[u64]) -> Result<usize, NotifyError> {
    for &id in ids {
        let q = sql::kill(id);
        match query_sets(conn, &q) {
            (_, None) => {}
            (_, Some(mysql::Error::MySqlError(e))) if e.code == sql::ER_NO_SUCH_THREAD => {}
            (_, Some(mysql::Error::MySqlError(e))) if e.code == sql::ER_KILL_DENIED => {
                return Err(NotifyError::CannotEndSession {
                    id,
                    error: mysql::Error::MySqlError(e),
                });
            }
            (_, Some(e)) => return Err(query_error(&q, e)),
        }
    }
    Ok(ids.len())
}
