//! One SSH connection per host (russh, ring), reused for every step: each remote step is its own
//! exec channel with `set -euo pipefail`, stdin closed (or fed and closed), its exit code checked and
//! its own time limit; the answer to "is the new release healthy" goes through a `direct-tcpip`
//! channel to the container's loopback port, so the host needs no curl.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::hostkeys::{Pins, Verdict, fingerprint};
use crate::flow::Limit;

/// Lines of a failed step's stderr shown.
pub const STDERR_TAIL: usize = 20;

/// A host to deploy to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// Login name.
    pub user: String,
    /// Name or address.
    pub host: String,
    /// SSH port.
    pub port: u16,
}

impl Host {
    /// Parses `[user@]host[:port]` (`[v6]:port` for IPv6).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (user, rest) = match text.rsplit_once('@') {
            Some((u, r)) => (u.to_owned(), r),
            None => ("root".to_owned(), text),
        };
        let bad = || format!("`{text}` is not `[user@]host[:port]`");
        if user.is_empty() || user.contains(|c: char| c.is_whitespace() || c == ':' || c == '@') {
            return Err(bad());
        }
        let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
            let (h, p) = v6.split_once(']').ok_or_else(bad)?;
            let port = match p.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if p.is_empty() => 22,
                None => return Err(bad()),
            };
            (h.to_owned(), port)
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h.to_owned(), p.parse::<u16>().map_err(|_| bad())?),
                None => (rest.to_owned(), 22),
            }
        };
        if host.is_empty()
            || port == 0
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':'))
        {
            return Err(bad());
        }
        Ok(Self { user, host, port })
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.host)?;
        if self.port != 22 {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// Why a connection or a step failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshError {
    /// The host's key is not pinned (or was revoked); we stopped during the key exchange.
    HostKey {
        /// The host.
        host: String,
        /// What the check said.
        verdict: Verdict,
        /// The key the host presented.
        presented: String,
    },
    /// The host refused our key.
    Auth {
        /// The host.
        host: String,
    },
    /// No connection (refused, unreachable, handshake failed).
    Connect {
        /// The host.
        host: String,
        /// Why.
        message: String,
    },
    /// A limit ran out.
    Timeout {
        /// The limit's message.
        message: String,
    },
    /// The connection broke during a step.
    Lost {
        /// The host.
        host: String,
        /// The step.
        step: String,
        /// Why.
        message: String,
    },
    /// A remote step exited non-zero.
    Step {
        /// The host.
        host: String,
        /// The step.
        step: String,
        /// Its exit code (or signal).
        code: String,
        /// The last lines of its stderr (to be masked before printing).
        stderr: String,
    },
}

impl fmt::Display for SshError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::HostKey {
                host,
                verdict,
                presented,
            } => {
                let what = match verdict {
                    Verdict::Changed => {
                        "does not match the pinned key (it changed, or someone is in between)"
                    }
                    Verdict::Revoked => "is revoked in `known-hosts`",
                    Verdict::Unknown | Verdict::Trusted => {
                        "is not pinned in `known-hosts` or `host-fingerprints`"
                    }
                };
                write!(
                    f,
                    "host key of `{host}` ({presented}) {what}: refused before logging in, no command was run"
                )
            }
            Self::Auth { host } => write!(
                f,
                "`{host}` refused the `ssh-key` (public key authentication failed)"
            ),
            Self::Connect { host, message } => write!(f, "could not connect to `{host}`: {message}"),
            Self::Timeout { message } => f.write_str(message),
            Self::Lost { host, step, message } => {
                write!(
                    f,
                    "step `{step}` on `{host}`: the connection was lost ({message})"
                )
            }
            Self::Step { host, step, code, .. } => {
                write!(f, "step `{step}` on `{host}` failed with exit code {code}")
            }
        }
    }
}

impl SshError {
    /// Whether this is the user's configuration (exit 2) rather than a broken host or network.
    pub fn is_input(&self) -> bool {
        matches!(self, Self::HostKey { .. } | Self::Auth { .. })
    }
}

struct Client {
    host: String,
    port: u16,
    pins: Arc<Pins>,
    seen: Arc<Mutex<Option<(Verdict, String)>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(&mut self, key: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = key else {
            *self.seen.lock().unwrap_or_else(PoisonError::into_inner) =
                Some((Verdict::Unknown, "a certificate".to_owned()));
            return Ok(false);
        };
        let verdict = self.pins.check(&self.host, self.port, key);
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some((verdict, describe(key)));
        Ok(verdict == Verdict::Trusted)
    }
}

