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

// ---------------------------------------------------------------- defaults
//
// Each default is defined once, here: the code uses these constants (each module that needs
// one re-exports it, `pub use crate::cli::DEFAULT_...`) and the help text is built from them,
// so --help, the man pages and the completions (rendered from these definitions by build.rs)
// state what the code does. Defaults that the option file may override cannot be clap defaults (clap would then
// always supply a value): their `[default: ...]` is part of the help text instead.

/// Default option file (absolute: keepalived gives scripts no useful environment).
pub const DEFAULT_DEFAULTS_FILE: &str = "/etc/keepalived/mysql-helpers.cnf";
/// Default TCP port (MySQL's).
pub const DEFAULT_PORT: u16 = 3306;
/// Default unix socket (Debian's MariaDB); used when no host, or `localhost`, is given.
pub const DEFAULT_SOCKET: &str = "/run/mysqld/mysqld.sock";
/// Default `--timeout` of check-mysql, notify-master and notify-backup: below keepalived's
/// one-second limits (a vrrp_script `timeout 1`; keepalived 2.2.7 kills `notify_stop` scripts
/// after one second, vrrp_notify.c).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(800);
/// Default state dir (absolute: keepalived gives scripts no useful environment).
pub const DEFAULT_STATE_DIR: &str = "/run/keepalived-mysql";
/// Default `--max-lag`: the seed scripts' `sbm=120`, in seconds.
pub const DEFAULT_MAX_LAG: Duration = Duration::from_secs(120);
/// Default `--catchup-timeout` of notify-master.
pub const DEFAULT_CATCHUP_TIMEOUT: Duration = Duration::from_secs(30);
/// Default `--retry-for` of notify-backup: how long the background retry keeps trying to
/// fence a server it cannot reach.
pub const DEFAULT_RETRY_FOR: Duration = Duration::from_secs(600);
/// Default `--timeout` of notify-down: stopping keepalived takes longer than a check (it
/// sends its last adverts and runs its notify_stop scripts first).
pub const DEFAULT_DOWN_TIMEOUT: Duration = Duration::from_secs(5);
/// Default `--pidfile` of notify-down: keepalived's own default (keepalived(8), `--pid`).
pub const DEFAULT_PIDFILE: &str = "/run/keepalived.pid";

/// A duration as the help text and the docs write it: milliseconds when it is not a whole
/// number of seconds (`800ms`), whole minutes from ten minutes up (`10m`), else seconds
/// (`5s`, `120s`). Every value it prints is accepted back by [`parse_duration`].
pub fn show_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        format!("{ms}ms")
    } else if ms >= 600_000 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else {
        format!("{}s", ms / 1000)
    }
}

