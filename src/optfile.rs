//! MySQL option-file reader (`my.cnf` syntax), agreeing with MariaDB's `my_print_defaults`.
//! TEMPORARY STUB so the crate compiles; helper-1 replaces this whole file.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionEntry {
    pub group: String,
    pub key: String,
    pub value: Option<String>,
    pub source: std::path::PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum OptionFileError {
    #[error("cannot read option file {path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

pub fn read(path: &std::path::Path, groups: &[&str]) -> Result<Vec<OptionEntry>, OptionFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| OptionFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut group = String::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let l = line.trim();
        if l.starts_with('[') {
            group = l.trim_matches(|c| c == '[' || c == ']').to_string();
        } else if !l.is_empty() && !l.starts_with('#') && groups.contains(&group.as_str()) {
            let (k, v) = match l.split_once('=') {
                Some((k, v)) => (k.trim().to_string(), Some(v.trim().to_string())),
                None => (l.to_string(), None),
            };
            out.push(OptionEntry { group: group.clone(), key: k, value: v, source: path.into() });
        }
    }
    Ok(out)
}
