//! Finding the programs the tests run, and failing (never skipping) with what to install when
//! one is missing or root is needed.
//!
//! One search order for every test crate: `PATH`, then the usual system directories (a test
//! may run with a reduced `PATH`, e.g. under `sudo`), then cargo's own `bin` directory (where
//! `cargo install` puts cargo-deb and cargo-generate-rpm).

use std::path::PathBuf;

/// The system directories searched after `PATH`.
const SYSTEM_DIRS: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// `$CARGO_HOME/bin`, or `~/.cargo/bin`.
fn cargo_bin_dir() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .map(|h| h.join("bin"))
}

/// Every directory searched, in order.
pub fn search_path() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(SYSTEM_DIRS.iter().map(PathBuf::from))
        .chain(cargo_bin_dir())
        .collect()
}

/// `name` in the first directory of [`search_path`] that has it as a file.
pub fn find_program(name: &str) -> Option<PathBuf> {
    search_path()
        .into_iter()
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `name`'s path, or a test failure that says what to install (`install`, e.g.
/// `apt-get install keepalived`).
#[track_caller]
pub fn program(name: &str, install: &str) -> PathBuf {
    find_program(name).unwrap_or_else(|| {
        panic!(
            "`{name}` not found (PATH, {}, cargo's bin directory): these tests need it: {install}",
            SYSTEM_DIRS.join(", ")
        )
    })
}

/// A program the tests need, and how to get it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    pub program: &'static str,
    pub install: &'static str,
}

pub const fn tool(program: &'static str, install: &'static str) -> Tool {
    Tool { program, install }
}

/// Whether this process runs as root.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Fails the test unless it runs as root; `why` says what needs root and how to run it.
#[track_caller]
pub fn require_root(why: &str) {
    assert!(is_root(), "{why}");
}

/// Fails (never skips) when `root` names a reason for root and this is not root, or when a
/// program of `tools` is missing: one message naming everything missing and what to install.
/// `who` names the tests (`the packaging tests`).
#[track_caller]
pub fn require(who: &str, root: Option<&str>, tools: &[Tool]) {
    let mut missing = Vec::new();
    if let Some(why) = root
        && !is_root()
    {
        missing.push(format!("root ({why})"));
    }
    for t in tools {
        if find_program(t.program).is_none() {
            missing.push(format!("{} ({})", t.program, t.install));
        }
    }
    assert!(missing.is_empty(), "{who} need: {}", missing.join("; "));
}
