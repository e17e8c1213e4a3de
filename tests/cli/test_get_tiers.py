"""``netpol get`` for the tiered kinds: tables, ``-n``, ``-o name`` and manifests that load
back into the same admin, baseline and Calico policies."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from tests.conftest import without_addon_note

from netpol.cli.main import cli
from netpol.model.options import Options
from netpol.model.source import GENERATED
from netpol.model.tiers import TieredPolicy
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]
ADMIN = "examples/admin-tiers"
EVERY_FIELD = "tests/fixtures/tiers-every-field"
TIERED = ("anp", "banp", "cnp", "gnp", "cnetpol", "tiers")


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def get(*args: str) -> Result:
    return CliRunner().invoke(cli, ["get", *args])


def table(result: Result) -> list[list[str]]:
    assert result.exit_code == 0, result.output
    return [line.split("   ") for line in result.stdout.splitlines()]


def cells(result: Result) -> list[list[str]]:
    """The table's cells, stripped (cells may hold single spaces)."""
    return [[c.strip() for c in row if c.strip()] for row in table(result)]


def test_admin_network_policies_with_priority_subject_and_actions() -> None:
    assert cells(get("anp", ADMIN)) == [
        ["NAME", "PRIORITY", "SUBJECT", "INGRESS", "EGRESS"],
        ["app1-boundary", "30", "namespaces app=app1", "Pass,Deny", "-"],
        ["cluster-dns", "10", "namespaces <all>", "-", "Allow"],
        [
            "coredns-serves-every-pod",
            "11",
            "namespaces kubernetes.io/metadata.name=kube-system AND pods k8s-app=kube-dns",
            "Allow",
            "-",
        ],
        ["monitoring-scrapes-metrics", "20", "namespaces <all>", "Allow", "-"],
        [
            "prometheus-scrapes-every-pod",
            "21",
            "namespaces kubernetes.io/metadata.name=monitoring AND pods app=prometheus",
            "-",
            "Allow",
        ],
    ]


@pytest.mark.parametrize(
    "alias",
    [
        "adminnetworkpolicies",
        "adminnetworkpolicy",
        "anp",
        "ANP",
        "adminnetworkpolicies.policy.networking.k8s.io",
    ],
)
def test_kubectl_names_and_short_names(alias: str) -> None:
    assert get(alias, ADMIN, "-o", "name").stdout.splitlines()[0] == (
        "adminnetworkpolicy.policy.networking.k8s.io/app1-boundary"
    )


def test_baseline_has_no_priority_and_wide_adds_the_source() -> None:
    assert cells(get("baselineadminnetworkpolicies", ADMIN, "-o", "wide")) == [
        ["NAME", "SUBJECT", "INGRESS", "EGRESS", "SOURCE"],
        [
            "default",
            "namespaces <all>",
            "Deny",
            "Deny",
            "examples/admin-tiers/11-baseline-admin-network-policy.yaml:9",
        ],
    ]


def test_cluster_network_policies_show_their_tier() -> None:
    assert cells(get("cnp", EVERY_FIELD)) == [
        ["NAME", "TIER", "PRIORITY", "SUBJECT", "INGRESS", "EGRESS"],
        ["admin-dns", "Admin", "3", "namespaces <all>", "Pass", "Allow"],
        ["baseline-deny", "Baseline", "100", "namespaces <all>", "Deny", "-"],
    ]


def test_calico_policies_namespaced_with_n_and_global_without() -> None:
    assert cells(get("networkpolicies.projectcalico.org", EVERY_FIELD)) == [
        ["NAMESPACE", "NAME", "TIER", "ORDER", "SELECTOR", "TYPES"],
        ["data", "platform.db-access", "platform", "5.5", "role == 'db'", "Ingress,Egress"],
        ["shop", "default-deny", "default", "<none>", "all()", "Ingress"],
    ]
    assert cells(get("cnetpol", EVERY_FIELD, "-n", "shop", "-o", "wide")) == [
        ["NAME", "TIER", "ORDER", "SELECTOR", "TYPES", "INGRESS", "EGRESS", "SOURCE"],
        [
            "default-deny",
            "default",
            "<none>",
            "all()",
            "Ingress",
            "none",
            "-",
            "tests/fixtures/tiers-every-field/cluster.yaml:123",
        ],
    ]
    nowhere = get("caliconetworkpolicies", EVERY_FIELD, "-n", "nowhere")
    assert nowhere.stderr.endswith("\nNo resources found in nowhere namespace.\n")
    # cluster-scoped: -n changes nothing, and there is no NAMESPACE column
    gnp = cells(get("gnp", EVERY_FIELD, "-n", "nowhere"))
    assert gnp[0] == ["NAME", "TIER", "ORDER", "SELECTOR", "TYPES"]
    assert gnp[1] == [
        "security.quarantine",
        "security",
        "10",
        "has(app) && tier != \"back\"; namespaceSelector: env == 'prod'; "
        "serviceAccountSelector: role in {'api', 'worker'}",
        "Ingress,Egress",
    ]
    assert get("cnetpol", EVERY_FIELD, "-o", "name").stdout.splitlines() == [
        "networkpolicy.projectcalico.org/platform.db-access",
        "networkpolicy.projectcalico.org/default-deny",
    ]


