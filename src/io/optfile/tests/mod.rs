//! Unit tests of the option-file reader; `tests/optfile_oracle.rs` compares it with
//! MariaDB's own `my_print_defaults`.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::*;

mod files;
mod syntax;

const GROUPS: &[&str] = &["client", "check-mysql"];

fn write(dir: &Path, name: &str, text: &[u8], mode: u32) -> PathBuf {
    let p = dir.join(name);
    fs::write(&p, text).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(mode)).unwrap();
    p
}

/// Read `text` as a 0600 file and render it.
fn render(text: &str) -> Result<String, OptionFileError> {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "my.cnf", text.as_bytes(), 0o600);
    read(&p, GROUPS).map(|e| render_like_my_print_defaults(&e))
}

fn ok(text: &str) -> String {
    render(text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}
