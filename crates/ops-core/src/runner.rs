//! The runner interface: what a step may write and print, exactly as GitHub's runner reads it.
//!
//! Reference behaviour: `@actions/core` (`core.ts`, `command.ts`, `file-command.ts`, `summary.ts`) and the
//! runner's `ActionCommandManager` / `FileCommandManager`. Every rule has a unit test at the bottom:
//! heredoc delimiters and collisions, data and property escaping, the 10-per-kind annotation budget, the
//! summary cap, masking and stop-commands.
//!
//! Workflow commands and logs go to stderr (the runner scans stdout and stderr alike), which keeps stdout
//! for data a tool prints. Outside Actions (`GITHUB_ACTIONS` not `true`) the same calls print readable
//! text, in colour only on a terminal without `NO_COLOR`.

use std::fs::OpenOptions;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use crate::env::Env;
use crate::finding::Level;
use crate::secret::{Redactor, Secret, basic_credential, derived_forms, redact, url_masks};

/// GitHub shows at most this many annotations of each kind (error, warning, notice) per step
/// (runner `ExecutionContext._maxCountPerIssueType`). A composite action's inner steps share one budget.
pub const ANNOTATIONS_PER_KIND: usize = 10;

/// The runner refuses a step summary over 1 MiB (`AttachmentSizeLimit`) and then shows nothing at all, so
/// we stop well below it and say what was left out.
pub const SUMMARY_LIMIT_BYTES: u64 = 768 * 1024;

/// The runner cuts annotation messages at 4,096 characters; we cut first so the cut is visible.
pub const ANNOTATION_MESSAGE_LIMIT: usize = 4096;

/// Why a runner file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    /// A key for GITHUB_OUTPUT / GITHUB_ENV is empty or holds a line break.
    #[error("invalid name `{name}` for `{file}`: names must be non-empty and on one line")]
    InvalidName {
        /// The file variable (`GITHUB_OUTPUT`, `GITHUB_ENV`).
        file: &'static str,
        /// The rejected name (debug-escaped).
        name: String,
    },
    /// The key or value contains the random heredoc delimiter (as `@actions/core` refuses it).
    #[error("unexpected input: name or value of `{name}` contains the delimiter `{delimiter}`")]
    DelimiterCollision {
        /// The key.
        name: String,
        /// The delimiter that collided.
        delimiter: String,
    },
    /// A value to be written as an output or env var contains a masked secret.
    #[error("refusing to write `{name}` to `{file}`: its value contains a secret")]
    SecretInValue {
        /// The file variable.
        file: &'static str,
        /// The key.
        name: String,
    },
    /// The file named by the variable could not be opened or written.
    #[error("cannot write `{file}` at `{path}`")]
    Io {
        /// The file variable.
        file: &'static str,
        /// Its path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: io::Error,
    },
}

impl crate::exit::Report for RunnerError {
    fn exit_status(&self) -> crate::exit::ExitStatus {
        match self {
            Self::Io { .. } => crate::exit::ExitStatus::Runtime,
            _ => crate::exit::ExitStatus::Usage,
        }
    }
}

/// One annotation, as `::error file=…,line=…::message` takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    /// error, warning or notice.
    pub level: Level,
    /// The message (multi-line is fine; it is escaped).
    pub message: String,
    /// A short title shown above the message.
    pub title: Option<String>,
    /// Path; made relative to GITHUB_WORKSPACE when absolute.
    pub file: Option<String>,
    /// 1-based start line.
    pub line: Option<u32>,
    /// 1-based end line.
    pub end_line: Option<u32>,
    /// 1-based start column.
    pub col: Option<u32>,
    /// 1-based end column.
    pub end_column: Option<u32>,
}

impl Annotation {
    /// An annotation with a level and message and no location.
    pub fn new(level: Level, message: impl Into<String>) -> Self {
        Self {
            level,
            message: message.into(),
            title: None,
            file: None,
            line: None,
            end_line: None,
            col: None,
            end_column: None,
        }
    }
}

/// What [`Runner::annotate`] did with a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AnnotationReport {
    /// Shown as annotations.
    pub emitted: usize,
    /// Logged only, because the per-kind budget was spent.
    pub overflow: usize,
}

/// What [`Runner::append_summary`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryWrite {
    /// Written whole.
    Full,
    /// Cut at the cap; this many bytes were left out.
    Truncated(usize),
    /// Not in Actions and no summary file: printed to the log instead.
    Printed,
}

struct State {
    sink: Box<dyn Write + Send>,
    masks: Vec<String>,
    /// Annotations shown so far in this step: error, warning, notice.
    shown: [usize; 3],
    /// The summary reached its cap; later appends are dropped rather than written after the note.
    summary_full: bool,
}

/// The runner interface for one step. Cheap to share by reference across threads.
pub struct Runner {
    actions: bool,
    color: bool,
    debug: bool,
    workspace: PathBuf,
    output_file: Option<PathBuf>,
    env_file: Option<PathBuf>,
    path_file: Option<PathBuf>,
    summary_file: Option<PathBuf>,
    state: Mutex<State>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runner")
            .field("actions", &self.actions)
            .finish_non_exhaustive()
    }
}

impl Runner {
    /// A runner that prints to stderr.
    pub fn new(env: &Env) -> Self {
        Self::with_sink(env, Box::new(io::stderr()))
    }

