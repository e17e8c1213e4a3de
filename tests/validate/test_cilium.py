"""CiliumNetworkPolicy, CiliumClusterwideNetworkPolicy and CiliumCIDRGroup validation: one
row per rule of Cilium semantics §9 (edge cases 47 and 63-70 named in the ids), each with
the exact line the user sees: file:line, object, field path, message, and which layer
refuses the object (the API server's CRD schema, or Cilium's agent)."""

from __future__ import annotations

import textwrap

import pytest
from tests.validate.messages import LABEL_VALUE, NAME_PART, SUBDOMAIN
from tests.validate.support import diagnostics

from netpol.load.build import build_cluster
from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Severity
from netpol.model.options import Options

# the two layers, as the messages end (written out, not imported from netpol)
CRD = " (kubectl apply refuses it: CRD schema)"
AGENT = " (the API server accepts it, but Cilium's agent refuses the policy: it has no effect)"
SKIPPED = (
    " (the API server accepts it, but Cilium's agent cannot parse it: the group does not hold it)"
)
P = "CiliumNetworkPolicy/ns/p"
ENTITIES = (
    'supported values: "all", "world", "cluster", "cluster-mesh", "host", "init", "ingress", '
    '"unmanaged", "remote-node", "health", "none", "kube-apiserver"'
)
PROTOCOLS = (
    'supported values: "TCP", "UDP", "SCTP", "ANY", "VRRP", "IGMP", "GRE", "IPIP", "IPV6", '
    '"ESP", "AH"'
)
PORT_VALUES = (
    "must be a port number from 0 to 65535 or a port name (an IANA service name: at most 15 "
    "letters, digits and single inner hyphens, with a letter)"
)

# A CiliumNetworkPolicy ns/p selecting every pod of ns; the rule's body starts on line 8.
CNP_HEAD = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata:
  name: p
  namespace: ns
spec:
  endpointSelector: {}
"""


def cnp(body: str) -> str:
    """The policy ns/p with ``body`` (dedented) beside its endpointSelector, from line 8."""
    return CNP_HEAD + textwrap.indent(textwrap.dedent(body).strip("\n") + "\n", "  ")


def lines_of(text: str) -> list[str]:
    """Every diagnostic's line as printed, less the file name."""
    return [d.one_line().removeprefix("t.yaml:") for d in diagnostics(text)]


BAD = [
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: wildcard}
description: "allow all pods to talk"
spec:
  endpointSelector: {}
  ingress: [{fromEndpoints: [{}]}]
""",
        [
            f'4: error: CiliumClusterwideNetworkPolicy/wildcard: description: unknown field "description" (did you mean "spec.description"?){CRD}',
        ],
        id="top-level-description-edge-11.7",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: ns}
""",
        [
            f"1: error: {P}: spec: spec or specs is required{CRD}",
        ],
        id="spec-or-specs-required",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: ns}
specs: [null]
""",
        [
            f"4: error: {P}: specs[0]: must be a mapping (an object), not null{CRD}",
        ],
        id="specs-null-item",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: ns}
specs:
- endpointSelector: {}
  egress: [{toEntities: [world]}]
- endpointSelector: {}
  egress: [{toEntities: [World]}]
""",
        [
            f'8: error: {P}: specs[1].egress[0].toEntities[0]: {ENTITIES}{CRD} (value: "World")',
        ],
        id="specs-item-path",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: c}
spec:
  endpointSelector: {}
  nodeSelector: {}
  ingress: [{fromEntities: [world]}]
""",
        [
            f"4: error: CiliumClusterwideNetworkPolicy/c: spec: endpointSelector and nodeSelector are mutually exclusive: set one{AGENT}",
        ],
        id="endpoint-and-node-selector",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumClusterwideNetworkPolicy
metadata: {name: c}
spec:
  ingress: [{fromEntities: [world]}]
""",
        [
            f"4: error: CiliumClusterwideNetworkPolicy/c: spec: must set endpointSelector (or, in a CiliumClusterwideNetworkPolicy, nodeSelector){AGENT}",
        ],
        id="no-selector",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: p, namespace: ns}
spec:
  nodeSelector: {matchLabels: {role: worker}}
  ingress: [{fromEntities: [world]}]
