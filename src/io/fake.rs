//! Servers for unit tests of the IO modules: each answers statements as that server does
//! (result columns in the order the reference manuals document them; errors with their
//! numbers, SQLSTATEs and messages) and records every query it was sent, one per round trip.

use crate::io::mysql::{ResultSets, Row, Session};

/// A row of `SHOW ... STATUS`: column names and values (`None`: NULL).
type Columns = &'static [(&'static str, Option<&'static str>)];

/// The servers the fake can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Server {
    MariaDb1011,
    /// No `SHOW REPLICA STATUS` (8.0.22+), old column names.
    MySql57,
    MySql8021,
    /// `SHOW REPLICA STATUS`, new column names; `SHOW SLAVE STATUS` deprecated.
    MySql8036,
    /// `SHOW SLAVE STATUS` removed.
    MySql84,
}

impl Server {
    pub(crate) fn version(self) -> &'static str {
        match self {
            Server::MariaDb1011 => "10.11.6-MariaDB-0+deb12u1-log",
            Server::MySql57 => "5.7.44-log",
            Server::MySql8021 => "8.0.21",
            Server::MySql8036 => "8.0.36",
            Server::MySql84 => "8.4.3",
        }
    }

    fn is_mariadb(self) -> bool {
        self == Server::MariaDb1011
    }

    /// `@@GLOBAL.<name>`, or `None` for a variable this server does not have.
    fn variable(self, name: &str) -> Option<&'static str> {
        let mariadb = [
            ("read_only", "0"),
            ("gtid_current_pos", "0-2-41"),
            ("gtid_slave_pos", "0-2-41"),
            ("gtid_binlog_pos", "0-2-41"),
            ("gtid_binlog_state", "0-1-10,0-2-41"),
            ("gtid_strict_mode", "1"),
            ("server_id", "2"),
        ];
        let mysql = [
            ("read_only", "1"),
            ("super_read_only", "1"),
            ("gtid_executed", MYSQL_EXECUTED),
            ("server_id", "2"),
        ];
        let vars: &[(&str, &str)] = if self.is_mariadb() { &mariadb } else { &mysql };
        vars.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
    }

    /// The rows of `SHOW ... STATUS`, or the server's error for a statement it lacks.
    fn status(self, statement: &str) -> Result<Vec<Row>, mysql::Error> {
        let syntax = |near: &str| {
            error(
                1064,
                "42000",
                &format!(
                    "You have an error in your SQL syntax; check the manual that corresponds \
                     to your MySQL server version for the right syntax to use near '{near}' \
                     at line 1"
                ),
            )
        };
        let (columns, extra): (Columns, Columns) = match (self, statement) {
            (Server::MariaDb1011, "SHOW ALL SLAVES STATUS") => (MARIADB_ALL_SLAVES, &[]),
            (_, "SHOW ALL SLAVES STATUS") => return Err(syntax("ALL SLAVES STATUS")),
            (Server::MySql57 | Server::MySql8021, "SHOW REPLICA STATUS") => {
                return Err(syntax("REPLICA STATUS"));
            }
            (Server::MySql84, "SHOW SLAVE STATUS") => return Err(syntax("SLAVE STATUS")),
            (Server::MySql57, "SHOW SLAVE STATUS") => (MYSQL57_SLAVE, &[]),
            (Server::MySql8021, "SHOW SLAVE STATUS") => (MYSQL57_SLAVE, MYSQL80_SLAVE_EXTRA),
            (Server::MySql8036 | Server::MySql84, _) => (MYSQL80_REPLICA, &[]),
            // MariaDB: one connection's columns, without the two only ALL SLAVES shows.
            (Server::MariaDb1011, _) => (&MARIADB_ALL_SLAVES[2..], &[]),
            _ => unreachable!("{self:?}: {statement}"),
        };
        Ok(vec![
            columns
                .iter()
                .chain(extra)
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        ])
    }
}

/// A fake connection to `server`.
pub(crate) struct Fake {
    pub(crate) server: Server,
    /// Every query sent, in order.
    pub(crate) sent: Vec<String>,
    /// Answer every statement with this error (a server refusing the account, or going down).
    refusal: Option<(u16, &'static str, &'static str)>,
}

impl Fake {
    pub(crate) fn new(server: Server) -> Fake {
        Fake {
            server,
            sent: Vec::new(),
            refusal: None,
        }
    }

