//! The packages, built and used the way an operator would: `cargo deb` and
//! `cargo generate-rpm` build them; the .deb is installed on this machine with `dpkg -i`, its
//! files are checked (owner, group, mode, no symlinks, directories keepalived's
//! `enable_script_security` accepts), keepalived checks the example configs, the man pages
//! render, and the binaries, run as the package's `keepalived_script` user with the example
//! option file, grants and my.cnf fragment, fence and promote a real MariaDB server. Then
//! `dpkg --purge` leaves the machine as it was (except the system user, which stays by policy).
//!
//! Needs root and: dpkg, keepalived, man-db, rpm, MariaDB (server and client), cargo-deb and
//! cargo-generate-rpm. What is missing fails the test with what to install; nothing is skipped.
//!
//! The packages are built in their own target dir (`target/tmp/package-build`): `cargo test`
//! holds the lock of `target/debug`, and a nested cargo build in the same target dir would
//! wait for it forever.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

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
const EXAMPLES: [&str; 5] = [
    "keepalived-node-a.conf",
    "keepalived-node-b.conf",
    "mysql-helpers.cnf",
    "grants.sql",
    "dual-master.cnf",
];
const SCRIPT_USER: &str = "keepalived_script";
const STATE_DIR: &str = "/run/keepalived-mysql";

// ---------------------------------------------------------------------------------------------
// Preconditions

/// A program the tests need, and how to get it.
#[derive(Clone, Copy)]
struct Tool {
    program: &'static str,
    install: &'static str,
}

const fn tool(program: &'static str, install: &'static str) -> Tool {
    Tool { program, install }
}

/// Fails (never skips) when `root` is asked for and this is not root, or when a program is
/// missing, naming what to install.
fn require(root: bool, tools: &[Tool]) {
    let mut missing = Vec::new();
    // SAFETY: geteuid has no preconditions.
    if root && unsafe { libc::geteuid() } != 0 {
        missing.push(
            "root (these tests install the .deb with dpkg -i: run cargo test as root, as CI does)"
                .to_string(),
        );
    }
    for t in tools {
        if find_program(t.program).is_none() {
            missing.push(format!("{} ({})", t.program, t.install));
        }
    }
    assert!(
        missing.is_empty(),
        "the packaging tests need: {}",
        missing.join("; ")
    );
}

/// A program in PATH or the usual system directories (tests may run with a reduced PATH).
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let cargo_bin = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin"));
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from))
        .chain(cargo_bin)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

fn program(name: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| panic!("{name} not found"))
}

const CARGO_PACKAGERS: [Tool; 2] = [
    tool(
        "cargo-deb",
        "cargo install --locked cargo-deb; .ci/run does it",
    ),
    tool(
        "cargo-generate-rpm",
        "cargo install --locked cargo-generate-rpm; .ci/run does it",
    ),
];

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
// Building the packages (once per test process)

struct Packages {
    deb: PathBuf,
    rpm: PathBuf,
}

/// Builds the .deb (`cargo deb`, which builds the release binaries and runs build.rs) and then
/// the .rpm from the same build (`cargo generate-rpm`), once for all tests in this file.
fn packages() -> &'static Packages {
    static BUILT: OnceLock<Result<Packages, String>> = OnceLock::new();
    match BUILT.get_or_init(build_packages) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

