#!/usr/bin/env python3
"""Validates FHIR R4 resources with an independent implementation: the
`fhir.resources` models (version 6.5, FHIR 4.0.1) from PyPI.

Usage: fhir-validate.py FILE...   (each file one JSON resource)
Prints one line per file; exits 1 if any resource is not valid R4.
"""
import json
import sys

try:
    from fhir.resources import construct_fhir_element
except ImportError as e:  # pragma: no cover - a setup problem, said plainly
    print(f"fhir.resources is not installed ({e}); run .ci/run or: "
          "pip install 'fhir.resources==6.5.0' 'pydantic<2'", file=sys.stderr)
    sys.exit(2)

failed = 0
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        data = json.load(f)
    kind = data.get("resourceType", "?")
    try:
        construct_fhir_element(kind, data)
        print(f"valid   {kind:<22} {path}")
    except Exception as e:  # pydantic's ValidationError and friends
        failed += 1
        print(f"INVALID {kind:<22} {path}\n{e}")
sys.exit(1 if failed else 0)
