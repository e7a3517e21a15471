//! Issue 11, "Fencing ends in-flight writes": `read_only=ON` refuses a statement only when
//! it starts, and on MariaDB 10.11 `SET GLOBAL read_only=ON` itself waits for the write
//! statements already running. notify-backup waits a bounded time, ends the client sessions
//! that could still commit, and tries again; once read_only is ON it ends them again. Each
//! test waits for the server to show the state it needs (bounded polling), never for time.

use std::thread::JoinHandle;
use std::time::Duration;

use mysql::prelude::Queryable;

use super::{Node, count};
use crate::common::mariadb::Server;
use crate::common::wait_until;
use crate::harness::{Pair, create_failover_user, replication_running};

/// Read timeout of the test's own application sessions: far above any wait in a test.
const LONG: Duration = Duration::from_secs(30);

/// `appdb.t` on both servers, an application account `app` that may write it, and the
/// helpers' account `failover` (packaging/grants.sql's privileges) on `p.b`.
fn pair_with_app() -> Pair {
    let p = Pair::dual_master();
    p.b.sql(
        "CREATE DATABASE appdb; CREATE TABLE appdb.t (id INT PRIMARY KEY) ENGINE=InnoDB; \
         CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; \
         GRANT INSERT, SELECT ON appdb.* TO 'app'@'127.0.0.1'",
    );
    create_failover_user(&p.b, "failover", "f-pw");
    p.wait_synced();
    p
}

/// A new session of `app` on `s`.
fn app(s: &Server) -> mysql::Conn {
    mysql::Conn::new(s.opts("app", "app-pw", LONG)).expect("connect as app")
}

/// Rows with `id` in `appdb.t` on `s`.
fn rows(s: &Server, id: u32) -> usize {
    count(s, &format!("appdb.t WHERE id = {id}"))
}

/// `app` holds the row lock of `id` (an uncommitted INSERT, idle), and another `app` session
/// runs an autocommit `INSERT` of the same `id` that waits for it: once the returned session
/// rolls back, that INSERT commits (unless its session was ended). Returns once INNODB_TRX
/// shows the INSERT in LOCK WAIT.
fn insert_waiting_on_a_row_lock(
    s: &Server,
    id: u32,
) -> (mysql::Conn, JoinHandle<Result<(), String>>) {
    let mut locker = app(s);
    locker
        .query_drop(format!("BEGIN; INSERT INTO appdb.t VALUES ({id})"))
        .expect("lock the row");
    let opts = s.opts("app", "app-pw", LONG);
    let waiting = std::thread::spawn(move || {
        let mut conn = mysql::Conn::new(opts).map_err(|e| e.to_string())?;
        conn.query_drop(format!("INSERT INTO appdb.t VALUES ({id})"))
            .map_err(|e| e.to_string())
    });
    wait_until("the INSERT waits for the row lock", || {
        match count(
            s,
            "information_schema.INNODB_TRX WHERE trx_state = 'LOCK WAIT'",
        ) {
            1 => Ok(()),
            n => Err(format!("{n} transaction(s) in LOCK WAIT\n{}", s.describe())),
        }
    });
    (locker, waiting)
}

/// Replication runs both ways, and each server's peer reads its binary log (`Binlog Dump`).
fn expect_replication(p: &Pair) {
    for s in [&p.a, &p.b] {
        assert!(
            replication_running(s),
            "replication must survive fencing\n{}",
            p.describe()
        );
        assert_eq!(
            count(
                s,
                "information_schema.PROCESSLIST WHERE COMMAND LIKE 'Binlog Dump%'"
            ),
            1,
            "the peer's Binlog Dump must survive fencing\n{}",
            p.describe()
        );
    }
}

