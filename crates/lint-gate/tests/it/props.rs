//! Property tests of every parser: arbitrary bytes, truncated and mutated reports, huge lines and
//! invalid UTF-8 never panic; a truncated document is always an error, never a silent zero.

use lint_gate::diff::DiffIndex;
use lint_gate::parse::{self, Diagnostic, Format, FormatSpec, ParseContext, errorformat};
use proptest::prelude::*;

const SARIF: &str = r#"{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "rules": [{"id": "R", "defaultConfiguration": {"level": "error"}}]}},
  "originalUriBaseIds": {"B": {"uri": "file:///w/"}},
  "results": [{"ruleIndex": 0, "message": {"text": "m {0}", "arguments": ["x"]}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a%20b.rs", "uriBaseId": "B"}, "region": {"startLine": 2, "startColumn": 3, "endColumn": 9}}}],
    "fixes": [{"artifactChanges": [{"artifactLocation": {"uri": "a%20b.rs", "uriBaseId": "B"}, "replacements": [{"deletedRegion": {"startLine": 2}, "insertedContent": {"text": "y"}}]}]}],
    "suppressions": [{"status": "rejected"}]}]}]}"#;
const CHECKSTYLE: &str = r#"<?xml version="1.0"?><checkstyle version="4"><file name="a.js"><error line="1" column="2" severity="warning" message="m &amp; n" source="r"/></file><file name="b.js"></file></checkstyle>"#;
const RDJSON: &str = r#"{"source": {"name": "s"}, "severity": "ERROR", "diagnostics": [{"message": "m", "location": {"path": "a", "range": {"start": {"line": 1, "column": 1}, "end": {"line": 1, "column": 3}}}, "suggestions": [{"range": {"start": {"line": 1}}, "text": "x"}]}]}"#;
const RDJSONL: &str = "{\"message\": \"m\", \"severity\": \"WARNING\", \"location\": {\"path\": \"a\"}}\n{\"message\": \"n\"}\n";
const CARGO: &str = "{\"reason\":\"compiler-message\",\"message\":{\"message\":\"m\",\"code\":{\"code\":\"c\"},\"level\":\"warning\",\"children\":[{\"message\":\"h\",\"level\":\"help\",\"children\":[],\"spans\":[{\"file_name\":\"a.rs\",\"line_start\":1,\"line_end\":1,\"column_start\":1,\"column_end\":2,\"is_primary\":true,\"suggested_replacement\":\"x\",\"suggestion_applicability\":\"MachineApplicable\"}]}],\"spans\":[{\"file_name\":\"a.rs\",\"line_start\":1,\"line_end\":1,\"column_start\":1,\"column_end\":2,\"is_primary\":true}]}}\n{\"reason\":\"build-finished\",\"success\":false}\n";
const ESLINT: &str = r#"[{"filePath": "/w/a.js", "messages": [{"ruleId": "semi", "severity": 2, "message": "m", "line": 1, "column": 2, "endLine": 1, "endColumn": 3}]}]"#;
const GOLANGCI: &str = r#"{"Issues": [{"FromLinter": "x", "Text": "t", "Severity": "", "Pos": {"Filename": "a.go", "Line": 1, "Column": 1}, "Replacement": {"NeedOnlyDelete": false, "NewLines": ["a"]}, "LineRange": {"From": 1, "To": 2}}], "Report": {}}"#;
const TEXT: &str = "a.ts(1,2): error TS1: m\n  more\nb.py:3:4: E501 long\nx.sh:1:1: warning: q [SC2086]\n";