fn build_packages() -> Result<Packages, String> {
    let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-build");
    let out_dir = target_dir.join("packages");
    // Only this run's packages: a stale one must not be installed by mistake.
    let _ = fs::remove_dir_all(&out_dir);
    fs::create_dir_all(&out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    // cargo sets CARGO for the tests it runs; a test binary run by hand finds it in PATH.
    let cargo = std::env::var_os("CARGO")
        .map(PathBuf::from)
        .or_else(|| find_program("cargo"))
        .ok_or("cargo not found (CARGO unset and no cargo in PATH or ~/.cargo/bin)")?;

    let packager = |args: &[&str]| {
        let mut cmd = Command::new(&cargo);
        cmd.args(args)
            .current_dir(SOURCE)
            .env("CARGO_TARGET_DIR", &target_dir)
            // Set by cargo for the test process; they describe this test, not the build.
            .env_remove("CARGO_MANIFEST_DIR")
            .env_remove("CARGO_PKG_NAME")
            .env_remove("CARGO_CRATE_NAME")
            .env_remove("CARGO_BUILD_TARGET_DIR");
        let out = output(&mut cmd);
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("{} failed\n{}", describe(&cmd), output_text(&out)))
        }
    };
    let out = out_dir.to_str().ok_or("non-UTF-8 target dir")?;
    packager(&["deb", "--locked", "--output", out])?;
    packager(&["generate-rpm", "--output", out])?;

    let find = |ext: &str| -> Result<PathBuf, String> {
        let found: Vec<PathBuf> = fs::read_dir(&out_dir)
            .map_err(|e| format!("read {}: {e}", out_dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension() == Some(OsStr::new(ext)))
            .collect();
        match found.as_slice() {
            [one] => Ok(one.clone()),
            _ => Err(format!(
                "expected one .{ext} in {}, found {found:?}",
                out_dir.display()
            )),
        }
    };
    Ok(Packages {
        deb: find("deb")?,
        rpm: find("rpm")?,
    })
}

// ---------------------------------------------------------------------------------------------
// What the packages contain

/// Every regular file the packages install, with its mode. `zsh` is the zsh completion dir,
/// which differs between Debian and Fedora/RHEL.
fn expected_files(zsh: &str) -> Vec<(String, u32)> {
    let mut files = Vec::new();
    for b in BINARIES {
        files.push((format!("{LIBEXEC}/{b}"), 0o755));
        files.push((format!("/usr/share/man/man8/{b}.8.gz"), 0o644));
        files.push((format!("/usr/share/bash-completion/completions/{b}"), 0o644));
        files.push((format!("{zsh}/_{b}"), 0o644));
        files.push((
            format!("/usr/share/fish/vendor_completions.d/{b}.fish"),
            0o644,
        ));
    }
    files.push((format!("{DOC}/runbook.md"), 0o644));
    files.push((format!("{DOC}/README.md"), 0o644));
    for e in EXAMPLES {
        files.push((format!("{DOC}/examples/{e}"), 0o644));
    }
    files.push(("/usr/lib/tmpfiles.d/keepalived-mysql.conf".into(), 0o644));
    files.sort();
    files
}

#[test]
fn rpm_holds_the_files_with_their_modes_and_the_scripts() {
    require(
        false,
        &[
            tool("rpm", "apt-get install rpm"),
            CARGO_PACKAGERS[0],
            CARGO_PACKAGERS[1],
        ],
    );
    let rpm = &packages().rpm;

    // rpm -qlvp: "-rwxr-xr-x    1 root     root     SIZE DATE PATH"
    let listing = stdout(&run(Command::new("rpm").arg("-qlvp").arg(rpm)));
    let mut found = Vec::new();
    for line in listing.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert!(fields.len() >= 9, "unexpected rpm -qlvp line: {line:?}");
        let (perms, owner, group, path) =
            (fields[0], fields[2], fields[3], fields[fields.len() - 1]);
        assert_eq!(
            (owner, group),
            ("root", "root"),
            "{path} in the rpm is not root:root: {line:?}"
        );
        found.push((path.to_string(), rpm_mode(perms, line)));
    }
    found.sort();
    let expected = expected_files("/usr/share/zsh/site-functions");
    assert_eq!(
        found,
        expected,
        "rpm -qlvp {}: file list or modes differ from what the package must hold",
        rpm.display()
    );

    let plain = stdout(&run(Command::new("rpm").arg("-qlp").arg(rpm)));
    let plain: Vec<&str> = plain.lines().collect();
    let names: Vec<&str> = expected.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(plain, names, "rpm -qlp lists other files than rpm -qlvp");

    let requires = stdout(&run(Command::new("rpm")
        .args(["-qp", "--requires"])
        .arg(rpm)));
    for r in ["keepalived", "shadow-utils"] {
        assert!(
            requires.lines().any(|l| l.trim() == r),
            "the rpm does not require {r}:\n{requires}"
        );
    }
    let scripts = stdout(&run(Command::new("rpm")
        .args(["-qp", "--scripts"])
        .arg(rpm)));
    assert!(
        scripts.contains("postinstall scriptlet") && scripts.contains("useradd --system"),
        "the rpm's %post does not create the script user:\n{scripts}"
    );
    assert!(
        scripts.contains("postuninstall scriptlet")
            && scripts.contains("rm -rf /run/keepalived-mysql"),
        "the rpm's %postun does not remove the state dir:\n{scripts}"
    );
}

