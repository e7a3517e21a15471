//! Every failure's exit code and message, the retry's syslog lines, and the output.

use super::*;
use crate::io::config::ConfigError;
use crate::io::state::{RoleFileError, StateError};
use crate::model::observation::ObserveError;
use crate::model::observation::{Failure, Refusal, Stage};
use crate::plan::promotion::NotGtid;

fn connect(code: Option<u16>) -> ObserveError {
    ObserveError {
        target: "db:3306".into(),
        stage: Stage::Connect,
        failure: match code {
            Some(code) => Failure::Answered {
                code,
                sqlstate: "28000".into(),
                message: "no".into(),
                refusal: Refusal::of(code),
            },
            None => Failure::NoAnswer {
                cause: "refused".into(),
            },
        },
    }
}

fn query(code: u16) -> mysql::Error {
    mysql::Error::MySqlError(mysql::MySqlError {
        state: "42000".into(),
        message: "no".into(),
        code,
    })
}

fn busy() -> StateError {
    StateError::Busy {
        dir: "/run/s".into(),
    }
}

/// Every failure, its exit code and its message (docs/contract.md "Output of the notify
/// helpers", the exit codes of notify-master and notify-backup): the messages are the
/// ones the helpers printed when these were strings.
#[test]
fn every_failure_has_one_exit_code_and_its_message() {
    let mut rows = failures_of_the_server();
    rows.extend(failures_of_the_run());
    for (error, exit, message) in rows {
        assert_eq!(error.to_string(), message, "{error:?}");
        assert_eq!(exit_of(&Err(error)), exit, "{message}");
    }
    let m = || "m".to_string();
    for ok in [
        Outcome::Writer(m()),
        Outcome::Fenced(m()),
        Outcome::Superseded(m()),
        Outcome::DryRun(m()),
    ] {
        assert_eq!(exit_of(&Ok(ok)), Exit::Ok);
    }
}

#[test]
fn the_background_retry_says_so_unless_it_gave_up() {
    let line = |r: Result<Outcome, NotifyError>| retry_line(&r).0;
    assert_eq!(
        line(Ok(Outcome::Fenced("fenced: read_only=ON".into()))),
        "OK standby: fenced: read_only=ON (background retry)"
    );
    assert_eq!(
        line(Ok(Outcome::Superseded("x".into()))),
        "OK superseded: x"
    );
    assert_eq!(
        line(Err(NotifyError::Privilege {
            statement: "x".into(),
            error: query(1227),
        })),
        "FAIL config: x: ERROR 1227 (42000): no (see README, least privileges) (background \
         retry)"
    );
    assert_eq!(
        line(Err(NotifyError::GaveUp {
            target: "db:3306".into()
        })),
        "FAIL down: gave up fencing db:3306: the server never answered; it may take writes \
         by its own address until someone runs notify-backup"
    );
}

