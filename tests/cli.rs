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

// ---------------------------------------------------------------------------------------------
// Each binary's surface: the flags it honours, with the defaults its code uses.

/// One of the four binaries, with no MYSQL_PWD and a hang guard (not a timing assertion).
fn bin(name: &str) -> Command {
    let mut c = Command::cargo_bin(name).unwrap();
    c.env_remove("MYSQL_PWD");
    c.timeout(Duration::from_secs(20));
    c
}

/// `name --help` as one block per option: its long flag (`--timeout`, or the short flag when
/// it has no long one) and the block's text (flag line and description).
fn help_blocks(name: &str) -> Vec<(String, String)> {
    let out = bin(name)
        .arg("--help")
        .assert()
        .code(0)
        .get_output()
        .clone();
    let help = String::from_utf8(out.stdout).unwrap();
    let mut blocks: Vec<(String, String)> = Vec::new();
    for line in help.lines() {
        let indent = line.len() - line.trim_start().len();
        // clap puts options at 2 or 6 spaces, descriptions (and possible values) at 10.
        if indent < 10 && line.trim_start().starts_with('-') {
            let words: Vec<&str> = line.split_whitespace().collect();
            let flag = words
                .iter()
                .find(|w| w.starts_with("--"))
                .unwrap_or(&words[0])
                .trim_end_matches(',')
                .to_string();
            blocks.push((flag, line.to_string()));
        } else if indent >= 10
            && let Some((_, text)) = blocks.last_mut()
        {
            text.push('\n');
            text.push_str(line);
        } else if !line.trim().is_empty() {
            // A heading ("Options:", "Exit codes:"): the last block ends.
            blocks.push((String::new(), String::new()));
        }
    }
    blocks.retain(|(flag, _)| !flag.is_empty());
    blocks
}

