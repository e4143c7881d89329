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
const RUFF: &str = r#"[{"code": "F401", "filename": "/w/a.py", "location": {"column": 8, "row": 1}, "end_location": {"column": 10, "row": 1}, "message": "m", "severity": "error"}]"#;
const SHELLCHECK: &str = r#"{"comments": [{"file": "a.sh", "line": 6, "endLine": 6, "column": 6, "endColumn": 8, "level": "info", "code": 2086, "message": "m", "fix": null}]}"#;
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
        (Format::Ruff, RUFF, true),
        (Format::Shellcheck, SHELLCHECK, true),
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

/// Forwards to a collector but says it may not drop: the checkstyle parser then reads every
/// error with quick-xml, asking the filter about each as before, and never with its own scan of
/// dropped errors.
struct WithoutScan<'c, 'a>(&'c mut lint_gate::pipeline::Collector<'a>);

impl lint_gate::parse::Sink for WithoutScan<'_, '_> {
    fn diagnostic(&mut self, diagnostic: Diagnostic) {
        self.0.diagnostic(diagnostic);
    }
    fn rule(&mut self, rule: ops_core::RuleInfo) {
        self.0.rule(rule);
    }
    fn drops(&mut self, path: &str, region: Option<ops_core::Region>) -> bool {
        self.0.drops(path, region)
    }
    fn drops_file(&mut self, path: &str) -> bool {
        self.0.drops_file(path)
    }
    fn dropped(&mut self) {
        self.0.dropped();
    }
}

/// One `<error>` element written in one of the ways a tool (or a broken tool) may write it.
fn checkstyle_error() -> impl Strategy<Value = String> {
    // mostly what tools write (read by the scan), sometimes what only quick-xml reads, rarely broken:
    // a report broken anywhere is an error, which hides how the rest of it was read
    let line = (0u32..14, 0usize..16).prop_map(|(n, how)| match how {
        0..=5 => format!("line=\"{n}\""),
        6 => format!("line='{n}'"),
        7 => format!("line = \"{n}\""),
        8 => format!("line=\"&#{};\"", u32::from(b'0') + n % 10),
        9 => format!("line=\" {n} \""),
        10 => "line=\"\"".to_owned(),
        11 => "line=\"x\"".to_owned(),
        12 => format!("line=\"{}\"", "9".repeat(25)),
        _ => String::new(),
    });
    let column = (0usize..8).prop_map(|how| {
        [
            "column=\"2\"",
            "column='&#50;'",
            "",
            "column=\"y\"",
            "column=\"3\"",
        ][how.min(4)]
        .to_owned()
    });
    let others = proptest::collection::vec(0usize..20, 0..4).prop_map(|picks| {
        picks
            .into_iter()
            .map(|i| {
                // the first six are well-formed
                let i = if i >= 14 { i % 6 } else { i };
                [
                    "severity=\"warning\"",
                    "message=\"m &amp; &lt;x&gt; > y / z\"",
                    "source='r'",
                    "message=\"a\" message=\"b\"",
                    "x:line=\"3\"",
                    "data-x.y_z=\"1\"",
                    "message=\"&bogus;\"",
                    "9bad=\"1\"",
                    "message=\"a<b\"",
                    "message=unquoted",
                    "message=\"\u{e9}\u{fffd}\"",
                    "message=\"a long message that goes on past thirty-two bytes, and on\"",
                    "novalue",
                    "line=\"1\" line=\"13\"",
                ][i]
                    .to_owned()
            })
            .collect::<Vec<_>>()
    });
    (
        line,
        column,
        others,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
        proptest::collection::vec(0usize..12, 6),
        0usize..16,
    )
        .prop_map(|(line, column, mut attrs, at_line, at_column, spaces, close)| {
            // `line` and `column` anywhere among the others, or missing
            if !column.is_empty() {
                attrs.insert(at_column.index(attrs.len() + 1), column);
            }
            if !line.is_empty() {
                attrs.insert(at_line.index(attrs.len() + 1), line);
            }
            let mut out = String::from("<error");
            for (i, attr) in attrs.iter().enumerate() {
                let space = spaces[i % spaces.len()];
                out.push_str([" ", "\n    ", "\t", "", "\r\n "][if space > 4 { 0 } else { space }]);
                out.push_str(attr);
            }
            out.push_str(
                [
                    "/>",
                    " />",
                    "\n/>",
                    "></error>",
                    "/ >",
                    "><!-- c --></error>",
                    "> text </error>",
                    ">",
                ][if close > 7 { close % 3 } else { close }],
            );
            out
        })
}

