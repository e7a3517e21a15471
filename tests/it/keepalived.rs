//! `notify-down` (and the notify hooks) against a real keepalived (2.2.7) that runs VRRP inside
//! a network namespace the test creates: a veth pair with both ends inside it, 10.200.0.1 and
//! 10.200.0.2, and the VIP 10.200.0.100. keepalived sends its adverts (unicast) only to the
//! other veth end, so no traffic leaves the namespace; the MariaDB server of the hooks test
//! is reached over its unix socket.
//!
//! keepalived runs in the foreground (`-n`) as the test's child (`ip netns exec` execs it, so
//! the child's PID is keepalived's), with its own pid files (`-p`, `-r`, `-c`: nothing is
//! written to /run). Every test deletes its namespace and stops keepalived on drop, also when
//! it panics. A missing keepalived or `ip` is a test failure that says what to install, never
//! a skip. Needs root (network namespaces).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::common::mariadb::Server;
use crate::common::process::{KillOnDrop, die_with_parent, signal};
use crate::common::programs;
use crate::common::run::{Run, bin_path, our_bin};
use crate::common::wait_until;

const INSTALL_HINT: &str = "apt-get install keepalived iproute2";
/// Kills a notify-down run that has not exited by then (a hang guard, not an assertion).
const GUARD: Duration = Duration::from_secs(10);
/// How long keepalived gets to stop by itself in Drop before it is killed.
const STOP_WAIT: Duration = Duration::from_secs(10);

const LOCAL: &str = "10.200.0.1";
const PEER: &str = "10.200.0.2";
const VIP: &str = "10.200.0.100";
/// The veth end keepalived runs VRRP on (its peer end is `kv1`).
const DEV: &str = "kv0";

/// Finds `name` (the kit's search order), or fails with the install hint.
#[track_caller]
fn program(name: &str) -> PathBuf {
    programs::program(name, INSTALL_HINT)
}

