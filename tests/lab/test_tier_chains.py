"""Tiered policies as nftables text, without a kernel: one chain per (pod, direction, tier)
segment, Pass to the next segment, Deny to ``deny``, a tier's default at the end, Log as
a bare ``log``; and, where root and nft are at hand, ``nft -c`` accepts what is generated."""

from __future__ import annotations

import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.lab.tier_generator import random_tiered_case, yaml_text

from netpol.engine.compile import compile_cluster
from netpol.lab.nftables import LabPod, Ruleset, compile_ruleset
from netpol.lab.services import service_routes
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

PODS = """
apiVersion: v1
kind: Namespace
metadata: {name: ns, labels: {team: x}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: ns, labels: {app: web}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 80, name: http}]}]}
status: {podIP: 10.244.1.10}
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: ns, labels: {app: db}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 3306, name: sql}]}]}
status: {podIP: 10.244.1.11}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: ns, labels: {app: other}}
spec: {containers: [{name: c, image: i, ports: [{containerPort: 8080, name: http}]}]}
status: {podIP: 10.244.1.12}
"""
WEB, DB, OTHER = "10.244.1.10", "10.244.1.11", "10.244.1.12"

ANP_DENY_WEB_TO_DB = """
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: deny-web}
spec:
  priority: 10
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: db}}}}
  ingress:
  - action: Deny
    from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}]
    ports: [{portNumber: {protocol: TCP, port: 3306}}]
"""

NP_DB_FROM_WEB = """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: ns}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
"""


def ruleset_of(tmp_path: Path, *documents: str) -> Ruleset:
    path = tmp_path / "cluster.yaml"
    path.write_text("\n---\n".join(textwrap.dedent(d) for d in (PODS, *documents)))
    return ruleset_of_paths(path)


def ruleset_of_paths(*paths: Path) -> Ruleset:
    """The lab's table for the cluster of ``paths`` (every pod with an address runs)."""
    options = Options(implicit_dns=False)
    result = load_cluster([str(p) for p in paths], options)
    assert result.ok, [d.message for d in result.diagnostics]
    cluster = result.cluster
    pods = [LabPod(p, p.ips[0]) for p in sorted(cluster.pods, key=lambda p: p.id) if p.ips]
    routes, _ = service_routes(cluster, {lp.pod.id: lp.ip for lp in pods})
    return compile_ruleset(compile_cluster(cluster, options), pods, routes)


def map_entries(ruleset: Ruleset, direction: str) -> dict[str, str]:
    """Pod IP -> the chain its ``direction`` (ingress/egress) map entry goes to."""
    body = ruleset.text.split(f"map {direction}_pods {{")[1].split("\n  }")[0]
    found = {}
    for line in body.splitlines():
        for entry in line.strip().rstrip(",").split(","):
            if " : goto " in entry:
                ip, _, chain = entry.strip().partition(" : goto ")
                found[ip] = chain
    return found


def set_elements(ruleset: Ruleset, name: str) -> list[str]:
    body = ruleset.text.split(f"  set {name} {{\n")[1].split("\n  }")[0]
    listed = body.split("elements = {")[1].split("}")[0]
    return [e.strip() for e in listed.replace("\n", " ").split(",") if e.strip()]


def chain_lines(ruleset: Ruleset, name: str) -> list[str]:
    body = ruleset.text.split(f"  chain {name} {{\n")[1].split("\n  }")[0]
    return [line.strip() for line in body.splitlines()]


def test_an_admin_deny_goes_to_deny_before_the_network_policy_segment(tmp_path: Path) -> None:
    ruleset = ruleset_of(tmp_path, ANP_DENY_WEB_TO_DB, NP_DB_FROM_WEB)
    first = chain_lines(ruleset, map_entries(ruleset, "ingress")[DB])
    assert first[0] == f"ip saddr {WEB} meta l4proto tcp th dport 3306 goto deny"
    # the admin tier's default is Pass: on to the NetworkPolicy segment
    assert first[1].startswith("goto in_")
    np_segment = chain_lines(ruleset, first[1].removeprefix("goto "))
    assert np_segment[0] == f"ip saddr {WEB} accept"
    assert np_segment[1] == "goto deny"  # the default tier ends in Deny for isolated pods


