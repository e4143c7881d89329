//! Following a rollout to the truth: one wait for every workload at once under the deploy's one
//! deadline, failing fast on pods of the new revision that cannot succeed; then an `observe` window
//! in which the new pods must stay ready without restarts; and, on failure, the evidence.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use kube::core::ApiResource;
use ops_core::Runner;
use serde_json::Value;

use super::access::Access;
use super::cluster::{Cluster, builtin};
use super::rollout::{self, Verdict};
use crate::duration::human;
use crate::flow::{Cancel, Deadline};

/// A workload to follow.
#[derive(Debug, Clone)]
pub struct Workload {
    /// `Deployment`, `StatefulSet`, `DaemonSet`.
    pub kind: String,
    /// Its name.
    pub name: String,
    /// Its namespace.
    pub namespace: String,
    /// Its resource.
    pub ar: ApiResource,
}

impl Workload {
    /// `deployment/web`.
    pub fn reference(&self) -> String {
        format!("{}/{}", self.kind.to_lowercase(), self.name)
    }
}

/// The rules of a wait.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    /// Restarts of a new pod that fail the rollout.
    pub max_restarts: i64,
    /// How long a new pod may stay unschedulable.
    pub unschedulable_grace: Duration,
    /// Time between polls.
    pub poll: Duration,
}

/// Why a wait failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// One line.
    pub reason: String,
    /// The workload it is about, if one.
    pub workload: Option<String>,
    /// Cancelled by a signal (no diagnostics needed).
    pub cancelled: bool,
    /// Another run took the deploy lock away: stop, and change nothing more.
    pub lost: bool,
}

fn fail(reason: String, workload: Option<&Workload>) -> Failure {
    Failure {
        reason,
        workload: workload.map(Workload::reference),
        cancelled: false,
        lost: false,
    }
}

