"""What the cluster answers about its namespaces."""

from netpol.model.cluster import Cluster
from netpol.model.objects import Namespace


def test_a_declared_namespace_has_its_own_labels() -> None:
    labels = {"kubernetes.io/metadata.name": "a", "team": "blue"}
    assert Cluster(namespaces=(Namespace("a", labels),)).namespace_labels("a") == labels


def test_an_undeclared_namespace_has_only_its_name_label() -> None:
    cluster = Cluster(namespaces=(Namespace("a", {"team": "blue"}),))
    assert cluster.namespace_labels("b") == {"kubernetes.io/metadata.name": "b"}
