//! A load balancer in front of a ground's droplets, for fleet deploys: nginx in a network namespace of
//! its own on the ground's bridge, at 10.250.X.10, port 80, proxying to port 80 of the droplets in its
//! upstream list. [`Balancer::set_backends`] rewrites that list and reloads nginx gracefully, and returns
//! once no worker of the old configuration is left, so from then on no request reaches a droplet that
//! was taken out. [`Balancer::follow`] makes it follow a Load Balancer of the DigitalOcean stand-in.
//!
//! nginx OSS has no active health checks: the balancer sends to exactly the droplets it is given, as a
//! DigitalOcean Load Balancer sends to the Droplets it holds once they pass their checks. A droplet that
//! refuses connections is skipped for the request (`proxy_next_upstream error timeout`, nginx's
//! default); a droplet's own 502 is passed through.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::{Child, Command};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::{GroundError, PREFIX, Tools, mkdirs, read, spawn, sys, wait_ready, write};
use crate::digitalocean::{DoSim, NetworkType, NewDroplet};

/// The balancer's host number on the bridge (droplets are .11 and up).
const HOST: u8 = 10;
/// The droplets' port it sends to, and its own.
const PORT: u16 = 80;
/// How long a reload may take before [`Balancer::set_backends`] gives up.
const RELOAD_WITHIN: Duration = Duration::from_secs(20);

/// The balancer's network namespace, `odg<slot>-lb`.
pub(super) fn netns_name(slot: u8) -> String {
    format!("{PREFIX}{slot}-lb")
}

/// Its veth on the bridge, `odg<slot>hlb`.
pub(super) fn veth_name(slot: u8) -> String {
    format!("{PREFIX}{slot}hlb")
}

/// The ground's load balancer; clones share it. Dropping the ground stops it: later calls fail.
#[derive(Debug, Clone)]
pub struct Balancer {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    slot: u8,
    ip: Ipv4Addr,
    netns: String,
    veth: String,
    dir: PathBuf,
    tools: &'static Tools,
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    nginx: Option<Child>,
    backends: Vec<Ipv4Addr>,
    generation: u64,
    /// Set once stopped: names are per slot, and a later ground may reuse them.
    stopped: bool,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn conf(&self) -> PathBuf {
        self.dir.join("nginx.conf")
    }

    fn error_log(&self) -> PathBuf {
        self.dir.join("error.log")
    }

    /// The whole nginx.conf for `backends` (an upstream with no server is invalid: an empty list
    /// points at a closed port, so the balancer answers 502).
    fn render(&self, backends: &[Ipv4Addr], generation: u64) -> String {
        let d = self.dir.display();
        let servers: String = if backends.is_empty() {
            "        # no droplets: nothing listens on port 1, so every request gets 502\n        server 127.0.0.1:1;\n"
                .to_owned()
        } else {
            backends
                .iter()
                .map(|ip| format!("        server {ip}:{PORT};\n"))
                .collect()
        };
        format!(
            "# generation {generation}\n\
             daemon off;\n\
             master_process on;\n\
             worker_processes 1;\n\
             # a reload's old worker ends within this, even with a slow request\n\
             worker_shutdown_timeout 5s;\n\
             user root;\n\
             pid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\n\
             events {{\n    worker_connections 512;\n}}\n\
             http {{\n\
             \x20   log_format balancer '$remote_addr [$time_local] \"$request\" $status backend=$upstream_addr';\n\
             \x20   access_log {d}/access.log balancer;\n\
             \x20   client_body_temp_path {d}/tmp/client_body;\n\
             \x20   proxy_temp_path {d}/tmp/proxy;\n\
             \x20   fastcgi_temp_path {d}/tmp/fastcgi;\n\
             \x20   uwsgi_temp_path {d}/tmp/uwsgi;\n\
             \x20   scgi_temp_path {d}/tmp/scgi;\n\
             \x20   upstream droplets {{\n{servers}    }}\n\
             \x20   server {{\n\
             \x20       listen {ip}:{PORT};\n\
             \x20       location / {{\n\
             \x20           proxy_pass http://droplets;\n\
             \x20           proxy_set_header Host $host;\n\
             \x20           proxy_connect_timeout 2s;\n\
             \x20           add_header X-Ops-Backend $upstream_addr always;\n\
             \x20       }}\n\
             \x20   }}\n\
             }}\n",
            ip = self.ip,
        )
    }

    /// nginx run in the balancer's namespace (`nginx -t` binds the listen address to check it).
    fn nginx_cmd(&self, action: &[&str]) -> Command {
        let mut cmd = Command::new(&self.tools.nsenter);
        cmd.arg(format!("--net=/run/netns/{}", self.netns))
            .arg("--")
            .arg(&self.tools.nginx)
            .args(action)
            .arg("-e")
            .arg(self.error_log())
            .arg("-c")
            .arg(self.conf());
        cmd
    }

