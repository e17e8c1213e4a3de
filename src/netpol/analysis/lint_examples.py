"""A failing and a passing manifest for every lint check, on one small shared cluster.

docs/lint.md shows them and tests/analysis/test_lint_checks.py runs them: each check
must fire on its ``bad`` manifest and stay silent on its ``good`` one. ``pitfalls``
ties a case to the items of spec section 7 ("Common pitfalls") it demonstrates.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = """\
apiVersion: v1
kind: Namespace
metadata: {name: x}
---
apiVersion: v1
kind: Namespace
metadata: {name: z, labels: {team: z}}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec:
  containers:
    - name: coredns
      image: coredns
      ports:
        - {name: dns, containerPort: 53, protocol: UDP}
        - {name: dns-tcp, containerPort: 53, protocol: TCP}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: x, labels: {app: web}}
spec:
  containers:
    - name: web
      image: nginx
      ports: [{name: http, containerPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: x, labels: {app: api}}
spec:
  containers:
    - name: api
      image: api
      ports:
        - {containerPort: 5678}
        - {name: syslog, containerPort: 514, protocol: UDP}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: z, labels: {app: client}}
spec:
  containers: [{name: client, image: curl}]
---
apiVersion: v1
kind: Service
metadata: {name: web-svc, namespace: x}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
"""

DNS_RULE = """\
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
"""

DUAL_STACK_POD = """\
---
apiVersion: v1
kind: Pod
metadata: {name: dual, namespace: x, labels: {app: dual}}
spec:
  containers: [{name: dual, image: app}]
status:
  podIPs: [{ip: 10.244.99.9}, {ip: "fd00:10:244::9"}]
"""


def policy(name: str, body: str, namespace: str = "x") -> str:
    """A NetworkPolicy document; ``body`` is the spec, indented by two spaces."""
    return (
        f"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n{body}"
    )


def admin_policy(name: str, body: str, kind: str = "AdminNetworkPolicy") -> str:
    """An AdminNetworkPolicy (or BaselineAdminNetworkPolicy) document; ``body`` is its spec."""
    return (
        f"---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: {kind}\n"
        f"metadata: {{name: {name}}}\nspec:\n{body}"
    )


X_SUBJECT = "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: x}}}\n"
Y_SUBJECT = "  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: z}}}\n"


ALLOW_Y_AT_5 = admin_policy(
    "allow-z",
    "  priority: 5\n"
    + X_SUBJECT
    + "  ingress:\n    - {action: Allow, from: [{namespaces: {matchLabels: {team: z}}}]}\n",
)


CALICO_PASS_ALL = """\
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: {tier}.log-then-pass}}
spec:
  tier: {tier}
  order: {order}
  selector: all()
  types: [Ingress]
  ingress: [{{action: Log}}, {{action: Pass}}]
"""
CALICO_TIER = """\
---
apiVersion: projectcalico.org/v3
kind: Tier
metadata: {name: security}
spec: {order: 100, defaultAction: Pass}
"""


@dataclass(frozen=True)
class Case:
    check: str
    bad: str  # added to BASE: the check fires
    good: str  # added to BASE: the check is silent
    pitfalls: tuple[int, ...] = ()  # spec section 7 items demonstrated
    name: str = ""
    profile: str = ""  # run under this profile (`--profile cilium`); "" = the default

    @property
    def title(self) -> str:
        return self.name or self.check


CASES: tuple[Case, ...] = (
    Case(
        "peers-or-likely-and",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: z}}
        - podSelector: {matchLabels: {app: client}}
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {team: z}}
          podSelector: {matchLabels: {app: client}}
""",
        ),
        (1,),
    ),
    Case(
        "peer-and-likely-or",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}
          podSelector: {matchLabels: {app: client}}
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}
          podSelector: {matchLabels: {app: client}}
""",
        ),
        (1,),
    ),
    Case(
        "dns-egress-missing",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 5678}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 5678}]
"""
            + DNS_RULE,
        ),
        (2,),
    ),
    Case(
        "dns-one-protocol",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{protocol: UDP, port: 53}]
