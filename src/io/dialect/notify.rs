//! The statements notify-master and notify-backup send, and how their answers read
//! (detection and replication status are the check's, in the parent module).

use std::time::Duration;

use crate::model::observation::Dialect;

/// `read_only`, read back after setting it.
pub const READ_ONLY: &str = "SELECT @@GLOBAL.read_only";

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

/// Every thread (MariaDB and MySQL): with `PROCESS`, other accounts' threads too; without
/// it, only this account's, silently. Rows for [`crate::plan::fencing::Thread`].
pub const THREADS: &str = "SELECT ID, USER, COMMAND, STATE FROM information_schema.PROCESSLIST";

/// The threads with an InnoDB transaction that is not read-only (an autocommit SELECT is a
/// read-only one); needs `PROCESS` (error 1227 without it), so it is sent first: it tells
/// whether the account sees the other threads.
pub const WRITERS: &str =
    "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX WHERE trx_is_read_only = 0";

/// This connection's id and account's user name (as PROCESSLIST.USER shows it): never ended.
pub const OWN_ID: &str = "SELECT CONNECTION_ID(), SUBSTRING_INDEX(USER(), '@', 1)";

/// Bound how long this session's next statement may wait for a lock to `wait`
/// ([`crate::plan::fencing::set_wait`]). MariaDB: `max_statement_time` (seconds, fractions
/// allowed) interrupts the wait with [`ER_STATEMENT_TIMEOUT`]; `lock_wait_timeout` (whole
/// seconds; 0 fails at once with [`ER_LOCK_WAIT_TIMEOUT`], seen on 10.11) is set to 1 as well,
/// so that no wait outlives a second even if the first did not apply. MySQL has no
/// `max_statement_time` for SET, and its `lock_wait_timeout` is at least 1: there, each try
/// waits up to a second (notify-backup's `--timeout` still ends the run).
pub fn bound_lock_wait(dialect: Dialect, wait: Duration) -> String {
    match dialect {
        Dialect::MariaDb => format!(
            "SET SESSION lock_wait_timeout=1, max_statement_time={:.3}",
            wait.as_secs_f64()
        ),
        Dialect::MySql => "SET SESSION lock_wait_timeout=1".to_string(),
    }
}

/// Lift [`bound_lock_wait`]'s statement time limit again (MariaDB): the session's next
/// statements (listing, KILL) are not waits for a lock.
pub fn unbound_statements(dialect: Dialect) -> Option<&'static str> {
    match dialect {
        Dialect::MariaDb => Some("SET SESSION max_statement_time=0"),
        Dialect::MySql => None,
    }
}

/// A statement's wait for a lock passed `lock_wait_timeout` (MariaDB and MySQL).
pub const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
/// MariaDB: the statement ran past `max_statement_time`.
pub const ER_STATEMENT_TIMEOUT: u16 = 1969;

/// End session `id`: its statement and its connection; an open transaction rolls back and
/// its locks are released. Another account's session needs `CONNECTION ADMIN` (or SUPER),
/// else [`ER_KILL_DENIED`] (seen on MariaDB 10.11; `PROCESS` does not do).
///
/// `KILL CONNECTION`, not `KILL QUERY`: `KILL QUERY` ends the statement only, so an
/// explicit transaction stays open with its writes and row locks (another writer keeps
/// waiting, and where read_only does not refuse COMMIT, it commits), an idle session in a
/// transaction has no statement to end, and the client keeps writing to this node. Ending
/// the connection rolls the transaction back and sends the client to reconnect, through the
/// VIP, to the new writer.
pub fn kill(id: u64) -> String {
    format!("KILL CONNECTION {id}")
}

/// `KILL` of a thread that is already gone.
pub const ER_NO_SUCH_THREAD: u16 = 1094;
/// `KILL` of another account's thread without `CONNECTION ADMIN` ("You are not owner of
/// thread").
pub const ER_KILL_DENIED: u16 = 1095;

/// This server's `server_id` (the claim's order, `plan::guard::claim_order`).
pub const SERVER_ID: &str = "SELECT @@GLOBAL.server_id";

/// The split-brain guard's claim (docs/contract.md "Split brain"): a named lock, held by the
/// connection until it closes. No privilege is needed.
pub const CLAIM_NAME: &str = "keepalived_mysql.promote";

