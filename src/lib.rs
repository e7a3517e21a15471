//! keepalived-mysql: helpers that make a MySQL/MariaDB dual-master pair behind keepalived
//! fail over correctly.
//!
//! Every binary runs observation (IO) → decision (pure) → action and report (IO), and the
//! tree says which is which:
//!
//! - [`app`]: one module per binary. `main` parses the command line ([`cli`]), calls `run()`,
//!   prints and logs, and maps the outcome to an `exit::Exit` code in one place.
//! - `model`: plain data and its parsing (observations, GTID sets, roles, keepalived
//!   events); no IO.
//! - `verdict`: check-mysql's pure decision (observation + role + policy → verdict), and
//!   the reception rule that sees a stalled replication connection.
//! - `plan`: the notify helpers' pure decisions (what to do after the catch-up wait,
//!   whether to retry fencing).
//! - [`io`]: everything that talks to the world: MySQL connections and every SQL statement
//!   (`io::dialect`), the state dir (`io::state`, the one owner of its files), option files
//!   and settings, syslog, keepalived, and the only `unsafe` code (`io::sys`).
//! - `report`: the text line, JSON, `-v` evidence and `--explain` of check-mysql.
//!
//! The behaviour contract is docs/contract.md.

#![deny(unsafe_code)]

pub mod app;
pub mod cli;
pub(crate) mod deadline;
pub(crate) mod exit;
pub mod io;
pub(crate) mod model;
pub(crate) mod plan;
pub(crate) mod report;
pub(crate) mod verdict;
