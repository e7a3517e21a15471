//! `check-mysql --watch`: one long-running process per node that polls the server (and the
//! peer) over persistent connections, judges each poll exactly as the one-shot check does
//! ([`super::check::judge`]), and tells keepalived through its `track_file` when the node
//! may or must not hold the VIP (docs/contract.md "Watch mode").
//!
//! Each poll is observation (the pollers, [`crate::io::poller`]) → decision (the verdict,
//! then [`crate::plan::watch::Hysteresis`]) → action (the track file, syslog, the status
//! file, systemd's watchdog). The loop itself never waits on a server: every wait is bounded
//! by the poll's deadline, so that systemd's watchdog (`WatchdogSec`, fed once a poll) sees
//! a stuck loop and nothing else.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::cli::{CheckArgs, Format};
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::io::config::{self, CheckSettings, WatchSettings};
use crate::io::poller::Poller;
use crate::io::state;
use crate::io::syslog::{Severity, syslog};
use crate::model::lease::LeaseView;
use crate::model::observation::{Failure, Observation, ObserveError, PeerObservation, Stage};
use crate::plan::watch::{Hysteresis, Track};
use crate::report::{self, Report, SyslogTarget};
use crate::verdict::Verdict;
use crate::verdict::reception::{self, Mark, Received};

use super::check::{BINARY, Seen, judge, refusal_holds};

/// The watcher's status file in the state dir: the last verdict as the one-shot check's
/// JSON, with the watcher's own fields under `watch`.
pub const STATUS_FILE: &str = "check-mysql.watch.json";

/// How often the status file is rewritten while nothing changes (its `updated_unix_ms`
/// tells a reader the watcher is alive).
const STATUS_EVERY: Duration = Duration::from_secs(1);

/// Why the watcher stopped (it runs until a signal ends it otherwise).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("{0}")]
    Config(#[from] config::ConfigError),
    /// keepalived's track file cannot be written: the watcher cannot vouch for anything, so
    /// it stops, and keepalived's `vrrp_track_process` faults the node.
    #[error("cannot write the track file {path}: {cause}")]
    TrackFile { path: PathBuf, cause: String },
    /// A watch setting that cannot work (the track file's place, another watcher on it, a
    /// poll timeout systemd's watchdog would not wait for).
    #[error("{0}")]
    Setting(String),
}

impl WatchError {
    /// The one place where the watcher's end becomes its exit code.
    pub fn exit(&self) -> Exit {
        match self {
            WatchError::Config(_) | WatchError::Setting(_) => Exit::Config,
            WatchError::TrackFile { .. } => Exit::CantCreate,
        }
    }
}

/// Entry point of `check-mysql --watch`: runs until stopped; returns only on an error.
pub fn main(args: &CheckArgs) -> std::process::ExitCode {
    let target = SyslogTarget::from(&args.report);
    let e = match run(args) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    let exit = e.exit();
    let message = match &e {
        WatchError::Config(_) | WatchError::Setting(_) => format!("FAIL config: {e}"),
        WatchError::TrackFile { .. } => format!("FAIL track-file: {e} (the watcher stops)"),
    };
    match args.report.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({
                "status": "fail",
                "exit_code": exit.code(),
                "reason": exit.name(),
                "message": e.to_string(),
            })
        ),
        Format::Text => println!("{message}"),
    }
    syslog(BINARY, &target, Severity::Err, &message);
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&message)]);
    exit.into()
}

/// Resolve the settings, then poll forever. `Err` ends the watcher.
pub fn run(args: &CheckArgs) -> Result<std::convert::Infallible, WatchError> {
    let settings = config::check_settings(args, std::env::var("MYSQL_PWD").ok())?;
    let Some(watch) = settings.watch.clone() else {
        unreachable!("check-mysql --watch resolves watch settings")
    };
    let lock = claim_track_file(&watch.track_file)?;
    if let Some(period) = sd_notify::watchdog_enabled() {
        check_watchdog(watch.poll_timeout, period).map_err(WatchError::Setting)?;
    }
    let target = SyslogTarget::from(&args.report);
    let mut watcher = Watcher::start(settings, watch, target, args, lock);
    loop {
        let tick = Instant::now();
        watcher.poll_once()?;
        watcher.sleep_until(tick + watcher.watch.interval);
    }
}

/// One poll's observations.
struct Polled {
    local: Result<Observation, ObserveError>,
    peer: PeerObservation,
}

