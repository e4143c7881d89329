//! The shell run on the host, one small script per step. Every script runs under
//! `bash -c 'set -euo pipefail …'` ([`super::ssh::Session::run`]); every path and name in it is
//! quoted; secrets never appear in a script, only on stdin.

use super::ssh::quote;

/// Where a project's releases and lock live on the host.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `<state-dir>/<project>`.
    pub base: String,
}

impl Layout {
    /// The layout under `state_dir`.
    pub fn new(state_dir: &str, project: &str) -> Self {
        Self {
            base: format!("{}/{project}", state_dir.trim_end_matches('/')),
        }
    }

    /// A release's directory.
    pub fn release(&self, id: &str) -> String {
        format!("{}/releases/{id}", self.base)
    }

    /// Tries to take the lock: exit 0 taken; exit 75 held (stdout: `age=<seconds>` then the holder).
    /// The holder's JSON comes on stdin.
    pub fn lock_take(&self) -> String {
        let b = quote(&self.base);
        format!(
            "mkdir -p {b}
if mkdir {b}/lock 2>/dev/null; then
  cat > {b}/lock/holder.json
  touch {b}/lock/heartbeat
  exit 0
fi
cat > /dev/null
beat=$(stat -c %Y {b}/lock/heartbeat 2>/dev/null || stat -c %Y {b}/lock 2>/dev/null || date +%s)
echo \"age=$(( $(date +%s) - beat ))\"
cat {b}/lock/holder.json 2>/dev/null || echo '{{}}'
exit 75"
        )
    }

    /// Removes a stale lock, only if it still has the holder token we saw.
    pub fn lock_break(&self, token: &str) -> String {
        let b = quote(&self.base);
        let t = quote(token);
        format!(
            "if grep -qF {t} {b}/lock/holder.json 2>/dev/null; then
  mv {b}/lock {b}/lock.stale.$$ && rm -rf {b}/lock.stale.$$
fi"
        )
    }

    /// Refreshes our lock's heartbeat (exit 3 if the lock is no longer ours).
    pub fn lock_beat(&self, token: &str) -> String {
        let b = quote(&self.base);
        format!(
            "grep -qF {t} {b}/lock/holder.json || exit 3\ntouch {b}/lock/heartbeat",
            t = quote(token)
        )
    }

    /// Releases our lock (and only ours).
    pub fn lock_release(&self, token: &str) -> String {
        let b = quote(&self.base);
        format!(
            "if grep -qF {t} {b}/lock/holder.json 2>/dev/null; then rm -rf {b}/lock; fi",
            t = quote(token)
        )
    }

    /// Reads the state: `current=<id>`, `release=<id>` per sealed release (oldest first), and the
    /// upstream file's marker line (`upstream=release=<id> colour=<c> port=<n>`). Releases are
    /// listed oldest first by creation time (their IDs may share a second).
    pub fn read_state(&self, upstream_file: Option<&str>) -> String {
        let b = quote(&self.base);
        let mut s = format!(
            "cur=$(readlink {b}/current 2>/dev/null || true)
echo \"current=${{cur##*/}}\"
if [ -d {b}/releases ]; then
  for d in $(ls -1tr {b}/releases); do
    case \"$d\" in *.tmp) ;; *) [ -f {b}/releases/\"$d\"/release.json ] && echo \"release=$d\" ;; esac
  done
fi
"
        );
        if let Some(f) = upstream_file {
            s.push_str(&format!(
                "if [ -f {f} ]; then sed -n 's/^# ops-actions \\(release=.*\\)$/upstream=\\1/p' {f} | head -n 1; fi\n",
                f = quote(f)
            ));
        }
        s
    }

    /// Writes a release in one step and seals it by one rename. Stdin carries the files, each as a
    /// `<name> <length>` line then exactly that many bytes ([`frame`]); each file gets mode 0600.
    pub fn release_upload(&self, id: &str) -> String {
        let r = self.release(id);
        let t = quote(&format!("{r}.tmp"));
        format!(
            "umask 077
rm -rf {t}
mkdir -p {t}
while IFS=' ' read -r name len; do
  case \"$name\" in ''|*/*|.*) echo \"bad file name in the upload\" >&2; exit 2 ;; esac
  head -c \"$len\" > {t}/\"$name\"
  [ \"$(wc -c < {t}/\"$name\")\" -eq \"$len\" ] || {{ echo \"short upload of $name\" >&2; exit 2; }}
done
test ! -e {d}
mv {t} {d}",
            d = quote(&r)
        )
    }

    /// Points `current` at a release by an atomic rename of a new symlink.
    pub fn set_current(&self, id: &str) -> String {
        let b = quote(&self.base);
        format!(
            "test -d {r}\nln -sfn {rel} {b}/current.new\nmv -T {b}/current.new {b}/current",
            r = quote(&self.release(id)),
            rel = quote(&format!("releases/{id}"))
        )
    }

    /// Removes a release that never went live.
    pub fn release_discard(&self, id: &str) -> String {
        format!(
            "rm -rf {r} {t}",
            r = quote(&self.release(id)),
            t = quote(&format!("{}.tmp", self.release(id)))
        )
    }

    /// Reads a release's record (`release.json`) given its directory.
    pub fn release_read_json(&self, dir: &str) -> String {
        format!("cat {}", quote(&format!("{dir}/release.json")))
    }

    /// Deletes the given releases, then removes the images that only they used and no container uses
    /// (never a global prune: only images named in this project's release records).
    pub fn prune(&self, drop: &[String], keep_images: &[String], drop_images: &[String]) -> String {
        let mut s = String::new();
        for id in drop {
            s.push_str(&format!("rm -rf {}\n", quote(&self.release(id))));
        }
        for image in drop_images {
            if keep_images.contains(image) {
                continue;
            }
            // `docker image rm` refuses an image a container uses: that is the point.
            s.push_str(&format!(
                "docker image rm {} >/dev/null 2>&1 || true\n",
                quote(image)
            ));
        }
        if s.is_empty() {
            s.push_str("true\n");
        }
        s
    }
}

/// Frames files for [`Layout::release_upload`]'s stdin.
pub fn frame(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content) in files {
        out.extend_from_slice(format!("{name} {}\n", content.len()).as_bytes());
        out.extend_from_slice(content);
    }
    out
}

