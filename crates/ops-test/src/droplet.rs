//! A real test ground for deploys to Droplets (servers) over SSH with Docker Compose.
//!
//! [`Ground::start`]`(n)` brings up, in a temp dir and a network slot of its own:
//! - a Linux bridge in the root network namespace with 10.250.X.1/24 (X is the ground's slot, unique among
//!   the grounds of every process on the machine), and a real registry (Debian's `docker-registry`) on
//!   10.250.X.1:5055;
//! - `n` droplets: each a network namespace joined to the bridge by a veth, with the address
//!   10.250.X.(10+i) and its own `sshd` (own ed25519 host key, root login by the ground's client key only,
//!   `SetEnv DOCKER_HOST` so remote `docker` commands reach this droplet's engine), `dockerd` (own data and
//!   exec roots, address pools and containerd namespace; pulls from the ground's registry) and `nginx`
//!   (port 80, proxying `/` to the upstream `app` that the file [`Droplet::upstream_file`] defines), plus a
//!   private state directory for the deploy tool, since every namespace shares one filesystem;
//! - with [`Ground::start_with_balancer`], a [`Balancer`] in front of the droplets (nginx at 10.250.X.10:80 in
//!   a namespace of its own) that can follow a Load Balancer of the DigitalOcean stand-in.
//!
//! [`Ground::image`] builds the `FROM scratch` test image around the static `hello` server
//! (`fixtures/hello/hello.rs`), pushes it and returns `repo@sha256:…`.
//!
//! Dropping the ground stops every process it started (by pid, then waits), deletes the namespaces, the
//! veths, the bridge and the temp dir, also when a test panics. A run that was killed leaves its slot's
//! lock free: the next ground that takes the slot (or [`cleanup_stale`]) removes what it left behind.
//!
//! Needs root and the packages of `scripts/setup-droplet`; without them [`Ground::start`] panics with a
//! message that says so (tests fail loudly, never pass silently). At most two grounds run at once in a
//! process; more wait for a place.

mod balancer;
mod hello;
mod sys;

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use ops_core::Secret;
use sha2::{Digest, Sha256};

pub use balancer::Balancer;
pub use hello::{HELLO_SOURCE, hello_binary};

/// Where every droplet's SSH sessions also see that droplet's own directory (a bind mount in sshd's
/// own mount namespace), so that paths given to a fleet deploy are the same on every host.
pub const OWN_DIR: &str = "/run/ops-test-droplet/own";

/// The most droplets a ground has.
pub const MAX_DROPLETS: usize = 16;
/// The registry's port on the bridge address.
pub const REGISTRY_PORT: u16 = 5055;
/// Slots (the X of 10.250.X.0/24) are 1..=MAX_SLOTS.
const MAX_SLOTS: u8 = 100;
/// Every network namespace and link of a ground is named `odg<slot>…`.
const PREFIX: &str = "odg";

/// Why a ground could not start.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GroundError {
    /// Not running as root.
    #[error(
        "it needs root, to create network namespaces and start sshd, dockerd and nginx\nhint: run the tests as root, after `scripts/setup-droplet`"
    )]
    NotRoot,
    /// A program the ground runs is not installed.
    #[error("it needs {0}, which was not found\nhint: run `scripts/setup-droplet` (as root)")]
    Missing(String),
    /// Something failed on the way; the message names the command or daemon.
    #[error("{0}")]
    Failed(String),
}

impl GroundError {
    pub(crate) fn failed(message: impl Into<String>) -> Self {
        Self::Failed(message.into())
    }
}

/// The programs a ground runs, by absolute path.
#[derive(Debug)]
struct Tools {
    ip: PathBuf,
    nsenter: PathBuf,
    unshare: PathBuf,
    sshd: PathBuf,
    ssh: PathBuf,
    ssh_keygen: PathBuf,
    dockerd: PathBuf,
    docker: PathBuf,
    nginx: PathBuf,
    registry: PathBuf,
}

