//! What the notify helpers do on the server: every SQL statement they send ([`sql`]), and how
//! a failed connection or query is classified.

use mysql::Conn;

use super::{Context, NotifyError};
use crate::observe::{self, Dialect, Failure, ObserveError, Refusal, error_text, query_sets};

/// What a failed connection means for a notify helper, by the one classification of
/// [`observe::Failure`]: the server refusing this account is a configuration error (78, with
/// what to fix); a server at its connection limit is up but could not be reached (1, so
/// notify-backup retries), and the message names the grant that avoids it; no answer is down.
pub(crate) fn connect_error(what: &str, e: &ObserveError) -> NotifyError {
    match e.failure.refusal() {
        Some(Refusal::Account) => NotifyError::Privilege(format!(
            "{what}: {e}: the server refuses this account: fix user= and password= in the \
             option file or the account's grants (README, least privileges of the notify \
             helpers)"
        )),
        Some(Refusal::Saturated) => NotifyError::Down(format!(
            "{what}: {e}: the server is at its connection limit: GRANT CONNECTION ADMIN to \
             this account so that it gets past it (README, least privileges of the notify \
             helpers)"
        )),
        _ => NotifyError::Down(format!("{what}: {e}")),
    }
}

/// A failed query, classified as [`connect_error`] does: a refused account or a missing
/// privilege is a configuration error (78).
fn query_error(what: &str, e: &mysql::Error) -> NotifyError {
    match Failure::of(e).refusal() {
        Some(Refusal::Account) => NotifyError::Privilege(format!(
            "{what}: {} (see README, least privileges)",
            error_text(e)
        )),
        _ => NotifyError::Down(format!("{what}: {}", error_text(e))),
    }
}

/// Every SQL statement notify-master and notify-backup send, and how their answers read
/// (to move to `io/dialect.rs` as it is).
pub(crate) mod sql {
    use crate::observe::Dialect;

    /// The dialect and `read_only`, in one round trip.
    pub const VERSION_AND_READ_ONLY: &str = "SELECT VERSION(), @@GLOBAL.read_only";
    /// `read_only`, read back after setting it.
    pub const READ_ONLY: &str = "SELECT @@GLOBAL.read_only";

    /// The dialect, from `VERSION()`: MariaDB when it says so, else MySQL.
    pub fn dialect(version: &str) -> Dialect {
        if version.contains("MariaDB") {
            Dialect::MariaDb
        } else {
            Dialect::MySql
        }
    }

    /// Fence (`on`) or unfence; on MySQL `super_read_only`, which also fences SUPER users
    /// (and implies `read_only`).
    pub fn set_read_only(dialect: Dialect, on: bool) -> &'static str {
        match (dialect, on) {
            (Dialect::MariaDb, true) => "SET GLOBAL read_only=ON",
            (Dialect::MariaDb, false) => "SET GLOBAL read_only=OFF",
            (Dialect::MySql, true) => "SET GLOBAL super_read_only=ON",
            (Dialect::MySql, false) => "SET GLOBAL super_read_only=OFF, GLOBAL read_only=OFF",
        }
    }

    /// Every replication connection, with what its IO thread has received.
    pub fn replica_status(dialect: Dialect) -> &'static str {
        match dialect {
            Dialect::MariaDb => "SHOW ALL SLAVES STATUS",
            Dialect::MySql => "SHOW REPLICA STATUS",
        }
    }

    /// Wait at most `secs` for `pos` (a validated GTID list) to be applied.
    pub fn wait_for(dialect: Dialect, pos: &str, secs: f64) -> String {
        match dialect {
            Dialect::MariaDb => format!("SELECT MASTER_GTID_WAIT('{pos}', {secs:.3})"),
            Dialect::MySql => format!("SELECT WAIT_FOR_EXECUTED_GTID_SET('{pos}', {secs:.3})"),
        }
    }

    /// The answer of [`wait_for`].
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Waited {
        Applied,
        NotYet,
        /// Anything else (NULL: not a valid position, ...).
        Unexpected,
    }

    /// MariaDB KB "MASTER_GTID_WAIT": 0 done, -1 timeout; MySQL `WAIT_FOR_EXECUTED_GTID_SET`:
    /// 0 done, 1 timeout.
    pub fn waited(dialect: Dialect, answer: Option<&str>) -> Waited {
        match (dialect, answer) {
            (_, Some("0")) => Waited::Applied,
            (Dialect::MariaDb, Some("-1")) | (Dialect::MySql, Some("1")) => Waited::NotYet,
            _ => Waited::Unexpected,
        }
    }
}

/// `1`/`ON` as read back from `@@read_only`.
fn is_on(value: Option<&str>) -> bool {
    matches!(value, Some("1" | "ON"))
}

/// The server's dialect, noting its `read_only` in `ctx` (one round trip).
pub(crate) fn dialect_of(ctx: &Context, conn: &mut Conn) -> Result<Dialect, NotifyError> {
    let (sets, err) = query_sets(conn, sql::VERSION_AND_READ_ONLY);
    if let Some(e) = err {
        return Err(query_error("query failed", &e));
    }
    let row = sets.first().and_then(|rows| rows.first());
    let column = |i: usize| row.and_then(|r| r.get(i)).and_then(|(_, v)| v.as_deref());
    if column(1).is_some() {
        ctx.read_only.set(Some(is_on(column(1))));
    }
    Ok(sql::dialect(column(0).unwrap_or_default()))
}

pub(crate) fn exec(conn: &mut Conn, q: &str) -> Result<observe::ResultSets, NotifyError> {
    match query_sets(conn, q) {
        (sets, None) => Ok(sets),
        (_, Some(e)) => Err(query_error(q, &e)),
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
    let now = observe::first_value(&sets);
    let now_on = is_on(now.as_deref());
    ctx.read_only.set(now.is_some().then_some(now_on));
    if now_on != on {
        return Err(NotifyError::Down(format!(
            "read_only is still {} after setting it",
            if now_on { "ON" } else { "OFF" }
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_answers_of_both_dialects() {
        use sql::Waited::{Applied, NotYet, Unexpected};
        let rows = [
            (Dialect::MariaDb, Some("0"), Applied),
            (Dialect::MariaDb, Some("-1"), NotYet),
            (Dialect::MariaDb, Some("1"), Unexpected),
            (Dialect::MariaDb, None, Unexpected),
            (Dialect::MySql, Some("0"), Applied),
            (Dialect::MySql, Some("1"), NotYet),
            (Dialect::MySql, Some("-1"), Unexpected),
            (Dialect::MySql, None, Unexpected),
        ];
        for (dialect, answer, expected) in rows {
            assert_eq!(
                sql::waited(dialect, answer),
                expected,
                "{dialect:?} {answer:?}"
            );
        }
        assert_eq!(sql::dialect("10.11.6-MariaDB-0+deb12u1"), Dialect::MariaDb);
        assert_eq!(sql::dialect("8.0.36"), Dialect::MySql);
    }
}
