"""generate's note for a flow between two ends it writes no policy for.

Mutation-checked: ``w.id in self.restricted`` made ``not in`` in ``analysis/generate.py``
(the note then fires on the wrong flows) passed the analysis, render and generate CLI
tests; the note's text was asserted nowhere.
"""

from __future__ import annotations

from tests.analysis.test_generate import THREE_TIER, load, run

FLOWS = """
apiVersion: netpol/v1alpha1
kind: Flows
namespace: app1-ns
flows:
  - from: {workload: frontend-deploy}
    to: {workload: backend-deploy}
    ports: [5678/TCP]
  - from: {cidr: 10.0.0.0/8}
    to: {cidr: 192.168.0.0/16}
    ports: [443/TCP]
"""


def test_a_flow_between_two_unrestricted_ends_is_noted_and_nothing_else() -> None:
    result = run(FLOWS, load(THREE_TIER))
    assert result.notes == (
        "flow 2: 10.0.0.0/8 -> 192.168.0.0/16 443/TCP: neither end is restricted by a "
        "generated policy, so nothing needs writing for it",
    )
