//! Every statement the check sends, and the one way a server's dialect is told.
//!
//! **Dialect.** A question is put in MariaDB's words first, naming a MariaDB-only variable
//! (`@@GLOBAL.gtid_*_pos`, `gtid_binlog_state`, `gtid_strict_mode`). A server that refuses
//! it with ER_UNKNOWN_SYSTEM_VARIABLE before answering anything is MySQL, and is asked again
//! in MySQL's words ([`ask`]). On MariaDB this costs nothing: the check's whole observation
//! is one round trip after the handshake. `VERSION()` is not used to tell: a MariaDB started
//! with `--version=...` reports what it is told to.
//!
//! **Replication status.** `SHOW ALL SLAVES STATUS` on MariaDB (every connection, named
//! ones too), `SHOW REPLICA STATUS` on MySQL 8.0.22+, and `SHOW SLAVE STATUS` on older MySQL,
//! which answers `SHOW REPLICA STATUS` with ER_PARSE_ERROR ([`replica_status`]). MySQL 8.4
//! no longer knows `SHOW SLAVE STATUS`, so it is only ever the fallback.

pub mod lease;
pub mod notify;

use crate::io::mysql::{ResultSets, Row, Session, server_code};
use crate::model::observation::{Dialect, GtidVars, GuardRow, Observation, ReplicaStatus};

/// ER_UNKNOWN_SYSTEM_VARIABLE: MySQL does not know MariaDB's GTID variables.
pub const ER_UNKNOWN_SYSTEM_VARIABLE: u16 = 1193;
/// ER_PARSE_ERROR: MySQL before 8.0.22 does not know `SHOW REPLICA STATUS`.
pub const ER_PARSE_ERROR: u16 = 1064;

/// The MariaDB query: one round trip, two result sets.
pub const MARIADB_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos, \
    @@GLOBAL.gtid_binlog_state, @@GLOBAL.gtid_strict_mode; SHOW ALL SLAVES STATUS";
/// MySQL 8.0.22+; older servers answer the second statement with a syntax error.
pub const MYSQL_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.super_read_only, @@GLOBAL.gtid_executed; SHOW REPLICA STATUS";
pub const MYSQL_OLD_STATUS: &str = "SHOW SLAVE STATUS";
/// [`MARIADB_QUERY`] with the split-brain guard's row (`--peer`: the guard is on): still one
/// round trip. A missing guard table fails it (1146, [`Refusal::Guard`]).
///
/// [`Refusal::Guard`]: crate::model::observation::Refusal::Guard
pub const MARIADB_GUARDED_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.gtid_current_pos, @@GLOBAL.gtid_slave_pos, @@GLOBAL.gtid_binlog_pos, \
    @@GLOBAL.gtid_binlog_state, @@GLOBAL.gtid_strict_mode, @@GLOBAL.server_id, \
    (SELECT CAST(writer_since AS CHAR) FROM keepalived_mysql.guard WHERE id = 1); \
    SHOW ALL SLAVES STATUS";
/// [`MYSQL_QUERY`] with the split-brain guard's row.
pub const MYSQL_GUARDED_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only, \
    @@GLOBAL.super_read_only, @@GLOBAL.gtid_executed, @@GLOBAL.server_id, \
    (SELECT CAST(writer_since AS CHAR) FROM keepalived_mysql.guard WHERE id = 1); \
    SHOW REPLICA STATUS";
/// The peer probe: its GTID history, whether it is fenced, who it is, and since when
/// notify-master has had it writable (the split-brain guard's row, docs/contract.md "Split
/// brain"): one statement, so one round trip. A missing guard table fails the whole
/// statement (1146: [`Refusal::Guard`](crate::model::observation::Refusal::Guard)).
pub const MARIADB_PEER_QUERY: &str = "SELECT VERSION(), @@GLOBAL.gtid_binlog_state, \
    @@GLOBAL.read_only, @@GLOBAL.server_id, \
    (SELECT CAST(writer_since AS CHAR) FROM keepalived_mysql.guard WHERE id = 1)";
pub const MYSQL_PEER_QUERY: &str = "SELECT VERSION(), @@GLOBAL.gtid_executed, \
    @@GLOBAL.read_only, @@GLOBAL.server_id, @@GLOBAL.super_read_only, \
    (SELECT CAST(writer_since AS CHAR) FROM keepalived_mysql.guard WHERE id = 1)";