/// "-rwxr-xr-x" → 0o755 (regular files only).
fn rpm_mode(perms: &str, line: &str) -> u32 {
    assert!(
        perms.len() == 10 && perms.starts_with('-'),
        "not a regular file in the rpm: {line:?}"
    );
    perms[1..]
        .bytes()
        .fold(0, |m, b| (m << 1) | u32::from(b != b'-'))
}

// ---------------------------------------------------------------------------------------------
// The .deb on this machine

/// Installs the .deb; dropping it purges the package (also when the test panics) and puts back
/// a state dir that existed before.
struct Installed {
    state_dir_before: Option<fs::Metadata>,
}

impl Installed {
    fn install(deb: &Path) -> Installed {
        let status = dpkg_status();
        assert!(
            status.is_empty() || status.ends_with(" not-installed"),
            "{PACKAGE} is on this machine already ({status}); this test installs and purges its \
             own build: run `dpkg --purge {PACKAGE}` first"
        );
        let state_dir_before = fs::symlink_metadata(STATE_DIR).ok();
        let guard = Installed { state_dir_before };
        run(Command::new("dpkg").arg("-i").arg(deb));
        guard
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        let out = Command::new("dpkg")
            .args(["--purge", PACKAGE])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!("dpkg --purge {PACKAGE} failed\n{}", output_text(&o)),
            Err(e) => eprintln!("cannot run dpkg --purge {PACKAGE}: {e}"),
        }
        // Purge removed the state dir; one that was there before comes back (empty).
        if let Some(before) = &self.state_dir_before
            && fs::symlink_metadata(STATE_DIR).is_err()
            && fs::create_dir(STATE_DIR).is_ok()
        {
            let _ = std::os::unix::fs::chown(STATE_DIR, Some(before.uid()), Some(before.gid()));
            let _ = fs::set_permissions(
                STATE_DIR,
                fs::Permissions::from_mode(before.mode() & 0o7777),
            );
        }
    }
}

#[test]
fn deb_installs_checks_fences_and_promotes_then_purges() {
    require(
        true,
        &[
            tool("dpkg", "a Debian system"),
            tool("dpkg-deb", "a Debian system"),
            tool("keepalived", "apt-get install keepalived"),
            tool("man", "apt-get install man-db"),
            tool("runuser", "apt-get install util-linux"),
            tool("mariadbd", "apt-get install mariadb-server"),
            tool("mariadb-install-db", "apt-get install mariadb-server"),
            tool("mariadb", "apt-get install mariadb-client"),
            CARGO_PACKAGERS[0],
            CARGO_PACKAGERS[1],
        ],
    );
    let deb = &packages().deb;
    check_deb_control(deb);

    let installed = Installed::install(deb);
    check_installed_files();
    check_script_user_and_state_dir();
    check_keepalived_accepts_the_examples();
    check_help_and_man_pages();
    check_bash_completion();
    check_postinst_without_systemd_tmpfiles(deb);
    operator_flow_against_mariadb();

    drop(installed);
    check_purged();
}

fn check_deb_control(deb: &Path) {
    let field = |name: &str| {
        stdout(&run(Command::new("dpkg-deb")
            .arg("--field")
            .arg(deb)
            .arg(name)))
        .trim()
        .to_string()
    };
    assert_eq!(field("Package"), PACKAGE);
    assert_eq!(field("Version"), format!("{VERSION}-1"));
    let depends = field("Depends");
    for d in ["keepalived", "passwd", "libc6"] {
        assert!(
            depends.split(',').any(|x| x.trim().starts_with(d)),
            "Depends lacks {d}: {depends}"
        );
    }
}

