//! Reading helpers shared by the parsers: a reader that counts bytes and lines as they are consumed,
//! bounded line reading, and JSON streaming with errors that carry positions.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};

use serde::de::DeserializeSeed;

use super::{ParseContext, ParseError, Position};

/// The longest line a line-based parser accepts. Longer lines are an error (a binary file fed by
/// mistake, or a runaway tool), so memory stays bounded.
pub const MAX_LINE_BYTES: usize = 16 * 1024 * 1024;

/// How many recent newline offsets [`Counting`] remembers to turn an error offset back into a line.
const NEWLINE_MEMORY: usize = 4096;

/// A [`BufRead`] that counts the bytes and newlines its user consumed.
#[derive(Debug)]
pub struct Counting<R> {
    inner: R,
    offset: u64,
    newlines: u64,
    recent: VecDeque<u64>,
}

impl<R: BufRead> Counting<R> {
    /// Wraps `inner`.
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            offset: 0,
            newlines: 0,
            recent: VecDeque::new(),
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The 1-based line that byte `offset` is on, when `offset` is recent enough (or past everything
    /// consumed); 0 when it is too far back to tell.
    pub fn line_of(&self, offset: u64) -> u64 {
        // newline offsets at or after `offset` are lines that start after it
        let later = self.recent.iter().rev().take_while(|&&nl| nl >= offset).count() as u64;
        if later == self.recent.len() as u64 && self.newlines > self.recent.len() as u64 {
            return 0;
        }
        self.newlines - later + 1
    }

    /// Consumes `amount` bytes of the buffer that no later position will point into (a parser read
    /// them itself and found nothing wrong): their newlines are counted, which is quicker than
    /// remembering each, and only the last is remembered. [`Counting::line_of`] an offset before
    /// it is then 0.
    pub fn consume_past(&mut self, amount: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let bytes = &buf[..amount.min(buf.len())];
            if let Some(last) = memchr::memrchr(b'\n', bytes) {
                self.newlines += memchr::memchr_iter(b'\n', bytes).count() as u64;
                self.recent.clear();
                self.recent.push_back(self.offset + last as u64);
            }
            self.offset += bytes.len() as u64;
            let amount = bytes.len();
            self.inner.consume(amount);
        }
    }

    /// Position of everything consumed so far (the line the next byte is on).
    pub fn position(&self) -> Position {
        Position {
            line: self.newlines + 1,
            column: None,
            offset: self.offset,
        }
    }

    /// Position of an earlier byte offset.
    pub fn position_at(&self, offset: u64) -> Position {
        Position {
            line: self.line_of(offset),
            column: None,
            offset,
        }
    }
}

impl<R: BufRead> Read for Counting<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counting<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        if let Ok(buf) = self.inner.fill_buf() {
            let amount = amount.min(buf.len());
            let (offset, newlines, recent) = (self.offset, &mut self.newlines, &mut self.recent);
            for_each_newline(&buf[..amount], |i| {
                *newlines += 1;
                if recent.len() == NEWLINE_MEMORY {
                    recent.pop_front();
                }
                recent.push_back(offset + i as u64);
            });
            self.offset += amount as u64;
            self.inner.consume(amount);
        }
    }
}

/// Calls `found` with the index of every `\n` in `bytes`, in order. Eight bytes at a time: the
/// parsers pass every byte of a report through here to know line numbers for errors, and a byte
/// at a time costs as much as quick-xml's whole event loop.
pub(crate) fn for_each_newline(bytes: &[u8], mut found: impl FnMut(usize)) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut words = bytes.chunks_exact(8);
    let mut base = 0;
    for word in &mut words {
        let mut array = [0u8; 8];
        array.copy_from_slice(word);
        let x = u64::from_le_bytes(array) ^ NEWLINES;
        // the high bit of each byte that was a newline (now zero), exactly: no carry crosses bytes
        let mut zero = !(((x & LOW7) + LOW7) | x | LOW7);
        while zero != 0 {
            found(base + zero.trailing_zeros() as usize / 8);
            zero &= zero - 1;
        }
        base += 8;
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        if b == b'\n' {
            found(base + i);
        }
    }
}

/// Reads lines (without the line break, `\r\n` or `\n`) into a reused buffer, at most
/// [`MAX_LINE_BYTES`] each.
pub struct Lines<'a> {
    input: &'a mut dyn BufRead,
    buf: Vec<u8>,
    line: u64,
    offset: u64,
}

impl std::fmt::Debug for Lines<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lines")
            .field("line", &self.line)
            .field("offset", &self.offset)
            .finish_non_exhaustive()
    }
}

