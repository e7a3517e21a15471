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

/// [`parse_duration`], refusing more than `max` (`key`: the option, for the message).
fn parse_duration_at_most(text: &str, key: &str, max: Duration) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d > max {
        return Err(format!(
            "{key} '{}' is more than its maximum {}",
            text.trim(),
            show_duration(max)
        ));
    }
    Ok(d)
}

/// `--lease-ttl` / `lease-ttl`: a duration of at most [`MAX_LEASE_TTL`].
pub fn parse_lease_ttl(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, "lease-ttl", MAX_LEASE_TTL)
}

/// `--check-interval` / `check-interval`: a duration of at most [`MAX_CHECK_INTERVAL`].
pub fn parse_check_interval(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, "check-interval", MAX_CHECK_INTERVAL)
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

// Defaults, keepalived states, exit codes and help texts: in their own file, included here
// (not a module) so that this file still stands alone for build.rs.
include!("cli_text.rs");

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

/// Witness mode (docs/contract.md "Split brain", "Witness mode"; issue 11 §2), shared by
/// check-mysql, notify-master and notify-backup. Each may also come from the option file
/// (`witness`, `lease-ttl`, `check-interval` in the binary's group); the command line wins.
#[derive(Debug, Clone, Args, Default)]
pub struct WitnessArgs {
    /// The witness, `HOST[:PORT]`: the third voter of the lease (needs --peer)
    #[arg(long, value_name = "HOST[:PORT]", help = WITNESS_HELP)]
    pub witness: Option<String>,
    /// How long a voter's lease row stays granted, on the voter's clock
    #[arg(long, value_name = "DURATION", value_parser = parse_lease_ttl, help = lease_ttl_help())]
    pub lease_ttl: Option<Duration>,
    /// keepalived's vrrp_script interval of check-mysql (which the helpers cannot see)
    #[arg(long, value_name = "DURATION", value_parser = parse_check_interval, help = check_interval_help())]
    pub check_interval: Option<Duration>,
}

/// check-mysql's watch mode (docs/contract.md "Watch mode"): one long-running process that
/// polls over a persistent connection and tells keepalived through a `track_file`. Every
/// value but `--watch` may also come from the option file (`interval`, `poll-timeout`,
/// `fall`, `rise`, `track-file` in `[check-mysql]`); the command line wins.
#[derive(Debug, Clone, Args, Default)]
pub struct WatchArgs {
    /// Run until stopped, polling every --interval, and write keepalived's track_file
    #[arg(
        long,
        help = WATCH_HELP,
        conflicts_with_all = ["is_writer", "explain", "verbose", "keepalived_args"]
    )]
    pub watch: bool,
    /// Time between the starts of two polls
    #[arg(long, value_name = "DURATION", requires = "watch",
          value_parser = parse_watch_interval, help = watch_interval_help())]
    pub interval: Option<Duration>,
    /// Deadline of one poll
    #[arg(long, value_name = "DURATION", requires = "watch",
          value_parser = parse_poll_timeout, help = poll_timeout_help())]
    pub poll_timeout: Option<Duration>,
    /// Failed polls in a row before the track file says "must not hold the VIP"
    #[arg(long, value_name = "N", requires = "watch",
          value_parser = clap::value_parser!(u32).range(1..=MAX_STREAK as i64), help = fall_help())]
    pub fall: Option<u32>,
    /// Passed polls in a row before the track file says "may hold the VIP" again
    #[arg(long, value_name = "N", requires = "watch",
          value_parser = clap::value_parser!(u32).range(1..=MAX_STREAK as i64), help = rise_help())]
    pub rise: Option<u32>,
    /// keepalived's track_file that the watcher writes
    #[arg(long, value_name = "PATH", requires = "watch", help = track_file_help())]
    pub track_file: Option<PathBuf>,
}

/// `--interval` / `interval`: at least [`MIN_WATCH_INTERVAL`], at most [`MAX_WATCH_INTERVAL`].
pub fn parse_watch_interval(text: &str) -> Result<Duration, String> {
    parse_duration_between(text, "interval", MIN_WATCH_INTERVAL, MAX_WATCH_INTERVAL)
}

/// `--poll-timeout` / `poll-timeout`: at least [`MIN_WATCH_INTERVAL`], at most
/// [`MAX_WATCH_INTERVAL`].
pub fn parse_poll_timeout(text: &str) -> Result<Duration, String> {
    parse_duration_between(text, "poll-timeout", MIN_WATCH_INTERVAL, MAX_WATCH_INTERVAL)
}

