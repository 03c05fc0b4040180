#!/usr/bin/env bash
# Makes (once) the virtual environment of the project's Python test tools
# (scripts/semd-validate.py, scripts/semd-checklist.py, openapi-spec-validator
# for the API's document) and prints its python's
# path as the last line on stdout:
#
#   export RTMS_SEMD_PYTHON="$(./scripts/python-env.sh | tail -n 1)"
#
# Where: $RTMS_PY_VENV, default ~/.cache/rtms-ci/py-venv. Made with $PYTHON
# (default python3; needs its venv module). The pinned versions below are the
# ones the validator was checked with against the official example; a venv
# whose versions differ is brought to them. Messages go to stderr.
set -euo pipefail

LXML_VERSION=6.2.0
SAXONCHE_VERSION=13.1.1
OPENAPI_SPEC_VALIDATOR_VERSION=0.9.0

venv="${RTMS_PY_VENV:-$HOME/.cache/rtms-ci/py-venv}"
py="$venv/bin/python"

pinned() {
  "$py" - "$LXML_VERSION" "$SAXONCHE_VERSION" "$OPENAPI_SPEC_VALIDATOR_VERSION" 2>/dev/null <<'EOF'
import sys
from importlib.metadata import version
import lxml.etree, saxonche, openapi_spec_validator  # noqa: F401  (each must import, not only be listed)
want = tuple(sys.argv[1:4])
have = (version("lxml"), version("saxonche"), version("openapi-spec-validator"))
sys.exit(0 if have == want else 1)
EOF
}

if ! [ -x "$py" ] || ! pinned; then
  echo "python-env: preparing $venv (lxml $LXML_VERSION, saxonche $SAXONCHE_VERSION, openapi-spec-validator $OPENAPI_SPEC_VALIDATOR_VERSION)" >&2
  [ -x "$py" ] || "${PYTHON:-python3}" -m venv "$venv" >&2
  "$py" -m pip install --quiet --disable-pip-version-check \
    "lxml==$LXML_VERSION" "saxonche==$SAXONCHE_VERSION" \
    "openapi-spec-validator==$OPENAPI_SPEC_VALIDATOR_VERSION" >&2
  pinned || { echo "python-env: the pinned tools are still missing in $venv" >&2; exit 1; }
fi

echo "$py"