/// Every format with a valid sample; `true` for formats whose samples are single documents.
/// Compiled once: regex compilation would dominate the run time otherwise.
fn formats() -> Vec<(Format, &'static str, bool)> {
    static FORMATS: std::sync::LazyLock<Vec<(Format, &'static str, bool)>> =
        std::sync::LazyLock::new(build_formats);
    FORMATS.clone()
}

fn build_formats() -> Vec<(Format, &'static str, bool)> {
    let mut out = vec![
        (Format::Sarif, SARIF, true),
        (Format::Checkstyle, CHECKSTYLE, true),
        (Format::Rdjson, RDJSON, true),
        (Format::Rdjsonl, RDJSONL, false),
        (Format::Cargo, CARGO, false),
        (Format::Eslint, ESLINT, true),
        (Format::Golangci, GOLANGCI, true),
    ];
    for name in errorformat::PRESET_NAMES {
        out.push((
            Format::Text(errorformat::preset(name).expect("preset")),
            TEXT,
            false,
        ));
    }
    out
}

fn parse_bytes(format: &Format, bytes: &[u8]) -> Result<Vec<Diagnostic>, parse::ParseError> {
    let mut sink: Vec<Diagnostic> = Vec::new();
    let mut input = bytes;
    parse::parse(format, &mut input, &ParseContext::new("prop"), &mut sink).map(|_| sink)
}

#[test]
fn every_sample_parses() {
    for (format, sample, _) in formats() {
        let found =
            parse_bytes(&format, sample.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", format.name()));
        if !matches!(format, Format::Text(_)) {
            assert!(!found.is_empty(), "{}", format.name());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        for (format, _, _) in formats() {
            let _ = parse_bytes(&format, &bytes);
        }
        let _ = parse::detect(&bytes, "prop");
        let _ = DiffIndex::from_git_diff(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn truncated_documents_are_errors(cut in 0.0f64..1.0) {
        for (format, sample, document) in formats() {
            let end = sample.trim_end().len();
            let at = ((end as f64) * cut) as usize;
            let result = parse_bytes(&format, &sample.as_bytes()[..at]);
            if document && at < end {
                prop_assert!(result.is_err(), "{} cut at {at} of {end} parsed", format.name());
            }
        }
    }

    #[test]
    fn mutated_reports_never_panic(
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)
    ) {
        for (format, sample, _) in formats() {
            let mut bytes = sample.as_bytes().to_vec();
            for (index, byte) in &edits {
                let i = index.index(bytes.len());
                bytes[i] = *byte;
            }
            let _ = parse_bytes(&format, &bytes);
        }
    }

    #[test]
    fn spliced_values_never_panic(
        value in prop_oneof![
            Just("null".to_owned()), Just("-1".to_owned()), Just("1e400".to_owned()), Just("18446744073709551616".to_owned()),
            Just("[]".to_owned()), Just("{}".to_owned()), Just("\"\\ud800\"".to_owned()), Just("\"\u{0}\"".to_owned()),
            "[a-z]{0,5}".prop_map(|s| format!("\"{s}\"")),
        ],
        at in any::<prop::sample::Index>(),
    ) {
        // replace one JSON scalar (a number or a string) of each JSON sample with `value`
        for (format, sample, _) in formats() {
            if matches!(format, Format::Text(_) | Format::Checkstyle) {
                continue;
            }
            let spots: Vec<(usize, usize)> = scalar_spans(sample);
            if spots.is_empty() {
                continue;
            }
            let (s, e) = spots[at.index(spots.len())];
            let spliced = format!("{}{}{}", &sample[..s], value, &sample[e..]);
            let _ = parse_bytes(&format, spliced.as_bytes());
        }
    }

    #[test]
    fn errorformat_patterns_never_panic(pattern in "[%a-zA-Z:()\\[\\]\\\\.#*^$+\\- ]{0,24}", line in ".{0,80}") {
        if let Ok(efm) = errorformat::Errorformat::compile("e", &[pattern]) {
            let mut sink: Vec<Diagnostic> = Vec::new();
            let mut input = line.as_bytes();
            let _ = efm.parse(&mut input, &ParseContext::new("p"), &mut sink);
        }
    }

    #[test]
    fn format_names_never_panic(name in ".{0,20}") {
        let _ = FormatSpec::parse(&name, None);
    }

    #[test]
    fn source_lines_and_paths_never_panic(line in ".{0,60}") {
        let _ = lint_gate::source::split_line(&line);
        let _ = lint_gate::source::command_name(&line);
        let n = lint_gate::paths::PathNormalizer::new(std::path::Path::new("/w"), std::path::Path::new("pkg"));
        let _ = n.normalize(&line);
    }
}

/// Byte ranges of JSON numbers and strings (values, not keys) in `text`.
fn scalar_spans(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    i += 1;
                }
                let end = (i + 1).min(bytes.len());
                let next = bytes[end..].iter().find(|b| !b.is_ascii_whitespace());
                if next != Some(&b':') {
                    out.push((start, end));
                }
                i = end;
            }
            b'0'..=b'9' | b'-' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'-') {
                    i += 1;
                }
                out.push((start, i));
            }
            _ => i += 1,
        }
    }
    out
}

