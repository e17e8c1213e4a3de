"""Label selectors as data: the keys a selector reads decide how pods split into classes."""

from __future__ import annotations

from netpol.model.selectors import EVERYTHING, LabelSelector, Requirement


def test_keys_are_those_of_match_labels_and_match_expressions() -> None:
    selector = LabelSelector(
        match_labels=(("app", "web"),),
        match_expressions=(Requirement("tier", "NotIn", ("db",)), Requirement("env", "Exists")),
    )
    assert selector.keys() == {"app", "tier", "env"}


def test_the_empty_selector_reads_no_key() -> None:
    assert EVERYTHING.keys() == frozenset()
