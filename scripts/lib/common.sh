# Shared helpers for scripts/*: sourced, not run.
# shellcheck shell=bash

say() { printf '\033[1m==>\033[0m %s\n' "$*" >&2; }
[ -n "${NO_COLOR:-}" ] || [ ! -t 2 ] && say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Runs a command as root (directly when we are root, else through sudo when it exists).
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install it by hand or run as root)"; fi
}

APT_UPDATED=0
# Installs Debian packages that are missing (by package name); `apt-get update` once per run.
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 || die "missing packages ${missing[*]} and no apt-get to install them"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    APT_UPDATED=1
  fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# Installs a PyPI tool at a pinned version unless that version is already on PATH.
pip_tool() {
  local name=$1 version=$2
  if command -v "$name" >/dev/null 2>&1 && "$name" --version 2>/dev/null | grep -q "$version"; then return 0; fi
  command -v python3 >/dev/null 2>&1 || apt_install python3 python3-pip
  say "installing $name $version from PyPI"
  python3 -m pip install --quiet --disable-pip-version-check "$name==$version" >&2 \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages "$name==$version" >&2
}

# The repository root.
repo_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

# Pinned linters, shared by scripts/test (installed before the tests, which run zizmor over the templates)
# and scripts/check-actions.
# shellcheck disable=SC2034 # used by the scripts that source this file
ZIZMOR_VERSION=1.32.0
