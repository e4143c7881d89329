//! The Kubernetes stand-in: driven by kubectl (a real client nobody here wrote) on scripted
//! rollouts, and its API behaviour over HTTP (watches, server-side apply, Leases, access reviews,
//! events and logs, the Deployment controller's bookkeeping).

use std::path::PathBuf;
use std::process::Command;

use ops_test::kubernetes::{Fate, KubeSim, Rollout, kubectl_rollout_status};
use reqwest::Method;
use serde_json::{Value, json};

use crate::support::{call, client, get, post};

/// kubectl with a kubeconfig (in a temp dir) pointing at a stand-in over plain http.
pub(crate) struct Kubectl {
    dir: tempfile::TempDir,
}

/// What one kubectl run said.
#[derive(Debug)]
pub(crate) struct Said {
    pub(crate) code: Option<i32>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Kubectl {
    /// Panics when kubectl is not installed: these tests are what keeps the stand-in honest.
    pub(crate) fn new(url: &str) -> Self {
        Command::new("kubectl")
            .args(["version", "--client"])
            .output()
            .expect("kubectl is installed (it comes with the machine's Google Cloud SDK)");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sim\n  cluster:\n    server: {url}\n\
             users:\n- name: ci\n  user:\n    token: sim-token\n\
             contexts:\n- name: sim\n  context:\n    cluster: sim\n    user: ci\n    namespace: default\n\
             current-context: sim\n"
        );
        std::fs::write(dir.path().join("config"), config).expect("kubeconfig");
        Self { dir }
    }

    pub(crate) fn file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).expect("manifest");
        path
    }

    pub(crate) fn run(&self, args: &[&str]) -> Said {
        let out = Command::new("kubectl")
            .args(args)
            .arg("--cache-dir")
            .arg(self.dir.path().join("cache"))
            .env("KUBECONFIG", self.dir.path().join("config"))
            .env("HOME", self.dir.path())
            .output()
            .expect("kubectl runs");
        Said {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

pub(crate) fn deployment_yaml(image: &str, replicas: u32, deadline: u32) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {{app: web}}\nspec:\n  \
         replicas: {replicas}\n  progressDeadlineSeconds: {deadline}\n  selector:\n    matchLabels: {{app: web}}\n  \
         template:\n    metadata:\n      labels: {{app: web}}\n    spec:\n      containers:\n      \
         - name: web\n        image: {image}\n        ports: [{{containerPort: 8080}}]\n        \
         resources: {{limits: {{cpu: 1, memory: 64Mi}}}}\n"
    )
}

/// Applies a Deployment with kubectl and runs `kubectl rollout status` on it.
fn kubectl_rollout(kube: &KubeSim, kubectl: &Kubectl, image: &str) -> Said {
    let manifest = kubectl.file("deployment.yaml", &deployment_yaml(image, 2, 30));
    let applied = kubectl.run(&[
        "apply",
        "--server-side",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(applied.code, Some(0), "{applied:?}");
    assert_eq!(applied.stdout.trim(), "deployment.apps/web serverside-applied");
    let said = kubectl.run(&["rollout", "status", "deployment/web", "--timeout=300s"]);
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
    said
}

/// kubectl's last word agrees with [`kubectl_rollout_status`] on the stored Deployment.
fn assert_agrees(kube: &KubeSim, said: &Said) {
    assert_agrees_on(kube, "deployments", "web", said);
}

/// kubectl's last word agrees with [`kubectl_rollout_status`] on a stored workload: done, failed,
/// or (when kubectl gave up at its `--timeout`) still waiting, with the same words.
fn assert_agrees_on(kube: &KubeSim, resource: &str, name: &str, said: &Said) {
    let stored = kube
        .with(|s| s.get(resource, "default", name))
        .expect("the workload is stored");
    match kubectl_rollout_status(&stored) {
        Rollout::Done(line) => {
            assert_eq!(said.code, Some(0), "{said:?}");
            assert_eq!(said.stdout.lines().last(), Some(line.as_str()), "{said:?}");
        }
        Rollout::Failed(line) => {
            assert_eq!(said.code, Some(1), "{said:?}");
            assert_eq!(said.stderr.trim(), format!("error: {line}"), "{said:?}");
        }
        Rollout::Waiting(line) => {
            assert_eq!(
                (said.code, said.stderr.trim()),
                (Some(1), "error: timed out waiting for the condition"),
                "kubectl stopped while the rollout is still going ({line}): {said:?}"
            );
            assert_eq!(said.stdout.lines().last(), Some(line.as_str()), "{said:?}");
        }
    }
}

#[test]
fn kubectl_applies_server_side_and_sees_a_healthy_rollout_complete() {
    let kube = KubeSim::start();
    let kubectl = Kubectl::new(&kube.url());
    let said = kubectl_rollout(&kube, &kubectl, "registry.example/web:v1");
    assert_eq!(
        said.stdout.lines().last(),
        Some("deployment \"web\" successfully rolled out"),
        "{said:?}"
    );
    assert_agrees(&kube, &said);

    let got = kubectl.run(&[
        "get",
        "deployment",
        "web",
        "-o",
        "jsonpath={.status.readyReplicas}/{.spec.replicas}",
    ]);
    assert_eq!(got.stdout, "2/2", "{got:?}");
    let pods = kubectl.run(&["get", "pods", "-l", "app=web", "-o", "name"]);
    assert_eq!(pods.stdout.lines().count(), 2, "{pods:?}");
    assert!(pods.stdout.lines().all(|l| l.starts_with("pod/web-")), "{pods:?}");
    let none = kubectl.run(&["get", "deployment", "api"]);
    assert_eq!(none.code, Some(1));
    assert!(
        none.stderr.contains("deployments.apps \"api\" not found"),
        "{none:?}"
    );
}

#[test]
fn kubectl_rollout_status_waits_out_the_progress_deadline_on_a_bad_image() {
    let kube = KubeSim::start();
    kube.with(|s| s.script_image("registry.example/web", Fate::ImagePullBackOff));
    let kubectl = Kubectl::new(&kube.url());
    let said = kubectl_rollout(&kube, &kubectl, "registry.example/web:bad");
    // What kubectl says: nothing about the image, only the deadline, once it has passed.
    assert_eq!(
        said.stderr.trim(),
        "error: deployment \"web\" exceeded its progress deadline",
        "{said:?}"
    );
    assert_agrees(&kube, &said);
    let reasons = kubectl.run(&[
        "get",
        "pods",
        "-o",
        "jsonpath={.items[*].status.containerStatuses[0].state.waiting.reason}",
    ]);
    assert_eq!(reasons.stdout, "ImagePullBackOff ImagePullBackOff", "{reasons:?}");
}

#[test]
fn kubectl_rollout_status_waits_out_the_progress_deadline_on_a_crash_loop() {
    let kube = KubeSim::start();
    kube.with(|s| s.script_deployment("web", Fate::CrashLoop));
    let kubectl = Kubectl::new(&kube.url());
    let said = kubectl_rollout(&kube, &kubectl, "registry.example/web:v2");
    assert_eq!(
        said.stderr.trim(),
        "error: deployment \"web\" exceeded its progress deadline",
        "{said:?}"
    );
    assert_agrees(&kube, &said);
    let pods = kube.with(|s| s.list("pods", "default"));
    for pod in &pods {
        let cs = &pod["status"]["containerStatuses"][0];
        assert_eq!(cs["state"]["waiting"]["reason"], "CrashLoopBackOff", "{pod:#}");
        assert!(cs["restartCount"].as_u64().unwrap() >= 5, "{pod:#}");
    }
}

#[test]
fn kubectl_rollout_status_fails_at_the_progress_deadline_when_pods_cannot_be_scheduled() {
    let kube = KubeSim::start();
    kube.with(|s| s.script_default(Fate::Unschedulable));
    let kubectl = Kubectl::new(&kube.url());
    let said = kubectl_rollout(&kube, &kubectl, "registry.example/web:v3");
    assert_eq!(
        said.stderr.trim(),
        "error: deployment \"web\" exceeded its progress deadline",
        "{said:?}"
    );
    assert_agrees(&kube, &said);
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .unwrap()
        .clone();
    assert_eq!(progressing["status"], "False");
    assert_eq!(
        progressing["message"].as_str().unwrap(),
        format!(
            "ReplicaSet \"{}\" has timed out progressing.",
            kube.with(|s| s.list("replicasets", "default"))[0]["metadata"]["name"]
                .as_str()
                .unwrap()
        )
    );
}

fn statefulset_yaml(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  serviceName: db\n  replicas: 3\n  \
         selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      \
         containers:\n      - name: db\n        image: {image}\n        ports: [{{containerPort: 5432}}]\n"
    )
}

fn daemonset_yaml(image: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata:\n  name: agent\nspec:\n  selector:\n    matchLabels: {{app: agent}}\n  \
         template:\n    metadata:\n      labels: {{app: agent}}\n    spec:\n      containers:\n      \
         - name: agent\n        image: {image}\n"
    )
}

