//! `Secret`: a value that never prints itself, and the one place that knows what a secret looks like.
//!
//! Tokens, passwords and auth headers travel as `Secret`. There is no `Display`, and `Debug` prints
//! `Secret(***)`, so a secret cannot reach a log, a summary, an output or an error by accident.
//! Every call to [`Secret::expose`] is a review point.
//!
//! A secret shows up in text in more forms than the one it was given in: a registry echoes
//! `Basic base64(user:password)`, PostgreSQL echoes the decoded password of a percent-encoded URL.
//! [`derived_forms`] lists the forms, and [`Redactor`] hides all of them in text and in reports; a
//! bare password that could be an ordinary word is left to its URL form ([`url_masks`]), because
//! masking `postgres` would blank that word everywhere in the job log. [`looks_secret`] is the one
//! name heuristic every tool uses.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE_NO_PAD};

use crate::finding::{Finding, RuleInfo};

/// A secret value (token, password, header). Construct with [`Secret::new`] or [`Secret::parse`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a value as is.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// Parses a secret from user input: trimmed, and empty is rejected. Usable as a clap `value_parser`.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("a secret cannot be empty".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// The secret's value. Call sites are review points: never format the result into user-visible text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `text` contains this secret.
    pub fn is_in(&self, text: &str) -> bool {
        !self.0.is_empty() && text.contains(self.0.as_str())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::str::FromStr for Secret {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// Replaces every occurrence of each mask in `text` with `***`, longest mask first so that a secret which
/// contains another is hidden whole. Each line of a multi-line mask is masked on its own, as the runner does.
pub fn redact(text: &str, masks: &[String]) -> String {
    Redactor::new(masks).redact(text).into_owned()
}

/// Hides a set of masks in text, findings and JSON: what the runner hides in the log, applied to
/// everything else a tool writes (SARIF and JSON reports, pull-request comments). Build it once per
/// report; it never prints the masks (`Debug` shows how many there are).
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so a secret that contains another is hidden whole.
    parts: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Redactor")
            .field("masks", &self.parts.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor for `masks` (each mask, and each line of a multi-line mask).
    pub fn new(masks: &[String]) -> Self {
        let mut parts: Vec<String> = masks
            .iter()
            .flat_map(|m| std::iter::once(m.as_str()).chain(m.lines()))
            .map(|m| m.trim_end_matches('\r'))
            .filter(|m| !m.is_empty())
            .map(str::to_owned)
            .collect();
        parts.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        parts.dedup();
        Self { parts }
    }

    /// Whether there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// `text` with every mask replaced by `***`; borrowed when nothing had to change.
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        for part in &self.parts {
            if out.contains(part.as_str()) {
                out = Cow::Owned(out.replace(part.as_str(), "***"));
            }
        }
        out
    }

    fn redact_in_place(&self, text: &mut String) {
        if let Cow::Owned(redacted) = self.redact(text) {
            *text = redacted;
        }
    }

    /// Redacts every text of a finding (rule, path, title, message, help, source). The fingerprint is a
    /// hash and stays as it is, so identities do not change with the masks.
    pub fn redact_finding(&self, finding: &mut Finding) {
        if self.is_empty() {
            return;
        }
        self.redact_in_place(&mut finding.rule);
        self.redact_in_place(&mut finding.message);
        for text in [
            &mut finding.path,
            &mut finding.title,
            &mut finding.help,
            &mut finding.source,
        ]
        .into_iter()
        .flatten()
        {
            self.redact_in_place(text);
        }
    }

    /// A finding with every text redacted; borrowed when none held a mask.
    pub fn finding<'a>(&self, finding: &'a Finding) -> Cow<'a, Finding> {
        let holds_mask = |text: &str| self.parts.iter().any(|p| text.contains(p.as_str()));
        let texts = [
            Some(finding.rule.as_str()),
            Some(finding.message.as_str()),
            finding.path.as_deref(),
            finding.title.as_deref(),
            finding.help.as_deref(),
            finding.source.as_deref(),
        ];
        if !texts.into_iter().flatten().any(holds_mask) {
            return Cow::Borrowed(finding);
        }
        let mut owned = finding.clone();
        self.redact_finding(&mut owned);
        Cow::Owned(owned)
    }

    /// Redacts a rule's texts (id, descriptions, help and its link), which reports may carry from
    /// the linter that wrote them.
    pub fn redact_rule(&self, rule: &mut RuleInfo) {
        if self.is_empty() {
            return;
        }
        self.redact_in_place(&mut rule.id);
        self.redact_in_place(&mut rule.short_description);
        for text in [&mut rule.help, &mut rule.help_uri].into_iter().flatten() {
            self.redact_in_place(text);
        }
        for tag in &mut rule.tags {
            self.redact_in_place(tag);
        }
    }

    /// Redacts every string value in a JSON tree (object keys are the document's shape and stay).
    pub fn redact_json(&self, value: &mut serde_json::Value) {
        use serde_json::Value;
        if self.is_empty() {
            return;
        }
        match value {
            Value::String(text) => self.redact_in_place(text),
            Value::Array(items) => items.iter_mut().for_each(|v| self.redact_json(v)),
            Value::Object(map) => map.values_mut().for_each(|v| self.redact_json(v)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// A JSON document that is already text, with every string value redacted: parsed and written
    /// again (compact) only when it holds a mask, as it is or JSON-escaped. Replacing inside the text
    /// instead could hit a key or the document's punctuation and break it. Text that is not JSON is
    /// redacted as text.
    pub fn redact_json_text<'a>(&self, json: &'a str) -> Cow<'a, str> {
        let holds_mask = self.parts.iter().any(|p| {
            json.contains(p.as_str())
                || serde_json::to_string(p)
                    .ok()
                    .is_some_and(|quoted| json.contains(&quoted[1..quoted.len() - 1]))
        });
        if !holds_mask {
            return Cow::Borrowed(json);
        }
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(mut value) => {
                self.redact_json(&mut value);
                match serde_json::to_string(&value) {
                    Ok(text) => Cow::Owned(text),
                    Err(_) => self.redact(json),
                }
            }
            Err(_) => self.redact(json),
        }
    }
}

