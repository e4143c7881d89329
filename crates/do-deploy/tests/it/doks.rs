//! doks against the Kubernetes API stand-in (no API server can be installed here) and the
//! DigitalOcean stand-in handing out the cluster's credentials. Both hold every exchange to the
//! official API descriptions; do-deploy runs as the binary, like an action step.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ops_test::digitalocean::{DoSim, NewKubernetesCluster};
use ops_test::harness::{FakeRunner, RunOutput};
use ops_test::kubernetes::{Fate, KubeSim};
use ops_test::sim::{Contract, ContractMode, Spec};
use serde_json::{Value, json};

use crate::support::{TOKEN, visible};

const REPO: &str = "registry.example/shop/web";

fn digest(c: char) -> String {
    format!("{REPO}@sha256:{}", c.to_string().repeat(64))
}

const MANIFESTS: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  GREETING: GREETING_VALUE
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  progressDeadlineSeconds: 600
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: registry.example/shop/web:dev
          envFrom:
            - configMapRef: {name: web-config}
";

/// Which tokens the Kubernetes stand-in takes.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tokens {
    /// Every token DigitalOcean handed out.
    Issued,
    /// Only the newest: a client still using an older one gets 401.
    Newest,
    /// Any caller (kubectl sends no token over plain http).
    Open,
}

/// The two stand-ins, a cluster that hands out credentials the API server accepts.
struct Ground {
    kube: Arc<KubeSim>,
    dosim: DoSim,
    tokens: Arc<Mutex<Vec<String>>>,
}

impl Ground {
    fn start() -> Self {
        Self::with_tokens(Tokens::Issued)
    }

    fn with_tokens(mode: Tokens) -> Self {
        let kube = Arc::new(KubeSim::start());
        kube.with(|k| k.add_namespace("shop"));
        let dosim = DoSim::start();
        dosim.check_contract(
            Contract::vendored(Spec::DigitalOcean).expect("the vendored description loads"),
            ContractMode::Observe,
        );
        let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
        let (sink, kube_side) = (Arc::clone(&tokens), Arc::clone(&kube));
        // Real time, so that `expires_at` means what it says to a client on the real clock.
        let now = jiff::Timestamp::now().as_second();
        dosim.with(|s| {
            s.jump_to(now);
            s.add_kubernetes_cluster(NewKubernetesCluster::new("prod-cluster", &kube.url()));
            s.on_kubernetes_credentials(move |issued| {
                let mut all = sink.lock().unwrap();
                all.push(issued.token.clone());
                let refs: Vec<&str> = match mode {
                    Tokens::Issued => all.iter().map(String::as_str).collect(),
                    Tokens::Newest => vec![issued.token.as_str()],
                    Tokens::Open => return,
                };
                kube_side.with(|k| k.accept_tokens(&refs));
            });
        });
        if mode != Tokens::Open {
            kube.with(|k| k.accept_tokens(&["nobody-yet"]));
        }
        Self { kube, dosim, tokens }
    }

    fn step(&self, image: &str, greeting: &str) -> FakeRunner {
        let runner = FakeRunner::new()
            .expect("fake runner")
            .env("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567")
            .env("GITHUB_RUN_ID", "42")
            .env("GITHUB_REPOSITORY", "octo/shop")
            .input("target", "doks")
            .input("token", TOKEN)
            .input("api-url", self.dosim.url())
            .input("cluster", "prod-cluster")
            .input("namespace", "shop")
            .input("manifests", "k8s/")
            .input("images", format!("web={image}"))
            .input("poll-interval", "1s")
            .input("observe", "2s")
            .input("timeout", "3m");
        let dir = runner.workspace().join("k8s");
        std::fs::create_dir_all(&dir).expect("mkdir k8s");
        std::fs::write(
            dir.join("app.yaml"),
            MANIFESTS.replace("GREETING_VALUE", greeting),
        )
        .expect("write manifests");
        runner
    }

    fn deployment(&self) -> Value {
        self.kube
            .with(|k| k.get("deployments", "shop", "web"))
            .expect("the Deployment exists")
    }

