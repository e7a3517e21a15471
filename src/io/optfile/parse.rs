//! One line of an option file, parsed as MariaDB's `search_default_file_with_ext` parses
//! it (see the module documentation of [`super`]).

use super::strip_loose;

/// `fgets(buff, 4095, fp)` reads at most 4094 bytes per call.
pub(super) const FGETS_MAX: usize = 4094;

/// MariaDB's `my_isspace(&my_charset_latin1, c)`.
pub(super) fn is_space(c: u8) -> bool {
    matches!(c, 0x09..=0x0d | b' ' | 0xa0)
}

/// MariaDB's `my_toupper(&my_charset_latin1, c)`.
pub(super) fn latin1_upper(c: u8) -> u8 {
    match c {
        b'a'..=b'z' => c - 0x20,
        0xe0..=0xfe if c != 0xf7 => c - 0x20,
        _ => c,
    }
}

/// `find_type(group, groups, FIND_TYPE_NO_PREFIX)`: whole-name, case-insensitive match;
/// trailing spaces in the file's name are ignored. Returns the first matching group.
pub(super) fn match_group<'g>(name: &[u8], groups: &[&'g str]) -> Option<&'g str> {
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
pub(super) fn is_password_key(key: &[u8]) -> bool {
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
pub(super) enum Line<'a> {
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
pub(super) fn fgets_lines(data: &[u8]) -> Vec<&[u8]> {
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
pub(super) fn parse_line(line: &[u8]) -> Line<'_> {
    let Some(ptr) = line.iter().position(|&c| !is_space(c)) else {
        return Line::Blank;
    };
    match line[ptr] {
        b'#' | b';' => Line::Blank,
        b'!' => parse_directive(line, ptr),
        b'[' => parse_group(line, ptr),
        _ => parse_option(line, ptr),
    }
}

/// A `[name]` line whose `[` is at `ptr`.
fn parse_group(line: &[u8], ptr: usize) -> Line<'_> {
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

/// An option line whose first non-space byte is at `ptr`.
fn parse_option(line: &[u8], ptr: usize) -> Line<'_> {
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