/// Derived forms shorter than this are not masked: a decoded `%41%42` is `AB`, and masking that would
/// blank every `AB` in the log. The value itself is always masked.
const MIN_DERIVED_CHARS: usize = 6;

/// The forms a secret value takes in text, the value first: as given, percent-decoded, percent-encoded
/// (every reserved byte; as a URL's user info writes it; as a form body writes it), and base64
/// (standard and URL-safe, without padding, so a padded copy is hidden too). Forms equal to another, and
/// derived forms shorter than six characters, are left out.
pub fn derived_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    if value.is_empty() {
        return forms;
    }
    let mut candidates = Vec::new();
    if let Some(decoded) = percent_decode(value) {
        candidates.push(decoded);
    }
    candidates.push(percent_encode(value, Encode::Component));
    candidates.push(percent_encode(value, Encode::Userinfo));
    candidates.push(percent_encode(value, Encode::Form));
    candidates.push(STANDARD_NO_PAD.encode(value));
    candidates.push(URL_SAFE_NO_PAD.encode(value));
    for form in candidates {
        if form.chars().count() >= MIN_DERIVED_CHARS && !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

/// The credential of an HTTP `Authorization: Basic` header, `base64(user:password)`: what a server that
/// echoes the header shows, and what masking the password alone does not hide.
pub fn basic_credential(user: &str, password: &Secret) -> Secret {
    Secret::new(STANDARD.encode(format!("{user}:{}", password.expose())))
}

/// Passwords that templates, service containers and tutorials use; masked on their own they would
/// blank the word everywhere in the job log.
const COMMON_PASSWORDS: &[&str] = &[
    "postgres",
    "postgresql",
    "password",
    "secret",
    "admin",
    "root",
    "mysql",
    "changeme",
    "example",
    "default",
    "letmein",
    "qwerty",
    "123456",
    "guest",
    "test",
    "user",
];

/// A bare password shorter than this is not masked on its own (a one-letter password would mask that
/// letter inside every word).
pub const MIN_MASKED_PASSWORD_CHARS: usize = 6;

/// Why a password cannot be masked on its own without blanking ordinary words in the log: shorter than
/// [`MIN_MASKED_PASSWORD_CHARS`], equal to the user name, or a well-known default. `None` when it can.
pub fn weak_password(user: Option<&str>, password: &str) -> Option<&'static str> {
    if password.chars().count() < MIN_MASKED_PASSWORD_CHARS {
        Some("shorter than 6 characters")
    } else if user.is_some_and(|u| u.eq_ignore_ascii_case(password)) {
        Some("it is the user name")
    } else if COMMON_PASSWORDS
        .iter()
        .any(|common| common.eq_ignore_ascii_case(password))
    {
        Some("a well-known default")
    } else {
        None
    }
}