/// What one binary must offer: exactly `flags` (long, or short without a long form), and for
/// some of them the default its code uses.
struct Surface {
    bin: &'static str,
    flags: Vec<&'static str>,
    defaults: Vec<(&'static str, String)>,
}

fn surfaces() -> Vec<Surface> {
    use keepalived_mysql::app::{notify_backup, notify_down};
    use keepalived_mysql::cli::DEFAULT_STATE_DIR;
    use keepalived_mysql::cli::{self, DEFAULT_DEFAULTS_FILE, DEFAULT_PIDFILE, show_duration};
    use keepalived_mysql::io::config;
    let connection = [
        "--defaults-file",
        "--host",
        "--port",
        "--socket",
        "--user",
        "--ssl-mode",
        "--ssl-ca",
    ];
    // What every binary that talks to the server honours, and how it reports.
    let server = [
        "--timeout",
        "--state-dir",
        "--format",
        "--no-syslog",
        "--verbose",
    ];
    let always = ["--help", "--version"];
    let connection_defaults = || {
        vec![
            ("--port", config::DEFAULT_PORT.to_string()),
            ("--socket", config::DEFAULT_SOCKET.to_string()),
            (
                "--defaults-file",
                format!("{DEFAULT_DEFAULTS_FILE}, if it exists"),
            ),
            ("--ssl-mode", "disabled".to_string()),
            ("--timeout", show_duration(config::DEFAULT_TIMEOUT)),
            ("--state-dir", DEFAULT_STATE_DIR.to_string()),
            ("--format", "text".to_string()),
        ]
    };
    let witness_defaults = || {
        vec![
            ("--lease-ttl", show_duration(config::DEFAULT_LEASE_TTL)),
            (
                "--check-interval",
                show_duration(config::DEFAULT_CHECK_INTERVAL),
            ),
        ]
    };
    let all = |own: &[&'static str]| -> Vec<&'static str> {
        connection
            .iter()
            .chain(own)
            .chain(&server)
            .chain(&always)
            .copied()
            .collect()
    };
    vec![
        Surface {
            bin: "check-mysql",
            flags: all(&[
                "--role",
                "--vip",
                "--peer",
                "--max-lag",
                "--allow-no-replica",
                "--allow-read-only",
                "--explain",
                "--is-writer",
                "--witness",
                "--lease-ttl",
                "--check-interval",
                "--watch",
                "--interval",
                "--poll-timeout",
                "--fall",
                "--rise",
                "--track-file",
            ]),
            defaults: [
                connection_defaults(),
                vec![
                    ("--max-lag", show_duration(config::DEFAULT_MAX_LAG)),
                    ("--role", "auto".to_string()),
                    ("--interval", show_duration(cli::DEFAULT_WATCH_INTERVAL)),
                    ("--poll-timeout", show_duration(cli::DEFAULT_POLL_TIMEOUT)),
                    ("--fall", cli::DEFAULT_FALL.to_string()),
                    ("--rise", cli::DEFAULT_RISE.to_string()),
                ],
                witness_defaults(),
            ]
            .concat(),
        },
        Surface {
            bin: "notify-master",
            flags: all(&[
                "--peer",
                "--catchup-timeout",
                "--on-catchup-timeout",
                "--keep-read-only",
                "--dry-run",
                "--witness",
                "--lease-ttl",
                "--check-interval",
            ]),
            defaults: [
                connection_defaults(),
                vec![
                    (
                        "--catchup-timeout",
                        show_duration(config::DEFAULT_CATCHUP_TIMEOUT),
                    ),
                    ("--on-catchup-timeout", "fail".to_string()),
                ],
                witness_defaults(),
            ]
            .concat(),
        },
        Surface {
            bin: "notify-backup",
            flags: all(&[
                "--peer",
                "--retry-for",
                "--no-retry",
                "--keep-sessions",
                "--dry-run",
                "--witness",
                "--lease-ttl",
                "--check-interval",
            ]),
            defaults: [
                connection_defaults(),
                vec![(
                    "--retry-for",
                    show_duration(notify_backup::DEFAULT_RETRY_FOR),
                )],
                witness_defaults(),
            ]
            .concat(),
        },
        // No option file, no state dir, no server: none of those flags, and no -v.
        Surface {
            bin: "notify-down",
            flags: vec![
                "--pidfile",
                "--timeout",
                "--dry-run",
                "--format",
                "--no-syslog",
                "--help",
                "--version",
            ],
            defaults: vec![
                ("--timeout", show_duration(notify_down::DEFAULT_TIMEOUT)),
                ("--pidfile", DEFAULT_PIDFILE.to_string()),
                ("--format", "text".to_string()),
            ],
        },
    ]
}

#[test]
fn the_defaults_the_code_uses_are_the_documented_ones() {
    use keepalived_mysql::app::{notify_backup, notify_down};
    use keepalived_mysql::cli;
    use keepalived_mysql::io::config;
    // README, the man pages' examples and the option file example state these values.
    assert_eq!(notify_down::DEFAULT_TIMEOUT, Duration::from_secs(5));
    assert_eq!(config::DEFAULT_TIMEOUT, Duration::from_millis(800));
    assert_eq!(config::DEFAULT_MAX_LAG, Duration::from_secs(120));
    assert_eq!(config::DEFAULT_CATCHUP_TIMEOUT, Duration::from_secs(30));
    assert_eq!(notify_backup::DEFAULT_RETRY_FOR, Duration::from_secs(600));
    assert_eq!(config::DEFAULT_PORT, 3306);
    assert_eq!(config::DEFAULT_SOCKET, "/run/mysqld/mysqld.sock");
    assert_eq!(cli::DEFAULT_STATE_DIR, "/run/keepalived-mysql");
    assert_eq!(cli::DEFAULT_PIDFILE, "/run/keepalived.pid");
}

#[test]
fn each_binary_lists_only_the_flags_it_honours_with_the_defaults_it_uses() {
    for s in surfaces() {
        let blocks = help_blocks(s.bin);
        let mut shown: Vec<&str> = blocks.iter().map(|(f, _)| f.as_str()).collect();
        let mut expected = s.flags.clone();
        shown.sort_unstable();
        expected.sort_unstable();
        assert_eq!(shown, expected, "{} --help lists other flags", s.bin);
        for (flag, default) in &s.defaults {
            let (_, text) = blocks.iter().find(|(f, _)| f == flag).unwrap();
            assert!(
                text.contains(&format!("[default: {default}]")),
                "{} --help: {flag} should say [default: {default}]:\n{text}",
                s.bin
            );
            assert_eq!(
                text.matches("[default:").count(),
                1,
                "{} --help: {flag} states one default:\n{text}",
                s.bin
            );
        }
    }
    // notify-down has no -v (it never read it) and no state dir.
    let out = bin("notify-down")
        .arg("-v")
        .assert()
        .code(64)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("notify-down: usage error:"));
    bin("notify-down")
        .args(["--state-dir", "/tmp"])
        .assert()
        .code(64);
}

/// The man pages and the fish completions that build.rs renders (`target/<profile>/generated`,
/// next to the test's `deps` dir) say the same as --help.
#[test]
fn man_pages_and_completions_state_the_same_defaults() {
    let exe = std::env::current_exe().unwrap();
    let generated = exe.parent().unwrap().parent().unwrap().join("generated");
    for s in surfaces() {
        let page = generated.join(format!("man/{}.8.gz", s.bin));
        let out = std::process::Command::new("gzip")
            .arg("-dc")
            .arg(&page)
            .output()
            .unwrap_or_else(|e| panic!("gzip -dc {}: {e}", page.display()));
        assert!(out.status.success(), "gzip -dc {}", page.display());
        let man = String::from_utf8(out.stdout).unwrap();
        let fish =
            std::fs::read_to_string(generated.join(format!("completions/fish/{}.fish", s.bin)))
                .unwrap();
        for (flag, default) in &s.defaults {
            // OPTIONS: a `.TP` line `\fB\-\-timeout\fR ...`, the default on it or the next.
            let options = &man[man.find(".SH OPTIONS").expect("an OPTIONS section")..];
            let roff_flag = format!("\n\\fB{}\\fR", flag.replace('-', "\\-"));
            let at = options
                .find(&roff_flag)
                .map(|i| i + 1)
                .unwrap_or_else(|| panic!("man page {} lacks {flag}", page.display()));
            let entry: String = options[at..].lines().take(2).collect::<Vec<_>>().join("\n");
            assert!(
                entry.contains(&format!("[default: {}]", default.replace('-', "\\-"))),
                "man page {}: {flag} should say [default: {default}]:\n{entry}",
                page.display()
            );
            let long = flag.trim_start_matches("--");
            let line = fish
                .lines()
                .find(|l| l.contains(&format!(" -l {long} ")))
                .unwrap_or_else(|| panic!("{}.fish lacks {flag}", s.bin));
            // Clap defaults are not in the completion's description; ours are in the help.
            if !["--format", "--pidfile"].contains(flag) {
                assert!(
                    line.contains(&format!("[default: {default}]")),
                    "{}.fish: {flag} should say [default: {default}]: {line}",
                    s.bin
                );
            }
        }
        if s.bin == "notify-down" {
            for absent in ["state\\-dir", "\\-\\-verbose", "\\-\\-host"] {
                assert!(
                    !man.contains(absent),
                    "notify-down's man page lists {absent}"
                );
            }
            for absent in [" -l state-dir ", " -s v ", " -l host "] {
                assert!(!fish.contains(absent), "notify-down.fish offers{absent}");
            }
        }
    }
}

/// The roff source of a man page that build.rs rendered (`target/<profile>/generated`, next
/// to the test's `deps` dir).
fn man_source(bin: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let page = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("generated/man/{bin}.8.gz"));
    let out = std::process::Command::new("gzip")
        .arg("-dc")
        .arg(&page)
        .output()
        .unwrap_or_else(|e| panic!("gzip -dc {}: {e}", page.display()));
    assert!(out.status.success(), "gzip -dc {}", page.display());
    String::from_utf8(out.stdout).unwrap()
}