/// [`detect`]'s question; `gtid_strict_mode` is there only to be refused by MySQL.
pub const MARIADB_DETECT_QUERY: &str =
    "SELECT VERSION(), @@GLOBAL.read_only, @@GLOBAL.gtid_strict_mode";
pub const MYSQL_DETECT_QUERY: &str = "SELECT VERSION(), @@GLOBAL.read_only";

/// A question put to a server whose dialect is not known yet, in each dialect's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Question {
    /// Sent first; names a MariaDB-only variable, so that MySQL refuses it.
    pub mariadb: &'static str,
    /// Sent only to a server that refused the MariaDB form.
    pub mysql: &'static str,
}

/// The check's question about the local server ([`crate::io::observe::observe`]).
pub const CHECK: Question = Question {
    mariadb: MARIADB_QUERY,
    mysql: MYSQL_QUERY,
};

/// The check's question about the local server with `--peer` (the split-brain guard on).
pub const CHECK_GUARDED: Question = Question {
    mariadb: MARIADB_GUARDED_QUERY,
    mysql: MYSQL_GUARDED_QUERY,
};

/// The check's question about the peer's GTID history.
pub const PEER: Question = Question {
    mariadb: MARIADB_PEER_QUERY,
    mysql: MYSQL_PEER_QUERY,
};

/// [`detect`]'s question: the version and `read_only`.
pub const DETECT: Question = Question {
    mariadb: MARIADB_DETECT_QUERY,
    mysql: MYSQL_DETECT_QUERY,
};

/// What a server said to a [`Question`].
#[derive(Debug)]
pub struct Answer {
    pub dialect: Dialect,
    /// The result sets read, one per statement answered.
    pub sets: ResultSets,
    /// The error that ended the MySQL form early (a failed MariaDB form is [`ask`]'s `Err`).
    pub error: Option<mysql::Error>,
}

/// Whether the MariaDB form's failure tells that the server is not MariaDB: it refused a
/// variable as unknown before answering anything. Any other failure tells nothing.
pub(crate) fn refuses_mariadb(code: Option<u16>, sets_read: usize) -> bool {
    code == Some(ER_UNKNOWN_SYSTEM_VARIABLE) && sets_read == 0
}

/// Put `q` to a server: the one dialect detection. `Err`: the MariaDB form failed for another
/// reason than the server being MySQL, which tells nothing about the dialect.
pub fn ask(s: &mut impl Session, q: &Question) -> Result<Answer, mysql::Error> {
    let (sets, error) = s.query_sets(q.mariadb);
    match error {
        None => Ok(Answer {
            dialect: Dialect::MariaDb,
            sets,
            error: None,
        }),
        Some(e) if refuses_mariadb(server_code(&e), sets.len()) => {
            let (sets, error) = s.query_sets(q.mysql);
            Ok(Answer {
                dialect: Dialect::MySql,
                sets,
                error,
            })
        }
        Some(e) => Err(e),
    }
}

/// What [`detect`] tells about a server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    pub dialect: Dialect,
    /// `VERSION()`.
    pub version: String,
    /// `@@GLOBAL.read_only`; `None` if it came back NULL.
    pub read_only: Option<bool>,
}

/// The server's dialect (told as [`ask`] tells it), version and `read_only`: one round trip
/// on MariaDB, two on MySQL.
pub fn detect(s: &mut impl Session) -> Result<Detected, mysql::Error> {
    let answer = ask(s, &DETECT)?;
    if let Some(e) = answer.error {
        return Err(e);
    }
    let v = first_row(&answer.sets, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    Ok(Detected {
        dialect: answer.dialect,
        version: at(0).unwrap_or_default(),
        read_only: at(1).map(|t| flag(Some(&t))),
    })
}

/// The replication status statement for `dialect` (MySQL: 8.0.22+, see [`replica_status`]).
pub fn status_statement(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::MariaDb => "SHOW ALL SLAVES STATUS",
        Dialect::MySql => "SHOW REPLICA STATUS",
    }
}

