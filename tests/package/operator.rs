//! The operator's path, against a real MariaDB server: the README's Install steps with the
//! installed examples, and the installed helpers run as the script user.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::common::mariadb::{Mariadb, Server, mariadb_program};
use crate::common::programs::program;
use crate::common::run::Run;
use crate::files::users_uid;
use crate::{DOC, LIBEXEC, SCRIPT_USER, output, output_text, stdout};

/// A throwaway `mariadbd` on a unix socket (no TCP: the fragment listens on 0.0.0.0),
/// configured with the installed dual-master fragment as an operator installs it, then only
/// what a throwaway server on this machine needs (its own files, little memory). Its
/// directory is 0755: the script user must reach the socket.
fn start_mariadb() -> Server {
    Mariadb::new()
        .include(format!("{DOC}/examples/dual-master.cnf"))
        .socket_only()
        .dir_mode(0o755)
        .dir_prefix("kam-pkg-")
        .start()
}

/// One helper run as keepalived would run it: as the script user, with the option file.
fn as_script_user(
    binary: &str,
    option_file: &Path,
    state_dir: &Path,
    args: &[&str],
) -> Run<'static> {
    let mut cmd = Command::new(program("runuser", "apt-get install util-linux"));
    cmd.args(["-u", SCRIPT_USER, "--"])
        .arg(format!("{LIBEXEC}/{binary}"))
        .arg("--defaults-file")
        .arg(option_file)
        .arg("--state-dir")
        .arg(state_dir)
        .arg("--no-syslog")
        .args(args)
        .env_remove("MYSQL_PWD");
    let out = output(&mut cmd);
    Run::new(
        "runuser",
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        out.status.code(),
        stdout(&out),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        String::new,
    )
}

