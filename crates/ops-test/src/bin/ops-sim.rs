//! `ops-sim`: runs a local API stand-in until interrupted, for scripts and demos.
//!
//! ```text
//! ops-sim github --port 8080        # prints http://127.0.0.1:8080
//! ops-sim digitalocean              # a free port
//! ```

use clap::{Parser, ValueEnum};
use ops_test::digitalocean::DoState;
use ops_test::github::GithubState;
use ops_test::sim::{Api, Sim};

/// Run a local GitHub or DigitalOcean API stand-in on 127.0.0.1 and print its URL.
#[derive(Debug, Parser)]
#[command(name = "ops-sim", version)]
struct Cli {
    /// Which API to stand in for.
    api: Which,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, env = "OPS_SIM_PORT", default_value_t = 0)]
    port: u16,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Github,
    Digitalocean,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.api {
        Which::Github => serve(Sim::<GithubState>::start_on(cli.port, GithubState::default())),
        Which::Digitalocean => serve(Sim::<DoState>::start_on(cli.port, DoState::default())),
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
