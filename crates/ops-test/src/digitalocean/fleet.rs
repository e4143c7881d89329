//! Droplets and Load Balancers in the DigitalOcean stand-in: what a fleet deploy reads (the Droplets
//! with a tag, a balancer's health check) and changes (a balancer's Droplets).
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use ops_test::digitalocean::{DoSim, HealthCheck, NewDroplet, NewLoadBalancer};
//!
//! let dosim = DoSim::start();
//! let ids: Vec<u64> = (1..=3)
//!     .map(|i| {
//!         dosim.with(|s| {
//!             s.add_droplet(NewDroplet::new(&format!("web-{i}")).tag("web-prod").public(Ipv4Addr::new(10, 250, 7, 10 + i)))
//!         })
//!     })
//!     .collect();
//! let lb = dosim.with(|s| {
//!     s.add_load_balancer(NewLoadBalancer::droplets("web-lb", &ids).health_check(HealthCheck {
//!         check_interval_seconds: 3,
//!         ..HealthCheck::default()
//!     }))
//! });
//! dosim
//!     .with(|s| s.on_load_balancer_change(&lb, |ids| { println!("now {ids:?}"); Ok(()) }))
//!     .unwrap();
//! ```
//!
//! A balancer targets Droplet IDs or a tag, never both; adding or removing Droplets of a tag balancer
//! is refused with 422, as DigitalOcean does. The API shows no per-Droplet health, and neither does
//! the stand-in: a test that needs traffic to really move registers a callback
//! ([`DoState::on_load_balancer_change`]) that reconfigures a real proxy.

use std::fmt;
use std::net::Ipv4Addr;

use super::DoState;

/// Which IPv4 network of a Droplet an address is on (`networks.v4[].type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkType {
    /// `public`
    Public,
    /// `private` (the VPC)
    Private,
}

impl NetworkType {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Private => "private",
        }
    }
}

/// A Droplet's `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DropletStatus {
    /// `new`: being created.
    New,
    /// `active`
    #[default]
    Active,
    /// `off`: powered off.
    Off,
    /// `archive`
    Archive,
}

impl DropletStatus {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Active => "active",
            Self::Off => "off",
            Self::Archive => "archive",
        }
    }
}

/// A Droplet to add with [`DoState::add_droplet`].
#[derive(Debug, Clone, Default)]
pub struct NewDroplet {
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its public IPv4 address (`networks.v4[]` with `type: public`).
    pub public_ipv4: Option<Ipv4Addr>,
    /// Its private IPv4 address (`type: private`).
    pub private_ipv4: Option<Ipv4Addr>,
    /// Its status (default `active`).
    pub status: DropletStatus,
}

impl NewDroplet {
    /// An active Droplet named `name`, without tags or addresses.
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            ..Self::default()
        }
    }

    /// With one more tag.
    #[must_use]
    pub fn tag(mut self, tag: &str) -> Self {
        self.tags.push(tag.to_owned());
        self
    }

    /// With this public IPv4 address.
    #[must_use]
    pub fn public(mut self, ip: Ipv4Addr) -> Self {
        self.public_ipv4 = Some(ip);
        self
    }

    /// With this private IPv4 address.
    #[must_use]
    pub fn private(mut self, ip: Ipv4Addr) -> Self {
        self.private_ipv4 = Some(ip);
        self
    }

    /// With this status.
    #[must_use]
    pub fn status(mut self, status: DropletStatus) -> Self {
        self.status = status;
        self
    }
}

/// A Droplet the stand-in holds (read it with [`DoState::droplet`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Droplet {
    /// Its ID.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Its public IPv4 address.
    pub public_ipv4: Option<Ipv4Addr>,
    /// Its private IPv4 address.
    pub private_ipv4: Option<Ipv4Addr>,
    /// Its status.
    pub status: DropletStatus,
    /// When it was created (Unix seconds, virtual time).
    pub created_at: i64,
}

