//! One deploy at a time per app and namespace: a `coordination.k8s.io/v1` Lease, renewed while the
//! deploy runs, deleted on every way out (SIGTERM included), and taken over once it expires, naming
//! the run that held it.
//!
//! Expiry is judged as client-go's leader election judges it, by our own clock: a Lease whose
//! `renewTime` has not moved for `leaseDurationSeconds` since we first saw it has expired, whatever
//! the two clocks say. A `renewTime` that is long past by our clock (more than the duration plus a
//! minute of skew) has expired at once.

use std::time::{Duration, Instant};

use kube::core::ApiResource;
use ops_core::Runner;
use serde_json::{Value, json};

use super::cluster::{Cluster, KubeError, builtin};
use crate::duration::human;
use crate::flow::{Cancel, Limit};

fn leases() -> ApiResource {
    builtin("coordination.k8s.io", "v1", "Lease", "leases")
}

fn micro_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S.%6fZ")
        .to_string()
}

/// A held lock.
pub struct Lock {
    name: String,
    namespace: String,
    holder: String,
    renew: tokio::task::JoinHandle<()>,
    lost: tokio::sync::watch::Receiver<Option<String>>,
}

/// Why the lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another run holds it (the message names it and the limit).
    Held(String),
    /// The API failed.
    Api(KubeError),
    /// Cancelled while waiting.
    Cancelled(&'static str),
}

