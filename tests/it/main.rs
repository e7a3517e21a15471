//! Integration tests against real MariaDB servers (see `harness` and the kit in
//! `tests/common`).
//!
//! Run with `cargo test --test it`. Needs MariaDB 10.11 (`mariadbd`, `mariadb-install-db`):
//! `apt-get install mariadb-server mariadb-client`; the `keepalived` tests also need root,
//! keepalived and iproute2 (`apt-get install keepalived iproute2`); the `config_paths` tests
//! need root, util-linux and /etc/keepalived (`apt-get install util-linux mount keepalived`).

#[path = "../common/mod.rs"]
mod common;

mod check;
mod config_paths;
mod field;
mod harness;
mod keepalived;
mod lease;
mod notify;
mod watch;
mod witness;
