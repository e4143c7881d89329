#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2016 # backticks in single-quoted messages are Markdown
# Install the ops-actions binaries of the source tree this script lives in, and put their directory on PATH.
#
# Called by every action.yml of this repository: `"$GITHUB_ACTION_PATH/../_lib/install.sh"` from
# actions/<tool>, `"$GITHUB_ACTION_PATH/actions/_lib/install.sh"` from the root action. The runner
# downloads the whole repository at the ref the user pinned, so `$(dirname "$0")/../..` is the source tree
# of exactly that ref, and release.txt next to this script names the release (version and sha256 of each
# archive) built from it.
#
#   1. target   RUNNER_OS/RUNNER_ARCH (or `uname` outside Actions) -> a Rust target triple
#   2. cache    $RUNNER_TOOL_CACHE/ops-actions/<version>/<arch>/<archive> + <arch>.complete (@actions/tool-cache
#               layout) holds the release archive as downloaded. Its sha256 is checked against release.txt on
#               every use: on a runner that outlives its jobs, anything in the tool cache may have been put
#               there by an earlier job, so a cached entry is never trusted for being there
#   3. download otherwise the release archive (curl, https only, retries); its sha256 must match release.txt
#               (fail closed on a mismatch), then it is kept in the cache
#      unpack   the verified bytes (a private copy, hashed and unpacked: no window to swap them) go into a
#               new directory under RUNNER_TEMP, which the runner empties after the job
#   4. source   otherwise `cargo build --profile action --locked -p <tool>...` from the source tree, only
#               the tools asked for; the `action` profile (root Cargo.toml) is release without LTO and with
#               16 codegen units, several times faster to build. On a runner the target directory is kept
#               in the tool cache under the sha256 of the source tree (see `build_dir` below), so later
#               steps and jobs with the same tree reuse it; cargo's own CARGO_HOME (registry, git) is used
#               as the runner has it
#
# Inputs (environment; action.yml maps its inputs to these):
#   OPS_TOOLS               tools to install, separated by spaces, commas or newlines; empty = all of them
#   OPS_BUILD_FROM_SOURCE   true: skip the release archive and build from source (default false)
#   OPS_DOWNLOAD_URL        base URL holding the release archives, instead of this repository's GitHub
#                           release; https, or plain http to a loopback host (127.0.0.1, localhost, [::1])
#   OPS_VERIFY_ATTESTATION  true: check the archive's build provenance with `gh attestation verify`
#   OPS_GITHUB_TOKEN        token for `gh` (only used for the attestation check)
#   OPS_INSTALL_RETRIES     curl --retry count (default 5; tests use 0)
#   OPS_INSTALL_RETRY_DELAY curl --retry-delay in seconds (default: curl's own back-off)
#   OPS_CARGO               cargo to build with (default `cargo` from PATH)
#   OPS_TARGET_DIR          cargo --target-dir for source builds (default: on a runner
#                           $RUNNER_TOOL_CACHE/ops-actions-build/<tree sha256, 16 hex digits>, outside Actions
#                           $TMPDIR/ops-actions-target)
#   RUNNER_OS RUNNER_ARCH RUNNER_TOOL_CACHE RUNNER_TEMP GITHUB_SERVER_URL GITHUB_OUTPUT GITHUB_PATH (runner)
#                           (outside Actions: `uname`, ${XDG_CACHE_HOME:-~/.cache} as the cache, $TMPDIR)
#
# Outputs: `path=<bin dir>` (a new directory under RUNNER_TEMP, or $TMPDIR outside Actions),
# `version=<version>` and `method=cache|download|build` appended to GITHUB_OUTPUT; the bin dir appended to
# GITHUB_PATH; the bin dir printed on stdout (so a developer can run
# `PATH="$(actions/_lib/install.sh):$PATH"`). Progress goes to stderr as `ops-actions: ...` lines.
# Exit status: 0 installed, 1 failed (checksum mismatch, build failure, ...), 2 invalid input.

# An exported bash function (an environment variable named `BASH_FUNC_<name>%%`) would replace any command
# this script runs, curl and sha256sum included. The check asks `env`, an external program, because a
# function can shadow builtins too.
if env | grep -q '^BASH_FUNC_'; then
  printf '::error title=ops-actions install::%s\n' \
    'refusing to run with exported bash functions (BASH_FUNC_* environment variables) in the environment' >&2
  exit 1
fi

