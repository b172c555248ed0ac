#!/usr/bin/env bash
# `make bench`, step 1: wrk installed, PostgreSQL and Redis answering, a fresh benchmark database.
# Settings come from the Makefile: BENCH_PGHOST, BENCH_PGPORT, BENCH_PGUSER, BENCH_DB, BENCH_REDIS_URL.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v wrk >/dev/null 2>&1; then
  echo "Installing wrk (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get install -y -qq wrk >/dev/null 2>&1 || { as_root apt-get update -qq && as_root apt-get install -y -qq wrk; }
fi

if ! pg_isready -q -h "$BENCH_PGHOST" -p "$BENCH_PGPORT"; then
  echo "PostgreSQL is down; starting it"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$BENCH_PGHOST" -p "$BENCH_PGPORT" && break; sleep 1; done
fi
pg_isready -q -h "$BENCH_PGHOST" -p "$BENCH_PGPORT" || { echo "PostgreSQL is not answering on $BENCH_PGHOST:$BENCH_PGPORT" >&2; exit 1; }

if ! redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null 2>&1; then
  echo "Redis is down; starting it"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/bench.log
  for _ in $(seq 1 30); do redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -u "$BENCH_REDIS_URL" ping >/dev/null || { echo "Redis is not answering at $BENCH_REDIS_URL" >&2; exit 1; }

# A fresh database every run: the schema is this checkout's migrations, whatever ran there before.
echo "Recreating the database $BENCH_DB"
dropdb --if-exists --force -h "$BENCH_PGHOST" -p "$BENCH_PGPORT" -U "$BENCH_PGUSER" "$BENCH_DB"
createdb -h "$BENCH_PGHOST" -p "$BENCH_PGPORT" -U "$BENCH_PGUSER" "$BENCH_DB"
