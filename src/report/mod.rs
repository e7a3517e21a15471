//! Reporting: the one human line, `--format json`, `-v` evidence, and syslog (facility
//! daemon) on change of verdict. keepalived sends a script's stdout to /dev/null, so syslog
//! is the channel that reaches operators.

pub mod explain;

pub use crate::io::syslog::{Severity, SyslogTarget, syslog};

use std::path::Path;

use serde::Serialize;

use crate::io::state;
use crate::model::lease::LeaseView;
use crate::model::observation::{Observation, PeerObservation};
use crate::verdict::{Finding, Level, Status, Verdict};

/// Everything one run of check-mysql reports.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub status: Status,
    pub exit_code: i32,
    /// `ok`, or the failure class that decided the exit code.
    pub reason: &'static str,
    pub role: &'static str,
    pub role_source: &'a str,
    pub summary: &'a str,
    pub findings: &'a [Finding],
    pub observation: Option<&'a Observation>,
    pub peer: &'a PeerObservation,
    /// Witness mode: what this run did with the lease (absent without `--witness`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease: Option<&'a LeaseView>,
    pub elapsed_ms: u128,
    pub keepalived_args: &'a [String],
}

impl<'a> Report<'a> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        verdict: &'a Verdict,
        role_source: &'a str,
        observation: Option<&'a Observation>,
        peer: &'a PeerObservation,
        lease: Option<&'a LeaseView>,
        elapsed_ms: u128,
        keepalived_args: &'a [String],
    ) -> Report<'a> {
        let exit = verdict.exit();
        Report {
            status: verdict.status(),
            exit_code: exit.code(),
            reason: exit.name(),
            role: verdict.role.as_str(),
            role_source,
            summary: &verdict.summary,
            findings: &verdict.findings,
            observation,
            peer,
            lease,
            elapsed_ms,
            keepalived_args,
        }
    }

    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"status":"fail","exit_code":1,"reason":"down","error":"{e}"}}"#)
        })
    }
}

/// One run of notify-master, notify-backup or notify-down, for `--format json`: one object on
/// stdout per run, fields stable (README "JSON output of the notify helpers"). A usage error
/// (exit 64) prints no object, only its one line on stderr.
#[derive(Debug, Serialize)]
pub struct NotifyReport<'a> {
    /// What the run did: `writer`, `fenced`, `superseded`, `dry-run` (notify-master and
    /// notify-backup), `stopped`, `not-running` (notify-down), or `failed`.
    pub outcome: &'static str,
    /// The role in the state dir's role file after the run (`writer`, `standby`, `promoting`,
    /// `promotion-failed`); null when there is none, or none of this boot, or the binary keeps
    /// none (notify-down).
    pub role: Option<&'static str>,
    /// The server's `@@read_only` as this run last saw it; null when it did not see it (the
    /// server was not reached, or notify-down).
    pub read_only: Option<bool>,
    /// The role file's event stamp after the run (start time of the recording process in
    /// clock ticks since boot, shifted left 22 bits, plus its PID: it may exceed 2^53), or null
    /// with `role`.
    pub seq: Option<u64>,
    /// Time taken, in milliseconds.
    pub elapsed_ms: u128,
    /// The text line without its leading word(s) (`OK writer: `, `FAIL down: `, ...).
    pub message: &'a str,
    /// The process exit code.
    pub exit_code: i32,
    /// `ok`, or the failure class that decided the exit code (`down`, `lag`, `config`).
    pub reason: &'static str,
    /// keepalived's notify arguments, when given.
    pub keepalived_args: &'a [String],
}

impl NotifyReport<'_> {
    pub fn json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            format!(r#"{{"outcome":"failed","exit_code":1,"reason":"down","error":"{e}"}}"#)
        })
    }
}

/// `OK writer: io=Yes sql=Yes lag=0s gtid=0-10-42`, or
/// `FAIL standby replication: <problems> | <summary>`.
pub fn line(verdict: &Verdict) -> String {
    let status = verdict.status();
    let mut head = format!("{} {}", status.word(), verdict.role.as_str());
    if status == Status::Fail {
        head.push(' ');
        head.push_str(verdict.exit().name());
    }
    let problems: Vec<&str> = verdict.problems().map(|f| f.message.as_str()).collect();
    let text = match (problems.is_empty(), verdict.summary.is_empty()) {
        (true, _) => format!("{head}: {}", verdict.summary),
        (false, true) => format!("{head}: {}", problems.join("; ")),
        (false, false) => format!("{head}: {} | {}", problems.join("; "), verdict.summary),
    };
    one_line(&text)
}

