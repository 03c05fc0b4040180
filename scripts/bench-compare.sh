#!/usr/bin/env bash
# Two builds side by side on the same data: for each round, each binary is
# started in turn on DATA_DIR (and DATABASE_URL for PostgreSQL) and measured
# with wrk (2 threads, 50 connections) on the list of open requests, the
# dispatcher's queue page and the closed planned requests, page 3. On
# PostgreSQL it first counts the statements one list request costs (the
# database's transactions over 200 requests; every statement outside a
# transaction is one).
#
#   scripts/bench-compare.sh OLD_BIN NEW_BIN DATA_DIR [DATABASE_URL]
#
# The data come from `RTMS_BENCH_KEEP=DIR scripts/bench-load.sh` (or
# `rtms admin generate`). Alternating the builds spreads the machine's
# run-to-run noise over both. Environment: RTMS_COMPARE_ROUNDS (default 2),
# RTMS_BENCH_SECONDS (default 10). Needs wrk, curl, python3, and psql on
# PostgreSQL.
set -euo pipefail
[ $# -ge 3 ] || { sed -n 2,16p "$0"; exit 2; }
old="$1" new="$2" data_dir="$3" url="${4:-}"
rounds="${RTMS_COMPARE_ROUNDS:-2}"
secs="${RTMS_BENCH_SECONDS:-10}"
port=18182
base="http://127.0.0.1:$port"
open_list="/api/v1/consultations?status=open&per_page=50"
closed_p3="/api/v1/consultations?status=closed&form_of_care=planned&page=3&per_page=50"
command -v wrk >/dev/null || { echo "wrk is needed (Debian: apt-get install wrk)" >&2; exit 2; }

server_pid=""
stop() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}
trap stop EXIT

statements() { # transactions of the database so far
  psql "$url" -Atc "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
}

measure() { # label binary
  local args=(--data-dir "$data_dir" --listen "127.0.0.1:$port")
  [ -n "$url" ] && args=(--database-url "$url" "${args[@]}")
  "$2" "${args[@]}" serve --demo >/dev/null 2>&1 &
  server_pid=$!
  until curl -sf -o /dev/null "$base/healthz"; do
    kill -0 "$server_pid" 2>/dev/null || { echo "$2 did not start" >&2; exit 1; }
    sleep 0.05
  done
  local token cookie
  token=$(curl -sf -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"login":"dispatcher","password":"rtms-demo-password"}' |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  cookie=$(curl -s -o /dev/null -D - -X POST "$base/login" \
    -d "login=dispatcher&password=rtms-demo-password&next=/" |
    sed -n 's/^set-cookie: rtms_session=\([^;]*\).*/\1/Ip')
  local bearer="Authorization: Bearer $token"
  curl -sf -o /dev/null -H "$bearer" "$base$open_list"
  if [ -n "$url" ]; then
    # Statistics reach pg_stat_database within a second of a transaction's end.
    sleep 1.5
    local before after
    before=$(statements)
    for _ in $(seq 1 200); do curl -sf -o /dev/null -H "$bearer" "$base$open_list"; done
    sleep 1.5
    after=$(statements)
    # Minus the query that read the count before.
    printf '%-6s statements per list request: %s\n' "$1" \
      "$(python3 -c "print(round(($after - $before - 1) / 200, 1))")"
  fi
  run() { # name header path
    local out
    out=$(wrk -t2 -c50 -d"${secs}s" --latency -H "$2" "$base$3")
    printf '%-6s %-26s %8s req/s  p50 %9s  p99 %9s\n' "$1" "$4" \
      "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" \
      "$(awk '$1 == "50%" {print $2}' <<<"$out")" \
      "$(awk '$1 == "99%" {print $2}' <<<"$out")"
  }
  run "$1" "$bearer" "$open_list" "list API, open"
  run "$1" "Cookie: rtms_session=$cookie" "/queue" "queue page"
  run "$1" "$bearer" "$closed_p3" "list API, closed, page 3"
  stop
}

for r in $(seq 1 "$rounds"); do
  echo "== round $r"
  measure old "$old"
  measure new "$new"
done
