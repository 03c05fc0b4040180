#!/usr/bin/env bash
# Upload benchmark: one large file through the tus API of a release build, with
# the client killed once mid-way and resumed from the server's Upload-Offset.
#
# Measures the server's memory (VmRSS before, peak while receiving, after;
# VmHWM at the end) against the target of < 100 MB growth, and the upload
# throughput against this disk's own direct write speed (target: >= 80 %).
# Checks that the stored file's SHA-256 (from the attachments list) is the
# sent file's. Also prints SHA-256 alone over the same file (openssl, one
# core): the server hashes every byte, so that rate bounds an upload too.
#
#   scripts/bench-upload.sh
#
# Environment:
#   RTMS_BENCH_SIZE_MB   size of the generated file in MiB (default 1200)
#   RTMS_BENCH_CHUNK_MB  bytes per PATCH in MiB (default 64)
#   RTMS_BIN             an rtms binary to use instead of building the release one
#   TMPDIR               where the data directory and the file go (the disk measured)
#
# Needs curl, python3 (standard library only), dd and sha256sum (openssl for
# the hashing reference, optional). Exits non-zero
# when a target is missed or the checksum differs.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE_MB="${RTMS_BENCH_SIZE_MB:-1200}"
CHUNK_MB="${RTMS_BENCH_CHUNK_MB:-64}"
MEM_TARGET_MB=100
SPEED_TARGET_PCT=80
MIB=$((1024 * 1024))

if [ -z "${RTMS_BIN:-}" ]; then
  echo "== building the release binary"
  cargo build --release -p rtms
  RTMS_BIN="${CARGO_TARGET_DIR:-target}/release/rtms"
