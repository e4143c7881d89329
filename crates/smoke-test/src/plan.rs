//! The plan: the checks file and the inputs, validated and resolved before any request is sent.
//!
//! Everything a user can get wrong is found here, with file, line and field: unknown fields, bad
//! regexes, durations, thresholds, status codes, unset environment variables, captures used before they
//! are defined. Environment values that are secret are collected here too, so they are masked before
//! anything could print them.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use http::{HeaderName, Method};
use regex::Regex;
use serde_json::Value;
use serde_saphyr::Spanned;
use url::Url;

use crate::asserts::json::JsonTest;
use crate::asserts::status::StatusMatch;
use crate::asserts::{Assert, AssertKind, TextTest};
use crate::error::ChecksError;
use crate::latency::Threshold;
use crate::measure::{DurationBound, NumberBound, Op, parse_duration};
use crate::query::{Query, TYPES};
use crate::spec::{self, CheckSpec, ExpectSpec, FileSpec, line_of};
use crate::template::{Captures, EnvUse, Template};

/// Default per-request timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default number of checks in flight.
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default minimum samples before latency thresholds gate.
pub const DEFAULT_MIN_SAMPLES: usize = 20;
/// Default redirects followed.
pub const DEFAULT_REDIRECTS: usize = 10;
/// Most samples one check may take.
pub const MAX_SAMPLES: usize = 10_000;

/// What the inputs say (each overrides the file's value).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// `base-url`
    pub base_url: Option<String>,
    /// `environment`
    pub environment: Option<String>,
    /// `concurrency`
    pub concurrency: Option<usize>,
    /// `timeout`
    pub timeout: Option<Duration>,
    /// `min-samples`
    pub min_samples: Option<usize>,
    /// `url`
    pub url: Option<String>,
    /// `expect-status`
    pub expect_status: Option<String>,
    /// `expect-body`
    pub expect_body: Option<String>,
    /// `expect-version`
    pub expect_version: Option<String>,
    /// `version-url`
    pub version_url: Option<String>,
    /// `version-field`
    pub version_field: Option<String>,
    /// `version-header`
    pub version_header: Option<String>,
    /// `wait-url`
    pub wait_url: Option<String>,
    /// `wait-timeout`
    pub wait_timeout: Option<Duration>,
    /// `wait-attempt-timeout`
    pub wait_attempt_timeout: Option<Duration>,
}

/// Where the checks came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file, as the user named it (relative to the workspace).
    File(String),
    /// YAML in the `checks` input.
    Inline,
}

impl Origin {
    fn describe(&self) -> String {
        match self {
            Self::File(path) => format!("checks file `{path}`"),
            Self::Inline => "input `checks`".to_owned(),
        }
    }

    /// The file for annotations and JUnit `file=`.
    pub fn file(&self) -> Option<&str> {
        match self {
            Self::File(path) => Some(path),
            Self::Inline => None,
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// Text.
    Text(Template),
    /// JSON whose strings are templates.
    Json(JsonTemplate),
}

/// A JSON value whose strings may hold `{{captures}}`.
#[derive(Debug, Clone)]
pub enum JsonTemplate {
    /// Not a string.
    Value(Value),
    /// A string.
    Str(Template),
    /// An array.
    Array(Vec<Self>),
    /// An object.
    Object(Vec<(String, Self)>),
}

impl JsonTemplate {
    fn render(&self, captures: &Captures) -> Result<Value, String> {
        Ok(match self {
            Self::Value(v) => v.clone(),
            Self::Str(t) => Value::String(t.render(captures)?),
            Self::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(captures))
                    .collect::<Result<_, _>>()?,
            ),
            Self::Object(pairs) => Value::Object(
                pairs
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(captures)?)))
                    .collect::<Result<_, String>>()?,
            ),
        })
    }

    fn captures(&self, out: &mut Vec<String>) {
        match self {
            Self::Value(_) => {}
            Self::Str(t) => out.extend(t.captures().map(str::to_owned)),
            Self::Array(items) => items.iter().for_each(|i| i.captures(out)),
            Self::Object(pairs) => pairs.iter().for_each(|(_, v)| v.captures(out)),
        }
    }
}

impl Body {
    /// The captures the body reads.
    pub fn captures(&self) -> Vec<String> {
        match self {
            Self::Text(t) => t.captures().map(str::to_owned).collect(),
            Self::Json(j) => {
                let mut out = Vec::new();
                j.captures(&mut out);
                out
            }
        }
    }

    /// The body bytes with captures filled in.
    pub fn render(&self, captures: &Captures) -> Result<Vec<u8>, String> {
        match self {
            Self::Text(t) => Ok(t.render(captures)?.into_bytes()),
            Self::Json(j) => Ok(j.render(captures)?.to_string().into_bytes()),
        }
    }
}

/// Where a capture reads from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// A JSON query on the body.
    Json(Query),
    /// A response header.
    Header(HeaderName),
    /// The body as text (with a regex).
    Body,
}

/// One capture.
#[derive(Debug, Clone)]
pub struct CaptureRule {
    /// Name used as `{{name}}`.
    pub name: String,
    /// Line.
    pub line: Option<u32>,
    /// Field path.
    pub field: String,
    /// Source.
    pub source: CaptureSource,
    /// Regex applied to the source text (first group, or the whole match).
    pub regex: Option<Regex>,
    /// Mask the value.
    pub secret: bool,
}

