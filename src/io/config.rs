//! Settings: command line over option file over built-in defaults, and the password from
//! the option file or `MYSQL_PWD` only (docs/contract.md "Credentials and configuration").

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cli::{
    CheckArgs, ConnectionArgs, DEFAULT_DEFAULTS_FILE, DEFAULT_STATE_DIR, NotifyMasterArgs,
    OnCatchupTimeout, RoleArg, ServerArgs, SslMode, WitnessArgs,
};
use crate::deadline::parse_duration;
use crate::io::confpath::{self, PathCause};
use crate::io::mysql::ConnectionSpec;
use crate::io::optfile::{self, OptionEntry, OptionFileError};

// Defined in cli.rs, which builds the help text from them.
pub use crate::cli::{
    DEFAULT_CATCHUP_TIMEOUT, DEFAULT_CHECK_INTERVAL, DEFAULT_FALL, DEFAULT_LEASE_TTL,
    DEFAULT_MAX_LAG, DEFAULT_POLL_TIMEOUT, DEFAULT_PORT, DEFAULT_RISE, DEFAULT_SOCKET,
    DEFAULT_TIMEOUT, DEFAULT_WATCH_INTERVAL, TRACK_FILE_NAME,
};
use crate::plan::lease::{DEFAULT_MARGIN, Timing};

mod error;

pub use error::ConfigError;

/// The option file's entries for the binary's groups, with keys normalised the way MySQL
/// programs match them (`_` = `-`, `loose-` prefix dropped).
pub struct OptionValues {
    pub file: Option<PathBuf>,
    entries: Vec<OptionEntry>,
}

fn normalise(key: &str) -> String {
    let k = key.trim().to_ascii_lowercase().replace('_', "-");
    k.strip_prefix("loose-").map(str::to_string).unwrap_or(k)
}

impl OptionValues {
    /// Read `[client]` and `[binary]` from `--defaults-file`, or from the default file
    /// ([`DEFAULT_DEFAULTS_FILE`]) when it exists.
    ///
    /// Errors (exit 78, naming the path and the cause): an explicitly named file that cannot
    /// be read (a missing one too); a directory given as the file; and for the default file
    /// any failure other than "does not exist" (issue 9): permission denied on the file or
    /// on a directory above it, a symlink loop or a dangling symlink, a file where a
    /// directory is expected, an I/O error. Only ENOENT means "no default file".
    pub fn load(explicit: Option<&Path>, binary: &str) -> Result<OptionValues, ConfigError> {
        Self::load_or_default(explicit, Path::new(DEFAULT_DEFAULTS_FILE), binary)
    }

    /// [`OptionValues::load`] with `default` as the default file.
    fn load_or_default(
        explicit: Option<&Path>,
        default: &Path,
        binary: &str,
    ) -> Result<OptionValues, ConfigError> {
        let path = explicit.unwrap_or(default);
        match confpath::probe(path) {
            Ok(None) if explicit.is_none() => {
                return Ok(OptionValues {
                    file: None,
                    entries: Vec::new(),
                });
            }
            // A missing --defaults-file: optfile::read says so.
            Ok(None) => {}
            // my_print_defaults reads a directory as an empty file; a check must not
            // silently run on defaults because a path was mistyped.
            Ok(Some(meta)) if meta.is_dir() => {
                return Err(ConfigError::OptionFileIsDirectory {
                    path: path.to_path_buf(),
                });
            }
            Ok(Some(_)) => {}
            Err(cause) => {
                return Err(OptionFileError::Io {
                    path: path.to_path_buf(),
                    cause,
                }
                .into());
            }
        }
        let path = path.to_path_buf();
        let mut entries = optfile::read(&path, &["client", binary])?;
        for e in &mut entries {
            e.key = normalise(&e.key);
        }
        Ok(OptionValues {
            file: Some(path),
            entries,
        })
    }

