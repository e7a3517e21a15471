//! `check-mysql` against real servers: one scenario per test, each with its own servers.
//!
//! Every run gets a fresh `--state-dir`, `--no-syslog`, an empty environment (docs/contract.md says
//! the binaries rely on no environment variable but `MYSQL_PWD`), and a 10 s guard that kills
//! a hung run (a guard against hanging the suite, not a timed assertion).

use std::path::Path;
use std::time::Duration;

use crate::common::mariadb::Server;
use crate::common::run::{Run, our_bin};
use crate::harness::{Pair, create_monitor_user, replication_running};

/// Kills a run that has not exited by then; the test then fails (exit code `None`).
const GUARD: Duration = Duration::from_secs(10);

/// Runs check-mysql against `s` as root (root@127.0.0.1 has no password), with `args`.
pub(crate) fn check<'s>(s: &'s Server, args: &[&str]) -> Run<'s> {
    let defaults = s.option_file("root", None);
    check_with(s, &defaults, &[], args)
}

/// Runs check-mysql with option file `defaults`, environment `env` (only), and `args`, in a
/// fresh state dir.
pub(crate) fn check_with<'s>(
    s: &'s Server,
    defaults: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run<'s> {
    let state = tempfile::Builder::new()
        .prefix("kam-it-state-")
        .tempdir()
        .expect("state dir");
    check_in(s, defaults, state.path(), env, args)
}

/// Runs check-mysql with option file `defaults`, state dir `state` (kept across runs, as
/// keepalived's runs share one), environment `env` (only), and `args`.
pub(crate) fn check_in<'s>(
    s: &'s Server,
    defaults: &Path,
    state: &Path,
    env: &[(&str, &str)],
    args: &[&str],
) -> Run<'s> {
    let mut all: Vec<String> = vec![
        "--defaults-file".into(),
        defaults.display().to_string(),
        "--state-dir".into(),
        state.display().to_string(),
        "--no-syslog".into(),
    ];
    all.extend(args.iter().map(|a| a.to_string()));
    Run::of(
        "check-mysql",
        our_bin("check-mysql")
            .env_clear()
            .envs(env.iter().copied())
            .timeout(GUARD),
        all,
        move || format!("server state: {}", s.describe()),
    )
}

/// check-mysql's own expectation, beside the shared ones of [`Run`].
impl Run<'_> {
    /// Stdout is one JSON object with the documented fields and these values.
    #[track_caller]
    fn expect_json(&self, status: &str, exit_code: i32, reason: &str, role: &str) -> &Self {
        if self.code != Some(exit_code) {
            self.fail(&format!("expected exit code {exit_code}"));
        }
        let v: serde_json::Value = serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| self.fail(&format!("stdout is not one JSON value: {e}")));
        let field = |k: &str| {
            v.get(k)
                .unwrap_or_else(|| self.fail(&format!("no field `{k}`")))
        };
        let expect_str = |k: &str, want: &str| {
            if field(k).as_str() != Some(want) {
                self.fail(&format!("JSON `{k}` should be {want:?}"));
            }
        };
        expect_str("status", status);
        expect_str("reason", reason);
        expect_str("role", role);
        if field("exit_code").as_i64() != Some(i64::from(exit_code)) {
            self.fail(&format!("JSON `exit_code` should be {exit_code}"));
        }
        let findings = field("findings")
            .as_array()
            .unwrap_or_else(|| self.fail("JSON `findings` is not an array"));
        for f in findings {
            for k in ["level", "kind", "message"] {
                if !f.get(k).is_some_and(serde_json::Value::is_string) {
                    self.fail(&format!("finding {f} has no string `{k}`"));
                }
            }
        }
        if status != "ok" && findings.is_empty() {
            self.fail("a non-ok verdict must come with findings");
        }
        self
    }
}

/// `Slave_IO_Running` is `Connecting` with `Last_IO_Errno` 2003 (peer refuses connections).
fn io_connecting_2003(s: &Server) -> bool {
    s.slave_field("Slave_IO_Running").as_deref() == Some("Connecting")
        && s.slave_field("Last_IO_Errno").as_deref() == Some("2003")
}

pub(crate) fn peer_of(s: &Server) -> String {
    format!("127.0.0.1:{}", s.port)
}

pub(crate) fn with_table(p: &Pair) {
    p.a.sql("CREATE DATABASE t; CREATE TABLE t.k (id INT PRIMARY KEY, v TEXT)");
    p.wait_synced();
}

