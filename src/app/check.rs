//! `check-mysql`: observe within the deadline, judge, report, exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{CheckArgs, Format};
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::io::config::{self, CheckSettings, ConfigError, WitnessSettings};
use crate::io::lease::{ClockWatch, Mode, Round};
use crate::io::state;
use crate::model::lease::{GuardRow, LeaseView, VoterReport};
use crate::model::observation::{Failure, Observation, ObserveError, PeerObservation, Stage};
use crate::report::{self, Report, SyslogTarget};
use crate::verdict::reception::{self, Mark, Received, Reception};
use crate::verdict::{self, Finding, Level, Policy, Situation, Verdict};

pub const BINARY: &str = "check-mysql";

/// What one run found: the verdict and the evidence behind it.
pub struct Outcome {
    pub verdict: Verdict,
    /// Where the role came from (role file, `--vip`, `--role`, default).
    pub role_source: String,
    pub observation: Option<Observation>,
    pub peer: PeerObservation,
    /// Witness mode: what the run did with the lease.
    pub lease: Option<LeaseView>,
    pub elapsed_ms: u128,
    pub state_dir: PathBuf,
}

/// Entry point of the binary: parse, run, print, log, and map to the exit code in one place.
pub fn main() -> ExitCode {
    let args: CheckArgs = crate::cli::parse_or_exit(BINARY);
    if args.is_writer {
        let (exit, line) = match is_writer(&args) {
            Ok(Ok(how)) => (Exit::Ok, format!("OK writer: {how}")),
            Ok(Err(why)) => (Exit::Down, format!("NOT-WRITER: {why}")),
            Err(e) => (Exit::Config, format!("FAIL config: {e}")),
        };
        println!("{line}");
        return exit.into();
    }
    if args.watch.watch {
        return crate::app::watch::main(&args);
    }
    let syslog = SyslogTarget::from(&args.report);
    let result = run(&args);
    match &result {
        Ok(outcome) => {
            print(&args, outcome);
            report::log_on_change(BINARY, &syslog, &outcome.state_dir, &outcome.verdict);
        }
        Err(e) => {
            let msg = format!("FAIL config: {e}");
            match args.report.format {
                // One object per run, also when the settings could not be read.
                Format::Json => println!(
                    "{}",
                    serde_json::json!({
                        "status": "fail",
                        "exit_code": Exit::Config.code(),
                        "reason": Exit::Config.name(),
                        "message": e.to_string(),
                    })
                ),
                Format::Text => println!("{msg}"),
            }
            // The state dir may itself come from the bad file: use the flag's or the default.
            let state_dir = args
                .server
                .state_dir
                .clone()
                .unwrap_or_else(|| crate::cli::DEFAULT_STATE_DIR.into());
            report::log_config_error_on_change(BINARY, &syslog, &state_dir, &msg);
        }
    }
    exit_code(&result).into()
}

/// The one place where a run's result becomes the process exit code
/// (docs/contract.md "Exit codes").
pub fn exit_code(result: &Result<Outcome, ConfigError>) -> Exit {
    match result {
        Ok(outcome) => outcome.verdict.exit(),
        Err(_) => Exit::Config,
    }
}

/// Resolve settings, observe within the deadline, judge. `Err` is a configuration error
/// (exit 78); everything the servers said, down included, is in the verdict.
pub fn run(args: &CheckArgs) -> Result<Outcome, ConfigError> {
    let settings: CheckSettings = config::check_settings(args, std::env::var("MYSQL_PWD").ok())?;
    let deadline = Deadline::new(settings.timeout);
    // The refusal marker matters only with the guard on (a peer): read it once, and only then.
    let marker = settings.peer.is_some() && state::refusal_present(&settings.state_dir);
    let observing = Observing::start(&settings, deadline, marker);
    let role = crate::io::role::resolve(settings.role, &settings.state_dir, settings.vip)?;
    let (local, peer, lease) = observing.wait(&settings, &deadline);

    let (received, memory_problem) = if settings.peer.is_some() {
        let now = local
            .as_ref()
            .ok()
            .and_then(|obs| reception::reception(obs, &peer));
        remember_reception(&settings.state_dir, now.as_ref())
    } else {
        (Received::Unknown, None)
    };
    let refused = refusal_holds(&settings.state_dir, marker, lease.as_ref(), &peer);
    let verdict = judge(
        &settings,
        role.role,
        Seen {
            local: &local,
            peer: &peer,
            lease: lease.as_ref(),
            received,
            refused,
            memory_problem,
        },
    );
    Ok(Outcome {
        verdict,
        role_source: role.source,
        observation: local.ok(),
        peer,
        lease,
        elapsed_ms: deadline.elapsed().as_millis(),
        state_dir: settings.state_dir,
    })
}

