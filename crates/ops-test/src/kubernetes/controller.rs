//! What the cluster does by itself at each virtual second: the Deployment controller (ReplicaSets
//! per pod template, rolling the set, status and conditions), the ReplicaSet controller (pods),
//! and the kubelet (pods living out their scripted [`Fate`]), with the Events they leave.

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::store::{DEPLOYMENTS, EVENTS, Kind, PODS, REPLICASETS, canonical, labels_match, selector_of};
use super::{Fate, KubeState};

/// What the kubelet knows of one pod.
#[derive(Debug, Clone)]
pub(crate) struct PodSim {
    pub(crate) fate: Fate,
    /// Seconds since the pod was created.
    pub(crate) age: u32,
    pub(crate) image: String,
    pub(crate) container: String,
    /// The Deployment, StatefulSet or DaemonSet the pod belongs to (fates and logs are scripted by its name).
    pub(crate) workload: String,
    /// How many nodes the cluster has (for the scheduler's words).
    pub(crate) nodes: u32,
    /// The node it runs on.
    pub(crate) node: String,
    /// The reason of the last Event written and that Event's name: a repeat bumps its `count`,
    /// as the kubelet's event aggregation does.
    pub(crate) told: (String, String),
}

/// The container's state at one moment.
struct Seen {
    phase: &'static str,
    scheduled: bool,
    started: bool,
    ready: bool,
    restarts: u32,
    waiting: Option<(&'static str, String)>,
    event: Option<(&'static str, &'static str, String)>,
}

fn image_matches(pattern: &str, image: &str) -> bool {
    if pattern == image {
        return true;
    }
    let repo = image.split('@').next().unwrap_or(image);
    let repo = match repo.rsplit_once(':') {
        Some((r, tag)) if !tag.contains('/') => r,
        _ => repo,
    };
    repo == pattern
}

impl PodSim {
    fn seen(&self) -> Seen {
        let image = &self.image;
        let mut s = Seen {
            phase: "Pending",
            scheduled: true,
            started: false,
            ready: false,
            restarts: 0,
            waiting: Some(("ContainerCreating", String::new())),
            event: Some((
                "Normal",
                "Scheduled",
                format!("Successfully assigned the pod to node {}", self.node),
            )),
        };
        if self.age == 0 {
            return s;
        }
        let crash = |s: &mut Seen, since: u32| {
            // Exits a second after each start; back-off between restarts.
            s.phase = "Running";
            s.restarts = since / 2 + 1;
            s.waiting = Some((
                "CrashLoopBackOff",
                format!(
                    "back-off 10s restarting failed container={} pod=…",
                    self.container
                ),
            ));
            s.event = Some((
                "Warning",
                "BackOff",
                "Back-off restarting failed container".to_owned(),
            ));
        };
        match &self.fate {
            Fate::Unschedulable => {
                s.scheduled = false;
                s.waiting = None;
                let n = self.nodes;
                s.event = Some((
                    "Warning",
                    "FailedScheduling",
                    format!(
                        "0/{n} nodes are available: {n} Insufficient cpu. preemption: 0/{n} nodes are available: {n} No preemption victims found for incoming pod."
                    ),
                ));
            }
            Fate::ErrImagePull => {
                s.waiting = Some((
                    "ErrImagePull",
                    format!("failed to pull and unpack image \"{image}\": not found"),
                ));
                s.event = Some((
                    "Warning",
                    "Failed",
                    format!("Failed to pull image \"{image}\": not found"),
                ));
            }
            Fate::ImagePullBackOff if self.age == 1 => {
                s.waiting = Some((
                    "ErrImagePull",
                    format!("failed to pull and unpack image \"{image}\": not found"),
                ));
                s.event = Some((
                    "Warning",
                    "Failed",
                    format!("Failed to pull image \"{image}\": not found"),
                ));
            }
            Fate::ImagePullBackOff => {
                s.waiting = Some(("ImagePullBackOff", format!("Back-off pulling image \"{image}\"")));
                s.event = Some(("Normal", "BackOff", format!("Back-off pulling image \"{image}\"")));
            }
            Fate::CreateContainerConfigError(message) => {
                s.waiting = Some(("CreateContainerConfigError", message.clone()));
                s.event = Some(("Warning", "Failed", format!("Error: {message}")));
            }
            Fate::CrashLoop if self.age == 1 => {
                s.phase = "Running";
                s.started = true;
                s.waiting = None;
                s.event = Some((
                    "Normal",
                    "Started",
                    format!("Started container {}", self.container),
                ));
            }
            Fate::CrashLoop => crash(&mut s, self.age - 2),
            Fate::Healthy { ready_after } | Fate::CrashAfterReady { ready_after, .. } => {
                let crash_at = match self.fate {
                    Fate::CrashAfterReady {
                        ready_after,
                        crash_after,
                    } => Some(1 + ready_after + crash_after),
                    _ => None,
                };
                if let Some(at) = crash_at.filter(|at| self.age >= *at) {
                    crash(&mut s, self.age - at);
                } else {
                    s.phase = "Running";
                    s.started = true;
                    s.waiting = None;
                    s.ready = self.age > *ready_after;
                    s.event = Some((
                        "Normal",
                        "Started",
                        format!("Started container {}", self.container),
                    ));
                }
            }
        }
        s
    }
}

impl KubeState {
    /// One virtual second: kubelet, ReplicaSet controller, Deployment controller.
    pub(crate) fn step(&mut self) {
        let keys: Vec<(String, String)> = self.pods.keys().cloned().collect();
        for key in keys {
            if let Some(sim) = self.pods.get_mut(&key) {
                sim.age += 1;
            }
            self.refresh_pod(&key.0, &key.1);
        }
        for (ns, name) in self.names_of("deployments") {
            self.reconcile(&ns, &name);
        }
        for (ns, name) in self.names_of("statefulsets") {
            self.reconcile_statefulset(&ns, &name);
        }
        for (ns, name) in self.names_of("daemonsets") {
            self.reconcile_daemonset(&ns, &name);
        }
    }

