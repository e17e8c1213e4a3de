"""The plans as CiliumNetworkPolicies: ``netpol generate --kind cilium`` (docs/generate.md).

The plans are the ones the NetworkPolicy writer gets; only the words change, where Cilium
reads them differently (Cilium semantics, docs/cilium.md):

- the subject is ``endpointSelector`` (a CNP selects pods of its own namespace only, §3.1);
- a peer selector of a CNP is confined to the policy's namespace unless it names the
  namespace label (§3.2): a peer in another namespace gets
  ``k8s:io.kubernetes.pod.namespace: NS``, a peer in any namespace that key with ``Exists``;
- ipBlocks become ``toCIDR``/``toCIDRSet``: CIDR rules match only ``world`` (§4.2), which
  is what the flows' outside ends mean (pods are reached by their labels, never their IPs);
- ports are strings with their protocol; "every port of a protocol" is port ``"0"`` (§5.1);
- the cluster DNS rule carries a ``dns`` L7 rule (any name) so the queries pass Cilium's DNS
  proxy (what ``toFQDNs`` rules rely on); at L4 it allows like a plain rule (§5.4). Its
  ports stay UDP and TCP: ``ANY`` would open SCTP 53 too, which the flows do not ask for;
- a direction without any rule is closed with ``enableDefaultDeny`` (§1.4) and one entry
  that matches nothing, ``fromEntities: [none]`` / ``toEntities: [none]`` (§4.1): Cilium
  enforces a direction only where a rule has an entry of it (§7.2), and imports a rule
  only with a non-empty section (§9.2). Not ``ingress: [{}]``: it denies just as well
  (§6.2) but reads as the allow-all it is in a NetworkPolicy.
"""

from __future__ import annotations

from netpol.analysis.generate_yaml import (
    PolicyPlan,
    RulePlan,
    manifest_head,
    selector_field,
    selector_lines,
    yaml_scalar,
)
from netpol.model.cilium import CNP_KIND
from netpol.model.objects import METADATA_NAME_LABEL
from netpol.model.policy import IPBlock, Peer, PolicyPort
from netpol.model.selectors import LabelSelector, Requirement

CILIUM_API_VERSION = "cilium.io/v2"
NAMESPACE_KEY = "k8s:io.kubernetes.pod.namespace"
EVERY_PORT = "0"
DNS_RULES = (
    "# any name; the queries go through Cilium's DNS proxy (what toFQDNs rules need)",
    "rules:",
    "  dns:",
    '    - matchPattern: "*"',
)

_INGRESS, _EGRESS = ("ingress", "from"), ("egress", "to")


def peer_selector(peer: Peer) -> LabelSelector:
    """The ``fromEndpoints``/``toEndpoints`` selector for a pod peer of the plans.

    The planner writes two namespace forms only: the one naming a namespace by its
    ``kubernetes.io/metadata.name`` and ``{}`` (every namespace).
    """
    pods = peer.pod_selector or LabelSelector()
    spaces = peer.namespace_selector
    if spaces is None:
        return pods  # the policy's namespace: Cilium adds it (§3.2)
    if spaces.is_empty:
        every = Requirement(NAMESPACE_KEY, "Exists")
        return LabelSelector(pods.match_labels, (every, *pods.match_expressions))
    if spaces.match_expressions or [k for k, _ in spaces.match_labels] != [METADATA_NAME_LABEL]:
        raise ValueError(f"no CiliumNetworkPolicy peer for namespaceSelector {spaces.text()}")
    ((_, namespace),) = spaces.match_labels
    return LabelSelector(((NAMESPACE_KEY, namespace), *pods.match_labels), pods.match_expressions)


def _selector_items(selectors: list[LabelSelector], indent: str) -> list[str]:
    lines: list[str] = []
    for selector in selectors:
        body = selector_lines(selector, indent + "  ")
        if not body:
            lines.append(f"{indent}- {{}}")
            continue
        lines.append(f"{indent}- {body[0].lstrip()}")
        lines += body[1:]
    return lines