fn selector(obj: &Value) -> String {
    obj.pointer("/spec/selector/matchLabels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default()
}

fn join(a: &str, b: &str) -> String {
    if a.is_empty() {
        b.to_owned()
    } else {
        format!("{a},{b}")
    }
}

/// The pods of the workload's newest revision.
pub async fn new_pods(cluster: &Cluster, w: &Workload, obj: &Value) -> Vec<Value> {
    let pods = builtin("", "v1", "Pod", "pods");
    let base = selector(obj);
    let sel = match w.kind.as_str() {
        "Deployment" => {
            let rss = builtin("apps", "v1", "ReplicaSet", "replicasets");
            let Ok(all) = cluster.list(&rss, &w.namespace, &base).await else {
                return Vec::new();
            };
            let uid = obj["metadata"]["uid"].as_str().unwrap_or_default();
            let revision = obj.pointer("/metadata/annotations/deployment.kubernetes.io~1revision");
            let owned: Vec<&Value> = all
                .iter()
                .filter(|rs| {
                    rs["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|o| o.iter().any(|r| r["uid"].as_str() == Some(uid)))
                })
                .collect();
            let newest = owned
                .iter()
                .find(|rs| {
                    revision.is_some()
                        && rs.pointer("/metadata/annotations/deployment.kubernetes.io~1revision") == revision
                })
                .or_else(|| {
                    owned.iter().max_by_key(|rs| {
                        rs["metadata"]["creationTimestamp"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned()
                    })
                });
            match newest
                .and_then(|rs| rs.pointer("/metadata/labels/pod-template-hash"))
                .and_then(Value::as_str)
            {
                Some(hash) => join(&base, &format!("pod-template-hash={hash}")),
                None => return Vec::new(),
            }
        }
        "StatefulSet" => match obj["status"]["updateRevision"].as_str() {
            Some(r) => join(&base, &format!("controller-revision-hash={r}")),
            None => return Vec::new(),
        },
        "DaemonSet" => join(
            &base,
            &format!(
                "pod-template-generation={}",
                obj["metadata"]["generation"].as_i64().unwrap_or(0)
            ),
        ),
        _ => return Vec::new(),
    };
    if base.is_empty() {
        return Vec::new();
    }
    cluster.list(&pods, &w.namespace, &sel).await.unwrap_or_default()
}

/// Waits until every workload is rolled out, or one cannot be.
#[allow(clippy::too_many_arguments)]
pub async fn wait(
    access: &mut Access,
    runner: &Runner,
    cancel: &Cancel,
    deadline: &Deadline,
    workloads: &[Workload],
    guard: Option<&super::lease::Lock>,
    rules: Rules,
    phase: &str,
) -> Result<(), Failure> {
    let started = Instant::now();
    let mut unschedulable_since: BTreeMap<String, Instant> = BTreeMap::new();
    let mut last_line = String::new();
    let mut last_print = Instant::now();
    let mut done: Vec<bool> = vec![false; workloads.len()];
    if workloads.is_empty() {
        return Ok(());
    }
    loop {
        if let Some(taken) = guard.and_then(super::lease::Lock::lost) {
            return Err(Failure {
                reason: taken,
                workload: None,
                cancelled: false,
                lost: true,
            });
        }
        let cluster = &match access.client(runner).await {
            Ok(client) => Cluster { client },
            Err(e) => return Err(fail(format!("could not renew the cluster credential: {e}"), None)),
        };
        let mut waiting = Vec::new();
        for (i, w) in workloads.iter().enumerate() {
            let obj = match cluster.get(&w.ar, Some(&w.namespace), &w.name).await {
                Ok(Some(o)) => o,
                Ok(None) => return Err(fail(format!("{} no longer exists", w.reference()), Some(w))),
                Err(e) => {
                    waiting.push(format!("{}: could not be read ({e})", w.reference()));
                    continue;
                }
            };
            match rollout::workload(&w.kind, &obj) {
                Verdict::Done => {
                    if !done[i] {
                        runner.info(&format!(
                            "{phase}: {} rolled out ({})",
                            w.reference(),
                            human(started.elapsed())
                        ));
                    }
                    done[i] = true;
                }
                Verdict::Failed(reason) => return Err(fail(format!("{}: {reason}", w.reference()), Some(w))),
                Verdict::Waiting(what) => {
                    done[i] = false;
                    for pod in new_pods(cluster, w, &obj).await {
                        if let Some(why) = rollout::hopeless(&pod, rules.max_restarts) {
                            return Err(fail(format!("{}: {why}", w.reference()), Some(w)));
                        }
                        let pname = pod["metadata"]["name"].as_str().unwrap_or("?").to_owned();
                        match rollout::unschedulable(&pod) {
                            Some(msg) => {
                                let since = *unschedulable_since
                                    .entry(pname.clone())
                                    .or_insert_with(Instant::now);
                                if since.elapsed() >= rules.unschedulable_grace {
                                    return Err(fail(
                                        format!(
                                            "{}: pod `{pname}` Unschedulable for {} (`unschedulable-grace`): {msg}",
                                            w.reference(),
                                            human(since.elapsed())
                                        ),
                                        Some(w),
                                    ));
                                }
                            }
                            None => {
                                unschedulable_since.remove(&pname);
                            }
                        }
                    }
                    waiting.push(format!("{} {what}", w.reference()));
                }
            }
        }
        if waiting.is_empty() {
            return Ok(());
        }
        let line = waiting.join("; ");
        if line != last_line || last_print.elapsed() >= Duration::from_secs(20) {
            runner.info(&format!(
                "{phase}: waiting ({}): {line}",
                human(started.elapsed())
            ));
            last_line = line.clone();
            last_print = Instant::now();
        }
        if deadline.remaining().is_zero() {
            return Err(fail(
                deadline
                    .limit()
                    .ran_out(&format!("waiting for the rollout: {line}")),
                None,
            ));
        }
        let nap = rules.poll.min(deadline.remaining());
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            sig = cancel.cancelled() => return Err(Failure { reason: format!("cancelled by {sig}"), workload: None, cancelled: true, lost: false }),
        }
    }
}

/// Watches the rolled-out workloads for `observe`: each must stay rolled out and its new pods ready,
/// with no restart.
pub async fn observe(
    access: &mut Access,
    runner: &Runner,
    cancel: &Cancel,
    workloads: &[Workload],
    guard: Option<&super::lease::Lock>,
    rules: Rules,
    window: Duration,
) -> Result<(), Failure> {
    if window.is_zero() || workloads.is_empty() {
        return Ok(());
    }
    runner.info(&format!(
        "observe: watching {} workload(s) for {}",
        workloads.len(),
        human(window)
    ));
    let started = Instant::now();
    let mut baseline: BTreeMap<String, i64> = BTreeMap::new();
    loop {
        if let Some(taken) = guard.and_then(super::lease::Lock::lost) {
            return Err(Failure {
                reason: taken,
                workload: None,
                cancelled: false,
                lost: true,
            });
        }
        let cluster = &match access.client(runner).await {
            Ok(client) => Cluster { client },
            Err(e) => return Err(fail(format!("could not renew the cluster credential: {e}"), None)),
        };
        for w in workloads {
            let Ok(Some(obj)) = cluster.get(&w.ar, Some(&w.namespace), &w.name).await else {
                continue;
            };
            for pod in new_pods(cluster, w, &obj).await {
                let pname = pod["metadata"]["name"].as_str().unwrap_or("?").to_owned();
                if let Some(why) = rollout::hopeless(&pod, 0) {
                    return Err(fail(
                        format!("{} during `observe`: {why}", w.reference()),
                        Some(w),
                    ));
                }
                let (ready, restarts) = rollout::ready_and_restarts(&pod);
                let first = *baseline.entry(pname.clone()).or_insert(restarts);
                if restarts > first {
                    return Err(fail(
                        format!(
                            "{} during `observe`: pod `{pname}` restarted ({} time(s) in the window)",
                            w.reference(),
                            restarts - first
                        ),
                        Some(w),
                    ));
                }
                if !ready {
                    return Err(fail(
                        format!(
                            "{} during `observe`: pod `{pname}` is no longer ready",
                            w.reference()
                        ),
                        Some(w),
                    ));
                }
            }
            if let Verdict::Waiting(what) | Verdict::Failed(what) = rollout::workload(&w.kind, &obj) {
                return Err(fail(
                    format!("{} during `observe`: {what}", w.reference()),
                    Some(w),
                ));
            }
        }
        let left = window.saturating_sub(started.elapsed());
        if left.is_zero() {
            runner.info(&format!(
                "observe: every workload stayed ready for {}",
                human(window)
            ));
            return Ok(());
        }
        tokio::select! {
            () = tokio::time::sleep(rules.poll.min(left)) => {}
            sig = cancel.cancelled() => return Err(Failure { reason: format!("cancelled by {sig} during `observe`"), workload: None, cancelled: true, lost: false }),
        }
    }
}

/// A StatefulSet (`OrderedReady`) does not replace a pod of a broken revision that never became
/// ready, even after its old template is put back (kubernetes#67250): such pods are deleted, and the
/// controller makes them again from the template now in place. Returns how many were deleted.
pub async fn unstick(
    cluster: &Cluster,
    runner: &Runner,
    w: &Workload,
) -> Result<usize, super::cluster::KubeError> {
    if w.kind != "StatefulSet" {
        return Ok(0);
    }
    let mut seen = None;
    for _ in 0..20 {
        let Some(o) = cluster.get(&w.ar, Some(&w.namespace), &w.name).await? else {
            return Ok(0);
        };
        if o["status"]["observedGeneration"].as_i64() >= o["metadata"]["generation"].as_i64() {
            seen = Some(o);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let Some(obj) = seen else {
        return Ok(0);
    };
    let Some(update) = obj["status"]["updateRevision"].as_str() else {
        return Ok(0);
    };
    let base = selector(&obj);
    if base.is_empty() {
        return Ok(0);
    }
    let pods = builtin("", "v1", "Pod", "pods");
    let mut deleted = 0;
    for p in cluster.list(&pods, &w.namespace, &base).await? {
        let revision = p
            .pointer("/metadata/labels/controller-revision-hash")
            .and_then(Value::as_str);
        let (ready, _) = rollout::ready_and_restarts(&p);
        if revision.is_some_and(|r| r != update) && !ready {
            let name = p["metadata"]["name"].as_str().unwrap_or_default();
            cluster.delete(&pods, Some(&w.namespace), name).await?;
            runner.info(&format!(
                "{}: deleted pod `{name}` of the failed revision (a StatefulSet does not replace a pod that never \
                 became ready); the controller makes it again from the restored template",
                w.reference()
            ));
            deleted += 1;
        }
    }
    Ok(deleted)
}

/// The evidence about a workload that failed: its conditions, the events of it, its ReplicaSets and
/// new pods, and the last log lines of failing containers. Plain text, not yet masked.
pub async fn diagnose(cluster: &Cluster, w: &Workload, log_lines: i64) -> String {
    let mut out = String::new();
    let Ok(Some(obj)) = cluster.get(&w.ar, Some(&w.namespace), &w.name).await else {
        return format!("{} could not be read\n", w.reference());
    };
    out.push_str(&format!("{} conditions:\n", w.reference()));
    for c in obj["status"]["conditions"].as_array().into_iter().flatten() {
        out.push_str(&format!(
            "  {}={} {}: {}\n",
            c["type"].as_str().unwrap_or("?"),
            c["status"].as_str().unwrap_or("?"),
            c["reason"].as_str().unwrap_or(""),
            c["message"].as_str().unwrap_or("")
        ));
    }
    let pods = new_pods(cluster, w, &obj).await;
    let mut names = vec![w.name.clone()];
    if w.kind == "Deployment"
        && let Some(hash) = pods
            .first()
            .and_then(|p| p.pointer("/metadata/labels/pod-template-hash"))
            .and_then(Value::as_str)
    {
        names.push(format!("{}-{hash}", w.name));
    }
    names.extend(
        pods.iter()
            .filter_map(|p| p["metadata"]["name"].as_str().map(str::to_owned)),
    );
    let mut events = Vec::new();
    for n in &names {
        if let Ok(found) = cluster.events(&w.namespace, n).await {
            events.extend(found);
        }
    }
    if !events.is_empty() {
        out.push_str("events:\n");
        for e in events.iter().rev().take(20).rev() {
            out.push_str(&format!(
                "  {} {} {}/{}: {}\n",
                e["type"].as_str().unwrap_or(""),
                e["reason"].as_str().unwrap_or(""),
                e["involvedObject"]["kind"].as_str().unwrap_or("").to_lowercase(),
                e["involvedObject"]["name"].as_str().unwrap_or(""),
                e["message"].as_str().unwrap_or("").trim()
            ));
        }
    }
    for pod in pods.iter().take(3) {
        let pname = pod["metadata"]["name"].as_str().unwrap_or("?");
        for c in pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let cname = c["name"].as_str().unwrap_or("?");
            let state = c["state"]
                .as_object()
                .and_then(|s| s.iter().next())
                .map(|(k, v)| {
                    format!(
                        "{k}{}",
                        v["reason"]
                            .as_str()
                            .map(|r| format!(" ({r})"))
                            .unwrap_or_default()
                    )
                });
            out.push_str(&format!(
                "pod {pname} container {cname}: {}, ready {}, restarts {}\n",
                state.unwrap_or_else(|| "unknown".to_owned()),
                c["ready"].as_bool().unwrap_or(false),
                c["restartCount"].as_i64().unwrap_or(0)
            ));
            let started = c["state"]["running"].is_object()
                || c["lastState"]["terminated"].is_object()
                || c["restartCount"].as_i64().unwrap_or(0) > 0;
            if c["ready"] != Value::Bool(true) && started && log_lines > 0 {
                match cluster.logs(&w.namespace, pname, cname, log_lines).await {
                    Ok(text) if !text.trim().is_empty() => {
                        out.push_str(&format!("  last {log_lines} log lines:\n"));
                        for l in text
                            .lines()
                            .rev()
                            .take(log_lines as usize)
                            .collect::<Vec<_>>()
                            .into_iter()
                            .rev()
                        {
                            out.push_str(&format!("  | {l}\n"));
                        }
                    }
                    Ok(_) => {}
                    Err(e) => out.push_str(&format!("  (logs could not be read: {e})\n")),
                }
            }
        }
    }
    out
}
