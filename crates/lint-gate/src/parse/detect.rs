//! `format: auto`: the format from the first bytes of a report.
//!
//! XML is checkstyle; a JSON array is told apart by its first element's keys (`filePath` ESLint,
//! `filename` ruff, `file` and `level` shellcheck's `-f json`); a JSON object by its top-level keys
//! (`runs` SARIF, `Issues` golangci-lint, `diagnostics` rdjson, `reason` cargo, `comments`
//! shellcheck's `-f json1`, `message` rdjsonl).
//! Anything else is text: the preset named like the source (`mypy: mypy src`), else `plain`. JSON
//! whose keys match nothing known is an error that lists the keys, never a guess.

use super::{Format, errorformat};

/// Detects the format of a report from its first bytes (`head`, without a byte-order mark) and the
/// source's name. `Ok(None)` means the input is empty (or only whitespace).
pub fn detect(head: &[u8], name: &str) -> Result<Option<Format>, String> {
    let start = head.iter().position(|b| !b.is_ascii_whitespace());
    let Some(start) = start else {
        return Ok(None);
    };
    let head = &head[start..];
    match head[0] {
        b'<' => Ok(Some(Format::Checkstyle)),
        b'[' => array_format(&head[1..]),
        b'{' => {
            let keys = top_level_keys(head);
            let has = |k: &str| keys.iter().any(|key| key == k);
            if has("runs") || (has("$schema") && head_mentions(head, b"sarif")) {
                Ok(Some(Format::Sarif))
            } else if has("Issues") {
                Ok(Some(Format::Golangci))
            } else if has("diagnostics") {
                Ok(Some(Format::Rdjson))
            } else if has("reason") {
                Ok(Some(Format::Cargo))
            } else if has("comments") {
                Ok(Some(Format::Shellcheck))
            } else if has("message") {
                Ok(Some(Format::Rdjsonl))
            } else if keys.is_empty() {
                Err("the input starts like JSON but no key could be read".to_owned())
            } else {
                Err(format!(
                    "JSON with the keys {}: not SARIF, rdjson, rdjsonl, cargo, golangci-lint or shellcheck output",
                    key_list(&keys)
                ))
            }
        }
        _ => text_preset(name).map(|efm| Some(Format::Text(efm))),
    }
}

/// A JSON array: ESLint's file results, ruff's violations or shellcheck's `-f json` comments, by
/// the keys of the first element. An empty array, or one whose first element cannot be read here,
/// goes to the ESLint parser, which accepts the one and names what is wrong with the other.
fn array_format(rest: &[u8]) -> Result<Option<Format>, String> {
    let Some(first) = rest.iter().position(|b| !b.is_ascii_whitespace()) else {
        return Ok(Some(Format::Eslint));
    };
    if rest[first] != b'{' {
        return Ok(Some(Format::Eslint));
    }
    let keys = top_level_keys(&rest[first..]);
    let has = |k: &str| keys.iter().any(|key| key == k);
    if keys.is_empty() || has("filePath") || has("messages") {
        Ok(Some(Format::Eslint))
    } else if has("filename") && (has("code") || has("location")) {
        Ok(Some(Format::Ruff))
    } else if has("file") && has("level") {
        Ok(Some(Format::Shellcheck))
    } else {
        Err(format!(
            "a JSON array of objects with the keys {}: not ESLint, ruff or shellcheck output",
            key_list(&keys)
        ))
    }
}

