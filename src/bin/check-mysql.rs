//! keepalived `vrrp_script`: may this node hold the VIP? Exit 0 = yes. See `--help`.
fn main() -> std::process::ExitCode {
    keepalived_mysql::app::check::main()
}