def test_tiers_in_evaluation_order_with_the_built_in_ones() -> None:
    assert cells(get("tiers", EVERY_FIELD)) == [
        ["NAME", "ORDER", "DEFAULT-ACTION", "POLICIES", "ORIGIN"],
        ["security", "100", "Pass", "1", "declared"],
        ["platform", "200.5", "Deny", "1", "declared"],
        ["kube-admin", "1000", "Pass", "2", "built-in"],
        ["default", "1000000", "Deny", "1", "built-in"],
        ["kube-baseline", "10000000", "Pass", "2", "built-in"],
    ]
    # the tutorial's three NetworkPolicies sit in the default tier
    assert cells(get("tiers", ADMIN))[2] == ["default", "1000000", "Deny", "3", "built-in"]


def test_no_tiered_policies_found() -> None:
    result = get("anp", "examples/tutorial")
    assert (result.exit_code, result.stdout, without_addon_note(result.stderr)) == (
        0,
        "",
        "No resources found.\n",
    )


# -- manifests -------------------------------------------------------------------------------


def _normalised(policy: TieredPolicy) -> TieredPolicy:
    """The policy without where it came from (the source, and its annotation)."""

    def rules(items: tuple) -> tuple:  # type: ignore[type-arg]
        return tuple(dataclasses.replace(r, source=GENERATED) for r in items)

    return dataclasses.replace(
        policy,
        source=GENERATED,
        annotations=tuple(a for a in policy.annotations if a[0] != "netpol.io/source"),
        ingress=rules(policy.ingress),
        egress=rules(policy.egress),
    )


def _round_trip(
    path: str, tmp_path: Path
) -> tuple[dict[str, TieredPolicy], dict[str, TieredPolicy]]:
    printed = [get(r, path, "-o", "yaml").stdout for r in TIERED]
    (tmp_path / "again.yaml").write_text("---\n".join(printed))
    before = load_cluster((path,), Options()).cluster
    after = load_cluster((str(tmp_path / "again.yaml"),), Options()).cluster
    return (
        {p.id: _normalised(p) for p in before.tiered_policies},
        {p.id: _normalised(p) for p in after.tiered_policies},
    )


def test_admin_tiers_load_back_into_the_same_policies(tmp_path: Path) -> None:
    before, after = _round_trip(ADMIN, tmp_path)
    assert len(before) == 6
    assert after == before


def test_every_field_loads_back_except_what_the_model_lost(tmp_path: Path) -> None:
    before, after = _round_trip(EVERY_FIELD, tmp_path)
    assert after.keys() == before.keys()
    lost = {
        (pid, direction, rule.index)
        for pid, policy in before.items()
        for direction in ("ingress", "egress")
        for rule in getattr(policy, direction)
        if rule.unmatchable
    }
    assert lost == {
        ("AdminNetworkPolicy/nodes-and-networks", "egress", 3),  # domainNames
        ("GlobalNetworkPolicy/security.quarantine", "ingress", 5),  # ICMP
        ("GlobalNetworkPolicy/security.quarantine", "ingress", 6),  # source ports
        ("GlobalNetworkPolicy/security.quarantine", "egress", 2),  # HTTP
    }
    for pid, policy in before.items():
        for direction in ("ingress", "egress"):
            for old, new in zip(
                getattr(policy, direction), getattr(after[pid], direction), strict=True
            ):
                if old.unmatchable:
                    # the documented limit: it comes back as a rule that matches nothing,
                    # without the reason
                    assert new.unmatchable == ""
                    assert (new.action, new.name) == (old.action, old.name)
                else:
                    assert new == old
        assert dataclasses.replace(after[pid], ingress=(), egress=()) == dataclasses.replace(
            policy, ingress=(), egress=()
        )


