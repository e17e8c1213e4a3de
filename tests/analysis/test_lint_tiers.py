"""The tier checks name the right culprits, and the NetworkPolicy checks see the tiers:
an admin policy that lets a pod reach DNS, or a baseline deny-all, is not reported as
missing."""

from __future__ import annotations

import pytest
from tests.conftest import cluster_from_yaml

from netpol.analysis.checks import CHECKS
from netpol.analysis.lint import Finding, run_checks
from netpol.analysis.lint_examples import BASE, X_SUBJECT, admin_policy, policy
from netpol.engine.compile import compile_cluster
from netpol.model.options import Options


def findings(text: str, check: str) -> list[Finding]:
    options = Options(implicit_dns=False)
    cc = compile_cluster(cluster_from_yaml(BASE + text, options), options)
    return [f for f in run_checks(cc, CHECKS).findings if f.check == check]


METRICS_ALLOW = admin_policy(
    "metrics",
    "  priority: 10\n"
    + X_SUBJECT
    + "  ingress:\n"
    + "    - {name: metrics, action: Allow, from: [{namespaces: {}}],"
    + " ports: [{portNumber: {port: 9100}}]}\n",
)
DENY_Z = admin_policy(
    "deny-z",
    "  priority: 20\n"
    + X_SUBJECT
    + "  ingress:\n"
    + "    - {name: no-z, action: Deny, from: [{namespaces: {matchLabels: {team: z}}}]}\n",
)
WEB_FOR_Z = admin_policy(
    "web-for-z",
    "  priority: 30\n"
    + X_SUBJECT
    + "  ingress:\n"
    + "    - {name: web, action: Allow, from: [{namespaces: {matchLabels: {team: z}}}],"
    + " ports: [{portNumber: {port: 8080}}]}\n",
)


def test_a_shadowed_rule_is_blamed_on_the_rule_that_decided_its_ports_only() -> None:
    [finding] = findings(METRICS_ALLOW + DENY_Z + WEB_FOR_Z, "tier-rule-shadowed")
    assert finding.obj == "AdminNetworkPolicy/web-for-z"
    assert finding.field == "spec.ingress[0]"
    assert 'by AdminNetworkPolicy deny-z ingress[0] "no-z"' in finding.message
    assert "metrics" not in finding.message  # 9100 never meets 8080


def test_the_rule_that_decides_first_is_not_itself_shadowed() -> None:
    assert findings(METRICS_ALLOW + DENY_Z, "tier-rule-shadowed") == []


DEFAULT_DENY_EGRESS = policy("deny-egress", "  podSelector: {}\n  policyTypes: [Egress]\n")
DNS_FOR_ALL = admin_policy(
    "dns",
    """\
  priority: 1
  subject: {namespaces: {}}
  egress:
    - name: dns
      action: Allow
      to: [{pods: {namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
                   podSelector: {matchLabels: {k8s-app: kube-dns}}}}]
      ports: [{portNumber: {protocol: UDP, port: 53}}, {portNumber: {protocol: TCP, port: 53}}]
""",
)


def test_egress_deny_all_is_reported_without_an_admin_dns_rule() -> None:
    [finding] = findings(DEFAULT_DENY_EGRESS, "egress-deny-all")
    assert "DNS included" in finding.message


def test_egress_deny_all_is_silent_when_an_admin_policy_lets_the_pods_reach_dns() -> None:
    assert findings(DEFAULT_DENY_EGRESS + DNS_FOR_ALL, "egress-deny-all") == []


BASELINE_DENY_ALL = admin_policy(
    "default",
    """\
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
  egress: [{action: Deny, to: [{namespaces: {}}]}]
""",
    "BaselineAdminNetworkPolicy",
)


def test_a_baseline_deny_all_counts_as_every_namespace_default_deny() -> None:
    before = findings("", "namespace-without-default-deny")
    assert {f.obj for f in before} >= {"Namespace/x", "Namespace/z"}
    assert findings(BASELINE_DENY_ALL, "namespace-without-default-deny") == []


