//! The metadata: version, tags, labels and annotations, computed as docker/metadata-action computes them
//! (same inputs, same types, priorities, flavor and expressions), with its sanitisation bugs fixed.

pub mod flavor;
pub mod image;
pub mod lines;
pub mod moment;
pub mod pep440;
pub mod sanitize;
pub mod semver;
pub mod tag;
pub mod template;

use jiff::Timestamp;
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use flavor::{Flavor, Latest};
use lines::Line;
use tag::{Kind, RefEvent, Tag};
use template::{Dates, Scope, TemplateError};

/// The list inputs, split into lines.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `images`.
    pub images: Vec<Line>,
    /// `tags`.
    pub tags: Vec<Line>,
    /// `flavor`.
    pub flavor: Vec<Line>,
    /// `labels`.
    pub labels: Vec<Line>,
    /// `annotations`.
    pub annotations: Vec<Line>,
}

impl Inputs {
    /// Whether any input uses `{{commit_date …}}` (only then is the commit date looked up).
    pub fn uses_commit_date(&self) -> bool {
        [&self.tags, &self.flavor, &self.labels, &self.annotations]
            .iter()
            .any(|lines| lines.iter().any(|l| l.text.contains("commit_date")))
    }
}

/// The Git and event context.
#[derive(Debug, Clone)]
pub struct Context {
    /// `GITHUB_EVENT_NAME`.
    pub event_name: String,
    /// The commit (the PR head with `DOCKER_METADATA_PR_HEAD_SHA=true`).
    pub sha: String,
    /// The ref (`refs/pull/N/merge` for `pull_request_target`).
    pub git_ref: String,
    /// The event payload.
    pub payload: Value,
    /// "Now".
    pub now: Timestamp,
    /// The commit's date (now when unknown).
    pub commit_date: Timestamp,
}

/// What the repository API said.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Repo {
    /// `name`.
    pub name: String,
    /// `description`.
    pub description: String,
    /// `html_url`.
    pub html_url: String,
    /// `license.spdx_id`.
    pub license: String,
    /// `default_branch`.
    pub default_branch: String,
}

/// Settings from `DOCKER_METADATA_*` variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    /// `DOCKER_METADATA_SHORT_SHA_LENGTH` (default 7).
    pub short_sha_length: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Self { short_sha_length: 7 }
    }
}

/// The version: the first tag value, the others, and whether `latest` is added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Version {
    /// The main version (the `version` output and label).
    pub main: Option<String>,
    /// The other tag values, in order, without duplicates.
    pub partial: Vec<String>,
    /// Whether `latest` is added.
    pub latest: bool,
}

/// The computed metadata.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    /// The version.
    pub version: Version,
    /// The enabled images, lowercased.
    pub images: Vec<String>,
    /// `image:tag` for every enabled image (bare tags, lowercased, when there is no image).
    pub tags: Vec<String>,
    /// The tags without image names.
    pub tag_names: Vec<String>,
    /// Labels, sorted as metadata-action sorts them.
    pub labels: Vec<(String, String)>,
    /// Annotations (without a level), sorted.
    pub annotations: Vec<(String, String)>,
    /// Things worth a warning (no match, invalid version, unknown attribute…).
    pub warnings: Vec<String>,
}

/// Invalid input; always names the input line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetaError {
    /// A `tags` line.
    #[error(transparent)]
    Tag(#[from] tag::TagError),
    /// A `flavor` line.
    #[error(transparent)]
    Flavor(#[from] flavor::FlavorError),
    /// An `images` line.
    #[error(transparent)]
    Image(#[from] image::ImageError),
    /// Any line with a bad expression, pattern or `enable` value.
    #[error("{line}: {message}")]
    Line {
        /// The line.
        line: Line,
        /// What is wrong.
        message: String,
    },
}

fn line_error(line: &Line, message: impl Into<String>) -> MetaError {
    MetaError::Line {
        line: line.clone(),
        message: message.into(),
    }
}

/// The names every expression can use.
struct Global<'a> {
    ctx: &'a Context,
    short_sha: usize,
}

impl Global<'_> {
    fn is_default_branch(&self) -> bool {
        let branch = self
            .ctx
            .git_ref
            .strip_prefix("refs/heads/")
            .unwrap_or(&self.ctx.git_ref);
        if branch.is_empty() {
            return false;
        }
        // metadata-action reads the payload's default branch here, not the API's
        if self
            .ctx
            .payload
            .pointer("/repository/default_branch")
            .and_then(Value::as_str)
            == Some(branch)
        {
            return true;
        }
        // these events always run on the default branch's last commit
        let event = &self.ctx.event_name;
        ["create", "discussion", "issues", "schedule"]
            .iter()
            .any(|e| event.contains(e))
    }
}

