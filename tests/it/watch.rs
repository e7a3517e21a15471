//! `check-mysql --watch` against real servers: the track file follows the server (killed,
//! hung, back), one persistent connection per server, the status file, systemd's notify
//! protocol, and a track file it cannot write. Outcomes only: every wait below is a bounded
//! poll for a state (a guard against hanging), never a timed assertion.

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::mariadb::Server;
use crate::common::process::{KillOnDrop, die_with_parent};
use crate::common::run::bin_path;
use crate::common::wait_until;
use crate::harness::Pair;

/// A running watcher and its files.
struct Watcher {
    child: KillOnDrop,
    state: tempfile::TempDir,
    track: PathBuf,
}

impl Watcher {
    /// `check-mysql --watch` on `s` as root, `args` added, in a fresh state dir.
    fn start(s: &Server, args: &[&str], env: &[(&str, &str)]) -> Watcher {
        let state = tempfile::Builder::new()
            .prefix("kam-it-watch-")
            .tempdir()
            .expect("state dir");
        let track = state.path().join("check-mysql.track");
        let mut cmd = Command::new(bin_path("check-mysql"));
        cmd.env_clear()
            .envs(env.iter().copied())
            .arg("--defaults-file")
            .arg(s.option_file("root", None))
            .arg("--state-dir")
            .arg(state.path())
            .arg("--no-syslog")
            .args(["--watch", "--interval", "50ms", "--poll-timeout", "300ms"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        die_with_parent(&mut cmd);
        let child = KillOnDrop::new(cmd.spawn().expect("spawn check-mysql --watch"));
        Watcher {
            child,
            state,
            track,
        }
    }

    fn track_value(&self) -> Option<String> {
        std::fs::read_to_string(&self.track)
            .ok()
            .map(|t| t.trim().to_string())
    }

    /// Wait until the track file says `want` (the watcher must still run).
    #[track_caller]
    fn wait_track(&mut self, want: &str) {
        let (child, track) = (&mut self.child, &self.track);
        wait_until(&format!("track file says {want}"), || {
            if let Some(status) = child.try_wait() {
                return Err(format!("the watcher exited: {status}"));
            }
            let got = std::fs::read_to_string(track).unwrap_or_default();
            match got.trim() == want {
                true => Ok(()),
                false => Err(format!("track file says {:?}", got.trim())),
            }
        })
    }

    fn status(&self) -> serde_json::Value {
        let text = std::fs::read_to_string(self.state.path().join("check-mysql.watch.json"))
            .unwrap_or_default();
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }
}

/// Connections of the watcher's account (root over TCP from 127.0.0.1) other than the
/// test's own, seen by `s`.
fn watcher_connections(s: &Server) -> usize {
    let rows = s.sql(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE USER = 'root' AND ID <> CONNECTION_ID() AND COMMAND <> 'Binlog Dump'",
    );
    rows[0][0].as_deref().unwrap_or("0").parse().unwrap()
}

#[test]
fn the_track_file_follows_a_killed_and_restarted_writer() {
    let mut p = Pair::dual_master();
    p.b.sql("SET GLOBAL read_only = ON");
    let a_peer = p.b.address();
    let mut w = Watcher::start(
        &p.a,
        &[
            "--role", "writer", "--peer", &a_peer, "--fall", "2", "--rise", "2",
        ],
        &[],
    );
    w.wait_track("0");
    p.a.kill();
    w.wait_track("1");
    let s = w.status();
    assert_eq!(s["exit_code"], 1, "{s}");
    assert_eq!(s["watch"]["track"], 1, "{s}");
    p.a.restart();
    w.wait_track("0");
}

#[test]
fn a_hung_writer_is_seen_within_the_poll_deadline_and_back_after_it_resumes() {
    let p = Pair::dual_master();
    let mut w = Watcher::start(&p.a, &["--role", "writer"], &[]);
    w.wait_track("0");
    p.a.pause();
    // The watcher is never waited on by the server: it flips while the server still hangs.
    w.wait_track("1");
    let s = w.status();
    assert!(
        s["message"]
            .as_str()
            .unwrap_or("")
            .contains("--poll-timeout")
            || s.to_string().contains("--poll-timeout"),
        "{s}"
    );
    p.a.resume();
    w.wait_track("0");
}

#[test]
fn a_standby_whose_replication_breaks_must_not_hold_the_vip() {
    let p = Pair::dual_master();
    p.b.sql("SET GLOBAL read_only = ON");
    let peer = p.a.address();
    let mut w = Watcher::start(&p.b, &["--role", "standby", "--peer", &peer], &[]);
    w.wait_track("0");
    p.b.sql("STOP SLAVE");
    w.wait_track("2");
    p.b.sql("START SLAVE");
    w.wait_track("0");
}

#[test]
fn one_persistent_connection_per_server() {
    let p = Pair::dual_master();
    p.b.sql("SET GLOBAL read_only = ON");
    let peer = p.b.address();
    let mut w = Watcher::start(&p.a, &["--role", "writer", "--peer", &peer], &[]);
    w.wait_track("0");
    // Many polls later (50 ms apart), still one connection on each server, the same one.
    let polls = |w: &Watcher| w.status()["watch"]["polls"].as_u64().unwrap_or(0);
    let first = polls(&w);
    let ids = |s: &Server| {
        s.sql(
            "SELECT GROUP_CONCAT(ID) FROM information_schema.PROCESSLIST \
             WHERE USER = 'root' AND ID <> CONNECTION_ID() AND COMMAND <> 'Binlog Dump'",
        )[0][0]
            .clone()
    };
    let before = (ids(&p.a), ids(&p.b));
    wait_until("twenty more polls", || match polls(&w) >= first + 20 {
        true => Ok(()),
        false => Err(format!("{} polls", polls(&w))),
    });
    assert_eq!(
        (watcher_connections(&p.a), watcher_connections(&p.b)),
        (1, 1)
    );
    assert_eq!(
        (ids(&p.a), ids(&p.b)),
        before,
        "the connections were replaced"
    );
    drop(w.child.child().kill());
}

#[test]
fn a_track_file_it_cannot_write_stops_the_watcher_with_73() {
    let s = Pair::dual_master();
    // A directory nobody can create files in, root included.
    let track = "/proc/kam-it-watch.track";
    let (code, text) = exit_and_line(Watcher::start(
        &s.a,
        &["--role", "writer", "--track-file", track],
        &[],
    ));
    assert_eq!(code, Some(73), "{text}");
    assert!(
        text.starts_with("FAIL track-file: cannot write the track file"),
        "{text}"
    );
}

/// A track file's place that cannot work is a configuration error (78, which systemd does
/// not restart), and so is a second watcher on the same track file: the two would rewrite
/// each other's value every poll.
#[test]
fn a_second_watcher_or_a_track_file_in_no_directory_is_refused_with_78() {
    let s = Pair::dual_master();
    let mut first = Watcher::start(&s.a, &["--role", "writer"], &[]);
    first.wait_track("0");
    let track = first.track.to_str().unwrap().to_string();
    let (code, text) = exit_and_line(Watcher::start(
        &s.a,
        &["--role", "writer", "--track-file", &track],
        &[],
    ));
    assert_eq!(code, Some(78), "{text}");
    assert!(text.contains("another check-mysql --watch"), "{text}");
    first.wait_track("0");
    let blocked = tempfile::tempdir().unwrap();
    let not_a_dir = blocked.path().join("file");
    std::fs::write(&not_a_dir, "").unwrap();
    for bad in [
        not_a_dir.join("check-mysql.track").display().to_string(),
        "relative.track".to_string(),
    ] {
        let (code, text) = exit_and_line(Watcher::start(
            &s.a,
            &["--role", "writer", "--track-file", &bad],
            &[],
        ));
        assert_eq!(code, Some(78), "{bad}: {text}");
        assert!(
            text.starts_with("FAIL config: --track-file"),
            "{bad}: {text}"
        );
    }
}

/// A role file the watcher cannot use fails each poll as a configuration error (78) and
/// says why, in the line and the status file; the watcher goes on.
#[test]
fn an_unusable_role_file_is_said_and_fails_the_poll() {
    let s = Pair::dual_master();
    let mut w = Watcher::start(&s.a, &["--role", "auto"], &[]);
    w.wait_track("0");
    std::fs::write(w.state.path().join("role"), "garbage\n").unwrap();
    w.wait_track("78");
    let st = w.status();
    assert_eq!(st["exit_code"], 78, "{st}");
    assert!(st.to_string().contains("role"), "{st}");
    std::fs::remove_file(w.state.path().join("role")).unwrap();
    w.wait_track("0");
}

/// The watcher's exit code and its one line of stdout.
fn exit_and_line(mut w: Watcher) -> (Option<i32>, String) {
    let status = wait_until("the watcher exits", || {
        w.child
            .try_wait()
            .ok_or_else(|| "still running".to_string())
    });
    let out = w.child.child().stdout.take().unwrap();
    let text = std::io::read_to_string(out).unwrap();
    assert_eq!(text.trim().lines().count(), 1, "{text}");
    (status.code(), text)
}

#[test]
fn it_tells_systemd_it_is_ready_and_alive() {
    let p = Pair::dual_master();
    let dir = tempfile::tempdir().unwrap();
    let sock_path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let path = sock_path.to_str().unwrap();
    let mut w = Watcher::start(
        &p.a,
        &["--role", "writer"],
        &[("NOTIFY_SOCKET", path), ("WATCHDOG_USEC", "1000000")],
    );
    let mut seen = String::new();
    let mut buf = [0u8; 4096];
    while !(seen.contains("READY=1") && seen.matches("WATCHDOG=1").count() >= 3) {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no notification ({e}); so far: {seen:?}"));
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
        seen.push('\n');
    }
    w.wait_track("0");
    // Stopped, it says nothing more: systemd's watchdog would restart it.
    crate::common::process::signal(w.child.id(), libc::SIGSTOP).unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    // What was sent before the stop drains; then nothing comes for 300 ms.
    let mut after_stop = 0;
    while sock.recv(&mut buf).is_ok() {
        after_stop += 1;
        assert!(after_stop < 20, "a stopped watcher still pings");
    }
    crate::common::process::signal(w.child.id(), libc::SIGCONT).unwrap();
}

/// While the peer's polls get no answer the watcher keeps a record of it for notify-master
/// (`check-mysql.peer-silent`: which peer, since when); the peer's first answer removes it.
#[test]
fn a_silent_peer_is_recorded_for_notify_master_until_it_answers() {
    let p = Pair::dual_master();
    p.b.sql("SET GLOBAL read_only = ON");
    let peer = p.b.address();
    let mut w = Watcher::start(&p.a, &["--role", "writer", "--peer", &peer], &[]);
    w.wait_track("0");
    let record = w.state.path().join("check-mysql.peer-silent");
    assert!(!record.exists());
    p.b.pause();
    let text = wait_until("the silence record", || {
        std::fs::read_to_string(&record).map_err(|e| e.to_string())
    });
    assert!(
        text.starts_with(&format!("peer={peer} since_ms=")),
        "{text}"
    );
    // A silent peer is no reason for the writer to give up the VIP.
    assert_eq!(w.track_value().as_deref(), Some("0"));
    p.b.resume();
    wait_until("the record removed", || match record.exists() {
        false => Ok(()),
        true => Err("still there".into()),
    });
}

/// keepalived reads a missing, empty or non-numeric track file as 0 ("may hold the VIP"):
/// whoever removes or changes the file, the watcher writes its own value again.
#[test]
fn a_track_file_removed_or_changed_by_someone_else_is_written_again() {
    let p = Pair::dual_master();
    // A writer that is read-only: must not hold the VIP (5).
    p.a.sql("SET GLOBAL read_only = ON");
    let mut w = Watcher::start(&p.a, &["--role", "writer"], &[]);
    w.wait_track("5");
    std::fs::remove_file(&w.track).unwrap();
    w.wait_track("5");
    std::fs::write(&w.track, "").unwrap();
    w.wait_track("5");
    std::fs::write(&w.track, "0\n").unwrap();
    w.wait_track("5");
}