/// Server messages can span lines (a multi-line statement in `Last_SQL_Error`); the verdict
/// is one line on stdout and one syslog message.
pub fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `-v` evidence, one fact a line, after the summary line.
pub fn evidence(report: &Report) -> Vec<String> {
    let mut out = vec![format!("role: {} ({})", report.role, report.role_source)];
    if let Some(o) = report.observation {
        observation_evidence(o, &mut out);
    }
    match report.peer {
        PeerObservation::NotAsked => {}
        PeerObservation::Unreachable { address, error } => {
            out.push(format!("peer {address}: unreachable: {error}"))
        }
        PeerObservation::Refused { address, error, .. } => {
            out.push(format!("peer {address}: up, refused the probe: {error}"))
        }
        PeerObservation::Reached {
            address,
            gtid,
            read_only,
            server_id,
            ..
        } => out.push(format!(
            "peer {address}: gtid={} read_only={} server_id={}",
            gtid.binlog_state
                .as_deref()
                .or(gtid.executed.as_deref())
                .unwrap_or(""),
            read_only.map_or("?", |on| if on { "ON" } else { "OFF" }),
            server_id.map_or("?".to_string(), |id| id.to_string())
        )),
    }
    if let Some(l) = report.lease {
        out.push(format!(
            "lease: {} held={} holder={} votes={}/{} expires_in_ms={}",
            l.action,
            l.held,
            l.holder.map_or("none".to_string(), |h| h.to_string()),
            l.votes,
            l.voters,
            l.expires_in_ms.map_or("?".to_string(), |ms| ms.to_string())
        ));
        for v in &l.per_voter {
            out.push(format!(
                "lease voter {}: {}",
                v.address,
                v.note.as_deref().unwrap_or("granted")
            ));
        }
    }
    for f in report.findings {
        out.push(format!("{:?}: {}", f.level, f.message).to_lowercase_first());
    }
    for l in &mut out {
        *l = one_line(l);
    }
    if !report.keepalived_args.is_empty() {
        out.push(format!("keepalived: {}", report.keepalived_args.join(" ")));
    }
    out.push(format!("elapsed: {} ms", report.elapsed_ms));
    out
}

/// The local server's part of the `-v` evidence.
fn observation_evidence(o: &Observation, out: &mut Vec<String>) {
    out.push(format!("server: {} ({})", o.version, o.dialect.as_str()));
    out.push(format!(
        "read_only: {}{}",
        if o.read_only { "ON" } else { "OFF" },
        o.super_read_only.map_or(String::new(), |s| format!(
            " super_read_only: {}",
            if s { "ON" } else { "OFF" }
        ))
    ));
    let g = &o.gtid;
    for (k, v) in [
        ("gtid_current_pos", &g.current_pos),
        ("gtid_slave_pos", &g.slave_pos),
        ("gtid_binlog_pos", &g.binlog_pos),
        ("gtid_binlog_state", &g.binlog_state),
        ("gtid_executed", &g.executed),
    ] {
        if let Some(v) = v {
            out.push(format!("{k}: {v}"));
        }
    }
    if let Some(s) = g.strict_mode {
        out.push(format!(
            "gtid_strict_mode: {}",
            if s { "ON" } else { "OFF" }
        ));
    }
    for r in &o.replicas {
        out.push(format!(
            "connection '{}': source={} io={} sql={} seconds_behind={} \
             io_errno={} sql_errno={} received_gtid={} sql_delay={}",
            r.name,
            r.source(),
            r.io_running.as_str(),
            if r.sql_running { "Yes" } else { "No" },
            r.seconds_behind.map_or("NULL".into(), |s| s.to_string()),
            r.last_io_errno,
            r.last_sql_errno,
            r.received_gtid.as_deref().unwrap_or(""),
            r.sql_delay.map_or("".into(), |s| s.to_string()),
        ));
        if !r.last_io_error.is_empty() {
            out.push(format!(
                "connection '{}': last IO error: {}",
                r.name, r.last_io_error
            ));
        }
        if !r.last_sql_error.is_empty() {
            out.push(format!(
                "connection '{}': last SQL error: {}",
                r.name, r.last_sql_error
            ));
        }
    }
}

trait LowerFirst {
    fn to_lowercase_first(self) -> String;
}

impl LowerFirst for String {
    fn to_lowercase_first(self) -> String {
        let mut c = self.chars();
        match c.next() {
            Some(f) => f.to_lowercase().chain(c).collect(),
            None => self,
        }
    }
}

