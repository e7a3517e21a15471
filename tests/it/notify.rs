//! `notify-master` and `notify-backup` against real servers: promotion with catch-up,
//! fencing, the role file that `check-mysql --role auto` reads, and concurrent hooks.
//!
//! As in `check.rs`: every test has its own [`Pair`], every node its own fresh `--state-dir`,
//! every run an empty environment and `--no-syslog` (unless the test reads syslog from a
//! socket it binds), and a guard timeout that kills a hung run (a guard against hanging the
//! suite, never a timed assertion). Runs that must go on in the background (a promotion
//! waiting for catch-up) are spawned with [`KillOnDrop`], so a failing test kills them.

use std::fs;
use std::io::Read;
use std::os::unix::io::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::mariadb::{Server, quote};
use crate::common::process::KillOnDrop;
use crate::common::run::{Run, bin_path, our_bin};
use crate::common::{WAIT, wait_until};
use crate::harness::{FAILOVER_PRIVILEGES, Pair, create_failover_user, create_monitor_user};

mod sessions;

/// Kills a foreground run that has not exited by then; the test then fails (exit code `None`).
const GUARD: Duration = Duration::from_secs(10);
/// Same for a background notify-master (whose catch-up may last up to 30 s by contract).
const BACKGROUND_GUARD: Duration = Duration::from_secs(90);

/// Rows written on `a` while `b`'s SQL thread is stopped.
const BEHIND: usize = 5;

/// One node as the notify helpers see it: a server, an option file, a state dir.
struct Node<'s> {
    server: &'s Server,
    defaults: PathBuf,
    state: tempfile::TempDir,
}

impl<'s> Node<'s> {
    /// As root@127.0.0.1 (no password), with a fresh state dir.
    fn new(server: &'s Server) -> Node<'s> {
        Node::as_user(server, "root", None)
    }

    /// As `user` with `password`, with a fresh state dir.
    fn as_user(server: &'s Server, user: &str, password: Option<&str>) -> Node<'s> {
        let state = tempfile::Builder::new()
            .prefix("kam-it-state-")
            .tempdir()
            .expect("state dir");
        Node {
            server,
            defaults: server.option_file(user, password),
            state,
        }
    }

    fn state_dir(&self) -> &Path {
        self.state.path()
    }

    /// `--defaults-file F --state-dir D`, `--no-syslog` unless `syslog` names a socket, then
    /// `args`.
    fn argv(&self, args: &[&str], syslog: Option<&Path>) -> Vec<String> {
        let mut all: Vec<String> = vec![
            "--defaults-file".into(),
            self.defaults.display().to_string(),
            "--state-dir".into(),
            self.state_dir().display().to_string(),
        ];
        match syslog {
            None => all.push("--no-syslog".into()),
            Some(p) => {
                all.push("--syslog-socket".into());
                all.push(p.display().to_string());
            }
        }
        all.extend(args.iter().map(|a| a.to_string()));
        all
    }

    /// Runs `bin` (`notify-master`, `notify-backup`, `check-mysql`) to completion.
    fn run(&self, bin: &'static str, args: &[&str]) -> Run<'_> {
        self.run_guarded(bin, args, None, GUARD)
    }

    fn run_guarded(
        &self,
        bin: &'static str,
        args: &[&str],
        syslog: Option<&Path>,
        guard: Duration,
    ) -> Run<'_> {
        let all = self.argv(args, syslog);
        Run::of(bin, our_bin(bin).env_clear().timeout(guard), all, || {
            self.describe()
        })
    }

    /// notify-master as keepalived starts it on MASTER (30 s catch-up), once it records
    /// `promoting` and waits in MASTER_GTID_WAIT for `received`.
    fn master_catching_up(&self, received: &str) -> Background<'_, 's> {
        let mut master = self.spawn(
            "notify-master",
            &[
                "--catchup-timeout",
                "30s",
                "INSTANCE",
                "VI_1",
                "MASTER",
                "100",
            ],
        );
        master.wait_role("promoting");
        master.wait_in_gtid_wait(received);
        master
    }

    /// Starts `bin` in the background (stdout and stderr piped, empty environment).
    fn spawn(&self, bin: &'static str, args: &[&str]) -> Background<'_, 's> {
        let all = self.argv(args, None);
        let child = Command::new(bin_path(bin))
            .env_clear()
            .args(&all)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {bin}: {e}"));
        println!("$ {bin} {} &  (pid {})", all.join(" "), child.id());
        Background {
            node: self,
            bin,
            args: all,
            child: KillOnDrop::new(child),
        }
    }

    /// The role file's text, `None` when there is none.
    fn role_file(&self) -> Option<String> {
        fs::read_to_string(self.state_dir().join("role")).ok()
    }

    /// The `role=` value of the role file.
    fn role(&self) -> Option<String> {
        self.role_file()?
            .lines()
            .find_map(|l| l.strip_prefix("role=").map(str::to_string))
    }

    /// The state dir's contents and the server's state, for failure messages.
    fn describe(&self) -> String {
        let mut entries: Vec<String> = fs::read_dir(self.state_dir())
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        entries.sort();
        format!(
            "state dir {} holds {entries:?}; role file: {:?}\nserver state: {}",
            self.state_dir().display(),
            self.role_file(),
            self.server.describe()
        )
    }

    /// Panics with `why` and [`Node::describe`] unless the role file says `role`.
    #[track_caller]
    fn expect_role(&self, role: &str) {
        if self.role().as_deref() != Some(role) {
            panic!("expected role file role={role}\n{}", self.describe());
        }
    }

    /// Panics unless the server's `read_only` is `on`.
    #[track_caller]
    fn expect_read_only(&self, on: bool) {
        if read_only(self.server) != on {
            panic!(
                "expected read_only={}\n{}",
                if on { 1 } else { 0 },
                self.describe()
            );
        }
    }

    /// `check-mysql --role auto` with this node's state dir.
    fn check(&self) -> Run<'_> {
        self.run("check-mysql", &["--role", "auto"])
    }
}

/// A helper running in the background; killed when dropped.
struct Background<'n, 's> {
    node: &'n Node<'s>,
    bin: &'static str,
    args: Vec<String>,
    child: KillOnDrop,
}

impl<'n, 's> Background<'n, 's> {
    /// Stdout and stderr of the exited child.
    fn output(&mut self) -> (String, String) {
        let (mut out, mut err) = (String::new(), String::new());
        let child = self.child.child();
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        (out, err)
    }

