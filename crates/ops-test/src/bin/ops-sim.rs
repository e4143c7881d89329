//! `ops-sim`: runs a local API stand-in until interrupted, for scripts and demos.
//!
//! ```text
//! ops-sim github --port 8080        # prints http://127.0.0.1:8080
//! ops-sim digitalocean              # a free port
//! ops-sim kubernetes                # a healthy cluster: new pods become ready in about a second
//! ```

use clap::{Parser, ValueEnum};
use ops_test::digitalocean::DoState;
use ops_test::github::GithubState;
use ops_test::kubernetes::KubeState;
use ops_test::sim::{Api, Sim};

/// Run a local GitHub, DigitalOcean or Kubernetes API stand-in on 127.0.0.1 and print its URL.
#[derive(Debug, Parser)]
#[command(name = "ops-sim", version)]
struct Cli {
    /// Which API to stand in for.
    api: Which,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, env = "OPS_SIM_PORT", default_value_t = 0)]
    port: u16,
    /// Kubernetes only: real milliseconds per virtual second of the cluster (pods pull, start and
    /// become ready as this clock runs; a request also moves it one second).
    #[arg(long, env = "OPS_SIM_TICK_MILLIS", default_value_t = 250)]
    tick_millis: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Github,
    Digitalocean,
    Kubernetes,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.api {
        Which::Github => serve(Sim::<GithubState>::start_on(cli.port, GithubState::default())),
        Which::Digitalocean => serve(Sim::<DoState>::start_on(cli.port, DoState::default())),
        Which::Kubernetes => serve_ticking(
            Sim::<KubeState>::start_on(cli.port, KubeState::default()),
            cli.tick_millis,
        ),
    };
    match result {
        Ok(never) => match never {},
        Err(e) => {
            #[expect(clippy::print_stderr, reason = "the binary's only error report")]
            {
                eprintln!("error: {e}");
            }
            // Exit contract: the tool itself broke.
            std::process::ExitCode::from(3)
        }
    }
}

/// Prints the URL (this program's data, for scripts to read) and serves until interrupted.
fn serve<S: Api>(sim: std::io::Result<Sim<S>>) -> std::io::Result<std::convert::Infallible> {
    let sim = sim?;
    #[expect(clippy::print_stdout, reason = "the URL is the program's output")]
    {
        println!("{}", sim.url());
    }
    // The server runs on its own thread; this one only keeps the process alive.
    loop {
        std::thread::park();
    }
}

/// Like [`serve`], and moves the cluster's clock on in real time so that, with nothing scripted,
/// new pods pull, start and become ready by themselves.
fn serve_ticking(
    sim: std::io::Result<Sim<KubeState>>,
    tick_millis: u64,
) -> std::io::Result<std::convert::Infallible> {
    let sim = sim?;
    #[expect(clippy::print_stdout, reason = "the URL is the program's output")]
    {
        println!("{}", sim.url());
    }
    // Ages shown by clients are against the real time, so the cluster's clock starts there.
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    sim.with(|s| s.jump_to(real_now));
    let tick = std::time::Duration::from_millis(tick_millis.max(1));
    loop {
        std::thread::sleep(tick);
        sim.with(|s| s.advance(1));
    }
}