// 1
#[test]
fn healthy_pair_passes_in_both_roles() {
    let p = Pair::dual_master();
    with_table(&p);
    for s in [&p.a, &p.b] {
        check(s, &["--role", "writer"]).expect(0, "OK writer");
        check(s, &["--role", "standby"]).expect(0, "OK standby");
        // no role file in the (fresh) state dir and no --vip: standby
        check(s, &[]).expect(0, "OK standby");
        check(s, &["--role", "auto"]).expect(0, "OK standby");
    }
    check(&p.a, &["--role", "writer", "--format", "json"]).expect_json("ok", 0, "ok", "writer");
    check(&p.b, &["--role", "standby", "--format", "json"]).expect_json("ok", 0, "ok", "standby");
    let v = check(&p.a, &["--role", "writer", "-v"]);
    if v.code != Some(0) || !v.stdout.starts_with("OK writer") {
        v.fail("-v must not change the verdict");
    }
}

// 2
#[test]
fn peer_killed_standby_stays_eligible() {
    let mut p = Pair::dual_master();
    with_table(&p);
    p.b.kill();
    p.a.wait_for(
        "IO thread Connecting with Last_IO_Errno 2003",
        io_connecting_2003,
    );
    check(&p.a, &["--role", "standby"])
        .expect(0, "WARN standby")
        .stdout_mentions(&["peer", "down"]);
    check(&p.a, &["--role", "writer"])
        .expect(0, "WARN writer")
        .stdout_mentions(&["peer", "down"]);
}

// 3
#[test]
fn sql_thread_error_1062_fails_standby() {
    let p = Pair::dual_master();
    with_table(&p);
    p.b.sql("SET sql_log_bin=0; INSERT INTO t.k VALUES (100, 'local on b'); SET sql_log_bin=1");
    p.a.sql("INSERT INTO t.k VALUES (100, 'from a')");
    p.b.wait_for("SQL thread stopped with 1062", |s| {
        s.slave_field("Slave_SQL_Running").as_deref() == Some("No")
            && s.slave_field("Last_SQL_Errno").as_deref() == Some("1062")
    });
    check(&p.b, &["--role", "standby"]).expect(2, "FAIL standby replication");
    check(&p.b, &["--role", "standby", "--format", "json"]).expect_json(
        "fail",
        2,
        "replication",
        "standby",
    );
    // docs/contract.md: a writer whose SQL thread stopped is OK, degraded, loud.
    check(&p.b, &["--role", "writer"]).expect(0, "WARN writer");
    // a itself replicates fine from b.
    check(&p.a, &["--role", "writer"]).expect(0, "OK writer");
}

/// Makes both servers of `p` commit a transaction the other lacks with the same GTID sequence
/// number (replication stopped on both, one insert on each, replication started again).
fn conflicting_writes(p: &Pair) {
    with_table(p);
    for s in [&p.a, &p.b] {
        s.sql("STOP SLAVE");
    }
    p.a.sql("INSERT INTO t.k VALUES (1, 'only on a')");
    p.b.sql("INSERT INTO t.k VALUES (2, 'only on b')");
    let (ga, gb) = (p.a.var("gtid_binlog_pos"), p.b.var("gtid_binlog_pos"));
    assert_eq!(ga.as_deref(), Some("0-1-3"), "{}", p.describe());
    assert_eq!(gb.as_deref(), Some("0-2-3"), "{}", p.describe());
    for s in [&p.a, &p.b] {
        s.sql("START SLAVE");
    }
}

