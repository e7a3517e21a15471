//! The packages, built and used the way an operator would: `cargo deb` and
//! `cargo generate-rpm` build them; the .deb is installed on this machine with `dpkg -i`, its
//! files are checked (owner, group, mode, no symlinks, directories keepalived's
//! `enable_script_security` accepts), keepalived checks the example configs, the man pages
//! render, and the binaries, run as the package's `keepalived_script` user with the example
//! option file, grants and my.cnf fragment, fence and promote a real MariaDB server. Then
//! `dpkg --purge` leaves the machine as it was (except the system user, which stays by policy).
//!
//! One `#[test]` per check, so that one failure does not hide the others. The packages are
//! built once per run; every test that needs the .deb installed installs it and purges it
//! (one such test at a time: `files::Installed`). The lint-only checks of `packaging/` (no
//! root, nothing built) are `tests/packaging_files.rs`.
//!
//! Needs root and: dpkg, keepalived, man-db, rpm, systemd, util-linux, MariaDB (server and
//! client), cargo-deb and cargo-generate-rpm (`./test` installs them all). What is missing
//! fails the test with what to install; nothing is skipped.
//!
//! The packages are built in their own target dir (`target/tmp/package-build`): `cargo test`
//! holds the lock of `target/debug`, and a nested cargo build in the same target dir would
//! wait for it forever.

#[path = "../common/mod.rs"]
mod common;
mod files;
mod operator;
mod packages;
mod usage;

use std::process::{Command, Output, Stdio};

use common::programs::{Tool, require, tool};
use files::Installed;
use packages::packages;

const PACKAGE: &str = "keepalived-mysql";
const VERSION: &str = env!("CARGO_PKG_VERSION");
const SOURCE: &str = env!("CARGO_MANIFEST_DIR");
const BINARIES: [&str; 4] = [
    "check-mysql",
    "notify-master",
    "notify-backup",
    "notify-down",
];
const LIBEXEC: &str = "/usr/libexec/keepalived-mysql";
const DOC: &str = "/usr/share/doc/keepalived-mysql";
const EXAMPLES: [&str; 8] = [
    "keepalived-node-a.conf",
    "keepalived-node-b.conf",
    "keepalived-node-a-watch.conf",
    "keepalived-node-b-watch.conf",
    "mysql-helpers.cnf",
    "grants.sql",
    "split-brain.sql",
    "dual-master.cnf",
];
/// check-mysql --watch's systemd unit, installed disabled.
const WATCH_UNIT: &str = "/usr/lib/systemd/system/keepalived-mysql-watch.service";
const SCRIPT_USER: &str = "keepalived_script";
const STATE_DIR: &str = "/run/keepalived-mysql";

// ---------------------------------------------------------------------------------------------
// Preconditions

const WHO: &str = "the packaging tests";
const ROOT: &str = "these tests install the .deb with dpkg -i: run them as root, `sudo ./test`, \
                    as CI does";
const PACKAGERS: [Tool; 2] = [
    tool(
        "cargo-deb",
        "cargo install --locked cargo-deb; ./test does it",
    ),
    tool(
        "cargo-generate-rpm",
        "cargo install --locked cargo-generate-rpm; ./test does it",
    ),
];
const DPKG: [Tool; 2] = [
    tool("dpkg", "a Debian system"),
    tool("dpkg-deb", "a Debian system"),
];

/// Root, dpkg, the packagers and `more` (or a failure naming what is missing); then the .deb
/// built and installed, purged when the returned guard is dropped.
#[track_caller]
fn install_deb(more: &[Tool]) -> Installed {
    let tools: Vec<Tool> = DPKG.iter().chain(&PACKAGERS).chain(more).copied().collect();
    require(WHO, Some(ROOT), &tools);
    Installed::install(&packages().deb)
}

// ---------------------------------------------------------------------------------------------
// Running commands

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

fn output_text(out: &Output) -> String {
    format!(
        "exit: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs `cmd` (stdin closed) and returns its output, whatever its exit status.
#[track_caller]
fn output(cmd: &mut Command) -> Output {
    cmd.stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", describe(cmd)))
}

/// Runs `cmd` and fails the test unless it exits 0.
#[track_caller]
fn run(cmd: &mut Command) -> Output {
    let out = output(cmd);
    assert!(
        out.status.success(),
        "{} failed\n{}",
        describe(cmd),
        output_text(&out)
    );
    out
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

// ---------------------------------------------------------------------------------------------
// The packages as built

#[test]
fn rpm_holds_the_files_with_their_modes_and_the_scripts() {
    let mut tools = vec![tool("rpm", "apt-get install rpm")];
    tools.extend(PACKAGERS);
    require(WHO, None, &tools);
    packages::check_rpm(&packages().rpm);
}

#[test]
fn deb_control_names_the_package_version_and_dependencies() {
    let mut tools = DPKG.to_vec();
    tools.extend(PACKAGERS);
    require(WHO, None, &tools);
    files::check_deb_control(&packages().deb);
}

// ---------------------------------------------------------------------------------------------
// The .deb installed on this machine

#[test]
fn deb_installs_root_owned_files_with_their_modes_and_nothing_in_etc() {
    let _deb = install_deb(&[]);
    files::check_installed_files();
}

#[test]
fn deb_creates_the_script_user_and_its_state_dir() {
    let _deb = install_deb(&[tool("runuser", "apt-get install util-linux")]);
    files::check_script_user_and_state_dir();
}

#[test]
fn deb_installs_the_watch_unit_disabled() {
    let _deb = install_deb(&[
        tool("systemctl", "apt-get install systemd"),
        tool("systemd-analyze", "apt-get install systemd"),
        tool("man", "apt-get install man-db"),
    ]);
    files::check_watch_unit_installed_disabled();
}

#[test]
fn postinst_without_systemd_tmpfiles_creates_the_state_dir() {
    let _deb = install_deb(&[]);
    files::check_postinst_without_systemd_tmpfiles(&packages().deb);
}

#[test]
fn keepalived_accepts_the_installed_example_configs() {
    let _deb = install_deb(&[tool("keepalived", "apt-get install keepalived")]);
    usage::check_keepalived_accepts_the_examples();
}

#[test]
fn installed_help_version_and_man_pages_agree() {
    let _deb = install_deb(&[tool("man", "apt-get install man-db")]);
    usage::check_help_and_man_pages();
}

#[test]
fn installed_bash_completions_register_each_binary() {
    let _deb = install_deb(&[]);
    usage::check_bash_completion();
}

#[test]
fn installed_helpers_fence_and_promote_mariadb_as_the_script_user() {
    let _deb = install_deb(&[
        tool("runuser", "apt-get install util-linux"),
        tool("mariadbd", "apt-get install mariadb-server"),
        tool("mariadb-install-db", "apt-get install mariadb-server"),
        tool("mariadb", "apt-get install mariadb-client"),
    ]);
    operator::operator_flow_against_mariadb();
}

#[test]
fn purge_leaves_nothing_but_the_script_user() {
    let deb = install_deb(&[]);
    let _no_install_until_checked = deb.purge();
    files::check_purged();
}
