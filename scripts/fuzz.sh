#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes, each for a bounded time:
#   dicom_index       a single DICOM file: pre-scan, header index, first frame
#   zip_source        a ZIP upload: budgets, index, every instance opened
#   cms_check         a detached CMS (PKCS#7) signature
#   fhir_transaction  a FHIR transaction Bundle
#   multipart_verify  a multipart form as posted to /verify (multer, then our reading)
#   roster_file       a duty roster upload, CSV or XLSX
# The seeds are committed under fuzz/corpus/<target>/ and read only; what a
# run discovers goes to a temporary directory. A crash, a hang (over 10 s on
# one input) or more than 2 GB of memory fails the script and leaves the input
# under fuzz/artifacts/<target>/.
#
# Needs the nightly toolchain (installed if absent) and cargo-fuzz (likewise).
# RTMS_FUZZ_SECONDS sets the time per target (default 20). Under CI=true the
# run is reproducible: a fixed seed (RTMS_FUZZ_SEED, default 1, printed) and a
# fixed number of inputs per target (RTMS_FUZZ_RUNS, default 200000), so that
# a pass on a developer's machine is a pass in CI and a failure replays with
# the same seed. Outside CI the seed is random (libFuzzer prints it): explore
# longer there, e.g. RTMS_FUZZ_SECONDS=600, and keep what it finds as a seed
# under fuzz/corpus/ with its fix. Builds go to $CARGO_TARGET_DIR/fuzz when
# CARGO_TARGET_DIR is set, else fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${RTMS_FUZZ_SECONDS:-20}"
budget=(-max_total_time="$seconds")
if [ "${CI:-}" = "true" ]; then
  seed="${RTMS_FUZZ_SEED:-1}"
  runs="${RTMS_FUZZ_RUNS:-200000}"
  budget=(-seed="$seed" -runs="$runs" -max_total_time=120)
  echo "== fuzzing reproducibly: seed $seed, $runs inputs a target (replay: CI=true RTMS_FUZZ_SEED=$seed ./scripts/fuzz.sh)"
fi
targets=(dicom_index zip_source cms_check fhir_transaction multipart_verify roster_file)

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked

if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  export CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz"
fi
found="$(mktemp -d)"
trap 'rm -rf "$found"' EXIT

cd fuzz
# No sanitizer: the targets are safe Rust over safe Rust; what is looked for
# is a crash, a stack overflow, a hang or a runaway allocation, which
# libFuzzer reports by itself (and the build is much cheaper without ASan).
cargo +nightly fuzz build --sanitizer none
for target in "${targets[@]}"; do
  echo "== fuzz $target (${budget[*]})"
  mkdir -p "$found/$target"
  cargo +nightly fuzz run --sanitizer none "$target" \
    "$found/$target" "corpus/$target" -- \
    "${budget[@]}" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1
done
