//! `{{ … }}` expressions: the part of Handlebars that docker/metadata-action users write.
//!
//! Supported: `{{name}}` and `{{{name}}}` (with `~` whitespace control and `./`/`this.` paths),
//! `{{! comment }}` / `{{!-- comment --}}`, `\{{` for a literal `{{`, and the two helpers
//! `{{date 'FORMAT' tz='Zone'}}` and `{{commit_date 'FORMAT' tz='Zone'}}` with string or path arguments.
//! Block helpers and partials are rejected with a clear error.
//!
//! Differences from upstream, on purpose: values are not HTML-escaped (Handlebars turns `&` into
//! `&amp;` in `{{branch}}`, which then becomes `-amp-` in a tag), an unknown expression still renders
//! as empty but with a warning, and an unknown time zone is an error instead of a silent fallback to the
//! machine's local time.

use jiff::Timestamp;

use super::moment;

/// A template, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Text(String),
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Expr {
    name: String,
    params: Vec<Param>,
    hash: Vec<(String, Param)>,
    source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Param {
    Str(String),
    Path(String),
    Literal(String),
}

/// Why a template cannot be parsed or rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("`{{{{` at column {column} is never closed by `}}}}`")]
    Unclosed {
        /// 1-based column.
        column: usize,
    },
    /// `{{}}`.
    #[error("empty expression `{{{{}}}}` at column {column}")]
    Empty {
        /// 1-based column.
        column: usize,
    },
    /// Blocks, partials, `else`.
    #[error(
        "`{expr}` is not supported: only `{{{{name}}}}` values and the `date` and `commit_date` helpers are"
    )]
    Unsupported {
        /// The expression as written.
        expr: String,
    },
    /// A string literal that is never closed.
    #[error("unterminated string in `{expr}`")]
    UnterminatedString {
        /// The expression as written.
        expr: String,
    },
    /// An unknown helper called with arguments.
    #[error("unknown helper `{name}` in `{expr}`")]
    UnknownHelper {
        /// The helper's name.
        name: String,
        /// The expression as written.
        expr: String,
    },
    /// `{{date}}` without a format.
    #[error("`{expr}` needs a format, as in `{{{{{name} 'YYYYMMDD'}}}}`")]
    MissingFormat {
        /// The helper's name.
        name: String,
        /// The expression as written.
        expr: String,
    },
    /// A helper argument that is neither a string nor a name.
    #[error("`{expr}`: the format must be a quoted string, as in `{{{{{name} 'YYYYMMDD'}}}}`")]
    BadFormat {
        /// The helper's name.
        name: String,
        /// The expression as written.
        expr: String,
    },
    /// `{{date 'X' foo='y'}}`.
    #[error("unknown `{key}` attribute in `{expr}`; only `tz` is allowed")]
    UnknownAttribute {
        /// The attribute.
        key: String,
        /// The expression as written.
        expr: String,
    },
    /// `tz='Nowhere/City'`.
    #[error("unknown time zone `{zone}` in `{expr}`; expected an IANA name such as `UTC` or `Europe/Paris`")]
    UnknownZone {
        /// The zone as given.
        zone: String,
        /// The expression as written.
        expr: String,
    },
}

/// The instants the date helpers format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dates {
    /// "Now" (`SOURCE_DATE_EPOCH` when set).
    pub now: Timestamp,
    /// The commit's date (or now, when it is not known).
    pub commit: Timestamp,
}

/// What names a template may use.
pub trait Scope {
    /// The value of a name, if the scope has it.
    fn var(&self, name: &str) -> Option<String>;
    /// The instants, when the `date` and `commit_date` helpers are available.
    fn dates(&self) -> Option<Dates>;
}

impl Template {
    /// Parses a template.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        parse(text).map(|segments| Self { segments })
    }

    /// Whether the template is exactly one `{{raw}}` (metadata-action's `isRawStatement`).
    pub fn is_raw_statement(text: &str) -> bool {
        match Self::parse(text) {
            Ok(t) => matches!(t.segments.as_slice(), [Segment::Expr(e)] if e.name == "raw"),
            Err(_) => false,
        }
    }

    /// Renders the template. Unknown names render as empty and add a warning.
    pub fn render(&self, scope: &dyn Scope, warnings: &mut Vec<String>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => out.push_str(text),
                Segment::Expr(expr) => out.push_str(&eval(expr, scope, warnings)?),
            }
        }
        Ok(out)
    }
}

/// Parses and renders in one go.
pub fn render(text: &str, scope: &dyn Scope, warnings: &mut Vec<String>) -> Result<String, TemplateError> {
    if !text.contains("{{") {
        return Ok(text.to_owned());
    }
    Template::parse(text)?.render(scope, warnings)
}

