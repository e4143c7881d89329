//! A fake runner: what GitHub's runner gives a step, in a temp dir, and what it reads back.
//!
//! [`FakeRunner`] lays out `GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`, a
//! workspace and `RUNNER_TEMP`; sets the context variables a runner sets; and scrubs everything else
//! (`GITHUB_*`, `RUNNER_*`, `ACTIONS_*`, `CI`, `NO_COLOR` of the developer's shell never leak in). Inputs
//! are set the way our composite actions map them (`INPUT_FOO_BAR`). After a run it parses the files with
//! the runner's own rules ([`parse_env_file`]) and the log's workflow commands ([`parse_commands`],
//! honouring `::stop-commands::`), so a test asserts on what GitHub would show.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use ops_core::Env;

/// The commit every fake run is "at".
pub const FAKE_SHA: &str = "0123456789abcdef0123456789abcdef01234567";

/// A step's environment in a temp dir.
#[derive(Debug)]
pub struct FakeRunner {
    dir: tempfile::TempDir,
    vars: BTreeMap<String, String>,
}

impl FakeRunner {
    /// A runner environment for a push to `main` of `octo/app`, with the clock pinned by
    /// `SOURCE_DATE_EPOCH` (2024-01-01T00:00:00Z).
    pub fn new() -> std::io::Result<Self> {
        let dir = tempfile::tempdir()?;
        for sub in ["workspace", "temp", "tool-cache", "files"] {
            std::fs::create_dir_all(dir.path().join(sub))?;
        }
        let files = dir.path().join("files");
        let mut vars = BTreeMap::new();
        for (var, file) in [
            ("GITHUB_OUTPUT", "output"),
            ("GITHUB_ENV", "env"),
            ("GITHUB_PATH", "path"),
            ("GITHUB_STEP_SUMMARY", "summary"),
            ("GITHUB_STATE", "state"),
        ] {
            let path = files.join(file);
            std::fs::write(&path, "")?;
            vars.insert(var.to_owned(), path.display().to_string());
        }
        let event = files.join("event.json");
        std::fs::write(&event, "{}")?;
        let path_var = std::env::var("PATH").unwrap_or_default();
        let home = std::env::var("HOME").unwrap_or_else(|_| dir.path().display().to_string());
        for (k, v) in [
            ("GITHUB_ACTIONS", "true".to_owned()),
            ("CI", "true".to_owned()),
            (
                "GITHUB_WORKSPACE",
                dir.path().join("workspace").display().to_string(),
            ),
            ("RUNNER_TEMP", dir.path().join("temp").display().to_string()),
            (
                "RUNNER_TOOL_CACHE",
                dir.path().join("tool-cache").display().to_string(),
            ),
            ("RUNNER_OS", "Linux".to_owned()),
            ("RUNNER_ARCH", "X64".to_owned()),
            ("GITHUB_REPOSITORY", "octo/app".to_owned()),
            ("GITHUB_REPOSITORY_OWNER", "octo".to_owned()),
            ("GITHUB_EVENT_NAME", "push".to_owned()),
            ("GITHUB_EVENT_PATH", event.display().to_string()),
            ("GITHUB_REF", "refs/heads/main".to_owned()),
            ("GITHUB_REF_NAME", "main".to_owned()),
            ("GITHUB_SHA", FAKE_SHA.to_owned()),
            ("GITHUB_SERVER_URL", "https://github.com".to_owned()),
            ("GITHUB_API_URL", "https://api.github.com".to_owned()),
            ("GITHUB_RUN_ID", "1000".to_owned()),
            ("GITHUB_RUN_ATTEMPT", "1".to_owned()),
            ("GITHUB_ACTOR", "octocat".to_owned()),
            ("GITHUB_TRIGGERING_ACTOR", "octocat".to_owned()),
            ("GITHUB_WORKFLOW", "ci".to_owned()),
            ("GITHUB_JOB", "build".to_owned()),
            ("SOURCE_DATE_EPOCH", "1704067200".to_owned()),
            ("PATH", path_var),
            ("HOME", home),
        ] {
            vars.insert(k.to_owned(), v);
        }
        Ok(Self { dir, vars })
    }

    /// Sets an input as our composite actions map it: `foo-bar` → `INPUT_FOO_BAR`.
    #[must_use]
    pub fn input(mut self, name: &str, value: impl Into<String>) -> Self {
        self.vars.insert(
            format!("INPUT_{}", name.replace([' ', '-'], "_").to_uppercase()),
            value.into(),
        );
        self
    }