    /// Last value of `key` in file order (MySQL: later settings override earlier ones).
    pub fn get(&self, key: &str) -> Option<&OptionEntry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(|e| e.value.clone().unwrap_or_default())
    }

    fn bad(&self, key: &str, message: impl Into<String>) -> ConfigError {
        ConfigError::BadValue {
            file: self.file.clone().unwrap_or_default(),
            key: key.to_string(),
            message: message.into(),
        }
    }

    fn parsed<T>(
        &self,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ConfigError> {
        match self.get(key) {
            None => Ok(None),
            Some(e) => parse(e.value.as_deref().unwrap_or(""))
                .map(Some)
                .map_err(|m| self.bad(key, m)),
        }
    }

    /// The command line's value if given, else the option file's `key`, else `default`.
    fn pick<T>(
        &self,
        flag: Option<T>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, String>,
        default: T,
    ) -> Result<T, ConfigError> {
        match flag {
            Some(v) => Ok(v),
            None => Ok(self.parsed(key, parse)?.unwrap_or(default)),
        }
    }

    /// `--timeout` / `timeout`, with the binary's default.
    fn timeout(&self, server: &ServerArgs, default: Duration) -> Result<Duration, ConfigError> {
        self.pick(server.timeout, "timeout", parse_duration, default)
    }

    /// `--state-dir` / `state-dir`.
    fn state_dir(&self, server: &ServerArgs) -> PathBuf {
        server
            .state_dir
            .clone()
            .or_else(|| self.text("state-dir").map(PathBuf::from))
            .unwrap_or_else(|| DEFAULT_STATE_DIR.into())
    }

    /// A boolean option: a bare key, `1/0`, `ON/OFF`, `true/false`; `skip-KEY` is false.
    fn flag(&self, key: &str) -> Result<bool, ConfigError> {
        let skip = format!("skip-{key}");
        let last = self
            .entries
            .iter()
            .rev()
            .find(|e| e.key == key || e.key == skip);
        match last {
            None => Ok(false),
            Some(e) if e.key == skip => Ok(false),
            Some(e) => match e.value.as_deref().map(|v| v.trim().to_ascii_lowercase()) {
                None => Ok(true),
                Some(v) if ["1", "on", "true", "yes", ""].contains(&v.as_str()) => Ok(true),
                Some(v) if ["0", "off", "false", "no"].contains(&v.as_str()) => Ok(false),
                Some(v) => Err(self.bad(key, format!("'{v}' is not a boolean (use 0 or 1)"))),
            },
        }
    }

    /// Refuse keys in the binary's own group that it does not know: a typo there would
    /// otherwise silently fall back to a default. `[client]` is shared with every MySQL
    /// program, so anything goes there.
    pub fn refuse_unknown(&self, binary: &str, known: &[&str]) -> Result<(), ConfigError> {
        for e in &self.entries {
            let base = e.key.strip_prefix("skip-").unwrap_or(&e.key);
            if e.group.eq_ignore_ascii_case(binary)
                && !known.contains(&base)
                && !CONNECTION_KEYS.contains(&base)
            {
                return Err(ConfigError::UnknownOption {
                    file: e.source.clone(),
                    group: e.group.clone(),
                    key: e.key.clone(),
                });
            }
        }
        Ok(())
    }
}

/// Keys every binary takes from the option file.
pub const CONNECTION_KEYS: &[&str] = &[
    "host",
    "port",
    "socket",
    "user",
    "password",
    "ssl-mode",
    "ssl-ca",
    "ssl",
    "ssl-verify-server-cert",
];

fn parse_port(v: &str) -> Result<u16, String> {
    v.trim()
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("'{v}' is not a TCP port (1-65535)"))
}

fn parse_ssl_mode(v: &str) -> Result<SslMode, String> {
    match v.trim().to_ascii_uppercase().replace('-', "_").as_str() {
        "DISABLED" => Ok(SslMode::Disabled),
        "REQUIRED" => Ok(SslMode::Required),
        "VERIFY_CA" => Ok(SslMode::VerifyCa),
        "VERIFY_IDENTITY" => Ok(SslMode::VerifyIdentity),
        "PREFERRED" => Err(
            "PREFERRED is not supported: a check must know whether it uses TLS \
                            (use DISABLED, REQUIRED, VERIFY_CA or VERIFY_IDENTITY)"
                .into(),
        ),
        other => Err(format!("unknown ssl-mode '{other}'")),
    }
}

