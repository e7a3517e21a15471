//! The verdict when the local server could not be observed, the messages that name a fix,
//! and the shapes of a few messages.

use std::time::Duration;

use super::fixtures::*;
use crate::exit::Exit;
use crate::model::observation::{Failure, ObserveError, PeerObservation, Refusal, Stage};
use crate::model::role::Role;
use crate::verdict::reception::Received;
use crate::verdict::{Policy, Status, Verdict, verdict};

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
type Row = (&'static str, Failure, (Status, Exit), (Status, Exit));

/// No answer, and a server at a connection limit.
fn unanswered_and_saturated() -> Vec<Row> {
    vec![
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
    ]
}

/// The check's own account refused, and other answers.
fn refused_and_other() -> Vec<Row> {
    vec![
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
    ]
}

#[test]
fn unobserved_table() {
    let mut rows = unanswered_and_saturated();
    rows.extend(refused_and_other());
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
        false,
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
        false,
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

/// A promotion that gave up must not keep the VIP, whatever the server answers: the role
/// alone settles it (a saturated server is WARN only for a writer that took writes).
#[test]
fn promotion_failed_never_keeps_the_vip_when_unobserved() {
    for failure in [
        answered(1040, "Too many connections"),
        answered(
            1226,
            "User 'monitor' has exceeded the 'max_user_connections' resource",
        ),
        Failure::deadline(Duration::from_millis(800)),
    ] {
        let v = Verdict::unobserved(Role::PromotionFailed, &observe_error(failure), Some("m"));
        assert_eq!(v.status(), Status::Fail, "{v:?}");
    }
    let v = Verdict::unobserved(
        Role::Promoting,
        &observe_error(answered(1040, "Too many connections")),
        Some("m"),
    );
    assert_eq!(
        v.status(),
        Status::Warn,
        "promoting uses writer rules: {v:?}"
    );
}
