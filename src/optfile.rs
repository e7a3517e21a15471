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

use std::ffi::OsString;
use std::fs::File;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::io::confpath::{PathCause, is_absent};
use crate::io::sys;

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

/// `fgets(buff, 4095, fp)` reads at most 4094 bytes per call.
const FGETS_MAX: usize = 4094;
/// Includes deeper than this are skipped (MariaDB's `max_recursion_level`).
const MAX_RECURSION: u32 = 10;
/// MariaDB ignores option-file paths this long or longer (`FN_REFLEN - 3`).
const MAX_PATH_LEN: usize = 512 - 3;
/// Our own guard against reading /dev/zero or similar.
const MAX_FILE_SIZE: u64 = 64 << 20;
/// Our own guard against include explosions (n self-includes per file give n^10 reads).
const MAX_FILES_OPENED: u32 = 10_000;

/// Read `path` (following `!include` / `!includedir`), keeping only entries whose group is
/// in `groups` (case-insensitive, as MariaDB compares them), in the order
/// `my_print_defaults` prints them. See the module documentation for the exact syntax and
/// for the permission rule: any file read (top-level or included) that holds a password
/// option in any group and has `mode & 0o077 != 0` is refused with
/// [`OptionFileError::Unsafe`]; a world-writable file is refused with
/// [`OptionFileError::WorldWritable`].
pub fn read(path: &Path, groups: &[&str]) -> Result<Vec<OptionEntry>, OptionFileError> {
    let mut reader = Reader {
        groups,
        out: Vec::new(),
        files_opened: 0,
    };
    match reader.file(path, 0, Origin::Top) {
        Ok(()) => Ok(reader.out),
        Err(Abort::Hard(e) | Abort::Soft(e)) => Err(e),
    }
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

fn strip_loose(k: &[u8]) -> &[u8] {
    match k {
        [b'l', b'o', b'o', b's', b'e', b'-' | b'_', rest @ ..] => rest,
        _ => k,
    }
}

fn same_option_name(a: &[u8], b: &[u8]) -> bool {
    let norm = |c: u8| if c == b'_' { b'-' } else { c };
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| norm(x) == norm(y))
}

/// MariaDB's `my_isspace(&my_charset_latin1, c)`.
fn is_space(c: u8) -> bool {
    matches!(c, 0x09..=0x0d | b' ' | 0xa0)
}

/// MariaDB's `my_toupper(&my_charset_latin1, c)`.
fn latin1_upper(c: u8) -> u8 {
    match c {
        b'a'..=b'z' => c - 0x20,
        0xe0..=0xfe if c != 0xf7 => c - 0x20,
        _ => c,
    }
}

/// `find_type(group, groups, FIND_TYPE_NO_PREFIX)`: whole-name, case-insensitive match;
/// trailing spaces in the file's name are ignored. Returns the first matching group.
fn match_group<'g>(name: &[u8], groups: &[&'g str]) -> Option<&'g str> {
    groups.iter().copied().find(|g| {
        let g = g.as_bytes();
        let mut i = 0;
        while i < name.len() && i < g.len() && latin1_upper(name[i]) == latin1_upper(g[i]) {
            i += 1;
        }
        i == g.len() && name[i..].iter().all(|&c| c == b' ')
    })
}

/// Does this key (with a value) hold a password? See the module documentation.
fn is_password_key(key: &[u8]) -> bool {
    let k: Vec<u8> = key
        .iter()
        .map(|&c| match c.to_ascii_lowercase() {
            b'_' => b'-',
            c => c,
        })
        .collect();
    let k = strip_loose(&k);
    k.starts_with(b"password") || (k.len() >= 3 && b"password".starts_with(k))
}

/// What one line (one `fgets` piece) holds.
#[derive(Debug, PartialEq, Eq)]
enum Line<'a> {
    /// Empty or comment.
    Blank,
    /// `!include ARG`; `Err` when the argument is empty.
    Include(Result<&'a [u8], ()>),
    /// `!includedir ARG`; `Err` when the argument is empty.
    IncludeDir(Result<&'a [u8], ()>),
    /// Any other `!` line: ignored.
    OtherDirective,
    /// `[name]`; `Err` when there is no `]`.
    Group(Result<&'a [u8], ()>),
    /// An option line.
    Opt {
        key: &'a [u8],
        value: Option<Vec<u8>>,
    },
}

/// Split file contents the way repeated `fgets(buff, 4095, fp)` calls would: pieces of at
/// most 4094 bytes, ending after a `\n`. Each piece is then cut at its first NUL, because
/// MariaDB handles it as a C string.
fn fgets_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let window = &rest[..rest.len().min(FGETS_MAX)];
        let len = window
            .iter()
            .position(|&c| c == b'\n')
            .map_or(window.len(), |p| p + 1);
        let piece = &rest[..len];
        rest = &rest[len..];
        let piece = match piece.iter().position(|&c| c == 0) {
            Some(nul) => &piece[..nul],
            None => piece,
        };
        lines.push(piece);
    }
    lines
}

