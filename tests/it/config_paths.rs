//! Configuration paths fail loudly (issue 9), met the way keepalived's script user meets
//! them: the binaries run as uid/gid 65534 with no supplementary groups (`setpriv`), and for
//! the default option file in a private mount namespace (`unshare --mount`) where a
//! directory of the test is bind-mounted over `/etc/keepalived`, so the real `/etc` is never
//! touched. Root bypasses permission bits, which is why "permission denied" is checked here
//! and not in the unit tests (they cover symlink loops and files in the way).
//!
//! Needs root and util-linux (`unshare`, `setpriv`, `mount`), and `/etc/keepalived` to mount
//! over (the keepalived package creates it): a missing one is a failure that says what to
//! install, never a skip.

use std::fs;
use std::os::unix::fs::{PermissionsExt, chown, symlink};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::common::mariadb::Server;
use crate::common::programs;
use crate::common::run::{Run, bin_path, our_bin};

const NOBODY: u32 = 65534;
const INSTALL_HINT: &str = "apt-get install util-linux mount";
/// Kills a run that has not exited by then (a hang guard, not an assertion).
const GUARD: Duration = Duration::from_secs(10);
const ETC_KEEPALIVED: &str = "/etc/keepalived";
const DEFAULT_FILE: &str = "/etc/keepalived/mysql-helpers.cnf";

/// `name` (the kit's search order), or a failure saying what to install.
#[track_caller]
fn tool(name: &str) -> PathBuf {
    programs::program(name, INSTALL_HINT)
}

#[track_caller]
fn require_root() {
    programs::require_root(&format!(
        "these tests need root: they switch to uid {NOBODY} and mount in a private namespace \
         (run `sudo ./test`)"
    ));
}

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

/// A directory of this test with `mode`, owned by root.
fn dir_with_mode(mode: u32) -> tempfile::TempDir {
    let d = tempfile::Builder::new()
        .prefix("kam-it-paths-")
        .tempdir()
        .expect("temporary directory");
    chmod(d.path(), mode);
    d
}

/// Writes `text` to `path` with `mode`, owned by `uid` (root or [`NOBODY`]).
fn file(path: &Path, text: &str, mode: u32, uid: u32) {
    fs::write(path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    chmod(path, mode);
    chown(path, Some(uid), Some(uid)).expect("chown");
}

/// `ls -lR`-like: what the run met, for failure messages.
fn describe(dir: &Path) -> String {
    let mut out = String::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        use std::os::unix::fs::MetadataExt;
        match fs::symlink_metadata(&p) {
            Ok(m) => {
                out.push_str(&format!(
                    "{:o} uid {} {}\n",
                    m.mode() & 0o7777,
                    m.uid(),
                    p.display()
                ));
                if m.is_dir() {
                    for e in fs::read_dir(&p).into_iter().flatten().flatten() {
                        todo.push(e.path());
                    }
                }
            }
            Err(e) => out.push_str(&format!("{}: {e}\n", p.display())),
        }
    }
    out
}

/// The server's directory opened for others to search, so that [`NOBODY`] reaches its socket
/// (0777, as mariadbd creates it).
fn socket_for_nobody(s: &Server) -> String {
    chmod(s.dir.path(), 0o711);
    s.dir.path().join("mysqld.sock").display().to_string()
}

/// `setpriv` arguments that run `bin` as [`NOBODY`] with no supplementary groups.
fn setpriv_argv(bin: &str) -> Vec<String> {
    vec![
        tool("setpriv").display().to_string(),
        format!("--reuid={NOBODY}"),
        format!("--regid={NOBODY}"),
        "--clear-groups".into(),
        "--".into(),
        bin_path(bin).into(),
    ]
}

