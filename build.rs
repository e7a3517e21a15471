//! Renders the man pages (section 8) and the bash/zsh/fish completions of the four binaries
//! from the same clap definitions they parse their arguments with (`src/cli.rs`), so that
//! `--help`, the man pages and the completions can never disagree.
//!
//! Where the files go: cargo gives a build script only `OUT_DIR`
//! (`target/<profile>/build/keepalived-mysql-<hash>/out`), whose hash is private to cargo, so
//! packaging tools cannot name it. cargo-deb and cargo-generate-rpm both rewrite an asset
//! path that starts with `target/release/` to the real profile directory (honouring
//! `CARGO_TARGET_DIR`, `--target`, `--profile`). So the files are written to that profile
//! directory, three levels above `OUT_DIR`:
//!
//! ```text
//! target/<profile>/generated/man/<binary>.8.gz        (gzipped as Debian policy wants)
//! target/<profile>/generated/completions/bash/<binary>
//! target/<profile>/generated/completions/zsh/_<binary>
//! target/<profile>/generated/completions/fish/<binary>.fish
//! ```
//!
//! and Cargo.toml's package metadata names them as `target/release/generated/...`. A file is
//! rewritten only when its content changes (through a temporary name and a rename, so a
//! packager never reads half a file), and the script reruns only when its inputs change.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;
use roff::{Roff, bold, italic, roman};

// cli.rs stands alone (it uses only clap, humantime and std) so that it can be compiled here.
// Its argument-parsing helper for the binaries is not used by the build script.
#[allow(dead_code)]
#[path = "src/cli.rs"]
mod cli;

/// Where the packages install the docs; check-mysql --explain names the runbook there.
const DOC: &str = "/usr/share/doc/keepalived-mysql";

/// One example in the EXAMPLES section: what it shows, and the text (shown verbatim).
struct Example {
    what: &'static str,
    text: &'static str,
}

/// The hand-written parts of one man page.
struct Page {
    cmd: clap::Command,
    /// Paragraphs added to DESCRIPTION, after clap's long about.
    description: &'static [&'static str],
    /// The paragraph before the exit code table: who reads the codes.
    exit_intro: &'static str,
    examples: &'static [Example],
    /// ENVIRONMENT entries: the variables the binary reads, and what for.
    environment: &'static [(&'static str, &'static str)],
    /// FILES entries: path, meaning.
    files: &'static [(&'static str, &'static str)],
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/cli.rs");
    println!("cargo:rerun-if-changed=src/cli_text.rs");
    // A new version in Cargo.toml is a new package id, hence a new OUT_DIR and a new run.

    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let dest = generated_dir(&out_dir);

    let pages = pages();
    for page in &pages {
        let name = page.cmd.get_name().to_string();
        let roff = man_page(page);
        write_if_changed(&dest.join("man").join(format!("{name}.8.gz")), &gzip(&roff));

        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut cmd = page.cmd.clone();
            let mut text = Vec::new();
            clap_complete::generate(shell, &mut cmd, &name, &mut text);
            let (dir, file) = match shell {
                Shell::Bash => ("bash", name.clone()),
                Shell::Zsh => ("zsh", format!("_{name}")),
                _ => ("fish", format!("{name}.fish")),
            };
            write_if_changed(&dest.join("completions").join(dir).join(file), &text);
        }
    }
}

/// `target/<profile>/generated`, found from `OUT_DIR` (`target/<profile>/build/<pkg>-<hash>/out`).
/// If cargo's layout is ever different, the files stay in `OUT_DIR` and a warning says so: the
/// build works, only packaging would then miss the files (and fail loudly on the missing asset).
fn generated_dir(out_dir: &Path) -> PathBuf {
    let profile_dir = out_dir
        .ancestors()
        .nth(3)
        .filter(|_| out_dir.file_name().is_some_and(|n| n == "out"))
        .filter(|_| {
            out_dir
                .ancestors()
                .nth(2)
                .and_then(Path::file_name)
                .is_some_and(|n| n == "build")
        });
    match profile_dir {
        Some(dir) => dir.join("generated"),
        None => {
            println!(
                "cargo:warning=unexpected OUT_DIR layout {}: man pages and completions are left \
                 there, not in target/<profile>/generated (packaging will not find them)",
                out_dir.display()
            );
            out_dir.join("generated")
        }
    }
}