/// One section of a roff man page, from its `.SH` line to the next.
fn man_section<'a>(man: &'a str, heading: &str) -> &'a str {
    let start = man
        .find(&format!(".SH {heading}\n"))
        .unwrap_or_else(|| panic!("no section {heading}"));
    let body = &man[start + 1..];
    &body[..body.find("\n.SH ").unwrap_or(body.len())]
}

/// Every exit code a binary returns, and only those (docs/contract.md "Exit codes"; the code:
/// src/app/check.rs, src/app/notify*.rs, src/down.rs): in --help and in the man page's EXIT
/// STATUS, which build.rs renders from the same text.
#[test]
fn each_binary_lists_exactly_its_exit_codes() {
    for (name, codes) in [
        ("check-mysql", &[0, 1, 2, 3, 4, 5, 6, 64, 73, 78][..]),
        ("notify-master", &[0, 1, 3, 6, 64, 78][..]),
        ("notify-backup", &[0, 1, 64, 78][..]),
        ("notify-down", &[0, 1, 64, 78][..]),
    ] {
        let out = bin(name)
            .arg("--help")
            .assert()
            .code(0)
            .get_output()
            .clone();
        let help = String::from_utf8(out.stdout).unwrap();
        let table = &help[help
            .find("\nExit codes:\n")
            .unwrap_or_else(|| panic!("{name} --help has no exit codes:\n{help}"))..];
        // Rows are `  CODE  meaning`; a meaning goes on at a deeper indent.
        let shown: Vec<u8> = table
            .lines()
            .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
            .map(|l| {
                let code = l.split_whitespace().next().unwrap();
                code.parse()
                    .unwrap_or_else(|_| panic!("{name} --help: not an exit code row: {l:?}"))
            })
            .collect();
        assert_eq!(
            shown, codes,
            "{name} --help lists other exit codes:\n{table}"
        );
        if name != "check-mysql" {
            // Nothing of the check's verdicts in a notify helper's table.
            for check_only in ["WARN", "--max-lag", "replication broken", "diverged"] {
                assert!(
                    !table.contains(check_only),
                    "{name} --help's exit codes mention {check_only:?}:\n{table}"
                );
            }
        }

        let man = man_source(name);
        let status = man_section(&man, "\"EXIT STATUS\"");
        let in_man: Vec<u8> = status
            .lines()
            .skip_while(|l| *l != ".TP")
            .filter_map(|l| l.strip_prefix("\\fB")?.strip_suffix("\\fR")?.parse().ok())
            .collect();
        assert_eq!(
            in_man, codes,
            "{name}'s man page lists other exit codes:\n{status}"
        );
    }
}

