//! checkstyle XML (`<checkstyle><file name><error line column severity message source/></file>`),
//! read event by event with quick-xml: one `<error>` at a time is in memory. Errors the change
//! filter drops, written as tools write them, are read straight from the input's buffer instead
//! ([`skip_dropped`]), which reaches the same result for less work.
//!
//! Written by checkstyle itself and by many other linters' checkstyle formatters (ESLint, hadolint,
//! ktlint, phpcs, golangci-lint, swiftlint, rubocop's checkstyle formatter). `source` is the rule id;
//! a missing or unknown `severity` takes `unknown-level`.

use std::io::BufRead;

use ops_core::Finding;
use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::input::Counting;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Position, Sink};

const FORMAT: &str = "checkstyle XML";

/// Parses a checkstyle report.
pub fn parse(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    sink: &mut dyn Sink,
) -> Result<ParseStats, ParseError> {
    let mut stats = ParseStats::default();
    let mut reader = Reader::from_reader(Counting::new(input));
    reader.config_mut().trim_text(true);
    let mut buf = Vec::new();
    let mut file: Option<String> = None;
    let mut file_dropped = false;
    let mut open: Vec<String> = Vec::new();
    let mut root_seen = false;
    // bytes [`skip_dropped`] read past quick-xml, which does not count them in its offsets
    let mut skipped = 0u64;
    let fast = sink.may_drop();
    let at = |reader: &Reader<Counting<&mut dyn BufRead>>, skipped: u64, offset: u64| {
        reader.get_ref().position_at(offset + skipped)
    };
    loop {
        buf.clear();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(error) => {
                let position = at(&reader, skipped, reader.error_position());
                return Err(match error {
                    quick_xml::Error::Io(io) => ctx.io_error(FORMAT, position, &io),
                    other => ctx.error(FORMAT, position, other.to_string()),
                });
            }
        };
        let event_start = reader.buffer_position();
        match event {
            Event::Start(element) | Event::Empty(element) if open.is_empty() && root_seen => {
                let name = String::from_utf8_lossy(element.local_name().as_ref()).into_owned();
                return Err(ctx.error(
                    FORMAT,
                    at(&reader, skipped, event_start),
                    format!("element `<{name}>` after the `<checkstyle>` root element ended"),
                ));
            }
            Event::Start(ref element) | Event::Empty(ref element) => {
                let is_empty = matches!(event, Event::Empty(_));
                let position = at(&reader, skipped, event_start);
                let local = element.local_name();
                let name = local.as_ref();
                if open.is_empty() {
                    if name != b"checkstyle" {
                        let name = String::from_utf8_lossy(name);
                        return Err(ctx
                            .error(
                                FORMAT,
                                position,
                                format!("root element is `<{name}>`: expected `<checkstyle>`"),
                            )
                            .with_hint("set the source's format, or check the tool wrote checkstyle XML"));
                    }
                    root_seen = true;
                }
                match name {
                    // `<file name="x"/>` is a file without findings
                    b"file" => {
                        let [name] = attributes(element, [b"name"], ctx, position)?;
                        file = if is_empty { None } else { name };
                        // a file off the change: its errors are checked and counted, not built
                        file_dropped = file
                            .as_deref()
                            .filter(|f| !f.is_empty())
                            .is_some_and(|f| sink.drops_file(f));
                    }
                    b"error" => {
                        stats.diagnostics += 1;
                        let path = file.as_deref().filter(|f| !f.is_empty());
                        if file_dropped {
                            // off the change whatever it says: well-formed is all it has to be
                            quick_lines(element, ctx, position)?;
                            sink.dropped();
                        } else if let Some(path) = path
                            && let lines = match quick_lines(element, ctx, position)? {
                                Some(lines) => lines,
                                None => check_error(element, ctx, position)?,
                            }
                            && sink.drops(path, super::region(lines.0, lines.1, None, None))
                        {
                            // dropped by the filter on its line: nothing more to read
                        } else {
                            sink.diagnostic(error_element(element, file.as_deref(), ctx, position)?);
                        }
                    }
                    _ => {}
                }
                if !is_empty {
                    open.push(String::from_utf8_lossy(name).into_owned());
                }
            }
            Event::End(element) => {
                if element.local_name().as_ref() == b"file" {
                    file = None;
                    file_dropped = false;
                }
                open.pop();
            }
            Event::Eof => break,
            // declarations, comments, text, CDATA, processing instructions: nothing to read
            _ => continue,
        }
        // after an element quick-xml stands right after its `>`, about to read text: the dropped
        // errors that follow are read here, the rest is left to it
        if fast && let Some(path) = file.as_deref().filter(|f| !f.is_empty()) {
            skipped += skip_dropped(reader.get_mut(), path, file_dropped, sink, &mut stats);
        }
    }
    let end = reader.get_ref().position();
    if !root_seen {
        return Err(ctx
            .error(FORMAT, end, "no `<checkstyle>` element: expected checkstyle XML")
            .with_hint("an empty report is not a clean result; check the tool ran and wrote its report"));
    }
    if let Some(inner) = open.last() {
        return Err(ctx.error(
            FORMAT,
            end,
            format!("the input ends inside `<{inner}>` (was it cut short?)"),
        ));
    }
    Ok(stats)
}

