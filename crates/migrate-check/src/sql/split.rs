//! Splits SQL text into statements the way the PostgreSQL server and psql do, one line at a time.
//!
//! The splitter never holds more than the statement it is building, so a 50 MB file costs the memory
//! of its largest statement. It understands what can hide a `;`: quoted strings (including `E''`
//! escapes), quoted identifiers, dollar-quoted bodies, nested block comments, line comments,
//! parentheses, and SQL-standard function bodies (`BEGIN ATOMIC … END`), which psql also keeps whole.
//!
//! Two text-level conveniences run before scanning, both keeping every byte offset unchanged:
//! `${placeholder}`s (Flyway, goose `ENVSUB`) become identifiers of the same length, and psql
//! meta-commands on a line of their own (`\restrict`, `\connect`; pg_dump and dbmate emit them) become
//! blanks.

use std::io::BufRead;

/// Text that cannot be read as SQL, and where. It travels inside the `io::Error` a split yields, so
/// every reader of segments (lint, counts, trace) reports it as bad input naming the line
/// ([`crate::error::Error::io`]).
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct BadText {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (UTF-16 code units), when known.
    pub column: Option<u32>,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

impl BadText {
    /// A line that is not UTF-8.
    pub fn not_utf8(line: u32) -> Self {
        Self {
            line,
            column: None,
            message: "is not valid UTF-8".to_owned(),
            hint: "save the migration as UTF-8 (e.g. `iconv -f latin1 -t utf-8`); PostgreSQL reads it in the client encoding".to_owned(),
        }
    }

    /// As an `io::Error` of kind `InvalidData`.
    pub fn into_io(self) -> std::io::Error {
        std::io::Error::new(std::io::ErrorKind::InvalidData, self)
    }
}

/// The [`BadText`] an `io::Error` carries, if any.
pub fn bad_text(error: &std::io::Error) -> Option<&BadText> {
    error.get_ref().and_then(|e| e.downcast_ref::<BadText>())
}

/// Refuses a statement that nests too deeply to parse (see [`super::depth`]).
pub fn check_depth(segment: Segment) -> std::io::Result<Segment> {
    match super::depth::check(&segment.text) {
        Ok(()) => Ok(segment),
        Err(too_deep) => {
            let (line, column) = segment.position(too_deep.at);
            Err(BadText {
                line,
                column: Some(column),
                message: format!(
                    "the statement nests deeper than migrate-check can parse (over {} levels of parentheses, `CASE`, operators or `UNION`s)",
                    super::depth::MAX_NESTING
                ),
                hint: "split the statement or its expression into smaller ones".to_owned(),
            }
            .into_io())
        }
    }
}

/// One piece of a script: a statement with the comments and blanks before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The text, from just after the previous statement's `;` through this statement's `;`.
    pub text: String,
    /// Byte offset of `text` in the script.
    pub offset: usize,
    /// 1-based line of the first byte of `text`.
    pub line: u32,
    /// 1-based column (UTF-16 code units) of the first byte of `text` on that line.
    pub column: u32,
    /// Whether the statement ended with `;` (the last one in a file may not).
    pub terminated: bool,
}

impl Segment {
    /// The 1-based line and column (UTF-16 code units) of a byte offset inside `text`.
    pub fn position(&self, at: usize) -> (u32, u32) {
        let at = floor_char_boundary(&self.text, at.min(self.text.len()));
        let before = &self.text[..at];
        match before.rfind('\n') {
            None => (self.line, self.column + utf16_len(before)),
            Some(nl) => {
                let lines = before.bytes().filter(|&b| b == b'\n').count();
                (
                    self.line + u32::try_from(lines).unwrap_or(u32::MAX),
                    1 + utf16_len(&before[nl + 1..]),
                )
            }
        }
    }

    /// Whether the segment holds only blanks and comments.
    pub fn is_trivia(&self) -> bool {
        !has_code(&self.text)
    }
}

