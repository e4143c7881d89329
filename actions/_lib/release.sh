#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2016 # backticks in single-quoted messages are Markdown
# Release-side half of the install contract: builds the archives and the release.txt that install.sh reads.
# .github/workflows/release.yml wires these steps; each can be run locally from a checkout.
#
#   release.sh version                            the workspace version ([workspace.package] in Cargo.toml)
#   release.sh tools                              the tools: every crates/<name> with a src/main.rs
#   release.sh build <target>                     cargo build --release --locked --target <target> -p <tool>...
#   release.sh package <target> <bin-dir> <out>   write <out>/ops-actions-<version>-<target>.tar.gz (.zip on
#                                                 Windows) holding the tools from <bin-dir>; prints its path
#   release.sh checksums <dist>                   write <dist>/SHA256SUMS (sha256sum format) for the archives
#   release.sh manifest [--allow-missing] <dist> <owner/name>
#                                                 rewrite actions/_lib/release.txt for the archives in
#                                                 <dist>: its format comment, then the entries. Every
#                                                 release target needs an archive unless --allow-missing
set -euo pipefail

lib_dir=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
src_root=$(cd -- "$lib_dir/../.." && pwd)
# shellcheck source=common.sh
. "$lib_dir/common.sh"

die() {
  printf 'error: %s\n' "$1" >&2
  if [ $# -gt 1 ]; then
    printf 'hint: %s\n' "$2" >&2
  fi
  exit 1
}

usage() {
  sed -n '6,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2
  exit 2
}

version() {
  local v
  v=$(ops_workspace_version "$src_root/Cargo.toml")
  [ -n "$v" ] || die "no version in $src_root/Cargo.toml" 'set `version` under `[workspace.package]`'
  printf '%s\n' "$v"
}

tools() {
  ops_tools_in "$src_root"
}

build() {
  [ $# -eq 1 ] || usage
  local list tool
  list=$(tools)
  [ -n "$list" ] || die "no tools found under $src_root/crates" 'a tool is a crates/<name> package with src/main.rs'
  set -- build --release --locked --manifest-path "$src_root/Cargo.toml" --target "$1"
  for tool in $list; do
    set -- "$@" -p "$tool"
  done
  printf '+ cargo %s\n' "$*" >&2
  (cd -- "$src_root" && cargo "$@")
}

package() {
  [ $# -eq 3 ] || usage
  local target=$1 bin_dir=$2 out=$3 ver stem archive staging exe='' tool file list
  ver=$(version)
  list=$(tools)
  [ -n "$list" ] || die "no tools found under $src_root/crates" 'a tool is a crates/<name> package with src/main.rs'
  if ops_is_windows_target "$target"; then
    exe='.exe'
  fi
  stem=$(ops_archive_stem "$ver" "$target")
  archive=$(ops_archive_name "$ver" "$target")
  mkdir -p "$out"
  out=$(cd -- "$out" && pwd)
  staging=$(mktemp -d)
  # shellcheck disable=SC2064 # expand now: the variable is local
  trap "rm -rf -- '$staging'" EXIT
  mkdir "$staging/$stem"
  for tool in $list; do
    [ -f "$bin_dir/$tool$exe" ] || die "missing $bin_dir/$tool$exe" "build it first: cargo build --release --locked --target $target -p $tool"
    cp -- "$bin_dir/$tool$exe" "$staging/$stem/"
    chmod 755 "$staging/$stem/$tool$exe"
  done
  for file in "$src_root"/LICENSE* "$src_root"/README.md; do
    if [ -f "$file" ]; then
      cp -- "$file" "$staging/$stem/"
    fi
  done
  rm -f -- "$out/$archive"
  case "$archive" in
    *.zip)
      if command -v zip >/dev/null 2>&1; then
        (cd -- "$staging" && zip -qr "$out/$archive" "$stem")
      elif command -v 7z >/dev/null 2>&1; then
        (cd -- "$staging" && 7z a -tzip "$out/$archive" "$stem" >/dev/null)
      else
        die 'neither zip nor 7z is installed'
      fi
      ;;
    *)
      # COPYFILE_DISABLE keeps macOS tar from adding ._* resource-fork entries.
      (cd -- "$staging" && COPYFILE_DISABLE=1 tar -czf "$out/$archive" "$stem")
      ;;
  esac
  printf '%s\n' "$out/$archive"
}

checksums() {
  [ $# -eq 1 ] || usage
  local dist=$1 file name sum found=false
  : >"$dist/SHA256SUMS.tmp"
  for file in "$dist"/ops-actions-*; do
    [ -f "$file" ] || continue
    name=${file##*/}
    sum=$(ops_sha256 "$file")
    printf '%s  %s\n' "$sum" "$name" >>"$dist/SHA256SUMS.tmp"
    found=true
  done
  [ "$found" = true ] || die "no ops-actions-* archives in $dist"
  mv -- "$dist/SHA256SUMS.tmp" "$dist/SHA256SUMS"
}

manifest() {
  local allow_missing=false
  if [ "${1:-}" = --allow-missing ]; then
    allow_missing=true
    shift
  fi
  [ $# -eq 2 ] || usage
  local dist=$1 repository=$2 ver list target archive entries='' count=0
  case "$repository" in
    */*/* | /* | */ | *[!A-Za-z0-9_./-]*) die "invalid repository \`$repository\`, expected owner/name" ;;
    */*) ;;
    *) die "invalid repository \`$repository\`, expected owner/name" ;;
  esac
  ver=$(version)
  list=$(tools)
  for target in $(ops_release_targets); do
    archive=$(ops_archive_name "$ver" "$target")
    if [ -f "$dist/$archive" ]; then
      entries="${entries}sha256 $(ops_sha256 "$dist/$archive") $target
"
      count=$((count + 1))
    elif [ "$allow_missing" = false ]; then
      die "missing $dist/$archive" 'every release target needs an archive (or pass --allow-missing)'
    fi
  done
  [ "$count" -gt 0 ] || die "no archives for version $ver in $dist"
  # Keep the format documentation of the committed file, replace whatever entries it had.
  {
    grep '^#' "$lib_dir/release.txt" || true
    printf '\nversion %s\nrepository %s\ntools %s\n%s' "$ver" "$repository" "$list" "$entries"
  } >"$lib_dir/release.txt.tmp"
  mv -- "$lib_dir/release.txt.tmp" "$lib_dir/release.txt"
  printf '%s\n' "$lib_dir/release.txt"
}

[ $# -ge 1 ] || usage
command=$1
shift
case "$command" in
  version) [ $# -eq 0 ] || usage; version ;;
  tools) [ $# -eq 0 ] || usage; tools ;;
  build) build "$@" ;;
  package) package "$@" ;;
  checksums) checksums "$@" ;;
  manifest) manifest "$@" ;;
  *) usage ;;
esac