/// What one check (or one poll of the watcher) saw, for [`judge`].
pub(crate) struct Seen<'a> {
    pub local: &'a Result<Observation, ObserveError>,
    pub peer: &'a PeerObservation,
    pub lease: Option<&'a LeaseView>,
    /// Whether the standby received anything lately ([`reception::track`]).
    pub received: Received,
    /// notify-master's refusal still holds ([`refusal_holds`]).
    pub refused: bool,
    /// Why stall detection is off, if it is (said as a WARN, not hidden).
    pub memory_problem: Option<String>,
}

/// The decision of one check, shared by the one-shot run and every poll of `--watch`: the
/// pure verdict ([`verdict::verdict`]), then witness mode's lease findings.
pub(crate) fn judge(
    settings: &CheckSettings,
    role: crate::model::role::Role,
    seen: Seen,
) -> Verdict {
    let policy = Policy {
        max_lag: settings.max_lag,
        allow_no_replica: settings.allow_no_replica,
        allow_read_only: settings.allow_read_only,
    };
    let mut verdict = match seen.local {
        Ok(obs) => verdict::verdict(obs, seen.peer, role, &policy, seen.received, seen.refused),
        Err(e) => Verdict::unobserved(role, e, settings.connection.user.as_deref()),
    };
    if let Some(view) = seen.lease {
        verdict
            .findings
            .extend(crate::verdict::split::lease_findings(view));
        verdict.findings = crate::verdict::split::by_lease(verdict.findings, view);
    }
    if let Some(problem) = seen.memory_problem {
        verdict.findings.push(Finding {
            level: Level::Warn,
            kind: None,
            situation: Situation::PeerPosition,
            message: problem,
        });
    }
    verdict
}

/// Whether notify-master's refusal still holds: its marker is present (`marker`), no other
/// node holds the lease (witness mode: a refused node that sees another node holding a
/// majority keeps its marker and fails even where it cannot see the peer), and the peer is
/// still writable ([`remembered_refusal`], which forgets the marker otherwise).
pub(crate) fn refusal_holds(
    state_dir: &std::path::Path,
    marker: bool,
    lease: Option<&LeaseView>,
    peer: &PeerObservation,
) -> bool {
    let held_elsewhere = lease.is_some_and(|v| v.action == "peek" && v.holder.is_some());
    marker && !held_elsewhere && remembered_refusal(state_dir, peer)
}

/// `--is-writer`: `Ok(Ok(_))` when the role is writer and the server is writable,
/// `Ok(Err(why))` when not (also when the server does not answer within `--timeout`), `Err`
/// for a configuration error. Reads nothing but the role and `@@read_only`; writes nothing.
fn is_writer(args: &CheckArgs) -> Result<Result<String, String>, ConfigError> {
    let settings = config::is_writer_settings(args, std::env::var("MYSQL_PWD").ok())?;
    let role = crate::io::role::resolve(settings.role, &settings.state_dir, settings.vip)?;
    if role.role != crate::model::role::Role::Writer {
        return Ok(Err(format!(
            "role {} ({})",
            role.role.as_str(),
            role.source
        )));
    }
    let deadline = Deadline::new(settings.timeout);
    let spec = settings.connection.clone();
    let asked = Worker::start(move || {
        let mut conn = spec.connect(&deadline).map_err(|e| e.to_string())?;
        crate::io::dialect::detect(&mut conn).map_err(|e| e.to_string())
    });
    Ok(match asked.wait(deadline.remaining()) {
        None => Err(format!("no answer within --timeout {:?}", settings.timeout)),
        Some(Err(e)) => Err(e),
        Some(Ok(d)) if d.read_only == Some(false) => Ok(format!("role writer ({})", role.source)),
        Some(Ok(_)) => Err("role writer, but read_only=ON".to_string()),
    })
}

