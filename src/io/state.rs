//! The state dir shared by the notify helpers and the check (docs/contract.md "State dir").
//! This module is the only one that touches its files:
//!
//! * `role`: the [`RoleRecord`] of the last transition ([`read_role`], [`write_role`]);
//! * `lock`: serialises the transitions ([`lock`]), ordered by their event stamps
//!   ([`event_seq`], [`boot_id`]);
//! * `<binary>.last`: the key of the last verdict logged (`read_last`, `write_last`);
//! * `check-mysql.received`: the received position of the stall detection
//!   ([`RECEIVED_FILE`], [`read`], [`write_atomic`]).
//!
//! Every write goes through [`write_atomic`] (temp file `.NAME.PID`, fsync, rename), so a
//! concurrent reader sees the old contents or the new, never half a file.
//!
//! keepalived starts notify scripts fire-and-forget: MASTER then BACKUP within a second may
//! run concurrently and take the lock in either order. Each event is therefore stamped with
//! its process start time (and PID, for ties), which keepalived's fork order makes
//! increasing; a transition older than the one recorded is stale and ignored.

use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::deadline::Deadline;
use crate::io::confpath::{PathCause, is_absent};
use crate::io::sys;
use crate::model::role::RoleRecord;

pub const LOCK_FILE: &str = "lock";
/// Name of the role file inside the state dir.
pub const ROLE_FILE: &str = "role";

/// Bits of the stamp reserved for the PID (Linux `pid_max` is at most 2^22).
const PID_BITS: u32 = 22;

/// This process's event stamp: start time in clock ticks since boot, then PID.
pub fn event_seq() -> u64 {
    let pid = std::process::id() as u64;
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| start_ticks(&s))
        .unwrap_or(0);
    (ticks << PID_BITS) | (pid & ((1 << PID_BITS) - 1))
}

/// Field 22 (`starttime`) of `/proc/PID/stat`. The command name (field 2) may contain
/// spaces and parentheses, so count from the last `)`.
fn start_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// An exclusive lock on the state dir, released on drop.
#[derive(Debug)]
pub struct StateLock {
    file: File,
}

impl Drop for StateLock {
    fn drop(&mut self) {
        sys::unlock(self.file.as_fd());
    }
}

/// Name of the file that remembers the received position ([`crate::verdict::reception::Mark`]).
pub const RECEIVED_FILE: &str = "check-mysql.received";

/// Milliseconds since boot, from `/proc/uptime` (counts suspend; unaffected by wall-clock
/// steps, so durations across runs stay true). `None` if it cannot be read.
pub fn uptime_ms() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    let secs: f64 = text.split_whitespace().next()?.parse().ok()?;
    Some((secs * 1000.0) as u64)
}

/// Read `name` in the state dir; `Ok(None)` when it does not exist.
pub fn read(dir: &Path, name: &str) -> std::io::Result<Option<String>> {
    match crate::io::confpath::read_to_string(&dir.join(name)) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replace `name` in the state dir atomically (temp file, fsync, rename), so that a
/// concurrent reader sees the old or the new contents, never half; `None` removes it. The
/// state dir is created if it is missing. The one way every file in the state dir is written.
pub fn write_atomic(dir: &Path, name: &str, contents: Option<&str>) -> std::io::Result<()> {
    use std::io::Write;
    let path = dir.join(name);
    let Some(text) = contents else {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
    };
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{name}.{}", std::process::id()));
    let mut f = File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)
}

/// The refusal marker: notify-master kept this node fenced because the peer was writable
/// (docs/contract.md "Split brain"). Its text says which peer and when, for people.
pub const REFUSAL_FILE: &str = "split-brain.refused";

/// Witness mode: this server's `@@server_id` as the lease's claimant, written by check-mysql
/// when a renewal holds and by notify-master when its claim holds (only when it changes), so
/// that notify-backup can release the lease when the local server is provably not running
/// and cannot tell its server_id itself.
pub const LEASE_ID_FILE: &str = "lease.server-id";

/// Remember `id` in [`LEASE_ID_FILE`], writing only when it differs from what is there.
pub fn remember_lease_id(dir: &Path, id: u32) -> std::io::Result<()> {
    let text = id.to_string();
    if read(dir, LEASE_ID_FILE)?.as_deref().map(str::trim) == Some(text.as_str()) {
        return Ok(());
    }
    write_atomic(dir, LEASE_ID_FILE, Some(&text))
}

/// The server_id [`remember_lease_id`] kept, if any (and readable).
pub fn lease_id(dir: &Path) -> Option<u32> {
    read(dir, LEASE_ID_FILE).ok().flatten()?.trim().parse().ok()
}