impl Droplet {
    /// Its address on the network of `kind`.
    #[must_use]
    pub fn ipv4(&self, kind: NetworkType) -> Option<Ipv4Addr> {
        match kind {
            NetworkType::Public => self.public_ipv4,
            NetworkType::Private => self.private_ipv4,
        }
    }
}

/// `health_check.protocol` of a Load Balancer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HealthProtocol {
    /// `http` (the default)
    #[default]
    Http,
    /// `https`
    Https,
    /// `tcp`
    Tcp,
}

impl HealthProtocol {
    /// The API's spelling.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
            Self::Tcp => "tcp",
        }
    }
}

/// A Load Balancer's `health_check`; the default is DigitalOcean's (http on port 80 at `/`, every
/// 10 s, 5 s timeout, 3 successes to be healthy, 5 failures to be unhealthy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    /// `protocol`
    pub protocol: HealthProtocol,
    /// `port`
    pub port: u16,
    /// `path`
    pub path: String,
    /// `check_interval_seconds`
    pub check_interval_seconds: u32,
    /// `response_timeout_seconds`
    pub response_timeout_seconds: u32,
    /// `healthy_threshold`
    pub healthy_threshold: u32,
    /// `unhealthy_threshold`
    pub unhealthy_threshold: u32,
}

impl Default for HealthCheck {
    fn default() -> Self {
        Self {
            protocol: HealthProtocol::Http,
            port: 80,
            path: "/".to_owned(),
            check_interval_seconds: 10,
            response_timeout_seconds: 5,
            healthy_threshold: 3,
            unhealthy_threshold: 5,
        }
    }
}

/// What a Load Balancer sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LbTarget {
    /// These Droplets (`droplet_ids`); the API adds and removes them.
    Droplets(Vec<u64>),
    /// Every Droplet with this tag (`tag`); the API refuses to add or remove single Droplets.
    Tag(String),
}

/// A Load Balancer to add with [`DoState::add_load_balancer`].
#[derive(Debug, Clone)]
pub struct NewLoadBalancer {
    /// Its name.
    pub name: String,
    /// Droplet IDs or a tag.
    pub target: LbTarget,
    /// Its health check.
    pub health_check: HealthCheck,
    /// Its public address (default: one from 192.0.2.0/24, a documentation range).
    pub ip: Option<Ipv4Addr>,
}

impl NewLoadBalancer {
    /// A balancer named `name` in front of these Droplets.
    #[must_use]
    pub fn droplets(name: &str, ids: &[u64]) -> Self {
        Self {
            name: name.to_owned(),
            target: LbTarget::Droplets(ids.to_vec()),
            health_check: HealthCheck::default(),
            ip: None,
        }
    }

    /// A balancer named `name` in front of every Droplet tagged `tag`.
    #[must_use]
    pub fn tag(name: &str, tag: &str) -> Self {
        Self {
            name: name.to_owned(),
            target: LbTarget::Tag(tag.to_owned()),
            health_check: HealthCheck::default(),
            ip: None,
        }
    }

    /// With this health check.
    #[must_use]
    pub fn health_check(mut self, check: HealthCheck) -> Self {
        self.health_check = check;
        self
    }

    /// With this public address.
    #[must_use]
    pub fn ip(mut self, ip: Ipv4Addr) -> Self {
        self.ip = Some(ip);
        self
    }
}

#[derive(Debug, Clone)]
pub(crate) struct LoadBalancer {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) target: LbTarget,
    pub(crate) health_check: HealthCheck,
    pub(crate) ip: Ipv4Addr,
    pub(crate) created_at: i64,
}

/// A callback told the Droplet IDs of a balancer whenever they change.
pub(crate) type OnChange = Box<dyn FnMut(&[u64]) -> Result<(), String> + Send>;

/// A registered callback and the list it was last told.
pub(crate) struct Watcher {
    pub(crate) on_change: OnChange,
    pub(crate) told: Vec<u64>,
}

impl fmt::Debug for Watcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Watcher")
            .field("told", &self.told)
            .finish_non_exhaustive()
    }
}

/// The first Droplet ID the stand-in hands out (real IDs are large integers too).
const FIRST_DROPLET_ID: u64 = 500_000_001;