/// Every path dpkg installed: root:root, no symlink, nothing writable by group or others;
/// directories 0755; exactly the expected regular files, with their modes.
fn check_installed_files() {
    let listing = stdout(&run(Command::new("dpkg").args(["-L", PACKAGE])));
    let mut files = Vec::new();
    for path in listing.lines().filter(|l| l.starts_with('/') && *l != "/.") {
        let md =
            fs::symlink_metadata(path).unwrap_or_else(|e| panic!("dpkg -L lists {path}, but: {e}"));
        let mode = md.mode() & 0o7777;
        assert!(!md.file_type().is_symlink(), "{path} is a symlink");
        assert_eq!(
            (md.uid(), md.gid()),
            (0, 0),
            "{path} is not owned by root:root (uid {}, gid {})",
            md.uid(),
            md.gid()
        );
        assert_eq!(
            mode & 0o022,
            0,
            "{path} is writable by group or others: {mode:o}"
        );
        if md.is_dir() {
            assert_eq!(mode, 0o755, "directory {path} has mode {mode:o}, not 755");
        } else {
            assert!(md.is_file(), "{path} is neither a file nor a directory");
            files.push((path.to_string(), mode));
        }
    }
    files.sort();
    let mut expected = expected_files("/usr/share/zsh/vendor-completions");
    // Written by cargo-deb from the package's metadata (Debian policy).
    expected.push((format!("{DOC}/copyright"), 0o644));
    expected.sort();
    assert_eq!(
        files, expected,
        "dpkg -L {PACKAGE}: installed files or modes differ"
    );

    // enable_script_security: the script and every directory above it are root-owned and not
    // writable by group or others, and the script is a real file (keepalived resolves nothing
    // for us).
    for b in BINARIES {
        let path = PathBuf::from(format!("{LIBEXEC}/{b}"));
        let md = fs::symlink_metadata(&path).unwrap();
        assert!(
            md.file_type().is_file(),
            "{} is not a regular file",
            path.display()
        );
        assert_eq!(md.mode() & 0o7777, 0o755, "{} mode", path.display());
        let elf = fs::read(&path).unwrap();
        assert!(
            elf.starts_with(b"\x7fELF"),
            "{} is not an ELF binary",
            path.display()
        );
        for dir in path.ancestors().skip(1) {
            let md = fs::symlink_metadata(dir).unwrap();
            assert!(
                md.is_dir() && md.uid() == 0 && md.mode() & 0o022 == 0,
                "{} (above {}) must be a root-owned directory that group and others cannot \
                 write, or keepalived's enable_script_security refuses the script (uid {}, \
                 mode {:o})",
                dir.display(),
                path.display(),
                md.uid(),
                md.mode() & 0o7777
            );
        }
    }
    // The option file holds credentials: the package installs nothing into /etc.
    assert!(
        !listing.lines().any(|l| l.starts_with("/etc")),
        "the package must not install anything into /etc:\n{listing}"
    );
}

/// The system user exists with no login shell and no home; the state dir is its own.
fn check_script_user_and_state_dir() {
    let entry = stdout(&run(Command::new("getent").args(["passwd", SCRIPT_USER])));
    let fields: Vec<&str> = entry.trim().split(':').collect();
    assert_eq!(fields.len(), 7, "getent passwd {SCRIPT_USER}: {entry:?}");
    let (uid, home, shell) = (fields[2], fields[5], fields[6]);
    assert!(
        shell.ends_with("/nologin") || shell.ends_with("/false"),
        "{SCRIPT_USER} has a login shell: {shell}"
    );
    assert!(
        !Path::new(home).is_dir(),
        "{SCRIPT_USER} has a home directory: {home}"
    );
    let uid: u32 = uid.parse().unwrap();
    assert!(uid < 1000, "{SCRIPT_USER} is not a system user (uid {uid})");

    let md = fs::symlink_metadata(STATE_DIR)
        .unwrap_or_else(|e| panic!("postinst did not create {STATE_DIR}: {e}"));
    assert!(md.is_dir(), "{STATE_DIR} is not a directory");
    assert_eq!(md.uid(), uid, "{STATE_DIR} is not owned by {SCRIPT_USER}");
    assert_eq!(md.mode() & 0o7777, 0o755, "{STATE_DIR} mode");
    // The helpers, running as the script user, can write there.
    let probe = format!("{STATE_DIR}/.package-test-probe");
    run(Command::new("runuser").args(["-u", SCRIPT_USER, "--", "touch", &probe]));
    fs::remove_file(&probe).unwrap();
}