set -euo pipefail
# No pathname expansion: tool names and release.txt values are split on whitespace and must never glob.
set -f
umask 022

lib_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
src_root=$(cd -- "$lib_dir/../.." && pwd)
release_txt="$lib_dir/release.txt"
# shellcheck source=common.sh
. "$lib_dir/common.sh"

log() {
  printf 'ops-actions: %s\n' "$*" >&2
}

# Workflow-command data escaping (% first, then CR and LF), so a message cannot end the command early.
escape_data() {
  # Patterns come from quoted variables and replacements are plain words: that reads the same in bash
  # 3.2 (macOS) and 5.x.
  local s=$1 pct='%' cr=$'\r' lf=$'\n'
  s=${s//"$pct"/%25}
  s=${s//"$cr"/%0D}
  s=${s//"$lf"/%0A}
  printf '%s' "$s"
}

# fail <status> <message> [hint]
fail() {
  printf '::error title=ops-actions install::%s\n' "$(escape_data "$2")" >&2
  if [ $# -gt 2 ]; then
    printf 'hint: %s\n' "$3" >&2
  fi
  exit "$1"
}

warn() {
  printf '::warning title=ops-actions install::%s\n' "$(escape_data "$1")" >&2
}

# parse_bool <input name> <value> <default>: the YAML 1.2 core set @actions/core accepts; empty = default.
parse_bool() {
  case "$2" in
    '') printf '%s\n' "$3" ;;
    true | True | TRUE) printf 'true\n' ;;
    false | False | FALSE) printf 'false\n' ;;
    *) fail 2 "invalid value for \`$1\`: \`$2\`" 'use true or false' ;;
  esac
}

trim() {
  local s=$1
  s=${s#"${s%%[![:space:]]*}"}
  s=${s%"${s##*[![:space:]]}"}
  printf '%s' "$s"
}

# ---------------------------------------------------------------------------------------------- inputs --

build_from_source=$(parse_bool build-from-source "$(trim "${OPS_BUILD_FROM_SOURCE:-}")" false)
verify_attestation=$(parse_bool verify-attestation "$(trim "${OPS_VERIFY_ATTESTATION:-}")" false)
download_url=$(trim "${OPS_DOWNLOAD_URL:-}")
retries=$(trim "${OPS_INSTALL_RETRIES:-5}")
retry_delay=$(trim "${OPS_INSTALL_RETRY_DELAY:-}")
cargo=${OPS_CARGO:-cargo}

case "$retries" in
  '' | *[!0-9]*) fail 2 "invalid \`OPS_INSTALL_RETRIES\`: \`$retries\`" 'use a whole number, e.g. 5' ;;
esac
case "$retry_delay" in
  *[!0-9]*) fail 2 "invalid \`OPS_INSTALL_RETRY_DELAY\`: \`$retry_delay\`" 'use a whole number of seconds' ;;
esac

# The tool list is validated before it reaches a path or a cargo argument.
requested_tools=''
for tool in $(printf '%s' "${OPS_TOOLS:-}" | tr ',\r\n\t' '    '); do
  ops_valid_tool_name "$tool" ||
    fail 2 "invalid tool name \`$tool\` in the tool list" 'names are lowercase letters, digits and hyphens, e.g. `do-deploy`'
  case " $requested_tools " in
    *" $tool "*) ;;
    *) requested_tools="${requested_tools:+$requested_tools }$tool" ;;
  esac
done

# ------------------------------------------------------------------------------------ platform & dirs --

runner_os=${RUNNER_OS:-}
runner_arch=${RUNNER_ARCH:-}
if [ -z "$runner_os" ]; then
  case "$(uname -s)" in
    Linux) runner_os=Linux ;;
    Darwin) runner_os=macOS ;;
    MINGW* | MSYS* | CYGWIN* | Windows_NT) runner_os=Windows ;;
    *) runner_os=$(uname -s) ;;
  esac
fi
if [ -z "$runner_arch" ]; then
  case "$(uname -m)" in
    x86_64 | amd64 | AMD64) runner_arch=X64 ;;
    aarch64 | arm64 | ARM64) runner_arch=ARM64 ;;
    *) runner_arch=$(uname -m) ;;
  esac
fi
target=$(ops_target_for "$runner_os" "$runner_arch")
# @actions/tool-cache names the arch directory after node's os.arch(): x64, arm64.
arch=$(printf '%s' "$runner_arch" | tr '[:upper:]' '[:lower:]')
exe=''
if [ "$runner_os" = Windows ]; then
  exe='.exe'
