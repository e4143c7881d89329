//! Pinned host keys: known_hosts lines (plain or hashed) and `SHA256:` fingerprints. There is no
//! trust on first use: a host whose key matches neither is refused during the key exchange, before
//! authentication, so not one remote command runs (kamal#1814, ssh-action's unchecked default).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use russh::keys::{HashAlg, PublicKey};

/// What the user pinned.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    entries: Vec<Entry>,
    fingerprints: Vec<String>,
}

#[derive(Debug, Clone)]
struct Entry {
    patterns: Vec<String>,
    /// `@revoked`: this key is refused for these hosts.
    revoked: bool,
    /// The key's type and base64 blob, as in the file.
    key_type: String,
    blob: Vec<u8>,
}

/// A bad pin, with the input and line it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinError(pub String);

impl Pins {
    /// Parses `known-hosts` and `host-fingerprints`.
    pub fn parse(known_hosts: Option<&str>, fingerprints: Option<&str>) -> Result<Self, PinError> {
        let mut pins = Self::default();
        for (i, raw) in known_hosts.unwrap_or_default().lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let at = |what: &str| PinError(format!("input `known-hosts` line {}: {what}", i + 1));
            let mut fields = line.split_whitespace();
            let mut first = fields.next().unwrap_or_default();
            let mut revoked = false;
            if first.starts_with('@') {
                match first {
                    "@revoked" => revoked = true,
                    "@cert-authority" => {
                        return Err(at(
                            "`@cert-authority` lines are not supported; pin the host keys themselves",
                        ));
                    }
                    other => return Err(at(&format!("unknown marker `{other}`"))),
                }
                first = fields.next().unwrap_or_default();
            }
            let (Some(key_type), Some(b64)) = (fields.next(), fields.next()) else {
                return Err(at(
                    "expected `host[,host…] key-type base64-key`, as `ssh-keyscan` prints it",
                ));
            };
            let blob = STANDARD
                .decode(b64)
                .map_err(|_| at("the key is not valid base64"))?;
            if PublicKey::from_bytes(&blob).is_err() {
                return Err(at(&format!("`{key_type}` key that cannot be read")));
            }
            pins.entries.push(Entry {
                patterns: first.split(',').map(str::to_owned).collect(),
                revoked,
                key_type: key_type.to_owned(),
                blob,
            });
        }
        for (i, fp) in fingerprints
            .unwrap_or_default()
            .split(['\n', ','])
            .map(str::trim)
            .enumerate()
            .filter(|(_, f)| !f.is_empty())
        {
            let Some(b64) = fp.strip_prefix("SHA256:") else {
                return Err(PinError(format!(
                    "input `host-fingerprints` entry {}: expected `SHA256:…` (as `ssh-keygen -lf` prints it), got \
                     `{fp}`",
                    i + 1
                )));
            };
            let b64 = b64.trim_end_matches('=');
            if base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(b64)
                .map_or(true, |d| d.len() != 32)
            {
                return Err(PinError(format!(
                    "input `host-fingerprints` entry {}: `{fp}` is not a SHA256 fingerprint (43 base64 characters)",
                    i + 1
                )));
            }
            pins.fingerprints.push(format!("SHA256:{b64}"));
        }
        if pins.entries.is_empty() && pins.fingerprints.is_empty() {
            return Err(PinError(
                "host keys must be pinned: set `known-hosts` (lines from `ssh-keyscan -H HOST`) or \
                 `host-fingerprints` (`SHA256:…`)"
                    .to_owned(),
            ));
        }
        Ok(pins)
    }

    /// Whether any pin names `host` at `port` (known_hosts) or there are fingerprints (which pin any host).
    pub fn covers(&self, host: &str, port: u16) -> bool {
        !self.fingerprints.is_empty()
            || self
                .entries
                .iter()
                .any(|e| !e.revoked && e.patterns.iter().any(|p| matches(p, host, port)))
    }

    /// Checks the key the server presented.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> Verdict {
        let Ok(blob) = key.to_bytes() else {
            return Verdict::Unknown;
        };
        let applies = |e: &&Entry| e.patterns.iter().any(|p| matches(p, host, port));
        if self
            .entries
            .iter()
            .filter(applies)
            .any(|e| e.revoked && e.blob == blob)
        {
            return Verdict::Revoked;
        }
        if self
            .entries
            .iter()
            .filter(applies)
            .any(|e| !e.revoked && e.blob == blob)
        {
            return Verdict::Trusted;
        }
        let fp = fingerprint(key);
        if self.fingerprints.contains(&fp) {
            return Verdict::Trusted;
        }
        let pinned_types: Vec<&str> = self
            .entries
            .iter()
            .filter(applies)
            .filter(|e| !e.revoked)
            .map(|e| e.key_type.as_str())
            .collect();
        if pinned_types.is_empty() {
            Verdict::Unknown
        } else {
            Verdict::Changed
        }
    }
}

/// A key's `SHA256:…` fingerprint, as `ssh-keygen -lf` prints it.
pub fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

