//! The files of `packaging/` as they are in the source tree, without building or installing
//! anything and without root: the dual-master fragment is what `mariadbd` accepts, the
//! example keepalived configs of the two nodes agree and give the check enough time, and the
//! watcher's systemd unit runs the installed watcher as the script user, hardened, and is what
//! `systemd-analyze verify` accepts. (`tests/package/` builds the packages, installs the .deb
//! and checks them as installed.)
//!
//! Needs MariaDB's `mariadbd` (`apt-get install mariadb-server`), `systemd-analyze`
//! (`apt-get install systemd`) and `man` (`apt-get install man-db`); a missing one fails the
//! test with what to install.

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use common::mariadb::{INSTALL_HINT, mariadb_program};
use common::programs::{require, tool};

const SOURCE: &str = env!("CARGO_MANIFEST_DIR");

/// The dual-master fragment is valid for MariaDB and sets what its comments promise.
#[test]
fn dual_master_cnf_is_what_mariadbd_accepts() {
    require(
        "the packaging file tests",
        None,
        &[tool("mariadbd", INSTALL_HINT)],
    );
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(mariadb_program("mariadbd"))
        .arg(format!(
            "--defaults-file={SOURCE}/packaging/dual-master.cnf"
        ))
        .arg(format!("--datadir={}", dir.path().display()))
        .args(["--verbose", "--help"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run mariadbd --verbose --help");
    assert!(
        out.status.success(),
        "mariadbd --defaults-file=packaging/dual-master.cnf --verbose --help failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let value = |name: &str| {
        // The table of values comes last (the option descriptions above it may start a
        // wrapped line with a variable's name).
        text.lines()
            .rev()
            .find_map(|l| {
                let mut parts = l.split_whitespace();
                (parts.next() == Some(name)).then(|| parts.collect::<Vec<_>>().join(" "))
            })
            .unwrap_or_else(|| panic!("mariadbd --verbose --help shows no {name}"))
    };
    for (name, expected) in [
        ("server-id", "1"),
        ("log-bin", "mariadb-bin"),
        ("binlog-format", "ROW"),
        ("log-slave-updates", "TRUE"),
        ("gtid-domain-id", "0"),
        ("gtid-strict-mode", "TRUE"),
        ("auto-increment-increment", "2"),
        ("auto-increment-offset", "1"),
        ("read-only", "TRUE"),
        ("slave-skip-errors", "OFF"),
        ("sync-binlog", "1"),
        ("innodb-flush-log-at-trx-commit", "1"),
        ("relay-log-recovery", "TRUE"),
        ("slave-net-timeout", "10"),
    ] {
        assert_eq!(value(name), expected, "{name} in packaging/dual-master.cnf");
    }
    let cnf = fs::read_to_string(format!("{SOURCE}/packaging/dual-master.cnf")).unwrap();
    assert!(
        !cnf.lines().any(|l| !l.trim_start().starts_with('#')
            && l.contains("skip")
            && l.contains("errors")),
        "dual-master.cnf must not skip replication errors"
    );
}

/// The example keepalived.conf pairs (node A, node B): the one-shot setup, and the watch
/// setup (`check-mysql --watch`, README "Watch mode (sub-second failover)").
const KEEPALIVED_EXAMPLES: [(&str, &str); 2] = [
    ("keepalived-node-a.conf", "keepalived-node-b.conf"),
    (
        "keepalived-node-a-watch.conf",
        "keepalived-node-b-watch.conf",
    ),
];

/// Node A's and node B's keepalived.conf differ only where the nodes differ, in both setups.
#[test]
fn keepalived_examples_differ_only_in_priority_and_addresses() {
    for (a, b) in KEEPALIVED_EXAMPLES {
        nodes_differ_only_in_priority_and_addresses(a, b);
    }
}

fn nodes_differ_only_in_priority_and_addresses(a_name: &str, b_name: &str) {
    let (a, b) = (packaging(a_name), packaging(b_name));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(
        a.len(),
        b.len(),
        "{a_name} and {b_name} have different lengths"
    );
    for (la, lb) in a.iter().zip(&b) {
        if la == lb {
            continue;
        }
        let key = |l: &str| l.split_whitespace().next().unwrap_or("").to_string();
        // Node B's line is node A's with the two nodes' addresses swapped (unicast_src_ip,
        // unicast_peer, check-mysql --peer).
        let swapped = la
            .replace("192.0.2.11", "\0")
            .replace("192.0.2.12", "192.0.2.11")
            .replace('\0', "192.0.2.12");
        let allowed = la.starts_with('#') || key(la) == "priority" || swapped == *lb;
        assert!(
            allowed && !key(la).is_empty(),
            "{a_name} and {b_name} differ in:\n  {la}\n  {lb}"
        );
    }
    // Each node's check probes the other node (--peer): a dead peer is then told from a
    // broken replication path, and a stalled replication connection is seen.
    for (text, other) in [(&a, "192.0.2.12"), (&b, "192.0.2.11")] {
        // The notify helpers know the other node too: the split-brain guard.
        for hook in text
            .iter()
            .filter(|l| l.trim_start().starts_with("notify_"))
        {
            assert!(
                hook.contains(&format!(" --peer {other}\"")),
                "notify hooks should name the other node ({other}) as --peer: {hook}"
            );
        }
        assert!(
            text.iter().any(|l| l.contains("check-mysql --is-writer")),
            "a vrrp_script running check-mysql --is-writer"
        );
        let script = text
            .iter()
            .find(|l| l.trim_start().starts_with("script \""))
            .expect("a vrrp_script line");
        assert!(
            script.contains(&format!(" --peer {other} ")),
            "the check should name the other node ({other}) as --peer: {script}"
        );
    }
    for text in [&a, &b] {
        for needed in [
            "enable_script_security",
            "script_user keepalived_script",
            "weight 0",
            "nopreempt",
            "notify_master",
            "notify_backup",
            "notify_fault",
            "notify_stop",
            "notify_deleted",
            "unicast_peer",
            "track_script",
            // The split-brain guard: the writer wins the election after a heal.
            "vrrp_script chk_writer",
            "weight 20",
        ] {
            assert!(
                text.iter().any(|l| l.trim_start().starts_with(needed)),
                "{a_name} or {b_name} lacks {needed}"
            );
        }
    }
}

/// What a watch example adds to its one-shot example, as keepalived reads it (comments and
/// blank lines dropped, lines trimmed), in order, each with the block it sits in.
const WATCH_PIECES: &[(&str, &[&str])] = &[
    ("global_defs", &["vrrp_version 3"]),
    (
        "",
        &[
            "track_file mysql_watch_file {",
            "file /run/keepalived-mysql/check-mysql.track",
            "init_file 1",
            "}",
        ],
    ),
    (
        "",
        &[
            "vrrp_track_process mysql_watch_process {",
            "process /usr/libexec/keepalived-mysql/check-mysql --watch",
            "param_match partial",
            "}",
        ],
    ),
    (
        "vrrp_instance VI_MYSQL",
        &["track_file {", "mysql_watch_file weight 0", "}"],
    ),
    (
        "vrrp_instance VI_MYSQL",
        &["track_process {", "mysql_watch_process weight 0", "}"],
    ),
];

/// A keepalived.conf taken apart: `rest`, the file without its header comment (up to the
/// first blank line), without the watch pieces and their comments, with each `advert_int`
/// line (and its comments) replaced by `advert_int` alone, the same for `priority`, and runs
/// of blank lines made one; `pieces`, the watch pieces found (see [`WATCH_PIECES`]);
/// `advert_int` and `priority`, their values.
struct TakenApart {
    rest: Vec<String>,
    pieces: Vec<(String, Vec<String>)>,
    advert_int: Vec<String>,
    priority: Vec<String>,
}

fn take_apart(text: &str) -> TakenApart {
    let keepalived_line = |l: &str| l.split('#').next().unwrap_or("").trim().to_string();
    let starts_piece = |t: &str| {
        t == "vrrp_version 3"
            || t.starts_with("track_file ")
            || t.starts_with("vrrp_track_process ")
            || t.starts_with("track_process ")
    };
    let mut lines = text.lines().skip_while(|l| !l.trim().is_empty()).peekable();
    let mut taken = TakenApart {
        rest: Vec::new(),
        pieces: Vec::new(),
        advert_int: Vec::new(),
        priority: Vec::new(),
    };
    let mut blocks: Vec<String> = Vec::new();
    let drop_comments = |rest: &mut Vec<String>| {
        while rest.last().is_some_and(|l| l.trim_start().starts_with('#')) {
            rest.pop();
        }
    };
    while let Some(line) = lines.next() {
        let t = keepalived_line(line);
        if starts_piece(&t) {
            drop_comments(&mut taken.rest);
            let mut piece = vec![t.clone()];
            let mut depth = usize::from(t.ends_with('{'));
            while depth > 0 {
                let inner = keepalived_line(lines.next().expect("an unclosed block"));
                if inner.ends_with('{') {
                    depth += 1;
                } else if inner == "}" {
                    depth -= 1;
                }
                if !inner.is_empty() {
                    piece.push(inner);
                }
            }
            taken.pieces.push((blocks.join(" / "), piece));
            continue;
        }
        if let Some(value) = t.strip_prefix("advert_int ") {
            drop_comments(&mut taken.rest);
            taken.advert_int.push(value.trim().to_string());
            taken.rest.push("advert_int".into());
            continue;
        }
        if let Some(value) = t.strip_prefix("priority ") {
            drop_comments(&mut taken.rest);
            taken.priority.push(value.trim().to_string());
            taken.rest.push("priority".into());
            continue;
        }
        if let Some(name) = t.strip_suffix('{') {
            blocks.push(name.trim().to_string());
        } else if t == "}" {
            blocks.pop();
        }
        if line.trim().is_empty() && taken.rest.last().is_some_and(|l| l.trim().is_empty()) {
            continue;
        }
        taken.rest.push(line.to_string());
    }
    taken
}

/// Each watch example is its one-shot example plus exactly the watch pieces: the same lines,
/// comments included, except the header comment, `advert_int` (0.2 instead of 1),
/// `priority` (230/220 instead of 100/90: VRRPv3's skew scales with it) and the pieces with
/// their comments, which must be exactly [`WATCH_PIECES`], in their blocks. A
/// change to a one-shot example that the watch example does not follow fails here.
#[test]
fn watch_examples_are_the_one_shot_ones_plus_the_watch_pieces() {
    for (a, b) in KEEPALIVED_EXAMPLES.iter().skip(1) {
        for watch in [a, b] {
            let one_shot = watch.replace("-watch.conf", ".conf");
            let (w, o) = (
                take_apart(&packaging(watch)),
                take_apart(&packaging(&one_shot)),
            );
            assert!(
                o.pieces.is_empty(),
                "{one_shot} has watch pieces: {:?}",
                o.pieces
            );
            let expected: Vec<(String, Vec<String>)> = WATCH_PIECES
                .iter()
                .map(|(block, lines)| {
                    (
                        block.to_string(),
                        lines.iter().map(|l| l.to_string()).collect(),
                    )
                })
                .collect();
            assert_eq!(w.pieces, expected, "{watch}: the watch pieces");
            assert_eq!(o.advert_int, ["1"], "{one_shot}: advert_int");
            assert_eq!(
                w.advert_int,
                ["0.2"],
                "{watch}: advert_int (VRRPv3, sub-second)"
            );
            let (want_o, want_w) = match watch.contains("node-a") {
                true => ("100", "230"),
                false => ("90", "220"),
            };
            assert_eq!(o.priority, [want_o], "{one_shot}: priority");
            assert_eq!(
                w.priority,
                [want_w],
                "{watch}: priority (a short VRRPv3 skew)"
            );
            if let Some(at) =
                (0..w.rest.len().max(o.rest.len())).find(|&i| w.rest.get(i) != o.rest.get(i))
            {
                panic!(
                    "{watch} is not {one_shot} plus the watch pieces: from line {} of what \
                     remains of each:\n  {watch}: {:?}\n  {one_shot}: {:?}",
                    at + 1,
                    w.rest.get(at),
                    o.rest.get(at)
                );
            }
            // Each one-shot example points at its watch variant.
            assert!(
                packaging(&one_shot).contains(watch),
                "{one_shot}'s header does not mention {watch}"
            );
        }
    }
}

/// The watch examples' track_file is the watcher's default track file (check-mysql.track in
/// the default state dir, which tmpfiles.d creates), and their vrrp_track_process names the
/// check-mysql the packages install, followed by `--watch`, the watcher's first argument.
#[test]
fn watch_examples_track_the_default_file_and_the_installed_watcher() {
    use keepalived_mysql::cli::{DEFAULT_STATE_DIR, TRACK_FILE_NAME};
    let (created, _) = tmpfiles_state_dir();
    assert_eq!(created, DEFAULT_STATE_DIR, "tmpfiles.d's state dir");
    let track_file = format!("{DEFAULT_STATE_DIR}/{TRACK_FILE_NAME}");
    let process = format!("{} --watch", installed_check_mysql());
    for (a, b) in KEEPALIVED_EXAMPLES.iter().skip(1) {
        for watch in [a, b] {
            let text = packaging(watch);
            let setting = |key: &str| -> Vec<String> {
                text.lines()
                    .map(|l| l.split('#').next().unwrap_or("").trim())
                    .filter_map(|l| l.strip_prefix(key).map(|v| v.trim().to_string()))
                    .collect()
            };
            assert_eq!(
                setting("file "),
                [track_file.as_str()],
                "{watch}: track_file"
            );
            assert_eq!(
                setting("process "),
                [process.as_str()],
                "{watch}: vrrp_track_process"
            );
            // Not `overwrite`: it would clobber a running watcher's verdict at keepalived's
            // start (FAULT until the watcher's next poll writes it again).
            assert_eq!(setting("init_file "), ["1"], "{watch}: init_file");
            // The chk_mysql safety net runs the same binary.
            assert!(
                text.contains(&format!("script \"{} ", installed_check_mysql())),
                "{watch}: chk_mysql does not run the installed check-mysql"
            );
        }
    }
}

/// keepalived's script timeout is above check-mysql's --timeout in the examples.
#[test]
fn keepalived_examples_give_the_check_more_time_than_its_deadline() {
    let text = fs::read_to_string(format!("{SOURCE}/packaging/keepalived-node-a.conf")).unwrap();
    let script = text
        .lines()
        .find(|l| l.trim_start().starts_with("script \""))
        .expect("a vrrp_script line");
    let deadline = script
        .split_whitespace()
        .skip_while(|w| *w != "--timeout")
        .nth(1)
        .expect("--timeout in the script line")
        .trim_end_matches('"');
    let deadline_ms: u64 = deadline
        .strip_suffix("ms")
        .expect("--timeout in ms")
        .parse()
        .unwrap();
    let timeout_s: u64 = text
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("timeout "))
        .and_then(|v| v.split_whitespace().next())
        .expect("timeout in vrrp_script")
        .parse()
        .unwrap();
    assert!(
        deadline_ms < timeout_s * 1000,
        "check-mysql --timeout {deadline} is not below keepalived's timeout {timeout_s}"
    );
}

// ---------------------------------------------------------------------------------------------
// The watcher's systemd unit

const UNIT: &str = "keepalived-mysql-watch.service";

/// `packaging/NAME` as text.
fn packaging(name: &str) -> String {
    fs::read_to_string(format!("{SOURCE}/packaging/{name}"))
        .unwrap_or_else(|e| panic!("read packaging/{name}: {e}"))
}

/// The unit's settings as (section, key, value), in order; comments and blank lines dropped.
fn unit_settings() -> Vec<(String, String, String)> {
    let mut section = String::new();
    let mut settings = Vec::new();
    for line in packaging(UNIT).lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .unwrap_or_else(|| panic!("packaging/{UNIT}: not a setting: {line:?}"));
        settings.push((section.clone(), key.trim().into(), value.trim().into()));
    }
    settings
}