    /// Sets (or overrides) any variable.
    #[must_use]
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.vars.insert(key.to_owned(), value.into());
        self
    }

    /// Removes a variable (e.g. `GITHUB_ACTIONS` to run as on a terminal).
    #[must_use]
    pub fn without(mut self, key: &str) -> Self {
        self.vars.remove(key);
        self
    }

    /// Writes the event payload (`GITHUB_EVENT_PATH`).
    pub fn event(self, name: &str, payload: &serde_json::Value) -> std::io::Result<Self> {
        std::fs::write(self.dir.path().join("files/event.json"), payload.to_string())?;
        Ok(self.env("GITHUB_EVENT_NAME", name))
    }

    /// The workspace directory (`GITHUB_WORKSPACE`).
    pub fn workspace(&self) -> PathBuf {
        self.dir.path().join("workspace")
    }

    /// The temp dir root (for extra files a test needs).
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// The environment as an [`Env`], for in-process runs.
    pub fn to_env(&self) -> Env {
        Env::from_pairs(self.vars.clone())
    }

    /// A command for `bin` with exactly this environment (nothing inherited), in `GITHUB_WORKSPACE`.
    pub fn command(&self, bin: impl AsRef<Path>) -> Command {
        let mut command = Command::new(bin.as_ref());
        command.env_clear().envs(&self.vars);
        if let Some(workspace) = self.vars.get("GITHUB_WORKSPACE") {
            command.current_dir(workspace);
        }
        command
    }

    /// Runs a binary with exactly this environment (nothing inherited), in the workspace.
    pub fn run(&self, bin: impl AsRef<Path>, args: &[&str]) -> std::io::Result<RunOutput> {
        let output = self.command(bin).args(args).output()?;
        self.collect(output.status.code(), &output.stdout, &output.stderr)
    }

    /// Reads back what a step left: exit code, logs, parsed files and workflow commands.
    pub fn collect(&self, code: Option<i32>, stdout: &[u8], stderr: &[u8]) -> std::io::Result<RunOutput> {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join("files").join(name));
        let stdout = String::from_utf8_lossy(stdout).into_owned();
        let stderr = String::from_utf8_lossy(stderr).into_owned();
        let mut commands = parse_commands(&stdout);
        commands.extend(parse_commands(&stderr));
        Ok(RunOutput {
            code,
            outputs: parse_env_file(&read("output")?).map_err(std::io::Error::other)?,
            exported: parse_env_file(&read("env")?).map_err(std::io::Error::other)?,
            paths: read("path")?.lines().map(str::to_owned).collect(),
            summary: read("summary")?,
            commands,
            stdout,
            stderr,
        })
    }
}

/// What a step left behind.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// `GITHUB_OUTPUT`, parsed.
    pub outputs: BTreeMap<String, String>,
    /// `GITHUB_ENV`, parsed.
    pub exported: BTreeMap<String, String>,
    /// `GITHUB_PATH` lines.
    pub paths: Vec<String>,
    /// `GITHUB_STEP_SUMMARY` as written.
    pub summary: String,
    /// Workflow commands found in stdout then stderr (outside stop-commands blocks).
    pub commands: Vec<WorkflowCommand>,
}

impl RunOutput {
    /// Commands of one kind (`error`, `warning`, `notice`, `add-mask`, `group`…).
    pub fn commands_named(&self, name: &str) -> Vec<&WorkflowCommand> {
        self.commands.iter().filter(|c| c.name == name).collect()
    }

    /// Stdout and stderr together, for "never contains the secret" assertions.
    pub fn all_text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n{:?}",
            self.stdout,
            self.stderr,
            self.summary,
            self.exported.values().cloned().collect::<Vec<_>>().join("\n"),
            self.outputs
        )
    }
}

/// One parsed workflow command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowCommand {
    /// `error`, `warning`, `notice`, `add-mask`, `group`, `endgroup`, `debug`, `stop-commands`…
    pub name: String,
    /// Properties, unescaped.
    pub properties: BTreeMap<String, String>,
    /// The message, unescaped.
    pub message: String,
}

