//! `check-mysql`: observe within the deadline, judge, report, exit.

use std::process::ExitCode;
use std::time::Duration;

use crate::cli::{CheckArgs, Format};
use crate::config::{self, CheckSettings};
use crate::deadline::{Deadline, Worker};
use crate::exit::Exit;
use crate::observe::{self, PeerObservation};
use crate::report::{self, Report, SyslogTarget};
use crate::role;
use crate::verdict::{self, Policy, Verdict};

pub const BINARY: &str = "check-mysql";

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let args: CheckArgs = crate::cli::parse_or_exit(BINARY);
    let syslog = SyslogTarget::from(&args.report);
    match run(&args, &syslog) {
        Ok(exit) => exit.into(),
        Err(e) => {
            let msg = format!("FAIL config: {e}");
            println!("{msg}");
            // The state dir may itself come from the bad file: use the flag's or the default.
            let state_dir = args
                .server
                .state_dir
                .clone()
                .unwrap_or_else(|| crate::role::DEFAULT_STATE_DIR.into());
            report::log_config_error_on_change(BINARY, &syslog, &state_dir, &msg);
            Exit::Config.into()
        }
    }
}

/// Resolve settings, observe, judge, report. Returns the exit code of the verdict; `Err` is a
/// configuration error (exit 78).
pub fn run(args: &CheckArgs, syslog: &SyslogTarget) -> Result<Exit, config::ConfigError> {
    let settings: CheckSettings = config::check_settings(args, std::env::var("MYSQL_PWD").ok())?;
    let deadline = Deadline::new(settings.timeout);
    // Observed on worker threads, so that the deadline bounds everything (DNS included) even
    // when a server accepts and never answers; local and peer at once.
    let local = {
        let spec = settings.connection.clone();
        Worker::start(move || {
            let target = spec.target();
            spec.connect(&deadline)
                .and_then(|mut conn| observe::observe(&mut conn, &target))
        })
    };
    let peer = settings
        .peer
        .clone()
        .map(|spec| Worker::start(move || observe::observe_peer(&spec, &deadline)));

    let role = role::resolve(settings.role, &settings.state_dir, settings.vip)
        .map_err(config::ConfigError::Invalid)?;

    let local = match local.wait(deadline.remaining()) {
        Some(r) => r.map_err(|e| e.to_string()),
        None => Err(format!(
            "no answer from {} within --timeout {} (server hung or unreachable)",
            settings.connection.target(),
            humantime::format_duration(settings.timeout)
        )),
    };
    let peer = match peer {
        None => PeerObservation::NotAsked,
        Some(worker) => worker
            .wait(deadline.remaining().max(Duration::from_millis(1)))
            .unwrap_or_else(|| PeerObservation::Unreachable {
                address: settings
                    .peer
                    .as_ref()
                    .map(|p| p.target())
                    .unwrap_or_default(),
                error: "no answer within --timeout".into(),
            }),
    };

    let policy = Policy {
        max_lag: settings.max_lag,
        allow_no_replica: settings.allow_no_replica,
        allow_read_only: settings.allow_read_only,
    };
    let verdict = match &local {
        Ok(obs) => verdict::verdict(obs, &peer, role.role, &policy),
        Err(msg) => Verdict::down(role.role, msg.clone()),
    };
    let report = Report::new(
        &verdict,
        &role.source,
        local.as_ref().ok(),
        &peer,
        deadline.elapsed().as_millis(),
        &args.keepalived_args,
    );
    match args.report.format {
        Format::Json => println!("{}", report.json()),
        Format::Text => {
            println!("{}", report::line(&verdict));
            if args.verbose {
                for l in report::evidence(&report) {
                    println!("  {l}");
                }
            }
            if args.explain || args.verbose {
                for l in crate::explain::lines(&verdict.findings) {
                    println!("  {l}");
                }
            }
        }
    }
    report::log_on_change(BINARY, syslog, &settings.state_dir, &verdict);
    Ok(verdict.exit())
}