/// Writes `data` to `path` unless it already holds exactly that: through a temporary file and
/// a rename, so that nobody reads a half-written file and unchanged files keep their mtime.
fn write_if_changed(path: &Path, data: &[u8]) {
    if fs::read(path).is_ok_and(|old| old == data) {
        return;
    }
    let dir = path.parent().expect("generated files have a parent dir");
    fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name().unwrap().to_string_lossy(),
        std::process::id()
    ));
    fs::write(&tmp, data).unwrap_or_else(|e| panic!("write {}: {e}", tmp.display()));
    fs::rename(&tmp, path).unwrap_or_else(|e| panic!("rename to {}: {e}", path.display()));
}

/// gzip with no file name and a zero mtime, so that the same page gives the same bytes.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut gz = flate2::GzBuilder::new()
        .mtime(0)
        .write(Vec::new(), flate2::Compression::best());
    gz.write_all(data).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

fn man_page(page: &Page) -> Vec<u8> {
    let cmd = page.cmd.clone();
    let name = cmd.get_name().to_string();
    let version = cmd.get_version().unwrap_or_default().to_string();
    let man = clap_mangen::Man::new(cmd.clone())
        .section("8")
        .source(format!("keepalived-mysql {version}"))
        .manual("System Manager's Manual");

    let mut out = Vec::new();
    let w: &mut dyn Write = &mut out;
    man.render_title(w).unwrap();
    man.render_name_section(w).unwrap();
    man.render_synopsis_section(w).unwrap();
    man.render_description_section(w).unwrap();
    let mut roff = Roff::new();
    for paragraph in page.description {
        roff.control("PP", []).text([roman(*paragraph)]);
    }
    roff.to_writer(w).unwrap();
    man.render_options_section(w).unwrap();

    // clap's after_help is the binary's exit code table (cli.rs): rendered as EXIT STATUS
    // rather than as clap_mangen's generic "EXTRA".
    exit_status(page).to_writer(w).unwrap();
    environment(page).to_writer(w).unwrap();
    files(page).to_writer(w).unwrap();
    examples(page).to_writer(w).unwrap();
    see_also(&name).to_writer(w).unwrap();
    man.render_version_section(w).unwrap();
    out
}

/// EXIT STATUS from the binary's own exit code table, its `after_help` (cli.rs: a heading
/// line, then `  CODE  meaning` rows, each meaning possibly going on over lines indented by
/// six spaces).
fn exit_status(page: &Page) -> Roff {
    let name = page.cmd.get_name();
    let help = page
        .cmd
        .get_after_help()
        .map(|h| h.to_string())
        .unwrap_or_else(|| panic!("{name}: no exit code table in after_help"));
    let mut lines = help.lines();
    assert_eq!(
        lines.next(),
        Some("Exit codes:"),
        "{name}: after_help must be the exit code table"
    );
    let mut rows: Vec<(String, String)> = Vec::new();
    for line in lines {
        if let Some(more) = line.strip_prefix("      ") {
            assert!(
                !more.starts_with('-'),
                "{name}: an exit code line starts with '-' (reads as an option): {line:?}"
            );
            let (_, meaning) = rows
                .last_mut()
                .unwrap_or_else(|| panic!("{name}: continuation before any code: {line:?}"));
            meaning.push(' ');
            meaning.push_str(more.trim());
            continue;
        }
        let row = line
            .strip_prefix("  ")
            .unwrap_or_else(|| panic!("{name}: exit code line not indented by two: {line:?}"));
        let (code, meaning) = row
            .split_once(char::is_whitespace)
            .unwrap_or_else(|| panic!("{name}: no meaning after the code in {line:?}"));
        assert!(
            code.parse::<u8>().is_ok(),
            "{name}: {code:?} is not an exit code (line {line:?})"
        );
        rows.push((code.to_string(), meaning.trim().to_string()));
    }
    assert!(rows.len() >= 2, "{name}: no exit code lines in after_help");

    let mut roff = Roff::new();
    roff.control("SH", ["EXIT STATUS"]);
    roff.text([roman(page.exit_intro)]);
    for (code, meaning) in rows {
        roff.control("TP", []).text([bold(code)]);
        roff.text([roman(meaning)]);
    }
    roff
}

fn environment(page: &Page) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["ENVIRONMENT"]);
    for (name, meaning) in page.environment {
        roff.control("TP", []).text([bold(*name)]);
        roff.text([roman(*meaning)]);
    }
    let none = if page.environment.is_empty() {
        "No environment variable is used"
    } else {
        "No other environment variable is used"
    };
    roff.control("PP", []).text([roman(format!(
        "{none}; every default path is absolute, because keepalived gives scripts no useful \
         environment."
    ))]);
    roff
}

