#!/usr/bin/env bash
# Google's Pub/Sub fake (pstest) served over gRPC by services/pubsub-emulator, built with Go.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PORT="${PAYMENTS_PUBSUB_PORT:-58085}"
SRC="$REPO_ROOT/services/pubsub-emulator"
BIN="$CACHE_DIR/pubsub-emulator/pubsub-emulator"
DIR="$STATE_DIR/pubsub"
PIDFILE="$DIR/emulator.pid"
LOG="$DIR/emulator.log"

build() {
  mkdir -p "$(dirname "$BIN")"
  local stamp; stamp=$(cat "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go" | sha256sum | cut -d' ' -f1)
  if [[ -x "$BIN" && -f "$BIN.sha256" && "$(cat "$BIN.sha256")" == "$stamp" ]]; then return 0; fi
  log "building the Pub/Sub emulator (Go module proxy)"
  (cd "$SRC" && go build -o "$BIN" .) >"$DIR/build.log" 2>&1 || fail_with_log "go build failed" "$DIR/build.log"
  echo "$stamp" >"$BIN.sha256"
}

up() {
  mkdir -p "$DIR"
  if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; then
    log "pubsub emulator already running on 127.0.0.1:$PORT"
    return 0
  fi
  build
  setsid nohup "$BIN" -port "$PORT" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  wait_for_port 127.0.0.1 "$PORT" 30 || fail_with_log "pubsub emulator did not open port $PORT" "$LOG"
  log "pubsub emulator ready: PUBSUB_EMULATOR_HOST=127.0.0.1:$PORT"
}

down() { stop_pid "$PIDFILE" "pubsub emulator"; }

status() {
  if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$PORT"; then
    echo "pubsub    up    PUBSUB_EMULATOR_HOST=127.0.0.1:$PORT"
  else
    echo "pubsub    down"
    return 1
  fi
}

"${1:-status}"
