//! The DigitalOcean stand-in's Droplets and Load Balancers, through Prism and the Rust contract check
//! (the shared `digitalocean::checked()`; each test has its own tags, names and tokens): Droplets by
//! tag over pages of 200, a token without a scope, a balancer's Droplets taken out and put back (and
//! what its callback is told), and the 422 of a balancer that targets a tag.

use std::net::Ipv4Addr;
use std::sync::{Arc, Mutex};

use ops_test::digitalocean::{
    self, DoSim, DoState, HealthCheck, HealthProtocol, NewDroplet, NewLoadBalancer,
};
use ops_test::sim::Checked;
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::client;

/// One exchange through Prism.
struct Answer {
    status: u16,
    body: Value,
    /// Prism's objection (`sl-violations` on a response, a problem body on a request), if any.
    prism: Option<String>,
}

async fn call(url: &str, method: Method, path: &str, token: &str, body: Option<&Value>) -> Answer {
    let mut req = client()
        .request(method, format!("{url}{path}"))
        .bearer_auth(token)
        .header("accept", "application/json");
    if let Some(b) = body {
        req = req.json(b);
    }
    let resp = req.send().await.expect("prism answers");
    let status = resp.status().as_u16();
    let violations = resp
        .headers()
        .get("sl-violations")
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.contains("\"Error\""))
        .map(str::to_owned);
    let text = resp.text().await.expect("body");
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
    let rejected = body["type"]
        .as_str()
        .is_some_and(|t| t.contains("stoplight.io/prism/errors"))
        .then(|| body["validation"].to_string());
    Answer {
        status,
        body,
        prism: violations.or(rejected),
    }
}

/// Calls and expects `want`, with no objection from Prism.
async fn expect(url: &str, want: u16, method: Method, path: &str, token: &str, body: Option<Value>) -> Value {
    let a = call(url, method, path, token, body.as_ref()).await;
    assert_eq!(a.status, want, "{path}: {}", a.body);
    assert_eq!(a.prism, None, "prism objected to {path}");
    a.body
}

