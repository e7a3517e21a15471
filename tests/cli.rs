//! check-mysql's command line, option files, deadline and syslog, without a database
//! server: a closed loopback port (down), and a listener that accepts and never answers.

use std::net::TcpListener;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;

fn check() -> Command {
    let mut c = Command::cargo_bin("check-mysql").unwrap();
    c.env_remove("MYSQL_PWD");
    // A guard against a hanging binary, not a timing assertion.
    c.timeout(Duration::from_secs(20));
    c
}

fn option_file(dir: &Path, text: &str, mode: u32) -> PathBuf {
    let p = dir.join("helpers.cnf");
    std::fs::write(&p, text).unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// A loopback port with nothing listening on it.
fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn base_args(dir: &Path, port: u16) -> Vec<String> {
    let f = option_file(
        dir,
        &format!("[client]\nhost=127.0.0.1\nport={port}\nuser=monitor\n"),
        0o600,
    );
    vec![
        "--defaults-file".into(),
        f.display().to_string(),
        "--state-dir".into(),
        dir.join("state").display().to_string(),
        "--no-syslog".into(),
    ]
}

#[test]
fn help_and_version_exit_zero() {
    check()
        .arg("--help")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Exit codes:"))
        .stdout(predicate::str::contains("--max-lag"));
    check()
        .arg("--version")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_64_with_one_line() {
    for args in [
        vec!["--no-such-flag"],
        vec!["--timeout", "soon"],
        vec!["--timeout", "0s"],
        vec!["--role", "king"],
        vec!["--port", "99999"],
        vec!["--vip", "not-an-ip"],
        // A password on the command line would show in `ps`: there is no such flag.
        vec!["--password", "secret"],
        vec!["-p", "secret"],
    ] {
        let out = check().args(&args).assert().code(64).get_output().clone();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(
            err.starts_with("check-mysql: usage error:"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn unsafe_option_file_exits_78_and_says_how_to_fix() {
    let dir = tempfile::tempdir().unwrap();
    let f = option_file(
        dir.path(),
        "[client]\nhost=127.0.0.1\nuser=monitor\npassword=s3cret\n",
        0o644,
    );
    check()
        .args(["--defaults-file", f.to_str().unwrap(), "--no-syslog"])
        .args(["--state-dir", dir.path().to_str().unwrap()])
        .assert()
        .code(78)
        .stdout(predicate::str::contains("chmod"))
        .stdout(predicate::str::contains("s3cret").not());
}

#[test]
fn bad_option_files_exit_78() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expect) in [
        ("[client]\nport=abc\n", "port"),
        ("[check-mysql]\nmax-lag=soon\n", "max-lag"),
        ("[check-mysql]\nmax_lagg=5s\n", "unknown option"),
        ("[check-mysql]\nssl-mode=preferred\n", "PREFERRED"),
        ("[check-mysql]\nvip=10.0.0.300\n", "vip"),
    ] {
        let f = option_file(dir.path(), text, 0o600);
        check()
            .args(["--defaults-file", f.to_str().unwrap(), "--no-syslog"])
            .args(["--state-dir", dir.path().to_str().unwrap()])
            .assert()
            .code(78)
            .stdout(predicate::str::contains(expect));
    }
    check()
        .args(["--defaults-file", "/nonexistent/helpers.cnf", "--no-syslog"])
        .assert()
        .code(78)
        .stdout(predicate::str::contains("/nonexistent/helpers.cnf"));
}

#[test]
fn closed_port_is_down_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let args = base_args(dir.path(), closed_port());
    check()
        .args(&args)
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(
            "FAIL standby down: cannot connect to 127.0.0.1:",
        ));
}

#[test]
fn json_output_has_the_documented_fields() {
    let dir = tempfile::tempdir().unwrap();
    let args = base_args(dir.path(), closed_port());
    let out = check()
        .args(&args)
        .args(["--format", "json", "--role", "writer"])
        .args(["VRRP_INSTANCE", "VI_1", "MASTER", "100"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["status"], "fail");
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["reason"], "down");
    assert_eq!(v["role"], "writer");
    assert_eq!(v["findings"][0]["level"], "fail");
    assert_eq!(v["findings"][0]["kind"], "down");
    assert!(v["observation"].is_null());
    assert_eq!(v["peer"]["state"], "not-asked");
    assert_eq!(v["keepalived_args"][2], "MASTER");
    assert!(v["elapsed_ms"].is_u64());
}

#[test]
fn server_that_never_answers_is_down_within_the_deadline() {
    // Accepts the TCP connection (kernel backlog) and never sends the handshake.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let args = base_args(dir.path(), port);
    check()
        .args(&args)
        .args(["--timeout", "300ms"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with("FAIL standby down:"));
    drop(listener);
}

#[test]
fn syslog_gets_the_verdict_once_per_change() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    sock.set_nonblocking(false).unwrap();
    let state = dir.path().join("state");
    let run = |port: u16, role: &str| {
        let f = option_file(
            dir.path(),
            &format!("[client]\nhost=127.0.0.1\nport={port}\nuser=monitor\n"),
            0o600,
        );
        check()
            .args(["--defaults-file", f.to_str().unwrap()])
            .args(["--state-dir", state.to_str().unwrap()])
            .args([
                "--syslog-socket",
                sock_path.to_str().unwrap(),
                "--role",
                role,
            ])
            .assert()
            .code(1);
    };
    let port = closed_port();
    run(port, "standby");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).unwrap();
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    // <27> = facility daemon (3) * 8 + severity err (3).
    assert!(msg.starts_with("<27>"), "{msg}");
    assert!(msg.contains("check-mysql["), "{msg}");
    assert!(msg.contains("FAIL standby down"), "{msg}");

    // Same verdict again: nothing logged.
    run(port, "standby");
    sock.set_nonblocking(true).unwrap();
    assert!(
        sock.recv(&mut buf).is_err(),
        "a repeated verdict was logged again"
    );

    // A different verdict is logged.
    sock.set_nonblocking(false).unwrap();
    run(port, "writer");
    let n = sock.recv(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("FAIL writer down"));
}

#[test]
fn quiet_runs_do_not_use_up_a_change_and_config_errors_log_once() {
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("log.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let state = dir.path().join("state");
    let f = option_file(
        dir.path(),
        &format!("[client]\nhost=127.0.0.1\nport={}\n", closed_port()),
        0o600,
    );
    let base = |c: &mut Command| {
        c.args(["--defaults-file", f.to_str().unwrap()])
            .args(["--state-dir", state.to_str().unwrap()]);
    };
    // A person runs the check with --no-syslog: keepalived's next run must still log.
    let mut quiet = check();
    base(&mut quiet);
    quiet.arg("--no-syslog").assert().code(1);
    let mut loud = check();
    base(&mut loud);
    loud.args(["--syslog-socket", sock_path.to_str().unwrap()])
        .assert()
        .code(1);
    let mut buf = [0u8; 4096];
    let n = sock
        .recv(&mut buf)
        .expect("the first logged run was logged");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("FAIL standby down"));

    // The same configuration error twice: logged once.
    let bad = dir.path().join("bad.cnf");
    std::fs::write(&bad, "[check-mysql]\nmax-lag=bogus\n").unwrap();
    std::fs::set_permissions(&bad, std::fs::Permissions::from_mode(0o600)).unwrap();
    for _ in 0..2 {
        check()
            .args(["--defaults-file", bad.to_str().unwrap()])
            .args(["--state-dir", state.to_str().unwrap()])
            .args(["--syslog-socket", sock_path.to_str().unwrap()])
            .assert()
            .code(78);
    }
    let n = sock
        .recv(&mut buf)
        .expect("the configuration error was logged");
    assert!(String::from_utf8_lossy(&buf[..n]).contains("max-lag"));
    sock.set_nonblocking(true).unwrap();
    assert!(
        sock.recv(&mut buf).is_err(),
        "the same error was logged twice"
    );
}