    /// A runner that prints to `sink` (tests capture the log this way).
    pub fn with_sink(env: &Env, sink: Box<dyn Write + Send>) -> Self {
        let file = |name: &str| env.non_empty(name).map(PathBuf::from);
        Self {
            actions: env.is_actions(),
            color: env.color(),
            debug: env.debug(),
            workspace: env.workspace(),
            output_file: file("GITHUB_OUTPUT"),
            env_file: file("GITHUB_ENV"),
            path_file: file("GITHUB_PATH"),
            summary_file: file("GITHUB_STEP_SUMMARY"),
            state: Mutex::new(State {
                sink,
                masks: Vec::new(),
                shown: [0; 3],
                summary_full: false,
            }),
        }
    }

    /// Whether this step runs inside GitHub Actions.
    pub fn is_actions(&self) -> bool {
        self.actions
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while printing must not silence every later line: take the state even if poisoned.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Writes raw lines to the log after masking. Write errors on the log are ignored, as `console.log` does.
    fn emit(&self, text: &str) {
        let mut state = self.state();
        let text = redact(text, &state.masks);
        let _ = writeln!(state.sink, "{text}");
        let _ = state.sink.flush();
    }

    /// Redacts every registered mask from `text`.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.state().masks)
    }

    /// A [`Redactor`] for everything masked so far: what the log hides, for the files and reports a
    /// tool writes itself (SARIF, JSON, comments). Take it after the last `mask`.
    pub fn redactor(&self) -> Redactor {
        Redactor::new(&self.state().masks)
    }

    /// `::add-mask::value`: hides the value (and each of its lines) in this and later log lines, and its
    /// [derived forms](crate::secret::derived_forms) (percent-decoded and -encoded, base64), in which
    /// servers and libraries echo a secret. Call before anything derived from a secret could print.
    /// Empty values are ignored.
    pub fn mask(&self, value: &str) {
        let forms: Vec<String> = derived_forms(value)
            .into_iter()
            .skip(1)
            .filter(|form| !form.contains(['\n', '\r']))
            .collect();
        let lines: Vec<&str> = std::iter::once(value)
            .chain(value.lines())
            .map(|l| l.trim_end_matches('\r'))
            .chain(forms.iter().map(String::as_str))
            .filter(|l| !l.trim().is_empty())
            .collect();
        if lines.is_empty() {
            return;
        }
        let mut state = self.state();
        for line in &lines {
            if !state.masks.iter().any(|m| m == line) {
                if self.actions {
                    let _ = writeln!(state.sink, "::add-mask::{}", escape_data(line));
                }
                state.masks.push((*line).to_owned());
            }
        }
        let _ = state.sink.flush();
    }

    /// Masks a password sent with HTTP basic authentication: the password (with its derived forms) and
    /// the header's credential `base64(user:password)`, which a server that echoes the `Authorization`
    /// header shows and the password's own forms do not hide.
    pub fn mask_basic(&self, user: &str, password: &Secret) {
        if password.expose().trim().is_empty() {
            return;
        }
        self.mask(password.expose());
        self.mask(basic_credential(user, password).expose());
    }

    /// Masks a URL that may carry credentials, given as the input `input` (`database-url`): the URL and
    /// its `user:password@` part always, the password on its own only when that cannot blank ordinary
    /// words in the log ([`crate::secret::weak_password`]); an info line says when it is not.
    pub fn mask_url(&self, input: &str, url: &Secret) {
        let masks = url_masks(url.expose());
        for mask in &masks.masks {
            self.mask(mask);
        }
        if let Some(reason) = masks.password_left_out {
            self.info(&format!(
                "the password in `{input}` is not masked on its own ({reason}, so masking it would hide that word everywhere in the log); the whole URL and its `user:password@` part are masked"
            ));
        }
    }

    /// An informational log line. Inside Actions no line of it can run a workflow command: control
    /// characters show as escapes (`\0`, `\r`, `\u{1b}`), and a message with a line the runner would
    /// read as a command (`::…` or `##[…`, from a file name or a linter's text) is fenced with
    /// `::stop-commands::`.
    pub fn info(&self, message: &str) {
        self.emit_text(message);
    }

    /// A fresh `::stop-commands::` token that no mask touches: a masked end marker would never end the
    /// fence, and every later command of the step would be ignored.
    fn fence_token(&self) -> String {
        let masks = self.state().masks.clone();
        let mut token = random_token();
        for _ in 0..16 {
            if !masks.iter().any(|m| token.contains(m.as_str())) {
                break;
            }
            token = random_token();
        }
        token
    }

    /// Prints text that is not a workflow command: control characters escaped, and fenced with
    /// `::stop-commands::` when a line would read as a command.
    fn emit_text(&self, text: &str) {
        let text = printable_lines(text);
        if self.actions && text.lines().any(is_command_line) {
            let token = self.fence_token();
            self.emit(&format!("::stop-commands::{token}\n{text}\n::{token}::"));
        } else {
            self.emit(&text);
        }
    }

    /// A debug line, shown only with step debug logging (`RUNNER_DEBUG=1`).
    pub fn debug(&self, message: &str) {
        if self.actions {
            self.emit(&format!("::debug::{}", escape_data(message)));
        } else if self.debug {
            self.emit_text(&format!("debug: {message}"));
        }
    }

