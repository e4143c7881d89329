//! DigitalOcean Kubernetes (DOKS) clusters in the DigitalOcean stand-in: what a deploy to a cluster
//! reads (the clusters, to find one by name; one cluster) and the short-lived credentials it builds
//! its Kubernetes client from.
//!
//! ```no_run
//! use std::sync::{Arc, Mutex};
//! use ops_test::digitalocean::{DoSim, NewKubernetesCluster};
//! use ops_test::kubernetes::KubeSim;
//!
//! let kube = Arc::new(KubeSim::start());
//! let dosim = DoSim::start();
//! let cluster = dosim.with(|s| s.add_kubernetes_cluster(NewKubernetesCluster::new("prod", &kube.url())));
//! // The Kubernetes stand-in takes exactly the tokens DigitalOcean has handed out so far.
//! let tokens = Arc::new(Mutex::new(Vec::<String>::new()));
//! let kube_side = Arc::clone(&kube);
//! dosim.with(|s| {
//!     s.on_kubernetes_credentials(move |issued| {
//!         let mut all = tokens.lock().unwrap();
//!         all.push(issued.token.clone());
//!         let all: Vec<&str> = all.iter().map(String::as_str).collect();
//!         kube_side.with(|k| k.accept_tokens(&all));
//!     })
//! });
//! dosim.with(|s| s.cap_credential_lifetime(Some(90))); // every credential now has 90 s at most
//! // point the tool at dosim.url(), run it, then read dosim.with(|s| s.issued_credentials().to_vec())
//! # let _ = cluster;
//! ```
//!
//! `GET /v2/kubernetes/clusters/{id}/credentials?expiry_seconds=N` issues a new token on every call
//! (`doks-` and 32 hex digits), valid for N seconds of the stand-in's clock, or 7 days when N is 0 or
//! absent, as DigitalOcean documents; a cap ([`DoState::cap_credential_lifetime`]) shortens every
//! credential issued while it is set, which is how a test hands a client a credential about to
//! expire. `expires_at` is in the stand-in's virtual time: a client that compares it with its own
//! clock needs the two aligned ([`DoState::jump_to`], or `SOURCE_DATE_EPOCH` set to
//! [`DoState::now`]). The answer has `server` (the URL the test gave, typically a Kubernetes
//! stand-in's `http://127.0.0.1:PORT`), `certificate_authority_data` (base64 of a PEM CA: the
//! test's, or [`PLACEHOLDER_CA_PEM`]), and `client_certificate_data` / `client_key_data` null, as
//! for every cluster created since token authentication came.
//!
//! Scopes come from the description, like everywhere in this stand-in: listing and reading clusters
//! need `kubernetes:read`, credentials `kubernetes:access_cluster`.

use std::fmt;

use super::DoState;
use crate::sim::rfc3339;

/// What DigitalOcean hands out when `expiry_seconds` is 0 or absent: 7 days.
pub const DEFAULT_CREDENTIAL_SECONDS: u64 = 7 * 24 * 3_600;

/// The CA a cluster hands out unless a test gives its own: a real, parseable self-signed CA
/// certificate (P-256, valid 2025–2125) whose key was thrown away. Nothing can be verified against
/// it; it is there so that a client that loads the CA before it connects (as TLS clients do even for
/// an `http://` server) finds a certificate.
pub const PLACEHOLDER_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIBzDCCAXOgAwIBAgIBATAKBggqhkjOPQQDAjBNMREwDwYDVQQKDAhvcHMtdGVz
dDE4MDYGA1UEAwwvRGlnaXRhbE9jZWFuIEt1YmVybmV0ZXMgc3RhbmQtaW4gcGxh
Y2Vob2xkZXIgQ0EwIBcNMjUwMTAxMDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaME0x
ETAPBgNVBAoMCG9wcy10ZXN0MTgwNgYDVQQDDC9EaWdpdGFsT2NlYW4gS3ViZXJu
ZXRlcyBzdGFuZC1pbiBwbGFjZWhvbGRlciBDQTBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABNkaUxt457O33mU1T/PO/UOtvnvRATG7bSRKu2HdejXp9A7o+X6kWOoG
3c0bIo+H3mCqLr8xyZno8lZ+alBK4y6jQjBAMA8GA1UdEwEB/wQFMAMBAf8wDgYD
VR0PAQH/BAQDAgEGMB0GA1UdDgQWBBSgz+oU+3pQZT/5Beb1fZrmS9fSgDAKBggq
hkjOPQQDAgNHADBEAiBT2612nLyGb6Cu6YYcsoSTIERviZhmMt9pT/lX1XPY1AIg
GkoLVCCBibyFqm86HYu6d84QILnQNlreOd95WcSBboU=
-----END CERTIFICATE-----
";

