#!/usr/bin/env bash
# Offline linters for deploy/ — `npm run lint:deploy`. Each tool runs when it is installed and is reported
# as SKIP otherwise, so the script never needs the network at run time. `npm test` needs none of them:
# test/unit/deploy/deploy-files.test.ts checks the same files with the project's own dependencies.
#
# Tools (all from package registries, none needs a Docker engine or a cluster):
#   yamllint             apt-get install yamllint            (or pip install yamllint)
#   kubectl              renders deploy/k8s with its built-in kustomize (kubectl kustomize)
#   kubernetes-validate  pip install kubernetes-validate==1.37.0  (ships the Kubernetes JSON schemas)
#   docker compose       `docker compose config` (v2 plugin) or Debian's docker-compose 1.29 — client only
#   dockerfile-utils     npm exec fetches it from the npm registry on first use, then runs from the npx cache
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

failed=0
ok() { echo "ok    $1"; }
bad() { echo "FAIL  $1"; failed=1; }
skip() { echo "SKIP  $1 ($2)"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. YAML style and syntax (duplicate keys, indentation, trailing spaces, ...).
if command -v yamllint >/dev/null; then
  if (cd deploy && yamllint --strict -c .yamllint.yaml .); then ok yamllint; else bad yamllint; fi
else skip yamllint 'not installed'; fi

# 2. Kubernetes: render the kustomization, validate every object (and the Secret template) against the
#    API schemas of the oldest and newest Kubernetes versions kubernetes-validate ships that we target.
if command -v kubectl >/dev/null; then
  if kubectl kustomize deploy/k8s >"$tmp/k8s.yaml" 2>"$tmp/k8s.err"; then
    ok "kustomize build deploy/k8s ($(grep -c '^kind:' "$tmp/k8s.yaml") objects)"
    if command -v kubernetes-validate >/dev/null; then
      for version in 1.29.0 1.37.0; do
        if kubernetes-validate --strict --quiet -k "$version" "$tmp/k8s.yaml" deploy/k8s/secret.template.yaml; then
          ok "kubernetes-validate --strict (Kubernetes $version)"
        else bad "kubernetes-validate --strict (Kubernetes $version)"; fi
      done
    else skip kubernetes-validate 'not installed'; fi
  else cat "$tmp/k8s.err"; bad 'kustomize build deploy/k8s'; fi
else skip 'kustomize + kubernetes-validate' 'kubectl not installed'; fi

# 3. Compose file against the compose schema (client-side only; no daemon). MASKER_SECRET is required by the
#    file; a dummy value lets `config` interpolate — it is not a key and nothing is started.
compose=()
if docker compose version >/dev/null 2>&1; then compose=(docker compose)
elif command -v docker-compose >/dev/null; then compose=(docker-compose); fi
if ((${#compose[@]} > 0)); then
  if MASKER_SECRET=lint-dummy "${compose[@]}" -f deploy/docker-compose.yml config -q; then
    ok "${compose[*]} config"
  else bad "${compose[*]} config"; fi
else skip 'compose config' 'neither docker compose nor docker-compose installed'; fi

# 4. Dockerfile syntax and instruction checks.
if command -v npm >/dev/null; then
  for file in deploy/Dockerfile deploy/containers/*/Dockerfile deploy/containers/stand-ins/*.Dockerfile; do
    if npm exec --yes --package=dockerfile-utils@0.16.3 -- dockerfile-utils lint "$file"; then
      ok "dockerfile-utils lint $file"
    else bad "dockerfile-utils lint $file"; fi
  done
else skip dockerfile-utils 'npm not installed'; fi

# 5. Grafana dashboard: valid JSON (the unit test checks its queries against the metric registry).
if node -e 'JSON.parse(require("fs").readFileSync("deploy/grafana/masker-dashboard.json","utf8"))'; then
  ok 'dashboard JSON'
else bad 'dashboard JSON'; fi

exit "$failed"
