//! Stop keepalived safely so that the VIP moves to the peer. See `--help`.
fn main() -> std::process::ExitCode {
    keepalived_mysql::app::notify_down::main()
}
