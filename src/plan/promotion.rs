//! notify-master's decisions (docs/contract.md "notify-master"), pure: how long a promotion
//! may take, which received positions to wait for, and what to do once the wait is over.
//!
//! The rule after the wait is [`decide`]: [`Facts`] (what the run found) and [`Policy`] (what
//! the flags say) in, a [`Decision`] out. Its table test has one row per combination; a new
//! input is a new field of [`Facts`] or [`Policy`] and a new column of that table.

use std::time::Duration;

use crate::cli::OnCatchupTimeout;
use crate::model::gtid;
use crate::model::observation::{Dialect, ReplicaStatus};
use crate::model::role::{Role, RoleRecord};

/// How the catch-up wait ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
    /// Every received transaction was applied.
    CaughtUp,
    /// `--catchup-timeout` passed first.
    TimedOut,
    /// A newer transition was recorded, seen between wait slices or under the lock before
    /// unfencing (docs/contract.md "Notify hooks run concurrently", rule 4).
    Superseded(RoleRecord),
}

/// What the run found before deciding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    pub wait: Wait,
}

/// What the flags say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `--on-catchup-timeout`.
    pub on_catchup_timeout: OnCatchupTimeout,
    /// `--keep-read-only`: record writer, leave `read_only` as it is.
    pub keep_read_only: bool,
    /// `--dry-run`: change neither `read_only` nor the role file.
    pub dry_run: bool,
}

/// Why a promotion is given up with the node left read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GiveUp {
    /// The wait ran out under `--on-catchup-timeout fail` (exit 3).
    CatchupTimedOut,
}

/// What notify-master does once the wait is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Change nothing, leave the role file to the newer transition: `OK superseded` (exit 0).
    Superseded(RoleRecord),
    /// Leave the node read-only and fail; record `record` first (`None`: a dry run records
    /// nothing).
    StayFenced {
        because: GiveUp,
        record: Option<Role>,
    },
    /// Take writes: `SET GLOBAL read_only=OFF` when `set_writable`, then record `record`.
    /// `caught_up` is false only under `--on-catchup-timeout promote`: logged as an error.
    Unfence {
        set_writable: bool,
        record: Role,
        caught_up: bool,
    },
    /// `--dry-run`: say what [`Decision::Unfence`] would do, change nothing. `caught_up` as
    /// there.
    Report { set_writable: bool, caught_up: bool },
}

/// The rule after the wait (docs/contract.md "notify-master", steps 4 and 5,
/// `--on-catchup-timeout`, `--keep-read-only`, `--dry-run`).
pub fn decide(facts: Facts, policy: &Policy) -> Decision {
    let caught_up = match facts.wait {
        Wait::Superseded(newer) => return Decision::Superseded(newer),
        Wait::CaughtUp => true,
        Wait::TimedOut => false,
    };
    if !caught_up && policy.on_catchup_timeout == OnCatchupTimeout::Fail {
        return Decision::StayFenced {
            because: GiveUp::CatchupTimedOut,
            record: (!policy.dry_run).then_some(Role::PromotionFailed),
        };
    }
    let set_writable = !policy.keep_read_only;
    if policy.dry_run {
        Decision::Report {
            set_writable,
            caught_up,
        }
    } else {
        Decision::Unfence {
            set_writable,
            record: Role::Writer,
            caught_up,
        }
    }
}

/// How long a promotion may take in all: lock, connect, wait, lock again, unfence, each
/// bounded by `timeout`; the wait by `catchup_timeout`. The total is their sum. With the
/// split-brain guard (`guarded`: `--peer`), two more steps: connecting to the peer, and the
/// probes and the guard's row; the claim waits within `catchup_timeout`.
pub fn promotion_limit(timeout: Duration, catchup_timeout: Duration, guarded: bool) -> Duration {
    timeout * if guarded { 6 } else { 4 } + catchup_timeout
}

/// The Unix time recorded with `promoting`: past it, a promotion still recorded counts as
/// failed (check-mysql), so a killed or stuck notify-master does not leave the node passed.
pub fn promoting_until(now: u64, limit: Duration) -> u64 {
    now + limit.as_secs() + 2
}

/// A position is interpolated into SQL: accept only what GTIDs are made of.
pub fn validated_position(dialect: Dialect, pos: &str) -> Option<String> {
    let ok = match dialect {
        Dialect::MariaDb => gtid::parse_mariadb(pos).is_ok(),
        Dialect::MySql => gtid::parse_mysql(pos).is_ok(),
    };
    (ok && pos
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ",:-_ \n".contains(c)))
    .then(|| pos.replace('\n', ""))
}

