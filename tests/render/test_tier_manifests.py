"""The tiered policy printer on models no loader built: what it writes when the model
holds something its text no longer says."""

from __future__ import annotations

from netpol.load.calico_selector import parse_expression
from netpol.model.expressions import CalicoSelector
from netpol.model.policy import PolicyPort
from netpol.model.selectors import LabelSelector
from netpol.model.tiers import ALLOW, EVERY_ENDPOINT, EndpointMatch, TieredPolicy, TierRule
from netpol.render.tier_manifests import calico_text, tiered_manifest


def test_a_selector_whose_text_says_something_else_is_written_canonically() -> None:
    built = CalicoSelector(parse_expression("a == 'x' && (b == 'y' || has(c))"))  # text all()
    assert calico_text(built) == "a == 'x' && (b == 'y' || has(c))"
    written = CalicoSelector(parse_expression("a=='x'"), "a=='x'")
    assert calico_text(written) == "a=='x'"


def test_a_fail_closed_admin_peer_is_written_as_every_namespace() -> None:
    policy = TieredPolicy(
        kind="AdminNetworkPolicy",
        api_version="policy.networking.k8s.io/v1alpha1",
        name="x",
        namespace=None,
        tier="kube-admin",
        order=1.0,
        subject=EndpointMatch(namespaces=LabelSelector()),
        types=("Egress",),
        egress=(TierRule(0, ALLOW, peers=(EVERY_ENDPOINT,), ports=(PolicyPort("TCP", None),)),),
    )
    spec = tiered_manifest(policy)["spec"]
    assert spec["egress"] == [
        {
            "action": "Allow",
            "to": [{"namespaces": {}}],
            "ports": [{"portRange": {"protocol": "TCP", "start": 1, "end": 65535}}],
        }
    ]
