"""``netpol get`` and ``describe`` for Cilium's kinds: names and short names (``cnp`` shared
with ClusterNetworkPolicy), -n/-A/-l, -o name and manifests that load back into the same
policies, and the one-line failures. The tables and texts themselves are golden files
(tests/render/test_cilium_golden.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from load.live.compare import sourceless
from netpol.cli.main import cli
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]
CILIUM = ("examples/tutorial", "tests/fixtures/cilium")
EVERY_FIELD = "tests/fixtures/tiers-every-field"  # two ClusterNetworkPolicies, no Cilium


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)


def netpol(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def names(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("ciliumnetworkpolicies", "ciliumnetworkpolicy.cilium.io/backend-l7"),
        ("ciliumnetworkpolicies.cilium.io", "ciliumnetworkpolicy.cilium.io/backend-l7"),
        ("ciliumnetworkpolicy", "ciliumnetworkpolicy.cilium.io/backend-l7"),
        ("ciliumnp", "ciliumnetworkpolicy.cilium.io/backend-l7"),
        ("CNP", "ciliumnetworkpolicy.cilium.io/backend-l7"),
        (
            "ciliumclusterwidenetworkpolicies",
            "ciliumclusterwidenetworkpolicy.cilium.io/cluster-dns",
        ),
        ("ccnp", "ciliumclusterwidenetworkpolicy.cilium.io/cluster-dns"),
        ("ciliumcidrgroups", "ciliumcidrgroup.cilium.io/partners"),
        ("ccg", "ciliumcidrgroup.cilium.io/partners"),
    ],
)
def test_kubectl_names_and_short_names(alias: str, expected: str) -> None:
    assert names(netpol("get", alias, *CILIUM, "-o", "name"))[0] == expected


def test_cnp_is_clusternetworkpolicy_where_the_input_has_no_cilium_policy() -> None:
    assert names(netpol("get", "cnp", EVERY_FIELD, "-o", "name")) == [
        "clusternetworkpolicy.policy.networking.k8s.io/admin-dns",
        "clusternetworkpolicy.policy.networking.k8s.io/baseline-deny",
    ]


def test_cnp_with_both_kinds_keeps_clusternetworkpolicy_and_warns() -> None:
    result = netpol("get", "cnp", EVERY_FIELD, "tests/fixtures/cilium", "-o", "name")
    assert names(result) == [
        "clusternetworkpolicy.policy.networking.k8s.io/admin-dns",
        "clusternetworkpolicy.policy.networking.k8s.io/baseline-deny",
    ]
    assert (
        'warning: short name "cnp" also names ciliumnetworkpolicies.cilium.io, and the input '
        "holds both kinds: clusternetworkpolicies taken; ciliumnp names Cilium's"
    ) in result.stderr.splitlines()
    # Cilium's other short name is never ambiguous
    assert names(netpol("get", "ciliumnp", EVERY_FIELD, "tests/fixtures/cilium", "-o", "name")) == [
        "ciliumnetworkpolicy.cilium.io/backend-l7",
        "ciliumnetworkpolicy.cilium.io/db",
    ]


def test_namespace_flag_lists_one_namespace_and_cluster_wide_kinds_ignore_it() -> None:
    assert names(netpol("get", "ciliumnp", *CILIUM, "-n", "app1-ns", "-o", "name")) == [
        "ciliumnetworkpolicy.cilium.io/backend-l7",
        "ciliumnetworkpolicy.cilium.io/db",
    ]
    none = netpol("get", "ciliumnp", *CILIUM, "-n", "kube-system")
    assert (none.exit_code, none.stdout) == (0, "")
    assert "No resources found in kube-system namespace." in none.stderr
    assert len(names(netpol("get", "ccnp", *CILIUM, "-n", "kube-system", "-o", "name"))) == 2
    # -A prints the NAMESPACE column, -n drops it
    assert names(netpol("get", "ciliumnp", *CILIUM, "-A"))[0].split()[:2] == ["NAMESPACE", "NAME"]
    assert names(netpol("get", "ciliumnp", *CILIUM, "-n", "app1-ns"))[0].split()[0] == "NAME"


def test_selector_filters_cidr_groups_and_is_refused_for_policies() -> None:
    assert names(netpol("get", "ccg", *CILIUM, "-l", "team=partners", "-o", "name")) == [
        "ciliumcidrgroup.cilium.io/partners"
    ]
    assert names(netpol("get", "ccg", *CILIUM, "-l", "team=other", "-o", "name")) == []
    refused = netpol("get", "cnp", *CILIUM, "-l", "app=x")
    assert refused.exit_code == 2
    assert refused.stderr.splitlines()[-1] == (
        "error: -l/--selector: netpol keeps no labels of ciliumnetworkpolicies; it filters "
        "pods, workloads, namespaces, nodes and Cilium CIDR groups"
    )


@pytest.mark.parametrize("output", ["yaml", "json"])
def test_manifests_load_back_into_the_same_policies_and_groups(tmp_path: Path, output: str) -> None:
    for alias in ("ciliumnp", "ccnp", "ccg"):
        text = names(netpol("get", alias, *CILIUM, "-o", output))
        (tmp_path / f"{alias}.{output}").write_text("\n".join(text) + "\n")
    original = load_cluster(list(CILIUM), Options()).cluster
    again = load_cluster(["examples/tutorial", str(tmp_path)], Options())
    assert again.ok, [d.one_line() for d in again.errors]
    for kind in ("cilium_policies", "cidr_groups"):
        assert sourceless(getattr(again.cluster, kind)) == sourceless(getattr(original, kind))


def test_a_manifest_says_which_l7_bodies_it_does_not_keep() -> None:
    result = netpol("get", "ciliumnp", *CILIUM, "-n", "app1-ns", "-o", "yaml")
    backend, db = yaml.safe_load(result.stdout)["items"]
    assert backend["metadata"]["annotations"]["netpol.io/l7-not-kept"] == (
        "spec.ingress[0].toPorts[0] (http)"
    )
    assert backend["spec"]["ingress"][0]["toPorts"][0]["rules"] == {"http": [{}]}
    assert "spec" not in db and len(db["specs"]) == 2
    assert db["specs"][1]["enableDefaultDeny"] == {"ingress": False}
    assert db["specs"][0]["egressDeny"][0]["toCIDRSet"] == [
        {"cidrGroupRef": "partners", "except": ["203.0.113.128/25"]}
    ]


def test_describe_json_and_yaml_carry_the_same_description() -> None:
    as_json = json.loads(netpol("describe", "ccnp", "cluster-dns", *CILIUM, "-o", "json").stdout)
    as_yaml = yaml.safe_load(
        netpol("describe", "ccnp", "cluster-dns", *CILIUM, "-o", "yaml").stdout
    )
    assert as_json == as_yaml
    assert as_json["rules"][0]["defaultDeny"] == {"ingress": False, "egress": False}
    assert len(as_json["selects"]) == 5


def test_describe_cnp_with_a_namespace_is_cilium_even_beside_clusternetworkpolicies() -> None:
    result = netpol("describe", "cnp", "app1-ns/db", EVERY_FIELD, "tests/fixtures/cilium")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1] == "Kind:         CiliumNetworkPolicy (cilium.io/v2)"
    admin = netpol("describe", "cnp", "admin-dns", EVERY_FIELD, "tests/fixtures/cilium")
    assert admin.exit_code == 0, admin.output
    assert "warning: short name" in admin.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("ciliumnp", "db"),
            "error: no CiliumNetworkPolicy 'db' in namespace default (there is one in "
            "namespace app1-ns)",
        ),
        (
            ("ciliumnp", "app1-ns/dbb"),
            "error: no CiliumNetworkPolicy 'dbb' in namespace app1-ns (did you mean db?)",
        ),
        (
            ("ccnp", "nothing-like-it"),
            "error: no CiliumClusterwideNetworkPolicy 'nothing-like-it' (existing: "
            "cluster-dns, no-metadata-server)",
        ),
        (
            ("ccnp", "-l", "app=x"),
            "error: -l/--selector describes pods or the NetworkPolicies selecting them (KIND "
            "pod or policy)",
        ),
    ],
)
def test_describe_failures_are_one_line(args: tuple[str, ...], message: str) -> None:
    result = netpol("describe", *args, *CILIUM)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == message