fn files(page: &Page) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["FILES"]);
    for (path, meaning) in page.files {
        roff.control("TP", []).text([italic(*path)]);
        roff.text([roman(*meaning)]);
    }
    roff
}

fn examples(page: &Page) -> Roff {
    let mut roff = Roff::new();
    roff.control("SH", ["EXAMPLES"]);
    for example in page.examples {
        roff.control("PP", []).text([roman(example.what)]);
        roff.control("PP", []);
        roff.control("RS", ["4"]);
        roff.control("nf", []);
        for line in example.text.lines() {
            roff.text([roman(line)]);
        }
        roff.control("fi", []);
        roff.control("RE", []);
    }
    roff
}

fn see_also(name: &str) -> Roff {
    let mut refs: Vec<(String, &str)> = [
        "check-mysql",
        "notify-master",
        "notify-backup",
        "notify-down",
    ]
    .iter()
    .filter(|&&n| n != name)
    .map(|n| (n.to_string(), "8"))
    .collect();
    refs.extend([
        ("keepalived".to_string(), "8"),
        ("keepalived.conf".to_string(), "5"),
        ("mariadbd".to_string(), "8"),
        ("systemd-tmpfiles".to_string(), "8"),
    ]);
    let mut inlines = Vec::new();
    for (i, (n, section)) in refs.iter().enumerate() {
        if i > 0 {
            inlines.push(roman(", "));
        }
        inlines.push(bold(n.as_str()));
        inlines.push(roman(format!("({section})")));
    }
    let mut roff = Roff::new();
    roff.control("SH", ["SEE ALSO"]);
    roff.text(inlines);
    for (path, what) in [
        (
            format!("{DOC}/runbook.md"),
            "What to do for each problem the check reports (check-mysql --explain names its \
             sections).",
        ),
        (format!("{DOC}/README.md"), "The full reference."),
        (
            format!("{DOC}/examples/"),
            "keepalived.conf for both nodes, the option file, grants.sql with the least \
             privileges, split-brain.sql (the split-brain guard's table, run on each node), \
             and the dual-master my.cnf fragment.",
        ),
    ] {
        roff.control("TP", []).text([italic(path)]);
        roff.text([roman(what)]);
    }
    roff
}

/// EXIT STATUS of check-mysql: keepalived reads its code.
const CHECK_EXIT_INTRO: &str = "keepalived treats every non-zero code as a failed check; the \
     distinct codes are for people and monitoring.";
/// EXIT STATUS of the notify helpers: keepalived reads no notify script's code.
const NOTIFY_EXIT_INTRO: &str = "keepalived does not read a notify script's exit code (it \
     starts notify scripts without waiting for them): the codes are for people, monitoring \
     and scripts that run this helper by hand; syslog has the same line.";

/// The password, for the binaries that log in to the server.
const MYSQL_PWD: (&str, &str) = (
    "MYSQL_PWD",
    "The password, when the option file gives none (a password in the option file wins, as \
     for MySQL's own clients). There is no password option: it would show in ps(1).",
);

const OPTION_FILE: (&str, &str) = (
    "/etc/keepalived/mysql-helpers.cnf",
    "The default option file (--defaults-file): groups [client] and then the binary's own \
     group, MySQL syntax. It holds the password, so it must not be readable by group or \
     others (mode 0600, owned by keepalived's script_user); otherwise the binary refuses it \
     with exit code 78. Only a file that does not exist is skipped: one the script user \
     cannot read (the file, or a directory above it that it cannot search), a symlink loop, \
     or an !include or !includedir target that exists and cannot be read is exit 78, with \
     the path and the cause. An example is in /usr/share/doc/keepalived-mysql/examples/.",
);
const LOCK_FILE: (&str, &str) = (
    "/run/keepalived-mysql/lock",
    "The lock (flock) that notify-master and notify-backup take in turn, waiting at most \
     --timeout; created if missing. check-mysql never takes it.",
);
const ROLE_FILE: (&str, &str) = (
    "/run/keepalived-mysql/role",
    "The role recorded by notify-master and notify-backup (writer, standby, promoting, \
     promotion-failed) with its sequence; check-mysql --role auto reads it. The directory \
     (--state-dir) is created at boot by /usr/lib/tmpfiles.d/keepalived-mysql.conf, owned by \
     keepalived_script. A role file or state dir that exists but cannot be used (permission \
     denied, a file or a symlink loop in the way) is exit 78, with the path and the cause.",
);