fn describe(key: &PublicKey) -> String {
    format!("{} {}", key.algorithm(), fingerprint(key))
}

/// What a remote command printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Exit status (`None` when it died of a signal or the status never came).
    pub code: Option<u32>,
    /// Signal name, if it died of one.
    pub signal: Option<String>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// An open connection.
pub struct Session {
    handle: Handle<Client>,
    /// The host.
    pub host: Host,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("host", &self.host)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Connects, checks the host key against the pins (before authentication) and logs in.
    pub async fn connect(
        host: &Host,
        pins: Arc<Pins>,
        key: Arc<PrivateKey>,
        limit: Limit,
    ) -> Result<Self, SshError> {
        let shown = host.to_string();
        let seen = Arc::new(Mutex::new(None));
        let handler = Client {
            host: host.host.clone(),
            port: host.port,
            pins,
            seen: Arc::clone(&seen),
        };
        let config = Arc::new(client::Config {
            // Keepalives: a long `up --wait` that prints nothing must not look like a dead link (K12),
            // and a dead link must not hang the deploy.
            keepalive_interval: Some(Duration::from_secs(15)),
            keepalive_max: 4,
            nodelay: true,
            ..Default::default()
        });
        let connecting = async {
            let mut handle = client::connect(config, (host.host.as_str(), host.port), handler)
                .await
                .map_err(|e| {
                    if let Some((verdict, presented)) =
                        seen.lock().unwrap_or_else(PoisonError::into_inner).clone()
                        && verdict != Verdict::Trusted
                    {
                        return SshError::HostKey {
                            host: shown.clone(),
                            verdict,
                            presented,
                        };
                    }
                    SshError::Connect {
                        host: shown.clone(),
                        message: e.to_string(),
                    }
                })?;
            let hash = handle.best_supported_rsa_hash().await.ok().flatten().flatten();
            let auth = handle
                .authenticate_publickey(host.user.clone(), PrivateKeyWithHashAlg::new(key, hash))
                .await
                .map_err(|e| SshError::Connect {
                    host: shown.clone(),
                    message: e.to_string(),
                })?;
            if !auth.success() {
                return Err(SshError::Auth { host: shown.clone() });
            }
            Ok(handle)
        };
        let handle = tokio::time::timeout(limit.value, connecting)
            .await
            .map_err(|_| SshError::Timeout {
                message: limit.ran_out(&format!("connecting to `{shown}`")),
            })??;
        Ok(Self {
            handle,
            host: host.clone(),
        })
    }

    /// Runs `script` under `bash` with `set -euo pipefail`; `stdin` is sent and closed (closed at once
    /// when `None`). Returns whatever the exit code; a background process that keeps the output open
    /// cannot hold the step past its exit (we stop reading 2 s after the exit status).
    pub async fn run(
        &self,
        step: &str,
        script: &str,
        stdin: Option<&[u8]>,
        limit: Limit,
    ) -> Result<Output, SshError> {
        let shown = self.host.to_string();
        let lost = |e: russh::Error| SshError::Lost {
            host: shown.clone(),
            step: step.to_owned(),
            message: e.to_string(),
        };
        let command = format!("exec bash -c {} ", quote(&format!("set -euo pipefail\n{script}")));
        let work = async {
            let mut channel = self.handle.channel_open_session().await.map_err(lost)?;
            channel.exec(true, command.as_bytes()).await.map_err(lost)?;
            if let Some(data) = stdin {
                channel.data(data).await.map_err(lost)?;
            }
            channel.eof().await.map_err(lost)?;
            let mut out = Output::default();
            let mut stdout = Vec::new();
            let mut stderr = Vec::new();
            let mut done = false;
            loop {
                let msg = if done {
                    match tokio::time::timeout(Duration::from_secs(2), channel.wait()).await {
                        Ok(m) => m,
                        Err(_) => break,
                    }
                } else {
                    channel.wait().await
                };
                match msg {
                    None | Some(ChannelMsg::Close) => break,
                    Some(ChannelMsg::Data { data }) => stdout.extend_from_slice(&data),
                    Some(ChannelMsg::ExtendedData { data, .. }) => stderr.extend_from_slice(&data),
                    Some(ChannelMsg::ExitStatus { exit_status }) => {
                        out.code = Some(exit_status);
                        done = true;
                    }
                    Some(ChannelMsg::ExitSignal { signal_name, .. }) => {
                        out.signal = Some(format!("{signal_name:?}"));
                        done = true;
                    }
                    Some(_) => {}
                }
            }
            let _ = channel.close().await;
            if out.code.is_none() && out.signal.is_none() {
                return Err(SshError::Lost {
                    host: shown.clone(),
                    step: step.to_owned(),
                    message: "the channel closed without an exit status".to_owned(),
                });
            }
            out.stdout = String::from_utf8_lossy(&stdout).into_owned();
            out.stderr = String::from_utf8_lossy(&stderr).into_owned();
            Ok(out)
        };
        tokio::time::timeout(limit.value, work)
            .await
            .map_err(|_| SshError::Timeout {
                message: limit.ran_out(&format!("running step `{step}` on `{shown}`")),
            })?
    }

