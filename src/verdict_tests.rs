//! One table row per row of the verdict table (docs/contract.md "Verdicts of check-mysql"),
//! for both roles, on observations shaped exactly like the servers' own result rows.

use super::*;
use crate::observe::{GtidVars, Stage, mariadb_observation, mysql_observation};

type Row = Vec<(String, Option<String>)>;

/// `SHOW ALL SLAVES STATUS` on MariaDB 10.11, a healthy connection (columns in server order).
const MARIADB_COLUMNS: &[(&str, Option<&str>)] = &[
    ("Connection_name", Some("")),
    (
        "Slave_SQL_State",
        Some("Slave has read all relay log; waiting for more updates"),
    ),
    ("Slave_IO_State", Some("Waiting for master to send event")),
    ("Master_Host", Some("10.0.0.2")),
    ("Master_User", Some("repl")),
    ("Master_Port", Some("3306")),
    ("Connect_Retry", Some("60")),
    ("Master_Log_File", Some("mysql-bin.000002")),
    ("Read_Master_Log_Pos", Some("1234")),
    ("Relay_Log_File", Some("relay-bin.000003")),
    ("Relay_Log_Pos", Some("900")),
    ("Relay_Master_Log_File", Some("mysql-bin.000002")),
    ("Slave_IO_Running", Some("Yes")),
    ("Slave_SQL_Running", Some("Yes")),
    ("Replicate_Do_DB", Some("")),
    ("Replicate_Ignore_DB", Some("")),
    ("Replicate_Do_Table", Some("")),
    ("Replicate_Ignore_Table", Some("")),
    ("Replicate_Wild_Do_Table", Some("")),
    ("Replicate_Wild_Ignore_Table", Some("")),
    ("Last_Errno", Some("0")),
    ("Last_Error", Some("")),
    ("Skip_Counter", Some("0")),
    ("Exec_Master_Log_Pos", Some("1234")),
    ("Relay_Log_Space", Some("1500")),
    ("Until_Condition", Some("None")),
    ("Until_Log_File", Some("")),
    ("Until_Log_Pos", Some("0")),
    ("Master_SSL_Allowed", Some("No")),
    ("Master_SSL_CA_File", Some("")),
    ("Master_SSL_CA_Path", Some("")),
    ("Master_SSL_Cert", Some("")),
    ("Master_SSL_Cipher", Some("")),
    ("Master_SSL_Key", Some("")),
    ("Seconds_Behind_Master", Some("0")),
    ("Master_SSL_Verify_Server_Cert", Some("No")),
    ("Last_IO_Errno", Some("0")),
    ("Last_IO_Error", Some("")),
    ("Last_SQL_Errno", Some("0")),
    ("Last_SQL_Error", Some("")),
    ("Replicate_Ignore_Server_Ids", Some("")),
    ("Master_Server_Id", Some("2")),
    ("Master_SSL_Crl", Some("")),
    ("Master_SSL_Crlpath", Some("")),
    ("Using_Gtid", Some("Slave_Pos")),
    ("Gtid_IO_Pos", Some("0-2-41")),
    ("Replicate_Do_Domain_Ids", Some("")),
    ("Replicate_Ignore_Domain_Ids", Some("")),
    ("Parallel_Mode", Some("optimistic")),
    ("SQL_Delay", Some("0")),
    ("SQL_Remaining_Delay", None),
    (
        "Slave_SQL_Running_State",
        Some("Slave has read all relay log; waiting for more updates"),
    ),
    ("Slave_DDL_Groups", Some("3")),
    ("Slave_Non_Transactional_Groups", Some("0")),
    ("Slave_Transactional_Groups", Some("38")),
    ("Replicate_Rewrite_DB", Some("")),
    ("Retried_transactions", Some("0")),
    ("Max_relay_log_size", Some("1073741824")),
    ("Executed_log_entries", Some("120")),
    ("Slave_received_heartbeats", Some("0")),
    ("Slave_heartbeat_period", Some("30.000")),
    ("Gtid_Slave_Pos", Some("0-2-41")),
];