fn pages() -> Vec<Page> {
    vec![
        Page {
            cmd: cli::CheckArgs::command(),
            environment: &[MYSQL_PWD],
            exit_intro: CHECK_EXIT_INTRO,
            description: &[
                "keepalived runs check-mysql every interval seconds from a vrrp_script; exit 0 \
                 means this node may hold (or take) the virtual IP. The rules depend on the \
                 role: the writer (the node that holds the VIP) keeps it through replication \
                 trouble, which is reported loudly (a WARN line and a syslog warning), while a \
                 standby that is down, broken, lagging or diverged is failed so that it can \
                 never take the VIP. The whole run, including the --peer probe, ends within \
                 --timeout; keep that below keepalived's script timeout.",
                "One line goes to stdout (keepalived discards it); warnings and failures also \
                 go to syslog (facility daemon, ident check-mysql), once per change of verdict.",
            ],
            examples: &[
                Example {
                    what: "The vrrp_script in keepalived.conf on node A, 192.0.2.11 (node B: \
                           --peer 192.0.2.11). weight 0: a failing check puts the instance in \
                           FAULT, which releases the VIP even with nopreempt; keepalived's \
                           timeout is above check-mysql's --timeout. --peer tells a dead peer \
                           from a broken replication path and sees a stalled replication \
                           connection; the check's account must exist on the peer for this \
                           node's address:",
                    text: "vrrp_script chk_mysql {\n    script \"/usr/libexec/keepalived-mysql/check-mysql --vip 192.0.2.100 --peer 192.0.2.12 --timeout 800ms\"\n    interval 2\n    timeout 1\n    fall 2\n    rise 2\n    weight 0\n}",
                },
                Example {
                    what: "A person debugging, as keepalived's script user (so that the option \
                           file and the state dir are read exactly as keepalived's run reads \
                           them): the full evidence, the next step for each problem with its \
                           runbook section, and the GTID comparison with the other node:",
                    text: "runuser -u keepalived_script -- /usr/libexec/keepalived-mysql/check-mysql -v --explain --peer 192.0.2.12\necho \"exit $?\"",
                },
                Example {
                    what: "Judge this node as a standby would be judged, whatever the role file \
                           says (will it be eligible if the writer fails?):",
                    text: "/usr/libexec/keepalived-mysql/check-mysql --role standby -v",
                },
                Example {
                    what: "For monitoring: one JSON object with stable fields (status, exit_code, \
                           reason, role, findings, observation), without touching syslog:",
                    text: "/usr/libexec/keepalived-mysql/check-mysql --format json --no-syslog",
                },
            ],
            files: &[
                OPTION_FILE,
                ROLE_FILE,
                (
                    "/run/keepalived-mysql/check-mysql.last",
                    "The last verdict, so that syslog gets a line when the verdict changes \
                     rather than every interval.",
                ),
                (
                    "/run/keepalived-mysql/check-mysql.received",
                    "With --peer: the position this node had received when it was first seen \
                     behind the peer, and since when. A standby whose received position stays \
                     put for longer than --max-lag while the peer is ahead is stalled (exit \
                     3). Rewritten only when it changes, removed once caught up; a check that \
                     cannot read or write it warns that stall detection is off.",
                ),
                (
                    "/usr/share/doc/keepalived-mysql/runbook.md",
                    "The runbook that --explain points to: one section per situation.",
                ),
            ],
        },
        Page {
            cmd: cli::NotifyMasterArgs::command(),
            environment: &[MYSQL_PWD],
            exit_intro: NOTIFY_EXIT_INTRO,
            description: &[
                "keepalived runs notify-master (notify_master) when this node becomes MASTER. It \
                 records the role promoting (check-mysql passes the node meanwhile although it \
                 is still read-only), waits at most --catchup-timeout until the SQL thread has \
                 applied everything the IO thread had received, then sets read_only=OFF and \
                 records the role writer. When the wait runs out, --on-catchup-timeout fail (the \
                 default) leaves the node read-only and records promotion-failed, so that the \
                 check fails it and the VIP can move to an eligible peer.",
                "keepalived starts notify scripts without waiting for them, so several may run \
                 at once: the helpers serialize on a lock in the state dir, and a promotion \
                 that a newer BACKUP or FAULT has overtaken never unfences the node.",
                "One line goes to stdout and to syslog (ident notify-master); --format json \
                 prints one JSON object instead: outcome, role, read_only, seq, elapsed_ms, \
                 message, exit_code, reason, keepalived_args (see the README). A usage error \
                 prints only its line on stderr.",
            ],
            examples: &[
                Example {
                    what: "In the vrrp_instance of keepalived.conf:",
                    text: "notify_master \"/usr/libexec/keepalived-mysql/notify-master\"",
                },
                Example {
                    what: "What would a promotion do now? (changes nothing):",
                    text: "runuser -u keepalived_script -- /usr/libexec/keepalived-mysql/notify-master --dry-run -v",
                },
                Example {
                    what: "After promotion-failed, when neither node is eligible and you have \
                           decided to take writes here anyway, knowing which transactions this \
                           node lacks (see the runbook, section promotion-failed):",
                    text: "runuser -u keepalived_script -- /usr/libexec/keepalived-mysql/notify-master --on-catchup-timeout promote -v",
                },
            ],
            files: &[OPTION_FILE, ROLE_FILE, LOCK_FILE],
        },
        Page {
            cmd: cli::NotifyBackupArgs::command(),
            environment: &[MYSQL_PWD],
            exit_intro: NOTIFY_EXIT_INTRO,
            description: &[
                "keepalived runs notify-backup (notify_backup, notify_fault, notify_stop, \
                 notify_deleted) when this node stops being MASTER, or its instance stops or is \
                 removed by a reload. It records the role standby, then sets \
                 read_only=ON and reads it back, so that a client that still reaches this node \
                 by its own address cannot write. When the server is down the role is still \
                 recorded and the exit code is 1, within --timeout (keepalived kills \
                 notify_stop scripts after one second).",
                "Users holding READ_ONLY ADMIN (MariaDB) or SUPER ignore read_only: give \
                 applications neither.",
                "One line goes to stdout and to syslog (ident notify-backup); --format json \
                 prints one JSON object instead: outcome, role, read_only, seq, elapsed_ms, \
                 message, exit_code, reason, keepalived_args (see the README). A usage error \
                 prints only its line on stderr.",
            ],
            examples: &[
                Example {
                    what: "In the vrrp_instance of keepalived.conf:",
                    text: "notify_backup \"/usr/libexec/keepalived-mysql/notify-backup\"\nnotify_fault  \"/usr/libexec/keepalived-mysql/notify-backup\"\nnotify_stop   \"/usr/libexec/keepalived-mysql/notify-backup\"\nnotify_deleted \"/usr/libexec/keepalived-mysql/notify-backup\"",
                },
                Example {
                    what: "Fence this node by hand (the check reported unfenced):",
                    text: "runuser -u keepalived_script -- /usr/libexec/keepalived-mysql/notify-backup -v",
                },
            ],
            files: &[OPTION_FILE, ROLE_FILE, LOCK_FILE],
        },
        Page {
            cmd: cli::NotifyDownArgs::command(),
            environment: &[],
            exit_intro: NOTIFY_EXIT_INTRO,
            description: &[
                "Stops keepalived on this node so that the peer takes the VIP: with systemctl \
                 stop keepalived.service when keepalived runs under systemd, otherwise with \
                 SIGTERM to the PID in keepalived's pid file, after checking (on a pinned \
                 process) that it is keepalived. It waits for keepalived to exit within \
                 --timeout. keepalived removes its virtual addresses when it stops, so no \
                 interface bounce is needed.",
                "Stopping keepalived needs root: run it as root from keepalived (a user after \
                 the script path), not as the unprivileged script_user.",
                "It reads no option file and no state dir, and does not talk to the database \
                 server: its only options are those below.",
                "One line goes to stdout and to syslog (ident notify-down); --format json \
                 prints one JSON object instead: outcome, role, read_only and seq (null here), \
                 elapsed_ms, message, exit_code, reason, keepalived_args (see the README). A \
                 usage error prints only its line on stderr.",
            ],
            examples: &[
                Example {
                    what: "As a real_server hook in keepalived.conf, run as root:",
                    text: "real_server 192.0.2.11 3306 {\n    notify_down \"/usr/libexec/keepalived-mysql/notify-down\" root\n    TCP_CHECK {\n        connect_timeout 3\n    }\n}",
                },
                Example {
                    what: "What would it do? (changes nothing):",
                    text: "/usr/libexec/keepalived-mysql/notify-down --dry-run",
                },
            ],
            files: &[(
                "/run/keepalived.pid",
                "keepalived's pid file (--pidfile), used when keepalived does not run under \
                 systemd. A pid file that names another program is refused (exit 78); a \
                 missing or stale one means keepalived is not running (exit 0).",
            )],
        },
    ]
}
