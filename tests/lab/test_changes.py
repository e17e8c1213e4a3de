"""What ``lab apply``/``delete`` and the demo print about a change: the connections the
engine's verdicts (the rules in force) now refuse and allow; and ``lab list``'s table."""

from __future__ import annotations

import pytest
from tests.conftest import EXAMPLES

from netpol.lab import truth
from netpol.lab.demo import BASE_FILES, objects
from netpol.lab.inventory import LabSummary, age_text, summary_lines
from netpol.lab.view import LabView, build_view, objects_input, predicted_report
from netpol.model.options import Options


def view_of(*names: str, fixed: bool = False) -> LabView:
    tutorial = EXAMPLES / "tutorial"
    objs = objects(*(tutorial / n for n in names))
    if fixed:
        objs = [o for o in objs if o["metadata"]["name"] != "backend-policy"]
        objs += objects(EXAMPLES / "three-tier" / "05-revised-backend-netpol.yaml")
    options = Options()
    store, _ = objects_input(objs, options)
    return build_view(store, options, False, "t")


POLICIES = ("04-db-netpol.yaml", "05-revised-backend-netpol.yaml", "06-frontend-netpol.yaml")


def test_the_backend_fix_opens_exactly_frontend_to_backend() -> None:
    published = predicted_report(view_of(*BASE_FILES, *POLICIES))
    fixed = predicted_report(view_of(*BASE_FILES, *POLICIES, fixed=True))
    assert truth.changes(published, fixed) == (
        [],
        ["app1-ns/frontend-deploy -> app1-ns/backend-deploy 5678/TCP"],
    )
    assert truth.changes(fixed, published) == (
        ["app1-ns/frontend-deploy -> app1-ns/backend-deploy 5678/TCP"],
        [],
    )
    assert truth.changes(fixed, fixed) == ([], [])


def test_the_db_policy_closes_the_database_and_its_egress() -> None:
    open_cluster = predicted_report(view_of(*BASE_FILES))
    with_db = predicted_report(view_of(*BASE_FILES, POLICIES[0]))
    closed, opened = truth.changes(open_cluster, with_db)
    assert opened == []
    assert len(closed) == 12
    assert "outside -> app1-ns/db-sts-0 3306/TCP" in closed
    assert all("db-sts-0" in line for line in closed)
    assert open_cluster.predicted_only and len(open_cluster.cells) == 45


@pytest.mark.parametrize(
    ("closed", "opened", "summary"),
    [
        (0, 0, "no connection changed"),
        (1, 0, "1 connection now refused"),
        (12, 0, "12 connections now refused"),
        (0, 1, "1 connection now open"),
        (2, 3, "2 connections now refused, 3 now open"),
        (1, 1, "1 connection now refused, 1 now open"),
    ],
)
def test_the_summary_line(closed: int, opened: int, summary: str) -> None:
    assert truth.changes_summary(["x"] * closed, ["y"] * opened) == summary


def test_the_lines_are_cut_with_a_count_of_the_rest() -> None:
    assert truth.changes_lines(["a", "b", "c"], ["d"], 2) == [
        "✗ a",
        "✗ b",
        "... and 1 more now refused",
        "✓ d",
    ]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (7199, "119m"),
        (7200, "2h"),
        (172799, "47h"),
        (172800, "2d"),
    ],
)
def test_ages_as_kubectl_prints_them(seconds: float, text: str) -> None:
    assert age_text(seconds) == text


def test_the_list_table() -> None:
    labs = [
        LabSummary("demo", "up", 1000.0, 5, 4, 3, 0, 27),
        LabSummary("tiers", "degraded", 940.0, 12, 3, 3, 6, 80),
        LabSummary("rtnl", "incomplete", None),
    ]
    assert summary_lines(labs, now=1060.0) == [
        "NAME    STATE        PODS   SERVICES   POLICIES   RULES   AGE",
        "demo    up           5      4          3          27      60s",
        "tiers   degraded     12     3          3+6        80      2m",
        "rtnl    incomplete   -      -          -          -       -",
    ]