fi
[ -x "$RTMS_BIN" ] || { echo "no rtms binary at $RTMS_BIN" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/rtms-bench-upload.XXXXXX")"
server_pid=""
sampler_pid=""
client_pid=""
cleanup() {
  for pid in "$client_pid" "$sampler_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
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

now() { date +%s.%N; }
# Float arithmetic without bc: `calc 'expression'` prints the result.
calc() { python3 -c "print($1)"; }

echo "== machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2 / 1048576}' /proc/meminfo)"
echo "   working directory on: $(df -h --output=source,fstype "$work" | tail -n 1 | tr -s ' ')"

# ---- the disk's own write speed, for reference ------------------------------
echo "== disk write speed (dd, 8 MiB blocks, direct I/O, ${SIZE_MB} MiB)"
dd_count=$((SIZE_MB / 8))
dd_log="$work/dd.log"
if ! dd if=/dev/zero of="$work/dd.bin" bs=8M count="$dd_count" oflag=direct status=none 2>"$dd_log"; then
  # Some file systems (tmpfs) have no direct I/O: time a synced write instead.
  echo "   (no direct I/O here: timing a write with fdatasync instead)"
  t0=$(now)
  dd if=/dev/zero of="$work/dd.bin" bs=8M count="$dd_count" conv=fdatasync status=none
  t1=$(now)
else
  # Time it ourselves so both figures are measured the same way; run it again
  # (the first pass also allocated the file's blocks).
  rm -f "$work/dd.bin"
  t0=$(now)
  dd if=/dev/zero of="$work/dd.bin" bs=8M count="$dd_count" oflag=direct status=none
  t1=$(now)
fi
rm -f "$work/dd.bin"
disk_mbs=$(calc "round($dd_count * 8 / ($t1 - $t0), 1)")
echo "   disk: ${disk_mbs} MiB/s"

# ---- the file ----------------------------------------------------------------
file="$work/study-export.pdf"
echo "== generating ${SIZE_MB} MiB of random data with a PDF header"
{
  printf '%%PDF-1.7\n%%\342\343\317\323\n'
  head -c $((SIZE_MB * MIB)) /dev/urandom
} >"$file"
file_size=$(stat -c %s "$file")
file_sha=$(sha256sum "$file" | cut -d' ' -f1)
# The second reference: SHA-256 of the same file from the page cache, by
# OpenSSL (the CPU's SHA instructions, one core). The server hashes every byte
# it receives, and one hash cannot be split across cores, so an upload cannot
# beat this rate however fast the disk is.
hash_mbs=""
if command -v openssl >/dev/null; then
  t0=$(now)
  openssl dgst -sha256 "$file" >/dev/null
  t1=$(now)
  hash_mbs=$(calc "round($(stat -c %s "$file") / $MIB / ($t1 - $t0), 1)")
  echo "   SHA-256 alone (openssl, one core): ${hash_mbs} MiB/s"
fi
echo "   $file_size bytes, sha256 $file_sha"

# ---- the server ----------------------------------------------------------------
echo "== starting rtms serve --demo"
mkdir -p "$work/data"
NO_COLOR=1 RUST_LOG="${RUST_LOG:-warn}" "$RTMS_BIN" serve --demo --listen 127.0.0.1:0 \
  --data-dir "$work/data" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
base=""
for _ in $(seq 1 600); do
  base=$(grep -o 'РТМС: http://[0-9.:]*' "$work/server.out" 2>/dev/null | head -n 1 | cut -d' ' -f2 || true)
  [ -n "$base" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/server.err" >&2; echo "rtms exited" >&2; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "rtms did not say where it listens" >&2; exit 1; }
for _ in $(seq 1 300); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/readyz")" = 200 ] && break
  sleep 0.1
done
echo "   $base (pid $server_pid)"

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$server_pid/status"; }
mb() { calc "round($1 / 1024, 1)"; }

# ---- the doctor and a draft request ----------------------------------------------
token=$(curl -sf -H 'Content-Type: application/json' \
  -d '{"login":"doctor","password":"rtms-demo-password"}' "$base/api/v1/auth/login" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
consultation=$(curl -sf -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{}' "$base/api/v1/consultations" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
echo "   signed in as doctor; draft request № $consultation"

# ---- the client: tus PATCHes of CHUNK bytes, streamed from the file -----------
cat >"$work/tus_client.py" <<'PY'
"""A minimal tus 1.0 client: asks HEAD where to start, then PATCHes the rest of
the file in chunks, streaming each from disk. Writes the bytes it has sent so
far to a progress file, and the attachment id once the server answers one."""
import http.client
import os
import sys
import urllib.parse

base, upload, path, chunk, token, progress, result = sys.argv[1:8]
chunk = int(chunk)
u = urllib.parse.urlsplit(base)
conn = http.client.HTTPConnection(u.hostname, u.port, timeout=600)
auth = {"Authorization": "Bearer " + token, "Tus-Resumable": "1.0.0"}

conn.request("HEAD", upload, headers=auth)
r = conn.getresponse()
r.read()
if r.status != 200:
    sys.exit(f"HEAD {upload}: {r.status}")
offset = int(r.getheader("Upload-Offset"))
size = os.path.getsize(path)
print(f"   client: resuming at offset {offset}" if offset else "   client: starting at 0", flush=True)

with open(path, "rb") as f:
    while offset < size:
        n = min(chunk, size - offset)
        conn.putrequest("PATCH", upload)
        for k, v in auth.items():
            conn.putheader(k, v)
        conn.putheader("Upload-Offset", str(offset))
        conn.putheader("Content-Type", "application/offset+octet-stream")
        conn.putheader("Content-Length", str(n))
        conn.endheaders()
        # sendfile: the kernel sends from the page cache, so the client's
        # own copying does not take CPU from the server on the same cores.
        at, left = offset, n
        while left:
            sent = conn.sock.sendfile(f, at, min(8 << 20, left))
            if not sent:
                sys.exit("the file ended early")
            at += sent
            left -= sent
            with open(progress, "w") as p:
                p.write(str(at))
        r = conn.getresponse()
        body = r.read()
        if r.status != 204:
            sys.exit(f"PATCH at {offset}: {r.status} {body[:300]!r}")
        offset = int(r.getheader("Upload-Offset"))
        attachment = r.getheader("Attachment-Id")
        if attachment:
            with open(result, "w") as out:
                out.write(attachment)
            break
PY

echo "== uploading in $CHUNK_MB MiB PATCHes; the client is killed once at ~45 %"
location=$(curl -sf -o /dev/null -D - -X POST \
  -H "Authorization: Bearer $token" -H 'Tus-Resumable: 1.0.0' \
  -H "Upload-Length: $file_size" \
  -H "Upload-Metadata: filename $(printf '%s' "$(basename "$file")" | base64 -w0),consultation $(printf '%s' "$consultation" | base64 -w0)" \
  "$base/api/v1/uploads" | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
[ -n "$location" ] || { echo "no upload was created" >&2; exit 1; }

sleep 1
rss_before=$(rss_kb)
# Sample the server's resident memory every 0.2 s while it receives.
(
  while kill -0 "$server_pid" 2>/dev/null; do
    awk '/^VmRSS:/ {print $2}' "/proc/$server_pid/status" 2>/dev/null || true
    sleep 0.2
  done
) >"$work/rss.samples" &
sampler_pid=$!

chunk=$((CHUNK_MB * MIB))
kill_at=$((file_size * 45 / 100))
t_start=$(now)
python3 "$work/tus_client.py" "$base" "$location" "$file" "$chunk" "$token" \
  "$work/progress" "$work/attachment" &
client_pid=$!
killed=""
while kill -0 "$client_pid" 2>/dev/null; do
  sent=$(cat "$work/progress" 2>/dev/null || echo 0)
  if [ "${sent:-0}" -ge "$kill_at" ]; then
    kill -KILL "$client_pid"
    killed="$sent"
    break
  fi
  sleep 0.05
done
wait "$client_pid" 2>/dev/null || true
client_pid=""
[ -n "$killed" ] || { echo "the client finished before it could be killed" >&2; exit 1; }
echo "   client killed after sending $killed bytes"
head_offset=$(curl -sf -I -H "Authorization: Bearer $token" -H 'Tus-Resumable: 1.0.0' "$base$location" |
  tr -d '\r' | awk 'tolower($1) == "upload-offset:" {print $2}')
echo "   HEAD: Upload-Offset $head_offset"
python3 "$work/tus_client.py" "$base" "$location" "$file" "$chunk" "$token" \
  "$work/progress" "$work/attachment"
t_end=$(now)
attachment=$(cat "$work/attachment")
echo "   done: attachment $attachment"

kill "$sampler_pid" 2>/dev/null || true
wait "$sampler_pid" 2>/dev/null || true
sampler_pid=""
sleep 2
rss_after=$(rss_kb)
hwm=$(hwm_kb)
rss_peak=$(sort -n "$work/rss.samples" | tail -n 1)
rss_peak=${rss_peak:-$rss_before}

stored_sha=$(curl -sf -H "Authorization: Bearer $token" "$base/api/v1/consultations/$consultation/attachments" |
  python3 -c "import json, sys; print(next(a['sha256'] for a in json.load(sys.stdin) if a['id'] == $attachment))")

# ---- figures ----------------------------------------------------------------------
seconds=$(calc "round($t_end - $t_start, 2)")
upload_mbs=$(calc "round($file_size / $MIB / ($t_end - $t_start), 1)")
growth_mb=$(calc "round(($rss_peak - $rss_before) / 1024, 1)")
pct=$(calc "round(100 * $upload_mbs / $disk_mbs)")
samples=$(wc -l <"$work/rss.samples")

echo
echo "== results ($(nproc) cores; $((file_size / MIB)) MiB in $CHUNK_MB MiB PATCHes, one kill and resume)"
echo "server VmRSS before:        $(mb "$rss_before") MiB"
echo "server VmRSS peak:          $(mb "$rss_peak") MiB ($samples samples, every 0.2 s)"
echo "server VmHWM at the end:    $(mb "$hwm") MiB"
echo "server VmRSS after:         $(mb "$rss_after") MiB"
echo "memory growth (peak-before): $growth_mb MiB (target < $MEM_TARGET_MB)"
echo "upload:                     $upload_mbs MiB/s ($seconds s, kill and resume included)"
echo "disk direct write:          $disk_mbs MiB/s"
echo "upload / disk:              $pct % (target >= $SPEED_TARGET_PCT %)"
if [ -n "$hash_mbs" ]; then
  echo "SHA-256 alone:              $hash_mbs MiB/s ($(calc "round(100 * $hash_mbs / $disk_mbs)") % of the disk)"
  echo "upload / SHA-256 alone:     $(calc "round(100 * $upload_mbs / $hash_mbs)") %"
fi
echo "sha256 sent:                $file_sha"
echo "sha256 stored:              $stored_sha"
echo

status=0
if python3 -c "import sys; sys.exit(0 if $growth_mb < $MEM_TARGET_MB else 1)"; then
  echo "PASS memory: grew $growth_mb MiB < $MEM_TARGET_MB"
else
  echo "FAIL memory: grew $growth_mb MiB, target < $MEM_TARGET_MB"
  status=1
fi
if [ "$file_sha" = "$stored_sha" ]; then
  echo "PASS sha256: the stored file is the sent file"
else
  echo "FAIL sha256: stored $stored_sha, sent $file_sha"
  status=1
fi
if [ "$pct" -ge "$SPEED_TARGET_PCT" ]; then
  echo "PASS throughput: $pct % of the disk's write speed (target >= $SPEED_TARGET_PCT %)"
else
  echo "FAIL throughput: $pct % of the disk's write speed (target >= $SPEED_TARGET_PCT %)"
  status=1
fi
exit $status
