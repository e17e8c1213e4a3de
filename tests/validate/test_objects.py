"""Shape checks of the kinds the loader builds from: Namespace, Pod, workloads, Service."""

from __future__ import annotations

import textwrap

import pytest

from . import messages as m
from .support import Found, errors, warnings

CONTAINER_PROTOCOLS = 'supported values: "SCTP", "TCP", "UDP"'
INVALID_IP = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


def namespace(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"  # name on line 4


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("app1-ns", [], id="valid"),
        pytest.param(
            "Bad_NS", [("Invalid", "metadata.name", m.DNS_LABEL, "Bad_NS", 4)], id="label"
        ),
        pytest.param(
            "app.one",
            [("Invalid", "metadata.name", "must not contain dots", "app.one", 4)],
            id="dots",
        ),
        pytest.param(
            "a" * 64,
            [("Invalid", "metadata.name", "must be no more than 63 characters", "a" * 64, 4)],
            id="64 characters",
        ),
    ],
)
def test_namespace_names(name: str, expected: list[Found]) -> None:
    assert errors(namespace(name)) == expected


def test_namespace_metadata_namespace_is_ignored_and_labels_checked() -> None:
    text = namespace("prod") + "  namespace: Whatever\n  labels: {team: -a}\n"
    assert errors(text) == [("Invalid", "metadata.labels", m.LABEL_VALUE, "-a", 6)]


POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: app
spec:
  containers:
    - name: c
      ports:
"""  # the first port is on line 10
C0 = "spec.containers[0]"


def pod_ports(*items: str) -> str:
    return POD + "".join(f"        - {item}\n" for item in items)


# fmt: off
POD_PORTS: list[tuple[str, str, list[Found]]] = [
    ("valid ports", pod_ports("{containerPort: 80, name: http}", "{containerPort: 53, protocol: UDP, name: dns}", '{containerPort: 9000, protocol: ""}'), []),
    ("containerPort 0", pod_ports("{containerPort: 0}"), [("Required", f"{C0}.ports[0].containerPort", "Required value", None, 10)]),
    ("containerPort missing", pod_ports("{name: http}"), [("Required", f"{C0}.ports[0].containerPort", "Required value", None, 10)]),
    ("containerPort 70000", pod_ports("{containerPort: 70000}"), [("Invalid", f"{C0}.ports[0].containerPort", m.RANGE, 70000, 10)]),
    ("containerPort true", pod_ports("{containerPort: true}"), [("BadRequest", f"{C0}.ports[0].containerPort", "must be an integer, not a boolean", True, 10)]),
    ("hostPort 70000", pod_ports("{containerPort: 80, hostPort: 70000}"), [("Invalid", f"{C0}.ports[0].hostPort", m.RANGE, 70000, 10)]),
    ("protocol tcp", pod_ports("{containerPort: 80, protocol: tcp}"), [("NotSupported", f"{C0}.ports[0].protocol", CONTAINER_PROTOCOLS, "tcp", 10)]),
    ("name HTTP", pod_ports("{containerPort: 80, name: HTTP}"), [
        ("Invalid", f"{C0}.ports[0].name", m.PORT_CHARSET, "HTTP", 10),
        ("Invalid", f"{C0}.ports[0].name", m.PORT_LETTER, "HTTP", 10),
    ]),
    ("name too long", pod_ports("{containerPort: 80, name: metrics-endpoint}"), [("Invalid", f"{C0}.ports[0].name", m.PORT_LONG, "metrics-endpoint", 10)]),
    ("duplicate name in a container", pod_ports("{containerPort: 80, name: http}", "{containerPort: 8080, name: http}"), [("Duplicate", f"{C0}.ports[1].name", "Duplicate value", "http", 11)]),
    ("port item is a string", pod_ports('"80"'), [("BadRequest", f"{C0}.ports[0]", "must be a mapping (an object), not a string", "80", 10)]),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=name) for name, t, e in POD_PORTS]
)
def test_container_ports(text: str, expected: list[Found]) -> None:
    assert errors(text) == expected


def test_port_names_are_unique_per_container_not_per_pod() -> None:
    text = POD + "        - {containerPort: 80, name: http}\n    - name: d\n      ports:\n"
    text += "        - {containerPort: 81, name: http}\n"
    assert errors(text) == []


def pod(spec: str, status: str = "") -> str:
    head = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n"  # spec body on line 5
    body = textwrap.indent(textwrap.dedent(spec).strip("\n") + "\n", "  ")
    return head + body + (f"status:\n{textwrap.indent(status, '  ')}" if status else "")


# fmt: off
POD_SPECS: list[tuple[str, str, list[Found]]] = [
    ("no containers", "hostNetwork: false", [("Required", "spec.containers", "Required value", None, 4)]),
    ("empty containers", "containers: []", [("Required", "spec.containers", "Required value", None, 5)]),
    ("container without a name", "containers: [{image: nginx}]", [("Required", "spec.containers[0].name", "Required value", None, 5)]),
    ("container name", "containers: [{name: Web}]", [("Invalid", "spec.containers[0].name", m.DNS_LABEL, "Web", 5)]),
    ("duplicate containers", "containers:\n  - name: c\n  - name: c", [("Duplicate", "spec.containers[1].name", "Duplicate value", "c", 7)]),
    ("init container clashes with a container", "initContainers: [{name: c}]\ncontainers: [{name: c}]", [("Duplicate", "spec.containers[0].name", "Duplicate value", "c", 6)]),
    ("command with a number", "containers:\n  - name: c\n    command: [python3, -m, http.server, 5678]", [("BadRequest", "spec.containers[0].command[3]", "must be a string, not an integer", 5678, 7)]),
    ("hostNetwork yes as a string", 'hostNetwork: "yes"\ncontainers: [{name: c}]', [("BadRequest", "spec.hostNetwork", "must be a boolean (true or false), not a string", "yes", 5)]),
    ("hostNetwork true", "hostNetwork: true\ncontainers: [{name: c}]", []),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "expected"), [pytest.param(s, e, id=name) for name, s, e in POD_SPECS]
)
def test_pod_specs(spec: str, expected: list[Found]) -> None:
    assert errors(pod(spec)) == expected


def test_pod_ips_from_status_must_be_addresses() -> None:
    status = "podIP: 10.0.0.256\npodIPs:\n  - ip: 10.0.0.7\n  - ip: fd00::zz\nhostIP: 010.1.1.1\n"
    assert errors(pod("containers: [{name: c}]", status)) == [
        ("Invalid", "status.podIP", INVALID_IP, "10.0.0.256", 7),
        ("Invalid", "status.podIPs[1].ip", INVALID_IP, "fd00::zz", 10),
    ]


WORKLOAD = """\
apiVersion: {api}
kind: {kind}
metadata: {{name: web, namespace: app}}
spec:
  replicas: {replicas}
  selector: {selector}
  template:
    metadata:
      labels: {labels}
    spec:
      containers:
        - name: c