    /// Panics with the child's output if it has already exited (it must still be waiting).
    #[track_caller]
    fn expect_running(&mut self, why: &str) {
        if let Some(status) = self.child.try_wait() {
            let (out, err) = self.output();
            panic!(
                "{} exited ({status}) but should still be running: {why}\n{} {}\n\
                 stdout: {out:?}\nstderr: {err:?}\n{}",
                self.bin,
                self.bin,
                self.args.join(" "),
                self.node.describe()
            );
        }
    }

    /// Polls until the role file says `role`, failing at once if the child exits first.
    #[track_caller]
    fn wait_role(&mut self, role: &str) {
        let start = Instant::now();
        while self.node.role().as_deref() != Some(role) {
            self.expect_running(&format!("waiting for the role file to say {role}"));
            if start.elapsed() > WAIT {
                panic!(
                    "role file never said role={role} within {WAIT:?}\n{}",
                    self.node.describe()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the child to exit (at most [`BACKGROUND_GUARD`], then kills it).
    fn wait(mut self) -> Run<'n> {
        let start = Instant::now();
        let code = loop {
            if let Some(status) = self.child.try_wait() {
                break status.code();
            }
            if start.elapsed() > BACKGROUND_GUARD {
                let _ = self.child.child().kill();
                let _ = self.child.child().wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let (out, err) = self.output();
        let args = std::mem::take(&mut self.args);
        let node = self.node;
        Run::new(self.bin, args, code, out, err, move || node.describe())
    }
}

fn read_only(s: &Server) -> bool {
    s.var("read_only").as_deref() == Some("1")
}

fn count(s: &Server, table: &str) -> usize {
    s.sql(&format!("SELECT COUNT(*) FROM {table}"))[0][0]
        .as_deref()
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("COUNT(*) FROM {table} on server {}", s.server_id))
}

/// `t.k` on both servers, replicated.
fn with_table(p: &Pair) {
    p.a.sql("CREATE DATABASE t; CREATE TABLE t.k (id INT PRIMARY KEY AUTO_INCREMENT, v TEXT)");
    p.wait_synced();
}

/// Stops `b`'s SQL thread (default connection), writes [`BEHIND`] transactions on `a`, and
/// waits until `b`'s IO thread has received all of them; `b` has applied none. Returns the
/// GTID position received (`Gtid_IO_Pos`).
fn sql_thread_behind(p: &Pair) -> String {
    p.b.sql("STOP SLAVE '' SQL_THREAD");
    p.b.wait_for("SQL thread stopped", |s| {
        s.slave_field("Slave_SQL_Running").as_deref() == Some("No")
    });
    let before = count(&p.b, "t.k");
    for i in 0..BEHIND {
        p.a.sql(&format!(
            "INSERT INTO t.k (v) VALUES ({})",
            quote(&format!("while b's SQL thread was stopped #{i}"))
        ));
    }
    let written = p.a.var("gtid_binlog_pos").expect("gtid_binlog_pos on a");
    p.b.wait_for(&format!("Gtid_IO_Pos = {written}"), |s| {
        s.slave_field("Gtid_IO_Pos").as_deref() == Some(written.as_str())
    });
    assert_eq!(
        count(&p.b, "t.k"),
        before,
        "b applied transactions although its SQL thread is stopped\n{}",
        p.describe()
    );
    written
}

impl Background<'_, '_> {
    /// Polls until this (notify-master) process is inside `MASTER_GTID_WAIT('pos', ...)` on
    /// its server, failing at once if it exits first.
    #[track_caller]
    fn wait_in_gtid_wait(&mut self, pos: &str) {
        let q = format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE {}",
            quote(&format!("SELECT MASTER_GTID_WAIT('{pos}'%"))
        );
        let server = self.node.server;
        let start = Instant::now();
        while server.sql(&q)[0][0].as_deref() == Some("0") {
            self.expect_running(&format!("waiting for it to run MASTER_GTID_WAIT('{pos}')"));
            if start.elapsed() > WAIT {
                let list = server.sql(
                    "SELECT ID, USER, COMMAND, STATE, INFO FROM information_schema.PROCESSLIST",
                );
                panic!(
                    "{} never ran MASTER_GTID_WAIT('{pos}', ...) within {WAIT:?}\n\
                     processlist: {list:?}\n{}",
                    self.bin,
                    self.node.describe()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

fn start_sql_thread(s: &Server) {
    s.sql("START SLAVE '' SQL_THREAD");
}

// 1
#[test]
fn promotion_waits_for_the_relay_log_to_be_applied() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    b.run("notify-backup", &[])
        .expect(0, "OK standby: fenced: read_only=ON");
    b.expect_read_only(true);
    let received = sql_thread_behind(&p);
    let total = count(&p.a, "t.k");

    let mut master = b.master_catching_up(&received);
    // While it waits the node is fenced, and the check passes it (writer rules, degraded).
    b.expect_read_only(true);
    let c = b.check();
    c.expect_pass("promoting");
    if !c.line().contains("promoting") {
        c.fail("the check's line should say `promoting`");
    }
    master.expect_running("the SQL thread is stopped, so catch-up cannot have finished");
    b.expect_read_only(true);

    start_sql_thread(&p.b);
    let done = master.wait();
    done.expect(0, "OK writer");
    b.expect_read_only(false);
    b.expect_role("writer");
    // Everything b had received was applied before it took writes: no polling here.
    let applied = count(&p.b, "t.k");
    if applied != total {
        done.fail(&format!(
            "b is writable with {applied} rows in t.k, but a wrote {total}: promotion did \
             not apply everything that was received"
        ));
    }
    b.check().expect(0, "OK writer");
}

// 2
#[test]
fn catchup_timeout_fail_then_promote() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    sql_thread_behind(&p);

    // The helpers' syslog lines go to a datagram socket bound here.
    let log_dir = tempfile::Builder::new()
        .prefix("kam-it-syslog-")
        .tempdir()
        .expect("syslog dir");
    let log_path = log_dir.path().join("log");
    let log = UnixDatagram::bind(&log_path).expect("bind syslog socket");
    let guard = Duration::from_secs(30);

    // `fail`: stays fenced, records the failure, exit 3 and a syslog error.
    let failed = b.run_guarded(
        "notify-master",
        &["--catchup-timeout", "2s", "--on-catchup-timeout", "fail"],
        Some(&log_path),
        guard,
    );
    failed.expect(3, "FAIL lag:").output_mentions(&["catch"]);
    b.expect_read_only(true);
    b.expect_role("promotion-failed");
    expect_syslog_error(&failed, &drain(&log), "catch-up");
    b.check().expect(5, "FAIL promotion-failed");

    // `promote`: writes are taken anyway, with a syslog error.
    let promoted = b.run_guarded(
        "notify-master",
        &["--catchup-timeout", "2s", "--on-catchup-timeout", "promote"],
        Some(&log_path),
        guard,
    );
    promoted.expect(0, "OK writer");
    b.expect_read_only(false);
    b.expect_role("writer");
    expect_syslog_error(&promoted, &drain(&log), "catch-up");
}

/// `lines` (what `run` sent to syslog) hold a daemon.err line (`<27>`: facility 3 * 8 +
/// severity 3) that mentions `what`, and every line carries the binary's ident.
#[track_caller]
fn expect_syslog_error(run: &Run, lines: &[String], what: &str) {
    println!("syslog from {}: {lines:#?}", run.bin);
    let loud = lines
        .iter()
        .any(|l| l.starts_with("<27>") && l.to_lowercase().contains(what));
    if !loud {
        run.fail(&format!(
            "expected a syslog line with priority <27> (daemon.err) mentioning `{what}`; \
             received: {lines:#?}"
        ));
    }
    let ident = format!("{}[", run.bin);
    if !lines.iter().all(|l| l.contains(&ident)) {
        run.fail(&format!(
            "every syslog line should carry the ident {}: {lines:#?}",
            run.bin
        ));
    }
}

/// Every datagram queued on `sock` (the sender has exited, so all are there).
fn drain(sock: &UnixDatagram) -> Vec<String> {
    sock.set_nonblocking(true).expect("nonblocking");
    let mut lines = Vec::new();
    let mut buf = vec![0u8; 65536];
    while let Ok(n) = sock.recv(&mut buf) {
        lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    lines
}

/// Fencing must work on a server at `max_connections` (issue 9): the documented grants give
/// the failover account `CONNECTION ADMIN`, which MariaDB lets past the limit.
#[test]
fn backup_fences_a_server_at_max_connections() {
    let s = Server::start(1);
    create_failover_user(&s, "failover", "f-pw");
    s.sql(
        "CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; \
         SET GLOBAL max_connections=10",
    );
    let held = s.saturate("app", "app-pw", 1040, 100);
    let n = Node::as_user(&s, "failover", Some("f-pw"));
    n.run("notify-backup", &["INSTANCE", "VI_1", "BACKUP", "90"])
        .expect(0, "OK standby: fenced: read_only=ON");
    n.expect_role("standby");
    drop(held);
    wait_until("read_only readable after the applications left", || {
        s.try_sql("SELECT @@GLOBAL.read_only").map(|_| ())
    });
    n.expect_read_only(true);
}

/// A server that refuses the helper's account is up: a configuration error (78) that says
/// what to fix, not "down" (1), and notify-backup starts no background retry for it.
#[test]
fn refused_account_is_a_config_error_not_down() {
    let s = Server::start(1);
    create_failover_user(&s, "failover", "f-pw");
    let n = Node::as_user(&s, "failover", Some("not-the-password"));
    n.run("notify-backup", &["INSTANCE", "VI_1", "BACKUP", "90"])
        .expect(78, "FAIL config: ")
        .stdout_mentions(&["1045", "refuses this account"]);
    let r = n.run("notify-backup", &[]);
    r.expect_code(78);
    if r.stdout.contains("retrying") {
        r.fail("a refused account must not be retried in the background as if it were down");
    }
    n.run("notify-master", &[])
        .expect(78, "FAIL config: ")
        .stdout_mentions(&["1045"]);
}

// 3
#[test]
fn backup_fences_idempotently_and_records_standby_when_down() {
    let mut p = Pair::dual_master();
    p.a.sql(
        "CREATE DATABASE appdb; CREATE TABLE appdb.t (id INT PRIMARY KEY); \
         CREATE USER 'app'@'127.0.0.1' IDENTIFIED BY 'app-pw'; \
         GRANT INSERT, CREATE ON appdb.* TO 'app'@'127.0.0.1'",
    );
    p.wait_synced();
    let grants = p.b.sql("SHOW GRANTS FOR 'app'@'127.0.0.1'");
    assert!(
        !format!("{grants:?}").contains("READ_ONLY ADMIN"),
        "{grants:?}"
    );
    p.b.sql_as("app", "app-pw", "INSERT INTO appdb.t VALUES (1)")
        .unwrap_or_else(|e| panic!("app can write before fencing: {e}\n{}", p.describe()));

    let b = Node::new(&p.b);
    b.expect_read_only(false);
    for _ in 0..2 {
        b.run("notify-backup", &["INSTANCE", "VI_1", "BACKUP", "90"])
            .expect(0, "OK standby: fenced: read_only=ON");
        b.expect_read_only(true);
        b.expect_role("standby");
        for q in [
            "INSERT INTO appdb.t VALUES (2)",
            "CREATE TABLE appdb.t2 (id INT PRIMARY KEY)",
        ] {
            match p.b.sql_as("app", "app-pw", q) {
                Err(e) if e.contains("1290") => {}
                other => panic!(
                    "`{q}` by a user without READ_ONLY ADMIN on a fenced node should fail \
                     with 1290, got {other:?}\n{}",
                    b.describe()
                ),
            }
        }
    }

    // Server down: the role is still recorded, exit 1 within the guard.
    p.b.kill();
    let down = Node::new(&p.b);
    down.run(
        "notify-backup",
        &["--no-retry", "INSTANCE", "VI_1", "FAULT", "90"],
    )
    .expect(1, "FAIL");
    down.expect_role("standby");
    // notify-master on a server that is down: exit 1, the promotion recorded as failed.
    let down = Node::new(&p.b);
    down.run("notify-master", &["INSTANCE", "VI_1", "MASTER", "100"])
        .expect(1, "FAIL");
    down.expect_role("promotion-failed");

    // A hung server (SIGSTOP: TCP handshakes still complete) is down too, within the guard:
    // keepalived kills notify_stop hooks after 1 s, so the role must be recorded first.
    // When it resumes, the background retry fences it: nothing else would (keepalived runs
    // notify-backup once per transition), and a writer that hung must not come back writable.
    p.a.sql("SET GLOBAL read_only=OFF");
    p.a.pause();
    let hung = Node::new(&p.a);
    let r = hung.run("notify-backup", &["INSTANCE", "VI_1", "STOP", "100"]);
    r.expect(1, "FAIL");
    r.output_mentions(&["retrying in the background"]);
    hung.expect_role("standby");
    p.a.resume();
    p.a.wait_for("the background retry fences the resumed server", |s| {
        s.var("read_only").as_deref() == Some("1")
    });
    wait_until("the background retry exits once it has fenced", || {
        let left = retry_processes(&p.a);
        if left.is_empty() {
            Ok(())
        } else {
            Err(format!("still running: {left:?}"))
        }
    });

    let hung = Node::new(&p.a);
    p.a.pause();
    hung.run("notify-master", &[]).expect(1, "FAIL");
    hung.expect_role("promotion-failed");
    p.a.resume();
}

/// PIDs of background fence retries aimed at `s` (their command line names its option file).
fn retry_processes(s: &Server) -> Vec<u32> {
    let port = format!("{}", s.port);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        let targets_s = std::fs::read_dir(s.dir.path())
            .into_iter()
            .flatten()
            .flatten()
            .any(|f| cmdline.contains(&*f.path().to_string_lossy()));
        if cmdline.contains("--retry-seq") && (targets_s || cmdline.contains(&port)) {
            pids.push(pid);
        }
    }
    pids
}

// 4
#[test]
fn newer_backup_wins_over_a_promotion_still_catching_up() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    b.run("notify-backup", &[]).expect(0, "OK standby");
    let received = sql_thread_behind(&p);

    let master = b.master_catching_up(&received);
    b.run("notify-backup", &["INSTANCE", "VI_1", "BACKUP", "100"])
        .expect(0, "OK standby: fenced: read_only=ON");
    b.expect_role("standby");
    b.expect_read_only(true);
    let recorded = b.role_file();

    // Now the promotion's wait can succeed: it must notice the newer transition.
    start_sql_thread(&p.b);
    let done = master.wait();
    done.expect(0, "OK superseded");
    b.expect_read_only(true);
    if b.role_file() != recorded {
        done.fail(&format!(
            "the superseded promotion changed the role file (was {recorded:?})"
        ));
    }
    let total = count(&p.a, "t.k");
    p.b.wait_for("b applied everything", |s| count(s, "t.k") == total);
    b.expect_read_only(true);
    b.expect_role("standby");
}

/// Whether process `pid` has `path` open.
fn has_open(pid: u32, path: &Path) -> bool {
    fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| {
            d.filter_map(Result::ok)
                .any(|e| fs::read_link(e.path()).is_ok_and(|t| t == path))
        })
        .unwrap_or(false)
}

// 5
#[test]
fn lock_serialises_master_and_backup_and_the_newer_wins() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    let lock_path = b.state_dir().join("lock");
    // Three rounds: the helpers may take the lock in either order; the end state may not
    // depend on it.
    for round in 0..3 {
        if round > 0 {
            p.b.sql("SET GLOBAL read_only=OFF");
        }
        let before = b.role_file();
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .expect("open the state dir lock");
        // SAFETY: flock on an fd we own.
        let rc = unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) };
        assert_eq!(rc, 0, "flock: {}", std::io::Error::last_os_error());

        let mut master = b.spawn("notify-master", &["--timeout", "5s"]);
        let mut backup = b.spawn("notify-backup", &["--timeout", "5s"]);
        // Both are started (older master, newer backup) and wait at the lock.
        let (mp, bp) = (master.child.id(), backup.child.id());
        wait_until("both helpers have the lock file open", || {
            master.expect_running("it must wait for the lock");
            backup.expect_running("it must wait for the lock");
            if has_open(mp, &lock_path) && has_open(bp, &lock_path) {
                Ok(())
            } else {
                Err(b.describe())
            }
        });
        if b.role_file() != before {
            panic!(
                "a helper recorded a transition while the lock was held (before: {before:?})\n{}",
                b.describe()
            );
        }
        drop(lock);

        let m = master.wait();
        let k = backup.wait();
        k.expect(0, "OK standby");
        if m.code != Some(0)
            || !(m.line().starts_with("OK superseded") || m.line().starts_with("OK writer"))
        {
            m.fail("notify-master should exit 0 with `OK writer` or `OK superseded`");
        }
        println!("round {round}: notify-master said {:?}", m.line());
        b.expect_role("standby");
        b.expect_read_only(true);
    }
}

// 6
#[test]
fn least_privileges_are_enough_for_both_helpers() {
    let p = Pair::dual_master();
    with_table(&p);
    create_failover_user(&p.a, "failover", "failover-pw");
    create_monitor_user(&p.a, "monitor", "monitor-pw");
    p.wait_synced();
    let grants = p.b.sql("SHOW GRANTS FOR 'failover'@'127.0.0.1'");
    let first = grants[0][0].clone().unwrap_or_default();
    let table = grants.get(1).and_then(|r| r[0].clone()).unwrap_or_default();
    // Exactly the documented privileges (packaging/grants.sql), in whatever order.
    let mut privileges: Vec<&str> = first
        .strip_prefix("GRANT ")
        .and_then(|rest| rest.split_once(" ON *.* TO `failover`"))
        .map(|(list, _)| list.split(", ").collect())
        .unwrap_or_default();
    privileges.sort_unstable();
    assert_eq!(privileges, FAILOVER_PRIVILEGES, "{grants:?}");
    assert!(
        table.starts_with("GRANT SELECT, UPDATE ON `keepalived_mysql`.`guard` TO `failover`"),
        "{grants:?}"
    );
    assert_eq!(grants.len(), 2, "{grants:?}");

    let b = Node::as_user(&p.b, "failover", Some("failover-pw"));
    b.run("notify-backup", &[])
        .expect(0, "OK standby: fenced: read_only=ON");
    b.expect_read_only(true);
    b.run("notify-master", &[]).expect(0, "OK writer");
    b.expect_read_only(false);
    b.expect_role("writer");

    // The check's account (SLAVE MONITOR only) cannot fence: that must not pass as fenced,
    // and a missing privilege is a configuration error (78), not "server down".
    let weak = Node::as_user(&p.b, "monitor", Some("monitor-pw"));
    let r = weak.run("notify-backup", &[]);
    r.expect_code(78);
    r.output_mentions(&["READ_ONLY ADMIN"]);
    weak.expect_read_only(false);

    // Nor can it unfence: the promotion is recorded as failed at once (78), not left as
    // `promoting` for check-mysql to pass until its deadline.
    p.b.sql("SET GLOBAL read_only=ON");
    let r = weak.run("notify-master", &[]);
    r.expect_code(78);
    r.output_mentions(&["READ_ONLY ADMIN"]);
    weak.expect_role("promotion-failed");
    weak.expect_read_only(true);
}

// 7
#[test]
fn wrong_state_and_dry_run_change_nothing() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);