    fn image(&self) -> String {
        self.deployment()["spec"]["template"]["spec"]["containers"][0]["image"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    fn greeting(&self) -> String {
        self.kube
            .with(|k| k.get("configmaps", "shop", "web-config"))
            .map(|c| c["data"]["GREETING"].as_str().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }

    /// Neither stand-in saw an exchange that breaks its description; no token leaked.
    fn clean(&self, out: &RunOutput) {
        let k: Vec<String> = self
            .kube
            .with(|k| k.violations())
            .iter()
            .map(ToString::to_string)
            .collect();
        assert!(k.is_empty(), "Kubernetes contract: {}", k.join("\n"));
        let d: Vec<String> = self.dosim.violations().iter().map(ToString::to_string).collect();
        assert!(d.is_empty(), "DigitalOcean contract: {}", d.join("\n"));
        let text = visible(out);
        assert!(!text.contains(TOKEN), "the DigitalOcean token leaked");
        for t in self.tokens.lock().unwrap().iter() {
            assert!(!text.contains(t.as_str()), "a cluster token leaked");
        }
    }
}

fn run(runner: &FakeRunner) -> RunOutput {
    runner
        .run(env!("CARGO_BIN_EXE_do-deploy"), &[])
        .expect("run do-deploy")
}

fn log(out: &RunOutput) -> String {
    format!(
        "--- stderr\n{}\n--- stdout\n{}\n--- summary\n{}",
        out.stderr, out.stdout, out.summary
    )
}

#[test]
fn a_healthy_rollout_goes_live_and_is_recorded() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "hello"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(g.image(), digest('a'));
    assert_eq!(g.greeting(), "hello");
    let d = g.deployment();
    assert!(d["status"]["observedGeneration"].as_i64() >= d["metadata"]["generation"].as_i64());
    assert_eq!(d["status"]["availableReplicas"], json!(2));
    assert_eq!(out.outputs["release-id"], "1");
    assert_eq!(out.outputs["previous-release"], "");
    assert_eq!(out.outputs["rolled-back"], "false");
    assert!(
        out.outputs["workloads"].contains("deployment/web"),
        "{:?}",
        out.outputs
    );
    // The record and the lock: a Secret per release, no Lease left behind.
    let record = g
        .kube
        .with(|k| k.get("secrets", "shop", "ops-actions.release.shop.v1"))
        .expect("release record");
    assert_eq!(
        record["metadata"]["labels"]["ops-actions/status"],
        json!("deployed")
    );
    assert!(
        g.kube
            .with(|k| k.get("leases", "shop", "ops-actions-shop"))
            .is_none(),
        "the lock is released"
    );
    // Short-lived credentials, asked for the timeout plus a margin, fetched once.
    let issued = g.dosim.with(|s| s.issued_credentials().to_vec());
    assert_eq!(issued.len(), 1);
    assert_eq!(issued[0].expiry_seconds, Some(180 + 300));
    assert!(out.summary.contains("**Live**"), "{}", out.summary);
    assert!(
        out.stderr.contains(&format!(
            "image `web` ({}) → deployment/web container `web`",
            digest('a')
        )),
        "{}",
        log(&out)
    );
    g.clean(&out);

    // A second release: previous-release is the first, whose record goes with `keep-releases: 1`.
    let out = run(&g.step(&digest('b'), "again").input("keep-releases", "1"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(
        (
            out.outputs["release-id"].as_str(),
            out.outputs["previous-release"].as_str()
        ),
        ("2", "1")
    );
    assert_eq!(g.image(), digest('b'));
    let records: Vec<String> = g
        .kube
        .with(|k| k.list("secrets", "shop"))
        .iter()
        .map(|s| s["metadata"]["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(records, ["ops-actions.release.shop.v2"]);
    assert!(
        out.stderr.contains("pruned 1 old release record(s)"),
        "{}",
        log(&out)
    );
    g.clean(&out);
}

#[test]
fn a_bad_image_fails_in_seconds_and_rolls_back() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    g.kube
        .with(|k| k.script_image(&digest('b'), Fate::ImagePullBackOff));
    let before = g.kube.with(|k| k.now());
    let out = run(&g.step(&digest('b'), "two"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("ImagePullBackOff") || out.stderr.contains("ErrImagePull"),
        "{}",
        log(&out)
    );
    // Long before the Deployment's 600 s progress deadline (virtual seconds on the stand-in).
    let spent = g.kube.with(|k| k.now()) - before;
    assert!(spent < 300, "took {spent} virtual seconds");
    assert_eq!(out.outputs["rolled-back"], "true");
    assert_eq!(g.image(), digest('a'), "the image is back");
    assert_eq!(g.greeting(), "one", "and so is the config");
    g.clean(&out);
}

#[test]
fn a_pod_crashing_during_observe_rolls_back_image_and_config() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    g.kube.with(|k| {
        k.script_image(
            &digest('b'),
            Fate::CrashAfterReady {
                ready_after: 2,
                crash_after: 6,
            },
        );
        k.set_logs(&digest('b'), &["starting", "panic: lost the database connection"]);
    });
    let out = run(&g.step(&digest('b'), "two").input("observe", "20s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(out.stderr.contains("during `observe`"), "{}", log(&out));
    assert_eq!(out.outputs["rolled-back"], "true");
    assert_eq!(g.image(), digest('a'));
    assert_eq!(g.greeting(), "one");
    // The evidence: the log tail, in a stop-commands block and the summary.
    assert!(out.stderr.contains("::stop-commands::"), "{}", log(&out));
    assert!(
        out.stderr.contains("  | panic: lost the database connection"),
        "{}",
        log(&out)
    );
    assert!(
        out.summary.contains("panic: lost the database connection"),
        "{}",
        out.summary
    );
    g.clean(&out);
}

#[test]
fn an_object_the_api_server_refuses_is_named_and_nothing_changes() {
    let g = Ground::start();
    g.kube.with(|k| {
        k.reject(
            "Deployment",
            "web",
            "spec.template.spec.containers[0].ports[0].containerPort: Invalid value: 70000",
        )
    });
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr
            .contains("`k8s/app.yaml:8`: deployment/web was refused"),
        "{}",
        log(&out)
    );
    assert!(out.stderr.contains("containerPort"), "{}", log(&out));
    assert!(
        g.kube
            .with(|k| k.get("configmaps", "shop", "web-config"))
            .is_none(),
        "nothing was applied"
    );
    g.clean(&out);
}

#[test]
fn a_missing_permission_fails_before_any_write() {
    let g = Ground::start();
    g.kube.with(|k| k.deny("patch", "apps", "deployments"));
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr
            .contains("`patch` on `deployments.apps` in namespace `shop`"),
        "{}",
        log(&out)
    );
    let writes = g
        .kube
        .exchanges()
        .iter()
        .filter(|e| e.method != http::Method::GET && !e.path.ends_with("selfsubjectaccessreviews"))
        .count();
    assert_eq!(writes, 0, "no write before the permission check");
    g.clean(&out);
}

#[test]
fn an_image_matching_no_container_is_exit_2_before_any_request() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "one").input(
        "images",
        format!("api=registry.example/shop/api@sha256:{}", "c".repeat(64)),
    ));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(out.stderr.contains("matches no container"), "{}", log(&out));
    assert!(g.kube.exchanges().is_empty() && g.dosim.exchanges().is_empty());
}

#[test]
fn two_runs_at_once_take_turns_and_a_cancelled_run_releases_its_lease() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    // A long run holds the Lease ...
    let long = g.step(&digest('b'), "two").input("observe", "60s");
    let mut child = long
        .command(env!("CARGO_BIN_EXE_do-deploy"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while g
        .kube
        .with(|k| k.get("leases", "shop", "ops-actions-shop"))
        .is_none()
    {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run takes the Lease"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // ... so a second one waits `lock-timeout`, then fails naming the holder.
    let out = run(&g.step(&digest('c'), "three").input("lock-timeout", "2s"));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("another deploy holds the lock"),
        "{}",
        log(&out)
    );
    assert!(
        out.stderr.contains("octo/shop run 42"),
        "the holder is named: {}",
        log(&out)
    );
    // Cancel the first while it observes: it rolls back and releases the Lease.
    let started = std::time::Instant::now();
    while g.image() != digest('b') {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first run applies"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let code = child.wait().expect("wait").code();
    assert_eq!(code, Some(1), "a cancelled deploy is a failed one");
    assert!(
        g.kube
            .with(|k| k.get("leases", "shop", "ops-actions-shop"))
            .is_none(),
        "the Lease is released"
    );
    assert_eq!(g.image(), digest('a'), "and the previous release is back");
}

#[test]
fn a_stale_lease_is_taken_over_naming_its_holder() {
    let g = Ground::start();
    let old = (jiff::Timestamp::now() - jiff::SignedDuration::from_secs(3600))
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string();
    g.kube.with(|k| {
        k.put(json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": "ops-actions-shop", "namespace": "shop"},
            "spec": {"holderIdentity": "octo/shop run 7/1 by mona #abcd1234", "leaseDurationSeconds": 120,
                     "acquireTime": old, "renewTime": old}}));
    });
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains("taking over the deploy lock")
            && out.stderr.contains("octo/shop run 7/1 by mona"),
        "{}",
        log(&out)
    );
    g.clean(&out);
}

#[test]
fn rollback_action_goes_back_to_the_previous_release() {
    let g = Ground::start();
    assert_eq!(run(&g.step(&digest('a'), "one")).code, Some(0));
    assert_eq!(run(&g.step(&digest('b'), "two")).code, Some(0));
    let out = run(&g.step(&digest('b'), "two").input("action", "rollback"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(g.image(), digest('a'));
    assert_eq!(g.greeting(), "one");
    assert_eq!(out.outputs["release-id"], "3");
    // And forward again, by number.
    let out = run(&g
        .step(&digest('b'), "two")
        .input("action", "rollback")
        .input("release", "2"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(g.image(), digest('b'));
    g.clean(&out);
}

#[test]
fn a_credential_about_to_expire_is_fetched_again_and_the_old_one_is_not_used() {
    let g = Ground::with_tokens(Tokens::Newest);
    // Every credential lives 120 s: less than the 2 minutes a client wants left, so each use of
    // the client fetches a new one, and the stand-in takes only the newest.
    g.dosim.with(|s| s.cap_credential_lifetime(Some(120)));
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains("about to expire: fetching a new one"),
        "{}",
        log(&out)
    );
    let issued = g.dosim.with(|s| s.issued_credentials().len());
    assert!(issued >= 3, "fetched {issued} credential(s)");
    g.clean(&out);
}

#[test]
fn a_kubeconfig_reaches_a_cluster_elsewhere_and_its_token_stays_hidden() {
    let g = Ground::start();
    let token = "kubeconfig-token-5eed-never-printed";
    g.kube.with(|k| k.accept_tokens(&[token]));
    let kubeconfig = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: '{}'}}\nusers:\n- name: u\n  user: {{token: {token}}}\n\
         contexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n",
        g.kube.url()
    );
    let step = g
        .step(&digest('a'), "one")
        .input("cluster", "")
        .input("token", "")
        .input("kubeconfig", kubeconfig);
    let out = run(&step);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(g.image(), digest('a'));
    assert!(g.dosim.exchanges().is_empty(), "no DigitalOcean call");
    assert!(!visible(&out).contains(token));
    g.clean(&out);
}

/// kubectl pointed at the same stand-in.
fn kubectl(url: &str, args: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: {url}\nusers:\n- name: ci\n  user: {{}}\n\
         contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: ci\n    namespace: shop\ncurrent-context: sim\n"
    );
    std::fs::write(dir.path().join("config"), config).expect("kubeconfig");
    let out = std::process::Command::new("kubectl")
        .args(args)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .env("KUBECONFIG", dir.path().join("config"))
        .env("HOME", dir.path())
        .output()
        .expect("kubectl is installed");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kubectl_rollout_status_agrees_with_the_verdict_on_the_same_rollouts() {
    // (fate of the new pods, do-deploy's exit, words do-deploy gives, kubectl's last word)
    let cases: [(Option<Fate>, i32, &str, &str); 4] = [
        (None, 0, "is live", "successfully rolled out"),
        (
            Some(Fate::ImagePullBackOff),
            1,
            "ImagePull",
            "exceeded its progress deadline",
        ),
        (Some(Fate::CrashLoop), 1, "", "exceeded its progress deadline"),
        (
            Some(Fate::Unschedulable),
            1,
            "ProgressDeadlineExceeded",
            "exceeded its progress deadline",
        ),
    ];
    for (fate, code, words, kubectl_says) in cases {
        let g = Ground::with_tokens(Tokens::Open);
        if let Some(f) = fate.clone() {
            g.kube.with(|k| k.script_image(REPO, f));
        }
        let step = g
            .step(&digest('a'), "one")
            .input("rollback", "false")
            .input("unschedulable-grace", "10m");
        let file = step.workspace().join("k8s/app.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace("progressDeadlineSeconds: 600", "progressDeadlineSeconds: 30"),
        )
        .unwrap();
        let out = run(&step);
        assert_eq!(out.code, Some(code), "{fate:?}: {}", log(&out));
        assert!(out.stderr.contains(words), "{fate:?}: {}", log(&out));
        if fate == Some(Fate::CrashLoop) {
            assert!(
                out.stderr.contains("CrashLoopBackOff") || out.stderr.contains("restarted"),
                "{}",
                log(&out)
            );
        }
        let (kcode, stdout, stderr) = kubectl(
            &g.kube.url(),
            &["rollout", "status", "deployment/web", "--timeout=300s"],
        );
        assert_eq!(kcode, Some(code), "{fate:?}: kubectl said {stdout}{stderr}");
        assert!(
            format!("{stdout}{stderr}").contains(kubectl_says),
            "{fate:?}: kubectl said {stdout}{stderr}"
        );
        // And kubectl sees what do-deploy applied.
        let (_, image, _) = kubectl(
            &g.kube.url(),
            &[
                "get",
                "deployment",
                "web",
                "-o",
                "jsonpath={.spec.template.spec.containers[0].image}",
            ],
        );
        assert_eq!(image, digest('a'));
        g.clean(&out);
    }
}

const STATEFUL: &str = "\
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: queue
spec:
  replicas: 3
  serviceName: queue
  selector:
    matchLabels: {app: queue}
  template:
    metadata:
      labels: {app: queue}
    spec:
      containers:
        - name: queue
          image: registry.example/shop/web:dev
---
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
        - name: agent
          image: registry.example/shop/web:dev
";

#[test]
fn statefulsets_and_daemonsets_are_waited_for_and_rolled_back_whole() {
    let g = Ground::start();
    let step = |image: &str| {
        let s = g.step(image, "one");
        std::fs::write(s.workspace().join("k8s/workloads.yaml"), STATEFUL).unwrap();
        s
    };
    let out = run(&step(&digest('a')));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    for (resource, name) in [("statefulsets", "queue"), ("daemonsets", "agent")] {
        let w = g.kube.with(|k| k.get(resource, "shop", name)).unwrap();
        assert_eq!(
            w["spec"]["template"]["spec"]["containers"][0]["image"],
            json!(digest('a')),
            "{name}"
        );
    }
    assert!(
        out.stderr.contains("statefulset/queue rolled out")
            && out.stderr.contains("daemonset/agent rolled out"),
        "{}",
        log(&out)
    );
    // A release whose pods crash: it fails fast, and every workload goes back, the StatefulSet's
    // stuck pod included (it is not replaced by the controller on its own).
    g.kube.with(|k| k.script_image(&digest('b'), Fate::CrashLoop));
    let out = run(&step(&digest('b')));
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert_eq!(out.outputs["rolled-back"], "true", "{}", log(&out));
    for (resource, name) in [
        ("deployments", "web"),
        ("statefulsets", "queue"),
        ("daemonsets", "agent"),
    ] {
        let w = g.kube.with(|k| k.get(resource, "shop", name)).unwrap();
        assert_eq!(
            w["spec"]["template"]["spec"]["containers"][0]["image"],
            json!(digest('a')),
            "{name}"
        );
    }
    let pods = g.kube.with(|k| k.list("pods", "shop"));
    for p in &pods {
        assert_eq!(
            p["spec"]["containers"][0]["image"],
            json!(digest('a')),
            "{}",
            p["metadata"]["name"]
        );
        assert_eq!(
            p["status"]["containerStatuses"][0]["ready"],
            json!(true),
            "{}",
            p["metadata"]["name"]
        );
    }
    g.clean(&out);
}

#[test]
fn a_rollback_that_fails_too_is_exit_3_and_says_so_loudly() {
    let g = Ground::start();
    assert_eq!(run(&g.step(&digest('a'), "one")).code, Some(0));
    g.kube
        .with(|k| k.script_image(&digest('b'), Fate::ImagePullBackOff));
    // The dry run and the apply of the Deployment go through; writing it back is refused.
    g.kube
        .after("PATCH /apis/apps/v1/namespaces/shop/deployments/web", 2, |k| {
            k.reject(
                "Deployment",
                "web",
                "admission webhook \"policy.example\" denied the request",
            );
        });
    let out = run(&g.step(&digest('b'), "two"));
    assert_eq!(out.code, Some(3), "{}", log(&out));
    assert!(out.stderr.contains("AND ITS ROLLBACK FAILED"), "{}", log(&out));
    assert!(
        out.stderr.contains("restoring deployment/web failed"),
        "{}",
        log(&out)
    );
    assert_eq!(out.outputs["rolled-back"], "false");
    assert!(out.summary.contains("the rollback failed too"), "{}", out.summary);
    assert!(
        g.kube
            .with(|k| k.get("leases", "shop", "ops-actions-shop"))
            .is_none(),
        "the Lease is released"
    );
    let record = g
        .kube
        .with(|k| k.get("secrets", "shop", "ops-actions.release.shop.v2"))
        .unwrap();
    assert_eq!(
        record["metadata"]["labels"]["ops-actions/status"],
        json!("failed")
    );
    g.clean(&out);
}

/// `scripts/bench-do-deploy-doks`: how long a rollout of a bad image takes to a verdict, do-deploy
/// next to `kubectl apply --server-side` + `kubectl rollout status`, on the same stand-in, with the
/// Deployment's default 600 s progress deadline. Time is the stand-in's (one second per request) and
/// the wall clock.
#[test]
#[ignore = "a benchmark: scripts/bench-do-deploy-doks"]
fn bench_doks_bad_image() {
    for fate in [Fate::ImagePullBackOff, Fate::CrashLoop] {
        // do-deploy, without rollback (kubectl has none), polling every 2 s as by default.
        let g = Ground::with_tokens(Tokens::Open);
        g.kube.with(|k| k.script_image(REPO, fate.clone()));
        let (t0, n0, wall) = (
            g.kube.with(|k| k.now()),
            g.kube.exchanges().len(),
            std::time::Instant::now(),
        );
        let out = run(&g
            .step(&digest('a'), "one")
            .input("rollback", "false")
            .input("poll-interval", "2s"));
        assert_eq!(out.code, Some(1), "{}", log(&out));
        let exchanges = g.kube.exchanges();
        let applied = exchanges
            .iter()
            .position(|e| {
                e.method == http::Method::PATCH
                    && e.path.ends_with("/deployments/web")
                    && !e.query.iter().any(|(k, _)| k == "dryRun")
            })
            .unwrap();
        println!(
            "do-deploy bench: doks {fate:?}: do-deploy verdict after {} stand-in s, {} requests ({} after the apply), \
             {:.1} s wall",
            g.kube.with(|k| k.now()) - t0,
            exchanges.len() - n0,
            exchanges.len() - applied - 1,
            wall.elapsed().as_secs_f64()
        );
        // kubectl on a fresh stand-in.
        let g = Ground::with_tokens(Tokens::Open);
        g.kube.with(|k| k.script_image(REPO, fate.clone()));
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("app.yaml");
        std::fs::write(
            &file,
            MANIFESTS
                .replace("GREETING_VALUE", "one")
                .replace("registry.example/shop/web:dev", &digest('a')),
        )
        .unwrap();
        let (t0, n0, wall) = (
            g.kube.with(|k| k.now()),
            g.kube.exchanges().len(),
            std::time::Instant::now(),
        );
        let (code, _, err) = kubectl(
            &g.kube.url(),
            &["apply", "--server-side", "-f", file.to_str().unwrap()],
        );
        assert_eq!(code, Some(0), "{err}");
        let (code, stdout, stderr) = kubectl(
            &g.kube.url(),
            &["rollout", "status", "deployment/web", "--timeout=1h"],
        );
        assert_eq!(code, Some(1), "{stdout}{stderr}");
        println!(
            "do-deploy bench: doks {fate:?}: kubectl verdict after {} stand-in s, {} requests, {:.1} s wall: {}",
            g.kube.with(|k| k.now()) - t0,
            g.kube.exchanges().len() - n0,
            wall.elapsed().as_secs_f64(),
            stderr.trim()
        );
    }
}

#[test]
fn a_namespace_that_does_not_exist_is_exit_2_unless_the_manifests_create_it() {
    let g = Ground::start();
    let out = run(&g.step(&digest('a'), "one").input("namespace", "nowhere"));
    assert_eq!(out.code, Some(2), "{}", log(&out));
    assert!(
        out.stderr.contains("namespace `nowhere` does not exist"),
        "{}",
        log(&out)
    );
    g.clean(&out);
}

#[test]
fn creates_that_lose_their_answer_are_looked_up_not_sent_again() {
    use ops_test::sim::Fault;
    let g = Ground::start();
    // The Lease and the release record are created, but the answers never arrive.
    g.kube.inject(
        "POST /apis/coordination.k8s.io/v1/namespaces/shop/leases",
        Fault::ProcessThenDrop,
        1,
    );
    g.kube
        .inject("POST /api/v1/namespaces/shop/secrets", Fault::ProcessThenDrop, 1);
    let out = run(&g.step(&digest('a'), "one"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert_eq!(g.kube.faults_left(), 0, "both faults fired");
    assert_eq!(
        g.kube
            .count("POST /apis/coordination.k8s.io/v1/namespaces/shop/leases"),
        1,
        "the Lease was created once"
    );
    assert_eq!(
        g.kube.count("POST /api/v1/namespaces/shop/secrets"),
        1,
        "the record was created once"
    );
    let records = g.kube.with(|k| k.list("secrets", "shop"));
    assert_eq!(records.len(), 1, "one release record");
    assert!(
        g.kube
            .with(|k| k.get("leases", "shop", "ops-actions-shop"))
            .is_none(),
        "the Lease is released"
    );
    g.clean(&out);
}

#[test]
fn manifests_that_create_their_namespace_deploy_into_it() {
    let g = Ground::start();
    let step = g.step(&digest('a'), "one").input("namespace", "fresh");
    let file = step.workspace().join("k8s/namespace.yaml");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: fresh\n",
    )
    .unwrap();
    let out = run(&step);
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(out.stderr.contains("created namespace `fresh`"), "{}", log(&out));
    let d = g
        .kube
        .with(|k| k.get("deployments", "fresh", "web"))
        .expect("deployed into it");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        json!(digest('a'))
    );
    g.clean(&out);
}

/// A CA (PEM) and a certificate for `127.0.0.1` it signed, with its key (DER).
fn tls_pki() -> (String, Vec<u8>, Vec<u8>) {
    let ca_key = rcgen::KeyPair::generate().expect("ca key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "cluster CA");
    let ca_cert = ca_params.self_signed(&ca_key).expect("ca cert");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let key = rcgen::KeyPair::generate().expect("server key");
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()])
        .expect("server params")
        .signed_by(&key, &issuer)
        .expect("server cert");
    (ca_cert.pem(), cert.der().to_vec(), key.serialize_der())
}

