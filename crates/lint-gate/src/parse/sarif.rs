//! SARIF 2.1.0, streamed result by result.
//!
//! Read: `ruleId` / `ruleIndex` / `rule`, `level` (else the rule's `defaultConfiguration.level`, else
//! `warning` as the spec says; `kind` other than `fail` means `note`), `message` (`text`, or a rule's
//! `messageStrings` with `arguments`), the first of `locations`, `relatedLocations`, `fixes` (the first
//! replacement in the finding's own file becomes a suggestion), `suppressions` (a result with an
//! accepted suppression is skipped), `originalUriBaseIds` (chained) and `artifacts` (for
//! `artifactLocation.index`). Results of `kind` `pass` or `notApplicable` are skipped.
//!
//! Streaming: `runs[].results[]` is walked with serde seeds, so one result at a time is in memory.
//! A result is resolved as soon as the run's `tool` has been read (every common producer writes it
//! first). Results that come before `tool`, or that name a `uriBaseId` before `originalUriBaseIds`
//! was read, are held until the end of their run, because the key order of a JSON object is free.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt;
use std::io::BufRead;

use ops_core::{Finding, Level, Region, RuleInfo};
use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::input::{cut_short, json_error_at};
use super::scan::{At, Bad, Shared, SharedReader, Slice};
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Position, Related, Sink, Suggestion};

const FORMAT: &str = "SARIF";

/// Parses a SARIF log.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let shared = Shared::new(input);
    let failed = RefCell::new(None);
    let mut de = serde_json::Deserializer::from_reader(SharedReader(&shared));
    let result = LogSeed {
        ctx,
        sink,
        stats: &mut stats,
        shared: &shared,
        failed: &failed,
    }
    .deserialize(&mut de)
    .and_then(|summary| de.end().map(|()| summary));
    drop(de);
    let shared = shared.into_inner();
    if let Some(mut error) = failed.take() {
        // as far as serde_json read while it unwound, as when it reads the results itself
        error.offset = error.offset.max(shared.offset());
        return Err(error);
    }
    let summary = result.map_err(|e| {
        let (line, column) = shared.place_serde(e.line() as u64, e.column() as u64);
        let at = Position {
            line,
            column: (column > 0).then_some(column),
            offset: shared.offset(),
        };
        json_error_at(ctx, FORMAT, &e, at)
    })?;
    let end = Position {
        line: 0,
        column: None,
        offset: shared.offset(),
    };
    if !summary.runs {
        return Err(ctx
            .error(
                FORMAT,
                end,
                "no `runs` array: expected a SARIF 2.1.0 log (`{\"version\": \"2.1.0\", \"runs\": [...]}`)",
            )
            .with_hint("check the tool wrote SARIF, or set the source's format explicitly"));
    }
    match summary.version.as_deref() {
        Some(v) if v.starts_with("2.1") => {}
        Some(v) => {
            return Err(ctx.error(
                FORMAT,
                end,
                format!("SARIF version `{v}` is not supported: expected `2.1.0`"),
            ));
        }
        None => {
            return Err(ctx.error(FORMAT, end, "no `version`: expected `\"version\": \"2.1.0\"`"));
        }
    }
    Ok(stats)
}

struct LogSummary {
    version: Option<String>,
    runs: bool,
}

struct LogSeed<'a, 'i> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
    shared: &'a RefCell<Shared<'i>>,
    failed: &'a RefCell<Option<ParseError>>,
}

impl<'de> DeserializeSeed<'de> for LogSeed<'_, '_> {
    type Value = LogSummary;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<LogSummary, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed<'_, '_> {
    type Value = LogSummary;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF log object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogSummary, A::Error> {
        let mut summary = LogSummary {
            version: None,
            runs: false,
        };
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => summary.version = Some(map.next_value::<String>()?),
                "runs" => {
                    map.next_value_seed(RunsSeed {
                        ctx: self.ctx,
                        sink: &mut *self.sink,
                        stats: &mut *self.stats,
                        shared: self.shared,
                        failed: self.failed,
                    })?;
                    summary.runs = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(summary)
    }
}

struct RunsSeed<'a, 'i> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
    shared: &'a RefCell<Shared<'i>>,
    failed: &'a RefCell<Option<ParseError>>,
}

impl<'de> DeserializeSeed<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RunsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of runs")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq
            .next_element_seed(RunSeed {
                ctx: self.ctx,
                sink: &mut *self.sink,
                stats: &mut *self.stats,
                shared: self.shared,
                failed: self.failed,
            })?
            .is_some()
        {}
        Ok(())
    }
}

struct RunSeed<'a, 'i> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
    shared: &'a RefCell<Shared<'i>>,
    failed: &'a RefCell<Option<ParseError>>,
}