/// Checks root and finds every program once per process.
fn tools() -> Result<&'static Tools, GroundError> {
    static TOOLS: OnceLock<Result<Tools, GroundError>> = OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
            // `Uid:` holds the real, effective, saved and filesystem uids.
            let euid = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|uids| uids.split_whitespace().nth(1));
            if euid != Some("0") {
                return Err(GroundError::NotRoot);
            }
            let find = |name: &str, from: &str| {
                let path = std::env::var("PATH").unwrap_or_default();
                path.split(':')
                    .chain(sys::DAEMON_PATH.split(':'))
                    .map(|dir| Path::new(dir).join(name))
                    .find(|p| p.is_file())
                    .ok_or_else(|| GroundError::Missing(format!("`{name}` ({from})")))
            };
            find("kill", "Debian's `procps`")?;
            find("umount", "Debian's `mount`")?;
            find("iptables", "Debian's `iptables`")?;
            find("rustc", "a Rust toolchain, to build the test server")?;
            let tools = Tools {
                ip: find("ip", "Debian's `iproute2`")?,
                nsenter: find("nsenter", "Debian's `util-linux`")?,
                unshare: find("unshare", "Debian's `util-linux`")?,
                sshd: find("sshd", "Debian's `openssh-server`")?,
                ssh: find("ssh", "Debian's `openssh-client`")?,
                ssh_keygen: find("ssh-keygen", "Debian's `openssh-client`")?,
                dockerd: find("dockerd", "Debian's `docker.io`")?,
                docker: find("docker", "Debian's `docker.io`")?,
                nginx: find("nginx", "Debian's `nginx`")?,
                registry: find("docker-registry", "Debian's `docker-registry`")?,
            };
            let compose = Command::new(&tools.docker)
                .args(["compose", "version"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            if !compose {
                return Err(GroundError::Missing(
                    "`docker compose` (Compose v2, a Docker CLI plugin)".to_owned(),
                ));
            }
            Ok(tools)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Overlay2 is tried first; when a dockerd cannot use it (a temp dir on overlayfs), every later
/// droplet of the process uses vfs straight away.
static NO_OVERLAY: AtomicBool = AtomicBool::new(false);

/// The temp dir of a slot. Fixed per slot, so a stale one is found by name; recorded in the slot's
/// lock file too.
fn slot_dir(slot: u8) -> PathBuf {
    std::env::temp_dir().join(format!("ops-droplet-ground-{slot}"))
}

fn netns_name(slot: u8, i: usize) -> String {
    format!("{PREFIX}{slot}-{i}")
}

fn veth_name(slot: u8, i: usize) -> String {
    format!("{PREFIX}{slot}h{i}")
}

fn bridge_name(slot: u8) -> String {
    format!("{PREFIX}{slot}br")
}

fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Whether something other than a ground of ours routes 10.250.`slot`.0/24 (read from /proc/net/route,
/// where addresses are little-endian hex).
fn subnet_in_use(slot: u8) -> bool {
    let net = format!("{:08X}", u32::from_le_bytes([10, 250, slot, 0]));
    std::fs::read_to_string("/proc/net/route").is_ok_and(|table| {
        table
            .lines()
            .skip(1)
            .any(|line| line.split_whitespace().nth(1) == Some(net.as_str()))
    })
}

/// The address plan of droplet `index`'s engine, distinct for every droplet of every ground: the default
/// bridge `172.(16+i-1).X.1/24`, and a /21 of 100.64.0.0/10 for the networks Compose makes (32 of /26).
/// Each engine lives in its own namespace, so overlaps would not break anything; distinct ranges keep
/// addresses in logs unambiguous.
fn engine_networks(slot: u8, index: usize) -> (String, String) {
    let bip = format!("172.{}.{slot}.1/24", 16 + index - 1);
    let k = (usize::from(slot) - 1) * MAX_DROPLETS + (index - 1);
    let base = u32::from(Ipv4Addr::new(100, 64, 0, 0)) + (k as u32) * 2048;
    (bip, format!("{}/21", Ipv4Addr::from(base)))
}

/// Removes what a dead owner of `lock`'s slot left behind: its processes (daemons, container processes),
/// mounts, namespaces, links, cgroups and temp dir. Cheap when there is nothing.
fn clean_slot(lock: &mut sys::SlotLock) {
    let slot = lock.slot;
    let (_, recorded) = lock.recorded();
    let netns: Vec<String> = (1..=MAX_DROPLETS)
        .map(|i| netns_name(slot, i))
        .chain([balancer::netns_name(slot)])
        .filter(|n| Path::new("/run/netns").join(n).exists())
        .collect();
    let dirs: Vec<PathBuf> = recorded
        .into_iter()
        .chain([slot_dir(slot)])
        .filter(|d| d.exists())
        .collect();
    let bridge = bridge_name(slot);
    if netns.is_empty() && dirs.is_empty() && !link_exists(&bridge) {
        return;
    }
    let inodes: Vec<u64> = netns.iter().filter_map(|n| sys::netns_inode(n)).collect();
    let cgroup = format!("/{PREFIX}{slot}-");
    let mut doomed = sys::find_processes(&inodes, Some(&cgroup), None);
    for dir in &dirs {
        let dir = format!("{}/", dir.display());
        doomed.extend(sys::find_processes(&[], None, Some(&dir)));
    }
    doomed.sort_unstable();
    doomed.dedup();
    sys::kill_all(&doomed);
    for dir in &dirs {
        sys::unmount_all(dir);
    }
    if let Some(ip) = tools().ok().map(|t| &t.ip) {
        for n in &netns {
            let _ = sys::run(Command::new(ip).args(["netns", "del", n]));
        }
        for link in (1..=MAX_DROPLETS)
            .map(|i| veth_name(slot, i))
            .chain([balancer::veth_name(slot), bridge])
        {
            if link_exists(&link) {
                let _ = sys::run(Command::new(ip).args(["link", "del", &link]));
            }
        }
    }
    for i in 1..=MAX_DROPLETS {
        remove_cgroups(&netns_name(slot, i));
    }
    for dir in &dirs {
        let _ = std::fs::remove_dir_all(dir);
    }
}

/// Removes the (empty) cgroups a droplet's dockerd made under its `cgroup-parent`, in every hierarchy.
fn remove_cgroups(parent: &str) {
    fn remove_tree(dir: &Path) {
        if let Ok(entries) = std::fs::read_dir(dir) {
            for e in entries.flatten() {
                if e.file_type().is_ok_and(|t| t.is_dir()) {
                    remove_tree(&e.path());
                }
            }
        }
        // cgroupfs allows rmdir on an empty cgroup, whatever its control files.
        let _ = std::fs::remove_dir(dir);
    }
    let root = Path::new("/sys/fs/cgroup");
    let hierarchies = std::fs::read_dir(root)
        .map(|d| d.flatten().map(|e| e.path()).collect::<Vec<_>>())
        .unwrap_or_default();
    for dir in std::iter::once(root.to_owned()).chain(hierarchies) {
        let cgroup = dir.join(parent);
        if cgroup.is_dir() {
            remove_tree(&cgroup);
        }
    }
}

/// Removes what killed runs left behind in every slot no living ground holds, and returns those slots.
/// [`Ground::start`] does this for the slot it takes; call this to tidy a machine by hand.
pub fn cleanup_stale() -> Vec<u8> {
    let mut cleaned = Vec::new();
    for slot in sys::SlotLock::known_slots() {
        if let Ok(Some(mut lock)) = sys::SlotLock::try_take(slot) {
            let leftovers = slot_dir(slot).exists()
                || link_exists(&bridge_name(slot))
                || (1..=MAX_DROPLETS)
                    .map(|i| netns_name(slot, i))
                    .chain([balancer::netns_name(slot)])
                    .any(|n| Path::new("/run/netns").join(n).exists());
            clean_slot(&mut lock);
            if leftovers {
                cleaned.push(slot);
            }
        }
    }
    cleaned
}

/// A one-shot HTTP GET of `url` (`http://host[:port]/path`) over a plain TCP connection: status and
/// body. `timeout` bounds the connection and each read and write. For polling a droplet from the host.
pub fn http_get(url: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| std::io::Error::other(format!("`{url}` is not an http:// URL")))?;
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let addr: SocketAddr = if authority.contains(':') {
        authority.parse()
    } else {
        format!("{authority}:80").parse()
    }
    .map_err(|e| std::io::Error::other(format!("`{url}`: {e}")))?;
    sys::http_get(addr, path, timeout)
}

/// Calls `check` until it returns `Some`, for at most `within`; panics naming `what` when it never does.
/// A bounded poll for tests: it waits for a state, it does not assert how long the state took.
pub fn poll<T>(what: &str, within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What every droplet of a ground shares while it starts.
struct Setup<'a> {
    slot: u8,
    dir: &'a Path,
    tools: &'static Tools,
    bridge: &'a str,
    registry: SocketAddrV4,
    client_pub: &'a str,
    client_key: &'a Path,
    client_pem: &'a Secret,
    known_hosts: &'a Path,
}

/// A running ground: a bridge, a registry and its droplets. Dropping it tears everything down.
#[derive(Debug)]
pub struct Ground {
    slot: u8,
    dir: PathBuf,
    tools: &'static Tools,
    bridge: String,
    registry_addr: SocketAddrV4,
    registry: Option<Child>,
    droplets: Vec<Droplet>,
    balancer: Option<Balancer>,
    client_key: PathBuf,
    client_pem: Secret,
    known_hosts: PathBuf,
    images: Mutex<HashMap<String, String>>,
    started_in: Duration,
    // Dropped after `Drop::drop` has torn everything down: the slot is free only once it is clean.
    _lock: sys::SlotLock,
    _permit: sys::Permit,
}

impl Ground {
    /// Starts a ground with `droplets` droplets (1..=[`MAX_DROPLETS`]). Panics with the reason, and a
    /// `hint:` line when a package or root is missing, when it cannot start.
    pub fn start(droplets: usize) -> Self {
        Self::try_start(droplets).unwrap_or_else(|e| panic!("cannot start the droplet ground: {e}"))
    }

    /// [`Ground::start`] plus a load balancer in front of the droplets ([`Ground::balancer`]): nginx in
    /// a network namespace of its own at 10.250.X.10, port 80, sending to port 80 of every droplet until
    /// told otherwise ([`Balancer::set_backends`], [`Balancer::follow`]).
    pub fn start_with_balancer(droplets: usize) -> Self {
        Self::try_start_with_balancer(droplets)
            .unwrap_or_else(|e| panic!("cannot start the droplet ground: {e}"))
    }

    /// [`Ground::start_with_balancer`], returning the error.
    pub fn try_start_with_balancer(droplets: usize) -> Result<Self, GroundError> {
        let mut ground = Self::try_start(droplets)?;
        let backends: Vec<Ipv4Addr> = ground.droplets.iter().map(|d| d.ip).collect();
        ground.balancer = Some(Balancer::start(
            ground.slot,
            &ground.dir,
            ground.tools,
            &ground.bridge,
            &backends,
        )?);
        Ok(ground)
    }

    /// [`Ground::start`], returning the error (for the demo and benchmarks).
    pub fn try_start(droplets: usize) -> Result<Self, GroundError> {
        if !(1..=MAX_DROPLETS).contains(&droplets) {
            return Err(GroundError::failed(format!(
                "a ground has 1 to {MAX_DROPLETS} droplets, not {droplets}"
            )));
        }
        let tools = tools()?;
        let permit = sys::Permit::acquire();
        let began = Instant::now();
        let mut lock = take_slot()?;
        let slot = lock.slot;
        let dir = slot_dir(slot);
        std::fs::create_dir_all(&dir)
            .map_err(|e| GroundError::failed(format!("cannot create `{}`: {e}", dir.display())))?;
        lock.record(&dir);
        let client_key = dir.join("client_key");
        let known_hosts = dir.join("known_hosts");
        let bridge = bridge_name(slot);
        let mut ground = Self {
            slot,
            dir: dir.clone(),
            tools,
            bridge: bridge.clone(),
            registry_addr: SocketAddrV4::new(Ipv4Addr::new(10, 250, slot, 1), REGISTRY_PORT),
            registry: None,
            droplets: Vec::new(),
            balancer: None,
            client_key: client_key.clone(),
            client_pem: Secret::new(String::new()),
            known_hosts: known_hosts.clone(),
            images: Mutex::new(HashMap::new()),
            started_in: Duration::ZERO,
            _lock: lock,
            _permit: permit,
        };
        keygen(tools, &client_key, &format!("ops-test-ground-{slot}"))?;
        ground.client_pem = Secret::new(read(&client_key)?);
        let client_pub = read(&client_key.with_extension("pub"))?;
        sys::ip_batch(
            &tools.ip,
            None,
            &[
                format!("link add {bridge} type bridge"),
                format!("addr add 10.250.{slot}.1/24 dev {bridge}"),
                format!("link set {bridge} up"),
            ],
        )?;
        let setup = Setup {
            slot,
            dir: &dir,
            tools,
            bridge: &bridge,
            registry: ground.registry_addr,
            client_pub: client_pub.trim(),
            client_key: &client_key,
            client_pem: &ground.client_pem,
            known_hosts: &known_hosts,
        };
        let (registry, started) = std::thread::scope(|s| {
            let registry = s.spawn(|| start_registry(&setup));
            let droplets: Vec<_> = (1..=droplets)
                .map(|i| {
                    let setup = &setup;
                    s.spawn(move || Droplet::start(setup, i))
                })
                .collect();
            let started: Vec<Result<Droplet, GroundError>> = droplets
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(GroundError::failed("a droplet's start panicked")))
                })
                .collect();
            let registry = registry
                .join()
                .unwrap_or_else(|_| Err(GroundError::failed("the registry's start panicked")));
            (registry, started)
        });
        let mut first_error = None;
        match registry {
            Ok(child) => ground.registry = Some(child),
            Err(e) => first_error = Some(e),
        }
        for droplet in started {
            match droplet {
                Ok(d) => ground.droplets.push(d),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let lines: String = ground
            .droplets
            .iter()
            .map(|d| format!("{}\n", d.known_hosts_line()))
            .collect();
        write(&known_hosts, &lines)?;
        ground.started_in = began.elapsed();
        Ok(ground)
    }

    /// The droplet `n`, counting from 1 (droplet 1 is at 10.250.X.11).
    pub fn droplet(&self, n: usize) -> &Droplet {
        assert!(
            (1..=self.droplets.len()).contains(&n),
            "this ground has droplets 1 to {}, not {n}",
            self.droplets.len()
        );
        &self.droplets[n - 1]
    }

    /// Every droplet, in order.
    pub fn droplets(&self) -> &[Droplet] {
        &self.droplets
    }

    /// The ground's slot: the X of 10.250.X.0/24.
    pub fn slot(&self) -> u8 {
        self.slot
    }

    /// The ground's temp dir (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The bridge's name in the root network namespace.
    pub fn bridge(&self) -> &str {
        &self.bridge
    }

    /// The droplets' network namespaces (`/run/netns/<name>`).
    pub fn netns_names(&self) -> Vec<String> {
        self.droplets.iter().map(|d| d.name.clone()).collect()
    }

    /// The registry, `10.250.X.1:5055` (plain HTTP; every droplet's dockerd lists it as insecure).
    pub fn registry(&self) -> String {
        self.registry_addr.to_string()
    }

    /// known_hosts text with every droplet's host key (plain `ip key` lines).
    pub fn known_hosts(&self) -> String {
        read(&self.known_hosts).unwrap_or_default()
    }

    /// The file holding [`Ground::known_hosts`].
    pub fn known_hosts_path(&self) -> &Path {
        &self.known_hosts
    }

    /// The client's private key (OpenSSH format), which every droplet's root accepts.
    pub fn client_key_pem(&self) -> Secret {
        self.client_pem.clone()
    }

    /// The file holding [`Ground::client_key_pem`] (mode 0600, for `ssh -i`).
    pub fn client_key_path(&self) -> &Path {
        &self.client_key
    }

    /// The pids of every daemon the ground started: the registry, and each droplet's sshd, dockerd and
    /// nginx.
    pub fn pids(&self) -> Vec<u32> {
        self.registry
            .iter()
            .map(Child::id)
            .chain(self.droplets.iter().flat_map(Droplet::pids))
            .collect()
    }

    /// How long [`Ground::start`] took (for reports and benchmarks; tests never assert on it).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// Builds the `hello` test image with `VERSION=version` and the extra environment baked in, pushes it
    /// to the ground's registry and returns its exact reference, `10.250.X.1:5055/ops-test/hello@sha256:…`.
    /// Each (version, environment) is built once per ground. Panics when the build or push fails.
    ///
    /// The image: `FROM scratch`, `/hello` as entrypoint, `PORT=8080`, and
    /// `HEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD ["/hello","probe"]`. Useful environment:
    /// `GREETING`, `UNHEALTHY=1`, `CRASH_AFTER=<seconds>`, `HEALTH_PATH`, `MIGRATE_EXIT` (see
    /// `fixtures/hello/hello.rs`). It is built on droplet 1's engine and removed from it after the push,
    /// so every droplet starts without it.
    pub fn image(&self, version: &str, extra_env: &[(&str, &str)]) -> String {
        self.try_image(version, extra_env)
            .unwrap_or_else(|e| panic!("cannot build the hello image {version}: {e}"))
    }

    /// [`Ground::image`], returning the error.
    pub fn try_image(&self, version: &str, extra_env: &[(&str, &str)]) -> Result<String, GroundError> {
        let mut dockerfile = String::from(
            "FROM scratch\nCOPY hello /hello\nARG VERSION=dev\nENV VERSION=$VERSION PORT=8080\n",
        );
        for (key, value) in extra_env {
            let valid_key = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid_key || value.contains(['\n', '\r']) {
                return Err(GroundError::failed(format!(
                    "`{key}` must be an environment variable name and its value one line"
                )));
            }
            let quoted = value
                .replace('\\', r"\\")
                .replace('"', "\\\"")
                .replace('$', "\\$");
            dockerfile.push_str(&format!("ENV {key}=\"{quoted}\"\n"));
        }
        dockerfile.push_str(
            "EXPOSE 8080\nHEALTHCHECK --interval=1s --timeout=2s --retries=3 CMD [\"/hello\",\"probe\"]\nENTRYPOINT [\"/hello\"]\n",
        );
        let key = format!("{version}\n{dockerfile}");
        let mut images = self.images.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(reference) = images.get(&key) {
            return Ok(reference.clone());
        }
        let mut tag: String = version
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '-'
                }
            })
            .take(100)
            .collect();
        if !extra_env.is_empty() {
            tag.push('-');
            tag.push_str(&hex::encode(Sha256::digest(key.as_bytes()))[..8]);
        }
        if !tag.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            tag.insert(0, 'v');
        }
        let context = self.dir.join("images").join(&tag);
        std::fs::create_dir_all(&context)
            .map_err(|e| GroundError::failed(format!("cannot create `{}`: {e}", context.display())))?;
        std::fs::copy(hello_binary()?, context.join("hello"))
            .map_err(|e| GroundError::failed(format!("cannot copy the hello binary: {e}")))?;
        write(&context.join("Dockerfile"), &dockerfile)?;
        let repo = format!("{}/ops-test/hello", self.registry_addr);
        let tagged = format!("{repo}:{tag}");
        let builder = self.droplet(1);
        let mut build = builder.docker_command();
        build
            .env("DOCKER_BUILDKIT", "0")
            .args(["build", "-q", "--force-rm", "--build-arg"])
            .arg(format!("VERSION={version}"))
            .args(["-t", &tagged])
            .arg(&context);
        sys::run(&mut build)?;
        sys::run(builder.docker_command().args(["push", "-q", &tagged]))?;
        let reference = sys::run(builder.docker_command().args([
            "image",
            "inspect",
            "--format",
            "{{index .RepoDigests 0}}",
            &tagged,
        ]))?
        .trim()
        .to_owned();
        if !reference.starts_with(&format!("{repo}@sha256:")) {
            return Err(GroundError::failed(format!(
                "`{tagged}` was pushed but its digest reads `{reference}`"
            )));
        }
        sys::run(builder.docker_command().args(["rmi", &tagged]))?;
        images.insert(key, reference.clone());
        Ok(reference)
    }
}