/// The watcher's state between polls.
struct Watcher {
    settings: CheckSettings,
    watch: WatchSettings,
    syslog: SyslogTarget,
    format: Format,
    local: Poller<Result<Observation, ObserveError>>,
    peer: Option<Poller<PeerObservation>>,
    /// Witness mode: the latest lease round, `None` inside while a round has not finished
    /// within the check's `--timeout`.
    lease: Option<Arc<Mutex<Option<Option<LeaseView>>>>>,
    track: Hysteresis,
    /// The last reception mark (kept in memory: the one-shot check keeps its own file).
    mark: Option<Mark>,
    /// The kernel's boot id, read once: the mark's clock counts from this boot.
    boot: Option<String>,
    /// The verdict key last logged (syslog hears of each change once).
    logged: Option<String>,
    /// A different verdict key and how many polls in a row it has held.
    pending: Option<(String, u32)>,
    status_written: Option<(String, Instant)>,
    /// The status file could not be written last time (said once).
    status_failed: bool,
    /// The exclusive lock beside the track file, held for the process's life.
    _lock: std::fs::File,
    polls: u64,
    /// When the previous poll started, ms since boot (a long gap: the watcher was stopped).
    last_started: Option<u64>,
    /// The peer's silence as last recorded ([`Watcher::remember_peer_silence`]).
    silence: Option<crate::plan::guard::Silence>,
    /// When the peer last answered a poll (ms since boot).
    peer_answered_ms: Option<u64>,
    ready: bool,
    watchdog: Option<Duration>,
    last_watchdog: Option<Instant>,
}

impl Watcher {
    fn start(
        settings: CheckSettings,
        watch: WatchSettings,
        syslog: SyslogTarget,
        args: &CheckArgs,
        lock: std::fs::File,
    ) -> Watcher {
        let start = std::fs::read_to_string(&watch.track_file)
            .ok()
            .and_then(|t| Track::parse(&t));
        let local = local_poller(&settings, watch.poll_timeout);
        let peer = settings
            .peer
            .clone()
            .map(|spec| peer_poller(spec, watch.poll_timeout));
        let lease = settings.witness.is_some().then(|| lease_thread(&settings));
        if let Some(shared) = &lease {
            first_round(shared, settings.timeout);
        }
        // A record left by an earlier watcher says nothing about this one's peer.
        let _ = state::write_atomic(&settings.state_dir, state::PEER_SILENT_FILE, None);
        let note = format!(
            "watching every {} (poll timeout {}, fall {}, rise {}), track file {} ({})",
            crate::cli::show_duration(watch.interval),
            crate::cli::show_duration(watch.poll_timeout),
            watch.fall,
            watch.rise,
            watch.track_file.display(),
            match start {
                Some(t) => format!("it says {} until the first poll decides", t.value()),
                None => "missing or not a number until the first poll decides".into(),
            }
        );
        crate::io::syslog::syslog(BINARY, &syslog, Severity::Info, &note);
        Watcher {
            track: Hysteresis::new(watch.fall, watch.rise),
            settings,
            watch,
            syslog,
            format: args.report.format,
            local,
            peer,
            lease,
            mark: None,
            boot: state::boot_id(),
            logged: None,
            pending: None,
            status_written: None,
            status_failed: false,
            _lock: lock,
            polls: 0,
            last_started: None,
            silence: None,
            peer_answered_ms: None,
            ready: false,
            watchdog: sd_notify::watchdog_enabled(),
            last_watchdog: None,
        }
    }