/// `kubectl apply --server-side` of a manifest, which must succeed with `expected` on stdout.
fn kubectl_apply(kubectl: &Kubectl, name: &str, text: &str, expected: &str) {
    let manifest = kubectl.file(name, text);
    let applied = kubectl.run(&[
        "apply",
        "--server-side",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        (applied.code, applied.stdout.trim()),
        (Some(0), expected),
        "{applied:?}"
    );
}

/// Pods by name, with the label given.
fn pods_labelled(kube: &KubeSim, key: &str) -> Vec<(String, String)> {
    kube.with(|s| s.list("pods", "default"))
        .iter()
        .map(|p| {
            (
                p["metadata"]["name"].as_str().unwrap_or_default().to_owned(),
                p["metadata"]["labels"][key]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn kubectl_sees_a_statefulset_roll_out_wait_on_a_crash_loop_and_roll_back_once_the_stuck_pod_goes() {
    let kube = KubeSim::start();
    kube.with(|s| s.script_image("registry.example/db:bad", Fate::CrashLoop));
    let kubectl = Kubectl::new(&kube.url());
    // A server-side dry run (what `kubectl diff` sends too) stores nothing.
    let manifest = kubectl.file("db.yaml", &statefulset_yaml("registry.example/db:v1"));
    let dry = kubectl.run(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        (dry.code, dry.stdout.trim()),
        (Some(0), "statefulset.apps/db serverside-applied (server dry run)"),
        "{dry:?}"
    );
    assert!(kube.with(|s| s.get("statefulsets", "default", "db")).is_none());
    kubectl_apply(
        &kubectl,
        "db.yaml",
        &statefulset_yaml("registry.example/db:v1"),
        "statefulset.apps/db serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "statefulset/db", "--timeout=300s"]);
    // What kubectl says of a StatefulSet whose partition the API server defaulted to 0.
    assert_eq!(
        said.stdout.lines().last(),
        Some("partitioned roll out complete: 3 new pods have been updated..."),
        "{said:?}"
    );
    assert_agrees_on(&kube, "statefulsets", "db", &said);
    let sts = kube.with(|s| s.get("statefulsets", "default", "db")).unwrap();
    let first = sts["status"]["updateRevision"].as_str().unwrap().to_owned();
    assert_eq!(sts["status"]["currentRevision"], json!(first));
    assert!(first.starts_with("db-"), "{first}");
    let revision_of = |kube: &KubeSim| pods_labelled(kube, "controller-revision-hash");
    assert_eq!(
        revision_of(&kube),
        [0, 1, 2].map(|i| (format!("db-{i}"), first.clone()))
    );
    let pod = kube.with(|s| s.get("pods", "default", "db-1")).unwrap();
    assert_eq!(
        pod["metadata"]["labels"]["statefulset.kubernetes.io/pod-name"],
        "db-1"
    );
    assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "StatefulSet");
    assert_eq!(
        pod["metadata"]["ownerReferences"][0]["uid"],
        sts["metadata"]["uid"]
    );
    assert_eq!(
        (&pod["spec"]["hostname"], &pod["spec"]["subdomain"]),
        (&json!("db-1"), &json!("db"))
    );

    // A crash loop: the highest ordinal is replaced, never becomes ready, and the rollout stops
    // there; StatefulSets have no progress deadline, so kubectl waits until its own timeout.
    kubectl_apply(
        &kubectl,
        "db.yaml",
        &statefulset_yaml("registry.example/db:bad"),
        "statefulset.apps/db serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "statefulset/db", "--timeout=4s"]);
    assert_eq!(
        said.stdout.lines().last(),
        Some("Waiting for 1 pods to be ready..."),
        "{said:?}"
    );
    assert_agrees_on(&kube, "statefulsets", "db", &said);
    let sts = kube.with(|s| s.get("statefulsets", "default", "db")).unwrap();
    let bad = sts["status"]["updateRevision"].as_str().unwrap().to_owned();
    assert_eq!(sts["status"]["currentRevision"], json!(first));
    assert_eq!(
        revision_of(&kube),
        [("db-0", &first), ("db-1", &first), ("db-2", &bad)].map(|(p, r)| (p.to_owned(), r.clone()))
    );
    let reason = kube.with(|s| s.get("pods", "default", "db-2")).unwrap()["status"]["containerStatuses"][0]["state"]
        ["waiting"]["reason"]
        .clone();
    assert_eq!(reason, "CrashLoopBackOff");

    // Back to the first template: the update revision is the first one again, but the broken pod
    // holds the rollout until it is deleted (Kubernetes' "forced rollback").
    kubectl_apply(
        &kubectl,
        "db.yaml",
        &statefulset_yaml("registry.example/db:v1"),
        "statefulset.apps/db serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "statefulset/db", "--timeout=3s"]);
    assert_agrees_on(&kube, "statefulsets", "db", &said);
    let sts = kube.with(|s| s.get("statefulsets", "default", "db")).unwrap();
    assert_eq!(sts["status"]["updateRevision"], json!(first));
    assert_eq!(revision_of(&kube)[2], ("db-2".to_owned(), bad));
    let deleted = kubectl.run(&["delete", "pod", "db-2", "--wait=false"]);
    assert_eq!(
        (deleted.code, deleted.stdout.trim()),
        (Some(0), "pod \"db-2\" deleted"),
        "{deleted:?}"
    );
    let said = kubectl.run(&["rollout", "status", "statefulset/db", "--timeout=300s"]);
    assert_eq!(
        said.stdout.lines().last(),
        Some("partitioned roll out complete: 3 new pods have been updated..."),
        "{said:?}"
    );
    assert_agrees_on(&kube, "statefulsets", "db", &said);
    assert_eq!(
        revision_of(&kube),
        [0, 1, 2].map(|i| (format!("db-{i}"), first.clone()))
    );
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn kubectl_sees_a_daemonset_roll_out_node_by_node_and_wait_on_a_crash_loop() {
    let kube = KubeSim::start();
    kube.with(|s| {
        s.set_nodes(3);
        s.script_image("registry.example/agent:bad", Fate::CrashLoop);
    });
    let kubectl = Kubectl::new(&kube.url());
    kubectl_apply(
        &kubectl,
        "agent.yaml",
        &daemonset_yaml("registry.example/agent:v1"),
        "daemonset.apps/agent serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "daemonset/agent", "--timeout=300s"]);
    assert_eq!(
        said.stdout.lines().last(),
        Some("daemon set \"agent\" successfully rolled out"),
        "{said:?}"
    );
    assert_agrees_on(&kube, "daemonsets", "agent", &said);
    let pods = kube.with(|s| s.list("pods", "default"));
    let mut nodes: Vec<&str> = pods
        .iter()
        .map(|p| p["spec"]["nodeName"].as_str().unwrap())
        .collect();
    nodes.sort_unstable();
    assert_eq!(nodes, ["sim-node-1", "sim-node-2", "sim-node-3"]);
    let first = pods[0]["metadata"]["labels"]["controller-revision-hash"].clone();
    for pod in &pods {
        assert_eq!(
            pod["metadata"]["labels"]["controller-revision-hash"], first,
            "{pod:#}"
        );
        assert_eq!(
            pod["metadata"]["labels"]["pod-template-generation"], "1",
            "{pod:#}"
        );
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "DaemonSet");
    }

    // One node at a time: the first new pod crash-loops, and the other two keep their old pods.
    kubectl_apply(
        &kubectl,
        "agent.yaml",
        &daemonset_yaml("registry.example/agent:bad"),
        "daemonset.apps/agent serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "daemonset/agent", "--timeout=4s"]);
    assert_eq!(
        said.stdout.lines().last(),
        Some("Waiting for daemon set \"agent\" rollout to finish: 1 out of 3 new pods have been updated..."),
        "{said:?}"
    );
    assert_agrees_on(&kube, "daemonsets", "agent", &said);
    let ds = kube.with(|s| s.get("daemonsets", "default", "agent")).unwrap();
    assert_eq!(
        (
            &ds["status"]["numberAvailable"],
            &ds["status"]["numberUnavailable"]
        ),
        (&json!(2), &json!(1)),
        "{:#}",
        ds["status"]
    );
    let generations = pods_labelled(&kube, "pod-template-generation");
    assert_eq!(
        generations.iter().filter(|(_, g)| g == "2").count(),
        1,
        "{generations:?}"
    );

    // Back to the first template: the broken pod is old now and not available, so it is replaced.
    kubectl_apply(
        &kubectl,
        "agent.yaml",
        &daemonset_yaml("registry.example/agent:v1"),
        "daemonset.apps/agent serverside-applied",
    );
    let said = kubectl.run(&["rollout", "status", "daemonset/agent", "--timeout=300s"]);
    assert_eq!(
        said.stdout.lines().last(),
        Some("daemon set \"agent\" successfully rolled out"),
        "{said:?}"
    );
    assert_agrees_on(&kube, "daemonsets", "agent", &said);
    let hashes = pods_labelled(&kube, "controller-revision-hash");
    assert!(hashes.iter().all(|(_, h)| json!(h) == first), "{hashes:?}");
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn kubectl_moves_a_client_side_apply_to_server_side_apply_and_json_patches() {
    let kube = KubeSim::start();
    let kubectl = Kubectl::new(&kube.url());
    let config = |value: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\ndata:\n  GREETING: {value}\n")
    };
    let manifest = kubectl.file("cm.yaml", &config("hello"));
    let created = kubectl.run(&["apply", "-f", manifest.to_str().expect("utf-8 path")]);
    assert_eq!(created.stdout.trim(), "configmap/web created", "{created:?}");
    // kubectl's first server-side apply moves the client-side apply's fields to its own manager
    // with a JSON patch of `managedFields`; without that, the change below would conflict.
    kubectl_apply(
        &kubectl,
        "cm.yaml",
        &config("hello"),
        "configmap/web serverside-applied",
    );
    kubectl_apply(
        &kubectl,
        "cm.yaml",
        &config("bonjour"),
        "configmap/web serverside-applied",
    );
    let cm = kube.with(|s| s.get("configmaps", "default", "web")).unwrap();
    assert_eq!(cm["data"]["GREETING"], "bonjour");
    let managers: Vec<&str> = cm["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap())
        .collect();
    assert!(!managers.contains(&"kubectl-client-side-apply"), "{managers:?}");

    let patched = kubectl.run(&[
        "patch",
        "configmap",
        "web",
        "--type=json",
        "-p",
        r#"[{"op": "add", "path": "/data/LEVEL", "value": "debug"}]"#,
    ]);
    assert_eq!(patched.stdout.trim(), "configmap/web patched", "{patched:?}");
    let failed = kubectl.run(&[
        "patch",
        "configmap",
        "web",
        "--type=json",
        "-p",
        r#"[{"op": "test", "path": "/data/LEVEL", "value": "info"}]"#,
    ]);
    assert_eq!(failed.code, Some(1), "{failed:?}");
    let cm = kube.with(|s| s.get("configmaps", "default", "web")).unwrap();
    assert_eq!(cm["data"], json!({"GREETING": "bonjour", "LEVEL": "debug"}));
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

/// A Namespace and a ConfigMap in it, in one file, as Kustomize writes them.
const SHOP: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {team: web}\n---\n\
                    apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: web\n  namespace: shop\ndata: {GREETING: hello}\n";

#[test]
fn kubectl_applies_a_namespace_with_its_objects_and_a_deployment_there_rolls_out() {
    let kube = KubeSim::start();
    let kubectl = Kubectl::new(&kube.url());
    kubectl_apply(
        &kubectl,
        "shop.yaml",
        SHOP,
        "namespace/shop serverside-applied\nconfigmap/web serverside-applied",
    );
    let namespaces = kubectl.run(&["get", "namespaces", "-o", "name"]);
    assert_eq!(
        namespaces.stdout, "namespace/default\nnamespace/kube-system\nnamespace/shop\n",
        "{namespaces:?}"
    );
    let shop = kubectl.run(&[
        "get",
        "ns",
        "shop",
        "-o",
        r"jsonpath={.status.phase} {.spec.finalizers} {.metadata.labels.kubernetes\.io/metadata\.name} {.metadata.labels.team}",
    ]);
    assert_eq!(shop.stdout, r#"Active ["kubernetes"] shop web"#, "{shop:?}");
    let configmaps = kubectl.run(&["get", "configmap", "-n", "shop", "-o", "name"]);
    assert_eq!(configmaps.stdout, "configmap/web\n", "{configmaps:?}");

    let manifest = kubectl.file(
        "deployment.yaml",
        &deployment_yaml("registry.example/web:v1", 2, 30),
    );
    let applied = kubectl.run(&[
        "apply",
        "--server-side",
        "-n",
        "shop",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        (applied.code, applied.stdout.trim()),
        (Some(0), "deployment.apps/web serverside-applied"),
        "{applied:?}"
    );
    let said = kubectl.run(&[
        "rollout",
        "status",
        "deployment/web",
        "-n",
        "shop",
        "--timeout=300s",
    ]);
    assert_eq!(
        (said.code, said.stdout.lines().last()),
        (Some(0), Some("deployment \"web\" successfully rolled out")),
        "{said:?}"
    );
    assert_eq!(kube.with(|s| s.list("pods", "shop")).len(), 2);

    // Deleting the namespace takes what it holds with it (at once, here).
    let deleted = kubectl.run(&["delete", "namespace", "shop"]);
    assert_eq!(
        (deleted.code, deleted.stdout.trim()),
        (Some(0), "namespace \"shop\" deleted"),
        "{deleted:?}"
    );
    for resource in ["configmaps", "deployments", "replicasets", "pods"] {
        assert!(kube.with(|s| s.list(resource, "shop")).is_empty(), "{resource}");
    }
    let gone = kubectl.run(&["get", "configmap", "web", "-n", "shop"]);
    assert_eq!(gone.code, Some(1), "{gone:?}");
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn kubectl_server_side_dry_run_of_a_namespace_stores_nothing() {
    let kube = KubeSim::start();
    let kubectl = Kubectl::new(&kube.url());
    let manifest = kubectl.file("shop.yaml", SHOP);
    let dry = kubectl.run(&[
        "apply",
        "--server-side",
        "--dry-run=server",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    // The ConfigMap's dry run finds no namespace, as on a cluster, where the namespace's own dry
    // run creates none either.
    assert_eq!(dry.code, Some(1), "{dry:?}");
    assert!(
        dry.stdout
            .starts_with("namespace/shop serverside-applied (server dry run)"),
        "{dry:?}"
    );
    assert!(dry.stderr.contains("namespaces \"shop\" not found"), "{dry:?}");
    assert!(kube.with(|s| s.get("namespaces", "", "shop")).is_none());
    let none = kubectl.run(&["get", "namespace", "shop"]);
    assert_eq!(none.code, Some(1), "{none:?}");
    assert!(none.stderr.contains("namespaces \"shop\" not found"), "{none:?}");

    // A namespace the test added is one kubectl reads and applies over.
    kube.with(|s| s.add_namespace("shop"));
    kubectl_apply(
        &kubectl,
        "shop.yaml",
        SHOP,
        "namespace/shop serverside-applied\nconfigmap/web serverside-applied",
    );
    let stored = kube.with(|s| s.get("namespaces", "", "shop")).expect("stored");
    assert_eq!(
        stored["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "shop", "team": "web"})
    );
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

// ---- the API over HTTP ----

fn deployment(image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": image}]}}}})
}

const DEPLOY: &str = "/apis/apps/v1/namespaces/default/deployments";

async fn apply(url: &str, path: &str, manager: &str, force: bool, object: &Value) -> (u16, Value) {
    let resp = client()
        .patch(format!("{url}{path}?fieldManager={manager}&force={force}"))
        .header("content-type", "application/apply-patch+yaml")
        .bearer_auth("t")
        .body(object.to_string())
        .send()
        .await
        .expect("request");
    let code = resp.status().as_u16();
    (code, resp.json().await.expect("json"))
}

#[tokio::test]
async fn a_watch_from_a_resource_version_gets_what_changed_since_or_a_bookmark() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let (code, created) = apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1"),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let quiet = client()
        .get(format!(
            "{url}{DEPLOY}?watch=1&resourceVersion={rv}&allowWatchBookmarks=true"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<Value> = quiet.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 1, "{quiet}");
    assert_eq!(events[0]["type"], "BOOKMARK", "{quiet}");
    assert_eq!(events[0]["type"], "BOOKMARK");

    kube.with(|s| s.advance(1));
    let text = client()
        .get(format!(
            "{url}{DEPLOY}?watch=true&resourceVersion={rv}&fieldSelector=metadata.name%3Dweb"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let events: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(!events.is_empty(), "{text}");
    assert!(
        events
            .iter()
            .all(|e| e["type"] == "MODIFIED" && e["object"]["metadata"]["name"] == "web")
    );
    let last = events.last().unwrap();
    // The controller observed the generation at its first step.
    assert_eq!(last["object"]["status"]["observedGeneration"], 1);
}

#[tokio::test]
async fn observed_generation_lags_an_update_until_the_controller_steps() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1"),
    )
    .await;
    kube.with(|s| s.advance(5));
    let (_, done) = get(&format!("{url}{DEPLOY}/web"), "t").await;
    assert!(
        matches!(kubectl_rollout_status(&done), Rollout::Done(_)),
        "{done:#}"
    );

    let (code, updated) = apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:2"),
    )
    .await;
    assert_eq!(code, 200);
    // The old status still reads complete; only the generation check tells it is stale.
    assert_eq!(updated["metadata"]["generation"], 2);
    assert_eq!(updated["status"]["observedGeneration"], 1);
    assert_eq!(updated["status"]["updatedReplicas"], 1);
    assert_eq!(
        kubectl_rollout_status(&updated),
        Rollout::Waiting("Waiting for deployment spec update to be observed...".to_owned())
    );
    kube.with(|s| s.advance(1));
    let (_, stepped) = get(&format!("{url}{DEPLOY}/web"), "t").await;
    assert_eq!(stepped["status"]["observedGeneration"], 2);
    assert_eq!(
        stepped["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "2"
    );
    assert_eq!(kube.with(|s| s.list("replicasets", "default")).len(), 2);
}

#[tokio::test]
async fn server_side_apply_conflicts_between_managers_unless_forced() {
    let kube = KubeSim::spawn();
    let url = kube.url();
    let path = format!("{DEPLOY}/web");
    assert_eq!(
        apply(&url, &path, "ci", false, &deployment("nginx:1")).await.0,
        201
    );
    let (code, body) = apply(&url, &path, "someone-else", false, &deployment("nginx:2")).await;
    assert_eq!(code, 409, "{body}");
    assert_eq!(body["reason"], "Conflict");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("conflict with \"ci\": .spec.template.spec.containers"),
        "{body}"
    );
    let (code, forced) = apply(&url, &path, "someone-else", true, &deployment("nginx:2")).await;
    assert_eq!(code, 200, "{forced}");
    assert_eq!(
        forced["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    // Without a field manager an apply is refused.
    let resp = client()
        .patch(format!("{url}{path}"))
        .header("content-type", "application/apply-patch+yaml")
        .body(deployment("nginx:3").to_string())
        .send()
        .await
        .unwrap();
    let code = resp.status().as_u16();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"
    );
}

/// The resourceVersion of the whole store, as a list reports it: it moves with every write.
async fn store_version(url: &str) -> String {
    let (_, list) = get(&format!("{url}/api/v1/namespaces/default/configmaps"), "t").await;
    list["metadata"]["resourceVersion"]
        .as_str()
        .expect("a list has a resourceVersion")
        .to_owned()
}

async fn send_body(method: Method, url: &str, content_type: &str, body: &Value) -> (u16, Value) {
    let resp = client()
        .request(method, url)
        .header("content-type", content_type)
        .body(body.to_string())
        .send()
        .await
        .expect("request");
    let code = resp.status().as_u16();
    (code, resp.json().await.expect("json"))
}

#[tokio::test]
async fn a_dry_run_answers_as_the_write_would_and_keeps_nothing() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let web = format!("{url}{DEPLOY}/web");
    let apply_yaml = "application/apply-patch+yaml";

    // A create: the object as it would be stored, with a uid but no resourceVersion.
    let before = store_version(&url).await;
    let (code, created) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ci&dryRun=All"),
        apply_yaml,
        &deployment("nginx:1"),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(created["metadata"]["generation"], 1);
    assert!(created["metadata"]["uid"].is_string(), "{created}");
    assert_eq!(created["metadata"].get("resourceVersion"), None, "{created}");
    assert_eq!(
        created["spec"]["progressDeadlineSeconds"], 600,
        "defaults are filled"
    );
    kube.with(|s| s.advance(5));
    assert_eq!(store_version(&url).await, before);
    assert!(kube.with(|s| s.get("deployments", "default", "web")).is_none());
    assert!(kube.with(|s| s.list("replicasets", "default")).is_empty());
    assert!(kube.with(|s| s.list("events", "default")).is_empty());

    let (code, stored) = apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1"),
    )
    .await;
    assert_eq!(code, 201, "{stored}");
    kube.with(|s| s.advance(5));
    let stored = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    let rv = stored["metadata"]["resourceVersion"].as_str().unwrap().to_owned();
    let before = store_version(&url).await;

    // An apply, a merge patch and a PUT: each answers the changed object at the current version.
    let (code, applied) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ci&dryRun=All"),
        apply_yaml,
        &deployment("nginx:2"),
    )
    .await;
    assert_eq!(code, 200, "{applied}");
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:2"
    );
    assert_eq!(applied["metadata"]["generation"], 2);
    assert_eq!(applied["metadata"]["resourceVersion"], json!(rv));
    let (code, patched) = send_body(
        Method::PATCH,
        &format!("{web}?dryRun=All"),
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"tier": "front"}}}),
    )
    .await;
    assert_eq!(
        (code, &patched["metadata"]["labels"]["tier"]),
        (200, &json!("front"))
    );
    let mut replaced = stored.clone();
    replaced["spec"]["replicas"] = json!(3);
    let (code, put) = send_body(
        Method::PUT,
        &format!("{web}?dryRun=All"),
        "application/json",
        &replaced,
    )
    .await;
    assert_eq!((code, &put["spec"]["replicas"]), (200, &json!(3)), "{put}");
    let (code, _) = call(Method::DELETE, &format!("{web}?dryRun=All"), "t", None).await;
    assert_eq!(code, 200);
    let (code, cm) = send_body(
        Method::POST,
        &format!("{url}/api/v1/namespaces/default/configmaps?dryRun=All"),
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}}),
    )
    .await;
    assert_eq!(code, 201, "{cm}");

    kube.with(|s| s.advance(5));
    assert_eq!(store_version(&url).await, before, "nothing was written");
    let now = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    assert_eq!(now["metadata"]["resourceVersion"], json!(rv));
    assert_eq!(
        now["spec"]["template"]["spec"]["containers"][0]["image"],
        "nginx:1"
    );
    assert_eq!(kube.with(|s| s.list("replicasets", "default")).len(), 1);
    assert!(kube.with(|s| s.get("configmaps", "default", "web")).is_none());
    let quiet = client()
        .get(format!(
            "{url}{DEPLOY}?watch=1&resourceVersion={before}&allowWatchBookmarks=true"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(quiet.lines().all(|l| l.contains("\"BOOKMARK\"")), "{quiet}");

    // A forced dry run takes no field: the same manager still conflicts afterwards.
    let (code, _) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ops&force=true&dryRun=All"),
        apply_yaml,
        &deployment("nginx:3"),
    )
    .await;
    assert_eq!(code, 200);
    let (code, conflict) = apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ops",
        false,
        &deployment("nginx:3"),
    )
    .await;
    assert_eq!(
        (code, conflict["reason"].as_str()),
        (409, Some("Conflict")),
        "{conflict}"
    );
    let (code, conflict) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ops&dryRun=All"),
        apply_yaml,
        &deployment("nginx:3"),
    )
    .await;
    assert_eq!(code, 409, "a dry run conflicts as the write would: {conflict}");

    // Admission runs too.
    kube.with(|s| s.reject("Deployment", "web", "spec.replicas: Invalid value: 3: over quota"));
    let (code, refused) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ci&dryRun=All"),
        apply_yaml,
        &deployment("nginx:2"),
    )
    .await;
    assert_eq!(code, 422, "{refused}");
    assert_eq!(
        refused["message"],
        "Deployment.apps \"web\" is invalid: spec.replicas: Invalid value: 3: over quota"
    );
    // `All` is the only dry run there is.
    let (code, wrong) = send_body(
        Method::PATCH,
        &format!("{web}?fieldManager=ci&dryRun=true"),
        apply_yaml,
        &deployment("nginx:2"),
    )
    .await;
    assert_eq!(code, 422, "{wrong}");
    assert_eq!(
        wrong["message"],
        "PatchOptions.meta.k8s.io \"\" is invalid: dryRun: Unsupported value: []string{\"true\"}: supported values: \"All\""
    );
    assert_eq!(store_version(&url).await, before);
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn applying_again_without_a_field_removes_it_as_a_rollback_needs() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let cms = "/api/v1/namespaces/default/configmaps";
    let config = |data: Value, annotations: Value| {
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "web", "labels": {"app.kubernetes.io/name": "web"}, "annotations": annotations},
            "data": data})
    };
    let v2 = config(
        json!({"LOG_LEVEL": "debug", "FEATURE_X": "on"}),
        json!({"ops.example/release": "v2", "ops.example/canary": "true"}),
    );
    let (code, applied) = apply(&url, &format!("{cms}/web"), "deploy", false, &v2).await;
    assert_eq!(code, 201, "{applied}");
    // Regression: label and annotation keys with dots were split into nested maps.
    assert_eq!(
        applied["metadata"]["labels"],
        json!({"app.kubernetes.io/name": "web"})
    );
    // Someone else's annotation, by a plain patch: the deploy's applies must leave it alone.
    let resp = client()
        .patch(format!("{url}{cms}/web?fieldManager=kubectl-annotate"))
        .header("content-type", "application/merge-patch+json")
        .body(json!({"metadata": {"annotations": {"owner": "team-a"}}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);

    let v1 = config(json!({"LOG_LEVEL": "info"}), json!({"ops.example/release": "v1"}));
    let (code, rolled_back) = apply(&url, &format!("{cms}/web"), "deploy", false, &v1).await;
    assert_eq!(code, 200, "{rolled_back}");
    assert_eq!(rolled_back["data"], json!({"LOG_LEVEL": "info"}));
    assert_eq!(
        rolled_back["metadata"]["annotations"],
        json!({"ops.example/release": "v1", "owner": "team-a"})
    );
    let managers: Vec<(&str, &str)> = rolled_back["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["manager"].as_str().unwrap(), m["operation"].as_str().unwrap()))
        .collect();
    assert_eq!(managers, [("deploy", "Apply"), ("kubectl-annotate", "Update")]);
    // The same apply once more changes nothing, and writes nothing.
    let rv = rolled_back["metadata"]["resourceVersion"].clone();
    let (code, again) = apply(&url, &format!("{cms}/web"), "deploy", false, &v1).await;
    assert_eq!((code, &again["metadata"]["resourceVersion"]), (200, &rv));

    // A container's env is part of the containers list, which is replaced whole.
    let mut with_env = deployment("nginx:1");
    with_env["spec"]["template"]["spec"]["containers"][0]["env"] =
        json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]);
    apply(&url, &format!("{DEPLOY}/web"), "deploy", false, &with_env).await;
    let mut fewer = with_env.clone();
    fewer["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "A", "value": "1"}]);
    let (code, d) = apply(&url, &format!("{DEPLOY}/web"), "deploy", false, &fewer).await;
    assert_eq!(code, 200, "{d}");
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}])
    );
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn an_apply_error_names_the_object() {
    let kube = KubeSim::spawn();
    let url = kube.url();
    let mut wrong = deployment("nginx:1");
    wrong["spec"]["template"]["metadata"]["labels"]["app"] = json!("api");
    let (code, body) = apply(&url, &format!("{DEPLOY}/web"), "ci", false, &wrong).await;
    assert_eq!((code, body["reason"].as_str()), (422, Some("Invalid")), "{body}");
    let message = body["message"].as_str().unwrap();
    assert!(
        message.starts_with("Deployment.apps \"web\" is invalid: spec.template.metadata.labels"),
        "{message}"
    );

    kube.with(|s| {
        s.reject(
            "Service",
            "web",
            "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535",
        )
    });
    let service = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
        "spec": {"selector": {"app": "web"}, "ports": [{"port": 0}]}});
    let (code, body) = apply(
        &url,
        "/api/v1/namespaces/default/services/web",
        "ci",
        false,
        &service,
    )
    .await;
    assert_eq!(code, 422, "{body}");
    assert_eq!(
        body["message"],
        "Service \"web\" is invalid: spec.ports[0].port: Invalid value: 0: must be between 1 and 65535"
    );
    // A body the description refuses (a string where it types an integer) gets 400 before any handler.
    let mut typed = deployment("nginx:1");
    typed["spec"]["replicas"] = json!("two");
    let (code, body) = apply(&url, &format!("{DEPLOY}/web"), "ci", false, &typed).await;
    assert_eq!(code, 400, "{body}");
    assert!(body["message"].as_str().unwrap().contains("replicas"), "{body}");
    assert!(kube.with(|s| s.list("deployments", "default")).is_empty());
}