"""


def workload(
    kind: str = "Deployment",
    selector: str = "{matchLabels: {app: web}}",
    labels: str = "{app: web}",
    replicas: str = "2",
) -> str:
    api = "batch/v1" if kind == "Job" else "apps/v1"
    return WORKLOAD.format(api=api, kind=kind, selector=selector, labels=labels, replicas=replicas)


MISMATCH = "`selector` does not match template `labels`"

# fmt: off
WORKLOADS: list[tuple[str, str, list[Found]]] = [
    ("valid Deployment", workload(), []),
    ("selector does not match the template", workload(labels="{app: api}"), [("Invalid", "spec.template.metadata.labels", MISMATCH, {"app": "api"}, 9)]),
    ("expressions match the template", workload(selector="{matchExpressions: [{key: tier, operator: NotIn, values: [db]}, {key: app, operator: Exists}]}", labels="{app: web, tier: front}"), []),
    ("expressions do not match the template", workload(selector="{matchExpressions: [{key: tier, operator: In, values: [db]}]}", labels="{app: web}"), [("Invalid", "spec.template.metadata.labels", MISMATCH, {"app": "web"}, 9)]),
    ("no selector", workload(selector="null"), [("Required", "spec.selector", "Required value", None, 6)]),
    ("empty selector", workload(selector="{}"), [("Invalid", "spec.selector", "empty selector is invalid for deployment", {}, 6)]),
    ("empty selector, StatefulSet", workload("StatefulSet", selector="{}"), [("Invalid", "spec.selector", "empty selector is invalid for statefulset", {}, 6)]),
    ("empty selector, DaemonSet", workload("DaemonSet", selector="{}", replicas="null"), [("Invalid", "spec.selector", "empty selector is invalid for daemonset", {}, 6)]),
    ("invalid selector is not compared", workload("ReplicaSet", selector="{matchLabels: {app: -web}}", labels="{app: web}"), [("Invalid", "spec.selector.matchLabels", m.LABEL_VALUE, "-web", 6)]),
    ("negative replicas", workload(replicas="-1"), [("Invalid", "spec.replicas", "must be greater than or equal to 0", -1, 5)]),
    ("replicas as a string", workload(replicas='"2"'), [("BadRequest", "spec.replicas", "must be an integer, not a string", "2", 5)]),
    ("template labels must be strings", workload(labels="{app: web, v: 2}"), [("BadRequest", "spec.template.metadata.labels", 'label "v" must be a string, not an integer: quote it (v: "2")', 2, 9)]),
    ("Job needs restartPolicy OnFailure or Never", workload("Job", selector="null", replicas="null"), [("NotSupported", "spec.template.spec.restartPolicy", 'supported values: "OnFailure", "Never"', "Always", 10)]),
    ("Job with restartPolicy Never", workload("Job", selector="null", replicas="null").replace("    spec:\n", "    spec:\n      restartPolicy: Never\n"), []),
]
# fmt: on


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=name) for name, t, e in WORKLOADS]
)
def test_workloads(text: str, expected: list[Found]) -> None:
    assert errors(text) == expected


def test_workload_without_template() -> None:
    text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: {a: b}}\n"
    assert errors(text) == [
        ("Invalid", "spec.template.metadata.labels", MISMATCH, {}, 4),
        ("Required", "spec.template.spec.containers", "Required value", None, 4),
    ]


CRONJOB = """\
apiVersion: batch/v1
kind: CronJob
metadata: {{name: {name}}}
spec:
  schedule: {schedule}
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{{name: c}}]
"""


@pytest.mark.parametrize(
    ("name", "schedule", "expected"),
    [
        pytest.param("nightly", '"0 3 * * *"', [], id="valid"),
        pytest.param(
            "n" * 53,
            '"0 3 * * *"',
            [("Invalid", "metadata.name", "must be no more than 52 characters", "n" * 53, 3)],
            id="name of 53",
        ),
        pytest.param(
            "nightly",
            "null",
            [("Required", "spec.schedule", "Required value", None, 5)],
            id="no schedule",
        ),
    ],
)
def test_cronjobs(name: str, schedule: str, expected: list[Found]) -> None:
    assert errors(CRONJOB.format(name=name, schedule=schedule)) == expected


def service(spec: str, name: str = "web") -> str:
    head = f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: app}}\nspec:\n"
    return head + textwrap.indent(textwrap.dedent(spec).strip("\n") + "\n", "  ")  # line 5 on


SERVICE_TYPES = 'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"'
NODE_PORT_RANGE = "provided port is not in the valid range. The range of valid ports is 30000-32767"

# fmt: off
SERVICES: list[tuple[str, str, list[Found]]] = [
    ("valid", "selector: {app: web}\nports: [{port: 80, targetPort: http}]", []),
    ("type", "type: Internal\nports: [{port: 80}]", [("NotSupported", "spec.type", SERVICE_TYPES, "Internal", 5)]),
    ("clusterIP not an address", "clusterIP: 10.0.0\nports: [{port: 80}]", [("Invalid", "spec.clusterIP", INVALID_IP, "10.0.0", 5)]),
    ("clusterIP None without ports (headless)", "clusterIP: None", []),
    ("clusterIP address", "clusterIP: 10.96.0.10\nports: [{port: 53, protocol: UDP}]", []),
    ("no ports", "selector: {app: web}", [("Required", "spec.ports", "Required value", None, 4)]),
    ("ExternalName needs externalName, not ports", "type: ExternalName", [("Required", "spec.externalName", "Required value", None, 4)]),
    ("port 0", "ports: [{port: 0}]", [("Invalid", "spec.ports[0].port", m.RANGE, 0, 5)]),
    ("port missing", "ports: [{targetPort: 80}]", [("Invalid", "spec.ports[0].port", m.RANGE, 0, 5)]),
    ("two ports need names", "ports:\n  - {port: 80}\n  - {port: 443}", [
        ("Required", "spec.ports[0].name", "Required value", None, 6),
        ("Required", "spec.ports[1].name", "Required value", None, 7),
    ]),
    ("port name is a DNS label", "ports: [{port: 80, name: HTTP}]", [("Invalid", "spec.ports[0].name", m.DNS_LABEL, "HTTP", 5)]),
    ("duplicate port names", "ports:\n  - {port: 80, name: web}\n  - {port: 81, name: web}", [("Duplicate", "spec.ports[1].name", "Duplicate value", "web", 7)]),
    ("duplicate port and protocol", "ports:\n  - {port: 80, name: a}\n  - {port: 80, name: b}", [("Duplicate", "spec.ports[1]", "Duplicate value", "80/TCP", 7)]),
    ("same port, other protocol", "ports:\n  - {port: 53, name: a, protocol: UDP}\n  - {port: 53, name: b}", []),
    ("protocol tcp", "ports: [{port: 80, protocol: tcp}]", [("NotSupported", "spec.ports[0].protocol", CONTAINER_PROTOCOLS, "tcp", 5)]),
    ("targetPort name", "ports: [{port: 80, targetPort: HTTP}]", [
        ("Invalid", "spec.ports[0].targetPort", m.PORT_CHARSET, "HTTP", 5),
        ("Invalid", "spec.ports[0].targetPort", m.PORT_LETTER, "HTTP", 5),
    ]),
    ("targetPort number", "ports: [{port: 80, targetPort: 70000}]", [("Invalid", "spec.ports[0].targetPort", m.RANGE, 70000, 5)]),
    ("targetPort 0 means port", "ports: [{port: 80, targetPort: 0}]", []),
    ("targetPort true", "ports: [{port: 80, targetPort: true}]", [("BadRequest", "spec.ports[0].targetPort", "must be an integer or a string (a port name), not a boolean", True, 5)]),
    ("nodePort on a ClusterIP Service", "ports: [{port: 80, nodePort: 31000}]", [("Forbidden", "spec.ports[0].nodePort", "may not be used when `type` is 'ClusterIP'", 31000, 5)]),
    ("nodePort out of range", "type: NodePort\nports: [{port: 80, nodePort: 80}]", [("Invalid", "spec.ports[0].nodePort", NODE_PORT_RANGE, 80, 6)]),
    ("nodePort in range", "type: NodePort\nports: [{port: 80, nodePort: 31000}]", []),
    ("duplicate nodePort", "type: NodePort\nports:\n  - {name: a, port: 80, nodePort: 31000}\n  - {name: b, port: 81, nodePort: 31000}", [("Duplicate", "spec.ports[1].nodePort", "Duplicate value", 31000, 8)]),
    ("selector values are strings", "selector: {app: web, v: 1}\nports: [{port: 80}]", [("BadRequest", "spec.selector", 'label "v" must be a string, not an integer: quote it (v: "1")', 1, 5)]),
]
# fmt: on


@pytest.mark.parametrize(
    ("spec", "expected"), [pytest.param(s, e, id=name) for name, s, e in SERVICES]
)
def test_services(spec: str, expected: list[Found]) -> None:
    assert errors(service(spec)) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("backend-svc", [], id="valid"),
        pytest.param(
            "1svc", [("Invalid", "metadata.name", m.DNS1035, "1svc", 3)], id="starts with a digit"
        ),
        pytest.param("web.v1", [("Invalid", "metadata.name", m.DNS1035, "web.v1", 3)], id="dots"),
    ],
)
def test_service_names_are_dns1035_labels(name: str, expected: list[Found]) -> None:
    assert errors(service("clusterIP: None", name=name)) == expected


NODE = """\
apiVersion: v1
kind: Node
metadata:
  name: {name}
  labels: {{kubernetes.io/hostname: {name}}}