/// Every attribute of an element checked (syntax, duplicates, UTF-8, entities), and the unescaped
/// value of the first one with each of `names` kept (reading them all also catches duplicates).
fn attributes<const N: usize>(
    element: &BytesStart<'_>,
    names: [&[u8]; N],
    ctx: &ParseContext,
    at: Position,
) -> Result<[Option<String>; N], ParseError> {
    let mut out = [const { None }; N];
    for attr in element.attributes() {
        let attr = attr.map_err(|e| ctx.error(FORMAT, at, e.to_string()))?;
        let key = attr.key.local_name();
        let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
            let key = String::from_utf8_lossy(key.as_ref());
            ctx.error(FORMAT, at, format!("attribute `{key}`: {e}"))
        })?;
        if let Some(slot) = names.iter().position(|n| *n == key.as_ref()).map(|i| &mut out[i])
            && slot.is_none()
        {
            *slot = Some(value.into_owned());
        }
    }
    Ok(out)
}

/// An `<error>`'s `line` and `column`.
type LineColumn = (Option<u64>, Option<u64>);

/// `line` and `column` of an `<error>` when both are absent or plain numbers (as tools write them),
/// read with as little work as the syntax allows: `None` when either needs unescaping or is not a
/// plain number, for [`check_error`] to decide.
///
/// This is all the work done for an error the filter then drops, so such an error is checked for
/// less than a kept one. Checked: the element is well-formed as quick-xml's event loop sees it
/// (closed, quotes balanced), and its attributes up to the last of `line` and `column` are
/// `name="value"` or `name='value'` (quick-xml's syntax errors, at the element's position).
/// Not checked: the syntax of attributes after both were found, duplicate attributes, and every
/// value but `line` and `column` (UTF-8, entities). An error that is kept goes through
/// [`error_element`], which check all of it. The first `line` or `column`
/// counts, as in [`attributes`].
fn quick_lines(
    element: &BytesStart<'_>,
    ctx: &ParseContext,
    at: Position,
) -> Result<Option<LineColumn>, ParseError> {
    let (mut line, mut column) = (None, None);
    let mut attrs = element.attributes();
    // the duplicate check allocates a list of keys per element: a kept error's full read checks it
    attrs.with_checks(false);
    for attr in attrs {
        let attr = attr.map_err(|e| ctx.error(FORMAT, at, e.to_string()))?;
        let slot = match attr.key.local_name().as_ref() {
            b"line" => &mut line,
            b"column" => &mut column,
            _ => continue,
        };
        if slot.is_none() {
            *slot = plain_number(&attr.value);
            if slot.is_none() {
                return Ok(None);
            }
            if line.is_some() && column.is_some() {
                // tools write these two first: the rest (most of the element) is not read
                break;
            }
        }
    }
    Ok(Some((line, column)))
}