/// `--timeout` and `--state-dir` are shared by three binaries but mean something else in each:
/// each one's help says what they bound and hold for it (docs/contract.md "Time", "State
/// dir"), and check-mysql's man page lists its own files.
#[test]
fn timeout_and_state_dir_help_is_true_for_each_binary() {
    let help_of = |name: &str, flag: &str| -> String {
        help_blocks(name)
            .into_iter()
            .find(|(f, _)| f == flag)
            .unwrap_or_else(|| panic!("{name} --help lacks {flag}"))
            .1
    };
    // (binary, flag, must say, must not say)
    let cases: [(&str, &str, &[&str], &[&str]); 6] = [
        (
            "check-mysql",
            "--timeout",
            &["whole run", "--peer"],
            &["lock", "notify", "catch-up"],
        ),
        (
            "check-mysql",
            "--state-dir",
            &["role file", "check-mysql.last", "check-mysql.received"],
            &["lock"],
        ),
        (
            "notify-master",
            "--timeout",
            &["each step", "lock", "--catchup-timeout"],
            &["check-mysql", "whole run:", "notify-backup"],
        ),
        (
            "notify-master",
            "--state-dir",
            &["role file", "lock"],
            &["check-mysql.last", "check-mysql.received", "verdict"],
        ),
        (
            "notify-backup",
            "--timeout",
            &["each attempt", "lock"],
            &["check-mysql", "whole run", "catch-up"],
        ),
        (
            "notify-backup",
            "--state-dir",
            &["role file", "lock"],
            &["check-mysql.last", "check-mysql.received", "verdict"],
        ),
    ];
    for (name, flag, says, never) in cases {
        let text = help_of(name, flag);
        for s in says {
            assert!(
                text.contains(s),
                "{name} {flag} should mention {s:?}:\n{text}"
            );
        }
        for s in never {
            assert!(
                !text.contains(s),
                "{name} {flag} should not mention {s:?}:\n{text}"
            );
        }
    }

    let files = |name: &str| man_section(&man_source(name), "FILES").to_string();
    let check = files("check-mysql");
    for file in ["role", "check\\-mysql.last", "check\\-mysql.received"] {
        assert!(
            check.contains(&format!("/run/keepalived\\-mysql/{file}")),
            "check-mysql's man page FILES lacks {file}:\n{check}"
        );
    }
    for name in ["notify-master", "notify-backup"] {
        let text = files(name);
        for file in ["role", "lock"] {
            assert!(
                text.contains(&format!("/run/keepalived\\-mysql/{file}\\fR")),
                "{name}'s man page FILES lacks {file}:\n{text}"
            );
        }
    }
}