""",
        [
            f"5: error: {P}: spec.nodeSelector: a CiliumNetworkPolicy cannot select nodes: nodeSelector needs a CiliumClusterwideNetworkPolicy{AGENT}",
        ],
        id="edge-70-cnp-with-node-selector",
    ),
    pytest.param(
        cnp(
            """\
            ingress: []
            """
        ),
        [
            f"6: error: {P}: spec: rule must have at least one of ingress, ingressDeny, egress, egressDeny (an empty list does not count){AGENT}",
        ],
        id="edge-8-only-an-empty-ingress",
    ),
    pytest.param(
        cnp(
            """\
            description: nothing
            """
        ),
        [
            f"6: error: {P}: spec: rule must have at least one of ingress, ingressDeny, egress, egressDeny (an empty list does not count){AGENT}",
        ],
        id="no-section",
    ),
    pytest.param(
        cnp(
            """\
            ingres: [{fromEntities: [world]}]
            egress: [{toEntities: [world]}]
            """
        ),
        [
            f'8: error: {P}: spec.ingres: unknown field "ingres" (did you mean "ingress"?){CRD}',
        ],
        id="unknown-rule-field",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: 80
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: must be a string, not an integer: quote it (port: "80"){CRD} (value: 80)',
        ],
        id="edge-47-integer-port",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: "010"
            """
        ),
        [
            f'11: warning: {P}: spec.ingress[0].toPorts[0].ports[0].port: the agent reads this as port 8 (Go\'s strconv.ParseUint base 0: a leading 0 is octal): write "8" (value: "010")',
        ],
        id="port-leading-zero-octal-warning",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: "08"
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: a leading 0 makes the agent read the port as an octal number (Go\'s strconv.ParseUint base 0), and "08" is not one: write "8"{AGENT} (value: "08")',
        ],
        id="port-leading-zero-not-octal",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: "99999"
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: must be between 0 and 65535, inclusive{AGENT} (value: "99999")',
        ],
        id="edge-68-port-99999",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "70000", protocol: TCP}
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: must be between 0 and 65535, inclusive{AGENT} (value: "70000")',
        ],
        id="port-70000",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: "-http"
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: {PORT_VALUES}{AGENT} (value: "-http")',
        ],
        id="port-name-leading-hyphen",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: "http!"
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: {PORT_VALUES}{CRD} (value: "http!")',
        ],
        id="port-crd-pattern",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - port: averyverylongportname
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: {PORT_VALUES}{AGENT} (value: "averyverylongportname")',
        ],
        id="port-name-too-long",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - protocol: TCP
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].port: port must be specified (write "0" for every port){AGENT}',
        ],
        id="port-missing",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "80", endPort: 70000}
            """
        ),
        [
            f"11: error: {P}: spec.ingress[0].toPorts[0].ports[0].endPort: should be less than or equal to 65535{CRD} (value: 70000)",
        ],
        id="end-port-above-65535",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "80", endPort: -1}
            """
        ),
        [
            f"11: error: {P}: spec.ingress[0].toPorts[0].ports[0].endPort: should be greater than or equal to 0{CRD} (value: -1)",
        ],
        id="end-port-negative",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "80", endPort: 70}
            """
        ),
        [
            f"11: warning: {P}: spec.ingress[0].toPorts[0].ports[0].endPort: below port 80: only port 80 is matched (value: 70)",
        ],
        id="end-port-below-port-warning",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: http, endPort: 90}
            """
        ),
        [
            f'11: warning: {P}: spec.ingress[0].toPorts[0].ports[0].endPort: ignored: port "http" is a name, not a number (value: 90)',
        ],
        id="end-port-with-named-port-warning",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "80", protocol: tcp}
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].protocol: {PROTOCOLS} (protocols are upper case: "TCP"){CRD} (value: "tcp")',
        ],
        id="protocol-lower-case",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "0", protocol: ICMP}
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].protocol: {PROTOCOLS} (ICMP goes in icmps, beside toPorts){CRD} (value: "ICMP")',
        ],
        id="protocol-icmp",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports:
                - {port: "0", protocol: VRRP}
            """
        ),
        [
            f'11: error: {P}: spec.ingress[0].toPorts[0].ports[0].protocol: VRRP needs the agent option enable-extended-ip-protocols, off by default{AGENT} (value: "VRRP")',
        ],
        id="protocol-extended",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints: [{matchLabels: {app: a}}]
              fromCIDR: [10.0.0.0/8]
            """
        ),
        [
            f"10: error: {P}: spec.ingress[0].fromCIDR: combining fromEndpoints and fromCIDR is not supported yet: write them as two items of the list{AGENT}",
        ],
        id="edge-63-from-endpoints-and-from-cidr",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toEndpoints: [{}]
              toFQDNs: [{matchName: example.com}]
            """
        ),
        [
            f"10: error: {P}: spec.egress[0].toFQDNs: combining toEndpoints and toFQDNs is not supported yet: write them as two items of the list{AGENT}",
        ],
        id="to-fqdns-and-to-endpoints",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{type: 8}]}]
              toPorts: [{ports: [{port: "80"}]}]
            """
        ),
        [
            f"9: error: {P}: spec.ingress[0].icmps: the ICMPs block may only be present without ToPorts: define a separate rule to use ToPorts{AGENT}",
        ],
        id="edge-64-icmps-and-to-ports",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports: [{port: "80", protocol: UDP}]
                rules: {http: [{method: GET}]}
            """
        ),
        [
            f"11: error: {P}: spec.ingress[0].toPorts[0].rules: L7 rules can only apply to TCP (not UDP) except for DNS rules{AGENT}",
        ],
        id="edge-65-http-on-udp",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports: [{port: "53", protocol: UDP}]
                rules: {dns: [{matchPattern: "*"}]}
            """
        ),
        [
            f"11: error: {P}: spec.ingress[0].toPorts[0].rules.dns: DNS rules are not allowed on ingress{AGENT}",
        ],
        id="edge-65-dns-on-ingress",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "0", protocol: TCP}]
                rules: {http: [{}]}
            """
        ),
        [
            f'11: error: {P}: spec.egress[0].toPorts[0].rules: L7 rules can not be used when a port is "0" (every port){AGENT}',
        ],
        id="edge-65-http-on-port-0",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "80"}]
                rules: {http: [{}]}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].rules: L7 rules can only apply to TCP (not ANY) except for DNS rules{AGENT}",
        ],
        id="http-without-protocol",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "53", protocol: SCTP}]
                rules: {dns: [{matchName: a.com}]}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].rules: DNS rules can only apply to TCP, UDP or ANY (not SCTP){AGENT}",
        ],
        id="dns-on-sctp",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "53", endPort: 54, protocol: UDP}]
                rules: {dns: [{matchName: a.com}]}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].rules: DNS rules do not support port ranges{AGENT}",
        ],
        id="dns-port-range",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - rules: {dns: [{matchName: a.com}]}
            """
        ),
        [
            f"10: error: {P}: spec.egress[0].toPorts[0].rules.dns: DNS rules need a port (53){AGENT}",
        ],
        id="dns-without-ports",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "53", protocol: TCP}]
                rules: {http: [{}], dns: [{matchName: a.com}]}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].rules: multiple L7 protocol rule types specified in single rule (http and dns){AGENT}",
        ],
        id="http-and-dns",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "9092", protocol: TCP}]
                rules: {kafka: [{topic: t}]}
            """
        ),
        [
            f"11: warning: {P}: spec.egress[0].toPorts[0].rules.kafka: kafka rules are gone from Cilium v1.20 (older releases filter them at L7): netpol reads the ports as open at L4, L7-filtered",
        ],
        id="legacy-kafka-warning",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromNodes: [{matchLabels: {role: worker}}]
            """
        ),
        [
            f"9: error: {P}: spec.ingress[0].fromNodes: fromNodes needs the agent option enable-node-selector-labels, which is off by default (select nodes with fromEntities: [host, remote-node]){AGENT}",
        ],
        id="edge-66-from-nodes",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toNodes: [{}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toNodes: toNodes needs the agent option enable-node-selector-labels, which is off by default (select nodes with toEntities: [host, remote-node]){AGENT}",
        ],
        id="to-nodes",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{cidr: 10.0.0.0/8, except: [11.0.0.0/8]}]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toCIDRSet[0].except[0]: must be inside cidr 10.0.0.0/8 (an except outside it is refused){AGENT} (value: "11.0.0.0/8")',
        ],
        id="edge-67-except-outside-cidr",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{cidr: 10.0.0.0/8, except: ["fd00::/8"]}]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toCIDRSet[0].except[0]: must be inside cidr 10.0.0.0/8 (an except outside it is refused){AGENT} (value: "fd00::/8")',
        ],
        id="except-other-family",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{cidr: 10.0.0.0/16, except: [10.0.0.0/8]}]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toCIDRSet[0].except[0]: must be inside cidr 10.0.0.0/16 (an except outside it is refused){AGENT} (value: "10.0.0.0/8")',
        ],
        id="except-wider-than-cidr",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{except: [10.0.0.0/8]}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toCIDRSet[0]: must set exactly one of cidr, cidrGroupRef and cidrGroupSelector{AGENT}",
        ],
        id="cidr-set-none",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{cidr: 10.0.0.0/8, cidrGroupSelector: {}}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toCIDRSet[0]: must set exactly one of cidr, cidrGroupRef and cidrGroupSelector (not cidr and cidrGroupSelector){AGENT}",
        ],
        id="cidr-set-two",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromCIDR: [192.0.2.1]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].fromCIDR[0]: must be a CIDR: an address and a prefix length (10.0.0.0/8, 192.0.2.1/32, fd00::/64){CRD} (value: "192.0.2.1")',
        ],
        id="cidr-bare-address",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromCIDR: [010.0.0.0/8]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].fromCIDR[0]: Cilium reads CIDRs with Go\'s netip.ParsePrefix: no leading zero in an octet or in the prefix length{AGENT} (value: "010.0.0.0/8")',
        ],
        id="cidr-leading-zero-octet",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromCIDRSet: [{cidr: 10.0.0.0/08}]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].fromCIDRSet[0].cidr: Cilium reads CIDRs with Go\'s netip.ParsePrefix: no leading zero in an octet or in the prefix length{AGENT} (value: "10.0.0.0/08")',
        ],
        id="cidr-leading-zero-prefix",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toCIDRSet: [{cidrGroupRef: My_Group}]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toCIDRSet[0].cidrGroupRef: {SUBDOMAIN}{CRD} (value: "My_Group")',
        ],
        id="cidr-group-ref-not-a-name",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints: [{}]
              fromRequires: [{matchLabels: {env: prod}}]
            """
        ),
        [
            f"10: error: {P}: spec.ingress[0].fromRequires: must have at most 0 items: fromRequires was removed in Cilium 1.19 (add the label to each selector instead){CRD} (value: 1)",
        ],
        id="edge-69-from-requires",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toRequires: [{}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toRequires: must have at most 0 items: toRequires was removed in Cilium 1.19 (add the label to each selector instead){CRD} (value: 1)",
        ],
        id="to-requires",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toEntities: [world-ipv4]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toEntities[0]: {ENTITIES} ("world-ipv4" is known to Cilium\'s agent but missing from the v1.20 CRD enum: use "world", or toCIDR 0.0.0.0/0 or ::/0){CRD} (value: "world-ipv4")',
        ],
        id="entity-world-ipv4",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toEntities: [World]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toEntities[0]: {ENTITIES}{CRD} (value: "World")',
        ],
        id="entity-unknown",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchExpressions: [{key: app, operator: in, values: [a]}]
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchExpressions[0].operator: supported values: "In", "NotIn", "Exists", "DoesNotExist" (operators are case-sensitive: "In"){CRD} (value: "in")',
        ],
        id="selector-operator-lower-case",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchExpressions: [{key: app, operator: NotIn}]
            """
        ),
        [
            f"10: error: {P}: spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: must be specified when `operator` is 'In' or 'NotIn'{AGENT}",
        ],
        id="selector-in-without-values",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchExpressions: [{key: app, operator: Exists, values: [a]}]
            """
        ),
        [
            f"10: error: {P}: spec.ingress[0].fromEndpoints[0].matchExpressions[0].values: may not be specified when `operator` is 'Exists' or 'DoesNotExist'{AGENT}",
        ],
        id="selector-exists-with-values",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchExpressions: [{operator: Exists}]
            """
        ),
        [
            f"10: error: {P}: spec.ingress[0].fromEndpoints[0].matchExpressions[0].key: Required value{CRD}",
        ],
        id="selector-expression-without-key",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchExpressions: [{key: app, operator: In, values: ["a b"]}]
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchExpressions[0].values[0]: {LABEL_VALUE}{AGENT} (value: "a b")',
        ],
        id="selector-expression-bad-value",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchLabels: {"k8s:app:x": a}
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchLabels: key "k8s:app:x": {NAME_PART}{AGENT} (value: "k8s:app:x")',
        ],
        id="selector-key-two-colons",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchLabels: {"k8s-x:app": a}
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchLabels: key "k8s-x:app": its source (before ":") must be letters and digits{AGENT} (value: "k8s-x:app")',
        ],
        id="selector-key-bad-source",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchLabels: {app: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchLabels: must be no more than 63 characters{CRD} (value: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...(66 bytes))',
        ],
        id="selector-value-too-long",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEndpoints:
              - matchLabels: {version: 2}
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchLabels: label "version" must be a string, not an integer: quote it (version: "2"){CRD} (value: 2)',
        ],
        id="selector-value-integer",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toFQDNs: [{matchName: a.com, matchPattern: "*.a.com"}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toFQDNs[0]: must set exactly one of matchName and matchPattern{AGENT}",
        ],
        id="fqdn-name-and-pattern",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toFQDNs: [{}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toFQDNs[0]: must set exactly one of matchName and matchPattern{AGENT}",
        ],
        id="fqdn-neither",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toFQDNs: [{matchName: "a..com"}]
            """
        ),
        [
            f"9: error: {P}: spec.egress[0].toFQDNs[0].matchName: should match '^([-a-zA-Z0-9_]+[.]?)+$'{CRD} (value: \"a..com\")",
        ],
        id="fqdn-bad-name",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toFQDNs: [{matchPattern: "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a."}]
            """
        ),
        [
            f'9: error: {P}: spec.egress[0].toFQDNs[0].matchPattern: may not be longer than 255{CRD} (value: "a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a...(258 bytes))',
        ],
        id="fqdn-pattern-too-long",
    ),
    pytest.param(
        cnp(
            """\
            egressDeny:
            - toFQDNs: [{matchName: a.com}]
            """
        ),
        [
            f'9: error: {P}: spec.egressDeny[0].toFQDNs: unknown field "toFQDNs": a deny rule cannot name DNS names{CRD}',
        ],
        id="to-fqdns-in-egress-deny",
    ),
    pytest.param(
        cnp(
            """\
            ingressDeny:
            - toPorts:
              - ports: [{port: "80", protocol: TCP}]
                rules: {http: [{}]}
            """
        ),
        [
            f'11: error: {P}: spec.ingressDeny[0].toPorts[0].rules: unknown field "rules": a deny rule has no L7 part (ingressDeny toPorts items hold only ports){CRD}',
        ],
        id="rules-in-ingress-deny",
    ),
    pytest.param(
        cnp(
            """\
            ingressDeny:
            - fromEntities: [world]
              authentication: {mode: required}
            """
        ),
        [
            f'10: error: {P}: spec.ingressDeny[0].authentication: unknown field "authentication": ingressDeny items have no authentication{CRD}',
        ],
        id="authentication-in-deny",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - fromEntities: [world]
              authentication: {mode: Required}
            """
        ),
        [
            f'10: error: {P}: spec.ingress[0].authentication.mode: supported values: "disabled", "required", "test-always-fail"{CRD} (value: "Required")',
        ],
        id="authentication-mode",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toEndpoints: [{}]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].toEndpoints: unknown field "toEndpoints" (did you mean "fromEndpoints"?){CRD}',
        ],
        id="wrong-direction-field",
    ),
    pytest.param(
        cnp(
            """\
            ingress: [{fromEntities: [world]}]
            log: {value: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx}
            """
        ),
        [
            f'9: error: {P}: spec.log.value: may not be longer than 32{CRD} (value: "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")',
        ],
        id="log-value-too-long",
    ),
    pytest.param(
        cnp(
            """\
            ingress: [{fromEntities: [world]}]
            enableDefaultDeny: {ingress: "no"}
            """
        ),
        [
            f'9: error: {P}: spec.enableDefaultDeny.ingress: must be a boolean (true or false), not a string{CRD} (value: "no")',
        ],
        id="enable-default-deny-not-a-boolean",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{family: ipv4, type: 8}]}]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].icmps[0].fields[0].family: supported values: "IPv4", "IPv6"{CRD} (value: "ipv4")',
        ],
        id="icmp-family",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{type: 256}]}]
            """
        ),
        [
            f"9: error: {P}: spec.ingress[0].icmps[0].fields[0].type: should be less than or equal to 255{CRD} (value: 256)",
        ],
        id="icmp-type-above-255",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{type: Ping}]}]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].icmps[0].fields[0].type: must be an ICMP type from 0 to 255 or its name{CRD} (value: "Ping")',
        ],
        id="icmp-type-unknown-name",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{type: PacketTooBig}]}]
            """
        ),
        [
            f'9: error: {P}: spec.ingress[0].icmps[0].fields[0].type: not an IPv4 ICMP type (an IPv6 one: set family: IPv6){AGENT} (value: "PacketTooBig")',
        ],
        id="icmp-type-of-the-other-family",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - icmps: [{fields: [{family: IPv6}]}]
            """
        ),
        [
            f"9: error: {P}: spec.ingress[0].icmps[0].fields[0].type: Required value{CRD}",
        ],
        id="icmp-type-missing",
    ),
    pytest.param(
        cnp(
            """\
            ingress:
            - toPorts:
              - ports: [{port: "80", protocol: TCP}]
                listener: {envoyConfig: {kind: CiliumEnvoyConfig, name: e}, name: l}
            """
        ),
        [
            f"11: error: {P}: spec.ingress[0].toPorts[0].listener: listener is not allowed on ingress{AGENT}",
        ],
        id="listener-on-ingress",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "80", protocol: TCP}]
                listener: {envoyConfig: {kind: CiliumEnvoyConfig, name: e}, name: l, priority: 0}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].listener.priority: should be greater than or equal to 1{CRD} (value: 0)",
        ],
        id="listener-priority",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "443", protocol: TCP}]
                serverNames: [""]
            """
        ),
        [
            f'11: error: {P}: spec.egress[0].toPorts[0].serverNames[0]: empty server name is not allowed{AGENT} (value: "")',
        ],
        id="server-names-empty",
    ),
    pytest.param(
        cnp(
            """\
            egress:
            - toPorts:
              - ports: [{port: "443", protocol: TCP}]
                serverNames: [a.com]
                rules: {http: [{}]}
            """
        ),
        [
            f"11: error: {P}: spec.egress[0].toPorts[0].serverNames: serverNames with HTTP rules need terminatingTLS{AGENT}",
        ],
        id="server-names-http-without-tls",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: g}
""",
        [
            f"1: error: CiliumCIDRGroup/g: spec: Required value{CRD}",
        ],
        id="cidr-group-without-spec",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v2alpha1
