//! The StatefulSet and DaemonSet controllers, one sync per virtual second, after the
//! kube-controller-manager of release 1.32 (`pkg/controller/statefulset`, `pkg/controller/daemon`),
//! with the pods they create living out the same scripted [`Fate`](super::Fate)s as a Deployment's.
//!
//! StatefulSet: pods `<name>-0` … `<name>-(n-1)`, each labelled with the revision it was made from
//! (`controller-revision-hash: <name>-<hash>`), its name and its index. `OrderedReady` (the
//! default) creates one pod at a time and goes no further while a pod is not ready; `Parallel`
//! creates them all. A rolling update replaces the pod with the highest ordinal not at the update
//! revision, one at a time, and waits for each to be ready; ordinals below `partition` keep the
//! current revision. A pod that never becomes ready stops the rollout, and reverting the template
//! does not free it: that pod has to be deleted, as on a real cluster. There is no progress
//! deadline. ControllerRevisions are kept inside (for the templates of earlier revisions), not
//! served.
//!
//! DaemonSet: one pod per node ([`KubeState::set_nodes`], `sim-node-1` …), labelled
//! `controller-revision-hash: <hash>` and `pod-template-generation`; a rolling update deletes old
//! pods while no more than `maxUnavailable` nodes are without an available pod (old pods that are
//! not available go first), and the next sync puts new ones in their place. `maxSurge` is taken
//! as 0.

use std::cmp::Reverse;

use serde_json::{Value, json};

use super::KubeState;
use super::controller::{omit_zero, owner_ref, pod_ready, pod_suffix, scaled, template_hash};
use super::store::{DAEMONSETS, STATEFULSETS, TEMPLATE_GENERATION};

const REVISION_HASH: &str = "controller-revision-hash";

/// The node a daemon pod is for: where it runs, or, not scheduled yet, the node its affinity names.
fn target_node(pod: &Value) -> String {
    pod["spec"]["nodeName"]
        .as_str()
        .or_else(|| {
            pod.pointer(
                "/spec/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms/0/matchFields/0/values/0",
            )
            .and_then(Value::as_str)
        })
        .unwrap_or_default()
        .to_owned()
}

fn label<'a>(pod: &'a Value, key: &str) -> Option<&'a str> {
    pod["metadata"]["labels"][key].as_str()
}

fn name_of(object: &Value) -> String {
    object["metadata"]["name"].as_str().unwrap_or_default().to_owned()
}

/// A StatefulSet pod's ordinal, from its name.
fn ordinal(set: &str, pod: &str) -> Option<usize> {
    let digits = pod.strip_prefix(set)?.strip_prefix('-')?;
    digits
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| digits.parse().ok())
        .flatten()
}

/// What one StatefulSet sync works from.
struct SetSync {
    name: String,
    replicas: usize,
    monotonic: bool,
    rolling: bool,
    /// `updateStrategy.rollingUpdate` is there (so `partition` counts).
    partitioned: bool,
    partition: usize,
    current_rev: String,
    update_rev: String,
    current_replicas: usize,
}

impl KubeState {
    pub(crate) fn reconcile_statefulset(&mut self, ns: &str, name: &str) {
        let Some(set) = self.get("statefulsets", ns, name) else {
            return;
        };
        let spec = &set["spec"];
        let template = spec["template"].clone();
        let update_rev = format!("{name}-{}", template_hash(&template));
        self.revisions
            .insert((ns.to_owned(), update_rev.clone()), template);
        // The current revision is the one the status names, while its template is known.
        let current_rev = set["status"]["currentRevision"]
            .as_str()
            .filter(|r| self.revisions.contains_key(&(ns.to_owned(), (*r).to_owned())))
            .map_or_else(|| update_rev.clone(), str::to_owned);
        let strategy = &spec["updateStrategy"];
        let sync = SetSync {
            name: name.to_owned(),
            replicas: spec["replicas"].as_u64().unwrap_or(1) as usize,
            monotonic: spec["podManagementPolicy"] != "Parallel",
            rolling: strategy["type"] == "RollingUpdate",
            partitioned: strategy["rollingUpdate"].is_object(),
            partition: strategy["rollingUpdate"]["partition"].as_u64().unwrap_or(0) as usize,
            current_rev,
            update_rev,
            current_replicas: set["status"]["currentReplicas"].as_u64().unwrap_or(0) as usize,
        };
        self.sync_statefulset(ns, &set, &sync);
        self.statefulset_status(ns, &set, &sync);
    }