/// Latency sampling for one check.
#[derive(Debug, Clone)]
pub struct Latency {
    /// Requests to time, the check's own included.
    pub samples: usize,
    /// Thresholds.
    pub thresholds: Vec<Threshold>,
    /// Thresholds gate only with at least this many samples.
    pub min_samples: usize,
    /// Line.
    pub line: Option<u32>,
    /// Field path (`checks[2].latency`).
    pub field: String,
}

/// One header to send.
#[derive(Debug, Clone)]
pub struct HeaderTemplate {
    /// Name.
    pub name: HeaderName,
    /// Value.
    pub value: Template,
    /// The rendered value is masked (auth headers, cookies, tokens).
    pub sensitive: bool,
}

/// One check, resolved.
#[derive(Debug, Clone)]
pub struct Check {
    /// Name.
    pub name: String,
    /// Line of the check in the file.
    pub line: Option<u32>,
    /// Method.
    pub method: Method,
    /// URL (absolute, or relative to the base URL).
    pub url: Template,
    /// Headers.
    pub headers: Vec<HeaderTemplate>,
    /// Body.
    pub body: Option<Body>,
    /// Redirects to follow.
    pub redirects: usize,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Skip certificate verification.
    pub insecure: bool,
    /// Assertions.
    pub asserts: Vec<Assert>,
    /// Captures for later checks.
    pub captures: Vec<CaptureRule>,
    /// Latency sampling.
    pub latency: Option<Latency>,
    /// Checks whose captures this one uses (all earlier in the file).
    pub depends_on: Vec<usize>,
}

/// The readiness wait.
#[derive(Debug, Clone)]
pub struct Wait {
    /// URL polled.
    pub url: Url,
    /// Overall deadline.
    pub deadline: Duration,
    /// Timeout of one attempt.
    pub attempt_timeout: Duration,
    /// First delay.
    pub initial_delay: Duration,
    /// Largest delay.
    pub max_delay: Duration,
    /// Line in the file.
    pub line: Option<u32>,
}

/// The identity check.
#[derive(Debug, Clone)]
pub struct VersionCheck {
    /// The version that must be served.
    pub expect: String,
    /// URL that reports it.
    pub url: Option<Url>,
    /// Where in that URL's JSON body.
    pub field: Option<Query>,
    /// Header that carries it on every response.
    pub header: Option<HeaderName>,
    /// Line in the file.
    pub line: Option<u32>,
}

/// Everything to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Where the checks came from.
    pub origin: Option<Origin>,
    /// Base URL.
    pub base_url: Option<String>,
    /// Environment name (JUnit classname).
    pub environment: String,
    /// Checks in flight at most.
    pub concurrency: usize,
    /// Readiness wait.
    pub wait: Option<Wait>,
    /// Identity check.
    pub version: Option<VersionCheck>,
    /// Checks.
    pub checks: Vec<Check>,
    /// Secret values to mask before anything prints.
    pub masks: Vec<String>,
}

/// Builds the plan from the file (if any) and the inputs. `lookup` reads environment variables.
pub fn build(
    source: Option<(Origin, &str)>,
    settings: &Settings,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<Plan, ChecksError> {
    let (origin, file) = match source {
        Some((origin, text)) => {
            let file = spec::parse(text).map_err(|p| ChecksError {
                origin: origin.describe(),
                line: p.line,
                field: p.field,
                message: p.message,
                hint: None,
            })?;
            (Some(origin), Some(file))
        }
        None => (None, None),
    };
    let mut b = Builder {
        origin: origin.clone(),
        lookup,
        secret_names: BTreeSet::new(),
        masks: Vec::new(),
    };
    let file = file.unwrap_or_else(empty_file);
    for name in &file.secrets {
        b.secret_names.insert(name.value.clone());
    }

    let base_url = match (&settings.base_url, &file.base_url) {
        (Some(input), _) => Some(b.input_template("base-url", input)?),
        (None, Some(spanned)) => Some(b.file_template(spanned, "base-url")?),
        (None, None) => None,
    }
    .map(|t| t.display().trim_end_matches('/').to_owned());
    if let Some(base) = &base_url {
        parse_http_url(base).map_err(|m| match &file.base_url {
            Some(s) if settings.base_url.is_none() => b.at(line_of(s), "base-url", m),
            _ => b.input("base-url", m),
        })?;
    }

    let environment = settings
        .environment
        .clone()
        .or_else(|| file.environment.as_ref().map(|e| e.value.trim().to_owned()))
        .filter(|e| !e.is_empty())
        .unwrap_or_else(|| "smoke".to_owned());
    let concurrency = match (settings.concurrency, &file.concurrency) {
        (Some(n), _) => n,
        (None, Some(s)) => s.value,
        (None, None) => DEFAULT_CONCURRENCY,
    };
    if concurrency == 0 {
        return Err(match (&file.concurrency, settings.concurrency) {
            (Some(s), None) => b.at(line_of(s), "concurrency", "expected at least 1".to_owned()),
            _ => b.input("concurrency", "expected at least 1".to_owned()),
        });
    }
    let timeout = match (settings.timeout, &file.timeout) {
        (Some(t), _) => t,
        (None, Some(s)) => b.duration(s, "timeout")?,
        (None, None) => DEFAULT_TIMEOUT,
    };
    let min_samples = settings
        .min_samples
        .or(file.min_samples.as_ref().map(|s| s.value))
        .unwrap_or(DEFAULT_MIN_SAMPLES);

    let version = b.version(settings, file.version.as_ref(), base_url.as_deref())?;
    let wait = b.wait(settings, file.wait.as_ref(), base_url.as_deref())?;

    let mut default_headers = Vec::new();
    for (name, value) in &file.headers {
        default_headers.push(b.header(name, value, &format!("headers.{name}"))?);
    }

    let mut checks: Vec<Check> = Vec::new();
    let mut names = BTreeMap::new();
    for (index, spanned) in file.checks.iter().enumerate() {
        let ctx = CheckCtx {
            index,
            line: line_of(spanned),
            timeout,
            min_samples,
            base_url: base_url.as_deref(),
            version: version.as_ref(),
            default_headers: &default_headers,
        };
        let check = b.check(&spanned.value, &ctx, &checks)?;
        if let Some(first) = names.insert(check.name.clone(), check.line) {
            let mut e = b.at(
                spanned.value.name.as_ref().map_or(check.line, line_of),
                &format!("checks[{index}].name"),
                format!(
                    "duplicate check name `{}` (first at line {})",
                    check.name,
                    first.map_or_else(|| "?".to_owned(), |l| l.to_string())
                ),
            );
            if spanned.value.name.is_none() {
                e.hint = Some(
                    "a check without `name` is named after its method and URL: give one of them a `name`"
                        .to_owned(),
                );
            }
            return Err(e);
        }
        checks.push(check);
    }

    if let Some(url) = &settings.url {
        checks.push(b.quick_check(url, settings, timeout, base_url.as_deref(), version.as_ref())?);
    } else if settings.expect_body.is_some() {
        return Err(b.input(
            "expect-body",
            "needs `url`: it checks the body of the quick `url` check".to_owned(),
        ));
    }

    Ok(Plan {
        origin,
        base_url,
        environment,
        concurrency,
        wait,
        version,
        checks,
        masks: b.masks,
    })
}

fn empty_file() -> FileSpec {
    FileSpec {
        base_url: None,
        environment: None,
        concurrency: None,
        timeout: None,
        min_samples: None,
        secrets: Vec::new(),
        headers: BTreeMap::new(),
        wait: None,
        version: None,
        checks: Vec::new(),
    }
}

struct CheckCtx<'a> {
    index: usize,
    line: Option<u32>,
    timeout: Duration,
    min_samples: usize,
    base_url: Option<&'a str>,
    version: Option<&'a VersionCheck>,
    default_headers: &'a [HeaderTemplate],
}

