//! The benchmark behind `scripts/bench-do-deploy` (ignored in normal runs): API calls and wall time
//! for a deployment that takes five minutes of the tool's own clock, next to app_action's fixed
//! two-second polling.
//!
//! The tool runs in process with a clock that never sleeps; after every wait the clock's hook moves
//! the stand-in's deployment along a five-minute timeline, so the deployment's phases change at the
//! times they would in production while the run takes milliseconds.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use do_deploy::clock::Clock;
use ops_core::{Env, Runner};
use ops_test::digitalocean::DoSim;
use ops_test::harness::FakeRunner;

use crate::support::{TOKEN, service_spec, spec_file};

/// When the deployment leaves each phase: PENDING_BUILD 30 s, BUILDING 2m30s, PENDING_DEPLOY 30 s,
/// DEPLOYING 1m30s; ACTIVE at 5:00.
const TIMELINE: [u64; 4] = [30, 180, 210, 300];

/// app_action v2 polls the deployment every 2 s, then the app for `live_url` every 2 s.
const APP_ACTION_INTERVAL: u64 = 2;

struct Figures {
    calls: usize,
    polls: usize,
    virtual_time: Duration,
    wall: Duration,
}

fn one_run(http: bool) -> Figures {
    let sim = Arc::new(DoSim::start());
    let (yaml, spec) = service_spec("bench-app", "v1");
    let (yaml, spec) = if http {
        (yaml, spec)
    } else {
        let yaml = yaml
            .replace("services:", "workers:")
            .replace("    http_port: 8080\n", "");
        let mut worker = spec["services"][0].clone();
        worker.as_object_mut().unwrap().remove("http_port");
        (
            yaml,
            serde_json::json!({"name": "bench-app", "region": "ams", "workers": [worker]}),
        )
    };
    let app = sim.with(|s| s.add_app(spec.clone()));
    sim.with(|s| s.set_polls_per_phase(0));
    sim.clear_record();

    let runner = FakeRunner::new()
        .unwrap()
        .input("token", TOKEN)
        .input("api-url", sim.url())
        .input("images", "api=:v2")
        .env("OPS_RETRY_DELAY_SCALE", "0");
    spec_file(&runner, &yaml);
    let env: Env = runner.to_env();
    let args = ops_core::cli::parse::<do_deploy::cli::Args>(["do-deploy"], &env).unwrap();
    let log = Runner::with_sink(&env, Box::new(std::io::sink()));

    let moved = Arc::new(AtomicUsize::new(0));
    let (hook_sim, hook_moved) = (Arc::clone(&sim), Arc::clone(&moved));
    let clock = Clock::new(0.0).with_hook(move |elapsed| {
        while hook_moved.load(Ordering::SeqCst) < TIMELINE.len()
            && elapsed.as_secs() >= TIMELINE[hook_moved.load(Ordering::SeqCst)]
        {
            hook_sim.with(|s| s.advance());
            hook_moved.fetch_add(1, Ordering::SeqCst);
        }
    });
    let started = Instant::now();
    let status = do_deploy::run_with_clock(&args, &env, &log, clock).unwrap();
    let wall = started.elapsed();
    assert_eq!(status, ops_core::ExitStatus::Success);
    assert_eq!(moved.load(Ordering::SeqCst), TIMELINE.len());
    let outputs = runner.collect(Some(0), b"", b"").unwrap().outputs;
    let ours = outputs["deployment-id"].clone();
    Figures {
        calls: sim.exchanges().len(),
        polls: sim.count(&format!("GET /v2/apps/{app}/deployments/{ours}")),
        virtual_time: Duration::from_secs(TIMELINE[3]),
        wall,
    }
}

#[test]
#[ignore = "benchmark: scripts/bench-do-deploy"]
fn bench_five_minute_deployment() {
    let rounds = 5;
    for (label, http) in [
        ("service app (live URL and health checked)", true),
        ("worker-only app", false),
    ] {
        let mut walls = Vec::new();
        let mut last = None;
        for _ in 0..rounds {
            let f = one_run(http);
            walls.push(f.wall);
            last = Some(f);
        }
        let f = last.unwrap();
        walls.sort();
        let app_action_polls = f.virtual_time.as_secs() / APP_ACTION_INTERVAL;
        // Its calls: PUT, the deployments list (per_page=1), the polls, and at least one GET of the
        // app for `live_url` (for a worker-only app that loop never ends: 1 call every 2 s until
        // the job's 6 h limit).
        let app_action = if http {
            format!("{}", app_action_polls + 3)
        } else {
            format!(
                "{} + 1 every 2 s until the job times out (10,800 in 6 h)",
                app_action_polls + 2
            )
        };
        println!(
            "do-deploy bench: {label}: deployment of {}s (virtual): {} API calls, of which {} polls of the deployment; \
             wall time median {:.1} ms (min {:.1}, max {:.1}, {rounds} runs); app_action v2: {} calls, of which {} polls",
            f.virtual_time.as_secs(),
            f.calls,
            f.polls,
            walls[walls.len() / 2].as_secs_f64() * 1000.0,
            walls[0].as_secs_f64() * 1000.0,
            walls[walls.len() - 1].as_secs_f64() * 1000.0,
            app_action,
            app_action_polls,
        );
    }
}
