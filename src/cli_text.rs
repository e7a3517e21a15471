// Defaults, keepalived states, exit codes and help texts of the command line; `include!`d by
// src/cli.rs (so that cli.rs, which build.rs also includes, stands alone). Not a module: it
// uses cli.rs's imports.

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
/// Default `--lease-ttl` (witness mode): `plan::lease::DEFAULT_TTL` (a unit test keeps them
/// equal), whose docstring says why 6 s.
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(6);
/// Default `--check-interval` (witness mode): keepalived's `vrrp_script` `interval` in
/// packaging's example configs (packaging/keepalived-node-a.conf), 2 s.
pub const DEFAULT_CHECK_INTERVAL: Duration = Duration::from_secs(2);
/// Largest `--lease-ttl` (and lease-ttl key): 10 min. The TTL is how long a writer that
/// vanished silently (power off, a hung server) keeps the other node from taking over; past
/// ten minutes that is an outage no failover setup means to choose (the default is 6 s, and a
/// larger value is far more likely a unit typo, `6m` for `6s`), and the same bound as
/// notify-backup's default --retry-for.
pub const MAX_LEASE_TTL: Duration = Duration::from_secs(600);
/// Largest `--check-interval` (and check-interval key): 10 min, [`MAX_LEASE_TTL`]'s bound,
/// since the timing invariant needs the interval below the TTL anyway.
pub const MAX_CHECK_INTERVAL: Duration = Duration::from_secs(600);
/// Default `--interval` of `check-mysql --watch`: 100 ms between poll starts. Measured
/// (BENCHMARKS.md "Watch mode"): a poll costs the watcher well under a millisecond of CPU, so
/// 10 polls a second stay under 1 % of a core, and detection stays a small part of the
/// sub-second failover budget (issue 12).
pub const DEFAULT_WATCH_INTERVAL: Duration = Duration::from_millis(100);
/// Default `--poll-timeout`: a poll not answered within 250 ms fails. Longer than a 150 ms
/// stall (one slow fsync, a checkpoint), short enough that a hung server is seen within
/// `poll-timeout + (fall - 1) * interval` (350 ms with the defaults).
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_millis(250);
/// Default `--fall`: two failed polls in a row (one failed poll never moves the VIP).
pub const DEFAULT_FALL: u32 = 2;
/// Default `--rise`: three passed polls in a row before the node may hold the VIP again, so
/// that a server flapping between answering and not does not pull the VIP back and forth.
pub const DEFAULT_RISE: u32 = 3;
/// Largest `--fall` / `--rise`.
pub const MAX_STREAK: u32 = 100;
/// Smallest `--interval` / `--poll-timeout`: 10 ms.
pub const MIN_WATCH_INTERVAL: Duration = Duration::from_millis(10);
/// Largest `--interval` / `--poll-timeout`: 1 min (the one-shot vrrp_script is the slow path).
pub const MAX_WATCH_INTERVAL: Duration = Duration::from_secs(60);
/// The track file's name in the state dir when `--track-file` is not given.
pub const TRACK_FILE_NAME: &str = "check-mysql.track";
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
  6   split-brain: this node must not be the writer: notify-master refused the writer role
      while the peer is writable, or both nodes are writable and this one yields; in
      witness mode: this writable node lost the lease (no majority: it set read_only=ON
      itself), or it was refused and another node holds the lease
      (with --is-writer: 0 this node is the writer, 1 it is not)
  64  usage error
  73  with --watch: the track file cannot be written (the watcher stops; keepalived's
      vrrp_track_process then faults the node)
  78  configuration error: option file unreadable, unsafe or with a bad value; role file
      unusable; the server refuses the check's account (the message names the fix); the
      split-brain guard's table or grant is missing on either node (with a peer) or on a
      lease voter (witness mode); a witness without a peer; a lease timing that breaks its
      invariant (names the values)";