/// A non-loopback interface for the examples' `interface eth0` (keepalived refuses `lo` for
/// VRRP, and an interface that does not exist).
fn vrrp_interface() -> String {
    if Path::new("/sys/class/net/eth0").exists() {
        return "eth0".into();
    }
    let mut names: Vec<String> = fs::read_dir("/sys/class/net")
        .expect("read /sys/class/net")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names.into_iter().next().unwrap_or_else(|| {
        panic!(
            "keepalived --config-test needs a non-loopback network interface; this machine has none"
        )
    })
}

/// `keepalived --config-test -f CONFIG`: exit status and output. keepalived 2.2.7 sends SIGTERM
/// to its parent in config-test mode, so it runs under a shell that ignores SIGTERM.
fn keepalived_config_test(config: &Path) -> (Option<i32>, String) {
    let out = output(
        Command::new("sh")
            .arg("-c")
            .arg("trap '' TERM; \"$0\" --config-test -f \"$1\" 2>&1; status=$?; exit $status")
            .arg(program("keepalived"))
            .arg(config),
    );
    (
        out.status.code(),
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)),
    )
}

fn check_keepalived_accepts_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let interface = vrrp_interface();
    for node in ["keepalived-node-a.conf", "keepalived-node-b.conf"] {
        let text = fs::read_to_string(format!("{DOC}/examples/{node}")).unwrap();
        for b in ["check-mysql", "notify-master", "notify-backup"] {
            assert!(
                text.contains(&format!("\"{LIBEXEC}/{b}")),
                "{node} does not run the installed {b}"
            );
        }
        // Adapted to this machine: only the interface name (the binaries are where the
        // example says, since the package is installed).
        let adapted = text.replace("eth0", &interface);
        let config = dir.path().join(node);
        fs::write(&config, &adapted).unwrap();
        let (code, out) = keepalived_config_test(&config);
        assert!(
            code == Some(0) && out.trim().is_empty(),
            "keepalived --config-test -f {node} (interface {interface}): exit {code:?}\n{out}"
        );

        // The same check notices a script it cannot run, so the clean result above means
        // something: keepalived would count such a script as a success.
        let broken = adapted.replace(
            &format!("{LIBEXEC}/check-mysql"),
            &format!("{LIBEXEC}/no-such-check"),
        );
        fs::write(&config, broken).unwrap();
        let (code, out) = keepalived_config_test(&config);
        assert!(
            code != Some(0) && out.contains("chk_mysql"),
            "keepalived --config-test did not notice a missing check script: exit {code:?}\n{out}"
        );
    }
}

