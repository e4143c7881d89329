//! The system side of the droplet ground: running programs, signalling and reaping daemons, reading
//! `/proc` (who listens, who lives in which network namespace or cgroup, what is mounted), the slot lock
//! files that keep grounds of different processes apart, and the in-process cap on grounds.
//!
//! Signals go through the `kill` program and mounts through `umount`: the workspace forbids `unsafe`, and
//! these are a few calls per ground.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use super::GroundError;

/// How often readiness and exit are polled. Polls are bounded by a deadline; nothing waits a fixed time.
pub(crate) const POLL: Duration = Duration::from_millis(10);

/// A fixed `PATH` for the daemons: dockerd finds containerd, runc, docker-proxy and iptables through it,
/// whatever the test's own `PATH` is.
pub(crate) const DAEMON_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Runs a program to completion; a non-zero exit is an error naming the command and its stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<String, GroundError> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| GroundError::failed(format!("cannot run `{}`: {e}", show(cmd))))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(GroundError::failed(format!(
            "`{}` failed ({}): {}",
            show(cmd),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// Runs `ip -batch -` (in network namespace `netns` when given) with one command per line.
pub(crate) fn ip_batch(ip: &Path, netns: Option<&str>, lines: &[String]) -> Result<(), GroundError> {
    let mut cmd = Command::new(ip);
    if let Some(ns) = netns {
        cmd.args(["-n", ns]);
    }
    cmd.args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let what = format!("{} {}", show(&cmd), lines.join("; "));
    let mut child = cmd
        .spawn()
        .map_err(|e| GroundError::failed(format!("cannot run `{what}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(lines.join("\n").as_bytes());
        let _ = stdin.write_all(b"\n");
    }
    let out = child
        .wait_with_output()
        .map_err(|e| GroundError::failed(format!("`{what}`: {e}")))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(GroundError::failed(format!(
            "`{what}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// The command line as a shell would show it (for error messages).
pub(crate) fn show(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Quotes a word for a POSIX shell.
pub(crate) fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._-:=@,+".contains(&b))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Sends `signal` (a name such as `TERM`) to each pid; pids that are already gone are ignored.
pub(crate) fn signal(pids: &[u32], signal: &str) {
    if pids.is_empty() {
        return;
    }
    let _ = Command::new("kill")
        .args(["-s", signal])
        .args(pids.iter().map(u32::to_string))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// Whether `pid` still runs (exists and is not a zombie waiting for its parent).
pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

/// SIGKILLs `pids` and waits (up to 10 s) until none of them runs any more.
pub(crate) fn kill_all(pids: &[u32]) {
    signal(pids, "KILL");
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(POLL);
    }
}

/// Stops a daemon: SIGTERM, up to `grace` for it to exit, then SIGKILL. Always reaps it.
pub(crate) fn stop(child: &mut Child, grace: Duration) {
    if let Ok(Some(_)) = child.try_wait() {
        return;
    }
    signal(&[child.id()], "TERM");
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(POLL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Every pid on the machine, except this process.
fn pids() -> Vec<u32> {
    let me = std::process::id();
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
                .filter(|&p| p != me)
                .collect()
        })
        .unwrap_or_default()
}

/// The inode of a network namespace file (`/run/netns/NAME`), which `/proc/<pid>/ns/net` links name.
pub(crate) fn netns_inode(name: &str) -> Option<u64> {
    std::fs::metadata(Path::new("/run/netns").join(name))
        .ok()
        .map(|m| m.ino())
}

/// Pids of the processes that match: a network namespace among `netns_inodes`, a cgroup path that holds
/// `cgroup_part`, or a command line that holds `cmdline_part`.
pub(crate) fn find_processes(
    netns_inodes: &[u64],
    cgroup_part: Option<&str>,
    cmdline_part: Option<&str>,
) -> Vec<u32> {
    let links: Vec<String> = netns_inodes.iter().map(|i| format!("net:[{i}]")).collect();
    pids()
        .into_iter()
        .filter(|pid| {
            let base = PathBuf::from(format!("/proc/{pid}"));
            if !links.is_empty()
                && let Ok(link) = std::fs::read_link(base.join("ns/net"))
                && links.iter().any(|l| link.as_os_str() == l.as_str())
            {
                return true;
            }
            if let Some(part) = cgroup_part
                && std::fs::read_to_string(base.join("cgroup")).is_ok_and(|c| c.contains(part))
            {
                return true;
            }
            if let Some(part) = cmdline_part
                && std::fs::read(base.join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).replace('\0', " ").contains(part))
            {
                return true;
            }
            false
        })
        .collect()
}

/// The children of `parent` (from `/proc/<pid>/stat`).
pub(crate) fn children_of(parent: u32) -> Vec<u32> {
    pids()
        .into_iter()
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                // `pid (comm) state ppid …`: comm may hold spaces and parentheses, so split after the last `)`.
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

/// Whether a TCP socket listens on `ip:port` in the network namespace of `pid` (`/proc/<pid>/net/tcp`
/// shows the table of the process's namespace). Reading it opens no connection, so nothing shows up in
/// the daemon's log.
pub(crate) fn listening(pid: u32, ip: Ipv4Addr, port: u16) -> bool {
    let want = format!("{:08X}:{port:04X}", u32::from_le_bytes(ip.octets()));
    let any = format!("00000000:{port:04X}");
    std::fs::read_to_string(format!("/proc/{pid}/net/tcp")).is_ok_and(|table| {
        table.lines().skip(1).any(|line| {
            let mut cols = line.split_whitespace().skip(1);
            let local = cols.next().unwrap_or_default();
            let state = cols.nth(1).unwrap_or_default();
            state == "0A" && (local == want || local == any)
        })
    })
}

/// Mount points at or under `dir`, deepest first.
pub(crate) fn mounts_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(info) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = info
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|p| PathBuf::from(unescape_mount_path(p)))
        .filter(|p| p.starts_with(dir))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.components().count()));
    found.dedup();
    found
}

/// `/proc/self/mountinfo` writes space, tab, newline and backslash as `\ooo`.
fn unescape_mount_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 4 <= bytes.len()
            && bytes[i + 1..i + 4].iter().all(|b| (b'0'..=b'7').contains(b))
            && let Ok(v) = u8::from_str_radix(&raw[i + 1..i + 4], 8)
        {
            out.push(v);
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Unmounts everything under `dir` (a daemon killed mid-way leaves overlay and namespace mounts behind).
pub(crate) fn unmount_all(dir: &Path) {
    for mount in mounts_under(dir) {
        let ok = Command::new("umount")
            .arg(&mount)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            let _ = Command::new("umount")
                .arg("--lazy")
                .arg(&mount)
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// A one-shot HTTP/1.1 GET over a plain TCP connection: status code and body. Bounded by `timeout`
/// for the connection and for each read and write.
pub(crate) fn http_get(addr: SocketAddr, path: &str, timeout: Duration) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(Some(timeout))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: ops-test\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {head:?}")))?;
    Ok((status, body.to_owned()))
}

/// The directory of the slot lock files. /run is a tmpfs: a reboot clears it along with every network
/// namespace, so a lock file never outlives what it guards.
const LOCK_DIR: &str = "/run/ops-test-droplet";

/// A ground's slot (its 10.250.X.0/24, its names), held through a `flock` on `slot-X.lock`. The kernel
/// drops the lock when the holder dies, however it dies: a slot whose lock can be taken has no living
/// owner, and whatever is left under its names is stale.
#[derive(Debug)]
pub(crate) struct SlotLock {
    pub(crate) slot: u8,
    file: File,
}

impl SlotLock {
    /// Takes the lock of `slot` without waiting; `None` when a living ground holds it.
    pub(crate) fn try_take(slot: u8) -> Result<Option<Self>, GroundError> {
        std::fs::create_dir_all(LOCK_DIR)
            .map_err(|e| GroundError::failed(format!("cannot create `{LOCK_DIR}`: {e}")))?;
        let path = Path::new(LOCK_DIR).join(format!("slot-{slot}.lock"));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| GroundError::failed(format!("cannot open `{}`: {e}", path.display())))?;
        match file.try_lock() {
            Ok(()) => Ok(Some(Self { slot, file })),
            Err(std::fs::TryLockError::WouldBlock) => Ok(None),
            Err(std::fs::TryLockError::Error(e)) => Err(GroundError::failed(format!(
                "cannot lock `{}`: {e}",
                path.display()
            ))),
        }
    }

    /// The slots that have a lock file (a ground used them at some point since boot).
    pub(crate) fn known_slots() -> Vec<u8> {
        let mut slots: Vec<u8> = std::fs::read_dir(LOCK_DIR)
            .map(|dir| {
                dir.filter_map(|e| {
                    let name = e.ok()?.file_name().into_string().ok()?;
                    name.strip_prefix("slot-")?.strip_suffix(".lock")?.parse().ok()
                })
                .collect()
            })
            .unwrap_or_default();
        slots.sort_unstable();
        slots
    }

    /// What the last owner recorded: its pid and its ground directory.
    pub(crate) fn recorded(&mut self) -> (Option<u32>, Option<PathBuf>) {
        let mut text = String::new();
        let _ = std::io::Seek::rewind(&mut self.file);
        let _ = self.file.read_to_string(&mut text);
        let field = |key: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
                .map(str::to_owned)
        };
        (
            field("pid").and_then(|p| p.parse().ok()),
            field("dir").map(PathBuf::from),
        )
    }

    /// Records this process and its ground directory as the owner.
    pub(crate) fn record(&mut self, dir: &Path) {
        let _ = self.file.set_len(0);
        let _ = std::io::Seek::rewind(&mut self.file);
        let _ = write!(self.file, "pid={}\ndir={}\n", std::process::id(), dir.display());
        let _ = self.file.flush();
    }
}

/// At most this many grounds run at once in one process: each has a registry and per droplet an sshd, a
/// dockerd (with its containerd) and an nginx, and the machines that run the tests may have 2 cores.
pub(crate) const MAX_GROUNDS: usize = 2;

static RUNNING: (Mutex<usize>, Condvar) = (Mutex::new(0), Condvar::new());

/// One of the [`MAX_GROUNDS`] places; given back on drop.
#[derive(Debug)]
pub(crate) struct Permit(());

impl Permit {
    /// Waits for a place (tests beyond the cap queue here).
    pub(crate) fn acquire() -> Self {
        let (count, freed) = &RUNNING;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        while *n >= MAX_GROUNDS {
            n = freed.wait(n).unwrap_or_else(|p| p.into_inner());
        }
        *n += 1;
        Self(())
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let (count, freed) = &RUNNING;
        let mut n = count.lock().unwrap_or_else(|p| p.into_inner());
        *n = n.saturating_sub(1);
        freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_words_for_a_shell() {
        for (word, quoted) in [
            ("/usr/sbin/nginx", "/usr/sbin/nginx"),
            ("-c", "-c"),
            ("a b", "'a b'"),
            ("it's", r"'it'\''s'"),
            ("", "''"),
            ("$HOME", "'$HOME'"),
        ] {
            assert_eq!(shell_quote(word), quoted, "{word:?}");
        }
    }

    #[test]
    fn unescapes_mountinfo_paths() {
        for (raw, path) in [
            ("/a/b", "/a/b"),
            (r"/a\040b", "/a b"),
            (r"/x\134y", r"/x\y"),
            (r"/end\04", r"/end\04"),
        ] {
            assert_eq!(unescape_mount_path(raw), path, "{raw:?}");
        }
    }
}
