#!/usr/bin/env bash
# Runs the integration suite against another Kafka release (default 3.9.1), started on its own port and
# data folder next to the default stack (whose registry and Redis it reuses), then stops that broker.
#
#   bash deploy/local/kafka-version-suite.sh [version] [vitest args...]     (npm run test:kafka3)
#
# MASKER_ALT_KAFKA_PORT (default 39092, controller +1). Two-cluster tests are skipped (no second cluster).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
version="${1:-3.9.1}"
shift || true

eval "$(bash deploy/local/stack.sh up | sed 's/^/export /')"
alt_dir="${MASKER_STACK_DIR:-$PWD/.stack}/kafka-suite-$version"
export_alt() { MASKER_STACK_DIR="$alt_dir" MASKER_KAFKA_VERSION="$version" MASKER_KAFKA_PORT="${MASKER_ALT_KAFKA_PORT:-39092}" "$@"; }
stop_alt() { export_alt bash deploy/local/stack.sh down >/dev/null 2>&1 || true; }
trap stop_alt EXIT
export_alt bash deploy/local/stack.sh up >/dev/null
export KAFKA_BROKERS="127.0.0.1:${MASKER_ALT_KAFKA_PORT:-39092}"
unset MASKER_TEST_TARGET_BROKERS MASKER_TEST_TARGET_REGISTRY_URL
echo "[kafka-suite] integration suite against Kafka $version at $KAFKA_BROKERS" >&2
npm run -s build
npx vitest run --project integration "$@"