fn key_list(keys: &[String]) -> String {
    keys.iter()
        .take(8)
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The preset named like the source (`mypy`, `tsc`, `go vet` …), else `plain`.
fn text_preset(name: &str) -> Result<std::sync::Arc<errorformat::Errorformat>, String> {
    let lower = name.trim().to_ascii_lowercase();
    let file = lower.rsplit('/').next().unwrap_or(&lower);
    let stem = file.split('.').next().unwrap_or(file);
    [lower.as_str(), stem, "plain"]
        .into_iter()
        .find_map(errorformat::preset)
        .ok_or_else(|| "the built-in `plain` preset does not compile".to_owned())
}

fn head_mentions(head: &[u8], needle: &[u8]) -> bool {
    head.windows(needle.len()).any(|w| w.eq_ignore_ascii_case(needle))
}

/// The keys of the first JSON object in `head`, as far as `head` goes.
fn top_level_keys(head: &[u8]) -> Vec<String> {
    let mut keys = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    while i < head.len() {
        match head[i] {
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
            }
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < head.len() && head[j] != b'"' {
                    if head[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                if j >= head.len() {
                    break;
                }
                if depth == 1 {
                    let mut k = j + 1;
                    while k < head.len() && head[k].is_ascii_whitespace() {
                        k += 1;
                    }
                    if head.get(k) == Some(&b':') {
                        keys.push(String::from_utf8_lossy(&head[start..j]).into_owned());
                    }
                }
                i = j;
            }
            _ => {}
        }
        i += 1;
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(head: &str, source: &str) -> String {
        match detect(head.as_bytes(), source) {
            Ok(Some(f)) => f.name().to_owned(),
            Ok(None) => "empty".to_owned(),
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn table() {
        for (head, source, want) in [
            ("", "x", "empty"),
            ("  \n\t", "x", "empty"),
            ("<?xml version=\"1.0\"?><checkstyle>", "x", "checkstyle"),
            ("[{\"filePath\": \"a\"}]", "x", "eslint"),
            ("[]", "x", "eslint"),
            // ruff's default JSON (it was read as ESLint: "missing field `filePath`")
            (
                "[\n  {\n    \"cell\": null,\n    \"code\": \"F401\",\n    \"end_location\": {\"column\": 10, \"row\": 1},\n    \"filename\": \"/w/a.py\",\n    \"fix\": {\"edits\": [{\"content\": \"\"}]},\n    \"location\": {\"column\": 8, \"row\": 1}",
                "lint",
                "ruff-json",
            ),
            (
                "[{\"file\": \"x.sh\", \"line\": 6, \"endLine\": 6, \"column\": 6, \"endColumn\": 8, \"level\": \"info\", \"code\": 2086",
                "lint",
                "shellcheck-json",
            ),
            (
                "{\"comments\": [{\"file\": \"x.sh\", \"line\": 6}]}",
                "lint",
                "shellcheck-json",
            ),
            (
                "[{\"path\": \"a\", \"rule\": \"r\"}]",
                "x",
                "error: a JSON array of objects with the keys `path`, `rule`: not ESLint, ruff or shellcheck output",
            ),
            ("[1, 2]", "x", "eslint"),
            (
                "{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\"",
                "x",
                "sarif",
            ),
            (
                "{\"version\": \"2.1.0\", \"runs\": [{\"results\": []}]}",
                "x",
                "sarif",
            ),
            ("{\"Issues\": null, \"Report\": {}}", "x", "golangci-lint"),
            (
                "{\"source\": {\"name\": \"x\"}, \"diagnostics\": []}",
                "x",
                "rdjson",
            ),
            (
                "{\"reason\":\"compiler-artifact\"}\n{\"reason\":\"build-finished\"}",
                "x",
                "cargo",
            ),
            (
                "{\"message\": \"m\", \"location\": {\"path\": \"a\"}}\n",
                "x",
                "rdjsonl",
            ),
            (
                "{\"a\": {\"runs\": 1}, \"b\": 2}",
                "x",
                "error: JSON with the keys `a`, `b`: not SARIF, rdjson, rdjsonl, cargo, golangci-lint or shellcheck output",
            ),
            (
                "{\"a",
                "x",
                "error: the input starts like JSON but no key could be read",
            ),
            ("src/a.ts(1,2): error TS1: x", "tsc", "tsc"),
            ("a.py:1: error: x", "tools/mypy.txt", "mypy"),
            ("a.py:1: error: x", "lint", "plain"),
        ] {
            assert_eq!(name(head, source), want, "{head:?}");
        }
    }

    #[test]
    fn keys_skip_nested_and_escaped() {
        assert_eq!(
            top_level_keys(br#"{"a\"b": {"x": 1}, "c": [ {"y": 2} ], "d": "e:f"}"#),
            vec!["a\\\"b", "c", "d"]
        );
    }
}