    /// One poll: observe within `--poll-timeout`, judge, and act on the track file.
    fn poll_once(&mut self) -> Result<(), WatchError> {
        use crate::plan::watch::{Urgent, urgent};
        let started = Instant::now();
        // On the boot clock (/proc/uptime), which counts a suspend too.
        let now_ms = state::uptime_ms();
        let gap = match (self.last_started, now_ms) {
            (Some(at), Some(now)) => Some(Duration::from_millis(now.saturating_sub(at))),
            _ => None,
        };
        self.last_started = now_ms;
        // A watcher that did not run for a while says so before it asks anything: its poll
        // may take a whole --poll-timeout, and keepalived may act on the old file meanwhile.
        let (interval, timeout) = (self.watch.interval, self.watch.poll_timeout);
        if urgent(gap, interval, timeout, false) == Some(Urgent::Frozen) {
            let gap = gap.unwrap_or_default();
            let why = format!(
                "this watcher did not run for {} (stopped or starved): the peer may have taken \
                 over meanwhile, so this node must not hold the VIP until {} polls in a row pass",
                crate::cli::show_duration(Duration::from_millis(gap.as_millis() as u64)),
                self.watch.rise
            );
            if let Some(t) = self.track.force(Exit::SplitBrain.code() as u8) {
                self.write_track(t)?;
                self.announce(t, &why);
            }
        }
        let deadline = Deadline::new(timeout);
        let polled = self.observe(&deadline);
        // When the answers were in: the peer's silence and the stall rule count from here.
        let answered_ms = state::uptime_ms();
        self.remember_peer_silence(&polled.peer, answered_ms);
        // One view of the lease per poll: the verdict and the status file say the same.
        let lease = self.latest_lease(polled.local.as_ref().ok());
        let (verdict, role_source) = self.judge(&polled, lease.as_ref(), answered_ms);
        let code = verdict.exit().code() as u8;
        self.polls += 1;
        let yields = crate::plan::watch::yields(&verdict);
        let flipped = match urgent(None, interval, timeout, yields) {
            // Two writers: not one poll more.
            Some(_) => self.track.force(code),
            None => self.track.poll(code),
        };
        // The first poll always writes (Hysteresis starts with nothing): the file then says
        // what this process saw, and is proven writable.
        match flipped {
            Some(t) => {
                self.write_track(t)?;
                self.announce(t, &report::line(&verdict));
                // The flip's message says the verdict: not a second time.
                self.logged = Some(report::verdict_key(&verdict));
                self.pending = None;
            }
            None => {
                self.repair_track()?;
                self.log_change(&verdict);
            }
        }
        self.write_status(&verdict, &role_source, &polled, lease.as_ref(), started);
        self.feed_systemd(&verdict);
        Ok(())
    }

    /// notify-master's shortcut for a peer that gives no answer
    /// ([`crate::plan::guard::probe_budget`]): while the peer's polls get no answer the
    /// record says since when: the peer's last answer (or, if it never answered this
    /// watcher, its first failed poll). Rewritten every failed poll, so that its age shows
    /// the watcher alive; removed at the first answer. Best effort: without it
    /// notify-master waits its whole `--timeout`, as it does without a watcher.
    fn remember_peer_silence(&mut self, peer: &PeerObservation, now: Option<u64>) {
        use crate::plan::guard::Silence;
        let dir = &self.settings.state_dir;
        if peer.answered() {
            self.peer_answered_ms = now;
        }
        match (peer, now) {
            (PeerObservation::Unreachable { address, .. }, Some(now)) => {
                let since_ms = match &self.silence {
                    Some(s) if s.peer == *address => s.since_ms,
                    _ => self.peer_answered_ms.unwrap_or(now),
                };
                let record = Silence {
                    peer: address.clone(),
                    since_ms,
                    last_ms: now,
                };
                let _ = state::write_atomic(dir, state::PEER_SILENT_FILE, Some(&record.render()));
                self.silence = Some(record);
            }
            _ => {
                if self.silence.take().is_some() {
                    let _ = state::write_atomic(dir, state::PEER_SILENT_FILE, None);
                }
            }
        }
    }

    /// Ask both pollers at once, then wait for each until the poll's deadline.
    fn observe(&mut self, deadline: &Deadline) -> Polled {
        let local_asked = self.local.ask();
        let peer_asked = self.peer.as_mut().map(Poller::ask);
        let poll_timeout = self.watch.poll_timeout;
        let unanswered = || no_answer(poll_timeout);
        let local = match local_asked {
            true => self.local.answer(deadline.remaining()),
            false => None,
        }
        .unwrap_or_else(|| {
            Err(ObserveError {
                target: self.settings.connection.target(),
                stage: Stage::Connect,
                failure: unanswered(),
            })
        });
        let peer = match (&mut self.peer, peer_asked) {
            (Some(p), Some(true)) => p
                .answer(deadline.remaining().max(Duration::from_millis(1)))
                .unwrap_or_else(|| self.peer_silent(unanswered())),
            (Some(_), _) => self.peer_silent(unanswered()),
            (None, _) => PeerObservation::NotAsked,
        };
        Polled { local, peer }
    }

