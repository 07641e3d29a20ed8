# Shared helpers for the service scripts. State lives outside the repo.
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
STATE_DIR="${PAYMENTS_SERVICES_DIR:-$HOME/.cache/payments-platform/services}"
CACHE_DIR="${PAYMENTS_CACHE_DIR:-$HOME/.cache/payments-platform}"
mkdir -p "$STATE_DIR"

log() { printf '[services] %s\n' "$*" >&2; }

# wait_for_port HOST PORT SECONDS
wait_for_port() {
  local host=$1 port=$2 seconds=$3 i
  for ((i = 0; i < seconds * 5; i++)); do
    if (exec 3<>"/dev/tcp/$host/$port") 2>/dev/null; then return 0; fi
    sleep 0.2
  done
  return 1
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pid PIDFILE NAME: SIGTERM, wait up to 30 s, then SIGKILL.
stop_pid() {
  local pidfile=$1 name=$2 pid i
  if ! pid_alive "$pidfile"; then rm -f "$pidfile"; return 0; fi
  pid=$(cat "$pidfile")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "$name stopped"; return 0; }
    sleep 0.2
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
  log "$name killed after 30 s"
}

fail_with_log() {
  log "$1"
  [[ -f "$2" ]] && tail -n 40 "$2" >&2
  exit 1
}