/// One line read by [`Lines`].
#[derive(Debug)]
pub struct Line<'b> {
    /// 1-based line number.
    pub number: u64,
    /// Byte offset of its first byte.
    pub offset: u64,
    /// The bytes, without the line break.
    pub bytes: &'b [u8],
}

impl<'a> Lines<'a> {
    /// Lines of `input`.
    pub fn new(input: &'a mut dyn BufRead) -> Self {
        Self {
            input,
            buf: Vec::new(),
            line: 0,
            offset: 0,
        }
    }

    /// The next line, or `None` at the end.
    pub fn next_line(&mut self, ctx: &ParseContext, format: &str) -> Result<Option<Line<'_>>, ParseError> {
        self.buf.clear();
        let start = self.offset;
        loop {
            let available = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(ctx.io_error(
                        format,
                        Position {
                            line: self.line + 1,
                            column: None,
                            offset: self.offset,
                        },
                        &e,
                    ));
                }
            };
            if available.is_empty() {
                break;
            }
            let (take, done) = match memchr::memchr(b'\n', available) {
                Some(i) => (i + 1, true),
                None => (available.len(), false),
            };
            if self.buf.len() + take > MAX_LINE_BYTES + 2 {
                return Err(ctx.error(
                    format,
                    Position {
                        line: self.line + 1,
                        column: None,
                        offset: start,
                    },
                    format!(
                        "line longer than {} MiB; expected a text report",
                        MAX_LINE_BYTES / (1024 * 1024)
                    ),
                ));
            }
            self.buf.extend_from_slice(&available[..take]);
            self.input.consume(take);
            self.offset += take as u64;
            if done {
                break;
            }
        }
        if self.buf.is_empty() {
            return Ok(None);
        }
        self.line += 1;
        let mut end = self.buf.len();
        if self.buf[..end].ends_with(b"\n") {
            end -= 1;
        }
        if self.buf[..end].ends_with(b"\r") {
            end -= 1;
        }
        Ok(Some(Line {
            number: self.line,
            offset: start,
            bytes: &self.buf[..end],
        }))
    }
}

/// A reader for serde_json: serde_json reads one byte at a time, so this keeps its own 64 KiB
/// buffer, refilled with one (dynamically dispatched) read of the input, and hands bytes out with an
/// inlined copy; it counts what it handed out, which is the parser's byte offset.
struct JsonInput<'a> {
    inner: &'a mut dyn BufRead,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    offset: u64,
}

impl<'a> JsonInput<'a> {
    fn new(inner: &'a mut dyn BufRead) -> Self {
        Self {
            inner,
            buf: vec![0; 64 * 1024],
            pos: 0,
            len: 0,
            offset: 0,
        }
    }
}

