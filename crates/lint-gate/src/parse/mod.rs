//! Streaming parsers, one module per report format.
//!
//! Every parser reads from a [`BufRead`] and hands each diagnostic to a [`Sink`] as soon as it is
//! read, so the caller can filter while parsing and memory does not grow with what the filter drops.
//! Nothing is reported before the whole input parsed: a malformed report is a [`ParseError`] that
//! names the source, the line, the column where known and the byte offset, never a silent zero.
//!
//! | format | reads |
//! |---|---|
//! | [`sarif`] | SARIF 2.1.0 |
//! | [`checkstyle`] | checkstyle XML |
//! | [`rdjson`] | reviewdog's rdjson (one document) and rdjsonl (one diagnostic per line) |
//! | [`cargo`] | `cargo check` / `cargo clippy --message-format=json` |
//! | [`eslint`] | ESLint's `-f json` |
//! | [`golangci`] | golangci-lint's JSON output |
//! | [`ruff`] | ruff's JSON output (`ruff check --output-format json`) |
//! | [`shellcheck`] | shellcheck's `-f json1` and `-f json` |
//! | [`errorformat`] | Vim errorformat patterns, with presets for common text outputs |

pub mod cargo;
pub mod checkstyle;
mod detect;
pub mod errorformat;
pub mod eslint;
pub mod golangci;
pub mod input;
pub mod rdjson;
pub mod ruff;
pub mod sarif;
mod scan;
pub mod severity;
pub mod shellcheck;
mod stream;

use std::io::BufRead;
use std::sync::Arc;

use ops_core::{ExitStatus, Finding, Level, Region, Report, RuleInfo};

pub use detect::detect;
pub use errorformat::Errorformat;

/// A format, resolved (see [`FormatSpec`] for `auto`).
#[derive(Debug, Clone)]
pub enum Format {
    /// SARIF 2.1.0.
    Sarif,
    /// checkstyle XML.
    Checkstyle,
    /// reviewdog's rdjson document.
    Rdjson,
    /// reviewdog's rdjsonl (one diagnostic per line).
    Rdjsonl,
    /// cargo's `--message-format=json` lines (rustc and clippy).
    Cargo,
    /// ESLint's JSON formatter.
    Eslint,
    /// golangci-lint's JSON output.
    Golangci,
    /// ruff's JSON output.
    Ruff,
    /// shellcheck's `-f json1` (or `-f json`).
    Shellcheck,
    /// Text lines matched by errorformat patterns (a preset or the `errorformat` input).
    Text(Arc<Errorformat>),
}

impl Format {
    /// The name users write in `format`.
    pub fn name(&self) -> &str {
        match self {
            Self::Sarif => "sarif",
            Self::Checkstyle => "checkstyle",
            Self::Rdjson => "rdjson",
            Self::Rdjsonl => "rdjsonl",
            Self::Cargo => "cargo",
            Self::Eslint => "eslint",
            Self::Golangci => "golangci-lint",
            Self::Ruff => "ruff-json",
            Self::Shellcheck => "shellcheck-json",
            Self::Text(efm) => efm.name(),
        }
    }

    /// Whether an empty input is a valid report with no findings (text: a linter that found nothing
    /// prints nothing) or an error (a JSON or XML document cannot be empty).
    pub fn empty_is_clean(&self) -> bool {
        matches!(self, Self::Text(_) | Self::Rdjsonl | Self::Cargo)
    }
}

/// What a source asked for: a format by name, or `auto` (detected from the content).
#[derive(Debug, Clone)]
pub enum FormatSpec {
    /// Detect from the first bytes.
    Auto,
    /// This format.
    Known(Format),
}

/// Every name `format` accepts, for messages and docs.
pub const FORMAT_NAMES: &[&str] = &[
    "auto",
    "sarif",
    "checkstyle",
    "rdjson",
    "rdjsonl",
    "cargo",
    "clippy",
    "eslint",
    "golangci-lint",
    "ruff-json",
    "shellcheck-json",
    "errorformat",
];