fn eval(expr: &Expr, scope: &dyn Scope, warnings: &mut Vec<String>) -> Result<String, TemplateError> {
    if let (Some(dates), true) = (
        scope.dates(),
        matches!(expr.name.as_str(), "date" | "commit_date"),
    ) {
        let instant = if expr.name == "date" {
            dates.now
        } else {
            dates.commit
        };
        return date_helper(expr, instant, scope);
    }
    if let Some(value) = scope.var(&expr.name) {
        return Ok(value);
    }
    if !expr.params.is_empty() || !expr.hash.is_empty() {
        return Err(TemplateError::UnknownHelper {
            name: expr.name.clone(),
            expr: expr.source.clone(),
        });
    }
    warnings.push(format!(
        "`{}` is not a known expression here and renders as an empty string",
        expr.source
    ));
    Ok(String::new())
}

fn date_helper(expr: &Expr, instant: Timestamp, scope: &dyn Scope) -> Result<String, TemplateError> {
    let format = match expr.params.first() {
        Some(Param::Str(s)) => Some(s.clone()),
        // An unquoted word is a lookup, as in Handlebars; an unknown one leaves the format undefined,
        // and moment then uses its default ISO format (`{{commit_date YYYY-MM-DD}}` upstream).
        Some(Param::Path(p)) => scope.var(p),
        Some(Param::Literal(_)) => {
            return Err(TemplateError::BadFormat {
                name: expr.name.clone(),
                expr: expr.source.clone(),
            });
        }
        None => {
            return Err(TemplateError::MissingFormat {
                name: expr.name.clone(),
                expr: expr.source.clone(),
            });
        }
    };
    let mut zone_name = "UTC".to_owned();
    for (key, value) in &expr.hash {
        if key != "tz" {
            return Err(TemplateError::UnknownAttribute {
                key: key.clone(),
                expr: expr.source.clone(),
            });
        }
        zone_name = match value {
            Param::Str(s) | Param::Literal(s) => s.clone(),
            Param::Path(p) => scope.var(p).unwrap_or_default(),
        };
    }
    let zone = moment::zone(&zone_name).ok_or_else(|| TemplateError::UnknownZone {
        zone: zone_name.clone(),
        expr: expr.source.clone(),
    })?;
    Ok(moment::format(&instant.to_zoned(zone), format.as_deref()))
}

fn parse(text: &str) -> Result<Vec<Segment>, TemplateError> {
    let chars: Vec<char> = text.chars().collect();
    let mut segments: Vec<Segment> = Vec::new();
    let mut buf = String::new();
    // `~` on the right of the previous expression: trim the start of the next text.
    let mut trim_next = false;
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '\\' && chars.get(i + 1) == Some(&'{') && chars.get(i + 2) == Some(&'{') {
            buf.push_str("{{");
            i += 3;
            continue;
        }
        if !(chars[i] == '{' && chars.get(i + 1) == Some(&'{')) {
            buf.push(chars[i]);
            i += 1;
            continue;
        }
        let open = i;
        let triple = chars.get(i + 2) == Some(&'{');
        let mut j = if triple { i + 3 } else { i + 2 };
        let comment_long =
            chars.get(j) == Some(&'!') && chars.get(j + 1) == Some(&'-') && chars.get(j + 2) == Some(&'-');
        let close_at = if comment_long {
            find(&chars, j, &['-', '-', '}', '}']).map(|k| (k, k + 4))
        } else {
            find_unquoted_close(&chars, j).map(|k| (k, k + if triple { 3 } else { 2 }))
        };
        let Some((body_end, next)) = close_at else {
            return Err(TemplateError::Unclosed { column: open + 1 });
        };
        if triple && chars.get(body_end + 2) != Some(&'}') {
            return Err(TemplateError::Unclosed { column: open + 1 });
        }
        let source: String = chars[open..next].iter().collect();
        let mut body: String = chars[j..body_end].iter().collect();
        let mut trim_before = false;
        if let Some(rest) = body.strip_prefix('~') {
            trim_before = true;
            body = rest.to_owned();
        }
        let mut trim_after = false;
        if let Some(rest) = body.strip_suffix('~') {
            trim_after = true;
            body = rest.to_owned();
        }
        if trim_next {
            buf = buf.trim_start().to_owned();
        }
        if trim_before {
            buf = buf.trim_end().to_owned();
        }
        if !buf.is_empty() {
            segments.push(Segment::Text(std::mem::take(&mut buf)));
        }
        trim_next = trim_after;
        j = next;
        i = j;
        let body = body.trim();
        if body.starts_with('!') {
            continue;
        }
        let body = body.strip_prefix('&').map(str::trim).unwrap_or(body);
        if body.is_empty() {
            return Err(TemplateError::Empty { column: open + 1 });
        }
        if body.starts_with(['#', '/', '^', '>', '*']) || body == "else" || body.starts_with("else ") {
            return Err(TemplateError::Unsupported { expr: source });
        }
        segments.push(Segment::Expr(expression(body, &source)?));
    }
    if trim_next {
        buf = buf.trim_start().to_owned();
    }
    if !buf.is_empty() {
        segments.push(Segment::Text(buf));
    }
    Ok(segments)
}