/// The one value of `key` in `[section]` (a key set twice is a mistake here).
#[track_caller]
fn unit_value(settings: &[(String, String, String)], section: &str, key: &str) -> String {
    let values: Vec<&String> = settings
        .iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v)
        .collect();
    match values.as_slice() {
        [one] => one.to_string(),
        _ => panic!(
            "packaging/{UNIT}: [{section}] {key}= is set {} times",
            values.len()
        ),
    }
}

/// Where the packages install check-mysql, from Cargo.toml's asset lists: the .deb's and the
/// .rpm's, which must agree.
fn installed_check_mysql() -> String {
    let manifest = fs::read_to_string(format!("{SOURCE}/Cargo.toml")).unwrap();
    let quoted = |line: &str| -> Vec<String> {
        line.split('"')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    let deb = manifest
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("[\"target/release/check-mysql\""))
        .map(|l| {
            let q = quoted(l);
            let dest = format!("/{}", q[1]);
            if dest.ends_with('/') {
                format!("{dest}check-mysql")
            } else {
                dest
            }
        })
        .expect("Cargo.toml: a .deb asset for target/release/check-mysql");
    let rpm = manifest
        .lines()
        .find(|l| l.contains("source = \"target/release/check-mysql\""))
        .and_then(|l| {
            let q = quoted(l);
            let at = q.iter().position(|w| w == "target/release/check-mysql")?;
            // { source = "SRC", dest = "DEST", ... }: the quoted strings alternate.
            l.contains("dest = ").then(|| q[at + 1].clone())
        })
        .expect("Cargo.toml: an .rpm asset for target/release/check-mysql");
    assert_eq!(
        deb, rpm,
        "the .deb and the .rpm install check-mysql at different paths"
    );
    deb
}

