//! Where findings come from: report files (`reports` globs) and commands (`run`), each named, each
//! with a format; and reading one of them through a parser into the collector.
//!
//! A line may name its source and format: `clippy [cargo]: target/clippy.json`, `mypy: mypy src`.
//! Commands run under `bash -o pipefail -c` in the working directory; their standard output is
//! parsed as it arrives (so a huge output is filtered while it streams), their standard error is
//! shown in the log (untrusted: workflow commands in it are not executed), and their exit code is
//! kept. A command that fails and reports nothing is an error, not a clean result.

use std::io::{BufRead, BufReader, Cursor, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

use ops_core::{Level, ToolError};

use crate::parse::{self, Errorformat, Format, FormatSpec, ParseContext, ParseError, ParseStats};
use crate::pipeline::{Collector, SourceCounts};

/// How many bytes are read ahead to detect the format.
const DETECT_BYTES: usize = 64 * 1024;

/// How much of a command's standard error is kept for the log.
const STDERR_TAIL: usize = 64 * 1024;

/// Where a source's report comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file.
    File(PathBuf),
    /// The standard output of a command.
    Command(String),
}

/// One report to read.
#[derive(Debug, Clone)]
pub struct Source {
    /// The linter's name (`clippy`).
    pub name: String,
    /// How messages name it (`clippy (target/clippy.json)`).
    pub label: String,
    /// Its format.
    pub format: FormatSpec,
    /// Where it comes from.
    pub origin: Origin,
}

/// A `reports` or `run` line, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecLine {
    /// `name` before `:`.
    pub name: Option<String>,
    /// `[format]`.
    pub format: Option<String>,
    /// The glob or command.
    pub value: String,
}

/// Splits `name [format]: value`. The prefix must look like a name (letters, digits, `._+-`)
/// followed by `:` and a space, so globs and commands are left alone.
pub fn split_line(line: &str) -> SpecLine {
    let line = line.trim();
    let plain = || SpecLine {
        name: None,
        format: None,
        value: line.to_owned(),
    };
    let name_len = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-')))
        .unwrap_or(line.len());
    if name_len == 0 || !line.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return plain();
    }
    let name = &line[..name_len];
    let mut rest = line[name_len..].trim_start();
    let mut format = None;
    if let Some(after) = rest.strip_prefix('[') {
        let Some(close) = after.find(']') else {
            return plain();
        };
        format = Some(after[..close].trim().to_owned());
        rest = after[close + 1..].trim_start();
    }
    let Some(value) = rest.strip_prefix(':') else {
        return plain();
    };
    if !value.starts_with(char::is_whitespace) || value.trim().is_empty() {
        return plain();
    }
    SpecLine {
        name: Some(name.to_owned()),
        format,
        value: value.trim().to_owned(),
    }
}

/// A name for a command's source when the line gives none: the tool it runs (`npx eslint …` →
/// `eslint`, `go vet ./...` → `go-vet`).
pub fn command_name(command: &str) -> String {
    let words: Vec<&str> = command
        .split_whitespace()
        .skip_while(|w| w.contains('=') && !w.starts_with('-'))
        .collect();
    let base = |w: &str| w.rsplit('/').next().unwrap_or(w).to_owned();
    match words.as_slice() {
        ["go", "vet", ..] => "go-vet".to_owned(),
        ["npx" | "bunx" | "uvx" | "pipx", rest @ ..]
        | ["pnpm" | "yarn" | "npm", "exec", rest @ ..]
        | ["poetry" | "uv" | "pipenv", "run", rest @ ..] => rest
            .iter()
            .find(|w| !w.starts_with('-'))
            .map_or_else(|| "command".to_owned(), |w| base(w)),
        ["python" | "python3", "-m", module, ..] => base(module),
        ["cargo", sub, ..] => base(sub),
        [first, ..] => base(first),
        [] => "command".to_owned(),
    }
}

/// A name for a file's source when the line gives none: its file name without extensions.
pub fn file_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let stem = name.split('.').next().unwrap_or(&name);
    if stem.is_empty() { name } else { stem.to_owned() }
}

/// What a format name means here: `errorformat` uses `custom`.
fn format_spec(
    name: Option<&str>,
    default: &FormatSpec,
    custom: Option<&Arc<Errorformat>>,
    line: &str,
) -> Result<FormatSpec, ToolError> {
    match name {
        None => Ok(default.clone()),
        Some(name) => {
            FormatSpec::parse(name, custom).map_err(|e| ToolError::usage(format!("{e} (in `{line}`)")))
        }
    }
}