/// The check's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Pinned.
    Trusted,
    /// The host has pins, and this key is not among them.
    Changed,
    /// Nothing pins this host.
    Unknown,
    /// A `@revoked` line names this key.
    Revoked,
}

/// One known_hosts host pattern against `host` and `port`: `host`, `[host]:port`, `*`/`?` wildcards,
/// `!negation` is treated as "does not match" (enough to never trust wrongly), and `|1|salt|hash`.
fn matches(pattern: &str, host: &str, port: u16) -> bool {
    let name = if port == 22 {
        host.to_owned()
    } else {
        format!("[{host}]:{port}")
    };
    if let Some(hashed) = pattern.strip_prefix("|1|") {
        let Some((salt, hash)) = hashed.split_once('|') else {
            return false;
        };
        let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
            return false;
        };
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        return ring::hmac::verify(&key, name.as_bytes(), &hash).is_ok();
    }
    if pattern.starts_with('!') {
        return false;
    }
    wildcard(pattern.as_bytes(), name.as_bytes())
}

fn wildcard(p: &[u8], s: &[u8]) -> bool {
    match (p.first(), s.first()) {
        (None, None) => true,
        (Some(b'*'), _) => wildcard(&p[1..], s) || (!s.is_empty() && wildcard(p, &s[1..])),
        (Some(b'?'), Some(_)) => wildcard(&p[1..], &s[1..]),
        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => wildcard(&p[1..], &s[1..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // An ed25519 host key (public half only), as `ssh-keyscan` prints it.
    const KEY: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const OTHER: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIBxm2dNX4jT9uL1KqQvYCm2TJhzZFkHEE0UvIpF1j5B0";

    fn key(b64: &str) -> PublicKey {
        PublicKey::from_bytes(&STANDARD.decode(b64).unwrap()).unwrap()
    }

    fn hashed(name: &str) -> String {
        let salt = [7u8; 20];
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, &salt);
        let tag = ring::hmac::sign(&k, name.as_bytes());
        format!("|1|{}|{}", STANDARD.encode(salt), STANDARD.encode(tag.as_ref()))
    }

    #[test]
    fn plain_hashed_ported_and_wildcard_lines() {
        for (line, host, port, want) in [
            (
                format!("10.0.0.2 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                22,
                Verdict::Trusted,
            ),
            (
                format!("10.0.0.2 ssh-ed25519 {OTHER}"),
                "10.0.0.2",
                22,
                Verdict::Changed,
            ),
            (
                format!("10.0.0.3 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                22,
                Verdict::Unknown,
            ),
            (
                format!("[10.0.0.2]:2222 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                2222,
                Verdict::Trusted,
            ),
            (
                format!("10.0.0.2 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                2222,
                Verdict::Unknown,
            ),
            (
                format!("{} ssh-ed25519 {KEY}", hashed("10.0.0.2")),
                "10.0.0.2",
                22,
                Verdict::Trusted,
            ),
            (
                format!("{} ssh-ed25519 {KEY}", hashed("10.0.0.9")),
                "10.0.0.2",
                22,
                Verdict::Unknown,
            ),
            (
                format!("*.example.com ssh-ed25519 {KEY}"),
                "web.example.com",
                22,
                Verdict::Trusted,
            ),
            (
                format!("a,10.0.0.2 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                22,
                Verdict::Trusted,
            ),
            (
                format!("@revoked 10.0.0.2 ssh-ed25519 {KEY}\n10.0.0.2 ssh-ed25519 {KEY}"),
                "10.0.0.2",
                22,
                Verdict::Revoked,
            ),
        ] {
            let pins = Pins::parse(Some(&line), None).unwrap();
            assert_eq!(pins.check(host, port, &key(KEY)), want, "{line}");
        }
    }

    #[test]
    fn fingerprints_pin_any_host() {
        let fp = fingerprint(&key(KEY));
        assert!(fp.starts_with("SHA256:"), "{fp}");
        let pins = Pins::parse(
            None,
            Some(&format!(
                "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n{fp}"
            )),
        )
        .unwrap();
        assert_eq!(pins.check("anything", 22, &key(KEY)), Verdict::Trusted);
        assert_eq!(pins.check("anything", 22, &key(OTHER)), Verdict::Unknown);
    }

    #[test]
    fn nothing_pinned_or_bad_lines_are_input_errors() {
        for (kh, fp, want) in [
            (None, None, "host keys must be pinned"),
            (Some("10.0.0.2 ssh-ed25519"), None, "line 1: expected"),
            (
                Some("# c\n10.0.0.2 ssh-ed25519 !!!"),
                None,
                "line 2: the key is not valid base64",
            ),
            (None, Some("MD5:aa:bb"), "entry 1: expected `SHA256:"),
            (None, Some("SHA256:short"), "not a SHA256 fingerprint"),
            (
                Some(&*format!("@cert-authority *.x ssh-ed25519 {KEY}")),
                None,
                "not supported",
            ),
        ] {
            let err = Pins::parse(kh, fp).unwrap_err();
            assert!(err.0.contains(want), "{err:?} should contain {want}");
        }
    }
}
