"""ClassSets answers a selector from its label index exactly as matching each class would."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from netpol.engine.class_sets import ClassSets
from netpol.engine.classes import Partition
from netpol.engine.compile import compile_cluster
from netpol.engine.selectors import matches
from netpol.model.options import Options
from netpol.model.selectors import LabelSelector, Requirement

from .builders import cluster, namespace, pod, policy
from .test_properties import POD_KEYS, POD_VALUES, pod_selectors

# Derandomized: CI sees the same examples every run.
EXACT = settings(max_examples=200, deadline=None, derandomize=True)

label_maps = st.dictionaries(st.sampled_from(POD_KEYS), st.sampled_from(POD_VALUES), max_size=3)


@EXACT
@given(
    st.lists(label_maps, min_size=1, max_size=8), st.lists(pod_selectors, min_size=1, max_size=4)
)
def test_selected_classes_are_the_classes_whose_labels_match(
    labels: list[dict[str, str]], selectors: list[LabelSelector]
) -> None:
    pods = [
        pod(f"ns{i % 2}/p{i}", f"10.1.0.{i + 1}", found, "n1") for i, found in enumerate(labels)
    ]
    # the selectors are the policies' pod selectors, so the classes tell their keys apart
    policies = [policy("ns0", f"p{i}", s, ingress=[]) for i, s in enumerate(selectors)]
    cc = compile_cluster(
        cluster([namespace("ns0"), namespace("ns1")], pods, policies, []), Options()
    )
    partition = Partition(cc)
    sets = ClassSets(cc, partition)
    for selector in selectors:
        expected = 0
        for c in partition.classes:
            assert c.representative.pod is not None
            if matches(selector, c.representative.pod.labels):
                expected |= 1 << c.index
        assert sets.selected(selector) == expected, selector.text()


def test_an_absent_key_satisfies_not_in_and_does_not_exist_only() -> None:
    pods = [pod("ns0/a", "10.1.0.1", {"app": "a"}, "n1"), pod("ns0/b", "10.1.0.2", {}, "n1")]
    policies = [policy("ns0", "p", LabelSelector.of({"app": "a"}), ingress=[])]
    cc = compile_cluster(cluster([namespace("ns0")], pods, policies, []), Options())
    partition = Partition(cc)
    sets = ClassSets(cc, partition)
    a, b = (1 << partition.class_of_pod["ns0/a"]), (1 << partition.class_of_pod["ns0/b"])
    cases = {
        ("In", ("a",)): a,
        ("NotIn", ("a",)): b,
        ("NotIn", ("z",)): a | b,
        ("Exists", ()): a,
        ("DoesNotExist", ()): b,
    }
    for (operator, values), expected in cases.items():
        selector = LabelSelector(match_expressions=(Requirement("app", operator, values),))
        assert sets.selected(selector) == expected, operator


@EXACT
@given(st.sets(st.integers(0, 3000), max_size=200))
def test_bit_indexes_are_the_set_bits_ascending(chosen: set[int]) -> None:
    bits = sum(1 << i for i in chosen)
    assert ClassSets.bit_indexes(bits).tolist() == sorted(chosen)
