//! The test kit shared by the test crates (`it`, `package`, `e2e`), each of which includes it
//! with `#[path = "../common/mod.rs"] mod common;` (or `mod common;` from `tests/NAME.rs`):
//!
//! - [`programs`]: finding programs (one search order), `require`/`require_root` failures that
//!   say what to install, never skips;
//! - [`process`]: `die_with_parent` (`PR_SET_PDEATHSIG`), [`process::KillOnDrop`];
//! - [`run`]: running our binaries, and the [`run::Run`] assertions on their exit code and
//!   output;
//! - [`mariadb`]: one builder of throwaway MariaDB servers (TCP or socket, the `it` tests'
//!   replication settings or included option files);
//! - [`wait_until`]: bounded polling.
//!
//! A crate uses only part of the kit, hence `dead_code` is allowed here. The kit has no tests
//! of its own here (they would run once per crate): `tests/it/harness.rs` tests it.

#![allow(dead_code)]

pub mod mariadb;
pub mod process;
pub mod programs;
pub mod run;

use std::time::{Duration, Instant};

/// How long [`wait_until`] (and the waits built on it) poll before panicking.
pub const WAIT: Duration = Duration::from_secs(30);

/// Polls `probe` every 100 ms until it returns `Ok`, for at most [`WAIT`]; then panics with
/// `what` and the last `Err` it returned (the last observed state).
#[track_caller]
pub fn wait_until<T>(what: &str, mut probe: impl FnMut() -> Result<T, String>) -> T {
    let start = Instant::now();
    loop {
        match probe() {
            Ok(v) => return v,
            Err(last) if start.elapsed() >= WAIT => {
                panic!("timed out after {WAIT:?} waiting for: {what}\nlast observed state:\n{last}")
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}