/// `check-mysql --watch`'s record of a peer that gives no answer
/// ([`crate::plan::guard::Silence`]), read by notify-master.
pub const PEER_SILENT_FILE: &str = "check-mysql.peer-silent";

/// The watcher's record of a silent peer, if there is a readable one.
pub fn peer_silence(dir: &Path) -> Option<crate::plan::guard::Silence> {
    crate::plan::guard::Silence::parse(&read(dir, PEER_SILENT_FILE).ok()??)
}

/// Whether the refusal marker is there (an unreadable one counts as there: fail safe).
pub fn refusal_present(dir: &Path) -> bool {
    !matches!(read(dir, REFUSAL_FILE), Ok(None))
}

/// Write the refusal marker (`Some`: what to say in it) or remove it (`None`).
pub fn set_refusal(dir: &Path, text: Option<&str>) -> std::io::Result<()> {
    write_atomic(dir, REFUSAL_FILE, text)
}

/// The role file of `state_dir`.
pub fn role_file(state_dir: &Path) -> PathBuf {
    state_dir.join(ROLE_FILE)
}

/// Why the role file could not be used: a configuration error (exit 78) in every binary.
#[derive(Debug, thiserror::Error)]
pub enum RoleFileError {
    /// It exists (or something is in the way) but cannot be read: permission denied on it
    /// or on the state dir, a state dir that is a file or a symlink loop, a directory where
    /// the file should be, an I/O error.
    #[error("cannot read role file {}: {cause}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// It was read and is not a role file.
    #[error("role file {}: {message}", path.display())]
    Bad { path: PathBuf, message: String },
}

/// Read the role file; `Ok(None)` when there is none yet (it does not exist: ENOENT, on it
/// or on the state dir). Anything else that stops the read is an error (issue 9).
pub fn read_role(state_dir: &Path) -> Result<Option<RoleRecord>, RoleFileError> {
    let path = role_file(state_dir);
    match crate::io::confpath::read_to_string(&path) {
        Ok(text) => RoleRecord::parse(&text)
            .map(Some)
            .map_err(|message| RoleFileError::Bad { path, message }),
        Err(e) if is_absent(&path, &e) => Ok(None),
        Err(e) => Err(RoleFileError::Read {
            cause: PathCause::new(&path, e),
            path,
        }),
    }
}

/// Write the role file atomically ([`write_atomic`]), so a concurrent check never reads
/// half a file.
pub fn write_role(state_dir: &Path, record: &RoleRecord) -> std::io::Result<()> {
    write_atomic(state_dir, ROLE_FILE, Some(&record.render()))
}

impl RoleRecord {
    /// Recorded during this boot (a record that does not say is not).
    pub fn this_boot(&self) -> bool {
        self.recorded_in(boot_id().as_deref())
    }
}

/// The kernel's id of the current boot.
pub fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `<binary>.last`: the key of the last verdict `binary` logged (docs/contract.md "Syslog").
fn last_file(binary: &str) -> String {
    format!("{binary}.last")
}

/// The key `binary` last remembered in the state dir; `None` when there is none, or it
/// cannot be read (a check never fails because it cannot remember).
pub(crate) fn read_last(dir: &Path, binary: &str) -> Option<String> {
    read(dir, &last_file(binary)).ok().flatten()
}

/// Remember `key` as the last thing `binary` logged.
pub(crate) fn write_last(dir: &Path, binary: &str, key: &str) -> std::io::Result<()> {
    write_atomic(dir, &last_file(binary), Some(key))
}

