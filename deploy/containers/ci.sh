#!/usr/bin/env bash
# The container part of CI (.ci/run): a Docker engine, the images from deploy/, the masker image running,
# the compose stack with the demo and masked records read back, and a smoke set of the integration suite on
# testcontainers. Prints how long each step took. Fails loudly when anything, the engine included, is
# missing: never skips.
#
#   bash deploy/containers/ci.sh
#
# Caches that survive between runs on one machine: Docker's image store (stand-in bases and layers) and
# $MASKER_CI_CACHE (default /var/cache/masker-ci: the debootstrap tarball, Node and Go downloads). A fresh
# machine builds everything from the package registries (about 10 minutes on 2 cores).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
HERE=deploy/containers
export DOCKER_BUILDKIT=0 COMPOSE_DOCKER_CLI_BUILD=0

# Integration test files run against containers: the end-to-end pipeline, the demo, live policy changes
# through Redis, and `masker tail`.
SMOKE_TESTS=(${MASKER_CONTAINER_SMOKE_TESTS:-test/integration/pipeline.test.ts test/integration/demo.test.ts test/integration/live-policy.test.ts test/integration/tail.test.ts})

timings=()
step() { # step NAME COMMAND...: run, time, remember
  local name="$1" start=$SECONDS
  shift
  echo "[containers] ── $name"
  "$@"
  timings+=("$(printf '%-44s %4ss' "$name" $((SECONDS - start)))")
}
report() {
  echo "[containers] timings:"
  for t in "${timings[@]}"; do echo "[containers]   $t"; done
}

started_dockerd=0
compose=(docker-compose -p masker-ci -f deploy/docker-compose.yml -f "$HERE/compose.local-images.yml")
work="$(mktemp -d)"
cleanup() {
  local rc=$?
  if ((rc != 0)) && docker info >/dev/null 2>&1; then
    echo "[containers] FAILED: compose state and last log lines:" >&2
    "${compose[@]}" ps >&2 2>/dev/null || true
    "${compose[@]}" logs --no-color --tail 30 >&2 2>/dev/null || true
  fi
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  # Test containers the setup could not stop (a crashed run): ours carry the label.
  docker ps -aq --filter label=masker.test-stack | xargs -r docker rm -f >/dev/null 2>&1 || true
  rm -rf "$work"
  if ((started_dockerd)); then bash "$HERE/dockerd.sh" down; fi
  report
  exit "$rc"
}
trap cleanup EXIT

engine() {
  local out
  out="$(bash "$HERE/dockerd.sh" up)"
  [[ "$out" == started ]] && started_dockerd=1
  docker version --format '[containers] docker client {{.Client.Version}}, engine {{.Server.Version}}'
  docker-compose version --short | sed 's/^/[containers] docker-compose /'
}

masker_help() {
  docker run --rm masker:local --help >"$work/help.txt"
  grep -q '^Usage: masker' "$work/help.txt" || { cat "$work/help.txt"; echo "[containers] masker --help: unexpected output" >&2; return 1; }
  docker run --rm masker:local --version
}

wait_healthy() { # wait_healthy SERVICE SECONDS
  local id status deadline=$((SECONDS + $2))
  id="$("${compose[@]}" ps -q "$1")"
  until status="$(docker inspect -f '{{.State.Health.Status}}' "$id")" && [[ "$status" == healthy ]]; do
    ((SECONDS < deadline)) || { echo "[containers] $1 not healthy after $2s (last: ${status:-none})" >&2; return 1; }
    sleep 2
  done
}

tail_json() { # tail_json TOPIC FILE: the topic's records, decoded, as JSON lines (read in the masker container)
  "${compose[@]}" exec -T masker node bin/masker.js tail "$1" -n 1000 --json >"$2"
}

compose_up() {
  # A key for this run only, never written to disk.
  MASKER_SECRET="base64:$(head -c 32 /dev/urandom | base64 -w0)"
  export MASKER_SECRET
  "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
  "${compose[@]}" up -d --no-build masker
  wait_healthy masker 240
}