/// [`parse_duration_at_most`], also refusing less than `min`.
fn parse_duration_between(
    text: &str,
    key: &str,
    min: Duration,
    max: Duration,
) -> Result<Duration, String> {
    let d = parse_duration_at_most(text, key, max)?;
    if d < min {
        return Err(format!(
            "{key} '{}' is less than its minimum {}",
            text.trim(),
            show_duration(min)
        ));
    }
    Ok(d)
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
    /// Only tell whether this node is the writer (role writer and read_only=OFF): exit 0 if
    /// it is, 1 if not. For a second keepalived vrrp_script with a positive weight, so that
    /// after a heal the election keeps the node that was writing. One local query; no peer,
    /// no state-dir writes, no syslog; --format is refused with it (the answer is the exit
    /// code and one text line)
    #[arg(
        long,
        conflicts_with_all = ["peer", "witness", "explain", "verbose", "format"]
    )]
    pub is_writer: bool,
    #[command(flatten)]
    pub witness: WitnessArgs,
    #[command(flatten)]
    pub watch: WatchArgs,
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
            eprintln!(
                "{binary}: usage error: {} (see {binary} --help)",
                usage_line(&text)
            );
            std::process::exit(USAGE_EXIT_CODE);
        }
    }
}

/// clap's error text as one line: its first line, and when that ends with `:` (a conflict
/// with several arguments lists them on the lines below), the indented lines that follow.
fn usage_line(text: &str) -> String {
    let mut lines = text.lines().filter(|l| !l.trim().is_empty());
    let first = lines
        .next()
        .unwrap_or("invalid arguments")
        .trim_start_matches("error: ")
        .trim_end()
        .to_string();
    if !first.ends_with(':') {
        return first;
    }
    let listed: Vec<&str> = lines
        .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
        .map(str::trim)
        .collect();
    if listed.is_empty() {
        first.trim_end_matches(':').to_string()
    } else {
        format!("{first} {}", listed.join(", "))
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
    /// The other master, `HOST[:PORT]`: the split-brain guard
    #[arg(long, value_name = "HOST[:PORT]", help = NOTIFY_MASTER_PEER_HELP)]
    pub peer: Option<String>,
    /// Say what would be done; change nothing
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub witness: WitnessArgs,
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
    /// Do not end the client sessions that could still commit.
    #[arg(
        long,
        help = "Do not end the client sessions that could still commit (a write running or \
                waiting on a lock, an open write transaction); by default, when SET GLOBAL \
                read_only=ON waits for them and again once it is set, they are ended with KILL \
                CONNECTION (replication threads, the event scheduler, idle sessions and the \
                helpers' own account never are)"
    )]
    pub keep_sessions: bool,
    /// The other master, `HOST[:PORT]`: the split-brain guard is on
    #[arg(long, value_name = "HOST[:PORT]", help = NOTIFY_BACKUP_PEER_HELP)]
    pub peer: Option<String>,
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
    pub witness: WitnessArgs,
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
    fn usage_errors_are_one_line_and_name_every_conflict() {
        for (clap, line) in [
            (
                "error: the argument '--is-writer' cannot be used with:\n  --verbose\n  --explain\n\nUsage: x\n",
                "the argument '--is-writer' cannot be used with: --verbose, --explain",
            ),
            (
                "error: unexpected argument '--x' found\n\nUsage: x\n",
                "unexpected argument '--x' found",
            ),
            ("error: odd:\nUsage: x\n", "odd"),
            ("", "invalid arguments"),
        ] {
            assert_eq!(usage_line(clap), line, "{clap:?}");
        }
    }

    #[test]
    fn lease_ttl_and_check_interval_have_a_maximum() {
        assert_eq!(parse_lease_ttl("10m"), Ok(MAX_LEASE_TTL));
        assert!(parse_lease_ttl("601s").is_err_and(|e| e.contains("maximum 10m")));
        assert!(parse_lease_ttl("1000d").is_err());
        assert_eq!(parse_check_interval("2"), Ok(Duration::from_secs(2)));
        assert!(parse_check_interval("11m").is_err_and(|e| e.contains("check-interval")));
    }

    #[test]
    fn the_documented_defaults() {
        // README and the option file example state these values.
        assert_eq!(show_duration(DEFAULT_TIMEOUT), "800ms");
        assert_eq!(show_duration(DEFAULT_DOWN_TIMEOUT), "5s");
        assert_eq!(show_duration(DEFAULT_MAX_LAG), "120s");
        assert_eq!(show_duration(DEFAULT_CATCHUP_TIMEOUT), "30s");
        assert_eq!(show_duration(DEFAULT_RETRY_FOR), "10m");
        assert_eq!(show_duration(DEFAULT_LEASE_TTL), "6s");
        assert_eq!(show_duration(DEFAULT_CHECK_INTERVAL), "2s");
        assert_eq!(default_name::<RoleArg>(), "auto");
        assert_eq!(default_name::<OnCatchupTimeout>(), "fail");
        assert_eq!(default_name::<SslMode>(), "disabled");
    }
}
