#!/usr/bin/env bash
# Load benchmarks at scale, on SQLite or PostgreSQL: generates N requests with
# `rtms admin generate`, starts a release `rtms serve` on them and measures
#
#   - start-up time (process start to the first answer of /healthz) and idle memory;
#   - the dispatcher's queue page and the list API, with and without filters,
#     and search by patient name and by СНИЛС: p50/p99 latency and requests/s at
#     50 concurrent connections (wrk on loopback), next to /healthz measured the
#     same way in the same run (the HTTP stack's own ceiling); then the queue
#     page and the open list again as 50 users who pause after every answer;
#   - create + submit of a request, one doctor after another (p50/p99);
#   - the monthly report and the report over a year (median of 5);
#   - RTMS_BENCH_SSE live-update (SSE) connections held open, and the memory each costs.
#
#   scripts/bench-load.sh                                   # SQLite, 10,000 requests
#   RTMS_BENCH_DB=postgres RTMS_BENCH_COUNT=1000000 scripts/bench-load.sh
#
# Environment:
#   RTMS_BENCH_DB       sqlite (default) or postgres
#   RTMS_BENCH_COUNT    requests to generate (default 10000)
#   RTMS_BENCH_PG       PostgreSQL server (default postgres://postgres@127.0.0.1:5432);
#                       the script creates and drops database rtms_bench
#   RTMS_BENCH_KEEP     a directory to keep the generated data in and reuse on the
#                       next run with the same database and count (on PostgreSQL
#                       the data stay in database rtms_bench_keep_<count>)
#   RTMS_BENCH_SECONDS  seconds per wrk run (default 10)
#   RTMS_BENCH_SSE      SSE connections to open (default 10000)
#   RTMS_BENCH_THINK_MS a user's pause after each answer in the "50 users" runs (default 25)
#   RTMS_BIN            an rtms binary instead of building the release one
#
# Needs wrk, curl and python3 (standard library). Prints one line per figure
# and, at the end, the targets met and missed; exits non-zero if one is missed.
set -euo pipefail
cd "$(dirname "$0")/.."

DB="${RTMS_BENCH_DB:-sqlite}"
COUNT="${RTMS_BENCH_COUNT:-10000}"
SECS="${RTMS_BENCH_SECONDS:-10}"
SSE="${RTMS_BENCH_SSE:-10000}"
PG="${RTMS_BENCH_PG:-postgres://postgres@127.0.0.1:5432}"
PORT=18181
BASE="http://127.0.0.1:$PORT"

command -v wrk >/dev/null || { echo "wrk is needed (Debian: apt-get install wrk)" >&2; exit 2; }
if [ -z "${RTMS_BIN:-}" ]; then
  echo "== building the release binary"
  cargo build --release -p rtms
  RTMS_BIN="${CARGO_TARGET_DIR:-target}/release/rtms"
fi
[ -x "$RTMS_BIN" ] || { echo "no rtms binary at $RTMS_BIN" >&2; exit 2; }
# Ten thousand connections need as many descriptors, here and in the server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

work="$(mktemp -d "${TMPDIR:-/tmp}/rtms-bench-load.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$1/status"; }
results="$work/results"
: >"$results"
# `figure NAME VALUE UNIT [TARGET-CHECK]`: one line of the summary.
figure() { printf '%-58s %12s %s\n' "$1" "$2" "$3" | tee -a "$results"; }
verdicts="$work/verdicts"
: >"$verdicts"
verdict() { # name, python boolean expression, text
  if python3 -c "import sys; sys.exit(0 if ($2) else 1)"; then
    echo "PASS  $1: $3" >>"$verdicts"
  else
    echo "MISS  $1: $3" >>"$verdicts"
  fi
}

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo); $DB; $COUNT requests"

# ---- the data ------------------------------------------------------------------
args=()
data_dir="$work/data"
if [ -n "${RTMS_BENCH_KEEP:-}" ]; then
  data_dir="$RTMS_BENCH_KEEP"