    b.run("notify-master", &["INSTANCE", "VI_1", "BACKUP", "100"])
        .expect_code(64);
    b.run("notify-backup", &["INSTANCE", "VI_1", "MASTER", "100"])
        .expect_code(64);
    b.expect_read_only(false);
    if b.role_file().is_some() {
        panic!("a usage error wrote a role file\n{}", b.describe());
    }

    // --dry-run: notify-backup leaves a writable node writable.
    b.run(
        "notify-backup",
        &["--dry-run", "INSTANCE", "VI_1", "BACKUP", "100"],
    )
    .expect(0, "DRY-RUN");
    b.expect_read_only(false);
    // ... and notify-master leaves a fenced node fenced (also one that is behind).
    p.b.sql("SET GLOBAL read_only=ON");
    b.run(
        "notify-master",
        &["--dry-run", "INSTANCE", "VI_1", "MASTER", "100"],
    )
    .expect(0, "DRY-RUN");
    b.expect_read_only(true);
    sql_thread_behind(&p);
    b.run_guarded(
        "notify-master",
        &[
            "--dry-run",
            "--catchup-timeout",
            "1s",
            "--on-catchup-timeout",
            "promote",
        ],
        None,
        GUARD,
    )
    .expect_code(0);
    b.expect_read_only(true);
    if b.role_file().is_some() {
        panic!("--dry-run wrote a role file\n{}", b.describe());
    }
}