impl<'de> DeserializeSeed<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RunSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a SARIF run object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut run = Run::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "tool" => {
                    let tool: RawTool = map.next_value()?;
                    run.set_tool(tool, self.sink);
                }
                "originalUriBaseIds" => {
                    let bases: Option<HashMap<String, RawArtifactLocation>> = map.next_value()?;
                    run.bases = bases.unwrap_or_default();
                }
                "artifacts" => {
                    let artifacts: Option<Vec<RawArtifact>> = map.next_value()?;
                    run.artifacts = artifacts
                        .unwrap_or_default()
                        .into_iter()
                        .map(|a| a.location.unwrap_or_default())
                        .collect();
                    run.artifacts_seen = true;
                }
                "results" => {
                    // `results: null` means the tool did not run; it is not an error
                    map.next_value_seed(ResultsSeed {
                        ctx: self.ctx,
                        sink: &mut *self.sink,
                        stats: &mut *self.stats,
                        shared: self.shared,
                        failed: self.failed,
                        run: &mut run,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        for result in std::mem::take(&mut run.pending) {
            run.emit(result, self.ctx, self.sink, self.stats);
        }
        Ok(())
    }
}

/// `results`: `null`, or an array read element by element by [`Shared::value`] rather than by
/// serde_json, so that a result the filter drops costs a scan of its bytes and a look at its first
/// location, and only the results that are kept are deserialized. Every element is still checked
/// to be well-formed JSON; a dropped result's other fields are not type-checked.
struct ResultsSeed<'a, 'i> {
    ctx: &'a ParseContext,
    sink: &'a mut dyn Sink,
    stats: &'a mut ParseStats,
    shared: &'a RefCell<Shared<'i>>,
    failed: &'a RefCell<Option<ParseError>>,
    run: &'a mut Run,
}

impl<'de> DeserializeSeed<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for ResultsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of results or null")
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, _seq: A) -> Result<(), A::Error> {
        // serde_json has consumed the `[` and nothing after it; the `]` is left to it
        let failed = self.failed;
        self.elements().map_err(|error| {
            *failed.borrow_mut() = Some(error);
            de::Error::custom("invalid results")
        })
    }
}

impl ResultsSeed<'_, '_> {
    fn elements(mut self) -> Result<(), ParseError> {
        let ctx = self.ctx;
        let mut input = self.shared.borrow_mut();
        // a serde_json error message and where it points: at the next byte (`peek`) or after the
        // last one consumed
        let list_error = |input: &Shared<'_>, message: &str, peek: bool| {
            let at = input.at();
            let column = at.column + u64::from(peek);
            ctx.error(
                FORMAT,
                Position {
                    line: at.line,
                    column: (column > 0).then_some(column),
                    offset: at.offset + u64::from(peek),
                },
                message,
            )
        };
        let io_error = |input: &Shared<'_>, e: &std::io::Error| {
            let at = input.at();
            ctx.io_error(FORMAT, position(at), e)
        };
        let mut element = Vec::new();
        let mut after_comma = false;
        loop {
            match input.skip_whitespace().map_err(|e| io_error(&input, &e))? {
                None => return Err(list_error(&input, &cut_short("EOF while parsing a list"), false)),
                Some(b']') if after_comma => return Err(list_error(&input, "trailing comma", true)),
                Some(b']') => return Ok(()),
                Some(_) => {}
            }
            let start = input.at();
            match input.value(&mut element) {
                Ok(()) => self.read_result(&element, start)?,
                Err(Bad::Io(e)) => return Err(io_error(&input, &e)),
                Err(Bad::Eof | Bad::Syntax) => return Err(self.result_error(&element, start)),
            }
            match input.skip_whitespace().map_err(|e| io_error(&input, &e))? {
                Some(b',') => {
                    input.bump();
                    after_comma = true;
                }
                Some(b']') => return Ok(()),
                Some(_) => return Err(list_error(&input, "expected `,` or `]`", true)),
                None => return Err(list_error(&input, &cut_short("EOF while parsing a list"), false)),
            }
        }
    }

    /// One well-formed element: dropped on its location when the sink says so, else read whole.
    fn read_result(&mut self, element: &[u8], start: At) -> Result<(), ParseError> {
        if self.run.drops_early(element, &mut *self.sink) {
            self.stats.diagnostics += 1;
            return Ok(());
        }
        let Ok(result) = serde_json::from_slice::<RawResult>(element) else {
            return Err(self.result_error(element, start));
        };
        if self.run.must_wait(&result) {
            self.run.pending.push(result);
        } else {
            self.run.emit(result, self.ctx, &mut *self.sink, &mut *self.stats);
        }
        Ok(())
    }

    /// The error serde_json gives for the element (read as a stream, as the rest of the log is,
    /// so the column is counted the same way), placed in the whole input.
    fn result_error(&self, element: &[u8], start: At) -> ParseError {
        let mut reader = element;
        let error = match serde_json::from_reader::<_, RawResult>(&mut reader) {
            Err(error) => error,
            // the scanner and serde_json disagree: say what the scanner saw
            Ok(_) => return self.ctx.error(FORMAT, position(start), "expected a SARIF result"),
        };
        let consumed = (element.len() - reader.len()) as u64;
        let line = error.line() as u64;
        let column = if line <= 1 {
            start.column + error.column() as u64
        } else {
            error.column() as u64
        };
        let at = Position {
            line: start.line + line.saturating_sub(1),
            column: (column > 0).then_some(column),
            offset: start.offset + consumed,
        };
        json_error_at(self.ctx, FORMAT, &error, at)
    }
}

