//! Observations and peers shaped exactly like the servers' own result rows, for the verdict
//! table.

use std::time::Duration;

use crate::exit::Exit;
use crate::io::dialect::{mariadb_observation, mysql_observation};
use crate::model::observation::{Dialect, GtidVars, Observation, PeerObservation};
use crate::verdict::reception::Received;
use crate::verdict::{Policy, Status};

pub(super) type Row = Vec<(String, Option<String>)>;

/// `SHOW ALL SLAVES STATUS` on MariaDB 10.11, a healthy connection (columns in server order),
/// and `SHOW REPLICA STATUS` on MySQL 8.0.22+ (reference manual column list), healthy: the
/// rows the fake servers of `io::fake` answer with.
pub(super) use crate::io::fake::{
    MARIADB_ALL_SLAVES as MARIADB_COLUMNS, MYSQL80_REPLICA as MYSQL_COLUMNS,
};

pub(super) fn row(base: &[(&str, Option<&str>)], changes: &[(&str, Option<&str>)]) -> Row {
    base.iter()
        .map(|(k, v)| {
            let v = changes
                .iter()
                .find(|(c, _)| c == k)
                .map_or(*v, |(_, nv)| *nv);
            (k.to_string(), v.map(str::to_string))
        })
        .collect()
}

/// The first result set of the MariaDB query, as the server returns it.
pub(super) fn vars(read_only: &str, current_pos: &str, binlog_state: &str) -> Row {
    [
        ("VERSION()", "10.11.19-MariaDB-0+deb12u1-log"),
        ("@@GLOBAL.read_only", read_only),
        ("@@GLOBAL.gtid_current_pos", current_pos),
        ("@@GLOBAL.gtid_slave_pos", current_pos),
        ("@@GLOBAL.gtid_binlog_pos", current_pos),
        ("@@GLOBAL.gtid_binlog_state", binlog_state),
        ("@@GLOBAL.gtid_strict_mode", "1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect()
}

pub(super) fn maria(read_only: bool, slaves: Vec<Row>) -> Observation {
    let ro = if read_only { "1" } else { "0" };
    mariadb_observation(&vec![vec![vars(ro, "0-2-41", "0-1-10,0-2-41")], slaves])
}

pub(super) fn maria_with(changes: &[(&str, Option<&str>)]) -> Observation {
    maria(false, vec![row(MARIADB_COLUMNS, changes)])
}

pub(super) fn mysql_with(read_only: bool, changes: &[(&str, Option<&str>)]) -> Observation {
    let v: Row = [
        ("VERSION()", "8.0.36"),
        ("@@GLOBAL.read_only", if read_only { "1" } else { "0" }),
        (
            "@@GLOBAL.super_read_only",
            if read_only { "1" } else { "0" },
        ),
        (
            "@@GLOBAL.gtid_executed",
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10,\n4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41",
        ),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect();
    let status = vec![row(MYSQL_COLUMNS, changes)];
    mysql_observation(&vec![vec![v], status.clone()], Some(&status))
}

pub(super) const PEER_DEAD_IO: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("Connecting")),
    ("Slave_IO_State", Some("Connecting to master")),
    ("Seconds_Behind_Master", None),
    ("Last_IO_Errno", Some("2003")),
    (
        "Last_IO_Error",
        Some(
            "error connecting to master 'repl@10.0.0.2:3306' - retry-time: 60  maximum-retries: 100000  message: Can't connect to server on '10.0.0.2' (111 \"Connection refused\")",
        ),
    ),
];
pub(super) const STOPPED: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("No")),
    ("Slave_SQL_Running", Some("No")),
    ("Slave_IO_State", Some("")),
    ("Seconds_Behind_Master", None),
];
pub(super) const IO_1236: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("No")),
    ("Seconds_Behind_Master", None),
    ("Last_IO_Errno", Some("1236")),
    (
        "Last_IO_Error",
        Some(
            "Got fatal error 1236 from master when reading data from binary log: 'Error: connecting slave requested to start from GTID 0-1-11, which is not in the master's binlog'",
        ),
    ),
];
pub(super) const IO_1236_PURGED: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("No")),
    ("Seconds_Behind_Master", None),
    ("Last_IO_Errno", Some("1236")),
    (
        "Last_IO_Error",
        Some(
            "Got fatal error 1236 from master when reading data from binary log: 'Could not find GTID state requested by slave in any binlog files. Probably the slave state is too old and required binlog files have been purged.'",
        ),
    ),
];
pub(super) const IO_1045: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("Connecting")),
    ("Seconds_Behind_Master", None),
    ("Last_IO_Errno", Some("1045")),
    (
        "Last_IO_Error",
        Some(
            "error connecting to master 'repl@10.0.0.2:3306' - retry-time: 60  maximum-retries: 100000  message: Access denied for user 'repl'@'10.0.0.1' (using password: YES)",
        ),
    ),
];
pub(super) const SQL_1062: &[(&str, Option<&str>)] = &[
    ("Slave_SQL_Running", Some("No")),
    ("Seconds_Behind_Master", None),
    ("Last_Errno", Some("1062")),
    ("Last_SQL_Errno", Some("1062")),
    (
        "Last_SQL_Error",
        Some(
            "Could not execute Write_rows_v1 event on table test.t; Duplicate entry '1' for key 'PRIMARY', Error_code: 1062; handler error HA_ERR_FOUND_DUPP_KEY; the event's master log mysql-bin.000002, end_log_pos 1234, Gtid 0-2-42, Internal MariaDB error code: 1062",
        ),
    ),
];
pub(super) const SQL_1950: &[(&str, Option<&str>)] = &[
    ("Slave_SQL_Running", Some("No")),
    ("Seconds_Behind_Master", None),
    ("Last_SQL_Errno", Some("1950")),
    (
        "Last_SQL_Error",
        Some(
            "An attempt was made to binlog GTID 0-2-42 which would create an out-of-order sequence number with existing GTID 0-1-43, and gtid strict mode is enabled",
        ),
    ),
];
pub(super) const LAG_300: &[(&str, Option<&str>)] = &[("Seconds_Behind_Master", Some("300"))];
pub(super) const LAG_NULL: &[(&str, Option<&str>)] = &[("Seconds_Behind_Master", None)];