    pub(crate) fn refusing(
        server: Server,
        code: u16,
        sqlstate: &'static str,
        message: &'static str,
    ) -> Fake {
        Fake {
            refusal: Some((code, sqlstate, message)),
            ..Fake::new(server)
        }
    }

    fn statement(&self, stmt: &str) -> Result<Vec<Row>, mysql::Error> {
        if let Some((code, state, message)) = self.refusal {
            return Err(error(code, state, message));
        }
        let Some(list) = stmt.strip_prefix("SELECT ") else {
            return self.server.status(stmt);
        };
        let mut row = Row::new();
        for item in list.split(',').map(str::trim) {
            let value = match item.strip_prefix("@@GLOBAL.") {
                None if item == "VERSION()" => self.server.version(),
                // The split-brain guard's row (packaging/split-brain.sql): the fake peer is
                // writable since this moment on its own clock.
                None if item.starts_with("(SELECT CAST(writer_since AS CHAR)") => WRITER_SINCE,
                None => unreachable!("the fake does not evaluate {item}"),
                Some(name) => self.server.variable(name).ok_or_else(|| {
                    error(1193, "HY000", &format!("Unknown system variable '{name}'"))
                })?,
            };
            row.push((item.to_string(), Some(value.to_string())));
        }
        Ok(vec![row])
    }
}

impl Session for Fake {
    /// Statements run in order; the first error ends the query, after the sets before it.
    fn query_sets(&mut self, q: &str) -> (ResultSets, Option<mysql::Error>) {
        self.sent.push(q.to_string());
        let mut sets = ResultSets::new();
        for stmt in q.split(';').map(str::trim).filter(|s| !s.is_empty()) {
            match self.statement(stmt) {
                Ok(rows) => sets.push(rows),
                Err(e) => return (sets, Some(e)),
            }
        }
        (sets, None)
    }
}

pub(crate) fn error(code: u16, state: &str, message: &str) -> mysql::Error {
    mysql::Error::MySqlError(mysql::MySqlError {
        state: state.into(),
        message: message.into(),
        code,
    })
}

/// The fake's `keepalived_mysql.guard.writer_since`, as `CAST(... AS CHAR)` shows it.
pub(crate) const WRITER_SINCE: &str = "2026-11-30 01:02:03.456789";

pub(crate) const MYSQL_EXECUTED: &str =
    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-10,\n4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41";

/// `SHOW ALL SLAVES STATUS` on MariaDB 10.11, one healthy connection.
pub(crate) const MARIADB_ALL_SLAVES: Columns = &[
    ("Connection_name", Some("")),
    (
        "Slave_SQL_State",
        Some("Slave has read all relay log; waiting for more updates"),
    ),
    ("Slave_IO_State", Some("Waiting for master to send event")),
    ("Master_Host", Some("10.0.0.2")),
    ("Master_User", Some("repl")),
    ("Master_Port", Some("3306")),
    ("Connect_Retry", Some("60")),
    ("Master_Log_File", Some("mysql-bin.000002")),
    ("Read_Master_Log_Pos", Some("1234")),
    ("Relay_Log_File", Some("relay-bin.000003")),
    ("Relay_Log_Pos", Some("900")),
    ("Relay_Master_Log_File", Some("mysql-bin.000002")),
    ("Slave_IO_Running", Some("Yes")),
    ("Slave_SQL_Running", Some("Yes")),
    ("Replicate_Do_DB", Some("")),
    ("Replicate_Ignore_DB", Some("")),
    ("Replicate_Do_Table", Some("")),
    ("Replicate_Ignore_Table", Some("")),
    ("Replicate_Wild_Do_Table", Some("")),
    ("Replicate_Wild_Ignore_Table", Some("")),
    ("Last_Errno", Some("0")),
    ("Last_Error", Some("")),
    ("Skip_Counter", Some("0")),
    ("Exec_Master_Log_Pos", Some("1234")),
    ("Relay_Log_Space", Some("1500")),
    ("Until_Condition", Some("None")),
    ("Until_Log_File", Some("")),
    ("Until_Log_Pos", Some("0")),
    ("Master_SSL_Allowed", Some("No")),
    ("Master_SSL_CA_File", Some("")),
    ("Master_SSL_CA_Path", Some("")),
    ("Master_SSL_Cert", Some("")),
    ("Master_SSL_Cipher", Some("")),
    ("Master_SSL_Key", Some("")),
    ("Seconds_Behind_Master", Some("0")),
    ("Master_SSL_Verify_Server_Cert", Some("No")),
    ("Last_IO_Errno", Some("0")),
    ("Last_IO_Error", Some("")),
    ("Last_SQL_Errno", Some("0")),
    ("Last_SQL_Error", Some("")),
    ("Replicate_Ignore_Server_Ids", Some("")),
    ("Master_Server_Id", Some("2")),
    ("Master_SSL_Crl", Some("")),
    ("Master_SSL_Crlpath", Some("")),
    ("Using_Gtid", Some("Slave_Pos")),
    ("Gtid_IO_Pos", Some("0-2-41")),
    ("Replicate_Do_Domain_Ids", Some("")),
    ("Replicate_Ignore_Domain_Ids", Some("")),
    ("Parallel_Mode", Some("optimistic")),
    ("SQL_Delay", Some("0")),
    ("SQL_Remaining_Delay", None),
    (
        "Slave_SQL_Running_State",
        Some("Slave has read all relay log; waiting for more updates"),
    ),
    ("Slave_DDL_Groups", Some("3")),
    ("Slave_Non_Transactional_Groups", Some("0")),
    ("Slave_Transactional_Groups", Some("38")),
    ("Replicate_Rewrite_DB", Some("")),
    ("Retried_transactions", Some("0")),
    ("Max_relay_log_size", Some("1073741824")),
    ("Executed_log_entries", Some("120")),
    ("Slave_received_heartbeats", Some("0")),
    ("Slave_heartbeat_period", Some("30.000")),
    ("Gtid_Slave_Pos", Some("0-2-41")),
];

