//! `tags` lines: `type=<kind>,attribute=value,…` with docker/metadata-action's types, attributes,
//! defaults and priorities.

use std::collections::BTreeMap;

use super::lines::{self, Line};

/// The tag types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// On `schedule` events: `pattern` (default `nightly`).
    Schedule,
    /// A semantic version from a Git tag or `value`.
    Semver,
    /// A PEP 440 version from a Git tag or `value`.
    Pep440,
    /// A regular expression match on a Git tag or `value`.
    Match,
    /// `edge` on the default (or a named) branch.
    Edge,
    /// The branch, tag or pull request number.
    Ref,
    /// A fixed value.
    Raw,
    /// The commit SHA.
    Sha,
}

impl Kind {
    const ALL: [(&'static str, Self); 8] = [
        ("schedule", Self::Schedule),
        ("semver", Self::Semver),
        ("pep440", Self::Pep440),
        ("match", Self::Match),
        ("edge", Self::Edge),
        ("ref", Self::Ref),
        ("raw", Self::Raw),
        ("sha", Self::Sha),
    ];

    fn default_priority(self) -> i64 {
        match self {
            Self::Schedule => 1000,
            Self::Semver | Self::Pep440 => 900,
            Self::Match => 800,
            Self::Edge => 700,
            Self::Ref => 600,
            Self::Raw => 200,
            Self::Sha => 100,
        }
    }

    /// The attributes this type reads, besides `enable`, `priority`, `prefix` and `suffix`.
    fn attributes(self) -> &'static [&'static str] {
        match self {
            Self::Schedule => &["pattern"],
            Self::Semver | Self::Pep440 => &["pattern", "value", "match"],
            Self::Match => &["pattern", "group", "value"],
            Self::Edge => &["branch"],
            Self::Ref => &["event"],
            Self::Raw => &["value"],
            Self::Sha => &["format"],
        }
    }
}

/// `type=ref,event=…`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefEvent {
    /// `refs/heads/*`.
    Branch,
    /// `refs/tags/*`.
    Tag,
    /// `refs/pull/*`.
    Pr,
}

/// One `tags` line, parsed, with defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tag {
    /// The line it came from.
    pub line: Line,
    /// Its type.
    pub kind: Kind,
    /// Higher first.
    pub priority: i64,
    /// The attributes as written (keys lower-cased), with the type's defaults filled in.
    pub attrs: BTreeMap<String, String>,
    /// The `ref` event.
    pub event: Option<RefEvent>,
    /// `type=sha,format=long`.
    pub long_sha: bool,
}

impl Tag {
    /// An attribute, or `""`.
    pub fn attr(&self, key: &str) -> &str {
        self.attrs.get(key).map_or("", String::as_str)
    }

    /// Whether the line sets `key` (even to an empty value): `prefix=` overrides the flavor.
    pub fn has(&self, key: &str) -> bool {
        self.attrs.contains_key(key)
    }
}

/// What is wrong with a `tags` line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{line}: {message}")]
pub struct TagError {
    /// The line.
    pub line: Line,
    /// What is wrong and what was expected.
    pub message: String,
}

/// The lines metadata-action uses when `tags` is empty.
pub fn defaults() -> Vec<Line> {
    [
        "type=schedule",
        "type=ref,event=branch",
        "type=ref,event=tag",
        "type=ref,event=pr",
    ]
    .iter()
    .enumerate()
    .map(|(i, text)| Line::new("tags", i + 1, *text))
    .collect()
}

/// Parses every line and sorts by priority, highest first; equal priorities keep their order.
/// Unknown attributes are reported in `warnings`.
pub fn parse_all(lines: &[Line], warnings: &mut Vec<String>) -> Result<Vec<Tag>, TagError> {
    let lines = if lines.is_empty() {
        defaults()
    } else {
        lines.to_vec()
    };
    let mut tags = lines
        .iter()
        .map(|line| parse(line, warnings))
        .collect::<Result<Vec<_>, _>>()?;
    tags.sort_by_key(|t| std::cmp::Reverse(t.priority));
    Ok(tags)
}