/// Whether notify-master's refusal (the peer was writable), whose marker is present, still
/// holds: the marker is forgotten once the peer is seen fenced or unreachable, so that the
/// node can take over again (docs/contract.md "Split brain").
fn remembered_refusal(state_dir: &std::path::Path, peer: &PeerObservation) -> bool {
    use crate::plan::guard::PeerState;
    match PeerState::of(peer) {
        PeerState::Writable => true,
        PeerState::Fenced | PeerState::NoAnswer => {
            // Best effort: a marker that cannot be removed is met again next run.
            let _ = state::set_refusal(state_dir, None);
            false
        }
        // Up but not provably anything (an error, no guard row): the refusal stays, unused.
        _ => false,
    }
}

/// The local and peer observations, running on worker threads so that the deadline bounds
/// everything (DNS included) even when a server accepts and never answers.
struct Observing {
    local: Worker<Result<Observation, ObserveError>>,
    peer: Option<Worker<PeerObservation>>,
    lease: Option<Worker<LeaseView>>,
}

impl Observing {
    /// `marker`: the refusal marker is present (witness mode peeks then).
    fn start(settings: &CheckSettings, deadline: Deadline, marker: bool) -> Observing {
        let spec = settings.connection.clone();
        let guarded = settings.peer.is_some();
        let local = Worker::start(move || {
            let target = spec.target();
            spec.connect(&deadline)
                .and_then(|mut conn| crate::io::observe::observe(&mut conn, &target, guarded))
        });
        let peer = settings
            .peer
            .clone()
            .map(|spec| Worker::start(move || crate::io::observe::observe_peer(&spec, &deadline)));
        let lease = match (&settings.witness, &settings.peer) {
            (Some(w), Some(peer)) => {
                let (w, local, peer) = (w.clone(), settings.connection.clone(), peer.clone());
                let state_dir = settings.state_dir.clone();
                Some(Worker::start(move || {
                    lease_work(&w, &local, &peer, &state_dir, marker, &deadline)
                }))
            }
            _ => None,
        };
        Observing { local, peer, lease }
    }

    /// Wait for both until the deadline; what has not answered by then is "no answer".
    fn wait(
        self,
        settings: &CheckSettings,
        deadline: &Deadline,
    ) -> (
        Result<Observation, ObserveError>,
        PeerObservation,
        Option<LeaseView>,
    ) {
        let local = self.local.wait(deadline.remaining()).unwrap_or_else(|| {
            Err(ObserveError {
                target: settings.connection.target(),
                stage: Stage::Connect,
                failure: Failure::deadline(settings.timeout),
            })
        });
        let peer = match self.peer {
            None => PeerObservation::NotAsked,
            Some(worker) => worker
                .wait(deadline.remaining().max(Duration::from_millis(1)))
                .unwrap_or_else(|| {
                    let address = settings
                        .peer
                        .as_ref()
                        .map(|p| p.target())
                        .unwrap_or_default();
                    PeerObservation::failed(address, Failure::deadline(settings.timeout))
                }),
        };
        let lease = self.lease.map(|worker| {
            worker
                .wait(deadline.remaining().max(Duration::from_millis(1)))
                .unwrap_or_else(|| unfinished(local.as_ref().ok(), settings.timeout))
        });
        (local, peer, lease)
    }
}

/// A lease round that did not finish within `--timeout`: on a node that was seen writable
/// (or not seen at all) the lease is not proven held, which fails it like a lost lease (it
/// could not fence itself: notify-backup does, once keepalived acts on the failed check); a
/// node seen fenced was not renewing.
pub(crate) fn unfinished(local: Option<&Observation>, timeout: Duration) -> LeaseView {
    let why = format!(
        "the lease round did not finish within --timeout {}",
        humantime::format_duration(timeout)
    );
    match local {
        Some(obs) if obs.read_only => LeaseView::none(None, 3, why),
        _ => LeaseView {
            action: "renew",
            fenced_itself: Some(false),
            ..LeaseView::none(None, 3, why)
        },
    }
}

