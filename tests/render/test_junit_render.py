"""verify -o junit: well-formed JUnit XML with one test case per expectation, in the
shape CI systems read (the Jenkins/Ant junit.xsd: testsuites > testsuite > testcase)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from netpol.analysis.expectations import parse_expectations, read_expectations
from netpol.analysis.verify import VerifyReport, verify
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.render.junit import verify_junit
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]

# The attributes the widely used junit.xsd (Jenkins, GitLab, Azure, GitHub reporters) allows.
SUITES_ATTRS = {"name", "tests", "failures", "errors", "skipped", "time", "disabled"}
SUITE_ATTRS = SUITES_ATTRS | {"hostname", "id", "package", "timestamp", "file"}
CASE_ATTRS = {"name", "classname", "time", "file", "line", "assertions", "status"}
RESULT_ATTRS = {"message", "type"}


def report(example: str, expectations: str | None = None, text: str | None = None) -> VerifyReport:
    options = Options()
    result = load_cluster([str(REPO / "examples" / example)], options)
    file = (
        parse_expectations(text, "inline.yaml")
        if text
        else read_expectations(f"examples/{expectations or example}/expectations.yaml")
    )
    return verify(compile_cluster(result.cluster, options), file)


def check_shape(root: ET.Element) -> None:
    assert root.tag == "testsuites"
    assert set(root.attrib) <= SUITES_ATTRS
    for suite in root:
        assert suite.tag == "testsuite"
        assert set(suite.attrib) <= SUITE_ATTRS
        assert {"name", "tests", "failures", "errors"} <= set(suite.attrib)
        cases = [c for c in suite if c.tag == "testcase"]
        assert [c.tag for c in suite if c.tag != "testcase"] in ([], ["properties"])
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(
            1 for c in cases if c.find("failure") is not None
        )
        assert int(suite.get("errors", "-1")) == sum(
            1 for c in cases if c.find("error") is not None
        )
        for case in cases:
            assert set(case.attrib) <= CASE_ATTRS and case.get("name") and case.get("classname")
            float(case.get("time", "0"))
            children = list(case)
            assert len(children) <= 1
            for child in children:
                assert child.tag in ("failure", "error", "skipped")
                assert set(child.attrib) <= RESULT_ATTRS


def test_tutorial_junit_has_one_failing_case(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    xml = verify_junit(report("tutorial"))
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(xml)
    check_shape(root)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == 11
    failing = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failing] == ["frontend reaches backend"]
    failure = failing[0].find("failure")
    assert failure is not None
    assert failure.get("message") == "expected allow, actual denied"
    assert "role=web" in (failure.text or "")
    assert failing[0].get("file") == "examples/tutorial/expectations.yaml"
    assert failing[0].get("line") == "32"


def test_three_tier_junit_passes_with_the_default_as_a_case(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(REPO)
    root = ET.fromstring(verify_junit(report("three-tier")))
    check_shape(root)
    assert root.get("failures") == "0" and root.get("errors") == "0"
    names = [c.get("name") for c in root.iter("testcase")]
    assert names[-1] == "default: deny (every other pod pair in app1-ns)"


def test_errors_are_junit_errors() -> None:
    text = "expectations:\n  - {from: app1-ns/ghost, to: backend-svc, port: 5678, expect: allow}\n"
    root = ET.fromstring(verify_junit(report("three-tier", text=text)))
    check_shape(root)
    (case,) = root.iter("testcase")
    error = case.find("error")
    assert error is not None and "ghost" in (error.get("message") or "")
    assert root.get("errors") == "1"


def test_control_characters_in_names_keep_the_xml_well_formed() -> None:
    """XML 1.0 forbids them: each is written as a visible escape, as on a terminal."""
    text = (
        "namespace: app1-ns\nexpectations:\n"
        '  - name: "bell\\a and escape\\e"\n'
        "    from: app1-ns/frontend-deploy\n    to: backend-svc\n    port: 5678\n"
        "    expect: allow\n"
    )
    root = ET.fromstring(verify_junit(report("tutorial", text=text)).encode())
    check_shape(root)
    (case,) = root.iter("testcase")
    assert case.get("name") == "bell\\x07 and escape\\e"
    assert case.find("failure") is not None