// 8
#[test]
fn role_file_round_trip_with_check_mysql() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    b.check().expect(0, "OK standby");
    b.run("notify-backup", &[]).expect(0, "OK standby");
    b.check().expect(0, "OK standby");

    // promoting, fenced: passes.
    let received = sql_thread_behind(&p);
    let mut master = b.spawn("notify-master", &["--catchup-timeout", "30s"]);
    master.wait_role("promoting");
    master.wait_in_gtid_wait(&received);
    b.check().expect_pass("promoting");
    master.expect_running("the SQL thread is stopped");
    start_sql_thread(&p.b);
    master.wait().expect(0, "OK writer");

    // writer: writer rules, so read_only=ON fails it.
    b.check().expect(0, "OK writer");
    p.b.sql("SET GLOBAL read_only=ON");
    b.check().expect(5, "FAIL writer read-only");
    p.b.sql("SET GLOBAL read_only=OFF");

    // promotion-failed: fails.
    b.run("notify-backup", &[]).expect(0, "OK standby");
    sql_thread_behind(&p);
    b.run_guarded(
        "notify-master",
        &["--catchup-timeout", "1s"],
        None,
        Duration::from_secs(30),
    )
    .expect(3, "FAIL lag:");
    b.expect_role("promotion-failed");
    b.check().expect(5, "FAIL promotion-failed");

    // and back to standby.
    start_sql_thread(&p.b);
    p.wait_synced();
    b.run("notify-backup", &["INSTANCE", "VI_1", "STOP", "0"])
        .expect(0, "OK standby");
    b.check().expect(0, "OK standby");
}

