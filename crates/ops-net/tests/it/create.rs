//! Creates that take effect once: against the GitHub and DigitalOcean stand-ins, with faults that
//! let the server do the work and then lose the answer.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use ops_net::{Created, ErrorKind, HttpClient, LostAnswer, Request, TransportKind};
use ops_test::digitalocean::DoSim;
use ops_test::github::GithubSim;
use ops_test::sim::Fault;
use serde_json::{Value, json};

use crate::support::{Events, builder};

const TOKEN: &str = "ghs_createtest";
/// The hidden marker of "this run" that the created issue carries.
const MARKER: &str = "<!-- ops-net-test request 5eed -->";

fn github() -> GithubSim {
    let gh = GithubSim::start();
    gh.with(|s| s.add_repo("o", "r"));
    gh
}

fn client(events: &Events) -> HttpClient {
    events
        .attach(builder())
        .bearer_token(ops_core::Secret::new(TOKEN))
        .build()
        .unwrap()
}

fn open_issue(gh: &GithubSim) -> Request {
    Request::new(Method::POST, &format!("{}/repos/o/r/issues", gh.url()))
        .unwrap()
        .json(&json!({"title": "approve", "body": format!("please\n\n{MARKER}\n")}))
        .unwrap()
}

/// Sends the create; the look-up lists the newest issues and picks the one with the marker.
/// Returns what came back and what each look-up was told.
async fn create_issue(
    client: &HttpClient,
    gh: &GithubSim,
    request: Request,
) -> (Result<Created<Value>, ops_net::Error>, Vec<LostAnswer>) {
    let told = Arc::new(Mutex::new(Vec::new()));
    let list = format!(
        "{}/repos/o/r/issues?state=all&sort=created&direction=desc",
        gh.url()
    );
    let result = client
        .create(
            request,
            |r| r.json::<Value>(),
            |lost| {
                told.lock().unwrap().push(lost);
                let (client, list) = (client.clone(), list.clone());
                async move {
                    let issues: Vec<Value> = client.get_json(&list).await?;
                    Ok::<_, ops_net::Error>(
                        issues
                            .into_iter()
                            .find(|i| i["body"].as_str().is_some_and(|b| b.contains(MARKER))),
                    )
                }
            },
        )
        .await;
    let told = told.lock().unwrap().clone();
    (result, told)
}

#[tokio::test]
async fn a_lost_answer_to_a_create_is_looked_up_not_sent_again() {
    let gh = github();
    gh.inject("POST /repos/o/r/issues", Fault::ProcessThenDrop, 1);
    let events = Events::default();
    let client = client(&events);

    let (result, told) = create_issue(&client, &gh, open_issue(&gh)).await;

    let created = result.unwrap();
    assert!(created.was_found(), "{created:?}");
    assert_eq!(created.into_inner()["number"], 1);
    assert_eq!(gh.count("POST /repos/o/r/issues"), 1, "sent once");
    assert_eq!(gh.count("GET /repos/o/r/issues"), 1, "looked up once");
    assert_eq!(gh.with(|s| s.latest_issue("o", "r")), Some(1), "one issue");
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].send, 1);
    assert!(
        told[0]
            .cause
            .starts_with(&format!("POST {}/repos/o/r/issues: connection lost", gh.url())),
        "{told:?}"
    );
    assert!(
        events.all().is_empty(),
        "nothing was retried: {:?}",
        events.lines()
    );
}

#[tokio::test]
async fn a_create_processed_after_the_client_gave_up_is_found() {
    let gh = github();
    gh.inject("POST /repos/o/r/issues", Fault::ProcessThenHang, 1);
    let events = Events::default();
    let client = client(&events);
    // The client's own timeout ends the attempt; nothing in the test sleeps.
    let request = open_issue(&gh).timeout(Duration::from_millis(200));

    let (result, told) = create_issue(&client, &gh, request).await;

    assert_eq!(
        result.unwrap(),
        Created::Found(gh.exchanges()[0].response_json().unwrap())
    );
    assert!(told[0].cause.contains("timed out"), "{told:?}");
    assert_eq!(gh.count("POST /repos/o/r/issues"), 1);
    assert_eq!(gh.with(|s| s.latest_issue("o", "r")), Some(1));
}

#[tokio::test]
async fn a_create_that_was_not_processed_is_sent_again_after_the_look_up_finds_nothing() {
    let gh = github();
    // A 502 from a proxy and a dropped connection, both before the stand-in acted.
    gh.inject("POST /repos/o/r/issues", Fault::Status(502), 1);
    gh.inject("POST /repos/o/r/issues", Fault::DropConnection, 1);
    let events = Events::default();
    let client = client(&events);

    let (result, told) = create_issue(&client, &gh, open_issue(&gh)).await;

    let created = result.unwrap();
    assert!(!created.was_found());
    assert_eq!(created.into_inner()["number"], 1);
    assert_eq!(gh.count("POST /repos/o/r/issues"), 3);
    assert_eq!(
        gh.count("GET /repos/o/r/issues"),
        2,
        "a look-up before each re-send"
    );
    assert_eq!(gh.with(|s| s.latest_issue("o", "r")), Some(1), "one issue");
    assert_eq!(told.iter().map(|t| t.send).collect::<Vec<_>>(), [1, 2]);
    let causes: Vec<String> = events.all().into_iter().map(|e| e.cause).collect();
    assert_eq!(causes, ["502", "connection lost"]);
    let lines = events.lines();
    assert!(lines[0].ends_with("; attempt 1 of 3)"), "{lines:?}");
}

