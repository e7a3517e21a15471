//! notify-backup's decisions (docs/contract.md "notify-backup", and "Notify hooks run
//! concurrently", rule 5), pure: which client sessions are ended when fencing
//! ([`sessions_to_end`]), how long `SET GLOBAL read_only=ON` may wait for its lock
//! ([`set_wait`]), whether a fence that did not happen is retried in the background,
//! and when the background retry stops.
//!
//! keepalived runs notify-backup once per transition: a server that could not be reached
//! must still be fenced when it comes back, so that attempt is retried. A server that refuses
//! the account, or a state dir that cannot be used, will not get better by trying again.

use std::time::Duration;

/// How one attempt to fence ended, as far as retrying goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Fenced, superseded by a newer transition, or a dry run: nothing left to do.
    Done,
    /// The server did not answer, hung, was at its connection limit, a query failed, or the
    /// lock stayed busy: it may work later.
    CannotReach,
    /// A configuration error: the option file, the state dir, the account refused or a
    /// privilege missing. Someone must fix it.
    MustBeFixed,
}

/// What the flags say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// `--dry-run`: starts nothing.
    pub dry_run: bool,
    /// `--no-retry`.
    pub no_retry: bool,
}

/// After notify-backup's own attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterAttempt {
    /// Report the attempt; nothing more.
    Finish,
    /// Start the detached background retry, then report the attempt and that it started.
    StartRetry,
}

/// Whether notify-backup's own attempt is retried in the background.
pub fn after_attempt(attempt: Attempt, policy: &RetryPolicy) -> AfterAttempt {
    match attempt {
        Attempt::CannotReach if !policy.dry_run && !policy.no_retry => AfterAttempt::StartRetry,
        _ => AfterAttempt::Finish,
    }
}

/// The background retry's next step, after its last attempt (at first, the attempt of the
/// process that started it, which could not reach the server).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Wait a second, try again.
    TryAgain,
    /// The last attempt is the end: report it.
    Stop,
    /// `--retry-for` passed without reaching the server: report that it gave up.
    GiveUp,
}

/// `expired`: the retry's `--retry-for` has passed.
pub fn next(last: Attempt, expired: bool) -> Next {
    match (last, expired) {
        (Attempt::CannotReach, false) => Next::TryAgain,
        (Attempt::CannotReach, true) => Next::GiveUp,
        (Attempt::Done | Attempt::MustBeFixed, _) => Next::Stop,
    }
}

/// One row of `SELECT ID, USER, COMMAND, STATE FROM information_schema.PROCESSLIST`
/// (NULL read as empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: u64,
    pub user: String,
    pub command: String,
    pub state: String,
}

/// Whether `t` is the server's own: a replication thread (`system user`, `Slave_IO`,
/// `Slave_SQL`, `Slave_worker`, ...), a peer replicating from this server (`Binlog Dump`,
/// `Binlog Dump GTID`: it only reads the binary log), or a daemon (the event scheduler,
/// InnoDB's purge threads: `Daemon`).
fn is_server_thread(t: &Thread) -> bool {
    t.user == "system user"
        || t.user == "event_scheduler"
        || t.command == "Daemon"
        || t.command.starts_with("Slave_")
        || t.command.starts_with("Binlog Dump")
}

/// Whether `t` runs a statement that waits for a lock before it opened its tables
/// (`Waiting for table metadata lock`, `Waiting for backup lock`, `Waiting for table level
/// lock`, ...): only statements that change something wait there, and they passed the
/// `read_only` check when they started (seen on MariaDB 10.11: an INSERT queued behind a
/// pending `SET GLOBAL read_only=ON` shows `Waiting for backup lock`). It has no InnoDB
/// transaction yet.
fn waits_for_a_lock(t: &Thread) -> bool {
    t.command != "Sleep" && t.state.starts_with("Waiting for") && t.state.ends_with("lock")
}

/// The client sessions that could still commit a write, which notify-backup ends
/// (`KILL CONNECTION`) when `SET GLOBAL read_only=ON` cannot get its lock, and again once
/// it is set. `read_only` refuses a statement only when it starts: a write statement
/// already running, or a transaction already open, may still commit. Those are:
/// - the sessions with an InnoDB transaction that is not read-only (`writers`:
///   `INNODB_TRX.trx_mysql_thread_id` where `trx_is_read_only = 0`): a DML statement running
///   or waiting on a row lock (`LOCK WAIT`), or an explicit transaction between statements.
///   An autocommit SELECT is a read-only transaction there (MariaDB 10.11): a report or
///   check-mysql's query is left alone;
/// - the sessions whose statement waits for a lock before it opened its tables
///   ([`waits_for_a_lock`]).
///
/// Never the server's own threads ([`is_server_thread`]), nor `own_id` (`CONNECTION_ID()`),
/// nor another session of `own_user`, the helpers' account: notify-master waiting in
/// `MASTER_GTID_WAIT` runs a statement, yet it unfences only after it finds, under the lock,
/// that no newer transition was recorded (it reports `superseded`).
/// Idle sessions without a transaction stay: read_only refuses their next write.
///
/// The sessions running a statement come first: ending first an idle session whose
/// transaction holds the lock a statement waits for would let that statement commit before
/// its own `KILL`.
pub fn sessions_to_end(
    threads: &[Thread],
    writers: &[u64],
    own_id: u64,
    own_user: &str,
) -> Vec<u64> {
    let could_commit = |t: &&Thread| {
        t.id != own_id
            && t.user != own_user
            && !is_server_thread(t)
            && (writers.contains(&t.id) || waits_for_a_lock(t))
    };
    let (idle, running): (Vec<&Thread>, Vec<&Thread>) = threads
        .iter()
        .filter(could_commit)
        .partition(|t| t.command == "Sleep");
    running.iter().chain(&idle).map(|t| t.id).collect()
}

