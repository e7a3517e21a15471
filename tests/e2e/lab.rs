//! The `Lab` wrapper: drives `lab/lab` (all lab logic is there, in bash) for one scenario, and
//! reads what it reports (status JSON, who holds the VIP, the fault's time, logs). One lab per
//! scenario, torn down by `down` or, when the test panics, by `Drop`. Labs run one at a time
//! ([`serial`]).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::common::programs::require_root;

const LAB: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/lab/lab");
const LAB_ROOT: &str = "/run/kam-lab";
/// Bound of every wait for a state (generous: CI has 2 busy cores).
pub const WAIT: Duration = Duration::from_secs(60);
/// How long "the VIP does not move" must hold to count: keepalived acts on a changed verdict
/// within rise (2) x interval (1 s) plus its master-down timer (3 adverts + skew, < 4 s); this
/// is twice that.
const SETTLE: Duration = Duration::from_secs(12);
const POLL: Duration = Duration::from_millis(100);

static SERIAL: Mutex<()> = Mutex::new(());

pub fn serial() -> MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as u64
}

/// Where cargo put the binaries of this build (`target/debug`).
fn bin_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_check-mysql"))
        .parent()
        .expect("binary directory")
        .to_path_buf()
}

fn times_file() -> PathBuf {
    bin_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(bin_dir)
        .join("e2e-times.json")
}