fi
if [ "$DB" = postgres ] && [ -n "${RTMS_BENCH_KEEP:-}" ]; then
  # Kept: database rtms_bench_keep_<count>, generated once, never dropped here.
  pg_db="rtms_bench_keep_$COUNT"
  url="$PG/$pg_db"
  if ! psql "$url" -qAtc "SELECT 1" >/dev/null 2>&1; then
    psql "$PG/postgres" -qc "CREATE DATABASE $pg_db" >/dev/null
    rm -f "$data_dir/generated"
  fi
  args=(--database-url "$url")
elif [ "$DB" = postgres ]; then
  pg_db=rtms_bench
  url="$PG/rtms_bench"
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS rtms_bench" -c "CREATE DATABASE rtms_bench" >/dev/null
  args=(--database-url "$url")
  trap 'cleanup; psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS rtms_bench" >/dev/null 2>&1 || true' EXIT
fi
args+=(--data-dir "$data_dir" --listen "127.0.0.1:$PORT")
mkdir -p "$data_dir"
if [ -n "${RTMS_BENCH_KEEP:-}" ] && [ -f "$data_dir/generated" ] && [ "$(cat "$data_dir/generated")" = "$COUNT" ]; then
  echo "== reusing $COUNT generated requests in $data_dir"
else
  echo "== generating $COUNT requests"
  start=$(date +%s.%N)
  "$RTMS_BIN" "${args[@]}" admin generate --count "$COUNT" | tee "$work/generate.txt"
  end=$(date +%s.%N)
  figure "generate $COUNT requests" "$(python3 -c "print(f'{$end - $start:.1f}')")" "s"
  # After a bulk load autovacuum would set PostgreSQL's visibility map (which
  # index-only scans need) in its own time; do it now.
  if [ "$DB" = postgres ]; then psql "$url" -qc "VACUUM ANALYZE" >/dev/null; fi
  [ -n "${RTMS_BENCH_KEEP:-}" ] && echo "$COUNT" >"$data_dir/generated"
fi
if [ "$DB" = sqlite ]; then
  figure "SQLite database size" "$(du -sm "$data_dir" | cut -f1)" "MB"
else
  figure "PostgreSQL database size" "$(psql "$url" -Atc "SELECT pg_database_size('$pg_db') / 1048576")" "MB"
fi

# ---- start-up and idle memory ---------------------------------------------------
# Migrations are applied (generate ran them); the reference data is loaded.
start=$(date +%s.%N)
"$RTMS_BIN" "${args[@]}" serve --demo >"$work/server.log" 2>&1 &
server_pid=$!
until curl -sf "$BASE/healthz" >/dev/null; do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.005
done
end=$(date +%s.%N)
startup=$(python3 -c "print(f'{($end - $start) * 1000:.0f}')")
figure "start-up to the first answer" "$startup" "ms"
verdict "start-up" "$startup < 1000" "$startup ms (target < 1000 ms)"
sleep 3
idle=$(rss_mb "$server_pid")
figure "idle memory (VmRSS)" "$idle" "MB"
verdict "idle memory" "$idle < 50" "$idle MB (target < 50 MB)"