/// MYSQL_PWD is documented by the binaries that read it (those that log in to the server),
/// and not by notify-down, which reads no environment at all.
#[test]
fn only_the_binaries_that_read_mysql_pwd_document_it() {
    for (name, reads) in [
        ("check-mysql", true),
        ("notify-master", true),
        ("notify-backup", true),
        ("notify-down", false),
    ] {
        let man = man_source(name);
        let environment = man_section(&man, "ENVIRONMENT");
        assert_eq!(
            environment.contains("MYSQL_PWD"),
            reads,
            "{name}'s man page ENVIRONMENT:\n{environment}"
        );
        assert_eq!(
            man.contains("MYSQL_PWD"),
            reads,
            "{name}'s man page and MYSQL_PWD"
        );
    }
}

/// A server that accepts and never answers: notify-backup gives up at the default --timeout
/// and names it, so the 800ms in its --help is what its code uses.
#[test]
fn notify_backup_gives_up_at_the_default_timeout_it_documents() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let f = option_file(
        dir.path(),
        &format!("[client]\nhost=127.0.0.1\nport={port}\nuser=monitor\n"),
        0o600,
    );
    bin("notify-backup")
        .args([
            "--defaults-file",
            f.to_str().unwrap(),
            "--no-syslog",
            "--no-retry",
        ])
        .args(["--state-dir", dir.path().join("state").to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("within --timeout 800ms"));
    drop(listener);
}

