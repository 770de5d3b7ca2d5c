#!/usr/bin/env bash
# masker local stack: real Apache Kafka (KRaft, single node), AxonOps Schema Registry (Confluent API,
# in-memory storage) and Redis, with no Docker. Everything is fetched from package registries and cached
# under $MASKER_STACK_DIR (default: <repo>/.stack, git-ignored).
#
#   stack.sh up [--with-target]   install what is missing, start what is not running, wait until each answers
#   stack.sh down     stop what this script started (the target cluster too)
#   stack.sh status   say what answers, print the env lines
#   stack.sh env      print only the env lines (KAFKA_BROKERS=... etc.)
#
# Ports (env, defaults): MASKER_KAFKA_PORT=19092 (controller +1), MASKER_REGISTRY_PORT=18081,
# MASKER_REDIS_PORT=16379. Deadline per service: MASKER_STACK_TIMEOUT seconds (default 120).
#
# Two-cluster mode: with MASKER_STACK_TARGET=1 (or `up --with-target`) a second single-node cluster
# `kafka-target` starts on MASKER_TARGET_KAFKA_PORT (default 29092, controller +1), and a second registry
# `registry-target` on MASKER_TARGET_REGISTRY_PORT (default 28081). With that setting (or flag) and while they
# answer, the env lines include TARGET_KAFKA_BROKERS=... and TARGET_SCHEMA_REGISTRY_URL=... — except with
# MASKER_STACK_TARGET_ENV=test, which prints them as MASKER_TEST_TARGET_BROKERS / MASKER_TEST_TARGET_REGISTRY_URL
# so that a test run does not switch every worker to two-cluster mode.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
STACK_DIR="${MASKER_STACK_DIR:-$REPO/.stack}"
KAFKA_PORT="${MASKER_KAFKA_PORT:-19092}"
REGISTRY_PORT="${MASKER_REGISTRY_PORT:-18081}"
REDIS_PORT="${MASKER_REDIS_PORT:-16379}"
TARGET_KAFKA_PORT="${MASKER_TARGET_KAFKA_PORT:-29092}"
TARGET_REGISTRY_PORT="${MASKER_TARGET_REGISTRY_PORT:-28081}"
TIMEOUT="${MASKER_STACK_TIMEOUT:-120}"
WITH_TARGET="${MASKER_STACK_TARGET:-0}"
for arg in "${@:2}"; do
  case "$arg" in
    --with-target) WITH_TARGET=1 ;;
    *) printf '[stack] ERROR: unknown argument %s\n' "$arg" >&2; exit 1 ;;
  esac
done

