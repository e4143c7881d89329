//! The `ops-sim` binary and the in-runtime way of starting a stand-in.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use ops_test::github::GithubSim;

use crate::support::get;

/// Kills the child even when an assertion fails first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn ops_sim_prints_its_url_and_serves() {
    let child = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args(["digitalocean", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ops-sim starts");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert_eq!(get(&format!("{url}/v2/apps"), "tok").await.0, 200);
}

#[tokio::test]
async fn spawn_serves_on_the_callers_runtime() {
    let gh = GithubSim::spawn();
    gh.with(|s| s.add_repo("o", "r"));
    let (status, repo) = get(&format!("{}/repos/o/r", gh.url()), "t").await;
    assert_eq!((status, repo["full_name"].as_str()), (200, Some("o/r")));
}
