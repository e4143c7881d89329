//! List inputs (`tags`, `flavor`, `images`, `labels`, `annotations`): one entry per line, `#` comment
//! lines, and the CSV `key=value` fields of a line.
//!
//! docker/metadata-action parses a whole list input as CSV once (which consumes the quotes), joins each
//! record back with `,`, then parses every line as CSV again. A quoted field such as
//! `type=match,"pattern=\d{1,2}"` therefore loses its quotes in the first pass and is split at the comma
//! in the second. Here a line is parsed once, so quoting works as users write it:
//! - a field may be quoted whole (`"pattern=\d{1,2}"`) or after its `=` (`pattern="\d{1,2}"`), with `""`
//!   for a quote inside quotes; a quoted value keeps its spaces;
//! - a comma inside a `{{ … }}` expression does not split (`value={{date 'dddd, MMMM Do'}}`);
//! - upstream's workaround, a whole line quoted with doubled inner quotes, still means the same thing.

use std::fmt;

/// One non-empty, non-comment line of a list input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The input's name (`tags`).
    pub input: &'static str,
    /// 1-based line number in the input as written.
    pub number: usize,
    /// The line, trimmed.
    pub text: String,
}

impl Line {
    /// A line for tests and defaults.
    pub fn new(input: &'static str, number: usize, text: impl Into<String>) -> Self {
        Self {
            input,
            number,
            text: text.into(),
        }
    }
}

impl fmt::Display for Line {
    /// `` `tags` line 2 (`type=foo`) ``.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}` line {} (`{}`)", self.input, self.number, self.text)
    }
}

/// The entries of a list input. `values` are the lines as clap received them (non-empty, trimmed);
/// `raw` is the input as the runner set it, used only to number the lines as the user wrote them.
pub fn list(input: &'static str, values: &[String], raw: Option<&str>) -> Vec<Line> {
    let numbers = line_numbers(values, raw);
    values
        .iter()
        .zip(numbers)
        .filter(|(text, _)| {
            let text = text.trim();
            !text.is_empty() && !text.starts_with('#')
        })
        .map(|(text, number)| Line::new(input, number, text.trim()))
        .collect()
}

/// The 1-based line numbers of `values` in `raw`, when `raw` is where they came from; else 1, 2, 3….
fn line_numbers(values: &[String], raw: Option<&str>) -> Vec<usize> {
    if let Some(raw) = raw {
        let found: Vec<(usize, &str)> = raw
            .split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim()))
            .filter(|(_, l)| !l.is_empty())
            .collect();
        if found.len() == values.len() && found.iter().zip(values).all(|((_, l), v)| *l == v.trim()) {
            return found.into_iter().map(|(n, _)| n).collect();
        }
    }
    (1..=values.len()).collect()
}

/// One CSV field of a line: `key=value`, or a bare value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The key, lower-cased and trimmed; `None` for a field without `=`.
    pub key: Option<String>,
    /// The value: trimmed unless it was quoted.
    pub value: String,
}

/// Why a line could not be split into fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A quote was opened and never closed.
    #[error("unterminated quote: a `\"` opened at column {column} is never closed")]
    Unterminated {
        /// 1-based column of the opening quote.
        column: usize,
    },
    /// Something other than `,` follows a closing quote.
    #[error(
        "unexpected `{found}` after the closing quote at column {column}; expected `,` or the end of the line"
    )]
    AfterQuote {
        /// 1-based column of the closing quote.
        column: usize,
        /// The character found.
        found: char,
    },
}

/// Splits a line into `key=value` fields (see the module documentation for the quoting rules).
pub fn fields(line: &str) -> Result<Vec<Field>, FieldError> {
    let trimmed = line.trim();
    // Upstream's documented workaround: the whole line in quotes, inner quotes doubled.
    if let Some(inner) = whole_line_quoted(trimmed) {
        return split(&inner);
    }
    split(trimmed)
}