fn floor_char_boundary(text: &str, mut at: usize) -> usize {
    while at > 0 && !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Length in UTF-16 code units, what GitHub and SARIF (`columnKind: utf16CodeUnits`) count.
pub fn utf16_len(text: &str) -> u32 {
    u32::try_from(text.chars().map(char::len_utf16).sum::<usize>()).unwrap_or(u32::MAX)
}

/// Lexical state carried from one line to the next.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
enum State {
    #[default]
    Code,
    BlockComment(u32),
    Quote {
        escapes: bool,
    },
    Ident,
    Dollar(String),
}

/// Tracks `CREATE [OR REPLACE] FUNCTION|PROCEDURE … BEGIN ATOMIC … END` the way psql does: inside such a
/// statement, `BEGIN` and `CASE` open and `END` closes, and `;` only ends the statement at depth 0.
#[derive(Debug, Clone, Default)]
struct Words {
    first: Vec<u8>,
    count: usize,
    begin_depth: u32,
}

impl Words {
    fn word(&mut self, word: &str, paren_depth: u32) {
        let lower = word.to_ascii_lowercase();
        if self.first.len() < 4 {
            self.first.push(lower.as_bytes().first().copied().unwrap_or(b' '));
        }
        self.count += 1;
        let routine = self.first.first() == Some(&b'c')
            && match self.first.get(1) {
                Some(b'f' | b'p') => true,
                Some(b'o') => {
                    self.first.get(2) == Some(&b'r') && matches!(self.first.get(3), Some(b'f' | b'p'))
                }
                _ => false,
            };
        if !routine || paren_depth > 0 {
            return;
        }
        match lower.as_str() {
            "begin" => self.begin_depth += 1,
            "case" if self.begin_depth > 0 => self.begin_depth += 1,
            "end" => self.begin_depth = self.begin_depth.saturating_sub(1),
            _ => {}
        }
    }
}

/// Options of a split.
#[derive(Debug, Clone, Copy, Default)]
pub struct SplitOptions {
    /// Mask `${name}` placeholders (same length, identifier characters).
    pub placeholders: bool,
}

/// An iterator of [`Segment`]s over a reader, one line at a time.
#[derive(Debug)]
pub struct Splitter<R> {
    reader: R,
    options: SplitOptions,
    state: State,
    paren: u32,
    words: Words,
    current: String,
    current_offset: usize,
    current_line: u32,
    current_column: u32,
    current_code: bool,
    /// Offset and line of the next byte to read.
    offset: usize,
    line: u32,
    pending: Option<String>,
    pending_at: usize,
    done: bool,
    line_buf: String,
}

impl<R: BufRead> Splitter<R> {
    /// A splitter over `reader`.
    pub fn new(reader: R, options: SplitOptions) -> Self {
        Self {
            reader,
            options,
            state: State::Code,
            paren: 0,
            words: Words::default(),
            current: String::new(),
            current_offset: 0,
            current_line: 1,
            current_column: 1,
            current_code: false,
            offset: 0,
            line: 1,
            pending: None,
            pending_at: 0,
            done: false,
            line_buf: String::new(),
        }
    }

    /// Starts the split at a later line (for a section of a file): offsets and lines count from here.
    pub fn starting_at(mut self, offset: usize, line: u32) -> Self {
        self.offset = offset;
        self.line = line;
        self.current_offset = offset;
        self.current_line = line;
        self
    }

    fn take_segment(&mut self, terminated: bool) -> Segment {
        let text = std::mem::take(&mut self.current);
        let segment = Segment {
            offset: self.current_offset,
            line: self.current_line,
            column: self.current_column,
            terminated,
            text,
        };
        self.current_code = false;
        self.paren = 0;
        self.words = Words::default();
        segment
    }

    /// Scans `line` (which starts at `self.offset`), appending to the current statement, and returns
    /// the byte index just after a top-level `;` if there is one.
    fn scan(&mut self, line: &str, from: usize) -> Option<usize> {
        let bytes = line.as_bytes();
        let mut i = from;
        while i < bytes.len() {
            match &mut self.state {
                State::BlockComment(depth) => {
                    if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        *depth -= 1;
                        i += 2;
                        if *depth == 0 {
                            self.state = State::Code;
                        }
                    } else if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        *depth += 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                State::Quote { escapes } => {
                    if *escapes && bytes[i] == b'\\' {
                        i += 2;
                    } else if bytes[i] == b'\'' {
                        if bytes.get(i + 1) == Some(&b'\'') {
                            i += 2;
                        } else {
                            self.state = State::Code;
                            i += 1;
                        }
                    } else {
                        i += 1;
                    }
                }
                State::Ident => {
                    if bytes[i] == b'"' {
                        if bytes.get(i + 1) == Some(&b'"') {
                            i += 2;
                        } else {
                            self.state = State::Code;
                            i += 1;
                        }
                    } else {
                        i += 1;
                    }
                }
                State::Dollar(tag) => match line[i..].find(tag.as_str()) {
                    Some(at) => {
                        i += at + tag.len();
                        self.state = State::Code;
                    }
                    None => i = bytes.len(),
                },
                State::Code => {
                    let b = bytes[i];
                    match b {
                        b'-' if bytes.get(i + 1) == Some(&b'-') => return None,
                        b'/' if bytes.get(i + 1) == Some(&b'*') => {
                            self.state = State::BlockComment(1);
                            i += 2;
                        }
                        b'\'' => {
                            let escapes = i > 0
                                && matches!(bytes[i - 1], b'e' | b'E')
                                && (i < 2 || !is_ident_byte(bytes[i - 2]));
                            self.state = State::Quote { escapes };
                            self.current_code = true;
                            i += 1;
                        }
                        b'"' => {
                            self.state = State::Ident;
                            self.current_code = true;
                            i += 1;
                        }
                        b'$' => {
                            self.current_code = true;
                            let follows_ident = i > 0 && is_ident_byte(bytes[i - 1]);
                            match (!follows_ident).then(|| dollar_tag(&line[i..])).flatten() {
                                Some(tag) => {
                                    i += tag.len();
                                    self.state = State::Dollar(tag);
                                }
                                None => i += 1,
                            }
                        }
                        b'(' => {
                            self.paren += 1;
                            self.current_code = true;
                            i += 1;
                        }
                        b')' => {
                            self.paren = self.paren.saturating_sub(1);
                            self.current_code = true;
                            i += 1;
                        }
                        b';' if self.paren == 0 && self.words.begin_depth == 0 => return Some(i + 1),
                        _ if is_ident_start(b) => {
                            let start = i;
                            while i < bytes.len() && is_ident_byte(bytes[i]) {
                                i += 1;
                            }
                            self.current_code = true;
                            self.words.word(&line[start..i], self.paren);
                        }
                        _ => {
                            if !b.is_ascii_whitespace() {
                                self.current_code = true;
                            }
                            i += 1;
                        }
                    }
                }
            }
        }
        None
    }

    fn next_line(&mut self) -> std::io::Result<Option<(String, usize)>> {
        if let Some(rest) = self.pending.take() {
            return Ok(Some((rest, self.pending_at)));
        }
        self.line_buf.clear();
        let read = match self.reader.read_line(&mut self.line_buf) {
            Ok(read) => read,
            Err(error) if error.kind() == std::io::ErrorKind::InvalidData => {
                return Err(BadText::not_utf8(self.line).into_io());
            }
            Err(error) => return Err(error),
        };
        if read == 0 {
            return Ok(None);
        }
        let mut line = std::mem::take(&mut self.line_buf);
        if self.options.placeholders && line.contains("${") {
            line = mask_placeholders(&line);
        }
        if self.state == State::Code && line.trim_start().starts_with('\\') && self.current_is_blank() {
            line = blank_out(&line);
        }
        Ok(Some((line, 0)))
    }

    fn current_is_blank(&self) -> bool {
        !self.current_code
    }
}

impl<R: BufRead> Iterator for Splitter<R> {
    type Item = std::io::Result<Segment>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        loop {
            let (line, from) = match self.next_line() {
                Ok(Some(pair)) => pair,
                Ok(None) => {
                    self.done = true;
                    if self.current.is_empty() {
                        return None;
                    }
                    return Some(Ok(self.take_segment(false)));
                }
                Err(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
            };
            if self.current.is_empty() {
                self.current_offset = self.offset;
                self.current_line = self.line;
                self.current_column = 1 + utf16_len(&line[..from]);
            }
            match self.scan(&line, from) {
                Some(end) => {
                    self.current.push_str(&line[from..end]);
                    self.offset += end - from;
                    let segment = self.take_segment(true);
                    if end < line.len() {
                        self.pending = Some(line);
                        self.pending_at = end;
                    } else {
                        self.line += 1;
                    }
                    return Some(Ok(segment));
                }
                None => {
                    self.current.push_str(&line[from..]);
                    self.offset += line.len() - from;
                    if line.ends_with('\n') {
                        self.line += 1;
                    }
                }
            }
        }
    }
}

/// Splits a string (tests, small scripts).
pub fn split(text: &str, options: SplitOptions) -> Vec<Segment> {
    Splitter::new(text.as_bytes(), options)
        .filter_map(Result::ok)
        .collect()
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

/// `$tag$` or `$$` at the start of `text`.
fn dollar_tag(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut end = 1;
    if bytes.get(1).is_some_and(|b| b.is_ascii_digit()) {
        return None;
    }
    while end < bytes.len()
        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] >= 0x80)
    {
        end += 1;
    }
    (bytes.get(end) == Some(&b'$')).then(|| text[..=end].to_owned())
}

