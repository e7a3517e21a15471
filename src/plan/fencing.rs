//! notify-backup's decisions (docs/contract.md "notify-backup", and "Notify hooks run
//! concurrently", rule 5), pure: which client sessions are ended after `read_only=ON`
//! ([`sessions_to_end`]), whether a fence that did not happen is retried in the background,
//! and when the background retry stops.
//!
//! keepalived runs notify-backup once per transition: a server that could not be reached
//! must still be fenced when it comes back, so that attempt is retried. A server that refuses
//! the account, or a state dir that cannot be used, will not get better by trying again.

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

/// One row of `SELECT ID, USER, COMMAND FROM information_schema.PROCESSLIST`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    pub id: u64,
    pub user: String,
    pub command: String,
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

/// The client sessions that could still commit after `read_only=ON`, which notify-backup
/// ends (`KILL CONNECTION`): `read_only` refuses a statement only when it starts, so a
/// statement already running (waiting on a lock, say), or a transaction already open, may
/// still commit. Those are the sessions running a statement (`COMMAND` other than `Sleep`)
/// or holding an open InnoDB transaction (`open_trx`: `INNODB_TRX.trx_mysql_thread_id`).
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
    open_trx: &[u64],
    own_id: u64,
    own_user: &str,
) -> Vec<u64> {
    let clients = || {
        threads
            .iter()
            .filter(|t| t.id != own_id && t.user != own_user && !is_server_thread(t))
    };
    let running = clients().filter(|t| t.command != "Sleep");
    let idle_in_trx = clients().filter(|t| t.command == "Sleep" && open_trx.contains(&t.id));
    running.chain(idle_in_trx).map(|t| t.id).collect()
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

    /// The rows MariaDB 10.11 returns for `SELECT ID, USER, COMMAND FROM
    /// information_schema.PROCESSLIST` on a node of the pair (seen on a real server), the
    /// INNODB_TRX thread ids, notify-backup's own id: which ones are ended, and why.
    #[test]
    fn which_sessions_are_ended() {
        let own = 40;
        // (ID, USER, COMMAND, open InnoDB transaction, ended)
        let rows: &[(u64, &str, &str, bool, bool)] = &[
            // Replication from the peer: the IO and SQL threads (and parallel workers).
            (5, "system user", "Slave_IO", false, false),
            (6, "system user", "Slave_SQL", true, false),
            (7, "system user", "Slave_worker", false, false),
            // The peer replicating from us.
            (8, "repl", "Binlog Dump", false, false),
            (9, "repl", "Binlog Dump GTID", false, false),
            (2, "event_scheduler", "Daemon", false, false),
            (3, "system user", "Daemon", false, false),
            // An application pool's idle connection: read_only refuses its next write.
            (20, "app", "Sleep", false, false),
            // A connection between statements of an open transaction: COMMIT would commit.
            (21, "app", "Sleep", true, true),
            // An autocommit INSERT waiting on a row lock: it passed the read_only check.
            (22, "app", "Query", true, true),
            (23, "app", "Query", false, true),
            // A connection being killed already, a prepared statement running.
            (24, "app", "Killed", false, true),
            (25, "app", "Execute", false, true),
            // A monitoring session running SHOW: harmless, but it runs a statement.
            (26, "keepalived_check", "Query", false, true),
            // notify-backup itself, and notify-master waiting for catch-up (same account).
            (own, "failover", "Query", false, false),
            (41, "failover", "Query", false, false),
        ];
        let threads: Vec<Thread> = rows
            .iter()
            .map(|&(id, user, command, _, _)| Thread {
                id,
                user: user.into(),
                command: command.into(),
            })
            .collect();
        let open: Vec<u64> = rows.iter().filter(|r| r.3).map(|r| r.0).collect();
        // Running statements first (in PROCESSLIST order), then idle open transactions.
        let expected = [22, 23, 24, 25, 26, 21];
        assert_eq!(sessions_to_end(&threads, &open, own, "failover"), expected);
        let ended: Vec<u64> = rows.iter().filter(|r| r.4).map(|r| r.0).collect();
        assert_eq!(ended.len(), expected.len());
        assert!(ended.iter().all(|id| expected.contains(id)));
        assert_eq!(
            sessions_to_end(&[], &open, own, "failover"),
            Vec::<u64>::new()
        );
    }
}