// 4a: the seed's configuration (master_use_gtid=current_pos).
//
// Observed on MariaDB 10.11: the IO thread of *both* servers stops with Last_IO_Errno 1236,
// "Got fatal error 1236 from master when reading data from binary log: 'Error: connecting
// slave requested to start from GTID 0-1-3, which is not in the master's binlog. Since the
// master's binlog contains GTIDs with higher sequence numbers, it probably means that the
// slave has diverged due to executing extra erroneous transactions'"; the SQL thread keeps
// running.
//
// With --peer the check can compare GTID histories, and the contract's "diverged" row applies:
// exit 4. Without --peer the check sees only an IO thread stopped with 1236 while the peer is
// up, which the original SPEC listed under "IO thread stopped with a replication error (e.g. 1236
// diverged/purged GTID)" → FAIL replication; reporting `diverged` from the error alone is
// also right. So without --peer both 2 and 4 are accepted.
#[test]
fn diverged_gtid_io_error_1236_current_pos() {
    let p = Pair::dual_master_using("current_pos");
    conflicting_writes(&p);
    for s in [&p.a, &p.b] {
        s.wait_for("IO thread stopped with 1236", |s| {
            s.slave_field("Slave_IO_Running").as_deref() == Some("No")
                && s.slave_field("Last_IO_Errno").as_deref() == Some("1236")
        });
    }
    for (s, peer) in [(&p.a, &p.b), (&p.b, &p.a)] {
        let peer = peer_of(peer);
        check(s, &["--role", "standby", "--peer", &peer]).expect(4, "FAIL standby diverged");
        check(
            s,
            &["--role", "standby", "--peer", &peer, "--format", "json"],
        )
        .expect_json("fail", 4, "diverged", "standby");
        let alone = check(s, &["--role", "standby"]);
        match alone.code {
            Some(2) => alone.expect(2, "FAIL standby replication"),
            Some(4) => alone.expect(4, "FAIL standby diverged"),
            _ => alone.fail("expected exit 2 (replication) or 4 (diverged)"),
        };
        // Both servers are writable: with --peer that is also a split brain, in which the
        // higher server_id yields (neither was unfenced by notify-master).
        let as_writer = check(s, &["--role", "writer", "--peer", &peer]);
        match s.server_id {
            2 => as_writer.expect(6, "FAIL writer split-brain"),
            _ => as_writer.expect(0, "WARN writer"),
        }
        .stdout_mentions(&["diverg", "split brain"]);
        check(s, &["--role", "writer"]).expect(0, "WARN writer");
    }
}

// 4b: master_use_gtid=slave_pos.
//
// Observed on MariaDB 10.11: the IO threads connect fine; each SQL thread stops with
// Last_SQL_Errno 1950: "An attempt was made to binlog GTID 0-2-3 which would create an
// out-of-order sequence number with existing GTID 0-1-3, and gtid strict mode is enabled".
// With --peer: exit 4. Without --peer the check sees a SQL thread stopped with an error
// (contract row "SQL thread stopped" → FAIL replication), so 2 or 4 are accepted as in 4a.
#[test]
fn diverged_gtid_sql_error_1950_slave_pos() {
    let p = Pair::dual_master_using("slave_pos");
    conflicting_writes(&p);
    for s in [&p.a, &p.b] {
        s.wait_for("SQL thread stopped with 1950", |s| {
            s.slave_field("Slave_SQL_Running").as_deref() == Some("No")
                && s.slave_field("Last_SQL_Errno").as_deref() == Some("1950")
        });
    }
    for (s, peer) in [(&p.a, &p.b), (&p.b, &p.a)] {
        let peer = peer_of(peer);
        check(s, &["--role", "standby", "--peer", &peer]).expect(4, "FAIL standby diverged");
        let alone = check(s, &["--role", "standby"]);
        match alone.code {
            Some(2) => alone.expect(2, "FAIL standby replication"),
            Some(4) => alone.expect(4, "FAIL standby diverged"),
            _ => alone.fail("expected exit 2 (replication) or 4 (diverged)"),
        };
        // Both servers are writable: with --peer that is also a split brain, in which the
        // higher server_id yields (neither was unfenced by notify-master).
        let as_writer = check(s, &["--role", "writer", "--peer", &peer]);
        match s.server_id {
            2 => as_writer.expect(6, "FAIL writer split-brain"),
            _ => as_writer.expect(0, "WARN writer"),
        }
        .stdout_mentions(&["diverg", "split brain"]);
        check(s, &["--role", "writer"]).expect(0, "WARN writer");
    }
}

