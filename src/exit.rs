//! Exit codes shared by every binary (docs/contract.md "Exit codes"). keepalived treats every non-zero
//! code as failure; the distinct values are for people and monitoring.

/// A documented process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exit {
    Ok = 0,
    /// Cannot connect, query failed, or the deadline passed.
    Down = 1,
    /// Replication broken (thread stopped with an error, or stopped on a standby).
    Replication = 2,
    /// Standby lagging above `--max-lag` (or lag unknown).
    Lag = 3,
    /// GTID history diverged from the peer's.
    Diverged = 4,
    /// A writer that cannot take writes (`read_only=ON`).
    ReadOnly = 5,
    /// This node must not be the writer: the peer answers and is writable (the split-brain
    /// guard, docs/contract.md "Split brain").
    SplitBrain = 6,
    /// Bad command line.
    Usage = 64,
    /// `check-mysql --watch` cannot write keepalived's track file (sysexits(3) EX_CANTCREAT).
    CantCreate = 73,
    /// Unreadable or unsafe option file, bad value.
    Config = 78,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }

    /// Stable lowercase name used in output and JSON (`down`, `replication`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Exit::Ok => "ok",
            Exit::Down => "down",
            Exit::Replication => "replication",
            Exit::Lag => "lag",
            Exit::Diverged => "diverged",
            Exit::ReadOnly => "read-only",
            Exit::SplitBrain => "split-brain",
            Exit::Usage => "usage",
            Exit::CantCreate => "track-file",
            Exit::Config => "config",
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(e: Exit) -> Self {
        std::process::ExitCode::from(e.code() as u8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        let all = [
            (Exit::Ok, 0, "ok"),
            (Exit::Down, 1, "down"),
            (Exit::Replication, 2, "replication"),
            (Exit::Lag, 3, "lag"),
            (Exit::Diverged, 4, "diverged"),
            (Exit::ReadOnly, 5, "read-only"),
            (Exit::SplitBrain, 6, "split-brain"),
            (Exit::Usage, 64, "usage"),
            (Exit::CantCreate, 73, "track-file"),
            (Exit::Config, 78, "config"),
        ];
        for (e, code, name) in all {
            assert_eq!((e.code(), e.name()), (code, name));
        }
        // cli.rs stands alone (build.rs includes it) and repeats the usage code.
        assert_eq!(Exit::Usage.code(), crate::cli::USAGE_EXIT_CODE);
    }
}