def test_a_pass_jumps_to_the_next_segment_and_a_deny_default_tier_ends_in_deny(
    tmp_path: Path,
) -> None:
    anp_pass = ANP_DENY_WEB_TO_DB.replace("Deny", "Pass")
    ruleset = ruleset_of(tmp_path, anp_pass, NP_DB_FROM_WEB)
    first = chain_lines(ruleset, map_entries(ruleset, "ingress")[DB])
    assert first[0].startswith(f"ip saddr {WEB} meta l4proto tcp th dport 3306 goto in_")
    following = first[0].rpartition("goto ")[2]
    assert first[1] == f"goto {following}"  # the tier's default (Pass) goes the same way
    assert chain_lines(ruleset, following)[-1] == "goto deny"


def test_a_pass_from_the_last_tier_that_selects_accepts(tmp_path: Path) -> None:
    # nothing below the admin tier selects db: a Pass is an allow
    ruleset = ruleset_of(tmp_path, ANP_DENY_WEB_TO_DB.replace("Deny", "Pass"))
    first = chain_lines(ruleset, map_entries(ruleset, "ingress")[DB])
    assert first == [f"ip saddr {WEB} meta l4proto tcp th dport 3306 accept", "accept", "goto deny"]


def test_a_pod_no_tier_selects_gets_no_map_entry(tmp_path: Path) -> None:
    ruleset = ruleset_of(tmp_path, ANP_DENY_WEB_TO_DB, NP_DB_FROM_WEB)
    assert set(map_entries(ruleset, "ingress")) == {DB}
    assert map_entries(ruleset, "egress") == {}  # neither policy has an egress side


def test_a_baseline_deny_is_reached_only_through_its_own_segment(tmp_path: Path) -> None:
    banp = """
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: BaselineAdminNetworkPolicy
    metadata: {name: default}
    spec:
      subject: {namespaces: {}}
      ingress:
      - action: Deny
        from: [{namespaces: {}}]
    """
    ruleset = ruleset_of(tmp_path, ANP_DENY_WEB_TO_DB.replace("Deny", "Pass"), banp)
    entries = map_entries(ruleset, "ingress")
    assert set(entries) == {WEB, DB, OTHER}
    baseline = chain_lines(ruleset, entries[WEB])
    assert baseline[0].endswith("goto deny")  # every pod of every namespace
    assert baseline[1] == "accept"  # the baseline tier's default is Pass: allowed
    first = chain_lines(ruleset, entries[DB])
    assert first[0].endswith(f"goto {entries[WEB]}")  # db's Pass lands in the same segment


def test_a_calico_tier_with_default_deny_ends_in_goto_deny(tmp_path: Path) -> None:
    tier = """
    apiVersion: projectcalico.org/v3
    kind: Tier
    metadata: {name: security}
    spec: {order: 100, defaultAction: Deny}
    ---
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: security.web}
    spec:
      tier: security
      order: 10
      selector: app == 'web'
      types: [Ingress]
      ingress:
      - action: Allow
        protocol: TCP
        destination: {ports: [http]}
    """
    ruleset = ruleset_of(tmp_path, tier)
    entries = map_entries(ruleset, "ingress")
    assert set(entries) == {WEB}
    # the named port resolves on the subject: http is 80 on web
    assert chain_lines(ruleset, entries[WEB])[:2] == [
        "meta l4proto tcp th dport 80 accept",
        "goto deny",
    ]


def test_log_emits_a_log_statement_and_goes_on(tmp_path: Path) -> None:
    gnp = """
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: log-then-deny}
    spec:
      order: 100
      selector: app == 'db'
      ingress:
      - action: Log
        source: {selector: app == 'web'}
      - action: Deny
        protocol: TCP
        destination: {ports: [3306]}
      - action: Pass
    """
    ruleset = ruleset_of(tmp_path, gnp)
    lines = chain_lines(ruleset, map_entries(ruleset, "ingress")[DB])
    assert lines[0] == f'ip saddr {WEB} log prefix "netpol log-then-deny: "'
    assert lines[1] == "meta l4proto tcp th dport 3306 goto deny"
    assert lines[2] == "accept"  # Pass from the last tier: allowed