// 5
//
// Observed on MariaDB 10.11: with MASTER_DELAY=N the SQL thread waits ("Waiting until
// MASTER_DELAY seconds after master executed event") and Seconds_Behind_Master grows by one
// per second from the event's timestamp (SQL_Remaining_Delay counts down).
#[test]
fn lag_above_max_lag_fails_standby() {
    let p = Pair::dual_master();
    with_table(&p);
    p.b.sql("STOP SLAVE; CHANGE MASTER TO master_delay=600; START SLAVE");
    p.b.wait_for("replication running again", replication_running);
    p.a.sql("INSERT INTO t.k VALUES (1, 'delayed')");
    p.b.wait_for("Seconds_Behind_Master above 3", |s| {
        s.slave_field("Seconds_Behind_Master")
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|sbm| sbm > 3)
    });
    check(&p.b, &["--role", "standby", "--max-lag", "2s"]).expect(3, "FAIL standby lag");
    check(
        &p.b,
        &["--role", "standby", "--max-lag", "2s", "--format", "json"],
    )
    .expect_json("fail", 3, "lag", "standby");
    // below the default --max-lag (120s)
    check(&p.b, &["--role", "standby"]).expect(0, "OK standby");
    // lag does not matter for the writer
    check(&p.b, &["--role", "writer", "--max-lag", "2s"]).expect(0, "OK writer");
}

// 6
#[test]
fn paused_server_is_down_within_deadline() {
    let s = Server::start(1);
    s.pause();
    check(&s, &["--role", "writer", "--timeout", "500ms"]).expect(1, "FAIL writer down");
    check(&s, &["--role", "standby", "--timeout", "500ms"]).expect(1, "FAIL standby down");
    check(
        &s,
        &["--role", "writer", "--timeout", "500ms", "--format", "json"],
    )
    .expect_json("fail", 1, "down", "writer");
    s.resume();
    check(&s, &["--role", "writer", "--timeout", "500ms"]).expect_pass("writer");
}

// 7
#[test]
fn killed_server_is_down() {
    let mut s = Server::start(1);
    s.kill();
    check(&s, &["--role", "writer"]).expect(1, "FAIL writer down");
    check(&s, &["--role", "standby"]).expect(1, "FAIL standby down");
}

// 8
#[test]
// The server answered, and refused the check's own account: a configuration error (78) in
// both roles, never "down" (issue 9: a server that answers is not down).
fn wrong_password_is_a_config_error_with_server_message() {
    let s = Server::start(1);
    create_monitor_user(&s, "monitor", "right-pw");
    let f = s.option_file("monitor", Some("wrong-pw"));
    check_with(&s, &f, &[], &["--role", "writer"])
        .expect(78, "FAIL writer config")
        .output_mentions(&["Access denied", "password"]);
    check_with(&s, &f, &[], &["--role", "standby"]).expect(78, "FAIL standby config");
}

// 9
#[test]
fn read_only_writer_fails() {
    let p = Pair::dual_master();
    p.b.sql("SET GLOBAL read_only=ON");
    check(&p.b, &["--role", "writer"]).expect(5, "FAIL writer read-only");
    check(&p.b, &["--role", "writer", "--format", "json"]).expect_json(
        "fail",
        5,
        "read-only",
        "writer",
    );
    check(&p.b, &["--role", "writer", "--allow-read-only"]).expect_pass("writer");
    check(&p.b, &["--role", "standby"]).expect(0, "OK standby");
    // the other node is not read-only
    check(&p.a, &["--role", "writer"]).expect(0, "OK writer");
}

// 10
#[test]
fn least_privilege_monitor_user_is_enough() {
    let p = Pair::dual_master();
    create_monitor_user(&p.a, "monitor", "m0n-pw");
    p.wait_synced();
    assert!(
        p.b.sql_as("monitor", "m0n-pw", "SELECT 1").is_ok(),
        "monitor user replicated to b"
    );
    let fa = p.a.option_file("monitor", Some("m0n-pw"));
    let fb = p.b.option_file("monitor", Some("m0n-pw"));
    check_with(&p.a, &fa, &[], &["--role", "writer"]).expect(0, "OK writer");
    check_with(&p.b, &fb, &[], &["--role", "standby"]).expect(0, "OK standby");
    // With --peer the guard is on: the standby must be fenced (a writable standby of a
    // writable peer is a split brain), and the account reads the guard's row.
    p.b.sql("SET GLOBAL read_only=ON");
    let peer = peer_of(&p.a);
    check_with(&p.b, &fb, &[], &["--role", "standby", "--peer", &peer]).expect(0, "OK standby");
}

// 11a
#[test]
fn no_replication_configured() {
    let s = Server::start(1);
    assert!(s.slave_status().is_empty());
    check(&s, &["--role", "writer"]).expect(0, "OK writer");
    check(&s, &["--role", "standby"]).expect(2, "FAIL standby replication");
    check(&s, &["--role", "standby", "--allow-no-replica"]).expect_pass("standby");
}