#[test]
fn huge_lines_are_errors_not_memory() {
    let huge = vec![b'x'; lint_gate::parse::input::MAX_LINE_BYTES + 1024];
    for format in [
        Format::Rdjsonl,
        Format::Cargo,
        Format::Text(errorformat::preset("plain").expect("preset")),
    ] {
        let err = parse_bytes(&format, &huge).expect_err("a 16 MiB line is refused");
        assert!(err.to_string().contains("line longer than 16 MiB"), "{err}");
    }
    // a huge but well-formed JSON string value is fine for document formats
    let big = format!(
        "{{\"version\": \"2.1.0\", \"runs\": [{{\"tool\": {{\"driver\": {{\"name\": \"t\"}}}}, \"results\": [{{\"ruleId\": \"r\", \"message\": {{\"text\": \"{}\"}}}}]}}]}}",
        "y".repeat(1 << 20)
    );
    assert_eq!(
        parse_bytes(&Format::Sarif, big.as_bytes()).expect("valid").len(),
        1
    );
}

#[test]
fn invalid_utf8_is_an_error_in_json_and_lossy_in_text() {
    let bad =
        b"{\"version\": \"2.1.0\", \"runs\": [{\"results\": [{\"message\": {\"text\": \"\xff\xfe\"}}]}]}";
    let err = parse_bytes(&Format::Sarif, bad).expect_err("invalid UTF-8 in JSON");
    assert!(
        err.to_string().contains("invalid unicode") || err.to_string().contains("UTF-8"),
        "{err}"
    );
    let text = b"a\xff.c:1:2: error: \xfe bad\n";
    let found = parse_bytes(&Format::Text(errorformat::preset("gcc").expect("preset")), text)
        .expect("text is read lossily");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].finding.path.as_deref(), Some("a\u{fffd}.c"));
}

/// A result of the generated reports: file, line, rule, and how it is written.
#[derive(Debug, Clone)]
struct Spot {
    file: u8,
    line: u32,
    end: Option<u32>,
    kind: u8,
}

fn sarif_of(spots: &[Spot], base_first: bool) -> String {
    let results: Vec<String> = spots
        .iter()
        .map(|s| {
            let end = s.end.map(|e| format!(", \"endLine\": {e}")).unwrap_or_default();
            let location = format!(
                "\"locations\": [{{\"physicalLocation\": {{\"artifactLocation\": {{\"uri\": \"src/f{}.rs\", \"uriBaseId\": \"%SRCROOT%\"}}, \"region\": {{\"startLine\": {}{end}}}}}}}]",
                s.file, s.line
            );
            match s.kind % 6 {
                0 => format!("{{\"ruleId\": \"R\", \"message\": {{\"text\": \"m {}\"}}, {location}}}", s.line),
                1 => format!("{{{location}, \"kind\": \"pass\", \"message\": {{\"text\": \"p\"}}}}"),
                2 => format!("{{\"suppressions\": [{{\"kind\": \"inSource\"}}], {location}, \"message\": {{\"text\": \"s\"}}}}"),
                3 => "{\"message\": {\"text\": \"no location\"}}".to_owned(),
                4 => format!("{{\"kind\": \"fail\", \"suppressions\": [], \"level\": \"error\", {location}, \"message\": {{\"text\": \"k\"}}}}"),
                _ => format!(
                    "{{\"locations\": [{{\"physicalLocation\": {{\"artifactLocation\": {{\"uri\": \"file:///w/src/f{}.rs\"}}, \"region\": null}}}}], \"message\": {{\"text\": \"abs\"}}}}",
                    s.file
                ),
            }
        })
        .collect();
    let tool = "\"tool\": {\"driver\": {\"name\": \"t\"}}";
    let results = format!("\"results\": [\n{}\n]", results.join(",\n"));
    if base_first {
        format!("{{\"version\": \"2.1.0\", \"runs\": [{{{tool}, {results}}}]}}")
    } else {
        format!("{{\"version\": \"2.1.0\", \"runs\": [{{{results}, {tool}}}]}}")
    }
}

