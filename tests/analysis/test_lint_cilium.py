"""The Cilium lint checks: each fires where Cilium reads a rule otherwise than it looks, on
the exact field, and stays silent on the written-right twin; the covers they rest on
(selectors, peers, ports, prefixes) hold only when they really hold."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.conftest import cluster_from_yaml

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import Finding, run_checks
from netpol.analysis.lint_checks.cilium_grants import (
    Grant,
    Peers,
    PortItem,
    Ports,
    SubjectIndex,
    cilium_port_items,
    requirements,
    selector_covers,
)
from netpol.analysis.lint_examples import BASE, policy
from netpol.analysis.lint_examples_cilium import CCNP, DNS_VISIBILITY, WEB, cilium_policy
from netpol.engine.compile import compile_cluster
from netpol.model.cilium import CIDRRule
from netpol.model.options import PROFILES, Options
from netpol.model.selectors import LabelSelector, Requirement
from netpol.model.source import Source
from netpol.render.sarif import lint_sarif
from netpol.validate.pipeline import load_cluster

REPORTED = {c.id for c in CHECKS if c.id.startswith("cilium-")} | {
    "rules-ignored",
    "ipblock-covers-pods",
    "tier-rule-shadowed",  # never on Cilium's rules: they have no order
}


def findings(text: str, profile: str = "upstream") -> list[Finding]:
    options = Options(implicit_dns=False, profile=PROFILES[profile])
    cc = compile_cluster(cluster_from_yaml(BASE + text, options), options)
    return [f for f in run_checks(cc, CHECKS).findings if f.check in REPORTED]


def seen(text: str, profile: str = "upstream") -> list[tuple[str, str, str, str]]:
    return [(f.check, f.severity.value, f.field, f.message) for f in findings(text, profile)]


API_8080 = '{fromEndpoints: [{matchLabels: {app: api}}], toPorts: [{ports: [{port: "8080"}]}]}'
HOST_POD = """---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: x, labels: {app: agent}}
spec:
  hostNetwork: true
  nodeName: kind-worker
  containers: [{name: agent, image: agent}]