/// The command-line name of a value enum's default (`auto`, `fail`, `disabled`).
fn default_name<T: ValueEnum + Default>() -> String {
    T::default()
        .to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

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

/// Help of the positional keepalived arguments of a binary that handles `states`.
fn keepalived_args_help(states: &[&str]) -> String {
    format!(
        "keepalived's notify arguments TYPE NAME STATE [PRIORITY] (keepalived passes them to a \
         `notify` script; notify_master and the like get none); STATE: {}; any other state is \
         a usage error",
        states.join(", ")
    )
}

/// `Exit::Usage` (kept as a literal so that this file stands alone).
pub const USAGE_EXIT_CODE: i32 = 64;

// ---------------------------------------------------------------- exit codes
//
// Each binary's --help ends with the exit codes that binary returns (docs/contract.md "Exit
// codes"), and build.rs renders the same text as its man page's EXIT STATUS. The format, which
// build.rs checks: the heading `Exit codes:`, then one row per code, `  CODE  meaning` (two
// spaces, the code, spaces, the meaning); a long meaning goes on over lines indented by six
// spaces, which must not start with `-` (they would read as an option in --help).

/// check-mysql's exit codes (`src/app/check.rs`, docs/contract.md "Verdicts of check-mysql").
pub const CHECK_EXIT_CODES: &str = "\
Exit codes:
  0   ok: may hold the VIP (also degraded: a WARN line and a syslog warning)
  1   down: no answer (or a standby at its connection limit), query failed, or the
      deadline (--timeout) passed
  2   a standby's replication is broken
  3   a standby lags more than --max-lag, is stalled, or its lag is unknown
  4   a standby's GTID history diverged from the peer's
  5   the writer is read-only, or its promotion failed
  64  usage error
  78  configuration error: option file unreadable, unsafe or with a bad value; role file
      unusable; the server refuses the check's account (the message names the fix)";

/// notify-master's exit codes (`src/app/notify_master.rs`, docs/contract.md "notify-master").
pub const NOTIFY_MASTER_EXIT_CODES: &str = "\
Exit codes:
  0   writer (role recorded, read_only=OFF); or superseded by a newer transition; or dry run
  1   not promoted: the server cannot be reached or hangs, a query failed, read_only did not
      change, the state dir's lock stayed busy, or the whole run passed its limit
  3   catch-up not finished within --catchup-timeout, with --on-catchup-timeout fail: the
      node stays read-only and promotion-failed is recorded
  64  usage error (also a keepalived state other than MASTER)
  78  configuration error: option file unreadable, unsafe or with a bad value; state dir,
      lock or role file unusable; the server refuses the account or it lacks a privilege
      (the message names the fix)";

/// notify-backup's exit codes (`src/app/notify_backup.rs`, docs/contract.md "notify-backup").
pub const NOTIFY_BACKUP_EXIT_CODES: &str = "\
Exit codes:
  0   fenced (role standby recorded, read_only=ON); or superseded by a newer transition; or
      dry run
  1   not fenced now: the server cannot be reached or hangs, a query failed, read_only did
      not change, or the state dir's lock stayed busy; a background retry starts (none
      with --no-retry or --dry-run)
  64  usage error (also a state other than BACKUP, FAULT, STOP, DELETED)
  78  configuration error: option file unreadable, unsafe or with a bad value; state dir,
      lock or role file unusable; the server refuses the account or it lacks a privilege
      (no background retry)";

/// notify-down's exit codes (`src/down.rs`, docs/contract.md "notify-down").
pub const NOTIFY_DOWN_EXIT_CODES: &str = "\
Exit codes:
  0   keepalived stopped, or was not running (no pid file, or a stale one); or dry run
  1   keepalived not stopped: not permitted (not root), systemctl or the signal failed, or
      still running after --timeout
  64  usage error
  78  configuration error: the pid file cannot be read, holds no PID, or names a process
      that is not keepalived (it is never signalled)";

/// How to reach the server (check-mysql, notify-master, notify-backup). Passwords come only
/// from the option file or MYSQL_PWD: a password on the command line would show in `ps`.
/// Every value here may also come from the option file (`[client]` or the binary's group);
/// the command line wins.
#[derive(Debug, Clone, Args, Default)]
pub struct ConnectionArgs {
    /// MySQL option file (`[client]`, then the binary's own group).
    #[arg(long, value_name = "PATH", help = format!(
        "MySQL option file; groups [client] and the binary's own group are read. The default \
         file counts as absent only when it does not exist: one that cannot be read \
         (permission denied on it or a directory above it, a symlink loop) is exit 78 \
         [default: {DEFAULT_DEFAULTS_FILE}, if it exists]"
    ))]
    pub defaults_file: Option<PathBuf>,
    /// Server host; `localhost` or none means the unix socket.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// Server TCP port.
    #[arg(long, value_name = "PORT", help = format!("Server TCP port [default: {DEFAULT_PORT}]"))]
    pub port: Option<u16>,
    /// Unix socket, used when there is no host or it is `localhost`.
    #[arg(long, value_name = "PATH", help = format!(
        "Unix socket, used when the host is none or localhost [default: {DEFAULT_SOCKET}]"
    ))]
    pub socket: Option<PathBuf>,
    /// User name
    #[arg(long, value_name = "NAME")]
    pub user: Option<String>,
    /// TLS mode for TCP connections.
    #[arg(long, value_enum, value_name = "MODE", help = format!(
        "TLS mode for TCP connections [default: {}]",
        default_name::<SslMode>()
    ))]
    pub ssl_mode: Option<SslMode>,
    /// CA certificate (PEM) that signs the server's certificate
    #[arg(long, value_name = "PATH")]
    pub ssl_ca: Option<PathBuf>,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, ValueEnum)]