/// The last instant RFC 3339 can write with four digits of year (9999-12-31T23:59:59Z): no
/// credential outlives it, however many seconds are asked for.
const LAST_WRITABLE: i64 = 253_402_300_799;

/// A cluster's `status.state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClusterState {
    /// `running`
    #[default]
    Running,
    /// `provisioning`
    Provisioning,
    /// `degraded`
    Degraded,
    /// `error`
    Error,
    /// `upgrading`
    Upgrading,
    /// `deleting`
    Deleting,
    /// `deleted`
    Deleted,
}

impl ClusterState {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Provisioning => "provisioning",
            Self::Degraded => "degraded",
            Self::Error => "error",
            Self::Upgrading => "upgrading",
            Self::Deleting => "deleting",
            Self::Deleted => "deleted",
        }
    }
}

/// A cluster to add with [`DoState::add_kubernetes_cluster`].
#[derive(Debug, Clone)]
pub struct NewKubernetesCluster {
    /// Its name.
    pub name: String,
    /// The URL of its API server (`endpoint`, and `server` in its credentials).
    pub server: String,
    /// Its region slug (default `nyc1`).
    pub region: String,
    /// Its version slug (default `1.32.2-do.0`).
    pub version: String,
    /// The PEM of its CA (default [`PLACEHOLDER_CA_PEM`]).
    pub certificate_authority_pem: String,
    /// Its state (default running).
    pub state: ClusterState,
    /// Nodes in its one node pool (default 3).
    pub nodes: u32,
}

impl NewKubernetesCluster {
    /// A running cluster named `name` whose API server is at `server`, e.g. a Kubernetes stand-in's
    /// `http://127.0.0.1:PORT`.
    #[must_use]
    pub fn new(name: &str, server: &str) -> Self {
        Self {
            name: name.to_owned(),
            server: server.trim_end_matches('/').to_owned(),
            region: "nyc1".to_owned(),
            version: "1.32.2-do.0".to_owned(),
            certificate_authority_pem: PLACEHOLDER_CA_PEM.to_owned(),
            state: ClusterState::Running,
            nodes: 3,
        }
    }

    /// In this region.
    #[must_use]
    pub fn region(mut self, region: &str) -> Self {
        self.region = region.to_owned();
        self
    }

    /// At this version slug.
    #[must_use]
    pub fn version(mut self, version: &str) -> Self {
        self.version = version.to_owned();
        self
    }

    /// With this CA (PEM); its credentials carry it base64-encoded.
    #[must_use]
    pub fn certificate_authority(mut self, pem: &str) -> Self {
        self.certificate_authority_pem = pem.to_owned();
        self
    }

    /// In this state.
    #[must_use]
    pub fn state(mut self, state: ClusterState) -> Self {
        self.state = state;
        self
    }

    /// With this many nodes in its node pool.
    #[must_use]
    pub fn nodes(mut self, nodes: u32) -> Self {
        self.nodes = nodes;
        self
    }
}

/// A cluster the stand-in holds (read it with [`DoState::kubernetes_cluster`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubernetesCluster {
    /// Its ID (a UUID).
    pub id: String,
    /// Its name.
    pub name: String,
    /// The URL of its API server.
    pub server: String,
    /// Its region slug.
    pub region: String,
    /// Its version slug.
    pub version: String,
    /// The PEM of its CA.
    pub certificate_authority_pem: String,
    /// Its state.
    pub state: ClusterState,
    /// When it was created (Unix seconds, virtual time).
    pub created_at: i64,
    pub(crate) vpc_uuid: String,
    pub(crate) pool_id: String,
    /// `(id, droplet_id)` of each node.
    pub(crate) nodes: Vec<(String, u64)>,
}

