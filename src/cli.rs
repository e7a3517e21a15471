//! Command-line definitions (clap derive), shared by the binaries and by build.rs, which
//! renders man pages and completions from them. So this file depends on nothing else in the
//! crate: build.rs includes it on its own.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, ValueEnum};

/// Parse a humantime duration (`800ms`, `2s`, `1m 30s`), refusing zero. A bare number is
/// taken as seconds, as the seed scripts' `sbm=120` and keepalived's `interval 2` are.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let d = if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse::<u64>()
            .map(Duration::from_secs)
            .map_err(|e| format!("invalid duration '{text}': {e}"))?
    } else {
        humantime::parse_duration(t)
            .map_err(|e| format!("invalid duration '{text}': {e} (examples: 800ms, 2s, 1m)"))?
    };
    if d.is_zero() {
        return Err(format!(
            "invalid duration '{text}': must be greater than zero"
        ));
    }
    Ok(d)
}

/// TLS settings (`--ssl-mode`, `--ssl-ca`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum SslMode {
    /// Plain connection.
    #[default]
    Disabled,
    /// TLS, any certificate.
    Required,
    /// TLS, certificate signed by `--ssl-ca`, any host name.
    VerifyCa,
    /// TLS, certificate signed by `--ssl-ca` and matching the host name.
    VerifyIdentity,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum RoleArg {
    /// Role file in the state dir, else `--vip` on a local interface, else standby.
    #[default]
    Auto,
    Writer,
    Standby,
}

/// Default option file (absolute: keepalived gives scripts no useful environment).
pub const DEFAULT_DEFAULTS_FILE: &str = "/etc/keepalived/mysql-helpers.cnf";

// ---------------------------------------------------------------- keepalived states

/// The states keepalived passes to a notify script, always in upper case (keepalived.conf(5),
/// `notify`: "MASTER"|"BACKUP"|"FAULT"|"STOP"|"DELETED"; keepalived 2.2.7 vrrp_notify.c).
/// DELETED is sent instead of FAULT for an instance that a reload removes, when the instance
/// has `notify_deleted`.
pub const KEEPALIVED_STATES: [&str; 5] = ["MASTER", "BACKUP", "FAULT", "STOP", "DELETED"];
/// The states notify-master acts on: becoming MASTER.
pub const MASTER_STATES: &[&str] = &["MASTER"];
/// The states notify-backup acts on: every way of not (or no longer) being MASTER. STOP and
/// DELETED fence like BACKUP: the instance is going away, and the node must not keep taking
/// writes by its own address.
pub const BACKUP_STATES: &[&str] = &["BACKUP", "FAULT", "STOP", "DELETED"];
/// The states notify-down accepts: any (it stops keepalived whatever the state, and only logs
/// it). DOWN and UP are not keepalived notify states; they are accepted as before for callers
/// that pass them.
pub const DOWN_STATES: &[&str] = &["MASTER", "BACKUP", "FAULT", "STOP", "DELETED", "DOWN", "UP"];

/// `Exit::Usage` (kept as a literal so that this file stands alone).
pub const USAGE_EXIT_CODE: i32 = 64;

pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   ok (also degraded: a WARN line and a syslog warning)
  1   down: cannot connect, query failed, or --timeout passed
  2   replication broken
  3   lagging more than --max-lag (or lag unknown)
  4   GTID history diverged from the peer's
  5   writer is read-only
  64  usage error
  78  configuration error (unreadable or unsafe option file, bad value)";

