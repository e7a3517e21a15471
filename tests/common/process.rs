//! Processes the tests start: they die with the test (`PR_SET_PDEATHSIG`) and are killed and
//! reaped when their guard is dropped, so a panicking or killed test leaves nothing behind.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

/// Has `cmd`'s process killed when the thread that spawns it exits (`PR_SET_PDEATHSIG`), so
/// that a test run that is killed leaves no server or daemon behind. The signal follows the
/// *thread* that spawned the process: spawn on the test's own thread.
pub fn die_with_parent(cmd: &mut Command) {
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Sends `sig` to process `pid` (kill(2)).
pub fn signal(pid: u32, sig: libc::c_int) -> std::io::Result<()> {
    // SAFETY: plain kill(2); the callers signal their own children, not yet reaped.
    if unsafe { libc::kill(pid as libc::pid_t, sig) } == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Whether process `pid` exists (signal 0).
pub fn alive(pid: u32) -> bool {
    signal(pid, 0).is_ok()
}

/// Kills `child` (SIGCONT first, in case it is stopped, then SIGKILL) and reaps it, unless it
/// has exited already (then it is only reaped).
pub fn kill_and_reap(child: &mut Child) {
    if let Ok(None) = child.try_wait() {
        let _ = signal(child.id(), libc::SIGCONT);
        let _ = child.kill();
    }
    let _ = child.wait();
}

/// A child process that is killed (SIGCONT, SIGKILL) and reaped when dropped, so that a
/// panicking test leaves nothing behind.
pub struct KillOnDrop(pub Option<Child>);

impl KillOnDrop {
    pub fn new(child: Child) -> KillOnDrop {
        KillOnDrop(Some(child))
    }

    /// The child's PID (it is not reaped before drop unless taken).
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, Child::id)
    }

    /// `Some(status)` once the child has exited (it is reaped then).
    pub fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.0.as_mut().and_then(|c| c.try_wait().ok().flatten())
    }

    /// The child itself, to wait for it or read its pipes.
    pub fn child(&mut self) -> &mut Child {
        self.0.as_mut().expect("child already taken")
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            kill_and_reap(&mut child);
        }
    }
}
