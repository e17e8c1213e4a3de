"""``describe`` of one Cilium entry at a time: every peer kind, the empty and absent peer
lists Cilium tells apart (docs/cilium.md "Empty lists"), ports, ICMP, L7 and
authentication, each in the words a user reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from netpol.engine.cilium_describe import describe_cilium
from netpol.model.options import Options
from netpol.render.cilium_describe import cilium_text
from netpol.validate.pipeline import load_cluster

GROUP = """
---
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: partners, labels: {team: partners}}
spec: {externalCIDRs: [203.0.113.0/24]}
"""


def entry_lines(tmp_path: Path, kind: str, section: str, entry: str) -> list[str]:
    """The lines describing ``entry`` (YAML flow) as the only entry of a CNP in ns ``shop``
    or of a CCNP."""
    namespace = "\n  namespace: shop" if kind == "CiliumNetworkPolicy" else ""
    (tmp_path / "p.yaml").write_text(
        f"apiVersion: cilium.io/v2\nkind: {kind}\nmetadata:\n  name: p{namespace}\n"
        f"spec:\n  endpointSelector: {{}}\n  {section}:\n    - {entry}\n" + GROUP
    )
    result = load_cluster([str(tmp_path)], Options())
    assert result.ok, [d.one_line() for d in result.errors]
    [policy] = result.cluster.cilium_policies
    lines = cilium_text(describe_cilium(result.cluster, policy)).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {section}[0]: "))
    return [line.strip() for line in lines[start:]]


CNP, CCNP = "CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"
ANY = "ports:  any port, any protocol"


@pytest.mark.parametrize(
    ("kind", "section", "entry", "expected"),
    [
        (
            CNP,
            "ingress",
            "{fromEndpoints: [{}]}",
            ["ingress[0]: allow", "from:   endpoints <all> (pods of shop)", ANY],
        ),
        (
            CCNP,
            "ingress",
            "{fromEndpoints: [{}]}",
            ["ingress[0]: allow", "from:   endpoints <all> (pods of every namespace)", ANY],
        ),
        (
            CNP,
            "egress",
            "{toEndpoints: [{matchLabels: {'io.kubernetes.pod.namespace': kube-system}}]}",
            [
                "egress[0]: allow",
                "to:     endpoints io.kubernetes.pod.namespace=kube-system (the namespaces it names)",
                ANY,
            ],
        ),
        (
            CNP,
            "ingress",
            "{fromEndpoints: [{matchLabels: {'reserved:host': ''}}]}",
            ["ingress[0]: allow", "from:   endpoints reserved:host= (reserved identities)", ANY],
        ),
        (
            CNP,
            "ingress",
            "{fromEndpoints: [{matchLabels: {'io.cilium.k8s.namespace.labels.team': a}}]}",
            [
                "ingress[0]: allow",
                "from:   endpoints io.cilium.k8s.namespace.labels.team=a (pods of the namespaces "
                "whose labels match)",
                ANY,
            ],
        ),
        # present and empty: matches nothing; absent with ports: every peer; {}: nothing
        (
            CNP,
            "ingress",
            "{fromEndpoints: [], toPorts: [{ports: [{port: '80'}]}]}",
            [
                "ingress[0]: allow",
                "from:   nothing (fromEndpoints is an empty list: the entry matches nothing)",
            ],
        ),
        (
            CNP,
            "ingress",
            "{toPorts: [{ports: [{port: '80', protocol: TCP}]}]}",
            [
                "ingress[0]: allow",
                "from:   every peer (no peer field: world, host and all pods)",
                "ports:  80/TCP",
            ],
        ),
        (
            CNP,
            "ingress",
            "{}",
            ["ingress[0]: allow", "from:   nothing (an empty entry matches no traffic)"],
        ),
        # one L3 kind per item: Cilium's agent refuses an item that combines two
        (
            CNP,
            "egressDeny",
            "{toEntities: [world, host]}",
            ["egressDeny[0]: deny", "to:     entities world, host", ANY],
        ),
        (
            CNP,
            "egressDeny",
            "{toCIDR: [10.0.0.0/8]}",
            ["egressDeny[0]: deny", "to:     CIDR 10.0.0.0/8 (addresses outside the cluster)", ANY],
        ),
        (
            CNP,
            "egress",
            "{toCIDRSet: [{cidrGroupSelector: {matchLabels: {team: partners}}}, "
            "{cidrGroupRef: gone}]}",
            [
                "egress[0]: allow",
                "to:     cidrGroupSelector team=partners (203.0.113.0/24) (addresses outside "
                "the cluster)",
                "to:     cidrGroupRef gone: no such CIDR group, matches no address",
                ANY,
            ],
        ),
        (
            CNP,
            "egress",
            "{toServices: [{k8sService: {serviceName: db}}, {k8sServiceSelector: "
            "{selector: {matchLabels: {a: b}}, namespace: shop}}]}",
            ["egress[0]: allow", "to:     service */db", "to:     services shop/{a=b}", ANY],
        ),
        (
            CNP,
            "egress",
            "{toFQDNs: [{matchPattern: '*.example.com'}], toPorts: [{ports: [{port: '443', "
            "protocol: TCP}], rules: {http: [{}]}}], authentication: {mode: required}}",
            [
                "egress[0]: allow",
                "to:     FQDN *.example.com (depends on DNS)",
                "ports:  443/TCP",
                "L7:     http (Cilium's proxy filters the requests; the connection is allowed "
                "at L4)",
                "auth:   required (dropped until mutual authentication succeeds)",
            ],
        ),
        (
            CNP,
            "ingress",
            "{fromEntities: [cluster], toPorts: [{ports: [{port: '0', protocol: UDP}, "
            "{port: http}, {port: '8000', endPort: 8080, protocol: TCP}]}]}",
            [
                "ingress[0]: allow",
                "from:   entities cluster",
                "ports:  every port/UDP, http (TCP, UDP, SCTP), 8000-8080/TCP",
            ],
        ),
        (
            CNP,
            "ingress",
            "{fromEntities: [world], icmps: [{fields: [{type: 8}, {type: EchoReply}]}]}",
            ["ingress[0]: allow", "from:   entities world", "ports:  ICMP type 8, EchoReply"],
        ),
    ],
)
def test_an_entry_in_words(
    tmp_path: Path, kind: str, section: str, entry: str, expected: list[str]
) -> None:
    assert entry_lines(tmp_path, kind, section, entry) == expected