def test_a_baseline_deny_on_some_ports_is_no_default_deny() -> None:
    partial = BASELINE_DENY_ALL.replace(
        "from: [{namespaces: {}}]}]",
        "from: [{namespaces: {}}], ports: [{portNumber: {port: 22}}]}]",
    )
    messages = [f.message for f in findings(partial, "namespace-without-default-deny")]
    assert any("no default-deny for ingress" in m for m in messages)


SYSLOG_ALLOW = admin_policy(
    "syslog",
    "  priority: 10\n"
    + X_SUBJECT
    + "  ingress:\n"
    + "    - {name: syslog, action: Allow, from: [{namespaces: {}}],"
    + " ports: [{namedPort: syslog}]}\n",
)


def test_a_named_port_rule_is_blamed_only_where_its_name_meets_the_ports() -> None:
    """`syslog` is UDP 514 on the api pod: it never decides TCP 8080."""
    [finding] = findings(SYSLOG_ALLOW + DENY_Z + WEB_FOR_Z, "tier-rule-shadowed")
    assert 'by AdminNetworkPolicy deny-z ingress[0] "no-z"' in finding.message
    assert "syslog" not in finding.message


WEB_ISOLATED = policy(
    "web",
    "  podSelector: {matchLabels: {app: web}}\n"
    "  ingress: [{from: [{podSelector: {matchLabels: {app: api}}}]}]\n",
)


def calico_pass(source: str) -> str:
    return f"""\
---
apiVersion: projectcalico.org/v3
kind: GlobalNetworkPolicy
metadata: {{name: early-pass}}
spec:
  order: 100
  selector: all()
  types: [Ingress]
  ingress: [{{action: Pass, source: {source}}}]
"""


def test_a_calico_pass_before_the_network_policies_is_reported_on_the_pods_it_skips() -> None:
    [finding] = findings(WEB_ISOLATED + calico_pass("{}"), "pass-skips-network-policies")
    assert finding.obj == "GlobalNetworkPolicy/early-pass"
    assert "passes ingress of x/web out of tier default before its NetworkPolicies" in (
        finding.message
    )


def test_a_calico_pass_that_takes_nothing_skips_nothing() -> None:
    nobody = "{namespaceSelector: \"team == 'nobody'\"}"
    assert findings(WEB_ISOLATED + calico_pass(nobody), "pass-skips-network-policies") == []


# Two namespaces whose `web` pods give the named port `web` different numbers: 8080 in a,
# 9090 in b. A named port resolves on the destination (the peer for egress, the subject
# for ingress), so which side is read decides what a rule takes and whom it blames.
def web_pod(namespace: str, ip: str, port: int) -> str:
    return f"""\
---
apiVersion: v1
kind: Namespace
metadata: {{name: {namespace}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: web, namespace: {namespace}, labels: {{app: web}}}}
spec: {{containers: [{{name: web, image: nginx, ports: [{{name: web, containerPort: {port}}}]}}]}}
status: {{podIP: {ip}}}
"""


TWO_WEBS = web_pod("a", "10.0.0.1", 8080) + web_pod("b", "10.0.1.1", 9090)
NAMED_WEB, TCP_8080, TCP_9090 = (
    "namedPort: web",
    "portNumber: {port: 8080}",
    "portNumber: {port: 9090}",
)


def anp(name: str, priority: int, direction: str, action: str, port: str | None) -> str:
    """An admin policy at ``priority``: egress from a to b, or ingress to b from a."""
    subject, peer, peers = ("a", "b", "to") if direction == "egress" else ("b", "a", "from")
    ports = f", ports: [{{{port}}}]" if port else ""
    return admin_policy(
        name,
        f"  priority: {priority}\n"
        f"  subject: {{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {subject}}}}}}}\n"
        f"  {direction}:\n"
        f"    - {{name: {name}, action: {action}, {peers}: "
        f"[{{namespaces: {{matchLabels: {{kubernetes.io/metadata.name: {peer}}}}}}}]{ports}}}\n",
    )


def two_webs_messages(text: str, check: str) -> list[tuple[str, str, str]]:
    options = Options(implicit_dns=False)
    cc = compile_cluster(cluster_from_yaml(TWO_WEBS + text, options), options)
    return [
        (f.obj, f.field, f.message) for f in run_checks(cc, CHECKS).findings if f.check == check
    ]