type Row = (NotifyError, Exit, &'static str);

/// Failures that come from the server (its answers, its account, its state).
fn failures_of_the_server() -> Vec<Row> {
    vec![
        (
            NotifyError::Config(ConfigError::VerifyNeedsCa),
            Exit::Config,
            "--ssl-mode verify-ca/verify-identity needs --ssl-ca (or ssl-ca in the option \
             file)",
        ),
        (
            NotifyError::State(StateError::CreateDir {
                dir: "/run/s".into(),
                cause: std::io::Error::from_raw_os_error(libc::EACCES).into(),
            }),
            Exit::Config,
            "cannot create state dir /run/s: permission denied",
        ),
        (
            NotifyError::State(busy()),
            Exit::Down,
            "state dir /run/s stayed locked by another helper until the deadline",
        ),
        (
            NotifyError::RoleFile(RoleFileError::Bad {
                path: "/run/s/role".into(),
                message: "bad".into(),
            }),
            Exit::Config,
            "role file /run/s/role: bad",
        ),
        (
            NotifyError::WriteRole {
                dir: "/run/s".into(),
                cause: std::io::Error::from_raw_os_error(libc::EROFS).into(),
            },
            Exit::Config,
            "cannot write role file in /run/s: read-only file system",
        ),
        (
            NotifyError::Refused {
                what: "cannot promote",
                error: connect(Some(1045)),
            },
            Exit::Config,
            "cannot promote: cannot connect to db:3306: ERROR 1045 (28000): no: the server \
             refuses this account: fix user= and password= in the option file or the \
             account's grants (README, least privileges of the notify helpers)",
        ),
        (
            NotifyError::Saturated {
                what: "cannot promote",
                error: connect(Some(1040)),
            },
            Exit::Down,
            "cannot promote: cannot connect to db:3306: ERROR 1040 (28000): no: the server \
             is at its connection limit: GRANT CONNECTION ADMIN to this account so that it \
             gets past it (README, least privileges of the notify helpers)",
        ),
        (
            NotifyError::Saturated {
                what: "cannot promote",
                error: connect(Some(1226)),
            },
            Exit::Down,
            "cannot promote: cannot connect to db:3306: ERROR 1226 (28000): no: this account \
             hit its own limits: ALTER USER ... WITH MAX_USER_CONNECTIONS 0 \
             MAX_CONNECTIONS_PER_HOUR 0 MAX_QUERIES_PER_HOUR 0 (CONNECTION ADMIN does not pass \
             them)",
        ),
        (
            NotifyError::Connect {
                what: "cannot promote",
                error: connect(None),
            },
            Exit::Down,
            "cannot promote: cannot connect to db:3306: refused",
        ),
        (
            NotifyError::Privilege {
                statement: "SET GLOBAL read_only=ON".into(),
                error: query(1227),
            },
            Exit::Config,
            "SET GLOBAL read_only=ON: ERROR 1227 (42000): no (see README, least privileges)",
        ),
        (
            NotifyError::Query {
                statement: "query failed".into(),
                error: query(1064),
            },
            Exit::Down,
            "query failed: ERROR 1064 (42000): no",
        ),
        (
            NotifyError::SessionsUnseen {
                read_only_on: true,
                error: query(1227),
            },
            Exit::Config,
            "read_only=ON, but the client sessions that could still commit cannot be \
             listed: ERROR 1227 (42000): no: GRANT PROCESS to this account (README, least \
             privileges of the notify helpers), or pass --keep-sessions",
        ),
        (
            NotifyError::SessionsUnseen {
                read_only_on: false,
                error: query(1227),
            },
            Exit::Config,
            "read_only not set (a statement holds the lock it needs), but the client sessions \
             that could still commit cannot be listed: ERROR 1227 (42000): no: GRANT PROCESS \
             to this account (README, least privileges of the notify helpers), or pass \
             --keep-sessions",
        ),
        (
            NotifyError::CannotEndSession {
                id: 35,
                error: query(1095),
            },
            Exit::Config,
            "session 35, which could still commit, cannot be ended: ERROR 1095 (42000): no: \
             GRANT CONNECTION ADMIN to this account (README, least privileges of the notify \
             helpers), or pass --keep-sessions",
        ),
    ]
}

/// Failures of the run itself (state dir, deadlines, retries).
fn failures_of_the_run() -> Vec<Row> {
    let secs = Duration::from_secs;
    vec![
        (
            NotifyError::ReadOnlyUnchanged { now_on: true },
            Exit::Down,
            "read_only is still ON after setting it",
        ),
        (
            NotifyError::ReadOnlyUnchanged { now_on: false },
            Exit::Down,
            "read_only is still OFF after setting it",
        ),
        (
            NotifyError::FenceBlocked {
                timeout: Duration::from_millis(800),
                ended: 2,
                keep_sessions: false,
            },
            Exit::Down,
            "SET GLOBAL read_only=ON did not get its lock within --timeout 800ms: fencing not \
             confirmed (ended 2 client session(s) that could still commit; LOCK TABLES, FLUSH \
             TABLES WITH READ LOCK, BACKUP STAGE or DDL in another session holds it)",
        ),
        (
            NotifyError::FenceBlocked {
                timeout: Duration::from_secs(2),
                ended: 0,
                keep_sessions: true,
            },
            Exit::Down,
            "SET GLOBAL read_only=ON did not get its lock within --timeout 2s: fencing not \
             confirmed (a running write statement, LOCK TABLES, FLUSH TABLES WITH READ LOCK, \
             BACKUP STAGE or DDL holds it; client sessions kept: --keep-sessions)",
        ),
        (
            NotifyError::BadPosition(NotGtid {
                connection: "a".into(),
                position: "x".into(),
            }),
            Exit::Down,
            "connection 'a': received position 'x' is not a GTID list",
        ),
        (
            NotifyError::WaitUnexpected {
                position: "0-1-5".into(),
                answer: None,
            },
            Exit::Down,
            "waiting for 0-1-5 returned NULL",
        ),
        (
            NotifyError::WaitUnexpected {
                position: "0-1-5".into(),
                answer: Some("-1".into()),
            },
            Exit::Down,
            "waiting for 0-1-5 returned -1",
        ),
        (
            NotifyError::Hung { limit: secs(70) },
            Exit::Down,
            "promotion did not finish within 1m 10s: recorded as failed, node stays \
             read-only",
        ),
        (
            NotifyError::CatchupTimedOut {
                limit: secs(60),
                positions: vec!["0-1-5".into(), "1-2-7".into()],
            },
            Exit::Lag,
            "catch-up not finished after --catchup-timeout 1m (waiting for 0-1-5 1-2-7): \
             promotion given up, node stays read-only; check-mysql now fails it so the VIP \
             can move. Fix replication (check-mysql -v), then restart keepalived here",
        ),
        (
            NotifyError::FenceUnconfirmed {
                target: "db:3306".into(),
                timeout: secs(5),
            },
            Exit::Down,
            "no answer from db:3306 within --timeout 5s: fencing not confirmed",
        ),
        (
            NotifyError::RetryStarted {
                error: Box::new(NotifyError::State(busy())),
                pid: 42,
                retry_for: secs(3600),
            },
            Exit::Down,
            "state dir /run/s stayed locked by another helper until the deadline; retrying \
             in the background (PID 42) for up to 1h",
        ),
        (
            NotifyError::RetryNotStarted {
                error: Box::new(NotifyError::State(busy())),
                cause: std::io::Error::from_raw_os_error(libc::EAGAIN),
            },
            Exit::Down,
            "state dir /run/s stayed locked by another helper until the deadline; cannot \
             retry in the background: Resource temporarily unavailable (os error 11)",
        ),
        (
            NotifyError::GaveUp {
                target: "db:3306".into(),
            },
            Exit::Down,
            "gave up fencing db:3306: the server never answered; it may take writes by its \
             own address until someone runs notify-backup",
        ),
    ]
}
