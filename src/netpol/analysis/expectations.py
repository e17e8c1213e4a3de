"""The expectations file: what must and must not connect, in the user's words.

```yaml
kind: Expectations            # optional; apiVersion netpol/v1alpha1 optional too
namespace: app1-ns            # optional: namespace of names written without one
default: deny                 # optional: none (default), deny or allow
defaultScope: [app1-ns]       # optional: the default covers pod pairs with an end here
expectations:
  - name: frontend reaches backend
    from: app1-ns/frontend-deploy
    to: backend-svc
    ports: [5678/TCP]         # or port: 5678 (+ protocol: TCP); none: every port
    expect: allow             # or deny
```

The JSON Schema is ``docs/schemas/expectations.schema.json``; endpoint forms are in
``netpol.analysis.endpoints``. Problems raise ExpectationsError with file:line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from netpol.analysis.endpoints import EndpointError, EndpointSpec, parse_endpoint
from netpol.engine.ports import MAX_PORT, MIN_PORT, PROTOCOLS
from netpol.load.fields import unknown_key
from netpol.load.paths import DEFAULT_LIMITS, read_text
from netpol.load.yamldoc import LocatedList, LocatedMap, parse_text
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import InputLimits

API_VERSION = "netpol/v1alpha1"
KIND = "Expectations"
ACTIONS = ("allow", "deny")
DEFAULTS = ("none", "deny", "allow")
TOP_KEYS = {"apiVersion", "kind", "namespace", "default", "defaultScope", "expectations"}
PORT_KEYS = ("port", "protocol")
ITEM_KEYS = {"name", "from", "to", "port", "protocol", "ports", "expect", "description"}

_PORT = re.compile(r"(?P<lo>\d{1,5})(?:-(?P<hi>\d{1,5}))?(?:/(?P<proto>[A-Za-z]+))?")


class ExpectationsError(ValueError):
    """The file cannot be used: ``path:line: message``."""


@dataclass(frozen=True, slots=True)
class PortSpec:
    """``lo..hi`` of one protocol, as written (a Service port is translated when resolved)."""

    protocol: str
    lo: int
    hi: int

    def text(self) -> str:
        span = str(self.lo) if self.lo == self.hi else f"{self.lo}-{self.hi}"
        return f"{span}/{self.protocol}"


@dataclass(frozen=True)
class Expectation:
    index: int
    name: str
    src: EndpointSpec
    dst: EndpointSpec
    ports: tuple[PortSpec, ...]  # empty: every port of every protocol
    expect: str  # "allow" or "deny"
    line: int

    @property
    def ports_text(self) -> str:
        return ", ".join(p.text() for p in self.ports) if self.ports else "all"

    @property
    def title(self) -> str:
        return f"{self.src.text()} -> {self.dst.text()} {self.ports_text}: {self.expect}"


@dataclass(frozen=True)
class ExpectationsFile:
    path: str
    expectations: tuple[Expectation, ...]
    namespace: str | None = None
    default: str = "none"
    default_scope: tuple[str, ...] = ()  # empty: every namespace
    line_of_default: int = 0
    line_of_scope: int = 0


def read_expectations(path: str, limits: InputLimits = DEFAULT_LIMITS) -> ExpectationsFile:
    """Read and check ``path``; raises ExpectationsError (file:line: reason) on any problem."""
    text = read_text(path, limits)
    if isinstance(text, Diagnostic):
        raise ExpectationsError(f"{text.location}: {text.message}")
    return parse_expectations(text, path)


def parse_expectations(text: str, path: str = "expectations.yaml") -> ExpectationsFile:
    docs, problems = parse_text(text, path)
    if problems:
        raise ExpectationsError(problems[0].one_line())
    if len(docs) != 1:
        raise ExpectationsError(f"{path}: expected one YAML document, found {len(docs)}")
    doc = docs[0].data
    where = _Where(path)
    found = unknown_key(doc, TOP_KEYS)
    if found is not None:
        raise where.error(doc, found[0], found[1])
    kind = doc.get("kind", KIND)
    if kind != KIND:
        raise where.error(doc, "kind", f"kind must be {KIND}, not {kind!r}")
    namespace = doc.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise where.error(doc, "namespace", "namespace must be a string")
    default = doc.get("default", "none")
    if default not in DEFAULTS:
        raise where.error(
            doc, "default", f"default must be one of {', '.join(DEFAULTS)}, not {default!r}"
        )
    scope = doc.get("defaultScope", [])
    if isinstance(scope, str):
        scope = [scope]
    if not isinstance(scope, list) or not all(isinstance(s, str) for s in scope):
        raise where.error(doc, "defaultScope", "defaultScope must be a list of namespace names")
    items = doc.get("expectations")
    if not isinstance(items, list) or (not items and default == "none"):
        raise where.error(doc, "expectations", "expectations must be a non-empty list")
    expectations = tuple(_expectation(i, item, items, where) for i, item in enumerate(items))
    return ExpectationsFile(
        path,
        expectations,
        namespace,
        str(default),
        tuple(scope),
        doc.key_lines.get("default", 0),
        doc.key_lines.get("defaultScope", 0),
    )


class _Where:
    def __init__(self, path: str) -> None:
        self.path = path

    def error(self, node: object, key: str | int | None, message: str) -> ExpectationsError:
        line = 0
        if isinstance(node, LocatedMap):
            line = node.key_lines.get(key, node.line)
        elif isinstance(node, LocatedList) and isinstance(key, int) and key < len(node.item_lines):
            line = node.item_lines[key]
        return ExpectationsError(
            f"{self.path}:{line}: {message}" if line else f"{self.path}: {message}"
        )


def _expectation(index: int, item: object, items: list[object], where: _Where) -> Expectation:
    at = f"expectations[{index}]"
    if not isinstance(item, Mapping):
        raise where.error(items, index, f"{at}: must be a mapping with from, to and expect")
    found = unknown_key(item, ITEM_KEYS)
    if found is not None:
        raise where.error(item, found[0], f"{at}: {found[1]}")
    for key in ("from", "to", "expect"):
        if key not in item:
            raise where.error(items, index, f"{at}: {key} is required")
    expect = item["expect"]
    if expect not in ACTIONS:
        raise where.error(item, "expect", f"{at}.expect: must be allow or deny, not {expect!r}")
    try:
        src = parse_endpoint(item["from"], f"{at}.from")
        dst = parse_endpoint(item["to"], f"{at}.to")
    except EndpointError as exc:
        key = "from" if ".from" in str(exc) else "to"
        raise where.error(item, key, str(exc)) from None
    ports = _ports(item, at, where)
    line = items.item_lines[index] if isinstance(items, LocatedList) else 0
    for key in ("name", "description"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise where.error(item, key, f"{at}.{key}: must be a string")
    name = item.get("name")
    expectation = Expectation(index, "", src, dst, ports, str(expect), line)
    return Expectation(index, name or expectation.title, src, dst, ports, str(expect), line)


def _ports(item: Mapping[str, object], at: str, where: _Where) -> tuple[PortSpec, ...]:
    if "ports" in item and ("port" in item or "protocol" in item):
        raise where.error(item, "ports", f"{at}: give ports, or port (+ protocol), not both")
    if "ports" in item:
        raw = item["ports"]
        if not isinstance(raw, list) or not raw:
            raise where.error(item, "ports", f"{at}.ports: must be a non-empty list")
        return tuple(_port(p, None, f"{at}.ports[{i}]", item, where) for i, p in enumerate(raw))
    if "port" in item:
        return (_port(item["port"], item.get("protocol"), f"{at}.port", item, where),)
    if "protocol" in item:
        protocol = _protocol(item["protocol"], f"{at}.protocol", item, where)
        return (PortSpec(protocol, MIN_PORT, MAX_PORT),)
    return ()


def _protocol(value: object, at: str, item: Mapping[str, object], where: _Where) -> str:
    text = str(value).upper() if isinstance(value, str) else ""
    if text not in PROTOCOLS:
        raise where.error(
            item, "protocol", f"{at}: protocol must be TCP, UDP or SCTP, not {value!r}"
        )
    return text


def _port(
    value: object, protocol: object, at: str, item: Mapping[str, object], where: _Where
) -> PortSpec:
    key = "ports" if ".ports[" in at else "port"
    if isinstance(value, Mapping):
        found = unknown_key(value, PORT_KEYS)
        if found is not None:
            raise where.error(item, key, f"{at}: {found[1]}")
        if "port" not in value:
            raise where.error(item, key, f"{at}: port is required")
        return _port(value["port"], value.get("protocol"), at, item, where)
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise where.error(item, key, f"{at}: a port is 80, '80/TCP', '53/UDP' or '8000-8080/TCP'")
    match = _PORT.fullmatch(str(value).strip())
    if match is None:
        raise where.error(item, key, f"{at}: {value!r} is not a port (80, 53/UDP, 8000-8080/TCP)")
    lo = int(match.group("lo"))
    hi = int(match.group("hi") or lo)
    written = match.group("proto") or protocol or "TCP"
    proto = _protocol(written, at, item, where)
    if not MIN_PORT <= lo <= hi <= MAX_PORT:
        raise where.error(
            item, key, f"{at}: {value!r} is outside 1-65535 (or the range is reversed)"
        )
    return PortSpec(proto, lo, hi)