fn check_help_and_man_pages() {
    for b in BINARIES {
        let exe = format!("{LIBEXEC}/{b}");
        let help = stdout(&run(Command::new(&exe).arg("--help")));
        assert!(
            help.contains(&format!("Usage: {b}")) && help.contains("Exit codes:"),
            "{exe} --help:\n{help}"
        );
        let version = stdout(&run(Command::new(&exe).arg("--version")));
        assert_eq!(version.trim(), format!("{b} {VERSION}"), "{exe} --version");

        // man finds the page by name in section 8.
        let page = format!("/usr/share/man/man8/{b}.8.gz");
        let found = stdout(&run(Command::new("man").args(["-w", "8", b])));
        assert_eq!(found.trim(), page, "man -w 8 {b}");

        // It renders without warnings, with the sections build.rs adds.
        let out = run(Command::new("man")
            .args(["--warnings", "-l", &page])
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("MANPAGER")
            .env_remove("PAGER"));
        let text = stdout(&out);
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            warnings.trim().is_empty(),
            "man -l {page} warns:\n{warnings}"
        );
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == heading),
                "man -l {page}: no {heading} section:\n{text}"
            );
        }
        for code in ["64", "78"] {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(code)),
                "man -l {page}: EXIT STATUS lacks {code}:\n{text}"
            );
        }
        assert!(
            text.contains(LIBEXEC),
            "man -l {page}: no example with {LIBEXEC}"
        );

        // Every long option that --help shows is in the page (from the same definitions).
        let source = stdout(&run(Command::new("zcat").arg(&page)));
        for option in long_options(&help) {
            let escaped = option.replace('-', "\\-");
            assert!(
                source.contains(&escaped),
                "man page {page} lacks {option}, which {b} --help shows"
            );
        }
    }
}

/// The `--long` options in clap's help text.
fn long_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| {
            w.trim_end_matches(',')
                .split(['=', '<', '['])
                .next()
                .unwrap()
                .to_string()
        })
        .filter(|w| w.len() > 2)
        .collect()
}

fn check_bash_completion() {
    for b in BINARIES {
        let file = format!("/usr/share/bash-completion/completions/{b}");
        let out = run(Command::new("bash")
            .arg("-c")
            .arg("source \"$1\" && complete -p \"$2\"")
            .arg("bash")
            .arg(&file)
            .arg(b));
        assert!(
            stdout(&out).contains(b),
            "{file} registers no completion for {b}: {}",
            output_text(&out)
        );
    }
}

/// postinst on a machine without systemd-tmpfiles (a container, a host without systemd): it
/// still creates the state dir, owned by the script user, and succeeds.
fn check_postinst_without_systemd_tmpfiles(deb: &Path) {
    let control = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(deb)
        .arg(control.path()));
    let postinst = control.path().join("postinst");

    // A PATH with what postinst needs, and no systemd-tmpfiles.
    let bin = tempfile::tempdir().unwrap();
    for p in ["getent", "useradd", "install", "rm"] {
        std::os::unix::fs::symlink(program(p), bin.path().join(p)).unwrap();
    }
    fs::remove_dir_all(STATE_DIR).unwrap();
    run(Command::new("/bin/sh")
        .arg(&postinst)
        .arg("configure")
        .env_clear()
        .env("PATH", bin.path()));
    let md = fs::symlink_metadata(STATE_DIR).unwrap_or_else(|e| {
        panic!("postinst without systemd-tmpfiles did not create {STATE_DIR}: {e}")
    });
    let uid = users_uid(SCRIPT_USER);
    assert!(
        md.is_dir() && md.uid() == uid && md.mode() & 0o7777 == 0o755,
        "postinst without systemd-tmpfiles: {STATE_DIR} uid {} mode {:o}",
        md.uid(),
        md.mode() & 0o7777
    );
}

fn users_uid(user: &str) -> u32 {
    let entry = stdout(&run(Command::new("getent").args(["passwd", user])));
    entry.split(':').nth(2).unwrap().parse().unwrap()
}

/// dpkg's status of the package ("install ok installed", "unknown ok not-installed", ...), or
/// "" when dpkg has never heard of it.
fn dpkg_status() -> String {
    let out = output(Command::new("dpkg-query").args(["-W", "-f=${Status}", PACKAGE]));
    if out.status.success() {
        stdout(&out).trim().to_string()
    } else {
        String::new()
    }
}

fn check_purged() {
    let status = dpkg_status();
    assert!(
        status.is_empty() || status.ends_with(" not-installed"),
        "{PACKAGE} is still on this machine after dpkg --purge: {status}"
    );
    for (path, _) in expected_files("/usr/share/zsh/vendor-completions") {
        assert!(
            !Path::new(&path).exists(),
            "{path} is still there after dpkg --purge"
        );
    }
    assert!(
        !Path::new(LIBEXEC).exists(),
        "{LIBEXEC} is still there after dpkg --purge"
    );
    // The system user stays (Debian policy: its id could otherwise be reused for files it
    // still owns); users_uid fails if it is gone.
    users_uid(SCRIPT_USER);
}

