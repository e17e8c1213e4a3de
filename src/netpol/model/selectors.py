"""Label selectors as data (matching lives in ``netpol.engine.selectors``)."""

from __future__ import annotations

from dataclasses import dataclass

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # one of OPERATORS (validated before the model is built)
    values: tuple[str, ...] = ()

    def text(self) -> str:
        if self.operator == "Exists":
            return self.key
        if self.operator == "DoesNotExist":
            return f"!{self.key}"
        op = "in" if self.operator == "In" else "notin"
        return f"{self.key} {op} ({','.join(self.values)})"


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """``matchLabels`` and ``matchExpressions``, ANDed; both empty selects everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def keys(self) -> frozenset[str]:
        """Every label key the selector reads (what endpoint classes must tell apart)."""
        return frozenset(k for k, _ in self.match_labels) | {r.key for r in self.match_expressions}

    def requirements(self) -> tuple[Requirement, ...]:
        """All conditions as requirements; ``matchLabels {k: v}`` is ``k In (v)``."""
        equals = tuple(Requirement(k, "In", (v,)) for k, v in self.match_labels)
        return equals + self.match_expressions

    def text(self) -> str:
        """kubectl's selector syntax: ``app=app1,role=db,tier notin (web)``; ``{}`` as ``<all>``."""
        if self.is_empty:
            return "<all>"
        parts = [f"{k}={v}" for k, v in self.match_labels]
        parts += [r.text() for r in self.match_expressions]
        return ",".join(parts)

    @staticmethod
    def of(labels: dict[str, str]) -> LabelSelector:
        return LabelSelector(match_labels=tuple(sorted(labels.items())))


EVERYTHING = LabelSelector()