    fn peer_silent(&self, failure: Failure) -> PeerObservation {
        let address = self
            .settings
            .peer
            .as_ref()
            .map(|p| p.target())
            .unwrap_or_default();
        PeerObservation::failed(address, failure)
    }

    /// The one-shot check's decision on this poll, and where the role came from. A role
    /// that cannot be resolved (the role file unusable) fails the poll as a configuration
    /// error would (a FAIL `watcher` finding first), without ending the watcher (the file
    /// may be mended). `now_ms`: when the answers were in, for the stall rule.
    fn judge(
        &mut self,
        polled: &Polled,
        lease: Option<&LeaseView>,
        now_ms: Option<u64>,
    ) -> (Verdict, String) {
        let received = match (&self.settings.peer, &polled.local, now_ms) {
            // A peer that missed one poll's deadline says nothing about reception: the
            // clock of "received nothing" goes on from the last poll that could tell.
            (Some(_), Ok(_), _) if !polled.peer.answered() => Received::Unknown,
            (Some(_), Ok(obs), Some(now)) => {
                self.received(reception::reception(obs, &polled.peer), now)
            }
            _ => Received::Unknown,
        };
        let s = &self.settings;
        let (role, source, role_error) = match crate::io::role::resolve(s.role, &s.state_dir, s.vip)
        {
            Ok(r) => (r.role, r.source, None),
            Err(e) => (
                crate::model::role::Role::Standby,
                "unresolved".to_string(),
                Some(e.to_string()),
            ),
        };
        let marker = s.peer.is_some() && state::refusal_present(&s.state_dir);
        let refused = refusal_holds(&s.state_dir, marker, lease, &polled.peer);
        let mut verdict = judge(
            s,
            role,
            Seen {
                local: &polled.local,
                peer: &polled.peer,
                lease,
                received,
                refused,
                memory_problem: None,
            },
        );
        if let Some(why) = role_error {
            // First, so that the line, the JSON and the exit code (78) say it.
            verdict.findings.insert(
                0,
                crate::verdict::Finding {
                    level: crate::verdict::Level::Fail,
                    kind: Some(crate::verdict::Reason::Config),
                    situation: crate::verdict::Situation::Watcher,
                    message: why,
                },
            );
        }
        (verdict, source)
    }

    /// The stall rule over the in-memory mark ([`reception::track`]).
    fn received(&mut self, now: Option<reception::Reception>, now_ms: u64) -> Received {
        let (next, received) = reception::track(
            self.mark.as_ref(),
            now.as_ref(),
            now_ms,
            self.boot.as_deref(),
        );
        self.mark = next;
        received
    }

    /// Witness mode: the latest lease round's view; a round that has not finished within
    /// the check's `--timeout` is judged as the one-shot check judges it.
    fn latest_lease(&self, local: Option<&Observation>) -> Option<LeaseView> {
        let shared = self.lease.as_ref()?;
        // No round finished yet ([`first_round`] waited for one) is an unfinished round.
        let latest = shared.lock().ok().and_then(|l| l.clone()).flatten();
        Some(latest.unwrap_or_else(|| super::check::unfinished(local, self.settings.timeout)))
    }