    /// `(namespace, name)` of every object of a resource.
    fn names_of(&self, resource: &str) -> Vec<(String, String)> {
        self.objects
            .keys()
            .filter(|(r, _, _)| *r == resource)
            .map(|(_, ns, n)| (ns.clone(), n.clone()))
            .collect()
    }

    fn fate_for(&self, workload: &str, image: &str) -> Fate {
        if let Some(f) = self.by_workload.get(workload) {
            return f.clone();
        }
        self.by_image
            .iter()
            .rev()
            .find(|(p, _)| image_matches(p, image))
            .map_or_else(|| self.default_fate.clone(), |(_, f)| f.clone())
    }

    /// Log lines of a pod's container, as scripted.
    pub(crate) fn pod_logs(&self, namespace: &str, pod: &str) -> Vec<String> {
        let Some(sim) = self.pods.get(&(namespace.to_owned(), pod.to_owned())) else {
            return Vec::new();
        };
        self.logs
            .iter()
            .rev()
            .find(|(k, _)| *k == sim.workload || image_matches(k, &sim.image))
            .map(|(_, lines)| lines.clone())
            .unwrap_or_default()
    }

    /// Writes an Event about `involved`; returns its name.
    pub(crate) fn event(
        &mut self,
        namespace: &str,
        involved: &Value,
        kind: &str,
        (ty, reason, message): (&str, &str, String),
    ) -> String {
        let name = involved["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let serial = self.next_serial();
        let now = self.clock.now_rfc3339();
        let event_name = format!("{name}.{serial:016x}");
        let component = match kind {
            "Pod" if reason == "Scheduled" || reason == "FailedScheduling" => "default-scheduler",
            "Pod" => "kubelet",
            "ReplicaSet" => "replicaset-controller",
            "StatefulSet" => "statefulset-controller",
            "DaemonSet" => "daemonset-controller",
            _ => "deployment-controller",
        };
        let api_version = if kind == "Pod" { "v1" } else { "apps/v1" };
        let object = json!({
            "metadata": {"name": event_name, "namespace": namespace},
            "involvedObject": {"kind": kind, "namespace": namespace, "name": name, "apiVersion": api_version,
                "uid": involved["metadata"]["uid"], "resourceVersion": involved["metadata"]["resourceVersion"]},
            "reason": reason, "message": message, "type": ty, "count": 1,
            "firstTimestamp": now, "lastTimestamp": now,
            "source": {"component": component}, "reportingComponent": component, "reportingInstance": "",
        });
        let object = self.stamp(EVENTS, namespace, object, None);
        self.write(EVENTS, namespace, &event_name, object, "ADDED");
        event_name
    }

    fn refresh_pod(&mut self, namespace: &str, name: &str) {
        let Some(sim) = self.pods.get(&(namespace.to_owned(), name.to_owned())).cloned() else {
            return;
        };
        let Some(mut pod) = self
            .objects
            .get(&("pods", namespace.to_owned(), name.to_owned()))
            .cloned()
        else {
            return;
        };
        let seen = sim.seen();
        let now = self.clock.now_rfc3339();
        let created = pod["metadata"]["creationTimestamp"].clone();
        let condition = |ty: &str, ok: bool, reason: Option<&str>| {
            let mut c = json!({"type": ty, "status": if ok { "True" } else { "False" }, "lastTransitionTime": created});
            if let Some(r) = reason {
                c["reason"] = json!(r);
            }
            c
        };
        let mut status = json!({
            "phase": seen.phase,
            "conditions": [
                condition("PodScheduled", seen.scheduled, (!seen.scheduled).then_some("Unschedulable")),
            ],
            "qosClass": "BestEffort",
            "startTime": created,
        });
        if !seen.scheduled {
            let n = sim.nodes;
            status["conditions"][0]["message"] =
                json!(format!("0/{n} nodes are available: {n} Insufficient cpu."));
        } else {
            let ready_reason = (!seen.ready).then_some("ContainersNotReady");
            for c in [
                condition("Initialized", true, None),
                condition("ContainersReady", seen.ready, ready_reason),
                condition("Ready", seen.ready, ready_reason),
            ] {
                if let Some(list) = status["conditions"].as_array_mut() {
                    list.push(c);
                }
            }
            status["hostIP"] = json!(host_ip(&sim.node));
            status["podIP"] = json!(format!("10.244.0.{}", 10 + self.serial % 200));
            let state = match &seen.waiting {
                Some((reason, message)) if message.is_empty() => json!({"waiting": {"reason": reason}}),
                Some((reason, message)) => json!({"waiting": {"reason": reason, "message": message}}),
                None => json!({"running": {"startedAt": now}}),
            };
            let mut cs = json!({
                "name": sim.container, "image": sim.image, "imageID": "",
                "ready": seen.ready, "restartCount": seen.restarts, "started": seen.started, "state": state,
            });
            if seen.restarts > 0 {
                cs["lastState"] = json!({"terminated": {"exitCode": 1, "reason": "Error",
                    "startedAt": created, "finishedAt": now}});
            }
            if seen.started || seen.restarts > 0 {
                cs["imageID"] = json!(format!(
                    "{}@sha256:{}",
                    sim.image.split(['@', ':']).next().unwrap_or_default(),
                    "0".repeat(64)
                ));
            }
            status["containerStatuses"] = json!([cs]);
        }
        // Keep the running container's start time stable between refreshes.
        if let Some(old) = pod["status"].pointer("/containerStatuses/0/state/running")
            && let Some(new) = status.pointer_mut("/containerStatuses/0/state/running")
        {
            *new = old.clone();
        }
        if pod["status"] == status {
            return;
        }
        pod["status"] = status;
        self.write(PODS, namespace, name, pod.clone(), "MODIFIED");
        if let Some(event) = seen.event {
            let key = (namespace.to_owned(), name.to_owned());
            let repeat = sim.told.0 == event.1;
            let bump = if seen.restarts > 0 { seen.restarts } else { 1 };
            if repeat {
                let events = Kind::by_resource("events");
                if let (Some(kind), Some(mut e)) = (events, self.get("events", namespace, &sim.told.1))
                    && e["count"].as_u64() != Some(u64::from(bump))
                {
                    e["count"] = json!(bump);
                    e["lastTimestamp"] = json!(self.clock.now_rfc3339());
                    self.write(kind, namespace, &sim.told.1, e, "MODIFIED");
                }
            } else {
                let written = self.event(namespace, &pod, "Pod", event.clone());
                if let Some(s) = self.pods.get_mut(&key) {
                    s.told = (event.1.to_owned(), written);
                }
            }
        }
    }

    pub(crate) fn owned(&self, resource: &'static str, namespace: &str, owner_uid: &Value) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|((r, ns, _), v)| {
                *r == resource
                    && ns == namespace
                    && v["metadata"]["ownerReferences"]
                        .as_array()
                        .is_some_and(|refs| refs.iter().any(|o| o["uid"] == *owner_uid))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn reconcile(&mut self, namespace: &str, name: &str) {
        let Some(deployment) = self
            .objects
            .get(&("deployments", namespace.to_owned(), name.to_owned()))
            .cloned()
        else {
            return;
        };
        let uid = deployment["metadata"]["uid"].clone();
        let template = deployment["spec"]["template"].clone();
        let desired = deployment["spec"]["replicas"].as_u64().unwrap_or(1);
        let hash = template_hash(&template);
        let rs_name = format!("{name}-{hash}");
        let mut sets = self.owned("replicasets", namespace, &uid);
        let top_revision = sets.iter().filter_map(revision_of).max().unwrap_or(0);
        let key = (namespace.to_owned(), name.to_owned());
        let existing = sets
            .iter()
            .position(|rs| rs["metadata"]["name"] == json!(rs_name));
        let is_newest = existing.is_some_and(|i| revision_of(&sets[i]) == Some(top_revision));
        let surge = scaled(
            &deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"],
            desired,
            true,
        );
        let sizes = [
            (DESIRED_REPLICAS, desired.to_string()),
            (MAX_REPLICAS, (desired + surge).to_string()),
        ];
        if !is_newest {
            // A new template (or an old one back, as after a rollback): this set gets the next
            // revision, and a set used again remembers the revisions it had before.
            let revision = (top_revision + 1).to_string();
            let mut labels = template["metadata"]["labels"].clone();
            labels["pod-template-hash"] = json!(hash);
            let mut rs_template = template.clone();
            rs_template["metadata"]["labels"] = labels.clone();
            let mut selector = deployment["spec"]["selector"].clone();
            selector["matchLabels"]["pod-template-hash"] = json!(hash);
            let rs = match existing {
                Some(i) => {
                    let mut rs = sets[i].clone();
                    let annotations = &mut rs["metadata"]["annotations"];
                    if let Some(before) = annotations[REVISION].as_str().map(str::to_owned) {
                        let history = match annotations[REVISION_HISTORY].as_str() {
                            Some(h) if !h.is_empty() => format!("{h},{before}"),
                            _ => before,
                        };
                        annotations[REVISION_HISTORY] = json!(history);
                    }
                    annotations[REVISION] = json!(revision);
                    rs
                }
                None => {
                    let rs = json!({
                        "metadata": {"name": rs_name, "labels": labels,
                            "annotations": {REVISION: revision},
                            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": name,
                                "uid": uid, "controller": true, "blockOwnerDeletion": true}]},
                        "spec": {"replicas": 0, "selector": selector, "template": rs_template},
                        "status": {"replicas": 0},
                    });
                    let mut rs = self.stamp(REPLICASETS, namespace, rs, None);
                    rs["metadata"]["generation"] = json!(1);
                    rs
                }
            };
            let event = if existing.is_some() { "MODIFIED" } else { "ADDED" };
            self.write(REPLICASETS, namespace, &rs_name, rs, event);
            self.progress.insert(key.clone(), self.clock.now());
            sets = self.owned("replicasets", namespace, &uid);
        }
        // The sizes the new set was made for, as the controller notes them on it.
        if let Some(mut rs) = sets
            .iter()
            .find(|rs| rs["metadata"]["name"] == json!(rs_name))
            .cloned()
            && sizes
                .iter()
                .any(|(k, v)| rs["metadata"]["annotations"][*k].as_str() != Some(v))
        {
            for (k, v) in &sizes {
                rs["metadata"]["annotations"][*k] = json!(v);
            }
            self.write(REPLICASETS, namespace, &rs_name, rs, "MODIFIED");
            sets = self.owned("replicasets", namespace, &uid);
        }
        // The Deployment carries the revision of its newest set, even after a write that left the
        // annotation out.
        let newest = sets.iter().filter_map(revision_of).max().unwrap_or(0).to_string();
        if deployment["metadata"]["annotations"][REVISION].as_str() != Some(newest.as_str())
            && let Some(mut d) = self.get("deployments", namespace, name)
        {
            d["metadata"]["annotations"][REVISION] = json!(newest);
            self.write(DEPLOYMENTS, namespace, name, d, "MODIFIED");
        }
        // Scale: the new set to the desired count at once, old sets down as new pods become available.
        let available = |s: &Self, rs: &Value| -> u64 {
            s.pods_of(namespace, rs).iter().filter(|p| pod_ready(p)).count() as u64
        };
        let new_available = sets
            .iter()
            .find(|rs| rs["metadata"]["name"] == json!(rs_name))
            .map_or(0, |rs| available(self, rs));
        let mut old_budget = desired.saturating_sub(new_available);
        sets.sort_by_key(|rs| std::cmp::Reverse(revision_of(rs).unwrap_or(0)));
        for rs in &sets {
            let rs_n = rs["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            let want = if rs_n == rs_name {
                desired
            } else {
                let current = rs["spec"]["replicas"].as_u64().unwrap_or(0);
                let keep = current.min(old_budget);
                old_budget -= keep;
                keep
            };
            if rs["spec"]["replicas"].as_u64() != Some(want) {
                let from = rs["spec"]["replicas"].as_u64().unwrap_or(0);
                let mut changed = rs.clone();
                changed["spec"]["replicas"] = json!(want);
                self.write(REPLICASETS, namespace, &rs_n, changed, "MODIFIED");
                let verb = if want > from { "up" } else { "down" };
                let d = deployment.clone();
                self.event(
                    namespace,
                    &d,
                    "Deployment",
                    (
                        "Normal",
                        "ScalingReplicaSet",
                        format!("Scaled {verb} replica set {rs_n} from {from} to {want}"),
                    ),
                );
            }
            self.reconcile_set(namespace, &rs_n, name);
        }
        self.prune_history(namespace, &deployment, &rs_name);
        self.deployment_status(namespace, name, &rs_name);
    }