/// Runs `ip ARGS`, panicking with its output when it fails.
#[track_caller]
fn ip(args: &[&str]) -> String {
    let out = Command::new(program("ip"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run ip ({INSTALL_HINT}): {e}"));
    assert!(
        out.status.success(),
        "ip {} failed ({}): {}{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A network namespace of this test, deleted on drop.
struct Netns {
    name: String,
}

impl Netns {
    /// `kam-it-<pid>-<n>` with a veth pair inside (both ends up and addressed) and `lo` up.
    #[track_caller]
    fn new() -> Netns {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kam-it-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        ip(&["netns", "add", &name]);
        let ns = Netns { name };
        let n = ns.name.as_str();
        ip(&[
            "-n", n, "link", "add", DEV, "type", "veth", "peer", "name", "kv1",
        ]);
        ip(&["-n", n, "link", "set", "lo", "up"]);
        ip(&["-n", n, "addr", "add", &format!("{LOCAL}/24"), "dev", DEV]);
        ip(&["-n", n, "addr", "add", &format!("{PEER}/24"), "dev", "kv1"]);
        ip(&["-n", n, "link", "set", DEV, "up"]);
        ip(&["-n", n, "link", "set", "kv1", "up"]);
        ns
    }

    /// `ip -4 -o addr show dev kv0` inside the namespace.
    fn addrs(&self) -> String {
        ip(&["-n", &self.name, "-4", "-o", "addr", "show", "dev", DEV])
    }

    fn has_vip(&self) -> bool {
        self.addrs().contains(&format!(" {VIP}/"))
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let out = Command::new(program("ip"))
            .args(["netns", "del", &self.name])
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => {}
            Ok(o) => eprintln!(
                "ip netns del {}: {}",
                self.name,
                String::from_utf8_lossy(&o.stderr)
            ),
            Err(e) => eprintln!("ip netns del {}: {e}", self.name),
        }
    }
}

/// keepalived in the foreground inside its own namespace, with one VRRP instance (MASTER,
/// priority 100, unicast to the other veth end) holding [`VIP`]. Drop stops it (SIGTERM, then
/// SIGKILL) before the namespace is deleted.
struct Keepalived {
    child: KillOnDrop,
    dir: tempfile::TempDir,
    ns: Netns,
}

impl Keepalived {
    /// Starts keepalived and waits until it is MASTER with the VIP on [`DEV`].
    #[track_caller]
    fn start_master() -> Keepalived {
        Keepalived::start_master_with("")
    }

    /// [`Keepalived::start_master`] with `extra` lines inside the `vrrp_instance` block.
    #[track_caller]
    fn start_master_with(extra: &str) -> Keepalived {
        let keepalived = program("keepalived");
        let ns = Netns::new();
        let dir = tempfile::Builder::new()
            .prefix("kam-it-keepalived-")
            .tempdir()
            .expect("keepalived dir");
        let conf = dir.path().join("keepalived.conf");
        fs::write(
            &conf,
            format!(
                "global_defs {{\n\
                 \x20   enable_script_security\n\
                 \x20   script_user root\n\
                 }}\n\
                 vrrp_instance VI_1 {{\n\
                 \x20   state MASTER\n\
                 \x20   interface {DEV}\n\
                 \x20   virtual_router_id 51\n\
                 \x20   priority 100\n\
                 \x20   advert_int 1\n\
                 \x20   unicast_src_ip {LOCAL}\n\
                 \x20   unicast_peer {{\n\
                 \x20       {PEER}\n\
                 \x20   }}\n\
                 \x20   virtual_ipaddress {{\n\
                 \x20       {VIP}/24\n\
                 \x20   }}\n\
                 {extra}\
                 }}\n"
            ),
        )
        .expect("write keepalived.conf");
        let log = fs::File::create(dir.path().join("keepalived.log")).expect("keepalived.log");
        let d = dir.path();
        let mut cmd = Command::new(program("ip"));
        cmd.args(["netns", "exec", &ns.name])
            .arg(&keepalived)
            .args(["-n", "-l", "-D", "--no-syslog", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(d.join("keepalived.pid"))
            .arg("-r")
            .arg(d.join("vrrp.pid"))
            .arg("-c")
            .arg(d.join("checkers.pid"))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("dup log"))
            .stderr(log);
        die_with_parent(&mut cmd);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawn ip netns exec keepalived: {e}"));
        let mut k = Keepalived {
            child: KillOnDrop::new(child),
            dir,
            ns,
        };
        let start = Instant::now();
        while !k.ns.has_vip() {
            if let Some(status) = k.child.try_wait() {
                panic!(
                    "keepalived exited ({status}) before becoming MASTER\n{}",
                    k.describe()
                );
            }
            if start.elapsed() > Duration::from_secs(60) {
                panic!(
                    "keepalived did not add the VIP within 60 s\n{}",
                    k.describe()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        k
    }

    fn pidfile(&self) -> PathBuf {
        self.dir.path().join("keepalived.pid")
    }

    /// The PID in keepalived's pid file.
    #[track_caller]
    fn pid_from_file(&self) -> u32 {
        let text = fs::read_to_string(self.pidfile())
            .unwrap_or_else(|e| panic!("read keepalived's pid file: {e}\n{}", self.describe()));
        text.trim()
            .parse()
            .unwrap_or_else(|e| panic!("pid file holds {text:?}: {e}"))
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("keepalived.log")).unwrap_or_default()
    }

    /// Addresses and keepalived's log, for failure messages.
    fn describe(&self) -> String {
        format!(
            "namespace {}: {}\nkeepalived log:\n{}",
            self.ns.name,
            self.ns.addrs().trim_end(),
            self.log()
        )
    }
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        // SIGTERM first, so that keepalived stops its VRRP child and removes its addresses;
        // KillOnDrop then kills whatever is left, and the namespace is deleted last.
        if self.child.try_wait().is_none() {
            let _ = signal(self.child.id(), libc::SIGTERM);
            let start = Instant::now();
            while self.child.try_wait().is_none() && start.elapsed() < STOP_WAIT {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// Runs notify-down with `--no-syslog`, an empty environment, and `args`. Its failures are
/// explained by what the caller gives [`Run::explained_by`].
fn down(args: &[&str]) -> Run<'static> {
    let mut all = vec!["--no-syslog".to_string()];
    all.extend(args.iter().map(|a| a.to_string()));
    Run::of(
        "notify-down",
        our_bin("notify-down").env_clear().timeout(GUARD),
        all,
        String::new,
    )
}

fn path_arg(p: &Path) -> String {
    p.display().to_string()
}

// a
#[test]
fn notify_down_stops_keepalived_and_the_vip_goes() {
    let mut k = Keepalived::start_master();
    let pid = k.pid_from_file();
    assert_eq!(
        pid,
        k.child.id(),
        "the pid file names keepalived\n{}",
        k.describe()
    );
    assert!(k.ns.has_vip(), "VIP present before\n{}", k.describe());

    let pidfile = path_arg(&k.pidfile());
    let r = down(&["--pidfile", &pidfile, "--timeout", "5s"]).explained_by(k.describe());
    r.expect(0, &format!("OK keepalived PID {pid} stopped"));
    // notify-down waits for keepalived to exit: it has exited by now (reaped here).
    if k.child.try_wait().is_none() {
        r.fail(&format!(
            "keepalived is still running after notify-down returned\nnow: {}",
            k.describe()
        ));
    }
    wait_until("the VIP is gone from kv0", || {
        if k.ns.has_vip() {
            Err(k.describe())
        } else {
            Ok(())
        }
    });
    let log = k.log();
    assert!(
        log.contains("removing VIPs"),
        "keepalived should say it removed its VIPs:\n{log}"
    );
}

/// Spawns `/bin/sleep 600` with SIGTERM blocked: a signal sent to it stays pending, so the
/// test can see whether anyone signalled it (no waiting for a reaction).
fn sleeper() -> KillOnDrop {
    let mut cmd = Command::new("/bin/sleep");
    cmd.arg("600").stdin(Stdio::null());
    // SAFETY: sigemptyset, sigaddset and sigprocmask are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if libc::sigprocmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    KillOnDrop::new(cmd.spawn().expect("spawn /bin/sleep"))
}

/// Signals pending for process `pid` (`ShdPnd` | `SigPnd` of /proc/PID/status).
fn pending_signals(pid: u32) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .filter_map(|l| {
            l.strip_prefix("ShdPnd:")
                .or_else(|| l.strip_prefix("SigPnd:"))
        })
        .filter_map(|v| u64::from_str_radix(v.trim(), 16).ok())
        .fold(0, |a, b| a | b)
}

// b
#[test]
fn pid_file_naming_another_program_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut sleep = sleeper();
    let pid = sleep.id();
    let pidfile = dir.path().join("keepalived.pid");
    fs::write(&pidfile, format!("{pid}\n")).expect("write pid file");
    let context = format!("pid file names /bin/sleep, PID {pid}");

    let r = down(&["--pidfile", &path_arg(&pidfile)]).explained_by(context.clone());
    r.expect(78, "FAIL");
    if !r.stdout.contains("sleep") {
        r.fail("the refusal should name the process it found");
    }
    if let Some(status) = sleep.try_wait() {
        r.fail(&format!("/bin/sleep exited ({status})"));
    }
    let pending = pending_signals(pid);
    if pending & (1 << (libc::SIGTERM - 1)) != 0 {
        r.fail(&format!(
            "/bin/sleep was sent SIGTERM (pending signals {pending:#x})"
        ));
    }
    // The same with --dry-run: also refused.
    down(&["--pidfile", &path_arg(&pidfile), "--dry-run"])
        .explained_by(context)
        .expect(78, "FAIL");
    assert!(sleep.try_wait().is_none() && pending_signals(pid) == 0);
}

// c
#[test]
fn missing_or_stale_pid_file_means_not_running() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pidfile = dir.path().join("keepalived.pid");
    down(&["--pidfile", &path_arg(&pidfile)])
        .explained_by("no pid file".into())
        .expect(0, "OK keepalived is not running");

    let mut gone = Command::new("/bin/true").spawn().expect("spawn /bin/true");
    let pid = gone.id();
    gone.wait().expect("reap /bin/true");
    fs::write(&pidfile, format!("{pid}\n")).expect("write pid file");
    down(&["--pidfile", &path_arg(&pidfile)])
        .explained_by(format!("pid file names reaped PID {pid}"))
        .expect(0, "OK keepalived is not running");

    fs::write(&pidfile, "not a pid\n").expect("write pid file");
    down(&["--pidfile", &path_arg(&pidfile)])
        .explained_by("pid file holds garbage".into())
        .expect(78, "FAIL");
}

// d
#[test]
fn dry_run_leaves_keepalived_running() {
    let mut k = Keepalived::start_master();
    let pid = k.pid_from_file();
    let pidfile = path_arg(&k.pidfile());
    let r = down(&["--pidfile", &pidfile, "--dry-run"]).explained_by(k.describe());
    r.expect(
        0,
        &format!("DRY-RUN: would send SIGTERM to keepalived PID {pid}"),
    );
    if let Some(status) = k.child.try_wait() {
        r.fail(&format!(
            "keepalived exited ({status})\nnow: {}",
            k.describe()
        ));
    }
    if !k.ns.has_vip() || k.log().contains("Stopping") {
        r.fail(&format!(
            "keepalived is stopping after a dry run\nnow: {}",
            k.describe()
        ));
    }
    // An unprivileged user (keepalived's script_user) cannot stop root's keepalived: neither
    // the dry run nor the real run may claim otherwise, and keepalived keeps running.
    let public = tempfile::tempdir().unwrap();
    std::fs::set_permissions(public.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let public_pidfile = public.path().join("keepalived.pid");
    std::fs::write(&public_pidfile, format!("{pid}\n")).unwrap();
    std::fs::set_permissions(&public_pidfile, std::fs::Permissions::from_mode(0o644)).unwrap();
    for extra in [&["--dry-run"][..], &[][..]] {
        // std's Command (assert_cmd's has no uid); notify-down's own --timeout bounds it.
        let out = Command::new(bin_path("notify-down"))
            .env_clear()
            .uid(65534)
            .gid(65534)
            .args(["--no-syslog", "--timeout", "2s", "--pidfile"])
            .arg(&public_pidfile)
            .args(extra)
            .output()
            .expect("run notify-down as nobody");
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "as nobody {extra:?}: {stdout}");
        assert!(stdout.contains("run notify-down as root"), "{stdout}");
        if let Some(status) = k.child.try_wait() {
            panic!("keepalived exited ({status}) after an unprivileged notify-down");
        }
    }

    // The pid file still names it, and a real run still stops it.
    assert_eq!(k.pid_from_file(), pid);
    down(&["--pidfile", &pidfile])
        .explained_by(k.describe())
        .expect(0, &format!("OK keepalived PID {pid} stopped"));
    assert!(k.child.try_wait().is_some(), "stopped\n{}", k.describe());
}

/// What keepalived's notify hooks act on and report to: a MariaDB server that starts fenced
/// (reached over its unix socket, which works from inside the namespace), an option file, a
/// state dir, and a datagram socket standing in for syslog (keepalived discards the hooks'
/// stdout), which the test reads.
struct Hooks {
    s: Server,
    defaults: PathBuf,
    state: tempfile::TempDir,
    _log_dir: tempfile::TempDir,
    log_path: PathBuf,
    syslog: std::os::unix::net::UnixDatagram,
    /// Every syslog line received so far.
    lines: std::cell::RefCell<Vec<String>>,
}

impl Hooks {
    fn new() -> Hooks {
        let s = Server::start(1);
        s.sql("SET GLOBAL read_only=ON");
        let defaults = s.write_file(
            "client-socket",
            &format!(
                "[client]\nsocket={}\nuser=root\n",
                s.dir.path().join("mysqld.sock").display()
            ),
            0o600,
        );
        let state = tempfile::Builder::new()
            .prefix("kam-it-state-")
            .tempdir()
            .expect("state dir");
        let log_dir = tempfile::Builder::new()
            .prefix("kam-it-syslog-")
            .tempdir()
            .expect("syslog dir");
        let log_path = log_dir.path().join("log");
        let syslog = std::os::unix::net::UnixDatagram::bind(&log_path).expect("bind syslog socket");
        syslog.set_nonblocking(true).expect("nonblocking");
        Hooks {
            s,
            defaults,
            state,
            _log_dir: log_dir,
            log_path,
            syslog,
            lines: Default::default(),
        }
    }

    /// The quoted keepalived.conf script of `bin`, with this test's files.
    fn hook(&self, bin: &str) -> String {
        format!(
            "\"{} --defaults-file {} --state-dir {} --syslog-socket {}\"",
            bin_path(bin),
            self.defaults.display(),
            self.state.path().display(),
            self.log_path.display()
        )
    }

    fn role_file(&self) -> String {
        fs::read_to_string(self.state.path().join("role")).unwrap_or_default()
    }

    /// Waits until the role file says `role` and the server's read_only is `read_only`.
    #[track_caller]
    fn wait_for(&self, what: &str, k: &Keepalived, role: &str, read_only: &str) {
        wait_until(what, || {
            if self.role_file().starts_with(&format!("role={role}\n"))
                && self.s.var("read_only").as_deref() == Some(read_only)
            {
                Ok(())
            } else {
                Err(self.context(k))
            }
        });
    }

    /// Role file, read_only, the hooks' syslog lines so far and keepalived's state, for
    /// failure messages.
    fn context(&self, k: &Keepalived) -> String {
        let mut buf = vec![0u8; 65536];
        let mut lines = self.lines.borrow_mut();
        while let Ok(n) = self.syslog.recv(&mut buf) {
            lines.push(String::from_utf8_lossy(&buf[..n]).into_owned());
        }
        format!(
            "role file: {:?}\nread_only: {:?}\nhooks' syslog lines: {lines:#?}\n{}",
            self.role_file(),
            self.s.var("read_only"),
            k.describe()
        )
    }

    /// Whether a syslog line of `bin` received so far contains `text`.
    fn logged(&self, bin: &str, text: &str) -> bool {
        self.lines
            .borrow()
            .iter()
            .any(|l| l.contains(&format!("{bin}[")) && l.contains(text))
    }
}

// e: keepalived itself runs the notify hooks (enable_script_security, script_user root).
#[test]
fn keepalived_runs_the_notify_hooks() {
    let h = Hooks::new();
    let extra = format!(
        "    notify_master {}\n    notify_backup {}\n    notify_fault {}\n    notify_stop {}\n",
        h.hook("notify-master"),
        h.hook("notify-backup"),
        h.hook("notify-backup"),
        h.hook("notify-backup")
    );
    let mut k = Keepalived::start_master_with(&extra);
    // MASTER: notify-master promoted the node (no replication: nothing to catch up).
    h.wait_for(
        "notify-master run by keepalived made the node the writer",
        &k,
        "writer",
        "0",
    );

    // notify-down: keepalived stops, runs notify_stop, and the node is fenced again.
    down(&["--pidfile", &path_arg(&k.pidfile())])
        .explained_by(h.context(&k))
        .expect(0, "OK keepalived PID");
    assert!(k.child.try_wait().is_some(), "{}", h.context(&k));
    h.wait_for(
        "notify_stop (notify-backup) fenced the node",
        &k,
        "standby",
        "1",
    );
    let all = h.context(&k);
    println!("{all}");
    assert!(h.logged("notify-master", "OK writer"), "{all}");
    assert!(h.logged("notify-backup", "OK standby"), "{all}");
}

// f: a reload that removes the instance, which has `notify_deleted` with a script, as the
// example configs have: keepalived 2.2.7 sends DELETED and runs that script (vrrp.c,
// clear_diff_vrrp), and notify-backup fences the node. Without notify_deleted it would send
// FAULT and run notify_fault, which this config does not have.
#[test]
fn reload_removing_the_instance_runs_notify_deleted_which_fences() {
    let h = Hooks::new();
    let extra = format!(
        "    notify_master {}\n    notify_deleted {}\n",
        h.hook("notify-master"),
        h.hook("notify-backup")
    );
    let k = Keepalived::start_master_with(&extra);
    h.wait_for(
        "notify-master run by keepalived made the node the writer",
        &k,
        "writer",
        "0",
    );

    // The reload: another instance and no hooks. keepalived knows an instance across a
    // reload by its VRID, interface, family and unicast source (vrrp.c, vrrp_exist), not by
    // its name: with another VRID, VI_1 is removed (VI_2 takes the VIP again, and runs
    // nothing).
    let conf = k.dir.path().join("keepalived.conf");
    let text = fs::read_to_string(&conf).expect("read keepalived.conf");
    assert!(text.contains("virtual_router_id 51"), "{text}");
    let reloaded: String = text
        .replace("vrrp_instance VI_1", "vrrp_instance VI_2")
        .replace("virtual_router_id 51", "virtual_router_id 52")
        .lines()
        .filter(|l| !l.contains("notify"))
        .map(|l| format!("{l}\n"))
        .collect();
    fs::write(&conf, reloaded).expect("write keepalived.conf");
    signal(k.child.id(), libc::SIGHUP).unwrap_or_else(|e| panic!("SIGHUP keepalived: {e}"));
    h.wait_for(
        "notify_deleted (notify-backup) fenced the node after the reload",
        &k,
        "standby",
        "1",
    );
    let all = h.context(&k);
    println!("{all}");
    assert!(h.logged("notify-backup", "OK standby"), "{all}");
}