    /// One pass of `updateStatefulSet`: it stops at the first thing that has to wait.
    fn sync_statefulset(&mut self, ns: &str, set: &Value, sync: &SetSync) {
        let mut slots: Vec<Option<Value>> = vec![None; sync.replicas];
        let mut condemned: Vec<(usize, Value)> = Vec::new();
        for pod in self.pods_of(ns, set) {
            match ordinal(&sync.name, &name_of(&pod)) {
                Some(i) if i < sync.replicas => slots[i] = Some(pod),
                Some(i) => condemned.push((i, pod)),
                None => {}
            }
        }
        condemned.sort_by_key(|(i, _)| Reverse(*i));
        let mut created = vec![false; sync.replicas];
        for (i, slot) in slots.iter().enumerate() {
            match slot {
                None => {
                    let at_current = (sync.rolling && !sync.partitioned && i < sync.current_replicas)
                        || (sync.partitioned && i < sync.partition);
                    let rev = if at_current {
                        &sync.current_rev
                    } else {
                        &sync.update_rev
                    };
                    self.create_set_pod(ns, set, i, rev);
                    created[i] = true;
                    if sync.monotonic {
                        return;
                    }
                }
                Some(pod) if sync.monotonic && !pod_ready(pod) => return,
                Some(_) => {}
            }
        }
        // Scale down from the highest ordinal; in order, only past pods that are ready (or the
        // first that is not).
        let first_unhealthy = condemned
            .iter()
            .rev()
            .find(|(_, p)| !pod_ready(p))
            .map(|(i, _)| *i);
        for (i, pod) in &condemned {
            if sync.monotonic && !pod_ready(pod) && Some(*i) != first_unhealthy {
                return;
            }
            self.delete_set_pod(ns, set, &name_of(pod));
            if sync.monotonic {
                return;
            }
        }
        if !sync.rolling {
            return; // OnDelete: pods change when someone deletes them
        }
        let floor = if sync.partitioned { sync.partition } else { 0 };
        for target in (floor..sync.replicas).rev() {
            let (Some(pod), false) = (&slots[target], created[target]) else {
                return; // just made: not available yet
            };
            if label(pod, REVISION_HASH) != Some(sync.update_rev.as_str()) {
                self.delete_set_pod(ns, set, &name_of(pod));
                return;
            }
            if !pod_ready(pod) {
                return;
            }
        }
    }

    fn create_set_pod(&mut self, ns: &str, set: &Value, index: usize, revision: &str) {
        let name = name_of(set);
        let pod_name = format!("{name}-{index}");
        let mut template = self
            .revisions
            .get(&(ns.to_owned(), revision.to_owned()))
            .cloned()
            .unwrap_or_else(|| set["spec"]["template"].clone());
        let labels = &mut template["metadata"]["labels"];
        labels[REVISION_HASH] = json!(revision);
        labels["statefulset.kubernetes.io/pod-name"] = json!(pod_name);
        labels["apps.kubernetes.io/pod-index"] = json!(index.to_string());
        template["spec"]["hostname"] = json!(pod_name);
        if let Some(service) = set["spec"]["serviceName"].as_str().filter(|s| !s.is_empty()) {
            template["spec"]["subdomain"] = json!(service);
        }
        let node = self.node_name(index as u64);
        let owner = owner_ref("StatefulSet", set);
        self.create_pod(ns, &pod_name, &template, owner, &node, &name);
        self.event(
            ns,
            set,
            "StatefulSet",
            (
                "Normal",
                "SuccessfulCreate",
                format!("create Pod {pod_name} in StatefulSet {name} successful"),
            ),
        );
    }