fn find(chars: &[char], from: usize, needle: &[char]) -> Option<usize> {
    (from..chars.len()).find(|&k| chars[k..].starts_with(needle))
}

/// The index of the `}}` closing an expression, skipping `}}` inside string literals.
fn find_unquoted_close(chars: &[char], from: usize) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut k = from;
    while k < chars.len() {
        let c = chars[k];
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '}' && chars.get(k + 1) == Some(&'}') => return Some(k),
            None => {}
        }
        k += 1;
    }
    None
}

/// `name param… key=value…`.
fn expression(body: &str, source: &str) -> Result<Expr, TemplateError> {
    let tokens = tokens(body, source)?;
    let mut iter = tokens.into_iter();
    let name = match iter.next() {
        Some(Token::Word(w)) => path(&w),
        _ => {
            return Err(TemplateError::Unsupported {
                expr: source.to_owned(),
            });
        }
    };
    let mut params = Vec::new();
    let mut hash = Vec::new();
    for token in iter {
        match token {
            Token::Word(w) => params.push(word_param(&w)),
            Token::Str(s) => params.push(Param::Str(s)),
            Token::Pair(key, value) => hash.push((key, value)),
        }
    }
    Ok(Expr {
        name,
        params,
        hash,
        source: source.to_owned(),
    })
}

enum Token {
    Word(String),
    Str(String),
    Pair(String, Param),
}

fn word_param(word: &str) -> Param {
    let is_literal = matches!(word, "true" | "false" | "null" | "undefined") || word.parse::<f64>().is_ok();
    if is_literal {
        Param::Literal(word.to_owned())
    } else {
        Param::Path(path(word))
    }
}

fn path(word: &str) -> String {
    let word = word.strip_prefix("./").unwrap_or(word);
    word.strip_prefix("this.").unwrap_or(word).to_owned()
}

