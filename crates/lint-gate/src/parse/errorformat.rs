//! Text output matched line by line with Vim `errorformat` patterns, and the presets built on them.
//!
//! A pattern matches a whole line. Conversions: `%f` file, `%l` line, `%c` column, `%e` end line,
//! `%k` end column, `%v` virtual column (as a column), `%m` message, `%r` rest of the line
//! (message), `%t` type character (`e` error, `w` warning, `i`/`n` notice; presets add their own),
//! `%n` error number, `%p` a `^` pointer line (its length gives the column), `%s` and `%o` (read and
//! ignored), `%%` a percent sign. Regex pieces: `%.` any character, `%#` repeat (`*`), `%*[…]`,
//! `%[…]`, `%\s` and friends, `%^`, `%$`. Everything else is literal.
//!
//! A pattern may start with a kind: `%E` `%W` `%I` `%N` `%A` start a multi-line entry (of that level),
//! `%C` continues it, `%Z` ends it, `%G` is a general line; `%-` before a kind ignores what it
//! matched (`%-G…` drops noise lines), `%+` keeps the whole line as the message. A line no pattern
//! matches ends a pending multi-line entry and is counted (see [`super::ParseStats`]).
//!
//! Rule ids: Vim's `%n` is a number; the code written around it is kept, so `TS%n` gives `TS2322`
//! and `%t%n` gives `E501`. lint-gate adds `%i` (an extension, not in Vim): a rule identifier such
//! as mypy's `[arg-type]` or rubocop's `Style/StringLiterals`. Without either, the rule is the
//! source's name.

use std::borrow::Cow;
use std::io::BufRead;
use std::sync::Arc;

use ops_core::{Finding, Level};
use regex::Regex;

use super::input::Lines;
use super::{Diagnostic, ParseContext, ParseError, ParseStats, Sink};

/// Compiled errorformat patterns and how to read their type characters.
#[derive(Debug)]
pub struct Errorformat {
    name: String,
    patterns: Vec<Pattern>,
    /// Type characters (lowercase) and their levels, on top of e/w/i/n.
    types: Vec<(char, Level)>,
    /// Level of a type character in no table (`None`: `unknown-level`).
    other_type: Option<Level>,
    /// Level of an entry with no type and no `%E`/`%W`/… kind (`None`: `unknown-level`).
    default_level: Option<Level>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// No prefix: one line, one finding.
    Single,
    /// `%E`, `%W`, `%I`, `%N` (with a level) or `%A` (without).
    Start(Option<Level>),
    /// `%C`.
    Continue,
    /// `%Z`.
    End,
    /// `%G`.
    General,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    File,
    Line,
    Column,
    EndLine,
    EndColumn,
    VirtualColumn,
    Message,
    Type,
    Number,
    Pointer,
    Rule,
    Ignored,
}

#[derive(Debug)]
struct Pattern {
    kind: Kind,
    /// `%-`: drop what matched.
    ignore: bool,
    /// `%+`: the whole line is the message.
    whole: bool,
    regex: Regex,
    /// Capture group of each conversion, in order.
    fields: Vec<(Field, usize)>,
    /// Capture group of the code written around `%n`.
    code: Option<usize>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Literal(String),
    Regex(String),
    Conversion(Field),
    CodeOpen,
    CodeClose,
}

impl Errorformat {
    /// Compiles user patterns (the `errorformat` input): one pattern per entry.
    pub fn compile(name: &str, patterns: &[String]) -> Result<Self, String> {
        let patterns = patterns
            .iter()
            .filter(|p| !p.is_empty())
            .map(|p| compile_pattern(p))
            .collect::<Result<Vec<_>, _>>()?;
        if patterns.is_empty() {
            return Err("no errorformat pattern given".to_owned());
        }
        Ok(Self {
            name: name.to_owned(),
            patterns,
            types: Vec::new(),
            other_type: None,
            default_level: None,
        })
    }