/// One credential the stand-in issued (read them with [`DoState::issued_credentials`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedCredentials {
    /// The cluster it is for.
    pub cluster_id: String,
    /// `expiry_seconds` as the request gave it (`None` when absent).
    pub expiry_seconds: Option<u64>,
    /// The bearer token for the cluster's API server.
    pub token: String,
    /// When it was issued (Unix seconds, virtual time).
    pub issued_at: i64,
    /// When it expires (Unix seconds, virtual time): `expires_at` of the answer.
    pub expires_at: i64,
}

impl IssuedCredentials {
    /// Seconds it is valid for.
    #[must_use]
    pub fn lifetime(&self) -> i64 {
        self.expires_at - self.issued_at
    }

    /// `expires_at` as the answer writes it (RFC 3339, UTC).
    #[must_use]
    pub fn expires_at_rfc3339(&self) -> String {
        rfc3339(self.expires_at)
    }
}

/// A callback told of every credential issued.
pub(crate) struct CredentialHook(pub(crate) Box<dyn FnMut(&IssuedCredentials) + Send>);

impl fmt::Debug for CredentialHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CredentialHook")
    }
}

/// The first Droplet ID of a node (apart from the Droplets a test adds).
const FIRST_NODE_DROPLET_ID: u64 = 700_000_001;

impl DoState {
    /// Adds a cluster and returns its ID (a UUID).
    pub fn add_kubernetes_cluster(&mut self, new: NewKubernetesCluster) -> String {
        let id = self.uuid(0xc1);
        let vpc_uuid = self.uuid(0xc4);
        let pool_id = self.uuid(0xc2);
        let nodes = (0..new.nodes)
            .map(|_| {
                let droplet = FIRST_NODE_DROPLET_ID + self.node_droplets_made;
                self.node_droplets_made += 1;
                (self.uuid(0xc3), droplet)
            })
            .collect();
        let created_at = self.now();
        self.kubernetes_clusters.push(KubernetesCluster {
            id: id.clone(),
            name: new.name,
            server: new.server,
            region: new.region,
            version: new.version,
            certificate_authority_pem: new.certificate_authority_pem,
            state: new.state,
            created_at,
            vpc_uuid,
            pool_id,
            nodes,
        });
        id
    }

    /// A cluster by ID.
    #[must_use]
    pub fn kubernetes_cluster(&self, id: &str) -> Option<&KubernetesCluster> {
        self.kubernetes_clusters.iter().find(|c| c.id == id)
    }

    /// Every cluster, oldest first.
    #[must_use]
    pub fn kubernetes_clusters(&self) -> &[KubernetesCluster] {
        &self.kubernetes_clusters
    }

    /// Points a cluster at another API server (credentials issued from now on carry it); whether
    /// the cluster exists.
    pub fn set_kubernetes_server(&mut self, id: &str, server: &str) -> bool {
        self.cluster_mut(id)
            .map(|c| c.server = server.trim_end_matches('/').to_owned())
            .is_some()
    }

    /// Changes a cluster's state; whether it exists.
    pub fn set_kubernetes_state(&mut self, id: &str, state: ClusterState) -> bool {
        self.cluster_mut(id).map(|c| c.state = state).is_some()
    }

    /// Caps the lifetime of every credential issued from now on at `seconds` (`None` lifts the
    /// cap): a client that asks for 30 minutes gets `seconds`, as if the credential were about to
    /// expire. To cap only the first, lift the cap after it, e.g.
    /// `dosim.after("GET /v2/kubernetes/clusters/*/credentials", 1, |s| s.cap_credential_lifetime(None))`.
    pub fn cap_credential_lifetime(&mut self, seconds: Option<u64>) {
        self.credential_cap = seconds;
    }

    /// Every credential issued so far, oldest first.
    #[must_use]
    pub fn issued_credentials(&self) -> &[IssuedCredentials] {
        &self.issued
    }