    /// Old ReplicaSets scaled to nothing beyond `revisionHistoryLimit` go, oldest first.
    fn prune_history(&mut self, namespace: &str, deployment: &Value, current: &str) {
        let limit = deployment["spec"]["revisionHistoryLimit"].as_u64().unwrap_or(10) as usize;
        let mut idle: Vec<Value> = self
            .owned("replicasets", namespace, &deployment["metadata"]["uid"])
            .into_iter()
            .filter(|rs| {
                rs["metadata"]["name"] != json!(current)
                    && rs["spec"]["replicas"].as_u64() == Some(0)
                    && self.pods_of(namespace, rs).is_empty()
            })
            .collect();
        if idle.len() <= limit {
            return;
        }
        idle.sort_by_key(|rs| revision_of(rs).unwrap_or(0));
        let excess = idle.len() - limit;
        for rs in idle.iter().take(excess) {
            if let Some(name) = rs["metadata"]["name"].as_str() {
                self.remove(REPLICASETS, namespace, name);
            }
        }
    }

    pub(crate) fn pods_of(&self, namespace: &str, owner: &Value) -> Vec<Value> {
        self.owned("pods", namespace, &owner["metadata"]["uid"])
    }

    /// The node a pod numbered `n` lands on: the nodes in turn.
    pub(crate) fn node_name(&self, n: u64) -> String {
        format!("sim-node-{}", 1 + n % u64::from(self.nodes.max(1)))
    }