/// Parse one line as `search_default_file_with_ext` does.
fn parse_line(line: &[u8]) -> Line<'_> {
    let Some(ptr) = line.iter().position(|&c| !is_space(c)) else {
        return Line::Blank;
    };
    match line[ptr] {
        b'#' | b';' => Line::Blank,
        b'!' => parse_directive(line, ptr),
        b'[' => {
            let start = ptr + 1;
            let Some(close) = line[start..].iter().position(|&c| c == b']') else {
                return Line::Group(Err(()));
            };
            let mut end = start + close;
            // Stops at the '[' at the latest.
            while end > start && is_space(line[end - 1]) {
                end -= 1;
            }
            Line::Group(Ok(&line[start..end]))
        }
        _ => {
            let cut = remove_end_comment(line, ptr);
            let Some(eq) = line[ptr..cut]
                .iter()
                .position(|&c| c == b'=')
                .map(|p| ptr + p)
            else {
                let mut end = cut;
                while end > ptr && is_space(line[end - 1]) {
                    end -= 1;
                }
                return Line::Opt {
                    key: &line[ptr..end],
                    value: None,
                };
            };
            // Trim the key. MariaDB has no lower bound here: with whitespace before a
            // leading '=' it walks back into that whitespace (and when '=' is the very
            // first byte it reads before the buffer, which in practice is not a space).
            let mut end = eq;
            while end > 0 && is_space(line[end - 1]) {
                end -= 1;
            }
            // A "negative length" key makes strnmov copy up to the end of the C string.
            let key = if end >= ptr {
                &line[ptr..end]
            } else {
                &line[ptr..cut]
            };
            let mut v = eq + 1;
            while v < cut && is_space(line[v]) {
                v += 1;
            }
            let mut ve = cut;
            while ve > eq + 1 && is_space(line[ve - 1]) {
                ve -= 1;
            }
            if ve < v {
                ve = v;
            }
            if ve - v >= 2 && matches!(line[v], b'"' | b'\'') && line[v] == line[ve - 1] {
                v += 1;
                ve -= 1;
            }
            Line::Opt {
                key,
                value: Some(unescape(&line[v..ve])),
            }
        }
    }
}

/// Index where a `#` comment starts (outside quotes, tracking quotes from `from`), or the
/// line length.
fn remove_end_comment(line: &[u8], from: usize) -> usize {
    let mut quote = 0u8;
    let mut escape = false;
    for (i, &c) in line.iter().enumerate().skip(from) {
        if (c == b'\'' || c == b'"') && !escape {
            if quote == 0 {
                quote = c;
            } else if quote == c {
                quote = 0;
            }
        }
        if quote == 0 && c == b'#' {
            return i;
        }
        escape = quote != 0 && c == b'\\' && !escape;
    }
    line.len()
}

fn unescape(v: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'\\' && i + 1 < v.len() {
            i += 1;
            match v[i] {
                b'n' => out.push(b'\n'),
                b't' => out.push(b'\t'),
                b'r' => out.push(b'\r'),
                b'b' => out.push(0x08),
                b's' => out.push(b' '),
                b'"' => out.push(b'"'),
                b'\'' => out.push(b'\''),
                b'\\' => out.push(b'\\'),
                other => out.extend_from_slice(&[b'\\', other]),
            }
        } else {
            out.push(v[i]);
        }
        i += 1;
    }
    out
}

/// A `!` line starting at `bang`.
fn parse_directive(line: &[u8], bang: usize) -> Line<'_> {
    let mut p = bang + 1;
    while p < line.len() && is_space(line[p]) {
        p += 1;
    }
    let rest = &line[p..];
    let followed_by_space = |n: usize| rest.get(n).is_some_and(|&c| is_space(c));
    if rest.starts_with(b"includedir") && followed_by_space(10) {
        Line::IncludeDir(directive_argument(line, p + 10))
    } else if rest.starts_with(b"include") && followed_by_space(7) {
        Line::Include(directive_argument(line, p + 7))
    } else {
        Line::OtherDirective
    }
}

/// MariaDB's `get_argument`: skip whitespace after the keyword, then drop the line's last
/// byte unconditionally (assumed to be the newline) and trim whitespace before it.
fn directive_argument(line: &[u8], after_keyword: usize) -> Result<&[u8], ()> {
    let mut p = after_keyword;
    while p < line.len() && is_space(line[p]) {
        p += 1;
    }
    // line[after_keyword] is whitespace, so the line is not empty.
    let mut end = line.len() - 1;
    // The keyword before `after_keyword` stops this walk.
    while end >= 1 && is_space(line[end - 1]) {
        end -= 1;
    }
    if end <= p { Err(()) } else { Ok(&line[p..end]) }
}

/// How reading one file stopped early.
enum Abort {
    /// Our own refusals and limits, and a path that exists but cannot be read: always fail
    /// the whole read.
    Hard(OptionFileError),
    /// MariaDB's errors: fail the read in the top-level file, only stop an included file.
    Soft(OptionFileError),
}

