//! The node's role (docs/contract.md "Roles") and the record of it that the notify helpers
//! keep in the state dir's role file: the types, and the file's text, without IO. Reading
//! and writing the file is `io::state`; deciding the role of a check is `io::role`.

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

    /// Recorded during the boot whose id is `boot` (a record that does not say is not).
    /// `io::state` gives `RoleRecord::this_boot`, with the kernel's boot id.
    pub fn recorded_in(&self, boot: Option<&str>) -> bool {
        self.boot.is_some() && self.boot.as_deref() == boot
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

/// Where the role came from, for `-v` and JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleDecision {
    pub role: Role,
    pub source: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_text_round_trip() {
        for role in [
            Role::Writer,
            Role::Standby,
            Role::Promoting,
            Role::PromotionFailed,
        ] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let rec = RoleRecord {
                role,
                seq: 7,
                until: Some(1_700_000_000),
                boot: Some("b00t".into()),
            };
            assert_eq!(RoleRecord::parse(&rec.render()), Ok(rec));
        }
        let bare = RoleRecord::parse("role=writer\n").unwrap();
        assert_eq!((bare.seq, bare.until, bare.boot), (0, None, None));
        assert_eq!(
            RoleRecord::parse("role=king\n"),
            Err("unknown role 'king'".into())
        );
        assert_eq!(RoleRecord::parse("seq=1\n"), Err("no role= line".into()));
    }

    #[test]
    fn a_record_of_no_boot_is_of_no_boot() {
        let rec = |boot: Option<&str>| RoleRecord {
            role: Role::Writer,
            seq: 1,
            until: None,
            boot: boot.map(Into::into),
        };
        assert!(rec(Some("a")).recorded_in(Some("a")));
        assert!(!rec(Some("a")).recorded_in(Some("b")));
        assert!(!rec(Some("a")).recorded_in(None));
        assert!(!rec(None).recorded_in(None));
    }
}
