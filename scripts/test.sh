#!/usr/bin/env bash
# Every test of the project. Needs PostgreSQL (RTMS_TEST_PG_URL names a server
# where the tests may create and drop databases; default: the local one), Python's
# aiosmtpd for the e-mail tests, a Python with fhir.resources 6.5 for the FHIR
# tests (RTMS_FHIR_PYTHON; default python3), moto_server and Debian's nginx for
# the object-store and scale-out tests, the nightly toolchain and cargo-fuzz
# for the fuzz step (scripts/fuzz.sh installs them), and for the browser tests
# Node.js with npm and Debian's chromium (.ci/run installs them).
set -euo pipefail
cd "$(dirname "$0")/.."

export RTMS_TEST_PG_URL="${RTMS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
# The Python (lxml + saxonche, pinned) that runs scripts/semd-validate.py and
# scripts/semd-checklist.py on the СЭМД 290 documents; made once by python-env.sh.
RTMS_SEMD_PYTHON="$(./scripts/python-env.sh | tail -n 1)"
export RTMS_SEMD_PYTHON
# schemathesis and openapi-python-client (pinned, a venv of their own) for the
# API contract test of the browser suite (e2e/tests/api-contract.test.mjs).
RTMS_API_TOOLS="$(./scripts/api-tools-env.sh | tail -n 1)"
export RTMS_API_TOOLS

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== unit, property, storage and HTTP tests (SQLite and PostgreSQL)"
# Nothing may be skipped: a test that needs a tool installs or finds it, and
# fails without it (e2e/allowed-skips.json lists the browser suite's skips).
cargo_log="$(mktemp)"
trap 'rm -f "$cargo_log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$cargo_log"
ignored="$(sed -nE 's/^test result: .* ([0-9]+) ignored.*/\1/p' "$cargo_log" | awk '{ n += $1 } END { print n + 0 }')"
echo "cargo tests ignored: $ignored"
if [ "$ignored" != 0 ]; then
  echo "cargo tests were ignored (#[ignore]); a test may not skip itself" >&2
  exit 1
fi

echo "== fuzzing the parsers of untrusted bytes (scripts/fuzz.sh: under CI 200,000 inputs a target, seed 1)"
./scripts/fuzz.sh

echo "== browser tests (Chromium) and the API contract (schemathesis, a generated client), on SQLite and on PostgreSQL"
cargo build -p rtms --locked
target_dir="${CARGO_TARGET_DIR:-target}"
export RTMS_BIN="$(cd "$target_dir" && pwd)/debug/rtms"
(cd e2e && npm ci --no-audit --no-fund --silent)
(cd e2e && RTMS_E2E_DB=sqlite npm test)
(cd e2e && RTMS_E2E_DB=postgres npm test)
echo "screenshots: e2e/artifacts/"