/// Take the claim, waiting at most `secs` (MariaDB and MySQL accept fractions of a second):
/// 1 taken, 0 another session holds it, NULL an error.
pub fn claim(secs: f64) -> String {
    format!("SELECT GET_LOCK('{CLAIM_NAME}', {secs:.3})")
}

/// What everything this node has applied is, to compare with the peer's
/// `gtid_binlog_state` (`plan::guard::caught_up_with`): MariaDB `gtid_current_pos` (what
/// `MASTER_GTID_WAIT` does not look at: it compares with `gtid_slave_pos`, which never shows
/// this node's own writes coming back from the peer), MySQL `gtid_executed`.
pub fn own_position(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MariaDb => "SELECT @@GLOBAL.gtid_current_pos",
        Dialect::MySql => "SELECT @@GLOBAL.gtid_executed",
    }
}

/// Record that this server became writable now, on its own clock in UTC
/// (`UTC_TIMESTAMP(6)`, not `NOW(6)`: the session's time zone, a daylight-saving change or
/// two nodes in different zones must not make the earlier writer look later to check-mysql's
/// yield rule, which compares the two nodes' rows and so assumes their clocks agree: NTP),
/// without writing the binary log (the guard's row is per server, packaging/split-brain.sql). `SET SESSION
/// sql_log_bin` needs BINLOG ADMIN on MariaDB 10.5.2+ (verified on 10.11: error 1227
/// without it), SUPER or SYSTEM_VARIABLES_ADMIN on MySQL; the UPDATE needs UPDATE on
/// `keepalived_mysql.guard`.
pub const SET_WRITER_SINCE: &str = "SET SESSION sql_log_bin=0; \
    UPDATE keepalived_mysql.guard SET writer_since = UTC_TIMESTAMP(6) WHERE id = 1; \
    SET SESSION sql_log_bin=1";

/// Record that this server is fenced (notify-backup), as [`SET_WRITER_SINCE`] does.
pub const CLEAR_WRITER_SINCE: &str = "SET SESSION sql_log_bin=0; \
    UPDATE keepalived_mysql.guard SET writer_since = NULL WHERE id = 1; \
    SET SESSION sql_log_bin=1";

/// Restart the IO thread of replication connection `name` (a name the server reported, so
/// quoted here): a connection that receives nothing while the peer is ahead reconnects now
/// instead of after `slave_net_timeout`. MariaDB 10.5.2+ needs REPLICATION SLAVE ADMIN
/// (verified on 10.11: error 1227 without it); MySQL REPLICATION_SLAVE_ADMIN.
pub fn restart_io(dialect: Dialect, name: &str) -> String {
    let quoted = name.replace('\\', "\\\\").replace('\'', "''");
    match dialect {
        Dialect::MariaDb => {
            format!("STOP SLAVE '{quoted}' IO_THREAD; START SLAVE '{quoted}' IO_THREAD")
        }
        Dialect::MySql => format!(
            "STOP REPLICA IO_THREAD FOR CHANNEL '{quoted}'; \
             START REPLICA IO_THREAD FOR CHANNEL '{quoted}'"
        ),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_statements() {
        assert_eq!(
            claim(0.25),
            "SELECT GET_LOCK('keepalived_mysql.promote', 0.250)"
        );
        assert_eq!(
            restart_io(Dialect::MariaDb, "b'x"),
            "STOP SLAVE 'b''x' IO_THREAD; START SLAVE 'b''x' IO_THREAD"
        );
        assert!(restart_io(Dialect::MySql, "").contains("FOR CHANNEL ''"));
        for q in [SET_WRITER_SINCE, CLEAR_WRITER_SINCE] {
            assert!(q.starts_with("SET SESSION sql_log_bin=0;"), "{q}");
        }
    }

    #[test]
    fn writer_since_is_utc_whatever_the_session_time_zone() {
        assert!(SET_WRITER_SINCE.contains("writer_since = UTC_TIMESTAMP(6)"));
        assert!(!SET_WRITER_SINCE.contains("NOW("), "{SET_WRITER_SINCE}");
    }

    #[test]
    fn wait_answers_of_both_dialects() {
        use Waited::{Applied, NotYet, Unexpected};
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
            assert_eq!(waited(dialect, answer), expected, "{dialect:?} {answer:?}");
        }
    }
}