pub enum Format {
    /// One line
    #[default]
    Text,
    /// One JSON object with stable fields
    Json,
}

/// The deadline and the state dir of the binaries that talk to the server and share the
/// state dir: check-mysql, notify-master, notify-backup. Both may also come from the option
/// file (`timeout`, `state-dir`); the command line wins. What the deadline bounds and what the
/// state dir holds differ between them: each binary's command replaces the help of both
/// (`mut_arg`) with its own ([`check_timeout_help`] and the like).
#[derive(Debug, Clone, Args, Default)]
pub struct ServerArgs {
    /// Deadline (each binary's help says what it bounds).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// State dir (each binary's help says what it keeps there).
    #[arg(long, value_name = "DIR")]
    pub state_dir: Option<PathBuf>,
}

/// How every `--timeout` help starts: the syntax.
const DURATION_SYNTAX: &str = "800ms, 2s; a bare number is seconds";

/// check-mysql's `--timeout`: one deadline for the whole observation (docs/contract.md "Time").
fn check_timeout_help() -> String {
    format!(
        "Deadline ({DURATION_SYNTAX}) for the whole run: DNS, connect, TLS, the queries and \
         the --peer probe; a server that has not answered by then is down (exit 1). Keep it \
         below keepalived's vrrp_script timeout [default: {}]",
        show_duration(DEFAULT_TIMEOUT)
    )
}

/// check-mysql's `--state-dir`: it reads the role file and keeps its own two files
/// (docs/contract.md "State dir"); it never takes the lock.
fn check_state_dir_help() -> String {
    format!(
        "State dir: the role file that the notify helpers record (read with --role auto); \
         check-mysql.last, the last verdict logged (syslog hears of each change once); and \
         with --peer check-mysql.received, the received position and since when (to see a \
         stalled replication connection) [default: {DEFAULT_STATE_DIR}]"
    )
}

/// notify-master's `--timeout`: each step, not the catch-up wait (docs/contract.md "Time").
fn notify_master_timeout_help() -> String {
    format!(
        "Deadline ({DURATION_SYNTAX}) for each step: taking the state dir's lock, connecting \
         (each query may take 1s more). The catch-up wait has --catchup-timeout instead; the \
         whole run ends within 4 times this plus --catchup-timeout [default: {}]",
        show_duration(DEFAULT_TIMEOUT)
    )
}

/// notify-master's `--state-dir`.
fn notify_master_state_dir_help() -> String {
    format!(
        "State dir: the role file (promoting, then writer or promotion-failed; check-mysql \
         reads it) and the lock that the notify helpers take in turn \
         [default: {DEFAULT_STATE_DIR}]"
    )
}

/// notify-backup's `--timeout`: each attempt to fence (docs/contract.md "Time").
fn notify_backup_timeout_help() -> String {
    format!(
        "Deadline ({DURATION_SYNTAX}) for each attempt to fence, the background retry's too: \
         the state dir's lock, connecting, SET read_only and the read-back. Keep it below 1s: \
         keepalived kills notify_stop scripts after one second [default: {}]",
        show_duration(DEFAULT_TIMEOUT)
    )
}

/// notify-backup's `--state-dir`.
fn notify_backup_state_dir_help() -> String {
    format!(
        "State dir: the role file (standby; check-mysql reads it) and the lock that the \
         notify helpers take in turn [default: {DEFAULT_STATE_DIR}]"
    )
}