/// The content of a line that is exactly one quoted CSV field, unquoted.
fn whole_line_quoted(line: &str) -> Option<String> {
    let rest = line.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if chars.peek() == Some(&'"') {
                chars.next();
                out.push('"');
            } else {
                return chars.next().is_none().then_some(out);
            }
        } else {
            out.push(c);
        }
    }
    None
}

fn split(line: &str) -> Result<Vec<Field>, FieldError> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    loop {
        let (field, next) = one_field(&chars, i)?;
        if !(field.key.is_none() && field.value.is_empty()) {
            out.push(field);
        }
        match next {
            Some(n) => i = n,
            None => return Ok(out),
        }
    }
}

/// Reads the field starting at `start`; returns it and the index after its `,`, or `None` at the end.
fn one_field(chars: &[char], start: usize) -> Result<(Field, Option<usize>), FieldError> {
    let mut i = start;
    while i < chars.len() && matches!(chars[i], ' ' | '\t') {
        i += 1;
    }
    // A field quoted whole: `"key=value"`.
    if chars.get(i) == Some(&'"') {
        let (text, after) = quoted(chars, i)?;
        let next = after_quote(chars, after)?;
        let field = match text.split_once('=') {
            Some((key, value)) if !key.trim().is_empty() => Field {
                key: Some(key.trim().to_lowercase()),
                value: value.trim().to_owned(),
            },
            _ => Field {
                key: None,
                value: text.trim().to_owned(),
            },
        };
        return Ok((field, next));
    }
    let mut key: Option<String> = None;
    let mut buf = String::new();
    loop {
        let Some(&c) = chars.get(i) else {
            return Ok((finish(key, buf), None));
        };
        match c {
            ',' => return Ok((finish(key, buf), Some(i + 1))),
            '{' if chars.get(i + 1) == Some(&'{') => {
                // Copy a whole `{{ … }}` expression; a `{{` that is never closed is plain text.
                match find_close(chars, i + 2) {
                    Some(end) => {
                        buf.extend(&chars[i..end]);
                        i = end;
                    }
                    None => {
                        buf.push(c);
                        i += 1;
                    }
                }
            }
            '=' if key.is_none() && !buf.trim().is_empty() => {
                key = Some(buf.trim().to_lowercase());
                buf.clear();
                i += 1;
                // A quoted value: `key="a,b"`.
                let mut j = i;
                while j < chars.len() && (chars[j] == ' ' || chars[j] == '\t') {
                    j += 1;
                }
                if chars.get(j) == Some(&'"') {
                    let (text, after) = quoted(chars, j)?;
                    let next = after_quote(chars, after)?;
                    return Ok((Field { key, value: text }, next));
                }
            }
            _ => {
                buf.push(c);
                i += 1;
            }
        }
    }
}

fn finish(key: Option<String>, buf: String) -> Field {
    Field {
        key,
        value: buf.trim().to_owned(),
    }
}

/// The index just past the `}}` that closes an expression whose body starts at `from`.
fn find_close(chars: &[char], from: usize) -> Option<usize> {
    (from..chars.len().saturating_sub(1))
        .find(|&k| chars[k] == '}' && chars[k + 1] == '}')
        .map(|k| {
            // `}}}` closes a triple-stash expression
            if chars.get(k + 2) == Some(&'}') {
                k + 3
            } else {
                k + 2
            }
        })
}

