"""diff narrowed to the pairs of joint classes that changed reports exactly what comparing every
allowed pair of both sides reports (analysis.diff_candidates, and analysis.diff_joint for pods)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.engine.test_properties import clusters, policies

from netpol.analysis import diff as diff_module
from netpol.analysis.diff import DiffReport, diff
from netpol.analysis.diff_candidates import (
    Band,
    JointChanges,
    canonical_ids,
    changed_joint_bands,
)
from netpol.engine.compile import compile_cluster
from netpol.engine.matrix import ClassMatrix, class_matrix
from netpol.model.cluster import Cluster
from netpol.model.options import PROFILES, Options

# derandomized: the same clusters every run, so the test cannot fail one run in fifty
SAME_AS_FULL = settings(max_examples=120, deadline=None, derandomize=True)


@st.composite
def cluster_pairs(draw: st.DrawFn) -> tuple[Cluster, Cluster]:
    """One cluster under two policy sets: the old one, and some policies kept, dropped or
    redrawn (pods, namespaces and nodes are the same on both sides)."""
    old = draw(clusters())
    names = sorted({n.name for n in old.namespaces})
    kept = [p for p in old.policies if draw(st.booleans())]
    drawn = [draw(policies(names, 10 + i)) for i in range(draw(st.integers(0, 2)))]
    return old, old.with_policies(tuple(kept + drawn))


def changes(report: DiffReport) -> list[tuple[object, ...]]:
    return [
        (c.src.id, c.dst.id, c.before, c.after, c.mixed_before, c.mixed_after)
        for c in report.changes
    ]


def full_diff(monkeypatch: pytest.MonkeyPatch, *args: object, **kwargs: object) -> DiffReport:
    with monkeypatch.context() as patch:
        patch.setattr(diff_module, "candidate_codes", lambda old, new, endpoints, changes: None)
        patch.setattr(diff_module, "joint_listing", lambda old, new, endpoints, changes: None)
        return diff(*args, **kwargs)  # type: ignore[arg-type]


@SAME_AS_FULL
@given(cluster_pairs(), st.sampled_from(sorted(PROFILES)), st.sampled_from(["pod", "namespace"]))
def test_narrowed_diff_equals_the_full_comparison(
    pair: tuple[Cluster, Cluster], profile: str, granularity: str
) -> None:
    options = Options(profile=PROFILES[profile])
    old, new = (compile_cluster(c, options) for c in pair)
    monkeypatch = pytest.MonkeyPatch()
    try:
        expected = full_diff(monkeypatch, old, new, granularity)
    finally:
        monkeypatch.undo()
    assert changes(diff(old, new, granularity)) == changes(expected)


def joint_keys(old: ClassMatrix, new: ClassMatrix) -> list[tuple[int, int]]:
    """(old class, new class) of every pod of both sides."""
    class_old, class_new = old.partition.class_of_pod, new.partition.class_of_pod
    return sorted({(class_old[p], class_new[p]) for p in class_old.keys() & class_new.keys()})


def band_rows(bands: list[Band], joint: list[tuple[int, int]]) -> set[tuple[object, ...]]:
    """The rows of ``bands`` by joint class key, not by number."""
    return {
        (joint[x], joint[y], b, a)
        for xs, ys, before, after in bands
        for x, y, b, a in zip(
            xs.tolist(), ys.tolist(), before.tolist(), after.tolist(), strict=True
        )
    }


@SAME_AS_FULL
@given(cluster_pairs(), st.integers(0, 2**32 - 1), st.booleans())
def test_joint_changes_asked_again_are_those_compared_afresh(
    pair: tuple[Cluster, Cluster], seed: int, outside: bool
) -> None:
    """A second ask of some of the joint classes (in any order) is renumbered from the
    first; one naming a class the first did not compare is compared anew."""
    old, new = (class_matrix(compile_cluster(c, Options())) for c in pair)
    everything = joint_keys(old, new)
    generator = np.random.default_rng(seed)
    first = [everything[i] for i in generator.permutation(len(everything))]
    second = [k for k in first if generator.random() < 0.6]
    generator.shuffle(second)
    if outside:
        first = first[1:]  # the second ask may name a class the first did not
    changes = JointChanges(old, new)
    changes.bands(first)
    canon_old, canon_new, _ = canonical_ids(old, new)
    afresh = changed_joint_bands(old, new, second, canon_old, canon_new)
    assert band_rows(changes.bands(second), second) == band_rows(list(afresh), second)


@SAME_AS_FULL
@given(cluster_pairs(), st.integers(0, 2**32 - 1))
def test_joint_bands_read_in_order_are_those_gathered(
    pair: tuple[Cluster, Cluster], seed: int
) -> None:
    """Joint classes that are a side's classes in order read its matrix rows as they are;
    any order gathers them: the changed pairs found are the same, and are the pairs whose
    connection sets differ."""
    old, new = (class_matrix(compile_cluster(c, Options())) for c in pair)
    in_order = joint_keys(old, new)  # sorted: each side's classes in order when alike
    shuffled = [in_order[i] for i in np.random.default_rng(seed).permutation(len(in_order))]
    canon_old, canon_new, sets = canonical_ids(old, new)
    expected = {
        (a, b, c, d)
        for a in in_order
        for b in in_order
        if (c := int(canon_old[old.ids[a[0], b[0]]])) != (d := int(canon_new[new.ids[a[1], b[1]]]))
    }
    for joint in (in_order, shuffled):
        found = changed_joint_bands(old, new, joint, canon_old, canon_new)
        assert band_rows(list(found), joint) == expected
    assert all(sets[c] != sets[d] for _, _, c, d in expected)