/// Where a run reports, for every binary: stdout's format, and syslog.
#[derive(Debug, Clone, Args, Default)]
pub struct ReportArgs {
    /// Output format on stdout: one line, or one JSON object (fields in the README)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
    /// Do not log to syslog
    #[arg(long)]
    pub no_syslog: bool,
    /// Syslog socket (for tests)
    #[arg(long, value_name = "PATH", hide = true)]
    pub syslog_socket: Option<PathBuf>,
}

/// Decide whether this node may hold (or take) the keepalived VIP. Exit 0 = yes.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "check-mysql",
    version,
    after_help = CHECK_EXIT_CODES,
    mut_arg("timeout", |a| a.help(check_timeout_help())),
    mut_arg("state_dir", |a| a.help(check_state_dir_help())),
    disable_help_subcommand = true
)]
pub struct CheckArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Rules to apply: writer, standby, or auto.
    #[arg(long, value_enum, help = format!(
        "Rules to apply: writer (holds the VIP), standby, or auto (role file written by the \
         notify helpers, else --vip on a local interface, else standby) [default: {}]",
        default_name::<RoleArg>()
    ))]
    pub role: Option<RoleArg>,
    /// The VIP: with --role auto, this node is the writer when the VIP is on a local interface
    #[arg(long, value_name = "ADDR")]
    pub vip: Option<IpAddr>,
    /// The other master, `HOST[:PORT]`, reached with the same user and TLS settings: probed
    /// within the same deadline to tell a dead peer (no answer) from broken replication (it
    /// answers, even with an error), to compare GTID histories, and to see a stalled
    /// replication connection
    #[arg(long, value_name = "HOST[:PORT]")]
    pub peer: Option<String>,
    /// Largest acceptable Seconds_Behind_Master on a standby; with --peer, also the longest
    /// time a standby may receive nothing while the peer is ahead.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help = format!(
        "Largest acceptable Seconds_Behind_Master on a standby; with --peer, also the longest \
         time a standby may receive nothing while the peer is ahead [default: {}]",
        show_duration(DEFAULT_MAX_LAG)
    ))]
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
    pub server: ServerArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// After the line, the full evidence (and what --explain adds)
    #[arg(short, long)]
    pub verbose: bool,
    /// keepalived's notify arguments, when called as a notify script: TYPE NAME STATE
    /// PRIORITY (only reported, in -v and JSON)
    #[arg(value_name = "KEEPALIVED_ARGS", num_args = 0..=4)]
    pub keepalived_args: Vec<String>,
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
    after_help = NOTIFY_MASTER_EXIT_CODES,
    mut_arg("timeout", |a| a.help(notify_master_timeout_help())),
    mut_arg("state_dir", |a| a.help(notify_master_state_dir_help())),
    disable_help_subcommand = true
)]
pub struct NotifyMasterArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Longest wait for the SQL thread to apply what the IO thread received.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help = format!(
        "Longest wait for the SQL thread to apply what the IO thread received [default: {}]",
        show_duration(DEFAULT_CATCHUP_TIMEOUT)
    ))]
    pub catchup_timeout: Option<Duration>,
    /// What to do when the catch-up wait runs out.
    #[arg(long, value_enum, value_name = "ACTION", help = format!(
        "What to do when the catch-up wait runs out [default: {}]",
        default_name::<OnCatchupTimeout>()
    ))]
    pub on_catchup_timeout: Option<OnCatchupTimeout>,
    /// Record the writer role but leave read_only as it is
    #[arg(long)]
    pub keep_read_only: bool,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub server: ServerArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print each step of the promotion before the line (text format)
    #[arg(short, long)]
    pub verbose: bool,
    /// keepalived's notify arguments; STATE must be one of [`MASTER_STATES`].
    #[arg(
        value_name = "KEEPALIVED_ARGS",
        num_args = 0..=4,
        help = keepalived_args_help(MASTER_STATES)
    )]
    pub keepalived_args: Vec<String>,
}