    /// A warning without a location. Counts against the warning annotation budget.
    pub fn warning(&self, message: &str) {
        self.annotate(vec![Annotation::new(Level::Warning, message)], "");
    }

    /// An error without a location. Counts against the error annotation budget.
    pub fn error(&self, message: &str) {
        self.annotate(vec![Annotation::new(Level::Error, message)], "");
    }

    /// A notice without a location. Counts against the notice annotation budget.
    pub fn notice(&self, message: &str) {
        self.annotate(vec![Annotation::new(Level::Notice, message)], "");
    }

    /// Opens a collapsible log group, closed when the guard drops.
    pub fn group(&self, title: &str) -> Group<'_> {
        if self.actions {
            self.emit(&format!("::group::{}", escape_data(title)));
        } else {
            let title = if self.color {
                format!("\x1b[1m▸ {title}\x1b[0m")
            } else {
                format!("▸ {title}")
            };
            self.emit(&title);
        }
        Group { runner: self }
    }

    /// Echoes untrusted text (linter output, deploy logs) so that it cannot run workflow commands: wrapped
    /// in `::stop-commands::TOKEN` … `::TOKEN::` with a fresh random token. Masks still apply.
    pub fn untrusted(&self, text: &str) {
        if !self.actions {
            self.emit(text.trim_end_matches('\n'));
            return;
        }
        let token = self.fence_token();
        self.emit(&format!(
            "::stop-commands::{token}\n{}\n::{token}::",
            text.trim_end_matches('\n')
        ));
    }

    /// Emits annotations, most severe first, within GitHub's budget of 10 per kind per step. What does not
    /// fit is still logged (plainly) and counted, and one notice says how many were left out and where to
    /// find them (`pointer`, e.g. "see the step summary"). The notice's slot is reserved in the budget.
    pub fn annotate(&self, mut annotations: Vec<Annotation>, pointer: &str) -> AnnotationReport {
        annotations.sort_by_key(|a| std::cmp::Reverse(a.level));
        if !self.actions {
            // A terminal has no budget: print everything, most severe first.
            let lines: Vec<String> = annotations.iter().map(|a| self.format_plain(a)).collect();
            if !lines.is_empty() {
                self.emit(&lines.join("\n"));
            }
            return AnnotationReport {
                emitted: annotations.len(),
                overflow: 0,
            };
        }
        let mut state = self.state();
        let mut remaining = state
            .shown
            .map(|shown| ANNOTATIONS_PER_KIND.saturating_sub(shown));
        let will_overflow = [Level::Error, Level::Warning, Level::Notice]
            .iter()
            .any(|&level| {
                annotations.iter().filter(|a| a.level == level).count() > remaining[kind_index(level)]
            });
        // Reserve one notice slot for the pointer to the rest.
        let pointer_slot = will_overflow && remaining[2] > 0;
        if pointer_slot {
            remaining[2] -= 1;
        }
        let mut report = AnnotationReport::default();
        let mut shown = Vec::new();
        let mut logged = Vec::new();
        let mut pointer_note = None;
        for annotation in &annotations {
            let index = kind_index(annotation.level);
            if remaining[index] > 0 {
                remaining[index] -= 1;
                state.shown[index] += 1;
                report.emitted += 1;
                shown.push(self.format_annotation(annotation));
            } else {
                report.overflow += 1;
                logged.push(self.format_plain(annotation));
            }
        }
        if report.overflow > 0 && pointer_slot {
            let where_ = if pointer.is_empty() {
                String::new()
            } else {
                format!(": {pointer}")
            };
            let note = Annotation::new(
                Level::Notice,
                format!(
                    "{} more annotation{} not shown (GitHub shows {ANNOTATIONS_PER_KIND} per kind per step){where_}",
                    report.overflow,
                    if report.overflow == 1 { " is" } else { "s are" }
                ),
            );
            pointer_note = Some(self.format_annotation(&note));
            state.shown[2] += 1;
            report.emitted += 1;
        }
        drop(state);
        if !shown.is_empty() {
            self.emit(&shown.join("\n"));
        }
        // Annotations past the budget are plain text carrying a linter's message: no line of it may
        // run as a command.
        if !logged.is_empty() {
            self.emit_text(&logged.join("\n"));
        }
        if let Some(note) = pointer_note {
            self.emit(&note);
        }
        report
    }

    fn format_annotation(&self, a: &Annotation) -> String {
        if !self.actions {
            return self.format_plain(a);
        }
        let mut props: Vec<(&str, String)> = Vec::new();
        if let Some(file) = &a.file {
            props.push(("file", self.relative(file)));
        }
        let (line, end_line, col, end_column) = valid_range(a);
        if let Some(v) = line {
            props.push(("line", v.to_string()));
        }
        if let Some(v) = end_line {
            props.push(("endLine", v.to_string()));
        }
        if let Some(v) = col {
            props.push(("col", v.to_string()));
        }
        if let Some(v) = end_column {
            props.push(("endColumn", v.to_string()));
        }
        if let Some(title) = &a.title {
            props.push(("title", title.clone()));
        }
        let props = props
            .iter()
            .map(|(k, v)| format!("{k}={}", escape_property(&printable(v))))
            .collect::<Vec<_>>()
            .join(",");
        let message = cut(&printable_message(&a.message), ANNOTATION_MESSAGE_LIMIT);
        let space = if props.is_empty() { "" } else { " " };
        format!("::{}{space}{props}::{}", a.level.command(), escape_data(&message))
    }

    fn format_plain(&self, a: &Annotation) -> String {
        let label = match (a.level, self.color) {
            (Level::Error, true) => "\x1b[1;31merror\x1b[0m".to_owned(),
            (Level::Warning, true) => "\x1b[1;33mwarning\x1b[0m".to_owned(),
            (Level::Notice, true) => "\x1b[1;36mnotice\x1b[0m".to_owned(),
            (level, false) => level.command().to_owned(),
        };
        let title = a
            .title
            .as_deref()
            .map(|t| format!("[{}] ", printable(t)))
            .unwrap_or_default();
        let mut out = format!("{label}: {title}{}", printable_message(&a.message));
        if let Some(file) = &a.file {
            out.push_str("\n  --> ");
            out.push_str(&printable(&self.relative(file)));
            if let Some(line) = a.line {
                out.push_str(&format!(":{line}"));
                if let Some(col) = a.col {
                    out.push_str(&format!(":{col}"));
                }
            }
        }
        out
    }

    fn relative(&self, file: &str) -> String {
        Path::new(file)
            .strip_prefix(&self.workspace)
            .map(|p| p.to_string_lossy().replace('\\', "/"))
            .unwrap_or_else(|_| file.to_owned())
    }

    /// Sets a step output (`GITHUB_OUTPUT`, heredoc with a random delimiter). Outside Actions, prints it.
    /// Refuses a value that contains a masked secret: outputs are visible to every later step.
    pub fn set_output(&self, name: &str, value: &str) -> Result<(), RunnerError> {
        self.key_value("GITHUB_OUTPUT", self.output_file.as_deref(), name, value)
    }

    /// Exports an environment variable for later steps (`GITHUB_ENV`).
    pub fn export_var(&self, name: &str, value: &str) -> Result<(), RunnerError> {
        self.key_value("GITHUB_ENV", self.env_file.as_deref(), name, value)
    }

    fn key_value(
        &self,
        file: &'static str,
        path: Option<&Path>,
        name: &str,
        value: &str,
    ) -> Result<(), RunnerError> {
        if self.state().masks.iter().any(|m| value.contains(m.as_str())) {
            return Err(RunnerError::SecretInValue {
                file,
                name: name.to_owned(),
            });
        }
        match path {
            Some(path) => {
                let message =
                    key_value_message(file, name, value, &format!("ghadelimiter_{}", random_token()))?;
                append(file, path, &message)
            }
            None => {
                if value.contains('\n') {
                    self.emit_text(&format!("{} {name}:\n{value}", output_label(file)));
                } else {
                    self.emit_text(&format!("{} {name}={value}", output_label(file)));
                }
                Ok(())
            }
        }
    }

    /// Prepends a directory to PATH for later steps (`GITHUB_PATH`).
    pub fn add_path(&self, dir: &Path) -> Result<(), RunnerError> {
        let dir = dir.to_string_lossy();
        if dir.contains('\n') || dir.contains('\r') || dir.is_empty() {
            return Err(RunnerError::InvalidName {
                file: "GITHUB_PATH",
                name: format!("{dir:?}"),
            });
        }
        match &self.path_file {
            Some(path) => append("GITHUB_PATH", path, &format!("{dir}\n")),
            None => {
                self.emit(&format!("add to PATH: {dir}"));
                Ok(())
            }
        }
    }

    /// Appends Markdown to the step summary, masked, and capped at [`SUMMARY_LIMIT_BYTES`] for the whole
    /// file: past the cap the text is cut at a line boundary and a note says how much was left out.
    /// Outside Actions, the Markdown is printed to the log.
    pub fn append_summary(&self, markdown: &str) -> Result<SummaryWrite, RunnerError> {
        let markdown = self.redact(markdown);
        let Some(path) = &self.summary_file else {
            self.emit_text(markdown.trim_end_matches('\n'));
            return Ok(SummaryWrite::Printed);
        };
        if self.state().summary_full {
            return Ok(SummaryWrite::Truncated(markdown.len()));
        }
        let used = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let (text, cut_bytes) = cap_summary(&markdown, SUMMARY_LIMIT_BYTES.saturating_sub(used));
        append("GITHUB_STEP_SUMMARY", path, &text)?;
        if cut_bytes > 0 {
            self.state().summary_full = true;
        }
        Ok(if cut_bytes > 0 {
            SummaryWrite::Truncated(cut_bytes)
        } else {
            SummaryWrite::Full
        })
    }
}