    fn write_track(&self, t: Track) -> Result<(), WatchError> {
        let path = &self.watch.track_file;
        let fail = |cause: String| WatchError::TrackFile {
            path: path.clone(),
            cause,
        };
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return Err(fail("not a file path".into()));
        };
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        state::write_atomic(dir, &name.to_string_lossy(), Some(&t.render()))
            .map_err(|e| fail(e.to_string()))
    }

    /// The file must say what the watcher decided, every poll: keepalived reads a missing,
    /// empty or non-numeric file as 0, "may hold the VIP" (keepalived 2.2.7
    /// trackers/track_file.c), so a file removed, emptied or overwritten by someone else
    /// (keepalived's own `init_file ... overwrite` at a restart) is written again at once,
    /// and said once. One small read per poll.
    fn repair_track(&mut self) -> Result<(), WatchError> {
        let Some(want) = self.track.current() else {
            return Ok(());
        };
        let text = std::fs::read_to_string(&self.watch.track_file).ok();
        let found = text.as_deref().and_then(Track::parse);
        if found == Some(want) {
            return Ok(());
        }
        self.write_track(want)?;
        let said = match &text {
            None => "was missing".to_string(),
            Some(t) => format!("said {:?}", t.trim()),
        };
        let message = format!(
            "track file {} {said}, not {}: written again",
            self.path(),
            want.value()
        );
        syslog(BINARY, &self.syslog, Severity::Warning, &message);
        Ok(())
    }

    /// A flip: one line on stdout (the journal under systemd), one syslog message, and
    /// systemd's STATUS=; `why`, the verdict's line or what forced the flip.
    fn announce(&self, t: Track, why: &str) {
        let text = match t {
            Track::Hold => format!("track file {} = 0 (may hold the VIP): {why}", self.path()),
            Track::Refuse(c) => {
                format!(
                    "track file {} = {c} (must not hold the VIP): {why}",
                    self.path()
                )
            }
        };
        // A closed stdout (a pipe whose reader left) must not end the watcher.
        use std::io::Write;
        let out = match self.format {
            Format::Json => serde_json::json!({
                "track_file": self.path(),
                "track": t.value(),
                "line": why,
                "polls": self.polls,
            })
            .to_string(),
            Format::Text => text.clone(),
        };
        let _ = writeln!(std::io::stdout(), "{out}");
        let severity = match t {
            Track::Hold => Severity::Info,
            Track::Refuse(_) => Severity::Err,
        };
        syslog(BINARY, &self.syslog, severity, &text);
        let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&text)]);
    }

    fn path(&self) -> String {
        self.watch.track_file.display().to_string()
    }

    /// A changed verdict that did not flip the file (a WARN, another failure) is logged
    /// once, as the one-shot check logs it on change, once it has held for `--fall` polls
    /// in a row: at ten polls a second a verdict that flickers (a standby a few
    /// transactions behind under load) would otherwise fill syslog.
    fn log_change(&mut self, verdict: &Verdict) {
        let key = report::verdict_key(verdict);
        if self.logged.as_deref() == Some(key.as_str()) {
            self.pending = None;
            return;
        }
        let held = match &mut self.pending {
            Some((k, n)) if *k == key => {
                *n += 1;
                *n
            }
            _ => {
                self.pending = Some((key.clone(), 1));
                1
            }
        };
        let first = self.logged.is_none();
        if held < self.watch.fall && !first {
            return;
        }
        self.pending = None;
        self.logged = Some(key);
        let worst = verdict.findings.iter().map(|f| f.level).max();
        use crate::verdict::Level;
        let severity = match worst {
            Some(Level::Fail | Level::Alert) => Severity::Err,
            Some(Level::Warn) => Severity::Warning,
            _ if first => return,
            _ => Severity::Info,
        };
        syslog(BINARY, &self.syslog, severity, &report::line(verdict));
    }

    /// The status file: the last verdict as the one-shot check's JSON with a `watch`
    /// object, written when the verdict changes and at least every [`STATUS_EVERY`].
    fn write_status(
        &mut self,
        verdict: &Verdict,
        role_source: &str,
        polled: &Polled,
        lease: Option<&LeaseView>,
        started: Instant,
    ) {
        // A flip of the track file is news even when the verdict is the same.
        let key = format!(
            "{:?} {}",
            self.track.current(),
            report::verdict_key(verdict)
        );
        let due = match &self.status_written {
            Some((k, at)) => *k != key || at.elapsed() >= STATUS_EVERY,
            None => true,
        };
        if !due {
            return;
        }
        let report = Report::new(
            verdict,
            role_source,
            polled.local.as_ref().ok(),
            &polled.peer,
            lease,
            started.elapsed().as_millis(),
            &[],
        );
        let Ok(mut json) = serde_json::to_value(&report) else {
            return;
        };
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        json["watch"] = serde_json::json!({
            "pid": std::process::id(),
            "track_file": self.path(),
            "track": self.track.current().map(Track::value),
            "streak": self.track.streak(),
            "polls": self.polls,
            "interval_ms": self.watch.interval.as_millis(),
            "poll_timeout_ms": self.watch.poll_timeout.as_millis(),
            "fall": self.watch.fall,
            "rise": self.watch.rise,
            "updated_unix_ms": now_ms,
        });
        // Best effort: the status file is for people; the track file is what counts. A
        // failure is said once (then again after it worked).
        let dir = &self.settings.state_dir;
        match state::write_atomic(dir, STATUS_FILE, Some(&json.to_string())) {
            Ok(()) => self.status_failed = false,
            Err(e) if !self.status_failed => {
                self.status_failed = true;
                let message = format!(
                    "cannot write {}: {e} (the track file is still written)",
                    dir.join(STATUS_FILE).display()
                );
                syslog(BINARY, &self.syslog, Severity::Warning, &message);
            }
            Err(_) => {}
        }
        self.status_written = Some((key, Instant::now()));
    }

    /// Sleep until `next`, waking to feed systemd's watchdog when the interval is longer
    /// than a quarter of its period (a long `--interval` is no hang).
    fn sleep_until(&mut self, next: Instant) {
        loop {
            let Some(rest) = next.checked_duration_since(Instant::now()) else {
                return;
            };
            let nap = match self.watchdog {
                Some(period) => rest.min(period / 4),
                None => rest,
            };
            std::thread::sleep(nap);
            self.ping_watchdog();
        }
    }

    /// systemd (`Type=notify`, `WatchdogSec`): READY after the first poll, then a
    /// watchdog ping at most every quarter of the watchdog period (sd_notify(3)).
    fn feed_systemd(&mut self, verdict: &Verdict) {
        if !self.ready {
            self.ready = true;
            let status = format!("first poll: {}", report::line(verdict));
            let _ = sd_notify::notify(&[
                sd_notify::NotifyState::Ready,
                sd_notify::NotifyState::Status(&status),
            ]);
        }
        self.ping_watchdog();
    }

    fn ping_watchdog(&mut self) {
        let Some(period) = self.watchdog else {
            return;
        };
        if self
            .last_watchdog
            .is_none_or(|at| at.elapsed() >= period / 4)
        {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            self.last_watchdog = Some(Instant::now());
        }
    }
}

