#!/bin/sh
# Start one KRaft node from KAFKA_* variables, as the apache/kafka image does (see ../Dockerfile).
set -eu
conf=/var/lib/kafka/server.properties
libs='/opt/kafka/libs/*'

# Single-node defaults, each overridable by its KAFKA_* variable.
: "${KAFKA_NODE_ID:=1}"
: "${KAFKA_PROCESS_ROLES:=broker,controller}"
: "${KAFKA_LISTENERS:=PLAINTEXT://:9092,CONTROLLER://:9093}"
: "${KAFKA_ADVERTISED_LISTENERS:=PLAINTEXT://localhost:9092}"
: "${KAFKA_CONTROLLER_LISTENER_NAMES:=CONTROLLER}"
: "${KAFKA_CONTROLLER_QUORUM_VOTERS:=$KAFKA_NODE_ID@localhost:9093}"
: "${KAFKA_LISTENER_SECURITY_PROTOCOL_MAP:=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT}"
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
: "${KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR:=1}"
: "${KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR:=1}"
: "${KAFKA_TRANSACTION_STATE_LOG_MIN_ISR:=1}"
: "${KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS:=0}"
export KAFKA_NODE_ID KAFKA_PROCESS_ROLES KAFKA_LISTENERS KAFKA_ADVERTISED_LISTENERS KAFKA_CONTROLLER_LISTENER_NAMES \
  KAFKA_CONTROLLER_QUORUM_VOTERS KAFKA_LISTENER_SECURITY_PROTOCOL_MAP KAFKA_LOG_DIRS \
  KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR \
  KAFKA_TRANSACTION_STATE_LOG_MIN_ISR KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS

# KAFKA_FOO_BAR=v → foo.bar=v; `___` → `-`, `__` → `_`. JVM settings are not broker properties.
: >"$conf"
env | grep '^KAFKA_' | while IFS= read -r line; do
  name="${line%%=*}"
  case "$name" in KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_JVM_PERFORMANCE_OPTS|KAFKA_VERSION) continue ;; esac
  key="$(printf '%s' "${name#KAFKA_}" | tr 'A-Z' 'a-z' | sed -e 's/___/-/g' -e 's/__/@/g' -e 's/_/./g' -e 's/@/_/g')"
  printf '%s=%s\n' "$key" "${line#*=}" >>"$conf"
done

# Format the log directory once (a restarted container with a volume keeps its cluster).
if [ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]; then
  cluster="${CLUSTER_ID:-$(tr -d - </proc/sys/kernel/random/uuid | head -c 22)}"
  java -Xmx256m -cp "$libs" -Dlog4j2.configurationFile=/opt/kafka/config/tools-log4j2.properties \
    -Dlog4j.configuration=file:/opt/kafka/config/tools-log4j.properties \
    kafka.tools.StorageTool format -t "$cluster" -c "$conf" >/dev/null
fi

# shellcheck disable=SC2086 # option lists
exec java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m} -XX:+UseG1GC -Djava.awt.headless=true ${KAFKA_OPTS:-} \
  -Dlog4j2.configurationFile=/opt/kafka/config/log4j2.properties \
  -Dlog4j.configuration=file:/opt/kafka/config/log4j.properties \
  -cp "$libs" kafka.Kafka "$conf"