/// A log group; `::endgroup::` when dropped.
#[derive(Debug)]
pub struct Group<'a> {
    runner: &'a Runner,
}

impl Drop for Group<'_> {
    fn drop(&mut self) {
        if self.runner.actions {
            self.runner.emit("::endgroup::");
        }
    }
}

fn output_label(file: &str) -> &'static str {
    if file == "GITHUB_ENV" { "env" } else { "output" }
}

fn kind_index(level: Level) -> usize {
    match level {
        Level::Error => 0,
        Level::Warning => 1,
        Level::Notice => 2,
    }
}

/// The runner's `ValidateLinesAndColumns`, applied before sending so what we send is what is shown:
/// `endLine` alone becomes the line; columns need a line and a one-line range; reversed ranges are dropped.
fn valid_range(a: &Annotation) -> (Option<u32>, Option<u32>, Option<u32>, Option<u32>) {
    let line = a.line.or(a.end_line);
    let end_line = a.end_line.filter(|_| line.is_some());
    let (line, end_line) = match (line, end_line) {
        (Some(l), Some(e)) if e < l => (Some(l), None),
        other => other,
    };
    let one_line = line.is_some() && end_line.is_none_or(|e| Some(e) == line);
    let (col, end_column) = if one_line {
        (a.col, a.end_column)
    } else {
        (None, None)
    };
    let (col, end_column) = match (col, end_column) {
        (Some(c), Some(e)) if e < c => (Some(c), None),
        (None, Some(_)) => (None, None),
        other => other,
    };
    (line, end_line, col, end_column)
}