"""
EVERY_POD = "the IPs of 4 pod(s) (kube-system/coredns, x/api, x/web, z/client)"
WORLD_ONLY = "but Cilium matches CIDRs only against addresses outside the cluster (world)"
NODES = "node IPs (kind-control-plane, kind-worker, kind-worker2)"

EMPTY_RULE = [
    (
        "ingress [{}]",
        cilium_policy("web", WEB + "  ingress:\n    - {}\n"),
        [
            (
                "cilium-empty-rule",
                "warning",
                "spec.ingress[0]",
                "ingress[0] is `{}`: under Cilium it matches no peer, and the rule's ingress "
                "is default-deny, so all ingress of the pods it selects is denied (a "
                "NetworkPolicy's `{}` would allow it all)",
            )
        ],
    ),
    (
        "egress [{}] in specs[1]",
        cilium_policy(
            "web",
            "",
        ).replace(
            "spec:\n",
            "specs:\n  - endpointSelector: {}\n    ingress: [{fromEntities: [all]}]\n"
            "  - endpointSelector: {}\n    egress: [{}]\n",
        ),
        [
            (
                "cilium-empty-rule",
                "warning",
                "specs[1].egress[0]",
                "egress[0] is `{}`: under Cilium it matches no peer, and the rule's egress "
                "is default-deny, so all egress of the pods it selects is denied (a "
                "NetworkPolicy's `{}` would allow it all)",
            )
        ],
    ),
    (
        "ingress [{}] without default deny",
        cilium_policy("web", WEB + "  enableDefaultDeny: {ingress: false}\n  ingress:\n    - {}\n"),
        [
            (
                "cilium-empty-rule",
                "warning",
                "spec.ingress[0]",
                "ingress[0] is `{}`: under Cilium it matches no peer, and with "
                "enableDefaultDeny.ingress false it changes nothing (a NetworkPolicy's `{}` "
                "would allow it all)",
            )
        ],
    ),
    ("a deny [{}]", cilium_policy("web", WEB + "  ingressDeny:\n    - {}\n"), []),
    (
        "L4 only: every peer on a port",
        cilium_policy("web", WEB + '  ingress:\n    - toPorts: [{ports: [{port: "80"}]}]\n'),
        [],
    ),
    (
        "an ICMP-only entry",
        cilium_policy("web", WEB + "  ingress:\n    - icmps: [{fields: [{type: 8}]}]\n"),
        [],
    ),
]

CIDR = [
    (
        "toCIDR over the pods",
        cilium_policy("web", WEB + "  egress:\n    - toCIDR: [10.0.0.0/8]\n"),
        [
            (
                "cilium-cidr-selects-pods",
                "warning",
                "spec.egress[0].toCIDR[0]",
                f"egress[0] 10.0.0.0/8 covers the pod CIDR 10.244.0.0/16 and {EVERY_POD}, "
                f"{WORLD_ONLY}: it does not allow them",
            )
        ],
    ),
    (
        "a deny CIDRSet over the nodes",
        cilium_policy("web", WEB + "  ingressDeny:\n    - fromCIDRSet: [{cidr: 172.16.0.0/12}]\n"),
        [
            (
                "cilium-cidr-selects-pods",
                "warning",
                "spec.ingressDeny[0].fromCIDRSet[0]",
                f"ingressDeny[0] 172.16.0.0/12 covers {NODES}, {WORLD_ONLY}: it does not deny them",
            )
        ],
    ),
    (
        "a CiliumCIDRGroup of the pod CIDR",
        """---
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: inside}
spec: {externalCIDRs: [192.0.2.0/24, 10.244.0.0/16]}
"""
        + cilium_policy(
            "web",
            WEB + "  egress:\n    - toCIDR: [192.0.2.0/24]\n"
            "    - toCIDRSet: [{cidrGroupRef: inside}]\n",
        ),
        [
            (
                "cilium-cidr-selects-pods",
                "warning",
                "spec.egress[1].toCIDRSet[0]",
                f"egress[1] cidrGroupRef inside covers the pod CIDR 10.244.0.0/16 and "
                f"{EVERY_POD}, {WORLD_ONLY}: it does not allow them",
            )
        ],
    ),
    (
        "every address is a note",
        cilium_policy("web", WEB + "  egress:\n    - toCIDR: [0.0.0.0/0]\n"),
        [
            (
                "cilium-cidr-selects-pods",
                "info",
                "spec.egress[0].toCIDR[0]",
                f"egress[0] 0.0.0.0/0 covers the pod CIDR 10.244.0.0/16 and {EVERY_POD} and "
                f"{NODES}, {WORLD_ONLY}: it does not allow them",
            )
        ],
    ),
    (
        "the pod CIDR excepted",
        cilium_policy(
            "web",
            WEB + "  egress:\n    - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.244.0.0/16]}]\n",
        ),
        [],
    ),
    (
        "outside addresses only",
        cilium_policy("web", WEB + "  egress:\n    - toCIDR: [192.0.2.0/24]\n"),
        [],
    ),
]

IP_BLOCK = policy(
    "web",
    "  podSelector: {matchLabels: {app: web}}\n"
    "  ingress: [{from: [{ipBlock: {cidr: 10.244.0.0/16}}]}]\n",
)


def test_a_network_policy_ip_block_speaks_for_cilium_only_under_cilium() -> None:
    cilium = (
        "cilium-cidr-selects-pods",
        "warning",
        "spec.ingress[0].from[0]",
        f"from[0] ipBlock 10.244.0.0/16 covers the pod CIDR 10.244.0.0/16 and {EVERY_POD}, "
        f"{WORLD_ONLY}: it does not allow them",
    )
    assert seen(IP_BLOCK, "cilium") == [cilium]
    beside_a_cnp = IP_BLOCK + cilium_policy(
        "api", "  endpointSelector: {}\n  ingress: [{fromEntities: [all]}]\n"
    )
    assert seen(beside_a_cnp) == [cilium]
    assert [f[0] for f in seen(IP_BLOCK)] == ["ipblock-covers-pods"]


NOT_NODES = [
    (
        "CCNP {} with the nodes only",
        cilium_policy(
            "all", "  endpointSelector: {}\n  ingress:\n    - fromEndpoints: [{}]\n", None, CCNP
        ),
        [
            (
                "cilium-endpoints-not-nodes",
                "info",
                "spec.ingress[0].fromEndpoints[0]",
                "ingress[0] fromEndpoints[0] `{}` allows every pod of every namespace but not "
                "the nodes (kind-control-plane, kind-worker, kind-worker2): nodes and "
                "hostNetwork pods are host/remote-node, never endpoints",
            )
        ],
    ),
    (
        "CCNP {} with a hostNetwork pod",
        HOST_POD
        + cilium_policy(
            "all", "  endpointSelector: {}\n  egressDeny:\n    - toEndpoints: [{}]\n", None, CCNP
        ),
        [
            (
                "cilium-endpoints-not-nodes",
                "warning",
                "spec.egressDeny[0].toEndpoints[0]",
                "egressDeny[0] toEndpoints[0] `{}` denies every pod of every namespace but not "
                "the hostNetwork pods x/agent: nodes and hostNetwork pods are "
                "host/remote-node, never endpoints",
            )
        ],
    ),
    (
        "CNP {} beside a hostNetwork pod of its namespace",
        HOST_POD + cilium_policy("web", WEB + "  ingress:\n    - fromEndpoints: [{}]\n"),
        [
            (
                "cilium-endpoints-not-nodes",
                "warning",
                "spec.ingress[0].fromEndpoints[0]",
                "ingress[0] fromEndpoints[0] `{}` allows every pod of namespace x but not "
                "the hostNetwork pods x/agent: nodes and hostNetwork pods are "
                "host/remote-node, never endpoints",
            )
        ],
    ),
    (
        "CNP {} and no hostNetwork pod in its namespace",
        cilium_policy("web", WEB + "  ingress:\n    - fromEndpoints: [{}]\n"),
        [],
    ),
    (
        "CCNP {} with the nodes named beside it",
        cilium_policy(
            "all",
            "  endpointSelector: {}\n  ingress:\n    - fromEndpoints: [{}]\n"
            "    - fromEntities: [host, remote-node]\n",
            None,
            CCNP,
        ),
        [],
    ),
    (
        "CCNP with a real selector",
        cilium_policy(
            "all",
            "  endpointSelector: {}\n  ingress:\n    - fromEndpoints: [{matchLabels: {app: api}}]\n",
            None,
            CCNP,
        ),
        [],
    ),
]

DENIED = "denies every peer and port it allows, for the same pods (a deny wins over any allow)"
ALLOW_DENIED = [
    (
        "an L3 deny over an L4 allow",
        cilium_policy(
            "web",
            WEB
            + f"  ingress:\n    - {API_8080}\n"
            + "  ingressDeny:\n    - fromEndpoints: [{matchLabels: {app: api}}]\n",
        ),
        [
            (
                "cilium-allow-denied",
                "warning",
                "spec.ingress[0]",
                "CiliumNetworkPolicy x/web ingress[0] allows nothing: CiliumNetworkPolicy "
                f"x/web ingressDeny[0] {DENIED}",
            )
        ],
    ),
    (
        "a clusterwide deny of the world over a CIDR allow",
        cilium_policy("web", WEB + "  egress:\n    - toCIDR: [192.0.2.0/24]\n")
        + cilium_policy(
            "no-world",
            "  endpointSelector: {}\n  egressDeny: [{toEntities: [world]}]\n",
            None,
            CCNP,
        ),
        [
            (
                "cilium-allow-denied",
                "warning",
                "spec.egress[0]",
                "CiliumNetworkPolicy x/web egress[0] allows nothing: "
                f"CiliumClusterwideNetworkPolicy no-world egressDeny[0] {DENIED}",
            )
        ],
    ),
    (
        "an L4-only deny over a NetworkPolicy allow",
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n"
            "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}], ports: [{port: 8080}]}]\n",
        )
        + cilium_policy(
            "no-8080",
            "  endpointSelector: {}\n"
            '  ingressDeny: [{toPorts: [{ports: [{port: "8000", endPort: 8100, protocol: TCP}]}]}]\n',
        ),
        [
            (
                "cilium-allow-denied",
                "warning",
                "spec.ingress[0]",
                "NetworkPolicy x/web ingress[0] allows nothing: CiliumNetworkPolicy x/no-8080 "
                f"ingressDeny[0] {DENIED}",
            )
        ],
    ),
    (
        "the deny on another port",
        cilium_policy(
            "web",
            WEB
            + f"  ingress:\n    - {API_8080}\n"
            + '  ingressDeny: [{fromEndpoints: [{}], toPorts: [{ports: [{port: "9090"}]}]}]\n',
        ),
        [],
    ),
    (
        "the deny for fewer pods",
        cilium_policy("web", WEB + f"  ingress:\n    - {API_8080}\n")
        + cilium_policy(
            "deny",
            "  endpointSelector: {matchLabels: {app: web, tier: front}}\n"
            "  ingressDeny: [{fromEndpoints: [{}]}]\n",
        ),
        [],
    ),
    (
        "the deny for fewer peers",
        cilium_policy(
            "web",
            WEB
            + f"  ingress:\n    - {API_8080}\n"
            + "  ingressDeny: [{fromEndpoints: [{matchLabels: {app: api, v: '2'}}]}]\n",
        ),
        [],
    ),
    (
        "the deny of another namespace's pods",
        cilium_policy("web", WEB + f"  ingress:\n    - {API_8080}\n")
        + cilium_policy(
            "deny", "  endpointSelector: {}\n  ingressDeny: [{fromEndpoints: [{}]}]\n", "z"
        ),
        [],
    ),
]

SERVICE_ACCOUNT = "{matchLabels: {io.cilium.k8s.policy.serviceaccount: default}}"


def test_what_only_the_pods_show_is_found_on_the_engine_fill() -> None:
    # Every pod of x runs as the default account: the deny and the L4 allow cover the
    # other entries for these pods, which selectors alone cannot tell.
    text = cilium_policy(
        "web",
        WEB
        + f"  ingress:\n    - {API_8080}\n"
        + f"  ingressDeny:\n    - fromEndpoints: [{SERVICE_ACCOUNT}]\n",
    ) + cilium_policy(
        "api",
        "  endpointSelector: {matchLabels: {app: api}}\n  ingress:\n"
        + f'    - {{fromEndpoints: [{SERVICE_ACCOUNT}], toPorts: [{{ports: [{{port: "5678"}}]}}]}}\n'
        + L7_RULE.replace("app: api", "app: web").replace("8080", "5678"),
    )
    assert seen(text) == [
        (
            "cilium-allow-denied",
            "warning",
            "spec.ingress[0]",
            "CiliumNetworkPolicy x/web ingress[0] allows nothing to the input's pods (x/web): "
            "all it matches is denied first by CiliumNetworkPolicy x/web ingressDeny[0] (a "
            "deny wins over any allow)",
        ),
        (
            "cilium-l7-void",
            "warning",
            "spec.ingress[1]",
            "CiliumNetworkPolicy x/api ingress[1]: its L7 rules never apply to the input's "
            "pods (x/api): all it matches is allowed at L4 first by CiliumNetworkPolicy x/api "
            "ingress[0]",
        ),
    ]


L7_RULE = (
    "    - fromEndpoints: [{matchLabels: {app: api}}]\n"
    "      toPorts:\n"
    '        - ports: [{port: "8080", protocol: TCP}]\n'
    '          rules: {http: [{method: GET, path: "/public"}]}\n'
)
L7_VOID = [
    (
        "an L3 allow of the same peers",
        cilium_policy(
            "web",
            WEB + "  ingress:\n    - fromEndpoints: [{matchLabels: {app: api}}]\n" + L7_RULE,
        ),
        [
            (
                "cilium-l7-void",
                "warning",
                "spec.ingress[1].toPorts[0]",
                "CiliumNetworkPolicy x/web ingress[1] toPorts[0]: its http rules never apply: "
                "CiliumNetworkPolicy x/web ingress[0] already allows the same peers on "
                "8080/TCP at L4",
            )
        ],
    ),
    (
        "a NetworkPolicy of the whole namespace",
        cilium_policy("web", WEB + "  ingress:\n" + L7_RULE)
        + policy("all", "  podSelector: {}\n  ingress: [{ports: [{port: 8080}]}]\n"),
        [
            (
                "cilium-l7-void",
                "warning",
                "spec.ingress[0].toPorts[0]",
                "CiliumNetworkPolicy x/web ingress[0] toPorts[0]: its http rules never apply: "
                "NetworkPolicy x/all ingress[0] already allows the same peers on 8080/TCP at L4",
            )
        ],
    ),
    (
        "DNS visibility voided by an allow-all egress",
        cilium_policy("web", WEB + "  egress:\n" + DNS_VISIBILITY + "    - toEntities: [all]\n"),
        [
            (
                "cilium-l7-void",
                "warning",
                "spec.egress[0].toPorts[0]",
                "CiliumNetworkPolicy x/web egress[0] toPorts[0]: its dns rules never apply: "
                "CiliumNetworkPolicy x/web egress[1] already allows the same peers on 53/TCP, "
                "53/UDP, 53/SCTP at L4",
            )
        ],
    ),
    (
        "the L4 allow on another port",
        cilium_policy(
            "web",
            WEB + f"  ingress:\n    - {API_8080.replace('8080', '9090')}\n" + L7_RULE,
        ),
        [],
    ),
    (
        "the L4 allow of fewer peers",
        cilium_policy(
            "web",
            WEB
            + "  ingress:\n    - fromEndpoints: [{matchLabels: {app: api, v: '2'}}]\n"
            + L7_RULE,
        ),
        [],
    ),
]

TYPES_MESSAGE = (
    "policyTypes [Egress] leaves out Ingress, but the policy has 1 ingress rule(s): Cilium "
    "up to 1.20.1 enforces them (its pods become ingress-isolated), upstream ignores them"
)
EGRESS_ONLY = policy(
    "web",
    "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"
    "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n",
)


def test_policy_types_left_out_speak_for_the_cni_in_play() -> None:
    enforced = ("cilium-policy-types-enforced", "error", "spec.ingress", TYPES_MESSAGE)
    assert seen(EGRESS_ONLY, "cilium") == [enforced]
    beside_a_cnp = EGRESS_ONLY + cilium_policy(
        "api", "  endpointSelector: {}\n  ingress: [{fromEntities: [all]}]\n"
    )
    assert seen(beside_a_cnp) == [enforced]
    assert seen(EGRESS_ONLY) == [
        (
            "rules-ignored",
            "error",
            "spec.ingress",
            "1 ingress rule(s) ignored: policyTypes is [Egress]",
        )
    ]
    written_right = EGRESS_ONLY.replace("[Egress]", "[Ingress, Egress]")
    assert seen(written_right, "cilium") == []


FQDN = (
    "  egress:\n    - toFQDNs: [{matchName: api.example.com}, {matchPattern: '*.example.org'}]\n"
    '      toPorts: [{ports: [{port: "443", protocol: TCP}]}]\n'
)
FQDN_MESSAGE = (
    "CiliumNetworkPolicy x/web egress[0] toFQDNs (api.example.com, *.example.org) allows "
    "nothing: no egress rule of the same pods sends DNS on port 53 through Cilium's proxy "
    "(`rules: {dns: ...}`), so the names are never resolved"
)
FQDN_CASES = [
    (
        "no DNS rule",
        cilium_policy("web", WEB + FQDN),
        [("cilium-fqdn-without-dns-proxy", "warning", "spec.egress[0].toFQDNs", FQDN_MESSAGE)],
    ),
    ("DNS visibility in the same rule", cilium_policy("web", WEB + FQDN + DNS_VISIBILITY), []),
    (
        "DNS visibility for every pod, clusterwide",
        cilium_policy("web", WEB + FQDN)
        + cilium_policy("dns", "  endpointSelector: {}\n  egress:\n" + DNS_VISIBILITY, None, CCNP),
        [],
    ),
    (
        "DNS visibility for other pods",
        cilium_policy("web", WEB + FQDN)
        + cilium_policy(
            "dns", "  endpointSelector: {matchLabels: {app: api}}\n  egress:\n" + DNS_VISIBILITY
        ),
        [("cilium-fqdn-without-dns-proxy", "warning", "spec.egress[0].toFQDNs", FQDN_MESSAGE)],
    ),
    (
        "DNS allowed at L4 only",
        cilium_policy(
            "web",
            WEB
            + FQDN
            + DNS_VISIBILITY.replace('          rules: {dns: [{matchPattern: "*"}]}\n', ""),
        ),
        [("cilium-fqdn-without-dns-proxy", "warning", "spec.egress[0].toFQDNs", FQDN_MESSAGE)],
    ),
]

TABLE = EMPTY_RULE + CIDR + NOT_NODES + ALLOW_DENIED + L7_VOID + FQDN_CASES


@pytest.mark.parametrize(("name", "text", "expected"), TABLE, ids=[row[0] for row in TABLE])
def test_cilium_check(name: str, text: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert seen(text) == expected


def test_a_finding_points_at_the_line_of_its_field() -> None:
    text = cilium_policy(
        "web", WEB + "  egress:\n    - toEndpoints: [{}]\n    - toCIDR:\n        - 10.0.0.0/8\n"
    )
    [finding] = findings(text)
    lines = (BASE + text).splitlines()
    assert lines[finding.line - 1] == "        - 10.0.0.0/8"
    assert finding.obj == "CiliumNetworkPolicy/x/web" and finding.path == "test.yaml"


def test_sarif_carries_the_cilium_rule_and_its_line() -> None:
    options = Options(implicit_dns=False)
    text = cilium_policy("web", WEB + "  ingress:\n    - {}\n")
    cc = compile_cluster(cluster_from_yaml(BASE + text, options), options)
    report = run_checks(cc, CHECKS)
    sarif = json.loads(lint_sarif(report, CHECKS))
    run = sarif["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    [result] = [r for r in run["results"] if r["ruleId"] == "cilium-empty-rule"]
    assert "cilium-empty-rule" in rule_ids
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (BASE + text).splitlines()[region["startLine"] - 1] == "    - {}"


def selector(**labels: str) -> frozenset[tuple[str, str, tuple[str, ...]]]:
    return requirements(LabelSelector.of(labels))


@pytest.mark.parametrize(
    ("big", "small", "covers"),
    [
        (LabelSelector(), LabelSelector.of({"app": "a"}), True),
        (LabelSelector.of({"app": "a"}), LabelSelector(), False),
        (LabelSelector.of({"k8s:app": "a"}), LabelSelector.of({"any:app": "a", "v": "1"}), True),
        (LabelSelector.of({"app": "a", "v": "1"}), LabelSelector.of({"app": "a"}), False),
        (
            LabelSelector(match_expressions=(Requirement("app", "In", ("a", "b")),)),
            LabelSelector.of({"app": "a"}),
            True,
        ),
        (
            LabelSelector(match_expressions=(Requirement("app", "Exists"),)),
            LabelSelector.of({"app": "a"}),
            True,
        ),
        (
            LabelSelector(match_expressions=(Requirement("app", "NotIn", ("b",)),)),
            LabelSelector.of({"app": "a"}),
            True,
        ),
        (
            LabelSelector(match_expressions=(Requirement("app", "NotIn", ("a",)),)),
            LabelSelector.of({"app": "a"}),
            False,
        ),
        (
            LabelSelector(match_expressions=(Requirement("app", "In", ("a",)),)),
            LabelSelector(match_expressions=(Requirement("app", "In", ("a", "b")),)),
            False,
        ),
        (
            LabelSelector(match_expressions=(Requirement("app", "DoesNotExist"),)),
            LabelSelector(match_expressions=(Requirement("app", "NotIn", ("a",)),)),
            False,
        ),
    ],
)
def test_selector_cover(big: LabelSelector, small: LabelSelector, covers: bool) -> None:
    assert selector_covers(requirements(big), requirements(small)) is covers


def items(*ports: tuple[str, str, int | None]) -> Ports:
    return Ports(False, cilium_port_items(iter(ports)))


@pytest.mark.parametrize(
    ("big", "small", "covers"),
    [
        (Ports(True), items(("80", "TCP", None)), True),
        (items(("80", "TCP", None)), Ports(True), False),
        (items(("0", "ANY", None)), items(("80", "UDP", None)), True),
        (items(("80", "TCP", None)), items(("80", "ANY", None)), False),
        (
            items(("80", "TCP", None), ("80", "UDP", None), ("80", "SCTP", None)),
            items(("80", "ANY", None)),
            True,
        ),
        (items(("8000", "TCP", 8100)), items(("8080", "TCP", None)), True),
        (items(("8000", "TCP", 8100)), items(("8080", "TCP", 8200)), False),
        (items(("8000", "TCP", 7000)), items(("8001", "TCP", None)), False),  # endPort <= port
        (items(("HTTP", "TCP", None)), items(("http", "TCP", None)), True),
        (items(("http", "TCP", None)), items(("80", "TCP", None)), False),
        (Ports(False, (), frozenset({"8"})), Ports(False, (), frozenset({"8", "0"})), False),
    ],
)
def test_port_cover(big: Ports, small: Ports, covers: bool) -> None:
    assert small.within(big) is covers


def cidr(text: str, *excepts: str) -> CIDRRule:
    return CIDRRule(
        cidr=ipaddress.ip_network(text), excepts=tuple(ipaddress.ip_network(e) for e in excepts)
    )


@pytest.mark.parametrize(
    ("big", "small", "covers"),
    [
        (Peers(cidrs=(cidr("10.0.0.0/8"),)), Peers(cidrs=(cidr("10.1.0.0/16"),)), True),
        (Peers(cidrs=(cidr("10.1.0.0/16"),)), Peers(cidrs=(cidr("10.0.0.0/8"),)), False),
        (
            Peers(cidrs=(cidr("10.0.0.0/8", "10.1.0.0/16"),)),
            Peers(cidrs=(cidr("10.1.2.0/24"),)),
            False,
        ),
        (
            Peers(cidrs=(cidr("10.0.0.0/8", "10.1.2.0/24"),)),
            Peers(cidrs=(cidr("10.1.0.0/16", "10.1.0.0/20", "10.1.2.0/23"),)),
            True,
        ),
        (Peers(cidrs=(cidr("::/0"),)), Peers(cidrs=(cidr("10.0.0.0/8"),)), False),
        (Peers(entities=frozenset({"world"})), Peers(fqdns=frozenset({"a.example"})), True),
        (
            Peers(entities=frozenset({"cluster"})),
            Peers(entities=frozenset({"host", "remote-node"})),
            True,
        ),
        (Peers(entities=frozenset({"cluster"})), Peers(entities=frozenset({"world"})), False),
        (Peers(entities=frozenset({"cluster"})), Peers(selectors=(selector(app="a"),)), True),
        (
            Peers(entities=frozenset({"cluster"})),
            Peers(selectors=(selector(**{"reserved:host": ""}),)),
            False,
        ),
        (Peers(selectors=(selector(app="a"),)), Peers(opaque=True), False),
        (Peers(every=True), Peers(opaque=True), True),
    ],
)
def test_peer_cover(big: Peers, small: Peers, covers: bool) -> None:
    assert small.within(big) is covers


def test_a_port_item_spreads_any_over_the_three_protocols() -> None:
    assert cilium_port_items(iter([("53", "ANY", None)])) == (
        PortItem("TCP", 53, 53),
        PortItem("UDP", 53, 53),
        PortItem("SCTP", 53, 53),
    )


LABELS = st.sampled_from(["app", "tier", "io.kubernetes.pod.namespace"])
VALUES = st.sampled_from(["a", "b"])
REQUIREMENT = st.one_of(
    st.builds(lambda k, v: Requirement(k, "In", (v,)), LABELS, VALUES),
    st.builds(lambda k: Requirement(k, "In", ("a", "b")), LABELS),
    st.builds(lambda k: Requirement(k, "Exists"), LABELS),
    st.builds(lambda k, v: Requirement(k, "NotIn", (v,)), LABELS, VALUES),
)
SUBJECT = st.lists(REQUIREMENT, max_size=3).map(
    lambda rs: requirements(LabelSelector(match_expressions=tuple(rs)))
)


def grant(subject: frozenset[tuple[str, str, tuple[str, ...]]], name: str) -> Grant:
    return Grant(
        label=name,
        obj=name,
        policy_id=name,
        source=Source("test.yaml"),
        field="spec.ingress[0]",
        direction="Ingress",
        deny=True,
        subject=subject,
        peers=Peers(every=True),
        ports=Ports(True),
        l4_ports=Ports(True),
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(SUBJECT, max_size=8), SUBJECT)
def test_the_subject_index_finds_what_comparing_every_pair_finds(
    filed: list[frozenset[tuple[str, str, tuple[str, ...]]]],
    asking: frozenset[tuple[str, str, tuple[str, ...]]],
) -> None:
    grants = [grant(s, f"g{i}") for i, s in enumerate(filed)]
    me = grant(asking, "me")
    found = [g.label for g in SubjectIndex(grants).covering(me)]
    assert found == [g.label for g in grants if selector_covers(g.subject, asking)]


def isolation(text: str) -> list[str]:
    options = Options(implicit_dns=False)
    cc = compile_cluster(cluster_from_yaml(BASE + text, options), options)
    wanted = ("pods-not-isolated", "namespace-without-default-deny")
    return [f.message for f in run_checks(cc, CHECKS).findings if f.check in wanted]


def test_a_cilium_rule_isolates_like_a_network_policy() -> None:
    web_only = cilium_policy("web", WEB + "  ingress:\n    - fromEntities: [all]\n")
    assert isolation(web_only) == [
        "x/api: not ingress-isolated, while 1 other pod(s) of x are",
        "namespace x has no default-deny for ingress and egress",
        "namespace z has no default-deny for ingress and egress",
    ]
    whole_x = cilium_policy(
        "all", "  endpointSelector: {}\n  ingress: [{fromEntities: [cluster]}]\n"
    )
    assert isolation(whole_x) == [
        "namespace x has no default-deny for egress",
        "namespace z has no default-deny for ingress and egress",
    ]
    not_isolating = whole_x.replace("spec:\n", "spec:\n  enableDefaultDeny: {ingress: false}\n")
    assert isolation(not_isolating) == [
        "namespace x has no default-deny for ingress and egress",
        "namespace z has no default-deny for ingress and egress",
    ]


PITFALLS = Path(__file__).resolve().parents[2] / "examples" / "three-tier-cilium-pitfalls"
PLANTED = {
    "10-pitfall-empty-ingress-rule.yaml": "cilium-empty-rule",
    "11-pitfall-cidr-to-pods.yaml": "cilium-cidr-selects-pods",
    "12-pitfall-ccnp-empty-selector-for-nodes.yaml": "cilium-endpoints-not-nodes",
    "13-pitfall-allow-shadowed-by-deny.yaml": "cilium-allow-denied",
    "14-pitfall-l7-on-a-port-open-at-l4.yaml": "cilium-l7-void",
    "15-pitfall-policytypes-ignored.yaml": "cilium-policy-types-enforced",
    "16-pitfall-fqdn-without-dns-visibility.yaml": "cilium-fqdn-without-dns-proxy",
}


@pytest.mark.skipif(not PITFALLS.is_dir(), reason="examples/three-tier-cilium-pitfalls not merged")
def test_each_planted_pitfall_is_flagged_by_its_check() -> None:
    options = Options()
    result = load_cluster([str(PITFALLS)], options)
    assert result.ok, [d.one_line() for d in result.diagnostics]
    findings = run_checks(compile_cluster(result.cluster, options), CHECKS).findings
    flagged = {(Path(f.path).name, f.check) for f in findings if f.check.startswith("cilium-")}
    assert flagged == set(PLANTED.items())