    fn delete_set_pod(&mut self, ns: &str, set: &Value, pod: &str) {
        self.delete_pod(ns, pod);
        let name = name_of(set);
        self.event(
            ns,
            set,
            "StatefulSet",
            (
                "Normal",
                "SuccessfulDelete",
                format!("delete Pod {pod} in StatefulSet {name} successful"),
            ),
        );
    }

    fn statefulset_status(&mut self, ns: &str, set: &Value, sync: &SetSync) {
        let pods = self.pods_of(ns, set);
        let count = |f: &dyn Fn(&Value) -> bool| pods.iter().filter(|p| f(p)).count();
        let replicas = pods.len();
        let ready = count(&pod_ready);
        let updated = count(&|p| label(p, REVISION_HASH) == Some(sync.update_rev.as_str()));
        let mut current = count(&|p| label(p, REVISION_HASH) == Some(sync.current_rev.as_str()));
        let mut current_rev = sync.current_rev.clone();
        if sync.rolling && updated == replicas && ready == replicas {
            // The rolling update is complete: the update revision is now the current one.
            current_rev.clone_from(&sync.update_rev);
            current = updated;
        }
        let status = omit_zero(
            json!({
                "observedGeneration": set["metadata"]["generation"],
                "replicas": replicas, "readyReplicas": ready, "currentReplicas": current,
                "updatedReplicas": updated, "availableReplicas": ready,
                "currentRevision": current_rev, "updateRevision": sync.update_rev, "collisionCount": 0,
            }),
            &["readyReplicas", "currentReplicas", "updatedReplicas"],
        );
        if let Some(mut stored) = self.get("statefulsets", ns, &sync.name)
            && stored["status"] != status
        {
            stored["status"] = status;
            self.write(STATEFULSETS, ns, &sync.name, stored, "MODIFIED");
        }
    }

    pub(crate) fn reconcile_daemonset(&mut self, ns: &str, name: &str) {
        let Some(ds) = self.get("daemonsets", ns, name) else {
            return;
        };
        let hash = template_hash(&ds["spec"]["template"]);
        let nodes: Vec<String> = (1..=self.nodes).map(|i| format!("sim-node-{i}")).collect();
        // Pods on nodes that are gone go with them.
        for pod in self.pods_of(ns, &ds) {
            if !nodes.contains(&target_node(&pod)) {
                self.delete_pod(ns, &name_of(&pod));
            }
        }
        // Every node without a daemon pod gets one of the current template.
        let pods = self.pods_of(ns, &ds);
        for node in &nodes {
            if !pods.iter().any(|p| target_node(p) == *node) {
                self.create_daemon_pod(ns, &ds, node, &hash);
            }
        }
        if ds["spec"]["updateStrategy"]["type"] == "RollingUpdate" {
            self.roll_daemonset(ns, &ds, &nodes, &hash);
        }
        self.daemonset_status(ns, name, &nodes, &hash);
    }