/// The track file's place must exist (a typo must not create a file keepalived never
/// reads: directories are not created), be absolute (keepalived's `track_file` is), and be
/// this watcher's alone: an exclusive lock on `.NAME.lock` beside it, held for the process's
/// life, keeps a second watcher from fighting over the file (each would rewrite the other's
/// value every poll, and keepalived would act on each). A lock that cannot be created is the
/// track file's directory refusing writes (73).
fn claim_track_file(path: &Path) -> Result<std::fs::File, WatchError> {
    let bad = |why: String| WatchError::Setting(format!("--track-file {}: {why}", path.display()));
    if !path.is_absolute() {
        return Err(bad(
            "must be an absolute path (keepalived reads it by that path)".into(),
        ));
    }
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(bad("not a file path".into()));
    };
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(bad(format!("{} is not a directory", dir.display()))),
        Err(e) => return Err(bad(format!("directory {}: {e}", dir.display()))),
    }
    if path.is_dir() {
        return Err(bad("is a directory".into()));
    }
    let lock_path = dir.join(format!(".{}.lock", name.to_string_lossy()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| WatchError::TrackFile {
            path: path.to_path_buf(),
            cause: format!("cannot create its lock {}: {e}", lock_path.display()),
        })?;
    use std::os::fd::AsFd;
    match crate::io::sys::try_lock_exclusive(file.as_fd()) {
        Ok(()) => Ok(file),
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Err(bad(
            "another check-mysql --watch writes this track file (its lock is held): stop it \
             first, or give this one another --track-file"
                .into(),
        )),
        Err(e) => Err(bad(format!("cannot lock {}: {e}", lock_path.display()))),
    }
}

/// Under systemd's watchdog (`WatchdogSec`, sd_notify(3)): a poll is never waited on longer
/// than `--poll-timeout`, and the loop feeds the watchdog between polls, so the watchdog is
/// fed within one poll timeout; refused unless that is under half its period (a hung server
/// would otherwise get a healthy watcher killed again and again).
pub fn check_watchdog(poll_timeout: Duration, period: Duration) -> Result<(), String> {
    if poll_timeout * 2 < period {
        return Ok(());
    }
    Err(format!(
        "--poll-timeout {} is not below half of systemd's watchdog period ({}, WatchdogSec): \
         lower it, or raise WatchdogSec in a drop-in",
        crate::cli::show_duration(poll_timeout),
        crate::cli::show_duration(period)
    ))
}

/// A poll that did not answer within `--poll-timeout`.
fn no_answer(poll_timeout: Duration) -> Failure {
    Failure::NoAnswer {
        cause: format!(
            "no answer within --poll-timeout {} (server hung or unreachable)",
            crate::cli::show_duration(poll_timeout)
        ),
    }
}