impl Scope for Global<'_> {
    fn var(&self, name: &str) -> Option<String> {
        let git_ref = &self.ctx.git_ref;
        Some(match name {
            "branch" => git_ref.strip_prefix("refs/heads/").unwrap_or_default().to_owned(),
            "tag" => git_ref.strip_prefix("refs/tags/").unwrap_or_default().to_owned(),
            "sha" => short_sha(&self.ctx.sha, self.short_sha),
            "base_ref" => {
                let payload = &self.ctx.payload;
                if git_ref.starts_with("refs/tags/") {
                    payload
                        .get("base_ref")
                        .and_then(Value::as_str)
                        .map(|r| r.strip_prefix("refs/heads/").unwrap_or(r).to_owned())
                        .unwrap_or_default()
                } else if git_ref.starts_with("refs/pull/") {
                    payload
                        .pointer("/pull_request/base/ref")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned()
                } else {
                    String::new()
                }
            }
            "is_default_branch" => self.is_default_branch().to_string(),
            "is_not_default_branch" => (!self.is_default_branch()).to_string(),
            _ => return None,
        })
    }

    fn dates(&self) -> Option<Dates> {
        Some(Dates {
            now: self.ctx.now,
            commit: self.ctx.commit_date,
        })
    }
}

/// `type=schedule` patterns see only the date helpers.
struct DatesOnly(Dates);

impl Scope for DatesOnly {
    fn var(&self, _: &str) -> Option<String> {
        None
    }
    fn dates(&self) -> Option<Dates> {
        Some(self.0)
    }
}

struct SemverScope<'a>(&'a semver::SemVer);

impl Scope for SemverScope<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }
    fn dates(&self) -> Option<Dates> {
        None
    }
}

struct Pep440Scope<'a>(&'a pep440::Pep440);

impl Scope for Pep440Scope<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name)
    }
    fn dates(&self) -> Option<Dates> {
        None
    }
}

/// The first `length` characters of a SHA.
pub fn short_sha(sha: &str, length: usize) -> String {
    sha.chars().take(length).collect()
}

struct Computer<'a> {
    ctx: &'a Context,
    repo: &'a Repo,
    flavor: Flavor,
    global: Global<'a>,
    warnings: Vec<String>,
}