// 9: a role file left by a previous boot. The stamps are process start times in clock ticks
// since boot, so a record written after a long uptime carries a larger stamp than any event
// of the next boot. /run is emptied at boot, but the state dir is configurable (`state-dir`
// in the option file) and may be on persistent storage. A transition recorded before the
// reboot is older than every event after it: fencing must still happen.
#[test]
fn role_file_from_a_previous_boot_does_not_block_fencing() {
    let p = Pair::dual_master();
    with_table(&p);
    let b = Node::new(&p.b);
    // Written by notify-master after 400 days of uptime: 400 d * 86400 s * 100 ticks/s,
    // shifted past the 22 PID bits, plus a PID.
    let ticks: u64 = 400 * 86_400 * 100;
    let seq = (ticks << 22) | 4242;
    fs::write(
        b.state_dir().join("role"),
        format!("role=writer\nseq={seq}\n"),
    )
    .expect("write role file");
    // After the reboot the server came up writable (read_only is not persisted).
    b.expect_read_only(false);
    b.run("notify-backup", &["INSTANCE", "VI_1", "BACKUP", "100"])
        .expect(0, "OK standby: fenced: read_only=ON");
    b.expect_read_only(true);
    b.expect_role("standby");
}

// 10: keepalived sends DELETED instead of FAULT for an instance that a reload removes, when the
// instance has `notify_deleted` (keepalived.conf(5)). The instance is gone, as on STOP: the node
// must not keep taking writes by its own address, so notify-backup fences it, and notify-master
// refuses the state.
#[test]
fn deleted_instance_is_fenced_like_stop() {
    let s = Server::start(1);
    let node = Node::new(&s);
    node.expect_read_only(false);

    node.run("notify-master", &["INSTANCE", "VI_1", "DELETED", "100"])
        .expect_code(64);
    node.expect_read_only(false);
    if node.role_file().is_some() {
        panic!("a refused state wrote a role file\n{}", node.describe());
    }

    node.run("notify-backup", &["INSTANCE", "VI_1", "DELETED", "100"])
        .expect(0, "OK standby: fenced: read_only=ON");
    node.expect_read_only(true);
    node.expect_role("standby");
}

