//! Unit tests of the settings (src/io/config.rs).

use super::*;

#[test]
fn host_port_forms() {
    for blank in ["a b", "a\tb:3306", "db\n2", "[::1 ]:3306", "db\u{7f}"] {
        let e = parse_host_port(blank).unwrap_err();
        assert!(
            e.contains("no blanks or control characters"),
            "{blank:?}: {e}"
        );
    }
    assert_eq!(parse_host_port(" db2 ").unwrap(), ("db2".into(), None));
    assert_eq!(parse_host_port("db2").unwrap(), ("db2".into(), None));
    assert_eq!(
        parse_host_port("db2:3307").unwrap(),
        ("db2".into(), Some(3307))
    );
    assert_eq!(
        parse_host_port("[::1]:3307").unwrap(),
        ("::1".into(), Some(3307))
    );
    assert_eq!(parse_host_port("::1").unwrap(), ("::1".into(), None));
    for bad in ["", ":3306", "db:0", "db:x", "db:70000", "[::1", "a:b:c"] {
        assert!(parse_host_port(bad).is_err(), "{bad}");
    }
}

/// Only a default file that does not exist is "no file"; anything else in the way is a
/// configuration error naming the path. (Permission denied needs a user other than root:
/// tests/it/config_paths.rs.)
#[test]
fn default_option_file_absent_only_when_missing() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let load = |default: &Path| OptionValues::load_or_default(None, default, "check-mysql");

    for missing in [d.join("nope.cnf"), d.join("nodir/nope.cnf")] {
        assert!(load(&missing).unwrap().file.is_none(), "{missing:?}");
    }
    std::fs::write(d.join("keepalived"), "").unwrap();
    symlink(d.join("loop-b"), d.join("loop-a")).unwrap();
    symlink(d.join("loop-a"), d.join("loop-b")).unwrap();
    symlink(d.join("gone.cnf"), d.join("dangling.cnf")).unwrap();
    std::fs::create_dir(d.join("dir.cnf")).unwrap();
    for (default, cause) in [
        ("keepalived/mysql-helpers.cnf", "not a directory"),
        ("loop-a", "symlink loop"),
        ("loop-a/mysql-helpers.cnf", "symlink loop"),
        ("dangling.cnf", "which does not exist"),
        ("dir.cnf", "is a directory"),
    ] {
        let path = d.join(default);
        let msg = match load(&path) {
            Ok(v) => panic!("{default}: taken as {:?}", v.file),
            Err(e) => e.to_string(),
        };
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(msg.contains(cause), "{msg}");
        assert!(!msg.contains('\n'), "{msg}");
    }
}

#[test]
fn ssl_modes() {
    assert_eq!(
        parse_ssl_mode("verify_identity").unwrap(),
        SslMode::VerifyIdentity
    );
    assert_eq!(parse_ssl_mode("REQUIRED").unwrap(), SslMode::Required);
    assert!(
        parse_ssl_mode("preferred")
            .unwrap_err()
            .contains("not supported")
    );
}

/// A CA file that cannot be read is configuration (78), named with its cause; not a
/// connection failure later that reads as "down".
#[test]
fn unreadable_ssl_ca_is_a_config_error() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let cnf = dir.path().join("my.cnf");
    std::fs::write(&cnf, "[client]\nhost=127.0.0.1\n").unwrap();
    for (ca, cause) in [
        (dir.path().join("missing.pem"), "missing.pem"),
        (dir.path().to_path_buf(), "directory"),
    ] {
        let args = crate::cli::CheckArgs::parse_from([
            "check-mysql".as_ref(),
            "--defaults-file".as_ref(),
            cnf.as_os_str(),
            "--ssl-mode".as_ref(),
            "verify-ca".as_ref(),
            "--ssl-ca".as_ref(),
            ca.as_os_str(),
        ]);
        let Err(err) = check_settings(&args, None) else {
            panic!("an unreadable ssl-ca {} must be refused", ca.display());
        };
        let err = err.to_string();
        assert!(
            err.contains("cannot read ssl-ca") && err.contains(cause),
            "{err}"
        );
    }
}