/// Reads the `<error .../>` elements at the start of `input`'s buffer that the filter drops,
/// for a file (`path`) on the change or, with `file_dropped`, off it; returns the bytes read.
/// Stops, leaving the rest to quick-xml, at anything [`scan_error`] does not take, at an error the
/// filter keeps, and at the end of the buffer (an element cut there is quick-xml's to read).
fn skip_dropped(
    input: &mut Counting<&mut dyn BufRead>,
    path: &str,
    file_dropped: bool,
    sink: &mut dyn Sink,
    stats: &mut ParseStats,
) -> u64 {
    let mut total = 0;
    loop {
        // an I/O error is left for quick-xml to meet and report at its position
        let Ok(bytes) = input.fill_buf() else {
            return total;
        };
        let mut read = 0;
        while let Some((len, line, column)) = scan_error(&bytes[read..]) {
            if file_dropped {
                sink.dropped();
            } else if !sink.drops(path, super::region(line, column, None, None)) {
                break;
            }
            stats.diagnostics += 1;
            read += len;
        }
        let done = read == 0 || read < bytes.len();
        input.consume_past(read);
        total += read as u64;
        if done {
            return total;
        }
    }
}

/// XML's whitespace (quick-xml's, between attributes).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// The bytes [`scan_error`] takes in an attribute name: 1 may start one, 2 may only follow.
static NAME: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => 1,
            b'0'..=b'9' | b'-' | b'.' => 2,
            _ => 0,
        };
        b += 1;
    }
    table
};

/// Where an attribute value that starts `bytes` ends (its closing `quote`), or a `<` in it.
fn value_end(bytes: &[u8], quote: u8) -> Option<usize> {
    // most values (numbers, severities, rule ids) are short: eight bytes at a time (a zero byte
    // of `word ^ repeated(b)` is a `b`; the lowest flag is exact, flags above it may be false)
    // are quicker than memchr's set-up, which pays off for a long message
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGHS;
    let (quotes, opens) = (ONES * u64::from(quote), ONES * u64::from(b'<'));
    for start in (0..32).step_by(8) {
        let Some(word) = bytes.get(start..start + 8) else {
            return bytes[start..]
                .iter()
                .position(|&b| b == quote || b == b'<')
                .map(|i| start + i);
        };
        let mut array = [0u8; 8];
        array.copy_from_slice(word);
        let word = u64::from_le_bytes(array);
        let found = zero(word ^ quotes) | zero(word ^ opens);
        if found != 0 {
            return Some(start + found.trailing_zeros() as usize / 8);
        }
    }
    memchr::memchr2(quote, b'<', &bytes[32..]).map(|i| i + 32)
}

