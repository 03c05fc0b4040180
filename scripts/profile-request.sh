#!/usr/bin/env bash
# Instructions per request, counted by callgrind (reproducible on a busy
# machine): starts `rtms serve` under valgrind on an existing data directory
# (for instance one kept by `RTMS_BENCH_KEEP=DIR scripts/bench-load.sh`), signs
# in as the demo dispatcher (a token for /api paths, a session cookie for the
# web pages), warms up, then counts N requests of one path.
#
#   scripts/profile-request.sh DATA_DIR '/api/v1/consultations?status=open&per_page=50' [N]
#   callgrind_annotate --inclusive=yes callgrind.rtms.out.1 | head -80
#
# Environment: RTMS_BIN (default: the release build), RTMS_PROFILE_OUT (default
# callgrind.rtms.out; the counted part is written to that name with `.1`),
# RTMS_DATABASE_URL to profile on PostgreSQL instead of DATA_DIR's SQLite.
# Divide the total by N for the figure per request.
set -euo pipefail
cd "$(dirname "$0")/.."
data_dir="$1"
path="$2"
n="${3:-20}"
bin="${RTMS_BIN:-${CARGO_TARGET_DIR:-target}/release/rtms}"
out="${RTMS_PROFILE_OUT:-callgrind.rtms.out}"
port=18299
base="http://127.0.0.1:$port"
db_args=()
[ -n "${RTMS_DATABASE_URL:-}" ] && db_args=(--database-url "$RTMS_DATABASE_URL")
command -v valgrind >/dev/null || { echo "valgrind is needed (Debian: apt-get install valgrind)" >&2; exit 2; }

valgrind --tool=callgrind --callgrind-out-file="$out" "$bin" "${db_args[@]}" \
  --data-dir "$data_dir" --listen "127.0.0.1:$port" serve --demo >/dev/null 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do curl -sf -o /dev/null "$base/healthz" && break; sleep 0.2; done
if [[ "$path" == /api/* ]]; then
  token=$(curl -sf -H 'Content-Type: application/json' \
    -d '{"login":"dispatcher","password":"rtms-demo-password"}' "$base/api/v1/auth/login" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
  header="Authorization: Bearer $token"
else
  # A page of the web interface: its session cookie.
  cookie=$(curl -s -o /dev/null -D - -X POST "$base/login" \
    -d "login=dispatcher&password=rtms-demo-password&next=/" |
    sed -n 's/^set-cookie: rtms_session=\([^;]*\).*/\1/Ip')
  header="Cookie: rtms_session=$cookie"
fi
for _ in 1 2 3; do curl -sf -o /dev/null -H "$header" "$base$path"; done
callgrind_control -z "$pid" >/dev/null 2>&1
for _ in $(seq 1 "$n"); do curl -sf -o /dev/null -H "$header" "$base$path"; done
callgrind_control -d "$pid" >/dev/null 2>&1
sleep 1
total=$(callgrind_annotate "$out.1" 2>/dev/null | awk '/PROGRAM TOTALS/ {gsub(",", "", $1); print $1}')
echo "$n requests of $path: $total instructions, $((total / n)) per request ($out.1)"
