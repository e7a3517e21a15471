//! One overall deadline per run (docs/contract.md "Time"). The `mysql` crate only has per-socket-call
//! timeouts, so the hard bound is enforced by the caller waiting on a [`Worker`] for
//! [`Deadline::remaining`] and exiting the process when it passes.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// The instant by which a run must be finished.
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    started: Instant,
    budget: Duration,
}

impl Deadline {
    pub fn new(budget: Duration) -> Self {
        Deadline {
            started: Instant::now(),
            budget,
        }
    }

    pub fn budget(&self) -> Duration {
        self.budget
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Time left, zero once passed.
    pub fn remaining(&self) -> Duration {
        self.budget.saturating_sub(self.started.elapsed())
    }

    pub fn passed(&self) -> bool {
        self.remaining().is_zero()
    }

    /// A socket timeout for the next call: what is left, but never zero (zero would mean
    /// "no timeout" to the socket layer).
    pub fn socket_timeout(&self) -> Duration {
        self.remaining().max(Duration::from_millis(1))
    }
}

/// Work running on its own thread, whose answer the caller waits for only so long: the way a
/// deadline bounds calls that have no overall timeout of their own (a server that accepts and
/// never answers, DNS). A worker that misses its wait is abandoned; the process exits soon
/// after, which ends it.
pub struct Worker<T>(mpsc::Receiver<T>);

impl<T: Send + 'static> Worker<T> {
    /// Starts `work` now, so that several workers (and the caller) run at once.
    pub fn start(work: impl FnOnce() -> T + Send + 'static) -> Self {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(work());
        });
        Worker(rx)
    }

    /// The answer, or `None` when it has not come within `limit`.
    pub fn wait(self, limit: Duration) -> Option<T> {
        self.0.recv_timeout(limit).ok()
    }
}

pub use crate::cli::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_humantime_and_bare_seconds() {
        assert_eq!(parse_duration("800ms").unwrap(), Duration::from_millis(800));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1m 30s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("120").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration(" 5s ").unwrap(), Duration::from_secs(5));
    }

    #[test]
    fn refuses_garbage_and_zero() {
        for bad in ["", "abc", "0", "0s", "-1s", "5 parsecs", "1.5.2s"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.starts_with("invalid duration"), "{bad}: {e}");
        }
    }

    #[test]
    fn remaining_never_goes_negative() {
        let d = Deadline::new(Duration::from_millis(0));
        assert!(d.passed());
        assert_eq!(d.remaining(), Duration::ZERO);
        assert!(d.socket_timeout() > Duration::ZERO);
    }
}
