"""diff on small hand-made clusters, asserting the printed report exactly: which side an
endpoint exists on, the mixed marker of a group pair on each side, and the external
block whose first addresses are all pods (each case once let a mutation of
analysis/diff.py pass every test)."""

from __future__ import annotations

from tests.conftest import cluster_from_yaml

from netpol.analysis.diff import diff
from netpol.analysis.lint_examples import policy
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options
from netpol.render.diff import diff_text


def namespaces(*names: str) -> str:
    return "".join(
        f"---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {n}}}\n" for n in names
    )


def pod(name: str, ip: str, namespace: str = "x") -> str:
    return f"""\
---
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {{app: {name}}}}}
spec: {{containers: [{{name: c, image: i, ports: [{{containerPort: 80}}]}}]}}
status: {{podIP: {ip}}}
"""


def diff_report(old: str, new: str, granularity: str, **kwargs: object) -> str:
    options = Options(implicit_dns=False)
    report = diff(
        compile_cluster(cluster_from_yaml(old, options), options),
        compile_cluster(cluster_from_yaml(new, options), options),
        granularity,
        **kwargs,  # type: ignore[arg-type]
    )
    return diff_text(report)


def only_from_a(namespace: str, peer: str) -> str:
    """A NetworkPolicy isolating every pod of ``namespace``: ingress from ``peer`` on TCP 80."""
    body = f"  podSelector: {{}}\n  ingress: [{{from: [{peer}], ports: [{{port: 80}}]}}]\n"
    return policy("only-a", body, namespace)


ONLY_FROM_A = only_from_a("x", "{podSelector: {matchLabels: {app: a}}}")


def test_a_replaced_pod_is_listed_on_its_own_side_with_the_evidence_of_that_side() -> None:
    """b exists only in v1, c only in v2: each pair has evidence on its side alone."""
    shared = namespaces("x") + pod("a", "10.0.0.1")
    text = diff_report(
        shared + pod("b", "10.0.0.2") + ONLY_FROM_A,
        shared + pod("c", "10.0.0.3") + ONLY_FROM_A,
        "pod",
        evidence=True,
        old_label="v1",
        new_label="v2",
    )
    allowed_to = """\
    x/a (10.0.0.1) -> x/{0} (10.0.0.{1}) port 80/TCP: ALLOWED
      Egress from x/a (10.0.0.1): allowed
        no NetworkPolicy selects it for egress: everything allowed
      Ingress to x/{0} (10.0.0.{1}): allowed
        isolated by: x/only-a
        allowed by x/only-a ingress[0]: from[0] podSelector app=a; ports 80/TCP"""
    assert text == "\n".join(
        [
            "CHANGE    SOURCE   DESTINATION   BEFORE   AFTER    LOST     KEPT   GAINED",
            "removed   x/a      x/b           TCP 80   -        TCP 80   -      -",
            "added     x/a      x/c           -        TCP 80   -        -      TCP 80",
            "",
            "only in v1: x/b",
            "only in v2: x/c",
            "",
            "removed x/a -> x/b:",
            "  v1:",
            allowed_to.format("b", 2),
            "  v2: (no such pair)",
            "",
            "added x/a -> x/c:",
            "  v1: (no such pair)",
            "  v2:",
            allowed_to.format("c", 3),
            "",
            "2 pod pairs differ: 1 added, 1 removed, 0 changed (v1 -> v2)",
        ]
    )


ONLY_FROM_A_TO_Z = only_from_a("z", "{namespaceSelector: {}, podSelector: {matchLabels: {app: a}}}")
A_AND_B_TO_D = namespaces("x", "z") + pod("a", "10.0.0.1") + pod("b", "10.0.0.2")
A_AND_B_TO_D += pod("d", "10.0.1.1", "z")


MIXED_NOTE = "* the pods of this namespace pair do not all agree; the set shown is their union"


def test_the_mixed_marker_stays_on_the_side_where_the_pods_disagree() -> None:
    """With only-a, x -> z is TCP 80 for a and nothing for b: mixed after, not before."""
    assert (
        diff_report(A_AND_B_TO_D, A_AND_B_TO_D + ONLY_FROM_A_TO_Z, "namespace")
        == f"""\
CHANGE    SOURCE   DESTINATION   BEFORE   AFTER     LOST                                         KEPT     GAINED
changed   x        z             all      TCP 80*   TCP 1-79,81-65535,UDP 1-65535,SCTP 1-65535   TCP 80   -

{MIXED_NOTE}

1 namespace pairs differ: 0 added, 0 removed, 1 changed (old -> new)"""
    )
    assert (
        diff_report(A_AND_B_TO_D + ONLY_FROM_A_TO_Z, A_AND_B_TO_D, "namespace")
        == f"""\
CHANGE    SOURCE   DESTINATION   BEFORE    AFTER   LOST   KEPT     GAINED
changed   x        z             TCP 80*   all     -      TCP 80   TCP 1-79,81-65535,UDP 1-65535,SCTP 1-65535

{MIXED_NOTE}

1 namespace pairs differ: 0 added, 0 removed, 1 changed (old -> new)"""
    )


def client_egress_to_block(port: int) -> str:
    return f"""\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: out, namespace: c}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress: [{{to: [{{ipBlock: {{cidr: 10.1.0.0/24}}}}], ports: [{{port: {port}}}]}}]
"""


def block_change(pods_at_start: int) -> str:
    """c's egress to 10.1.0.0/24 moves from 443 to 8443; the block's first addresses
    10.1.0.0, 10.1.0.1, ... are pods of x."""
    cluster = namespaces("x", "c") + pod("client", "10.2.0.1", "c")
    cluster += "".join(pod(f"p{i}", f"10.1.0.{i}") for i in range(pods_at_start))
    return diff_report(
        cluster + client_egress_to_block(443),
        cluster + client_egress_to_block(8443),
        "namespace",
        include_external=True,
    )


BLOCK_CHANGE = """\
CHANGE    SOURCE   DESTINATION            BEFORE    AFTER      LOST      KEPT   GAINED
changed   c        x                      TCP 443   TCP 8443   TCP 443   -      TCP 8443
changed   c        external:10.1.0.0/24   TCP 443   TCP 8443   TCP 443   -      TCP 8443

2 namespace pairs differ: 0 added, 0 removed, 2 changed (old -> new)"""


def test_an_external_block_is_diffed_when_its_first_65_addresses_are_pods() -> None:
    assert block_change(65) == BLOCK_CHANGE


def test_an_external_block_is_diffed_however_many_of_its_first_addresses_are_pods() -> None:
    """10.1.0.66 and up are outside addresses: their change is reported (the search for a
    free address once stopped after 66 tries and dropped the block silently)."""
    assert block_change(66) == BLOCK_CHANGE
    assert block_change(70) == BLOCK_CHANGE