// 11b
#[test]
fn reset_slave_all_counts_as_no_replication() {
    let p = Pair::dual_master();
    p.a.sql("STOP SLAVE; RESET SLAVE ALL");
    assert!(p.a.slave_status().is_empty(), "{}", p.a.describe());
    check(&p.a, &["--role", "writer"]).expect(0, "OK writer");
    check(&p.a, &["--role", "standby"]).expect(2, "FAIL standby replication");
    check(&p.a, &["--role", "standby", "--allow-no-replica"]).expect_pass("standby");
}

// 12
#[test]
fn replication_stopped_by_operator() {
    let p = Pair::dual_master();
    p.b.sql("STOP SLAVE");
    p.b.wait_for("IO and SQL threads stopped", |s| {
        s.slave_field("Slave_IO_Running").as_deref() == Some("No")
            && s.slave_field("Slave_SQL_Running").as_deref() == Some("No")
            && s.slave_field("Last_IO_Errno").as_deref() == Some("0")
            && s.slave_field("Last_SQL_Errno").as_deref() == Some("0")
    });
    check(&p.b, &["--role", "writer"]).expect(0, "WARN writer");
    check(&p.b, &["--role", "standby"]).expect(2, "FAIL standby replication");
}

// 13a
#[test]
fn peer_option_healthy_then_peer_killed() {
    let mut p = Pair::dual_master();
    with_table(&p);
    let peer = peer_of(&p.b);
    // Both writable: a split brain, in which A, the lower server_id, stays (neither was
    // unfenced by notify-master) and yields as a standby would.
    check(&p.a, &["--role", "writer", "--peer", &peer]).expect(0, "WARN writer");
    p.a.sql("SET GLOBAL read_only=ON");
    check(&p.a, &["--role", "standby", "--peer", &peer]).expect(0, "OK standby");
    p.a.sql("SET GLOBAL read_only=OFF");
    // The probe also says whether the peer is fenced and who it is (same round trip).
    p.b.sql("SET GLOBAL read_only=ON");
    check(&p.a, &["--role", "writer", "--peer", &peer]).expect(0, "OK writer");
    let json = check(
        &p.a,
        &["--role", "writer", "--peer", &peer, "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim())
        .unwrap_or_else(|e| json.fail(&format!("stdout is not one JSON value: {e}")));
    if v["peer"]["read_only"] != true || v["peer"]["server_id"] != 2 {
        json.fail("JSON peer.read_only true and peer.server_id 2");
    }
    p.b.kill();
    p.a.wait_for(
        "IO thread Connecting with Last_IO_Errno 2003",
        io_connecting_2003,
    );
    check(&p.a, &["--role", "standby", "--peer", &peer])
        .expect(0, "WARN standby")
        .stdout_mentions(&["peer", "down"]);
    check(&p.a, &["--role", "writer", "--peer", &peer]).expect(0, "WARN writer");
}

// 13b: the peer hangs (SIGSTOP). The local IO thread still shows `Yes` (the TCP connection is
// open, no event arrives), but `--peer` cannot be reached within the deadline: "peer down",
// and the standby must stay eligible to take over.
#[test]
fn peer_paused_standby_stays_eligible() {
    let p = Pair::dual_master();
    with_table(&p);
    p.b.pause();
    let peer = peer_of(&p.b);
    check(&p.a, &["--role", "standby", "--peer", &peer])
        .expect(0, "WARN standby")
        .stdout_mentions(&["peer", "down"]);
    p.b.resume();
}

// 14
#[test]
fn unsafe_option_file_is_refused() {
    let s = Server::start(1);
    let body = format!("[client]\nhost=127.0.0.1\nport={}\nuser=root\n", s.port);
    for mode in [0o644, 0o640, 0o604] {
        let f = s.write_file("unsafe", &format!("{body}password=secret\n"), mode);
        check_with(&s, &f, &[], &["--role", "writer"])
            .expect_code(78)
            .output_mentions(&["chmod"]);
    }
    // Missing or unreadable option file: configuration error, naming the file.
    let missing = s.dir.path().join("missing.cnf");
    check_with(&s, &missing, &[], &["--role", "writer"])
        .expect_code(78)
        .output_mentions(&["missing.cnf"]);
    check_with(&s, s.dir.path(), &[], &["--role", "writer"]).expect_code(78);
    // --format json: one object even when the settings cannot be read.
    let json = check_with(&s, &missing, &[], &["--role", "writer", "--format", "json"]);
    json.expect_code(78);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim())
        .unwrap_or_else(|e| json.fail(&format!("stdout is not one JSON value: {e}")));
    if v["reason"] != "config" || v["exit_code"] != 78 {
        json.fail("JSON reason config, exit_code 78");
    }
    // Readable by others but without a password: nothing to protect.
    let f = s.write_file("public", &body, 0o644);
    check_with(&s, &f, &[], &["--role", "writer"]).expect_pass("writer");
}

// 15
#[test]
fn mysql_pwd_environment_variable() {
    let s = Server::start(1);
    create_monitor_user(&s, "monitor", "env-pw");
    let f = s.option_file("monitor", None);
    check_with(&s, &f, &[("MYSQL_PWD", "env-pw")], &["--role", "writer"]).expect_pass("writer");
    // Without it the server refuses the account: a configuration error (issue 9), not down.
    check_with(&s, &f, &[], &["--role", "writer"])
        .expect(78, "FAIL writer config")
        .output_mentions(&["Access denied"]);
}

// Role from --vip (docs/contract.md "Roles"): a VIP on a local interface makes this node the writer.
// 192.0.2.1 (TEST-NET-1) is on no interface; nothing is sent to it. keepalived's notify
// arguments (TYPE NAME STATE PRIORITY) are accepted.
#[test]
fn role_auto_from_vip() {
    let s = Server::start(1);
    // A standalone server passes as writer and fails as standby: the verdict shows the role.
    check(&s, &["--role", "auto", "--vip", "127.0.0.1"]).expect(0, "OK writer");
    check(&s, &["--vip", "192.0.2.1"]).expect(2, "FAIL standby replication");
    check(
        &s,
        &["--role", "writer", "INSTANCE", "VI_1", "MASTER", "100"],
    )
    .expect(0, "OK writer");
}

// 16
#[test]
fn command_line_usage() {
    let run = |args: &[&str]| {
        our_bin("check-mysql")
            .env_clear()
            .args(args)
            .timeout(GUARD)
            .output()
            .expect("run check-mysql")
    };
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();

    let help = run(&["--help"]);
    assert_eq!(help.status.code(), Some(0), "--help: {help:?}");
    assert!(
        text(&help.stdout).contains("--defaults-file"),
        "--help: {help:?}"
    );

    let version = run(&["--version"]);
    assert_eq!(version.status.code(), Some(0), "--version: {version:?}");
    assert!(
        text(&version.stdout).contains(env!("CARGO_PKG_VERSION")),
        "--version: {version:?}"
    );

    let state = tempfile::tempdir().unwrap();
    let state = state.path().to_str().unwrap();
    let usage = |args: &[&str]| {
        let mut all = vec!["--state-dir", state, "--no-syslog"];
        all.extend_from_slice(args);
        run(&all)
    };
    for bad in [
        &["--no-such-flag"][..],
        &["--role", "boss"],
        &["--format", "yaml"],
        // docs/contract.md: a password is never accepted on the command line
        &["--password", "secret"],
        &["-psecret"],
    ] {
        let out = usage(bad);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{bad:?} must be a usage error: {out:?}"
        );
    }

    // A bad duration on the command line: check-mysql documents 64 "usage error" and 78
    // "configuration error (..., bad value)"; it rejects command-line values while parsing
    // the command line ("usage error: invalid value 'soon' for '--timeout <DURATION>'"), so
    // the code is 64.
    for bad in [
        &["--timeout", "soon"][..],
        &["--timeout", "0s"],
        &["--max-lag", "lots"],
    ] {
        let out = usage(bad);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{bad:?} must be a usage error: {out:?}"
        );
        assert!(
            text(&out.stderr).contains(bad[0]),
            "{bad:?}: say which option: {out:?}"
        );
    }
}