def test_a_global_lone_not_selector_leaves_the_pods_it_names_out(tmp_path: Path) -> None:
    # scope "any" (every address but the pods the notSelector matches), as the engine has it
    gnp = """
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: not-web}
    spec:
      order: 100
      selector: app == 'db'
      ingress:
      - action: Deny
        source: {notSelector: app == 'web'}
    """
    ruleset = ruleset_of(tmp_path, gnp)
    deny = chain_lines(ruleset, map_entries(ruleset, "ingress")[DB])[0]
    assert deny != "goto deny"  # not from every address: web's is left out
    assert deny.startswith("ip saddr @") and deny.endswith(" goto deny")
    set_name = deny.removeprefix("ip saddr @").split()[0]
    assert set_elements(ruleset, set_name) == ["0.0.0.0-10.244.1.9", "10.244.1.11-255.255.255.255"]


def test_egress_with_named_not_ports_still_covers_addresses_outside_the_cluster(
    tmp_path: Path,
) -> None:
    # named ports resolve to nothing off a pod, so the rule covers every port out there
    gnp = """
    apiVersion: projectcalico.org/v3
    kind: GlobalNetworkPolicy
    metadata: {name: out}
    spec:
      order: 100
      selector: app == 'web'
      egress:
      - action: Deny
        protocol: TCP
        destination: {notPorts: [http]}
    """
    ruleset = ruleset_of(tmp_path, gnp)
    lines = chain_lines(ruleset, map_entries(ruleset, "egress")[WEB])
    outside = lines[0]
    assert outside.startswith("ip daddr @") and outside.endswith(" meta l4proto tcp goto deny")
    set_name = outside.removeprefix("ip daddr @").split()[0]
    assert set_elements(ruleset, set_name) == ["0.0.0.0-10.244.1.9", "10.244.1.13-255.255.255.255"]
    assert f"ip daddr {DB} meta l4proto tcp goto deny" in lines  # db has no port named http


def test_no_tiered_policy_keeps_the_plain_chains(tmp_path: Path) -> None:
    ruleset = ruleset_of(tmp_path, NP_DB_FROM_WEB)
    assert chain_lines(ruleset, map_entries(ruleset, "ingress")[DB]) == [
        f"ip saddr {WEB} accept",
        "goto deny",
    ]


# -- nft -c: the kernel's own parser accepts what is generated -------------------------------

NFT = shutil.which("nft")
UNSHARE = shutil.which("unshare")
needs_nft = pytest.mark.skipif(
    NFT is None or UNSHARE is None or os.geteuid() != 0,
    reason="nft -c needs root, nft and unshare (it runs in a throwaway network namespace)",
)


def assert_nft_accepts(ruleset: Ruleset, tmp_path: Path) -> None:
    path = tmp_path / "ruleset.nft"
    path.write_text(ruleset.text)
    # a fresh network namespace: the check never sees (or touches) the host's tables
    assert NFT is not None and UNSHARE is not None
    argv = [UNSHARE, "--net", NFT, "-c", "-f", str(path)]
    done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)
    assert done.returncode == 0, done.stderr + "\n" + ruleset.text


@needs_nft
@pytest.mark.parametrize("seed", range(12))
def test_nft_accepts_the_ruleset_of_random_tiered_clusters(tmp_path: Path, seed: int) -> None:
    source = tmp_path / "case.yaml"
    source.write_text(yaml_text(random_tiered_case(seed)))
    assert_nft_accepts(ruleset_of_paths(source), tmp_path)


@needs_nft
def test_nft_accepts_the_three_tier_example_under_an_admin_deny(tmp_path: Path) -> None:
    anp = tmp_path / "anp.yaml"
    anp.write_text(
        textwrap.dedent(
            """
            apiVersion: policy.networking.k8s.io/v1alpha1
            kind: AdminNetworkPolicy
            metadata: {name: no-db}
            spec:
              priority: 5
              subject: {namespaces: {matchLabels: {app: app1}}}
              ingress:
              - action: Deny
                name: no-mysql
                from: [{namespaces: {}}]
                ports: [{portNumber: {port: 3306}}]
            """
        )
    )
    ruleset = ruleset_of_paths(EXAMPLES / "three-tier", anp)
    assert "meta l4proto tcp th dport 3306 goto deny" in ruleset.text  # the admin Deny
    assert_nft_accepts(ruleset, tmp_path)
