//! Verdicts on a rollout, from what the API server says (pure functions, so they are tested on
//! recorded objects).
//!
//! A workload is done only when its controller has seen the new spec (`observedGeneration ≥
//! generation`: right after an apply the old status still says "available", which is how
//! kube-rs's `is_deployment_completed` reports a false success) and every replica is updated, ready
//! and available. `ProgressDeadlineExceeded` is a failure. Pods of the new revision that cannot
//! succeed fail the rollout at once, with their reason, instead of waiting out a deadline.

use serde_json::Value;

/// What a workload's status says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Still rolling out: what it waits for.
    Waiting(String),
    /// Every replica is updated, ready and available.
    Done,
    /// It cannot finish.
    Failed(String),
}

fn num(v: &Value) -> i64 {
    v.as_i64().unwrap_or(0)
}

/// The verdict on a Deployment, StatefulSet or DaemonSet.
pub fn workload(kind: &str, obj: &Value) -> Verdict {
    let status = &obj["status"];
    let generation = num(&obj["metadata"]["generation"]);
    if generation > num(&status["observedGeneration"]) {
        return Verdict::Waiting("the controller has not seen the new spec yet".to_owned());
    }
    match kind {
        "Deployment" => deployment(obj),
        "StatefulSet" => statefulset(obj),
        "DaemonSet" => daemonset(obj),
        _ => Verdict::Done,
    }
}

fn deployment(obj: &Value) -> Verdict {
    let status = &obj["status"];
    if let Some(c) = status["conditions"].as_array().and_then(|cs| {
        cs.iter()
            .find(|c| c["type"] == "Progressing" && c["reason"] == "ProgressDeadlineExceeded")
    }) {
        let deadline = num(&obj["spec"]["progressDeadlineSeconds"]);
        return Verdict::Failed(format!(
            "ProgressDeadlineExceeded{}: {}",
            if deadline > 0 {
                format!(" (after {deadline}s)")
            } else {
                String::new()
            },
            c["message"].as_str().unwrap_or("no progress")
        ));
    }
    if obj["spec"]["paused"] == Value::Bool(true) {
        return Verdict::Failed(
            "the Deployment is paused (`spec.paused: true`): it will not roll out".to_owned(),
        );
    }
    let desired = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let (updated, replicas, ready, available) = (
        num(&status["updatedReplicas"]),
        num(&status["replicas"]),
        num(&status["readyReplicas"]),
        num(&status["availableReplicas"]),
    );
    if updated < desired {
        return Verdict::Waiting(format!("{updated} of {desired} new replicas updated"));
    }
    if replicas > updated {
        return Verdict::Waiting(format!("{} old replicas pending termination", replicas - updated));
    }
    if ready < desired || available < desired {
        return Verdict::Waiting(format!(
            "{available} of {desired} updated replicas available ({ready} ready)"
        ));
    }
    Verdict::Done
}

fn statefulset(obj: &Value) -> Verdict {
    let status = &obj["status"];
    let strategy = obj["spec"]["updateStrategy"]["type"]
        .as_str()
        .unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" {
        return Verdict::Failed(format!(
            "StatefulSet update strategy `{strategy}` replaces pods only when they are deleted: use `RollingUpdate`"
        ));
    }
    let desired = obj["spec"]["replicas"].as_i64().unwrap_or(1);
    let partition = num(&obj["spec"]["updateStrategy"]["rollingUpdate"]["partition"]);
    let (ready, updated, available) = (
        num(&status["readyReplicas"]),
        num(&status["updatedReplicas"]),
        status["availableReplicas"]
            .as_i64()
            .unwrap_or_else(|| num(&status["readyReplicas"])),
    );
    if ready < desired || available < desired {
        return Verdict::Waiting(format!("{available} of {desired} pods available ({ready} ready)"));
    }
    if partition > 0 {
        if updated < desired - partition {
            return Verdict::Waiting(format!(
                "{updated} of {} pods updated (partition {partition})",
                desired - partition
            ));
        }
        return Verdict::Done;
    }
    let (current, update) = (
        status["currentRevision"].as_str(),
        status["updateRevision"].as_str(),
    );
    if updated < desired || (update.is_some() && current != update) {
        return Verdict::Waiting(format!("{updated} of {desired} pods updated"));
    }
    Verdict::Done
}

