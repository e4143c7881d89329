//! Cancellation: a cancelled job gets SIGINT, then SIGTERM, then SIGKILL a few seconds later
//! (the runner's order). The gate listens for the first two so it can comment on and close its
//! issue before the kill.

use crate::error::Error;

/// Listens for SIGINT and SIGTERM from the moment it is created (signals that arrive before
/// anyone waits are kept, so one that lands while the issue is being opened is not lost).
#[derive(Debug)]
pub struct Cancel {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Cancel {
    /// Starts listening. Needs a running tokio runtime.
    pub fn listen() -> Result<Self, Error> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            let fail = |e: std::io::Error| Error::Runtime {
                message: format!("cannot listen for cancellation signals: {e}"),
                hint: None,
            };
            Ok(Self {
                term: signal(SignalKind::terminate()).map_err(fail)?,
                int: signal(SignalKind::interrupt()).map_err(fail)?,
            })
        }
        #[cfg(not(unix))]
        {
            Ok(Self {})
        }
    }

    /// Resolves with the signal's name when one arrives.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}