// ---------------------------------------------------------------------------------------------
// The operator's path, against a real MariaDB server

/// A throwaway `mariadbd` on a unix socket (no TCP), configured with the installed dual-master
/// fragment. Dropping it kills the server.
struct Mariadb {
    dir: tempfile::TempDir,
    child: Child,
}

impl Mariadb {
    fn socket(&self) -> PathBuf {
        self.dir.path().join("mysqld.sock")
    }

    fn start() -> Mariadb {
        let dir = tempfile::Builder::new()
            .prefix("kam-pkg-")
            .tempdir()
            .unwrap();
        // The script user must reach the socket.
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let d = dir.path().display();
        // The example fragment as an operator installs it, then only what a throwaway server
        // on this machine needs: its own files, no TCP (the fragment listens on 0.0.0.0),
        // little memory.
        let cnf = format!(
            "!include {DOC}/examples/dual-master.cnf\n\
             [mariadb]\n\
             user=root\n\
             datadir={d}/data\n\
             tmpdir={d}\n\
             socket={d}/mysqld.sock\n\
             pid-file={d}/mysqld.pid\n\
             log-error={d}/error.log\n\
             skip_networking=ON\n\
             performance_schema=OFF\n\
             innodb_buffer_pool_size=32M\n\
             innodb_log_file_size=16M\n\
             innodb_use_native_aio=0\n"
        );
        let config = dir.path().join("server.cnf");
        fs::write(&config, cnf).unwrap();
        let defaults = format!("--defaults-file={}", config.display());
        run(Command::new(program("mariadb-install-db"))
            .arg(&defaults)
            .arg("--skip-test-db"));

        let mut cmd = Command::new(program("mariadbd"));
        cmd.arg(&defaults)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec. The
        // server dies with this test's thread even if the test process is killed.
        unsafe {
            cmd.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("spawn mariadbd");
        let mut server = Mariadb { dir, child };

        // A bound on waiting for the server, not an assertion on its speed.
        let start = Instant::now();
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!(
                    "mariadbd with the example dual-master.cnf exited during startup ({status}):\n{}",
                    server.error_log()
                );
            }
            if server.try_sql("SELECT 1").is_ok() {
                break;
            }
            assert!(
                start.elapsed() < Duration::from_secs(120),
                "mariadbd did not accept connections on its socket within 120 s:\n{}",
                server.error_log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn error_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("error.log")).unwrap_or_default()
    }

    /// `mariadb -uroot` on the socket (unix_socket authentication as root): tab-separated rows.
    fn try_sql(&self, sql: &str) -> Result<String, String> {
        let out = output(
            Command::new(program("mariadb"))
                .arg(format!("--socket={}", self.socket().display()))
                .args(["-uroot", "--batch", "--skip-column-names", "-e", sql]),
        );
        if out.status.success() {
            Ok(stdout(&out).trim_end().to_string())
        } else {
            Err(output_text(&out))
        }
    }

    #[track_caller]
    fn sql(&self, sql: &str) -> String {
        self.try_sql(sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}\nerror log:\n{}", self.error_log()))
    }
}

impl Drop for Mariadb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One helper run as keepalived would run it: as the script user, with the option file.
struct Run {
    code: Option<i32>,
    stdout: String,
    text: String,
}

fn as_script_user(binary: &str, option_file: &Path, state_dir: &Path, args: &[&str]) -> Run {
    let mut cmd = Command::new(program("runuser"));
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
    Run {
        code: out.status.code(),
        stdout: stdout(&out),
        text: format!("$ {}\n{}", describe(&cmd), output_text(&out)),
    }
}

