//! Release records: before a deploy applies anything, a Secret in the namespace records what it will
//! apply and the state of every object it touches as it was (or that it did not exist), as Helm keeps
//! its releases. A failed deploy restores that state; `action: rollback` applies an older release's
//! objects again. Secrets, because the objects may be Secrets.

use base64::Engine as _;
use kube::core::ApiResource;
use serde_json::{Value, json};

use super::cluster::{Cluster, KubeError, builtin};

/// `pending` → `deployed` | `failed` | `rolled-back`; a deployed one becomes `superseded`.
pub const DEPLOYED: &str = "deployed";

fn secrets() -> ApiResource {
    builtin("", "v1", "Secret", "secrets")
}

/// One release.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1, 2, 3… per app and namespace.
    pub id: u64,
    /// Its status.
    pub status: String,
    /// What it applied (images substituted).
    pub objects: Vec<Value>,
    /// The state before it, of each object it touched that existed.
    pub previous: Vec<Value>,
    /// Objects it created (they did not exist before): `{apiVersion, kind, namespace, name}`.
    pub created: Vec<Value>,
    /// Who deployed it, when, which commit, which images.
    pub about: Value,
}

/// The Secret's name.
pub fn secret_name(app: &str, id: u64) -> String {
    format!("ops-actions.release.{app}.v{id}")
}

/// An object as it can be applied again: no status, no server-set metadata.
pub fn trim(live: &Value) -> Value {
    let mut v = live.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
    }
    if let Some(m) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in [
            "uid",
            "resourceVersion",
            "generation",
            "creationTimestamp",
            "managedFields",
            "selfLink",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
        ] {
            m.remove(k);
        }
        if let Some(a) = m.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove("deployment.kubernetes.io/revision");
            a.remove("kubectl.kubernetes.io/last-applied-configuration");
            if a.is_empty() {
                m.remove("annotations");
            }
        }
    }
    v
}

impl Record {
    fn to_secret(&self, app: &str, namespace: &str) -> Value {
        let body = json!({
            "id": self.id, "status": self.status, "about": self.about,
            "objects": self.objects, "previous": self.previous, "created": self.created,
        });
        let data = base64::engine::general_purpose::STANDARD.encode(body.to_string());
        json!({
            "apiVersion": "v1", "kind": "Secret", "type": "ops-actions/release.v1",
            "metadata": {
                "name": secret_name(app, self.id), "namespace": namespace,
                "labels": {
                    "app.kubernetes.io/managed-by": "ops-actions",
                    "ops-actions/app": app, "ops-actions/release": self.id.to_string(),
                    "ops-actions/status": self.status,
                },
                "annotations": {"ops-actions/run": self.about["run"].as_str().unwrap_or_default()},
            },
            "data": {"release": data},
        })
    }

    fn from_secret(secret: &Value) -> Option<Self> {
        let data = secret.pointer("/data/release")?.as_str()?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(data).ok()?;
        let body: Value = serde_json::from_slice(&bytes).ok()?;
        let list = |k: &str| body[k].as_array().cloned().unwrap_or_default();
        Some(Self {
            id: body["id"].as_u64()?,
            status: secret
                .pointer("/metadata/labels/ops-actions~1status")
                .and_then(Value::as_str)
                .unwrap_or_else(|| body["status"].as_str().unwrap_or("unknown"))
                .to_owned(),
            objects: list("objects"),
            previous: list("previous"),
            created: list("created"),
            about: body["about"].clone(),
        })
    }
}

/// Every release of `app` in `namespace`, oldest first.
pub async fn list(cluster: &Cluster, namespace: &str, app: &str) -> Result<Vec<Record>, KubeError> {
    let mut out: Vec<Record> = cluster
        .list(&secrets(), namespace, &format!("ops-actions/app={app}"))
        .await?
        .iter()
        .filter_map(Record::from_secret)
        .collect();
    out.sort_by_key(|r| r.id);
    Ok(out)
}

/// Writes a new record (looked up, not sent again, when the answer is lost).
pub async fn create(cluster: &Cluster, namespace: &str, app: &str, record: &Record) -> Result<(), KubeError> {
    let secret = record.to_secret(app, namespace);
    let run = record.about["run"].clone();
    cluster
        .create_once(&secrets(), namespace, &secret, |found| {
            found.pointer("/metadata/annotations/ops-actions~1run") == Some(&run)
        })
        .await
        .map(|_| ())
}

/// Sets a record's status.
pub async fn set_status(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
    id: u64,
    status: &str,
) -> Result<(), KubeError> {
    let ar = secrets();
    for _ in 0..5 {
        let Some(mut s) = cluster.get(&ar, Some(namespace), &secret_name(app, id)).await? else {
            return Ok(());
        };
        s["metadata"]["labels"]["ops-actions/status"] = json!(status);
        match cluster.replace(&ar, namespace, &s).await {
            Err(KubeError::Status { code: 409, .. }) => continue,
            other => return other.map(|_| ()),
        }
    }
    Ok(())
}

/// Deletes the oldest records beyond `keep`, of the releases `ids` (oldest first).
pub async fn prune(
    cluster: &Cluster,
    namespace: &str,
    app: &str,
    ids: &[u64],
    keep: usize,
) -> Result<usize, KubeError> {
    let extra = ids.len().saturating_sub(keep.max(1));
    for id in &ids[..extra] {
        cluster
            .delete(&secrets(), Some(namespace), &secret_name(app, *id))
            .await?;
    }
    Ok(extra)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_survives_its_secret() {
        let r = Record {
            id: 7,
            status: "pending".to_owned(),
            objects: vec![json!({"kind": "ConfigMap"})],
            previous: vec![],
            created: vec![json!({"kind": "ConfigMap", "name": "a"})],
            about: json!({"run": "o/r run 1/1"}),
        };
        let s = r.to_secret("web", "shop");
        assert_eq!(s["metadata"]["name"], json!("ops-actions.release.web.v7"));
        assert_eq!(Record::from_secret(&s), Some(r));
    }

    #[test]
    fn trimming_leaves_what_can_be_applied() {
        let live = json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "uid": "u", "resourceVersion": "9", "generation": 3, "managedFields": [],
                         "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "spec": {"replicas": 2}, "status": {"replicas": 2}});
        assert_eq!(
            trim(&live),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "spec": {"replicas": 2}})
        );
    }
}