/// The connection to the local server, from flags, option file and `MYSQL_PWD`.
pub fn connection_spec(
    args: &ConnectionArgs,
    opts: &OptionValues,
    mysql_pwd: Option<String>,
) -> Result<ConnectionSpec, ConfigError> {
    let host = args.host.clone().or_else(|| opts.text("host"));
    let port = opts.pick(args.port, "port", parse_port, DEFAULT_PORT)?;
    let socket = args
        .socket
        .clone()
        .or_else(|| opts.text("socket").map(PathBuf::from));
    let ssl_mode = match args.ssl_mode {
        Some(m) => m,
        None => match opts.parsed("ssl-mode", parse_ssl_mode)? {
            Some(m) => m,
            None if opts.flag("ssl-verify-server-cert")? => SslMode::VerifyIdentity,
            None if opts.flag("ssl")? => SslMode::Required,
            // The default that --help states (cli.rs).
            None => SslMode::default(),
        },
    };
    let ssl_ca = args
        .ssl_ca
        .clone()
        .or_else(|| opts.text("ssl-ca").map(PathBuf::from));
    if matches!(ssl_mode, SslMode::VerifyCa | SslMode::VerifyIdentity) && ssl_ca.is_none() {
        return Err(ConfigError::VerifyNeedsCa);
    }
    // A CA file is configuration: one that cannot be read is exit 78 naming it, not a
    // connection that fails later as if the server were down.
    if let Some(ca) = &ssl_ca
        && ssl_mode != SslMode::Disabled
    {
        let readable = std::fs::File::open(ca).and_then(|f| {
            if f.metadata()?.is_file() {
                Ok(())
            } else {
                Err(std::io::Error::from_raw_os_error(libc::EISDIR))
            }
        });
        if let Err(e) = readable {
            return Err(ConfigError::SslCaUnreadable {
                path: ca.clone(),
                cause: PathCause::new(ca, e),
            });
        }
    }
    // MySQL convention: "localhost" (or no host) means the unix socket.
    let (host, socket) = match host {
        Some(h) if h != "localhost" && !h.is_empty() => (Some(h), None),
        _ => (None, Some(socket.unwrap_or_else(|| DEFAULT_SOCKET.into()))),
    };
    let password = opts
        .get("password")
        .map(|e| e.value.clone().unwrap_or_default())
        .or(mysql_pwd)
        .filter(|p| !p.is_empty());
    Ok(ConnectionSpec {
        host,
        port,
        socket,
        user: args.user.clone().or_else(|| opts.text("user")),
        password,
        ssl_mode,
        ssl_ca,
    })
}

/// Split `HOST[:PORT]` / `[V6]:PORT`. Blanks and control characters are refused anywhere
/// inside (`'a b'` is no host name; leading and trailing blanks are trimmed).
pub fn parse_host_port(text: &str) -> Result<(String, Option<u16>), String> {
    let t = text.trim();
    if t.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "'{}' is not HOST[:PORT]: a host name has no blanks or control characters",
            text.escape_debug()
        ));
    }
    let bad = || format!("'{text}' is not HOST[:PORT]");
    if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest.split_once(']').ok_or_else(bad)?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(bad()),
        };
        return Ok((h.to_string(), port));
    }
    match t.matches(':').count() {
        0 if !t.is_empty() => Ok((t.to_string(), None)),
        1 => {
            let (h, p) = t.split_once(':').ok_or_else(bad)?;
            if h.is_empty() {
                return Err(bad());
            }
            Ok((h.to_string(), Some(parse_port(p)?)))
        }
        _ if t.parse::<IpAddr>().is_ok() => Ok((t.to_string(), None)),
        _ => Err(bad()),
    }
}

