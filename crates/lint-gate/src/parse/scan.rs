//! A JSON input shared between serde_json and a hand-written scanner, so that one array of a
//! document (SARIF's `results`) can be read element by element without serde_json's per-byte
//! reader: each element is checked to be well-formed JSON, copied into a reused buffer, and only
//! then looked at. serde_json reads everything else, with its own checks and messages.
//!
//! serde_json reads one byte at a time from [`SharedReader`] and holds at most one byte it peeked
//! at; when a visitor is handed an array (`visit_seq`), serde_json has consumed exactly the `[`, so
//! the visitor may read the elements itself from the same input and leave the closing `]` to
//! serde_json. Line and column of serde_json's later errors are corrected for the bytes it did not
//! see.

use std::cell::RefCell;
use std::io::{self, BufRead, Read};

use super::input::for_each_newline;

/// How deep elements may nest (serde_json's own limit).
pub(crate) const MAX_DEPTH: usize = 128;

/// Where a byte is: 1-based line, bytes before it on its line, byte offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct At {
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

/// The buffered input and the positions of what was consumed.
pub(crate) struct Shared<'a> {
    inner: &'a mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    /// Everything consumed, by serde_json or by the scanner.
    all: At,
    /// What serde_json consumed, counted as serde_json counts it.
    serde: At,
}

impl<'a> Shared<'a> {
    pub(crate) fn new(inner: &'a mut dyn BufRead) -> RefCell<Self> {
        RefCell::new(Self {
            inner,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            all: At {
                line: 1,
                ..At::default()
            },
            serde: At {
                line: 1,
                ..At::default()
            },
        })
    }

    /// Bytes consumed so far.
    pub(crate) fn offset(&self) -> u64 {
        self.all.offset
    }

    /// Where the next byte is.
    pub(crate) fn at(&self) -> At {
        self.all
    }

    /// A position serde_json reported (line, column in its own count) as a true one.
    pub(crate) fn place_serde(&self, line: u64, column: u64) -> (u64, u64) {
        if line == self.serde.line {
            // same line as serde_json's last byte: shift the column as the true column shifted
            (
                self.all.line,
                (self.all.column + column).saturating_sub(self.serde.column),
            )
        } else {
            ((self.all.line + line).saturating_sub(self.serde.line), column)
        }
    }

