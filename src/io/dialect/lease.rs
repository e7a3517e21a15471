//! The witness lease's statements (issue 11 §2) and how their answers read. MariaDB 10.11 is
//! what the tests run; the statements are plain SQL that MySQL 8.0 also parses (see the MySQL
//! note below for what differs there).
//!
//! **Session.** Every connection first runs [`PREPARE`]: `sql_log_bin = 0`, so the lease
//! row's writes never enter the binary log (it neither replicates to the other node nor adds
//! a GTID to either history); `time_zone = '+00:00'`, so `NOW(6)` and `expires` are UTC and a
//! daylight-saving change cannot step them by an hour.
//!
//! **Privileges (verified on MariaDB 10.11.19)**, for the account that claims, renews and
//! releases, on every voter:
//! - `SELECT, UPDATE ON keepalived_mysql.guard`: the conditional UPDATE reads the columns it
//!   tests (without SELECT: error 1143 "SELECT command denied ... for column 'id'").
//! - `BINLOG ADMIN`: `SET SESSION sql_log_bin` (error 1227 "you need (at least one of) the
//!   SUPER, BINLOG ADMIN privilege(s)").
//! - `READ_ONLY ADMIN`: writing the row on a voter with `read_only=ON` (every fenced node, and
//!   a witness that is a replica). Without it: error 1290 "running with the --read-only
//!   option". On MariaDB 10.11 SUPER no longer implies it. The account can only write what its
//!   table grants allow, so READ_ONLY ADMIN here lets it write this one row, nothing else.
//!
//! **MySQL (not tested).** `sql_log_bin` needs `SYSTEM_VARIABLES_ADMIN` (or
//! `SESSION_VARIABLES_ADMIN`, 8.0.14+); `read_only` is bypassed by `CONNECTION_ADMIN`/SUPER,
//! but `super_read_only=ON`, which notify-backup sets on MySQL, refuses the UPDATE from every
//! account, SUPER included (1290). So a fenced MySQL node cannot grant a vote, and a MySQL
//! claimant cannot claim its own row before it unfences: witness mode on MySQL needs the
//! voters' rows outside the fenced servers (e.g. three witnesses) or a fence with
//! `read_only` only; this code does not do that.

use crate::io::mysql::{ResultSets, Row};
use crate::model::lease::{GuardRow, VoterError, VoterErrorKind};
use crate::model::observation::{
    ER_BAD_DB, ER_COLUMNACCESS_DENIED, ER_NO_SUCH_TABLE, ER_SPECIFIC_ACCESS_DENIED,
    ER_TABLEACCESS_DENIED, Refusal,
};

/// Run once per connection, before anything else: the session the lease is written in, and
/// who the voter is (its `@@server_id`, which orders the claims).
pub const PREPARE: &str = "SET SESSION sql_log_bin = 0, SESSION time_zone = '+00:00'; \
    SELECT @@GLOBAL.server_id AS server_id";

/// ER_OPTION_PREVENTS_STATEMENT: `read_only` refused the write (MariaDB: the account lacks
/// READ_ONLY ADMIN; MySQL: also `super_read_only`, which no grant lifts).
pub const ER_OPTION_PREVENTS_STATEMENT: u16 = 1290;

/// Claim or renew: ONE conditional UPDATE that succeeds only if the row is free
/// (`holder = 0`), expired on this voter's clock (`expires < NOW(6)`), or already ours; then
/// the row read back in the same round trip. `epoch` counts holder changes (assignments run
/// left to right, so it compares the old holder). `NOW(6)` is the statement's start time, the
/// same in the test and in the new `expires`. `me` is the claimant's server_id (never 0),
/// `ttl_us` the TTL in microseconds. Run after [`PREPARE`] on the same connection.
pub fn claim(me: u32, ttl_us: u64) -> String {
    format!(
        "UPDATE keepalived_mysql.guard SET epoch = epoch + (holder <> {me}), holder = {me}, \
         expires = NOW(6) + INTERVAL {ttl_us} MICROSECOND \
         WHERE id = 1 AND (holder = {me} OR holder = 0 OR expires < NOW(6)); \
         SELECT ROW_COUNT() AS changed, @@GLOBAL.server_id AS server_id, holder, epoch, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', expires) AS expires_us, \
         TIMESTAMPDIFF(MICROSECOND, '1970-01-01', NOW(6)) AS now_us \
         FROM keepalived_mysql.guard WHERE id = 1"
    )
}