/// A process named keepalived that ignores SIGTERM: notify-down waits for it as long as its
/// --help says (5s), then fails. It reads its own pid file; nothing else is signalled.
#[test]
fn notify_down_waits_the_default_timeout_it_documents() {
    let dir = tempfile::tempdir().unwrap();
    // A shell under the name keepalived (/proc/PID/comm), blocked on a pipe we hold.
    let fake = dir.path().join("keepalived");
    std::fs::copy("/bin/sh", &fake).unwrap();
    let mut child = std::process::Command::new(&fake)
        .args(["-c", "trap '' TERM; read line"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Until the kernel renames the task after exec, comm is this test thread's name.
    let comm = format!("/proc/{}/comm", child.id());
    let renamed = std::time::Instant::now();
    while std::fs::read_to_string(&comm)
        .unwrap_or_default()
        .trim_end()
        != "keepalived"
    {
        assert!(
            renamed.elapsed() < Duration::from_secs(10),
            "{comm} never became keepalived"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let pidfile = dir.path().join("keepalived.pid");
    std::fs::write(&pidfile, format!("{}\n", child.id())).unwrap();
    let out = bin("notify-down")
        .args(["--no-syslog", "--pidfile", pidfile.to_str().unwrap()])
        .output()
        .unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("FAIL down: keepalived PID")
            && stdout.contains("still running after 5s"),
        "{stdout}"
    );
}

/// notify-down --format json: one object, with null role, read_only and seq (it keeps no
/// role and does not talk to the server).
#[test]
fn notify_down_json_output() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("keepalived.pid");
    let run = |expected_code: i32| -> serde_json::Value {
        let out = bin("notify-down")
            .args(["--no-syslog", "--format", "json", "--pidfile"])
            .arg(&pidfile)
            .args(["INSTANCE", "VI_1", "FAULT", "0"])
            .assert()
            .code(expected_code)
            .get_output()
            .clone();
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert_eq!(stdout.lines().count(), 1, "{stdout}");
        serde_json::from_str(&stdout).unwrap()
    };
    // No pid file: keepalived is not running.
    let v = run(0);
    assert_eq!(v["outcome"], "not-running");
    assert_eq!(v["exit_code"], 0);
    assert_eq!(v["reason"], "ok");
    assert!(v["role"].is_null() && v["read_only"].is_null() && v["seq"].is_null());
    assert!(v["message"].as_str().unwrap().contains("not running"));
    assert_eq!(v["keepalived_args"][2], "FAULT");
    assert!(v["elapsed_ms"].is_u64());
    // A pid file that holds no process id: refused, exit 78.
    std::fs::write(&pidfile, "garbage").unwrap();
    let v = run(78);
    assert_eq!(v["outcome"], "failed");
    assert_eq!(v["exit_code"], 78);
    assert_eq!(v["reason"], "config");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("does not hold a process id")
    );
}

/// Witness mode's settings (docs/contract.md "Witness mode"): a witness without a peer, and a
/// lease timing that breaks the invariant, are exit 78 before any server is asked, and the
/// message names the values (also those read from the other binaries' groups).
#[test]
fn witness_settings_that_cannot_be_safe_exit_78() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_string();
    let base = "[client]\nhost=127.0.0.1\nport=1\nuser=u\n";
    // (binary, option file, flags, what the message names)
    let rows: [(&str, String, &[&str], &[&str]); 6] = [
        (
            "check-mysql",
            base.to_string(),
            &["--witness", "127.0.0.1:9"],
            &["--witness 127.0.0.1:9 needs --peer"],
        ),
        (
            "notify-master",
            format!("{base}[notify-master]\nwitness=w:3306\n"),
            &[],
            &["--witness w:3306 needs --peer"],
        ),
        (
            "notify-master",
            base.to_string(),
            &["--witness", "w", "--peer", "b", "--lease-ttl", "3s"],
            &[
                "lease TTL 3s is too short",
                "check interval 2s",
                "check deadline (--timeout) 800ms",
                "fencing deadline 800ms",
                "margin 1s = 4s 600ms",
            ],
        ),
        (
            "check-mysql",
            base.to_string(),
            &[
                "--witness",
                "w",
                "--peer",
                "b",
                "--lease-ttl",
                "4s",
                "--check-interval",
                "1500ms",
                "--timeout",
                "500ms",
            ],
            // 1500ms counts as keepalived's next whole second.
            &["lease TTL 4s", "check interval 2s", "(--timeout) 500ms"],
        ),
        (
            // notify-backup's own timeout, read from its group by check-mysql.
            "check-mysql",
            format!("{base}[notify-backup]\ntimeout=3s\n"),
            &["--witness", "w", "--peer", "b"],
            &["lease TTL 6s", "fencing deadline 3s"],
        ),
        (
            "notify-master",
            format!("{base}[notify-master]\nlease-ttl=soon\n"),
            &["--witness", "w", "--peer", "b"],
            &["lease-ttl"],
        ),
    ];
    for (name, text, flags, expect) in rows {
        let f = option_file(dir.path(), &text, 0o600);
        let mut cmd = bin(name);
        cmd.args(["--defaults-file", f.to_str().unwrap(), "--no-syslog"])
            .args(["--state-dir", &state])
            .args(flags);
        if name == "notify-master" {
            cmd.args(["INSTANCE", "VI_1", "MASTER"]);
        }
        let out = cmd.assert().code(78).get_output().clone();
        let line = String::from_utf8_lossy(&out.stdout).into_owned();
        for e in expect {
            assert!(line.contains(e), "{name} {flags:?}: {line:?} lacks {e:?}");
        }
    }
    // notify-backup fences first (fencing needs no guard setting): here the server is down,
    // so the fence's exit 1 stands, and the line names the timing's values too.
    let f = option_file(dir.path(), base, 0o600);
    let out = bin("notify-backup")
        .args([
            "--defaults-file",
            f.to_str().unwrap(),
            "--no-syslog",
            "--no-retry",
        ])
        .args(["--state-dir", &state])
        .args(["--witness", "w", "--peer", "b", "--lease-ttl", "3s"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let line = String::from_utf8_lossy(&out.stdout);
    for e in [
        "guard's settings are bad too",
        "lease TTL 3s is too short",
        "margin 1s = 4s 600ms",
    ] {
        assert!(line.contains(e), "notify-backup: {line:?} lacks {e:?}");
    }
    // The defaults and packaging's interval fit.
    let out = bin("check-mysql")
        .args(["--defaults-file", f.to_str().unwrap(), "--no-syslog"])
        .args(["--state-dir", &state])
        .args([
            "--witness",
            "127.0.0.1:9",
            "--peer",
            "127.0.0.1:9",
            "--timeout",
            "300ms",
        ])
        .args(["--role", "standby"])
        .output()
        .unwrap();
    assert_ne!(out.status.code(), Some(78), "{out:?}");
}

/// The guard's command-line details: a lease TTL and check interval have a maximum (usage
/// error 64 on the command line, 78 in the option file); a HOST with blanks or control
/// characters is refused; `--is-writer`'s conflicts name the flags (one line), `--format`
/// among them; and `--is-writer` does not validate the lease timing it does not use.
#[test]
fn guard_flags_are_bounded_and_is_writer_conflicts_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().to_str().unwrap().to_string();
    let base = "[client]\nhost=127.0.0.1\nport=1\nuser=u\n";
    let f = option_file(dir.path(), base, 0o600);
    let file = f.to_str().unwrap().to_string();
    let run = |name: &str, flags: &[&str]| {
        let mut cmd = bin(name);
        cmd.args([
            "--defaults-file",
            &file,
            "--no-syslog",
            "--state-dir",
            &state,
        ])
        .args(flags);
        cmd.output().unwrap()
    };
    // (binary, flags, what the one stderr line names)
    let usage: &[(&str, &[&str], &[&str])] = &[
        (
            "check-mysql",
            &["--is-writer", "-v", "--explain"],
            &["--verbose", "--explain"],
        ),
        (
            "check-mysql",
            &["--is-writer", "--format", "json"],
            &["--format"],
        ),
        (
            "check-mysql",
            &["--lease-ttl", "1000d"],
            &["lease-ttl", "maximum 10m"],
        ),
        (
            "notify-master",
            &["--lease-ttl", "11m"],
            &["lease-ttl", "maximum 10m"],
        ),
        (
            "notify-backup",
            &["--check-interval", "1h"],
            &["check-interval", "maximum 10m"],
        ),
        // Watch mode's flags: only with --watch, and bounded.
        ("check-mysql", &["--interval", "100ms"], &["--watch"]),
        ("check-mysql", &["--track-file", "/tmp/x"], &["--watch"]),
        (
            "check-mysql",
            &["--watch", "--interval", "5ms"],
            &["interval", "minimum 10ms"],
        ),
        (
            "check-mysql",
            &["--watch", "--poll-timeout", "2m"],
            &["poll-timeout", "maximum 60s"],
        ),
        ("check-mysql", &["--watch", "--fall", "0"], &["--fall"]),
        ("check-mysql", &["--watch", "--rise", "101"], &["--rise"]),
        ("check-mysql", &["--watch", "--is-writer"], &["--is-writer"]),
        ("check-mysql", &["--watch", "-v"], &["--verbose"]),
    ];
    for (name, flags, names) in usage {
        let out = run(name, flags);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(64), "{name} {flags:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{name} {flags:?}: {err}");
        for n in *names {
            assert!(err.contains(n), "{name} {flags:?}: {err:?} lacks {n:?}");
        }
    }
    let config: &[(&str, &[&str], &[&str])] = &[
        (
            "check-mysql",
            &["--peer", "a b"],
            &["'a b' is not HOST[:PORT]"],
        ),
        (
            "notify-master",
            &["--peer", "b", "--witness", "w\tx"],
            &["--witness"],
        ),
    ];
    for (name, flags, names) in config {
        let out = run(name, flags);
        let line = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(78), "{name} {flags:?}: {line}");
        for n in *names {
            assert!(line.contains(n), "{name} {flags:?}: {line:?} lacks {n:?}");
        }
    }
    let long = option_file(
        dir.path(),
        &format!("{base}[notify-master]\npeer=b\nwitness=w\nlease-ttl=1000d\n"),
        0o600,
    );
    let out = bin("notify-master")
        .args(["--defaults-file", long.to_str().unwrap(), "--no-syslog"])
        .args(["--state-dir", &state])
        .output()
        .unwrap();
    let line = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(78), "{line}");
    assert!(
        line.contains("lease-ttl") && line.contains("maximum 10m"),
        "{line}"
    );
    // --is-writer reads only the role and read_only: a witness timing it ignores is no error.
    let timing = option_file(
        dir.path(),
        &format!("{base}[check-mysql]\npeer=b\nwitness=w\nlease-ttl=1s\n"),
        0o600,
    );
    let out = bin("check-mysql")
        .args(["--defaults-file", timing.to_str().unwrap(), "--no-syslog"])
        .args(["--state-dir", &state, "--role", "standby", "--is-writer"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
}
