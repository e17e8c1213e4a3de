"""Shape checks for the kinds the loader builds pods and Services from.

Not the whole API server: the rules that decide what the model gets (names, labels,
selectors, containers and their ports, Service ports, cluster IPs, pod IPs), each with
the API server's field path, error type and message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netpol.load.yamldoc import LocatedMap
from netpol.model.cidr import parse_ip_sloppy
from netpol.model.diagnostics import Severity
from netpol.model.http_server import read_http_server
from netpol.validate.addresses import INVALID_IP, pod_ip_problems, special_ip_problems
from netpol.validate.metadata import validate_metadata
from netpol.validate.names import (
    is_dns1123_label,
    is_valid_port_name,
    is_valid_port_num,
    name_is_dns1035_label,
    name_is_dns_label,
    name_is_dns_subdomain,
)
from netpol.validate.report import Report, item_line
from netpol.validate.selectors import validate_labels, validate_selector

CONTAINER_PROTOCOLS = ("SCTP", "TCP", "UDP")  # sorted, as the API server lists them here
SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
NODE_PORT_RANGE = (30000, 32767)
JOB_RESTART_POLICIES = ("OnFailure", "Never")
CRONJOB_NAME_MAX = 52  # 63 minus the 11 characters the controller appends

Validator = Callable[[Report, LocatedMap, LocatedMap | None], None]


def validate_namespace(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    validate_metadata(r, metadata, name_is_dns_label, namespaced=False)


def validate_node(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    """Name, labels, and the addresses netpol takes node IPs from."""
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=False)
    spec = r.mapping(data.get("spec"), "spec") or LocatedMap()
    r.boolean(spec.get("unschedulable"), "spec.unschedulable")
    for i, taint in enumerate(r.sequence(spec.get("taints"), "spec.taints")):
        r.mapping(taint, f"spec.taints[{i}]")
    status = r.mapping(data.get("status"), "status") or LocatedMap()
    for i, item in enumerate(r.sequence(status.get("addresses"), "status.addresses")):
        entry = r.mapping(item, f"status.addresses[{i}]")
        if entry is None:
            continue
        kind = r.string(entry.get("type"), f"status.addresses[{i}].type")
        if kind in ("InternalIP", "ExternalIP"):
            _ip(r, entry.get("address"), f"status.addresses[{i}].address")
        else:
            r.string(entry.get("address"), f"status.addresses[{i}].address")


def validate_pod(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)
    _pod_spec(r, data.get("spec"), "spec")
    status = r.mapping(data.get("status"), "status")
    if status is None:
        return
    # Not validated on create (the API server resets status), but netpol honours
    # status.podIP(s) from `kubectl get -o yaml`: they must be addresses a pod can have.
    _pod_ip(r, status.get("podIP"), "status.podIP")
    _ip(r, status.get("hostIP"), "status.hostIP")
    for i, item in enumerate(r.sequence(status.get("podIPs"), "status.podIPs")):
        entry = r.mapping(item, f"status.podIPs[{i}]")
        if entry is not None:
            _pod_ip(r, entry.get("ip"), f"status.podIPs[{i}].ip")


def workload_validator(kind: str) -> Validator:
    """Deployment, ReplicaSet, StatefulSet, DaemonSet: selector, template, replicas."""

    def validate(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
        validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)
        spec = r.mapping(data.get("spec"), "spec") or LocatedMap()
        if kind != "DaemonSet":
            _non_negative(r, spec.get("replicas"), "spec.replicas")
        if kind == "StatefulSet":
            r.string(spec.get("serviceName"), "spec.serviceName")
            _statefulset_pod_names(r, metadata)
        _template(r, spec, "spec", kind.lower(), selector_required=True)

    return validate


def validate_job(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)
    spec = r.mapping(data.get("spec"), "spec") or LocatedMap()
    for key in ("parallelism", "completions"):
        _non_negative(r, spec.get(key), f"spec.{key}")
    _template(r, spec, "spec", "job", selector_required=False)
    _job_restart_policy(r, spec, "spec")


def validate_cronjob(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    validate_metadata(r, metadata, name_is_dns_subdomain, namespaced=True)
    name = metadata.get("name") if metadata is not None else None
    if isinstance(name, str) and len(name) > CRONJOB_NAME_MAX:
        r.invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters")
    spec = r.mapping(data.get("spec"), "spec") or LocatedMap()
    raw_schedule = spec.get("schedule")
    if raw_schedule is None or r.string(raw_schedule, "spec.schedule") == "":
        r.required("spec.schedule")
    job_template = r.mapping(spec.get("jobTemplate"), "spec.jobTemplate") or LocatedMap()
    job_spec = r.mapping(job_template.get("spec"), "spec.jobTemplate.spec") or LocatedMap()
    _template(r, job_spec, "spec.jobTemplate.spec", "job", selector_required=False)
    _job_restart_policy(r, job_spec, "spec.jobTemplate.spec")


def validate_service(r: Report, data: LocatedMap, metadata: LocatedMap | None) -> None:
    validate_metadata(r, metadata, name_is_dns1035_label, namespaced=True)
    spec = r.mapping(data.get("spec"), "spec") or LocatedMap()
    service_type = r.string(spec.get("type"), "spec.type") or "ClusterIP"
    if service_type not in SERVICE_TYPES:
        r.not_supported("spec.type", service_type, SERVICE_TYPES)
    cluster_ip = r.string(spec.get("clusterIP"), "spec.clusterIP")
    _cluster_ip(r, cluster_ip, "spec.clusterIP")
    for i, item in enumerate(r.sequence(spec.get("clusterIPs"), "spec.clusterIPs")):
        _cluster_ip(r, r.string(item, f"spec.clusterIPs[{i}]"), f"spec.clusterIPs[{i}]")
    validate_labels(r, spec.get("selector"), "spec.selector")
    if service_type == "ExternalName":
        external = r.string(spec.get("externalName"), "spec.externalName")
        if not external:
            r.required("spec.externalName")
    ports = r.sequence(spec.get("ports"), "spec.ports")
    if not ports and cluster_ip != "None" and service_type != "ExternalName":
        r.required("spec.ports")
    _service_ports(r, ports, service_type)


def _service_ports(r: Report, ports: list[Any], service_type: str) -> None:
    names: set[str] = set()
    seen: set[tuple[int, str]] = set()
    node_ports: set[tuple[int, str]] = set()
    for i, item in enumerate(ports):
        path = f"spec.ports[{i}]"
        port = r.mapping(item, path)
        if port is None:
            if item is not None:
                continue  # wrong type, reported
            port = LocatedMap()  # a null item decodes to a zero ServicePort: port 0
        name = r.string(port.get("name"), f"{path}.name") or ""
        if not name and len(ports) > 1:
            r.required(f"{path}.name")
        elif name:
            for message in is_dns1123_label(name):
                r.invalid(f"{path}.name", name, message)
            if name in names:
                r.duplicate(f"{path}.name", name)
            names.add(name)
        raw_number = port.get("port")
        number = 0 if raw_number is None else r.integer(raw_number, f"{path}.port")
        if number is not None:
            for message in is_valid_port_num(number):
                r.invalid(f"{path}.port", number, message)
        protocol = _protocol(r, port.get("protocol"), f"{path}.protocol")
        target = port.get("targetPort")
        defaulted = target is None or target == "" or (type(target) is int and target == 0)
        if not defaulted:  # 0 and "" mean "same as port"
            _port_num_or_name(r, target, f"{path}.targetPort")
        if number is not None and protocol is not None:
            if (number, protocol) in seen:
                r.duplicate(path, f"{number}/{protocol}")
            seen.add((number, protocol))
        node_port = r.integer(port.get("nodePort"), f"{path}.nodePort")
        if node_port:
            _node_port(r, node_port, protocol, service_type, f"{path}.nodePort", node_ports)


def _node_port(
    r: Report,
    node_port: int,
    protocol: str | None,
    service_type: str,
    field: str,
    seen: set[tuple[int, str]],
) -> None:
    if service_type == "ClusterIP":
        r.forbidden(field, "may not be used when `type` is 'ClusterIP'", node_port)
        return
    lo, hi = NODE_PORT_RANGE
    if not lo <= node_port <= hi:
        r.invalid(
            field,
            node_port,
            f"provided port is not in the valid range. The range of valid ports is {lo}-{hi}",
        )
    key = (node_port, protocol or "TCP")
    if key in seen:
        r.duplicate(field, node_port)
    seen.add(key)


def _template(r: Report, spec: LocatedMap, path: str, kind: str, selector_required: bool) -> None:
    """``spec.selector`` and ``spec.template``: the pods a controller makes must match it."""
    selector = validate_selector(r, spec.get("selector"), f"{path}.selector")
    if selector is None and selector_required and spec.get("selector") is None:
        r.required(f"{path}.selector")
    elif selector is not None and selector.valid and selector.is_empty and selector_required:
        r.invalid(f"{path}.selector", {}, f"empty selector is invalid for {kind}")
    template = r.mapping(spec.get("template"), f"{path}.template") or LocatedMap()
    meta = r.mapping(template.get("metadata"), f"{path}.template.metadata") or LocatedMap()
    labels_path = f"{path}.template.metadata.labels"
    labels = validate_labels(r, meta.get("labels"), labels_path)
    matchable = selector is not None and selector.valid and not selector.is_empty
    if matchable and selector is not None and not selector.matches(labels):
        r.invalid(labels_path, labels, "`selector` does not match template `labels`")
    _pod_spec(r, template.get("spec"), f"{path}.template.spec")


def _statefulset_pod_names(r: Report, metadata: LocatedMap | None) -> None:
    """The API server takes a StatefulSet name up to 253 characters, but its controller
    cannot create a pod ``<name>-0`` longer than 63: the pod's hostname and its
    ``statefulset.kubernetes.io/pod-name`` label must be DNS labels."""
    name = metadata.get("name") if isinstance(metadata, LocatedMap) else None
    if isinstance(name, str) and len(name) + 2 > 63:
        r.warning(
            "metadata.name",
            f"{len(name)} characters: the controller cannot create its pods (pod name "
            f'"{name[:20]}...-0" is longer than 63 characters, and a pod\'s hostname must be a '
            "DNS label); netpol models them anyway",
            name,
        )


def _job_restart_policy(r: Report, spec: LocatedMap, path: str) -> None:
    template = spec.get("template")
    pod = template.get("spec") if isinstance(template, LocatedMap) else None
    policy = pod.get("restartPolicy") if isinstance(pod, LocatedMap) else None
    if policy is None or policy == "":
        policy = "Always"  # the pod template default, which a Job refuses
    if isinstance(policy, str) and policy not in JOB_RESTART_POLICIES:
        r.not_supported(f"{path}.template.spec.restartPolicy", policy, JOB_RESTART_POLICIES)


def _pod_spec(r: Report, value: object, path: str) -> None:
    spec = r.mapping(value, path) or LocatedMap()
    r.boolean(spec.get("hostNetwork"), f"{path}.hostNetwork")
    r.string(spec.get("nodeName"), f"{path}.nodeName")
    containers = r.sequence(spec.get("containers"), f"{path}.containers")
    if not containers:
        r.required(f"{path}.containers")
    names: set[str] = set()
    for key in ("initContainers", "containers"):
        items = containers if key == "containers" else r.sequence(spec.get(key), f"{path}.{key}")
        for i, item in enumerate(items):
            _container(r, item, f"{path}.{key}[{i}]", names)


def _container(r: Report, value: object, path: str, names: set[str]) -> None:
    container = r.mapping(value, path)
    if container is None:
        if value is None:
            r.required(f"{path}.name")
        return
    raw_name = container.get("name")
    name = r.string(raw_name, f"{path}.name")
    if raw_name is None or name == "":
        r.required(f"{path}.name")
    elif name is not None:
        for message in is_dns1123_label(name):
            r.invalid(f"{path}.name", name, message)
        if name in names:
            r.duplicate(f"{path}.name", name)
        names.add(name)
    r.string(container.get("image"), f"{path}.image")
    argv: list[tuple[str, str, int]] = []  # (text, field, line) of each argument
    for key in ("command", "args"):
        items = r.sequence(container.get(key), f"{path}.{key}")
        for i, item in enumerate(items):
            line = item_line(items, i, 0)
            text = r.string(item, f"{path}.{key}[{i}]", line=line)
            argv.append(("" if text is None else text, f"{path}.{key}[{i}]", line))
    _http_server(r, argv)
    _container_ports(r, container.get("ports"), f"{path}.ports")


def _http_server(r: Report, argv: list[tuple[str, str, int]]) -> None:
    """The one command the lab runs itself: a port Python refuses is worth a warning."""
    command = read_http_server([text for text, _, _ in argv])
    if command is None or not command.problem or command.port_index is None:
        return
    text, field, line = argv[command.port_index]
    r.add(
        "Warning",
        field,
        f"python3 -m http.server would not start ({command.problem}); the lab does not run "
        "it and listens on the declared ports instead",
        text,
        line=line,
        severity=Severity.WARNING,
    )


def _container_ports(r: Report, value: object, path: str) -> None:
    """validateContainerPorts: numbers, protocols, and names unique within the container."""
    names: set[str] = set()
    for i, item in enumerate(r.sequence(value, path)):
        field = f"{path}[{i}]"
        port = r.mapping(item, field)
        if port is None:
            if item is not None:
                continue  # wrong type, reported
            port = LocatedMap()
        name = r.string(port.get("name"), f"{field}.name") or ""
        if name:
            messages = is_valid_port_name(name)
            for message in messages:
                r.invalid(f"{field}.name", name, message)
            if not messages and name in names:
                r.duplicate(f"{field}.name", name)
            names.add(name)
        raw_number = port.get("containerPort")
        number = r.integer(raw_number, f"{field}.containerPort")
        if raw_number is None or number == 0:
            r.required(f"{field}.containerPort")
        elif number is not None:
            for message in is_valid_port_num(number):
                r.invalid(f"{field}.containerPort", number, message)
        host_port = r.integer(port.get("hostPort"), f"{field}.hostPort")
        if host_port:
            for message in is_valid_port_num(host_port):
                r.invalid(f"{field}.hostPort", host_port, message)
        _protocol(r, port.get("protocol"), f"{field}.protocol")


def _protocol(r: Report, value: object, field: str) -> str | None:
    """Container and Service port protocols: "" and absent default to TCP."""
    text = r.string(value, field)
    if value is not None and text is None:
        return None
    if not text:
        return "TCP"
    if text not in CONTAINER_PROTOCOLS:
        r.not_supported(field, text, CONTAINER_PROTOCOLS)
        return None
    return text


def _port_num_or_name(r: Report, value: object, field: str) -> None:
    if isinstance(value, str):
        for message in is_valid_port_name(value):
            r.invalid(field, value, message)
        return
    if isinstance(value, bool) or not isinstance(value, int):
        r.wrong_type(field, value, "an integer or a string (a port name)")
        return
    number = r.integer(value, field)
    if number is not None:
        for message in is_valid_port_num(number):
            r.invalid(field, number, message)


def _non_negative(r: Report, value: object, field: str) -> None:
    number = r.integer(value, field)
    if number is not None and number < 0:
        r.invalid(field, number, "must be greater than or equal to 0")


def _ip(r: Report, value: object, field: str) -> None:
    text = r.string(value, field)
    if text and parse_ip_sloppy(text) is None:
        r.invalid(field, text, INVALID_IP)


def _pod_ip(r: Report, value: object, field: str) -> None:
    text = r.string(value, field)
    for message in pod_ip_problems(text) if text else []:
        r.invalid(field, text, message)


def _cluster_ip(r: Report, text: str | None, field: str) -> None:
    """An address (as sloppy as the API server reads it) a VIP can be; "" and None are fine."""
    if not text or text == "None":
        return
    address = parse_ip_sloppy(text)
    for message in [INVALID_IP] if address is None else special_ip_problems(address, text):
        r.invalid(field, text, message)