struct Builder<'a> {
    origin: Option<Origin>,
    lookup: &'a dyn Fn(&str) -> Option<String>,
    secret_names: BTreeSet<String>,
    masks: Vec<String>,
}

impl Builder<'_> {
    fn at(&self, line: Option<u32>, field: &str, message: String) -> ChecksError {
        let origin = self.origin.clone().unwrap_or(Origin::Inline);
        ChecksError {
            origin: origin.describe(),
            line,
            field: Some(field.to_owned()),
            message,
            hint: None,
        }
    }

    fn input(&self, input: &str, message: String) -> ChecksError {
        ChecksError {
            origin: format!("input `{input}`"),
            line: None,
            field: None,
            message,
            hint: None,
        }
    }

    /// Records env uses, masking the secret ones. `sensitive` marks every use as secret.
    fn note_env(&mut self, used: Vec<EnvUse>, sensitive: bool) {
        for u in used {
            let secret = sensitive || self.secret_names.contains(&u.name) || looks_secret(&u.name);
            if secret && !u.value.trim().is_empty() && !self.masks.contains(&u.value) {
                self.masks.push(u.value);
            }
        }
    }

    fn template_with(
        &mut self,
        raw: &str,
        sensitive: bool,
        err: impl Fn(String) -> ChecksError,
    ) -> Result<Template, ChecksError> {
        let mut used = Vec::new();
        let t = Template::parse(raw, self.lookup, &mut used).map_err(err)?;
        self.note_env(used, sensitive);
        Ok(t)
    }

    fn file_template(&mut self, s: &Spanned<String>, field: &str) -> Result<Template, ChecksError> {
        let line = line_of(s);
        let me = &*self;
        let err = |m| me.at(line, field, m);
        let mut used = Vec::new();
        let t = Template::parse(&s.value, self.lookup, &mut used).map_err(err)?;
        self.note_env(used, false);
        Ok(t)
    }

    fn input_template(&mut self, input: &str, raw: &str) -> Result<Template, ChecksError> {
        let origin = format!("input `{input}`");
        self.template_with(raw, false, |m| ChecksError {
            origin: origin.clone(),
            line: None,
            field: None,
            message: m,
            hint: None,
        })
    }

    fn duration(&self, s: &Spanned<String>, field: &str) -> Result<Duration, ChecksError> {
        parse_duration(&s.value).map_err(|m| self.at(line_of(s), field, m))
    }

    fn regex(&self, s: &Spanned<String>, field: &str) -> Result<Regex, ChecksError> {
        Regex::new(&s.value).map_err(|e| {
            self.at(
                line_of(s),
                field,
                format!("invalid regex `{}`: {}", s.value, last_line(&e.to_string())),
            )
        })
    }

    fn header(
        &mut self,
        name: &str,
        value: &Spanned<String>,
        field: &str,
    ) -> Result<HeaderTemplate, ChecksError> {
        let header = HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()).map_err(|_| {
            self.at(
                line_of(value),
                field,
                format!("`{name}` is not a valid header name"),
            )
        })?;
        let sensitive = is_sensitive_header(header.as_str());
        let line = line_of(value);
        let origin = self.origin.clone().unwrap_or(Origin::Inline);
        let value = self.template_with(&value.value, sensitive, |m| ChecksError {
            origin: origin.describe(),
            line,
            field: Some(field.to_owned()),
            message: m,
            hint: None,
        })?;
        Ok(HeaderTemplate {
            name: header,
            value,
            sensitive,
        })
    }

    fn version(
        &mut self,
        settings: &Settings,
        spec: Option<&Spanned<spec::VersionSpec>>,
        base: Option<&str>,
    ) -> Result<Option<VersionCheck>, ChecksError> {
        let line = spec.and_then(line_of);
        let v = spec.map(|s| &s.value);
        let expect = match (&settings.expect_version, v.and_then(|v| v.expect.as_ref())) {
            (Some(e), _) => Some(e.trim().to_owned()),
            (None, Some(s)) => Some(
                self.file_template(s, "version.expect")?
                    .display()
                    .trim()
                    .to_owned(),
            ),
            (None, None) => None,
        }
        .filter(|e| !e.is_empty());
        let url = match (&settings.version_url, v.and_then(|v| v.url.as_ref())) {
            (Some(u), _) => Some(
                resolve_url(base, &self.input_template("version-url", u)?.display())
                    .map_err(|m| self.input("version-url", m))?,
            ),
            (None, Some(s)) => {
                let t = self.file_template(s, "version.url")?;
                Some(resolve_url(base, &t.display()).map_err(|m| self.at(line_of(s), "version.url", m))?)
            }
            (None, None) => None,
        };
        let field = match (&settings.version_field, v.and_then(|v| v.field.as_ref())) {
            (Some(f), _) => Some(Query::parse(f).map_err(|m| self.input("version-field", m))?),
            (None, Some(s)) => {
                Some(Query::parse(&s.value).map_err(|m| self.at(line_of(s), "version.field", m))?)
            }
            (None, None) => None,
        };
        let header = match (&settings.version_header, v.and_then(|v| v.header.as_ref())) {
            (Some(h), _) => Some(
                HeaderName::from_bytes(h.trim().to_ascii_lowercase().as_bytes())
                    .map_err(|_| self.input("version-header", format!("`{h}` is not a valid header name")))?,
            ),
            (None, Some(s)) => Some(
                HeaderName::from_bytes(s.value.trim().to_ascii_lowercase().as_bytes()).map_err(|_| {
                    self.at(
                        line_of(s),
                        "version.header",
                        format!("`{}` is not a valid header name", s.value),
                    )
                })?,
            ),
            (None, None) => None,
        };
        match (expect, url.is_some() || header.is_some()) {
            (None, false) => {
                if field.is_some() {
                    return Err(self.input("version-field", "needs `version-url`".to_owned()));
                }
                Ok(None)
            }
            (Some(_), false) => Err(ChecksError {
                hint: Some("set `version-url: /version` (the body or `version-field` holds the version) or `version-header: x-version`".to_owned()),
                ..self.input("expect-version", "needs `version-url` or `version-header` to compare with".to_owned())
            }),
            (None, true) => Err(ChecksError {
                hint: Some("pass the deployed commit, e.g. `expect-version: ${{ github.sha }}`".to_owned()),
                ..self.input("expect-version", "is required when `version-url` or `version-header` is set".to_owned())
            }),
            (Some(expect), true) => {
                if field.is_some() && url.is_none() {
                    return Err(self.input("version-field", "needs `version-url`".to_owned()));
                }
                Ok(Some(VersionCheck {
                    expect,
                    url,
                    field,
                    header,
                    line,
                }))
            }
        }
    }

    fn wait(
        &mut self,
        settings: &Settings,
        spec: Option<&Spanned<spec::WaitSpec>>,
        base: Option<&str>,
    ) -> Result<Option<Wait>, ChecksError> {
        let line = spec.and_then(line_of);
        let w = spec.map(|s| &s.value);
        let url = match (&settings.wait_url, w) {
            (Some(u), _) => resolve_url(base, &self.input_template("wait-url", u)?.display())
                .map_err(|m| self.input("wait-url", m))?,
            (None, Some(w)) => {
                let t = self.file_template(&w.url, "wait.url")?;
                resolve_url(base, &t.display()).map_err(|m| self.at(line_of(&w.url), "wait.url", m))?
            }
            (None, None) => return Ok(None),
        };
        let pick = |input: Option<Duration>, file: Option<&Spanned<String>>, field: &str, default: u64| match (
            input, file,
        ) {
            (Some(d), _) => Ok(d),
            (None, Some(s)) => self.duration(s, field),
            (None, None) => Ok(Duration::from_secs(default)),
        };
        let deadline = pick(
            settings.wait_timeout,
            w.and_then(|w| w.timeout.as_ref()),
            "wait.timeout",
            120,
        )?;
        let attempt_timeout = pick(
            settings.wait_attempt_timeout,
            w.and_then(|w| w.attempt_timeout.as_ref()),
            "wait.attempt-timeout",
            5,
        )?;
        let initial_delay = pick(
            None,
            w.and_then(|w| w.initial_delay.as_ref()),
            "wait.initial-delay",
            1,
        )?;
        let max_delay = pick(None, w.and_then(|w| w.max_delay.as_ref()), "wait.max-delay", 15)?;
        if attempt_timeout.is_zero() {
            return Err(match w.and_then(|w| w.attempt_timeout.as_ref()) {
                Some(s) if settings.wait_attempt_timeout.is_none() => self.at(
                    line_of(s),
                    "wait.attempt-timeout",
                    "must be more than 0".to_owned(),
                ),
                _ => self.input("wait-attempt-timeout", "must be more than 0".to_owned()),
            });
        }
        Ok(Some(Wait {
            url,
            deadline,
            attempt_timeout,
            initial_delay,
            max_delay: max_delay.max(initial_delay),
            line,
        }))
    }

    fn check(
        &mut self,
        spec: &CheckSpec,
        ctx: &CheckCtx<'_>,
        earlier: &[Check],
    ) -> Result<Check, ChecksError> {
        let i = ctx.index;
        let f = |rest: &str| format!("checks[{i}].{rest}");
        let method = match &spec.method {
            None => Method::GET,
            Some(m) => Method::from_bytes(m.value.trim().to_ascii_uppercase().as_bytes()).map_err(|_| {
                self.at(
                    line_of(m),
                    &f("method"),
                    format!("`{}` is not an HTTP method", m.value),
                )
            })?,
        };
        // The URL as written, not as resolved: a `${SECRET}` in it stays a name in reports.
        let name = match &spec.name {
            Some(n) => n.value.trim().to_owned(),
            None => format!("{method} {}", spec.url.value.trim()),
        };
        if name.is_empty() {
            let line = spec.name.as_ref().and_then(line_of);
            return Err(self.at(line, &f("name"), "must not be empty".to_owned()));
        }
        let url = self.file_template(&spec.url, &f("url"))?;
        if url.captures().next().is_none() {
            resolve_url(ctx.base_url, &url.display()).map_err(|m| {
                let mut e = self.at(line_of(&spec.url), &f("url"), m);
                if ctx.base_url.is_none() {
                    e.hint =
                        Some("set the `base-url` input or `base-url:` at the top of the file".to_owned());
                }
                e
            })?;
        }

        let mut headers: Vec<HeaderTemplate> = ctx.default_headers.to_vec();
        for (hname, value) in &spec.headers {
            let h = self.header(hname, value, &f(&format!("headers.{hname}")))?;
            headers.retain(|existing| existing.name != h.name);
            headers.push(h);
        }

        let body = match (&spec.body, &spec.json) {
            (Some(_), Some(j)) => {
                return Err(self.at(
                    line_of(j),
                    &f("json"),
                    "give `body` or `json`, not both".to_owned(),
                ));
            }
            (Some(b), None) => Some(Body::Text(self.file_template(b, &f("body"))?)),
            (None, Some(j)) => {
                if !headers.iter().any(|h| h.name == http::header::CONTENT_TYPE) {
                    headers.push(HeaderTemplate {
                        name: http::header::CONTENT_TYPE,
                        value: Template::literal("application/json"),
                        sensitive: false,
                    });
                }
                Some(Body::Json(self.json_template(
                    &j.value,
                    line_of(j),
                    &f("json"),
                )?))
            }
            (None, None) => None,
        };

        let redirects = match &spec.redirects {
            None => DEFAULT_REDIRECTS,
            Some(r) => match &r.value {
                Value::Bool(true) => DEFAULT_REDIRECTS,
                Value::Bool(false) => 0,
                Value::Number(n) if n.as_u64().is_some_and(|n| n <= 50) => {
                    usize::try_from(n.as_u64().unwrap_or(0)).unwrap_or(0)
                }
                other => {
                    return Err(self.at(
                        line_of(r),
                        &f("redirects"),
                        format!("expected `true`, `false` or a number of redirects (0–50), got `{other}`"),
                    ));
                }
            },
        };
        let timeout = match &spec.timeout {
            Some(t) => self.duration(t, &f("timeout"))?,
            None => ctx.timeout,
        };
        if timeout.is_zero() {
            return Err(self.at(ctx.line, &f("timeout"), "must be more than 0".to_owned()));
        }

        let mut asserts = match &spec.expect {
            Some(e) => self.expect(&e.value, line_of(e), i)?,
            None => Vec::new(),
        };
        if !asserts.iter().any(|a| matches!(a.kind, AssertKind::Status(_))) {
            asserts.insert(
                0,
                Assert {
                    line: ctx.line,
                    field: f("expect.status"),
                    kind: AssertKind::Status(vec![StatusMatch::Class(2)]),
                },
            );
        }
        if let Some(version) = ctx.version
            && let Some(header) = &version.header
        {
            asserts.push(Assert {
                line: version.line.or(ctx.line),
                field: "version.header".to_owned(),
                kind: AssertKind::VersionHeader(header.clone(), version.expect.clone()),
            });
        }

        let mut captures = Vec::new();
        for (cname, c) in &spec.capture {
            captures.push(self.capture(cname, c, &f(&format!("capture.{cname}")))?);
        }

        let latency = match &spec.latency {
            None => None,
            Some(l) => {
                let samples = l.value.samples.value;
                if samples == 0 || samples > MAX_SAMPLES {
                    return Err(self.at(
                        line_of(&l.value.samples),
                        &f("latency.samples"),
                        format!("expected 1 to {MAX_SAMPLES}, got {samples}"),
                    ));
                }
                let mut thresholds = Vec::new();
                for (k, t) in l.value.thresholds.iter().enumerate() {
                    thresholds.push(
                        Threshold::parse(&t.value)
                            .map_err(|m| self.at(line_of(t), &f(&format!("latency.thresholds[{k}]")), m))?,
                    );
                }
                Some(Latency {
                    samples,
                    thresholds,
                    min_samples: l.value.min_samples.as_ref().map_or(ctx.min_samples, |m| m.value),
                    line: line_of(l),
                    field: f("latency"),
                })
            }
        };

        // captures used here must come from checks above
        let mut used = Vec::new();
        used.extend(
            url.captures()
                .map(|c| (c.to_owned(), line_of(&spec.url), f("url"))),
        );
        for (hname, value) in &spec.headers {
            if let Some(h) = headers
                .iter()
                .find(|h| h.name.as_str() == hname.to_ascii_lowercase())
            {
                used.extend(
                    h.value
                        .captures()
                        .map(|c| (c.to_owned(), line_of(value), f(&format!("headers.{hname}")))),
                );
            }
        }
        for h in ctx.default_headers {
            used.extend(
                h.value
                    .captures()
                    .map(|c| (c.to_owned(), ctx.line, format!("headers.{}", h.name))),
            );
        }
        match (&body, &spec.body, &spec.json) {
            (Some(Body::Text(t)), Some(b), _) => {
                used.extend(t.captures().map(|c| (c.to_owned(), line_of(b), f("body"))));
            }
            (Some(Body::Json(j)), _, Some(js)) => {
                let mut names = Vec::new();
                j.captures(&mut names);
                used.extend(names.into_iter().map(|c| (c, line_of(js), f("json"))));
            }
            _ => {}
        }
        let mut depends_on = BTreeSet::new();
        for (capture, line, field) in used {
            let source = earlier
                .iter()
                .rposition(|c| c.captures.iter().any(|r| r.name == capture))
                .ok_or_else(|| ChecksError {
                    hint: Some(format!(
                        "add `capture: {{{capture}: {{json: $.…}}}}` to a check above this one"
                    )),
                    ..self.at(
                        line,
                        &field,
                        format!("`{{{{{capture}}}}}` is not captured by any check above `{name}`"),
                    )
                })?;
            depends_on.insert(source);
        }

        Ok(Check {
            name,
            line: ctx.line,
            method,
            url,
            headers,
            body,
            redirects,
            timeout,
            insecure: spec.insecure,
            asserts,
            captures,
            latency,
            depends_on: depends_on.into_iter().collect(),
        })
    }

    fn json_template(
        &mut self,
        value: &Value,
        line: Option<u32>,
        field: &str,
    ) -> Result<JsonTemplate, ChecksError> {
        Ok(match value {
            Value::String(s) => {
                let origin = self.origin.clone().unwrap_or(Origin::Inline);
                JsonTemplate::Str(self.template_with(s, false, |m| ChecksError {
                    origin: origin.describe(),
                    line,
                    field: Some(field.to_owned()),
                    message: m,
                    hint: None,
                })?)
            }
            Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .map(|i| self.json_template(i, line, field))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), self.json_template(v, line, field)?)))
                    .collect::<Result<_, ChecksError>>()?,
            ),
            other => JsonTemplate::Value(other.clone()),
        })
    }

    fn expect(&mut self, e: &ExpectSpec, line: Option<u32>, i: usize) -> Result<Vec<Assert>, ChecksError> {
        let f = |rest: &str| format!("checks[{i}].expect.{rest}");
        let mut out = Vec::new();
        if let Some(s) = &e.status {
            out.push(Assert {
                line: line_of(s),
                field: f("status"),
                kind: AssertKind::Status(
                    status_list(&s.value).map_err(|m| self.at(line_of(s), &f("status"), m))?,
                ),
            });
        }
        for (name, test) in &e.headers {
            let field = f(&format!("headers.{name}"));
            let header =
                HeaderName::from_bytes(name.trim().to_ascii_lowercase().as_bytes()).map_err(|_| {
                    self.at(
                        line_of(test),
                        &field,
                        format!("`{name}` is not a valid header name"),
                    )
                })?;
            for t in self.text_tests(test, &field, TextDefault::Equals)? {
                out.push(Assert {
                    line: line_of(test),
                    field: field.clone(),
                    kind: AssertKind::Header(header.clone(), t),
                });
            }
        }
        for (k, j) in e.json.iter().enumerate() {
            let field = f(&format!("json[{k}]"));
            let jl = line_of(j);
            let spec = &j.value;
            let query = match (&spec.path, &spec.pointer) {
                (Some(p), None) => {
                    if !p.value.trim_start().starts_with('$') {
                        return Err(self.at(
                            line_of(p),
                            &format!("{field}.path"),
                            format!("expected a JSONPath starting with `$`, got `{}`", p.value),
                        ));
                    }
                    Query::parse(&p.value).map_err(|m| self.at(line_of(p), &format!("{field}.path"), m))?
                }
                (None, Some(p)) => {
                    let text = p.value.trim();
                    if !(text.is_empty() || text.starts_with('/')) {
                        return Err(self.at(
                            line_of(p),
                            &format!("{field}.pointer"),
                            format!("expected a JSON Pointer starting with `/`, got `{}`", p.value),
                        ));
                    }
                    Query::parse(text).map_err(|m| self.at(line_of(p), &format!("{field}.pointer"), m))?
                }
                _ => {
                    return Err(self.at(
                        jl,
                        &field,
                        "give exactly one of `path` (JSONPath) or `pointer` (JSON Pointer)".to_owned(),
                    ));
                }
            };
            let mut tests = Vec::new();
            if let Some(v) = &spec.equals {
                tests.push((line_of(v), JsonTest::Equals(v.value.clone())));
            }
            if let Some(m) = &spec.matches {
                tests.push((
                    line_of(m),
                    JsonTest::Matches(self.regex(m, &format!("{field}.matches"))?),
                ));
            }
            if let Some(x) = &spec.exists {
                tests.push((line_of(x), JsonTest::Exists(x.value)));
            }
            if let Some(t) = &spec.type_ {
                let name = t.value.trim().to_ascii_lowercase();
                if !TYPES.contains(&name.as_str()) {
                    return Err(self.at(
                        line_of(t),
                        &format!("{field}.type"),
                        format!("unknown type `{}`, expected one of {}", t.value, TYPES.join(", ")),
                    ));
                }
                tests.push((line_of(t), JsonTest::Type(name)));
            }
            if let Some(c) = &spec.count {
                let raw = match &c.value {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                tests.push((
                    line_of(c),
                    JsonTest::Count(
                        NumberBound::parse(&raw, Op::Eq)
                            .map_err(|m| self.at(line_of(c), &format!("{field}.count"), m))?,
                    ),
                ));
            }
            if tests.is_empty() {
                tests.push((jl, JsonTest::Exists(true)));
            }
            for (tl, test) in tests {
                out.push(Assert {
                    line: tl.or(jl),
                    field: field.clone(),
                    kind: AssertKind::Json(query.clone(), test),
                });
            }
        }
        if let Some(b) = &e.body {
            for t in self.text_tests(b, &f("body"), TextDefault::Contains)? {
                out.push(Assert {
                    line: line_of(b),
                    field: f("body"),
                    kind: AssertKind::Body(t),
                });
            }
        }
        if let Some(d) = &e.duration {
            out.push(Assert {
                line: line_of(d),
                field: f("duration"),
                kind: AssertKind::Duration(
                    DurationBound::parse(&d.value).map_err(|m| self.at(line_of(d), &f("duration"), m))?,
                ),
            });
        }
        if let Some(t) = &e.tls {
            if let Some(days) = &t.value.days_left {
                let raw = match &days.value {
                    Value::Number(n) => n.to_string(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                out.push(Assert {
                    line: line_of(days),
                    field: f("tls.days-left"),
                    kind: AssertKind::CertDaysLeft(
                        NumberBound::parse(&raw, Op::Ge)
                            .map_err(|m| self.at(line_of(days), &f("tls.days-left"), m))?,
                    ),
                });
            }
            if let Some(host) = t.value.host.as_ref().filter(|h| h.value) {
                out.push(Assert {
                    line: line_of(host),
                    field: f("tls.host"),
                    kind: AssertKind::CertHost,
                });
            }
        }
        let _ = line;
        Ok(out)
    }

    fn text_tests(
        &self,
        v: &Spanned<Value>,
        field: &str,
        default: TextDefault,
    ) -> Result<Vec<TextTest>, ChecksError> {
        let line = line_of(v);
        let bad = |what: String| self.at(line, field, what);
        let shorthand = |s: &str| match default {
            TextDefault::Equals => TextTest::Equals(s.to_owned()),
            TextDefault::Contains => TextTest::Contains(s.to_owned()),
        };
        match &v.value {
            Value::String(s) => Ok(vec![shorthand(s)]),
            Value::Number(n) => Ok(vec![shorthand(&n.to_string())]),
            Value::Object(map) => {
                let mut out = Vec::new();
                for (key, value) in map {
                    let texts = |value: &Value| -> Result<Vec<String>, ChecksError> {
                        match value {
                            Value::String(s) => Ok(vec![s.clone()]),
                            Value::Number(n) => Ok(vec![n.to_string()]),
                            Value::Array(items) => items
                                .iter()
                                .map(|i| match i {
                                    Value::String(s) => Ok(s.clone()),
                                    other => Err(bad(format!("`{key}` expects text, got `{other}`"))),
                                })
                                .collect(),
                            other => Err(bad(format!(
                                "`{key}` expects text or a list of texts, got `{other}`"
                            ))),
                        }
                    };
                    match key.as_str() {
                        "equals" => out.extend(texts(value)?.into_iter().map(TextTest::Equals)),
                        "contains" => out.extend(texts(value)?.into_iter().map(TextTest::Contains)),
                        "matches" => {
                            for pattern in texts(value)? {
                                out.push(TextTest::Matches(Regex::new(&pattern).map_err(|e| {
                                    bad(format!(
                                        "invalid regex `{pattern}`: {}",
                                        last_line(&e.to_string())
                                    ))
                                })?));
                            }
                        }
                        "exists" => match value {
                            Value::Bool(b) => out.push(TextTest::Exists(*b)),
                            other => {
                                return Err(bad(format!(
                                    "`exists` expects `true` or `false`, got `{other}`"
                                )));
                            }
                        },
                        other => {
                            return Err(bad(format!(
                                "unknown test `{other}`, expected one of `equals`, `contains`, `matches`, `exists`"
                            )));
                        }
                    }
                }
                if out.is_empty() {
                    return Err(bad(
                        "expected at least one of `equals`, `contains`, `matches`, `exists`".to_owned(),
                    ));
                }
                Ok(out)
            }
            other => Err(bad(format!(
                "expected text or a map of `equals`, `contains`, `matches`, `exists`, got `{other}`"
            ))),
        }
    }

    fn capture(
        &mut self,
        name: &str,
        c: &Spanned<spec::CaptureSpec>,
        field: &str,
    ) -> Result<CaptureRule, ChecksError> {
        let line = line_of(c);
        if !crate::template::is_capture_name(name) {
            return Err(self.at(
                line,
                field,
                format!("`{name}` is not a capture name (letters, digits, `_` and `-`)"),
            ));
        }
        let spec = &c.value;
        let source = match (&spec.json, &spec.header) {
            (Some(j), None) => CaptureSource::Json(
                Query::parse(&j.value).map_err(|m| self.at(line_of(j), &format!("{field}.json"), m))?,
            ),
            (None, Some(h)) => CaptureSource::Header(
                HeaderName::from_bytes(h.value.trim().to_ascii_lowercase().as_bytes()).map_err(|_| {
                    self.at(
                        line_of(h),
                        &format!("{field}.header"),
                        format!("`{}` is not a valid header name", h.value),
                    )
                })?,
            ),
            (None, None) if spec.regex.is_some() => CaptureSource::Body,
            _ => {
                return Err(self.at(
                    line,
                    field,
                    "give one of `json`, `header`, or `regex` alone (on the body)".to_owned(),
                ));
            }
        };
        let regex = match &spec.regex {
            Some(r) => Some(self.regex(r, &format!("{field}.regex"))?),
            None => None,
        };
        let secret = spec.secret.unwrap_or_else(|| {
            looks_secret(name)
                || matches!(&source, CaptureSource::Header(h) if is_sensitive_header(h.as_str()))
        });
        Ok(CaptureRule {
            name: name.to_owned(),
            line,
            field: field.to_owned(),
            source,
            regex,
            secret,
        })
    }

    fn quick_check(
        &mut self,
        raw: &str,
        settings: &Settings,
        timeout: Duration,
        base: Option<&str>,
        version: Option<&VersionCheck>,
    ) -> Result<Check, ChecksError> {
        let url = self.input_template("url", raw)?;
        if url.captures().next().is_some() {
            return Err(self.input("url", "captures (`{{…}}`) need a checks file".to_owned()));
        }
        let resolved = resolve_url(base, &url.display()).map_err(|m| ChecksError {
            hint: base
                .is_none()
                .then(|| "give a full URL, or set `base-url`".to_owned()),
            ..self.input("url", m)
        })?;
        let status = settings.expect_status.as_deref().unwrap_or("200");
        let mut asserts = vec![Assert {
            line: None,
            field: "expect-status".to_owned(),
            kind: AssertKind::Status(
                StatusMatch::parse_list(status).map_err(|m| self.input("expect-status", m))?,
            ),
        }];
        if let Some(body) = &settings.expect_body {
            asserts.push(Assert {
                line: None,
                field: "expect-body".to_owned(),
                kind: AssertKind::Body(TextTest::Contains(body.clone())),
            });
        }
        if let Some(VersionCheck {
            header: Some(h),
            expect,
            ..
        }) = version
        {
            asserts.push(Assert {
                line: None,
                field: "version-header".to_owned(),
                kind: AssertKind::VersionHeader(h.clone(), expect.clone()),
            });
        }
        Ok(Check {
            name: ops_core::secret::redact_url(resolved.as_str()),
            line: None,
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            redirects: DEFAULT_REDIRECTS,
            timeout,
            insecure: false,
            asserts,
            captures: Vec::new(),
            latency: None,
            depends_on: Vec::new(),
        })
    }
}

#[derive(Clone, Copy)]
enum TextDefault {
    Equals,
    Contains,
}

fn status_list(v: &Value) -> Result<Vec<StatusMatch>, String> {
    match v {
        Value::Number(n) => StatusMatch::parse(&n.to_string()).map(|m| vec![m]),
        Value::String(s) => StatusMatch::parse_list(s),
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|i| match i {
                Value::Number(n) => StatusMatch::parse(&n.to_string()),
                Value::String(s) => StatusMatch::parse(s),
                other => StatusMatch::parse(&other.to_string()),
            })
            .collect(),
        other => StatusMatch::parse(&other.to_string()).map(|m| vec![m]),
    }
}

fn last_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .rev()
        .find(|l| !l.is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// Resolves a check URL: absolute `http(s)://…` as is, anything else appended to the base URL.
pub fn resolve_url(base: Option<&str>, raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    if raw.starts_with("http://") || raw.starts_with("https://") {
        return parse_http_url(raw);
    }
    if raw.contains("://") {
        return Err(format!("`{raw}` is not an `http://` or `https://` URL"));
    }
    match base {
        Some(base) => parse_http_url(&format!(
            "{}/{}",
            base.trim_end_matches('/'),
            raw.trim_start_matches('/')
        )),
        None => Err(format!("`{raw}` is relative, and there is no base URL")),
    }
}

fn parse_http_url(raw: &str) -> Result<Url, String> {
    let url = Url::parse(raw)
        .map_err(|e| format!("`{}` is not a valid URL ({e})", ops_core::secret::redact_url(raw)))?;
    match url.scheme() {
        "http" | "https" if url.host().is_some() => Ok(url),
        _ => Err(format!(
            "`{}` is not an `http://` or `https://` URL",
            ops_core::secret::redact_url(raw)
        )),
    }
}

/// Environment variable, capture and header names that hold secrets: the toolkit's one heuristic
/// ([`ops_core::secret::looks_secret`]), so a value do-deploy masks is masked here too.
pub fn looks_secret(name: &str) -> bool {
    ops_core::secret::looks_secret(name)
}

/// Headers whose values are secret.
pub fn is_sensitive_header(name: &str) -> bool {
    matches!(
        name,
        "authorization" | "proxy-authorization" | "cookie" | "set-cookie"
    ) || looks_secret(name)
}

#[cfg(test)]
mod tests;
