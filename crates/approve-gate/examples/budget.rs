//! Rate-limit budget of one hour of waiting, measured on the GitHub stand-in's record: approve-gate
//! on virtual time (an hour passes at once), next to trstringer/manual-approval's polling (list the
//! first page of comments every 10 s, no `If-None-Match`). Prints a Markdown table.
//!
//! `cargo run -p approve-gate --example budget` (`scripts/bench-approve-gate` runs it).

use std::io::Write;
use std::time::{Duration, Instant};

use approve_gate::cli::Args;
use approve_gate::clock::Clock;
use ops_core::{Env, Runner, Secret};
use ops_net::GitHub;
use ops_test::github::{GithubSim, GithubState};

const OWNER: &str = "bench";

struct Figures {
    scenario: String,
    budget: u64,
    requests: usize,
    not_modified: usize,
    seconds: f64,
}

fn env_for(sim: &GithubSim, repo: &str, token: &str, extra: &[(&str, &str)]) -> Env {
    let mut pairs: Vec<(String, String)> = vec![
        ("GITHUB_API_URL".into(), sim.url()),
        ("GITHUB_REPOSITORY".into(), format!("{OWNER}/{repo}")),
        ("GITHUB_SERVER_URL".into(), "https://github.com".into()),
        (
            "GITHUB_SHA".into(),
            "0123456789abcdef0123456789abcdef01234567".into(),
        ),
        ("GITHUB_RUN_ID".into(), "1".into()),
        ("GITHUB_ACTOR".into(), "octocat".into()),
        ("INPUT_GITHUB_TOKEN".into(), token.into()),
        ("INPUT_APPROVERS".into(), "alice\nbob".into()),
        ("INPUT_TIMEOUT".into(), "1h".into()),
    ];
    pairs.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    Env::from_pairs(pairs)
}

fn repo(sim: &GithubSim, name: &str, token: &str) {
    sim.with(|s: &mut GithubState| {
        s.add_repo(OWNER, name);
        s.set_permission(OWNER, name, "alice", "write");
        s.set_permission(OWNER, name, "bob", "write");
        s.set_rate_limit(token, 1_000);
    });
}

fn figures(sim: &GithubSim, scenario: &str, name: &str, token: &str, started: Instant) -> Figures {
    let marker = format!("/{OWNER}/{name}/");
    let ours: Vec<_> = sim
        .exchanges()
        .into_iter()
        .filter(|e| e.path.contains(&marker))
        .collect();
    Figures {
        scenario: scenario.to_owned(),
        budget: sim.with(|s| s.budget(token)).used,
        requests: ours.len(),
        not_modified: ours.iter().filter(|e| e.status == 304).count(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// approve-gate in issue mode for one virtual hour; `script` adds comments while it waits.
fn gate(sim: &GithubSim, scenario: &str, name: &str, script: impl FnOnce(&GithubSim, &str)) -> Figures {
    let token = format!("ghs_bench_{name}");
    repo(sim, name, &token);
    script(sim, name);
    let env = env_for(sim, name, &token, &[]);
    let args: Args = match ops_core::cli::parse(["approve-gate"], &env) {
        Ok(args) => args,
        Err(e) => panic!("arguments: {e}"),
    };
    let runner = Runner::with_sink(&env, Box::new(std::io::sink()));
    let started = Instant::now();
    let status = approve_gate::run_with_clock(&args, &env, &runner, Clock::virtual_time());
    assert!(status.is_ok(), "the gate ran: {status:?}");
    figures(sim, scenario, name, &token, started)
}

/// What trstringer/manual-approval does: open the issue, list comments every 10 s (first page,
/// no conditional request), then comment and close.
fn manual_approval(sim: &GithubSim) -> Figures {
    let name = "manual-approval";
    let token = "ghs_bench_manual";
    repo(sim, name, token);
    let env = env_for(sim, name, token, &[]);
    let started = Instant::now();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let gh = GitHub::from_env(&env, Some(Secret::new(token))).expect("a client");
        let issues = format!("/repos/{OWNER}/{name}/issues");
        let issue: serde_json::Value = gh
            .post_json(
                &issues,
                &serde_json::json!({"title": "Manual approval required", "assignees": ["alice", "bob"]}),
            )
            .await
            .expect("issue");
        let n = issue["number"].as_u64().expect("a number");
        let polls = Duration::from_secs(3_600).as_secs() / 10;
        for _ in 0..polls {
            let _: Vec<serde_json::Value> = gh
                .get_json(&format!("{issues}/{n}/comments"))
                .await
                .expect("comments");
        }
        let _: serde_json::Value = gh
            .post_json(
                &format!("{issues}/{n}/comments"),
                &serde_json::json!({"body": "timed out"}),
            )
            .await
            .expect("comment");
        let _: serde_json::Value = gh
            .patch_json(&format!("{issues}/{n}"), &serde_json::json!({"state": "closed"}))
            .await
            .expect("close");
    });
    figures(
        sim,
        "manual-approval polling, 10 s, no ETag (1 h, no comments)",
        name,
        token,
        started,
    )
}

fn main() {
    let sim = GithubSim::start();
    let mut rows = vec![
        gate(
            &sim,
            "approve-gate, default interval (1 h, no comments)",
            "idle",
            |_, _| {},
        ),
        gate(
            &sim,
            "approve-gate, 150 comments already there (1 h)",
            "pages",
            |sim, name| {
                let name = name.to_owned();
                sim.after(&format!("POST /repos/{OWNER}/{name}/issues"), 1, move |s| {
                    for _ in 0..150 {
                        s.add_comment(OWNER, &name, 1, "carol", "any news?");
                    }
                });
            },
        ),
        gate(
            &sim,
            "approve-gate, a remark every 10 min (1 h)",
            "remarks",
            |sim, name| {
                // The gate polls about once a minute once idle: a remark every ~10 polls.
                for n in [10, 20, 30, 40, 50, 60] {
                    let name = name.to_owned();
                    sim.after(
                        &format!("GET /repos/{OWNER}/{name}/issues/*/comments"),
                        n,
                        move |s| {
                            s.add_comment(OWNER, &name, 1, "carol", "any news?");
                        },
                    );
                }
            },
        ),
    ];
    rows.push(manual_approval(&sim));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "| scenario | budget spent | requests | of which 304 | wall time |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} s |",
            r.scenario, r.budget, r.requests, r.not_modified, r.seconds
        );
    }
}
