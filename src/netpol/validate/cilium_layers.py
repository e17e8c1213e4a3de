"""The two layers that check a Cilium policy (Cilium semantics §9), and the list readers the
Cilium checks share.

The API server applies the CRD's schema: a violation fails ``kubectl apply``. The agent
then sanitizes each rule: a violation is only logged, and the whole policy object is not
imported (no allow, no deny, no default deny). Both are errors, and each message says
which layer refuses the object, since "applied and ignored" is the harder one to find.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netpol.model.diagnostics import Severity
from netpol.validate.report import Report, item_line
from netpol.validate.schema import schema_object

CRD = "kubectl apply refuses it: CRD schema"
AGENT = "the API server accepts it, but Cilium's agent refuses the policy: it has no effect"
# a CiliumCIDRGroup is no rule: the agent drops a prefix it cannot parse, not the group
AGENT_SKIPS_PREFIX = (
    "the API server accepts it, but Cilium's agent cannot parse it: the group does not hold it"
)
# the reason of the agent's refusals (the others are the API server's)
AGENT_REFUSED = "AgentRefused"


def refuse(
    r: Report,
    field: str,
    message: str,
    value: object = None,
    line: int = 0,
    consequence: str = AGENT,
) -> None:
    """An error of the agent's layer (``Rule.Sanitize`` and parsing)."""
    r.add(AGENT_REFUSED, field, f"{message} ({consequence})", value, line=line)


def name_api_server_layer(r: Report, start: int) -> None:
    """Every error found since ``start`` that is not the agent's is the API server's: say so."""
    r.diagnostics[start:] = [
        replace(d, message=f"{d.message} ({CRD})")
        if d.severity is Severity.ERROR and d.reason != AGENT_REFUSED
        else d
        for d in r.diagnostics[start:]
    ]


def object_items(r: Report, value: object, path: str) -> list[tuple[str, Any]]:
    """The mappings of a list of objects, with their paths (a null item is refused)."""
    out = []
    for i, item in enumerate(r.sequence(value, path)):
        data = schema_object(r, item, f"{path}[{i}]")
        if data is not None:
            out.append((f"{path}[{i}]", data))
    return out


def string_items(r: Report, value: object, path: str) -> list[tuple[str, str, int]]:
    """The strings of a list of strings, with their paths and lines."""
    items = r.sequence(value, path)
    out = []
    for i, item in enumerate(items):
        line = item_line(items, i, 0)
        text = r.item_string(item, f"{path}[{i}]", line)
        if text is not None:
            out.append((f"{path}[{i}]", text, line))
    return out


def non_empty_list(value: object) -> bool:
    """A list with items (Cilium counts ``len()``: an empty list is as good as absent)."""
    return isinstance(value, list) and bool(value)