impl FormatSpec {
    /// Parses a format name. `errorformat` uses `custom` (the `errorformat` input, compiled); preset
    /// names (`tsc`, `mypy`, …) select a preset.
    pub fn parse(name: &str, custom: Option<&Arc<Errorformat>>) -> Result<Self, String> {
        let lower = name.trim().to_ascii_lowercase();
        let format = match lower.as_str() {
            "" | "auto" => return Ok(Self::Auto),
            "sarif" => Format::Sarif,
            "checkstyle" => Format::Checkstyle,
            "rdjson" => Format::Rdjson,
            "rdjsonl" => Format::Rdjsonl,
            "cargo" | "clippy" | "rustc" | "cargo-json" => Format::Cargo,
            "eslint" | "eslint-json" => Format::Eslint,
            "golangci-lint" | "golangci" | "golangci-lint-json" => Format::Golangci,
            "ruff-json" => Format::Ruff,
            "shellcheck-json" | "shellcheck-json1" | "json1" => Format::Shellcheck,
            "errorformat" | "efm" => match custom {
                Some(efm) => Format::Text(Arc::clone(efm)),
                None => {
                    return Err("format `errorformat` needs patterns in the `errorformat` input".to_owned());
                }
            },
            other => match errorformat::preset(other) {
                Some(efm) => Format::Text(efm),
                None => {
                    return Err(format!(
                        "unknown format `{name}`: expected one of {}, or a preset: {}",
                        FORMAT_NAMES
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", "),
                        errorformat::PRESET_NAMES
                            .iter()
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            },
        };
        Ok(Self::Known(format))
    }
}

/// A location a finding points to besides its own (SARIF `relatedLocations`, rdjson
/// `related_locations`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Related {
    /// Path as the tool wrote it (normalised by the pipeline).
    pub path: Option<String>,
    /// Where in the file.
    pub region: Option<Region>,
    /// What is there.
    pub message: String,
}

/// A replacement the tool proposes, in the finding's own file (becomes a suggestion in review
/// comments).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suggestion {
    /// First line replaced (1-based).
    pub start_line: u32,
    /// First column replaced (1-based), `None` for whole lines.
    pub start_column: Option<u32>,
    /// Last line replaced.
    pub end_line: u32,
    /// Column after the last replaced character (1-based, exclusive), `None` for whole lines.
    pub end_column: Option<u32>,
    /// The new text.
    pub text: String,
}

/// One diagnostic as a parser read it: the finding (path not yet normalised) and what the finding
/// model has no field for.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// The finding; its `path` is as the tool wrote it.
    pub finding: Finding,
    /// Other locations.
    pub related: Vec<Related>,
    /// A fix.
    pub suggestion: Option<Suggestion>,
    /// The severity text the tool gave when it was missing or not recognised, in which case the level
    /// is the configured `unknown-level`.
    pub unknown_severity: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with nothing but a finding.
    pub fn new(finding: Finding) -> Self {
        Self {
            finding,
            related: Vec::new(),
            suggestion: None,
            unknown_severity: None,
        }
    }
}

/// Where diagnostics go while parsing.
pub trait Sink {
    /// One diagnostic, as soon as it is read.
    fn diagnostic(&mut self, diagnostic: Diagnostic);
    /// Metadata of a rule (SARIF `tool.driver.rules`), for the SARIF output.
    fn rule(&mut self, _rule: RuleInfo) {}
    /// The producing tool's name, when the report says (SARIF `tool.driver.name`), before the
    /// results that tool produced.
    fn tool(&mut self, _name: &str) {}
    /// Whether a diagnostic at `path` (as the tool wrote it) and `region` would be dropped whatever
    /// its other fields say. When it returns true the sink has counted that diagnostic as read and
    /// dropped, and the parser does not build it; parsers ask this only to save work, so `false`
    /// (the default) is always correct.
    fn drops(&mut self, _path: &str, _region: Option<Region>) -> bool {
        false
    }
    /// Whether [`Sink::drops`] would say true for every location in `path`: the parser may then
    /// skip building the file's diagnostics and report each with [`Sink::dropped`].
    fn drops_file(&mut self, _path: &str) -> bool {
        false
    }
    /// One diagnostic of a file [`Sink::drops_file`] said it drops: counted as read and dropped.
    fn dropped(&mut self) {}
    /// Whether [`Sink::drops`] or [`Sink::drops_file`] can ever say true. A parser whose quick
    /// read of a diagnostic only pays off when it is dropped skips that read when this is false.
    fn may_drop(&self) -> bool {
        false
    }
}

impl Sink for Vec<Diagnostic> {
    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.push(diagnostic);
    }
}

/// What a parser needs to know about its source.
#[derive(Debug, Clone)]
pub struct ParseContext {
    /// The source's name (`clippy`, `eslint`): the finding's `source` where the report does not
    /// name its tool.
    pub source: String,
    /// How error messages name the input (`clippy (target/clippy.json)`).
    pub label: String,
    /// The level of findings whose severity is missing or not recognised.
    pub unknown_level: Level,
}

impl ParseContext {
    /// A context with `unknown-level` = error.
    pub fn new(source: impl Into<String>) -> Self {
        let source = source.into();
        Self {
            label: source.clone(),
            source,
            unknown_level: Level::Error,
        }
    }

