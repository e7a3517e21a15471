//! Test harness: real `mariadbd` servers on 127.0.0.1, real GTID replication.
//!
//! Every [`Server`] owns a temporary directory holding its `my.cnf`, datadir, socket, pid file
//! and error log, and listens on a loopback port of its own. Nothing here talks to any address
//! but 127.0.0.1. Dropping a [`Server`] kills its process (also when it is paused) and removes
//! the directory, so a test never leaves a server behind, even when it panics.
//!
//! Query helpers open a fresh connection as `root@127.0.0.1` (no password; created by
//! `mariadb-install-db --auth-root-authentication-method=normal`) for every call, so they keep
//! working across [`Server::kill`] / [`Server::restart`]. Values come back as text
//! (`Option<String>`, `None` for SQL NULL).
//!
//! A missing MariaDB installation is a test failure that says what to install, never a skip.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::fs;
use std::io::{Read, Seek, SeekFrom, Write as _};
use std::net::TcpListener;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use mysql::prelude::Queryable;

/// How long [`wait_until`], [`Server::wait_for`] and [`Pair::wait_synced`] poll before panicking.
pub const WAIT: Duration = Duration::from_secs(30);
/// How long a server may take to accept connections after it was spawned (2 cores, tests in
/// parallel, so be generous; this is a bound, not an assertion).
const START_WAIT: Duration = Duration::from_secs(90);
/// The replication account [`Pair::dual_master`] creates on both servers.
pub const REPL_USER: &str = "repl";
/// Password of [`REPL_USER`].
pub const REPL_PASSWORD: &str = "repl-secret";

const INSTALL_HINT: &str = "apt-get install mariadb-server mariadb-client";

/// One row of a result set: column values as text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

/// Ports handed out in this process. Never reused: a killed server's peer keeps retrying its
/// port, and that traffic must not reach another test's server.
static USED_PORTS: Mutex<Option<HashSet<u16>>> = Mutex::new(None);