impl Drop for Ground {
    fn drop(&mut self) {
        if let Some(balancer) = self.balancer.take() {
            balancer::stop(&balancer);
        }
        std::thread::scope(|s| {
            for droplet in self.droplets.drain(..) {
                s.spawn(move || drop(droplet));
            }
        });
        if let Some(mut registry) = self.registry.take() {
            sys::stop(&mut registry, Duration::from_secs(5));
        }
        if link_exists(&self.bridge) {
            let _ = sys::run(Command::new(&self.tools.ip).args(["link", "del", &self.bridge]));
        }
        // Anything still running from the ground's dir (a daemon whose stop failed) goes too.
        let stragglers = sys::find_processes(&[], None, Some(&format!("{}/", self.dir.display())));
        sys::kill_all(&stragglers);
        sys::unmount_all(&self.dir);
        if let Err(e) = std::fs::remove_dir_all(&self.dir) {
            #[allow(clippy::print_stderr)] // a test's teardown has nowhere else to say it
            {
                eprintln!("warning: cannot remove `{}`: {e}", self.dir.display());
            }
        }
    }
}

/// Takes a free slot (starting at one that depends on the pid, so processes seldom race for the same
/// one) after cleaning up what a dead owner left in it.
fn take_slot() -> Result<sys::SlotLock, GroundError> {
    let start = (std::process::id() % u32::from(MAX_SLOTS)) as u8;
    for k in 0..MAX_SLOTS {
        let slot = 1 + (start + k) % MAX_SLOTS;
        if let Some(mut lock) = sys::SlotLock::try_take(slot)? {
            clean_slot(&mut lock);
            if subnet_in_use(slot) {
                continue;
            }
            return Ok(lock);
        }
    }
    Err(GroundError::failed(format!(
        "no free slot: 10.250.1.0/24 to 10.250.{MAX_SLOTS}.0/24 are all taken"
    )))
}

