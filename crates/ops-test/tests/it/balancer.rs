//! The droplet ground's load balancer following a Load Balancer of the DigitalOcean stand-in: a
//! droplet taken out through the API gets no more requests, one put back gets them again.
//!
//! Needs root and `scripts/setup-droplet`, like the ground's own tests.

use std::io::{BufRead, BufReader};
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ops_test::digitalocean::{DoSim, NetworkType, NewLoadBalancer};
use ops_test::droplet::{Ground, hello_binary, http_get, poll};
use reqwest::Method;
use serde_json::json;

const SHORT: Duration = Duration::from_secs(2);
const BOUND: Duration = Duration::from_secs(60);

/// A `hello` on every address of the host, stopped on drop.
struct Hello(Child, u16);

impl Drop for Hello {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn hello() -> Hello {
    let mut child = Command::new(hello_binary().expect("hello builds"))
        .env_clear()
        .env("PORT", "0")
        .env("VERSION", "behind-the-balancer")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hello starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("hello says where it listens");
    let port = line.trim().rsplit(':').next().and_then(|p| p.parse().ok());
    Hello(child, port.unwrap_or_else(|| panic!("no port in `{line}`")))
}

/// The lines of a log file (empty when there is none yet).
fn lines(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count())
}

async fn change(dosim: &DoSim, lb: &str, method: Method, ids: &[u64]) -> (u16, serde_json::Value) {
    crate::support::call(
        method,
        &format!("{}/v2/load_balancers/{lb}/droplets", dosim.url()),
        "t",
        Some(&json!({ "droplet_ids": ids })),
    )
    .await
}

#[tokio::test]
async fn the_balancer_stops_sending_to_a_droplet_the_load_balancer_drops() {
    let ground = Ground::start_with_balancer(3);
    let balancer = ground.balancer().clone();
    let ips: Vec<Ipv4Addr> = ground.droplets().iter().map(|d| d.ip()).collect();
    assert_eq!(balancer.backends(), ips, "it starts in front of every droplet");

    // Every droplet's nginx sends to one `hello` on the host, so a request that reaches any droplet
    // gets a 200.
    let app = hello();
    let bridge = format!("10.250.{}.1", ground.slot());
    for d in ground.droplets() {
        std::fs::write(
            d.upstream_file(),
            format!("upstream app {{\n    server {bridge}:{};\n}}\n", app.1),
        )
        .expect("upstream written");
        let reload = Command::new("sh").args(["-c", &d.nginx_reload_cmd()]).status();
        assert!(
            reload.is_ok_and(|s| s.success()),
            "nginx reloads on droplet {}",
            d.index()
        );
        // A reload's old worker may still take a connection or two after a new one answers.
        let mut in_a_row = 0;
        poll("the droplet answers 200 twenty times in a row", BOUND, || {
            let ok = http_get(&d.proxy_url(), SHORT).is_ok_and(|(s, _)| s == 200);
            in_a_row = if ok { in_a_row + 1 } else { 0 };
            (in_a_row >= 20).then_some(())
        });
    }

    let dosim = DoSim::start();
    let ids = ground.add_to_digitalocean(&dosim, "web-prod", NetworkType::Public);
    let lb = dosim.with(|s| s.add_load_balancer(NewLoadBalancer::droplets("web-lb", &ids)));
    balancer
        .follow(&dosim, &lb)
        .expect("the balancer follows the stand-in's");

    // Round robin over three: every droplet is reached.
    let access: Vec<_> = ground
        .droplets()
        .iter()
        .map(|d| d.dir().join("nginx/access.log"))
        .collect();
    let before: Vec<usize> = access.iter().map(|p| lines(p)).collect();
    for _ in 0..6 {
        let (status, body) = http_get(&balancer.url(), SHORT).expect("the balancer answers");
        assert_eq!(
            (status, body.trim()),
            (200, "version=behind-the-balancer greeting=")
        );
    }
    for (i, p) in access.iter().enumerate() {
        assert!(lines(p) > before[i], "droplet {} got no request", i + 1);
    }

    // Droplet 3 out: once the API has answered, no request reaches it.
    assert_eq!(change(&dosim, &lb, Method::DELETE, &[ids[2]]).await.0, 204);
    assert_eq!(balancer.backends(), ips[..2]);
    let third = lines(&access[2]);
    let mark = balancer.access_log().lines().count();
    for _ in 0..30 {
        let (status, _) = http_get(&balancer.url(), SHORT).expect("the balancer answers");
        assert_eq!(status, 200, "no request fails while droplet 3 is out");
    }
    assert_eq!(
        lines(&access[2]),
        third,
        "droplet 3 got requests after it was taken out"
    );
    let log = balancer.access_log();
    let served: Vec<&str> = log.lines().skip(mark).collect();
    assert_eq!(served.len(), 30, "{log}");
    let gone = format!("backend={}:80", ips[2]);
    assert!(served.iter().all(|l| !l.contains(&gone)), "{log}");

    // Back in: it gets requests again.
    assert_eq!(change(&dosim, &lb, Method::POST, &[ids[2]]).await.0, 204);
    poll("droplet 3 gets requests again", BOUND, || {
        let _ = http_get(&balancer.url(), SHORT);
        (lines(&access[2]) > third).then_some(())
    });

    // None left: the balancer answers 502 itself.
    assert_eq!(change(&dosim, &lb, Method::DELETE, &ids).await.0, 204);
    assert_eq!(http_get(&balancer.url(), SHORT).expect("answers").0, 502);

    // Once the ground is gone, so is the balancer; the stand-in's request fails and changes nothing.
    let netns = Path::new("/run/netns").join(format!("odg{}-lb", ground.slot()));
    assert!(netns.exists());
    drop(ground);
    assert!(
        !netns.exists(),
        "the balancer's namespace is deleted with the ground"
    );
    let (status, body) = change(&dosim, &lb, Method::POST, &ids).await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["message"].as_str().unwrap_or_default().contains("stopped"),
        "{body}"
    );
    assert_eq!(dosim.with(|s| s.load_balancer_droplets(&lb)), Some(Vec::new()));
}