/// Finds a program in PATH or the usual sbin/bin directories, or fails the test with the
/// install hint.
fn program(name: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let fixed = [
        "/usr/sbin",
        "/usr/bin",
        "/usr/local/sbin",
        "/usr/local/bin",
        "/sbin",
    ];
    std::env::split_paths(&path)
        .chain(fixed.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` not found (PATH, /usr/sbin, /usr/local/sbin): these tests need \
                 MariaDB 10.11 installed: {INSTALL_HINT}"
            )
        })
}

fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    h.write_u32(std::process::id());
    h.finish()
}

/// A loopback port that is free now, never handed out before in this process, and below the
/// kernel's ephemeral range (32768+) so that outgoing client connections cannot occupy it.
fn free_port() -> u16 {
    let mut used = USED_PORTS.lock().unwrap_or_else(|e| e.into_inner());
    let used = used.get_or_insert_with(HashSet::new);
    for _ in 0..10_000 {
        let port = 20_000 + (random_u64() % 12_000) as u16;
        if used.contains(&port) {
            continue;
        }
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            used.insert(port);
            return port;
        }
    }
    panic!("no free loopback port found in 20000..32000");
}

/// Quotes `s` as an SQL string literal.
pub fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "''"))
}

/// Polls `probe` every 100 ms until it returns `Ok`, for at most [`WAIT`]; then panics with
/// `what` and the last `Err` it returned (the last observed state).
#[track_caller]
pub fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) if start.elapsed() >= WAIT => {
                panic!("timed out after {WAIT:?} waiting for: {what}\nlast observed state:\n{last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Converts one protocol value to text.
fn text(v: mysql::Value) -> Option<String> {
    match v {
        mysql::Value::NULL => None,
        mysql::Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        mysql::Value::Int(i) => Some(i.to_string()),
        mysql::Value::UInt(u) => Some(u.to_string()),
        mysql::Value::Float(f) => Some(f.to_string()),
        mysql::Value::Double(f) => Some(f.to_string()),
        other => Some(other.as_sql(true)),
    }
}

/// A `mariadbd` process on its own temporary datadir and loopback port.
///
/// Configuration (in `dir/my.cnf`): `log_bin`, `binlog_format=ROW`, `log_slave_updates`,
/// `gtid_strict_mode=ON`, `gtid_domain_id=0`, `server_id`, `auto_increment_increment=2`,
/// `auto_increment_offset=server_id`, `skip-name-resolve`, `bind-address=127.0.0.1`, and small
/// memory settings. Accounts: `root@127.0.0.1` without password (and the usual
/// `root@localhost` on the socket).
///
/// The process gets `PR_SET_PDEATHSIG=SIGKILL`, so a test run that is killed does not leave
/// servers behind; as that signal follows the *thread* that spawned the server, create (and
/// restart) servers on the test's own thread.
pub struct Server {
    /// TCP port on 127.0.0.1.
    pub port: u16,
    /// `server_id` (also `auto_increment_offset`).
    pub server_id: u32,
    /// Holds `my.cnf`, `data/`, `mysqld.sock`, `mysqld.pid`, `error.log` and option files.
    pub dir: tempfile::TempDir,
    /// `None` after [`Server::kill`].
    child: Option<Child>,
}

/// Why a spawned server did not become ready.
enum StartError {
    /// Another process took the port between [`free_port`] and the server's bind.
    PortClash(String),
    Failed(String),
}

impl Server {
    /// Initialises a datadir with `mariadb-install-db` and starts `mariadbd` on a free loopback
    /// port; returns once it accepts connections. Panics with the tail of the error log if the
    /// server does not come up. A port clash is retried on another port.
    #[track_caller]
    pub fn start(server_id: u32) -> Server {
        Server::start_on_ports(server_id, free_port)
    }

    /// [`Server::start`] with the candidate ports coming from `next_port`.
    #[track_caller]
    fn start_on_ports(server_id: u32, mut next_port: impl FnMut() -> u16) -> Server {
        let mut dir = tempfile::Builder::new()
            .prefix("kam-it-")
            .tempdir()
            .expect("create temporary server directory");
        let mut last_clash = String::new();
        for attempt in 0..5 {
            let port = next_port();
            write_config(dir.path(), server_id, port);
            if attempt == 0 {
                install_db(dir.path());
            }
            let mut server = Server {
                port,
                server_id,
                dir,
                child: None,
            };
            match server.spawn_and_wait() {
                Ok(()) => return server,
                Err(StartError::PortClash(log)) => {
                    last_clash = log;
                    dir = server.take_dir();
                }
                Err(StartError::Failed(msg)) => panic!("{msg}"),
            }
        }
        panic!("mariadbd could not bind a free port after 5 attempts:\n{last_clash}");
    }

    /// Kills the process (if any) and hands out the directory, for a retry on another port.
    fn take_dir(mut self) -> tempfile::TempDir {
        self.stop_process();
        let placeholder = tempfile::Builder::new()
            .prefix("kam-it-empty-")
            .tempdir()
            .expect("create placeholder directory");
        std::mem::replace(&mut self.dir, placeholder)
    }

    /// `dir/my.cnf`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("my.cnf")
    }

    /// `dir/error.log`.
    pub fn error_log_path(&self) -> PathBuf {
        self.dir.path().join("error.log")
    }

    /// The last `lines` lines of the error log (for failure messages).
    pub fn error_log_tail(&self, lines: usize) -> String {
        let log = fs::read_to_string(self.error_log_path()).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// The process id, or `None` after [`Server::kill`].
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn spawn_and_wait(&mut self) -> Result<(), StartError> {
        let log_path = self.error_log_path();
        let log_offset = fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0);
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("mariadbd.out"))
            .expect("open mariadbd.out");
        let mut cmd = Command::new(program("mariadbd"));
        cmd.arg(format!("--defaults-file={}", self.config_path().display()))
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup mariadbd.out"))
            .stderr(out);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn mariadbd: {e}"));
        self.child = Some(child);

        let start = Instant::now();
        loop {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = exited {
                self.child = None;
                let mut log = String::new();
                if let Ok(mut f) = fs::File::open(&log_path) {
                    let _ = f.seek(SeekFrom::Start(log_offset));
                    let _ = f.read_to_string(&mut log);
                }
                let out =
                    fs::read_to_string(self.dir.path().join("mariadbd.out")).unwrap_or_default();
                let msg = format!(
                    "mariadbd (server_id {}, port {}) exited with {status} during startup.\n\
                     error log:\n{log}\nstdout/stderr:\n{out}",
                    self.server_id, self.port
                );
                return Err(
                    if log.contains("Address already in use") || log.contains("Bind on TCP/IP") {
                        StartError::PortClash(msg)
                    } else {
                        StartError::Failed(msg)
                    },
                );
            }
            let probe = self.try_connect(Duration::from_secs(2));
            match probe {
                Ok(()) => return Ok(()),
                Err(e) if start.elapsed() >= START_WAIT => {
                    return Err(StartError::Failed(format!(
                        "mariadbd (server_id {}, port {}) did not accept connections within \
                         {START_WAIT:?}; last error: {e}\nerror log tail:\n{}",
                        self.server_id,
                        self.port,
                        self.error_log_tail(40)
                    )));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// Connection options; `timeout` bounds connect, and each read and write.
    fn opts(&self, user: &str, password: &str, timeout: Duration) -> mysql::Opts {
        mysql::OptsBuilder::new()
            .ip_or_hostname(Some("127.0.0.1"))
            .tcp_port(self.port)
            .prefer_socket(false)
            .user(Some(user))
            .pass(Some(password))
            .tcp_connect_timeout(Some(timeout))
            .read_timeout(Some(timeout))
            .write_timeout(Some(timeout))
            .into()
    }

    fn try_connect(&self, timeout: Duration) -> Result<(), String> {
        mysql::Conn::new(self.opts("root", "", timeout))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Runs `q` (one or more `;`-separated statements) and returns the column names and rows of
    /// the last result set that has columns.
    fn query(
        &self,
        user: &str,
        password: &str,
        q: &str,
        timeout: Duration,
    ) -> Result<(Vec<String>, Vec<Row>), String> {
        let mut conn = mysql::Conn::new(self.opts(user, password, timeout))
            .map_err(|e| format!("connect to 127.0.0.1:{} as {user}: {e}", self.port))?;
        let mut result = conn.query_iter(q).map_err(|e| e.to_string())?;
        let mut last = (Vec::new(), Vec::new());
        while let Some(set) = result.iter() {
            let columns: Vec<String> = set
                .columns()
                .as_ref()
                .iter()
                .map(|c| c.name_str().into_owned())
                .collect();
            let mut rows = Vec::new();
            for row in set {
                let row = row.map_err(|e| e.to_string())?;
                rows.push(row.unwrap().into_iter().map(text).collect());
            }
            if !columns.is_empty() {
                last = (columns, rows);
            }
        }
        Ok(last)
    }

    /// Runs `q` as root over TCP; returns the rows of the last result set. Panics with the
    /// server's message on error.
    #[track_caller]
    pub fn sql(&self, q: &str) -> Vec<Row> {
        self.try_sql(q).unwrap_or_else(|e| {
            panic!(
                "server {} (port {}): `{q}` failed: {e}",
                self.server_id, self.port
            )
        })
    }

    /// Like [`Server::sql`], but returns the error message (e.g. `ERROR 1062 (23000): ...`).
    pub fn try_sql(&self, q: &str) -> Result<Vec<Row>, String> {
        self.query("root", "", q, WAIT).map(|(_, rows)| rows)
    }

    /// Runs `q` as `user@127.0.0.1` with `password`.
    pub fn sql_as(&self, user: &str, password: &str, q: &str) -> Result<Vec<Row>, String> {
        self.query(user, password, q, WAIT).map(|(_, rows)| rows)
    }

    /// The value of global variable `name` (`SELECT @@GLOBAL.name`). Panics on error.
    #[track_caller]
    pub fn var(&self, name: &str) -> Option<String> {
        let rows = self.sql(&format!("SELECT @@GLOBAL.{name}"));
        rows.into_iter()
            .next()
            .and_then(|r| r.into_iter().next().flatten())
    }

    /// `SHOW ALL SLAVES STATUS`, one map per replication connection, keyed by column name.
    #[track_caller]
    pub fn slave_status(&self) -> Vec<HashMap<String, Option<String>>> {
        self.try_slave_status().unwrap_or_else(|e| {
            panic!(
                "server {} (port {}): SHOW ALL SLAVES STATUS: {e}",
                self.server_id, self.port
            )
        })
    }

    /// Like [`Server::slave_status`], returning the error.
    pub fn try_slave_status(&self) -> Result<Vec<HashMap<String, Option<String>>>, String> {
        self.slave_status_within(WAIT)
    }

    fn slave_status_within(
        &self,
        timeout: Duration,
    ) -> Result<Vec<HashMap<String, Option<String>>>, String> {
        let (columns, rows) = self.query("root", "", "SHOW ALL SLAVES STATUS", timeout)?;
        Ok(rows
            .into_iter()
            .map(|r| columns.iter().cloned().zip(r).collect())
            .collect())
    }

    /// A column of the first (default) replication connection's status, `None` when there is
    /// no replication connection or the value is NULL.
    #[track_caller]
    pub fn slave_field(&self, column: &str) -> Option<String> {
        self.slave_status()
            .into_iter()
            .next()
            .and_then(|mut m| m.remove(column).flatten())
    }

    /// A short description of this server's replication state, for failure messages.
    /// Never panics.
    pub fn describe(&self) -> String {
        let mut s = format!("server {} (127.0.0.1:{})", self.server_id, self.port);
        // Short timeouts: this also runs against paused or killed servers.
        let t = Duration::from_secs(3);
        match self.query(
            "root",
            "",
            "SELECT @@gtid_current_pos, @@gtid_binlog_pos, @@gtid_slave_pos, @@read_only",
            t,
        ) {
            Ok((_, rows)) => {
                if let Some(r) = rows.first() {
                    let v = |i: usize| r.get(i).cloned().flatten().unwrap_or_default();
                    let _ = write!(
                        s,
                        ": gtid_current_pos={} gtid_binlog_pos={} gtid_slave_pos={} read_only={}",
                        v(0),
                        v(1),
                        v(2),
                        v(3)
                    );
                }
            }
            Err(e) => {
                let _ = write!(s, ": query failed: {e}");
                return s;
            }
        }
        match self.slave_status_within(t) {
            Ok(conns) if conns.is_empty() => s.push_str("\n  no replication configured"),
            Ok(conns) => {
                for c in conns {
                    s.push_str("\n ");
                    for k in [
                        "Connection_name",
                        "Slave_IO_Running",
                        "Slave_SQL_Running",
                        "Seconds_Behind_Master",
                        "SQL_Delay",
                        "Last_IO_Errno",
                        "Last_IO_Error",
                        "Last_SQL_Errno",
                        "Last_SQL_Error",
                        "Gtid_IO_Pos",
                        "Using_Gtid",
                    ] {
                        let v = c.get(k).cloned().flatten().unwrap_or_else(|| "NULL".into());
                        let _ = write!(s, " {k}={v}");
                    }
                }
            }
            Err(e) => {
                let _ = write!(s, "\n  SHOW ALL SLAVES STATUS failed: {e}");
            }
        }
        s
    }

    /// Polls `f` every 100 ms for at most [`WAIT`]; panics with `what` and
    /// [`Server::describe`] when it never became true.
    #[track_caller]
    pub fn wait_for(&self, what: &str, f: impl Fn(&Server) -> bool) {
        let what = format!("{what} (on server {})", self.server_id);
        wait_until(&what, || {
            if f(self) {
                Ok(())
            } else {
                Err(self.describe())
            }
        })
    }

    /// SIGKILL (after SIGCONT, in case it was paused) and wait for the process to go.
    pub fn kill(&mut self) {
        self.stop_process();
    }

    fn stop_process(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
            unsafe {
                libc::kill(child.id() as libc::pid_t, libc::SIGCONT);
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn signal(&self, sig: libc::c_int) {
        let pid = self
            .pid()
            .unwrap_or_else(|| panic!("server {} is not running", self.server_id));
        // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
        let rc = unsafe { libc::kill(pid as libc::pid_t, sig) };
        assert_eq!(
            rc,
            0,
            "kill({pid}, {sig}): {}",
            std::io::Error::last_os_error()
        );
    }

    /// SIGSTOP: the server hangs (its listen socket still completes TCP handshakes).
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// SIGCONT after [`Server::pause`].
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }

    /// Starts the server again on the same datadir and port after [`Server::kill`]
    /// (replication restarts by itself, as after a crash). Panics if it does not come up.
    #[track_caller]
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "restart() needs kill() first");
        if let Err(StartError::PortClash(msg) | StartError::Failed(msg)) = self.spawn_and_wait() {
            panic!("restart failed: {msg}");
        }
    }

    /// Writes a mode-0600 option file with a `[client]` group (`host=127.0.0.1`, `port`,
    /// `user`, and `password` unless `None`) into [`Server::dir`] and returns its path.
    pub fn option_file(&self, user: &str, password: Option<&str>) -> PathBuf {
        let mut body = format!(
            "[client]\nhost=127.0.0.1\nport={}\nuser={user}\n",
            self.port
        );
        if let Some(p) = password {
            let _ = writeln!(body, "password={p}");
        }
        self.write_file(&format!("client-{user}"), &body, 0o600)
    }

    /// Writes `body` to a new file in [`Server::dir`] (name derived from `stem`) with `mode`
    /// and returns its path.
    pub fn write_file(&self, stem: &str, body: &str, mode: u32) -> PathBuf {
        static N: AtomicU32 = AtomicU32::new(0);
        let path = self
            .dir
            .path()
            .join(format!("{stem}-{}.cnf", N.fetch_add(1, Ordering::Relaxed)));
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&path)
            .unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        f.write_all(body.as_bytes()).expect("write option file");
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod option file");
        path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_process();
    }
}

fn write_config(dir: &Path, server_id: u32, port: u16) {
    let d = dir.display();
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user=root\n"
    } else {
        ""
    };
    let cnf = format!(
        "[mysqld]\n\
         {user}\
         datadir={d}/data\n\
         tmpdir={d}\n\
         socket={d}/mysqld.sock\n\
         pid-file={d}/mysqld.pid\n\
         log-error={d}/error.log\n\
         port={port}\n\
         bind-address=127.0.0.1\n\
         skip-name-resolve\n\
         server_id={server_id}\n\
         log_bin=mariadb-bin\n\
         relay_log=relay-bin\n\
         binlog_format=ROW\n\
         log_slave_updates=ON\n\
         gtid_strict_mode=ON\n\
         gtid_domain_id=0\n\
         auto_increment_increment=2\n\
         auto_increment_offset={server_id}\n\
         performance_schema=OFF\n\
         innodb_buffer_pool_size=32M\n\
         innodb_log_file_size=16M\n\
         innodb_log_buffer_size=2M\n\
         innodb_use_native_aio=0\n\
         innodb_flush_log_at_trx_commit=2\n\
         sync_binlog=0\n\
         key_buffer_size=1M\n\
         aria_pagecache_buffer_size=2M\n\
         max_connections=40\n\
         thread_cache_size=4\n"
    );
    fs::write(dir.join("my.cnf"), cnf).expect("write my.cnf");
}

fn install_db(dir: &Path) {
    let out = Command::new(program("mariadb-install-db"))
        .arg(format!("--defaults-file={}", dir.join("my.cnf").display()))
        .arg("--auth-root-authentication-method=normal")
        .arg("--skip-test-db")
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run mariadb-install-db ({INSTALL_HINT}): {e}"));
    assert!(
        out.status.success(),
        "mariadb-install-db failed ({}):\n{}\n{}\nerror log:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        fs::read_to_string(dir.join("error.log")).unwrap_or_default()
    );
}

/// Creates `name@127.0.0.1` identified by `password` with exactly `SLAVE MONITOR`: the least
/// privilege `check-mysql` needs on MariaDB 10.11 (global variables need no privilege). The
/// statement is binlogged, so on a [`Pair`] the user replicates to the other server.
pub fn create_monitor_user(s: &Server, name: &str, password: &str) {
    let (n, p) = (quote(name), quote(password));
    s.sql(&format!(
        "CREATE USER {n}@'127.0.0.1' IDENTIFIED BY {p}; \
         GRANT SLAVE MONITOR ON *.* TO {n}@'127.0.0.1'"
    ));
}

/// Makes `replica` replicate from `master` over 127.0.0.1 with [`REPL_USER`] and starts it.
/// `use_gtid` is `current_pos` (what the seed runbook 003 uses) or `slave_pos`.
pub fn start_replication(replica: &Server, master: &Server, use_gtid: &str) {
    replica.sql(&format!(
        "CHANGE MASTER TO master_host='127.0.0.1', master_port={}, master_user={}, \
         master_password={}, master_use_gtid={use_gtid}, master_connect_retry=1; START SLAVE",
        master.port,
        quote(REPL_USER),
        quote(REPL_PASSWORD)
    ));
}

/// `Slave_IO_Running=Yes` and `Slave_SQL_Running=Yes` on the default connection.
pub fn replication_running(s: &Server) -> bool {
    s.slave_field("Slave_IO_Running").as_deref() == Some("Yes")
        && s.slave_field("Slave_SQL_Running").as_deref() == Some("Yes")
}

/// Two servers (ids 1 and 2) replicating from each other with GTID.
pub struct Pair {
    /// server_id 1
    pub a: Server,
    /// server_id 2
    pub b: Server,
}

impl Pair {
    /// A running dual-master pair with `master_use_gtid=current_pos` (as in seed 003).
    #[track_caller]
    pub fn dual_master() -> Pair {
        Pair::dual_master_using("current_pos")
    }

    /// A running dual-master pair: [`REPL_USER`] (REPLICATION SLAVE, created on each server
    /// with `sql_log_bin=0`, so both start with empty GTID state), `CHANGE MASTER TO` the
    /// other server with `master_use_gtid=use_gtid` and `master_connect_retry=1`,
    /// `START SLAVE`; returns once both IO and SQL threads run on both.
    #[track_caller]
    pub fn dual_master_using(use_gtid: &str) -> Pair {
        let a = Server::start(1);
        let b = Server::start(2);
        for s in [&a, &b] {
            s.sql(&format!(
                "SET sql_log_bin=0; \
                 CREATE USER {u}@'127.0.0.1' IDENTIFIED BY {p}; \
                 GRANT REPLICATION SLAVE ON *.* TO {u}@'127.0.0.1'; \
                 SET sql_log_bin=1",
                u = quote(REPL_USER),
                p = quote(REPL_PASSWORD)
            ));
        }
        start_replication(&a, &b, use_gtid);
        start_replication(&b, &a, use_gtid);
        let pair = Pair { a, b };
        pair.wait_replicating();
        pair
    }

    /// Waits until IO and SQL threads run on both servers.
    #[track_caller]
    pub fn wait_replicating(&self) {
        wait_until("IO and SQL threads running on both servers", || {
            if replication_running(&self.a) && replication_running(&self.b) {
                Ok(())
            } else {
                Err(self.describe())
            }
        });
    }

    /// Waits until both servers report the same, non-empty or empty, `gtid_current_pos`.
    #[track_caller]
    pub fn wait_synced(&self) {
        wait_until("both servers at the same gtid_current_pos", || {
            let a = self.a.var("gtid_current_pos");
            let b = self.b.var("gtid_current_pos");
            if a == b { Ok(()) } else { Err(self.describe()) }
        });
    }

    /// [`Server::describe`] of both servers.
    pub fn describe(&self) -> String {
        format!("{}\n{}", self.a.describe(), self.b.describe())
    }
}

/// Path of one of this crate's binaries (`check-mysql`, `notify-master`, `notify-backup`,
/// `notify-down`) as built by cargo for this test run.
pub fn bin_path(name: &str) -> &'static str {
    match name {
        "check-mysql" => env!("CARGO_BIN_EXE_check-mysql"),
        "notify-master" => env!("CARGO_BIN_EXE_notify-master"),
        "notify-backup" => env!("CARGO_BIN_EXE_notify-backup"),
        "notify-down" => env!("CARGO_BIN_EXE_notify-down"),
        other => panic!("no binary named {other} in this crate"),
    }
}

/// One of this crate's binaries (see [`bin_path`]), to run with a guard timeout.
pub fn our_bin(name: &str) -> assert_cmd::Command {
    assert_cmd::Command::new(bin_path(name))
}

/// Has `cmd`'s process killed when the thread that spawns it exits (`PR_SET_PDEATHSIG`), so
/// that a test run that is killed leaves no server or daemon behind.
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// One finished run of one of our binaries: its command line, exit code and output, and what
/// explains a failed expectation (the state of what it acted on, read when it fails).
pub struct Run<'c> {
    pub bin: &'static str,
    pub args: Vec<String>,
    /// `None`: killed by the guard or a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    context: Box<dyn Fn() -> String + 'c>,
}

impl<'c> Run<'c> {
    /// Records a finished run and prints it (captured by the test runner; shown when the test
    /// fails, or with --nocapture).
    pub fn new(
        bin: &'static str,
        args: Vec<String>,
        code: Option<i32>,
        stdout: String,
        stderr: String,
        context: impl Fn() -> String + 'c,
    ) -> Self {
        println!(
            "$ {bin} {}\n  exit {code:?}\n  stdout: {stdout:?}\n  stderr: {stderr:?}",
            args.join(" ")
        );
        Run {
            bin,
            args,
            code,
            stdout,
            stderr,
            context: Box::new(context),
        }
    }

    /// Runs `cmd` (one of our binaries, `bin`, with `args`) to completion.
    pub fn of(
        bin: &'static str,
        cmd: &mut assert_cmd::Command,
        args: Vec<String>,
        context: impl Fn() -> String + 'c,
    ) -> Self {
        let out = cmd
            .args(&args)
            .output()
            .unwrap_or_else(|e| panic!("run {bin}: {e}"));
        Run::new(
            bin,
            args,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            context,
        )
    }

    /// Explains failures with `text` (a snapshot) instead.
    pub fn explained_by(mut self, text: String) -> Self {
        self.context = Box::new(move || text.clone());
        self
    }

    /// Panics with `why`, the run's details and its context.
    #[track_caller]
    pub fn fail(&self, why: &str) -> ! {
        panic!(
            "{why}\n{} {}\nexit code: {}\nstdout: {:?}\nstderr: {:?}\n{}",
            self.bin,
            self.args.join(" "),
            self.code
                .map_or("none (killed by the guard or a signal)".into(), |c| c
                    .to_string()),
            self.stdout,
            self.stderr,
            (self.context)()
        )
    }

    /// The single text line (stdout without its trailing newline).
    pub fn line(&self) -> &str {
        self.stdout.trim_end_matches('\n')
    }

    /// Exit code is `code` and stdout is exactly one line that starts with `prefix`
    /// (e.g. `OK writer`, `FAIL standby replication`).
    #[track_caller]
    pub fn expect(&self, code: i32, prefix: &str) -> &Self {
        if self.code != Some(code) {
            self.fail(&format!(
                "expected exit code {code} and a line `{prefix}...`"
            ));
        }
        self.expect_line(prefix)
    }

    /// Exit code is `code` and the first stdout line starts with `prefix` (for `--explain`
    /// and `-v`, which add lines after it).
    #[track_caller]
    pub fn expect_head(&self, code: i32, prefix: &str) -> &Self {
        if self.code != Some(code) || !self.stdout.starts_with(prefix) {
            self.fail(&format!(
                "expected exit code {code} and a first line `{prefix}...`"
            ));
        }
        self
    }

    /// Exit code is `code`, whatever the output.
    #[track_caller]
    pub fn expect_code(&self, code: i32) -> &Self {
        if self.code != Some(code) {
            self.fail(&format!("expected exit code {code}"));
        }
        self
    }

    /// Stdout is exactly one line starting with `prefix`.
    #[track_caller]
    pub fn expect_line(&self, prefix: &str) -> &Self {
        if self.line().lines().count() != 1 || !self.line().starts_with(prefix) {
            self.fail(&format!(
                "expected exactly one stdout line starting with `{prefix}`"
            ));
        }
        self
    }

    /// Exit 0 with one line `OK <role>` or `WARN <role>` (where the contract does not say
    /// which).
    #[track_caller]
    pub fn expect_pass(&self, role: &str) -> &Self {
        if self.code != Some(0) {
            self.fail(&format!("expected exit code 0 (OK or WARN {role})"));
        }
        let (ok, warn) = (format!("OK {role}"), format!("WARN {role}"));
        if self.line().lines().count() != 1
            || !(self.line().starts_with(&ok) || self.line().starts_with(&warn))
        {
            self.fail(&format!(
                "expected one line starting with `{ok}` or `{warn}`"
            ));
        }
        self
    }

    /// Stdout mentions every word (case-insensitive).
    #[track_caller]
    pub fn stdout_mentions(&self, words: &[&str]) -> &Self {
        let out = self.stdout.to_lowercase();
        if let Some(w) = words.iter().find(|w| !out.contains(&w.to_lowercase())) {
            self.fail(&format!("stdout does not mention `{w}`"));
        }
        self
    }

    /// Stdout or stderr mentions every word (case-insensitive).
    #[track_caller]
    pub fn output_mentions(&self, words: &[&str]) -> &Self {
        let out = format!("{}\n{}", self.stdout, self.stderr).to_lowercase();
        if let Some(w) = words.iter().find(|w| !out.contains(&w.to_lowercase())) {
            self.fail(&format!("neither stdout nor stderr mentions `{w}`"));
        }
        self
    }
}

/// Creates `name@127.0.0.1` identified by `password` with exactly `READ_ONLY ADMIN`,
/// `SLAVE MONITOR` and `CONNECTION ADMIN`: the least privileges the notify helpers need on
/// MariaDB 10.11, as packaging/grants.sql documents them (`CONNECTION ADMIN` lets them fence a
/// server at `max_connections`). Binlogged, so it replicates on a [`Pair`].
pub fn create_failover_user(s: &Server, name: &str, password: &str) {
    let (n, p) = (quote(name), quote(password));
    s.sql(&format!(
        "CREATE USER {n}@'127.0.0.1' IDENTIFIED BY {p}; \
         GRANT READ_ONLY ADMIN, SLAVE MONITOR, CONNECTION ADMIN ON *.* TO {n}@'127.0.0.1'"
    ));
}

/// A child process that is killed (SIGCONT, SIGKILL) and reaped when dropped, so that a
/// panicking test leaves nothing behind.
pub struct KillOnDrop(pub Option<Child>);

impl KillOnDrop {
    pub fn new(child: Child) -> KillOnDrop {
        KillOnDrop(Some(child))
    }

    /// The child's PID (it is not reaped before drop unless taken).
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// `Some(status)` once the child has exited (it is reaped then).
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// The child itself, to wait for it or read its pipes.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already taken")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            if let Ok(None) = child.try_wait() {
                // SAFETY: plain kill(2) on our own child, which has not been reaped yet.
                unsafe {
                    libc::kill(child.id() as libc::pid_t, libc::SIGCONT);
                }
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------------------------------
// Self-tests of the harness.

#[test]
fn harness_single_server_config_and_queries() {
    let s = Server::start(7);
    assert_eq!(s.var("server_id").as_deref(), Some("7"));
    assert_eq!(s.var("gtid_strict_mode").as_deref(), Some("1"));
    assert_eq!(s.var("log_bin").as_deref(), Some("1"));
    assert_eq!(s.var("log_slave_updates").as_deref(), Some("1"));
    assert_eq!(s.var("binlog_format").as_deref(), Some("ROW"));
    assert_eq!(s.var("auto_increment_offset").as_deref(), Some("7"));
    assert_eq!(s.var("bind_address").as_deref(), Some("127.0.0.1"));
    assert_eq!(
        s.var("port").map(|p| p.parse::<u16>().unwrap()),
        Some(s.port)
    );
    assert!(
        s.slave_status().is_empty(),
        "fresh server has no replication"
    );
    assert_eq!(
        s.sql("SELECT NULL, 'x'"),
        vec![vec![None, Some("x".to_string())]]
    );
    let err = s.try_sql("SELECT * FROM nope.nope").unwrap_err();
    assert!(err.contains("1049") || err.contains("1146"), "{err}");
    // The monitor user can read replication status, but cannot write.
    create_monitor_user(&s, "mon", "mon-pw");
    assert!(s.sql_as("mon", "mon-pw", "SHOW ALL SLAVES STATUS").is_ok());
    let denied = s.sql_as("mon", "mon-pw", "CREATE DATABASE x").unwrap_err();
    assert!(denied.contains("Access denied"), "{denied}");
    let bad = s.sql_as("mon", "wrong", "SELECT 1").unwrap_err();
    assert!(bad.contains("Access denied"), "{bad}");
    // Option files are private and say what they should.
    let f = s.option_file("mon", Some("mon-pw"));
    let meta = fs::metadata(&f).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let body = fs::read_to_string(&f).unwrap();
    assert!(body.contains(&format!("port={}", s.port)) && body.contains("password=mon-pw"));
}

#[test]
#[should_panic(expected = "apt-get install mariadb-server mariadb-client")]
fn harness_missing_program_is_a_failure_with_install_hint() {
    program("mariadbd-that-is-not-installed");
}

#[test]
fn harness_retries_start_on_a_port_clash() {
    let taken = free_port();
    let _holder = TcpListener::bind(("127.0.0.1", taken)).expect("hold a port");
    let mut first = true;
    let s = Server::start_on_ports(3, || {
        if std::mem::take(&mut first) {
            taken
        } else {
            free_port()
        }
    });
    assert_ne!(s.port, taken);
    assert_eq!(s.var("port").and_then(|p| p.parse().ok()), Some(s.port));
    let log = fs::read_to_string(s.error_log_path()).unwrap();
    assert!(
        log.contains("Address already in use"),
        "first attempt must have clashed:\n{log}"
    );
}

#[test]
fn harness_pair_replicates_both_ways() {
    let p = Pair::dual_master();
    p.a.sql(
        "CREATE DATABASE t; CREATE TABLE t.k (id INT PRIMARY KEY AUTO_INCREMENT, v TEXT); \
         INSERT INTO t.k (v) VALUES ('from a')",
    );
    p.wait_synced();
    p.b.sql("INSERT INTO t.k (v) VALUES ('from b')");
    p.wait_synced();
    for s in [&p.a, &p.b] {
        let rows = s.sql("SELECT id, v FROM t.k ORDER BY id");
        assert_eq!(
            rows,
            vec![
                vec![Some("1".into()), Some("from a".into())],
                vec![Some("2".into()), Some("from b".into())]
            ],
            "server {}",
            s.server_id
        );
    }
    assert_eq!(p.a.var("gtid_current_pos"), p.b.var("gtid_current_pos"));
    assert_eq!(
        p.a.slave_field("Using_Gtid").as_deref(),
        Some("Current_Pos")
    );
}

#[test]
fn harness_kill_pause_restart() {
    let mut p = Pair::dual_master();
    p.a.sql("CREATE DATABASE t");
    p.wait_synced();
    let port = p.b.port;
    p.b.kill();
    assert!(
        p.b.try_sql("SELECT 1").is_err(),
        "killed server must not answer"
    );
    p.a.wait_for("IO thread Connecting with errno 2003", |s| {
        s.slave_field("Slave_IO_Running").as_deref() == Some("Connecting")
            && s.slave_field("Last_IO_Errno").as_deref() == Some("2003")
    });
    p.a.sql("CREATE TABLE t.after_kill (id INT PRIMARY KEY)");
    p.b.restart();
    assert_eq!(p.b.port, port);
    p.wait_replicating();
    p.wait_synced();
    assert_eq!(p.b.sql("SHOW TABLES FROM t").len(), 1);

    p.b.pause();
    let err = p.b.query("root", "", "SELECT 1", Duration::from_secs(1));
    assert!(err.is_err(), "paused server must not answer");
    p.b.resume();
    assert_eq!(p.b.sql("SELECT 1"), vec![vec![Some("1".to_string())]]);
    let pid = p.b.pid().unwrap();
    p.b.pause();
    drop(p); // Drop must kill a paused server
    // SAFETY: signal 0 only checks for existence.
    let alive = unsafe { libc::kill(pid as libc::pid_t, 0) } == 0;
    assert!(!alive, "server process {pid} survived Drop");
}

impl Server {
    /// Opens connections as `user` until the server refuses one with error `code` (1040 at
    /// `max_connections`, 1226 at a per-account limit), and returns the open ones: the server
    /// stays saturated while they are held. Panics if no refusal came within `max` connections.
    #[track_caller]
    pub fn saturate(&self, user: &str, password: &str, code: u16, max: usize) -> Vec<mysql::Conn> {
        let mut held = Vec::new();
        while held.len() < max {
            match mysql::Conn::new(self.opts(user, password, Duration::from_secs(10))) {
                Ok(c) => held.push(c),
                Err(mysql::Error::MySqlError(e)) if e.code == code => return held,
                Err(e) => panic!(
                    "connection {} as {user} to 127.0.0.1:{}: expected error {code}, got {e}",
                    held.len() + 1,
                    self.port
                ),
            }
        }
        panic!(
            "127.0.0.1:{} accepted {max} connections as {user} without error {code}",
            self.port
        );
    }
}

/// A TCP proxy on 127.0.0.1 to a local port that the test can pause: while paused, it reads
/// but forwards nothing, in either direction, and the connections stay open. That is a
/// silently stalled path (a stuck proxy, a half-open connection) as replication sees it.
pub struct Proxy {
    pub port: u16,
    paused: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    /// Listens on a free loopback port and forwards every connection to `127.0.0.1:target`.
    pub fn start(target: u16) -> Proxy {
        use std::sync::Arc;
        use std::sync::atomic::AtomicBool;
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let paused = Arc::new(AtomicBool::new(false));
        let p = paused.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = std::net::TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                for (from, to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ] {
                    let (Ok(mut from), Ok(mut to)) = (from, to) else {
                        continue;
                    };
                    let p = p.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => n,
                            };
                            while p.load(Ordering::SeqCst) {
                                std::thread::sleep(Duration::from_millis(10));
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, paused }
    }

    /// Stop forwarding (data is held, connections stay open).
    pub fn pause(&self) {
        self.paused.store(true, Ordering::SeqCst);
    }

    /// Forward again, held data first.
    pub fn resume(&self) {
        self.paused.store(false, Ordering::SeqCst);
    }
}

impl Drop for Proxy {
    /// Let held threads drain and end when the servers close their connections.
    fn drop(&mut self) {
        self.resume();
    }
}