/// What to mask for a URL that may carry credentials (`postgres://user:password@host/db`).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct UrlMasks {
    /// The URL as given, its `user:password@` part, and the password when it can be masked alone
    /// (each is also masked in its [`derived_forms`] by the runner).
    pub masks: Vec<String>,
    /// Why the password is not masked on its own ([`weak_password`]), when it has one and is not.
    pub password_left_out: Option<&'static str>,
}

impl fmt::Debug for UrlMasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UrlMasks")
            .field("masks", &self.masks.len())
            .field("password_left_out", &self.password_left_out)
            .finish()
    }
}

/// The masks of a URL that may carry credentials: the URL always; with a password, its `user:password@`
/// part (as written, and decoded) and the password itself (as written; its decoded form follows from
/// [`derived_forms`]) unless [`weak_password`] says masking it alone would blank ordinary words.
pub fn url_masks(url: &str) -> UrlMasks {
    let url = url.trim();
    let mut out = UrlMasks {
        masks: vec![url.to_owned()],
        password_left_out: None,
    };
    let Some(userinfo) = url_userinfo(url) else {
        return out;
    };
    let Some((user, password)) = userinfo.split_once(':') else {
        return out;
    };
    if password.is_empty() {
        return out;
    }
    let written = format!("{userinfo}@");
    let decoded_user = percent_decode(user).unwrap_or_else(|| user.to_owned());
    let decoded_password = percent_decode(password).unwrap_or_else(|| password.to_owned());
    out.masks.push(written.clone());
    let decoded = format!("{decoded_user}:{decoded_password}@");
    if decoded != written {
        out.masks.push(decoded);
    }
    match weak_password(Some(&decoded_user), &decoded_password)
        .or_else(|| weak_password(Some(user), password))
    {
        Some(reason) => out.password_left_out = Some(reason),
        None => out.masks.push(password.to_owned()),
    }
    out
}

/// The user info of a URL (`user:password` in `scheme://user:password@host/…`), as written.
fn url_userinfo(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    Some(authority.rsplit_once('@')?.0).filter(|u| !u.is_empty())
}

/// Names of variables, inputs, headers and captures whose values are secret: the one heuristic every
/// tool uses, so a value masked by one tool is masked by all. Case and `-`/`_` do not matter; a name
/// matches when it contains `token`, `secret`, `pass` (`password`, `passwd`, `*_PASS`), `pwd`, `key`,
/// `auth`, `cookie`, `session`, `credential`, `private`, `jwt`, `bearer`, `dsn`, `cert` or
/// `connection_string`, or ends with `database_url`.
pub fn looks_secret(name: &str) -> bool {
    let name = name.to_ascii_lowercase().replace('-', "_");
    [
        "token",
        "secret",
        "pass",
        "pwd",
        "key",
        "auth",
        "cookie",
        "session",
        "credential",
        "private",
        "jwt",
        "bearer",
        "dsn",
        "cert",
        "connection_string",
    ]
    .iter()
    .any(|needle| name.contains(needle))
        || name.ends_with("database_url")
}