/// Where a file to read was named: decides what a missing file or a directory means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin<'a> {
    /// The file passed to [`read`].
    Top,
    /// `!include` on `line` of `from`.
    Include { from: &'a Path, line: u32 },
    /// A `.cnf` entry of the `!includedir` on `line` of `from`.
    IncludeDir { from: &'a Path, line: u32 },
}

struct Reader<'g> {
    groups: &'g [&'g str],
    out: Vec<OptionEntry>,
    files_opened: u32,
}

impl Reader<'_> {
    fn file(&mut self, path: &Path, level: u32, origin: Origin) -> Result<(), Abort> {
        self.files_opened += 1;
        if self.files_opened > MAX_FILES_OPENED {
            return Err(Abort::Hard(OptionFileError::Limit {
                path: path.to_path_buf(),
                message: format!(
                    "more than {MAX_FILES_OPENED} files opened through !include/!includedir (include loop?)"
                ),
            }));
        }
        let data = match load(path, origin)? {
            Some(data) => data,
            None => return Ok(()),
        };
        let lines: Vec<Line<'_>> = fgets_lines(&data.bytes)
            .into_iter()
            .map(parse_line)
            .collect();

        let holds_password = lines
            .iter()
            .any(|l| matches!(l, Line::Opt { key, value: Some(_) } if is_password_key(key)));
        if holds_password && data.mode & 0o077 != 0 {
            return Err(Abort::Hard(OptionFileError::Unsafe {
                path: path.to_path_buf(),
                mode: data.mode,
            }));
        }
        // MariaDB skips world-writable regular files with a warning; we refuse them.
        if data.regular && data.mode & 0o002 != 0 {
            return Err(Abort::Hard(OptionFileError::WorldWritable {
                path: path.to_path_buf(),
                mode: data.mode,
            }));
        }

        let syntax = |line: usize, message: &str| {
            Abort::Soft(OptionFileError::Syntax {
                path: path.to_path_buf(),
                line: u32::try_from(line + 1).unwrap_or(u32::MAX),
                message: message.to_string(),
            })
        };
        let mut found_group = false;
        let mut group: Option<&str> = None;
        for (n, line) in lines.into_iter().enumerate() {
            match line {
                Line::Blank => {}
                Line::Include(_) | Line::IncludeDir(_) | Line::OtherDirective
                    if level >= MAX_RECURSION => {}
                Line::OtherDirective => {}
                Line::Include(Err(())) => {
                    return Err(syntax(n, "'!include' directive without a file name"));
                }
                Line::IncludeDir(Err(())) => {
                    return Err(syntax(n, "'!includedir' directive without a directory"));
                }
                Line::Include(Ok(arg)) => {
                    if arg.len() < MAX_PATH_LEN {
                        // `~/` is the running user's home from the password database, not
                        // $HOME: the binaries rely on no environment variable (docs/contract.md "Credentials and configuration").
                        let home = sys::home_of_current_user();
                        let target = expand_tilde(arg, home.as_deref().map(Path::as_os_str));
                        let origin = Origin::Include {
                            from: path,
                            line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                        };
                        self.include(&target, level + 1, origin)?;
                    }
                }
                Line::IncludeDir(Ok(arg)) => {
                    let dir = PathBuf::from(OsString::from_vec(arg.to_vec()));
                    let line = u32::try_from(n + 1).unwrap_or(u32::MAX);
                    let names = cnf_files(&dir).map_err(|e| {
                        // A missing directory is MariaDB's error (it only stops an included
                        // file); one that exists and cannot be read fails the whole read.
                        let absent = is_absent(&dir, &e);
                        let err = OptionFileError::IncludeDir {
                            path: path.to_path_buf(),
                            line,
                            dir: dir.clone(),
                            cause: PathCause::new(&dir, e),
                        };
                        if absent {
                            Abort::Soft(err)
                        } else {
                            Abort::Hard(err)
                        }
                    })?;
                    for name in names {
                        let target = dir.join(name);
                        if target.as_os_str().len() < MAX_PATH_LEN {
                            let origin = Origin::IncludeDir { from: path, line };
                            self.include(&target, level + 1, origin)?;
                        }
                    }
                }
                Line::Group(Err(())) => {
                    return Err(syntax(n, "group header without a closing ']'"));
                }
                Line::Group(Ok(name)) => {
                    found_group = true;
                    group = match_group(name, self.groups);
                }
                Line::Opt { key, value } => {
                    if !found_group {
                        return Err(syntax(n, "option before the first [group] header"));
                    }
                    if let Some(g) = group {
                        let not_utf8 = |what: &str| {
                            Abort::Hard(OptionFileError::Syntax {
                                path: path.to_path_buf(),
                                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                                message: format!("the option's {what} is not valid UTF-8"),
                            })
                        };
                        let key = String::from_utf8(key.to_vec()).map_err(|_| not_utf8("name"))?;
                        let value = value
                            .map(|v| String::from_utf8(v).map_err(|_| not_utf8("value")))
                            .transpose()?;
                        self.out.push(OptionEntry {
                            group: g.to_string(),
                            key,
                            value,
                            source: path.to_path_buf(),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// Read an included file: MariaDB ignores what went wrong inside it, except for our
    /// own hard refusals.
    fn include(&mut self, path: &Path, level: u32, origin: Origin) -> Result<(), Abort> {
        match self.file(path, level, origin) {
            Err(Abort::Hard(e)) => Err(Abort::Hard(e)),
            Ok(()) | Err(Abort::Soft(_)) => Ok(()),
        }
    }
}

struct Loaded {
    bytes: Vec<u8>,
    mode: u32,
    regular: bool,
}

/// Open and read one file. `Ok(None)`: nothing to read: an included file that does not
/// exist (MariaDB skips it), or a directory that reads as empty (see below). Any other
/// failure to open or read is an error naming the path and the cause, also for an included
/// file, which MariaDB would skip silently: a check must not run on half its settings
/// because a file became unreadable to the script user.
fn load(path: &Path, origin: Origin) -> Result<Option<Loaded>, Abort> {
    let fail = |cause: PathCause| {
        Abort::Hard(match origin {
            Origin::Top => OptionFileError::Io {
                path: path.to_path_buf(),
                cause,
            },
            Origin::Include { from, line } | Origin::IncludeDir { from, line } => {
                OptionFileError::Include {
                    path: from.to_path_buf(),
                    line,
                    target: path.to_path_buf(),
                    cause,
                }
            }
        })
    };
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if origin != Origin::Top && is_absent(path, &e) => return Ok(None),
        Err(e) => return Err(fail(PathCause::new(path, e))),
    };
    let meta = file.metadata().map_err(|e| fail(PathCause::new(path, e)))?;
    if meta.is_dir() {
        return match origin {
            // MariaDB reads a directory as an empty file (`fgets` fails). Kept for the
            // top-level file (config.rs refuses it with its own message) and for an
            // `!includedir` entry named `x.cnf/`, which nobody named as a file (the oracle
            // test checks both).
            Origin::Top | Origin::IncludeDir { .. } => Ok(None),
            // `!include DIR` names a file and finds a directory: refused.
            Origin::Include { .. } => Err(fail(PathCause::from(
                std::io::Error::from_raw_os_error(libc::EISDIR),
            ))),
        };
    }
    let mode = meta.permissions().mode();
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(PathCause::new(path, e)))?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(Abort::Hard(OptionFileError::Limit {
            path: path.to_path_buf(),
            message: format!("larger than {MAX_FILE_SIZE} bytes"),
        }));
    }
    Ok(Some(Loaded {
        bytes,
        mode,
        regular: meta.is_file(),
    }))
}

/// The `.cnf` files of `dir` (names ending in exactly ".cnf", hidden ones included),
/// sorted bytewise, as MariaDB's `my_dir(MY_WANT_SORT)` + extension check picks them.
fn cnf_files(dir: &Path) -> std::io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let b = name.as_bytes();
        let ext = b.iter().rposition(|&c| c == b'.').map(|i| &b[i..]);
        if ext == Some(b".cnf".as_slice()) {
            names.push(name);
        }
    }
    names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    Ok(names)
}

/// MariaDB expands `~/...` (to `$HOME`; here: the user's home in the password database) and
/// `~user/...` in `!include` paths.
fn expand_tilde(arg: &[u8], home: Option<&std::ffi::OsStr>) -> PathBuf {
    let as_path = |b: &[u8]| PathBuf::from(OsString::from_vec(b.to_vec()));
    let Some(rest) = arg.strip_prefix(b"~") else {
        return as_path(arg);
    };
    let Some(slash) = rest.iter().position(|&c| c == b'/') else {
        return as_path(arg);
    };
    let (user, tail) = (&rest[..slash], &rest[slash + 1..]);
    let base = if user.is_empty() {
        home.map(PathBuf::from)
    } else {
        home_of(user)
    };
    match base {
        Some(base) => base.join(as_path(tail)),
        None => as_path(arg),
    }
}

/// The home directory of a named user, from the password database.
fn home_of(user: &[u8]) -> Option<PathBuf> {
    sys::home_of_user(user)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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

    #[test]
    fn basic_options() {
        assert_eq!(
            ok("[client]\nuser=foo\npassword=bar\nskip-ssl\n"),
            "--user=foo\n--password=bar\n--skip-ssl\n"
        );
        assert_eq!(ok("[client]\n  user =  foo bar  \t\n"), "--user=foo bar\n");
        assert_eq!(ok("[client]\npassword=\n"), "--password=\n");
        assert_eq!(ok("[client]\nuser=a"), "--user=a\n");
        assert_eq!(ok("[client]\r\nuser=a\r\nb = c \r\n"), "--user=a\n--b=c\n");
    }

    #[test]
    fn groups() {
        let text = "[client]\na=1\n[other]\nb=2\n[CHECK-MySQL]\nc=3\n[check_mysql]\nd=4\n\
                    [ client]\ne=5\n[client  ]\nf=6\n[client] trailing\ng=7\n";
        assert_eq!(ok(text), "--a=1\n--c=3\n--f=6\n--g=7\n");
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "g.cnf", text.as_bytes(), 0o600);
        let e = read(&p, GROUPS).unwrap();
        assert_eq!(e[1].group, "check-mysql");
        assert_eq!(e[1].source, p);
        assert_eq!(read(&p, &[]).unwrap(), vec![]);
    }

    #[test]
    fn comments_and_quotes() {
        assert_eq!(
            ok("# c\n; c\n[client]\n  # c\na=x#y\nb=\"x#y\" # c\nc='a#b'\nd=a ; b\n"),
            "--a=x\n--b=x#y\n--c=a#b\n--d=a ; b\n"
        );
        assert_eq!(
            ok(
                "[client]\na=\"q\"\nb='q'\nc=\"mis'\nd=\"\ne=\"\"\nf=\"a\"b\"\ng = a \"b # c\"\nh='a' 'b'\n"
            ),
            "--a=q\n--b=q\n--c=\"mis'\n--d=\"\n--e=\n--f=a\"b\n--g=a \"b # c\"\n--h=a' 'b\n"
        );
        assert_eq!(ok("[client]\nit's=a#b\n"), "--it's=a#b\n");
        assert_eq!(ok("[client]\nk=\"a\\\"#b\"\n"), "--k=a\"#b\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(
            ok("[client]\na=1\\n2\\t3\\\\4\\\"5\\'6\\s7\\r8\\b9\\q\n"),
            "--a=1\n2\t3\\4\"5'6 7\r8\u{8}9\\q\n"
        );
        assert_eq!(ok("[client]\nk=ab\\\n"), "--k=ab\\\n");
        assert_eq!(ok("[client]\nk=\"a\\\"\n"), "--k=a\\\n");
        assert_eq!(ok("[client]\nk=a\\#b\n"), "--k=a\\\n");
    }

    #[test]
    fn keys_are_kept_verbatim() {
        assert_eq!(
            ok("[client]\nskip_ssl\nloose-user=a\nfoo_bar-baz=1\nmy key = v\n"),
            "--skip_ssl\n--loose-user=a\n--foo_bar-baz=1\n--my key=v\n"
        );
    }

    #[test]
    fn odd_equals_lines() {
        assert_eq!(ok("[client]\n=value\n"), "--=value\n");
        assert_eq!(ok("[client]\n =v\n"), "--=v\n=v\n");
        assert_eq!(ok("[client]\n\t  =v # c\n"), "--=v =v\n");
    }

    #[test]
    fn syntax_errors() {
        let e = render("user=x\n[client]\n").unwrap_err();
        assert!(matches!(e, OptionFileError::Syntax { line: 1, .. }), "{e}");
        let e = render("[client]\na=1\n[client\n").unwrap_err();
        assert!(matches!(e, OptionFileError::Syntax { line: 3, .. }), "{e}");
        assert!(e.to_string().contains("my.cnf, line 3"), "{e}");
        assert!(render("[client]\n!include\n").is_err());
        assert!(render("[client]\n!includedir   \n").is_err());
        // Without the newline the keyword is not followed by whitespace: ignored.
        assert_eq!(ok("[client]\n!include"), "");
        assert_eq!(ok("[client]\n!bogus x\n!INCLUDE x\na=1\n"), "--a=1\n");
    }

    #[test]
    fn long_lines_split_like_fgets() {
        let v = "a".repeat(4090);
        assert_eq!(
            ok(&format!("[client]\nuser={v}\nhost=h\n")),
            format!("--user={}\n--a\n--host=h\n", &v[..4089])
        );
        let v = "a".repeat(4089);
        assert_eq!(
            ok(&format!("[client]\nuser={v}\nhost=h\n")),
            format!("--user={v}\n--host=h\n")
        );
    }

    #[test]
    fn nul_and_latin1_space() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(
            dir.path(),
            "n.cnf",
            b"[client]\nuser=a\0b\n\0x=1\nhost=\xa0h\xa0\n",
            0o600,
        );
        let r = render_like_my_print_defaults(&read(&p, GROUPS).unwrap());
        assert_eq!(r, "--user=a\n--host=h\n");
        let p = write(dir.path(), "u.cnf", b"[client]\nuser=\xe9\n", 0o600);
        assert!(matches!(
            read(&p, GROUPS),
            Err(OptionFileError::Syntax { .. })
        ));
        // Not UTF-8 but in a group nobody asked for: fine.
        let p = write(dir.path(), "v.cnf", b"[other]\nuser=\xe9\n", 0o600);
        assert_eq!(read(&p, GROUPS).unwrap(), vec![]);
    }

    #[test]
    fn includes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        write(d, "a.cnf", b"[client]\nfrom_a=1\n[other]\nx=1\n", 0o600);
        write(
            d,
            "bad.cnf",
            b"[client]\nbefore=1\n[broken\nafter=1\n",
            0o600,
        );
        let main = write(
            d,
            "main.cnf",
            format!(
                "[client]\n!include {0}/a.cnf\nafter_a=1\n!include {0}/missing.cnf\n\
                 !include {0}/bad.cnf\nlast=1\n!include {0}/a.cnf",
                d.display()
            )
            .as_bytes(),
            0o600,
        );
        let e = read(&main, GROUPS).unwrap();
        assert_eq!(
            render_like_my_print_defaults(&e),
            "--from_a=1\n--after_a=1\n--before=1\n--last=1\n"
        );
        assert_eq!(e[0].source, d.join("a.cnf"));

        fs::create_dir(d.join("conf.d")).unwrap();
        fs::create_dir(d.join("conf.d/sub.cnf")).unwrap();
        for n in [
            "b.cnf",
            "a.cnf",
            "B.cnf",
            ".h.cnf",
            "x.CNF",
            "y.cnf.bak",
            "z.ini",
        ] {
            write(
                &d.join("conf.d"),
                n,
                format!("[client]\nf={n}\n").as_bytes(),
                0o600,
            );
        }
        let main = write(
            d,
            "dir.cnf",
            format!("[client]\n!includedir {}/conf.d\n", d.display()).as_bytes(),
            0o600,
        );
        assert_eq!(
            render_like_my_print_defaults(&read(&main, GROUPS).unwrap()),
            "--f=.h.cnf\n--f=B.cnf\n--f=a.cnf\n--f=b.cnf\n"
        );
        let main = write(
            d,
            "nodir.cnf",
            format!("[client]\n!includedir {}/nope\n", d.display()).as_bytes(),
            0o600,
        );
        let e = read(&main, GROUPS).unwrap_err();
        assert!(
            matches!(e, OptionFileError::IncludeDir { line: 2, .. }),
            "{e}"
        );
    }

    /// Included paths that exist but cannot be read fail the whole read, wherever the
    /// include sits (MariaDB skips them; see the module documentation). Permission denied
    /// needs a user other than root: tests/it/config_paths.rs checks it.
    #[test]
    fn unreadable_includes_fail_the_read() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        symlink(d.join("loop-b.cnf"), d.join("loop-a.cnf")).unwrap();
        symlink(d.join("loop-a.cnf"), d.join("loop-b.cnf")).unwrap();
        symlink(d.join("nowhere.cnf"), d.join("dangling.cnf")).unwrap();
        write(d, "plain.cnf", b"[client]\nx=1\n", 0o600);
        fs::create_dir(d.join("adir")).unwrap();
        for (target, cause) in [
            ("loop-a.cnf", "too many levels of symbolic links"),
            ("dangling.cnf", "which does not exist"),
            ("adir", "is a directory"),
            // A file where a directory is expected: ENOTDIR, not "missing".
            ("plain.cnf/x.cnf", "plain.cnf is a file"),
        ] {
            let target = d.join(target);
            let main = write(
                d,
                "main.cnf",
                format!("[client]\na=1\n!include {}\nb=2\n", target.display()).as_bytes(),
                0o600,
            );
            let e = read(&main, GROUPS).unwrap_err();
            match &e {
                OptionFileError::Include {
                    path,
                    line,
                    target: t,
                    ..
                } => {
                    assert_eq!((path, *line, t), (&main, 3, &target), "{e}");
                }
                other => panic!("{target:?}: {other}"),
            }
            assert!(e.to_string().contains(cause), "{e}");
            // Also from inside an included file, where MariaDB's own errors only stop
            // that file.
            let outer = write(
                d,
                "outer.cnf",
                format!("[client]\n!include {}\n", main.display()).as_bytes(),
                0o600,
            );
            assert!(
                matches!(read(&outer, GROUPS), Err(OptionFileError::Include { .. })),
                "{target:?} nested"
            );
        }

        // !includedir: a loop or a file where the directory should be fails the read even
        // inside an included file; a missing one only stops that file (MariaDB's error).
        for (arg, hard) in [("loop-a.cnf", true), ("plain.cnf", true), ("nope", false)] {
            let inner = write(
                d,
                "inner.cnf",
                format!("[client]\n!includedir {}\ny=1\n", d.join(arg).display()).as_bytes(),
                0o600,
            );
            let outer = write(
                d,
                "outer.cnf",
                format!("[client]\n!include {}\nz=1\n", inner.display()).as_bytes(),
                0o600,
            );
            let r = read(&outer, GROUPS);
            if hard {
                let e = r.unwrap_err();
                assert!(
                    matches!(e, OptionFileError::IncludeDir { line: 2, .. }),
                    "{e}"
                );
            } else {
                assert_eq!(render_like_my_print_defaults(&r.unwrap()), "--z=1\n");
            }
        }

        // A .cnf entry of an !includedir that is a symlink loop fails; one that is a
        // directory reads as empty (MariaDB; the oracle test checks it).
        fs::create_dir(d.join("conf.d")).unwrap();
        fs::create_dir(d.join("conf.d/sub.cnf")).unwrap();
        write(&d.join("conf.d"), "a.cnf", b"[client]\nf=a\n", 0o600);
        let main = write(
            d,
            "dir.cnf",
            format!("[client]\n!includedir {}/conf.d\n", d.display()).as_bytes(),
            0o600,
        );
        assert_eq!(
            render_like_my_print_defaults(&read(&main, GROUPS).unwrap()),
            "--f=a\n"
        );
        symlink(d.join("conf.d/z.cnf"), d.join("conf.d/z.cnf")).unwrap();
        let e = read(&main, GROUPS).unwrap_err();
        assert!(
            matches!(&e, OptionFileError::Include { target, .. } if target.ends_with("z.cnf")),
            "{e}"
        );
    }

    #[test]
    fn self_include_stops_at_depth_10() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("self.cnf");
        let text = format!("[client]\nx=1\n!include {}\n", p.display());
        write(dir.path(), "self.cnf", text.as_bytes(), 0o600);
        assert_eq!(read(&p, GROUPS).unwrap().len(), 11);
    }

    #[test]
    fn include_explosion_is_limited() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("boom.cnf");
        let text = format!(
            "[client]\n{}",
            format!("!include {}\n", p.display()).repeat(4)
        );
        write(dir.path(), "boom.cnf", text.as_bytes(), 0o600);
        assert!(matches!(
            read(&p, GROUPS),
            Err(OptionFileError::Limit { .. })
        ));
    }

    #[test]
    fn missing_directory_and_unreadable() {
        let dir = tempfile::tempdir().unwrap();
        let e = read(&dir.path().join("nope.cnf"), GROUPS).unwrap_err();
        assert!(matches!(e, OptionFileError::Io { .. }));
        assert!(e.to_string().contains("nope.cnf"), "{e}");
        // A directory reads as empty, as with my_print_defaults.
        assert_eq!(read(dir.path(), GROUPS).unwrap(), vec![]);
        // Unreadable (only meaningful when not running as root).
        let p = write(dir.path(), "secret.cnf", b"[client]\nuser=a\n", 0o000);
        if fs::read(&p).is_err() {
            assert!(matches!(read(&p, GROUPS), Err(OptionFileError::Io { .. })));
        }
    }

    #[test]
    fn permissions() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let pw = b"[client]\nuser=u\npassword=secret\n";
        let p = write(d, "600.cnf", pw, 0o600);
        assert_eq!(read(&p, GROUPS).unwrap().len(), 2);
        let p = write(d, "400.cnf", pw, 0o400);
        assert_eq!(read(&p, GROUPS).unwrap().len(), 2);
        for mode in [0o640, 0o644, 0o604, 0o620] {
            let p = write(d, &format!("{mode:o}.cnf"), pw, mode);
            let e = read(&p, GROUPS).unwrap_err();
            assert!(matches!(e, OptionFileError::Unsafe { .. }), "{mode:o}: {e}");
            let msg = e.to_string();
            assert!(
                msg.contains(&format!("run chmod 600 {}", p.display())),
                "{msg}"
            );
            assert!(msg.contains(&format!("(mode 0{mode:o})")), "{msg}");
            assert!(!msg.contains('\n'));
        }
        assert!(
            read(&write(d, "m644.cnf", pw, 0o644), GROUPS)
                .unwrap_err()
                .to_string()
                .contains("readable by group or others")
        );
        // No password: world-readable is fine.
        let p = write(d, "nopw.cnf", b"[client]\nuser=u\n", 0o644);
        assert_eq!(read(&p, GROUPS).unwrap().len(), 1);
        // A password in a group we do not read still counts, and so do variants.
        for text in [
            "[mysqld]\npassword=x\n",
            "[client]\nloose_Password = x\n",
            "[client]\npass=x\n",
            "[client]\npassword=\n",
        ] {
            let p = write(d, "other.cnf", text.as_bytes(), 0o644);
            assert!(
                matches!(read(&p, GROUPS), Err(OptionFileError::Unsafe { .. })),
                "{text:?}"
            );
        }
        // Bare `password` (prompt) holds no secret.
        let p = write(d, "bare.cnf", b"[client]\npassword\n", 0o644);
        assert_eq!(read(&p, GROUPS).unwrap().len(), 1);
        // An included file with a password and mode 0644 makes the whole read fail.
        let inc = write(d, "inc.cnf", pw, 0o644);
        let main = write(
            d,
            "main.cnf",
            format!("[client]\nhost=h\n!include {}\n", inc.display()).as_bytes(),
            0o600,
        );
        let e = read(&main, GROUPS).unwrap_err();
        match &e {
            OptionFileError::Unsafe { path, mode } => {
                assert_eq!(path, &inc);
                assert_eq!(mode & 0o777, 0o644);
            }
            other => panic!("{other}"),
        }
        // So does one found through !includedir.
        fs::create_dir(d.join("conf.d")).unwrap();
        write(&d.join("conf.d"), "pw.cnf", pw, 0o640);
        let main = write(
            d,
            "main2.cnf",
            format!("[client]\n!includedir {}/conf.d\n", d.display()).as_bytes(),
            0o600,
        );
        assert!(matches!(
            read(&main, GROUPS),
            Err(OptionFileError::Unsafe { .. })
        ));
        // World-writable: refused even without a password.
        let p = write(d, "ww.cnf", b"[client]\nuser=u\n", 0o646);
        let e = read(&p, GROUPS).unwrap_err();
        assert!(matches!(e, OptionFileError::WorldWritable { .. }), "{e}");
        assert!(e.to_string().contains("chmod o-w"), "{e}");
    }

    #[test]
    fn chmod_hint_is_quoted() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), "my file.cnf", b"[client]\npassword=x\n", 0o644);
        let msg = read(&p, GROUPS).unwrap_err().to_string();
        assert!(
            msg.ends_with(&format!("run chmod 600 '{}'", p.display())),
            "{msg}"
        );
    }

    #[test]
    fn last_value_normalizes() {
        let e = |key: &str, value: Option<&str>| OptionEntry {
            group: "client".into(),
            key: key.into(),
            value: value.map(Into::into),
            source: PathBuf::from("/x"),
        };
        let entries = vec![
            e("ssl_ca", Some("/a")),
            e("loose-ssl-ca", Some("/b")),
            e("user", Some("u")),
            e("password", Some("p")),
            e("password", None),
            e("Host", Some("h")),
        ];
        assert_eq!(last_value(&entries, "ssl-ca"), Some("/b"));
        assert_eq!(last_value(&entries, "ssl_ca"), Some("/b"));
        assert_eq!(last_value(&entries, "loose_ssl_ca"), Some("/b"));
        assert_eq!(last_value(&entries, "user"), Some("u"));
        assert_eq!(last_value(&entries, "password"), None);
        assert_eq!(last_value(&entries, "host"), None);
        assert_eq!(last_value(&entries, "port"), None);
    }

    #[test]
    fn tilde_expansion() {
        let home = std::ffi::OsStr::new("/home/me");
        assert_eq!(
            expand_tilde(b"~/x.cnf", Some(home)),
            PathBuf::from("/home/me/x.cnf")
        );
        assert_eq!(expand_tilde(b"~/x.cnf", None), PathBuf::from("~/x.cnf"));
        assert_eq!(expand_tilde(b"~", Some(home)), PathBuf::from("~"));
        assert_eq!(expand_tilde(b"a/~/b", Some(home)), PathBuf::from("a/~/b"));
        assert_eq!(
            expand_tilde(b"~root/x.cnf", None),
            home_of(b"root").unwrap().join("x.cnf")
        );
        assert_eq!(
            expand_tilde(b"~no-such-user-xyz/x", None),
            PathBuf::from("~no-such-user-xyz/x")
        );
    }

    #[test]
    fn error_messages_are_one_line() {
        let errs = [
            OptionFileError::Io {
                path: "/etc/x.cnf".into(),
                cause: std::io::Error::from(std::io::ErrorKind::NotFound).into(),
            },
            OptionFileError::Include {
                path: "/etc/x.cnf".into(),
                line: 2,
                target: "/etc/y.cnf".into(),
                cause: PathCause::new(
                    Path::new("/etc/y.cnf"),
                    std::io::Error::from_raw_os_error(libc::EACCES),
                ),
            },
            OptionFileError::Syntax {
                path: "/etc/x.cnf".into(),
                line: 3,
                message: "m".into(),
            },
            OptionFileError::Unsafe {
                path: "/etc/x.cnf".into(),
                mode: 0o100644,
            },
        ];
        for e in &errs {
            let s = e.to_string();
            assert!(s.contains("/etc/x.cnf") && !s.contains('\n'), "{s}");
        }
        assert_eq!(
            errs[3].to_string(),
            "option file /etc/x.cnf holds a password and is readable by group or others \
             (mode 0644): run chmod 600 /etc/x.cnf"
        );
    }

    #[test]
    fn never_panics_on_odd_input() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("odd.cnf");
        let mut inputs: Vec<Vec<u8>> = [
            "",
            "\n",
            "[",
            "]",
            "[]",
            "[\n",
            "=",
            "==",
            " =",
            "\t=\n",
            "!",
            "!\n",
            "! ",
            "!include",
            "!include ",
            "!include \n",
            "!includedir \n",
            "!include  x",
            "#",
            ";",
            "\\",
            "\"",
            "'",
            "[client]\n=",
            "[client]\n \"=\"",
            "[client]\n'#'=#",
            "[client]\n\\",
            "[client]\na=\\",
            "[client]\na=\"",
            "[client]\na='\\'",
            "[client]\n\r",
            "[client]\n\r\n=\r\n",
            "[client]\n #=",
            "[client]\n  = \t",
            "[client]\n!include \0",
            "\0",
            "[\0]",
            "[client]\na=\0\n",
        ]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
        inputs.push(vec![0xff; 5000]);
        inputs.push(b"[client]\n".iter().chain(&[b'='; 9000]).copied().collect());
        inputs.push(b"[client]\n".iter().chain(&[b' '; 4100]).copied().collect());
        inputs.push(b"[client]\n".iter().chain(&[0xa0; 4100]).copied().collect());
        let mut bytes: Vec<u8> = (0..=255).collect();
        bytes.extend(b"[client]\n=\n!include x\n");
        inputs.push(bytes);
        // Every short combination of the interesting bytes.
        let alphabet = b"[]=#;!\"'\\ \t\r\n\0a";
        for &a in alphabet {
            for &b in alphabet {
                for &c in alphabet {
                    inputs.push(vec![b'[', b'c', b']', b'\n', a, b, c]);
                    inputs.push(vec![a, b, c]);
                }
            }
        }
        for input in inputs {
            fs::write(&p, &input).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600)).unwrap();
            let _ = read(&p, &["client", "c", ""]);
            for line in fgets_lines(&input) {
                let _ = parse_line(line);
            }
        }
    }
}