/// Parses one line.
pub fn parse(line: &Line, warnings: &mut Vec<String>) -> Result<Tag, TagError> {
    let fail = |message: String| TagError {
        line: line.clone(),
        message,
    };
    let fields = lines::fields(&line.text).map_err(|e| fail(e.to_string()))?;
    let mut kind = None;
    let mut attrs = BTreeMap::new();
    for field in fields {
        match field.key.as_deref() {
            None => {
                attrs.insert("value".to_owned(), field.value);
            }
            Some("type") => {
                let found = Kind::ALL.iter().find(|(name, _)| *name == field.value);
                kind = Some(found.map(|(_, k)| *k).ok_or_else(|| {
                    fail(format!(
                        "unknown tag type `{}`; expected one of `schedule`, `semver`, `pep440`, `match`, `edge`, `ref`, `raw`, `sha`",
                        field.value
                    ))
                })?);
            }
            Some(key) => {
                attrs.insert(key.to_owned(), field.value);
            }
        }
    }
    let kind = kind.unwrap_or(Kind::Raw);
    let mut event = None;
    let mut long_sha = false;
    let require = |attrs: &BTreeMap<String, String>, key: &str, example: &str| {
        if attrs.contains_key(key) {
            Ok(())
        } else {
            Err(fail(format!(
                "missing `{key}` attribute; for example `{example}`"
            )))
        }
    };
    match kind {
        Kind::Schedule => {
            attrs
                .entry("pattern".to_owned())
                .or_insert_with(|| "nightly".to_owned());
        }
        Kind::Semver | Kind::Pep440 => {
            let name = if kind == Kind::Semver { "semver" } else { "pep440" };
            require(&attrs, "pattern", &format!("type={name},pattern={{{{version}}}}"))?;
            attrs.entry("value".to_owned()).or_default();
            attrs.entry("match".to_owned()).or_default();
        }
        Kind::Match => {
            require(&attrs, "pattern", r"type=match,pattern=v(\d.\d.\d),group=1")?;
            let group = attrs.entry("group".to_owned()).or_insert_with(|| "0".to_owned());
            if group.trim().parse::<usize>().is_err() {
                return Err(fail(format!(
                    "invalid `group` value `{group}`; expected a capture group number such as `1`"
                )));
            }
            attrs.entry("value".to_owned()).or_default();
        }
        Kind::Edge => {
            attrs.entry("branch".to_owned()).or_default();
        }
        Kind::Ref => {
            require(&attrs, "event", "type=ref,event=branch")?;
            event = Some(match attrs.get("event").map(String::as_str) {
                Some("branch") => RefEvent::Branch,
                Some("tag") => RefEvent::Tag,
                Some("pr") => RefEvent::Pr,
                other => {
                    return Err(fail(format!(
                        "invalid `event` value `{}`; expected `branch`, `tag` or `pr`",
                        other.unwrap_or_default()
                    )));
                }
            });
            if event == Some(RefEvent::Pr) {
                attrs
                    .entry("prefix".to_owned())
                    .or_insert_with(|| "pr-".to_owned());
            }
        }
        Kind::Raw => {
            require(&attrs, "value", "type=raw,value=latest")?;
        }
        Kind::Sha => {
            attrs
                .entry("prefix".to_owned())
                .or_insert_with(|| "sha-".to_owned());
            let format = attrs
                .entry("format".to_owned())
                .or_insert_with(|| "short".to_owned());
            long_sha = match format.as_str() {
                "short" => false,
                "long" => true,
                other => {
                    return Err(fail(format!(
                        "invalid `format` value `{other}`; expected `short` or `long`"
                    )));
                }
            };
        }
    }
    attrs
        .entry("enable".to_owned())
        .or_insert_with(|| "true".to_owned());
    let priority = match attrs.get("priority") {
        Some(p) => p.trim().parse::<i64>().map_err(|_| {
            fail(format!(
                "invalid `priority` value `{p}`; expected a whole number such as `1000`"
            ))
        })?,
        None => kind.default_priority(),
    };
    for key in attrs.keys() {
        let known = ["enable", "priority", "prefix", "suffix"].contains(&key.as_str())
            || kind.attributes().contains(&key.as_str());
        if !known {
            warnings.push(format!(
                "{line}: attribute `{key}` means nothing for this tag type and is ignored"
            ));
        }
    }
    Ok(Tag {
        line: line.clone(),
        kind,
        priority,
        attrs,
        event,
        long_sha,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Result<Tag, String> {
        parse(&Line::new("tags", 3, text), &mut Vec::new()).map_err(|e| e.to_string())
    }

    fn shown(tag: &Tag) -> String {
        let kind = Kind::ALL
            .iter()
            .find(|(_, k)| *k == tag.kind)
            .map(|(n, _)| *n)
            .unwrap_or("?");
        let attrs: Vec<String> = tag.attrs.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("type={kind},priority={},{}", tag.priority, attrs.join(","))
    }

    /// Defaults per type, as metadata-action's README lists them ("Extended attributes and default values").
    #[test]
    fn defaults_per_type() {
        for (line, expected) in [
            (
                "type=schedule",
                "type=schedule,priority=1000,enable=true,pattern=nightly",
            ),
            (
                "type=schedule,enable=true,pattern={{date 'YYYYMMDD'}}",
                "type=schedule,priority=1000,enable=true,pattern={{date 'YYYYMMDD'}}",
            ),
            (
                "type=semver,pattern={{version}}",
                "type=semver,priority=900,enable=true,match=,pattern={{version}},value=",
            ),
            (
                r#"type=semver,priority=1,pattern={{version}},value=p1/v1.0.0,"match=v(\d.\d.\d)$""#,
                r"type=semver,priority=1,enable=true,match=v(\d.\d.\d)$,pattern={{version}},priority=1,value=p1/v1.0.0",
            ),
            (
                "type=pep440,pattern={{version}}",
                "type=pep440,priority=900,enable=true,match=,pattern={{version}},value=",
            ),
            (
                "type=match,pattern=v(.*),group=1",
                "type=match,priority=800,enable=true,group=1,pattern=v(.*),value=",
            ),
            (
                r#"type=match,"pattern=\d.\d.\d""#,
                r"type=match,priority=800,enable=true,group=0,pattern=\d.\d.\d,value=",
            ),
            ("type=edge", "type=edge,priority=700,branch=,enable=true"),
            (
                "type=edge,branch=master",
                "type=edge,priority=700,branch=master,enable=true",
            ),
            (
                "type=ref,event=branch",
                "type=ref,priority=600,enable=true,event=branch",
            ),
            (
                "type=ref,event=tag",
                "type=ref,priority=600,enable=true,event=tag",
            ),
            (
                "type=ref,event=pr",
                "type=ref,priority=600,enable=true,event=pr,prefix=pr-",
            ),
            (
                "type=ref,event=pr,prefix=",
                "type=ref,priority=600,enable=true,event=pr,prefix=",
            ),
            (
                "type=raw,value=foo",
                "type=raw,priority=200,enable=true,value=foo",
            ),
            ("type=raw,foo", "type=raw,priority=200,enable=true,value=foo"),
            ("foo", "type=raw,priority=200,enable=true,value=foo"),
            (
                "type=raw,enable=false,value=x",
                "type=raw,priority=200,enable=false,value=x",
            ),
            (
                "type=sha",
                "type=sha,priority=100,enable=true,format=short,prefix=sha-",
            ),
            (
                "type=sha,format=long",
                "type=sha,priority=100,enable=true,format=long,prefix=sha-",
            ),
            (
                "type=sha,prefix=",
                "type=sha,priority=100,enable=true,format=short,prefix=",
            ),
            (
                "TYPE=sha,Priority=-5",
                "type=sha,priority=-5,enable=true,format=short,prefix=sha-,priority=-5",
            ),
        ] {
            let tag = one(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(shown(&tag), expected, "{line}");
        }
    }

    /// The invalid lines of metadata-action's tests, and ours; each names the line.
    #[test]
    fn invalid_lines_name_the_line() {
        for (line, message) in [
            (
                "type=foo",
                "unknown tag type `foo`; expected one of `schedule`, `semver`, `pep440`, `match`, `edge`, `ref`, `raw`, `sha`",
            ),
            (
                "type=semver",
                "missing `pattern` attribute; for example `type=semver,pattern={{version}}`",
            ),
            (
                "type=pep440",
                "missing `pattern` attribute; for example `type=pep440,pattern={{version}}`",
            ),
            (
                "type=match",
                r"missing `pattern` attribute; for example `type=match,pattern=v(\d.\d.\d),group=1`",
            ),
            (
                "type=match,pattern=v(.*),group=foo",
                "invalid `group` value `foo`; expected a capture group number such as `1`",
            ),
            (
                "type=ref",
                "missing `event` attribute; for example `type=ref,event=branch`",
            ),
            (
                "type=ref,event=foo",
                "invalid `event` value `foo`; expected `branch`, `tag` or `pr`",
            ),
            (
                "type=raw",
                "missing `value` attribute; for example `type=raw,value=latest`",
            ),
            (
                "type=sha,format=foo",
                "invalid `format` value `foo`; expected `short` or `long`",
            ),
            (
                "type=raw,value=x,priority=high",
                "invalid `priority` value `high`; expected a whole number such as `1000`",
            ),
            (
                r#"type=raw,"value=x"#,
                "unterminated quote: a `\"` opened at column 10 is never closed",
            ),
        ] {
            let err = one(line).unwrap_err();
            assert_eq!(err, format!("`tags` line 3 (`{line}`): {message}"), "{line}");
        }
    }

    #[test]
    fn sorted_by_priority_stably_and_defaults_when_empty() {
        let lines: Vec<Line> = [
            "type=sha",
            "type=raw,a",
            "type=semver,pattern={{version}}",
            "type=raw,b",
            "type=raw,c,priority=2000",
        ]
        .iter()
        .enumerate()
        .map(|(i, t)| Line::new("tags", i + 1, *t))
        .collect();
        let tags = parse_all(&lines, &mut Vec::new()).unwrap();
        let order: Vec<&str> = tags.iter().map(|t| t.line.text.as_str()).collect();
        assert_eq!(
            order,
            [
                "type=raw,c,priority=2000",
                "type=semver,pattern={{version}}",
                "type=raw,a",
                "type=raw,b",
                "type=sha"
            ]
        );
        let defaults = parse_all(&[], &mut Vec::new()).unwrap();
        let kinds: Vec<(Kind, Option<RefEvent>)> = defaults.iter().map(|t| (t.kind, t.event)).collect();
        assert_eq!(
            kinds,
            [
                (Kind::Schedule, None),
                (Kind::Ref, Some(RefEvent::Branch)),
                (Kind::Ref, Some(RefEvent::Tag)),
                (Kind::Ref, Some(RefEvent::Pr)),
            ]
        );
    }

    #[test]
    fn unknown_attributes_warn() {
        let mut warnings = Vec::new();
        parse(
            &Line::new("tags", 1, "type=raw,value=x,enabled=false"),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(
            warnings,
            [
                "`tags` line 1 (`type=raw,value=x,enabled=false`): attribute `enabled` means nothing for this tag type and is ignored"
            ]
        );
    }
}