/// One `<error .../>` at the start of `bytes`, after optional whitespace, written as tools write
/// it: returns its length (with the whitespace) and its `line` and `column`. `None` (quick-xml
/// reads it instead) for anything else or anything more: an element that is not self-closing or
/// is cut by the end of `bytes`, an attribute that is not `name="value"` or `name='value'` after
/// whitespace (`name` ASCII letters, digits, `_`, `-`, `.`, not starting with a digit, `-` or `.`,
/// no prefix), a `<` in a value, a `line` or `column` that is not a plain number, anything but
/// whitespace before `/>`.
///
/// What it takes is a subset of what quick-xml's event loop and attribute iterator accept, and
/// every attribute's syntax is checked, so an error read here is checked for at least what
/// [`quick_lines`] checks of it. Not checked, as there: duplicates, UTF-8 and entities of values
/// other than `line` and `column`.
fn scan_error(bytes: &[u8]) -> Option<(usize, Option<u64>, Option<u64>)> {
    let mut i = bytes.iter().position(|&b| !is_space(b))?;
    if !bytes[i..].starts_with(b"<error") {
        return None;
    }
    i += b"<error".len();
    let (mut line, mut column) = (None, None);
    loop {
        let space = i;
        while is_space(*bytes.get(i)?) {
            i += 1;
        }
        if bytes[i] == b'/' {
            return (*bytes.get(i + 1)? == b'>').then_some((i + 2, line, column));
        }
        if i == space || NAME[usize::from(bytes[i])] != 1 {
            return None;
        }
        let name = i;
        i += 1;
        while NAME[usize::from(*bytes.get(i)?)] != 0 {
            i += 1;
        }
        let name = &bytes[name..i];
        let quote = *bytes.get(i + 1)?;
        if bytes[i] != b'=' || !matches!(quote, b'"' | b'\'') {
            return None;
        }
        i += 2;
        let len = value_end(bytes.get(i..)?, quote)?;
        let value = &bytes[i..i + len];
        i += len;
        if bytes[i] != quote {
            return None;
        }
        i += 1;
        let slot = match name {
            b"line" => &mut line,
            b"column" => &mut column,
            _ => continue,
        };
        // the first one counts, as in `quick_lines`
        if slot.is_none() {
            *slot = Some(plain_number(value)?);
        }
    }
}

/// `raw` as a number when it is nothing but ASCII digits (and short enough not to overflow).
fn plain_number(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || raw.len() >= 20 {
        return None;
    }
    let mut n = 0u64;
    for &b in raw {
        let digit = b.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n * 10 + u64::from(digit);
    }
    Some(n)
}

/// Checks an `<error>` element as [`error_element`] would (attribute syntax,
/// duplicates, UTF-8, entities, numeric `line` and `column`) without copying or unescaping what
/// needs neither; returns `line` and `column`. For an error whose `line` or `column` is not a
/// plain number ([`quick_lines`] says `None`), before asking the filter.
fn check_error(element: &BytesStart<'_>, ctx: &ParseContext, at: Position) -> Result<LineColumn, ParseError> {
    // a plain number, or the unescaped text to read as `number` does
    enum Num {
        Absent,
        Plain(u64),
        Text(String),
    }
    let mut line = Num::Absent;
    let mut column = Num::Absent;
    for attr in element.attributes() {
        let attr = attr.map_err(|e| ctx.error(FORMAT, at, e.to_string()))?;
        let key = attr.key.local_name();
        // the first one counts, as in `attributes` (a duplicate is an error of the iterator anyway)
        let slot = match key.as_ref() {
            b"line" => Some(&mut line),
            b"column" => Some(&mut column),
            _ => None,
        }
        .filter(|slot| matches!(slot, Num::Absent));
        let raw: &[u8] = &attr.value;
        match (slot, plain_number(raw)) {
            (Some(slot), Some(value)) => {
                *slot = Num::Plain(value);
            }
            (None, _) if !raw.contains(&b'&') && std::str::from_utf8(raw).is_ok() => {}
            (slot, _) => {
                let value = attr.normalized_value(XmlVersion::Implicit1_0).map_err(|e| {
                    let key = String::from_utf8_lossy(key.as_ref());
                    ctx.error(FORMAT, at, format!("attribute `{key}`: {e}"))
                })?;
                if let Some(slot) = slot {
                    *slot = Num::Text(value.into_owned());
                }
            }
        }
    }
    let read = |num: Num, name: &str| match num {
        Num::Absent => Ok(None),
        Num::Plain(n) => Ok(Some(n)),
        Num::Text(text) => number_of(Some(text), name, ctx, at),
    };
    Ok((read(line, "line")?, read(column, "column")?))
}