/// Least wait worth asking the server for, in [`set_wait`].
pub const MIN_SET_WAIT: Duration = Duration::from_millis(20);

/// What notify-backup keeps of `--timeout` for what follows a `SET GLOBAL read_only=ON` that
/// could not get its lock: listing and ending the sessions, the next try, reading
/// `read_only` back and ending the sessions again.
pub const AFTER_SET_RESERVE: Duration = Duration::from_millis(100);

/// How long the next `SET GLOBAL read_only=ON` may wait for its lock (the server's backup
/// lock on MariaDB 10.11, which every running write statement holds), given `remaining` of
/// notify-backup's `--timeout`; `None`: no time left to try, the fence is not confirmed.
///
/// Half of what is left after [`AFTER_SET_RESERVE`], at least [`MIN_SET_WAIT`]: the first try
/// lets short write statements finish by themselves (while the SET waits, new ones queue
/// behind it); each next try, after the sessions that still blocked it were ended, gets half
/// of the rest. A bounded wait also means that no `SET` outlives notify-backup on the server
/// (an unbounded one, left waiting by a notify-backup that gave up, would set read_only=ON
/// later, perhaps after a notify-master set it OFF).
pub fn set_wait(remaining: Duration) -> Option<Duration> {
    let usable = remaining.checked_sub(AFTER_SET_RESERVE)?;
    if usable < MIN_SET_WAIT {
        return None;
    }
    Some((usable / 2).max(MIN_SET_WAIT))
}

#[cfg(test)]
mod tests {
    use super::*;
    use AfterAttempt::{Finish, StartRetry};
    use Attempt::{CannotReach, Done, MustBeFixed};

    const DRY: bool = true;
    const REAL: bool = false;
    const NO_RETRY: bool = true;
    const RETRY: bool = false;

    /// One row per combination: attempt, --dry-run, --no-retry, and the decision.
    const AFTER_ATTEMPT: &[(Attempt, bool, bool, AfterAttempt)] = &[
        (Done, REAL, RETRY, Finish),
        (Done, REAL, NO_RETRY, Finish),
        (Done, DRY, RETRY, Finish),
        (Done, DRY, NO_RETRY, Finish),
        // Only a server that could not be reached is retried, and never in a dry run.
        (CannotReach, REAL, RETRY, StartRetry),
        (CannotReach, REAL, NO_RETRY, Finish),
        (CannotReach, DRY, RETRY, Finish),
        (CannotReach, DRY, NO_RETRY, Finish),
        (MustBeFixed, REAL, RETRY, Finish),
        (MustBeFixed, REAL, NO_RETRY, Finish),
        (MustBeFixed, DRY, RETRY, Finish),
        (MustBeFixed, DRY, NO_RETRY, Finish),
    ];

    #[test]
    fn every_row_of_the_decision_to_retry() {
        for &(attempt, dry_run, no_retry, expected) in AFTER_ATTEMPT {
            let policy = RetryPolicy { dry_run, no_retry };
            assert_eq!(
                after_attempt(attempt, &policy),
                expected,
                "{attempt:?} dry_run {dry_run} no_retry {no_retry}"
            );
        }
        let mut all = Vec::new();
        for a in [Done, CannotReach, MustBeFixed] {
            for dry in [false, true] {
                for no in [false, true] {
                    all.push((a, dry, no));
                }
            }
        }
        for c in &all {
            let n = AFTER_ATTEMPT
                .iter()
                .filter(|(a, d, r, _)| (*a, *d, *r) == *c)
                .count();
            assert_eq!(n, 1, "{c:?} has {n} rows");
        }
        assert_eq!(AFTER_ATTEMPT.len(), all.len());
    }

    /// last attempt, --retry-for passed, the next step.
    const NEXT: &[(Attempt, bool, Next)] = &[
        (Done, false, Next::Stop),
        (Done, true, Next::Stop),
        (CannotReach, false, Next::TryAgain),
        (CannotReach, true, Next::GiveUp),
        // Retrying cannot fix a configuration: stop at once, time left or not.
        (MustBeFixed, false, Next::Stop),
        (MustBeFixed, true, Next::Stop),
    ];

    #[test]
    fn every_row_of_the_background_retry() {
        for &(last, expired, expected) in NEXT {
            assert_eq!(next(last, expired), expected, "{last:?} expired {expired}");
        }
        assert_eq!(NEXT.len(), 6);
    }

