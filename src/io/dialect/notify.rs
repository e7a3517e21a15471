//! The statements notify-master and notify-backup send, and how their answers read
//! (detection and replication status are the check's, in the parent module).

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
pub const THREADS: &str = "SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST";

/// The threads with an open InnoDB transaction; needs `PROCESS` (error 1227 without it),
/// so it is sent first: it tells whether the account sees the other threads.
pub const OPEN_TRX: &str = "SELECT trx_mysql_thread_id FROM information_schema.INNODB_TRX";

/// This connection's id and account's user name (as PROCESSLIST.USER shows it): never ended.
pub const OWN_ID: &str = "SELECT CONNECTION_ID(), SUBSTRING_INDEX(USER(), '@', 1)";

/// End session `id` (its statement and its connection; an open transaction rolls back).
pub fn kill(id: u64) -> String {
    format!("KILL CONNECTION {id}")
}

/// `KILL` of a thread that is already gone.
pub const ER_NO_SUCH_THREAD: u16 = 1094;

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
