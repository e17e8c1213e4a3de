"""JUnit XML: each expectation a test case, so CI systems list them (the de-facto Jenkins/
Ant schema: testsuites > testsuite > testcase with failure, error or nothing)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from netpol.analysis.verify import ERROR, FAIL, VerifyReport
from netpol.render.explain import explanation_text
from netpol.render.verify import pair_text


def verify_junit(report: VerifyReport, suite: str = "netpol verify") -> str:
    """The report as a JUnit XML document (UTF-8, with declaration)."""
    cases = []
    for r in report.results:
        e = r.expectation
        case = ET.Element(
            "testcase",
            {
                "name": e.name,
                "classname": f"netpol.verify.{_classname(report.path)}",
                "file": report.path,
                "line": str(e.line),
                "time": "0",
            },
        )
        if r.status == FAIL:
            failure = ET.SubElement(
                case,
                "failure",
                {"message": f"expected {e.expect}, actual {r.actual}", "type": "ExpectationFailed"},
            )
            body = [pair_text(p) for p in r.failures]
            body += [explanation_text([p.evidence]) for p in r.failures if p.evidence is not None]
            failure.text = "\n\n".join(body)
        elif r.status == ERROR:
            error = ET.SubElement(case, "error", {"message": r.error, "type": "ExpectationError"})
            error.text = r.error
        cases.append(case)
    if report.default is not None:
        d = report.default
        case = ET.Element(
            "testcase",
            {
                "name": d.name,
                "classname": f"netpol.verify.{_classname(report.path)}",
                "file": report.path,
                "line": str(d.line),
                "time": "0",
            },
        )
        if d.violations:
            failure = ET.SubElement(
                case,
                "failure",
                {
                    "message": f"{len(d.violations)} pod pair(s) differ from default {d.default}",
                    "type": "DefaultViolated",
                },
            )
            failure.text = "\n".join(
                f"{v.src.id} -> {v.dst.id}: {v.extra.text()}" for v in d.violations
            )
        elif d.error:
            error = ET.SubElement(case, "error", {"message": d.error, "type": "ExpectationError"})
            error.text = d.error
        cases.append(case)
    failures = sum(1 for c in cases if c.find("failure") is not None)
    errors = sum(1 for c in cases if c.find("error") is not None)
    counts = {
        "tests": str(len(cases)),
        "failures": str(failures),
        "errors": str(errors),
        "skipped": "0",
        "time": "0",
    }
    root = ET.Element("testsuites", {"name": suite, **counts})
    testsuite = ET.SubElement(root, "testsuite", {"name": f"{suite}: {report.path}", **counts})
    ET.SubElement(
        ET.SubElement(testsuite, "properties"),
        "property",
        {"name": "profile", "value": report.profile},
    )
    testsuite.extend(cases)
    ET.indent(root)
    document = ET.tostring(root, encoding="unicode")
    # ElementTree escapes markup but writes control characters as they are, and XML 1.0
    # forbids them: a name written "\a" in YAML would make the whole report unreadable.
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + _NOT_XML.sub("\ufffd", document)


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _classname(path: str) -> str:
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    return "".join(c if c.isalnum() else "_" for c in stem) or "expectations"
