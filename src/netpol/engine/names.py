"""Names as users write them: one lookup for pods, workloads and Services, one "did you
mean", and kubectl's ``-l`` label selector syntax.

Every verb that takes a name (explain, verify, describe, generate, lab exec) finds it
here, so ``app1-ns/frontend`` means the same thing everywhere: an exact pod, workload or
Service of that namespace, or else the only workload (or bare pod) whose name begins so.
More than one meaning is refused with the candidates listed; none offers the near names.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from netpol.engine.selectors import matches
from netpol.model.objects import Pod, Service
from netpol.model.selectors import LabelSelector, Requirement


class ResolveError(ValueError):
    """A name that matches nothing, with a one-line reason for the user."""


class UnknownName(ResolveError):
    """No object has the name; ``hint`` is the "did you mean" tail (may be empty)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message + hint)
        self.hint = hint


class AmbiguousName(ResolveError):
    """Several objects could be meant; the message lists them."""


def did_you_mean(name: str, candidates: Iterable[str], limit: int = 3) -> str:
    """`` (did you mean a, b?)`` for the candidates close to ``name``; ``""`` when none is.

    Close means: spelt nearly the same (difflib), or beginning with what was written.
    """
    known = sorted(set(candidates))
    scored = [(difflib.SequenceMatcher(None, name, c).ratio(), c) for c in known]
    best = max((score for score, _ in scored), default=0.0)
    # the nearest spellings only: a typo of frontend-deploy is not also backend-deploy
    near = [c for score, c in sorted(scored, key=lambda s: -s[0]) if score >= max(0.6, best - 0.1)]
    if not near and name:
        near = [c for c in known if c.startswith(name)]
    near = near[:limit]
    return f" (did you mean {', '.join(near)}?)" if near else ""


@dataclass(frozen=True, slots=True)
class Meaning:
    """One thing a NAMESPACE/NAME can stand for: a pod, a workload's pods or a Service."""

    shown: str  # kubectl's spelling: pod/ns/x, deployment/ns/x, svc/ns/x
    pods: tuple[Pod, ...] = ()
    service: Service | None = None


class Names:
    """The pods, workloads and Services of one cluster (or of a lab), by the names people use."""

    def __init__(
        self, pods: Iterable[Pod], services: Iterable[Service] = (), namespaces: Iterable[str] = ()
    ) -> None:
        self.pods = sorted(pods, key=lambda p: p.id)
        self.services = {s.id: s for s in services}
        self.pod_by_id = {p.id: p for p in self.pods}
        self.workloads: dict[str, tuple[str, list[Pod]]] = {}  # id -> (kind, pods)
        for pod in self.pods:
            if pod.workload is not None and pod.workload.kind != "Pod":
                _, members = self.workloads.setdefault(pod.workload.id, (pod.workload.kind, []))
                members.append(pod)
        self.namespaces = set(namespaces) | {p.namespace for p in self.pods}
        self.namespaces |= {s.namespace for s in self.services.values()}

    def exact(self, key: str, services: bool = True) -> list[Meaning]:
        """Everything named exactly NAMESPACE/NAME."""
        found = []
        pod = self.pod_by_id.get(key)
        if pod is not None:
            found.append(Meaning(f"pod/{key}", (pod,)))
        if key in self.workloads:
            kind, members = self.workloads[key]
            found.append(Meaning(f"{kind.lower()}/{key}", tuple(members)))
        if services and key in self.services:
            found.append(Meaning(f"svc/{key}", service=self.services[key]))
        return found

    def _prefixed(self, namespace: str | None, name: str) -> list[Meaning]:
        """The workloads, and the pods of no workload, whose name begins with ``name``."""
        found = [
            Meaning(f"{kind.lower()}/{key}", tuple(members))
            for key, (kind, members) in sorted(self.workloads.items())
            if key.partition("/")[2].startswith(name)
            and (namespace is None or key.partition("/")[0] == namespace)
        ]
        found += [
            Meaning(f"pod/{p.id}", (p,))
            for p in self.pods
            if (p.workload is None or p.workload.kind == "Pod")
            and p.name.startswith(name)
            and (namespace is None or p.namespace == namespace)
        ]
        return found

    def names_in(self, namespace: str | None) -> list[str]:
        """Every name a user could mean in ``namespace`` (``ns/name`` when None: any)."""
        keys = [*self.pod_by_id, *self.workloads, *self.services]
        if namespace is None:
            return keys
        return [k.partition("/")[2] for k in keys if k.partition("/")[0] == namespace]

    def lookup(self, namespace: str | None, name: str, text: str, services: bool = True) -> Meaning:
        """What NAMESPACE/NAME (``namespace`` None: any namespace) stands for; ``text`` is how
        the user wrote it, for the messages. Raises AmbiguousName or UnknownName."""
        if namespace is not None:
            found = self.exact(f"{namespace}/{name}", services)
        else:
            found = [m for k in self._keys_named(name) for m in self.exact(k, services)]
        if not found:
            found = self._prefixed(namespace, name)
            if len(found) > 1:
                listing = ", ".join(m.shown for m in found[:6])
                raise AmbiguousName(f"{text!r} could be {listing}: write the whole name")
        if len(found) > 1:  # a bare pod and a Service often share a name; never guess
            raise AmbiguousName(
                f"{text!r} is ambiguous: write {' or '.join(m.shown for m in found)}"
            )
        if found:
            return found[0]
        what = "pod, workload or Service" if services else "pod or workload"
        if namespace is None:
            raise UnknownName(
                f"no {what} {name!r} in any namespace", did_you_mean(name, self.names_in(None))
            )
        if namespace not in self.namespaces:
            raise UnknownName(
                f"{text!r}: no namespace {namespace!r}", did_you_mean(namespace, self.namespaces)
            )
        raise UnknownName(
            f"{text!r}: no {what} {name!r} in namespace {namespace}",
            did_you_mean(name, self.names_in(namespace)),
        )

    def _keys_named(self, name: str) -> list[str]:
        keys = dict.fromkeys([*self.pod_by_id, *self.workloads, *self.services])
        return [k for k in keys if k.partition("/")[2] == name]