/// The state dir that tmpfiles.d creates, and its owner.
fn tmpfiles_state_dir() -> (String, String) {
    let text = packaging("keepalived-mysql.tmpfiles");
    let line = text
        .lines()
        .find(|l| l.starts_with("d "))
        .expect("packaging/keepalived-mysql.tmpfiles: a `d` line");
    let fields: Vec<&str> = line.split_whitespace().collect();
    (fields[1].to_string(), fields[3].to_string())
}

/// The unit runs the installed check-mysql --watch as the package's script user, tells
/// systemd when it is ready and that it is alive, is restarted whatever happens, may write
/// only the state dir tmpfiles.d creates, and starts before keepalived.
#[test]
fn watch_unit_runs_the_installed_watcher_as_the_script_user() {
    let settings = unit_settings();
    let get = |section: &str, key: &str| unit_value(&settings, section, key);

    assert_eq!(
        get("Service", "ExecStart"),
        format!("{} --watch", installed_check_mysql()),
        "ExecStart= must run the check-mysql that the packages install"
    );
    assert_eq!(get("Service", "Type"), "notify");
    assert_eq!(get("Service", "NotifyAccess"), "main");
    let watchdog = get("Service", "WatchdogSec");
    let watchdog = humantime::parse_duration(&watchdog)
        .unwrap_or_else(|e| panic!("WatchdogSec={watchdog}: {e}"));
    assert!(
        !watchdog.is_zero(),
        "WatchdogSec= must be set: a hung watcher is killed and restarted"
    );
    assert_eq!(get("Service", "Restart"), "always");
    assert_eq!(
        get("Unit", "StartLimitIntervalSec"),
        "0",
        "systemd must never stop restarting the watcher"
    );

    // The script user: the one postinst creates and tmpfiles.d gives the state dir.
    let postinst = packaging("maintainer-scripts/postinst");
    let script_user = postinst
        .lines()
        .find_map(|l| l.strip_prefix("SCRIPT_USER="))
        .expect("postinst sets SCRIPT_USER=");
    let (state_dir, owner) = tmpfiles_state_dir();
    assert_eq!(get("Service", "User"), script_user);
    assert_eq!(get("Service", "Group"), script_user);
    assert_eq!(owner, script_user, "tmpfiles.d's state dir owner");
    assert_eq!(get("Service", "ReadWritePaths"), state_dir);
    assert_eq!(get("Service", "ProtectSystem"), "strict");
    assert_eq!(get("Service", "CapabilityBoundingSet"), "");
    assert_eq!(get("Service", "NoNewPrivileges"), "yes");
    // What the watcher talks over: MariaDB (TCP, unix socket), syslog, sd_notify, --vip
    // (netlink).
    assert_eq!(
        get("Service", "RestrictAddressFamilies"),
        "AF_UNIX AF_INET AF_INET6 AF_NETLINK"
    );

    let before = get("Unit", "Before");
    assert!(
        before.split_whitespace().any(|u| u == "keepalived.service"),
        "the watcher must start before keepalived: Before={before}"
    );
    let after = get("Unit", "After");
    for u in ["mariadb.service", "mysql.service", "network-online.target"] {
        assert!(
            after.split_whitespace().any(|a| a == u),
            "After= lacks {u}: {after}"
        );
    }
    assert_eq!(get("Install", "WantedBy"), "multi-user.target");
}