#[tokio::test]
async fn leases_are_created_once_and_updated_only_from_the_latest_version() {
    let kube = KubeSim::spawn();
    let url = kube.url();
    let leases = format!("{url}/apis/coordination.k8s.io/v1/namespaces/default/leases");
    let lease = json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "deploy-web"},
        "spec": {"holderIdentity": "run-1", "leaseDurationSeconds": 60,
            "acquireTime": "2026-01-01T00:00:00.000000Z", "renewTime": "2026-01-01T00:00:00.000000Z"}});
    let (code, first) = post(&leases, "t", &lease).await;
    assert_eq!(code, 201, "{first}");
    let (code, again) = post(&leases, "t", &lease).await;
    assert_eq!(
        (code, again["reason"].as_str()),
        (409, Some("AlreadyExists")),
        "{again}"
    );

    let mut renewed = first.clone();
    renewed["spec"]["renewTime"] = json!("2026-01-01T00:00:10.000000Z");
    let (code, second) = call(Method::PUT, &format!("{leases}/deploy-web"), "t", Some(&renewed)).await;
    assert_eq!(code, 200, "{second}");
    // A second holder writing from the version it read before the renewal loses.
    let mut stolen = first;
    stolen["spec"]["holderIdentity"] = json!("run-2");
    let (code, lost) = call(Method::PUT, &format!("{leases}/deploy-web"), "t", Some(&stolen)).await;
    assert_eq!((code, lost["reason"].as_str()), (409, Some("Conflict")), "{lost}");
    assert!(
        lost["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified"),
        "{lost}"
    );
    let (code, _) = call(Method::DELETE, &format!("{leases}/deploy-web"), "t", None).await;
    assert_eq!(code, 200);
    assert_eq!(get(&format!("{leases}/deploy-web"), "t").await.0, 404);
    assert!(kube.with(|s| s.violations()).is_empty());
}