/// Terminates TLS on a loopback port and passes the bytes to `upstream` (the stand-in speaks plain
/// HTTP): the API server's address as a real cluster hands it out, `https://` with its own CA.
fn tls_front(upstream: std::net::SocketAddr, cert: Vec<u8>, key: Vec<u8>) -> u16 {
    use tokio_rustls::rustls;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
            let mut config = rustls::ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_no_client_auth()
                .with_single_cert(
                    vec![rustls::pki_types::CertificateDer::from(cert)],
                    rustls::pki_types::PrivateKeyDer::Pkcs8(key.into()),
                )
                .expect("server config");
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    port
}

#[test]
fn the_cluster_is_reached_over_tls_with_the_ca_from_its_credentials() {
    let g = Ground::start();
    let (ca, cert, key) = tls_pki();
    let port = tls_front(g.kube.addr(), cert, key);
    // A second cluster whose credentials name the TLS address and its CA.
    g.dosim.with(|s| {
        s.add_kubernetes_cluster(
            NewKubernetesCluster::new("tls-cluster", &format!("https://127.0.0.1:{port}"))
                .certificate_authority(&ca),
        )
    });
    let out = run(&g.step(&digest('a'), "one").input("cluster", "tls-cluster"));
    assert_eq!(out.code, Some(0), "{}", log(&out));
    assert!(
        out.stderr.contains(&format!("https://127.0.0.1:{port}")),
        "{}",
        log(&out)
    );
    assert_eq!(g.image(), digest('a'));
    g.clean(&out);

    // A cluster whose CA is another one: the handshake fails, nothing is changed, exit 3.
    let (other_ca, _, _) = tls_pki();
    g.dosim.with(|s| {
        s.add_kubernetes_cluster(
            NewKubernetesCluster::new("impostor", &format!("https://127.0.0.1:{port}"))
                .certificate_authority(&other_ca),
        )
    });
    let out = run(&g.step(&digest('b'), "two").input("cluster", "impostor"));
    assert_eq!(out.code, Some(3), "{}", log(&out));
    assert_eq!(g.image(), digest('a'), "nothing changed");
}