fn checkstyle_of(spots: &[Spot]) -> String {
    let mut out = String::from("<?xml version=\"1.0\"?>\n<checkstyle>\n");
    let mut sorted = spots.to_vec();
    sorted.sort_by_key(|s| s.file);
    for group in sorted.chunk_by(|a, b| a.file == b.file) {
        out.push_str(&format!("<file name=\"./src/f{}.rs\">\n", group[0].file));
        for s in group {
            // the ways a tool may write `line` and `column`: some are read on the quick path that
            // decides a drop, the others on the full one, and both must keep the same
            let n = s.line;
            let line = match s.kind % 8 {
                0 => String::new(),
                1 | 2 => format!(" line=\"{n}\""),
                3 => format!(" line='{n}'"),
                4 => format!(" line = \"{n}\""),
                5 => format!(
                    " line=\"{}\"",
                    n.to_string()
                        .bytes()
                        .map(|d| format!("&#{d};"))
                        .collect::<String>()
                ),
                6 => format!(" line=\" {n} \""),
                // local names count: the first `line` is the one read
                _ => format!(" x:line=\"{n}\" y:line=\"{}\"", n + 1),
            };
            let column = match s.kind / 8 % 3 {
                0 => " column=\"2\"",
                1 => " column='&#50;'",
                _ => "",
            };
            let error = if s.kind / 24 % 2 == 0 {
                format!(
                    "<error{line}{column} severity=\"warning\" message=\"m &amp; {}\" source=\"r\"/>",
                    s.kind
                )
            } else {
                format!(
                    "<error source='r' message='m &amp; {}'{column} severity=\"warning\"{line}></error>",
                    s.kind
                )
            };
            out.push_str(&format!("  {error}\n"));
        }
        out.push_str("</file>\n");
    }
    out.push_str("<error line=\"3\" message=\"no file\"/>\n</checkstyle>\n");
    out
}

fn spots() -> impl Strategy<Value = Vec<Spot>> {
    proptest::collection::vec(
        (0u8..4, 0u32..14, proptest::option::of(0u32..16), any::<u8>()).prop_map(
            |(file, line, end, kind)| Spot {
                file,
                line,
                end,
                kind,
            },
        ),
        0..40,
    )
}

/// Path, line and message of each finding kept.
type Kept = Vec<(Option<String>, Option<u32>, String)>;

/// What a collector keeps and counts after `feed`.
fn collect(
    mode: lint_gate::diff::FilterMode,
    feed: impl FnOnce(&mut lint_gate::pipeline::Collector<'_>),
) -> (Kept, lint_gate::pipeline::SourceCounts) {
    let diff = DiffIndex::from_git_diff(concat!(
        "diff --git a/src/f0.rs b/src/f0.rs\n--- a/src/f0.rs\n+++ b/src/f0.rs\n@@ -1,2 +1,4 @@\n a\n+b\n+c\n d\n",
        "diff --git a/src/f1.rs b/src/f1.rs\n--- a/src/f1.rs\n+++ b/src/f1.rs\n@@ -9,0 +10,2 @@\n+x\n+y\n",
    ));
    let normalizer =
        lint_gate::paths::PathNormalizer::new(std::path::Path::new("/w"), std::path::Path::new("/w"));
    let mut collector = lint_gate::pipeline::Collector::new(&normalizer, mode, Some(&diff), None);
    collector.start_source("prop", false);
    feed(&mut collector);
    let counts = collector.source_counts();
    let kept = collector
        .finish()
        .findings
        .into_iter()
        .map(|f| (f.path, f.region.map(|r| r.start_line), f.message))
        .collect();
    (kept, counts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Parsers skip building findings the filter drops (SARIF results and checkstyle errors are
    /// dropped on their location alone): what is kept and every count are the same as when each
    /// finding is built and handed to the filter.
    #[test]
    fn dropping_early_keeps_and_counts_the_same(spots in spots(), base_first in any::<bool>(), mode in 0usize..3) {
        use lint_gate::diff::FilterMode;
        use lint_gate::parse::Sink;
        let mode = [FilterMode::Added, FilterMode::DiffContext, FilterMode::File][mode];
        for (format, text) in [(Format::Sarif, sarif_of(&spots, base_first)), (Format::Checkstyle, checkstyle_of(&spots))] {
            let ctx = ParseContext::new("prop");
            let mut early_stats = None;
            let early = collect(mode, |c| {
                let mut input = text.as_bytes();
                early_stats = Some(parse::parse(&format, &mut input, &ctx, c).expect("valid report"));
            });
            let mut built: Vec<Diagnostic> = Vec::new();
            let mut input = text.as_bytes();
            let stats = parse::parse(&format, &mut input, &ctx, &mut built).expect("valid report");
            let late = collect(mode, |c| {
                for d in built {
                    c.diagnostic(d);
                }
            });
            prop_assert_eq!(early_stats, Some(stats), "{} parser counts", format.name());
            prop_assert_eq!(&early, &late, "{}", format.name());
        }
    }
}
