#!/usr/bin/env bash
# npm run services:up | services:down | services:status — real PostgreSQL, Kafka and the Pub/Sub emulator
# on loopback, without docker. Idempotent; `up` is quick when they already run.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services"
cmd="${1:-status}"
case "$cmd" in
  up)
    # Kafka's JVM start is the slowest part: start it alongside the others.
    bash "$HERE/kafka.sh" up & kafka=$!
    bash "$HERE/postgres.sh" up
    bash "$HERE/pubsub.sh" up
    wait "$kafka"
    bash "$0" status
    echo "source scripts/services/env.sh to point the tests at them"
    ;;
  down)
    for s in pubsub kafka postgres; do bash "$HERE/$s.sh" down || true; done
    if [[ "${2:-}" == "--purge" ]]; then
      rm -rf "${PAYMENTS_SERVICES_DIR:-$HOME/.cache/payments-platform/services}"
      [[ $(id -u) -eq 0 ]] && rm -rf "${PAYMENTS_PG_DIR:-/var/lib/payments-platform/postgres}"
    fi
    ;;
  status)
    rc=0
    for s in postgres kafka pubsub; do bash "$HERE/$s.sh" status || rc=1; done
    exit $rc
    ;;
  *) echo "usage: $0 up|down [--purge]|status" >&2; exit 2 ;;
esac