/// Witness mode's work of one check run (docs/contract.md "Witness mode"), within
/// `deadline`, in parallel with the observations: read this server's server_id and
/// read_only; a writable node renews ([`Mode::Renew`]) and, when the renewal does not win a
/// majority, fences itself at once (bounded `SET GLOBAL read_only=ON`, read back); a fenced
/// node with the refusal marker peeks at the rows (no UPDATE); otherwise nothing. The
/// renewal may use 3/5 of what is left, so that the fence has the rest.
pub(crate) fn lease_work(
    w: &WitnessSettings,
    local_spec: &crate::io::mysql::ConnectionSpec,
    peer: &crate::io::mysql::ConnectionSpec,
    state_dir: &std::path::Path,
    marker: bool,
    deadline: &Deadline,
) -> LeaseView {
    use crate::plan::lease::{CheckAction, check_action};
    let mut local = match crate::io::lease::local(local_spec, deadline) {
        Ok(l) => l,
        Err(f) => return LeaseView::none(None, 3, format!("this server: {f}")),
    };
    let me = local.server_id;
    let lease = w.lease(me, local_spec, peer);
    match check_action(local.read_only, marker) {
        CheckAction::Nothing => {
            LeaseView::none(Some(me), 3, "read_only=ON and no refusal: nothing to renew")
        }
        CheckAction::Peek => peek_view(me, &crate::io::lease::peek(&lease, deadline)),
        CheckAction::Renew => {
            let share = Deadline::new(deadline.remaining() * 3 / 5);
            // A fresh ClockWatch compares nothing: a clock jump is seen within one round
            // only by the rounds of one process (notify-master's retries), not across
            // check runs (that needs a cross-run clock: docs/contract.md "Witness mode").
            let round = match crate::io::lease::round(
                &lease,
                Mode::Renew,
                &share,
                &mut ClockWatch::new(),
            ) {
                Ok(r) => r,
                Err(e) => {
                    return LeaseView {
                        config_error: Some(e.to_string()),
                        ..LeaseView::none(Some(me), 3, "no round")
                    };
                }
            };
            let mut view = renew_view(me, &round);
            if round.held() {
                // For notify-backup's release when this server is gone; not fatal.
                let _ = state::remember_lease_id(state_dir, me);
                return view;
            }
            match fence_itself(&mut local.conn, deadline) {
                Ok(()) => view.fenced_itself = Some(true),
                Err(why) => {
                    view.fenced_itself = Some(false);
                    view.note = Some(why);
                }
            }
            view
        }
    }
}

/// The view of a renewal round.
fn renew_view(me: u32, round: &Round) -> LeaseView {
    let t = &round.tally;
    LeaseView {
        action: "renew",
        me: Some(me),
        held: t.held,
        holder: t.held.then_some(me),
        votes: t.votes,
        voters: t.voters,
        expires_in_ms: t
            .per_voter
            .iter()
            .filter(|v| v.granted)
            .filter_map(|v| v.expires_in_ms)
            .min(),
        per_voter: t.per_voter.clone(),
        fenced_itself: None,
        note: None,
        config_error: round.config_error().map(|e| e.to_string()),
    }
}

/// The view of a peek: who holds a majority ([`crate::plan::lease::held_elsewhere`]).
fn peek_view(me: u32, rows: &[crate::io::lease::Peeked]) -> LeaseView {
    let guard: Vec<Option<GuardRow>> = rows.iter().map(|(_, r)| r.as_ref().ok().copied()).collect();
    let found = crate::plan::lease::held_elsewhere(me, &guard);
    let per_voter = rows
        .iter()
        .map(|(address, r)| match r {
            Ok(row) => VoterReport {
                address: address.clone(),
                server_id: Some(row.server_id),
                holder: Some(row.holder),
                granted: false,
                expires_in_ms: Some(row.expires_in_ms()),
                note: Some(format!("holder {} (read, not claimed)", row.holder)),
            },
            Err(e) => VoterReport {
                address: address.clone(),
                server_id: None,
                holder: None,
                granted: false,
                expires_in_ms: None,
                note: Some(format!("no answer: {e}")),
            },
        })
        .collect();
    LeaseView {
        action: "peek",
        me: Some(me),
        held: false,
        holder: found.map(|(h, _)| h),
        votes: found.map_or(0, |(_, n)| n),
        voters: rows.len(),
        expires_in_ms: found.and_then(|(h, _)| {
            guard
                .iter()
                .flatten()
                .filter(|r| r.holder == h && r.expires_us > r.now_us)
                .map(GuardRow::expires_in_ms)
                .min()
        }),
        per_voter,
        fenced_itself: None,
        note: None,
        config_error: None,
    }
}

