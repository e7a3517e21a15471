//! Stopping keepalived so that the peer takes the VIP (notify-down). Never by name (the
//! seed's `pkill keepalived`): via systemd when systemd runs the service, else SIGTERM to
//! the PID in keepalived's pid file after checking that the process is keepalived.
//!
//! The process is pinned with a pidfd before its name is checked, so a PID reused between
//! the check and the signal gets no signal.

use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use crate::deadline::Deadline;
use crate::io::sys;

const SYSTEMCTL: [&str; 2] = ["/usr/bin/systemctl", "/bin/systemctl"];
const UNIT: &str = "keepalived.service";

#[derive(Debug, thiserror::Error)]
pub enum DownError {
    /// The pid file is unusable or names another program: exit 78.
    #[error("{0}")]
    Refused(String),
    /// keepalived did not stop in time, or could not be signalled: exit 1.
    #[error("{0}")]
    NotStopped(String),
}

/// How keepalived will be stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Systemd,
    Signal,
}

impl Method {
    /// How it is said in the output line.
    fn says(self) -> &'static str {
        match self {
            Method::Systemd => "systemctl stop",
            Method::Signal => "SIGTERM",
        }
    }
}

/// The outcome, for the one output line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stopped {
    NotRunning(String),
    Stopped(String),
    DryRun(String),
}

impl Stopped {
    /// `outcome` in JSON.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Stopped::NotRunning(_) => "not-running",
            Stopped::Stopped(_) => "stopped",
            Stopped::DryRun(_) => "dry-run",
        }
    }

    /// The message, without the line's leading word.
    pub(crate) fn message(&self) -> &str {
        match self {
            Stopped::Stopped(m) | Stopped::NotRunning(m) | Stopped::DryRun(m) => m,
        }
    }
}

fn read_pid(pidfile: &Path) -> Result<Option<i32>, DownError> {
    let text = match std::fs::read_to_string(pidfile) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(DownError::Refused(format!(
                "cannot read pid file {}: {e}",
                pidfile.display()
            )));
        }
    };
    match text.trim().parse::<i32>() {
        Ok(pid) if pid > 1 => Ok(Some(pid)),
        _ => Err(DownError::Refused(format!(
            "pid file {} does not hold a process id: '{}'",
            pidfile.display(),
            text.trim().chars().take(40).collect::<String>()
        ))),
    }
}

/// Wait until the process behind `fd` exits (the pidfd becomes readable), within `deadline`.
fn wait_exit(fd: &OwnedFd, deadline: &Deadline) -> bool {
    loop {
        let ms = deadline.remaining().as_millis().min(i32::MAX as u128) as i32;
        match sys::poll_readable(fd.as_fd(), ms) {
            Ok(exited) => return exited,
            Err(_) if deadline.passed() => return false,
            // EINTR: poll again with what is left.
            Err(_) => {}
        }
    }
}

fn comm(pid: i32) -> Option<String> {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|s| s.trim_end().to_string())
}

/// keepalived runs under systemd when systemd is the init and the process is in the unit's
/// cgroup; a keepalived started by hand on a systemd host is stopped by signal.
fn method(pid: i32) -> Method {
    let booted = Path::new("/run/systemd/system").is_dir();
    let in_unit = std::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .map(|c| c.lines().any(|l| l.ends_with(&format!("/{UNIT}"))))
        .unwrap_or(false);
    if booted && in_unit {
        Method::Systemd
    } else {
        Method::Signal
    }
}

/// What the pid file leads to.
enum Found {
    /// keepalived, pinned by a pidfd.
    Keepalived { pid: i32, fd: OwnedFd },
    /// No keepalived: why it is taken as not running.
    NotRunning(String),
}

/// Read the pid file, pin the process, and check that it is keepalived.
fn find(pidfile: &Path) -> Result<Found, DownError> {
    let Some(pid) = read_pid(pidfile)? else {
        return Ok(Found::NotRunning(format!(
            "keepalived is not running (no pid file {})",
            pidfile.display()
        )));
    };
    let fd = match sys::pidfd_open(pid) {
        Ok(fd) => fd,
        Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {
            return Ok(Found::NotRunning(format!(
                "keepalived is not running (stale pid file {}: no process {pid})",
                pidfile.display()
            )));
        }
        Err(e) => {
            return Err(DownError::NotStopped(format!(
                "cannot open process {pid}: {e}"
            )));
        }
    };
    match comm(pid) {
        Some(name) if name == "keepalived" => Ok(Found::Keepalived { pid, fd }),
        Some(name) => Err(DownError::Refused(format!(
            "pid file {} names process {pid} '{name}', not keepalived: refusing to signal it",
            pidfile.display()
        ))),
        None => Ok(Found::NotRunning(format!(
            "keepalived is not running (process {pid} from {} is gone)",
            pidfile.display()
        ))),
    }
}

