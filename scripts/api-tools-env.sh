#!/usr/bin/env bash
# Makes (once) the virtual environment of the API contract tools and prints
# its bin directory as the last line on stdout:
#
#   export RTMS_API_TOOLS="$(./scripts/api-tools-env.sh | tail -n 1)"
#
# - schemathesis: generates requests from /api/openapi.json and checks every
#   answer against the document (e2e/tests/api-contract.test.mjs);
# - openapi-python-client: generates a Python client from the same document,
#   which then drives the main path (e2e/api-client/main_path.py).
#
# Where: $RTMS_API_VENV, default ~/.cache/rtms-ci/api-venv. Made with $PYTHON
# (default python3; needs its venv module). A venv whose versions differ from
# the pinned ones is brought to them. Messages go to stderr.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
GENERATOR_VERSION=0.29.1

venv="${RTMS_API_VENV:-$HOME/.cache/rtms-ci/api-venv}"
py="$venv/bin/python"

pinned() {
  "$py" - "$SCHEMATHESIS_VERSION" "$GENERATOR_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
import schemathesis, openapi_python_client, httpx, attrs  # noqa: F401  (each must import)
want = tuple(sys.argv[1:3])
have = (version("schemathesis"), version("openapi-python-client"))
sys.exit(0 if have == want else 1)
EOF
}

if ! [ -x "$py" ] || ! pinned; then
  echo "api-tools-env: preparing $venv (schemathesis $SCHEMATHESIS_VERSION, openapi-python-client $GENERATOR_VERSION)" >&2
  [ -x "$py" ] || "${PYTHON:-python3}" -m venv "$venv" >&2
  "$py" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-python-client==$GENERATOR_VERSION" >&2
  pinned || { echo "api-tools-env: the pinned tools are still missing in $venv" >&2; exit 1; }
fi

echo "$venv/bin"