/// Replaces each `${…}` (on one line) with an identifier of the same byte length.
pub fn mask_placeholders(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push_str(&rest[..start]);
        for c in rest[start..=start + len].chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c);
            } else {
                out.extend(std::iter::repeat_n('_', c.len_utf8()));
            }
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

fn blank_out(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c == '\n' || c == '\r' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// Whether the text holds anything but blanks and comments.
pub fn has_code(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut depth = 0u32;
    while i < bytes.len() {
        if depth > 0 {
            if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                depth -= 1;
                i += 2;
            } else if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                depth += 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                depth = 1;
                i += 2;
            }
            b';' => i += 1,
            b if b.is_ascii_whitespace() => i += 1,
            _ => return true,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<String> {
        split(sql, SplitOptions { placeholders: true })
            .into_iter()
            .map(|s| s.text)
            .collect()
    }

    #[test]
    fn splits_where_postgres_does() {
        let cases: &[(&str, &[&str])] = &[
            ("select 1; select 2;", &["select 1;", " select 2;"]),
            ("select ';'; select 2", &["select ';';", " select 2"]),
            ("select 'it''s;'; x;", &["select 'it''s;';", " x;"]),
            ("select E'\\';'; x;", &["select E'\\';';", " x;"]),
            ("select \"a;b\"; x;", &["select \"a;b\";", " x;"]),
            (
                "create function f() returns int as $$ select 1; $$ language sql; x;",
                &[
                    "create function f() returns int as $$ select 1; $$ language sql;",
                    " x;",
                ],
            ),
            (
                "do $body$ begin perform 1; end $body$; x;",
                &["do $body$ begin perform 1; end $body$;", " x;"],
            ),
            ("select $1; x;", &["select $1;", " x;"]),
            ("select a$b; x;", &["select a$b;", " x;"]),
            (
                "/* a; /* b; */ c; */ select 1; x;",
                &["/* a; /* b; */ c; */ select 1;", " x;"],
            ),
            ("-- a;\nselect 1; -- b;\nx;", &["-- a;\nselect 1;", " -- b;\nx;"]),
            (
                "create or replace function f() returns int language sql begin atomic select 1; select case when true then 1 end; end; x;",
                &[
                    "create or replace function f() returns int language sql begin atomic select 1; select case when true then 1 end; end;",
                    " x;",
                ],
            ),
            ("begin; commit;", &["begin;", " commit;"]),
            ("select (1;2); x;", &["select (1;2);", " x;"]),
            ("select (1;\n2; x", &["select (1;\n2; x"]),
        ];
        for (sql, expected) in cases {
            assert_eq!(texts(sql), *expected, "{sql}");
        }
    }

    #[test]
    fn positions_are_one_based_lines_and_utf16_columns() {
        let sql = "select 1;\n  select 'é'; select\n 3;";
        let segments = split(sql, SplitOptions::default());
        assert_eq!(segments.len(), 3);
        assert_eq!((segments[1].line, segments[1].column), (1, 10));
        assert_eq!(segments[1].offset, 9);
        // `select` of the second statement is on line 2, column 3
        let at = segments[1].text.find("select").unwrap();
        assert_eq!(segments[1].position(at), (2, 3));
        let third = &segments[2];
        assert_eq!((third.line, third.column), (2, 14));
        assert_eq!(third.position(third.text.find('3').unwrap()), (3, 2));
        assert_eq!(&sql[third.offset..third.offset + third.text.len()], third.text);
        assert!(third.terminated);
        assert!(!split("select 1", SplitOptions::default())[0].terminated);
    }

    #[test]
    fn placeholders_keep_their_length() {
        let line = "create table ${schema}.t (x int default ${flyway:user});";
        let masked = mask_placeholders(line);
        assert_eq!(masked.len(), line.len());
        assert_eq!(masked, "create table __schema_.t (x int default __flyway_user_);");
        assert_eq!(mask_placeholders("a ${unterminated"), "a ${unterminated");
    }

    #[test]
    fn psql_meta_commands_are_blanked() {
        let segments = split("\\restrict abc\nselect 1;\n", SplitOptions::default());
        assert_eq!(segments[0].text, "             \nselect 1;");
        assert!(segments[1].is_trivia());
    }

    #[test]
    fn trivia_is_recognised() {
        assert!(!has_code("  -- x\n /* y */ ;"));
        assert!(has_code("-- x\nselect"));
    }

    #[test]
    fn offsets_cover_the_input_exactly() {
        let sql = "a;\r\nb; c\n/* x */ d;\n-- tail";
        let segments = split(sql, SplitOptions::default());
        let joined: String = segments.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(joined, sql);
        for s in &segments {
            assert_eq!(&sql[s.offset..s.offset + s.text.len()], s.text);
        }
    }
}