fn read(path: &Path) -> Result<String, GroundError> {
    std::fs::read_to_string(path)
        .map_err(|e| GroundError::failed(format!("cannot read `{}`: {e}", path.display())))
}

fn write(path: &Path, text: &str) -> Result<(), GroundError> {
    std::fs::write(path, text)
        .map_err(|e| GroundError::failed(format!("cannot write `{}`: {e}", path.display())))
}

fn mkdirs(dirs: &[&Path]) -> Result<(), GroundError> {
    for dir in dirs {
        std::fs::create_dir_all(dir)
            .map_err(|e| GroundError::failed(format!("cannot create `{}`: {e}", dir.display())))?;
    }
    Ok(())
}

/// A new ed25519 key pair at `path` and `path.pub`.
fn keygen(tools: &Tools, path: &Path, comment: &str) -> Result<(), GroundError> {
    sys::run(
        Command::new(&tools.ssh_keygen)
            .args(["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f"])
            .arg(path),
    )
    .map(drop)
}

/// The last lines of a log, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(15);
    format!(
        "\n{} (last lines):\n{}",
        path.display(),
        lines[start..].join("\n")
    )
}

/// Starts a daemon with its stdout and stderr going to `log`, a fixed `PATH` and nothing else from the
/// test's environment.
fn spawn(cmd: &mut Command, log: &Path) -> Result<Child, GroundError> {
    let out = std::fs::File::create(log)
        .map_err(|e| GroundError::failed(format!("cannot create `{}`: {e}", log.display())))?;
    let err = out
        .try_clone()
        .map_err(|e| GroundError::failed(format!("cannot open `{}`: {e}", log.display())))?;
    cmd.env_clear()
        .env("PATH", sys::DAEMON_PATH)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| GroundError::failed(format!("cannot start `{}`: {e}", sys::show(cmd))))
}