/// The README's Install steps on this machine: the fragment starts the server fenced, the
/// grants file creates the accounts, the example option file (only its socket changed) lets
/// each helper, run as the script user, do its job with exactly those privileges.
pub fn operator_flow_against_mariadb() {
    let server = start_mariadb();

    // The fragment, as the running server sees it: fenced at startup, no skipped errors.
    assert_eq!(
        server.sql(
            "SELECT @@read_only, @@log_slave_updates, @@gtid_strict_mode, @@binlog_format, \
             @@auto_increment_increment, @@auto_increment_offset, @@gtid_domain_id, \
             @@slave_skip_errors, @@server_id"
        ),
        vec![
            ["1", "1", "1", "ROW", "2", "1", "0", "OFF", "1"]
                .map(|v| Some(v.to_string()))
                .to_vec()
        ],
        "read_only, log_slave_updates, gtid_strict_mode, binlog_format, auto_increment_*, \
         gtid_domain_id, slave_skip_errors, server_id of a server started with dual-master.cnf"
    );

    // split-brain.sql, then grants.sql (whose guard grants need the table), as an operator
    // runs them.
    for file in ["split-brain.sql", "grants.sql"] {
        let sql = fs::File::open(format!("{DOC}/examples/{file}")).unwrap();
        let out = Command::new(mariadb_program("mariadb"))
            .arg(format!("--socket={}", server.socket().display()))
            .arg("-uroot")
            .stdin(sql)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "mariadb < {file}\n{}",
            output_text(&out)
        );
    }
    // Account, global privileges, then the grant on the guard's table (if any).
    let guard_select = "GRANT SELECT ON `keepalived_mysql`.`guard` TO ";
    let guard_update = "GRANT SELECT, UPDATE ON `keepalived_mysql`.`guard` TO ";
    for (account, privileges, guard) in [
        // MariaDB lists privileges in its own order, not the GRANT's.
        (
            "'keepalived_check'@'localhost'",
            "CONNECTION ADMIN, SLAVE MONITOR",
            Some(guard_select),
        ),
        (
            "'keepalived_check'@'192.0.2.11'",
            "USAGE",
            Some(guard_select),
        ),
        (
            "'keepalived_failover'@'localhost'",
            "PROCESS, CONNECTION ADMIN, READ_ONLY ADMIN, REPLICATION SLAVE ADMIN, BINLOG ADMIN, \
             SLAVE MONITOR",
            Some(guard_update),
        ),
        (
            "'keepalived_failover'@'192.0.2.12'",
            "USAGE",
            Some(guard_select),
        ),
        ("'repl'@'192.0.2.12'", "REPLICATION SLAVE", None),
    ] {
        let rows = server.sql(&format!("SHOW GRANTS FOR {account}"));
        let shown: Vec<String> = rows
            .iter()
            .map(|r| r.iter().flatten().cloned().collect::<Vec<_>>().join("\t"))
            .collect();
        let global_ok = shown.first().is_some_and(|g| {
            g.lines().count() == 1 && g.starts_with(&format!("GRANT {privileges} ON *.* TO "))
        });
        let guard_ok = match guard {
            None => shown.len() == 1,
            Some(g) => shown.len() == 2 && shown[1].starts_with(g),
        };
        assert!(
            global_ok && guard_ok,
            "{account} must have exactly {privileges} and {guard:?}: {shown:?}"
        );
    }

    // The example option file, installed as the README says (0600, the script user's), with
    // only the socket pointed at this server.
    let example = fs::read_to_string(format!("{DOC}/examples/mysql-helpers.cnf")).unwrap();
    let default_socket = "socket = /run/mysqld/mysqld.sock";
    assert!(
        example.contains(default_socket),
        "mysql-helpers.cnf has no `{default_socket}`"
    );
    let option_file = server.dir.path().join("mysql-helpers.cnf");
    fs::write(
        &option_file,
        example.replace(
            default_socket,
            &format!("socket = {}", server.socket().display()),
        ),
    )
    .unwrap();
    let uid = users_uid(SCRIPT_USER);
    std::os::unix::fs::chown(&option_file, Some(uid), None).unwrap();
    fs::set_permissions(&option_file, fs::Permissions::from_mode(0o600)).unwrap();
    // A state dir of this test's own (the package's holds nothing of ours to disturb).
    let state = server.dir.path().join("state");
    fs::create_dir(&state).unwrap();
    std::os::unix::fs::chown(&state, Some(uid), None).unwrap();

    let read_only = || server.var("read_only").unwrap_or_default();
    let role = || fs::read_to_string(state.join("role")).unwrap_or_default();

    // A started node is a standby with no replication yet: not eligible (and the check could
    // log in and read replication status, or it would say `down`).
    let r = as_script_user("check-mysql", &option_file, &state, &[]);
    r.expect_head(2, "FAIL standby replication");
    // As a writer it would be read-only: the fragment fenced it.
    let r = as_script_user("check-mysql", &option_file, &state, &["--role", "writer"]);
    r.expect_head(5, "FAIL writer read-only");

    // keepalived makes it MASTER: notify-master unfences it (READ_ONLY ADMIN suffices).
    let r = as_script_user(
        "notify-master",
        &option_file,
        &state,
        &["INSTANCE", "VI_MYSQL", "MASTER", "100"],
    );
    r.expect_head(0, "OK writer");
    assert_eq!(
        read_only(),
        "0",
        "notify-master did not set read_only=OFF\n{}",
        r.transcript()
    );
    assert!(
        role().contains("role=writer"),
        "role file after notify-master: {}",
        role()
    );
    let r = as_script_user("check-mysql", &option_file, &state, &[]);
    r.expect_head(0, "OK writer");

    // BACKUP/FAULT/STOP: notify-backup fences it again.
    let r = as_script_user(
        "notify-backup",
        &option_file,
        &state,
        &["INSTANCE", "VI_MYSQL", "BACKUP", "100"],
    );
    r.expect_head(0, "OK standby");
    assert_eq!(
        read_only(),
        "1",
        "notify-backup did not set read_only=ON\n{}",
        r.transcript()
    );
    assert!(
        role().contains("role=standby"),
        "role file after notify-backup: {}",
        role()
    );

    // --explain points at the runbook where the package installed it.
    let r = as_script_user("check-mysql", &option_file, &state, &["--explain"]);
    r.expect_head(2, "FAIL standby replication");
    assert!(
        r.stdout
            .contains(&format!("{DOC}/runbook.md#no-replication")),
        "--explain does not name the installed runbook\n{}",
        r.transcript()
    );
    let runbook = fs::read_to_string(format!("{DOC}/runbook.md")).unwrap();
    assert!(
        runbook.contains("\n## no-replication\n"),
        "installed runbook lacks the section"
    );

    // An option file readable by others is refused, as the README says.
    fs::set_permissions(&option_file, fs::Permissions::from_mode(0o644)).unwrap();
    let r = as_script_user("check-mysql", &option_file, &state, &[]);
    assert_eq!(
        r.code,
        Some(78),
        "a 0644 option file with a password\n{}",
        r.transcript()
    );
}