/// The peer (`--peer` over the option file's `peer`), `HOST[:PORT]`: reached over TCP with
/// the same account and TLS settings as the local server (check-mysql, notify-master,
/// notify-backup). A bad value is exit 78 naming where it came from.
fn peer_spec(
    flag: Option<&str>,
    opts: &OptionValues,
    connection: &ConnectionSpec,
) -> Result<Option<ConnectionSpec>, ConfigError> {
    remote_spec("peer", flag, opts, connection)
}

/// A remote server named by `--KEY` over the option file's `KEY` (`peer`, `witness`),
/// `HOST[:PORT]`, reached over TCP with the local server's account and TLS settings.
fn remote_spec(
    key: &'static str,
    flag: Option<&str>,
    opts: &OptionValues,
    connection: &ConnectionSpec,
) -> Result<Option<ConnectionSpec>, ConfigError> {
    let Some(t) = flag.map(str::to_string).or_else(|| opts.text(key)) else {
        return Ok(None);
    };
    let (host, port) = parse_host_port(&t).map_err(|m| match flag {
        Some(_) => ConfigError::BadRemote {
            option: key,
            value: t.clone(),
            message: m,
        },
        None => opts.bad(key, m),
    })?;
    Ok(Some(ConnectionSpec {
        host: Some(host),
        port: port.unwrap_or(DEFAULT_PORT),
        socket: None,
        ..connection.clone()
    }))
}

/// Witness mode's settings (docs/contract.md "Witness mode"): the third voter and the lease
/// timing, validated ([`Timing::validate`]) when the settings are read.
#[derive(Debug, Clone)]
pub struct WitnessSettings {
    /// The witness: TCP, the binary's own account and TLS settings.
    pub witness: ConnectionSpec,
    /// TTL, check interval, check and fencing deadlines, margin: the invariant holds.
    pub timing: Timing,
}

impl WitnessSettings {
    /// The lease of claimant `me` (this server's `@@server_id`) on the three voters: this
    /// server (`local`, the binary's connection), the peer and the witness.
    pub fn lease(
        &self,
        me: u32,
        local: &ConnectionSpec,
        peer: &ConnectionSpec,
    ) -> crate::io::lease::Lease {
        crate::io::lease::Lease {
            me,
            ttl: self.timing.ttl,
            margin: self.timing.margin,
            voters: vec![local.clone(), peer.clone(), self.witness.clone()],
        }
    }
}

/// `timeout` of another binary's group (`[client]` and `[group]` of the same option file),
/// or [`DEFAULT_TIMEOUT`]: the check's and notify-backup's deadlines that the lease timing
/// depends on, seen from the binaries that do not have them.
fn group_timeout(file: Option<&Path>, group: &str) -> Result<Duration, ConfigError> {
    let Some(file) = file else {
        return Ok(DEFAULT_TIMEOUT);
    };
    let other = OptionValues::load(Some(file), group)?;
    Ok(other
        .parsed("timeout", parse_duration)?
        .unwrap_or(DEFAULT_TIMEOUT))
}

/// Witness mode's settings of `binary`, or `None` without a witness (`--witness`, or the
/// `witness` key). Errors (exit 78): a witness without a peer; a bad address; a timing that
/// breaks [`Timing::validate`] (renew interval = `--check-interval`, check deadline =
/// check-mysql's timeout, fencing deadline = notify-backup's timeout, each binary's own from
/// its command line, the others' from their groups of the same option file; margin
/// [`DEFAULT_MARGIN`]).
fn witness_settings(
    binary: &str,
    args: &WitnessArgs,
    opts: &OptionValues,
    connection: &ConnectionSpec,
    peer: Option<&ConnectionSpec>,
    own_timeout: Duration,
) -> Result<Option<WitnessSettings>, ConfigError> {
    let Some(witness) = remote_spec("witness", args.witness.as_deref(), opts, connection)? else {
        return Ok(None);
    };
    if peer.is_none() {
        return Err(ConfigError::WitnessNeedsPeer {
            witness: witness.target(),
        });
    }
    let ttl = opts.pick(
        args.lease_ttl,
        "lease-ttl",
        crate::cli::parse_lease_ttl,
        DEFAULT_LEASE_TTL,
    )?;
    let interval = opts.pick(
        args.check_interval,
        "check-interval",
        crate::cli::parse_check_interval,
        DEFAULT_CHECK_INTERVAL,
    )?;
    let check_deadline = match binary {
        "check-mysql" => own_timeout,
        _ => group_timeout(opts.file.as_deref(), "check-mysql")?,
    };
    let fencing_deadline = match binary {
        "notify-backup" => own_timeout,
        _ => group_timeout(opts.file.as_deref(), "notify-backup")?,
    };
    let timing = Timing {
        ttl,
        // keepalived's interval is whole seconds; a fraction counts as the next second (the
        // longer interval is the safe side of the invariant).
        renew_interval_secs: u32::try_from(interval.as_millis().div_ceil(1000)).unwrap_or(u32::MAX),
        check_deadline,
        fencing_deadline,
        margin: DEFAULT_MARGIN,
    };
    timing
        .validate()
        .map_err(|cause| ConfigError::LeaseTiming { cause })?;
    Ok(Some(WitnessSettings { witness, timing }))
}

