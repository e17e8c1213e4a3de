"""``netpol validate`` and an evaluating verb on Cilium policies, as a real process: the
exit status and the one line that names file, line, object, field and the refusing layer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"

BAD = """\
apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  endpointSelector: {matchLabels: {app: web}}
  ingress:
  - fromEndpoints: [{matchLabels: {app: frontend}}]
    fromCIDR: [10.0.0.0/8]
"""
BAD_LINE = (
    "{path}:8: error: CiliumNetworkPolicy/shop/web: spec.ingress[0].fromCIDR: combining "
    "fromEndpoints and fromCIDR is not supported yet: write them as two items of the list "
    "(the API server accepts it, but Cilium's agent refuses the policy: it has no effect)"
)
# the same policy with ports where the CIDR was: one kind of peer per item
GOOD = BAD.replace("fromCIDR: [10.0.0.0/8]", 'toPorts: [{ports: [{port: "8080", protocol: TCP}]}]')


def netpol(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run(
        [sys.executable, "-m", "netpol", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_validate_names_the_refused_cnp_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(BAD)
    result = netpol("validate", str(path))
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines() == [
        BAD_LINE.format(path=path),
        f"{path}: 1 object in 1 file (1 CiliumNetworkPolicy): 1 error in 1 object",
    ]


def test_validate_passes_a_good_cnp(tmp_path: Path) -> None:
    path = tmp_path / "web.yaml"
    path.write_text(GOOD)
    result = netpol("validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"{path}: 1 object in 1 file (1 CiliumNetworkPolicy), all valid"
    ]


def test_an_evaluating_verb_exits_2_unless_the_refused_policy_is_skipped(tmp_path: Path) -> None:
    """Refused by the agent = no effect at all: --skip-invalid drops the object."""
    path = tmp_path / "web.yaml"
    path.write_text(BAD)
    refused = netpol("get", "pods", str(path))
    assert refused.returncode == 2
    assert BAD_LINE.format(path=path) in refused.stderr.splitlines()
    skipped = netpol("get", "pods", "--skip-invalid", str(path))
    assert skipped.returncode == 0, skipped.stderr
    assert (
        f"{BAD_LINE.format(path=path)} (object skipped)".replace("error:", "warning:")
        in skipped.stderr.splitlines()
    )