    fn stop(&self) {
        let mut state = self.lock();
        if std::mem::replace(&mut state.stopped, true) {
            return;
        }
        if let Some(mut nginx) = state.nginx.take() {
            sys::stop(&mut nginx, Duration::from_secs(5));
        }
        // Workers whose master died first, or anything else left in the namespace.
        let inodes: Vec<u64> = sys::netns_inode(&self.netns).into_iter().collect();
        sys::kill_all(&sys::find_processes(&inodes, None, None));
        if std::path::Path::new("/run/netns").join(&self.netns).exists() {
            let _ = sys::run(Command::new(&self.tools.ip).args(["netns", "del", &self.netns]));
        }
        if super::link_exists(&self.veth) {
            let _ = sys::run(Command::new(&self.tools.ip).args(["link", "del", &self.veth]));
        }
        drop(state);
    }
}

impl Balancer {
    /// Starts the balancer on the ground's bridge, sending to `backends`.
    pub(super) fn start(
        slot: u8,
        ground_dir: &std::path::Path,
        tools: &'static Tools,
        bridge: &str,
        backends: &[Ipv4Addr],
    ) -> Result<Self, GroundError> {
        let inner = Inner {
            slot,
            ip: Ipv4Addr::new(10, 250, slot, HOST),
            netns: netns_name(slot),
            veth: veth_name(slot),
            dir: ground_dir.join("balancer"),
            tools,
            state: Mutex::new(State {
                nginx: None,
                backends: backends.to_vec(),
                generation: 1,
                stopped: false,
            }),
        };
        let balancer = Self {
            inner: Arc::new(inner),
        };
        if let Err(e) = balancer.bring_up(bridge) {
            balancer.inner.stop();
            return Err(e);
        }
        Ok(balancer)
    }

    fn bring_up(&self, bridge: &str) -> Result<(), GroundError> {
        let inner = &self.inner;
        let tools = inner.tools;
        mkdirs(&[&inner.dir.join("tmp")])?;
        sys::ip_batch(
            &tools.ip,
            None,
            &[
                format!("netns add {}", inner.netns),
                format!(
                    "link add {} type veth peer name eth0 netns {}",
                    inner.veth, inner.netns
                ),
                format!("link set {} master {bridge} up", inner.veth),
            ],
        )?;
        sys::ip_batch(
            &tools.ip,
            Some(&inner.netns),
            &[
                format!("addr add {}/24 dev eth0", inner.ip),
                "link set eth0 up".to_owned(),
                "link set lo up".to_owned(),
            ],
        )?;
        let mut state = inner.lock();
        write(&inner.conf(), &inner.render(&state.backends, state.generation))?;
        let mut nginx = spawn(
            Command::new(&tools.nsenter)
                .arg(format!("--net=/run/netns/{}", inner.netns))
                .arg("--")
                .arg(&tools.nginx)
                .arg("-e")
                .arg(inner.error_log())
                .arg("-c")
                .arg(inner.conf()),
            &inner.dir.join("nginx.out"),
        )?;
        let ip = inner.ip;
        let ready = wait_ready(
            "the balancer's nginx",
            &mut nginx,
            &inner.error_log(),
            Duration::from_secs(20),
            |pid| sys::listening(pid, ip, PORT),
        );
        state.nginx = Some(nginx);
        ready
    }