fn position(at: At) -> Position {
    Position {
        line: at.line,
        column: (at.column > 0).then_some(at.column),
        offset: at.offset,
    }
}

/// What a run's header says, as far as it has been read.
#[derive(Default)]
struct Run {
    tool_seen: bool,
    tool_name: Option<String>,
    /// lint-gate's own SARIF appends `\nhelp: …` to messages; it is split off again.
    own_output: bool,
    rules: Vec<RuleMeta>,
    /// How many of `rules` are the driver's (what `ruleIndex` indexes).
    driver_rules: usize,
    rules_by_id: HashMap<String, usize>,
    bases: HashMap<String, RawArtifactLocation>,
    artifacts: Vec<RawArtifactLocation>,
    artifacts_seen: bool,
    pending: Vec<RawResult>,
}

struct RuleMeta {
    id: String,
    default_level: Option<Level>,
    message_strings: HashMap<String, String>,
}

impl Run {
    fn set_tool(&mut self, tool: RawTool, sink: &mut dyn Sink) {
        self.tool_seen = true;
        self.tool_name = tool.driver.name.clone().filter(|n| !n.trim().is_empty());
        self.own_output = self.tool_name.as_deref() == Some("lint-gate");
        sink.tool(self.tool_name.as_deref().unwrap_or_default());
        let components = std::iter::once(tool.driver).chain(tool.extensions.unwrap_or_default());
        for (component_index, component) in components.enumerate() {
            for rule in component.rules.unwrap_or_default() {
                let Some(id) = rule.id.clone().filter(|id| !id.is_empty()) else {
                    continue;
                };
                let default_level = rule
                    .default_configuration
                    .as_ref()
                    .and_then(|c| c.level.as_deref())
                    .and_then(sarif_level);
                if let Some(info) = rule_info(&id, &rule, default_level) {
                    sink.rule(info);
                }
                let meta = RuleMeta {
                    id: id.clone(),
                    default_level,
                    message_strings: rule
                        .message_strings
                        .unwrap_or_default()
                        .into_iter()
                        .filter_map(|(k, v)| Some((k, v.text?)))
                        .collect(),
                };
                self.rules_by_id.entry(id).or_insert(self.rules.len());
                self.rules.push(meta);
                // `ruleIndex` indexes the driver's rules; extension rules are found by id only
                if component_index == 0 {
                    self.driver_rules = self.rules.len();
                }
            }
        }
    }

    /// A result waits for the run's end only when what it needs has not been read yet: the `tool`
    /// (rules, default levels, the tool's name), or `artifacts` for a location given by index. A
    /// `uriBaseId` that is not defined (yet) is read as relative to the working directory, which is
    /// what `%SRCROOT%` without a definition means; waiting for a definition that most logs never
    /// give would hold every result in memory.
    fn must_wait(&self, result: &RawResult) -> bool {
        if !self.tool_seen {
            return true;
        }
        let unresolved =
            |loc: &RawArtifactLocation| loc.uri.is_none() && loc.index.is_some() && !self.artifacts_seen;
        result
            .locations
            .iter()
            .flatten()
            .chain(result.related_locations.iter().flatten())
            .filter_map(|l| l.physical_location.as_ref()?.artifact_location.as_ref())
            .any(unresolved)
    }

    /// Whether the sink drops the result held (well-formed) in `element`, decided from its first
    /// location alone. Anything out of the ordinary (a result that would wait for the run's end,
    /// is suppressed or not a failure, has no location or one given by index, escapes in what is
    /// read) is left to the full read.
    fn drops_early(&self, element: &[u8], sink: &mut dyn Sink) -> bool {
        if !self.tool_seen {
            return false;
        }
        let Some((uri, base, region)) = first_location(element) else {
            return false;
        };
        let path = self.resolve_parts(uri, base);
        sink.drops(&path, region)
    }

    fn rule(&self, result: &RawResult) -> Option<&RuleMeta> {
        let index = result
            .rule_index
            .or_else(|| result.rule.as_ref().and_then(|r| r.index))
            .and_then(|i| usize::try_from(i).ok());
        let id = result
            .rule_id
            .as_deref()
            .or_else(|| result.rule.as_ref().and_then(|r| r.id.as_deref()));
        if let Some(meta) = index
            .filter(|&i| i < self.driver_rules)
            .and_then(|i| self.rules.get(i))
            && id.is_none_or(|id| id == meta.id || id.starts_with(&format!("{}/", meta.id)))
        {
            return Some(meta);
        }
        self.rules.get(*self.rules_by_id.get(id?)?)
    }

