"""The YAML `netpol generate` writes for the three-tier flows, per kind, as golden files
(rewrite them with NETPOL_UPDATE_GOLDEN=1 after a deliberate change, and review the diff)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from netpol.analysis.flows import parse_flows
from netpol.analysis.generate import CILIUM, NETWORK_POLICY, GenerateSettings, generate
from netpol.model.options import Options
from netpol.validate.pipeline import load_cluster

REPO = Path(__file__).resolve().parents[2]
FLOWS = "examples/three-tier/flows.yaml"  # as the header comment names it


@pytest.mark.parametrize(
    ("kind", "default_deny", "name"),
    [
        (NETWORK_POLICY, False, "generate-three-tier.yaml"),
        (CILIUM, False, "generate-three-tier-cilium.yaml"),
        (CILIUM, True, "generate-three-tier-cilium-default-deny.yaml"),
    ],
)
def test_generated_policies_match_the_golden_file(
    golden: Callable[[str, str], None], kind: str, default_deny: bool, name: str
) -> None:
    loaded = load_cluster([str(REPO / "examples" / "three-tier")], Options())
    assert loaded.ok, [d.one_line() for d in loaded.errors]
    flows = parse_flows((REPO / FLOWS).read_text(), FLOWS)
    settings = GenerateSettings(kind=kind, default_deny=default_deny)
    golden(name, generate(loaded.cluster, flows, Options(), settings).yaml)
