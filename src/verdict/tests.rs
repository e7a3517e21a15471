//! One table row per row of the verdict table (docs/contract.md "Verdicts of check-mysql"),
//! for both roles, on observations shaped exactly like the servers' own result rows.

use std::time::Duration;

mod fixtures;
mod unobserved;

use super::*;
use crate::exit::Exit;
use fixtures::*;

fn cases() -> Vec<Case> {
    let mut all = cases_replication();
    all.extend(cases_peer());
    all.extend(cases_reception());
    all.extend(cases_errors_lag_read_only());
    all.extend(cases_multi_source_and_mysql());
    all
}

fn cases_replication() -> Vec<Case> {
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
    ]
}

fn cases_peer() -> Vec<Case> {
    vec![
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
        // Lost the peer and retrying (a restart of the peer): not a broken path yet.
        Case {
            peer: reached("0-1-10,0-2-41"),
            ..case(
                "--peer reached, IO 2003 while reconnecting",
                maria_with(&[
                    ("Slave_IO_Running", Some("Connecting")),
                    ("Seconds_Behind_Master", None),
                    ("Last_IO_Errno", Some("2003")),
                    (
                        "Last_IO_Error",
                        Some(
                            "error reconnecting to master 'repl@10.0.0.2:3306' - retry-time: 60  maximum-retries: 100000  message: Can't connect to server on '10.0.0.2' (111 \"Connection refused\")",
                        ),
                    ),
                ]),
                WARN,
                WARN,
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
    ]
}

fn cases_reception() -> Vec<Case> {
    vec![
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
    ]
}

fn cases_errors_lag_read_only() -> Vec<Case> {
    vec![
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
    ]
}

fn cases_multi_source_and_mysql() -> Vec<Case> {
    vec![
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
            let v = verdict(&c.obs, &c.peer, role, &c.policy, c.received, false);
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
            false,
        );
        assert!(v.findings.iter().any(|f| f.level == Level::Alert), "{v:?}");
    }
    let v = verdict(
        &maria_with(STOPPED),
        &PeerObservation::NotAsked,
        Role::Writer,
        &Policy::default(),
        Received::Unknown,
        false,
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
        false,
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
        false,
    );
    assert_eq!((v.status(), v.exit()), fail(Exit::ReadOnly), "{v:?}");
    // Promoting uses writer rules otherwise: a broken SQL thread degrades, does not fail.
    let v = verdict(
        &maria_with(SQL_1062),
        &PeerObservation::NotAsked,
        Role::Promoting,
        &Policy::default(),
        Received::Unknown,
        false,
    );
    assert_eq!(v.status(), Status::Warn);
}

#[test]
fn down_verdict_and_precedence() {
    let no_answer = crate::model::observation::ObserveError {
        target: "/run/mysqld/mysqld.sock".into(),
        stage: crate::model::observation::Stage::Connect,
        failure: crate::model::observation::Failure::NoAnswer {
            cause: "cannot connect".into(),
        },
    };
    let v = Verdict::unobserved(Role::Writer, &no_answer, None);
    assert_eq!((v.status(), v.exit()), fail(Exit::Down));
    // A standby that is both lagging-unknown and diverged reports the divergence.
    let v = verdict(
        &maria_with(SQL_1950),
        &reached("0-1-41,0-2-40"),
        Role::Standby,
        &Policy::default(),
        Received::Unknown,
        false,
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
        false,
    );
    assert_eq!(v.summary, "io=Yes sql=Yes lag=0s gtid=0-2-41");
    let v = verdict(
        &maria_with(PEER_DEAD_IO),
        &unreachable(),
        Role::Standby,
        &Policy::default(),
        Received::Unknown,
        false,
    );
    let peer_lines = v
        .findings
        .iter()
        .filter(|f| f.message.starts_with("peer down"))
        .count();
    assert_eq!(peer_lines, 1, "{v:?}");
}

/// name, this node, peer, role, refusal remembered, exit, situation.
type SplitRow = (
    &'static str,
    Observation,
    PeerObservation,
    Role,
    bool,
    Exit,
    Option<Situation>,
);

/// The split-brain guard's rows (docs/contract.md "Split brain"): a remembered refusal, and
/// two writable nodes, on rows shaped as the servers return them.
#[test]
fn split_brain_rows() {
    use crate::model::observation::{GuardRow, Refusal};
    const EARLY: Option<&str> = Some("2026-11-30 01:00:00.000001");
    const LATE: Option<&str> = Some("2026-11-30 01:00:07.250000");
    let peer_at = |state: &str, read_only: bool, since: Option<&str>| match reached(state) {
        PeerObservation::Reached {
            address,
            dialect,
            gtid,
            server_id,
            ..
        } => PeerObservation::Reached {
            address,
            dialect,
            gtid,
            read_only: Some(read_only),
            server_id,
            writer_since: since.map(Into::into),
        },
        other => other,
    };
    let peer = |read_only: bool, since: Option<&str>| peer_at("0-1-10,0-2-41", read_only, since);
    // This node: server_id 1 (the peer's is 2).
    let me = |read_only: bool, since: Option<&str>| {
        let mut o = maria(read_only, vec![row(MARIADB_COLUMNS, &[])]);
        o.guard = Some(GuardRow {
            server_id: Some(1),
            writer_since: since.map(Into::into),
        });
        o
    };
    let guard_missing = PeerObservation::Refused {
        address: "10.0.0.2:3306".into(),
        error: "ERROR 1146 (42S02): Table 'keepalived_mysql.guard' doesn't exist".into(),
        code: 1146,
        refusal: Refusal::Guard,
    };
    use Situation::{GuardMissing, PromotionRefused, SplitBrain};
    // name, this node, peer, role, refusal remembered, exit, situation, level
    let rows: Vec<SplitRow> = vec![
        (
            "refused, peer writable",
            me(true, None),
            peer(false, EARLY),
            Role::PromotionFailed,
            true,
            Exit::SplitBrain,
            Some(PromotionRefused),
        ),
        (
            "refused, now standby, peer writable",
            me(true, None),
            peer(false, EARLY),
            Role::Standby,
            true,
            Exit::SplitBrain,
            Some(PromotionRefused),
        ),
        (
            "refused, peer fenced",
            me(true, None),
            peer(true, None),
            Role::Standby,
            true,
            Exit::Ok,
            None,
        ),
        (
            "no refusal: a standby of a writable peer",
            me(true, None),
            peer(false, EARLY),
            Role::Standby,
            false,
            Exit::Ok,
            None,
        ),
        (
            "both writable, this one earlier",
            me(false, EARLY),
            peer(false, LATE),
            Role::Writer,
            false,
            Exit::Ok,
            Some(SplitBrain),
        ),
        (
            "both writable, this one later",
            me(false, LATE),
            peer(false, EARLY),
            Role::Writer,
            false,
            Exit::SplitBrain,
            Some(SplitBrain),
        ),
        (
            "both writable, this one earlier but missing the peer's writes (it froze and \
             resumed after the takeover)",
            me(false, EARLY),
            peer_at("0-1-10,0-2-45", false, LATE),
            Role::Writer,
            false,
            Exit::SplitBrain,
            Some(SplitBrain),
        ),
        (
            "both writable, this one later but the peer lacks its writes (the peer resumed)",
            me(false, LATE),
            peer_at("0-1-10,0-2-30", false, EARLY),
            Role::Writer,
            false,
            Exit::Ok,
            Some(SplitBrain),
        ),
        (
            "both writable, same time: lower server_id stays",
            me(false, EARLY),
            peer(false, EARLY),
            Role::Writer,
            false,
            Exit::Ok,
            Some(SplitBrain),
        ),
        (
            "both writable, this one never unfenced by notify-master",
            me(false, None),
            peer(false, LATE),
            Role::Writer,
            false,
            Exit::SplitBrain,
            Some(SplitBrain),
        ),
        (
            "a standby unfenced by hand while the peer writes",
            me(false, None),
            peer(false, EARLY),
            Role::Standby,
            false,
            Exit::SplitBrain,
            Some(SplitBrain),
        ),
        (
            "writer, peer fenced",
            me(false, EARLY),
            peer(true, None),
            Role::Writer,
            false,
            Exit::Ok,
            None,
        ),
        (
            "peer without the guard table: the writer keeps the VIP, loudly",
            me(false, EARLY),
            guard_missing.clone(),
            Role::Writer,
            false,
            Exit::Ok,
            Some(GuardMissing),
        ),
        (
            "peer without the guard table: a standby fails",
            me(true, None),
            guard_missing,
            Role::Standby,
            false,
            Exit::Config,
            Some(GuardMissing),
        ),
        (
            "--peer is this very server",
            me(false, EARLY),
            match peer(false, EARLY) {
                PeerObservation::Reached {
                    address,
                    dialect,
                    gtid,
                    read_only,
                    writer_since,
                    ..
                } => PeerObservation::Reached {
                    address,
                    dialect,
                    gtid,
                    read_only,
                    server_id: Some(1),
                    writer_since,
                },
                other => other,
            },
            Role::Writer,
            false,
            Exit::Config,
            Some(GuardMissing),
        ),
    ];
    for (name, obs, peer, role, refused, exit, situation) in rows {
        let v = verdict(
            &obs,
            &peer,
            role,
            &Policy::default(),
            Received::Unknown,
            refused,
        );
        assert_eq!(v.exit(), exit, "{name}: {v:?}");
        let found = v
            .findings
            .iter()
            .find(|f| matches!(f.situation, GuardMissing | PromotionRefused | SplitBrain))
            .map(|f| f.situation);
        assert_eq!(found, situation, "{name}: {v:?}");
        if situation == Some(SplitBrain) && exit == Exit::Ok {
            // The node that stays is loud about it.
            assert!(
                v.findings.iter().any(|f| f.level == Level::Alert),
                "{name}: {v:?}"
            );
        }
    }
}
