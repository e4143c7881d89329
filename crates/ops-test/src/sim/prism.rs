//! Prism (`@stoplight/prism-cli`, pinned in the root `package.json`) as a validating proxy in
//! front of a stand-in: `prism proxy --errors <subset> <stand-in URL>`. Prism answers 422 for a
//! request and 500 for a response that breaks the official description, with the reasons in the
//! `sl-violations` header.
//!
//! Prism runs on Node. It is started with its standard input on a pipe and a one-line guard that
//! exits when that pipe closes, so it goes away with the test process even when it is held in a
//! `static` (statics are never dropped).

use std::fs::File;
use std::io::{Read, Seek};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use super::contract::{Contract, ContractMode, Spec};
use super::server::{Api, Sim};

/// Longest wait for Prism to accept connections (a trimmed subset needs a few seconds).
const READY_WITHIN: Duration = Duration::from_secs(30);

/// Prism could not be started.
#[derive(Debug, thiserror::Error)]
pub enum PrismError {
    /// `node_modules` lacks Prism.
    #[error(
        "prism is not installed: `{0}` is missing\nhint: run `scripts/setup-node` at the repository root (CI runs it)"
    )]
    NotInstalled(PathBuf),
    /// The process could not be spawned (no `node`?).
    #[error(
        "cannot start prism with `node`: {0}\nhint: run `scripts/setup-node` at the repository root (CI runs it)"
    )]
    Spawn(#[source] std::io::Error),
    /// It exited before accepting connections.
    #[error("prism exited before it was ready ({status}); its output:\n{output}")]
    Exited {
        /// Exit status.
        status: String,
        /// What it printed.
        output: String,
    },
    /// It did not accept connections in time.
    #[error("prism did not accept connections on {addr} within {} s; its output:\n{output}", READY_WITHIN.as_secs())]
    NotReady {
        /// Where it should have listened.
        addr: SocketAddr,
        /// What it printed.
        output: String,
    },
    /// The description for the Rust-side check could not be loaded.
    #[error("{0}")]
    Contract(String),
}

/// The repository root (two levels above this crate).
#[must_use]
pub fn repo_root() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..");
    // Only for readable messages; the joined path works as well.
    root.canonicalize().unwrap_or(root)
}

/// A running `prism proxy`; dropping it stops the process.
#[derive(Debug)]
pub struct Prism {
    child: Child,
    // Held open: when it closes (drop, or the test process ending) the guard makes node exit.
    _stdin: Option<ChildStdin>,
    url: String,
}

impl Prism {
    /// Starts `prism proxy --errors <spec> <upstream>` on a free loopback port and waits until
    /// it accepts connections.
    ///
    /// # Errors
    /// When Prism is not installed, cannot start, or is not ready within 30 s.
    pub fn proxy(spec: &Path, upstream: &str) -> Result<Self, PrismError> {
        let cli = repo_root().join("node_modules/@stoplight/prism-cli/dist/index.js");
        if !cli.is_file() {
            return Err(PrismError::NotInstalled(cli));
        }
        let port = free_port().map_err(PrismError::Spawn)?;
        let log = tempfile::tempfile().map_err(PrismError::Spawn)?;
        // `node -e` puts its first argument at argv[1], which Prism's argument parser skips like
        // a script path; so the CLI path goes there and Prism's own arguments follow.
        let guard = "process.stdin.on('end',()=>process.exit(0));process.stdin.on('error',()=>process.exit(0));\
                     process.stdin.resume();require(process.argv[1]);";
        let mut child = Command::new("node")
            .arg("-e")
            .arg(guard)
            .arg(&cli)
            .args([
                "proxy",
                "--errors",
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-v",
                "warn",
            ])
            .arg(spec)
            .arg(upstream)
            .stdin(Stdio::piped())
            .stdout(log.try_clone().map_err(PrismError::Spawn)?)
            .stderr(log.try_clone().map_err(PrismError::Spawn)?)
            .spawn()
            .map_err(PrismError::Spawn)?;
        let stdin = child.stdin.take();
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(PrismError::Exited {
                    status: status.to_string(),
                    output: read_log(log),
                });
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                break;
            }
            if started.elapsed() > READY_WITHIN {
                // Best effort: it is being abandoned anyway.
                let _ = child.kill();
                let _ = child.wait();
                return Err(PrismError::NotReady {
                    addr,
                    output: read_log(log),
                });
            }
            // Readiness polling is the one place that waits on the wall clock.
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(Self {
            child,
            _stdin: stdin,
            url: format!("http://{addr}"),
        })
    }

    /// Base URL of the proxy.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        // It may have exited already; either way it must not outlive its owner.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

fn read_log(mut log: File) -> String {
    let mut out = String::new();
    // What Prism printed only helps to explain a failure; an unreadable log leaves it empty.
    let _ = log.rewind();
    let _ = log.read_to_string(&mut out);
    out
}

/// A stand-in with Prism in front of it, both checking every exchange: Prism with `--errors`
/// (its verdicts reach the client as 422/500), and the Rust [`Contract`] in
/// [`ContractMode::Observe`] (its verdicts in [`Sim::violations`]).
#[derive(Debug)]
pub struct Checked<S: Api> {
    /// The stand-in; script it and read its record as usual.
    pub sim: Sim<S>,
    /// The proxy; clients talk to [`Checked::url`].
    pub prism: Prism,
}

impl<S: Api + Default> Checked<S> {
    /// Starts a stand-in with its default state and Prism in front of it.
    ///
    /// # Errors
    /// See [`Prism::proxy`].
    pub fn start(spec: Spec) -> Result<Self, PrismError> {
        let contract = Contract::vendored(spec).map_err(|e| PrismError::Contract(e.to_string()))?;
        let sim = Sim::<S>::start();
        sim.check_contract(contract, ContractMode::Observe);
        let prism = Prism::proxy(&spec.subset_path(), &sim.url())?;
        sim.set_public_url(prism.url());
        Ok(Self { sim, prism })
    }

    /// The URL clients use: Prism's.
    #[must_use]
    pub fn url(&self) -> &str {
        self.prism.url()
    }
}