/// Parses workflow commands the way the runner does: leading whitespace stripped, `::name k=v,k=v::msg`,
/// properties split on `,` then the first `=`, values and messages unescaped; lines between
/// `::stop-commands::TOKEN` and `::TOKEN::` are not commands.
pub fn parse_commands(log: &str) -> Vec<WorkflowCommand> {
    let mut out = Vec::new();
    let mut stopped: Option<String> = None;
    for line in log.lines() {
        let line = line.trim_start();
        if let Some(token) = &stopped {
            if line == format!("::{token}::") {
                stopped = None;
            }
            continue;
        }
        let Some(rest) = line.strip_prefix("::") else {
            continue;
        };
        let Some((head, message)) = rest.split_once("::") else {
            continue;
        };
        let (name, props) = match head.split_once(' ') {
            Some((name, props)) => (name, props),
            None => (head, ""),
        };
        if name == "stop-commands" {
            stopped = Some(message.to_owned());
            continue;
        }
        let properties = props
            .split(',')
            .filter(|p| !p.is_empty())
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.trim().to_owned(), unescape_property(v)))
            .collect();
        out.push(WorkflowCommand {
            name: name.to_owned(),
            properties,
            message: unescape_data(message),
        });
    }
    out
}

fn unescape_data(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%25", "%")
}

fn unescape_property(value: &str) -> String {
    value
        .replace("%0D", "\r")
        .replace("%0A", "\n")
        .replace("%3A", ":")
        .replace("%2C", ",")
        .replace("%25", "%")
}

/// Parses a `GITHUB_OUTPUT` / `GITHUB_ENV` file with the runner's `EnvFileKeyValuePairs` rules: a line is
/// `NAME=VALUE` when `=` comes before `<<`, else a heredoc whose value runs to a line exactly equal to the
/// delimiter. Errors are the runner's ("Matching delimiter not found", "EOF marker missing new line").
pub fn parse_env_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    let lines: Vec<&str> = text.split('\n').collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if line.is_empty() {
            continue;
        }
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), h) if h.is_none_or(|h| e < h) => {
                let (name, value) = line.split_at(e);
                if name.is_empty() {
                    return Err(format!("invalid format `{line}`: name must not be empty"));
                }
                out.insert(name.to_owned(), value[1..].to_owned());
            }
            (_, Some(h)) => {
                let name = &line[..h];
                let delimiter = &line[h + 2..];
                if name.is_empty() || delimiter.is_empty() {
                    return Err(format!(
                        "invalid format `{line}`: name and delimiter must not be empty"
                    ));
                }
                let mut value = Vec::new();
                loop {
                    if i >= lines.len() {
                        return Err(format!(
                            "invalid value: matching delimiter not found `{delimiter}`"
                        ));
                    }
                    let candidate = lines[i];
                    i += 1;
                    if candidate == delimiter {
                        if i >= lines.len() {
                            return Err(format!(
                                "invalid value: EOF marker missing new line `{delimiter}`"
                            ));
                        }
                        break;
                    }
                    value.push(candidate);
                }
                out.insert(name.to_owned(), value.join("\n"));
            }
            _ => return Err(format!("invalid format `{line}`")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_file_parser_matches_the_runner() {
        let text = "a=1\nb<<EOF\nx\ny=z\nEOF\nc=d<<e\n";
        let parsed = parse_env_file(text).unwrap();
        assert_eq!(parsed["a"], "1");
        assert_eq!(parsed["b"], "x\ny=z");
        assert_eq!(parsed["c"], "d<<e");
        assert!(
            parse_env_file("b<<EOF\nx\n")
                .unwrap_err()
                .contains("matching delimiter not found")
        );
        assert!(
            parse_env_file("b<<EOF\nx\nEOF")
                .unwrap_err()
                .contains("EOF marker missing new line")
        );
        assert!(parse_env_file("<<EOF\nx\nEOF\n").is_err());
    }

    #[test]
    fn command_parser_unescapes_and_honours_stop_commands() {
        let log = "  ::error file=a%2Cb.rs,line=3,title=x%3Ay::50%25%0Anext\n\
                   ::stop-commands::tok\n::error::injected\n::tok::\n::notice::after";
        let commands = parse_commands(log);
        assert_eq!(commands.len(), 2);
        assert_eq!(commands[0].properties["file"], "a,b.rs");
        assert_eq!(commands[0].properties["title"], "x:y");
        assert_eq!(commands[0].message, "50%\nnext");
        assert_eq!(commands[1].name, "notice");
    }

    #[test]
    fn runner_output_round_trips_through_the_parsers() {
        let fake = FakeRunner::new().unwrap().input("dry-run", "true");
        let env = fake.to_env();
        assert_eq!(env.input("dry-run").as_deref(), Some("true"));
        let runner = ops_core::Runner::with_sink(&env, Box::new(std::io::sink()));
        runner.set_output("tags", "a:1\nb:2").unwrap();
        runner.set_output("digest", "sha256:ff").unwrap();
        let out = fake.collect(Some(0), b"", b"").unwrap();
        assert_eq!(out.outputs["tags"], "a:1\nb:2");
        assert_eq!(out.outputs["digest"], "sha256:ff");
    }
}