    fn emit(&self, result: RawResult, ctx: &ParseContext, sink: &mut dyn Sink, stats: &mut ParseStats) {
        let kind = result.kind.as_deref().unwrap_or("fail");
        if matches!(kind, "pass" | "notApplicable") {
            stats.skipped += 1;
            return;
        }
        if result
            .suppressions
            .iter()
            .flatten()
            .any(|s| s.status.as_deref().is_none_or(|st| st == "accepted"))
        {
            stats.suppressed += 1;
            return;
        }
        let meta = self.rule(&result);
        let rule = result
            .rule_id
            .clone()
            .or_else(|| result.rule.as_ref().and_then(|r| r.id.clone()))
            .or_else(|| meta.map(|m| m.id.clone()))
            .filter(|r| !r.is_empty())
            .or_else(|| self.tool_name.clone())
            .unwrap_or_else(|| ctx.source.clone());
        let (level, unknown) = match result.level.as_deref() {
            Some(word) => match sarif_level(word) {
                Some(level) => (level, None),
                None => ctx.level_of(Some(word), None),
            },
            None if kind != "fail" => (Level::Notice, None),
            None => (meta.and_then(|m| m.default_level).unwrap_or(Level::Warning), None),
        };
        let mut message = message_text(result.message.as_ref(), meta);
        let mut help = None;
        if self.own_output
            && let Some((text, rest)) = message.split_once("\nhelp: ")
        {
            help = Some(rest.to_owned());
            message = text.to_owned();
        }
        if message.trim().is_empty() {
            message = rule.clone();
        }
        let mut finding = Finding::new(rule, level, message);
        finding.help = help;
        finding.source = result
            .properties
            .as_ref()
            .and_then(|p| p.source.clone())
            .or_else(|| self.tool_name.clone())
            .or_else(|| Some(ctx.source.clone()));
        if let Some((path, region)) = result
            .locations
            .as_ref()
            .and_then(|l| l.first())
            .and_then(|l| self.location(l))
        {
            finding.path = Some(path);
            finding.region = region;
        }
        let related = result
            .related_locations
            .iter()
            .flatten()
            .filter_map(|l| {
                let (path, region) = self.location(l)?;
                Some(Related {
                    path: Some(path),
                    region,
                    message: l
                        .message
                        .as_ref()
                        .and_then(|m| m.text.clone())
                        .unwrap_or_default(),
                })
            })
            .collect();
        let suggestion = finding
            .path
            .as_deref()
            .and_then(|path| self.suggestion(&result, path));
        stats.diagnostics += 1;
        sink.diagnostic(Diagnostic {
            finding,
            related,
            suggestion,
            unknown_severity: unknown,
        });
    }

    fn location(&self, location: &RawLocation) -> Option<(String, Option<Region>)> {
        let physical = location.physical_location.as_ref()?;
        let path = self.resolve(physical.artifact_location.as_ref()?)?;
        let region = physical.region.as_ref().and_then(RawRegion::region);
        Some((path, region))
    }

    fn suggestion(&self, result: &RawResult, path: &str) -> Option<Suggestion> {
        for fix in result.fixes.iter().flatten() {
            for change in fix.artifact_changes.iter().flatten() {
                let Some(target) = change.artifact_location.as_ref().and_then(|l| self.resolve(l)) else {
                    continue;
                };
                if target != path {
                    continue;
                }
                for replacement in change.replacements.iter().flatten() {
                    let Some(deleted) = &replacement.deleted_region else {
                        continue;
                    };
                    let Some(start_line) = deleted.start_line.filter(|&l| l > 0) else {
                        continue;
                    };
                    let clamp = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
                    return Some(Suggestion {
                        start_line: clamp(start_line),
                        start_column: deleted.start_column.filter(|&c| c > 0).map(clamp),
                        end_line: clamp(deleted.end_line.unwrap_or(start_line).max(start_line)),
                        end_column: deleted.end_column.filter(|&c| c > 0).map(clamp),
                        text: replacement
                            .inserted_content
                            .as_ref()
                            .and_then(|c| c.text.clone())
                            .unwrap_or_default(),
                    });
                }
            }
        }
        None
    }