/// The sources of `reports` (expanded against `cwd`) and `run`.
pub fn sources(
    reports: &[String],
    run: &[String],
    default: &FormatSpec,
    custom: Option<&Arc<Errorformat>>,
    cwd: &Path,
) -> Result<Vec<Source>, ToolError> {
    let mut out = Vec::new();
    for line in reports.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let spec = split_line(line);
        let format = format_spec(spec.format.as_deref(), default, custom, line)?;
        let pattern = if Path::new(&spec.value).is_absolute() {
            spec.value.clone()
        } else {
            cwd.join(&spec.value).to_string_lossy().into_owned()
        };
        let paths = glob::glob(&pattern).map_err(|e| {
            ToolError::usage(format!(
                "`reports` pattern `{}` is not a valid glob: {e}",
                spec.value
            ))
        })?;
        let mut matched: Vec<PathBuf> = paths.filter_map(Result::ok).filter(|p| p.is_file()).collect();
        matched.sort();
        if matched.is_empty() {
            return Err(ToolError::usage(format!("`reports` pattern `{}` matched no file", spec.value)).with_hint(
                format!(
                    "patterns are relative to `{}`; check the linter ran and wrote its report there before this step",
                    cwd.display()
                ),
            ));
        }
        for path in matched {
            let shown = path
                .strip_prefix(cwd)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let name = spec.name.clone().unwrap_or_else(|| file_name(&path));
            out.push(Source {
                label: if spec.name.is_some() {
                    format!("{name} ({shown})")
                } else {
                    shown
                },
                name,
                format: format.clone(),
                origin: Origin::File(path),
            });
        }
    }
    for line in run.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        let spec = split_line(line);
        let format = format_spec(spec.format.as_deref(), default, custom, line)?;
        let name = spec.name.clone().unwrap_or_else(|| command_name(&spec.value));
        out.push(Source {
            label: format!("`{name}` output"),
            name,
            format,
            origin: Origin::Command(spec.value),
        });
    }
    Ok(out)
}

/// What reading one source gave.
#[derive(Debug, Clone)]
pub struct SourceReport {
    /// The linter's name.
    pub name: String,
    /// How it is shown.
    pub label: String,
    /// The format it was read as.
    pub format: String,
    /// The parser's counts.
    pub stats: ParseStats,
    /// The collector's counts.
    pub counts: SourceCounts,
    /// A command's exit code (`None` for files, or a command killed by a signal).
    pub exit_code: Option<i32>,
}

/// Reads `input` (format detected when `auto`) into the collector.
fn read_stream(
    input: &mut dyn BufRead,
    source: &Source,
    unknown_level: Level,
    collector: &mut Collector<'_>,
) -> Result<(Format, ParseStats), ParseError> {
    let ctx = ParseContext {
        source: source.name.clone(),
        label: source.label.clone(),
        unknown_level,
    };
    // Detection needs the first bytes without consuming them; a pipe may hand them over in small
    // pieces, so they are read up to a limit and replayed in front of the rest.
    let mut head = Vec::with_capacity(DETECT_BYTES);
    input
        .take(DETECT_BYTES as u64)
        .read_to_end(&mut head)
        .map_err(|e| ctx.io_error("report", parse::Position::default(), &e))?;
    let skip = if head.starts_with(&[0xEF, 0xBB, 0xBF]) {
        3
    } else {
        0
    };
    let format = match &source.format {
        FormatSpec::Known(format) => format.clone(),
        FormatSpec::Auto => match parse::detect(&head[skip..], &source.name) {
            Ok(Some(format)) => format,
            Ok(None) => return Ok((empty_format(), ParseStats::default())),
            Err(reason) => {
                return Err(ctx
                    .error(
                        "a known report format",
                        parse::Position {
                            line: 1,
                            column: None,
                            offset: 0,
                        },
                        reason,
                    )
                    .with_hint(format!(
                        "name the format: `{} [FORMAT]: …` or the `format` input",
                        source.name
                    )));
            }
        },
    };
    let mut chained = BufReader::with_capacity(DETECT_BYTES, Cursor::new(head).chain(input));
    if skip > 0 {
        chained.consume(skip);
    }
    collector.start_source(&source.name, matches!(format, Format::Cargo));
    let stats = parse::parse(&format, &mut chained, &ctx, collector)?;
    Ok((format, stats))
}

fn empty_format() -> Format {
    parse::errorformat::preset("plain").map_or(Format::Rdjsonl, Format::Text)
}

