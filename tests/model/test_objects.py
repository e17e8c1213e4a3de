"""The model's objects: a pod built by the loader's fast path is a Pod like any other."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError, astuple, fields

import pytest

from netpol.model.objects import Container, ContainerPort, Pod, WorkloadRef, new_pod
from netpol.model.source import Source

POD = Pod(
    "shop",
    "web-0",
    {"app": "web"},
    ("10.244.0.7",),
    "kind-worker",
    True,
    (Container("c", "nginx", ports=(ContainerPort(80, name="http"),)),),
    WorkloadRef("StatefulSet", "shop", "web"),
    "Pending",
    "web-zero",  # every field a value of its own, so a setter of the wrong field shows
    "web",
    Source("shop.yaml", 12),
    "robot",
)


def test_new_pod_takes_the_fields_of_pod_in_their_order() -> None:
    assert list(inspect.signature(new_pod).parameters) == [f.name for f in fields(Pod)]


def test_new_pod_is_equal_to_the_pod_of_the_same_fields() -> None:
    values = [getattr(POD, f.name) for f in fields(Pod)]
    pod = new_pod(*values)
    assert type(pod) is Pod
    assert pod == POD
    assert hash(pod) == hash(POD)
    assert repr(pod) == repr(POD)
    assert astuple(pod) == astuple(POD)
    assert pod.id == "shop/web-0"
    assert pod.named_port("http", "TCP") == (80,)


def test_a_new_pod_is_frozen_like_any_pod() -> None:
    pod = new_pod(*[getattr(POD, f.name) for f in fields(Pod)])
    with pytest.raises(FrozenInstanceError, match="cannot assign to field 'name'"):
        pod.name = "other"  # type: ignore[misc]
