//! Building the packages (once per test process) and what they must hold.

use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::programs::find_program;
use crate::{
    BINARIES, DOC, EXAMPLES, LIBEXEC, SOURCE, WATCH_UNIT, describe, output, output_text, run,
    stdout,
};

pub struct Packages {
    pub deb: PathBuf,
    pub rpm: PathBuf,
}

/// Builds the .deb (`cargo deb`, which builds the release binaries and runs build.rs) and then
/// the .rpm from the same build (`cargo generate-rpm`), once for all tests of this crate.
pub fn packages() -> &'static Packages {
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

/// Every regular file the packages install, with its mode. `zsh` is the zsh completion dir,
/// which differs between Debian and Fedora/RHEL.
pub fn expected_files(zsh: &str) -> Vec<(String, u32)> {
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
    files.push((WATCH_UNIT.into(), 0o644));
    files.sort();
    files
}

/// `rpm -qlvp`, `-qlp`, `--requires`, `--scripts`: the files, their owner and modes, the
/// dependencies, and the scriptlets that create the script user and remove the state dir.
pub fn check_rpm(rpm: &Path) {
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
