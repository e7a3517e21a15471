//! The files of `packaging/` as they are in the source tree, without building or installing
//! anything and without root: the dual-master fragment is what `mariadbd` accepts, and the
//! example keepalived configs of the two nodes agree and give the check enough time.
//! (`tests/package/` builds the packages, installs the .deb and checks them as installed.)
//!
//! Needs MariaDB's `mariadbd` (`apt-get install mariadb-server`); a missing one fails the
//! test with what to install.

mod common;

use std::fs;
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

/// Node A's and node B's keepalived.conf differ only where the nodes differ.
#[test]
fn keepalived_examples_differ_only_in_priority_and_addresses() {
    let read = |n: &str| fs::read_to_string(format!("{SOURCE}/packaging/{n}")).unwrap();
    let (a, b) = (
        read("keepalived-node-a.conf"),
        read("keepalived-node-b.conf"),
    );
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(
        a.len(),
        b.len(),
        "node A's and node B's configs have different lengths"
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
            "node A and B differ in:\n  {la}\n  {lb}"
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
                "example keepalived.conf lacks {needed}"
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
