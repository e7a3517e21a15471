//! The installed package in use: keepalived accepts the example configs as they are
//! installed, `--help`, `--version` and the man pages, and the bash completions.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use crate::common::programs::program;
use crate::{BINARIES, DOC, LIBEXEC, VERSION, output, output_text, run, stdout};

/// A non-loopback interface for the examples' `interface eth0` (keepalived refuses `lo` for
/// VRRP, and an interface that does not exist).
fn vrrp_interface() -> String {
    if Path::new("/sys/class/net/eth0").exists() {
        return "eth0".into();
    }
    let mut names: Vec<String> = fs::read_dir("/sys/class/net")
        .expect("read /sys/class/net")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "lo")
        .collect();
    names.sort();
    names.into_iter().next().unwrap_or_else(|| {
        panic!(
            "keepalived --config-test needs a non-loopback network interface; this machine has none"
        )
    })
}

/// `keepalived --config-test -f CONFIG`: exit status and output. keepalived 2.2.7 sends SIGTERM
/// to its parent in config-test mode, so it runs under a shell that ignores SIGTERM.
fn keepalived_config_test(config: &Path) -> (Option<i32>, String) {
    let out = output(
        Command::new("sh")
            .arg("-c")
            .arg("trap '' TERM; \"$0\" --config-test -f \"$1\" 2>&1; status=$?; exit $status")
            .arg(program("keepalived", "apt-get install keepalived"))
            .arg(config),
    );
    (
        out.status.code(),
        format!("{}{}", stdout(&out), String::from_utf8_lossy(&out.stderr)),
    )
}

pub fn check_keepalived_accepts_the_examples() {
    let dir = tempfile::tempdir().unwrap();
    let interface = vrrp_interface();
    for node in [
        "keepalived-node-a.conf",
        "keepalived-node-b.conf",
        "keepalived-node-a-watch.conf",
        "keepalived-node-b-watch.conf",
    ] {
        let text = fs::read_to_string(format!("{DOC}/examples/{node}")).unwrap();
        for b in ["check-mysql", "notify-master", "notify-backup"] {
            assert!(
                text.contains(&format!("\"{LIBEXEC}/{b}")),
                "{node} does not run the installed {b}"
            );
        }
        // Adapted to this machine: only the interface name (the binaries are where the
        // example says, since the package is installed).
        let adapted = text.replace("eth0", &interface);
        let config = dir.path().join(node);
        fs::write(&config, &adapted).unwrap();
        let (code, out) = keepalived_config_test(&config);
        assert!(
            code == Some(0) && out.trim().is_empty(),
            "keepalived --config-test -f {node} (interface {interface}): exit {code:?}\n{out}"
        );

        // The same check notices a script it cannot run, so the clean result above means
        // something: keepalived would count such a script as a success.
        let broken = adapted.replace(
            &format!("{LIBEXEC}/check-mysql"),
            &format!("{LIBEXEC}/no-such-check"),
        );
        fs::write(&config, broken).unwrap();
        let (code, out) = keepalived_config_test(&config);
        assert!(
            code != Some(0) && out.contains("chk_mysql"),
            "keepalived --config-test did not notice a missing check script: exit {code:?}\n{out}"
        );
    }
}

pub fn check_help_and_man_pages() {
    for b in BINARIES {
        let exe = format!("{LIBEXEC}/{b}");
        let help = stdout(&run(Command::new(&exe).arg("--help")));
        assert!(
            help.contains(&format!("Usage: {b}")) && help.contains("Exit codes:"),
            "{exe} --help:\n{help}"
        );
        let version = stdout(&run(Command::new(&exe).arg("--version")));
        assert_eq!(version.trim(), format!("{b} {VERSION}"), "{exe} --version");

        // man finds the page by name in section 8.
        let page = format!("/usr/share/man/man8/{b}.8.gz");
        let found = stdout(&run(Command::new("man").args(["-w", "8", b])));
        assert_eq!(found.trim(), page, "man -w 8 {b}");

        // It renders without warnings, with the sections build.rs adds.
        let out = run(Command::new("man")
            .args(["--warnings", "-l", &page])
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C.UTF-8")
            .env_remove("MANPAGER")
            .env_remove("PAGER"));
        let text = stdout(&out);
        let warnings = String::from_utf8_lossy(&out.stderr);
        assert!(
            warnings.trim().is_empty(),
            "man -l {page} warns:\n{warnings}"
        );
        for heading in [
            "NAME",
            "SYNOPSIS",
            "DESCRIPTION",
            "OPTIONS",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                text.lines().any(|l| l == heading),
                "man -l {page}: no {heading} section:\n{text}"
            );
        }
        for code in ["64", "78"] {
            assert!(
                text.lines().any(|l| l.trim_start().starts_with(code)),
                "man -l {page}: EXIT STATUS lacks {code}:\n{text}"
            );
        }
        assert!(
            text.contains(LIBEXEC),
            "man -l {page}: no example with {LIBEXEC}"
        );

        // Every long option that --help shows is in the page (from the same definitions).
        let source = stdout(&run(Command::new("zcat").arg(&page)));
        for option in long_options(&help) {
            let escaped = option.replace('-', "\\-");
            assert!(
                source.contains(&escaped),
                "man page {page} lacks {option}, which {b} --help shows"
            );
        }
    }
}

/// The `--long` options in clap's help text.
fn long_options(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter(|l| l.trim_start().starts_with('-'))
        .filter_map(|l| l.split_whitespace().find(|w| w.starts_with("--")))
        .map(|w| {
            w.trim_end_matches(',')
                .split(['=', '<', '['])
                .next()
                .unwrap()
                .to_string()
        })
        .filter(|w| w.len() > 2)
        .collect()
}

pub fn check_bash_completion() {
    for b in BINARIES {
        let file = format!("/usr/share/bash-completion/completions/{b}");
        let out = run(Command::new("bash")
            .arg("-c")
            .arg("source \"$1\" && complete -p \"$2\"")
            .arg("bash")
            .arg(&file)
            .arg(b));
        assert!(
            stdout(&out).contains(b),
            "{file} registers no completion for {b}: {}",
            output_text(&out)
        );
    }
}
