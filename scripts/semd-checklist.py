#!/usr/bin/env python3
"""Field→XPath checklist for СЭМД «Протокол консультации (CDA) Редакция 7» (kind 290).

For every row of reference/semd-290/xpath/fields.csv (a re-tabulation of the Ministry's
field/XPath sheet) whose cardinality has a lower bound of 1 — `R [1..1]`, `R [1..*]` (ОБЯЗАН)
and `[1..1]`, `[1..*]`, `[1..2]` (ДОЛЖЕН) — checks that the element is present in each
document, and prints the required fields that are missing. Exits 1 when any document misses a
field, 2 when lxml is not installed or the arguments are wrong.

usage: semd-checklist.py DOCUMENT.xml [...]
needs: pip install lxml   (scripts/python-env.sh makes a virtual environment with it)

How a row is checked:

* The sheet is a tree: each row's parent is the nearest row above it with a smaller nesting
  level, and each row's XPath extends its parent's XPath. A row is checked once per instance of
  its parent element, relative to that instance, so a required child of a repeated element
  (each address, each RESCONS entry, …) must be in every instance.
* A required child is checked only when its parent element is present. A parent that is itself
  optional (`[0..1]`, `[0..*]`: guardian, participant[@typeCode='REF'], the optional sections …)
  and absent makes its whole subtree not applicable.
* A parent carrying @nullFlavor (e.g. `identity:IdentityDoc nullFlavor="NI"` when the patient
  has no identity document) stands for «no information»: its children are not expected.
* `R` (ОБЯЗАН) forbids nullFlavor: an `R` element present only with @nullFlavor is reported as
  null. A `[1..]` (ДОЛЖЕН) element must be present but may carry @nullFlavor.
* The sheet writes CDA elements without a prefix and the Russian extensions with the prefixes
  identity, address, medService, fias, PII. The document's default namespace urn:hl7-org:v3 is
  removed before the paths are evaluated, as the Ministry's validators do. A few paths use the
  XPath 2 form `X=['a','b']`; it is rewritten to `(X='a' or X='b')` for XPath 1.0.
* One place in the sheet gives two fields the same XPath: У3-34.1.4 «Продолжительность приема»
  and У3-34.1.5 «Кратность приема» are both `substanceAdministration/effectiveTime`. The
  Schematron tells them apart by xsi:type (IVL_TS and PIVL_TS), and so does this script
  (REFINED below).

This checks presence only. Validity (XSD, Schematron) is scripts/semd-validate.py's job.
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
FIELDS = os.path.join(HERE, "..", "reference", "semd-290", "xpath", "fields.csv")

CDA_NS = "urn:hl7-org:v3"
NAMESPACES = {
    "identity": "urn:hl7-ru:identity",
    "address": "urn:hl7-ru:address",
    "medService": "urn:hl7-ru:medService",
    "fias": "urn:hl7-ru:fias",
    "PII": "urn:hl7-ru:PII",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
CARDINALITY = re.compile(r"(R )?\[(\d+)\.\.(\d+|\*)\]")
# Rows whose sheet XPath is ambiguous: requirement → (the sheet's path ending, the path ending
# checked instead). Taken from the Schematron v1.7 asserts У3-34.1.4 and У3-34.1.5.
REFINED = {
    "У3-34.1.4": ("/effectiveTime", "/effectiveTime[@xsi:type='IVL_TS']"),
    "У3-34.1.5": ("/effectiveTime", "/effectiveTime[@xsi:type='PIVL_TS']"),
}
# X=['a','b'] (an XPath 2/3 comparison with a sequence) → (X='a' or X='b')
SEQ_COMPARE = re.compile(r"([\w:@/.-]+)=\[((?:'[^']*'\s*,\s*)*'[^']*')\]")

try:
    from lxml import etree
except ImportError as e:
    print(f"semd-checklist: {e}; install lxml (scripts/python-env.sh)", file=sys.stderr)
    sys.exit(2)


def xpath1(path):
    def repl(m):
        values = re.findall(r"'[^']*'", m.group(2))
        return "(" + " or ".join(f"{m.group(1)}={v}" for v in values) + ")"

    return SEQ_COMPARE.sub(repl, path)


def load_rows():
    rows = []
    stack = []
    with open(FIELDS, encoding="utf-8", newline="") as f:
        for r in csv.DictReader(f):
            m = CARDINALITY.fullmatch(r["cardinality"])
            if not m:
                raise SystemExit(f"fields.csv row {r['sheet_row']}: bad cardinality {r['cardinality']!r}")
            level = int(r["level"])
            while stack and stack[-1]["level"] >= level:
                stack.pop()
            parent = stack[-1] if stack else None
            if parent is None:
                rel = "/" + r["xpath"]
            elif r["xpath"].startswith(parent["xpath"] + "/"):
                rel = r["xpath"][len(parent["xpath"]) + 1:]
            else:
                raise SystemExit(f"fields.csv row {r['sheet_row']}: XPath does not extend its parent's")
            if r["requirement"] in REFINED:
                old, new = REFINED[r["requirement"]]
                if not rel.endswith(old):
                    raise SystemExit(f"fields.csv row {r['sheet_row']}: expected a path ending in {old}")
                rel = rel[: -len(old)] + new
            row = {
                "sheet_row": r["sheet_row"],
                "requirement": r["requirement"],
                "field": r["field"],
                "cardinality": r["cardinality"],
                "xpath": r["xpath"],
                "level": level,
                "parent": parent,
                "rel": etree.XPath(xpath1(rel), namespaces=NAMESPACES),
                "required": int(m.group(2)) >= 1,
                "no_null": bool(m.group(1)),
            }
            rows.append(row)
            stack.append(row)
    return rows


def strip_default_namespace(doc):
    for el in doc.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{" + CDA_NS + "}"):
            el.tag = el.tag[len(CDA_NS) + 2:]
    etree.cleanup_namespaces(doc)
    return doc


def check(doc, rows):
    """Returns (problems, checked, not_applicable) for one parsed document."""
    nodes = {}  # id(row) -> the row's element instances that may have children
    problems = []
    checked = not_applicable = 0
    for row in rows:
        contexts = [doc] if row["parent"] is None else nodes[id(row["parent"])]
        found = []
        missing = nulled = 0
        for ctx in contexts:
            hits = [h for h in row["rel"](ctx) if isinstance(h, etree._Element)]
            found += hits
            if not hits:
                missing += 1
            elif row["no_null"] and all(h.get("nullFlavor") is not None for h in hits):
                nulled += 1
        # children are expected only under instances that are present and not null
        nodes[id(row)] = [h for h in found if h.get("nullFlavor") is None]
        if not row["required"]:
            continue
        if not contexts:
            not_applicable += 1
            continue
        checked += 1
        where = f" (in {missing + nulled} of {len(contexts)} parents)" if len(contexts) > 1 else ""
        if missing:
            problems.append(f"missing {row['requirement']} «{row['field']}» {row['cardinality']}{where}: {row['xpath']}")
        elif nulled:
            problems.append(f"null    {row['requirement']} «{row['field']}» {row['cardinality']} has only @nullFlavor{where}: {row['xpath']}")
    return problems, checked, not_applicable


def main(paths):
    if not paths or paths[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    rows = load_rows()
    required = sum(r["required"] for r in rows)
    bad = 0
    for path in paths:
        try:
            doc = strip_default_namespace(etree.parse(path))
        except (OSError, etree.XMLSyntaxError) as e:
            print(f"MISSING {path} — cannot read: {e}")
            bad += 1
            continue
        problems, checked, not_applicable = check(doc, rows)
        status = "complete" if not problems else "MISSING "
        detail = f"{checked} of {required} required fields checked, {not_applicable} not applicable"
        print(f"{status} {path} — {detail}" + (f", {len(problems)} missing" if problems else ""))
        for p in problems:
            print("   ", p)
        bad += bool(problems)
    print(f"{len(paths) - bad} complete, {bad} with missing fields")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