    /// [`Run::resolve`] of a location with a `uri`, without a copy when nothing is to be joined or
    /// decoded.
    fn resolve_parts<'u>(&self, uri: &'u str, base: Option<&str>) -> Cow<'u, str> {
        let joins = base.is_some_and(|b| self.bases.contains_key(b)) && !is_absolute_uri(uri);
        if !joins && !uri.contains('%') && !uri.starts_with("file:") && !has_scheme(uri) {
            return Cow::Borrowed(uri);
        }
        let location = RawArtifactLocation {
            uri: Some(uri.to_owned()),
            uri_base_id: base.map(str::to_owned),
            index: None,
        };
        Cow::Owned(self.resolve(&location).unwrap_or_default())
    }

    /// The path an artifact location points to: a `file:` URI becomes an absolute path, a relative
    /// reference is joined to its `uriBaseId` chain; percent-escapes are decoded.
    fn resolve(&self, location: &RawArtifactLocation) -> Option<String> {
        let fallback;
        let location = if location.uri.is_none() {
            let index = usize::try_from(location.index?).ok()?;
            fallback = self.artifacts.get(index)?.clone();
            &fallback
        } else {
            location
        };
        let mut uri = location.uri.clone()?;
        let mut base = location.uri_base_id.clone();
        // follow the base chain (bounded, in case of a cycle)
        for _ in 0..8 {
            if is_absolute_uri(&uri) {
                break;
            }
            let Some(id) = base.take() else { break };
            let Some(def) = self.bases.get(&id) else { break };
            let Some(prefix) = def.uri.as_deref().filter(|u| !u.is_empty()) else {
                base = def.uri_base_id.clone();
                continue;
            };
            let mut joined = prefix.to_owned();
            if !joined.ends_with('/') {
                joined.push('/');
            }
            joined.push_str(uri.trim_start_matches("./"));
            uri = joined;
            base = def.uri_base_id.clone();
        }
        Some(uri_to_path(&uri))
    }
}

/// `uri`, `uriBaseId` and region of a result's first location, read from its bytes; `None` when
/// the result is not a plain failure with such a location (see [`Run::drops_early`]).
fn first_location(element: &[u8]) -> Option<(&str, Option<&str>, Option<Region>)> {
    let mut s = Slice::new(element);
    if !s.object() {
        return None;
    }
    let (mut first, mut seen) = (true, [false; 3]);
    let mut location = None;
    let mut once = |i: usize| !std::mem::replace(&mut seen[i], true);
    while let Some(key) = s.key(&mut first) {
        match key? {
            "kind" if once(0) => {
                if s.plain_str()? != "fail" {
                    return None;
                }
            }
            "suppressions" if once(1) => {
                let empty = s.null() || (s.eat(b'[') && s.eat(b']'));
                if !empty {
                    return None;
                }
            }
            "locations" if once(2) => {
                if !s.eat(b'[') {
                    return None;
                }
                location = Some(physical_location(&mut s)?);
                while s.eat(b',') {
                    s.skip();
                }
                if !s.eat(b']') {
                    return None;
                }
            }
            "kind" | "suppressions" | "locations" => return None,
            _ => s.skip(),
        }
    }
    location
}

/// `{"physicalLocation": {"artifactLocation": {"uri", "uriBaseId"}, "region": {…}}}`.
fn physical_location<'b>(s: &mut Slice<'b>) -> Option<(&'b str, Option<&'b str>, Option<Region>)> {
    let mut artifact = None;
    let mut region = None;
    let (mut first, mut seen) = (true, false);
    if !s.object() {
        return None;
    }
    while let Some(key) = s.key(&mut first) {
        if key? != "physicalLocation" {
            s.skip();
            continue;
        }
        if std::mem::replace(&mut seen, true) || !s.object() {
            return None;
        }
        let (mut first, mut seen) = (true, [false; 2]);
        while let Some(key) = s.key(&mut first) {
            match key? {
                "artifactLocation" if !std::mem::replace(&mut seen[0], true) => {
                    artifact = Some(artifact_location(s)?);
                }
                "region" if !std::mem::replace(&mut seen[1], true) => region = region_of(s)?,
                "artifactLocation" | "region" => return None,
                _ => s.skip(),
            }
        }
    }
    let (uri, base) = artifact?;
    Some((uri?, base, region))
}

fn artifact_location<'b>(s: &mut Slice<'b>) -> Option<(Option<&'b str>, Option<&'b str>)> {
    if !s.object() {
        return None;
    }
    let (mut first, mut seen) = (true, [false; 2]);
    let (mut uri, mut base) = (None, None);
    while let Some(key) = s.key(&mut first) {
        let slot = match key? {
            "uri" if !std::mem::replace(&mut seen[0], true) => &mut uri,
            "uriBaseId" if !std::mem::replace(&mut seen[1], true) => &mut base,
            "uri" | "uriBaseId" => return None,
            _ => {
                s.skip();
                continue;
            }
        };
        *slot = if s.null() { None } else { Some(s.plain_str()?) };
    }
    Some((uri, base))
}

/// A region as the full read makes it (`None` inside for `null` or no start line).
fn region_of(s: &mut Slice<'_>) -> Option<Option<Region>> {
    if s.null() {
        return Some(None);
    }
    if !s.object() {
        return None;
    }
    let mut raw = RawRegion::default();
    let (mut first, mut seen) = (true, [false; 4]);
    while let Some(key) = s.key(&mut first) {
        let (i, slot) = match key? {
            "startLine" => (0, &mut raw.start_line),
            "startColumn" => (1, &mut raw.start_column),
            "endLine" => (2, &mut raw.end_line),
            "endColumn" => (3, &mut raw.end_column),
            _ => {
                s.skip();
                continue;
            }
        };
        if std::mem::replace(&mut seen[i], true) {
            return None;
        }
        *slot = s.plain_u64()?;
    }
    Some(raw.region())
}

