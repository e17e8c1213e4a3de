"""A failing and a passing manifest for every Cilium lint check (docs/cilium.md), on the
shared cluster of ``lint_examples`` (namespaces x and z, pods web, api, client, CoreDNS).

Kept apart from the NetworkPolicy cases so each module stays small; docs/lint.md and
tests/analysis/test_lint_checks.py read both lists.
"""

from __future__ import annotations

from netpol.analysis.lint_examples import Case, policy

CNP = "CiliumNetworkPolicy"
CCNP = "CiliumClusterwideNetworkPolicy"


def cilium_policy(name: str, body: str, namespace: str | None = "x", kind: str = CNP) -> str:
    """A CNP (or, with ``namespace=None``, a CCNP) document; ``body`` is its spec."""
    where = f", namespace: {namespace}" if namespace is not None else ""
    return (
        f"---\napiVersion: cilium.io/v2\nkind: {kind}\n"
        f"metadata: {{name: {name}{where}}}\nspec:\n{body}"
    )


WEB = "  endpointSelector: {matchLabels: {app: web}}\n"
FROM_API = "fromEndpoints: [{matchLabels: {app: api}}]"
DNS_VISIBILITY = """\
    - toEndpoints:
        - matchLabels: {k8s:io.kubernetes.pod.namespace: kube-system, k8s-app: kube-dns}
      toPorts:
        - ports: [{port: "53", protocol: ANY}]
          rules: {dns: [{matchPattern: "*"}]}
"""
API_EGRESS = """\
  podSelector: {matchLabels: {app: web}}
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}]
"""

CILIUM_CASES: tuple[Case, ...] = (
    Case(
        "cilium-empty-rule",
        cilium_policy("web", WEB + "  ingress:\n    - {}\n"),
        cilium_policy("web", WEB + "  ingress:\n    - fromEntities: [all]\n"),
    ),
    Case(
        "cilium-cidr-selects-pods",
        cilium_policy("web", WEB + "  egress:\n    - toCIDR: [10.0.0.0/8]\n"),
        cilium_policy(
            "web",
            WEB
            + "  egress:\n    - toEndpoints: [{matchLabels: {app: api}}]\n"
            + "    - toCIDRSet: [{cidr: 10.0.0.0/8, except: [10.244.0.0/16]}]\n",
        ),
    ),
    Case(
        "cilium-endpoints-not-nodes",
        cilium_policy(
            "from-cluster",
            "  endpointSelector: {}\n  ingress:\n    - fromEndpoints: [{}]\n",
            None,
            CCNP,
        ),
        cilium_policy(
            "from-cluster",
            "  endpointSelector: {}\n  ingress:\n    - fromEntities: [cluster]\n",
            None,
            CCNP,
        ),
    ),
    Case(
        "cilium-allow-denied",
        cilium_policy(
            "web",
            WEB
            + "  ingress:\n"
            + f'    - {{{FROM_API}, toPorts: [{{ports: [{{port: "8080"}}]}}]}}\n'
            + f"  ingressDeny:\n    - {FROM_API}\n",
        ),
        cilium_policy(
            "web",
            WEB
            + "  ingress:\n"
            + f'    - {{{FROM_API}, toPorts: [{{ports: [{{port: "8080"}}]}}]}}\n'
            + f'  ingressDeny:\n    - {{{FROM_API}, toPorts: [{{ports: [{{port: "9090"}}]}}]}}\n',
        ),
    ),
    Case(
        "cilium-l7-void",
        cilium_policy(
            "web",
            WEB
            + "  ingress:\n"
            + f"    - {FROM_API}\n"
            + f"    - {FROM_API}\n"
            + "      toPorts:\n"
            + '        - ports: [{port: "8080", protocol: TCP}]\n'
            + '          rules: {http: [{method: GET, path: "/public"}]}\n',
        ),
        cilium_policy(
            "web",
            WEB
            + "  ingress:\n"
            + f'    - {{{FROM_API}, toPorts: [{{ports: [{{port: "9090"}}]}}]}}\n'
            + f"    - {FROM_API}\n"
            + "      toPorts:\n"
            + '        - ports: [{port: "8080", protocol: TCP}]\n'
            + '          rules: {http: [{method: GET, path: "/public"}]}\n',
        ),
    ),
    Case(
        "cilium-policy-types-enforced",
        policy("web", "  policyTypes: [Egress]\n" + API_EGRESS),
        policy("web", "  policyTypes: [Ingress, Egress]\n" + API_EGRESS),
        name="cilium-policy-types-enforced (under --profile cilium, or beside Cilium policies)",
        profile="cilium",
    ),
    Case(
        "cilium-fqdn-without-dns-proxy",
        cilium_policy(
            "web",
            WEB
            + "  egress:\n    - toFQDNs: [{matchName: api.example.com}]\n"
            + '      toPorts: [{ports: [{port: "443", protocol: TCP}]}]\n',
        ),
        cilium_policy(
            "web",
            WEB
            + "  egress:\n    - toFQDNs: [{matchName: api.example.com}]\n"
            + '      toPorts: [{ports: [{port: "443", protocol: TCP}]}]\n'
            + DNS_VISIBILITY,
        ),
    ),
)