pub(super) fn reached(binlog_state: &str) -> PeerObservation {
    PeerObservation::Reached {
        address: "10.0.0.2:3306".into(),
        dialect: Dialect::MariaDb,
        gtid: GtidVars {
            binlog_state: Some(binlog_state.into()),
            ..GtidVars::default()
        },
        read_only: Some(true),
        server_id: Some(2),
        writer_since: None,
    }
}

/// The peer answered the probe with an error: it is up.
pub(super) fn refused(code: u16, error: &str) -> PeerObservation {
    PeerObservation::Refused {
        address: "10.0.0.2:3306".into(),
        error: format!("ERROR {code} (28000): {error}"),
        code,
        refusal: crate::model::observation::Refusal::of(code),
    }
}

/// B pointed at a closed port while A is up (`CHANGE MASTER TO master_port=<closed>`).
pub(super) const IO_2003_WRONG_PORT: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("Connecting")),
    ("Master_Port", Some("3399")),
    ("Seconds_Behind_Master", None),
    ("Last_IO_Errno", Some("2003")),
    (
        "Last_IO_Error",
        Some(
            "error connecting to master 'repl@10.0.0.2:3399' - retry-time: 60  maximum-retries: 100000  message: Can't connect to server on '10.0.0.2' (111 \"Connection refused\")",
        ),
    ),
];

pub(super) fn behind(transactions: u64, still: Option<u64>) -> Received {
    Received::Behind {
        transactions,
        unchanged_for: still.map(Duration::from_secs),
    }
}

pub(super) fn unreachable() -> PeerObservation {
    PeerObservation::Unreachable {
        address: "10.0.0.2:3306".into(),
        error: "cannot connect to 10.0.0.2:3306: Connection refused".into(),
    }
}

pub(super) struct Case {
    pub(super) row: &'static str,
    pub(super) obs: Observation,
    pub(super) peer: PeerObservation,
    pub(super) policy: Policy,
    pub(super) received: Received,
    pub(super) writer: (Status, Exit),
    pub(super) standby: (Status, Exit),
}

pub(super) fn case(
    row: &'static str,
    obs: Observation,
    writer: (Status, Exit),
    standby: (Status, Exit),
) -> Case {
    Case {
        row,
        obs,
        peer: PeerObservation::NotAsked,
        policy: Policy::default(),
        received: Received::Unknown,
        writer,
        standby,
    }
}

pub(super) const OK: (Status, Exit) = (Status::Ok, Exit::Ok);
pub(super) const WARN: (Status, Exit) = (Status::Warn, Exit::Ok);
pub(super) const fn fail(e: Exit) -> (Status, Exit) {
    (Status::Fail, e)
}
