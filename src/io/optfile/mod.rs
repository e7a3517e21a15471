//! MySQL option-file reader (`my.cnf` syntax), agreeing with MariaDB's `my_print_defaults`.
//!
//! [`read`] reproduces what MariaDB 10.11's option-file loader (`mysys/my_default.c`) does
//! for `my_print_defaults --defaults-file=F group...`, byte for byte, including its odd
//! corners. A differential test (`tests/optfile_oracle.rs`) checks this against the real tool.
//! What MariaDB does, and so what this module does:
//!
//! * **Lines.** The file is read the way `fgets` with a 4095-byte buffer reads it: a line
//!   longer than 4094 bytes is split into several "lines", each parsed on its own. Anything
//!   after a NUL byte on a line is ignored. Line numbers in errors count these pieces.
//!   Leading whitespace is skipped; empty lines and lines starting with `#` or `;` are
//!   comments. Whitespace is the Latin-1 set: space, `\t`, `\n`, `\v`, `\f`, `\r` and 0xA0,
//!   so CRLF line ends are fine.
//! * **Groups.** `[name]`: the name runs to the first `]` (anything after it is ignored),
//!   trailing whitespace is trimmed, leading whitespace is *kept* (so `[ client]` is a group
//!   named " client" that matches nothing). Groups are matched ASCII/Latin-1
//!   case-insensitively (`[CLIENT]` is `client`); `-` and `_` are *not* equivalent in group
//!   names (`[check_mysql]` is not `check-mysql`). A line with `[` but no `]` is an error.
//! * **Options.** An option before the first group header of *its own file* is an error.
//!   A `#` outside quotes starts a comment anywhere on an option line (`a=x#y` is `a=x`),
//!   quotes being tracked from the start of the line, key included; `;` only starts a
//!   comment at the beginning of a line. `key` alone is printed `--key`; `key = value` has
//!   whitespace around the key and the value trimmed. Keys are printed exactly as written:
//!   `-` and `_` are kept, `loose-` prefixes are kept, spaces inside keys are kept. A value
//!   whose first and last characters are the same quote (and that is at least 2 long) loses
//!   them; then `\n \t \r \b \s \" \' \\` are unescaped anywhere in the value (quoted or
//!   not), an unknown escape keeps its backslash (`\q` stays `\q`), and a backslash as the
//!   last character stays. `=value` with no key gives an empty key (`--=value`), and if
//!   whitespace precedes that `=` MariaDB's key trimming walks back past the start of the
//!   key and the "key" becomes the rest of the line (` =v` prints `--=v\n=v`); this is
//!   mirrored too.
//! * **Directives.** `!include PATH` and `!includedir DIR` (lower case, then whitespace;
//!   any other `!` line is ignored). The argument is everything up to the end of the line,
//!   comments included (`!include a.cnf # x` names the file "a.cnf # x"), except that
//!   MariaDB always drops the last character of the line assuming it is the newline, so
//!   `!include a.cnf` as the last line of a file without a final newline names "a.cn". An
//!   empty argument is an error. Relative paths are relative to the current directory,
//!   not to the including file; `!include ~/x` and `~user/x` are expanded. A missing (or,
//!   in MariaDB, unreadable) `!include` file is silently skipped. `!includedir` reads the
//!   files of DIR whose names end in exactly `.cnf` (hidden ones too, no recursion), sorted
//!   bytewise; an unreadable or missing DIR is an error. An included file keeps the including file's
//!   current group unchanged afterwards, and needs its own group header. Includes nest at
//!   most 10 deep (deeper `!` lines are skipped, so a self-include repeats the file 11 times).
//! * **Errors inside included files do not fail the read**: MariaDB stops reading that
//!   file (keeping what it already read from it) and carries on with the including file.
//!   Only errors in the top-level file are errors. A directory given as the top-level file
//!   (or included, in MariaDB) reads as empty; a missing or unreadable top-level file is an
//!   error.
//!
//! Where this module deliberately differs from MariaDB (all in the safe direction):
//!
//! * **Passwords need a private file.** A file that is read (top-level or included) and
//!   holds a password option — in *any* group, selected or not, and wherever it sits in
//!   the file — is refused with [`OptionFileError::Unsafe`] if its mode has any group or
//!   other bit set (`mode & 0o077 != 0`). MariaDB's own tools only *warn* about (and skip)
//!   world-writable files; our contract (docs/contract.md "Credentials and configuration") requires refusing password files others can read.
//!   Checking every group rather than only the selected ones is deliberate: the secret is
//!   exposed on disk no matter which program it is meant for. "A password option" is a
//!   key with a value (`password=...`, even empty; bare `password` means "prompt" and holds
//!   no secret), compared case-insensitively with `-`/`_` equivalent and a `loose-` prefix
//!   ignored, that is `password`, starts with `password`, or is an abbreviation of it of at
//!   least 3 characters (`pass=`): MariaDB's option parser accepts unambiguous prefixes.
//! * **Included paths that exist but cannot be read fail the read**
//!   ([`OptionFileError::Include`], [`OptionFileError::IncludeDir`]): permission denied on
//!   the file or on a directory above it, a symlink loop or a dangling symlink, a file
//!   where a directory should be (`!include a.cnf/b.cnf`), an I/O error, and for
//!   `!include` a directory. MariaDB skips such an `!include` file silently
//!   (and an unreadable `!includedir` inside an included file only stops that file), so a
//!   check would run without the settings in it, for instance log in with no user and
//!   report the server down with a misleading error (issue 9). Only a path that does not
//!   exist (ENOENT) keeps MariaDB's behaviour: a missing `!include` file is skipped, a
//!   missing `!includedir` directory is a syntax-class error. An `!includedir` entry that
//!   is a directory (`x.cnf/`) still reads as empty, as in MariaDB: nobody named it.
//! * **World-writable files are refused** ([`OptionFileError::WorldWritable`]) instead of
//!   being skipped with a warning, so a check never silently runs with half its settings.
//! * Values or keys that are not UTF-8 in a selected group are an error (MariaDB passes
//!   the bytes through; a silently mangled password would be worse).
//! * Limits against pathological input: a file over 64 MiB or more than 10 000 file
//!   openings in one read are errors (MariaDB would hang or exhaust memory).
//! * `..` in an `!include` path is resolved by the kernel, not lexically as MariaDB does
//!   (differs only when a symlinked directory precedes the `..`).