    /// Creates a pod from `template` on `node`, owned by `owner`, and hands it to the kubelet
    /// with the fate scripted for `workload` or its image.
    pub(crate) fn create_pod(
        &mut self,
        namespace: &str,
        name: &str,
        template: &Value,
        owner: Value,
        node: &str,
        workload: &str,
    ) -> Value {
        let container = template["spec"]["containers"][0].clone();
        let image = container["image"].as_str().unwrap_or_default().to_owned();
        let fate = self.fate_for(workload, &image);
        let mut spec = template["spec"].clone();
        if fate != Fate::Unschedulable {
            spec["nodeName"] = json!(node);
        }
        let mut metadata = template["metadata"].clone();
        if !metadata.is_object() {
            metadata = json!({});
        }
        metadata["name"] = json!(name);
        metadata["ownerReferences"] = json!([owner]);
        let pod = json!({"metadata": metadata, "spec": spec, "status": {"phase": "Pending"}});
        let pod = self.stamp(PODS, namespace, pod, None);
        self.write(PODS, namespace, name, pod.clone(), "ADDED");
        self.pods.insert(
            (namespace.to_owned(), name.to_owned()),
            PodSim {
                fate,
                age: 0,
                image,
                container: container["name"].as_str().unwrap_or("app").to_owned(),
                workload: workload.to_owned(),
                nodes: self.nodes,
                node: node.to_owned(),
                told: (String::new(), String::new()),
            },
        );
        self.refresh_pod(namespace, name);
        self.get("pods", namespace, name).unwrap_or(pod)
    }