/// (1) An autocommit INSERT blocked on a row lock when fencing starts holds up `SET GLOBAL
/// read_only=ON` (MariaDB 10.11: "Waiting for backup lock"): notify-backup ends it and the
/// idle transaction holding the lock, then fences, within its default --timeout. The row is
/// on neither server afterwards; replication runs on.
#[test]
fn blocked_autocommit_insert_does_not_commit() {
    let p = pair_with_app();
    let b = Node::as_user(&p.b, "failover", Some("f-pw"));
    let (mut locker, waiting) = insert_waiting_on_a_row_lock(&p.b, 1);

    b.run("notify-backup", &["--no-retry"])
        .expect(0, "OK standby: fenced: read_only=ON")
        .stdout_mentions(&["ended 2 client session(s) that could still commit"]);
    b.expect_read_only(true);
    // The locker's session is gone: its ROLLBACK cannot run; the INSERT's ended too.
    assert!(locker.query_drop("ROLLBACK").is_err(), "locker not ended");
    let inserted = waiting.join().expect("thread");
    assert!(
        inserted.is_err(),
        "the blocked INSERT returned {inserted:?}"
    );
    assert_eq!(rows(&p.b, 1), 0, "{}", b.describe());
    p.wait_synced();
    assert_eq!(rows(&p.a, 1), 0, "{}", p.describe());
    expect_replication(&p);
}

/// (2) An explicit transaction that has written and is idle when fencing starts: its
/// session is ended after read_only=ON (its COMMIT can no longer run); an idle session
/// without a transaction and a running autocommit SELECT (a read-only transaction) are left
/// alone.
#[test]
fn idle_write_transaction_does_not_commit() {
    let p = pair_with_app();
    let b = Node::as_user(&p.b, "failover", Some("f-pw"));
    let mut idle = app(&p.b);
    idle.query_drop("SELECT 1").expect("idle app");
    let mut open = app(&p.b);
    open.query_drop("BEGIN; INSERT INTO appdb.t VALUES (2)")
        .expect("open a write transaction");

    b.run("notify-backup", &["--dry-run"])
        .expect(0, "DRY-RUN: ")
        .stdout_mentions(&["end 1 client session(s)"]);
    b.run("notify-backup", &["--no-retry"])
        .expect(0, "OK standby: fenced: read_only=ON")
        .stdout_mentions(&["ended 1 client session(s) that could still commit"]);
    b.expect_read_only(true);
    let committed = open.query_drop("COMMIT");
    assert!(
        committed.is_err(),
        "the open transaction's session was not ended\n{}",
        b.describe()
    );
    assert_eq!(rows(&p.b, 2), 0, "{}", b.describe());
    idle.query_drop("SELECT 1")
        .expect("an idle session without a transaction is left alone");
    p.wait_synced();
    assert_eq!(rows(&p.a, 2), 0, "{}", p.describe());
    expect_replication(&p);
}

/// (3) `--keep-sessions` ends nothing, with the consequences README states: an idle write
/// transaction survives (MariaDB refuses its COMMIT with 1290 under read_only); an INSERT
/// waiting on a row lock keeps `SET GLOBAL read_only=ON` from its lock, so the fence is not
/// confirmed (exit 1) and, once the lock is released, the INSERT commits. The bounded wait
/// leaves no SET behind on the server: read_only stays OFF.
#[test]
fn keep_sessions_leaves_them() {
    let p = pair_with_app();
    let b = Node::as_user(&p.b, "failover", Some("f-pw"));

    let mut open = app(&p.b);
    open.query_drop("BEGIN; INSERT INTO appdb.t VALUES (3)")
        .expect("open a write transaction");
    b.run("notify-backup", &["--keep-sessions", "--no-retry"])
        .expect(0, "OK standby: fenced: read_only=ON")
        .stdout_mentions(&["client sessions kept (--keep-sessions)"]);
    match open.query_drop("COMMIT") {
        Err(e) if e.to_string().contains("1290") => {}
        other => panic!("COMMIT under read_only: expected 1290, got {other:?}"),
    }
    open.query_drop("ROLLBACK")
        .expect("the session was left alone");
    assert_eq!(rows(&p.b, 3), 0);

    p.b.sql("SET GLOBAL read_only=OFF");
    let (mut locker, waiting) = insert_waiting_on_a_row_lock(&p.b, 4);
    b.run("notify-backup", &["--keep-sessions", "--no-retry"])
        .expect(
            1,
            "FAIL down: SET GLOBAL read_only=ON did not get its lock within",
        )
        .stdout_mentions(&["client sessions kept: --keep-sessions"]);
    locker
        .query_drop("ROLLBACK")
        .expect("the locker was left alone");
    waiting
        .join()
        .expect("thread")
        .expect("with --keep-sessions, the blocked INSERT commits");
    assert_eq!(rows(&p.b, 4), 1);
    assert_eq!(
        count(
            &p.b,
            "information_schema.PROCESSLIST WHERE INFO LIKE 'SET GLOBAL read_only%'"
        ),
        0,
        "a SET left waiting on the server\n{}",
        b.describe()
    );
    b.expect_read_only(false);
    expect_replication(&p);
}

