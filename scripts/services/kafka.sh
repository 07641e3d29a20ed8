#!/usr/bin/env bash
# Single-node KRaft Apache Kafka 4.x from Maven Central jars (services/kafka/pom.xml); no tarball, no docker.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
KAFKA_PORT="${PAYMENTS_KAFKA_PORT:-59092}"
CONTROLLER_PORT="${PAYMENTS_KAFKA_CONTROLLER_PORT:-59093}"
LIBS="$CACHE_DIR/kafka-libs"
DIR="$STATE_DIR/kafka"
PIDFILE="$DIR/kafka.pid"
LOG="$DIR/kafka.out"
POM="$REPO_ROOT/services/kafka/pom.xml"

resolve_jars() {
  local want; want=$(sha256sum "$POM" | cut -d' ' -f1)
  if [[ -f "$LIBS/.pom-sha256" && "$(cat "$LIBS/.pom-sha256")" == "$want" ]]; then return 0; fi
  log "resolving Kafka jars from Maven Central (first run only)"
  rm -rf "$LIBS" && mkdir -p "$LIBS"
  mvn -q -B -f "$POM" dependency:copy-dependencies -DoutputDirectory="$LIBS" -DincludeScope=runtime >"$DIR/mvn.log" 2>&1 \
    || fail_with_log "maven could not resolve the Kafka jars" "$DIR/mvn.log"
  echo "$want" >"$LIBS/.pom-sha256"
}

write_config() {
  cat >"$DIR/server.properties" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DIR/data
num.partitions=8
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
log.retention.hours=24
CONF
  cat >"$DIR/log4j2.xml" <<XML
<Configuration status="warn">
  <Appenders><File name="file" fileName="$DIR/kafka.log"><PatternLayout pattern="%d %p %c{1} %m%n"/></File></Appenders>
  <Loggers><Root level="warn"><AppenderRef ref="file"/></Root></Loggers>
</Configuration>
XML
}

java_kafka() { java -Xmx768m -Xms256m -Dlog4j2.configurationFile="$DIR/log4j2.xml" -cp "$LIBS/*" "$@"; }

up() {
  mkdir -p "$DIR"
  if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$KAFKA_PORT"; then
    log "kafka already running on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  stop_pid "$PIDFILE" kafka # a broker that lost its port (or a stale pid file) is replaced, not joined
  resolve_jars
  write_config
  # The broker is a disposable test service: every start formats empty storage. Tests create uniquely
  # named topics, so kept storage only grows; at ~15k partition directories the broker ran out of file
  # descriptors while loading them at start and shut down (CI stop 12).
  rm -rf "$DIR/data"
  log "formatting kafka storage"
  local id; id=$(java_kafka kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n1)
  java_kafka kafka.tools.StorageTool format -t "$id" -c "$DIR/server.properties" --standalone >"$DIR/format.log" 2>&1 \
    || fail_with_log "kafka storage format failed" "$DIR/format.log"
  log "starting kafka"
  : >"$DIR/kafka.log"
  setsid nohup java -Xmx768m -Xms256m -XX:+UseG1GC -Dlog4j2.configurationFile="$DIR/log4j2.xml" \
    -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties" >"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local i
  for ((i = 0; i < 600; i++)); do
    port_open 127.0.0.1 "$KAFKA_PORT" && break
    pid_alive "$PIDFILE" || kafka_failed "kafka exited before opening port $KAFKA_PORT"
    sleep 0.2
  done
  port_open 127.0.0.1 "$KAFKA_PORT" || kafka_failed "kafka did not open port $KAFKA_PORT in 120 s"
  # The port opens before the broker can serve metadata; wait until a real admin request answers.
  for ((i = 0; i < 60; i++)); do
    if timeout 20 java -Xmx256m -cp "$LIBS/*" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "127.0.0.1:$KAFKA_PORT" --list >/dev/null 2>&1; then
      log "kafka ready: 127.0.0.1:$KAFKA_PORT"
      return 0
    fi
    pid_alive "$PIDFILE" || kafka_failed "kafka exited while starting"
    sleep 1
  done
  kafka_failed "kafka did not answer admin requests"
}

# kafka_failed MESSAGE: the broker's own words (its log and stdout) go with the failure.
kafka_failed() {
  log "$1"
  tail -n 40 "$DIR/kafka.log" >&2 2>/dev/null || true
  tail -n 20 "$LOG" >&2 2>/dev/null || true
  stop_pid "$PIDFILE" kafka
  exit 1
}

down() { stop_pid "$PIDFILE" kafka; }

status() {
  if pid_alive "$PIDFILE" && port_open 127.0.0.1 "$KAFKA_PORT"; then
    echo "kafka     up    127.0.0.1:$KAFKA_PORT"
  else
    echo "kafka     down"
    return 1
  fi
}

"${1:-status}"