/// Reads one source: opens the file or runs the command.
pub fn read(
    source: &Source,
    cwd: &Path,
    unknown_level: Level,
    collector: &mut Collector<'_>,
    log_stderr: &dyn Fn(&str, &str),
) -> Result<SourceReport, crate::Error> {
    match &source.origin {
        Origin::File(path) => {
            let file = std::fs::File::open(path)
                .map_err(|e| ToolError::runtime(format!("cannot open {}", source.label)).with_source(e))?;
            let mut reader = BufReader::with_capacity(DETECT_BYTES, file);
            let (format, stats) = read_stream(&mut reader, source, unknown_level, collector)?;
            check_not_silent(source, &format, &stats, None, "")?;
            Ok(SourceReport {
                name: source.name.clone(),
                label: source.label.clone(),
                format: format.name().to_owned(),
                stats,
                counts: collector.source_counts(),
                exit_code: None,
            })
        }
        Origin::Command(command) => {
            let mut child = Command::new("bash")
                .args(["-o", "pipefail", "-c", command])
                .current_dir(cwd)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| {
                    ToolError::runtime(format!("cannot run `{}`", source.name))
                        .with_source(e)
                        .with_hint("lint-gate runs commands with `bash`; is it installed?")
                })?;
            let stderr = child.stderr.take();
            let stderr_thread = std::thread::spawn(move || {
                let mut tail: Vec<u8> = Vec::new();
                if let Some(mut stderr) = stderr {
                    let mut buf = [0u8; 8192];
                    while let Ok(n) = stderr.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        tail.extend_from_slice(&buf[..n]);
                        if tail.len() > 2 * STDERR_TAIL {
                            tail.drain(..tail.len() - STDERR_TAIL);
                        }
                    }
                }
                if tail.len() > STDERR_TAIL {
                    tail.drain(..tail.len() - STDERR_TAIL);
                }
                String::from_utf8_lossy(&tail).into_owned()
            });
            let mut printed = false;
            let result = match child.stdout.take() {
                Some(stdout) => {
                    let mut reader = BufReader::with_capacity(DETECT_BYTES, Printed::new(stdout));
                    let result = read_stream(&mut reader, source, unknown_level, collector);
                    // read what the parser left (trailing output) so the command is not blocked
                    let _ = std::io::copy(&mut reader, &mut std::io::sink());
                    printed = reader.get_ref().printed;
                    result
                }
                None => Err(ParseContext::new(&source.name).io_error(
                    "report",
                    parse::Position::default(),
                    &std::io::Error::other("no standard output"),
                )),
            };
            if result.is_err() {
                let _ = child.kill();
            }
            let status = child.wait().map_err(|e| {
                ToolError::runtime(format!("cannot wait for `{}`", source.name)).with_source(e)
            })?;
            let stderr_text = stderr_thread.join().unwrap_or_default();
            log_stderr(&source.name, &stderr_text);
            let exit_code = status.code();
            // A linter that failed and printed nothing could not run: that is the tool failing (exit
            // 3, its last error line shown), not a malformed report.
            if !printed && !status.success() {
                return Err(failed_silently(source, exit_code, &stderr_text));
            }
            let (format, stats) = result.map_err(|e| {
                let mut e = e;
                if let Some(code) = exit_code.filter(|&c| c != 0) {
                    e.message.push_str(&format!(" (the command exited with {code})"));
                }
                e
            })?;
            check_not_silent(source, &format, &stats, exit_code, &stderr_text)?;
            Ok(SourceReport {
                name: source.name.clone(),
                label: source.label.clone(),
                format: format.name().to_owned(),
                stats,
                counts: collector.source_counts(),
                exit_code,
            })
        }
    }
}

/// "Never a silent zero": output that matched nothing, or a command that failed without a
/// finding, is an error.
fn check_not_silent(
    source: &Source,
    format: &Format,
    stats: &ParseStats,
    exit_code: Option<i32>,
    stderr: &str,
) -> Result<(), crate::Error> {
    if stats.diagnostics == 0
        && let Some((line, text)) = &stats.first_unmatched
    {
        return Err(ParseError::from(crate::parse::ParseErrorDetail {
            source_name: source.label.clone(),
            format: format.name().to_owned(),
            line: *line,
            column: None,
            offset: 0,
            message: format!(
                "{} line{} matched no pattern and no finding was read; the first: `{text}`",
                stats.unmatched_lines,
                if stats.unmatched_lines == 1 { "" } else { "s" }
            ),
            hint: Some(format!(
                "set the format (`{} [FORMAT]: …`, or `errorformat` patterns); presets: {}",
                source.name,
                parse::errorformat::PRESET_NAMES.join(", ")
            )),
            io: false,
        })
        .into());
    }
    if stats.diagnostics == 0
        && let Some(code) = exit_code.filter(|&c| c != 0)
    {
        let mut message = format!("`{}` exited with {code} and reported no finding", source.name);
        message.push_str(&last_error_line(stderr));
        return Err(ToolError::runtime(message)
            .with_hint("a linter that fails without findings usually could not run; its standard error is in the log above")
            .into());
    }
    Ok(())
}