    /// [`Session::run`], and a non-zero exit is a [`SshError::Step`] with the tail of stderr.
    pub async fn checked(
        &self,
        step: &str,
        script: &str,
        stdin: Option<&[u8]>,
        limit: Limit,
    ) -> Result<String, SshError> {
        let out = self.run(step, script, stdin, limit).await?;
        if out.code == Some(0) {
            return Ok(out.stdout);
        }
        Err(SshError::Step {
            host: self.host.to_string(),
            step: step.to_owned(),
            code: match (&out.code, &out.signal) {
                (Some(c), _) => c.to_string(),
                (None, Some(s)) => format!("none (signal {s})"),
                (None, None) => "none".to_owned(),
            },
            stderr: tail(&out.stderr, STDERR_TAIL),
        })
    }

    /// `GET path` on `addr:port` as seen from the host (its loopback, or a container's address),
    /// through the SSH connection: the status code.
    pub async fn http_get(&self, addr: &str, port: u16, path: &str, limit: Limit) -> Result<u16, String> {
        let work = async {
            let channel = self
                .handle
                .channel_open_direct_tcpip(addr, u32::from(port), "127.0.0.1", 0)
                .await
                .map_err(|e| format!("could not open a tunnel to {addr}:{port}: {e}"))?;
            let mut stream = channel.into_stream();
            let request = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}:{port}\r\nUser-Agent: ops-actions-do-deploy\r\nConnection: close\r\n\r\n"
            );
            stream
                .write_all(request.as_bytes())
                .await
                .map_err(|e| format!("could not send the request: {e}"))?;
            let mut head = Vec::with_capacity(256);
            let mut buf = [0u8; 256];
            while !head.windows(2).any(|w| w == b"\r\n") && head.len() < 4096 {
                let n = stream
                    .read(&mut buf)
                    .await
                    .map_err(|e| format!("no answer: {e}"))?;
                if n == 0 {
                    break;
                }
                head.extend_from_slice(&buf[..n]);
            }
            let line = String::from_utf8_lossy(&head);
            let status = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok())
                .ok_or_else(|| {
                    if head.is_empty() {
                        "the connection closed without an answer".to_owned()
                    } else {
                        "the answer is not HTTP".to_owned()
                    }
                })?;
            let _ = stream.shutdown().await;
            Ok(status)
        };
        tokio::time::timeout(limit.value, work)
            .await
            .map_err(|_| limit.ran_out(&format!("waiting for `GET {path}` on {addr}:{port}")))?
    }

    /// Says goodbye.
    pub async fn close(&self) {
        let _ = self
            .handle
            .disconnect(Disconnect::ByApplication, "deploy done", "en")
            .await;
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Quotes a word for a POSIX shell.
pub fn quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@%+,".contains(&b))
    {
        return word.to_owned();
    }
    format!("'{}'", word.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_table() {
        for (text, want) in [
            ("10.0.0.2", Some(("root", "10.0.0.2", 22))),
            (
                "deploy@web-1.example.com:2222",
                Some(("deploy", "web-1.example.com", 2222)),
            ),
            ("[2001:db8::1]:2200", Some(("root", "2001:db8::1", 2200))),
            ("a@b@c", None),
            ("host:0", None),
            ("host:x", None),
            ("", None),
            ("bad host", None),
            ("h;rm", None),
        ] {
            let got = Host::parse(text).ok();
            assert_eq!(
                got.as_ref().map(|h| (h.user.as_str(), h.host.as_str(), h.port)),
                want,
                "{text}"
            );
        }
        assert_eq!(Host::parse("root@10.0.0.2").unwrap().to_string(), "root@10.0.0.2");
        assert_eq!(Host::parse("u@h:2222").unwrap().to_string(), "u@h:2222");
    }

    #[test]
    fn quoting() {
        assert_eq!(quote("abc"), "abc");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("$(rm -rf /)"), "'$(rm -rf /)'");
    }

    #[test]
    fn tails() {
        assert_eq!(tail("a\nb\nc", 2), "b\nc");
        assert_eq!(tail("a", 5), "a");
    }
}