spec:
  unschedulable: {unschedulable}
status:
  addresses:
    - {{type: Hostname, address: {name}}}
    - {{type: InternalIP, address: {ip}}}
"""


@pytest.mark.parametrize(
    ("name", "ip", "unschedulable", "expected"),
    [
        pytest.param("kind-worker", "172.18.0.3", "false", [], id="valid"),
        pytest.param(
            "kind-worker",
            "172.18.0",
            "false",
            [("Invalid", "status.addresses[1].address", INVALID_IP, "172.18.0", 11)],
            id="InternalIP not an address",
        ),
        pytest.param(
            "Worker_1",
            "172.18.0.3",
            "false",
            [("Invalid", "metadata.name", m.SUBDOMAIN, "Worker_1", 4)],
            id="name (the same text is a valid label value)",
        ),
        pytest.param(
            "n1",
            "172.18.0.3",
            '"yes"',
            [
                (
                    "BadRequest",
                    "spec.unschedulable",
                    "must be a boolean (true or false), not a string",
                    "yes",
                    7,
                )
            ],
            id="unschedulable as a string",
        ),
    ],
)
def test_nodes(name: str, ip: str, unschedulable: str, expected: list[Found]) -> None:
    assert errors(NODE.format(name=name, ip=ip, unschedulable=unschedulable)) == expected


def test_a_statefulset_whose_pod_names_cannot_be_dns_labels_is_warned_about() -> None:
    template = "  selector: {matchLabels: {a: b}}\n  template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, image: x}]}}\n"
    head = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: NAME\n  namespace: a\nspec:\n  serviceName: s\n"
    longest = "s" * 61
    assert warnings(head.replace("NAME", longest) + template) == []
    name = longest + "s"
    assert warnings(head.replace("NAME", name) + template) == [
        (
            "Warning",
            "metadata.name",
            '62 characters: the controller cannot create its pods (pod name "ssssssssssssssssssss...-0" '
            "is longer than 63 characters, and a pod's hostname must be a DNS label); netpol models "
            "them anyway",
            name,
            4,
        )
    ]
    assert errors(head.replace("NAME", name) + template) == []
