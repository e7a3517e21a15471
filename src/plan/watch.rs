//! `check-mysql --watch`'s pure decision: when keepalived's track_file changes
//! (docs/contract.md "Watch mode").
//!
//! keepalived reads a `track_file` as an integer; with `weight 0` any non-zero value puts the
//! VRRP instance in FAULT (keepalived.conf(5), `track_file`). The watcher writes `0` while
//! the node may hold the VIP and the exit code of the failing verdict when it must not, and
//! only when its state flips: `fall` failed polls in a row flip it to "must not", `rise`
//! passed polls in a row flip it back, so that one slow poll never moves the VIP; two
//! things flip it at once ([`urgent`]).

use std::time::Duration;

/// What the track file says: the node may hold the VIP (`0`), or must not (the exit code
/// that made it flip, never 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Track {
    Hold,
    Refuse(u8),
}

impl Track {
    /// The file's contents: the value and a newline.
    pub fn render(self) -> String {
        format!("{}\n", self.value())
    }

    pub fn value(self) -> u8 {
        match self {
            Track::Hold => 0,
            Track::Refuse(code) => code,
        }
    }

    /// Read the file back (a decimal integer, surrounding white space ignored), for the
    /// watcher's start-up message; `None` for anything else. keepalived itself reads
    /// anything that is not a number, an empty file and a missing one as 0 (keepalived
    /// 2.2.7 trackers/track_file.c, `strtol`): the watcher never removes the file or leaves
    /// it empty.
    pub fn parse(text: &str) -> Option<Track> {
        match text.trim().parse::<u8>().ok()? {
            0 => Some(Track::Hold),
            code => Some(Track::Refuse(code)),
        }
    }
}

/// The hysteresis between polls and the track file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hysteresis {
    fall: u32,
    rise: u32,
    /// What this watcher has written; `None` before its first poll.
    current: Option<Track>,
    /// Polls in a row that disagree with `current`.
    streak: u32,
}

impl Hysteresis {
    /// A watcher's first poll decides on its own, whatever the file said before: the file
    /// says what this process saw, never what an earlier one did (keepalived counts a
    /// restarted watcher as soon as it runs, `vrrp_track_process`; until the first poll,
    /// within one `--poll-timeout`, the one-shot `vrrp_script` is what vouches).
    pub fn new(fall: u32, rise: u32) -> Hysteresis {
        Hysteresis {
            fall: fall.max(1),
            rise: rise.max(1),
            current: None,
            streak: 0,
        }
    }

    #[cfg(test)]
    fn from(fall: u32, rise: u32, current: Option<Track>) -> Hysteresis {
        Hysteresis {
            current,
            ..Hysteresis::new(fall, rise)
        }
    }

    pub fn current(&self) -> Option<Track> {
        self.current
    }

    /// Feed one poll's exit code (0 = passed; a poll that did not answer in time is 1).
    /// Returns the new value when the file must be written.
    pub fn poll(&mut self, code: u8) -> Option<Track> {
        let seen = match code {
            0 => Track::Hold,
            c => Track::Refuse(c),
        };
        let Some(current) = self.current else {
            // Nothing to keep: the first poll decides.
            self.current = Some(seen);
            return Some(seen);
        };
        let agrees = matches!(
            (current, seen),
            (Track::Hold, Track::Hold) | (Track::Refuse(_), Track::Refuse(_))
        );
        if agrees {
            self.streak = 0;
            return None;
        }
        self.streak += 1;
        let needed = match current {
            Track::Hold => self.fall,
            Track::Refuse(_) => self.rise,
        };
        if self.streak < needed {
            return None;
        }
        self.streak = 0;
        self.current = Some(seen);
        Some(seen)
    }

    /// Flip to "must not hold the VIP" at once, without waiting for `fall` polls (see
    /// [`urgent`]); `None` when the file already says so.
    pub fn force(&mut self, code: u8) -> Option<Track> {
        self.streak = 0;
        match self.current {
            Some(Track::Refuse(_)) => None,
            _ => {
                let t = Track::Refuse(code.max(1));
                self.current = Some(t);
                Some(t)
            }
        }
    }

    /// Polls in a row so far that disagree with the file (for the status file).
    pub fn streak(&self) -> u32 {
        self.streak
    }
}

/// How long the watcher may go without running (its loop's gap between two polls, beyond
/// what a poll and an interval take) before it assumes the world moved on without it.
pub const FROZEN_MARGIN: Duration = Duration::from_secs(1);

/// Why a poll flips the file at once, without `fall` polls in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgent {
    /// Both nodes are writable and this one yields (docs/contract.md "Split brain"): every
    /// poll more is a moment with two writers.
    Yields,
    /// The watcher itself did not run for longer than `interval + poll_timeout +`
    /// [`FROZEN_MARGIN`] (the process or the host was stopped: SIGSTOP, a frozen VM): the
    /// peer may have taken over meanwhile, and this node's keepalived, resumed as MASTER,
    /// may even take the VIP back. Its word is not good until `rise` polls have passed.
    Frozen,
}