login() {
  curl -sf -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"login\":\"$1\",\"password\":\"rtms-demo-password\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
# The web interface's session (a cookie) is a sign-in of its own.
session() {
  curl -s -o /dev/null -D - -X POST "$BASE/login" -d "login=$1&password=rtms-demo-password&next=/" |
    sed -n 's/^set-cookie: rtms_session=\([^;]*\).*/\1/Ip'
}
dispatcher=$(login dispatcher)
doctor=$(login doctor)
cookie=$(session dispatcher)

# ---- concurrent load ------------------------------------------------------------
# `load NAME PATH [header [wrk options...]]`: wrk, 2 threads, 50 connections;
# p50, p99, requests/s.
load() {
  local name="$1" path="$2" header="${3:-Authorization: Bearer $dispatcher}"
  local extra=("${@:4}")
  local out="$work/wrk.txt"
  # The first answer must be a success, or the figures would be of an error page.
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$header" "$BASE$path")
  [ "$code" = 200 ] || { echo "$path answered $code" >&2; exit 1; }
  wrk -t2 -c50 -d"${SECS}s" --timeout 10s --latency "${extra[@]}" -H "$header" "$BASE$path" >"$out"
  python3 - "$out" "$name" >>"$work/load.tsv" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
def ms(label):
    m = re.search(r"^\s+" + label + r"%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    v, unit = float(m.group(1)), m.group(2)
    return v / 1000 if unit == "us" else v * 1000 if unit == "s" else v
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
timeouts = re.search(r"Socket errors:.*timeout (\d+)", text)
failed = (int(errors.group(1)) if errors else 0) + (int(timeouts.group(1)) if timeouts else 0)
print(f"{sys.argv[2]}\t{ms('50'):.2f}\t{ms('99'):.2f}\t{rps:.0f}\t{failed}")
EOF
  tail -1 "$work/load.tsv" | awk -F'\t' '{printf "%-58s p50 %7s ms  p99 %7s ms  %6s req/s  (failed or timed out: %s)\n", $1, $2, $3, $4, $5}' | tee -a "$results"
}
: >"$work/load.tsv"
echo "== 50 concurrent connections, ${SECS} s each"
snils=$(curl -sf -H "Authorization: Bearer $dispatcher" "$BASE/api/v1/consultations?per_page=1&status=closed" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["items"][0]["id"])' |
  xargs -I{} curl -sf -H "Authorization: Bearer $dispatcher" "$BASE/api/v1/consultations/{}" |
  python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["patient"]["snils"])')
load "reference: /healthz" "/healthz"
load "queue page (dispatcher, open requests)" "/queue" "Cookie: rtms_session=$cookie"
load "list API: open requests" "/api/v1/consultations?status=open&per_page=50"
load "list API: all requests, first page" "/api/v1/consultations?per_page=50"
load "list API: planned, closed, page 3" "/api/v1/consultations?status=closed&form_of_care=planned&page=3&per_page=50"
load "search by name (Иванова Анна)" "/api/v1/consultations?q=%D0%98%D0%B2%D0%B0%D0%BD%D0%BE%D0%B2%D0%B0+%D0%90%D0%BD%D0%BD%D0%B0&per_page=50"
load "search by СНИЛС" "/api/v1/consultations?q=$snils&per_page=50"
# 50 users rather than 50 clients flat out: each waits THINK ms after every
# answer, which offers up to 50 * 1000 / THINK requests/s (2,000/s at 25 ms).
THINK="${RTMS_BENCH_THINK_MS:-25}"
echo "== 50 users, each asking again ${THINK} ms after an answer"
export RTMS_BENCH_THINK_MS="$THINK"
load "users: queue page (dispatcher, open requests)" "/queue" "Cookie: rtms_session=$cookie" -s scripts/wrk-users.lua
load "users: list API, open requests" "/api/v1/consultations?status=open&per_page=50" \
  "Authorization: Bearer $dispatcher" -s scripts/wrk-users.lua
python3 - "$work/load.tsv" >>"$verdicts" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
for name, p50, p99, rps, errors in rows:
    if name.startswith("reference"):
        continue
    p99, rps = float(p99), float(rps)
    ok = p99 < 20 and int(errors) == 0
    text = f"p99 {p99} ms (target < 20 ms)"
    if name.startswith("list API"):
        ok = ok and rps >= 2000
        text += f", {rps:.0f} req/s (target >= 2000)"
    print(("PASS  " if ok else "MISS  ") + name + ": " + text)
EOF

# ---- create + submit, one after another -----------------------------------------
echo "== create + submit"
python3 - "$BASE" "$doctor" >>"$results" <<'EOF'
import http.client, json, sys, time
base, token = sys.argv[1], sys.argv[2]
host, port = base.split("//")[1].split(":")
conn = http.client.HTTPConnection(host, int(port))
headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
body = {
    "patient": {"last_name": "Нагрузкин", "first_name": "Тест", "middle_name": "Иванович",
                "birth_date": "12.03.1958", "sex": "male", "snils": "112-233-445 95",
                "oms_policy": "1234567890123456", "address": "ул. Школьная, 4"},
    "form_of_care": "planned", "mode": "deferred", "purpose": "treatment_tactics",
    "profile": "cardiology", "diagnosis": {"main": "I21.0", "text": "ОИМ"},
    "question": "Тактика?", "anamnesis_morbi": "Боли за грудиной.", "objective_status": "Средней тяжести.",
    "consent_given": True, "contact_phone": "+7 900 000-00-01",
}
def call(method, path, payload):
    conn.request(method, path, json.dumps(payload), headers)
    r = conn.getresponse()
    data = r.read()
    if r.status >= 300:
        raise SystemExit(f"{method} {path}: {r.status} {data[:300]!r}")
    return json.loads(data)
times = []
for i in range(200):
    t = time.perf_counter()
    created = call("POST", "/api/v1/consultations", body)
    call("POST", f"/api/v1/consultations/{created['id']}/actions/submit", {})
    times.append((time.perf_counter() - t) * 1000)
times.sort()
p = lambda q: times[min(len(times) - 1, int(q * len(times)))]
print(f"{'create + submit (200 in a row)':<58} p50 {p(0.5):7.2f} ms  p99 {p(0.99):7.2f} ms")
EOF
tail -1 "$results"

# ---- reports --------------------------------------------------------------------
echo "== reports"
report() { # name, from, to
  local times=()
  for _ in 1 2 3 4 5; do
    times+=("$(curl -sf -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $dispatcher" \
      "$BASE/api/v1/reports?from=$2&to=$3")")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 3p)
  median=$(python3 -c "print(f'{$median * 1000:.0f}')")
  figure "$1" "$median" "ms (median of 5)"
  verdict "$1" "$median < 1000" "$median ms (target < 1000 ms)"
}
last_month_end=$(date -u -d "$(date -u +%Y-%m-01) -1 day" +%F)
last_month_start=$(date -u -d "$(date -u +%Y-%m-01) -1 month" +%F)
report "monthly report (last month)" "$last_month_start" "$last_month_end"
report "report over the last 12 months" "$(date -u -d '-1 year' +%F)" "$(date -u +%F)"

# ---- SSE connections -------------------------------------------------------------
echo "== $SSE live-update (SSE) connections"
before=$(rss_mb "$server_pid")
python3 - "$PORT" "$cookie" "$SSE" "$server_pid" >>"$results" <<'EOF'
import asyncio, sys
port, token, n, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
request = (f"GET /live HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: rtms_session={token}\r\n"
           "Accept: text/event-stream\r\n\r\n").encode()
def rss():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
async def one(streams):
    r, w = await asyncio.open_connection("127.0.0.1", port)
    w.write(request)
    await w.drain()
    head = await r.readuntil(b"\r\n\r\n")
    if b" 200 " not in head.split(b"\r\n")[0] or b"text/event-stream" not in head:
        raise SystemExit("not an event stream: " + head[:200].decode(errors="replace"))
    streams.append((r, w))
async def main():
    streams = []
    before = rss()
    for start in range(0, n, 500):
        await asyncio.gather(*(one(streams) for _ in range(min(500, n - start))))
    await asyncio.sleep(2)
    after = rss()
    # Every stream is still open: the server has not dropped any.
    alive = sum(1 for r, w in streams if not r.at_eof())
    print(f"{'SSE connections open at once':<58} {alive:12d}")
    print(f"{'server memory with them (VmRSS)':<58} {after:12.1f} MB")
    print(f"{'memory per SSE connection':<58} {(after - before) * 1024 / max(1, n):12.1f} KB")
    for r, w in streams:
        w.close()
asyncio.run(main())
EOF
tail -3 "$results"
with=$(grep "server memory with them" "$results" | awk '{print $(NF-1)}')
alive=$(grep "SSE connections open at once" "$results" | awk '{print $NF}')
verdict "SSE" "$alive >= $SSE and $with < 300" "$alive connections in $with MB (target: 10,000 in < 300 MB)"

echo
echo "== summary ($DB, $COUNT requests)"
cat "$results"
echo
cat "$verdicts"
! grep -q '^MISS' "$verdicts"