/// A command that exited unsuccessfully (or was killed) with nothing on its standard output.
fn failed_silently(source: &Source, exit_code: Option<i32>, stderr: &str) -> crate::Error {
    let how = exit_code.map_or_else(
        || "was killed by a signal".to_owned(),
        |code| format!("exited with {code}"),
    );
    let mut message = format!("`{}` {how} and reported no finding", source.name);
    message.push_str(&last_error_line(stderr));
    ToolError::runtime(message)
        .with_hint("it printed nothing, so it could not run; its standard error is in the log above")
        .into()
}

/// `; its last error line: `…`` for a command's standard error, or nothing when it is empty.
fn last_error_line(stderr: &str) -> String {
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or_default();
    if last.is_empty() {
        return String::new();
    }
    let cut: String = last.trim().chars().take(300).collect();
    format!("; its last error line: `{}`", cut.replace('`', "'"))
}

/// A command's standard output, noting whether anything but whitespace came through.
struct Printed<R> {
    inner: R,
    printed: bool,
}

impl<R> Printed<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            printed: false,
        }
    }
}

impl<R: Read> Read for Printed<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if !self.printed {
            self.printed = buf[..n].iter().any(|b| !b.is_ascii_whitespace());
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_lines() {
        let s = |name: Option<&str>, format: Option<&str>, value: &str| SpecLine {
            name: name.map(str::to_owned),
            format: format.map(str::to_owned),
            value: value.to_owned(),
        };
        for (line, want) in [
            ("reports/*.sarif", s(None, None, "reports/*.sarif")),
            ("clippy: target/c.json", s(Some("clippy"), None, "target/c.json")),
            (
                "clippy [cargo]: target/c.json",
                s(Some("clippy"), Some("cargo"), "target/c.json"),
            ),
            (
                "tsc[tsc]:  npx tsc --noEmit --pretty false",
                s(Some("tsc"), Some("tsc"), "npx tsc --noEmit --pretty false"),
            ),
            (
                "cargo clippy --message-format=json",
                s(None, None, "cargo clippy --message-format=json"),
            ),
            (
                "RUSTFLAGS=-Dwarnings cargo clippy",
                s(None, None, "RUSTFLAGS=-Dwarnings cargo clippy"),
            ),
            ("echo a:b", s(None, None, "echo a:b")),
            ("x:", s(None, None, "x:")),
            ("[ab].sarif", s(None, None, "[ab].sarif")),
            ("  mypy :  mypy src  ", s(Some("mypy"), None, "mypy src")),
        ] {
            assert_eq!(split_line(line), want, "{line}");
        }
    }

    #[test]
    fn names() {
        for (command, want) in [
            ("npx eslint -f json .", "eslint"),
            ("go vet ./... 2>&1", "go-vet"),
            ("FOO=1 /usr/bin/shellcheck -f gcc x.sh", "shellcheck"),
            ("python -m mypy src", "mypy"),
            ("cargo clippy --message-format=json", "clippy"),
            ("uv run ruff check", "ruff"),
            ("pnpm exec tsc", "tsc"),
        ] {
            assert_eq!(command_name(command), want, "{command}");
        }
        assert_eq!(file_name(Path::new("out/eslint.report.json")), "eslint");
    }

    #[test]
    fn globs_expand_and_empty_globs_fail() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("r")).unwrap();
        std::fs::write(dir.path().join("r/b.sarif"), "{}").unwrap();
        std::fs::write(dir.path().join("r/a.sarif"), "{}").unwrap();
        let list = sources(
            &["scan [sarif]: r/*.sarif".to_owned()],
            &["shellcheck -f gcc x.sh".to_owned()],
            &FormatSpec::Auto,
            None,
            dir.path(),
        )
        .unwrap();
        let labels: Vec<_> = list.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            vec!["scan (r/a.sarif)", "scan (r/b.sarif)", "`shellcheck` output"]
        );
        assert!(matches!(list[0].format, FormatSpec::Known(Format::Sarif)));
        let err = sources(
            &["nothing/*.json".to_owned()],
            &[],
            &FormatSpec::Auto,
            None,
            dir.path(),
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("`reports` pattern `nothing/*.json` matched no file"),
            "{err}"
        );
        let err = sources(
            &["x [yaml]: r/*.sarif".to_owned()],
            &[],
            &FormatSpec::Auto,
            None,
            dir.path(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown format `yaml`"), "{err}");
    }
}
