//! Versions as node-semver's `valid()` (strict) and `parse()` read them, which is what
//! docker/metadata-action's `type=semver` accepts: an optional leading `v`, no leading zeros in numeric
//! parts, prerelease after `-`, build metadata after `+` (dropped from `{{version}}`).

/// Numbers above this are rejected, as in node-semver (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: u64 = 9_007_199_254_740_991;
/// node-semver refuses longer strings.
const MAX_LENGTH: usize = 256;

/// A valid semantic version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemVer {
    /// The input as given.
    pub raw: String,
    /// Major.
    pub major: u64,
    /// Minor.
    pub minor: u64,
    /// Patch.
    pub patch: u64,
    /// Prerelease identifiers.
    pub prerelease: Vec<String>,
    /// Build metadata identifiers.
    pub build: Vec<String>,
}

impl SemVer {
    /// `major.minor.patch[-prerelease]`, node-semver's `version`.
    pub fn version(&self) -> String {
        let mut out = format!("{}.{}.{}", self.major, self.minor, self.patch);
        if !self.prerelease.is_empty() {
            out.push('-');
            out.push_str(&self.prerelease.join("."));
        }
        out
    }

    /// The names a `pattern` can use.
    pub fn var(&self, name: &str) -> Option<String> {
        Some(match name {
            "raw" => self.raw.clone(),
            "version" => self.version(),
            "major" => self.major.to_string(),
            "minor" => self.minor.to_string(),
            "patch" => self.patch.to_string(),
            // JavaScript arrays print with commas
            "prerelease" => self.prerelease.join(","),
            "build" => self.build.join(","),
            _ => return None,
        })
    }
}

/// node-semver's strict parse; `None` when `semver.valid()` would return null.
pub fn parse(raw: &str) -> Option<SemVer> {
    if raw.len() > MAX_LENGTH {
        return None;
    }
    let s = raw.trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let (rest, build) = match s.split_once('+') {
        Some((rest, build)) => (rest, Some(build)),
        None => (s, None),
    };
    let (main, pre) = match rest.split_once('-') {
        Some((main, pre)) => (main, Some(pre)),
        None => (rest, None),
    };
    let mut parts = main.split('.');
    let major = numeric(parts.next()?)?;
    let minor = numeric(parts.next()?)?;
    let patch = numeric(parts.next()?)?;
    if parts.next().is_some() {
        return None;
    }
    let prerelease = match pre {
        Some(pre) => pre
            .split('.')
            .map(|id| prerelease_id(id).then(|| id.to_owned()))
            .collect::<Option<Vec<_>>>()?,
        None => Vec::new(),
    };
    let build = match build {
        Some(build) => build
            .split('.')
            .map(|id| {
                (!id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
                    .then(|| id.to_owned())
            })
            .collect::<Option<Vec<_>>>()?,
        None => Vec::new(),
    };
    Some(SemVer {
        raw: raw.to_owned(),
        major,
        minor,
        patch,
        prerelease,
        build,
    })
}

/// `0|[1-9]\d*`, at most `MAX_SAFE_INTEGER`.
fn numeric(s: &str) -> Option<u64> {
    let ok = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if !ok {
        return None;
    }
    s.parse::<u64>().ok().filter(|n| *n <= MAX_SAFE_INTEGER)
}

/// `0|[1-9]\d*|\d*[a-zA-Z-][a-zA-Z0-9-]*`.
fn prerelease_id(id: &str) -> bool {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return false;
    }
    if id.bytes().all(|b| b.is_ascii_digit()) {
        return numeric(id).is_some();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Expected values from node-semver 7 (`semver.valid(v)` and the parsed `version`).
    #[test]
    fn validity_matches_node_semver() {
        for (input, expected) in [
            ("v1.2.3", Some("1.2.3")),
            ("V1.2.3", None),
            ("=1.2.3", None),
            (" 1.2.3 ", Some("1.2.3")),
            ("1.2", None),
            ("01.2.3", None),
            ("1.2.3-01", None),
            ("1.2.3-beta.01", None),
            ("1.2.3+build.01", Some("1.2.3")),
            ("1.2.3-0a", Some("1.2.3-0a")),
            ("v1.2.3-rc.1+b.2", Some("1.2.3-rc.1")),
            ("1.2.3-", None),
            ("9007199254740992.0.0", None),
            ("v2.0.8-beta.67", Some("2.0.8-beta.67")),
            ("1.2.3-alpha_1", None),
            ("vv1.2.3", None),
            ("1.2.3.4", None),
            ("v9.5.7-alpha.2+fork.3.1.8", Some("9.5.7-alpha.2")),
        ] {
            assert_eq!(
                parse(input).map(|v| v.version()).as_deref(),
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn pattern_names() {
        let v = parse("v1.2.3-rc.1+b.2").unwrap();
        for (name, expected) in [
            ("raw", "v1.2.3-rc.1+b.2"),
            ("version", "1.2.3-rc.1"),
            ("major", "1"),
            ("minor", "2"),
            ("patch", "3"),
            ("prerelease", "rc,1"),
            ("build", "b,2"),
        ] {
            assert_eq!(v.var(name).as_deref(), Some(expected), "{name}");
        }
        assert_eq!(v.var("date"), None);
    }
}
