//! Reading files: `!include`, `!includedir`, permissions, limits (see the module
//! documentation of [`super`]).

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::parse::{Line, fgets_lines, is_password_key, match_group, parse_line};
use super::{OptionEntry, OptionFileError};
use crate::io::confpath::{PathCause, is_absent};
use crate::io::sys;

/// Includes deeper than this are skipped (MariaDB's `max_recursion_level`).
const MAX_RECURSION: u32 = 10;
/// MariaDB ignores option-file paths this long or longer (`FN_REFLEN - 3`).
const MAX_PATH_LEN: usize = 512 - 3;
/// Our own guard against reading /dev/zero or similar.
const MAX_FILE_SIZE: u64 = 64 << 20;
/// Our own guard against include explosions (n self-includes per file give n^10 reads).
const MAX_FILES_OPENED: u32 = 10_000;

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
    /// The file passed to [`super::read`].
    Top,
    /// `!include` on `line` of `from`.
    Include { from: &'a Path, line: u32 },
    /// A `.cnf` entry of the `!includedir` on `line` of `from`.
    IncludeDir { from: &'a Path, line: u32 },
}

/// One read: the groups asked for, what was found so far, and how many files were opened.
pub(super) struct Reader<'g> {
    groups: &'g [&'g str],
    out: Vec<OptionEntry>,
    files_opened: u32,
}

/// Where a line is: its file, 1-based line number, and include depth.
#[derive(Clone, Copy)]
struct At<'a> {
    path: &'a Path,
    line: u32,
    level: u32,
}

impl At<'_> {
    /// MariaDB's syntax errors: they fail a top-level file and only stop an included one.
    fn syntax(self, message: &str) -> Abort {
        Abort::Soft(OptionFileError::Syntax {
            path: self.path.to_path_buf(),
            line: self.line,
            message: message.to_string(),
        })
    }
}

/// The group the lines of one file are in: none before its first header, then the
/// requested group the header matched, if any.
struct Section<'g> {
    found_group: bool,
    group: Option<&'g str>,
}

impl<'g> Reader<'g> {
    pub(super) fn new(groups: &'g [&'g str]) -> Reader<'g> {
        Reader {
            groups,
            out: Vec::new(),
            files_opened: 0,
        }
    }

    /// Read `path` as the top-level file: every error fails the read.
    pub(super) fn read(mut self, path: &Path) -> Result<Vec<OptionEntry>, OptionFileError> {
        match self.file(path, 0, Origin::Top) {
            Ok(()) => Ok(self.out),
            Err(Abort::Hard(e) | Abort::Soft(e)) => Err(e),
        }
    }

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
        refuse_unsafe(path, &data, &lines)?;
        let mut section = Section {
            found_group: false,
            group: None,
        };
        for (n, line) in lines.into_iter().enumerate() {
            let at = At {
                path,
                line: u32::try_from(n + 1).unwrap_or(u32::MAX),
                level,
            };
            self.line(at, line, &mut section)?;
        }
        Ok(())
    }

    /// One line of a file.
    fn line(&mut self, at: At<'_>, line: Line<'_>, section: &mut Section<'g>) -> Result<(), Abort> {
        match line {
            Line::Blank => {}
            Line::Include(_) | Line::IncludeDir(_) | Line::OtherDirective
                if at.level >= MAX_RECURSION => {}
            Line::OtherDirective => {}
            Line::Include(Err(())) => {
                return Err(at.syntax("'!include' directive without a file name"));
            }
            Line::IncludeDir(Err(())) => {
                return Err(at.syntax("'!includedir' directive without a directory"));
            }
            Line::Include(Ok(arg)) => self.include_file(at, arg)?,
            Line::IncludeDir(Ok(arg)) => self.include_dir(at, arg)?,
            Line::Group(Err(())) => {
                return Err(at.syntax("group header without a closing ']'"));
            }
            Line::Group(Ok(name)) => {
                section.found_group = true;
                section.group = match_group(name, self.groups);
            }
            Line::Opt { key, value } => {
                if !section.found_group {
                    return Err(at.syntax("option before the first [group] header"));
                }
                if let Some(g) = section.group {
                    self.push(at, g, key, value)?;
                }
            }
        }
        Ok(())
    }

    /// `!include ARG`.
    fn include_file(&mut self, at: At<'_>, arg: &[u8]) -> Result<(), Abort> {
        if arg.len() >= MAX_PATH_LEN {
            return Ok(());
        }
        // `~/` is the running user's home from the password database, not $HOME: the
        // binaries rely on no environment variable (docs/contract.md "Credentials and
        // configuration").
        let home = sys::home_of_current_user();
        let target = expand_tilde(arg, home.as_deref().map(Path::as_os_str));
        let origin = Origin::Include {
            from: at.path,
            line: at.line,
        };
        self.include(&target, at.level + 1, origin)
    }

    /// `!includedir ARG`.
    fn include_dir(&mut self, at: At<'_>, arg: &[u8]) -> Result<(), Abort> {
        let dir = PathBuf::from(OsString::from_vec(arg.to_vec()));
        let names = cnf_files(&dir).map_err(|e| {
            // A missing directory is MariaDB's error (it only stops an included
            // file); one that exists and cannot be read fails the whole read.
            let absent = is_absent(&dir, &e);
            let err = OptionFileError::IncludeDir {
                path: at.path.to_path_buf(),
                line: at.line,
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
                let origin = Origin::IncludeDir {
                    from: at.path,
                    line: at.line,
                };
                self.include(&target, at.level + 1, origin)?;
            }
        }
        Ok(())
    }

    /// An option in a requested group.
    fn push(
        &mut self,
        at: At<'_>,
        group: &str,
        key: &[u8],
        value: Option<Vec<u8>>,
    ) -> Result<(), Abort> {
        let not_utf8 = |what: &str| {
            Abort::Hard(OptionFileError::Syntax {
                path: at.path.to_path_buf(),
                line: at.line,
                message: format!("the option's {what} is not valid UTF-8"),
            })
        };
        let key = String::from_utf8(key.to_vec()).map_err(|_| not_utf8("name"))?;
        let value = value
            .map(|v| String::from_utf8(v).map_err(|_| not_utf8("value")))
            .transpose()?;
        self.out.push(OptionEntry {
            group: group.to_string(),
            key,
            value,
            source: at.path.to_path_buf(),
        });
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

/// Our refusals of a file as a whole: a password others can reach, or world-writable.
fn refuse_unsafe(path: &Path, data: &Loaded, lines: &[Line<'_>]) -> Result<(), Abort> {
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
    Ok(())
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
    let file = match crate::io::confpath::open_for_reading(path) {
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
pub(super) fn expand_tilde(arg: &[u8], home: Option<&std::ffi::OsStr>) -> PathBuf {
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
pub(super) fn home_of(user: &[u8]) -> Option<PathBuf> {
    sys::home_of_user(user)
}