    /// Rows shaped as MariaDB 10.11.19 returns them for `SELECT ID, USER, COMMAND, STATE FROM
    /// information_schema.PROCESSLIST` on a node of the pair (each seen on a real server), with
    /// whether the thread has an InnoDB transaction that is not read-only
    /// (`INNODB_TRX.trx_is_read_only = 0`), notify-backup's own id: which ones are ended, and
    /// why.
    #[test]
    fn which_sessions_are_ended() {
        let own = 40;
        // (ID, USER, COMMAND, STATE, read-write InnoDB transaction, ended)
        let rows: &[(u64, &str, &str, &str, bool, bool)] = &[
            // Replication from the peer: the IO and SQL threads (and parallel workers).
            (
                5,
                "system user",
                "Slave_IO",
                "Waiting for master to send event",
                false,
                false,
            ),
            (
                6,
                "system user",
                "Slave_SQL",
                "Waiting for table metadata lock",
                true,
                false,
            ),
            (7, "system user", "Slave_worker", "", false, false),
            // The peer replicating from us.
            (
                8,
                "repl",
                "Binlog Dump",
                "Master has sent all binlog to slave",
                false,
                false,
            ),
            (9, "repl", "Binlog Dump GTID", "", false, false),
            (
                2,
                "event_scheduler",
                "Daemon",
                "Waiting on empty queue",
                false,
                false,
            ),
            (
                3,
                "system user",
                "Daemon",
                "InnoDB purge worker",
                false,
                false,
            ),
            // An application pool's idle connection: read_only refuses its next write.
            (20, "app", "Sleep", "", false, false),
            // A connection between statements of an open write transaction: COMMIT would
            // commit where read_only does not refuse it (MySQL, an account with READ_ONLY
            // ADMIN), and its row locks hold up other writers.
            (21, "app", "Sleep", "", true, true),
            // An autocommit INSERT waiting on a row lock (INNODB_TRX: LOCK WAIT): it passed
            // the read_only check, and SET GLOBAL read_only=ON waits for it.
            (22, "app", "Query", "Update", true, true),
            // An INSERT queued behind a pending SET GLOBAL read_only=ON, or waiting for a
            // table's metadata lock: no InnoDB transaction yet.
            (23, "app", "Query", "Waiting for backup lock", false, true),
            (
                24,
                "app",
                "Query",
                "Waiting for table metadata lock",
                false,
                true,
            ),
            // A connection being killed already, a prepared statement writing.
            (25, "app", "Killed", "", true, true),
            (26, "app", "Execute", "Sending data", true, true),
            // A report running an autocommit SELECT (a read-only InnoDB transaction), and
            // check-mysql's query (no transaction): left alone.
            (27, "app", "Query", "User sleep", false, false),
            (
                28,
                "keepalived_check",
                "Query",
                "Filling schema table",
                false,
                false,
            ),
            // notify-backup itself, and notify-master waiting for catch-up (same account).
            (
                own,
                "failover",
                "Query",
                "Filling schema table",
                false,
                false,
            ),
            (41, "failover", "Query", "User sleep", true, false),
        ];
        let threads: Vec<Thread> = rows
            .iter()
            .map(|&(id, user, command, state, _, _)| Thread {
                id,
                user: user.into(),
                command: command.into(),
                state: state.into(),
            })
            .collect();
        let writers: Vec<u64> = rows.iter().filter(|r| r.4).map(|r| r.0).collect();
        // Running statements first (in PROCESSLIST order), then idle open transactions.
        let expected = [22, 23, 24, 25, 26, 21];
        assert_eq!(
            sessions_to_end(&threads, &writers, own, "failover"),
            expected
        );
        let ended: Vec<u64> = rows.iter().filter(|r| r.5).map(|r| r.0).collect();
        assert_eq!(ended.len(), expected.len());
        assert!(ended.iter().all(|id| expected.contains(id)));
        assert_eq!(
            sessions_to_end(&[], &writers, own, "failover"),
            Vec::<u64>::new()
        );
    }

    /// How long each `SET GLOBAL read_only=ON` may wait, by what is left of `--timeout`.
    #[test]
    fn set_waits() {
        let ms = Duration::from_millis;
        // (remaining, wait)
        let rows: &[(Duration, Option<Duration>)] = &[
            // The default --timeout 800ms, less connecting and the lock: half of the rest
            // after the reserve, then half of what is left after each try.
            (ms(760), Some(ms(330))),
            (ms(420), Some(ms(160))),
            (ms(250), Some(ms(75))),
            (ms(160), Some(ms(30))),
            // Less than twice the least wait left: all of it.
            (ms(130), Some(ms(20))),
            (ms(120), Some(ms(20))),
            // Not even the least wait left after the reserve: give up.
            (ms(119), None),
            (ms(100), None),
            (ms(0), None),
        ];
        for &(remaining, wait) in rows {
            assert_eq!(set_wait(remaining), wait, "remaining {remaining:?}");
        }
    }
}