fn is_absolute_uri(uri: &str) -> bool {
    uri.starts_with('/') || has_scheme(uri)
}

fn has_scheme(uri: &str) -> bool {
    match uri.split_once(':') {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `file:///a/b%20c` → `/a/b c`; `src/a%20b` → `src/a b`; other schemes are kept as written.
pub(crate) fn uri_to_path(uri: &str) -> String {
    if let Some(rest) = uri.strip_prefix("file://") {
        // file:///abs, file://localhost/abs; a Windows drive (file:///C:/x) keeps its letter
        let path = rest.strip_prefix("localhost").unwrap_or(rest);
        let path = percent_decode(path);
        if path.len() > 2 && path.as_bytes()[0] == b'/' && path.as_bytes()[2] == b':' {
            return path[1..].to_owned();
        }
        return path;
    }
    if let Some(rest) = uri.strip_prefix("file:") {
        return percent_decode(rest);
    }
    if has_scheme(uri) {
        return uri.to_owned();
    }
    percent_decode(uri)
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).and_then(|b| (*b as char).to_digit(16)),
                bytes.get(i + 2).and_then(|b| (*b as char).to_digit(16)),
            )
        {
            out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// SARIF's own level names.
fn sarif_level(word: &str) -> Option<Level> {
    match word {
        "error" => Some(Level::Error),
        "warning" => Some(Level::Warning),
        "note" | "none" => Some(Level::Notice),
        _ => None,
    }
}

fn message_text(message: Option<&RawMessage>, meta: Option<&RuleMeta>) -> String {
    let Some(message) = message else {
        return String::new();
    };
    let template = message
        .text
        .clone()
        .or_else(|| message.markdown.clone())
        .or_else(|| {
            let id = message.id.as_deref()?;
            meta?.message_strings.get(id).cloned()
        });
    let Some(template) = template else {
        return String::new();
    };
    let arguments = message.arguments.as_deref().unwrap_or_default();
    if arguments.is_empty() || !template.contains('{') {
        return template;
    }
    // `{0}`, `{1}`… are replaced by the arguments; other braces are kept
    let mut out = String::with_capacity(template.len());
    let mut rest = template.as_str();
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after
            .find('}')
            .and_then(|close| Some((close, after[..close].parse::<usize>().ok()?)))
        {
            Some((close, n)) if n < arguments.len() => {
                out.push_str(&arguments[n]);
                rest = &after[close + 1..];
            }
            _ => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

fn rule_info(id: &str, rule: &RawRule, default_level: Option<Level>) -> Option<RuleInfo> {
    let short = rule
        .short_description
        .as_ref()
        .and_then(|d| d.text.clone())
        .or_else(|| rule.full_description.as_ref().and_then(|d| d.text.clone()))
        .or_else(|| rule.name.clone())
        .unwrap_or_else(|| id.to_owned());
    let mut info = RuleInfo::new(id, short, default_level.unwrap_or(Level::Warning));
    info.help = rule
        .help
        .as_ref()
        .and_then(|h| h.markdown.clone().or_else(|| h.text.clone()));
    info.help_uri = rule.help_uri.clone();
    if let Some(props) = &rule.properties {
        info.tags = props
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).map(str::to_owned).collect())
            .unwrap_or_default();
        info.security_severity = props.get("security-severity").and_then(|v| match v {
            Value::String(s) => s.trim().parse::<f32>().ok(),
            Value::Number(n) => n.as_f64().map(|f| f as f32),
            _ => None,
        });
    }
    Some(info)
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawTool {
    #[serde(default)]
    driver: RawComponent,
    extensions: Option<Vec<RawComponent>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawComponent {
    name: Option<String>,
    rules: Option<Vec<RawRule>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRule {
    id: Option<String>,
    name: Option<String>,
    short_description: Option<RawMessage>,
    full_description: Option<RawMessage>,
    help: Option<RawMessage>,
    help_uri: Option<String>,
    default_configuration: Option<RawConfiguration>,
    message_strings: Option<HashMap<String, RawMessage>>,
    properties: Option<serde_json::Map<String, Value>>,
}

#[derive(Deserialize, Default)]
struct RawConfiguration {
    level: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawMessage {
    text: Option<String>,
    markdown: Option<String>,
    id: Option<String>,
    arguments: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawResult {
    rule_id: Option<String>,
    rule_index: Option<i64>,
    rule: Option<RawRuleRef>,
    kind: Option<String>,
    level: Option<String>,
    message: Option<RawMessage>,
    locations: Option<Vec<RawLocation>>,
    related_locations: Option<Vec<RawLocation>>,
    fixes: Option<Vec<RawFix>>,
    suppressions: Option<Vec<RawSuppression>>,
    properties: Option<RawResultProperties>,
}

/// Of a result's `properties`, only what lint-gate reads (the rest is skipped, not stored).
#[derive(Deserialize, Default)]
struct RawResultProperties {
    source: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawRuleRef {
    id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default)]
struct RawSuppression {
    status: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawLocation {
    physical_location: Option<RawPhysical>,
    message: Option<RawMessage>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPhysical {
    artifact_location: Option<RawArtifactLocation>,
    region: Option<RawRegion>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(rename_all = "camelCase")]
struct RawArtifactLocation {
    uri: Option<String>,
    uri_base_id: Option<String>,
    index: Option<i64>,
}

#[derive(Deserialize, Default)]
struct RawArtifact {
    location: Option<RawArtifactLocation>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawRegion {
    start_line: Option<u64>,
    start_column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
}

impl RawRegion {
    /// SARIF's `endColumn` is exclusive; ours is inclusive.
    fn region(&self) -> Option<Region> {
        let start_line = self.start_line?;
        let end_line = self.end_line.unwrap_or(start_line);
        let end_column = self.end_column.and_then(|c| c.checked_sub(1)).filter(|&c| c > 0);
        super::region(Some(start_line), self.start_column, Some(end_line), end_column)
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawFix {
    artifact_changes: Option<Vec<RawChange>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawChange {
    artifact_location: Option<RawArtifactLocation>,
    replacements: Option<Vec<RawReplacement>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawReplacement {
    deleted_region: Option<RawRegion>,
    inserted_content: Option<RawMessage>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Collect {
        diagnostics: Vec<Diagnostic>,
        rules: Vec<RuleInfo>,
    }

    impl Sink for Collect {
        fn diagnostic(&mut self, d: Diagnostic) {
            self.diagnostics.push(d);
        }
        fn rule(&mut self, r: RuleInfo) {
            self.rules.push(r);
        }
    }

    fn run(text: &str) -> Result<(Collect, ParseStats), ParseError> {
        let mut sink = Collect::default();
        let mut input = text.as_bytes();
        let stats = parse(&mut input, &ParseContext::new("scan.sarif"), &mut sink)?;
        Ok((sink, stats))
    }

    const FULL: &str = r#"{
      "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
      "version": "2.1.0",
      "runs": [{
        "tool": {"driver": {"name": "scanner", "rules": [
          {"id": "R1", "shortDescription": {"text": "no eval"}, "helpUri": "https://x/R1",
           "defaultConfiguration": {"level": "error"},
           "properties": {"tags": ["security"], "security-severity": "8.1"}},
          {"id": "R2", "messageStrings": {"default": {"text": "`{0}` is bad, see {1} {x}"}}}
        ]}},
        "originalUriBaseIds": {
          "ROOT": {"uri": "file:///work/repo/"},
          "SRC": {"uri": "src/", "uriBaseId": "ROOT"}
        },
        "results": [
          {"ruleId": "R1", "message": {"text": "eval used"},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a%20b.js", "uriBaseId": "SRC"},
             "region": {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 9}}}],
           "relatedLocations": [{"message": {"text": "defined here"}, "physicalLocation": {
             "artifactLocation": {"uri": "lib/x.js"}, "region": {"startLine": 1}}}],
           "fixes": [{"artifactChanges": [{"artifactLocation": {"uri": "a%20b.js", "uriBaseId": "SRC"},
             "replacements": [{"deletedRegion": {"startLine": 3, "startColumn": 5, "endColumn": 9},
                               "insertedContent": {"text": "safe"}}]}]}]},
          {"ruleIndex": 1, "level": "note", "message": {"id": "default", "arguments": ["x", "docs"]},
           "locations": [{"physicalLocation": {"artifactLocation": {"uri": "file:///abs/c.js"}}}]},
          {"ruleId": "R1", "level": "error", "message": {"text": "ignored"},
           "suppressions": [{"kind": "inSource"}]},
          {"ruleId": "R1", "level": "error", "message": {"text": "under review"},
           "suppressions": [{"kind": "external", "status": "underReview"}]},
          {"ruleId": "R1", "kind": "pass", "message": {"text": "fine"}},
          {"ruleId": "R3", "level": "catastrophic", "message": {"text": "odd level"}},
          {"ruleId": "R3", "kind": "review", "message": {"text": "look"}},
          {"message": {"text": "no rule, no level"}}
        ]
      }]
    }"#;

    #[test]
    fn reads_every_part() {
        let (sink, stats) = run(FULL).unwrap();
        assert_eq!((stats.diagnostics, stats.suppressed, stats.skipped), (6, 1, 1));
        let d = &sink.diagnostics;
        let f0 = &d[0].finding;
        assert_eq!(f0.rule, "R1");
        assert_eq!(f0.level, Level::Error, "rule default level");
        assert_eq!(f0.path.as_deref(), Some("/work/repo/src/a b.js"));
        assert_eq!(
            f0.region,
            Some(Region {
                start_line: 3,
                start_column: Some(5),
                end_line: Some(3),
                end_column: Some(8)
            })
        );
        assert_eq!(f0.source.as_deref(), Some("scanner"));
        assert_eq!(d[0].related[0].path.as_deref(), Some("lib/x.js"));
        assert_eq!(d[0].related[0].message, "defined here");
        let s = d[0].suggestion.as_ref().unwrap();
        assert_eq!(
            (s.start_line, s.start_column, s.end_line, s.end_column),
            (3, Some(5), 3, Some(9))
        );
        assert_eq!(s.text, "safe");
        let f1 = &d[1].finding;
        assert_eq!((f1.rule.as_str(), f1.level), ("R2", Level::Notice));
        assert_eq!(f1.message, "`x` is bad, see docs {x}");
        assert_eq!(f1.path.as_deref(), Some("/abs/c.js"));
        assert_eq!(f1.region, None);
        assert_eq!(
            d[2].finding.message, "under review",
            "a suppression under review still counts"
        );
        assert_eq!(
            d[3].finding.level,
            Level::Error,
            "unknown level takes unknown-level"
        );
        assert_eq!(d[3].unknown_severity.as_deref(), Some("catastrophic"));
        assert_eq!(
            d[4].finding.level,
            Level::Notice,
            "kind review without a level is a note"
        );
        assert_eq!(d[5].finding.level, Level::Warning, "the spec's default level");
        assert_eq!(d[5].finding.rule, "scanner", "no rule id: the tool's name");
        let r1 = sink.rules.iter().find(|r| r.id == "R1").unwrap();
        assert_eq!(r1.short_description, "no eval");
        assert_eq!(r1.security_severity, Some(8.1));
        assert_eq!(r1.tags, vec!["security"]);
    }

    #[test]
    fn results_before_tool_wait_for_it() {
        let text = r#"{"runs": [{"results": [{"ruleIndex": 0, "message": {"text": "m"},
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "x.py", "uriBaseId": "B"}}}]}],
            "originalUriBaseIds": {"B": {"uri": "pkg/"}},
            "tool": {"driver": {"name": "t", "rules": [{"id": "only", "defaultConfiguration": {"level": "note"}}]}}}],
            "version": "2.1.0"}"#;
        let (sink, _) = run(text).unwrap();
        let f = &sink.diagnostics[0].finding;
        assert_eq!((f.rule.as_str(), f.level), ("only", Level::Notice));
        assert_eq!(f.path.as_deref(), Some("pkg/x.py"));
    }

    #[test]
    fn artifacts_by_index_and_null_results() {
        let text = r#"{"version": "2.1.0", "runs": [
            {"tool": {"driver": {"name": "t"}}, "artifacts": [{"location": {"uri": "z.go"}}],
             "results": [{"ruleId": "a", "message": {"text": "m"},
               "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}, "region": {"startLine": 2}}}]}]},
            {"tool": {"driver": {"name": "u"}}, "results": null}]}"#;
        let (sink, stats) = run(text).unwrap();
        assert_eq!(stats.diagnostics, 1);
        assert_eq!(sink.diagnostics[0].finding.path.as_deref(), Some("z.go"));
    }

    #[test]
    fn malformed_logs_are_errors() {
        for (text, want) in [
            ("", "EOF while parsing"),
            ("{\"version\": \"2.1.0\"}", "no `runs` array"),
            (
                "{\"version\": \"2.0.0\", \"runs\": []}",
                "version `2.0.0` is not supported",
            ),
            ("{\"runs\": []}", "no `version`"),
            ("[]", "invalid type: sequence, expected a SARIF log object"),
            (
                "{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"level\": 3}]}]}",
                "invalid type: integer `3`",
            ),
            ("{\"version\": \"2.1.0\", \"runs\": [{\"results\": [", "cut short"),
        ] {
            let err = run(text).map(|_| ()).unwrap_err();
            assert!(err.to_string().contains(want), "{text}: {err}");
            assert!(
                err.to_string().starts_with("`scan.sarif` is not valid SARIF"),
                "{err}"
            );
        }
    }

    #[test]
    fn own_output_splits_help_back_off() {
        let text = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "lint-gate"}},
            "results": [{"ruleId": "r", "level": "warning", "message": {"text": "m\nhelp: do x"},
            "properties": {"source": "clippy"}}]}]}"#;
        let (sink, _) = run(text).unwrap();
        let f = &sink.diagnostics[0].finding;
        assert_eq!(
            (f.message.as_str(), f.help.as_deref(), f.source.as_deref()),
            ("m", Some("do x"), Some("clippy"))
        );
    }

    #[test]
    fn uri_forms() {
        for (uri, want) in [
            ("file:///a/b%20c.rs", "/a/b c.rs"),
            ("file://localhost/a/b.rs", "/a/b.rs"),
            ("file:///C:/x/y.cs", "C:/x/y.cs"),
            ("src/%E2%9C%93.rs", "src/✓.rs"),
            ("https://example.com/x", "https://example.com/x"),
            ("100%.txt", "100%.txt"),
        ] {
            assert_eq!(uri_to_path(uri), want, "{uri}");
        }
    }
}
