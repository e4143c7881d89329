# shellcheck shell=bash
# Naming rules shared by install.sh (which downloads archives) and release.sh (which builds them), so the two
# sides of the release contract cannot drift. Sourced, never run. Written for bash 3.2 (macOS /bin/bash):
# no associative arrays, no ${var,,}, no mapfile.

# The Rust target triple that ops-actions publishes for a runner OS/arch pair, in the spelling of
# RUNNER_OS (Linux, macOS, Windows) and RUNNER_ARCH (X64, ARM64). Prints nothing when there is no prebuilt
# archive for that pair (the installer then builds from source).
ops_target_for() {
  case "$1/$2" in
    Linux/X64) printf '%s\n' x86_64-unknown-linux-musl ;;
    Linux/ARM64) printf '%s\n' aarch64-unknown-linux-musl ;;
    macOS/X64) printf '%s\n' x86_64-apple-darwin ;;
    macOS/ARM64) printf '%s\n' aarch64-apple-darwin ;;
    Windows/X64) printf '%s\n' x86_64-pc-windows-msvc ;;
    *) ;;
  esac
}

# Every target a release builds, in the order release.txt lists them.
ops_release_targets() {
  printf '%s\n' \
    x86_64-unknown-linux-musl \
    aarch64-unknown-linux-musl \
    x86_64-apple-darwin \
    aarch64-apple-darwin \
    x86_64-pc-windows-msvc
}

ops_is_windows_target() {
  case "$1" in
    *-windows-*) return 0 ;;
    *) return 1 ;;
  esac
}

# `ops-actions-<version>-<target>.tar.gz`, or `.zip` for Windows targets. The archive holds one directory
# of that name (without the extension) with the binaries in it.
ops_archive_stem() {
  printf 'ops-actions-%s-%s\n' "$1" "$2"
}

ops_archive_name() {
  if ops_is_windows_target "$2"; then
    printf 'ops-actions-%s-%s.zip\n' "$1" "$2"
  else
    printf 'ops-actions-%s-%s.tar.gz\n' "$1" "$2"
  fi
}

# Lowercase hex sha256 of a file, with whichever tool the platform has (GNU coreutils and Git for Windows
# have sha256sum, macOS has shasum).
ops_sha256() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum -b "$1")
  elif command -v shasum >/dev/null 2>&1; then
    sum=$(shasum -a 256 -b "$1")
  elif command -v openssl >/dev/null 2>&1; then
    sum=$(openssl dgst -sha256 -r "$1")
  else
    return 1
  fi
  sum=${sum%% *}
  printf '%s\n' "$sum" | tr 'ABCDEF' 'abcdef'
}

# The `version` of `[workspace.package]` (or of `[package]` for a single-crate tree) in a Cargo.toml.
ops_workspace_version() {
  awk '
    /^[[:space:]]*\[/ {
      line = $0
      gsub(/[[:space:]]/, "", line)
      section = line
      next
    }
    (section == "[workspace.package]" || section == "[package]") && /^[[:space:]]*version[[:space:]]*=/ {
      value = $0
      sub(/^[^=]*=[[:space:]]*"/, "", value)
      sub(/".*$/, "", value)
      found[section] = value
    }
    END {
      if ("[workspace.package]" in found) print found["[workspace.package]"]
      else if ("[package]" in found) print found["[package]"]
    }
  ' "$1"
}

# The tools of a source tree, space-separated: every crates/<name> with a src/main.rs (one name for the
# crate, the binary and actions/<name>). Library crates have no main.rs.
ops_tools_in() {
  local dir name list='' noglob=false
  case $- in
    *f*) noglob=true ;;
  esac
  set +f
  for dir in "$1"/crates/*/; do
    name=${dir%/}
    name=${name##*/}
    if [ -f "$dir/src/main.rs" ] && ops_valid_tool_name "$name"; then
      list="${list:+$list }$name"
    fi
  done
  if [ "$noglob" = true ]; then
    set -f
  fi
  printf '%s\n' "$list"
}

# A tool name as it appears in crates/<tool>, `-p <tool>` and the binary's file name.
ops_valid_tool_name() {
  case "$1" in
    '' | [!a-z0-9]* | *[!a-z0-9-]*) return 1 ;;
    *) return 0 ;;
  esac
}