fi

# Git Bash on Windows understands C:\ paths, but unix-style ones are safer to build on.
to_unix_path() {
  if [ "$runner_os" = Windows ] && command -v cygpath >/dev/null 2>&1; then
    cygpath -u "$1"
  else
    printf '%s\n' "$1"
  fi
}
to_native_path() {
  if [ "$runner_os" = Windows ] && command -v cygpath >/dev/null 2>&1; then
    cygpath -w "$1"
  else
    printf '%s\n' "$1"
  fi
}

tmp_root=${RUNNER_TEMP:-${TMPDIR:-/tmp}}
tmp_root=$(to_unix_path "${tmp_root%/}")
if [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
  cache_root=$(to_unix_path "${RUNNER_TOOL_CACHE%/}")
else
  cache_root="${XDG_CACHE_HOME:-${HOME:?HOME is not set}/.cache}"
fi

# ---------------------------------------------------------------------------------------- release.txt --

# Format (documented at the top of release.txt): `#` comments and blank lines are skipped; every other line
# is `<key> <value...>`. Unknown keys and malformed values are errors, so a damaged file fails closed.
rel_version=''
rel_repository=''
rel_tools=''
rel_tools_seen=false
rel_sum=''
if [ -f "$release_txt" ]; then
  lineno=0
  while IFS= read -r line || [ -n "$line" ]; do
    lineno=$((lineno + 1))
    line=${line%$'\r'}
    case "$line" in
      '' | '#'*) continue ;;
    esac
    key=${line%% *}
    value=''
    if [ "$key" != "$line" ]; then
      value=$(trim "${line#* }")
    fi
    where="actions/_lib/release.txt line $lineno"
    case "$key" in
      version)
        case "$value" in
          '' | *[!0-9A-Za-z.+-]* | [!0-9]*) fail 1 "$where: invalid version \`$value\`" ;;
        esac
        rel_version=$value
        ;;
      repository)
        case "$value" in
          */*/* | /* | */ | *[!A-Za-z0-9_./-]*) fail 1 "$where: invalid repository \`$value\`, expected owner/name" ;;
          */*) rel_repository=$value ;;
          *) fail 1 "$where: invalid repository \`$value\`, expected owner/name" ;;
        esac
        ;;
      tools)
        for tool in $value; do
          ops_valid_tool_name "$tool" || fail 1 "$where: invalid tool name \`$tool\`"
        done
        rel_tools=$(printf '%s' "$value" | tr -s ' \t' '  ')
        rel_tools_seen=true
        ;;
      sha256)
        sum=${value%% *}
        sum_target=$(trim "${value#"$sum"}")
        case "$sum" in
          *[!0-9a-f]*) fail 1 "$where: invalid sha256 \`$sum\`, expected 64 lowercase hex digits" ;;
        esac
        [ "${#sum}" -eq 64 ] || fail 1 "$where: invalid sha256 \`$sum\`, expected 64 lowercase hex digits"
        case "$sum_target" in
          '' | *[!a-z0-9_-]*) fail 1 "$where: invalid target \`$sum_target\`" ;;
        esac
        if [ "$sum_target" = "$target" ]; then
          rel_sum=$sum
        fi
        ;;
      *) fail 1 "$where: unknown key \`$key\`" 'expected version, repository, tools or sha256' ;;
    esac
  done <"$release_txt"
fi

tree_version=''
if [ -f "$src_root/Cargo.toml" ]; then
  tree_version=$(ops_workspace_version "$src_root/Cargo.toml")
fi

# ---------------------------------------------------------------------------------------------- plan --

# Why the release archive cannot be used; empty means: try the cache, then the download.
reason=''
if [ "$build_from_source" = true ]; then
  reason='build-from-source is true'
elif [ -z "$target" ]; then
  reason="no release archive is built for $runner_os/$runner_arch"
elif [ -z "$rel_version" ]; then
  reason='release.txt names no release (this ref is not a release commit)'
elif [ -n "$tree_version" ] && [ "$tree_version" != "$rel_version" ]; then
  reason="release.txt is for $rel_version but the source tree is $tree_version"
elif [ -z "$rel_sum" ]; then
  reason="release.txt has no archive for $target"
elif [ -z "$rel_repository" ] && [ -z "$download_url" ]; then
  fail 1 'release.txt names no repository to download from' 'add a `repository owner/name` line'
else
  for tool in $requested_tools; do
    if [ "$rel_tools_seen" = true ]; then
      case " $rel_tools " in
        *" $tool "*) ;;
        *) reason="the release archive has no \`$tool\`" ;;
      esac
    fi
  done
fi

version=${rel_version:-$tree_version}
if [ -z "$reason" ]; then
  # A release archive is expected to hold every requested tool, or, when none was asked for, every tool
  # the release lists.
  expected_tools=${requested_tools:-$rel_tools}
else
  expected_tools=$requested_tools
fi

write_outputs() { # <bin dir> <method>
  local dir
  dir=$(to_native_path "$1")
  case "$dir" in
    *$'\n'* | *$'\r'*) fail 1 'the install directory contains a line break' ;;
  esac
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    # Single-line `name=value` form: the values were checked above to hold no line break.
    printf 'path=%s\nversion=%s\nmethod=%s\n' "$dir" "$version" "$2" >>"$GITHUB_OUTPUT"
  fi
  if [ -n "${GITHUB_PATH:-}" ]; then
    printf '%s\n' "$dir" >>"$GITHUB_PATH"
  fi
  printf '%s\n' "$dir"
}

has_tools() { # <dir>: every expected tool is a file in dir
  local tool
  for tool in $expected_tools; do
    [ -f "$1/$tool$exe" ] || return 1
  done
  return 0
}

# ------------------------------------------------------------------------------------ cache, download --

# Plain http only to a loopback host, and the whole authority must be that host (and a port): a prefix
# match would let `http://127.0.0.1:1@other.host/` through, which is user `127.0.0.1`, password `1`, at
# other.host.
is_loopback_http() { # <url>
  local authority port
  case "$1" in
    http://*) authority=${1#http://} ;;
    *) return 1 ;;
  esac
  authority=${authority%%[/?#]*}
  case "$authority" in
    127.0.0.1 | localhost | '[::1]') return 0 ;;
    127.0.0.1:* | localhost:* | '[::1]:'*) port=${authority##*:} ;;
    *) return 1 ;;
  esac
  case "$port" in
    '' | *[!0-9]*) return 1 ;;
  esac
  return 0
}

work=''
staging=''
bin_root=''
cleanup() {
  rm -rf -- ${work:+"$work"} ${staging:+"$staging"} ${bin_root:+"$bin_root"}
}
trap cleanup EXIT

method=''
if [ -z "$reason" ]; then
  version_dir="$cache_root/ops-actions/$version"
  cache_dir="$version_dir/$arch"
  marker="$version_dir/$arch.complete"
  archive=$(ops_archive_name "$version" "$target")
  if [ -n "$download_url" ]; then
    url="${download_url%/}/$archive"
  else
    url="${GITHUB_SERVER_URL:-https://github.com}/$rel_repository/releases/download/v$version/$archive"
  fi
  # https only. Plain http is accepted for an explicit loopback mirror (tests, a local proxy); a redirect
  # may only ever go to https.
  case "$url" in
    https://*) proto='=https' ;;
    *)
      if [ -n "$download_url" ] && is_loopback_http "$url"; then
        proto='=http,https'
      else
        fail 1 "refusing to download from \`$url\`: only https URLs are allowed" 'use an https `download-url` (plain http only for 127.0.0.1, localhost or [::1])'
      fi
      ;;
  esac

  work=$(mktemp -d "$tmp_root/ops-actions-install.XXXXXX")

  # The cached archive is copied first, and the copy is both hashed and unpacked.
  if [ -f "$marker" ] && [ -f "$cache_dir/$archive" ]; then
    cached=''
    if cp -- "$cache_dir/$archive" "$work/$archive" 2>/dev/null; then
      cached=$(ops_sha256 "$work/$archive") || cached=''
    fi
    if [ -n "$cached" ] && [ "$cached" = "$rel_sum" ]; then
      log "using cached $cache_dir/$archive (sha256 $cached, as release.txt pins)"
      method=cache
    else
      warn "the cached $archive does not match actions/_lib/release.txt (expected sha256 $rel_sum, got ${cached:-nothing readable}); removing it and downloading the archive again"
      rm -f -- "$work/$archive"
      rm -rf -- "$cache_dir" "$marker" ||
        fail 1 "cannot remove the cache entry $cache_dir" 'remove it by hand; something other than this script wrote it'
    fi
  fi

  if [ -z "$method" ]; then
    log "downloading $url"
    set -- --fail --silent --show-error --location --proto "$proto" --proto-redir '=https' \
      --connect-timeout 30 --retry "$retries" --user-agent "ops-actions-install/$version" \
      --output "$work/$archive"
    if [ -n "$retry_delay" ]; then
      set -- "$@" --retry-delay "$retry_delay"
    fi
    curl_status=0
    curl "$@" "$url" || curl_status=$?
    if [ "$curl_status" -ne 0 ]; then
      warn "could not download $archive (curl exit status $curl_status); building from source instead"
      reason="the download of $archive failed"
    else
      method=download
    fi
  fi
fi

# Keeps the verified archive in the tool cache: a copy next to the entry (same file system), moved into
# place, and only then marked complete. Best effort: a read-only cache only costs the next run a download.
store_in_cache() {
  mkdir -p -- "$version_dir" &&
    staging=$(mktemp -d "$version_dir/.$arch.XXXXXX") &&
    cp -- "$work/$archive" "$staging/$archive" &&
    rm -rf -- "$cache_dir" "$marker" &&
    mv -- "$staging" "$cache_dir" &&
    staging='' &&
    : >"$marker"
}

if [ -z "$reason" ]; then
  if [ "$method" = download ]; then
    actual=$(ops_sha256 "$work/$archive") || fail 1 'no sha256 tool found (sha256sum, shasum or openssl)'
    if [ "$actual" != "$rel_sum" ]; then
      fail 1 "checksum mismatch for $archive: expected sha256 $rel_sum (actions/_lib/release.txt), got $actual" \
        'the downloaded archive is not the one this ref pinned; do not use it. Report it, or set build-from-source: true'
    fi
    log "verified sha256 $actual"
  fi

  if [ "$verify_attestation" = true ]; then
    if command -v gh >/dev/null 2>&1; then
      log "verifying build provenance of $archive"
      gh_repo=${rel_repository:-}
      [ -n "$gh_repo" ] || fail 1 'verify-attestation needs a `repository` line in release.txt'
      if [ -n "${OPS_GITHUB_TOKEN:-}" ]; then
        GH_TOKEN=$OPS_GITHUB_TOKEN
        export GH_TOKEN
      fi
      case "${GITHUB_SERVER_URL:-https://github.com}" in
        https://github.com) ;;
        https://*)
          GH_HOST=${GITHUB_SERVER_URL#https://}
          export GH_HOST
          ;;
      esac
      gh attestation verify "$work/$archive" --repo "$gh_repo" >&2 ||
        fail 1 "build provenance of $archive could not be verified" 'see the `gh attestation verify` output above'
    else
      warn 'verify-attestation is true but `gh` is not installed; the attestation was not checked (the sha256 was)'
    fi
  fi

  if [ "$method" = download ]; then
    store_in_cache || warn "could not keep $archive in the tool cache ($cache_dir); the next run downloads it again"
  fi

  # Unpacked for this job only: nothing that runs comes from a directory an earlier job could write.
  bin_root=$(mktemp -d "$tmp_root/ops-actions-bin.XXXXXX")
  case "$archive" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q "$work/$archive" -d "$bin_root"
      elif command -v 7z >/dev/null 2>&1; then
        7z x -y "-o$bin_root" "$work/$archive" >/dev/null
      else
        # shellcheck disable=SC2016 # $args is PowerShell's, not ours
        powershell -NoProfile -NonInteractive -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1]' \
          "$(to_native_path "$work/$archive")" "$(to_native_path "$bin_root")"
      fi
      ;;
    *) tar -xzf "$work/$archive" -C "$bin_root" ;;
  esac
  stem=$(ops_archive_stem "$version" "$target")
  [ -d "$bin_root/$stem" ] || fail 1 "$archive does not contain the directory $stem/"
  if ! has_tools "$bin_root/$stem"; then
    for tool in $expected_tools; do
      [ -f "$bin_root/$stem/$tool$exe" ] || fail 1 "$archive does not contain \`$tool$exe\`"
    done
  fi
  for tool in $expected_tools; do
    chmod +x "$bin_root/$stem/$tool$exe"
  done
  log "unpacked $archive into $bin_root/$stem"
  write_outputs "$bin_root/$stem" "$method"
  bin_root=''
  exit 0
fi

# ------------------------------------------------------------------------------------------- source --

if ! command -v "$cargo" >/dev/null 2>&1; then
  fail 1 "cannot build ops-actions from source ($reason): \`$cargo\` was not found" \
    'install a Rust toolchain before this step (e.g. rustup, or the dtolnay/rust-toolchain action), or use a runner image that has cargo'
fi
if [ ! -f "$src_root/Cargo.toml" ] || [ ! -f "$src_root/Cargo.lock" ]; then
  fail 1 "cannot build ops-actions from source: no Cargo.toml and Cargo.lock in $src_root"
fi

# The sha256 of a source tree: every file's path and content (.git, target and node_modules left out).
tree_sha256() { # <dir>
  local hasher sum
  if command -v sha256sum >/dev/null 2>&1; then
    hasher=(sha256sum)
  elif command -v shasum >/dev/null 2>&1; then
    hasher=(shasum -a 256)
  else
    return 1
  fi
  sum=$(cd -- "$1" &&
    find . \( -path ./.git -o -path ./target -o -path ./node_modules \) -prune -o -type f -print0 |
    LC_ALL=C sort -z | xargs -0 "${hasher[@]}" | "${hasher[@]}") || return 1
  printf '%s\n' "${sum%% *}"
}

# Build directories of other trees unused for 7 days are removed (each holds hundreds of MB); the one in
# use is never touched, and every build refreshes its `<dir>.used` stamp first.
prune_build_dirs() { # <build root> <key in use>
  local stamp dir
  find "$1" -mindepth 1 -maxdepth 1 -type f -name '*.used' -mtime +7 -print |
    while IFS= read -r stamp; do
      dir=${stamp%.used}
      [ "${dir##*/}" = "$2" ] && continue
      rm -rf -- "$dir" "$stamp" || return 1
    done
}

