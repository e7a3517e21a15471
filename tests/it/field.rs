//! Field faults (issue 9): a server that answers is up, `--peer` tells live from dead, lag
//! you can trust. Each test is one failing input from the field, on real servers, with the
//! verdict wanted; the pure classification behind it has its rows in the unit tests
//! (`model::observation::tests::refusal_classes`, `verdict::tests::unobserved::unobserved_table`).

use crate::check::{check_in, check_with, peer_of, with_table};
use crate::common::mariadb::Server;
use crate::common::run::Run;
use crate::common::wait_until;
use crate::harness::{Pair, create_monitor_user, replicate_b_through_proxy};

/// A writer at `max_connections` is alive and busy: it keeps the VIP (WARN saturated, exit
/// 0); a standby that cannot be observed fails; with `CONNECTION ADMIN` the check gets past
/// the limit and judges as usual. A per-account limit (1226) is the same kind.
#[test]
fn saturated_writer_keeps_the_vip() {
    let p = Pair::dual_master();
    create_monitor_user(&p.a, "monitor", "m0n-pw");
    p.a.sql(
        "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; \
         SET GLOBAL max_connections=10",
    );
    p.wait_synced();
    let monitor = p.a.option_file("monitor", Some("m0n-pw"));
    let held = p.a.saturate("app", "app-pw", 1040, 100);
    check_with(&p.a, &monitor, &[], &["--role", "writer"])
        .expect(0, "WARN writer: saturated: ")
        .stdout_mentions(&["1040"]);
    check_with(&p.a, &monitor, &[], &["--role", "writer", "--explain"])
        .expect_head(0, "WARN writer: saturated: ")
        .stdout_mentions(&["GRANT CONNECTION ADMIN", "extra_port"]);
    check_with(&p.a, &monitor, &[], &["--role", "standby"])
        .expect(1, "FAIL standby down: saturated: ");

    // The documented grant lets the check past the limit (MariaDB keeps one connection
    // beyond max_connections for CONNECTION ADMIN). root takes that slot for the GRANT.
    p.a.sql("GRANT CONNECTION ADMIN ON *.* TO 'monitor'@'127.0.0.1'");
    wait_until(
        "root's connection closed (the extra slot free again)",
        || {
            check_with(&p.a, &monitor, &[], &["--role", "writer"])
                .code
                .filter(|&c| c == 0)
                .map(|_| ())
                .ok_or("check did not pass yet".to_string())
        },
    );
    check_with(&p.a, &monitor, &[], &["--role", "writer"]).expect(0, "OK writer");
    drop(held);

    // A per-account limit: 1226.
    p.a.sql(
        "REVOKE CONNECTION ADMIN ON *.* FROM 'monitor'@'127.0.0.1'; \
         ALTER USER 'monitor'@'127.0.0.1' WITH MAX_USER_CONNECTIONS 1",
    );
    let held = p.a.saturate("monitor", "m0n-pw", 1226, 5);
    check_with(&p.a, &monitor, &[], &["--role", "writer"])
        .expect(0, "WARN writer: saturated: ")
        .stdout_mentions(&["1226"]);
    drop(held);
}

/// The check's own account refused by a server that answers is a configuration error (78)
/// in both roles, and the message says what to run. 1227: `REPLICATION CLIENT` is not
/// enough for `SHOW ALL SLAVES STATUS` on MariaDB 10.5+.
#[test]
fn missing_privilege_is_a_config_error_naming_the_grant() {
    let s = Server::start(1);
    s.sql(
        "CREATE USER 'oldmon'@'127.0.0.1' IDENTIFIED BY 'old-pw'; \
         GRANT REPLICATION CLIENT ON *.* TO 'oldmon'@'127.0.0.1'",
    );
    let f = s.option_file("oldmon", Some("old-pw"));
    for role in ["writer", "standby"] {
        check_with(&s, &f, &[], &["--role", role, "--explain"])
            .expect_head(78, &format!("FAIL {role} config: "))
            .stdout_mentions(&["1227", "GRANT SLAVE MONITOR ON *.* TO 'oldmon'"]);
    }
    // A host with no account (1130) is the same kind.
    let nobody = s.option_file("nobody-here", Some("x"));
    check_with(&s, &nobody, &[], &["--role", "writer"]).expect(78, "FAIL writer config: ");
}