/// Waits up to `within` for `ready`; fails early when the daemon exits, with the end of its log.
fn wait_ready(
    what: &str,
    child: &mut Child,
    log: &Path,
    within: Duration,
    mut ready: impl FnMut(u32) -> bool,
) -> Result<(), GroundError> {
    let deadline = Instant::now() + within;
    loop {
        if ready(child.id()) {
            return Ok(());
        }
        if let Ok(Some(status)) = child.try_wait() {
            return Err(GroundError::failed(format!(
                "{what} exited ({status}){}",
                tail(log)
            )));
        }
        if Instant::now() >= deadline {
            return Err(GroundError::failed(format!(
                "{what} was not ready within {within:?}{}",
                tail(log)
            )));
        }
        std::thread::sleep(sys::POLL);
    }
}

fn start_registry(setup: &Setup<'_>) -> Result<Child, GroundError> {
    let dir = setup.dir.join("registry");
    mkdirs(&[&dir.join("data")])?;
    let config = dir.join("config.yml");
    // Not Debian's /etc/docker/registry/config.yml: that one turns on htpasswd auth and listens on :5000.
    write(
        &config,
        &format!(
            "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {}\n",
            dir.join("data").display(),
            setup.registry
        ),
    )?;
    let log = dir.join("registry.log");
    let mut child = spawn(
        Command::new(&setup.tools.registry).arg("serve").arg(&config),
        &log,
    )?;
    let addr = SocketAddr::V4(setup.registry);
    let ready = wait_ready(
        "docker-registry",
        &mut child,
        &log,
        Duration::from_secs(20),
        |_| sys::http_get(addr, "/v2/", Duration::from_secs(1)).is_ok_and(|(status, _)| status == 200),
    );
    match ready {
        Ok(()) => Ok(child),
        Err(e) => {
            sys::stop(&mut child, Duration::from_secs(2));
            Err(e)
        }
    }
}

/// One droplet: a network namespace with sshd, dockerd and nginx. Dropping it stops them and deletes
/// the namespace (and with it the veth pair).
#[derive(Debug)]
pub struct Droplet {
    index: usize,
    name: String,
    ip: Ipv4Addr,
    dir: PathBuf,
    veth: String,
    tools: &'static Tools,
    host_key: String,
    hashed_line: String,
    fingerprint: String,
    client_key: PathBuf,
    client_pem: Secret,
    known_hosts: PathBuf,
    sshd: Option<Child>,
    dockerd: Option<Child>,
    nginx: Option<Child>,
}