def test_unmatchable_rules_print_as_rules_that_match_nothing() -> None:
    anp = yaml.safe_load(get("anp", EVERY_FIELD, "-o", "yaml").stdout)["items"][0]
    assert anp["spec"]["egress"][3] == {
        "name": "to-a-domain",
        "action": "Allow",
        "to": [
            {
                "namespaces": {
                    "matchExpressions": [
                        {"key": "kubernetes.io/metadata.name", "operator": "DoesNotExist"}
                    ]
                }
            }
        ],
    }
    gnp = yaml.safe_load(get("gnp", EVERY_FIELD, "-o", "yaml").stdout)["items"][0]
    assert gnp["spec"]["ingress"][5] == {"action": "Deny", "protocol": "TCP", "notProtocol": "TCP"}


def test_calico_manifest_writes_every_field_back() -> None:
    gnp = yaml.safe_load(get("gnp", EVERY_FIELD, "-o", "yaml").stdout)["items"][0]
    assert (gnp["apiVersion"], gnp["kind"]) == ("projectcalico.org/v3", "GlobalNetworkPolicy")
    assert gnp["metadata"]["annotations"] == {
        "owner": "secops",
        "netpol.io/source": "tests/fixtures/tiers-every-field/cluster.yaml:44",
    }
    spec = gnp["spec"]
    assert {k: spec[k] for k in ("tier", "order", "namespaceSelector", "selector", "types")} == {
        "tier": "security",
        "order": 10,
        "namespaceSelector": "env == 'prod'",
        "selector": 'has(app) && tier != "back"',
        "types": ["Ingress", "Egress"],
    }
    assert spec["serviceAccountSelector"] == "role in {'api', 'worker'}"
    assert spec["ingress"][1] == {
        "action": "Deny",
        "protocol": "TCP",
        "source": {
            "nets": ["192.0.2.0/24", "2001:db8::/32"],
            "notNets": ["192.0.2.128/25"],
            "notSelector": "quarantine == 'no'",
        },
        "destination": {"ports": [22, "2000:2100", "http"], "notPorts": [2050]},
    }
    assert spec["ingress"][2]["protocol"] == "UDP"  # written lower case, Calico's name back
    assert spec["ingress"][3] == {
        "action": "Allow",
        "notProtocol": "UDP",
        "ipVersion": 4,
        "source": {"serviceAccounts": {"names": ["api", "batch"], "selector": "role == 'api'"}},
        "destination": {"selector": "!has(debug)"},
    }
    assert spec["ingress"][4] == {"action": "Allow", "protocol": "UDP", "ipVersion": 6}
    assert spec["ingress"][7] == {"action": "Allow", "notProtocol": "ICMP"}
    namespaced = yaml.safe_load(get("cnetpol", EVERY_FIELD, "-n", "shop", "-o", "yaml").stdout)
    assert namespaced["items"][0]["spec"] == {
        "tier": "default",
        "selector": "all()",
        "types": ["Ingress"],
    }


def test_cluster_network_policy_protocols_and_accept() -> None:
    cnp = yaml.safe_load(get("cnp", EVERY_FIELD, "-o", "yaml").stdout)["items"][0]
    assert cnp["apiVersion"] == "policy.networking.k8s.io/v1alpha2"
    assert cnp["spec"]["tier"] == "Admin"
    egress = cnp["spec"]["egress"][0]
    assert egress["action"] == "Accept"
    assert egress["protocols"] == [
        {"udp": {"destinationPort": {"number": 53}}},
        {"tcp": {"destinationPort": {"range": {"start": 53, "end": 54}}}},
        {"sctp": {}},
        {"destinationNamedPort": "dns"},
    ]


def test_tiers_print_as_calico_tiers() -> None:
    tiers = yaml.safe_load(get("tiers", EVERY_FIELD, "-o", "yaml").stdout)["items"]
    assert tiers[1] == {
        "apiVersion": "projectcalico.org/v3",
        "kind": "Tier",
        "metadata": {
            "name": "platform",
            "annotations": {"netpol.io/source": "tests/fixtures/tiers-every-field/cluster.yaml:39"},
        },
        "spec": {"order": 200.5, "defaultAction": "Deny"},
    }
    # a built-in tier has no source to show
    assert tiers[2]["metadata"] == {"name": "kube-admin"}