/// Whether statements failed at `SHOW REPLICA STATUS` because the server predates it (MySQL
/// before 8.0.22: a syntax error), after the `before` statements ahead of it answered. Then
/// `SHOW SLAVE STATUS` is asked instead.
pub(crate) fn predates_replica_status(code: Option<u16>, sets_read: usize, before: usize) -> bool {
    code == Some(ER_PARSE_ERROR) && sets_read == before
}

/// `SHOW SLAVE STATUS`, for MySQL before 8.0.22.
pub(crate) fn old_status(s: &mut impl Session) -> Result<ResultSets, mysql::Error> {
    match s.query_sets(MYSQL_OLD_STATUS) {
        (sets, None) => Ok(sets),
        (_, Some(e)) => Err(e),
    }
}

/// Every replication connection of a server whose dialect is known: one round trip, two on
/// MySQL before 8.0.22.
pub fn replica_status(
    s: &mut impl Session,
    dialect: Dialect,
) -> Result<Vec<ReplicaStatus>, mysql::Error> {
    let sets = match s.query_sets(status_statement(dialect)) {
        (sets, None) => sets,
        (sets, Some(e))
            if dialect == Dialect::MySql
                && predates_replica_status(server_code(&e), sets.len(), 0) =>
        {
            old_status(s)?
        }
        (_, Some(e)) => return Err(e),
    };
    Ok(replicas(sets.first()))
}

/// A server's boolean variable as text (`@@read_only` and the like): `1` or `ON`.
pub(crate) fn flag(v: Option<&str>) -> bool {
    matches!(v.map(str::trim), Some("1" | "ON" | "on" | "On"))
}

/// Values of the first row of a result set, positionally.
fn first_row(sets: &ResultSets, i: usize) -> Vec<Option<String>> {
    sets.get(i)
        .and_then(|s| s.first())
        .map(|r| r.iter().map(|(_, v)| v.clone()).collect())
        .unwrap_or_default()
}