/// notify-master's exit codes (`src/app/notify_master.rs`, docs/contract.md "notify-master").
pub const NOTIFY_MASTER_EXIT_CODES: &str = "\
Exit codes:
  0   writer (role recorded, read_only=OFF); or superseded by a newer transition; or dry run
  1   not promoted: the server cannot be reached or hangs, a query failed, read_only did not
      change, the state dir's lock stayed busy, or the whole run passed its limit; also,
      with a peer: it answered with an error, so it is not provably fenced
  3   catch-up not finished within --catchup-timeout, with --on-catchup-timeout fail: the
      node stays read-only and promotion-failed is recorded
  6   split-brain (with --peer): the peer is writable, or another promotion holds the
      claim, or (witness mode) no majority of the lease; the node stays read-only,
      promotion-failed and the refusal marker are recorded (check-mysql then exits 6 while
      the peer is writable, or another node holds the lease)
  64  usage error (also a keepalived state other than MASTER)
  78  configuration error: option file unreadable, unsafe or with a bad value; state dir,
      lock or role file unusable; the server refuses the account or it lacks a privilege
      (the message names the fix); with --peer: the peer refuses the account, the peer is
      this very server (same server_id), or the split-brain guard's table or grant is
      missing (names packaging/split-brain.sql or packaging/grants.sql), also on a lease
      voter whose vote the majority needed (witness mode); a witness without a peer; a
      lease timing that breaks its invariant (names the values)";

/// notify-backup's exit codes (`src/app/notify_backup.rs`, docs/contract.md "notify-backup").
pub const NOTIFY_BACKUP_EXIT_CODES: &str = "\
Exit codes:
  0   fenced (role standby recorded, read_only=ON, client sessions that could still commit
      ended unless --keep-sessions); or superseded by a newer transition; or dry run
  1   not fenced now: the server cannot be reached or hangs, a query failed, read_only did
      not change, SET read_only did not get its lock in time, or the state dir's lock
      stayed busy; a background retry starts (none with --no-retry or --dry-run)
  64  usage error (also a state other than BACKUP, FAULT, STOP, DELETED)
  78  configuration error: option file unreadable, unsafe or with a bad value; state dir,
      lock or role file unusable; the server refuses the account or it lacks a privilege
      (PROCESS or CONNECTION ADMIN missing: sessions that could still commit not ended;
      no background retry); with a peer, after fencing: the split-brain guard's table or
      grant is missing (without a peer that is only a syslog warning); after fencing too:
      a bad split-brain guard setting (a bad --peer or --witness, a witness without a
      peer, a lease timing that breaks its invariant): fencing needs only the connection
      settings, so it is done first, skipping what needs the bad value (the lease's
      release), and the line says the node was fenced. In witness mode the lease is
      released after fencing; a voter that does not answer is only a warning";

/// notify-down's exit codes (`src/down.rs`, docs/contract.md "notify-down").
pub const NOTIFY_DOWN_EXIT_CODES: &str = "\
Exit codes:
  0   keepalived stopped, or was not running (no pid file, or a stale one); or dry run
  1   keepalived not stopped: not permitted (not root), systemctl or the signal failed, or
      still running after --timeout
  64  usage error
  78  configuration error: the pid file cannot be read, holds no PID, or names a process
      that is not keepalived (it is never signalled)";

/// notify-master's `--peer` (docs/contract.md "Split brain", issue 11 §1).
pub const NOTIFY_MASTER_PEER_HELP: &str = "The other master, HOST[:PORT], reached over TCP with \
    the same account and TLS settings: the split-brain guard. Before unfencing, notify-master \
    claims GET_LOCK('keepalived_mysql.promote') on both servers (lower server_id first), \
    refuses while the peer is writable (exit 6) or answers with an error, catches up to what \
    the peer has written, and re-reads its read_only right before read_only=OFF. A peer that \
    gives no answer at all is taken as down (two-node limit: logged as a warning). Also the \
    peer key in [notify-master]";

