#!/usr/bin/env bash
# Escalation benchmark: a study of RTMS_BENCH_SIZE_MB (default 2048 MiB)
# escalated from a region to the federal level, two `rtms serve` processes on
# this machine (SQLite each). Prints the sender's (the region's) VmRSS before,
# its peak while the study travels, the time from the escalation to the
# federal request being submitted, the throughput, and whether the SHA-256 at
# the federal level is the file's. Target: the sender's RSS stays flat (grows
# by less than 100 MiB whatever the size).
#
#   scripts/bench-escalation.sh
#
# Environment:
#   RTMS_BENCH_SIZE_MB  size of the study in MiB (default 2048)
#   RTMS_BIN            an rtms binary to use instead of building the release one
#   TMPDIR              where the data directories and the file go
#
# Needs curl, python3 (standard library only) and sha256sum.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB="${RTMS_BENCH_SIZE_MB:-2048}"
MEM_TARGET_MB=100

if [ -z "${RTMS_BIN:-}" ]; then
  echo "== building the release binary"
  cargo build --release -p rtms
  RTMS_BIN="${CARGO_TARGET_DIR:-target}/release/rtms"
fi
RTMS_BIN="$(cd "$(dirname "$RTMS_BIN")" && pwd)/$(basename "$RTMS_BIN")"
[ -x "$RTMS_BIN" ] || { echo "no rtms binary at $RTMS_BIN" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/rtms-bench-escalation.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
wait_ready() { for _ in $(seq 1 300); do [ "$(curl -s "$1/readyz" || true)" = ready ] && return 0; sleep 0.2; done; echo "no answer from $1" >&2; exit 1; }
login() { curl -s -H 'content-type: application/json' -d "{\"login\":\"$2\",\"password\":\"rtms-demo-password\"}" "$1/api/v1/auth/login" | json 'd["token"]'; }

mkdir -p "$work/federal" "$work/region"
fport=$(free_port); rport=$(free_port)
fbase="http://127.0.0.1:$fport"; rbase="http://127.0.0.1:$rport"
(cd "$work/federal" && exec "$RTMS_BIN" serve --demo --level federal --listen "127.0.0.1:$fport" >log 2>&1) &
pids+=($!)
wait_ready "$fbase"
token=$(cd "$work/federal" && "$RTMS_BIN" admin token --login doctor --name Регион)
(cd "$work/region" && exec "$RTMS_BIN" serve --demo --listen "127.0.0.1:$rport" \
  --federal-url "$fbase" --federal-token "$token" --federal-retry-cap-minutes 1 >log 2>&1) &
region_pid=$!
pids+=($region_pid)
wait_ready "$rbase"

echo "== a study of $SIZE_MB MiB"
python3 - "$work/study.mp4" "$SIZE_MB" <<'EOF'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    head = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2"
    for i in range(mib):
        block = os.urandom(1 << 20)
        if i == 0:
            block = head + block[len(head):]
        f.write(block)
EOF
want=$(sha256sum "$work/study.mp4" | cut -d' ' -f1)

disp=$(login "$rbase" dispatcher)
doc=$(login "$rbase" doctor)
# One of the doctor's demo requests in the dispatcher's review; the doctor attaches the study.
id=$(curl -s -H "Authorization: Bearer $doc" "$rbase/api/v1/consultations?status=in_review" | json 'd["items"][0]["id"]')
b64() { printf '%s' "$1" | base64 -w0; }
loc=$(curl -s -i -X POST -H "Authorization: Bearer $doc" -H 'Tus-Resumable: 1.0.0' \
  -H "Upload-Length: $((SIZE_MB * 1024 * 1024))" \
  -H "Upload-Metadata: filename $(b64 'КТ.mp4'),consultation $(b64 "$id")" \
  "$rbase/api/v1/uploads" | tr -d '\r' | awk -F': ' 'tolower($1)=="location" {print $2}')
code=$(curl -s -o /dev/null -w '%{http_code}' -X PATCH -H "Authorization: Bearer $doc" \
  -H 'Tus-Resumable: 1.0.0' -H 'Upload-Offset: 0' -H 'Content-Type: application/offset+octet-stream' \
  -T "$work/study.mp4" "$rbase$loc")
[ "$code" = 204 ] || { echo "the upload to the region answered $code" >&2; exit 1; }

fdisp=$(login "$fbase" dispatcher)
before=$(curl -s -H "Authorization: Bearer $fdisp" "$fbase/api/v1/consultations?per_page=1" | json 'd["total"]')
sleep 3
rss0=$(rss_kb "$region_pid")
peak=$rss0
t0=$(now)
curl -s -o /dev/null -H "Authorization: Bearer $disp" -H 'content-type: application/json' \
  -d '{"reason_code":"no_specialist"}' "$rbase/api/v1/consultations/$id/actions/escalate"
while :; do
  r=$(rss_kb "$region_pid"); [ "$r" -gt "$peak" ] && peak=$r
  total=$(curl -s -H "Authorization: Bearer $fdisp" "$fbase/api/v1/consultations?per_page=1" | json 'd["total"]')
  [ "$total" -gt "$before" ] && break
  if [ "$(calc "$(now) - $t0 > 3600")" = True ]; then echo "not delivered in an hour" >&2; exit 1; fi
  sleep 0.2
done
t1=$(now)
fid=$(curl -s -H "Authorization: Bearer $fdisp" "$fbase/api/v1/consultations?status=submitted&per_page=200" | json 'max(i["id"] for i in d["items"])')
got=$(curl -s -H "Authorization: Bearer $fdisp" "$fbase/api/v1/consultations/$fid/attachments" \
  | python3 -c "import json,sys; print(next((a['sha256'] for a in json.load(sys.stdin) if a['size']==$((SIZE_MB*1024*1024))), ''))")

secs=$(calc "round($t1 - $t0, 1)")
growth=$(( (peak - rss0) / 1024 ))
echo "sender VmRSS before: $((rss0 / 1024)) MiB, peak while sending: $((peak / 1024)) MiB (growth $growth MiB, target < $MEM_TARGET_MB)"
echo "escalation to submitted at the federal level: $secs s ($(calc "round($SIZE_MB / ($t1 - $t0), 1)") MiB/s)"
if [ "$got" = "$want" ]; then echo "SHA-256 at the federal level: equal ($want)"; else echo "SHA-256 differs: $got vs $want" >&2; exit 1; fi
[ "$growth" -lt "$MEM_TARGET_MB" ] && echo "PASS memory" || { echo "MISS memory"; exit 1; }
