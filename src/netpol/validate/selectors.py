"""Label maps and label selectors (spec 5.6): ValidateLabels and ValidateLabelSelector."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from netpol.validate.names import byte_len, is_qualified_name, is_valid_label_value
from netpol.validate.report import Report, item_line

SELECTOR_FIELDS = ("matchLabels", "matchExpressions")
REQUIREMENT_FIELDS = ("key", "operator", "values")
ANNOTATIONS_MAX_BYTES = 256 * 1024
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
VALUES_REQUIRED = "must be specified when `operator` is 'In' or 'NotIn'"
VALUES_FORBIDDEN = "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"


@dataclass(frozen=True, slots=True)
class Selector:
    """A decoded selector, kept only to compare a workload's selector with its template."""

    match_labels: dict[str, str] = field(default_factory=dict)
    expressions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()
    valid: bool = True

    @property
    def is_empty(self) -> bool:
        return not self.match_labels and not self.expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        if any(labels.get(k) != v for k, v in self.match_labels.items()):
            return False
        for key, operator, values in self.expressions:
            present = key in labels
            if operator == "In" and not (present and labels[key] in values):
                return False
            if operator == "NotIn" and present and labels[key] in values:
                return False
            if operator == "Exists" and not present:
                return False
            if operator == "DoesNotExist" and present:
                return False
        return True


def validate_labels(r: Report, value: object, path: str) -> dict[str, str]:
    """Keys are qualified names, values label values; errors at ``path`` on the key's line."""
    labels: dict[str, str] = {}
    for key, text, line in r.string_entries(value, path, "label"):
        for message in is_qualified_name(key):
            r.invalid(path, key, message, line=line)
        for message in is_valid_label_value(text):
            r.invalid(path, text, message, line=line)
        labels[key] = text
    return labels


def validate_annotations(r: Report, value: object, path: str) -> None:
    """Keys are qualified names (checked lowercased, as the API server does); 256 KiB in total."""
    total = 0
    for key, text, line in r.string_entries(value, path, "annotation"):
        for message in is_qualified_name(key.lower()):
            r.invalid(path, key, message, line=line)
        total += byte_len(key) + byte_len(text)
    if total > ANNOTATIONS_MAX_BYTES:
        r.add("TooLong", path, f"must have at most {ANNOTATIONS_MAX_BYTES} bytes", f"{total} bytes")


def validate_selector(r: Report, value: object, path: str) -> Selector | None:
    """A LabelSelector at ``path``; None when the field is absent (or not a mapping)."""
    data = r.mapping(value, path)
    if data is None:
        return None
    r.known_fields(data, path, SELECTOR_FIELDS)
    before = len(r.diagnostics)
    labels = validate_labels(r, data.get("matchLabels"), f"{path}.matchLabels")
    expressions = []
    items = r.sequence(data.get("matchExpressions"), f"{path}.matchExpressions")
    for i, item in enumerate(items):
        requirement = _requirement(r, item, f"{path}.matchExpressions[{i}]")
        if requirement is not None:
            expressions.append(requirement)
    return Selector(labels, tuple(expressions), valid=len(r.diagnostics) == before)


def _requirement(r: Report, value: object, path: str) -> tuple[str, str, tuple[str, ...]] | None:
    data = r.mapping(value, path)
    if data is None:
        data_items: dict[object, object] = {}
    else:
        r.known_fields(data, path, REQUIREMENT_FIELDS)
        data_items = data
    # An absent key or operator decodes to "" and then fails validation, as upstream.
    key = r.string(_null_is_empty(data_items.get("key")), f"{path}.key")
    operator = r.string(_null_is_empty(data_items.get("operator")), f"{path}.operator")
    raw_values = r.sequence(data_items.get("values"), f"{path}.values")
    values: list[str] = []
    for j, item in enumerate(raw_values):
        text = r.string(item, f"{path}.values[{j}]")
        if text is not None:
            values.append(text)
    if operator is not None:
        _check_operator(r, operator, len(raw_values), path)
    if key is not None:
        for message in is_qualified_name(key):
            r.invalid(f"{path}.key", key, message)
    for j, item in enumerate(raw_values):
        if isinstance(item, str):
            for message in is_valid_label_value(item):
                r.invalid(f"{path}.values[{j}]", item, message, line=item_line(raw_values, j, 0))
    if key is None or operator is None:
        return None
    return key, operator, tuple(values)


def _check_operator(r: Report, operator: str, count: int, path: str) -> None:
    if operator in ("In", "NotIn"):
        if count == 0:
            r.required(f"{path}.values", VALUES_REQUIRED)
    elif operator in ("Exists", "DoesNotExist"):
        if count > 0:
            r.forbidden(f"{path}.values", VALUES_FORBIDDEN)
    else:
        r.invalid(f"{path}.operator", operator, "not a valid selector operator")


def _null_is_empty(value: object) -> object:
    return "" if value is None else value