# masker run (the compose `masker` service) + `masker produce` (the `seed` service): examples/customers.jsonl
# goes to prod.cdc.customers, its masked records must appear on staging.cdc.customers without raw values.
compose_run_and_produce() {
  local want deadline=$((SECONDS + 120))
  want="$(grep -c . examples/customers.jsonl)"
  "${compose[@]}" run --rm --no-deps -T seed
  until tail_json staging.cdc.customers "$work/staging.jsonl" && (( $(grep -c . "$work/staging.jsonl") >= want )); do
    ((SECONDS < deadline)) || { echo "[containers] staging.cdc.customers has $(grep -c . "$work/staging.jsonl") of $want records after 120s" >&2; return 1; }
    sleep 2
  done
  node "$HERE/check-masked.mjs" --source examples/customers.jsonl --target "$work/staging.jsonl" --min-records "$want" \
    --fields name,email,phone,ssn,bank_account,last_login_ip,street,notes
  # The check can fail: the unmasked input against itself must be reported.
  if node "$HERE/check-masked.mjs" --source examples/customers.jsonl --target examples/customers.jsonl \
      --fields name,email,phone,ssn,bank_account,last_login_ip,street,notes >/dev/null 2>&1; then
    echo "[containers] check-masked.mjs did not flag unmasked records: the check proves nothing" >&2; return 1
  fi
}

# `masker demo` (the compose `demo` service, its own demo.* topics and in-process worker): exits 0, and the
# staging topics it wrote hold none of the raw values of its production topics.
compose_demo() {
  # The demo's report shows its (synthetic) records; on failure show only its error lines.
  "${compose[@]}" run --rm --no-deps -T demo >"$work/demo.txt" 2>&1 \
    || { grep -iE 'error|masker:' "$work/demo.txt" | tail -n 20 >&2; echo "[containers] masker demo failed" >&2; return 1; }
  grep -E '^(audit outcomes|orders.customer_id)' "$work/demo.txt" | head -n 2 | sed 's/^/[containers] demo: /'
  local t
  for t in customers orders; do
    tail_json "demo.prod.shop.$t" "$work/demo-src-$t.jsonl"
    tail_json "demo.staging.shop.$t" "$work/demo-tgt-$t.jsonl"
  done
  cat "$work"/demo-src-*.jsonl >"$work/demo-src.jsonl"
  cat "$work"/demo-tgt-*.jsonl >"$work/demo-tgt.jsonl"
  node "$HERE/check-masked.mjs" --source "$work/demo-src.jsonl" --target "$work/demo-tgt.jsonl" \
    --min-records "$(grep -c . "$work/demo-src.jsonl")" \
    --fields first_name,last_name,email,phone,notes,contact_email,shipping_address
}

compose_down() { "${compose[@]}" down -v --remove-orphans; }

smoke_tests() {
  [[ -f dist/cli/main.js ]] || npm run -s build
  env -u KAFKA_BROKERS -u SCHEMA_REGISTRY_URL -u REDIS_URL -u MASKER_TEST_TARGET_BROKERS -u MASKER_TEST_TARGET_REGISTRY_URL \
    MASKER_TEST_STACK=containers TESTCONTAINERS_RYUK_DISABLED=true TESTCONTAINERS_HOST_OVERRIDE=localhost \
    npx vitest run --project integration "${SMOKE_TESTS[@]}"
}

total=$SECONDS
step 'docker engine' engine
step 'stand-in base images (where not pullable)' bash "$HERE/stand-in-bases.sh"
step 'images: kafka, schema-registry, redis' bash "$HERE/images.sh" services
step 'image: masker (deploy/Dockerfile)' bash "$HERE/images.sh" masker
step 'masker --help in the image' masker_help
step 'compose up (masker healthy)' compose_up
step 'compose: masker run + produce, read back' compose_run_and_produce
step 'compose: masker demo, read back' compose_demo
step 'compose down' compose_down
step "integration smoke on testcontainers (${#SMOKE_TESTS[@]} files)" smoke_tests
timings+=("$(printf '%-44s %4ss' 'container part, total' $((SECONDS - total)))")
