//! The object store: the kinds served, metadata the API server stamps, writes that feed watches,
//! and label and field selectors.

use serde_json::{Map, Value, json};

use super::{Change, KubeState};

/// A kind the stand-in serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    /// Plural resource name in URLs (`deployments`).
    pub resource: &'static str,
    /// Singular name (`deployment`).
    pub singular: &'static str,
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version.
    pub version: &'static str,
    /// Kind (`Deployment`).
    pub kind: &'static str,
    /// Short names kubectl accepts.
    pub short: &'static [&'static str],
    /// Whether clients may write it (ReplicaSets, Pods and Events are the cluster's own here).
    pub writable: bool,
    /// Whether clients may delete it even so (a pod: its controller makes a new one).
    pub deletable: bool,
    /// Whether its objects live in a namespace (a Namespace itself is cluster-scoped).
    pub namespaced: bool,
}

pub(crate) const DEPLOYMENTS: Kind = Kind {
    resource: "deployments",
    singular: "deployment",
    group: "apps",
    version: "v1",
    kind: "Deployment",
    short: &["deploy"],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const REPLICASETS: Kind = Kind {
    resource: "replicasets",
    singular: "replicaset",
    group: "apps",
    version: "v1",
    kind: "ReplicaSet",
    short: &["rs"],
    writable: false,
    deletable: false,
    namespaced: true,
};
pub(crate) const PODS: Kind = Kind {
    resource: "pods",
    singular: "pod",
    group: "",
    version: "v1",
    kind: "Pod",
    short: &["po"],
    writable: false,
    deletable: true,
    namespaced: true,
};
pub(crate) const CONFIGMAPS: Kind = Kind {
    resource: "configmaps",
    singular: "configmap",
    group: "",
    version: "v1",
    kind: "ConfigMap",
    short: &["cm"],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const SECRETS: Kind = Kind {
    resource: "secrets",
    singular: "secret",
    group: "",
    version: "v1",
    kind: "Secret",
    short: &[],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const SERVICES: Kind = Kind {
    resource: "services",
    singular: "service",
    group: "",
    version: "v1",
    kind: "Service",
    short: &["svc"],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const EVENTS: Kind = Kind {
    resource: "events",
    singular: "event",
    group: "",
    version: "v1",
    kind: "Event",
    short: &["ev"],
    writable: false,
    deletable: false,
    namespaced: true,
};
pub(crate) const LEASES: Kind = Kind {
    resource: "leases",
    singular: "lease",
    group: "coordination.k8s.io",
    version: "v1",
    kind: "Lease",
    short: &[],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const STATEFULSETS: Kind = Kind {
    resource: "statefulsets",
    singular: "statefulset",
    group: "apps",
    version: "v1",
    kind: "StatefulSet",
    short: &["sts"],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const DAEMONSETS: Kind = Kind {
    resource: "daemonsets",
    singular: "daemonset",
    group: "apps",
    version: "v1",
    kind: "DaemonSet",
    short: &["ds"],
    writable: true,
    deletable: true,
    namespaced: true,
};
pub(crate) const NAMESPACES: Kind = Kind {
    resource: "namespaces",
    singular: "namespace",
    group: "",
    version: "v1",
    kind: "Namespace",
    short: &["ns"],
    writable: true,
    deletable: true,
    namespaced: false,
};

pub(crate) const KINDS: &[Kind] = &[
    DEPLOYMENTS,
    REPLICASETS,
    PODS,
    CONFIGMAPS,
    SECRETS,
    SERVICES,
    EVENTS,
    LEASES,
    STATEFULSETS,
    DAEMONSETS,
    NAMESPACES,
];

impl Kind {
    /// The kind served under `resource`.
    #[must_use]
    pub fn by_resource(resource: &str) -> Option<Self> {
        KINDS.iter().find(|k| k.resource == resource).copied()
    }

    /// The kind named `kind`.
    #[must_use]
    pub fn by_kind(kind: &str) -> Option<Self> {
        KINDS.iter().find(|k| k.kind == kind).copied()
    }

    /// `apps/v1`, or `v1` for core.
    #[must_use]
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_owned()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `deployments.apps`, or `pods` for core: how error messages name the resource.
    #[must_use]
    pub fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_owned()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

impl KubeState {
    pub(crate) fn next_rv(&mut self) -> u64 {
        self.rv += 1;
        self.rv
    }

    pub(crate) fn next_serial(&mut self) -> u64 {
        self.serial += 1;
        self.serial
    }

    /// Fills what the API server sets on a write: kind and apiVersion, namespace, uid and
    /// creation time (kept from `existing`), and a Deployment's defaults and generation.
    pub(crate) fn stamp(
        &mut self,
        kind: Kind,
        namespace: &str,
        object: Value,
        existing: Option<&Value>,
    ) -> Value {
        self.stamp_as(kind, namespace, object, existing, false)
    }

    /// [`KubeState::stamp`] for a write that may be a dry run: a dry run takes no serial number,
    /// and its uid (which the API server makes up for a dry-run create too) is one no stored
    /// object ever gets.
    pub(crate) fn stamp_as(
        &mut self,
        kind: Kind,
        namespace: &str,
        mut object: Value,
        existing: Option<&Value>,
        dry_run: bool,
    ) -> Value {
        if !object.is_object() {
            object = json!({});
        }
        object["kind"] = json!(kind.kind);
        object["apiVersion"] = json!(kind.api_version());
        if !object["metadata"].is_object() {
            object["metadata"] = json!({});
        }
        if kind.namespaced {
            object["metadata"]["namespace"] = json!(namespace);
        } else if let Some(meta) = object["metadata"].as_object_mut() {
            // The API server clears the namespace a client sets on a cluster-scoped object.
            meta.remove("namespace");
        }
        let now = self.clock.now_rfc3339();
        match existing {
            Some(old) => {
                let meta = &mut object["metadata"];
                meta["uid"] = old["metadata"]["uid"].clone();
                meta["creationTimestamp"] = old["metadata"]["creationTimestamp"].clone();
            }
            None => {
                let uid = if dry_run {
                    format!("5eed0000-0000-4000-9000-{:012x}", self.serial + 1)
                } else {
                    format!("5eed0000-0000-4000-8000-{:012x}", self.next_serial())
                };
                let meta = &mut object["metadata"];
                meta["uid"] = json!(uid);
                meta["creationTimestamp"] = json!(now);
            }
        }
        if kind.kind == NAMESPACES.kind {
            namespace_strategy(&mut object, existing);
        }
        if WORKLOADS.contains(&kind.kind) {
            defaults(kind.kind, &mut object);
            let generation = match existing {
                None => 1,
                Some(old) => {
                    let before = old["metadata"]["generation"].as_i64().unwrap_or(1);
                    if old["spec"] == object["spec"] {
                        before
                    } else {
                        before + 1
                    }
                }
            };
            object["metadata"]["generation"] = json!(generation);
            if kind.kind == "DaemonSet" {
                // The template's own generation, which DaemonSet pods are labelled with: it moves
                // only when the template does.
                let before = existing.map_or(0, |old| {
                    old["metadata"]["annotations"][TEMPLATE_GENERATION]
                        .as_str()
                        .and_then(|g| g.parse::<u64>().ok())
                        .unwrap_or(1)
                });
                let changed =
                    existing.is_none_or(|old| old["spec"]["template"] != object["spec"]["template"]);
                let template_generation = if changed { before + 1 } else { before };
                object["metadata"]["annotations"][TEMPLATE_GENERATION] =
                    json!(template_generation.to_string());
            }
            // The status belongs to the controller: writes to the main resource keep it.
            object["status"] = existing.map_or_else(|| empty_status(kind.kind), |old| old["status"].clone());
        }
        object
    }

    /// Stores `object` under a new resourceVersion and records the change for watchers.
    pub(crate) fn write(
        &mut self,
        kind: Kind,
        namespace: &str,
        name: &str,
        mut object: Value,
        event: &'static str,
    ) {
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.changes.push(Change {
            rv,
            resource: kind.resource,
            namespace: namespace.to_owned(),
            kind: event,
            object: object.clone(),
        });
        self.objects
            .insert((kind.resource, namespace.to_owned(), name.to_owned()), object);
    }

    /// Removes everything in the namespace `ns` (each with a `DELETED` change) and what the
    /// stand-in keeps beside it: the pods' kubelets, the Deployments' progress, the StatefulSets'
    /// revisions.
    pub(crate) fn empty_namespace(&mut self, ns: &str) {
        let held: Vec<(&'static str, String)> = self
            .objects
            .keys()
            .filter(|(_, n, _)| n == ns)
            .map(|(resource, _, name)| (*resource, name.clone()))
            .collect();
        for (resource, name) in held {
            if let Some(kind) = Kind::by_resource(resource) {
                self.remove(kind, ns, &name);
            }
        }
        self.pods.retain(|(n, _), _| n != ns);
        self.progress.retain(|(n, _), _| n != ns);
        self.revisions.retain(|(n, _), _| n != ns);
    }

    /// Removes an object, recording a `DELETED` change; returns it.
    pub(crate) fn remove(&mut self, kind: Kind, namespace: &str, name: &str) -> Option<Value> {
        let mut object = self
            .objects
            .remove(&(kind.resource, namespace.to_owned(), name.to_owned()))?;
        let rv = self.next_rv();
        object["metadata"]["resourceVersion"] = json!(rv.to_string());
        self.changes.push(Change {
            rv,
            resource: kind.resource,
            namespace: namespace.to_owned(),
            kind: "DELETED",
            object: object.clone(),
        });
        self.managers
            .remove(&(kind.resource, namespace.to_owned(), name.to_owned()));
        Some(object)
    }
}

/// The kinds whose controllers the stand-in runs: the API server fills their defaults, counts
/// their generations and keeps their status from writes.
pub(crate) const WORKLOADS: [&str; 3] = ["Deployment", "StatefulSet", "DaemonSet"];

/// A DaemonSet's template generation, which `apps/v1` keeps as an annotation.
pub(crate) const TEMPLATE_GENERATION: &str = "deprecated.daemonset.template.generation";

/// A new workload's status: the fields that are written even when zero.
fn empty_status(kind: &str) -> Value {
    match kind {
        "StatefulSet" => json!({"replicas": 0, "availableReplicas": 0}),
        "DaemonSet" => json!({"currentNumberScheduled": 0, "numberMisscheduled": 0,
            "desiredNumberScheduled": 0, "numberReady": 0}),
        _ => json!({}),
    }
}

/// Sets `value` at `keys` unless something is there.
fn default_at(object: &mut Value, keys: &[&str], value: Value) {
    let Some((last, parents)) = keys.split_last() else {
        return;
    };
    let mut at = object;
    for key in parents {
        if !at[*key].is_object() {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    if at.get(*last).is_none_or(Value::is_null) {
        at[*last] = value;
    }
}

/// The label the API server puts on every Namespace, with its name as the value: what a
/// `namespaceSelector` picks a namespace by.
pub(crate) const NAMESPACE_NAME_LABEL: &str = "kubernetes.io/metadata.name";

/// What the API server's namespace strategy makes of a write: the name label (set again on every
/// write, whatever the client sent); a new Namespace `Active`, with the `kubernetes` finalizer
/// added to any the client asked for; an update keeps the finalizers and the status it had, which
/// only the `finalize` and `status` subresources (not served) change.
pub(crate) fn namespace_strategy(object: &mut Value, existing: Option<&Value>) {
    defaults(NAMESPACES.kind, object);
    if !object["spec"].is_object() {
        object["spec"] = json!({});
    }
    match existing {
        Some(old) => {
            match old.pointer("/spec/finalizers") {
                Some(kept) => object["spec"]["finalizers"] = kept.clone(),
                None => {
                    if let Some(spec) = object["spec"].as_object_mut() {
                        spec.remove("finalizers");
                    }
                }
            }
            object["status"] = old["status"].clone();
        }
        None => {
            let mut finalizers: Vec<Value> = object["spec"]["finalizers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if !finalizers.contains(&json!("kubernetes")) {
                finalizers.push(json!("kubernetes"));
            }
            object["spec"]["finalizers"] = json!(finalizers);
            object["status"] = json!({"phase": "Active"});
        }
    }
}

/// The defaults the API server fills in a workload (`SetDefaults_Deployment`, `_StatefulSet`,
/// `_DaemonSet` of `apps/v1`, release 1.32) and in its pod template, and a Namespace's name label
/// (`SetDefaults_Namespace`).
pub(crate) fn defaults(kind: &str, object: &mut Value) {
    if kind == NAMESPACES.kind {
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if let Some(name) = name.filter(|n| !n.is_empty()) {
            if !object["metadata"]["labels"].is_object() {
                object["metadata"]["labels"] = json!({});
            }
            object["metadata"]["labels"][NAMESPACE_NAME_LABEL] = json!(name);
        }
        return;
    }
    let Some(spec) = object.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    match kind {
        "Deployment" => {
            default_at(spec, &["replicas"], json!(1));
            default_at(spec, &["strategy", "type"], json!("RollingUpdate"));
            if spec["strategy"]["type"] == "RollingUpdate" {
                default_at(
                    spec,
                    &["strategy", "rollingUpdate", "maxUnavailable"],
                    json!("25%"),
                );
                default_at(spec, &["strategy", "rollingUpdate", "maxSurge"], json!("25%"));
            }
            default_at(spec, &["revisionHistoryLimit"], json!(10));
            default_at(spec, &["progressDeadlineSeconds"], json!(600));
        }
        "StatefulSet" => {
            default_at(spec, &["podManagementPolicy"], json!("OrderedReady"));
            if spec["updateStrategy"]["type"].as_str().is_none_or(str::is_empty) {
                spec["updateStrategy"]["type"] = json!("RollingUpdate");
                default_at(spec, &["updateStrategy", "rollingUpdate"], json!({}));
            }
            if spec["updateStrategy"]["type"] == "RollingUpdate"
                && spec["updateStrategy"]["rollingUpdate"].is_object()
            {
                default_at(spec, &["updateStrategy", "rollingUpdate", "partition"], json!(0));
            }
            default_at(
                spec,
                &["persistentVolumeClaimRetentionPolicy", "whenDeleted"],
                json!("Retain"),
            );
            default_at(
                spec,
                &["persistentVolumeClaimRetentionPolicy", "whenScaled"],
                json!("Retain"),
            );
            default_at(spec, &["replicas"], json!(1));
            default_at(spec, &["revisionHistoryLimit"], json!(10));
        }
        "DaemonSet" => {
            default_at(spec, &["updateStrategy", "type"], json!("RollingUpdate"));
            if spec["updateStrategy"]["type"] == "RollingUpdate" {
                default_at(
                    spec,
                    &["updateStrategy", "rollingUpdate", "maxUnavailable"],
                    json!(1),
                );
                default_at(spec, &["updateStrategy", "rollingUpdate", "maxSurge"], json!(0));
            }
            default_at(spec, &["revisionHistoryLimit"], json!(10));
        }
        _ => return,
    }
    if let Some(template) = spec.get_mut("template").filter(|t| t.is_object()) {
        pod_template_defaults(template);
    }
}

/// The defaults of a pod template (`SetDefaults_PodSpec`, `_Container`, `_Probe`…): what a
/// client reads back after applying a template that left them out.
pub(crate) fn pod_template_defaults(template: &mut Value) {
    let Some(spec) = template.get_mut("spec").filter(|s| s.is_object()) else {
        return;
    };
    default_at(spec, &["restartPolicy"], json!("Always"));
    default_at(spec, &["terminationGracePeriodSeconds"], json!(30));
    default_at(spec, &["dnsPolicy"], json!("ClusterFirst"));
    default_at(spec, &["securityContext"], json!({}));
    default_at(spec, &["schedulerName"], json!("default-scheduler"));
    container_defaults(template);
}

/// The defaults of a pod template's containers alone: a container list is one field to server-side
/// apply here, so an applied list is compared with the stored one as the API server would have
/// stored it.
pub(crate) fn container_defaults(template: &mut Value) {
    for list in ["initContainers", "containers"] {
        let Some(containers) = template
            .get_mut("spec")
            .and_then(|s| s.get_mut(list))
            .and_then(Value::as_array_mut)
        else {
            continue;
        };
        for c in containers.iter_mut().filter(|c| c.is_object()) {
            let image = c["image"].as_str().unwrap_or_default();
            let last = image.rsplit('/').next().unwrap_or(image);
            let latest = !image.contains('@') && last.split_once(':').is_none_or(|(_, tag)| tag == "latest");
            default_at(
                c,
                &["imagePullPolicy"],
                json!(if latest { "Always" } else { "IfNotPresent" }),
            );
            default_at(c, &["terminationMessagePath"], json!("/dev/termination-log"));
            default_at(c, &["terminationMessagePolicy"], json!("File"));
            default_at(c, &["resources"], json!({}));
            for port in c
                .get_mut("ports")
                .and_then(Value::as_array_mut)
                .into_iter()
                .flatten()
            {
                if port.is_object() {
                    default_at(port, &["protocol"], json!("TCP"));
                }
            }
            for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
                let Some(p) = c.get_mut(probe).filter(|p| p.is_object()) else {
                    continue;
                };
                default_at(p, &["timeoutSeconds"], json!(1));
                default_at(p, &["periodSeconds"], json!(10));
                default_at(p, &["successThreshold"], json!(1));
                default_at(p, &["failureThreshold"], json!(3));
                if p["httpGet"].is_object() {
                    default_at(p, &["httpGet", "scheme"], json!("HTTP"));
                }
            }
        }
    }
}

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    Absent(String),
}

/// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; `None` when it cannot.
pub(crate) fn parse_selector(text: &str) -> Option<Vec<Requirement>> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.checked_sub(1)?,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    let set = |s: &str| -> Option<Vec<String>> {
        let inner = s.trim().strip_prefix('(')?.strip_suffix(')')?;
        Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
    };
    let mut out = Vec::new();
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        let req = if let Some((k, v)) = part.split_once("!=") {
            Requirement::NotEquals(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            Requirement::Equals(k.trim().to_owned(), v.trim().to_owned())
        } else if let Some((k, v)) = part.split_once(" notin ") {
            Requirement::NotIn(k.trim().to_owned(), set(v)?)
        } else if let Some((k, v)) = part.split_once(" in ") {
            Requirement::In(k.trim().to_owned(), set(v)?)
        } else if let Some(k) = part.strip_prefix('!') {
            Requirement::Absent(k.trim().to_owned())
        } else {
            Requirement::Exists(part.to_owned())
        };
        out.push(req);
    }
    Some(out)
}

/// Whether `labels` satisfy every requirement.
pub(crate) fn labels_match(requirements: &[Requirement], labels: &Value) -> bool {
    let get = |k: &str| labels.get(k).and_then(Value::as_str);
    requirements.iter().all(|r| match r {
        Requirement::Equals(k, v) => get(k) == Some(v),
        Requirement::NotEquals(k, v) => get(k) != Some(v),
        Requirement::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
        Requirement::NotIn(k, vs) => get(k).is_none_or(|x| !vs.iter().any(|v| v == x)),
        Requirement::Exists(k) => get(k).is_some(),
        Requirement::Absent(k) => get(k).is_none(),
    })
}

/// Whether `object` satisfies a field selector such as `metadata.name=web` or
/// `involvedObject.kind=Pod,involvedObject.name!=x` (fields by their dotted path).
pub(crate) fn fields_match(selector: &str, object: &Value) -> bool {
    selector.split(',').filter(|p| !p.trim().is_empty()).all(|part| {
        let (path, want, negate) = if let Some((p, v)) = part.split_once("!=") {
            (p, v, true)
        } else if let Some((p, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
            (p, v, false)
        } else {
            return false;
        };
        let pointer = format!("/{}", path.trim().replace('.', "/"));
        let have = match object.pointer(&pointer) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        (have == want.trim()) != negate
    })
}

/// Label selector of a `LabelSelector` object (`matchLabels` and `matchExpressions`).
pub(crate) fn selector_of(selector: &Value) -> Vec<Requirement> {
    let mut out: Vec<Requirement> = selector["matchLabels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| Requirement::Equals(k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    for expr in selector["matchExpressions"].as_array().into_iter().flatten() {
        let key = expr["key"].as_str().unwrap_or_default().to_owned();
        let values: Vec<String> = expr["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        out.push(match expr["operator"].as_str().unwrap_or_default() {
            "In" => Requirement::In(key, values),
            "NotIn" => Requirement::NotIn(key, values),
            "Exists" => Requirement::Exists(key),
            _ => Requirement::Absent(key),
        });
    }
    out
}

/// JSON merge patch (RFC 7386).
pub(crate) fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(patch) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Some(map) = target.as_object_mut() {
        for (k, v) in patch {
            if v.is_null() {
                map.remove(k);
            } else {
                merge_patch(map.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// JSON patch (RFC 6902): `add`, `remove`, `replace`, `move`, `copy` and `test`, applied in order;
/// the first that cannot apply stops it with its reason, and `target` is left as it was.
pub(crate) fn json_patch(target: &mut Value, ops: &Value) -> Result<(), String> {
    fn tokens(pointer: &str) -> Result<Vec<String>, String> {
        if pointer.is_empty() {
            return Ok(Vec::new());
        }
        let rest = pointer
            .strip_prefix('/')
            .ok_or_else(|| format!("invalid JSON pointer {pointer:?}"))?;
        Ok(rest
            .split('/')
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect())
    }
    fn parent<'a>(doc: &'a mut Value, path: &[String], pointer: &str) -> Result<&'a mut Value, String> {
        let mut at = doc;
        for key in path {
            at = match at {
                Value::Object(map) => map.get_mut(key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                _ => None,
            }
            .ok_or_else(|| format!("doc is missing path: {pointer:?}"))?;
        }
        Ok(at)
    }
    fn add(doc: &mut Value, pointer: &str, value: Value) -> Result<(), String> {
        let path = tokens(pointer)?;
        let Some((last, up)) = path.split_last() else {
            *doc = value;
            return Ok(());
        };
        match parent(doc, up, pointer)? {
            Value::Object(map) => {
                map.insert(last.clone(), value);
                Ok(())
            }
            Value::Array(items) => {
                let i = if last == "-" {
                    items.len()
                } else {
                    last.parse::<usize>()
                        .ok()
                        .filter(|i| *i <= items.len())
                        .ok_or_else(|| format!("add operation does not apply: invalid index {last:?}"))?
                };
                items.insert(i, value);
                Ok(())
            }
            _ => Err(format!(
                "add operation does not apply: doc is missing path: {pointer:?}"
            )),
        }
    }
    fn remove(doc: &mut Value, pointer: &str) -> Result<Value, String> {
        let path = tokens(pointer)?;
        let (last, up) = path
            .split_last()
            .ok_or_else(|| "remove operation does not apply: the whole document".to_owned())?;
        let missing = || format!("remove operation does not apply: doc is missing key: {pointer}");
        match parent(doc, up, pointer)? {
            Value::Object(map) => map.remove(last).ok_or_else(missing),
            Value::Array(items) => match last.parse::<usize>() {
                Ok(i) if i < items.len() => Ok(items.remove(i)),
                _ => Err(missing()),
            },
            _ => Err(missing()),
        }
    }
    fn get<'a>(doc: &'a Value, pointer: &str) -> Result<&'a Value, String> {
        doc.pointer(pointer)
            .ok_or_else(|| format!("doc is missing path: {pointer:?}"))
    }
    let ops = ops
        .as_array()
        .ok_or_else(|| "a JSON patch is a list of operations".to_owned())?;
    let mut doc = target.clone();
    for op in ops {
        let path = op["path"]
            .as_str()
            .ok_or_else(|| "an operation without a path".to_owned())?;
        let from = op["from"].as_str().unwrap_or_default();
        match op["op"].as_str().unwrap_or_default() {
            "add" => add(&mut doc, path, op["value"].clone())?,
            "remove" => {
                remove(&mut doc, path)?;
            }
            "replace" => {
                remove(&mut doc, path)
                    .map_err(|_| format!("replace operation does not apply: doc is missing key: {path}"))?;
                add(&mut doc, path, op["value"].clone())?;
            }
            "move" => {
                let value = remove(&mut doc, from)?;
                add(&mut doc, path, value)?;
            }
            "copy" => {
                let value = get(&doc, from)?.clone();
                add(&mut doc, path, value)?;
            }
            "test" => {
                if get(&doc, path)? != &op["value"] {
                    return Err(format!("testing value {path} failed: test failed"));
                }
            }
            other => return Err(format!("unexpected kind: {other}")),
        }
    }
    *target = doc;
    Ok(())
}

/// A stable text of a JSON value (keys sorted), for hashing pod templates.
pub(crate) fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            let inner: Vec<String> = keys
                .into_iter()
                .map(|k| format!("{}:{}", Value::String(k.clone()), canonical(&map[k])))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_namespace_is_made_active_and_keeps_its_finalizers_and_status() {
        let mut created = json!({"metadata": {"name": "shop", "labels": {"team": "web"}},
            "spec": {"finalizers": ["example.com/cleanup"]}});
        namespace_strategy(&mut created, None);
        assert_eq!(
            created,
            json!({"metadata": {"name": "shop", "labels": {"team": "web", NAMESPACE_NAME_LABEL: "shop"}},
                "spec": {"finalizers": ["example.com/cleanup", "kubernetes"]}, "status": {"phase": "Active"}})
        );
        let mut updated = json!({"metadata": {"name": "shop", "labels": {NAMESPACE_NAME_LABEL: "other"}},
            "status": {"phase": "Terminating"}});
        namespace_strategy(&mut updated, Some(&created));
        assert_eq!(
            updated["metadata"]["labels"],
            json!({NAMESPACE_NAME_LABEL: "shop"})
        );
        assert_eq!(
            (&updated["spec"], &updated["status"]),
            (&created["spec"], &created["status"])
        );
    }

    #[test]
    fn label_selectors_as_kubectl_writes_them() {
        let labels = json!({"app": "web", "tier": "front"});
        let cases = [
            ("app=web", true),
            ("app==web,tier=front", true),
            ("app!=web", false),
            ("app in (web,api)", true),
            ("tier notin (front)", false),
            ("app", true),
            ("!app", false),
            ("!missing", true),
            ("", true),
        ];
        for (text, want) in cases {
            let reqs = parse_selector(text).unwrap();
            assert_eq!(labels_match(&reqs, &labels), want, "{text}");
        }
        assert_eq!(parse_selector("a in (x"), None);
    }

    #[test]
    fn field_selectors_by_dotted_path() {
        let event = json!({"metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "web-1"}});
        let cases = [
            ("metadata.name=e1", true),
            ("involvedObject.kind=Pod,involvedObject.name=web-1", true),
            ("involvedObject.name!=web-1", false),
            ("metadata.namespace=x", false),
        ];
        for (text, want) in cases {
            assert_eq!(fields_match(text, &event), want, "{text}");
        }
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": "b", "c": {"d": "e", "f": "g"}, "l": [1, 2]});
        merge_patch(&mut target, &json!({"a": "z", "c": {"f": null}, "l": [3]}));
        assert_eq!(target, json!({"a": "z", "c": {"d": "e"}, "l": [3]}));
    }

    #[test]
    fn json_patch_follows_rfc_6902() {
        let mut doc = json!({"metadata": {"labels": {"a/b": "1"}}, "list": [1, 2]});
        let ops = json!([
            {"op": "add", "path": "/list/-", "value": 3},
            {"op": "add", "path": "/list/0", "value": 0},
            {"op": "replace", "path": "/metadata/labels/a~1b", "value": "2"},
            {"op": "copy", "from": "/metadata/labels", "path": "/copied"},
            {"op": "move", "from": "/copied", "path": "/moved"},
            {"op": "remove", "path": "/list/1"},
            {"op": "test", "path": "/moved/a~1b", "value": "2"},
        ]);
        json_patch(&mut doc, &ops).unwrap();
        assert_eq!(
            doc,
            json!({"metadata": {"labels": {"a/b": "2"}}, "list": [0, 2, 3], "moved": {"a/b": "2"}})
        );
        // A failing operation leaves the document as it was.
        let before = doc.clone();
        let failing =
            json!([{"op": "remove", "path": "/list/0"}, {"op": "replace", "path": "/nope", "value": 1}]);
        assert!(json_patch(&mut doc, &failing).is_err());
        assert!(json_patch(&mut doc, &json!([{"op": "test", "path": "/list/0", "value": 9}])).is_err());
        assert_eq!(doc, before);
    }

    #[test]
    fn canonical_text_ignores_key_order() {
        let a: Value =
            serde_json::from_str(r#"{"b": 1, "a": {"y": 2, "x": [1, {"q": 1, "p": 2}]}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a": {"x": [1, {"p": 2, "q": 1}], "y": 2}, "b": 1}"#).unwrap();
        assert_eq!(canonical(&a), canonical(&b));
    }
}
