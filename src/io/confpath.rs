//! Configuration paths fail loudly (issue 9): the option file and its `!include`s, the state
//! dir and the role file in it.
//!
//! Only "does not exist" (ENOENT) may be taken as "absent". Every other failure — permission
//! denied on the path or on a directory above it, a file where a directory is expected, a
//! symlink loop, an I/O error — is a configuration error (exit 78) that names the path and
//! the cause. `Path::exists` and `Path::is_dir` must not be used for these paths: they answer
//! `false` on EACCES, so an option file behind a directory the script user cannot search was
//! taken as absent and the check logged in with no user.

use std::fmt;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Is `error` (from using `path`) "nothing there"? ENOENT, except when `path` itself is a
/// symlink: a dangling symlink was put there by someone, so it is a mistake, not an absence.
pub fn is_absent(path: &Path, error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::NotFound
        && std::fs::symlink_metadata(path).is_err_and(|e| e.kind() == io::ErrorKind::NotFound)
}

/// What is at `path`, following symlinks. `Ok(None)` when nothing is ([`is_absent`]); any
/// other failure is an error that says why.
pub fn probe(path: &Path) -> Result<Option<Metadata>, PathCause> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(Some(m)),
        Err(e) if is_absent(path, &e) => Ok(None),
        Err(e) => Err(PathCause::new(path, e)),
    }
}

/// Why a configuration path could not be used: the OS error, and what causes it when that
/// can be found (the directory above the path that this user cannot search, the owner and
/// mode of the path, the component that is a file, the symlink that loops or dangles).
///
/// Displays as one line, the error text without its errno, then the detail in parentheses:
/// `permission denied (directory /etc/keepalived is not searchable by uid 65534)`.
#[derive(Debug)]
pub struct PathCause {
    pub error: io::Error,
    pub detail: Option<String>,
}

impl PathCause {
    /// Explain `error`, which this process got from using `path`. Looks at the path and the
    /// directories above it (`lstat`/`stat` only; nothing is opened).
    pub fn new(path: &Path, error: io::Error) -> PathCause {
        let detail = explain(path, &error);
        PathCause { error, detail }
    }
}

impl From<io::Error> for PathCause {
    /// The error alone, with no detail (for errors that are not about a path).
    fn from(error: io::Error) -> PathCause {
        PathCause {
            error,
            detail: None,
        }
    }
}

impl fmt::Display for PathCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&error_text(&self.error))?;
        if let Some(d) = &self.detail {
            write!(f, " ({d})")?;
        }
        Ok(())
    }
}

impl std::error::Error for PathCause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// `Permission denied (os error 13)` → `permission denied`: the detail that follows says
/// more than the number.
fn error_text(e: &io::Error) -> String {
    let full = e.to_string();
    let text = match e.raw_os_error() {
        Some(n) => full
            .strip_suffix(&format!(" (os error {n})"))
            .unwrap_or(&full),
        None => &full,
    };
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The effective uid, which the kernel checks permissions against.
fn euid() -> u32 {
    crate::io::sys::geteuid()
}

/// `path` and the paths above it, outermost first (`/etc`, `/etc/keepalived`, ...); the
/// root and the empty prefix of a relative path are left out.
fn prefixes(path: &Path) -> Vec<&Path> {
    let mut all: Vec<&Path> = path
        .ancestors()
        .filter(|p| !p.as_os_str().is_empty() && p.parent().is_some())
        .collect();
    all.reverse();
    all
}

/// The directory `p` is in, as a person would name it.
fn parent_name(p: &Path) -> String {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.display().to_string(),
        _ => ".".into(),
    }
}

fn explain(path: &Path, error: &io::Error) -> Option<String> {
    match error.raw_os_error()? {
        libc::EACCES | libc::EPERM => Some(explain_denied(path)),
        libc::ENOTDIR => prefixes(path).into_iter().find_map(|p| {
            let m = std::fs::metadata(p).ok()?;
            (!m.is_dir()).then(|| {
                let what = if m.is_file() {
                    "a file"
                } else {
                    "not a directory"
                };
                format!("{} is {what}", p.display())
            })
        }),
        libc::ELOOP => prefixes(path).into_iter().find_map(|p| {
            let e = std::fs::metadata(p).err()?;
            (e.raw_os_error() == Some(libc::ELOOP))
                .then(|| format!("{} is a symlink loop", p.display()))
        }),
        libc::ENOENT => {
            let target = std::fs::read_link(path).ok()?;
            Some(format!(
                "{} is a symlink to {}, which does not exist",
                path.display(),
                target.display()
            ))
        }
        _ => None,
    }
}

