//! Integration tests against real MariaDB servers (see `harness`).
//!
//! Run with `cargo test --test it`. Needs MariaDB 10.11 (`mariadbd`, `mariadb-install-db`):
//! `apt-get install mariadb-server mariadb-client`; the `keepalived` tests also need root,
//! keepalived and iproute2 (`apt-get install keepalived iproute2`); the `config_paths` tests
//! need root, util-linux and /etc/keepalived (`apt-get install util-linux mount keepalived`).

mod check;
mod config_paths;
mod field;
mod harness;
mod keepalived;
mod notify;