/// Give the row back if it is ours: free, and expired. Run after [`PREPARE`]; answers the
/// number of rows changed (1: it was ours, 0: it was not).
pub fn release(me: u32) -> String {
    format!(
        "UPDATE keepalived_mysql.guard SET holder = 0, expires = '1970-01-01 00:00:01' \
         WHERE id = 1 AND holder = {me}; SELECT ROW_COUNT() AS changed"
    )
}

/// check-mysql in witness mode, on its local connection: who this server is (the claimant's
/// id) and whether it is writable (whether it renews). No privilege needed.
pub const LOCAL: &str = "SELECT @@GLOBAL.server_id AS server_id, @@GLOBAL.read_only AS read_only";

/// The guard row read without claiming it (a fenced, refused node's check: a peek). Plain
/// SELECT: no `sql_log_bin`, so only `SELECT` on the table is needed; `UTC_TIMESTAMP(6)`
/// reads the voter's clock in UTC as [`claim`] writes `expires` (under `time_zone =
/// '+00:00'`). `changed` is 0: nothing was changed.
pub const PEEK: &str = "SELECT 0 AS changed, @@GLOBAL.server_id AS server_id, holder, epoch, \
    TIMESTAMPDIFF(MICROSECOND, '1970-01-01', expires) AS expires_us, \
    TIMESTAMPDIFF(MICROSECOND, '1970-01-01', UTC_TIMESTAMP(6)) AS now_us \
    FROM keepalived_mysql.guard WHERE id = 1";

/// [`LOCAL`]'s answer: server_id and read_only (`None` when unreadable).
pub fn local(sets: &ResultSets) -> (Option<u32>, Option<bool>) {
    let row = sets.iter().flatten().next();
    (
        row.and_then(|r| parsed(r, "server_id")),
        row.and_then(|r| parsed::<u8>(r, "read_only"))
            .map(|v| v != 0),
    )
}

fn column<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    row.iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.as_deref())
}

fn parsed<T: std::str::FromStr>(row: &Row, name: &str) -> Option<T> {
    column(row, name)?.trim().parse().ok()
}

/// The voter's server_id from [`PREPARE`]'s answer.
pub fn server_id(sets: &ResultSets) -> Option<u32> {
    sets.iter()
        .flatten()
        .find_map(|row| parsed(row, "server_id"))
}

/// The row read back by [`claim`]; `Err`: no row (split-brain.sql's `INSERT` of row id = 1
/// is missing) or an unreadable one.
pub fn guard_row(sets: &ResultSets) -> Result<GuardRow, VoterError> {
    let row = sets
        .iter()
        .flatten()
        .find(|row| column(row, "now_us").is_some())
        .ok_or_else(|| VoterError {
            code: ER_NO_SUCH_TABLE,
            message: "keepalived_mysql.guard has no row with id = 1".into(),
            kind: VoterErrorKind::NoGuardTable,
        })?;
    let unreadable = || VoterError {
        code: 0,
        message: format!("unreadable guard row: {row:?}"),
        kind: VoterErrorKind::Other,
    };
    Ok(GuardRow {
        server_id: parsed(row, "server_id").ok_or_else(unreadable)?,
        changed: parsed(row, "changed").unwrap_or(0),
        holder: parsed(row, "holder").ok_or_else(unreadable)?,
        epoch: parsed(row, "epoch").ok_or_else(unreadable)?,
        expires_us: parsed(row, "expires_us").ok_or_else(unreadable)?,
        now_us: parsed(row, "now_us").ok_or_else(unreadable)?,
    })
}

/// The rows [`release`] changed.
pub fn released(sets: &ResultSets) -> Option<u64> {
    sets.iter().flatten().find_map(|row| parsed(row, "changed"))
}