/// What identifies "the same verdict" run after run: its structure (status, role, reason,
/// and the level and situation of each problem), never its wording, so a lag going from 130s
/// to 131s, a reworded message or a digit in a host name is not a change.
pub fn verdict_key(verdict: &Verdict) -> String {
    let mut key = format!(
        "{} {} {}",
        verdict.status().word(),
        verdict.role.as_str(),
        verdict.exit().name()
    );
    for f in verdict.problems() {
        let situation = serde_json::to_value(f.situation)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        key.push_str(&format!("\n{:?} {situation}", f.level));
    }
    key
}

/// Remember `key` as the last thing `binary` reported in `state_dir`; returns the previous
/// key, and whether the new one could be stored. With syslog off, nothing is remembered: a
/// quiet run (a person debugging) must not use up the change that keepalived's next run logs.
fn remember(
    binary: &str,
    target: &SyslogTarget,
    state_dir: &Path,
    key: &str,
) -> Option<(Option<String>, bool)> {
    if !target.enabled {
        return None;
    }
    let previous = state::read_last(state_dir, binary);
    if previous.as_deref() == Some(key) {
        return None;
    }
    let stored = state::write_last(state_dir, binary, key).is_ok();
    Some((previous, stored))
}

/// Log the verdict if it differs from the last one remembered in `state_dir`
/// (docs/contract.md "Syslog": a verdict that repeats every second is logged on change).
/// When the state dir cannot be used, problems are logged every run rather than lost.
pub fn log_on_change(binary: &str, target: &SyslogTarget, state_dir: &Path, verdict: &Verdict) {
    let key = verdict_key(verdict);
    let Some((previous, stored)) = remember(binary, target, state_dir, &key) else {
        return;
    };
    let text = line(verdict);
    let worst = verdict.findings.iter().map(|f| f.level).max();
    let was_ok = previous.as_deref().is_some_and(|p| p.starts_with("OK "));
    match worst {
        Some(Level::Fail | Level::Alert) => syslog(binary, target, Severity::Err, &text),
        Some(Level::Warn) => syslog(binary, target, Severity::Warning, &text),
        // Back to OK after a problem; OK after OK (a role change) is not news.
        _ if previous.is_some() && stored && !was_ok => syslog(
            binary,
            target,
            Severity::Info,
            &format!("recovered: {text}"),
        ),
        _ => {}
    }
}

/// Log a configuration error once per change, like a verdict (keepalived would otherwise
/// log the same error every second).
pub fn log_config_error_on_change(
    binary: &str,
    target: &SyslogTarget,
    state_dir: &Path,
    message: &str,
) {
    if remember(binary, target, state_dir, &format!("FAIL config {message}")).is_some() {
        syslog(binary, target, Severity::Err, message);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::role::Role;
    use crate::verdict::{Reason, Situation};

    fn verdict(level: Level, situation: Situation, message: &str) -> Verdict {
        Verdict {
            role: Role::Standby,
            findings: vec![Finding {
                level,
                kind: Some(Reason::Lag),
                situation,
                message: message.into(),
            }],
            summary: "io=Yes sql=Yes lag=131s gtid=0-1-42".into(),
        }
    }

    #[test]
    fn the_line_is_one_line() {
        let v = verdict(
            Level::Fail,
            Situation::SqlError,
            "SQL thread stopped with error 1054: Unknown column 'c' in 'ALTER TABLE t.nl\n ADD COLUMN c int'",
        );
        let l = line(&v);
        assert!(
            !l.contains('\n') && l.contains("'ALTER TABLE t.nl ADD COLUMN c int'"),
            "{l}"
        );
    }

    /// Wording and numbers do not make a new verdict; level and situation do.
    #[test]
    fn verdict_key_is_the_structure() {
        let a = verdict(Level::Fail, Situation::Lag, "lag 130s above --max-lag 120s");
        let b = verdict(
            Level::Fail,
            Situation::Lag,
            "lag 131s above --max-lag 120s (reworded)",
        );
        assert_eq!(verdict_key(&a), verdict_key(&b));
        let host = |h: &str| {
            verdict(
                Level::Fail,
                Situation::Lag,
                &format!("replication from {h}"),
            )
        };
        assert_eq!(
            verdict_key(&host("db1:3306")),
            verdict_key(&host("db2:3306"))
        );
        let stalled = verdict(
            Level::Fail,
            Situation::Stalled,
            "lag 130s above --max-lag 120s",
        );
        assert_ne!(verdict_key(&a), verdict_key(&stalled));
        let warn = verdict(Level::Warn, Situation::Lag, "lag 130s above --max-lag 120s");
        assert_ne!(verdict_key(&a), verdict_key(&warn));
        assert_eq!(
            verdict_key(&a),
            "FAIL standby lag\nFail lag",
            "the key is stable text: it is stored in <binary>.last"
        );
    }
}