/// How to reach the server. Passwords come only from the option file or MYSQL_PWD: a
/// password on the command line would show in `ps`.
#[derive(Debug, Clone, Args, Default)]
pub struct ConnectionArgs {
    /// MySQL option file; groups [client] and the binary's own group are read
    /// [default: /etc/keepalived/mysql-helpers.cnf, if it exists]
    #[arg(long, value_name = "PATH")]
    pub defaults_file: Option<PathBuf>,
    /// Server host; "localhost" or none means the unix socket
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Server TCP port [default: 3306]
    #[arg(long, value_name = "PORT")]
    pub port: Option<u16>,
    /// Unix socket [default: /run/mysqld/mysqld.sock]
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
    /// User name
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// TLS mode for TCP connections (local and --peer)
    #[arg(long, value_enum, value_name = "MODE")]
    pub ssl_mode: Option<SslMode>,
    /// CA certificate (PEM) that signs the server's certificate
    #[arg(long, value_name = "PATH")]
    pub ssl_ca: Option<PathBuf>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// Options every binary has.
#[derive(Debug, Clone, Args, Default)]
pub struct CommonArgs {
    /// Overall deadline for the whole run (humantime: 800ms, 2s); keep it below
    /// keepalived's script timeout [default: 800ms]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// State dir: role file and last verdict [default: /run/keepalived-mysql]
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print the full evidence
    #[arg(short, long)]
    pub verbose: bool,
    /// Do not log to syslog
    #[arg(long)]
    pub no_syslog: bool,
    /// Syslog socket (for tests)
    #[arg(long, value_name = "PATH", hide = true)]
    pub syslog_socket: Option<PathBuf>,
    /// keepalived's notify arguments, when called as a notify script: TYPE NAME STATE PRIORITY
    #[arg(value_name = "KEEPALIVED_ARGS", num_args = 0..=4)]
    pub keepalived_args: Vec<String>,
}

/// Decide whether this node may hold (or take) the keepalived VIP. Exit 0 = yes.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "check-mysql",
    version,
    after_help = EXIT_CODES_HELP,
    disable_help_subcommand = true
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Rules to apply: writer (holds the VIP), standby, or auto (role file written by the
    /// notify helpers, else --vip on a local interface, else standby)
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// The VIP: with --role auto, this node is the writer when the VIP is on a local interface
    #[arg(long, value_name = "ADDR")]
    pub vip: Option<IpAddr>,
    /// The other master, HOST[:PORT]: probed within the same deadline to tell a dead peer
    /// from broken replication, and to compare GTID histories
    #[arg(long, value_name = "HOST[:PORT]")]
    pub peer: Option<String>,
    /// Largest acceptable Seconds_Behind_Master on a standby [default: 120s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub max_lag: Option<Duration>,
    /// A standby with no replication configured passes (degraded)
    #[arg(long)]
    pub allow_no_replica: bool,
    /// A writer with read_only=ON passes (degraded)
    #[arg(long)]
    pub allow_read_only: bool,
    /// After the line, the next step for each problem, with its runbook section
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Parse argv, mapping clap's outcome onto our exit codes: help and version print and
/// exit 0; anything else is a one-line usage error and exit 64 (not clap's 2).
pub fn parse_or_exit<P: Parser>(binary: &str) -> P {
    match P::try_parse() {
        Ok(p) => p,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(
                e.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = e.print();
                std::process::exit(0);
            }
            let text = e.to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments")
                .trim_start_matches("error: ");
            eprintln!("{binary}: usage error: {first} (see {binary} --help)");
            std::process::exit(USAGE_EXIT_CODE);
        }
    }
}

/// What notify-master does when the catch-up wait runs out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum OnCatchupTimeout {
    /// Stay read-only, record the failed promotion (check-mysql then fails this node so
    /// that the VIP can move to an eligible peer), exit 3.
    #[default]
    Fail,
    /// Take writes anyway, with a loud syslog error: transactions still in the relay log
    /// are applied after the new writes.
    Promote,
}

/// keepalived `notify_master`: make this node a safe writer (catch up on the relay log,
/// then read_only=OFF), recording the role for check-mysql.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "notify-master",
    version,
    after_help = EXIT_CODES_HELP,
    disable_help_subcommand = true
)]
pub struct NotifyMasterArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Longest wait for the SQL thread to apply what the IO thread received [default: 30s]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub catchup_timeout: Option<Duration>,
    /// What to do when the catch-up wait runs out [default: fail]
    #[arg(long, value_enum, value_name = "ACTION")]
    pub on_catchup_timeout: Option<OnCatchupTimeout>,
    /// Record the writer role but leave read_only as it is
    #[arg(long)]
    pub keep_read_only: bool,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// keepalived `notify_backup` / `notify_fault` / `notify_stop`: fence this node
/// (read_only=ON), recording the role for check-mysql.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "notify-backup",
    version,
    after_help = EXIT_CODES_HELP,
    disable_help_subcommand = true
)]
pub struct NotifyBackupArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// When the server cannot be fenced now (down or hung), keep trying in the background
    /// for this long, until fenced or until a newer transition is recorded [default: 10m]
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub retry_for: Option<Duration>,
    /// Do not retry in the background
    #[arg(long, conflicts_with = "retry_for")]
    pub no_retry: bool,
    /// Internal: this process is the background retry of transition SEQ
    #[arg(long, value_name = "SEQ", hide = true)]
    pub retry_seq: Option<u64>,
    /// Internal: the background retry gives up at this Unix time
    #[arg(long, value_name = "UNIX-TIME", hide = true, requires = "retry_seq")]
    pub retry_until: Option<u64>,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}

/// Stop keepalived so that the peer takes the VIP: via systemd when systemd runs it, else
/// SIGTERM to the PID in keepalived's pid file after checking that it is keepalived.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "notify-down",
    version,
    after_help = EXIT_CODES_HELP,
    disable_help_subcommand = true
)]
pub struct NotifyDownArgs {
    /// keepalived's pid file
    #[arg(long, value_name = "PATH", default_value = "/run/keepalived.pid")]
    pub pidfile: PathBuf,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub common: CommonArgs,
}