// The check's cost on the server: one connection, one query after the handshake (MariaDB).
#[test]
fn one_query_after_the_handshake() {
    let p = Pair::dual_master();
    create_monitor_user(&p.b, "rtprobe", "rt-pw");
    p.b.sql("SET GLOBAL log_output='TABLE'");
    p.b.sql("TRUNCATE TABLE mysql.general_log");
    p.b.sql("SET GLOBAL general_log=1");
    let f = p.b.option_file("rtprobe", Some("rt-pw"));
    check_with(&p.b, &f, &[], &["--role", "standby"]).expect(0, "OK standby");
    p.b.sql("SET GLOBAL general_log=0");
    let rows = p.b.sql(
        "SELECT g.command_type, CONVERT(g.argument USING utf8mb4) FROM mysql.general_log g \
         WHERE g.thread_id IN (SELECT thread_id FROM mysql.general_log \
           WHERE command_type='Connect' AND CONVERT(argument USING utf8mb4) LIKE 'rtprobe@%') \
         ORDER BY g.event_time",
    );
    let commands: Vec<String> = rows
        .iter()
        .map(|r| r[0].clone().unwrap_or_default())
        .collect();
    let queries: Vec<&Vec<Option<String>>> = rows
        .iter()
        .filter(|r| r[0].as_deref() == Some("Query"))
        .collect();
    assert_eq!(
        commands.iter().filter(|c| *c == "Connect").count(),
        1,
        "one connection: {rows:?}"
    );
    assert_eq!(queries.len(), 1, "one query after the handshake: {rows:?}");
    assert!(
        queries[0][1]
            .as_deref()
            .unwrap_or("")
            .contains("SHOW ALL SLAVES STATUS"),
        "{rows:?}"
    );
}