def shadowed(direction: str, *rules: tuple[str, str, str | None]) -> list[tuple[str, str, str]]:
    """The tier-rule-shadowed findings for ``rules`` (name, action, port), in priority order."""
    text = "".join(
        anp(name, 10 * (i + 1), direction, action, port)
        for i, (name, action, port) in enumerate(rules)
    )
    return two_webs_messages(text, "tier-rule-shadowed")


def shadowed_later(direction: str, blame: str) -> list[tuple[str, str, str]]:
    """The one finding expected: the ANP `later`, decided before it by ``blame``."""
    subject = "a/web" if direction == "egress" else "b/web"
    return [
        (
            "AdminNetworkPolicy/later",
            f"spec.{direction}[0]",
            f'AdminNetworkPolicy later {direction}[0] "later": no connection reaches this '
            f"rule; everything it matches ({direction} of {subject}) is decided before it by "
            f"{blame}",
        )
    ]


@pytest.mark.parametrize("direction", ["egress", "ingress"])
def test_a_named_port_is_read_on_the_destination_when_blaming_an_earlier_rule(
    direction: str,
) -> None:
    """`web` is 9090 on b/web, the destination both ways: a Deny of `web` decides 9090."""
    assert shadowed(
        direction, ("first", "Deny", NAMED_WEB), ("later", "Allow", TCP_9090)
    ) == shadowed_later(direction, "AdminNetworkPolicy first " + direction + '[0] "first"')


@pytest.mark.parametrize("direction", ["egress", "ingress"])
def test_a_later_named_port_is_read_on_the_destination_too(direction: str) -> None:
    assert shadowed(
        direction, ("first", "Deny", TCP_9090), ("later", "Allow", NAMED_WEB)
    ) == shadowed_later(direction, "AdminNetworkPolicy first " + direction + '[0] "first"')


@pytest.mark.parametrize("direction", ["egress", "ingress"])
def test_a_named_port_that_resolves_elsewhere_is_not_blamed(direction: str) -> None:
    """`web` is 8080 only on a/web, the source: the Deny of `web` never decides 8080."""
    assert shadowed(
        direction,
        ("first", "Deny", NAMED_WEB),
        ("second", "Deny", TCP_8080),
        ("later", "Allow", TCP_8080),
    ) == shadowed_later(direction, "AdminNetworkPolicy second " + direction + '[0] "second"')


@pytest.mark.parametrize("direction", ["egress", "ingress"])
def test_a_rule_on_the_port_a_named_port_does_not_take_is_not_shadowed(direction: str) -> None:
    assert shadowed(direction, ("first", "Deny", NAMED_WEB), ("later", "Allow", TCP_8080)) == []
    assert shadowed(direction, ("first", "Deny", TCP_8080), ("later", "Allow", NAMED_WEB)) == []


def tied(name: str, subject: str, *rules: str) -> str:
    """An admin policy at priority 5 for the pods of namespace ``subject`` (every namespace
    when empty); each of ``rules`` is `direction:peer namespace` ("" = every namespace),
    optionally `:port entry`."""

    def namespaces(name: str) -> str:
        return f"{{matchLabels: {{kubernetes.io/metadata.name: {name}}}}}" if name else "{}"

    body = f"  priority: 5\n  subject: {{namespaces: {namespaces(subject)}}}\n"
    for rule in rules:
        direction, peer, *port = rule.split(":", 2)
        peers = "to" if direction == "egress" else "from"
        ports = f", ports: [{{{port[0]}}}]" if port else ""
        body += f"  {direction}:\n"
        body += f"    - {{action: Allow, {peers}: [{{namespaces: {namespaces(peer)}}}]{ports}}}\n"
    return admin_policy(name, body)


def tie(first: str, second: str, direction: str, workloads: str) -> tuple[str, str, str]:
    return (
        f"AdminNetworkPolicy/{second}",
        "spec.priority",
        f"AdminNetworkPolicy/{second} has priority 5 like AdminNetworkPolicy/{first}, and both "
        f"have {direction} rules for {workloads}: the API leaves their order undefined "
        f"(netpol evaluates {first} first, by name)",
    )


