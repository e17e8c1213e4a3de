"""The lab's object store: keys as the API server has them, and KIND/NAME as kubectl reads it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from netpol.lab.documents import merged, objects_of_data, resolve_kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("networkpolicy", "NetworkPolicy"),
        ("netpol", "NetworkPolicy"),
        ("NetworkPolicy", "NetworkPolicy"),
        ("networkpolicies.networking.k8s.io", "NetworkPolicy"),
        ("anp", "AdminNetworkPolicy"),
        ("adminnetworkpolicy", "AdminNetworkPolicy"),
        ("adminnetworkpolicies", "AdminNetworkPolicy"),
        ("AdminNetworkPolicy", "AdminNetworkPolicy"),
        ("banp", "BaselineAdminNetworkPolicy"),
        ("baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy"),
        ("clusternetworkpolicy", "ClusterNetworkPolicy"),
        ("gnp", "GlobalNetworkPolicy"),
        ("globalnetworkpolicy", "GlobalNetworkPolicy"),
        ("GlobalNetworkPolicies", "GlobalNetworkPolicy"),
        ("globalnetworkpolicies.projectcalico.org", "GlobalNetworkPolicy"),
        ("tier", "Tier"),
        ("caliconetworkpolicy", "NetworkPolicy.projectcalico.org"),
        ("networkpolicies.projectcalico.org", "NetworkPolicy.projectcalico.org"),
        ("NetworkPolicy.crd.projectcalico.org", "NetworkPolicy.projectcalico.org"),
        ("deployments.apps", "Deployment"),
        ("sa", "ServiceAccount"),
        ("ciliumnetworkpolicies", "CiliumNetworkPolicy"),
        ("ciliumnp", "CiliumNetworkPolicy"),
        ("ciliumnetworkpolicies.cilium.io", "CiliumNetworkPolicy"),
        ("ccnp", "CiliumClusterwideNetworkPolicy"),
        ("CiliumClusterwideNetworkPolicy", "CiliumClusterwideNetworkPolicy"),
        ("ccg", "CiliumCIDRGroup"),
    ],
)
def test_kinds_resolve_like_kubectl_names(text: str, kind: str) -> None:
    assert resolve_kind(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "cnp",
        "policy",
        "networkpolicies.example.com",
        "adminnetworkpolicies.apps",
        "ccnp.projectcalico.org",
        "",
    ],
)
def test_names_no_kind_has_resolve_to_nothing(text: str) -> None:
    assert resolve_kind(text) is None


def policy(api_version: str, name: str = "same") -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {},
    }


def test_a_calico_and_a_kubernetes_network_policy_of_one_name_are_two_objects() -> None:
    kubernetes = objects_of_data([policy("networking.k8s.io/v1")], "default")
    calico = objects_of_data([policy("projectcalico.org/v3")], "default")
    store = merged(kubernetes, calico)
    assert [o.label for o in store] == [
        "NetworkPolicy/ns/same",
        "NetworkPolicy.projectcalico.org/ns/same",
    ]
    # and each is still replaced by its own kind
    again = objects_of_data([policy("crd.projectcalico.org/v1")], "default")
    assert [o.data["apiVersion"] for o in merged(store, again)] == [
        "networking.k8s.io/v1",
        "crd.projectcalico.org/v1",
    ]


def test_the_store_keeps_only_modelled_kinds_and_no_env_value() -> None:
    container = {"name": "c", "image": "x", "env": [{"name": "PASSWORD", "value": "hunter2"}]}
    template = {"metadata": {"labels": {"app": "a"}}, "spec": {"containers": [container]}}
    kept = objects_of_data(
        [
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s"},
                "data": {"k": "djE="},
            },
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "c"},
                "data": {"k": "v"},
            },
            {
                "apiVersion": "v1",
                "kind": "List",
                "items": [{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t"}}],
            },
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "d"},
                "spec": {"template": template},
            },
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "j"},
                "spec": {"jobTemplate": {"spec": {"template": template}}},
            },
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "p"},
                "spec": {"containers": [container], "initContainers": [container]},
            },
            {
                "apiVersion": "cilium.io/v2",
                "kind": "CiliumNetworkPolicy",
                "metadata": {"name": "n"},
            },
        ],
        "default",
    )
    assert [o.label for o in kept] == [
        "Deployment/default/d",
        "CronJob/default/j",
        "Pod/default/p",
        "CiliumNetworkPolicy/default/n",  # evaluated under the cilium profile: kept
    ]
    assert "hunter2" not in json.dumps([o.data for o in kept])
    assert "PASSWORD" in json.dumps([o.data for o in kept])
    assert container["env"][0]["value"] == "hunter2"  # the input itself is left alone
