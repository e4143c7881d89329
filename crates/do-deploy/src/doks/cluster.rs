//! The Kubernetes calls of a doks deploy, on kube-rs, with objects as JSON (the manifests are any
//! kind; the rollout verdicts read JSON). Server-side apply with one field manager; creates that
//! lose their answer are looked up, never sent again.

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, DeleteParams, DynamicObject, ListParams, LogParams, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::Value;

use super::manifests::{CLUSTER_SCOPED, Object};

/// The one field manager every apply of ours uses.
pub const MANAGER: &str = "ops-actions";

/// A failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KubeError {
    /// The API server answered with an error.
    Status {
        /// HTTP status.
        code: u16,
        /// `Invalid`, `Forbidden`, `Conflict`, …
        reason: String,
        /// Its message.
        message: String,
    },
    /// No answer (connection, timeout, TLS): the call may or may not have happened.
    Transport(String),
}

impl std::fmt::Display for KubeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Status {
                code,
                reason,
                message,
            } => write!(f, "{message} ({code} {reason})"),
            Self::Transport(m) => write!(f, "no answer from the API server: {m}"),
        }
    }
}

impl KubeError {
    /// Whether the answer was 404.
    pub fn not_found(&self) -> bool {
        matches!(self, Self::Status { code: 404, .. })
    }
}

impl From<kube::Error> for KubeError {
    fn from(e: kube::Error) -> Self {
        match e {
            kube::Error::Api(s) => Self::Status {
                code: s.code,
                reason: s.reason.clone(),
                message: if s.message.is_empty() {
                    s.reason.clone()
                } else {
                    s.message.clone()
                },
            },
            other => Self::Transport(other.to_string()),
        }
    }
}

/// The resource of an object: from a table of common kinds, else asked of the API server.
pub async fn resource(
    client: &kube::Client,
    api_version: &str,
    kind: &str,
) -> Result<(ApiResource, bool), KubeError> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    let gvk = GroupVersionKind::gvk(group, version, kind);
    let known = match kind {
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "ConfigMap"
        | "Secret"
        | "Service"
        | "ServiceAccount"
        | "PersistentVolumeClaim"
        | "Pod"
        | "Job"
        | "CronJob"
        | "Ingress"
        | "Role"
        | "RoleBinding"
        | "NetworkPolicy"
        | "PodDisruptionBudget"
        | "HorizontalPodAutoscaler"
        | "Lease" => Some(true),
        k if CLUSTER_SCOPED.contains(&k) => Some(false),
        _ => None,
    };
    if let Some(namespaced) = known {
        let plural = match kind {
            "Ingress" => "ingresses".to_owned(),
            "NetworkPolicy" => "networkpolicies".to_owned(),
            "PriorityClass" | "StorageClass" | "IngressClass" => format!("{}es", kind.to_lowercase()),
            "PodDisruptionBudget" | "HorizontalPodAutoscaler" | "Lease" => {
                format!("{}s", kind.to_lowercase())
            }
            k if k.ends_with('s') => format!("{}es", k.to_lowercase()),
            k if k.ends_with('y') => format!("{}ies", &k[..k.len() - 1].to_lowercase()),
            k => format!("{}s", k.to_lowercase()),
        };
        return Ok((ApiResource::from_gvk_with_plural(&gvk, &plural), namespaced));
    }
    let (ar, caps) = kube::discovery::pinned_kind(client, &gvk)
        .await
        .map_err(|e| match e {
            kube::Error::Api(s) if s.code == 404 => KubeError::Status {
                code: 404,
                reason: "NotFound".to_owned(),
                message: format!("the cluster does not serve {kind} in `{api_version}`"),
            },
            kube::Error::Discovery(_) => KubeError::Status {
                code: 404,
                reason: "NotFound".to_owned(),
                message: format!("the cluster does not serve {kind} in `{api_version}`"),
            },
            other => other.into(),
        })?;
    Ok((ar, matches!(caps.scope, kube::discovery::Scope::Namespaced)))
}

/// Calls on one cluster.
#[derive(Clone)]
pub struct Cluster {
    /// The client.
    pub client: kube::Client,
}

fn dynamic(client: &kube::Client, ar: &ApiResource, namespace: Option<&str>) -> Api<DynamicObject> {
    match namespace {
        Some(ns) => Api::namespaced_with(client.clone(), ns, ar),
        None => Api::all_with(client.clone(), ar),
    }
}

fn to_value(d: &DynamicObject) -> Value {
    serde_json::to_value(d).unwrap_or(Value::Null)
}

fn from_value(v: &Value) -> Result<DynamicObject, KubeError> {
    serde_json::from_value(v.clone()).map_err(|e| KubeError::Status {
        code: 400,
        reason: "BadRequest".to_owned(),
        message: format!("not an object: {e}"),
    })
}