def first_pod(names: Names, text: str, namespace: str | None = None) -> Pod:
    """The pod ``text`` (NS/POD, NS/WORKLOAD, a unique prefix, or a name alone when
    ``namespace`` is None) means: a workload's first pod by name."""
    ns, slash, name = text.rpartition("/")
    meaning = names.lookup(ns if slash else namespace, name, text, services=False)
    return meaning.pods[0]


# -- kubectl's -l / --selector ----------------------------------------------------------------

_KEY = r"(?:[A-Za-z0-9][-A-Za-z0-9_.]*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_SET = re.compile(rf"\s*(?P<key>{_KEY})\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)\s*")
_COMPARE = re.compile(rf"\s*(?P<key>{_KEY})\s*(?P<op>==|!=|=)\s*(?P<value>{_VALUE})\s*")
_EXISTS = re.compile(rf"\s*(?P<neg>!?)\s*(?P<key>{_KEY})\s*")


def parse_selector(text: str) -> LabelSelector:
    """kubectl's label selector: ``a=b``, ``a==b``, ``a!=b``, ``a in (x,y)``, ``a notin (x)``,
    ``a`` (exists), ``!a`` (does not exist), joined by commas and ANDed.

    Raises ValueError naming the part that is not one of these.
    """
    equal: list[tuple[str, str]] = []
    expressions: list[Requirement] = []
    for part in _split_requirements(text):
        if not part.strip():
            raise ValueError(f"selector {text!r}: empty requirement (a stray comma?)")
        found = _SET.fullmatch(part)
        if found:
            values = tuple(v.strip() for v in found["values"].split(","))
            bad = [v for v in values if not re.fullmatch(_VALUE, v) or not v]
            if bad:
                raise ValueError(f"selector {text!r}: {bad[0]!r} is not a label value")
            operator = "In" if found["op"] == "in" else "NotIn"
            expressions.append(Requirement(found["key"], operator, values))
            continue
        found = _COMPARE.fullmatch(part)
        if found:
            if found["op"] == "!=":
                expressions.append(Requirement(found["key"], "NotIn", (found["value"],)))
            else:
                equal.append((found["key"], found["value"]))
            continue
        found = _EXISTS.fullmatch(part)
        if found:
            operator = "DoesNotExist" if found["neg"] else "Exists"
            expressions.append(Requirement(found["key"], operator))
            continue
        raise ValueError(
            f"selector {text!r}: cannot read {part.strip()!r} (write key=value, key!=value, "
            "key in (a,b), key notin (a,b), key or !key)"
        )
    return LabelSelector(tuple(equal), tuple(expressions))


def _split_requirements(text: str) -> Sequence[str]:
    """Split on the commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise ValueError(f"selector {text!r}: ')' without '('")
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    if depth:
        raise ValueError(f"selector {text!r}: '(' without ')'")
    parts.append(current)
    return parts


# -- -n / -A / -l: which pods a verb lists or evaluates ---------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """The pods ``-n NAMESPACE`` and ``-l SELECTOR`` leave in view (both: both must hold);
    the default scope is every pod of every namespace."""

    namespace: str | None = None
    selector: LabelSelector | None = None

    @property
    def everything(self) -> bool:
        return self.namespace is None and self.selector is None

    def admits(self, pod: Pod) -> bool:
        """The pod is in scope: of the namespace and matching the selector."""
        if self.namespace is not None and pod.namespace != self.namespace:
            return False
        return self.selector is None or matches(self.selector, pod.labels)

    def admits_namespace(self, namespace: str | None) -> bool:
        """An object of ``namespace`` (None: cluster-scoped) is in view of ``-n``."""
        return self.namespace is None or namespace == self.namespace