/// notify-backup's `--peer`.
pub const NOTIFY_BACKUP_PEER_HELP: &str = "The other master, HOST[:PORT]: says that the \
    split-brain guard is on, so that a missing keepalived_mysql.guard table or grant (when \
    clearing this node's writer_since after fencing) is a configuration error (exit 78, \
    after fencing) rather than a warning. notify-backup connects to it only in witness mode \
    (--witness: to release the lease there). Also the peer key in [notify-backup]";

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

/// check-mysql's `--watch`.
const WATCH_HELP: &str = "Run until stopped (SIGTERM): poll the server (and --peer) every \
     --interval over one persistent connection each, judge each poll as the one-shot check \
     does, and write keepalived's track_file (0 = may hold the VIP, the failing exit code = \
     must not) when the state flips after --fall / --rise polls in a row. The last verdict is \
     in check-mysql.watch.json in the state dir. Exits 78 on a configuration error and 73 when \
     the track file cannot be written (keepalived's vrrp_track_process then faults the node)";

/// check-mysql's `--interval`.
fn watch_interval_help() -> String {
    format!(
        "With --watch: time ({DURATION_SYNTAX}) between the starts of two polls, {} to {} \
         [default: {}]",
        show_duration(MIN_WATCH_INTERVAL),
        show_duration(MAX_WATCH_INTERVAL),
        show_duration(DEFAULT_WATCH_INTERVAL)
    )
}

/// check-mysql's `--poll-timeout`.
fn poll_timeout_help() -> String {
    format!(
        "With --watch: deadline ({DURATION_SYNTAX}) of one poll, the peer's included; a poll \
         not answered by then fails and its connection is dropped, never waited on \
         [default: {}]",
        show_duration(DEFAULT_POLL_TIMEOUT)
    )
}

/// check-mysql's `--fall`.
fn fall_help() -> String {
    format!(
        "With --watch: failed polls in a row before the track file says the node must not \
         hold the VIP, 1 to {MAX_STREAK} [default: {DEFAULT_FALL}]"
    )
}

/// check-mysql's `--rise`.
fn rise_help() -> String {
    format!(
        "With --watch: passed polls in a row before the track file says the node may hold \
         the VIP again, 1 to {MAX_STREAK} [default: {DEFAULT_RISE}]"
    )
}

/// check-mysql's `--track-file`.
fn track_file_help() -> String {
    format!(
        "With --watch: keepalived's track_file, replaced atomically (a temporary file in the \
         same directory, renamed) [default: {TRACK_FILE_NAME} in the state dir]"
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

/// `--witness` (docs/contract.md "Witness mode", issue 11 §2).
pub const WITNESS_HELP: &str = "The witness, HOST[:PORT], reached over TCP with the same \
    account and TLS settings: witness mode. A node may be writable only while it holds a \
    lease on a majority of three voters (this server, --peer, the witness): check-mysql renews \
    it on a writable node and fences the node itself (exit 6) when it is not held; \
    notify-master claims it before unfencing (exit 6 without a majority); notify-backup \
    releases it after fencing. Needs --peer (exit 78 without). Also the witness key";

/// `--lease-ttl`.
fn lease_ttl_help() -> String {
    format!(
        "Witness mode: how long a voter's lease row stays granted, on that voter's clock. It \
         must exceed --check-interval + check-mysql's timeout + notify-backup's timeout + \
         the 1s margin (checked at start: exit 78 naming the values); at most {} (a vanished \
         writer blocks failover for up to one TTL); the same value on the three helpers. \
         Also the lease-ttl key [default: {}]",
        show_duration(MAX_LEASE_TTL),
        show_duration(DEFAULT_LEASE_TTL)
    )
}

/// `--check-interval`.
fn check_interval_help() -> String {
    format!(
        "Witness mode: keepalived's vrrp_script interval of check-mysql (the helpers cannot \
         see it; whole seconds, a fraction counts as the next second), for the lease timing \
         check; at most {}. Also the check-interval key [default: {}]",
        show_duration(MAX_CHECK_INTERVAL),
        show_duration(DEFAULT_CHECK_INTERVAL)
    )
}