/// Installed disabled: no maintainer script enables, starts or stops the unit (they may only
/// reload systemd), and cargo-deb is not told to (`systemd-units` would make it add
/// `deb-systemd-helper enable` and `deb-systemd-invoke start`).
#[test]
fn watch_unit_is_never_enabled_or_started_by_the_package() {
    for script in ["postinst", "postrm"] {
        let text = packaging(&format!("maintainer-scripts/{script}"));
        for line in text.lines().filter(|l| !l.trim_start().starts_with('#')) {
            assert!(
                !line.contains("systemctl") || line.contains("systemctl --system daemon-reload"),
                "{script} runs systemctl for more than daemon-reload: {line}"
            );
            assert!(
                !line.contains("deb-systemd-") && !line.contains("invoke-rc.d"),
                "{script} manages a service: {line}"
            );
        }
    }
    let manifest = fs::read_to_string(format!("{SOURCE}/Cargo.toml")).unwrap();
    assert!(
        !manifest
            .lines()
            .any(|l| !l.trim_start().starts_with('#') && l.contains("systemd-units")),
        "Cargo.toml has a systemd-units table: cargo-deb would enable and start the units"
    );
}

/// `systemd-analyze verify` finds nothing wrong with the unit, and `systemd-analyze security`
/// rates its hardening at most 2.0 ("OK"; 1.7 as written: what stays open is the network,
/// which it needs, and what User= already restricts).
///
/// Both are run on a copy whose ExecStart= is the check-mysql this test built (verify
/// fails on a command that does not exist, and the package need not be installed), with
/// `MANPATH` at the man pages build.rs wrote (verify runs `man` on Documentation=). The
/// keepalived_script user need not exist on this machine: verify does not look it up.
#[test]
fn watch_unit_passes_systemd_analyze() {
    require(
        "the watch unit tests",
        None,
        &[
            tool("systemd-analyze", "apt-get install systemd"),
            tool("man", "apt-get install man-db"),
        ],
    );
    let analyze = common::programs::program("systemd-analyze", "apt-get install systemd");
    let built = env!("CARGO_BIN_EXE_check-mysql");
    let installed = installed_check_mysql();
    let text = packaging(UNIT);
    let exec = format!("ExecStart={installed} ");
    assert!(text.contains(&exec), "packaging/{UNIT} has no {exec:?}");
    let text = text.replace(&exec, &format!("ExecStart={built} "));

    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join(UNIT);
    // man looks for PAGE.8.gz under MANPATH/man8; build.rs writes target/<profile>/generated/man.
    let generated = Path::new(built).parent().unwrap().join("generated/man");
    assert!(
        generated.join("check-mysql.8.gz").is_file(),
        "build.rs wrote no man page at {}",
        generated.display()
    );
    fs::create_dir(dir.path().join("man")).unwrap();
    std::os::unix::fs::symlink(&generated, dir.path().join("man/man8")).unwrap();
    let verify = |unit_text: &str| {
        fs::write(&unit, unit_text).unwrap();
        let out = Command::new(&analyze)
            .arg("verify")
            .arg(&unit)
            .env("MANPATH", dir.path().join("man"))
            .env("SYSTEMD_PAGER", "")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run systemd-analyze verify");
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Other units on this machine (keepalived.service, ...) are loaded too; what they
        // provoke is not this unit's business.
        let ours = said.lines().any(|l| l.contains(UNIT));
        (out.status, ours, said)
    };
    let (status, ours, said) = verify(&text);
    assert!(
        status.success() && !ours,
        "systemd-analyze verify packaging/{UNIT} (ExecStart={built}): {status}\n{said}"
    );
    // The same check notices a mistake (verify warns but exits 0 on an unknown key), so the
    // clean result above means something.
    let (_, ours, said) = verify(&text.replace("[Service]\n", "[Service]\nNoSuchSetting=yes\n"));
    assert!(
        ours,
        "systemd-analyze verify did not name the unit for an unknown key:\n{said}"
    );

    fs::write(&unit, &text).unwrap();
    let out = Command::new(&analyze)
        .args(["security", "--offline=yes", "--threshold=20", "--no-pager"])
        .arg(&unit)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run systemd-analyze security");
    assert!(
        out.status.success(),
        "systemd-analyze security --offline=yes --threshold=20 packaging/{UNIT}: {} (its \
         hardening was weakened?)\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