/// `SHOW SLAVE STATUS` on MySQL 5.7, one healthy channel.
const MYSQL57_SLAVE: Columns = &[
    ("Slave_IO_State", Some("Waiting for master to send event")),
    ("Master_Host", Some("10.0.0.2")),
    ("Master_User", Some("repl")),
    ("Master_Port", Some("3306")),
    ("Connect_Retry", Some("60")),
    ("Master_Log_File", Some("binlog.000002")),
    ("Read_Master_Log_Pos", Some("1234")),
    ("Relay_Log_File", Some("relay.000003")),
    ("Relay_Log_Pos", Some("900")),
    ("Relay_Master_Log_File", Some("binlog.000002")),
    ("Slave_IO_Running", Some("Yes")),
    ("Slave_SQL_Running", Some("Yes")),
    ("Replicate_Do_DB", Some("")),
    ("Replicate_Ignore_DB", Some("")),
    ("Replicate_Do_Table", Some("")),
    ("Replicate_Ignore_Table", Some("")),
    ("Replicate_Wild_Do_Table", Some("")),
    ("Replicate_Wild_Ignore_Table", Some("")),
    ("Last_Errno", Some("0")),
    ("Last_Error", Some("")),
    ("Skip_Counter", Some("0")),
    ("Exec_Master_Log_Pos", Some("1234")),
    ("Relay_Log_Space", Some("1500")),
    ("Until_Condition", Some("None")),
    ("Until_Log_File", Some("")),
    ("Until_Log_Pos", Some("0")),
    ("Master_SSL_Allowed", Some("No")),
    ("Master_SSL_CA_File", Some("")),
    ("Master_SSL_CA_Path", Some("")),
    ("Master_SSL_Cert", Some("")),
    ("Master_SSL_Cipher", Some("")),
    ("Master_SSL_Key", Some("")),
    ("Seconds_Behind_Master", Some("0")),
    ("Master_SSL_Verify_Server_Cert", Some("No")),
    ("Last_IO_Errno", Some("0")),
    ("Last_IO_Error", Some("")),
    ("Last_SQL_Errno", Some("0")),
    ("Last_SQL_Error", Some("")),
    ("Replicate_Ignore_Server_Ids", Some("")),
    ("Master_Server_Id", Some("2")),
    ("Master_UUID", Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562")),
    ("Master_Info_File", Some("mysql.slave_master_info")),
    ("SQL_Delay", Some("0")),
    ("SQL_Remaining_Delay", None),
    (
        "Slave_SQL_Running_State",
        Some("Slave has read all relay log; waiting for more updates"),
    ),
    ("Master_Retry_Count", Some("86400")),
    ("Master_Bind", Some("")),
    ("Last_IO_Error_Timestamp", Some("")),
    ("Last_SQL_Error_Timestamp", Some("")),
    ("Master_SSL_Crl", Some("")),
    ("Master_SSL_Crlpath", Some("")),
    (
        "Retrieved_Gtid_Set",
        Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41"),
    ),
    ("Executed_Gtid_Set", Some(MYSQL_EXECUTED)),
    ("Auto_Position", Some("1")),
    ("Replicate_Rewrite_DB", Some("")),
    ("Channel_Name", Some("")),
    ("Master_TLS_Version", Some("")),
];

/// What MySQL 8.0 before 8.0.22 adds to [`MYSQL57_SLAVE`].
const MYSQL80_SLAVE_EXTRA: Columns = &[
    ("Master_public_key_path", Some("")),
    ("Get_master_public_key", Some("0")),
];

/// `SHOW REPLICA STATUS` on MySQL 8.0.22+, one healthy channel.
pub(crate) const MYSQL80_REPLICA: Columns = &[
    ("Replica_IO_State", Some("Waiting for source to send event")),
    ("Source_Host", Some("10.0.0.2")),
    ("Source_User", Some("repl")),
    ("Source_Port", Some("3306")),
    ("Connect_Retry", Some("60")),
    ("Source_Log_File", Some("binlog.000002")),
    ("Read_Source_Log_Pos", Some("1234")),
    ("Relay_Log_File", Some("relay.000003")),
    ("Relay_Log_Pos", Some("900")),
    ("Relay_Source_Log_File", Some("binlog.000002")),
    ("Replica_IO_Running", Some("Yes")),
    ("Replica_SQL_Running", Some("Yes")),
    ("Replicate_Do_DB", Some("")),
    ("Replicate_Ignore_DB", Some("")),
    ("Replicate_Do_Table", Some("")),
    ("Replicate_Ignore_Table", Some("")),
    ("Replicate_Wild_Do_Table", Some("")),
    ("Replicate_Wild_Ignore_Table", Some("")),
    ("Last_Errno", Some("0")),
    ("Last_Error", Some("")),
    ("Skip_Counter", Some("0")),
    ("Exec_Source_Log_Pos", Some("1234")),
    ("Relay_Log_Space", Some("1500")),
    ("Until_Condition", Some("None")),
    ("Until_Log_File", Some("")),
    ("Until_Log_Pos", Some("0")),
    ("Source_SSL_Allowed", Some("No")),
    ("Source_SSL_CA_File", Some("")),
    ("Source_SSL_CA_Path", Some("")),
    ("Source_SSL_Cert", Some("")),
    ("Source_SSL_Cipher", Some("")),
    ("Source_SSL_Key", Some("")),
    ("Seconds_Behind_Source", Some("0")),
    ("Source_SSL_Verify_Server_Cert", Some("No")),
    ("Last_IO_Errno", Some("0")),
    ("Last_IO_Error", Some("")),
    ("Last_SQL_Errno", Some("0")),
    ("Last_SQL_Error", Some("")),
    ("Replicate_Ignore_Server_Ids", Some("")),
    ("Source_Server_Id", Some("2")),
    ("Source_UUID", Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562")),
    ("Source_Info_File", Some("mysql.slave_master_info")),
    ("SQL_Delay", Some("0")),
    ("SQL_Remaining_Delay", None),
    (
        "Replica_SQL_Running_State",
        Some("Replica has read all relay log; waiting for more updates"),
    ),
    ("Source_Retry_Count", Some("86400")),
    ("Source_Bind", Some("")),
    ("Last_IO_Error_Timestamp", Some("")),
    ("Last_SQL_Error_Timestamp", Some("")),
    ("Source_SSL_Crl", Some("")),
    ("Source_SSL_Crlpath", Some("")),
    (
        "Retrieved_Gtid_Set",
        Some("4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-41"),
    ),
    ("Executed_Gtid_Set", Some(MYSQL_EXECUTED)),
    ("Auto_Position", Some("1")),
    ("Replicate_Rewrite_DB", Some("")),
    ("Channel_Name", Some("")),
    ("Source_TLS_Version", Some("")),
    ("Source_public_key_path", Some("")),
    ("Get_Source_public_key", Some("0")),
    ("Network_Namespace", Some("")),
];