/// Everything `check-mysql` needs, resolved.
#[derive(Debug, Clone)]
pub struct CheckSettings {
    pub connection: ConnectionSpec,
    pub peer: Option<ConnectionSpec>,
    /// Witness mode (`--witness`): the lease on three voters.
    pub witness: Option<WitnessSettings>,
    pub role: RoleArg,
    pub vip: Option<IpAddr>,
    pub max_lag: Duration,
    pub timeout: Duration,
    pub state_dir: PathBuf,
    pub allow_no_replica: bool,
    pub allow_read_only: bool,
    /// `--watch`: the watcher's own settings; `None` for a one-shot run.
    pub watch: Option<WatchSettings>,
}

/// `check-mysql --watch` (docs/contract.md "Watch mode").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchSettings {
    /// Between the starts of two polls.
    pub interval: Duration,
    /// Deadline of one poll (local and peer).
    pub poll_timeout: Duration,
    /// Failed polls in a row before the track file flips to "must not hold the VIP".
    pub fall: u32,
    /// Passed polls in a row before it flips back.
    pub rise: u32,
    /// keepalived's track_file.
    pub track_file: PathBuf,
}

const CHECK_KEYS: &[&str] = &[
    "interval",
    "poll-timeout",
    "fall",
    "rise",
    "track-file",
    "role",
    "vip",
    "peer",
    "max-lag",
    "timeout",
    "state-dir",
    "allow-no-replica",
    "allow-read-only",
    "witness",
    "lease-ttl",
    "check-interval",
];