fn number_of(
    value: Option<String>,
    name: &str,
    ctx: &ParseContext,
    at: Position,
) -> Result<Option<u64>, ParseError> {
    match value {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(None),
        Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
            ctx.error(
                FORMAT,
                at,
                format!("attribute `{name}` is `{v}`: expected a number"),
            )
        }),
    }
}

/// A kept `<error>`'s finding: every attribute checked, only the five it is made of copied.
fn error_element(
    element: &BytesStart<'_>,
    file: Option<&str>,
    ctx: &ParseContext,
    at: Position,
) -> Result<Diagnostic, ParseError> {
    let [line, column, severity, message, source] = attributes(
        element,
        [b"line", b"column", b"severity", b"message", b"source"],
        ctx,
        at,
    )?;
    let line = number_of(line, "line", ctx, at)?;
    let column = number_of(column, "column", ctx, at)?;
    let message = message.unwrap_or_default();
    let rule = source
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| ctx.source.clone());
    let (level, unknown) = ctx.level_of(severity.as_deref(), None);
    let mut finding = Finding::new(rule, level, message).with_source(ctx.source.clone());
    if let Some(file) = file.filter(|f| !f.is_empty()) {
        finding = finding.at(file, super::region(line, column, None, None));
    }
    let mut diagnostic = Diagnostic::new(finding);
    diagnostic.unknown_severity = unknown;
    Ok(diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::{Level, Region};

    fn run(text: &str) -> Result<(Vec<Diagnostic>, ParseStats), ParseError> {
        let mut sink = Vec::new();
        let mut input = text.as_bytes();
        let stats = parse(&mut input, &ParseContext::new("hadolint"), &mut sink)?;
        Ok((sink, stats))
    }

    #[test]
    fn reads_files_and_errors() {
        let text = r#"<?xml version="1.0" encoding="UTF-8"?>
<checkstyle version="4.3">
  <file name="Dockerfile">
    <error line="3" column="1" severity="warning" message="Pin versions &amp; &lt;tags&gt;&#10;line 2" source="DL3008"/>
    <error line="5" severity="info" message="m2" source="DL3015"></error>
  </file>
  <file name="src/a b.ts"><error line="1" column="7" severity="Error" message="x"/></file>
  <file name="empty.ts"/>
  <!-- a comment -->
  <error line="9" severity="blocker" message="no file" source="S1"/>
</checkstyle>
"#;
        let (d, stats) = run(text).unwrap();
        assert_eq!(stats.diagnostics, 4);
        let f = &d[0].finding;
        assert_eq!(
            (f.rule.as_str(), f.level, f.path.as_deref(), f.region),
            (
                "DL3008",
                Level::Warning,
                Some("Dockerfile"),
                Some(Region::point(3, 1))
            )
        );
        assert_eq!(f.message, "Pin versions & <tags>\nline 2");
        assert_eq!(f.source.as_deref(), Some("hadolint"));
        assert_eq!(d[1].finding.level, Level::Notice);
        assert_eq!(d[2].finding.path.as_deref(), Some("src/a b.ts"));
        assert_eq!(d[2].finding.rule, "hadolint", "no source: the source name");
        assert_eq!(
            (d[3].finding.path.as_deref(), d[3].finding.level),
            (None, Level::Error)
        );
    }

    #[test]
    fn empty_report_has_no_findings() {
        let (d, _) = run("<checkstyle version=\"8.0\"></checkstyle>").unwrap();
        assert!(d.is_empty());
        let (d, _) = run("<checkstyle/>").unwrap();
        assert!(d.is_empty());
    }

    #[test]
    fn unknown_severity_is_marked() {
        let (d, _) = run("<checkstyle><file name=\"a\"><error line=\"1\" severity=\"odd\" message=\"m\"/><error line=\"2\" message=\"m\"/></file></checkstyle>").unwrap();
        assert_eq!(d[0].unknown_severity.as_deref(), Some("odd"));
        assert_eq!(d[1].unknown_severity.as_deref(), Some(""));
        assert_eq!(d[0].finding.level, Level::Error);
    }

    /// Keeps what is on lines 1 to 9 and drops the rest, as the change filter would.
    #[derive(Default)]
    struct Lines(Vec<Diagnostic>, u64);

    impl Sink for Lines {
        fn diagnostic(&mut self, diagnostic: Diagnostic) {
            self.0.push(diagnostic);
        }
        fn drops(&mut self, _path: &str, region: Option<Region>) -> bool {
            let drop = region.is_some_and(|r| r.start_line >= 10);
            self.1 += u64::from(drop);
            drop
        }
    }

    #[test]
    fn dropped_errors_are_checked_for_syntax_only() {
        let run = |errors: &str| {
            let text = format!("<checkstyle>\n<file name=\"a\">\n{errors}\n</file></checkstyle>");
            let mut sink = Lines::default();
            parse(&mut text.as_bytes(), &ParseContext::new("hadolint"), &mut sink).map(|_| sink)
        };
        // a duplicate attribute or a bad entity outside `line` and `column` is only seen when kept
        for error in [
            r#"<error line="12" message="a" message="b"/>"#,
            r#"<error line="12" message="&bogus;"/>"#,
        ] {
            let sink = run(error).unwrap();
            assert_eq!((sink.0.len(), sink.1), (0, 1), "{error}");
            let kept = error.replace("12", "2");
            assert_eq!(run(&kept).map(|_| ()).unwrap_err().line, 3, "{kept}");
        }
        // broken syntax before `line` and `column` were found is an error, on the element's line;
        // after them it is only seen when kept
        for error in [
            r#"<error message="a" x line="12" column="1"/>"#,
            r#"<error line="12" message=a column="1"/>"#,
            r#"<error line="12" column="1" message="a/>"#,
        ] {
            assert_eq!(run(error).map(|_| ()).unwrap_err().line, 3, "{error}");
        }
        let sink = run(r#"<error line="12" column="1" message=a/>"#).unwrap();
        assert_eq!((sink.0.len(), sink.1), (0, 1));
        let err = run(r#"<error line="2" column="1" message=a/>"#)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(err.line, 3, "{err}");
        // `line` and `column` that are not plain numbers are read in full before the drop
        let sink = run(r#"<error line=" 1&#50; " column="&#51;" message="m"/>"#).unwrap();
        assert_eq!((sink.0.len(), sink.1), (0, 1));
        let err = run(r#"<error line="12" column="x" message="m"/>"#)
            .map(|_| ())
            .unwrap_err();
        assert!(err.to_string().contains("attribute `column` is `x`"), "{err}");
    }

    #[test]
    fn malformed_is_an_error_with_a_line() {
        for (text, want, line) in [
            ("", "no `<checkstyle>` element", 1),
            ("<testsuites/>", "root element is `<testsuites>`", 1),
            ("<checkstyle>\n<file name=\"a\">\n<error line=\"1\"", "", 3),
            ("<checkstyle>\n<file name=\"a\">\n</checkstyle>", "", 3),
            ("<checkstyle>\n<file name=\"a\">\n", "ends inside `<file>`", 3),
            (
                "<checkstyle>\n<file name=\"a\"><error line=\"x1\" message=\"m\"/></file></checkstyle>",
                "attribute `line` is `x1`",
                2,
            ),
            (
                "<checkstyle></checkstyle><checkstyle/>",
                "after the `<checkstyle>` root",
                1,
            ),
            ("<checkstyle><file name=\"a\" name=\"b\"/></checkstyle>", "", 1),
        ] {
            let err = run(text).map(|_| ()).unwrap_err();
            assert!(err.to_string().contains(want), "{text}: {err}");
            assert_eq!(err.line, line, "{text}: {err}");
            assert!(
                err.to_string()
                    .starts_with("`hadolint` is not valid checkstyle XML"),
                "{err}"
            );
        }
    }
}