impl DoState {
    /// Adds a Droplet and returns its ID. A tag balancer whose tag it carries now sends to it too
    /// (and its callback is told).
    ///
    /// # Panics
    /// When a balancer's callback fails (see [`DoState::on_load_balancer_change`]).
    pub fn add_droplet(&mut self, new: NewDroplet) -> u64 {
        let id = FIRST_DROPLET_ID + self.droplets_made;
        self.droplets_made += 1;
        let now = self.now();
        self.droplets.push(Droplet {
            id,
            name: new.name,
            tags: new.tags,
            public_ipv4: new.public_ipv4,
            private_ipv4: new.private_ipv4,
            status: new.status,
            created_at: now,
        });
        self.tell_watchers_or_panic();
        id
    }

    /// Deletes a Droplet (and takes it out of every balancer); whether it existed.
    ///
    /// # Panics
    /// When a balancer's callback fails.
    pub fn remove_droplet(&mut self, id: u64) -> bool {
        let before = self.droplets.len();
        self.droplets.retain(|d| d.id != id);
        let removed = self.droplets.len() < before;
        if removed {
            for lb in &mut self.load_balancers {
                if let LbTarget::Droplets(ids) = &mut lb.target {
                    ids.retain(|d| *d != id);
                }
            }
            self.tell_watchers_or_panic();
        }
        removed
    }

    /// A Droplet by ID.
    #[must_use]
    pub fn droplet(&self, id: u64) -> Option<&Droplet> {
        self.droplets.iter().find(|d| d.id == id)
    }

    /// Every Droplet, in ID order.
    #[must_use]
    pub fn droplets(&self) -> &[Droplet] {
        &self.droplets
    }

    /// The IDs of the Droplets tagged `tag`, in ID order.
    #[must_use]
    pub fn droplets_tagged(&self, tag: &str) -> Vec<u64> {
        self.droplets
            .iter()
            .filter(|d| d.tags.iter().any(|t| t == tag))
            .map(|d| d.id)
            .collect()
    }

    /// Adds a Load Balancer and returns its ID (a UUID).
    pub fn add_load_balancer(&mut self, new: NewLoadBalancer) -> String {
        let id = self.uuid(0x1b);
        let now = self.now();
        let n = u8::try_from(self.load_balancers.len() % 200).unwrap_or(0);
        self.load_balancers.push(LoadBalancer {
            id: id.clone(),
            name: new.name,
            target: new.target,
            health_check: new.health_check,
            ip: new.ip.unwrap_or(Ipv4Addr::new(192, 0, 2, 10 + n)),
            created_at: now,
        });
        id
    }

    pub(crate) fn load_balancer(&self, id: &str) -> Option<&LoadBalancer> {
        self.load_balancers.iter().find(|l| l.id == id)
    }

    /// What a balancer targets: its Droplet IDs, or its tag.
    #[must_use]
    pub fn load_balancer_target(&self, id: &str) -> Option<LbTarget> {
        self.load_balancer(id).map(|l| l.target.clone())
    }

    /// The Droplets a balancer sends to: its `droplet_ids`, or the Droplets with its tag.
    #[must_use]
    pub fn load_balancer_droplets(&self, id: &str) -> Option<Vec<u64>> {
        self.load_balancer(id).map(|l| self.members(l))
    }

    /// A balancer's health check.
    #[must_use]
    pub fn health_check(&self, id: &str) -> Option<HealthCheck> {
        self.load_balancer(id).map(|l| l.health_check.clone())
    }

    /// Changes a balancer's health check (what `GET` shows from now on); whether it exists.
    pub fn set_health_check(&mut self, id: &str, check: HealthCheck) -> bool {
        match self.load_balancers.iter_mut().find(|l| l.id == id) {
            Some(lb) => {
                lb.health_check = check;
                true
            }
            None => false,
        }
    }

