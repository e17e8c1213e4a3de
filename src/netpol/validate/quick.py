"""The common valid object, recognised in a few checks: a fast path before the full validator.

Each ``*_is_clean`` function answers True only when the full validator (``objects.py``,
``networkpolicy.py``, ``metadata.py``) would report nothing at all for the object: no error
and no warning. It knows the shapes valid objects have and answers False for anything
else, without saying why: the caller then runs the full, located path, which finds the
problem with the message and line it always gives. So this path cannot change a message;
at worst it declines and costs a little time. A property test (tests/validate/
test_quick.py) holds "clean here => no diagnostic there" on generated and mutated objects.

Most of the time of the full path is spent reporting nothing: building field paths,
calling a typed accessor per field, matching the same label keys and names against the
same regexes. Here strings are judged once per distinct value (label keys and values,
names, port names), by the very rules of ``names.py``, and the rest is plain type checks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeGuard

from netpol.load.memo import BoundedCache
from netpol.load.yamldoc import LocatedMap, RawDocument
from netpol.model.cidr import parse_ip_sloppy
from netpol.model.http_server import read_http_server
from netpol.model.objects import PROTOCOLS
from netpol.validate.addresses import pod_ip_problems, special_ip_problems
from netpol.validate.metadata import OBJECT_META_FIELDS
from netpol.validate.names import (
    is_dns1123_label,
    is_qualified_name,
    is_valid_label_value,
    is_valid_port_name,
    name_is_dns1035_label,
    name_is_dns_subdomain,
)
from netpol.validate.networkpolicy import (
    IPBLOCK_FIELDS,
    PEER_FIELDS,
    POLICY_TYPES,
    PORT_FIELDS,
    SPEC_FIELDS,
    TOP_FIELDS,
    validate_ip_block,
)
from netpol.validate.objects import (
    CONTAINER_PROTOCOLS,
    CRONJOB_NAME_MAX,
    JOB_RESTART_POLICIES,
    NODE_PORT_RANGE,
    SERVICE_TYPES,
)
from netpol.validate.report import INT32_MAX, Report
from netpol.validate.selectors import (
    ANNOTATIONS_MAX_BYTES,
    OPERATORS,
    REQUIREMENT_FIELDS,
    SELECTOR_FIELDS,
    Selector,
)

# A distinct string is judged once; a hostile input with millions of distinct keys only
# makes a memo start over, never grow without bound.
MEMO_LIMIT = 100_000
MEMO_TEXT_MAX = 253  # the longest valid name (a DNS subdomain)

QuickCheck = Callable[[LocatedMap, Any], bool]


class _Judged(BoundedCache[str, bool]):
    """``memo[text]``: whether ``rule(text)`` finds nothing wrong, computed once per text
    (callers make sure that ``text`` is a string)."""

    __slots__ = ("rule",)

    def __init__(self, rule: Callable[[str], list[str]]) -> None:
        super().__init__(MEMO_LIMIT)
        self.rule = rule

    def __missing__(self, text: str) -> bool:
        ok = not self.rule(text)
        if len(text) <= MEMO_TEXT_MAX:  # longer texts are no names: not kept alive here
            self.keep(text, ok)
        return ok


_LABEL_KEY = _Judged(is_qualified_name)
_LABEL_VALUE = _Judged(is_valid_label_value)
_ANNOTATION_KEY = _Judged(lambda key: is_qualified_name(key.lower()))
_PORT_NAME = _Judged(is_valid_port_name)
_DNS_LABEL = _Judged(is_dns1123_label)
_NAMESPACE = _DNS_LABEL  # name_is_dns_label without a prefix is is_dns1123_label
_SUBDOMAIN_NAME = _Judged(name_is_dns_subdomain)
_SERVICE_NAME = _Judged(name_is_dns1035_label)
_OBJECT_META_FIELDS = frozenset(OBJECT_META_FIELDS)
_TOP_FIELDS = frozenset(TOP_FIELDS)
_SPEC_FIELDS = frozenset(SPEC_FIELDS)
_PORT_FIELDS = frozenset(PORT_FIELDS)
_PEER_FIELDS = frozenset(PEER_FIELDS)
_IPBLOCK_FIELDS = frozenset(IPBLOCK_FIELDS)
_SELECTOR_FIELDS = frozenset(SELECTOR_FIELDS)
_REQUIREMENT_FIELDS = frozenset(REQUIREMENT_FIELDS)


def _port_number(value: object) -> bool:
    """An integer port 1-65535 (a bool is an int to Python, and no integer to Go)."""
    return value.__class__ is int and 1 <= value <= 65535


def _within(value: object, fields: frozenset[str]) -> TypeGuard[LocatedMap]:
    """A mapping (as the readers make them) whose every key is one of ``fields``."""
    return isinstance(value, LocatedMap) and fields.issuperset(value)


def _optional_string(value: object) -> bool:
    return value is None or value.__class__ is str


# -- metadata and labels ------------------------------------------------------------------


def _labels(value: object) -> dict[str, str] | None:
    """The label map if every entry is valid (None or {} when absent), else None."""
    if value is None:
        return {}
    if not isinstance(value, LocatedMap):
        return None
    labels: dict[str, str] = {}
    for key, text in value.items():
        if text is None:
            text = ""  # JSON null decodes to the empty string
        if text.__class__ is not str or key.__class__ is not str:
            return None
        if not (_LABEL_KEY[key] and _LABEL_VALUE[text]):
            return None
        labels[key] = text
    return labels


def _annotations(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, LocatedMap):
        return False
    size = 0
    for key, text in value.items():
        if not (text is None or text.__class__ is str) or key.__class__ is not str:
            return False
        if not _ANNOTATION_KEY[key]:
            return False
        size += len(key) + (len(text) if text else 0)
    # four UTF-8 bytes per character at most: under this the byte count is under the limit
    return size * 4 <= ANNOTATIONS_MAX_BYTES


def _metadata(metadata: object, names: _Judged, namespaced: bool) -> bool:
    if not _within(metadata, _OBJECT_META_FIELDS):
        return False  # absent: the name is required
    if metadata.get("generateName") is not None:
        return False  # rare: the full path checks the prefix
    name = metadata.get("name")
    if not name or name.__class__ is not str or not names[name]:
        return False
    namespace = metadata.get("namespace")
    if namespace is not None:
        if namespace.__class__ is not str:
            return False
        if namespaced and namespace and not _NAMESPACE[namespace]:
            return False
    return _labels(metadata.get("labels")) is not None and _annotations(metadata.get("annotations"))


# -- selectors ------------------------------------------------------------------------------


def _selector(value: object) -> bool:
    """A LabelSelector without any problem."""
    if not _within(value, _SELECTOR_FIELDS):
        return False
    if _labels(value.get("matchLabels")) is None:
        return False
    items = value.get("matchExpressions")
    if items is None:
        return True
    return isinstance(items, list) and all(_requirement(item) is not None for item in items)


def _decoded_selector(value: LocatedMap) -> Selector:
    """The Selector of a clean ``value``, as ``validate_selector`` decodes it."""
    labels = _labels(value.get("matchLabels")) or {}
    items = value.get("matchExpressions") or []
    return Selector(labels, tuple(_requirement(item) for item in items))  # type: ignore[misc]


def _requirement(item: object) -> tuple[str, str, tuple[str, ...]] | None:
    if not _within(item, _REQUIREMENT_FIELDS):
        return None
    key, operator, values = item.get("key"), item.get("operator"), item.get("values")
    if key.__class__ is not str or not _LABEL_KEY[key] or operator not in OPERATORS:
        return None
    if values is None:
        values = []
    elif not isinstance(values, list) or not all(
        text.__class__ is str and _LABEL_VALUE[text] for text in values
    ):
        return None
    if (len(values) > 0) != (operator == "In" or operator == "NotIn"):
        return None  # In and NotIn need values, Exists and DoesNotExist refuse them
    return key, operator, tuple(values)


# -- NetworkPolicy ----------------------------------------------------------------------


def network_policy_is_clean(data: LocatedMap, metadata: Any) -> bool:
    if not _TOP_FIELDS.issuperset(data):
        return False
    if not _metadata(metadata, _SUBDOMAIN_NAME, namespaced=True):
        return False
    spec = data.get("spec")
    if spec is None:
        return True
    if not _within(spec, _SPEC_FIELDS):
        return False
    pod_selector = spec.get("podSelector")
    if pod_selector is not None and not _selector(pod_selector):
        return False
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            return False
        for rule in rules:
            if rule is not None and not _rule(rule, peers):
                return False
    return _policy_types(spec.get("policyTypes"))


def _rule(rule: object, peers: str) -> bool:
    if not isinstance(rule, LocatedMap):
        return False
    assert isinstance(rule, LocatedMap)
    for key in rule:
        if key != "ports" and key != peers:
            return False
    ports = rule.get("ports")
    if ports is not None:
        if not isinstance(ports, list):
            return False
        for port in ports:
            if port is not None and not _policy_port(port):
                return False
    items = rule.get(peers)
    if items is not None:
        if not isinstance(items, list):
            return False
        for peer in items:
            if not _peer(peer):
                return False
    return True


def _policy_port(port: object) -> bool:
    if not _within(port, _PORT_FIELDS):
        return False
    protocol = port.get("protocol")
    if protocol is not None and protocol not in PROTOCOLS:
        return False
    number, end = port.get("port"), port.get("endPort")
    if number is None:
        return end is None
    if number.__class__ is str:
        return end is None and _PORT_NAME[number]
    if not _port_number(number):
        return False
    return end is None or (_port_number(end) and end >= number)


def _peer(peer: object) -> bool:
    if not _within(peer, _PEER_FIELDS):
        return False  # null is an empty peer, which must specify one
    ip_block = peer.get("ipBlock")
    pod, namespace = peer.get("podSelector"), peer.get("namespaceSelector")
    if ip_block is not None:
        return pod is None and namespace is None and _ip_block_is_clean(ip_block)
    if pod is None and namespace is None:
        return False
    return (pod is None or _selector(pod)) and (namespace is None or _selector(namespace))


_SCRATCH = RawDocument("", 0, LocatedMap())
_IP_BLOCKS: BoundedCache[tuple[str, tuple[str, ...]], bool] = BoundedCache(MEMO_LIMIT)


def _ip_block_is_clean(block: object) -> bool:
    """Judged by the full check itself, once per (cidr, except) written: its CIDR rules
    and warnings are many, and the same few blocks recur across policies."""
    if not _within(block, _IPBLOCK_FIELDS):
        return False
    cidr, excepts = block.get("cidr"), block.get("except")
    if excepts is None:
        excepts = []
    if cidr.__class__ is not str or not isinstance(excepts, list):
        return False
    if not all(text.__class__ is str for text in excepts):
        return False
    key = (cidr, tuple(excepts))
    clean = _IP_BLOCKS.get(key)
    if clean is None:
        scratch = Report(_SCRATCH, _SCRATCH.data, "")
        validate_ip_block(scratch, block, "ipBlock")
        clean = _IP_BLOCKS.keep(key, not scratch.diagnostics)
    return clean


def _policy_types(value: object) -> bool:
    if value is None:
        return True
    if not isinstance(value, list) or len(value) > len(POLICY_TYPES):
        return False
    return all(item in POLICY_TYPES for item in value)


# -- workloads and pods -------------------------------------------------------------------


def namespace_is_clean(data: LocatedMap, metadata: Any) -> bool:
    return _metadata(metadata, _NAMESPACE, namespaced=False)


def pod_is_clean(data: LocatedMap, metadata: Any) -> bool:
    if not _metadata(metadata, _SUBDOMAIN_NAME, namespaced=True):
        return False
    if not _pod_spec(data.get("spec")):
        return False
    status = data.get("status")
    if status is None:
        return True
    if not isinstance(status, LocatedMap):
        return False
    if not _pod_ip(status.get("podIP")):
        return False
    host_ip = status.get("hostIP")
    if not _optional_string(host_ip) or (host_ip and parse_ip_sloppy(host_ip) is None):
        return False
    pod_ips = status.get("podIPs")
    if pod_ips is None:
        return True
    if not isinstance(pod_ips, list):
        return False
    return all(isinstance(entry, LocatedMap) and _pod_ip(entry.get("ip")) for entry in pod_ips)


def _pod_ip(text: object) -> bool:
    return text is None or (text.__class__ is str and (not text or not pod_ip_problems(text)))


def workload_is_clean(kind: str) -> QuickCheck:
    """Deployment, ReplicaSet, StatefulSet, DaemonSet (``objects.workload_validator``)."""

    def is_clean(data: LocatedMap, metadata: Any) -> bool:
        if not _metadata(metadata, _SUBDOMAIN_NAME, namespaced=True):
            return False
        spec = data.get("spec")
        if not isinstance(spec, LocatedMap):
            return False  # absent: the selector is required
        if kind != "DaemonSet" and not _non_negative(spec.get("replicas")):
            return False
        if kind == "StatefulSet":
            if not _optional_string(spec.get("serviceName")):
                return False
            if len(metadata["name"]) + 2 > 63:
                return False  # the controller cannot name its pods: a warning
        return _template(spec, selector_required=True)

    return is_clean


def job_is_clean(data: LocatedMap, metadata: Any) -> bool:
    if not _metadata(metadata, _SUBDOMAIN_NAME, namespaced=True):
        return False
    spec = data.get("spec")
    if not isinstance(spec, LocatedMap):
        return False
    if not (_non_negative(spec.get("parallelism")) and _non_negative(spec.get("completions"))):
        return False
    return _template(spec, selector_required=False) and _job_restart_policy(spec)


def cronjob_is_clean(data: LocatedMap, metadata: Any) -> bool:
    if not _metadata(metadata, _SUBDOMAIN_NAME, namespaced=True):
        return False
    if len(metadata["name"]) > CRONJOB_NAME_MAX:
        return False
    spec = data.get("spec")
    if not isinstance(spec, LocatedMap):
        return False
    schedule = spec.get("schedule")
    if not schedule or schedule.__class__ is not str:
        return False
    job_template = spec.get("jobTemplate")
    if not isinstance(job_template, LocatedMap):
        return False
    job_spec = job_template.get("spec")
    if not isinstance(job_spec, LocatedMap):
        return False
    return _template(job_spec, selector_required=False) and _job_restart_policy(job_spec)


def _non_negative(value: object) -> bool:
    return value is None or (value.__class__ is int and 0 <= value <= INT32_MAX)


def _job_restart_policy(spec: LocatedMap) -> bool:
    template = spec.get("template")
    pod = template.get("spec") if isinstance(template, LocatedMap) else None
    policy = pod.get("restartPolicy") if isinstance(pod, LocatedMap) else None
    return policy in JOB_RESTART_POLICIES


def _template(spec: LocatedMap, selector_required: bool) -> bool:
    raw_selector = spec.get("selector")
    selector = None
    if raw_selector is not None:
        if not _selector(raw_selector):
            return False
        selector = _decoded_selector(raw_selector)
        if selector_required and selector.is_empty:
            return False
    elif selector_required:
        return False
    template = spec.get("template")
    if template is None:
        return False  # no pod spec: containers are required
    if not isinstance(template, LocatedMap):
        return False
    meta = template.get("metadata")
    if meta is None:
        meta = {}
    elif not isinstance(meta, LocatedMap):
        return False
    labels = _labels(meta.get("labels"))
    if labels is None:
        return False
    if selector is not None and not selector.is_empty and not selector.matches(labels):
        return False
    return _pod_spec(template.get("spec"))


def _pod_spec(spec: object) -> bool:
    if not isinstance(spec, LocatedMap):
        return False  # absent: containers are required
    assert isinstance(spec, LocatedMap)
    host_network = spec.get("hostNetwork")
    if not (host_network is None or host_network.__class__ is bool):
        return False
    if not _optional_string(spec.get("nodeName")):
        return False
    containers = spec.get("containers")
    if not containers or not isinstance(containers, list):
        return False
    init = spec.get("initContainers")
    if init is None:
        init = []
    elif not isinstance(init, list):
        return False
    names: set[str] = set()
    return all(_container(container, names) for container in init + containers)


def _container(container: object, names: set[str]) -> bool:
    if not isinstance(container, LocatedMap):
        return False
    assert isinstance(container, LocatedMap)
    name = container.get("name")
    if not name or name.__class__ is not str or not _DNS_LABEL[name] or name in names:
        return False
    names.add(name)
    if not _optional_string(container.get("image")):
        return False
    argv: list[str] = []
    for key in ("command", "args"):
        items = container.get(key)
        if items is None:
            continue
        if not isinstance(items, list) or not all(item.__class__ is str for item in items):
            return False
        argv += items
    if argv:
        command = read_http_server(argv)
        if command is not None and command.problem and command.port_index is not None:
            return False  # Python would refuse the port: a warning
    ports = container.get("ports")
    if ports is None:
        return True
    if not isinstance(ports, list):
        return False
    port_names: set[str] = set()
    for port in ports:
        if not isinstance(port, LocatedMap):
            return False
        port_name = port.get("name")
        if port_name is not None and port_name != "":
            if port_name.__class__ is not str or not _PORT_NAME[port_name]:
                return False
            if port_name in port_names:
                return False
            port_names.add(port_name)
        if not _port_number(port.get("containerPort")):
            return False
        host_port = port.get("hostPort")
        unset = host_port is None or (host_port.__class__ is int and host_port == 0)
        if not unset and not _port_number(host_port):
            return False
        if not _protocol(port.get("protocol")):
            return False
    return True


def _protocol(value: object) -> bool:
    return value is None or value == "" or value in CONTAINER_PROTOCOLS


# -- Service ------------------------------------------------------------------------------


def service_is_clean(data: LocatedMap, metadata: Any) -> bool:
    if not _metadata(metadata, _SERVICE_NAME, namespaced=True):
        return False
    spec = data.get("spec")
    if not isinstance(spec, LocatedMap):
        return False  # absent: ports are required
    service_type = spec.get("type")
    if service_type is None or service_type == "":
        service_type = "ClusterIP"
    elif service_type not in SERVICE_TYPES:
        return False
    cluster_ip = spec.get("clusterIP")
    if not _cluster_ip(cluster_ip):
        return False
    cluster_ips = spec.get("clusterIPs")
    if cluster_ips is not None and not (
        isinstance(cluster_ips, list) and all(_cluster_ip(ip) for ip in cluster_ips)
    ):
        return False
    if _labels(spec.get("selector")) is None:
        return False
    if service_type == "ExternalName":
        external = spec.get("externalName")
        if not external or external.__class__ is not str:
            return False
    ports = spec.get("ports")
    if ports is None:
        ports = []
    elif not isinstance(ports, list):
        return False
    if not ports and cluster_ip != "None" and service_type != "ExternalName":
        return False
    return _service_ports(ports, service_type)


def _cluster_ip(text: object) -> bool:
    if text is None or text == "" or text == "None":
        return True
    if text.__class__ is not str:
        return False
    assert isinstance(text, str)
    address = parse_ip_sloppy(text)
    return address is not None and not special_ip_problems(address, text)


def _service_ports(ports: list[Any], service_type: str) -> bool:
    names: set[str] = set()
    seen: set[tuple[Any, Any]] = set()  # (port, protocol), checked before added
    node_ports: set[tuple[Any, Any]] = set()
    for port in ports:
        if not isinstance(port, LocatedMap):
            return False
        name = port.get("name")
        if name is None or name == "":
            if len(ports) > 1:
                return False  # a name is required
        elif name.__class__ is not str or not _DNS_LABEL[name] or name in names:
            return False
        else:
            names.add(name)
        number = port.get("port")
        if not _port_number(number):
            return False
        protocol = port.get("protocol")
        if protocol is None or protocol == "":
            protocol = "TCP"
        elif protocol not in CONTAINER_PROTOCOLS:
            return False
        target = port.get("targetPort")
        if not (target is None or target == "" or (target.__class__ is int and target == 0)):
            if target.__class__ is str:
                if not _PORT_NAME[target]:
                    return False
            elif not _port_number(target):
                return False
        if (number, protocol) in seen:
            return False
        seen.add((number, protocol))
        node_port = port.get("nodePort")
        if node_port is None or (node_port.__class__ is int and node_port == 0):
            continue
        lo, hi = NODE_PORT_RANGE
        if node_port.__class__ is not int or service_type == "ClusterIP":
            return False
        if not lo <= node_port <= hi or (node_port, protocol) in node_ports:
            return False
        node_ports.add((node_port, protocol))
    return True