def _cidr_items(field: str, blocks: list[IPBlock], indent: str) -> list[str]:
    """``toCIDR`` when no block has exceptions, else every block as a ``toCIDRSet`` item
    (one entry may not mix the two, §9.2)."""
    if not any(b.except_ for b in blocks):
        return [f"{indent}{field}:", *(f"{indent}  - {yaml_scalar(b.cidr)}" for b in blocks)]
    lines = [f"{indent}{field}Set:"]
    for block in blocks:
        lines.append(f"{indent}  - cidr: {yaml_scalar(block.cidr)}")
        if block.except_:
            lines.append(f"{indent}    except:")
            lines += [f"{indent}      - {yaml_scalar(e)}" for e in block.except_]
    return lines


def _port_lines(ports: tuple[PolicyPort, ...], dns: bool) -> list[str]:
    indent = " " * 10
    lines = ["      toPorts:", "        - ports:"]
    for port in ports:
        number = EVERY_PORT if port.port is None else str(port.port)
        lines.append(f"{indent}  - port: {yaml_scalar(number)}")
        lines.append(f"{indent}    protocol: {port.protocol}")
        if port.end_port is not None and port.end_port != port.port:
            lines.append(f"{indent}    endPort: {port.end_port}")
    if dns:
        lines += [f"{indent}{line}" for line in DNS_RULES]
    return lines


def _entry_lines(rule: RulePlan, word: str) -> list[str]:
    """One entry per kind of peer (one L3 field per entry, §9.2), each with the ports."""
    blocks = [p.ip_block for p in rule.peers if p.ip_block is not None]
    selectors = [peer_selector(p) for p in rule.peers if p.ip_block is None]
    if not blocks and not selectors:
        raise ValueError(f"a rule without peers would allow its ports from everywhere: {rule}")
    peer_fields = []
    if selectors:
        peer_fields.append(
            [
                f"      {word}Endpoints:",
                *_selector_items(list(dict.fromkeys(selectors)), "        "),
            ]
        )
    if blocks:
        peer_fields.append(_cidr_items(f"{word}CIDR", blocks, "      "))
    lines = [f"    # {rule.comment}"]
    for peer_lines in peer_fields:
        lines.append(f"    - {peer_lines[0].lstrip()}")
        lines += peer_lines[1:]
        if rule.ports:
            lines += _port_lines(rule.ports, rule.dns)
    return lines


def _spec_lines(plan: PolicyPlan) -> list[str]:
    lines = selector_field("endpointSelector", plan.selector, "  ", "  ")
    closed = [section for section, _ in (_INGRESS, _EGRESS) if not getattr(plan, section)]
    if closed:
        if not plan.workload:
            lines.append(
                "  # isolated in both directions, allowing nothing: the policies below allow"
            )
        elif len(closed) == 2:
            lines.append("  # no flow comes in or goes out: isolated in both directions")
        elif closed == ["ingress"]:
            lines.append("  # no flow comes in: ingress default deny, with no ingress rule")
        else:
            lines.append("  # no flow goes out: egress default deny, with no egress rule (DNS too)")
        lines.append("  enableDefaultDeny:")
        lines += [f"    {section}: true" for section in closed]
    for section in closed:
        # a direction is enforced only where the rule has an entry (§7.2), whatever
        # enableDefaultDeny says: each closed one gets an entry that matches nothing
        word = "from" if section == "ingress" else "to"
        lines += [
            "  # Cilium enforces a direction only with an entry: this one matches nothing",
            f"  {section}:",
            f"    - {word}Entities:",
            "        - none",
        ]
    for section, word in (_INGRESS, _EGRESS):
        rules: list[RulePlan] = getattr(plan, section)
        if rules:
            lines.append(f"  {section}:")
            for rule in rules:
                lines += _entry_lines(rule, word)
    return lines


def render_cilium_yaml(plans: list[PolicyPlan], flows_path: str) -> str:
    """The plans as a multi-document stream of CiliumNetworkPolicies, a comment on every
    rule."""
    command = f"netpol generate --kind cilium --flows {flows_path}"
    docs = [
        "\n".join(manifest_head(plan, CILIUM_API_VERSION, CNP_KIND, command) + _spec_lines(plan))
        for plan in plans
    ]
    return "---\n".join(d + "\n" for d in docs)


__all__ = ["NAMESPACE_KEY", "peer_selector", "render_cilium_yaml"]