#[tokio::test]
async fn access_reviews_and_requests_follow_the_rbac_table() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.deny("patch", "apps", "deployments"));
    let url = kube.url();
    let review = |verb: &str| {
        json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": "default", "verb": verb, "group": "apps", "resource": "deployments"}}})
    };
    let ssar = format!("{url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
    let (code, denied) = post(&ssar, "t", &review("patch")).await;
    assert_eq!(
        (code, &denied["status"]["allowed"]),
        (201, &json!(false)),
        "{denied}"
    );
    let (_, allowed) = post(&ssar, "t", &review("get")).await;
    assert_eq!(allowed["status"]["allowed"], true);

    let (code, body) = apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1"),
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "deployments.apps \"web\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot patch resource \
         \"deployments\" in API group \"apps\" in the namespace \"default\""
    );
    assert!(kube.with(|s| s.list("deployments", "default")).is_empty());
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
}

/// The names in a list.
fn names(list: &Value) -> Vec<&str> {
    list["items"]
        .as_array()
        .expect("a list has items")
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap_or_default())
        .collect()
}

/// The one change a watch of `collection` from `rv` reports, a deletion: the name and the
/// `resourceVersion` of what went.
async fn deleted_since(collection: &str, rv: &str) -> (String, u64) {
    let text = client()
        .get(format!("{collection}?watch=1&resourceVersion={rv}"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    let events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON event a line"))
        .collect();
    assert_eq!(events.len(), 1, "{text}");
    assert_eq!(events[0]["type"], "DELETED", "{text}");
    let meta = &events[0]["object"]["metadata"];
    let version = meta["resourceVersion"]
        .as_str()
        .and_then(|v| v.parse().ok())
        .expect("a resourceVersion");
    (meta["name"].as_str().unwrap_or_default().to_owned(), version)
}

#[tokio::test]
async fn namespaces_are_written_like_other_objects_and_take_their_objects_with_them() {
    let kube = KubeSim::spawn();
    kube.with(|s| {
        s.set_seconds_per_request(0);
        s.add_namespace("legacy");
    });
    let url = kube.url();
    let all = format!("{url}/api/v1/namespaces");
    let (code, list) = get(&all, "t").await;
    assert_eq!((code, &list["kind"]), (200, &json!("NamespaceList")), "{list}");
    assert_eq!(names(&list), ["default", "kube-system", "legacy"]);

    // Nothing goes into a namespace before it exists.
    let configmaps = format!("{url}/api/v1/namespaces/shop/configmaps");
    let configmap =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}});
    let (code, missing) = post(&configmaps, "t", &configmap).await;
    assert_eq!(
        (code, &missing["message"]),
        (404, &json!("namespaces \"shop\" not found"))
    );

    // A create: the API server's label, finalizer and phase, and the creator owns the label.
    let (code, created) = post(&format!("{all}?fieldManager=ops-test"), "t", &namespace("shop")).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "shop"})
    );
    assert_eq!(created["metadata"].get("namespace"), None, "{created}");
    assert_eq!(created["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(created["status"], json!({"phase": "Active"}));
    assert_eq!(
        created["metadata"]["managedFields"][0]["fieldsV1"],
        json!({"f:metadata": {"f:labels": {"f:kubernetes.io/metadata.name": {}}}})
    );
    let (code, again) = post(&all, "t", &namespace("shop")).await;
    assert_eq!(
        (code, &again["message"]),
        (409, &json!("namespaces \"shop\" already exists"))
    );
    assert_eq!(post(&configmaps, "t", &configmap).await.0, 201);

    // Server-side apply: field ownership and conflicts as for any object.
    let path = "/api/v1/namespaces/shop";
    let mut labelled = namespace("shop");
    labelled["metadata"]["labels"] = json!({"team": "web"});
    let (code, applied) = apply(&url, path, "ci", false, &labelled).await;
    assert_eq!(code, 200, "{applied}");
    assert_eq!(
        applied["metadata"]["labels"],
        json!({"kubernetes.io/metadata.name": "shop", "team": "web"})
    );
    labelled["metadata"]["labels"]["team"] = json!("ops");
    let (code, conflict) = apply(&url, path, "ops", false, &labelled).await;
    assert_eq!(
        (code, &conflict["message"]),
        (
            409,
            &json!("Apply failed with 1 conflict: conflict with \"ci\": .metadata.labels.team")
        )
    );
    // Neither the name label, nor the finalizers, nor the phase are the client's to change.
    let (code, patched) = send_body(
        Method::PATCH,
        &format!("{url}{path}"),
        "application/merge-patch+json",
        &json!({"metadata": {"labels": {"kubernetes.io/metadata.name": "other"}},
            "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}),
    )
    .await;
    assert_eq!(code, 200, "{patched}");
    assert_eq!(
        patched["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "shop"
    );
    assert_eq!(patched["spec"], json!({"finalizers": ["kubernetes"]}));
    assert_eq!(patched["status"], json!({"phase": "Active"}));
    let (code, invalid) = post(&all, "t", &namespace("Shop_1")).await;
    assert_eq!(code, 422, "{invalid}");
    assert_eq!(
        invalid["message"],
        "Namespace \"Shop_1\" is invalid: metadata.name: Invalid value: \"Shop_1\": a lowercase RFC 1123 label must \
         consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character \
         (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
    );

    // Deleting: never `default`; a dry run keeps everything; otherwise what it holds goes first.
    let (code, refused) = call(Method::DELETE, &format!("{all}/default"), "t", None).await;
    assert_eq!(
        (code, &refused["message"]),
        (
            403,
            &json!("namespaces \"default\" is forbidden: this namespace may not be deleted")
        )
    );
    let (code, _) = call(Method::DELETE, &format!("{url}{path}?dryRun=All"), "t", None).await;
    assert_eq!(code, 200);
    assert!(kube.with(|s| s.get("configmaps", "shop", "web")).is_some());
    let before = store_version(&url).await;
    let (code, deleted) = call(Method::DELETE, &format!("{url}{path}"), "t", None).await;
    assert_eq!((code, &deleted["status"]), (200, &json!("Success")), "{deleted}");
    assert_eq!(get(&format!("{url}{path}"), "t").await.0, 404);
    assert!(kube.with(|s| s.list("configmaps", "shop")).is_empty());
    let (_, list) = get(&all, "t").await;
    assert_eq!(names(&list), ["default", "kube-system", "legacy"]);
    // Watchers are told, the namespace's objects first.
    let configmap_gone = deleted_since(&configmaps, &before).await;
    let namespace_gone = deleted_since(&all, &before).await;
    assert_eq!(
        (configmap_gone.0.as_str(), namespace_gone.0.as_str()),
        ("web", "shop")
    );
    assert!(configmap_gone.1 < namespace_gone.1);
    let (code, recreated) = post(&all, "t", &namespace("shop")).await;
    assert_eq!(code, 201, "{recreated}");
    assert_ne!(recreated["metadata"]["uid"], created["metadata"]["uid"]);
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn access_reviews_and_requests_hold_namespaces_to_the_rbac_table() {
    let kube = KubeSim::spawn();
    kube.with(|s| {
        s.deny("create", "", "namespaces");
        s.deny("patch", "", "namespaces");
    });
    let url = kube.url();
    let ssar = format!("{url}/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
    for (verb, allowed) in [("create", false), ("patch", false), ("get", true)] {
        let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"verb": verb, "group": "", "resource": "namespaces"}}});
        let (code, answer) = post(&ssar, "t", &review).await;
        assert_eq!(
            (code, &answer["status"]["allowed"]),
            (201, &json!(allowed)),
            "{verb}: {answer}"
        );
    }
    let (code, body) = post(&format!("{url}/api/v1/namespaces"), "t", &namespace("shop")).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "namespaces is forbidden: User \"system:serviceaccount:ci:deployer\" cannot create resource \"namespaces\" \
         in API group \"\" at the cluster scope"
    );
    let (code, body) = apply(&url, "/api/v1/namespaces/shop", "ci", false, &namespace("shop")).await;
    assert_eq!(code, 403, "{body}");
    assert_eq!(
        body["message"],
        "namespaces \"shop\" is forbidden: User \"system:serviceaccount:ci:deployer\" cannot patch resource \
         \"namespaces\" in API group \"\" at the cluster scope"
    );
    assert!(kube.with(|s| s.get("namespaces", "", "shop")).is_none());
    assert_eq!(get(&format!("{url}/api/v1/namespaces/default"), "t").await.0, 200);
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn failing_pods_leave_events_and_logs() {
    let kube = KubeSim::spawn();
    kube.with(|s| {
        s.set_seconds_per_request(0);
        s.script_image(
            "nginx",
            Fate::CrashAfterReady {
                ready_after: 1,
                crash_after: 2,
            },
        );
        s.set_logs(
            "web",
            &["starting", "listening on :8080", "panic: lost the database"],
        );
    });
    let url = kube.url();
    apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1.27"),
    )
    .await;
    kube.with(|s| s.advance(3));
    let pods = kube.with(|s| s.list("pods", "default"));
    assert_eq!(pods.len(), 1);
    let name = pods[0]["metadata"]["name"].as_str().unwrap().to_owned();
    assert_eq!(
        pods[0]["status"]["containerStatuses"][0]["ready"], true,
        "{:#}",
        pods[0]
    );
    kube.with(|s| s.advance(4));
    let pod = kube.with(|s| s.get("pods", "default", &name)).unwrap();
    let cs = &pod["status"]["containerStatuses"][0];
    assert_eq!(
        (cs["ready"].as_bool(), cs["state"]["waiting"]["reason"].as_str()),
        (Some(false), Some("CrashLoopBackOff"))
    );
    assert!(cs["restartCount"].as_u64().unwrap() >= 1);
    assert_eq!(cs["lastState"]["terminated"]["exitCode"], 1);

    let (code, events) = get(
        &format!("{url}/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DPod,involvedObject.name%3D{name}"),
        "t",
    )
    .await;
    assert_eq!(code, 200);
    let reasons: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["Scheduled", "Started", "BackOff"], "{reasons:?}");
    // Repeats are counted on one Event, as the kubelet aggregates them.
    assert_eq!(events["items"][2]["count"], cs["restartCount"], "{events:#}");
    let text = client()
        .get(format!(
            "{url}/api/v1/namespaces/default/pods/{name}/log?tailLines=2"
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(text, "listening on :8080\npanic: lost the database\n");
    assert!(
        kube.with(|s| s.violations()).is_empty(),
        "{:#?}",
        kube.with(|s| s.violations())
    );
}

/// Regression: an empty log (a container that wrote nothing) was reported as a contract violation
/// ("documents a JSON body; got none"), though the description's body is a string, empty here.
#[tokio::test]
async fn an_empty_log_is_an_empty_answer_within_the_description() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    apply(
        &url,
        &format!("{DEPLOY}/web"),
        "ci",
        false,
        &deployment("nginx:1.27"),
    )
    .await;
    kube.with(|s| s.advance(3));
    let name = kube.with(|s| s.list("pods", "default"))[0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let resp = client()
        .get(format!(
            "{url}/api/v1/namespaces/default/pods/{name}/log?tailLines=20"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.text().await.unwrap(), "");
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_rollout_replaces_old_pods_only_as_new_ones_become_ready() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let mut v1 = deployment("nginx:1");
    v1["spec"]["replicas"] = json!(2);
    apply(&url, &format!("{DEPLOY}/web"), "ci", false, &v1).await;
    kube.with(|s| s.advance(5));
    kube.with(|s| s.script_image("nginx:2", Fate::ImagePullBackOff));
    let mut v2 = v1.clone();
    v2["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");
    apply(&url, &format!("{DEPLOY}/web"), "ci", false, &v2).await;
    kube.with(|s| s.advance(20));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    // The old pods still serve; the new ones never become ready.
    assert_eq!(d["status"]["availableReplicas"], 2, "{:#}", d["status"]);
    assert_eq!(d["status"]["updatedReplicas"], 2);
    assert_eq!(d["status"]["replicas"], 4);
    // A rollback: the old template again, its ReplicaSet back as the newest revision.
    apply(&url, &format!("{DEPLOY}/web"), "ci", false, &v1).await;
    kube.with(|s| s.advance(3));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    assert!(
        matches!(kubectl_rollout_status(&d), Rollout::Done(_)),
        "{:#}",
        d["status"]
    );
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"],
        "3"
    );
    assert_eq!(kube.with(|s| s.list("pods", "default")).len(), 2);
}

#[tokio::test]
async fn a_patch_that_names_a_stale_resource_version_conflicts() {
    let kube = KubeSim::spawn();
    let url = kube.url();
    let cm = format!("{url}/api/v1/namespaces/default/configmaps");
    let (code, created) = post(
        &cm,
        "t",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web"}, "data": {"a": "1"}}),
    )
    .await;
    assert_eq!(code, 201, "{created}");
    let rv = created["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_owned();
    let web = format!("{cm}/web");
    let patch_type = "application/json-patch+json";
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "add", "path": "/data/b", "value": "2"},
    ]);
    let (code, patched) = send_body(Method::PATCH, &web, patch_type, &ops).await;
    assert_eq!(
        (code, &patched["data"]),
        (200, &json!({"a": "1", "b": "2"})),
        "{patched}"
    );
    // The same precondition again: the object has moved on since.
    let ops = json!([
        {"op": "replace", "path": "/metadata/resourceVersion", "value": rv},
        {"op": "remove", "path": "/data/a"},
    ]);
    let (code, stale) = send_body(Method::PATCH, &web, patch_type, &ops).await;
    assert_eq!(
        (code, stale["reason"].as_str()),
        (409, Some("Conflict")),
        "{stale}"
    );
    let ops = json!([{"op": "remove", "path": "/data/zzz"}]);
    let (code, missing) = send_body(Method::PATCH, &web, patch_type, &ops).await;
    assert_eq!(
        (code, missing["reason"].as_str()),
        (422, Some("Invalid")),
        "{missing}"
    );
    let data = kube.with(|s| s.get("configmaps", "default", "web")).unwrap()["data"].clone();
    assert_eq!(data, json!({"a": "1", "b": "2"}));
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn revisions_are_annotated_as_the_deployment_controller_does() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let path = format!("{DEPLOY}/web");
    let revision = |o: &Value| o["metadata"]["annotations"]["deployment.kubernetes.io/revision"].clone();
    let set_of = |image: &str| {
        kube.with(|s| s.list("replicasets", "default"))
            .into_iter()
            .find(|rs| rs["spec"]["template"]["spec"]["containers"][0]["image"] == image)
            .expect("a ReplicaSet for the image")
    };
    let mut v1 = deployment("nginx:1");
    v1["spec"]["replicas"] = json!(2);
    let mut v2 = v1.clone();
    v2["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:2");

    apply(&url, &path, "ci", false, &v1).await;
    kube.with(|s| s.advance(4));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    let first = set_of("nginx:1");
    assert_eq!((revision(&d), revision(&first)), (json!("1"), json!("1")));
    let hash = first["metadata"]["labels"]["pod-template-hash"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(first["metadata"]["name"], format!("web-{hash}"));
    assert_eq!(
        first["metadata"]["ownerReferences"][0]["uid"],
        d["metadata"]["uid"]
    );
    assert_eq!(
        first["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"],
        "2"
    );
    assert_eq!(
        first["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"],
        "3"
    );
    let pods = kube.with(|s| s.list("pods", "default"));
    assert_eq!(pods.len(), 2);
    for pod in &pods {
        assert_eq!(
            pod["metadata"]["labels"]["pod-template-hash"],
            json!(hash),
            "{pod:#}"
        );
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!(
            (
                &owner["kind"],
                &owner["name"],
                &owner["uid"],
                &owner["controller"]
            ),
            (
                &json!("ReplicaSet"),
                &first["metadata"]["name"],
                &first["metadata"]["uid"],
                &json!(true)
            )
        );
    }

    apply(&url, &path, "ci", false, &v2).await;
    kube.with(|s| s.advance(4));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    assert_eq!(
        (revision(&d), revision(&set_of("nginx:2"))),
        (json!("2"), json!("2"))
    );

    // Back to the first template: its ReplicaSet is used again, under the next revision.
    apply(&url, &path, "ci", false, &v1).await;
    kube.with(|s| s.advance(1));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    let again = set_of("nginx:1");
    assert_eq!(again["metadata"]["uid"], first["metadata"]["uid"]);
    assert_eq!((revision(&d), revision(&again)), (json!("3"), json!("3")));
    assert_eq!(
        again["metadata"]["annotations"]["deployment.kubernetes.io/revision-history"],
        "1"
    );
    assert_eq!(revision(&set_of("nginx:2")), json!("2"));

    // A replace that leaves the annotation out gets it back at the controller's next step.
    let mut bare = d.clone();
    bare["metadata"].as_object_mut().unwrap().remove("annotations");
    let (code, replaced) = call(Method::PUT, &format!("{url}{path}"), "t", Some(&bare)).await;
    assert_eq!(code, 200, "{replaced}");
    assert_eq!(revision(&replaced), Value::Null);
    kube.with(|s| s.advance(1));
    let d = kube.with(|s| s.get("deployments", "default", "web")).unwrap();
    assert_eq!(revision(&d), json!("3"));
    assert!(kube.with(|s| s.violations()).is_empty());
}

fn statefulset(image: &str, replicas: u32) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"serviceName": "db", "replicas": replicas, "selector": {"matchLabels": {"app": "db"}},
            "template": {"metadata": {"labels": {"app": "db"}},
                "spec": {"containers": [{"name": "db", "image": image}]}}}})
}

