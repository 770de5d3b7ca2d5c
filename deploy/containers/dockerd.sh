#!/usr/bin/env bash
# A Docker engine for CI on a machine without one running (no systemd in these machines):
#   dockerd.sh up     docker answers already → nothing to do. Otherwise install Debian's docker.io,
#                     docker-compose (1.29) and debootstrap when missing, start dockerd in the background and
#                     wait until it answers. Storage driver overlay2, vfs when overlay2 does not start.
#   dockerd.sh down   stop the dockerd that `up` started (its pid file), nothing else.
# Fails (exit 1, with dockerd's last log lines) when no engine can be started: CI must not skip containers.
set -euo pipefail

STATE="${MASKER_CI_STATE:-/run/masker-ci}"
LOGS="${MASKER_CI_LOGS:-/var/log/masker-ci}"
PIDFILE="$STATE/dockerd.pid"
log() { printf '[dockerd] %s\n' "$*" >&2; }
die() { printf '[dockerd] ERROR: %s\n' "$*" >&2; exit 1; }
answers() { timeout 20 docker info >/dev/null 2>&1; }

install() {
  local need=()
  command -v dockerd >/dev/null || need+=(docker.io)
  command -v docker-compose >/dev/null || need+=(docker-compose)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  ((${#need[@]} == 0)) && return
  command -v apt-get >/dev/null || die "missing ${need[*]} and no apt-get to install them"
  log "installing ${need[*]} (Debian packages)"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >"$LOGS/apt-docker.log" 2>&1 \
    || die "apt-get install ${need[*]} failed (see $LOGS/apt-docker.log)"
}

start() { # start <storage driver>: 0 when the engine answers within 60 s
  local driver="$1" logfile="$LOGS/dockerd-$1.log" pid
  log "starting dockerd (storage driver $driver; log $logfile)"
  nohup dockerd --storage-driver="$driver" >"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$PIDFILE"
  for _ in $(seq 1 120); do
    if answers; then log "dockerd answers (pid $pid, $driver)"; return 0; fi
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  log "dockerd with $driver did not come up; its last lines:"
  tail -n 15 "$logfile" >&2 || true
  stop_ours
  return 1
}

stop_ours() {
  [[ -f "$PIDFILE" ]] || return 0
  local pid; pid="$(cat "$PIDFILE")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

mkdir -p "$STATE" "$LOGS"
case "${1:-up}" in
  up)
    if answers; then log "a Docker engine answers already"; exit 0; fi
    install
    # Left behind by a dockerd that did not stop cleanly: a new one refuses to start over its pid file.
    if [[ -f /var/run/docker.pid ]] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then rm -f /var/run/docker.pid; fi
    start overlay2 || start vfs || die "no Docker engine could be started (logs: $LOGS/dockerd-*.log)"
    echo started
    ;;
  down) stop_ours ;;
  *) die "usage: dockerd.sh up|down" ;;
esac