/// Adds (or replaces) one scenario's times in `target/e2e-times.json`. Called under [`SERIAL`].
fn record_times(scenario: &str, entry: Value) {
    let path = times_file();
    let mut all = std::fs::read_to_string(&path)
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .filter(Value::is_object)
        .unwrap_or_else(|| json!({}));
    all[scenario] = entry;
    let text = serde_json::to_string_pretty(&all).expect("serialise times");
    if let Err(e) = std::fs::write(&path, text + "\n") {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

/// What `lab/lab fault` reports.
#[derive(Debug, Clone)]
pub struct Fault {
    pub node: String,
    pub at_ms: u64,
}

/// A running lab; `down` on drop.
pub struct Lab {
    name: String,
    /// The lab's state directory (`/run/kam-lab/NAME`).
    pub dir: PathBuf,
    down_done: bool,
}

impl Lab {
    /// `lab/lab up --name NAME --bin-dir target/debug EXTRA...`, asserting nothing about the
    /// outcome beyond `up`'s own success (e.g. `--vrrp-blocked`, where either node may win).
    #[track_caller]
    pub fn start(name: &str, extra: &[&str]) -> Lab {
        require_root(
            "the e2e tests need root: the lab creates network namespaces and the \
             keepalived_script user (CI runs as root; run `sudo ./test --test e2e`)",
        );
        let lab = Lab {
            name: name.to_string(),
            dir: Path::new(LAB_ROOT).join(name),
            down_done: false,
        };
        let bin = bin_dir();
        let mut args = vec!["up", "--bin-dir", bin.to_str().expect("utf-8 path")];
        args.extend_from_slice(extra);
        lab.run(&args);
        lab
    }

    /// `lab/lab up --name NAME --bin-dir target/debug EXTRA...`; A holds the VIP afterwards.
    #[track_caller]
    pub fn up(name: &str, extra: &[&str]) -> Lab {
        let lab = Lab::start(name, extra);
        assert_eq!(lab.vip(), "a", "after up, A holds the VIP");
        let st = lab.status();
        assert_eq!(st["nodes"]["a"]["role"], "writer", "{st}");
        assert_eq!(st["nodes"]["a"]["read_only"], "OFF", "{st}");
        assert_eq!(st["nodes"]["b"]["keepalived"], "BACKUP", "{st}");
        assert_eq!(st["nodes"]["b"]["read_only"], "ON", "{st}");
        for n in ["a", "b"] {
            assert_eq!(st["nodes"][n]["check_exit"], 0, "check-mysql on {n}: {st}");
        }
        lab
    }

    fn command(&self, args: &[&str]) -> Output {
        Command::new(LAB)
            .args(args)
            .args(["--name", &self.name])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {LAB}: {e}"))
    }

    /// Runs a lab command that must succeed; returns its stdout.
    #[track_caller]
    pub fn run(&self, args: &[&str]) -> String {
        let out = self.command(args);
        assert!(
            out.status.success(),
            "lab/lab {} --name {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
            args.join(" "),
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    #[track_caller]
    pub fn status(&self) -> Value {
        let text = self.run(&["status", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("status is not JSON ({e}): {text}"))
    }

    /// The hosts' addresses, from `lab status`: A's, B's and, in a witness lab, W's.
    #[track_caller]
    pub fn addresses(&self) -> (String, String, Option<String>) {
        let st = self.status();
        let ip = |n: &str| st["nodes"][n]["addr"].as_str().expect("addr").to_string();
        let w = st["witness"]["addr"].as_str().map(str::to_string);
        (ip("a"), ip("b"), w)
    }

    /// Who holds the VIP: "a", "b" or "none". Two holders (split brain) fail the test at once.
    #[track_caller]
    pub fn vip(&self) -> String {
        let v = self.run(&["vip"]).trim().to_string();
        assert!(
            v == "a" || v == "b" || v == "none",
            "VIP held by '{v}'\n{}",
            self.logs()
        );
        v
    }

    #[track_caller]
    pub fn fault(&self, args: &[&str]) -> Fault {
        let mut a = vec!["fault"];
        a.extend_from_slice(args);
        let text = self.run(&a);
        let v: Value = serde_json::from_str(text.trim())
            .unwrap_or_else(|e| panic!("fault output is not JSON ({e}): {text}"));
        Fault {
            node: v["node"].as_str().expect("fault node").to_string(),
            at_ms: v["at_ms"].as_u64().expect("fault at_ms"),
        }
    }

    /// `lab/lab heal NODE|all`; returns when it ran (its JSON line).
    #[track_caller]
    pub fn heal(&self, node: &str) -> Fault {
        let text = self.run(&["heal", node]);
        let line = text.lines().last().unwrap_or_default();
        let v: Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("heal output is not JSON ({e}): {text}"));
        Fault {
            node: v["node"].as_str().expect("heal node").to_string(),
            at_ms: v["at_ms"].as_u64().expect("heal at_ms"),
        }
    }

    /// The network namespace of host `node` (a, b or c).
    pub fn namespace(&self, node: &str) -> String {
        format!("kam-{}-{node}", self.name)
    }

    /// Runs `ip ARGS...`, which must succeed; returns its stdout.
    #[track_caller]
    pub fn run_ip(&self, args: &[&str]) -> String {
        let out = Command::new("ip")
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
        assert!(
            out.status.success(),
            "ip {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// How many times `node`'s keepalived logged `(VI_1) Entering STATE STATE` so far.
    pub fn keepalived_entered(&self, node: &str, state: &str) -> usize {
        let log =
            std::fs::read_to_string(self.dir.join(node).join("keepalived.log")).unwrap_or_default();
        let mark = format!("(VI_1) Entering {state} STATE");
        log.lines().filter(|l| l.contains(&mark)).count()
    }

    /// The (only) replication connection's `SHOW ALL SLAVES STATUS` fields on `node` (as root
    /// on its socket, vertical output: `lab sql` prints no column names).
    #[track_caller]
    pub fn slave_status(&self, node: &str) -> std::collections::BTreeMap<String, String> {
        let socket = self.dir.join(node).join("mysqld.sock");
        let out = Command::new("timeout")
            .args([
                "-s",
                "KILL",
                "10",
                "mariadb",
                "--no-defaults",
                "-uroot",
                "-E",
            ])
            .arg(format!("--socket={}", socket.display()))
            .args(["-e", "SHOW ALL SLAVES STATUS"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run mariadb: {e}"));
        assert!(
            out.status.success(),
            "SHOW ALL SLAVES STATUS on {node} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (k, v) = l.trim_start().split_once(": ")?;
                Some((k.to_string(), v.to_string()))
            })
            .collect()
    }

    /// Runs SQL as root on a node (unix socket).
    #[track_caller]
    pub fn sql(&self, node: &str, q: &str) -> String {
        self.run(&["sql", node, q])
    }

    /// Runs SQL as the client's application user, from host C to the node's own address.
    pub fn client_sql(&self, node: &str, q: &str) -> Result<String, String> {
        let out = self.command(&["sql", node, "--client", q]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(text)
        }
    }

    /// Syslog lines of our binaries (`TIME EPOCH_MS NODE <PRI>... binary[pid]: message`)
    /// from `node`, logged at or after `since_ms`.
    pub fn syslog(&self, node: &str, since_ms: u64) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("syslog.log")).unwrap_or_default();
        text.lines()
            .filter(|l| {
                let f: Vec<&str> = l.splitn(4, ' ').collect();
                f.len() == 4 && f[2] == node && f[1].parse::<u64>().is_ok_and(|ms| ms >= since_ms)
            })
            .map(str::to_string)
            .collect()
    }

    pub fn logs(&self) -> String {
        let out = self.command(&["logs"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn report(&self) -> Value {
        let text = self.run(&["client", "report", "--json"]);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("report is not JSON ({e}): {text}"))
    }

    /// Polls `probe` until it returns `Ok`, for at most `limit`; panics with `what`, the last
    /// observed state and the lab's logs.
    #[track_caller]
    pub fn wait<T>(
        &self,
        what: &str,
        limit: Duration,
        mut probe: impl FnMut() -> Result<T, String>,
    ) -> T {
        let start = Instant::now();
        loop {
            match probe() {
                Ok(v) => return v,
                Err(last) if start.elapsed() >= limit => panic!(
                    "lab {}: timed out after {limit:?} waiting for: {what}\nlast observed: {last}\n{}",
                    self.name,
                    self.logs()
                ),
                Err(_) => std::thread::sleep(POLL),
            }
        }
    }

    /// Waits until the VIP is on `node`; returns when it was first seen there.
    #[track_caller]
    pub fn wait_vip(&self, node: &str) -> u64 {
        self.wait(&format!("VIP on {node}"), WAIT, || {
            let v = self.vip();
            if v == node {
                Ok(now_ms())
            } else {
                Err(format!("VIP on {v}"))
            }
        })
    }

    /// The VIP stays where it is (`node`, or "none") for [`SETTLE`]; also checks that a node
    /// that must not hold it never gets it in between.
    #[track_caller]
    pub fn assert_vip_stays(&self, node: &str, why: &str) {
        let start = Instant::now();
        while start.elapsed() < SETTLE {
            let v = self.vip();
            assert_eq!(v, node, "{why}: the VIP moved to {v}\n{}", self.logs());
            std::thread::sleep(POLL);
        }
    }

    #[track_caller]
    pub fn wait_node(&self, node: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
        self.wait(&format!("{node}: {what}"), WAIT, || {
            let st = self.status();
            if f(&st["nodes"][node]) {
                Ok(st)
            } else {
                Err(st.to_string())
            }
        })
    }

    /// Starts the client; returns once A (server_id 1) has acknowledged 20 of its writes.
    #[track_caller]
    pub fn start_client(&self) {
        self.start_client_on(1);
    }

    /// Starts the client; returns once `server_id` has acknowledged 20 of its writes.
    #[track_caller]
    pub fn start_client_on(&self, server_id: u32) {
        self.run(&["client", "start"]);
        let since = now_ms().saturating_sub(60_000);
        self.wait(
            &format!(
                "the client writing through the VIP (20 acknowledged by server_id {server_id})"
            ),
            WAIT,
            || {
                let n = self.acks_on(server_id, since);
                if n >= 20 {
                    Ok(())
                } else {
                    Err(format!("{n} acknowledged"))
                }
            },
        );
    }

    /// The node refuses the application user's writes with 1290 (read_only).
    #[track_caller]
    pub fn assert_fenced(&self, node: &str) {
        let err = self
            .client_sql(node, "INSERT INTO kam.writes (id) VALUES (900000001)")
            .expect_err(&format!("{node} accepted a write from the client user"));
        assert!(
            err.contains("ERROR 1290"),
            "{node} refused the write, but not with 1290: {err}"
        );
    }

    /// The tail of every scenario: its times into `target/e2e-times.json` (for the benchmark
    /// report, never asserted), then [`Lab::down`]. `failover` is (fault -> VIP moved, fault ->
    /// first write on the new writer) when the VIP moved; `report` is the client's (from
    /// [`Lab::stop_client`]); the fields of `extra` (a JSON object) are added.
    #[track_caller]
    pub fn record(
        self,
        scenario: &str,
        fault: &Fault,
        failover: Option<(u64, u64)>,
        report: &Value,
        extra: Value,
    ) {
        let mut t = times(fault, failover.map(|f| f.0), failover.map(|f| f.1), report);
        if let Value::Object(fields) = extra {
            for (k, v) in fields {
                t[k.as_str()] = v;
            }
        }
        record_times(scenario, t);
        self.down();
    }

    #[track_caller]
    pub fn stop_client(&self) -> Value {
        self.run(&["client", "stop"]);
        self.report()
    }

    /// `down`, then: no namespace, no state dir, no process of this lab.
    #[track_caller]
    pub fn down(mut self) {
        self.run(&["down"]);
        self.down_done = true;
        self.assert_gone();
        // A second `down` is harmless.
        self.run(&["down"]);
    }

    #[track_caller]
    fn assert_gone(&self) {
        // `ip netns add` names a namespace by a file in /run/netns.
        let prefix = format!("kam-{}-", self.name);
        let left: Vec<String> = std::fs::read_dir("/run/netns")
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&prefix))
                    .collect()
            })
            .unwrap_or_default();
        assert!(left.is_empty(), "namespaces left after down: {left:?}");
        assert!(!self.dir.exists(), "{} left after down", self.dir.display());
        let marks = [
            format!("{}/", self.dir.display()),
            format!("_client-loop --name {}", self.name),
        ];
        let mut procs = Vec::new();
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmd) = std::fs::read(entry.path().join("cmdline")) else {
                continue;
            };
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if marks.iter().any(|m| cmd.contains(m.as_str())) {
                procs.push(format!("{pid}: {cmd}"));
            }
        }
        assert!(
            procs.is_empty(),
            "processes left after down:\n{}",
            procs.join("\n")
        );
    }
}

impl Lab {
    /// After a failure, before `down`: the lab's logs (syslog, keepalived, mariadbd, samples,
    /// faults, the client's) into `target/e2e-failed/NAME/`, whole, for the diagnosis.
    fn keep_logs(&self) {
        let to = times_file().with_file_name("e2e-failed").join(&self.name);
        let _ = std::fs::remove_dir_all(&to);
        let files = [
            "syslog.log",
            "samples.log",
            "faults.log",
            "a/keepalived.log",
            "b/keepalived.log",
            "a/error.log",
            "b/error.log",
            "w/error.log",
            "c/acked.log",
            "c/failed.log",
        ];
        for f in files {
            let dest = to.join(f.replace('/', "-"));
            if std::fs::create_dir_all(&to).is_ok() {
                let _ = std::fs::copy(self.dir.join(f), dest);
            }
        }
        eprintln!("the lab's logs: {}", to.display());
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if self.down_done {
            return;
        }
        if std::thread::panicking() {
            eprintln!(
                "---- lab {} at the failure ----\n{}",
                self.name,
                self.logs()
            );
            self.keep_logs();
        }
        let out = self.command(&["down"]);
        if !out.status.success() {
            eprintln!(
                "lab/lab down --name {} failed: {}",
                self.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

pub fn node_state<'a>(n: &'a Value, key: &str) -> &'a str {
    n[key].as_str().unwrap_or("")
}

pub fn check_exit(n: &Value) -> i64 {
    n["check_exit"].as_i64().unwrap_or(-1)
}

fn times(fault: &Fault, vip_ms: Option<u64>, first_write_ms: Option<u64>, report: &Value) -> Value {
    json!({
        "fault_node": fault.node,
        "fault_to_vip_moved_ms": vip_ms,
        "fault_to_first_write_on_new_writer_ms": first_write_ms,
        "longest_client_outage_ms": report["longest_outage_ms"],
        "acked": report["acked"],
        "failed": report["failed"],
        "acked_by_server_id": report["acked_by_server_id"],
    })
}