""",
        ),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n"
            + DNS_RULE,
        ),
        (2,),
    ),
    Case(
        "dns-whole-namespace",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
      ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
""",
        ),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n"
            + DNS_RULE,
        ),
        (2,),
    ),
    Case(
        "egress-deny-all",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n"),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n"
            + DNS_RULE,
        ),
        (3,),
    ),
    Case(
        "egress-implies-ingress",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  egress:\n" + DNS_RULE),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress:\n"
            + DNS_RULE,
        ),
        (4,),
    ),
    Case(
        "rules-ignored",
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n  egress:\n"
            + DNS_RULE,
        ),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress, Egress]\n  egress:\n"
            + DNS_RULE,
        ),
    ),
    Case(
        "egress-empty-not-isolating",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  egress: []\n"),
        policy(
            "web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress, Egress]\n"
        ),
        (5,),
    ),
    Case(
        "policy-selects-nothing",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n", "z"),
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n", "x"),
        (8,),
        "policy-selects-nothing (wrong namespace)",
    ),
    Case(
        "peer-selects-nothing",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: frontend}}}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}]
""",
        ),
    ),
    Case(
        "namespace-label-missing",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {name: z}}}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: z}}}]
""",
        ),
        (7,),
    ),
    Case(
        "namespace-selector-all",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {}}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: z}}}]
""",
        ),
        (12,),
    ),
    Case(
        "named-port-undefined",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: metrics}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: http}]
""",
        ),
        (9,),
    ),
    Case(
        "named-port-undefined",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{port: dns}, {port: dns-tcp}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to:
        - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
          podSelector: {matchLabels: {k8s-app: kube-dns}}
      ports: [{port: dns, protocol: UDP}, {port: dns-tcp}]
""",
        ),
        (14,),
        "named-port-undefined (protocol omitted on a UDP name)",
    ),
    Case(
        "port-is-service-port",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 80}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 8080}]
""",
        ),
        (10,),
    ),
    Case(
        "port-protocol-mismatch",
        policy(
            "api",
            """\
  podSelector: {matchLabels: {app: api}}
  ingress:
    - ports: [{port: 514}]
""",
        ),
        policy(
            "api",
            """\
  podSelector: {matchLabels: {app: api}}
  ingress:
    - ports: [{port: 514, protocol: UDP}]
""",
        ),
        (13, 14),
    ),
    Case(
        "port-all-tcp",
        policy(
            "api",
            """\
  podSelector: {matchLabels: {app: api}}
  ingress:
    - ports: [{}]
""",
        ),
        policy(
            "api",
            """\
  podSelector: {matchLabels: {app: api}}
  ingress:
    - {}
""",
        ),
        (13,),
    ),
    Case(
        "ipblock-covers-pods",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 10.244.0.0/16}}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
    - to: [{ipBlock: {cidr: 203.0.113.0/24}}]
""",
        ),
        (11,),
    ),
    Case(
        "ipv4-any-without-ipv6",
        DUAL_STACK_POD
        + policy(
            "dual",
            """\
  podSelector: {matchLabels: {app: dual}}
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
""",
        ),
        DUAL_STACK_POD
        + policy(
            "dual",
            """\
  podSelector: {matchLabels: {app: dual}}
  ingress:
    - from: [{ipBlock: {cidr: 0.0.0.0/0}}, {ipBlock: {cidr: "::/0"}}]
""",
        ),
        (15,),
    ),
    Case(
        "pods-not-isolated",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
        policy("all", "  podSelector: {}\n  policyTypes: [Ingress]\n"),
        (6,),
    ),
    Case(
        "namespace-without-default-deny",
        policy("web", "  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Ingress]\n"),
        policy("deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n")
        + policy("deny", "  podSelector: {}\n  policyTypes: [Ingress, Egress]\n", "z"),
        (6,),
    ),
    Case(
        "redundant-rule",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: z}}}]
      ports: [{port: 8080}]
    - from: [{podSelector: {matchLabels: {app: client}}, namespaceSelector: {matchLabels: {team: z}}}]
      ports: [{port: 8080}]
""",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{namespaceSelector: {matchLabels: {team: z}}}]
      ports: [{port: 8080}]
    - from: [{podSelector: {matchLabels: {app: api}}}]
      ports: [{port: 8080}]