    /// Where clients send requests: `http://10.250.X.10/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.inner.ip)
    }

    /// Its address on the bridge, 10.250.X.10.
    pub fn ip(&self) -> Ipv4Addr {
        self.inner.ip
    }

    /// The droplets it sends to now.
    pub fn backends(&self) -> Vec<Ipv4Addr> {
        self.inner.lock().backends.clone()
    }

    /// The pid of its nginx master.
    pub fn pid(&self) -> Option<u32> {
        self.inner.lock().nginx.as_ref().map(Child::id)
    }

    /// Its access log: one line per request, ending in `backend=<droplet>:80` (the droplets tried).
    pub fn access_log(&self) -> String {
        read(&self.inner.dir.join("access.log")).unwrap_or_default()
    }

    /// Its nginx error log.
    pub fn error_log(&self) -> String {
        read(&self.inner.error_log()).unwrap_or_default()
    }

    /// Sends to exactly `backends` (port 80 of each) from now on; panics when it cannot.
    pub fn set_backends(&self, backends: &[Ipv4Addr]) {
        self.try_set_backends(backends)
            .unwrap_or_else(|e| panic!("cannot change the balancer's droplets: {e}"));
    }

    /// Rewrites the upstream list, checks the configuration (`nginx -t`), reloads nginx gracefully
    /// (`nginx -s reload`: requests in flight finish on the old workers) and waits until every worker of
    /// the old configuration has exited. When it returns, new requests go to `backends` only.
    ///
    /// # Errors
    /// When the balancer has stopped, the configuration is refused, or the reload does not finish.
    pub fn try_set_backends(&self, backends: &[Ipv4Addr]) -> Result<(), GroundError> {
        let inner = &self.inner;
        let mut state = inner.lock();
        let Some(master) = state.nginx.as_mut() else {
            return Err(GroundError::failed("the balancer has stopped"));
        };
        if let Ok(Some(status)) = master.try_wait() {
            return Err(GroundError::failed(format!(
                "the balancer's nginx exited ({status}){}",
                super::tail(&inner.error_log())
            )));
        }
        let master = master.id();
        let generation = state.generation + 1;
        let conf = inner.conf();
        let next = conf.with_extension("conf.next");
        write(&next, &inner.render(backends, generation))?;
        std::fs::rename(&next, &conf)
            .map_err(|e| GroundError::failed(format!("cannot replace `{}`: {e}", conf.display())))?;
        sys::run(&mut inner.nginx_cmd(&["-t", "-q"]))?;
        let old_workers = sys::children_of(master);
        sys::run(&mut inner.nginx_cmd(&["-s", "reload"]))?;
        let deadline = Instant::now() + RELOAD_WITHIN;
        loop {
            let workers = sys::children_of(master);
            let old_left = workers.iter().any(|w| old_workers.contains(w) && sys::alive(*w));
            if !old_left && workers.iter().any(|w| sys::alive(*w)) {
                break;
            }
            if Instant::now() >= deadline {
                return Err(GroundError::failed(format!(
                    "the balancer's nginx did not finish reloading within {RELOAD_WITHIN:?}{}",
                    super::tail(&inner.error_log())
                )));
            }
            std::thread::sleep(sys::POLL);
        }
        state.backends = backends.to_vec();
        state.generation = generation;
        Ok(())
    }

    /// Follows Load Balancer `lb_id` of the DigitalOcean stand-in: registers its change callback
    /// ([`crate::digitalocean::DoState::on_load_balancer_change`]) to call [`Balancer::set_backends`]
    /// with the addresses of the balancer's Droplets, and applies its current Droplets now.
    ///
    /// A Droplet ID is mapped to the one of its IPv4 addresses (public or private) that lies on this
    /// ground's network, 10.250.X.0/24, as the stand-in knows it now: add the Droplets first (see
    /// [`super::Ground::add_to_digitalocean`]). A Droplet without such an address makes the API request
    /// that would send to it fail with a 500 naming it.
    ///
    /// # Errors
    /// When the stand-in has no such balancer, or applying its current Droplets fails.
    pub fn follow(&self, dosim: &DoSim, lb_id: &str) -> Result<(), GroundError> {
        let slot = self.inner.slot;
        let on_ground = move |ip: &Ipv4Addr| {
            let [a, b, c, _] = ip.octets();
            (a, b, c) == (10, 250, slot)
        };
        let addresses: HashMap<u64, Ipv4Addr> = dosim.with(|s| {
            s.droplets()
                .iter()
                .filter_map(|d| {
                    [d.public_ipv4, d.private_ipv4]
                        .into_iter()
                        .flatten()
                        .find(&on_ground)
                        .map(|ip| (d.id, ip))
                })
                .collect()
        });
        let balancer = self.clone();
        let on_change = move |ids: &[u64]| {
            let ips = ids
                .iter()
                .map(|id| {
                    addresses.get(id).copied().ok_or_else(|| {
                        format!("droplet {id} has no address on the ground's network 10.250.{slot}.0/24")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            balancer.try_set_backends(&ips).map_err(|e| e.to_string())
        };
        dosim
            .with(|s| s.on_load_balancer_change(lb_id, on_change))
            .map_err(GroundError::failed)
    }
}

impl super::Ground {
    /// The ground's load balancer; panics when it was started without one (see
    /// [`super::Ground::start_with_balancer`]).
    pub fn balancer(&self) -> &Balancer {
        self.balancer.as_ref().unwrap_or_else(|| {
            panic!("this ground has no balancer: start it with `Ground::start_with_balancer`")
        })
    }

    /// Adds every droplet to the DigitalOcean stand-in as an active Droplet named `<tag>-<i>` and
    /// tagged `tag`, and returns their IDs in droplet order. Its ground address (10.250.X.(10+i)) is its
    /// IPv4 on `network`; on the other network it gets an address nothing answers at (public
    /// 203.0.113.(10+i), a documentation range; private 10.251.X.(10+i)), so a deploy that picks the
    /// wrong one fails to connect.
    pub fn add_to_digitalocean(&self, dosim: &DoSim, tag: &str, network: NetworkType) -> Vec<u64> {
        let slot = self.slot;
        self.droplets
            .iter()
            .map(|d| {
                let host = d.ip.octets()[3];
                let (public, private) = match network {
                    NetworkType::Public => (d.ip, Ipv4Addr::new(10, 251, slot, host)),
                    NetworkType::Private => (Ipv4Addr::new(203, 0, 113, host), d.ip),
                };
                let new = NewDroplet::new(&format!("{tag}-{}", d.index))
                    .tag(tag)
                    .public(public)
                    .private(private);
                dosim.with(|s| s.add_droplet(new))
            })
            .collect()
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops the balancer (its nginx, namespace and veth) when the ground goes, even while clones live on
/// in a stand-in's callback.
pub(super) fn stop(balancer: &Balancer) {
    balancer.inner.stop();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_linux_interface_names() {
        for slot in [1, 100] {
            assert!(veth_name(slot).len() <= 15, "{}", veth_name(slot));
            assert!(netns_name(slot).len() <= 15, "{}", netns_name(slot));
        }
    }
}