impl Computer<'_> {
    fn render(&mut self, line: &Line, text: &str) -> Result<String, MetaError> {
        template::render(text, &self.global, &mut self.warnings).map_err(|e| self.template_error(line, e))
    }

    fn render_in(&mut self, line: &Line, text: &str, scope: &dyn Scope) -> Result<String, MetaError> {
        template::render(text, scope, &mut self.warnings).map_err(|e| self.template_error(line, e))
    }

    fn template_error(&self, line: &Line, error: TemplateError) -> MetaError {
        line_error(line, error.to_string())
    }

    fn warn(&mut self, line: &Line, message: impl std::fmt::Display) {
        self.warnings.push(format!("{line}: {message}"));
    }

    /// metadata-action's `setValue`: the tag's own prefix/suffix (even empty) or the flavor's.
    fn affix(&mut self, tag: &Tag, value: String) -> Result<String, MetaError> {
        let prefix = if tag.has("prefix") {
            self.render(&tag.line, tag.attr("prefix"))?
        } else if !self.flavor.prefix.is_empty() {
            let prefix = self.flavor.prefix.clone();
            self.render(&tag.line, &prefix)?
        } else {
            String::new()
        };
        let suffix = if tag.has("suffix") {
            self.render(&tag.line, tag.attr("suffix"))?
        } else if !self.flavor.suffix.is_empty() {
            let suffix = self.flavor.suffix.clone();
            self.render(&tag.line, &suffix)?
        } else {
            String::new()
        };
        Ok(format!("{prefix}{value}{suffix}"))
    }

    /// The value a tag produces, and whether it asks for `latest` under `latest=auto`.
    fn value(&mut self, tag: &Tag) -> Result<Option<(String, bool)>, MetaError> {
        let git_ref = self.ctx.git_ref.clone();
        let on_tag = git_ref.starts_with("refs/tags/");
        match tag.kind {
            Kind::Schedule => {
                if !self.ctx.event_name.contains("schedule") {
                    return Ok(None);
                }
                let scope = DatesOnly(Dates {
                    now: self.ctx.now,
                    commit: self.ctx.commit_date,
                });
                let value = self.render_in(&tag.line, tag.attr("pattern"), &scope)?;
                Ok(Some((self.affix(tag, value)?, false)))
            }
            Kind::Semver | Kind::Pep440 => {
                if !on_tag && tag.attr("value").is_empty() {
                    return Ok(None);
                }
                let Some(raw) = self.version_source(tag, true)? else {
                    return Ok(None);
                };
                if tag.kind == Kind::Semver {
                    self.semver(tag, &raw)
                } else {
                    self.pep440(tag, &raw)
                }
            }
            Kind::Match => {
                if !on_tag && tag.attr("value").is_empty() {
                    return Ok(None);
                }
                let Some(raw) = self.version_source(tag, false)? else {
                    return Ok(None);
                };
                let (regex, global) = js_regex(tag.attr("pattern")).map_err(|e| line_error(&tag.line, e))?;
                let group: usize = tag.attr("group").trim().parse().unwrap_or(0);
                let found = if global {
                    regex.find_iter(&raw).nth(group).map(|m| m.as_str().to_owned())
                } else {
                    match regex.captures(&raw) {
                        None => {
                            self.warn(
                                &tag.line,
                                format!("`{}` does not match `{raw}`", tag.attr("pattern")),
                            );
                            return Ok(None);
                        }
                        Some(caps) => caps.get(group).map(|m| m.as_str().to_owned()),
                    }
                };
                let Some(found) = found else {
                    self.warn(
                        &tag.line,
                        format!(
                            "group {group} does not exist for the `{}` pattern on `{raw}`",
                            tag.attr("pattern")
                        ),
                    );
                    return Ok(None);
                };
                Ok(Some((self.affix(tag, found)?, true)))
            }
            Kind::Edge => {
                let Some(branch) = git_ref.strip_prefix("refs/heads/") else {
                    return Ok(None);
                };
                let wanted = if tag.attr("branch").is_empty() {
                    self.repo.default_branch.as_str()
                } else {
                    tag.attr("branch")
                };
                if wanted != branch {
                    return Ok(None);
                }
                Ok(Some((self.affix(tag, "edge".to_owned())?, false)))
            }
            Kind::Ref => {
                let (value, latest) = match tag.event {
                    Some(RefEvent::Branch) => match git_ref.strip_prefix("refs/heads/") {
                        Some(b) => (b.to_owned(), false),
                        None => return Ok(None),
                    },
                    Some(RefEvent::Tag) => match git_ref.strip_prefix("refs/tags/") {
                        Some(t) => (t.to_owned(), true),
                        None => return Ok(None),
                    },
                    Some(RefEvent::Pr) | None => match git_ref.strip_prefix("refs/pull/") {
                        Some(p) => (p.strip_suffix("/merge").unwrap_or(p).to_owned(), false),
                        None => return Ok(None),
                    },
                };
                Ok(Some((self.affix(tag, value)?, latest)))
            }
            Kind::Raw => {
                let value = self.render(&tag.line, tag.attr("value"))?;
                Ok(Some((self.affix(tag, value)?, false)))
            }
            Kind::Sha => {
                if self.ctx.sha.is_empty() {
                    return Ok(None);
                }
                let value = if tag.long_sha {
                    self.ctx.sha.clone()
                } else {
                    short_sha(&self.ctx.sha, self.global.short_sha)
                };
                Ok(Some((self.affix(tag, value)?, false)))
            }
        }
    }

    /// `value` (rendered) or the Git tag, passed through `match` (semver/pep440 only), `/` → `-`.
    fn version_source(&mut self, tag: &Tag, apply_match: bool) -> Result<Option<String>, MetaError> {
        let mut raw = if tag.attr("value").is_empty() {
            self.ctx
                .git_ref
                .strip_prefix("refs/tags/")
                .unwrap_or(&self.ctx.git_ref)
                .to_owned()
        } else {
            self.render(&tag.line, tag.attr("value"))?
        };
        if apply_match && !tag.attr("match").is_empty() {
            let regex = Regex::new(tag.attr("match")).map_err(|e| {
                line_error(
                    &tag.line,
                    format!("invalid `match` regular expression: {}", one_line(&e)),
                )
            })?;
            match regex.captures(&raw) {
                None => self.warn(
                    &tag.line,
                    format!("`{}` does not match `{raw}`", tag.attr("match")),
                ),
                Some(caps) => {
                    // group 1, as upstream; a pattern without groups gives its whole match
                    match caps
                        .get(1)
                        .or_else(|| if caps.len() == 1 { caps.get(0) } else { None })
                    {
                        Some(m) => raw = m.as_str().to_owned(),
                        None => {
                            self.warn(
                                &tag.line,
                                format!("group 1 of `{}` did not match in `{raw}`", tag.attr("match")),
                            );
                            return Ok(None);
                        }
                    }
                }
            }
        }
        if apply_match {
            raw = raw.replace('/', "-");
        }
        Ok(Some(raw))
    }

    fn semver(&mut self, tag: &Tag, raw: &str) -> Result<Option<(String, bool)>, MetaError> {
        let Some(version) = semver::parse(raw) else {
            self.warn(
                &tag.line,
                format!("`{raw}` is not a valid semver; see https://semver.org"),
            );
            return Ok(None);
        };
        let pattern = tag.attr("pattern");
        // a prerelease gets `{{version}}` only (or `{{raw}}` when that is the whole pattern), never latest
        let (value, latest) = if !version.prerelease.is_empty() {
            let pattern = if template::Template::is_raw_statement(pattern) {
                pattern
            } else {
                "{{version}}"
            };
            (self.render_in(&tag.line, pattern, &SemverScope(&version))?, false)
        } else {
            (self.render_in(&tag.line, pattern, &SemverScope(&version))?, true)
        };
        Ok(Some((self.affix(tag, value)?, latest)))
    }

    fn pep440(&mut self, tag: &Tag, raw: &str) -> Result<Option<(String, bool)>, MetaError> {
        let Some(version) = pep440::parse(raw) else {
            self.warn(
                &tag.line,
                format!("`{raw}` does not conform to PEP 440; see https://peps.python.org/pep-0440/"),
            );
            return Ok(None);
        };
        let pattern = tag.attr("pattern");
        let (value, latest) = if version.is_special() {
            if template::Template::is_raw_statement(pattern) {
                (raw.to_owned(), false)
            } else {
                (version.clean(), false)
            }
        } else {
            (self.render_in(&tag.line, pattern, &Pep440Scope(&version))?, true)
        };
        Ok(Some((self.affix(tag, value)?, latest)))
    }
}