    /// Maps a severity word; unrecognised words get `unknown_level` and are remembered on the
    /// diagnostic.
    pub(crate) fn level_of(&self, word: Option<&str>, missing: Option<Level>) -> (Level, Option<String>) {
        match word.map(str::trim).filter(|w| !w.is_empty()) {
            Some(word) => match severity::level(word) {
                Some(level) => (level, None),
                None => (self.unknown_level, Some(word.to_owned())),
            },
            None => match missing {
                Some(level) => (level, None),
                None => (self.unknown_level, Some(String::new())),
            },
        }
    }
}

/// Counts a parser reports besides the diagnostics it handed over.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParseStats {
    /// Diagnostics handed to the sink.
    pub diagnostics: u64,
    /// Results the report marks as suppressed (SARIF `suppressions`), not handed over.
    pub suppressed: u64,
    /// Records that are not findings (SARIF `kind: pass`, cargo's "N warnings emitted"), not handed
    /// over.
    pub skipped: u64,
    /// Text lines no pattern matched (text formats), or non-JSON lines (JSON-lines formats).
    pub unmatched_lines: u64,
    /// The first such line: its number and its text (cut to 200 characters).
    pub first_unmatched: Option<(u64, String)>,
}

impl ParseStats {
    pub(crate) fn unmatched(&mut self, line: u64, text: &[u8]) {
        self.unmatched_lines += 1;
        if self.first_unmatched.is_none() {
            let text = String::from_utf8_lossy(text);
            let cut: String = text.trim_end().chars().take(200).collect();
            self.first_unmatched = Some((line, cut));
        }
    }
}

/// A report that could not be read (boxed: errors travel far and results stay small).
#[derive(Debug, thiserror::Error)]
#[error("{}", self.0.describe())]
pub struct ParseError(Box<ParseErrorDetail>);

/// What [`ParseError`] says.
#[derive(Debug)]
pub struct ParseErrorDetail {
    /// The source's name.
    pub source_name: String,
    /// The format it was read as.
    pub format: String,
    /// 1-based line of the problem (0 when unknown).
    pub line: u64,
    /// 1-based column, when known.
    pub column: Option<u64>,
    /// Byte offset from the start of the input.
    pub offset: u64,
    /// What is wrong, and what was expected.
    pub message: String,
    /// How to fix it.
    pub hint: Option<String>,
    /// Reading failed (I/O), as opposed to the content being malformed.
    pub io: bool,
}

impl From<ParseErrorDetail> for ParseError {
    fn from(detail: ParseErrorDetail) -> Self {
        Self(Box::new(detail))
    }
}

impl std::ops::Deref for ParseError {
    type Target = ParseErrorDetail;
    fn deref(&self) -> &ParseErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for ParseError {
    fn deref_mut(&mut self) -> &mut ParseErrorDetail {
        &mut self.0
    }
}

impl ParseErrorDetail {
    fn describe(&self) -> String {
        let mut at = String::new();
        if self.line > 0 {
            at.push_str(&format!("line {}", self.line));
            if let Some(column) = self.column {
                at.push_str(&format!(", column {column}"));
            }
            at.push_str(", ");
        }
        at.push_str(&format!("byte {}", self.offset));
        // A command's output is labelled "`name` output", already quoted where it matters.
        let name = if self.source_name.contains('`') {
            self.source_name.clone()
        } else {
            format!("`{}`", self.source_name)
        };
        if self.io {
            format!("cannot read {name} ({at}): {}", self.message)
        } else {
            format!("{name} is not valid {} ({at}): {}", self.format, self.message)
        }
    }
}

impl ParseError {
    /// Adds a hint.
    #[must_use]
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.0.hint = Some(hint.into());
        self
    }
}

impl Report for ParseError {
    fn exit_status(&self) -> ExitStatus {
        if self.io {
            ExitStatus::Runtime
        } else {
            ExitStatus::Usage
        }
    }
    fn hint(&self) -> Option<String> {
        self.0.hint.clone()
    }
}

/// Where an error happened, for [`ParseError`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Position {
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column.
    pub column: Option<u64>,
    /// Byte offset.
    pub offset: u64,
}

impl ParseContext {
    /// An error about malformed content at `at`.
    pub(crate) fn error(&self, format: &str, at: Position, message: impl Into<String>) -> ParseError {
        ParseErrorDetail {
            source_name: self.label.clone(),
            format: format.to_owned(),
            line: at.line,
            column: at.column,
            offset: at.offset,
            message: message.into(),
            hint: None,
            io: false,
        }
        .into()
    }

    /// An error reading the input.
    pub(crate) fn io_error(&self, format: &str, at: Position, error: &std::io::Error) -> ParseError {
        let mut err = self.error(format, at, error.to_string());
        err.io = true;
        err
    }
}