/// `docker compose` for a project and file.
pub fn compose(project: &str, file: &str) -> String {
    format!("docker compose -p {} -f {}", quote(project), quote(file))
}

/// Writes the upstream file from stdin, checks the proxy's configuration (restoring the old file when
/// the check fails), then reloads.
pub fn proxy_switch(upstream_file: &str, check: &str, reload: &str) -> String {
    let f = quote(upstream_file);
    format!(
        "mkdir -p \"$(dirname {f})\"
cat > {f}.ops-new
if [ -f {f} ]; then cp -p {f} {f}.ops-prev; else rm -f {f}.ops-prev; fi
mv -f {f}.ops-new {f}
if ! out=$( {check} 2>&1 ); then
  if [ -f {f}.ops-prev ]; then mv -f {f}.ops-prev {f}; else rm -f {f}; fi
  printf '%s\\n' \"$out\" >&2
  echo 'the proxy configuration check failed: the previous upstream file is back, nothing was reloaded' >&2
  exit 3
fi
{reload}"
    )
}

/// The containers of a project: `C <service> <image-id> <status> <restarts> <health>` per container,
/// then `I <image-id> <repo-digest>…` per image.
pub fn inspect(project: &str) -> String {
    format!(
        "ids=$(docker ps -aq --filter label=com.docker.compose.project={p})
[ -n \"$ids\" ] || exit 0
docker inspect --format 'C {{{{index .Config.Labels \"com.docker.compose.service\"}}}} {{{{.Image}}}} {{{{.State.Status}}}} {{{{.RestartCount}}}} {{{{if .State.Health}}}}{{{{.State.Health.Status}}}}{{{{else}}}}none{{{{end}}}}' $ids
imgs=$(docker inspect --format '{{{{.Image}}}}' $ids | sort -u)
docker image inspect --format 'I {{{{.Id}}}} {{{{range .RepoDigests}}}}{{{{.}}}} {{{{end}}}}' $imgs",
        p = quote(project)
    )
}

/// One container as [`inspect`] prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    /// The Compose service.
    pub service: String,
    /// The image ID.
    pub image: String,
    /// `running`, `exited`, …
    pub status: String,
    /// Restarts so far.
    pub restarts: u32,
    /// `healthy`, `unhealthy`, `starting` or `none`.
    pub health: String,
    /// The image's repo digests.
    pub digests: Vec<String>,
}

/// Parses [`inspect`]'s output.
pub fn parse_inspect(text: &str) -> Vec<Container> {
    let mut images: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        if f.next() == Some("I")
            && let Some(id) = f.next()
        {
            images.push((id.to_owned(), f.map(str::to_owned).collect()));
        }
    }
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() != 6 || f[0] != "C" {
                return None;
            }
            Some(Container {
                service: f[1].to_owned(),
                image: f[2].to_owned(),
                status: f[3].to_owned(),
                restarts: f[4].parse().unwrap_or(0),
                health: f[5].to_owned(),
                digests: images
                    .iter()
                    .find(|(id, _)| id == f[2])
                    .map(|(_, d)| d.clone())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inspect_lines() {
        let text = "C web sha256:aa running 0 healthy\nC db sha256:bb running 2 none\nI sha256:aa reg/web@sha256:11 \nI sha256:bb reg/db@sha256:22 reg2/db@sha256:22 \n";
        let c = parse_inspect(text);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].service, "web");
        assert_eq!(c[0].digests, ["reg/web@sha256:11"]);
        assert_eq!(c[1].restarts, 2);
        assert_eq!(c[1].digests.len(), 2);
    }

    #[test]
    fn frames_are_name_length_then_bytes() {
        let f = frame(&[("a.env", b"K='v'\n"), ("b.json", b"{}")]);
        assert_eq!(f, b"a.env 6\nK='v'\nb.json 2\n{}".to_vec());
    }

    #[test]
    fn scripts_quote_paths() {
        let l = Layout::new("/var/lib/ops actions/", "shop");
        assert_eq!(l.base, "/var/lib/ops actions/shop");
        assert!(l.lock_take().contains("mkdir '/var/lib/ops actions/shop'/lock"));
        assert!(
            l.set_current("r1")
                .contains("mv -T '/var/lib/ops actions/shop'/current.new")
        );
        assert_eq!(
            compose("shop-blue", "/a b/c.json"),
            "docker compose -p shop-blue -f '/a b/c.json'"
        );
    }
}