/// No Rust contract violation on an exchange whose path or query holds `marker`.
fn clean(checked: &Checked<DoState>, marker: &str) {
    let mine: Vec<usize> = checked
        .sim
        .exchanges()
        .iter()
        .filter(|e| e.path.contains(marker) || e.query.iter().any(|(_, v)| v.contains(marker)))
        .map(|e| e.seq)
        .collect();
    assert!(!mine.is_empty(), "no exchange with `{marker}`");
    let found: Vec<String> = checked
        .sim
        .violations()
        .iter()
        .filter(|v| v.seq.is_some_and(|seq| mine.contains(&seq)))
        .map(ToString::to_string)
        .collect();
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn ids_of(body: &Value, key: &str) -> Vec<u64> {
    body[key]
        .as_array()
        .expect("a list")
        .iter()
        .map(|d| d["id"].as_u64().expect("an integer id"))
        .collect()
}

#[tokio::test]
async fn droplets_by_tag_come_in_pages_of_200_with_links_that_keep_the_tag() {
    let checked = digitalocean::checked();
    let (url, tok) = (checked.url().to_owned(), "fleet-pages");
    let tagged: Vec<u64> = checked.sim.with(|s| {
        (0..250u32)
            .map(|i| {
                let [_, _, c, d] = i.to_be_bytes();
                let new = NewDroplet::new(&format!("fleet-pages-{i}"))
                    .tag("fleet-pages")
                    .tag("other")
                    .public(Ipv4Addr::new(203, 0, c, d))
                    .private(Ipv4Addr::new(10, 10, c, d));
                s.add_droplet(new)
            })
            .collect()
    });
    let stranger = checked
        .sim
        .with(|s| s.add_droplet(NewDroplet::new("fleet-pages-stranger").tag("fleet-pages-not")));

    let first = expect(
        &url,
        200,
        Method::GET,
        "/v2/droplets?tag_name=fleet-pages&per_page=200&page=1",
        tok,
        None,
    )
    .await;
    assert_eq!(first["meta"]["total"], 250);
    let next = first["links"]["pages"]["next"]
        .as_str()
        .expect("a next page")
        .to_owned();
    assert_eq!(first["links"]["pages"]["last"], next.as_str(), "two pages in all");
    assert!(
        next.starts_with(&url),
        "links point where the client called: {next}"
    );
    assert!(
        next.contains("tag_name=fleet-pages") && next.contains("page=2"),
        "{next}"
    );
    let second = expect(&url, 200, Method::GET, &next[url.len()..], tok, None).await;
    assert_eq!(second["links"]["pages"].get("next"), None);
    assert!(
        second["links"]["pages"]["prev"].is_string(),
        "{}",
        second["links"]
    );

    let (a, b) = (ids_of(&first, "droplets"), ids_of(&second, "droplets"));
    assert_eq!((a.len(), b.len()), (200, 50));
    assert_eq!([a, b].concat(), tagged, "every tagged Droplet once, in ID order");
    assert!(!tagged.contains(&stranger));

    let d = &first["droplets"][0];
    assert_eq!(d["name"], "fleet-pages-0");
    assert_eq!(d["status"], "active");
    assert_eq!(d["tags"], json!(["fleet-pages", "other"]));
    assert_eq!(
        d["networks"]["v4"],
        json!([
            {"ip_address": "203.0.0.0", "netmask": "255.255.255.0", "gateway": "203.0.0.1", "type": "public"},
            {"ip_address": "10.10.0.0", "netmask": "255.255.255.0", "type": "private"},
        ])
    );
    // The default page is 20; a name finds one Droplet (case-insensitively); a tag nobody has, none.
    let page = expect(
        &url,
        200,
        Method::GET,
        "/v2/droplets?tag_name=fleet-pages",
        tok,
        None,
    )
    .await;
    assert_eq!(
        (page["droplets"].as_array().unwrap().len(), &page["meta"]["total"]),
        (20, &json!(250))
    );
    let named = expect(
        &url,
        200,
        Method::GET,
        "/v2/droplets?name=FLEET-PAGES-7",
        tok,
        None,
    )
    .await;
    assert_eq!(ids_of(&named, "droplets"), [tagged[7]]);
    let none = expect(
        &url,
        200,
        Method::GET,
        "/v2/droplets?tag_name=fleet-pages-nobody",
        tok,
        None,
    )
    .await;
    assert_eq!(
        (none["droplets"].clone(), none["meta"]["total"].clone()),
        (json!([]), json!(0))
    );
    // More than 200 a page is refused before the handler, as DigitalOcean does.
    let over = call(
        &url,
        Method::GET,
        "/v2/droplets?tag_name=fleet-over&per_page=201",
        tok,
        None,
    )
    .await;
    assert!(matches!(over.status, 400 | 422), "{}", over.body);
    clean(checked, "fleet-pages");
}

#[tokio::test]
async fn a_token_without_a_scope_gets_digitaloceans_403() {
    let checked = digitalocean::checked();
    let url = checked.url().to_owned();
    checked.sim.with(|s| {
        s.add_droplet(NewDroplet::new("fleet-scopes-1").tag("fleet-scopes"));
        s.withhold_scopes("fleet-no-tag-read", &["tag:read"]);
        s.withhold_scopes("fleet-no-droplet-read", &["droplet:read"]);
        s.withhold_scopes("fleet-no-lb-update", &["load_balancer:update"]);
    });
    let tagged = "/v2/droplets?tag_name=fleet-scopes";
    let forbidden = expect(&url, 403, Method::GET, tagged, "fleet-no-tag-read", None).await;
    assert_eq!(forbidden["id"], "forbidden");
    assert_eq!(
        forbidden["message"],
        "You do not have access for the attempted action."
    );
    // Without the tag filter that token needs only `droplet:read`, which it has.
    expect(
        &url,
        200,
        Method::GET,
        "/v2/droplets?name=fleet-scopes-1",
        "fleet-no-tag-read",
        None,
    )
    .await;
    expect(
        &url,
        403,
        Method::GET,
        "/v2/droplets?name=fleet-scopes-1",
        "fleet-no-droplet-read",
        None,
    )
    .await;
    expect(&url, 403, Method::GET, tagged, "fleet-no-droplet-read", None).await;
    expect(&url, 200, Method::GET, tagged, "fleet-scopes-full", None).await;

    let lb = checked
        .sim
        .with(|s| s.add_load_balancer(NewLoadBalancer::droplets("fleet-scopes-lb", &[])));
    let path = format!("/v2/load_balancers/{lb}");
    expect(&url, 200, Method::GET, &path, "fleet-no-lb-update", None).await;
    let body = json!({"droplet_ids": []});
    expect(
        &url,
        403,
        Method::POST,
        &format!("{path}/droplets"),
        "fleet-no-lb-update",
        Some(body),
    )
    .await;
    clean(checked, "fleet-scopes");
    clean(checked, &lb);
}

#[tokio::test]
async fn a_balancers_droplets_come_and_go_and_its_callback_is_told() {
    let checked = digitalocean::checked();
    let (url, tok) = (checked.url().to_owned(), "fleet-lb");
    let ids: Vec<u64> = checked.sim.with(|s| {
        (1..=3u8)
            .map(|i| s.add_droplet(NewDroplet::new(&format!("fleet-lb-{i}")).tag("fleet-lb")))
            .collect()
    });
    let check = HealthCheck {
        protocol: HealthProtocol::Http,
        port: 8080,
        path: "/health".into(),
        check_interval_seconds: 3,
        response_timeout_seconds: 2,
        healthy_threshold: 2,
        unhealthy_threshold: 3,
    };
    let (lb, tag_lb) = checked.sim.with(|s| {
        (
            s.add_load_balancer(NewLoadBalancer::droplets("fleet-lb-ids", &ids).health_check(check)),
            s.add_load_balancer(NewLoadBalancer::tag("fleet-lb-tag", "fleet-lb")),
        )
    });
    let told = Arc::new(Mutex::new(Vec::<Vec<u64>>::new()));
    for id in [&lb, &tag_lb] {
        let sink = Arc::clone(&told);
        checked
            .sim
            .with(|s| {
                s.on_load_balancer_change(id, move |ids| {
                    sink.lock().unwrap().push(ids.to_vec());
                    Ok(())
                })
            })
            .unwrap();
    }
    assert_eq!(*told.lock().unwrap(), [ids.clone(), ids.clone()], "told at once");
    told.lock().unwrap().clear();

    let path = format!("/v2/load_balancers/{lb}");
    let got = expect(&url, 200, Method::GET, &path, tok, None).await;
    let b = &got["load_balancer"];
    assert_eq!(
        (b["id"].as_str(), b["name"].as_str(), b["tag"].as_str()),
        (Some(lb.as_str()), Some("fleet-lb-ids"), Some(""))
    );
    assert_eq!(b["droplet_ids"], json!(ids));
    assert_eq!(
        b["health_check"],
        json!({"protocol": "http", "port": 8080, "path": "/health", "check_interval_seconds": 3,
            "response_timeout_seconds": 2, "healthy_threshold": 2, "unhealthy_threshold": 3})
    );
    // Found by name in the list (a client given a name does this).
    let list = expect(
        &url,
        200,
        Method::GET,
        "/v2/load_balancers?per_page=200&page=1",
        tok,
        None,
    )
    .await;
    let by_name: Vec<&Value> = list["load_balancers"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["name"] == "fleet-lb-tag")
        .collect();
    assert_eq!(by_name.len(), 1);
    assert_eq!(
        (by_name[0]["id"].as_str(), by_name[0]["tag"].as_str()),
        (Some(tag_lb.as_str()), Some("fleet-lb"))
    );
    assert_eq!(
        by_name[0]["droplet_ids"],
        json!(ids),
        "a tag balancer lists the tagged Droplets"
    );

    let droplets = format!("{path}/droplets");
    let out = json!({"droplet_ids": [ids[1]]});
    expect(&url, 204, Method::DELETE, &droplets, tok, Some(out.clone())).await;
    expect(&url, 204, Method::DELETE, &droplets, tok, Some(out.clone())).await;
    let after = expect(&url, 200, Method::GET, &path, tok, None).await;
    assert_eq!(after["load_balancer"]["droplet_ids"], json!([ids[0], ids[2]]));
    expect(&url, 204, Method::POST, &droplets, tok, Some(out.clone())).await;
    expect(&url, 204, Method::POST, &droplets, tok, Some(out)).await;
    assert_eq!(
        *told.lock().unwrap(),
        [vec![ids[0], ids[2]], vec![ids[0], ids[2], ids[1]]],
        "told each change once, none for a repeat"
    );
    assert_eq!(
        checked.sim.with(|s| s.load_balancer_droplets(&lb)),
        Some(vec![ids[0], ids[2], ids[1]])
    );

    // A balancer that targets a tag refuses single Droplets, as DigitalOcean does; nothing changes.
    let tag_droplets = format!("/v2/load_balancers/{tag_lb}/droplets");
    let refused = expect(
        &url,
        422,
        Method::DELETE,
        &tag_droplets,
        tok,
        Some(json!({"droplet_ids": [ids[0]]})),
    )
    .await;
    assert_eq!(refused["id"], "unprocessable_entity");
    expect(
        &url,
        422,
        Method::POST,
        &tag_droplets,
        tok,
        Some(json!({"droplet_ids": [ids[0]]})),
    )
    .await;
    assert_eq!(told.lock().unwrap().len(), 2, "no change told");
    // A Droplet that does not exist cannot be added; an unknown balancer is a 404.
    expect(
        &url,
        422,
        Method::POST,
        &droplets,
        tok,
        Some(json!({"droplet_ids": [1]})),
    )
    .await;
    expect(
        &url,
        404,
        Method::GET,
        "/v2/load_balancers/5eed0000-0000-4000-8000-00000000dead",
        tok,
        None,
    )
    .await;
    // The health check is the test's to change.
    checked.sim.with(|s| {
        s.set_health_check(
            &lb,
            HealthCheck {
                check_interval_seconds: 5,
                ..HealthCheck::default()
            },
        )
    });
    let changed = expect(&url, 200, Method::GET, &path, tok, None).await;
    assert_eq!(
        changed["load_balancer"]["health_check"]["check_interval_seconds"],
        5
    );
    clean(checked, &lb);
    clean(checked, &tag_lb);
}

#[tokio::test]
async fn a_failing_callback_fails_the_request_and_changes_nothing() {
    let dosim = DoSim::start();
    let a = dosim.with(|s| s.add_droplet(NewDroplet::new("a")));
    let lb = dosim.with(|s| s.add_load_balancer(NewLoadBalancer::droplets("lb", &[a])));
    dosim
        .with(|s| {
            s.on_load_balancer_change(&lb, |ids| {
                if ids.is_empty() {
                    Err("the proxy refused".to_owned())
                } else {
                    Ok(())
                }
            })
        })
        .unwrap();
    let (status, body) = crate::support::call(
        Method::DELETE,
        &format!("{}/v2/load_balancers/{lb}/droplets", dosim.url()),
        "t",
        Some(&json!({"droplet_ids": [a]})),
    )
    .await;
    assert_eq!(status, 500, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("the proxy refused"),
        "{body}"
    );
    assert_eq!(dosim.with(|s| s.load_balancer_droplets(&lb)), Some(vec![a]));
}

/// Kills `ops-sim` even when an assertion fails first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn ops_sim_serves_the_droplets_and_balancers_it_is_given() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let child = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args(["digitalocean", "--droplet", "web-1:10.250.7.11:web-prod,blue"])
        .args([
            "--droplet",
            "web-2:10.250.7.12:web-prod",
            "--droplet",
            "db-1:10.250.7.20",
        ])
        .args([
            "--load-balancer",
            "web-lb=droplets:web-1,web-2",
            "--load-balancer",
            "tag-lb=tag:web-prod",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .expect("ops-sim starts");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim();
    let (status, tagged) = crate::support::get(&format!("{url}/v2/droplets?tag_name=web-prod"), "t").await;
    assert_eq!(status, 200, "{tagged}");
    let names: Vec<&str> = tagged["droplets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["web-1", "web-2"]);
    assert_eq!(
        tagged["droplets"][0]["networks"]["v4"][0]["ip_address"],
        "10.250.7.11"
    );
    assert_eq!(tagged["droplets"][0]["tags"], json!(["web-prod", "blue"]));
    let (status, lbs) = crate::support::get(&format!("{url}/v2/load_balancers"), "t").await;
    assert_eq!(status, 200, "{lbs}");
    let ids = ids_of(&tagged, "droplets");
    assert_eq!(lbs["load_balancers"][0]["name"], "web-lb");
    assert_eq!(lbs["load_balancers"][0]["droplet_ids"], json!(ids));
    assert_eq!(lbs["load_balancers"][1]["tag"], "web-prod");

    // A balancer naming a Droplet that was not given is bad input (exit 2).
    let out = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args(["digitalocean", "--load-balancer", "lb=droplets:nobody"])
        .output()
        .expect("ops-sim runs");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no `--droplet` named `nobody`"), "{stderr}");
}