impl Cluster {
    /// `GET` an object; `None` when it does not exist.
    pub async fn get(
        &self,
        ar: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Value>, KubeError> {
        Ok(dynamic(&self.client, ar, namespace)
            .get_opt(name)
            .await?
            .as_ref()
            .map(to_value))
    }

    /// Server-side apply of `object` (with `force`: this deploy owns what it declares).
    pub async fn apply(&self, ar: &ApiResource, object: &Object, dry_run: bool) -> Result<Value, KubeError> {
        let mut params = PatchParams::apply(MANAGER).force();
        params.dry_run = dry_run;
        let api = dynamic(&self.client, ar, object.namespace.as_deref());
        let applied = api
            .patch(&object.name, &params, &Patch::Apply(&object.body))
            .await?;
        Ok(to_value(&applied))
    }

    /// Deletes an object (background propagation, as kubectl does); a missing one is fine.
    pub async fn delete(
        &self,
        ar: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<(), KubeError> {
        match dynamic(&self.client, ar, namespace)
            .delete(name, &DeleteParams::background())
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => {
                let e = KubeError::from(e);
                if e.not_found() { Ok(()) } else { Err(e) }
            }
        }
    }

    /// Lists objects with a label selector.
    pub async fn list(
        &self,
        ar: &ApiResource,
        namespace: &str,
        labels: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let mut lp = ListParams::default();
        if !labels.is_empty() {
            lp = lp.labels(labels);
        }
        Ok(dynamic(&self.client, ar, Some(namespace))
            .list(&lp)
            .await?
            .items
            .iter()
            .map(to_value)
            .collect())
    }

    /// Creates an object. When the answer is lost, looks it up instead of sending it again: it is ours
    /// when `ours` says so.
    pub async fn create_once(
        &self,
        ar: &ApiResource,
        namespace: &str,
        object: &Value,
        ours: impl Fn(&Value) -> bool,
    ) -> Result<Value, KubeError> {
        let api = dynamic(&self.client, ar, Some(namespace));
        match api.create(&PostParams::default(), &from_value(object)?).await {
            Ok(o) => Ok(to_value(&o)),
            Err(e) => {
                let e = KubeError::from(e);
                if let KubeError::Transport(_) = e {
                    let name = object["metadata"]["name"].as_str().unwrap_or_default();
                    if let Ok(Some(found)) = self.get(ar, Some(namespace), name).await
                        && ours(&found)
                    {
                        return Ok(found);
                    }
                }
                Err(e)
            }
        }
    }

    /// Replaces an object (its `resourceVersion` makes a concurrent change a 409).
    pub async fn replace(
        &self,
        ar: &ApiResource,
        namespace: &str,
        object: &Value,
    ) -> Result<Value, KubeError> {
        let name = object["metadata"]["name"].as_str().unwrap_or_default().to_owned();
        let api = dynamic(&self.client, ar, Some(namespace));
        Ok(to_value(
            &api.replace(&name, &PostParams::default(), &from_value(object)?)
                .await?,
        ))
    }

    /// Whether the caller may `verb` `resource` (of `group`) in `namespace`.
    pub async fn can(
        &self,
        verb: &str,
        group: &str,
        resource: &str,
        namespace: Option<&str>,
    ) -> Result<(bool, String), KubeError> {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(verb.to_owned()),
                    group: Some(group.to_owned()),
                    resource: Some(resource.to_owned()),
                    namespace: namespace.map(str::to_owned),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let api: Api<SelfSubjectAccessReview> = Api::all(self.client.clone());
        let answer = api.create(&PostParams::default(), &review).await?;
        let status = answer.status.unwrap_or_default();
        Ok((status.allowed, status.reason.unwrap_or_default()))
    }

    /// Events about `name` in `namespace`, oldest first.
    pub async fn events(&self, namespace: &str, name: &str) -> Result<Vec<Value>, KubeError> {
        let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk("", "v1", "Event"), "events");
        let lp = ListParams::default().fields(&format!("involvedObject.name={name}"));
        let mut items: Vec<Value> = dynamic(&self.client, &ar, Some(namespace))
            .list(&lp)
            .await?
            .items
            .iter()
            .map(to_value)
            .collect();
        items.sort_by(|a, b| {
            let t = |v: &Value| {
                v["lastTimestamp"]
                    .as_str()
                    .or(v["eventTime"].as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            t(a).cmp(&t(b))
        });
        Ok(items)
    }

    /// The last `lines` log lines of a container.
    pub async fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        lines: i64,
    ) -> Result<String, KubeError> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let lp = LogParams {
            container: Some(container.to_owned()),
            tail_lines: Some(lines),
            ..Default::default()
        };
        Ok(api.logs(pod, &lp).await?)
    }
}

/// The resource of a kind the deploy itself uses.
pub fn builtin(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").finish_non_exhaustive()
    }
}
