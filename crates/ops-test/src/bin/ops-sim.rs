//! `ops-sim`: runs a local API stand-in until interrupted, for scripts and demos.
//!
//! ```text
//! ops-sim github --port 8080        # prints http://127.0.0.1:8080
//! ops-sim digitalocean              # a free port
//! ops-sim kubernetes                # a healthy cluster: new pods become ready in about a second
//! ops-sim digitalocean --droplet web-1:10.250.7.11:web-prod --droplet web-2:10.250.7.12:web-prod \
//!     --load-balancer web-lb=droplets:web-1,web-2
//! ops-sim digitalocean --kubernetes-cluster prod=http://127.0.0.1:6443   # `ops-sim kubernetes --port 6443`
//! ```
//!
//! The DigitalOcean stand-in's clock follows the real one here, so a credential's `expires_at` is as
//! far from a client's own clock as the client asked for.

use std::net::Ipv4Addr;

use clap::{Parser, ValueEnum};
use ops_test::digitalocean::{DoState, NewDroplet, NewKubernetesCluster, NewLoadBalancer};
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
    /// A Droplet the DigitalOcean stand-in starts with, `NAME:PUBLIC_IPV4[:TAG,…]` (repeatable).
    #[arg(long, value_name = "NAME:IPV4[:TAGS]", value_parser = parse_droplet)]
    droplet: Vec<NewDroplet>,
    /// A Load Balancer the DigitalOcean stand-in starts with, `NAME=tag:TAG` or
    /// `NAME=droplets:DROPLET,…` (Droplets by name, from `--droplet`; repeatable).
    #[arg(long, value_name = "NAME=TARGET", value_parser = parse_balancer)]
    load_balancer: Vec<Balancer>,
    /// A DigitalOcean Kubernetes cluster the DigitalOcean stand-in starts with, `NAME=URL`: its
    /// credentials send clients to the Kubernetes API at URL, e.g. `ops-sim kubernetes`'s
    /// (repeatable).
    #[arg(long, value_name = "NAME=URL", value_parser = parse_cluster)]
    kubernetes_cluster: Vec<NewKubernetesCluster>,
}

/// A `--load-balancer` before the Droplet names are resolved.
#[derive(Debug, Clone)]
struct Balancer {
    name: String,
    tag: Option<String>,
    droplets: Vec<String>,
}

fn parse_droplet(value: &str) -> Result<NewDroplet, String> {
    let mut parts = value.splitn(3, ':');
    let name = parts.next().unwrap_or_default();
    let ip = parts.next().unwrap_or_default();
    if name.is_empty() {
        return Err("expected `NAME:IPV4[:TAG,…]`".to_owned());
    }
    let ip: Ipv4Addr = ip
        .parse()
        .map_err(|_| format!("`{ip}` is not an IPv4 address (expected `NAME:IPV4[:TAG,…]`)"))?;
    let mut droplet = NewDroplet::new(name).public(ip);
    for tag in parts
        .next()
        .unwrap_or_default()
        .split(',')
        .filter(|t| !t.is_empty())
    {
        droplet = droplet.tag(tag);
    }
    Ok(droplet)
}

fn parse_balancer(value: &str) -> Result<Balancer, String> {
    let expected = "expected `NAME=tag:TAG` or `NAME=droplets:DROPLET,…`";
    let (name, target) = value.split_once('=').ok_or(expected)?;
    let (tag, droplets) = match target.split_once(':') {
        Some(("tag", tag)) if !tag.is_empty() => (Some(tag.to_owned()), Vec::new()),
        Some(("droplets", names)) => (
            None,
            names
                .split(',')
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        _ => return Err(expected.to_owned()),
    };
    if name.is_empty() {
        return Err(expected.to_owned());
    }
    Ok(Balancer {
        name: name.to_owned(),
        tag,
        droplets,
    })
}

fn parse_cluster(value: &str) -> Result<NewKubernetesCluster, String> {
    let expected = "expected `NAME=URL`, e.g. `prod=http://127.0.0.1:6443`";
    let (name, server) = value.split_once('=').ok_or(expected)?;
    if name.is_empty() {
        return Err(expected.to_owned());
    }
    match url::Url::parse(server) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => {
            Ok(NewKubernetesCluster::new(name, server))
        }
        _ => Err(format!("`{server}` is not an http(s) URL ({expected})")),
    }
}

/// Now on the real clock, Unix seconds.
fn real_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// The DigitalOcean state the flags describe, its clock on the real time.
fn seeded(cli: &Cli) -> Result<DoState, String> {
    let mut state = DoState::default();
    state.jump_to(real_now());
    for d in &cli.droplet {
        state.add_droplet(d.clone());
    }
    for lb in &cli.load_balancer {
        let new = match &lb.tag {
            Some(tag) => NewLoadBalancer::tag(&lb.name, tag),
            None => {
                let ids = lb
                    .droplets
                    .iter()
                    .map(|name| {
                        state
                            .droplets()
                            .iter()
                            .find(|d| d.name == *name)
                            .map(|d| d.id)
                            .ok_or_else(|| {
                                format!("`--load-balancer {}`: no `--droplet` named `{name}`", lb.name)
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                NewLoadBalancer::droplets(&lb.name, &ids)
            }
        };
        state.add_load_balancer(new);
    }
    for cluster in &cli.kubernetes_cluster {
        state.add_kubernetes_cluster(cluster.clone());
    }
    Ok(state)
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Which {
    Github,
    Digitalocean,
    Kubernetes,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let seeds =
        !cli.droplet.is_empty() || !cli.load_balancer.is_empty() || !cli.kubernetes_cluster.is_empty();
    if seeds && !matches!(cli.api, Which::Digitalocean) {
        // Exit contract: bad input.
        return fail(
            "`--droplet`, `--load-balancer` and `--kubernetes-cluster` are for `digitalocean`",
            2,
        );
    }
    let result = match cli.api {
        Which::Github => serve(Sim::<GithubState>::start_on(cli.port, GithubState::default())),
        Which::Digitalocean => match seeded(&cli) {
            Ok(state) => serve_on_real_time(Sim::<DoState>::start_on(cli.port, state)),
            // Exit contract: bad input.
            Err(e) => return fail(&e, 2),
        },
        Which::Kubernetes => serve_ticking(
            Sim::<KubeState>::start_on(cli.port, KubeState::default()),
            cli.tick_millis,
        ),
    };
    match result {
        Ok(never) => match never {},
        // Exit contract: the tool itself broke.
        Err(e) => fail(&e.to_string(), 3),
    }
}

fn fail(message: &str, code: u8) -> std::process::ExitCode {
    #[expect(clippy::print_stderr, reason = "the binary's only error report")]
    {
        eprintln!("error: {message}");
    }
    std::process::ExitCode::from(code)
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
    sim.with(|s| s.jump_to(real_now()));
    let tick = std::time::Duration::from_millis(tick_millis.max(1));
    loop {
        std::thread::sleep(tick);
        sim.with(|s| s.advance(1));
    }
}

/// Like [`serve`], and keeps the DigitalOcean clock on the real one (it only moves forward; requests
/// move it too), so that `expires_at` of a credential and the rate-limit reset mean what they say.
fn serve_on_real_time(sim: std::io::Result<Sim<DoState>>) -> std::io::Result<std::convert::Infallible> {
    let sim = sim?;
    #[expect(clippy::print_stdout, reason = "the URL is the program's output")]
    {
        println!("{}", sim.url());
    }
    loop {
        std::thread::sleep(std::time::Duration::from_secs(1));
        sim.with(|s| s.jump_to(real_now()));
    }
}