fn holder_of(lease: &Value) -> String {
    lease
        .pointer("/spec/holderIdentity")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

fn describe_holder(lease: &Value) -> String {
    let id = holder_of(lease);
    // `<run description> #<token>`: the token only tells two processes of one run apart.
    id.rsplit_once(" #").map_or(id.clone(), |(who, _)| who.to_owned())
}

/// Takes the Lease `ops-actions-<app>` in `namespace`, waiting up to `timeout` for another run's.
#[allow(clippy::too_many_arguments)]
pub async fn acquire(
    cluster: &Cluster,
    runner: &Runner,
    cancel: &Cancel,
    namespace: &str,
    app: &str,
    who: &str,
    duration: Duration,
    timeout: Limit,
    fresh: tokio::sync::watch::Receiver<kube::Client>,
) -> Result<Lock, LockError> {
    let name = format!("ops-actions-{app}");
    let holder = format!(
        "{who} #{}",
        ops_core::runner::random_token().get(..8).unwrap_or("0")
    );
    let ar = leases();
    let started = Instant::now();
    let mut seen: Option<(String, Instant)> = None;
    let mut last_note: Option<Instant> = None;
    let secs = duration.as_secs().max(1);
    loop {
        let now = micro_now();
        let current = cluster
            .get(&ar, Some(namespace), &name)
            .await
            .map_err(LockError::Api)?;
        let mine = |l: &Value| holder_of(l) == holder;
        match current {
            None => {
                let lease = json!({
                    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                    "metadata": {"name": name, "namespace": namespace,
                                 "labels": {"app.kubernetes.io/managed-by": "ops-actions"}},
                    "spec": {"holderIdentity": holder, "leaseDurationSeconds": secs,
                             "acquireTime": now, "renewTime": now, "leaseTransitions": 0}
                });
                match cluster.create_once(&ar, namespace, &lease, mine).await {
                    Ok(l) => {
                        return Ok(start(
                            runner,
                            namespace,
                            &name,
                            holder,
                            duration,
                            l,
                            fresh.clone(),
                        ));
                    }
                    Err(KubeError::Status { code: 409, .. }) => continue,
                    Err(e) => return Err(LockError::Api(e)),
                }
            }
            Some(lease) => {
                let renew = lease["spec"]["renewTime"].as_str().unwrap_or("").to_owned();
                let their_secs = lease["spec"]["leaseDurationSeconds"].as_u64().unwrap_or(secs);
                let same = seen.as_ref().is_some_and(|(r, _)| *r == renew);
                if !same {
                    seen = Some((renew.clone(), Instant::now()));
                }
                let quiet = seen.as_ref().map_or(Duration::ZERO, |(_, at)| at.elapsed());
                let age = renew
                    .parse::<jiff::Timestamp>()
                    .ok()
                    .map(|t| jiff::Timestamp::now().as_second() - t.as_second());
                let free = holder_of(&lease).is_empty();
                let expired = quiet >= Duration::from_secs(their_secs)
                    || age.is_some_and(|a| a > their_secs as i64 + 60);
                if free || expired {
                    if expired && !free {
                        runner.warning(&format!(
                            "taking over the deploy lock (Lease `{namespace}/{name}`) of {}: not renewed for {} \
                             (its duration is {their_secs}s)",
                            describe_holder(&lease),
                            human(quiet.max(Duration::from_secs(age.unwrap_or(0).max(0) as u64)))
                        ));
                    }
                    let mut next = lease.clone();
                    next["spec"]["holderIdentity"] = json!(holder);
                    next["spec"]["leaseDurationSeconds"] = json!(secs);
                    next["spec"]["acquireTime"] = json!(now);
                    next["spec"]["renewTime"] = json!(now);
                    next["spec"]["leaseTransitions"] =
                        json!(lease["spec"]["leaseTransitions"].as_i64().unwrap_or(0) + 1);
                    match cluster.replace(&ar, namespace, &next).await {
                        Ok(l) => {
                            return Ok(start(
                                runner,
                                namespace,
                                &name,
                                holder,
                                duration,
                                l,
                                fresh.clone(),
                            ));
                        }
                        Err(KubeError::Status { code: 409, .. }) => continue,
                        Err(e) => return Err(LockError::Api(e)),
                    }
                }
                let waited = started.elapsed();
                if waited >= timeout.value {
                    return Err(LockError::Held(format!(
                        "another deploy holds the lock (Lease `{namespace}/{name}`): {}; {}",
                        describe_holder(&lease),
                        timeout.ran_out("waiting for it")
                    )));
                }
                if last_note.is_none_or(|t| t.elapsed() >= Duration::from_secs(15)) {
                    runner.info(&format!(
                        "waiting for the deploy lock (Lease `{namespace}/{name}`) held by {} ({} of `{}` {})",
                        describe_holder(&lease),
                        human(waited),
                        timeout.input,
                        human(timeout.value)
                    ));
                    last_note = Some(Instant::now());
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            sig = cancel.cancelled() => return Err(LockError::Cancelled(sig)),
        }
    }
}

fn start(
    runner: &Runner,
    namespace: &str,
    name: &str,
    holder: String,
    duration: Duration,
    lease: Value,
    client_rx: tokio::sync::watch::Receiver<kube::Client>,
) -> Lock {
    runner.info(&format!(
        "took the deploy lock (Lease `{namespace}/{name}`), renewed every {}",
        human(duration / 3)
    ));
    let (lost_tx, lost_rx) = tokio::sync::watch::channel(None);
    let ns = namespace.to_owned();
    let n = name.to_owned();
    let h = holder.clone();
    let renew = tokio::spawn(async move {
        let ar = leases();
        let mut lease = lease;
        loop {
            tokio::time::sleep(duration / 3).await;
            let cluster = Cluster {
                client: client_rx.borrow().clone(),
            };
            let mut next = lease.clone();
            next["spec"]["renewTime"] = json!(micro_now());
            match cluster.replace(&ar, &ns, &next).await {
                Ok(l) => lease = l,
                Err(KubeError::Status { code: 409, .. }) => match cluster.get(&ar, Some(&ns), &n).await {
                    Ok(Some(l)) if holder_of(&l) == h => lease = l,
                    Ok(other) => {
                        let who = other
                            .as_ref()
                            .map_or_else(|| "nobody (it was deleted)".to_owned(), describe_holder);
                        let _ = lost_tx.send(Some(format!("the deploy lock was taken over by {who}")));
                        return;
                    }
                    Err(_) => {}
                },
                // A renewal that gets no answer is tried again at the next turn.
                Err(_) => {}
            }
        }
    });
    Lock {
        name: name.to_owned(),
        namespace: namespace.to_owned(),
        holder,
        renew,
        lost: lost_rx,
    }
}

impl Lock {
    /// Set when another run took the lock away.
    pub fn lost(&self) -> Option<String> {
        self.lost.borrow().clone()
    }

    /// Stops renewing and deletes the Lease if it is still ours.
    pub async fn release(self, cluster: &Cluster, runner: &Runner) {
        self.renew.abort();
        let ar = leases();
        match cluster.get(&ar, Some(&self.namespace), &self.name).await {
            Ok(Some(l)) if holder_of(&l) == self.holder => {
                match cluster.delete(&ar, Some(&self.namespace), &self.name).await {
                    Ok(()) => runner.info(&format!("released the deploy lock (Lease `{}/{}`)", self.namespace, self.name)),
                    Err(e) => runner.warning(&format!(
                        "could not release the deploy lock (Lease `{}/{}`): {e}; the next deploy takes it over once it expires",
                        self.namespace, self.name
                    )),
                }
            }
            Ok(_) => {}
            Err(e) => runner.warning(&format!(
                "could not read the deploy lock (Lease `{}/{}`) to release it: {e}; the next deploy takes it over once it \
                 expires",
                self.namespace, self.name
            )),
        }
    }
}

impl std::fmt::Debug for Lock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.name)
            .field("namespace", &self.namespace)
            .field("holder", &self.holder)
            .finish_non_exhaustive()
    }
}