mod include;
mod parse;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use crate::io::confpath::PathCause;
use include::Reader;

/// One option as read, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionEntry {
    /// The requested group (as passed to [`read`]) that the option's `[group]` matched.
    pub group: String,
    /// The key exactly as MariaDB passes it on (without the leading `--`).
    pub key: String,
    /// `None` for a bare option (`skip-ssl`), `Some` (possibly empty) for `key=value`.
    pub value: Option<String>,
    /// The file the option was read from (the path as given or as named by the include).
    pub source: PathBuf,
}

/// Why an option file could not be used. Every message is one line and names the file.
#[derive(Debug, thiserror::Error)]
pub enum OptionFileError {
    /// The top-level option file is missing or unreadable (or a read failed).
    #[error("cannot read option file {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// A file named by `!include`, or found through `!includedir`, exists but cannot be read
    /// (permission denied, a symlink loop or a dangling symlink, a file where a directory
    /// should be, an I/O error; for `!include`, a directory). MariaDB skips it silently; we
    /// fail the whole read.
    #[error("option file {}, line {line}: cannot read included file {}: {cause}", path.display(), target.display())]
    Include {
        path: PathBuf,
        line: u32,
        target: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// A line MariaDB also rejects (in the top-level file), or a non-UTF-8 key/value.
    #[error("option file {}, line {line}: {message}", path.display())]
    Syntax {
        path: PathBuf,
        line: u32,
        message: String,
    },
    /// `!includedir DIR` names a directory that is missing or cannot be read.
    #[error("option file {}, line {line}: cannot read !includedir directory {}: {cause}", path.display(), dir.display())]
    IncludeDir {
        path: PathBuf,
        line: u32,
        dir: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// The file holds a password and group or others have access to it.
    #[error("{}", unsafe_message(path, *mode))]
    Unsafe { path: PathBuf, mode: u32 },
    /// The file is writable by anyone.
    #[error(
        "option file {} is writable by everyone (mode {:04o}), so anyone could change the settings: run chmod o-w {}",
        path.display(), mode & 0o7777, shell_quote(path)
    )]
    WorldWritable { path: PathBuf, mode: u32 },
    /// Pathological input: a huge file or an include explosion.
    #[error("option file {}: {message}", path.display())]
    Limit { path: PathBuf, message: String },
}

fn unsafe_message(path: &Path, mode: u32) -> String {
    let how = if mode & 0o044 != 0 {
        "readable by group or others"
    } else {
        "accessible to group or others"
    };
    format!(
        "option file {} holds a password and is {how} (mode {:04o}): run chmod 600 {}",
        path.display(),
        mode & 0o7777,
        shell_quote(path)
    )
}

/// Quote a path for the "run chmod ..." hint when it holds shell-special characters.
fn shell_quote(path: &Path) -> String {
    let s = path.to_string_lossy();
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-+,:@%=".contains(&b));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
/// Read `path` (following `!include` / `!includedir`), keeping only entries whose group is
/// in `groups` (case-insensitive, as MariaDB compares them), in the order
/// `my_print_defaults` prints them. See the module documentation for the exact syntax and
/// for the permission rule: any file read (top-level or included) that holds a password
/// option in any group and has `mode & 0o077 != 0` is refused with
/// [`OptionFileError::Unsafe`]; a world-writable file is refused with
/// [`OptionFileError::WorldWritable`].
pub fn read(path: &Path, groups: &[&str]) -> Result<Vec<OptionEntry>, OptionFileError> {
    Reader::new(groups).read(path)
}

/// Render entries the way `my_print_defaults` prints them: `--key=value` or `--key`, one
/// per line, each line ending in `\n`.
pub fn render_like_my_print_defaults(entries: &[OptionEntry]) -> String {
    let mut s = String::new();
    for e in entries {
        s.push_str("--");
        s.push_str(&e.key);
        if let Some(v) = &e.value {
            s.push('=');
            s.push_str(v);
        }
        s.push('\n');
    }
    s
}

/// Convenience: the value of the last entry whose key is `key`, comparing keys the way
/// MariaDB's option parser does: `-` and `_` are the same character, case matters, and a
/// `loose-`/`loose_` prefix on either side is ignored. Returns `None` when no entry has
/// that key or when the last one is bare (`password` with no `=`). Abbreviations and
/// `skip-`/`enable-`/`disable-` prefixes are not interpreted.
pub fn last_value<'a>(entries: &'a [OptionEntry], key: &str) -> Option<&'a str> {
    let want = strip_loose(key.as_bytes());
    entries
        .iter()
        .rev()
        .find(|e| same_option_name(strip_loose(e.key.as_bytes()), want))
        .and_then(|e| e.value.as_deref())
}

pub(super) fn strip_loose(k: &[u8]) -> &[u8] {
    match k {
        [b'l', b'o', b'o', b's', b'e', b'-' | b'_', rest @ ..] => rest,
        _ => k,
    }
}

fn same_option_name(a: &[u8], b: &[u8]) -> bool {
    let norm = |c: u8| if c == b'_' { b'-' } else { c };
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| norm(x) == norm(y))
}
