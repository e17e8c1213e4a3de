"""JUnit XML: each expectation a test case, so CI systems list them (the de-facto Jenkins/
Ant schema: testsuites > testsuite > testcase with failure, error or nothing)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from netpol.analysis.verify import ERROR, FAIL, VerifyReport
from netpol.model.safe_text import visible_lines
from netpol.render.explain import explanation_text
from netpol.render.verify import pair_text


def verify_junit(report: VerifyReport, suite: str = "netpol verify") -> str:
    """The report as a JUnit XML document (UTF-8, with declaration)."""
    cases = []
    for r in report.results:
        e = r.expectation
        case = _testcase(report.path, e.name, e.line)
        if r.status == FAIL:
            body = [pair_text(p) for p in r.failures]
            body += [explanation_text([p.evidence]) for p in r.failures if p.evidence is not None]
            _result(
                case,
                "failure",
                f"expected {e.expect}, actual {r.actual}",
                "ExpectationFailed",
                "\n\n".join(body),
            )
        elif r.status == ERROR:
            _result(case, "error", r.error, "ExpectationError", r.error)
        cases.append(case)
    if report.default is not None:
        d = report.default
        case = _testcase(report.path, d.name, d.line)
        if d.violations:
            _result(
                case,
                "failure",
                f"{len(d.violations)} pod pair(s) differ from default {d.default}",
                "DefaultViolated",
                "\n".join(f"{v.src.id} -> {v.dst.id}: {v.extra.text()}" for v in d.violations),
            )
        elif d.error:
            _result(case, "error", d.error, "ExpectationError", d.error)
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
    # visible_lines writes each as a visible escape (and masks secrets).
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + visible_lines(document)


def _testcase(path: str, name: str, line: int) -> ET.Element:
    attributes = {
        "name": name,
        "classname": f"netpol.verify.{_classname(path)}",
        "file": path,
        "line": str(line),
        "time": "0",
    }
    return ET.Element("testcase", attributes)


def _result(case: ET.Element, tag: str, message: str, kind: str, text: str) -> None:
    """A <failure> or <error> child of ``case``: its message, type and body."""
    ET.SubElement(case, tag, {"message": message, "type": kind}).text = text


def _classname(path: str) -> str:
    stem = path.replace("\\", "/").rsplit("/", 1)[-1]
    for suffix in (".yaml", ".yml", ".json"):
        stem = stem.removesuffix(suffix)
    return "".join(c if c.isalnum() else "_" for c in stem) or "expectations"