/// `--is-writer` (for a second keepalived vrrp_script with a positive weight, README "Split
/// brain"): passes only on a node whose role is writer and whose server takes writes.
#[test]
fn is_writer_passes_only_on_a_writable_writer() {
    let mut s = Server::start(1);
    check(&s, &["--is-writer", "--role", "writer"]).expect(0, "OK writer: role writer");
    s.sql("SET GLOBAL read_only=ON");
    check(&s, &["--is-writer", "--role", "writer"])
        .expect(1, "NOT-WRITER: role writer, but read_only=ON");
    s.sql("SET GLOBAL read_only=OFF");
    check(&s, &["--is-writer", "--role", "standby"]).expect(1, "NOT-WRITER: role standby");
    // No role file and no VIP: a standby, whatever the server says.
    check(&s, &["--is-writer"]).expect(1, "NOT-WRITER: role standby");
    // It judges nothing else: no --peer.
    check(&s, &["--is-writer", "--peer", "127.0.0.1:9"]).expect_code(64);
    s.kill();
    check(&s, &["--is-writer", "--role", "writer"]).expect(1, "NOT-WRITER: ");
}

/// The split-brain guard in the check (docs/contract.md "Split brain"): notify-master's
/// refusal keeps the node out while the peer is writable and is forgotten once the peer is
/// fenced; a missing guard table is a configuration error with --peer and nothing without.
#[test]
fn guard_refusal_and_missing_guard_table() {
    let p = Pair::dual_master();
    p.a.sql("SET GLOBAL read_only=ON"); // A: the fenced standby; B: the writer
    let peer = peer_of(&p.b);
    let state = tempfile::Builder::new()
        .prefix("kam-it-state-")
        .tempdir()
        .expect("state dir");
    let marker = state.path().join("split-brain.refused");
    std::fs::write(&marker, "peer 127.0.0.1 writable\n").unwrap();
    let root = p.a.option_file("root", None);
    let standby = ["--role", "standby", "--peer", &peer];
    check_in(&p.a, &root, state.path(), &[], &standby)
        .expect(6, "FAIL standby split-brain")
        .stdout_mentions(&["refused the writer role", "writable"]);
    assert!(
        marker.exists(),
        "the refusal holds while the peer is writable"
    );
    p.b.sql("SET GLOBAL read_only=ON");
    check_in(&p.a, &root, state.path(), &[], &standby).expect(0, "OK standby");
    assert!(
        !marker.exists(),
        "the refusal is forgotten once the peer is fenced"
    );

    p.b.sql("SET sql_log_bin=0; DROP TABLE keepalived_mysql.guard");
    check(&p.a, &standby)
        .expect(78, "FAIL standby config")
        .stdout_mentions(&["1146", "split-brain.sql"]);
    p.a.sql("SET sql_log_bin=0; DROP DATABASE keepalived_mysql");
    // Without --peer the guard is off: nothing of it is read.
    check(&p.a, &["--role", "standby"]).expect(0, "OK standby");
    // B's own guard table is missing too (the first drop): its check names its own server.
    check(&p.b, &["--role", "standby", "--peer", &peer_of(&p.a)])
        .expect(78, "FAIL standby config")
        .stdout_mentions(&[
            &format!("query on {} failed", peer),
            "1146",
            "split-brain.sql",
        ]);
}
