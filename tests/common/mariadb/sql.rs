//! Queries on a [`Server`]: as root (fresh connection per call, over TCP or the socket), as
//! another account, replication status, a description for failure messages, option files.
//! Values come back as text (`Option<String>`, `None` for SQL NULL).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use mysql::prelude::Queryable;

use super::super::{WAIT, wait_until};
use super::Server;

/// One row of a result set: column values as text, `None` for SQL NULL.
pub type Row = Vec<Option<String>>;

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

impl Server {
    /// Connection options; `timeout` bounds connect, and each read and write.
    /// Over TCP to 127.0.0.1, or on the socket for a socket-only server.
    pub fn opts(&self, user: &str, password: &str, timeout: Duration) -> mysql::Opts {
        let opts = mysql::OptsBuilder::new()
            .user(Some(user))
            .pass(Some(password))
            .read_timeout(Some(timeout))
            .write_timeout(Some(timeout));
        if self.tcp {
            opts.ip_or_hostname(Some("127.0.0.1"))
                .tcp_port(self.port)
                .prefer_socket(false)
                .tcp_connect_timeout(Some(timeout))
                .into()
        } else {
            opts.socket(Some(self.socket().display().to_string()))
                .into()
        }
    }

    pub(super) fn try_connect(&self, timeout: Duration) -> Result<(), String> {
        mysql::Conn::new(self.opts("root", "", timeout))
            .map(drop)
            .map_err(|e| e.to_string())
    }

    /// Runs `q` (one or more `;`-separated statements) and returns the column names and rows of
    /// the last result set that has columns.
    pub fn query(
        &self,
        user: &str,
        password: &str,
        q: &str,
        timeout: Duration,
    ) -> Result<(Vec<String>, Vec<Row>), String> {
        let mut conn = mysql::Conn::new(self.opts(user, password, timeout))
            .map_err(|e| format!("connect to {} as {user}: {e}", self.address()))?;
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

    /// Runs `q` as root (over TCP, or on the socket); returns the rows of the last result set. Panics with the
    /// server's message on error.
    #[track_caller]
    pub fn sql(&self, q: &str) -> Vec<Row> {
        self.try_sql(q).unwrap_or_else(|e| {
            panic!(
                "{}: `{q}` failed: {e}\nerror log tail:\n{}",
                self.name(),
                self.error_log_tail(20)
            )
        })
    }

    /// Like [`Server::sql`], but returns the error message (e.g. `ERROR 1062 (23000): ...`).
    pub fn try_sql(&self, q: &str) -> Result<Vec<Row>, String> {
        self.query("root", "", q, WAIT).map(|(_, rows)| rows)
    }

    /// Runs `q` as `user` (`user@127.0.0.1` over TCP) with `password`.
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
        self.try_slave_status()
            .unwrap_or_else(|e| panic!("{}: SHOW ALL SLAVES STATUS: {e}", self.name()))
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
        let mut s = self.name();
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

    /// Writes a mode-0600 option file with a `[client]` group (`host=127.0.0.1` and `port`,
    /// or `socket` for a socket-only server, `user`, and `password` unless `None`) into
    /// [`Server::dir`] and returns its path.
    pub fn option_file(&self, user: &str, password: Option<&str>) -> PathBuf {
        let mut body = if self.tcp {
            format!("[client]\nhost=127.0.0.1\nport={}\n", self.port)
        } else {
            format!("[client]\nsocket={}\n", self.socket().display())
        };
        let _ = writeln!(body, "user={user}");
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
                    "connection {} as {user} to {}: expected error {code}, got {e}",
                    held.len() + 1,
                    self.address()
                ),
            }
        }
        panic!(
            "{} accepted {max} connections as {user} without error {code}",
            self.address()
        );
    }
}
