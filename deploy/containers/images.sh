#!/usr/bin/env bash
# Builds the container images masker's tests and CI use, from the Dockerfiles in deploy/:
#   kafka            deploy/containers/kafka/Dockerfile            → $MASKER_KAFKA_IMAGE (masker-kafka:4.4.0)
#   schema-registry  deploy/containers/schema-registry/Dockerfile  → $MASKER_REGISTRY_IMAGE (masker-schema-registry:v0.2.1)
#   redis            deploy/containers/redis/Dockerfile            → $MASKER_REDIS_IMAGE (masker-redis:7.0)
#   masker           deploy/Dockerfile (context: the repository)   → $MASKER_IMAGE (masker:local, the compose tag)
#
#   images.sh [services|masker|all]   default: all. Prints NAME=image lines on stdout (progress on stderr).
#
# The Dockerfiles start FROM public images (debian, node, golang). Any of those that is missing and cannot
# be pulled is built as a local stand-in with the same tag first (stand-in-bases.sh). Docker's layer cache
# makes a rebuild of unchanged files take seconds. Legacy builder (DOCKER_BUILDKIT=0): BuildKit fetches
# its Dockerfile front-end from Docker Hub, which is not reachable everywhere.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DEPLOY="$(cd "$HERE/.." && pwd)"
REPO="$(cd "$DEPLOY/.." && pwd)"
export DOCKER_BUILDKIT=0

KAFKA_VERSION="${MASKER_CONTAINER_KAFKA_VERSION:-4.4.0}"
KAFKA_IMAGE="${MASKER_KAFKA_IMAGE:-masker-kafka:$KAFKA_VERSION}"
REGISTRY_IMAGE="${MASKER_REGISTRY_IMAGE:-masker-schema-registry:v0.2.1}"
REDIS_IMAGE="${MASKER_REDIS_IMAGE:-masker-redis:7.0}"
MASKER_IMAGE="${MASKER_IMAGE:-masker:local}"

log() { printf '[images] %s\n' "$*" >&2; }
die() { printf '[images] ERROR: %s\n' "$*" >&2; exit 1; }

docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed): start dockerd (deploy/containers/dockerd.sh)"

# Base images of a Dockerfile: the defaults of ARG lines named *_IMAGE (FROM ${X_IMAGE}).
bases_of() { sed -n 's/^ARG [A-Z_]*_IMAGE=//p' "$1"; }

ensure_bases() {
  local missing=() tag
  for tag in $(bases_of "$1"); do
    docker image inspect "$tag" >/dev/null 2>&1 || missing+=("$tag")
  done
  ((${#missing[@]} == 0)) || bash "$HERE/stand-in-bases.sh" "${missing[@]}"
}

build() { # build NAME TAG DOCKERFILE CONTEXT [build args...]
  local name="$1" tag="$2" file="$3" context="$4" start=$SECONDS out
  shift 4
  ensure_bases "$file"
  log "building $name ($tag) from ${file#"$REPO"/}"
  if ! out="$(docker build -f "$file" -t "$tag" "$@" "$context" 2>&1)"; then
    printf '%s\n' "$out" | tail -n 40 >&2
    die "docker build of $name failed"
  fi
  log "$name ready in $((SECONDS - start))s"
}

what="${1:-all}"
case "$what" in
  services|all)
    build kafka "$KAFKA_IMAGE" "$HERE/kafka/Dockerfile" "$DEPLOY" --build-arg "KAFKA_VERSION=$KAFKA_VERSION"
    build schema-registry "$REGISTRY_IMAGE" "$HERE/schema-registry/Dockerfile" "$DEPLOY"
    build redis "$REDIS_IMAGE" "$HERE/redis/Dockerfile" "$DEPLOY"
    ;;&
  masker|all)
    build masker "$MASKER_IMAGE" "$DEPLOY/Dockerfile" "$REPO"
    ;;
  services) ;;
  *) die "usage: images.sh [services|masker|all]" ;;
esac

case "$what" in
  services|all) printf 'MASKER_KAFKA_IMAGE=%s\nMASKER_REGISTRY_IMAGE=%s\nMASKER_REDIS_IMAGE=%s\n' "$KAFKA_IMAGE" "$REGISTRY_IMAGE" "$REDIS_IMAGE" ;;
esac
case "$what" in masker|all) printf 'MASKER_IMAGE=%s\n' "$MASKER_IMAGE" ;; esac
