"""Lab names are checked whole: a name becomes part of ``ip -batch`` lines and root's paths."""

from __future__ import annotations

import pytest

from netpol.lab.names import LabNames, check_lab_name, lab_of_netns


@pytest.mark.parametrize("name", ["netpol", "a", "t1-x", "0", "a" * 20])
def test_names_a_lab_can_have(name: str) -> None:
    assert check_lab_name(name) is None


@pytest.mark.parametrize(
    "name",
    [
        "rtnl\n",  # `$` matched before the newline, which split the ip batch
        "\nrtnl",
        "rt\nnl",
        "rtnl ",
        "",
        "-a",
        "a-",
        "A",
        "a" * 21,
        "../../etc",
        "a/b",
        "a٣",  # a digit, but no ASCII one
    ],
)
def test_names_a_lab_cannot_have(name: str) -> None:
    assert check_lab_name(name) == (
        f"lab name {name!r} must be 1-20 lowercase letters, digits or '-', "
        "starting and ending with a letter or digit"
    )


@pytest.mark.parametrize(
    ("netns", "lab"),
    [
        ("netpol-demo-node", "demo"),
        ("netpol-demo-out", "demo"),
        ("netpol-demo-p12", "demo"),
        ("netpol-a-b-p0", "a-b"),
        ("netpol-demo-p12\n", None),
        ("netpol-demo-p٣", None),
        ("netpol-rtnl", None),
        ("other-demo-node", None),
    ],
)
def test_the_lab_a_namespace_belongs_to(netns: str, lab: str | None) -> None:
    assert lab_of_netns(netns) == lab


def test_a_lab_owns_its_pod_namespaces_by_ascii_index_only() -> None:
    names = LabNames("demo")
    assert names.owns_netns("netpol-demo-p7")
    assert not names.owns_netns("netpol-demo-p٧")
    assert not names.owns_netns("netpol-demo2-p7")