/// What a voter's error number on the lease statements means (numbers: MariaDB Error Codes).
pub fn kind_of(code: u16) -> VoterErrorKind {
    match code {
        ER_NO_SUCH_TABLE | ER_BAD_DB => VoterErrorKind::NoGuardTable,
        ER_TABLEACCESS_DENIED
        | ER_COLUMNACCESS_DENIED
        | ER_SPECIFIC_ACCESS_DENIED
        | ER_OPTION_PREVENTS_STATEMENT => VoterErrorKind::Privilege,
        c if Refusal::of(c) == Refusal::Account => VoterErrorKind::Account,
        _ => VoterErrorKind::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cols: &[(&str, Option<&str>)]) -> Row {
        cols.iter()
            .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
            .collect()
    }

    /// The read-back as MariaDB 10.11 sends it (text protocol, one row).
    #[test]
    fn reads_the_row_as_the_server_sends_it() {
        let sets = vec![vec![row(&[
            ("changed", Some("1")),
            ("server_id", Some("3")),
            ("holder", Some("1")),
            ("epoch", Some("4")),
            ("expires_us", Some("1796003051832962")),
            ("now_us", Some("1796003045833625")),
        ])]];
        let r = guard_row(&sets).unwrap();
        assert_eq!(
            r,
            GuardRow {
                server_id: 3,
                changed: 1,
                holder: 1,
                epoch: 4,
                expires_us: 1_796_003_051_832_962,
                now_us: 1_796_003_045_833_625,
            }
        );
        assert_eq!(r.expires_in_ms(), 5999);
        // No row id = 1: split-brain.sql was not (fully) run.
        let e = guard_row(&vec![vec![]]).unwrap_err();
        assert_eq!(e.kind, VoterErrorKind::NoGuardTable);
        assert_eq!(
            server_id(&vec![vec![row(&[("server_id", Some("2"))])]]),
            Some(2)
        );
        assert_eq!(
            released(&vec![vec![row(&[("changed", Some("0"))])]]),
            Some(0)
        );
    }

    #[test]
    fn error_numbers_name_what_to_fix() {
        let rows = [
            (1146, VoterErrorKind::NoGuardTable),
            (1049, VoterErrorKind::NoGuardTable),
            (1142, VoterErrorKind::Privilege),
            (1143, VoterErrorKind::Privilege),
            (1227, VoterErrorKind::Privilege),
            (1290, VoterErrorKind::Privilege),
            (1045, VoterErrorKind::Account),
            (1130, VoterErrorKind::Account),
            (1040, VoterErrorKind::Other),
            (1927, VoterErrorKind::Other),
        ];
        for (code, kind) in rows {
            assert_eq!(kind_of(code), kind, "{code}");
        }
    }

    #[test]
    fn the_statements() {
        assert_eq!(
            claim(7, 6_000_000),
            "UPDATE keepalived_mysql.guard SET epoch = epoch + (holder <> 7), holder = 7, \
             expires = NOW(6) + INTERVAL 6000000 MICROSECOND \
             WHERE id = 1 AND (holder = 7 OR holder = 0 OR expires < NOW(6)); \
             SELECT ROW_COUNT() AS changed, @@GLOBAL.server_id AS server_id, holder, epoch, \
             TIMESTAMPDIFF(MICROSECOND, '1970-01-01', expires) AS expires_us, \
             TIMESTAMPDIFF(MICROSECOND, '1970-01-01', NOW(6)) AS now_us \
             FROM keepalived_mysql.guard WHERE id = 1"
        );
        assert!(release(7).contains("WHERE id = 1 AND holder = 7"));
        assert!(!PEEK.contains("UPDATE") && PEEK.starts_with("SELECT"));
        let sets = vec![vec![row(&[
            ("server_id", Some("1")),
            ("read_only", Some("0")),
        ])]];
        assert_eq!(local(&sets), (Some(1), Some(false)));
        let sets = vec![vec![row(&[
            ("server_id", Some("2")),
            ("read_only", Some("1")),
        ])]];
        assert_eq!(local(&sets), (Some(2), Some(true)));
        assert_eq!(local(&vec![vec![]]), (None, None));
    }
}
