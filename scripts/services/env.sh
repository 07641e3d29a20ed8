# Source me: exports the addresses of the services started by `npm run services:up`.
export TEST_DATABASE_URL="postgres://postgres@127.0.0.1:${PAYMENTS_PG_PORT:-55432}/payments"
export TEST_KAFKA_BROKERS="127.0.0.1:${PAYMENTS_KAFKA_PORT:-59092}"
export TEST_PUBSUB_EMULATOR_HOST="127.0.0.1:${PAYMENTS_PUBSUB_PORT:-58085}"