/// The replication account's password changed on A; B's IO thread retries with 1045. B's
/// check account exists on B only, so `--peer A` is refused with 1045 too: a peer that
/// refuses us is up, so B's broken replication fails B (exit 2), with `--peer` as without.
#[test]
fn peer_refusing_the_probe_is_up_so_broken_replication_fails() {
    let p = Pair::dual_master();
    with_table(&p);
    p.b.sql(
        "SET sql_log_bin=0; \
         CREATE USER 'bmon'@'127.0.0.1' IDENTIFIED BY 'b-pw'; \
         GRANT SLAVE MONITOR ON *.* TO 'bmon'@'127.0.0.1'; \
         GRANT SELECT ON keepalived_mysql.guard TO 'bmon'@'127.0.0.1'; \
         SET sql_log_bin=1",
    );
    p.a.sql("SET sql_log_bin=0; ALTER USER 'repl'@'127.0.0.1' IDENTIFIED BY 'other'");
    p.b.sql("STOP SLAVE; START SLAVE");
    p.b.wait_for("IO thread retrying with 1045", |s| {
        s.slave_field("Last_IO_Errno").as_deref() == Some("1045")
    });
    let f = p.b.option_file("bmon", Some("b-pw"));
    let peer = peer_of(&p.a);
    check_with(&p.b, &f, &[], &["--role", "standby"]).expect(2, "FAIL standby replication");
    check_with(&p.b, &f, &[], &["--role", "standby", "--peer", &peer])
        .expect(2, "FAIL standby replication")
        .stdout_mentions(&["1045"]);
    let json = check_with(
        &p.b,
        &f,
        &[],
        &["--role", "standby", "--peer", &peer, "--format", "json"],
    );
    json.expect_code(2);
    if !json.stdout.contains(r#""state":"refused""#) {
        json.fail("the peer that refused the probe is reported as `refused`");
    }
    // The writer keeps the VIP through it (degraded).
    check_with(&p.b, &f, &[], &["--role", "writer", "--peer", &peer]).expect(0, "WARN writer");
}

/// B pointed at a closed port while A is up: the IO thread says 2003 "can't connect", but
/// `--peer` reaches A, so it is B's replication path that is broken (exit 2), not A.
/// Without `--peer` the errno class is all there is: peer down, as before.
#[test]
fn peer_reached_turns_transport_errors_into_broken_replication() {
    let p = Pair::dual_master();
    with_table(&p);
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    p.b.sql(&format!(
        "STOP SLAVE; CHANGE MASTER TO master_port={closed}; START SLAVE"
    ));
    p.b.wait_for("IO thread Connecting with 2003", |s| {
        s.slave_field("Last_IO_Errno").as_deref() == Some("2003")
    });
    let peer = peer_of(&p.a);
    check_in_fresh(&p.b, &["--role", "standby", "--peer", &peer, "--explain"])
        .expect_head(2, "FAIL standby replication")
        .stdout_mentions(&["2003", "replication path", "replication-path"]);
    check_in_fresh(&p.b, &["--role", "standby"])
        .expect(0, "WARN standby")
        .stdout_mentions(&["peer down"]);
}

/// Replication from A to B runs through a proxy that the test pauses: B keeps
/// `Slave_IO_Running: Yes` and `Seconds_Behind_Master: 0` while A moves on. With `--peer`,
/// once B has received nothing for longer than `--max-lag` while A is ahead, the standby
/// fails with `lag` (exit 3); when the path resumes and B receives, it passes again.
#[test]
fn stalled_replication_connection_is_lag() {
    let p = Pair::dual_master();
    with_table(&p);
    let proxy = replicate_b_through_proxy(&p);
    p.a.sql("INSERT INTO t.k VALUES (1, 'before')");
    p.wait_synced();
    // B is the fenced standby (with --peer, a writable one would be a split brain).
    p.b.sql("SET GLOBAL read_only=ON");

    let state = tempfile::Builder::new()
        .prefix("kam-it-state-")
        .tempdir()
        .expect("state dir");
    let root = p.b.option_file("root", None);
    let peer = peer_of(&p.a);
    let args = ["--role", "standby", "--peer", &peer, "--max-lag", "2s"];
    let run = |extra: &[&str]| -> Run<'_> {
        let all: Vec<&str> = args.iter().chain(extra).copied().collect();
        check_in(&p.b, &root, state.path(), &[], &all)
    };
    run(&[]).expect(0, "OK standby");

    proxy.pause();
    for i in 0..26 {
        p.a.sql(&format!("INSERT INTO t.k VALUES ({}, 'stalled')", 100 + i));
    }
    // The lie this test is about: B still says all is well.
    assert_eq!(p.b.slave_field("Slave_IO_Running").as_deref(), Some("Yes"));
    assert_eq!(
        p.b.slave_field("Seconds_Behind_Master").as_deref(),
        Some("0")
    );
    let first = run(&[]);
    if first.code != Some(0) {
        first.fail("the first run that sees B behind has nothing to compare with yet");
    }
    let failed = wait_until(
        "the standby to fail with lag (stall longer than 2s)",
        || {
            let r = run(&["--explain"]);
            if r.code == Some(3) {
                Ok(r)
            } else {
                Err(r.stdout.clone())
            }
        },
    );
    failed
        .expect_head(3, "FAIL standby lag: received nothing for ")
        .stdout_mentions(&["26 transaction(s) ahead", "stalled?", "#stalled"]);
    let mark = std::fs::read_to_string(state.path().join("check-mysql.received"))
        .unwrap_or_else(|e| failed.fail(&format!("no received mark in the state dir: {e}")));
    assert!(mark.starts_with("received="), "{mark}");

    proxy.resume();
    p.wait_synced();
    run(&[]).expect(0, "OK standby");
    assert!(
        !state.path().join("check-mysql.received").exists(),
        "caught up: nothing left to remember"
    );
}

/// `check` in a fresh state dir as root.
fn check_in_fresh<'s>(s: &'s Server, args: &[&str]) -> Run<'s> {
    crate::check::check(s, args)
}