/// The README's Install steps on this machine: the fragment starts the server fenced, the
/// grants file creates the accounts, the example option file (only its socket changed) lets
/// each helper, run as the script user, do its job with exactly those privileges.
fn operator_flow_against_mariadb() {
    let server = Mariadb::start();

    // The fragment, as the running server sees it: fenced at startup, no skipped errors.
    assert_eq!(
        server.sql(
            "SELECT @@read_only, @@log_slave_updates, @@gtid_strict_mode, @@binlog_format, \
             @@auto_increment_increment, @@auto_increment_offset, @@gtid_domain_id, \
             @@slave_skip_errors, @@server_id"
        ),
        "1\t1\t1\tROW\t2\t1\t0\tOFF\t1",
        "read_only, log_slave_updates, gtid_strict_mode, binlog_format, auto_increment_*, \
         gtid_domain_id, slave_skip_errors, server_id of a server started with dual-master.cnf"
    );

    // grants.sql as an operator runs it.
    let grants = fs::File::open(format!("{DOC}/examples/grants.sql")).unwrap();
    let out = Command::new(program("mariadb"))
        .arg(format!("--socket={}", server.socket().display()))
        .arg("-uroot")
        .stdin(grants)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "mariadb < grants.sql\n{}",
        output_text(&out)
    );
    for (account, privileges) in [
        ("'keepalived_check'@'localhost'", "SLAVE MONITOR"),
        ("'keepalived_check'@'192.0.2.11'", "USAGE"),
        (
            "'keepalived_failover'@'localhost'",
            "READ_ONLY ADMIN, SLAVE MONITOR",
        ),
        ("'repl'@'192.0.2.12'", "REPLICATION SLAVE"),
    ] {
        let shown = server.sql(&format!("SHOW GRANTS FOR {account}"));
        assert!(
            shown.lines().count() == 1
                && shown.starts_with(&format!("GRANT {privileges} ON *.* TO ")),
            "{account} must have exactly {privileges}: {shown}"
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

    let read_only = || server.sql("SELECT @@read_only");
    let role = || fs::read_to_string(state.join("role")).unwrap_or_default();
    let expect = |r: &Run, code: i32, start: &str| {
        assert!(
            r.code == Some(code) && r.stdout.starts_with(start),
            "expected exit {code} and a line starting {start:?}\n{}",
            r.text
        );
    };

    // A started node is a standby with no replication yet: not eligible (and the check could
    // log in and read replication status, or it would say `down`).
    let r = as_script_user("check-mysql", &option_file, &state, &[]);
    expect(&r, 2, "FAIL standby replication");
    // As a writer it would be read-only: the fragment fenced it.
    let r = as_script_user("check-mysql", &option_file, &state, &["--role", "writer"]);
    expect(&r, 5, "FAIL writer read-only");

    // keepalived makes it MASTER: notify-master unfences it (READ_ONLY ADMIN suffices).
    let r = as_script_user(
        "notify-master",
        &option_file,
        &state,
        &["INSTANCE", "VI_MYSQL", "MASTER", "100"],
    );
    expect(&r, 0, "OK writer");
    assert_eq!(
        read_only(),
        "0",
        "notify-master did not set read_only=OFF\n{}",
        r.text
    );
    assert!(
        role().contains("role=writer"),
        "role file after notify-master: {}",
        role()
    );
    let r = as_script_user("check-mysql", &option_file, &state, &[]);
    expect(&r, 0, "OK writer");

    // BACKUP/FAULT/STOP: notify-backup fences it again.
    let r = as_script_user(
        "notify-backup",
        &option_file,
        &state,
        &["INSTANCE", "VI_MYSQL", "BACKUP", "100"],
    );
    expect(&r, 0, "OK standby");
    assert_eq!(
        read_only(),
        "1",
        "notify-backup did not set read_only=ON\n{}",
        r.text
    );
    assert!(
        role().contains("role=standby"),
        "role file after notify-backup: {}",
        role()
    );

    // --explain points at the runbook where the package installed it.
    let r = as_script_user("check-mysql", &option_file, &state, &["--explain"]);
    expect(&r, 2, "FAIL standby replication");
    assert!(
        r.stdout
            .contains(&format!("{DOC}/runbook.md#no-replication")),
        "--explain does not name the installed runbook\n{}",
        r.text
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
        r.text
    );
}
