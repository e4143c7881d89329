//! Running the builder: the command line is logged, its output is streamed to the log as untrusted text
//! (inside `::stop-commands::`, masked) in batches, and the last lines are kept for the error message.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use ops_core::Runner;

use crate::error::Error;

/// How many lines of output are kept for messages and parsing.
const TAIL_LINES: usize = 200;
/// Output is flushed to the log at least this often.
const FLUSH_EVERY: Duration = Duration::from_millis(300);

/// A program to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The program (`buildah`, `docker`).
    pub program: String,
    /// Its arguments (never a secret value: secrets go through files and stdin).
    pub args: Vec<String>,
    /// Extra environment variables.
    pub env: Vec<(String, String)>,
}

impl Invocation {
    /// A program with arguments.
    pub fn new(program: &str, args: Vec<String>) -> Self {
        Self {
            program: program.to_owned(),
            args,
            env: Vec::new(),
        }
    }

    /// The command line as logged, arguments with spaces quoted.
    pub fn shown(&self) -> String {
        let mut parts = vec![self.program.clone()];
        parts.extend(self.args.iter().map(|a| {
            if a.is_empty() || a.contains([' ', '"', '\'', '$', '`', '\\']) {
                format!("'{}'", a.replace('\'', r"'\''"))
            } else {
                a.clone()
            }
        }));
        parts.join(" ")
    }
}

/// How a program ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// Exit code 0.
    pub success: bool,
    /// The exit code (none when killed by a signal).
    pub code: Option<i32>,
    /// The last lines of stdout and stderr, in order.
    pub tail: Vec<String>,
}

impl Finished {
    /// The last `n` lines, joined.
    pub fn last(&self, n: usize) -> String {
        let start = self.tail.len().saturating_sub(n);
        self.tail[start..].join("\n")
    }
}

/// Runs a program in `dir`, streaming its output; `stdin` is written to it and the pipe closed.
pub fn run(
    runner: &Runner,
    invocation: &Invocation,
    dir: &Path,
    stdin: Option<&str>,
    quiet: bool,
) -> Result<Finished, Error> {
    if !quiet {
        runner.info(&format!("$ {}", invocation.shown()));
    }
    let mut child = Command::new(&invocation.program)
        .args(&invocation.args)
        .envs(invocation.env.iter().map(|(k, v)| (k, v)))
        .current_dir(dir)
        .stdin(if stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::dependency(format!("cannot run `{}`", invocation.program))
                .with_hint(format!(
                    "install `{}` (on Debian and Ubuntu: `scripts/setup-image-build-tag` or `apt-get install {}`), or choose another `builder`",
                    invocation.program,
                    if invocation.program == "docker" { "docker.io" } else { &invocation.program }
                ))
                .with_source(e)
        })?;
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // a program that exits without reading stdin closes the pipe: its exit status tells the story
        let _ = pipe.write_all(text.as_bytes());
    }
    let (tx, rx) = mpsc::channel::<String>();
    let readers: Vec<_> = [
        child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
        child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|pipe| {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                match line {
                    Ok(line) => {
                        if tx.send(line).is_err() {
                            break;
                        }
                    }
                    Err(_) => break,
                }
            }
        })
    })
    .collect();
    drop(tx);
    let mut tail: VecDeque<String> = VecDeque::new();
    let mut batch: Vec<String> = Vec::new();
    let flush = |batch: &mut Vec<String>| {
        if !batch.is_empty() && !quiet {
            runner.untrusted(&batch.join("\n"));
        }
        batch.clear();
    };
    loop {
        match rx.recv_timeout(FLUSH_EVERY) {
            Ok(line) => {
                let line = line.trim_end_matches('\r').to_owned();
                if tail.len() == TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line.clone());
                batch.push(line);
                if batch.len() >= 100 {
                    flush(&mut batch);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => flush(&mut batch),
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    flush(&mut batch);
    for reader in readers {
        let _ = reader.join();
    }
    let status = child.wait().map_err(|e| {
        Error::dependency(format!("`{}` could not be waited for", invocation.program)).with_source(e)
    })?;
    Ok(Finished {
        success: status.success(),
        code: status.code(),
        tail: tail.into_iter().map(|l| runner.redact(&l)).collect(),
    })
}