/// `SET GLOBAL read_only=ON` on this server, each try's lock wait bounded
/// ([`crate::plan::fencing::set_wait`], notify-backup's bounded set), tried again while
/// `deadline` allows, then read back. Client sessions are not ended here: notify-backup
/// does that once keepalived acts on the failed check.
fn fence_itself(conn: &mut mysql::Conn, deadline: &Deadline) -> Result<(), String> {
    use crate::app::notify::{exec, sql, try_read_only_on};
    use crate::model::observation::Dialect;
    loop {
        let Some(wait) = crate::plan::fencing::set_wait(deadline.remaining()) else {
            return Err(format!(
                "SET GLOBAL read_only=ON did not get its lock within --timeout {}",
                humantime::format_duration(deadline.budget())
            ));
        };
        match try_read_only_on(conn, Dialect::MariaDb, wait) {
            Ok(true) => break,
            Ok(false) => continue,
            Err(e) => return Err(e.to_string()),
        }
    }
    let sets = exec(conn, sql::READ_ONLY).map_err(|e| e.to_string())?;
    match crate::io::mysql::first_value(&sets).as_deref() {
        Some(v) if crate::io::dialect::flag(Some(v)) => {}
        other => return Err(format!("read_only reads {other:?} after setting it")),
    }
    // Fenced: no longer a writer in the guard's row either, so that the two-node rule
    // never counts this node's old writer_since against a writer holding the lease. Best
    // effort: the node is fenced whatever this says.
    let _ = exec(conn, sql::CLEAR_WRITER_SINCE);
    Ok(())
}

/// The line (or JSON object), and with `-v` / `--explain` the evidence and next steps.
fn print(args: &CheckArgs, outcome: &Outcome) {
    let report = Report::new(
        &outcome.verdict,
        &outcome.role_source,
        outcome.observation.as_ref(),
        &outcome.peer,
        outcome.lease.as_ref(),
        outcome.elapsed_ms,
        &args.keepalived_args,
    );
    match args.report.format {
        Format::Json => println!("{}", report.json()),
        Format::Text => {
            println!("{}", report::line(&outcome.verdict));
            if args.verbose {
                for l in report::evidence(&report) {
                    println!("  {l}");
                }
            }
            if args.explain || args.verbose {
                for l in report::explain::lines(&outcome.verdict.findings) {
                    println!("  {l}");
                }
            }
        }
    }
}

/// Compare this run's reception with the one remembered in the state dir, and remember the
/// new mark (only when it changes: a steady state writes nothing). A state dir that cannot
/// hold it turns stall detection off, which is said (the second value), not hidden.
fn remember_reception(
    state_dir: &std::path::Path,
    now: Option<&Reception>,
) -> (Received, Option<String>) {
    let file = state_dir.join(state::RECEIVED_FILE);
    let text = match state::read(state_dir, state::RECEIVED_FILE) {
        Ok(text) => text,
        Err(e) => {
            return (
                Received::Unknown,
                Some(format!(
                    "cannot read {}: {e} (stalled replication goes unnoticed)",
                    file.display()
                )),
            );
        }
    };
    let previous = text.as_deref().and_then(Mark::parse);
    let Some(now_ms) = state::uptime_ms() else {
        return (Received::Unknown, None);
    };
    let boot = crate::io::state::boot_id();
    let (next, received) = reception::track(previous.as_ref(), now, now_ms, boot.as_deref());
    // Only a change is written (a steady state writes nothing); a file that does not parse
    // is replaced or removed.
    let next_text = next.as_ref().map(Mark::render);
    if next_text != text
        && let Err(e) = state::write_atomic(state_dir, state::RECEIVED_FILE, next_text.as_deref())
    {
        return (
            received,
            Some(format!(
                "cannot write {}: {e} (stalled replication goes unnoticed)",
                file.display()
            )),
        );
    }
    (received, None)
}