/// The local server's poller: the one-shot check's query over a kept connection.
fn local_poller(
    settings: &CheckSettings,
    timeout: Duration,
) -> Poller<Result<Observation, ObserveError>> {
    let guarded = settings.peer.is_some();
    let target = settings.connection.target();
    Poller::connected(
        settings.connection.clone(),
        timeout,
        move |conn| crate::io::observe::observe(conn, &target, guarded),
        Result::is_ok,
        Err,
    )
}

/// The peer's poller: the one-shot check's peer probe over a kept connection.
fn peer_poller(
    spec: crate::io::mysql::ConnectionSpec,
    timeout: Duration,
) -> Poller<PeerObservation> {
    let (address, unreached_address) = (spec.target(), spec.target());
    Poller::connected(
        spec,
        timeout,
        move |conn| crate::io::observe::peer_history(conn, address.clone()),
        |p| matches!(p, PeerObservation::Reached { .. }),
        move |e| PeerObservation::failed(unreached_address.clone(), e.failure),
    )
}

/// Witness mode: wait (at most the check's `--timeout` and a little) for the lease thread's
/// first round, so that the watcher's first decision, which it writes at once, never judges
/// a writable node without its lease.
fn first_round(shared: &Arc<Mutex<Option<Option<LeaseView>>>>, timeout: Duration) {
    let until = Instant::now() + timeout + Duration::from_millis(100);
    while Instant::now() < until {
        if shared.lock().map(|l| l.is_some()).unwrap_or(true) {
            return;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Witness mode: renew (or peek at) the lease on its own thread every `--check-interval`,
/// each round within the check's `--timeout`, exactly as the one-shot check does
/// ([`super::check::lease_work`]), so that the timing invariant the settings enforced
/// still holds. The shared value is the latest round (`None` inside: unfinished).
fn lease_thread(settings: &CheckSettings) -> Arc<Mutex<Option<Option<LeaseView>>>> {
    let shared = Arc::new(Mutex::new(None));
    let out = Arc::clone(&shared);
    let settings = settings.clone();
    std::thread::spawn(move || {
        let (Some(w), Some(peer)) = (settings.witness.clone(), settings.peer.clone()) else {
            return;
        };
        let every = Duration::from_secs(u64::from(w.timing.renew_interval_secs));
        loop {
            let started = Instant::now();
            let deadline = Deadline::new(settings.timeout);
            let marker = state::refusal_present(&settings.state_dir);
            let (w2, local, peer2, dir) = (
                w.clone(),
                settings.connection.clone(),
                peer.clone(),
                settings.state_dir.clone(),
            );
            let round = Worker::start(move || {
                super::check::lease_work(&w2, &local, &peer2, &dir, marker, &deadline)
            });
            let view = round.wait(deadline.remaining());
            if let Ok(mut slot) = out.lock() {
                *slot = Some(view);
            }
            std::thread::sleep(every.saturating_sub(started.elapsed()));
        }
    });
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    /// systemd's watchdog is fed within one poll timeout: it must be under half the period.
    #[test]
    fn a_poll_timeout_the_watchdog_would_not_wait_for_is_refused() {
        let ms = Duration::from_millis;
        for (poll_timeout, period, ok) in [
            (ms(250), ms(2000), true),
            (ms(999), ms(2000), true),
            (ms(1000), ms(2000), false),
            (ms(3000), ms(2000), false),
        ] {
            let r = check_watchdog(poll_timeout, period);
            assert_eq!(r.is_ok(), ok, "{poll_timeout:?} {period:?}: {r:?}");
        }
    }

    #[test]
    fn the_track_file_must_be_absolute_in_an_existing_directory_and_unclaimed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("check-mysql.track");
        let first = claim_track_file(&file).expect("the first watcher claims it");
        let second = claim_track_file(&file).unwrap_err().to_string();
        assert!(second.contains("another check-mysql --watch"), "{second}");
        drop(first);
        assert!(claim_track_file(&file).is_ok(), "released with the first");
        for (path, says) in [
            (PathBuf::from("relative.track"), "absolute"),
            (dir.path().join("missing/t"), "directory"),
            (dir.path().to_path_buf(), "is a directory"),
        ] {
            let e = claim_track_file(&path).unwrap_err();
            assert!(matches!(e, WatchError::Setting(_)), "{path:?}: {e}");
            assert!(e.to_string().contains(says), "{path:?}: {e}");
        }
    }
}
