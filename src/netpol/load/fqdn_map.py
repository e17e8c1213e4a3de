"""``--fqdn-map FILE``: the addresses DNS names resolve to, for Cilium ``toFQDNs`` rules.

netpol cannot ask DNS (and the answer would be today's, not the one the agent's proxy
saw), so a ``toFQDNs`` rule matches nothing unless the user says what a name resolves
to. The file is one YAML or JSON mapping::

    api.example.com: 203.0.113.10
    cdn.example.com: [198.51.100.1, 198.51.100.2]
"""

from __future__ import annotations

import ipaddress
import re

from netpol.load.paths import read_text
from netpol.load.yamldoc import parse_text
from netpol.model.diagnostics import Diagnostic
from netpol.model.options import InputLimits

FqdnMap = tuple[tuple[str, tuple[str, ...]], ...]
# what toFQDNs matchName allows (Cilium's CRD pattern), a trailing dot optional
DNS_NAME = re.compile(r"[-a-zA-Z0-9_]+(\.[-a-zA-Z0-9_]+)*\.?")


class FqdnMapError(Exception):
    """The file cannot be read as a map: the message names file, line and entry."""


def read_fqdn_map(path: str, limits: InputLimits) -> FqdnMap:
    text = read_text(path, limits)
    if isinstance(text, Diagnostic):
        raise FqdnMapError(f"{text.location}: {text.message}")
    return parse_fqdn_map(text, path)


def parse_fqdn_map(text: str, path: str) -> FqdnMap:
    docs, problems = parse_text(text, path)
    if problems:
        raise FqdnMapError(f"{problems[0].location}: {problems[0].message}")
    if len(docs) != 1:
        raise FqdnMapError(f"{path}: expected one mapping of DNS names to addresses")
    data = docs[0].data
    found = []
    for name, value in data.items():
        where = f"{path}:{data.key_lines.get(name, docs[0].line)}"
        if not isinstance(name, str) or not DNS_NAME.fullmatch(name):
            raise FqdnMapError(f"{where}: {name!r}: a key must be a DNS name")
        items = value if isinstance(value, list) else [value]
        addresses = []
        for item in items:
            try:
                addresses.append(str(ipaddress.ip_address(str(item))))
            except ValueError:
                raise FqdnMapError(
                    f"{where}: {name}: {str(item)[:80]!r} is not an IP address"
                ) from None
        if not addresses:
            raise FqdnMapError(f"{where}: {name}: no address given")
        found.append((name.rstrip(".").lower(), tuple(addresses)))
    return tuple(found)