/// `SHOW REPLICA STATUS` on MySQL 8.0.22+ (reference manual column list), healthy.
const MYSQL_COLUMNS: &[(&str, Option<&str>)] = &[
    ("Replica_IO_State", Some("Waiting for source to send event")),
    ("Source_Host", Some("10.0.0.2")),
    ("Source_User", Some("repl")),
    ("Source_Port", Some("3306")),
    ("Connect_Retry", Some("60")),
    ("Source_Log_File", Some("binlog.000002")),
    ("Read_Source_Log_Pos", Some("1234")),
    ("Relay_Log_File", Some("relay.000003")),
    ("Relay_Log_Pos", Some("900")),
    ("Relay_Source_Log_File", Some("binlog.000002")),
    ("Replica_IO_Running", Some("Yes")),
    ("Replica_SQL_Running", Some("Yes")),
    ("Replicate_Do_DB", Some("")),
    ("Replicate_Ignore_DB", Some("")),
    ("Replicate_Do_Table", Some("")),
    ("Replicate_Ignore_Table", Some("")),
    ("Replicate_Wild_Do_Table", Some("")),
    ("Replicate_Wild_Ignore_Table", Some("")),
    ("Last_Errno", Some("0")),
    ("Last_Error", Some("")),
    ("Skip_Counter", Some("0")),
    ("Exec_Source_Log_Pos", Some("1234")),
    ("Relay_Log_Space", Some("1500")),
    ("Until_Condition", Some("None")),
    ("Until_Log_File", Some("")),
    ("Until_Log_Pos", Some("0")),
    ("Source_SSL_Allowed", Some("No")),
    ("Source_SSL_CA_File", Some("")),
    ("Source_SSL_CA_Path", Some("")),
    ("Source_SSL_Cert", Some("")),
    ("Source_SSL_Cipher", Some("")),
    ("Source_SSL_Key", Some("")),
    ("Seconds_Behind_Source", Some("0")),
    ("Source_SSL_Verify_Server_Cert", Some("No")),
    ("Last_IO_Errno", Some("0")),
    ("Last_IO_Error", Some("")),
    ("Last_SQL_Errno", Some("0")),
    ("Last_SQL_Error", Some("")),
    ("Replicate_Ignore_Server_Ids", Some("")),
    ("Source_Server_Id", Some("2")),
    ("Source_UUID", Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562")),
    ("Source_Info_File", Some("mysql.slave_master_info")),
    ("SQL_Delay", Some("0")),
    ("SQL_Remaining_Delay", None),
    (
        "Replica_SQL_Running_State",
        Some("Replica has read all relay log; waiting for more updates"),
    ),
    ("Source_Retry_Count", Some("86400")),
    ("Source_Bind", Some("")),
    ("Last_IO_Error_Timestamp", Some("")),
    ("Last_SQL_Error_Timestamp", Some("")),
    ("Source_SSL_Crl", Some("")),
    ("Source_SSL_Crlpath", Some("")),
    (
        "Retrieved_Gtid_Set",
        Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41"),
    ),
    (
        "Executed_Gtid_Set",
        Some(
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10,\n4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41",
        ),
    ),
    ("Auto_Position", Some("1")),
    ("Replicate_Rewrite_DB", Some("")),
    ("Channel_Name", Some("")),
    ("Source_TLS_Version", Some("")),
    ("Source_public_key_path", Some("")),
    ("Get_Source_public_key", Some("0")),
    ("Network_Namespace", Some("")),
];

fn row(base: &[(&str, Option<&str>)], changes: &[(&str, Option<&str>)]) -> Row {
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
fn vars(read_only: &str, current_pos: &str, binlog_state: &str) -> Row {
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

fn maria(read_only: bool, slaves: Vec<Row>) -> Observation {
    let ro = if read_only { "1" } else { "0" };
    mariadb_observation(&vec![vec![vars(ro, "0-2-41", "0-1-10,0-2-41")], slaves])
}

fn maria_with(changes: &[(&str, Option<&str>)]) -> Observation {
    maria(false, vec![row(MARIADB_COLUMNS, changes)])
}

fn mysql_with(read_only: bool, changes: &[(&str, Option<&str>)]) -> Observation {
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

const PEER_DEAD_IO: &[(&str, Option<&str>)] = &[
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
const STOPPED: &[(&str, Option<&str>)] = &[
    ("Slave_IO_Running", Some("No")),
    ("Slave_SQL_Running", Some("No")),
    ("Slave_IO_State", Some("")),
    ("Seconds_Behind_Master", None),
];
const IO_1236: &[(&str, Option<&str>)] = &[
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
const IO_1236_PURGED: &[(&str, Option<&str>)] = &[
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
const IO_1045: &[(&str, Option<&str>)] = &[
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
const SQL_1062: &[(&str, Option<&str>)] = &[
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
const SQL_1950: &[(&str, Option<&str>)] = &[
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
const LAG_300: &[(&str, Option<&str>)] = &[("Seconds_Behind_Master", Some("300"))];
const LAG_NULL: &[(&str, Option<&str>)] = &[("Seconds_Behind_Master", None)];

fn reached(binlog_state: &str) -> PeerObservation {
    PeerObservation::Reached {
        address: "10.0.0.2:3306".into(),
        dialect: Dialect::MariaDb,
        gtid: GtidVars {
            binlog_state: Some(binlog_state.into()),
            ..GtidVars::default()
        },
    }
}

/// The peer answered the probe with an error: it is up.
fn refused(code: u16, error: &str) -> PeerObservation {
    PeerObservation::Refused {
        address: "10.0.0.2:3306".into(),
        error: format!("ERROR {code} (28000): {error}"),
        code,
        refusal: crate::observe::Refusal::of(code),
    }
}

/// B pointed at a closed port while A is up (`CHANGE MASTER TO master_port=<closed>`).
const IO_2003_WRONG_PORT: &[(&str, Option<&str>)] = &[
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

fn behind(transactions: u64, still: Option<u64>) -> Received {
    Received::Behind {
        transactions,
        unchanged_for: still.map(Duration::from_secs),
    }
}

fn unreachable() -> PeerObservation {
    PeerObservation::Unreachable {
        address: "10.0.0.2:3306".into(),
        error: "cannot connect to 10.0.0.2:3306: Connection refused".into(),
    }
}

struct Case {
    row: &'static str,
    obs: Observation,
    peer: PeerObservation,
    policy: Policy,
    received: Received,
    writer: (Status, Exit),
    standby: (Status, Exit),
}

fn case(
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

const OK: (Status, Exit) = (Status::Ok, Exit::Ok);
const WARN: (Status, Exit) = (Status::Warn, Exit::Ok);
const fn fail(e: Exit) -> (Status, Exit) {
    (Status::Fail, e)
}

fn cases() -> Vec<Case> {
    vec![
        case("healthy", maria_with(&[]), OK, OK),
        // "no replication configured at all"
        case(
            "no replication",
            maria(false, vec![]),
            OK,
            fail(Exit::Replication),
        ),
        Case {
            policy: Policy {
                allow_no_replica: true,
                ..Policy::default()
            },
            ..case(
                "no replication, --allow-no-replica",
                maria(false, vec![]),
                OK,
                WARN,
            )
        },
        // "replication stopped by an operator, no error"
        case(
            "STOP SLAVE",
            maria_with(STOPPED),
            WARN,
            fail(Exit::Replication),
        ),
        case(
            "STOP SLAVE SQL_THREAD",
            maria_with(&[
                ("Slave_SQL_Running", Some("No")),
                ("Seconds_Behind_Master", None),
            ]),
            WARN,
            fail(Exit::Replication),
        ),
        // "IO thread Connecting/No because the peer is unreachable"
        case("peer dead (2003)", maria_with(PEER_DEAD_IO), WARN, WARN),
        case(
            "peer gone (2013, IO No)",
            maria_with(&[
                ("Slave_IO_Running", Some("No")),
                ("Seconds_Behind_Master", None),
                ("Last_IO_Errno", Some("2013")),
                (
                    "Last_IO_Error",
                    Some("Lost connection to server during query"),
                ),
            ]),
            WARN,
            WARN,
        ),
        Case {
            peer: unreachable(),
            ..case(
                "--peer unreachable, IO error 1045",
                maria_with(IO_1045),
                WARN,
                WARN,
            )
        },
        Case {
            peer: unreachable(),
            ..case(
                "--peer unreachable, replication still Yes",
                maria_with(&[]),
                WARN,
                WARN,
            )
        },
        // The peer answers --peer: an IO thread that "cannot reach" it has a broken path.
        Case {
            peer: reached("0-1-10,0-2-41"),
            ..case(
                "--peer reached, IO 2003 (wrong MASTER_PORT)",
                maria_with(IO_2003_WRONG_PORT),
                WARN,
                fail(Exit::Replication),
            )
        },
        Case {
            peer: refused(1045, "Access denied for user 'monitor'@'10.0.0.1'"),
            ..case(
                "--peer refused us (1045), IO 2013",
                maria_with(&[
                    ("Slave_IO_Running", Some("Connecting")),
                    ("Seconds_Behind_Master", None),
                    ("Last_IO_Errno", Some("2013")),
                    (
                        "Last_IO_Error",
                        Some("Lost connection to server during query"),
                    ),
                ]),
                WARN,
                fail(Exit::Replication),
            )
        },
        // A peer that refuses the probe is up: the IO thread's 1045 is broken replication.
        Case {
            peer: refused(1045, "Access denied for user 'monitor'@'10.0.0.1'"),
            ..case(
                "--peer refused us (1045), IO 1045",
                maria_with(IO_1045),
                WARN,
                fail(Exit::Replication),
            )
        },
        Case {
            peer: refused(1040, "Too many connections"),
            ..case(
                "--peer saturated (1040), IO 1045",
                maria_with(IO_1045),
                WARN,
                fail(Exit::Replication),
            )
        },
        Case {
            peer: refused(1045, "Access denied for user 'monitor'@'10.0.0.1'"),
            ..case(
                "--peer refused us, replication Yes",
                maria_with(&[]),
                WARN,
                WARN,
            )
        },
        // Reception remembered across runs (reception::track).
        Case {
            peer: reached("0-1-10,0-2-67"),
            policy: Policy {
                max_lag: Duration::from_secs(20),
                ..Policy::default()
            },
            received: behind(26, Some(30)),
            ..case(
                "stalled: nothing received for 30s > 20s, peer 26 ahead",
                maria_with(&[]),
                WARN,
                fail(Exit::Lag),
            )
        },
        Case {
            peer: reached("0-1-10,0-2-67"),
            policy: Policy {
                max_lag: Duration::from_secs(20),
                ..Policy::default()
            },
            received: behind(26, Some(5)),
            ..case(
                "behind, nothing received for 5s <= 20s",
                maria_with(&[]),
                WARN,
                WARN,
            )
        },
        Case {
            peer: reached("0-1-10,0-2-43"),
            received: behind(2, None),
            ..case(
                "behind, position moving (busy writer)",
                maria_with(&[]),
                OK,
                OK,
            )
        },
        // "IO thread stopped with a replication error while the peer is up"
        case(
            "IO 1045 bad credentials",
            maria_with(IO_1045),
            WARN,
            fail(Exit::Replication),
        ),
        case(
            "IO 1236 purged",
            maria_with(IO_1236_PURGED),
            WARN,
            fail(Exit::Replication),
        ),
        case(
            "IO 1236 GTID not in master's binlog",
            maria_with(IO_1236),
            WARN,
            fail(Exit::Diverged),
        ),
        // "SQL thread stopped (Last_SQL_Errno != 0)"
        case(
            "SQL 1062",
            maria_with(SQL_1062),
            WARN,
            fail(Exit::Replication),
        ),
        case(
            "SQL 1950 out-of-order GTID",
            maria_with(SQL_1950),
            WARN,
            fail(Exit::Diverged),
        ),
        // "lag above --max-lag; NULL is not 0"
        case("lag 300s > 120s", maria_with(LAG_300), OK, fail(Exit::Lag)),
        case(
            "lag NULL with threads running",
            maria_with(LAG_NULL),
            OK,
            fail(Exit::Lag),
        ),
        Case {
            policy: Policy {
                max_lag: Duration::from_secs(600),
                ..Policy::default()
            },
            ..case("lag 300s <= 600s", maria_with(LAG_300), OK, OK)
        },
        // "local GTID history diverged from the peer's"
        Case {
            peer: reached("0-1-10,0-2-41"),
            ..case("peer in sync", maria_with(&[]), OK, OK)
        },
        Case {
            peer: reached("0-1-10,0-2-45"),
            ..case("peer ahead (we are behind)", maria_with(&[]), OK, OK)
        },
        Case {
            peer: reached("0-1-41,0-2-40"),
            ..case(
                "fork: 0-2-41 here, 0-1-41 on peer",
                maria_with(&[]),
                WARN,
                fail(Exit::Diverged),
            )
        },
        // "read_only=ON"
        case(
            "read_only=ON",
            maria(true, vec![row(MARIADB_COLUMNS, &[])]),
            fail(Exit::ReadOnly),
            OK,
        ),
        Case {
            policy: Policy {
                allow_read_only: true,
                ..Policy::default()
            },
            ..case(
                "read_only=ON, --allow-read-only",
                maria(true, vec![row(MARIADB_COLUMNS, &[])]),
                WARN,
                OK,
            )
        },
        // multi-source: the worst connection decides
        case(
            "multi-source, one connection broken",
            maria(
                false,
                vec![
                    row(MARIADB_COLUMNS, &[("Connection_name", Some("a"))]),
                    row(
                        MARIADB_COLUMNS,
                        &[
                            ("Connection_name", Some("b")),
                            SQL_1062[0],
                            SQL_1062[3],
                            SQL_1062[4],
                        ],
                    ),
                ],
            ),
            WARN,
            fail(Exit::Replication),
        ),
        // MySQL 8.0.22+ rows: same rules, new column names
        case("mysql healthy", mysql_with(false, &[]), OK, OK),
        case(
            "mysql lag NULL",
            mysql_with(false, &[("Seconds_Behind_Source", None)]),
            OK,
            fail(Exit::Lag),
        ),
        case(
            "mysql SQL error",
            mysql_with(
                false,
                &[
                    ("Replica_SQL_Running", Some("No")),
                    ("Last_SQL_Errno", Some("1062")),
                    ("Last_SQL_Error", Some("Duplicate entry")),
                ],
            ),
            WARN,
            fail(Exit::Replication),
        ),
        case(
            "mysql peer dead",
            mysql_with(
                false,
                &[
                    ("Replica_IO_Running", Some("Connecting")),
                    ("Seconds_Behind_Source", None),
                    ("Last_IO_Errno", Some("2003")),
                    ("Last_IO_Error", Some("error connecting to source")),
                ],
            ),
            WARN,
            WARN,
        ),
        case(
            "mysql super_read_only",
            mysql_with(true, &[]),
            fail(Exit::ReadOnly),
            OK,
        ),
    ]
}

#[test]
fn verdict_table() {
    let mut failures = Vec::new();
    for c in cases() {
        for (role, want) in [(Role::Writer, c.writer), (Role::Standby, c.standby)] {
            let v = verdict(&c.obs, &c.peer, role, &c.policy, c.received);
            let got = (v.status(), v.exit());
            if got != want {
                failures.push(format!(
                    "{} as {}: want {want:?}, got {got:?}: {v:?}",
                    c.row,
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn loud_rows_are_alerts_for_the_writer() {
    for changes in [IO_1236, SQL_1062, IO_1045] {
        let v = verdict(
            &maria_with(changes),
            &PeerObservation::NotAsked,
            Role::Writer,
            &Policy::default(),
            Received::Unknown,
        );
        assert!(v.findings.iter().any(|f| f.level == Level::Alert), "{v:?}");
    }
    let v = verdict(
        &maria_with(STOPPED),
        &PeerObservation::NotAsked,
        Role::Writer,
        &Policy::default(),
        Received::Unknown,
    );
    assert!(v.findings.iter().all(|f| f.level != Level::Alert), "{v:?}");
}

#[test]
fn promoting_passes_read_only_and_failed_promotion_fails() {
    let ro = maria(true, vec![row(MARIADB_COLUMNS, &[])]);
    let v = verdict(
        &ro,
        &PeerObservation::NotAsked,
        Role::Promoting,
        &Policy::default(),
        Received::Unknown,
    );
    assert_eq!((v.status(), v.exit()), WARN, "{v:?}");
    assert!(
        v.findings
            .iter()
            .any(|f| f.message.contains("promoting, read-only until caught up"))
    );
    let v = verdict(
        &ro,
        &PeerObservation::NotAsked,
        Role::PromotionFailed,
        &Policy::default(),
        Received::Unknown,
    );
    assert_eq!((v.status(), v.exit()), fail(Exit::ReadOnly), "{v:?}");
    // Promoting uses writer rules otherwise: a broken SQL thread degrades, does not fail.
    let v = verdict(
        &maria_with(SQL_1062),
        &PeerObservation::NotAsked,
        Role::Promoting,
        &Policy::default(),
        Received::Unknown,
    );
    assert_eq!(v.status(), Status::Warn);
}

#[test]
fn down_verdict_and_precedence() {
    let v = Verdict::down(Role::Writer, "cannot connect");
    assert_eq!((v.status(), v.exit()), fail(Exit::Down));
    // A standby that is both lagging-unknown and diverged reports the divergence.
    let v = verdict(
        &maria_with(SQL_1950),
        &reached("0-1-41,0-2-40"),
        Role::Standby,
        &Policy::default(),
        Received::Unknown,
    );
    assert_eq!(v.exit(), Exit::Diverged);
}

#[test]
fn summary_line_shapes() {
    let v = verdict(
        &maria_with(&[]),
        &PeerObservation::NotAsked,
        Role::Writer,
        &Policy::default(),
        Received::Unknown,
    );
    assert_eq!(v.summary, "io=Yes sql=Yes lag=0s gtid=0-2-41");
    let v = verdict(
        &maria_with(PEER_DEAD_IO),
        &unreachable(),
        Role::Standby,
        &Policy::default(),
        Received::Unknown,
    );
    let peer_lines = v
        .findings
        .iter()
        .filter(|f| f.message.starts_with("peer down"))
        .count();
    assert_eq!(peer_lines, 1, "{v:?}");
}

fn observe_error(failure: Failure) -> ObserveError {
    ObserveError {
        target: "/run/mysqld/mysqld.sock".into(),
        stage: Stage::Connect,
        failure,
    }
}

fn answered(code: u16, message: &str) -> Failure {
    Failure::Answered {
        code,
        sqlstate: "HY000".into(),
        message: message.into(),
        refusal: Refusal::of(code),
    }
}

/// The local server could not be observed: what came back decides, per role.
#[test]
fn unobserved_table() {
    type Row = (&'static str, Failure, (Status, Exit), (Status, Exit));
    let rows: Vec<Row> = vec![
        (
            "no answer",
            Failure::NoAnswer {
                cause: "Connection refused (os error 111)".into(),
            },
            fail(Exit::Down),
            fail(Exit::Down),
        ),
        (
            "deadline",
            Failure::deadline(Duration::from_millis(800)),
            fail(Exit::Down),
            fail(Exit::Down),
        ),
        (
            "1040 max_connections",
            answered(1040, "Too many connections"),
            WARN,
            fail(Exit::Down),
        ),
        (
            "1203 max_user_connections",
            answered(
                1203,
                "User monitor already has more than 'max_user_connections' active connections",
            ),
            WARN,
            fail(Exit::Down),
        ),
        (
            "1226 per-user limit",
            answered(
                1226,
                "User 'monitor' has exceeded the 'max_user_connections' resource (current value: 1)",
            ),
            WARN,
            fail(Exit::Down),
        ),
        (
            "1045",
            answered(
                1045,
                "Access denied for user 'monitor'@'localhost' (using password: YES)",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1044",
            answered(
                1044,
                "Access denied for user 'monitor'@'localhost' to database 'x'",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1130",
            answered(
                1130,
                "Host '10.0.0.1' is not allowed to connect to this MariaDB server",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1129",
            answered(
                1129,
                "Host '10.0.0.1' is blocked because of many connection errors; unblock with 'mariadb-admin flush-hosts'",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1820",
            answered(
                1820,
                "You must SET PASSWORD before executing this statement",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1862",
            answered(
                1862,
                "Your password has expired. To log in you must change it using a client that supports expired passwords",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1227",
            answered(
                1227,
                "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation",
            ),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "4151 locked",
            answered(4151, "Access denied, this account is locked"),
            fail(Exit::Config),
            fail(Exit::Config),
        ),
        (
            "1053 shutdown",
            answered(1053, "Server shutdown in progress"),
            fail(Exit::Down),
            fail(Exit::Down),
        ),
    ];
    let mut failures = Vec::new();
    for (row, failure, writer, standby) in rows {
        for (role, want) in [(Role::Writer, writer), (Role::Standby, standby)] {
            let v = Verdict::unobserved(role, &observe_error(failure.clone()), Some("monitor"));
            if (v.status(), v.exit()) != want {
                failures.push(format!(
                    "{row} as {}: want {want:?}, got {v:?}",
                    role.as_str()
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unobserved_messages_name_the_fix() {
    let v = Verdict::unobserved(
        Role::Writer,
        &observe_error(answered(1040, "Too many connections")),
        Some("monitor"),
    );
    assert!(
        crate::report::line(&v).starts_with("WARN writer: saturated: "),
        "{v:?}"
    );
    let v = Verdict::unobserved(
        Role::Standby,
        &observe_error(answered(
            1227,
            "Access denied; you need (at least one of) the SUPER, SLAVE MONITOR privilege(s) for this operation",
        )),
        Some("monitor"),
    );
    let line = crate::report::line(&v);
    assert!(line.starts_with("FAIL standby config: "), "{line}");
    assert!(
        line.contains("GRANT SLAVE MONITOR ON *.* TO 'monitor'@'<host>'"),
        "{line}"
    );
    let v = Verdict::unobserved(
        Role::Standby,
        &observe_error(answered(1129, "Host '10.0.0.1' is blocked")),
        None,
    );
    assert!(crate::report::line(&v).contains("FLUSH HOSTS"), "{v:?}");
    // No user at all: the fix is the option file, not a CREATE USER for nobody.
    let v = Verdict::unobserved(
        Role::Standby,
        &observe_error(answered(
            1045,
            "Access denied for user ''@'localhost' (using password: NO)",
        )),
        None,
    );
    let line = crate::report::line(&v);
    assert!(
        line.contains("no user= in the option file") && !line.contains("CREATE USER"),
        "{line}"
    );
}

#[test]
fn ipv6_sources_have_brackets() {
    let v = verdict(
        &maria_with(&[
            ("Master_Host", Some("fd00::2")),
            SQL_1062[0],
            SQL_1062[3],
            SQL_1062[4],
        ]),
        &PeerObservation::NotAsked,
        Role::Standby,
        &Policy::default(),
        Received::Unknown,
    );
    assert!(
        v.findings
            .iter()
            .any(|f| f.message.contains("from [fd00::2]:3306")),
        "{v:?}"
    );
}

#[test]
fn stalled_message_says_how_long_and_how_far() {
    let v = verdict(
        &maria_with(&[]),
        &reached("0-1-10,0-2-67"),
        Role::Standby,
        &Policy {
            max_lag: Duration::from_secs(20),
            ..Policy::default()
        },
        behind(26, Some(31)),
    );
    let line = crate::report::line(&v);
    assert!(
        line.starts_with(
            "FAIL standby lag: received nothing for 31s while the peer is 26 transaction(s) \
             ahead (replication connection stalled?)"
        ),
        "{line}"
    );
}
