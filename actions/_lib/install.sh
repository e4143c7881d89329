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
#   2. cache    $RUNNER_TOOL_CACHE/ops-actions/<version>/<arch>/ + <arch>.complete (@actions/tool-cache layout)
#   3. download the release archive (curl, https only, retries), verify its sha256 against release.txt,
#               fail closed on a mismatch, unpack it into the cache
#   4. source   otherwise `cargo build --release --locked -p <tool>...` from the source tree
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
#   OPS_TARGET_DIR          cargo --target-dir for source builds (default $RUNNER_TEMP/ops-actions-target)
#   RUNNER_OS RUNNER_ARCH RUNNER_TOOL_CACHE RUNNER_TEMP GITHUB_SERVER_URL GITHUB_OUTPUT GITHUB_PATH (runner)
#                           (outside Actions: `uname`, ${XDG_CACHE_HOME:-~/.cache} as the cache, $TMPDIR)
#
# Outputs: `path=<bin dir>`, `version=<version>` and `method=cache|download|build` appended to
# GITHUB_OUTPUT; the bin dir appended to GITHUB_PATH; the bin dir printed on stdout (so a developer can run
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
target_dir=$(to_unix_path "${OPS_TARGET_DIR:-$tmp_root/ops-actions-target}")

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

if [ -z "$reason" ]; then
  version_dir="$cache_root/ops-actions/$version"
  cache_dir="$version_dir/$arch"
  marker="$version_dir/$arch.complete"
  if [ -f "$marker" ] && [ -d "$cache_dir" ] && has_tools "$cache_dir"; then
    log "using cached $cache_dir"
    write_outputs "$cache_dir" cache
    exit 0
  fi

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
    http://127.0.0.1[:/]* | http://localhost[:/]* | 'http://[::1]'[:/]*)
      if [ -z "$download_url" ]; then
        fail 1 "refusing plain http download from \`$url\`"
      fi
      proto='=http,https'
      ;;
    *) fail 1 "refusing to download from \`$url\`: only https URLs are allowed" 'use an https `download-url` (plain http only for 127.0.0.1 or localhost)' ;;
  esac

  work=$(mktemp -d "$tmp_root/ops-actions-install.XXXXXX")
  staging=''
  cleanup() {
    rm -rf -- "$work" ${staging:+"$staging"}
  }
  trap cleanup EXIT

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
  fi
fi

if [ -z "$reason" ]; then
  actual=$(ops_sha256 "$work/$archive") || fail 1 'no sha256 tool found (sha256sum, shasum or openssl)'
  if [ "$actual" != "$rel_sum" ]; then
    fail 1 "checksum mismatch for $archive: expected sha256 $rel_sum (actions/_lib/release.txt), got $actual" \
      'the downloaded archive is not the one this ref pinned; do not use it. Report it, or set build-from-source: true'
  fi
  log "verified sha256 $actual"

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

  # Unpack next to the cache entry (same file system), then move it into place and only then mark it
  # complete, so an interrupted run never leaves a half-filled entry that looks usable.
  mkdir -p "$version_dir"
  staging=$(mktemp -d "$version_dir/.$arch.XXXXXX")
  case "$archive" in
    *.zip)
      if command -v unzip >/dev/null 2>&1; then
        unzip -q "$work/$archive" -d "$staging"
      elif command -v 7z >/dev/null 2>&1; then
        7z x -y "-o$staging" "$work/$archive" >/dev/null
      else
        # shellcheck disable=SC2016 # $args is PowerShell's, not ours
        powershell -NoProfile -NonInteractive -Command 'Expand-Archive -LiteralPath $args[0] -DestinationPath $args[1]' \
          "$(to_native_path "$work/$archive")" "$(to_native_path "$staging")"
      fi
      ;;
    *) tar -xzf "$work/$archive" -C "$staging" ;;
  esac
  stem=$(ops_archive_stem "$version" "$target")
  [ -d "$staging/$stem" ] || fail 1 "$archive does not contain the directory $stem/"
  if ! has_tools "$staging/$stem"; then
    for tool in $expected_tools; do
      [ -f "$staging/$stem/$tool$exe" ] || fail 1 "$archive does not contain \`$tool$exe\`"
    done
  fi
  for tool in $expected_tools; do
    chmod +x "$staging/$stem/$tool$exe"
  done
  rm -rf -- "$cache_dir" "$marker"
  mv -- "$staging/$stem" "$cache_dir"
  : >"$marker"
  log "installed $archive into $cache_dir"
  write_outputs "$cache_dir" download
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

# Only the tools asked for; with no list (the root action), every tool of the tree.
build_tools=${requested_tools:-$(ops_tools_in "$src_root")}
bin_dir="$target_dir/ops-actions-bin"
mkdir -p "$bin_dir"
if [ -z "$build_tools" ]; then
  log "building from source: $reason"
  warn "this source tree has no tools (no crates/<name>/src/main.rs); nothing to build"
  write_outputs "$bin_dir" build
  exit 0
fi
set -- build --release --locked --manifest-path "$src_root/Cargo.toml" --target-dir "$target_dir"
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
  cp -f -- "$target_dir/release/$tool$exe" "$bin_dir/" ||
    fail 1 "\`cargo build -p $tool\` produced no \`$tool$exe\`" 'each tool is a package with a binary of the same name'
done
log "built into $bin_dir"
write_outputs "$bin_dir" build