/// One of a clap value enum's names, as on the command line.
fn parse_choice<T: clap::ValueEnum>(v: &str) -> Result<T, String> {
    T::from_str(v.trim(), true).map_err(|_| {
        let names: Vec<String> = T::value_variants()
            .iter()
            .filter_map(|x| x.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("'{v}' is not one of {}", names.join(", "))
    })
}

/// Resolve `check-mysql`'s settings.
pub fn check_settings(
    args: &CheckArgs,
    mysql_pwd: Option<String>,
) -> Result<CheckSettings, ConfigError> {
    check_settings_with(args, mysql_pwd, true)
}

/// `check-mysql --is-writer`'s settings: [`check_settings`] without the split-brain guard's
/// (no peer, no witness, no lease timing): it reads only the role and `read_only`, so a
/// guard setting it does not use must not fail it.
pub fn is_writer_settings(
    args: &CheckArgs,
    mysql_pwd: Option<String>,
) -> Result<CheckSettings, ConfigError> {
    check_settings_with(args, mysql_pwd, false)
}

/// [`check_settings`]; `guard`: resolve (and validate) the peer and witness mode too.
fn check_settings_with(
    args: &CheckArgs,
    mysql_pwd: Option<String>,
    guard: bool,
) -> Result<CheckSettings, ConfigError> {
    let binary = "check-mysql";
    let opts = OptionValues::load(args.connection.defaults_file.as_deref(), binary)?;
    opts.refuse_unknown(binary, CHECK_KEYS)?;
    let connection = connection_spec(&args.connection, &opts, mysql_pwd)?;
    let peer = match guard {
        true => peer_spec(args.peer.as_deref(), &opts, &connection)?,
        false => None,
    };
    let vip = match args.vip {
        Some(v) => Some(v),
        None => opts.parsed("vip", |v| {
            v.trim()
                .parse::<IpAddr>()
                .map_err(|_| format!("'{v}' is not an IP address"))
        })?,
    };
    let timeout = opts.timeout(&args.server, DEFAULT_TIMEOUT)?;
    let witness = match guard {
        true => witness_settings(
            binary,
            &args.witness,
            &opts,
            &connection,
            peer.as_ref(),
            timeout,
        )?,
        false => None,
    };
    Ok(CheckSettings {
        connection,
        peer,
        witness,
        role: opts.pick(args.role, "role", parse_choice, RoleArg::default())?,
        vip,
        max_lag: opts.pick(args.max_lag, "max-lag", parse_duration, DEFAULT_MAX_LAG)?,
        timeout,
        state_dir: opts.state_dir(&args.server),
        allow_no_replica: args.allow_no_replica || opts.flag("allow-no-replica")?,
        allow_read_only: args.allow_read_only || opts.flag("allow-read-only")?,
        watch: match args.watch.watch {
            true => Some(watch_settings(
                &args.watch,
                &opts,
                &opts.state_dir(&args.server),
            )?),
            false => None,
        },
    })
}

/// `--watch`'s settings: each flag, else its key in `[check-mysql]`, else the default.
fn watch_settings(
    args: &crate::cli::WatchArgs,
    opts: &OptionValues,
    state_dir: &std::path::Path,
) -> Result<WatchSettings, ConfigError> {
    use crate::cli::{MAX_STREAK, parse_poll_timeout, parse_watch_interval};
    let streak = |v: &str| match v.trim().parse::<u32>() {
        Ok(n) if (1..=MAX_STREAK).contains(&n) => Ok(n),
        _ => Err(format!(
            "'{}' is not a whole number from 1 to {MAX_STREAK}",
            v.trim()
        )),
    };
    Ok(WatchSettings {
        interval: opts.pick(
            args.interval,
            "interval",
            parse_watch_interval,
            DEFAULT_WATCH_INTERVAL,
        )?,
        poll_timeout: opts.pick(
            args.poll_timeout,
            "poll-timeout",
            parse_poll_timeout,
            DEFAULT_POLL_TIMEOUT,
        )?,
        fall: opts.pick(args.fall, "fall", streak, DEFAULT_FALL)?,
        rise: opts.pick(args.rise, "rise", streak, DEFAULT_RISE)?,
        track_file: args
            .track_file
            .clone()
            .or_else(|| opts.text("track-file").map(PathBuf::from))
            .unwrap_or_else(|| state_dir.join(TRACK_FILE_NAME)),
    })
}

/// Everything notify-master and notify-backup need, resolved.
#[derive(Debug, Clone)]
pub struct NotifySettings {
    pub connection: ConnectionSpec,
    /// The other master (`--peer`, `peer`): with it, notify-master's split-brain guard is on
    /// (docs/contract.md "Split brain"), and notify-backup treats a missing guard table as a
    /// configuration error rather than a warning.
    pub peer: Option<ConnectionSpec>,
    /// Witness mode (`--witness`): notify-master claims the lease before unfencing,
    /// notify-backup releases it after fencing.
    pub witness: Option<WitnessSettings>,
    pub timeout: Duration,
    pub state_dir: PathBuf,
    pub catchup_timeout: Duration,
    pub on_catchup_timeout: OnCatchupTimeout,
    pub keep_read_only: bool,
    /// notify-backup `--keep-sessions`: after `read_only=ON`, end no client session.
    pub keep_sessions: bool,
}

const NOTIFY_BACKUP_KEYS: &[&str] = &[
    "timeout",
    "state-dir",
    "peer",
    "keep-sessions",
    "witness",
    "lease-ttl",
    "check-interval",
];
const NOTIFY_MASTER_KEYS: &[&str] = &[
    "timeout",
    "state-dir",
    "peer",
    "witness",
    "lease-ttl",
    "check-interval",
    "catchup-timeout",
    "on-catchup-timeout",
    "keep-read-only",
];

/// Resolve a notify helper's settings (`peer` is `--peer`; `witness` the witness-mode flags;
/// `master` is given for notify-master; `keep_sessions`, notify-backup's `--keep-sessions`,
/// for notify-backup). Any error is the run's (exit 78).
#[allow(clippy::too_many_arguments)]
pub fn notify_settings(
    binary: &str,
    connection: &ConnectionArgs,
    server: &ServerArgs,
    peer: Option<&str>,
    witness: &WitnessArgs,
    master: Option<&NotifyMasterArgs>,
    keep_sessions: Option<bool>,
    mysql_pwd: Option<String>,
) -> Result<NotifySettings, ConfigError> {
    let (settings, guard) = notify_settings_apart(
        binary,
        connection,
        server,
        peer,
        witness,
        master,
        keep_sessions,
        mysql_pwd,
    )?;
    match guard {
        Some(e) => Err(e),
        None => Ok(settings),
    }
}

/// [`notify_settings`], keeping apart an error in the split-brain guard's settings (`peer`,
/// `witness`, `lease-ttl`, `check-interval`, the other groups' `timeout` and the timing
/// invariant): then the settings come without what needs the bad value (no peer when the
/// peer is bad; no witness when anything of witness mode is), and the error beside them.
/// notify-backup fences with them (fencing needs only the connection, `--timeout` and the
/// state dir), then reports the error (docs/contract.md "notify-backup"). `Err`: an error
/// in what every run needs (the option file, the connection, `--timeout`, the state dir).
#[allow(clippy::too_many_arguments)]
pub fn notify_settings_apart(
    binary: &str,
    connection: &ConnectionArgs,
    server: &ServerArgs,
    peer: Option<&str>,
    witness: &WitnessArgs,
    master: Option<&NotifyMasterArgs>,
    keep_sessions: Option<bool>,
    mysql_pwd: Option<String>,
) -> Result<(NotifySettings, Option<ConfigError>), ConfigError> {
    let opts = OptionValues::load(connection.defaults_file.as_deref(), binary)?;
    opts.refuse_unknown(
        binary,
        if master.is_some() {
            NOTIFY_MASTER_KEYS
        } else {
            NOTIFY_BACKUP_KEYS
        },
    )?;
    let catchup_timeout = opts.pick(
        master.and_then(|m| m.catchup_timeout),
        "catchup-timeout",
        parse_duration,
        DEFAULT_CATCHUP_TIMEOUT,
    )?;
    let on_catchup_timeout = opts.pick(
        master.and_then(|m| m.on_catchup_timeout),
        "on-catchup-timeout",
        parse_choice,
        OnCatchupTimeout::default(),
    )?;
    let connection = connection_spec(connection, &opts, mysql_pwd)?;
    let timeout = opts.timeout(server, DEFAULT_TIMEOUT)?;
    let (peer, witness, guard_error) = match peer_spec(peer, &opts, &connection) {
        Err(e) => (None, None, Some(e)),
        Ok(peer) => {
            match witness_settings(binary, witness, &opts, &connection, peer.as_ref(), timeout) {
                Ok(witness) => (peer, witness, None),
                Err(e) => (peer, None, Some(e)),
            }
        }
    };
    let settings = NotifySettings {
        peer,
        witness,
        connection,
        timeout,
        state_dir: opts.state_dir(server),
        catchup_timeout,
        on_catchup_timeout,
        keep_read_only: master.is_some_and(|m| m.keep_read_only)
            || (master.is_some() && opts.flag("keep-read-only")?),
        keep_sessions: match keep_sessions {
            Some(flag) => flag || opts.flag("keep-sessions")?,
            None => false,
        },
    };
    Ok((settings, guard_error))
}

#[cfg(test)]
mod tests;