/// The one JSON object `run` printed (`--format json`): exactly one stdout line that parses.
#[track_caller]
fn json_object(run: &Run) -> serde_json::Value {
    if run.line().lines().count() != 1 {
        run.fail("expected exactly one stdout line: the JSON object");
    }
    serde_json::from_str(run.line())
        .unwrap_or_else(|e| run.fail(&format!("stdout is not one JSON object: {e}")))
}

/// `field` of the JSON object `v` equals `expected`.
#[track_caller]
fn expect_field(run: &Run, v: &serde_json::Value, field: &str, expected: serde_json::Value) {
    if v[field] != expected {
        run.fail(&format!(
            "JSON field {field} is {}, expected {expected}",
            v[field]
        ));
    }
}

/// The `seq=` of the role file.
fn role_seq(node: &Node) -> Option<u64> {
    node.role_file()?
        .lines()
        .find_map(|l| l.strip_prefix("seq=")?.parse().ok())
}

// 11: --format json: one object per run with the documented fields, for fencing, promotion,
// a dry run and a server that is down; a usage error prints no object, only its line on
// stderr.
#[test]
fn json_output_of_fencing_promotion_and_failure() {
    use serde_json::{Value, json};
    let mut s = Server::start(1);
    {
        let node = Node::new(&s);
        node.expect_read_only(false);
        let event = ["INSTANCE", "VI_1", "BACKUP", "100"];

        let fenced = node.run(
            "notify-backup",
            &[&["--format", "json"][..], &event].concat(),
        );
        fenced.expect_code(0);
        let v = json_object(&fenced);
        node.expect_read_only(true);
        for (field, expected) in [
            ("outcome", json!("fenced")),
            ("role", json!("standby")),
            ("read_only", json!(true)),
            (
                "seq",
                json!(role_seq(&node).expect("a seq in the role file")),
            ),
            (
                "message",
                json!("fenced: read_only=ON; ended 0 client session(s) that could still commit"),
            ),
            ("exit_code", json!(0)),
            ("reason", json!("ok")),
            ("keepalived_args", json!(event)),
        ] {
            expect_field(&fenced, &v, field, expected);
        }
        if !v["elapsed_ms"].is_u64() {
            fenced.fail("elapsed_ms is not a non-negative integer");
        }

        // A dry run of the promotion: what it saw, nothing changed.
        let dry = node.run("notify-master", &["--format", "json", "--dry-run"]);
        dry.expect_code(0);
        let v = json_object(&dry);
        expect_field(&dry, &v, "outcome", json!("dry-run"));
        expect_field(&dry, &v, "read_only", json!(true));
        expect_field(&dry, &v, "role", json!("standby"));
        node.expect_read_only(true);

        let promoted = node.run(
            "notify-master",
            &["--format", "json", "INSTANCE", "VI_1", "MASTER", "100"],
        );
        promoted.expect_code(0);
        let v = json_object(&promoted);
        node.expect_read_only(false);
        for (field, expected) in [
            ("outcome", json!("writer")),
            ("role", json!("writer")),
            ("read_only", json!(false)),
            (
                "seq",
                json!(role_seq(&node).expect("a seq in the role file")),
            ),
            ("exit_code", json!(0)),
            ("reason", json!("ok")),
        ] {
            expect_field(&promoted, &v, field, expected);
        }
        if !v["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("promoted"))
        {
            promoted.fail("message should start with `promoted`");
        }

        // A state of another helper: usage error, one line on stderr, no object, nothing changed.
        let before = node.role_file();
        let refused = node.run(
            "notify-backup",
            &["--format", "json", "INSTANCE", "VI_1", "MASTER", "100"],
        );
        refused.expect_code(64);
        if !refused.stdout.is_empty()
            || refused.stderr.trim_end().lines().count() != 1
            || !refused.stderr.starts_with("notify-backup: usage error:")
        {
            refused.fail("expected no stdout and one `notify-backup: usage error:` line on stderr");
        }
        node.expect_read_only(false);
        if node.role_file() != before {
            refused.fail("a usage error changed the role file");
        }
    }

    // The server is down: fencing fails (exit 1), the role is still recorded, read_only is
    // unknown.
    s.kill();
    let down = Node::new(&s);
    let failed = down.run("notify-backup", &["--format", "json", "--no-retry"]);
    failed.expect_code(1);
    let v = json_object(&failed);
    for (field, expected) in [
        ("outcome", json!("failed")),
        ("role", json!("standby")),
        ("read_only", Value::Null),
        (
            "seq",
            json!(role_seq(&down).expect("a seq in the role file")),
        ),
        ("exit_code", json!(1)),
        ("reason", json!("down")),
        ("keepalived_args", json!([])),
    ] {
        expect_field(&failed, &v, field, expected);
    }
    if !v["message"]
        .as_str()
        .is_some_and(|m| m.contains("could not be fenced"))
    {
        failed.fail("message should say that the server could not be fenced");
    }
}

mod guard;

/// A bad split-brain guard setting does not stop the fence: notify-backup fences with the
/// connection settings, skips what needs the bad value, then exits 78 saying it fenced.
#[test]
fn backup_fences_although_a_guard_setting_is_bad() {
    let s = Server::start(1);
    let node = Node::new(&s);
    let nobody = format!("127.0.0.1:{}", crate::common::mariadb::free_port());
    let rows: &[(&[&str], &str)] = &[
        (&["--peer", "foo:bar"], "--peer:"),
        (&["--peer", "127.0.0.1:0"], "--peer:"),
        (&["--peer", "127.0.0.1:70000"], "--peer:"),
        (&["--peer", ""], "--peer:"),
        (&["--witness", &nobody], "needs --peer"),
        (
            &["--peer", &nobody, "--witness", &nobody, "--timeout", "5s"],
            "lease TTL",
        ),
        (
            &["--peer", &nobody, "--witness", &nobody, "--lease-ttl", "3s"],
            "lease TTL",
        ),
    ];
    for (args, names) in rows {
        s.sql("SET GLOBAL read_only=OFF");
        let r = node.run("notify-backup", args);
        r.expect(78, "FAIL config: fenced: read_only=ON")
            .output_mentions(&["split-brain guard's settings are bad", names]);
        node.expect_read_only(true);
        node.expect_role("standby");
    }
}
