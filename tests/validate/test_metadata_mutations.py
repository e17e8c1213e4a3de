"""An object whose name or namespace is not a string is named ``<unnamed>`` / ``default``
in its diagnostics, never by the raw value.

Mutation-checked: ``or`` made ``and`` in ``object_id`` (``validate/metadata.py``), which
names such an object ``NetworkPolicy/7/5``, passed every validate test.
"""

from __future__ import annotations

from tests.validate.support import diagnostics


def test_a_name_and_namespace_of_the_wrong_type_do_not_name_the_object() -> None:
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
        "metadata:\n  name: 5\n  namespace: 7\nspec: {podSelector: {}}\n"
    )
    assert [d.one_line() for d in diagnostics(text)] == [
        "t.yaml:4: error: NetworkPolicy/default/<unnamed>: metadata.name: "
        "must be a string, not an integer (value: 5)",
        "t.yaml:5: error: NetworkPolicy/default/<unnamed>: metadata.namespace: "
        "must be a string, not an integer (value: 7)",
    ]