# Pinned versions. Kafka: MASKER_KAFKA_VERSION (default 4.4.0, the newest release the whole suite passes on;
# 3.9.1 is tested too: npm run test:kafka3), jars from Maven Central via deploy/local/kafka/pom.xml.
# Registry: AxonOps Schema Registry (Apache-2.0).
KAFKA_VERSION="${MASKER_KAFKA_VERSION:-4.4.0}"
[[ "$KAFKA_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { printf '[stack] ERROR: MASKER_KAFKA_VERSION=%s: expected a release such as 4.4.0\n' "$KAFKA_VERSION" >&2; exit 2; }
KAFKA_MAJOR="${KAFKA_VERSION%%.*}"
KAFKA_LIBS="$STACK_DIR/kafka-$KAFKA_VERSION/libs"
REGISTRY_MODULE="github.com/axonops/axonops-schema-registry"
REGISTRY_VERSION="v0.2.1"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && exec 3>&- 3<&-; }

wait_for() { # wait_for <name> <command...>: retry the command until it succeeds or the deadline passes
  local name="$1"; shift
  local deadline=$((SECONDS + TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then die "$name did not answer within ${TIMEOUT}s (log: $STACK_DIR/logs/$name.log)"; fi
    sleep 0.5
  done
}

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------- install
install_redis() {
  command -v redis-server >/dev/null && return
  log "installing redis-server (Debian package)"
  if command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server) >"$STACK_DIR/logs/apt.log" 2>&1 \
      || die "apt-get install redis-server failed (see $STACK_DIR/logs/apt.log)"
  else
    die "redis-server is missing and apt-get is not available: install Redis ≥ 6"
  fi
  # Debian's package starts a system Redis on 6379; we run our own on $REDIS_PORT and leave that alone.
}

install_kafka() {
  local libs="$KAFKA_LIBS" logging
  if [[ -f "$libs/.complete" ]]; then return; fi
  # Kafka 4 logs through log4j2, Kafka 3 through reload4j (log4j 1 API): bind slf4j to the same.
  if ((KAFKA_MAJOR >= 4)); then
    logging=(-Dlogging.groupId=org.apache.logging.log4j -Dlogging.artifactId=log4j-slf4j-impl -Dlogging.version=2.25.5)
  else
    logging=(-Dlogging.groupId=org.slf4j -Dlogging.artifactId=slf4j-reload4j -Dlogging.version=1.7.36)
  fi
  command -v mvn >/dev/null || die "Maven (mvn) is needed to fetch Kafka from Maven Central"
  command -v java >/dev/null || die "Java 17+ is needed to run Kafka"
  log "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $libs"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies -DoutputDirectory="$libs" \
    -Dkafka.version="$KAFKA_VERSION" "${logging[@]}" \
    >"$STACK_DIR/logs/mvn.log" 2>&1 || die "Maven could not fetch Kafka (see $STACK_DIR/logs/mvn.log)"
  touch "$libs/.complete"
}

install_registry() {
  local bin="$STACK_DIR/bin/schema-registry"
  if [[ -x "$bin" && -f "$bin.$REGISTRY_VERSION" ]]; then return; fi
  command -v go >/dev/null || die "Go is needed to build the schema registry"
  log "building $REGISTRY_MODULE@$REGISTRY_VERSION from the Go module proxy"
  # `go install pkg@version` is refused here: the proxy does not serve the module's version list, which
  # go install reads for deprecation notices. Download the pinned module and build it in place instead.
  local json dir src="$STACK_DIR/src/schema-registry"
  json="$(go mod download -json "$REGISTRY_MODULE@$REGISTRY_VERSION")" || die "go mod download failed: $json"
  dir="$(printf '%s' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || die "go mod download gave no module directory"
  rm -rf "$src" && mkdir -p "$(dirname "$src")" "$STACK_DIR/bin" && cp -r "$dir" "$src" && chmod -R u+w "$src"
  (cd "$src" && GOFLAGS=-buildvcs=false go build -o "$bin" ./cmd/schema-registry) >"$STACK_DIR/logs/go-build.log" 2>&1 \
    || die "go build of the schema registry failed (see $STACK_DIR/logs/go-build.log)"
  rm -f "$STACK_DIR"/bin/schema-registry.v* && touch "$bin.$REGISTRY_VERSION"
}

# ---------------------------------------------------------------- health checks
kafka_ready() { node "$HERE/kafka-ping.mjs" "127.0.0.1:$1"; }
registry_ready() {
  if command -v curl >/dev/null; then curl -fsS "http://127.0.0.1:$1/subjects" >/dev/null
  else node -e "fetch('http://127.0.0.1:$1/subjects').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"; fi
}
# PING over bash's /dev/tcp: works before redis-cli is installed (a Redis may already answer).
redis_ready() {
  ( exec 3<>"/dev/tcp/127.0.0.1/$REDIS_PORT" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 line <&3 || exit 1
    [[ "$line" == "+PONG"* ]] ) 2>/dev/null
}

# ---------------------------------------------------------------- start
start_kafka() { # start_kafka <name> <port> [max heap]
  # A data directory per version: a broker cannot start on metadata a newer release formatted.
  local name="$1" port="$2" ctrl=$(($2 + 1)) dir="$STACK_DIR/$1-$KAFKA_VERSION" heap="${3:-768m}" logging
  if kafka_ready "$port" 2>/dev/null; then log "$name already answering on $port"; return; fi
  if port_open "$port"; then die "port $port is taken by something that is not a working Kafka broker"; fi
  mkdir -p "$dir/data" "$STACK_DIR/logs"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$ctrl
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$ctrl
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
# single node: internal topics cannot be replicated; fewer partitions start faster
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
# short transaction timeouts let tests that kill workers see aborted transactions quickly
transaction.max.timeout.ms=900000
log.retention.hours=24
EOF
  if [[ ! -f "$dir/data/meta.properties" ]]; then
    java -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
      -t "$(cat /proc/sys/kernel/random/uuid | tr -d - | head -c 22)" -c "$dir/server.properties" \
      >"$STACK_DIR/logs/$name-format.log" 2>&1 || die "kafka storage format failed (see $STACK_DIR/logs/$name-format.log)"
  fi
  if ((KAFKA_MAJOR >= 4)); then logging="-Dlog4j2.configurationFile=$HERE/kafka/log4j2.properties"
  else logging="-Dlog4j.configuration=file:$HERE/kafka/log4j.properties"; fi
  log "starting $name (Kafka $KAFKA_VERSION) on 127.0.0.1:$port"
  nohup java -Xms256m -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dkafka.logs.dir="$STACK_DIR/logs/$name" "$logging" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" \
    >"$STACK_DIR/logs/$name.log" 2>&1 &
  echo $! >"$STACK_DIR/$name.pid"
  mkdir -p "$STACK_DIR/logs/$name"
  wait_for "$name" kafka_ready "$port"
}

start_registry() { # start_registry <name> <port>
  local name="$1" port="$2"
  if registry_ready "$port" 2>/dev/null; then log "$name already answering on $port"; return; fi
  if port_open "$port"; then die "port $port is taken by something that is not a schema registry"; fi
  cat >"$STACK_DIR/$name.yaml" <<EOF
server:
  host: "127.0.0.1"
  port: $port
storage:
  type: memory
compatibility:
  default_level: BACKWARD
logging:
  level: warn
  format: json
EOF
  log "starting $name on 127.0.0.1:$port (in-memory: schemas are lost on restart)"
  nohup "$STACK_DIR/bin/schema-registry" -config "$STACK_DIR/$name.yaml" >"$STACK_DIR/logs/$name.log" 2>&1 &
  echo $! >"$STACK_DIR/$name.pid"
  wait_for "$name" registry_ready "$port"
}

start_redis() {
  if redis_ready; then log "redis already answering on $REDIS_PORT"; return; fi
  if port_open "$REDIS_PORT"; then die "port $REDIS_PORT is taken by something that is not Redis"; fi
  mkdir -p "$STACK_DIR/redis"
  log "starting redis on 127.0.0.1:$REDIS_PORT"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$STACK_DIR/redis" --save '' --appendonly no \
    --daemonize yes --pidfile "$STACK_DIR/redis.pid" --logfile "$STACK_DIR/logs/redis.log"
  wait_for redis redis_ready
}

print_env() {
  echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  echo "SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT"
  echo "REDIS_URL=redis://127.0.0.1:$REDIS_PORT"
  # Only when asked for: a target cluster left running by the tests must not switch a plain
  # `eval "$(npm run -s stack:up)"` session into two-cluster mode.
  if [[ "$WITH_TARGET" == "1" ]] && kafka_ready "$TARGET_KAFKA_PORT" 2>/dev/null; then
    if [[ "${MASKER_STACK_TARGET_ENV:-}" == "test" ]]; then
      echo "MASKER_TEST_TARGET_BROKERS=127.0.0.1:$TARGET_KAFKA_PORT"
    else
      echo "TARGET_KAFKA_BROKERS=127.0.0.1:$TARGET_KAFKA_PORT"
    fi
  fi
  if [[ "$WITH_TARGET" == "1" ]] && registry_ready "$TARGET_REGISTRY_PORT" 2>/dev/null; then
    if [[ "${MASKER_STACK_TARGET_ENV:-}" == "test" ]]; then
      echo "MASKER_TEST_TARGET_REGISTRY_URL=http://127.0.0.1:$TARGET_REGISTRY_PORT"
    else
      echo "TARGET_SCHEMA_REGISTRY_URL=http://127.0.0.1:$TARGET_REGISTRY_PORT"
    fi
  fi
}

stop_pid() { # stop_pid <name>: SIGTERM, then SIGKILL after 20 s
  local pidfile="$STACK_DIR/$1.pid"
  pid_alive "$pidfile" || { rm -f "$pidfile"; return; }
  local pid; pid="$(cat "$pidfile")"
  log "stopping $1 (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

cmd="${1:-status}"
mkdir -p "$STACK_DIR/logs"
case "$cmd" in
  up)
    start=$SECONDS
    # Check first: install (fetch jars, build the registry, apt-get) only for a service that does not answer
    # yet, so a stack that is already up (or services started some other way) costs a few pings.
    need_kafka=0; need_registry=0; need_redis=0
    kafka_ready "$KAFKA_PORT" 2>/dev/null || need_kafka=1
    registry_ready "$REGISTRY_PORT" 2>/dev/null || need_registry=1
    redis_ready || need_redis=1
    if [[ "$WITH_TARGET" == "1" ]]; then
      kafka_ready "$TARGET_KAFKA_PORT" 2>/dev/null || need_kafka=1
      registry_ready "$TARGET_REGISTRY_PORT" 2>/dev/null || need_registry=1
    fi
    if ((need_redis)); then install_redis; fi
    if ((need_kafka)); then install_kafka; fi
    if ((need_registry)); then install_registry; fi
    start_redis; start_registry registry "$REGISTRY_PORT"; start_kafka kafka "$KAFKA_PORT"
    if [[ "$WITH_TARGET" == "1" ]]; then
      start_registry registry-target "$TARGET_REGISTRY_PORT"
      start_kafka kafka-target "$TARGET_KAFKA_PORT" 512m
    fi
    log "stack ready in $((SECONDS - start))s"
    print_env
    ;;
  down)
    stop_pid kafka-target; stop_pid kafka; stop_pid registry-target; stop_pid registry
    if pid_alive "$STACK_DIR/redis.pid"; then stop_pid redis; fi
    ;;
  status)
    rc=0
    if kafka_ready "$KAFKA_PORT" 2>/dev/null; then log "kafka: up (127.0.0.1:$KAFKA_PORT)"; else log "kafka: down"; rc=1; fi
    if registry_ready "$REGISTRY_PORT" 2>/dev/null; then log "registry: up (:$REGISTRY_PORT)"; else log "registry: down"; rc=1; fi
    if redis_ready; then log "redis: up (:$REDIS_PORT)"; else log "redis: down"; rc=1; fi
    if kafka_ready "$TARGET_KAFKA_PORT" 2>/dev/null; then log "kafka-target: up (127.0.0.1:$TARGET_KAFKA_PORT)"
    elif [[ "$WITH_TARGET" == "1" ]]; then log "kafka-target: down"; rc=1
    else log "kafka-target: not started (MASKER_STACK_TARGET=1 or up --with-target)"; fi
    if registry_ready "$TARGET_REGISTRY_PORT" 2>/dev/null; then log "registry-target: up (:$TARGET_REGISTRY_PORT)"
    elif [[ "$WITH_TARGET" == "1" ]]; then log "registry-target: down"; rc=1; fi
    print_env
    exit $rc
    ;;
  env) print_env ;;
  *) die "usage: stack.sh up [--with-target]|down|status|env" ;;
esac
