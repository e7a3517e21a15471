//! Pure decisions of notify-master and notify-backup: typed inputs in, a decision out, no IO.
//! The helpers' IO (src/app) gathers the inputs and carries the decisions out.

pub mod fencing;
pub mod guard;
pub mod lease;
pub mod promotion;
pub mod watch;