    /// Calls `on_issue` with every credential issued from now on, e.g. to make a Kubernetes
    /// stand-in accept its token. One callback; a second replaces the first. It runs with the
    /// stand-in's state locked, inside the request, so it has run when the client gets the token.
    pub fn on_kubernetes_credentials(&mut self, on_issue: impl FnMut(&IssuedCredentials) + Send + 'static) {
        self.credential_hook = Some(CredentialHook(Box::new(on_issue)));
    }

    /// Issues a credential for an existing cluster: a fresh token, valid for `expiry_seconds` (7
    /// days when 0 or absent), at most the cap.
    pub(crate) fn issue_kubernetes_credentials(
        &mut self,
        cluster_id: &str,
        expiry_seconds: Option<u64>,
    ) -> IssuedCredentials {
        let asked = expiry_seconds
            .filter(|s| *s > 0)
            .unwrap_or(DEFAULT_CREDENTIAL_SECONDS);
        let seconds = self.credential_cap.map_or(asked, |cap| asked.min(cap));
        let issued_at = self.now();
        let expires_at = issued_at
            .saturating_add(i64::try_from(seconds).unwrap_or(i64::MAX))
            .min(LAST_WRITABLE);
        let issued = IssuedCredentials {
            cluster_id: cluster_id.to_owned(),
            expiry_seconds,
            token: self.fresh_token(),
            issued_at,
            expires_at,
        };
        self.issued.push(issued.clone());
        if let Some(hook) = &mut self.credential_hook {
            (hook.0)(&issued);
        }
        issued
    }

    /// `doks-` and 32 hex digits, random; should the system have no randomness to give, a counter
    /// still keeps tokens apart.
    fn fresh_token(&mut self) -> String {
        let mut bytes = [0_u8; 16];
        if getrandom::fill(&mut bytes).is_err() {
            let n = u64::try_from(self.issued.len()).unwrap_or(u64::MAX);
            bytes[8..].copy_from_slice(&n.to_be_bytes());
        }
        format!("doks-{}", hex::encode(bytes))
    }

    fn cluster_mut(&mut self, id: &str) -> Option<&mut KubernetesCluster> {
        self.kubernetes_clusters.iter_mut().find(|c| c.id == id)
    }
}

/// Standard base64 with padding, as `certificate_authority_data` is written.
pub(crate) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_the_standard_padded_one() {
        // RFC 4648's test vectors.
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded, "{plain:?}");
        }
        // What DigitalOcean's own example of `certificate_authority_data` starts with.
        assert!(base64(PLACEHOLDER_CA_PEM.as_bytes()).starts_with("LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"));
    }

    #[test]
    fn lifetimes_default_to_seven_days_and_obey_the_cap() {
        let mut s = DoState::default();
        let id = s.add_kubernetes_cluster(NewKubernetesCluster::new("c", "http://127.0.0.1:1/"));
        assert_eq!(s.kubernetes_cluster(&id).unwrap().server, "http://127.0.0.1:1");
        let lifetime = |s: &mut DoState, asked| s.issue_kubernetes_credentials(&id, asked).lifetime();
        assert_eq!(lifetime(&mut s, None), 604_800);
        assert_eq!(lifetime(&mut s, Some(0)), 604_800);
        assert_eq!(lifetime(&mut s, Some(1_800)), 1_800);
        s.cap_credential_lifetime(Some(90));
        assert_eq!(lifetime(&mut s, Some(1_800)), 90);
        assert_eq!(lifetime(&mut s, Some(30)), 30);
        assert_eq!(lifetime(&mut s, None), 90);
        s.cap_credential_lifetime(None);
        let far = s.issue_kubernetes_credentials(&id, Some(u64::MAX));
        assert_eq!(far.expires_at_rfc3339(), "9999-12-31T23:59:59Z");
        let tokens: std::collections::HashSet<&str> =
            s.issued_credentials().iter().map(|c| c.token.as_str()).collect();
        assert_eq!(tokens.len(), 7, "a fresh token every time");
        assert!(tokens.iter().all(|t| t.len() == 37 && t.starts_with("doks-")));
    }
}