/// Whether the runner would read `line` as a workflow command: after leading whitespace, `::` or the
/// legacy `##[`.
fn is_command_line(line: &str) -> bool {
    let line = line.trim_start();
    line.starts_with("::") || line.starts_with("##[")
}

/// `text` on one line, for untrusted names (file names, paths, linter ids) printed in a log line or a
/// report: line breaks and every other control character (NUL, ESC, DEL, C1, U+2028/9) show as escapes
/// (`\n`, `\r`, `\0`, `\u{1b}`) instead of breaking the line or driving the terminal. Tabs stay.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    escape_controls(text, false)
}

/// As [`printable`], but line feeds (and CRLF, as a line feed) are kept: for multi-line messages.
fn printable_lines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains("\r\n") {
        std::borrow::Cow::Owned(escape_controls(&text.replace("\r\n", "\n"), true).into_owned())
    } else {
        escape_controls(text, true)
    }
}

/// An annotation message: line breaks are `escape_data`'s to encode, every other control is shown.
fn printable_message(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        // CR is escaped as `%0D` by `escape_data`; keep it as the linter wrote it
        let kept: String = text
            .split('\r')
            .map(|part| escape_controls(part, true).into_owned())
            .collect::<Vec<_>>()
            .join("\r");
        std::borrow::Cow::Owned(kept)
    } else {
        escape_controls(text, true)
    }
}