kind: CiliumCIDRGroup
metadata: {name: g}
spec:
  externalCIDRs: [10.0.0.0/8, 10.0.0.1, 010.0.0.0/8]
""",
        [
            f'5: error: CiliumCIDRGroup/g: spec.externalCIDRs[1]: must be a CIDR: an address and a prefix length (10.0.0.0/8, 192.0.2.1/32, fd00::/64){CRD} (value: "10.0.0.1")',
            f'5: error: CiliumCIDRGroup/g: spec.externalCIDRs[2]: Cilium reads CIDRs with Go\'s netip.ParsePrefix: no leading zero in an octet or in the prefix length{SKIPPED} (value: "010.0.0.0/8")',
        ],
        id="cidr-group-bad-cidr",
    ),
    pytest.param(
        """\
apiVersion: cilium.io/v1
kind: CiliumCIDRGroup
metadata: {name: g}
spec:
  externalCIDRs: [10.0.0.0/8]
""",
        [
            '1: error: CiliumCIDRGroup/g: apiVersion: no matches for kind "CiliumCIDRGroup" in version "cilium.io/v1": use apiVersion: cilium.io/v2alpha1 (value: "cilium.io/v1")',
        ],
        id="cidr-group-version",
    ),
]


@pytest.mark.parametrize(("text", "expected"), BAD)
def test_each_rule_has_its_line(text: str, expected: list[str]) -> None:
    assert lines_of(text) == expected


def test_at_most_40_ports_in_a_port_rule() -> None:
    ports = "\n".join(f'    - port: "{1000 + i}"' for i in range(41))
    text = cnp("ingress:\n- toPorts:\n  - ports:\n" + ports)
    assert lines_of(text) == [
        f"10: error: {P}: spec.ingress[0].toPorts[0].ports: must have at most 40 items{CRD} (value: 41)"
    ]


def test_at_most_40_icmp_fields() -> None:
    fields = "\n".join(f"    - type: {i}" for i in range(41))
    text = cnp("ingress:\n- icmps:\n  - fields:\n" + fields)
    assert lines_of(text) == [
        f"10: error: {P}: spec.ingress[0].icmps[0].fields: must have at most 40 items{CRD} (value: 41)"
    ]


# Valid manifests, most from Cilium's documentation and connectivity suite (Cilium
# semantics §12): no diagnostic at all, not even a warning.
GOOD = [
    pytest.param(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: rule1, namespace: default}
        spec:
          description: "L7 policy to restrict access to specific HTTP call"
          endpointSelector:
            matchLabels: {org: empire, class: deathstar}
          ingress:
          - fromEndpoints:
            - matchLabels: {org: empire}
            toPorts:
            - ports: [{port: "80", protocol: TCP}]
              rules:
                http: [{method: POST, path: /v1/request-landing}]
        """,
        id="l7-http-rule",
    ),
    pytest.param(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumClusterwideNetworkPolicy
        metadata: {name: dns-visibility}
        spec:
          endpointSelector: {}
          enableDefaultDeny: {ingress: false, egress: false}
          egress:
          - toEndpoints:
            - matchLabels:
                k8s:io.kubernetes.pod.namespace: kube-system
                k8s:k8s-app: kube-dns
            toPorts:
            - ports: [{port: "53", protocol: ANY}]
              rules:
                dns: [{matchPattern: "*"}]
          - toFQDNs: [{matchName: api.github.com}, {matchPattern: "*.cilium.io"}]
            toPorts: [{ports: [{port: "443"}]}]
        """,
        id="edge-6-dns-visibility-and-fqdns",
    ),
    pytest.param(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: deny, namespace: ns}
        specs:
        - endpointSelector:
            matchExpressions:
            - {key: k8s:io.kubernetes.pod.namespace, operator: In, values: [a, b]}
            - {key: $host, operator: DoesNotExist}
          ingressDeny:
          - fromEndpoints: [{matchLabels: {other: client}}]
            toPorts: [{ports: [{port: http-8080, protocol: TCP}]}]
          - fromEntities: [host]
          ingress:
          - fromEntities: [all]
          - icmps: [{fields: [{type: 8}, {type: EchoRequest, family: IPv6}]}]
        - endpointSelector: {matchLabels: {app: server}}
          egress:
          - toServices:
            - k8sService: {serviceName: myservice, namespace: ns}
            - k8sServiceSelector: {selector: {matchLabels: {app: x}}}
          - toPorts: [{ports: [{port: "4096", endPort: 8191}, {port: "0", protocol: UDP}]}]
            authentication: {mode: required}
          labels: [{key: team, value: a, source: k8s}]
          log: {value: deny-other-client}
        """,
        id="edge-43-named-port-deny-and-specs",
    ),
    pytest.param(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumClusterwideNetworkPolicy
        metadata: {name: cidr}
        specs:
        - endpointSelector: {}
          egressDeny:
          - toCIDRSet:
            - {cidr: 10.0.0.0/8, except: [10.0.0.0/8, 10.1.2.3/16]}
            - {cidrGroupRef: my-group, except: [1.1.1.1/32]}
            - cidrGroupSelector: {matchLabels: {team: a}}
          egress:
          - toEntities: [all]
          - toCIDR: [10.0.0.1/8, "2001:db8::/32"]
        - nodeSelector: {matchLabels: {type: ingress-worker}}
          ingress:
          - fromEntities: [world, cluster]
        """,
        id="edge-67-except-equal-to-cidr-and-cidr-groups",
    ),
    pytest.param(
        """\
        apiVersion: cilium.io/v2alpha1
        kind: CiliumCIDRGroup
        metadata: {name: my-group, labels: {team: a}}
        spec:
          externalCIDRs: [10.0.0.0/8, "fd00::/64"]
        ---
        apiVersion: cilium.io/v2
        kind: CiliumCIDRGroup
        metadata: {name: other-group}
        spec:
          externalCIDRs: []
        """,
        id="cidr-groups-v2alpha1-and-v2",
    ),
    pytest.param(
        """\
        apiVersion: cilium.io/v2
        kind: CiliumNetworkPolicy
        metadata: {name: ports, namespace: ns}
        spec:
          endpointSelector: {matchLabels: {app: server}}
          ingress:
          - toPorts: [{ports: [{port: "80"}]}]
          - toPorts: [{ports: [{port: "0", protocol: TCP}, {port: "0", endPort: 100}]}]
          - toPorts: [{ports: [{port: "4096", endPort: 8191}]}]
          - fromEndpoints: [{}]
            toPorts: [{}]
          - icmps: [{fields: [{type: 8}]}]
        """,
        id="edge-38-39-40-45-46-ports",
    ),
]


@pytest.mark.parametrize("text", GOOD)
def test_valid_manifests_have_no_diagnostic(text: str) -> None:
    assert lines_of(textwrap.dedent(text)) == []


@pytest.mark.parametrize("text", GOOD)
def test_the_loader_builds_what_validate_passes(text: str) -> None:
    docs, problems = parse_text(textwrap.dedent(text), "t.yaml")
    assert problems == []
    cluster = build_cluster(docs, Options(implicit_dns=False))
    assert [d.one_line() for d in cluster.diagnostics if d.severity is Severity.ERROR] == []
    assert len(cluster.cilium_policies) + len(cluster.cidr_groups) == len(docs)


def test_the_loader_reads_ports_as_the_agent_does() -> None:
    """ "010" is octal 8 for Go's ParseUint base 0 (validate warns), a name is lower-cased."""
    text = cnp(
        """\
        ingress:
        - toPorts:
          - ports: [{port: "010"}, {port: HTTP}, {port: "1_000", protocol: UDP}]
        """
    )
    docs, _ = parse_text(text, "t.yaml")
    (policy,) = build_cluster(docs, Options(implicit_dns=False)).cilium_policies
    (entry,) = policy.rules[0].entries
    assert [(p.port, p.protocol) for p in entry.ports] == [
        ("8", "ANY"),
        ("http", "ANY"),
        ("1000", "UDP"),
    ]


def test_edge_20_namespace_label_keys_of_the_longest_legal_length() -> None:
    """A selector on a namespace label names the label's key after the Cilium prefix: the
    longest legal label key (a 253-character prefix, a 63-character name) is accepted."""
    key = f"{'p' * 253}/{'n' * 63}"
    text = cnp(
        f"""\
        ingress:
        - fromEndpoints:
          - matchLabels: {{"k8s:io.cilium.k8s.namespace.labels.{key}": {"v" * 63}}}
          - matchExpressions:
            - {{key: "io.cilium.k8s.namespace.labels.{key}", operator: Exists}}
        """
    )
    assert lines_of(text) == []


def test_edge_20_a_namespace_label_key_too_long_is_refused_by_the_agent() -> None:
    key = f"io.cilium.k8s.namespace.labels.{'n' * 64}"
    text = cnp(
        f"""\
        ingress:
        - fromEndpoints:
          - matchLabels: {{"{key}": v}}
        """
    )
    shown = f"{key[:59]}...(97 bytes)"  # a long value is cut in the one line
    assert lines_of(text) == [
        f'10: error: {P}: spec.ingress[0].fromEndpoints[0].matchLabels: key "{key}": name part must be no more than 63 characters{AGENT} (value: "{shown})'
    ]


def test_an_empty_specs_list_is_a_policy_that_does_nothing() -> None:
    text = "apiVersion: cilium.io/v2\nkind: CiliumClusterwideNetworkPolicy\nmetadata: {name: c}\nspecs: []\n"
    assert lines_of(text) == [
        "4: warning: CiliumClusterwideNetworkPolicy/c: specs: an empty list and no spec: the policy has no rule and does nothing"
    ]


def test_an_l7_reason_is_given_once_for_all_the_ports_it_concerns() -> None:
    text = cnp(
        """\
        egress:
        - toPorts:
          - ports: [{port: "80", protocol: UDP}, {port: "8080", protocol: UDP}, {port: "0"}]
            rules: {http: [{}]}
        """
    )
    assert lines_of(text) == [
        f"11: error: {P}: spec.egress[0].toPorts[0].rules: L7 rules can only apply to TCP (not UDP) except for DNS rules{AGENT}",
        f"11: error: {P}: spec.egress[0].toPorts[0].rules: L7 rules can only apply to TCP (not ANY) except for DNS rules{AGENT}",
        f'11: error: {P}: spec.egress[0].toPorts[0].rules: L7 rules can not be used when a port is "0" (every port){AGENT}',
    ]


def test_dns_rules_beside_refused_ports_do_not_claim_there_is_no_port() -> None:
    text = cnp(
        """\
        egress:
        - toPorts:
          - ports: [{port: 53}]
            rules: {dns: [{matchPattern: "*"}]}
        """
    )
    assert lines_of(text) == [
        f'10: error: {P}: spec.egress[0].toPorts[0].ports[0].port: must be a string, not an integer: quote it (port: "53"){CRD} (value: 53)'
    ]


def test_the_loader_reads_cidrs_as_the_agent_does() -> None:
    """netip.ParsePrefix keeps an IPv4-mapped prefix IPv6: it never matches an IPv4 address."""
    text = cnp(
        "egress:\n- toCIDRSet: [{cidr: '::ffff:10.0.0.0/104', except: ['::ffff:10.1.0.0/112']}]"
    )
    docs, _ = parse_text(text, "t.yaml")
    assert lines_of(text) == []
    (policy,) = build_cluster(docs, Options(implicit_dns=False)).cilium_policies
    ((rule,),) = [entry.cidrs for entry in policy.rules[0].entries]
    assert (str(rule.cidr), [str(e) for e in rule.excepts]) == (
        "::ffff:a00:0/104",
        ["::ffff:a01:0/112"],
    )
