#!/usr/bin/env bash
# Fuzzes the parsers that read untrusted bytes, each for a bounded time:
#   dicom_index       a single DICOM file: pre-scan, header index, first frame
#   zip_source        a ZIP upload: budgets, index, every instance opened
#   cms_check         a detached CMS (PKCS#7) signature
#   fhir_transaction  a FHIR transaction Bundle
#   multipart_verify  a multipart form as posted to /verify (multer, then our reading)
# The seeds are committed under fuzz/corpus/<target>/ and read only; what a
# run discovers goes to a temporary directory. A crash, a hang (over 10 s on
# one input) or more than 2 GB of memory fails the script and leaves the input
# under fuzz/artifacts/<target>/.
#
# Needs the nightly toolchain (installed if absent) and cargo-fuzz (likewise).
# RTMS_FUZZ_SECONDS sets the time per target (default 20). Builds go to
# $CARGO_TARGET_DIR/fuzz when CARGO_TARGET_DIR is set, else fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${RTMS_FUZZ_SECONDS:-20}"
targets=(dicom_index zip_source cms_check fhir_transaction multipart_verify)

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
  echo "== fuzz $target for ${seconds}s"
  mkdir -p "$found/$target"
  cargo +nightly fuzz run --sanitizer none "$target" \
    "$found/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1
done