/// keepalived `notify_backup` / `notify_fault` / `notify_stop` / `notify_deleted`: fence this
/// node (read_only=ON), recording the role for check-mysql.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "notify-backup",
    version,
    after_help = NOTIFY_BACKUP_EXIT_CODES,
    mut_arg("timeout", |a| a.help(notify_backup_timeout_help())),
    mut_arg("state_dir", |a| a.help(notify_backup_state_dir_help())),
    disable_help_subcommand = true
)]
pub struct NotifyBackupArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// How long the background retry keeps trying to fence a server it cannot reach now.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help = format!(
        "When the server cannot be fenced now (down or hung), keep trying in the background \
         for this long, until fenced or until a newer transition is recorded [default: {}]",
        show_duration(DEFAULT_RETRY_FOR)
    ))]
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
    pub server: ServerArgs,
    #[command(flatten)]
    pub report: ReportArgs,
    /// Print each step of the fencing before the line (text format)
    #[arg(short, long)]
    pub verbose: bool,
    /// keepalived's notify arguments; STATE must be one of [`BACKUP_STATES`].
    #[arg(
        value_name = "KEEPALIVED_ARGS",
        num_args = 0..=4,
        help = keepalived_args_help(BACKUP_STATES)
    )]
    pub keepalived_args: Vec<String>,
}

/// Stop keepalived so that the peer takes the VIP: via systemd when systemd runs it, else
/// SIGTERM to the PID in keepalived's pid file after checking that it is keepalived.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "notify-down",
    version,
    after_help = NOTIFY_DOWN_EXIT_CODES,
    disable_help_subcommand = true
)]
pub struct NotifyDownArgs {
    /// keepalived's pid file
    #[arg(long, value_name = "PATH", default_value = DEFAULT_PIDFILE)]
    pub pidfile: PathBuf,
    /// How long to wait for keepalived to exit (no option file: the default is a constant).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration, help = format!(
        "How long to wait for keepalived to exit (800ms, 2s; a bare number is seconds) \
         [default: {}]",
        show_duration(DEFAULT_DOWN_TIMEOUT)
    ))]
    pub timeout: Option<Duration>,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub report: ReportArgs,
    /// keepalived's notify arguments; STATE must be one of [`DOWN_STATES`].
    #[arg(
        value_name = "KEEPALIVED_ARGS",
        num_args = 0..=4,
        help = keepalived_args_help(DOWN_STATES)
    )]
    pub keepalived_args: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_shown_as_the_docs_write_them_and_parse_back() {
        for (d, shown) in [
            (Duration::from_millis(800), "800ms"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_secs(5), "5s"),
            (Duration::from_secs(120), "120s"),
            (Duration::from_secs(540), "540s"),
            (Duration::from_secs(600), "10m"),
            (Duration::from_secs(630), "630s"),
        ] {
            assert_eq!(show_duration(d), shown);
            assert_eq!(parse_duration(shown), Ok(d), "{shown}");
        }
    }

    #[test]
    fn the_documented_defaults() {
        // README and the option file example state these values.
        assert_eq!(show_duration(DEFAULT_TIMEOUT), "800ms");
        assert_eq!(show_duration(DEFAULT_DOWN_TIMEOUT), "5s");
        assert_eq!(show_duration(DEFAULT_MAX_LAG), "120s");
        assert_eq!(show_duration(DEFAULT_CATCHUP_TIMEOUT), "30s");
        assert_eq!(show_duration(DEFAULT_RETRY_FOR), "10m");
        assert_eq!(default_name::<RoleArg>(), "auto");
        assert_eq!(default_name::<OnCatchupTimeout>(), "fail");
        assert_eq!(default_name::<SslMode>(), "disabled");
    }
}