    /// The preset name, or `errorformat` for user patterns.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn type_level(&self, c: char) -> Option<Level> {
        let c = c.to_ascii_lowercase();
        if let Some((_, level)) = self.types.iter().find(|(t, _)| *t == c) {
            return Some(*level);
        }
        match c {
            'e' => Some(Level::Error),
            'w' => Some(Level::Warning),
            'i' | 'n' => Some(Level::Notice),
            _ => self.other_type,
        }
    }

    /// Parses text lines.
    pub fn parse(
        &self,
        input: &mut dyn BufRead,
        ctx: &ParseContext,
        sink: &mut dyn Sink,
    ) -> Result<ParseStats, ParseError> {
        let mut stats = ParseStats::default();
        let mut lines = Lines::new(input);
        let mut pending: Option<Entry> = None;
        while let Some(line) = lines.next_line(ctx, self.name())? {
            let text = String::from_utf8_lossy(line.bytes);
            let text = strip_ansi(&text);
            let matched = self
                .patterns
                .iter()
                .find_map(|p| p.regex.captures(&text).map(|caps| (p, caps)));
            let Some((pattern, caps)) = matched else {
                if let Some(entry) = pending.take() {
                    self.emit(entry, ctx, sink, &mut stats);
                }
                if !text.trim().is_empty() {
                    stats.unmatched(line.number, line.bytes);
                }
                continue;
            };
            match pattern.kind {
                Kind::General if pattern.ignore => {}
                Kind::Single | Kind::General => {
                    if let Some(entry) = pending.take() {
                        self.emit(entry, ctx, sink, &mut stats);
                    }
                    let mut entry = Entry::default();
                    entry.merge(pattern, &caps, &text);
                    self.emit(entry, ctx, sink, &mut stats);
                }
                Kind::Start(level) => {
                    if let Some(entry) = pending.take() {
                        self.emit(entry, ctx, sink, &mut stats);
                    }
                    let mut entry = Entry {
                        kind_level: level,
                        ..Entry::default()
                    };
                    entry.merge(pattern, &caps, &text);
                    pending = Some(entry);
                }
                Kind::Continue | Kind::End => match pending.as_mut() {
                    Some(entry) => {
                        if !pattern.ignore {
                            entry.merge(pattern, &caps, &text);
                        }
                        if pattern.kind == Kind::End
                            && let Some(entry) = pending.take()
                        {
                            self.emit(entry, ctx, sink, &mut stats);
                        }
                    }
                    None if pattern.ignore => {}
                    None => stats.unmatched(line.number, line.bytes),
                },
            }
        }
        if let Some(entry) = pending.take() {
            self.emit(entry, ctx, sink, &mut stats);
        }
        Ok(stats)
    }

    fn emit(&self, entry: Entry, ctx: &ParseContext, sink: &mut dyn Sink, stats: &mut ParseStats) {
        if entry.file.is_none() && entry.message.trim().is_empty() {
            return;
        }
        let (level, unknown) = match entry.kind_level {
            Some(level) => (level, None),
            None => match entry.type_char {
                Some(c) => match self.type_level(c) {
                    Some(level) => (level, None),
                    None => (ctx.unknown_level, Some(c.to_string())),
                },
                None => match self.default_level {
                    Some(level) => (level, None),
                    None => (ctx.unknown_level, Some(String::new())),
                },
            },
        };
        let rule = entry.rule.or(entry.code).unwrap_or_else(|| ctx.source.clone());
        let message = entry.message.trim_end().to_owned();
        let mut finding = Finding::new(rule, level, message).with_source(ctx.source.clone());
        if let Some(file) = entry.file {
            let column = entry.column.or(entry.pointer_column);
            finding = finding.at(
                file,
                super::region(entry.line, column, entry.end_line, entry.end_column),
            );
        }
        let mut diagnostic = Diagnostic::new(finding);
        diagnostic.unknown_severity = unknown;
        stats.diagnostics += 1;
        sink.diagnostic(diagnostic);
    }
}

#[derive(Debug, Default)]
struct Entry {
    kind_level: Option<Level>,
    file: Option<String>,
    line: Option<u64>,
    column: Option<u64>,
    pointer_column: Option<u64>,
    end_line: Option<u64>,
    end_column: Option<u64>,
    message: String,
    type_char: Option<char>,
    code: Option<String>,
    rule: Option<String>,
}

impl Entry {
    fn merge(&mut self, pattern: &Pattern, caps: &regex::Captures<'_>, line: &str) {
        let get = |group: usize| caps.get(group).map(|m| m.as_str()).filter(|s| !s.is_empty());
        let number = |group: usize| get(group).and_then(|s| s.parse::<u64>().ok());
        for &(field, group) in &pattern.fields {
            match field {
                Field::File => {
                    if self.file.is_none() {
                        self.file = get(group).map(|s| s.trim().to_owned());
                    }
                }
                Field::Line => self.line = self.line.or_else(|| number(group)),
                Field::Column | Field::VirtualColumn => self.column = self.column.or_else(|| number(group)),
                Field::EndLine => self.end_line = self.end_line.or_else(|| number(group)),
                Field::EndColumn => self.end_column = self.end_column.or_else(|| number(group)),
                Field::Type => {
                    if self.type_char.is_none() {
                        self.type_char = get(group).and_then(|s| s.chars().next());
                    }
                }
                Field::Rule => {
                    if self.rule.is_none() {
                        self.rule = get(group).map(str::to_owned);
                    }
                }
                Field::Pointer => {
                    if self.pointer_column.is_none()
                        && let Some(m) = caps.get(group)
                    {
                        let width: u64 = m.as_str().chars().map(|c| if c == '\t' { 8 } else { 1 }).sum();
                        self.pointer_column = Some(width + 1);
                    }
                }
                Field::Message => {
                    if !pattern.whole
                        && let Some(text) = get(group)
                    {
                        self.push_message(text);
                    }
                }
                Field::Number | Field::Ignored => {}
            }
        }
        if pattern.whole {
            self.push_message(line);
        }
        if self.code.is_none()
            && let Some(group) = pattern.code
        {
            self.code = get(group).map(str::to_owned);
        }
    }