/// `--keep-sessions` or `keep-sessions` in `[notify-backup]`; notify-master refuses the key
/// in its own group, and never keeps sessions (it ends none).
#[test]
fn keep_sessions_from_the_flag_or_the_option_file() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let resolve = |body: &str, flag: bool| {
        let cnf = dir.path().join("my.cnf");
        std::fs::write(&cnf, body).unwrap();
        let mut argv = vec![
            "notify-backup".as_ref(),
            "--defaults-file".as_ref(),
            cnf.as_os_str(),
        ];
        if flag {
            argv.push("--keep-sessions".as_ref());
        }
        let args = crate::cli::NotifyBackupArgs::parse_from(argv);
        notify_settings(
            "notify-backup",
            &args.connection,
            &args.server,
            None,
            &Default::default(),
            None,
            Some(args.keep_sessions),
            None,
        )
        .map(|s| s.keep_sessions)
        .map_err(|e| e.to_string())
    };
    assert_eq!(resolve("[client]\nuser=f\n", false), Ok(false));
    assert_eq!(resolve("[client]\nuser=f\n", true), Ok(true));
    assert_eq!(resolve("[notify-backup]\nkeep-sessions\n", false), Ok(true));
    assert_eq!(
        resolve("[notify-backup]\nkeep-sessions=0\n", false),
        Ok(false)
    );
    assert_eq!(
        resolve("[notify-backup]\nskip-keep-sessions\n", false),
        Ok(false)
    );
    assert!(
        resolve("[notify-backup]\nkeep-sessions=maybe\n", false)
            .is_err_and(|e| e.contains("keep-sessions")),
    );

    let cnf = dir.path().join("master.cnf");
    std::fs::write(&cnf, "[notify-master]\nkeep-sessions\n").unwrap();
    let args = crate::cli::NotifyMasterArgs::parse_from([
        "notify-master".as_ref(),
        "--defaults-file".as_ref(),
        cnf.as_os_str(),
    ]);
    let refused = notify_settings(
        "notify-master",
        &args.connection,
        &args.server,
        None,
        &Default::default(),
        Some(&args),
        None,
        None,
    );
    assert!(refused.is_err_and(|e| e.to_string().contains("keep-sessions")));
}

/// `--peer` and the `peer` key of [notify-master] and [notify-backup]: parsed as
/// check-mysql's, TCP with the helper's own account; the command line wins; a bad value is
/// exit 78 naming where it came from.
#[test]
fn notify_helpers_take_a_peer() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let cnf = dir.path().join("my.cnf");
    std::fs::write(
        &cnf,
        "[client]\nuser=failover\nsocket=/run/x.sock\n\
         [notify-master]\npeer=db2:3307\n[notify-backup]\npeer=[::1]\n",
    )
    .unwrap();
    let file = cnf.to_str().unwrap();
    let master = |extra: &[&str]| {
        let mut argv = vec!["notify-master", "--defaults-file", file];
        argv.extend_from_slice(extra);
        let args = crate::cli::NotifyMasterArgs::parse_from(argv);
        notify_settings(
            "notify-master",
            &args.connection,
            &args.server,
            args.peer.as_deref(),
            &Default::default(),
            Some(&args),
            None,
            None,
        )
    };
    let peer = master(&[])
        .unwrap()
        .peer
        .expect("peer from [notify-master]");
    assert_eq!(
        (peer.host.as_deref(), peer.port, peer.socket.as_deref()),
        (Some("db2"), 3307, None)
    );
    assert_eq!(peer.user.as_deref(), Some("failover"));
    let flag = master(&["--peer", "db3"]).unwrap().peer.unwrap();
    assert_eq!(
        (flag.host.as_deref(), flag.port),
        (Some("db3"), DEFAULT_PORT)
    );
    let bad = master(&["--peer", "db:0"]).unwrap_err();
    assert!(bad.to_string().starts_with("--peer:"), "{bad}");

    let args = crate::cli::NotifyBackupArgs::parse_from(["notify-backup", "--defaults-file", file]);
    let backup = notify_settings(
        "notify-backup",
        &args.connection,
        &args.server,
        args.peer.as_deref(),
        &Default::default(),
        None,
        Some(false),
        None,
    )
    .unwrap();
    let peer = backup.peer.expect("peer from [notify-backup]");
    assert_eq!(
        (peer.host.as_deref(), peer.port),
        (Some("::1"), DEFAULT_PORT)
    );

    std::fs::write(&cnf, "[notify-backup]\npeer=a:b:c\n").unwrap();
    let err = notify_settings(
        "notify-backup",
        &args.connection,
        &args.server,
        None,
        &Default::default(),
        None,
        Some(false),
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("peer") && err.contains("a:b:c"), "{err}");
}