#[derive(Clone, Copy)]
enum Encode {
    /// Everything but the unreserved characters (`A-Z a-z 0-9 - . _ ~`).
    Component,
    /// The WHATWG user-info set, as URL libraries write a password into a URL.
    Userinfo,
    /// `application/x-www-form-urlencoded`: space as `+`, `* - . _` kept.
    Form,
}

fn percent_encode(value: &str, set: Encode) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        let keep = match set {
            Encode::Component => b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'),
            Encode::Userinfo => {
                (0x21..0x7f).contains(&b)
                    && !matches!(
                        b,
                        b'"' | b'#'
                            | b'<'
                            | b'>'
                            | b'?'
                            | b'`'
                            | b'{'
                            | b'}'
                            | b'/'
                            | b':'
                            | b';'
                            | b'='
                            | b'@'
                            | b'['
                            | b'\\'
                            | b']'
                            | b'^'
                            | b'|'
                    )
            }
            Encode::Form => b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_'),
        };
        if keep {
            out.push(char::from(b));
        } else if matches!(set, Encode::Form) && b == b' ' {
            out.push('+');
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `%XX` sequences decoded; `None` when there are none, or the result is not UTF-8.
fn percent_decode(value: &str) -> Option<String> {
    if !value.contains('%') {
        return None;
    }
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let mut decoded_any = false;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push(u8::try_from(hi * 16 + lo).ok()?);
                decoded_any = true;
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    if !decoded_any {
        return None;
    }
    String::from_utf8(out).ok()
}

/// Redacts credentials from a URL for printing: userinfo and the values of query parameters whose names
/// look secret (`token`, `key`, `sig`, `signature`, `password`, `secret`, `auth`, `credential`, `X-Amz-*`).
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((a, b)) => (a, Some(b)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((a, b)) => (a, Some(b)),
        None => (before_fragment, None),
    };
    let mut out = String::with_capacity(url.len());
    match base.split_once("://") {
        Some((scheme, rest)) => {
            out.push_str(scheme);
            out.push_str("://");
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            match authority.rsplit_once('@') {
                Some((_, host)) => {
                    out.push_str("***@");
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if is_secret_param(k) => format!("{k}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&pairs.join("&"));
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

fn is_secret_param(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("x-amz-")
        || [
            "token",
            "key",
            "sig",
            "signature",
            "password",
            "passwd",
            "secret",
            "auth",
            "credential",
            "code",
        ]
        .iter()
        .any(|needle| lower.contains(needle))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let s = Secret::new("ghp_abc");
        assert_eq!(format!("{s:?}"), "Secret(***)");
        assert_eq!(format!("{:?}", Some(&s)), "Some(Secret(***))");
    }

    #[test]
    fn parse_trims_and_rejects_empty() {
        assert_eq!(Secret::parse("  tok \n").unwrap().expose(), "tok");
        assert!(Secret::parse("   ").is_err());
        assert!(Secret::parse("").is_err());
    }

    #[test]
    fn redact_masks_longest_first_and_each_line() {
        let masks = vec!["abc".to_owned(), "abcdef".to_owned(), "line1\nline2".to_owned()];
        assert_eq!(redact("x abcdef y abc", &masks), "x *** y ***");
        assert_eq!(redact("got line2 only", &masks), "got *** only");
        assert_eq!(redact("nothing here", &[String::new()]), "nothing here");
    }

    #[test]
    fn derived_forms_table() {
        for (value, expected) in [
            // nothing to encode: the value and its base64
            ("s3cr3tvalue", vec!["s3cr3tvalue", "czNjcjN0dmFsdWU"]),
            // the decoded form of a percent-encoded password, and its encodings
            (
                "p%40ss%20w0rd",
                vec![
                    "p%40ss%20w0rd",
                    "p@ss w0rd",
                    "p%2540ss%2520w0rd",
                    "cCU0MHNzJTIwdzByZA",
                ],
            ),
            // a raw password and the forms a URL, a form body and base64 give it
            (
                "p@ss w/rd!",
                vec![
                    "p@ss w/rd!",
                    "p%40ss%20w%2Frd%21",
                    "p%40ss%20w%2Frd!",
                    "p%40ss+w%2Frd%21",
                    "cEBzcyB3L3JkIQ",
                ],
            ),
            // URL-safe base64 differs when the standard one has `+` or `/`
            (
                "\u{fb}\u{ff}\u{fe}x",
                vec![
                    "\u{fb}\u{ff}\u{fe}x",
                    "%C3%BB%C3%BF%C3%BEx",
                    "w7vDv8O+eA",
                    "w7vDv8O-eA",
                ],
            ),
            // a decoded form under six characters would blank ordinary text: left out
            ("%41%42", vec!["%41%42", "%2541%2542", "JTQxJTQy"]),
        ] {
            assert_eq!(derived_forms(value), expected, "{value:?}");
        }
        assert_eq!(derived_forms(""), vec![String::new()]);
    }

    #[test]
    fn basic_credential_is_base64_of_user_and_password() {
        let credential = basic_credential("ci-bot", &Secret::new("hunter2-pw"));
        assert_eq!(credential.expose(), "Y2ktYm90Omh1bnRlcjItcHc=");
        // the echo of a Basic header is not hidden by the password's own forms
        let echoed = format!("you sent Basic {}", credential.expose());
        assert_eq!(redact(&echoed, &derived_forms("hunter2-pw")), echoed);
    }

    #[test]
    fn weak_passwords_are_named() {
        for (user, password, reason) in [
            (Some("postgres"), "postgres", Some("it is the user name")),
            (Some("app"), "postgres", Some("a well-known default")),
            (Some("app"), "Password", Some("a well-known default")),
            (None, "x", Some("shorter than 6 characters")),
            (Some("app"), "pw123", Some("shorter than 6 characters")),
            (Some("app"), "APP123", None),
            (Some("app123"), "APP123", Some("it is the user name")),
            (Some("app"), "k8s-Migr4te", None),
        ] {
            assert_eq!(weak_password(user, password), reason, "{user:?} {password:?}");
        }
    }

    #[test]
    fn url_masks_table() {
        // the templates' own URL: the URL and its user info, never the bare word `postgres`
        let m = url_masks("postgres://postgres:postgres@localhost:5432/postgres");
        assert_eq!(
            m.masks,
            vec![
                "postgres://postgres:postgres@localhost:5432/postgres",
                "postgres:postgres@"
            ]
        );
        assert_eq!(m.password_left_out, Some("it is the user name"));
        // a strong percent-encoded password: as written and its user info both ways (the runner adds
        // the decoded password through `derived_forms`)
        let m = url_masks("postgres://app:s%40fe%2Fpw-1@db:5432/app?sslmode=disable");
        assert_eq!(
            m.masks,
            vec![
                "postgres://app:s%40fe%2Fpw-1@db:5432/app?sslmode=disable",
                "app:s%40fe%2Fpw-1@",
                "app:s@fe/pw-1@",
                "s%40fe%2Fpw-1",
            ]
        );
        assert_eq!(m.password_left_out, None);
        assert!(derived_forms("s%40fe%2Fpw-1").contains(&"s@fe/pw-1".to_owned()));
        // short, and no password at all
        assert_eq!(
            url_masks("postgres://u:abc@h/d").password_left_out,
            Some("shorter than 6 characters")
        );
        assert_eq!(url_masks("postgres://u@h/d").masks, vec!["postgres://u@h/d"]);
        assert_eq!(
            url_masks("postgres://h/d?user=u@x").masks,
            vec!["postgres://h/d?user=u@x"]
        );
        assert!(!format!("{:?}", url_masks("postgres://u:longsecret@h/d")).contains("longsecret"));
    }

    #[test]
    fn secret_names_table() {
        for (name, secret) in [
            // do-deploy's
            ("API_TOKEN", true),
            ("DB_PASSWORD", true),
            ("STRIPE_KEY", true),
            ("DATABASE_URL", true),
            ("SENTRY_DSN", true),
            ("TLS_CERT", true),
            ("PRIVATE_PEM", true),
            // smoke-test's
            ("session_id", true),
            ("X-Api-Key", true),
            ("x-auth-token", true),
            ("jwt", true),
            ("MY_PWD", true),
            // both missed one of these before
            ("SMTP_PASS", true),
            ("REDIS_DSN", true),
            ("database-url", true),
            ("READONLY_DATABASE_URL", true),
            ("Bearer", true),
            ("AZURE_CONNECTION_STRING", true),
            // not secret
            ("TAG", false),
            ("REPLICAS", false),
            ("GITHUB_SHA", false),
            ("BASE_URL", false),
            ("DATABASE_URL_HOST_ONLY", false),
        ] {
            assert_eq!(looks_secret(name), secret, "{name}");
        }
    }

    #[test]
    fn redactor_hides_masks_in_findings_and_json_without_breaking_it() {
        let redactor = Redactor::new(&["pa\"ss:wd-42".to_owned(), "findings".to_owned()]);
        assert!(!format!("{redactor:?}").contains("wd-42"));
        let mut finding = Finding::new(
            "r",
            crate::finding::Level::Error,
            "login with pa\"ss:wd-42 failed",
        )
        .at("src/pa\"ss:wd-42.rs", None)
        .with_help("rotate pa\"ss:wd-42");
        finding.fingerprint = "f".repeat(32);
        let clean = Finding::new("r", crate::finding::Level::Error, "nothing here");
        assert!(matches!(redactor.finding(&clean), Cow::Borrowed(_)));
        let redacted = redactor.finding(&finding).into_owned();
        assert_eq!(redacted.message, "login with *** failed");
        assert_eq!(redacted.path.as_deref(), Some("src/***.rs"));
        assert_eq!(redacted.help.as_deref(), Some("rotate ***"));
        assert_eq!(redacted.fingerprint, finding.fingerprint);
        // JSON text: strings redacted whether the mask is written escaped or not; keys and
        // punctuation left alone even when a mask equals a key
        let line = serde_json::to_string(&serde_json::json!({
            "findings": 2, "message": "pa\"ss:wd-42 and findings", "path": null
        }))
        .unwrap();
        let out = redactor.redact_json_text(&line);
        let value: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"findings": 2, "message": "*** and ***", "path": null})
        );
        assert!(matches!(redactor.redact_json_text("{\"a\":1}"), Cow::Borrowed(_)));
        assert_eq!(redactor.redact_json_text("not json findings"), "not json ***");
        let mut rule = RuleInfo::new("r", "pa\"ss:wd-42", crate::finding::Level::Error);
        redactor.redact_rule(&mut rule);
        assert_eq!(rule.short_description, "***");
    }

    #[test]
    fn redact_url_table() {
        for (input, expected) in [
            (
                "https://api.github.com/repos/o/r",
                "https://api.github.com/repos/o/r",
            ),
            (
                "https://user:pw@host.example/p?q=1",
                "https://***@host.example/p?q=1",
            ),
            (
                "https://h/x?access_token=abc&page=2",
                "https://h/x?access_token=***&page=2",
            ),
            (
                "https://s3/x?X-Amz-Signature=ff&X-Amz-Date=1",
                "https://s3/x?X-Amz-Signature=***&X-Amz-Date=***",
            ),
            ("https://h/p#frag", "https://h/p#frag"),
            ("127.0.0.1:80/p?key=1", "127.0.0.1:80/p?key=***"),
        ] {
            assert_eq!(redact_url(input), expected, "{input}");
        }
    }
}