#[tokio::test]
async fn a_create_stops_after_the_policy_s_sends_with_the_last_error() {
    let gh = github();
    gh.inject("POST /repos/o/r/issues", Fault::Status(502), 3);
    let events = Events::default();
    let client = client(&events);

    let (result, told) = create_issue(&client, &gh, open_issue(&gh)).await;

    let err = result.unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(502), "{err}");
    assert_eq!(gh.count("POST /repos/o/r/issues"), 3, "max_create_sends");
    assert_eq!(told.len(), 3, "every lost answer was looked up");
    assert_eq!(gh.with(|s| s.latest_issue("o", "r")), None);
}

#[tokio::test]
async fn refusals_and_client_errors_are_not_looked_up() {
    let gh = github();
    // A 503 is a refusal: retried inside the send, no look-up. A 422 is the answer.
    gh.inject("POST /repos/o/r/issues", Fault::Status(503), 1);
    let events = Events::default();
    let client = client(&events);
    let (result, told) = create_issue(&client, &gh, open_issue(&gh)).await;
    assert!(!result.unwrap().was_found());
    assert!(told.is_empty());

    let bad = Request::new(Method::POST, &format!("{}/repos/o/r/issues", gh.url()))
        .unwrap()
        .json(&json!({"body": "no title"}))
        .unwrap();
    let (result, told) = create_issue(&client, &gh, bad).await;
    assert_eq!(result.unwrap_err().status().map(|s| s.as_u16()), Some(422));
    assert!(told.is_empty());
}

#[tokio::test]
async fn a_look_up_that_fails_ends_the_create_without_sending_again() {
    let gh = github();
    gh.inject("POST /repos/o/r/issues", Fault::DropConnection, 1);
    let events = Events::default();
    let client = client(&events);

    /// A caller's own error type: the look-up's verdict, or the API's failure.
    #[derive(Debug)]
    enum Failed {
        Ambiguous,
        Api(#[allow(dead_code, reason = "read through Debug")] ops_net::Error),
    }
    impl From<ops_net::Error> for Failed {
        fn from(e: ops_net::Error) -> Self {
            Self::Api(e)
        }
    }

    let result: Result<Created<Value>, Failed> = client
        .create(
            open_issue(&gh),
            |r| r.json::<Value>(),
            |_| async { Err(Failed::Ambiguous) },
        )
        .await;

    assert!(matches!(result, Err(Failed::Ambiguous)), "{result:?}");
    assert_eq!(gh.count("POST /repos/o/r/issues"), 1);
}

/// Bug: `PUT /v2/apps/{id}` is idempotent by its method, so a lost answer was retried, and App
/// Platform starts a deployment per update: two deployments. Marked as a create, it is sent once.
#[tokio::test]
async fn a_put_that_starts_a_deployment_is_not_retried_after_a_lost_answer() {
    let dosim = DoSim::start();
    let app = dosim.with(|s| s.add_app(json!({"name": "web", "services": [{"name": "api"}]})));
    let route = format!("PUT /v2/apps/{app}");
    dosim.inject(&route, Fault::ProcessThenDrop, 2);
    let client = builder()
        .bearer_token(ops_core::Secret::new("dop_v1_createtest"))
        .build()
        .unwrap();
    let update = || {
        Request::new(Method::PUT, &format!("{}/v2/apps/{app}", dosim.url()))
            .unwrap()
            .json(&json!({"spec": {"name": "web", "services": [{"name": "api"}]}}))
            .unwrap()
    };

    // Marked, a plain send does not repeat it.
    let err = client.send(update().creates()).await.unwrap_err();
    assert!(
        matches!(
            err.kind(),
            ErrorKind::Transport {
                kind: TransportKind::Connection,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(dosim.count(&route), 1);
    assert!(ops_net::answer_lost(&err));

    // Through `create`, the deployment the lost update started is found by what was there before.
    let known = dosim.with(|s| s.deployment_ids(&app));
    let list = format!("{}/v2/apps/{app}/deployments", dosim.url());
    let created = client
        .create(
            update(),
            |r| r.json::<Value>(),
            |_| {
                let (client, list, known) = (client.clone(), list.clone(), known.clone());
                async move {
                    let page: Value = client.get_json(&list).await?;
                    let new = page["deployments"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .find(|d| d["id"].as_str().is_some_and(|id| !known.iter().any(|k| k == id)))
                        .cloned();
                    Ok::<_, ops_net::Error>(new)
                }
            },
        )
        .await
        .unwrap();
    assert!(created.was_found());
    assert_eq!(dosim.count(&route), 2, "one more update, sent once");
    let ids = dosim.with(|s| s.deployment_ids(&app));
    assert_eq!(ids.len(), known.len() + 1, "one deployment per update sent");
    assert_eq!(created.into_inner()["id"], ids[ids.len() - 1]);
}