    /// Removes a pod at once (no grace period) and forgets it in the kubelet.
    pub(crate) fn delete_pod(&mut self, namespace: &str, name: &str) -> Option<Value> {
        self.pods.remove(&(namespace.to_owned(), name.to_owned()));
        self.remove(PODS, namespace, name)
    }

    fn reconcile_set(&mut self, namespace: &str, rs_name: &str, deployment: &str) {
        let Some(rs) = self
            .objects
            .get(&("replicasets", namespace.to_owned(), rs_name.to_owned()))
            .cloned()
        else {
            return;
        };
        let want = rs["spec"]["replicas"].as_u64().unwrap_or(0) as usize;
        let mut pods = self.pods_of(namespace, &rs);
        while pods.len() < want {
            let serial = self.next_serial();
            let pod_name = format!("{rs_name}-{}", pod_suffix(serial));
            let owner = owner_ref("ReplicaSet", &rs);
            let node = self.node_name(serial);
            let template = rs["spec"]["template"].clone();
            let pod = self.create_pod(namespace, &pod_name, &template, owner, &node, deployment);
            self.event(
                namespace,
                &rs,
                "ReplicaSet",
                ("Normal", "SuccessfulCreate", format!("Created pod: {pod_name}")),
            );
            pods.push(pod);
        }
        // Scale down: not-ready pods first, then the youngest.
        pods.sort_by_key(|p| {
            (
                pod_ready(p),
                p["metadata"]["creationTimestamp"].as_str().map(str::to_owned),
            )
        });
        while pods.len() > want {
            let pod = pods.remove(0);
            let pod_name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
            self.delete_pod(namespace, &pod_name);
            self.event(
                namespace,
                &rs,
                "ReplicaSet",
                ("Normal", "SuccessfulDelete", format!("Deleted pod: {pod_name}")),
            );
        }
        let pods = self.pods_of(namespace, &rs);
        let ready = pods.iter().filter(|p| pod_ready(p)).count();
        let status = omit_zero(
            json!({"replicas": pods.len(), "fullyLabeledReplicas": pods.len(), "readyReplicas": ready,
                "availableReplicas": ready, "observedGeneration": rs["metadata"]["generation"].as_i64().unwrap_or(1)}),
            &["fullyLabeledReplicas", "readyReplicas", "availableReplicas"],
        );
        if let Some(mut rs) = self
            .objects
            .get(&("replicasets", namespace.to_owned(), rs_name.to_owned()))
            .cloned()
            && rs["status"] != status
        {
            rs["status"] = status;
            self.write(REPLICASETS, namespace, rs_name, rs, "MODIFIED");
        }
    }

