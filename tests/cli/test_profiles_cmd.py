"""``netpol profiles``: every implementation-defined knob, per profile, as a table and as JSON."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from netpol.cli.profiles_cmd import command

KNOBS = [
    "ipblock_matches_pod_ips",
    "ipblock_matches_node_ips",
    "pod_to_own_node",
    "host_network_is_node",
    "cilium_identity",
    "honours_policy_types",
]
EXPECTED = {  # knob -> (upstream, calico, cilium)
    "ipblock_matches_pod_ips": (True, True, False),
    "ipblock_matches_node_ips": (True, True, False),
    "pod_to_own_node": (True, False, False),
    "host_network_is_node": (True, True, True),
    "cilium_identity": (False, False, True),
    "honours_policy_types": (True, True, False),
}


def run(*args: str) -> Result:
    return CliRunner().invoke(command, list(args), catch_exceptions=False)


def test_table_lists_every_knob_for_the_three_profiles() -> None:
    result = run()

    assert (result.exit_code, result.stderr) == (0, "")
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["KNOB", "UPSTREAM", "CALICO", "CILIUM", "MEANING"]
    rows = {line.split()[0]: line.split()[1:4] for line in lines[1 : 1 + len(KNOBS)]}
    assert list(rows) == KNOBS
    for knob, values in EXPECTED.items():
        assert rows[knob] == ["yes" if v else "no" for v in values], knob
    assert lines[1].endswith(
        "an ipBlock peer matches pods whose IP it covers (spec 2.5, edge case 36)"
    )


def test_table_ends_with_one_description_per_profile() -> None:
    lines = run().stdout.splitlines()

    end = 1 + len(KNOBS)
    assert lines[end] == ""
    assert [line.split(":")[0] for line in lines[end + 1 :]] == ["upstream", "calico", "cilium"]
    assert lines[end + 1] == "upstream: what the upstream e2e tests expect (default)"
    assert "cilium/cilium#9209" in lines[end + 3]


def test_json_shape() -> None:
    result = run("-o", "json")

    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert set(document) == {"kind", "profiles", "knobs"}
    assert document["kind"] == "ProfileList"
    assert [p["name"] for p in document["profiles"]] == ["upstream", "calico", "cilium"]
    for index, profile in enumerate(document["profiles"]):
        assert set(profile) == {"name", "description", "knobs"}
        assert isinstance(profile["description"], str) and profile["description"]
        assert profile["knobs"] == {k: EXPECTED[k][index] for k in KNOBS}
    assert list(document["knobs"]) == KNOBS
    assert all(isinstance(text, str) and "spec" in text for text in document["knobs"].values())


def test_unknown_output_format_is_a_usage_error() -> None:
    result = run("-o", "xml")

    assert result.exit_code == 2
    assert (
        "Invalid value for '-o' / '--output': 'xml' is not one of 'table', 'json', 'yaml'."
        in result.stderr
    )
    assert result.stdout == ""