/// A checkstyle report of files on the change (`f0`, `f1`), off it (`f2`) and without a name,
/// their errors separated by whitespace, comments, CDATA or text.
fn checkstyle_document() -> impl Strategy<Value = String> {
    let between = (0usize..12).prop_map(|i| {
        [
            "\n  ",
            "\n  ",
            "",
            "<!-- c -->",
            "<![CDATA[x]]>",
            " text ",
            "&amp;",
            "\r\n\t",
        ][if i > 7 { 0 } else { i }]
    });
    let file = (
        0usize..5,
        proptest::collection::vec((between, checkstyle_error()), 0..12),
    );
    proptest::collection::vec(file, 0..4).prop_map(|files| {
        let mut out = String::from("<?xml version=\"1.0\"?>\n<checkstyle version=\"8.0\">\n");
        for (name, errors) in files {
            let name = ["src/f0.rs", "./src/f1.rs", "src/f2.rs", "", "/w/src/f0.rs"][name];
            out.push_str(&format!("<file name=\"{name}\">"));
            for (between, error) in errors {
                out.push_str(between);
                out.push_str(&error);
            }
            out.push_str("\n</file>\n");
        }
        out.push_str("</checkstyle>\n");
        out
    })
}

/// What reading `text` through a collector gives: the parser's result (counts, or the error with
/// its line and offset), what is kept, and the collector's counts.
type Outcome = (
    Result<parse::ParseStats, (String, u64, u64)>,
    Kept,
    lint_gate::pipeline::SourceCounts,
);

fn read_checkstyle(mode: lint_gate::diff::FilterMode, text: &[u8], buffer: usize, scan: bool) -> Outcome {
    let ctx = ParseContext::new("prop");
    let mut result = None;
    let (kept, counts) = collect(mode, |c| {
        let mut input = std::io::BufReader::with_capacity(buffer, text);
        let parsed = if scan {
            parse::parse(&Format::Checkstyle, &mut input, &ctx, c)
        } else {
            parse::parse(&Format::Checkstyle, &mut input, &ctx, &mut WithoutScan(c))
        };
        result = Some(parsed.map_err(|e| (e.to_string(), e.line, e.offset)));
    });
    (result.expect("parsed"), kept, counts)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// The checkstyle parser's own scan of dropped errors changes nothing: well-formed or not
    /// (attributes in any order, entities, `line` missing or not a number, self-closing or not,
    /// comments and CDATA between errors, cut short or with a byte changed), read in buffers of
    /// any size, the result, the error and its position, what is kept and every count are those
    /// of reading each error with quick-xml.
    #[test]
    fn checkstyle_scan_of_dropped_errors_changes_nothing(
        text in checkstyle_document(),
        mode in 0usize..3,
        buffer in prop_oneof![Just(1 << 16), 1usize..96],
        cut in proptest::option::weighted(0.2, any::<prop::sample::Index>()),
        edit in proptest::option::weighted(0.2, (any::<prop::sample::Index>(), any::<u8>())),
    ) {
        use lint_gate::diff::FilterMode;
        let mode = [FilterMode::Added, FilterMode::DiffContext, FilterMode::File][mode];
        let mut bytes = text.into_bytes();
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len() + 1));
        }
        if let Some((at, byte)) = edit
            && !bytes.is_empty()
        {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        let scanned = read_checkstyle(mode, &bytes, buffer, true);
        let read = read_checkstyle(mode, &bytes, 1 << 16, false);
        prop_assert_eq!(scanned, read, "{}", String::from_utf8_lossy(&bytes));
    }
}