/// Parses `input` as `format`, handing every diagnostic to `sink`.
pub fn parse(
    format: &Format,
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    match format {
        Format::Sarif => sarif::parse(input, ctx, sink),
        Format::Checkstyle => checkstyle::parse(input, ctx, sink),
        Format::Rdjson => rdjson::parse_document(input, ctx, sink),
        Format::Rdjsonl => rdjson::parse_lines(input, ctx, sink),
        Format::Cargo => cargo::parse(input, ctx, sink),
        Format::Eslint => eslint::parse(input, ctx, sink),
        Format::Golangci => golangci::parse(input, ctx, sink),
        Format::Ruff => ruff::parse(input, ctx, sink),
        Format::Shellcheck => shellcheck::parse(input, ctx, sink),
        Format::Text(efm) => efm.parse(input, ctx, sink),
    }
}

/// A 1-based region from optional numbers, dropping zeros and nonsense (a line of 0 means "no line").
pub(crate) fn region(
    start_line: Option<u64>,
    start_column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
) -> Option<Region> {
    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    let start_line = start_line.filter(|&l| l > 0).map(clamp)?;
    let end_valid = end_line.is_none_or(|l| l >= u64::from(start_line));
    let end_line = end_line.filter(|&l| l >= u64::from(start_line)).map(clamp);
    let start_column = start_column.filter(|&c| c > 0).map(clamp);
    let end_column = end_column
        .filter(|&c| c > 0 && end_valid)
        .map(clamp)
        .filter(|&c| {
            // an end column before the start column on the same line is nonsense
            end_line.is_some_and(|e| e > start_line) || start_column.is_none_or(|s| c >= s)
        });
    Some(Region {
        start_line,
        start_column,
        end_line,
        end_column,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_parse() {
        for (name, want) in [
            ("sarif", "sarif"),
            ("SARIF", "sarif"),
            ("clippy", "cargo"),
            ("golangci", "golangci-lint"),
            ("ruff-json", "ruff-json"),
            ("ruff", "ruff"),
            ("json1", "shellcheck-json"),
            ("shellcheck", "shellcheck"),
            ("tsc", "tsc"),
            ("plain", "plain"),
        ] {
            match FormatSpec::parse(name, None).unwrap() {
                FormatSpec::Known(f) => assert_eq!(f.name(), want, "{name}"),
                FormatSpec::Auto => panic!("{name} parsed as auto"),
            }
        }
        assert!(matches!(FormatSpec::parse(" auto ", None), Ok(FormatSpec::Auto)));
        let err = FormatSpec::parse("yaml", None).unwrap_err();
        assert!(
            err.starts_with("unknown format `yaml`: expected one of `auto`"),
            "{err}"
        );
        assert!(err.contains("`mypy`"), "{err}");
        let err = FormatSpec::parse("errorformat", None).unwrap_err();
        assert!(err.contains("`errorformat` input"), "{err}");
    }

    #[test]
    fn regions_drop_nonsense() {
        assert_eq!(region(None, Some(3), None, None), None);
        assert_eq!(region(Some(0), None, None, None), None);
        assert_eq!(
            region(Some(4), Some(0), Some(2), Some(9)),
            Some(Region::line(4)),
            "end before start and column 0 are dropped"
        );
        assert_eq!(
            region(Some(4), Some(5), Some(4), Some(3)),
            Some(Region {
                start_line: 4,
                start_column: Some(5),
                end_line: Some(4),
                end_column: None
            })
        );
        assert_eq!(
            region(Some(1), Some(9), Some(2), Some(3)).and_then(|r| r.end_column),
            Some(3),
            "a later line may end at a smaller column"
        );
    }

    #[test]
    fn error_messages_name_source_line_and_offset() {
        let ctx = ParseContext::new("reports/x.sarif");
        let err = ctx.error(
            "SARIF",
            Position {
                line: 3,
                column: Some(7),
                offset: 41,
            },
            "expected `,` or `}`",
        );
        assert_eq!(
            err.to_string(),
            "`reports/x.sarif` is not valid SARIF (line 3, column 7, byte 41): expected `,` or `}`"
        );
        assert_eq!(err.exit_status(), ExitStatus::Usage);
        let io = ctx.io_error(
            "SARIF",
            Position::default(),
            &std::io::Error::other("broken pipe"),
        );
        assert_eq!(
            io.to_string(),
            "cannot read `reports/x.sarif` (byte 0): broken pipe"
        );
        assert_eq!(io.exit_status(), ExitStatus::Runtime);
        // A command's output is not quoted twice ("``ruff` output`").
        let err = ParseContext::new("`ruff` output").error("SARIF", Position::default(), "x");
        assert_eq!(err.to_string(), "`ruff` output is not valid SARIF (byte 0): x");
    }
}