/// Runs our `bin` with `args` as [`NOBODY`], with an empty environment.
fn as_nobody(bin: &'static str, args: &[&str], context: &Path) -> Run<'static> {
    let argv = setpriv_argv(bin);
    let mut cmd = assert_cmd::Command::new(&argv[0]);
    cmd.args(&argv[1..]).env_clear().timeout(GUARD);
    let shown = describe(context);
    Run::of(bin, &mut cmd, strings(args), move || {
        format!("as uid {NOBODY}; the paths:\n{shown}")
    })
}

/// Runs check-mysql with `args` as [`NOBODY`], in a private mount namespace where `etc` is
/// bind-mounted over /etc/keepalived.
fn check_with_etc_keepalived(etc: &Path, args: &[&str]) -> Run<'static> {
    assert!(
        Path::new(ETC_KEEPALIVED).is_dir(),
        "{ETC_KEEPALIVED} does not exist: apt-get install keepalived (this test mounts over \
         it in a private mount namespace and leaves the real one alone)"
    );
    // sh: mount, then exec setpriv (so the run's exit code is check-mysql's).
    let mut cmd = assert_cmd::Command::new(tool("unshare"));
    cmd.args(["--mount", "--propagation", "private", "--"])
        .arg(tool("sh"))
        .args([
            "-c",
            r#"m=$1 dir=$2; shift 2; "$m" --bind "$dir" /etc/keepalived && exec "$@""#,
        ])
        .arg("sh")
        .arg(tool("mount"))
        .arg(etc)
        .args(setpriv_argv("check-mysql"))
        .env_clear()
        .timeout(GUARD);
    let shown = describe(etc);
    Run::of("check-mysql", &mut cmd, strings(args), move || {
        format!("as uid {NOBODY}, with {ETC_KEEPALIVED} =\n{shown}")
    })
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Exit `code` and exactly `line` on stdout.
#[track_caller]
fn expect_exactly(run: &Run, code: i32, line: &str) {
    run.expect(code, line);
    if run.line() != line {
        run.fail(&format!("expected exactly the line {line:?}"));
    }
}

// The field report: /etc/keepalived 0700 root holding mysql-helpers.cnf 0600, and the check
// run as the script user. `Path::exists` said "no file" on EACCES, so the check logged in
// with no user and reported the server down ("Access denied for user ''@'localhost'", 1).
#[test]
fn default_option_file_behind_an_unsearchable_directory_is_exit_78() {
    require_root();
    let s = Server::start(1);
    let socket = socket_for_nobody(&s);
    let etc = dir_with_mode(0o700);
    let cnf = etc.path().join("mysql-helpers.cnf");
    file(&cnf, "[client]\nuser=root\n", 0o600, 0);
    let state = dir_with_mode(0o755);
    let state = state.path().to_str().unwrap();
    let args = [
        "--socket",
        &socket,
        "--role",
        "standby",
        "--no-syslog",
        "--state-dir",
        state,
    ];

    let r = check_with_etc_keepalived(etc.path(), &args);
    expect_exactly(
        &r,
        78,
        &format!(
            "FAIL config: cannot read option file {DEFAULT_FILE}: permission denied \
             (directory {ETC_KEEPALIVED} is not searchable by uid {NOBODY})"
        ),
    );

    // The directory searchable, the file still root's and 0600: the file itself is named.
    chmod(etc.path(), 0o755);
    let r = check_with_etc_keepalived(etc.path(), &args);
    expect_exactly(
        &r,
        78,
        &format!(
            "FAIL config: cannot read option file {DEFAULT_FILE}: permission denied \
             ({DEFAULT_FILE} has mode 0600 and owner uid 0; this runs as uid {NOBODY})"
        ),
    );

    // The script user's own file is read (user=root on the socket logs in: a standalone
    // server fails as standby with 2), so the runs above met the file, not something else.
    chown(&cnf, Some(NOBODY), Some(NOBODY)).unwrap();
    check_with_etc_keepalived(etc.path(), &args).expect(2, "FAIL standby replication");

    // No file at all is still "no option file": no user, so the server refuses the empty
    // account (a configuration error, 78, issue 9) and says who was refused; the option
    // file is not blamed.
    fs::remove_file(&cnf).unwrap();
    let r = check_with_etc_keepalived(etc.path(), &args);
    r.expect(78, "FAIL standby config")
        .stdout_mentions(&["Access denied for user ''@'localhost'", "no user="]);
    if r.stdout.contains("cannot read option file") {
        r.fail("a missing default option file is absent, not unreadable");
    }
}

// MariaDB skips an !include it cannot read; a check must not run without its settings.
#[test]
fn include_targets_the_script_user_cannot_read_are_exit_78() {
    require_root();
    let s = Server::start(1);
    let socket = socket_for_nobody(&s);
    let etc = dir_with_mode(0o755);
    let private = etc.path().join("private");
    fs::create_dir(&private).unwrap();
    chmod(&private, 0o700);
    file(
        &private.join("extra.cnf"),
        "[client]\nuser=root\n",
        0o600,
        0,
    );
    let cnf = etc.path().join("helpers.cnf");
    let run = |body: &str| {
        file(&cnf, body, 0o600, NOBODY);
        as_nobody(
            "check-mysql",
            &[
                "--defaults-file",
                cnf.to_str().unwrap(),
                "--socket",
                &socket,
                "--role",
                "standby",
                "--no-syslog",
            ],
            etc.path(),
        )
    };
    let (cnf_s, private_s) = (cnf.display(), private.display());

    let r = run(&format!(
        "[client]\nuser=root\n!include {private_s}/extra.cnf\n"
    ));
    expect_exactly(
        &r,
        78,
        &format!(
            "FAIL config: option file {cnf_s}, line 3: cannot read included file \
             {private_s}/extra.cnf: permission denied (directory {private_s} is not \
             searchable by uid {NOBODY})"
        ),
    );

    let r = run(&format!("[client]\nuser=root\n!includedir {private_s}\n"));
    expect_exactly(
        &r,
        78,
        &format!(
            "FAIL config: option file {cnf_s}, line 3: cannot read !includedir directory \
             {private_s}: permission denied ({private_s} has mode 0700 and owner uid 0; this \
             runs as uid {NOBODY})"
        ),
    );

    // A missing include is skipped, as MariaDB does: the rest of the file applies.
    run(&format!(
        "[client]\nuser=root\n!include {}/missing.cnf\n",
        etc.path().display()
    ))
    .expect(2, "FAIL standby replication");
}

// The role file and the state dir: reading the role must be loud in check-mysql, and a
// state dir the notify helpers cannot use is a configuration error (78), not "down" (1,
// which made notify-backup retry in the background).
#[test]
fn role_file_and_state_dir_the_script_user_cannot_use_are_exit_78() {
    require_root();
    let etc = dir_with_mode(0o755);
    let cnf = etc.path().join("helpers.cnf");
    // No server: a run that gets past its configuration fails as down (1).
    let socket = etc.path().join("no-server.sock");
    file(
        &cnf,
        &format!("[client]\nsocket={}\nuser=root\n", socket.display()),
        0o600,
        NOBODY,
    );
    let cnf = cnf.to_str().unwrap();

    // check-mysql --role auto with a state dir nobody cannot search.
    let state = dir_with_mode(0o700);
    file(&state.path().join("role"), "role=writer\nseq=1\n", 0o644, 0);
    let state_s = state.path().display().to_string();
    let check = |context: &Path| {
        as_nobody(
            "check-mysql",
            &[
                "--defaults-file",
                cnf,
                "--state-dir",
                &state_s,
                "--role",
                "auto",
                "--no-syslog",
            ],
            context,
        )
    };
    expect_exactly(
        &check(state.path()),
        78,
        &format!(
            "FAIL config: cannot read role file {state_s}/role: permission denied \
             (directory {state_s} is not searchable by uid {NOBODY})"
        ),
    );
    // Searchable: the role file is read (writer), and only the missing server fails.
    chmod(state.path(), 0o755);
    check(state.path()).expect(1, "FAIL writer down");

    // The notify helpers, with a state dir to create in a directory nobody cannot write.
    let parent = dir_with_mode(0o755);
    let sub = parent.path().join("state");
    let sub_s = sub.display().to_string();
    let parent_s = parent.path().display().to_string();
    for (bin, extra) in [
        ("notify-backup", &["--no-retry"][..]),
        ("notify-master", &[][..]),
    ] {
        let mut args = vec!["--defaults-file", cnf, "--state-dir", &sub_s, "--no-syslog"];
        args.extend_from_slice(extra);
        expect_exactly(
            &as_nobody(bin, &args, parent.path()),
            78,
            &format!(
                "FAIL config: cannot create state dir {sub_s}: permission denied \
                 ({parent_s} has mode 0755 and owner uid 0; this runs as uid {NOBODY})"
            ),
        );
    }
}

// As root: a state dir that is a file or a symlink loop. Root bypasses permission bits, not
// these.
#[test]
fn state_dir_in_the_way_is_exit_78_as_root() {
    require_root();
    let d = dir_with_mode(0o700);
    let cnf = d.path().join("helpers.cnf");
    let socket = d.path().join("no-server.sock");
    file(
        &cnf,
        &format!("[client]\nsocket={}\nuser=root\n", socket.display()),
        0o600,
        0,
    );
    let cnf = cnf.to_str().unwrap();
    let a_file = d.path().join("a-file");
    fs::write(&a_file, "").unwrap();
    let (la, lb) = (d.path().join("loop-a"), d.path().join("loop-b"));
    symlink(&lb, &la).unwrap();
    symlink(&la, &lb).unwrap();
    let shown = describe(d.path());
    let run = |bin: &'static str, state: &Path, extra: &[&str]| {
        let mut args = strings(&[
            "--defaults-file",
            cnf,
            "--state-dir",
            state.to_str().unwrap(),
            "--no-syslog",
        ]);
        args.extend(strings(extra));
        let shown = shown.clone();
        Run::of(
            bin,
            our_bin(bin).env_clear().timeout(GUARD),
            args,
            move || shown.clone(),
        )
    };
    for (state, cause) in [
        (&a_file, format!("{} is a file", a_file.display())),
        (&la, format!("{} is a symlink loop", la.display())),
    ] {
        let s = state.display();
        let r = run("check-mysql", state, &["--role", "auto"]);
        r.expect(
            78,
            &format!("FAIL config: cannot read role file {s}/role: "),
        );
        r.stdout_mentions(&[&cause]);
        let r = run("notify-backup", state, &["--no-retry"]);
        r.expect(78, &format!("FAIL config: cannot create state dir {s}: "));
        r.stdout_mentions(&[&cause]);
    }
}
