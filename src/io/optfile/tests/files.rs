//! Files: `!include`, `!includedir`, permissions, limits, `~` expansion.

use super::*;
use crate::io::optfile::include::{expand_tilde, home_of};

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

/// A directory with paths that exist and cannot be read as option files: a symlink loop
/// (`loop-a.cnf`), a dangling symlink, a file (`plain.cnf`) and a directory (`adir`).
fn paths_in_the_way() -> tempfile::TempDir {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    symlink(d.join("loop-b.cnf"), d.join("loop-a.cnf")).unwrap();
    symlink(d.join("loop-a.cnf"), d.join("loop-b.cnf")).unwrap();
    symlink(d.join("nowhere.cnf"), d.join("dangling.cnf")).unwrap();
    write(d, "plain.cnf", b"[client]\nx=1\n", 0o600);
    fs::create_dir(d.join("adir")).unwrap();
    dir
}

/// Included paths that exist but cannot be read fail the whole read, wherever the
/// include sits (MariaDB skips them; see the module documentation). Permission denied
/// needs a user other than root: tests/it/config_paths.rs checks it.
#[test]
fn unreadable_includes_fail_the_read() {
    let dir = paths_in_the_way();
    let d = dir.path();
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
}

/// `!includedir`: a loop or a file where the directory should be fails the read even
/// inside an included file; a missing one only stops that file (MariaDB's error).
#[test]
fn unreadable_includedirs_fail_the_read() {
    let dir = paths_in_the_way();
    let d = dir.path();
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
}

/// A .cnf entry of an !includedir that is a symlink loop fails; one that is a directory
/// reads as empty (MariaDB; the oracle test checks it).
#[test]
fn includedir_entries_that_cannot_be_read() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
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
}

#[test]
fn permissions_of_included_and_world_writable_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pw = b"[client]\nuser=u\npassword=secret\n";
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