/// A replication connection's received position that is not a GTID list: it cannot be
/// interpolated into the wait statement.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("connection '{connection}': received position '{position}' is not a GTID list")]
pub struct NotGtid {
    /// The connection's name (`''` for the default one).
    pub connection: String,
    /// The position as the server reported it (trimmed).
    pub position: String,
}

/// The received positions to wait for, one per replication connection that has received
/// something; an error names a connection whose position is not a GTID list.
pub fn positions(dialect: Dialect, replicas: &[ReplicaStatus]) -> Result<Vec<String>, NotGtid> {
    let mut positions = Vec::new();
    for r in replicas {
        match r.received_gtid.as_deref().map(str::trim) {
            None | Some("") => {}
            Some(p) => match validated_position(dialect, p) {
                Some(v) => positions.push(v),
                None => {
                    return Err(NotGtid {
                        connection: r.name.clone(),
                        position: p.to_string(),
                    });
                }
            },
        }
    }
    Ok(positions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use OnCatchupTimeout::{Fail, Promote};

    fn newer() -> RoleRecord {
        RoleRecord {
            role: Role::Standby,
            seq: 42,
            until: None,
            boot: Some("b".into()),
        }
    }

    /// The wait's outcomes, by name, so that a row reads as a line.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum W {
        CaughtUp,
        TimedOut,
        Superseded,
    }

    impl W {
        fn wait(self) -> Wait {
            match self {
                W::CaughtUp => Wait::CaughtUp,
                W::TimedOut => Wait::TimedOut,
                W::Superseded => Wait::Superseded(newer()),
            }
        }
    }

    const KEEP: bool = true;
    const SET: bool = false;
    const DRY: bool = true;
    const REAL: bool = false;

    fn superseded() -> Decision {
        Decision::Superseded(newer())
    }
    fn stay_fenced(record: Option<Role>) -> Decision {
        Decision::StayFenced {
            because: GiveUp::CatchupTimedOut,
            record,
        }
    }
    fn unfence(set_writable: bool, caught_up: bool) -> Decision {
        Decision::Unfence {
            set_writable,
            record: Role::Writer,
            caught_up,
        }
    }
    fn report(set_writable: bool, caught_up: bool) -> Decision {
        Decision::Report {
            set_writable,
            caught_up,
        }
    }

    /// One row per combination: wait, --on-catchup-timeout, --keep-read-only, --dry-run,
    /// and the decision.
    fn table() -> Vec<(W, OnCatchupTimeout, bool, bool, Decision)> {
        vec![
            // Caught up: the policy does not matter; --keep-read-only leaves read_only alone.
            (W::CaughtUp, Fail, SET, REAL, unfence(true, true)),
            (W::CaughtUp, Fail, KEEP, REAL, unfence(false, true)),
            (W::CaughtUp, Promote, SET, REAL, unfence(true, true)),
            (W::CaughtUp, Promote, KEEP, REAL, unfence(false, true)),
            (W::CaughtUp, Fail, SET, DRY, report(true, true)),
            (W::CaughtUp, Fail, KEEP, DRY, report(false, true)),
            (W::CaughtUp, Promote, SET, DRY, report(true, true)),
            (W::CaughtUp, Promote, KEEP, DRY, report(false, true)),
            // Timed out, `fail`: stay read-only and record the failure (not in a dry run),
            // whatever --keep-read-only says.
            (
                W::TimedOut,
                Fail,
                SET,
                REAL,
                stay_fenced(Some(Role::PromotionFailed)),
            ),
            (
                W::TimedOut,
                Fail,
                KEEP,
                REAL,
                stay_fenced(Some(Role::PromotionFailed)),
            ),
            (W::TimedOut, Fail, SET, DRY, stay_fenced(None)),
            (W::TimedOut, Fail, KEEP, DRY, stay_fenced(None)),
            // Timed out, `promote`: unfence anyway, NOT caught up (logged as an error).
            (W::TimedOut, Promote, SET, REAL, unfence(true, false)),
            (W::TimedOut, Promote, KEEP, REAL, unfence(false, false)),
            (W::TimedOut, Promote, SET, DRY, report(true, false)),
            (W::TimedOut, Promote, KEEP, DRY, report(false, false)),
            // Superseded: nothing, whatever the flags.
            (W::Superseded, Fail, SET, REAL, superseded()),
            (W::Superseded, Fail, KEEP, REAL, superseded()),
            (W::Superseded, Promote, SET, REAL, superseded()),
            (W::Superseded, Promote, KEEP, REAL, superseded()),
            (W::Superseded, Fail, SET, DRY, superseded()),
            (W::Superseded, Fail, KEEP, DRY, superseded()),
            (W::Superseded, Promote, SET, DRY, superseded()),
            (W::Superseded, Promote, KEEP, DRY, superseded()),
        ]
    }

    #[test]
    fn every_row_of_the_decision_after_the_wait() {
        for (wait, on_catchup_timeout, keep_read_only, dry_run, expected) in table() {
            let policy = Policy {
                on_catchup_timeout,
                keep_read_only,
                dry_run,
            };
            let facts = Facts { wait: wait.wait() };
            assert_eq!(
                decide(facts, &policy),
                expected,
                "{wait:?} --on-catchup-timeout {on_catchup_timeout:?} keep_read_only \
                 {keep_read_only} dry_run {dry_run}"
            );
        }
    }

    /// Every combination of the inputs has exactly one row.
    #[test]
    fn the_table_has_every_combination_once() {
        let rows: Vec<_> = table()
            .into_iter()
            .map(|(w, on, keep, dry, _)| (w, on, keep, dry))
            .collect();
        let mut all = Vec::new();
        for w in [W::CaughtUp, W::TimedOut, W::Superseded] {
            for on in [Fail, Promote] {
                for keep in [false, true] {
                    for dry in [false, true] {
                        all.push((w, on, keep, dry));
                    }
                }
            }
        }
        for combination in &all {
            let n = rows.iter().filter(|r| *r == combination).count();
            assert_eq!(n, 1, "{combination:?} has {n} rows");
        }
        assert_eq!(rows.len(), all.len());
    }

    /// A dry run never writes: no decision it gets records a role or sets read_only.
    #[test]
    fn a_dry_run_changes_nothing() {
        for (_, _, _, dry_run, decision) in table() {
            if dry_run {
                assert!(
                    matches!(
                        decision,
                        Decision::Superseded(_)
                            | Decision::Report { .. }
                            | Decision::StayFenced { record: None, .. }
                    ),
                    "{decision:?}"
                );
            }
        }
    }

    #[test]
    fn the_limit_bounds_every_step() {
        let limit = promotion_limit(Duration::from_millis(800), Duration::from_secs(30), false);
        assert_eq!(limit, Duration::from_millis(33_200));
        let guarded = promotion_limit(Duration::from_millis(800), Duration::from_secs(30), true);
        assert_eq!(guarded, Duration::from_millis(34_800));
        assert_eq!(promoting_until(1_000, limit), 1_035);
    }

    #[test]
    fn positions_are_validated_before_interpolation() {
        assert_eq!(
            validated_position(Dialect::MariaDb, "0-1-5,1-2-7").as_deref(),
            Some("0-1-5,1-2-7")
        );
        assert_eq!(
            validated_position(Dialect::MariaDb, "0-1-5'; DROP TABLE x; --"),
            None
        );
        let u =
            "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5,\n4a2bd3b0-71ca-11e1-9e33-c80aa9429562:1-3";
        assert!(validated_position(Dialect::MySql, u).is_some());
    }

    #[test]
    fn positions_of_every_connection_that_received_something() {
        let replica = |name: &str, received: Option<&str>| ReplicaStatus {
            name: name.into(),
            source_host: String::new(),
            source_port: None,
            io_running: crate::model::observation::IoState::Yes,
            sql_running: true,
            seconds_behind: None,
            last_io_errno: 0,
            last_io_error: String::new(),
            last_sql_errno: 0,
            last_sql_error: String::new(),
            received_gtid: received.map(str::to_string),
            sql_delay: None,
        };
        let replicas = [
            replica("", Some("0-1-5")),
            replica("idle", None),
            replica("empty", Some(" ")),
            replica("b", Some("1-2-7")),
        ];
        assert_eq!(
            positions(Dialect::MariaDb, &replicas),
            Ok(vec!["0-1-5".to_string(), "1-2-7".to_string()])
        );
        let bad = [replica("x", Some("0-1-5'; --"))];
        assert_eq!(
            positions(Dialect::MariaDb, &bad).map_err(|e| e.to_string()),
            Err("connection 'x': received position '0-1-5'; --' is not a GTID list".into())
        );
    }
}