    fn push_message(&mut self, text: &str) {
        if !self.message.is_empty() {
            self.message.push('\n');
        }
        self.message.push_str(text);
    }
}

/// Removes ANSI colour sequences (`ESC [ … letter`), which tools print when they think they
/// talk to a terminal.
fn strip_ansi(text: &str) -> Cow<'_, str> {
    if !text.contains('\u{1b}') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            if chars.peek() == Some(&'[') {
                chars.next();
                for c in chars.by_ref() {
                    if c.is_ascii_alphabetic() {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    Cow::Owned(out)
}

fn compile_pattern(text: &str) -> Result<Pattern, String> {
    let fail = |what: String| format!("errorformat `{text}`: {what}");
    let mut rest = text;
    let mut kind = Kind::Single;
    let mut ignore = false;
    let mut whole = false;
    if let Some(after) = rest.strip_prefix('%') {
        let mut chars = after.chars();
        let mut next = chars.next();
        if matches!(next, Some('-' | '+')) {
            ignore = next == Some('-');
            whole = next == Some('+');
            next = chars.next();
        }
        let prefix = match next {
            Some('E') => Some(Kind::Start(Some(Level::Error))),
            Some('W') => Some(Kind::Start(Some(Level::Warning))),
            Some('I' | 'N') => Some(Kind::Start(Some(Level::Notice))),
            Some('A') => Some(Kind::Start(None)),
            Some('C') => Some(Kind::Continue),
            Some('Z') => Some(Kind::End),
            Some('G') => Some(Kind::General),
            Some(c @ ('O' | 'P' | 'Q' | 'D' | 'X' | '>')) => {
                return Err(fail(format!(
                    "`%{c}` (file and directory stacks) is not supported"
                )));
            }
            _ if ignore || whole => {
                return Err(fail(
                    "`%-` and `%+` must be followed by a kind (`E`, `W`, `I`, `N`, `A`, `C`, `Z`, `G`)"
                        .to_owned(),
                ));
            }
            _ => None,
        };
        if let Some(prefix) = prefix {
            kind = prefix;
            rest = chars.as_str();
        }
    }
    let tokens = code_groups(tokenize(rest).map_err(fail)?);
    let mut regex = String::from("^");
    let mut fields = Vec::new();
    let mut code = None;
    let mut group = 0usize;
    for token in tokens {
        match token {
            Token::Literal(s) => regex.push_str(&regex::escape(&s)),
            Token::Regex(s) => regex.push_str(&s),
            Token::CodeOpen => {
                group += 1;
                code = Some(group);
                regex.push('(');
            }
            Token::CodeClose => regex.push(')'),
            Token::Conversion(field) => {
                group += 1;
                fields.push((field, group));
                regex.push_str(match field {
                    Field::File => r"(.+?)",
                    Field::Line
                    | Field::Column
                    | Field::EndLine
                    | Field::EndColumn
                    | Field::VirtualColumn
                    | Field::Number => r"(\d+)",
                    Field::Message => r"(.*)",
                    Field::Type => r"([A-Za-z])",
                    Field::Pointer => r"([-\s.]*)",
                    Field::Rule => r"(\S+?)",
                    Field::Ignored => r"(.+?)",
                });
            }
        }
    }
    regex.push('$');
    let regex = Regex::new(&regex).map_err(|e| fail(format!("not a valid pattern ({e})")))?;
    Ok(Pattern {
        kind,
        ignore,
        whole,
        regex,
        fields,
        code,
    })
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut literal = String::new();
    let mut chars = text.chars().peekable();
    let flush = |literal: &mut String, tokens: &mut Vec<Token>| {
        if !literal.is_empty() {
            tokens.push(Token::Literal(std::mem::take(literal)));
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '%' => {
                let Some(conv) = chars.next() else {
                    return Err("ends with a lone `%`".to_owned());
                };
                let field = match conv {
                    'f' => Some(Field::File),
                    'l' => Some(Field::Line),
                    'c' => Some(Field::Column),
                    'e' => Some(Field::EndLine),
                    'k' => Some(Field::EndColumn),
                    'v' => Some(Field::VirtualColumn),
                    'm' | 'r' => Some(Field::Message),
                    't' => Some(Field::Type),
                    'n' => Some(Field::Number),
                    'p' => Some(Field::Pointer),
                    'i' => Some(Field::Rule),
                    's' | 'o' => Some(Field::Ignored),
                    _ => None,
                };
                if let Some(field) = field {
                    flush(&mut literal, &mut tokens);
                    tokens.push(Token::Conversion(field));
                    continue;
                }
                let piece = match conv {
                    '%' => {
                        literal.push('%');
                        continue;
                    }
                    '.' => ".".to_owned(),
                    '#' => "*".to_owned(),
                    '^' => "^".to_owned(),
                    '$' => "$".to_owned(),
                    '~' => "~".to_owned(),
                    '[' => format!("[{}", class_body(&mut chars)?),
                    '*' => match chars.next() {
                        Some('[') => format!("(?:[{})+", class_body(&mut chars)?),
                        _ => return Err("`%*` must be followed by `[…]`".to_owned()),
                    },
                    '\\' => match chars.next() {
                        Some(c @ ('s' | 'S' | 'd' | 'D' | 'w' | 'W')) => format!("\\{c}"),
                        Some(c) => regex::escape(&c.to_string()),
                        None => return Err("ends with `%\\`".to_owned()),
                    },
                    other => return Err(format!("unknown conversion `%{other}`")),
                };
                flush(&mut literal, &mut tokens);
                tokens.push(Token::Regex(piece));
            }
            '\\' => match chars.next() {
                Some(c) => literal.push(c),
                None => literal.push('\\'),
            },
            c => literal.push(c),
        }
    }
    flush(&mut literal, &mut tokens);
    Ok(tokens)
}

/// The rest of a `[…]` class after its `[`, closing bracket included. A `]` right after the `[` (or
/// after `[^`) is a member, as in POSIX.
fn class_body(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> Result<String, String> {
    let mut body = String::new();
    if chars.peek() == Some(&'^') {
        body.push('^');
        chars.next();
    }
    if chars.peek() == Some(&']') {
        body.push_str("\\]");
        chars.next();
    }
    for c in chars.by_ref() {
        match c {
            ']' => {
                body.push(']');
                return Ok(body);
            }
            '[' => body.push_str("\\["),
            c => body.push(c),
        }
    }
    Err("a `[` class is not closed".to_owned())
}

/// Wraps the code written around the first `%n` (letters right before it, and a `%t` right before
/// it) in its own group: `TS%n` → `(TS(\d+))`, `%t%n` → `(([A-Za-z])(\d+))`.
fn code_groups(mut tokens: Vec<Token>) -> Vec<Token> {
    let Some(n) = tokens.iter().position(|t| *t == Token::Conversion(Field::Number)) else {
        return tokens;
    };
    let mut start = n;
    if start > 0 && tokens[start - 1] == Token::Conversion(Field::Type) {
        start -= 1;
    }
    if start > 0
        && let Token::Literal(s) = &tokens[start - 1]
    {
        let letters = s.chars().rev().take_while(char::is_ascii_alphabetic).count();
        if letters > 0 {
            let split = s.len() - letters;
            let (head, tail) = (s[..split].to_owned(), s[split..].to_owned());
            tokens[start - 1] = Token::Literal(tail);
            if !head.is_empty() {
                tokens.insert(start - 1, Token::Literal(head));
                start += 1;
            }
            start -= 1;
        }
    }
    // `%n` moved right by one if a literal was split in front of it
    let end = tokens
        .iter()
        .skip(start)
        .position(|t| *t == Token::Conversion(Field::Number))
        .map_or(n, |i| i + start);
    tokens.insert(end + 1, Token::CodeClose);
    tokens.insert(start, Token::CodeOpen);
    tokens
}

/// Patterns, type characters, the level of other type characters, the level without a type.
type PresetParts = (Vec<String>, Vec<(char, Level)>, Option<Level>, Option<Level>);

/// Names of the presets, for `format`.
pub const PRESET_NAMES: &[&str] = &[
    "plain",
    "gcc",
    "shellcheck",
    "tsc",
    "mypy",
    "flake8",
    "ruff",
    "pylint",
    "hadolint",
    "rubocop",
    "go-vet",
    "staticcheck",
    "yamllint",
    "actionlint",
    "eslint-compact",
    "markdownlint",
    "cargo-short",
];

/// A preset by name (`govet` and `go vet` are accepted for `go-vet`, `clang` for `gcc`).
pub fn preset(name: &str) -> Option<Arc<Errorformat>> {
    let name = match name {
        "govet" | "go vet" | "vet" => "go-vet",
        "clang" => "gcc",
        "clippy-short" | "rustc-short" => "cargo-short",
        "markdownlint-cli" | "markdownlint-cli2" => "markdownlint",
        other => other,
    };
    let severities = |prefix: &str, suffix: &str| -> Vec<String> {
        ["%trror", "%tarning", "%tote", "%tnfo"]
            .iter()
            .map(|t| format!("{prefix}{t}{suffix}"))
            .collect()
    };
    let (patterns, types, other_type, default_level): PresetParts = match name {
        // `file:line:col: message` and `file:line: message`, with an optional severity word
        "plain" => {
            // shellcheck's gcc format, read under any name: the rule is `SC…`, not part of the message
            let mut p = severities("%f:%l:%c: ", ": %m [SC%n]");
            p.extend(severities("%f:%l:%c: ", ": %m"));
            p.extend(severities("%f:%l: ", ": %m"));
            p.extend(["%f:%l:%c: %m".to_owned(), "%f:%l: %m".to_owned()]);
            (p, vec![], None, None)
        }
        // gcc, clang and anything that mimics them
        "gcc" => {
            let mut p = vec!["%f:%l:%c: fatal %trror: %m".to_owned()];
            // `shellcheck -f gcc`
            p.extend(severities("%f:%l:%c: ", ": %m [SC%n]"));
            p.extend(severities("%f:%l:%c: ", ": %m"));
            p.extend(severities("%f:%l: ", ": %m"));
            p.push("%-G%f: In function %.%#".to_owned());
            p.push("%-G%.%#%\\d%# warning%.%# generated.".to_owned());
            (p, vec![], None, None)
        }
        // shellcheck -f gcc: `x.sh:3:6: warning: Double quote … [SC2086]` (style and info print as note)
        "shellcheck" => {
            let mut p = severities("%f:%l:%c: ", ": %m [SC%n]");
            p.extend(severities("%f:%l:%c: ", ": %m"));
            (p, vec![], None, None)
        }
        // tsc --pretty false: `src/a.ts(3,7): error TS2322: …`, continued by indented lines;
        // pretty mode: `src/a.ts:3:7 - error TS2322: …` and a code frame
        "tsc" => (
            vec![
                "%E%f(%l,%c): error TS%n: %m".to_owned(),
                "%W%f(%l,%c): warning TS%n: %m".to_owned(),
                "%E%f:%l:%c - error TS%n: %m".to_owned(),
                "%W%f:%l:%c - warning TS%n: %m".to_owned(),
                "%E%f(%l,%c): error: %m".to_owned(),
                "%Eerror TS%n: %m".to_owned(),
                "%-GFound %\\d%# error%.%#".to_owned(),
                "%-G%\\s%#".to_owned(),
                "%-G%\\d%\\d%# %.%#".to_owned(),
                "%-G%\\s%#~%#".to_owned(),
                "%-G%\\s%#%\\d%#%\\s%#".to_owned(),
                "%C  %m".to_owned(),
            ],
            vec![],
            None,
            None,
        ),
        // mypy: `a.py:3: error: Incompatible types …  [assignment]` (columns with
        // --show-column-numbers)
        "mypy" => {
            let mut p = severities("%f:%l:%c: ", ": %m  [%i]");
            p.extend(severities("%f:%l: ", ": %m  [%i]"));
            p.extend(severities("%f:%l:%c: ", ": %m"));
            p.extend(severities("%f:%l: ", ": %m"));
            p.push("%-GFound %\\d%# error%.%#".to_owned());
            p.push("%-GSuccess: %.%#".to_owned());
            (p, vec![], None, None)
        }
        // flake8: `a.py:1:1: E501 line too long (90 > 79 characters)`; E and F are errors, W
        // and C warnings, other plugin prefixes warnings
        "flake8" => (
            vec!["%f:%l:%c: %t%n %m".to_owned(), "%f:%l:%c: %i %m".to_owned()],
            vec![('f', Level::Error), ('c', Level::Warning)],
            Some(Level::Warning),
            Some(Level::Warning),
        ),
        // ruff check --output-format concise: `a.py:1:8: F401 [*] `os` imported but unused`;
        // ruff fails on every finding
        "ruff" => (
            vec![
                "%f:%l:%c: %i [*] %m".to_owned(),
                "%f:%l:%c: %i %m".to_owned(),
                "%-GFound %\\d%# error%.%#".to_owned(),
                "%-G[*] %\\d%# fixable%.%#".to_owned(),
                "%-GNo fixes available%.%#".to_owned(),
                "%-GAll checks passed!".to_owned(),
            ],
            vec![],
            None,
            Some(Level::Error),
        ),
        // pylint --output-format=parseable: `a.py:1: [C0114(missing-module-docstring), ] …`
        "pylint" => (
            vec![
                "%f:%l: [%t%n(%i), %.%#] %m".to_owned(),
                "%-G*************%.%#".to_owned(),
                "%-G%\\s%#-%#".to_owned(),
                "%-GYour code has been rated%.%#".to_owned(),
            ],
            vec![('c', Level::Notice), ('r', Level::Notice), ('f', Level::Error)],
            None,
            None,
        ),
        // hadolint's default output: `Dockerfile:3 DL3008 warning: Pin versions …`
        "hadolint" => (
            vec![
                "%f:%l %i %trror: %m".to_owned(),
                "%f:%l %i %tarning: %m".to_owned(),
                "%f:%l %i %tnfo: %m".to_owned(),
                "%f:%l %i %ttyle: %m".to_owned(),
                "%f %i %trror: %m".to_owned(),
            ],
            vec![('s', Level::Notice)],
            None,
            None,
        ),
        // rubocop --format emacs: `/w/a.rb:3:5: C: [Correctable] Style/StringLiterals: …`
        "rubocop" => (
            vec![
                "%f:%l:%c: %t: [Correctable] %i: %m".to_owned(),
                "%f:%l:%c: %t: [Corrected] %i: %m".to_owned(),
                "%f:%l:%c: %t: [Todo] %i: %m".to_owned(),
                "%f:%l:%c: %t: %i: %m".to_owned(),
                // without cop names (`DisplayCopNames: false`)
                "%f:%l:%c: %t: [Correctable] %m".to_owned(),
                "%f:%l:%c: %t: %m".to_owned(),
            ],
            vec![('c', Level::Notice), ('r', Level::Notice), ('f', Level::Error)],
            None,
            None,
        ),
        // go vet (stderr: run it as `go vet ./... 2>&1`): `./main.go:10:2: …`, `# pkg` headers
        "go-vet" => (
            vec![
                "%f:%l:%c: %m".to_owned(),
                "%f:%l: %m".to_owned(),
                "%-G#%.%#".to_owned(),
                "%-Gvet: %.%#".to_owned(),
            ],
            vec![],
            None,
            Some(Level::Error),
        ),
        // staticcheck / revive / golint: `main.go:5:2: message (SA4006)`
        "staticcheck" => (
            vec!["%f:%l:%c: %m (%i)".to_owned(), "%f:%l:%c: %m".to_owned()],
            vec![],
            None,
            Some(Level::Error),
        ),
        // yamllint -f parsable: `a.yaml:1:1: [warning] missing document start "---" (document-start)`
        "yamllint" => (
            vec![
                "%f:%l:%c: [%trror] %m (%i)".to_owned(),
                "%f:%l:%c: [%tarning] %m (%i)".to_owned(),
                "%f:%l:%c: [%trror] %m".to_owned(),
                "%f:%l:%c: [%tarning] %m".to_owned(),
            ],
            vec![],
            None,
            None,
        ),
        // actionlint: `.github/workflows/ci.yml:3:5: message [rule]` (fails on every finding)
        "actionlint" => (
            vec!["%f:%l:%c: %m [%i]".to_owned(), "%f:%l:%c: %m".to_owned()],
            vec![],
            None,
            Some(Level::Error),
        ),
        // eslint -f compact (ESLint 8): `/w/a.js: line 1, col 7, Error - msg (rule)`
        "eslint-compact" => (
            vec![
                "%f: line %l, col %c, %trror - %m (%i)".to_owned(),
                "%f: line %l, col %c, %tarning - %m (%i)".to_owned(),
                "%f: line %l, col %c, %trror - %m".to_owned(),
                "%f: line %l, col %c, %tarning - %m".to_owned(),
                "%-G%\\d%# problem%.%#".to_owned(),
            ],
            vec![],
            None,
            None,
        ),
        // markdownlint-cli: `README.md:3 MD022/blanks-around-headings Headings should be …`
        "markdownlint" => (
            vec![
                "%f:%l:%c %i %m".to_owned(),
                "%f:%l %i %m".to_owned(),
                "%f:%l:%c error %i %m".to_owned(),
                "%f:%l error %i %m".to_owned(),
            ],
            vec![],
            None,
            Some(Level::Warning),
        ),
        // cargo check/clippy --message-format=short: `src/main.rs:2:9: warning: unused …`
        "cargo-short" => {
            let mut p = vec![
                "%f:%l:%c: %trror[%i]: %m".to_owned(),
                "%f:%l:%c: %tarning[%i]: %m".to_owned(),
            ];
            p.extend(severities("%f:%l:%c: ", ": %m"));
            p.push("%-G%\\s%#Compiling %.%#".to_owned());
            p.push("%-G%\\s%#Checking %.%#".to_owned());
            p.push("%-G%\\s%#Finished %.%#".to_owned());
            p.push("%-Gwarning: `%.%#` (%.%#) generated %.%#".to_owned());
            p.push("%-Gerror: could not compile %.%#".to_owned());
            p.push("%-Gerror: aborting due to %.%#".to_owned());
            p.push("%-Gwarning: %\\d%# warning%.%# emitted".to_owned());
            (p, vec![], None, None)
        }
        _ => return None,
    };
    let compiled = patterns
        .iter()
        .map(|p| compile_pattern(p))
        .collect::<Result<Vec<_>, _>>()
        .ok()?;
    Some(Arc::new(Errorformat {
        name: name.to_owned(),
        patterns: compiled,
        types,
        other_type,
        default_level,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ops_core::Region;

    fn run(efm: &Errorformat, text: &str) -> (Vec<Diagnostic>, ParseStats) {
        let mut sink = Vec::new();
        let stats = efm
            .parse(&mut text.as_bytes(), &ParseContext::new("lint"), &mut sink)
            .unwrap();
        (sink, stats)
    }

    fn summary(d: &[Diagnostic]) -> Vec<String> {
        d.iter()
            .map(|d| {
                let f = &d.finding;
                let r = f.region.unwrap_or_default();
                format!(
                    "{}|{}|{}|{}|{}|{}",
                    f.path.as_deref().unwrap_or("-"),
                    r.start_line,
                    r.start_column.unwrap_or(0),
                    f.level,
                    f.rule,
                    f.message
                )
            })
            .collect()
    }

    #[test]
    fn every_preset_compiles() {
        for name in PRESET_NAMES {
            let efm = preset(name).unwrap_or_else(|| panic!("preset {name} does not compile"));
            assert_eq!(efm.name(), *name);
            assert!(!efm.patterns.is_empty());
        }
        assert!(preset("nope").is_none());
        assert_eq!(preset("govet").unwrap().name(), "go-vet");
    }

    #[test]
    fn presets_read_their_tools() {
        let cases: &[(&str, &str, &[&str])] = &[
            (
                "tsc",
                "src/a.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'.\n\
                 src/b.ts(1,1): error TS2345: Argument of type 'x' is not assignable.\n  Type 'x' is missing 'y'.\n\
                 Found 2 errors in 2 files.\n",
                &[
                    "src/a.ts|3|7|error|TS2322|Type 'string' is not assignable to type 'number'.",
                    "src/b.ts|1|1|error|TS2345|Argument of type 'x' is not assignable.\nType 'x' is missing 'y'.",
                ],
            ),
            (
                "mypy",
                "a.py:3: error: Incompatible types in assignment  [assignment]\na.py:4:5: note: Revealed type\nFound 1 error in 1 file (checked 1 source file)\n",
                &[
                    "a.py|3|0|error|assignment|Incompatible types in assignment",
                    "a.py|4|5|notice|lint|Revealed type",
                ],
            ),
            (
                "flake8",
                "./a.py:1:80: E501 line too long (90 > 79 characters)\na.py:2:1: F401 'os' imported but unused\na.py:3:1: ANN001 Missing type\n",
                &[
                    "./a.py|1|80|error|E501|line too long (90 > 79 characters)",
                    "a.py|2|1|error|F401|'os' imported but unused",
                    "a.py|3|1|warning|ANN001|Missing type",
                ],
            ),
            (
                "shellcheck",
                "x.sh:3:6: warning: Double quote to prevent globbing and word splitting. [SC2086]\nx.sh:1:1: note: style thing [SC2148]\n",
                &[
                    "x.sh|3|6|warning|SC2086|Double quote to prevent globbing and word splitting.",
                    "x.sh|1|1|notice|SC2148|style thing",
                ],
            ),
            (
                "hadolint",
                "Dockerfile:3 DL3008 warning: Pin versions in apt get install.\nDockerfile:5 SC2086 info: Double quote\nDockerfile:1 DL3007 style: Using latest\n",
                &[
                    "Dockerfile|3|0|warning|DL3008|Pin versions in apt get install.",
                    "Dockerfile|5|0|notice|SC2086|Double quote",
                    "Dockerfile|1|0|notice|DL3007|Using latest",
                ],
            ),
            (
                "rubocop",
                "/w/a.rb:3:5: C: [Correctable] Style/StringLiterals: Prefer single-quoted strings.\n/w/a.rb:9:1: W: Lint/UselessAssignment: Useless assignment.\n/w/a.rb:1:1: C: [Correctable] No cop name here.\n",
                &[
                    "/w/a.rb|3|5|notice|Style/StringLiterals|Prefer single-quoted strings.",
                    "/w/a.rb|9|1|warning|Lint/UselessAssignment|Useless assignment.",
                    "/w/a.rb|1|1|notice|lint|No cop name here.",
                ],
            ),
            (
                "go-vet",
                "# example.com/m\n./main.go:10:2: fmt.Printf format %d has arg x of wrong type string\n",
                &["./main.go|10|2|error|lint|fmt.Printf format %d has arg x of wrong type string"],
            ),
            (
                "yamllint",
                "a.yaml:1:1: [warning] missing document start \"---\" (document-start)\n",
                &["a.yaml|1|1|warning|document-start|missing document start \"---\""],
            ),
            (
                "pylint",
                "a.py:1: [C0114(missing-module-docstring), ] Missing module docstring\n************* Module a\n",
                &["a.py|1|0|notice|missing-module-docstring|Missing module docstring"],
            ),
            // shellcheck -f gcc read as `gcc` or `plain` (a report named otherwise): the rule is
            // `SC…`, not `[SC…]` left in the message
            (
                "gcc",
                "x.sh:3:6: warning: Double quote to prevent globbing. [SC2086]\nx.c:1:2: error: boom\n",
                &[
                    "x.sh|3|6|warning|SC2086|Double quote to prevent globbing.",
                    "x.c|1|2|error|lint|boom",
                ],
            ),
            (
                "plain",
                "x.sh:4:12: note: Use ./*glob* or -- *glob*. [SC2035]\n",
                &["x.sh|4|12|notice|SC2035|Use ./*glob* or -- *glob*."],
            ),
            (
                "plain",
                "src/x.c:4:2: error: boom\nsrc/y.c:9: something odd\n",
                &[
                    "src/x.c|4|2|error|lint|boom",
                    "src/y.c|9|0|error|lint|something odd",
                ],
            ),
            (
                "cargo-short",
                "    Checking x v0.1.0\nsrc/main.rs:2:9: warning: unused variable: `x`\nsrc/main.rs:3:5: error[E0308]: mismatched types\nwarning: `x` (bin \"x\") generated 1 warning\n",
                &[
                    "src/main.rs|2|9|warning|lint|unused variable: `x`",
                    "src/main.rs|3|5|error|E0308|mismatched types",
                ],
            ),
        ];
        for (name, text, want) in cases {
            let (d, stats) = run(&preset(name).unwrap(), text);
            assert_eq!(summary(&d), *want, "preset {name}");
            assert_eq!(
                stats.unmatched_lines, 0,
                "preset {name}: {:?}",
                stats.first_unmatched
            );
        }
    }

    #[test]
    fn multi_line_entries_and_pointers() {
        let efm = Errorformat::compile(
            "errorformat",
            &[
                "%E%f:%l: error: %m".to_owned(),
                "%-C%p^".to_owned(),
                "%C    %m".to_owned(),
                "%Z--".to_owned(),
                "%-Gnoise%.%#".to_owned(),
            ],
        )
        .unwrap();
        let (d, stats) = run(
            &efm,
            "a.c:3: error: first\n    more text\n   ^\n--\nnoise here\nstray line\nb.c:9: error: second\n",
        );
        assert_eq!(
            summary(&d),
            vec!["a.c|3|0|error|lint|first\nmore text", "b.c|9|0|error|lint|second"]
        );
        assert_eq!(stats.unmatched_lines, 1);
        assert_eq!(stats.first_unmatched, Some((6, "stray line".to_owned())));
        let efm =
            Errorformat::compile("errorformat", &["%A%f:%l: %m".to_owned(), "%Z%p^".to_owned()]).unwrap();
        let (d, _) = run(&efm, "a.c:3: bad\n\t  ^\n");
        assert_eq!(d[0].finding.region, Some(Region::point(3, 11)));
        assert_eq!(
            d[0].unknown_severity.as_deref(),
            Some(""),
            "no type: unknown-level"
        );
    }

    #[test]
    fn regex_pieces_and_literals() {
        let efm = Errorformat::compile(
            "errorformat",
            &[
                "%f|%l| %*[a-z]%.%#: [x.y] 100%% %m".to_owned(),
                "%+GWARN %.%#".to_owned(),
            ],
        )
        .unwrap();
        let (d, _) = run(&efm, "a.py|7| abc!!: [x.y] 100% done\nWARN whole line\n");
        assert_eq!(
            summary(&d),
            vec!["a.py|7|0|error|lint|done", "-|0|0|error|lint|WARN whole line"]
        );
    }

    #[test]
    fn ansi_colours_are_ignored() {
        let (d, _) = run(
            &preset("plain").unwrap(),
            "\u{1b}[1msrc/a.rs\u{1b}[0m:1:2: \u{1b}[31mwarning\u{1b}[0m: x\n",
        );
        assert_eq!(summary(&d), vec!["src/a.rs|1|2|warning|lint|x"]);
    }

    #[test]
    fn bad_patterns_are_explained() {
        for (pattern, want) in [
            ("%f:%l:%q", "unknown conversion `%q`"),
            ("%f:%l:%", "lone `%`"),
            ("%Dmake: %f", "`%D` (file and directory stacks) is not supported"),
            ("%-f", "must be followed by a kind"),
            ("%f %[abc", "class is not closed"),
            ("%*x", "`%*` must be followed by `[…]`"),
        ] {
            let err = Errorformat::compile("e", &[pattern.to_owned()]).unwrap_err();
            assert!(err.contains(want), "{pattern}: {err}");
            assert!(err.starts_with(&format!("errorformat `{pattern}`")), "{err}");
        }
        assert!(Errorformat::compile("e", &[]).is_err());
    }

    #[test]
    fn code_groups_wrap_letters_and_type() {
        let tokens = code_groups(tokenize("x [SC%n]").unwrap());
        assert_eq!(
            tokens,
            vec![
                Token::Literal("x [".into()),
                Token::CodeOpen,
                Token::Literal("SC".into()),
                Token::Conversion(Field::Number),
                Token::CodeClose,
                Token::Literal("]".into()),
            ]
        );
        let tokens = code_groups(tokenize("%t%n %m").unwrap());
        assert_eq!(tokens[0], Token::CodeOpen);
        assert_eq!(tokens[3], Token::CodeClose);
    }
}
