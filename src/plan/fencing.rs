//! notify-backup's decisions (docs/contract.md "notify-backup", and "Notify hooks run
//! concurrently", rule 5), pure: whether a fence that did not happen is retried in the
//! background, and when the background retry stops.
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
}