/// Reads a quoted string starting at the `"` at `open`; returns the text and the index after the
/// closing quote.
fn quoted(chars: &[char], open: usize) -> Result<(String, usize), FieldError> {
    let mut out = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => return Err(FieldError::Unterminated { column: open + 1 }),
            Some('"') if chars.get(i + 1) == Some(&'"') => {
                out.push('"');
                i += 2;
            }
            Some('"') => return Ok((out, i + 1)),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

/// After a closing quote only blanks may come before the `,` or the end.
fn after_quote(chars: &[char], mut i: usize) -> Result<Option<usize>, FieldError> {
    let close = i;
    while let Some(&c) = chars.get(i) {
        match c {
            ' ' | '\t' => i += 1,
            ',' => return Ok(Some(i + 1)),
            found => return Err(FieldError::AfterQuote { column: close, found }),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(fields: &[Field]) -> Vec<String> {
        fields
            .iter()
            .map(|f| match &f.key {
                Some(k) => format!("{k}={}", f.value),
                None => format!("<{}>", f.value),
            })
            .collect()
    }

    #[test]
    fn splits_fields_like_users_expect() {
        for (line, expected) in [
            (
                "type=semver,pattern={{version}}",
                vec!["type=semver", "pattern={{version}}"],
            ),
            ("type=raw,foo", vec!["type=raw", "<foo>"]),
            (" Type = raw , Value = x ", vec!["type=raw", "value=x"]),
            ("foo", vec!["<foo>"]),
            ("type=raw,value=a=b", vec!["type=raw", "value=a=b"]),
            ("=foo", vec!["<=foo>"]),
            ("type=raw,,value=x,", vec!["type=raw", "value=x"]),
            ("prefix=", vec!["prefix="]),
            // the bug upstream: quotes are consumed by a first CSV pass, then the line splits at `,`
            (
                r#"type=match,"pattern=\d{1,2}""#,
                vec!["type=match", r"pattern=\d{1,2}"],
            ),
            (
                r#"type=match,pattern="\d{1,2}",group=0"#,
                vec!["type=match", r"pattern=\d{1,2}", "group=0"],
            ),
            // upstream's workaround keeps working
            (
                r#""type=match,""pattern=\d{1,2}""""#,
                vec!["type=match", r"pattern=\d{1,2}"],
            ),
            // commas inside an expression do not split
            (
                "type=raw,value={{date 'dddd, MMMM Do'}},priority=1",
                vec!["type=raw", "value={{date 'dddd, MMMM Do'}}", "priority=1"],
            ),
            (
                "type=raw,value={{branch,foo",
                vec!["type=raw", "value={{branch", "<foo>"],
            ),
            // a quoted value keeps its spaces; quotes inside are doubled
            (
                r#"type=raw,value=" a ""b"" ""#,
                vec!["type=raw", r#"value= a "b" "#],
            ),
            // a quote inside an unquoted value is a plain character
            (r#"key=say "hi""#, vec![r#"key=say "hi""#]),
            ("latest=auto # comment", vec!["latest=auto # comment"]),
        ] {
            let got = fields(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            assert_eq!(kv(&got), expected, "{line}");
        }
    }

    #[test]
    fn bad_quoting_names_the_column() {
        assert_eq!(
            fields(r#"type=raw,"value=x"#).unwrap_err(),
            FieldError::Unterminated { column: 10 }
        );
        assert_eq!(
            fields(r#"type=raw,"value=x"y"#).unwrap_err(),
            FieldError::AfterQuote {
                column: 18,
                found: 'y'
            }
        );
    }

    #[test]
    fn lists_skip_comments_and_keep_line_numbers() {
        let raw = "# header\ntype=sha\n\n  type=raw,foo#bar  \n# trailing";
        let values: Vec<String> = ["# header", "type=sha", "type=raw,foo#bar", "# trailing"]
            .map(String::from)
            .to_vec();
        let lines = list("tags", &values, Some(raw));
        assert_eq!(
            lines,
            vec![
                Line::new("tags", 2, "type=sha"),
                // `#` inside a value is kept (metadata-action #451)
                Line::new("tags", 4, "type=raw,foo#bar"),
            ]
        );
        assert_eq!(lines[1].to_string(), "`tags` line 4 (`type=raw,foo#bar`)");
        // values from the command line are numbered as given
        let lines = list("tags", &values, None);
        assert_eq!(lines[0].number, 2);
    }
}
