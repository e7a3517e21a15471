//! `check-mysql`: observe within the deadline, judge, report, exit.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{CheckArgs, Format};
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::io::config::{self, CheckSettings, ConfigError};
use crate::io::state;
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
    let observing = Observing::start(&settings, deadline);
    let role = crate::io::role::resolve(settings.role, &settings.state_dir, settings.vip)?;
    let (local, peer) = observing.wait(&settings, &deadline);

    let policy = Policy {
        max_lag: settings.max_lag,
        allow_no_replica: settings.allow_no_replica,
        allow_read_only: settings.allow_read_only,
    };
    let (received, memory_problem) = if settings.peer.is_some() {
        let now = local
            .as_ref()
            .ok()
            .and_then(|obs| reception::reception(obs, &peer));
        remember_reception(&settings.state_dir, now.as_ref())
    } else {
        (Received::Unknown, None)
    };
    let refused = remembered_refusal(&settings.state_dir, &peer);
    let mut verdict = match &local {
        Ok(obs) => verdict::verdict(obs, &peer, role.role, &policy, received, refused),
        Err(e) => Verdict::unobserved(role.role, e, settings.connection.user.as_deref()),
    };
    if let Some(problem) = memory_problem {
        verdict.findings.push(Finding {
            level: Level::Warn,
            kind: None,
            situation: Situation::PeerPosition,
            message: problem,
        });
    }
    Ok(Outcome {
        verdict,
        role_source: role.source,
        observation: local.ok(),
        peer,
        elapsed_ms: deadline.elapsed().as_millis(),
        state_dir: settings.state_dir,
    })
}

/// `--is-writer`: `Ok(Ok(_))` when the role is writer and the server is writable,
/// `Ok(Err(why))` when not (also when the server does not answer within `--timeout`), `Err`
/// for a configuration error. Reads nothing but the role and `@@read_only`; writes nothing.
fn is_writer(args: &CheckArgs) -> Result<Result<String, String>, ConfigError> {
    let settings = config::check_settings(args, std::env::var("MYSQL_PWD").ok())?;
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

/// Whether notify-master's refusal (the peer was writable) still holds: the marker is
/// forgotten once the peer is seen fenced or unreachable, so that the node can take over
/// again (docs/contract.md "Split brain").
fn remembered_refusal(state_dir: &std::path::Path, peer: &PeerObservation) -> bool {
    if !state::refusal_present(state_dir) {
        return false;
    }
    let peer_writable = matches!(
        peer,
        PeerObservation::Reached {
            read_only: Some(false),
            ..
        }
    );
    let peer_not_writable = matches!(
        peer,
        PeerObservation::Unreachable { .. }
            | PeerObservation::Reached {
                read_only: Some(true),
                ..
            }
    );
    if peer_not_writable && state::set_refusal(state_dir, None).is_ok() {
        return false;
    }
    peer_writable
}

/// The local and peer observations, running on worker threads so that the deadline bounds
/// everything (DNS included) even when a server accepts and never answers.
struct Observing {
    local: Worker<Result<Observation, ObserveError>>,
    peer: Option<Worker<PeerObservation>>,
}

impl Observing {
    fn start(settings: &CheckSettings, deadline: Deadline) -> Observing {
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
        Observing { local, peer }
    }

    /// Wait for both until the deadline; what has not answered by then is "no answer".
    fn wait(
        self,
        settings: &CheckSettings,
        deadline: &Deadline,
    ) -> (Result<Observation, ObserveError>, PeerObservation) {
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
        (local, peer)
    }
}

/// The line (or JSON object), and with `-v` / `--explain` the evidence and next steps.
fn print(args: &CheckArgs, outcome: &Outcome) {
    let report = Report::new(
        &outcome.verdict,
        &outcome.role_source,
        outcome.observation.as_ref(),
        &outcome.peer,
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