const STS: &str = "/apis/apps/v1/namespaces/default/statefulsets";

#[tokio::test]
async fn a_statefulset_makes_its_pods_in_order_and_updates_them_from_the_highest_ordinal() {
    let kube = KubeSim::spawn();
    kube.with(|s| {
        s.set_seconds_per_request(0);
        s.script_image("postgres", Fate::Healthy { ready_after: 1 });
    });
    let url = kube.url();
    let path = format!("{STS}/db");
    let (code, created) = apply(&url, &path, "ci", false, &statefulset("postgres:16", 3)).await;
    assert_eq!(code, 201, "{created}");
    // What the API server fills in, and the status of a set no controller has seen yet.
    assert_eq!(created["spec"]["podManagementPolicy"], "OrderedReady");
    assert_eq!(
        created["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
    );
    assert_eq!(created["spec"]["template"]["spec"]["restartPolicy"], "Always");
    assert_eq!(
        created["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"],
        "IfNotPresent"
    );
    assert_eq!(created["status"], json!({"replicas": 0, "availableReplicas": 0}));
    let names = |kube: &KubeSim| -> Vec<String> {
        kube.with(|s| s.list("pods", "default"))
            .iter()
            .map(|p| p["metadata"]["name"].as_str().unwrap().to_owned())
            .collect()
    };
    // One pod at a time, each once the one before is ready (ready once it is 2 s old).
    kube.with(|s| s.advance(1));
    assert_eq!(names(&kube), ["db-0"]);
    kube.with(|s| s.advance(1));
    assert_eq!(names(&kube), ["db-0"]);
    kube.with(|s| s.advance(1));
    assert_eq!(names(&kube), ["db-0", "db-1"]);
    kube.with(|s| s.advance(8));
    let (_, sts) = get(&format!("{url}{path}/status"), "t").await;
    let first = sts["status"]["updateRevision"].clone();
    assert_eq!(
        sts["status"],
        json!({"observedGeneration": 1, "replicas": 3, "readyReplicas": 3, "currentReplicas": 3,
            "updatedReplicas": 3, "availableReplicas": 3, "collisionCount": 0,
            "currentRevision": first, "updateRevision": first})
    );

    // An update: db-2 first, then db-1 once db-2 is ready, then db-0.
    apply(&url, &path, "ci", false, &statefulset("postgres:17", 3)).await;
    kube.with(|s| s.advance(1));
    assert_eq!(names(&kube), ["db-0", "db-1"], "db-2 is deleted first");
    let sts = kube.with(|s| s.get("statefulsets", "default", "db")).unwrap();
    let second = sts["status"]["updateRevision"].clone();
    assert_ne!(second, first);
    assert_eq!(sts["status"]["currentRevision"], first);
    kube.with(|s| s.advance(1));
    let revision = |pod: &str| {
        kube.with(|s| s.get("pods", "default", pod))
            .map(|p| p["metadata"]["labels"]["controller-revision-hash"].clone())
    };
    assert_eq!(revision("db-2"), Some(second.clone()));
    assert_eq!(revision("db-1"), Some(first.clone()));
    kube.with(|s| s.advance(20));
    let sts = kube.with(|s| s.get("statefulsets", "default", "db")).unwrap();
    assert_eq!(sts["status"]["currentRevision"], second, "{:#}", sts["status"]);
    assert!(matches!(kubectl_rollout_status(&sts), Rollout::Done(_)));

    // A pod deleted through the API comes back under the same name.
    let (code, deleted) = call(
        Method::DELETE,
        &format!("{url}/api/v1/namespaces/default/pods/db-1"),
        "t",
        None,
    )
    .await;
    assert_eq!(code, 200, "{deleted}");
    assert_eq!(deleted["kind"], "Pod");
    assert!(deleted["metadata"]["deletionTimestamp"].is_string());
    assert_eq!(names(&kube), ["db-0", "db-2"]);
    kube.with(|s| s.advance(1));
    assert_eq!(names(&kube), ["db-0", "db-1", "db-2"]);
    let events = kube.with(|s| s.list("events", "default"));
    let said: Vec<&str> = events
        .iter()
        .filter(|e| e["involvedObject"]["kind"] == "StatefulSet")
        .map(|e| e["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        said.first(),
        Some(&"create Pod db-0 in StatefulSet db successful")
    );
    assert!(
        said.contains(&"delete Pod db-2 in StatefulSet db successful"),
        "{said:?}"
    );

    // Scaling down takes the highest ordinals away; deleting the set takes its pods.
    apply(&url, &path, "ci", false, &statefulset("postgres:17", 1)).await;
    kube.with(|s| s.advance(3));
    assert_eq!(names(&kube), ["db-0"]);
    let (code, _) = call(Method::DELETE, &format!("{url}{path}"), "t", None).await;
    assert_eq!(code, 200);
    assert!(names(&kube).is_empty());
    let violations = kube.with(|s| s.violations());
    assert!(violations.is_empty(), "{violations:#?}");
}

#[tokio::test]
async fn a_daemonset_follows_the_nodes() {
    let kube = KubeSim::spawn();
    kube.with(|s| s.set_seconds_per_request(0));
    let url = kube.url();
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
            "template": {"metadata": {"labels": {"app": "agent"}},
                "spec": {"containers": [{"name": "agent", "image": "registry.example/agent:v1"}]}}}});
    let path = "/apis/apps/v1/namespaces/default/daemonsets/agent";
    let (code, created) = apply(&url, path, "ci", false, &ds).await;
    assert_eq!(code, 201, "{created}");
    assert_eq!(
        created["spec"]["updateStrategy"],
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}})
    );
    assert_eq!(
        created["metadata"]["annotations"]["deprecated.daemonset.template.generation"],
        "1"
    );
    let nodes = |kube: &KubeSim| -> Vec<String> {
        let mut n: Vec<String> = kube
            .with(|s| s.list("pods", "default"))
            .iter()
            .map(|p| p["spec"]["nodeName"].as_str().unwrap().to_owned())
            .collect();
        n.sort();
        n
    };
    kube.with(|s| s.advance(1));
    assert_eq!(nodes(&kube), ["sim-node-1", "sim-node-2"]);
    let ds_now = kube.with(|s| s.get("daemonsets", "default", "agent")).unwrap();
    // Nothing is available yet: the counters Go leaves out at zero are left out.
    assert_eq!(
        ds_now["status"],
        json!({"observedGeneration": 1, "desiredNumberScheduled": 2, "currentNumberScheduled": 2,
            "numberMisscheduled": 0, "numberReady": 0, "updatedNumberScheduled": 2, "numberUnavailable": 2})
    );
    kube.with(|s| s.set_nodes(3));
    kube.with(|s| s.advance(4));
    assert_eq!(nodes(&kube), ["sim-node-1", "sim-node-2", "sim-node-3"]);
    let ds_now = kube.with(|s| s.get("daemonsets", "default", "agent")).unwrap();
    assert_eq!(ds_now["status"]["numberAvailable"], 3, "{:#}", ds_now["status"]);
    kube.with(|s| s.set_nodes(1));
    kube.with(|s| s.advance(1));
    assert_eq!(nodes(&kube), ["sim-node-1"]);
    assert!(kube.with(|s| s.violations()).is_empty());
}

/// Kills `ops-sim` even when an assertion fails first.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn ops_sim_kubernetes_is_a_healthy_cluster_for_kubectl() {
    use std::io::{BufRead, BufReader};
    let child = Command::new(env!("CARGO_BIN_EXE_ops-sim"))
        .args(["kubernetes", "--port", "0", "--tick-millis", "50"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("ops-sim starts");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("a line");
    let url = line.trim();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let kubectl = Kubectl::new(url);
    // Nothing scripted: the pods of a new revision pull, start and become ready by themselves.
    let manifest = kubectl.file("deployment.yaml", &deployment_yaml("nginx:1.27", 3, 600));
    let applied = kubectl.run(&[
        "apply",
        "--server-side",
        "-f",
        manifest.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(
        applied.stdout.trim(),
        "deployment.apps/web serverside-applied",
        "{applied:?}"
    );
    let said = kubectl.run(&["rollout", "status", "deployment/web", "--timeout=300s"]);
    assert_eq!(said.code, Some(0), "{said:?}");
    assert_eq!(
        said.stdout.lines().last(),
        Some("deployment \"web\" successfully rolled out"),
        "{said:?}"
    );
}