/// May this process stop keepalived `how`? Signal 0 checks permission without signalling:
/// a dry run must not promise what the real run cannot do (keepalived's script_user cannot
/// stop root's keepalived).
fn check_permitted(pid: i32, fd: &OwnedFd, how: Method) -> Result<(), DownError> {
    let permitted = match how {
        Method::Systemd => sys::geteuid() == 0,
        Method::Signal => sys::pidfd_send_signal(fd.as_fd(), 0).is_ok(),
    };
    if permitted {
        return Ok(());
    }
    Err(DownError::NotStopped(format!(
        "not permitted to stop keepalived PID {pid}: run notify-down as root \
         (keepalived.conf: notify_... \"/usr/libexec/keepalived-mysql/notify-down\" root)"
    )))
}

/// Ask keepalived to stop: `systemctl stop --no-block`, or SIGTERM through the pidfd.
fn send_stop(pid: i32, fd: &OwnedFd, how: Method) -> Result<(), DownError> {
    match how {
        Method::Systemd => {
            let systemctl = SYSTEMCTL
                .iter()
                .find(|p| Path::new(p).exists())
                .ok_or_else(|| DownError::NotStopped("systemctl not found".into()))?;
            // --no-block: the wait is ours, bounded by the deadline.
            let status = std::process::Command::new(systemctl)
                .args(["stop", "--no-block", UNIT])
                .env_clear()
                .status()
                .map_err(|e| DownError::NotStopped(format!("{systemctl}: {e}")))?;
            if !status.success() {
                return Err(DownError::NotStopped(format!(
                    "systemctl stop {UNIT} failed: {status}"
                )));
            }
            Ok(())
        }
        Method::Signal => sys::pidfd_send_signal(fd.as_fd(), libc::SIGTERM)
            .map_err(|e| DownError::NotStopped(format!("cannot signal keepalived PID {pid}: {e}"))),
    }
}

/// Stop keepalived as described in the module docs. `announce` is told just before it is
/// stopped (keepalived kills its running scripts as it stops: the result may never be
/// logged).
pub fn stop(
    pidfile: &Path,
    dry_run: bool,
    deadline: &Deadline,
    announce: impl Fn(&str),
) -> Result<Stopped, DownError> {
    let (pid, fd) = match find(pidfile)? {
        Found::Keepalived { pid, fd } => (pid, fd),
        Found::NotRunning(why) => return Ok(Stopped::NotRunning(why)),
    };
    let how = method(pid);
    check_permitted(pid, &fd, how)?;
    if dry_run {
        return Ok(Stopped::DryRun(match how {
            Method::Systemd => format!("would run systemctl stop {UNIT} (keepalived PID {pid})"),
            Method::Signal => format!("would send SIGTERM to keepalived PID {pid}"),
        }));
    }
    announce(&format!(
        "stopping keepalived PID {pid} ({}) so that the peer takes the VIP",
        how.says()
    ));
    send_stop(pid, &fd, how)?;
    if wait_exit(&fd, deadline) {
        Ok(Stopped::Stopped(format!(
            "keepalived PID {pid} stopped ({}): its VIP is released for the peer",
            how.says()
        )))
    } else {
        Err(DownError::NotStopped(format!(
            "keepalived PID {pid} still running after {}",
            humantime::format_duration(deadline.budget())
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn refuses_a_process_that_is_not_keepalived() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("/bin/sleep")
            .arg("30")
            .spawn()
            .unwrap();
        // spawn returns once the child has replaced its memory (vfork semantics), which the
        // kernel does before it renames the task: until then /proc/PID/comm is still the
        // name of the thread that forked it (this test's).
        let renamed = std::time::Instant::now();
        while comm(child.id() as i32).as_deref() != Some("sleep") {
            assert!(
                renamed.elapsed() < Duration::from_secs(10),
                "/proc/{}/comm never became sleep: {:?}",
                child.id(),
                comm(child.id() as i32)
            );
            std::thread::sleep(Duration::from_millis(1));
        }
        let pidfile = dir.path().join("k.pid");
        std::fs::write(&pidfile, format!("{}\n", child.id())).unwrap();
        let r = stop(
            &pidfile,
            false,
            &Deadline::new(Duration::from_millis(200)),
            |_| {},
        );
        assert!(
            matches!(r, Err(DownError::Refused(ref m)) if m.contains("'sleep'")),
            "{r:?}"
        );
        // It was not signalled.
        assert!(child.try_wait().unwrap().is_none());
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn missing_stale_and_garbage_pid_files() {
        let dir = tempfile::tempdir().unwrap();
        let d = Deadline::new(Duration::from_millis(200));
        let pidfile = dir.path().join("k.pid");
        assert!(matches!(
            stop(&pidfile, false, &d, |_| {}),
            Ok(Stopped::NotRunning(_))
        ));
        // A PID that exited and was reaped.
        let mut child = std::process::Command::new("/bin/true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        std::fs::write(&pidfile, format!("{pid}\n")).unwrap();
        assert!(matches!(
            stop(&pidfile, false, &d, |_| {}),
            Ok(Stopped::NotRunning(_))
        ));
        for garbage in ["", "abc", "1", "-5"] {
            std::fs::write(&pidfile, garbage).unwrap();
            assert!(
                matches!(
                    stop(&pidfile, false, &d, |_| {}),
                    Err(DownError::Refused(_))
                ),
                "{garbage}"
            );
        }
    }
}