fn daemonset(obj: &Value) -> Verdict {
    let status = &obj["status"];
    let strategy = obj["spec"]["updateStrategy"]["type"]
        .as_str()
        .unwrap_or("RollingUpdate");
    if strategy != "RollingUpdate" {
        return Verdict::Failed(format!(
            "DaemonSet update strategy `{strategy}` replaces pods only when they are deleted: use `RollingUpdate`"
        ));
    }
    let desired = num(&status["desiredNumberScheduled"]);
    let (updated, available, ready) = (
        num(&status["updatedNumberScheduled"]),
        num(&status["numberAvailable"]),
        num(&status["numberReady"]),
    );
    if updated < desired {
        return Verdict::Waiting(format!("{updated} of {desired} pods updated"));
    }
    if available < desired || ready < desired {
        return Verdict::Waiting(format!("{available} of {desired} updated pods available"));
    }
    Verdict::Done
}

/// Waiting reasons a container does not recover from by itself.
const HOPELESS: &[&str] = &[
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "ErrImageNeverPull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "CrashLoopBackOff",
    "RunContainerError",
];

/// Why a pod of the new revision cannot succeed, if it cannot: a hopeless waiting reason, or as many
/// restarts as `max_restarts`.
pub fn hopeless(pod: &Value, max_restarts: i64) -> Option<String> {
    let name = pod["metadata"]["name"].as_str().unwrap_or("?");
    for list in ["initContainerStatuses", "containerStatuses"] {
        for c in pod["status"][list].as_array().into_iter().flatten() {
            let cname = c["name"].as_str().unwrap_or("?");
            let waiting = &c["state"]["waiting"];
            if let Some(reason) = waiting["reason"].as_str()
                && HOPELESS.contains(&reason)
            {
                let message = waiting["message"].as_str().unwrap_or("");
                return Some(format!(
                    "pod `{name}` container `{cname}`: {reason}{}",
                    if message.is_empty() {
                        String::new()
                    } else {
                        format!(": {message}")
                    }
                ));
            }
            let restarts = num(&c["restartCount"]);
            if max_restarts > 0 && restarts >= max_restarts {
                let last = &c["lastState"]["terminated"];
                return Some(format!(
                    "pod `{name}` container `{cname}` restarted {restarts} time(s){}",
                    match (last["reason"].as_str(), last["exitCode"].as_i64()) {
                        (Some(r), Some(code)) => format!(" (last exit: {r}, code {code})"),
                        (None, Some(code)) => format!(" (last exit code {code})"),
                        _ => String::new(),
                    }
                ));
            }
        }
    }
    None
}

/// The scheduler's message when a pod is `Unschedulable`.
pub fn unschedulable(pod: &Value) -> Option<String> {
    pod["status"]["conditions"].as_array()?.iter().find_map(|c| {
        (c["type"] == "PodScheduled" && c["status"] == "False" && c["reason"] == "Unschedulable")
            .then(|| c["message"].as_str().unwrap_or("no node can take it").to_owned())
    })
}