    /// Makes sure a byte is buffered; false at the end of the input.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes `n` buffered bytes that the scanner read.
    fn advance(&mut self, n: usize) {
        let bytes = &self.buf[self.pos..self.pos + n];
        let mut last = None;
        let mut lines = 0;
        for_each_newline(bytes, |i| {
            lines += 1;
            last = Some(i);
        });
        self.all.line += lines;
        self.all.column = match last {
            Some(i) => (n - i - 1) as u64,
            None => self.all.column + n as u64,
        };
        self.all.offset += n as u64;
        self.pos += n;
    }

    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    /// Skips whitespace; returns the next byte (not consumed).
    pub(crate) fn skip_whitespace(&mut self) -> io::Result<Option<u8>> {
        loop {
            let Some(b) = self.peek()? else {
                return Ok(None);
            };
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Ok(Some(b));
            }
            let run = self.buf[self.pos..self.len]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                .count();
            self.advance(run);
        }
    }

    /// [`Shared::skip_whitespace`], copying what it skips into `out`.
    fn copy_whitespace(&mut self, out: &mut Vec<u8>) -> io::Result<Option<u8>> {
        loop {
            let Some(b) = self.peek()? else {
                return Ok(None);
            };
            if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                return Ok(Some(b));
            }
            let run = self.buf[self.pos..self.len]
                .iter()
                .take_while(|b| matches!(b, b' ' | b'\n' | b'\r' | b'\t'))
                .count();
            self.copy(out, run);
        }
    }

    /// Consumes one byte (after [`Shared::skip_whitespace`] saw it).
    pub(crate) fn bump(&mut self) {
        if self.pos < self.len {
            self.advance(1);
        }
    }

    /// Consumes one JSON value (whitespace before it included) and copies it into `out`. On bad
    /// JSON, `out` holds the value up to and including the first byte that cannot be right, or
    /// everything up to the end of the input.
    pub(crate) fn value(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        #[derive(Clone, Copy, PartialEq)]
        enum Want {
            /// A value (`first`: or the `]` of an empty array).
            Value {
                first: bool,
            },
            /// A key (`first`: or the `}` of an empty object).
            Key {
                first: bool,
            },
            Colon,
            /// `,` or the end of the innermost container.
            Next,
        }
        out.clear();
        let mut stack: Vec<u8> = Vec::new();
        let mut want = Want::Value { first: false };
        loop {
            // whitespace inside the value is kept: errors are placed by line and column in it
            let next = if stack.is_empty() {
                self.skip_whitespace()
            } else {
                self.copy_whitespace(out)
            };
            let b = match next {
                Ok(Some(b)) => b,
                Ok(None) => return Err(Bad::Eof),
                Err(e) => return Err(Bad::Io(e)),
            };
            match want {
                Want::Value { first } => {
                    if first && b == b']' {
                        self.copy(out, 1);
                        stack.pop();
                        want = Want::Next;
                    } else if b == b'{' || b == b'[' {
                        self.copy(out, 1);
                        stack.push(b);
                        if stack.len() > MAX_DEPTH {
                            return Err(Bad::Syntax);
                        }
                        want = if b == b'{' {
                            Want::Key { first: true }
                        } else {
                            Want::Value { first: true }
                        };
                        continue;
                    } else {
                        self.scalar(out, b)?;
                        want = Want::Next;
                    }
                }
                Want::Key { first } => {
                    if first && b == b'}' {
                        self.copy(out, 1);
                        stack.pop();
                        want = Want::Next;
                    } else if b == b'"' {
                        self.string(out)?;
                        want = Want::Colon;
                        continue;
                    } else {
                        self.copy(out, 1);
                        return Err(Bad::Syntax);
                    }
                }
                Want::Colon => {
                    self.copy(out, 1);
                    if b != b':' {
                        return Err(Bad::Syntax);
                    }
                    want = Want::Value { first: false };
                    continue;
                }
                Want::Next => {
                    // only reached inside a container: the loop ends when the outermost closes
                    let open = stack.last().copied().unwrap_or_default();
                    self.copy(out, 1);
                    match (open, b) {
                        (b'{', b',') => {
                            want = Want::Key { first: false };
                            continue;
                        }
                        (b'[', b',') => {
                            want = Want::Value { first: false };
                            continue;
                        }
                        (b'{', b'}') | (b'[', b']') => {
                            stack.pop();
                        }
                        _ => return Err(Bad::Syntax),
                    }
                }
            }
            if stack.is_empty() {
                return Ok(());
            }
        }
    }

    fn copy(&mut self, out: &mut Vec<u8>, n: usize) {
        out.extend_from_slice(&self.buf[self.pos..self.pos + n]);
        self.advance(n);
    }

    /// A string, from its opening quote (buffered) to its closing one.
    fn string(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        self.copy(out, 1);
        loop {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Err(Bad::Eof),
                Err(e) => return Err(Bad::Io(e)),
            }
            let rest = &self.buf[self.pos..self.len];
            let plain = rest
                .iter()
                .take_while(|&&b| b != b'"' && b != b'\\' && b >= 0x20)
                .count();
            if plain == rest.len() {
                self.copy(out, plain);
                continue;
            }
            let stop = rest[plain];
            self.copy(out, plain + 1);
            match stop {
                b'"' => return Ok(()),
                b'\\' => self.escape(out)?,
                _ => return Err(Bad::Syntax),
            }
        }
    }

    /// What follows a backslash.
    fn escape(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        let b = self.next_byte(out)?;
        match b {
            b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => Ok(()),
            b'u' => {
                for _ in 0..4 {
                    if !self.next_byte(out)?.is_ascii_hexdigit() {
                        return Err(Bad::Syntax);
                    }
                }
                Ok(())
            }
            _ => Err(Bad::Syntax),
        }
    }

    fn next_byte(&mut self, out: &mut Vec<u8>) -> Result<u8, Bad> {
        match self.peek() {
            Ok(Some(b)) => {
                self.copy(out, 1);
                Ok(b)
            }
            Ok(None) => Err(Bad::Eof),
            Err(e) => Err(Bad::Io(e)),
        }
    }

    /// A string, number or literal starting with `first` (buffered).
    fn scalar(&mut self, out: &mut Vec<u8>, first: u8) -> Result<(), Bad> {
        match first {
            b'"' => self.string(out),
            b't' => self.literal(out, b"true"),
            b'f' => self.literal(out, b"false"),
            b'n' => self.literal(out, b"null"),
            b'-' | b'0'..=b'9' => self.number(out),
            _ => {
                self.copy(out, 1);
                Err(Bad::Syntax)
            }
        }
    }

    fn literal(&mut self, out: &mut Vec<u8>, word: &[u8]) -> Result<(), Bad> {
        for &want in word {
            if self.next_byte(out)? != want {
                return Err(Bad::Syntax);
            }
        }
        Ok(())
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`; the byte after it is left.
    fn number(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        let peek = |s: &mut Self| s.peek().map_err(Bad::Io);
        if peek(self)? == Some(b'-') {
            self.copy(out, 1);
        }
        match peek(self)? {
            Some(b'0') => self.copy(out, 1),
            Some(b'1'..=b'9') => self.digits(out)?,
            Some(_) => {
                self.copy(out, 1);
                return Err(Bad::Syntax);
            }
            None => return Err(Bad::Eof),
        }
        if peek(self)? == Some(b'.') {
            self.copy(out, 1);
            self.required_digits(out)?;
        }
        if matches!(peek(self)?, Some(b'e' | b'E')) {
            self.copy(out, 1);
            if matches!(peek(self)?, Some(b'+' | b'-')) {
                self.copy(out, 1);
            }
            self.required_digits(out)?;
        }
        Ok(())
    }

    fn required_digits(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        match self.peek().map_err(Bad::Io)? {
            Some(b'0'..=b'9') => self.digits(out),
            Some(_) => {
                self.copy(out, 1);
                Err(Bad::Syntax)
            }
            None => Err(Bad::Eof),
        }
    }

    fn digits(&mut self, out: &mut Vec<u8>) -> Result<(), Bad> {
        loop {
            match self.fill() {
                Ok(true) => {}
                Ok(false) => return Ok(()),
                Err(e) => return Err(Bad::Io(e)),
            }
            let rest = &self.buf[self.pos..self.len];
            let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let all = n == rest.len();
            self.copy(out, n);
            if !all {
                return Ok(());
            }
        }
    }
}

/// Why [`Shared::value`] stopped.
#[derive(Debug)]
pub(crate) enum Bad {
    /// The input ended inside the value.
    Eof,
    /// A byte that cannot be there (the last byte copied).
    Syntax,
    /// Reading failed.
    Io(io::Error),
}

/// The [`Read`] serde_json is given: a byte at a time from the shared buffer, counted.
pub(crate) struct SharedReader<'s, 'a>(pub(crate) &'s RefCell<Shared<'a>>);

impl Read for SharedReader<'_, '_> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let mut shared = self.0.borrow_mut();
        if !shared.fill()? || out.is_empty() {
            return Ok(0);
        }
        let b = shared.buf[shared.pos];
        out[0] = b;
        shared.pos += 1;
        shared.all.offset += 1;
        shared.serde.offset += 1;
        if b == b'\n' {
            shared.all.line += 1;
            shared.all.column = 0;
            shared.serde.line += 1;
            shared.serde.column = 0;
        } else {
            shared.all.column += 1;
            shared.serde.column += 1;
        }
        Ok(1)
    }
}

/// A small reader of a well-formed JSON value held in memory (what [`Shared::value`] copied),
/// for picking a few fields out without building the rest. Anything unexpected is `None`: the
/// caller then reads the value with serde.
pub(crate) struct Slice<'b> {
    bytes: &'b [u8],
    i: usize,
}

impl<'b> Slice<'b> {
    pub(crate) fn new(bytes: &'b [u8]) -> Self {
        Self { bytes, i: 0 }
    }

    fn ws(&mut self) {
        while matches!(self.bytes.get(self.i), Some(b' ' | b'\n' | b'\r' | b'\t')) {
            self.i += 1;
        }
    }

    /// The next byte after whitespace, not consumed.
    pub(crate) fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.bytes.get(self.i).copied()
    }

    /// Consumes `b` if it is next.
    pub(crate) fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    /// A string without escapes, as written; `None` for anything else (the value is consumed
    /// only when it is such a string).
    pub(crate) fn plain_str(&mut self) -> Option<&'b str> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let rest = self.bytes.get(self.i + 1..)?;
        let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
        if rest[end] != b'"' {
            return None;
        }
        let text = std::str::from_utf8(&rest[..end]).ok()?;
        self.i += end + 2;
        Some(text)
    }

    /// An unsigned integer that fits a u64, or `null` (`Some(None)`).
    pub(crate) fn plain_u64(&mut self) -> Option<Option<u64>> {
        if self.peek() == Some(b'n') {
            return self.null().then_some(None);
        }
        let rest = self.bytes.get(self.i..)?;
        let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        if n == 0 || n > 19 || matches!(rest.get(n), Some(b'.' | b'e' | b'E')) {
            return None;
        }
        let value = std::str::from_utf8(&rest[..n]).ok()?.parse().ok()?;
        self.i += n;
        Some(Some(value))
    }

    /// Consumes a `null`.
    pub(crate) fn null(&mut self) -> bool {
        self.ws();
        if self.bytes.get(self.i..self.i + 4) == Some(b"null") {
            self.i += 4;
            true
        } else {
            false
        }
    }

    /// Starts an object; then call [`Slice::key`] until it gives `None`.
    pub(crate) fn object(&mut self) -> bool {
        self.eat(b'{')
    }

    /// The next key of the object being read (the `:` consumed), `None` at its end; `Some(None)`
    /// for a key with escapes.
    pub(crate) fn key(&mut self, first: &mut bool) -> Option<Option<&'b str>> {
        if self.eat(b'}') {
            return None;
        }
        if !*first && !self.eat(b',') {
            return None;
        }
        *first = false;
        let key = match self.plain_str() {
            Some(key) => Some(key),
            None => {
                self.skip();
                None
            }
        };
        if !self.eat(b':') {
            return None;
        }
        Some(key)
    }

    /// Skips one value (well-formed, as the scanner checked).
    pub(crate) fn skip(&mut self) {
        let mut depth = 0usize;
        loop {
            let Some(b) = self.peek() else { return };
            match b {
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                    continue;
                }
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    self.i += 1;
                }
                b',' | b':' => {
                    self.i += 1;
                    continue;
                }
                b'"' => {
                    self.i += 1;
                    while let Some(&c) = self.bytes.get(self.i) {
                        self.i += 1;
                        match c {
                            b'"' => break,
                            b'\\' => self.i += 1,
                            _ => {}
                        }
                    }
                }
                _ => {
                    while let Some(c) = self.bytes.get(self.i) {
                        if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b':') {
                            break;
                        }
                        self.i += 1;
                    }
                }
            }
            if depth == 0 {
                return;
            }
        }
    }
}