/// Whether this poll flips the file at once (docs/contract.md "Watch mode"): `gap`, the time
/// since the previous poll started (`None` for the first poll); `yields`, the verdict says
/// both nodes are writable and this one yields.
pub fn urgent(
    gap: Option<Duration>,
    interval: Duration,
    poll_timeout: Duration,
    yields: bool,
) -> Option<Urgent> {
    if yields {
        return Some(Urgent::Yields);
    }
    match gap {
        Some(g) if g > interval + poll_timeout + FROZEN_MARGIN => Some(Urgent::Frozen),
        _ => None,
    }
}

/// Whether the verdict says both nodes are writable and this one yields (a FAIL
/// `split-brain` finding: [`crate::verdict::split`]).
pub fn yields(verdict: &crate::verdict::Verdict) -> bool {
    use crate::verdict::{Level, Situation};
    verdict
        .findings
        .iter()
        .any(|f| f.level == Level::Fail && f.situation == Situation::SplitBrain)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (fall, rise, start, polls, what is written after each poll)
    type Case = (
        u32,
        u32,
        Option<Track>,
        &'static [u8],
        &'static [Option<Track>],
    );

    const H: Option<Track> = Some(Track::Hold);
    const fn r(code: u8) -> Option<Track> {
        Some(Track::Refuse(code))
    }

    #[test]
    fn the_file_flips_only_after_fall_or_rise_polls_in_a_row() {
        const TABLE: &[Case] = &[
            // One failed poll (a 150 ms stall that missed the poll deadline) never moves it.
            (2, 3, H, &[1, 0, 1, 0, 0], &[None, None, None, None, None]),
            // Two in a row: flip, with the code of the poll that flipped it.
            (2, 3, H, &[1, 3], &[None, r(3)]),
            // Failing with other codes keeps it failed, written once.
            (2, 3, H, &[1, 1, 2, 3, 1], &[None, r(1), None, None, None]),
            // Back only after `rise` passes in a row; a failure in between starts again.
            (
                2,
                3,
                r(1),
                &[0, 0, 1, 0, 0, 0],
                &[None, None, None, None, None, H],
            ),
            // fall 1 / rise 1: every change is written at once.
            (1, 1, H, &[6, 0, 1], &[r(6), H, r(1)]),
            // A new watcher: the first poll decides, then hysteresis.
            (2, 3, None, &[0, 1, 1], &[H, None, r(1)]),
            (2, 3, None, &[5, 0, 0, 0], &[r(5), None, None, H]),
            // A file that already says what the polls say is not rewritten.
            (2, 3, H, &[0, 0, 0], &[None, None, None]),
            (2, 3, r(2), &[3, 1], &[None, None]),
        ];
        for &(fall, rise, start, polls, written) in TABLE {
            let mut h = Hysteresis::from(fall, rise, start);
            let got: Vec<Option<Track>> = polls.iter().map(|&c| h.poll(c)).collect();
            assert_eq!(
                got, written,
                "fall {fall} rise {rise} start {start:?} {polls:?}"
            );
        }
    }

    /// What keepalived reads (an integer; weight 0: non-zero is FAULT).
    #[test]
    fn the_file_is_an_integer_keepalived_reads() {
        assert_eq!(Track::Hold.render(), "0\n");
        assert_eq!(Track::Refuse(6).render(), "6\n");
        for (text, parsed) in [
            ("0\n", H),
            (" 0 ", H),
            ("3\n", r(3)),
            ("", None),
            ("x", None),
            ("-1", None),
            ("300", None),
        ] {
            assert_eq!(Track::parse(text), parsed, "{text:?}");
        }
    }

    #[test]
    fn a_yielding_writer_or_a_watcher_that_was_stopped_flips_at_once() {
        let ms = Duration::from_millis;
        let (i, t) = (ms(100), ms(250));
        // (gap, yields, urgent)
        let table = [
            (None, false, None),
            (Some(ms(100)), false, None),
            // A slow poll (up to the poll timeout) and a late loop are no freeze.
            (Some(ms(1350)), false, None),
            (Some(ms(1351)), false, Some(Urgent::Frozen)),
            (Some(ms(30_000)), false, Some(Urgent::Frozen)),
            (None, true, Some(Urgent::Yields)),
            (Some(ms(30_000)), true, Some(Urgent::Yields)),
        ];
        for (gap, yields, want) in table {
            assert_eq!(urgent(gap, i, t, yields), want, "{gap:?} {yields}");
        }
        // Forced: at once, and once.
        let mut h = Hysteresis::from(2, 3, H);
        assert_eq!(h.force(6), r(6));
        assert_eq!(h.force(6), None);
        // Back only after `rise` passed polls.
        assert_eq!([h.poll(0), h.poll(0), h.poll(0)], [None, None, H]);
        // A new watcher forced before its first poll.
        let mut h = Hysteresis::new(2, 3);
        assert_eq!(h.force(0), r(1));
    }
}