/// Whether every container of a pod is ready, and its total restarts.
pub fn ready_and_restarts(pod: &Value) -> (bool, i64) {
    let statuses = pod["status"]["containerStatuses"].as_array();
    let ready =
        statuses.is_some_and(|cs| !cs.is_empty() && cs.iter().all(|c| c["ready"] == Value::Bool(true)));
    let restarts = statuses
        .into_iter()
        .flatten()
        .map(|c| num(&c["restartCount"]))
        .sum();
    (ready, restarts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deploy(generation: i64, observed: i64, updated: i64, replicas: i64, available: i64) -> Value {
        json!({
            "metadata": {"name": "web", "generation": generation},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": observed, "updatedReplicas": updated, "replicas": replicas,
                       "readyReplicas": available, "availableReplicas": available,
                       "conditions": [{"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}]}
        })
    }

    #[test]
    fn right_after_an_apply_the_old_status_is_not_success() {
        // The status still describes the previous rollout, complete, with NewReplicaSetAvailable:
        // only observedGeneration tells that it is old.
        assert_eq!(
            workload("Deployment", &deploy(3, 2, 2, 2, 2)),
            Verdict::Waiting("the controller has not seen the new spec yet".to_owned())
        );
        // Replayed events of one rollout, in order: never done before the end.
        let events = [
            deploy(3, 2, 2, 2, 2),
            deploy(3, 3, 0, 2, 2),
            deploy(3, 3, 1, 3, 2),
            deploy(3, 3, 2, 4, 2),
            deploy(3, 3, 2, 2, 1),
            deploy(3, 3, 2, 2, 2),
        ];
        let verdicts: Vec<bool> = events
            .iter()
            .map(|e| workload("Deployment", e) == Verdict::Done)
            .collect();
        assert_eq!(verdicts, [false, false, false, false, false, true]);
    }

    #[test]
    fn a_progress_deadline_is_a_failure() {
        let mut d = deploy(2, 2, 1, 3, 2);
        d["spec"]["progressDeadlineSeconds"] = json!(30);
        d["status"]["conditions"] = json!([{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded",
                                            "message": "ReplicaSet \"web-1\" has timed out progressing."}]);
        assert_eq!(
            workload("Deployment", &d),
            Verdict::Failed(
                "ProgressDeadlineExceeded (after 30s): ReplicaSet \"web-1\" has timed out progressing."
                    .to_owned()
            )
        );
    }

    #[test]
    fn statefulsets_wait_for_the_update_revision() {
        let s = |ready: i64, updated: i64, current: &str| {
            json!({"metadata": {"generation": 2}, "spec": {"replicas": 2},
                   "status": {"observedGeneration": 2, "readyReplicas": ready, "availableReplicas": ready,
                              "updatedReplicas": updated, "currentRevision": current, "updateRevision": "db-2"}})
        };
        assert!(matches!(
            workload("StatefulSet", &s(1, 1, "db-1")),
            Verdict::Waiting(_)
        ));
        assert!(matches!(
            workload("StatefulSet", &s(2, 1, "db-1")),
            Verdict::Waiting(_)
        ));
        assert_eq!(workload("StatefulSet", &s(2, 2, "db-2")), Verdict::Done);
        let mut ondelete = s(2, 2, "db-2");
        ondelete["spec"]["updateStrategy"] = json!({"type": "OnDelete"});
        assert!(matches!(workload("StatefulSet", &ondelete), Verdict::Failed(_)));
    }

    #[test]
    fn daemonsets_wait_for_every_node() {
        let d = |updated: i64, available: i64| {
            json!({"metadata": {"generation": 4}, "status": {"observedGeneration": 4, "desiredNumberScheduled": 3,
                   "updatedNumberScheduled": updated, "numberAvailable": available, "numberReady": available}})
        };
        assert!(matches!(workload("DaemonSet", &d(2, 3)), Verdict::Waiting(_)));
        assert!(matches!(workload("DaemonSet", &d(3, 2)), Verdict::Waiting(_)));
        assert_eq!(workload("DaemonSet", &d(3, 3)), Verdict::Done);
    }

    #[test]
    fn hopeless_pods_are_named_with_their_reason() {
        let pod = |state: Value, restarts: i64| {
            json!({"metadata": {"name": "web-1"}, "status": {"containerStatuses": [
                {"name": "web", "ready": false, "restartCount": restarts, "state": state,
                 "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}}]}})
        };
        assert_eq!(
            hopeless(
                &pod(
                    json!({"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}),
                    0
                ),
                2
            ),
            Some("pod `web-1` container `web`: ImagePullBackOff: Back-off pulling image".to_owned())
        );
        assert_eq!(
            hopeless(&pod(json!({"running": {}}), 2), 2),
            Some("pod `web-1` container `web` restarted 2 time(s) (last exit: Error, code 1)".to_owned())
        );
        assert_eq!(
            hopeless(&pod(json!({"waiting": {"reason": "ContainerCreating"}}), 1), 2),
            None
        );
        assert_eq!(hopeless(&pod(json!({"running": {}}), 5), 0), None);
    }

    #[test]
    fn unschedulable_pods_are_seen() {
        let p = json!({"status": {"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                                                  "message": "0/3 nodes are available: 3 Insufficient cpu."}]}});
        assert_eq!(
            unschedulable(&p).as_deref(),
            Some("0/3 nodes are available: 3 Insufficient cpu.")
        );
        assert_eq!(unschedulable(&json!({"status": {}})), None);
    }
}