/// (5) Sessions of the helpers' own account are never ended (notify-master waiting for
/// catch-up runs under it; `newer_backup_wins_over_a_promotion_still_catching_up` shows it
/// reporting superseded): here one with an open write transaction.
#[test]
fn helpers_own_account_sessions_are_not_ended() {
    let p = pair_with_app();
    p.b.sql("GRANT INSERT ON appdb.* TO 'failover'@'127.0.0.1'");
    let b = Node::as_user(&p.b, "failover", Some("f-pw"));
    let mut own = mysql::Conn::new(p.b.opts("failover", "f-pw", LONG)).expect("failover");
    own.query_drop("BEGIN; INSERT INTO appdb.t VALUES (5)")
        .expect("open a write transaction as the helpers' account");
    let mut other = app(&p.b);
    other
        .query_drop("BEGIN; INSERT INTO appdb.t VALUES (6)")
        .expect("open a write transaction as app");

    b.run("notify-backup", &["--no-retry"])
        .expect(0, "OK standby: fenced: read_only=ON")
        .stdout_mentions(&["ended 1 client session(s) that could still commit"]);
    own.query_drop("ROLLBACK")
        .expect("the helpers' own session was left alone");
    assert!(
        other.query_drop("ROLLBACK").is_err(),
        "app's session not ended"
    );
    expect_replication(&p);
}

/// Without `PROCESS` the sessions cannot be listed, without `CONNECTION ADMIN` they cannot
/// be ended: exit 78 naming the grant (read_only is ON all the same); `--keep-sessions`
/// needs neither.
#[test]
fn missing_process_or_connection_admin_is_a_config_error() {
    let p = pair_with_app();
    p.b.sql(
        "CREATE USER 'noproc'@'127.0.0.1' IDENTIFIED BY 'np-pw'; \
         GRANT READ_ONLY ADMIN, SLAVE MONITOR, CONNECTION ADMIN ON *.* TO 'noproc'@'127.0.0.1'; \
         CREATE USER 'nokill'@'127.0.0.1' IDENTIFIED BY 'nk-pw'; \
         GRANT READ_ONLY ADMIN, SLAVE MONITOR, PROCESS ON *.* TO 'nokill'@'127.0.0.1'",
    );
    let weak = Node::as_user(&p.b, "noproc", Some("np-pw"));
    weak.run("notify-backup", &[])
        .expect(78, "FAIL config: read_only=ON, but")
        .stdout_mentions(&["GRANT PROCESS", "--keep-sessions"]);
    weak.expect_read_only(true);
    p.b.sql("SET GLOBAL read_only=OFF");
    weak.run("notify-backup", &["--keep-sessions"])
        .expect(0, "OK standby: fenced: read_only=ON");

    p.b.sql("SET GLOBAL read_only=OFF");
    let mut open = app(&p.b);
    open.query_drop("BEGIN; INSERT INTO appdb.t VALUES (7)")
        .expect("open a write transaction");
    let weak = Node::as_user(&p.b, "nokill", Some("nk-pw"));
    weak.run("notify-backup", &[])
        .expect(78, "FAIL config: session ")
        .stdout_mentions(&["cannot be ended", "GRANT CONNECTION ADMIN"]);
    weak.expect_read_only(true);
    open.query_drop("ROLLBACK").expect("not ended");
}
