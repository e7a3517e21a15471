//! The lab's sampler (`/run/kam-lab/NAME/samples.log`, `lab/lab samples`): every 200 ms, A's
//! and B's `@@read_only` and which nodes hold the VIP. Parsing and the invariants the guard's
//! tests assert are pure functions here, unit-tested below.

use crate::lab::Lab;

/// One line of `samples.log`: `EPOCH_MS RO_A RO_B VIP SPAN_MS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// When the sample began (epoch ms).
    pub ms: u64,
    /// A's `@@read_only`: `Some(true)` fenced, `Some(false)` writable, `None` no answer (`?`).
    pub a: Option<bool>,
    pub b: Option<bool>,
    /// The nodes holding the VIP ("a", "b"), in the sampler's order.
    pub vip: Vec<String>,
    /// How long the sample took (both nodes are read at the same time).
    pub span_ms: u64,
}

impl Sample {
    fn read_only(&self, node: &str) -> Option<bool> {
        if node == "a" { self.a } else { self.b }
    }

    /// The nodes that answered `read_only=0`.
    pub fn writable(&self) -> Vec<&'static str> {
        ["a", "b"]
            .into_iter()
            .filter(|n| self.read_only(n) == Some(false))
            .collect()
    }
}

impl std::fmt::Display for Sample {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ro = |v: Option<bool>| match v {
            Some(true) => "1",
            Some(false) => "0",
            None => "?",
        };
        let vip = if self.vip.is_empty() {
            "none".to_string()
        } else {
            self.vip.join(",")
        };
        write!(
            f,
            "{} read_only a={} b={} vip={vip}",
            self.ms,
            ro(self.a),
            ro(self.b)
        )
    }
}

fn read_only_field(f: &str) -> Option<Option<bool>> {
    match f {
        "0" => Some(Some(false)),
        "1" => Some(Some(true)),
        "?" => Some(None),
        _ => None,
    }
}

/// The samples in `text`; a malformed line (e.g. one being written) is skipped.
pub fn parse_samples(text: &str) -> Vec<Sample> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 5 {
                return None;
            }
            let vip = match f[3] {
                "none" => Vec::new(),
                v => v.split(',').map(str::to_string).collect(),
            };
            if vip.iter().any(|n| n != "a" && n != "b") {
                return None;
            }
            Some(Sample {
                ms: f[0].parse().ok()?,
                a: read_only_field(f[1])?,
                b: read_only_field(f[2])?,
                vip,
                span_ms: f[4].parse().ok()?,
            })
        })
        .collect()
}

/// The samples in which both nodes answered `read_only=0`: a split brain, whatever the VIP.
pub fn both_writable(samples: &[Sample]) -> Vec<&Sample> {
    samples.iter().filter(|s| s.writable().len() == 2).collect()
}

/// The converged state: the VIP on exactly one node, that node writable, the other one
/// fenced (`read_only=1`). Returns the writer.
pub fn one_writer_holding_the_vip(s: &Sample) -> Result<&'static str, String> {
    let [holder] = s.vip.as_slice() else {
        return Err(format!("the VIP is not on exactly one node: {s}"));
    };
    let (writer, other) = if holder == "a" {
        ("a", "b")
    } else {
        ("b", "a")
    };
    match (s.read_only(writer), s.read_only(other)) {
        (Some(false), Some(true)) => Ok(writer),
        _ => Err(format!(
            "the VIP holder {writer} is not the one writable node (the other fenced): {s}"
        )),
    }
}

/// A short description of the first `max` offending samples, for assertion messages.
pub fn describe(samples: &[&Sample], max: usize) -> String {
    let mut out: Vec<String> = samples.iter().take(max).map(|s| s.to_string()).collect();
    if samples.len() > max {
        out.push(format!("... {} more", samples.len() - max));
    }
    out.join("\n")
}

impl Lab {
    pub fn samples(&self) -> Vec<Sample> {
        parse_samples(&std::fs::read_to_string(self.dir.join("samples.log")).unwrap_or_default())
    }

    /// The newest sample that began at or after `since_ms` (the sampler writes every 200 ms).
    pub fn sample_since(&self, since_ms: u64) -> Option<Sample> {
        self.samples().into_iter().rev().find(|s| s.ms >= since_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "\
1000 1 1 none 3
1200 0 1 a 4
1400 0 0 a,b 6
1600 ? 1 b 400
1800 0 1 a 5
garbage line
2000 0 1 a";

    #[test]
    fn parses_samples_and_skips_malformed_lines() {
        let s = parse_samples(LOG);
        assert_eq!(s.len(), 5, "{s:?}");
        assert_eq!(
            s[2],
            Sample {
                ms: 1400,
                a: Some(false),
                b: Some(false),
                vip: vec!["a".into(), "b".into()],
                span_ms: 6
            }
        );
        assert_eq!(s[3].a, None);
        assert_eq!(s[0].vip, Vec::<String>::new());
        assert!(parse_samples("1000 0 1 c 3\n1000 2 1 a 3").is_empty());
    }

    #[test]
    fn both_writable_finds_only_samples_with_two_read_only_zero() {
        let s = parse_samples(LOG);
        let two = both_writable(&s);
        assert_eq!(two.len(), 1);
        assert_eq!(two[0].ms, 1400);
        // An unknown read_only is not writable.
        assert!(both_writable(&parse_samples("1 ? 0 b 1\n2 0 ? a 1")).is_empty());
        assert!(describe(&two, 5).contains("1400 read_only a=0 b=0 vip=a,b"));
    }

    #[test]
    fn one_writer_holding_the_vip_rows() {
        let rows = [
            ("1 0 1 a 1", Ok("a")),
            ("1 1 0 b 1", Ok("b")),
            ("1 0 0 a 1", Err(())),    // both writable
            ("1 1 1 a 1", Err(())),    // the holder is fenced
            ("1 1 0 a 1", Err(())),    // the writable node does not hold the VIP
            ("1 0 1 a,b 1", Err(())),  // two holders
            ("1 0 1 none 1", Err(())), // no holder
            ("1 0 ? a 1", Err(())),    // the other node unknown: not proven fenced
        ];
        for (line, want) in rows {
            let s = &parse_samples(line)[0];
            let got = one_writer_holding_the_vip(s).map_err(|_| ());
            assert_eq!(got, want, "{line}");
        }
    }
}