impl Droplet {
    fn start(setup: &Setup<'_>, index: usize) -> Result<Self, GroundError> {
        let slot = setup.slot;
        let dir = setup.dir.join(format!("d{index}"));
        let name = netns_name(slot, index);
        let mut droplet = Self {
            index,
            name: name.clone(),
            ip: Ipv4Addr::new(10, 250, slot, 10 + index as u8),
            dir: dir.clone(),
            veth: veth_name(slot, index),
            tools: setup.tools,
            host_key: String::new(),
            hashed_line: String::new(),
            fingerprint: String::new(),
            client_key: setup.client_key.to_owned(),
            client_pem: setup.client_pem.clone(),
            known_hosts: setup.known_hosts.to_owned(),
            sshd: None,
            dockerd: None,
            nginx: None,
        };
        // From here on, an error drops `droplet`, which removes whatever was made.
        let tools = setup.tools;
        mkdirs(&[
            &dir.join("ssh"),
            &dir.join("docker/config"),
            &dir.join("nginx/conf.d"),
            &dir.join("nginx/tmp"),
            &dir.join("state"),
        ])?;
        sys::ip_batch(
            &tools.ip,
            None,
            &[
                format!("netns add {name}"),
                format!("link add {} type veth peer name eth0 netns {name}", droplet.veth),
                format!("link set {} master {} up", droplet.veth, setup.bridge),
            ],
        )?;
        sys::ip_batch(
            &tools.ip,
            Some(&name),
            &[
                format!("addr add {}/24 dev eth0", droplet.ip),
                "link set eth0 up".to_owned(),
                "link set lo up".to_owned(),
            ],
        )?;

        // dockerd first: it takes longest to be ready.
        droplet.dockerd = Some(droplet.start_dockerd(setup)?);

        let host_key = dir.join("ssh/host_ed25519");
        keygen(tools, &host_key, &format!("droplet-{index}"))?;
        let public = read(&host_key.with_extension("pub"))?;
        droplet.host_key = public.split_whitespace().take(2).collect::<Vec<_>>().join(" ");
        droplet.fingerprint = sys::run(
            Command::new(&tools.ssh_keygen)
                .args(["-l", "-E", "sha256", "-f"])
                .arg(host_key.with_extension("pub")),
        )?
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
        let hashed = dir.join("ssh/known_hosts_hashed");
        write(&hashed, &format!("{}\n", droplet.known_hosts_line()))?;
        sys::run(
            Command::new(&tools.ssh_keygen)
                .args(["-q", "-H", "-f"])
                .arg(&hashed),
        )?;
        droplet.hashed_line = read(&hashed)?
            .lines()
            .find(|l| l.starts_with("|1|"))
            .unwrap_or_default()
            .to_owned();
        write(
            &dir.join("ssh/authorized_keys"),
            &format!("{}\n", setup.client_pub),
        )?;
        // sshd's privilege separation directory.
        mkdirs(&[Path::new("/run/sshd")])?;
        let sshd_config = dir.join("ssh/sshd_config");
        write(
            &sshd_config,
            &format!(
                "ListenAddress {ip}\nPort 22\nHostKey {key}\nPidFile {dir}/ssh/sshd.pid\n\
                 AuthorizedKeysFile {dir}/ssh/authorized_keys\nAuthenticationMethods publickey\n\
                 PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\nLogLevel VERBOSE\n\
                 PrintMotd no\nX11Forwarding no\nSubsystem sftp internal-sftp\n\
                 SetEnv DOCKER_HOST={docker_host} DOCKER_CONFIG={dir}/docker/config\n",
                ip = droplet.ip,
                key = host_key.display(),
                dir = dir.display(),
                docker_host = droplet.docker_host(),
            ),
        )?;
        let sshd_log = droplet.sshd_log_path();
        // sshd gets a mount namespace of its own in which this droplet's directory is also at
        // `OWN_DIR`: every session (and every deploy) sees one fixed path per droplet, as on separate
        // machines, so a fleet's hosts can share inputs such as `state-dir`. Root's home there is an
        // empty directory of the droplet's, as on a fresh Droplet: the machine's own `~/.bashrc`
        // (which bash reads for every command sshd runs) is not the droplet's, and cost 0.2-0.4 s a
        // command.
        mkdirs(&[Path::new(OWN_DIR)])?;
        let mut sshd = spawn(
            Command::new(&tools.nsenter)
                .arg(format!("--net=/run/netns/{name}"))
                .arg("--")
                .arg(&tools.unshare)
                .args(["--mount", "--propagation", "private", "--", "/bin/sh", "-c"])
                .arg(format!(
                    "mount --bind \"$1\" {OWN_DIR} && mkdir -p \"$1/home\" && mount --bind \"$1/home\" /root \
                     && exec \"$2\" -D -e -f \"$3\""
                ))
                .arg("sh")
                .arg(&dir)
                .arg(&tools.sshd)
                .arg(&sshd_config),
            &sshd_log,
        )?;
        let ip = droplet.ip;
        let sshd_ready = wait_ready("sshd", &mut sshd, &sshd_log, Duration::from_secs(20), |pid| {
            sys::listening(pid, ip, 22)
        });
        droplet.sshd = Some(sshd);
        sshd_ready?;

        write(
            &droplet.upstream_file(),
            "# The ground's placeholder: nothing listens on port 1, so nginx answers 502 until a deploy\n\
             # points `app` at a release.\nupstream app {\n    server 127.0.0.1:1;\n}\n",
        )?;
        let nginx_dir = dir.join("nginx");
        let tmp = nginx_dir.join("tmp");
        let (nd, tmp) = (nginx_dir.display(), tmp.display());
        let nginx_conf = [
            "daemon off;".to_owned(),
            "master_process on;".to_owned(),
            "worker_processes 1;".to_owned(),
            "user root;".to_owned(),
            format!("pid {nd}/nginx.pid;"),
            format!("error_log {nd}/error.log warn;"),
            "events {".to_owned(),
            "    worker_connections 256;".to_owned(),
            "}".to_owned(),
            "http {".to_owned(),
            format!("    access_log {nd}/access.log;"),
            format!("    client_body_temp_path {tmp}/client_body;"),
            format!("    proxy_temp_path {tmp}/proxy;"),
            format!("    fastcgi_temp_path {tmp}/fastcgi;"),
            format!("    uwsgi_temp_path {tmp}/uwsgi;"),
            format!("    scgi_temp_path {tmp}/scgi;"),
            format!("    include {nd}/conf.d/*.conf;"),
            "    server {".to_owned(),
            format!("        listen {ip}:80;"),
            "        location / {".to_owned(),
            "            proxy_pass http://app;".to_owned(),
            "            proxy_set_header Host $host;".to_owned(),
            "            proxy_connect_timeout 2s;".to_owned(),
            "        }".to_owned(),
            "    }".to_owned(),
            "}".to_owned(),
        ];
        write(&nginx_dir.join("nginx.conf"), &(nginx_conf.join("\n") + "\n"))?;
        let nginx_log = nginx_dir.join("error.log");
        let mut nginx = spawn(
            Command::new(&tools.nsenter)
                .arg(format!("--net=/run/netns/{name}"))
                .arg("--")
                .arg(&tools.nginx)
                .arg("-e")
                .arg(&nginx_log)
                .arg("-c")
                .arg(nginx_dir.join("nginx.conf")),
            &nginx_dir.join("nginx.out"),
        )?;
        let nginx_ready = wait_ready("nginx", &mut nginx, &nginx_log, Duration::from_secs(20), |pid| {
            sys::listening(pid, ip, 80)
        });
        droplet.nginx = Some(nginx);
        nginx_ready?;

        droplet.wait_dockerd(setup)?;
        Ok(droplet)
    }

    /// Writes daemon.json and starts dockerd in the namespace (with vfs instead of overlay2 once overlay2
    /// has failed in this process).
    fn start_dockerd(&self, setup: &Setup<'_>) -> Result<Child, GroundError> {
        let docker = self.dir.join("docker");
        let (bip, pool) = engine_networks(setup.slot, self.index);
        let config = docker.join("daemon.json");
        let driver = if NO_OVERLAY.load(Ordering::Relaxed) {
            "vfs"
        } else {
            "overlay2"
        };
        let daemon = serde_json::json!({
            "data-root": docker.join("data"),
            "exec-root": docker.join("x"),
            "pidfile": docker.join("dockerd.pid"),
            "hosts": [self.docker_host()],
            "storage-driver": driver,
            "bip": bip,
            "default-address-pools": [{"base": pool, "size": 26}],
            "insecure-registries": [setup.registry.to_string()],
            // Container processes land in a cgroup named after the droplet, so a killed run's
            // containers can be found; the containerd namespace keeps engines apart even if a system
            // containerd were running.
            "cgroup-parent": format!("/{}", self.name),
            "containerd-namespace": self.name,
            "containerd-plugins-namespace": format!("{}-plugins", self.name),
            "log-level": "warn",
            // Bounds how long a teardown waits for containers that ignore SIGTERM.
            "shutdown-timeout": 5,
        });
        write(&config, &format!("{daemon:#}\n"))?;
        spawn(
            Command::new(&self.tools.nsenter)
                .arg(format!("--net=/run/netns/{}", self.name))
                .arg("--")
                .arg(&self.tools.dockerd)
                .arg("--config-file")
                .arg(&config),
            &self.dockerd_log_path(),
        )
    }

