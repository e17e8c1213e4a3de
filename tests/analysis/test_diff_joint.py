"""A pod diff too long for a table counts its changed pod pairs from the joint classes
(analysis.diff_joint.joint_pair_count) exactly as long as the listing it then does not make,
and reports the same workload view as when it makes the listing to count it."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.analysis.test_diff_candidates import changes, cluster_pairs

from netpol.analysis import diff as diff_module
from netpol.analysis.diff import DiffReport, diff
from netpol.analysis.diff_candidates import JointChanges
from netpol.analysis.diff_incremental import Incremental
from netpol.analysis.diff_joint import joint_pair_count
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import class_matrix
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_LISTED = settings(max_examples=150, deadline=None, derandomize=True)

COUNTED = {"examples": 0}  # how many drawn examples the classes could count


def whole(old: object, new: object, **kwargs: object) -> DiffReport:
    """The diff on two whole matrices (no region diff), the count read from the listing."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_module, "incremental_diff", lambda *args, **kw: Incremental(None))
        patch.setattr(diff_module, "joint_pair_count", lambda *args: None)
        return diff(old, new, **kwargs)  # type: ignore[arg-type]


@SAME_AS_LISTED
@given(cluster_pairs(), st.sampled_from(sorted(PROFILES)), st.integers(0, 40))
def _count_is_the_listing_length(pair: tuple[Cluster, Cluster], profile: str, limit: int) -> None:
    options = Options(profile=PROFILES[profile])
    old, new = (compile_cluster(c, options) for c in pair)
    matrices = (class_matrix(old), class_matrix(new))
    counted = joint_pair_count(*matrices, JointChanges(*matrices))
    listed = whole(old, new)
    if counted is not None:
        COUNTED["examples"] += 1
        assert counted == len(listed.listing)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(diff_module, "incremental_diff", lambda *args, **kw: Incremental(None))
        shown = diff(old, new, coarser_past=limit)
    expected = whole(old, new, coarser_past=limit)
    assert shown.granularity == expected.granularity
    assert shown.pod_pairs_differing == expected.pod_pairs_differing
    assert changes(shown) == changes(expected)


def test_the_classes_count_what_the_pod_listing_holds() -> None:
    COUNTED["examples"] = 0
    _count_is_the_listing_length()
    # most drawn pairs are counted from the classes (the rest hold node traffic), so the
    # property is not only the listing's
    assert COUNTED["examples"] >= 50