# Where cargo builds. On a runner, the tool cache keeps it for later steps and jobs, in one directory per
# source tree, named after the tree's sha256. Cargo judges a workspace crate up to date by comparing file
# times, and the runner unpacks an action with its commit's file times: two refs sharing one directory
# could leave the other ref's binary looking up to date. Within one tree's directory any output is right.
if [ -n "${OPS_TARGET_DIR:-}" ]; then
  target_dir=$(to_unix_path "$OPS_TARGET_DIR")
elif [ -n "${RUNNER_TOOL_CACHE:-}" ]; then
  tree=$(tree_sha256 "$src_root") || fail 1 "cannot hash the source tree in $src_root" 'it needs find, sort, xargs and sha256sum (or shasum)'
  key=$(printf '%s' "$tree" | cut -c1-16)
  build_root="$cache_root/ops-actions-build"
  target_dir="$build_root/$key"
  if mkdir -p -- "$target_dir" 2>/dev/null && : >"$target_dir.used"; then
    prune_build_dirs "$build_root" "$key" || warn "could not remove old build directories in $build_root"
  else
    warn "cannot write $build_root; building in $tmp_root/ops-actions-target, which this job alone keeps"
    target_dir="$tmp_root/ops-actions-target"
  fi
else
  target_dir="$tmp_root/ops-actions-target"