    /// Waits for dockerd; when it exits because overlay2 cannot work here (a temp dir on overlayfs),
    /// starts it again with vfs, and so does every later droplet of this process.
    fn wait_dockerd(&mut self, setup: &Setup<'_>) -> Result<(), GroundError> {
        let socket = self.docker_socket();
        let log = self.dockerd_log_path();
        let Some(dockerd) = self.dockerd.as_mut() else {
            return Err(GroundError::failed("dockerd was not started"));
        };
        let first = wait_ready("dockerd", dockerd, &log, Duration::from_secs(60), |_| {
            docker_ping(&socket)
        });
        let overlay_failed = first.is_err()
            && !NO_OVERLAY.load(Ordering::Relaxed)
            && matches!(dockerd.try_wait(), Ok(Some(_)))
            && read(&log).is_ok_and(|l| l.contains("graphdriver") || l.contains("overlay"));
        if !overlay_failed {
            return first;
        }
        NO_OVERLAY.store(true, Ordering::Relaxed);
        self.dockerd = Some(self.start_dockerd(setup)?);
        let Some(dockerd) = self.dockerd.as_mut() else {
            return Err(GroundError::failed("dockerd was not started"));
        };
        wait_ready("dockerd (vfs)", dockerd, &log, Duration::from_secs(60), |_| {
            docker_ping(&socket)
        })
    }

    /// The pids of this droplet's sshd (the listener), dockerd and nginx (the master).
    pub fn pids(&self) -> Vec<u32> {
        [&self.sshd, &self.dockerd, &self.nginx]
            .into_iter()
            .flatten()
            .map(Child::id)
            .collect()
    }

    /// Which droplet this is, counting from 1.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The network namespace's name (`/run/netns/<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The droplet's address, 10.250.X.(10+i).
    pub fn ip(&self) -> Ipv4Addr {
        self.ip
    }

    /// Where to SSH: `root@10.250.X.Y` (port 22).
    pub fn host(&self) -> String {
        format!("root@{}", self.ip)
    }

    /// The host's public key, `ssh-ed25519 AAAA…`.
    pub fn host_public_key(&self) -> &str {
        &self.host_key
    }

    /// A plain known_hosts line: `10.250.X.Y ssh-ed25519 AAAA…`.
    pub fn known_hosts_line(&self) -> String {
        format!("{} {}", self.ip, self.host_key)
    }

    /// The same entry hashed as `ssh-keygen -H` (and `ssh-keyscan -H`) write it: `|1|salt|hash ssh-ed25519 AAAA…`.
    pub fn hashed_known_hosts_line(&self) -> &str {
        &self.hashed_line
    }

    /// The host key's fingerprint, `SHA256:…` (base64 without padding, as `ssh-keygen -l` prints it).
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The ground's client private key (OpenSSH format), which this droplet's root accepts.
    pub fn client_key_pem(&self) -> Secret {
        self.client_pem.clone()
    }

    /// The file holding [`Droplet::client_key_pem`].
    pub fn client_key_path(&self) -> &Path {
        &self.client_key
    }

    /// The droplet's directory (in the ground's temp dir).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// A directory private to this droplet for the deploy tool's state (releases, locks): every
    /// namespace sees the same filesystem, so the tool under test should be pointed here.
    pub fn state_dir(&self) -> PathBuf {
        self.dir.join("state")
    }

    /// [`Droplet::state_dir`] as this droplet's SSH sessions also see it, at the same path on every
    /// droplet ([`OWN_DIR`]).
    pub fn own_state_dir(&self) -> String {
        format!("{OWN_DIR}/state")
    }

    /// [`Droplet::upstream_file`] at the path every droplet's sessions share.
    pub fn own_upstream_file(&self) -> String {
        format!("{OWN_DIR}/nginx/conf.d/app-upstream.conf")
    }

    /// The nginx check command with the configuration at the shared path (same on every droplet).
    pub fn own_nginx_check_cmd(&self) -> String {
        self.nginx_cmd(&["-t"])
            .replace(&self.dir.display().to_string(), OWN_DIR)
    }

    /// The nginx reload command with the configuration at the shared path (same on every droplet).
    pub fn own_nginx_reload_cmd(&self) -> String {
        self.nginx_cmd(&["-s", "reload"])
            .replace(&self.dir.display().to_string(), OWN_DIR)
    }

    fn docker_socket(&self) -> PathBuf {
        self.dir.join("docker/docker.sock")
    }