fn one_line(error: &regex::Error) -> String {
    error
        .to_string()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A JavaScript regular expression given as a string (`v(.*)`) or a literal (`/^v(.*)$/i`); returns the
/// regex and whether it has the `g` flag (then `group` counts matches, as JavaScript's `match` does).
fn js_regex(pattern: &str) -> Result<(Regex, bool), String> {
    let literal = pattern
        .strip_prefix('/')
        .and_then(|rest| rest.rfind('/').map(|end| (&rest[..end], &rest[end + 1..])))
        .filter(|(body, _)| !body.is_empty());
    let (body, flags) = literal.unwrap_or((pattern, ""));
    let mut builder = RegexBuilder::new(body);
    let mut global = false;
    for flag in flags.chars() {
        match flag {
            'i' => {
                builder.case_insensitive(true);
            }
            'm' => {
                builder.multi_line(true);
            }
            's' => {
                builder.dot_matches_new_line(true);
            }
            'g' => global = true,
            'u' | 'y' | 'd' | 'v' => {}
            other => {
                return Err(format!(
                    "invalid flag `{other}` in the `{pattern}` pattern; expected `g`, `i`, `m`, `s`, `u` or `y`"
                ));
            }
        }
    }
    let regex = builder.build().map_err(|e| {
        format!(
            "invalid `pattern` regular expression `{pattern}`: {}",
            one_line(&e)
        )
    })?;
    Ok((regex, global))
}

/// Computes the metadata.
pub fn compute(inputs: &Inputs, ctx: &Context, repo: &Repo, settings: &Settings) -> Result<Meta, MetaError> {
    let mut warnings = Vec::new();
    let images = image::parse(&inputs.images)?;
    let tags = tag::parse_all(&inputs.tags, &mut warnings)?;
    let flavor = flavor::parse(&inputs.flavor)?;
    let mut c = Computer {
        ctx,
        repo,
        flavor,
        global: Global {
            ctx,
            short_sha: settings.short_sha_length,
        },
        warnings,
    };
    let mut version = Version::default();
    let mut latest_decided: Option<bool> = None;
    for tag in &tags {
        let enable = c.render(&tag.line, tag.attr("enable"))?;
        let enabled = match enable.as_str() {
            "true" => true,
            "false" => false,
            other => {
                return Err(line_error(
                    &tag.line,
                    format!(
                        "`enable` must be `true` or `false` once expressions are rendered, got `{other}`"
                    ),
                ));
            }
        };
        if !enabled {
            continue;
        }
        let Some((value, auto_latest)) = c.value(tag)? else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let clean = sanitize::tag(&value);
        if clean.is_empty() {
            c.warn(
                &tag.line,
                format!("`{value}` has no character a tag may hold; no tag from this line"),
            );
            continue;
        }
        match &version.main {
            None => version.main = Some(clean),
            Some(main) if *main != clean => {
                if !version.partial.contains(&clean) {
                    version.partial.push(clean);
                }
            }
            Some(_) => {}
        }
        if latest_decided.is_none() {
            latest_decided = Some(match c.flavor.latest {
                Latest::Auto => auto_latest,
                Latest::Yes => true,
                Latest::No => false,
            });
        }
    }
    version.latest = latest_decided.unwrap_or(false);

    let enabled_images: Vec<String> = images
        .iter()
        .filter(|i| i.enable)
        .map(|i| i.name.clone())
        .collect();
    let mut names = Vec::new();
    if let Some(main) = &version.main {
        names.push(main.clone());
        names.extend(version.partial.iter().cloned());
        if version.latest {
            let line = Line::new("flavor", 0, "latest");
            let prefix = if c.flavor.prefix_latest {
                let p = c.flavor.prefix.clone();
                c.render(&line, &p)?
            } else {
                String::new()
            };
            let suffix = if c.flavor.suffix_latest {
                let s = c.flavor.suffix.clone();
                c.render(&line, &s)?
            } else {
                String::new()
            };
            names.push(sanitize::tag(&format!("{prefix}latest{suffix}")));
        }
    }
    dedupe(&mut names);
    let mut full = Vec::new();
    if enabled_images.is_empty() {
        // bare tags are used as image references, which must be lowercase (metadata-action #405)
        full.extend(names.iter().map(|n| n.to_lowercase()));
    } else {
        for image in &enabled_images {
            full.extend(names.iter().map(|n| format!("{image}:{n}")));
        }
    }
    dedupe(&mut full);

    let labels = c.oci(&inputs.labels, &version)?;
    let annotations = c.oci(&inputs.annotations, &version)?;
    Ok(Meta {
        version,
        images: enabled_images,
        tags: full,
        tag_names: names,
        labels,
        annotations,
        warnings: c.warnings,
    })
}

impl Computer<'_> {
    /// The eight OCI keys, then the custom lines (rendered; the last value of a key wins), sorted.
    fn oci(&mut self, extra: &[Line], version: &Version) -> Result<Vec<(String, String)>, MetaError> {
        let mut map: Vec<(String, String)> = vec![
            ("org.opencontainers.image.title".into(), self.repo.name.clone()),
            (
                "org.opencontainers.image.description".into(),
                self.repo.description.clone(),
            ),
            ("org.opencontainers.image.url".into(), self.repo.html_url.clone()),
            (
                "org.opencontainers.image.source".into(),
                self.repo.html_url.clone(),
            ),
            (
                "org.opencontainers.image.version".into(),
                version.main.clone().unwrap_or_default(),
            ),
            (
                "org.opencontainers.image.created".into(),
                iso_millis(self.ctx.now),
            ),
            ("org.opencontainers.image.revision".into(), self.ctx.sha.clone()),
            (
                "org.opencontainers.image.licenses".into(),
                self.repo.license.clone(),
            ),
        ];
        for line in extra {
            let text = self.render(line, &line.text)?;
            match text.split_once('=') {
                Some((key, value)) if !key.is_empty() => match map.iter_mut().find(|(k, _)| k == key) {
                    Some(entry) => entry.1 = value.to_owned(),
                    None => map.push((key.to_owned(), value.to_owned())),
                },
                _ => self.warn(line, "not a `key=value` entry; ignored"),
            }
        }
        map.sort_by_cached_key(|(key, _)| sanitize::locale_key(key));
        Ok(map)
    }
}

/// JavaScript's `Date.prototype.toISOString`: UTC with milliseconds.
pub fn iso_millis(at: Timestamp) -> String {
    at.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn dedupe(list: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    list.retain(|item| seen.insert(item.clone()));
}

#[cfg(test)]
mod tests;
