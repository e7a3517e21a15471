//! The node's role: recorded by the notify helpers in a role file in the state dir, or
//! inferred from the VIP being on a local interface (docs/contract.md "Roles").

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::io::confpath::{PathCause, is_absent};

/// Default state dir (defined in cli.rs, which builds the help text from it).
pub use crate::cli::DEFAULT_STATE_DIR;
/// Name of the role file inside the state dir.
pub const ROLE_FILE: &str = "role";

/// What the verdict rules are applied as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Holds the VIP and takes writes.
    Writer,
    /// Does not hold the VIP; must be able to take over.
    Standby,
    /// notify-master is waiting for catch-up while the node is still fenced.
    Promoting,
    /// notify-master gave up (`--on-catchup-timeout fail`): the node must release the VIP.
    PromotionFailed,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Writer => "writer",
            Role::Standby => "standby",
            Role::Promoting => "promoting",
            Role::PromotionFailed => "promotion-failed",
        }
    }

    pub fn parse(word: &str) -> Option<Role> {
        match word.trim() {
            "writer" => Some(Role::Writer),
            "standby" => Some(Role::Standby),
            "promoting" => Some(Role::Promoting),
            "promotion-failed" => Some(Role::PromotionFailed),
            _ => None,
        }
    }

    /// Writer rules apply (VIP held or being taken).
    pub fn holds_vip(self) -> bool {
        !matches!(self, Role::Standby)
    }
}

pub use crate::cli::RoleArg;

/// Contents of the role file: `role=<word>` and `seq=<n>` lines (other keys kept for people).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub role: Role,
    /// Increases with every transition the notify helpers record.
    pub seq: u64,
    /// For `promoting`: the Unix time by which notify-master must have finished. A promotion
    /// still recorded after that (notify-master killed, or stuck) counts as failed, so that a
    /// fenced node is not passed forever.
    pub until: Option<u64>,
    /// The kernel's boot id when it was recorded. Event stamps count from boot, so a record
    /// from another boot (a state dir on persistent storage) can be compared with nothing.
    pub boot: Option<String>,
}

impl RoleRecord {
    pub fn parse(text: &str) -> Result<RoleRecord, String> {
        let mut role = None;
        let mut seq = 0;
        let mut until = None;
        let mut boot = None;
        for line in text.lines() {
            match line.split_once('=') {
                Some(("role", v)) => {
                    role = Some(Role::parse(v).ok_or_else(|| format!("unknown role '{v}'"))?)
                }
                Some(("seq", v)) => seq = v.trim().parse().map_err(|_| format!("bad seq '{v}'"))?,
                Some(("boot", v)) => boot = Some(v.trim().to_string()),
                Some(("until", v)) => {
                    until = Some(v.trim().parse().map_err(|_| format!("bad until '{v}'"))?)
                }
                _ => {}
            }
        }
        Ok(RoleRecord {
            role: role.ok_or("no role= line")?,
            seq,
            until,
            boot,
        })
    }

    /// Recorded during this boot (a record that does not say is not).
    pub fn this_boot(&self) -> bool {
        self.boot.is_some() && self.boot == boot_id()
    }