fn tokens(body: &str, source: &str) -> Result<Vec<Token>, TemplateError> {
    let chars: Vec<char> = body.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        if chars[i] == '\'' || chars[i] == '"' {
            let (s, next) = string(&chars, i, source)?;
            out.push(Token::Str(s));
            i = next;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && chars[i] != '=' {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        if chars.get(i) == Some(&'=') {
            i += 1;
            let value = if matches!(chars.get(i), Some('\'' | '"')) {
                let (s, next) = string(&chars, i, source)?;
                i = next;
                Param::Str(s)
            } else {
                let v_start = i;
                while i < chars.len() && !chars[i].is_whitespace() {
                    i += 1;
                }
                word_param(&chars[v_start..i].iter().collect::<String>())
            };
            out.push(Token::Pair(word, value));
        } else {
            out.push(Token::Word(word));
        }
    }
    Ok(out)
}

/// A string literal starting at the quote at `open`; `\'` escapes the quote, as in Handlebars.
fn string(chars: &[char], open: usize, source: &str) -> Result<(String, usize), TemplateError> {
    let quote = chars[open];
    let mut out = String::new();
    let mut i = open + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(TemplateError::UnterminatedString {
                    expr: source.to_owned(),
                });
            }
            Some('\\') if chars.get(i + 1) == Some(&quote) => {
                out.push(quote);
                i += 2;
            }
            Some(&c) if c == quote => return Ok((out, i + 1)),
            Some(&c) => {
                out.push(c);
                i += 1;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Vars(Vec<(&'static str, &'static str)>, Option<Dates>);

    impl Scope for Vars {
        fn var(&self, name: &str) -> Option<String> {
            self.0
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
        fn dates(&self) -> Option<Dates> {
            self.1
        }
    }

    fn scope() -> Vars {
        let now: Timestamp = "2020-01-10T00:30:00Z".parse().unwrap();
        let commit: Timestamp = "2019-12-31T23:59:58Z".parse().unwrap();
        Vars(
            vec![
                ("branch", "my/branch"),
                ("sha", "860c190"),
                ("tag", ""),
                ("amp", "a&b"),
            ],
            Some(Dates { now, commit }),
        )
    }

    #[test]
    fn renders_expressions() {
        for (template, expected) in [
            ("plain", "plain"),
            ("{{branch}}", "my/branch"),
            ("{{ branch }}-{{sha}}", "my/branch-860c190"),
            ("{{{branch}}}", "my/branch"),
            ("{{this.branch}}/{{./sha}}", "my/branch/860c190"),
            ("a {{~ sha ~}} b", "a860c190b"),
            ("x{{! a comment }}y{{!-- {{branch}} --}}z", "xyz"),
            (r"\{{branch}}", "{{branch}}"),
            ("{{amp}}", "a&b"),
            ("{{date 'YYYYMMDD'}}", "20200110"),
            ("{{date \"YYYYMMDD\"}}", "20200110"),
            ("{{date 'YYYYMMDD-HHmmss' tz='Asia/Tokyo'}}", "20200110-093000"),
            ("{{commit_date 'YYYY-MM-DD HH:mm:ss'}}", "2019-12-31 23:59:58"),
            ("{{commit_date 'YYYY-MM-DD' tz='Asia/Tokyo'}}", "2020-01-01"),
            (
                "{{date 'dddd, MMMM Do YYYY, h:mm:ss a'}}",
                "Friday, January 10th 2020, 12:30:00 am",
            ),
            ("{{date 'YYYY}}MM'}}", "2020}}01"),
            // an unquoted format is a lookup; unknown, it leaves moment's default ISO format
            ("{{commit_date YYYY-MM-DD}}", "2019-12-31T23:59:58Z"),
            ("{{date YYYYMMDD tz='Asia/Tokyo'}}", "2020-01-10T09:30:00+09:00"),
        ] {
            let mut warnings = Vec::new();
            assert_eq!(
                render(template, &scope(), &mut warnings).unwrap(),
                expected,
                "{template}"
            );
            assert!(warnings.is_empty(), "{template}: {warnings:?}");
        }
    }

    #[test]
    fn unknown_names_render_empty_with_a_warning() {
        let mut warnings = Vec::new();
        assert_eq!(render("v{{nope}}", &scope(), &mut warnings).unwrap(), "v");
        assert_eq!(
            warnings,
            ["`{{nope}}` is not a known expression here and renders as an empty string"]
        );
    }

    #[test]
    fn errors_are_clear() {
        for (template, expected) in [
            ("{{branch", "`{{` at column 1 is never closed by `}}`"),
            ("a{{}}", "empty expression `{{}}` at column 2"),
            (
                "{{#if branch}}x{{/if}}",
                "`{{#if branch}}` is not supported: only `{{name}}` values and the `date` and `commit_date` helpers are",
            ),
            ("{{date 'YYYY}}", "`{{` at column 1 is never closed by `}}`"),
            (
                "{{date}}",
                "`{{date}}` needs a format, as in `{{date 'YYYYMMDD'}}`",
            ),
            (
                "{{date 12}}",
                "`{{date 12}}`: the format must be a quoted string, as in `{{date 'YYYYMMDD'}}`",
            ),
            (
                "{{date 'Y' zone='UTC'}}",
                "unknown `zone` attribute in `{{date 'Y' zone='UTC'}}`; only `tz` is allowed",
            ),
            (
                "{{date 'Y' tz='Mars/Olympus'}}",
                "unknown time zone `Mars/Olympus` in `{{date 'Y' tz='Mars/Olympus'}}`; expected an IANA name such as `UTC` or `Europe/Paris`",
            ),
            ("{{upper branch}}", "unknown helper `upper` in `{{upper branch}}`"),
        ] {
            let err = render(template, &scope(), &mut Vec::new()).unwrap_err();
            assert_eq!(err.to_string(), expected, "{template}");
        }
    }

    #[test]
    fn raw_statement_detection() {
        // metadata-action's own table
        for (pattern, expected) in [
            ("{{ raw }}.{{ version }}", false),
            ("{{ version }},{{raw }.", false),
            ("{{ raw }}", true),
            ("{{ raw}}", true),
            ("{{raw}}", true),
            ("v{{raw}}", false),
        ] {
            assert_eq!(Template::is_raw_statement(pattern), expected, "{pattern}");
        }
    }

    #[test]
    fn without_dates_the_helpers_are_unknown() {
        let vars = Vars(vec![], None);
        let err = render("{{date 'YYYY'}}", &vars, &mut Vec::new()).unwrap_err();
        assert_eq!(err.to_string(), "unknown helper `date` in `{{date 'YYYY'}}`");
    }
}