impl Read for JsonInput<'_> {
    #[inline]
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.len {
            loop {
                match self.inner.read(&mut self.buf) {
                    Ok(n) => {
                        self.pos = 0;
                        self.len = n;
                        break;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.len == 0 {
                return Ok(0);
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        self.offset += n as u64;
        Ok(n)
    }
}

/// Deserializes one JSON value from `input` with `seed`, then requires nothing but whitespace after
/// it; returns the value and the number of bytes read. Errors carry serde's line and column and the
/// byte offset reached.
pub fn json_document<'de, S>(
    input: &mut dyn BufRead,
    ctx: &ParseContext,
    format: &str,
    seed: S,
) -> Result<(S::Value, u64), ParseError>
where
    S: DeserializeSeed<'de>,
{
    let mut reader = JsonInput::new(input);
    let mut de = serde_json::Deserializer::from_reader(&mut reader);
    let result = seed
        .deserialize(&mut de)
        .and_then(|value| de.end().map(|()| value));
    drop(de);
    result
        .map(|value| (value, reader.offset))
        .map_err(|e| json_error(ctx, format, &e, reader.offset))
}

/// A serde_json error as a [`ParseError`] at the line and column serde reports.
pub fn json_error(ctx: &ParseContext, format: &str, error: &serde_json::Error, offset: u64) -> ParseError {
    let position = Position {
        line: error.line() as u64,
        column: (error.column() > 0).then_some(error.column() as u64),
        offset,
    };
    json_error_at(ctx, format, error, position)
}

/// A serde_json error as a [`ParseError`] at `position`.
pub(crate) fn json_error_at(
    ctx: &ParseContext,
    format: &str,
    error: &serde_json::Error,
    position: Position,
) -> ParseError {
    let message = describe_json_error(error);
    let mut err = ctx.error(format, position, message);
    err.io = error.is_io();
    err
}

/// serde_json's message without its own " at line L column C" suffix (we print the position).
fn describe_json_error(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => text[..i].to_owned(),
        None => text,
    };
    if error.is_eof() { cut_short(&text) } else { text }
}

/// A message about an input that ended too early.
pub(crate) fn cut_short(text: &str) -> String {
    format!("{text} (the input ends in the middle of the document; was it cut short?)")
}

/// Reads the first `limit` bytes without consuming them (fewer at the end of the input).
pub fn peek(input: &mut dyn BufRead, limit: usize) -> io::Result<Vec<u8>> {
    // `BufRead` gives at most one buffer; to see more without consuming we would need our own
    // buffer. Detection only needs the start, so one `fill_buf` (8 KiB by default, 64 KiB for
    // files and pipes opened by the pipeline) is enough.
    loop {
        match input.fill_buf() {
            Ok(buf) => return Ok(buf[..buf.len().min(limit)].to_vec()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counting_tracks_offsets_and_lines() {
        let data = b"ab\ncd\nef";
        let mut c = Counting::new(&data[..]);
        let mut out = [0u8; 4];
        c.read_exact(&mut out).unwrap();
        assert_eq!(c.offset(), 4);
        assert_eq!(c.position().line, 2);
        assert_eq!(c.line_of(1), 1);
        assert_eq!(c.line_of(3), 2);
        let mut rest = Vec::new();
        c.read_to_end(&mut rest).unwrap();
        assert_eq!(c.line_of(7), 3);
    }

    #[test]
    fn consumed_past_newlines_are_counted() {
        let data = b"a\nb\nc\nd";
        let mut c = Counting::new(&data[..]);
        c.consume(2);
        c.consume_past(4);
        assert_eq!((c.offset(), c.position().line), (6, 4));
        // what follows the last newline of a `consume_past` is known, what comes before is not
        assert_eq!((c.line_of(6), c.line_of(4)), (4, 0));
        c.consume(1);
        assert_eq!(c.line_of(7), 4);
        let mut none = Counting::new(&b"abc"[..]);
        none.consume_past(2);
        assert_eq!((none.offset(), none.line_of(1)), (2, 1));
    }

    #[test]
    fn newlines_found_eight_at_a_time() {
        let mut data: Vec<u8> = (0u8..=255).collect();
        data.extend_from_slice(b"\n\n\x0b\n\x8a\x0a\xff\n");
        for start in 0..9 {
            let slice = &data[start..];
            let mut got = Vec::new();
            for_each_newline(slice, |i| got.push(i));
            let want: Vec<usize> = (0..slice.len()).filter(|&i| slice[i] == b'\n').collect();
            assert_eq!(got, want, "from {start}");
        }
    }

    #[test]
    fn lines_strip_breaks_and_bound_length() {
        let ctx = ParseContext::new("t");
        let data = b"one\r\ntwo\n\nthree";
        let mut input = &data[..];
        let mut lines = Lines::new(&mut input);
        let mut got = Vec::new();
        while let Some(line) = lines.next_line(&ctx, "text").unwrap() {
            got.push((
                line.number,
                line.offset,
                String::from_utf8_lossy(line.bytes).into_owned(),
            ));
        }
        assert_eq!(
            got,
            vec![
                (1, 0, "one".to_owned()),
                (2, 5, "two".to_owned()),
                (3, 9, String::new()),
                (4, 10, "three".to_owned())
            ]
        );
        let huge = vec![b'x'; MAX_LINE_BYTES + 10];
        let mut input = &huge[..];
        let mut lines = Lines::new(&mut input);
        let err = lines.next_line(&ctx, "text").unwrap_err();
        assert!(err.to_string().contains("line longer than 16 MiB"), "{err}");
    }

    #[test]
    fn json_errors_carry_positions() {
        let ctx = ParseContext::new("r.json");
        let data = b"{\n  \"a\": [1,\n  2,, 3]\n}";
        let mut input = &data[..];
        let err = json_document(
            &mut input,
            &ctx,
            "JSON",
            std::marker::PhantomData::<serde_json::Value>,
        )
        .unwrap_err();
        assert_eq!((err.line, err.column), (3, Some(5)), "{err}");
        assert!(err.offset >= 18, "{err}");
        let data = b"{\"a\": 1} trailing";
        let mut input = &data[..];
        let err = json_document(
            &mut input,
            &ctx,
            "JSON",
            std::marker::PhantomData::<serde_json::Value>,
        )
        .unwrap_err();
        assert!(err.message.contains("trailing characters"), "{err}");
        let data = b"{\"a\": [1, 2";
        let mut input = &data[..];
        let err = json_document(
            &mut input,
            &ctx,
            "JSON",
            std::marker::PhantomData::<serde_json::Value>,
        )
        .unwrap_err();
        assert!(err.message.contains("cut short"), "{err}");
    }
}
