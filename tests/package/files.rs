//! The .deb on this machine: installing it (one test at a time), the files and the system user
//! it leaves, its postinst without systemd-tmpfiles, and what `dpkg --purge` leaves.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use crate::common::programs::program;
use crate::packages::expected_files;
use crate::{
    BINARIES, DOC, LIBEXEC, PACKAGE, SCRIPT_USER, SOURCE, STATE_DIR, VERSION, WATCH_UNIT, output,
    output_text, run, stdout,
};

/// The .deb is installed system-wide: one test at a time installs it.
static SERIAL: Mutex<()> = Mutex::new(());

/// Installs the .deb; dropping it purges the package (also when the test panics) and puts back
/// a state dir that existed before. Only one exists at a time (it holds [`SERIAL`] until the
/// purge is done).
pub struct Installed {
    state_dir_before: Option<fs::Metadata>,
    serial: Option<MutexGuard<'static, ()>>,
}

impl Installed {
    pub fn install(deb: &Path) -> Installed {
        let serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let status = dpkg_status();
        assert!(
            status.is_empty() || status.ends_with(" not-installed"),
            "{PACKAGE} is on this machine already ({status}); this test installs and purges its \
             own build: run `dpkg --purge {PACKAGE}` first"
        );
        let state_dir_before = fs::symlink_metadata(STATE_DIR).ok();
        let guard = Installed {
            state_dir_before,
            serial: Some(serial),
        };
        run(Command::new("dpkg").arg("-i").arg(deb));
        guard
    }

    /// Purges the package now; no other test installs it until the returned guard is dropped
    /// (so that what the purge left can be checked).
    pub fn purge(mut self) -> MutexGuard<'static, ()> {
        let serial = self.serial.take().expect("the install lock");
        drop(self);
        serial
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

pub fn check_deb_control(deb: &Path) {
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
pub fn check_installed_files() {
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
pub fn check_script_user_and_state_dir() {
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

/// The watcher's unit is installed as it is in `packaging/`, root-owned 0644, and disabled:
/// nothing links it into a `.wants` directory, `systemctl is-enabled` says `disabled`, and
/// `systemd-analyze verify` accepts it as installed (its ExecStart= and man page are there).
pub fn check_watch_unit_installed_disabled() {
    let md = fs::symlink_metadata(WATCH_UNIT)
        .unwrap_or_else(|e| panic!("the package did not install {WATCH_UNIT}: {e}"));
    assert!(md.is_file(), "{WATCH_UNIT} is not a regular file");
    assert_eq!(
        (md.uid(), md.gid(), md.mode() & 0o7777),
        (0, 0, 0o644),
        "{WATCH_UNIT}: uid, gid, mode"
    );
    let source = format!("{SOURCE}/packaging/keepalived-mysql-watch.service");
    assert_eq!(
        fs::read_to_string(WATCH_UNIT).unwrap(),
        fs::read_to_string(&source).unwrap(),
        "{WATCH_UNIT} differs from {source}"
    );

    let name = Path::new(WATCH_UNIT).file_name().unwrap();
    let mut links = Vec::new();
    for root in ["/etc/systemd/system", "/usr/lib/systemd/system"] {
        links_to(Path::new(root), name, &mut links);
    }
    assert!(
        links.is_empty(),
        "the package enabled {WATCH_UNIT} (it must be installed disabled): {links:?}"
    );
    let name = name.to_str().unwrap();
    let out = output(Command::new("systemctl").args(["is-enabled", name]));
    assert_eq!(
        stdout(&out).trim(),
        "disabled",
        "systemctl is-enabled {name}\n{}",
        output_text(&out)
    );

    // As installed: the real ExecStart= and `man check-mysql` (Documentation=).
    let out = output(Command::new("systemd-analyze").args(["verify", WATCH_UNIT]));
    let said = format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && !said.contains(name),
        "systemd-analyze verify {WATCH_UNIT}\n{}",
        output_text(&out)
    );
}

/// Every symlink under `dir` (recursively, not following links) named `name` or pointing at
/// a file named `name`.
fn links_to(dir: &Path, name: &std::ffi::OsStr, found: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let Ok(md) = fs::symlink_metadata(&path) else {
            continue;
        };
        if md.file_type().is_symlink() {
            let target = fs::read_link(&path).unwrap_or_default();
            if path.file_name() == Some(name) || target.file_name() == Some(name) {
                found.push(path);
            }
        } else if md.is_dir() {
            links_to(&path, name, found);
        }
    }
}

/// postinst on a machine without systemd-tmpfiles (a container, a host without systemd): it
/// still creates the state dir, owned by the script user, and succeeds.
pub fn check_postinst_without_systemd_tmpfiles(deb: &Path) {
    let control = tempfile::tempdir().unwrap();
    run(Command::new("dpkg-deb")
        .arg("--control")
        .arg(deb)
        .arg(control.path()));
    let postinst = control.path().join("postinst");

    // A PATH with what postinst needs, and no systemd-tmpfiles.
    let bin = tempfile::tempdir().unwrap();
    for p in ["getent", "useradd", "install", "rm"] {
        std::os::unix::fs::symlink(program(p, "a Debian system"), bin.path().join(p)).unwrap();
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

pub fn users_uid(user: &str) -> u32 {
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

pub fn check_purged() {
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