#[test]
fn a_run_whose_lease_is_taken_over_stops_without_touching_anything_more() {
    let g = Ground::start();
    assert_eq!(run(&g.step(&digest('a'), "one")).code, Some(0));
    // Renewals every second; another run takes the Lease over while this one observes.
    let step = g
        .step(&digest('b'), "two")
        .input("observe", "60s")
        .input("lock-stale", "3s");
    let child = step
        .command(env!("CARGO_BIN_EXE_do-deploy"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = std::time::Instant::now();
    while g.image() != digest('b') {
        assert!(started.elapsed() < Duration::from_secs(60), "the run applies");
        std::thread::sleep(Duration::from_millis(100));
    }
    g.kube.with(|k| {
        let mut lease = k
            .get("leases", "shop", "ops-actions-shop")
            .expect("the run holds the Lease");
        lease["spec"]["holderIdentity"] = json!("octo/shop run 99/1 by hubot #feedbeef");
        k.put(lease);
    });
    let done = child.wait_with_output().expect("wait");
    let out = step
        .collect(done.status.code(), &done.stdout, &done.stderr)
        .expect("collect");
    assert_eq!(out.code, Some(1), "{}", log(&out));
    assert!(
        out.stderr.contains("taken over by octo/shop run 99/1 by hubot"),
        "{}",
        log(&out)
    );
    assert!(
        out.stderr.contains("stopped without rolling back"),
        "{}",
        log(&out)
    );
    assert_eq!(out.outputs["rolled-back"], "false");
    assert_eq!(
        g.image(),
        digest('b'),
        "nothing was rolled back under the other run"
    );
    let lease = g
        .kube
        .with(|k| k.get("leases", "shop", "ops-actions-shop"))
        .expect("the other run's Lease stays");
    assert_eq!(
        lease["spec"]["holderIdentity"],
        json!("octo/shop run 99/1 by hubot #feedbeef")
    );
    g.clean(&out);
}
