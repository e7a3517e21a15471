//! `check-mysql --watch`'s connections: one persistent connection per server, each on its
//! own thread, asked once per poll and waited for only until the poll's deadline
//! (docs/contract.md "Watch mode").
//!
//! The `mysql` crate has only per-socket-call timeouts, so a server that accepts and never
//! answers (SIGSTOP, a full disk) would hold a caller for as long as the socket allows. The
//! caller therefore never waits on the connection itself: it waits on the thread's answer
//! for what is left of the poll, and a thread still busy with an earlier poll counts as a
//! failed poll without being asked again. Every socket call of the connection is bounded by
//! the poll timeout, so a busy thread frees itself within one more poll timeout, and a
//! connection that answered late is dropped: the next poll connects afresh.

use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use mysql::Conn;

use crate::deadline::Deadline;
use crate::io::mysql::ConnectionSpec;
use crate::model::observation::ObserveError;

/// A thread holding one persistent connection, answering one poll at a time.
pub struct Poller<T> {
    ask: mpsc::Sender<()>,
    answers: mpsc::Receiver<T>,
    /// Asked, and the answer not yet taken.
    busy: bool,
}

impl<T: Send + 'static> Poller<T> {
    /// Start the thread. `poll` runs once per [`Poller::ask`].
    pub fn start(mut poll: impl FnMut() -> T + Send + 'static) -> Poller<T> {
        let (ask, asked) = mpsc::channel::<()>();
        let (tx, answers) = mpsc::channel();
        thread::spawn(move || {
            while asked.recv().is_ok() {
                if tx.send(poll()).is_err() {
                    break;
                }
            }
        });
        Poller {
            ask,
            answers,
            busy: false,
        }
    }

    /// Ask for one poll. `false` when the previous one has still not answered: the caller
    /// counts this poll as failed and does not queue another behind it. A late answer to
    /// the previous poll is thrown away (it is old news).
    pub fn ask(&mut self) -> bool {
        if self.busy {
            match self.answers.try_recv() {
                Ok(_late) => self.busy = false,
                Err(_) => return false,
            }
        }
        if self.ask.send(()).is_err() {
            return false;
        }
        self.busy = true;
        true
    }

    /// The answer to the poll asked, or `None` when it has not come within `limit`.
    pub fn answer(&mut self, limit: Duration) -> Option<T> {
        if !self.busy {
            return None;
        }
        let answer = self.answers.recv_timeout(limit).ok()?;
        self.busy = false;
        Some(answer)
    }
}

/// Polls one connection serves before it is replaced. The `mysql` crate reads into a 4 MiB
/// buffer (mysql_common `MySyncFramed`, `DEFAULT_MAX_ALLOWED_PACKET`) that it fills front
/// to back and rewinds only when the end is reached, so every poll's answer lands on pages
/// never touched before: measured, the watcher's RSS grew by 4 KiB a poll, to about 4 MiB
/// more per connection. A new connection every 100 polls (10 s at the default interval;
/// one handshake, about a millisecond) keeps that under half a MiB.
pub const POLLS_PER_CONNECTION: u32 = 100;

/// A poller thread's connection and how many polls it has served.
#[derive(Default)]
struct Kept {
    conn: Option<Conn>,
    served: u32,
}

impl<T: Send + 'static> Poller<T> {
    /// A poller over one kept connection to `spec`: each poll runs `work` on it (connecting
    /// first, within `timeout`, when there is none; `unreached` turns a failed connect into
    /// the poll's answer). The connection is dropped after an answer that is not `good`,
    /// after one that took longer than `timeout` (the caller gave up on it: a connection
    /// that stalls is not reused), and after [`POLLS_PER_CONNECTION`] polls.
    pub fn connected(
        spec: ConnectionSpec,
        timeout: Duration,
        mut work: impl FnMut(&mut Conn) -> T + Send + 'static,
        good: impl Fn(&T) -> bool + Send + 'static,
        mut unreached: impl FnMut(ObserveError) -> T + Send + 'static,
    ) -> Poller<T> {
        let mut kept = Kept::default();
        Poller::start(move || {
            poll_kept(&mut kept, &spec, timeout, &mut work, &good, &mut unreached)
        })
    }
}

/// One poll of [`Poller::connected`].
fn poll_kept<T>(
    kept: &mut Kept,
    spec: &ConnectionSpec,
    timeout: Duration,
    work: &mut impl FnMut(&mut Conn) -> T,
    good: &impl Fn(&T) -> bool,
    unreached: &mut impl FnMut(ObserveError) -> T,
) -> T {
    let started = Instant::now();
    if kept.conn.is_none() {
        match spec.connect_with_io_timeout(&Deadline::new(timeout), timeout) {
            Ok(conn) => {
                *kept = Kept {
                    conn: Some(conn),
                    served: 0,
                }
            }
            Err(e) => return unreached(e),
        }
    }
    let Some(conn) = kept.conn.as_mut() else {
        unreachable!("connected above")
    };
    let answer = work(conn);
    kept.served += 1;
    if !good(&answer) || started.elapsed() > timeout || kept.served >= POLLS_PER_CONNECTION {
        kept.conn = None;
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A poller whose work blocks is never waited on: the poll fails at its limit, the
    /// next poll is not queued behind it, and the answer after it is the fresh one.
    #[test]
    fn a_busy_poller_fails_the_poll_instead_of_being_waited_on() {
        let (release, gate) = mpsc::channel::<()>();
        let mut n = 0;
        let mut p = Poller::start(move || {
            n += 1;
            if n == 1 {
                let _ = gate.recv();
            }
            n
        });
        assert!(p.ask());
        assert_eq!(p.answer(Duration::from_millis(20)), None);
        // Still blocked: this poll is failed, nothing is queued.
        assert!(!p.ask());
        release.send(()).unwrap();
        // The late answer (1) is dropped; the next poll asks afresh and gets 2.
        let mut asked = false;
        for _ in 0..200 {
            if p.ask() {
                asked = true;
                break;
            }
            thread::sleep(Duration::from_millis(5));
        }
        assert!(asked, "the poller never came free");
        assert_eq!(p.answer(Duration::from_secs(5)), Some(2));
    }

    #[test]
    fn an_answer_is_only_read_once() {
        let mut p = Poller::start(|| 7);
        assert_eq!(p.answer(Duration::from_millis(1)), None);
        assert!(p.ask());
        assert_eq!(p.answer(Duration::from_secs(5)), Some(7));
        assert_eq!(p.answer(Duration::from_millis(1)), None);
    }
}