fn escape_controls(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let escaped = |c: char| {
        (c.is_control() && c != '\t' && !(keep_newlines && c == '\n')) || matches!(c, '\u{2028}' | '\u{2029}')
    };
    if !text.chars().any(escaped) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !escaped(c) {
            out.push(c);
            continue;
        }
        match c {
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            other => out.push_str(&format!("\\u{{{:x}}}", u32::from(other))),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `escapeData`: `%` first, then CR and LF.
pub fn escape_data(value: &str) -> String {
    value
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// `escapeProperty`: as data, plus `:` and `,`.
pub fn escape_property(value: &str) -> String {
    escape_data(value).replace(':', "%3A").replace(',', "%2C")
}

/// `prepareKeyValueMessage` with the runner parser's requirements: a non-empty single-line key, and neither
/// key nor value may contain the delimiter.
pub fn key_value_message(
    file: &'static str,
    name: &str,
    value: &str,
    delimiter: &str,
) -> Result<String, RunnerError> {
    if name.is_empty() || name.contains('\n') || name.contains('\r') {
        return Err(RunnerError::InvalidName {
            file,
            name: format!("{name:?}"),
        });
    }
    if name.contains(delimiter) || value.contains(delimiter) {
        return Err(RunnerError::DelimiterCollision {
            name: name.to_owned(),
            delimiter: delimiter.to_owned(),
        });
    }
    Ok(format!("{name}<<{delimiter}\n{value}\n{delimiter}\n"))
}

fn append(file: &'static str, path: &Path, text: &str) -> Result<(), RunnerError> {
    let io_err = |source| RunnerError::Io {
        file,
        path: path.to_owned(),
        source,
    };
    // The runner creates these files; one that is missing means the variable points somewhere wrong.
    let mut handle = OpenOptions::new().append(true).open(path).map_err(io_err)?;
    handle.write_all(text.as_bytes()).map_err(io_err)
}

fn cap_summary(markdown: &str, budget: u64) -> (String, usize) {
    let mut text = markdown.to_owned();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    let budget = usize::try_from(budget).unwrap_or(usize::MAX);
    if text.len() <= budget {
        return (text, 0);
    }
    let note_room = 200;
    let keep = budget.saturating_sub(note_room);
    let mut cut_at = keep.min(text.len());
    while !text.is_char_boundary(cut_at) {
        cut_at -= 1;
    }
    if let Some(newline) = text[..cut_at].rfind('\n') {
        cut_at = newline + 1;
    }
    let left_out = text.len() - cut_at;
    text.truncate(cut_at);
    if budget >= note_room {
        text.push_str(&format!(
            "\n> [!WARNING]\n> summary truncated: {left_out} bytes left out to stay under GitHub's 1 MiB limit\n"
        ));
    }
    (text, left_out)
}

fn cut(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// 128 random bits as hex, for heredoc delimiters and stop-commands tokens.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: fall back to time and address entropy rather than fail the step. The token
        // only has to be unguessable by the text it guards, which was written before the token existed.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        bytes = (nanos ^ (&bytes as *const _ as usize as u128)).to_le_bytes();
    }
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// A sink tests can read back.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);
    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn actions_runner(dir: &Path) -> (Runner, Buffer) {
        for f in ["output", "env", "path", "summary"] {
            std::fs::write(dir.join(f), "").unwrap();
        }
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("GITHUB_WORKSPACE", "/home/runner/work/r/r".to_owned()),
            ("GITHUB_OUTPUT", dir.join("output").display().to_string()),
            ("GITHUB_ENV", dir.join("env").display().to_string()),
            ("GITHUB_PATH", dir.join("path").display().to_string()),
            ("GITHUB_STEP_SUMMARY", dir.join("summary").display().to_string()),
        ]);
        let buffer = Buffer::default();
        (Runner::with_sink(&env, Box::new(buffer.clone())), buffer)
    }

    #[test]
    fn escaping_table() {
        for (input, data, property) in [
            ("plain", "plain", "plain"),
            ("100%", "100%25", "100%25"),
            ("a\nb", "a%0Ab", "a%0Ab"),
            ("a\r\nb", "a%0D%0Ab", "a%0D%0Ab"),
            ("%0A", "%250A", "%250A"),
            ("src/a.rs:1,2", "src/a.rs:1,2", "src/a.rs%3A1%2C2"),
        ] {
            assert_eq!(escape_data(input), data, "data {input:?}");
            assert_eq!(escape_property(input), property, "property {input:?}");
        }
    }

    #[test]
    fn heredoc_format_and_collision() {
        let msg = key_value_message("GITHUB_OUTPUT", "tags", "a\nb", "ghadelimiter_X").unwrap();
        assert_eq!(msg, "tags<<ghadelimiter_X\na\nb\nghadelimiter_X\n");
        let err = key_value_message("GITHUB_OUTPUT", "tags", "x\nghadelimiter_X\ny", "ghadelimiter_X");
        assert!(matches!(err, Err(RunnerError::DelimiterCollision { .. })));
        let err = key_value_message("GITHUB_OUTPUT", "ghadelimiter_X", "v", "ghadelimiter_X");
        assert!(matches!(err, Err(RunnerError::DelimiterCollision { .. })));
        for bad in ["", "a\nb", "a\rb"] {
            assert!(matches!(
                key_value_message("GITHUB_ENV", bad, "v", "d"),
                Err(RunnerError::InvalidName { .. })
            ));
        }
    }

    #[test]
    fn outputs_use_random_delimiters_and_append() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, _) = actions_runner(dir.path());
        runner.set_output("a", "1").unwrap();
        runner.set_output("b", "x\ny").unwrap();
        let text = std::fs::read_to_string(dir.path().join("output")).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 7, "{text}");
        let d1 = lines[0].strip_prefix("a<<").unwrap();
        let d2 = lines[3].strip_prefix("b<<").unwrap();
        assert!(d1.starts_with("ghadelimiter_") && d1.len() == "ghadelimiter_".len() + 32);
        assert_ne!(d1, d2, "each write gets a fresh delimiter");
        assert_eq!(&lines[1..3], &["1", d1]);
        assert_eq!(&lines[4..7], &["x", "y", d2]);
    }

    #[test]
    fn outputs_refuse_masked_secrets() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        runner.mask("s3cr3t-token");
        let err = runner
            .set_output("url", "https://x?token=s3cr3t-token")
            .unwrap_err();
        assert!(matches!(err, RunnerError::SecretInValue { .. }));
        assert!(!err.to_string().contains("s3cr3t"));
        assert_eq!(std::fs::read_to_string(dir.path().join("output")).unwrap(), "");
        // the value, and its base64 (its other forms are the value itself)
        assert_eq!(
            log.text(),
            "::add-mask::s3cr3t-token\n::add-mask::czNjcjN0LXRva2Vu\n"
        );
    }

    #[test]
    fn mask_each_line_and_redact_later_logs() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        runner.mask("line-one\nline-two");
        runner.mask("");
        runner.mask("line-one");
        runner.info("got line-two and line-one");
        assert_eq!(
            log.text(),
            "::add-mask::line-one%0Aline-two\n::add-mask::line-one\n::add-mask::line-two\n\
             ::add-mask::line-one%250Aline-two\n::add-mask::bGluZS1vbmUKbGluZS10d28\n\
             ::add-mask::bGluZS1vbmU\ngot *** and ***\n"
        );
    }

    #[test]
    fn path_and_env_files() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, _) = actions_runner(dir.path());
        runner.add_path(Path::new("/opt/ops/bin")).unwrap();
        runner.export_var("OPS_X", "1").unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("path")).unwrap(),
            "/opt/ops/bin\n"
        );
        let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
        assert!(
            env.starts_with("OPS_X<<ghadelimiter_") && env.contains("\n1\n"),
            "{env}"
        );
        assert!(runner.add_path(Path::new("a\nb")).is_err());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_the_variable() {
        let env = Env::from_pairs([
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_OUTPUT", "/nonexistent/dir/out"),
        ]);
        let runner = Runner::with_sink(&env, Box::new(io::sink()));
        let err = runner.set_output("a", "b").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot write `GITHUB_OUTPUT` at `/nonexistent/dir/out`"),
            "{err}"
        );
    }

    #[test]
    fn annotation_properties_are_escaped_and_relative() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        let mut a = Annotation::new(Level::Warning, "bad: 50%\nsecond line");
        a.file = Some("/home/runner/work/r/r/src/a,b.rs".into());
        a.line = Some(3);
        a.end_line = Some(3);
        a.col = Some(5);
        a.end_column = Some(9);
        a.title = Some("rule: x".into());
        runner.annotate(vec![a], "");
        assert_eq!(
            log.text(),
            "::warning file=src/a%2Cb.rs,line=3,endLine=3,col=5,endColumn=9,title=rule%3A x::bad: 50%25%0Asecond line\n"
        );
    }

    #[test]
    fn ranges_follow_the_runner_rules() {
        let mk = |line, end_line, col, end_column| Annotation {
            line,
            end_line,
            col,
            end_column,
            ..Annotation::new(Level::Error, "m")
        };
        for (a, expected) in [
            (
                mk(None, Some(4), Some(1), None),
                (Some(4), Some(4), Some(1), None),
            ),
            (
                mk(Some(2), Some(5), Some(1), Some(3)),
                (Some(2), Some(5), None, None),
            ),
            (mk(Some(5), Some(2), None, None), (Some(5), None, None, None)),
            (mk(None, None, Some(3), None), (None, None, None, None)),
            (
                mk(Some(1), None, Some(9), Some(2)),
                (Some(1), None, Some(9), None),
            ),
        ] {
            assert_eq!(valid_range(&a), expected, "{a:?}");
        }
    }

    #[test]
    fn annotations_capped_per_kind_most_severe_first_with_pointer() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        let mut batch = Vec::new();
        for i in 0..12 {
            batch.push(Annotation::new(Level::Notice, format!("n{i}")));
            batch.push(Annotation::new(Level::Error, format!("e{i}")));
        }
        batch.push(Annotation::new(Level::Warning, "w0"));
        let report = runner.annotate(batch, "see the step summary");
        let text = log.text();
        let lines: Vec<&str> = text.lines().collect();
        let errors = lines.iter().filter(|l| l.starts_with("::error::")).count();
        let warnings = lines.iter().filter(|l| l.starts_with("::warning::")).count();
        let notices: Vec<&&str> = lines.iter().filter(|l| l.starts_with("::notice::")).collect();
        assert_eq!((errors, warnings, notices.len()), (10, 1, 10));
        // the first annotation is an error: most severe first
        assert!(lines[0].starts_with("::error::e0"));
        // 2 errors and 3 notices overflowed (one notice slot is the pointer)
        assert_eq!(
            report,
            AnnotationReport {
                emitted: 21,
                overflow: 5
            }
        );
        assert_eq!(
            **notices.last().unwrap(),
            "::notice::5 more annotations are not shown (GitHub shows 10 per kind per step): see the step summary"
        );
        // overflowed ones are still in the log, as plain lines
        assert!(text.contains("\nerror: e11\n"), "{text}");
        // the budget is per step: a later batch gets no more errors
        let report = runner.annotate(vec![Annotation::new(Level::Error, "late")], "");
        assert_eq!(report.emitted, 0);
        assert_eq!(report.overflow, 1);
    }

    #[test]
    fn untrusted_text_is_wrapped_in_stop_commands() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        runner.untrusted("::error::injected\n::set-output name=x::y\n");
        let text = log.text();
        let lines: Vec<&str> = text.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert_eq!(lines[1..3], ["::error::injected", "::set-output name=x::y"]);
        assert_eq!(lines[3], format!("::{token}::"));
    }

    /// The workflow commands a log holds outside `::stop-commands::` fences, as the runner reads it
    /// (lines end at LF or CR).
    fn commands(log: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut fence: Option<String> = None;
        for line in log.split(['\n', '\r']).map(str::trim_start) {
            match &fence {
                Some(token) if line == format!("::{token}::") => fence = None,
                Some(_) => {}
                None => match line.strip_prefix("::stop-commands::") {
                    Some(token) => fence = Some(token.to_owned()),
                    None if line.starts_with("::") || line.starts_with("##[") => out.push(line.to_owned()),
                    None => {}
                },
            }
        }
        out
    }

    /// A report file named `x\n::error::…` (a pull request can add one) was printed raw in an info
    /// line and ran as a workflow command.
    #[test]
    fn info_lines_cannot_run_workflow_commands() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        for name in [
            "reports/x\n::error::forged.sarif",
            "reports/x\r::add-mask::e.sarif",
            "::stop-commands::abc",
            "  ##[error]legacy",
            "a\0b\u{1b}[2Kc",
        ] {
            runner.info(&format!("{name}: 3 findings read as sarif"));
        }
        runner.info("the change: 2 files");
        let text = log.text();
        assert_eq!(commands(&text), Vec::<String>::new(), "{text}");
        // the three names that would start a command are fenced; the others are escaped in place
        let fences = text
            .lines()
            .filter(|l| l.len() == "::stop-commands::".len() + 32 && l.starts_with("::stop-commands::"))
            .count();
        assert_eq!(fences, 3, "{text}");
        assert!(
            text.contains("reports/x\\r::add-mask::e.sarif"),
            "CR is shown, not a line break: {text}"
        );
        assert!(text.contains("a\\0b\\u{1b}[2Kc: 3 findings"), "{text}");
        assert!(
            text.ends_with("\nthe change: 2 files\n"),
            "plain lines stay plain: {text}"
        );
    }

    /// Annotations past the per-kind budget are logged as plain text; a linter message with a line
    /// break ran as a command there.
    #[test]
    fn overflowed_annotations_cannot_run_workflow_commands() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        let batch: Vec<Annotation> = (0..12)
            .map(|i| Annotation::new(Level::Error, format!("e{i}\n::add-mask::x\0")))
            .collect();
        runner.annotate(batch, "see the step summary");
        let text = log.text();
        let commands = commands(&text);
        assert_eq!(commands.iter().filter(|c| c.starts_with("::error::")).count(), 10);
        assert!(!commands.iter().any(|c| c.starts_with("::add-mask::")), "{text}");
        assert!(
            commands
                .last()
                .unwrap()
                .starts_with("::notice::2 more annotations"),
            "{text}"
        );
        assert!(
            text.contains("::error::e0%0A::add-mask::x\\0"),
            "NUL shown as an escape: {text}"
        );
    }

    /// A registry that echoes the `Authorization` header showed `Basic base64(user:password)`: only the
    /// raw password was masked.
    #[test]
    fn mask_basic_hides_the_header_credential() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        let password = Secret::new("r3gistry-pw");
        runner.mask_basic("ci-bot", &password);
        let credential = basic_credential("ci-bot", &password);
        runner.info(&format!("401: you sent `Basic {}`", credential.expose()));
        assert!(
            log.text()
                .contains(&format!("::add-mask::{}\n", credential.expose()))
        );
        assert!(
            log.text().ends_with("401: you sent `Basic ***`\n"),
            "{}",
            log.text()
        );
        assert_eq!(runner.redactor().redact(credential.expose()), "***");
    }

    /// `postgres://postgres:postgres@…` registered `::add-mask::postgres`, which blanked the word in the
    /// rest of the job log; a percent-encoded password was masked only as written, not as PostgreSQL
    /// echoes it.
    #[test]
    fn mask_url_masks_the_url_always_and_a_bare_password_only_when_safe() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        let url = Secret::new("postgres://postgres:postgres@localhost:5432/postgres");
        runner.mask_url("database-url", &url);
        runner.info("connected to postgres as postgres");
        let text = log.text();
        assert!(!text.contains("::add-mask::postgres\n"), "{text}");
        assert!(text.contains("::add-mask::postgres:postgres@\n"), "{text}");
        assert!(
            text.contains("the password in `database-url` is not masked on its own (it is the user name"),
            "{text}"
        );
        assert!(text.ends_with("connected to postgres as postgres\n"), "{text}");

        let (runner, log) = actions_runner(dir.path());
        runner.mask_url(
            "database-url",
            &Secret::new("postgres://app:s%40fe%2Fpw-1@db/app"),
        );
        runner.info("FATAL: password s@fe/pw-1 and s%40fe%2Fpw-1 rejected");
        assert!(
            log.text().ends_with("FATAL: password *** and *** rejected\n"),
            "{}",
            log.text()
        );
        assert!(!log.text().contains("not masked"), "{}", log.text());
    }

    #[test]
    fn summary_is_masked_and_capped() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, _) = actions_runner(dir.path());
        runner.mask("hunter2");
        assert_eq!(runner.append_summary("pw hunter2").unwrap(), SummaryWrite::Full);
        let big = "| row | x |\n".repeat(100_000); // 1.2 MB
        let SummaryWrite::Truncated(left_out) = runner.append_summary(&big).unwrap() else {
            panic!("expected truncation")
        };
        let text = std::fs::read_to_string(dir.path().join("summary")).unwrap();
        assert!(text.starts_with("pw ***\n"));
        assert!(text.len() as u64 <= SUMMARY_LIMIT_BYTES, "{}", text.len());
        assert!(text.contains(&format!("summary truncated: {left_out} bytes left out")));
        // cut on a line boundary: every table row before the note is whole
        let before_note = text.split("\n> [!WARNING]").next().unwrap();
        assert!(before_note.lines().skip(1).all(|l| l == "| row | x |"));
        // once full, later writes are cut to nothing but still succeed
        assert!(matches!(
            runner.append_summary("more").unwrap(),
            SummaryWrite::Truncated(_)
        ));
    }

    #[test]
    fn groups_and_debug() {
        let dir = tempfile::tempdir().unwrap();
        let (runner, log) = actions_runner(dir.path());
        {
            let _g = runner.group("deploy: 50%");
            runner.debug("polling");
        }
        assert_eq!(
            log.text(),
            "::group::deploy: 50%25\n::debug::polling\n::endgroup::\n"
        );
    }

    #[test]
    fn local_mode_prints_readable_text() {
        let buffer = Buffer::default();
        let env = Env::from_pairs([("GITHUB_WORKSPACE", "/w")]);
        let runner = Runner::with_sink(&env, Box::new(buffer.clone()));
        runner.set_output("digest", "sha256:abc").unwrap();
        let mut a = Annotation::new(Level::Error, "boom");
        a.file = Some("/w/src/main.rs".into());
        a.line = Some(7);
        a.col = Some(2);
        runner.annotate(vec![a], "");
        runner.untrusted("::error::not a command here\n");
        {
            let _g = runner.group("phase");
        }
        assert_eq!(
            buffer.text(),
            "output digest=sha256:abc\nerror: boom\n  --> src/main.rs:7:2\n::error::not a command here\n▸ phase\n"
        );
    }
}