    pub fn render(&self) -> String {
        let mut s = format!("role={}\nseq={}\n", self.role.as_str(), self.seq);
        if let Some(u) = self.until {
            s.push_str(&format!("until={u}\n"));
        }
        if let Some(b) = &self.boot {
            s.push_str(&format!("boot={b}\n"));
        }
        s
    }
}

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
    match std::fs::read_to_string(&path) {
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

/// Write the role file atomically (temp file + rename), so a concurrent check never reads
/// half a file.
pub fn write_role(state_dir: &Path, record: &RoleRecord) -> std::io::Result<()> {
    let path = role_file(state_dir);
    let tmp = state_dir.join(format!(".{ROLE_FILE}.{}", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(record.render().as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, &path)
}

/// Is `addr` configured on a local interface?
pub fn address_is_local(addr: IpAddr) -> std::io::Result<bool> {
    Ok(crate::io::sys::local_addresses()?.contains(&addr))
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

/// Where the role came from, for `-v` and JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDecision {
    pub role: Role,
    pub source: String,
}

/// Resolve `--role` (docs/contract.md "Roles": role file, else VIP on a local interface, else standby).
pub fn resolve(
    arg: RoleArg,
    state_dir: &Path,
    vip: Option<IpAddr>,
) -> Result<RoleDecision, String> {
    let decided = |role: Role, source: String| Ok(RoleDecision { role, source });
    match arg {
        RoleArg::Writer => return decided(Role::Writer, "--role".into()),
        RoleArg::Standby => return decided(Role::Standby, "--role".into()),
        RoleArg::Auto => {}
    }
    let recorded = read_role(state_dir).map_err(|e| e.to_string())?;
    // A role recorded before a reboot says nothing about now (the VIP is gone with the boot).
    let stale = recorded
        .as_ref()
        .is_some_and(|r| r.boot.is_some() && !r.this_boot());
    if let Some(rec) = recorded.filter(|_| !stale) {
        let source = format!("role file {}", role_file(state_dir).display());
        if rec.role == Role::Promoting && rec.until.is_some_and(|u| u < unix_now()) {
            return decided(
                Role::PromotionFailed,
                format!("{source}: promoting past its deadline (notify-master killed or stuck)"),
            );
        }
        return decided(rec.role, source);
    }
    if let Some(vip) = vip {
        return match address_is_local(vip) {
            Ok(true) => decided(Role::Writer, format!("VIP {vip} is local")),
            Ok(false) => decided(Role::Standby, format!("VIP {vip} is not local")),
            Err(e) => Err(format!("cannot list local addresses: {e}")),
        };
    }
    let why = if stale {
        "default (role file from a previous boot ignored, no --vip)"
    } else {
        "default (no role file, no --vip)"
    };
    decided(Role::Standby, why.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_file_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read_role(dir.path()).unwrap(), None);
        for role in [
            Role::Writer,
            Role::Standby,
            Role::Promoting,
            Role::PromotionFailed,
        ] {
            let rec = RoleRecord {
                role,
                seq: 7,
                until: None,
                boot: boot_id(),
            };
            write_role(dir.path(), &rec).unwrap();
            assert_eq!(read_role(dir.path()).unwrap(), Some(rec));
            let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
            assert_eq!(d.role, role);
        }
    }

    #[test]
    fn promoting_past_its_deadline_counts_as_failed() {
        let dir = tempfile::tempdir().unwrap();
        let now = unix_now();
        let rec = |until| RoleRecord {
            role: Role::Promoting,
            seq: 3,
            until: Some(until),
            boot: boot_id(),
        };
        write_role(dir.path(), &rec(now + 60)).unwrap();
        assert_eq!(read_role(dir.path()).unwrap(), Some(rec(now + 60)));
        assert_eq!(
            resolve(RoleArg::Auto, dir.path(), None).unwrap().role,
            Role::Promoting
        );
        write_role(dir.path(), &rec(now - 1)).unwrap();
        let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::PromotionFailed);
        assert!(d.source.contains("past its deadline"), "{}", d.source);
    }

    #[test]
    fn a_role_from_a_previous_boot_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let old = RoleRecord {
            role: Role::Writer,
            seq: u64::MAX,
            until: None,
            boot: Some("00000000-0000-0000-0000-000000000000".into()),
        };
        write_role(dir.path(), &old).unwrap();
        assert!(!read_role(dir.path()).unwrap().unwrap().this_boot());
        let d = resolve(RoleArg::Auto, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::Standby);
        assert!(d.source.contains("previous boot"), "{}", d.source);
        let now = RoleRecord {
            boot: boot_id(),
            ..old
        };
        assert!(now.this_boot());
        write_role(dir.path(), &now).unwrap();
        assert_eq!(
            resolve(RoleArg::Auto, dir.path(), None).unwrap().role,
            Role::Writer
        );
    }

    #[test]
    fn bad_role_file_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(role_file(dir.path()), "role=king\n").unwrap();
        assert!(
            read_role(dir.path())
                .unwrap_err()
                .to_string()
                .contains("unknown role")
        );
    }

    /// Anything but a missing role file stops the role from being decided: a check must not
    /// judge a writer by standby rules because the file could not be read. (Permission
    /// denied needs a user other than root: tests/it/config_paths.rs.)
    #[test]
    fn an_unreadable_role_file_is_an_error() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // The state dir missing altogether: no role yet.
        assert_eq!(read_role(&d.join("none")).unwrap(), None);
        std::fs::write(d.join("file"), "").unwrap();
        std::fs::create_dir_all(d.join("dir-role/role")).unwrap();
        symlink(d.join("loop-b"), d.join("loop-a")).unwrap();
        symlink(d.join("loop-a"), d.join("loop-b")).unwrap();
        std::fs::create_dir(d.join("looping-role")).unwrap();
        symlink("role", d.join("looping-role/role")).unwrap();
        std::fs::create_dir(d.join("dangling-role")).unwrap();
        symlink("/nonexistent/role", d.join("dangling-role/role")).unwrap();
        for (state, cause) in [
            ("file", "file is a file"),
            ("dir-role", "is a directory"),
            ("loop-a", "loop-a is a symlink loop"),
            ("looping-role", "role is a symlink loop"),
            ("dangling-role", "which does not exist"),
        ] {
            let state = d.join(state);
            let e = read_role(&state).unwrap_err();
            assert!(matches!(e, RoleFileError::Read { .. }), "{e}");
            let msg = e.to_string();
            let path = role_file(&state);
            assert!(
                msg.starts_with(&format!("cannot read role file {}: ", path.display())),
                "{msg}"
            );
            assert!(msg.contains(cause), "{msg}");
            let err = resolve(RoleArg::Auto, &state, None).unwrap_err();
            assert_eq!(err, msg);
        }
    }

    #[test]
    fn explicit_role_wins_and_default_is_standby() {
        let dir = tempfile::tempdir().unwrap();
        write_role(
            dir.path(),
            &RoleRecord {
                role: Role::Writer,
                seq: 1,
                until: None,
                boot: boot_id(),
            },
        )
        .unwrap();
        let d = resolve(RoleArg::Standby, dir.path(), None).unwrap();
        assert_eq!(d.role, Role::Standby);
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(
            resolve(RoleArg::Auto, empty.path(), None).unwrap().role,
            Role::Standby
        );
    }

    #[test]
    fn loopback_is_local_and_documentation_address_is_not() {
        assert!(address_is_local("127.0.0.1".parse().unwrap()).unwrap());
        // 192.0.2.0/24 is reserved for documentation: never configured here. Nothing is sent.
        assert!(!address_is_local("192.0.2.77".parse().unwrap()).unwrap());
        let empty = tempfile::tempdir().unwrap();
        let d = resolve(
            RoleArg::Auto,
            empty.path(),
            Some("127.0.0.1".parse().unwrap()),
        )
        .unwrap();
        assert_eq!(d.role, Role::Writer);
    }
}