""",
        ),
    ),
    Case(
        "redundant-policy",
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - ports: [{port: 8080}]\n",
        )
        + policy(
            "web-again",
            "  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - ports: [{port: 8080}]\n",
        ),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - ports: [{port: 8080}]\n",
        )
        + policy(
            "web-admin",
            "  podSelector: {matchLabels: {app: web}}\n  ingress:\n    - ports: [{port: 9090}]\n",
        ),
    ),
    Case(
        "service-port-unreachable",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 9999}]
""",
        )
        + policy(
            "client",
            """\
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 8080}]
""",
            "z",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - ports: [{port: 8080}]
""",
        )
        + policy(
            "client",
            """\
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 8080}]
""",
            "z",
        ),
        (10,),
    ),
    Case(
        "one-sided-flow",
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}]
""",
        )
        + policy(
            "client",
            """\
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 8080}]
""",
            "z",
        ),
        policy(
            "web",
            """\
  podSelector: {matchLabels: {app: web}}
  ingress:
    - from: [{podSelector: {matchLabels: {app: api}}}, {namespaceSelector: {matchLabels: {team: z}}, podSelector: {matchLabels: {app: client}}}]
""",
        )
        + policy(
            "client",
            """\
  podSelector: {matchLabels: {app: client}}
  policyTypes: [Egress]
  egress:
    - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: x}}, podSelector: {matchLabels: {app: web}}}]
      ports: [{port: 8080}]
""",
            "z",
        ),
    ),
    Case(
        "tier-rule-shadowed",
        admin_policy(
            "x-ingress",
            "  priority: 10\n"
            + X_SUBJECT
            + """\
  ingress:
    - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
    - {name: allow-z, action: Allow, from: [{namespaces: {matchLabels: {team: z}}}]}
""",
        ),
        admin_policy(
            "x-ingress",
            "  priority: 10\n"
            + X_SUBJECT
            + """\
  ingress:
    - {name: allow-z, action: Allow, from: [{namespaces: {matchLabels: {team: z}}}]}
    - {name: deny-all, action: Deny, from: [{namespaces: {}}]}
""",
        ),
    ),
    Case(
        "tier-pass-to-nothing",
        admin_policy(
            "z-ingress",
            "  priority: 10\n"
            + Y_SUBJECT
            + "  ingress:\n    - {name: to-owners, action: Pass, from: [{namespaces: {}}]}\n",
        ),
        admin_policy(
            "z-ingress",
            "  priority: 10\n"
            + Y_SUBJECT
            + "  ingress:\n    - {name: to-owners, action: Pass, from: [{namespaces: {}}]}\n",
        )
        + admin_policy(
            "default",
            Y_SUBJECT + "  ingress:\n    - {action: Deny, from: [{namespaces: {}}]}\n",
            "BaselineAdminNetworkPolicy",
        ),
    ),
    Case(
        "admin-priority-tie",
        ALLOW_Y_AT_5
        + admin_policy(
            "deny-all",
            "  priority: 5\n"
            + X_SUBJECT
            + "  ingress:\n    - {action: Deny, from: [{namespaces: {}}]}\n",
        ),
        ALLOW_Y_AT_5
        + admin_policy(
            "deny-all",
            "  priority: 6\n"
            + X_SUBJECT
            + "  ingress:\n    - {action: Deny, from: [{namespaces: {}}]}\n",
        ),
    ),
    Case(
        "pass-skips-network-policies",
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n"
            "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n",
        )
        + CALICO_PASS_ALL.format(tier="default", order=100),
        policy(
            "web",
            "  podSelector: {matchLabels: {app: web}}\n"
            "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n",
        )
        + CALICO_TIER
        + CALICO_PASS_ALL.format(tier="security", order=100),
    ),
)