    fn create_daemon_pod(&mut self, ns: &str, ds: &Value, node: &str, hash: &str) {
        let name = name_of(ds);
        let serial = self.next_serial();
        let pod_name = format!("{name}-{}", pod_suffix(serial));
        let mut template = ds["spec"]["template"].clone();
        let generation = ds["metadata"]["annotations"][TEMPLATE_GENERATION]
            .as_str()
            .unwrap_or("1")
            .to_owned();
        let labels = &mut template["metadata"]["labels"];
        labels[REVISION_HASH] = json!(hash);
        labels["pod-template-generation"] = json!(generation);
        // The controller pins the pod to its node by affinity; the scheduler then binds it there.
        template["spec"]["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"] = json!({
            "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]});
        let owner = owner_ref("DaemonSet", ds);
        self.create_pod(ns, &pod_name, &template, owner, node, &name);
        self.event(
            ns,
            ds,
            "DaemonSet",
            ("Normal", "SuccessfulCreate", format!("Created pod: {pod_name}")),
        );
    }

    /// `rollingUpdate` without surge: deletes old pods while the nodes without an available pod
    /// stay within `maxUnavailable`; old pods that are not available go regardless.
    fn roll_daemonset(&mut self, ns: &str, ds: &Value, nodes: &[String], hash: &str) {
        let desired = nodes.len() as u64;
        let max_unavailable = scaled(
            &ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
            desired,
            true,
        )
        .max(1);
        let pods = self.pods_of(ns, ds);
        let mut unavailable = 0;
        let mut doomed = Vec::new();
        let mut candidates = Vec::new();
        for node in nodes {
            let on: Vec<&Value> = pods.iter().filter(|p| target_node(p) == *node).collect();
            let new = on.iter().find(|p| label(p, REVISION_HASH) == Some(hash));
            let old = on.iter().find(|p| label(p, REVISION_HASH) != Some(hash));
            match (new, old) {
                (Some(new), None) => {
                    if !pod_ready(new) {
                        unavailable += 1;
                    }
                }
                (None, Some(old)) if !pod_ready(old) => doomed.push(name_of(old)),
                (None, Some(old)) => candidates.push(name_of(old)),
                _ => unavailable += 1,
            }
        }
        let room = max_unavailable.saturating_sub(unavailable) as usize;
        doomed.extend(candidates.into_iter().take(room));
        for pod in doomed {
            self.delete_pod(ns, &pod);
            self.event(
                ns,
                ds,
                "DaemonSet",
                ("Normal", "SuccessfulDelete", format!("Deleted pod: {pod}")),
            );
        }
    }

    fn daemonset_status(&mut self, ns: &str, name: &str, nodes: &[String], hash: &str) {
        let Some(mut ds) = self.get("daemonsets", ns, name) else {
            return;
        };
        let pods = self.pods_of(ns, &ds);
        let (mut scheduled, mut ready, mut updated) = (0, 0, 0);
        for node in nodes {
            let mut on: Vec<&Value> = pods.iter().filter(|p| target_node(p) == *node).collect();
            // The oldest pod of the node speaks for it.
            on.sort_by_key(|p| p["metadata"]["creationTimestamp"].as_str().map(str::to_owned));
            let Some(pod) = on.first() else {
                continue;
            };
            scheduled += 1;
            if pod_ready(pod) {
                ready += 1;
            }
            if label(pod, REVISION_HASH) == Some(hash) {
                updated += 1;
            }
        }
        let desired = nodes.len();
        let status = omit_zero(
            json!({
                "observedGeneration": ds["metadata"]["generation"],
                "desiredNumberScheduled": desired, "currentNumberScheduled": scheduled,
                "numberMisscheduled": 0, "numberReady": ready, "numberAvailable": ready,
                "updatedNumberScheduled": updated, "numberUnavailable": desired - ready,
            }),
            &["updatedNumberScheduled", "numberAvailable", "numberUnavailable"],
        );
        if ds["status"] != status {
            ds["status"] = status;
            self.write(DAEMONSETS, ns, name, ds, "MODIFIED");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_are_read_from_pod_names() {
        let cases = [
            ("web", "web-0", Some(0)),
            ("web", "web-12", Some(12)),
            ("web", "web-x", None),
            ("web", "web-1-2", None),
            ("web", "webby-1", None),
            ("web-a", "web-a-3", Some(3)),
        ];
        for (set, pod, want) in cases {
            assert_eq!(ordinal(set, pod), want, "{pod}");
        }
    }
}
