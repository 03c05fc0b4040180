#!/usr/bin/env bash
# Every test of the project. Needs PostgreSQL: RTMS_TEST_PG_URL names a server
# where the tests may create and drop databases (default: the local one).
set -euo pipefail
cd "$(dirname "$0")/.."

export RTMS_TEST_PG_URL="${RTMS_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

echo "== format and lints"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== unit, property, storage and HTTP tests (SQLite and PostgreSQL)"
cargo test --workspace --locked