    fn deployment_status(&mut self, namespace: &str, name: &str, rs_name: &str) {
        let Some(mut d) = self
            .objects
            .get(&("deployments", namespace.to_owned(), name.to_owned()))
            .cloned()
        else {
            return;
        };
        let selector = selector_of(&d["spec"]["selector"]);
        let uid = d["metadata"]["uid"].clone();
        let sets = self.owned("replicasets", namespace, &uid);
        let mut replicas = 0;
        let mut updated = 0;
        let mut ready = 0;
        for rs in &sets {
            let pods: Vec<Value> = self
                .pods_of(namespace, rs)
                .into_iter()
                .filter(|p| labels_match(&selector, &p["metadata"]["labels"]))
                .collect();
            replicas += pods.len();
            let r = pods.iter().filter(|p| pod_ready(p)).count();
            ready += r;
            if rs["metadata"]["name"] == json!(rs_name) {
                updated += pods.len();
            }
        }
        let desired = d["spec"]["replicas"].as_u64().unwrap_or(1) as usize;
        let key = (namespace.to_owned(), name.to_owned());
        let old = d["status"].clone();
        // Counters at zero are left out of a status.
        let counter = |field: &str| old[field].as_u64().unwrap_or(0);
        let progressed = counter("updatedReplicas") != updated as u64
            || counter("availableReplicas") != ready as u64
            || counter("readyReplicas") != ready as u64;
        let now = self.clock.now();
        if progressed {
            self.progress.insert(key.clone(), now);
        }
        let last = *self.progress.get(&key).unwrap_or(&now);
        let complete = updated == desired && replicas == updated && ready >= updated;
        let deadline = d["spec"]["progressDeadlineSeconds"].as_i64().unwrap_or(600);
        let stamp = self.clock.now_rfc3339();
        let keep_time = |ty: &str, status: &str, reason: &str| -> (String, String) {
            old["conditions"]
                .as_array()
                .and_then(|cs| cs.iter().find(|c| c["type"] == json!(ty)))
                .map_or((stamp.clone(), stamp.clone()), |c| {
                    let transition = if c["status"] == json!(status) {
                        c["lastTransitionTime"].as_str().unwrap_or(&stamp).to_owned()
                    } else {
                        stamp.clone()
                    };
                    let update = if c["reason"] == json!(reason) {
                        c["lastUpdateTime"].as_str().unwrap_or(&stamp).to_owned()
                    } else {
                        stamp.clone()
                    };
                    (transition, update)
                })
        };
        let (p_status, p_reason, p_message) = if complete {
            (
                "True",
                "NewReplicaSetAvailable",
                format!("ReplicaSet \"{rs_name}\" has successfully progressed."),
            )
        } else if now - last > deadline {
            (
                "False",
                "ProgressDeadlineExceeded",
                format!("ReplicaSet \"{rs_name}\" has timed out progressing."),
            )
        } else {
            (
                "True",
                "ReplicaSetUpdated",
                format!("ReplicaSet \"{rs_name}\" is progressing."),
            )
        };
        let max_unavailable = desired / 4;
        let available_ok = ready + max_unavailable >= desired;
        let (a_status, a_reason, a_message) = if available_ok {
            (
                "True",
                "MinimumReplicasAvailable",
                "Deployment has minimum availability.",
            )
        } else {
            (
                "False",
                "MinimumReplicasUnavailable",
                "Deployment does not have minimum availability.",
            )
        };
        let (at, au) = keep_time("Available", a_status, a_reason);
        let (pt, pu) = keep_time("Progressing", p_status, p_reason);
        let mut status = json!({
            "observedGeneration": d["metadata"]["generation"],
            "replicas": replicas,
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": ready,
            "conditions": [
                {"type": "Available", "status": a_status, "reason": a_reason, "message": a_message,
                    "lastTransitionTime": at, "lastUpdateTime": au},
                {"type": "Progressing", "status": p_status, "reason": p_reason, "message": p_message,
                    "lastTransitionTime": pt, "lastUpdateTime": pu},
            ],
        });
        if replicas > ready {
            status["unavailableReplicas"] = json!(replicas - ready);
        }
        let status = omit_zero(
            status,
            &[
                "replicas",
                "updatedReplicas",
                "readyReplicas",
                "availableReplicas",
            ],
        );
        if d["status"] != status {
            d["status"] = status;
            self.write(DEPLOYMENTS, namespace, name, d, "MODIFIED");
        }
    }
}

/// An `ownerReferences` entry naming `owner` (of `kind`, in `apps/v1`) as the controller.
pub(crate) fn owner_ref(kind: &str, owner: &Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": kind, "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"], "controller": true, "blockOwnerDeletion": true})
}

/// The five characters that end a generated pod name.
pub(crate) fn pod_suffix(serial: u64) -> String {
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = serial.wrapping_mul(2_654_435_761) % 14_348_907; // 27^5
    (0..5)
        .map(|_| {
            let c = SAFE[(n % 27) as usize];
            n /= 27;
            char::from(c)
        })
        .collect()
}

/// The address of node `sim-node-N`.
fn host_ip(node: &str) -> String {
    let n = node
        .rsplit('-')
        .next()
        .and_then(|n| n.parse::<u32>().ok())
        .unwrap_or(1);
    format!("10.0.0.{}", 9 + n)
}

pub(crate) fn pod_ready(pod: &Value) -> bool {
    pod["status"]["conditions"].as_array().is_some_and(|cs| {
        cs.iter()
            .any(|c| c["type"] == json!("Ready") && c["status"] == json!("True"))
    })
}

/// A status with the counters Go leaves out when they are zero left out.
pub(crate) fn omit_zero(mut status: Value, fields: &[&str]) -> Value {
    if let Some(map) = status.as_object_mut() {
        for field in fields {
            if map.get(*field).and_then(Value::as_u64) == Some(0) {
                map.remove(*field);
            }
        }
    }
    status
}

const REVISION: &str = "deployment.kubernetes.io/revision";
const REVISION_HISTORY: &str = "deployment.kubernetes.io/revision-history";
const DESIRED_REPLICAS: &str = "deployment.kubernetes.io/desired-replicas";
const MAX_REPLICAS: &str = "deployment.kubernetes.io/max-replicas";

/// A ReplicaSet's revision.
fn revision_of(rs: &Value) -> Option<u64> {
    rs["metadata"]["annotations"][REVISION].as_str()?.parse().ok()
}

/// An int-or-percent (`maxSurge`, `maxUnavailable`) of `total`, a percentage rounded up or down.
pub(crate) fn scaled(value: &Value, total: u64, round_up: bool) -> u64 {
    if let Some(n) = value.as_u64() {
        return n;
    }
    let Some(percent) = value
        .as_str()
        .and_then(|s| s.strip_suffix('%'))
        .and_then(|p| p.parse::<u64>().ok())
    else {
        return 0;
    };
    let whole = total * percent;
    if round_up {
        whole.div_ceil(100)
    } else {
        whole / 100
    }
}

/// The hash that names a pod template's ReplicaSet (`pod-template-hash`) or a controller revision
/// (`controller-revision-hash`): written, as Kubernetes writes it, in consonants and digits that
/// spell no words.
pub(crate) fn template_hash(template: &Value) -> String {
    const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(canonical(template).as_bytes());
    let sum = u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]]);
    sum.to_string()
        .bytes()
        .map(|b| char::from(SAFE[usize::from(b) % SAFE.len()]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_match_by_reference_or_repository() {
        let cases = [
            ("nginx", "nginx:1.27", true),
            ("nginx", "nginx@sha256:abc", true),
            ("registry:5000/web", "registry:5000/web:v2", true),
            ("registry:5000/web", "registry:5000/web", true),
            ("nginx:1.27", "nginx:1.27", true),
            ("nginx:1.27", "nginx:1.28", false),
            ("web", "registry:5000/web:v2", false),
        ];
        for (pattern, image, want) in cases {
            assert_eq!(image_matches(pattern, image), want, "{pattern} {image}");
        }
    }

    #[test]
    fn zero_counters_are_left_out_as_go_leaves_them_out() {
        let status = omit_zero(
            json!({"replicas": 0, "readyReplicas": 0, "updatedReplicas": 2}),
            &["readyReplicas", "updatedReplicas"],
        );
        assert_eq!(status, json!({"replicas": 0, "updatedReplicas": 2}));
    }
}