/// Build an observation from the MariaDB query's two result sets.
pub fn mariadb_observation(sets: &ResultSets) -> Observation {
    let v = first_row(sets, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    Observation {
        version: at(0).unwrap_or_default(),
        dialect: Dialect::MariaDb,
        read_only: flag(at(1).as_deref()),
        super_read_only: None,
        gtid: GtidVars {
            current_pos: at(2),
            slave_pos: at(3),
            binlog_pos: at(4),
            binlog_state: at(5),
            strict_mode: Some(flag(at(6).as_deref())),
            executed: None,
        },
        replicas: replicas(sets.get(1)),
        guard: guard_row(&v, 7),
    }
}

/// The guard's columns (`server_id`, `writer_since`) at `from`, when the query asked them
/// ([`CHECK_GUARDED`]).
fn guard_row(v: &[Option<String>], from: usize) -> Option<GuardRow> {
    (v.len() >= from + 2).then(|| GuardRow {
        server_id: v[from].as_deref().and_then(|t| t.trim().parse().ok()),
        writer_since: v[from + 1].clone().filter(|t| !t.trim().is_empty()),
    })
}

/// Build an observation from the MySQL variables row and a status result set.
pub fn mysql_observation(vars: &ResultSets, status: Option<&Vec<Row>>) -> Observation {
    let v = first_row(vars, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    Observation {
        version: at(0).unwrap_or_default(),
        dialect: Dialect::MySql,
        read_only: flag(at(1).as_deref()),
        super_read_only: Some(flag(at(2).as_deref())),
        gtid: GtidVars {
            executed: at(3).map(|s| s.replace('\n', "")),
            ..GtidVars::default()
        },
        replicas: replicas(status),
        guard: guard_row(&v, 4),
    }
}

/// What the peer probe ([`PEER`]) read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PeerState {
    pub gtid: GtidVars,
    /// `read_only` (MySQL: or `super_read_only`).
    pub read_only: Option<bool>,
    pub server_id: Option<u32>,
    /// The guard row's `writer_since` (`None`: NULL).
    pub writer_since: Option<String>,
}

/// The peer's GTID history, whether it is fenced (`read_only`, MySQL: or `super_read_only`),
/// its `server_id` and its guard row's `writer_since`, from the answer to [`PEER`].
pub(crate) fn peer_state(dialect: Dialect, sets: &ResultSets) -> PeerState {
    let v = first_row(sets, 0);
    let at = |i: usize| v.get(i).cloned().flatten();
    let (super_ro, since) = match dialect {
        Dialect::MariaDb => (None, at(4)),
        Dialect::MySql => (at(4), at(5)),
    };
    let read_only = at(2).map(|t| flag(Some(&t)) || flag(super_ro.as_deref()));
    PeerState {
        gtid: peer_gtid(dialect, at(1)),
        read_only,
        server_id: at(3).and_then(|t| t.trim().parse().ok()),
        writer_since: since.filter(|t| !t.trim().is_empty()),
    }
}

/// The peer's GTID history (its `gtid_binlog_state`, MySQL `gtid_executed`).
fn peer_gtid(dialect: Dialect, state: Option<String>) -> GtidVars {
    match dialect {
        Dialect::MariaDb => GtidVars {
            binlog_state: state,
            ..GtidVars::default()
        },
        Dialect::MySql => GtidVars {
            executed: state.map(|s| s.replace('\n', "")),
            ..GtidVars::default()
        },
    }
}

fn replicas(set: Option<&Vec<Row>>) -> Vec<ReplicaStatus> {
    set.map(|rows| {
        rows.iter()
            .map(|r| ReplicaStatus::from_columns(r))
            .collect()
    })
    .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::fake::{Fake, Server, error};
    use crate::model::observation::IoState;

    /// What the notify helpers send to each server to learn its dialect and replication
    /// connections, and what they learn.
    #[test]
    fn each_server_is_asked_in_its_own_words() {
        let mysql_old: &[&str] = &[
            MARIADB_DETECT_QUERY,
            MYSQL_DETECT_QUERY,
            "SHOW REPLICA STATUS",
            "SHOW SLAVE STATUS",
        ];
        let mysql_new: &[&str] = &[
            MARIADB_DETECT_QUERY,
            MYSQL_DETECT_QUERY,
            "SHOW REPLICA STATUS",
        ];
        // server, queries sent (one round trip each), dialect, read_only, received position
        let table: &[(Server, &[&str], Dialect, bool, &str)] = &[
            (
                Server::MariaDb1011,
                &[MARIADB_DETECT_QUERY, "SHOW ALL SLAVES STATUS"],
                Dialect::MariaDb,
                false,
                "0-2-41",
            ),
            (
                Server::MySql57,
                mysql_old,
                Dialect::MySql,
                true,
                MYSQL_RECEIVED,
            ),
            (
                Server::MySql8021,
                mysql_old,
                Dialect::MySql,
                true,
                MYSQL_RECEIVED,
            ),
            (
                Server::MySql8036,
                mysql_new,
                Dialect::MySql,
                true,
                MYSQL_RECEIVED,
            ),
            (
                Server::MySql84,
                mysql_new,
                Dialect::MySql,
                true,
                MYSQL_RECEIVED,
            ),
        ];
        for &(server, sent, dialect, read_only, received) in table {
            let mut conn = Fake::new(server);
            let detected = detect(&mut conn).unwrap();
            assert_eq!(
                detected,
                Detected {
                    dialect,
                    version: server.version().into(),
                    read_only: Some(read_only),
                },
                "{server:?}"
            );
            let replicas = replica_status(&mut conn, detected.dialect).unwrap();
            assert_eq!(conn.sent, sent, "{server:?}");
            assert_eq!(replicas.len(), 1, "{server:?}");
            let r = &replicas[0];
            assert_eq!(
                (r.source().as_str(), &r.io_running, r.sql_running),
                ("10.0.0.2:3306", &IoState::Yes, true),
                "{server:?}"
            );
            assert_eq!(r.received_gtid.as_deref(), Some(received), "{server:?}");
            assert_eq!(r.seconds_behind, Some(0), "{server:?}");
        }
    }

    const MYSQL_RECEIVED: &str = "4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41";

    /// A server that answers with another error is not taken for MySQL: the error is the
    /// answer, and nothing more is sent.
    #[test]
    fn other_errors_tell_no_dialect() {
        let mut conn = Fake::refusing(
            Server::MariaDb1011,
            1053,
            "08S01",
            "Server shutdown in progress",
        );
        let e = detect(&mut conn).unwrap_err();
        assert_eq!(server_code(&e), Some(1053));
        assert_eq!(conn.sent, [MARIADB_DETECT_QUERY]);

        let mut conn = Fake::refusing(
            Server::MySql8036,
            1227,
            "42000",
            "Access denied; you need (at least one of) the SUPER, REPLICATION CLIENT \
             privilege(s) for this operation",
        );
        let e = replica_status(&mut conn, Dialect::MySql).unwrap_err();
        assert_eq!(server_code(&e), Some(1227));
        assert_eq!(
            conn.sent,
            ["SHOW REPLICA STATUS"],
            "no fallback on a refusal"
        );
    }

    /// The two decisions on an error, by its number and by how many statements of the query
    /// answered before it.
    #[test]
    fn what_an_error_tells() {
        // code, result sets read before it → the server is not MariaDB
        let mariadb: &[(Option<u16>, usize, bool)] = &[
            // MySQL: "Unknown system variable 'gtid_current_pos'" on the first statement.
            (Some(ER_UNKNOWN_SYSTEM_VARIABLE), 0, true),
            // A later statement: the first one was understood.
            (Some(ER_UNKNOWN_SYSTEM_VARIABLE), 1, false),
            (Some(ER_PARSE_ERROR), 0, false),
            (Some(1045), 0, false),
            (Some(1227), 0, false),
            (Some(1053), 0, false),
            // No answer (a driver error has no number).
            (None, 0, false),
        ];
        for &(code, read, want) in mariadb {
            assert_eq!(refuses_mariadb(code, read), want, "{code:?} after {read}");
        }
        // code, sets read, statements ahead of SHOW REPLICA STATUS → ask SHOW SLAVE STATUS
        let old: &[(Option<u16>, usize, usize, bool)] = &[
            // The check's MySQL query: the variables answered, SHOW REPLICA STATUS did not.
            (Some(ER_PARSE_ERROR), 1, 1, true),
            // replica_status alone.
            (Some(ER_PARSE_ERROR), 0, 0, true),
            // The statement ahead failed: a syntax error there is not about the server's age.
            (Some(ER_PARSE_ERROR), 0, 1, false),
            // A missing privilege (REPLICATION CLIENT) is no reason to ask again.
            (Some(1227), 1, 1, false),
            (Some(ER_UNKNOWN_SYSTEM_VARIABLE), 0, 1, false),
            (None, 1, 1, false),
        ];
        for &(code, read, before, want) in old {
            assert_eq!(
                predates_replica_status(code, read, before),
                want,
                "{code:?} after {read} of {before}"
            );
        }
    }

    /// MySQL's answer to a MariaDB question, as MySQL 8.0 words it, is told as MySQL.
    #[test]
    fn mysql_refusing_a_mariadb_variable_is_mysql() {
        let e = error(
            ER_UNKNOWN_SYSTEM_VARIABLE,
            "HY000",
            "Unknown system variable 'gtid_strict_mode'",
        );
        assert!(refuses_mariadb(server_code(&e), 0));
    }

    /// The dialect can only be told by the MariaDB form if it names a variable MySQL lacks,
    /// and the MySQL form must name none.
    #[test]
    fn every_question_tells_the_dialect() {
        const MARIADB_ONLY: &[&str] = &[
            "@@GLOBAL.gtid_current_pos",
            "@@GLOBAL.gtid_slave_pos",
            "@@GLOBAL.gtid_binlog_pos",
            "@@GLOBAL.gtid_binlog_state",
            "@@GLOBAL.gtid_strict_mode",
        ];
        for q in [CHECK, PEER, DETECT] {
            let first = q.mariadb.split(';').next().unwrap_or_default();
            assert!(
                MARIADB_ONLY.iter().any(|v| first.contains(v)),
                "{}",
                q.mariadb
            );
            assert!(
                !MARIADB_ONLY.iter().any(|v| q.mysql.contains(v)),
                "{}",
                q.mysql
            );
        }
        assert!(MARIADB_QUERY.ends_with(status_statement(Dialect::MariaDb)));
        assert!(MYSQL_QUERY.ends_with(status_statement(Dialect::MySql)));
    }
}
