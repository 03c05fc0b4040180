#!/usr/bin/env python3
"""Validates СЭМД «Протокол консультации (CDA) Редакция 7» (kind 290 of НСИ 1.2.643.5.1.13.13.11.1520)
documents the way РЭМД does, against the official package in reference/semd-290/:

* the XSD xsd/semd-290/CDA.xsd, with libxml2 (Python lxml);
* the Schematron schematron/290-schematron-v1.7.sch, compiled to XSLT by SchXslt 2.0
  (validator/schxslt-2.0/pipeline-for-svrl.xsl) and run by Saxon-HE (Python saxonche).

As the Ministry's own validators do, the Schematron rules are applied to the document with its
default CDA namespace (urn:hl7-org:v3) removed: the rules name CDA elements without a prefix.

usage: semd-validate.py DOCUMENT.xml [...]
needs: lxml and saxonche (scripts/python-env.sh makes a virtual environment with both)

Prints one line per document (`valid` or `INVALID`, then the problems indented below it) and a
summary line. Exits 0 when every document is valid, 1 when any is not, 2 when lxml or saxonche
is missing or no document is given.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
PACKAGE = os.path.join(HERE, "..", "reference", "semd-290")
XSD = os.path.join(PACKAGE, "xsd", "semd-290", "CDA.xsd")
SCHEMATRON = os.path.join(PACKAGE, "schematron", "290-schematron-v1.7.sch")
SCHXSLT = os.path.join(PACKAGE, "validator", "schxslt-2.0", "pipeline-for-svrl.xsl")

CDA_NS = "urn:hl7-org:v3"
SVRL_NS = "http://purl.oclc.org/dsdl/svrl"
MAX_SHOWN = 50  # problems printed per document

try:
    from lxml import etree
    from saxonche import PySaxonProcessor
except ImportError as e:
    print(f"semd-validate: {e}; install lxml and saxonche (scripts/python-env.sh)", file=sys.stderr)
    sys.exit(2)


def without_default_namespace(doc):
    """A copy of the document whose CDA elements have no namespace, as serialized text."""
    root = etree.fromstring(etree.tostring(doc))
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{" + CDA_NS + "}"):
            el.tag = el.tag[len(CDA_NS) + 2:]
    etree.cleanup_namespaces(root)
    return etree.tostring(root, encoding="unicode")


def schematron_failures(svrl_text):
    svrl = etree.fromstring(svrl_text.encode("utf-8"))
    out = []
    for fa in svrl.iter("{%s}failed-assert" % SVRL_NS, "{%s}successful-report" % SVRL_NS):
        text = re.sub(r"\s+", " ", " ".join(fa.itertext())).strip()
        where = fa.get("location", "").replace("Q{}", "")
        out.append(f"Schematron {where}: {text}")
    return out


def main(paths):
    if not paths or paths[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    schema = etree.XMLSchema(etree.parse(XSD))
    failed = 0
    with PySaxonProcessor(license=False) as proc:
        xslt = proc.new_xslt30_processor()
        compiled = xslt.compile_stylesheet(stylesheet_file=SCHXSLT).transform_to_string(source_file=SCHEMATRON)
        rules = xslt.compile_stylesheet(stylesheet_text=compiled)
        for path in paths:
            problems = []
            try:
                doc = etree.parse(path)
            except etree.XMLSyntaxError as e:
                problems.append(f"not well-formed XML: {e}")
                doc = None
            except OSError as e:
                problems.append(f"cannot read: {e}")
                doc = None
            if doc is not None:
                if not schema.validate(doc):
                    problems += [f"XSD line {e.line}: {e.message}" for e in schema.error_log]
                source = proc.parse_xml(xml_text=without_default_namespace(doc))
                problems += schematron_failures(rules.transform_to_string(xdm_node=source))
            if problems:
                failed += 1
                print(f"INVALID {path} — {len(problems)} problems")
                for p in problems[:MAX_SHOWN]:
                    print("   ", p[:300])
                if len(problems) > MAX_SHOWN:
                    print(f"    … and {len(problems) - MAX_SHOWN} more")
            else:
                print(f"valid   {path}")
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