    /// Calls `on_change` with the balancer's Droplet IDs now, and again whenever they change (through
    /// the API, or as Droplets with its tag come and go), so a test can point a real proxy at them.
    /// One callback per balancer; a second replaces the first.
    ///
    /// The callback runs with the stand-in's state locked, inside the request that made the change,
    /// so the change has taken effect when the client gets its answer. When it fails, an API request
    /// gets a 500 with its message and changes nothing.
    ///
    /// # Errors
    /// When there is no such balancer, or the first call fails (the callback is not kept then).
    pub fn on_load_balancer_change(
        &mut self,
        id: &str,
        mut on_change: impl FnMut(&[u64]) -> Result<(), String> + Send + 'static,
    ) -> Result<(), String> {
        let members = self
            .load_balancer_droplets(id)
            .ok_or_else(|| format!("no load balancer `{id}`"))?;
        on_change(&members)?;
        self.watchers.insert(
            id.to_owned(),
            Watcher {
                on_change: Box::new(on_change),
                told: members,
            },
        );
        Ok(())
    }

    /// The Droplets `lb` sends to.
    pub(crate) fn members(&self, lb: &LoadBalancer) -> Vec<u64> {
        match &lb.target {
            LbTarget::Droplets(ids) => ids.clone(),
            LbTarget::Tag(tag) => self.droplets_tagged(tag),
        }
    }

    /// Tells a balancer's callback its new Droplets, if they changed.
    pub(crate) fn tell_watcher(&mut self, id: &str, members: &[u64]) -> Result<(), String> {
        let Some(w) = self.watchers.get_mut(id) else {
            return Ok(());
        };
        if w.told != members {
            (w.on_change)(members)?;
            w.told = members.to_vec();
        }
        Ok(())
    }

    fn tell_watchers_or_panic(&mut self) {
        let changes: Vec<(String, Vec<u64>)> = self
            .load_balancers
            .iter()
            .filter(|l| self.watchers.contains_key(&l.id))
            .map(|l| (l.id.clone(), self.members(l)))
            .collect();
        for (id, members) in changes {
            if let Err(e) = self.tell_watcher(&id, &members) {
                panic!("the callback of load balancer `{id}` failed: {e}");
            }
        }
    }

    /// Makes `token` lack `scopes` (a custom-scoped token without them): a request that needs one of
    /// them gets DigitalOcean's 403 `forbidden`. Which scopes an operation needs comes from the
    /// description (`security`, and "Requires `tag:read` scope" on a query parameter in use).
    pub fn withhold_scopes(&mut self, token: &str, scopes: &[&str]) {
        self.withheld
            .entry(token.to_owned())
            .or_default()
            .extend(scopes.iter().map(|s| (*s).to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn tag_balancers_follow_their_tag_and_tell_the_callback() {
        let mut s = DoState::default();
        let a = s.add_droplet(NewDroplet::new("a").tag("web"));
        let lb = s.add_load_balancer(NewLoadBalancer::tag("lb", "web"));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        s.on_load_balancer_change(&lb, move |ids| {
            sink.lock().unwrap().push(ids.to_vec());
            Ok(())
        })
        .unwrap();
        let b = s.add_droplet(NewDroplet::new("b").tag("web"));
        s.add_droplet(NewDroplet::new("c").tag("db"));
        assert!(s.remove_droplet(a));
        assert_eq!(*seen.lock().unwrap(), vec![vec![a], vec![a, b], vec![b]]);
        assert_ne!(a, b);
        assert!(s.on_load_balancer_change("nope", |_| Ok(())).is_err());
    }

    #[test]
    fn removed_droplets_leave_id_balancers_and_ids_are_never_reused() {
        let mut s = DoState::default();
        let a = s.add_droplet(NewDroplet::new("a"));
        let b = s.add_droplet(NewDroplet::new("b"));
        let lb = s.add_load_balancer(NewLoadBalancer::droplets("lb", &[a, b]));
        s.remove_droplet(a);
        assert_eq!(s.load_balancer_droplets(&lb), Some(vec![b]));
        let c = s.add_droplet(NewDroplet::new("c"));
        assert!(c != a && c != b, "{a} {b} {c}");
    }
}