/// notify-backup's settings keep a bad guard setting apart from what fencing needs: each
/// row is the command line's extra flags and the option file, then whether fencing may go
/// on (the connection, timeout and state dir resolved) with which guard error, and what of
/// the guard is kept.
#[test]
fn a_bad_guard_setting_is_kept_apart_from_what_fencing_needs() {
    use clap::Parser;
    let dir = tempfile::tempdir().unwrap();
    let cnf = dir.path().join("my.cnf");
    let file = cnf.to_str().unwrap().to_string();
    // (flags, option file, Ok(guard error contains, peer kept) | Err(contains))
    type Expect = Result<(Option<&'static str>, bool), &'static str>;
    let rows: &[(&[&str], &str, Expect)] = &[
        (&["--peer", "db2"], "", Ok((None, true))),
        (&["--peer", "foo:bar"], "", Ok((Some("--peer:"), false))),
        (&["--peer", "db2:0"], "", Ok((Some("--peer:"), false))),
        (&["--peer", "db2:70000"], "", Ok((Some("--peer:"), false))),
        (&["--peer", ""], "", Ok((Some("--peer:"), false))),
        (
            &[],
            "[notify-backup]\npeer=a:b:c\n",
            Ok((Some("peer"), false)),
        ),
        (&["--witness", "w"], "", Ok((Some("needs --peer"), false))),
        (
            &["--peer", "db2", "--witness", "w", "--timeout", "5s"],
            "",
            Ok((Some("lease TTL"), true)),
        ),
        (
            &["--peer", "db2", "--witness", "w", "--lease-ttl", "3s"],
            "",
            Ok((Some("lease TTL"), true)),
        ),
        // What fencing itself needs stays a plain error.
        (
            &["--peer", "foo:bar"],
            "[notify-backup]\ntimeout=x\n",
            Err("timeout"),
        ),
        (&[], "[notify-backup]\nbogus=1\n", Err("bogus")),
        (&[], "[client]\nport=0\n", Err("port")),
    ];
    for (flags, body, expect) in rows {
        std::fs::write(&cnf, body).unwrap();
        let mut argv = vec!["notify-backup", "--defaults-file", &file];
        argv.extend_from_slice(flags);
        let args = crate::cli::NotifyBackupArgs::parse_from(argv);
        let got = notify_settings_apart(
            "notify-backup",
            &args.connection,
            &args.server,
            args.peer.as_deref(),
            &args.witness,
            None,
            Some(false),
            None,
        );
        match (got, expect) {
            (Ok((s, guard)), Ok((want, peer_kept))) => {
                let guard = guard.map(|e| e.to_string());
                match (&guard, want) {
                    (None, None) => {}
                    (Some(g), Some(w)) if g.contains(w) => {}
                    _ => panic!("{flags:?} {body:?}: guard error {guard:?}, want {want:?}"),
                }
                assert_eq!(s.peer.is_some(), *peer_kept, "{flags:?} {body:?}");
                assert!(s.witness.is_none() || guard.is_none(), "{flags:?}");
            }
            (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{flags:?}: {e}"),
            (got, _) => panic!(
                "{flags:?} {body:?}: got {:?}, want {expect:?}",
                got.map(|(_, g)| g.map(|e| e.to_string()))
                    .map_err(|e| e.to_string())
            ),
        }
    }
}