    /// This droplet's engine, `unix://…/docker.sock` (what remote sessions get as `DOCKER_HOST`).
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.docker_socket().display())
    }

    /// The `docker` CLI set up for this droplet's engine, from the host side.
    pub fn docker_command(&self) -> Command {
        let mut cmd = Command::new(&self.tools.docker);
        cmd.env("DOCKER_HOST", self.docker_host())
            .env("DOCKER_CONFIG", self.dir.join("docker/config"))
            .stdin(Stdio::null());
        cmd
    }

    /// Runs `docker <args>` against this droplet's engine and returns its stdout; panics with the
    /// command and its stderr when it fails.
    pub fn docker(&self, args: &[&str]) -> String {
        sys::run(self.docker_command().args(args))
            .unwrap_or_else(|e| panic!("docker on droplet {}: {e}", self.index))
    }

    fn dockerd_log_path(&self) -> PathBuf {
        self.dir.join("docker/dockerd.log")
    }

    /// dockerd's log.
    pub fn dockerd_log(&self) -> String {
        read(&self.dockerd_log_path()).unwrap_or_default()
    }

    fn sshd_log_path(&self) -> PathBuf {
        self.dir.join("ssh/sshd.log")
    }

    /// sshd's log (`LogLevel VERBOSE`: connections, accepted keys, session ends).
    pub fn sshd_log(&self) -> String {
        read(&self.sshd_log_path()).unwrap_or_default()
    }

    /// This droplet's nginx.conf.
    pub fn nginx_conf(&self) -> PathBuf {
        self.dir.join("nginx/nginx.conf")
    }

    /// nginx's error log.
    pub fn nginx_log(&self) -> String {
        read(&self.dir.join("nginx/error.log")).unwrap_or_default()
    }

    fn nginx_cmd(&self, action: &[&str]) -> String {
        let mut words = vec![self.tools.nginx.display().to_string()];
        words.extend(action.iter().map(|a| (*a).to_owned()));
        words.extend([
            "-e".to_owned(),
            self.dir.join("nginx/error.log").display().to_string(),
            "-c".to_owned(),
            self.nginx_conf().display().to_string(),
        ]);
        words
            .iter()
            .map(|w| sys::shell_quote(w))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The shell command that tests this droplet's nginx configuration (run it on the droplet).
    pub fn nginx_check_cmd(&self) -> String {
        self.nginx_cmd(&["-t"])
    }

    /// The shell command that reloads this droplet's nginx (run it on the droplet).
    pub fn nginx_reload_cmd(&self) -> String {
        self.nginx_cmd(&["-s", "reload"])
    }

    /// The file that defines nginx's `upstream app { … }`, included from `http {}`. The ground writes
    /// one pointing at a closed port (nginx answers 502); a deploy rewrites it and reloads nginx.
    pub fn upstream_file(&self) -> PathBuf {
        self.dir.join("nginx/conf.d/app-upstream.conf")
    }

    /// nginx on this droplet, `http://10.250.X.Y/`.
    pub fn proxy_url(&self) -> String {
        format!("http://{}/", self.ip)
    }

    /// `ssh` (the OpenSSH client) to this droplet's root with the ground's key and known_hosts, strict
    /// host key checking and no user configuration; `remote` is the remote command.
    pub fn ssh_command(&self, remote: &str) -> Command {
        self.ssh_command_with(&self.known_hosts, remote)
    }

    /// [`Droplet::ssh_command`] with another known_hosts file.
    pub fn ssh_command_with(&self, known_hosts: &Path, remote: &str) -> Command {
        let mut cmd = Command::new(&self.tools.ssh);
        cmd.args(["-F", "/dev/null", "-i"])
            .arg(&self.client_key)
            .args(["-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes"])
            .args(["-o", "StrictHostKeyChecking=yes", "-o"])
            .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
            .args(["-o", "GlobalKnownHostsFile=/dev/null"])
            // The default post-quantum key exchange doubles the connection time on a slow CPU.
            .args(["-o", "KexAlgorithms=curve25519-sha256", "-o", "ConnectTimeout=10"])
            .arg(self.host())
            .arg("--")
            .arg(remote)
            .stdin(Stdio::null());
        cmd
    }

    /// Takes the droplet off the network (its veth down): connections to it stall, as to a dead host.
    pub fn cut_link(&self) {
        sys::run(Command::new(&self.tools.ip).args(["link", "set", &self.veth, "down"]))
            .unwrap_or_else(|e| panic!("cut_link on droplet {}: {e}", self.index));
    }

    /// Puts the droplet back on the network.
    pub fn restore_link(&self) {
        sys::run(Command::new(&self.tools.ip).args(["link", "set", &self.veth, "up"]))
            .unwrap_or_else(|e| panic!("restore_link on droplet {}: {e}", self.index));
    }

    /// Kills sshd's per-connection processes (every open SSH session drops) but not the listener, which
    /// accepts new connections. Returns how many connections were killed.
    pub fn kill_ssh_sessions(&self) -> usize {
        let Some(listener) = self.sshd.as_ref().map(Child::id) else {
            return 0;
        };
        let sessions = sys::children_of(listener);
        sys::signal(&sessions, "KILL");
        sessions.len()
    }
}

/// Whether the engine answers `GET /_ping` on its socket.
fn docker_ping(socket: &Path) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::os::unix::net::UnixStream::connect(socket) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = String::new();
    stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .and_then(|()| stream.read_to_string(&mut answer))
        .is_ok()
        && answer.starts_with("HTTP/1.0 200")
}

impl Drop for Droplet {
    fn drop(&mut self) {
        if let Some(mut nginx) = self.nginx.take() {
            sys::stop(&mut nginx, Duration::from_secs(5));
        }
        if let Some(mut sshd) = self.sshd.take() {
            sys::stop(&mut sshd, Duration::from_secs(5));
        }
        // dockerd stops its containers (up to `shutdown-timeout`) and its containerd first.
        if let Some(mut dockerd) = self.dockerd.take() {
            sys::stop(&mut dockerd, Duration::from_secs(30));
        }
        // Whatever is left in the namespace (SSH sessions' commands, a shim) or in the droplet's cgroups.
        let inodes: Vec<u64> = sys::netns_inode(&self.name).into_iter().collect();
        let rest = sys::find_processes(&inodes, Some(&format!("/{}/", self.name)), None);
        sys::kill_all(&rest);
        sys::unmount_all(&self.dir);
        if Path::new("/run/netns").join(&self.name).exists() {
            let _ = sys::run(Command::new(&self.tools.ip).args(["netns", "del", &self.name]));
        }
        if link_exists(&self.veth) {
            let _ = sys::run(Command::new(&self.tools.ip).args(["link", "del", &self.veth]));
        }
        remove_cgroups(&self.name);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn names_fit_linux_interface_names() {
        for slot in [1, 9, MAX_SLOTS] {
            for i in [1, 9, MAX_DROPLETS] {
                for name in [veth_name(slot, i), bridge_name(slot), netns_name(slot, i)] {
                    // IFNAMSIZ is 16 with the terminating NUL.
                    assert!(name.len() <= 15, "{name}");
                }
            }
        }
    }

    #[test]
    fn engine_networks_are_distinct_and_inside_their_ranges() {
        let mut seen = HashSet::new();
        for slot in 1..=MAX_SLOTS {
            for i in 1..=MAX_DROPLETS {
                let (bip, pool) = engine_networks(slot, i);
                assert!(seen.insert(bip.clone()), "{bip} twice");
                assert!(seen.insert(pool.clone()), "{pool} twice");
                let (addr, _) = pool.split_once('/').expect("cidr");
                let addr: Ipv4Addr = addr.parse().expect("address");
                assert_eq!(
                    u32::from(addr) >> 22,
                    u32::from(Ipv4Addr::new(100, 64, 0, 0)) >> 22,
                    "{pool}"
                );
            }
        }
        assert_eq!(
            engine_networks(3, 2),
            ("172.17.3.1/24".to_owned(), "100.65.8.0/21".to_owned())
        );
    }

    #[test]
    fn http_get_takes_plain_http_urls_only() {
        for url in ["https://10.0.0.1/", "10.0.0.1/", "http://not an address/"] {
            let err = http_get(url, Duration::from_millis(10)).expect_err(url);
            assert!(err.to_string().contains('`'), "{url}: {err}");
        }
    }

    #[test]
    fn grounds_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Ground>();
        shareable::<Droplet>();
    }
}