# id; p1 and p2 as (subject namespace, rules...) for `tied`; the tie's direction and
# subjects, or None when there is none
TIES: list[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, str] | None]] = [
    ("other subjects, same peers", ("a", "ingress:"), ("b", "ingress:"), None),
    ("same subjects, other peers", ("a", "ingress:a"), ("a", "ingress:b"), None),
    (
        "other subjects both ways",
        ("a", "ingress:b", "egress:a"),
        ("b", "ingress:b", "egress:a"),
        None,
    ),
    ("shared subjects, wider first", ("", "ingress:"), ("a", "ingress:"), ("ingress", "a/web")),
    ("shared subjects, wider second", ("a", "ingress:"), ("", "ingress:"), ("ingress", "a/web")),
    (
        "egress only",
        ("a", "ingress:b", "egress:b"),
        ("a", "ingress:a", "egress:b"),
        ("egress", "a/web"),
    ),
    (
        "both ways: ingress is named",
        ("", "ingress:", "egress:"),
        ("", "ingress:", "egress:"),
        ("ingress", "a/web, b/web"),
    ),
    ("other ports", ("a", f"ingress::{TCP_8080}"), ("a", f"ingress::{TCP_9090}"), None),
    (
        "named port is the number on the subject",
        ("a", f"ingress::{NAMED_WEB}"),
        ("a", f"ingress::{TCP_8080}"),
        ("ingress", "a/web"),
    ),
    (
        "named port is another number on the subject",
        ("b", f"ingress::{NAMED_WEB}"),
        ("b", f"ingress::{TCP_8080}"),
        None,
    ),
    (
        "named port is another number on the peer",
        ("a", f"egress:b:{NAMED_WEB}"),
        ("a", f"egress:b:{TCP_8080}"),
        None,
    ),
]


@pytest.mark.parametrize(("p1", "p2", "found"), [t[1:] for t in TIES], ids=[t[0] for t in TIES])
def test_a_priority_tie_is_reported_where_the_rules_meet(
    p1: tuple[str, ...], p2: tuple[str, ...], found: tuple[str, str] | None
) -> None:
    expected = [tie("p1", "p2", *found)] if found else []
    assert two_webs_messages(tied("p1", *p1) + tied("p2", *p2), "admin-priority-tie") == expected


HOST_AGENT = """---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: kube-system, labels: {app: agent}}
spec:
  hostNetwork: true
  nodeName: kind-worker
  containers:
    - name: agent
      image: agent
      ports: [{name: web, containerPort: 8080}]
"""


def calico_egress(name: str, order: int, rule: str) -> str:
    return (
        "---\napiVersion: projectcalico.org/v3\nkind: GlobalNetworkPolicy\n"
        f"metadata: {{name: {name}}}\nspec:\n  order: {order}\n  selector: app == 'web'\n"
        f"  types: [Egress]\n  egress:\n    - {rule}\n"
    )


def test_a_named_port_is_not_read_on_a_host_network_pods_node() -> None:
    """The agent's port `web` (8080) is its node's traffic: a rule naming `web` matches no
    port there, so it is never blamed for what reaches the node on 8080."""
    text = (
        HOST_AGENT
        + calico_egress("nodes-deny", 1, "{action: Deny, destination: {nets: [0.0.0.0/0]}}")
        + calico_egress(
            "nodes-web",
            2,
            "{action: Deny, protocol: TCP, destination: {nets: [0.0.0.0/0], ports: [web]}}",
        )
        + calico_egress(
            "nodes-8080",
            3,
            "{action: Allow, protocol: TCP, destination: {nets: [0.0.0.0/0], ports: [8080]}}",
        )
    )
    assert [(f.obj, f.message) for f in findings(text, "tier-rule-shadowed")] == [
        (
            "GlobalNetworkPolicy/nodes-web",
            "GlobalNetworkPolicy nodes-web egress[0]: no connection reaches this rule; "
            "everything it matches (egress of x/web) is decided before it by earlier rules",
        ),
        (
            "GlobalNetworkPolicy/nodes-8080",
            "GlobalNetworkPolicy nodes-8080 egress[0]: no connection reaches this rule; "
            "everything it matches (egress of x/web) is decided before it by "
            "GlobalNetworkPolicy nodes-deny egress[0]",
        ),
    ]