/// Permission denied: the first directory on the way that cannot be searched (looking up a
/// name in it fails with EACCES), else the owner and mode of the deepest path that exists,
/// which is what the kernel refused.
fn explain_denied(path: &Path) -> String {
    let uid = euid();
    let mut deepest = None;
    for p in prefixes(path) {
        match std::fs::symlink_metadata(p) {
            Ok(_) => deepest = Some(p),
            Err(e) if e.raw_os_error() == Some(libc::EACCES) => {
                return format!(
                    "directory {} is not searchable by uid {uid}",
                    parent_name(p)
                );
            }
            Err(_) => break,
        }
    }
    let deepest = deepest.unwrap_or(path);
    match std::fs::metadata(deepest) {
        Ok(m) => format!(
            "{} has mode {:04o} and owner uid {}; this runs as uid {uid}",
            deepest.display(),
            m.mode() & 0o7777,
            m.uid()
        ),
        Err(_) => format!("this runs as uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{PermissionsExt, symlink};

    #[test]
    fn missing_is_absent_and_nothing_else_is() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Missing file, missing directory above it: absent.
        assert!(probe(&d.join("nope.cnf")).unwrap().is_none());
        assert!(probe(&d.join("nodir/nope.cnf")).unwrap().is_none());
        // Present.
        std::fs::write(d.join("f"), "").unwrap();
        assert!(probe(&d.join("f")).unwrap().unwrap().is_file());
    }

    #[test]
    fn a_file_where_a_directory_is_expected_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("keepalived");
        std::fs::write(&file, "").unwrap();
        let e = probe(&file.join("mysql-helpers.cnf")).unwrap_err();
        assert_eq!(e.error.raw_os_error(), Some(libc::ENOTDIR));
        assert_eq!(
            e.to_string(),
            format!("not a directory ({} is a file)", file.display())
        );
    }

    #[test]
    fn a_symlink_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        symlink(&b, &a).unwrap();
        symlink(&a, &b).unwrap();
        let e = probe(&a).unwrap_err();
        assert_eq!(e.error.raw_os_error(), Some(libc::ELOOP));
        assert_eq!(
            e.to_string(),
            format!(
                "too many levels of symbolic links ({} is a symlink loop)",
                a.display()
            )
        );
        // Also as a directory above the path.
        let e = probe(&a.join("x.cnf")).unwrap_err();
        assert!(e.to_string().contains("a is a symlink loop"), "{e}");
    }

    #[test]
    fn a_dangling_symlink_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("helpers.cnf");
        symlink("/nonexistent/helpers.cnf", &link).unwrap();
        let e = probe(&link).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "no such file or directory ({} is a symlink to /nonexistent/helpers.cnf, \
                 which does not exist)",
                link.display()
            )
        );
    }

    #[test]
    fn permission_denied_names_what_denies() {
        // The explanation only reads metadata, so it can be checked as root too; whether the
        // kernel denies is checked without root in tests/it/config_paths.rs.
        let dir = tempfile::tempdir().unwrap();
        let locked = dir.path().join("keepalived");
        std::fs::create_dir(&locked).unwrap();
        std::fs::write(locked.join("mysql-helpers.cnf"), "").unwrap();
        std::fs::set_permissions(
            locked.join("mysql-helpers.cnf"),
            std::fs::Permissions::from_mode(0o600),
        )
        .unwrap();
        let denied = PathCause::new(
            &locked.join("mysql-helpers.cnf"),
            io::Error::from_raw_os_error(libc::EACCES),
        );
        let msg = denied.to_string();
        assert!(msg.starts_with("permission denied ("), "{msg}");
        assert!(msg.contains("has mode 0600 and owner uid"), "{msg}");
        assert!(
            msg.contains(&format!("this runs as uid {}", euid())),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }

    #[test]
    fn errors_without_a_path_detail() {
        let e = PathCause::from(io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(e.to_string(), "input/output error");
        let e = PathCause::new(Path::new("/x"), io::Error::other("odd"));
        assert_eq!(e.to_string(), "odd");
    }

    #[test]
    fn prefixes_outermost_first() {
        assert_eq!(
            prefixes(Path::new("/etc/keepalived/x.cnf")),
            vec![
                Path::new("/etc"),
                Path::new("/etc/keepalived"),
                Path::new("/etc/keepalived/x.cnf")
            ]
        );
        assert_eq!(
            prefixes(Path::new("a/b")),
            vec![Path::new("a"), Path::new("a/b")]
        );
        assert_eq!(parent_name(Path::new("a")), ".");
    }
}

/// Open a configuration or state file for reading without ever blocking: a FIFO (or a
/// socket) where a file is expected would otherwise hang the run before its deadline starts,
/// so it is refused as "not a regular file". Directories and devices are left to the caller.
pub fn open_for_reading(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_fifo() || kind.is_socket() {
        return Err(io::Error::other(format!(
            "{} is a {} where a file is expected",
            path.display(),
            if kind.is_fifo() { "FIFO" } else { "socket" }
        )));
    }
    Ok(file)
}

/// The whole file as text, opened with [`open_for_reading`].
pub fn read_to_string(path: &Path) -> io::Result<String> {
    use std::io::Read;
    let mut text = String::new();
    open_for_reading(path)?.read_to_string(&mut text)?;
    Ok(text)
}

#[cfg(test)]
mod fifo_tests {
    use super::*;

    /// A FIFO where a file is expected is an error at once, never a read that waits for a
    /// writer.
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("role");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success(), "mkfifo (coreutils) is needed");
        let err = read_to_string(&fifo).unwrap_err().to_string();
        assert!(err.contains("FIFO"), "{err}");
        let file = dir.path().join("plain");
        std::fs::write(&file, "role=writer\n").unwrap();
        assert_eq!(read_to_string(&file).unwrap(), "role=writer\n");
    }
}