fi

# Only the tools asked for; with no list (the root action), every tool of the tree.
build_tools=${requested_tools:-$(ops_tools_in "$src_root")}
bin_dir=$(mktemp -d "$tmp_root/ops-actions-bin.XXXXXX")
bin_root=$bin_dir # removed on failure
if [ -z "$build_tools" ]; then
  log "building from source: $reason"
  warn "this source tree has no tools (no crates/<name>/src/main.rs); nothing to build"
  write_outputs "$bin_dir" build
  bin_root=''
  exit 0
fi
# The `action` profile: release without LTO, 16 codegen units (Cargo.toml says why).
set -- build --profile action --locked --manifest-path "$src_root/Cargo.toml" --target-dir "$target_dir"
for tool in $build_tools; do
  set -- "$@" -p "$tool"
done
log "building from source: $reason"
log "running $cargo $*"
# cargo runs inside the source tree so that the tree's rust-toolchain.toml chooses the toolchain, not
# whatever the calling workflow's working directory pins.
(cd -- "$src_root" && "$cargo" "$@") >&2 ||
  fail 1 '`cargo build` of the ops-actions source failed' 'see the cargo output above'

for tool in $build_tools; do
  cp -f -- "$target_dir/action/$tool$exe" "$bin_dir/" ||
    fail 1 "\`cargo build -p $tool\` produced no \`$tool$exe\`" 'each tool is a package with a binary of the same name'
done
log "built into $bin_dir"
write_outputs "$bin_dir" build
bin_root=''