/// Why the state dir's lock could not be taken. Every message is one line and names the
/// path.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The state dir cannot be created or is not a directory (permission denied on it or
    /// above it, a file or a symlink loop in the way): a configuration problem.
    #[error("cannot create state dir {}: {cause}", dir.display())]
    CreateDir {
        dir: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// The lock file cannot be opened or created: a configuration problem.
    #[error("cannot open lock {}: {cause}", path.display())]
    OpenLock {
        path: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// `flock` itself failed (not because another helper holds the lock).
    #[error("cannot lock {}: {cause}", path.display())]
    Lock {
        path: PathBuf,
        #[source]
        cause: PathCause,
    },
    /// Another helper held the lock until the deadline: not a configuration problem.
    #[error("state dir {} stayed locked by another helper until the deadline", dir.display())]
    Busy { dir: PathBuf },
}

/// Create the state dir if needed (0755: the check, run by another user, must read it).
pub fn ensure_dir(dir: &Path) -> Result<(), StateError> {
    let Err(e) = std::fs::create_dir_all(dir) else {
        return Ok(());
    };
    // mkdir says only "file exists" when a file or a symlink loop is in the way; what stat
    // says about the path is the real cause.
    let e = match std::fs::metadata(dir) {
        Err(stat) if !is_absent(dir, &stat) => stat,
        Ok(m) if !m.is_dir() => std::io::Error::from_raw_os_error(libc::ENOTDIR),
        _ => e,
    };
    Err(StateError::CreateDir {
        dir: dir.to_path_buf(),
        cause: PathCause::new(dir, e),
    })
}

/// Take the state dir's lock, creating the dir and the lock file if needed, waiting at most
/// until `deadline` for another helper to release it. Errors: see [`StateError`]; all but
/// [`StateError::Busy`] are configuration problems (exit 78).
pub fn lock(dir: &Path, deadline: &Deadline) -> Result<StateLock, StateError> {
    ensure_dir(dir)?;
    let path: PathBuf = dir.join(LOCK_FILE);
    // Read-only is enough for flock, so a lock file that root created (a helper run by
    // hand) still works for keepalived's script_user.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_CREAT)
        .mode(0o644)
        .open(&path)
        .map_err(|e| StateError::OpenLock {
            cause: PathCause::new(&path, e),
            path: path.clone(),
        })?;
    loop {
        // Without waiting (LOCK_NB), so the wait stays bounded by the deadline.
        let Err(err) = sys::try_lock_exclusive(file.as_fd()) else {
            return Ok(StateLock { file });
        };
        if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
            return Err(StateError::Lock {
                path,
                cause: err.into(),
            });
        }
        if deadline.passed() {
            return Err(StateError::Busy {
                dir: dir.to_path_buf(),
            });
        }
        std::thread::sleep(Duration::from_millis(5).min(deadline.remaining()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_ticks_skips_a_command_name_with_parentheses() {
        let stat = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10";
        assert_eq!(start_ticks(stat), Some(987654));
        assert_eq!(start_ticks("garbage"), None);
    }

    #[test]
    fn later_processes_have_larger_stamps() {
        let mine = event_seq();
        assert!(mine >> PID_BITS > 0, "start time read from /proc/self/stat");
        let child = std::process::Command::new("/bin/cat")
            .arg("/proc/self/stat")
            .output()
            .unwrap();
        let ticks = start_ticks(&String::from_utf8_lossy(&child.stdout)).unwrap();
        assert!(ticks >= mine >> PID_BITS);
    }

    #[test]
    fn a_read_only_lock_file_still_locks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOCK_FILE);
        std::fs::write(&path, "").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o444)).unwrap();
        let first = lock(dir.path(), &Deadline::new(Duration::from_secs(1))).unwrap();
        assert!(lock(dir.path(), &Deadline::new(Duration::from_millis(30))).is_err());
        drop(first);
    }

    /// A state dir that cannot be created is a configuration error that says why. (Permission
    /// denied needs a user other than root: tests/it/config_paths.rs.)
    #[test]
    fn a_state_dir_in_the_way_says_why() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("file"), "").unwrap();
        symlink(d.join("loop-b"), d.join("loop-a")).unwrap();
        symlink(d.join("loop-a"), d.join("loop-b")).unwrap();
        for (state, cause) in [
            ("file", "file is a file"),
            ("file/sub", "file is a file"),
            ("loop-a", "loop-a is a symlink loop"),
            ("loop-a/sub", "loop-a is a symlink loop"),
        ] {
            let state = d.join(state);
            let e = lock(&state, &Deadline::new(Duration::from_millis(50))).unwrap_err();
            assert!(matches!(e, StateError::CreateDir { .. }), "{e}");
            let msg = e.to_string();
            assert!(
                msg.starts_with(&format!("cannot create state dir {}: ", state.display())),
                "{msg}"
            );
            assert!(msg.contains(cause), "{msg}");
        }
    }

    #[test]
    fn lock_is_exclusive_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let first = lock(dir.path(), &Deadline::new(Duration::from_secs(1))).unwrap();
        // flock locks belong to the open file description: a second open conflicts even
        // in the same process.
        let second = lock(dir.path(), &Deadline::new(Duration::from_millis(50)));
        assert!(matches!(second, Err(StateError::Busy { .. })), "{second:?}");
        assert!(second.unwrap_err().to_string().contains("stayed locked"));
        drop(first);
        lock(dir.path(), &Deadline::new(Duration::from_millis(50))).unwrap();
    }
}
